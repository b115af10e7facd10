"""The test harness itself: Apache launcher, stub AuthOS issuer, token minting.

These run without mod_auth_authos (load_module=False), so they can pass
before the module builds and show that a later failure is the module's.
"""

import hashlib
import hmac
import json
import os
import pwd
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

import jwt
import pytest
import requests

import apache
from authos_stub import (JWKS_PATH, LOGOUT_PATH, METADATA_PATH, OIDC_PATH, REMOVE, USER_PATH,
                         AuthOSStub, b64url, b64url_decode, decode_unverified, sign_raw)
from conftest import ApacheFactory

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
AUD = "service:acme/billing"


def public_key_for(stub, token):
    """The JWKS key named by the token's kid, as python3-jwt sees it."""
    kid = decode_unverified(token)[0]["kid"]
    doc = requests.get(stub.jwks_url, timeout=5).json()
    return jwt.PyJWKSet.from_dict(doc)[kid].key


def jwt_decode(stub, token):
    return jwt.decode(token, public_key_for(stub, token), algorithms=["RS256"],
                      audience=AUD, issuer=stub.issuer)


def children_of(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry))
    return kids


# --------------------------------------------------------------- Apache
@pytest.mark.parametrize("mpm", apache.MPMS)
def test_apache_serves_static_cgi_ssi_and_htaccess(apache_factory, mpm):
    server = apache_factory(load_module=False, mpm=mpm,
                            files={"htdocs/private/.htaccess": "Require all denied\n"})
    assert "[mpm_%s:notice]" % mpm in server.error_log()
    assert server.get("/hello.txt").text == "hello world\n"
    assert "authos test index" in server.get("/").text
    r, env = server.cgi_env(headers={"X-Test": "1"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert env["GATEWAY_INTERFACE"] == "CGI/1.1" and env["HTTP_X_TEST"] == "1"
    assert "REMOTE_USER" not in env
    r, env = server.cgi_env("/app/env.cgi")
    assert r.status_code == 200 and env["SCRIPT_NAME"] == "/app/env.cgi"
    assert server.get("/ssi/").text == "user=(none)\nsub=(none)\n"
    assert server.get("/private/secret.txt").status_code == 403   # AH01630, allowed by default
    assert "a.txt" in server.get("/listing/").text
    assert '"GET /hello.txt HTTP/1.1" 200' in server.access_log()


def test_session_mpm_comes_from_environment(apache_factory, apache_mpm):
    assert apache_mpm == os.environ.get("AUTHOS_TEST_MPM", "event")
    server = apache_factory(load_module=False)
    assert server.mpm == apache_mpm
    assert "[mpm_%s:notice]" % apache_mpm in server.error_log()


def test_prefork_runs_at_least_four_children(apache_factory):
    server = apache_factory(load_module=False, mpm="prefork")
    deadline = time.time() + 10
    while len(children_of(server.pid)) < 4 and time.time() < deadline:
        time.sleep(0.1)
    assert len(children_of(server.pid)) >= 4


def test_children_run_as_www_data_when_root(apache_factory):
    server = apache_factory(load_module=False)
    expected = pwd.getpwnam("www-data").pw_uid if os.geteuid() == 0 else os.geteuid()
    # A child forked a moment ago is still root until it drops privileges:
    # give every child a few seconds to get there.
    deadline = time.time() + 5
    while True:
        uids = set()
        for pid in children_of(server.pid):
            try:
                uids.add(os.stat("/proc/%d" % pid).st_uid)
            except FileNotFoundError:   # a child that just exited
                pass
        if uids == {expected} or time.time() > deadline:
            break
        time.sleep(0.05)
    assert uids == {expected}
    assert server.cgi_env()[0].status_code == 200


def test_graceful_and_restart_apply_new_config(apache_factory):
    server = apache_factory(load_module=False)
    pid = server.pid
    server.graceful('Redirect 302 /moved /hello.txt\nAlias /alias.txt "@ROOT@/htdocs/hello.txt"')
    assert server.get("/alias.txt").text == "hello world\n"
    assert server.get("/moved").headers["Location"].endswith("/hello.txt")
    server.restart('Redirect 302 /gone /index.html')
    assert server.get("/gone").status_code == 302
    assert server.get("/moved").status_code == 404
    assert server.pid == pid


def test_stop_removes_pid_file_and_frees_port(apache_factory):
    server = apache_factory(load_module=False)
    pid = server.pid
    server.stop()
    assert not server.pid_file.exists()
    assert not os.path.exists("/proc/%d" % pid)
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url("/"), timeout=2)
    server.start()
    assert server.get("/hello.txt").status_code == 200


def test_config_test_names_the_snippet_line(apache_factory):
    server = apache_factory(load_module=False, start=False)
    rc, out = server.config_test("# comment\n\nNoSuchDirective on\n")
    assert rc != 0
    assert "line 3 of %s" % (server.root / "conf" / "test-1.conf") in out
    assert server.config_test("Redirect /x /y") == (0, "Syntax OK\n")


def test_module_path_defaults_to_repo_libs(monkeypatch):
    monkeypatch.delenv("AUTHOS_MODULE", raising=False)
    expected = os.path.join(os.path.dirname(os.path.dirname(HERE)), ".libs", "mod_auth_authos.so")
    assert apache.resolve_module_path() == expected
    monkeypatch.setenv("AUTHOS_MODULE", "/tmp/x.so")
    assert apache.resolve_module_path() == "/tmp/x.so"


def test_config_loads_every_required_module(tmp_path):
    server = apache.ApacheServer(tmp_path / "httpd", mpm="event", module_path="/x/mod.so")
    conf = server.conf_path.read_text()
    for name in ("mpm_event", "authn_core", "authz_core", "authz_user", "authz_host", "mime",
                 "dir", "alias", "env", "headers", "setenvif", "cgid", "proxy", "proxy_http",
                 "rewrite", "include", "autoindex"):
        assert "LoadModule %s_module " % name in conf
    assert 'LoadModule auth_authos_module "/x/mod.so"' in conf
    assert "LogLevel warn auth_authos:info" in conf


@pytest.mark.allow_log(r"script not found")
def test_audit_reports_unexpected_lines_until_allowed(request, tmp_path, apache_mpm):
    factory = ApacheFactory(request, tmp_path, apache_mpm)
    try:
        server = factory(load_module=False)
        assert server.get("/cgi-bin/missing.py").status_code == 404   # an [error] line
        assert any("script not found" in line for line in server.audit_error_log())
        assert server.audit_error_log([r"script not found"]) == []
        assert factory.finish() == []   # the marker above allows it
        with server.error_log_path.open("a") as log:
            log.write("[x] [auth_authos:warn] [pid 1] AUTHOS0099: test\n"
                      "[x] [core:notice] [pid 1] AH00052: child pid 7 exit signal Segmentation fault (11)\n")
        problems = "".join(factory.finish())
        assert "AUTHOS0099" in problems and "Segmentation fault" in problems
        server.allow_log(r"AUTHOS0099:")
        factory.allow_log(r"AH00052")
        assert factory.finish() == []
    finally:
        factory.finish()


def test_proxy_modules_reach_the_stub_and_echo_backend(apache_factory, stub, echo_backend):
    server = apache_factory("ProxyPass /issuer/ %s/\nProxyPass /echo/ %s/\n"
                            % (stub.base_url, echo_backend.base_url), load_module=False)
    assert server.get("/issuer/.well-known/jwks.json").json() == stub.jwks()
    doc = server.get("/echo/x", headers={"X-AuthOS-Sub": "spoof"}).json()
    assert doc["path"] == "/x" and ["X-AuthOS-Sub", "spoof"] in doc["headers"]


# ----------------------------------------------------------------- stub
def test_stub_publishes_jwks_like_authos(stub):
    r = requests.get(stub.jwks_url, timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert "Cache-Control" not in r.headers
    (key,) = r.json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert key["kid"] == "k1" and key["e"] == "AQAB" and len(b64url_decode(key["n"])) == 256
    stub.set_jwks_cache_control(42)
    assert requests.get(stub.jwks_url, timeout=5).headers["Cache-Control"] == "max-age=42"


def test_stub_metadata_and_missing_openid_configuration(stub):
    doc = requests.get(stub.url(METADATA_PATH), timeout=5).json()
    assert doc == {"issuer": stub.base_url, "jwks_uri": stub.base_url + JWKS_PATH}
    assert requests.get(stub.url(OIDC_PATH), timeout=5).status_code == 404
    stub.set_metadata_issuer("https://other.example")
    assert requests.get(stub.url(METADATA_PATH), timeout=5).json()["issuer"] == "https://other.example"
    stub.set_openid_configuration(True)
    assert requests.get(stub.url(OIDC_PATH), timeout=5).status_code == 200


def test_short_modulus_stub(stub_factory):
    small = stub_factory(key_size=1024)
    (key,) = requests.get(small.jwks_url, timeout=5).json()["keys"]
    assert len(b64url_decode(key["n"])) == 128


def test_minted_token_has_authos_shape_and_verifies_with_pyjwt(stub):
    token = stub.mint()
    header, payload = decode_unverified(token)
    assert header == {"alg": "RS256", "kid": "k1", "typ": "authos-management+jwt"}
    assert "=" not in token and token.count(".") == 2
    claims = jwt_decode(stub, token)
    assert claims == payload
    assert claims["iss"] == stub.base_url and not claims["iss"].endswith("/")
    assert claims["sub"] == "user-123" and claims["email"] == "alice@example.com"
    assert claims["is_platform_owner"] is False and claims["token_use"] == "management_access"
    assert claims["org"] == "acme" and claims["service"] == "billing" and claims["aud"] == AUD
    assert claims["exp"] - claims["iat"] == 3600 and "permissions" not in claims
    assert stub.mint() != token   # fresh jti


def test_mint_overrides_and_removals(stub):
    token = stub.mint(sub="bob", org=REMOVE, remove=["service"], claims={"permissions": ["a"]},
                      header={"typ": "at+jwt"}, header_remove=["kid"], exp_in=-120)
    header, payload = decode_unverified(token)
    assert header == {"alg": "RS256", "typ": "at+jwt"}
    assert payload["sub"] == "bob" and payload["permissions"] == ["a"]
    assert "org" not in payload and "service" not in payload
    assert payload["exp"] < time.time()
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, stub.active_key.public_key, algorithms=["RS256"], audience=AUD)


def test_foreign_key_token_fails_verification(stub):
    token = stub.mint(foreign=True)
    assert decode_unverified(token)[0]["kid"] == "k1"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt_decode(stub, token)


def test_confusion_none_and_raw_tokens(stub):
    hs = stub.mint_hs256()
    assert decode_unverified(hs)[0]["alg"] == "HS256"
    head, body, sig = hs.split(".")
    mac = hmac.new(stub.active_key.public_pem(), (head + "." + body).encode(), hashlib.sha256).digest()
    assert b64url(mac) == sig
    none = stub.mint_alg_none()
    assert none.endswith(".") and decode_unverified(none)[0]["alg"] == "none"
    raw = sign_raw(b'{"alg":"RS256","kid":"k1","kid":"k9"}', b'{"sub":"a","sub":"b"}',
                   stub.active_key.private_key)
    assert b64url_decode(raw.split(".")[0]) == b'{"alg":"RS256","kid":"k1","kid":"k9"}'


def test_rotation_lists_active_first_and_keeps_previous(stub):
    old = stub.mint()
    stub.rotate()
    assert [k["kid"] for k in stub.jwks()["keys"]] == ["k2", "k1"]
    assert decode_unverified(stub.mint())[0]["kid"] == "k2"
    assert jwt_decode(stub, old)["sub"] == "user-123"
    stub.remove_key("k1")
    assert stub.listed_kids == ["k2"]
    assert decode_unverified(stub.mint(kid="k1"))[0]["kid"] == "k1"   # retired keys still sign
    for _ in range(11):
        stub.rotate(key_size=1024)
    assert len(stub.jwks()["keys"]) == 11


def test_write_jwks_file(stub, tmp_path):
    path = stub.write_jwks_file(str(tmp_path / "jwks.json"))
    assert json.load(open(path)) == stub.jwks()


def test_stop_start_keeps_the_port(stub):
    port = stub.port
    stub.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(stub.jwks_url, timeout=2)
    stub.start()
    assert stub.port == port
    assert requests.get(stub.jwks_url, timeout=5).status_code == 200


def test_fault_modes(stub):
    stub.set_mode(None, "slow", seconds=1)
    started = time.time()
    assert requests.get(stub.jwks_url, timeout=5).status_code == 200
    assert time.time() - started >= 1
    stub.set_mode(None, "garbage")
    r = requests.get(stub.jwks_url, timeout=5)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        json.loads(r.text)
    stub.set_mode(JWKS_PATH, "500")
    assert requests.get(stub.jwks_url, timeout=5).status_code == 500
    assert requests.get(stub.url(METADATA_PATH), timeout=5).text.startswith("<html>")
    stub.clear_modes()
    stub.set_mode("/.well-known/", "empty_keys")
    assert requests.get(stub.jwks_url, timeout=5).json() == {"keys": []}
    stub.set_mode(JWKS_PATH, "huge")
    r = requests.get(stub.jwks_url, timeout=30)
    assert len(r.content) > 4 * 1024 * 1024 and r.json()["keys"] == stub.jwks()["keys"]
    stub.set_mode(JWKS_PATH, "404")
    assert requests.get(stub.jwks_url, timeout=5).status_code == 404
    stub.set_mode(JWKS_PATH, "ok")
    stub.set_mode("/.well-known/", "ok")
    assert requests.get(stub.jwks_url, timeout=5).json() == stub.jwks()
    with pytest.raises(ValueError):
        stub.set_mode(None, "flaky")


def test_longest_prefix_mode_wins(stub):
    stub.set_mode(None, "500")
    stub.set_mode("/.well-known/", "garbage")
    stub.set_mode(JWKS_PATH, "ok")
    r = requests.get(stub.jwks_url, timeout=5)   # "ok" only clears that prefix's mode
    assert r.status_code == 200 and r.text.startswith("<html>")
    stub.set_mode(JWKS_PATH, "empty_keys")
    assert requests.get(stub.jwks_url, timeout=5).json() == {"keys": []}
    assert requests.get(stub.url(METADATA_PATH), timeout=5).text.startswith("<html>")
    assert requests.get(stub.url(USER_PATH), timeout=5).status_code == 500


def test_drip_sends_one_byte_at_a_time(stub):
    stub.drip_interval = 0.002
    stub.set_mode(JWKS_PATH, "drip")
    started = time.time()
    r = requests.get(stub.jwks_url, timeout=30)
    assert r.json() == stub.jwks() and time.time() - started >= len(r.content) * 0.002


def test_slow_answer_aborts_when_stub_stops(stub):
    stub.set_mode(None, "slow", seconds=30)
    threading.Timer(0.5, stub.stop).start()
    started = time.time()
    with pytest.raises(requests.ConnectionError):
        requests.get(stub.jwks_url, timeout=10)
    assert time.time() - started < 5


def test_api_user_permissions_logout_and_counts(stub):
    stub.set_permissions("user-123", ["billing:read", "billing:write"])
    token = stub.mint()
    auth = {"Authorization": "Bearer " + token}
    r = requests.get(stub.url(USER_PATH), headers=auth, timeout=5)
    assert r.status_code == 200
    assert r.json() == {"id": "user-123", "email": "alice@example.com", "org": "acme",
                        "service": "billing", "is_platform_owner": False,
                        "permissions": ["billing:read", "billing:write"]}
    other = stub.mint(sub="carol", org=REMOVE, service=REMOVE)
    doc = requests.get(stub.url(USER_PATH), headers={"Authorization": "Bearer " + other}, timeout=5).json()
    assert doc["permissions"] == [] and "org" not in doc
    for bad in ("Bearer " + stub.mint(foreign=True), "Bearer " + stub.mint(exp_in=-5), "Basic eA==", ""):
        assert requests.get(stub.url(USER_PATH), headers={"Authorization": bad}, timeout=5).status_code == 401
    assert requests.post(stub.url(LOGOUT_PATH), headers=auth, timeout=5).json() == {"success": True}
    r = requests.get(stub.url(USER_PATH), headers=auth, timeout=5)
    assert r.status_code == 401 and r.json() == {"error": "unauthorized"}
    fresh = {"Authorization": "Bearer " + stub.mint()}
    assert requests.get(stub.url(USER_PATH), headers=fresh, timeout=5).status_code == 401
    stub.clear_revocations()
    assert requests.get(stub.url(USER_PATH), headers=fresh, timeout=5).status_code == 200
    assert stub.count(USER_PATH) == 9 and stub.count(LOGOUT_PATH, method="POST") == 1
    stub.reset_counts()
    assert stub.count(USER_PATH) == 0


def test_authorize_redirects_with_token_in_fragment(stub):
    r = requests.get(stub.url("/authorize"), params={"org": "acme", "service": "billing",
                     "redirect_uri": "http://127.0.0.1/cb", "state": "s1"},
                     allow_redirects=False, timeout=5)
    assert r.status_code == 302
    location, fragment = r.headers["Location"].split("#")
    assert location == "http://127.0.0.1/cb"
    params = dict(p.split("=", 1) for p in fragment.split("&"))
    assert params["state"] == "s1" and jwt_decode(stub, params["access_token"])["sub"] == "user-123"
    stub.login_error = "access_denied"
    r = requests.get(stub.url("/authorize"), params={"redirect_uri": "http://127.0.0.1/cb", "state": "s2"},
                     allow_redirects=False, timeout=5)
    assert r.headers["Location"] == "http://127.0.0.1/cb?error=access_denied&state=s2"


def fragment_params(location):
    """(URL before '#', decoded fragment parameters) of a login redirect."""
    base, _, fragment = location.partition("#")
    return base, {k: v[0] for k, v in urllib.parse.parse_qs(fragment).items()}


def login_post(stub, username, **fields):
    form = {"redirect_uri": "http://127.0.0.1/cb", "state": "s1", "org": "", "service": ""}
    form.update(fields, username=username)
    return requests.post(stub.url("/authorize"), data=form, allow_redirects=False, timeout=5)


def test_authorize_login_page_escapes_hidden_fields(stub):
    stub.login_page = True
    stub.login_sub = 'eve"<x>'
    state = 'a"<b>&c\'d'
    r = requests.get(stub.url("/authorize"), params={"redirect_uri": "http://127.0.0.1/cb?x=1&y=2",
                     "state": state, "org": "acme", "service": "billing"},
                     allow_redirects=False, timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
    page = r.text
    assert "<title>AuthOS demo sign-in</title>" in page
    assert '<form method="post" action="/authorize">' in page
    assert '<input type="text" id="username" name="username" value="eve&quot;&lt;x&gt;"' in page
    assert '<input type="hidden" name="state" value="a&quot;&lt;b&gt;&amp;c&#x27;d">' in page
    assert '<input type="hidden" name="redirect_uri" value="http://127.0.0.1/cb?x=1&amp;y=2">' in page
    assert '<input type="hidden" name="org" value="acme">' in page
    assert '<input type="hidden" name="service" value="billing">' in page
    assert '<button type="submit" id="sign-in">Sign in</button>' in page
    assert state not in page and "<x>" not in page
    assert "<script" not in page and "src=" not in page and "href=" not in page   # self-contained
    assert requests.get(stub.url("/authorize"), timeout=5).status_code == 400
    stub.login_page = False   # the scripted default: an immediate redirect
    r = requests.get(stub.url("/authorize"), params={"redirect_uri": "http://127.0.0.1/cb"},
                     allow_redirects=False, timeout=5)
    assert r.status_code == 302 and "#access_token=" in r.headers["Location"]


def test_authorize_login_post_signs_in_the_posted_user(stub):
    stub.login_page = True
    r = login_post(stub, "bob", state='s"<&>', org="globex", service="payroll")
    assert r.status_code == 302
    base, params = fragment_params(r.headers["Location"])
    assert base == "http://127.0.0.1/cb" and params["state"] == 's"<&>'
    assert params["refresh_token"].startswith("rt_")
    header, payload = decode_unverified(params["access_token"])
    assert header["typ"] == "authos-management+jwt"
    claims = stub.verify(params["access_token"])
    assert claims == payload and claims["sub"] == "bob" and claims["email"] == "bob@acme.example"
    assert claims["org"] == "globex" and claims["service"] == "payroll"
    assert claims["token_use"] == "management_access"
    (entry,) = [e for e in stub.requests if e["method"] == "POST" and e["path"] == "/authorize"]
    assert urllib.parse.parse_qs(entry["body"].decode())["username"] == ["bob"]
    _, params = fragment_params(login_post(stub, "").headers["Location"])   # empty: login_sub
    claims = stub.verify(params["access_token"])
    assert claims["sub"] == "user-123" and claims["email"] == "user-123@acme.example"
    assert claims["org"] == "acme" and claims["service"] == "billing"     # defaults
    assert login_post(stub, "bob", redirect_uri="").status_code == 400


def test_authorize_login_mfa_gives_a_preauth_token(stub):
    stub.login_mfa = True
    for r in (login_post(stub, "mallory"),
              requests.get(stub.url("/authorize"), params={"redirect_uri": "http://127.0.0.1/cb"},
                           allow_redirects=False, timeout=5)):
        assert r.status_code == 302
        token = fragment_params(r.headers["Location"])[1]["access_token"]
        header, payload = decode_unverified(token)
        assert header == {"alg": "RS256", "kid": "k1", "typ": "authos-mfa-preauth+jwt"}
        assert payload["token_use"] == "mfa_preauth" and payload["aud"] == AUD
        assert stub.verify(token) == payload
    assert payload["sub"] == "user-123"
    assert decode_unverified(fragment_params(login_post(stub, "mallory").headers["Location"])[1]
                             ["access_token"])[1]["sub"] == "mallory"


def test_authorize_login_claims_are_merged(stub):
    stub.login_claims = {"exp": int(time.time()) - 60, "aud": "service:acme/other",
                         "permissions": ["x"], "org": REMOVE}
    token = fragment_params(login_post(stub, "bob", org="globex").headers["Location"])[1]["access_token"]
    payload = decode_unverified(token)[1]
    assert payload["sub"] == "bob" and payload["aud"] == "service:acme/other"
    assert payload["permissions"] == ["x"] and "org" not in payload
    assert payload["exp"] < time.time() and stub.verify(token) is None   # expired
    stub.login_claims = {"sub": "forced"}
    token = fragment_params(login_post(stub, "bob").headers["Location"])[1]["access_token"]
    assert stub.verify(token)["sub"] == "forced"


def test_authorize_login_error_on_post(stub):
    stub.login_page = True
    stub.login_error = "access_denied"
    r = login_post(stub, "bob", state="s3", redirect_uri="http://127.0.0.1/cb?next=1")
    assert r.status_code == 302
    assert r.headers["Location"] == "http://127.0.0.1/cb?next=1&error=access_denied&state=s3"


# ------------------------------------------------------------ standalone
def test_standalone_serve_and_mint(tmp_path):
    state = tmp_path / "state.json"
    script = os.path.join(HERE, "authos_stub.py")
    proc = subprocess.Popen([PYTHON, script, "--port", "0", "--print-port", "--state-file",
                             str(state), "--permissions", "user-123=billing:read", "--login-page"],
                            stdout=subprocess.PIPE, text=True)
    try:
        base = proc.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:")
        jwks = requests.get(base + JWKS_PATH, timeout=5).json()
        key = jwt.PyJWKSet.from_dict(jwks)["k1"].key

        def mint(*args):
            return subprocess.run([PYTHON, script, "mint", "--key-file", str(state), *args],
                                  capture_output=True, text=True, check=True).stdout.strip()

        good = mint("--aud", AUD, "--sub", "dave", "--claim", 'permissions=["x"]', "--claim", "org=globex")
        claims = jwt.decode(good, key, algorithms=["RS256"], audience=AUD, issuer=base)
        assert claims["sub"] == "dave" and claims["permissions"] == ["x"] and claims["org"] == "globex"
        with pytest.raises(jwt.ExpiredSignatureError):
            jwt.decode(mint("--aud", AUD, "--exp-in", "-60"), key, algorithms=["RS256"], audience=AUD)
        plain = mint("--aud", AUD)
        doc = requests.get(base + USER_PATH, headers={"Authorization": "Bearer " + plain}, timeout=5).json()
        assert doc["permissions"] == ["billing:read"]
        jwks_out = subprocess.run([PYTHON, script, "jwks", "--key-file", str(state)],
                                  capture_output=True, text=True, check=True).stdout
        assert json.loads(jwks_out) == jwks
        assert decode_unverified(mint("--aud", AUD, "--typ", "authos-mfa-preauth+jwt"))[0]["typ"] \
            == "authos-mfa-preauth+jwt"
        r = requests.get(base + "/authorize", params={"redirect_uri": "http://127.0.0.1/cb"}, timeout=5)
        assert r.status_code == 200 and 'id="sign-in"' in r.text
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(10) == 0


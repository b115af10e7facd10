"""What the application sees (SPEC section 7): REMOTE_USER, AUTH_TYPE, the
AUTHOS_* variables (CGI), X-AuthOS-* request headers (proxied backends),
AuthOSPassClaims modes, removal of client-sent X-AuthOS-* headers, control
characters in claim values, and subrequests (SSI, DirectoryIndex, autoindex).
"""

import json
import time

import pytest

from authos_stub import REMOVE, decode_unverified
from apache import CGI_ENV_SCRIPT

AUD = "service:acme/billing"
MODES = ("env", "headers", "both", "none")
EXPORTED = ("AUTHOS_SUB", "AUTHOS_EMAIL", "AUTHOS_ORG_SLUG", "AUTHOS_SERVICE_SLUG",
            "AUTHOS_PERMISSIONS", "AUTHOS_IS_PLATFORM_OWNER", "AUTHOS_AUD", "AUTHOS_ISS",
            "AUTHOS_EXP", "AUTHOS_CLAIMS")
HEADER_NAMES = ("X-AuthOS-Sub", "X-AuthOS-Email", "X-AuthOS-Org-Slug", "X-AuthOS-Service-Slug",
                "X-AuthOS-Permissions", "X-AuthOS-Is-Platform-Owner")
SPOOF = {"X-AuthOS-Sub": "spoofed-sub", "x-authos-email": "spoofed@evil.example",
         "X_AuthOS_Org_Slug": "spoofed-org", "X-AUTHOS-Anything": "spoofed-anything",
         "x-AuthOS-Permissions": "spoofed-perm", "X-AuthOS-Is-Platform-Owner": "true",
         # Controls: these do not start with X-AuthOS- and must pass through.
         "X-AuthOSX": "kept-1", "X-Other": "kept-2"}


def protect(path, body="", require="Require valid-user"):
    return ("<Location %s>\n    AuthType authos\n    AuthName t\n    AuthzSendForbiddenOnFailure On\n"
            "%s    %s\n</Location>\n" % (path, body, require))


def export_conf(stub, echo_backend):
    """CGI under /m-MODE/ and a proxied echo backend under /p-MODE/ for every
    AuthOSPassClaims mode; /env/ is the default (env); /open/ proxies unprotected."""
    out = ["AuthOSBaseURL %s\nAuthOSAllowHTTP On\nAuthOSAudience %s\n" % (stub.base_url, AUD),
           'ScriptAlias /env/ "@ROOT@/cgi-bin/"', protect("/env/"),
           "ProxyPass /open/ %s/\n" % echo_backend.base_url]
    for mode in MODES:
        out.append('ScriptAlias /m-%s/ "@ROOT@/cgi-bin/"' % mode)
        out.append(protect("/m-%s/" % mode, "    AuthOSPassClaims %s\n" % mode))
        out.append(protect("/p-%s/" % mode, "    AuthOSPassClaims %s\n    ProxyPass %s/\n"
                           % (mode, echo_backend.base_url)))
    return "\n".join(out)


def authos_env(env):
    return {k: v for k, v in env.items() if k.startswith("AUTHOS_")}


def authos_cgi_headers(env):
    return {k: v for k, v in env.items() if k.startswith("HTTP_X_AUTHOS_")}


def wait_access_log(server, predicate, timeout=5.0):
    """True once some access-log line satisfies predicate (httpd logs after the response)."""
    deadline = time.time() + timeout
    while True:
        if any(predicate(line) for line in server.access_log().splitlines()):
            return True
        if time.time() >= deadline:
            return False
        time.sleep(0.05)


def backend_headers(r):
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()["headers"]


def authos_backend_headers(r):
    """The X-AuthOS-ish headers the echo backend received: [(name, value)]."""
    return [(k, v) for k, v in backend_headers(r) if k.lower().replace("_", "-").startswith("x-authos-")]


@pytest.fixture
def server(apache_factory, stub, echo_backend):
    return apache_factory(export_conf(stub, echo_backend))


# ------------------------------------------------------------ CGI env
def test_cgi_sees_every_variable(server, stub):
    token = stub.mint(permissions=["billing:read", "billing:write"], is_platform_owner=True)
    claims = decode_unverified(token)[1]
    r, env = server.cgi_env("/env/env.py", token=token)
    assert r.status_code == 200
    assert env["REMOTE_USER"] == "user-123"
    assert env["AUTH_TYPE"] == "authos"
    assert env["AUTHOS_SUB"] == "user-123"
    assert env["AUTHOS_EMAIL"] == "alice@example.com"
    assert env["AUTHOS_ORG_SLUG"] == "acme"
    assert env["AUTHOS_SERVICE_SLUG"] == "billing"
    assert env["AUTHOS_PERMISSIONS"] == "billing:read billing:write"
    assert env["AUTHOS_IS_PLATFORM_OWNER"] == "true"
    assert env["AUTHOS_AUD"] == AUD
    assert env["AUTHOS_ISS"] == stub.base_url
    assert env["AUTHOS_EXP"] == str(claims["exp"])
    assert json.loads(env["AUTHOS_CLAIMS"]) == claims
    assert set(authos_env(env)) == set(EXPORTED)
    assert authos_cgi_headers(env) == {}   # env mode: no X-AuthOS-* headers
    # The access log's %{AUTHOS_SUB}e and %u.
    assert wait_access_log(server, lambda l: '"GET /env/env.py HTTP/1.1" 200' in l
                           and " - user-123 [" in l and l.endswith('"user-123"'))


def test_cgi_variable_shapes(server, stub):
    _, env = server.cgi_env("/env/env.py", token=stub.mint(permissions=[]))
    assert env["AUTHOS_PERMISSIONS"] == ""   # present but empty
    assert env["AUTHOS_IS_PLATFORM_OWNER"] == "false"
    assert "AUTHOS_PERMISSIONS" in authos_env(env)

    _, env = server.cgi_env("/env/env.py", token=stub.mint(permissions=["solo"]))
    assert env["AUTHOS_PERMISSIONS"] == "solo"

    _, env = server.cgi_env("/env/env.py", token=stub.mint(aud=[AUD, "platform", "org:acme"]))
    assert env["AUTHOS_AUD"] == AUD + " platform org:acme"

    token = stub.mint(org=REMOVE, org_slug="initech", service=REMOVE, service_slug="payroll")
    _, env = server.cgi_env("/env/env.py", token=token)
    assert env["AUTHOS_ORG_SLUG"] == "initech" and env["AUTHOS_SERVICE_SLUG"] == "payroll"

    _, env = server.cgi_env("/env/env.py", token=stub.mint(org="acme", org_slug="globex"))
    assert env["AUTHOS_ORG_SLUG"] == "acme"   # AuthOS's own name wins


def test_absent_claims_leave_variables_unset(server, stub):
    token = stub.mint(email=REMOVE, org=REMOVE, service=REMOVE, is_platform_owner=REMOVE)
    claims = decode_unverified(token)[1]
    r, env = server.cgi_env("/env/env.py", token=token)
    assert r.status_code == 200
    for name in ("AUTHOS_EMAIL", "AUTHOS_ORG_SLUG", "AUTHOS_SERVICE_SLUG", "AUTHOS_PERMISSIONS",
                 "AUTHOS_IS_PLATFORM_OWNER"):
        assert name not in env, name
    assert env["AUTHOS_SUB"] == "user-123" and env["REMOTE_USER"] == "user-123"
    assert json.loads(env["AUTHOS_CLAIMS"]) == claims and "email" not in claims


def test_claims_json_is_the_signed_payload(server, stub):
    raw = {"sub": "user-9", "iss": stub.base_url, "aud": AUD, "exp": 4102444800, "iat": 1700000000,
           "nested": {"a": [1, 2.5, None, True]}, "unicode": "h\u00e9llo \u2603", "quote": "a\"b\\c",
           "ctl": "tab\there"}
    token = stub.sign_raw(json.dumps({"alg": "RS256", "kid": stub.active_kid}).encode(),
                          json.dumps(raw, indent=2).encode())   # multi-line JSON as signed
    r, env = server.cgi_env("/env/env.py", token=token)
    assert r.status_code == 200, r.headers
    assert json.loads(env["AUTHOS_CLAIMS"]) == raw
    assert "\n" not in env["AUTHOS_CLAIMS"]


# -------------------------------------------------- AuthOSPassClaims
def test_pass_claims_modes_for_cgi(server, stub):
    token = stub.mint(permissions=["a", "b"])
    expected_headers = {"HTTP_X_AUTHOS_SUB": "user-123", "HTTP_X_AUTHOS_EMAIL": "alice@example.com",
                        "HTTP_X_AUTHOS_ORG_SLUG": "acme", "HTTP_X_AUTHOS_SERVICE_SLUG": "billing",
                        "HTTP_X_AUTHOS_PERMISSIONS": "a b", "HTTP_X_AUTHOS_IS_PLATFORM_OWNER": "false"}
    envs = {}
    for mode in MODES:
        r, env = server.cgi_env("/m-%s/env.py" % mode, token=token)
        assert r.status_code == 200, (mode, r.status_code)
        assert env["REMOTE_USER"] == "user-123" and env["AUTH_TYPE"] == "authos", mode
        envs[mode] = env
    assert set(authos_env(envs["env"])) == set(EXPORTED)
    assert authos_cgi_headers(envs["env"]) == {}
    assert authos_env(envs["headers"]) == {}
    assert authos_cgi_headers(envs["headers"]) == expected_headers
    assert set(authos_env(envs["both"])) == set(EXPORTED)
    assert authos_cgi_headers(envs["both"]) == expected_headers
    assert authos_env(envs["none"]) == {} and authos_cgi_headers(envs["none"]) == {}


def test_pass_claims_modes_for_proxied_backend(server, stub):
    token = stub.mint(permissions=["a", "b"], is_platform_owner=True)
    expected = {"X-AuthOS-Sub": "user-123", "X-AuthOS-Email": "alice@example.com",
                "X-AuthOS-Org-Slug": "acme", "X-AuthOS-Service-Slug": "billing",
                "X-AuthOS-Permissions": "a b", "X-AuthOS-Is-Platform-Owner": "true"}
    for mode in MODES:
        r = server.get("/p-%s/x?y=1" % mode, token=token)
        got = authos_backend_headers(r)
        assert r.json()["path"] == "/x?y=1"
        if mode in ("headers", "both"):
            assert sorted(got) == sorted(expected.items()), mode
            assert len(dict(got)) == len(got)   # each header once
        else:
            assert got == [], mode
    # Absent claims send no header; an empty permission list sends an empty one.
    r = server.get("/p-headers/", token=stub.mint(email=REMOVE, org=REMOVE, permissions=[]))
    got = dict(authos_backend_headers(r))
    assert "X-AuthOS-Email" not in got and "X-AuthOS-Org-Slug" not in got
    assert got["X-AuthOS-Permissions"] == "" and got["X-AuthOS-Sub"] == "user-123"
    # Without a token the backend is never reached.
    r = server.get("/p-headers/")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="t"'


# ------------------------------------------------- client spoofing
def test_client_x_authos_headers_stripped_for_cgi(server, stub):
    token = stub.mint()
    # Protected, env mode: no HTTP_X_AUTHOS_* at all, and the real values.
    r, env = server.cgi_env("/env/env.py", token=token, headers=SPOOF)
    assert authos_cgi_headers(env) == {}
    assert env["AUTHOS_SUB"] == "user-123" and env["AUTHOS_EMAIL"] == "alice@example.com"
    assert env["HTTP_X_OTHER"] == "kept-2" and env["HTTP_X_AUTHOSX"] == "kept-1"
    # Protected, headers mode: only the module's own values.
    r, env = server.cgi_env("/m-headers/env.py", token=token, headers=SPOOF)
    assert authos_cgi_headers(env) == {
        "HTTP_X_AUTHOS_SUB": "user-123", "HTTP_X_AUTHOS_EMAIL": "alice@example.com",
        "HTTP_X_AUTHOS_ORG_SLUG": "acme", "HTTP_X_AUTHOS_SERVICE_SLUG": "billing",
        "HTTP_X_AUTHOS_IS_PLATFORM_OWNER": "false"}
    # Unprotected CGI.
    r, env = server.cgi_env("/cgi-bin/env.py", headers=SPOOF)
    assert r.status_code == 200
    assert authos_cgi_headers(env) == {} and authos_env(env) == {} and "REMOTE_USER" not in env
    assert env["HTTP_X_OTHER"] == "kept-2"
    # Protected, none mode; and a failed authentication still strips them.
    r, env = server.cgi_env("/m-none/env.py", token=token, headers=SPOOF)
    assert authos_cgi_headers(env) == {}
    assert "spoofed" not in json.dumps(env)


def test_client_x_authos_headers_stripped_for_proxy(server, stub):
    token = stub.mint()
    for path in ("/open/x", "/p-env/x", "/p-none/x"):
        r = server.get(path, token=token, headers=SPOOF)
        assert authos_backend_headers(r) == [], path
        names = [k for k, _ in backend_headers(r)]
        assert "X-AuthOSX" in names and "X-Other" in names, path
        assert "spoofed" not in r.text, path
    # Unprotected, no token at all.
    r = server.get("/open/y", headers=SPOOF)
    assert authos_backend_headers(r) == [] and "spoofed" not in r.text
    for path in ("/p-headers/x", "/p-both/x"):
        r = server.get(path, token=token, headers=SPOOF)
        got = authos_backend_headers(r)
        assert sorted(got) == sorted([("X-AuthOS-Sub", "user-123"), ("X-AuthOS-Email", "alice@example.com"),
                                      ("X-AuthOS-Org-Slug", "acme"), ("X-AuthOS-Service-Slug", "billing"),
                                      ("X-AuthOS-Is-Platform-Owner", "false")]), path
        assert "spoofed" not in r.text, path


# ------------------------------------------------- control characters
@pytest.mark.parametrize("value", ["alice\n@example.com", "alice\r\nX-Injected: 1", "al\x01ice",
                                   "al\x7fice", "tab\there"])
def test_control_characters_are_not_exported(server, stub, value):
    token = stub.mint(email=value, org="ac\nme")
    mark = server.log_mark()
    r, env = server.cgi_env("/m-both/env.py", token=token)
    assert r.status_code == 200
    assert "AUTHOS_EMAIL" not in env and "HTTP_X_AUTHOS_EMAIL" not in env
    assert "AUTHOS_ORG_SLUG" not in env and "HTTP_X_AUTHOS_ORG_SLUG" not in env
    assert env["AUTHOS_SUB"] == "user-123" and env["HTTP_X_AUTHOS_SUB"] == "user-123"
    assert env["AUTHOS_SERVICE_SLUG"] == "billing"
    assert json.loads(env["AUTHOS_CLAIMS"])["email"] == value
    assert "X_INJECTED" not in json.dumps(sorted(env))
    assert server.wait_for_log(r"AUTHOS0030: .*AUTHOS_EMAIL", since=mark)
    # The proxied backend gets neither header, and the exchange is intact.
    r = server.get("/p-headers/z", token=token)
    got = dict(authos_backend_headers(r))
    assert "X-AuthOS-Email" not in got and "X-AuthOS-Org-Slug" not in got
    assert got["X-AuthOS-Sub"] == "user-123"
    assert "X-Injected" not in dict(backend_headers(r))
    # The connection still works for the next request.
    assert server.get("/hello.txt").text == "hello world\n"


def test_control_character_in_sub_is_not_exported(server, stub):
    token = stub.mint(sub="user\n123")
    r = server.get("/p-both/z", token=token)
    got = dict(authos_backend_headers(r))
    assert "X-AuthOS-Sub" not in got and got["X-AuthOS-Email"] == "alice@example.com"
    r, env = server.cgi_env("/env/env.py", token=token)
    assert r.status_code == 200 and "AUTHOS_SUB" not in env


# -------------------------------------------------------- subrequests
def test_subrequests_see_the_same_user(apache_factory, stub):
    conf = ("AuthOSBaseURL %s\nAuthOSAllowHTTP On\nAuthOSAudience %s\n" % (stub.base_url, AUD)
            + protect("/ssi/") + protect("/listing/") + protect("/protected/") + protect("/sub/")
            + protect("/app/", "    DirectoryIndex env.cgi\n")
            # Other sections (their own per-directory config): the subrequest is
            # authenticated again, from the main request's verified token.
            + protect("/inc/", require="Require authos-org acme")
            + protect("/deny/", require="Require authos-org globex"))
    server = apache_factory(conf, start=False)
    for name in ("sub", "inc", "deny"):
        server.write_file("htdocs/%s/env.cgi" % name, CGI_ENV_SCRIPT, 0o755)
    server.write_file("htdocs/sub/page.shtml", 'before\n<!--#include virtual="/sub/env.cgi" -->\nafter\n')
    server.write_file("htdocs/sub/other.shtml", 'before\n<!--#include virtual="/inc/env.cgi" -->\nafter\n')
    server.write_file("htdocs/sub/denied.shtml", 'before\n<!--#include virtual="/deny/env.cgi" -->\nafter\n')
    server.allow_log(r"AH01631: user dora: authorization failure for \"/deny/env.cgi\"",
                     r"unable to include \"/deny/env.cgi\" in parsed file")
    server.start()
    token = stub.mint(sub="dora")

    # SSI: htdocs/ssi/index.shtml (reached through DirectoryIndex) echoes both.
    r = server.get("/ssi/", token=token)
    assert r.status_code == 200 and r.text == "user=dora\nsub=dora\n"
    r = server.get("/ssi/index.shtml", token=token)
    assert r.text == "user=dora\nsub=dora\n"
    assert server.get("/ssi/").status_code == 401

    # SSI include virtual of a CGI in a protected location.
    r = server.get("/sub/page.shtml", token=token)
    assert r.status_code == 200
    body = r.text
    assert body.startswith("before\n") and body.rstrip().endswith("after")
    included = json.loads(body[len("before\n"):body.rindex("after")])
    assert included["env"]["REMOTE_USER"] == "dora" and included["env"]["AUTHOS_SUB"] == "dora"
    assert included["env"]["AUTH_TYPE"] == "authos"

    # ... of a CGI in another protected section (authorized on its own).
    r = server.get("/sub/other.shtml", token=token)
    body = r.text
    included = json.loads(body[len("before\n"):body.rindex("after")])
    assert included["env"]["REMOTE_USER"] == "dora"
    assert included["env"]["AUTHOS_SUB"] == "dora" and included["env"]["AUTH_TYPE"] == "authos"
    # ... and a section whose Require refuses this user: nothing is included.
    r = server.get("/sub/denied.shtml", token=token)
    assert r.status_code == 200 and "REMOTE_USER" not in r.text and "error occurred" in r.text

    # autoindex makes a subrequest per entry: hidden if it were refused.
    r = server.get("/listing/", token=token)
    assert r.status_code == 200 and "a.txt" in r.text and "b.txt" in r.text
    assert server.get("/listing/").status_code == 401

    # DirectoryIndex to a static file and to a CGI.
    r = server.get("/protected/", token=token)
    assert r.status_code == 200 and "protected index" in r.text
    r, env = server.cgi_env("/app/", token=token)
    assert r.status_code == 200
    assert env["REMOTE_USER"] == "dora" and env["AUTHOS_SUB"] == "dora" and env["AUTH_TYPE"] == "authos"
    for path in ("/ssi/", "/listing/", "/protected/", "/app/"):
        assert wait_access_log(server, lambda l: ('"GET %s HTTP/1.1" 200' % path) in l
                               and " - dora [" in l and l.endswith('"dora"')), path


def test_remote_user_claim_in_htaccess(apache_factory, stub):
    conf = "AuthOSBaseURL %s\nAuthOSAllowHTTP On\nAuthOSAudience %s\n" % (stub.base_url, AUD)
    server = apache_factory(conf, start=False)
    server.write_file("htdocs/mail/env.cgi", CGI_ENV_SCRIPT, 0o755)
    server.write_file("htdocs/mail/.htaccess", "AuthType authos\nAuthName t\nAuthOSRemoteUserClaim email\n"
                                               "Require valid-user\n")
    server.write_file("htdocs/sub/env.cgi", CGI_ENV_SCRIPT, 0o755)
    server.write_file("htdocs/sub/.htaccess", "AuthType authos\nAuthName t\nRequire valid-user\n")
    server.start()
    r, env = server.cgi_env("/mail/env.cgi", token=stub.mint())
    assert r.status_code == 200
    assert env["REMOTE_USER"] == "alice@example.com" and env["AUTHOS_SUB"] == "user-123"
    r, env = server.cgi_env("/sub/env.cgi", token=stub.mint())
    assert env["REMOTE_USER"] == "user-123"
    # A token without that claim is refused there.
    r = server.get("/mail/env.cgi", token=stub.mint(email=REMOVE))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == \
        'Bearer realm="t", error="invalid_token", error_description="missing user claim"'

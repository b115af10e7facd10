"""Configuration (SPEC section 4): bad values and cross-directive checks at
`apache2 -t` with file and line, trust directives refused in .htaccess,
per-directory directives working there, the request-time backstop for an
AuthType authos that only a .htaccess introduces, nested trust sources,
startup without network, the shipped conf-examples, and the bookkeeping of
directive documentation and log tags.
"""

import glob
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

import apache
from apache import CGI_ENV_SCRIPT

AUD = "service:acme/billing"
REPO = apache.REPO_ROOT
EXAMPLES = REPO / "conf-examples"
TRUST_DIRECTIVES = {
    "AuthOSBaseURL": "https://sso.example.com",
    "AuthOSJWKSURL": "https://sso.example.com/.well-known/jwks.json",
    "AuthOSJWKSFile": "/etc/hostname",
    "AuthOSIssuer": "https://sso.example.com",
    "AuthOSAudience": "service:acme/billing",
    "AuthOSClockSkew": "30",
    "AuthOSJWKSRefresh": "600",
    "AuthOSJWKSMinRefetch": "10",
    "AuthOSJWKSMaxStale": "86400",
    "AuthOSHTTPTimeout": "5",
    "AuthOSCAFile": "/etc/ssl/certs/ca-certificates.crt",
    "AuthOSAllowHTTP": "On",
    "AuthOSLoginURL": "https://sso.example.com/authorize?org=acme",
    "AuthOSCallbackURL": "https://www.example.com/authos/callback",
}
PER_DIR_DIRECTIVES = ("AuthOSRemoteUserClaim", "AuthOSPassClaims", "AuthOSTokenCookie", "AuthOSLogoutRedirect")


def trust_conf(stub, aud=AUD):
    return "AuthOSBaseURL %s\nAuthOSAllowHTTP On\nAuthOSAudience %s\n" % (stub.base_url, aud)


def protect(path, body="", realm="t"):
    return ("<Location %s>\n    AuthType authos\n    AuthName %s\n    AuthzSendForbiddenOnFailure On\n"
            "%s    Require valid-user\n</Location>\n" % (path, realm, body))


def line_of(conf, needle):
    """1-based number of the first line of conf that contains needle."""
    for number, line in enumerate(conf.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError("%r not in config" % needle)


# ------------------------------------------------------ bad values
BAD_VALUES = [
    ("AuthOSClockSkew abc", "AuthOSClockSkew"),
    ("AuthOSClockSkew -5", "AuthOSClockSkew"),
    ("AuthOSClockSkew 1.5", "AuthOSClockSkew"),
    ("AuthOSJWKSRefresh 10s", "AuthOSJWKSRefresh"),
    ("AuthOSJWKSMinRefetch -1", "AuthOSJWKSMinRefetch"),
    ('AuthOSJWKSMaxStale ""', "AuthOSJWKSMaxStale"),
    ("AuthOSJWKSMaxStale 1e3", "AuthOSJWKSMaxStale"),
    ("AuthOSHTTPTimeout 0", "AuthOSHTTPTimeout"),
    ("AuthOSHTTPTimeout five", "AuthOSHTTPTimeout"),
    ("AuthOSPassClaims sometimes", "AuthOSPassClaims"),
    ("AuthOSPassClaims", "AuthOSPassClaims"),
    ("AuthOSBaseURL ftp://x", "AuthOSBaseURL"),
    ("AuthOSBaseURL sso.example.com", "AuthOSBaseURL"),
    ("AuthOSBaseURL /relative/path", "AuthOSBaseURL"),
    ("AuthOSJWKSURL sso.example.com/.well-known/jwks.json", "AuthOSJWKSURL"),
    ("AuthOSJWKSURL ftp://sso.example.com/jwks.json", "AuthOSJWKSURL"),
    ("AuthOSIssuer sso.example.com", "AuthOSIssuer"),
    ("AuthOSCAFile @ROOT@/no-such-ca.pem", "AuthOSCAFile"),
    ("AuthOSCAFile @ROOT@/conf", "AuthOSCAFile"),   # a directory
    ('AuthOSTokenCookie "a b"', "AuthOSTokenCookie"),
    ("AuthOSTokenCookie a;b", "AuthOSTokenCookie"),
    ("AuthOSTokenCookie a=b", "AuthOSTokenCookie"),
    ('AuthOSTokenCookie ""', "AuthOSTokenCookie"),
    ("AuthOSAllowHTTP maybe", "AuthOSAllowHTTP"),
    ("AuthOSAudience any service:acme/billing", "AuthOSAudience"),
    ('AuthOSAudience ""', "AuthOSAudience"),
    ('AuthOSRemoteUserClaim ""', "AuthOSRemoteUserClaim"),
    ("AuthOSLoginURL sso.example.com/authorize", "AuthOSLoginURL"),
    ("AuthOSLoginURL https://sso.example.com/authorize#x", "AuthOSLoginURL"),
    ("AuthOSLoginURL https://user@sso.example.com/authorize", "AuthOSLoginURL"),
    ("AuthOSLoginURL javascript:alert(1)", "AuthOSLoginURL"),
    ("AuthOSCallbackURL /authos/callback", "AuthOSCallbackURL"),
    ("AuthOSCallbackURL https://www.example.com:0/cb", "AuthOSCallbackURL"),
    ("AuthOSCallbackURL https://www.example.com:99999/cb", "AuthOSCallbackURL"),
    ("AuthOSLogoutRedirect //evil.example/", "AuthOSLogoutRedirect"),
    ("AuthOSLogoutRedirect goodbye.html", "AuthOSLogoutRedirect"),
    ("AuthOSLogoutRedirect javascript:alert(1)", "AuthOSLogoutRedirect"),
    ("AuthOSLogoutRedirect /a\\b", "AuthOSLogoutRedirect"),
    ("AuthOSBaseURL https://a.example\nAuthOSJWKSURL https://b.example/jwks.json", "already has a trust source"),
    ("AuthOSJWKSFile /etc/hostname\nAuthOSBaseURL https://a.example", "already has a trust source"),
]


def test_bad_values_fail_config_test_with_file_and_line(apache_factory):
    """Every bad value, in the server config and inside a <Location>, fails
    `apache2 -t` naming the snippet's file and the offending line."""
    server = apache_factory(start=False)
    failures = []
    for bad, message in BAD_VALUES:
        last = bad.splitlines()[-1]
        for conf in ("# server config\n%s\n" % bad,
                     "AuthOSAudience any\n<Location /x>\n    %s\n</Location>\n" % bad.replace("\n", "\n    ")):
            rc, out = server.config_test(conf)
            snippet = server.root / "conf" / ("test-%d.conf" % server._config_tests)
            where = "Syntax error on line %d of %s:" % (line_of(conf, last), snippet)
            if rc == 0 or where not in out or message not in out:
                failures.append("%r -> rc=%d %s" % (conf, rc, out))
    assert failures == []


def test_good_values_pass_config_test(apache_factory):
    server = apache_factory(start=False)
    conf = """
AuthOSBaseURL https://sso.example.com/
AuthOSIssuer https://sso.example.com
AuthOSAudience service:acme/billing platform "org:acme"
AuthOSClockSkew 0
AuthOSJWKSRefresh 60
AuthOSJWKSMinRefetch 0
AuthOSJWKSMaxStale 31536000
AuthOSHTTPTimeout 1
AuthOSCAFile /etc/ssl/certs/ca-certificates.crt
AuthOSAllowHTTP Off
AuthOSRemoteUserClaim email
AuthOSPassClaims BOTH
AuthOSTokenCookie authos_token
AuthOSLoginURL https://sso.example.com/authorize?org=acme&service=intranet
AuthOSCallbackURL https://www.example.com/authos/callback
AuthOSLogoutRedirect https://www.example.com/goodbye.html
<Location /authos/callback>
    SetHandler authos-callback
</Location>
<Location /authos/logout>
    SetHandler authos-logout
    AuthOSLogoutRedirect /
</Location>
<Location /a>
    AuthOSJWKSURL https://keys.example.com/jwks.json
    AuthOSIssuer Off
    AuthOSAudience any
    AuthType authos
    Require valid-user
</Location>
<Directory "@ROOT@/htdocs/f">
    AuthOSJWKSFile @ROOT@/jwks.json
    AuthOSIssuer https://sso.example.com
    AuthType authos
    Require authos-org acme
</Directory>
"""
    assert server.config_test(conf) == (0, "Syntax OK\n")


# ----------------------------------------- cross-directive checks
CROSS = [
    ("no trust source", """
AuthOSAudience any
<Location /x>
    AuthType authos
    Require valid-user
</Location>""", "<Location /x>", "without a trust source"),
    ("no audience", """
AuthOSBaseURL https://sso.example.com
<Location /x>
    AuthType authos
    Require valid-user
</Location>""", "<Location /x>", "without AuthOSAudience"),
    ("no audience in a Directory", """
<Directory "@ROOT@/htdocs/d">
    AuthOSBaseURL https://sso.example.com
    AuthType authos
    Require valid-user
</Directory>""", "<Directory", "without AuthOSAudience"),
    ("source only in a sibling section", """
AuthOSAudience any
<Location /other>
    AuthOSBaseURL https://sso.example.com
</Location>
<Location /x>
    AuthType authos
    Require valid-user
</Location>""", "<Location /x>", "without a trust source"),
    ("source only in another virtual host", """
AuthOSAudience any
<VirtualHost 127.0.0.1:@PORT@>
    AuthOSBaseURL https://sso.example.com
</VirtualHost>
<VirtualHost 127.0.0.2:@PORT@>
    <Location /x>
        AuthType authos
        Require valid-user
    </Location>
</VirtualHost>""", "<Location /x>", "without a trust source"),
    ("server-level Files", """
AuthOSAudience any
<Files "secret.txt">
    AuthType authos
    Require valid-user
</Files>""", "<Files", "without a trust source"),
    ("JWKS URL without issuer", """
AuthOSJWKSURL https://sso.example.com/jwks.json
AuthOSAudience any
<Location /x>
    AuthType authos
    Require valid-user
</Location>""", "<Location /x>", "AuthOSJWKSURL needs an explicit AuthOSIssuer"),
    ("JWKS file without issuer", """
AuthOSAudience any
<Location /x>
    AuthOSJWKSFile /etc/hostname
    AuthType authos
    Require valid-user
</Location>""", "<Location /x>", "AuthOSJWKSFile needs an explicit AuthOSIssuer"),
    ("http base URL", """
AuthOSBaseURL http://127.0.0.1:9/
AuthOSAudience any""", "AuthOSBaseURL http", "http:// needs AuthOSAllowHTTP On"),
    ("http base URL, AllowHTTP Off", """
AuthOSAllowHTTP Off
<Location /x>
    AuthOSBaseURL http://sso.example.com
</Location>""", "AuthOSBaseURL http", "http:// needs AuthOSAllowHTTP On"),
    ("http JWKS URL", """
AuthOSIssuer Off
<Location /x>
    AuthOSJWKSURL http://sso.example.com/jwks.json
</Location>""", "AuthOSJWKSURL http", "http:// needs AuthOSAllowHTTP On"),
    ("AllowHTTP in a sibling section", """
<Location /a>
    AuthOSAllowHTTP On
</Location>
<Location /b>
    AuthOSBaseURL http://sso.example.com
</Location>""", "AuthOSBaseURL http", "http:// needs AuthOSAllowHTTP On"),
    ("http login URL", """
AuthOSLoginURL http://sso.example.com/authorize""", "AuthOSLoginURL http", "http:// needs a loopback host"),
    ("http callback URL", """
<Location /x>
    AuthOSCallbackURL http://www.example.com/cb
</Location>""", "AuthOSCallbackURL http", "http:// needs a loopback host"),
    ("login URL without callback URL", """
AuthOSBaseURL https://sso.example.com
AuthOSAudience any
AuthOSTokenCookie t
AuthOSLoginURL https://sso.example.com/authorize
<Location /x>
    AuthType authos
    Require valid-user
</Location>""", "<Location /x>", "AuthOSLoginURL needs AuthOSCallbackURL"),
    ("login URL without token cookie", """
AuthOSBaseURL https://sso.example.com
AuthOSAudience any
<Location /x>
    AuthOSLoginURL https://sso.example.com/authorize
    AuthOSCallbackURL https://www.example.com/cb
    AuthType authos
    Require valid-user
</Location>""", "<Location /x>", "AuthOSLoginURL needs AuthOSTokenCookie"),
    ("callback without trust source", """
AuthOSAudience any
AuthOSTokenCookie t
AuthOSCallbackURL https://www.example.com/cb
<Location /cb>
    SetHandler authos-callback
</Location>""", "<Location /cb>", "SetHandler authos-callback without a trust source"),
    ("callback without callback URL", """
AuthOSBaseURL https://sso.example.com
AuthOSAudience any
AuthOSTokenCookie t
<Location /cb>
    SetHandler authos-callback
</Location>""", "<Location /cb>", "SetHandler authos-callback needs AuthOSCallbackURL"),
    ("logout without token cookie", """
<Location /logout>
    SetHandler authos-logout
</Location>""", "<Location /logout>", "SetHandler authos-logout needs AuthOSTokenCookie"),
]


@pytest.mark.parametrize("conf, at, message", [c[1:] for c in CROSS], ids=[c[0] for c in CROSS])
def test_cross_directive_checks_name_file_and_line(apache_factory, conf, at, message):
    server = apache_factory(start=False)
    rc, out = server.config_test(conf)
    snippet = server.root / "conf" / "test-1.conf"
    assert rc != 0, out
    expected = "AUTHOS0040: %s:%d: " % (snippet, line_of(conf, at))
    assert expected in out, out
    assert message in out.split(expected, 1)[1].splitlines()[0]
    assert "Syntax OK" not in out


def test_cross_directive_checks_pass_when_satisfied(apache_factory):
    server = apache_factory(start=False)
    good = [
        # AllowHTTP after the URL, in the same section or the server config.
        "AuthOSBaseURL http://127.0.0.1:9\nAuthOSAllowHTTP On\nAuthOSAudience any\n" + protect("/x"),
        "AuthOSAllowHTTP On\n<Location /x>\n    AuthOSJWKSURL http://127.0.0.1:9/j\n    AuthOSIssuer Off\n"
        "    AuthOSAudience any\n    AuthType authos\n    Require valid-user\n</Location>\n",
        # Source in the section, audience in the server config; inside <IfModule>.
        "AuthOSAudience " + AUD + "\n<IfModule mod_auth_authos.c>\n<Location /x>\n"
        "    AuthOSBaseURL https://sso.example.com\n    AuthType authos\n    Require valid-user\n"
        "</Location>\n</IfModule>\n",
        # A virtual host inherits the server's trust settings.
        "AuthOSBaseURL https://sso.example.com\nAuthOSAudience any\n<VirtualHost 127.0.0.1:@PORT@>\n"
        + protect("/x") + "</VirtualHost>\n",
        # A <Directory> with <Files> inside.
        '<Directory "@ROOT@/htdocs/d">\n    AuthOSBaseURL https://sso.example.com\n    AuthOSAudience any\n'
        '    <Files "*.txt">\n        AuthType authos\n        Require valid-user\n    </Files>\n</Directory>\n',
        # Browser sessions on loopback over http, without AuthOSAllowHTTP.
        "AuthOSBaseURL https://sso.example.com\nAuthOSAudience any\nAuthOSTokenCookie t\n"
        "AuthOSLoginURL http://localhost:8080/authorize\nAuthOSCallbackURL http://127.0.0.1:8081/cb\n"
        "<Location /cb>\n    SetHandler authos-callback\n</Location>\n" + protect("/x"),
        # Any http:// host with AuthOSAllowHTTP On.
        "AuthOSAllowHTTP On\nAuthOSLoginURL http://sso.example.com/authorize\n"
        "AuthOSCallbackURL http://www.example.com/cb\n",
    ]
    for conf in good:
        assert server.config_test(conf) == (0, "Syntax OK\n"), conf


def test_prefix_covered_sections_pass_and_work(apache_factory, stub):
    conf = """
<Location /api>
    AuthOSBaseURL %s
    AuthOSAllowHTTP On
    AuthOSAudience %s
</Location>
<Location /api/x>
    AuthType authos
    AuthName api
    AuthzSendForbiddenOnFailure On
    Require authos-org acme
</Location>
AliasMatch "^/api/.*$" "@ROOT@/htdocs/hello.txt"
""" % (stub.base_url, AUD)
    server = apache_factory(conf, start=False)
    assert server.config_test(conf) == (0, "Syntax OK\n")
    server.start()
    assert server.get("/api/x", token=stub.mint()).text == "hello world\n"
    assert server.get("/api/x/y", token=stub.mint(org="globex")).status_code == 403
    r = server.get("/api/x")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert server.get("/api/other").status_code == 200   # not protected


# ---------------------------------------------------- .htaccess
def test_trust_directives_refused_in_htaccess(apache_factory, stub):
    server = apache_factory(trust_conf(stub) + protect("/t/"), start=False)
    server.allow_log(r"not allowed here")
    for name, value in TRUST_DIRECTIVES.items():
        server.write_file("htdocs/t/%s/.htaccess" % name, "%s %s\n" % (name, value))
        server.write_file("htdocs/h/%s/.htaccess" % name, "%s %s\n" % (name, value))
        server.write_file("htdocs/t/%s/hello.txt" % name, "hello world\n")
        server.write_file("htdocs/h/%s/hello.txt" % name, "hello world\n")
    server.start()
    token = stub.mint()
    for name in TRUST_DIRECTIVES:
        # Unprotected and protected directories alike, with and without a token.
        for path in ("/h/%s/hello.txt" % name, "/t/%s/hello.txt" % name):
            for tok in (None, token):
                r = server.get(path, token=tok)
                assert r.status_code == 500, (path, r.status_code)
                assert "hello world" not in r.text
        assert re.search(r"htdocs/h/%s/\.htaccess: %s not allowed here" % (name, name), server.error_log()), name
    assert server.get("/hello.txt").status_code == 200
    assert server.get("/t/hello.txt", token=token).status_code == 404   # protected, reachable


def test_per_dir_directives_work_in_htaccess(apache_factory, stub):
    server = apache_factory(trust_conf(stub), start=False)
    for name, extra in (("claim", "AuthOSRemoteUserClaim email\n"), ("hdr", "AuthOSPassClaims headers\n"),
                        ("none", "AuthOSPassClaims none\n"), ("cookie", "AuthOSTokenCookie authos_tok\n")):
        server.write_file("htdocs/%s/env.cgi" % name, CGI_ENV_SCRIPT, 0o755)
        server.write_file("htdocs/%s/.htaccess" % name, "AuthType authos\nAuthName t\n%sRequire valid-user\n" % extra)
    server.start()
    token = stub.mint()

    r, env = server.cgi_env("/claim/env.cgi", token=token)
    assert env["REMOTE_USER"] == "alice@example.com" and env["AUTHOS_SUB"] == "user-123"

    r, env = server.cgi_env("/hdr/env.cgi", token=token)
    assert env["REMOTE_USER"] == "user-123" and env["HTTP_X_AUTHOS_SUB"] == "user-123"
    assert not [k for k in env if k.startswith("AUTHOS_")]

    r, env = server.cgi_env("/none/env.cgi", token=token)
    assert env["REMOTE_USER"] == "user-123" and env["AUTH_TYPE"] == "authos"
    assert not [k for k in env if "AUTHOS" in k]

    r, env = server.cgi_env("/cookie/env.cgi", cookies={"authos_tok": token})
    assert r.status_code == 200 and env["REMOTE_USER"] == "user-123"
    r = server.get("/cookie/env.cgi", cookies={"other": token})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="t"'
    # Where no .htaccess names the cookie, it is not a token source.
    r = server.get("/claim/env.cgi", cookies={"authos_tok": token})
    assert r.status_code == 401


def test_authtype_from_htaccess_without_trust_is_500(apache_factory, stub):
    conf = """
<Directory "@ROOT@/htdocs/noaud">
    AuthOSBaseURL %s
    AuthOSAllowHTTP On
</Directory>
<Directory "@ROOT@/htdocs/noiss">
    AuthOSJWKSURL %s
    AuthOSAllowHTTP On
    AuthOSAudience any
</Directory>
<Directory "@ROOT@/htdocs/ok">
    AuthOSBaseURL %s
    AuthOSAllowHTTP On
    AuthOSAudience %s
</Directory>
""" % (stub.base_url, stub.jwks_url, stub.base_url, AUD)
    server = apache_factory(conf, start=False)
    server.allow_log(r"AUTHOS0020: AuthType authos misconfigured")
    for name in ("nosrc", "noaud", "noiss", "ok"):
        server.write_file("htdocs/%s/.htaccess" % name, "AuthType authos\nAuthName t\nRequire valid-user\n")
        server.write_file("htdocs/%s/hello.txt" % name, "hello world\n")
    server.start()
    token = stub.mint()
    for name, why in (("nosrc", "no trust source"), ("noaud", "no AuthOSAudience"),
                      ("noiss", "explicit AuthOSIssuer")):
        for tok in (None, token, "garbage"):
            r = server.get("/%s/hello.txt" % name, token=tok)
            assert r.status_code == 500, (name, r.status_code)
            assert "hello world" not in r.text
        assert re.search(r"\[auth_authos:error\].*AUTHOS0020: AuthType authos misconfigured for /%s/hello.txt: .*%s"
                         % (name, why), server.error_log()), name
    assert server.get("/ok/hello.txt", token=token).text == "hello world\n"
    assert server.get("/ok/hello.txt").status_code == 401


# ------------------------------------------------ nested sources
def test_nested_section_source_replaces_the_server_source(apache_factory, stub, stub_factory):
    other = stub_factory()
    conf = trust_conf(stub) + 'AliasMatch "^/(one|two)(/.*)?$" "@ROOT@/htdocs/hello.txt"\n' \
        + protect("/one") + protect("/two", "    AuthOSBaseURL %s\n" % other.base_url)
    server = apache_factory(conf)
    mine, theirs = stub.mint(), other.mint()
    assert server.get("/one", token=mine).status_code == 200
    assert server.get("/two/x", token=theirs).status_code == 200
    for path, token in (("/one", theirs), ("/two/x", mine)):
        r = server.get(path, token=token)
        assert r.status_code == 401, path
        assert r.headers["WWW-Authenticate"].startswith('Bearer realm="t", error="invalid_token"')
    # A token of the second issuer signed with its key but claiming the first issuer.
    r = server.get("/two", token=other.mint(iss=stub.issuer))
    assert r.headers["WWW-Authenticate"].endswith('error_description="wrong issuer"')
    assert other.count("/.well-known/jwks.json") >= 1 and stub.count("/.well-known/jwks.json") >= 1


# ------------------------------------------------ no network at startup
def test_startup_never_touches_the_network(apache_factory, stub):
    conf = trust_conf(stub) + "AuthOSJWKSMinRefetch 1\n" + protect("/protected/") + \
        "<Location /files/>\n    AuthOSJWKSURL %s\n    AuthOSIssuer %s\n</Location>\n" % (stub.jwks_url, stub.issuer)
    stub.stop()
    server = apache_factory(conf, start=False)
    started = time.time()
    assert server.config_test() == (0, "Syntax OK\n")
    server.start()   # the issuer is down
    assert time.time() - started < 10
    stub.start()
    time.sleep(0.5)
    server.graceful()
    time.sleep(0.5)
    assert stub.requests == [] and stub.count("/.well-known/jwks.json") == 0
    # First use fetches.
    assert server.get("/protected/", token=stub.mint()).status_code == 200
    assert stub.count("/.well-known/jwks.json") >= 1


# ------------------------------------------------------- examples
def _example_files():
    files = sorted(glob.glob(str(EXAMPLES / "*.conf")))
    files += [str(EXAMPLES / "htaccess" / "server.conf"), str(EXAMPLES / "debian" / "auth_authos.conf")]
    return files


ABS_PATH = re.compile(r'(?<![\w:/.@-])/(?:etc|var|usr|srv|opt|home|run|tmp)/[^\s"\'<>]*')


def localize(text, root):
    """Point absolute paths that do not exist here into root/ex/, creating them
    (a file when the name has a suffix, a JWKS for .json; else a directory)."""
    def repl(match):
        path = match.group(0)
        if os.path.exists(path):
            return path
        new = Path(root) / "ex" / path.lstrip("/")
        if Path(path.rstrip("/")).suffix:
            new.parent.mkdir(parents=True, exist_ok=True)
            new.write_text('{"keys": []}\n' if new.suffix == ".json" else "\n")
        else:
            new.mkdir(parents=True, exist_ok=True)
        return str(new) + ("/" if path.endswith("/") else "")
    return ABS_PATH.sub(repl, text)


def test_examples_exist():
    names = {os.path.basename(p) for p in _example_files() if os.path.isfile(p)}
    assert len(glob.glob(str(EXAMPLES / "*.conf"))) >= 1
    assert {"server.conf", "auth_authos.conf"} <= names


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: os.path.relpath(p, str(EXAMPLES)))
def test_example_passes_config_test(apache_factory, path):
    server = apache_factory(start=False)
    text = Path(path).read_text()
    rc, out = server.config_test(localize(text, server.root))
    assert (rc, out) == (0, "Syntax OK\n"), out
    # Uncommented, the commented-out directives are valid too (debian/auth_authos.conf).
    uncommented = re.sub(r"(?m)^(\s*)#\s*(AuthOS\w+\s)", r"\1\2", text)
    if uncommented != text:
        rc, out = server.config_test(localize(uncommented, server.root))
        assert (rc, out) == (0, "Syntax OK\n"), out


def test_debian_load_file_loads_the_module(apache_factory, authos_module, stub):
    load = (EXAMPLES / "debian" / "auth_authos.load").read_text()
    lines = [l for l in load.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert lines and all(l.split()[0] == "LoadModule" for l in lines)
    assert re.search(r"(?m)^LoadModule auth_authos_module \S*/mod_auth_authos\.so$", load)
    rewritten = re.sub(r"(?m)^(LoadModule auth_authos_module )\S+$", r'\1"%s"' % authos_module, load)
    debian_conf = (EXAMPLES / "debian" / "auth_authos.conf").read_text()
    conf = rewritten + "\n" + debian_conf + "\n" + trust_conf(stub) + protect("/protected/")
    server = apache_factory(conf, load_module=False, start=False)
    assert "auth_authos_module" not in server.modules_conf()
    assert server.config_test() == (0, "Syntax OK\n")
    main = server.root / "conf" / "httpd-test-1.conf"
    proc = subprocess.run([apache.APACHE_BIN, "-t", "-D", "DUMP_MODULES", "-f", str(main)],
                          env=apache.apache_env(server.root), capture_output=True, text=True, timeout=60)
    assert "auth_authos_module (shared)" in proc.stdout
    server.start()
    r = server.get("/protected/")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="t"'
    assert server.get("/protected/", token=stub.mint()).status_code == 200


# ----------------------------------------------- documentation, tags
def command_table_directives():
    text = (REPO / "src" / "apache" / "config.c").read_text()
    names = re.findall(r'AP_INIT_\w+\(\s*"(AuthOS\w+)"', text)
    names += re.findall(r'(?:SECONDS|BROWSER_URL)\(\s*"(AuthOS\w+)"', text)
    return sorted(set(names))


def test_command_table_parses():
    names = command_table_directives()
    assert set(TRUST_DIRECTIVES) | set(PER_DIR_DIRECTIVES) <= set(names)


def test_every_directive_is_documented_in_readme():
    readme = REPO / "README.md"
    assert readme.is_file(), "README.md is missing"
    text = readme.read_text()
    missing = [n for n in command_table_directives() if not re.search(r"\b%s\b" % n, text)]
    assert missing == [], "README.md does not document: %s" % ", ".join(missing)


def test_every_directive_is_shown_in_examples_or_readme():
    readme = REPO / "README.md"
    text = readme.read_text() if readme.is_file() else ""
    for path in glob.glob(str(EXAMPLES / "**" / "*"), recursive=True):
        if os.path.isfile(path):
            text += Path(path).read_text(errors="replace")
    missing = [n for n in command_table_directives() if not re.search(r"\b%s\b" % n, text)]
    assert missing == []


def _strip_c_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def test_every_log_tag_has_exactly_one_call_site():
    sources = sorted(glob.glob(str(REPO / "src" / "**" / "*.[ch]"), recursive=True))
    sources.append(str(REPO / "mod_auth_authos.c"))
    uses = {}
    for path in sources:
        code = _strip_c_comments(Path(path).read_text())
        for tag in re.findall(r"AUTHOS_LOGNO\(\s*(\d+)\s*\)", code):
            uses.setdefault(tag, []).append(os.path.relpath(path, str(REPO)))
    assert len(uses) >= 10   # the module logs through tags
    assert all(len(tag) == 4 for tag in uses), sorted(uses)
    duplicated = {tag: files for tag, files in uses.items() if len(files) != 1}
    assert duplicated == {}

"""AuthType authos against a real Apache (SPEC sections 2, 4 and 5).

One Apache and one stub issuer serve most tests of this file (started once
per module); each test still gets its own error-log audit through the `srv`
fixture, which checks only the lines that test produced.  Tests that need
another log level or fresh counts start their own server.
"""

import base64
import http.client
import json
import re
import time

import pytest

import apache
from authos_stub import JWKS_PATH, REMOVE, AuthOSStub, b64url, b64url_decode

AUD = "service:acme/billing"
REALM = "billing"
NO_TOKEN = 'Bearer realm="%s"' % REALM
INSUFFICIENT = 'Bearer realm="%s", error="insufficient_scope"' % REALM
PROTECTED = "/protected/hello.txt"

# The 503 rows: a trust source nobody listens on.
DEAD_PORT = apache.free_port()

SERVER_CONF = """
LimitRequestFieldSize 65536
AuthOSBaseURL {base}
AuthOSAllowHTTP On
AuthOSAudience service:acme/billing
AuthOSJWKSMinRefetch 1
<Location /protected>
    AuthType authos
    AuthName billing
    AuthzSendForbiddenOnFailure On
    Require authos-service billing
</Location>
Alias /owner/ "@ROOT@/htdocs/protected/"
<Location /owner/>
    AuthType authos
    AuthName billing
    AuthzSendForbiddenOnFailure On
    Require authos-platform-owner
</Location>
Alias /owner401/ "@ROOT@/htdocs/protected/"
<Location /owner401/>
    AuthType authos
    AuthName billing
    Require authos-platform-owner
</Location>
Alias /anyof/ "@ROOT@/htdocs/protected/"
<Location /anyof/>
    AuthType authos
    AuthName billing
    AuthzSendForbiddenOnFailure On
    <RequireAny>
        Require authos-platform-owner
        Require authos-service billing
    </RequireAny>
</Location>
Alias /cookie/ "@ROOT@/htdocs/protected/"
<Location /cookie/>
    AuthType authos
    AuthName billing
    AuthOSTokenCookie authos_at
    Require valid-user
</Location>
Alias /anyaud/ "@ROOT@/htdocs/protected/"
<Location /anyaud/>
    AuthType authos
    AuthName billing
    AuthOSAudience any
    Require valid-user
</Location>
Alias /reports/ "@ROOT@/htdocs/protected/"
<Location /reports/>
    AuthType authos
    AuthName billing
    AuthOSAudience service:acme/reports
    Require valid-user
</Location>
Alias /down/ "@ROOT@/htdocs/protected/"
<Location /down/>
    AuthType authos
    AuthName billing
    AuthOSBaseURL http://127.0.0.1:{dead}
    Require valid-user
</Location>
<Location /cgi-bin/>
    AuthType authos
    AuthName billing
    Require valid-user
</Location>
ScriptAlias /email-cgi/ "@ROOT@/cgi-bin/"
<Location /email-cgi/>
    AuthType authos
    AuthName billing
    AuthOSRemoteUserClaim email
    Require valid-user
</Location>
"""


def invalid(reason):
    return 'Bearer realm="%s", error="invalid_token", error_description="%s"' % (REALM, reason)


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def issuer():
    stub = AuthOSStub().start()
    yield stub
    stub.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, issuer, authos_module):
    server = apache.ApacheServer(
        tmp_path_factory.mktemp("authn") / "httpd", module_path=authos_module,
        extra_conf=SERVER_CONF.format(base=issuer.base_url, dead=DEAD_PORT))
    server.start()
    yield server
    server.stop()
    # A child crash is logged by the parent, possibly after the test that caused it.
    crashes = [line for line in server.error_log().splitlines() if apache.CRASH_LINE.search(line)]
    if crashes:
        pytest.fail("child crashes:\n  " + "\n  ".join(crashes), pytrace=False)


@pytest.fixture
def srv(request, shared_server):
    """The shared server; the error-log lines this test produced are audited."""
    mark = shared_server.log_mark()
    yield shared_server
    allowed = [p for m in request.node.iter_markers("allow_log") for p in m.args]
    allowed += list(apache.ACCESS_DENIED_LINES)
    bad = [line for line in shared_server.error_log_since(mark).splitlines()
           if (apache.AUDITED_LEVEL.search(line) or apache.CRASH_LINE.search(line))
           and not any(re.search(p, line) for p in allowed)]
    if bad:
        pytest.fail("unexpected error-log lines:\n  " + "\n  ".join(bad), pytrace=False)


def refused(server, token, reason, path=PROTECTED, **kwargs):
    """Assert the token is refused with this reason; returns the response."""
    r = server.get(path, token=token, **kwargs)
    assert r.status_code == 401, r.text
    assert r.headers["WWW-Authenticate"] == invalid(reason)
    return r


def accepted(server, token, path=PROTECTED, **kwargs):
    r = server.get(path, token=token, **kwargs)
    assert r.status_code == 200, (r.status_code, r.headers.get("WWW-Authenticate"))
    assert "WWW-Authenticate" not in r.headers
    return r


def header_and_payload(stub, header=None, header_remove=(), **claims):
    hdr = {"alg": "RS256", "kid": stub.active_kid, "typ": "authos-management+jwt"}
    hdr.update(header or {})
    for name in header_remove:
        hdr.pop(name)
    payload = stub.default_claims()
    payload.update(claims)
    return hdr, payload


def jbytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def raw_get(server, path, header_lines):
    """GET with raw header lines (repeated names stay separate on the wire)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest("GET", path)
        for name, value in header_lines:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        resp.read()
        return resp.status, resp.getheader("WWW-Authenticate")
    finally:
        conn.close()


# ------------------------------------------------------------ status table
def test_valid_token_is_accepted(srv, issuer):
    r = accepted(srv, issuer.mint())
    assert r.text == "protected hello\n"


def test_no_token_gets_bare_challenge(srv):
    r = srv.get(PROTECTED)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == NO_TOKEN


def test_basic_scheme_counts_as_no_token(srv, issuer):
    r = srv.get(PROTECTED, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == NO_TOKEN
    # Even when what follows "Basic" is a perfectly good token.
    r = srv.get(PROTECTED, headers={"Authorization": "Basic " + issuer.mint()})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == NO_TOKEN


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_bearer_scheme_is_case_insensitive(srv, issuer, scheme):
    r = srv.get(PROTECTED, headers={"Authorization": scheme + " " + issuer.mint()})
    assert r.status_code == 200


def test_invalid_token_gets_invalid_token_challenge(srv):
    refused(srv, "not-a-jwt", "malformed")


def test_denied_user_gets_403_insufficient_scope(srv, issuer):
    r = srv.get("/owner/hello.txt", token=issuer.mint())
    assert r.status_code == 403
    assert r.headers["WWW-Authenticate"] == INSUFFICIENT


def test_denied_user_without_forbidden_on_failure_gets_401_insufficient_scope(srv, issuer):
    r = srv.get("/owner401/hello.txt", token=issuer.mint())
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == INSUFFICIENT


def test_denied_location_still_challenges_without_a_token(srv):
    for path in ("/owner/hello.txt", "/owner401/hello.txt"):
        r = srv.get(path)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == NO_TOKEN


def test_require_any_sibling_grant_has_no_challenge(srv, issuer):
    r = srv.get("/anyof/hello.txt", token=issuer.mint())
    assert r.status_code == 200
    assert "WWW-Authenticate" not in r.headers
    r = srv.get("/anyof/hello.txt", token=issuer.mint(service="payroll"))
    assert r.status_code == 403
    assert r.headers["WWW-Authenticate"] == INSUFFICIENT


@pytest.mark.allow_log(r"AUTHOS0006:.*connection refused", r"AUTHOS0022:")
def test_issuer_unreachable_gets_503_with_retry_after(srv, issuer):
    mark = srv.log_mark()
    r = srv.get("/down/hello.txt", token=issuer.mint())
    assert r.status_code == 503
    assert re.fullmatch(r"[1-9][0-9]*", r.headers["Retry-After"])
    assert int(r.headers["Retry-After"]) <= 1     # AuthOSJWKSMinRefetch 1
    assert "WWW-Authenticate" not in r.headers
    log = srv.error_log_since(mark)
    assert re.search(r"\[auth_authos:warn\].*AUTHOS0006: key set fetch for AuthOSBaseURL "
                     r"http://127\.0\.0\.1:%d failed: .*connection refused" % DEAD_PORT, log)
    assert re.search(r"\[auth_authos:error\].*AUTHOS0022: no usable key set", log)
    # No token at all is still a plain 401: nothing to verify, no fetch needed.
    r = srv.get("/down/hello.txt")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == NO_TOKEN


# ---------------------------------------------------------- rejection rules
def _alg(stub, alg):
    """A correctly RS256-signed token whose header claims another alg."""
    hdr, payload = header_and_payload(stub, header={"alg": alg})
    return stub.sign_raw(jbytes(hdr), jbytes(payload))


def _hs256_pem(stub):
    return stub.mint_hs256()


def _no_kid(stub):
    hdr, payload = header_and_payload(stub, header_remove=["kid"])
    return stub.sign_raw(jbytes(hdr), jbytes(payload))


def _sig_bytes(token):
    return b64url_decode(token.rsplit(".", 1)[1])


def _truncated_sig(stub):
    token = stub.mint()
    return token.rsplit(".", 1)[0] + "." + b64url(_sig_bytes(token)[:-1])


def _extended_sig(stub):
    token = stub.mint()
    return token.rsplit(".", 1)[0] + "." + b64url(_sig_bytes(token) + b"\0")


def _flipped_sig(stub):
    token = stub.mint()
    sig = bytearray(_sig_bytes(token))
    sig[100] ^= 0x01
    return token.rsplit(".", 1)[0] + "." + b64url(bytes(sig))


def _dup_header(stub):
    raw = ('{"alg":"RS256","kid":"%s","typ":"authos-management+jwt","kid":"%s"}'
           % (stub.active_kid, stub.active_kid)).encode()
    return stub.sign_raw(raw, jbytes(stub.default_claims()))


def _dup_payload(stub):
    hdr, payload = header_and_payload(stub)
    raw = jbytes(payload)[:-1] + b',"sub":"admin"}'
    return stub.sign_raw(jbytes(hdr), raw)


def _payload_not_object(stub):
    hdr, _ = header_and_payload(stub)
    return stub.sign_raw(jbytes(hdr), b'["sub","user-123"]')


def _sized(stub, limit, over):
    """The longest token of at most limit characters, or (over=True) the shortest above it."""
    n = max(0, (limit - len(stub.mint(filler=""))) * 3 // 4 - 8)
    while len(stub.mint(filler="x" * (n + 1))) <= limit:
        n += 1
    return stub.mint(filler="x" * (n + 1 if over else n))


def _too_long(stub):
    token = _sized(stub, 16384, over=True)
    assert 16385 <= len(token) <= 16386
    return token


def _longest(stub):
    token = _sized(stub, 16384, over=False)
    assert 16383 <= len(token) <= 16384
    return token


def _padded(stub):
    token = stub.mint()
    assert len(token.rsplit(".", 1)[1]) % 4 == 2
    return token + "=="


def _illegal_char(stub):
    token = stub.mint()
    cut = token.rindex(".") + 10
    return token[:cut] + "+" + token[cut + 1:]


def _standard_base64(stub):
    """The signature in standard base64 (+ and /), padding removed."""
    hdr, payload = header_and_payload(stub)
    for n in range(50):
        payload["jti"] = "jti-%d" % n
        token = stub.sign_raw(jbytes(hdr), jbytes(payload))
        std = base64.b64encode(_sig_bytes(token)).decode().rstrip("=")
        if "+" in std or "/" in std:
            return token.rsplit(".", 1)[0] + "." + std
    raise AssertionError("no signature with + or / in 50 tries")


def _two_parts(stub):
    return stub.mint().rsplit(".", 1)[0]


def _four_parts(stub):
    return stub.mint() + "." + b64url(b"x")


now = lambda: int(time.time())  # noqa: E731

REJECTIONS = {
    # structure (step 1)
    "too_long": (_too_long, "malformed"),
    "padding": (_padded, "malformed"),
    "illegal_char": (_illegal_char, "malformed"),
    "standard_base64": (_standard_base64, "malformed"),
    "two_parts": (_two_parts, "malformed"),
    "four_parts": (_four_parts, "malformed"),
    "empty_signature": (lambda s: s.mint().rsplit(".", 1)[0] + ".", "malformed"),
    # alg none as usually sent: an empty signature part fails step 1 already
    "alg_none_unsigned": (lambda s: s.mint_alg_none(), "malformed"),
    # header (step 2)
    "alg_none": (lambda s: _alg(s, "none"), "unsupported algorithm"),
    "alg_None": (lambda s: _alg(s, "None"), "unsupported algorithm"),
    "alg_NONE": (lambda s: _alg(s, "NONE"), "unsupported algorithm"),
    "alg_rs256_lowercase": (lambda s: _alg(s, "rs256"), "unsupported algorithm"),
    "alg_RS512": (lambda s: _alg(s, "RS512"), "unsupported algorithm"),
    "alg_missing": (lambda s: s.sign_raw(*[jbytes(d) for d in header_and_payload(s, header_remove=["alg"])]),
                    "unsupported algorithm"),
    "hs256_public_key_pem": (_hs256_pem, "unsupported algorithm"),
    "kid_missing": (_no_kid, "malformed"),
    "kid_empty": (lambda s: s.mint(header={"kid": ""}), "malformed"),
    "kid_not_string": (lambda s: s.mint(header={"kid": 1}), "malformed"),
    "crit": (lambda s: s.mint(header={"crit": ["exp"]}), "unsupported critical header"),
    "crit_empty": (lambda s: s.mint(header={"crit": []}), "unsupported critical header"),
    "typ_mfa_preauth": (lambda s: s.mint(header={"typ": "authos-mfa-preauth+jwt"}), "unsupported token type"),
    "typ_impersonation": (lambda s: s.mint(header={"typ": "authos-impersonation+jwt"}), "unsupported token type"),
    "typ_id_jag": (lambda s: s.mint(header={"typ": "oauth-id-jag+jwt"}), "unsupported token type"),
    "typ_empty": (lambda s: s.mint(header={"typ": ""}), "unsupported token type"),
    "typ_other": (lambda s: s.mint(header={"typ": "JOSE"}), "unsupported token type"),
    "header_duplicate_keys": (_dup_header, "malformed"),
    # key (step 3) and signature (step 4)
    "kid_unknown": (lambda s: s.mint(kid="no-such-kid"), "unknown key"),
    "foreign_key_listed_kid": (lambda s: s.mint(foreign=True), "bad signature"),
    "truncated_signature": (_truncated_sig, "bad signature"),
    "extended_signature": (_extended_sig, "bad signature"),
    "flipped_signature_bit": (_flipped_sig, "bad signature"),
    # payload (step 5)
    "payload_duplicate_keys": (_dup_payload, "malformed"),
    "payload_not_object": (_payload_not_object, "malformed"),
    "exp_missing": (lambda s: s.mint(exp=REMOVE), "malformed"),
    "exp_string": (lambda s: s.mint(exp=str(now() + 3600)), "malformed"),
    "nbf_string": (lambda s: s.mint(nbf="0"), "malformed"),
    "expired_outside_skew": (lambda s: s.mint(exp_in=-120), "expired"),
    "expired_just_outside_skew": (lambda s: s.mint(exp_in=-40), "expired"),
    "nbf_future": (lambda s: s.mint(nbf=now() + 120), "not yet valid"),
    "iat_future": (lambda s: s.mint(iat=now() + 120), "issued in the future"),
    "iss_wrong": (lambda s: s.mint(iss="https://evil.example"), "wrong issuer"),
    "iss_trailing_slash": (lambda s: s.mint(iss=s.issuer + "/"), "wrong issuer"),
    "iss_missing": (lambda s: s.mint(iss=REMOVE), "wrong issuer"),
    "aud_wrong": (lambda s: s.mint(aud="service:acme/reports"), "wrong audience"),
    "aud_array_without_ours": (lambda s: s.mint(aud=["platform", "org:acme"]), "wrong audience"),
    "aud_missing": (lambda s: s.mint(aud=REMOVE), "wrong audience"),
    "sub_missing": (lambda s: s.mint(sub=REMOVE), "missing subject"),
    "sub_empty": (lambda s: s.mint(sub=""), "missing subject"),
    "sub_not_string": (lambda s: s.mint(sub=123), "missing subject"),
    "at_jwt_management_access": (lambda s: s.mint(header={"typ": "at+jwt"}), "unsupported token use"),
    "management_typ_external_use": (lambda s: s.mint(token_use="external_resource_access"),
                                    "unsupported token use"),
    "token_use_mfa_preauth": (lambda s: s.mint(token_use="mfa_preauth"), "unsupported token use"),
    "token_use_mfa_preauth_typ_jwt": (lambda s: s.mint(header={"typ": "JWT"}, token_use="mfa_preauth"),
                                      "unsupported token use"),
    "mfa_required_true": (lambda s: s.mint(mfa_required=True), "mfa required"),
    "mfa_required_string": (lambda s: s.mint(mfa_required="false"), "malformed"),
    "act_claim": (lambda s: s.mint(act={"sub": "admin-1"}), "delegated token"),
}


@pytest.mark.parametrize("case", sorted(REJECTIONS))
def test_rejection(srv, issuer, case):
    build, reason = REJECTIONS[case]
    mark = srv.log_mark()
    refused(srv, build(issuer), reason)
    line = srv.wait_for_log(r".*AUTHOS0023: token refused: ([^(]*) \(.*", since=mark, timeout=2)
    assert line is not None
    assert line.group(1) == reason
    assert "[auth_authos:info]" in line.group(0)


ACCEPTED = {
    "expired_inside_skew": lambda s: s.mint(exp_in=-10),
    "nbf_future_inside_skew": lambda s: s.mint(nbf=now() + 10),
    "iat_future_inside_skew": lambda s: s.mint(iat=now() + 10),
    "nbf_past": lambda s: s.mint(nbf=now() - 60),
    "aud_array_with_ours": lambda s: s.mint(aud=["platform", AUD]),
    "typ_absent": lambda s: s.mint(header_remove=["typ"]),
    "typ_jwt": lambda s: s.mint(header={"typ": "JWT"}),
    "typ_jwt_external_use": lambda s: s.mint(header={"typ": "JWT"}, token_use="external_resource_access"),
    "typ_application_prefix_any_case": lambda s: s.mint(header={"typ": "application/AUTHOS-Management+JWT"}),
    "at_jwt_external_resource_access": lambda s: s.mint(header={"typ": "at+jwt"},
                                                        token_use="external_resource_access"),
    "token_use_absent": lambda s: s.mint(token_use=REMOVE),
    "mfa_required_false": lambda s: s.mint(mfa_required=False),
    "exp_float": lambda s: s.mint(exp=now() + 3600.5),
    "unknown_header_fields": lambda s: s.mint(header={"x-extra": {"a": 1}}),
    "longest_allowed": _longest,
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_accepted(srv, issuer, case):
    token = ACCEPTED[case](issuer)
    assert len(token) <= 16384
    accepted(srv, token)


def test_jku_to_attacker_with_foreign_key_is_refused(srv, issuer, stub_factory):
    attacker = stub_factory()
    evil = attacker.active_key
    # The attacker's key under our kid: our key set is used, not the jku.
    token = issuer.mint(key=evil, kid=issuer.active_kid, header={"jku": attacker.jwks_url})
    refused(srv, token, "bad signature")
    # The attacker's key under a kid only the attacker's JWKS lists.
    token = issuer.mint(key=evil, kid="evil-1", header={"jku": attacker.jwks_url})
    refused(srv, token, "unknown key")
    assert attacker.requests == []


def test_x5u_and_embedded_jwk_are_ignored(srv, issuer, stub_factory):
    attacker = stub_factory()
    evil = attacker.active_key
    jwk = dict(evil.public_jwk(), kid=issuer.active_kid)
    refused(srv, issuer.mint(key=evil, kid=issuer.active_kid, header={"jwk": jwk}), "bad signature")
    refused(srv, issuer.mint(key=evil, kid=issuer.active_kid, header={"x5u": attacker.url("/cert.pem")}),
            "bad signature")
    assert attacker.requests == []


def test_valid_token_with_jku_elsewhere_uses_our_keys(srv, issuer):
    elsewhere = issuer.url("/attacker/jwks.json")
    before = issuer.count(JWKS_PATH)
    accepted(srv, issuer.mint(header={"jku": elsewhere, "x5u": issuer.url("/attacker/x.pem")}))
    time.sleep(0.2)
    assert issuer.count("/attacker/jwks.json") == 0
    assert issuer.count("/attacker/x.pem") == 0
    assert issuer.count(JWKS_PATH) == before


def test_bad_signature_never_refetches(srv, issuer):
    accepted(srv, issuer.mint())            # key set in place
    time.sleep(1.1)                         # past AuthOSJWKSMinRefetch
    before = len(issuer.requests)
    for _ in range(3):
        refused(srv, issuer.mint(foreign=True), "bad signature")
    assert len(issuer.requests) == before


def test_skew_boundaries(srv, issuer):
    accepted(srv, issuer.mint(exp_in=-10))
    refused(srv, issuer.mint(exp_in=-120), "expired")


def test_location_audience_replaces_server_audience(srv, issuer):
    accepted(srv, issuer.mint(aud="service:acme/reports"), path="/reports/hello.txt")
    refused(srv, issuer.mint(), "wrong audience", path="/reports/hello.txt")
    refused(srv, issuer.mint(aud="service:acme/reports"), "wrong audience")


def test_audience_any_accepts_token_without_aud(srv, issuer):
    accepted(srv, issuer.mint(aud=REMOVE), path="/anyaud/hello.txt")
    accepted(srv, issuer.mint(aud="platform"), path="/anyaud/hello.txt")
    # Only the audience check is off.
    refused(srv, issuer.mint(aud=REMOVE, iss="https://evil.example"), "wrong issuer",
            path="/anyaud/hello.txt")


# -------------------------------------------------------------- token source
def test_token_in_query_string_is_ignored(srv, issuer):
    token = issuer.mint()
    for query in ("access_token", "token", "authorization"):
        r = srv.get(PROTECTED + "?%s=%s" % (query, token))
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == NO_TOKEN


def test_cookie_token(srv, issuer):
    token = issuer.mint()
    r = srv.get("/cookie/hello.txt", headers={"Cookie": "other=1; authos_at=" + token})
    assert r.status_code == 200
    r = srv.get("/cookie/hello.txt", headers={"Cookie": "authos_at=" + issuer.mint(exp_in=-3600)})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == invalid("expired")
    # Another cookie name, or a location without AuthOSTokenCookie: no token.
    r = srv.get("/cookie/hello.txt", headers={"Cookie": "authos_token=" + token})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == NO_TOKEN
    r = srv.get(PROTECTED, headers={"Cookie": "authos_at=" + token})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == NO_TOKEN


def test_authorization_header_preferred_over_cookie(srv, issuer):
    good, bad = issuer.mint(), issuer.mint(exp_in=-3600)
    r = srv.get("/cookie/hello.txt", token=bad, headers={"Cookie": "authos_at=" + good})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == invalid("expired")
    r = srv.get("/cookie/hello.txt", token=good, headers={"Cookie": "authos_at=" + bad})
    assert r.status_code == 200


def test_two_authorization_headers_are_malformed(srv, issuer):
    good = issuer.mint()
    status, challenge = raw_get(srv, PROTECTED, [("Authorization", "Bearer " + good),
                                                 ("Authorization", "Bearer " + good)])
    assert status == 401
    assert challenge == invalid("malformed")
    status, challenge = raw_get(srv, PROTECTED, [("Authorization", "Bearer " + good)])
    assert status == 200


def test_platform_owner_needs_json_true(srv, issuer):
    r = srv.get("/owner/hello.txt", token=issuer.mint(is_platform_owner="true"))
    assert r.status_code == 403
    assert r.headers["WWW-Authenticate"] == INSUFFICIENT
    r = srv.get("/owner/hello.txt", token=issuer.mint(is_platform_owner=True))
    assert r.status_code == 200


# ------------------------------------------------------------------ exports
def test_remote_user_defaults_to_sub(srv, issuer):
    r, env = srv.cgi_env("/cgi-bin/env.py", token=issuer.mint(sub="user-42"))
    assert r.status_code == 200
    assert env["REMOTE_USER"] == "user-42"
    assert env["AUTH_TYPE"] == "authos"


def test_remote_user_claim_email(srv, issuer):
    r, env = srv.cgi_env("/email-cgi/env.py", token=issuer.mint(sub="user-42", email="bob@example.com"))
    assert r.status_code == 200
    assert env["REMOTE_USER"] == "bob@example.com"
    assert env["AUTHOS_SUB"] == "user-42"


@pytest.mark.parametrize("email", [REMOVE, "", 7])
def test_remote_user_claim_missing(srv, issuer, email):
    refused(srv, issuer.mint(email=email), "missing user claim", path="/email-cgi/env.py")
    # The same token is fine where REMOTE_USER comes from sub.
    accepted(srv, issuer.mint(email=email), path="/cgi-bin/env.py")


# ---------------------------------------------------------------- logging
def test_refusal_log_line_names_reason_kid_and_sub(srv, issuer):
    mark = srv.log_mark()
    token = issuer.mint(exp_in=-3600, sub="user-77")
    refused(srv, token, "expired")
    line = srv.wait_for_log(r"[^\n]*AUTHOS0023:[^\n]*", since=mark, timeout=2).group(0)
    assert "[auth_authos:info]" in line
    assert "token refused: expired (" in line
    assert "kid=%s" % issuer.active_kid in line
    assert "sub=user-77" in line
    assert "client=127.0.0.1" in line
    assert token.rsplit(".", 1)[1] not in srv.error_log()


def test_refusal_log_line_without_known_sub(srv, issuer):
    mark = srv.log_mark()
    refused(srv, issuer.mint(foreign=True, sub="user-88"), "bad signature")
    line = srv.wait_for_log(r"[^\n]*AUTHOS0023:[^\n]*", since=mark, timeout=2).group(0)
    assert "token refused: bad signature (" in line
    # The payload of an unverified token is never trusted, not even for the log.
    assert "sub=-" in line and "user-88" not in line


# httpd's own dump of the request headers at http:trace4 (http_request.c), which
# shows every header a client sent, Authorization and Cookie included: not the
# module's doing, and the reason trace4 and up are not for production.
HTTPD_HEADER_DUMP = re.compile(r"\[http:trace4\] .* http_request\.c\(\d+\): \[client [^]]*\]   "
                               r"(Authorization|Cookie): ")


def test_token_never_in_error_log_at_trace8(apache_factory, stub):
    server = apache_factory(
        SERVER_CONF.format(base=stub.base_url, dead=DEAD_PORT), log_level="trace8")
    server.allow_log(r"AUTHOS0006:", r"AUTHOS0022:")
    marker = "tracemarker" + "Q" * 20
    tokens = {
        "valid": stub.mint(email=marker + "@example.com"),
        "expired": stub.mint(exp_in=-3600, jti=marker),
        "foreign": stub.mint(foreign=True, jti=marker),
        "unknown_kid": stub.mint(kid="kid-unknown-1", jti=marker),
        "wrong_aud": stub.mint(aud="service:" + marker),
        "alg_none": _alg(stub, "none"),
        "hs256": stub.mint_hs256(jti=marker),
        "dup_payload": _dup_payload(stub),
        "too_long": stub.mint(filler=marker * 700),
        "missing_user_claim": stub.mint(email=REMOVE, jti=marker),
    }
    for name, token in tokens.items():
        # The user-claim case is refused only where REMOTE_USER comes from email.
        plain = 200 if name in ("valid", "missing_user_claim") else 401
        email = 200 if name == "valid" else 401
        assert server.get(PROTECTED, token=token).status_code == plain, name
        assert server.get("/email-cgi/env.py", token=token).status_code == email, name
        r = server.get("/cookie/hello.txt", headers={"Cookie": "authos_at=" + token})
        assert r.status_code == plain, name
    assert server.get("/down/hello.txt", token=tokens["valid"]).status_code == 503
    log = server.error_log()
    assert re.search(r"\[auth_authos:info\].*AUTHOS0023: token refused", log)
    assert re.search(r"\[auth_authos:debug\].*AUTHOS0024: token accepted", log)
    assert "Setting LogLevel for all modules to trace8" in log
    pieces = ["tracemarker"]
    for token in tokens.values():
        header, payload, signature = token.split(".")
        pieces += [token, payload, signature]
        pieces += [signature[i:i + 32] for i in range(0, len(signature) - 32, 32)]
    dumps = 0
    for line in log.splitlines():
        if HTTPD_HEADER_DUMP.search(line):
            dumps += 1
            continue
        leaked = [p for p in pieces if p in line]
        assert not leaked, "token material in the error log: " + line[:300]
    assert dumps >= len(tokens)

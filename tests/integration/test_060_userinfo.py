"""Permissions and session liveness from AuthOS's /api/user (SPEC sections 4 and 6).

Current AuthOS tokens carry no `permissions` claim: `Require authos-permission`
asks `GET {base}/api/user` with the user's own token (AuthOSPermissionSource
auto/api), caches the answer per token (by its SHA-256) for AuthOSUserInfoTTL
across all processes, and fails closed (503 + Retry-After) when AuthOS cannot
answer. AuthOSSessionCheck On confirms the session on every request the same way.
"""

import concurrent.futures
import time

import pytest

AUD = "service:acme/billing"
USER = "/api/user"
SCOPE = 'Bearer realm="t", error="insufficient_scope"'
REVOKED = 'Bearer realm="t", error="invalid_token", error_description="session revoked"'


def conf(stub, *, source=None, ttl=None, session=None, timeout=None, require=None):
    lines = ["AuthOSBaseURL %s" % stub.base_url, "AuthOSAllowHTTP On",
             "AuthOSAudience %s" % AUD]
    if source:
        lines.append("AuthOSPermissionSource %s" % source)
    if ttl is not None:
        lines.append("AuthOSUserInfoTTL %d" % ttl)
    if session:
        lines.append("AuthOSSessionCheck %s" % session)
    if timeout:
        lines.append("AuthOSHTTPTimeout %d" % timeout)
    lines += ['ScriptAlias /t/ "@ROOT@/cgi-bin/"',
              "<Location /t/>", "    AuthType authos", "    AuthName t",
              "    AuthzSendForbiddenOnFailure On",
              "    %s" % (require or "Require authos-permission billing.manage"),
              "</Location>"]
    return "\n".join(lines) + "\n"


def get(server, token):
    return server.get("/t/env.py", token=token)


def env_of(r):
    assert r.status_code == 200, (r.status_code, r.headers, r.text[:300])
    return r.json()["env"]


# ------------------------------------------------------------- sources
def test_api_permissions_grant_and_deny(apache_factory, stub):
    server = apache_factory(conf(stub))
    stub.set_permissions("alice", ["billing.read", "billing.manage"])
    stub.set_permissions("bob", ["billing.read"])
    env = env_of(get(server, stub.mint(sub="alice")))
    assert env["AUTHOS_PERMISSIONS"] == "billing.read billing.manage"
    r = get(server, stub.mint(sub="bob"))
    assert r.status_code == 403
    assert r.headers["WWW-Authenticate"] == SCOPE
    assert stub.count(USER) == 2


def test_api_call_sends_the_users_own_token(apache_factory, stub):
    server = apache_factory(conf(stub))
    stub.set_permissions("alice", ["billing.manage"])
    token = stub.mint(sub="alice")
    env_of(get(server, token))
    calls = [q for q in stub.requests if q["path"] == USER]
    assert len(calls) == 1
    headers = {k.lower(): v for k, v in calls[0]["headers"].items()}
    assert headers["authorization"] == "Bearer " + token


def test_auto_uses_a_permissions_claim_without_calling(apache_factory, stub):
    server = apache_factory(conf(stub))
    stub.set_permissions("user-123", [])
    env = env_of(get(server, stub.mint(permissions=["billing.manage"])))
    assert env["AUTHOS_PERMISSIONS"] == "billing.manage"
    # A present but empty claim is used too (SPEC section 6): denied, no call.
    assert get(server, stub.mint(permissions=[])).status_code == 403
    assert stub.count(USER) == 0


def test_claim_mode_never_calls(apache_factory, stub):
    server = apache_factory(conf(stub, source="claim"))
    stub.set_permissions("user-123", ["billing.manage"])
    assert get(server, stub.mint()).status_code == 403
    env_of(get(server, stub.mint(permissions=["billing.manage"])))
    assert stub.count(USER) == 0


def test_api_mode_ignores_the_claim(apache_factory, stub):
    server = apache_factory(conf(stub, source="api"))
    stub.set_permissions("user-123", [])
    assert get(server, stub.mint(permissions=["billing.manage"])).status_code == 403
    stub.set_permissions("carol", ["billing.manage"])
    env = env_of(get(server, stub.mint(sub="carol", permissions=["other"])))
    assert env["AUTHOS_PERMISSIONS"] == "billing.manage"
    assert stub.count(USER) == 2


def test_no_call_when_no_require_line_needs_it(apache_factory, stub):
    server = apache_factory(conf(stub, require="Require authos-service billing"))
    env = env_of(get(server, stub.mint()))
    assert "AUTHOS_PERMISSIONS" not in env
    assert stub.count(USER) == 0


def test_external_resource_tokens_are_not_sent_to_the_api(apache_factory, stub):
    server = apache_factory(conf(stub, session="On"))
    token = stub.mint(header={"typ": "at+jwt"}, token_use="external_resource_access",
                      permissions=["billing.manage"])
    env_of(get(server, token))
    assert get(server, stub.mint(header={"typ": "at+jwt"},
                                 token_use="external_resource_access")).status_code == 403
    assert stub.count(USER) == 0


# ------------------------------------------------------------- caching
def test_ttl_is_honoured(apache_factory, stub):
    server = apache_factory(conf(stub, ttl=2))
    stub.set_permissions("user-123", ["billing.manage"])
    token = stub.mint()
    env_of(get(server, token))
    env_of(get(server, token))
    assert stub.count(USER) == 1
    time.sleep(2.3)
    env_of(get(server, token))
    assert stub.count(USER) == 2


def test_cache_is_per_token(apache_factory, stub):
    server = apache_factory(conf(stub))
    stub.set_permissions("user-123", ["billing.manage"])
    env_of(get(server, stub.mint()))
    env_of(get(server, stub.mint()))
    assert stub.count(USER) == 2


def test_concurrent_requests_with_one_new_token_make_one_call(apache_factory, stub):
    server = apache_factory(conf(stub, timeout=5))
    stub.set_permissions("user-123", ["billing.manage"])
    stub.set_mode(USER, "slow", seconds=0.5)
    token = stub.mint()
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(lambda _: get(server, token).status_code, range(50)))
    assert codes == [200] * 50
    assert 1 <= stub.count(USER) <= 2


# ------------------------------------------------------------- fail closed
@pytest.mark.allow_log(r"AUTHOS0053:")
@pytest.mark.parametrize("mode", ["500", "garbage", "404"])
def test_bad_answers_fail_closed(apache_factory, stub, mode):
    server = apache_factory(conf(stub))
    stub.set_permissions("user-123", ["billing.manage"])
    stub.set_mode(USER, mode)
    r = get(server, stub.mint())
    assert r.status_code == 503
    assert int(r.headers["Retry-After"]) > 0
    assert "AUTHOS0053" in server.error_log()
    # Nothing was cached: once AuthOS answers again, so do we.
    stub.set_mode(USER, "ok")
    env_of(get(server, stub.mint()))


@pytest.mark.allow_log(r"AUTHOS0053:")
def test_slow_api_fails_closed_within_the_timeout(apache_factory, stub):
    server = apache_factory(conf(stub, timeout=1))
    stub.set_permissions("user-123", ["billing.manage"])
    stub.set_mode(USER, "slow", seconds=4)
    start = time.monotonic()
    r = get(server, stub.mint())
    elapsed = time.monotonic() - start
    assert r.status_code == 503
    assert "Retry-After" in r.headers
    assert elapsed < 3, elapsed
    assert "timeout" in server.error_log().lower()


@pytest.mark.allow_log(r"AUTHOS0053:")
def test_issuer_down_fails_closed(apache_factory, stub):
    server = apache_factory(conf(stub))
    token = stub.mint()
    env_of(server.get("/t/env.py", token=stub.mint(permissions=["billing.manage"])))
    stub.stop()
    r = get(server, token)
    assert r.status_code == 503
    assert "Retry-After" in r.headers


def test_api_401_means_session_revoked(apache_factory, stub):
    server = apache_factory(conf(stub))
    stub.revoke(sub="user-123")
    r = get(server, stub.mint())
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == REVOKED
    assert "session revoked" in server.error_log()


# ------------------------------------------------------------- sessions
def test_session_check_sees_logout_within_the_ttl(apache_factory, stub):
    server = apache_factory(conf(stub, ttl=2, session="On",
                                 require="Require authos-service billing"))
    token = stub.mint()
    env_of(get(server, token))
    assert stub.count(USER) == 1
    out = stub_logout(stub, token)
    assert out == 200
    # Within the TTL the cached answer still stands.
    env_of(get(server, token))
    time.sleep(2.3)
    r = get(server, token)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == REVOKED
    assert stub.count(USER) == 2


def test_session_check_off_never_calls(apache_factory, stub):
    server = apache_factory(conf(stub, require="Require authos-service billing"))
    token = stub.mint()
    stub_logout(stub, token)
    env_of(get(server, token))
    assert stub.count(USER) == 0


def stub_logout(stub, token):
    import requests
    return requests.post(stub.url("/api/auth/logout"),
                         headers={"Authorization": "Bearer " + token}, timeout=5).status_code


# ------------------------------------------------------------- config
def test_bad_permission_source_is_a_config_error(apache_factory, stub):
    server = apache_factory("", start=False)
    rc, out = server.config_test(conf(stub, source="sometimes"))
    assert rc != 0
    assert "AuthOSPermissionSource" in out and "auto, claim, api" in out


def test_api_mode_needs_a_base_url(apache_factory, stub, tmp_path):
    jwks = tmp_path / "jwks.json"
    stub.write_jwks_file(str(jwks))
    server = apache_factory("", start=False)
    rc, out = server.config_test(
        "AuthOSJWKSFile %s\nAuthOSIssuer %s\nAuthOSAudience %s\nAuthOSPermissionSource api\n"
        "<Location /t/>\n AuthType authos\n Require authos-permission x\n</Location>\n"
        % (jwks, stub.issuer, AUD))
    assert rc != 0
    assert "AUTHOS0040" in out and "need AuthOSBaseURL" in out


def test_userinfo_directives_are_refused_in_htaccess(apache_factory, stub):
    server = apache_factory(
        "AuthOSBaseURL %s\nAuthOSAllowHTTP On\nAuthOSAudience %s\n" % (stub.base_url, AUD),
        files={"htdocs/x/.htaccess": "AuthOSSessionCheck On\n",
               "htdocs/x/a.txt": "a\n"})
    server.allow_log(r"not allowed here")
    assert server.get("/x/a.txt").status_code == 500

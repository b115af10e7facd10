"""The verified-token cache (SPEC section 9, AuthOSTokenCache).

A repeat request with the same token skips the RS256 check (the debug line
AUTHOS0024 then says "(verified-token cache)"), while every claim check runs
again on each hit and an entry is used only while the key that verified it is
still listed. Refused tokens are never cached.
"""

import re
import time

import requests

AUD = "service:acme/billing"
CACHED = "(verified-token cache)"
ACCEPTED = re.compile(r"AUTHOS0024: token accepted: [^\n]*")


def conf(stub, extra=""):
    return """
AuthOSBaseURL %s
AuthOSAllowHTTP On
AuthOSAudience %s
AuthOSJWKSMinRefetch 1
%s
<Location /protected>
    AuthType authos
    AuthName t
    Require valid-user
</Location>
Alias /reports/ "@ROOT@/htdocs/protected/"
<Location /reports/>
    AuthType authos
    AuthName t
    AuthOSAudience service:acme/reports
    Require valid-user
</Location>
""" % (stub.base_url, AUD, extra)


def accepted_lines(server, mark):
    return ACCEPTED.findall(server.error_log_since(mark))


def start(apache_factory, stub, extra=""):
    return apache_factory(conf(stub, extra), log_level="warn auth_authos:debug")


def test_repeat_request_is_served_from_the_cache(apache_factory, stub):
    server = start(apache_factory, stub)
    token = stub.mint()
    mark = server.log_mark()
    # One keep-alive connection: one process, which verifies the token once.
    with requests.Session() as session:
        for _ in range(6):
            r = session.get(server.url("/protected/hello.txt"),
                            headers={"Authorization": "Bearer " + token}, timeout=10)
            assert r.status_code == 200
    lines = accepted_lines(server, mark)
    assert len(lines) == 6
    assert CACHED not in lines[0]
    assert all(CACHED in line for line in lines[1:]), lines


def test_cache_off_verifies_every_time(apache_factory, stub):
    server = start(apache_factory, stub, "AuthOSTokenCache 0")
    token = stub.mint()
    mark = server.log_mark()
    for _ in range(4):
        assert server.get("/protected/hello.txt", token=token).status_code == 200
    lines = accepted_lines(server, mark)
    assert len(lines) == 4 and not any(CACHED in line for line in lines)


def test_full_cache_keeps_the_token_in_use(apache_factory, stub):
    # AuthOSTokenCache 4 is one set of four: the fifth token evicts the least
    # recently used entry, not the token in use, although that one expires first.
    server = start(apache_factory, stub, "AuthOSTokenCache 4")
    in_use = stub.mint(exp_in=600)
    others = [stub.mint(exp_in=3600) for _ in range(4)]
    sequence = [in_use, others[0], others[1], others[2], in_use, others[3], in_use, others[0]]
    mark = server.log_mark()
    with requests.Session() as session:   # one connection: one process, one cache
        for token in sequence:
            r = session.get(server.url("/protected/hello.txt"),
                            headers={"Authorization": "Bearer " + token}, timeout=10)
            assert r.status_code == 200
    served = [CACHED in line for line in accepted_lines(server, mark)]
    assert served == [False, False, False, False, True, False, True, False], served


def test_expiry_is_rechecked_on_every_hit(apache_factory, stub):
    server = start(apache_factory, stub, "AuthOSClockSkew 0")
    token = stub.mint(exp_in=2)
    for _ in range(4):
        assert server.get("/protected/hello.txt", token=token).status_code == 200
    time.sleep(3.1)
    r = server.get("/protected/hello.txt", token=token)
    assert r.status_code == 401
    assert 'error_description="expired"' in r.headers["WWW-Authenticate"]


def test_claim_rules_of_each_location_apply_to_cached_tokens(apache_factory, stub):
    server = start(apache_factory, stub)
    token = stub.mint()
    for _ in range(4):
        assert server.get("/protected/hello.txt", token=token).status_code == 200
    r = server.get("/reports/hello.txt", token=token)
    assert r.status_code == 401
    assert 'error_description="wrong audience"' in r.headers["WWW-Authenticate"]


def test_refused_tokens_are_not_cached(apache_factory, stub):
    server = start(apache_factory, stub)
    token = stub.mint(aud="service:acme/reports")
    for _ in range(3):
        assert server.get("/protected/hello.txt", token=token).status_code == 401
    mark = server.log_mark()
    # The same token is fine where its audience is accepted, and is verified
    # there in full: nothing was cached while it was being refused.
    assert server.get("/reports/hello.txt", token=token).status_code == 200
    lines = accepted_lines(server, mark)
    assert len(lines) == 1 and CACHED not in lines[0]


def test_entry_dies_with_the_key_that_verified_it(apache_factory, stub):
    server = start(apache_factory, stub, "AuthOSJWKSRefresh 2")
    old_kid = stub.active_kid
    token = stub.mint()
    for _ in range(4):
        assert server.get("/protected/hello.txt", token=token).status_code == 200
    stub.rotate()
    stub.remove_key(old_kid)
    before = stub.count("/.well-known/jwks.json")
    deadline = time.monotonic() + 6
    while stub.count("/.well-known/jwks.json") == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stub.count("/.well-known/jwks.json") > before, "the key set was not refreshed"
    time.sleep(0.3)
    for _ in range(4):
        r = server.get("/protected/hello.txt", token=token)
        assert r.status_code == 401
        assert 'error_description="unknown key"' in r.headers["WWW-Authenticate"]
    assert server.get("/protected/hello.txt", token=stub.mint()).status_code == 200


def test_same_kid_with_another_key_is_not_trusted(apache_factory, stub):
    server = start(apache_factory, stub, "AuthOSJWKSRefresh 2")
    token = stub.mint()
    for _ in range(4):
        assert server.get("/protected/hello.txt", token=token).status_code == 200
    # AuthOS replaces the key behind the same kid: cached verifications made
    # with the old key must not survive.
    kid = stub.active_kid
    stub.remove_key(kid)
    stub.rotate(kid=kid)
    before = stub.count("/.well-known/jwks.json")
    deadline = time.monotonic() + 6
    while stub.count("/.well-known/jwks.json") == before and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.3)
    r = server.get("/protected/hello.txt", token=token)
    assert r.status_code == 401
    assert 'error_description="bad signature"' in r.headers["WWW-Authenticate"]
    assert server.get("/protected/hello.txt", token=stub.mint()).status_code == 200


def test_token_cache_is_a_server_setting(apache_factory, stub):
    server = apache_factory("", start=False)
    rc, out = server.config_test(conf(stub).replace(
        "    Require valid-user", "    Require valid-user\n    AuthOSTokenCache 10"))
    assert rc != 0 and "AuthOSTokenCache not allowed in <Location>" in out
    for bad in ("-1", "many", "4000001"):
        rc, out = server.config_test(conf(stub, "AuthOSTokenCache %s" % bad))
        assert rc != 0 and "AuthOSTokenCache" in out, bad
    rc, out = server.config_test(conf(stub, "<VirtualHost 127.0.0.1:1>\nAuthOSTokenCache 0\n"
                                            "</VirtualHost>\nAuthOSTokenCache 100"))
    assert rc == 0, out

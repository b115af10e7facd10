"""The key set cache against a real Apache and the stub issuer (SPEC section 8,
first part): discovery, the three trust sources, fetch on first use, one
shared key set across processes, rotation, the unknown-kid refetch and its
throttle, stale-if-error up to AuthOSJWKSMaxStale, bad answers, the fetch time
limit and Cache-Control.

Every test starts its own Apache and stub so the stub's request counts are the
module's fetches and nothing else.

Refreshes happen off the request path (issue 4): mod_watchdog (built into
Debian's apache2) refreshes a key set a request has fetched a tenth of its
lifetime early, and a request that finds one due starts a background refresh
and is served from the cache.  So a test of a refresh waits (with a tight
bound) for the fetch to happen, then asserts its exact outcome; its failure is
logged by whichever thread fetched, asynchronously.
"""

import json
import os
import re
import time
import uuid

import pytest

from authos_stub import JWKS_PATH, METADATA_PATH, OIDC_PATH
from keyset_helpers import get, ok, parallel, sleep_until, wait_until
from keyset_helpers import protected_conf as conf

FETCH_FAILED = r"\[auth_authos:warn\].*AUTHOS0006: key set fetch for "
NO_KEYSET = r"\[auth_authos:error\].*AUTHOS0022: no usable key set"


def base_url_conf(stub, extra="AuthOSJWKSMinRefetch 1"):
    return conf("AuthOSBaseURL %s" % stub.base_url, extra)


def refused(server, token, reason):
    r = get(server, token)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == (
        'Bearer realm="billing", error="invalid_token", error_description="%s"' % reason)
    return r


def unavailable(server, token):
    """Assert 503 with a Retry-After of whole seconds and no challenge."""
    r = get(server, token)
    assert r.status_code == 503, (r.status_code, r.headers.get("WWW-Authenticate"))
    assert re.fullmatch(r"[1-9][0-9]*", r.headers.get("Retry-After", "")), r.headers
    assert "WWW-Authenticate" not in r.headers
    return r


def fetch_paths(stub):
    """The well-known paths the stub was asked for, in order."""
    return [e["path"] for e in list(stub.requests) if e["path"].startswith("/.well-known/")]


def fetched_count(server, mark):
    """Key sets stored (AUTHOS0007 lines) since the log mark."""
    return server.error_log_since(mark).count("AUTHOS0007: ")


def write_jwks_atomically(stub, path):
    """Replace the JWKS file in one rename, so a background re-read never sees half of it."""
    stub.write_jwks_file(str(path) + ".tmp")
    os.replace(str(path) + ".tmp", str(path))


# ---------------------------------------------------------------- sources
def test_discovery_via_authos_configuration(apache_factory, stub):
    server = apache_factory(base_url_conf(stub))
    assert stub.requests == []                    # nothing fetched at startup
    mark = server.log_mark()
    ok(server, stub.mint())
    assert fetch_paths(stub) == [METADATA_PATH, JWKS_PATH]
    assert server.wait_for_log(r"AUTHOS0007: key set of %s fetched from %s: 1 usable key"
                               % (re.escape(stub.base_url), re.escape(stub.jwks_url)), since=mark)
    for _ in range(5):
        ok(server, stub.mint())
    assert fetch_paths(stub) == [METADATA_PATH, JWKS_PATH]
    assert "User-Agent" in stub.requests[0]["headers"]
    assert stub.requests[0]["headers"]["User-Agent"].startswith("mod_auth_authos/")


def test_discovery_falls_back_to_openid_configuration_then_jwks_json(apache_factory, stub):
    stub.set_mode(METADATA_PATH, "404")
    server = apache_factory(base_url_conf(stub))
    ok(server, stub.mint())
    assert fetch_paths(stub) == [METADATA_PATH, OIDC_PATH, JWKS_PATH]
    assert (stub.count(METADATA_PATH), stub.count(OIDC_PATH), stub.count(JWKS_PATH)) == (1, 1, 1)
    ok(server, stub.mint())
    assert len(fetch_paths(stub)) == 3


def test_discovery_uses_openid_configuration_jwks_uri(apache_factory, stub):
    stub.set_mode(METADATA_PATH, "404")
    stub.set_openid_configuration(True)
    stub.set_metadata(jwks_uri=stub.jwks_url + "?from=openid")
    server = apache_factory(base_url_conf(stub))
    ok(server, stub.mint())
    assert fetch_paths(stub) == [METADATA_PATH, OIDC_PATH, JWKS_PATH]
    assert stub.requests[-1]["query"] == "from=openid"


def test_discovered_jwks_uri_is_remembered(apache_factory, stub):
    server = apache_factory(base_url_conf(stub, "AuthOSJWKSMinRefetch 1\nAuthOSJWKSRefresh 1"))
    ok(server, stub.mint())
    # Two background refreshes (one per second or two): straight to the jwks_uri.
    assert wait_until(lambda: stub.count(JWKS_PATH) >= 3, 5.0), fetch_paths(stub)
    ok(server, stub.mint())
    assert fetch_paths(stub)[:4] == [METADATA_PATH, JWKS_PATH, JWKS_PATH, JWKS_PATH]
    assert stub.count(METADATA_PATH) == 1


def test_jwks_url_skips_discovery(apache_factory, stub):
    server = apache_factory(conf("AuthOSJWKSURL %s\nAuthOSIssuer %s" % (stub.jwks_url, stub.issuer),
                                 "AuthOSJWKSMinRefetch 1"))
    ok(server, stub.mint())
    assert fetch_paths(stub) == [JWKS_PATH]
    assert stub.count(METADATA_PATH) == 0 and stub.count(OIDC_PATH) == 0


def test_jwks_file_works_without_network(apache_factory, stub):
    server = apache_factory(conf('AuthOSJWKSFile "@ROOT@/conf/jwks.json"\nAuthOSIssuer %s' % stub.issuer,
                                 "AuthOSJWKSMinRefetch 1\nAuthOSJWKSRefresh 1"), start=False)
    jwks_file = server.root / "conf" / "jwks.json"
    stub.write_jwks_file(str(jwks_file))
    stub.stop()                                   # no issuer at all from here on
    server.start()
    ok(server, stub.mint())
    refused(server, stub.mint(foreign=True), "bad signature")
    refused(server, stub.mint(iss="https://evil.example"), "wrong issuer")
    # The file is re-read at refresh time (in the background, every second or
    # two here): a rotation written to it is picked up.
    old = stub.mint()
    new_key = stub.rotate()
    mark = server.log_mark()
    write_jwks_atomically(stub, jwks_file)
    # The second re-read after the mark surely started after the write.
    assert wait_until(lambda: fetched_count(server, mark) >= 2, 5.0), server.error_log_since(mark)
    ok(server, stub.mint(kid=new_key.kid))
    ok(server, old)
    assert re.search(r"AUTHOS0007: key set of \S+jwks.json fetched from \S+jwks.json: 2 usable key",
                     server.error_log_since(mark))
    assert stub.requests == []


def test_metadata_issuer_mismatch_is_logged(apache_factory, stub):
    stub.set_metadata_issuer("https://sso.other.example")
    server = apache_factory(base_url_conf(stub))
    server.allow_log(r"AUTHOS0008:")
    mark = server.log_mark()
    ok(server, stub.mint())
    line = server.wait_for_log(r"[^\n]*AUTHOS0008:[^\n]*", since=mark)
    assert line is not None
    assert "[auth_authos:warn]" in line.group(0)
    assert "'https://sso.other.example'" in line.group(0)
    assert "'%s'" % stub.issuer in line.group(0)
    # Tokens must still carry the configured issuer, not the metadata's.
    refused(server, stub.mint(iss="https://sso.other.example"), "wrong issuer")


def test_matching_metadata_issuer_is_not_logged(apache_factory, stub):
    server = apache_factory(base_url_conf(stub))
    ok(server, stub.mint())
    assert "AUTHOS0008" not in server.error_log()


# ---------------------------------------------------- availability and sharing
def test_issuer_down_at_startup_then_recovers(apache_factory, stub):
    stub.stop()
    server = apache_factory(base_url_conf(stub))
    server.allow_log(FETCH_FAILED + r".*connection refused", NO_KEYSET)
    token = stub.mint()
    start = time.time()
    r = unavailable(server, token)
    assert int(r.headers["Retry-After"]) == 1          # AuthOSJWKSMinRefetch 1
    assert re.search(FETCH_FAILED + "AuthOSBaseURL %s failed: metadata: connection refused$"
                     % re.escape(stub.base_url), server.error_log(), re.M)
    assert re.search(NO_KEYSET, server.error_log())
    # Back up, but within AuthOSJWKSMinRefetch of the failed attempt: no new fetch.
    stub.start()
    unavailable(server, token)
    assert time.time() - start < 0.9, "too slow to test the throttle"
    assert stub.requests == []
    sleep_until(start + 1.1)
    ok(server, token)
    assert fetch_paths(stub) == [METADATA_PATH, JWKS_PATH]


def test_one_fetch_for_many_requests_across_processes(apache_factory, stub, apache_mpm):
    server = apache_factory(base_url_conf(stub), log_level="warn auth_authos:debug")
    tokens = [stub.mint() for _ in range(40)]
    responses = parallel(server, tokens, connections=8)
    assert [r.status_code for r in responses] == [200] * 40
    assert stub.count(METADATA_PATH) == 1
    assert stub.count(JWKS_PATH) == 1
    pids = set(re.findall(r"\[pid (\d+)(?::tid \d+)?\][^\n]*AUTHOS0024: token accepted", server.error_log()))
    if apache_mpm == "prefork":
        assert len(pids) >= 4, pids
    # And again later, still from the shared key set.
    responses = parallel(server, [stub.mint() for _ in range(16)], connections=8)
    assert [r.status_code for r in responses] == [200] * 16
    assert stub.count(JWKS_PATH) == 1


def test_key_rotation_without_restart(apache_factory, stub):
    server = apache_factory(base_url_conf(stub))
    old_token = stub.mint()
    ok(server, old_token)
    assert stub.count(JWKS_PATH) == 1
    time.sleep(1.1)                               # past AuthOSJWKSMinRefetch
    new_key = stub.rotate()
    assert stub.listed_kids == [new_key.kid, "k1"]
    ok(server, stub.mint())                       # unknown kid: one refetch, then accepted
    assert stub.count(JWKS_PATH) == 2
    ok(server, old_token)                         # the old key is still listed
    ok(server, stub.mint(kid="k1"))
    for _ in range(5):
        ok(server, stub.mint())
    assert stub.count(JWKS_PATH) == 2


def test_removed_key_stops_verifying_after_refresh(apache_factory, stub):
    # MinRefetch 2: for two seconds after the refresh nothing may fetch again,
    # so the requests below are answered from exactly that key set.
    server = apache_factory(base_url_conf(stub, "AuthOSJWKSMinRefetch 2\nAuthOSJWKSRefresh 2"))
    old_token = stub.mint()
    ok(server, old_token)
    mark = server.log_mark()
    new_key = stub.rotate()
    stub.remove_key("k1")
    ok(server, old_token)                         # not refreshed yet: still k1's set
    assert stub.count(JWKS_PATH) == 1
    # The refresh comes by itself (ahead of refresh time, plus a watchdog tick).
    assert wait_until(lambda: fetched_count(server, mark) >= 1, 3.5), server.error_log_since(mark)
    refresh_seen = time.time()
    assert stub.count(JWKS_PATH) == 2
    refused(server, old_token, "unknown key")     # the refresh dropped k1
    ok(server, stub.mint(kid=new_key.kid))
    refused(server, stub.mint(kid="k1"), "unknown key")
    assert time.time() - refresh_seen < 1.5, "too slow to test within AuthOSJWKSMinRefetch"
    assert stub.count(JWKS_PATH) == 2


def test_removed_key_stops_verifying_via_unknown_kid_refetch(apache_factory, stub):
    server = apache_factory(base_url_conf(stub))
    old_token = stub.mint()
    ok(server, old_token)
    new_key = stub.rotate()
    stub.remove_key("k1")
    time.sleep(1.1)
    ok(server, stub.mint(kid=new_key.kid))        # unknown kid: refetch brings the new set
    assert stub.count(JWKS_PATH) == 2
    refused(server, old_token, "unknown key")


def test_unknown_kid_flood_costs_at_most_one_fetch(apache_factory, stub):
    server = apache_factory(base_url_conf(stub, "AuthOSJWKSMinRefetch 2"))
    ok(server, stub.mint())
    assert stub.count(JWKS_PATH) == 1
    time.sleep(2.1)                               # a refetch is allowed again
    flood = [stub.mint(kid="rnd-" + uuid.uuid4().hex) for _ in range(30)]
    start = time.time()
    responses = parallel(server, flood, connections=6)
    assert time.time() - start < 1.5, "flood took longer than the throttle window"
    for r in responses:
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].endswith('error_description="unknown key"')
    assert stub.count(JWKS_PATH) == 2             # exactly one extra fetch
    ok(server, stub.mint())
    assert stub.count(JWKS_PATH) == 2


def test_unknown_kid_flood_before_any_key_set(apache_factory, stub):
    server = apache_factory(base_url_conf(stub, "AuthOSJWKSMinRefetch 60"))
    flood = [stub.mint(kid="rnd-" + uuid.uuid4().hex) for _ in range(30)]
    responses = parallel(server, flood, connections=6)
    assert {r.status_code for r in responses} == {401}
    assert stub.count(JWKS_PATH) == 1
    ok(server, stub.mint())
    assert stub.count(JWKS_PATH) == 1


@pytest.mark.allow_log(FETCH_FAILED)
def test_failed_fetch_keeps_old_keys(apache_factory, stub):
    server = apache_factory(base_url_conf(stub, "AuthOSJWKSMinRefetch 1\nAuthOSJWKSRefresh 1"))
    failed = FETCH_FAILED + "AuthOSBaseURL %s failed: " % re.escape(stub.base_url)
    token = stub.mint()
    ok(server, token)

    def stop_issuer():
        stub.stop()
        stub.clear_modes()

    # Each fault replaces the previous one without a moment of "ok" in
    # between: after the first failure the discovered jwks_uri is forgotten,
    # so the metadata faults are met by the rediscovery.
    faults = [
        (lambda: stub.set_mode(JWKS_PATH, "500"), "JWKS answered HTTP 500"),
        (lambda: stub.set_mode(JWKS_PATH, "garbage"), "bad JWKS: not a JSON object"),
        (lambda: stub.set_mode(JWKS_PATH, "empty_keys"), "bad JWKS: no usable RS256 key"),
        (lambda: (stub.set_mode(METADATA_PATH, "500"), stub.set_mode(JWKS_PATH, "ok")),
         "metadata answered HTTP 500"),
        (stop_issuer, "metadata: connection refused"),
    ]
    for apply, cause in faults:
        apply()
        mark = server.log_mark()
        # The background refresh (every AuthOSJWKSMinRefetch while failing,
        # no request needed) fails and says why.
        line = server.wait_for_log("(?m)" + failed + re.escape(cause) + r"(.*)$", timeout=3.0, since=mark)
        assert line is not None, (cause, server.error_log_since(mark))
        assert line.group(1) == " (keeping the cached key set)"
        seen = time.time()
        attempts, requests_seen = server.error_log_since(mark).count("AUTHOS0006"), len(stub.requests)
        # Requests meanwhile are served from the cached keys, at once and with
        # no fetch of their own: nothing may fetch within AuthOSJWKSMinRefetch
        # of that attempt, however many requests.
        responses = parallel(server, [token] * 16, connections=8)
        assert [r.status_code for r in responses] == [200] * 16
        assert time.time() - seen < 0.8, "too slow to test within AuthOSJWKSMinRefetch"
        assert server.error_log_since(mark).count("AUTHOS0006") == attempts
        assert len(stub.requests) == requests_seen
    # AuthOS back, with a new key: the background refresh picks it up.
    new_key = stub.rotate()
    mark = server.log_mark()
    stub.start()
    assert wait_until(lambda: fetched_count(server, mark) >= 1, 3.0), server.error_log_since(mark)
    ok(server, stub.mint(kid=new_key.kid))
    ok(server, token)


def test_past_max_stale_is_503(apache_factory, stub):
    # Fetched at `start`: due at +2, usable until +4 (AuthOSJWKSMaxStale 2).
    server = apache_factory(base_url_conf(
        stub, "AuthOSJWKSMinRefetch 1\nAuthOSJWKSRefresh 2\nAuthOSJWKSMaxStale 2"))
    server.allow_log(FETCH_FAILED + r".*connection refused", NO_KEYSET)
    failed = FETCH_FAILED + "AuthOSBaseURL %s failed: (.*)" % re.escape(stub.base_url)
    token = stub.mint()
    start = time.time()
    ok(server, token)
    stub.stop()
    # The background refresh fails (the remembered jwks_uri refuses) ...
    line = server.wait_for_log(failed, timeout=3.5)
    assert line is not None
    assert line.group(1) == "connection refused (keeping the cached key set)"
    ok(server, token)                             # ... stale, within AuthOSJWKSMaxStale
    assert time.time() < start + 3.8, "too slow to test within AuthOSJWKSMaxStale"
    sleep_until(start + 4.3)
    mark = server.log_mark()
    r = unavailable(server, token)
    assert int(r.headers["Retry-After"]) <= 1
    assert re.search(NO_KEYSET, server.error_log_since(mark))
    # The next failed attempt (the request's or the watchdog's) must not claim
    # the expired key set is still in use.
    line = server.wait_for_log(failed, timeout=2.5, since=mark)
    assert line is not None
    assert line.group(1) == "metadata: connection refused (the cached key set is past AuthOSJWKSMaxStale)"
    # Recovery once AuthOS answers again, by the background refresh.
    mark = server.log_mark()
    stub.start()
    assert wait_until(lambda: fetched_count(server, mark) >= 1, 2.5), server.error_log_since(mark)
    ok(server, token)


# ------------------------------------------------------ bad answers at first fetch
def _big_jwks(stub, size):
    doc = stub.jwks()
    doc["padding"] = ""
    doc["padding"] = "x" * (size - len(json.dumps(doc, separators=(",", ":"))))
    body = json.dumps(doc, separators=(",", ":"))
    assert len(body) == size
    return body


def _weak_only(stub):
    stub.remove_key("k1")
    stub.rotate(key_size=1024)


def _enc_only(stub):
    stub.active_key.jwk_overrides["use"] = "enc"


def _wrong_alg_only(stub):
    stub.active_key.jwk_overrides["alg"] = "RS512"


def _ec_only(stub):
    stub.set_jwks_override({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig",
                                      "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                                      "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})


FIRST_FETCH_FAILURES = {
    "garbage": (lambda s: s.set_mode(JWKS_PATH, "garbage"), "bad JWKS: not a JSON object"),
    "http_500": (lambda s: s.set_mode(JWKS_PATH, "500"), "JWKS answered HTTP 500"),
    "http_404": (lambda s: s.set_mode(JWKS_PATH, "404"), "JWKS answered HTTP 404"),
    "empty_keys": (lambda s: s.set_mode(JWKS_PATH, "empty_keys"), "bad JWKS: no usable RS256 key"),
    "no_keys_array": (lambda s: s.set_jwks_override({"keys": {}}), 'bad JWKS: no "keys" array'),
    "huge_stream": (lambda s: s.set_mode(JWKS_PATH, "huge"), "answer too large"),
    "just_over_64k": (lambda s: s.set_jwks_override(_big_jwks(s, 64 * 1024 + 1)), "answer too large"),
    "only_1024_bit_key": (_weak_only, "bad JWKS: no usable RS256 key"),
    "only_use_enc": (_enc_only, "bad JWKS: no usable RS256 key"),
    "only_alg_rs512": (_wrong_alg_only, "bad JWKS: no usable RS256 key"),
    "only_ec_key": (_ec_only, "bad JWKS: no usable RS256 key"),
    "metadata_500": (lambda s: s.set_mode(METADATA_PATH, "500"), "metadata answered HTTP 500"),
    "metadata_garbage": (lambda s: s.set_mode(METADATA_PATH, "garbage"), "metadata is not a JSON object"),
    "metadata_no_jwks_uri": (lambda s: s.set_metadata(jwks_uri=None), "metadata has no usable jwks_uri"),
    "metadata_ftp_jwks_uri": (lambda s: s.set_metadata(jwks_uri="ftp://127.0.0.1/jwks.json"),
                              "metadata has no usable jwks_uri"),
}


@pytest.mark.parametrize("case", sorted(FIRST_FETCH_FAILURES))
def test_bad_answer_at_first_fetch_is_503(apache_factory, stub, case):
    setup, cause = FIRST_FETCH_FAILURES[case]
    token = stub.mint()                           # signed by the key listed before setup
    setup(stub)
    server = apache_factory(base_url_conf(stub))
    server.allow_log(FETCH_FAILED, NO_KEYSET)
    unavailable(server, token)
    line = server.wait_for_log(FETCH_FAILED + "AuthOSBaseURL %s failed: (.*)" % re.escape(stub.base_url))
    assert line is not None
    assert line.group(1) == cause
    assert re.search(NO_KEYSET, server.error_log())
    # Nothing was cached: still 503, and no refetch within AuthOSJWKSMinRefetch.
    before = len(stub.requests)
    unavailable(server, token)
    assert len(stub.requests) == before


def test_jwks_just_under_64k_is_accepted(apache_factory, stub):
    stub.set_jwks_override(_big_jwks(stub, 64 * 1024 - 1))
    server = apache_factory(base_url_conf(stub))
    ok(server, stub.mint())


def test_unusable_keys_are_skipped_but_others_work(apache_factory, stub):
    weak = stub.add_key(key_size=1024, kid="weak")
    enc = stub.add_key(kid="enc", jwk_overrides={"use": "enc"})
    server = apache_factory(base_url_conf(stub))
    mark = server.log_mark()
    ok(server, stub.mint())
    assert server.wait_for_log(r"AUTHOS0007: .*: 1 usable key", since=mark)
    refused(server, stub.mint(key=weak), "unknown key")
    refused(server, stub.mint(key=enc), "unknown key")


# ------------------------------------------------------------- time limits
def test_slow_jwks_times_out(apache_factory, stub):
    stub.set_mode(JWKS_PATH, "slow", seconds=4)
    server = apache_factory(base_url_conf(stub, "AuthOSJWKSMinRefetch 1\nAuthOSHTTPTimeout 1"))
    server.allow_log(FETCH_FAILED + r".*failed: timeout$", NO_KEYSET)
    token = stub.mint()
    start = time.time()
    unavailable(server, token)
    elapsed = time.time() - start
    assert 0.9 <= elapsed < 2.5
    assert re.search(FETCH_FAILED + r".*failed: timeout$", server.error_log(), re.M)


def test_fetch_time_limit_covers_the_discovery_chain(apache_factory, stub):
    # Metadata and JWKS each answer in 0.7 s: together over AuthOSHTTPTimeout 1.
    stub.set_mode(None, "slow", seconds=0.7)
    server = apache_factory(base_url_conf(stub, "AuthOSJWKSMinRefetch 1\nAuthOSHTTPTimeout 1"))
    server.allow_log(FETCH_FAILED + r".*failed: timeout$", NO_KEYSET)
    start = time.time()
    unavailable(server, stub.mint())
    assert time.time() - start < 1.5
    assert fetch_paths(stub) == [METADATA_PATH, JWKS_PATH]


def test_concurrent_requests_wait_at_most_the_time_limit(apache_factory, stub):
    # MinRefetch 10: prefork serves the connections in waves (one per child), and
    # a wave that starts over a second later may rightly try again.
    stub.set_mode(JWKS_PATH, "slow", seconds=4)
    server = apache_factory(base_url_conf(stub, "AuthOSJWKSMinRefetch 10\nAuthOSHTTPTimeout 1"))
    server.allow_log(FETCH_FAILED + r".*failed: timeout$", NO_KEYSET)
    start = time.time()
    responses = parallel(server, [stub.mint() for _ in range(8)], connections=8)
    assert time.time() - start < 2.5
    assert [r.status_code for r in responses] == [503] * 8
    assert stub.count(JWKS_PATH) == 1


# ------------------------------------------------------------ Cache-Control
def test_smaller_cache_control_max_age_wins(apache_factory, stub):
    stub.set_jwks_cache_control(1)
    server = apache_factory(base_url_conf(stub, "AuthOSJWKSMinRefetch 1\nAuthOSJWKSRefresh 600"))
    ok(server, stub.mint())
    ok(server, stub.mint())
    assert stub.count(JWKS_PATH) == 1
    # Refreshed after about a second (max-age 1), not 600: by itself.
    assert wait_until(lambda: stub.count(JWKS_PATH) >= 2, 2.5)
    ok(server, stub.mint())


def test_no_cache_control_keeps_the_refresh_interval(apache_factory, stub):
    server = apache_factory(base_url_conf(stub, "AuthOSJWKSMinRefetch 1\nAuthOSJWKSRefresh 600"))
    ok(server, stub.mint())
    time.sleep(2)
    ok(server, stub.mint())
    assert stub.count(JWKS_PATH) == 1


def test_larger_cache_control_max_age_does_not_extend_refresh(apache_factory, stub):
    stub.set_jwks_cache_control("public, max-age=3600")
    server = apache_factory(base_url_conf(stub, "AuthOSJWKSMinRefetch 1\nAuthOSJWKSRefresh 1"))
    ok(server, stub.mint())
    assert stub.count(JWKS_PATH) == 1
    # Refreshed after about a second (AuthOSJWKSRefresh 1), not 3600.
    assert wait_until(lambda: stub.count(JWKS_PATH) >= 2, 2.5)
    ok(server, stub.mint())


@pytest.mark.parametrize("max_age", ["max-age=9223372036855", "max-age=99999999999999999999"])
def test_huge_cache_control_max_age_is_just_long(apache_factory, stub, max_age):
    """Found by fuzzing (fuzz/fuzz_http.c): a max-age whose microseconds overflow once
    made every request a 503 (the refresh time wrapped into the past)."""
    stub.set_jwks_cache_control(max_age)
    server = apache_factory(base_url_conf(stub, "AuthOSJWKSMinRefetch 1\nAuthOSJWKSRefresh 600"))
    for _ in range(3):
        ok(server, stub.mint())
    time.sleep(1.5)
    ok(server, stub.mint())
    assert stub.count(JWKS_PATH) == 1

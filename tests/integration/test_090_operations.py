"""Operations (SPEC section 10, issue 6): SetHandler authos-metrics and authos-status.

The counters live in shared memory and are summed over every child process:
a known mix of requests, spread over several children (new connection per
request, in parallel), must move each counter by exactly the expected amount.
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from authos_stub import JWKS_PATH

AUD = "service:acme/billing"
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def ops_conf(stub, extra=""):
    return """
AuthOSBaseURL {base}
AuthOSAllowHTTP On
AuthOSAudience {aud}
AuthOSJWKSMinRefetch 1
AliasMatch "^/t/[^/]+$" "@ROOT@/htdocs/hello.txt"
CustomLog "@ROOT@/logs/pids.log" "%P %>s %U"
<Location /t/any>
    AuthType authos
    AuthName t
    Require valid-user
</Location>
<Location /t/perm>
    AuthType authos
    AuthName t
    AuthzSendForbiddenOnFailure On
    AuthOSPermissionSource claim
    Require authos-permission billing:read
</Location>
<Location /t/owner>
    AuthType authos
    AuthName t
    AuthzSendForbiddenOnFailure On
    Require authos-platform-owner
</Location>
<Location /ops/metrics>
    SetHandler authos-metrics
    Require ip 127.0.0.1
</Location>
<Location /ops/status>
    SetHandler authos-status
    Require ip 127.0.0.1
</Location>
{extra}
""".format(base=stub.base_url, aud=AUD, extra=extra)


# ------------------------------------------------------------ exposition parser
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def parse_metrics(text):
    """Strict parser of the Prometheus text format 0.0.4 as this module writes it:
    {(name, frozenset(labels)): value}, and {family: type}. Fails on anything else."""
    assert text.endswith("\n")
    types, helps, samples = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert name not in helps and help_text, line
            helps[name] = help_text
            continue
        if line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            assert name not in types and name in helps, line
            types[name] = kind
            continue
        assert line and not line.startswith("#"), "unexpected line %r" % line
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name, labels_text, value = m.group(1), m.group(3) or "", m.group(4)
        labels, pos = {}, 0
        while pos < len(labels_text):
            lm = LABEL.match(labels_text, pos)
            assert lm, "bad labels in %r" % line
            labels[lm.group(1)] = lm.group(2)
            pos = lm.end()
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[:-len(suffix)] in types:
                family = name[:-len(suffix)]
        assert family in types, "sample %s before its # TYPE" % name
        if types[family] == "counter":
            assert name.endswith("_total"), name
        key = (name, frozenset(labels.items()))
        assert key not in samples, "duplicate sample %r" % line
        samples[key] = float(value)
    return samples, types


def metric(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


def fetch_metrics(server):
    r = server.get("/ops/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == METRICS_TYPE
    return parse_metrics(r.text)


def check_histogram(samples, name):
    buckets = sorted(((float("inf") if dict(k[1])["le"] == "+Inf" else float(dict(k[1])["le"])), v)
                     for k, v in samples.items() if k[0] == name + "_bucket")
    assert buckets[-1][0] == float("inf")
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), "buckets must be cumulative"
    assert counts[-1] == metric(samples, name + "_count")
    return counts[-1]


# ------------------------------------------------------------ metrics
def run_parallel(jobs, workers=8):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda job: job(), jobs))


def test_metrics_count_an_exact_mix_across_child_processes(apache_factory, stub):
    server = apache_factory(ops_conf(stub))
    before, _ = fetch_metrics(server)
    assert metric(before, "authos_authentications_total", result="ok") == 0

    expected = {"ok": 0, "no_token": 0, "expired": 0, "bad_signature": 0, "unknown_key": 0,
                "perm_denied": 0, "owner_denied": 0, "tokens": 0}
    lock = threading.Lock()

    def job(path, token, status, *counts):
        def run():
            r = server.get(path, token=token)
            assert r.status_code == status, (path, r.status_code)
            with lock:
                for c in counts:
                    expected[c] += 1
        return run

    pids = set()
    for _ in range(10):                       # until two children or more served the mix
        jobs = []
        for _ in range(4):
            jobs.append(job("/t/any", stub.mint(), 200, "ok", "tokens"))
            jobs.append(job("/t/perm", stub.mint(permissions=["billing:read"]), 200, "ok", "tokens"))
            jobs.append(job("/t/perm", stub.mint(permissions=["other"]), 403, "ok", "perm_denied",
                            "tokens"))
            jobs.append(job("/t/owner", stub.mint(is_platform_owner=False), 403, "ok",
                            "owner_denied", "tokens"))
        jobs += [job("/t/any", None, 401, "no_token") for _ in range(3)]
        jobs += [job("/t/any", stub.mint(exp_in=-3600), 401, "expired", "tokens") for _ in range(2)]
        jobs += [job("/t/perm", stub.mint(foreign=True), 401, "bad_signature", "tokens")
                 for _ in range(2)]
        run_parallel(jobs)
        pids = {line.split()[0] for line in
                (server.root / "logs" / "pids.log").read_text().splitlines() if "/t/" in line}
        if len(pids) >= 2:
            break
    assert len(pids) >= 2, "the requests were all served by one process: %s" % pids

    after, types = fetch_metrics(server)
    assert types["authos_authentications_total"] == "counter"
    m = lambda name, **labels: metric(after, name, **labels) - metric(before, name, **labels)  # noqa: E731
    assert m("authos_authentications_total", result="ok") == expected["ok"]
    assert m("authos_authentications_total", result="no_token") == expected["no_token"]
    assert m("authos_authentications_total", result="expired") == expected["expired"]
    assert m("authos_authentications_total", result="bad_signature") == expected["bad_signature"]
    assert m("authos_authz_denials_total", requirement="authos-permission") == expected["perm_denied"]
    assert m("authos_authz_denials_total", requirement="authos-platform-owner") == \
        expected["owner_denied"]
    assert m("authos_authz_denials_total", requirement="authos-org") == 0
    # Every other outcome stayed at zero.
    counted = {"ok", "no_token", "expired", "bad_signature"}
    for (name, labels), value in after.items():
        if name == "authos_authentications_total" and dict(labels)["result"] not in counted:
            assert value == 0, (dict(labels), value)
    # Every token went through the verified-token cache (distinct tokens: all misses)...
    assert m("authos_token_cache_misses_total") == expected["tokens"]
    assert m("authos_token_cache_hits_total") == 0
    # ... and through the timed verification.
    assert check_histogram(after, "authos_verification_duration_seconds") == expected["tokens"]
    # The key set: fetched as often as the stub served its JWKS, never failed.
    source = stub.base_url
    assert metric(after, "authos_jwks_fetches_total", source=source, result="success") == \
        stub.count(JWKS_PATH) >= 1
    assert metric(after, "authos_jwks_fetches_total", source=source, result="failure") == 0
    assert metric(after, "authos_keys", source=source) == len(stub.listed_kids)
    assert 0 <= metric(after, "authos_key_set_age_seconds", source=source) < 600
    assert metric(after, "authos_key_set_last_success_timestamp_seconds", source=source) > 1.7e9
    assert server.audit_error_log() == []


def test_metrics_count_cache_hits_and_userinfo(apache_factory, stub):
    server = apache_factory(ops_conf(stub, """
<Location /t/api>
    AuthType authos
    AuthName t
    AuthOSPermissionSource api
    AuthzSendForbiddenOnFailure On
    Require authos-permission billing:read
</Location>"""))
    token = stub.mint(sub="user-7")
    stub.set_permissions("user-7", ["billing:read"])
    before, _ = fetch_metrics(server)
    for _ in range(5):
        assert server.get("/t/api", token=token).status_code == 200
    after, _ = fetch_metrics(server)
    m = lambda name, **labels: metric(after, name, **labels) - metric(before, name, **labels)  # noqa: E731
    assert m("authos_authentications_total", result="ok") == 5
    assert m("authos_token_cache_hits_total") + m("authos_token_cache_misses_total") == 5
    assert m("authos_token_cache_misses_total") >= 1
    # One /api/user call, then answers from the shared cache.
    assert m("authos_userinfo_requests_total", result="ok") == 1 == stub.count("/api/user")
    assert m("authos_userinfo_cache_hits_total") == 4
    stub.revoke(sub="user-7")
    revoked = stub.mint(sub="user-7")
    assert server.get("/t/api", token=revoked).status_code == 401
    after2, _ = fetch_metrics(server)
    assert metric(after2, "authos_userinfo_requests_total", result="revoked") == 1
    assert metric(after2, "authos_authentications_total", result="session_revoked") == 1


def test_metrics_format_and_methods(apache_factory, stub):
    server = apache_factory(ops_conf(stub))
    assert server.get("/t/any", token=stub.mint()).status_code == 200
    r = server.get("/ops/metrics")
    samples, types = parse_metrics(r.text)
    assert r.headers["Cache-Control"] == "no-store"
    for family in ("authos_authentications_total", "authos_authz_denials_total",
                   "authos_jwks_fetches_total", "authos_keys", "authos_key_set_age_seconds",
                   "authos_key_set_last_success_timestamp_seconds",
                   "authos_userinfo_requests_total", "authos_userinfo_cache_hits_total",
                   "authos_token_cache_hits_total", "authos_token_cache_misses_total",
                   "authos_browser_signins_total", "authos_browser_signouts_total",
                   "authos_verification_duration_seconds"):
        assert family in types, family
    assert types["authos_verification_duration_seconds"] == "histogram"
    assert types["authos_keys"] == "gauge"
    check_histogram(samples, "authos_verification_duration_seconds")
    assert server.request("POST", "/ops/metrics").status_code == 405
    head = server.request("HEAD", "/ops/metrics")
    assert head.status_code == 200 and head.text == ""
    # Only what Require allows: the handler itself is not a door.
    assert server.audit_error_log() == []


def test_metrics_label_values_are_escaped(apache_factory, stub, tmp_path):
    jwks_file = tmp_path / 'keys "quoted" \\ dir.json'
    stub.write_jwks_file(jwks_file)
    server = apache_factory(ops_conf(stub, """
<Location /t/file>
    AuthType authos
    AuthName t
    AuthOSJWKSFile "%s"
    AuthOSIssuer %s
    Require valid-user
</Location>""" % (str(jwks_file).replace("\\", "\\\\").replace('"', '\\"'), stub.issuer)))
    assert server.get("/t/file", token=stub.mint()).status_code == 200
    samples, _ = fetch_metrics(server)
    escaped = str(jwks_file).replace("\\", "\\\\").replace('"', '\\"')
    assert metric(samples, "authos_keys", source=escaped) == len(stub.listed_kids)


# ------------------------------------------------------------ status
def test_status_json_reports_each_source(apache_factory, stub):
    server = apache_factory(ops_conf(stub, """
<Location /t/down>
    AuthType authos
    AuthName t
    AuthOSJWKSURL http://127.0.0.1:9/jwks.json
    AuthOSIssuer %s
    AuthOSHTTPTimeout 2
    Require valid-user
</Location>""" % stub.issuer)).allow_log(r"AUTHOS00(06|22):")
    token = stub.mint()
    assert server.get("/t/any", token=token).status_code == 200
    assert server.get("/t/down", token=stub.mint()).status_code == 503
    r = server.get("/ops/status?json")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    st = r.json()
    by_source = {s["source"]: s for s in st["sources"]}
    good = by_source[stub.base_url]
    assert good["directive"] == "AuthOSBaseURL"
    assert good["jwks_uri"] == stub.jwks_url
    assert [k["kid"] for k in good["kids"]] == stub.listed_kids
    assert all(k["bits"] >= 2048 for k in good["kids"])
    assert good["keys"] == len(stub.listed_kids)
    assert good["fetched_at"] and good["refresh_at"] and good["last_error"] is None
    assert good["fetches_ok"] >= 1 and good["fetches_failed"] == 0
    down = by_source["http://127.0.0.1:9/jwks.json"]
    assert down["directive"] == "AuthOSJWKSURL"
    assert down["kids"] == [] and down["fetched_at"] is None
    assert down["last_error"] and down["last_error_at"] and down["fetches_failed"] >= 1
    assert st["counters"]["authentications"]["ok"] == 1
    assert st["counters"]["authentications"]["no_keyset"] == 1
    # Nothing from a token is on the page.
    assert token not in r.text and token.split(".")[1] not in r.text


def test_status_html_for_browsers(apache_factory, stub):
    server = apache_factory(ops_conf(stub))
    assert server.get("/t/any", token=stub.mint()).status_code == 200
    r = server.get("/ops/status")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>mod_auth_authos status</h1>" in r.text
    assert stub.base_url in r.text
    for kid in stub.listed_kids:
        assert kid in r.text
    assert 'href="?json"' in r.text
    assert server.request("POST", "/ops/status").status_code == 405


def test_status_and_metrics_without_trust_source(apache_factory):
    server = apache_factory("""
<Location /ops/metrics>
    SetHandler authos-metrics
</Location>
<Location /ops/status>
    SetHandler authos-status
</Location>""")
    samples, _ = fetch_metrics(server)
    assert metric(samples, "authos_authentications_total", result="ok") == 0
    st = server.get("/ops/status?json").json()
    assert st["sources"] == []
    assert "No trust source" in server.get("/ops/status").text


# ------------------------------------------------------------ log lines
def test_operator_log_lines(apache_factory, stub):
    """One line an operator can act on per event, at the documented level, honouring the
    per-module LogLevel."""
    down = "http://127.0.0.1:9/jwks.json"
    extra = """
<Location /t/down>
    AuthType authos
    AuthName t
    AuthOSJWKSURL %s
    AuthOSIssuer %s
    AuthOSHTTPTimeout 2
    Require valid-user
</Location>""" % (down, stub.issuer)
    server = apache_factory(ops_conf(stub, extra), log_level="warn auth_authos:info")
    server.allow_log(r"AUTHOS00(06|22):")
    log = server.error_log()
    # A startup line per trust source, at notice.
    assert re.search(r"\[auth_authos:notice\].*AUTHOS0002: trust source 0: AuthOSBaseURL %s"
                     % re.escape(stub.base_url), log)
    assert re.search(r"\[auth_authos:notice\].*AUTHOS0002: trust source 1: AuthOSJWKSURL %s"
                     % re.escape(down), log)
    # A refusal: reason, kid, sub and client, at info; never the token.
    token = stub.mint(exp_in=-60, sub="user-42")
    assert server.get("/t/any", token=token).status_code == 401
    line = server.wait_for_log(r"[^\n]*AUTHOS0023:[^\n]*", timeout=2).group(0)
    assert "[auth_authos:info]" in line and "token refused: expired (" in line
    assert "kid=%s" % stub.active_kid in line and "sub=user-42" in line
    assert "client=127.0.0.1" in line and token.split(".")[1] not in line
    # A failed fetch: URL and cause, at warn.
    assert server.get("/t/down", token=stub.mint()).status_code == 503
    line = server.wait_for_log(r"[^\n]*AUTHOS0006:[^\n]*", timeout=2).group(0)
    assert "[auth_authos:warn]" in line and down in line and "connection refused" in line

    # At plain "LogLevel warn" the info line is gone, the warn line stays.
    quiet = apache_factory(ops_conf(stub, extra), log_level="warn")
    quiet.allow_log(r"AUTHOS00(06|22):")
    assert quiet.get("/t/any", token=stub.mint(exp_in=-60)).status_code == 401
    assert quiet.get("/t/down", token=stub.mint()).status_code == 503
    quiet.wait_for_log(r"AUTHOS0006:", timeout=2)
    assert "AUTHOS0023" not in quiet.error_log()


def test_readme_documents_every_metric_and_label(apache_factory, stub):
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    server = apache_factory(ops_conf(stub))
    samples, types = fetch_metrics(server)
    for family in types:
        assert "`%s`" % family in readme or "`%s`, " % family in readme, family
    for name, labels in samples:
        for key, value in labels:
            if key in ("result", "requirement"):
                assert "`%s`" % value in readme, (name, key, value)


# ------------------------------------------------------------ promtool
def promtool_binary():
    """promtool from Debian's prometheus package: on PATH, or extracted from the package into
    build/promtool (downloaded with apt-get download; the Prometheus service is not installed)."""
    import shutil
    import subprocess
    from pathlib import Path
    found = shutil.which("promtool")
    if found:
        return found
    root = Path(__file__).resolve().parents[2] / "build" / "promtool"
    binary = root / "usr" / "bin" / "promtool"
    if not binary.exists():
        root.mkdir(parents=True, exist_ok=True)
        for deb in root.glob("prometheus_*.deb"):
            deb.unlink()
        got = subprocess.run(["apt-get", "download", "prometheus"], cwd=root, capture_output=True,
                             text=True, timeout=600)
        debs = list(root.glob("prometheus_*.deb"))
        assert got.returncode == 0 and debs, "apt-get download prometheus failed: %s" % got.stderr
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(root)], check=True, timeout=300)
    return str(binary)


def test_metrics_pass_promtool_check(apache_factory, stub):
    import subprocess
    server = apache_factory(ops_conf(stub))
    assert server.get("/t/any", token=stub.mint()).status_code == 200
    assert server.get("/t/any").status_code == 401
    text = server.get("/ops/metrics").text
    checked = subprocess.run([promtool_binary(), "check", "metrics"], input=text,
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and checked.stdout.strip() == "" and \
        checked.stderr.strip() == "", (checked.stdout, checked.stderr)

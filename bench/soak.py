#!/usr/bin/python3
"""Soak test: a mix of valid, forbidden and invalid tokens at full speed (make soak).

    bench/soak               # after `make`
    make soak                # builds first

For each MPM (SOAK_MPMS, default "event prefork") one Apache on a loopback port
and the stub issuer; wrk (bench/soak.lua) sends, for SOAK_SECONDS (default 120)
per MPM, requests cycling over a mix of distinct tokens: valid ones with the
required permission (200), valid ones without it (403), and invalid ones
(expired, signed by a foreign key, malformed, none at all: 401).  Every request
carries its class in a header that Apache logs next to the status, so:

- every logged answer must match its class (no 5xx, no wrong status);
- the module's counters (authos-metrics) must move by exactly the logged
  amounts: authentications ok = 200s + 403s, refusals and missing tokens =
  401s, authz denials = 403s;
- wrk's own tally must not exceed the logged one, and it saw no socket errors;
- each child's RSS is read a quarter into the run (every busy child's
  verified-token cache then holds the mix) and at the end: the growth is
  reported, and more than SOAK_MAX_GROWTH_KIB (default 1024) fails;
- the error log must hold no crash and no error line.

Prints one summary line per MPM and exits non-zero on any failure.
Environment: SOAK_SECONDS [120], SOAK_MPMS ["event prefork"], SOAK_CONNECTIONS
[32], SOAK_THREADS [2], SOAK_MAX_GROWTH_KIB [1024], AUTHOS_MODULE
[.libs/mod_auth_authos.so], SOAK_KEEP=1 (keep the temporary directories).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO / "tests" / "integration"))
import authos_stub  # noqa: E402
from bench_apache import APACHE_BIN, AUDIENCE, BODY, MODULES_DIR, children_rss_kib  # noqa: E402

EXPECTED = {"valid": 200, "forbidden": 403, "invalid": 401}
CRASH = re.compile(r"exit signal|AH00052|AH00060|:(emerg|alert|crit|error)\]")


class SoakError(Exception):
    pass


def config(root, port, module, issuer, mpm):
    out = subprocess.run([APACHE_BIN, "-l"], capture_output=True, text=True).stdout
    builtin = set(re.findall(r"mod_(\w+)\.c", out))
    loads = ["LoadModule %s_module %s/mod_%s.so" % (m, MODULES_DIR, m)
             for m in ("mpm_" + mpm, "authn_core", "authz_core", "authz_host", "log_config")
             if m not in builtin]
    if mpm == "event":
        procs = "StartServers 2\nServerLimit 2\nThreadsPerChild 32\nMaxRequestWorkers 64\n" \
                "MinSpareThreads 32\nMaxSpareThreads 64\n"
    else:
        # A fixed pool: no child is started or stopped during the run.
        # (more children than wrk's connections: the metrics reads need one too)
        procs = "StartServers 40\nMinSpareServers 4\nMaxSpareServers 40\nServerLimit 40\n" \
                "MaxRequestWorkers 40\n"
    user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
    return f"""# Written by bench/soak.py.
ServerRoot "{root}"
ServerName 127.0.0.1
DefaultRuntimeDir "{root}/run"
PidFile "{root}/run/httpd.pid"
Listen 127.0.0.1:{port}
{chr(10).join(loads)}
LoadModule auth_authos_module "{module}"
{user}{procs}MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
ErrorLog "{root}/logs/error.log"
# authz_core logs every 403 at error level (AH01631): not wanted here.
LogLevel warn authz_core:crit
LogFormat "%>s %{{X-Soak-Class}}i %U %{{remote}}p %P" soak
CustomLog "{root}/logs/access.log" soak
DocumentRoot "{root}/htdocs"
<Directory "{root}/htdocs">
    Require all granted
</Directory>
AuthOSBaseURL {issuer}
AuthOSAllowHTTP On
AuthOSAudience {AUDIENCE}
<Location /t/>
    AuthType authos
    AuthName soak
    AuthzSendForbiddenOnFailure On
    AuthOSPermissionSource claim
    Require authos-permission billing:read
</Location>
<Location /ops/metrics>
    SetHandler authos-metrics
    Require ip 127.0.0.1
</Location>
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mix(stub):
    """[(class, token or "-")]: distinct tokens of every class, interleaved."""
    lines = []
    for i in range(400):
        lines.append(("valid", stub.mint(permissions=["billing:read"], exp_in=86400)))
        if i % 2 == 0:
            lines.append(("forbidden", stub.mint(permissions=["other"], exp_in=86400)))
        if i % 4 == 0:
            lines.append(("invalid", stub.mint(exp_in=-3600)))
            lines.append(("invalid", stub.mint(foreign=True, exp_in=86400)))
        if i % 8 == 0:
            lines.append(("invalid", "not.a.token"))
            lines.append(("invalid", "-"))
    return lines


def metrics(session, base):
    # A connection of its own, closed after: a prefork child is not left waiting on it.
    text = session.get(base + "/ops/metrics", timeout=30, headers={"Connection": "close"}).text
    out = {}
    for name, labels, value in re.findall(r'^(authos_[a-z_]+)(\{[^}]*\})? (\S+)$', text, re.M):
        out[name + labels] = float(value)
    return out


def delta(before, after, key):
    return after.get(key, 0) - before.get(key, 0)


def start_wrk(url, mix_file, seconds, connections, threads):
    cmd = ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds,
           "-s", str(BENCH_DIR / "soak.lua"), url, "--", str(mix_file)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_wrk(proc, seconds):
    out, err = proc.communicate(timeout=seconds + 120)
    line = next((ln for ln in out.splitlines() if ln.startswith("SOAK_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise SoakError("wrk failed:\n%s%s" % (out, err))
    return json.loads(line[len("SOAK_JSON "):])


def soak(mpm, stub, lines, settings):
    work = Path(tempfile.mkdtemp(prefix="authos-soak-%s-" % mpm))
    for sub in ("logs", "run", "htdocs/t"):
        (work / sub).mkdir(parents=True)
    (work / "htdocs" / "t" / "file.txt").write_bytes(BODY)
    mix_file = work / "mix.txt"
    mix_file.write_text("".join("%s %s\n" % line for line in lines))
    for path in [work] + [Path(d) / x for d, ds, fs in os.walk(work) for x in ds + fs]:
        os.chmod(path, os.stat(path).st_mode | (0o005 if path.is_dir() else 0o004))
    port = free_port()
    conf = work / "httpd.conf"
    conf.write_text(config(work, port, settings["module"], stub.base_url, mpm))
    env = dict(os.environ, LANG="C", APACHE_RUN_DIR=str(work / "run"))
    proc = subprocess.Popen([APACHE_BIN, "-f", str(conf), "-DFOREGROUND"], env=env,
                            stdout=open(work / "logs" / "stdout.log", "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    ok = False
    try:
        base = "http://127.0.0.1:%d" % port
        session = requests.Session()
        session.trust_env = False
        deadline = time.time() + 20
        while True:
            try:
                session.get(base + "/ops/metrics", timeout=2, headers={"Connection": "close"})
                break
            except requests.RequestException:
                if time.time() > deadline or proc.poll() is not None:
                    raise SoakError("apache2 (%s) did not start: %s" % (mpm, work))
                time.sleep(0.1)
        url = base + "/t/file.txt"
        before = metrics(session, base)
        log_start = (work / "logs" / "access.log").stat().st_size
        # One wrk run: its connections stay with the same children throughout
        # (with prefork, one connection is one child), so the RSS read after a
        # quarter of the run (every busy child's verified-token cache then
        # holds the mix) and at the end compares the same steady state.
        load = start_wrk(url, mix_file, settings["seconds"], settings["connections"],
                         settings["threads"])
        time.sleep(max(5, settings["seconds"] // 4))
        before_rss = children_rss_kib(proc.pid)
        run = finish_wrk(load, settings["seconds"])
        time.sleep(1)                      # answers in flight when wrk stopped reach the log
        after = metrics(session, base)
        after_rss = children_rss_kib(proc.pid)
        with open(work / "logs" / "access.log") as fh:
            fh.seek(log_start)
            logged = [ln.split() for ln in fh if ln.startswith(("2", "4", "5"))]
        logged = [ln for ln in logged if len(ln) == 5 and ln[2] == "/t/file.txt"]
        by_status = Counter(int(ln[0]) for ln in logged)
        wrong = [ln for ln in logged if EXPECTED.get(ln[1]) != int(ln[0])]
        failures = []
        if wrong:
            failures.append("%d answers do not match their class, e.g. %s" % (len(wrong), wrong[:3]))
        ok_auth = delta(before, after, 'authos_authentications_total{result="ok"}')
        refused = sum(delta(before, after, k) for k in after
                      if k.startswith("authos_authentications_total") and 'result="ok"' not in k)
        denied = delta(before, after, 'authos_authz_denials_total{requirement="authos-permission"}')
        if ok_auth != by_status[200] + by_status[403]:
            failures.append("authentications ok %d != 200s + 403s %d" % (
                ok_auth, by_status[200] + by_status[403]))
        if refused != by_status[401]:
            failures.append("refusals %d != 401s %d" % (refused, by_status[401]))
        if denied != by_status[403]:
            failures.append("authz denials %d != 403s %d" % (denied, by_status[403]))
        if run["errors"] or run["sother"]:
            failures.append("wrk: %d socket errors, %d other statuses" % (run["errors"], run["sother"]))
        for status, key in ((200, "s200"), (401, "s401"), (403, "s403")):
            if run[key] > by_status[status]:
                failures.append("wrk saw %d x %d, the log %d" % (run[key], status, by_status[status]))
        growth = {p: after_rss[p] - before_rss[p] for p in after_rss if p in before_rss}
        if not growth:
            failures.append("no child lived through the run")
        elif max(growth.values()) > settings["max_growth"]:
            failures.append("child RSS grew by %d KiB" % max(growth.values()))
        errors = [ln for ln in (work / "logs" / "error.log").read_text(errors="replace").splitlines()
                  if CRASH.search(ln)]
        if errors:
            failures.append("error log: %s" % errors[:3])
        result = {"mpm": mpm, "requests": len(logged), "by_status": dict(by_status),
                  "rps": run["requests"] / (run["duration_us"] / 1e6), "children": len(growth),
                  "rss_growth_max_kib": max(growth.values()) if growth else None,
                  "rss_kib": after_rss, "failures": failures}
        ok = not failures
        return result
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        if ok and os.environ.get("SOAK_KEEP", "") in ("", "0"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept %s" % work, file=sys.stderr)


def main():
    env = os.environ.get
    settings = {"seconds": int(env("SOAK_SECONDS", "120")),
                "connections": int(env("SOAK_CONNECTIONS", "32")),
                "threads": int(env("SOAK_THREADS", "2")),
                "max_growth": int(env("SOAK_MAX_GROWTH_KIB", "1024")),
                "module": Path(env("AUTHOS_MODULE", str(REPO / ".libs" / "mod_auth_authos.so")))}
    if not settings["module"].exists():
        raise SoakError("%s not found: run `make` first" % settings["module"])
    if shutil.which("wrk") is None:
        raise SoakError("wrk is not installed (apt-get install wrk)")
    stub = authos_stub.AuthOSStub().start()
    failed = False
    figures = []
    try:
        lines = mix(stub)
        for mpm in env("SOAK_MPMS", "event prefork").split():
            r = soak(mpm, stub, lines, settings)
            print("soak %s: %d requests in %d s (%.0f/s; 200: %d, 401: %d, 403: %d), every answer as "
                  "expected for its token: %s, counters match: %s, child RSS growth at most %s KiB "
                  "over %d children" % (
                      r["mpm"], r["requests"], settings["seconds"], r["rps"],
                      r["by_status"].get(200, 0), r["by_status"].get(401, 0),
                      r["by_status"].get(403, 0),
                      "no" if any("class" in f for f in r["failures"]) else "yes",
                      "no" if any("!=" in f for f in r["failures"]) else "yes",
                      r["rss_growth_max_kib"], r["children"]), flush=True)
            figures.append("%s: %d requests, %d s, RSS growth <= %s KiB" % (
                r["mpm"], r["requests"], settings["seconds"], r["rss_growth_max_kib"]))
            for failure in r["failures"]:
                print("  FAILED: %s" % failure, flush=True)
            failed = failed or bool(r["failures"])
    finally:
        stub.stop()
    print("soak: %s (%s)" % ("FAILED" if failed else "PASSED", "; ".join(figures)))
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SoakError as exc:
        print("soak: %s" % exc, file=sys.stderr)
        sys.exit(1)

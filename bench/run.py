#!/usr/bin/python3
"""Benchmark mod_auth_authos against no authentication and two peers (issue 5).

    make bench            # builds the module first
    bench/run             # the same, with the module already built

One run, on a machine with at least two CPUs (as root: packages are installed
and Apache's children run as www-data):

1. installs wrk, libapache2-mod-auth-openidc and libapache2-mod-oauth2 with
   apt-get when they are missing;
2. measures the RSA-2048 verify rate with `openssl speed rsa2048` on the Apache
   CPU: the cost of one RS256 verify, the limit for a token never seen before;
3. starts the stub AuthOS issuer (tests/integration/authos_stub.py) on HTTP and
   a second listener on HTTPS with a self-signed certificate made for the run
   (mod_auth_openidc refuses an http:// JWKS URI);
4. starts one Apache (mpm_event, config in a temporary directory) pinned to one
   CPU with taskset, serving a 100-byte file under /noauth/, /authos/ (this
   module), /openidc/ (mod_auth_openidc, AuthType oauth20, OIDCOAuthVerifyJwksUri,
   the stub's CA through OIDCCABundlePath) and /oauth2/ (mod_oauth2,
   OAuth2TokenVerify jwks_uri; mod_oauth2 3.3.1 has no CA bundle option, so it
   uses jwks_uri.ssl_verify=false);
5. for each configuration checks that a good token gets 200 and a token with a
   wrong signature or none gets 401 and warms it up; then runs wrk on the other
   CPU with bench/tokens.lua: one reused token, or many distinct tokens cycled
   from a file (BENCH_TOKENS, far more than the caches of all children hold:
   each run goes on where the last one stopped, so a token comes back only
   after all the others; the module's cache hits and misses are read from its
   metrics handler around each run and reported); the no-auth location also
   gets both token workloads (noauth-one, noauth-many: the same requests, the
   header read by Apache but not checked), which tells the module's own cost
   from Apache's cost of a request with an 800-byte header;
6. measures in BENCH_ROUNDS rounds of BENCH_DURATION per configuration, each
   round cut into slices of BENCH_SLICE that run the configurations in turn
   (the order rotating): this machine's speed drifts by tens of percent from
   one second to the next, so all configurations must sample the same drifts;
   each configuration is compared with the no-auth figures of its own round
   and the median over the rounds is reported;
7. memory: a run of BENCH_MEMORY_REQUESTS requests with the distinct tokens on
   the module's location, with each child's RSS (from /proc) read at Apache's
   start, before that run (after the measured rounds and a 10,000-request
   run, so the caches hold what they will hold) and after it; and the size of
   each shared-memory segment the module made (its notice line AUTHOS0063);
8. prints requests/s, p50/p99 latency, Apache CPU time per request (utime+stime
   of all Apache processes from /proc), JWKS fetches seen by the stub, and each
   configuration's ratio to no authentication, and writes the same as Markdown
   to bench/results/latest.md (not committed: bench/results/.gitignore).

Environment (defaults in brackets): BENCH_DURATION [10s], BENCH_SLICE [2s],
BENCH_WARMUP [2s], BENCH_ROUNDS [3], BENCH_MEMORY_REQUESTS [1000000] (0: no memory run),
BENCH_CONNECTIONS [16], BENCH_THREADS [1] (wrk), BENCH_TOKENS [100000],
BENCH_APACHE_CPU [0], BENCH_CLIENT_CPU [1] (wrk, the stub and this script),
BENCH_APACHE_PROCS [2], BENCH_APACHE_THREADS [32] (per child),
BENCH_OPENSSL_SECONDS [3], BENCH_ONLY (comma-separated configuration names, e.g.
noauth,authos-one), BENCH_AUTHOS_CONF (extra server-config lines for the module,
e.g. "AuthOSTokenCache 0"), BENCH_OUT [bench/results/latest.md], BENCH_KEEP=1
(keep the temporary directory), AUTHOS_MODULE [.libs/mod_auth_authos.so].
"""

import datetime
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO / "tests" / "integration"))
import authos_stub  # noqa: E402
import tls_stub  # noqa: E402  (bench/*.py are found next to this file)
from bench_apache import APACHE_BIN, BODY, MODULES_DIR, Apache, ApacheError  # noqa: E402

LUA_SCRIPT = BENCH_DIR / "tokens.lua"
TOKEN_LIFETIME = 86400   # AuthOS's default access-token lifetime
DEFAULT_TOKEN_CACHE = 16384   # AuthOSTokenCache's default, per child
PACKAGES = {"wrk": "/usr/bin/wrk",
            "libapache2-mod-auth-openidc": MODULES_DIR + "/mod_auth_openidc.so",
            "libapache2-mod-oauth2": MODULES_DIR + "/mod_oauth2.so"}

# name, label, location, token workload (None, "one" or "many"), module (for the summary)
CONFIGS = [
    ("noauth", "no authentication", "/noauth/", None, None),
    ("noauth-one", "no authentication, the one-token requests", "/noauth/", "one", None),
    ("noauth-many", "no authentication, the {n} distinct-token requests", "/noauth/", "many", None),
    ("authos-one", "mod_auth_authos, one reused token", "/authos/", "one", "mod_auth_authos"),
    ("authos-many", "mod_auth_authos, {n} distinct tokens", "/authos/", "many", "mod_auth_authos"),
    ("openidc-one", "mod_auth_openidc, one reused token", "/openidc/", "one", "mod_auth_openidc"),
    ("openidc-many", "mod_auth_openidc, {n} distinct tokens", "/openidc/", "many", "mod_auth_openidc"),
    ("oauth2-one", "mod_oauth2, one reused token", "/oauth2/", "one", "mod_oauth2"),
    ("oauth2-many", "mod_oauth2, {n} distinct tokens", "/oauth2/", "many", "mod_oauth2"),
]
MODULE_LABELS = {
    "mod_auth_authos": "mod_auth_authos (this module)",
    "mod_auth_openidc": "Debian's mod_auth_openidc {libapache2-mod-auth-openidc} "
                        "(`AuthType oauth20`, `OIDCOAuthVerifyJwksUri`)",
    "mod_oauth2": "Debian's mod_oauth2 {libapache2-mod-oauth2} (`OAuth2TokenVerify jwks_uri`)",
}


class BenchError(RuntimeError):
    pass


def parse_seconds(text):
    """'10', '10s', '2m', '1h' -> seconds (int)."""
    match = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", text)
    if not match:
        raise BenchError("bad duration %r (expected e.g. 10s, 2m)" % text)
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def settings():
    env = os.environ.get
    s = {"duration": parse_seconds(env("BENCH_DURATION", "10s")),
         "rounds": int(env("BENCH_ROUNDS", "3")),
         "memory_requests": int(env("BENCH_MEMORY_REQUESTS", "1000000")),
         "warmup": parse_seconds(env("BENCH_WARMUP", "2s")),
         "slice": parse_seconds(env("BENCH_SLICE", "2s")),
         "connections": int(env("BENCH_CONNECTIONS", "16")),
         "threads": int(env("BENCH_THREADS", "1")),
         "tokens": int(env("BENCH_TOKENS", "100000")),
         "next_token": {},   # per URL: where its next run of the distinct tokens starts
         "apache_cpu": int(env("BENCH_APACHE_CPU", "0")),
         "client_cpu": int(env("BENCH_CLIENT_CPU", "1")),
         "apache_procs": int(env("BENCH_APACHE_PROCS", "2")),
         "apache_threads": int(env("BENCH_APACHE_THREADS", "32")),
         "openssl_seconds": int(env("BENCH_OPENSSL_SECONDS", "3")),
         "authos_conf": env("BENCH_AUTHOS_CONF", ""),
         "out": Path(env("BENCH_OUT", str(BENCH_DIR / "results" / "latest.md"))),
         "keep": env("BENCH_KEEP", "") not in ("", "0"),
         "module": Path(env("AUTHOS_MODULE", str(REPO / ".libs" / "mod_auth_authos.so")))}
    only = [n.strip() for n in env("BENCH_ONLY", "").split(",") if n.strip()]
    names = [c[0] for c in CONFIGS]
    unknown = [n for n in only if n not in names]
    if unknown:
        raise BenchError("BENCH_ONLY: unknown %s (known: %s)" % (", ".join(unknown), ", ".join(names)))
    s["configs"] = [c for c in CONFIGS if not only or c[0] in only or c[0] == "noauth"]
    if s["duration"] < 1 or s["slice"] < 1 or s["connections"] < s["threads"] or s["tokens"] < 2 or s["rounds"] < 1:
        raise BenchError("need BENCH_DURATION >= 1s, BENCH_SLICE >= 1s, BENCH_CONNECTIONS >= BENCH_THREADS, "
                         "BENCH_TOKENS >= 2, BENCH_ROUNDS >= 1")
    return s


def run(cmd, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)


# ------------------------------------------------------------------ setup
def ensure_packages():
    missing = [pkg for pkg, path in PACKAGES.items() if not os.path.exists(path)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise BenchError("missing %s: run as root, or apt-get install -y %s" % (
            ", ".join(missing), " ".join(missing)))
    print("installing %s" % " ".join(missing), flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends"] + missing
    if subprocess.run(cmd, env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env)
        if subprocess.run(cmd, env=env).returncode != 0:
            raise BenchError("apt-get install %s failed" % " ".join(missing))


def openssl_verify_rate(cpu, seconds):
    """(verifies/s, us per verify) of RSA-2048 from `openssl speed` on that CPU."""
    out = run(["taskset", "-c", str(cpu), "openssl", "speed", "-seconds", str(seconds), "rsa2048"])
    match = re.search(r"^rsa\s+2048 bits\s+\S+s\s+\S+s\s+[\d.]+\s+([\d.]+)\s*$", out.stdout, re.M)
    if out.returncode != 0 or not match:
        raise BenchError("openssl speed rsa2048 failed:\n" + out.stdout + out.stderr)
    rate = float(match.group(1))
    return rate, 1e6 / rate


def cpu_load(cpus, seconds=1.0):
    """{cpu: busy fraction} over a short sample: other work on the machine skews the results."""
    def sample():
        with open("/proc/stat") as fh:
            rows = {f[0]: [int(v) for v in f[1:9]] for f in (line.split() for line in fh) if f}
        return {c: (sum(rows["cpu%d" % c]) - sum(rows["cpu%d" % c][3:5]), sum(rows["cpu%d" % c]))
                for c in cpus}
    before = sample()
    time.sleep(seconds)
    after = sample()
    return {c: (after[c][0] - before[c][0]) / max(after[c][1] - before[c][1], 1) for c in cpus}


def describe_load(load):
    text = ", ".join("CPU %d %.0f%% busy" % (c, v * 100) for c, v in sorted(load.items()))
    if max(load.values()) > 0.10:
        print("WARNING: other processes are using the CPUs (%s): the results will be noisy" % text,
              file=sys.stderr, flush=True)
    return text


def versions():
    def pkg(name):
        return run(["dpkg-query", "-W", "-f", "${Version}", name]).stdout.strip() or "?"
    cpu = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    apache = re.search(r"Apache/(\S+)", run([APACHE_BIN, "-v"]).stdout)
    wrk_out = run(["wrk", "-v"])
    wrk = re.search(r"wrk (\S+)", wrk_out.stdout + wrk_out.stderr)
    result = {"cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release(),
              "apache": apache.group(1) if apache else "?", "wrk": wrk.group(1) if wrk else "?",
              "openssl": " ".join(run(["openssl", "version"]).stdout.split()[:2]),
              "commit": run(["git", "-C", str(REPO), "describe", "--always", "--dirty"]).stdout.strip()
              or "(not a git checkout)"}
    for name in PACKAGES:
        result[name] = pkg(name)
    return result


def _mint_batch(job):
    """In a spawned worker: count tokens shaped as the stub's mint(exp_in=TOKEN_LIFETIME) makes them."""
    pem, kid, issuer, count = job
    from cryptography.hazmat.primitives import serialization
    from authos_tokens import default_claims, default_header, json_bytes, sign_raw
    os.sched_setaffinity(0, range(os.cpu_count() or 1))   # the parent runs on the client CPU
    key = serialization.load_pem_private_key(pem, password=None)
    out = []
    for _ in range(count):
        payload = default_claims(issuer)
        payload["exp"] = int(time.time()) + TOKEN_LIFETIME
        out.append(sign_raw(json_bytes(default_header(kid)), json_bytes(payload), key))
    return out


def mint_tokens(stub, workdir, count):
    """Files one.txt (one token), many.txt (count distinct tokens); a bad token (foreign key).
    The distinct tokens are signed with the stub's active key by spawned workers, one per CPU
    (an RSA-2048 signature is about 1 ms: 100,000 tokens take about a minute on two CPUs)."""
    one = stub.mint(exp_in=TOKEN_LIFETIME)
    (workdir / "one.txt").write_text(one + "\n")
    started = time.time()
    workers = os.cpu_count() or 1
    pem = stub.active_key.private_pem()
    jobs = [(pem, stub.active_kid, stub.issuer, count // workers + (1 if i < count % workers else 0))
            for i in range(workers)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        many = [token for batch in pool.map(_mint_batch, jobs) for token in batch]
    if len(set(many)) != count:
        raise BenchError("minted %d tokens, %d of them distinct" % (count, len(set(many))))
    (workdir / "many.txt").write_text("\n".join(many) + "\n")
    print("minted %d distinct tokens in %.1f s (%d workers)" % (count, time.time() - started, workers),
          flush=True)
    return {"one": one, "many": many[0], "bad": stub.mint(foreign=True, exp_in=TOKEN_LIFETIME)}


# ------------------------------------------------------------------ measuring
def check(session, url, tokens, workload, module, label):
    """A good token gets 200 and the file; with authentication a bad token or none gets 401."""
    def get(token):
        headers = {"Authorization": "Bearer " + token} if token else {}
        return session.get(url, headers=headers, timeout=15)

    good = get(tokens[workload] if workload else None)
    if good.status_code != 200 or good.content != BODY:
        raise BenchError("%s: a good token got %d, expected 200 and the file" % (label, good.status_code))
    if module:
        for what, token in (("a token with a wrong signature", tokens["bad"]), ("no token", None)):
            status = get(token).status_code
            if status != 401:
                raise BenchError("%s: %s got %d, expected 401" % (label, what, status))
    print("  check: good token 200%s" % (", bad signature 401, no token 401" if module else ""),
          flush=True)


def wrk(s, url, token_file, seconds):
    """One wrk run; the distinct tokens go on from where the previous run to the same URL stopped
    (s["next_token"]), so a token comes back there only after all the others, whatever the runs'
    lengths."""
    many = token_file is not None and token_file.name == "many.txt"
    start = s["next_token"].get(url, 0) if many else 0
    cmd = ["taskset", "-c", str(s["client_cpu"]), "wrk", "-t%d" % s["threads"], "-c%d" % s["connections"],
           "-d%ds" % seconds, "--latency", "-s", str(LUA_SCRIPT), url, "--", str(token_file or "-"),
           str(s["threads"]), str(start)]
    out = run(cmd, timeout=seconds + 120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise BenchError("wrk failed (%s):\n%s%s" % (" ".join(cmd[:9]), out.stdout, out.stderr))
    result = json.loads(line[len("BENCH_JSON "):])
    if many:
        s["next_token"][url] = (start + result["requests"] // s["threads"]) % s["tokens"]
    return result


def log_summary(text):
    """(count, a few distinct messages) of the error-log lines a run added; crashes are fatal."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if any(re.search(r"exit signal|AH00052|AH00060", ln) for ln in lines):
        raise BenchError("an Apache child crashed:\n" + "\n".join(lines[-20:]))
    seen = []
    for ln in lines:
        message = re.sub(r"^(\[[^\]]*\] ){2,5}", "", ln)
        message = message if len(message) <= 160 else message[:157] + "..."
        if message not in seen:
            seen.append(message)
    return len(lines), seen[:3]


def prepare(s, apache, files, tokens, config):
    """Before the first round: check one configuration, then warm it up."""
    name, label, location, workload, module = config
    label = label.format(n="{:,}".format(s["tokens"]))
    url = apache.url(location)
    print("%s: %s" % (name, label), flush=True)
    session = requests.Session()
    session.trust_env = False
    check(session, url, tokens, workload, module, label)
    if s["warmup"]:
        wrk(s, url, files.get(workload), s["warmup"])
    if module == "mod_auth_authos" and workload == "many":
        # Until every child's verified-token cache is full: a filling cache allocates and
        # faults in new memory on every miss, which a steady state does not.
        setting = re.search(r"AuthOSTokenCache\s+(\d+)", s["authos_conf"])
        full = s["apache_procs"] * (int(setting.group(1)) if setting else DEFAULT_TOKEN_CACHE)
        while sum(apache.token_cache_counts()) < full * 1.5:
            wrk(s, url, files["many"], 2)
        print("  warm-up: %d cache lookups (the caches of %d children hold %d tokens in all)" % (
            sum(apache.token_cache_counts()), s["apache_procs"], full), flush=True)


def run_slice(s, apache, stub, files, config, seconds):
    """One wrk run of one configuration, with what Apache, the stub and the cache did meanwhile."""
    name, label, location, workload, module = config
    token_file = files.get(workload)
    cache0 = apache.token_cache_counts()
    cpu0, core0 = apache.cpu_seconds(), apache.core_times()
    jwks0, log0 = stub.count(authos_stub.JWKS_PATH), apache.log_size()
    result = wrk(s, apache.url(location), token_file, seconds)
    cpu1, core1 = apache.cpu_seconds(), apache.core_times()
    jwks1 = stub.count(authos_stub.JWKS_PATH)
    cache1 = apache.token_cache_counts()
    log_lines, log_samples = log_summary(apache.log_text(log0))
    errors = result["errors"]
    return {"requests": result["requests"], "duration_us": result["duration_us"],
            "p50_us": result["latency_us"]["p50"], "p99_us": result["latency_us"]["p99"],
            "cpu_s": cpu1 - cpu0, "busy_ticks": core1[0] - core0[0], "all_ticks": core1[1] - core0[1],
            "jwks": jwks1 - jwks0, "cache_hits": cache1[0] - cache0[0],
            "cache_misses": cache1[1] - cache0[1], "non2xx": errors["status"],
            "sock_errors": errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
            "log_lines": log_lines, "log_samples": log_samples}


def measure_round(s, apache, stub, files, configs):
    """One round: every configuration's measured time cut into slices of BENCH_SLICE, run in turn
    (the order rotating from slice to slice), so that all configurations see the same drifts of
    the machine's speed.  One row per configuration, from the sums over its slices."""
    slices = max(1, int(round(s["duration"] / float(s["slice"]))))
    raw = {config[0]: [] for config in configs}
    for k in range(slices):
        order = configs[k % len(configs):] + configs[:k % len(configs)]
        for config in order:
            raw[config[0]].append(run_slice(s, apache, stub, files, config, min(s["slice"], s["duration"])))
    rows = []
    for name, label, location, workload, module in configs:
        parts = raw[name]
        total = {key: sum(x[key] for x in parts) for key in parts[0] if key != "log_samples"}
        row = {"name": name, "label": label.format(n="{:,}".format(s["tokens"])), "module": module,
               "workload": workload,
               "rps": total["requests"] / (total["duration_us"] / 1e6),
               "p50_us": median([x["p50_us"] for x in parts]), "p99_us": median([x["p99_us"] for x in parts]),
               "cpu_us": total["cpu_s"] * 1e6 / max(total["requests"], 1),
               "busy": total["busy_ticks"] / max(total["all_ticks"], 1),
               "slice_rps": [x["requests"] / (x["duration_us"] / 1e6) for x in parts],
               "log_samples": next((x["log_samples"] for x in parts if x["log_samples"]), [])}
        for key in ("jwks", "cache_hits", "cache_misses", "non2xx", "sock_errors", "log_lines"):
            row[key] = total[key]
        print("  %-12s %.0f requests/s, p50 %s, p99 %s, Apache CPU %.1f us/request (CPU %d %.0f%% busy), "
              "JWKS fetches %d, token cache %d hits / %d misses, non-2xx %d, socket errors %d, "
              "error-log lines %d" % (
                  name, row["rps"], ms(row["p50_us"]), ms(row["p99_us"]), row["cpu_us"], s["apache_cpu"],
                  row["busy"] * 100, row["jwks"], row["cache_hits"], row["cache_misses"], row["non2xx"],
                  row["sock_errors"], row["log_lines"]), flush=True)
        for sample in row["log_samples"]:
            print("    log: " + sample)
        rows.append(row)
    return rows


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2.0


def combine(rounds):
    """One row per configuration: medians over the rounds; the ratio to no auth and the CPU added
    are taken per round (against that round's no-auth run), then their median."""
    rows = []
    for i, first in enumerate(rounds[0]):
        runs = [r[i] for r in rounds]
        bases = [next(x for x in r if x["name"] == "noauth") for r in rounds]
        row = dict(first)
        for key in ("rps", "p50_us", "p99_us", "cpu_us", "busy"):
            row[key] = median([x[key] for x in runs])
        for key in ("jwks", "cache_hits", "cache_misses", "non2xx", "sock_errors", "log_lines"):
            row[key] = sum(x[key] for x in runs)
        row["ratio"] = median([x["rps"] / b["rps"] for x, b in zip(runs, bases)])
        # What the requests/s ratio would be if Apache's CPU set the pace in both runs.
        row["cpu_ratio"] = median([b["cpu_us"] / x["cpu_us"] for x, b in zip(runs, bases) if x["cpu_us"] > 0] or [0])
        row["added_us"] = median([x["cpu_us"] - b["cpu_us"] for x, b in zip(runs, bases)])
        row["ratios"] = [x["rps"] / b["rps"] for x, b in zip(runs, bases)]
        row["log_samples"] = next((x["log_samples"] for x in runs if x["log_samples"]), [])
        rows.append(row)
    return rows


def memory_run(s, apache, files):
    """Child RSS before and after BENCH_MEMORY_REQUESTS requests with the distinct tokens."""
    url = apache.url("/authos/")
    done = 0
    while done < 10000:                     # the 10k-request point
        done += wrk(s, url, files["many"], 1)["requests"]
    before, before_count = apache.rss_kib(), done
    print("memory: %d requests, child RSS %s KiB" % (done, before), flush=True)
    total = 0
    while total < s["memory_requests"]:
        total += wrk(s, url, files["many"], 10)["requests"]
        print("  %d requests" % total, flush=True)
    after = apache.rss_kib()
    print("memory: +%d requests, child RSS %s KiB" % (total, after), flush=True)
    return {"before": before, "before_requests": before_count, "after": after, "requests": total}


def shm_sizes(log_text):
    """[(what, bytes)] from the module's startup lines (the last start's values)."""
    sizes = {}
    for what, size in re.findall(r"AUTHOS0063: shared memory for the (.+?): (\d+) bytes", log_text):
        sizes[what] = int(size)
    return sorted(sizes.items())


# ------------------------------------------------------------------ report
def targets(s, rows, verify_us, memory):
    """The performance issue's targets against this run's figures."""
    def row(module, workload):
        return next((r for r in rows if r["module"] == module and r["workload"] == workload), None)
    out = ["", "## Against the targets", ""]
    for workload, floor, peer_x in (("one", 0.95, 1.9), ("many", 0.70, 2.2)):
        mine = row("mod_auth_authos", workload)
        if mine is None:
            continue
        what = "one reused token" if workload == "one" else "distinct tokens"
        line = "- %s: %.2fx no auth (target %.2fx: %s), %.1f us added" % (
            what, mine["ratio"], floor, "met" if mine["ratio"] >= floor else "NOT met", mine["added_us"])
        line += "; by Apache CPU per request %.2fx (%s)" % (
            mine["cpu_ratio"], "met" if mine["cpu_ratio"] >= floor else "NOT met")
        if mine["busy"] < 0.9:
            line += " [CPU %d was only %.0f%% busy: the client set the pace, not Apache]" % (
                s["apache_cpu"], mine["busy"] * 100)
        if workload == "many":
            line += ", %.1f us beyond one RSA verify (target about 10 us)" % (mine["added_us"] - verify_us)
        peers = [r for r in (row("mod_auth_openidc", workload), row("mod_oauth2", workload)) if r]
        if peers:
            best = max(peers, key=lambda r: r["ratio"])
            line += "; %.1fx the better peer, %s (target %.1fx: %s)" % (
                mine["ratio"] / best["ratio"], best["module"], peer_x,
                "met" if mine["ratio"] / best["ratio"] >= peer_x else "NOT met")
        out.append(line + ".")
        same = next((r for r in rows if r["name"] == "noauth-" + workload), None)
        if same:
            out.append("  Against the same requests without authentication: %.2fx, %.1f us added by the "
                       "module itself." % (mine["ratio"] / same["ratio"], mine["added_us"] - same["added_us"]))
        out.append("  JWKS fetches during its runs: %d; verified-token cache: %s hits, %s misses." % (
            mine["jwks"], "{:,}".format(mine["cache_hits"]), "{:,}".format(mine["cache_misses"])))
    if memory:
        growth = [memory["after"][p] - memory["before"][p] for p in memory["after"] if p in memory["before"]]
        if growth:
            out.append("- RSS growth over %s requests: at most %+d KiB per child (target under 1024 KiB: %s)." % (
                "{:,}".format(memory["requests"]), max(growth), "met" if max(growth) < 1024 else "NOT met"))
    return out


def ms(us):
    return "%.2f ms" % (us / 1000.0)


def report(s, rows, verify, info, loads, memory):
    """The Markdown text: a summary like issue 5's table, the full table, then notes."""
    base = next(r for r in rows if r["name"] == "noauth")
    verify_rate, verify_us = verify
    limit_ratio = base["cpu_us"] / (base["cpu_us"] + verify_us)
    n = "{:,}".format(s["tokens"])
    default_module = s["module"] == REPO / ".libs" / "mod_auth_authos.so"
    module = "mod_auth_authos built from %s" % info["commit"] if default_module else str(s["module"])
    out = ["# mod_auth_authos benchmark", "",
           "`make bench` (bench/run.py), %s, %s. %s (%d CPUs), Linux %s. Apache %s "
           "(mpm_event, %d children x %d threads) pinned to CPU %d; wrk %s `-t%d -c%d -d%ds --latency` "
           "and the stub issuer on CPU %d. A 100-byte static file over keep-alive connections, RS256 "
           "tokens from a 2048-bit key. Ratios are requests/s against no authentication in the same run." % (
               datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), module, info["cpu"],
               info["cpus"], info["kernel"], info["apache"], s["apache_procs"], s["apache_threads"],
               s["apache_cpu"], info["wrk"], s["threads"], s["connections"], s["duration"],
               s["client_cpu"]), "",
           "| configuration | one reused token | %s distinct tokens | Apache CPU added per request "
           "(one / distinct) |" % n, "|---|---|---|---|", "| no authentication | 1.00 | 1.00 | - |"]
    same = [next((r for r in rows if r["name"] == "noauth-" + w), None) for w in ("one", "many")]
    if any(same):
        out.append("| no authentication, the same requests (their `Authorization` header read by Apache, "
                   "not checked) | %s | %s | %s |" % (
                       *["%.2f" % r["ratio"] if r else "-" for r in same],
                       " / ".join("%.1f us" % r["added_us"] if r else "-" for r in same)))
    for module, label in MODULE_LABELS.items():
        cells = [next((r for r in rows if r["module"] == module and r["workload"] == w), None)
                 for w in ("one", "many")]
        if not any(cells):
            continue
        ratios = ["%.2f" % r["ratio"] if r else "-" for r in cells]
        added = " / ".join("%.1f us" % r["added_us"] if r else "-" for r in cells)
        out.append("| %s | %s | %s | %s |" % (label.format(**info), ratios[0], ratios[1], added))
    out += ["| limit: one RS256 verify per new token (`openssl speed rsa2048`: %.1f us) | about 1.00 "
            "| %.2f | %.1f us |" % (verify_us, limit_ratio, verify_us), "",
            "| configuration | requests/s | vs no auth | vs no auth, each round | vs no auth by CPU | p50 | p99 "
            "| Apache CPU per request | added vs no auth | CPU %d busy | JWKS fetches | cache hits / misses "
            "| failed requests |" % s["apache_cpu"],
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        added = "-" if r is base else "%.1f us" % r["added_us"]
        cache = "%s / %s" % ("{:,}".format(r["cache_hits"]), "{:,}".format(r["cache_misses"])) \
            if r["module"] == "mod_auth_authos" else "-"
        out.append("| %s | %.0f | %.2f | %s | %.2f | %s | %s | %.1f us | %s | %.0f%% | %d | %s | %d |" % (
            r["label"], r["rps"], r["ratio"], " ".join("%.2f" % x for x in r["ratios"]), r["cpu_ratio"],
            ms(r["p50_us"]), ms(r["p99_us"]), r["cpu_us"], added, r["busy"] * 100, r["jwks"], cache,
            r["non2xx"] + r["sock_errors"]))
    out += ["| limit: no auth + one RSA-2048 verify per request | %.0f | %.2f | - | %.2f | - | - | %.1f us "
            "| %.1f us | - | - | - | - |" % (
                base["rps"] * limit_ratio, limit_ratio, limit_ratio, base["cpu_us"] + verify_us, verify_us),
            "",
            "- %d round%s of %ds per configuration, cut into slices of %ds that run the configurations "
            "in turn (the order rotating from slice to slice), so that all of them see the same drifts "
            "of the machine's speed; a configuration's figures in a round are its sums over its slices "
            "(latencies: the median of its slices'), its ratio and added CPU are taken against the "
            "no-auth figures of the same round, and the tables show the median over the rounds "
            "(JWKS fetches, cache counts and failures are summed)." % (
                s["rounds"], "" if s["rounds"] == 1 else "s", s["duration"], min(s["slice"], s["duration"])),
            "- RSA-2048 verify on CPU %d: %.0f verifies/s, %.1f us per verify (`openssl speed -seconds %d "
            "rsa2048`, %s). The limit rows add one verify to the no-auth CPU per request." % (
                s["apache_cpu"], verify_rate, verify_us, s["openssl_seconds"], info["openssl"]),
            "- Apache CPU per request: utime+stime of all Apache processes over the run, divided by the "
            "requests wrk completed; the kernel's loopback network work done in interrupt context is "
            "not in it, but is in \"CPU %d busy\" (from /proc/stat). \"vs no auth by CPU\": no auth's "
            "Apache CPU per request over the configuration's, the requests/s ratio Apache's CPU allows; "
            "it is the fairer figure where the CPU was not fully busy (wrk, sending a different token "
            "with each request through its Lua script, then sets the pace)." % s["apache_cpu"],
            "- Each configuration was first checked: a good token gets 200 and the file, a token with a "
            "wrong signature or no token gets 401, then warmed up for %ds (this module's distinct-token "
            "workload until its caches were full). The distinct tokens are "
            "cycled in order, each run going on where the previous run to the same location stopped, so "
            "a token comes back there only after all %s others; the verified-token cache's hits and misses are read from the "
            "module's metrics handler around each run. Failed requests: non-2xx answers and socket "
            "errors; JWKS fetches: those the stub issuer saw during the measured runs." % (
                s["warmup"], "{:,}".format(s["tokens"] - 1)),
            "- mod_auth_authos fetches the key set over http (`AuthOSAllowHTTP On`); mod_auth_openidc "
            "over https, trusting the stub's self-signed certificate through `OIDCCABundlePath`; "
            "mod_oauth2 3.3.1 has no CA bundle option, so it fetches the same https URI with "
            "`jwks_uri.ssl_verify=false`. Both peers run with their default caches.",
            "- Other load, sampled for 1 s with nothing of the benchmark running: before the run %s; "
            "after it %s." % loads]
    for r in rows:
        if r["log_lines"]:
            out.append("- Error log during %s: %d lines at LogLevel warn, e.g. `%s`" % (
                r["name"], r["log_lines"], r["log_samples"][0].replace("`", "'")))
    out += targets(s, rows, verify_us, memory)
    if memory:
        out += ["", "## Memory", "",
                "Each Apache child's resident set (VmRSS) at start, after the measured rounds and "
                "%s more requests with the %s distinct tokens (the caches hold what they will hold), "
                "and after %s further such requests:" % (
                    "{:,}".format(memory["before_requests"]), n, "{:,}".format(memory["requests"])), "",
                "| child | at start | before | after | growth over the %s requests |" %
                "{:,}".format(memory["requests"]), "|---|---|---|---|---|"]
        for pid in sorted(set(memory["start"]) | set(memory["before"]) | set(memory["after"])):
            cells = [memory[k].get(pid) for k in ("start", "before", "after")]
            growth = ("%+d KiB" % (cells[2] - cells[1])) if None not in cells[1:] else "(not alive throughout)"
            out.append("| %d | %s | %s | %s | %s |" % (
                pid, *["-" if c is None else "%d KiB" % c for c in cells], growth))
        out += ["", "Shared memory the module made: %s; the verified-token cache is per process "
                "(AuthOSTokenCache entries per child, on the heap, in the RSS above)." % (
                    ", ".join("%s %s bytes" % (what, "{:,}".format(size)) for what, size in memory["shm"])
                    or "(no AUTHOS0063 line in the log)")]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ main
def main():
    s = settings()
    if (os.cpu_count() or 1) < 2 or s["apache_cpu"] == s["client_cpu"]:
        raise BenchError("needs two CPUs: BENCH_APACHE_CPU and BENCH_CLIENT_CPU must differ")
    ensure_packages()
    if not s["module"].exists():
        raise BenchError("%s not found: run `make` first (or `make bench`)" % s["module"])
    info = versions()
    cpus = (s["apache_cpu"], s["client_cpu"])
    load_before = describe_load(cpu_load(cpus))
    print("RSA-2048 verify rate (openssl speed, %d s per operation, CPU %d)..." % (
        s["openssl_seconds"], s["apache_cpu"]), flush=True)
    verify = openssl_verify_rate(s["apache_cpu"], s["openssl_seconds"])
    print("  %.0f verifies/s, %.1f us per verify" % verify, flush=True)
    os.sched_setaffinity(0, {s["client_cpu"]})   # the stub's threads and wrk share the client CPU
    workdir = Path(tempfile.mkdtemp(prefix="authos-bench-"))
    apache = stub = tls = None
    ok = False
    try:
        stub = authos_stub.AuthOSStub().start()
        tls = tls_stub.TLSListener(stub, workdir).start()
        print("stub issuer %s, TLS listener %s" % (stub.base_url, tls.base_url), flush=True)
        tokens = mint_tokens(stub, workdir, s["tokens"])
        files = {"one": workdir / "one.txt", "many": workdir / "many.txt"}
        options = {"module": s["module"], "cpu": s["apache_cpu"], "procs": s["apache_procs"],
                   "threads": s["apache_threads"], "authos_conf": s["authos_conf"]}
        apache = Apache(workdir / "httpd", options, stub.base_url, tls.base_url, tls.ca_file).start()
        print("apache2 pid %d on port %d, CPU %d; config %s" % (
            apache.proc.pid, apache.port, s["apache_cpu"], apache.conf), flush=True)
        rss_start = apache.rss_kib()
        for config in s["configs"]:
            prepare(s, apache, files, tokens, config)
        rounds = []
        for i in range(s["rounds"]):
            print("round %d of %d" % (i + 1, s["rounds"]), flush=True)
            rounds.append(measure_round(s, apache, stub, files, s["configs"]))
        rows = combine(rounds)
        memory = None
        if s["memory_requests"] > 0:
            memory = memory_run(s, apache, files)
            memory["start"] = rss_start
            memory["shm"] = shm_sizes(apache.log_text())
        ok = True
    finally:
        if apache is not None:
            apache.stop()
        if tls is not None:
            tls.stop()
        if stub is not None:
            stub.stop()
        if ok and not s["keep"]:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("temporary directory kept: %s" % workdir, file=sys.stderr)
    load_after = describe_load(cpu_load(cpus))
    text = report(s, rows, verify, info, (load_before, load_after), memory)
    print("\n" + text)
    s["out"].parent.mkdir(parents=True, exist_ok=True)
    s["out"].write_text(text)
    print("written to %s" % s["out"])


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    try:
        main()
    except (BenchError, ApacheError) as exc:
        print("bench: %s" % exc, file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)

#!/usr/bin/python3
"""Instructions per request of mod_auth_authos, counted by callgrind (make profile).

    bench/profile            # after `make`
    make profile             # builds first

Timings on a shared machine drift by several percent between runs; instruction
counts do not.  This runs one Apache in single-process mode (`apache2 -X`)
under `valgrind --tool=callgrind`, with collection switched on only inside the
module's request hooks (header stripping, authentication, the fixups that
export claims), and sends from one connection:

1. PROFILE_REQUESTS distinct tokens never seen before (verified-token cache
   misses: the RS256 verify and the claim parsing);
2. PROFILE_REQUESTS requests with one token already verified (cache hits).

Each phase runs in an Apache of its own, after a first request with the token
of the hit phase (it fetches the key set); a third Apache serves only that first
request, and its count is subtracted.  The report gives instructions per
request for a miss and for a hit, the instructions of the RSA public-key
operation inside a miss (OpenSSL's BN_mod_exp_mont), and the functions that
cost the most, inclusive, per phase.  Callgrind runs on the virtual CPU of
valgrind: SHA-256 without the CPU's SHA instructions costs more than natively.

Environment: PROFILE_REQUESTS [300], PROFILE_TOP [15], AUTHOS_MODULE
[.libs/mod_auth_authos.so], PROFILE_KEEP=1 (keep the temporary directory).
"""

import os
import re
import shutil
import signal
import socket
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
from bench_apache import APACHE_BIN, AUDIENCE, BODY, MODULES_DIR  # noqa: E402

# The module's request hooks (the location uses Require valid-user: no authos-* provider runs).
HOOKS = ("authos_strip_headers", "authos_check_authn", "authos_fixups")


class ProfileError(Exception):
    pass


def config(root, port, module, issuer):
    out = subprocess.run([APACHE_BIN, "-l"], capture_output=True, text=True).stdout
    builtin = set(re.findall(r"mod_(\w+)\.c", out))
    loads = ["LoadModule %s_module %s/mod_%s.so" % (m, MODULES_DIR, m)
             for m in ("mpm_event", "authn_core", "authz_core", "authz_user") if m not in builtin]
    return "\n".join(["ServerRoot \"%s\"" % root, "ServerName 127.0.0.1",
                      "DefaultRuntimeDir \"%s/run\"" % root, "PidFile \"%s/run/httpd.pid\"" % root,
                      "Listen 127.0.0.1:%d" % port] + loads + [
        'LoadModule auth_authos_module "%s"' % module,
        "ErrorLog \"%s/logs/error.log\"" % root, "LogLevel warn",
        "KeepAlive On", "MaxKeepAliveRequests 0", "Timeout 300",
        "DocumentRoot \"%s/htdocs\"" % root,
        "<Directory \"%s/htdocs\">\n    Require all granted\n</Directory>" % root,
        "<Location /authos/>",
        "    AuthType authos", "    AuthName profile", "    AuthOSBaseURL %s" % issuer,
        "    AuthOSAllowHTTP On", "    AuthOSAudience %s" % AUDIENCE, "    Require valid-user",
        "</Location>", ""])


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(proc, port, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise ProfileError("apache2 under valgrind exited at startup")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise ProfileError("apache2 under valgrind did not listen on %d" % port)


def run_apache(root, module, stub, first, tokens):
    """Start apache2 -X under callgrind in root, send first then tokens (one connection), stop it;
    returns the callgrind output file."""
    for sub in ("logs", "run", "htdocs/authos"):
        (root / sub).mkdir(parents=True)
    (root / "htdocs" / "authos" / "file.txt").write_bytes(BODY)
    # As root, valgrind and apache2 run as www-data from the start (callgrind creates its output
    # file at startup and writes it at exit, after apache2 would have switched users).
    for path in [root.parent, root] + [Path(d) / x for d, ds, fs in os.walk(root) for x in ds + fs]:
        os.chmod(path, os.stat(path).st_mode | (0o007 if path.is_dir() else 0o006))
    port = free_port()
    conf = root / "httpd.conf"
    conf.write_text(config(root, port, module, stub.base_url))
    out = root / "callgrind.out"
    cmd = ["runuser", "-u", "www-data", "--"] if os.geteuid() == 0 else []
    cmd += ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % out, "--collect-atstart=no"]
    cmd += ["--toggle-collect=%s" % h for h in HOOKS]
    cmd += [APACHE_BIN, "-X", "-f", str(conf)]
    env = dict(os.environ, LANG="C", APACHE_RUN_DIR=str(root / "run"))
    with open(root / "valgrind.log", "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_listening(proc, port, 120)
        url = "http://127.0.0.1:%d/authos/file.txt" % port
        session = requests.Session()
        session.trust_env = False
        for token in [first] + tokens:
            reply = session.get(url, headers={"Authorization": "Bearer " + token}, timeout=120)
            if reply.status_code != 200:
                raise ProfileError("a good token got %d" % reply.status_code)
        session.close()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
    if not out.exists() or out.stat().st_size == 0:
        raise ProfileError("callgrind wrote no profile (%s)" % (root / "valgrind.log"))
    return out


def annotate(path):
    """(total Ir, {function: inclusive Ir}) of one callgrind output."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(path)],
                         capture_output=True, text=True).stdout
    total = re.search(r"^\s*([\d,]+).*PROGRAM TOTALS", out, re.M)
    funcs = {}
    for ir, name in re.findall(r"^\s*([\d,]+) \([^)]*\)\s+\S*:(\S+)", out, re.M):
        funcs.setdefault(name, int(ir.replace(",", "")))   # the first (largest) line of a name
    return (int(total.group(1).replace(",", "")) if total else 0), funcs


def top_functions(run, base, n, per, top):
    """Functions by inclusive instructions per request, less the first request's; frames that hold
    the whole hook (threads, httpd's request loop, the hooks themselves) and unnamed ones left out."""
    rows = []
    for name, ir in run.items():
        cost = (ir - base.get(name, 0)) // n
        if cost <= 0 or cost >= per * 0.98 or name.startswith("0x"):
            continue
        rows.append((cost, name))
    return sorted(rows, reverse=True)[:top]


def main():
    n = int(os.environ.get("PROFILE_REQUESTS", "300"))
    top = int(os.environ.get("PROFILE_TOP", "15"))
    module = Path(os.environ.get("AUTHOS_MODULE", str(REPO / ".libs" / "mod_auth_authos.so")))
    if not module.exists():
        raise ProfileError("%s not found: run `make` first" % module)
    if shutil.which("valgrind") is None:
        raise ProfileError("valgrind is not installed (apt-get install valgrind)")
    work = Path(tempfile.mkdtemp(prefix="authos-profile-"))
    stub = authos_stub.AuthOSStub().start()
    try:
        one = stub.mint(exp_in=86400)
        many = [stub.mint(exp_in=86400) for _ in range(n)]
        runs = {"first": run_apache(work / "first", module, stub, one, []),
                "misses": run_apache(work / "misses", module, stub, one, many),
                "hits": run_apache(work / "hits", module, stub, one, [one] * n)}
        base_total, base_funcs = annotate(runs["first"])
        print("mod_auth_authos under callgrind: %d requests per phase, instructions inside the "
              "module's request hooks (%s)" % (n, ", ".join(HOOKS)))
        for label, name in (("cache miss (new token)", "misses"), ("cache hit (same token)", "hits")):
            total, funcs = annotate(runs[name])
            per = (total - base_total) // n
            rsa = (funcs.get("BN_mod_exp_mont", 0) - base_funcs.get("BN_mod_exp_mont", 0)) // n
            print("\n%s: %d instructions per request%s" % (
                label, per, ", %d of them in BN_mod_exp_mont (the RSA public-key operation), %d "
                "outside it" % (rsa, per - rsa) if rsa > 0 else ""))
            for cost, fn in top_functions(funcs, base_funcs, n, per, top):
                print("  %9d  %s" % (cost, fn))
    finally:
        stub.stop()
        if os.environ.get("PROFILE_KEEP", "") in ("", "0"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept %s" % work, file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except ProfileError as exc:
        print("profile: %s" % exc, file=sys.stderr)
        sys.exit(1)

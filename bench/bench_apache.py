"""The benchmark's Apache: one apache2 (mpm_event) in a throwaway server root, pinned to one CPU.

    apache = Apache(root, options, issuer_url, tls_url, ca_file).start()
    apache.url("/authos/")           # the 100-byte file under that location
    apache.cpu_seconds()             # utime+stime of every Apache process so far
    apache.core_times()              # (busy, total) ticks of its CPU, from /proc/stat
    apache.stop()

options: module (path of mod_auth_authos.so), cpu, procs and threads (children and
ThreadsPerChild), authos_conf (extra server-config lines).  The locations:
/noauth/ (none), /authos/ (this module, AuthOSBaseURL issuer_url over http),
/bench-metrics (the module's metrics handler), /openidc/ (mod_auth_openidc, AuthType oauth20, JWKS from tls_url trusted through
OIDCCABundlePath ca_file), /oauth2/ (mod_oauth2, JWKS from tls_url; mod_oauth2
3.3.1 has no CA option, hence jwks_uri.ssl_verify=false).
"""

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

APACHE_BIN = "/usr/sbin/apache2"
MODULES_DIR = "/usr/lib/apache2/modules"
JWKS_PATH = "/.well-known/jwks.json"
AUDIENCE = "service:acme/billing"
LOCATIONS = ("noauth", "authos", "openidc", "oauth2")
BODY = b"mod_auth_authos benchmark: the 100-byte static file served under every location." + b"." * 19 + b"\n"
CLK_TCK = os.sysconf("SC_CLK_TCK")
assert len(BODY) == 100


class ApacheError(RuntimeError):
    pass


def apache_config(root, port, options, issuer_url, tls_url, ca_file):
    out = subprocess.run([APACHE_BIN, "-l"], capture_output=True, text=True).stdout
    builtin = set(re.findall(r"mod_(\w+)\.c", out))
    loads = ["LoadModule %s_module %s/mod_%s.so" % (m, MODULES_DIR, m)
             for m in ("mpm_event", "authn_core", "authz_core", "authz_host", "authz_user") if m not in builtin]
    loads += ['LoadModule auth_authos_module "%s"' % options["module"],
              "LoadModule auth_openidc_module %s/mod_auth_openidc.so" % MODULES_DIR,
              "LoadModule oauth2_module %s/mod_oauth2.so" % MODULES_DIR]
    user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
    procs, threads = options["procs"], options["threads"]
    return f"""# Written by bench/run.py for one run.
ServerRoot "{root}"
ServerName 127.0.0.1
DefaultRuntimeDir "{root}/run"
PidFile "{root}/run/httpd.pid"
Listen 127.0.0.1:{port}
{chr(10).join(loads)}
{user}
StartServers {procs}
ServerLimit {procs}
ThreadsPerChild {threads}
MaxRequestWorkers {procs * threads}
MinSpareThreads {threads}
MaxSpareThreads {procs * threads}
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
ErrorLog "{root}/logs/error.log"
LogLevel warn auth_authos:notice
DocumentRoot "{root}/htdocs"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{root}/htdocs">
    AllowOverride None
    Require all granted
</Directory>

{options["authos_conf"]}
OIDCCABundlePath "{ca_file}"
OIDCOAuthVerifyJwksUri {tls_url}{JWKS_PATH}

<Location /authos/>
    AuthType authos
    AuthName bench
    AuthOSBaseURL {issuer_url}
    AuthOSAllowHTTP On
    AuthOSAudience {AUDIENCE}
    Require valid-user
</Location>
<Location /openidc/>
    AuthType oauth20
    AuthName bench
    Require valid-user
</Location>
<Location /oauth2/>
    AuthType oauth2
    AuthName bench
    OAuth2TokenVerify jwks_uri {tls_url}{JWKS_PATH} jwks_uri.ssl_verify=false
    Require valid-user
</Location>
<Location /bench-metrics>
    SetHandler authos-metrics
    Require ip 127.0.0.1
</Location>
"""


def children_rss_kib(parent):
    """{pid: VmRSS in KiB} of each child process of parent (read from /proc)."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as fh:
                text = fh.read()
            if int(text[text.rindex(")") + 2:].split()[1]) != parent:
                continue
            with open("/proc/%s/status" % entry) as fh:
                out[int(entry)] = next(int(ln.split()[1]) for ln in fh if ln.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return out


class Apache:
    """One apache2 in the foreground under taskset; stopped through its own pid."""

    def __init__(self, root, options, issuer_url, tls_url, ca_file):
        self.root = root = Path(root)
        for sub in ("conf", "logs", "run", "htdocs"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for location in LOCATIONS:
            (root / "htdocs" / location).mkdir(exist_ok=True)
            (root / "htdocs" / location / "file.txt").write_bytes(BODY)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.conf = root / "conf" / "httpd.conf"
        self.conf.write_text(apache_config(root, self.port, options, issuer_url, tls_url, ca_file))
        self.error_log = root / "logs" / "error.log"
        self.cpu = options["cpu"]
        self.proc = None
        self._stdout = None
        tree = [Path(d) / n for d, dirs, files in os.walk(root) for n in dirs + files]
        for path in [root.parent, root] + tree:   # readable by www-data
            os.chmod(path, os.stat(path).st_mode | (0o005 if path.is_dir() else 0o004))

    def start(self, timeout=20.0):
        env = dict(os.environ, LANG="C", APACHE_RUN_DIR=str(self.root / "run"))
        checked = subprocess.run([APACHE_BIN, "-t", "-f", str(self.conf)], env=env,
                                 capture_output=True, text=True)
        if checked.returncode != 0:
            raise ApacheError("apache2 -t failed (%s):\n%s" % (self.conf, checked.stderr))
        self._stdout = open(self.root / "logs" / "stdout.log", "wb")
        self.proc = subprocess.Popen(["taskset", "-c", str(self.cpu), APACHE_BIN, "-f", str(self.conf),
                                      "-DFOREGROUND"], env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._stdout, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise ApacheError("apache2 exited at startup:\n" + self.log_text())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise ApacheError("apache2 did not start listening on port %d" % self.port)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)   # the session this apache2 leads
                self.proc.wait(5)
        if self._stdout is not None:
            self._stdout.close()
            self._stdout = None

    def url(self, location):
        return "http://127.0.0.1:%d%sfile.txt" % (self.port, location)

    def token_cache_counts(self):
        """(hits, misses) of the module's verified-token cache, summed over the children
        (read from its metrics handler at /bench-metrics)."""
        url = "http://127.0.0.1:%d/bench-metrics" % self.port
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=15) as resp:
            text = resp.read().decode()
        counts = {}
        for name in ("authos_token_cache_hits_total", "authos_token_cache_misses_total"):
            found = re.search(r"^%s (\d+)$" % name, text, re.M)
            if found is None:
                raise ApacheError("%s not in the module's metrics" % name)
            counts[name] = int(found.group(1))
        return counts["authos_token_cache_hits_total"], counts["authos_token_cache_misses_total"]

    def cpu_seconds(self):
        """utime+stime of the parent (with its reaped children) and of its live children."""
        ticks = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as fh:
                    text = fh.read()
            except OSError:
                continue
            fields = text[text.rindex(")") + 2:].split()   # from field 3 (state) on
            ppid, times = int(fields[1]), [int(v) for v in fields[11:15]]   # utime stime cutime cstime
            if int(entry) == self.proc.pid:
                ticks += sum(times)
            elif ppid == self.proc.pid:
                ticks += times[0] + times[1]
        return ticks / CLK_TCK

    def rss_kib(self):
        """{pid: VmRSS in KiB} of each child."""
        return children_rss_kib(self.proc.pid)

    def core_times(self):
        """(busy, total) clock ticks of Apache's CPU from /proc/stat, interrupt time included."""
        with open("/proc/stat") as fh:
            for line in fh:
                fields = line.split()
                if fields[0] == "cpu%d" % self.cpu:
                    ticks = [int(v) for v in fields[1:9]]   # user nice system idle iowait irq softirq steal
                    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)
        raise ApacheError("cpu%d is not in /proc/stat" % self.cpu)

    def log_size(self):
        return self.error_log.stat().st_size if self.error_log.exists() else 0

    def log_text(self, offset=0):
        if not self.error_log.exists():
            return ""
        with open(self.error_log, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode("utf-8", "replace")

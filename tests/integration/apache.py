"""Run a real Debian apache2 with mod_auth_authos in a throwaway server root.

    server = ApacheServer(tmp_path / "httpd", extra_conf=f'''
        <Location /cgi-bin/>
            AuthType authos
            AuthName test
            AuthOSJWKSURL {stub.jwks_url}
            ...
        </Location>
        Alias /x "@ROOT@/htdocs/hello.txt"''')   # @ROOT@, @PORT@ are filled in
    server.start()
    r = server.get("/cgi-bin/env.py", token=token)   # requests.Response
    server.stop()

The server root holds conf/httpd.conf (written by the harness; it ends with
`Include conf/extra.conf`, the caller's snippet, so a config error names a
line of the snippet itself), htdocs/ (index.html, hello.txt, data.json,
protected/, private/, listing/ without an index, ssi/index.shtml that echoes
REMOTE_USER and AUTHOS_SUB, app/env.cgi), cgi-bin/env.py (prints
{"env": {...}, "method", "body"} as JSON: every CGI variable such as
REMOTE_USER, AUTH_TYPE, AUTHOS_*, HTTP_X_AUTHOS_*), logs/error.log,
logs/access.log (the last field is %{AUTHOS_SUB}e) and run/ (PidFile, cgid
socket, mutexes).  htdocs allows `AllowOverride All` so tests can drop
.htaccess files with write_file().

apache2 runs in the foreground as a child of the test process; stop(),
graceful() and restart() signal the pid from the PidFile (SIGTERM, SIGUSR1,
SIGHUP).  The MPM is "event" or "prefork" (default: $AUTHOS_TEST_MPM, else
event).  The module comes from $AUTHOS_MODULE, else <repo>/.libs/mod_auth_authos.so.
"""

import atexit
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path


import requests

APACHE_BIN = "/usr/sbin/apache2"
MODULES_DIR = "/usr/lib/apache2/modules"
REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_MODULE = REPO_ROOT / ".libs" / "mod_auth_authos.so"
MPMS = ("event", "prefork")
# Seconds stop() lets pass after the last logged request (see stop()).
STOP_QUIET = 0.3

# Loaded in this order; "cgid"/"cgi" is added per MPM, built-in modules are skipped.
BASE_MODULES = ("authn_core", "authz_core", "authz_user", "authz_host", "mime", "dir", "alias",
                "env", "headers", "setenvif", "proxy", "proxy_http", "log_config", "unixd",
                "rewrite", "include", "autoindex")

# An error-log line at one of these levels fails the audit: "[core:warn]", "[auth_authos:error]".
AUDITED_LEVEL = re.compile(r"\[(?:[\w.-]+:)?(emerg|alert|crit|error|warn)\]")
# A child that crashed is logged at notice level; the audit flags it too.
CRASH_LINE = re.compile(r"exit signal|AH00060|AH00059|AH00061")
# httpd's own record of an access decision a test provokes on purpose (a 401/403 is
# asserted through the status code); allowed unless ApacheServer.strict_log is set.
ACCESS_DENIED_LINES = (r"AH01630: client denied by server configuration",
                       r"AH01631: user .*: authorization failure")
READY_LINE = "configured -- resuming normal operations"   # AH00489 (event), AH00163 (prefork)
READY_WAIT = 5.0   # seconds start() waits for READY_LINE once the port accepts

CGI_ENV_SCRIPT = """#!/usr/bin/python3
import json, os, sys
length = int(os.environ.get("CONTENT_LENGTH") or 0)
body = sys.stdin.buffer.read(length).decode("utf-8", "replace") if length else ""
doc = {"env": dict(os.environ), "method": os.environ.get("REQUEST_METHOD"), "body": body}
sys.stdout.write("Content-Type: application/json\\r\\n\\r\\n" + json.dumps(doc, indent=1, sort_keys=True))
"""

STATIC_FILES = {
    "htdocs/index.html": "<html><body>authos test index</body></html>\n",
    "htdocs/hello.txt": "hello world\n",
    "htdocs/data.json": '{"data": "static"}\n',
    "htdocs/protected/index.html": "<html><body>protected index</body></html>\n",
    "htdocs/protected/hello.txt": "protected hello\n",
    "htdocs/private/secret.txt": "private secret\n",
    "htdocs/listing/a.txt": "a\n",
    "htdocs/listing/b.txt": "b\n",
    "htdocs/ssi/index.shtml": ('user=<!--#echo var="REMOTE_USER" -->\n'
                               'sub=<!--#echo var="AUTHOS_SUB" -->\n'),
}

_running = {}   # pid -> ApacheServer, stopped at interpreter exit as a last resort


def resolve_module_path():
    """Path of the module under test: $AUTHOS_MODULE or <repo>/.libs/mod_auth_authos.so."""
    return os.environ.get("AUTHOS_MODULE") or str(DEFAULT_MODULE)


def session_mpm():
    mpm = os.environ.get("AUTHOS_TEST_MPM", "event") or "event"
    if mpm not in MPMS:
        raise ValueError("AUTHOS_TEST_MPM=%r: expected one of %s" % (mpm, ", ".join(MPMS)))
    return mpm


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_builtin = None


def builtin_modules():
    """Module names compiled into apache2 (e.g. log_config, unixd on Debian): never LoadModule'd."""
    global _builtin
    if _builtin is None:
        out = subprocess.run([APACHE_BIN, "-l"], capture_output=True, text=True, check=True).stdout
        _builtin = set(re.findall(r"mod_(\w+)\.c", out))
    return _builtin


def apache_env(root):
    """Environment for apache2: Debian's APACHE_* variables pointed into the server root."""
    env = dict(os.environ)
    root = str(root)
    env.update({"APACHE_RUN_DIR": root + "/run", "APACHE_LOCK_DIR": root + "/run",
                "APACHE_LOG_DIR": root + "/logs", "APACHE_PID_FILE": root + "/run/httpd.pid",
                "APACHE_RUN_USER": "www-data", "APACHE_RUN_GROUP": "www-data",
                "APACHE_CONFDIR": root + "/conf", "LANG": "C"})
    return env


class ApacheError(RuntimeError):
    pass


class ApacheServer:
    """One apache2 instance in its own server root (see the module docstring)."""

    def __init__(self, root, mpm=None, module_path=None, load_module=True, extra_conf="",
                 files=None, log_level=None, server_conf="", start_timeout=20.0):
        """root: the server root to create (e.g. pytest's tmp_path / "httpd").
        extra_conf: the snippet included last; "@ROOT@" and "@PORT@" in it (and in
        files) become the server root and port.  files: {relative path: text}
        written into the server root, e.g. {"htdocs/private/.htaccess": ...}.
        log_level: the LogLevel arguments (default "warn auth_authos:info").
        server_conf: lines placed before the LoadModule of the module under test.
        """
        self.root = Path(root).resolve()
        self.mpm = mpm or session_mpm()
        if self.mpm not in MPMS:
            raise ValueError("mpm %r: expected one of %s" % (self.mpm, ", ".join(MPMS)))
        self.load_module = load_module
        self.module_path = str(module_path or resolve_module_path())
        self.extra_conf = extra_conf
        self.server_conf = server_conf
        self.log_level = log_level or ("warn auth_authos:info" if load_module else "warn")
        self.start_timeout = start_timeout
        self.port = free_port()
        self.allowed_log_patterns = []
        self.strict_log = False
        self.proc = None
        self._config_tests = 0
        self._write_tree(files or {})

    # ------------------------------------------------------------ layout
    @property
    def conf_path(self):
        return self.root / "conf" / "httpd.conf"

    @property
    def extra_conf_path(self):
        return self.root / "conf" / "extra.conf"

    @property
    def pid_file(self):
        return self.root / "run" / "httpd.pid"

    @property
    def error_log_path(self):
        return self.root / "logs" / "error.log"

    @property
    def access_log_path(self):
        return self.root / "logs" / "access.log"

    @property
    def htdocs(self):
        return self.root / "htdocs"

    def write_file(self, relpath, text, mode=0o644):
        """Write a file below the server root (parents created, readable by www-data)."""
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.expand(text))
        os.chmod(path, mode)
        self._open_up(path.parent)
        return path

    def expand(self, text):
        """Replace the placeholders @ROOT@ and @PORT@."""
        return text.replace("@ROOT@", str(self.root)).replace("@PORT@", str(self.port))

    def _write_tree(self, files):
        for sub in ("conf", "logs", "run", "htdocs", "cgi-bin"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for relpath, text in STATIC_FILES.items():
            self.write_file(relpath, text)
        self.write_file("cgi-bin/env.py", CGI_ENV_SCRIPT, 0o755)
        self.write_file("htdocs/app/env.cgi", CGI_ENV_SCRIPT, 0o755)
        for relpath, text in files.items():
            self.write_file(relpath, text)
        self.write_config()
        self._open_up(self.root)

    def _open_up(self, path):
        """Let www-data (the children's user) read the tree: o+rx inside the server root,
        o+x on the directories above it that we own (pytest's tmp dirs are 0700)."""
        path = Path(path)
        for parent in [path] + list(path.parents):
            if parent == Path("/"):
                break
            inside = parent == self.root or self.root in parent.parents
            st = parent.stat()
            want = 0o005 if inside else 0o001
            if st.st_uid == os.geteuid() and (st.st_mode & want) != want:
                os.chmod(parent, st.st_mode | want)

    def modules_conf(self):
        """The LoadModule lines (MPM, base modules, cgi/cgid, then mod_auth_authos)."""
        names = ["mpm_" + self.mpm] + list(BASE_MODULES) + ["cgid" if self.mpm == "event" else "cgi"]
        lines = ["LoadModule %s_module %s/mod_%s.so" % (n, MODULES_DIR, n)
                 for n in names if n not in builtin_modules()]
        lines.append(self.server_conf)
        if self.load_module:
            lines.append('LoadModule auth_authos_module "%s"' % self.module_path)
        return "\n".join(lines)

    def render_config(self, include):
        """The full httpd.conf text, including `include` (a path) at the end."""
        root = self.root
        user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
        if self.mpm == "prefork":
            mpm_conf = ("StartServers 4\nMinSpareServers 4\nMaxSpareServers 8\n"
                        "MaxRequestWorkers 32\nServerLimit 32\nMaxConnectionsPerChild 0")
        else:
            mpm_conf = ("StartServers 2\nServerLimit 16\nThreadsPerChild 16\nMinSpareThreads 16\n"
                        "MaxSpareThreads 64\nMaxRequestWorkers 64\nMaxConnectionsPerChild 0")
        cgid = 'ScriptSock "%s/run/cgid.sock"' % root if self.mpm == "event" else ""
        return f"""# Written by tests/integration/apache.py: do not edit.
ServerRoot "{root}"
ServerName 127.0.0.1
DefaultRuntimeDir "{root}/run"
PidFile "{root}/run/httpd.pid"
Listen 127.0.0.1:{self.port}
{self.modules_conf()}
{user}
{mpm_conf}
{cgid}
ErrorLog "{root}/logs/error.log"
LogLevel {self.log_level}
LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{{AUTHOS_SUB}}e\\"" authos
CustomLog "{root}/logs/access.log" authos
TypesConfig /etc/mime.types
AddType text/html .shtml
AddOutputFilter INCLUDES .shtml
AddHandler cgi-script .cgi
Timeout 30
KeepAlive On
DocumentRoot "{root}/htdocs"
DirectoryIndex index.html index.shtml
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{root}/htdocs">
    Options Indexes FollowSymLinks IncludesNOEXEC ExecCGI
    AllowOverride All
    Require all granted
</Directory>
ScriptAlias /cgi-bin/ "{root}/cgi-bin/"
<Directory "{root}/cgi-bin">
    Options +ExecCGI
    AllowOverride None
    Require all granted
</Directory>
Include "{include}"
"""

    def write_config(self, extra_conf=None):
        """(Re)write httpd.conf and extra.conf; extra_conf replaces the snippet if given."""
        if extra_conf is not None:
            self.extra_conf = extra_conf
        self.extra_conf_path.write_text(self.expand(self.extra_conf) + "\n")
        self.conf_path.write_text(self.render_config(self.extra_conf_path))
        for path in (self.conf_path, self.extra_conf_path):
            os.chmod(path, 0o644)

    # --------------------------------------------------------- lifecycle
    @property
    def pid(self):
        """The parent pid from the PidFile, or None."""
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _parent_pid(self):
        """The pid to signal: the PidFile's, which must be the apache2 we started."""
        pid = self.pid
        if pid is not None and pid != self.proc.pid:
            raise ApacheError("PidFile says %d, but we started %d" % (pid, self.proc.pid))
        return self.proc.pid

    def start(self):
        """Start apache2 and wait until it serves; retries with another port if ours was taken."""
        for attempt in range(3):
            if self._start_once():
                return self
            if "AH00072" not in self._diagnostics() or attempt == 2:
                break
            self.port = free_port()
            self.write_config()
        raise ApacheError("apache2 did not start (%s)\n%s" % (self.conf_path, self._diagnostics()))

    def _start_once(self):
        if self.running:
            raise ApacheError("already running")
        self._stdout = open(self.root / "logs" / "stdout.log", "ab")
        self.proc = subprocess.Popen([APACHE_BIN, "-f", str(self.conf_path), "-DFOREGROUND"],
                                     env=apache_env(self.root), stdin=subprocess.DEVNULL,
                                     stdout=self._stdout, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        _running[self.proc.pid] = self
        ready_before = self.error_log().count(READY_LINE)
        deadline = time.time() + self.start_timeout
        accepted_at = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self._reap()
                return False
            if accepted_at is None and self.pid == self.proc.pid and self._accepts():
                accepted_at = time.time()
            # The port accepts before the MPM has installed its signal handlers;
            # a graceful() sent in between would kill apache2. So wait for the
            # MPM's ready line too (at most READY_WAIT seconds once it accepts,
            # for configurations that do not log it).
            if accepted_at is not None and (self.error_log().count(READY_LINE) > ready_before
                                            or time.time() - accepted_at > READY_WAIT):
                return True
            time.sleep(0.05)
        self.stop()
        return False

    def _accepts(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def _reap(self):
        _running.pop(self.proc.pid, None)
        self._stdout.close()

    def stop(self, timeout=20.0):
        """SIGTERM the parent (pid from the PidFile) and wait until it and its children exit.

        Debian's event MPM 2.4.71 sometimes segfaults in a child that SIGTERM catches
        within a few hundred milliseconds of a request (reproduced without this module
        loaded: about 3 in 100 stops), which the error-log audit would report as a
        crash; so stop() first lets 0.3 s pass since the last logged request."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                quiet = time.time() - self.access_log_path.stat().st_mtime
            except FileNotFoundError:
                quiet = STOP_QUIET
            if quiet < STOP_QUIET:
                time.sleep(STOP_QUIET - quiet)
            os.kill(self._parent_pid(), signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)   # the session apache2 leads: ours only
                self.proc.wait(5)
        self._reap()
        deadline = time.time() + timeout
        while self.pid_file.exists() and time.time() < deadline:
            time.sleep(0.05)
        self.proc = None

    def _signal_and_wait(self, signum, extra_conf, timeout):
        if not self.running:
            raise ApacheError("not running")
        if extra_conf is not None:
            self.write_config(extra_conf)
        before = self.error_log().count(READY_LINE)
        os.kill(self._parent_pid(), signum)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self._reap()
                self.proc = None
                raise ApacheError("apache2 exited on restart\n" + self._diagnostics())
            if self.error_log().count(READY_LINE) > before and self._accepts():
                return self
            time.sleep(0.05)
        raise ApacheError("apache2 restart timed out\n" + self._diagnostics())

    def graceful(self, extra_conf=None, timeout=20.0):
        """apachectl graceful (SIGUSR1), optionally with a new snippet; waits for the new generation."""
        return self._signal_and_wait(signal.SIGUSR1, extra_conf, timeout)

    def restart(self, extra_conf=None, timeout=20.0):
        """apachectl restart (SIGHUP), optionally with a new snippet; waits for the new generation."""
        return self._signal_and_wait(signal.SIGHUP, extra_conf, timeout)

    def config_test(self, conf_text=None, full=False):
        """Run `apache2 -t` on this server's config with conf_text as the snippet (or as the
        whole httpd.conf when full=True).  Returns (returncode, stdout + stderr).  The
        snippet goes to conf/test-N.conf, so errors name lines of the snippet itself."""
        self._config_tests += 1
        n = self._config_tests
        main = self.root / "conf" / ("httpd-test-%d.conf" % n)
        if full:
            main.write_text(self.expand(conf_text))
        else:
            snippet = self.root / "conf" / ("test-%d.conf" % n)
            snippet.write_text(self.expand(self.extra_conf if conf_text is None else conf_text) + "\n")
            main.write_text(self.render_config(snippet))
        proc = subprocess.run([APACHE_BIN, "-t", "-f", str(main)], env=apache_env(self.root),
                              capture_output=True, text=True, timeout=60)
        return proc.returncode, proc.stdout + proc.stderr

    # ------------------------------------------------------------ client
    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    def url(self, path="/"):
        return self.base_url + path

    def get(self, path, token=None, headers=None, **kwargs):
        """requests.get(url(path)) with `Authorization: Bearer token` when token is given."""
        return self.request("GET", path, token=token, headers=headers, **kwargs)

    def request(self, method, path, token=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("allow_redirects", False)
        return requests.request(method, self.url(path), headers=headers, **kwargs)

    def cgi_env(self, path="/cgi-bin/env.py", token=None, headers=None, **kwargs):
        """GET a CGI env script; returns (response, env dict or None when not 200)."""
        r = self.get(path, token=token, headers=headers, **kwargs)
        return r, (r.json()["env"] if r.status_code == 200 else None)

    # -------------------------------------------------------------- logs
    def error_log(self):
        try:
            return self.error_log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def access_log(self):
        try:
            return self.access_log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_mark(self):
        """A position in the error log; error_log_since(mark) returns what came after it."""
        return len(self.error_log())

    def error_log_since(self, mark):
        return self.error_log()[mark:]

    def wait_for_log(self, pattern, timeout=10.0, since=0):
        """Wait until a line matching the regex appears (after mark `since`); returns the match."""
        deadline = time.time() + timeout
        while True:
            match = re.search(pattern, self.error_log()[since:])
            if match or time.time() >= deadline:
                return match
            time.sleep(0.05)

    def allow_log(self, *patterns):
        """Declare regexes of [error]/[warn] lines this test expects (e.g. r"AUTHOS0012:")."""
        self.allowed_log_patterns.extend(patterns)
        return self

    def audit_error_log(self, allowed_patterns=()):
        """Every [emerg]/[alert]/[crit]/[error]/[warn] line, and every child crash line, that no
        allowed pattern (regex, searched) matches.  allow_log() patterns count as allowed, and
        so do ACCESS_DENIED_LINES unless strict_log is True."""
        patterns = list(allowed_patterns) + self.allowed_log_patterns
        if not self.strict_log:
            patterns += ACCESS_DENIED_LINES
        allowed = [re.compile(p) for p in patterns]
        bad = []
        for line in self.error_log().splitlines():
            if AUDITED_LEVEL.search(line) or CRASH_LINE.search(line):
                if not any(p.search(line) for p in allowed):
                    bad.append(line)
        return bad

    def _diagnostics(self):
        out = ""
        try:
            out = (self.root / "logs" / "stdout.log").read_text(errors="replace")
        except FileNotFoundError:
            pass
        return "--- stdout/stderr ---\n%s--- error.log ---\n%s" % (out, self.error_log()[-20000:])


@atexit.register
def _stop_leftovers():
    for server in list(_running.values()):
        try:
            server.stop(timeout=5)
        except Exception:
            pass

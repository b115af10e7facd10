"""pytest fixtures for the mod_auth_authos integration tests.

Run from the repository root with Debian's interpreter:

    AUTHOS_TEST_MPM=event   /usr/bin/python3 -m pytest tests/integration -q
    AUTHOS_TEST_MPM=prefork /usr/bin/python3 -m pytest tests/integration -q

Fixtures:
  stub            a started AuthOSStub (authos_stub.py), stopped after the test
  stub_factory    stub_factory(**AuthOSStub kwargs) -> another started stub
  apache_factory  apache_factory(extra_conf="", **ApacheServer kwargs) -> a started
                  ApacheServer; all are stopped after the test and their error logs
                  audited: any [emerg]/[alert]/[crit]/[error]/[warn] line or child
                  crash not declared allowed fails the test
  apache_mpm      the session's MPM ($AUTHOS_TEST_MPM: event or prefork)
  authos_module   path of the built module; fails (never skips) when it is missing
  browser         headless Chromium under selenium (browser_flow.start_browser),
                  quit after the test
  echo_backend    a started HTTP server answering every request with its method,
                  path and headers as JSON (a mod_proxy backend)

Declaring expected log lines (regexes, searched in each line), any of:
  @pytest.mark.allow_log(r"AUTHOS0012:", r"AH01630")     whole test
  server.allow_log(r"AUTHOS0031:")                        one server
  apache_factory.allow_log(r"AUTHOS00(4|5)\\d:")          every server of the test
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import apache  # noqa: E402
from authos_stub import AuthOSStub  # noqa: E402
from browser_flow import start_browser, stop_browser  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "allow_log(*patterns): error-log regexes this test expects at [warn] or worse")


@pytest.fixture(scope="session")
def apache_mpm():
    return apache.session_mpm()


@pytest.fixture(scope="session")
def authos_module():
    path = apache.resolve_module_path()
    if not os.path.isfile(path):
        pytest.fail("mod_auth_authos module not found at %s: run make first "
                    "(or point AUTHOS_MODULE at the built .so)" % path, pytrace=False)
    return path


@pytest.fixture
def stub():
    issuer = AuthOSStub().start()
    yield issuer
    issuer.stop()


@pytest.fixture
def stub_factory():
    made = []

    def make(**kwargs):
        issuer = AuthOSStub(**kwargs).start()
        made.append(issuer)
        return issuer

    yield make
    for issuer in made:
        issuer.stop()


class ApacheFactory:
    """Creates ApacheServers under the test's tmp_path; see the module docstring."""

    def __init__(self, request, tmp_path, mpm):
        self._request = request
        self._tmp_path = tmp_path
        self._mpm = mpm
        self.servers = []
        self.allowed_log_patterns = []

    def __call__(self, extra_conf="", start=True, load_module=True, **kwargs):
        if load_module and "module_path" not in kwargs:
            kwargs["module_path"] = self._request.getfixturevalue("authos_module")
        kwargs.setdefault("mpm", self._mpm)
        root = self._tmp_path / ("httpd%d" % len(self.servers))
        server = apache.ApacheServer(root, extra_conf=extra_conf, load_module=load_module, **kwargs)
        self.servers.append(server)
        if start:
            server.start()
        return server

    def allow_log(self, *patterns):
        self.allowed_log_patterns.extend(patterns)
        return self

    def finish(self):
        """Stop every server, then return the audit failures (one string per server)."""
        marker_patterns = [p for mark in self._request.node.iter_markers("allow_log") for p in mark.args]
        problems = []
        for server in self.servers:
            try:
                server.stop()
            except Exception as exc:   # keep stopping the others, report below
                problems.append("%s: stop failed: %s" % (server.root, exc))
            bad = server.audit_error_log(marker_patterns + self.allowed_log_patterns)
            if bad:
                problems.append("%s/logs/error.log has unexpected lines:\n  %s"
                                % (server.root, "\n  ".join(bad)))
        return problems


@pytest.fixture
def apache_factory(request, tmp_path, apache_mpm):
    factory = ApacheFactory(request, tmp_path, apache_mpm)
    yield factory
    problems = factory.finish()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _echo(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        data = json.dumps({"method": self.command, "path": self.path, "body": body,
                           "headers": [[k, v] for k, v in self.headers.items()]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _echo


@pytest.fixture
def echo_backend():
    """Started backend; .base_url is http://127.0.0.1:PORT (ProxyPass target)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    server.daemon_threads = True
    server.base_url = "http://127.0.0.1:%d" % server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser(tmp_path):
    profile = tmp_path / "chromium-profile"
    driver = start_browser(profile)
    yield driver
    stop_browser(driver, profile)

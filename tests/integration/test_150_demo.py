"""README's first command: ./scripts/demo starts a working demo (a local demo
issuer and an Apache protecting a sample CGI app).  The curl lines it prints
answer as it says, and its browser flow works in headless Chromium: the demo
issuer's sign-in page, back through the callback, the app with the user's
name, sign-out.
"""

import os
import re
import subprocess
import uuid

import pytest
import requests

import apache
from browser_flow import HTML, SESSION_COOKIE, browser_sign_in, wait_for

DEMO = apache.REPO_ROOT / "scripts" / "demo"


@pytest.fixture
def demo():
    # Under /tmp itself: the demo's Apache runs as www-data when started by root.
    run_dir = "/tmp/authos-demo-test-%s" % uuid.uuid4().hex[:12]
    env = dict(os.environ, AUTHOS_DEMO_DIR=run_dir)
    proc = subprocess.run([str(DEMO)], env=env, capture_output=True, text=True, timeout=600)
    try:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        yield proc.stdout, run_dir
    finally:
        subprocess.run([str(DEMO), "stop"], env=env, capture_output=True, timeout=60)
        subprocess.run(["rm", "-rf", run_dir], check=False)


def curl_lines(out):
    """(token file or None, URL) of every curl line the demo printed."""
    lines = []
    for line in out.splitlines():
        m = re.match(r'\s*curl -i (?:-H "Authorization: Bearer \$\(cat (\S+)\)" )?(\S+)$', line)
        if m:
            lines.append((m.group(1), m.group(2)))
    return lines


def test_demo_curl_lines_answer_as_printed(demo):
    out, _ = demo
    expected = [401, 200, 401, 403, 403, 200]   # in the order the demo prints them
    lines = curl_lines(out)
    assert len(lines) == len(expected), out
    for (token_file, url), status in zip(lines, expected):
        headers = {}
        if token_file:
            with open(token_file) as f:
                headers["Authorization"] = "Bearer " + f.read().strip()
        assert requests.get(url, headers=headers, timeout=10).status_code == status, (url, token_file)


def test_demo_browser_flow(demo, browser):
    from selenium.webdriver.common.by import By

    out, _ = demo
    app = re.search(r"In a browser: open (\S+)", out).group(1)
    # A browser without a session is sent to sign in; curl is not.
    assert requests.get(app, headers={"Accept": HTML}, allow_redirects=False, timeout=10).status_code == 302
    browser_sign_in(browser, app, "carol", "Demo app")
    assert browser.current_url == app
    assert browser.find_element(By.ID, "user").text == "carol"
    assert SESSION_COOKIE in {c["name"] for c in browser.get_cookies()}
    browser.find_element(By.ID, "sign-out").click()
    wait_for(browser, lambda d: SESSION_COOKIE not in {c["name"] for c in d.get_cookies()}, "sign-out")
    browser.get(app)
    wait_for(browser, lambda d: d.title == "AuthOS demo sign-in", "the sign-in page again")

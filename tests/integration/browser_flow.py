"""Helpers for the browser-session tests (SPEC section 11): the configuration,
a cookie-aware walk through sign-in with `requests`, and Set-Cookie parsing.

`requests` keeps no Secure cookies over http://, so cookies travel here by
hand, exactly as the module set them.
"""

import base64
import os
import re
import shutil
import urllib.parse

import pytest
import requests

AUD = "service:acme/billing"
SESSION_COOKIE = "__Host-authos"
STATE_COOKIE = "__Host-authos-login"
CALLBACK_PATH = "/authos/callback"
LOGOUT_PATH = "/authos/logout"
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def browser_conf(stub, extra="", callback_url="http://127.0.0.1:@PORT@" + CALLBACK_PATH,
                 logout_redirect="/goodbye.html"):
    """A site whose /protected/ and /cgi-bin/ need a sign-in, the callback and
    logout handlers, and extra (more directives, server config level)."""
    return """
AuthOSBaseURL {base}
AuthOSAllowHTTP On
AuthOSAudience {aud}
AuthOSTokenCookie {cookie}
AuthOSLoginURL {base}/authorize?org=acme&service=billing
AuthOSCallbackURL {callback}
AuthOSLogoutRedirect {logout_redirect}
{extra}
<Location {cb}>
    SetHandler authos-callback
</Location>
<Location {lo}>
    SetHandler authos-logout
</Location>
<Location /protected/>
    AuthType authos
    AuthName intranet
    AuthzSendForbiddenOnFailure On
    Require valid-user
</Location>
<Location /cgi-bin/>
    AuthType authos
    AuthName intranet
    AuthzSendForbiddenOnFailure On
    Require authos-org acme
</Location>
""".format(base=stub.base_url, aud=AUD, cookie=SESSION_COOKIE, callback=callback_url,
           logout_redirect=logout_redirect, extra=extra, cb=CALLBACK_PATH, lo=LOGOUT_PATH)


def set_cookies(response):
    """{name: (value, {attribute-lower: value or True})} of every Set-Cookie."""
    out = {}
    for header in response.raw.headers.getlist("Set-Cookie"):
        parts = [p.strip() for p in header.split(";")]
        name, _, value = parts[0].partition("=")
        attrs = {}
        for part in parts[1:]:
            key, eq, val = part.partition("=")
            attrs[key.lower()] = val if eq else True
        out[name] = (value, attrs)
    return out


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def state_parts(cookie_value):
    """(state, return path) of a state cookie value."""
    state, _, ret = cookie_value.partition(".")
    return state, b64url_decode(ret).decode()


def state_cookie_value(state, return_path):
    ret = base64.urlsafe_b64encode(return_path.encode()).decode().rstrip("=")
    return state + "." + ret


def start_login(server, path="/protected/hello.txt"):
    """GET path as a browser; returns (302 response, state, state cookie value)."""
    r = server.get(path, headers={"Accept": HTML})
    assert r.status_code == 302, (r.status_code, r.text)
    value, _ = set_cookies(r)[STATE_COOKIE]
    state, _ = state_parts(value)
    return r, state, value


def authorize(response):
    """Follow the 302 to the stub's /authorize; returns the fragment's fields (or the
    query's, for an ?error= answer) and the redirect target."""
    r = requests.get(response.headers["Location"], allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    target = r.headers["Location"]
    split = urllib.parse.urlsplit(target)
    fields = dict(urllib.parse.parse_qsl(split.fragment or split.query))
    return fields, target


def post_callback(server, fields, state_cookie=None, origin="same", path=CALLBACK_PATH,
                  cookies=None, **kwargs):
    """POST the callback form as the callback page's script would."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": HTML}
    if origin == "same":
        headers["Origin"] = server.base_url
    elif origin is not None:
        headers["Origin"] = origin
    jar = dict(cookies or {})
    if state_cookie is not None:
        jar[STATE_COOKIE] = state_cookie
    if jar:
        headers["Cookie"] = "; ".join("%s=%s" % kv for kv in jar.items())
    body = kwargs.pop("data", None)
    if body is None:
        body = urllib.parse.urlencode(fields)
    return server.request("POST", path, headers=headers, data=body, **kwargs)


def sign_in(server, stub, path="/protected/hello.txt"):
    """The whole flow; returns (303 response, token, session cookie value)."""
    r, state, value = start_login(server, path)
    fields, _ = authorize(r)
    assert fields["state"] == state
    done = post_callback(server, {"access_token": fields["access_token"], "state": state}, value)
    assert done.status_code == 303, (done.status_code, done.text)
    cookie, _ = set_cookies(done)[SESSION_COOKIE]
    return done, fields["access_token"], cookie


def with_cookie(server, path, cookie, accept=HTML, method="GET", **kwargs):
    headers = {"Cookie": "%s=%s" % (SESSION_COOKIE, cookie)}
    if accept:
        headers["Accept"] = accept
    headers.update(kwargs.pop("headers", {}))
    return server.request(method, path, headers=headers, **kwargs)


def login_query(location):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


STATE_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


# ------------------------------------------------ a real browser (selenium)
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 20   # seconds for one navigation step


def start_browser(profile_dir):
    """Headless Chromium driven by chromedriver; fails (never skips) when missing."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail("%s is missing: apt-get install chromium chromium-driver" % path, pytrace=False)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-dev-shm-usage", "--password-store=basic",
                "--user-data-dir=%s" % profile_dir):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    return driver


def stop_browser(driver, profile_dir):
    driver.quit()
    shutil.rmtree(profile_dir, ignore_errors=True)


def wait_for(driver, condition, what):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, WAIT).until(condition, message="waiting for %s" % what)


def browser_sign_in(driver, url, user, landing_title):
    """Open url, expect the stub issuer's sign-in page, sign in as user, and
    wait for the page titled landing_title."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    wait_for(driver, lambda d: d.title == "AuthOS demo sign-in", "the sign-in page")
    field = driver.find_element(By.ID, "username")
    field.clear()
    field.send_keys(user)
    driver.find_element(By.ID, "sign-in").click()
    wait_for(driver, lambda d: d.title == landing_title, landing_title)


def history_urls(driver):
    """Every URL in the tab's session history (Chrome DevTools Protocol)."""
    entries = driver.execute_cdp_cmd("Page.getNavigationHistory", {})["entries"]
    return [e["url"] for e in entries]

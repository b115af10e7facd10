"""The browser flow end to end in a real headless browser (Debian's chromium
and chromium-driver through python3-selenium; scripts/test installs them).

A user opens a protected CGI page, is sent to the stub AuthOS's sign-in page,
signs in, comes back through the callback (whose script moves the token from
the fragment into a POST), sees the page with their identity, has no token in
the address bar or anywhere in the history, signs out, and is sent to sign in
again.  Fails (never skips) when the browser is missing.
"""

from browser_flow import (CALLBACK_PATH, SESSION_COOKIE, STATE_COOKIE, browser_conf, browser_sign_in,
                          history_urls, wait_for)

WHOAMI = """#!/usr/bin/python3
import html, os
print("Content-Type: text/html; charset=utf-8")
print()
print("<!DOCTYPE html><html><head><title>Who am I</title></head><body>")
print("<p id='user'>%s</p>" % html.escape(os.environ.get("REMOTE_USER", "")))
print("<p id='email'>%s</p>" % html.escape(os.environ.get("AUTHOS_EMAIL", "")))
print("<form method='post' action='/authos/logout'>"
      "<button type='submit' id='sign-out'>Sign out</button></form>")
print("</body></html>")
"""


def test_sign_in_and_out_in_a_real_browser(apache_factory, stub, browser):
    from selenium.webdriver.common.by import By

    stub.login_page = True
    server = apache_factory(browser_conf(stub), start=False, log_level="warn auth_authos:info")
    server.write_file("cgi-bin/whoami.py", WHOAMI, mode=0o755)
    server.write_file("htdocs/goodbye.html",
                      "<!DOCTYPE html><html><head><title>Signed out</title></head>"
                      "<body>signed out</body></html>\n")
    server.start()
    app = server.url("/cgi-bin/whoami.py?tab=1")

    # 1. A protected page sends the browser to AuthOS's sign-in page, where
    # 2. the user signs in; the callback takes the token out of the fragment.
    browser_sign_in(browser, app, "alice", "Who am I")
    assert any(u.startswith(stub.base_url + "/authorize?org=acme&service=billing&")
               for u in history_urls(browser)), history_urls(browser)

    # 3. The page the user wanted, with their identity, and no token anywhere.
    assert browser.current_url == app
    assert browser.find_element(By.ID, "user").text == "alice"
    assert browser.find_element(By.ID, "email").text == "alice@acme.example"
    token = next(c["value"] for c in browser.get_cookies() if c["name"] == SESSION_COOKIE)
    assert stub.verify(token)["sub"] == "alice"
    for url in history_urls(browser):
        assert "access_token" not in url and token not in url and "#" not in url, url
    assert server.url(CALLBACK_PATH) + "#" not in " ".join(history_urls(browser))
    cookies = {c["name"]: c for c in browser.get_cookies()}
    assert STATE_COOKIE not in cookies               # used once, then cleared
    session = cookies[SESSION_COOKIE]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Lax"
    assert session["path"] == "/" and not session["domain"].startswith(".")
    assert browser.execute_script("return document.cookie") == ""   # HttpOnly: not for scripts
    # Back from the app goes to AuthOS's page, never to a page holding the token.
    browser.back()
    wait_for(browser, lambda d: d.current_url != app, "going back")
    assert "access_token" not in browser.current_url
    browser.forward()
    wait_for(browser, lambda d: d.title == "Who am I", "the protected page again")

    # 4. Sign out: the cookie is cleared, AuthOS is told, the user lands on the page set.
    browser.find_element(By.ID, "sign-out").click()
    wait_for(browser, lambda d: d.title == "Signed out", "the signed-out page")
    assert browser.current_url == server.url("/goodbye.html")
    assert SESSION_COOKIE not in {c["name"] for c in browser.get_cookies()}
    assert stub.count("/api/auth/logout", "POST") == 1

    # 5. The protected page now sends the browser to sign in again.
    browser.get(app)
    wait_for(browser, lambda d: d.title == "AuthOS demo sign-in", "the sign-in page again")
    log = server.error_log()
    assert "AUTHOS0085: sign-in completed" in log and "AUTHOS0090: signed out sub=alice" in log
    assert token not in log

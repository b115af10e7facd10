"""Browser sessions (SPEC section 11): the sign-in redirect, the callback page
and its POST (state, Origin, token), the session cookie, logout, and every
way the flow must fail closed: on a clear error page, with no loop and no
open redirect.  The same flow in a real browser is test_140_browser_e2e.py.
"""

import re
import time
import urllib.parse

import pytest

import apache

from browser_flow import (AUD, CALLBACK_PATH, HTML, LOGOUT_PATH, SESSION_COOKIE, STATE_COOKIE,
                          STATE_RE, authorize, browser_conf, login_query, post_callback, set_cookies,
                          sign_in, start_login, state_cookie_value, state_parts, with_cookie)

COOKIE_ATTRS = {"path": "/", "httponly": True, "secure": True, "samesite": "Lax"}


def start(apache_factory, stub, extra="", **kwargs):
    server = apache_factory(browser_conf(stub, extra, **kwargs), start=False,
                            log_level="warn auth_authos:debug")
    server.write_file("htdocs/goodbye.html", "<html><body>signed out</body></html>\n")
    server.start()
    return server


def assert_cookie_attrs(attrs, max_age=None):
    for key, value in COOKIE_ATTRS.items():
        assert attrs.get(key) == value, (key, attrs)
    assert "domain" not in attrs
    if max_age is not None:
        assert attrs["max-age"] == str(max_age), attrs


def assert_error_page(r, status, text):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("text/html")
    assert text in r.text, r.text
    assert "Location" not in r.headers          # never a redirect (no loop)
    assert SESSION_COOKIE not in set_cookies(r)
    assert r.headers["Cache-Control"] == "no-store"


# ------------------------------------------------------------- redirect
def test_browser_without_token_is_sent_to_sign_in(apache_factory, stub):
    server = start(apache_factory, stub)
    r, state, value = start_login(server, "/protected/hello.txt?a=1&b=%2F")
    assert STATE_RE.match(state)
    location = r.headers["Location"]
    assert location.startswith(stub.base_url + "/authorize?org=acme&service=billing&redirect_uri=")
    query = login_query(location)
    assert query["redirect_uri"] == server.url(CALLBACK_PATH)
    assert query["state"] == state
    assert state_parts(value)[1] == "/protected/hello.txt?a=1&b=%2F"
    assert_cookie_attrs(set_cookies(r)[STATE_COOKIE][1], max_age=600)
    assert r.headers["Cache-Control"] == "no-store"
    # A fresh state each time.
    assert start_login(server)[1] != state


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/*",
                                    "text/html;q=0", "text/html; q=0.000, application/json",
                                    "text/htmlx", "application/xhtml+xml"])
def test_api_clients_keep_their_401(apache_factory, stub, accept):
    server = start(apache_factory, stub)
    headers = {"Accept": accept} if accept is not None else {}
    r = server.get("/protected/hello.txt", headers=headers)
    assert r.status_code == 401, accept
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="intranet"'
    assert "Set-Cookie" not in r.headers


@pytest.mark.parametrize("accept", ["text/html", "TEXT/HTML", "application/json, text/html;q=0.1",
                                    "text/html;level=1"])
def test_accept_that_names_html_redirects(apache_factory, stub, accept):
    server = start(apache_factory, stub)
    assert server.get("/protected/hello.txt", headers={"Accept": accept}).status_code == 302


def test_only_get_and_head_are_sent_to_sign_in(apache_factory, stub):
    server = start(apache_factory, stub)
    assert server.request("HEAD", "/protected/hello.txt", headers={"Accept": HTML}).status_code == 302
    for method in ("POST", "PUT", "DELETE"):
        r = server.request(method, "/protected/hello.txt", headers={"Accept": HTML})
        assert r.status_code == 401, method


def test_bearer_header_still_works_and_bad_bearer_is_401(apache_factory, stub):
    server = start(apache_factory, stub)
    assert server.get("/protected/hello.txt", token=stub.mint(), headers={"Accept": HTML}).text == \
        "protected hello\n"
    r = server.get("/protected/hello.txt", token=stub.mint(exp_in=-3600), headers={"Accept": HTML})
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]


def test_without_login_url_a_browser_gets_401(apache_factory, stub):
    conf = browser_conf(stub).replace("AuthOSLoginURL", "# AuthOSLoginURL")
    server = apache_factory(conf)
    assert server.get("/protected/hello.txt", headers={"Accept": HTML}).status_code == 401


# ------------------------------------------------------------- the flow
def test_full_sign_in_sets_the_session_cookie_and_returns(apache_factory, stub):
    server = start(apache_factory, stub)
    r, state, value = start_login(server, "/cgi-bin/env.py?x=1")
    fields, target = authorize(r)
    assert target.startswith(server.url(CALLBACK_PATH) + "#access_token=")

    page = server.get(CALLBACK_PATH, headers={"Accept": HTML})
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'; script-src 'self';")
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    assert '<script src="%s?script" defer></script>' % CALLBACK_PATH in page.text
    assert '<form id="authos-form" method="post" action="%s">' % CALLBACK_PATH in page.text
    assert "<script>" not in page.text and "http" not in page.text   # no inline script, nothing third-party
    script = server.get(CALLBACK_PATH + "?script")
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert "history.replaceState" in script.text and "form.submit()" in script.text

    before = time.time()
    done = post_callback(server, {"access_token": fields["access_token"], "state": state}, value)
    assert done.status_code == 303
    assert done.headers["Location"] == "/cgi-bin/env.py?x=1"
    cookies = set_cookies(done)
    token, attrs = cookies[SESSION_COOKIE]
    assert token == fields["access_token"]
    assert_cookie_attrs(attrs)
    exp = stub.verify(token)["exp"]
    assert exp - before - 2 <= int(attrs["max-age"]) <= exp - before + 1
    assert cookies[STATE_COOKIE][0] == "" and cookies[STATE_COOKIE][1]["max-age"] == "0"

    r = with_cookie(server, "/cgi-bin/env.py?x=1", token)
    assert r.status_code == 200
    env = r.json()["env"]
    assert env["REMOTE_USER"] == stub.login_sub and env["AUTH_TYPE"] == "authos"
    assert token not in server.error_log()


def test_state_is_good_for_one_try(apache_factory, stub):
    server = start(apache_factory, stub)
    r, state, value = start_login(server)
    fields, _ = authorize(r)
    first = post_callback(server, {"access_token": fields["access_token"], "state": state}, value)
    assert first.status_code == 303
    # The browser dropped the state cookie (Max-Age=0): a replayed form has none.
    again = post_callback(server, {"access_token": fields["access_token"], "state": state})
    assert_error_page(again, 400, "expired or was started elsewhere")


def test_state_mismatch_is_refused(apache_factory, stub):
    server = start(apache_factory, stub)
    r, state, value = start_login(server)
    fields, _ = authorize(r)
    other_state = start_login(server)[1]
    bad = post_callback(server, {"access_token": fields["access_token"], "state": other_state}, value)
    assert_error_page(bad, 400, "does not belong to this browser session")
    assert set_cookies(bad)[STATE_COOKIE][1]["max-age"] == "0"
    assert "AUTHOS0083: sign-in refused: state does not match" in server.error_log()
    # An attacker's own state and cookie pair with a victim's token: still refused
    # unless both come from the same browser (login CSRF).
    bad = post_callback(server, {"access_token": fields["access_token"], "state": ""}, value)
    assert_error_page(bad, 400, "does not belong")


@pytest.mark.parametrize("cookie", [None, "", "garbage", "abc.L3g", "%s" % ("A" * 43),
                                    state_cookie_value("A" * 42, "/x")])
def test_missing_or_malformed_state_cookie_is_refused(apache_factory, stub, cookie):
    server = start(apache_factory, stub)
    r = post_callback(server, {"access_token": stub.mint(), "state": "A" * 43}, cookie)
    assert_error_page(r, 400, "expired or was started elsewhere")


@pytest.mark.parametrize("origin", [None, "null", "http://evil.example", "http://127.0.0.1",
                                    "http://127.0.0.1:1", "https://127.0.0.1:@PORT@"])
def test_foreign_or_missing_origin_is_refused(apache_factory, stub, origin):
    server = start(apache_factory, stub)
    r, state, value = start_login(server)
    fields, _ = authorize(r)
    if origin is not None:
        origin = origin.replace("@PORT@", str(server.port))
    bad = post_callback(server, {"access_token": fields["access_token"], "state": state}, value,
                        origin=origin)
    assert_error_page(bad, 403, "not sent by this site")
    assert re.search(r"AUTHOS0083: sign-in refused: Origin \S+ is not that of", server.error_log())


@pytest.mark.parametrize("error, text", [("access_denied", "access was denied"),
                                         ("temporarily_unavailable", "temporarily unavailable"),
                                         ("<script>alert(1)</script>", "ended the sign-in with an error")])
def test_authos_error_ends_on_an_error_page(apache_factory, stub, error, text):
    server = start(apache_factory, stub)
    # ?error= on the callback URL (AuthOS's documented form) ...
    r = server.get(CALLBACK_PATH + "?" + urllib.parse.urlencode({"error": error, "state": "s"}),
                   headers={"Accept": HTML})
    assert_error_page(r, 403, text)
    assert "<script>alert" not in r.text
    # ... and the stub's real answer to a refused sign-in, followed through.
    stub.login_error = error
    start_r, state, value = start_login(server)
    fields, target = authorize(start_r)
    assert "?error=" in target
    r = server.get(urllib.parse.urlsplit(target).path + "?" + urllib.parse.urlsplit(target).query,
                   headers={"Accept": HTML, "Cookie": "%s=%s" % (STATE_COOKIE, value)})
    assert_error_page(r, 403, text)
    # An error in the fragment, posted by the page's script.
    r = post_callback(server, {"access_token": "", "state": state, "error": error}, value)
    assert_error_page(r, 403, text)
    assert "<script>alert" not in r.text


def test_fragment_without_token_is_an_error_page(apache_factory, stub):
    server = start(apache_factory, stub)
    _, state, value = start_login(server)
    r = post_callback(server, {"state": state}, value)
    assert_error_page(r, 400, "did not return an access token")


@pytest.mark.parametrize("kind, reason", [
    ("expired", "expired"),
    ("mfa", "unsupported token type"),
    ("audience", "wrong audience"),
    ("foreign", "bad signature"),
    ("garbage", "malformed"),
])
def test_bad_token_ends_on_an_error_page(apache_factory, stub, kind, reason):
    server = start(apache_factory, stub)
    token = {
        "expired": lambda: stub.mint(exp_in=-3600),
        "mfa": lambda: stub.mint(header={"typ": "authos-mfa-preauth+jwt"}, token_use="mfa_preauth"),
        "audience": lambda: stub.mint(aud="service:acme/other"),
        "foreign": lambda: stub.mint(foreign=True),
        "garbage": lambda: "not.a.token",
    }[kind]()
    _, state, value = start_login(server)
    r = post_callback(server, {"access_token": token, "state": state}, value)
    assert_error_page(r, 403, "does not accept (%s)" % reason)
    assert "AUTHOS0083: sign-in refused: token refused: %s" % reason in server.error_log()
    assert token not in server.error_log() and token not in r.text


def test_mfa_preauth_fragment_from_the_issuer_is_refused(apache_factory, stub):
    server = start(apache_factory, stub)
    stub.login_mfa = True
    r, state, value = start_login(server)
    fields, _ = authorize(r)
    r = post_callback(server, {"access_token": fields["access_token"], "state": state}, value)
    assert_error_page(r, 403, "does not accept")


def test_token_too_large_for_a_cookie_is_refused(apache_factory, stub):
    server = start(apache_factory, stub)
    _, state, value = start_login(server)
    token = stub.mint(padding="x" * 4000)
    r = post_callback(server, {"access_token": token, "state": state}, value)
    assert_error_page(r, 403, "too large to keep in a browser cookie")


@pytest.mark.parametrize("body, content_type", [
    ("access_token=a&access_token=b&state=s", None),      # a field twice
    ("access_token=%zz&state=s", None),                   # bad escape
    ("access_token=a%00b&state=s", None),                 # NUL
    ("access_token=a&state=s", "text/plain"),
    ('{"access_token": "a", "state": "s"}', "application/json"),
])
def test_malformed_form_is_refused(apache_factory, stub, body, content_type):
    server = start(apache_factory, stub)
    _, _, value = start_login(server)
    kwargs = {"data": body}
    r = post_callback(server, {}, value, **kwargs) if content_type is None else \
        server.request("POST", CALLBACK_PATH, data=body,
                       headers={"Content-Type": content_type, "Origin": server.base_url,
                                "Cookie": "%s=%s" % (STATE_COOKIE, value)})
    assert_error_page(r, 400, "not readable")


def test_oversized_form_is_413(apache_factory, stub):
    server = start(apache_factory, stub)
    r = post_callback(server, {}, None, data="access_token=" + "a" * 30000)
    assert r.status_code == 413


def test_other_methods_are_405(apache_factory, stub):
    server = start(apache_factory, stub)
    for path in (CALLBACK_PATH, LOGOUT_PATH):
        r = server.request("PUT", path, data="x")
        assert r.status_code == 405, path
        assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


# ------------------------------------------------------- open redirects
@pytest.mark.parametrize("wanted", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "http:/evil.example", "/x\r\nLocation: https://evil.example",
                                    "javascript:alert(1)", "", "/" + "a" * 3000])
def test_forged_return_paths_go_home(apache_factory, stub, wanted):
    server = start(apache_factory, stub)
    r, state, _ = start_login(server)
    fields, _ = authorize(r)
    forged = state_cookie_value(state, wanted)
    done = post_callback(server, {"access_token": fields["access_token"], "state": state}, forged)
    assert done.status_code in (303, 400), done.status_code
    if done.status_code == 303:
        assert done.headers["Location"] == "/"


def test_request_for_a_scheme_relative_path_returns_home(apache_factory, stub):
    conf = browser_conf(stub) + """
<Location />
    AuthType authos
    AuthName intranet
    Require valid-user
</Location>
"""
    server = apache_factory(conf)
    for path in ("//evil.example/", "/\\evil.example/"):
        r = server.get(path, headers={"Accept": HTML})
        assert r.status_code == 302, path
        _, wanted = state_parts(set_cookies(r)[STATE_COOKIE][0])
        assert wanted == "/" or (wanted.startswith("/") and not wanted.startswith("//")
                                 and "\\" not in wanted), wanted


def test_callback_is_never_sent_to_sign_in(apache_factory, stub):
    """A callback inside a protected location must not start a sign-in
    itself (that is how a loop starts): it gets the plain 401."""
    conf = browser_conf(stub) + """
<Location /protected/cb>
    SetHandler authos-callback
</Location>
"""
    server = apache_factory(conf)
    r = server.get("/protected/cb", headers={"Accept": HTML})
    assert r.status_code == 401


# ------------------------------------------------------- session cookie
def test_session_cookie_is_accepted_on_every_protected_path(apache_factory, stub):
    server = start(apache_factory, stub)
    _, token, cookie = sign_in(server, stub)
    assert cookie == token
    assert with_cookie(server, "/protected/hello.txt", cookie).text == "protected hello\n"
    assert with_cookie(server, "/protected/hello.txt", cookie, accept="application/json").status_code == 200
    assert with_cookie(server, "/cgi-bin/env.py", cookie).json()["env"]["REMOTE_USER"] == stub.login_sub


def test_expired_session_cookie_signs_in_again(apache_factory, stub):
    server = start(apache_factory, stub, "AuthOSClockSkew 0")
    expired = stub.mint(exp_in=-10)
    r = with_cookie(server, "/protected/hello.txt", expired)
    assert r.status_code == 302 and STATE_COOKIE in set_cookies(r)
    assert "AUTHOS0081: sending the browser to sign in (expired)" in server.error_log()
    # An API client with the same cookie: 401, and the dead cookie is cleared.
    r = with_cookie(server, "/protected/hello.txt", expired, accept="application/json")
    assert r.status_code == 401
    assert set_cookies(r)[SESSION_COOKIE][1]["max-age"] == "0"


def test_session_ended_at_authos_signs_in_again(apache_factory, stub):
    server = start(apache_factory, stub, "AuthOSSessionCheck On\nAuthOSUserInfoTTL 0")
    _, _, cookie = sign_in(server, stub)
    assert with_cookie(server, "/protected/hello.txt", cookie).status_code == 200
    stub.revoke(sub=stub.login_sub)
    r = with_cookie(server, "/protected/hello.txt", cookie)
    assert r.status_code == 302 and STATE_COOKIE in set_cookies(r)
    assert "AUTHOS0081: sending the browser to sign in (session revoked)" in server.error_log()
    r = with_cookie(server, "/protected/hello.txt", cookie, accept="application/json")
    assert r.status_code == 401 and "session revoked" in r.headers["WWW-Authenticate"]
    assert set_cookies(r)[SESSION_COOKIE][1]["max-age"] == "0"


@pytest.mark.parametrize("kind", ["foreign", "audience", "garbage"])
def test_refused_session_cookie_is_cleared_not_looped(apache_factory, stub, kind):
    server = start(apache_factory, stub)
    token = {"foreign": lambda: stub.mint(foreign=True),
             "audience": lambda: stub.mint(aud="service:acme/other"),
             "garbage": lambda: "x.y.z"}[kind]()
    r = with_cookie(server, "/protected/hello.txt", token)
    assert r.status_code == 401
    value, attrs = set_cookies(r)[SESSION_COOKIE]
    assert value == "" and attrs["max-age"] == "0"
    assert_cookie_attrs(attrs)
    assert "Location" not in r.headers


def test_session_works_across_servers_behind_a_balancer(apache_factory, stub):
    """Nothing is stored server-side: sign-in started on one server finishes on
    another, and the cookie works on both."""
    first = start(apache_factory, stub)
    callback = first.url(CALLBACK_PATH)
    second = apache_factory(browser_conf(stub, callback_url=callback), start=False)
    second.write_file("htdocs/goodbye.html", "bye\n")
    second.start()
    r, state, value = start_login(first)
    fields, _ = authorize(r)
    done = post_callback(second, {"access_token": fields["access_token"], "state": state}, value,
                         origin=first.base_url)
    assert done.status_code == 303
    cookie = set_cookies(done)[SESSION_COOKIE][0]
    for server in (first, second):
        assert with_cookie(server, "/protected/hello.txt", cookie).text == "protected hello\n"


def test_no_usable_key_set_at_callback_is_503(apache_factory, stub):
    stub.set_mode("/.well-known/jwks.json", "500")
    server = start(apache_factory, stub)
    server.allow_log(r"AUTHOS0084:", r"AUTHOS00(0\d|1\d):")
    _, state, value = start_login(server)
    r = post_callback(server, {"access_token": stub.mint(), "state": state}, value)
    assert r.status_code == 503 and int(r.headers["Retry-After"]) >= 1
    assert "cannot check sign-ins right now" in r.text
    assert SESSION_COOKIE not in set_cookies(r)


# ---------------------------------------------------------------- logout
def test_logout_get_shows_a_confirmation_form(apache_factory, stub):
    server = start(apache_factory, stub)
    _, _, cookie = sign_in(server, stub)
    r = with_cookie(server, LOGOUT_PATH, cookie)
    assert r.status_code == 200
    assert '<form method="post" action="%s">' % LOGOUT_PATH in r.text
    assert "Set-Cookie" not in r.headers
    assert stub.count("/api/auth/logout") == 0


def test_logout_clears_the_cookie_and_tells_authos(apache_factory, stub):
    server = start(apache_factory, stub, "AuthOSSessionCheck On")
    _, token, cookie = sign_in(server, stub)
    assert with_cookie(server, "/protected/hello.txt", cookie).status_code == 200
    r = with_cookie(server, LOGOUT_PATH, cookie, method="POST",
                    headers={"Origin": server.base_url})
    assert r.status_code == 303 and r.headers["Location"] == "/goodbye.html"
    value, attrs = set_cookies(r)[SESSION_COOKIE]
    assert value == "" and attrs["max-age"] == "0"
    assert_cookie_attrs(attrs)
    calls = [e for e in stub.requests if e["path"] == "/api/auth/logout"]
    assert len(calls) == 1 and calls[0]["method"] == "POST"
    assert calls[0]["headers"]["Authorization"] == "Bearer " + token
    assert "AUTHOS0090: signed out sub=%s at AuthOS" % stub.login_sub in server.error_log()
    # With AuthOSSessionCheck the token stops working at once, even if replayed.
    r = server.get("/protected/hello.txt", token=token)
    assert r.status_code == 401 and "session revoked" in r.headers["WWW-Authenticate"]
    # The browser, now without a cookie, is sent to sign in again.
    assert server.get("/protected/hello.txt", headers={"Accept": HTML}).status_code == 302


@pytest.mark.parametrize("origin", [None, "null", "http://evil.example"])
def test_logout_from_another_site_is_refused(apache_factory, stub, origin):
    server = start(apache_factory, stub)
    _, _, cookie = sign_in(server, stub)
    headers = {"Origin": origin} if origin else {}
    r = with_cookie(server, LOGOUT_PATH, cookie, method="POST", headers=headers)
    assert_error_page(r, 403, "not sent by this site")
    assert stub.count("/api/auth/logout") == 0
    assert with_cookie(server, "/protected/hello.txt", cookie).status_code == 200


def test_logout_with_a_bad_cookie_never_sends_it_to_authos(apache_factory, stub):
    server = start(apache_factory, stub)
    r = with_cookie(server, LOGOUT_PATH, stub.mint(foreign=True), method="POST",
                    headers={"Origin": server.base_url})
    assert r.status_code == 303 and set_cookies(r)[SESSION_COOKIE][1]["max-age"] == "0"
    assert stub.count("/api/auth/logout") == 0
    assert "AUTHOS0087:" in server.error_log()


def test_logout_when_authos_is_down_still_signs_out_here(apache_factory, stub):
    server = start(apache_factory, stub)
    server.allow_log(r"AUTHOS0089:")
    _, _, cookie = sign_in(server, stub)
    stub.set_mode("/api/auth/logout", "500")
    r = with_cookie(server, LOGOUT_PATH, cookie, method="POST", headers={"Origin": server.base_url})
    assert r.status_code == 303 and set_cookies(r)[SESSION_COOKIE][1]["max-age"] == "0"
    assert re.search(r"AUTHOS0089: signed out sub=\S+ locally, but \S+/api/auth/logout failed: "
                     r"answered HTTP 500", server.error_log())


def test_logout_redirect_defaults_to_root(apache_factory, stub):
    conf = browser_conf(stub).replace("AuthOSLogoutRedirect /goodbye.html", "")
    server = apache_factory(conf)
    r = server.request("POST", LOGOUT_PATH, headers={"Origin": server.base_url})
    assert r.status_code == 303 and r.headers["Location"] == "/"


def test_logout_redirect_in_htaccess(apache_factory, stub):
    conf = browser_conf(stub) + 'Alias /bye "@ROOT@/htdocs/bye"\n<Directory "@ROOT@/htdocs/bye">\n' \
        '    SetHandler authos-logout\n</Directory>\n'
    server = apache_factory(conf, start=False)
    server.write_file("htdocs/bye/.htaccess", "AuthOSLogoutRedirect /see-you.html\n")
    server.write_file("htdocs/bye/index.html", "x\n")
    server.start()
    r = server.request("POST", "/bye/index.html", headers={"Origin": server.base_url})
    assert r.status_code == 303 and r.headers["Location"] == "/see-you.html"


def test_htaccess_cannot_set_login_or_callback_url(apache_factory, stub):
    server = start(apache_factory, stub)
    server.allow_log(r"not allowed here")
    for name in ("AuthOSLoginURL", "AuthOSCallbackURL"):
        server.write_file("htdocs/protected/%s/.htaccess" % name,
                          "%s https://evil.example/authorize\n" % name)
        server.write_file("htdocs/protected/%s/hello.txt" % name, "x\n")
        r = server.get("/protected/%s/hello.txt" % name, headers={"Accept": HTML})
        assert r.status_code == 500
        assert "evil.example" not in r.headers.get("Location", "")


def test_misconfigured_handlers_are_500_with_a_log_line(apache_factory, stub):
    """What only a .htaccess introduces cannot be checked at startup."""
    conf = 'AuthOSAudience %s\nAlias /h "@ROOT@/htdocs/h"\n' % AUD
    server = apache_factory(conf, start=False)
    server.allow_log(r"AUTHOS0086:", r"AUTHOS0092:")
    server.write_file("htdocs/h/cb/.htaccess", "SetHandler authos-callback\n")
    server.write_file("htdocs/h/cb/x", "x\n")
    server.write_file("htdocs/h/lo/.htaccess", "SetHandler authos-logout\n")
    server.write_file("htdocs/h/lo/x", "x\n")
    server.start()
    assert server.get("/h/cb/x").status_code == 500
    assert server.get("/h/lo/x").status_code == 500
    log = server.error_log()
    assert "AUTHOS0086: SetHandler authos-callback misconfigured" in log
    assert "AUTHOS0092: SetHandler authos-logout misconfigured" in log


def test_browser_intranet_example_works(apache_factory, stub):
    """conf-examples/browser-intranet.conf, pointed at the stub issuer and this
    server, runs the whole flow."""
    text = (apache.REPO_ROOT / "conf-examples" / "browser-intranet.conf").read_text()
    text = (text.replace("https://sso.example.com", stub.base_url)
            .replace("https://intranet.example.com", "http://127.0.0.1:@PORT@")
            .replace("/var/www/intranet", "@ROOT@/htdocs/intranet")
            .replace("AuthOSSessionCheck On", "AuthOSSessionCheck On\nAuthOSAllowHTTP On")
            .replace("service:acme/intranet", AUD))
    server = apache_factory(text, start=False)
    server.write_file("htdocs/intranet/index.html", "intranet home\n")
    server.write_file("htdocs/intranet/signed-out.html", "signed out\n")
    server.start()
    stub.set_permissions(stub.login_sub, [])
    _, _, cookie = sign_in(server, stub, "/index.html")
    assert with_cookie(server, "/index.html", cookie).text == "intranet home\n"
    r = with_cookie(server, LOGOUT_PATH, cookie, method="POST", headers={"Origin": server.base_url})
    assert r.status_code == 303 and r.headers["Location"] == "/signed-out.html"
    assert server.get("/signed-out.html").text == "signed out\n"
    assert server.get("/index.html", headers={"Accept": HTML}).status_code == 302


def signin_metrics(server):
    text = server.get("/ops/metrics").text
    return {(m.group(1), m.group(2)): int(m.group(3)) for m in
            re.finditer(r'^authos_browser_(signins|signouts)_total\{result="(\w+)"\} (\d+)$', text, re.M)}


def test_sign_ins_and_outs_are_counted(apache_factory, stub):
    server = start(apache_factory, stub, '<Location /ops/metrics>\n    SetHandler authos-metrics\n'
                   '</Location>\n')
    before = signin_metrics(server)
    assert before[("signins", "completed")] == 0
    _, _, cookie = sign_in(server, stub)                                   # redirected, completed
    _, state, value = start_login(server)                                  # redirected
    post_callback(server, {"access_token": stub.mint(), "state": "x" + state[1:]}, value)   # refused
    post_callback(server, {"access_token": stub.mint(exp_in=-3600), "state": state}, value)  # invalid
    server.get(CALLBACK_PATH + "?error=access_denied")                     # login_error
    with_cookie(server, LOGOUT_PATH, cookie, method="POST", headers={"Origin": "http://evil.example"})
    with_cookie(server, LOGOUT_PATH, cookie, method="POST", headers={"Origin": server.base_url})
    server.request("POST", LOGOUT_PATH, headers={"Origin": server.base_url})   # no cookie: local
    after = signin_metrics(server)
    delta = {k: after[k] - before[k] for k in after}
    assert delta == {("signins", "redirected"): 2, ("signins", "completed"): 1,
                     ("signins", "refused"): 1, ("signins", "login_error"): 1,
                     ("signins", "invalid_token"): 1, ("signins", "unavailable"): 0,
                     ("signouts", "authos"): 1, ("signouts", "local"): 1,
                     ("signouts", "failed"): 0, ("signouts", "refused"): 1}

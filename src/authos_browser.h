/*
 * authos_browser.h: the httpd-free parts of the browser sign-in flow
 * (SPEC section 11): which requests are sent to the login page, the login
 * redirect and its state cookie, same-origin return paths, Origin checks,
 * the callback form, and the session cookie's attributes.
 */
#ifndef AUTHOS_BROWSER_H
#define AUTHOS_BROWSER_H

#include <apr_pools.h>

/* The short-lived cookie holding the login state and the page the user
 * wanted ("__Host-": Secure, Path=/, no Domain, so only this host sets
 * and reads it). */
#define AUTHOS_STATE_COOKIE "__Host-authos-login"
#define AUTHOS_STATE_COOKIE_AGE 600 /* seconds to finish a sign-in */

/* Bytes of randomness in a state (encoded: 43 base64url characters). */
#define AUTHOS_STATE_BYTES 32

/* Longest return path kept; a longer one returns to "/". */
#define AUTHOS_RETURN_MAX 2048

/* Browsers drop a cookie whose name=value is longer than this (RFC 6265
 * section 6.1 asks for at least 4096 bytes per cookie, attributes
 * included): a token that would not fit is an error, never a loop. */
#define AUTHOS_COOKIE_MAX 4000

/* Does an Accept header name text/html explicitly (with a q above 0)?
 * "*" "/" "*" and "text" "/" "*" alone do not count: API clients keep
 * their 401. */
int authos_accepts_html(const char *accept);

/* A return path that stays on this origin: an absolute path (one '/',
 * then no '/' or '\'), no backslash, space or control character anywhere,
 * at most AUTHOS_RETURN_MAX bytes, without fragment. Anything else gives
 * "/". Never NULL. */
const char *authos_safe_return(apr_pool_t *p, const char *path);

/* "scheme://host[:port]" of an absolute http(s) URL, scheme and host in
 * lower case, the default port (80, 443) left out; NULL for anything
 * else (no host, credentials, other schemes, whitespace). */
const char *authos_url_origin(apr_pool_t *p, const char *url);

/* Is the URL's host localhost, 127.0.0.1 or [::1]? */
int authos_url_is_loopback(apr_pool_t *p, const char *url);

/* A fresh random state (AUTHOS_STATE_BYTES, base64url); NULL when the
 * system has no randomness to give. */
const char *authos_state_new(apr_pool_t *p);

/* The login redirect: login_url with redirect_uri=callback_url and state
 * appended (percent-encoded; '&' when login_url already has a query). */
const char *authos_login_location(apr_pool_t *p, const char *login_url,
                                  const char *callback_url,
                                  const char *state);

/* The state cookie's value: "<state>.<base64url(return path)>". */
const char *authos_state_cookie_value(apr_pool_t *p, const char *state,
                                      const char *return_path);

/* Parse a state cookie value; *return_path is passed through
 * authos_safe_return. Returns 0 for anything malformed. */
int authos_state_cookie_parse(apr_pool_t *p, const char *value,
                              const char **state, const char **return_path);

/* Equal strings, compared in time that does not depend on where they
 * differ (both NUL-terminated; NULL is never equal). */
int authos_secure_streq(const char *a, const char *b);

/* The callback's form (application/x-www-form-urlencoded): the values of
 * the n names, percent-decoded; a name that is missing gives "". Returns
 * 0 when the body is malformed (bad escapes, a NUL, a wanted name twice). */
int authos_form_fields(apr_pool_t *p, const char *body, apr_size_t len,
                       const char *const *names, const char **values,
                       int n);

/* A Set-Cookie value: name=value; Path=/; Max-Age=max_age; HttpOnly;
 * Secure; SameSite=Lax. A max_age of 0 clears the cookie. */
const char *authos_cookie(apr_pool_t *p, const char *name, const char *value,
                          long long max_age);

/* The text shown for an OAuth error code AuthOS sent back (RFC 6749
 * section 4.1.2.1); NULL for a code not on that list (not echoed). */
const char *authos_login_error_text(const char *code);

/* Escape &, <, >, " and ' for HTML text and attribute values. */
const char *authos_html_escape(apr_pool_t *p, const char *s);

#endif

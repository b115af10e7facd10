/*
 * login.h: sending a browser to AuthOS's sign-in page, and the session
 * cookie the callback sets (SPEC section 11).
 */
#ifndef AUTHOS_LOGIN_H
#define AUTHOS_LOGIN_H

#include "httpd.h"

#include "config.h"

/* Handler names (SetHandler). */
#define AUTHOS_CALLBACK_HANDLER "authos-callback"
#define AUTHOS_LOGOUT_HANDLER "authos-logout"

/* Is the browser flow set up here (AuthOSLoginURL, AuthOSCallbackURL and
 * AuthOSTokenCookie all apply)? */
int authos_login_configured(const authos_dir_conf_t *conf);

/* Should this unauthenticated request go to the sign-in page instead of
 * a 401? Only a browser's page load: the flow is configured, a GET or
 * HEAD of the main request (not a subrequest, not the callback or logout
 * itself), and Accept names text/html explicitly. */
int authos_login_applies(request_rec *r, const authos_dir_conf_t *conf);

/* Answer with a 302 to the sign-in page, with a fresh state and the page
 * the user wanted kept in the state cookie; why is for the log. */
int authos_login_redirect(request_rec *r, const authos_dir_conf_t *conf,
                          const char *why);

/* Expire the session cookie (AuthOSTokenCookie) in this response. */
void authos_session_clear(request_rec *r, const authos_dir_conf_t *conf);

/* Is origin (an Origin header) exactly the callback URL's origin, or,
 * with allow_own, this request's own (scheme and Host)? A missing or
 * "null" Origin is not. */
int authos_origin_ok(request_rec *r, const authos_dir_conf_t *conf,
                     const char *origin, int allow_own);

#endif

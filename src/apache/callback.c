/*
 * callback.c: SetHandler authos-callback, where AuthOS sends the browser
 * back after sign-in (SPEC section 11).
 *
 * AuthOS puts the token in the URL fragment, which browsers never send to
 * a server. A GET serves a page whose script (served by this handler
 * under ?script, so a Content-Security-Policy without inline script
 * works) takes access_token and state from the fragment, removes the
 * fragment from the address bar and history, and posts them here as a
 * same-origin form. The POST checks Origin and state, verifies the token
 * as authentication would, and keeps it in the session cookie. Every
 * failure ends on an error page: never a redirect back into a sign-in.
 */
#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_cookies.h"

#include "authos_browser.h"
#include "authos_json.h"
#include "authos_module.h"
#include "authn.h"
#include "callback.h"
#include "config.h"
#include "keys.h"
#include "login.h"
#include "metrics.h"
#include "page.h"

APLOG_USE_MODULE(auth_authos);

/* A form with a token of the largest accepted size (16 KiB) fits. */
#define FORM_MAX 20480

static const char script[] =
    "(function () {\n"
    "  \"use strict\";\n"
    "  var fields = new URLSearchParams(window.location.hash.slice(1));\n"
    "  var form = document.getElementById(\"authos-form\");\n"
    "  /* The token leaves the address bar and the history at once. */\n"
    "  window.history.replaceState(null, \"\",\n"
    "      window.location.pathname + window.location.search);\n"
    "  if (!fields.has(\"access_token\") && !fields.has(\"state\")\n"
    "      && !fields.has(\"error\")) {\n"
    "    document.getElementById(\"authos-status\").textContent =\n"
    "        \"There is no sign-in to finish here.\";\n"
    "    document.getElementById(\"authos-home\").hidden = false;\n"
    "    return;\n"
    "  }\n"
    "  form.elements.access_token.value = fields.get(\"access_token\") || "
    "\"\";\n"
    "  form.elements.state.value = fields.get(\"state\") || \"\";\n"
    "  form.elements.error.value = fields.get(\"error\") || \"\";\n"
    "  form.submit();\n"
    "})();\n";

static int serve_page(request_rec *r)
{
    const char *self = authos_html_escape(r->pool,
                                          ap_escape_uri(r->pool, r->uri));

    return authos_page(
        r, HTTP_OK, "Signing in",
        apr_pstrcat(r->pool, "<script src=\"", self,
                    "?script\" defer></script>\n", NULL),
        apr_pstrcat(r->pool,
                    "<h1>Signing in</h1>\n"
                    "<p id=\"authos-status\">Finishing the sign-in&hellip;"
                    "</p>\n"
                    "<p id=\"authos-home\" hidden><a href=\"/\">Continue to "
                    "the site</a></p>\n"
                    "<noscript><p>This page needs JavaScript to finish "
                    "signing in.</p></noscript>\n"
                    "<form id=\"authos-form\" method=\"post\" action=\"",
                    self,
                    "\">\n"
                    "<input type=\"hidden\" name=\"access_token\" "
                    "value=\"\">\n"
                    "<input type=\"hidden\" name=\"state\" value=\"\">\n"
                    "<input type=\"hidden\" name=\"error\" value=\"\">\n"
                    "</form>\n",
                    NULL));
}

/* AuthOS answered the sign-in with an error (?error= on the callback URL,
 * or error in its fragment): say so, with a fixed text for a known code;
 * nothing else from the request is shown. */
static int login_error(request_rec *r, const char *code, const char *again)
{
    const char *text = authos_login_error_text(code);

    authos_metric_signin(AUTHOS_SIGNIN_LOGIN_ERROR);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AUTHOS_LOGNO(0082)
                  "sign-in failed at AuthOS: error=%s",
                  authos_log_item(r, code));
    return authos_error_page(
        r, HTTP_FORBIDDEN, "Sign-in failed",
        text != NULL
            ? apr_pstrcat(r->pool, "AuthOS ended the sign-in: ", text, ".",
                          NULL)
            : "AuthOS ended the sign-in with an error.",
        again);
}

static int get(request_rec *r)
{
    static const char *const names[] = {"error"};
    const char *v[1];

    if (r->args != NULL && strcmp(r->args, "script") == 0) {
        return authos_page_script(r, script);
    }
    if (r->args != NULL
        && authos_form_fields(r->pool, r->args, strlen(r->args), names, v, 1)
        && *v[0] != '\0') {
        apr_table_addn(r->err_headers_out, "Set-Cookie",
                       authos_cookie(r->pool, AUTHOS_STATE_COOKIE, "", 0));
        return login_error(r, v[0], "/");
    }
    return serve_page(r);
}

/* The request body, at most FORM_MAX bytes; NULL with *status set. */
static const char *read_form(request_rec *r, apr_size_t *len, int *status)
{
    char *buf = apr_palloc(r->pool, FORM_MAX + 1);
    apr_size_t n = 0;
    long got;

    *status = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (*status != OK) {
        return NULL;
    }
    if (r->remaining > FORM_MAX) {
        *status = HTTP_REQUEST_ENTITY_TOO_LARGE;
        return NULL;
    }
    if (ap_should_client_block(r)) {
        while ((got = ap_get_client_block(r, buf + n, FORM_MAX + 1 - n))
               > 0) {
            n += (apr_size_t)got;
            if (n > FORM_MAX) {
                *status = HTTP_REQUEST_ENTITY_TOO_LARGE;
                return NULL;
            }
        }
        if (got < 0) {
            *status = HTTP_BAD_REQUEST;
            return NULL;
        }
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int is_form(request_rec *r)
{
    const char *type = apr_table_get(r->headers_in, "Content-Type");
    apr_size_t n = sizeof("application/x-www-form-urlencoded") - 1;

    return type != NULL
           && strncasecmp(type, "application/x-www-form-urlencoded", n) == 0
           && (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

static int refused(request_rec *r, authos_signin_t kind, const char *why,
                   const char *title, const char *sentence, const char *again,
                   int status)
{
    authos_metric_signin(kind);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AUTHOS_LOGNO(0083)
                  "sign-in refused: %s; client=%s", why, r->useragent_ip);
    return authos_error_page(r, status, title, sentence, again);
}

static int finish(request_rec *r, const authos_dir_conf_t *conf,
                  const char *token, const char *wanted)
{
    authos_token_t tok;
    authos_reason_t reason;
    double exp;
    long long max_age;
    int cached;

    reason = authos_authn_verify(r, conf, token, &tok, &cached);
    if (reason == AUTHOS_ERR_NO_KEYSET) {
        authos_metric_signin(AUTHOS_SIGNIN_UNAVAILABLE);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0084)
                      "sign-in cannot finish: no usable key set for %s",
                      conf->source->value);
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_itoa(r->pool, authos_keys_retry_after(r, conf)));
        return authos_error_page(r, HTTP_SERVICE_UNAVAILABLE,
                                 "Sign-in unavailable",
                                 "The site cannot check sign-ins right now. "
                                 "Please try again in a moment.",
                                 wanted);
    }
    if (reason != AUTHOS_OK) {
        return refused(
            r, AUTHOS_SIGNIN_INVALID_TOKEN,
            apr_psprintf(r->pool, "token refused: %s (%s); kid=%s sub=%s",
                         authos_reason_text(reason),
                         tok.detail ? tok.detail : "-",
                         authos_log_item(r, tok.jwt.kid),
                         authos_log_item(r, tok.sub)),
            "Sign-in not accepted",
            apr_pstrcat(r->pool,
                        "The sign-in gave a token this site does not "
                        "accept (",
                        authos_reason_text(reason), ").", NULL),
            wanted, HTTP_FORBIDDEN);
    }
    if (strlen(conf->cookie) + 1 + strlen(token) > AUTHOS_COOKIE_MAX) {
        return refused(r, AUTHOS_SIGNIN_INVALID_TOKEN,
                       "token too large for a cookie",
                       "Sign-in not accepted",
                       "The token is too large to keep in a browser cookie.",
                       wanted, HTTP_FORBIDDEN);
    }
    /* The cookie lives as long as the token (at least a second: a token
     * inside the clock skew still works once). */
    max_age = 1;
    if (authos_json_number(tok.claims, "exp", &exp)) {
        long long left = (long long)exp - (long long)apr_time_sec(
                                              apr_time_now());
        if (left > 1) {
            max_age = left;
        }
    }
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   authos_cookie(r->pool, conf->cookie, token, max_age));
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Location", wanted);
    authos_metric_signin(AUTHOS_SIGNIN_COMPLETED);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AUTHOS_LOGNO(0085)
                  "sign-in completed: kid=%s sub=%s; returning to %s",
                  authos_log_item(r, tok.jwt.kid), authos_log_item(r, tok.sub),
                  authos_log_item(r, wanted));
    return HTTP_SEE_OTHER;
}

static int post(request_rec *r, const authos_dir_conf_t *conf)
{
    static const char *const names[] = {"access_token", "state", "error"};
    const char *v[3], *body, *cookie = NULL, *state, *wanted;
    const char *origin = apr_table_get(r->headers_in, "Origin");
    apr_size_t len = 0;
    int status;

    body = read_form(r, &len, &status);
    if (body == NULL) {
        return status;
    }
    /* The state is good for one try, whatever happens next. */
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   authos_cookie(r->pool, AUTHOS_STATE_COOKIE, "", 0));
    if (!authos_origin_ok(r, conf, origin, 0)) {
        return refused(r, AUTHOS_SIGNIN_REFUSED,
                       apr_psprintf(r->pool, "Origin %s is not that of %s",
                                    authos_log_item(r, origin),
                                    conf->callback_url),
                       "Sign-in refused",
                       "This sign-in form was not sent by this site.", "/",
                       HTTP_FORBIDDEN);
    }
    if (!is_form(r)
        || !authos_form_fields(r->pool, body, len, names, v, 3)) {
        return refused(r, AUTHOS_SIGNIN_REFUSED,
                       "not a well-formed sign-in form", "Sign-in refused",
                       "The sign-in form was not readable.", "/",
                       HTTP_BAD_REQUEST);
    }
    if (ap_cookie_read(r, AUTHOS_STATE_COOKIE, &cookie, 0) != APR_SUCCESS
        || !authos_state_cookie_parse(r->pool, cookie, &state, &wanted)) {
        return refused(r, AUTHOS_SIGNIN_REFUSED,
                       "no sign-in state cookie (expired, or started in "
                          "another browser or on another host name)",
                       "Sign-in expired",
                       "This sign-in has expired or was started elsewhere.",
                       "/", HTTP_BAD_REQUEST);
    }
    if (!authos_secure_streq(v[1], state)) {
        return refused(r, AUTHOS_SIGNIN_REFUSED,
                       "state does not match the state cookie",
                       "Sign-in refused",
                       "This sign-in does not belong to this browser "
                       "session.",
                       wanted, HTTP_BAD_REQUEST);
    }
    if (*v[2] != '\0') {
        return login_error(r, v[2], wanted);
    }
    if (*v[0] == '\0') {
        return refused(r, AUTHOS_SIGNIN_REFUSED,
                       "no access_token in the fragment (MFA not "
                          "finished, or not a sign-in answer)",
                       "Sign-in not finished",
                       "AuthOS did not return an access token.", wanted,
                       HTTP_BAD_REQUEST);
    }
    return finish(r, conf, v[0], wanted);
}

int authos_callback_handler(request_rec *r)
{
    const authos_dir_conf_t *conf;
    const char *gap;

    if (r->handler == NULL || strcmp(r->handler, AUTHOS_CALLBACK_HANDLER) != 0) {
        return DECLINED;
    }
    conf = authos_dir_conf(r);
    gap = authos_authn_config_gap(conf);
    if (gap == NULL && (conf->callback_url == NULL || conf->cookie == NULL)) {
        gap = "AuthOSCallbackURL and AuthOSTokenCookie must apply here";
    }
    if (gap != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0086)
                      "SetHandler authos-callback misconfigured for %s: %s",
                      r->uri, gap);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_allow_methods(r, REPLACE_ALLOW, "GET", "POST", NULL);
    if (r->method_number == M_GET) {
        return get(r);
    }
    if (r->method_number == M_POST) {
        return post(r, conf);
    }
    return HTTP_METHOD_NOT_ALLOWED;
}

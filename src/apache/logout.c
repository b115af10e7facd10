/*
 * logout.c: SetHandler authos-logout (SPEC section 11).
 *
 * A GET shows a confirmation form (so a link or an image on another site
 * cannot sign anyone out); its POST, from this origin only, clears the
 * session cookie, ends the AuthOS session (POST {base}/api/auth/logout
 * with the token) and sends the browser to AuthOSLogoutRedirect.
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
#include "authos_module.h"
#include "authos_userinfo.h"
#include "authn.h"
#include "config.h"
#include "login.h"
#include "logout.h"
#include "metrics.h"
#include "page.h"
#include "userinfo.h"

APLOG_USE_MODULE(auth_authos);

static int confirm(request_rec *r)
{
    const char *self = authos_html_escape(r->pool,
                                          ap_escape_uri(r->pool, r->uri));

    return authos_page(r, HTTP_OK, "Sign out", NULL,
                       apr_pstrcat(r->pool,
                                   "<h1>Sign out</h1>\n"
                                   "<form method=\"post\" action=\"",
                                   self,
                                   "\">\n<p><button type=\"submit\" "
                                   "id=\"authos-sign-out\">Sign out"
                                   "</button></p>\n</form>\n",
                                   NULL));
}

/* Tell AuthOS, when the cookie holds a token this server accepts: a
 * token that does not verify is never sent anywhere. Returns how it
 * went. */
static authos_signout_t end_session(request_rec *r, const authos_dir_conf_t *conf,
                        const char *token)
{
    authos_http_opts_t opts;
    authos_token_t tok;
    const char *error;
    int cached;

    if (authos_authn_config_gap(conf) != NULL
        || authos_authn_verify(r, conf, token, &tok, &cached) != AUTHOS_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AUTHOS_LOGNO(0087)
                      "signed out locally; the session cookie held no "
                      "token this server accepts, so AuthOS was not told");
        return AUTHOS_SIGNOUT_LOCAL;
    }
    authos_userinfo_ended(conf, token);
    if (conf->source->kind != AUTHOS_SOURCE_BASE_URL) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AUTHOS_LOGNO(0088)
                      "signed out sub=%s locally; AuthOS is not told "
                      "without AuthOSBaseURL",
                      authos_log_item(r, tok.sub));
        return AUTHOS_SIGNOUT_LOCAL;
    }
    authos_conf_http(conf, &opts);
    if (!authos_userinfo_logout(r->pool, conf->source->value, token, &opts,
                                &error)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, AUTHOS_LOGNO(0089)
                      "signed out sub=%s locally, but %s/api/auth/logout "
                      "failed: %s",
                      authos_log_item(r, tok.sub), conf->source->value,
                      error);
        return AUTHOS_SIGNOUT_FAILED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AUTHOS_LOGNO(0090)
                  "signed out sub=%s at AuthOS", authos_log_item(r, tok.sub));
    return AUTHOS_SIGNOUT_AUTHOS;
}

static int sign_out(request_rec *r, const authos_dir_conf_t *conf)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *token = NULL;
    authos_signout_t result = AUTHOS_SIGNOUT_LOCAL;
    int rc;

    rc = ap_discard_request_body(r);
    if (rc != OK) {
        return rc;
    }
    if (!authos_origin_ok(r, conf, origin, 1)) {
        authos_metric_signout(AUTHOS_SIGNOUT_REFUSED);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AUTHOS_LOGNO(0091)
                      "sign-out refused: Origin %s is not this site's; "
                      "client=%s",
                      authos_log_item(r, origin), r->useragent_ip);
        return authos_error_page(r, HTTP_FORBIDDEN, "Sign-out refused",
                                 "This sign-out form was not sent by this "
                                 "site.",
                                 ap_escape_uri(r->pool, r->uri));
    }
    if (ap_cookie_read(r, conf->cookie, &token, 0) == APR_SUCCESS
        && token != NULL && *token != '\0') {
        result = end_session(r, conf, token);
    }
    authos_metric_signout(result);
    authos_session_clear(r, conf);
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Location",
                   authos_conf_logout_redirect(conf));
    return HTTP_SEE_OTHER;
}

int authos_logout_handler(request_rec *r)
{
    const authos_dir_conf_t *conf;

    if (r->handler == NULL || strcmp(r->handler, AUTHOS_LOGOUT_HANDLER) != 0) {
        return DECLINED;
    }
    conf = authos_dir_conf(r);
    if (conf->cookie == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0092)
                      "SetHandler authos-logout misconfigured for %s: no "
                      "AuthOSTokenCookie applies here",
                      r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_allow_methods(r, REPLACE_ALLOW, "GET", "POST", NULL);
    if (r->method_number == M_GET) {
        return confirm(r);
    }
    if (r->method_number == M_POST) {
        return sign_out(r, conf);
    }
    return HTTP_METHOD_NOT_ALLOWED;
}

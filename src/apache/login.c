/*
 * login.c: sending a browser to AuthOS's sign-in page (SPEC section 11).
 *
 * The state is 32 random bytes; it and the page the user wanted travel in
 * a __Host- cookie of this host only, never in a URL we would later trust
 * as a redirect target. Nothing is kept on the server, so any number of
 * servers behind a load balancer serve the same sign-in.
 */
#include "apr_strings.h"
#include "apr_uri.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "authos_browser.h"
#include "authos_module.h"
#include "authn.h"
#include "login.h"
#include "metrics.h"

APLOG_USE_MODULE(auth_authos);

int authos_login_configured(const authos_dir_conf_t *conf)
{
    return conf->login_url != NULL && conf->callback_url != NULL
           && conf->cookie != NULL;
}

/* Is one of our handlers configured for r? Authentication runs before
 * httpd applies SetHandler (in type_checker), so ask its configuration. */
static int is_our_page(request_rec *r)
{
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    const char *handler = r->handler, *err = NULL;

    if (d != NULL && d->expr_handler != NULL) {
        handler = ap_expr_str_exec(r, d->expr_handler, &err);
    }
    return handler != NULL && err == NULL
           && (strcasecmp(handler, AUTHOS_CALLBACK_HANDLER) == 0
               || strcasecmp(handler, AUTHOS_LOGOUT_HANDLER) == 0);
}

int authos_login_applies(request_rec *r, const authos_dir_conf_t *conf)
{
    if (!authos_login_configured(conf) || r->main != NULL
        || r->prev != NULL || r->method_number != M_GET) {
        return 0;
    }
    /* The callback and logout pages are never sent to sign in: that is
     * how a login loop would start. */
    if (is_our_page(r)) {
        return 0;
    }
    return authos_accepts_html(apr_table_get(r->headers_in, "Accept"));
}

int authos_login_redirect(request_rec *r, const authos_dir_conf_t *conf,
                          const char *why)
{
    const char *state = authos_state_new(r->pool);
    const char *wanted;

    if (state == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0080)
                      "no randomness for a sign-in state; answering 401");
        return HTTP_UNAUTHORIZED;
    }
    /* The path and query the browser asked for (an absolute-form request
     * line gives its path), kept only when it stays on this origin. */
    wanted = authos_safe_return(
        r->pool,
        apr_uri_unparse(r->pool, &r->parsed_uri, APR_URI_UNP_OMITSITEPART));
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   authos_cookie(r->pool, AUTHOS_STATE_COOKIE,
                                 authos_state_cookie_value(r->pool, state,
                                                           wanted),
                                 AUTHOS_STATE_COOKIE_AGE));
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Location",
                   authos_login_location(r->pool, conf->login_url,
                                         conf->callback_url, state));
    authos_metric_signin(AUTHOS_SIGNIN_REDIRECTED);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AUTHOS_LOGNO(0081)
                  "sending the browser to sign in (%s); it asked for %s",
                  why, authos_log_item(r, wanted));
    return HTTP_MOVED_TEMPORARILY;
}

void authos_session_clear(request_rec *r, const authos_dir_conf_t *conf)
{
    if (conf->cookie != NULL) {
        apr_table_addn(r->err_headers_out, "Set-Cookie",
                       authos_cookie(r->pool, conf->cookie, "", 0));
    }
}

int authos_origin_ok(request_rec *r, const authos_dir_conf_t *conf,
                     const char *origin, int allow_own)
{
    const char *host = apr_table_get(r->headers_in, "Host");
    const char *own;

    if (origin == NULL || strcmp(origin, "null") == 0) {
        return 0;
    }
    if (conf->callback_url != NULL
        && authos_secure_streq(origin, authos_url_origin(
                                           r->pool, conf->callback_url))) {
        return 1;
    }
    if (!allow_own || host == NULL) {
        return 0;
    }
    own = authos_url_origin(r->pool, apr_pstrcat(r->pool, ap_http_scheme(r),
                                                 "://", host, NULL));
    return own != NULL && authos_secure_streq(origin, own);
}

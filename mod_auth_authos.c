/*
 * mod_auth_authos: protect anything Apache serves with access tokens
 * issued by AuthOS (RS256 JWTs verified against its JWKS).
 *
 * This file holds only the module record and hook registration; the
 * httpd-free core is in src/, the httpd glue in src/apache/.
 */
#include "ap_provider.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"

#include "authos_http.h"
#include "authos_module.h"
#include "authn.h"
#include "authz.h"
#include "callback.h"
#include "config.h"
#include "config_check.h"
#include "export.h"
#include "keys.h"
#include "logout.h"
#include "metrics.h"
#include "status.h"
#include "tokcache.h"
#include "userinfo.h"

/* pre_config (parent, before every configuration read). */
static int authos_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    authos_config_reset(pconf);
    if (authos_keys_pre_config(pconf) != APR_SUCCESS
        || authos_userinfo_pre_config(pconf) != APR_SUCCESS
        || authos_metrics_pre_config(pconf) != APR_SUCCESS) {
        return !OK;
    }
    return OK;
}

/* post_config (parent). The first pass at startup only checks the
 * configuration: shared memory is created in the real pass. */
static int authos_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    static int curl_ready;

    (void)plog;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if (!curl_ready) {
        /* Once per process, before any thread exists. */
        authos_http_global_init();
        curl_ready = 1;
    }
    if (authos_keys_post_config(pconf, ptemp, s) != OK
        || authos_metrics_post_config(pconf, s) != OK) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return authos_userinfo_post_config(pconf, s);
}

static void authos_child_init(apr_pool_t *pchild, server_rec *s)
{
    authos_keys_child_init(pchild, s);
    authos_userinfo_child_init(pchild, s);
    authos_tokcache_child_init(pchild, s);
}

static void authos_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(authos_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(authos_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(authos_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(authos_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* Client-sent X-AuthOS-* headers go before anything else sees them. */
    ap_hook_post_read_request(authos_strip_headers, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
    ap_hook_check_authn(authos_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(authos_note_auth_failure, NULL, NULL,
                              APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(authos_insert_error, NULL, NULL,
                                APR_HOOK_MIDDLE);
    ap_hook_fixups(authos_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_handler(authos_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(authos_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(authos_callback_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(authos_logout_handler, NULL, NULL, APR_HOOK_MIDDLE);
    authos_authz_register(p);
}

AP_DECLARE_MODULE(auth_authos) = {
    STANDARD20_MODULE_STUFF,
    authos_create_dir_conf, /* per-directory config */
    authos_merge_dir_conf,  /* merge per-directory */
    authos_create_srv_conf, /* per-server config */
    authos_merge_srv_conf,  /* merge per-server */
    authos_cmds,            /* directives */
    authos_register_hooks,  /* hooks */
    AP_MODULE_FLAG_NONE     /* flags */
};

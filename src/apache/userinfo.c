/*
 * userinfo.c: /api/user answers, cached per token in shared memory.
 *
 * The cache (layout in authos_uicache.h) is keyed by the token's SHA-256;
 * the token itself is never stored. A miss claims its entry (PENDING)
 * under the mutex before calling AuthOS, so concurrent requests with the
 * same new token wait for that one call instead of making their own.
 */
#include "apr_strings.h"
#include "apr_shm.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "util_mutex.h"

#include "authos_uicache.h"
#include "authos_userinfo.h"
#include "authos_module.h"
#include "config.h"
#include "userinfo.h"

APLOG_USE_MODULE(auth_authos);

#define MUTEX_TYPE "authos-userinfo"
/* Answers cached at once (rounded up to whole sets). */
#define CACHE_ENTRIES 1024
/* A claimed call older than its time limit plus this is presumed dead. */
#define PENDING_GRACE apr_time_from_sec(5)

static apr_shm_t *shm;
static void *base;
static apr_global_mutex_t *mutex;
static const char *mutex_file;

int authos_userinfo_pre_config(apr_pool_t *pconf)
{
    shm = NULL;
    base = NULL;
    mutex = NULL;
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t shm_cleanup(void *data)
{
    (void)data;
    if (shm != NULL) {
        apr_shm_destroy(shm);
    }
    shm = NULL;
    base = NULL;
    return APR_SUCCESS;
}

int authos_userinfo_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_size_t size = authos_ui_size(CACHE_ENTRIES);
    apr_status_t rv;

    /* Only configurations with a trust source can authenticate anyone. */
    if (authos_config_sources()->nelts == 0) {
        return OK;
    }
    rv = apr_shm_create(&shm, size, NULL, pconf);
    if (rv == APR_ENOTIMPL) {
        const char *fname = ap_runtime_dir_relative(pconf,
                                                    "authos-userinfo.shm");
        apr_shm_remove(fname, pconf);
        rv = apr_shm_create(&shm, size, fname, pconf);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, AUTHOS_LOGNO(0050)
                     "cannot create the /api/user cache shared memory "
                     "(%" APR_SIZE_T_FMT " bytes)", size);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, NULL, shm_cleanup, apr_pool_cleanup_null);
    base = apr_shm_baseaddr_get(shm);
    authos_ui_init(base, size, CACHE_ENTRIES);
    rv = ap_global_mutex_create(&mutex, &mutex_file, MUTEX_TYPE, NULL, s,
                                pconf, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, AUTHOS_LOGNO(0051)
                     "cannot create the /api/user cache mutex");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

void authos_userinfo_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (mutex == NULL) {
        return;
    }
    rv = apr_global_mutex_child_init(&mutex, mutex_file, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, AUTHOS_LOGNO(0052)
                     "cannot attach to the /api/user cache mutex");
    }
}

static int unavailable(request_rec *r, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0053)
                  "cannot get the user's permissions or session from "
                  "AuthOS: %s; refusing (503)", why);
    apr_table_setn(r->err_headers_out, "Retry-After", "5");
    return HTTP_SERVICE_UNAVAILABLE;
}

static int answer(request_rec *r, const authos_ui_entry_t *e, int *revoked,
                  json_t **perms)
{
    if (e->state == AUTHOS_UI_REVOKED) {
        *revoked = 1;
        return OK;
    }
    *perms = authos_userinfo_array(r->pool, e->data, e->len);
    return *perms != NULL ? OK : unavailable(r, "cached answer unreadable");
}

int authos_userinfo_get(request_rec *r, const authos_dir_conf_t *conf,
                        const char *token, int *revoked, json_t **perms)
{
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t *entry;
    authos_ui_decision_t d;
    authos_userinfo_status_t st;
    authos_userinfo_t ui;
    authos_http_opts_t opts;
    apr_time_t deadline;
    int cached;

    *revoked = 0;
    *perms = NULL;
    if (base == NULL || conf->source == NULL
        || conf->source->kind != AUTHOS_SOURCE_BASE_URL) {
        return unavailable(r, "no AuthOSBaseURL applies here");
    }
    authos_conf_http(conf, &opts);
    authos_ui_key(token, strlen(token), key);
    entry = apr_palloc(r->pool, sizeof(*entry));
    deadline = apr_time_now() + opts.timeout;

    for (;;) {
        if (apr_global_mutex_lock(mutex) != APR_SUCCESS) {
            return unavailable(r, "cannot lock the /api/user cache");
        }
        d = authos_ui_begin(base, key, apr_time_now(),
                            opts.timeout + PENDING_GRACE, entry);
        apr_global_mutex_unlock(mutex);
        if (d == AUTHOS_UI_HIT) {
            return answer(r, entry, revoked, perms);
        }
        if (d == AUTHOS_UI_FETCH) {
            break;
        }
        /* Another request is asking AuthOS about this token. */
        if (apr_time_now() >= deadline) {
            return unavailable(r, "timed out waiting for another request's "
                                  "/api/user call");
        }
        apr_sleep(apr_time_from_msec(10));
    }

    st = authos_userinfo_fetch(r->pool, conf->source->value, token, &opts,
                               &ui);
    if (apr_global_mutex_lock(mutex) != APR_SUCCESS) {
        return unavailable(r, "cannot lock the /api/user cache");
    }
    cached = 0;
    if (st == AUTHOS_USERINFO_OK) {
        cached = authos_ui_store(base, key, apr_time_now(),
                                 authos_conf_userinfo_ttl(conf),
                                 AUTHOS_UI_READY, ui.permissions,
                                 strlen(ui.permissions));
    }
    else if (st == AUTHOS_USERINFO_REVOKED) {
        cached = authos_ui_store(base, key, apr_time_now(),
                                 authos_conf_userinfo_ttl(conf),
                                 AUTHOS_UI_REVOKED, "", 0);
    }
    else {
        authos_ui_abandon(base, key);
    }
    apr_global_mutex_unlock(mutex);

    if (st == AUTHOS_USERINFO_FAILED) {
        return unavailable(r, apr_pstrcat(r->pool, conf->source->value,
                                          "/api/user: ", ui.error, NULL));
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, AUTHOS_LOGNO(0054)
                  "/api/user answered %ld%s", ui.http_status,
                  cached ? "" : " (not cached)");
    if (st == AUTHOS_USERINFO_REVOKED) {
        *revoked = 1;
        return OK;
    }
    *perms = authos_userinfo_array(r->pool, ui.permissions,
                                   strlen(ui.permissions));
    return *perms != NULL ? OK : unavailable(r, "answer unreadable");
}

/*
 * userinfo.c: /api/user answers, cached per token in shared memory.
 *
 * The cache (layout in authos_uicache.h) is keyed by the token's SHA-256;
 * the token itself is never stored. A miss claims its entry (PENDING)
 * under the mutex before calling AuthOS, so concurrent requests with the
 * same new token wait for that one call instead of making their own.
 */
#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "authos_uicache.h"
#include "authos_userinfo.h"
#include "authos_module.h"
#include "config.h"
#include "shm.h"
#include "metrics.h"
#include "userinfo.h"

APLOG_USE_MODULE(auth_authos);

/* Answers cached at once (rounded up to whole sets). */
#define CACHE_ENTRIES 1024
/* A claimed call older than its time limit plus this is presumed dead. */
#define PENDING_GRACE apr_time_from_sec(5)

static authos_segment_t segment = {"authos-userinfo", "/api/user cache",
                                   NULL, NULL, 0, NULL, NULL, 0};

int authos_userinfo_pre_config(apr_pool_t *pconf)
{
    return authos_segment_register(&segment, pconf);
}

int authos_userinfo_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_size_t size = authos_ui_size(CACHE_ENTRIES);

    /* Only configurations with a trust source can authenticate anyone. */
    if (authos_config_sources()->nelts == 0) {
        return OK;
    }
    if (authos_segment_create(&segment, size, pconf, s) != OK) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    authos_ui_init(segment.base, size, CACHE_ENTRIES);
    return OK;
}

void authos_userinfo_child_init(apr_pool_t *pchild, server_rec *s)
{
    authos_segment_child_init(&segment, pchild, s);
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
    if (segment.base == NULL || conf->source == NULL
        || conf->source->kind != AUTHOS_SOURCE_BASE_URL) {
        return unavailable(r, "no AuthOSBaseURL applies here");
    }
    authos_conf_http(conf, &opts);
    authos_ui_key(token, strlen(token), key);
    entry = apr_palloc(r->pool, sizeof(*entry));
    deadline = apr_time_now() + opts.timeout;

    for (;;) {
        if (authos_segment_lock(&segment) != APR_SUCCESS) {
            return unavailable(r, "cannot lock the /api/user cache");
        }
        d = authos_ui_begin(segment.base, key, apr_time_now(),
                            opts.timeout + PENDING_GRACE, entry);
        authos_segment_unlock(&segment);
        if (d == AUTHOS_UI_HIT) {
            authos_metric_userinfo_cache_hit();
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
    authos_metric_userinfo_call(st == AUTHOS_USERINFO_OK ? AUTHOS_UI_CALL_OK
                                : st == AUTHOS_USERINFO_REVOKED
                                    ? AUTHOS_UI_CALL_REVOKED
                                    : AUTHOS_UI_CALL_FAILED);
    if (authos_segment_lock(&segment) != APR_SUCCESS) {
        return unavailable(r, "cannot lock the /api/user cache");
    }
    cached = 0;
    if (st == AUTHOS_USERINFO_OK) {
        cached = authos_ui_store(segment.base, key, apr_time_now(),
                                 authos_conf_userinfo_ttl(conf),
                                 AUTHOS_UI_READY, ui.permissions,
                                 strlen(ui.permissions));
    }
    else if (st == AUTHOS_USERINFO_REVOKED) {
        cached = authos_ui_store(segment.base, key, apr_time_now(),
                                 authos_conf_userinfo_ttl(conf),
                                 AUTHOS_UI_REVOKED, "", 0);
    }
    else {
        authos_ui_abandon(segment.base, key);
    }
    authos_segment_unlock(&segment);

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

void authos_userinfo_ended(const authos_dir_conf_t *conf, const char *token)
{
    unsigned char key[AUTHOS_UI_KEY_LEN];

    if (segment.base == NULL
        || authos_segment_lock(&segment) != APR_SUCCESS) {
        return;
    }
    authos_ui_key(token, strlen(token), key);
    /* Only an answer already cached is replaced: without one, the next
     * /api/user call hears the same from AuthOS. */
    authos_ui_store(segment.base, key, apr_time_now(),
                    authos_conf_userinfo_ttl(conf), AUTHOS_UI_REVOKED, "", 0);
    authos_segment_unlock(&segment);
}

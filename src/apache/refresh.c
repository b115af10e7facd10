/*
 * refresh.c: fetching key sets (SPEC section 8).
 *
 * Every fetch is claimed in the slot under the mutex first (single
 * flight across processes and threads, throttled by AuthOSJWKSMinRefetch)
 * and runs outside it. Who fetches:
 *   - a request that finds no usable key set (it waits, at most
 *     AuthOSHTTPTimeout; so do concurrent ones, for the same fetch);
 *   - a request that meets an unknown kid (one synchronous refetch);
 *   - a background thread started by the first request past refresh time,
 *     which goes on with the cached keys;
 *   - with mod_watchdog, a watchdog thread in one child process, a tenth
 *     of the key set's lifetime before it is due, so requests seldom see
 *     an expired key set at all.
 * Background fetches use the settings the last request-driven fetch
 * recorded in the slot.
 */
#include <pthread.h>
#include <stdlib.h>

#include "apr_optional.h"
#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "mod_watchdog.h"

#include "authos_keyfetch.h"
#include "authos_module.h"
#include "keys_internal.h"

APLOG_USE_MODULE(auth_authos);

static const char *kind_name(authos_source_kind_t kind)
{
    return kind == AUTHOS_SOURCE_BASE_URL   ? "AuthOSBaseURL"
           : kind == AUTHOS_SOURCE_JWKS_URL ? "AuthOSJWKSURL"
                                            : "AuthOSJWKSFile";
}

static const authos_source_t *source_of(unsigned index)
{
    return APR_ARRAY_IDX(authos_config_sources(), index, authos_source_t *);
}

/* Record a request's fetch settings in the slot (mutex held). */
static void save_settings(authos_keyslot_t *slot,
                          const authos_dir_conf_t *conf)
{
    authos_http_opts_t opts;
    const char *issuer;
    int ok;

    authos_conf_policy(conf, &slot->policy);
    authos_conf_http(conf, &opts);
    slot->allow_http = (apr_uint32_t)opts.allow_http;
    apr_cpystrn(slot->ca_file, opts.ca_file ? opts.ca_file : "",
                sizeof(slot->ca_file));
    issuer = authos_conf_issuer(conf, &ok);
    apr_cpystrn(slot->issuer, issuer ? issuer : "", sizeof(slot->issuer));
    slot->has_settings = 1;
}

/* Run a fetch this caller has claimed, store its result, log it. Uses
 * the settings in the slot. Returns 1 when a key set was stored. */
static int run_fetch(apr_pool_t *p, server_rec *s, unsigned index)
{
    const authos_source_t *src = source_of(index);
    authos_keyslot_t *slot = authos_keys_slot(index);
    authos_key_policy_t pol;
    authos_http_opts_t opts;
    authos_keyfetch_t kf;
    const char *known_uri, *issuer, *left = "";
    apr_status_t rv;
    int stored = 0, usable;

    if (authos_segment_lock(&authos_keys_segment) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, AUTHOS_LOGNO(0011)
                     "cannot lock the key-set mutex");
        return 0;
    }
    pol = slot->policy;
    opts.timeout = pol.timeout;
    opts.allow_http = (int)slot->allow_http;
    opts.ca_file = slot->ca_file[0] ? apr_pstrdup(p, slot->ca_file) : NULL;
    issuer = slot->issuer[0] ? apr_pstrdup(p, slot->issuer) : NULL;
    known_uri = apr_pstrdup(p, slot->jwks_uri);
    authos_segment_unlock(&authos_keys_segment);

    rv = authos_keyfetch(p, src->kind, src->value, known_uri, &opts, &kf);

    if (authos_segment_lock(&authos_keys_segment) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, AUTHOS_LOGNO(0012)
                     "cannot lock the key-set mutex to store a fetch");
        return 0;
    }
    if (rv == APR_SUCCESS) {
        stored = authos_keyslot_store(slot, apr_time_now(), &pol, kf.jwks,
                                      kf.len, kf.nkeys, kf.jwks_uri,
                                      kf.max_age);
    }
    else {
        authos_keyslot_fail(slot, apr_time_now(), kf.error);
    }
    usable = authos_keyslot_usable(slot, apr_time_now(), &pol);
    if (!stored && slot->generation != 0) {
        left = usable ? " (keeping the cached key set)"
                      : " (the cached key set is past AuthOSJWKSMaxStale)";
    }
    authos_segment_unlock(&authos_keys_segment);

    if (!stored) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, AUTHOS_LOGNO(0006)
                     "key set fetch for %s %s failed: %s%s",
                     kind_name(src->kind), src->value,
                     kf.error ? kf.error : "JWKS too large", left);
        return 0;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, AUTHOS_LOGNO(0007)
                 "key set of %s fetched from %s: %d usable key(s)",
                 src->value, kf.jwks_uri, kf.nkeys);
    if (kf.metadata_issuer != NULL && issuer != NULL
        && strcmp(kf.metadata_issuer, issuer) != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, AUTHOS_LOGNO(0008)
                     "metadata of %s names issuer '%s' but tokens must "
                     "carry iss '%s'",
                     src->value, kf.metadata_issuer, issuer);
    }
    return 1;
}

typedef struct {
    server_rec *s;
    unsigned index;
} job_t;

static void *background(void *arg)
{
    job_t *job = arg;
    apr_pool_t *p;

    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    run_fetch(p, job->s, job->index);
    apr_pool_destroy(p);
    free(job);
    return NULL;
}

/* Refresh in a detached thread; 0 when no thread could be started. */
static int start_background(server_rec *s, unsigned index)
{
    pthread_attr_t attr;
    pthread_t t;
    job_t *job = malloc(sizeof(*job));
    int rc;

    if (job == NULL) {
        return 0;
    }
    job->s = s;
    job->index = index;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&t, &attr, background, job);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(job);
        return 0;
    }
    return 1;
}

apr_interval_time_t authos_unknown_kid_window(const authos_key_policy_t *pol)
{
    /* Long enough to shrug off a flood of one junk kid, short enough
     * that a kid AuthOS publishes late (a cache in front of its JWKS) is
     * not refused for long; never beyond the next refresh. */
    apr_interval_time_t w = apr_time_from_sec(60);

    if (w < pol->min_refetch) {
        w = pol->min_refetch;
    }
    return w < pol->refresh ? w : pol->refresh;
}

int authos_refresh_for_request(request_rec *r, const authos_dir_conf_t *conf,
                               const char *unknown_kid)
{
    unsigned index = conf->source->index;
    authos_keyslot_t *slot = authos_keys_slot(index);
    authos_fetch_decision_t d;
    authos_key_policy_t pol;
    apr_time_t now = apr_time_now(), deadline;
    int usable;

    authos_conf_policy(conf, &pol);
    if (authos_segment_lock(&authos_keys_segment) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0013)
                      "cannot lock the key-set mutex");
        return 0;
    }
    usable = authos_keyslot_usable(slot, now, &pol);
    if (unknown_kid != NULL
        && authos_keyslot_recently_unknown(slot, unknown_kid, now,
                                           authos_unknown_kid_window(&pol))) {
        /* A fetch since this kid was last seen did not bring it. */
        d = AUTHOS_FETCH_NONE;
    }
    else {
        d = authos_keyslot_begin(slot, now, &pol, unknown_kid != NULL);
    }
    if (d == AUTHOS_FETCH_NOW) {
        save_settings(slot, conf);
    }
    authos_segment_unlock(&authos_keys_segment);

    switch (d) {
    case AUTHOS_FETCH_NOW:
        /* Usable but due: the request goes on with the cached keys. */
        if (usable && unknown_kid == NULL
            && start_background(r->server, index)) {
            return 0;
        }
        run_fetch(r->pool, r->server, index);
        return 1;
    case AUTHOS_FETCH_BUSY:
        /* Requests wait on the network only when no usable key set
         * exists, or for an unknown kid (the fetch under way is then the
         * one refetch, SPEC section 5 step 3); others go on with the
         * cached keys. */
        if (usable && unknown_kid == NULL) {
            return 0;
        }
        deadline = now + pol.timeout;
        while (slot->fetching_since != 0 && apr_time_now() < deadline) {
            apr_sleep(apr_time_from_msec(10));
        }
        return 1;
    default:
        return 0;
    }
}

/* ---- mod_watchdog -------------------------------------------------- */

static apr_status_t watchdog_tick(int state, void *data, apr_pool_t *pool)
{
    server_rec *s = data;
    unsigned i;

    if (state != AP_WATCHDOG_STATE_RUNNING) {
        return APR_SUCCESS;
    }
    for (i = 0; i < authos_keys_nslots(); i++) {
        authos_keyslot_t *slot = authos_keys_slot(i);
        authos_fetch_decision_t d;
        apr_pool_t *p;

        if (slot == NULL
            || authos_segment_lock(&authos_keys_segment) != APR_SUCCESS) {
            continue;
        }
        d = authos_keyslot_begin_ahead(slot, apr_time_now());
        authos_segment_unlock(&authos_keys_segment);
        if (d == AUTHOS_FETCH_NOW) {
            apr_pool_create(&p, pool);
            run_fetch(p, s, i);
            apr_pool_destroy(p);
        }
    }
    return APR_SUCCESS;
}

void authos_refresh_watchdog(apr_pool_t *pconf, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_callback;
    ap_watchdog_t *wd;
    apr_status_t rv;

    get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (get_instance == NULL || register_callback == NULL) {
        return; /* requests start background refreshes instead */
    }
    /* In child processes, one of them at a time (singleton). */
    rv = get_instance(&wd, "authos-keys", 0, 1, pconf);
    if (rv == APR_SUCCESS) {
        rv = register_callback(wd, apr_time_from_sec(1), s, watchdog_tick);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, AUTHOS_LOGNO(0014)
                     "cannot register the key-set watchdog; requests will "
                     "start refreshes instead");
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, AUTHOS_LOGNO(0015)
                 "key sets are refreshed ahead of expiry by mod_watchdog");
}

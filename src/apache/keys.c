/*
 * keys.c: the shared key-set cache in Apache (SPEC section 8).
 *
 * The raw JWKS of every trust source lives in one shared-memory segment
 * (layout in authos_keyslot.h) guarded by one global mutex. Each process
 * keeps the parsed keys (EVP_PKEY) of each source and re-parses only when
 * the slot's generation changes. Fetches run outside the mutex; the
 * attempt is stamped in the slot first, so one fetch per source runs at a
 * time across all processes and threads.
 */
#include "apr_strings.h"
#include "apr_shm.h"
#include "apr_thread_mutex.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "util_mutex.h"

#include "authos_jwks.h"
#include "authos_keyfetch.h"
#include "authos_keyslot.h"
#include "authos_module.h"
#include "keys.h"

APLOG_USE_MODULE(auth_authos);

#define MUTEX_TYPE "authos-keys"

/* Parsed keys of one source in this process. */
typedef struct {
    apr_thread_mutex_t *lock; /* guards the three fields below */
    apr_uint64_t generation;
    apr_pool_t *pool;         /* owns set; replaced on a new generation */
    authos_jwks_t *set;
} local_keys_t;

/* Set in the parent's post_config and inherited by the children. */
static apr_shm_t *shm;
static void *shm_base;
static apr_global_mutex_t *gmutex;
static const char *gmutex_file;
static unsigned nslots;
/* Per child process. */
static local_keys_t *local;

int authos_keys_pre_config(apr_pool_t *pconf)
{
    shm = NULL;
    shm_base = NULL;
    gmutex = NULL;
    nslots = 0;
    local = NULL;
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t shm_cleanup(void *data)
{
    (void)data;
    if (shm != NULL) {
        apr_shm_destroy(shm);
    }
    shm = NULL;
    shm_base = NULL;
    return APR_SUCCESS;
}

int authos_keys_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                            server_rec *s)
{
    const apr_array_header_t *sources = authos_config_sources();
    apr_size_t size;
    apr_status_t rv;
    unsigned i;

    (void)ptemp;
    nslots = (unsigned)sources->nelts;
    if (nslots == 0) {
        return OK;
    }
    size = authos_shm_size(nslots);
    /* Anonymous shared memory first (inherited over fork), a name-based
     * segment only where the platform lacks it. */
    rv = apr_shm_create(&shm, size, NULL, pconf);
    if (rv == APR_ENOTIMPL) {
        const char *fname = ap_runtime_dir_relative(pconf, "authos-keys.shm");
        apr_shm_remove(fname, pconf);
        rv = apr_shm_create(&shm, size, fname, pconf);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, AUTHOS_LOGNO(0001)
                     "cannot create the key-set shared memory "
                     "(%" APR_SIZE_T_FMT " bytes)", size);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, NULL, shm_cleanup, apr_pool_cleanup_null);
    shm_base = apr_shm_baseaddr_get(shm);
    authos_shm_init(shm_base, size, nslots);
    for (i = 0; i < nslots; i++) {
        const authos_source_t *src =
            APR_ARRAY_IDX(sources, i, authos_source_t *);
        authos_keyslot_t *slot = authos_shm_slot(shm_base, i);
        apr_cpystrn(slot->source, src->value, sizeof(slot->source));
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, AUTHOS_LOGNO(0002)
                     "trust source %u: %s %s (keys fetched on first use)", i,
                     src->kind == AUTHOS_SOURCE_BASE_URL   ? "AuthOSBaseURL"
                     : src->kind == AUTHOS_SOURCE_JWKS_URL ? "AuthOSJWKSURL"
                                                           : "AuthOSJWKSFile",
                     src->value);
    }
    rv = ap_global_mutex_create(&gmutex, &gmutex_file, MUTEX_TYPE, NULL, s,
                                pconf, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, AUTHOS_LOGNO(0003)
                     "cannot create the key-set mutex");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* At child exit: the parsed key sets live in unmanaged pools (created
 * and destroyed by request threads without touching pchild's child list,
 * which is not thread-safe), so they are released here. */
static apr_status_t local_cleanup(void *data)
{
    unsigned i;

    (void)data;
    for (i = 0; local != NULL && i < nslots; i++) {
        if (local[i].pool != NULL) {
            apr_pool_destroy(local[i].pool);
            local[i].pool = NULL;
            local[i].set = NULL;
        }
    }
    local = NULL;
    return APR_SUCCESS;
}

void authos_keys_child_init(apr_pool_t *pchild, server_rec *s)
{
    unsigned i;
    apr_status_t rv;

    if (nslots == 0 || gmutex == NULL) {
        return;
    }
    rv = apr_global_mutex_child_init(&gmutex, gmutex_file, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, AUTHOS_LOGNO(0004)
                     "cannot attach to the key-set mutex in this process");
    }
    local = apr_pcalloc(pchild, nslots * sizeof(*local));
    for (i = 0; i < nslots; i++) {
        apr_thread_mutex_create(&local[i].lock, APR_THREAD_MUTEX_DEFAULT,
                                pchild);
    }
    apr_pool_cleanup_register(pchild, NULL, local_cleanup,
                              apr_pool_cleanup_null);
}

/* Lock/unlock the global mutex; a failure is logged and treated as "no
 * usable key set" by the callers. */
static int glock(request_rec *r)
{
    apr_status_t rv = apr_global_mutex_lock(gmutex);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, AUTHOS_LOGNO(0005)
                      "cannot lock the key-set mutex");
        return 0;
    }
    return 1;
}

static void gunlock(void)
{
    apr_global_mutex_unlock(gmutex);
}

static const char *kind_name(authos_source_kind_t kind)
{
    return kind == AUTHOS_SOURCE_BASE_URL   ? "AuthOSBaseURL"
           : kind == AUTHOS_SOURCE_JWKS_URL ? "AuthOSJWKSURL"
                                            : "AuthOSJWKSFile";
}

/* Fetch the source's key set if it is due (or for an unknown kid) and
 * nobody else is fetching it. Returns 1 when this call fetched. When
 * another fetch is under way and no usable key set exists, waits for it,
 * at most the fetch time limit. */
static int refresh(request_rec *r, const authos_dir_conf_t *conf,
                   int unknown_kid)
{
    const authos_source_t *src = conf->source;
    authos_keyslot_t *slot = authos_shm_slot(shm_base, src->index);
    authos_key_policy_t pol;
    authos_http_opts_t opts;
    authos_fetch_decision_t decision;
    authos_keyfetch_t kf;
    apr_pool_t *scratch;
    const char *known_uri;
    apr_status_t rv;
    apr_time_t now = apr_time_now();
    int stored;

    authos_conf_policy(conf, &pol);
    if (!glock(r)) {
        return 0;
    }
    decision = authos_keyslot_begin(slot, now, &pol, unknown_kid);
    known_uri = apr_pstrdup(r->pool, slot->jwks_uri);
    gunlock();

    if (decision == AUTHOS_FETCH_BUSY) {
        apr_time_t deadline = now + pol.timeout;
        /* Requests wait on the network only when no usable key set exists
         * (SPEC section 8); others go on with the cached keys. */
        while (!authos_keyslot_usable(slot, apr_time_now(), &pol)
               && slot->fetching_since != 0 && apr_time_now() < deadline) {
            apr_sleep(apr_time_from_msec(20));
        }
        return 0;
    }
    if (decision != AUTHOS_FETCH_NOW) {
        return 0;
    }
    authos_conf_http(conf, &opts);
    apr_pool_create(&scratch, r->pool);
    rv = authos_keyfetch(scratch, src->kind, src->value, known_uri, &opts,
                         &kf);
    if (!glock(r)) {
        apr_pool_destroy(scratch);
        return 0;
    }
    now = apr_time_now();
    if (rv == APR_SUCCESS) {
        stored = authos_keyslot_store(slot, now, &pol, kf.jwks, kf.len,
                                      kf.nkeys, kf.jwks_uri, kf.max_age);
    }
    else {
        authos_keyslot_fail(slot, now, kf.error);
        stored = 0;
    }
    gunlock();

    if (rv != APR_SUCCESS || !stored) {
        /* Say what the failure leaves: stale keys still in use, or none
         * (never cached, or past AuthOSJWKSMaxStale). */
        const char *left = "";
        if (authos_keyslot_usable(slot, now, &pol)) {
            left = " (keeping the cached key set)";
        }
        else if (slot->generation != 0) {
            left = " (the cached key set is past AuthOSJWKSMaxStale)";
        }
        /* The cause is in words already; APR's status adds nothing. */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, AUTHOS_LOGNO(0006)
                      "key set fetch for %s %s failed: %s%s",
                      kind_name(src->kind), src->value,
                      kf.error ? kf.error : "JWKS too large", left);
    }
    else {
        int ok;
        const char *want = authos_conf_issuer(conf, &ok);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AUTHOS_LOGNO(0007)
                      "key set of %s fetched from %s: %d usable key(s)",
                      src->value, kf.jwks_uri, kf.nkeys);
        if (kf.metadata_issuer != NULL && want != NULL
            && strcmp(kf.metadata_issuer, want) != 0) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, AUTHOS_LOGNO(0008)
                          "metadata of %s names issuer '%s' but tokens must "
                          "carry iss '%s'",
                          src->value, kf.metadata_issuer, want);
        }
    }
    apr_pool_destroy(scratch);
    return 1;
}

static apr_status_t key_release(void *data)
{
    EVP_PKEY_free((EVP_PKEY *)data);
    return APR_SUCCESS;
}

/* Bring this process's parsed keys up to the slot's generation and look
 * up kid. */
static authos_key_status_t find_key(request_rec *r,
                                    const authos_dir_conf_t *conf,
                                    const char *kid, EVP_PKEY **key)
{
    const authos_source_t *src = conf->source;
    authos_keyslot_t *slot = authos_shm_slot(shm_base, src->index);
    local_keys_t *lk = &local[src->index];
    authos_key_policy_t pol;
    const authos_jwk_t *jwk;
    apr_uint64_t gen;

    authos_conf_policy(conf, &pol);
    if (!authos_keyslot_usable(slot, apr_time_now(), &pol)) {
        return AUTHOS_KEY_NO_KEYSET;
    }
    gen = slot->generation;
    if (gen != lk->generation) {
        char *copy = NULL;
        apr_size_t len = 0;
        apr_pool_t *np;
        authos_jwks_t *set;
        const char *err;

        if (!glock(r)) {
            return AUTHOS_KEY_NO_KEYSET;
        }
        gen = slot->generation;
        len = slot->jwks_len;
        copy = apr_pmemdup(r->pool, slot->jwks, len + 1);
        gunlock();

        apr_thread_mutex_lock(lk->lock);
        if (gen != lk->generation) {
            apr_pool_create_unmanaged_ex(&np, NULL, NULL);
            set = authos_jwks_parse(np, copy, len, &err);
            if (set == NULL) {
                /* Validated before it was stored: only memory trouble. */
                apr_pool_destroy(np);
                apr_thread_mutex_unlock(lk->lock);
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0009)
                              "cannot parse the cached key set of %s: %s",
                              src->value, err);
                return AUTHOS_KEY_NO_KEYSET;
            }
            /* Keys still in use by other threads hold their own
             * reference (EVP_PKEY_up_ref below). */
            if (lk->pool != NULL) {
                apr_pool_destroy(lk->pool);
            }
            lk->pool = np;
            lk->set = set;
            lk->generation = gen;
        }
        apr_thread_mutex_unlock(lk->lock);
    }

    apr_thread_mutex_lock(lk->lock);
    jwk = lk->set != NULL ? authos_jwks_find(lk->set, kid) : NULL;
    if (jwk != NULL) {
        EVP_PKEY_up_ref(jwk->pkey);
        *key = jwk->pkey;
    }
    apr_thread_mutex_unlock(lk->lock);
    if (jwk == NULL) {
        return AUTHOS_KEY_UNKNOWN;
    }
    apr_pool_cleanup_register(r->pool, *key, key_release,
                              apr_pool_cleanup_null);
    return AUTHOS_KEY_FOUND;
}

authos_key_status_t authos_keys_lookup(request_rec *r,
                                       const authos_dir_conf_t *conf,
                                       const char *kid, EVP_PKEY **key)
{
    authos_keyslot_t *slot;
    authos_key_status_t st;
    apr_time_t now = apr_time_now();

    if (shm_base == NULL || local == NULL || conf->source == NULL
        || conf->source->index >= nslots) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0010)
                      "the key-set cache is not set up for this trust source");
        return AUTHOS_KEY_NO_KEYSET;
    }
    slot = authos_shm_slot(shm_base, conf->source->index);
    /* Lock-free first look: only a missing or due key set takes the
     * mutex. */
    if (slot->generation == 0 || now >= slot->refresh_at) {
        refresh(r, conf, 0);
    }
    st = find_key(r, conf, kid, key);
    if (st == AUTHOS_KEY_UNKNOWN && refresh(r, conf, 1)) {
        /* One refetch for an unknown kid, then one retry (SPEC 5.3). */
        st = find_key(r, conf, kid, key);
    }
    return st;
}

int authos_keys_retry_after(request_rec *r, const authos_dir_conf_t *conf)
{
    authos_key_policy_t pol;
    authos_keyslot_t *slot;
    apr_interval_time_t wait;

    (void)r;
    authos_conf_policy(conf, &pol);
    if (shm_base == NULL || conf->source == NULL) {
        return 10;
    }
    slot = authos_shm_slot(shm_base, conf->source->index);
    wait = slot->last_attempt + pol.min_refetch - apr_time_now();
    return wait > 0 ? (int)apr_time_sec(wait + APR_USEC_PER_SEC - 1) : 1;
}

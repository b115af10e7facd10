/*
 * keys.c: the shared key-set cache in Apache (SPEC section 8).
 *
 * The raw JWKS of every trust source lives in one shared-memory segment
 * (layout in authos_keyslot.h) guarded by one global mutex. Each process
 * keeps the parsed keys (EVP_PKEY) of each source and re-parses only when
 * the slot's generation changes. Fetching is in refresh.c.
 *
 * Across a graceful or full restart, the parent copies the cached key
 * sets out of the old segment before it is destroyed and seeds the new
 * segment with them (AuthOSJWKSFile sources excepted: the file is read
 * afresh), so new children verify at once, even while AuthOS is
 * unreachable.
 */
#include <stdlib.h>
#include <unistd.h>

#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"

#include "authos_jwks.h"
#include "authos_keyslot.h"
#include "authos_module.h"
#include "keys.h"
#include "keys_internal.h"

APLOG_USE_MODULE(auth_authos);

/* Parsed keys of one source in this process. */
typedef struct {
    apr_thread_mutex_t *lock; /* guards the three fields below */
    apr_uint64_t generation;
    apr_pool_t *pool;         /* owns set; replaced on a new generation */
    authos_jwks_t *set;
} local_keys_t;

authos_segment_t authos_keys_segment = {"authos-keys", "key sets", NULL,
                                        NULL, 0, NULL, NULL, 0};
static unsigned nslots;
/* Per child process. */
static local_keys_t *local;
/* Key sets carried over a restart (parent only). httpd unloads and
 * reloads this DSO when it clears the configuration, so no static of
 * ours survives a restart: the copy is malloc'd (no pool outlives the
 * configuration being replaced) and found again through a holder in the
 * process pool, which lives as long as the parent. */
#define CARRIED_KEY "mod_auth_authos:carried-key-sets"
typedef struct {
    authos_keyslot_t *slots; /* malloc'd, or NULL */
    unsigned n;
} carried_t;
static pid_t parent_pid;

/* The holder, allocated once per parent process. */
static carried_t *carried_holder(apr_pool_t *proc)
{
    void *c = NULL;

    apr_pool_userdata_get(&c, CARRIED_KEY, proc);
    if (c == NULL) {
        c = apr_pcalloc(proc, sizeof(carried_t));
        /* No cleanup: a function of ours would not outlive the DSO. */
        apr_pool_userdata_set(c, CARRIED_KEY, NULL, proc);
    }
    return c;
}

static void carried_release(carried_t *c)
{
    free(c->slots);
    c->slots = NULL;
    c->n = 0;
}

authos_keyslot_t *authos_keys_slot(unsigned i)
{
    return authos_keys_segment.base != NULL && i < nslots
               ? authos_shm_slot(authos_keys_segment.base, i)
               : NULL;
}

unsigned authos_keys_nslots(void)
{
    return nslots;
}

int authos_keys_pre_config(apr_pool_t *pconf)
{
    nslots = 0;
    local = NULL;
    return authos_segment_register(&authos_keys_segment, pconf);
}

/* Runs in the parent when the configuration is cleared for a restart,
 * before the segment is destroyed (registered after it). data: the
 * process pool. */
static apr_status_t carry_over(void *data)
{
    carried_t *c;
    unsigned i;

    if (getpid() != parent_pid || authos_keys_segment.base == NULL
        || ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_EXITING) {
        return APR_SUCCESS;
    }
    c = carried_holder(data);
    carried_release(c);
    if (nslots == 0
        || (c->slots = malloc(nslots * sizeof(*c->slots))) == NULL) {
        return APR_SUCCESS;
    }
    for (i = 0; i < nslots; i++) {
        authos_keyslot_t *slot = authos_keys_slot(i);
        if (slot != NULL && slot->generation != 0) {
            c->slots[c->n++] = *slot;
        }
    }
    return APR_SUCCESS;
}

static void seed(authos_keyslot_t *slot, const authos_source_t *src,
                 const carried_t *c)
{
    unsigned i;

    /* A local file is read afresh: "copy the new JWKS, then graceful"
     * must take effect at once. */
    if (src->kind == AUTHOS_SOURCE_JWKS_FILE) {
        return;
    }
    for (i = 0; i < c->n; i++) {
        /* slot is never NULL: post_config took it from the segment it has
         * just laid out for nslots slots (authos_keys_slot(i), i < nslots);
         * the analyzer cannot follow that into authos_shm_slot. */
        /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
        if (strcmp(c->slots[i].source, slot->source) == 0) {
            *slot = c->slots[i];
            slot->fetching_since = 0;
            return;
        }
    }
}

int authos_keys_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                            server_rec *s)
{
    const apr_array_header_t *sources = authos_config_sources();
    apr_size_t size;
    unsigned i;

    carried_t *carried = carried_holder(s->process->pool);

    (void)ptemp;
    nslots = (unsigned)sources->nelts;
    if (nslots == 0) {
        carried_release(carried);
        return OK;
    }
    size = authos_shm_size(nslots);
    if (authos_segment_create(&authos_keys_segment, size, pconf, s) != OK) {
        carried_release(carried);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    parent_pid = getpid();
    apr_pool_cleanup_register(pconf, s->process->pool, carry_over,
                              apr_pool_cleanup_null);
    authos_shm_init(authos_keys_segment.base, size, nslots);
    for (i = 0; i < nslots; i++) {
        const authos_source_t *src =
            APR_ARRAY_IDX(sources, i, authos_source_t *);
        authos_keyslot_t *slot = authos_keys_slot(i);

        apr_cpystrn(slot->source, src->value, sizeof(slot->source));
        seed(slot, src, carried);
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, AUTHOS_LOGNO(0002)
                     "trust source %u: %s %s (%s)", i,
                     src->kind == AUTHOS_SOURCE_BASE_URL   ? "AuthOSBaseURL"
                     : src->kind == AUTHOS_SOURCE_JWKS_URL ? "AuthOSJWKSURL"
                                                           : "AuthOSJWKSFile",
                     src->value,
                     slot->generation != 0
                         ? apr_psprintf(ptemp, "%u key(s) kept from before "
                                               "the restart",
                                        slot->nkeys)
                         : "keys fetched on first use");
    }
    carried_release(carried);
    authos_refresh_watchdog(pconf, s);
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

    if (nslots == 0) {
        return;
    }
    authos_segment_child_init(&authos_keys_segment, pchild, s);
    local = apr_pcalloc(pchild, nslots * sizeof(*local));
    for (i = 0; i < nslots; i++) {
        apr_thread_mutex_create(&local[i].lock, APR_THREAD_MUTEX_DEFAULT,
                                pchild);
    }
    apr_pool_cleanup_register(pchild, NULL, local_cleanup,
                              apr_pool_cleanup_null);
}

static apr_status_t verifier_release(void *data)
{
    EVP_PKEY_CTX_free((EVP_PKEY_CTX *)data);
    return APR_SUCCESS;
}

/* Bring this process's parsed keys of the source up to the slot's
 * generation. */
static int sync_local(request_rec *r, const authos_source_t *src,
                      authos_keyslot_t *slot, local_keys_t *lk)
{
    apr_uint64_t gen;
    apr_size_t len;
    apr_pool_t *np;
    authos_jwks_t *set;
    const char *err;
    char *copy;

    if (authos_segment_lock(&authos_keys_segment) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0005)
                      "cannot lock the key-set mutex");
        return 0;
    }
    gen = slot->generation;
    len = slot->jwks_len;
    copy = apr_pmemdup(r->pool, slot->jwks, len + 1);
    authos_segment_unlock(&authos_keys_segment);

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
            return 0;
        }
        /* Keys still in use by other threads hold their own reference
         * (their copies of the verify context, made in find_key). */
        if (lk->pool != NULL) {
            apr_pool_destroy(lk->pool);
        }
        lk->pool = np;
        lk->set = set;
        /* Read without the lock by authos_keys_still_valid. */
        __atomic_store_n(&lk->generation, gen, __ATOMIC_RELEASE);
    }
    apr_thread_mutex_unlock(lk->lock);
    return 1;
}

static authos_key_status_t find_key(request_rec *r,
                                    const authos_dir_conf_t *conf,
                                    const char *kid,
                                    EVP_PKEY_CTX **verifier,
                                    authos_key_ref_t *ref)
{
    const authos_source_t *src = conf->source;
    authos_keyslot_t *slot = authos_keys_slot(src->index);
    local_keys_t *lk = &local[src->index];
    authos_key_policy_t pol;
    const authos_jwk_t *jwk;

    authos_conf_policy(conf, &pol);
    if (!authos_keyslot_usable(slot, apr_time_now(), &pol)) {
        return AUTHOS_KEY_NO_KEYSET;
    }
    if (slot->generation != lk->generation
        && !sync_local(r, src, slot, lk)) {
        return AUTHOS_KEY_NO_KEYSET;
    }
    apr_thread_mutex_lock(lk->lock);
    jwk = lk->set != NULL ? authos_jwks_find(lk->set, kid) : NULL;
    if (jwk != NULL) {
        /* The copy holds its own reference to the key, so it outlives a
         * newer generation replacing lk->set meanwhile. */
        *verifier = EVP_PKEY_CTX_dup(jwk->verifier);
        ref->fp = jwk->fp;
        ref->generation = lk->generation;
    }
    apr_thread_mutex_unlock(lk->lock);
    if (jwk == NULL) {
        return AUTHOS_KEY_UNKNOWN;
    }
    if (*verifier == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0016)
                      "cannot copy the RS256 context of kid %s", kid);
        return AUTHOS_KEY_NO_KEYSET;
    }
    apr_pool_cleanup_register(r->pool, *verifier, verifier_release,
                              apr_pool_cleanup_null);
    return AUTHOS_KEY_FOUND;
}

/* The slot of conf's source, refreshed if due; NULL (logged) when the
 * cache is not set up. */
static authos_keyslot_t *slot_for(request_rec *r,
                                  const authos_dir_conf_t *conf)
{
    authos_keyslot_t *slot;

    if (local == NULL || conf->source == NULL
        || (slot = authos_keys_slot(conf->source->index)) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0010)
                      "the key-set cache is not set up for this trust source");
        return NULL;
    }
    /* Lock-free first look: only a missing or due key set goes further. */
    if (slot->generation == 0 || apr_time_now() >= slot->refresh_at) {
        authos_refresh_for_request(r, conf, NULL);
    }
    return slot;
}

authos_key_status_t authos_keys_still_valid(request_rec *r,
                                            const authos_dir_conf_t *conf,
                                            const char *kid,
                                            authos_key_ref_t *ref)
{
    authos_keyslot_t *slot = slot_for(r, conf);
    local_keys_t *lk;
    authos_key_policy_t pol;
    const authos_jwk_t *jwk;
    int same;

    if (slot == NULL) {
        return AUTHOS_KEY_NO_KEYSET;
    }
    lk = &local[conf->source->index];
    authos_conf_policy(conf, &pol);
    if (!authos_keyslot_usable(slot, apr_time_now(), &pol)
        || (slot->generation != lk->generation
            && !sync_local(r, conf->source, slot, lk))) {
        return AUTHOS_KEY_NO_KEYSET;
    }
    /* The hot path: the key set this entry was checked against is still
     * the current one. */
    if (__atomic_load_n(&lk->generation, __ATOMIC_ACQUIRE) == ref->generation) {
        return AUTHOS_KEY_FOUND;
    }
    apr_thread_mutex_lock(lk->lock);
    jwk = lk->set != NULL ? authos_jwks_find(lk->set, kid) : NULL;
    same = jwk != NULL && jwk->fp == ref->fp;
    ref->generation = lk->generation;
    apr_thread_mutex_unlock(lk->lock);
    return same ? AUTHOS_KEY_FOUND : AUTHOS_KEY_UNKNOWN;
}

authos_key_status_t authos_keys_lookup(request_rec *r,
                                       const authos_dir_conf_t *conf,
                                       const char *kid,
                                       EVP_PKEY_CTX **verifier,
                                       authos_key_ref_t *ref)
{
    authos_keyslot_t *slot = slot_for(r, conf);
    authos_key_status_t st;

    if (slot == NULL) {
        return AUTHOS_KEY_NO_KEYSET;
    }
    st = find_key(r, conf, kid, verifier, ref);
    if (st == AUTHOS_KEY_UNKNOWN && authos_refresh_for_request(r, conf, kid)) {
        /* One refetch for an unknown kid, then one retry (SPEC 5.3). */
        st = find_key(r, conf, kid, verifier, ref);
        if (st == AUTHOS_KEY_UNKNOWN
            && authos_segment_lock(&authos_keys_segment) == APR_SUCCESS) {
            /* Still unknown: refused without a fetch for a while. */
            authos_keyslot_remember_unknown(slot, kid, apr_time_now());
            authos_segment_unlock(&authos_keys_segment);
        }
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
    if (conf->source == NULL
        || (slot = authos_keys_slot(conf->source->index)) == NULL) {
        return 10;
    }
    wait = slot->last_attempt + pol.min_refetch - apr_time_now();
    return wait > 0 ? (int)apr_time_sec(wait + APR_USEC_PER_SEC - 1) : 1;
}

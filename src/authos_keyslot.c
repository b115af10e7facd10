/*
 * authos_keyslot.c: key-set cache layout and refresh policy.
 */
#include <string.h>

#include <apr_strings.h>

#include "authos_keyslot.h"

#define ALIGN64(n) (((n) + 63) & ~(apr_size_t)63)
#define HEADER_SIZE ALIGN64(sizeof(authos_shm_header_t))
#define SLOT_SIZE ALIGN64(sizeof(authos_keyslot_t))
/* A fetch that started this long after its time limit is presumed dead
 * (its process crashed or was killed mid-fetch). */
#define FETCH_GRACE apr_time_from_sec(5)

apr_size_t authos_shm_size(unsigned nslots)
{
    return HEADER_SIZE + (apr_size_t)nslots * SLOT_SIZE;
}

int authos_shm_init(void *base, apr_size_t size, unsigned nslots)
{
    authos_shm_header_t *h = base;

    if (size < authos_shm_size(nslots)) {
        return 0;
    }
    memset(base, 0, authos_shm_size(nslots));
    h->magic = AUTHOS_SHM_MAGIC;
    h->version = AUTHOS_SHM_VERSION;
    h->nslots = nslots;
    h->slot_size = (apr_uint32_t)SLOT_SIZE;
    return 1;
}

authos_keyslot_t *authos_shm_slot(void *base, unsigned i)
{
    authos_shm_header_t *h = base;

    if (h == NULL || h->magic != AUTHOS_SHM_MAGIC
        || h->version != AUTHOS_SHM_VERSION || i >= h->nslots) {
        return NULL;
    }
    return (authos_keyslot_t *)((char *)base + HEADER_SIZE
                                + (apr_size_t)i * h->slot_size);
}

int authos_keyslot_usable(const authos_keyslot_t *s, apr_time_t now,
                          const authos_key_policy_t *pol)
{
    return s->generation != 0 && now <= s->refresh_at + pol->max_stale;
}

/* The single-flight and throttle rules shared by both entry points:
 * claim the fetch for this caller, or say why not. */
static authos_fetch_decision_t claim(authos_keyslot_t *s, apr_time_t now,
                                     const authos_key_policy_t *pol)
{
    if (s->fetching_since != 0
        && now - s->fetching_since < pol->timeout + FETCH_GRACE) {
        return AUTHOS_FETCH_BUSY;
    }
    /* Throttle every attempt, not only unknown-kid ones, so a down
     * AuthOS or a flood of junk tokens costs one fetch per min_refetch. */
    if (s->last_attempt != 0 && now - s->last_attempt < pol->min_refetch) {
        return AUTHOS_FETCH_NONE;
    }
    s->last_attempt = now;
    s->fetching_since = now;
    return AUTHOS_FETCH_NOW;
}

authos_fetch_decision_t authos_keyslot_begin(authos_keyslot_t *s,
                                             apr_time_t now,
                                             const authos_key_policy_t *pol,
                                             int unknown_kid)
{
    if (s->generation != 0 && now < s->refresh_at && !unknown_kid) {
        return AUTHOS_FETCH_NONE;
    }
    return claim(s, now, pol);
}

authos_fetch_decision_t authos_keyslot_begin_ahead(authos_keyslot_t *s,
                                                   apr_time_t now)
{
    /* Only key sets a request has fetched: first fetches stay with
     * requests ("fetched on first use"), so a source nobody uses, or
     * that never worked, causes no background traffic. */
    if (!s->has_settings || s->generation == 0
        || now < s->refresh_at - (s->refresh_at - s->fetched_at) / 10) {
        return AUTHOS_FETCH_NONE;
    }
    return claim(s, now, &s->policy);
}

/* FNV-1a: enough to tell kids apart in a small ring. */
static apr_uint64_t kid_hash(const char *kid)
{
    apr_uint64_t h = 1469598103934665603ULL;

    for (; *kid; kid++) {
        h ^= (unsigned char)*kid;
        h *= 1099511628211ULL;
    }
    return h | 1; /* never 0, the empty mark */
}

void authos_keyslot_remember_unknown(authos_keyslot_t *s, const char *kid,
                                     apr_time_t now)
{
    unsigned i = s->unknown_next % AUTHOS_UNKNOWN_KIDS;

    s->unknown_kid[i] = kid_hash(kid);
    s->unknown_at[i] = now;
    s->unknown_next = (i + 1) % AUTHOS_UNKNOWN_KIDS;
}

int authos_keyslot_recently_unknown(const authos_keyslot_t *s,
                                    const char *kid, apr_time_t now,
                                    apr_interval_time_t window)
{
    apr_uint64_t h = kid_hash(kid);
    unsigned i;

    for (i = 0; i < AUTHOS_UNKNOWN_KIDS; i++) {
        if (s->unknown_kid[i] == h && now - s->unknown_at[i] < window) {
            return 1;
        }
    }
    return 0;
}

int authos_keyslot_store(authos_keyslot_t *s, apr_time_t now,
                         const authos_key_policy_t *pol, const char *jwks,
                         apr_size_t len, int nkeys, const char *jwks_uri,
                         long max_age)
{
    apr_interval_time_t ttl = pol->refresh;

    s->fetching_since = 0;
    if (len >= sizeof(s->jwks)) {
        authos_keyslot_fail(s, now, "JWKS too large");
        return 0;
    }
    /* Compared in seconds: max_age comes from the network and may be
     * anything up to LONG_MAX, which in microseconds would overflow. */
    if (max_age >= 0 && max_age < apr_time_sec(ttl)) {
        ttl = apr_time_from_sec(max_age);
    }
    if (s->generation == 0 || s->jwks_len != len
        || memcmp(s->jwks, jwks, len) != 0) {
        memcpy(s->jwks, jwks, len);
        s->jwks[len] = '\0';
        s->jwks_len = (apr_uint32_t)len;
        s->generation++;
    }
    s->nkeys = (apr_uint32_t)nkeys;
    apr_cpystrn(s->jwks_uri, jwks_uri ? jwks_uri : "", sizeof(s->jwks_uri));
    s->fetched_at = now;
    s->refresh_at = now + ttl;
    s->last_error[0] = '\0';
    s->fetch_ok++;
    return 1;
}

void authos_keyslot_fail(authos_keyslot_t *s, apr_time_t now,
                         const char *error)
{
    s->fetching_since = 0;
    apr_cpystrn(s->last_error, error ? error : "unknown error",
                sizeof(s->last_error));
    s->last_error_at = now;
    s->fetch_failed++;
    /* Forget a discovered jwks_uri: the next attempt rediscovers it. */
    s->jwks_uri[0] = '\0';
}

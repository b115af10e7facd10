/*
 * authos_tokcache.h: the verified-token cache (SPEC section 9).
 *
 * Repeat requests with the same token skip the signature check: the
 * payload of a token whose RS256 signature verified is kept, keyed by the
 * token's SHA-256 (the token itself is never stored), with the kid and
 * fingerprint of the key that verified it. The caller re-applies every
 * claim check (exp, nbf, iss, aud, ...) on each hit and uses an entry only
 * while that key is still in the key set. One cache per process, shared
 * by its threads: a set-associative table whose sets are guarded by a
 * few striped mutexes, so no lock is global on the hot path.
 */
#ifndef AUTHOS_TOKCACHE_H
#define AUTHOS_TOKCACHE_H

#include <apr_pools.h>
#include <apr_time.h>
#include <jansson.h>

#define AUTHOS_TOKCACHE_KEY_LEN 32
/* Longer kids are not cached (AuthOS's are short). */
#define AUTHOS_TOKCACHE_KID_MAX 64

typedef struct authos_tokcache authos_tokcache_t;

typedef struct {
    unsigned source;          /* trust source index */
    const char *kid;
    apr_uint64_t key_fp;      /* fingerprint of the verifying key */
    apr_uint64_t generation;  /* key-set generation it was last seen in */
    int profile;              /* authos_profile_t of the header's typ */
    double exp;               /* the token's exp: useless after it */
    const char *payload;      /* verified payload JSON */
    apr_size_t len;
    /* The parsed payload (may be NULL). Shared read-only between the
     * cache and requests: never modified, reference counts are atomic.
     * get hands out a new reference that the caller releases. */
    json_t *claims;
} authos_tokcache_entry_t;

/* A cache of at most capacity entries, freed with p; NULL for 0. */
authos_tokcache_t *authos_tokcache_create(apr_pool_t *p, unsigned capacity);

/* The SHA-256 of a token. */
void authos_tokcache_key(const char *token, apr_size_t len,
                         unsigned char key[AUTHOS_TOKCACHE_KEY_LEN]);

/* Look up key for source; on a hit the entry is copied into p and
 * counts as its latest use. Entries past exp (at now, whole seconds) are
 * not returned. */
int authos_tokcache_get(authos_tokcache_t *c, const unsigned char *key,
                        unsigned source, double now, apr_pool_t *p,
                        authos_tokcache_entry_t *out);

/* Insert or replace. Evicts, within the key's set, an empty entry, else
 * one past exp, else the least recently used (put or hit). Payloads too
 * large or kids too long are not cached. */
void authos_tokcache_put(authos_tokcache_t *c, const unsigned char *key,
                         const authos_tokcache_entry_t *e, double now);

/* Record that the entry's key is still valid in a newer generation. */
void authos_tokcache_touch(authos_tokcache_t *c, const unsigned char *key,
                           unsigned source, apr_uint64_t generation);

/* Drop an entry (its key is gone). */
void authos_tokcache_drop(authos_tokcache_t *c, const unsigned char *key,
                          unsigned source);

/* Entries the cache holds at most. */
unsigned authos_tokcache_capacity(const authos_tokcache_t *c);

#endif

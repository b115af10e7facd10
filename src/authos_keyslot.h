/*
 * authos_keyslot.h: the key-set cache in shared memory (SPEC section 8),
 * laid out over a plain (base, size) region so it is testable without
 * httpd. The caller serialises access with a global mutex; nothing here
 * locks.
 *
 * Layout (offsets only, never pointers, so every process may map the
 * segment at a different address):
 *
 *   +------------------------+ 0
 *   | authos_shm_header_t    |  magic, version, nslots, slot_size
 *   +------------------------+ sizeof(header), rounded to 64
 *   | authos_keyslot_t [0]   |  one per trust source, in the order the
 *   | authos_keyslot_t [1]   |  configuration declared them
 *   | ...                    |
 *   +------------------------+ header + nslots * slot_size
 */
#ifndef AUTHOS_KEYSLOT_H
#define AUTHOS_KEYSLOT_H

#include <apr.h>
#include <apr_time.h>

#include "authos_http.h"

#define AUTHOS_SHM_MAGIC 0x41555448u /* "AUTH" */
#define AUTHOS_SHM_VERSION 1u
#define AUTHOS_SLOT_JWKS_MAX AUTHOS_HTTP_MAX_BODY

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t version;
    apr_uint32_t nslots;
    apr_uint32_t slot_size;
} authos_shm_header_t;

typedef struct {
    apr_interval_time_t refresh;     /* AuthOSJWKSRefresh */
    apr_interval_time_t min_refetch; /* AuthOSJWKSMinRefetch */
    apr_interval_time_t max_stale;   /* AuthOSJWKSMaxStale */
    apr_interval_time_t timeout;     /* AuthOSHTTPTimeout */
} authos_key_policy_t;

/* How many recently unknown kids a slot remembers. */
#define AUTHOS_UNKNOWN_KIDS 32

typedef struct {
    char source[512];            /* what the configuration named */
    char jwks_uri[1024];         /* discovered jwks_uri, "" to rediscover */
    apr_uint64_t generation;     /* +1 per new key set; 0 = never fetched */
    apr_time_t fetched_at;       /* last successful fetch */
    apr_time_t refresh_at;       /* when the key set is due for refresh */
    apr_time_t last_attempt;     /* stamped before every fetch */
    apr_time_t fetching_since;   /* 0 unless a fetch is under way */
    apr_time_t last_error_at;
    apr_uint32_t fetch_ok;
    apr_uint32_t fetch_failed;
    apr_uint32_t nkeys;
    apr_uint32_t jwks_len;
    char last_error[256];        /* "" when the last fetch succeeded */
    /* Fetch settings of the last request that fetched this source, so
     * that background refreshes fetch exactly as a request would. */
    apr_uint32_t has_settings;
    apr_uint32_t allow_http;
    authos_key_policy_t policy;
    char ca_file[512];
    char issuer[512];            /* expected iss, "" when not checked */
    /* Kids that a fetch did not find, with when (hash of the kid). */
    apr_uint64_t unknown_kid[AUTHOS_UNKNOWN_KIDS];
    apr_time_t unknown_at[AUTHOS_UNKNOWN_KIDS];
    apr_uint32_t unknown_next;
    char jwks[AUTHOS_SLOT_JWKS_MAX];
} authos_keyslot_t;

typedef enum {
    AUTHOS_FETCH_NONE = 0, /* nothing to do */
    AUTHOS_FETCH_NOW,      /* the caller should fetch (and has stamped it) */
    AUTHOS_FETCH_BUSY      /* another process or thread is fetching */
} authos_fetch_decision_t;

/* Bytes needed for nslots slots. */
apr_size_t authos_shm_size(unsigned nslots);

/* Lay out a zeroed region; returns 0 when size is too small. */
int authos_shm_init(void *base, apr_size_t size, unsigned nslots);

/* Slot i, or NULL when the region is not ours or i is out of range. */
authos_keyslot_t *authos_shm_slot(void *base, unsigned i);

/* Can requests use the slot's keys now (fetched, and not past
 * refresh_at + max_stale)? */
int authos_keyslot_usable(const authos_keyslot_t *s, apr_time_t now,
                          const authos_key_policy_t *pol);

/* Decide whether this caller fetches now. unknown_kid: a token named a
 * kid the key set lacks. A fetch is due when there is no key set yet, the
 * refresh time has come, or for an unknown kid; every attempt is at least
 * min_refetch after the previous one, and only one runs at a time (one
 * that started more than timeout + 5 s ago is presumed dead). On
 * AUTHOS_FETCH_NOW the attempt is stamped in the slot. */
authos_fetch_decision_t authos_keyslot_begin(authos_keyslot_t *s,
                                             apr_time_t now,
                                             const authos_key_policy_t *pol,
                                             int unknown_kid);

/* Should a background refresher (mod_watchdog) fetch now? Only slots
 * with a key set that a request fetched (so their settings are known);
 * due a tenth of their lifetime before refresh_at, so that requests never
 * find them expired. Same single-flight and throttling rules as authos_keyslot_begin,
 * and stamps the attempt likewise. */
authos_fetch_decision_t authos_keyslot_begin_ahead(authos_keyslot_t *s,
                                                   apr_time_t now);

/* Remember that a fetch did not bring kid; was kid found unknown within
 * window? A flood of one junk kid then costs no fetch at all. */
void authos_keyslot_remember_unknown(authos_keyslot_t *s, const char *kid,
                                     apr_time_t now);
int authos_keyslot_recently_unknown(const authos_keyslot_t *s,
                                    const char *kid, apr_time_t now,
                                    apr_interval_time_t window);

/* Record a fetched key set (already validated). The generation changes
 * only when the bytes differ. max_age < 0: none given. Returns 0 when it
 * does not fit the slot (recorded as a failure). */
int authos_keyslot_store(authos_keyslot_t *s, apr_time_t now,
                         const authos_key_policy_t *pol, const char *jwks,
                         apr_size_t len, int nkeys, const char *jwks_uri,
                         long max_age);

/* Record a failed fetch; the previous key set stays (stale-if-error). */
void authos_keyslot_fail(authos_keyslot_t *s, apr_time_t now,
                         const char *error);

#endif

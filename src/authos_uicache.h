/*
 * authos_uicache.h: the shared cache of AuthOS /api/user answers (SPEC
 * sections 4 and 6), keyed by the SHA-256 of the token (never the token),
 * laid out over a plain (base, size) region. The caller serialises access
 * with a global mutex; nothing here locks.
 *
 * Layout (offsets only):
 *
 *   +---------------------------+ 0
 *   | authos_ui_header_t        |  magic, version, geometry, counters
 *   +---------------------------+ rounded to 64
 *   | authos_ui_entry_t [0]     |  nsets sets of AUTHOS_UI_WAYS entries;
 *   | ...                       |  a token's set is its hash mod nsets
 *   +---------------------------+
 */
#ifndef AUTHOS_UICACHE_H
#define AUTHOS_UICACHE_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_time.h>

#define AUTHOS_UI_MAGIC 0x41555549u /* "AUUI" */
#define AUTHOS_UI_VERSION 1u
#define AUTHOS_UI_WAYS 8
#define AUTHOS_UI_KEY_LEN 32
/* The permissions of one answer, as a JSON array text. */
#define AUTHOS_UI_DATA_MAX 4000

typedef enum {
    AUTHOS_UI_EMPTY = 0,
    AUTHOS_UI_PENDING, /* a process is asking AuthOS now */
    AUTHOS_UI_READY,   /* 200: permissions stored */
    AUTHOS_UI_REVOKED  /* 401: the session is gone */
} authos_ui_state_t;

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t version;
    apr_uint32_t nsets;
    apr_uint32_t entry_size;
    apr_uint64_t calls;   /* /api/user calls started */
    apr_uint64_t hits;    /* answers served from the cache */
} authos_ui_header_t;

typedef struct {
    unsigned char key[AUTHOS_UI_KEY_LEN];
    apr_uint32_t state;
    apr_uint32_t len;
    apr_time_t since;   /* PENDING: started; else: answered */
    apr_time_t expires; /* READY/REVOKED: usable until */
    char data[AUTHOS_UI_DATA_MAX];
} authos_ui_entry_t;

typedef enum {
    AUTHOS_UI_HIT = 0, /* *out holds the stored answer */
    AUTHOS_UI_FETCH,   /* the caller asks AuthOS (entry marked PENDING) */
    AUTHOS_UI_WAIT     /* another caller is asking; look again shortly */
} authos_ui_decision_t;

/* Bytes for at least nentries entries (rounded up to whole sets). */
apr_size_t authos_ui_size(unsigned nentries);

/* Lay out a region of authos_ui_size(nentries) bytes. */
int authos_ui_init(void *base, apr_size_t size, unsigned nentries);

/* The SHA-256 of a token: the only form in which it is kept. */
void authos_ui_key(const char *token, apr_size_t len,
                   unsigned char key[AUTHOS_UI_KEY_LEN]);

/* Look key up at now. HIT copies the entry to *out. A miss (or an
 * expired entry, or a PENDING one older than pending_limit, whose fetcher
 * is presumed dead) claims an entry: FETCH. */
authos_ui_decision_t authos_ui_begin(void *base,
                                     const unsigned char *key,
                                     apr_time_t now,
                                     apr_interval_time_t pending_limit,
                                     authos_ui_entry_t *out);

/* Store an answer for key (state READY or REVOKED) until now + ttl.
 * Data longer than AUTHOS_UI_DATA_MAX is not cached (the entry is freed):
 * returns 0. */
int authos_ui_store(void *base, const unsigned char *key, apr_time_t now,
                    apr_interval_time_t ttl, authos_ui_state_t state,
                    const char *data, apr_size_t len);

/* Give up a claimed entry after a failed call: nothing is cached, so the
 * next request asks again (fail closed, never a stale grant). */
void authos_ui_abandon(void *base, const unsigned char *key);

#endif

/*
 * uicache_helpers.h: fixture and helpers shared by the unit tests of the
 * /api/user cache (test_uicache.c, test_uicache_evict.c).
 *
 * Everything here is static inline, as in unit_helpers.h, so a test file
 * that does not use a helper compiles without warnings.
 */
#ifndef UICACHE_HELPERS_H
#define UICACHE_HELPERS_H

#include "unit_helpers.h"

#include "authos_uicache.h"

#define SEC(n) apr_time_from_sec(n)
/* An arbitrary "now" far from 0. */
#define T0 SEC(1700000000)
/* How long a claimed call is trusted to be alive. */
#define LIMIT SEC(10)
#define TTL SEC(60)
/* 16 entries: two sets of AUTHOS_UI_WAYS. */
#define NENTRIES 16
#define NSETS 2
#define PERMS "[\"read\",\"write\"]"

/* The documented layout, recomputed here rather than taken from the code
 * under test: the header rounded to 64, then nsets sets of ways. */
#define HDR_SIZE ((sizeof(authos_ui_header_t) + 63) & ~(size_t)63)

/* *state: a unit_region_t holding a cache of NENTRIES entries, filled
 * with 0xa5 before authos_ui_init. */
static inline int cache_setup(void **state)
{
    unit_region_t *f = unit_region_new(sizeof(*f), authos_ui_size(NENTRIES));

    if (f == NULL || !authos_ui_init(f->base, f->size, NENTRIES)) {
        unit_region_free(f);
        return -1;
    }
    *state = f;
    return 0;
}

#define cache_test(t)                                                         \
    cmocka_unit_test_setup_teardown(t, cache_setup, unit_region_teardown)

static inline authos_ui_header_t *header(void *base)
{
    return base;
}

/* Way w of set s, by the documented layout. */
static inline authos_ui_entry_t *way_at(void *base, unsigned s, unsigned w)
{
    return (authos_ui_entry_t *)((char *)base + HDR_SIZE
                                 + ((size_t)s * AUTHOS_UI_WAYS + w)
                                       * header(base)->entry_size);
}

/* A key whose first 4 bytes (in host order) are lead, so its set is
 * lead % nsets; tag tells keys with the same lead apart. */
static inline void make_key(unsigned char key[AUTHOS_UI_KEY_LEN],
                            apr_uint32_t lead, unsigned char tag)
{
    memset(key, tag, AUTHOS_UI_KEY_LEN);
    memcpy(key, &lead, sizeof(lead));
    key[AUTHOS_UI_KEY_LEN - 1] = (unsigned char)(0x80 | tag);
}

/* The way of set s holding key (any state but EMPTY), or -1. */
static inline int way_of(void *base, unsigned s, const unsigned char *key)
{
    unsigned w;

    for (w = 0; w < AUTHOS_UI_WAYS; w++) {
        authos_ui_entry_t *e = way_at(base, s, w);
        if (e->state != AUTHOS_UI_EMPTY
            && memcmp(e->key, key, AUTHOS_UI_KEY_LEN) == 0) {
            return (int)w;
        }
    }
    return -1;
}

static inline authos_ui_decision_t begin(void *base, const unsigned char *key,
                                         apr_time_t now)
{
    authos_ui_entry_t out;

    return authos_ui_begin(base, key, now, LIMIT, &out);
}

/* A HIT at now, with the answer copied to *out. */
static inline void assert_hit(void *base, const unsigned char *key,
                              apr_time_t now, authos_ui_entry_t *out)
{
    assert_int_equal(authos_ui_begin(base, key, now, LIMIT, out),
                     AUTHOS_UI_HIT);
}

static inline int store(void *base, const unsigned char *key, apr_time_t now,
                        apr_interval_time_t ttl, const char *data)
{
    return authos_ui_store(base, key, now, ttl, AUTHOS_UI_READY, data,
                           strlen(data));
}

/* Way w of set s is key's call, claimed at since and not answered yet,
 * and the first way of s that holds key. */
static inline void assert_pending(void *base, unsigned s, unsigned w,
                                  const unsigned char *key, apr_time_t since)
{
    authos_ui_entry_t *e = way_at(base, s, w);

    assert_int_equal(way_of(base, s, key), (int)w);
    assert_int_equal(e->state, AUTHOS_UI_PENDING);
    assert_memory_equal(e->key, key, AUTHOS_UI_KEY_LEN);
    assert_int_equal(e->since, since);
    assert_int_equal(e->len, 0);
}

static inline void assert_counters(void *base, apr_uint64_t calls,
                                   apr_uint64_t hits)
{
    assert_int_equal(header(base)->calls, calls);
    assert_int_equal(header(base)->hits, hits);
}

#endif

/*
 * test_tokcache.c: the per-process verified-token cache (SPEC section 9):
 * keys, exact copies, per-source entries, expiry, replacement, touch and
 * drop, what is too large to cache, eviction within a set, and many
 * threads at once.
 */
#include "unit_helpers.h"

#include <apr_thread_proc.h>

#include "authos_tokcache.h"

#define WAYS 4
/* 16 entries: NSETS sets of WAYS. */
#define NENTRIES 16
#define NSETS (NENTRIES / WAYS)
/* The documented limits on what is cached. */
#define PAYLOAD_MAX 8192
#define EXP 1700003600.0
#define NOW ((double)UNIT_NOW)
/* A payload with quotes and a backslash, as JSON text has. */
#define PAYLOAD "{\"sub\":\"u1\",\"name\":\"a \\\"quoted\\\" name\"}"

typedef struct {
    apr_pool_t *p; /* first: see unit_pool_fixture */
    authos_tokcache_t *c;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = unit_pool_fixture(sizeof(*f));

    if (f == NULL) {
        return -1;
    }
    f->c = authos_tokcache_create(f->p, NENTRIES);
    if (f->c == NULL) {
        unit_pool_fixture_teardown((void **)&f);
        return -1;
    }
    *state = f;
    return 0;
}

#define tc_test(t)                                                            \
    cmocka_unit_test_setup_teardown(t, setup, unit_pool_fixture_teardown)

/* A key whose first 4 bytes (in host order, as the cache reads them) are
 * lead, so its set is lead % nsets; tag fills the other 28 bytes, so keys
 * of one set differ. */
static void make_key(unsigned char key[AUTHOS_TOKCACHE_KEY_LEN],
                     apr_uint32_t lead, unsigned char tag)
{
    memcpy(key, &lead, sizeof(lead));
    memset(key + sizeof(lead), tag, AUTHOS_TOKCACHE_KEY_LEN - sizeof(lead));
}

/* Key i of set s of the fixture's cache. */
static void set_key(unsigned char key[AUTHOS_TOKCACHE_KEY_LEN], unsigned s,
                    int i)
{
    make_key(key, (apr_uint32_t)(NSETS * i + s), (unsigned char)(i + 1));
}

/* An entry for source 0 with the given payload (a C string) and exp. */
static authos_tokcache_entry_t entry(const char *payload, double exp)
{
    authos_tokcache_entry_t e;

    memset(&e, 0, sizeof(e));
    e.source = 0;
    e.kid = "k1";
    e.key_fp = 0x0123456789abcdefULL;
    e.generation = 7;
    e.profile = 1;
    e.exp = exp;
    e.payload = payload;
    e.len = strlen(payload);
    return e;
}

/* Is (key, source) a hit at now? */
static int hit(fixture_t *f, const unsigned char *key, unsigned source,
               double now)
{
    authos_tokcache_entry_t out;

    return authos_tokcache_get(f->c, key, source, now, f->p, &out);
}

/* The hit for (key, source) at now, whose payload must be text. */
static void assert_payload_at(fixture_t *f, const unsigned char *key,
                              unsigned source, double now, const char *text)
{
    authos_tokcache_entry_t out;

    assert_true(authos_tokcache_get(f->c, key, source, now, f->p, &out));
    assert_int_equal(out.len, strlen(text));
    assert_memory_equal(out.payload, text, out.len);
}

static void assert_payload(fixture_t *f, const unsigned char *key,
                           unsigned source, const char *text)
{
    assert_payload_at(f, key, source, NOW, text);
}

static void tc_create_zero_is_null_and_calls_on_null_do_nothing(void **state)
{
    apr_pool_t *p = *state;
    authos_tokcache_t *c = authos_tokcache_create(p, 0);
    authos_tokcache_entry_t e = entry(PAYLOAD, EXP), out;
    unsigned char key[AUTHOS_TOKCACHE_KEY_LEN];

    assert_null(c);
    assert_int_equal(authos_tokcache_capacity(NULL), 0);
    make_key(key, 1, 1);
    authos_tokcache_put(NULL, key, &e, NOW);
    memset(&out, 0x5a, sizeof(out));
    assert_false(authos_tokcache_get(NULL, key, 0, NOW, p, &out));
    /* A miss leaves out alone. */
    assert_int_equal(out.source, 0x5a5a5a5aU);
    authos_tokcache_touch(NULL, key, 0, 8);
    authos_tokcache_drop(NULL, key, 0);
    assert_false(authos_tokcache_get(NULL, key, 0, NOW, p, &out));
}

static void tc_capacity_rounds_up_to_whole_sets(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        unsigned asked, got;
    } cases[] = {
        {1, 4},     {3, 4},         {4, 4},         {5, 8},
        {8, 8},     {9, 12},        {16383, 16384}, {16384, 16384},
        /* AuthOSTokenCache's largest value. */
        {4000000, 4000000},
    };
    size_t i;

    for (i = 0; i < UNIT_NELTS(cases); i++) {
        authos_tokcache_t *c = authos_tokcache_create(p, cases[i].asked);

        assert_non_null(c);
        assert_int_equal(authos_tokcache_capacity(c), cases[i].got);
    }
}

static void tc_key_is_sha256_of_exactly_len_bytes(void **state)
{
    /* FIPS 180-2 test vectors. */
    static const unsigned char abc[AUTHOS_TOKCACHE_KEY_LEN] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    static const unsigned char empty[AUTHOS_TOKCACHE_KEY_LEN] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
        0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
        0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    unsigned char key[AUTHOS_TOKCACHE_KEY_LEN], other[AUTHOS_TOKCACHE_KEY_LEN];

    (void)state;
    authos_tokcache_key("abc", 3, key);
    assert_memory_equal(key, abc, sizeof(abc));
    /* Only len bytes count, not up to a NUL. */
    authos_tokcache_key("abcdef", 3, key);
    assert_memory_equal(key, abc, sizeof(abc));
    authos_tokcache_key("abc", 0, key);
    assert_memory_equal(key, empty, sizeof(empty));
    /* Bytes after a NUL count too. */
    authos_tokcache_key("a\0b", 3, key);
    authos_tokcache_key("a\0c", 3, other);
    assert_memory_not_equal(key, other, sizeof(key));
    authos_tokcache_key("a", 1, other);
    assert_memory_not_equal(key, other, sizeof(key));
}

static void tc_get_returns_exact_copy_in_given_pool(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_TOKCACHE_KEY_LEN];
    /* Only the first len bytes of the payload are the entry's. */
    char *payload = apr_pstrcat(f->p, PAYLOAD, "trailing", NULL);
    char *kid = apr_pstrdup(f->p, "kid-with-\"quote\"");
    authos_tokcache_entry_t e = entry(payload, EXP), out;
    apr_pool_t *q;
    char *before, *after;

    e.kid = kid;
    e.source = 3;
    e.key_fp = 0xfedcba9876543210ULL;
    e.generation = 0x1122334455667788ULL;
    e.profile = 2;
    e.len = strlen(PAYLOAD);
    authos_tokcache_key(PAYLOAD, strlen(PAYLOAD), key);
    authos_tokcache_put(f->c, key, &e, NOW);
    /* The cache keeps its own copy, not the caller's buffers. */
    memset(payload, 'x', strlen(payload));
    memset(kid, 'x', strlen(kid));

    assert_int_equal(apr_pool_create(&q, f->p), APR_SUCCESS);
    memset(&out, 0, sizeof(out));
    /* A new pool hands out its first block in order: what get allocates
     * in q lies between these two markers. */
    before = apr_palloc(q, 1);
    assert_true(authos_tokcache_get(f->c, key, 3, NOW, q, &out));
    after = apr_palloc(q, 1);
    assert_int_equal(out.source, 3);
    assert_string_equal(out.kid, "kid-with-\"quote\"");
    assert_true(out.key_fp == 0xfedcba9876543210ULL);
    assert_true(out.generation == 0x1122334455667788ULL);
    assert_int_equal(out.profile, 2);
    assert_true(out.exp == EXP);
    assert_int_equal(out.len, strlen(PAYLOAD));
    assert_memory_equal(out.payload, PAYLOAD, out.len);
    /* NUL-terminated, so it can be used as a string. */
    assert_int_equal(out.payload[out.len], '\0');
    assert_true(out.payload > before && out.payload < after);
    assert_true(out.kid > before && out.kid < after);

    /* Each hit is a fresh copy: writing to one does not reach the cache. */
    memset((char *)out.payload, 'y', out.len);
    assert_payload(f, key, 3, PAYLOAD);
    apr_pool_destroy(q);
    assert_payload(f, key, 3, PAYLOAD);
}

static void tc_keeps_payload_with_nul_and_any_bytes(void **state)
{
    fixture_t *f = *state;
    static const char bytes[] = "{\"a\":\"\0\xff\x01\"}";
    unsigned char key[AUTHOS_TOKCACHE_KEY_LEN];
    authos_tokcache_entry_t e = entry(PAYLOAD, EXP), out;

    e.payload = bytes;
    e.len = sizeof(bytes) - 1;
    make_key(key, 1, 1);
    authos_tokcache_put(f->c, key, &e, NOW);
    assert_true(authos_tokcache_get(f->c, key, 0, NOW, f->p, &out));
    assert_int_equal(out.len, sizeof(bytes) - 1);
    assert_memory_equal(out.payload, bytes, out.len);
}

static void tc_entries_are_per_key_and_source(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_TOKCACHE_KEY_LEN], other[AUTHOS_TOKCACHE_KEY_LEN];
    authos_tokcache_entry_t e = entry("{\"s\":1}", EXP);

    make_key(key, 1, 1);
    make_key(other, 1, 2);
    e.source = 1;
    authos_tokcache_put(f->c, key, &e, NOW);
    assert_payload(f, key, 1, "{\"s\":1}");
    /* The same token under another trust source misses. */
    assert_false(hit(f, key, 0, NOW));
    assert_false(hit(f, key, 2, NOW));
    /* Another key of the same set misses. */
    assert_false(hit(f, other, 1, NOW));

    /* The same key under source 2 is a second entry. */
    e = entry("{\"s\":2}", EXP);
    e.source = 2;
    authos_tokcache_put(f->c, key, &e, NOW);
    assert_payload(f, key, 1, "{\"s\":1}");
    assert_payload(f, key, 2, "{\"s\":2}");

    authos_tokcache_drop(f->c, key, 1);
    assert_false(hit(f, key, 1, NOW));
    assert_payload(f, key, 2, "{\"s\":2}");
}

static void tc_get_misses_past_exp(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_TOKCACHE_KEY_LEN];
    authos_tokcache_entry_t e = entry(PAYLOAD, EXP);

    make_key(key, 1, 1);
    authos_tokcache_put(f->c, key, &e, NOW);
    assert_true(hit(f, key, 0, NOW));
    assert_true(hit(f, key, 0, EXP - 1));
    /* Still good at exp itself, useless after. */
    assert_true(hit(f, key, 0, EXP));
    assert_false(hit(f, key, 0, EXP + 1));
    assert_false(hit(f, key, 0, EXP + 86400));
}

static void tc_put_replaces_entry_of_same_key_and_source(void **state)
{
    fixture_t *f = *state;
    unsigned char keys[WAYS][AUTHOS_TOKCACHE_KEY_LEN];
    authos_tokcache_entry_t e = entry("{\"v\":1}", EXP), out;
    int i;

    for (i = 0; i < WAYS; i++) {
        set_key(keys[i], 0, i);
    }
    authos_tokcache_put(f->c, keys[0], &e, NOW);
    e = entry("{\"v\":22}", EXP + 10);
    e.kid = "k2";
    e.key_fp = 2;
    e.generation = 9;
    e.profile = 2;
    authos_tokcache_put(f->c, keys[0], &e, NOW);
    assert_true(authos_tokcache_get(f->c, keys[0], 0, NOW, f->p, &out));
    assert_string_equal(out.kid, "k2");
    assert_true(out.key_fp == 2);
    assert_true(out.generation == 9);
    assert_int_equal(out.profile, 2);
    assert_true(out.exp == EXP + 10);
    assert_int_equal(out.len, 8);
    assert_memory_equal(out.payload, "{\"v\":22}", 8);

    /* Replaced in place: the set still has room for three more keys. */
    e = entry("{\"v\":3}", EXP);
    for (i = 1; i < WAYS; i++) {
        authos_tokcache_put(f->c, keys[i], &e, NOW);
    }
    assert_payload(f, keys[0], 0, "{\"v\":22}");
    for (i = 1; i < WAYS; i++) {
        assert_payload(f, keys[i], 0, "{\"v\":3}");
    }
}

static void tc_touch_updates_generation(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_TOKCACHE_KEY_LEN], other[AUTHOS_TOKCACHE_KEY_LEN];
    authos_tokcache_entry_t e = entry(PAYLOAD, EXP), out;

    make_key(key, 1, 1);
    make_key(other, 1, 2);
    e.generation = 1;
    authos_tokcache_put(f->c, key, &e, NOW);
    authos_tokcache_touch(f->c, key, 0, 5);
    assert_true(authos_tokcache_get(f->c, key, 0, NOW, f->p, &out));
    assert_true(out.generation == 5);
    /* Nothing else changes. */
    assert_string_equal(out.kid, "k1");
    assert_true(out.key_fp == 0x0123456789abcdefULL);
    assert_memory_equal(out.payload, PAYLOAD, strlen(PAYLOAD));

    /* Another source or key: no change, and nothing is inserted. */
    authos_tokcache_touch(f->c, key, 1, 6);
    authos_tokcache_touch(f->c, other, 0, 6);
    assert_true(authos_tokcache_get(f->c, key, 0, NOW, f->p, &out));
    assert_true(out.generation == 5);
    assert_false(hit(f, key, 1, NOW));
    assert_false(hit(f, other, 0, NOW));
}

static void tc_drop_removes_entry(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_TOKCACHE_KEY_LEN], other[AUTHOS_TOKCACHE_KEY_LEN];
    authos_tokcache_entry_t e = entry(PAYLOAD, EXP);

    make_key(key, 1, 1);
    make_key(other, 1, 2);
    authos_tokcache_put(f->c, key, &e, NOW);
    authos_tokcache_put(f->c, other, &e, NOW);
    /* Another source's drop leaves it. */
    authos_tokcache_drop(f->c, key, 1);
    assert_true(hit(f, key, 0, NOW));
    authos_tokcache_drop(f->c, key, 0);
    assert_false(hit(f, key, 0, NOW));
    assert_true(hit(f, other, 0, NOW));
    /* Twice is harmless; a later put caches it again. */
    authos_tokcache_drop(f->c, key, 0);
    assert_false(hit(f, key, 0, NOW));
    authos_tokcache_put(f->c, key, &e, NOW);
    assert_payload(f, key, 0, PAYLOAD);
}

static void tc_does_not_cache_large_payload_or_long_kid(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_TOKCACHE_KEY_LEN];
    char *big = apr_palloc(f->p, PAYLOAD_MAX + 2);
    char kid[AUTHOS_TOKCACHE_KID_MAX + 1];
    authos_tokcache_entry_t e = entry(PAYLOAD, EXP), out;

    memset(big, 'a', PAYLOAD_MAX + 1);
    big[PAYLOAD_MAX + 1] = '\0';
    /* PAYLOAD_MAX bytes are cached, one more are not. */
    e.payload = big;
    e.len = PAYLOAD_MAX;
    make_key(key, 1, 1);
    authos_tokcache_put(f->c, key, &e, NOW);
    assert_true(authos_tokcache_get(f->c, key, 0, NOW, f->p, &out));
    assert_int_equal(out.len, PAYLOAD_MAX);
    assert_memory_equal(out.payload, big, PAYLOAD_MAX);
    e.len = PAYLOAD_MAX + 1;
    make_key(key, 1, 2);
    authos_tokcache_put(f->c, key, &e, NOW);
    assert_false(hit(f, key, 0, NOW));

    /* A kid of 63 characters is cached whole, 64 or more are not. */
    e = entry(PAYLOAD, EXP);
    memset(kid, 'k', sizeof(kid) - 2);
    kid[sizeof(kid) - 2] = '\0';
    e.kid = kid;
    make_key(key, 1, 3);
    authos_tokcache_put(f->c, key, &e, NOW);
    assert_true(authos_tokcache_get(f->c, key, 0, NOW, f->p, &out));
    assert_int_equal(strlen(out.kid), AUTHOS_TOKCACHE_KID_MAX - 1);
    assert_string_equal(out.kid, kid);
    memset(kid, 'k', sizeof(kid) - 1);
    kid[sizeof(kid) - 1] = '\0';
    make_key(key, 1, 4);
    authos_tokcache_put(f->c, key, &e, NOW);
    assert_false(hit(f, key, 0, NOW));
    make_key(key, 1, 5);
    e.kid = apr_pstrcat(f->p, kid, "more", NULL);
    authos_tokcache_put(f->c, key, &e, NOW);
    assert_false(hit(f, key, 0, NOW));
}

/* Put keys[i] of set 0 with exp exps[i] for i < n, at NOW - 1000 (when
 * none has expired), then check all of them hit at an early time. */
static void fill_set0(fixture_t *f, unsigned char keys[][AUTHOS_TOKCACHE_KEY_LEN],
                      const double *exps, int n)
{
    authos_tokcache_entry_t e;
    int i;

    for (i = 0; i < n; i++) {
        e = entry(apr_psprintf(f->p, "{\"i\":%d}", i), exps[i]);
        set_key(keys[i], 0, i);
        authos_tokcache_put(f->c, keys[i], &e, NOW - 1000);
    }
    for (i = 0; i < n; i++) {
        assert_payload_at(f, keys[i], 0, NOW - 1000,
                          apr_psprintf(f->p, "{\"i\":%d}", i));
    }
}

/* Which of keys[0..n) still hit (bit i for keys[i]), looked up at
 * NOW - 1000, before any has expired. */
static unsigned kept(fixture_t *f, unsigned char keys[][AUTHOS_TOKCACHE_KEY_LEN],
                     int n)
{
    unsigned mask = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (hit(f, keys[i], 0, NOW - 1000)) {
            mask |= 1U << i;
        }
    }
    return mask;
}

static void tc_set_holds_four_ways_then_evicts(void **state)
{
    fixture_t *f = *state;
    unsigned char keys[WAYS + 1][AUTHOS_TOKCACHE_KEY_LEN];
    unsigned char elsewhere[NSETS - 1][AUTHOS_TOKCACHE_KEY_LEN];
    const double exps[WAYS] = {NOW + 400, NOW + 100, NOW + 300, NOW + 200};
    authos_tokcache_entry_t e = entry(PAYLOAD, NOW + 50);
    unsigned s;

    /* One key in each other set, expiring before everything in set 0. */
    for (s = 1; s < NSETS; s++) {
        set_key(elsewhere[s - 1], s, 0);
        authos_tokcache_put(f->c, elsewhere[s - 1], &e, NOW - 1000);
    }
    fill_set0(f, keys, exps, WAYS);
    /* A fifth key of set 0 evicts within set 0 only: nothing expired, so
     * the least recently used entry goes (way 0: fill_set0 used the ways
     * in order), though it is the one expiring last. */
    e = entry("{\"i\":4}", NOW + 500);
    set_key(keys[WAYS], 0, WAYS);
    authos_tokcache_put(f->c, keys[WAYS], &e, NOW);
    assert_int_equal(kept(f, keys, WAYS + 1), 0x1e);
    for (s = 1; s < NSETS; s++) {
        assert_true(hit(f, elsewhere[s - 1], 0, NOW - 1000));
    }
}

static void tc_evicts_empty_way_before_expired_entry(void **state)
{
    fixture_t *f = *state;
    unsigned char keys[WAYS + 1][AUTHOS_TOKCACHE_KEY_LEN];
    /* Way 0 expires first and has expired at NOW. */
    const double exps[WAYS] = {NOW - 10, NOW + 200, NOW + 300, NOW + 400};
    authos_tokcache_entry_t e = entry("{\"i\":4}", NOW + 500);

    fill_set0(f, keys, exps, WAYS);
    authos_tokcache_drop(f->c, keys[2], 0);
    set_key(keys[WAYS], 0, WAYS);
    authos_tokcache_put(f->c, keys[WAYS], &e, NOW);
    /* The dropped way is taken; the expired entry stays. */
    assert_int_equal(kept(f, keys, WAYS + 1), 0x1b);
}

static void tc_evicts_expired_before_least_recently_used(void **state)
{
    fixture_t *f = *state;
    unsigned char keys[WAYS + 1][AUTHOS_TOKCACHE_KEY_LEN];
    const double exps[WAYS] = {NOW + 400, NOW + 300, NOW - 10, NOW + 200};
    authos_tokcache_entry_t e = entry("{\"i\":4}", NOW + 500);
    unsigned mask;

    /* One expired entry (way 2), used after way 0 and way 1: it goes,
     * not the least recently used way 0. */
    fill_set0(f, keys, exps, WAYS);
    set_key(keys[WAYS], 0, WAYS);
    authos_tokcache_put(f->c, keys[WAYS], &e, NOW);
    assert_int_equal(kept(f, keys, WAYS + 1), 0x1b);
    assert_payload(f, keys[WAYS], 0, "{\"i\":4}");

    /* Two expired (ways 1 and 3 at NOW + 350): one of them goes, never
     * the live ones. */
    e = entry("{\"i\":5}", NOW + 600);
    set_key(keys[2], 0, WAYS + 1);
    authos_tokcache_put(f->c, keys[2], &e, NOW + 350);
    mask = kept(f, keys, WAYS + 1);
    assert_true(mask == 0x1d || mask == 0x17);
}

static void tc_evicts_least_recently_used_when_none_expired(void **state)
{
    fixture_t *f = *state;
    unsigned char keys[WAYS + 2][AUTHOS_TOKCACHE_KEY_LEN];
    const double exps[WAYS] = {NOW + 400, NOW + 300, NOW + 200, NOW + 500};
    authos_tokcache_entry_t e = entry("{\"i\":4}", NOW + 100);

    /* Used in the order 0 1 2 3, then 0 and 2 again: 1 is the least
     * recently used, then 3. */
    fill_set0(f, keys, exps, WAYS);
    assert_true(hit(f, keys[0], 0, NOW - 1000));
    assert_true(hit(f, keys[2], 0, NOW - 1000));
    set_key(keys[WAYS], 0, WAYS);
    authos_tokcache_put(f->c, keys[WAYS], &e, NOW);
    assert_int_equal(kept(f, keys, WAYS + 1), 0x1d);
    /* kept() used 0, 2, 3 and 4 in that order: 0 goes next, although the
     * new entry 4 expires first. */
    e = entry("{\"i\":5}", NOW + 600);
    set_key(keys[WAYS + 1], 0, WAYS + 1);
    authos_tokcache_put(f->c, keys[WAYS + 1], &e, NOW);
    assert_int_equal(kept(f, keys, WAYS + 2), 0x3c);
    /* Replacing an entry counts as a use: 2 is put again, so 3 goes. */
    e = entry("{\"i\":2}", NOW + 700);
    authos_tokcache_put(f->c, keys[2], &e, NOW);
    e = entry("{\"i\":6}", NOW + 700);
    set_key(keys[0], 0, WAYS + 2);
    authos_tokcache_put(f->c, keys[0], &e, NOW);
    assert_int_equal(kept(f, keys, WAYS + 2), 0x35);
}

/* Many threads on one cache. Each key has one fixed entry, so whatever a
 * hit returns must be exactly that entry. Threads do not use cmocka's
 * asserts: they count what went wrong. */
#define THREADS 8
#define ITERATIONS 4000
#define TKEYS 48
#define TCAPACITY 32

typedef struct {
    authos_tokcache_t *c;
    apr_pool_t *owner; /* the thread's, with an allocator of its own */
    apr_pool_t *p;     /* scratch under owner, cleared each iteration */
    unsigned seed;
    unsigned hits, bad;
} worker_t;

static void worker_key(unsigned char key[AUTHOS_TOKCACHE_KEY_LEN], int k)
{
    /* Keys crowd into the cache's 8 sets, several per set. */
    make_key(key, (apr_uint32_t)k, (unsigned char)(k * 7 + 1));
}

static char *worker_payload(apr_pool_t *p, int k)
{
    return apr_psprintf(p, "{\"sub\":\"user-%d\",\"n\":\"%0*d\"}", k,
                        (k % 5) * 40 + 1, k);
}

static authos_tokcache_entry_t worker_entry(apr_pool_t *p, int k)
{
    authos_tokcache_entry_t e;

    memset(&e, 0, sizeof(e));
    e.source = (unsigned)(k % 2);
    e.kid = apr_psprintf(p, "kid-%d", k);
    e.key_fp = 1000 + (apr_uint64_t)k;
    e.generation = 0;
    e.profile = k % 3;
    e.exp = NOW + k;
    e.payload = worker_payload(p, k);
    e.len = strlen(e.payload);
    return e;
}

static void *APR_THREAD_FUNC worker(apr_thread_t *t, void *data)
{
    worker_t *w = data;
    unsigned char key[AUTHOS_TOKCACHE_KEY_LEN];
    authos_tokcache_entry_t want, out;
    int i;

    (void)t;
    for (i = 0; i < ITERATIONS; i++) {
        int k = (int)(rand_r(&w->seed) % TKEYS);
        int op = (int)(rand_r(&w->seed) % 8);

        apr_pool_clear(w->p);
        worker_key(key, k);
        want = worker_entry(w->p, k);
        if (op < 3) {
            authos_tokcache_put(w->c, key, &want, NOW);
        }
        else if (op == 3) {
            authos_tokcache_drop(w->c, key, want.source);
        }
        else if (op == 4) {
            authos_tokcache_touch(w->c, key, want.source, (apr_uint64_t)i);
        }
        else if (authos_tokcache_get(w->c, key, want.source, NOW, w->p,
                                     &out)) {
            w->hits++;
            if (out.source != want.source || strcmp(out.kid, want.kid) != 0
                || out.key_fp != want.key_fp || out.profile != want.profile
                || out.exp != want.exp || out.len != want.len
                || memcmp(out.payload, want.payload, want.len) != 0
                || out.payload[out.len] != '\0') {
                w->bad++;
            }
        }
    }
    return NULL;
}

static void tc_threads_share_cache_consistently(void **state)
{
    apr_pool_t *p = *state;
    authos_tokcache_t *c = authos_tokcache_create(p, TCAPACITY);
    apr_thread_t *threads[THREADS];
    worker_t workers[THREADS];
    unsigned char key[AUTHOS_TOKCACHE_KEY_LEN];
    authos_tokcache_entry_t want, out;
    unsigned hits = 0;
    int i, k;

    assert_non_null(c);
    for (i = 0; i < THREADS; i++) {
        apr_allocator_t *a = NULL;

        /* Pools sharing an allocator are not thread-safe: one each. */
        assert_int_equal(apr_allocator_create(&a), APR_SUCCESS);
        memset(&workers[i], 0, sizeof(workers[i]));
        assert_int_equal(apr_pool_create_ex(&workers[i].owner, p, NULL, a),
                         APR_SUCCESS);
        apr_allocator_owner_set(a, workers[i].owner);
        /* Not the pool the thread lives in, which must outlive it. */
        assert_int_equal(apr_pool_create(&workers[i].p, workers[i].owner),
                         APR_SUCCESS);
        workers[i].c = c;
        workers[i].seed = 0x9e3779b9U * (unsigned)(i + 1);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(apr_thread_create(&threads[i], NULL, worker,
                                           &workers[i], workers[i].owner),
                         APR_SUCCESS);
    }
    for (i = 0; i < THREADS; i++) {
        apr_status_t rv = APR_EGENERAL;

        assert_int_equal(apr_thread_join(&rv, threads[i]), APR_SUCCESS);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(workers[i].bad, 0);
        hits += workers[i].hits;
    }
    /* The mix of puts and gets did hit. */
    assert_true(hits > 0);

    /* Afterwards every entry left is exactly what was put for its key. */
    for (k = 0; k < TKEYS; k++) {
        worker_key(key, k);
        want = worker_entry(p, k);
        if (authos_tokcache_get(c, key, want.source, NOW, p, &out)) {
            assert_string_equal(out.kid, want.kid);
            assert_int_equal(out.len, want.len);
            assert_memory_equal(out.payload, want.payload, want.len);
        }
        /* Never under the other source. */
        assert_false(authos_tokcache_get(c, key, !want.source, NOW, p, &out));
    }
}

static void tc_is_freed_with_its_pool(void **state)
{
    apr_pool_t *p = *state, *q;
    authos_tokcache_t *c;
    unsigned char key[AUTHOS_TOKCACHE_KEY_LEN];
    authos_tokcache_entry_t e = entry(PAYLOAD, EXP);
    int i;

    /* Fill, replace, evict and drop; then destroy the pool: valgrind
     * sees every payload copy freed. */
    assert_int_equal(apr_pool_create(&q, p), APR_SUCCESS);
    c = authos_tokcache_create(q, 64);
    assert_non_null(c);
    for (i = 0; i < 500; i++) {
        make_key(key, (apr_uint32_t)(i % 100), (unsigned char)(i % 100));
        e.payload = apr_psprintf(p, "{\"i\":%d}", i);
        e.len = strlen(e.payload);
        e.exp = EXP + i % 7;
        authos_tokcache_put(c, key, &e, NOW);
        if (i % 11 == 0) {
            authos_tokcache_drop(c, key, 0);
        }
    }
    apr_pool_destroy(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_pool_test(tc_create_zero_is_null_and_calls_on_null_do_nothing),
        unit_pool_test(tc_capacity_rounds_up_to_whole_sets),
        unit_pool_test(tc_key_is_sha256_of_exactly_len_bytes),
        tc_test(tc_get_returns_exact_copy_in_given_pool),
        tc_test(tc_keeps_payload_with_nul_and_any_bytes),
        tc_test(tc_entries_are_per_key_and_source),
        tc_test(tc_get_misses_past_exp),
        tc_test(tc_put_replaces_entry_of_same_key_and_source),
        tc_test(tc_touch_updates_generation),
        tc_test(tc_drop_removes_entry),
        tc_test(tc_does_not_cache_large_payload_or_long_kid),
        tc_test(tc_set_holds_four_ways_then_evicts),
        tc_test(tc_evicts_empty_way_before_expired_entry),
        tc_test(tc_evicts_expired_before_least_recently_used),
        tc_test(tc_evicts_least_recently_used_when_none_expired),
        unit_pool_test(tc_threads_share_cache_consistently),
        unit_pool_test(tc_is_freed_with_its_pool),
    };

    return cmocka_run_group_tests_name("tokcache", tests, NULL, NULL);
}

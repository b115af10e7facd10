/*
 * test_uicache.c: the shared cache of /api/user answers (SPEC sections 4
 * and 6): region layout, SHA-256 keys, single flight (HIT/FETCH/WAIT),
 * expiry, counters and sharing across fork(). Eviction within a full set
 * is in test_uicache_evict.c.
 */
#include "uicache_helpers.h"

static int count_of(void *base, unsigned s, const unsigned char *key)
{
    unsigned w;
    int n = 0;

    for (w = 0; w < AUTHOS_UI_WAYS; w++) {
        authos_ui_entry_t *e = way_at(base, s, w);
        if (e->state != AUTHOS_UI_EMPTY
            && memcmp(e->key, key, AUTHOS_UI_KEY_LEN) == 0) {
            n++;
        }
    }
    return n;
}

/* Does the region hold these bytes anywhere? */
static int holds(const void *base, apr_size_t size, const char *s,
                 apr_size_t len)
{
    const char *p = base;
    apr_size_t i;

    for (i = 0; i + len <= size; i++) {
        if (memcmp(p + i, s, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The key most tests use (set 0), claimed at T0: it takes way 0. */
static void claim(void *base, unsigned char key[AUTHOS_UI_KEY_LEN])
{
    make_key(key, 0, 1);
    assert_int_equal(begin(base, key, T0), AUTHOS_UI_FETCH);
}

/* What a region that is not a cache (or no region) does: every caller
 * asks AuthOS, and nothing is stored. */
static void assert_not_a_cache(void *base, const unsigned char *key)
{
    assert_int_equal(begin(base, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(authos_ui_store(base, key, T0, TTL, AUTHOS_UI_READY,
                                     "[]", 2),
                     0);
    authos_ui_abandon(base, key);
}

/* *out is an answer of state with data (its len included). */
static void assert_answer(const authos_ui_entry_t *out,
                          authos_ui_state_t state, const char *data)
{
    assert_int_equal(out->state, state);
    assert_int_equal(out->len, strlen(data));
    assert_string_equal(out->data, data);
}

static void ui_size_rounds_up_to_whole_sets_of_aligned_entries(void **state)
{
    apr_size_t s0 = authos_ui_size(0), s1 = authos_ui_size(1);
    apr_size_t s8 = authos_ui_size(AUTHOS_UI_WAYS);
    apr_size_t s9 = authos_ui_size(AUTHOS_UI_WAYS + 1);
    apr_size_t s16 = authos_ui_size(2 * AUTHOS_UI_WAYS);
    apr_size_t set, entry;

    (void)state;
    /* At least one set, always. */
    assert_int_equal(s0, s1);
    assert_int_equal(s1, s8);
    assert_int_equal(s9, s16);
    set = s16 - s8;
    assert_int_equal(set % AUTHOS_UI_WAYS, 0);
    entry = set / AUTHOS_UI_WAYS;
    assert_true(entry >= sizeof(authos_ui_entry_t));
    assert_int_equal(entry % 64, 0);
    /* Header rounded to 64, then the sets. */
    assert_int_equal(s8 - set, HDR_SIZE);
    assert_true(HDR_SIZE >= sizeof(authos_ui_header_t));
    assert_int_equal(authos_ui_size(1024), HDR_SIZE + 128 * set);
    assert_int_equal(authos_ui_size(1025), HDR_SIZE + 129 * set);
}

static void ui_init_refuses_region_too_small(void **state)
{
    apr_size_t need = authos_ui_size(NENTRIES);
    unsigned char *base = calloc(1, need);

    (void)state;
    assert_non_null(base);
    assert_int_equal(authos_ui_init(base, need - 1, NENTRIES), 0);
    /* Nothing was written: the region is still not a cache. */
    assert_int_equal(header(base)->magic, 0);
    assert_int_equal(authos_ui_init(base, need, NENTRIES), 1);
    assert_int_equal(header(base)->magic, AUTHOS_UI_MAGIC);
    /* A region larger than needed is fine too. */
    assert_int_equal(authos_ui_init(base, need, NENTRIES - 1), 1);
    free(base);
}

static void ui_init_writes_header_and_zeroes_entries(void **state)
{
    unit_region_t *f = *state;
    authos_ui_header_t *h = header(f->base);
    apr_size_t entry = authos_ui_size(2 * AUTHOS_UI_WAYS)
                       - authos_ui_size(AUTHOS_UI_WAYS);
    unsigned s, w;

    entry /= AUTHOS_UI_WAYS;
    /* The fixture filled the region with 0xa5 before init. */
    assert_int_equal(h->magic, AUTHOS_UI_MAGIC);
    assert_int_equal(h->version, AUTHOS_UI_VERSION);
    assert_int_equal(h->nsets, NSETS);
    assert_int_equal(h->entry_size, entry);
    assert_counters(f->base, 0, 0);
    for (s = 0; s < NSETS; s++) {
        for (w = 0; w < AUTHOS_UI_WAYS; w++) {
            authos_ui_entry_t *e = way_at(f->base, s, w);
            assert_int_equal(e->state, AUTHOS_UI_EMPTY);
            assert_int_equal(e->len, 0);
            assert_int_equal(e->since, 0);
            assert_int_equal(e->expires, 0);
            assert_int_equal(e->data[0], '\0');
        }
    }
    /* The last entry ends inside the region. */
    assert_true((char *)way_at(f->base, NSETS - 1, AUTHOS_UI_WAYS - 1)
                    + sizeof(authos_ui_entry_t)
                <= (char *)f->base + f->size);
}

static void ui_init_counts_sets_from_entries(void **state)
{
    apr_size_t size = authos_ui_size(3 * AUTHOS_UI_WAYS);
    void *base = malloc(size);

    (void)state;
    assert_non_null(base);
    assert_int_equal(authos_ui_init(base, size, 0), 1);
    assert_int_equal(header(base)->nsets, 1);
    assert_int_equal(authos_ui_init(base, size, 1), 1);
    assert_int_equal(header(base)->nsets, 1);
    assert_int_equal(authos_ui_init(base, size, AUTHOS_UI_WAYS + 1), 1);
    assert_int_equal(header(base)->nsets, 2);
    assert_int_equal(authos_ui_init(base, size, 3 * AUTHOS_UI_WAYS), 1);
    assert_int_equal(header(base)->nsets, 3);
    free(base);
}

static void ui_refuses_region_without_magic_or_version(void **state)
{
    unit_region_t *f = *state;
    authos_ui_header_t *h = header(f->base);
    unsigned char key[AUTHOS_UI_KEY_LEN];

    make_key(key, 0, 1);
    /* Not a cache: ask AuthOS, and write nothing into the region. */
    h->magic ^= 1;
    assert_not_a_cache(f->base, key);
    h->magic ^= 1;
    h->version = AUTHOS_UI_VERSION + 1;
    assert_not_a_cache(f->base, key);
    h->version = AUTHOS_UI_VERSION;
    assert_int_equal(h->calls, 0);
    assert_int_equal(way_of(f->base, 0, key), -1);
    /* No region at all. */
    assert_not_a_cache(NULL, key);
    /* Restored: a cache again. */
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(h->calls, 1);
    assert_int_equal(way_of(f->base, 0, key), 0);
}

static void ui_key_is_sha256_of_token(void **state)
{
    /* FIPS 180-2 B.1 and the empty message. */
    static const unsigned char abc[AUTHOS_UI_KEY_LEN] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
    };
    static const unsigned char empty[AUTHOS_UI_KEY_LEN] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
        0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
        0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    };
    unsigned char key[AUTHOS_UI_KEY_LEN];

    (void)state;
    authos_ui_key("abc", 3, key);
    assert_memory_equal(key, abc, AUTHOS_UI_KEY_LEN);
    authos_ui_key("", 0, key);
    assert_memory_equal(key, empty, AUTHOS_UI_KEY_LEN);
    /* Exactly len bytes are hashed. */
    authos_ui_key("abcdef", 3, key);
    assert_memory_equal(key, abc, AUTHOS_UI_KEY_LEN);
}

static void ui_region_never_holds_the_token(void **state)
{
    unit_region_t *f = *state;
    const char *token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl";
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t out;

    authos_ui_key(token, strlen(token), key);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(store(f->base, key, T0, TTL, PERMS), 1);
    assert_hit(f->base, key, T0 + 1, &out);
    assert_true(way_of(f->base, 0, key) >= 0 || way_of(f->base, 1, key) >= 0);
    /* Neither the token nor a piece of it (its header part). */
    assert_false(holds(f->base, f->size, token, strlen(token)));
    assert_false(holds(f->base, f->size, token, 20));
}

static void ui_first_begin_fetches_and_marks_pending(void **state)
{
    unit_region_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];

    make_key(key, 1, 7);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    /* lead 1: set 1. */
    assert_int_equal(way_of(f->base, 0, key), -1);
    assert_pending(f->base, 1, 0, key, T0);
    assert_counters(f->base, 1, 0);
}

static void ui_second_begin_while_pending_waits(void **state)
{
    unit_region_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];

    claim(f->base, key);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_WAIT);
    assert_int_equal(begin(f->base, key, T0 + SEC(1)), AUTHOS_UI_WAIT);
    assert_int_equal(begin(f->base, key, T0 + LIMIT - 1), AUTHOS_UI_WAIT);
    /* Waiting neither restamps the claim nor counts as a call. */
    assert_pending(f->base, 0, 0, key, T0);
    assert_int_equal(header(f->base)->calls, 1);
    assert_int_equal(count_of(f->base, 0, key), 1);
}

static void ui_pending_older_than_limit_is_reclaimed(void **state)
{
    unit_region_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];

    claim(f->base, key);
    assert_int_equal(begin(f->base, key, T0 + LIMIT - 1), AUTHOS_UI_WAIT);
    /* The fetcher is presumed dead: this caller asks instead. */
    assert_int_equal(begin(f->base, key, T0 + LIMIT), AUTHOS_UI_FETCH);
    assert_pending(f->base, 0, 0, key, T0 + LIMIT);
    assert_int_equal(count_of(f->base, 0, key), 1);
    assert_int_equal(header(f->base)->calls, 2);
    /* And its own claim is single flight again. */
    assert_int_equal(begin(f->base, key, T0 + LIMIT + 1), AUTHOS_UI_WAIT);
}

static void ui_stored_answer_is_hit_with_data_copied(void **state)
{
    unit_region_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t out;
    authos_ui_entry_t *e;

    claim(f->base, key);
    assert_int_equal(store(f->base, key, T0 + SEC(1), TTL, PERMS), 1);
    e = way_at(f->base, 0, 0);
    assert_int_equal(e->state, AUTHOS_UI_READY);
    assert_int_equal(e->since, T0 + SEC(1));
    assert_int_equal(e->expires, T0 + SEC(1) + TTL);

    memset(&out, 0x5a, sizeof(out));
    assert_hit(f->base, key, T0 + SEC(2), &out);
    assert_answer(&out, AUTHOS_UI_READY, PERMS);
    assert_memory_equal(out.key, key, AUTHOS_UI_KEY_LEN);
    assert_int_equal(out.expires, T0 + SEC(1) + TTL);
    assert_counters(f->base, 1, 1);
    /* out is a copy: scribbling on it leaves the cache alone. */
    memset(out.data, 'x', 8);
    assert_hit(f->base, key, T0 + SEC(3), &out);
    assert_string_equal(out.data, PERMS);
    assert_counters(f->base, 1, 2);
}

static void ui_answer_expires_after_ttl(void **state)
{
    unit_region_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];

    claim(f->base, key);
    assert_int_equal(store(f->base, key, T0, TTL, PERMS), 1);
    assert_int_equal(begin(f->base, key, T0 + TTL - 1), AUTHOS_UI_HIT);
    assert_int_equal(begin(f->base, key, T0 + TTL), AUTHOS_UI_FETCH);
    /* The expired entry is reclaimed in place, never duplicated, and no
     * stale data is left to read. */
    assert_int_equal(count_of(f->base, 0, key), 1);
    assert_pending(f->base, 0, 0, key, T0 + TTL);
    assert_int_equal(begin(f->base, key, T0 + TTL + 1), AUTHOS_UI_WAIT);
    assert_counters(f->base, 2, 1);
}

static void ui_zero_ttl_answer_is_never_a_hit(void **state)
{
    unit_region_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];

    claim(f->base, key);
    assert_int_equal(store(f->base, key, T0, 0, PERMS), 1);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(header(f->base)->hits, 0);
}

static void ui_revoked_answer_is_hit_with_state_revoked(void **state)
{
    unit_region_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t out;

    claim(f->base, key);
    assert_int_equal(authos_ui_store(f->base, key, T0, TTL,
                                     AUTHOS_UI_REVOKED, "", 0),
                     1);
    assert_hit(f->base, key, T0 + SEC(1), &out);
    assert_answer(&out, AUTHOS_UI_REVOKED, "");
    assert_int_equal(header(f->base)->hits, 1);
    /* A revocation expires like any answer. */
    assert_int_equal(begin(f->base, key, T0 + TTL), AUTHOS_UI_FETCH);
}

static void ui_abandon_frees_pending_entry(void **state)
{
    unit_region_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];

    claim(f->base, key);
    authos_ui_abandon(f->base, key);
    assert_int_equal(way_of(f->base, 0, key), -1);
    assert_int_equal(way_at(f->base, 0, 0)->state, AUTHOS_UI_EMPTY);
    /* Nothing cached: the next request asks again at once. */
    assert_int_equal(begin(f->base, key, T0 + 1), AUTHOS_UI_FETCH);
    assert_int_equal(header(f->base)->calls, 2);
    /* Abandoning a key that is not claimed does nothing. */
    authos_ui_abandon(f->base, key);
    authos_ui_abandon(f->base, key);
    assert_int_equal(store(f->base, key, T0 + 2, TTL, PERMS), 0);
    assert_int_equal(begin(f->base, key, T0 + 3), AUTHOS_UI_FETCH);
}

static void ui_abandon_keeps_stored_answer(void **state)
{
    unit_region_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];

    claim(f->base, key);
    assert_int_equal(store(f->base, key, T0, TTL, PERMS), 1);
    authos_ui_abandon(f->base, key);
    assert_int_equal(begin(f->base, key, T0 + 1), AUTHOS_UI_HIT);
}

static void ui_store_without_claim_is_not_cached(void **state)
{
    unit_region_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];

    make_key(key, 0, 1);
    assert_int_equal(store(f->base, key, T0, TTL, PERMS), 0);
    assert_int_equal(way_of(f->base, 0, key), -1);
    assert_int_equal(begin(f->base, key, T0 + 1), AUTHOS_UI_FETCH);
}

static void ui_store_refuses_data_too_large(void **state)
{
    unit_region_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t out;
    char *big = malloc(AUTHOS_UI_DATA_MAX + 1);

    assert_non_null(big);
    memset(big, 'p', AUTHOS_UI_DATA_MAX);
    big[AUTHOS_UI_DATA_MAX] = '\0';
    claim(f->base, key);
    /* No room for the NUL: not cached, and the claim is released. */
    assert_int_equal(authos_ui_store(f->base, key, T0, TTL, AUTHOS_UI_READY,
                                     big, AUTHOS_UI_DATA_MAX),
                     0);
    assert_int_equal(way_of(f->base, 0, key), -1);
    assert_int_equal(way_at(f->base, 0, 0)->state, AUTHOS_UI_EMPTY);
    assert_int_equal(begin(f->base, key, T0 + 1), AUTHOS_UI_FETCH);
    /* One byte less fits. */
    assert_int_equal(authos_ui_store(f->base, key, T0 + 1, TTL,
                                     AUTHOS_UI_READY, big,
                                     AUTHOS_UI_DATA_MAX - 1),
                     1);
    assert_hit(f->base, key, T0 + 2, &out);
    assert_int_equal(out.len, AUTHOS_UI_DATA_MAX - 1);
    assert_int_equal(out.data[AUTHOS_UI_DATA_MAX - 1], '\0');
    assert_int_equal(strlen(out.data), AUTHOS_UI_DATA_MAX - 1);
    free(big);
}

static void ui_calls_counter_counts_fetch_decisions(void **state)
{
    unit_region_t *f = *state;
    unsigned char a[AUTHOS_UI_KEY_LEN], b[AUTHOS_UI_KEY_LEN];

    make_key(a, 0, 1);
    make_key(b, 1, 2);
    assert_int_equal(begin(f->base, a, T0), AUTHOS_UI_FETCH); /* 1 */
    assert_int_equal(begin(f->base, a, T0), AUTHOS_UI_WAIT);
    assert_int_equal(begin(f->base, b, T0), AUTHOS_UI_FETCH); /* 2 */
    assert_int_equal(store(f->base, a, T0, TTL, PERMS), 1);
    assert_int_equal(begin(f->base, a, T0 + 1), AUTHOS_UI_HIT);
    assert_int_equal(begin(f->base, a, T0 + 2), AUTHOS_UI_HIT);
    assert_counters(f->base, 2, 2);
    authos_ui_abandon(f->base, b);
    assert_int_equal(begin(f->base, b, T0 + 3), AUTHOS_UI_FETCH); /* 3 */
    assert_int_equal(begin(f->base, b, T0 + 3 + LIMIT),
                     AUTHOS_UI_FETCH);                            /* 4 */
    assert_int_equal(begin(f->base, a, T0 + TTL), AUTHOS_UI_FETCH); /* 5 */
    assert_counters(f->base, 5, 2);
}

typedef struct {
    void *base;
    unsigned char key[AUTHOS_UI_KEY_LEN];
} shared_t;

/* The child of ui_store_in_child_is_seen_by_parent: it claims, sees its
 * own claim as single flight, then stores the answer as the fetching
 * process would. */
static int store_in_child(void *arg)
{
    shared_t *c = arg;

    if (begin(c->base, c->key, T0) != AUTHOS_UI_FETCH) {
        return 2;
    }
    if (begin(c->base, c->key, T0 + 1) != AUTHOS_UI_WAIT) {
        return 3;
    }
    if (!store(c->base, c->key, T0 + SEC(1), TTL, PERMS)) {
        return 4;
    }
    return 0;
}

static void ui_store_in_child_is_seen_by_parent(void **state)
{
    apr_size_t size = authos_ui_size(NENTRIES);
    shared_t c;
    authos_ui_entry_t out;

    (void)state;
    c.base = unit_shared_map(size);
    assert_int_equal(authos_ui_init(c.base, size, NENTRIES), 1);
    authos_ui_key("token-of-the-child", 18, c.key);
    unit_run_in_child(store_in_child, &c);
    /* The parent sees the child's answer through the shared map. */
    assert_hit(c.base, c.key, T0 + SEC(2), &out);
    assert_answer(&out, AUTHOS_UI_READY, PERMS);
    assert_counters(c.base, 1, 1);
    assert_int_equal(munmap(c.base, size), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ui_size_rounds_up_to_whole_sets_of_aligned_entries),
        cmocka_unit_test(ui_init_refuses_region_too_small),
        cache_test(ui_init_writes_header_and_zeroes_entries),
        cmocka_unit_test(ui_init_counts_sets_from_entries),
        cache_test(ui_refuses_region_without_magic_or_version),
        cmocka_unit_test(ui_key_is_sha256_of_token),
        cache_test(ui_region_never_holds_the_token),
        cache_test(ui_first_begin_fetches_and_marks_pending),
        cache_test(ui_second_begin_while_pending_waits),
        cache_test(ui_pending_older_than_limit_is_reclaimed),
        cache_test(ui_stored_answer_is_hit_with_data_copied),
        cache_test(ui_answer_expires_after_ttl),
        cache_test(ui_zero_ttl_answer_is_never_a_hit),
        cache_test(ui_revoked_answer_is_hit_with_state_revoked),
        cache_test(ui_abandon_frees_pending_entry),
        cache_test(ui_abandon_keeps_stored_answer),
        cache_test(ui_store_without_claim_is_not_cached),
        cache_test(ui_store_refuses_data_too_large),
        cache_test(ui_calls_counter_counts_fetch_decisions),
        cmocka_unit_test(ui_store_in_child_is_seen_by_parent),
    };

    return cmocka_run_group_tests_name("uicache", tests, NULL, NULL);
}

/*
 * test_uicache.c: the shared cache of /api/user answers (SPEC sections 4
 * and 6): region layout, SHA-256 keys, single flight (HIT/FETCH/WAIT),
 * expiry, eviction within a set, and sharing across fork().
 */
#include "unit_helpers.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

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

typedef struct {
    void *base;
    apr_size_t size;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        return -1;
    }
    f->size = authos_ui_size(NENTRIES);
    f->base = malloc(f->size);
    if (f->base == NULL) {
        return -1;
    }
    memset(f->base, 0xa5, f->size);
    if (!authos_ui_init(f->base, f->size, NENTRIES)) {
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    free(f->base);
    free(f);
    return 0;
}

#define cache_test(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

static authos_ui_header_t *header(void *base)
{
    return base;
}

/* Way w of set s, by the documented layout. */
static authos_ui_entry_t *way_at(void *base, unsigned s, unsigned w)
{
    return (authos_ui_entry_t *)((char *)base + HDR_SIZE
                                 + ((size_t)s * AUTHOS_UI_WAYS + w)
                                       * header(base)->entry_size);
}

/* A key whose first 4 bytes (in host order) are lead, so its set is
 * lead % nsets; tag tells keys with the same lead apart. */
static void make_key(unsigned char key[AUTHOS_UI_KEY_LEN], apr_uint32_t lead,
                     unsigned char tag)
{
    memset(key, tag, AUTHOS_UI_KEY_LEN);
    memcpy(key, &lead, sizeof(lead));
    key[AUTHOS_UI_KEY_LEN - 1] = (unsigned char)(0x80 | tag);
}

/* The way of set s holding key (any state but EMPTY), or -1. */
static int way_of(void *base, unsigned s, const unsigned char *key)
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

static authos_ui_decision_t begin(void *base, const unsigned char *key,
                                  apr_time_t now)
{
    authos_ui_entry_t out;

    return authos_ui_begin(base, key, now, LIMIT, &out);
}

static int store(void *base, const unsigned char *key, apr_time_t now,
                 apr_interval_time_t ttl, const char *data)
{
    return authos_ui_store(base, key, now, ttl, AUTHOS_UI_READY, data,
                           strlen(data));
}

/* Fill set 0 with AUTHOS_UI_WAYS READY answers, key i stored at T0 with
 * ttl SEC(ttls[i]). */
static void fill_set0(void *base, unsigned char keys[][AUTHOS_UI_KEY_LEN],
                      const int *ttls)
{
    int i;

    for (i = 0; i < AUTHOS_UI_WAYS; i++) {
        make_key(keys[i], (apr_uint32_t)(NSETS * i), (unsigned char)i);
        assert_int_equal(begin(base, keys[i], T0), AUTHOS_UI_FETCH);
        assert_int_equal(store(base, keys[i], T0, SEC(ttls[i]), PERMS), 1);
        assert_int_equal(way_of(base, 0, keys[i]), i);
    }
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
    fixture_t *f = *state;
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
    assert_int_equal(h->calls, 0);
    assert_int_equal(h->hits, 0);
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
    fixture_t *f = *state;
    authos_ui_header_t *h = header(f->base);
    unsigned char key[AUTHOS_UI_KEY_LEN];

    make_key(key, 0, 1);
    /* Not a cache: ask AuthOS, and write nothing into the region. */
    h->magic ^= 1;
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(authos_ui_store(f->base, key, T0, TTL, AUTHOS_UI_READY,
                                     "[]", 2),
                     0);
    authos_ui_abandon(f->base, key);
    h->magic ^= 1;
    h->version = AUTHOS_UI_VERSION + 1;
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    h->version = AUTHOS_UI_VERSION;
    assert_int_equal(h->calls, 0);
    assert_int_equal(way_of(f->base, 0, key), -1);
    /* No region at all. */
    assert_int_equal(begin(NULL, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(authos_ui_store(NULL, key, T0, TTL, AUTHOS_UI_READY,
                                     "[]", 2),
                     0);
    authos_ui_abandon(NULL, key);
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
    fixture_t *f = *state;
    const char *token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl";
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t out;

    authos_ui_key(token, strlen(token), key);
    assert_int_equal(authos_ui_begin(f->base, key, T0, LIMIT, &out),
                     AUTHOS_UI_FETCH);
    assert_int_equal(store(f->base, key, T0, TTL, PERMS), 1);
    assert_int_equal(authos_ui_begin(f->base, key, T0 + 1, LIMIT, &out),
                     AUTHOS_UI_HIT);
    assert_true(way_of(f->base, 0, key) >= 0 || way_of(f->base, 1, key) >= 0);
    /* Neither the token nor a piece of it (its header part). */
    assert_false(holds(f->base, f->size, token, strlen(token)));
    assert_false(holds(f->base, f->size, token, 20));
}

static void ui_first_begin_fetches_and_marks_pending(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t *e;

    make_key(key, 1, 7);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    /* lead 1: set 1. */
    assert_int_equal(way_of(f->base, 0, key), -1);
    assert_int_equal(way_of(f->base, 1, key), 0);
    e = way_at(f->base, 1, 0);
    assert_int_equal(e->state, AUTHOS_UI_PENDING);
    assert_memory_equal(e->key, key, AUTHOS_UI_KEY_LEN);
    assert_int_equal(e->since, T0);
    assert_int_equal(e->len, 0);
    assert_int_equal(header(f->base)->calls, 1);
    assert_int_equal(header(f->base)->hits, 0);
}

static void ui_second_begin_while_pending_waits(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t *e;

    make_key(key, 0, 1);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_WAIT);
    assert_int_equal(begin(f->base, key, T0 + SEC(1)), AUTHOS_UI_WAIT);
    assert_int_equal(begin(f->base, key, T0 + LIMIT - 1), AUTHOS_UI_WAIT);
    /* Waiting neither restamps the claim nor counts as a call. */
    e = way_at(f->base, 0, 0);
    assert_int_equal(e->state, AUTHOS_UI_PENDING);
    assert_int_equal(e->since, T0);
    assert_int_equal(header(f->base)->calls, 1);
    assert_int_equal(count_of(f->base, 0, key), 1);
}

static void ui_pending_older_than_limit_is_reclaimed(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t *e;

    make_key(key, 0, 1);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(begin(f->base, key, T0 + LIMIT - 1), AUTHOS_UI_WAIT);
    /* The fetcher is presumed dead: this caller asks instead. */
    assert_int_equal(begin(f->base, key, T0 + LIMIT), AUTHOS_UI_FETCH);
    e = way_at(f->base, 0, 0);
    assert_int_equal(e->state, AUTHOS_UI_PENDING);
    assert_int_equal(e->since, T0 + LIMIT);
    assert_int_equal(count_of(f->base, 0, key), 1);
    assert_int_equal(header(f->base)->calls, 2);
    /* And its own claim is single flight again. */
    assert_int_equal(begin(f->base, key, T0 + LIMIT + 1), AUTHOS_UI_WAIT);
}

static void ui_stored_answer_is_hit_with_data_copied(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t out;
    authos_ui_entry_t *e;

    make_key(key, 0, 1);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(store(f->base, key, T0 + SEC(1), TTL, PERMS), 1);
    e = way_at(f->base, 0, 0);
    assert_int_equal(e->state, AUTHOS_UI_READY);
    assert_int_equal(e->since, T0 + SEC(1));
    assert_int_equal(e->expires, T0 + SEC(1) + TTL);

    memset(&out, 0x5a, sizeof(out));
    assert_int_equal(authos_ui_begin(f->base, key, T0 + SEC(2), LIMIT, &out),
                     AUTHOS_UI_HIT);
    assert_int_equal(out.state, AUTHOS_UI_READY);
    assert_int_equal(out.len, strlen(PERMS));
    assert_string_equal(out.data, PERMS);
    assert_memory_equal(out.key, key, AUTHOS_UI_KEY_LEN);
    assert_int_equal(out.expires, T0 + SEC(1) + TTL);
    assert_int_equal(header(f->base)->hits, 1);
    assert_int_equal(header(f->base)->calls, 1);
    /* out is a copy: scribbling on it leaves the cache alone. */
    memset(out.data, 'x', 8);
    assert_int_equal(authos_ui_begin(f->base, key, T0 + SEC(3), LIMIT, &out),
                     AUTHOS_UI_HIT);
    assert_string_equal(out.data, PERMS);
    assert_int_equal(header(f->base)->hits, 2);
    assert_int_equal(header(f->base)->calls, 1);
}

static void ui_answer_expires_after_ttl(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t *e;

    make_key(key, 0, 1);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(store(f->base, key, T0, TTL, PERMS), 1);
    assert_int_equal(begin(f->base, key, T0 + TTL - 1), AUTHOS_UI_HIT);
    assert_int_equal(begin(f->base, key, T0 + TTL), AUTHOS_UI_FETCH);
    /* The expired entry is reclaimed in place, never duplicated, and no
     * stale data is left to read. */
    assert_int_equal(count_of(f->base, 0, key), 1);
    e = way_at(f->base, 0, 0);
    assert_int_equal(e->state, AUTHOS_UI_PENDING);
    assert_int_equal(e->since, T0 + TTL);
    assert_int_equal(e->len, 0);
    assert_int_equal(begin(f->base, key, T0 + TTL + 1), AUTHOS_UI_WAIT);
    assert_int_equal(header(f->base)->calls, 2);
    assert_int_equal(header(f->base)->hits, 1);
}

static void ui_zero_ttl_answer_is_never_a_hit(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];

    make_key(key, 0, 1);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(store(f->base, key, T0, 0, PERMS), 1);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(header(f->base)->hits, 0);
}

static void ui_revoked_answer_is_hit_with_state_revoked(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t out;

    make_key(key, 0, 1);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(authos_ui_store(f->base, key, T0, TTL,
                                     AUTHOS_UI_REVOKED, "", 0),
                     1);
    assert_int_equal(authos_ui_begin(f->base, key, T0 + SEC(1), LIMIT, &out),
                     AUTHOS_UI_HIT);
    assert_int_equal(out.state, AUTHOS_UI_REVOKED);
    assert_int_equal(out.len, 0);
    assert_string_equal(out.data, "");
    assert_int_equal(header(f->base)->hits, 1);
    /* A revocation expires like any answer. */
    assert_int_equal(begin(f->base, key, T0 + TTL), AUTHOS_UI_FETCH);
}

static void ui_abandon_frees_pending_entry(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];

    make_key(key, 0, 1);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
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
    fixture_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];

    make_key(key, 0, 1);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
    assert_int_equal(store(f->base, key, T0, TTL, PERMS), 1);
    authos_ui_abandon(f->base, key);
    assert_int_equal(begin(f->base, key, T0 + 1), AUTHOS_UI_HIT);
}

static void ui_store_without_claim_is_not_cached(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];

    make_key(key, 0, 1);
    assert_int_equal(store(f->base, key, T0, TTL, PERMS), 0);
    assert_int_equal(way_of(f->base, 0, key), -1);
    assert_int_equal(begin(f->base, key, T0 + 1), AUTHOS_UI_FETCH);
}

static void ui_store_refuses_data_too_large(void **state)
{
    fixture_t *f = *state;
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t out;
    char *big = malloc(AUTHOS_UI_DATA_MAX + 1);

    assert_non_null(big);
    memset(big, 'p', AUTHOS_UI_DATA_MAX);
    big[AUTHOS_UI_DATA_MAX] = '\0';
    make_key(key, 0, 1);
    assert_int_equal(begin(f->base, key, T0), AUTHOS_UI_FETCH);
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
    assert_int_equal(authos_ui_begin(f->base, key, T0 + 2, LIMIT, &out),
                     AUTHOS_UI_HIT);
    assert_int_equal(out.len, AUTHOS_UI_DATA_MAX - 1);
    assert_int_equal(out.data[AUTHOS_UI_DATA_MAX - 1], '\0');
    assert_int_equal(strlen(out.data), AUTHOS_UI_DATA_MAX - 1);
    free(big);
}

static void ui_keys_in_one_set_differ_by_all_32_bytes(void **state)
{
    fixture_t *f = *state;
    unsigned char a[AUTHOS_UI_KEY_LEN], b[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t out;

    /* Same first 4 bytes, same set; only the last byte differs. */
    make_key(a, 4, 1);
    memcpy(b, a, AUTHOS_UI_KEY_LEN);
    b[AUTHOS_UI_KEY_LEN - 1] ^= 1;
    assert_int_equal(begin(f->base, a, T0), AUTHOS_UI_FETCH);
    assert_int_equal(begin(f->base, b, T0), AUTHOS_UI_FETCH);
    assert_int_equal(store(f->base, a, T0, TTL, "[\"a\"]"), 1);
    assert_int_equal(begin(f->base, b, T0 + 1), AUTHOS_UI_WAIT);
    assert_int_equal(store(f->base, b, T0, TTL, "[\"b\"]"), 1);
    assert_int_equal(authos_ui_begin(f->base, a, T0 + 1, LIMIT, &out),
                     AUTHOS_UI_HIT);
    assert_string_equal(out.data, "[\"a\"]");
    assert_int_equal(authos_ui_begin(f->base, b, T0 + 1, LIMIT, &out),
                     AUTHOS_UI_HIT);
    assert_string_equal(out.data, "[\"b\"]");
}

static void ui_full_set_evicts_expired_entry_first(void **state)
{
    fixture_t *f = *state;
    unsigned char keys[AUTHOS_UI_WAYS][AUTHOS_UI_KEY_LEN];
    unsigned char other[AUTHOS_UI_KEY_LEN], fresh[AUTHOS_UI_KEY_LEN];
    /* Way 5 expires at T0 + 30 s; way 0 expires first of the others. */
    static const int ttls[AUTHOS_UI_WAYS] = {40, 100, 110, 120,
                                             130, 30, 140, 150};
    int i;

    /* An answer in the other set, which must not be touched. */
    make_key(other, 1, 9);
    assert_int_equal(begin(f->base, other, T0), AUTHOS_UI_FETCH);
    assert_int_equal(store(f->base, other, T0, SEC(1), PERMS), 1);
    fill_set0(f->base, keys, ttls);

    make_key(fresh, NSETS * AUTHOS_UI_WAYS, 0x42);
    assert_int_equal(begin(f->base, fresh, T0 + SEC(35)), AUTHOS_UI_FETCH);
    assert_int_equal(way_of(f->base, 0, fresh), 5);
    assert_int_equal(way_of(f->base, 0, keys[5]), -1);
    for (i = 0; i < AUTHOS_UI_WAYS; i++) {
        if (i != 5) {
            assert_int_equal(begin(f->base, keys[i], T0 + SEC(35)),
                             AUTHOS_UI_HIT);
        }
    }
    /* The expired answer in set 1 is still where it was. */
    assert_int_equal(way_of(f->base, 1, other), 0);
    assert_int_equal(way_at(f->base, 1, 0)->state, AUTHOS_UI_READY);
}

static void ui_full_set_evicts_entry_expiring_first(void **state)
{
    fixture_t *f = *state;
    unsigned char keys[AUTHOS_UI_WAYS][AUTHOS_UI_KEY_LEN];
    unsigned char fresh[AUTHOS_UI_KEY_LEN];
    static const int ttls[AUTHOS_UI_WAYS] = {100, 90, 80, 20,
                                             70, 60, 50, 40};
    int i;

    fill_set0(f->base, keys, ttls);
    /* Nothing expired: way 3 expires first. */
    make_key(fresh, NSETS * AUTHOS_UI_WAYS, 0x42);
    assert_int_equal(begin(f->base, fresh, T0 + SEC(10)), AUTHOS_UI_FETCH);
    assert_int_equal(way_of(f->base, 0, fresh), 3);
    assert_int_equal(way_at(f->base, 0, 3)->state, AUTHOS_UI_PENDING);
    for (i = 0; i < AUTHOS_UI_WAYS; i++) {
        if (i != 3) {
            assert_int_equal(begin(f->base, keys[i], T0 + SEC(10)),
                             AUTHOS_UI_HIT);
        }
    }
    /* The evicted token asks again, evicting the next to expire (way 7,
     * since the young claim at way 3 is left alone). */
    assert_int_equal(begin(f->base, keys[3], T0 + SEC(10)), AUTHOS_UI_FETCH);
    assert_int_equal(way_of(f->base, 0, keys[3]), 7);
    assert_int_equal(way_of(f->base, 0, fresh), 3);
}

static void ui_full_set_evicts_empty_way_before_any_answer(void **state)
{
    fixture_t *f = *state;
    unsigned char keys[AUTHOS_UI_WAYS][AUTHOS_UI_KEY_LEN];
    unsigned char fresh[AUTHOS_UI_KEY_LEN];
    static const int ttls[AUTHOS_UI_WAYS] = {10, 20, 30, 40,
                                             50, 60, 70, 80};
    int i;

    fill_set0(f->base, keys, ttls);
    /* A way freed by an abandoned call is used before any answer. */
    assert_int_equal(begin(f->base, keys[6], T0 + SEC(75)), AUTHOS_UI_FETCH);
    authos_ui_abandon(f->base, keys[6]);
    make_key(fresh, NSETS * AUTHOS_UI_WAYS, 0x42);
    assert_int_equal(begin(f->base, fresh, T0 + SEC(1)), AUTHOS_UI_FETCH);
    assert_int_equal(way_of(f->base, 0, fresh), 6);
    for (i = 0; i < AUTHOS_UI_WAYS; i++) {
        if (i != 6) {
            assert_int_equal(begin(f->base, keys[i], T0 + SEC(1)),
                             AUTHOS_UI_HIT);
        }
    }
}

static void ui_full_set_never_evicts_young_pending_of_other_key(void **state)
{
    fixture_t *f = *state;
    unsigned char keys[AUTHOS_UI_WAYS][AUTHOS_UI_KEY_LEN];
    unsigned char fresh[AUTHOS_UI_KEY_LEN];
    int i;

    /* Seven calls in flight, one answer far from expiring at way 7. */
    for (i = 0; i < AUTHOS_UI_WAYS; i++) {
        make_key(keys[i], (apr_uint32_t)(NSETS * i), (unsigned char)i);
        assert_int_equal(begin(f->base, keys[i], T0), AUTHOS_UI_FETCH);
    }
    assert_int_equal(store(f->base, keys[7], T0, SEC(3600), PERMS), 1);
    make_key(fresh, NSETS * AUTHOS_UI_WAYS, 0x42);
    assert_int_equal(begin(f->base, fresh, T0 + SEC(1)), AUTHOS_UI_FETCH);
    assert_int_equal(way_of(f->base, 0, fresh), 7);
    for (i = 0; i < AUTHOS_UI_WAYS - 1; i++) {
        assert_int_equal(way_of(f->base, 0, keys[i]), i);
        assert_int_equal(way_at(f->base, 0, (unsigned)i)->state,
                         AUTHOS_UI_PENDING);
        assert_int_equal(way_at(f->base, 0, (unsigned)i)->since, T0);
    }
}

static void ui_all_ways_young_pending_fetches_without_claim(void **state)
{
    fixture_t *f = *state;
    unsigned char keys[AUTHOS_UI_WAYS][AUTHOS_UI_KEY_LEN];
    unsigned char fresh[AUTHOS_UI_KEY_LEN];
    int i;

    for (i = 0; i < AUTHOS_UI_WAYS; i++) {
        make_key(keys[i], (apr_uint32_t)(NSETS * i), (unsigned char)i);
        assert_int_equal(begin(f->base, keys[i], T0 + SEC(i)),
                         AUTHOS_UI_FETCH);
    }
    assert_int_equal(header(f->base)->calls, AUTHOS_UI_WAYS);
    make_key(fresh, NSETS * AUTHOS_UI_WAYS, 0x42);
    /* Ask AuthOS rather than wait on strangers, but claim nothing. */
    assert_int_equal(begin(f->base, fresh, T0 + SEC(8)), AUTHOS_UI_FETCH);
    assert_int_equal(header(f->base)->calls, AUTHOS_UI_WAYS + 1);
    assert_int_equal(way_of(f->base, 0, fresh), -1);
    for (i = 0; i < AUTHOS_UI_WAYS; i++) {
        assert_int_equal(way_of(f->base, 0, keys[i]), i);
        assert_int_equal(way_at(f->base, 0, (unsigned)i)->state,
                         AUTHOS_UI_PENDING);
        assert_int_equal(way_at(f->base, 0, (unsigned)i)->since, T0 + SEC(i));
    }
    /* Unclaimed: a second caller fetches too, and the answer is not
     * cached. */
    assert_int_equal(begin(f->base, fresh, T0 + SEC(8)), AUTHOS_UI_FETCH);
    assert_int_equal(store(f->base, fresh, T0 + SEC(8), TTL, PERMS), 0);
    authos_ui_abandon(f->base, fresh);
    assert_int_equal(header(f->base)->calls, AUTHOS_UI_WAYS + 2);
    /* Once the oldest claim passes the limit, its way is taken. */
    assert_int_equal(begin(f->base, fresh, T0 + LIMIT), AUTHOS_UI_FETCH);
    assert_int_equal(way_of(f->base, 0, fresh), 0);
    assert_int_equal(way_of(f->base, 0, keys[0]), -1);
    assert_int_equal(begin(f->base, fresh, T0 + LIMIT + 1), AUTHOS_UI_WAIT);
}

static void ui_calls_counter_counts_fetch_decisions(void **state)
{
    fixture_t *f = *state;
    unsigned char a[AUTHOS_UI_KEY_LEN], b[AUTHOS_UI_KEY_LEN];
    authos_ui_header_t *h = header(f->base);

    make_key(a, 0, 1);
    make_key(b, 1, 2);
    assert_int_equal(begin(f->base, a, T0), AUTHOS_UI_FETCH); /* 1 */
    assert_int_equal(begin(f->base, a, T0), AUTHOS_UI_WAIT);
    assert_int_equal(begin(f->base, b, T0), AUTHOS_UI_FETCH); /* 2 */
    assert_int_equal(store(f->base, a, T0, TTL, PERMS), 1);
    assert_int_equal(begin(f->base, a, T0 + 1), AUTHOS_UI_HIT);
    assert_int_equal(begin(f->base, a, T0 + 2), AUTHOS_UI_HIT);
    assert_int_equal(h->calls, 2);
    assert_int_equal(h->hits, 2);
    authos_ui_abandon(f->base, b);
    assert_int_equal(begin(f->base, b, T0 + 3), AUTHOS_UI_FETCH); /* 3 */
    assert_int_equal(begin(f->base, b, T0 + 3 + LIMIT),
                     AUTHOS_UI_FETCH);                            /* 4 */
    assert_int_equal(begin(f->base, a, T0 + TTL), AUTHOS_UI_FETCH); /* 5 */
    assert_int_equal(h->calls, 5);
    assert_int_equal(h->hits, 2);
}

static void ui_store_in_child_is_seen_by_parent(void **state)
{
    apr_size_t size = authos_ui_size(NENTRIES);
    unsigned char key[AUTHOS_UI_KEY_LEN];
    authos_ui_entry_t out;
    void *base;
    pid_t pid;
    int status = 0;

    (void)state;
    base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                -1, 0);
    assert_true(base != MAP_FAILED);
    assert_int_equal(authos_ui_init(base, size, NENTRIES), 1);
    authos_ui_key("token-of-the-child", 18, key);

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child: no cmocka asserts here; the exit code says what
         * went wrong. It claims, sees its own claim as single flight,
         * then stores the answer as the fetching process would. */
        authos_ui_entry_t cout;
        if (authos_ui_begin(base, key, T0, LIMIT, &cout) != AUTHOS_UI_FETCH) {
            _exit(2);
        }
        if (authos_ui_begin(base, key, T0 + 1, LIMIT, &cout)
            != AUTHOS_UI_WAIT) {
            _exit(3);
        }
        if (!authos_ui_store(base, key, T0 + SEC(1), TTL, AUTHOS_UI_READY,
                             PERMS, strlen(PERMS))) {
            _exit(4);
        }
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The parent sees the child's answer through the shared map. */
    assert_int_equal(authos_ui_begin(base, key, T0 + SEC(2), LIMIT, &out),
                     AUTHOS_UI_HIT);
    assert_int_equal(out.state, AUTHOS_UI_READY);
    assert_string_equal(out.data, PERMS);
    assert_int_equal(out.len, strlen(PERMS));
    assert_int_equal(header(base)->calls, 1);
    assert_int_equal(header(base)->hits, 1);
    assert_int_equal(munmap(base, size), 0);
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
        cache_test(ui_keys_in_one_set_differ_by_all_32_bytes),
        cache_test(ui_full_set_evicts_expired_entry_first),
        cache_test(ui_full_set_evicts_entry_expiring_first),
        cache_test(ui_full_set_evicts_empty_way_before_any_answer),
        cache_test(ui_full_set_never_evicts_young_pending_of_other_key),
        cache_test(ui_all_ways_young_pending_fetches_without_claim),
        cache_test(ui_calls_counter_counts_fetch_decisions),
        cmocka_unit_test(ui_store_in_child_is_seen_by_parent),
    };

    return cmocka_run_group_tests_name("uicache", tests, NULL, NULL);
}

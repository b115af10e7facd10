/*
 * test_uicache_evict.c: the shared cache of /api/user answers (SPEC
 * section 6) within one set: keys that share a set, and which way a new
 * key takes when the set is full. Layout, single flight, expiry and
 * counters are in test_uicache.c.
 */
#include "uicache_helpers.h"

/* Key i of set 0: lead NSETS * i, tag i. */
static void make_set0_key(unsigned char key[AUTHOS_UI_KEY_LEN], int i)
{
    make_key(key, (apr_uint32_t)(NSETS * i), (unsigned char)i);
}

/* A key of set 0 that is none of the AUTHOS_UI_WAYS keys above. */
static void make_fresh(unsigned char key[AUTHOS_UI_KEY_LEN])
{
    make_key(key, NSETS * AUTHOS_UI_WAYS, 0x42);
}

/* Fill set 0 with AUTHOS_UI_WAYS READY answers, key i stored at T0 with
 * ttl SEC(ttls[i]). */
static void fill_set0(void *base, unsigned char keys[][AUTHOS_UI_KEY_LEN],
                      const int *ttls)
{
    int i;

    for (i = 0; i < AUTHOS_UI_WAYS; i++) {
        make_set0_key(keys[i], i);
        assert_int_equal(begin(base, keys[i], T0), AUTHOS_UI_FETCH);
        assert_int_equal(store(base, keys[i], T0, SEC(ttls[i]), PERMS), 1);
        assert_int_equal(way_of(base, 0, keys[i]), i);
    }
}

/* Fill set 0 with AUTHOS_UI_WAYS calls in flight, key i claimed at
 * T0 + i * step. */
static void claim_set0(void *base, unsigned char keys[][AUTHOS_UI_KEY_LEN],
                       apr_interval_time_t step)
{
    int i;

    for (i = 0; i < AUTHOS_UI_WAYS; i++) {
        make_set0_key(keys[i], i);
        assert_int_equal(begin(base, keys[i], T0 + i * step),
                         AUTHOS_UI_FETCH);
    }
}

/* The first n claims of claim_set0 are where they were, untouched. */
static void assert_claims_kept(void *base,
                               unsigned char keys[][AUTHOS_UI_KEY_LEN], int n,
                               apr_interval_time_t step)
{
    int i;

    for (i = 0; i < n; i++) {
        assert_pending(base, 0, (unsigned)i, keys[i], T0 + i * step);
    }
}

/* Every answer of fill_set0 but the evicted keys[evicted] is a HIT at
 * now. */
static void assert_hits_but(void *base, unsigned char keys[][AUTHOS_UI_KEY_LEN],
                            int evicted, apr_time_t now)
{
    int i;

    for (i = 0; i < AUTHOS_UI_WAYS; i++) {
        if (i != evicted) {
            assert_int_equal(begin(base, keys[i], now), AUTHOS_UI_HIT);
        }
    }
}

static void ui_keys_in_one_set_differ_by_all_32_bytes(void **state)
{
    unit_region_t *f = *state;
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
    assert_hit(f->base, a, T0 + 1, &out);
    assert_string_equal(out.data, "[\"a\"]");
    assert_hit(f->base, b, T0 + 1, &out);
    assert_string_equal(out.data, "[\"b\"]");
}

static void ui_full_set_evicts_expired_entry_first(void **state)
{
    unit_region_t *f = *state;
    unsigned char keys[AUTHOS_UI_WAYS][AUTHOS_UI_KEY_LEN];
    unsigned char other[AUTHOS_UI_KEY_LEN], fresh[AUTHOS_UI_KEY_LEN];
    /* Way 5 expires at T0 + 30 s; way 0 expires first of the others. */
    static const int ttls[AUTHOS_UI_WAYS] = {40, 100, 110, 120,
                                             130, 30, 140, 150};

    /* An answer in the other set, which must not be touched. */
    make_key(other, 1, 9);
    assert_int_equal(begin(f->base, other, T0), AUTHOS_UI_FETCH);
    assert_int_equal(store(f->base, other, T0, SEC(1), PERMS), 1);
    fill_set0(f->base, keys, ttls);

    make_fresh(fresh);
    assert_int_equal(begin(f->base, fresh, T0 + SEC(35)), AUTHOS_UI_FETCH);
    assert_int_equal(way_of(f->base, 0, fresh), 5);
    assert_int_equal(way_of(f->base, 0, keys[5]), -1);
    assert_hits_but(f->base, keys, 5, T0 + SEC(35));
    /* The expired answer in set 1 is still where it was. */
    assert_int_equal(way_of(f->base, 1, other), 0);
    assert_int_equal(way_at(f->base, 1, 0)->state, AUTHOS_UI_READY);
}

static void ui_full_set_evicts_entry_expiring_first(void **state)
{
    unit_region_t *f = *state;
    unsigned char keys[AUTHOS_UI_WAYS][AUTHOS_UI_KEY_LEN];
    unsigned char fresh[AUTHOS_UI_KEY_LEN];
    static const int ttls[AUTHOS_UI_WAYS] = {100, 90, 80, 20,
                                             70, 60, 50, 40};

    fill_set0(f->base, keys, ttls);
    /* Nothing expired: way 3 expires first. */
    make_fresh(fresh);
    assert_int_equal(begin(f->base, fresh, T0 + SEC(10)), AUTHOS_UI_FETCH);
    assert_int_equal(way_of(f->base, 0, fresh), 3);
    assert_int_equal(way_at(f->base, 0, 3)->state, AUTHOS_UI_PENDING);
    assert_hits_but(f->base, keys, 3, T0 + SEC(10));
    /* The evicted token asks again, evicting the next to expire (way 7,
     * since the young claim at way 3 is left alone). */
    assert_int_equal(begin(f->base, keys[3], T0 + SEC(10)), AUTHOS_UI_FETCH);
    assert_int_equal(way_of(f->base, 0, keys[3]), 7);
    assert_int_equal(way_of(f->base, 0, fresh), 3);
}

static void ui_full_set_evicts_empty_way_before_any_answer(void **state)
{
    unit_region_t *f = *state;
    unsigned char keys[AUTHOS_UI_WAYS][AUTHOS_UI_KEY_LEN];
    unsigned char fresh[AUTHOS_UI_KEY_LEN];
    static const int ttls[AUTHOS_UI_WAYS] = {10, 20, 30, 40,
                                             50, 60, 70, 80};

    fill_set0(f->base, keys, ttls);
    /* A way freed by an abandoned call is used before any answer. */
    assert_int_equal(begin(f->base, keys[6], T0 + SEC(75)), AUTHOS_UI_FETCH);
    authos_ui_abandon(f->base, keys[6]);
    make_fresh(fresh);
    assert_int_equal(begin(f->base, fresh, T0 + SEC(1)), AUTHOS_UI_FETCH);
    assert_int_equal(way_of(f->base, 0, fresh), 6);
    assert_hits_but(f->base, keys, 6, T0 + SEC(1));
}

static void ui_full_set_never_evicts_young_pending_of_other_key(void **state)
{
    unit_region_t *f = *state;
    unsigned char keys[AUTHOS_UI_WAYS][AUTHOS_UI_KEY_LEN];
    unsigned char fresh[AUTHOS_UI_KEY_LEN];

    /* Seven calls in flight, one answer far from expiring at way 7. */
    claim_set0(f->base, keys, 0);
    assert_int_equal(store(f->base, keys[7], T0, SEC(3600), PERMS), 1);
    make_fresh(fresh);
    assert_int_equal(begin(f->base, fresh, T0 + SEC(1)), AUTHOS_UI_FETCH);
    assert_int_equal(way_of(f->base, 0, fresh), 7);
    assert_claims_kept(f->base, keys, AUTHOS_UI_WAYS - 1, 0);
}

static void ui_all_ways_young_pending_fetches_without_claim(void **state)
{
    unit_region_t *f = *state;
    unsigned char keys[AUTHOS_UI_WAYS][AUTHOS_UI_KEY_LEN];
    unsigned char fresh[AUTHOS_UI_KEY_LEN];

    claim_set0(f->base, keys, SEC(1));
    assert_int_equal(header(f->base)->calls, AUTHOS_UI_WAYS);
    make_fresh(fresh);
    /* Ask AuthOS rather than wait on strangers, but claim nothing. */
    assert_int_equal(begin(f->base, fresh, T0 + SEC(8)), AUTHOS_UI_FETCH);
    assert_int_equal(header(f->base)->calls, AUTHOS_UI_WAYS + 1);
    assert_int_equal(way_of(f->base, 0, fresh), -1);
    assert_claims_kept(f->base, keys, AUTHOS_UI_WAYS, SEC(1));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cache_test(ui_keys_in_one_set_differ_by_all_32_bytes),
        cache_test(ui_full_set_evicts_expired_entry_first),
        cache_test(ui_full_set_evicts_entry_expiring_first),
        cache_test(ui_full_set_evicts_empty_way_before_any_answer),
        cache_test(ui_full_set_never_evicts_young_pending_of_other_key),
        cache_test(ui_all_ways_young_pending_fetches_without_claim),
    };

    return cmocka_run_group_tests_name("uicache_evict", tests, NULL, NULL);
}

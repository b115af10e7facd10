/*
 * test_keyslot.c: the key-set cache in shared memory (SPEC section 8):
 * segment layout over a (base, size) region and the fetch policy.
 */
#include <limits.h>

#include "unit_helpers.h"

#include "keyslot_helpers.h"

#define JWKS_A "{\"keys\":[{\"kid\":\"a\"}]}"
#define JWKS_B "{\"keys\":[{\"kid\":\"b\"}]}"

static authos_fetch_decision_t begin(authos_keyslot_t *s, apr_time_t now,
                                     int unknown_kid)
{
    return authos_keyslot_begin(s, now, &pol, unknown_kid);
}

static int store(authos_keyslot_t *s, apr_time_t now, const char *jwks,
                 long max_age)
{
    return authos_keyslot_store(s, now, &pol, jwks, strlen(jwks), 1,
                                "https://auth.example.com/jwks", max_age);
}

static void shm_size_grows_by_aligned_slots(void **state)
{
    apr_size_t s0 = authos_shm_size(0), s1 = authos_shm_size(1);
    apr_size_t s2 = authos_shm_size(2), s9 = authos_shm_size(9);

    (void)state;
    assert_true(s0 >= sizeof(authos_shm_header_t));
    assert_int_equal(s0 % 64, 0);
    assert_true(s1 - s0 >= sizeof(authos_keyslot_t));
    assert_int_equal((s1 - s0) % 64, 0);
    assert_int_equal(s2 - s1, s1 - s0);
    assert_int_equal(s9, s0 + 9 * (s1 - s0));
}

static void shm_init_refuses_region_too_small(void **state)
{
    apr_size_t need = authos_shm_size(3);
    unsigned char *base = calloc(1, need);

    (void)state;
    assert_non_null(base);
    assert_int_equal(authos_shm_init(base, need - 1, 3), 0);
    /* Nothing was written: the region is still not ours. */
    assert_null(authos_shm_slot(base, 0));
    assert_int_equal(authos_shm_init(base, need, 3), 1);
    assert_non_null(authos_shm_slot(base, 2));
    free(base);
}

static void shm_init_writes_header_and_zeroes_slots(void **state)
{
    apr_size_t size = authos_shm_size(2);
    unsigned char *base = malloc(size);
    authos_shm_header_t *h = (authos_shm_header_t *)base;
    authos_keyslot_t *s;

    (void)state;
    assert_non_null(base);
    memset(base, 0xa5, size);
    assert_int_equal(authos_shm_init(base, size, 2), 1);
    assert_int_equal(h->magic, AUTHOS_SHM_MAGIC);
    assert_int_equal(h->version, AUTHOS_SHM_VERSION);
    assert_int_equal(h->nslots, 2);
    assert_int_equal(h->slot_size, authos_shm_size(1) - authos_shm_size(0));
    s = authos_shm_slot(base, 1);
    assert_non_null(s);
    assert_int_equal(s->generation, 0);
    assert_int_equal(s->fetching_since, 0);
    assert_int_equal(s->jwks_len, 0);
    assert_string_equal(s->source, "");
    assert_string_equal(s->jwks, "");
    free(base);
}

static void shm_slot_checks_bounds(void **state)
{
    apr_size_t size = authos_shm_size(3);
    char *base = malloc(size);
    authos_keyslot_t *s0, *s1, *s2;

    (void)state;
    assert_non_null(base);
    assert_int_equal(authos_shm_init(base, size, 3), 1);
    s0 = authos_shm_slot(base, 0);
    s1 = authos_shm_slot(base, 1);
    s2 = authos_shm_slot(base, 2);
    assert_non_null(s0);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_null(authos_shm_slot(base, 3));
    assert_null(authos_shm_slot(base, 1000000));
    /* Slots follow the header, 64-aligned, without overlap, inside the
     * region. */
    assert_true((char *)s0 >= base + sizeof(authos_shm_header_t));
    assert_int_equal(((char *)s0 - base) % 64, 0);
    assert_true((char *)s1 - (char *)s0 >= (long)sizeof(authos_keyslot_t));
    assert_int_equal((char *)s2 - (char *)s1, (char *)s1 - (char *)s0);
    assert_true((char *)s2 + sizeof(authos_keyslot_t) <= base + size);
    free(base);
}

static void shm_slot_refuses_region_without_magic(void **state)
{
    apr_size_t size = authos_shm_size(1);
    char *base = malloc(size);
    authos_shm_header_t *h = (authos_shm_header_t *)base;

    (void)state;
    assert_non_null(base);
    assert_null(authos_shm_slot(NULL, 0));
    assert_int_equal(authos_shm_init(base, size, 1), 1);
    assert_non_null(authos_shm_slot(base, 0));
    h->magic ^= 1;
    assert_null(authos_shm_slot(base, 0));
    h->magic ^= 1;
    h->version = AUTHOS_SHM_VERSION + 1;
    assert_null(authos_shm_slot(base, 0));
    h->version = AUTHOS_SHM_VERSION;
    assert_non_null(authos_shm_slot(base, 0));
    free(base);
}

static void keyslot_first_fetch_is_now(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(begin(f->s, T0, 0), AUTHOS_FETCH_NOW);
    /* The attempt is stamped before fetching. */
    assert_int_equal(f->s->last_attempt, T0);
    assert_int_equal(f->s->fetching_since, T0);
}

static void keyslot_second_caller_while_fetching_is_busy(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(begin(f->s, T0, 0), AUTHOS_FETCH_NOW);
    assert_int_equal(begin(f->s, T0 + SEC(1), 0), AUTHOS_FETCH_BUSY);
    assert_int_equal(begin(f->s, T0 + SEC(2), 1), AUTHOS_FETCH_BUSY);
    /* The busy answer did not restamp the slot. */
    assert_int_equal(f->s->fetching_since, T0);
    assert_int_equal(f->s->last_attempt, T0);
    /* Once stored, nobody fetches: the key set is fresh. */
    assert_int_equal(store(f->s, T0 + SEC(3), JWKS_A, -1), 1);
    assert_int_equal(f->s->fetching_since, 0);
    assert_int_equal(begin(f->s, T0 + SEC(4), 0), AUTHOS_FETCH_NONE);
}

static void keyslot_presumes_fetch_older_than_timeout_dead(void **state)
{
    fixture_t *f = *state;
    apr_time_t dead = T0 + pol.timeout + SEC(5);

    assert_int_equal(begin(f->s, T0, 0), AUTHOS_FETCH_NOW);
    assert_int_equal(begin(f->s, dead - 1, 0), AUTHOS_FETCH_BUSY);
    assert_int_equal(begin(f->s, dead, 0), AUTHOS_FETCH_NOW);
    assert_int_equal(f->s->fetching_since, dead);
    assert_int_equal(f->s->last_attempt, dead);
}

static void keyslot_throttles_unknown_kid_refetch(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(begin(f->s, T0, 0), AUTHOS_FETCH_NOW);
    assert_int_equal(store(f->s, T0, JWKS_A, -1), 1);
    /* A flood of unknown kids: nothing until min_refetch has passed. */
    assert_int_equal(begin(f->s, T0 + SEC(1), 1), AUTHOS_FETCH_NONE);
    assert_int_equal(begin(f->s, T0 + pol.min_refetch - 1, 1),
                     AUTHOS_FETCH_NONE);
    assert_int_equal(begin(f->s, T0 + pol.min_refetch, 1), AUTHOS_FETCH_NOW);
    assert_int_equal(store(f->s, T0 + pol.min_refetch, JWKS_A, -1), 1);
    /* And again min_refetch after that attempt. */
    assert_int_equal(begin(f->s, T0 + pol.min_refetch + SEC(1), 1),
                     AUTHOS_FETCH_NONE);
    assert_int_equal(begin(f->s, T0 + 2 * pol.min_refetch, 1),
                     AUTHOS_FETCH_NOW);
}

static void keyslot_known_kid_never_refetches_fresh_set(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(begin(f->s, T0, 0), AUTHOS_FETCH_NOW);
    assert_int_equal(store(f->s, T0, JWKS_A, -1), 1);
    /* Long after min_refetch but before refresh_at. */
    assert_int_equal(begin(f->s, T0 + SEC(200), 0), AUTHOS_FETCH_NONE);
}

static void keyslot_refresh_due_after_refresh_at(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(begin(f->s, T0, 0), AUTHOS_FETCH_NOW);
    assert_int_equal(store(f->s, T0, JWKS_A, -1), 1);
    assert_int_equal(f->s->refresh_at, T0 + pol.refresh);
    assert_int_equal(begin(f->s, T0 + pol.refresh - 1, 0), AUTHOS_FETCH_NONE);
    assert_int_equal(begin(f->s, T0 + pol.refresh, 0), AUTHOS_FETCH_NOW);
}

static void keyslot_failed_first_fetch_retries_after_min_refetch(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(begin(f->s, T0, 0), AUTHOS_FETCH_NOW);
    authos_keyslot_fail(f->s, T0 + SEC(1), "connection refused");
    assert_int_equal(f->s->fetching_since, 0);
    /* A down AuthOS costs one attempt per min_refetch. */
    assert_int_equal(begin(f->s, T0 + SEC(2), 0), AUTHOS_FETCH_NONE);
    assert_int_equal(begin(f->s, T0 + pol.min_refetch, 0), AUTHOS_FETCH_NOW);
}

static void keyslot_store_records_key_set(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(authos_keyslot_store(f->s, T0, &pol, JWKS_A,
                                          strlen(JWKS_A), 3,
                                          "https://a.example/jwks", -1),
                     1);
    assert_int_equal(f->s->generation, 1);
    assert_int_equal(f->s->jwks_len, strlen(JWKS_A));
    assert_string_equal(f->s->jwks, JWKS_A);
    assert_int_equal(f->s->nkeys, 3);
    assert_string_equal(f->s->jwks_uri, "https://a.example/jwks");
    assert_int_equal(f->s->fetched_at, T0);
    assert_int_equal(f->s->fetch_ok, 1);
    assert_string_equal(f->s->last_error, "");
}

static void keyslot_store_bumps_generation_only_when_bytes_change(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(store(f->s, T0, JWKS_A, -1), 1);
    assert_int_equal(f->s->generation, 1);
    /* The same bytes again: a successful fetch, not a new key set. */
    assert_int_equal(store(f->s, T0 + SEC(300), JWKS_A, -1), 1);
    assert_int_equal(f->s->generation, 1);
    assert_int_equal(f->s->fetched_at, T0 + SEC(300));
    assert_int_equal(f->s->refresh_at, T0 + SEC(300) + pol.refresh);
    assert_int_equal(f->s->fetch_ok, 2);
    /* Same length, different bytes. */
    assert_int_equal(store(f->s, T0 + SEC(600), JWKS_B, -1), 1);
    assert_int_equal(f->s->generation, 2);
    assert_string_equal(f->s->jwks, JWKS_B);
    /* A prefix of the previous bytes is different too. */
    assert_int_equal(store(f->s, T0 + SEC(900), "{\"keys\":[", -1), 1);
    assert_int_equal(f->s->generation, 3);
    assert_string_equal(f->s->jwks, "{\"keys\":[");
    assert_int_equal(f->s->jwks_len, strlen("{\"keys\":["));
}

static void keyslot_smaller_max_age_wins_over_refresh(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(store(f->s, T0, JWKS_A, 60), 1);
    assert_int_equal(f->s->refresh_at, T0 + SEC(60));
    /* A larger max-age does not stretch AuthOSJWKSRefresh. */
    assert_int_equal(store(f->s, T0, JWKS_A, 86400), 1);
    assert_int_equal(f->s->refresh_at, T0 + pol.refresh);
    assert_int_equal(store(f->s, T0, JWKS_A, -1), 1);
    assert_int_equal(f->s->refresh_at, T0 + pol.refresh);
    assert_int_equal(store(f->s, T0, JWKS_A, 0), 1);
    assert_int_equal(f->s->refresh_at, T0);
}

/* Found by fuzz/fuzz_http.c: max-age values whose microseconds overflow
 * (9223372036855 and up, LONG_MAX) are just larger than the refresh time;
 * they once wrapped refresh_at into the past (a 503 for every request). */
static void keyslot_huge_max_age_does_not_overflow(void **state)
{
    fixture_t *f = *state;
    static const long huge[] = {9223372036855L, 99999999999999L, LONG_MAX};
    size_t i;

    for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        assert_int_equal(store(f->s, T0, JWKS_A, huge[i]), 1);
        assert_int_equal(f->s->refresh_at, T0 + pol.refresh);
        assert_true(authos_keyslot_usable(f->s, T0 + SEC(1), &pol));
    }
}

static void keyslot_store_refuses_key_set_too_large(void **state)
{
    fixture_t *f = *state;
    char *big = malloc(AUTHOS_SLOT_JWKS_MAX);

    assert_non_null(big);
    memset(big, ' ', AUTHOS_SLOT_JWKS_MAX);
    assert_int_equal(store(f->s, T0, JWKS_A, -1), 1);
    /* No room for the NUL: refused, recorded as a failure. */
    assert_int_equal(authos_keyslot_store(f->s, T0 + SEC(1), &pol, big,
                                          AUTHOS_SLOT_JWKS_MAX, 1, "u", -1),
                     0);
    assert_int_equal(f->s->generation, 1);
    assert_string_equal(f->s->jwks, JWKS_A);
    assert_int_equal(f->s->fetch_failed, 1);
    assert_string_not_equal(f->s->last_error, "");
    /* One byte less fits. */
    assert_int_equal(authos_keyslot_store(f->s, T0 + SEC(2), &pol, big,
                                          AUTHOS_SLOT_JWKS_MAX - 1, 1, "u",
                                          -1),
                     1);
    assert_int_equal(f->s->generation, 2);
    assert_int_equal(f->s->jwks_len, AUTHOS_SLOT_JWKS_MAX - 1);
    assert_int_equal(f->s->jwks[AUTHOS_SLOT_JWKS_MAX - 1], '\0');
    free(big);
}

static void keyslot_fail_keeps_previous_key_set(void **state)
{
    fixture_t *f = *state;
    apr_time_t refresh_at;

    assert_int_equal(begin(f->s, T0, 0), AUTHOS_FETCH_NOW);
    assert_int_equal(store(f->s, T0, JWKS_A, -1), 1);
    refresh_at = f->s->refresh_at;
    assert_int_equal(begin(f->s, refresh_at, 0), AUTHOS_FETCH_NOW);
    authos_keyslot_fail(f->s, refresh_at + SEC(1), "HTTP 500");
    /* Stale-if-error: same key set, same generation. */
    assert_int_equal(f->s->generation, 1);
    assert_string_equal(f->s->jwks, JWKS_A);
    assert_int_equal(f->s->jwks_len, strlen(JWKS_A));
    assert_int_equal(f->s->fetched_at, T0);
    assert_int_equal(f->s->refresh_at, refresh_at);
    assert_string_equal(f->s->last_error, "HTTP 500");
    assert_int_equal(f->s->last_error_at, refresh_at + SEC(1));
    assert_int_equal(f->s->fetch_failed, 1);
    assert_int_equal(f->s->fetching_since, 0);
    /* The discovered jwks_uri is forgotten: rediscover next time. */
    assert_string_equal(f->s->jwks_uri, "");
    /* A later success clears the error. */
    assert_int_equal(store(f->s, refresh_at + SEC(20), JWKS_A, -1), 1);
    assert_string_equal(f->s->last_error, "");
    assert_int_equal(f->s->generation, 1);
}

static void keyslot_fail_bounds_error_text(void **state)
{
    fixture_t *f = *state;
    char long_error[1000];

    authos_keyslot_fail(f->s, T0, NULL);
    assert_string_not_equal(f->s->last_error, "");
    memset(long_error, 'x', sizeof(long_error) - 1);
    long_error[sizeof(long_error) - 1] = '\0';
    authos_keyslot_fail(f->s, T0, long_error);
    assert_int_equal(strlen(f->s->last_error), sizeof(f->s->last_error) - 1);
    assert_int_equal(f->s->fetch_failed, 2);
}

static void keyslot_usable_until_refresh_at_plus_max_stale(void **state)
{
    fixture_t *f = *state;
    apr_time_t limit;

    /* Never fetched: not usable. */
    assert_false(authos_keyslot_usable(f->s, T0, &pol));
    assert_int_equal(store(f->s, T0, JWKS_A, -1), 1);
    limit = f->s->refresh_at + pol.max_stale;
    assert_true(authos_keyslot_usable(f->s, T0, &pol));
    authos_keyslot_fail(f->s, f->s->refresh_at + SEC(1), "timeout");
    assert_true(authos_keyslot_usable(f->s, limit - SEC(1), &pol));
    assert_true(authos_keyslot_usable(f->s, limit, &pol));
    assert_false(authos_keyslot_usable(f->s, limit + 1, &pol));
}

static void keyslot_failed_fetch_without_key_set_is_not_usable(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(begin(f->s, T0, 0), AUTHOS_FETCH_NOW);
    authos_keyslot_fail(f->s, T0, "host not found");
    assert_int_equal(f->s->generation, 0);
    assert_false(authos_keyslot_usable(f->s, T0, &pol));
}

/* The child of keyslot_store_in_child_is_seen_by_parent: it must see the
 * parent's stamp (single flight), then stores a key set as the fetching
 * process would. */
static int store_in_child(void *base)
{
    authos_keyslot_t *cs = authos_shm_slot(base, 1);

    if (cs == NULL) {
        return 2;
    }
    if (begin(cs, T0 + SEC(1), 0) != AUTHOS_FETCH_BUSY) {
        return 3;
    }
    if (!authos_keyslot_store(cs, T0 + SEC(2), &pol, JWKS_B, strlen(JWKS_B), 1,
                              "https://a/jwks", -1)) {
        return 4;
    }
    return 0;
}

static void keyslot_store_in_child_is_seen_by_parent(void **state)
{
    apr_size_t size = authos_shm_size(2);
    void *base = unit_shared_map(size);
    authos_keyslot_t *s;

    (void)state;
    assert_int_equal(authos_shm_init(base, size, 2), 1);
    s = authos_shm_slot(base, 1);
    assert_non_null(s);
    assert_int_equal(begin(s, T0, 0), AUTHOS_FETCH_NOW);
    unit_run_in_child(store_in_child, base);
    /* The parent sees the child's key set through the shared map. */
    assert_int_equal(s->generation, 1);
    assert_string_equal(s->jwks, JWKS_B);
    assert_int_equal(s->fetching_since, 0);
    assert_int_equal(s->fetched_at, T0 + SEC(2));
    assert_true(authos_keyslot_usable(s, T0 + SEC(3), &pol));
    /* Slot 0 was not touched. */
    assert_int_equal(authos_shm_slot(base, 0)->generation, 0);
    assert_int_equal(munmap(base, size), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shm_size_grows_by_aligned_slots),
        cmocka_unit_test(shm_init_refuses_region_too_small),
        cmocka_unit_test(shm_init_writes_header_and_zeroes_slots),
        cmocka_unit_test(shm_slot_checks_bounds),
        cmocka_unit_test(shm_slot_refuses_region_without_magic),
        slot_test(keyslot_first_fetch_is_now),
        slot_test(keyslot_second_caller_while_fetching_is_busy),
        slot_test(keyslot_presumes_fetch_older_than_timeout_dead),
        slot_test(keyslot_throttles_unknown_kid_refetch),
        slot_test(keyslot_known_kid_never_refetches_fresh_set),
        slot_test(keyslot_refresh_due_after_refresh_at),
        slot_test(keyslot_failed_first_fetch_retries_after_min_refetch),
        slot_test(keyslot_store_records_key_set),
        slot_test(keyslot_store_bumps_generation_only_when_bytes_change),
        slot_test(keyslot_smaller_max_age_wins_over_refresh),
        slot_test(keyslot_huge_max_age_does_not_overflow),
        slot_test(keyslot_store_refuses_key_set_too_large),
        slot_test(keyslot_fail_keeps_previous_key_set),
        slot_test(keyslot_fail_bounds_error_text),
        slot_test(keyslot_usable_until_refresh_at_plus_max_stale),
        slot_test(keyslot_failed_fetch_without_key_set_is_not_usable),
        cmocka_unit_test(keyslot_store_in_child_is_seen_by_parent),
    };

    return cmocka_run_group_tests_name("keyslot", tests, NULL, NULL);
}

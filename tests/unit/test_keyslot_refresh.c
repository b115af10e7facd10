/*
 * test_keyslot_refresh.c: the background side of the key-set cache
 * (SPEC section 8, issue 4): when mod_watchdog's refresher fetches
 * (authos_keyslot_begin_ahead) and the memory of kids a fetch did not
 * bring (authos_keyslot_remember_unknown / _recently_unknown).
 * test_keyslot.c covers the layout and the request-side policy.
 */
#include "unit_helpers.h"

#include <stdio.h>

#include "keyslot_helpers.h"

#define JWKS_A "{\"keys\":[{\"kid\":\"a\"}]}"
#define LEAD (pol.refresh / 10)
#define DUE_AHEAD (T0 + pol.refresh - LEAD)

/* What a request-driven fetch records: its settings, then the key set. */
static void fetched_by_request(authos_keyslot_t *s, apr_time_t at,
                               long max_age)
{
    s->policy = pol;
    s->has_settings = 1;
    assert_int_equal(authos_keyslot_begin(s, at, &pol, 0), AUTHOS_FETCH_NOW);
    assert_int_equal(authos_keyslot_store(s, at, &pol, JWKS_A,
                                          strlen(JWKS_A), 1,
                                          "https://auth.example.com/jwks",
                                          max_age),
                     1);
}

/* ---- authos_keyslot_begin_ahead ----------------------------------- */

static void ahead_without_settings_is_none(void **state)
{
    fixture_t *f = *state;

    /* A key set, but no request ever recorded how to fetch it. */
    assert_int_equal(authos_keyslot_begin(f->s, T0, &pol, 0),
                     AUTHOS_FETCH_NOW);
    assert_int_equal(authos_keyslot_store(f->s, T0, &pol, JWKS_A,
                                          strlen(JWKS_A), 1, "", -1),
                     1);
    assert_int_equal(f->s->has_settings, 0);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD),
                     AUTHOS_FETCH_NONE);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, T0 + SEC(86400)),
                     AUTHOS_FETCH_NONE);
    assert_int_equal(f->s->last_attempt, T0);
    assert_int_equal(f->s->fetching_since, 0);
}

static void ahead_never_fetched_is_none(void **state)
{
    fixture_t *f = *state;

    /* Settings known, but no key set: the first fetch is the first
     * request's, never the background's. */
    f->s->policy = pol;
    f->s->has_settings = 1;
    assert_int_equal(f->s->generation, 0);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, T0), AUTHOS_FETCH_NONE);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, T0 + SEC(86400)),
                     AUTHOS_FETCH_NONE);
    assert_int_equal(f->s->last_attempt, 0);
    assert_int_equal(f->s->fetching_since, 0);
}

static void ahead_never_successful_is_none(void **state)
{
    fixture_t *f = *state;

    /* A request tried (settings recorded) and failed: no retries in the
     * background for a source that never worked. */
    f->s->policy = pol;
    f->s->has_settings = 1;
    assert_int_equal(authos_keyslot_begin(f->s, T0, &pol, 0),
                     AUTHOS_FETCH_NOW);
    authos_keyslot_fail(f->s, T0, "connection refused");
    assert_int_equal(authos_keyslot_begin_ahead(f->s, T0 + SEC(60)),
                     AUTHOS_FETCH_NONE);
    assert_int_equal(f->s->last_attempt, T0);
}

static void ahead_before_lead_is_none(void **state)
{
    fixture_t *f = *state;

    fetched_by_request(f->s, T0, -1);
    assert_int_equal(f->s->refresh_at, T0 + pol.refresh);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, T0 + SEC(1)),
                     AUTHOS_FETCH_NONE);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD - 1),
                     AUTHOS_FETCH_NONE);
    /* Nothing stamped: requests and the next tick see no attempt. */
    assert_int_equal(f->s->last_attempt, T0);
    assert_int_equal(f->s->fetching_since, 0);
}

static void ahead_inside_lead_is_now_and_stamped(void **state)
{
    fixture_t *f = *state;

    fetched_by_request(f->s, T0, -1);
    /* A tenth of the lifetime before refresh_at: 270 s of 300. */
    assert_int_equal(DUE_AHEAD, T0 + SEC(270));
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD),
                     AUTHOS_FETCH_NOW);
    assert_int_equal(f->s->last_attempt, DUE_AHEAD);
    assert_int_equal(f->s->fetching_since, DUE_AHEAD);
    /* The key set in use is untouched until the fetch stores. */
    assert_int_equal(f->s->generation, 1);
    assert_int_equal(f->s->refresh_at, T0 + pol.refresh);
}

static void ahead_past_refresh_at_is_now(void **state)
{
    fixture_t *f = *state;

    fetched_by_request(f->s, T0, -1);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, T0 + SEC(400)),
                     AUTHOS_FETCH_NOW);
    assert_int_equal(f->s->fetching_since, T0 + SEC(400));
}

static void ahead_lead_follows_smaller_max_age(void **state)
{
    fixture_t *f = *state;

    /* Cache-Control: max-age=100 under AuthOSJWKSRefresh 300: the lead
     * is a tenth of the 100 s lifetime. */
    fetched_by_request(f->s, T0, 100);
    assert_int_equal(f->s->refresh_at, T0 + SEC(100));
    assert_int_equal(authos_keyslot_begin_ahead(f->s, T0 + SEC(90) - 1),
                     AUTHOS_FETCH_NONE);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, T0 + SEC(90)),
                     AUTHOS_FETCH_NOW);
}

static void ahead_lead_is_relative_to_last_fetch(void **state)
{
    fixture_t *f = *state;

    fetched_by_request(f->s, T0, -1);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD),
                     AUTHOS_FETCH_NOW);
    assert_int_equal(authos_keyslot_store(f->s, DUE_AHEAD + SEC(1), &pol,
                                          JWKS_A, strlen(JWKS_A), 1, "", -1),
                     1);
    /* Refreshed: not due again until 270 s after that fetch. */
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD + SEC(60)),
                     AUTHOS_FETCH_NONE);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD + SEC(270)),
                     AUTHOS_FETCH_NONE);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD + SEC(271)),
                     AUTHOS_FETCH_NOW);
}

static void ahead_busy_while_anyone_fetches(void **state)
{
    fixture_t *f = *state;
    apr_time_t dead;

    fetched_by_request(f->s, T0, -1);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD),
                     AUTHOS_FETCH_NOW);
    /* The background fetch is under way: the next tick, and a request
     * with an unknown kid, wait for it rather than fetching again. */
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD + SEC(1)),
                     AUTHOS_FETCH_BUSY);
    assert_int_equal(authos_keyslot_begin(f->s, DUE_AHEAD + SEC(2), &pol, 1),
                     AUTHOS_FETCH_BUSY);
    assert_int_equal(f->s->last_attempt, DUE_AHEAD);
    /* A fetcher that died is presumed so timeout + 5 s after it began. */
    dead = DUE_AHEAD + pol.timeout + SEC(5);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, dead - 1),
                     AUTHOS_FETCH_BUSY);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, dead),
                     AUTHOS_FETCH_NOW);
    assert_int_equal(f->s->fetching_since, dead);
}

static void ahead_busy_behind_a_request(void **state)
{
    fixture_t *f = *state;

    fetched_by_request(f->s, T0, -1);
    /* An unknown kid made a request refetch just before the tick. */
    assert_int_equal(authos_keyslot_begin(f->s, DUE_AHEAD - SEC(1), &pol, 1),
                     AUTHOS_FETCH_NOW);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD),
                     AUTHOS_FETCH_BUSY);
    assert_int_equal(f->s->last_attempt, DUE_AHEAD - SEC(1));
}

static void ahead_throttled_by_last_attempt(void **state)
{
    fixture_t *f = *state;
    apr_time_t refetch = DUE_AHEAD - SEC(4);

    fetched_by_request(f->s, T0, -1);
    /* An unknown-kid refetch (any kind of attempt) 4 s before the lead. */
    assert_int_equal(authos_keyslot_begin(f->s, refetch, &pol, 1),
                     AUTHOS_FETCH_NOW);
    authos_keyslot_fail(f->s, refetch, "connection refused");
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD),
                     AUTHOS_FETCH_NONE);
    assert_int_equal(
        authos_keyslot_begin_ahead(f->s, refetch + pol.min_refetch - 1),
        AUTHOS_FETCH_NONE);
    assert_int_equal(f->s->last_attempt, refetch);
    assert_int_equal(f->s->fetching_since, 0);
    assert_int_equal(
        authos_keyslot_begin_ahead(f->s, refetch + pol.min_refetch),
        AUTHOS_FETCH_NOW);
    assert_int_equal(f->s->last_attempt, refetch + pol.min_refetch);
}

static void ahead_retries_failures_every_min_refetch(void **state)
{
    fixture_t *f = *state;
    apr_time_t t = DUE_AHEAD;
    int i;

    fetched_by_request(f->s, T0, -1);
    /* AuthOS down: the background retries once per min_refetch, past
     * refresh_at and past max_stale alike, keeping the old key set. */
    for (i = 0; i < 3; i++) {
        assert_int_equal(authos_keyslot_begin_ahead(f->s, t),
                         AUTHOS_FETCH_NOW);
        authos_keyslot_fail(f->s, t + SEC(1), "timeout");
        assert_int_equal(authos_keyslot_begin_ahead(f->s, t + SEC(2)),
                         AUTHOS_FETCH_NONE);
        t += pol.min_refetch;
    }
    assert_int_equal(f->s->generation, 1);
    assert_int_equal(f->s->fetch_failed, 3);
    assert_int_equal(
        authos_keyslot_begin_ahead(f->s, T0 + pol.refresh + pol.max_stale),
        AUTHOS_FETCH_NOW);
}

static void ahead_uses_the_slot_policy(void **state)
{
    fixture_t *f = *state;

    /* The refresher has no request: the recorded settings decide. */
    fetched_by_request(f->s, T0, -1);
    f->s->policy.min_refetch = SEC(100);
    f->s->policy.timeout = SEC(30);
    assert_int_equal(authos_keyslot_begin(f->s, DUE_AHEAD - SEC(50), &pol, 1),
                     AUTHOS_FETCH_NOW);
    authos_keyslot_fail(f->s, DUE_AHEAD - SEC(50), "timeout");
    /* 50 s after that attempt: enough for pol (10 s), not the slot's. */
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD),
                     AUTHOS_FETCH_NONE);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD + SEC(50)),
                     AUTHOS_FETCH_NOW);
    /* A fetch is presumed dead after the slot's 30 s + 5 s; the next
     * attempt still waits for the slot's min_refetch after it began. */
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD + SEC(84)),
                     AUTHOS_FETCH_BUSY);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD + SEC(85)),
                     AUTHOS_FETCH_NONE);
    assert_int_equal(authos_keyslot_begin_ahead(f->s, DUE_AHEAD + SEC(150)),
                     AUTHOS_FETCH_NOW);
}

/* ---- remembered unknown kids --------------------------------------- */

#define WINDOW SEC(60)

static void unknown_kid_remembered_within_window(void **state)
{
    fixture_t *f = *state;

    authos_keyslot_remember_unknown(f->s, "junk-1", T0);
    assert_true(authos_keyslot_recently_unknown(f->s, "junk-1", T0, WINDOW));
    assert_true(authos_keyslot_recently_unknown(f->s, "junk-1",
                                                T0 + WINDOW - 1, WINDOW));
    /* Only that kid, compared whole. */
    assert_false(authos_keyslot_recently_unknown(f->s, "junk-2", T0, WINDOW));
    assert_false(authos_keyslot_recently_unknown(f->s, "junk-", T0, WINDOW));
    assert_false(authos_keyslot_recently_unknown(f->s, "junk-10", T0, WINDOW));
    assert_false(authos_keyslot_recently_unknown(f->s, "", T0, WINDOW));
}

static void unknown_kid_forgotten_after_window(void **state)
{
    fixture_t *f = *state;

    authos_keyslot_remember_unknown(f->s, "junk-1", T0);
    assert_false(authos_keyslot_recently_unknown(f->s, "junk-1", T0 + WINDOW,
                                                 WINDOW));
    assert_false(authos_keyslot_recently_unknown(f->s, "junk-1",
                                                 T0 + SEC(3600), WINDOW));
    /* The window is the caller's: a longer one still remembers it. */
    assert_true(authos_keyslot_recently_unknown(f->s, "junk-1", T0 + WINDOW,
                                                2 * WINDOW));
    /* A zero window remembers nothing. */
    assert_false(authos_keyslot_recently_unknown(f->s, "junk-1", T0, 0));
}

static void unknown_kid_seen_again_is_remembered_anew(void **state)
{
    fixture_t *f = *state;

    authos_keyslot_remember_unknown(f->s, "junk-1", T0);
    authos_keyslot_remember_unknown(f->s, "junk-1", T0 + SEC(50));
    assert_true(authos_keyslot_recently_unknown(f->s, "junk-1",
                                                T0 + WINDOW + SEC(10), WINDOW));
    assert_false(authos_keyslot_recently_unknown(
        f->s, "junk-1", T0 + SEC(50) + WINDOW, WINDOW));
}

static void unknown_kid_fresh_slot_remembers_nothing(void **state)
{
    fixture_t *f = *state;

    /* Zeroed entries (time 0) never match, even with a window reaching
     * back to the epoch. */
    assert_int_equal(f->s->unknown_next, 0);
    assert_false(authos_keyslot_recently_unknown(f->s, "k1", SEC(1), T0));
    assert_false(authos_keyslot_recently_unknown(f->s, "", SEC(1), T0));
}

static void unknown_kid_ring_wraps(void **state)
{
    fixture_t *f = *state;
    char kid[32];
    int i;

    /* One more kid than the ring holds: the oldest one is overwritten. */
    for (i = 0; i <= AUTHOS_UNKNOWN_KIDS; i++) {
        snprintf(kid, sizeof(kid), "junk-%d", i);
        authos_keyslot_remember_unknown(f->s, kid, T0 + SEC(i));
    }
    assert_int_equal(f->s->unknown_next, 1);
    assert_false(authos_keyslot_recently_unknown(
        f->s, "junk-0", T0 + SEC(AUTHOS_UNKNOWN_KIDS), WINDOW));
    for (i = 1; i <= AUTHOS_UNKNOWN_KIDS; i++) {
        snprintf(kid, sizeof(kid), "junk-%d", i);
        assert_true(authos_keyslot_recently_unknown(
            f->s, kid, T0 + SEC(AUTHOS_UNKNOWN_KIDS), WINDOW));
    }
    /* Around once more: junk-1 goes next. */
    authos_keyslot_remember_unknown(f->s, "junk-again", T0 + SEC(40));
    assert_int_equal(f->s->unknown_next, 2);
    assert_false(authos_keyslot_recently_unknown(f->s, "junk-1", T0 + SEC(40),
                                                 WINDOW));
    assert_true(authos_keyslot_recently_unknown(f->s, "junk-2", T0 + SEC(40),
                                                WINDOW));
    assert_true(authos_keyslot_recently_unknown(f->s, "junk-again",
                                                T0 + SEC(40), WINDOW));
}

static void unknown_kid_memory_survives_key_set_changes(void **state)
{
    fixture_t *f = *state;

    /* A store or a failure does not clear the memory: only the window
     * (never beyond the next refresh, chosen by the caller) does. */
    fetched_by_request(f->s, T0, -1);
    authos_keyslot_remember_unknown(f->s, "junk-1", T0 + SEC(1));
    authos_keyslot_fail(f->s, T0 + SEC(20), "timeout");
    assert_int_equal(authos_keyslot_store(f->s, T0 + SEC(30), &pol, JWKS_A,
                                          strlen(JWKS_A), 1, "", -1),
                     1);
    assert_true(authos_keyslot_recently_unknown(f->s, "junk-1", T0 + SEC(31),
                                                WINDOW));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        slot_test(ahead_without_settings_is_none),
        slot_test(ahead_never_fetched_is_none),
        slot_test(ahead_never_successful_is_none),
        slot_test(ahead_before_lead_is_none),
        slot_test(ahead_inside_lead_is_now_and_stamped),
        slot_test(ahead_past_refresh_at_is_now),
        slot_test(ahead_lead_follows_smaller_max_age),
        slot_test(ahead_lead_is_relative_to_last_fetch),
        slot_test(ahead_busy_while_anyone_fetches),
        slot_test(ahead_busy_behind_a_request),
        slot_test(ahead_throttled_by_last_attempt),
        slot_test(ahead_retries_failures_every_min_refetch),
        slot_test(ahead_uses_the_slot_policy),
        slot_test(unknown_kid_remembered_within_window),
        slot_test(unknown_kid_forgotten_after_window),
        slot_test(unknown_kid_seen_again_is_remembered_anew),
        slot_test(unknown_kid_fresh_slot_remembers_nothing),
        slot_test(unknown_kid_ring_wraps),
        slot_test(unknown_kid_memory_survives_key_set_changes),
    };

    return cmocka_run_group_tests_name("keyslot_refresh", tests, NULL, NULL);
}

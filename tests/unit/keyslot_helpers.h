/*
 * keyslot_helpers.h: the fixture shared by test_keyslot.c and
 * test_keyslot_refresh.c: a one-slot key-set segment on the heap and the
 * policy both files test against.
 */
#ifndef KEYSLOT_HELPERS_H
#define KEYSLOT_HELPERS_H

#include "unit_helpers.h"

#include "authos_keyslot.h"

#define SEC(n) apr_time_from_sec(n)
/* An arbitrary "now" far from 0, so 0 keeps meaning "never". */
#define T0 SEC(1700000000)

/* A 300 s lifetime (the background refresh is due 30 s early), 10 s
 * between fetches, an hour of staleness, a 5 s fetch limit. */
static const authos_key_policy_t pol = {
    SEC(300),  /* refresh */
    SEC(10),   /* min_refetch */
    SEC(3600), /* max_stale */
    SEC(5),    /* timeout */
};

typedef struct {
    unit_region_t r; /* first: see unit_region_new */
    authos_keyslot_t *s;
} fixture_t;

/* A one-slot segment on the heap (the fork test uses a shared map). */
static inline int slot_setup(void **state)
{
    fixture_t *f = unit_region_new(sizeof(*f), authos_shm_size(1));

    if (f == NULL || !authos_shm_init(f->r.base, f->r.size, 1)
        || (f->s = authos_shm_slot(f->r.base, 0)) == NULL) {
        unit_region_free(f);
        return -1;
    }
    *state = f;
    return 0;
}

#define slot_test(t)                                                          \
    cmocka_unit_test_setup_teardown(t, slot_setup, unit_region_teardown)

#endif

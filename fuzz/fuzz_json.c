/*
 * fuzz_json.c: the strict JSON reader (authos_json_parse_object) against
 * jansson's own, json_loadb(JSON_REJECT_DUPLICATES), which it replaced on
 * the hot path.
 *
 * Invariants:
 * - both accept the same inputs as a JSON object and refuse the same ones,
 *   except that ours refuses every input with a raw NUL byte (never valid
 *   JSON), some of which jansson 2.14 accepts: it takes the NUL after a
 *   number or literal as the end of that token, so {"t":true<NUL>} loads;
 * - when both accept, the values are equal (json_equal: same members, same
 *   types, same numbers, same decoded strings), and in the same member
 *   order (jansson keeps insertion order; the claims are exported in it).
 */
#include "fuzz_common.h"

#include "authos_json.h"

static void same_order(const json_t *a, const json_t *b)
{
    const char *ka, *kb;
    json_t *va, *vb;
    size_t i;
    void *ia, *ib;

    if (json_is_array(a)) {
        for (i = 0; i < json_array_size(a); i++) {
            same_order(json_array_get(a, i), json_array_get(b, i));
        }
        return;
    }
    if (!json_is_object(a)) {
        return;
    }
    for (ia = json_object_iter((json_t *)a), ib = json_object_iter((json_t *)b);
         ia != NULL; ia = json_object_iter_next((json_t *)a, ia),
         ib = json_object_iter_next((json_t *)b, ib)) {
        FUZZ_CHECK(ib != NULL);
        ka = json_object_iter_key(ia);
        kb = json_object_iter_key(ib);
        FUZZ_CHECK(json_object_iter_key_len(ia) == json_object_iter_key_len(ib)
                   && memcmp(ka, kb, json_object_iter_key_len(ia)) == 0);
        va = json_object_iter_value(ia);
        vb = json_object_iter_value(ib);
        same_order(va, vb);
    }
    FUZZ_CHECK(ib == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    json_error_t err;
    json_t *ours, *theirs;

    ours = authos_json_parse_object(p, (const char *)data, size);
    theirs = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
                        &err);
    if (theirs != NULL && !json_is_object(theirs)) {
        json_decref(theirs);
        theirs = NULL;
    }
    if (memchr(data, '\0', size) != NULL) {
        FUZZ_CHECK(ours == NULL);
    }
    else {
        FUZZ_CHECK((ours == NULL) == (theirs == NULL));
    }
    if (ours != NULL) {
        FUZZ_CHECK(theirs != NULL && json_equal(ours, theirs));
        same_order(ours, theirs);
        /* authos_json_object: the same value, released with the pool. */
        FUZZ_CHECK(json_equal(authos_json_object(p, (const char *)data, size),
                              ours));
    }
    json_decref(ours);
    json_decref(theirs);
    apr_pool_destroy(p);
    return 0;
}

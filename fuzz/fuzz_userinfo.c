/*
 * fuzz_userinfo.c: the /api/user answer parser (authos_userinfo_permissions)
 * and the stored-permissions reader (authos_userinfo_array) that the
 * shared /api/user cache uses (SPEC sections 2 and 6).
 *
 * Invariants:
 * - an answer is refused exactly when it is not a JSON object without
 *   duplicates, or its "permissions" member is there and not an array;
 * - otherwise the result is a compact JSON array holding the string
 *   elements of "permissions", in order (none when it is absent);
 * - that text reads back with authos_userinfo_array, and wrapping it in
 *   {"permissions": ...} again gives the same text (a fixed point);
 * - authos_userinfo_array on raw bytes gives an array or nothing.
 */
#include "fuzz_common.h"

#include "authos_json.h"
#include "authos_userinfo.h"

/* The string elements of the answer's permissions, independently. */
static void check_result(apr_pool_t *p, const json_t *answer, const char *text)
{
    json_t *perms = json_object_get(answer, "permissions");
    json_t *got = authos_userinfo_array(p, text, strlen(text));
    json_t *el;
    apr_size_t i, j = 0;
    const char *again;

    FUZZ_CHECK(got != NULL && json_is_array(got));
    json_array_foreach(perms, i, el) {
        if (json_is_string(el)) {
            FUZZ_CHECK(json_equal(el, json_array_get(got, j)));
            j++;
        }
    }
    FUZZ_CHECK(j == json_array_size(got));
    again = authos_userinfo_permissions(
        p, apr_pstrcat(p, "{\"permissions\":", text, "}", NULL),
        strlen(text) + 16);
    FUZZ_CHECK(again != NULL && strcmp(again, text) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *text;
    json_t *answer, *perms, *a;

    text = authos_userinfo_permissions(p, (const char *)data, size);
    answer = authos_json_object(p, (const char *)data, size);
    perms = json_object_get(answer, "permissions");
    if (answer == NULL || (perms != NULL && !json_is_array(perms))) {
        FUZZ_CHECK(text == NULL);
    }
    else {
        FUZZ_CHECK(text != NULL);
        check_result(p, answer, text);
    }

    a = authos_userinfo_array(p, (const char *)data, size);
    FUZZ_CHECK(a == NULL || json_is_array(a));
    apr_pool_destroy(p);
    return 0;
}

/*
 * test_userinfo.c: reading the /api/user answer (SPEC sections 2 and 6):
 * the permissions as a compact JSON array of strings, and that text read
 * back. The network call itself is covered by the integration suite; only
 * its refusals that never reach the network are checked here.
 */
#include "unit_helpers.h"

#include "authos_userinfo.h"

static const char *perms(apr_pool_t *p, const char *body)
{
    return authos_userinfo_permissions(p, body, strlen(body));
}

static json_t *array(apr_pool_t *p, const char *text)
{
    return authos_userinfo_array(p, text, strlen(text));
}

static void permissions_keeps_strings_in_order(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(perms(p, "{\"id\":\"u1\",\"permissions\":"
                                 "[\"billing:read\",\"admin\",\"a:b\"],"
                                 "\"org\":\"acme\",\"service\":\"billing\"}"),
                        "[\"billing:read\",\"admin\",\"a:b\"]");
    assert_string_equal(perms(p, "{\"permissions\":[\"z\",\"a\",\"z\"]}"),
                        "[\"z\",\"a\",\"z\"]");
    assert_string_equal(perms(p, "{\"permissions\":[]}"), "[]");
}

static void permissions_output_is_compact(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(perms(p, "{ \"permissions\" : [ \"a\" ,\n\t\"b\" ] }"),
                        "[\"a\",\"b\"]");
}

static void permissions_drops_non_strings(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(
        perms(p, "{\"permissions\":[\"a\",1,null,true,false,2.5,"
                 "{\"name\":\"x\"},[\"y\"],\"b\"]}"),
        "[\"a\",\"b\"]");
    assert_string_equal(perms(p, "{\"permissions\":[1,{},[],null]}"), "[]");
}

static void permissions_missing_member_is_empty_array(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(perms(p, "{}"), "[]");
    assert_string_equal(perms(p, "{\"org\":\"acme\",\"Permissions\":[\"a\"]}"),
                        "[]");
}

static void permissions_not_an_array_is_refused(void **state)
{
    apr_pool_t *p = *state;

    assert_null(perms(p, "{\"permissions\":\"admin\"}"));
    assert_null(perms(p, "{\"permissions\":null}"));
    assert_null(perms(p, "{\"permissions\":{\"0\":\"admin\"}}"));
    assert_null(perms(p, "{\"permissions\":1}"));
    assert_null(perms(p, "{\"permissions\":true}"));
}

static void permissions_refuses_body_that_is_not_a_json_object(void **state)
{
    apr_pool_t *p = *state;

    assert_null(perms(p, ""));
    assert_null(perms(p, "not json"));
    assert_null(perms(p, "<html>502 Bad Gateway</html>"));
    assert_null(perms(p, "[\"admin\"]"));
    assert_null(perms(p, "[{\"permissions\":[\"admin\"]}]"));
    assert_null(perms(p, "\"admin\""));
    assert_null(perms(p, "null"));
    assert_null(perms(p, "{\"permissions\":[\"a\"]"));
    assert_null(perms(p, "{\"permissions\":[\"a\"]} x"));
    assert_null(perms(p, "{\"permissions\":[\"a\"]}{}"));
    assert_null(authos_userinfo_permissions(p, NULL, 0));
}

static void permissions_refuses_duplicate_keys(void **state)
{
    apr_pool_t *p = *state;

    assert_null(perms(p, "{\"permissions\":[\"a\"],\"permissions\":[\"b\"]}"));
    assert_null(perms(p, "{\"org\":\"a\",\"org\":\"b\",\"permissions\":[]}"));
    assert_null(perms(p, "{\"permissions\":[],\"x\":{\"k\":1,\"k\":2}}"));
}

static void permissions_refuses_nul_in_strings(void **state)
{
    apr_pool_t *p = *state;

    /* "admin\0x" must never read as "admin". */
    assert_null(perms(p, "{\"permissions\":[\"admin\\u0000x\"]}"));
}

static void permissions_reads_exactly_len_bytes(void **state)
{
    apr_pool_t *p = *state;
    const char *buf = "{\"permissions\":[\"a\"]}garbage";
    char raw[21];

    assert_string_equal(authos_userinfo_permissions(p, buf, 21),
                        "[\"a\"]");
    assert_null(authos_userinfo_permissions(p, buf, 20));
    /* Not NUL-terminated. */
    memcpy(raw, buf, sizeof(raw));
    assert_string_equal(authos_userinfo_permissions(p, raw, sizeof(raw)),
                        "[\"a\"]");
}

static void permissions_keeps_escapes_and_unicode(void **state)
{
    apr_pool_t *p = *state;
    const char *text = perms(p, "{\"permissions\":[\"a\\\"b\",\"x\\\\y\","
                                "\"caf\\u00e9\",\"\xe2\x9c\x93\",\"p/q\"]}");
    json_t *a;

    assert_non_null(text);
    a = array(p, text);
    assert_non_null(a);
    assert_int_equal(json_array_size(a), 5);
    assert_string_equal(json_string_value(json_array_get(a, 0)), "a\"b");
    assert_string_equal(json_string_value(json_array_get(a, 1)), "x\\y");
    assert_string_equal(json_string_value(json_array_get(a, 2)),
                        "caf\xc3\xa9");
    assert_string_equal(json_string_value(json_array_get(a, 3)),
                        "\xe2\x9c\x93");
    assert_string_equal(json_string_value(json_array_get(a, 4)), "p/q");
}

static void permissions_result_lives_in_pool(void **state)
{
    apr_pool_t *p = *state;
    apr_pool_t *sub = NULL;
    const char *text;

    /* A hundred answers in a subpool: all released with it (valgrind
     * checks that no jansson value outlives the pool). */
    assert_int_equal(apr_pool_create(&sub, p), APR_SUCCESS);
    for (int i = 0; i < 100; i++) {
        text = perms(sub, "{\"permissions\":[\"a\",\"b\",1]}");
        assert_string_equal(text, "[\"a\",\"b\"]");
    }
    apr_pool_destroy(sub);
}

static void array_round_trips_permissions(void **state)
{
    apr_pool_t *p = *state;
    const char *text = perms(p, "{\"permissions\":[\"read\",7,\"write\"]}");
    json_t *a;

    assert_string_equal(text, "[\"read\",\"write\"]");
    a = array(p, text);
    assert_non_null(a);
    assert_true(json_is_array(a));
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(json_string_value(json_array_get(a, 0)), "read");
    assert_string_equal(json_string_value(json_array_get(a, 1)), "write");
    a = array(p, perms(p, "{}"));
    assert_non_null(a);
    assert_int_equal(json_array_size(a), 0);
}

static void array_reads_exactly_len_bytes(void **state)
{
    apr_pool_t *p = *state;
    const char *buf = "[\"a\"]xyz";
    json_t *a = authos_userinfo_array(p, buf, 5);

    assert_non_null(a);
    assert_int_equal(json_array_size(a), 1);
    assert_null(authos_userinfo_array(p, buf, 6));
    assert_null(authos_userinfo_array(p, buf, 4));
}

static void array_refuses_non_arrays(void **state)
{
    apr_pool_t *p = *state;

    assert_null(array(p, ""));
    assert_null(array(p, "nope"));
    assert_null(array(p, "{}"));
    assert_null(array(p, "{\"permissions\":[\"a\"]}"));
    assert_null(array(p, "\"a\""));
    assert_null(array(p, "1"));
    assert_null(array(p, "null"));
    assert_null(array(p, "[\"a\""));
    assert_null(array(p, "[\"a\"] x"));
    assert_null(array(p, "[{\"k\":1,\"k\":2}]"));
    assert_null(authos_userinfo_array(p, NULL, 0));
}

static void fetch_refuses_plain_http_without_network(void **state)
{
    apr_pool_t *p = *state;
    authos_http_opts_t opts = {apr_time_from_sec(5), NULL, 0};
    authos_userinfo_t out;

    memset(&out, 0x5a, sizeof(out));
    assert_int_equal(authos_userinfo_fetch(p, "http://127.0.0.1:9", "tok",
                                           &opts, &out),
                     AUTHOS_USERINFO_FAILED);
    assert_null(out.permissions);
    assert_non_null(out.error);
    assert_string_equal(out.error, "URL scheme not allowed");
    assert_int_equal(out.http_status, 0);
}

static void fetch_fails_closed_without_time_left(void **state)
{
    apr_pool_t *p = *state;
    authos_http_opts_t opts = {0, NULL, 1};
    authos_userinfo_t out;

    assert_int_equal(authos_userinfo_fetch(p, "http://127.0.0.1:9", "tok",
                                           &opts, &out),
                     AUTHOS_USERINFO_FAILED);
    assert_null(out.permissions);
    assert_string_equal(out.error, "timeout");
    assert_int_equal(out.http_status, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_pool_test(permissions_keeps_strings_in_order),
        unit_pool_test(permissions_output_is_compact),
        unit_pool_test(permissions_drops_non_strings),
        unit_pool_test(permissions_missing_member_is_empty_array),
        unit_pool_test(permissions_not_an_array_is_refused),
        unit_pool_test(permissions_refuses_body_that_is_not_a_json_object),
        unit_pool_test(permissions_refuses_duplicate_keys),
        unit_pool_test(permissions_refuses_nul_in_strings),
        unit_pool_test(permissions_reads_exactly_len_bytes),
        unit_pool_test(permissions_keeps_escapes_and_unicode),
        unit_pool_test(permissions_result_lives_in_pool),
        unit_pool_test(array_round_trips_permissions),
        unit_pool_test(array_reads_exactly_len_bytes),
        unit_pool_test(array_refuses_non_arrays),
        unit_pool_test(fetch_refuses_plain_http_without_network),
        unit_pool_test(fetch_fails_closed_without_time_left),
    };

    return cmocka_run_group_tests_name("userinfo", tests, NULL, NULL);
}

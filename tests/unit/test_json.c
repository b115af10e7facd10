/*
 * test_json.c: the strict JSON reader (authos_json_parse_object,
 * authos_json_object): RFC 8259 with jansson's refusals, held to
 * json_loadb(JSON_REJECT_DUPLICATES) case by case.
 */
#include "unit_helpers.h"

#include <jansson.h>
#include <stdio.h>

#include "authos_json.h"

/* An input; IN takes a string literal, so sizeof gives its exact length,
 * NULs included. */
typedef struct {
    const char *text;
    apr_size_t len;
} input_t;

#define IN(s) {(s), sizeof(s) - 1}

/* Pool memory for a test's text, never NULL (the sanitizer build's
 * -Wformat-overflow sees apr_palloc's result go to sprintf). */
static char *text_buffer(apr_pool_t *p, apr_size_t size)
{
    char *m = apr_palloc(p, size);

    if (m == NULL) {
        abort();
    }
    return m;
}

/* What jansson's own reader makes of text: an object or NULL. */
static json_t *jansson_object(const char *text, apr_size_t len)
{
    json_error_t err;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);

    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* Both readers accept each input, with equal values. */
static void assert_all_accepted(apr_pool_t *p, const input_t *in, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        json_t *ours = authos_json_parse_object(p, in[i].text, in[i].len);
        json_t *theirs = jansson_object(in[i].text, in[i].len);

        if (ours == NULL || theirs == NULL || !json_equal(ours, theirs)) {
            fail_msg("input %zu (%.60s): ours %s, jansson %s", i, in[i].text,
                     ours ? "accepted" : "refused",
                     theirs ? "accepted" : "refused");
        }
        json_decref(ours);
        json_decref(theirs);
    }
}

/* Ours refuses each input; so does jansson unless jansson_too is 0. */
static void assert_all_refused(apr_pool_t *p, const input_t *in, size_t n,
                               int jansson_too)
{
    size_t i;

    for (i = 0; i < n; i++) {
        json_t *ours = authos_json_parse_object(p, in[i].text, in[i].len);
        json_t *theirs = jansson_object(in[i].text, in[i].len);

        if (ours != NULL || (jansson_too && theirs != NULL)) {
            fail_msg("input %zu (%.60s): ours %s, jansson %s", i, in[i].text,
                     ours ? "accepted" : "refused",
                     theirs ? "accepted" : "refused");
        }
        json_decref(theirs);
    }
}

#define assert_accepted(p, ...)                                               \
    do {                                                                      \
        static const input_t in_[] = {__VA_ARGS__};                           \
        assert_all_accepted((p), in_, UNIT_NELTS(in_));                       \
    } while (0)

#define assert_refused(p, ...)                                                \
    do {                                                                      \
        static const input_t in_[] = {__VA_ARGS__};                           \
        assert_all_refused((p), in_, UNIT_NELTS(in_), 1);                     \
    } while (0)

static void json_reads_a_token_payload(void **state)
{
    static const char text[] =
        "{\"sub\":\"u1\",\"aud\":[\"platform\",\"service:acme/billing\"],"
        "\"exp\":1700003600,\"mfa_required\":false,\"act\":null,"
        "\"is_platform_owner\":true,\"ratio\":0.25,\"nested\":{\"a\":[]}}";
    json_t *j = authos_json_parse_object(*state, text, sizeof(text) - 1);
    const char *expect[] = {"sub", "aud", "exp", "mfa_required", "act",
                            "is_platform_owner", "ratio", "nested"};
    void *it;
    size_t i = 0;

    assert_non_null(j);
    assert_string_equal(authos_json_string(j, "sub"), "u1");
    assert_int_equal(json_array_size(json_object_get(j, "aud")), 2);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(j, "aud"), 1)),
        "service:acme/billing");
    assert_true(json_is_integer(json_object_get(j, "exp")));
    assert_int_equal(json_integer_value(json_object_get(j, "exp")),
                     1700003600);
    assert_true(json_is_false(json_object_get(j, "mfa_required")));
    assert_true(json_is_null(json_object_get(j, "act")));
    assert_true(json_is_true(json_object_get(j, "is_platform_owner")));
    assert_true(json_is_real(json_object_get(j, "ratio")));
    assert_true(json_real_value(json_object_get(j, "ratio")) == 0.25);
    assert_true(json_is_object(json_object_get(j, "nested")));
    /* Members keep the token's order (the claims are exported in it). */
    for (it = json_object_iter(j); it != NULL; it = json_object_iter_next(j, it)) {
        assert_true(i < UNIT_NELTS(expect));
        assert_string_equal(json_object_iter_key(it), expect[i++]);
    }
    assert_int_equal(i, UNIT_NELTS(expect));
    json_decref(j);
    assert_accepted(*state, IN(text));
}

static void json_allows_rfc8259_whitespace_only(void **state)
{
    assert_accepted(*state, IN(" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" :{ } }\n "),
                    IN("{}"), IN("{\"\":\"\"}"));
    assert_refused(*state, IN("\v{}"), IN("{}\f"), IN("\xc2\xa0{}"),
                   IN("\xef\xbb\xbf{}"));
}

static void json_refuses_anything_but_one_object(void **state)
{
    assert_refused(*state, IN(""), IN("   "), IN("[]"), IN("[{}]"), IN("1"),
                   IN("\"a\""), IN("true"), IN("null"), IN("{}{}"),
                   IN("{} x"), IN("{}]"), IN("{"), IN("{\"a\":1"),
                   IN("{\"a\":1,}"), IN("{,}"), IN("{\"a\"}"),
                   IN("{\"a\" 1}"), IN("{\"a\":}"), IN("{a:1}"),
                   IN("{'a':1}"), IN("{\"a\":[1,]}"), IN("{\"a\":[,1]}"),
                   IN("{\"a\":[1 2]}"), IN("{/*c*/}"), IN("{\"a\":1}//"),
                   IN("{1:1}"), IN("{\"a\":1;\"b\":2}"));
}

static void json_refuses_duplicate_members(void **state)
{
    assert_refused(*state, IN("{\"a\":1,\"a\":1}"), IN("{\"a\":1,\"\\u0061\":2}"),
                   IN("{\"x\":{\"b\":1,\"b\":2}}"),
                   IN("{\"x\":[{\"b\":1,\"b\":2}]}"), IN("{\"\":1,\"\":2}"));
    /* The same name at different levels is fine. */
    assert_accepted(*state, IN("{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}"));
}

static void json_decodes_escapes(void **state)
{
    static const char text[] =
        "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\","
        "\"k\\u00e9y\":1}";
    json_t *j = authos_json_parse_object(*state, text, sizeof(text) - 1);

    assert_non_null(j);
    assert_string_equal(authos_json_string(j, "s"),
                        "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_non_null(json_object_get(j, "k\xc3\xa9y"));
    json_decref(j);
    assert_accepted(*state, IN(text));
}

static void json_decodes_long_escaped_strings(void **state)
{
    apr_pool_t *p = *state;
    /* Longer than the reader's stack buffer: decoded into the pool. */
    char *text = text_buffer(p, 4000), *expect = text_buffer(p, 1000);
    apr_size_t n = 0;
    json_t *j, *theirs;
    int i;

    n += (apr_size_t)sprintf(text, "{\"s\":\"");
    for (i = 0; i < 600; i++) {
        n += (apr_size_t)sprintf(text + n, i % 2 ? "\\n" : "x");
        expect[i] = i % 2 ? '\n' : 'x';
    }
    expect[600] = '\0';
    n += (apr_size_t)sprintf(text + n, "\",\"t\":\"%s\"}", "plain");
    j = authos_json_parse_object(p, text, n);
    assert_non_null(j);
    assert_string_equal(authos_json_string(j, "s"), expect);
    assert_string_equal(authos_json_string(j, "t"), "plain");
    theirs = jansson_object(text, n);
    assert_true(json_equal(j, theirs));
    json_decref(theirs);
    json_decref(j);
}

static void json_refuses_bad_escapes_and_surrogates(void **state)
{
    assert_refused(*state, IN("{\"s\":\"\\x41\"}"), IN("{\"s\":\"\\u12\"}"),
                   IN("{\"s\":\"\\u12G4\"}"), IN("{\"s\":\"\\U0041\"}"),
                   IN("{\"s\":\"\\\"}"), IN("{\"s\":\"\\'\"}"),
                   IN("{\"s\":\"\\ud83d\"}"), IN("{\"s\":\"\\ud83dx\"}"),
                   IN("{\"s\":\"\\ud83d\\u0041\"}"),
                   IN("{\"s\":\"\\ud83d\\ud83d\"}"), IN("{\"s\":\"\\ude00\"}"),
                   IN("{\"s\":\"\\ud83d\\"), IN("{\"s\":\"\\u"));
}

static void json_refuses_nul_characters(void **state)
{
    assert_refused(*state, IN("{\"s\":\"a\\u0000b\"}"), IN("{\"\\u0000\":1}"),
                   IN("{\"s\":\"a\0b\"}"), IN("{\"s\":\"a\"\0}"), IN("{\0}"),
                   IN("{\"s\":1}\0"));
    /* jansson 2.14 loads these (it ends the number or word at the NUL);
     * a raw NUL is never JSON, so ours refuses them too. */
    {
        static const input_t in[] = {IN("{\"t\":true\0}"), IN("{\"t\":1\0}")};

        assert_all_refused(*state, in, UNIT_NELTS(in), 0);
    }
}

static void json_refuses_control_characters_and_bad_utf8(void **state)
{
    assert_refused(*state, IN("{\"s\":\"a\tb\"}"), IN("{\"s\":\"a\nb\"}"),
                   IN("{\"s\":\"\x1f\"}"), IN("{\"s\":\"\xc0\xaf\"}"),
                   IN("{\"s\":\"\xc1\xbf\"}"), IN("{\"s\":\"\xe0\x80\xaf\"}"),
                   IN("{\"s\":\"\xf0\x80\x80\xaf\"}"),
                   IN("{\"s\":\"\xed\xa0\x80\"}"), IN("{\"s\":\"\xf4\x90\x80\x80\"}"),
                   IN("{\"s\":\"\xf5\x80\x80\x80\"}"), IN("{\"s\":\"\x80\"}"),
                   IN("{\"s\":\"\xe2\x82\"}"), IN("{\"s\":\"\xe2\x82"),
                   IN("{\"s\xff\":1}"), IN("{\"s\":1}\xc3\xa9"));
    assert_accepted(*state, IN("{\"s\":\"\x7f \xc2\x80 \xdf\xbf \xe0\xa0\x80 "
                               "\xed\x9f\xbf \xee\x80\x80 \xf0\x90\x80\x80 "
                               "\xf4\x8f\xbf\xbf\"}"));
}

static void json_reads_numbers_as_jansson_does(void **state)
{
    json_t *j;
    static const char text[] =
        "{\"a\":0,\"b\":-0,\"c\":9223372036854775807,"
        "\"d\":-9223372036854775808,\"e\":1.5,\"f\":-2e10,\"g\":1E+2,"
        "\"h\":3e-400,\"i\":0.1e1}";

    assert_accepted(*state, IN(text));
    j = authos_json_parse_object(*state, text, sizeof(text) - 1);
    assert_non_null(j);
    assert_true(json_is_integer(json_object_get(j, "b")));
    assert_true(json_integer_value(json_object_get(j, "c")) == INT64_MAX);
    assert_true(json_integer_value(json_object_get(j, "d")) == INT64_MIN);
    assert_true(json_is_real(json_object_get(j, "g")));
    assert_true(json_real_value(json_object_get(j, "g")) == 100.0);
    assert_true(json_real_value(json_object_get(j, "h")) == 0.0);
    json_decref(j);
    assert_refused(*state, IN("{\"a\":9223372036854775808}"),
                   IN("{\"a\":-9223372036854775809}"),
                   IN("{\"a\":10000000000000000000}"), IN("{\"a\":1e309}"),
                   IN("{\"a\":-1e309}"), IN("{\"a\":01}"), IN("{\"a\":-01}"),
                   IN("{\"a\":+1}"), IN("{\"a\":1.}"), IN("{\"a\":.5}"),
                   IN("{\"a\":1e}"), IN("{\"a\":1e+}"), IN("{\"a\":-}"),
                   IN("{\"a\":1x}"), IN("{\"a\":0x10}"), IN("{\"a\":NaN}"),
                   IN("{\"a\":Infinity}"), IN("{\"a\":-Infinity}"),
                   IN("{\"a\":1.5.5}"));
}

static void json_reads_long_reals(void **state)
{
    apr_pool_t *p = *state;
    char *text = text_buffer(p, 400);
    apr_size_t n;
    json_t *j, *theirs;

    /* Longer than the reader's stack copy of a number. */
    n = (apr_size_t)sprintf(text, "{\"a\":0.%0200d1}", 0);
    j = authos_json_parse_object(p, text, n);
    assert_non_null(j);
    assert_true(json_is_real(json_object_get(j, "a")));
    theirs = jansson_object(text, n);
    assert_true(json_equal(j, theirs));
    json_decref(theirs);
    json_decref(j);
}

static void json_reads_literals_exactly(void **state)
{
    assert_accepted(*state, IN("{\"t\":true,\"f\":false,\"n\":null}"),
                    IN("{\"t\":[true,false,null]}"));
    assert_refused(*state, IN("{\"t\":True}"), IN("{\"t\":truex}"),
                   IN("{\"t\":tru}"), IN("{\"t\":nul}"), IN("{\"t\":[true1]}"),
                   IN("{\"t\":falsey}"), IN("{\"t\":undefined}"));
}

/* A member a nested in depth - 1 arrays holding 1 (depth values deep
 * under the top object, which counts as one). */
static char *nested(apr_pool_t *p, int arrays, apr_size_t *len)
{
    char *text = text_buffer(p, (apr_size_t)arrays * 2 + 16);
    apr_size_t n = 0;
    int i;

    n += (apr_size_t)sprintf(text, "{\"a\":");
    for (i = 0; i < arrays; i++) {
        text[n++] = '[';
    }
    text[n++] = '1';
    for (i = 0; i < arrays; i++) {
        text[n++] = ']';
    }
    text[n++] = '}';
    text[n] = '\0';
    *len = n;
    return text;
}

static void json_nests_as_deep_as_jansson(void **state)
{
    apr_size_t len;
    char *text;
    json_t *ours, *theirs;

    /* The top object, 2046 arrays and the 1: 2048 values deep. */
    text = nested(*state, JSON_PARSER_MAX_DEPTH - 2, &len);
    ours = authos_json_parse_object(*state, text, len);
    theirs = jansson_object(text, len);
    assert_non_null(ours);
    assert_non_null(theirs);
    json_decref(ours);
    json_decref(theirs);
    /* One more level: both refuse. */
    text = nested(*state, JSON_PARSER_MAX_DEPTH - 1, &len);
    assert_null(authos_json_parse_object(*state, text, len));
    assert_null(jansson_object(text, len));
    /* Far deeper: refused without exhausting the stack. */
    text = nested(*state, 100000, &len);
    assert_null(authos_json_parse_object(*state, text, len));
}

static void json_object_is_released_with_its_pool(void **state)
{
    apr_pool_t *sub = NULL;
    json_t *j;
    static const char good[] = "{\"a\":[1,{\"b\":\"c\"}]}";

    assert_int_equal(apr_pool_create(&sub, *state), APR_SUCCESS);
    j = authos_json_object(sub, good, sizeof(good) - 1);
    assert_non_null(j);
    assert_int_equal(j->refcount, 1);
    assert_null(authos_json_object(sub, good, sizeof(good) - 2));
    /* valgrind (make valgrind-unit) sees the object freed here. */
    apr_pool_destroy(sub);
}

static void json_reads_only_len_bytes(void **state)
{
    static const char text[] = "{\"a\":1}garbage";
    json_t *j = authos_json_parse_object(*state, text, 7);

    assert_non_null(j);
    json_decref(j);
    assert_null(authos_json_parse_object(*state, text, 6));
    assert_null(authos_json_parse_object(*state, text, 8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_pool_test(json_reads_a_token_payload),
        unit_pool_test(json_allows_rfc8259_whitespace_only),
        unit_pool_test(json_refuses_anything_but_one_object),
        unit_pool_test(json_refuses_duplicate_members),
        unit_pool_test(json_decodes_escapes),
        unit_pool_test(json_decodes_long_escaped_strings),
        unit_pool_test(json_refuses_bad_escapes_and_surrogates),
        unit_pool_test(json_refuses_nul_characters),
        unit_pool_test(json_refuses_control_characters_and_bad_utf8),
        unit_pool_test(json_reads_numbers_as_jansson_does),
        unit_pool_test(json_reads_long_reals),
        unit_pool_test(json_reads_literals_exactly),
        unit_pool_test(json_nests_as_deep_as_jansson),
        unit_pool_test(json_object_is_released_with_its_pool),
        unit_pool_test(json_reads_only_len_bytes),
    };

    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}

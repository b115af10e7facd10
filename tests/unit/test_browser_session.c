/*
 * test_browser_session.c: what the browser sign-in flow (SPEC section 11,
 * src/authos_browser.h) carries: the state and its cookie, the callback
 * form, the constant-time comparison, the cookie attributes and the error
 * page's text. Expected outputs are written out in full; the base64url of
 * a cookie comes from unit_b64url (OpenSSL), not from the code under test.
 * (Accept, return paths, origins, the login redirect: test_browser_url.c.)
 */
#include "unit_helpers.h"

#include <limits.h>

#include "authos_b64url.h"
#include "authos_browser.h"

/* ------------------------------------------------------------------ */
/* authos_state_new                                                    */
/* ------------------------------------------------------------------ */

static int is_b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void assert_b64url_state(const char *s)
{
    size_t i;

    assert_non_null(s);
    assert_int_equal(strlen(s), 43);
    for (i = 0; i < 43; i++) {
        assert_true(is_b64url_char(s[i]));
    }
}

static void state_new_is_43_random_b64url_chars(void **state)
{
    apr_pool_t *p = *state;
    const char *a = authos_state_new(p), *b = authos_state_new(p);
    unsigned char *raw = NULL;
    apr_size_t len = 0;

    assert_b64url_state(a);
    assert_b64url_state(b);
    assert_string_not_equal(a, b);
    assert_int_equal(authos_b64url_decode(p, a, strlen(a), &raw, &len),
                     APR_SUCCESS);
    assert_int_equal(len, AUTHOS_STATE_BYTES);
}

/* ------------------------------------------------------------------ */
/* authos_state_cookie_value / authos_state_cookie_parse               */
/* ------------------------------------------------------------------ */

/* The base64url of n bytes 0, 1, 2, ... (n <= 64). */
static const char *test_state(apr_pool_t *p, size_t n)
{
    unsigned char raw[64];
    size_t i;

    for (i = 0; i < n; i++) {
        raw[i] = (unsigned char)(i * 7 + 3);
    }
    return unit_b64url(p, raw, n);
}

/* value is refused: 0, *state NULL, *return_path "/". */
static void assert_cookie_refused(apr_pool_t *p, const char *value)
{
    const char *st = "unset", *ret = "unset";

    if (authos_state_cookie_parse(p, value, &st, &ret) != 0) {
        fail_msg("state cookie \"%s\" is accepted", value ? value : "(null)");
    }
    assert_null(st);
    assert_string_equal(ret, "/");
}

static void state_cookie_value_format(void **state)
{
    apr_pool_t *p = *state;
    const char *s = test_state(p, AUTHOS_STATE_BYTES);

    assert_string_equal(
        authos_state_cookie_value(p, s, "/a?b"),
        apr_pstrcat(p, s, ".", unit_b64url_str(p, "/a?b"), NULL));
    assert_string_equal(authos_state_cookie_value(p, "S", "/"), "S.Lw");
    assert_string_equal(authos_state_cookie_value(p, "S", "/a?b"), "S.L2E_Yg");
}

static void state_cookie_round_trips(void **state)
{
    apr_pool_t *p = *state;
    static const char *const paths[] = {
        "/", "/a", "/a?b=c&d=e", "/~x/y.html?z=%2F", "/?",
    };
    const char *fresh = authos_state_new(p);
    char *longest = apr_palloc(p, AUTHOS_RETURN_MAX + 1);
    size_t i;

    memset(longest, 'z', AUTHOS_RETURN_MAX);
    longest[0] = '/';
    longest[AUTHOS_RETURN_MAX] = '\0';
    for (i = 0; i <= UNIT_NELTS(paths); i++) {
        const char *path = i < UNIT_NELTS(paths) ? paths[i] : longest;
        const char *value = authos_state_cookie_value(p, fresh, path);
        const char *st = NULL, *ret = NULL;

        assert_int_equal(authos_state_cookie_parse(p, value, &st, &ret), 1);
        assert_string_equal(st, fresh);
        assert_string_equal(ret, path);
    }
    /* The whole cookie stays well under what browsers keep. */
    assert_true(strlen(AUTHOS_STATE_COOKIE) + 1
                    + strlen(authos_state_cookie_value(p, fresh, longest))
                < AUTHOS_COOKIE_MAX);
}

static void state_cookie_return_goes_through_safe_return(void **state)
{
    apr_pool_t *p = *state;
    const char *s = test_state(p, AUTHOS_STATE_BYTES);
    static const struct {
        const char *stored;
        const char *returned;
    } cases[] = {
        {"//evil.example", "/"},
        {"/\\evil.example", "/"},
        {"https://evil.example/", "/"},
        {"javascript:alert(1)", "/"},
        {"a", "/"},
        {"/a b", "/"},
        {"/a\x7f", "/"},
        {"/a#frag", "/a"},
    };
    size_t i;

    for (i = 0; i < UNIT_NELTS(cases); i++) {
        const char *value =
            apr_pstrcat(p, s, ".", unit_b64url_str(p, cases[i].stored), NULL);
        const char *st = NULL, *ret = NULL;

        /* A forged return path is not an error: it is made harmless. */
        assert_int_equal(authos_state_cookie_parse(p, value, &st, &ret), 1);
        assert_string_equal(st, s);
        assert_string_equal(ret, cases[i].returned);
    }
}

static void state_cookie_refuses_malformed(void **state)
{
    apr_pool_t *p = *state;
    const char *s = test_state(p, AUTHOS_STATE_BYTES);
    const char *ret = unit_b64url_str(p, "/a");
    char zeros[44];
    static const char nul_path[] = {'/', 'a', '\0', 'b'};
    const char *st = NULL, *r = NULL;

    /* The pieces are right, so only each mutation below is refused. */
    assert_int_equal(strlen(s), 43);
    assert_string_equal(ret, "L2E");

    assert_cookie_refused(p, NULL);
    assert_cookie_refused(p, "");
    assert_cookie_refused(p, ".");
    assert_cookie_refused(p, "..");
    /* No dot. */
    assert_cookie_refused(p, s);
    assert_cookie_refused(p, apr_pstrcat(p, s, ret, NULL));
    /* A state that is not 32 bytes of base64url. */
    assert_cookie_refused(p, apr_pstrcat(p, ".", ret, NULL));
    assert_cookie_refused(p, apr_pstrcat(p, test_state(p, 31), ".", ret, NULL));
    assert_cookie_refused(p, apr_pstrcat(p, test_state(p, 33), ".", ret, NULL));
    assert_cookie_refused(p,
                          apr_pstrcat(p, test_state(p, 31), "=.", ret, NULL));
    assert_cookie_refused(p, apr_pstrcat(p, s, "=.", ret, NULL));
    assert_cookie_refused(p, apr_pstrcat(p, " ", s, ".", ret, NULL));
    assert_cookie_refused(
        p, apr_pstrcat(p, apr_pstrmemdup(p, s, 42), "+.", ret, NULL));
    assert_cookie_refused(
        p, apr_pstrcat(p, apr_pstrmemdup(p, s, 42), "/.", ret, NULL));
    /* 43 characters but non-zero trailing bits: not the one spelling of
     * 32 zero bytes ("A" x 43). */
    memset(zeros, 'A', 43);
    zeros[43] = '\0';
    assert_int_equal(authos_state_cookie_parse(
                         p, apr_pstrcat(p, zeros, ".", ret, NULL), &st, &r),
                     1);
    assert_string_equal(st, zeros);
    assert_string_equal(r, "/a");
    zeros[42] = 'B';
    assert_cookie_refused(p, apr_pstrcat(p, zeros, ".", ret, NULL));
    /* The return path: empty, not base64url, a NUL inside. */
    assert_cookie_refused(p, apr_pstrcat(p, s, ".", NULL));
    assert_cookie_refused(p, apr_pstrcat(p, s, ".L2E=", NULL));
    assert_cookie_refused(p, apr_pstrcat(p, s, ".L2E ", NULL));
    assert_cookie_refused(p, apr_pstrcat(p, s, ".L2E+", NULL));
    assert_cookie_refused(p, apr_pstrcat(p, s, ".%2F", NULL));
    assert_cookie_refused(p, apr_pstrcat(p, s, ".L2EL2", NULL));
    assert_cookie_refused(p, apr_pstrcat(p, s, ".L2F", NULL));
    assert_cookie_refused(p, apr_pstrcat(p, s, ".", ret, ".", ret, NULL));
    assert_cookie_refused(p, apr_pstrcat(p, s, ".", ret, ".", NULL));
    assert_cookie_refused(
        p, apr_pstrcat(p, s, ".", unit_b64url(p, nul_path, sizeof(nul_path)),
                       NULL));
    assert_cookie_refused(p, apr_pstrcat(p, s, ".AA", NULL));
    /* The parts swapped. */
    assert_cookie_refused(p, apr_pstrcat(p, ret, ".", s, NULL));
}

/* ------------------------------------------------------------------ */
/* authos_secure_streq                                                 */
/* ------------------------------------------------------------------ */

static void secure_streq(void **state)
{
    char a[] = "abcdef", b[] = "abcdef";

    (void)state;
    /* Equal contents in different buffers. */
    assert_int_equal(authos_secure_streq(a, b), 1);
    assert_int_equal(authos_secure_streq(a, a), 1);
    assert_int_equal(authos_secure_streq("", ""), 1);
    /* Different anywhere. */
    assert_int_equal(authos_secure_streq("abcdef", "xbcdef"), 0);
    assert_int_equal(authos_secure_streq("abcdef", "abcxef"), 0);
    assert_int_equal(authos_secure_streq("abcdef", "abcdex"), 0);
    assert_int_equal(authos_secure_streq("abc", "ABC"), 0);
    /* Different lengths, either way, prefixes included. */
    assert_int_equal(authos_secure_streq("abc", "abcd"), 0);
    assert_int_equal(authos_secure_streq("abcd", "abc"), 0);
    assert_int_equal(authos_secure_streq("", "a"), 0);
    assert_int_equal(authos_secure_streq("a", ""), 0);
    /* NULL is never equal, not even to NULL. */
    assert_int_equal(authos_secure_streq(NULL, "a"), 0);
    assert_int_equal(authos_secure_streq("a", NULL), 0);
    assert_int_equal(authos_secure_streq(NULL, ""), 0);
    assert_int_equal(authos_secure_streq(NULL, NULL), 0);
}

/* ------------------------------------------------------------------ */
/* authos_form_fields                                                  */
/* ------------------------------------------------------------------ */

static const char *const form_names[] = {"access_token", "state", "error"};

/* Parse body (strlen) for form_names; 1 and v[] filled, or 0. */
static int form(apr_pool_t *p, const char *body, const char **v)
{
    v[0] = v[1] = v[2] = "unset";
    return authos_form_fields(p, body, strlen(body), form_names, v, 3);
}

/* body parses to the three values. */
static void assert_form(apr_pool_t *p, const char *body, const char *token,
                        const char *st, const char *error)
{
    const char *v[3];

    if (form(p, body, v) != 1) {
        fail_msg("form \"%s\" is refused", body);
    }
    assert_string_equal(v[0], token);
    assert_string_equal(v[1], st);
    assert_string_equal(v[2], error);
}

static void assert_form_refused(apr_pool_t *p, const char *body)
{
    const char *v[3];

    if (form(p, body, v) != 0) {
        fail_msg("form \"%s\" is accepted", body);
    }
}

static void form_fields_in_any_order(void **state)
{
    apr_pool_t *p = *state;

    assert_form(p, "access_token=T&state=S&error=E", "T", "S", "E");
    assert_form(p, "error=E&state=S&access_token=T", "T", "S", "E");
    assert_form(p, "state=S&error=E&access_token=T", "T", "S", "E");
    assert_form(p, "access_token=T&state=S&error=", "T", "S", "");
    assert_form(p, "x=1&access_token=T&y=2&state=S&z=3", "T", "S", "");
}

static void form_fields_decodes(void **state)
{
    apr_pool_t *p = *state;

    assert_form(p, "state=a+b++c", "", "a b  c", "");
    assert_form(p, "state=%41%2b%2B%7e%7E%25%26%3D", "", "A++~~%&=", "");
    assert_form(p, "state=%20+%2B", "", "  +", "");
    assert_form(p, "state=%C3%A9%ff", "", "\xc3\xa9\xff", "");
    /* Names are decoded too. */
    assert_form(p, "st%61te=S&access%5Ftoken=T", "T", "S", "");
    assert_form(p, "error+=E&state=S", "", "S", "");
    /* Only the first '=' splits. */
    assert_form(p, "state=a=b&access_token==", "=", "a=b", "");
    /* An encoded '&' or '=' is data. */
    assert_form(p, "state=a%26error%3Dx", "", "a&error=x", "");
    /* Names are case-sensitive. */
    assert_form(p, "State=S&ERROR=E", "", "", "");
}

static void form_fields_missing_names_are_empty(void **state)
{
    apr_pool_t *p = *state;
    const char *v[3] = {"unset", "unset", "unset"};

    assert_form(p, "", "", "", "");
    assert_form(p, "other=1", "", "", "");
    assert_form(p, "state=S", "", "S", "");
    /* A zero-length body needs no bytes at all. */
    assert_int_equal(authos_form_fields(p, "", 0, form_names, v, 3), 1);
    assert_string_equal(v[0], "");
    assert_string_equal(v[1], "");
    assert_string_equal(v[2], "");
    /* No names wanted: only the syntax is checked. */
    assert_int_equal(authos_form_fields(p, "a=1&a=2", 7, form_names, v, 0), 1);
    assert_int_equal(authos_form_fields(p, "a=%", 3, form_names, v, 0), 0);
}

static void form_fields_duplicates(void **state)
{
    apr_pool_t *p = *state;

    /* A wanted name twice: refused, whatever the values. */
    assert_form_refused(p, "state=a&state=b");
    assert_form_refused(p, "state=a&state=a");
    assert_form_refused(p, "state=&state=");
    assert_form_refused(p, "state&state");
    assert_form_refused(p, "state=a&x=1&state=b");
    assert_form_refused(p, "access_token=T&state=S&access_token=U");
    assert_form_refused(p, "error=a&error=b");
    /* Also when spelled differently. */
    assert_form_refused(p, "state=a&st%61te=b");
    assert_form_refused(p, "state=a&%73%74%61%74%65=b");
    /* Other names may repeat. */
    assert_form(p, "x=1&x=2&state=S&x=3", "", "S", "");
    assert_form(p, "=1&=2&state=S", "", "S", "");
    assert_form(p, "x&x&state=S", "", "S", "");
}

static void form_fields_bad_escapes(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {
        "state=%",    "state=%4",    "state=%zz",   "state=%4g",  "state=%g4",
        "state=%00",  "state=a%",    "state=a%4",   "state=%%41", "state=% 41",
        "state=%+41", "state=%-1",   "%=1&state=S", "%4=1",       "x%zz=1",
        "x=%00",      "x=%&state=S", "%00=1",       "state%=S",   "state=S&x=%",
    };
    size_t i;

    for (i = 0; i < UNIT_NELTS(bad); i++) {
        assert_form_refused(p, bad[i]);
    }
    /* The escape must fit inside its pair: "%4&1" is not "%4" + "&1". */
    assert_form_refused(p, "state=%4&1");
    /* "%4" at the end of the given length, though the buffer goes on. */
    {
        const char *v[3];
        assert_int_equal(
            authos_form_fields(p, "state=%41", 8, form_names, v, 3), 0);
        assert_int_equal(
            authos_form_fields(p, "state=%41", 9, form_names, v, 3), 1);
        assert_string_equal(v[1], "A");
    }
}

static void form_fields_refuses_nul(void **state)
{
    apr_pool_t *p = *state;
    const char *v[3];
    static const char value_nul[] = "state=a\0b";
    static const char name_nul[] = "st\0ate=a";
    static const char other_nul[] = "x=\0&state=S";

    assert_int_equal(authos_form_fields(p, value_nul, sizeof(value_nul) - 1,
                                        form_names, v, 3),
                     0);
    assert_int_equal(
        authos_form_fields(p, name_nul, sizeof(name_nul) - 1, form_names, v, 3),
        0);
    assert_int_equal(authos_form_fields(p, other_nul, sizeof(other_nul) - 1,
                                        form_names, v, 3),
                     0);
    /* Up to the NUL, it is fine. */
    assert_int_equal(authos_form_fields(p, value_nul, 7, form_names, v, 3), 1);
    assert_string_equal(v[1], "a");
}

static void form_fields_empty_pairs_and_no_equals(void **state)
{
    apr_pool_t *p = *state;

    assert_form(p, "&&state=S&&", "", "S", "");
    assert_form(p, "&", "", "", "");
    assert_form(p, "&&&", "", "", "");
    assert_form(p, "state=S&&&access_token=T", "T", "S", "");
    /* A pair with no '=': the name with an empty value. */
    assert_form(p, "state", "", "", "");
    assert_form(p, "state&access_token=T", "T", "", "");
    assert_form(p, "access_token=T&error", "T", "", "");
    assert_form(p, "state=", "", "", "");
    assert_form(p, "=", "", "", "");
    assert_form(p, "=x", "", "", "");
}

static void form_fields_reads_only_len_bytes(void **state)
{
    apr_pool_t *p = *state;
    const char *v[3];
    /* Not NUL-terminated where it ends. */
    char body[] = {'s', 't', 'a', 't', 'e', '=', 'a', 'b', 'c',
                   '&', 'e', 'r', 'r', 'o', 'r', '=', 'x'};

    assert_int_equal(authos_form_fields(p, body, 9, form_names, v, 3), 1);
    assert_string_equal(v[1], "abc");
    assert_string_equal(v[2], "");
    assert_int_equal(authos_form_fields(p, body, 7, form_names, v, 3), 1);
    assert_string_equal(v[1], "a");
    assert_int_equal(
        authos_form_fields(p, body, sizeof(body), form_names, v, 3), 1);
    assert_string_equal(v[1], "abc");
    assert_string_equal(v[2], "x");
    /* Values do not alias the body. */
    body[6] = 'Z';
    assert_string_equal(v[1], "abc");
}

static void form_fields_as_the_callback_page_sends_it(void **state)
{
    apr_pool_t *p = *state;
    const char *tok = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln-_";
    const char *st = authos_state_new(p);

    assert_form(
        p, apr_pstrcat(p, "access_token=", tok, "&state=", st, "&error=", NULL),
        tok, st, "");
    assert_form(p, "access_token=&state=S&error=access_denied", "", "S",
                "access_denied");
}

/* ------------------------------------------------------------------ */
/* authos_cookie                                                       */
/* ------------------------------------------------------------------ */

static void cookie_format(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(authos_cookie(p, "authos_session", "abc.def", 3600),
                        "authos_session=abc.def; Path=/; Max-Age=3600; "
                        "HttpOnly; Secure; SameSite=Lax");
    assert_string_equal(
        authos_cookie(p, AUTHOS_STATE_COOKIE, "s.r", AUTHOS_STATE_COOKIE_AGE),
        "__Host-authos-login=s.r; Path=/; Max-Age=600; "
        "HttpOnly; Secure; SameSite=Lax");
    assert_string_equal(authos_cookie(p, "c", "v", 1),
                        "c=v; Path=/; Max-Age=1; HttpOnly; Secure; "
                        "SameSite=Lax");
    assert_string_equal(authos_cookie(p, "c", "v", 1099511627776LL),
                        "c=v; Path=/; Max-Age=1099511627776; HttpOnly; "
                        "Secure; SameSite=Lax");
}

static void cookie_clearing(void **state)
{
    apr_pool_t *p = *state;
    static const char cleared[] =
        "c=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax";

    assert_string_equal(authos_cookie(p, "c", "", 0), cleared);
    /* A negative max-age also clears, as 0. */
    assert_string_equal(authos_cookie(p, "c", "", -1), cleared);
    assert_string_equal(authos_cookie(p, "c", "", -3600), cleared);
    assert_string_equal(authos_cookie(p, "c", "", LLONG_MIN), cleared);
}

/* ------------------------------------------------------------------ */
/* authos_login_error_text                                             */
/* ------------------------------------------------------------------ */

static void login_error_text_known_codes(void **state)
{
    static const struct {
        const char *code;
        const char *text;
    } known[] = {
        {"access_denied", "access was denied"},
        {"login_required", "you need to sign in"},
        {"consent_required", "consent is required"},
        {"interaction_required", "the sign-in needs your interaction"},
        {"invalid_request", "the sign-in request was not valid"},
        {"unauthorized_client", "this site may not ask for a sign-in"},
        {"invalid_scope", "the requested scope is not valid"},
        {"server_error", "AuthOS had an internal error"},
        {"temporarily_unavailable", "AuthOS is temporarily unavailable"},
        {"mfa_required", "multi-factor authentication is required"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < UNIT_NELTS(known); i++) {
        const char *got = authos_login_error_text(known[i].code);

        assert_non_null(got);
        assert_string_equal(got, known[i].text);
    }
}

static void login_error_text_unknown_codes(void **state)
{
    static const char *const unknown[] = {
        "",
        "ACCESS_DENIED",
        "Access_denied",
        "access_denied ",
        " access_denied",
        "access_denied\n",
        "access",
        "access_deniedx",
        "unsupported_response_type",
        "<script>alert(1)</script>",
        "access was denied",
    };
    size_t i;

    (void)state;
    assert_null(authos_login_error_text(NULL));
    for (i = 0; i < UNIT_NELTS(unknown); i++) {
        if (authos_login_error_text(unknown[i]) != NULL) {
            fail_msg("\"%s\" has a text", unknown[i]);
        }
    }
}

/* ------------------------------------------------------------------ */
/* authos_html_escape                                                  */
/* ------------------------------------------------------------------ */

static void html_escape(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(authos_html_escape(p, "&<>\"'"),
                        "&amp;&lt;&gt;&quot;&#39;");
    assert_string_equal(authos_html_escape(p, ""), "");
    assert_string_equal(authos_html_escape(p, "plain text /?=;:"),
                        "plain text /?=;:");
    assert_string_equal(authos_html_escape(p, "caf\xc3\xa9"), "caf\xc3\xa9");
    assert_string_equal(
        authos_html_escape(p, "<a href=\"x\" title='y'>O'Neil & co</a>"),
        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;O&#39;Neil &amp; "
        "co&lt;/a&gt;");
    /* Not idempotent: an entity is escaped again. */
    assert_string_equal(authos_html_escape(p, "&amp;"), "&amp;amp;");
    assert_string_equal(authos_html_escape(p, "a&b"), "a&amp;b");
}

static void html_escape_sizes_its_output(void **state)
{
    apr_pool_t *p = *state;
    char in[1001];
    const char *out;
    size_t i;

    /* The longest replacement, "&quot;" (6 bytes), for every byte. */
    memset(in, '"', 1000);
    in[1000] = '\0';
    out = authos_html_escape(p, in);
    assert_int_equal(strlen(out), 6000);
    for (i = 0; i < 1000; i++) {
        assert_memory_equal(out + 6 * i, "&quot;", 6);
    }
    memset(in, '\'', 1000);
    out = authos_html_escape(p, in);
    assert_int_equal(strlen(out), 5000);
    memset(in, '<', 1000);
    assert_int_equal(strlen(authos_html_escape(p, in)), 4000);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_pool_test(state_new_is_43_random_b64url_chars),
        unit_pool_test(state_cookie_value_format),
        unit_pool_test(state_cookie_round_trips),
        unit_pool_test(state_cookie_return_goes_through_safe_return),
        unit_pool_test(state_cookie_refuses_malformed),
        cmocka_unit_test(secure_streq),
        unit_pool_test(form_fields_in_any_order),
        unit_pool_test(form_fields_decodes),
        unit_pool_test(form_fields_missing_names_are_empty),
        unit_pool_test(form_fields_duplicates),
        unit_pool_test(form_fields_bad_escapes),
        unit_pool_test(form_fields_refuses_nul),
        unit_pool_test(form_fields_empty_pairs_and_no_equals),
        unit_pool_test(form_fields_reads_only_len_bytes),
        unit_pool_test(form_fields_as_the_callback_page_sends_it),
        unit_pool_test(cookie_format),
        unit_pool_test(cookie_clearing),
        cmocka_unit_test(login_error_text_known_codes),
        cmocka_unit_test(login_error_text_unknown_codes),
        unit_pool_test(html_escape),
        unit_pool_test(html_escape_sizes_its_output),
    };

    return cmocka_run_group_tests_name("browser_session", tests, NULL, NULL);
}

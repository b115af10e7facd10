/*
 * test_browser_url.c: where the browser sign-in flow (SPEC section 11,
 * src/authos_browser.h) sends a browser: which requests get the login page
 * (Accept), same-origin return paths, origins and loopback hosts, and the
 * login redirect. Expected outputs are written out in full.
 * (The state, its cookie, the callback form and the cookie attributes:
 * test_browser_session.c.)
 */
#include "unit_helpers.h"

#include "authos_browser.h"

/* ------------------------------------------------------------------ */
/* authos_accepts_html                                                 */
/* ------------------------------------------------------------------ */

/* Each of the n headers gives want. */
static void assert_accepts(const char *const *headers, size_t n, int want)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (authos_accepts_html(headers[i]) != want) {
            fail_msg("authos_accepts_html(\"%s\") is not %d", headers[i], want);
        }
    }
}

/* Chrome's Accept header when it navigates to a page. */
static const char chrome_accept[] =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
    "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";

static void accepts_html_explicit_text_html(void **state)
{
    static const char *const yes[] = {
        "text/html",
        "TEXT/HTML",
        "Text/Html",
        /* Firefox's and Chrome's navigation headers. */
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        chrome_accept,
        "application/json, text/html",
        "application/json,text/html;q=0.1",
        "*/*, text/html",
    };

    (void)state;
    assert_accepts(yes, UNIT_NELTS(yes), 1);
}

static void accepts_html_wildcards_alone_do_not_count(void **state)
{
    static const char *const no[] = {
        "*/*",
        "text/*",
        "text/*, */*",
        "*/*;q=1",
        "text/*;q=1.0",
        "application/json",
        "application/json, */*;q=0.5",
        "text/plain",
        "application/xhtml+xml",
    };

    (void)state;
    assert_accepts(no, UNIT_NELTS(no), 0);
}

static void accepts_html_q_zero_refuses(void **state)
{
    static const char *const no[] = {
        "text/html;q=0",
        "text/html;q=0.",
        "text/html;q=0.0",
        "text/html;q=0.000",
        "text/html; q=0",
        "text/html ;q=0",
        "text/html;Q=0",
        "text/html;q=0 ",
        "text/html;level=1;q=0",
        "text/html;q=0;level=1",
        "text/html;q=0, application/json",
        "*/*, text/html;q=0",
    };
    static const char *const yes[] = {
        "text/html;q=0.5",
        "text/html;q=0.001",
        "text/html;q=1",
        "text/html;q=1.000",
        "text/html; q=0.9",
        "text/html;Q=0.1",
        /* Another text/html element without q=0 still counts. */
        "text/html;q=0, text/html",
        /* Parameters that are not q. */
        "text/html;level=1",
        "text/html; charset=utf-8",
        "text/html;qs=0",
        "text/html;q",
    };

    (void)state;
    assert_accepts(no, UNIT_NELTS(no), 0);
    assert_accepts(yes, UNIT_NELTS(yes), 1);
}

static void accepts_html_media_type_must_match_exactly(void **state)
{
    static const char *const no[] = {
        "text/htmlx",
        "text/html5",
        "text/html-fragment",
        "text/htm",
        "xtext/html",
        "atext/html",
        "application/text/html",
        "text/ html",
        "text /html",
        "texthtml",
        "html",
        "text/xhtml",
    };

    (void)state;
    assert_accepts(no, UNIT_NELTS(no), 0);
}

static void accepts_html_whitespace_and_empty_elements(void **state)
{
    static const char *const yes[] = {
        "  text/html",
        "text/html  ",
        "\ttext/html\t",
        "application/json ,  text/html",
        "application/json,\ttext/html ;q=0.5",
        ",,text/html",
        "text/html,,",
        " , text/html , ",
        "text/html;",
        "text/html;;",
    };
    static const char *const no[] = {
        "", ",", " ", ",,,", " , , ", ";", ";q=1", "\t",
    };

    (void)state;
    assert_accepts(yes, UNIT_NELTS(yes), 1);
    assert_accepts(no, UNIT_NELTS(no), 0);
    assert_int_equal(authos_accepts_html(NULL), 0);
}

static void accepts_html_long_header(void **state)
{
    apr_pool_t *p = *state;
    const char *h = "";
    int i;

    for (i = 0; i < 400; i++) {
        h = apr_psprintf(p, "%sapplication/x-type-%d;q=0.%03d, ", h, i, i);
    }
    assert_true(strlen(h) > 8000);
    assert_int_equal(authos_accepts_html(h), 0);
    assert_int_equal(authos_accepts_html(apr_pstrcat(p, h, "text/html", NULL)),
                     1);
    assert_int_equal(
        authos_accepts_html(apr_pstrcat(p, h, "text/html;q=0", NULL)), 0);
    assert_int_equal(
        authos_accepts_html(apr_pstrcat(p, "text/html, ", h, NULL)), 1);
}

/* ------------------------------------------------------------------ */
/* authos_safe_return                                                  */
/* ------------------------------------------------------------------ */

static void safe_return_keeps_local_paths(void **state)
{
    apr_pool_t *p = *state;
    static const char *const kept[] = {
        "/",
        "/a",
        "/a?b",
        "/a/b/c?x=1&y=2",
        "/a?next=//evil.example",
        "/a?u=https://evil.example",
        "/%2F%2Fevil.example",
        "/.",
        "/~user/x.html",
        "/a:b@c;d=e,f!g$h'i(j)k*l+m",
        "/?",
    };
    size_t i;

    for (i = 0; i < UNIT_NELTS(kept); i++) {
        assert_string_equal(authos_safe_return(p, kept[i]), kept[i]);
    }
}

static void safe_return_cuts_the_fragment(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(authos_safe_return(p, "/a#frag"), "/a");
    assert_string_equal(authos_safe_return(p, "/a?b#c"), "/a?b");
    assert_string_equal(authos_safe_return(p, "/a?b#c//evil"), "/a?b");
    assert_string_equal(authos_safe_return(p, "/#x"), "/");
    assert_string_equal(authos_safe_return(p, "/a#"), "/a");
    /* Whatever follows the '#' is not kept, so it is not checked. */
    assert_string_equal(authos_safe_return(p, "/a#b c\\d\x01"), "/a");
}

static void safe_return_refuses_other_origins(void **state)
{
    apr_pool_t *p = *state;
    static const char *const refused[] = {
        "",
        "a",
        "a/b",
        "//evil.example",
        "//evil.example/path",
        "///evil.example",
        "/\\evil.example",
        "/\\/evil.example",
        "\\/evil.example",
        "\\\\evil.example",
        "https://x",
        "https://evil.example/a",
        "http://evil.example/",
        "javascript:alert(1)",
        "data:text/html,x",
        "?a=b",
        "#frag",
        " /a",
        ".",
        "./a",
    };
    size_t i;

    assert_string_equal(authos_safe_return(p, NULL), "/");
    for (i = 0; i < UNIT_NELTS(refused); i++) {
        if (strcmp(authos_safe_return(p, refused[i]), "/") != 0) {
            fail_msg("authos_safe_return(\"%s\") is not \"/\"", refused[i]);
        }
    }
}

static void safe_return_refuses_bad_bytes(void **state)
{
    apr_pool_t *p = *state;
    static const char *const refused[] = {
        "/a b",    "/a\tb",  "/a\nb",     "/a\rb",    "/a\x01",     "/\x1f",
        "/a\x7f",  "/a\x80", "/\xc3\xa9", "/a\xff",   "/a\\b",      "/a/\\b",
        "/a?x=\\", "/a?x= ", "/ ",        "/\t/evil", "/\r\n/evil",
    };
    char one[4];
    unsigned v;
    size_t i;

    for (i = 0; i < UNIT_NELTS(refused); i++) {
        if (strcmp(authos_safe_return(p, refused[i]), "/") != 0) {
            fail_msg("authos_safe_return of entry %u is not \"/\"",
                     (unsigned)i);
        }
    }
    /* Every byte value after "/a": exactly 0x21..0x7e but '\' is kept
     * ('#' cuts the path back to "/a"). */
    for (v = 1; v < 256; v++) {
        const char *got;

        one[0] = '/';
        one[1] = 'a';
        one[2] = (char)v;
        one[3] = '\0';
        got = authos_safe_return(p, one);
        if (v == '#') {
            assert_string_equal(got, "/a");
        }
        else if (v <= 0x20 || v >= 0x7f || v == '\\') {
            assert_string_equal(got, "/");
        }
        else {
            assert_string_equal(got, one);
        }
    }
}

static void safe_return_length_limit(void **state)
{
    apr_pool_t *p = *state;
    char *path = apr_palloc(p, AUTHOS_RETURN_MAX + 8);
    const char *got;

    /* Exactly AUTHOS_RETURN_MAX bytes: kept. */
    memset(path, 'a', AUTHOS_RETURN_MAX);
    path[0] = '/';
    path[AUTHOS_RETURN_MAX] = '\0';
    got = authos_safe_return(p, path);
    assert_int_equal(strlen(got), AUTHOS_RETURN_MAX);
    assert_string_equal(got, path);

    /* The limit is on what is kept: the fragment does not count. */
    memcpy(path + AUTHOS_RETURN_MAX, "#frag", 6);
    got = authos_safe_return(p, path);
    assert_int_equal(strlen(got), AUTHOS_RETURN_MAX);
    assert_memory_equal(got, path, AUTHOS_RETURN_MAX);

    /* One more byte: refused. */
    path[AUTHOS_RETURN_MAX] = 'a';
    path[AUTHOS_RETURN_MAX + 1] = '\0';
    assert_string_equal(authos_safe_return(p, path), "/");
}

static void safe_return_is_a_copy(void **state)
{
    apr_pool_t *p = *state;
    char path[] = "/abc";
    const char *got = authos_safe_return(p, path);

    path[1] = 'X';
    assert_string_equal(path, "/Xbc");
    assert_string_equal(got, "/abc");
}

/* ------------------------------------------------------------------ */
/* authos_url_origin                                                   */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *url;
    const char *origin; /* NULL: refused */
} origin_case_t;

static void assert_origins(apr_pool_t *p, const origin_case_t *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const char *got = authos_url_origin(p, c[i].url);

        if (c[i].origin == NULL) {
            if (got != NULL) {
                fail_msg("authos_url_origin(\"%s\") is \"%s\", not NULL",
                         c[i].url, got);
            }
        }
        else if (got == NULL || strcmp(got, c[i].origin) != 0) {
            fail_msg("authos_url_origin(\"%s\") is \"%s\", not \"%s\"",
                     c[i].url, got ? got : "(null)", c[i].origin);
        }
        else {
            /* An origin is its own origin. */
            assert_string_equal(authos_url_origin(p, got), got);
        }
    }
}

static void url_origin_basic(void **state)
{
    static const origin_case_t cases[] = {
        {"https://example.com", "https://example.com"},
        {"https://example.com/", "https://example.com"},
        {"http://example.com", "http://example.com"},
        {"https://app.example.com/a/b?c=d#e", "https://app.example.com"},
        {"https://x?y", "https://x"},
        {"https://x#y", "https://x"},
        {"https://x/a@b", "https://x"},
        {"https://x?u=a@b", "https://x"},
        {"https://x/?a=http://y", "https://x"},
        {"https://127.0.0.1/cb", "https://127.0.0.1"},
        {"https://a-b.c_d~e.example", "https://a-b.c_d~e.example"},
        {"https://example.com.", "https://example.com."},
    };

    assert_origins(*state, cases, UNIT_NELTS(cases));
}

static void url_origin_folds_case(void **state)
{
    static const origin_case_t cases[] = {
        {"HTTPS://EXAMPLE.COM", "https://example.com"},
        {"HtTpS://Example.Com/Path/KEPT?Q", "https://example.com"},
        {"HTTP://LOCALHOST:8080", "http://localhost:8080"},
        {"https://[FE80::AB]:8443", "https://[fe80::ab]:8443"},
    };

    assert_origins(*state, cases, UNIT_NELTS(cases));
}

static void url_origin_ports(void **state)
{
    static const origin_case_t cases[] = {
        /* The scheme's default port is left out... */
        {"https://x:443", "https://x"},
        {"https://x:443/a", "https://x"},
        {"http://x:80", "http://x"},
        {"http://x:80/", "http://x"},
        /* ... the other scheme's is not. */
        {"https://x:80", "https://x:80"},
        {"http://x:443", "http://x:443"},
        {"https://x:8443", "https://x:8443"},
        {"https://x:8443?y", "https://x:8443"},
        {"http://x:1", "http://x:1"},
        {"http://x:65535", "http://x:65535"},
        /* The port is a number: leading zeros go. */
        {"http://x:080", "http://x"},
        {"http://x:08080", "http://x:8080"},
        {"https://x:00443", "https://x"},
        /* Refused ports. */
        {"http://x:0", NULL},
        {"http://x:00000", NULL},
        {"http://x:65536", NULL},
        {"http://x:99999", NULL},
        {"http://x:123456", NULL},
        {"http://x:008080", NULL},
        {"http://x:", NULL},
        {"http://x:/", NULL},
        {"http://x:8a", NULL},
        {"http://x:a8", NULL},
        {"http://x:-1", NULL},
        {"http://x:+80", NULL},
        {"http://x:0x50", NULL},
        {"http://x:80:80", NULL},
        {"http://x::80", NULL},
    };

    assert_origins(*state, cases, UNIT_NELTS(cases));
}

static void url_origin_ipv6(void **state)
{
    static const origin_case_t cases[] = {
        {"http://[::1]", "http://[::1]"},
        {"http://[::1]/", "http://[::1]"},
        {"http://[::1]:80", "http://[::1]"},
        {"https://[::1]:8443/x", "https://[::1]:8443"},
        {"https://[2001:db8::1]:443/", "https://[2001:db8::1]"},
        {"http://[::1", NULL},
        {"http://[::1/x", NULL},
        {"http://[]", NULL},
        {"http://[]:80", NULL},
        {"http://[::1]x", NULL},
        {"http://[::1]:", NULL},
        {"http://[::1]:0", NULL},
        {"http://[::1]]", NULL},
        {"http://[fe80::1%25eth0]", NULL},
        /* Only an IPv6 address inside brackets, brackets only around one. */
        {"http://[evil.example]", NULL},
        {"http://[::1]evil", NULL},
        {"http://a]b", NULL},
        {"http://a[b", NULL},
        {"http://[::ffff:127.0.0.1]", "http://[::ffff:127.0.0.1]"},
    };

    assert_origins(*state, cases, UNIT_NELTS(cases));
}

static void url_origin_refuses_credentials(void **state)
{
    static const origin_case_t cases[] = {
        {"https://user@x", NULL},
        {"https://user:pw@x", NULL},
        {"https://user:pw@x:443/", NULL},
        {"https://@x", NULL},
        {"https://x@evil.example", NULL},
        {"https://x:443@evil.example", NULL},
        {"http://[::1]@evil.example", NULL},
    };

    assert_origins(*state, cases, UNIT_NELTS(cases));
}

static void url_origin_refuses_empty_host(void **state)
{
    static const origin_case_t cases[] = {
        {"https://", NULL},      {"https:///", NULL},  {"https:///path", NULL},
        {"https://?q", NULL},    {"https://#f", NULL}, {"https://:443", NULL},
        {"https://:443/", NULL}, {"http://:80", NULL},
    };

    assert_origins(*state, cases, UNIT_NELTS(cases));
}

static void url_origin_refuses_other_schemes(void **state)
{
    apr_pool_t *p = *state;
    static const origin_case_t cases[] = {
        {"", NULL},
        {"x", NULL},
        {"example.com", NULL},
        {"//example.com", NULL},
        {"/path", NULL},
        {"ftp://example.com", NULL},
        {"file:///etc/passwd", NULL},
        {"javascript:alert(1)", NULL},
        {"data:text/html,x", NULL},
        {"wss://example.com", NULL},
        {"httpx://example.com", NULL},
        {"https:example.com", NULL},
        {"https:/example.com", NULL},
        {"https:\\\\example.com", NULL},
        {"null", NULL},
    };

    assert_null(authos_url_origin(p, NULL));
    assert_origins(p, cases, UNIT_NELTS(cases));
}

static void url_origin_refuses_whitespace_and_odd_bytes(void **state)
{
    static const origin_case_t cases[] = {
        {" https://x", NULL},
        {"https://x ", NULL},
        {"https://x y", NULL},
        {"https:// x", NULL},
        {"https://x/a b", NULL},
        {"https://x?a b", NULL},
        {"https://x\t", NULL},
        {"https://x\n", NULL},
        {"https://x\r\n", NULL},
        {"https://x\x01", NULL},
        {"https://x\x7f", NULL},
        {"https://x\x80", NULL},
        {"https://\xc3\xa9.example", NULL},
        {"https://x\\y", NULL},
        {"https://x\\@y", NULL},
        {"https://x%2ey", NULL},
        {"https://x\"y", NULL},
        {"https://x<y", NULL},
        {"https://x,y", NULL},
    };

    assert_origins(*state, cases, UNIT_NELTS(cases));
}

/* ------------------------------------------------------------------ */
/* authos_url_is_loopback                                              */
/* ------------------------------------------------------------------ */

static void url_is_loopback(void **state)
{
    apr_pool_t *p = *state;
    static const char *const yes[] = {
        "http://localhost",
        "http://localhost/",
        "http://localhost:8080/cb",
        "https://localhost:443",
        "HTTP://LOCALHOST/",
        "http://LocalHost:1",
        "http://127.0.0.1",
        "https://127.0.0.1:8443/a?b",
        "http://[::1]",
        "http://[::1]/",
        "https://[::1]:8443/x",
    };
    static const char *const no[] = {
        "",
        "localhost",
        "//localhost",
        "ftp://localhost",
        "http://localhost.example",
        "http://localhost.",
        "http://localhostx",
        "http://xlocalhost",
        "http://evil-localhost",
        "http://127.0.0.10",
        "http://127.0.0.2",
        "http://127.0.0.1.evil.example",
        "http://127.1",
        "http://0.0.0.0",
        "http://[::2]",
        "http://[::1]x",
        "http://[0:0:0:0:0:0:0:1]",
        "http://localhost@evil.example",
        "http://evil.example@localhost",
        "http://evil.example/localhost",
        "http://evil.example?127.0.0.1",
        "http://evil.example#[::1]",
        "http://localhost:0",
        "http://localhost:99999",
        "http://local host",
    };
    size_t i;

    for (i = 0; i < UNIT_NELTS(yes); i++) {
        if (!authos_url_is_loopback(p, yes[i])) {
            fail_msg("\"%s\" is not seen as loopback", yes[i]);
        }
    }
    for (i = 0; i < UNIT_NELTS(no); i++) {
        if (authos_url_is_loopback(p, no[i])) {
            fail_msg("\"%s\" is seen as loopback", no[i]);
        }
    }
    assert_int_equal(authos_url_is_loopback(p, NULL), 0);
}

/* authos_login_location                                               */
/* ------------------------------------------------------------------ */

#define CB "https://app.example/cb"
#define CB_ENC "https%3A%2F%2Fapp.example%2Fcb"

static void login_location_appends_query(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(
        authos_login_location(p, "https://sso.example/login", CB, "abc"),
        "https://sso.example/login?redirect_uri=" CB_ENC "&state=abc");
    assert_string_equal(
        authos_login_location(p, "https://sso.example/login?client=x", CB,
                              "abc"),
        "https://sso.example/login?client=x&redirect_uri=" CB_ENC "&state=abc");
    assert_string_equal(authos_login_location(
                            p, "https://sso.example/login?a=1&b=2", CB, "abc"),
                        "https://sso.example/login?a=1&b=2&redirect_uri=" CB_ENC
                        "&state=abc");
}

static void login_location_trailing_separator(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(
        authos_login_location(p, "https://sso.example/login?", CB, "abc"),
        "https://sso.example/login?redirect_uri=" CB_ENC "&state=abc");
    assert_string_equal(
        authos_login_location(p, "https://sso.example/login?a=1&", CB, "abc"),
        "https://sso.example/login?a=1&redirect_uri=" CB_ENC "&state=abc");
}

static void login_location_drops_fragment(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal(
        authos_login_location(p, "https://sso.example/login#top", CB, "abc"),
        "https://sso.example/login?redirect_uri=" CB_ENC "&state=abc");
    assert_string_equal(
        authos_login_location(p, "https://sso.example/login?a=1#x", CB, "abc"),
        "https://sso.example/login?a=1&redirect_uri=" CB_ENC "&state=abc");
    /* A '?' in the fragment is not a query. */
    assert_string_equal(
        authos_login_location(p, "https://sso.example/login#?a=1", CB, "abc"),
        "https://sso.example/login?redirect_uri=" CB_ENC "&state=abc");
    assert_string_equal(
        authos_login_location(p, "https://sso.example/login?#", CB, "abc"),
        "https://sso.example/login?redirect_uri=" CB_ENC "&state=abc");
}

static void login_location_percent_encodes(void **state)
{
    apr_pool_t *p = *state;

    /* Everything but RFC 3986's unreserved characters, upper-case hex. */
    assert_string_equal(
        authos_login_location(p, "https://sso.example/login",
                              "https://app.example:8443/cb?x=1&y=a b#f",
                              "a-b_c.d~e"),
        "https://sso.example/login?redirect_uri="
        "https%3A%2F%2Fapp.example%3A8443%2Fcb%3Fx%3D1%26y%3Da%20b%23f"
        "&state=a-b_c.d~e");
    assert_string_equal(authos_login_location(p, "https://sso.example/login",
                                              "https://app.example/\xc3\xa9+%",
                                              "+/=&?#\x01\x7f\xff"),
                        "https://sso.example/login?redirect_uri="
                        "https%3A%2F%2Fapp.example%2F%C3%A9%2B%25"
                        "&state=%2B%2F%3D%26%3F%23%01%7F%FF");
    assert_string_equal(authos_login_location(p, "https://s/l", "", ""),
                        "https://s/l?redirect_uri=&state=");
}

static void login_location_with_a_real_state(void **state)
{
    apr_pool_t *p = *state;
    const char *s = authos_state_new(p);

    /* A base64url state needs no encoding. */
    assert_non_null(s);
    assert_string_equal(
        authos_login_location(p, "https://sso.example/login", CB, s),
        apr_pstrcat(
            p, "https://sso.example/login?redirect_uri=" CB_ENC "&state=", s,
            NULL));
}

/* ------------------------------------------------------------------ */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_html_explicit_text_html),
        cmocka_unit_test(accepts_html_wildcards_alone_do_not_count),
        cmocka_unit_test(accepts_html_q_zero_refuses),
        cmocka_unit_test(accepts_html_media_type_must_match_exactly),
        cmocka_unit_test(accepts_html_whitespace_and_empty_elements),
        unit_pool_test(accepts_html_long_header),
        unit_pool_test(safe_return_keeps_local_paths),
        unit_pool_test(safe_return_cuts_the_fragment),
        unit_pool_test(safe_return_refuses_other_origins),
        unit_pool_test(safe_return_refuses_bad_bytes),
        unit_pool_test(safe_return_length_limit),
        unit_pool_test(safe_return_is_a_copy),
        unit_pool_test(url_origin_basic),
        unit_pool_test(url_origin_folds_case),
        unit_pool_test(url_origin_ports),
        unit_pool_test(url_origin_ipv6),
        unit_pool_test(url_origin_refuses_credentials),
        unit_pool_test(url_origin_refuses_empty_host),
        unit_pool_test(url_origin_refuses_other_schemes),
        unit_pool_test(url_origin_refuses_whitespace_and_odd_bytes),
        unit_pool_test(url_is_loopback),
        unit_pool_test(login_location_appends_query),
        unit_pool_test(login_location_trailing_separator),
        unit_pool_test(login_location_drops_fragment),
        unit_pool_test(login_location_percent_encodes),
        unit_pool_test(login_location_with_a_real_state),
    };

    return cmocka_run_group_tests_name("browser_url", tests, NULL, NULL);
}

/*
 * test_browser.c: the httpd-free parts of the browser sign-in flow (SPEC
 * section 11, src/authos_browser.h): which requests get the login page,
 * same-origin return paths, origins and loopback hosts, the state and its
 * cookie, the login redirect, the callback form, the cookie attributes and
 * the error page's text. Expected outputs are written out in full; the
 * base64url of a cookie comes from unit_b64url (OpenSSL), not from the code
 * under test.
 */
#include "unit_helpers.h"

#include <limits.h>

#include "authos_b64url.h"
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
        unit_pool_test(state_new_is_43_random_b64url_chars),
        unit_pool_test(login_location_appends_query),
        unit_pool_test(login_location_trailing_separator),
        unit_pool_test(login_location_drops_fragment),
        unit_pool_test(login_location_percent_encodes),
        unit_pool_test(login_location_with_a_real_state),
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

    return cmocka_run_group_tests_name("browser", tests, NULL, NULL);
}

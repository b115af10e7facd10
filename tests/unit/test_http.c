/*
 * test_http.c: which URLs the fetcher may use (SPEC section 4: trust
 * settings never make the server fetch arbitrary URLs). Fetching itself is
 * covered by the integration suite against the stub AuthOS.
 */
#include "unit_helpers.h"

#include "authos_http.h"

/* None of the n urls is allowed, whether plain http is allowed or not. */
static void assert_refused_even_with_http(const char *const *urls, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        assert_false(authos_http_url_allowed(urls[i], 0));
        assert_false(authos_http_url_allowed(urls[i], 1));
    }
}

static void http_allows_https_urls(void **state)
{
    (void)state;
    assert_true(authos_http_url_allowed("https://auth.example.com", 0));
    assert_true(authos_http_url_allowed("https://auth.example.com/", 0));
    assert_true(authos_http_url_allowed(
        "https://auth.example.com:8443/.well-known/jwks.json", 0));
    assert_true(authos_http_url_allowed("https://127.0.0.1/jwks?x=1", 0));
    assert_true(authos_http_url_allowed("https://[::1]:8443/jwks", 0));
    /* The scheme is case-insensitive (RFC 3986 section 3.1). */
    assert_true(authos_http_url_allowed("HTTPS://auth.example.com/", 0));
    /* allow_http does not take https away. */
    assert_true(authos_http_url_allowed("https://auth.example.com/", 1));
}

static void http_allows_http_only_when_asked(void **state)
{
    (void)state;
    assert_false(authos_http_url_allowed("http://127.0.0.1:8080/jwks", 0));
    assert_true(authos_http_url_allowed("http://127.0.0.1:8080/jwks", 1));
    assert_false(authos_http_url_allowed("HTTP://localhost/", 0));
    assert_true(authos_http_url_allowed("HTTP://localhost/", 1));
}

static void http_refuses_other_schemes(void **state)
{
    static const char *const urls[] = {
        "ftp://auth.example.com/jwks.json",
        "file:///etc/passwd",
        "gopher://auth.example.com/",
        "ldap://auth.example.com/",
        "httpss://auth.example.com/",
        "https:auth.example.com/",
        "https:/auth.example.com/",
        "//auth.example.com/jwks.json",
        "auth.example.com/jwks.json",
        "/.well-known/jwks.json",
        "",
    };

    (void)state;
    assert_refused_even_with_http(urls, UNIT_NELTS(urls));
}

static void http_refuses_credentials_in_url(void **state)
{
    (void)state;
    assert_false(authos_http_url_allowed("https://user:pass@auth.example.com/",
                                         0));
    assert_false(authos_http_url_allowed("https://user@auth.example.com/", 0));
    assert_false(authos_http_url_allowed("https://@auth.example.com/", 0));
    assert_false(authos_http_url_allowed("http://u:p@127.0.0.1/", 1));
    /* The classic confusion: which host is this? */
    assert_false(authos_http_url_allowed(
        "https://auth.example.com@evil.example/jwks", 0));
    /* An '@' after the authority is part of the path, not credentials. */
    assert_true(authos_http_url_allowed("https://auth.example.com/a@b", 0));
    assert_true(authos_http_url_allowed("https://auth.example.com?u=a@b", 0));
}

static void http_refuses_whitespace_and_control_characters(void **state)
{
    static const char *const urls[] = {
        "https://auth.example.com/a b",
        "https://auth.example.com /",
        " https://auth.example.com/",
        "https://auth.example.com/\t",
        "https://auth.example.com/\r\nX-Injected: 1",
        "https://auth.example.com/\n",
        "https://auth.example.com/\x7f",
        "https://auth.example.com/\x01",
    };

    (void)state;
    assert_refused_even_with_http(urls, UNIT_NELTS(urls));
}

static void http_refuses_empty_host(void **state)
{
    (void)state;
    assert_false(authos_http_url_allowed("https://", 0));
    assert_false(authos_http_url_allowed("https:///jwks.json", 0));
    assert_false(authos_http_url_allowed("https://?x", 0));
    assert_false(authos_http_url_allowed("https://#x", 0));
    assert_false(authos_http_url_allowed("https://:443/jwks.json", 0));
    assert_false(authos_http_url_allowed("http://", 1));
    assert_false(authos_http_url_allowed("http:///x", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_allows_https_urls),
        cmocka_unit_test(http_allows_http_only_when_asked),
        cmocka_unit_test(http_refuses_other_schemes),
        cmocka_unit_test(http_refuses_credentials_in_url),
        cmocka_unit_test(http_refuses_whitespace_and_control_characters),
        cmocka_unit_test(http_refuses_empty_host),
    };

    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}

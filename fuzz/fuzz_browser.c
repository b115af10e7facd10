/*
 * fuzz_browser.c: what a browser sends to the sign-in flow (SPEC section
 * 11, src/authos_browser.h): the callback form (authos_form_fields), the
 * state cookie (authos_state_cookie_parse), the Accept header, the return
 * path, and the URLs and Origin headers (authos_url_origin,
 * authos_url_is_loopback). Every input goes to each of them.
 *
 * Invariants:
 * - a form is accepted exactly when a plainer reference reader accepts it,
 *   with the same values (so never when it holds a NUL byte or "%00");
 *   the values are no longer than the body, and, encoded again, parse
 *   back to themselves;
 * - a state cookie that parses gives a 43-character base64url state and a
 *   safe return path, and authos_state_cookie_value of the two parses back
 *   to the same; one that does not gives NULL and "/";
 * - authos_accepts_html says 1 for a header with a text/html element
 *   (any case) without q or with a valid q above 0, and 0 when every
 *   text/html element has q=0 (q=0.000 included);
 * - a return path from authos_safe_return starts with "/" and never "//"
 *   or "/\", has no byte <= 0x20 or >= 0x7f nor a backslash, is at most
 *   AUTHOS_RETURN_MAX bytes, is a prefix of the input when it is not "/",
 *   and is its own safe return path;
 * - an origin is the URL's own scheme and host ("http" or "https"; no
 *   upper case, '@', '/', '?', '#', '\' or '%'), then perhaps a port of
 *   1 to 65535 written without leading zero that is not the scheme's
 *   default; it is its own origin; a URL is loopback exactly when its
 *   origin is, and exactly when that host is localhost, 127.0.0.1 or
 *   [::1];
 * - authos_html_escape leaves no <, >, " or ' and only entity '&'s;
 *   authos_secure_streq finds a string equal to its copy.
 */
#include "fuzz_common.h"

#include <ctype.h>
#include <strings.h>

#include "authos_browser.h"

static const char *const names[] = {"access_token", "state", "error"};
#define NNAMES 3

static int is_b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Percent-encode every byte but [A-Za-z0-9], independently of the core. */
static char *form_encode(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;

    for (; *s; s++) {
        unsigned char u = (unsigned char)*s;
        if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z')
            || (u >= '0' && u <= '9')) {
            *o++ = (char)u;
        }
        else {
            *o++ = '%';
            *o++ = hex[u >> 4];
            *o++ = hex[u & 15];
        }
    }
    *o = '\0';
    return out;
}

/* A second, plainer reading of one form component: '+' a space, '%' and
 * two hex digits a byte other than NUL; NULL for anything else. */
static char *ref_decode(apr_pool_t *p, const uint8_t *s, size_t n)
{
    char *out = apr_palloc(p, n + 1);
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '\0') {
            return NULL;
        }
        if (s[i] == '%') {
            unsigned v;
            char hex[3];

            if (n - i < 3 || !isxdigit(s[i + 1]) || !isxdigit(s[i + 2])) {
                return NULL;
            }
            hex[0] = (char)s[i + 1];
            hex[1] = (char)s[i + 2];
            hex[2] = '\0';
            v = (unsigned)strtoul(hex, NULL, 16);
            if (v == 0) {
                return NULL;
            }
            out[o++] = (char)v;
            i += 2;
        }
        else {
            out[o++] = (char)(s[i] == '+' ? ' ' : s[i]);
        }
    }
    out[o] = '\0';
    return out;
}

/* The form as the reference reads it: 1 and want[] (NULL: missing), or 0
 * for a bad component or a wanted name twice. */
static int ref_form(apr_pool_t *p, const uint8_t *data, size_t size,
                    const char **want)
{
    size_t start = 0, i;
    int k;

    for (k = 0; k < NNAMES; k++) {
        want[k] = NULL;
    }
    while (start < size) {
        size_t end = start, eq;
        const char *name, *value;

        while (end < size && data[end] != '&') {
            end++;
        }
        if (end > start) {
            for (eq = start; eq < end && data[eq] != '='; eq++) {
            }
            name = ref_decode(p, data + start, eq - start);
            value = eq < end ? ref_decode(p, data + eq + 1, end - eq - 1) : "";
            if (name == NULL || value == NULL) {
                return 0;
            }
            for (i = 0; i < NNAMES; i++) {
                if (strcmp(name, names[i]) == 0) {
                    if (want[i] != NULL) {
                        return 0;
                    }
                    want[i] = value;
                }
            }
        }
        start = end + 1;
    }
    return 1;
}

static void check_form(apr_pool_t *p, const uint8_t *data, size_t size)
{
    const char *v[NNAMES], *again[NNAMES], *want[NNAMES];
    const char *body;
    int ok, i;

    ok = authos_form_fields(p, (const char *)data, size, names, v, NNAMES);
    FUZZ_CHECK(ok == ref_form(p, data, size, want));
    if (memchr(data, '\0', size) != NULL) {
        FUZZ_CHECK(!ok);
    }
    if (!ok) {
        return;
    }
    for (i = 0; i < NNAMES; i++) {
        FUZZ_CHECK(v[i] != NULL && strlen(v[i]) <= size);
        FUZZ_CHECK(strcmp(v[i], want[i] != NULL ? want[i] : "") == 0);
    }
    /* In another order, with noise around: the same values. */
    body = apr_pstrcat(p, "&x=1&error=", form_encode(p, v[2]),
                       "&&state=", form_encode(p, v[1]),
                       "&x=2&access_token=", form_encode(p, v[0]), "&", NULL);
    FUZZ_CHECK(authos_form_fields(p, body, strlen(body), names, again, NNAMES));
    for (i = 0; i < NNAMES; i++) {
        FUZZ_CHECK(strcmp(again[i], v[i]) == 0);
    }
}

static void check_return(apr_pool_t *p, const char *in, const char *r)
{
    size_t n, i;

    FUZZ_CHECK(r != NULL && r[0] == '/' && r[1] != '/' && r[1] != '\\');
    n = strlen(r);
    FUZZ_CHECK(n <= AUTHOS_RETURN_MAX);
    for (i = 0; i < n; i++) {
        unsigned char u = (unsigned char)r[i];
        FUZZ_CHECK(u > 0x20 && u < 0x7f && u != '\\' && u != '#');
    }
    if (in != NULL && strcmp(r, "/") != 0) {
        FUZZ_CHECK(strncmp(in, r, n) == 0 && (in[n] == '\0' || in[n] == '#'));
    }
    FUZZ_CHECK(strcmp(authos_safe_return(p, r), r) == 0);
}

static void check_state_cookie(apr_pool_t *p, const char *s)
{
    const char *st = "unset", *ret = "unset", *st2 = NULL, *ret2 = NULL;
    size_t i;

    if (!authos_state_cookie_parse(p, s, &st, &ret)) {
        FUZZ_CHECK(st == NULL && ret != NULL && strcmp(ret, "/") == 0);
        return;
    }
    FUZZ_CHECK(st != NULL && strlen(st) == 43);
    for (i = 0; i < 43; i++) {
        FUZZ_CHECK(is_b64url_char(st[i]));
    }
    /* The input's own state, then a dot. */
    FUZZ_CHECK(strncmp(s, st, 43) == 0 && s[43] == '.');
    check_return(p, NULL, ret);
    FUZZ_CHECK(authos_state_cookie_parse(
        p, authos_state_cookie_value(p, st, ret), &st2, &ret2));
    FUZZ_CHECK(strcmp(st2, st) == 0 && strcmp(ret2, ret) == 0);
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* A q value [s, end) by RFC 9110 section 12.4.2 ("0" or "1", then
 * perhaps '.' and at most three digits, "1" only with zeros): 0 for a
 * weight of 0, 1 for a higher one, -1 when it is not a q value. */
static int strict_weight(const char *s, const char *end)
{
    size_t n = (size_t)(end - s), i;
    int nonzero = 0;

    if (n == 0 || (s[0] != '0' && s[0] != '1') || (n > 1 && s[1] != '.')
        || n > 5) {
        return -1;
    }
    for (i = 2; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || (s[0] == '1' && s[i] != '0')) {
            return -1;
        }
        nonzero |= s[i] != '0';
    }
    return s[0] == '1' || nonzero;
}

/* One Accept element, the n bytes at s: 1 when its media range is
 * text/html (any case), with *weight the strict_weight of its first
 * parameter named q ('=' with OWS around it tolerated), 1 when it has
 * none. */
static int ref_html_element(const char *s, size_t n, int *weight)
{
    size_t i, ps, pe, v;

    while (n > 0 && is_ows(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_ows(s[n - 1])) {
        n--;
    }
    *weight = 1;
    if (n < 9 || strncasecmp(s, "text/html", 9) != 0
        || (n > 9 && s[9] != ';' && !is_ows(s[9]))) {
        return 0;
    }
    for (i = 9; i < n;) {
        while (i < n && (s[i] == ';' || is_ows(s[i]))) {
            i++;
        }
        ps = i;
        while (i < n && s[i] != ';') {
            i++;
        }
        pe = i;
        while (pe > ps && is_ows(s[pe - 1])) {
            pe--;
        }
        if (ps == pe || (s[ps] != 'q' && s[ps] != 'Q')) {
            continue;
        }
        for (v = ps + 1; v < pe && is_ows(s[v]); v++) {
        }
        if (v == pe || s[v] != '=') {
            continue;
        }
        for (v++; v < pe && is_ows(s[v]); v++) {
        }
        *weight = strict_weight(s + v, s + pe);
        break;
    }
    return 1;
}

/* authos_accepts_html against the reference: a text/html element with
 * a valid weight above 0 is always taken, one with q=0 never (any other
 * weight: not checked). */
static void check_accept(const char *s)
{
    int html = authos_accepts_html(s), any_positive = 0, any_not_zero = 0;
    const char *c = s;

    FUZZ_CHECK(html == 0 || html == 1);
    for (;;) {
        const char *end = c + strcspn(c, ",");
        int weight;

        if (ref_html_element(c, (size_t)(end - c), &weight)) {
            any_positive |= weight == 1;
            any_not_zero |= weight != 0;
        }
        if (*end == '\0') {
            break;
        }
        c = end + 1;
    }
    if (any_positive) {
        FUZZ_CHECK(html);
    }
    if (html) {
        FUZZ_CHECK(any_not_zero);
    }
}

static void check_origin(apr_pool_t *p, const char *s)
{
    const char *o = authos_url_origin(p, s), *host, *c, *name;
    int loop = authos_url_is_loopback(p, s);

    FUZZ_CHECK(loop == 0 || loop == 1);
    if (o == NULL) {
        FUZZ_CHECK(!loop);
        return;
    }
    if (strncmp(o, "https://", 8) == 0) {
        host = o + 8;
    }
    else {
        FUZZ_CHECK(strncmp(o, "http://", 7) == 0);
        host = o + 7;
    }
    FUZZ_CHECK(*host != '\0' && *host != ':');
    for (c = host; *c; c++) {
        unsigned char u = (unsigned char)*c;
        FUZZ_CHECK(u > 0x20 && u < 0x7f && !(u >= 'A' && u <= 'Z'));
        FUZZ_CHECK(strchr("@/?#\\%", u) == NULL);
    }
    /* The host ends after ']' (IPv6) or at ':' (a port) or the end. */
    c = host[0] == '[' ? strchr(host, ']') + 1 : host + strcspn(host, ":");
    name = apr_pstrmemdup(p, host, (apr_size_t)(c - host));
    /* The URL starts with that scheme and host, up to case, and its
     * authority ends there or goes on with a port. */
    FUZZ_CHECK(strncasecmp(s, o, (size_t)(c - o)) == 0
               && (s[c - o] == '\0' || strchr(":/?#", s[c - o]) != NULL));
    FUZZ_CHECK(loop
               == (strcmp(name, "localhost") == 0
                   || strcmp(name, "127.0.0.1") == 0
                   || strcmp(name, "[::1]") == 0));
    /* A port: 1 to 65535, no leading zero, not the scheme's default. */
    if (*c == ':') {
        long port = strtol(c + 1, NULL, 10);

        FUZZ_CHECK(c[1] >= '1' && c[1] <= '9' && strlen(c + 1) <= 5);
        FUZZ_CHECK(strspn(c + 1, "0123456789") == strlen(c + 1));
        FUZZ_CHECK(port >= 1 && port <= 65535);
        FUZZ_CHECK(port != (host == o + 8 ? 443 : 80));
    }
    else {
        FUZZ_CHECK(*c == '\0');
    }
    FUZZ_CHECK(strcmp(authos_url_origin(p, o), o) == 0);
    FUZZ_CHECK(authos_url_is_loopback(p, o) == loop);
}

static void check_html_escape(apr_pool_t *p, const char *s)
{
    const char *e = authos_html_escape(p, s), *c;

    FUZZ_CHECK(strlen(e) >= strlen(s));
    for (c = e; *c; c++) {
        FUZZ_CHECK(strchr("<>\"'", *c) == NULL);
        if (*c == '&') {
            FUZZ_CHECK(strncmp(c, "&amp;", 5) == 0 || strncmp(c, "&lt;", 4) == 0
                       || strncmp(c, "&gt;", 4) == 0
                       || strncmp(c, "&quot;", 6) == 0
                       || strncmp(c, "&#39;", 5) == 0);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *s;

    check_form(p, data, size);

    /* Header and cookie values are C strings: up to the first NUL. */
    s = apr_pstrmemdup(p, (const char *)data, size);
    check_state_cookie(p, s);

    check_accept(s);

    check_return(p, s, authos_safe_return(p, s));
    check_origin(p, s);
    check_html_escape(p, s);
    FUZZ_CHECK(authos_secure_streq(s, apr_pstrdup(p, s)));
    apr_pool_destroy(p);
    return 0;
}

/*
 * authos_browser.c: the httpd-free parts of the browser sign-in flow
 * (SPEC section 11). Everything a client sends here is parsed strictly:
 * what does not fit the expected shape is refused or replaced by a safe
 * value, never repaired.
 */
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "authos_b64url.h"
#include "authos_browser.h"

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Is the q parameter of one Accept element zero? params points after the
 * media range (at ';' or the end). */
static int q_is_zero(const char *params, const char *end)
{
    const char *c = params;

    while (c < end) {
        const char *name, *v;

        while (c < end && (*c == ';' || is_ows(*c))) {
            c++;
        }
        name = c;
        while (c < end && *c != ';') {
            c++;
        }
        if (c - name >= 2 && (name[0] == 'q' || name[0] == 'Q')) {
            v = name + 1;
            while (v < c && is_ows(*v)) {
                v++;
            }
            if (v < c && *v == '=') {
                v++;
                while (v < c && is_ows(*v)) {
                    v++;
                }
                /* q = ( "0" [ "." 0*3DIGIT ] ) / ( "1" ... ) */
                if (v < c && *v == '0') {
                    for (v++; v < c && (*v == '.' || *v == '0'); v++) {
                    }
                    while (v < c && is_ows(*v)) {
                        v++;
                    }
                    return v == c;
                }
                return 0;
            }
        }
    }
    return 0;
}

int authos_accepts_html(const char *accept)
{
    const char *c = accept;

    if (accept == NULL) {
        return 0;
    }
    while (*c) {
        const char *start, *type_end, *elem_end;

        while (*c == ',' || is_ows(*c)) {
            c++;
        }
        start = c;
        elem_end = c + strcspn(c, ",");
        type_end = start;
        while (type_end < elem_end && *type_end != ';' && !is_ows(*type_end)) {
            type_end++;
        }
        if (type_end - start == 9 && strncasecmp(start, "text/html", 9) == 0
            && !q_is_zero(type_end, elem_end)) {
            return 1;
        }
        c = elem_end;
    }
    return 0;
}

const char *authos_safe_return(apr_pool_t *p, const char *path)
{
    apr_size_t n;
    const char *c;

    if (path == NULL || path[0] != '/' || path[1] == '/' || path[1] == '\\') {
        return "/";
    }
    n = strcspn(path, "#");
    if (n > AUTHOS_RETURN_MAX) {
        return "/";
    }
    for (c = path; c < path + n; c++) {
        unsigned char u = (unsigned char)*c;
        if (u <= 0x20 || u >= 0x7f || u == '\\') {
            return "/";
        }
    }
    return apr_pstrmemdup(p, path, n);
}

const char *authos_url_origin(apr_pool_t *p, const char *url)
{
    const char *scheme, *auth, *c, *port = NULL, *host_end;
    apr_size_t n;
    char *host, *h;
    long pnum = 0;

    if (url == NULL) {
        return NULL;
    }
    if (strncasecmp(url, "https://", 8) == 0) {
        scheme = "https";
        auth = url + 8;
    }
    else if (strncasecmp(url, "http://", 7) == 0) {
        scheme = "http";
        auth = url + 7;
    }
    else {
        return NULL;
    }
    for (c = url; *c; c++) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
            return NULL;
        }
    }
    n = strcspn(auth, "/?#");
    if (n == 0 || memchr(auth, '@', n) != NULL) {
        return NULL;
    }
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', n);
        if (close == NULL || close == auth + 1) {
            return NULL;
        }
        host_end = close + 1;
        if (host_end < auth + n && *host_end != ':') {
            return NULL;
        }
    }
    else {
        host_end = memchr(auth, ':', n);
        if (host_end == NULL) {
            host_end = auth + n;
        }
    }
    if (host_end == auth) {
        return NULL;
    }
    if (host_end < auth + n) {
        /* ":port", 1 to 5 digits, 1 to 65535 */
        port = host_end + 1;
        if (port == auth + n || auth + n - port > 5) {
            return NULL;
        }
        for (c = port; c < auth + n; c++) {
            if (!apr_isdigit(*c)) {
                return NULL;
            }
            pnum = pnum * 10 + (*c - '0');
        }
        if (pnum < 1 || pnum > 65535) {
            return NULL;
        }
    }
    host = apr_pstrmemdup(p, auth, (apr_size_t)(host_end - auth));
    for (h = host; *h; h++) {
        /* A name or IPv4 address; inside brackets an IPv6 address. */
        int ok = host[0] == '['
                     ? (apr_isxdigit(*h) || *h == ':' || *h == '.'
                        || (h == host) || (h[1] == '\0' && *h == ']'))
                     : (apr_isalnum(*h) || *h == '-' || *h == '.'
                        || *h == '_' || *h == '~');
        if (!ok) {
            return NULL;
        }
        *h = (char)apr_tolower(*h);
    }
    if (port == NULL || (pnum == 443 && scheme[4] == 's')
        || (pnum == 80 && scheme[4] == '\0')) {
        return apr_pstrcat(p, scheme, "://", host, NULL);
    }
    return apr_psprintf(p, "%s://%s:%ld", scheme, host, pnum);
}

int authos_url_is_loopback(apr_pool_t *p, const char *url)
{
    const char *origin = authos_url_origin(p, url);
    const char *host, *colon;
    apr_size_t n;

    if (origin == NULL) {
        return 0;
    }
    host = strstr(origin, "://") + 3;
    if (host[0] == '[') {
        n = (apr_size_t)(strchr(host, ']') + 1 - host);
    }
    else {
        colon = strchr(host, ':');
        n = colon != NULL ? (apr_size_t)(colon - host) : strlen(host);
    }
    return (n == 9 && strncmp(host, "localhost", 9) == 0)
           || (n == 9 && strncmp(host, "127.0.0.1", 9) == 0)
           || (n == 5 && strncmp(host, "[::1]", 5) == 0);
}

const char *authos_state_new(apr_pool_t *p)
{
    unsigned char buf[AUTHOS_STATE_BYTES];

    if (apr_generate_random_bytes(buf, sizeof(buf)) != APR_SUCCESS) {
        return NULL;
    }
    return authos_b64url_encode(p, buf, sizeof(buf));
}

/* Percent-encode everything but RFC 3986's unreserved characters. */
static const char *pct_encode(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;

    for (; *s; s++) {
        unsigned char u = (unsigned char)*s;
        if (apr_isalnum(u) || u == '-' || u == '.' || u == '_' || u == '~') {
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

const char *authos_login_location(apr_pool_t *p, const char *login_url,
                                  const char *callback_url, const char *state)
{
    apr_size_t n = strcspn(login_url, "#");
    const char *base = apr_pstrmemdup(p, login_url, n);
    const char *sep = strchr(base, '?') == NULL ? "?"
                      : (n > 0 && (base[n - 1] == '?' || base[n - 1] == '&'))
                          ? ""
                          : "&";

    return apr_pstrcat(p, base, sep, "redirect_uri=",
                       pct_encode(p, callback_url), "&state=",
                       pct_encode(p, state), NULL);
}

const char *authos_state_cookie_value(apr_pool_t *p, const char *state,
                                      const char *return_path)
{
    return apr_pstrcat(p, state, ".",
                       authos_b64url_encode(p,
                                            (const unsigned char *)return_path,
                                            strlen(return_path)),
                       NULL);
}

int authos_state_cookie_parse(apr_pool_t *p, const char *value,
                              const char **state, const char **return_path)
{
    const char *dot;
    unsigned char *raw;
    apr_size_t len;

    *state = NULL;
    *return_path = "/";
    if (value == NULL || (dot = strchr(value, '.')) == NULL) {
        return 0;
    }
    /* The state: exactly what authos_state_new makes. */
    if (authos_b64url_decode(p, value, (apr_size_t)(dot - value), &raw, &len)
            != APR_SUCCESS
        || len != AUTHOS_STATE_BYTES) {
        return 0;
    }
    if (authos_b64url_decode(p, dot + 1, strlen(dot + 1), &raw, &len)
            != APR_SUCCESS
        || len == 0 || memchr(raw, '\0', len) != NULL) {
        return 0;
    }
    *state = apr_pstrmemdup(p, value, (apr_size_t)(dot - value));
    *return_path = authos_safe_return(p, (const char *)raw);
    return 1;
}

int authos_secure_streq(const char *a, const char *b)
{
    apr_size_t n, i;
    unsigned char diff = 0;

    if (a == NULL || b == NULL) {
        return 0;
    }
    n = strlen(a);
    if (n != strlen(b)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        diff |= (unsigned char)(a[i] ^ b[i]);
    }
    return diff == 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decode one form component (WHATWG application/x-www-form-urlencoded:
 * '+' is a space, %XX a byte); NULL for a bad escape or a NUL byte. */
static char *form_decode(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *out = apr_palloc(p, n + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '+') {
            *o++ = ' ';
        }
        else if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n) {
                return NULL;
            }
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return NULL;
            }
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        }
        else if (s[i] == '\0') {
            return NULL;
        }
        else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

int authos_form_fields(apr_pool_t *p, const char *body, apr_size_t len,
                       const char *const *names, const char **values, int n)
{
    const char *c = body, *end = body + len;
    int i;

    for (i = 0; i < n; i++) {
        values[i] = NULL;
    }
    while (c < end) {
        const char *amp = memchr(c, '&', (apr_size_t)(end - c));
        const char *pair_end = amp != NULL ? amp : end;
        const char *eq = memchr(c, '=', (apr_size_t)(pair_end - c));
        const char *name_end = eq != NULL ? eq : pair_end;
        char *name, *value;

        if (pair_end > c) {
            name = form_decode(p, c, (apr_size_t)(name_end - c));
            value = eq != NULL
                        ? form_decode(p, eq + 1,
                                      (apr_size_t)(pair_end - eq - 1))
                        : apr_pstrdup(p, "");
            if (name == NULL || value == NULL) {
                return 0;
            }
            for (i = 0; i < n; i++) {
                if (strcmp(name, names[i]) == 0) {
                    if (values[i] != NULL) {
                        return 0;
                    }
                    values[i] = value;
                }
            }
        }
        if (amp == NULL) {
            break;
        }
        c = amp + 1;
    }
    for (i = 0; i < n; i++) {
        if (values[i] == NULL) {
            values[i] = "";
        }
    }
    return 1;
}

const char *authos_cookie(apr_pool_t *p, const char *name, const char *value,
                          long long max_age)
{
    return apr_psprintf(p,
                        "%s=%s; Path=/; Max-Age=%" APR_INT64_T_FMT
                        "; HttpOnly; Secure; SameSite=Lax",
                        name, value, (apr_int64_t)(max_age > 0 ? max_age : 0));
}

const char *authos_login_error_text(const char *code)
{
    static const char *const known[][2] = {
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
    apr_size_t i;

    if (code == NULL) {
        return NULL;
    }
    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(code, known[i][0]) == 0) {
            return known[i][1];
        }
    }
    return NULL;
}

const char *authos_html_escape(apr_pool_t *p, const char *s)
{
    apr_size_t n = 0;
    const char *c;
    char *out, *o;

    for (c = s; *c; c++) {
        n += strchr("&<>\"'", *c) != NULL ? 6 : 1;
    }
    o = out = apr_palloc(p, n + 1);
    for (c = s; *c; c++) {
        const char *rep = NULL;
        switch (*c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: *o++ = *c; continue;
        }
        memcpy(o, rep, strlen(rep));
        o += strlen(rep);
    }
    *o = '\0';
    return out;
}

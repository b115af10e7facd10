/*
 * authos_json.c: strict JSON loading into jansson values, owned by an APR
 * pool.
 *
 * The text is parsed here, not by json_loadb(): jansson's reader takes its
 * input a byte at a time through a stream and keeps a copy of every token,
 * which made it the largest cost of a new token after the RSA operation
 * (README, Performance). This parser reads the buffer in place and builds
 * the same jansson values, with jansson's own rules for what is refused
 * (JSON_REJECT_DUPLICATES, no JSON_ALLOW_NUL, EOF check; see authos_json.h).
 * tests/unit/test_json.c and fuzz/fuzz_json.c hold it to json_loadb.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1           /* strtod_l */
#endif
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "authos_json.h"

/* As deep as jansson nests (JSON_PARSER_MAX_DEPTH): every value counts one
 * level, the top object included. */
#define MAX_DEPTH 2048
/* A decimal long long has at most 19 digits; a JSON integer has no leading
 * zero, so one with 20 digits or more is out of range. */
#define MAX_INT_DIGITS 19
/* Numbers are copied to be NUL-terminated for strtoll/strtod; longer reals
 * than this are copied into the pool. */
#define NUMBER_BUF 64
/* Strings with escapes are decoded into a stack buffer up to this size,
 * longer ones into the pool. */
#define STRING_BUF 256

typedef struct {
    const unsigned char *p;   /* next byte */
    const unsigned char *end;
    apr_pool_t *pool;         /* scratch: long numbers and strings */
} parser_t;

static void skip_space(parser_t *ps)
{
    while (ps->p < ps->end
           && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n'
               || *ps->p == '\r')) {
        ps->p++;
    }
}

/* Length of the UTF-8 sequence at s (< end), or 0 when it is not a valid
 * one: no overlong form, no surrogate, nothing above U+10FFFF. */
static int utf8_len(const unsigned char *s, const unsigned char *end)
{
    unsigned int c = s[0], value;
    int n, i;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        value = c & 0x1F;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        value = c & 0x0F;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        value = c & 0x07;
    }
    else {
        return 0;
    }
    if (end - s < n) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        value = (value << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && value < 0x800) || (n == 4 && value < 0x10000)
        || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        return 0;
    }
    return n;
}

static int hex4(const unsigned char *s, const unsigned char *end,
                unsigned int *out)
{
    unsigned int value = 0;
    int i;

    if (end - s < 4) {
        return 0;
    }
    for (i = 0; i < 4; i++) {
        unsigned int c = s[i], d;

        if (c >= '0' && c <= '9') {
            d = c - '0';
        }
        else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        }
        else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        }
        else {
            return 0;
        }
        value = (value << 4) | d;
    }
    *out = value;
    return 1;
}

static unsigned char *put_utf8(unsigned char *t, unsigned int cp)
{
    if (cp < 0x80) {
        *t++ = (unsigned char)cp;
    }
    else if (cp < 0x800) {
        *t++ = (unsigned char)(0xC0 | (cp >> 6));
        *t++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        *t++ = (unsigned char)(0xE0 | (cp >> 12));
        *t++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *t++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    else {
        *t++ = (unsigned char)(0xF0 | (cp >> 18));
        *t++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        *t++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *t++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    return t;
}

/* The escape after the backslash at *ps->p - 1, written at t; NULL when
 * it is not one JSON allows (\u0000 and lone surrogates included). */
static unsigned char *unescape(parser_t *ps, unsigned char *t)
{
    unsigned int cp, low;

    if (ps->p >= ps->end) {
        return NULL;
    }
    switch (*ps->p++) {
    case '"': *t++ = '"'; return t;
    case '\\': *t++ = '\\'; return t;
    case '/': *t++ = '/'; return t;
    case 'b': *t++ = '\b'; return t;
    case 'f': *t++ = '\f'; return t;
    case 'n': *t++ = '\n'; return t;
    case 'r': *t++ = '\r'; return t;
    case 't': *t++ = '\t'; return t;
    case 'u':
        break;
    default:
        return NULL;
    }
    if (!hex4(ps->p, ps->end, &cp)) {
        return NULL;
    }
    ps->p += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u'
            || !hex4(ps->p + 2, ps->end, &low)
            || low < 0xDC00 || low > 0xDFFF) {
            return NULL;
        }
        ps->p += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
        return NULL;
    }
    return put_utf8(t, cp);
}

/* The string whose opening quote is at ps->p: its decoded bytes in *out
 * (not NUL-terminated: into the input when it has no escape, else into buf
 * when they fit or into the pool) and their length in *len. 0 when it is
 * not a valid JSON string. */
static int parse_string(parser_t *ps, unsigned char *buf, apr_size_t bufsize,
                        const char **out, apr_size_t *len)
{
    const unsigned char *start = ++ps->p, *s;
    unsigned char *t, *dst;
    int n = 0;

    /* The common case: no escape. Validate, then point into the input. */
    for (s = start; s < ps->end; s += n) {
        if (*s == '"' || *s == '\\') {
            break;
        }
        if (*s < 0x20 || (n = utf8_len(s, ps->end)) == 0) {
            return 0;
        }
    }
    if (s >= ps->end) {
        return 0;
    }
    if (*s == '"') {
        ps->p = s + 1;
        *out = (const char *)start;
        *len = (apr_size_t)(s - start);
        return 1;
    }
    /* Escapes never make the text longer: the raw string's length up to
     * its closing quote bounds the decoded one. */
    for (t = (unsigned char *)s; (const unsigned char *)t < ps->end
         && *t != '"'; t++) {
        if (*t == '\\' && (const unsigned char *)++t >= ps->end) {
            return 0;
        }
    }
    if ((const unsigned char *)t >= ps->end) {
        return 0;
    }
    if ((apr_size_t)((const unsigned char *)t - start) < bufsize) {
        dst = buf;
    }
    else {
        dst = apr_palloc(ps->pool, (apr_size_t)((const unsigned char *)t - start));
    }
    memcpy(dst, start, (apr_size_t)(s - start));
    t = dst + (s - start);
    ps->p = s;
    while (ps->p < ps->end && *ps->p != '"') {
        if (*ps->p == '\\') {
            ps->p++;
            if ((t = unescape(ps, t)) == NULL) {
                return 0;
            }
            continue;
        }
        if (*ps->p < 0x20 || (n = utf8_len(ps->p, ps->end)) == 0) {
            return 0;
        }
        memcpy(t, ps->p, (apr_size_t)n);
        t += n;
        ps->p += n;
    }
    if (ps->p >= ps->end) {
        return 0;
    }
    ps->p++;                    /* the closing quote */
    *out = (const char *)dst;
    *len = (apr_size_t)(t - dst);
    return 1;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* A number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? , an integer
 * when it has neither fraction nor exponent. Out-of-range integers and
 * reals that overflow are refused, as jansson refuses them. */
static json_t *parse_number(parser_t *ps)
{
    const unsigned char *start = ps->p, *digits;
    char small[NUMBER_BUF], *text, *stop;
    apr_size_t len;
    int real = 0;

    if (ps->p < ps->end && *ps->p == '-') {
        ps->p++;
    }
    digits = ps->p;
    if (ps->p < ps->end && *ps->p == '0') {
        ps->p++;
    }
    else if (ps->p < ps->end && *ps->p >= '1' && *ps->p <= '9') {
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            ps->p++;
        }
    }
    else {
        return NULL;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        real = 1;
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
            return NULL;
        }
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            ps->p++;
        }
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        real = 1;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) {
            ps->p++;
        }
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
            return NULL;
        }
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            ps->p++;
        }
    }
    len = (apr_size_t)(ps->p - start);
    if (!real && ps->p - digits > MAX_INT_DIGITS) {
        return NULL;
    }
    text = len < sizeof(small) ? small : apr_palloc(ps->pool, len + 1);
    memcpy(text, start, len);
    text[len] = '\0';
    errno = 0;
    if (!real) {
        long long value = strtoll(text, &stop, 10);

        if (errno == ERANGE || stop != text + len) {
            return NULL;
        }
        return json_integer((json_int_t)value);
    }
    /* strtod follows LC_NUMERIC, which another module may have set. */
    pthread_once(&c_locale_once, make_c_locale);
    if (c_locale == (locale_t)0) {
        return NULL;
    }
    {
        double value = strtod_l(text, &stop, c_locale);

        if (stop != text + len
            || ((value == HUGE_VAL || value == -HUGE_VAL) && errno == ERANGE)) {
            return NULL;
        }
        return json_real(value);
    }
}

/* The literal word at ps->p (true, false or null); NULL otherwise. */
static json_t *parse_literal(parser_t *ps)
{
    static const struct {
        const char *word;
        apr_size_t len;
    } words[] = { { "true", 4 }, { "false", 5 }, { "null", 4 } };
    apr_size_t i, avail = (apr_size_t)(ps->end - ps->p);

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (avail >= words[i].len
            && memcmp(ps->p, words[i].word, words[i].len) == 0) {
            /* Whatever follows ("truex") must be a separator, which the
             * caller checks. */
            ps->p += words[i].len;
            return i == 0 ? json_true() : i == 1 ? json_false() : json_null();
        }
    }
    return NULL;
}

/* A scalar at ps->p: string, number or literal; NULL when it is none. */
static json_t *parse_scalar(parser_t *ps)
{
    unsigned char buf[STRING_BUF];
    const char *s;
    apr_size_t len;

    switch (*ps->p) {
    case '"':
        return parse_string(ps, buf, sizeof(buf), &s, &len)
               ? json_stringn_nocheck(s, len) : NULL;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return parse_number(ps);
    default:
        return parse_literal(ps);
    }
}

/* The open objects and arrays, from the top object down to the one being
 * filled: an array, not the C stack, so deep nesting costs pool memory,
 * not stack frames. */
typedef struct {
    json_t **open;
    int depth, size;            /* open[depth - 1] is being filled */
    json_t *small[16];
} nest_t;

static void nest_push(parser_t *ps, nest_t *n, json_t *container)
{
    if (n->depth == n->size) {
        json_t **bigger = apr_palloc(ps->pool, sizeof(json_t *)
                                               * (apr_size_t)n->size * 2);

        memcpy(bigger, n->open, sizeof(json_t *) * (apr_size_t)n->size);
        n->open = bigger;
        n->size *= 2;
    }
    n->open[n->depth++] = container;
}

/* The character that closes an open object or array. */
#define CLOSER(container) (json_is_object(container) ? '}' : ']')

/* The top object, at ps->p ('{'), its members and elements in text order.
 * Each value is attached to its container as soon as it is made, so
 * releasing the top object releases everything on a refusal. */
static json_t *parse_top_object(parser_t *ps)
{
    nest_t n;
    json_t *top = json_object();
    int first = 1;              /* just after '{' or '[' */

    if (top == NULL) {
        return NULL;
    }
    n.open = n.small;
    n.size = (int)(sizeof(n.small) / sizeof(n.small[0]));
    n.depth = 0;
    nest_push(ps, &n, top);
    ps->p++;
    for (;;) {
        json_t *in = n.open[n.depth - 1], *value;
        int is_object = json_is_object(in), closed;
        unsigned char keybuf[STRING_BUF];
        const char *key = NULL;
        apr_size_t keylen = 0;

        skip_space(ps);
        if (ps->p >= ps->end) {
            break;
        }
        if (first && *ps->p == CLOSER(in)) {
            ps->p++;            /* an empty object or array */
            closed = 1;
        }
        else {
            if (is_object) {
                /* RFC 7515 section 5.2: a duplicate member name is
                 * refused. */
                if (*ps->p != '"'
                    || !parse_string(ps, keybuf, sizeof(keybuf), &key, &keylen)
                    || json_object_getn(in, key, keylen) != NULL) {
                    break;
                }
                skip_space(ps);
                if (ps->p >= ps->end || *ps->p != ':') {
                    break;
                }
                ps->p++;
                skip_space(ps);
                if (ps->p >= ps->end) {
                    break;
                }
            }
            /* The value is one level below its container, as jansson
             * counts depth. */
            if (n.depth + 1 > MAX_DEPTH) {
                break;
            }
            if (*ps->p == '{' || *ps->p == '[') {
                value = *ps->p == '{' ? json_object() : json_array();
                ps->p++;
            }
            else {
                value = parse_scalar(ps);
            }
            /* setn_new_nocheck and append_new release value on failure. */
            if (value == NULL
                || (is_object
                        ? json_object_setn_new_nocheck(in, key, keylen, value)
                        : json_array_append_new(in, value)) != 0) {
                break;
            }
            if (json_is_object(value) || json_is_array(value)) {
                nest_push(ps, &n, value);
                first = 1;
                continue;
            }
            closed = 0;
        }
        /* After a value or a close: a comma and the next value, or the
         * close of the container, and so on up the nest. */
        for (;;) {
            if (closed && --n.depth == 0) {
                return top;
            }
            skip_space(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                first = 0;
                break;
            }
            if (ps->p >= ps->end || *ps->p != CLOSER(n.open[n.depth - 1])) {
                json_decref(top);
                return NULL;
            }
            ps->p++;
            closed = 1;
        }
    }
    json_decref(top);
    return NULL;
}

json_t *authos_json_parse_object(apr_pool_t *scratch, const char *buf,
                                 apr_size_t len)
{
    parser_t ps;
    json_t *obj;

    ps.p = (const unsigned char *)buf;
    ps.end = ps.p + len;
    ps.pool = scratch;
    skip_space(&ps);
    if (ps.p >= ps.end || *ps.p != '{') {
        return NULL;
    }
    obj = parse_top_object(&ps);
    if (obj == NULL) {
        return NULL;
    }
    skip_space(&ps);
    if (ps.p != ps.end) {       /* anything after the object */
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *authos_json_pool_own(apr_pool_t *p, json_t *json)
{
    if (json != NULL) {
        apr_pool_cleanup_register(p, json, json_cleanup,
                                  apr_pool_cleanup_null);
    }
    return json;
}

json_t *authos_json_object(apr_pool_t *p, const char *buf, apr_size_t len)
{
    return authos_json_pool_own(p, authos_json_parse_object(p, buf, len));
}

const char *authos_json_string(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int authos_json_number(const json_t *obj, const char *key, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v)) {
        return 0;
    }
    *out = json_number_value(v);
    return 1;
}

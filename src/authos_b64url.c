/*
 * authos_b64url.c: strict base64url decoding and encoding.
 */
#include "authos_b64url.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for the URL-safe alphabet, 0xff for everything else ('=', '+',
 * '/', whitespace and NUL included). */
#define X 0xff
static const unsigned char values[256] = {
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  62, X,  X,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X,  X,  X,  X,  X,  X,
    X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X,  X,  X,  X,  63,
    X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
};
#undef X

apr_status_t authos_b64url_decode(apr_pool_t *p, const char *in,
                                  apr_size_t len, unsigned char **out,
                                  apr_size_t *outlen)
{
    const unsigned char *s = (const unsigned char *)in;
    apr_size_t i, o = 0, rem = len % 4, full = len - rem;
    unsigned char *buf;
    apr_uint32_t v, bad = 0;

    *out = NULL;
    *outlen = 0;
    /* RFC 4648 section 5 without padding: a lone trailing character
     * cannot encode a whole byte. */
    if (rem == 1) {
        return APR_EINVAL;
    }
    buf = apr_palloc(p, (len / 4) * 3 + rem + 1);
    /* Four characters make three bytes; a character outside the alphabet
     * sets bit 7 or above of bad (its value is 0xff). */
    for (i = 0; i < full; i += 4) {
        apr_uint32_t a = values[s[i]], b = values[s[i + 1]];
        apr_uint32_t c = values[s[i + 2]], d = values[s[i + 3]];
        bad |= a | b | c | d;
        v = (a << 18) | (b << 12) | (c << 6) | d;
        buf[o++] = (unsigned char)(v >> 16);
        buf[o++] = (unsigned char)(v >> 8);
        buf[o++] = (unsigned char)v;
    }
    if (rem > 0) {
        apr_uint32_t a = values[s[i]], b = values[s[i + 1]];
        apr_uint32_t c = rem == 3 ? values[s[i + 2]] : 0;
        bad |= a | b | c;
        /* The bits left over must be zero (RFC 4648 section 3.5),
         * otherwise several spellings would decode to the same bytes. */
        if (rem == 2 ? (b & 0x0f) != 0 : (c & 0x03) != 0) {
            bad |= 0xff;
        }
        v = (a << 18) | (b << 12) | (c << 6);
        buf[o++] = (unsigned char)(v >> 16);
        if (rem == 3) {
            buf[o++] = (unsigned char)(v >> 8);
        }
    }
    if (bad & ~(apr_uint32_t)63) {
        return APR_EINVAL;
    }
    buf[o] = '\0';
    *out = buf;
    *outlen = o;
    return APR_SUCCESS;
}

char *authos_b64url_encode(apr_pool_t *p, const unsigned char *in,
                           apr_size_t len)
{
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    apr_size_t i, o = 0;

    for (i = 0; i + 2 < len; i += 3) {
        apr_uint32_t v = ((apr_uint32_t)in[i] << 16)
                         | ((apr_uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        apr_uint32_t v = (apr_uint32_t)in[i] << 16;
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
    }
    else if (len - i == 2) {
        apr_uint32_t v = ((apr_uint32_t)in[i] << 16)
                         | ((apr_uint32_t)in[i + 1] << 8);
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return out;
}

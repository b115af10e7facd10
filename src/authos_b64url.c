/*
 * authos_b64url.c: strict base64url decoding and encoding.
 */
#include "authos_b64url.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for the URL-safe alphabet, -1 for everything else ('=', '+', '/',
 * whitespace and NUL included). */
static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

apr_status_t authos_b64url_decode(apr_pool_t *p, const char *in,
                                  apr_size_t len, unsigned char **out,
                                  apr_size_t *outlen)
{
    apr_size_t i, o = 0, rem = len % 4;
    unsigned char *buf;
    apr_uint32_t acc = 0;
    int bits = 0;

    *out = NULL;
    *outlen = 0;
    /* RFC 4648 section 5 without padding: a lone trailing character
     * cannot encode a whole byte. */
    if (rem == 1) {
        return APR_EINVAL;
    }
    buf = apr_palloc(p, (len / 4) * 3 + rem + 1);
    for (i = 0; i < len; i++) {
        int v = value_of((unsigned char)in[i]);
        if (v < 0) {
            return APR_EINVAL;
        }
        acc = (acc << 6) | (apr_uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    /* The bits left over must be zero (RFC 4648 section 3.5), otherwise
     * several spellings would decode to the same bytes. */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
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

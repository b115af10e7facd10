/*
 * fuzz_b64url.c: strict base64url (authos_b64url_decode/_encode, RFC 4648
 * section 5 without padding, STYLE.md rule 9).
 *
 * Invariants:
 * - decoding accepts exactly what a plain reference check accepts: the
 *   URL-safe alphabet only, a length not 1 mod 4, zero trailing bits;
 * - an accepted input is the one spelling of its bytes: they re-encode to
 *   the input, byte for byte, and the output is NUL-terminated;
 * - encode then decode gives the bytes back (round trip), without padding.
 */
#include "fuzz_common.h"

#include "authos_b64url.h"

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

/* The reference: should the strict decoder accept these bytes? */
static int reference_accepts(const uint8_t *s, size_t len)
{
    size_t i;
    int last;

    if (len % 4 == 1) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (value_of(s[i]) < 0) {
            return 0;
        }
    }
    if (len % 4 == 0) {
        return 1;
    }
    /* Two characters carry 8 bits of 12, three carry 16 of 18. */
    last = value_of(s[len - 1]);
    return len % 4 == 2 ? (last & 0x0f) == 0 : (last & 0x03) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    unsigned char *out = (unsigned char *)"unset";
    apr_size_t outlen = 12345;
    apr_status_t rv;
    char *enc;

    rv = authos_b64url_decode(p, (const char *)data, size, &out, &outlen);
    FUZZ_CHECK((rv == APR_SUCCESS) == reference_accepts(data, size));
    if (rv == APR_SUCCESS) {
        FUZZ_CHECK(out != NULL);
        FUZZ_CHECK(outlen == size / 4 * 3 + (size % 4 ? size % 4 - 1 : 0));
        FUZZ_CHECK(out[outlen] == '\0');
        enc = authos_b64url_encode(p, out, outlen);
        FUZZ_CHECK(strlen(enc) == size && memcmp(enc, data, size) == 0);
    }
    else {
        FUZZ_CHECK(rv == APR_EINVAL && out == NULL && outlen == 0);
    }

    /* The other way round: any bytes survive encode + decode. */
    enc = authos_b64url_encode(p, data, size);
    FUZZ_CHECK(strlen(enc) == (size * 4 + 2) / 3);
    FUZZ_CHECK(strchr(enc, '=') == NULL);
    FUZZ_CHECK(authos_b64url_decode(p, enc, strlen(enc), &out, &outlen)
               == APR_SUCCESS);
    FUZZ_CHECK(outlen == size && memcmp(out, data, size) == 0);
    apr_pool_destroy(p);
    return 0;
}

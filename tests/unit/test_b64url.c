/*
 * test_b64url.c: strict base64url (RFC 4648 sections 5 and 10, RFC 7515
 * section 2; STYLE.md Architecture 9).
 */
#include "unit_helpers.h"

#include "authos_b64url.h"

/* RFC 4648 section 10 test vectors, in the URL-safe alphabet and without
 * padding. */
static const struct {
    const char *plain;
    const char *encoded;
} rfc4648[] = {
    {"", ""},
    {"f", "Zg"},
    {"fo", "Zm8"},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg"},
    {"fooba", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy"},
};

/* Decode a NUL-terminated string; expects failure to leave *out NULL. */
static apr_status_t decode(apr_pool_t *p, const char *in, unsigned char **out,
                           apr_size_t *outlen)
{
    return authos_b64url_decode(p, in, strlen(in), out, outlen);
}

static void assert_refused(apr_pool_t *p, const char *in, apr_size_t len)
{
    unsigned char *out = (unsigned char *)"sentinel";
    apr_size_t outlen = 99;

    assert_int_equal(authos_b64url_decode(p, in, len, &out, &outlen),
                     APR_EINVAL);
    assert_null(out);
    assert_int_equal(outlen, 0);
}

static void b64url_encodes_rfc4648_vectors(void **state)
{
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        const char *plain = rfc4648[i].plain;
        assert_string_equal(authos_b64url_encode(p,
                                                 (const unsigned char *)plain,
                                                 strlen(plain)),
                            rfc4648[i].encoded);
    }
}

static void b64url_decodes_rfc4648_vectors(void **state)
{
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        unsigned char *out = NULL;
        apr_size_t outlen = 99;

        assert_int_equal(decode(p, rfc4648[i].encoded, &out, &outlen),
                         APR_SUCCESS);
        assert_non_null(out);
        assert_int_equal(outlen, strlen(rfc4648[i].plain));
        assert_memory_equal(out, rfc4648[i].plain, outlen + 1);
    }
}

static void b64url_uses_dash_and_underscore(void **state)
{
    apr_pool_t *p = *state;
    /* Standard base64 "+/8=" / "-_8" in base64url: the two characters
     * where the alphabets differ. */
    static const unsigned char bytes[] = {0xfb, 0xff};
    unsigned char *out = NULL;
    apr_size_t outlen = 0;

    assert_string_equal(authos_b64url_encode(p, bytes, sizeof(bytes)), "-_8");
    assert_int_equal(decode(p, "-_8", &out, &outlen), APR_SUCCESS);
    assert_int_equal(outlen, 2);
    assert_memory_equal(out, bytes, 2);
}

static void b64url_round_trips_every_byte_value(void **state)
{
    apr_pool_t *p = *state;
    unsigned char all[256];
    apr_size_t len;
    int i;

    for (i = 0; i < 256; i++) {
        all[i] = (unsigned char)(255 - i);
    }
    /* Every length 0..256 exercises the three tail shapes. */
    for (len = 0; len <= sizeof(all); len++) {
        char *enc = authos_b64url_encode(p, all, len);
        unsigned char *out = NULL;
        apr_size_t outlen = 0;

        assert_string_equal(enc, unit_b64url(p, all, len));
        assert_int_equal(decode(p, enc, &out, &outlen), APR_SUCCESS);
        assert_int_equal(outlen, len);
        assert_memory_equal(out, all, len);
    }
}

static void b64url_decoded_output_is_nul_terminated(void **state)
{
    apr_pool_t *p = *state;
    unsigned char *out = NULL;
    apr_size_t outlen = 0;

    assert_int_equal(decode(p, "Zm9vYmE", &out, &outlen), APR_SUCCESS);
    assert_int_equal(outlen, 5);
    assert_int_equal(out[5], '\0');
    assert_string_equal((char *)out, "fooba");

    assert_int_equal(decode(p, "", &out, &outlen), APR_SUCCESS);
    assert_non_null(out);
    assert_int_equal(outlen, 0);
    assert_int_equal(out[0], '\0');
}

static void b64url_decodes_only_len_bytes(void **state)
{
    apr_pool_t *p = *state;
    unsigned char *out = NULL;
    apr_size_t outlen = 0;

    /* Length-explicit: the bytes after len are never read. */
    assert_int_equal(authos_b64url_decode(p, "Zm9vYmFy", 4, &out, &outlen),
                     APR_SUCCESS);
    assert_int_equal(outlen, 3);
    assert_string_equal((char *)out, "foo");
}

static void b64url_rejects_padding(void **state)
{
    apr_pool_t *p = *state;

    assert_refused(p, "Zg==", 4);
    assert_refused(p, "Zm8=", 4);
    assert_refused(p, "Zg=", 3);
    assert_refused(p, "Zm9vYg==", 8);
    assert_refused(p, "====", 4);
}

static void b64url_rejects_standard_alphabet(void **state)
{
    apr_pool_t *p = *state;

    assert_refused(p, "+_8", 3);
    assert_refused(p, "-/8", 3);
    assert_refused(p, "+/8", 3);
}

static void b64url_rejects_whitespace(void **state)
{
    apr_pool_t *p = *state;

    assert_refused(p, "Zm9v Yg", 7);
    assert_refused(p, " Zm9v", 5);
    assert_refused(p, "Zm9v\n", 5);
    assert_refused(p, "Zm9\tv", 5);
    assert_refused(p, "Zm9v\r\nYg", 8);
}

static void b64url_rejects_nul(void **state)
{
    apr_pool_t *p = *state;

    assert_refused(p, "Zm9v\0Yg", 7);
    assert_refused(p, "Z\0g", 3);
    assert_refused(p, "\0\0", 2);
}

static void b64url_rejects_length_one_mod_four(void **state)
{
    apr_pool_t *p = *state;

    assert_refused(p, "Z", 1);
    assert_refused(p, "A", 1);
    assert_refused(p, "Zm9vY", 5);
    assert_refused(p, "Zm9vYmFyZ", 9);
}

static void b64url_rejects_nonzero_trailing_bits(void **state)
{
    apr_pool_t *p = *state;
    unsigned char *out = NULL;
    apr_size_t outlen = 0;

    /* "Zg" is the one spelling of "f"; "Zh".."Zv" carry junk low bits. */
    assert_int_equal(decode(p, "Zg", &out, &outlen), APR_SUCCESS);
    assert_refused(p, "Zh", 2);
    assert_refused(p, "Zv", 2);
    /* "Zm8" is "fo"; "Zm9" differs only in the two unused bits. */
    assert_int_equal(decode(p, "Zm8", &out, &outlen), APR_SUCCESS);
    assert_refused(p, "Zm9", 3);
    assert_refused(p, "Zm9vYh", 6);
}

static void b64url_rejects_high_bit_bytes(void **state)
{
    apr_pool_t *p = *state;

    assert_refused(p, "\xffg", 2);
    assert_refused(p, "Zm9v\x80g", 6);
    /* "Zé" in UTF-8: three bytes, one of them not in the alphabet. */
    assert_refused(p, "Z\xc3\xa9", 3);
}

static void b64url_rejects_other_punctuation(void **state)
{
    apr_pool_t *p = *state;

    assert_refused(p, "Zm.v", 4);
    assert_refused(p, "Zm9v*g", 6);
    assert_refused(p, "Zm9%", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_pool_test(b64url_encodes_rfc4648_vectors),
        unit_pool_test(b64url_decodes_rfc4648_vectors),
        unit_pool_test(b64url_uses_dash_and_underscore),
        unit_pool_test(b64url_round_trips_every_byte_value),
        unit_pool_test(b64url_decoded_output_is_nul_terminated),
        unit_pool_test(b64url_decodes_only_len_bytes),
        unit_pool_test(b64url_rejects_padding),
        unit_pool_test(b64url_rejects_standard_alphabet),
        unit_pool_test(b64url_rejects_whitespace),
        unit_pool_test(b64url_rejects_nul),
        unit_pool_test(b64url_rejects_length_one_mod_four),
        unit_pool_test(b64url_rejects_nonzero_trailing_bits),
        unit_pool_test(b64url_rejects_high_bit_bytes),
        unit_pool_test(b64url_rejects_other_punctuation),
    };

    return cmocka_run_group_tests_name("b64url", tests, NULL, NULL);
}

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

/* An input for the decoder; IN takes a string literal, so that sizeof
 * gives its exact length, NULs included. */
typedef struct {
    const char *text;
    apr_size_t len;
} input_t;

#define IN(s) {(s), sizeof(s) - 1}

/* Every input is refused, leaving *out NULL and *outlen 0. */
#define assert_refused(p, ...)                                                \
    do {                                                                      \
        static const input_t in_[] = {__VA_ARGS__};                           \
        assert_all_refused((p), in_, UNIT_NELTS(in_));                        \
    } while (0)

static void assert_all_refused(apr_pool_t *p, const input_t *in, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char *out = (unsigned char *)"sentinel";
        apr_size_t outlen = 99;

        assert_int_equal(authos_b64url_decode(p, in[i].text, in[i].len, &out,
                                              &outlen),
                         APR_EINVAL);
        assert_null(out);
        assert_int_equal(outlen, 0);
    }
}

/* The first len bytes of in decode to the plain_len bytes of plain,
 * followed by a NUL. */
static void assert_decodes(apr_pool_t *p, const char *in, apr_size_t len,
                           const void *plain, apr_size_t plain_len)
{
    unsigned char *out = NULL;
    apr_size_t outlen = 99;

    assert_int_equal(authos_b64url_decode(p, in, len, &out, &outlen),
                     APR_SUCCESS);
    assert_non_null(out);
    assert_int_equal(outlen, plain_len);
    assert_memory_equal(out, plain, plain_len);
    assert_int_equal(out[plain_len], '\0');
}

static void b64url_encodes_rfc4648_vectors(void **state)
{
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < UNIT_NELTS(rfc4648); i++) {
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

    for (i = 0; i < UNIT_NELTS(rfc4648); i++) {
        const char *in = rfc4648[i].encoded, *plain = rfc4648[i].plain;
        assert_decodes(p, in, strlen(in), plain, strlen(plain));
    }
}

static void b64url_uses_dash_and_underscore(void **state)
{
    apr_pool_t *p = *state;
    /* Standard base64 "+/8=" / "-_8" in base64url: the two characters
     * where the alphabets differ. */
    static const unsigned char bytes[] = {0xfb, 0xff};

    assert_string_equal(authos_b64url_encode(p, bytes, sizeof(bytes)), "-_8");
    assert_decodes(p, "-_8", 3, bytes, sizeof(bytes));
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

        assert_string_equal(enc, unit_b64url(p, all, len));
        assert_decodes(p, enc, strlen(enc), all, len);
    }
}

static void b64url_decoded_output_is_nul_terminated(void **state)
{
    apr_pool_t *p = *state;

    /* assert_decodes checks the NUL after the output. */
    assert_decodes(p, "Zm9vYmE", 7, "fooba", 5);
    assert_decodes(p, "", 0, "", 0);
}

static void b64url_decodes_only_len_bytes(void **state)
{
    /* Length-explicit: the bytes after len are never read. */
    assert_decodes(*state, "Zm9vYmFy", 4, "foo", 3);
}

static void b64url_rejects_padding(void **state)
{
    assert_refused(*state, IN("Zg=="), IN("Zm8="), IN("Zg="), IN("Zm9vYg=="),
                   IN("===="));
}

static void b64url_rejects_standard_alphabet(void **state)
{
    assert_refused(*state, IN("+_8"), IN("-/8"), IN("+/8"));
}

static void b64url_rejects_whitespace(void **state)
{
    assert_refused(*state, IN("Zm9v Yg"), IN(" Zm9v"), IN("Zm9v\n"),
                   IN("Zm9\tv"), IN("Zm9v\r\nYg"));
}

static void b64url_rejects_nul(void **state)
{
    assert_refused(*state, IN("Zm9v\0Yg"), IN("Z\0g"), IN("\0\0"));
}

static void b64url_rejects_length_one_mod_four(void **state)
{
    assert_refused(*state, IN("Z"), IN("A"), IN("Zm9vY"), IN("Zm9vYmFyZ"));
}

static void b64url_rejects_nonzero_trailing_bits(void **state)
{
    apr_pool_t *p = *state;

    /* "Zg" is the one spelling of "f"; "Zh".."Zv" carry junk low bits. */
    assert_decodes(p, "Zg", 2, "f", 1);
    assert_refused(p, IN("Zh"), IN("Zv"));
    /* "Zm8" is "fo"; "Zm9" differs only in the two unused bits. */
    assert_decodes(p, "Zm8", 3, "fo", 2);
    assert_refused(p, IN("Zm9"), IN("Zm9vYh"));
}

static void b64url_rejects_high_bit_bytes(void **state)
{
    /* The last: "Zé" in UTF-8, three bytes, one of them not in the
     * alphabet. */
    assert_refused(*state, IN("\xffg"), IN("Zm9v\x80g"), IN("Z\xc3\xa9"));
}

static void b64url_rejects_other_punctuation(void **state)
{
    assert_refused(*state, IN("Zm.v"), IN("Zm9v*g"), IN("Zm9%"));
}

/* A decoder that follows RFC 4648 literally, one character at a time, to
 * check the table-driven one against: 1 and the bytes, or 0. */
static int reference_decode(const unsigned char *in, size_t len,
                            unsigned char *out, size_t *outlen)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned acc = 0, bits = 0;
    size_t i;

    *outlen = 0;
    if (len % 4 == 1) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        const char *hit = in[i] != 0 ? strchr(alphabet, in[i]) : NULL;
        if (hit == NULL) {
            return 0;
        }
        acc = (acc << 6) | (unsigned)(hit - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[(*outlen)++] = (unsigned char)(acc >> bits);
        }
    }
    return (acc & ((1u << bits) - 1)) == 0;
}

/* Every byte value, at every position of inputs of every length from 2 to
 * 9 (each remainder modulo 4, a whole group and a tail), decodes exactly
 * as the reference decoder says: the lookup table and the group-of-four
 * loop have no gap. */
static void b64url_agrees_with_reference_for_every_byte_anywhere(void **state)
{
    apr_pool_t *p = *state;
    unsigned char in[9], ref[8];
    size_t len, pos, reflen;
    unsigned v;

    for (len = 2; len <= sizeof(in); len++) {
        for (pos = 0; pos < len; pos++) {
            for (v = 0; v < 256; v++) {
                unsigned char *out = NULL;
                apr_size_t outlen = 0;
                int ok;

                memcpy(in, "QUJDREVGR", sizeof(in));   /* "ABCDEFG" in b64url */
                in[pos] = (unsigned char)v;
                ok = reference_decode(in, len, ref, &reflen);
                assert_int_equal(authos_b64url_decode(p, (const char *)in, len,
                                                      &out, &outlen),
                                 ok ? APR_SUCCESS : APR_EINVAL);
                if (ok) {
                    assert_int_equal(outlen, reflen);
                    assert_memory_equal(out, ref, reflen);
                }
            }
        }
    }
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
        unit_pool_test(b64url_agrees_with_reference_for_every_byte_anywhere),
    };

    return cmocka_run_group_tests_name("b64url", tests, NULL, NULL);
}

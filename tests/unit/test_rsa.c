/*
 * test_rsa.c: RSA public keys from JWK members and RS256 verification
 * (RFC 7518 sections 3.3 and 6.3.1; SPEC section 5 steps 3 and 4).
 */
#include "unit_helpers.h"

#include <apr_thread_proc.h>
#include <openssl/err.h>

#include "authos_b64url.h"
#include "authos_rsa.h"

/* RFC 7515 appendix A.2: the RSA key (A.2.1) and the RS256 JWS over
 * {"alg":"RS256"} and the A.1 claims (A.2.1 and A.2.2). */
static const char a2_n[] =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qP"
    "CJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47s"
    "oMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2"
    "R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoud"
    "F8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
static const char a2_e[] = "AQAB";
static const char a2_signing_input[] =
    "eyJhbGciOiJSUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
static const char a2_signature[] =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
    "p0igcN_IoypGlUPQGe77Rw";

static const unsigned char e_65537[] = {0x01, 0x00, 0x01};

/* One generated key for the padding/digest confusion tests. */
static EVP_PKEY *signer;

static int group_setup(void **state)
{
    (void)state;
    unit_apr_init();
    signer = unit_rsa_key(2048);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(signer);
    return 0;
}

static unsigned char *b64(apr_pool_t *p, const char *s, apr_size_t *len)
{
    unsigned char *out = NULL;

    assert_int_equal(authos_b64url_decode(p, s, strlen(s), &out, len),
                     APR_SUCCESS);
    return out;
}

/* The A.2 public key through authos_rsa_public_key. */
static EVP_PKEY *a2_key(apr_pool_t *p)
{
    apr_size_t nlen, elen;
    unsigned char *n = b64(p, a2_n, &nlen);
    unsigned char *e = b64(p, a2_e, &elen);
    EVP_PKEY *key = authos_rsa_public_key(n, nlen, e, elen);

    assert_non_null(key);
    return key;
}

static int verify(EVP_PKEY *key, const void *msg, apr_size_t msglen,
                  const unsigned char *sig, apr_size_t siglen)
{
    return authos_rs256_verify(key, msg, msglen, sig, siglen);
}

static void rsa_verifies_rfc7515_a2_example(void **state)
{
    apr_pool_t *p = *state;
    EVP_PKEY *key = a2_key(p);
    apr_size_t siglen;
    unsigned char *sig = b64(p, a2_signature, &siglen);

    assert_int_equal(EVP_PKEY_get_bits(key), 2048);
    assert_int_equal(siglen, 256);
    assert_int_equal(verify(key, a2_signing_input, strlen(a2_signing_input),
                            sig, siglen),
                     1);
    EVP_PKEY_free(key);
}

static void rsa_rejects_flipped_signature_bit(void **state)
{
    apr_pool_t *p = *state;
    EVP_PKEY *key = a2_key(p);
    apr_size_t siglen, i;
    unsigned char *sig = b64(p, a2_signature, &siglen);
    static const apr_size_t where[] = {0, 1, 127, 254, 255};

    for (i = 0; i < UNIT_NELTS(where); i++) {
        sig[where[i]] ^= 0x01;
        assert_int_equal(verify(key, a2_signing_input,
                                strlen(a2_signing_input), sig, siglen),
                         0);
        sig[where[i]] ^= 0x01;
    }
    /* Restored, it verifies again: the flips were the only change. */
    assert_int_equal(verify(key, a2_signing_input, strlen(a2_signing_input),
                            sig, siglen),
                     1);
    EVP_PKEY_free(key);
}

static void rsa_rejects_flipped_message_bit(void **state)
{
    apr_pool_t *p = *state;
    EVP_PKEY *key = a2_key(p);
    apr_size_t siglen, len = strlen(a2_signing_input);
    unsigned char *sig = b64(p, a2_signature, &siglen);
    char *msg = apr_pstrdup(p, a2_signing_input);

    msg[0] ^= 0x01;
    assert_int_equal(verify(key, msg, len, sig, siglen), 0);
    msg[0] ^= 0x01;
    msg[len - 1] ^= 0x20;
    assert_int_equal(verify(key, msg, len, sig, siglen), 0);
    msg[len - 1] ^= 0x20;
    /* One byte short, or one byte more, is another message. */
    assert_int_equal(verify(key, msg, len - 1, sig, siglen), 0);
    msg = apr_pstrcat(p, a2_signing_input, "x", NULL);
    assert_int_equal(verify(key, msg, len + 1, sig, siglen), 0);
    EVP_PKEY_free(key);
}

static void rsa_rejects_truncated_signature(void **state)
{
    apr_pool_t *p = *state;
    EVP_PKEY *key = a2_key(p);
    apr_size_t siglen, len = strlen(a2_signing_input);
    unsigned char *sig = b64(p, a2_signature, &siglen);

    assert_int_equal(verify(key, a2_signing_input, len, sig, siglen - 1), 0);
    assert_int_equal(verify(key, a2_signing_input, len, sig + 1, siglen - 1),
                     0);
    assert_int_equal(verify(key, a2_signing_input, len, sig, 0), 0);
    EVP_PKEY_free(key);
}

static void rsa_rejects_signature_with_leading_zero_octet(void **state)
{
    apr_pool_t *p = *state;
    EVP_PKEY *key = a2_key(p);
    apr_size_t siglen;
    unsigned char *sig = b64(p, a2_signature, &siglen);
    unsigned char *longer = apr_palloc(p, siglen + 1);

    /* Same integer, one more octet: a signature has exactly the
     * modulus length (RFC 8017 section 8.2.2 step 1). */
    longer[0] = 0;
    memcpy(longer + 1, sig, siglen);
    assert_int_equal(verify(key, a2_signing_input, strlen(a2_signing_input),
                            longer, siglen + 1),
                     0);
    EVP_PKEY_free(key);
}

static void rsa_rejects_missing_key(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t siglen;
    unsigned char *sig = b64(p, a2_signature, &siglen);

    assert_int_equal(verify(NULL, a2_signing_input, strlen(a2_signing_input),
                            sig, siglen),
                     0);
}

/* Sign msg with signer under digest md and optional PSS padding. */
static unsigned char *sign_with(apr_pool_t *p, const char *md, int pss,
                                const char *msg, size_t *siglen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *sig;

    assert_non_null(ctx);
    assert_int_equal(
        EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, signer, NULL), 1);
    if (pss) {
        assert_int_equal(
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    }
    assert_int_equal(EVP_DigestSign(ctx, NULL, siglen,
                                    (const unsigned char *)msg, strlen(msg)),
                     1);
    sig = apr_palloc(p, *siglen);
    assert_int_equal(EVP_DigestSign(ctx, sig, siglen,
                                    (const unsigned char *)msg, strlen(msg)),
                     1);
    EVP_MD_CTX_free(ctx);
    return sig;
}

static void rsa_verifies_only_pkcs1_v15_sha256(void **state)
{
    apr_pool_t *p = *state;
    const char *msg = "header.payload";
    unsigned char *sig;
    size_t siglen;

    sig = sign_with(p, "SHA256", 0, msg, &siglen);
    assert_int_equal(verify(signer, msg, strlen(msg), sig, siglen), 1);
    /* RS384 and PS256 signatures by the same key are not RS256 ones: the
     * token's alg never picks the algorithm. */
    sig = sign_with(p, "SHA384", 0, msg, &siglen);
    assert_int_equal(verify(signer, msg, strlen(msg), sig, siglen), 0);
    sig = sign_with(p, "SHA256", 1, msg, &siglen);
    assert_int_equal(verify(signer, msg, strlen(msg), sig, siglen), 0);
}

static void rsa_rejects_signature_from_another_key(void **state)
{
    apr_pool_t *p = *state;
    EVP_PKEY *key = a2_key(p);
    const char *msg = "header.payload";
    unsigned char *sig;
    size_t siglen;

    sig = sign_with(p, "SHA256", 0, msg, &siglen);
    assert_int_equal(siglen, 256);
    assert_int_equal(verify(key, msg, strlen(msg), sig, siglen), 0);
    EVP_PKEY_free(key);
}

/* authos_rsa_public_key over an n of len octets: first, then fill. */
static EVP_PKEY *key_of(apr_pool_t *p, apr_size_t len, unsigned char first,
                        unsigned char fill)
{
    unsigned char *n = apr_palloc(p, len);

    memset(n, fill, len);
    n[0] = first;
    n[len - 1] |= 1;
    return authos_rsa_public_key(n, len, e_65537, sizeof(e_65537));
}

static void rsa_refuses_keys_under_2048_bits(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t nlen, elen;
    unsigned char *n = b64(p, a2_n, &nlen);
    unsigned char *e = b64(p, a2_e, &elen);
    EVP_PKEY *small = unit_rsa_key(1024);
    BIGNUM *bn = NULL;
    unsigned char small_n[128];

    /* 2047 bits: 256 octets, top bit clear. */
    assert_null(key_of(p, 256, 0x7f, 0xff));
    /* The RFC modulus without its first octet: 2040 bits. */
    assert_null(authos_rsa_public_key(n + 1, nlen - 1, e, elen));
    /* A real 1024-bit key. */
    assert_int_equal(EVP_PKEY_get_bn_param(small, OSSL_PKEY_PARAM_RSA_N, &bn),
                     1);
    assert_int_equal(BN_bn2bin(bn, small_n), 128);
    assert_null(authos_rsa_public_key(small_n, 128, e, elen));
    BN_free(bn);
    EVP_PKEY_free(small);
}

static void rsa_accepts_2048_to_8192_bits(void **state)
{
    apr_pool_t *p = *state;
    EVP_PKEY *key;

    key = key_of(p, 256, 0x80, 0x5a);
    assert_non_null(key);
    assert_int_equal(EVP_PKEY_get_bits(key), 2048);
    EVP_PKEY_free(key);
    key = key_of(p, 1024, 0xff, 0xa5);
    assert_non_null(key);
    assert_int_equal(EVP_PKEY_get_bits(key), 8192);
    EVP_PKEY_free(key);
}

static void rsa_refuses_keys_over_8192_bits(void **state)
{
    apr_pool_t *p = *state;

    /* 8193 bits. */
    assert_null(key_of(p, 1025, 0x01, 0xa5));
}

static void rsa_refuses_leading_zero_octet_in_n(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t nlen, elen;
    unsigned char *n = b64(p, a2_n, &nlen);
    unsigned char *e = b64(p, a2_e, &elen);
    unsigned char *padded = apr_palloc(p, nlen + 1);
    EVP_PKEY *key;

    /* The same modulus is accepted without the extra octet. */
    key = authos_rsa_public_key(n, nlen, e, elen);
    assert_non_null(key);
    EVP_PKEY_free(key);
    padded[0] = 0;
    memcpy(padded + 1, n, nlen);
    assert_null(authos_rsa_public_key(padded, nlen + 1, e, elen));
}

static void rsa_refuses_leading_zero_octet_in_e(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t nlen;
    unsigned char *n = b64(p, a2_n, &nlen);
    static const unsigned char e[] = {0x00, 0x01, 0x00, 0x01};

    assert_null(authos_rsa_public_key(n, nlen, e, sizeof(e)));
}

static void rsa_refuses_even_or_unit_exponent(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t nlen;
    unsigned char *n = b64(p, a2_n, &nlen);
    static const unsigned char e_65536[] = {0x01, 0x00, 0x00};
    static const unsigned char e_2[] = {0x02};
    static const unsigned char e_1[] = {0x01};
    static const unsigned char e_3[] = {0x03};
    EVP_PKEY *key;

    assert_null(authos_rsa_public_key(n, nlen, e_65536, sizeof(e_65536)));
    assert_null(authos_rsa_public_key(n, nlen, e_2, sizeof(e_2)));
    assert_null(authos_rsa_public_key(n, nlen, e_1, sizeof(e_1)));
    /* An odd exponent other than 1 is a key. */
    key = authos_rsa_public_key(n, nlen, e_3, sizeof(e_3));
    assert_non_null(key);
    EVP_PKEY_free(key);
}

static void rsa_refuses_empty_or_oversized_members(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t nlen;
    unsigned char *n = b64(p, a2_n, &nlen);
    static const unsigned char e9[] = {0x01, 0, 0, 0, 0, 0, 0, 0, 0x01};

    assert_null(authos_rsa_public_key(n, 0, e_65537, sizeof(e_65537)));
    assert_null(authos_rsa_public_key(n, nlen, e_65537, 0));
    /* An exponent wider than 64 bits. */
    assert_null(authos_rsa_public_key(n, nlen, e9, sizeof(e9)));
}

/* The context made once per key: copies verify, a failed verification
 * leaves a copy usable, and each copy keeps the digest and padding. */
static void rsa_context_copies_verify_repeatedly(void **state)
{
    apr_pool_t *p = *state;
    const char *msg = "header.payload";
    size_t siglen, badlen;
    unsigned char *sig = sign_with(p, "SHA256", 0, msg, &siglen);
    unsigned char *rs384 = sign_with(p, "SHA384", 0, msg, &badlen);
    EVP_PKEY_CTX *tmpl = authos_rs256_ctx_new(signer);
    int i;

    assert_non_null(tmpl);
    for (i = 0; i < 3; i++) {
        EVP_PKEY_CTX *copy = EVP_PKEY_CTX_dup(tmpl);

        assert_non_null(copy);
        assert_int_equal(authos_rs256_verify_ctx(copy,
                                                 (const unsigned char *)msg,
                                                 strlen(msg), rs384, badlen),
                         0);
        assert_int_equal(authos_rs256_verify_ctx(copy,
                                                 (const unsigned char *)msg,
                                                 strlen(msg), sig, siglen),
                         1);
        assert_int_equal(authos_rs256_verify_ctx(copy,
                                                 (const unsigned char *)msg,
                                                 strlen(msg) - 1, sig, siglen),
                         0);
        EVP_PKEY_CTX_free(copy);
    }
    /* The template itself still verifies, and nothing was left queued. */
    assert_int_equal(authos_rs256_verify_ctx(tmpl, (const unsigned char *)msg,
                                             strlen(msg), sig, siglen),
                     1);
    assert_int_equal(ERR_peek_error(), 0);
    EVP_PKEY_CTX_free(tmpl);
}

static void rsa_context_refuses_without_context(void **state)
{
    apr_pool_t *p = *state;
    const char *msg = "header.payload";
    size_t siglen;
    unsigned char *sig = sign_with(p, "SHA256", 0, msg, &siglen);

    assert_null(authos_rs256_ctx_new(NULL));
    assert_int_equal(authos_rs256_verify_ctx(NULL, (const unsigned char *)msg,
                                             strlen(msg), sig, siglen),
                     0);
}

#define CTX_THREADS 4
#define CTX_ROUNDS 40

typedef struct {
    EVP_PKEY_CTX *tmpl;    /* shared, read-only */
    const char *msg;
    const unsigned char *sig;
    size_t siglen;
    int right, wrong;
} ctx_worker_t;

/* As the module's threads do: copy the shared template, verify a good and
 * a forged signature with the copy, free it. */
static void *APR_THREAD_FUNC ctx_worker(apr_thread_t *t, void *data)
{
    ctx_worker_t *w = data;
    unsigned char forged[1024];
    int i;

    (void)t;
    memcpy(forged, w->sig, w->siglen);
    forged[w->siglen / 2] ^= 0x01;
    for (i = 0; i < CTX_ROUNDS; i++) {
        EVP_PKEY_CTX *copy = EVP_PKEY_CTX_dup(w->tmpl);
        int good = authos_rs256_verify_ctx(copy, (const unsigned char *)w->msg,
                                           strlen(w->msg), w->sig, w->siglen);
        int bad = authos_rs256_verify_ctx(copy, (const unsigned char *)w->msg,
                                          strlen(w->msg), forged, w->siglen);

        EVP_PKEY_CTX_free(copy);
        if (good == 1 && bad == 0) {
            w->right++;
        }
        else {
            w->wrong++;
        }
    }
    return NULL;
}

static void rsa_context_copied_by_threads(void **state)
{
    apr_pool_t *p = *state;
    const char *msg = "header.payload";
    size_t siglen;
    unsigned char *sig = sign_with(p, "SHA256", 0, msg, &siglen);
    EVP_PKEY_CTX *tmpl = authos_rs256_ctx_new(signer);
    apr_thread_t *threads[CTX_THREADS];
    ctx_worker_t w[CTX_THREADS];
    int i;

    assert_non_null(tmpl);
    assert_true(siglen <= 1024);
    for (i = 0; i < CTX_THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].tmpl = tmpl;
        w[i].msg = msg;
        w[i].sig = sig;
        w[i].siglen = siglen;
        assert_int_equal(apr_thread_create(&threads[i], NULL, ctx_worker,
                                           &w[i], p),
                         APR_SUCCESS);
    }
    for (i = 0; i < CTX_THREADS; i++) {
        apr_status_t rv = APR_EGENERAL;

        assert_int_equal(apr_thread_join(&rv, threads[i]), APR_SUCCESS);
        assert_int_equal(w[i].right, CTX_ROUNDS);
        assert_int_equal(w[i].wrong, 0);
    }
    EVP_PKEY_CTX_free(tmpl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_pool_test(rsa_verifies_rfc7515_a2_example),
        unit_pool_test(rsa_rejects_flipped_signature_bit),
        unit_pool_test(rsa_rejects_flipped_message_bit),
        unit_pool_test(rsa_rejects_truncated_signature),
        unit_pool_test(rsa_rejects_signature_with_leading_zero_octet),
        unit_pool_test(rsa_rejects_missing_key),
        unit_pool_test(rsa_verifies_only_pkcs1_v15_sha256),
        unit_pool_test(rsa_rejects_signature_from_another_key),
        unit_pool_test(rsa_refuses_keys_under_2048_bits),
        unit_pool_test(rsa_accepts_2048_to_8192_bits),
        unit_pool_test(rsa_refuses_keys_over_8192_bits),
        unit_pool_test(rsa_refuses_leading_zero_octet_in_n),
        unit_pool_test(rsa_refuses_leading_zero_octet_in_e),
        unit_pool_test(rsa_refuses_even_or_unit_exponent),
        unit_pool_test(rsa_refuses_empty_or_oversized_members),
        unit_pool_test(rsa_context_copies_verify_repeatedly),
        unit_pool_test(rsa_context_refuses_without_context),
        unit_pool_test(rsa_context_copied_by_threads),
    };

    return cmocka_run_group_tests_name("rsa", tests, group_setup,
                                       group_teardown);
}

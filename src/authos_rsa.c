/*
 * authos_rsa.c: RSA public keys from JWK members and RS256 verification.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "authos_rsa.h"
#include "authos_sha256.h"

EVP_PKEY *authos_rsa_public_key(const unsigned char *n, apr_size_t nlen,
                                const unsigned char *e, apr_size_t elen)
{
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    int bits;

    /* RFC 7518 section 6.3.1.1: n and e are unsigned big-endian without
     * leading zero octets; we tolerate none, so a key has one spelling. */
    if (nlen == 0 || elen == 0 || elen > 8 || n[0] == 0 || e[0] == 0) {
        return NULL;
    }
    bn_n = BN_bin2bn(n, (int)nlen, NULL);
    bn_e = BN_bin2bn(e, (int)elen, NULL);
    if (bn_n == NULL || bn_e == NULL) {
        goto done;
    }
    bits = BN_num_bits(bn_n);
    if (bits < AUTHOS_RSA_MIN_BITS || bits > AUTHOS_RSA_MAX_BITS
        || !BN_is_odd(bn_e) || BN_is_one(bn_e)) {
        goto done;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
        goto done;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        pkey = NULL;
    }

done:
    if (pkey == NULL) {
        ERR_clear_error();
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return pkey;
}

EVP_PKEY_CTX *authos_rs256_ctx_new(EVP_PKEY *key)
{
    EVP_PKEY_CTX *ctx;

    if (key == NULL) {
        return NULL;
    }
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

    /* PKCS#1 v1.5 with the SHA-256 DigestInfo: a signature made over
     * another digest does not verify. */
    if (ctx == NULL || EVP_PKEY_verify_init(ctx) <= 0
        || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0
        || EVP_PKEY_CTX_set_signature_md(ctx, authos_sha256_md()) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        return NULL;
    }
    return ctx;
}

int authos_rs256_verify_ctx(EVP_PKEY_CTX *ctx, const unsigned char *msg,
                            apr_size_t msglen, const unsigned char *sig,
                            apr_size_t siglen)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_PKEY *key = ctx != NULL ? EVP_PKEY_CTX_get0_pkey(ctx) : NULL;

    /* A PKCS#1 v1.5 signature is exactly as long as the modulus. */
    if (key == NULL || siglen == 0
        || siglen != (apr_size_t)EVP_PKEY_get_size(key)) {
        return 0;
    }
    if (EVP_Digest(msg, msglen, md, &mdlen, authos_sha256_md(), NULL) == 1
        && mdlen == sizeof(md)
        && EVP_PKEY_verify(ctx, sig, siglen, md, mdlen) == 1) {
        return 1;
    }
    /* Keep the thread's OpenSSL error queue from growing. */
    ERR_clear_error();
    return 0;
}

int authos_rs256_verify(EVP_PKEY *key, const unsigned char *msg,
                        apr_size_t msglen, const unsigned char *sig,
                        apr_size_t siglen)
{
    EVP_PKEY_CTX *ctx = authos_rs256_ctx_new(key);
    int ok;

    ok = authos_rs256_verify_ctx(ctx, msg, msglen, sig, siglen);
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

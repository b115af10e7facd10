/*
 * unit_helpers.h: shared fixtures for the cmocka unit tests of src/.
 *
 * Everything here is static inline so a test file that does not use a
 * helper compiles without unused-function warnings (-Werror). The helpers
 * build tokens and key sets with OpenSSL and plain string formatting, not
 * with the code under test, so a bug in src/ cannot hide itself.
 */
#ifndef UNIT_HELPERS_H
#define UNIT_HELPERS_H

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

/* apr_initialize once per test binary; apr_terminate at exit so valgrind
 * sees APR's global pool released. */
static inline void unit_apr_init(void)
{
    static int done = 0;

    if (!done) {
        if (apr_initialize() != APR_SUCCESS) {
            abort();
        }
        atexit(apr_terminate);
        done = 1;
    }
}

/* Per-test fixture: *state is a fresh pool, destroyed after the test (so
 * every json_t and EVP_PKEY the core bound to it is released too). */
static inline int unit_pool_setup(void **state)
{
    apr_pool_t *p = NULL;

    unit_apr_init();
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return -1;
    }
    *state = p;
    return 0;
}

static inline int unit_pool_teardown(void **state)
{
    apr_pool_destroy((apr_pool_t *)*state);
    *state = NULL;
    return 0;
}

/* Shorthand for a test using the pool fixture. */
#define unit_pool_test(f)                                                     \
    cmocka_unit_test_setup_teardown(f, unit_pool_setup, unit_pool_teardown)

/* base64url without padding (RFC 4648 section 5), independent of
 * authos_b64url_encode: OpenSSL's base64, then the URL-safe alphabet. */
static inline char *unit_b64url(apr_pool_t *p, const void *data,
                                apr_size_t len)
{
    char *out = apr_palloc(p, 4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    int i;

    while (n > 0 && out[n - 1] == '=') {
        n--;
    }
    out[n] = '\0';
    for (i = 0; i < n; i++) {
        if (out[i] == '+') {
            out[i] = '-';
        }
        else if (out[i] == '/') {
            out[i] = '_';
        }
    }
    return out;
}

static inline char *unit_b64url_str(apr_pool_t *p, const char *s)
{
    return unit_b64url(p, s, strlen(s));
}

/* "b64(header).b64(payload).sig_b64": a token whose signature part is
 * given verbatim (for parse tests that never verify). */
static inline char *unit_token_raw(apr_pool_t *p, const char *header,
                                   const char *payload, const char *sig_b64)
{
    return apr_pstrcat(p, unit_b64url_str(p, header), ".",
                       unit_b64url_str(p, payload), ".", sig_b64, NULL);
}

/* A fresh RSA key pair; the caller frees it with EVP_PKEY_free. */
static inline EVP_PKEY *unit_rsa_key(unsigned bits)
{
    EVP_PKEY *key = EVP_RSA_gen(bits);

    if (key == NULL) {
        abort();
    }
    return key;
}

/* RSASSA-PKCS1-v1_5 SHA-256 signature of msg, base64url. */
static inline char *unit_rs256_sign_b64(apr_pool_t *p, EVP_PKEY *key,
                                        const char *msg, apr_size_t len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *sig;
    size_t siglen = 0;
    char *out;

    if (md == NULL
        || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL)
               != 1
        || EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)msg, len)
               != 1) {
        abort();
    }
    sig = apr_palloc(p, siglen);
    if (EVP_DigestSign(md, sig, &siglen, (const unsigned char *)msg, len)
        != 1) {
        abort();
    }
    EVP_MD_CTX_free(md);
    out = unit_b64url(p, sig, siglen);
    return out;
}

/* A compact RS256 JWS over the header and payload JSON texts (taken as
 * bytes, so they may be deliberately malformed), signed with key. */
static inline char *unit_token(apr_pool_t *p, const char *header,
                               const char *payload, EVP_PKEY *key)
{
    char *input = apr_pstrcat(p, unit_b64url_str(p, header), ".",
                              unit_b64url_str(p, payload), NULL);

    return apr_pstrcat(p, input, ".",
                       unit_rs256_sign_b64(p, key, input, strlen(input)),
                       NULL);
}

/* A compact HS256 JWS with secret as the HMAC key (the classic algorithm
 * confusion attack when secret is the issuer's public key). */
static inline char *unit_hs256_token(apr_pool_t *p, const char *header,
                                     const char *payload, const void *secret,
                                     apr_size_t secret_len)
{
    char *input = apr_pstrcat(p, unit_b64url_str(p, header), ".",
                              unit_b64url_str(p, payload), NULL);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    if (HMAC(EVP_sha256(), secret, (int)secret_len,
             (const unsigned char *)input, strlen(input), mac, &maclen)
        == NULL) {
        abort();
    }
    return apr_pstrcat(p, input, ".", unit_b64url(p, mac, maclen), NULL);
}

/* The SubjectPublicKeyInfo PEM of key, as a pool string. */
static inline char *unit_public_pem(apr_pool_t *p, EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;
    char *out;

    if (bio == NULL || PEM_write_bio_PUBKEY(bio, key) != 1) {
        abort();
    }
    n = BIO_get_mem_data(bio, &data);
    out = apr_pstrmemdup(p, data, (apr_size_t)n);
    BIO_free(bio);
    return out;
}

/* One RSA parameter (OSSL_PKEY_PARAM_RSA_N or _E), base64url big-endian
 * without leading zero octets (RFC 7518 section 6.3.1). */
static inline char *unit_rsa_param_b64(apr_pool_t *p, EVP_PKEY *key,
                                       const char *name)
{
    BIGNUM *bn = NULL;
    unsigned char *buf;
    int len;

    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
        abort();
    }
    buf = apr_palloc(p, (apr_size_t)BN_num_bytes(bn) + 1);
    len = BN_bn2bin(bn, buf);
    BN_free(bn);
    return unit_b64url(p, buf, (apr_size_t)len);
}

/* One RSA JWK member as JSON text. kid, use and alg are left out when
 * NULL. */
static inline char *unit_jwk(apr_pool_t *p, EVP_PKEY *key, const char *kid,
                             const char *use, const char *alg)
{
    return apr_pstrcat(
        p, "{\"kty\":\"RSA\"",
        kid ? apr_psprintf(p, ",\"kid\":\"%s\"", kid) : "",
        use ? apr_psprintf(p, ",\"use\":\"%s\"", use) : "",
        alg ? apr_psprintf(p, ",\"alg\":\"%s\"", alg) : "",
        ",\"n\":\"", unit_rsa_param_b64(p, key, OSSL_PKEY_PARAM_RSA_N),
        "\",\"e\":\"", unit_rsa_param_b64(p, key, OSSL_PKEY_PARAM_RSA_E),
        "\"}", NULL);
}

/* A JWK Set holding one RSA key. */
static inline char *unit_jwks(apr_pool_t *p, EVP_PKEY *key, const char *kid,
                              const char *use, const char *alg)
{
    return apr_pstrcat(p, "{\"keys\":[", unit_jwk(p, key, kid, use, alg),
                       "]}", NULL);
}

#endif

/*
 * authos_jwks.h: JWK Set parsing with the key rules of SPEC section 5
 * step 3.
 */
#ifndef AUTHOS_JWKS_H
#define AUTHOS_JWKS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <openssl/evp.h>

typedef struct {
    const char *kid;
    EVP_PKEY *pkey;   /* freed when the key set's pool is cleared */
    EVP_PKEY_CTX *verifier; /* RS256 template (authos_rs256_ctx_new), as
                             * long-lived as pkey; copy it per use */
    int bits;
    apr_uint64_t fp;  /* fingerprint: SHA-256 of n and e, first 8 bytes */
} authos_jwk_t;

typedef struct {
    apr_array_header_t *keys; /* authos_jwk_t, in JWKS order */
    int skipped;              /* members that are not usable RS256 keys */
} authos_jwks_t;

/* Parse a JWK Set. Usable keys: kty RSA, use absent or "sig", alg absent
 * or "RS256", a non-empty string kid, strict base64url n and e, modulus
 * of 2048 bits or more. Other members are skipped; with duplicate kids the
 * first wins (AuthOS lists its active key first). Returns NULL with *err
 * set when the text is not a JWK Set or holds no usable key: an empty or
 * unusable key set is a failed fetch (SPEC section 8). */
authos_jwks_t *authos_jwks_parse(apr_pool_t *p, const char *text,
                                 apr_size_t len, const char **err);

/* The key with that kid, or NULL. */
const authos_jwk_t *authos_jwks_find(const authos_jwks_t *set,
                                     const char *kid);

#endif

/*
 * authos_rsa.h: RSA public keys from JWK members and RS256 verification,
 * with OpenSSL 3 EVP interfaces only.
 */
#ifndef AUTHOS_RSA_H
#define AUTHOS_RSA_H

#include <apr_pools.h>
#include <openssl/evp.h>

/* SPEC section 5 step 3: shorter moduli are refused. */
#define AUTHOS_RSA_MIN_BITS 2048
/* Larger moduli are refused too: they only cost CPU. */
#define AUTHOS_RSA_MAX_BITS 8192

/* Build an RSA public key from the big-endian modulus and exponent bytes
 * (the decoded JWK "n" and "e"). NULL when they do not make a key. The
 * caller owns the key (EVP_PKEY_free). */
EVP_PKEY *authos_rsa_public_key(const unsigned char *n, apr_size_t nlen,
                                const unsigned char *e, apr_size_t elen);

/* A verify context for RS256 over key, set up once per key (the provider
 * look-ups of a fresh context cost about as much as hashing a token).
 * Threads use copies of it (EVP_PKEY_CTX_dup); the caller frees it with
 * EVP_PKEY_CTX_free. NULL on failure. */
EVP_PKEY_CTX *authos_rs256_ctx_new(EVP_PKEY *key);

/* RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 section 3.3) through a context
 * from authos_rs256_ctx_new (or a copy of one) that no other thread is
 * using: 1 when sig is a valid signature of msg, 0 otherwise. */
int authos_rs256_verify_ctx(EVP_PKEY_CTX *ctx, const unsigned char *msg,
                            apr_size_t msglen, const unsigned char *sig,
                            apr_size_t siglen);

/* The same with a context made for this one call: 1 when sig is a valid
 * signature of msg under key, 0 otherwise. */
int authos_rs256_verify(EVP_PKEY *key, const unsigned char *msg,
                        apr_size_t msglen, const unsigned char *sig,
                        apr_size_t siglen);

#endif

/*
 * authos_sha256.h: SHA-256 with the digest fetched once per process
 * (OpenSSL 3 otherwise looks the algorithm up at every call).
 */
#ifndef AUTHOS_SHA256_H
#define AUTHOS_SHA256_H

#include <apr.h>
#include <openssl/evp.h>

#define AUTHOS_SHA256_LEN 32

/* The SHA-256 EVP_MD, fetched on first use (thread-safe). */
const EVP_MD *authos_sha256_md(void);

/* SHA-256 of len bytes. */
void authos_sha256(const void *data, apr_size_t len,
                   unsigned char out[AUTHOS_SHA256_LEN]);

#endif

/*
 * authos_sha256.c: SHA-256 with a digest fetched once per process.
 */
#include <pthread.h>

#include "authos_sha256.h"

static EVP_MD *sha256;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void fetch(void)
{
    /* Lives as long as the process: one implicit fetch saved per call. */
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *authos_sha256_md(void)
{
    pthread_once(&once, fetch);
    return sha256 != NULL ? sha256 : EVP_sha256();
}

void authos_sha256(const void *data, apr_size_t len,
                   unsigned char out[AUTHOS_SHA256_LEN])
{
    unsigned int n = AUTHOS_SHA256_LEN;

    EVP_Digest(data, len, out, &n, authos_sha256_md(), NULL);
}

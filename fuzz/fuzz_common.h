/*
 * fuzz_common.h: shared by the libFuzzer harnesses in fuzz/ (mk/fuzz.mk).
 *
 * Each harness gets a fresh APR pool per input, destroyed afterwards, so
 * every json_t and EVP_PKEY the core binds to it is released and
 * LeakSanitizer sees a leak per input, not at exit. FUZZ_CHECK aborts on a
 * broken invariant: libFuzzer records the input as a crash.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "authos_claims.h"

/* The claim rules every token and claims seed is made for; they must match
 * fuzz/make_seeds.py. */
#define FUZZ_ISSUER "https://sso.fuzz.example"
#define FUZZ_AUDIENCE "service:acme/billing"
#define FUZZ_NOW 1700000000LL
#define FUZZ_SKEW 30

#define FUZZ_CHECK(cond)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz invariant broken: %s (%s:%d)\n", #cond,     \
                    __FILE__, __LINE__);                                      \
            abort();                                                          \
        }                                                                     \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The process-wide parent pool (APR initialised once). */
static inline apr_pool_t *fuzz_root_pool(void)
{
    static apr_pool_t *root = NULL;

    if (root == NULL) {
        if (apr_initialize() != APR_SUCCESS
            || apr_pool_create(&root, NULL) != APR_SUCCESS) {
            abort();
        }
        /* LeakSanitizer does not find the pointers that pool memory
         * holds (it reported the key set's EVP_PKEYs as leaks at exit):
         * release what the long-lived pool owns before it looks. */
        atexit(apr_terminate);
    }
    return root;
}

/* A fresh pool for one input. */
static inline apr_pool_t *fuzz_pool(void)
{
    apr_pool_t *p = NULL;

    if (apr_pool_create(&p, fuzz_root_pool()) != APR_SUCCESS) {
        abort();
    }
    return p;
}

/* The rules of the seeds: FUZZ_ISSUER, FUZZ_AUDIENCE or "platform",
 * FUZZ_NOW give or take FUZZ_SKEW, REMOTE_USER from sub. The audience
 * array lives in pool p. */
static inline void fuzz_rules(apr_pool_t *p, authos_claim_rules_t *r)
{
    apr_array_header_t *aud = apr_array_make(p, 2, sizeof(const char *));

    APR_ARRAY_PUSH(aud, const char *) = FUZZ_AUDIENCE;
    APR_ARRAY_PUSH(aud, const char *) = "platform";
    r->issuer = FUZZ_ISSUER;
    r->audiences = aud;
    r->now = FUZZ_NOW;
    r->skew = FUZZ_SKEW;
    r->user_claim = "sub";
}

/* The whole of a small file as pool memory (NUL-terminated), or abort. */
static inline char *fuzz_read_file(apr_pool_t *p, const char *path,
                                   apr_size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "fuzz: cannot read %s\n", path);
        abort();
    }
    buf = apr_palloc(p, (apr_size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        abort();
    }
    fclose(f);
    buf[n] = '\0';
    *len = (apr_size_t)n;
    return buf;
}

#endif

/*
 * fuzz_jwks.c: JWK Set parsing (authos_jwks_parse, SPEC section 5 step 3,
 * RFC 7517, RFC 7518 section 6.3) and RS256 over whatever keys it builds.
 *
 * Invariants:
 * - a refusal says why; an accepted set holds at least one key;
 * - every key has a non-empty kid, a public key of 2048 to 8192 bits and
 *   a verify context; kids are unique and authos_jwks_find returns the
 *   first listed (AuthOS lists its active key first);
 * - usable keys plus skipped members are all the members of "keys";
 * - a signature of zero bytes, or of the right length made of input
 *   bytes, never verifies a message that nobody signed (no crash on a
 *   hostile modulus or exponent either).
 */
#include "fuzz_common.h"

#include "authos_jwks.h"
#include "authos_rsa.h"

/* How many members "keys" has, read independently with jansson. */
static size_t members(const uint8_t *data, size_t size)
{
    json_error_t err;
    json_t *root = json_loadb((const char *)data, size, 0, &err);
    size_t n = json_array_size(json_object_get(root, "keys"));

    json_decref(root);
    return n;
}

static void check_key(apr_pool_t *p, const authos_jwks_t *set, int i,
                      const uint8_t *data, size_t size)
{
    const authos_jwk_t *k = &APR_ARRAY_IDX(set->keys, i, authos_jwk_t);
    unsigned char *sig;
    int len;

    FUZZ_CHECK(k->kid != NULL && *k->kid != '\0');
    FUZZ_CHECK(k->pkey != NULL && k->verifier != NULL);
    FUZZ_CHECK(k->bits >= AUTHOS_RSA_MIN_BITS
               && k->bits <= AUTHOS_RSA_MAX_BITS);
    FUZZ_CHECK(EVP_PKEY_get_bits(k->pkey) == k->bits);
    FUZZ_CHECK(authos_jwks_find(set, k->kid) == k);

    len = EVP_PKEY_get_size(k->pkey);
    FUZZ_CHECK(len > 0 && len <= AUTHOS_RSA_MAX_BITS / 8);
    sig = apr_pcalloc(p, (apr_size_t)len);
    memcpy(sig, data, size < (size_t)len ? size : (size_t)len);
    FUZZ_CHECK(authos_rs256_verify_ctx(k->verifier, data, size, sig, 0) == 0);
    /* The template context stays usable: it is copied per use in the
     * module, used directly here (single thread). */
    FUZZ_CHECK(authos_rs256_verify_ctx(k->verifier, (const unsigned char *)"m",
                                       1, sig, (apr_size_t)len)
               == 0);
    FUZZ_CHECK(authos_rs256_verify(k->pkey, (const unsigned char *)"m", 1, sig,
                                   (apr_size_t)len)
               == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *err = NULL;
    authos_jwks_t *set;
    int i;

    set = authos_jwks_parse(p, (const char *)data, size, &err);
    if (set == NULL) {
        FUZZ_CHECK(err != NULL && *err != '\0');
    }
    else {
        FUZZ_CHECK(err == NULL);
        FUZZ_CHECK(set->keys->nelts >= 1 && set->skipped >= 0);
        FUZZ_CHECK((size_t)set->keys->nelts + (size_t)set->skipped
                   == members(data, size));
        for (i = 0; i < set->keys->nelts; i++) {
            check_key(p, set, i, data, size);
        }
    }
    apr_pool_destroy(p);
    return 0;
}

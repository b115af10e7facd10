/*
 * authos_jwks.c: JWK Set parsing (RFC 7517, RFC 7518 section 6.3).
 */
#include <string.h>

#include <apr_strings.h>

#include "authos_b64url.h"
#include "authos_json.h"
#include "authos_jwks.h"
#include "authos_rsa.h"

static apr_status_t pkey_cleanup(void *data)
{
    EVP_PKEY_free((EVP_PKEY *)data);
    return APR_SUCCESS;
}

static apr_status_t verifier_cleanup(void *data)
{
    EVP_PKEY_CTX_free((EVP_PKEY_CTX *)data);
    return APR_SUCCESS;
}

/* Tells two keys with the same kid apart (a cached verification is valid
 * only while the very key that made it is listed). */
static apr_uint64_t fingerprint(const unsigned char *n, apr_size_t nlen,
                                const unsigned char *e, apr_size_t elen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    apr_uint64_t fp = 0;

    if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1
        && EVP_DigestUpdate(ctx, n, nlen) == 1
        && EVP_DigestUpdate(ctx, "\0", 1) == 1
        && EVP_DigestUpdate(ctx, e, elen) == 1
        && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 8) {
        memcpy(&fp, md, sizeof(fp));
    }
    EVP_MD_CTX_free(ctx);
    return fp;
}

/* One member of "keys": a usable key, or NULL to skip it. */
static EVP_PKEY *usable_key(apr_pool_t *p, json_t *jwk, const char **kid,
                            apr_uint64_t *fp)
{
    const char *kty, *use, *alg, *n64, *e64;
    unsigned char *n, *e;
    apr_size_t nlen, elen;
    json_t *kidv;

    if (!json_is_object(jwk)) {
        return NULL;
    }
    kty = authos_json_string(jwk, "kty");
    if (kty == NULL || strcmp(kty, "RSA") != 0) {
        return NULL;
    }
    /* "use" absent or "sig": an encryption key never verifies. */
    if (json_object_get(jwk, "use") != NULL) {
        use = authos_json_string(jwk, "use");
        if (use == NULL || strcmp(use, "sig") != 0) {
            return NULL;
        }
    }
    if (json_object_get(jwk, "alg") != NULL) {
        alg = authos_json_string(jwk, "alg");
        if (alg == NULL || strcmp(alg, "RS256") != 0) {
            return NULL;
        }
    }
    kidv = json_object_get(jwk, "kid");
    if (!json_is_string(kidv) || json_string_length(kidv) == 0) {
        return NULL;
    }
    n64 = authos_json_string(jwk, "n");
    e64 = authos_json_string(jwk, "e");
    if (n64 == NULL || e64 == NULL
        || authos_b64url_decode(p, n64, strlen(n64), &n, &nlen) != APR_SUCCESS
        || authos_b64url_decode(p, e64, strlen(e64), &e, &elen)
               != APR_SUCCESS) {
        return NULL;
    }
    *kid = apr_pstrdup(p, json_string_value(kidv));
    *fp = fingerprint(n, nlen, e, elen);
    /* authos_rsa_public_key refuses moduli under 2048 bits. */
    return authos_rsa_public_key(n, nlen, e, elen);
}

authos_jwks_t *authos_jwks_parse(apr_pool_t *p, const char *text,
                                 apr_size_t len, const char **err)
{
    authos_jwks_t *set;
    json_t *root, *keys, *jwk;
    apr_size_t i;

    root = authos_json_object(p, text, len);
    if (root == NULL) {
        *err = "not a JSON object";
        return NULL;
    }
    keys = json_object_get(root, "keys");
    if (!json_is_array(keys)) {
        *err = "no \"keys\" array";
        return NULL;
    }
    set = apr_pcalloc(p, sizeof(*set));
    set->keys = apr_array_make(p, (int)json_array_size(keys) + 1,
                               sizeof(authos_jwk_t));
    json_array_foreach(keys, i, jwk) {
        const char *kid = NULL;
        apr_uint64_t fp = 0;
        EVP_PKEY *pkey = usable_key(p, jwk, &kid, &fp);
        EVP_PKEY_CTX *verifier;
        authos_jwk_t *slot;

        if (pkey == NULL) {
            set->skipped++;
            continue;
        }
        apr_pool_cleanup_register(p, pkey, pkey_cleanup,
                                  apr_pool_cleanup_null);
        if (authos_jwks_find(set, kid) != NULL) {
            set->skipped++;
            continue;
        }
        verifier = authos_rs256_ctx_new(pkey);
        if (verifier == NULL) {
            *err = "cannot set up RS256 verification (out of memory?)";
            return NULL;
        }
        apr_pool_cleanup_register(p, verifier, verifier_cleanup,
                                  apr_pool_cleanup_null);
        slot = apr_array_push(set->keys);
        slot->kid = kid;
        slot->pkey = pkey;
        slot->verifier = verifier;
        slot->bits = EVP_PKEY_get_bits(pkey);
        slot->fp = fp;
    }
    if (set->keys->nelts == 0) {
        *err = "no usable RS256 key";
        return NULL;
    }
    *err = NULL;
    return set;
}

const authos_jwk_t *authos_jwks_find(const authos_jwks_t *set,
                                     const char *kid)
{
    int i;

    for (i = 0; i < set->keys->nelts; i++) {
        const authos_jwk_t *k = &APR_ARRAY_IDX(set->keys, i, authos_jwk_t);
        if (strcmp(k->kid, kid) == 0) {
            return k;
        }
    }
    return NULL;
}

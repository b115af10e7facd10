/*
 * test_jwks.c: JWK Set parsing with the key rules of SPEC section 5 step 3
 * (RFC 7517 section 4, RFC 7518 section 6.3).
 */
#include "unit_helpers.h"

#include "authos_jwks.h"

/* RFC 7515 appendix A.3: a P-256 public key. */
#define EC_JWK                                                                \
    "{\"kty\":\"EC\",\"kid\":\"ec\",\"crv\":\"P-256\","                       \
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","                  \
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}"
/* RFC 7515 appendix A.1: the HMAC key. */
#define OCT_JWK                                                               \
    "{\"kty\":\"oct\",\"kid\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwV"  \
    "MkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}"

static EVP_PKEY *k1, *k2, *k3, *small;

static int group_setup(void **state)
{
    (void)state;
    unit_apr_init();
    k1 = unit_rsa_key(2048);
    k2 = unit_rsa_key(2048);
    k3 = unit_rsa_key(3072);
    small = unit_rsa_key(1024);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(k3);
    EVP_PKEY_free(small);
    return 0;
}

/* {"keys":[m1,m2,...]} from NULL-terminated member texts. */
static char *set_of(apr_pool_t *p, ...)
{
    va_list ap;
    const char *m;
    char *out = "{\"keys\":[";
    int first = 1;

    va_start(ap, p);
    while ((m = va_arg(ap, const char *)) != NULL) {
        out = apr_pstrcat(p, out, first ? "" : ",", m, NULL);
        first = 0;
    }
    va_end(ap);
    return apr_pstrcat(p, out, "]}", NULL);
}

static authos_jwks_t *parse(apr_pool_t *p, const char *text,
                            const char **err)
{
    *err = "sentinel";
    return authos_jwks_parse(p, text, strlen(text), err);
}

/* The one usable key of set must be kid, equal to key. */
static void assert_only_key(const authos_jwks_t *set, const char *kid,
                            EVP_PKEY *key)
{
    const authos_jwk_t *k;

    assert_non_null(set);
    assert_int_equal(set->keys->nelts, 1);
    k = &APR_ARRAY_IDX(set->keys, 0, authos_jwk_t);
    assert_string_equal(k->kid, kid);
    assert_int_equal(EVP_PKEY_eq(k->pkey, key), 1);
}

static void assert_refused(apr_pool_t *p, const char *text)
{
    const char *err;

    assert_null(parse(p, text, &err));
    assert_non_null(err);
    assert_string_not_equal(err, "sentinel");
}

static void jwks_parses_several_keys_in_order(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    authos_jwks_t *set = parse(
        p,
        set_of(p, unit_jwk(p, k1, "a", "sig", "RS256"),
               unit_jwk(p, k2, "b", NULL, NULL),
               unit_jwk(p, k3, "c", "sig", NULL), NULL),
        &err);
    const authos_jwk_t *k;

    assert_non_null(set);
    assert_null(err);
    assert_int_equal(set->keys->nelts, 3);
    assert_int_equal(set->skipped, 0);
    k = &APR_ARRAY_IDX(set->keys, 0, authos_jwk_t);
    assert_string_equal(k->kid, "a");
    assert_int_equal(k->bits, 2048);
    assert_int_equal(EVP_PKEY_eq(k->pkey, k1), 1);
    k = &APR_ARRAY_IDX(set->keys, 1, authos_jwk_t);
    assert_string_equal(k->kid, "b");
    assert_int_equal(k->bits, 2048);
    assert_int_equal(EVP_PKEY_eq(k->pkey, k2), 1);
    k = &APR_ARRAY_IDX(set->keys, 2, authos_jwk_t);
    assert_string_equal(k->kid, "c");
    assert_int_equal(k->bits, 3072);
    assert_int_equal(EVP_PKEY_eq(k->pkey, k3), 1);
}

static void jwks_ignores_unknown_members(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    char *jwk = unit_jwk(p, k1, "a", "sig", "RS256");
    char *text;

    /* key_ops, x5c, x5t and a top-level extra are not our business. */
    jwk[strlen(jwk) - 1] = '\0';
    text = apr_pstrcat(p, "{\"extra\":1,\"keys\":[", jwk,
                       ",\"key_ops\":[\"verify\"],\"x5t\":\"abc\"}]}", NULL);
    assert_only_key(parse(p, text, &err), "a", k1);
}

static void jwks_skips_non_rsa_keys(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    authos_jwks_t *set = parse(
        p, set_of(p, EC_JWK, OCT_JWK, unit_jwk(p, k1, "a", NULL, NULL), NULL),
        &err);

    assert_only_key(set, "a", k1);
    assert_int_equal(set->skipped, 2);
    assert_null(authos_jwks_find(set, "ec"));
    assert_null(authos_jwks_find(set, "oct"));
}

static void jwks_skips_key_with_kty_not_exactly_rsa(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    char *lower = unit_jwk(p, k1, "lower", NULL, NULL);
    authos_jwks_t *set;

    /* "rsa" is not "RSA" (RFC 7517 section 4.1: case-sensitive). */
    memcpy(strstr(lower, "\"RSA\""), "\"rsa\"", 5);
    set = parse(p, set_of(p, lower, unit_jwk(p, k2, "b", NULL, NULL), NULL),
                &err);
    assert_only_key(set, "b", k2);
    assert_int_equal(set->skipped, 1);
}

static void jwks_skips_key_with_use_enc(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    authos_jwks_t *set = parse(p,
                               set_of(p, unit_jwk(p, k1, "a", "enc", NULL),
                                      unit_jwk(p, k2, "b", "sig", NULL), NULL),
                               &err);

    assert_only_key(set, "b", k2);
    assert_int_equal(set->skipped, 1);
    assert_null(authos_jwks_find(set, "a"));
}

static void jwks_skips_key_with_non_string_use(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    char *jwk = unit_jwk(p, k1, "a", NULL, NULL);
    authos_jwks_t *set;

    jwk = apr_pstrcat(p, "{\"use\":null,", jwk + 1, NULL);
    set = parse(p, set_of(p, jwk, unit_jwk(p, k2, "b", NULL, NULL), NULL),
                &err);
    assert_only_key(set, "b", k2);
}

static void jwks_skips_key_with_alg_other_than_rs256(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    authos_jwks_t *set = parse(
        p,
        set_of(p, unit_jwk(p, k1, "a", NULL, "RS384"),
               unit_jwk(p, k1, "b", NULL, "PS256"),
               unit_jwk(p, k1, "c", NULL, "HS256"),
               unit_jwk(p, k1, "d", NULL, "none"),
               unit_jwk(p, k1, "e", NULL, "rs256"),
               unit_jwk(p, k2, "f", NULL, "RS256"), NULL),
        &err);

    assert_only_key(set, "f", k2);
    assert_int_equal(set->skipped, 5);
}

static void jwks_skips_1024_bit_key(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    authos_jwks_t *set = parse(
        p,
        set_of(p, unit_jwk(p, small, "small", "sig", "RS256"),
               unit_jwk(p, k1, "a", "sig", "RS256"), NULL),
        &err);

    assert_only_key(set, "a", k1);
    assert_int_equal(set->skipped, 1);
    assert_null(authos_jwks_find(set, "small"));
}

static void jwks_skips_key_without_usable_kid(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    char *numeric = apr_pstrcat(p, "{\"kid\":7,",
                                unit_jwk(p, k1, NULL, NULL, NULL) + 1, NULL);
    authos_jwks_t *set = parse(
        p,
        set_of(p, unit_jwk(p, k1, NULL, "sig", "RS256"),
               unit_jwk(p, k1, "", "sig", "RS256"), numeric,
               unit_jwk(p, k2, "b", "sig", "RS256"), NULL),
        &err);

    assert_only_key(set, "b", k2);
    assert_int_equal(set->skipped, 3);
}

static void jwks_skips_key_with_bad_modulus_or_exponent(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    char *n = unit_rsa_param_b64(p, k1, OSSL_PKEY_PARAM_RSA_N);
    BIGNUM *bn = NULL;
    unsigned char buf[257];
    authos_jwks_t *set;
    char *padded_n, *zero_n;

    /* n with a leading zero octet: same number, second spelling. */
    assert_int_equal(EVP_PKEY_get_bn_param(k1, OSSL_PKEY_PARAM_RSA_N, &bn),
                     1);
    buf[0] = 0;
    assert_int_equal(BN_bn2bin(bn, buf + 1), 256);
    BN_free(bn);
    zero_n = unit_b64url(p, buf, sizeof(buf));
    /* n in padded base64 (256 octets need "=="), refused by strict
     * base64url. */
    padded_n = apr_pstrcat(p, n, "==", NULL);

    set = parse(
        p,
        set_of(p,
               apr_psprintf(p, "{\"kty\":\"RSA\",\"kid\":\"pad\",\"n\":\"%s\","
                               "\"e\":\"AQAB\"}",
                            padded_n),
               apr_psprintf(p, "{\"kty\":\"RSA\",\"kid\":\"zero\",\"n\":\"%s\","
                               "\"e\":\"AQAB\"}",
                            zero_n),
               apr_psprintf(p, "{\"kty\":\"RSA\",\"kid\":\"noe\",\"n\":\"%s\"}",
                            n),
               "{\"kty\":\"RSA\",\"kid\":\"non\",\"e\":\"AQAB\"}",
               apr_psprintf(p, "{\"kty\":\"RSA\",\"kid\":\"nume\",\"n\":\"%s\","
                               "\"e\":65537}",
                            n),
               apr_psprintf(p, "{\"kty\":\"RSA\",\"kid\":\"even\",\"n\":\"%s\","
                               "\"e\":\"AQAA\"}",
                            n),
               apr_psprintf(p, "{\"kty\":\"RSA\",\"kid\":\"good\",\"n\":\"%s\","
                               "\"e\":\"AQAB\"}",
                            n),
               NULL),
        &err);

    assert_only_key(set, "good", k1);
    assert_int_equal(set->skipped, 6);
}

static void jwks_skips_members_that_are_not_objects(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    authos_jwks_t *set = parse(
        p,
        set_of(p, "1", "\"RSA\"", "null", "[]", "true",
               unit_jwk(p, k1, "a", NULL, NULL), NULL),
        &err);

    assert_only_key(set, "a", k1);
    assert_int_equal(set->skipped, 5);
}

static void jwks_keeps_first_key_of_duplicate_kid(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    authos_jwks_t *set;

    set = parse(p,
                set_of(p, unit_jwk(p, k1, "a", NULL, NULL),
                       unit_jwk(p, k2, "a", NULL, NULL), NULL),
                &err);
    assert_only_key(set, "a", k1);
    assert_int_equal(set->skipped, 1);
    assert_int_equal(EVP_PKEY_eq(authos_jwks_find(set, "a")->pkey, k2), 0);

    /* Swapped, the other key wins: it is order, not the key. */
    set = parse(p,
                set_of(p, unit_jwk(p, k2, "a", NULL, NULL),
                       unit_jwk(p, k1, "a", NULL, NULL), NULL),
                &err);
    assert_only_key(set, "a", k2);
}

static void jwks_duplicate_kid_after_unusable_key_is_kept(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    authos_jwks_t *set;

    /* A skipped member does not claim its kid. */
    set = parse(p,
                set_of(p, unit_jwk(p, k1, "a", "enc", NULL),
                       unit_jwk(p, k2, "a", "sig", NULL), NULL),
                &err);
    assert_only_key(set, "a", k2);
}

static void jwks_rejects_empty_key_set(void **state)
{
    apr_pool_t *p = *state;

    assert_refused(p, "{\"keys\":[]}");
}

static void jwks_rejects_set_without_usable_key(void **state)
{
    apr_pool_t *p = *state;

    assert_refused(p, set_of(p, unit_jwk(p, k1, "a", "enc", NULL),
                             unit_jwk(p, small, "s", NULL, NULL), EC_JWK,
                             OCT_JWK, NULL));
}

static void jwks_rejects_text_that_is_not_a_jwk_set(void **state)
{
    apr_pool_t *p = *state;
    static const char *const junk[] = {
        "", "not json", "[]", "{}", "{\"keys\":null}", "{\"keys\":{}}",
        "{\"keys\":\"[]\"}", "{\"keys\":[]", "null",
    };
    size_t i;

    for (i = 0; i < UNIT_NELTS(junk); i++) {
        assert_refused(p, junk[i]);
    }
    /* A good set with trailing text. */
    assert_refused(p, apr_pstrcat(p, unit_jwks(p, k1, "a", NULL, NULL), "x",
                                  NULL));
}

static void jwks_rejects_duplicate_members(void **state)
{
    apr_pool_t *p = *state;
    char *jwk = unit_jwk(p, k1, "a", NULL, NULL);

    assert_refused(p, apr_pstrcat(p, "{\"keys\":[", jwk, "],\"keys\":[", jwk,
                                  "]}", NULL));
    /* Inside a key: which kid would it be? */
    assert_refused(p, apr_pstrcat(p, "{\"keys\":[{\"kid\":\"b\",", jwk + 1,
                                  "]}", NULL));
}

static void jwks_parses_only_len_bytes(void **state)
{
    apr_pool_t *p = *state;
    const char *err = NULL;
    char *good = unit_jwks(p, k1, "a", NULL, NULL);
    char *text = apr_pstrcat(p, good, "garbage", NULL);

    assert_only_key(authos_jwks_parse(p, text, strlen(good), &err), "a", k1);
    assert_null(err);
}

static void jwks_find_returns_key_by_exact_kid(void **state)
{
    apr_pool_t *p = *state;
    const char *err;
    authos_jwks_t *set = parse(
        p,
        set_of(p, unit_jwk(p, k1, "key-1", NULL, NULL),
               unit_jwk(p, k2, "key-2", NULL, NULL), NULL),
        &err);
    const authos_jwk_t *k;

    assert_non_null(set);
    k = authos_jwks_find(set, "key-2");
    assert_ptr_equal(k, &APR_ARRAY_IDX(set->keys, 1, authos_jwk_t));
    assert_int_equal(EVP_PKEY_eq(k->pkey, k2), 1);
    k = authos_jwks_find(set, "key-1");
    assert_ptr_equal(k, &APR_ARRAY_IDX(set->keys, 0, authos_jwk_t));
    assert_null(authos_jwks_find(set, "KEY-1"));
    assert_null(authos_jwks_find(set, "key-"));
    assert_null(authos_jwks_find(set, "key-10"));
    assert_null(authos_jwks_find(set, ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_pool_test(jwks_parses_several_keys_in_order),
        unit_pool_test(jwks_ignores_unknown_members),
        unit_pool_test(jwks_skips_non_rsa_keys),
        unit_pool_test(jwks_skips_key_with_kty_not_exactly_rsa),
        unit_pool_test(jwks_skips_key_with_use_enc),
        unit_pool_test(jwks_skips_key_with_non_string_use),
        unit_pool_test(jwks_skips_key_with_alg_other_than_rs256),
        unit_pool_test(jwks_skips_1024_bit_key),
        unit_pool_test(jwks_skips_key_without_usable_kid),
        unit_pool_test(jwks_skips_key_with_bad_modulus_or_exponent),
        unit_pool_test(jwks_skips_members_that_are_not_objects),
        unit_pool_test(jwks_keeps_first_key_of_duplicate_kid),
        unit_pool_test(jwks_duplicate_kid_after_unusable_key_is_kept),
        unit_pool_test(jwks_rejects_empty_key_set),
        unit_pool_test(jwks_rejects_set_without_usable_key),
        unit_pool_test(jwks_rejects_text_that_is_not_a_jwk_set),
        unit_pool_test(jwks_rejects_duplicate_members),
        unit_pool_test(jwks_parses_only_len_bytes),
        unit_pool_test(jwks_find_returns_key_by_exact_kid),
    };

    return cmocka_run_group_tests_name("jwks", tests, group_setup,
                                       group_teardown);
}

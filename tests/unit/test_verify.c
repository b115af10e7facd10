/*
 * test_verify.c: the whole token check (SPEC section 5, steps 1 to 6)
 * through authos_token_verify with an in-memory key set, and steps 5 and 6
 * alone through authos_token_verified (a verified-token cache hit).
 */
#include "unit_helpers.h"

#include "authos_jwks.h"
#include "authos_verify.h"

/* The shared issuer and payload of a valid management token
 * (unit_helpers.h). */
#define ISSUER UNIT_ISSUER
#define CLAIMS UNIT_CLAIMS
#define HDR(kid)                                                              \
    "{\"alg\":\"RS256\",\"typ\":\"authos-management+jwt\",\"kid\":\"" kid "\"}"
#define HDR_K1 HDR("k1")
#define HDR_K2 HDR("k2")

/* ka and kc are the issuer's keys (kids k1 and k2); kb is an attacker's
 * key that claims kid k1. */
static EVP_PKEY *ka, *kb, *kc;

typedef struct {
    authos_jwks_t *set;
    int no_keyset;        /* answer AUTHOS_KEY_NO_KEYSET */
    int calls;
    const char *last_kid;
} lookup_ctx_t;

typedef struct {
    apr_pool_t *p; /* first: see unit_pool_fixture */
    lookup_ctx_t keys;
    authos_claim_rules_t rules;
    authos_token_t out;
} fixture_t;

static authos_key_status_t lookup(void *ctx, const char *kid,
                                  EVP_PKEY_CTX **verifier)
{
    lookup_ctx_t *c = ctx;
    const authos_jwk_t *k;

    c->calls++;
    c->last_kid = kid;
    if (c->no_keyset) {
        return AUTHOS_KEY_NO_KEYSET;
    }
    k = authos_jwks_find(c->set, kid);
    if (k == NULL) {
        return AUTHOS_KEY_UNKNOWN;
    }
    *verifier = k->verifier;
    return AUTHOS_KEY_FOUND;
}

static int group_setup(void **state)
{
    (void)state;
    unit_apr_init();
    ka = unit_rsa_key(2048);
    kb = unit_rsa_key(2048);
    kc = unit_rsa_key(2048);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(ka);
    EVP_PKEY_free(kb);
    EVP_PKEY_free(kc);
    return 0;
}

static int setup(void **state)
{
    fixture_t *f = unit_pool_fixture(sizeof(*f));
    apr_array_header_t *aud;
    const char *err = NULL;
    char *jwks;

    if (f == NULL) {
        return -1;
    }
    /* The key set as AuthOS publishes it: public members only. */
    jwks = apr_pstrcat(f->p, "{\"keys\":[",
                       unit_jwk(f->p, ka, "k1", "sig", "RS256"), ",",
                       unit_jwk(f->p, kc, "k2", "sig", "RS256"), "]}", NULL);
    f->keys.set = authos_jwks_parse(f->p, jwks, strlen(jwks), &err);
    if (f->keys.set == NULL) {
        return -1;
    }
    aud = apr_array_make(f->p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(aud, const char *) = "platform";
    f->rules = (authos_claim_rules_t)UNIT_CLAIM_RULES(aud, 60);
    *state = f;
    return 0;
}

#define verify_test(t)                                                        \
    cmocka_unit_test_setup_teardown(t, setup, unit_pool_fixture_teardown)

static authos_reason_t verify(fixture_t *f, const char *token)
{
    authos_reason_t r = authos_token_verify(f->p, token, strlen(token),
                                            lookup, &f->keys, &f->rules,
                                            &f->out);

    if (r == AUTHOS_OK) {
        assert_null(f->out.detail);
    }
    else {
        assert_non_null(f->out.detail);
        assert_null(f->out.user);
    }
    return r;
}

static void verify_accepts_valid_token(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(verify(f, unit_token(f->p, HDR_K1, CLAIMS, ka)),
                     AUTHOS_OK);
    assert_string_equal(f->out.user, "u1");
    assert_string_equal(f->out.sub, "u1");
    assert_non_null(f->out.claims);
    assert_string_equal(
        json_string_value(json_object_get(f->out.claims, "email")),
        "u1@example.com");
    assert_string_equal(f->out.jwt.kid, "k1");
    assert_int_equal(f->out.jwt.profile, AUTHOS_PROFILE_MANAGEMENT);
    assert_int_equal(f->keys.calls, 1);
    assert_string_equal(f->keys.last_kid, "k1");
}

static void verify_uses_key_named_by_kid(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(verify(f, unit_token(f->p, HDR_K2, CLAIMS, kc)),
                     AUTHOS_OK);
    assert_string_equal(f->keys.last_kid, "k2");
    /* The issuer's other key under the wrong kid does not verify. */
    assert_int_equal(verify(f, unit_token(f->p, HDR_K1, CLAIMS, kc)),
                     AUTHOS_ERR_BAD_SIGNATURE);
}

static void verify_accepts_user_claim_other_than_sub(void **state)
{
    fixture_t *f = *state;

    f->rules.user_claim = "email";
    assert_int_equal(verify(f, unit_token(f->p, HDR_K1, CLAIMS, ka)),
                     AUTHOS_OK);
    assert_string_equal(f->out.user, "u1@example.com");
    assert_string_equal(f->out.sub, "u1");
}

static void verify_rejects_unknown_kid(void **state)
{
    fixture_t *f = *state;
    const char *hdr = "{\"alg\":\"RS256\",\"kid\":\"k9\"}";

    assert_int_equal(verify(f, unit_token(f->p, hdr, CLAIMS, ka)),
                     AUTHOS_ERR_UNKNOWN_KEY);
    assert_int_equal(f->keys.calls, 1);
    assert_string_equal(f->keys.last_kid, "k9");
    assert_null(f->out.claims);
    assert_null(f->out.sub);
}

static void verify_reports_missing_key_set(void **state)
{
    fixture_t *f = *state;

    f->keys.no_keyset = 1;
    assert_int_equal(verify(f, unit_token(f->p, HDR_K1, CLAIMS, ka)),
                     AUTHOS_ERR_NO_KEYSET);
    assert_int_equal(f->keys.calls, 1);
    assert_null(f->out.claims);
}

static void verify_rejects_signature_by_other_key_with_same_kid(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(verify(f, unit_token(f->p, HDR_K1, CLAIMS, kb)),
                     AUTHOS_ERR_BAD_SIGNATURE);
    /* The payload of an unverified token is never parsed. */
    assert_null(f->out.claims);
    assert_null(f->out.sub);
}

static void verify_ignores_key_embedded_in_header(void **state)
{
    fixture_t *f = *state;
    /* The attacker signs with kb and offers kb's public key and a URL for
     * it: the key comes only from our key set (SPEC section 2). */
    char *hdr = apr_pstrcat(f->p,
                            "{\"alg\":\"RS256\",\"kid\":\"k1\",\"jwk\":",
                            unit_jwk(f->p, kb, "k1", "sig", "RS256"),
                            ",\"jku\":\"https://evil.example/jwks.json\"}",
                            NULL);

    assert_int_equal(verify(f, unit_token(f->p, hdr, CLAIMS, kb)),
                     AUTHOS_ERR_BAD_SIGNATURE);
}

static void verify_rejects_hs256_signed_with_public_key(void **state)
{
    fixture_t *f = *state;
    char *pem = unit_public_pem(f->p, ka);
    char *n = unit_rsa_param_b64(f->p, ka, OSSL_PKEY_PARAM_RSA_N);
    const char *hdr = "{\"alg\":\"HS256\",\"kid\":\"k1\"}";

    /* RFC 8725 section 2.1: the issuer's public key as an HMAC secret. */
    assert_int_equal(verify(f, unit_hs256_token(f->p, hdr, CLAIMS, pem,
                                                strlen(pem))),
                     AUTHOS_ERR_ALGORITHM);
    assert_int_equal(verify(f, unit_hs256_token(f->p, hdr, CLAIMS, n,
                                                strlen(n))),
                     AUTHOS_ERR_ALGORITHM);
    /* Refused before any key is looked up. */
    assert_int_equal(f->keys.calls, 0);
}

static void verify_rejects_hmac_signature_under_rs256_header(void **state)
{
    fixture_t *f = *state;
    char *pem = unit_public_pem(f->p, ka);

    assert_int_equal(verify(f, unit_hs256_token(f->p, HDR_K1, CLAIMS, pem,
                                                strlen(pem))),
                     AUTHOS_ERR_BAD_SIGNATURE);
}

static void verify_rejects_alg_none(void **state)
{
    fixture_t *f = *state;
    const char *hdr = "{\"alg\":\"none\",\"kid\":\"k1\"}";

    /* An unsecured JWS has an empty signature part: malformed. */
    assert_int_equal(verify(f, unit_token_raw(f->p, hdr, CLAIMS, "")),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(verify(f, unit_token_raw(f->p, hdr, CLAIMS, "AAAA")),
                     AUTHOS_ERR_ALGORITHM);
    assert_int_equal(f->keys.calls, 0);
}

static void verify_rejects_refused_typ_before_key_lookup(void **state)
{
    fixture_t *f = *state;
    const char *hdr =
        "{\"alg\":\"RS256\",\"typ\":\"authos-mfa-preauth+jwt\",\"kid\":\"k1\"}";

    assert_int_equal(verify(f, unit_token(f->p, hdr, CLAIMS, ka)),
                     AUTHOS_ERR_TYPE);
    assert_int_equal(f->keys.calls, 0);
}

static void verify_rejects_tampered_payload(void **state)
{
    fixture_t *f = *state;
    char *good = unit_token(f->p, HDR_K1, CLAIMS, ka);
    char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
    char *evil = apr_pstrcat(
        f->p, apr_pstrndup(f->p, good, (apr_size_t)(dot1 - good)), ".",
        unit_b64url_str(f->p, "{\"sub\":\"admin\",\"iss\":\"" ISSUER "\","
                              "\"aud\":\"platform\",\"exp\":1700003600}"),
        dot2, NULL);

    assert_int_equal(verify(f, good), AUTHOS_OK);
    assert_int_equal(verify(f, evil), AUTHOS_ERR_BAD_SIGNATURE);
    assert_null(f->out.sub);
}

static void verify_rejects_payload_with_duplicate_keys(void **state)
{
    fixture_t *f = *state;
    const char *payload =
        "{\"sub\":\"u1\",\"iss\":\"" ISSUER "\",\"aud\":\"platform\","
        "\"exp\":1700003600,\"sub\":\"admin\"}";

    assert_int_equal(verify(f, unit_token(f->p, HDR_K1, payload, ka)),
                     AUTHOS_ERR_MALFORMED);
    assert_null(f->out.claims);
}

static void verify_rejects_payload_that_is_not_an_object(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(verify(f, unit_token(f->p, HDR_K1, "[" CLAIMS "]", ka)),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(verify(f, unit_token(f->p, HDR_K1, "not json", ka)),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(verify(f, unit_token(f->p, HDR_K1, CLAIMS "x", ka)),
                     AUTHOS_ERR_MALFORMED);
}

static void verify_reports_first_failure(void **state)
{
    fixture_t *f = *state;
    const char *expired_wrong_iss =
        "{\"sub\":\"u1\",\"iss\":\"https://evil\",\"aud\":\"nope\","
        "\"exp\":1600000000}";
    const char *hs_unknown = "{\"alg\":\"HS256\",\"kid\":\"k9\"}";
    const char *unknown = "{\"alg\":\"RS256\",\"kid\":\"k9\"}";

    /* Expired and wrong issuer and audience: expired. */
    assert_int_equal(verify(f, unit_token(f->p, HDR_K1, expired_wrong_iss,
                                          ka)),
                     AUTHOS_ERR_EXPIRED);
    /* Bad signature and expired: the signature comes first. */
    assert_int_equal(verify(f, unit_token(f->p, HDR_K1, expired_wrong_iss,
                                          kb)),
                     AUTHOS_ERR_BAD_SIGNATURE);
    /* Unknown kid and a payload that is not JSON: unknown key. */
    assert_int_equal(verify(f, unit_token(f->p, unknown, "junk", ka)),
                     AUTHOS_ERR_UNKNOWN_KEY);
    /* HS256 and unknown kid: the algorithm. */
    assert_int_equal(verify(f, unit_token_raw(f->p, hs_unknown, "junk",
                                              "AAAA")),
                     AUTHOS_ERR_ALGORITHM);
}

static void verify_checks_token_use_against_typ(void **state)
{
    fixture_t *f = *state;
    const char *at = "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"k1\"}";
    const char *resource =
        "{\"sub\":\"u1\",\"iss\":\"" ISSUER "\",\"aud\":\"platform\","
        "\"exp\":1700003600,\"token_use\":\"external_resource_access\"}";

    /* CLAIMS say management_access: not an at+jwt. */
    assert_int_equal(verify(f, unit_token(f->p, at, CLAIMS, ka)),
                     AUTHOS_ERR_TOKEN_USE);
    assert_int_equal(verify(f, unit_token(f->p, at, resource, ka)),
                     AUTHOS_OK);
    assert_int_equal(f->out.jwt.profile, AUTHOS_PROFILE_RESOURCE);
    assert_int_equal(verify(f, unit_token(f->p, HDR_K1, resource, ka)),
                     AUTHOS_ERR_TOKEN_USE);
}

static void verify_keeps_sub_for_logs_when_claims_fail(void **state)
{
    fixture_t *f = *state;
    const char *payload =
        "{\"sub\":\"u1\",\"iss\":\"" ISSUER "\",\"aud\":\"org:acme\","
        "\"exp\":1700003600}";

    assert_int_equal(verify(f, unit_token(f->p, HDR_K1, payload, ka)),
                     AUTHOS_ERR_AUDIENCE);
    assert_string_equal(f->out.sub, "u1");
    assert_non_null(f->out.claims);
}

static void verify_rejects_malformed_token_before_key_lookup(void **state)
{
    fixture_t *f = *state;
    char *good = unit_token(f->p, HDR_K1, CLAIMS, ka);

    assert_int_equal(verify(f, apr_pstrcat(f->p, good, ".", NULL)),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(verify(f, apr_pstrcat(f->p, good, "=", NULL)),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(f->keys.calls, 0);
}

/* authos_token_verified: steps 5 and 6 on a payload whose signature
 * verified earlier (a verified-token cache hit). */
static authos_reason_t verified(fixture_t *f, const char *payload,
                                apr_size_t len, const char *kid,
                                authos_profile_t profile)
{
    authos_reason_t r = authos_token_verified(f->p, payload, len, NULL, kid,
                                              profile, &f->rules, &f->out);

    if (r == AUTHOS_OK) {
        assert_null(f->out.detail);
    }
    else {
        assert_non_null(f->out.detail);
        assert_null(f->out.user);
    }
    /* The payload is never sent to a key lookup. */
    assert_int_equal(f->keys.calls, 0);
    return r;
}

/* A payload like CLAIMS with the given iss, aud, exp and token_use. */
#define PAYLOAD(iss, aud, exp, use)                                           \
    "{\"sub\":\"u1\",\"iss\":\"" iss "\",\"aud\":\"" aud "\",\"exp\":" exp  \
    ",\"iat\":1699999990,\"token_use\":\"" use "\"}"

static void verified_accepts_valid_payload(void **state)
{
    fixture_t *f = *state;
    /* The caller's buffer need not end at len. */
    char *buf = apr_pstrcat(f->p, CLAIMS, "trailing junk", NULL);

    assert_int_equal(verified(f, buf, strlen(CLAIMS), "k1",
                              AUTHOS_PROFILE_MANAGEMENT),
                     AUTHOS_OK);
    assert_string_equal(f->out.user, "u1");
    assert_string_equal(f->out.sub, "u1");
    assert_non_null(f->out.claims);
    assert_string_equal(
        json_string_value(json_object_get(f->out.claims, "email")),
        "u1@example.com");
    /* The jwt part filled in as a full verification would. */
    assert_int_equal(f->out.jwt.payload_len, strlen(CLAIMS));
    assert_memory_equal(f->out.jwt.payload, CLAIMS, strlen(CLAIMS));
    assert_int_equal(f->out.jwt.payload[strlen(CLAIMS)], '\0');
    assert_string_equal(f->out.jwt.kid, "k1");
    assert_int_equal(f->out.jwt.profile, AUTHOS_PROFILE_MANAGEMENT);
    /* A copy in the pool: the caller's buffer may go. */
    assert_true((const char *)f->out.jwt.payload != buf);
    memset(buf, 'x', strlen(buf));
    assert_memory_equal(f->out.jwt.payload, CLAIMS, strlen(CLAIMS));
}

static void verified_matches_full_verification(void **state)
{
    fixture_t *f = *state;
    const char *resource = PAYLOAD(ISSUER, "platform", "1700003600",
                                   "external_resource_access");
    authos_token_t full;

    /* An at+jwt and a user claim other than sub. */
    f->rules.user_claim = "iss";
    assert_int_equal(verify(f, unit_token(f->p,
                                          "{\"alg\":\"RS256\",\"typ\":"
                                          "\"at+jwt\",\"kid\":\"k2\"}",
                                          resource, kc)),
                     AUTHOS_OK);
    full = f->out;
    f->keys.calls = 0;
    assert_int_equal(verified(f, resource, strlen(resource), "k2",
                              AUTHOS_PROFILE_RESOURCE),
                     AUTHOS_OK);
    assert_string_equal(f->out.user, ISSUER);
    assert_string_equal(f->out.user, full.user);
    assert_string_equal(f->out.sub, full.sub);
    assert_string_equal(f->out.jwt.kid, full.jwt.kid);
    assert_int_equal(f->out.jwt.profile, full.jwt.profile);
    assert_int_equal(f->out.jwt.payload_len, full.jwt.payload_len);
    assert_memory_equal(f->out.jwt.payload, full.jwt.payload,
                        full.jwt.payload_len);
    assert_true(json_equal(f->out.claims, full.claims));
}

static void verified_reports_every_claim_failure(void **state)
{
    fixture_t *f = *state;
    static const struct {
        const char *payload;
        authos_profile_t profile;
        authos_reason_t want;
    } cases[] = {
        {PAYLOAD(ISSUER, "platform", "1600000000", "management_access"),
         AUTHOS_PROFILE_MANAGEMENT, AUTHOS_ERR_EXPIRED},
        /* One second past exp + skew (60). */
        {PAYLOAD(ISSUER, "platform", "1699999939", "management_access"),
         AUTHOS_PROFILE_MANAGEMENT, AUTHOS_ERR_EXPIRED},
        {PAYLOAD("https://evil.example", "platform", "1700003600",
                 "management_access"),
         AUTHOS_PROFILE_MANAGEMENT, AUTHOS_ERR_ISSUER},
        {PAYLOAD(ISSUER, "org:acme", "1700003600", "management_access"),
         AUTHOS_PROFILE_MANAGEMENT, AUTHOS_ERR_AUDIENCE},
        /* token_use must match the profile the cached header had. */
        {PAYLOAD(ISSUER, "platform", "1700003600", "management_access"),
         AUTHOS_PROFILE_RESOURCE, AUTHOS_ERR_TOKEN_USE},
        {PAYLOAD(ISSUER, "platform", "1700003600",
                 "external_resource_access"),
         AUTHOS_PROFILE_MANAGEMENT, AUTHOS_ERR_TOKEN_USE},
        {"{\"sub\":\"u1\",\"iss\":\"" ISSUER "\",\"aud\":\"platform\","
         "\"exp\":1700003600,\"nbf\":1700001000}",
         AUTHOS_PROFILE_NONE, AUTHOS_ERR_NOT_YET_VALID},
        {"{\"sub\":\"u1\",\"iss\":\"" ISSUER "\",\"aud\":\"platform\","
         "\"exp\":1700003600,\"mfa_required\":true}",
         AUTHOS_PROFILE_NONE, AUTHOS_ERR_MFA_REQUIRED},
        {"{\"sub\":\"u1\",\"iss\":\"" ISSUER "\",\"aud\":\"platform\","
         "\"exp\":1700003600,\"act\":{\"sub\":\"admin\"}}",
         AUTHOS_PROFILE_NONE, AUTHOS_ERR_DELEGATED},
    };
    size_t i;

    for (i = 0; i < UNIT_NELTS(cases); i++) {
        /* A success first, so a stale result would show. */
        assert_int_equal(verified(f, CLAIMS, strlen(CLAIMS), "k1",
                                  AUTHOS_PROFILE_MANAGEMENT),
                         AUTHOS_OK);
        assert_int_equal(verified(f, cases[i].payload,
                                  strlen(cases[i].payload), "k1",
                                  cases[i].profile),
                         cases[i].want);
        /* The claims were parsed: sub kept for the logs. */
        assert_non_null(f->out.claims);
        assert_string_equal(f->out.sub, "u1");
        assert_string_equal(f->out.jwt.kid, "k1");
    }
}

static void verified_rejects_malformed_payload(void **state)
{
    fixture_t *f = *state;
    static const char *const payloads[] = {
        "{\"sub\":\"u1\",\"iss\":\"" ISSUER "\",\"aud\":\"platform\","
        "\"exp\":1700003600,\"sub\":\"admin\"}",
        "[" CLAIMS "]",
        "not json",
        CLAIMS "x",
        "",
    };
    size_t i;

    for (i = 0; i < UNIT_NELTS(payloads); i++) {
        assert_int_equal(verified(f, CLAIMS, strlen(CLAIMS), "k1",
                                  AUTHOS_PROFILE_MANAGEMENT),
                         AUTHOS_OK);
        assert_int_equal(verified(f, payloads[i], strlen(payloads[i]), "k1",
                                  AUTHOS_PROFILE_MANAGEMENT),
                         AUTHOS_ERR_MALFORMED);
        assert_null(f->out.claims);
        assert_null(f->out.sub);
    }
    /* A len that cuts a valid payload short. */
    assert_int_equal(verified(f, CLAIMS, strlen(CLAIMS) - 1, "k1",
                              AUTHOS_PROFILE_MANAGEMENT),
                     AUTHOS_ERR_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        verify_test(verify_accepts_valid_token),
        verify_test(verify_uses_key_named_by_kid),
        verify_test(verify_accepts_user_claim_other_than_sub),
        verify_test(verify_rejects_unknown_kid),
        verify_test(verify_reports_missing_key_set),
        verify_test(verify_rejects_signature_by_other_key_with_same_kid),
        verify_test(verify_ignores_key_embedded_in_header),
        verify_test(verify_rejects_hs256_signed_with_public_key),
        verify_test(verify_rejects_hmac_signature_under_rs256_header),
        verify_test(verify_rejects_alg_none),
        verify_test(verify_rejects_refused_typ_before_key_lookup),
        verify_test(verify_rejects_tampered_payload),
        verify_test(verify_rejects_payload_with_duplicate_keys),
        verify_test(verify_rejects_payload_that_is_not_an_object),
        verify_test(verify_reports_first_failure),
        verify_test(verify_checks_token_use_against_typ),
        verify_test(verify_keeps_sub_for_logs_when_claims_fail),
        verify_test(verify_rejects_malformed_token_before_key_lookup),
        verify_test(verified_accepts_valid_payload),
        verify_test(verified_matches_full_verification),
        verify_test(verified_reports_every_claim_failure),
        verify_test(verified_rejects_malformed_payload),
    };

    return cmocka_run_group_tests_name("verify", tests, group_setup,
                                       group_teardown);
}

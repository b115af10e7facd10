/*
 * test_claims.c: payload validation (SPEC section 5, steps 5 and 6) and
 * the claim comparisons of the Require providers (section 6).
 */
#include "unit_helpers.h"

#include "authos_claims.h"
#include "authos_json.h"

/* The shared clock, issuer and payload of a valid management token
 * (unit_helpers.h). */
#define NOW UNIT_NOW
#define SKEW 60
#define ISSUER UNIT_ISSUER
#define BASE_CLAIMS UNIT_CLAIMS

typedef struct {
    apr_pool_t *p; /* first: see unit_pool_fixture */
    authos_claim_rules_t rules;
    apr_array_header_t *aud;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = unit_pool_fixture(sizeof(*f));

    if (f == NULL) {
        return -1;
    }
    f->aud = apr_array_make(f->p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(f->aud, const char *) = "api";
    APR_ARRAY_PUSH(f->aud, const char *) = "platform";
    f->rules = (authos_claim_rules_t)UNIT_CLAIM_RULES(f->aud, SKEW);
    *state = f;
    return 0;
}

#define claims_test(t)                                                        \
    cmocka_unit_test_setup_teardown(t, setup, unit_pool_fixture_teardown)

/* Claims parsed from text (for shapes easier to write than to build),
 * owned by the fixture's pool. */
static json_t *parse(fixture_t *f, const char *text)
{
    json_error_t err;
    json_t *c = json_loads(text, 0, &err);

    assert_non_null(c);
    return authos_json_pool_own(f->p, c);
}

/* The base claims. */
static json_t *base(fixture_t *f)
{
    return parse(f, BASE_CLAIMS);
}

/* The base claims with name set to the JSON text value, or removed when
 * value is NULL. */
static json_t *with(fixture_t *f, const char *name, const char *value)
{
    json_t *c = base(f);

    if (value == NULL) {
        assert_int_equal(json_object_del(c, name), 0);
    }
    else {
        json_error_t err;
        json_t *v = json_loads(value, JSON_DECODE_ANY, &err);
        assert_non_null(v);
        assert_int_equal(json_object_set_new(c, name, v), 0);
    }
    return c;
}

static authos_reason_t check_as(fixture_t *f, authos_profile_t profile,
                                const json_t *claims)
{
    const char *user = "sentinel", *detail = "sentinel";
    authos_reason_t r = authos_claims_check(&f->rules, profile, claims, &user,
                                            &detail);

    if (r == AUTHOS_OK) {
        assert_null(detail);
        assert_non_null(user);
    }
    else {
        /* A refusal names what failed (for the log) and no user. */
        assert_null(user);
        assert_non_null(detail);
        assert_string_not_equal(detail, "sentinel");
    }
    return r;
}

static authos_reason_t check(fixture_t *f, const json_t *claims)
{
    return check_as(f, AUTHOS_PROFILE_MANAGEMENT, claims);
}

static char *num(fixture_t *f, long long v)
{
    /* APR's formatter has no %lld. */
    return apr_psprintf(f->p, "%" APR_INT64_T_FMT, (apr_int64_t)v);
}

static void claims_accepts_valid_token(void **state)
{
    fixture_t *f = *state;
    const char *user = NULL, *detail = "x";

    assert_int_equal(authos_claims_check(&f->rules, AUTHOS_PROFILE_MANAGEMENT,
                                         base(f), &user, &detail),
                     AUTHOS_OK);
    assert_string_equal(user, "u1");
    assert_null(detail);
    /* detail may be NULL. */
    assert_int_equal(authos_claims_check(&f->rules, AUTHOS_PROFILE_MANAGEMENT,
                                         base(f), &user, NULL),
                     AUTHOS_OK);
}

static void claims_rejects_missing_or_non_numeric_exp(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "exp", NULL)), AUTHOS_ERR_MALFORMED);
    assert_int_equal(check(f, with(f, "exp", "\"1700003600\"")),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(check(f, with(f, "exp", "null")), AUTHOS_ERR_MALFORMED);
    assert_int_equal(check(f, with(f, "exp", "true")), AUTHOS_ERR_MALFORMED);
}

static void claims_rejects_expired_beyond_skew(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "exp", num(f, NOW - SKEW - 1))),
                     AUTHOS_ERR_EXPIRED);
    assert_int_equal(check(f, with(f, "exp", num(f, NOW - 86400))),
                     AUTHOS_ERR_EXPIRED);
}

static void claims_accepts_expired_within_skew(void **state)
{
    fixture_t *f = *state;

    /* now <= exp + skew, the boundary included. */
    assert_int_equal(check(f, with(f, "exp", num(f, NOW - SKEW))), AUTHOS_OK);
    assert_int_equal(check(f, with(f, "exp", num(f, NOW - 1))), AUTHOS_OK);
    assert_int_equal(check(f, with(f, "exp", num(f, NOW))), AUTHOS_OK);
    /* A real number is numeric too. */
    assert_int_equal(check(f, with(f, "exp", "1700000000.5")), AUTHOS_OK);
}

static void claims_rejects_nbf_beyond_skew(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "nbf", num(f, NOW + SKEW + 1))),
                     AUTHOS_ERR_NOT_YET_VALID);
    assert_int_equal(check(f, with(f, "nbf", "\"1699999000\"")),
                     AUTHOS_ERR_MALFORMED);
}

static void claims_accepts_nbf_within_skew(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "nbf", num(f, NOW + SKEW))), AUTHOS_OK);
    assert_int_equal(check(f, with(f, "nbf", num(f, NOW - 100))), AUTHOS_OK);
}

static void claims_rejects_iat_in_the_future(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "iat", num(f, NOW + SKEW + 1))),
                     AUTHOS_ERR_ISSUED_IN_FUTURE);
    assert_int_equal(check(f, with(f, "iat", num(f, NOW + SKEW))), AUTHOS_OK);
    assert_int_equal(check(f, with(f, "iat", NULL)), AUTHOS_OK);
    assert_int_equal(check(f, with(f, "iat", "\"now\"")), AUTHOS_ERR_MALFORMED);
}

static void claims_rejects_wrong_issuer(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "iss", "\"https://evil.example.com\"")),
                     AUTHOS_ERR_ISSUER);
    /* AuthOS's iss has no trailing slash; exact match only. */
    assert_int_equal(check(f, with(f, "iss", "\"" ISSUER "/\"")),
                     AUTHOS_ERR_ISSUER);
    assert_int_equal(check(f, with(f, "iss", "\"HTTPS://auth.example.com\"")),
                     AUTHOS_ERR_ISSUER);
    assert_int_equal(check(f, with(f, "iss", "[\"" ISSUER "\"]")),
                     AUTHOS_ERR_ISSUER);
}

static void claims_rejects_missing_issuer(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "iss", NULL)), AUTHOS_ERR_ISSUER);
}

static void claims_skips_issuer_check_when_not_configured(void **state)
{
    fixture_t *f = *state;

    f->rules.issuer = NULL;
    assert_int_equal(check(f, with(f, "iss", "\"https://other.example\"")),
                     AUTHOS_OK);
    assert_int_equal(check(f, with(f, "iss", NULL)), AUTHOS_OK);
}

static void claims_matches_audience_string_or_array(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "aud", "\"api\"")), AUTHOS_OK);
    assert_int_equal(check(f, with(f, "aud", "\"platform\"")), AUTHOS_OK);
    assert_int_equal(check(f, with(f, "aud", "[\"other\",\"api\"]")),
                     AUTHOS_OK);
    assert_int_equal(check(f, with(f, "aud", "[\"platform\"]")), AUTHOS_OK);
}

static void claims_rejects_audience_miss(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "aud", "\"org:acme\"")),
                     AUTHOS_ERR_AUDIENCE);
    assert_int_equal(check(f, with(f, "aud", "[\"org:acme\",\"x\"]")),
                     AUTHOS_ERR_AUDIENCE);
    assert_int_equal(check(f, with(f, "aud", "[]")), AUTHOS_ERR_AUDIENCE);
    assert_int_equal(check(f, with(f, "aud", "\"API\"")), AUTHOS_ERR_AUDIENCE);
    assert_int_equal(check(f, with(f, "aud", "\"apiX\"")),
                     AUTHOS_ERR_AUDIENCE);
    assert_int_equal(check(f, with(f, "aud", "[[\"api\"]]")),
                     AUTHOS_ERR_AUDIENCE);
    assert_int_equal(check(f, with(f, "aud", "{\"api\":true}")),
                     AUTHOS_ERR_AUDIENCE);
    assert_int_equal(check(f, with(f, "aud", NULL)), AUTHOS_ERR_AUDIENCE);
}

static void claims_any_audience_accepts_missing_aud(void **state)
{
    fixture_t *f = *state;

    f->rules.audiences = NULL;
    assert_int_equal(check(f, with(f, "aud", NULL)), AUTHOS_OK);
    assert_int_equal(check(f, with(f, "aud", "\"anything\"")), AUTHOS_OK);
}

static void claims_rejects_missing_or_empty_sub(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "sub", NULL)), AUTHOS_ERR_SUBJECT);
    assert_int_equal(check(f, with(f, "sub", "\"\"")), AUTHOS_ERR_SUBJECT);
    assert_int_equal(check(f, with(f, "sub", "42")), AUTHOS_ERR_SUBJECT);
    assert_int_equal(check(f, with(f, "sub", "null")), AUTHOS_ERR_SUBJECT);
    assert_int_equal(check(f, with(f, "sub", "[\"u1\"]")),
                     AUTHOS_ERR_SUBJECT);
}

static void claims_rejects_token_use_not_matching_profile(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check_as(f, AUTHOS_PROFILE_MANAGEMENT,
                              with(f, "token_use",
                                   "\"external_resource_access\"")),
                     AUTHOS_ERR_TOKEN_USE);
    assert_int_equal(check_as(f, AUTHOS_PROFILE_RESOURCE,
                              with(f, "token_use", "\"management_access\"")),
                     AUTHOS_ERR_TOKEN_USE);
    assert_int_equal(check_as(f, AUTHOS_PROFILE_RESOURCE,
                              with(f, "token_use",
                                   "\"external_resource_access\"")),
                     AUTHOS_OK);
}

static void claims_accepts_either_access_token_use_without_profile(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check_as(f, AUTHOS_PROFILE_NONE,
                              with(f, "token_use", "\"management_access\"")),
                     AUTHOS_OK);
    assert_int_equal(check_as(f, AUTHOS_PROFILE_NONE,
                              with(f, "token_use",
                                   "\"external_resource_access\"")),
                     AUTHOS_OK);
    /* token_use is optional (older releases). */
    assert_int_equal(check_as(f, AUTHOS_PROFILE_NONE,
                              with(f, "token_use", NULL)),
                     AUTHOS_OK);
    assert_int_equal(check_as(f, AUTHOS_PROFILE_RESOURCE,
                              with(f, "token_use", NULL)),
                     AUTHOS_OK);
}

static void claims_rejects_token_use_mfa_preauth(void **state)
{
    fixture_t *f = *state;
    authos_profile_t profiles[] = {AUTHOS_PROFILE_NONE,
                                   AUTHOS_PROFILE_MANAGEMENT,
                                   AUTHOS_PROFILE_RESOURCE};
    size_t i;

    for (i = 0; i < UNIT_NELTS(profiles); i++) {
        assert_int_equal(check_as(f, profiles[i],
                                  with(f, "token_use", "\"mfa_preauth\"")),
                         AUTHOS_ERR_TOKEN_USE);
        assert_int_equal(check_as(f, profiles[i],
                                  with(f, "token_use", "\"refresh\"")),
                         AUTHOS_ERR_TOKEN_USE);
        assert_int_equal(check_as(f, profiles[i], with(f, "token_use", "1")),
                         AUTHOS_ERR_TOKEN_USE);
    }
}

static void claims_rejects_mfa_required_true(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "mfa_required", "true")),
                     AUTHOS_ERR_MFA_REQUIRED);
}

static void claims_accepts_mfa_required_false(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "mfa_required", "false")), AUTHOS_OK);
}

static void claims_rejects_non_boolean_mfa_required(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "mfa_required", "\"true\"")),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(check(f, with(f, "mfa_required", "\"false\"")),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(check(f, with(f, "mfa_required", "1")),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(check(f, with(f, "mfa_required", "null")),
                     AUTHOS_ERR_MALFORMED);
}

static void claims_rejects_act_claim(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(check(f, with(f, "act", "{\"sub\":\"admin\"}")),
                     AUTHOS_ERR_DELEGATED);
    /* Present at all, whatever its value. */
    assert_int_equal(check(f, with(f, "act", "null")), AUTHOS_ERR_DELEGATED);
}

static void claims_rejects_missing_user_claim(void **state)
{
    fixture_t *f = *state;
    const char *user = NULL;

    f->rules.user_claim = "preferred_username";
    assert_int_equal(check(f, base(f)), AUTHOS_ERR_USER_CLAIM);
    assert_int_equal(check(f, with(f, "preferred_username", "\"\"")),
                     AUTHOS_ERR_USER_CLAIM);
    assert_int_equal(check(f, with(f, "preferred_username", "7")),
                     AUTHOS_ERR_USER_CLAIM);
    f->rules.user_claim = "email";
    assert_int_equal(authos_claims_check(&f->rules, AUTHOS_PROFILE_MANAGEMENT,
                                         base(f), &user, NULL),
                     AUTHOS_OK);
    assert_string_equal(user, "u1@example.com");
}

static void claims_reports_first_failure_in_spec_order(void **state)
{
    fixture_t *f = *state;
    /* Every check fails; fixing one at a time must reveal the next reason
     * in SPEC section 5 step 5 order. */
    json_t *c = parse(f, "{\"exp\":1,\"nbf\":1800000000,\"iat\":1800000000,"
                         "\"iss\":\"https://evil\",\"aud\":\"x\","
                         "\"token_use\":\"mfa_preauth\",\"mfa_required\":true,"
                         "\"act\":{\"sub\":\"a\"}}");
    static const struct {
        authos_reason_t reason;
        const char *fix_name;
        const char *fix_value;
    } steps[] = {
        {AUTHOS_ERR_EXPIRED, "exp", "1700003600"},
        {AUTHOS_ERR_NOT_YET_VALID, "nbf", "1699999000"},
        {AUTHOS_ERR_ISSUED_IN_FUTURE, "iat", "1699999000"},
        {AUTHOS_ERR_ISSUER, "iss", "\"" ISSUER "\""},
        {AUTHOS_ERR_AUDIENCE, "aud", "\"api\""},
        {AUTHOS_ERR_SUBJECT, "sub", "\"u1\""},
        {AUTHOS_ERR_TOKEN_USE, "token_use", "\"management_access\""},
        {AUTHOS_ERR_MFA_REQUIRED, "mfa_required", "false"},
        {AUTHOS_ERR_DELEGATED, "act", NULL},
    };
    size_t i;

    f->rules.user_claim = "email";
    for (i = 0; i < UNIT_NELTS(steps); i++) {
        assert_int_equal(check(f, c), steps[i].reason);
        if (steps[i].fix_value == NULL) {
            assert_int_equal(json_object_del(c, steps[i].fix_name), 0);
        }
        else {
            json_error_t err;
            json_t *v = json_loads(steps[i].fix_value, JSON_DECODE_ANY, &err);
            assert_non_null(v);
            assert_int_equal(json_object_set_new(c, steps[i].fix_name, v), 0);
        }
    }
    assert_int_equal(check(f, c), AUTHOS_ERR_USER_CLAIM);
    assert_int_equal(json_object_set_new(c, "email", json_string("e@x")), 0);
    assert_int_equal(check(f, c), AUTHOS_OK);
}

static void claims_checks_time_claim_types_before_values(void **state)
{
    fixture_t *f = *state;
    json_t *c = with(f, "exp", num(f, NOW - 1000));

    /* Expired, but a non-numeric iat makes the payload malformed first. */
    assert_int_equal(json_object_set_new(c, "iat", json_string("x")), 0);
    assert_int_equal(check(f, c), AUTHOS_ERR_MALFORMED);
}

static void claims_org_prefers_org_over_org_slug(void **state)
{
    fixture_t *f = *state;

    assert_string_equal(
        authos_claims_org(parse(f, "{\"org\":\"acme\",\"org_slug\":\"old\"}")),
        "acme");
    assert_string_equal(
        authos_claims_org(parse(f, "{\"org_slug\":\"old\",\"org\":\"acme\"}")),
        "acme");
    assert_string_equal(authos_claims_org(parse(f, "{\"org_slug\":\"old\"}")),
                        "old");
    assert_null(authos_claims_org(parse(f, "{\"sub\":\"u1\"}")));
    assert_null(authos_claims_org(parse(f, "{\"org\":7}")));
}

static void claims_service_prefers_service_over_service_slug(void **state)
{
    fixture_t *f = *state;

    assert_string_equal(
        authos_claims_service(
            parse(f, "{\"service\":\"web\",\"service_slug\":\"old\"}")),
        "web");
    assert_string_equal(
        authos_claims_service(parse(f, "{\"service_slug\":\"old\"}")), "old");
    assert_null(authos_claims_service(parse(f, "{\"org\":\"acme\"}")));
    assert_null(authos_claims_service(parse(f, "{\"service\":null}")));
}

/* authos_claim_matches over member "v" of text. */
static int matches(fixture_t *f, const char *text, const char *value)
{
    return authos_claim_matches(json_object_get(parse(f, text), "v"), value);
}

static void claim_matches_strings_exactly(void **state)
{
    fixture_t *f = *state;

    assert_true(matches(f, "{\"v\":\"admin\"}", "admin"));
    assert_false(matches(f, "{\"v\":\"admin\"}", "Admin"));
    assert_false(matches(f, "{\"v\":\"admin\"}", "admi"));
    assert_false(matches(f, "{\"v\":\"admin\"}", "admins"));
    assert_true(matches(f, "{\"v\":\"\"}", ""));
    /* A string "true" equals the value "true": authos-claim compares
     * text (authos-platform-owner is where JSON true is required). */
    assert_true(matches(f, "{\"v\":\"true\"}", "true"));
}

static void claim_matches_integers_in_decimal(void **state)
{
    fixture_t *f = *state;

    assert_true(matches(f, "{\"v\":42}", "42"));
    assert_true(matches(f, "{\"v\":-7}", "-7"));
    assert_true(matches(f, "{\"v\":0}", "0"));
    assert_true(matches(f, "{\"v\":9007199254740993}", "9007199254740993"));
    assert_false(matches(f, "{\"v\":42}", "042"));
    assert_false(matches(f, "{\"v\":42}", "42.0"));
    assert_false(matches(f, "{\"v\":42}", "+42"));
    assert_false(matches(f, "{\"v\":42}", "43"));
}

static void claim_matches_booleans_as_true_false(void **state)
{
    fixture_t *f = *state;

    assert_true(matches(f, "{\"v\":true}", "true"));
    assert_false(matches(f, "{\"v\":true}", "false"));
    assert_false(matches(f, "{\"v\":true}", "1"));
    assert_false(matches(f, "{\"v\":true}", "TRUE"));
    assert_true(matches(f, "{\"v\":false}", "false"));
    assert_false(matches(f, "{\"v\":false}", "true"));
    assert_false(matches(f, "{\"v\":false}", "0"));
    assert_false(matches(f, "{\"v\":false}", ""));
}

static void claim_matches_array_elements(void **state)
{
    fixture_t *f = *state;

    assert_true(matches(f, "{\"v\":[\"read\",\"write\"]}", "write"));
    assert_true(matches(f, "{\"v\":[\"read\",\"write\"]}", "read"));
    assert_false(matches(f, "{\"v\":[\"read\",\"write\"]}", "admin"));
    assert_true(matches(f, "{\"v\":[1,2,3]}", "2"));
    assert_true(matches(f, "{\"v\":[false,true]}", "true"));
    assert_false(matches(f, "{\"v\":[]}", ""));
    /* Only elements, not elements of nested arrays or objects. */
    assert_false(matches(f, "{\"v\":[[\"admin\"]]}", "admin"));
    assert_false(matches(f, "{\"v\":[{\"admin\":true}]}", "admin"));
}

static void claim_never_matches_missing_claim(void **state)
{
    fixture_t *f = *state;

    assert_false(authos_claim_matches(NULL, "x"));
    assert_false(authos_claim_matches(NULL, ""));
    assert_false(matches(f, "{\"w\":\"x\"}", "x"));
    /* null is not the text "null", and an object is no scalar. */
    assert_false(matches(f, "{\"v\":null}", "null"));
    assert_false(matches(f, "{\"v\":{\"x\":1}}", "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        claims_test(claims_accepts_valid_token),
        claims_test(claims_rejects_missing_or_non_numeric_exp),
        claims_test(claims_rejects_expired_beyond_skew),
        claims_test(claims_accepts_expired_within_skew),
        claims_test(claims_rejects_nbf_beyond_skew),
        claims_test(claims_accepts_nbf_within_skew),
        claims_test(claims_rejects_iat_in_the_future),
        claims_test(claims_rejects_wrong_issuer),
        claims_test(claims_rejects_missing_issuer),
        claims_test(claims_skips_issuer_check_when_not_configured),
        claims_test(claims_matches_audience_string_or_array),
        claims_test(claims_rejects_audience_miss),
        claims_test(claims_any_audience_accepts_missing_aud),
        claims_test(claims_rejects_missing_or_empty_sub),
        claims_test(claims_rejects_token_use_not_matching_profile),
        claims_test(claims_accepts_either_access_token_use_without_profile),
        claims_test(claims_rejects_token_use_mfa_preauth),
        claims_test(claims_rejects_mfa_required_true),
        claims_test(claims_accepts_mfa_required_false),
        claims_test(claims_rejects_non_boolean_mfa_required),
        claims_test(claims_rejects_act_claim),
        claims_test(claims_rejects_missing_user_claim),
        claims_test(claims_reports_first_failure_in_spec_order),
        claims_test(claims_checks_time_claim_types_before_values),
        claims_test(claims_org_prefers_org_over_org_slug),
        claims_test(claims_service_prefers_service_over_service_slug),
        claims_test(claim_matches_strings_exactly),
        claims_test(claim_matches_integers_in_decimal),
        claims_test(claim_matches_booleans_as_true_false),
        claims_test(claim_matches_array_elements),
        claims_test(claim_never_matches_missing_claim),
    };

    return cmocka_run_group_tests_name("claims", tests, NULL, NULL);
}

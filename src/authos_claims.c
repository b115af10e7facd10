/*
 * authos_claims.c: payload validation (SPEC section 5, steps 5 and 6)
 * and claim comparisons for the Require providers (section 6).
 */
#include <stdio.h>
#include <string.h>

#include "authos_claims.h"
#include "authos_json.h"

/* A time claim: absent is fine (*present = 0), a non-number is malformed. */
static int time_claim(const json_t *claims, const char *name, double *value,
                      int *present)
{
    json_t *v = json_object_get(claims, name);

    *present = (v != NULL);
    if (v == NULL) {
        return 1;
    }
    if (!json_is_number(v)) {
        return 0;
    }
    *value = json_number_value(v);
    return 1;
}

static int audience_ok(const apr_array_header_t *want, const json_t *aud)
{
    int i;

    /* RFC 7519 section 4.1.3: a string or an array of strings. */
    for (i = 0; i < want->nelts; i++) {
        const char *w = APR_ARRAY_IDX(want, i, const char *);
        if (json_is_string(aud)) {
            if (strcmp(json_string_value(aud), w) == 0) {
                return 1;
            }
        }
        else if (json_is_array(aud)) {
            apr_size_t j;
            json_t *el;
            json_array_foreach(aud, j, el) {
                if (json_is_string(el)
                    && strcmp(json_string_value(el), w) == 0) {
                    return 1;
                }
            }
        }
    }
    return 0;
}

static int token_use_ok(authos_profile_t profile, const char *use)
{
    int mgmt = strcmp(use, "management_access") == 0;
    int res = strcmp(use, "external_resource_access") == 0;

    switch (profile) {
    case AUTHOS_PROFILE_MANAGEMENT:
        return mgmt;
    case AUTHOS_PROFILE_RESOURCE:
        return res;
    default:
        return mgmt || res;
    }
}

authos_reason_t authos_claims_check(const authos_claim_rules_t *rules,
                                    authos_profile_t profile,
                                    const json_t *claims, const char **user,
                                    const char **detail)
{
    double exp = 0, nbf = 0, iat = 0;
    double now = (double)rules->now, skew = (double)rules->skew;
    int has_exp, has_nbf, has_iat;
    json_t *v;
    const char *s;

    *user = NULL;
    if (detail != NULL) {
        *detail = NULL;
    }
#define FAIL(reason, why)                                                     \
    do {                                                                      \
        if (detail != NULL) {                                                 \
            *detail = (why);                                                  \
        }                                                                     \
        return (reason);                                                      \
    } while (0)

    /* RFC 7519 section 4.1.4: exp is required for an access token here. */
    if (!time_claim(claims, "exp", &exp, &has_exp) || !has_exp) {
        FAIL(AUTHOS_ERR_MALFORMED, "exp missing or not a number");
    }
    if (!time_claim(claims, "nbf", &nbf, &has_nbf)) {
        FAIL(AUTHOS_ERR_MALFORMED, "nbf not a number");
    }
    if (!time_claim(claims, "iat", &iat, &has_iat)) {
        FAIL(AUTHOS_ERR_MALFORMED, "iat not a number");
    }
    if (now > exp + skew) {
        FAIL(AUTHOS_ERR_EXPIRED, "exp is past");
    }
    if (has_nbf && nbf > now + skew) {
        FAIL(AUTHOS_ERR_NOT_YET_VALID, "nbf is in the future");
    }
    if (has_iat && iat > now + skew) {
        FAIL(AUTHOS_ERR_ISSUED_IN_FUTURE, "iat is in the future");
    }
    if (rules->issuer != NULL) {
        s = authos_json_string(claims, "iss");
        if (s == NULL || strcmp(s, rules->issuer) != 0) {
            FAIL(AUTHOS_ERR_ISSUER, "iss differs from AuthOSIssuer");
        }
    }
    if (rules->audiences != NULL
        && !audience_ok(rules->audiences, json_object_get(claims, "aud"))) {
        FAIL(AUTHOS_ERR_AUDIENCE, "aud holds none of AuthOSAudience");
    }
    v = json_object_get(claims, "sub");
    if (!json_is_string(v) || json_string_length(v) == 0) {
        FAIL(AUTHOS_ERR_SUBJECT, "sub missing or empty");
    }
    v = json_object_get(claims, "token_use");
    if (v != NULL
        && (!json_is_string(v) || !token_use_ok(profile, json_string_value(v)))) {
        FAIL(AUTHOS_ERR_TOKEN_USE, "token_use is not an access token's");
    }
    /* An MFA pre-auth token has not passed the second factor. */
    v = json_object_get(claims, "mfa_required");
    if (v != NULL) {
        if (!json_is_boolean(v)) {
            FAIL(AUTHOS_ERR_MALFORMED, "mfa_required not a boolean");
        }
        if (json_is_true(v)) {
            FAIL(AUTHOS_ERR_MFA_REQUIRED, "mfa_required is true");
        }
    }
    /* RFC 8693 section 4.1: act marks impersonation or delegation. */
    if (json_object_get(claims, "act") != NULL) {
        FAIL(AUTHOS_ERR_DELEGATED, "act claim present");
    }
    v = json_object_get(claims, rules->user_claim);
    if (!json_is_string(v) || json_string_length(v) == 0) {
        FAIL(AUTHOS_ERR_USER_CLAIM, "AuthOSRemoteUserClaim claim missing");
    }
    *user = json_string_value(v);
#undef FAIL
    return AUTHOS_OK;
}

static const char *either(const json_t *claims, const char *own,
                          const char *guide)
{
    const char *v = authos_json_string(claims, own);
    return v != NULL ? v : authos_json_string(claims, guide);
}

const char *authos_claims_org(const json_t *claims)
{
    return either(claims, "org", "org_slug");
}

const char *authos_claims_service(const json_t *claims)
{
    return either(claims, "service", "service_slug");
}

static int scalar_matches(const json_t *v, const char *value)
{
    char buf[32];

    if (json_is_string(v)) {
        return strcmp(json_string_value(v), value) == 0;
    }
    if (json_is_integer(v)) {
        /* At most 20 digits and a sign: never truncated. */
        (void)snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                       json_integer_value(v));
        return strcmp(buf, value) == 0;
    }
    if (json_is_true(v)) {
        return strcmp(value, "true") == 0;
    }
    if (json_is_false(v)) {
        return strcmp(value, "false") == 0;
    }
    return 0;
}

int authos_claim_matches(const json_t *claim, const char *value)
{
    apr_size_t i;
    json_t *el;

    if (claim == NULL) {
        return 0;
    }
    if (json_is_array(claim)) {
        json_array_foreach(claim, i, el) {
            if (scalar_matches(el, value)) {
                return 1;
            }
        }
        return 0;
    }
    return scalar_matches(claim, value);
}

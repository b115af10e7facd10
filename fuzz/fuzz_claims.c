/*
 * fuzz_claims.c: payload validation (authos_claims_check, SPEC section 5
 * steps 5 and 6) over arbitrary JSON, for every token profile and two rule
 * sets (the fixed rules; no issuer, "any" audience, REMOTE_USER from
 * email), plus the claim helpers of the Require providers (section 6).
 *
 * Invariants:
 * - an accepted payload has a numeric exp with now <= exp + skew, nbf and
 *   iat (when present) numeric and not in the future, iss and aud as the
 *   rules say, a non-empty string sub, token_use matching the profile,
 *   mfa_required not true, no act, and REMOTE_USER = the user claim;
 * - a refusal sets no user and names a detail;
 * - the verified-token cache path (authos_token_verified, parsing the
 *   bytes itself) reaches the same verdict;
 * - org/service prefer AuthOS's names; a string or integer claim matches
 *   its own spelling.
 */
#include "fuzz_common.h"

#include "authos_json.h"
#include "authos_verify.h"

static int time_ok(const json_t *c, const char *name, int required)
{
    double v;

    if (json_object_get(c, name) == NULL) {
        return !required;
    }
    return authos_json_number(c, name, &v)
           && (required ? (double)FUZZ_NOW <= v + FUZZ_SKEW
                        : v <= (double)FUZZ_NOW + FUZZ_SKEW);
}

static void check_accepted(const authos_claim_rules_t *r,
                           authos_profile_t profile, const json_t *c,
                           const char *user)
{
    const char *use = authos_json_string(c, "token_use");

    FUZZ_CHECK(time_ok(c, "exp", 1) && time_ok(c, "nbf", 0)
               && time_ok(c, "iat", 0));
    if (r->issuer != NULL) {
        FUZZ_CHECK(strcmp(authos_json_string(c, "iss"), r->issuer) == 0);
    }
    if (r->audiences != NULL) {
        FUZZ_CHECK(
            authos_claim_matches(json_object_get(c, "aud"), FUZZ_AUDIENCE)
            || authos_claim_matches(json_object_get(c, "aud"), "platform"));
    }
    FUZZ_CHECK(authos_json_string(c, "sub") != NULL
               && *authos_json_string(c, "sub") != '\0');
    if (json_object_get(c, "token_use") != NULL) {
        FUZZ_CHECK(use != NULL);
        FUZZ_CHECK(profile != AUTHOS_PROFILE_MANAGEMENT
                   || strcmp(use, "management_access") == 0);
        FUZZ_CHECK(profile != AUTHOS_PROFILE_RESOURCE
                   || strcmp(use, "external_resource_access") == 0);
    }
    FUZZ_CHECK(!json_is_true(json_object_get(c, "mfa_required")));
    FUZZ_CHECK(json_object_get(c, "act") == NULL);
    FUZZ_CHECK(user != NULL && *user != '\0');
    FUZZ_CHECK(strcmp(authos_json_string(c, r->user_claim), user) == 0);
}

static void check_helpers(const json_t *c)
{
    const char *org = authos_claims_org(c), *svc = authos_claims_service(c);
    const char *key;
    json_t *v;
    char buf[32];

    if (authos_json_string(c, "org") != NULL) {
        FUZZ_CHECK(org == authos_json_string(c, "org"));
    }
    else {
        FUZZ_CHECK(org == authos_json_string(c, "org_slug"));
    }
    if (authos_json_string(c, "service") != NULL) {
        FUZZ_CHECK(svc == authos_json_string(c, "service"));
    }
    else {
        FUZZ_CHECK(svc == authos_json_string(c, "service_slug"));
    }
    json_object_foreach((json_t *)c, key, v) {
        FUZZ_CHECK(!authos_claim_matches(NULL, key));
        if (json_is_string(v)) {
            FUZZ_CHECK(authos_claim_matches(v, json_string_value(v)));
        }
        else if (json_is_integer(v)) {
            snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(v));
            FUZZ_CHECK(authos_claim_matches(v, buf));
        }
        else if (json_is_boolean(v)) {
            FUZZ_CHECK(
                authos_claim_matches(v, json_is_true(v) ? "true" : "false"));
        }
        else {
            (void)authos_claim_matches(v, key);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    authos_claim_rules_t rules[2];
    json_t *c = authos_json_object(p, (const char *)data, size);
    authos_token_t cached;
    authos_reason_t reason;
    const char *user, *detail;
    int r, profile;

    fuzz_rules(p, &rules[0]);
    rules[1] = rules[0];
    rules[1].issuer = NULL;
    rules[1].audiences = NULL;
    rules[1].user_claim = "email";
    for (r = 0; r < 2; r++) {
        for (profile = 0; profile <= AUTHOS_PROFILE_RESOURCE; profile++) {
            reason = authos_token_verified(p, (const char *)data, size, NULL,
                                           "kid", profile, &rules[r], &cached);
            if (c == NULL) {
                FUZZ_CHECK(reason == AUTHOS_ERR_MALFORMED);
                FUZZ_CHECK(cached.user == NULL && cached.detail != NULL);
                continue;
            }
            FUZZ_CHECK(cached.claims != NULL);
            FUZZ_CHECK(
                authos_claims_check(&rules[r], profile, c, &user, &detail)
                == reason);
            if (reason == AUTHOS_OK) {
                check_accepted(&rules[r], profile, c, user);
            }
            else {
                FUZZ_CHECK(user == NULL && detail != NULL);
                FUZZ_CHECK(cached.user == NULL && cached.detail != NULL);
            }
        }
    }
    if (c != NULL) {
        check_helpers(c);
    }
    apr_pool_destroy(p);
    return 0;
}

/*
 * authos_claims.h: payload validation (SPEC section 5, steps 5 and 6).
 */
#ifndef AUTHOS_CLAIMS_H
#define AUTHOS_CLAIMS_H

#include <apr_tables.h>
#include <jansson.h>

#include "authos_jwt.h"
#include "authos_reason.h"

typedef struct {
    const char *issuer;               /* required iss; NULL = not checked */
    const apr_array_header_t *audiences; /* const char *; NULL = "any" */
    long long now;                    /* seconds since the epoch */
    int skew;                         /* seconds of leeway */
    const char *user_claim;           /* claim that becomes REMOTE_USER */
} authos_claim_rules_t;

/* Check the verified payload against rules. On success *user is the
 * user_claim value. *detail (may be NULL) names what failed, for logs. */
authos_reason_t authos_claims_check(const authos_claim_rules_t *rules,
                                    authos_profile_t profile,
                                    const json_t *claims, const char **user,
                                    const char **detail);

/* The org slug (AuthOS's "org" wins over the guides' "org_slug") and the
 * service slug likewise; NULL when absent or not a string. */
const char *authos_claims_org(const json_t *claims);
const char *authos_claims_service(const json_t *claims);

/* Does the claim equal value (string; integer in decimal; true/false), or
 * is it an array holding such an element? A missing claim never matches. */
int authos_claim_matches(const json_t *claim, const char *value);

#endif

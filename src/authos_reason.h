/*
 * authos_reason.h: the one list of reasons a token is refused.
 *
 * The core returns one of these codes; the Apache glue maps it 1:1 to the
 * fixed error_description string of SPEC section 5 (never a formatted
 * string, so nothing from the token can reach a response).
 */
#ifndef AUTHOS_REASON_H
#define AUTHOS_REASON_H

typedef enum {
    AUTHOS_OK = 0,
    AUTHOS_ERR_MALFORMED,        /* size, structure, base64url, JSON, types */
    AUTHOS_ERR_ALGORITHM,        /* header alg is not exactly RS256 */
    AUTHOS_ERR_CRIT,             /* header carries crit */
    AUTHOS_ERR_TYPE,             /* typ names a profile we refuse */
    AUTHOS_ERR_UNKNOWN_KEY,      /* no usable key with that kid */
    AUTHOS_ERR_BAD_SIGNATURE,    /* RS256 signature does not verify */
    AUTHOS_ERR_EXPIRED,          /* now > exp + skew */
    AUTHOS_ERR_NOT_YET_VALID,    /* nbf > now + skew */
    AUTHOS_ERR_ISSUED_IN_FUTURE, /* iat > now + skew */
    AUTHOS_ERR_ISSUER,           /* iss is not the configured issuer */
    AUTHOS_ERR_AUDIENCE,         /* aud holds none of the configured values */
    AUTHOS_ERR_SUBJECT,          /* sub missing or not a non-empty string */
    AUTHOS_ERR_TOKEN_USE,        /* token_use refused or not matching typ */
    AUTHOS_ERR_MFA_REQUIRED,     /* mfa_required: true */
    AUTHOS_ERR_DELEGATED,        /* act claim (impersonation/delegation) */
    AUTHOS_ERR_USER_CLAIM,       /* AuthOSRemoteUserClaim not a string */
    AUTHOS_ERR_SESSION_REVOKED,  /* /api/user answered 401 */
    AUTHOS_ERR_NO_KEYSET,        /* no usable key set: a 503, not a 401 */
    AUTHOS_REASON_COUNT
} authos_reason_t;

/* The fixed, client-safe error_description for a reason. */
const char *authos_reason_text(authos_reason_t reason);

/* A stable identifier (lower_snake) for logs and metrics labels. */
const char *authos_reason_name(authos_reason_t reason);

#endif

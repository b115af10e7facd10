/*
 * authos_reason.c: fixed texts for the refusal reasons (SPEC section 5).
 */
#include "authos_reason.h"

static const struct {
    const char *text;
    const char *name;
} reasons[AUTHOS_REASON_COUNT] = {
    [AUTHOS_OK] = {"ok", "ok"},
    [AUTHOS_ERR_MALFORMED] = {"malformed", "malformed"},
    [AUTHOS_ERR_ALGORITHM] = {"unsupported algorithm", "algorithm"},
    [AUTHOS_ERR_CRIT] = {"unsupported critical header", "crit"},
    [AUTHOS_ERR_TYPE] = {"unsupported token type", "type"},
    [AUTHOS_ERR_UNKNOWN_KEY] = {"unknown key", "unknown_key"},
    [AUTHOS_ERR_BAD_SIGNATURE] = {"bad signature", "bad_signature"},
    [AUTHOS_ERR_EXPIRED] = {"expired", "expired"},
    [AUTHOS_ERR_NOT_YET_VALID] = {"not yet valid", "not_yet_valid"},
    [AUTHOS_ERR_ISSUED_IN_FUTURE] = {"issued in the future", "issued_in_future"},
    [AUTHOS_ERR_ISSUER] = {"wrong issuer", "issuer"},
    [AUTHOS_ERR_AUDIENCE] = {"wrong audience", "audience"},
    [AUTHOS_ERR_SUBJECT] = {"missing subject", "subject"},
    [AUTHOS_ERR_TOKEN_USE] = {"unsupported token use", "token_use"},
    [AUTHOS_ERR_MFA_REQUIRED] = {"mfa required", "mfa_required"},
    [AUTHOS_ERR_DELEGATED] = {"delegated token", "delegated"},
    [AUTHOS_ERR_USER_CLAIM] = {"missing user claim", "user_claim"},
    [AUTHOS_ERR_SESSION_REVOKED] = {"session revoked", "session_revoked"},
    [AUTHOS_ERR_NO_KEYSET] = {"key set unavailable", "no_keyset"},
};

const char *authos_reason_text(authos_reason_t reason)
{
    if ((unsigned)reason >= AUTHOS_REASON_COUNT) {
        return "invalid";
    }
    return reasons[reason].text;
}

const char *authos_reason_name(authos_reason_t reason)
{
    if ((unsigned)reason >= AUTHOS_REASON_COUNT) {
        return "invalid";
    }
    return reasons[reason].name;
}

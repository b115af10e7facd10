/*
 * authos_verify.c: the token check of SPEC section 5, steps 1 to 6.
 */
#include <string.h>

#include <apr_strings.h>

#include "authos_json.h"
#include "authos_rsa.h"
#include "authos_verify.h"

/* Step 5 and 6: the payload, parsed only once it is authentic (unless
 * already parsed: out->claims set). */
static authos_reason_t check_payload(apr_pool_t *p,
                                     const authos_claim_rules_t *rules,
                                     authos_token_t *out)
{
    const char *sub;

    if (out->claims == NULL) {
        out->claims = authos_json_object(p, (const char *)out->jwt.payload,
                                         out->jwt.payload_len);
    }
    if (out->claims == NULL) {
        out->detail = "payload is not a JSON object without duplicates";
        return AUTHOS_ERR_MALFORMED;
    }
    sub = authos_json_string(out->claims, "sub");
    out->sub = sub != NULL ? apr_pstrdup(p, sub) : NULL;
    return authos_claims_check(rules, out->jwt.profile, out->claims,
                               &out->user, &out->detail);
}

authos_reason_t authos_token_verify(apr_pool_t *p, const char *token,
                                    apr_size_t len,
                                    authos_key_lookup_fn lookup, void *ctx,
                                    const authos_claim_rules_t *rules,
                                    authos_token_t *out)
{
    authos_reason_t reason;
    EVP_PKEY_CTX *verifier = NULL;

    memset(out, 0, sizeof(*out));
    /* Steps 1 and 2: structure and header. */
    reason = authos_jwt_parse(p, token, len, &out->jwt);
    if (reason != AUTHOS_OK) {
        out->detail = "token structure or header refused";
        return reason;
    }
    /* Step 3: the key comes only from our key set, by kid. */
    switch (lookup(ctx, out->jwt.kid, &verifier)) {
    case AUTHOS_KEY_FOUND:
        break;
    case AUTHOS_KEY_NO_KEYSET:
        out->detail = "no usable key set";
        return AUTHOS_ERR_NO_KEYSET;
    default:
        out->detail = "kid not in the key set";
        return AUTHOS_ERR_UNKNOWN_KEY;
    }
    /* Step 4: RS256 over the signing input. */
    if (!authos_rs256_verify_ctx(verifier,
                                 (const unsigned char *)out->jwt.signing_input,
                                 out->jwt.signing_input_len,
                                 out->jwt.signature, out->jwt.signature_len)) {
        out->detail = "signature does not verify";
        return AUTHOS_ERR_BAD_SIGNATURE;
    }
    return check_payload(p, rules, out);
}

authos_reason_t authos_token_verified(apr_pool_t *p, const char *payload,
                                      apr_size_t len, json_t *claims,
                                      const char *kid,
                                      authos_profile_t profile,
                                      const authos_claim_rules_t *rules,
                                      authos_token_t *out)
{
    memset(out, 0, sizeof(*out));
    out->claims = claims;
    out->jwt.payload = (unsigned char *)apr_pstrmemdup(p, payload, len);
    out->jwt.payload_len = len;
    out->jwt.kid = kid;
    out->jwt.profile = profile;
    return check_payload(p, rules, out);
}

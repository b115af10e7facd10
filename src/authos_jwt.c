/*
 * authos_jwt.c: compact JWS parsing and header checks (SPEC section 5,
 * steps 1 and 2; RFC 7515 section 7.1).
 */
#include <string.h>
#include <strings.h>

#include "authos_b64url.h"
#include "authos_json.h"
#include "authos_jwt.h"

int authos_jwt_profile_of(const char *typ)
{
    /* RFC 7515 section 4.1.9: media types compare case-insensitively and
     * the "application/" prefix may be left out. */
    if (strncasecmp(typ, "application/", 12) == 0) {
        typ += 12;
    }
    if (strcasecmp(typ, "authos-management+jwt") == 0) {
        return AUTHOS_PROFILE_MANAGEMENT;
    }
    if (strcasecmp(typ, "at+jwt") == 0) {
        return AUTHOS_PROFILE_RESOURCE;
    }
    if (strcasecmp(typ, "JWT") == 0) {
        return AUTHOS_PROFILE_NONE;
    }
    /* authos-mfa-preauth+jwt, authos-impersonation+jwt, oauth-id-jag+jwt,
     * the empty string and anything else: refused (SPEC section 2). */
    return -1;
}

authos_reason_t authos_jwt_parse(apr_pool_t *p, const char *token,
                                 apr_size_t len, authos_jwt_t *jwt)
{
    const char *dot1, *dot2;
    unsigned char *hdr_raw;
    apr_size_t hdr_len;
    json_t *typ, *kid;
    const char *alg;
    int profile;

    memset(jwt, 0, sizeof(*jwt));
    if (len == 0 || len > AUTHOS_TOKEN_MAX) {
        return AUTHOS_ERR_MALFORMED;
    }
    /* Exactly three parts: JWE (five parts) and JSON serialisation are
     * not access tokens of AuthOS. */
    dot1 = memchr(token, '.', len);
    if (dot1 == NULL) {
        return AUTHOS_ERR_MALFORMED;
    }
    dot2 = memchr(dot1 + 1, '.', len - (apr_size_t)(dot1 + 1 - token));
    if (dot2 == NULL
        || memchr(dot2 + 1, '.', len - (apr_size_t)(dot2 + 1 - token))) {
        return AUTHOS_ERR_MALFORMED;
    }
    /* Each part non-empty: an empty payload (detached content, RFC 7515
     * appendix F) or an empty signature (an unsecured JWS) is never an
     * AuthOS access token, so it is malformed at step 1. */
    if (dot1 == token || dot2 == dot1 + 1 || dot2 + 1 == token + len) {
        return AUTHOS_ERR_MALFORMED;
    }
    if (authos_b64url_decode(p, token, (apr_size_t)(dot1 - token), &hdr_raw,
                             &hdr_len) != APR_SUCCESS
        || authos_b64url_decode(p, dot1 + 1, (apr_size_t)(dot2 - dot1 - 1),
                                &jwt->payload, &jwt->payload_len)
               != APR_SUCCESS
        || authos_b64url_decode(p, dot2 + 1,
                                len - (apr_size_t)(dot2 + 1 - token),
                                &jwt->signature, &jwt->signature_len)
               != APR_SUCCESS) {
        return AUTHOS_ERR_MALFORMED;
    }
    jwt->signing_input = token;
    jwt->signing_input_len = (apr_size_t)(dot2 - token);

    jwt->header = authos_json_object(p, (const char *)hdr_raw, hdr_len);
    if (jwt->header == NULL) {
        return AUTHOS_ERR_MALFORMED;
    }
    /* Step 2, in the order of the SPEC. The token's alg never selects
     * code: it must name the one algorithm we implement. */
    alg = authos_json_string(jwt->header, "alg");
    if (alg == NULL || strcmp(alg, "RS256") != 0) {
        return AUTHOS_ERR_ALGORITHM;
    }
    kid = json_object_get(jwt->header, "kid");
    if (!json_is_string(kid) || json_string_length(kid) == 0) {
        return AUTHOS_ERR_MALFORMED;
    }
    jwt->kid = json_string_value(kid);
    /* RFC 7515 section 4.1.11: we understand no extension, so any crit
     * means the token must be refused. */
    if (json_object_get(jwt->header, "crit") != NULL) {
        return AUTHOS_ERR_CRIT;
    }
    typ = json_object_get(jwt->header, "typ");
    if (typ != NULL) {
        if (!json_is_string(typ)) {
            return AUTHOS_ERR_MALFORMED;
        }
        profile = authos_jwt_profile_of(json_string_value(typ));
        if (profile < 0) {
            return AUTHOS_ERR_TYPE;
        }
        jwt->profile = (authos_profile_t)profile;
    }
    /* jku, x5u, jwk and x5c are deliberately never read: the key comes
     * only from the configured key set (SPEC section 2). */
    return AUTHOS_OK;
}

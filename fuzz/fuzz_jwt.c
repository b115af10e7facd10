/*
 * fuzz_jwt.c: compact JWS splitting and the header rules
 * (authos_jwt_parse, SPEC section 5 steps 1 and 2), and the typ profile
 * mapping (authos_jwt_profile_of).
 *
 * Invariants for an accepted token:
 * - at most AUTHOS_TOKEN_MAX bytes, exactly three non-empty parts, and the
 *   signing input is the token up to the second dot;
 * - each decoded part re-encodes to its text (one spelling per token);
 * - the header is an object with alg exactly "RS256", a non-empty string
 *   kid (the one returned), no crit, and a profile that its typ maps to.
 * The profile of a typ does not depend on letter case.
 */
#include <ctype.h>

#include "fuzz_common.h"

#include "authos_b64url.h"
#include "authos_json.h"
#include "authos_jwt.h"

/* Part `text` (len bytes) is the base64url spelling of bytes/n. */
static void check_part(apr_pool_t *p, const char *text, size_t len,
                       const unsigned char *bytes, apr_size_t n)
{
    const char *enc = authos_b64url_encode(p, bytes, n);

    FUZZ_CHECK(len > 0);
    FUZZ_CHECK(strlen(enc) == len && memcmp(enc, text, len) == 0);
}

static void check_accepted(apr_pool_t *p, const char *tok, size_t size,
                           const authos_jwt_t *jwt)
{
    const char *dot1 = memchr(tok, '.', size), *dot2, *alg, *typ;
    char *hdr_text;
    unsigned char *hdr;
    apr_size_t hdr_len;

    FUZZ_CHECK(size <= AUTHOS_TOKEN_MAX && dot1 != NULL);
    dot2 = memchr(dot1 + 1, '.', size - (size_t)(dot1 + 1 - tok));
    FUZZ_CHECK(dot2 != NULL);
    FUZZ_CHECK(memchr(dot2 + 1, '.', size - (size_t)(dot2 + 1 - tok)) == NULL);
    FUZZ_CHECK(jwt->signing_input == tok);
    FUZZ_CHECK(jwt->signing_input_len == (apr_size_t)(dot2 - tok));

    FUZZ_CHECK(
        authos_b64url_decode(p, tok, (apr_size_t)(dot1 - tok), &hdr, &hdr_len)
        == APR_SUCCESS);
    check_part(p, tok, (size_t)(dot1 - tok), hdr, hdr_len);
    check_part(p, dot1 + 1, (size_t)(dot2 - dot1 - 1), jwt->payload,
               jwt->payload_len);
    check_part(p, dot2 + 1, size - (size_t)(dot2 + 1 - tok), jwt->signature,
               jwt->signature_len);
    FUZZ_CHECK(jwt->payload[jwt->payload_len] == '\0');

    /* The header says what the parser made of it. */
    hdr_text = apr_pstrmemdup(p, (const char *)hdr, hdr_len);
    FUZZ_CHECK(authos_json_object(p, hdr_text, hdr_len) != NULL);
    FUZZ_CHECK(json_is_object(jwt->header));
    alg = authos_json_string(jwt->header, "alg");
    FUZZ_CHECK(alg != NULL && strcmp(alg, "RS256") == 0);
    FUZZ_CHECK(jwt->kid != NULL && *jwt->kid != '\0');
    FUZZ_CHECK(strcmp(authos_json_string(jwt->header, "kid"), jwt->kid) == 0);
    FUZZ_CHECK(json_object_get(jwt->header, "crit") == NULL);
    typ = authos_json_string(jwt->header, "typ");
    if (json_object_get(jwt->header, "typ") == NULL) {
        FUZZ_CHECK(jwt->profile == AUTHOS_PROFILE_NONE);
    }
    else {
        FUZZ_CHECK(typ != NULL);
        FUZZ_CHECK(authos_jwt_profile_of(typ) == (int)jwt->profile);
    }
}

/* typ as text: the same profile whatever the case of its letters. */
static void check_profile_of(apr_pool_t *p, const uint8_t *data, size_t size)
{
    char *typ = apr_pstrmemdup(p, (const char *)data, size);
    char *upper = apr_pstrdup(p, typ);
    int profile = authos_jwt_profile_of(typ);
    char *c;

    FUZZ_CHECK(profile >= -1 && profile <= AUTHOS_PROFILE_RESOURCE);
    for (c = upper; *c; c++) {
        *c = (char)toupper((unsigned char)*c);
    }
    FUZZ_CHECK(authos_jwt_profile_of(upper) == profile);
    if (profile >= 0) {
        FUZZ_CHECK(*typ != '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    authos_jwt_t jwt;
    authos_reason_t reason;

    reason = authos_jwt_parse(p, (const char *)data, size, &jwt);
    FUZZ_CHECK(reason == AUTHOS_OK || reason == AUTHOS_ERR_MALFORMED
               || reason == AUTHOS_ERR_ALGORITHM || reason == AUTHOS_ERR_CRIT
               || reason == AUTHOS_ERR_TYPE);
    if (reason == AUTHOS_OK) {
        check_accepted(p, (const char *)data, size, &jwt);
    }
    if (size < 256) {
        check_profile_of(p, data, size);
    }
    apr_pool_destroy(p);
    return 0;
}

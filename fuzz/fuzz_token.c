/*
 * fuzz_token.c: the whole token check (authos_token_verify, SPEC section 5
 * steps 1 to 6) over arbitrary bytes, against the fixed key set
 * fuzz/keys/jwks.json and the fixed claim rules of fuzz_common.h.
 *
 * Invariants besides "never crash, never leak":
 * - the verdict is that of the header parser whenever that refuses, and
 *   the key lookup runs at most once, only after the header is accepted;
 * - an accepted token verified with its key: the signature is checked
 *   again with a fresh RS256 context (authos_rs256_verify), the claims
 *   again through the verified-token cache path (authos_token_verified);
 * - an accepted token has iss, aud, exp and REMOTE_USER as the rules say;
 * - "unknown key" and "bad signature" are what they say.
 */
#include "fuzz_common.h"

#include "authos_jwks.h"
#include "authos_json.h"
#include "authos_rsa.h"
#include "authos_verify.h"

#ifndef FUZZ_KEYS_FILE
#define FUZZ_KEYS_FILE "fuzz/keys/jwks.json"
#endif

/* The kid for which the lookup answers "no usable key set" (a 503). */
#define NO_KEYSET_KID "fuzz-nokeyset"

static authos_jwks_t *keyset;

static authos_key_status_t lookup(void *ctx, const char *kid,
                                  EVP_PKEY_CTX **verifier)
{
    const authos_jwk_t *k;

    (*(int *)ctx)++;
    if (strcmp(kid, NO_KEYSET_KID) == 0) {
        return AUTHOS_KEY_NO_KEYSET;
    }
    k = authos_jwks_find(keyset, kid);
    if (k == NULL) {
        return AUTHOS_KEY_UNKNOWN;
    }
    *verifier = k->verifier;
    return AUTHOS_KEY_FOUND;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *path = getenv("FUZZ_KEYS");
    apr_pool_t *p = fuzz_root_pool();
    const char *err = NULL;
    apr_size_t len;
    char *text;

    (void)argc;
    (void)argv;
    text = fuzz_read_file(p, path != NULL ? path : FUZZ_KEYS_FILE, &len);
    keyset = authos_jwks_parse(p, text, len, &err);
    if (keyset == NULL || keyset->keys->nelts < 1) {
        fprintf(stderr, "fuzz_token: bad key set: %s\n", err ? err : "?");
        abort();
    }
    return 0;
}

/* An accepted token: check it again by independent paths. */
static void check_accepted(apr_pool_t *p, const authos_claim_rules_t *rules,
                           const uint8_t *data, size_t size,
                           const authos_token_t *t)
{
    const authos_jwk_t *k = authos_jwks_find(keyset, t->jwt.kid);
    authos_token_t again;
    double exp = 0;

    FUZZ_CHECK(k != NULL);
    FUZZ_CHECK(t->jwt.signing_input == (const char *)data);
    FUZZ_CHECK(t->jwt.signing_input_len < size);
    FUZZ_CHECK(data[t->jwt.signing_input_len] == '.');
    FUZZ_CHECK(authos_rs256_verify(k->pkey,
                                   (const unsigned char *)t->jwt.signing_input,
                                   t->jwt.signing_input_len, t->jwt.signature,
                                   t->jwt.signature_len)
               == 1);
    FUZZ_CHECK(json_is_object(t->claims));
    FUZZ_CHECK(t->user != NULL && *t->user != '\0');
    FUZZ_CHECK(t->sub != NULL && strcmp(t->sub, t->user) == 0);
    FUZZ_CHECK(strcmp(authos_json_string(t->claims, "iss"), FUZZ_ISSUER) == 0);
    FUZZ_CHECK(authos_json_number(t->claims, "exp", &exp));
    FUZZ_CHECK((double)FUZZ_NOW <= exp + FUZZ_SKEW);
    FUZZ_CHECK(json_object_get(t->claims, "act") == NULL);
    FUZZ_CHECK(!json_is_true(json_object_get(t->claims, "mfa_required")));
    FUZZ_CHECK(authos_token_verified(p, (const char *)t->jwt.payload,
                                     t->jwt.payload_len, NULL, t->jwt.kid,
                                     t->jwt.profile, rules, &again)
               == AUTHOS_OK);
    FUZZ_CHECK(strcmp(again.user, t->user) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    authos_claim_rules_t rules;
    authos_token_t out;
    authos_jwt_t jwt;
    authos_reason_t reason, parsed;
    int calls = 0;

    fuzz_rules(p, &rules);
    reason = authos_token_verify(p, (const char *)data, size, lookup, &calls,
                                 &rules, &out);
    FUZZ_CHECK((int)reason >= 0 && reason < AUTHOS_REASON_COUNT);
    FUZZ_CHECK(authos_reason_text(reason) != NULL);
    FUZZ_CHECK(calls <= 1);
    if (size > AUTHOS_TOKEN_MAX) {
        FUZZ_CHECK(reason == AUTHOS_ERR_MALFORMED && calls == 0);
    }

    /* Steps 1 and 2 alone give the same verdict when they refuse. */
    parsed = authos_jwt_parse(p, (const char *)data, size, &jwt);
    if (parsed != AUTHOS_OK) {
        FUZZ_CHECK(reason == parsed && calls == 0);
    }
    else {
        FUZZ_CHECK(calls == 1);
        FUZZ_CHECK(strcmp(jwt.kid, out.jwt.kid) == 0);
    }

    switch (reason) {
    case AUTHOS_OK:
        check_accepted(p, &rules, data, size, &out);
        break;
    case AUTHOS_ERR_UNKNOWN_KEY:
        FUZZ_CHECK(authos_jwks_find(keyset, out.jwt.kid) == NULL);
        break;
    case AUTHOS_ERR_NO_KEYSET:
        FUZZ_CHECK(strcmp(out.jwt.kid, NO_KEYSET_KID) == 0);
        break;
    case AUTHOS_ERR_BAD_SIGNATURE:
        FUZZ_CHECK(
            authos_rs256_verify(authos_jwks_find(keyset, out.jwt.kid)->pkey,
                                (const unsigned char *)out.jwt.signing_input,
                                out.jwt.signing_input_len, out.jwt.signature,
                                out.jwt.signature_len)
            == 0);
        break;
    default:
        break;
    }
    /* A refusal never names a user, and always says why (for the log). */
    if (reason != AUTHOS_OK) {
        FUZZ_CHECK(out.user == NULL && out.detail != NULL);
    }
    apr_pool_destroy(p);
    return 0;
}

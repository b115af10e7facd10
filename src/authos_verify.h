/*
 * authos_verify.h: the whole token check of SPEC section 5, independent of
 * where keys come from (Apache's shared key set, or a file for the CLI).
 */
#ifndef AUTHOS_VERIFY_H
#define AUTHOS_VERIFY_H

#include <apr_pools.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "authos_claims.h"
#include "authos_jwt.h"
#include "authos_reason.h"

typedef enum {
    AUTHOS_KEY_FOUND = 0,
    AUTHOS_KEY_UNKNOWN,    /* the key set has no usable key with that kid */
    AUTHOS_KEY_NO_KEYSET   /* no usable key set at all */
} authos_key_status_t;

/* Find the key for kid. The key must stay valid until the pool given to
 * authos_token_verify is cleared. A lookup may refresh its key set once
 * for an unknown kid (SPEC section 5 step 3); the verifier never asks
 * twice for one token. */
/* On AUTHOS_KEY_FOUND *verifier is an RS256 verify context of the key
 * (authos_rs256_ctx_new or a copy of one) that this call may use; the
 * lookup owns it. */
typedef authos_key_status_t (*authos_key_lookup_fn)(void *ctx,
                                                    const char *kid,
                                                    EVP_PKEY_CTX **verifier);

typedef struct {
    authos_jwt_t jwt;
    json_t *claims;      /* verified payload, owned by the pool */
    const char *user;    /* value of the user claim */
    const char *sub;     /* for logs, once the signature is verified */
    const char *detail;  /* what failed, for logs; never token text */
} authos_token_t;

/* Run steps 1 to 6 in order; the first failure is the reason returned.
 * AUTHOS_ERR_NO_KEYSET means "answer 503", not "the token is bad". */
authos_reason_t authos_token_verify(apr_pool_t *p, const char *token,
                                    apr_size_t len,
                                    authos_key_lookup_fn lookup, void *ctx,
                                    const authos_claim_rules_t *rules,
                                    authos_token_t *out);

/* Steps 5 and 6 for a payload whose signature verified earlier (the
 * verified-token cache): every claim check runs again. claims, when not
 * NULL, is the payload already parsed (the caller keeps it alive for p). */
authos_reason_t authos_token_verified(apr_pool_t *p, const char *payload,
                                      apr_size_t len, json_t *claims,
                                      const char *kid,
                                      authos_profile_t profile,
                                      const authos_claim_rules_t *rules,
                                      authos_token_t *out);

#endif

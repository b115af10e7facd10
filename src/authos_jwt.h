/*
 * authos_jwt.h: splitting a compact JWS and checking its protected header
 * (SPEC section 5, steps 1 and 2).
 */
#ifndef AUTHOS_JWT_H
#define AUTHOS_JWT_H

#include <apr_pools.h>
#include <jansson.h>

#include "authos_reason.h"

/* SPEC section 5 step 1: longer tokens are refused before any decoding. */
#define AUTHOS_TOKEN_MAX 16384

/* The AuthOS token profile named by the header's typ. */
typedef enum {
    AUTHOS_PROFILE_NONE = 0,   /* typ absent or "JWT" (older releases) */
    AUTHOS_PROFILE_MANAGEMENT, /* authos-management+jwt */
    AUTHOS_PROFILE_RESOURCE    /* at+jwt (RFC 9068) */
} authos_profile_t;

typedef struct {
    const char *signing_input;   /* "header.payload", not NUL-terminated */
    apr_size_t signing_input_len;
    unsigned char *signature;
    apr_size_t signature_len;
    unsigned char *payload;      /* decoded payload bytes (NUL-terminated) */
    apr_size_t payload_len;
    json_t *header;              /* owned by the pool */
    const char *kid;
    authos_profile_t profile;
} authos_jwt_t;

/* Split and decode token (len bytes) and check its header: size, three
 * base64url parts, header a JSON object without duplicates, alg exactly
 * RS256, kid a non-empty string, no crit, typ absent or an accepted
 * profile. The payload is decoded but not parsed: that waits until the
 * signature is verified. */
authos_reason_t authos_jwt_parse(apr_pool_t *p, const char *token,
                                 apr_size_t len, authos_jwt_t *jwt);

/* Map a typ value to a profile; -1 when it is refused. */
int authos_jwt_profile_of(const char *typ);

#endif

/*
 * authos_userinfo.h: asking AuthOS who a token's user is, for the
 * permissions it holds and whether its session is alive
 * (GET {base}/api/user with the same bearer token; SPEC section 2), and
 * ending that session (POST {base}/api/auth/logout).
 */
#ifndef AUTHOS_USERINFO_H
#define AUTHOS_USERINFO_H

#include <apr_pools.h>
#include <jansson.h>

#include "authos_http.h"

typedef enum {
    AUTHOS_USERINFO_OK = 0, /* 200 with a usable answer */
    AUTHOS_USERINFO_REVOKED, /* 401: the AuthOS session is gone */
    AUTHOS_USERINFO_FAILED   /* unreachable, slow, garbage, other status */
} authos_userinfo_status_t;

typedef struct {
    const char *permissions; /* compact JSON array of strings */
    const char *error;       /* FAILED: what went wrong, in words */
    long http_status;
} authos_userinfo_t;

/* Call {base}/api/user with token within opts->timeout. */
authos_userinfo_status_t authos_userinfo_fetch(apr_pool_t *p,
                                               const char *base,
                                               const char *token,
                                               const authos_http_opts_t *opts,
                                               authos_userinfo_t *out);

/* The permissions of a 200 answer body as a compact JSON array of
 * strings (non-strings dropped; a missing member is []); NULL when the
 * body is not a JSON object or "permissions" is not an array. */
const char *authos_userinfo_permissions(apr_pool_t *p, const char *body,
                                        apr_size_t len);

/* Parse a stored permissions text back into an array owned by p. */
json_t *authos_userinfo_array(apr_pool_t *p, const char *text,
                              apr_size_t len);

/* End the token's AuthOS session: POST {base}/api/auth/logout with it as
 * the bearer token (SPEC section 2). Returns 1 when AuthOS answered 2xx;
 * else 0 with *error in words. */
int authos_userinfo_logout(apr_pool_t *p, const char *base, const char *token,
                           const authos_http_opts_t *opts, const char **error);

#endif

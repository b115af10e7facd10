/*
 * authos_b64url.h: strict base64url (RFC 4648 section 5, RFC 7515 section 2).
 *
 * Only the URL-safe alphabet, no padding, no whitespace; a length of
 * 1 mod 4 and non-zero trailing bits are refused, so every input has at
 * most one accepted spelling.
 */
#ifndef AUTHOS_B64URL_H
#define AUTHOS_B64URL_H

#include <apr_pools.h>

/* Decode len bytes of in. On success *out is pool memory holding *outlen
 * bytes followed by a NUL (not counted) and APR_SUCCESS is returned;
 * otherwise APR_EINVAL and *out is NULL. */
apr_status_t authos_b64url_decode(apr_pool_t *p, const char *in,
                                  apr_size_t len, unsigned char **out,
                                  apr_size_t *outlen);

/* Encode len bytes without padding; the result is NUL-terminated. */
char *authos_b64url_encode(apr_pool_t *p, const unsigned char *in,
                           apr_size_t len);

#endif

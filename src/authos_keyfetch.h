/*
 * authos_keyfetch.h: getting a trust source's JWKS (SPEC sections 4 and
 * 8): metadata discovery, the JWKS URL, or a local file.
 */
#ifndef AUTHOS_KEYFETCH_H
#define AUTHOS_KEYFETCH_H

#include <apr_pools.h>

#include "authos_http.h"

typedef enum {
    AUTHOS_SOURCE_BASE_URL = 0, /* AuthOSBaseURL: discovery */
    AUTHOS_SOURCE_JWKS_URL,     /* AuthOSJWKSURL */
    AUTHOS_SOURCE_JWKS_FILE     /* AuthOSJWKSFile: never the network */
} authos_source_kind_t;

typedef struct {
    const char *jwks;            /* raw JWKS text, checked to hold a key */
    apr_size_t len;
    int nkeys;                   /* usable keys in it */
    const char *jwks_uri;        /* where it came from (discovered or not) */
    const char *metadata_issuer; /* "issuer" of the metadata, if read */
    long max_age;                /* Cache-Control max-age, -1 if none */
    const char *error;           /* on failure: what failed, in words */
} authos_keyfetch_t;

/* Fetch and validate the JWKS of a source. With a base URL, known_uri (a
 * jwks_uri discovered earlier, or NULL) skips discovery; otherwise
 * {base}/.well-known/authos-configuration, then openid-configuration,
 * then {base}/.well-known/jwks.json are tried, each 404 moving on to the
 * next. The whole chain stays within opts->timeout. An answer that is not
 * a JWK Set with at least one usable key is a failure. */
apr_status_t authos_keyfetch(apr_pool_t *p, authos_source_kind_t kind,
                             const char *value, const char *known_uri,
                             const authos_http_opts_t *opts,
                             authos_keyfetch_t *out);

#endif

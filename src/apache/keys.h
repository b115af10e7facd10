/*
 * keys.h: the shared key-set cache in Apache (SPEC section 8): shared
 * memory and global mutex, per-process parsed keys, fetching.
 */
#ifndef AUTHOS_KEYS_H
#define AUTHOS_KEYS_H

#include "httpd.h"

#include "authos_verify.h"
#include "config.h"

/* pre_config (parent): register the mutex type "authos-keys". */
int authos_keys_pre_config(apr_pool_t *pconf);

/* post_config (parent, real pass only): create the segment and mutex for
 * every trust source of the configuration. */
int authos_keys_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                            server_rec *s);

/* child_init (each child process): reattach the mutex, set up the
 * per-process parsed key sets. */
void authos_keys_child_init(apr_pool_t *pchild, server_rec *s);

/* Which key verified a token, for the verified-token cache. */
typedef struct {
    apr_uint64_t fp;         /* the key's fingerprint */
    apr_uint64_t generation; /* this process's key-set generation */
} authos_key_ref_t;

/* Key lookup for one request under conf: refreshes the key set when due
 * and refetches once for an unknown kid (throttled). *verifier is this
 * request's own copy of the key's RS256 context, freed with r->pool. */
authos_key_status_t authos_keys_lookup(request_rec *r,
                                       const authos_dir_conf_t *conf,
                                       const char *kid,
                                       EVP_PKEY_CTX **verifier,
                                       authos_key_ref_t *ref);

/* For a verified-token cache hit: is the key that verified it (kid and
 * fingerprint) still in the key set? Lock-free when the key set has not
 * changed since ref->generation; otherwise the key is looked up and
 * ref->generation updated. FOUND, UNKNOWN (the key is gone) or
 * NO_KEYSET. */
authos_key_status_t authos_keys_still_valid(request_rec *r,
                                            const authos_dir_conf_t *conf,
                                            const char *kid,
                                            authos_key_ref_t *ref);

/* Seconds a client should wait before retrying after a 503. */
int authos_keys_retry_after(request_rec *r, const authos_dir_conf_t *conf);

#endif

/*
 * tokcache.h: the verified-token cache of this process (SPEC section 9).
 */
#ifndef AUTHOS_TOKCACHE_GLUE_H
#define AUTHOS_TOKCACHE_GLUE_H

#include "httpd.h"

#include "authos_tokcache.h"

/* child_init: one cache per process, as large as the largest
 * AuthOSTokenCache of any server (0 everywhere: none). */
void authos_tokcache_child_init(apr_pool_t *pchild, server_rec *s);

/* The cache for r's server, or NULL when its AuthOSTokenCache is 0. */
authos_tokcache_t *authos_tokcache_for(request_rec *r);

#endif

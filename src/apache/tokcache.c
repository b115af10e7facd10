/*
 * tokcache.c: the verified-token cache of this process.
 */
#include "httpd.h"
#include "http_config.h"

#include "authos_module.h"
#include "config.h"
#include "tokcache.h"

static authos_tokcache_t *cache;

void authos_tokcache_child_init(apr_pool_t *pchild, server_rec *s)
{
    unsigned largest = 0;
    server_rec *v;

    for (v = s; v != NULL; v = v->next) {
        unsigned n = (unsigned)authos_srv_token_cache(v);
        if (n > largest) {
            largest = n;
        }
    }
    cache = authos_config_sources()->nelts > 0
                ? authos_tokcache_create(pchild, largest)
                : NULL;
}

authos_tokcache_t *authos_tokcache_for(request_rec *r)
{
    return authos_srv_token_cache(r->server) > 0 ? cache : NULL;
}

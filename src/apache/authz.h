/*
 * authz.h: the Require authos-* providers (SPEC section 6).
 */
#ifndef AUTHOS_AUTHZ_H
#define AUTHOS_AUTHZ_H

#include "apr_pools.h"

/* Register the five providers (register_hooks). */
void authos_authz_register(apr_pool_t *p);

#endif

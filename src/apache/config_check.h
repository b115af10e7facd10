/*
 * config_check.h: cross-directive checks at startup (SPEC section 4).
 */
#ifndef AUTHOS_CONFIG_CHECK_H
#define AUTHOS_CONFIG_CHECK_H

#include "httpd.h"

/* check_config hook (also run by apachectl -t): every section that uses
 * AuthType authos must see a trust source and AuthOSAudience (and, with
 * AuthOSJWKSURL/AuthOSJWKSFile, AuthOSIssuer); an http:// AuthOS URL needs
 * AuthOSAllowHTTP On. Errors name the file and line of the section. */
int authos_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp, server_rec *s);

#endif

/*
 * userinfo.h: the user's permissions and session state from AuthOS
 * (GET {base}/api/user), cached in shared memory for AuthOSUserInfoTTL
 * (SPEC sections 4 and 6).
 */
#ifndef AUTHOS_USERINFO_GLUE_H
#define AUTHOS_USERINFO_GLUE_H

#include "httpd.h"

#include <jansson.h>

#include "config.h"

/* pre_config: register the mutex type "authos-userinfo". */
int authos_userinfo_pre_config(apr_pool_t *pconf);

/* post_config (parent, real pass): create the cache and its mutex. */
int authos_userinfo_post_config(apr_pool_t *pconf, server_rec *s);

/* child_init: reattach the mutex. */
void authos_userinfo_child_init(apr_pool_t *pchild, server_rec *s);

/* Ask AuthOS (or the cache) about token. OK: *revoked says whether the
 * session is gone, else *perms is the user's permissions (an array owned
 * by r->pool). HTTP_SERVICE_UNAVAILABLE when AuthOS cannot answer within
 * AuthOSHTTPTimeout (the reason is logged; fail closed). At most one call
 * per token is under way across all processes. */
int authos_userinfo_get(request_rec *r, const authos_dir_conf_t *conf,
                        const char *token, int *revoked, json_t **perms);

/* The token's AuthOS session was ended here (sign-out): a cached
 * /api/user answer for it now says so, so AuthOSSessionCheck refuses it
 * on this server at once. */
void authos_userinfo_ended(const authos_dir_conf_t *conf, const char *token);

#endif

/*
 * authn.h: AuthType authos (SPEC section 5).
 */
#ifndef AUTHOS_AUTHN_H
#define AUTHOS_AUTHN_H

#include "httpd.h"

#include "authos_verify.h"
#include "config.h"

/* check_authn hook: verify the bearer token of a request. */
int authos_check_authn(request_rec *r);

/* note_auth_failure hook: the WWW-Authenticate of a 401 that authorization
 * produced. */
int authos_note_auth_failure(request_rec *r, const char *auth_type);

/* insert_error_filter hook: insufficient_scope on a final 403. */
void authos_insert_error(request_rec *r);

/* fixups hook: authorization has passed for this request. */
int authos_fixups(request_rec *r);

/* What is missing for this configuration to verify tokens, in words;
 * NULL when nothing is. */
const char *authos_authn_config_gap(const authos_dir_conf_t *conf);

/* Verify token under conf (the verified-token cache included), as
 * authentication does; *cached tells whether the cache answered. */
authos_reason_t authos_authn_verify(request_rec *r,
                                    const authos_dir_conf_t *conf,
                                    const char *token, authos_token_t *tok,
                                    int *cached);

/* A client-sent value for a log line: escaped, at most 64 bytes, "-" for
 * NULL. */
const char *authos_log_item(request_rec *r, const char *s);

#endif

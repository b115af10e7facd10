/*
 * authn.h: AuthType authos (SPEC section 5).
 */
#ifndef AUTHOS_AUTHN_H
#define AUTHOS_AUTHN_H

#include "httpd.h"

/* check_authn hook: verify the bearer token of a request. */
int authos_check_authn(request_rec *r);

/* note_auth_failure hook: the WWW-Authenticate of a 401 that authorization
 * produced. */
int authos_note_auth_failure(request_rec *r, const char *auth_type);

/* insert_error_filter hook: insufficient_scope on a final 403. */
void authos_insert_error(request_rec *r);

/* fixups hook: authorization has passed for this request. */
int authos_fixups(request_rec *r);

#endif

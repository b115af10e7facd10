/*
 * logout.h: SetHandler authos-logout (SPEC section 11).
 */
#ifndef AUTHOS_LOGOUT_H
#define AUTHOS_LOGOUT_H

#include "httpd.h"

/* handler hook: sign-out confirmation (GET) and sign-out (POST). */
int authos_logout_handler(request_rec *r);

#endif

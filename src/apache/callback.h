/*
 * callback.h: SetHandler authos-callback (SPEC section 11).
 */
#ifndef AUTHOS_CALLBACK_H
#define AUTHOS_CALLBACK_H

#include "httpd.h"

/* handler hook: the page AuthOS returns the browser to, and its POST. */
int authos_callback_handler(request_rec *r);

#endif

/*
 * status.h: the authos-status handler (SPEC section 10).
 */
#ifndef AUTHOS_STATUS_H
#define AUTHOS_STATUS_H

#include "httpd.h"

/* The handler hook: "authos-status" (HTML, or JSON with ?json). */
int authos_status_handler(request_rec *r);

#endif

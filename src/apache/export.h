/*
 * export.h: what the application sees (SPEC section 7).
 */
#ifndef AUTHOS_EXPORT_H
#define AUTHOS_EXPORT_H

#include "httpd.h"

#include "authos_module.h"
#include "config.h"

/* Set the AUTHOS_* variables and/or X-AuthOS-* request headers of an
 * authenticated request, as AuthOSPassClaims says. */
void authos_export(request_rec *r, const authos_dir_conf_t *conf,
                   const authos_req_t *st);

/* post_read_request hook: remove every client-sent X-AuthOS-* header
 * ('-' and '_' alike, any case), before authentication. */
int authos_strip_headers(request_rec *r);

#endif

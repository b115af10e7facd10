/*
 * authos_module.h: what the Apache glue files share: the module record,
 * log tags, and the per-request state.
 */
#ifndef AUTHOS_MODULE_H
#define AUTHOS_MODULE_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include <jansson.h>

extern module AP_MODULE_DECLARE_DATA auth_authos_module;

/* Our own log tags: AUTHOS_LOGNO(0012) gives "AUTHOS0012: ". Each tag is
 * used at exactly one call site (tests/integration checks it). */
#define AUTHOS_LOGNO(n) "AUTHOS" #n ": "

/* The AuthType we answer to. */
#define AUTHOS_AUTH_TYPE "authos"

/* What authentication established for one request; shared with its
 * subrequests and internal redirects through authos_req_find(). */
typedef struct {
    int verified;            /* a token was fully verified */
    const char *user;        /* REMOTE_USER */
    json_t *claims;          /* verified payload (owned by the main pool) */
    const char *payload;     /* the payload JSON text exactly as signed */
    apr_size_t payload_len;
    const char *kid;
    const char *sub;
    json_t *permissions;     /* fetched from /api/user, or NULL */
    int authz_passed;        /* the request got past authorization */
} authos_req_t;

/* This request's state, or NULL. */
authos_req_t *authos_req_get(request_rec *r);

/* This request's state, else that of the request it is a subrequest or
 * internal redirect of. */
authos_req_t *authos_req_find(request_rec *r);

#endif

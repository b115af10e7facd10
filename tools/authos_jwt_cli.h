/*
 * authos_jwt_cli.h: the pieces of the authos-jwt command-line tool
 * (SPEC section 10), shared by its source files. The tool links only the
 * httpd-free core (build/libauthos.a).
 */
#ifndef AUTHOS_JWT_CLI_H
#define AUTHOS_JWT_CLI_H

#include <stdio.h>

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "authos_keyfetch.h"
#include "authos_reason.h"

/* Exit status, the tool's whole contract with scripts. */
#define CLI_EXIT_OK 0        /* verify: valid; inspect: nothing refuses it */
#define CLI_EXIT_INVALID 1   /* the token is refused, whatever the reason */
#define CLI_EXIT_UNCHECKED 2 /* usage, unreadable input, no usable key set */

/* The defaults of AuthOSClockSkew and AuthOSHTTPTimeout (SPEC section 4). */
#define CLI_DEFAULT_SKEW 30
#define CLI_DEFAULT_TIMEOUT 5

typedef struct {
    const char *command;   /* "inspect" or "verify" */
    const char *token_arg; /* TOKEN as given; "-" is standard input */
    const char *token;     /* the token text itself, never printed */
    apr_size_t token_len;
    authos_source_kind_t kind;
    const char *source; /* base URL (no trailing '/'), URL or path */
    int have_source;
    const char *issuer;            /* required iss; NULL = not checked */
    int issuer_set;                /* --issuer given (a URL or "off") */
    apr_array_header_t *audiences; /* const char *; NULL = not checked */
    int audience_any;              /* --audience any */
    int allow_http;
    const char *ca_file;
    int timeout; /* seconds */
    int skew;    /* seconds */
    int json;
} cli_opts_t;

/* authos-jwt.c */
void cli_usage(FILE *out);
const char *cli_printable(apr_pool_t *p, const char *s);
const char *cli_time(apr_pool_t *p, double t, long long now);
/* Words after a reason's fixed text: the time for a time claim, the
 * expected issuer, else the core's detail (may be NULL). */
const char *cli_explain(apr_pool_t *p, authos_reason_t reason,
                        const char *detail, const json_t *claims, long long now,
                        const cli_opts_t *o);

/* cli_inspect.c: decode without trusting, say what refuses the token. */
int cli_inspect(apr_pool_t *p, const cli_opts_t *o);
/* Why steps 1 and 2 refused a token (reason from authos_jwt_parse), in
 * words that quote no token text beyond alg and typ. */
const char *cli_header_detail(apr_pool_t *p, const char *token, apr_size_t len,
                              authos_reason_t reason);

/* cli_verify.c: the module's whole check against a key set. */
int cli_verify(apr_pool_t *p, const cli_opts_t *o);

#endif

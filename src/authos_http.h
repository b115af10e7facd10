/*
 * authos_http.h: bounded HTTPS requests with libcurl: GET for metadata, JWKS
 * and /api/user, an empty POST for logout.
 */
#ifndef AUTHOS_HTTP_H
#define AUTHOS_HTTP_H

#include <apr_pools.h>
#include <apr_time.h>

/* Bodies larger than this are a failed fetch (SPEC section 8: bounded). */
#define AUTHOS_HTTP_MAX_BODY 65536 /* 64 KiB */

typedef struct {
    apr_interval_time_t timeout; /* whole exchange, connect included */
    const char *ca_file;         /* NULL: the system CA store */
    int allow_http;              /* permit http:// (tests, loopback) */
} authos_http_opts_t;

typedef struct {
    long status;       /* HTTP status; 0 when no answer came */
    char *body;        /* NUL-terminated, pool memory */
    apr_size_t len;
    long max_age;      /* Cache-Control max-age, -1 when absent */
    const char *error; /* transport failure in words, NULL otherwise */
} authos_http_result_t;

/* Call once per process before any thread uses authos_http_get. */
void authos_http_global_init(void);

/* Is url an absolute http(s) URL we may fetch under opts? */
int authos_http_url_allowed(const char *url, int allow_http);

/* GET url within timeout (at most opts->timeout), TLS verification always
 * on, no redirects followed, body capped at AUTHOS_HTTP_MAX_BODY. With
 * bearer, sends "Authorization: Bearer <bearer>". Returns APR_SUCCESS when
 * an HTTP answer came (whatever its status), else an error with
 * res->error set. */
apr_status_t authos_http_get(apr_pool_t *p, const char *url,
                             const authos_http_opts_t *opts,
                             apr_interval_time_t timeout, const char *bearer,
                             authos_http_result_t *res);

/* POST url with an empty body, under the same rules as authos_http_get
 * (within opts->timeout). */
apr_status_t authos_http_post(apr_pool_t *p, const char *url,
                              const authos_http_opts_t *opts,
                              const char *bearer, authos_http_result_t *res);

#endif

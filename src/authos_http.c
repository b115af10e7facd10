/*
 * authos_http.c: bounded HTTPS GET (and the empty POST of a logout) with
 * libcurl.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <curl/curl.h>

#include "authos_http.h"

#define USER_AGENT "mod_auth_authos/" AUTHOS_VERSION

#ifndef AUTHOS_VERSION
#define AUTHOS_VERSION "0.1.0"
#endif

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap;
    int too_big;
    long max_age;
} sink_t;

void authos_http_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int authos_http_url_allowed(const char *url, int allow_http)
{
    const char *host, *c;
    apr_size_t authority;

    if (strncasecmp(url, "https://", 8) == 0) {
        host = url + 8;
    }
    else if (allow_http && strncasecmp(url, "http://", 7) == 0) {
        host = url + 7;
    }
    else {
        return 0;
    }
    /* No whitespace or control characters anywhere. */
    for (c = url; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == 0x7f) {
            return 0;
        }
    }
    /* A host must follow, without user:password@: credentials do not
     * belong in configuration. */
    authority = strcspn(host, "/?#");
    if (authority == 0 || *host == ':' || memchr(host, '@', authority)) {
        return 0;
    }
    return 1;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    sink_t *s = ud;
    apr_size_t n = size * nmemb;

    if (s->len + n > AUTHOS_HTTP_MAX_BODY) {
        s->too_big = 1;
        return 0; /* aborts the transfer */
    }
    if (s->len + n + 1 > s->cap) {
        apr_size_t cap = s->cap ? s->cap * 2 : 16384;
        char *nb;
        while (cap < s->len + n + 1) {
            cap *= 2;
        }
        nb = apr_palloc(s->p, cap);
        if (s->len) {
            memcpy(nb, s->buf, s->len);
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    sink_t *s = ud;
    size_t n = size * nmemb;
    char line[512], *v;

    if (n >= sizeof(line) || n < 14
        || strncasecmp(data, "cache-control:", 14) != 0) {
        return n;
    }
    memcpy(line, data, n);
    line[n] = '\0';
    for (v = line; *v; v++) {
        *v = (char)tolower((unsigned char)*v);
    }
    for (v = line + 14; (v = strstr(v, "max-age")) != NULL; v += 7) {
        char *q = v + 7, *end;
        long age;
        while (*q == ' ') {
            q++;
        }
        if (*q++ != '=') {
            continue;
        }
        while (*q == ' ' || *q == '"') {
            q++;
        }
        age = strtol(q, &end, 10);
        if (end != q && age >= 0) {
            s->max_age = age;
        }
    }
    return n;
}

/* One GET, or a POST with an empty body. */
static apr_status_t transfer(apr_pool_t *p, const char *url,
                             const authos_http_opts_t *opts,
                             apr_interval_time_t timeout, const char *bearer,
                             int post, authos_http_result_t *res)
{
    CURL *c;
    CURLcode rc;
    struct curl_slist *hdrs = NULL;
    sink_t sink;
    long ms;

    memset(res, 0, sizeof(*res));
    res->max_age = -1;
    if (!authos_http_url_allowed(url, opts->allow_http)) {
        res->error = "URL scheme not allowed";
        return APR_EINVAL;
    }
    ms = (long)apr_time_as_msec(timeout);
    if (ms <= 0) {
        res->error = "timeout";
        return APR_TIMEUP;
    }
    c = curl_easy_init();
    if (c == NULL) {
        res->error = "curl_easy_init failed";
        return APR_ENOMEM;
    }
    memset(&sink, 0, sizeof(sink));
    sink.p = p;
    sink.max_age = -1;

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
                     opts->allow_http ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    /* NOSIGNAL: we run in threads of a multi-threaded server. */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
    /* TLS verification is never turned off. */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (opts->ca_file != NULL) {
        curl_easy_setopt(c, CURLOPT_CAINFO, opts->ca_file);
    }
    curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)AUTHOS_HTTP_MAX_BODY);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (bearer != NULL) {
        hdrs = curl_slist_append(
            hdrs, apr_pstrcat(p, "Authorization: Bearer ", bearer, NULL));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (post) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }

    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);

    if (sink.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        res->error = "answer too large";
        return APR_ENOSPC;
    }
    if (rc != CURLE_OK) {
        switch (rc) {
        case CURLE_OPERATION_TIMEDOUT:
            res->error = "timeout";
            return APR_TIMEUP;
        case CURLE_COULDNT_CONNECT:
            res->error = "connection refused";
            break;
        case CURLE_COULDNT_RESOLVE_HOST:
            res->error = "host not found";
            break;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CONNECT_ERROR:
            res->error = apr_pstrcat(p, "TLS: ", curl_easy_strerror(rc), NULL);
            break;
        default:
            res->error = apr_pstrdup(p, curl_easy_strerror(rc));
            break;
        }
        return APR_EGENERAL;
    }
    res->body = sink.buf != NULL ? sink.buf : apr_pstrdup(p, "");
    res->len = sink.len;
    res->max_age = sink.max_age;
    return APR_SUCCESS;
}

apr_status_t authos_http_get(apr_pool_t *p, const char *url,
                             const authos_http_opts_t *opts,
                             apr_interval_time_t timeout, const char *bearer,
                             authos_http_result_t *res)
{
    return transfer(p, url, opts, timeout, bearer, 0, res);
}

apr_status_t authos_http_post(apr_pool_t *p, const char *url,
                              const authos_http_opts_t *opts,
                              const char *bearer, authos_http_result_t *res)
{
    return transfer(p, url, opts, opts->timeout, bearer, 1, res);
}

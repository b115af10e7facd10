/*
 * authos_keyfetch.c: metadata discovery and JWKS retrieval.
 */
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "authos_json.h"
#include "authos_jwks.h"
#include "authos_keyfetch.h"

static apr_interval_time_t remaining(apr_time_t deadline)
{
    apr_time_t now = apr_time_now();
    return deadline > now ? deadline - now : 0;
}

/* Accept text as the JWKS if it holds a usable key (SPEC section 8:
 * errors and empty sets are never cached as key sets). */
static apr_status_t accept_jwks(apr_pool_t *p, const char *text,
                                apr_size_t len, authos_keyfetch_t *out)
{
    apr_pool_t *scratch;
    authos_jwks_t *set;
    const char *err;

    apr_pool_create(&scratch, p);
    set = authos_jwks_parse(scratch, text, len, &err);
    if (set == NULL) {
        out->error = apr_pstrcat(p, "bad JWKS: ", err, NULL);
        apr_pool_destroy(scratch);
        return APR_EINVAL;
    }
    out->nkeys = set->keys->nelts;
    apr_pool_destroy(scratch);
    out->jwks = text;
    out->len = len;
    return APR_SUCCESS;
}

static apr_status_t read_file(apr_pool_t *p, const char *path,
                              authos_keyfetch_t *out)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    char *buf;
    apr_status_t rv;

    out->jwks_uri = path;
    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        out->error = "cannot open the JWKS file";
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv != APR_SUCCESS || fi.size > AUTHOS_HTTP_MAX_BODY) {
        apr_file_close(f);
        out->error = "JWKS file unreadable or too large";
        return rv != APR_SUCCESS ? rv : APR_ENOSPC;
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !(rv == APR_EOF && n == 0)) {
        out->error = "cannot read the JWKS file";
        return rv;
    }
    buf[n] = '\0';
    return accept_jwks(p, buf, n, out);
}

static apr_status_t get_jwks(apr_pool_t *p, const char *url,
                             const authos_http_opts_t *opts,
                             apr_time_t deadline, authos_keyfetch_t *out)
{
    authos_http_result_t res;

    out->jwks_uri = url;
    if (authos_http_get(p, url, opts, remaining(deadline), NULL, &res)
        != APR_SUCCESS) {
        out->error = res.error;
        return APR_EGENERAL;
    }
    if (res.status != 200) {
        out->error = apr_psprintf(p, "JWKS answered HTTP %ld", res.status);
        return APR_EGENERAL;
    }
    out->max_age = res.max_age;
    return accept_jwks(p, res.body, res.len, out);
}

/* One metadata document: APR_SUCCESS with *uri set, APR_NOTFOUND for a
 * 404/410 (try the next), anything else is a failure. */
static apr_status_t get_metadata(apr_pool_t *p, const char *url,
                                 const authos_http_opts_t *opts,
                                 apr_time_t deadline, const char **uri,
                                 authos_keyfetch_t *out)
{
    authos_http_result_t res;
    json_t *meta;
    const char *u;

    if (authos_http_get(p, url, opts, remaining(deadline), NULL, &res)
        != APR_SUCCESS) {
        out->error = apr_pstrcat(p, "metadata: ", res.error, NULL);
        return APR_EGENERAL;
    }
    if (res.status == 404 || res.status == 410) {
        return APR_NOTFOUND;
    }
    if (res.status != 200) {
        out->error = apr_psprintf(p, "metadata answered HTTP %ld", res.status);
        return APR_EGENERAL;
    }
    meta = authos_json_object(p, res.body, res.len);
    if (meta == NULL) {
        out->error = "metadata is not a JSON object";
        return APR_EGENERAL;
    }
    u = authos_json_string(meta, "jwks_uri");
    if (u == NULL || !authos_http_url_allowed(u, opts->allow_http)) {
        out->error = "metadata has no usable jwks_uri";
        return APR_EGENERAL;
    }
    *uri = apr_pstrdup(p, u);
    u = authos_json_string(meta, "issuer");
    out->metadata_issuer = u != NULL ? apr_pstrdup(p, u) : NULL;
    return APR_SUCCESS;
}

apr_status_t authos_keyfetch(apr_pool_t *p, authos_source_kind_t kind,
                             const char *value, const char *known_uri,
                             const authos_http_opts_t *opts,
                             authos_keyfetch_t *out)
{
    static const char *const wellknown[] = {
        "/.well-known/authos-configuration",
        "/.well-known/openid-configuration",
    };
    apr_time_t deadline = apr_time_now() + opts->timeout;
    const char *uri = NULL;
    apr_size_t i;
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    out->max_age = -1;
    switch (kind) {
    case AUTHOS_SOURCE_JWKS_FILE:
        return read_file(p, value, out);
    case AUTHOS_SOURCE_JWKS_URL:
        return get_jwks(p, value, opts, deadline, out);
    default:
        break;
    }
    if (known_uri != NULL && *known_uri != '\0') {
        return get_jwks(p, known_uri, opts, deadline, out);
    }
    for (i = 0; i < sizeof(wellknown) / sizeof(wellknown[0]); i++) {
        rv = get_metadata(p, apr_pstrcat(p, value, wellknown[i], NULL), opts,
                          deadline, &uri, out);
        if (rv == APR_SUCCESS) {
            return get_jwks(p, uri, opts, deadline, out);
        }
        if (rv != APR_NOTFOUND) {
            return rv;
        }
    }
    return get_jwks(p, apr_pstrcat(p, value, "/.well-known/jwks.json", NULL),
                    opts, deadline, out);
}

/*
 * export.c: what the application sees (SPEC section 7): REMOTE_USER and
 * AUTH_TYPE (set by authn), AUTHOS_* variables for CGI/SSI/PHP/rewrite
 * and logs, X-AuthOS-* headers for proxied backends.
 */
#include "apr_lib.h"
#include "apr_strings.h"
#include "httpd.h"
#include "http_log.h"

#include "authos_claims.h"
#include "authos_json.h"
#include "authos_module.h"
#include "export.h"

APLOG_USE_MODULE(auth_authos);

#define HEADER_PREFIX "x-authos-"

/* Claim values never put CR, LF or other control characters into a
 * header or variable: such a value is not exported at all. */
static int clean(const char *v)
{
    for (; *v; v++) {
        if ((unsigned char)*v < 0x20 || *v == 0x7f) {
            return 0;
        }
    }
    return 1;
}

typedef struct {
    request_rec *r;
    int env, headers;
} sink_t;

static void put(sink_t *s, const char *env, const char *header,
                const char *value)
{
    if (value == NULL) {
        return; /* an absent claim leaves its variable unset */
    }
    if (!clean(value)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, s->r, AUTHOS_LOGNO(0030)
                      "claim for %s holds control characters: not exported",
                      env);
        return;
    }
    if (s->env) {
        apr_table_set(s->r->subprocess_env, env, value);
    }
    if (s->headers && header != NULL) {
        apr_table_set(s->r->headers_in, header, value);
    }
}

/* A string array claim as space-separated strings; "" for an empty
 * array; NULL when absent or not an array. Non-string elements are
 * left out. */
static const char *joined(apr_pool_t *p, const json_t *v)
{
    apr_array_header_t *parts;
    apr_size_t i;
    json_t *el;

    if (json_is_string(v)) {
        return json_string_value(v);
    }
    if (!json_is_array(v)) {
        return NULL;
    }
    parts = apr_array_make(p, (int)json_array_size(v) + 1,
                           sizeof(const char *));
    json_array_foreach(v, i, el) {
        if (json_is_string(el)) {
            APR_ARRAY_PUSH(parts, const char *) = json_string_value(el);
        }
    }
    return apr_array_pstrcat(p, parts, ' ');
}

void authos_export(request_rec *r, const authos_dir_conf_t *conf,
                   const authos_req_t *st)
{
    int pass = authos_conf_pass(conf);
    const json_t *c = st->claims;
    json_t *v;
    sink_t s;

    s.r = r;
    s.env = (pass & AUTHOS_PASS_ENV) != 0;
    s.headers = (pass & AUTHOS_PASS_HEADERS) != 0;
    if (!s.env && !s.headers) {
        return;
    }
    put(&s, "AUTHOS_SUB", "X-AuthOS-Sub", authos_json_string(c, "sub"));
    put(&s, "AUTHOS_EMAIL", "X-AuthOS-Email", authos_json_string(c, "email"));
    put(&s, "AUTHOS_ORG_SLUG", "X-AuthOS-Org-Slug", authos_claims_org(c));
    put(&s, "AUTHOS_SERVICE_SLUG", "X-AuthOS-Service-Slug",
        authos_claims_service(c));
    v = st->permissions != NULL ? st->permissions
                                : json_object_get(c, "permissions");
    put(&s, "AUTHOS_PERMISSIONS", "X-AuthOS-Permissions",
        json_is_array(v) ? joined(r->pool, v) : NULL);
    v = json_object_get(c, "is_platform_owner");
    put(&s, "AUTHOS_IS_PLATFORM_OWNER", "X-AuthOS-Is-Platform-Owner",
        json_is_boolean(v) ? (json_is_true(v) ? "true" : "false") : NULL);
    if (!s.env) {
        return;
    }
    /* Variables only from here on. */
    s.headers = 0;
    put(&s, "AUTHOS_AUD", NULL, joined(r->pool, json_object_get(c, "aud")));
    put(&s, "AUTHOS_ISS", NULL, authos_json_string(c, "iss"));
    v = json_object_get(c, "exp");
    if (json_is_integer(v)) {
        /* apr_psprintf knows no "%lld" (JSON_INTEGER_FORMAT): use
         * APR's own 64-bit format. */
        put(&s, "AUTHOS_EXP", NULL,
            apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                         (apr_int64_t)json_integer_value(v)));
    }
    else if (json_is_real(v)) {
        put(&s, "AUTHOS_EXP", NULL,
            apr_psprintf(r->pool, "%.0f", json_real_value(v)));
    }
    /* The payload exactly as signed: no re-serialisation. JSON strings
     * cannot hold raw control characters; whitespace between tokens is
     * folded to spaces. */
    {
        char *payload = apr_pstrmemdup(r->pool, st->payload, st->payload_len);
        char *p;
        for (p = payload; *p; p++) {
            if (*p == '\n' || *p == '\r' || *p == '\t') {
                *p = ' ';
            }
        }
        put(&s, "AUTHOS_CLAIMS", NULL, payload);
    }
}

typedef struct {
    apr_array_header_t *doomed;
} strip_ctx_t;

static int collect(void *data, const char *key, const char *value)
{
    strip_ctx_t *ctx = data;
    apr_size_t i;

    (void)value;
    for (i = 0; i < sizeof(HEADER_PREFIX) - 1; i++) {
        char k = (char)apr_tolower(key[i]);
        if (k == '_') {
            k = '-';
        }
        if (k != HEADER_PREFIX[i]) {
            return 1; /* key[i] == '\0' also ends up here */
        }
    }
    APR_ARRAY_PUSH(ctx->doomed, const char *) = key;
    return 1;
}

int authos_strip_headers(request_rec *r)
{
    strip_ctx_t ctx;
    int i;

    ctx.doomed = apr_array_make(r->pool, 2, sizeof(const char *));
    apr_table_do(collect, &ctx, r->headers_in, NULL);
    for (i = 0; i < ctx.doomed->nelts; i++) {
        const char *key = APR_ARRAY_IDX(ctx.doomed, i, const char *);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, AUTHOS_LOGNO(0031)
                      "removed client-sent header %s",
                      ap_escape_logitem(r->pool, key));
        apr_table_unset(r->headers_in, apr_pstrdup(r->pool, key));
    }
    return DECLINED;
}

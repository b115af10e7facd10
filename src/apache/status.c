/*
 * status.c: the authos-status handler (SPEC section 10): per trust source
 * its URL or file, kids, fetch and expiry times, last error and counters,
 * plus the module's counters; HTML, or JSON with ?json (as mod_status
 * answers ?auto).
 */
#include <string.h>
#include <unistd.h>

#include "apr_strings.h"
#include "http_protocol.h"
#include "util_script.h"

#include "authos_jwks.h"
#include "authos_keyslot.h"
#include "authos_module.h"
#include "config.h"
#include "keys_internal.h"
#include "metrics.h"
#include "status.h"
#include "shm.h"

static const char *kind_name(authos_source_kind_t kind)
{
    switch (kind) {
    case AUTHOS_SOURCE_BASE_URL:
        return "AuthOSBaseURL";
    case AUTHOS_SOURCE_JWKS_URL:
        return "AuthOSJWKSURL";
    default:
        return "AuthOSJWKSFile";
    }
}

/* An RFC 3339 UTC time, or JSON null for "never". */
static json_t *when(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t tm;

    if (t == 0 || apr_time_exp_gmt(&tm, t) != APR_SUCCESS) {
        return json_null();
    }
    return json_string(apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                                    tm.tm_year + 1900, tm.tm_mon + 1,
                                    tm.tm_mday, tm.tm_hour, tm.tm_min,
                                    tm.tm_sec));
}

/* One trust source as JSON, from a copy of its slot taken under the
 * key-set mutex. */
static json_t *source_json(request_rec *r, const authos_source_t *src)
{
    authos_keyslot_t *slot = authos_keys_slot(src->index);
    authos_keyslot_t *copy = apr_palloc(r->pool, sizeof(*copy));
    json_t *o = json_object(), *kids = json_array();
    authos_jwks_t *set = NULL;
    const char *err;
    int i;

    json_object_set_new(o, "directive", json_string(kind_name(src->kind)));
    json_object_set_new(o, "source", json_string(src->value));
    json_object_set_new(o, "kids", kids);
    if (slot == NULL
        || authos_segment_lock(&authos_keys_segment) != APR_SUCCESS) {
        json_object_set_new(o, "error",
                            json_string("the key-set cache is not readable"));
        return o;
    }
    memcpy(copy, slot, sizeof(*copy));
    authos_segment_unlock(&authos_keys_segment);

    copy->jwks[sizeof(copy->jwks) - 1] = '\0';
    copy->last_error[sizeof(copy->last_error) - 1] = '\0';
    copy->jwks_uri[sizeof(copy->jwks_uri) - 1] = '\0';
    if (copy->generation != 0 && copy->jwks_len < sizeof(copy->jwks)) {
        set = authos_jwks_parse(r->pool, copy->jwks, copy->jwks_len, &err);
    }
    for (i = 0; set != NULL && i < set->keys->nelts; i++) {
        const authos_jwk_t *k = &APR_ARRAY_IDX(set->keys, i, authos_jwk_t);
        json_t *kj = json_object();

        json_object_set_new(kj, "kid", json_string(k->kid));
        json_object_set_new(kj, "bits", json_integer(k->bits));
        json_array_append_new(kids, kj);
    }
    json_object_set_new(o, "jwks_uri", copy->jwks_uri[0]
                                           ? json_string(copy->jwks_uri)
                                           : json_null());
    json_object_set_new(o, "generation", json_integer((json_int_t)copy->generation));
    json_object_set_new(o, "keys", json_integer(set != NULL ? set->keys->nelts : 0));
    json_object_set_new(o, "fetched_at", when(r->pool, copy->fetched_at));
    json_object_set_new(o, "refresh_at", when(r->pool, copy->refresh_at));
    json_object_set_new(o, "last_attempt", when(r->pool, copy->last_attempt));
    json_object_set_new(o, "fetching", json_boolean(copy->fetching_since != 0));
    json_object_set_new(o, "last_error", copy->last_error[0]
                                             ? json_string(copy->last_error)
                                             : json_null());
    json_object_set_new(o, "last_error_at", when(r->pool, copy->last_error_at));
    json_object_set_new(o, "fetches_ok", json_integer(copy->fetch_ok));
    json_object_set_new(o, "fetches_failed", json_integer(copy->fetch_failed));
    return o;
}

static json_t *counters_json(void)
{
    authos_metrics_snapshot_t m;
    json_t *o = json_object(), *authn = json_object();
    int i;

    if (!authos_metrics_snapshot(&m)) {
        json_decref(authn);
        return o;
    }
    for (i = 0; i < AUTHOS_OUTCOME_COUNT; i++) {
        json_object_set_new(authn, authos_outcome_name(i),
                            json_integer((json_int_t)m.authn[i]));
    }
    json_object_set_new(o, "authentications", authn);
    json_object_set_new(o, "token_cache_hits",
                        json_integer((json_int_t)m.token_cache_hits));
    json_object_set_new(o, "token_cache_misses",
                        json_integer((json_int_t)m.token_cache_misses));
    json_object_set_new(o, "userinfo_calls_ok",
                        json_integer((json_int_t)m.userinfo_calls[AUTHOS_UI_CALL_OK]));
    json_object_set_new(o, "userinfo_calls_revoked",
                        json_integer((json_int_t)m.userinfo_calls[AUTHOS_UI_CALL_REVOKED]));
    json_object_set_new(o, "userinfo_calls_failed",
                        json_integer((json_int_t)m.userinfo_calls[AUTHOS_UI_CALL_FAILED]));
    json_object_set_new(o, "userinfo_cache_hits",
                        json_integer((json_int_t)m.userinfo_cache_hits));
    json_object_set_new(
        o, "browser_signins_completed",
        json_integer((json_int_t)m.signins[AUTHOS_SIGNIN_COMPLETED]));
    json_object_set_new(
        o, "browser_signouts",
        json_integer((json_int_t)m.signouts[AUTHOS_SIGNOUT_AUTHOS]
                     + (json_int_t)m.signouts[AUTHOS_SIGNOUT_LOCAL]
                     + (json_int_t)m.signouts[AUTHOS_SIGNOUT_FAILED]));
    return o;
}

static json_t *status_json(request_rec *r)
{
    const apr_array_header_t *sources = authos_config_sources();
    json_t *o = json_object(), *list = json_array();
    int i;

    json_object_set_new(o, "now", when(r->pool, apr_time_now()));
    json_object_set_new(o, "pid", json_integer((json_int_t)getpid()));
    for (i = 0; i < sources->nelts; i++) {
        json_array_append_new(
            list, source_json(r, APR_ARRAY_IDX(sources, i,
                                               const authos_source_t *)));
    }
    json_object_set_new(o, "sources", list);
    json_object_set_new(o, "counters", counters_json());
    return o;
}

/* A JSON scalar as text for the HTML page ("-" for null), escaped. */
static const char *cell(request_rec *r, json_t *v)
{
    if (v == NULL || json_is_null(v)) {
        return "-";
    }
    if (json_is_string(v)) {
        return ap_escape_html(r->pool, json_string_value(v));
    }
    if (json_is_integer(v)) {
        return apr_psprintf(r->pool, "%" JSON_INTEGER_FORMAT,
                            json_integer_value(v));
    }
    return json_is_true(v) ? "yes" : "no";
}

static void status_html(request_rec *r, json_t *st)
{
    static const char *const rows[] = {
        "directive", "jwks_uri", "generation", "keys", "fetched_at",
        "refresh_at", "last_attempt", "fetching", "last_error",
        "last_error_at", "fetches_ok", "fetches_failed"};
    json_t *sources = json_object_get(st, "sources"), *src, *kid;
    json_t *counters = json_object_get(st, "counters");
    json_t *authn = json_object_get(counters, "authentications");
    const char *key;
    json_t *v;
    size_t i, j;

    ap_rputs(DOCTYPE_HTML_4_01 "<html><head><title>mod_auth_authos status"
             "</title></head><body>\n<h1>mod_auth_authos status</h1>\n", r);
    ap_rprintf(r, "<p>Now %s, answered by process %s. "
               "<a href=\"?json\">JSON</a></p>\n",
               cell(r, json_object_get(st, "now")),
               cell(r, json_object_get(st, "pid")));
    json_array_foreach(sources, i, src) {
        ap_rprintf(r, "<h2>Trust source %d: %s</h2>\n<table border=\"1\">\n",
                   (int)i, cell(r, json_object_get(src, "source")));
        for (j = 0; j < sizeof(rows) / sizeof(rows[0]); j++) {
            ap_rprintf(r, "<tr><th align=\"left\">%s</th><td>%s</td></tr>\n",
                       rows[j], cell(r, json_object_get(src, rows[j])));
        }
        ap_rputs("<tr><th align=\"left\">kids</th><td>", r);
        json_array_foreach(json_object_get(src, "kids"), j, kid) {
            ap_rprintf(r, "%s%s (%s bits)", j ? ", " : "",
                       cell(r, json_object_get(kid, "kid")),
                       cell(r, json_object_get(kid, "bits")));
        }
        ap_rputs("</td></tr>\n</table>\n", r);
    }
    if (json_array_size(sources) == 0) {
        ap_rputs("<p>No trust source is configured.</p>\n", r);
    }
    ap_rputs("<h2>Counters (all processes, since the last (re)start)</h2>\n"
             "<table border=\"1\">\n", r);
    json_object_foreach(authn, key, v) {
        ap_rprintf(r, "<tr><th align=\"left\">authentications: %s</th>"
                   "<td>%s</td></tr>\n", ap_escape_html(r->pool, key),
                   cell(r, v));
    }
    json_object_foreach(counters, key, v) {
        if (!json_is_object(v)) {
            ap_rprintf(r, "<tr><th align=\"left\">%s</th><td>%s</td></tr>\n",
                       ap_escape_html(r->pool, key), cell(r, v));
        }
    }
    ap_rputs("</table>\n</body></html>\n", r);
}

int authos_status_handler(request_rec *r)
{
    json_t *st;
    char *text;

    if (r->handler == NULL || strcmp(r->handler, "authos-status") != 0) {
        return DECLINED;
    }
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    st = status_json(r);
    if (r->args != NULL && strcmp(r->args, "json") == 0) {
        ap_set_content_type(r, "application/json");
        text = json_dumps(st, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(st);
        if (text == NULL) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (!r->header_only) {
            ap_rputs(text, r);
            ap_rputs("\n", r);
        }
        free(text);
        return OK;
    }
    ap_set_content_type(r, "text/html; charset=utf-8");
    if (!r->header_only) {
        status_html(r, st);
    }
    json_decref(st);
    return OK;
}

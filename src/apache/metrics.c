/*
 * metrics.c: shared-memory counters and the authos-metrics handler.
 */
#include <string.h>

#include "apr_strings.h"
#include "http_protocol.h"

#include "authos_keyslot.h"
#include "authos_module.h"
#include "keys_internal.h"
#include "metrics.h"
#include "shm.h"

APLOG_USE_MODULE(auth_authos);

/* Upper bounds of the verification-time histogram, in microseconds, and
 * the same as Prometheus "le" labels in seconds. */
static const apr_interval_time_t bucket_us[] = {
    10, 25, 50, 100, 250, 500, 1000, 2500, 10000, 100000, 1000000};
static const char *const bucket_le[] = {
    "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005",
    "0.001", "0.0025", "0.01", "0.1", "1"};
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

/* The snapshot's counters first, then the histogram; every member an
 * apr_uint64_t (snapshots read them as an array). */
typedef struct {
    authos_metrics_snapshot_t c;
    apr_uint64_t verify_bucket[NBUCKETS]; /* not cumulative: one each */
    apr_uint64_t verify_count;
    apr_uint64_t verify_sum_us;
} counters_t;

static authos_segment_t segment = {"authos-metrics", "metrics", NULL, NULL,
                                   0, NULL, NULL, 0};

static const char *const requirement_names[AUTHOS_REQ_COUNT] = {
    "authos-permission", "authos-platform-owner", "authos-org",
    "authos-service", "authos-claim"};
static const char *const ui_call_names[AUTHOS_UI_CALL_COUNT] = {
    "ok", "revoked", "failed"};
static const char *const signin_names[AUTHOS_SIGNIN_COUNT] = {
    "redirected", "completed", "refused", "login_error", "invalid_token",
    "unavailable"};
static const char *const signout_names[AUTHOS_SIGNOUT_COUNT] = {
    "authos", "local", "failed", "refused"};

int authos_metrics_pre_config(apr_pool_t *pconf)
{
    return authos_segment_register(&segment, pconf);
}

int authos_metrics_post_config(apr_pool_t *pconf, server_rec *s)
{
    return authos_segment_create(&segment, sizeof(counters_t), pconf, s);
}

static counters_t *counters(void)
{
    return segment.base;
}

/* c is written by __atomic_fetch_add, which the check does not see. */
/* NOLINTNEXTLINE(readability-non-const-parameter) */
static void bump(apr_uint64_t *c, apr_uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* Add one to element index of the n-element counter array at offset in
 * the segment (a plain counter: index 0 of 1). Out-of-range indexes and a
 * missing segment count nothing. */
static void count(apr_size_t offset, unsigned index, unsigned n)
{
    counters_t *m = counters();

    if (m != NULL && index < n) {
        bump((apr_uint64_t *)(void *)((char *)m + offset) + index, 1);
    }
}

#define COUNT(member, index, n)                                               \
    count(APR_OFFSETOF(counters_t, c.member), (unsigned)(index), (n))

void authos_metric_authn(int outcome)
{
    COUNT(authn, outcome, AUTHOS_OUTCOME_COUNT);
}

void authos_metric_verify_time(apr_interval_time_t t)
{
    counters_t *m = counters();
    apr_size_t i;

    if (m == NULL) {
        return;
    }
    for (i = 0; i < NBUCKETS && t > bucket_us[i]; i++) {
    }
    if (i < NBUCKETS) {
        bump(&m->verify_bucket[i], 1);
    }
    bump(&m->verify_count, 1);
    bump(&m->verify_sum_us, t > 0 ? (apr_uint64_t)t : 0);
}

void authos_metric_authz_denied(authos_requirement_t which)
{
    COUNT(authz_denied, which, AUTHOS_REQ_COUNT);
}

void authos_metric_userinfo_call(authos_ui_call_t result)
{
    COUNT(userinfo_calls, result, AUTHOS_UI_CALL_COUNT);
}

void authos_metric_userinfo_cache_hit(void)
{
    COUNT(userinfo_cache_hits, 0, 1);
}

void authos_metric_token_cache(int hit)
{
    if (hit) {
        COUNT(token_cache_hits, 0, 1);
    }
    else {
        COUNT(token_cache_misses, 0, 1);
    }
}

void authos_metric_signin(authos_signin_t result)
{
    COUNT(signins, result, AUTHOS_SIGNIN_COUNT);
}

void authos_metric_signout(authos_signout_t result)
{
    COUNT(signouts, result, AUTHOS_SIGNOUT_COUNT);
}

const char *authos_outcome_name(int outcome)
{
    switch (outcome) {
    case AUTHOS_OUTCOME_NO_TOKEN:
        return "no_token";
    case AUTHOS_OUTCOME_USERINFO_FAILED:
        return "userinfo_unavailable";
    case AUTHOS_OUTCOME_MISCONFIGURED:
        return "misconfigured";
    default:
        return outcome >= 0 && outcome < AUTHOS_REASON_COUNT
                   ? authos_reason_name((authos_reason_t)outcome)
                   : "unknown";
    }
}

static apr_uint64_t load(const apr_uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

int authos_metrics_snapshot(authos_metrics_snapshot_t *out)
{
    const apr_uint64_t *from;
    apr_uint64_t *to = (apr_uint64_t *)out;
    apr_size_t i;

    memset(out, 0, sizeof(*out));
    if (counters() == NULL) {
        return 0;
    }
    from = (const apr_uint64_t *)&counters()->c;
    for (i = 0; i < sizeof(*out) / sizeof(apr_uint64_t); i++) {
        to[i] = load(&from[i]);
    }
    return 1;
}

/* ---- exposition ---------------------------------------------------- */

/* A label value: backslash, double quote and newline escaped (text
 * format 0.0.4); other control characters cannot come from a directive. */
static const char *label(apr_pool_t *p, const char *v)
{
    apr_size_t n = 0;
    const char *s;
    char *out, *o;

    for (s = v; *s; s++) {
        n += (*s == '\\' || *s == '"' || *s == '\n') ? 2 : 1;
    }
    o = out = apr_palloc(p, n + 1);
    for (s = v; *s; s++) {
        if (*s == '\\' || *s == '"') {
            *o++ = '\\';
            *o++ = *s;
        }
        else if (*s == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

static void family(request_rec *r, const char *name, const char *type,
                   const char *help)
{
    ap_rprintf(r, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* What one key slot says, read under the key-set mutex. */
typedef struct {
    char source[sizeof(((authos_keyslot_t *)0)->source)];
    apr_time_t fetched_at;
    apr_uint64_t ok, failed;
    unsigned nkeys;
} slot_view_t;

static int slot_views(request_rec *r, slot_view_t **out)
{
    unsigned i, n = authos_keys_nslots();
    slot_view_t *v;

    *out = v = apr_pcalloc(r->pool, (n + 1) * sizeof(*v));
    if (n == 0 || authos_segment_lock(&authos_keys_segment) != APR_SUCCESS) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        const authos_keyslot_t *slot = authos_keys_slot(i);

        apr_cpystrn(v[i].source, slot->source, sizeof(v[i].source));
        v[i].fetched_at = slot->fetched_at;
        v[i].ok = slot->fetch_ok;
        v[i].failed = slot->fetch_failed;
        v[i].nkeys = slot->generation != 0 ? slot->nkeys : 0;
    }
    authos_segment_unlock(&authos_keys_segment);
    return (int)n;
}

static void key_metrics(request_rec *r)
{
    slot_view_t *v;
    int i, n = slot_views(r, &v);
    apr_time_t now = apr_time_now();

    family(r, "authos_jwks_fetches_total", "counter",
           "Key set fetches (metadata and JWKS, or the JWKS file) by trust "
           "source and result.");
    for (i = 0; i < n; i++) {
        const char *src = label(r->pool, v[i].source);
        ap_rprintf(r,
                   "authos_jwks_fetches_total{source=\"%s\",result=\"success\"}"
                   " %" APR_UINT64_T_FMT "\n"
                   "authos_jwks_fetches_total{source=\"%s\",result=\"failure\"}"
                   " %" APR_UINT64_T_FMT "\n",
                   src, v[i].ok, src, v[i].failed);
    }
    family(r, "authos_keys", "gauge",
           "Usable RS256 keys in the cached key set of each trust source.");
    for (i = 0; i < n; i++) {
        ap_rprintf(r, "authos_keys{source=\"%s\"} %u\n",
                   label(r->pool, v[i].source), v[i].nkeys);
    }
    family(r, "authos_key_set_age_seconds", "gauge",
           "Seconds since the key set of each trust source was last fetched "
           "successfully (absent before the first success).");
    for (i = 0; i < n; i++) {
        if (v[i].fetched_at != 0) {
            ap_rprintf(r, "authos_key_set_age_seconds{source=\"%s\"} %.3f\n",
                       label(r->pool, v[i].source),
                       (double)(now - v[i].fetched_at) / APR_USEC_PER_SEC);
        }
    }
    family(r, "authos_key_set_last_success_timestamp_seconds", "gauge",
           "Unix time of the last successful key set fetch of each trust "
           "source.");
    for (i = 0; i < n; i++) {
        if (v[i].fetched_at != 0) {
            ap_rprintf(r,
                       "authos_key_set_last_success_timestamp_seconds"
                       "{source=\"%s\"} %.3f\n",
                       label(r->pool, v[i].source),
                       (double)v[i].fetched_at / APR_USEC_PER_SEC);
        }
    }
}

static void counter_metrics(request_rec *r, const counters_t *m)
{
    apr_uint64_t cumulative = 0;
    apr_size_t b;
    int i;

    family(r, "authos_authentications_total", "counter",
           "Authentications under AuthType authos by result: ok, no_token, "
           "a refusal reason, userinfo_unavailable or misconfigured.");
    for (i = 0; i < AUTHOS_OUTCOME_COUNT; i++) {
        ap_rprintf(r, "authos_authentications_total{result=\"%s\"} %"
                   APR_UINT64_T_FMT "\n", authos_outcome_name(i),
                   load(&m->c.authn[i]));
    }
    family(r, "authos_authz_denials_total", "counter",
           "Require authos-* lines that denied an authenticated user.");
    for (i = 0; i < AUTHOS_REQ_COUNT; i++) {
        ap_rprintf(r, "authos_authz_denials_total{requirement=\"%s\"} %"
                   APR_UINT64_T_FMT "\n", requirement_names[i],
                   load(&m->c.authz_denied[i]));
    }
    family(r, "authos_userinfo_requests_total", "counter",
           "Calls to AuthOS's /api/user by result.");
    for (i = 0; i < AUTHOS_UI_CALL_COUNT; i++) {
        ap_rprintf(r, "authos_userinfo_requests_total{result=\"%s\"} %"
                   APR_UINT64_T_FMT "\n", ui_call_names[i],
                   load(&m->c.userinfo_calls[i]));
    }
    family(r, "authos_userinfo_cache_hits_total", "counter",
           "/api/user answers served from the shared cache.");
    ap_rprintf(r, "authos_userinfo_cache_hits_total %" APR_UINT64_T_FMT "\n",
               load(&m->c.userinfo_cache_hits));
    family(r, "authos_token_cache_hits_total", "counter",
           "Tokens found in the verified-token cache (signature check "
           "skipped).");
    ap_rprintf(r, "authos_token_cache_hits_total %" APR_UINT64_T_FMT "\n",
               load(&m->c.token_cache_hits));
    family(r, "authos_token_cache_misses_total", "counter",
           "Tokens not in the verified-token cache (fully verified).");
    ap_rprintf(r, "authos_token_cache_misses_total %" APR_UINT64_T_FMT "\n",
               load(&m->c.token_cache_misses));
    family(r, "authos_browser_signins_total", "counter",
           "Browser sign-ins by result: redirected to AuthOS, completed at "
           "the callback, refused (Origin, form, state), login_error, "
           "invalid_token, unavailable.");
    for (i = 0; i < AUTHOS_SIGNIN_COUNT; i++) {
        ap_rprintf(r, "authos_browser_signins_total{result=\"%s\"} %"
                   APR_UINT64_T_FMT "\n", signin_names[i],
                   load(&m->c.signins[i]));
    }
    family(r, "authos_browser_signouts_total", "counter",
           "Browser sign-outs by result: authos (AuthOS told), local, "
           "failed (AuthOS's logout failed), refused (foreign Origin).");
    for (i = 0; i < AUTHOS_SIGNOUT_COUNT; i++) {
        ap_rprintf(r, "authos_browser_signouts_total{result=\"%s\"} %"
                   APR_UINT64_T_FMT "\n", signout_names[i],
                   load(&m->c.signouts[i]));
    }
    family(r, "authos_verification_duration_seconds", "histogram",
           "Time to verify one token, verified-token cache hits included.");
    for (b = 0; b < NBUCKETS; b++) {
        cumulative += load(&m->verify_bucket[b]);
        ap_rprintf(r, "authos_verification_duration_seconds_bucket{le=\"%s\"}"
                   " %" APR_UINT64_T_FMT "\n", bucket_le[b], cumulative);
    }
    ap_rprintf(r, "authos_verification_duration_seconds_bucket{le=\"+Inf\"}"
               " %" APR_UINT64_T_FMT "\n"
               "authos_verification_duration_seconds_sum %.6f\n"
               "authos_verification_duration_seconds_count %" APR_UINT64_T_FMT
               "\n", load(&m->verify_count),
               (double)load(&m->verify_sum_us) / APR_USEC_PER_SEC,
               load(&m->verify_count));
}

int authos_metrics_handler(request_rec *r)
{
    counters_t *m;

    if (r->handler == NULL || strcmp(r->handler, "authos-metrics") != 0) {
        return DECLINED;
    }
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    m = counters();
    if (m == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0070)
                      "authos-metrics: the metrics segment does not exist");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (r->header_only) {
        return OK;
    }
    counter_metrics(r, m);
    key_metrics(r);
    return OK;
}

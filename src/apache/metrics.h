/*
 * metrics.h: counters in shared memory, summed over every child process,
 * and the authos-metrics handler (Prometheus text format 0.0.4; SPEC
 * section 10).
 *
 * Counters are plain 64-bit integers in one anonymous shared-memory
 * segment, bumped with atomic adds (no mutex); they start at zero when
 * the configuration is loaded (server start, restart, graceful restart).
 */
#ifndef AUTHOS_METRICS_H
#define AUTHOS_METRICS_H

#include "httpd.h"

#include "authos_reason.h"

/* Authentication outcomes beyond the token reasons of authos_reason_t. */
typedef enum {
    AUTHOS_OUTCOME_NO_TOKEN = AUTHOS_REASON_COUNT, /* 401 challenge */
    AUTHOS_OUTCOME_USERINFO_FAILED,  /* /api/user unusable: 503 */
    AUTHOS_OUTCOME_MISCONFIGURED,    /* 500, logged as AUTHOS0020 */
    AUTHOS_OUTCOME_COUNT
} authos_outcome_t;

/* The Require providers, for authos_authz_denials_total. */
typedef enum {
    AUTHOS_REQ_PERMISSION = 0,
    AUTHOS_REQ_PLATFORM_OWNER,
    AUTHOS_REQ_ORG,
    AUTHOS_REQ_SERVICE,
    AUTHOS_REQ_CLAIM,
    AUTHOS_REQ_COUNT
} authos_requirement_t;

typedef enum {
    AUTHOS_UI_CALL_OK = 0,   /* 200 with a usable answer */
    AUTHOS_UI_CALL_REVOKED,  /* 401: the session is gone */
    AUTHOS_UI_CALL_FAILED,   /* unreachable, 5xx, garbage */
    AUTHOS_UI_CALL_COUNT
} authos_ui_call_t;

/* Browser sign-ins (SPEC section 11), for authos_browser_signins_total. */
typedef enum {
    AUTHOS_SIGNIN_REDIRECTED = 0, /* a page load sent to AuthOS's sign-in */
    AUTHOS_SIGNIN_COMPLETED,      /* callback verified the token: cookie set */
    AUTHOS_SIGNIN_REFUSED,        /* bad Origin, form, or state */
    AUTHOS_SIGNIN_LOGIN_ERROR,    /* AuthOS answered with an error */
    AUTHOS_SIGNIN_INVALID_TOKEN,  /* the returned token was refused */
    AUTHOS_SIGNIN_UNAVAILABLE,    /* no usable key set: 503 */
    AUTHOS_SIGNIN_COUNT
} authos_signin_t;

/* Sign-outs, for authos_browser_signouts_total. */
typedef enum {
    AUTHOS_SIGNOUT_AUTHOS = 0, /* cookie cleared and AuthOS told */
    AUTHOS_SIGNOUT_LOCAL,      /* cookie cleared; no token to tell AuthOS */
    AUTHOS_SIGNOUT_FAILED,     /* cookie cleared; AuthOS's logout failed */
    AUTHOS_SIGNOUT_REFUSED,    /* foreign Origin: nothing done */
    AUTHOS_SIGNOUT_COUNT
} authos_signout_t;

int authos_metrics_pre_config(apr_pool_t *pconf);
int authos_metrics_post_config(apr_pool_t *pconf, server_rec *s);

/* One authentication under AuthType authos: its outcome (AUTHOS_OK,
 * a refusal reason, or an authos_outcome_t). */
void authos_metric_authn(int outcome);
/* Time spent verifying one token (cache hit or full check). */
void authos_metric_verify_time(apr_interval_time_t t);
void authos_metric_authz_denied(authos_requirement_t which);
void authos_metric_userinfo_call(authos_ui_call_t result);
void authos_metric_userinfo_cache_hit(void);
void authos_metric_token_cache(int hit);
void authos_metric_signin(authos_signin_t result);
void authos_metric_signout(authos_signout_t result);

/* The label value of an authentication outcome. */
const char *authos_outcome_name(int outcome);

/* A snapshot of the counters, for the status page. NULL when the segment
 * does not exist. */
typedef struct {
    apr_uint64_t authn[AUTHOS_OUTCOME_COUNT];
    apr_uint64_t authz_denied[AUTHOS_REQ_COUNT];
    apr_uint64_t userinfo_calls[AUTHOS_UI_CALL_COUNT];
    apr_uint64_t userinfo_cache_hits;
    apr_uint64_t token_cache_hits;
    apr_uint64_t token_cache_misses;
    apr_uint64_t signins[AUTHOS_SIGNIN_COUNT];
    apr_uint64_t signouts[AUTHOS_SIGNOUT_COUNT];
} authos_metrics_snapshot_t;

int authos_metrics_snapshot(authos_metrics_snapshot_t *out);

/* The handler hook: "authos-metrics". */
int authos_metrics_handler(request_rec *r);

#endif

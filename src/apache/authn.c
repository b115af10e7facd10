/*
 * authn.c: AuthType authos (SPEC section 5): token extraction, the
 * verifier, the status table and the WWW-Authenticate values (RFC 6750
 * section 3).
 */
#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_cookies.h"

#include "authos_module.h"
#include "authos_verify.h"
#include "authn.h"
#include "config.h"
#include "export.h"
#include "authos_json.h"
#include "keys.h"
#include "login.h"
#include "metrics.h"
#include "tokcache.h"
#include "userinfo.h"

APLOG_USE_MODULE(auth_authos);

authos_req_t *authos_req_get(request_rec *r)
{
    return ap_get_module_config(r->request_config, &auth_authos_module);
}

authos_req_t *authos_req_find(request_rec *r)
{
    request_rec *q;

    for (q = r; q != NULL; q = q->main != NULL ? q->main : q->prev) {
        authos_req_t *st = authos_req_get(q);
        if (st != NULL) {
            return st;
        }
    }
    return NULL;
}

static int is_ours(request_rec *r)
{
    const char *type = ap_auth_type(r);
    return type != NULL && strcasecmp(type, AUTHOS_AUTH_TYPE) == 0;
}

/* RFC 7235 quoted-string for the realm: escape '"' and '\'. */
static const char *realm(request_rec *r)
{
    const char *name = ap_auth_name(r);
    const char *c;
    char *out, *o;

    if (name == NULL) {
        name = AUTHOS_AUTH_TYPE;
    }
    o = out = apr_palloc(r->pool, strlen(name) * 2 + 1);
    for (c = name; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            continue;
        }
        if (*c == '"' || *c == '\\') {
            *o++ = '\\';
        }
        *o++ = *c;
    }
    *o = '\0';
    return out;
}

static void challenge(request_rec *r, const char *error, const char *desc)
{
    const char *v = apr_psprintf(r->pool, "Bearer realm=\"%s\"", realm(r));

    if (error != NULL) {
        v = apr_pstrcat(r->pool, v, ", error=\"", error, "\"", NULL);
    }
    if (desc != NULL) {
        /* desc is one of the fixed texts of authos_reason_text(). */
        v = apr_pstrcat(r->pool, v, ", error_description=\"", desc, "\"",
                        NULL);
    }
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", v);
}

/* SPEC section 5 step 1: "Authorization: Bearer <token>" (scheme
 * case-insensitive), else the configured cookie; never the query
 * string. Another scheme counts as no token. */
static const char *find_token(request_rec *r, const authos_dir_conf_t *conf,
                              int *from_cookie)
{
    const char *h = apr_table_get(r->headers_in, "Authorization");
    const char *cookie = NULL;

    *from_cookie = 0;
    if (h != NULL && strncasecmp(h, "Bearer", 6) == 0
        && (h[6] == ' ' || h[6] == '\t')) {
        h += 6;
        while (*h == ' ' || *h == '\t') {
            h++;
        }
        return h;
    }
    if (conf->cookie != NULL
        && ap_cookie_read(r, conf->cookie, &cookie, 0) == APR_SUCCESS
        && cookie != NULL && *cookie != '\0') {
        *from_cookie = 1;
        return cookie;
    }
    return NULL;
}

typedef struct {
    request_rec *r;
    const authos_dir_conf_t *conf;
    authos_key_ref_t ref; /* the key that verified the token */
} lookup_ctx_t;

static authos_key_status_t lookup_cb(void *ctx, const char *kid,
                                     EVP_PKEY_CTX **verifier)
{
    lookup_ctx_t *lc = ctx;
    return authos_keys_lookup(lc->r, lc->conf, kid, verifier, &lc->ref);
}

/* Verify token, through the verified-token cache when it is on (SPEC
 * section 9): a hit skips the signature check while the key that made it
 * is still listed, and every claim check runs again; only tokens that
 * passed every check are cached. */
static authos_reason_t verify(request_rec *r, const authos_dir_conf_t *conf,
                              const char *token,
                              const authos_claim_rules_t *rules,
                              authos_token_t *tok, int *cached)
{
    authos_tokcache_t *cache = authos_tokcache_for(r);
    unsigned char hash[AUTHOS_TOKCACHE_KEY_LEN];
    unsigned source = conf->source->index;
    authos_tokcache_entry_t e;
    lookup_ctx_t lc;
    authos_reason_t reason;
    apr_size_t len = strlen(token);
    double exp;

    *cached = 0;
    if (cache != NULL) {
        authos_tokcache_key(token, len, hash);
        if (authos_tokcache_get(cache, hash, source,
                                (double)(rules->now - rules->skew), r->pool,
                                &e)) {
            authos_key_ref_t ref;

            ref.fp = e.key_fp;
            ref.generation = e.generation;
            switch (authos_keys_still_valid(r, conf, e.kid, &ref)) {
            case AUTHOS_KEY_FOUND:
                if (ref.generation != e.generation) {
                    authos_tokcache_touch(cache, hash, source, ref.generation);
                }
                *cached = 1;
                authos_metric_token_cache(1);
                return authos_token_verified(
                    r->pool, e.payload, e.len,
                    authos_json_pool_own(r->pool, e.claims), e.kid,
                    (authos_profile_t)e.profile, rules, tok);
            case AUTHOS_KEY_NO_KEYSET:
                json_decref(e.claims);
                memset(tok, 0, sizeof(*tok));
                tok->detail = "no usable key set";
                return AUTHOS_ERR_NO_KEYSET;
            default:
                /* The verifying key left the key set: verify afresh. */
                json_decref(e.claims);
                authos_tokcache_drop(cache, hash, source);
                break;
            }
        }
    }
    if (cache != NULL) {
        authos_metric_token_cache(0);
    }
    lc.r = r;
    lc.conf = conf;
    lc.ref.fp = 0;
    lc.ref.generation = 0;
    reason = authos_token_verify(r->pool, token, len, lookup_cb, &lc, rules,
                                 tok);
    if (cache != NULL && reason == AUTHOS_OK
        && authos_json_number(tok->claims, "exp", &exp)) {
        e.source = source;
        e.kid = tok->jwt.kid;
        e.key_fp = lc.ref.fp;
        e.generation = lc.ref.generation;
        e.profile = tok->jwt.profile;
        e.exp = exp;
        e.payload = (const char *)tok->jwt.payload;
        e.len = tok->jwt.payload_len;
        e.claims = tok->claims;
        authos_tokcache_put(cache, hash, &e, (double)rules->now);
    }
    return reason;
}

/* Is the configuration complete for this request? A gap that check_config
 * could not see (an AuthType authos that only a .htaccess introduces) is a
 * 500 with a log line, never an open door (SPEC section 4). */
const char *authos_authn_config_gap(const authos_dir_conf_t *conf)
{
    int ok;

    if (conf->source == NULL) {
        return "no trust source (AuthOSBaseURL, AuthOSJWKSURL or "
               "AuthOSJWKSFile) applies here";
    }
    if (!conf->audience_set) {
        return "no AuthOSAudience applies here";
    }
    authos_conf_issuer(conf, &ok);
    if (!ok) {
        return "AuthOSJWKSURL/AuthOSJWKSFile need an explicit AuthOSIssuer";
    }
    if ((authos_conf_perm_source(conf) == AUTHOS_PERMS_API
         || authos_conf_session_check(conf))
        && conf->source->kind != AUTHOS_SOURCE_BASE_URL) {
        return "AuthOSPermissionSource api and AuthOSSessionCheck need "
               "AuthOSBaseURL (they call {base}/api/user)";
    }
    return NULL;
}

authos_reason_t authos_authn_verify(request_rec *r,
                                    const authos_dir_conf_t *conf,
                                    const char *token, authos_token_t *tok,
                                    int *cached)
{
    authos_claim_rules_t rules;
    authos_reason_t reason;
    apr_time_t started;
    int ok;

    rules.issuer = authos_conf_issuer(conf, &ok);
    rules.audiences = conf->audiences;
    rules.now = (long long)apr_time_sec(apr_time_now());
    rules.skew = authos_conf_skew(conf);
    rules.user_claim = authos_conf_user_claim(conf);
    started = apr_time_now();
    reason = verify(r, conf, token, &rules, tok, cached);
    authos_metric_verify_time(apr_time_now() - started);
    return reason;
}

const char *authos_log_item(request_rec *r, const char *s)
{
    if (s == NULL) {
        return "-";
    }
    if (strlen(s) > 64) {
        s = apr_pstrcat(r->pool, apr_pstrmemdup(r->pool, s, 64), "...",
                        NULL);
    }
    return ap_escape_logitem(r->pool, s);
}

/* Must this request ask AuthOS's /api/user? For the permissions when a
 * Require authos-permission line applies and the token cannot answer
 * (SPEC section 6), and for AuthOSSessionCheck. Tokens of the
 * external-resource profile (at+jwt) are refused by AuthOS's API, so
 * they are never sent there. */
static int wants_userinfo(const authos_dir_conf_t *conf,
                          const authos_token_t *tok, int *for_perms)
{
    int mode = authos_conf_perm_source(conf);

    *for_perms = 0;
    if (tok->jwt.profile == AUTHOS_PROFILE_RESOURCE
        || conf->source->kind != AUTHOS_SOURCE_BASE_URL) {
        return 0;
    }
    if (authos_conf_perm_required(conf)
        && (mode == AUTHOS_PERMS_API
            || (mode == AUTHOS_PERMS_AUTO
                && json_object_get(tok->claims, "permissions") == NULL))) {
        *for_perms = 1;
    }
    return *for_perms || authos_conf_session_check(conf);
}

/* Refuse a token. A browser whose session cookie has expired (or whose
 * AuthOS session ended) signs in again; a session cookie refused for any
 * other reason is cleared, so the next visit signs in afresh rather than
 * looping through AuthOS into the same refusal (SPEC section 11). */
static int refuse(request_rec *r, const authos_dir_conf_t *conf,
                  authos_reason_t reason, const authos_token_t *tok,
                  int from_cookie)
{
    /* Never the token: the reason, the kid and sub (escaped, truncated),
     * and the client. */
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, AUTHOS_LOGNO(0023)
                  "token refused: %s (%s); kid=%s sub=%s client=%s",
                  authos_reason_text(reason),
                  tok->detail ? tok->detail : "-",
                  authos_log_item(r, tok->jwt.kid), authos_log_item(r, tok->sub),
                  r->useragent_ip);
    authos_metric_authn(reason);
    if (from_cookie && authos_login_configured(conf)) {
        if ((reason == AUTHOS_ERR_EXPIRED
             || reason == AUTHOS_ERR_SESSION_REVOKED)
            && authos_login_applies(r, conf)) {
            return authos_login_redirect(r, conf, authos_reason_text(reason));
        }
        authos_session_clear(r, conf);
    }
    challenge(r, "invalid_token", authos_reason_text(reason));
    return HTTP_UNAUTHORIZED;
}

int authos_check_authn(request_rec *r)
{
    const authos_dir_conf_t *conf;
    authos_token_t tok;
    authos_reason_t reason;
    authos_req_t *st, *earlier;
    const char *token, *gap;
    int for_perms, cached, from_cookie;

    if (!is_ours(r)) {
        return DECLINED;
    }
    conf = authos_dir_conf(r);
    gap = authos_authn_config_gap(conf);
    if (gap != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0020)
                      "AuthType authos misconfigured for %s: %s", r->uri, gap);
        authos_metric_authn(AUTHOS_OUTCOME_MISCONFIGURED);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* Subrequests and internal redirects reuse the verified result. */
    earlier = r->main != NULL || r->prev != NULL ? authos_req_find(r) : NULL;
    if (earlier != NULL && earlier->verified) {
        st = apr_pmemdup(r->pool, earlier, sizeof(*st));
        st->authz_passed = 0;
        ap_set_module_config(r->request_config, &auth_authos_module, st);
        r->user = apr_pstrdup(r->pool, st->user);
        r->ap_auth_type = AUTHOS_AUTH_TYPE;
        authos_export(r, conf, st);
        return OK;
    }

    token = find_token(r, conf, &from_cookie);
    if (token == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, AUTHOS_LOGNO(0021)
                      "no bearer token for %s", r->uri);
        authos_metric_authn(AUTHOS_OUTCOME_NO_TOKEN);
        if (authos_login_applies(r, conf)) {
            return authos_login_redirect(r, conf, "no token");
        }
        challenge(r, NULL, NULL);
        return HTTP_UNAUTHORIZED;
    }

    reason = authos_authn_verify(r, conf, token, &tok, &cached);
    if (reason == AUTHOS_ERR_NO_KEYSET) {
        authos_metric_authn(AUTHOS_ERR_NO_KEYSET);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, AUTHOS_LOGNO(0022)
                      "no usable key set for %s: AuthOS unreachable and "
                      "nothing cached, or past AuthOSJWKSMaxStale",
                      conf->source->value);
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_itoa(r->pool, authos_keys_retry_after(r, conf)));
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (reason != AUTHOS_OK) {
        return refuse(r, conf, reason, &tok, from_cookie);
    }

    st = apr_pcalloc(r->pool, sizeof(*st));
    if (wants_userinfo(conf, &tok, &for_perms)) {
        json_t *perms;
        int revoked, rc;

        rc = authos_userinfo_get(r, conf, token, &revoked, &perms);
        if (rc != OK) {
            authos_metric_authn(AUTHOS_OUTCOME_USERINFO_FAILED);
            return rc;
        }
        if (revoked) {
            tok.detail = "/api/user answered 401";
            return refuse(r, conf, AUTHOS_ERR_SESSION_REVOKED, &tok,
                          from_cookie);
        }
        if (for_perms) {
            st->permissions = perms;
        }
    }
    st->verified = 1;
    st->user = apr_pstrdup(r->pool, tok.user);
    st->claims = tok.claims;
    st->payload = (const char *)tok.jwt.payload;
    st->payload_len = tok.jwt.payload_len;
    st->kid = apr_pstrdup(r->pool, tok.jwt.kid);
    st->sub = tok.sub;
    ap_set_module_config(r->request_config, &auth_authos_module, st);
    r->user = (char *)st->user;
    r->ap_auth_type = AUTHOS_AUTH_TYPE;
    authos_metric_authn(AUTHOS_OK);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, AUTHOS_LOGNO(0024)
                  "token accepted: kid=%s sub=%s%s", authos_log_item(r, st->kid),
                  authos_log_item(r, st->sub),
                  cached ? " (verified-token cache)" : "");
    authos_export(r, conf, st);
    return OK;
}

int authos_note_auth_failure(request_rec *r, const char *auth_type)
{
    authos_req_t *st;

    if (auth_type == NULL || strcasecmp(auth_type, AUTHOS_AUTH_TYPE) != 0) {
        return DECLINED;
    }
    /* Authorization refused an authenticated user (without
     * AuthzSendForbiddenOnFailure, httpd answers 401). */
    st = authos_req_get(r);
    challenge(r, st != NULL && st->verified ? "insufficient_scope" : NULL,
              NULL);
    return OK;
}

void authos_insert_error(request_rec *r)
{
    authos_req_t *st;

    /* A 403 for a user we authenticated whose request never got past
     * authorization: the final authorization result was a denial (a
     * <RequireAny> sibling that granted would have let it through). */
    if (r->status != HTTP_FORBIDDEN || !is_ours(r)) {
        return;
    }
    st = authos_req_get(r);
    if (st != NULL && st->verified && !st->authz_passed) {
        challenge(r, "insufficient_scope", NULL);
    }
}

int authos_fixups(request_rec *r)
{
    authos_req_t *st = authos_req_get(r);

    if (st != NULL) {
        st->authz_passed = 1;
    }
    return DECLINED;
}

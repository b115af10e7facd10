/*
 * config.c: directives and per-directory configuration (SPEC section 4).
 *
 * Directives are grouped by trust class (STYLE.md, Architecture 4): trust
 * settings are RSRC_CONF|ACCESS_CONF, so httpd itself refuses them in
 * .htaccess; per-directory behaviour is RSRC_CONF|OR_AUTHCFG.
 */
#include <stdlib.h>

#include "apr_lib.h"
#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "http_request.h"

#include "authos_browser.h"
#include "authos_http.h"
#include "authos_module.h"
#include "config.h"

#define AUTHOS_DEFAULT_SKEW 30
#define AUTHOS_DEFAULT_REFRESH 600
#define AUTHOS_DEFAULT_MIN_REFETCH 10
#define AUTHOS_DEFAULT_MAX_STALE 86400
#define AUTHOS_DEFAULT_TIMEOUT 5
#define AUTHOS_DEFAULT_USER_CLAIM "sub"
#define AUTHOS_DEFAULT_USERINFO_TTL 60
#define AUTHOS_DEFAULT_TOKEN_CACHE 16384
#define AUTHOS_MAX_TOKEN_CACHE 4000000

/* Trust sources of the configuration being read. Reset in pre_config
 * (which runs before every read), allocated from pconf. */
static apr_array_header_t *sources;

void authos_config_reset(apr_pool_t *pconf)
{
    sources = apr_array_make(pconf, 4, sizeof(authos_source_t *));
}

const apr_array_header_t *authos_config_sources(void)
{
    return sources;
}

/* The prototype is httpd's create_dir_config, hence the non-const dir. */
/* NOLINTNEXTLINE(readability-non-const-parameter) */
void *authos_create_dir_conf(apr_pool_t *p, char *dir)
{
    authos_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    (void)dir;
    c->skew = -1;
    c->refresh = -1;
    c->min_refetch = -1;
    c->max_stale = -1;
    c->timeout = -1;
    c->allow_http = -1;
    c->pass_claims = -1;
    c->perm_source = -1;
    c->userinfo_ttl = -1;
    c->session_check = -1;
    c->perm_required = -1;
    return c;
}

#define PICK(field) (add->field != -1 ? add->field : base->field)
#define PICKP(field) (add->field != NULL ? add->field : base->field)

void *authos_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    authos_dir_conf_t *base = basev, *add = addv;
    authos_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    /* A nested section's source replaces the outer one (SPEC section 4);
     * its issuer then defaults from the new source rather than being
     * inherited from a source that no longer applies. */
    if (add->source != NULL) {
        c->source = add->source;
        c->issuer = add->issuer;
        c->issuer_set = add->issuer_set;
    }
    else {
        c->source = base->source;
        c->issuer = add->issuer_set ? add->issuer : base->issuer;
        c->issuer_set = add->issuer_set || base->issuer_set;
    }
    /* A section's AuthOSAudience replaces the outer list. */
    c->audiences = add->audience_set ? add->audiences : base->audiences;
    c->audience_set = add->audience_set || base->audience_set;
    c->skew = PICK(skew);
    c->refresh = PICK(refresh);
    c->min_refetch = PICK(min_refetch);
    c->max_stale = PICK(max_stale);
    c->timeout = PICK(timeout);
    c->ca_file = PICKP(ca_file);
    c->allow_http = PICK(allow_http);
    c->user_claim = PICKP(user_claim);
    c->pass_claims = PICK(pass_claims);
    c->cookie = PICKP(cookie);
    c->perm_source = PICK(perm_source);
    c->userinfo_ttl = PICK(userinfo_ttl);
    c->session_check = PICK(session_check);
    c->perm_required = PICK(perm_required);
    c->login_url = PICKP(login_url);
    c->callback_url = PICKP(callback_url);
    c->logout_redirect = PICKP(logout_redirect);
    return c;
}

void *authos_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    authos_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->token_cache = -1;
    return c;
}

void *authos_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    authos_srv_conf_t *base = basev, *add = addv;
    authos_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->token_cache = PICK(token_cache);
    return c;
}

int authos_srv_token_cache(const server_rec *s)
{
    const authos_srv_conf_t *c =
        ap_get_module_config(s->module_config, &auth_authos_module);

    return c->token_cache >= 0 ? c->token_cache : AUTHOS_DEFAULT_TOKEN_CACHE;
}

const authos_dir_conf_t *authos_dir_conf(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &auth_authos_module);
}

int authos_conf_skew(const authos_dir_conf_t *c)
{
    return c->skew >= 0 ? c->skew : AUTHOS_DEFAULT_SKEW;
}

int authos_conf_pass(const authos_dir_conf_t *c)
{
    return c->pass_claims >= 0 ? c->pass_claims : AUTHOS_PASS_ENV;
}

const char *authos_conf_user_claim(const authos_dir_conf_t *c)
{
    return c->user_claim != NULL ? c->user_claim : AUTHOS_DEFAULT_USER_CLAIM;
}

void authos_conf_policy(const authos_dir_conf_t *c, authos_key_policy_t *pol)
{
    pol->refresh = apr_time_from_sec(c->refresh >= 0 ? c->refresh
                                                     : AUTHOS_DEFAULT_REFRESH);
    pol->min_refetch = apr_time_from_sec(
        c->min_refetch >= 0 ? c->min_refetch : AUTHOS_DEFAULT_MIN_REFETCH);
    pol->max_stale = apr_time_from_sec(c->max_stale >= 0 ? c->max_stale
                                                         : AUTHOS_DEFAULT_MAX_STALE);
    pol->timeout = apr_time_from_sec(c->timeout > 0 ? c->timeout
                                                    : AUTHOS_DEFAULT_TIMEOUT);
}

void authos_conf_http(const authos_dir_conf_t *c, authos_http_opts_t *o)
{
    o->timeout = apr_time_from_sec(c->timeout > 0 ? c->timeout
                                                  : AUTHOS_DEFAULT_TIMEOUT);
    o->ca_file = c->ca_file;
    o->allow_http = c->allow_http == 1;
}

int authos_conf_perm_source(const authos_dir_conf_t *c)
{
    return c->perm_source >= 0 ? c->perm_source : AUTHOS_PERMS_AUTO;
}

apr_interval_time_t authos_conf_userinfo_ttl(const authos_dir_conf_t *c)
{
    return apr_time_from_sec(c->userinfo_ttl >= 0
                                 ? c->userinfo_ttl
                                 : AUTHOS_DEFAULT_USERINFO_TTL);
}

int authos_conf_session_check(const authos_dir_conf_t *c)
{
    return c->session_check == 1;
}

const char *authos_conf_logout_redirect(const authos_dir_conf_t *c)
{
    return c->logout_redirect != NULL ? c->logout_redirect : "/";
}

int authos_conf_perm_required(const authos_dir_conf_t *c)
{
    return c->perm_required == 1;
}

void authos_conf_note_require(cmd_parms *cmd, int is_permission)
{
    authos_dir_conf_t *c;

    /* cmd->context is the configuration of the section (or .htaccess)
     * holding the Require line. A section with its own Require lines
     * replaces the outer ones (AuthMerging Off), so a section with only
     * other authos-* lines does not inherit the outer mark. */
    if (cmd->context == NULL) {
        return;
    }
    /* httpd creates a module's section configuration only when one of
     * its directives appears there: create ours if a Require line is
     * the first thing of ours in this section. */
    c = ap_set_config_vectors(cmd->server, cmd->context, cmd->path,
                              &auth_authos_module, cmd->pool);
    if (is_permission) {
        c->perm_required = 1;
    }
    else if (c->perm_required < 0) {
        c->perm_required = 0;
    }
}

const char *authos_conf_issuer(const authos_dir_conf_t *c, int *ok)
{
    *ok = 1;
    if (c->issuer_set) {
        return c->issuer;
    }
    if (c->source != NULL && c->source->kind == AUTHOS_SOURCE_BASE_URL) {
        return c->source->value;
    }
    *ok = 0;
    return NULL;
}

/* ---- directive handlers ------------------------------------------- */

static const char *url_arg(cmd_parms *cmd, const char *arg, const char **out)
{
    apr_size_t n = strlen(arg);
    char *u;

    /* http:// is accepted here; check_config refuses it unless
     * AuthOSAllowHTTP On applies (the two may come in any order). */
    if (!authos_http_url_allowed(arg, 1)) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not an absolute https:// URL",
                            cmd->cmd->name, arg);
    }
    u = apr_pstrmemdup(cmd->pool, arg, n);
    /* The trailing '/' of a base URL is ignored (SPEC section 4). */
    while (n > 0 && u[n - 1] == '/') {
        u[--n] = '\0';
    }
    *out = u;
    return NULL;
}

static const char *set_source(cmd_parms *cmd, void *cfg,
                              authos_source_kind_t kind, const char *value)
{
    authos_dir_conf_t *c = cfg;
    authos_source_t *src;
    int i;

    if (c->source != NULL) {
        return apr_psprintf(cmd->pool,
                            "%s: this section already has a trust source; "
                            "use one of AuthOSBaseURL, AuthOSJWKSURL or "
                            "AuthOSJWKSFile per section",
                            cmd->cmd->name);
    }
    for (i = 0; i < sources->nelts; i++) {
        src = APR_ARRAY_IDX(sources, i, authos_source_t *);
        if (src->kind == kind && strcmp(src->value, value) == 0) {
            c->source = src;
            return NULL;
        }
    }
    src = apr_pcalloc(cmd->pool, sizeof(*src));
    src->kind = kind;
    src->value = value;
    src->index = (unsigned)sources->nelts;
    APR_ARRAY_PUSH(sources, authos_source_t *) = src;
    c->source = src;
    return NULL;
}

static const char *set_base_url(cmd_parms *cmd, void *cfg, const char *arg)
{
    const char *url, *err = url_arg(cmd, arg, &url);
    return err != NULL ? err
                       : set_source(cmd, cfg, AUTHOS_SOURCE_BASE_URL, url);
}

static const char *set_jwks_url(cmd_parms *cmd, void *cfg, const char *arg)
{
    if (!authos_http_url_allowed(arg, 1)) {
        return apr_psprintf(cmd->pool,
                            "AuthOSJWKSURL: '%s' is not an absolute https:// "
                            "URL",
                            arg);
    }
    return set_source(cmd, cfg, AUTHOS_SOURCE_JWKS_URL,
                      apr_pstrdup(cmd->pool, arg));
}

static const char *set_jwks_file(cmd_parms *cmd, void *cfg, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);

    if (path == NULL) {
        return apr_psprintf(cmd->pool, "AuthOSJWKSFile: bad path '%s'", arg);
    }
    return set_source(cmd, cfg, AUTHOS_SOURCE_JWKS_FILE, path);
}

static const char *set_issuer(cmd_parms *cmd, void *cfg, const char *arg)
{
    authos_dir_conf_t *c = cfg;
    const char *url, *err;

    c->issuer_set = 1;
    if (strcasecmp(arg, "Off") == 0) {
        c->issuer = NULL;
        return NULL;
    }
    /* AuthOS issues iss as its base URL; any absolute URL may be given
     * (it is compared, never fetched), without a trailing '/'. */
    if (strncasecmp(arg, "https://", 8) != 0
        && strncasecmp(arg, "http://", 7) != 0) {
        return apr_psprintf(cmd->pool,
                            "AuthOSIssuer: '%s' is neither a URL nor Off",
                            arg);
    }
    err = url_arg(cmd, arg, &url);
    if (err != NULL) {
        return err;
    }
    /* url_arg sets url whenever it returns NULL (its errors come from
     * apr_psprintf, never NULL), which the analyzer cannot see. */
    /* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign) */
    c->issuer = url;
    return NULL;
}

static const char *add_audience(cmd_parms *cmd, void *cfg, const char *arg)
{
    authos_dir_conf_t *c = cfg;

    /* The first AuthOSAudience value of a section starts its own list,
     * which replaces the outer section's (SPEC section 4). */
    if (!c->audience_set) {
        c->audience_set = 1;
        c->audiences = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    if (strcasecmp(arg, "any") == 0) {
        c->audiences = NULL;
        return NULL;
    }
    if (c->audiences == NULL) {
        return "AuthOSAudience: 'any' cannot be combined with audiences";
    }
    if (*arg == '\0') {
        return "AuthOSAudience: an audience cannot be empty";
    }
    APR_ARRAY_PUSH(c->audiences, const char *) = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

/* Seconds in [min, max], with the directive named in the error. */
static const char *set_seconds(cmd_parms *cmd, void *cfg, const char *arg)
{
    authos_dir_conf_t *c = cfg;
    int offset = (int)(long)cmd->info;
    int min = offset == APR_OFFSETOF(authos_dir_conf_t, timeout) ? 1 : 0;
    const int max = 365 * 86400;
    char *end;
    long v;

    v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < min || v > max) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not a whole number of seconds "
                            "from %d to %d",
                            cmd->cmd->name, arg, min, max);
    }
    *(int *)((char *)c + offset) = (int)v;
    return NULL;
}

static const char *set_ca_file(cmd_parms *cmd, void *cfg, const char *arg)
{
    authos_dir_conf_t *c = cfg;
    apr_finfo_t fi;
    const char *path = ap_server_root_relative(cmd->pool, arg);

    if (path == NULL
        || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS
        || fi.filetype != APR_REG) {
        return apr_psprintf(cmd->pool,
                            "AuthOSCAFile: '%s' is not a readable file", arg);
    }
    c->ca_file = path;
    return NULL;
}

static const char *set_allow_http(cmd_parms *cmd, void *cfg, int flag)
{
    (void)cmd;
    ((authos_dir_conf_t *)cfg)->allow_http = flag ? 1 : 0;
    return NULL;
}

static const char *set_user_claim(cmd_parms *cmd, void *cfg, const char *arg)
{
    if (*arg == '\0') {
        return "AuthOSRemoteUserClaim: the claim name cannot be empty";
    }
    ((authos_dir_conf_t *)cfg)->user_claim = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

static const char *set_pass_claims(cmd_parms *cmd, void *cfg, const char *arg)
{
    authos_dir_conf_t *c = cfg;

    if (strcasecmp(arg, "env") == 0) {
        c->pass_claims = AUTHOS_PASS_ENV;
    }
    else if (strcasecmp(arg, "headers") == 0) {
        c->pass_claims = AUTHOS_PASS_HEADERS;
    }
    else if (strcasecmp(arg, "both") == 0) {
        c->pass_claims = AUTHOS_PASS_BOTH;
    }
    else if (strcasecmp(arg, "none") == 0) {
        c->pass_claims = AUTHOS_PASS_NONE;
    }
    else {
        return apr_psprintf(cmd->pool,
                            "AuthOSPassClaims: '%s' is not one of env, "
                            "headers, both, none",
                            arg);
    }
    return NULL;
}

static const char *set_cookie(cmd_parms *cmd, void *cfg, const char *arg)
{
    const char *c;

    /* RFC 6265 section 4.1.1: a cookie name is an HTTP token. */
    for (c = arg; *c; c++) {
        if (!apr_isalnum(*c) && !strchr("!#$%&'*+-.^_`|~", *c)) {
            break;
        }
    }
    if (*arg == '\0' || *c != '\0') {
        return apr_psprintf(cmd->pool,
                            "AuthOSTokenCookie: '%s' is not a cookie name",
                            arg);
    }
    ((authos_dir_conf_t *)cfg)->cookie = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

static const char *set_token_cache(cmd_parms *cmd, void *cfg,
                                   const char *arg)
{
    authos_srv_conf_t *c =
        ap_get_module_config(cmd->server->module_config, &auth_authos_module);
    char *end;
    long v;

    (void)cfg;
    v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < 0 || v > AUTHOS_MAX_TOKEN_CACHE) {
        return apr_psprintf(cmd->pool,
                            "AuthOSTokenCache: '%s' is not a number of "
                            "entries from 0 (off) to %d",
                            arg, AUTHOS_MAX_TOKEN_CACHE);
    }
    c->token_cache = (int)v;
    return NULL;
}

static const char *set_perm_source(cmd_parms *cmd, void *cfg,
                                   const char *arg)
{
    authos_dir_conf_t *c = cfg;

    if (strcasecmp(arg, "auto") == 0) {
        c->perm_source = AUTHOS_PERMS_AUTO;
    }
    else if (strcasecmp(arg, "claim") == 0) {
        c->perm_source = AUTHOS_PERMS_CLAIM;
    }
    else if (strcasecmp(arg, "api") == 0) {
        c->perm_source = AUTHOS_PERMS_API;
    }
    else {
        return apr_psprintf(cmd->pool,
                            "AuthOSPermissionSource: '%s' is not one of auto, "
                            "claim, api",
                            arg);
    }
    return NULL;
}

static const char *set_session_check(cmd_parms *cmd, void *cfg, int flag)
{
    (void)cmd;
    ((authos_dir_conf_t *)cfg)->session_check = flag ? 1 : 0;
    return NULL;
}

/* AuthOSLoginURL and AuthOSCallbackURL: absolute http(s) URLs without a
 * fragment (check_config refuses http:// unless the host is loopback or
 * AuthOSAllowHTTP On applies). The offset of the field is in cmd->info. */
static const char *set_browser_url(cmd_parms *cmd, void *cfg,
                                   const char *arg)
{
    int offset = (int)(long)cmd->info;

    if (authos_url_origin(cmd->temp_pool, arg) == NULL
        || strchr(arg, '#') != NULL) {
        return apr_psprintf(cmd->pool,
                            "%s: '%s' is not an absolute https:// URL "
                            "without a fragment",
                            cmd->cmd->name, arg);
    }
    *(const char **)((char *)cfg + offset) = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

static const char *set_logout_redirect(cmd_parms *cmd, void *cfg,
                                       const char *arg)
{
    /* A local path (never "//host"), or an absolute http(s) URL. */
    if (strcmp(authos_safe_return(cmd->temp_pool, arg), arg) != 0
        && (authos_url_origin(cmd->temp_pool, arg) == NULL
            || strchr(arg, '#') != NULL)) {
        return apr_psprintf(cmd->pool,
                            "AuthOSLogoutRedirect: '%s' is neither a local "
                            "path such as /goodbye.html nor an absolute "
                            "http(s) URL",
                            arg);
    }
    ((authos_dir_conf_t *)cfg)->logout_redirect = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

#define TRUST (RSRC_CONF | ACCESS_CONF)
#define PERDIR (RSRC_CONF | OR_AUTHCFG)
/* The field's offset travels in the directive's void * (cmd->info), as
 * with httpd's own ap_set_*_slot handlers: an integer-to-pointer cast that
 * clang-tidy's performance-no-int-to-ptr flags, read once at config time. */
#define SECONDS(name, field, help)                                            \
    AP_INIT_TAKE1(name, set_seconds,                                          \
                  /* NOLINTNEXTLINE(performance-no-int-to-ptr) */             \
                  (void *)APR_OFFSETOF(authos_dir_conf_t, field), TRUST, help)

#define BROWSER_URL(name, field, help)                                        \
    AP_INIT_TAKE1(name, set_browser_url,                                      \
                  /* NOLINTNEXTLINE(performance-no-int-to-ptr) */             \
                  (void *)APR_OFFSETOF(authos_dir_conf_t, field), TRUST, help)

const command_rec authos_cmds[] = {
    /* Trust: whom we believe and where keys come from. */
    AP_INIT_TAKE1("AuthOSBaseURL", set_base_url, NULL, TRUST,
                  "AuthOS base URL; keys are discovered from its metadata"),
    AP_INIT_TAKE1("AuthOSJWKSURL", set_jwks_url, NULL, TRUST,
                  "JWKS URL, skipping discovery"),
    AP_INIT_TAKE1("AuthOSJWKSFile", set_jwks_file, NULL, TRUST,
                  "JWKS from a local file; no network"),
    AP_INIT_TAKE1("AuthOSIssuer", set_issuer, NULL, TRUST,
                  "required iss claim (a URL), or Off"),
    AP_INIT_ITERATE("AuthOSAudience", add_audience, NULL, TRUST,
                    "accepted aud values, or 'any'"),
    SECONDS("AuthOSClockSkew", skew, "leeway in seconds for exp/nbf/iat"),
    SECONDS("AuthOSJWKSRefresh", refresh,
            "seconds after which the key set is refreshed"),
    SECONDS("AuthOSJWKSMinRefetch", min_refetch,
            "least seconds between key set fetches for unknown kids"),
    SECONDS("AuthOSJWKSMaxStale", max_stale,
            "seconds past refresh time that keys stay usable"),
    SECONDS("AuthOSHTTPTimeout", timeout,
            "total seconds allowed for one metadata/JWKS fetch"),
    AP_INIT_TAKE1("AuthOSCAFile", set_ca_file, NULL, TRUST,
                  "CA bundle for TLS to AuthOS"),
    AP_INIT_FLAG("AuthOSAllowHTTP", set_allow_http, NULL, TRUST,
                 "allow http:// AuthOS URLs (tests, loopback)"),
    /* What AuthOS is asked about each user: makes it fetch URLs, so a
     * trust setting too. */
    AP_INIT_TAKE1("AuthOSPermissionSource", set_perm_source, NULL, TRUST,
                  "where Require authos-permission reads permissions: "
                  "auto, claim or api"),
    SECONDS("AuthOSUserInfoTTL", userinfo_ttl,
            "seconds an /api/user answer is reused for the same token"),
    AP_INIT_FLAG("AuthOSSessionCheck", set_session_check, NULL, TRUST,
                 "also confirm through /api/user that the AuthOS session "
                 "is alive"),
    /* Browser sessions (SPEC section 11): where users are sent to sign
     * in and where AuthOS sends them back. */
    BROWSER_URL("AuthOSLoginURL", login_url,
                "AuthOS sign-in URL for browsers, e.g. "
                "https://sso.example.com/authorize?org=acme&service=intranet"),
    BROWSER_URL("AuthOSCallbackURL", callback_url,
                "absolute URL of the SetHandler authos-callback location, "
                "registered at AuthOS as redirect_uri"),
    /* Per server: one cache per process, sized for the largest. */
    AP_INIT_TAKE1("AuthOSTokenCache", set_token_cache, NULL, RSRC_CONF,
                  "verified-token cache entries per process (0: off)"),
    /* Per-directory behaviour, also allowed in .htaccess. */
    AP_INIT_TAKE1("AuthOSRemoteUserClaim", set_user_claim, NULL, PERDIR,
                  "claim that becomes REMOTE_USER (default sub)"),
    AP_INIT_TAKE1("AuthOSPassClaims", set_pass_claims, NULL, PERDIR,
                  "env, headers, both or none"),
    AP_INIT_TAKE1("AuthOSTokenCookie", set_cookie, NULL, PERDIR,
                  "cookie to read the token from when there is no "
                  "Authorization header"),
    AP_INIT_TAKE1("AuthOSLogoutRedirect", set_logout_redirect, NULL, PERDIR,
                  "where SetHandler authos-logout sends the browser after "
                  "signing out (default /)"),
    {NULL}
};

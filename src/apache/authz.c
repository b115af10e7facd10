/*
 * authz.c: the Require authos-* providers (SPEC section 6), built like
 * httpd's own (mod_authz_user.c): arguments are parsed and checked when
 * the configuration is read; without a user we authenticated, a provider
 * answers AUTHZ_DENIED_NO_USER so that authentication runs (and a client
 * without a token gets 401).
 */
#include "apr_strings.h"
#include "ap_provider.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"
#include "mod_auth.h"

#include "authos_claims.h"
#include "authos_module.h"
#include "authz.h"
#include "metrics.h"
#include "config.h"

APLOG_USE_MODULE(auth_authos);

/* The words of a Require line, split once at config time. */
typedef struct {
    apr_array_header_t *words; /* const char * */
} require_args_t;

/* Split line into words; NULL with *parsed set, or an error. */
static const char *split(cmd_parms *cmd, const char *line, int min, int max,
                         const char *usage, const void **parsed)
{
    require_args_t *a = apr_pcalloc(cmd->pool, sizeof(*a));
    const char *w;

    a->words = apr_array_make(cmd->pool, 4, sizeof(const char *));
    while (*line && *(w = ap_getword_conf(cmd->pool, &line)) != '\0') {
        /* Values are literal: an expression would be compared as text,
         * which is never what the administrator meant. */
        if (strstr(w, "%{") != NULL) {
            return apr_psprintf(cmd->pool,
                                "Require %s: expressions are not supported "
                                "('%s')", usage, w);
        }
        APR_ARRAY_PUSH(a->words, const char *) = w;
    }
    if (a->words->nelts < min || (max >= 0 && a->words->nelts > max)) {
        return apr_pstrcat(cmd->pool, "Require ", usage, NULL);
    }
    *parsed = a;
    authos_conf_note_require(cmd, 0);
    return NULL;
}

static const char *parse_permission(cmd_parms *cmd, const char *line,
                                    const void **parsed)
{
    const char *err = split(cmd, line, 1, -1,
                            "authos-permission needs at least one permission",
                            parsed);
    if (err == NULL) {
        authos_conf_note_require(cmd, 1);
    }
    return err;
}

static const char *parse_platform_owner(cmd_parms *cmd, const char *line,
                                        const void **parsed)
{
    return split(cmd, line, 0, 0, "authos-platform-owner takes no argument",
                 parsed);
}

static const char *parse_org(cmd_parms *cmd, const char *line,
                             const void **parsed)
{
    return split(cmd, line, 1, -1, "authos-org needs at least one org slug",
                 parsed);
}

static const char *parse_service(cmd_parms *cmd, const char *line,
                                 const void **parsed)
{
    return split(cmd, line, 1, -1,
                 "authos-service needs at least one service slug", parsed);
}

static const char *parse_claim(cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    return split(cmd, line, 2, -1,
                 "authos-claim needs a claim name and at least one value",
                 parsed);
}

/* The authenticated state of r, or NULL: only users we authenticated. */
static const authos_req_t *user_of(request_rec *r)
{
    const authos_req_t *st;

    if (r->user == NULL) {
        return NULL;
    }
    st = authos_req_find(r);
    return st != NULL && st->verified ? st : NULL;
}

static const char *word(const void *parsed, int i)
{
    const require_args_t *a = parsed;
    return APR_ARRAY_IDX(a->words, i, const char *);
}

static int nwords(const void *parsed)
{
    return ((const require_args_t *)parsed)->words->nelts;
}

/* Grant when value equals one of the line's words (from the first). */
static authz_status any_word(const char *value, const void *parsed, int first)
{
    int i;

    if (value == NULL) {
        return AUTHZ_DENIED; /* a missing claim never grants */
    }
    for (i = first; i < nwords(parsed); i++) {
        if (strcmp(value, word(parsed, i)) == 0) {
            return AUTHZ_GRANTED;
        }
    }
    return AUTHZ_DENIED;
}

static authz_status check_permission(request_rec *r, const char *line,
                                     const void *parsed)
{
    const authos_req_t *st = user_of(r);
    json_t *perms, *el;
    apr_size_t i;

    (void)line;
    if (st == NULL) {
        return AUTHZ_DENIED_NO_USER;
    }
    /* Fetched from /api/user for this request, else the token's claim
     * (never the claim under AuthOSPermissionSource api). */
    perms = st->permissions;
    if (perms == NULL
        && authos_conf_perm_source(authos_dir_conf(r)) != AUTHOS_PERMS_API) {
        perms = json_object_get(st->claims, "permissions");
    }
    if (!json_is_array(perms)) {
        return AUTHZ_DENIED;
    }
    json_array_foreach(perms, i, el) {
        if (json_is_string(el)
            && any_word(json_string_value(el), parsed, 0) == AUTHZ_GRANTED) {
            return AUTHZ_GRANTED;
        }
    }
    return AUTHZ_DENIED;
}

static authz_status check_platform_owner(request_rec *r, const char *line,
                                         const void *parsed)
{
    const authos_req_t *st = user_of(r);

    (void)line;
    (void)parsed;
    if (st == NULL) {
        return AUTHZ_DENIED_NO_USER;
    }
    /* JSON true only: not "true", not 1. */
    return json_is_true(json_object_get(st->claims, "is_platform_owner"))
               ? AUTHZ_GRANTED
               : AUTHZ_DENIED;
}

static authz_status check_org(request_rec *r, const char *line,
                              const void *parsed)
{
    const authos_req_t *st = user_of(r);

    (void)line;
    return st == NULL ? AUTHZ_DENIED_NO_USER
                      : any_word(authos_claims_org(st->claims), parsed, 0);
}

static authz_status check_service(request_rec *r, const char *line,
                                  const void *parsed)
{
    const authos_req_t *st = user_of(r);

    (void)line;
    return st == NULL ? AUTHZ_DENIED_NO_USER
                      : any_word(authos_claims_service(st->claims), parsed, 0);
}

static authz_status check_claim(request_rec *r, const char *line,
                                const void *parsed)
{
    const authos_req_t *st = user_of(r);
    json_t *claim;
    int i;

    (void)line;
    if (st == NULL) {
        return AUTHZ_DENIED_NO_USER;
    }
    claim = json_object_get(st->claims, word(parsed, 0));
    for (i = 1; i < nwords(parsed); i++) {
        if (authos_claim_matches(claim, word(parsed, i))) {
            return AUTHZ_GRANTED;
        }
    }
    return AUTHZ_DENIED;
}

/* Each provider as httpd calls it: a denial of an authenticated user is
 * counted (authos_authz_denials_total). */
#define COUNTED(check, which)                                                 \
    static authz_status check##_counted(request_rec *r, const char *line,    \
                                        const void *parsed)                   \
    {                                                                         \
        authz_status s = check(r, line, parsed);                              \
        if (s == AUTHZ_DENIED) {                                              \
            authos_metric_authz_denied(which);                                \
        }                                                                     \
        return s;                                                             \
    }
COUNTED(check_permission, AUTHOS_REQ_PERMISSION)
COUNTED(check_platform_owner, AUTHOS_REQ_PLATFORM_OWNER)
COUNTED(check_org, AUTHOS_REQ_ORG)
COUNTED(check_service, AUTHOS_REQ_SERVICE)
COUNTED(check_claim, AUTHOS_REQ_CLAIM)

static const authz_provider permission_provider = {
    check_permission_counted, parse_permission};
static const authz_provider platform_owner_provider = {
    check_platform_owner_counted, parse_platform_owner};
static const authz_provider org_provider = {check_org_counted, parse_org};
static const authz_provider service_provider = {check_service_counted,
                                                parse_service};
static const authz_provider claim_provider = {check_claim_counted,
                                              parse_claim};

void authos_authz_register(apr_pool_t *p)
{
    static const struct {
        const char *name;
        const authz_provider *provider;
    } all[] = {
        {"authos-permission", &permission_provider},
        {"authos-platform-owner", &platform_owner_provider},
        {"authos-org", &org_provider},
        {"authos-service", &service_provider},
        {"authos-claim", &claim_provider},
    };
    apr_size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, all[i].name,
                                  AUTHZ_PROVIDER_VERSION, all[i].provider,
                                  AP_AUTH_INTERNAL_PER_CONF);
    }
}

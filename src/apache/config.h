/*
 * config.h: directives and per-directory configuration (SPEC section 4).
 */
#ifndef AUTHOS_CONFIG_H
#define AUTHOS_CONFIG_H

#include "httpd.h"
#include "http_config.h"

#include "authos_keyfetch.h"
#include "authos_keyslot.h"

/* A trust source: where keys come from. Sources are collected while the
 * configuration is read (never from .htaccess) and each gets one slot of
 * the shared key-set cache. */
typedef struct {
    authos_source_kind_t kind;
    const char *value;      /* URL without trailing '/', or file path */
    unsigned index;         /* slot in shared memory */
} authos_source_t;

typedef enum {
    AUTHOS_PERMS_AUTO = 0, /* the claim when the token has one, else API */
    AUTHOS_PERMS_CLAIM,    /* the token's permissions claim only */
    AUTHOS_PERMS_API       /* GET {base}/api/user only */
} authos_perm_source_t;

typedef enum {
    AUTHOS_PASS_NONE = 0,
    AUTHOS_PASS_ENV = 1,
    AUTHOS_PASS_HEADERS = 2,
    AUTHOS_PASS_BOTH = 3
} authos_pass_t;

/* Every field has an "unset" state (NULL or -1) so merging knows what a
 * section set itself; defaults are applied in the getters below. */
typedef struct {
    const authos_source_t *source;
    const char *issuer;          /* NULL with issuer_set: Off */
    int issuer_set;
    apr_array_header_t *audiences; /* const char *; NULL with any */
    int audience_set;
    int skew;
    int refresh;
    int min_refetch;
    int max_stale;
    int timeout;
    const char *ca_file;
    int allow_http;
    const char *user_claim;
    int pass_claims;
    const char *cookie;
    int perm_source;
    int userinfo_ttl;
    int session_check;
    int perm_required; /* a Require authos-permission line is here */
    const char *login_url;       /* AuthOSLoginURL (SPEC section 11) */
    const char *callback_url;    /* AuthOSCallbackURL */
    const char *logout_redirect; /* AuthOSLogoutRedirect */
} authos_dir_conf_t;

/* Per-server settings (server config and virtual hosts). */
typedef struct {
    int token_cache; /* AuthOSTokenCache; -1 unset */
} authos_srv_conf_t;

extern const command_rec authos_cmds[];

void *authos_create_srv_conf(apr_pool_t *p, server_rec *s);
void *authos_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);

/* AuthOSTokenCache of server s, default applied. */
int authos_srv_token_cache(const server_rec *s);

void *authos_create_dir_conf(apr_pool_t *p, char *dir);
void *authos_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);

/* pre_config: forget the sources of a previous configuration read. */
void authos_config_reset(apr_pool_t *pconf);

/* All trust sources, in declaration order (authos_source_t *). */
const apr_array_header_t *authos_config_sources(void);

const authos_dir_conf_t *authos_dir_conf(request_rec *r);

/* Effective values, defaults applied. */
int authos_conf_skew(const authos_dir_conf_t *c);
int authos_conf_pass(const authos_dir_conf_t *c);
const char *authos_conf_user_claim(const authos_dir_conf_t *c);
void authos_conf_policy(const authos_dir_conf_t *c, authos_key_policy_t *pol);
void authos_conf_http(const authos_dir_conf_t *c, authos_http_opts_t *o);
int authos_conf_perm_source(const authos_dir_conf_t *c);
apr_interval_time_t authos_conf_userinfo_ttl(const authos_dir_conf_t *c);
int authos_conf_session_check(const authos_dir_conf_t *c);
int authos_conf_perm_required(const authos_dir_conf_t *c);

/* AuthOSLogoutRedirect, default "/". */
const char *authos_conf_logout_redirect(const authos_dir_conf_t *c);

/* parse_require_line of every authos-* provider: note in the section
 * being read whether a Require authos-permission line is there (so
 * authentication knows to fetch the user's permissions). */
void authos_conf_note_require(cmd_parms *cmd, int is_permission);

/* The issuer to require: explicit, or the base URL by default. Sets *ok
 * to 0 when the configuration leaves it undetermined (JWKS URL or file
 * without AuthOSIssuer). NULL with *ok: not checked (Off). */
const char *authos_conf_issuer(const authos_dir_conf_t *c, int *ok);

#endif

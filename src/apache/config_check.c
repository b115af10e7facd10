/*
 * config_check.c: cross-directive checks over the parsed configuration
 * tree (ap_conftree), run in check_config so that `apachectl -t` reports
 * them with the file and line of the offending section.
 *
 * A directive is "visible" from a section when it appears in that
 * section, in an enclosing one (<VirtualHost>, the server config, a
 * <Directory> around <Files>), or in a section of the same kind whose
 * path is a prefix of this one (<Location /api> covers <Location
 * /api/billing>). Conditional containers (<IfModule>, <IfDefine>, ...)
 * are looked through. The request-time check in authn.c remains the
 * backstop for what only a .htaccess introduces.
 */
#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "util_cfgtree.h"

#include "authos_browser.h"
#include "authos_module.h"
#include "config_check.h"

APLOG_USE_MODULE(auth_authos);

static const char *const transparent[] = {
    "<IfModule", "<IfDefine", "<IfFile", "<IfDirective", "<IfSection",
    "<Limit", "<LimitExcept", NULL};

static const char *const trust_sources[] = {
    "AuthOSBaseURL", "AuthOSJWKSURL", "AuthOSJWKSFile", NULL};

static int is_transparent(const ap_directive_t *d)
{
    int i;

    for (i = 0; transparent[i] != NULL; i++) {
        if (strcasecmp(d->directive, transparent[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The section that applies to d: its nearest non-transparent ancestor,
 * NULL for the server config. */
static const ap_directive_t *section_of(const ap_directive_t *d)
{
    const ap_directive_t *p;

    for (p = d->parent; p != NULL && is_transparent(p); p = p->parent) {
    }
    return p;
}

static const char *first_word(apr_pool_t *p, const char *args)
{
    const char *w = ap_getword_conf(p, &args);
    apr_size_t n = strlen(w);

    /* Section arguments keep the closing '>'. */
    if (n > 0 && w[n - 1] == '>') {
        w = apr_pstrmemdup(p, w, n - 1);
    }
    return w;
}

/* One of names among the children of list (looking through transparent
 * containers, not into sections); the last one found wins.
 * Recursion (here, in in_prefix_sections and in walk) follows httpd's
 * parsed configuration tree at startup: as deep as the sections nest in
 * the configuration files, which httpd has already read into memory. */
/* NOLINTNEXTLINE(misc-no-recursion) */
static const ap_directive_t *own(const ap_directive_t *list,
                                 const char *const *names)
{
    const ap_directive_t *d, *found = NULL, *inner;
    int i;

    for (d = list; d != NULL; d = d->next) {
        if (is_transparent(d)) {
            inner = own(d->first_child, names);
            if (inner != NULL) {
                found = inner;
            }
            continue;
        }
        for (i = 0; names[i] != NULL; i++) {
            if (strcasecmp(d->directive, names[i]) == 0) {
                found = d;
            }
        }
    }
    return found;
}

/* Sections of kind `kind` directly in list (through transparent
 * containers) whose path is a proper prefix of path. */
/* NOLINTNEXTLINE(misc-no-recursion): see own() */
static const ap_directive_t *in_prefix_sections(apr_pool_t *p,
                                                const ap_directive_t *list,
                                                const char *kind,
                                                const char *path,
                                                const char *const *names)
{
    const ap_directive_t *d, *found = NULL, *hit;

    for (d = list; d != NULL; d = d->next) {
        if (is_transparent(d)) {
            hit = in_prefix_sections(p, d->first_child, kind, path, names);
        }
        else if (strcasecmp(d->directive, kind) == 0) {
            const char *other = first_word(p, d->args);
            apr_size_t n = strlen(other);
            hit = (n < strlen(path) && strncmp(other, path, n) == 0)
                      ? own(d->first_child, names)
                      : NULL;
        }
        else {
            hit = NULL;
        }
        if (hit != NULL) {
            found = hit;
        }
    }
    return found;
}

static const ap_directive_t *visible(apr_pool_t *p, const ap_directive_t *sec,
                                     const char *const *names)
{
    const ap_directive_t *s, *hit;

    for (s = sec; s != NULL; s = section_of(s)) {
        hit = own(s->first_child, names);
        if (hit != NULL) {
            return hit;
        }
    }
    hit = own(ap_conftree, names);
    if (hit != NULL) {
        return hit;
    }
    /* Path-prefix sections of the same kind, in the same virtual host
     * and in the server config (whose sections apply to every host). */
    if (sec != NULL
        && (strcasecmp(sec->directive, "<Location") == 0
            || strcasecmp(sec->directive, "<Directory") == 0)) {
        const char *path = first_word(p, sec->args);
        const ap_directive_t *host = section_of(sec);

        if (*path != '~') {
            if (host != NULL) {
                hit = in_prefix_sections(p, host->first_child, sec->directive,
                                         path, names);
            }
            if (hit == NULL) {
                hit = in_prefix_sections(p, ap_conftree, sec->directive, path,
                                         names);
            }
        }
    }
    return hit;
}

static int report(const ap_directive_t *at, const char *what)
{
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                 AUTHOS_LOGNO(0040) "%s:%d: %s", at->filename, at->line_num,
                 what);
    return 1;
}

/* What every section that verifies tokens needs: a trust source, an
 * audience and, without a base URL, an explicit issuer. what names the
 * directive that verifies ("AuthType authos", "SetHandler
 * authos-callback"). */
static int check_trust(apr_pool_t *p, const ap_directive_t *d,
                       const char *what)
{
    static const char *const audience[] = {"AuthOSAudience", NULL};
    static const char *const issuer[] = {"AuthOSIssuer", NULL};
    static const char *const perm_source[] = {"AuthOSPermissionSource", NULL};
    static const char *const session_check[] = {"AuthOSSessionCheck", NULL};
    const ap_directive_t *sec = section_of(d);
    const ap_directive_t *at = sec != NULL ? sec : d;
    const ap_directive_t *src;
    int errors = 0;

    src = visible(p, sec, trust_sources);
    if (src == NULL) {
        errors += report(at, apr_psprintf(p, "%s without a trust source: add "
                                             "AuthOSBaseURL, AuthOSJWKSURL "
                                             "or AuthOSJWKSFile to this "
                                             "section or the server config",
                                          what));
    }
    if (visible(p, sec, audience) == NULL) {
        errors += report(at, apr_psprintf(p, "%s without AuthOSAudience: "
                                             "name the audiences to accept "
                                             "(e.g. service:acme/billing) or "
                                             "'any'",
                                          what));
    }
    if (src != NULL && strcasecmp(src->directive, "AuthOSBaseURL") != 0) {
        const ap_directive_t *ps = visible(p, sec, perm_source);
        const ap_directive_t *sc = visible(p, sec, session_check);

        if (visible(p, sec, issuer) == NULL) {
            errors += report(at, apr_psprintf(p, "%s needs an explicit "
                                                 "AuthOSIssuer (a URL or "
                                                 "Off)",
                                              src->directive));
        }
        /* Both call {base}/api/user, which only a base URL names. */
        if ((ps != NULL && strcasecmp(first_word(p, ps->args), "api") == 0)
            || (sc != NULL && strcasecmp(first_word(p, sc->args), "on") == 0)) {
            errors += report(at, apr_psprintf(p, "AuthOSPermissionSource api "
                                                 "and AuthOSSessionCheck On "
                                                 "need AuthOSBaseURL, not %s",
                                              src->directive));
        }
    }
    return errors;
}

/* Names that must be visible from d's section for what to work. */
static int check_needs(apr_pool_t *p, const ap_directive_t *d,
                       const char *what, const char *const *names)
{
    const ap_directive_t *sec = section_of(d);
    int errors = 0, i;

    for (i = 0; names[i] != NULL; i++) {
        const char *const one[] = {names[i], NULL};
        if (visible(p, sec, one) == NULL) {
            errors += report(sec != NULL ? sec : d,
                             apr_psprintf(p, "%s needs %s in this section or "
                                             "around it (SPEC section 11: "
                                             "browser sessions)",
                                          what, names[i]));
        }
    }
    return errors;
}

static int check_authtype(apr_pool_t *p, const ap_directive_t *d)
{
    static const char *const login[] = {"AuthOSLoginURL", NULL};
    static const char *const login_needs[] = {"AuthOSCallbackURL",
                                              "AuthOSTokenCookie", NULL};
    int errors = check_trust(p, d, "AuthType authos");

    if (visible(p, section_of(d), login) != NULL) {
        errors += check_needs(p, d, "AuthOSLoginURL", login_needs);
    }
    return errors;
}

static int check_handler(apr_pool_t *p, const ap_directive_t *d)
{
    static const char *const callback_needs[] = {"AuthOSCallbackURL",
                                                 "AuthOSTokenCookie", NULL};
    static const char *const logout_needs[] = {"AuthOSTokenCookie", NULL};
    const char *name = first_word(p, d->args);

    if (strcasecmp(name, "authos-callback") == 0) {
        return check_trust(p, d, "SetHandler authos-callback")
               + check_needs(p, d, "SetHandler authos-callback",
                             callback_needs);
    }
    if (strcasecmp(name, "authos-logout") == 0) {
        return check_needs(p, d, "SetHandler authos-logout", logout_needs);
    }
    return 0;
}

/* Where browsers are sent: https://, unless the host is loopback or
 * AuthOSAllowHTTP On applies (SPEC section 11). */
static int check_browser_url(apr_pool_t *p, const ap_directive_t *d)
{
    static const char *const allow[] = {"AuthOSAllowHTTP", NULL};
    const ap_directive_t *a;
    const char *url = first_word(p, d->args);

    if (strncasecmp(url, "http://", 7) != 0
        || authos_url_is_loopback(p, url)) {
        return 0;
    }
    a = visible(p, section_of(d), allow);
    if (a == NULL || strcasecmp(first_word(p, a->args), "on") != 0) {
        return report(d, apr_psprintf(p, "%s %s: http:// needs a loopback "
                                         "host (localhost, 127.0.0.1) or "
                                         "AuthOSAllowHTTP On (the token "
                                         "would travel unprotected)",
                                      d->directive, url));
    }
    return 0;
}

static int check_http(apr_pool_t *p, const ap_directive_t *d)
{
    static const char *const allow[] = {"AuthOSAllowHTTP", NULL};
    const ap_directive_t *a;
    const char *url = first_word(p, d->args);

    if (strncasecmp(url, "http://", 7) != 0) {
        return 0;
    }
    a = visible(p, section_of(d), allow);
    if (a == NULL || strcasecmp(first_word(p, a->args), "on") != 0) {
        return report(d, apr_psprintf(p, "%s %s: http:// needs "
                                         "AuthOSAllowHTTP On (tokens and "
                                         "keys would travel unprotected)",
                                      d->directive, url));
    }
    return 0;
}

/* NOLINTNEXTLINE(misc-no-recursion): see own() */
static int walk(apr_pool_t *p, const ap_directive_t *list)
{
    const ap_directive_t *d;
    int errors = 0;

    for (d = list; d != NULL; d = d->next) {
        if (strcasecmp(d->directive, "AuthType") == 0
            && strcasecmp(first_word(p, d->args), AUTHOS_AUTH_TYPE) == 0) {
            errors += check_authtype(p, d);
        }
        else if (strcasecmp(d->directive, "AuthOSBaseURL") == 0
                 || strcasecmp(d->directive, "AuthOSJWKSURL") == 0) {
            errors += check_http(p, d);
        }
        else if (strcasecmp(d->directive, "AuthOSLoginURL") == 0
                 || strcasecmp(d->directive, "AuthOSCallbackURL") == 0) {
            errors += check_browser_url(p, d);
        }
        else if (strcasecmp(d->directive, "SetHandler") == 0) {
            errors += check_handler(p, d);
        }
        if (d->first_child != NULL) {
            errors += walk(p, d->first_child);
        }
    }
    return errors;
}

int authos_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)s;
    return walk(ptemp, ap_conftree) == 0 ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

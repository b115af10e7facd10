/*
 * authos-jwt.c: command-line tool to inspect and verify AuthOS access
 * tokens with the rules of mod_auth_authos (SPEC section 10). This file
 * holds the command line, reading the token and shared output helpers;
 * cli_inspect.c and cli_verify.c hold the two commands.
 *
 * The tool never prints the token (nor any part of its text): only the
 * decoded header and claims, kid, sub, and the fixed reason texts.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "authos_http.h"
#include "authos_json.h"
#include "authos_jwt.h"
#include "authos_jwt_cli.h"

/* Standard input is read up to this much; more is a refused token (the
 * core refuses anything over AUTHOS_TOKEN_MAX anyway), and the slack lets
 * a maximal token end in any reasonable run of whitespace. */
#define CLI_STDIN_MAX (AUTHOS_TOKEN_MAX + 4096)

/* Longest untrusted string (kid, typ, alg) echoed in a message. */
#define CLI_PRINT_MAX 128

/* A failed write to stdout is caught by main's fflush(stdout); one to
 * stderr leaves nothing to report it on. */
void cli_usage(FILE *out)
{
    (void)fputs(
        "Usage: authos-jwt inspect TOKEN [--skew SECONDS]\n"
        "       authos-jwt verify TOKEN (--base-url URL | --jwks-url URL |\n"
        "                  --jwks-file FILE) [--issuer URL|off]\n"
        "                  [--audience AUD]... [--allow-http] "
        "[--ca-file FILE]\n"
        "                  [--timeout SECONDS] [--skew SECONDS] [--json]\n"
        "       authos-jwt help | --help | -h\n"
        "\n"
        "Inspect or verify an AuthOS access token with the rules of\n"
        "mod_auth_authos. TOKEN is a compact JWS; '-' reads it from standard\n"
        "input (trailing whitespace removed). The token is never printed.\n"
        "\n"
        "Commands:\n"
        "  inspect TOKEN      decode header and claims WITHOUT verifying\n"
        "                     them; tell whether the module would refuse the\n"
        "                     token whatever the keys\n"
        "  verify TOKEN       full check: key, signature, time, issuer,\n"
        "                     audience, subject, token profile\n"
        "  help               print this text\n"
        "\n"
        "Key source for verify (exactly one):\n"
        "  --base-url URL     AuthOS base URL; jwks_uri from\n"
        "                     URL/.well-known/authos-configuration, else\n"
        "                     openid-configuration, else\n"
        "                     URL/.well-known/jwks.json\n"
        "  --jwks-url URL     the JWKS URL, no discovery\n"
        "  --jwks-file FILE   a JWKS in a local file, no network\n"
        "\n"
        "Options:\n"
        "  --issuer URL|off   required iss (default: the --base-url URL;\n"
        "                     with --jwks-url or --jwks-file iss is not\n"
        "                     checked unless given); 'off' skips the check\n"
        "  --audience AUD     aud must contain AUD; repeat for alternatives;\n"
        "                     'any' or no --audience: aud is not checked\n"
        "  --allow-http       allow http:// URLs (tests, loopback)\n"
        "  --ca-file FILE     CA bundle for TLS to AuthOS (default: the\n"
        "                     system CAs; TLS verification is always on)\n"
        "  --timeout SECONDS  time limit of discovery and JWKS fetch\n"
        "                     together (default 5)\n"
        "  --skew SECONDS     leeway for exp, nbf and iat (default 30)\n"
        "  --json             verify: print the verdict as one JSON object\n"
        "  -h, --help         print this text\n"
        "\n"
        "Exit status:\n"
        "  0  verify: the token is valid; inspect: nothing in its structure\n"
        "     refuses it (the signature still needs checking)\n"
        "  1  the token is refused; the reason is printed\n"
        "  2  could not check: bad usage, unreadable input or JWKS file, key\n"
        "     set unreachable or unusable\n",
        out);
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Usage errors go to stderr; the caller never passes token text. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    /* Nothing to do if stderr fails. */
    (void)fputs("authos-jwt: ", stderr);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    (void)fputs("\nTry 'authos-jwt --help'.\n", stderr);
    return CLI_EXIT_UNCHECKED;
}

const char *cli_printable(apr_pool_t *p, const char *s)
{
    apr_size_t i, n = strlen(s);
    char *out, *o;

    /* The value comes from an untrusted token: no control characters or
     * other bytes a terminal could interpret, and a bounded length. */
    if (n > CLI_PRINT_MAX) {
        n = CLI_PRINT_MAX;
    }
    o = out = apr_palloc(p, n * 4 + 4);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"') {
            o += apr_snprintf(o, 5, "\\x%02x", c);
        }
        else {
            *o++ = (char)c;
        }
    }
    if (s[n] != '\0') {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = '\0';
    return out;
}

static const char *duration(apr_pool_t *p, apr_int64_t s)
{
    if (s >= 86400) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT "d%02dh%02dm", s / 86400,
                            (int)(s % 86400 / 3600), (int)(s % 3600 / 60));
    }
    if (s >= 3600) {
        return apr_psprintf(p, "%dh%02dm%02ds", (int)(s / 3600),
                            (int)(s % 3600 / 60), (int)(s % 60));
    }
    if (s >= 60) {
        return apr_psprintf(p, "%dm%02ds", (int)(s / 60), (int)(s % 60));
    }
    return apr_psprintf(p, "%" APR_INT64_T_FMT "s", s);
}

/* The date of t and how far it is from now, or NULL when out of range. */
static const char *date_of(apr_pool_t *p, double t, long long now,
                           const char **when)
{
    char buf[64];
    struct tm tm;
    time_t tt;
    apr_int64_t d;

    /* Year 5138 and beyond, or far before 1970: not worth a date. */
    if (!(t > -1e11 && t < 1e11)) {
        return NULL;
    }
    tt = (time_t)t;
    if (gmtime_r(&tt, &tm) == NULL
        || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        return NULL;
    }
    d = (apr_int64_t)tt - (apr_int64_t)now;
    if (d > 0) {
        *when = apr_pstrcat(p, "in ", duration(p, d), NULL);
    }
    else if (d < 0) {
        *when = apr_pstrcat(p, duration(p, -d), " ago", NULL);
    }
    else {
        *when = "now";
    }
    return apr_pstrdup(p, buf);
}

const char *cli_time(apr_pool_t *p, double t, long long now)
{
    const char *when, *date = date_of(p, t, now, &when);

    if (date == NULL) {
        return apr_psprintf(p, "%g (out of range)", t);
    }
    return apr_pstrcat(p, date, " (", when, ")", NULL);
}

/* "exp 2024-05-01T10:00:00Z, 1h00m00s ago, skew 30s" */
static const char *time_detail(apr_pool_t *p, const char *name, double t,
                               long long now, int skew)
{
    const char *when, *date = date_of(p, t, now, &when);

    if (date == NULL) {
        return apr_psprintf(p, "%s %g, skew %ds", name, t, skew);
    }
    return apr_psprintf(p, "%s %s, %s, skew %ds", name, date, when, skew);
}

const char *cli_explain(apr_pool_t *p, authos_reason_t reason,
                        const char *detail, const json_t *claims, long long now,
                        const cli_opts_t *o)
{
    double t;

    switch (reason) {
    case AUTHOS_ERR_EXPIRED:
        if (authos_json_number(claims, "exp", &t)) {
            return time_detail(p, "exp", t, now, o->skew);
        }
        break;
    case AUTHOS_ERR_NOT_YET_VALID:
        if (authos_json_number(claims, "nbf", &t)) {
            return time_detail(p, "nbf", t, now, o->skew);
        }
        break;
    case AUTHOS_ERR_ISSUED_IN_FUTURE:
        if (authos_json_number(claims, "iat", &t)) {
            return time_detail(p, "iat", t, now, o->skew);
        }
        break;
    case AUTHOS_ERR_ISSUER:
        if (o->issuer != NULL) {
            return apr_psprintf(p, "iss is not %s", o->issuer);
        }
        break;
    case AUTHOS_ERR_AUDIENCE:
        return "aud holds none of the --audience values";
    default:
        break;
    }
    return detail;
}

/* Whole seconds in [min, max], as the module's SECONDS directives. */
static int parse_seconds(const char *arg, int min, int max, int *out)
{
    char *end;
    long v;

    v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < min || v > max) {
        return 0;
    }
    *out = (int)v;
    return 1;
}

/* A URL without its trailing '/'s, as AuthOSBaseURL and AuthOSIssuer. */
static const char *trim_url(apr_pool_t *p, const char *url)
{
    char *u = apr_pstrdup(p, url);
    apr_size_t n = strlen(u);

    while (n > 0 && u[n - 1] == '/') {
        u[--n] = '\0';
    }
    return u;
}

static int read_stdin(apr_pool_t *p, cli_opts_t *o)
{
    apr_file_t *in;
    apr_size_t n = 0;
    apr_status_t rv;
    char *buf, errbuf[128];

    rv = apr_file_open_stdin(&in, p);
    if (rv == APR_SUCCESS) {
        buf = apr_palloc(p, CLI_STDIN_MAX + 2);
        rv = apr_file_read_full(in, buf, CLI_STDIN_MAX + 1, &n);
        if (rv == APR_EOF) {
            rv = APR_SUCCESS;
        }
    }
    if (rv != APR_SUCCESS) {
        return usage_error("cannot read the token from standard input: %s",
                           apr_strerror(rv, errbuf, sizeof(errbuf)));
    }
    /* More than CLI_STDIN_MAX bytes: refused as too long below, without
     * reading the rest. */
    while (n > 0 && n <= CLI_STDIN_MAX
           && strchr(" \t\r\n\f\v", buf[n - 1]) != NULL) {
        n--;
    }
    buf[n] = '\0';
    o->token = buf;
    o->token_len = n;
    return CLI_EXIT_OK;
}

static int set_source(cli_opts_t *o, authos_source_kind_t kind,
                      const char *value)
{
    if (o->have_source) {
        return usage_error("verify: give exactly one of --base-url, "
                           "--jwks-url and --jwks-file");
    }
    o->have_source = 1;
    o->kind = kind;
    o->source = value;
    return CLI_EXIT_OK;
}

/* A long unknown "option" may be a token that starts with '-' (a
 * base64url character): it is not echoed. */
static int unknown_option(const char *name)
{
    if (strlen(name) > 32) {
        return usage_error("unknown option (a TOKEN that starts with '-' "
                           "goes after '--')");
    }
    return usage_error("unknown option '%s'", name);
}

/* Options taking a value: --name VALUE or --name=VALUE. */
static int option(apr_pool_t *p, cli_opts_t *o, const char *name,
                  const char *value)
{
    if (strcmp(name, "--skew") == 0) {
        if (!parse_seconds(value, 0, 365 * 86400, &o->skew)) {
            return usage_error("--skew: '%s' is not a whole number of "
                               "seconds from 0 to 31536000",
                               value);
        }
        return CLI_EXIT_OK;
    }
    if (strcmp(o->command, "verify") != 0) {
        return usage_error("%s is an option of verify", name);
    }
    if (strcmp(name, "--base-url") == 0) {
        return set_source(o, AUTHOS_SOURCE_BASE_URL, trim_url(p, value));
    }
    if (strcmp(name, "--jwks-url") == 0) {
        return set_source(o, AUTHOS_SOURCE_JWKS_URL, value);
    }
    if (strcmp(name, "--jwks-file") == 0) {
        return set_source(o, AUTHOS_SOURCE_JWKS_FILE, value);
    }
    if (strcmp(name, "--issuer") == 0) {
        o->issuer_set = 1;
        if (strcasecmp(value, "off") == 0) {
            o->issuer = NULL;
            return CLI_EXIT_OK;
        }
        /* Compared, never fetched: any absolute URL (AuthOSIssuer). */
        if (!authos_http_url_allowed(value, 1)) {
            return usage_error("--issuer: '%s' is neither an absolute URL "
                               "nor off",
                               value);
        }
        o->issuer = trim_url(p, value);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--audience") == 0) {
        if (*value == '\0') {
            return usage_error("--audience: an audience cannot be empty");
        }
        if (strcasecmp(value, "any") == 0) {
            o->audience_any = 1;
        }
        else {
            APR_ARRAY_PUSH(o->audiences, const char *) = value;
        }
        if (o->audience_any && o->audiences->nelts > 0) {
            return usage_error("--audience: 'any' cannot be combined with "
                               "audiences");
        }
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--ca-file") == 0) {
        o->ca_file = value;
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--timeout") == 0) {
        if (!parse_seconds(value, 1, 365 * 86400, &o->timeout)) {
            return usage_error("--timeout: '%s' is not a whole number of "
                               "seconds from 1 to 31536000",
                               value);
        }
        return CLI_EXIT_OK;
    }
    return unknown_option(name);
}

static int takes_value(const char *name)
{
    static const char *const names[] = {
        "--base-url", "--jwks-url", "--jwks-file", "--issuer",
        "--audience", "--ca-file",  "--timeout",   "--skew",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Parse argv after the command. Returns -1 when help was asked for,
 * otherwise an exit status (CLI_EXIT_OK to go on). */
static int parse_args(apr_pool_t *p, int argc, const char *const *argv,
                      cli_opts_t *o)
{
    int i, rc, only_operands = 0;

    for (i = 2; i < argc; i++) {
        const char *a = argv[i], *eq;
        char *name;

        if (only_operands || a[0] != '-' || strcmp(a, "-") == 0) {
            if (o->token_arg != NULL) {
                return usage_error("one TOKEN only (an extra argument "
                                   "follows it)");
            }
            o->token_arg = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_operands = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            return -1;
        }
        if (strcmp(a, "--allow-http") == 0 || strcmp(a, "--json") == 0) {
            if (strcmp(o->command, "verify") != 0) {
                return usage_error("%s is an option of verify", a);
            }
            if (strcmp(a, "--json") == 0) {
                o->json = 1;
            }
            else {
                o->allow_http = 1;
            }
            continue;
        }
        eq = strchr(a, '=');
        name = eq != NULL ? apr_pstrmemdup(p, a, (apr_size_t)(eq - a))
                          : apr_pstrdup(p, a);
        if (!takes_value(name)) {
            return unknown_option(name);
        }
        if (eq == NULL && i + 1 >= argc) {
            return usage_error("%s needs a value", name);
        }
        rc = option(p, o, name, eq != NULL ? eq + 1 : argv[++i]);
        if (rc != CLI_EXIT_OK) {
            return rc;
        }
    }
    return CLI_EXIT_OK;
}

/* Cross-option checks of verify, as check_config does for the module. */
static int check_verify(apr_pool_t *p, cli_opts_t *o)
{
    apr_finfo_t fi;

    if (!o->have_source) {
        return usage_error("verify needs one of --base-url, --jwks-url and "
                           "--jwks-file");
    }
    if (o->kind != AUTHOS_SOURCE_JWKS_FILE
        && !authos_http_url_allowed(o->source, o->allow_http)) {
        if (!o->allow_http && strncasecmp(o->source, "http://", 7) == 0) {
            return usage_error("'%s' is an http:// URL: refused without "
                               "--allow-http (AuthOSAllowHTTP)",
                               o->source);
        }
        return usage_error("'%s' is not an absolute https:// URL", o->source);
    }
    if (o->kind == AUTHOS_SOURCE_JWKS_FILE && *o->source == '\0') {
        return usage_error("--jwks-file: empty path");
    }
    /* As AuthOSCAFile: a bundle that is not there is a usage error, not
     * a TLS failure later. */
    if (o->ca_file != NULL
        && (apr_stat(&fi, o->ca_file, APR_FINFO_TYPE, p) != APR_SUCCESS
            || fi.filetype != APR_REG)) {
        return usage_error("--ca-file: '%s' is not a readable file",
                           o->ca_file);
    }
    /* The base URL is the default issuer (AuthOSIssuer). */
    if (!o->issuer_set && o->kind == AUTHOS_SOURCE_BASE_URL) {
        o->issuer = o->source;
    }
    if (o->audience_any || o->audiences->nelts == 0) {
        o->audiences = NULL;
    }
    return CLI_EXIT_OK;
}

static int run(apr_pool_t *p, int argc, const char *const *argv)
{
    cli_opts_t o;
    int rc;

    if (argc < 2) {
        cli_usage(stderr);
        return CLI_EXIT_UNCHECKED;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0
        || strcmp(argv[1], "-h") == 0) {
        cli_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "inspect") != 0 && strcmp(argv[1], "verify") != 0) {
        /* Not echoed when long: it may be a token given without a
         * command. */
        return strlen(argv[1]) > 32
                   ? usage_error("unknown command (inspect, verify, help)")
                   : usage_error("unknown command '%s' (inspect, verify, "
                                 "help)",
                                 argv[1]);
    }
    memset(&o, 0, sizeof(o));
    o.command = argv[1];
    o.skew = CLI_DEFAULT_SKEW;
    o.timeout = CLI_DEFAULT_TIMEOUT;
    o.audiences = apr_array_make(p, 2, sizeof(const char *));
    rc = parse_args(p, argc, argv, &o);
    if (rc < 0) {
        cli_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if (o.token_arg == NULL) {
        return usage_error("%s needs a TOKEN ('-' reads standard input)",
                           o.command);
    }
    if (strcmp(o.command, "verify") == 0 && (rc = check_verify(p, &o)) != 0) {
        return rc;
    }
    if (strcmp(o.token_arg, "-") == 0) {
        if ((rc = read_stdin(p, &o)) != CLI_EXIT_OK) {
            return rc;
        }
    }
    else {
        o.token = o.token_arg;
        o.token_len = strlen(o.token_arg);
    }
    return strcmp(o.command, "inspect") == 0 ? cli_inspect(p, &o)
                                             : cli_verify(p, &o);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    int rc;

    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS
        || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        (void)fputs("authos-jwt: cannot initialise APR\n", stderr);
        return CLI_EXIT_UNCHECKED;
    }
    rc = run(p, argc, argv);
    apr_pool_destroy(p);
    apr_terminate();
    if (fflush(stdout) != 0 && rc == CLI_EXIT_OK) {
        rc = CLI_EXIT_UNCHECKED;
    }
    return rc;
}

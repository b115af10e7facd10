/*
 * cli_verify.c: authos-jwt verify. The module's whole check (SPEC section
 * 5, authos_token_verify) against a key set fetched once, the way the
 * module fetches it (authos_keyfetch: discovery, JWKS URL or file).
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>
#include <curl/curl.h>

#include "authos_http.h"
#include "authos_json.h"
#include "authos_jwks.h"
#include "authos_jwt_cli.h"
#include "authos_keyfetch.h"
#include "authos_verify.h"

typedef struct {
    apr_pool_t *p;
    const cli_opts_t *o;
    int fetched; /* the one fetch has run */
    authos_keyfetch_t kf;
    authos_jwks_t *set; /* NULL: no usable key set */
    const char *error;  /* why there is none */
} keyctx_t;

static apr_status_t verifier_cleanup(void *data)
{
    EVP_PKEY_CTX_free((EVP_PKEY_CTX *)data);
    return APR_SUCCESS;
}

static void fetch_keys(keyctx_t *kc)
{
    const cli_opts_t *o = kc->o;
    authos_http_opts_t opts;
    const char *err;
    char buf[128];
    apr_status_t rv;

    kc->fetched = 1;
    memset(&opts, 0, sizeof(opts));
    /* AuthOSHTTPTimeout: the discovery chain included. */
    opts.timeout = apr_time_from_sec(o->timeout);
    opts.ca_file = o->ca_file;
    opts.allow_http = o->allow_http;
    rv = authos_keyfetch(kc->p, o->kind, o->source, NULL, &opts, &kc->kf);
    if (rv != APR_SUCCESS) {
        kc->error = kc->kf.error != NULL ? kc->kf.error : "fetch failed";
        /* A file the system refused to open or read: say why. */
        if (o->kind == AUTHOS_SOURCE_JWKS_FILE && rv != APR_EINVAL
            && rv != APR_ENOSPC) {
            kc->error = apr_psprintf(kc->p, "%s: %s", kc->error,
                                     apr_strerror(rv, buf, sizeof(buf)));
        }
        return;
    }
    kc->set = authos_jwks_parse(kc->p, kc->kf.jwks, kc->kf.len, &err);
    if (kc->set == NULL) {
        kc->error = apr_pstrcat(kc->p, "bad JWKS: ", err, NULL);
        return;
    }
    /* As the module logs it: metadata naming another issuer is a
     * warning, not a failure (SPEC section 4, AuthOSBaseURL). */
    if (kc->kf.metadata_issuer != NULL && o->issuer != NULL
        && strcmp(kc->kf.metadata_issuer, o->issuer) != 0) {
        (void)fprintf(stderr,
                      "authos-jwt: warning: the metadata of %s names issuer "
                      "\"%s\", not the expected %s\n",
                      o->source, cli_printable(kc->p, kc->kf.metadata_issuer),
                      o->issuer);
    }
}

/* The key for kid from the one key set fetched for this run. There is no
 * unknown-kid refetch: the set was fetched just now, so a second fetch
 * (SPEC section 5 step 3) would find the same keys. */
static authos_key_status_t lookup(void *ctx, const char *kid,
                                  EVP_PKEY_CTX **verifier)
{
    keyctx_t *kc = ctx;
    const authos_jwk_t *jwk;
    EVP_PKEY_CTX *copy;

    if (!kc->fetched) {
        fetch_keys(kc);
    }
    if (kc->set == NULL) {
        return AUTHOS_KEY_NO_KEYSET;
    }
    jwk = authos_jwks_find(kc->set, kid);
    if (jwk == NULL) {
        return AUTHOS_KEY_UNKNOWN;
    }
    /* A copy per use of the key's template, as authos_jwks.h asks. */
    copy = EVP_PKEY_CTX_dup(jwk->verifier);
    if (copy == NULL) {
        kc->error = "cannot copy the key's verify context";
        return AUTHOS_KEY_NO_KEYSET;
    }
    apr_pool_cleanup_register(kc->p, copy, verifier_cleanup,
                              apr_pool_cleanup_null);
    *verifier = copy;
    return AUTHOS_KEY_FOUND;
}

/* The option that names the key source, without its leading "--". */
static const char *source_name(authos_source_kind_t kind)
{
    switch (kind) {
    case AUTHOS_SOURCE_BASE_URL:
        return "base-url";
    case AUTHOS_SOURCE_JWKS_URL:
        return "jwks-url";
    default:
        return "jwks-file";
    }
}

static void set_string(json_t *obj, const char *key, const char *value)
{
    /* json_string refuses invalid UTF-8: such a value is left out. */
    json_object_set_new(obj, key,
                        value != NULL ? json_string(value) : json_null());
}

static void print_json(const cli_opts_t *o, const keyctx_t *kc,
                       const authos_token_t *tok, authos_reason_t reason,
                       const char *verdict, const char *detail)
{
    json_t *out = json_object(), *aud;
    double exp;
    int i;

    if (out == NULL) {
        return;
    }
    set_string(out, "verdict", verdict);
    set_string(out, "reason", authos_reason_text(reason));
    set_string(out, "reason_name", authos_reason_name(reason));
    set_string(out, "detail", detail);
    set_string(out, "kid", tok->jwt.kid);
    set_string(out, "sub", tok->sub);
    if (tok->claims != NULL && authos_json_number(tok->claims, "exp", &exp)) {
        /* The claim as the token has it (an integer from AuthOS). */
        json_object_set(out, "exp", json_object_get(tok->claims, "exp"));
    }
    set_string(out, "issuer", o->issuer);
    aud = json_array();
    for (i = 0; o->audiences != NULL && i < o->audiences->nelts; i++) {
        json_array_append_new(
            aud, json_string(APR_ARRAY_IDX(o->audiences, i, const char *)));
    }
    json_object_set_new(out, "audiences",
                        o->audiences != NULL ? aud : json_null());
    if (o->audiences == NULL) {
        json_decref(aud);
    }
    set_string(out, "source", source_name(o->kind));
    set_string(out, "jwks_uri", kc->fetched ? kc->kf.jwks_uri : NULL);
    if (kc->set != NULL) {
        json_object_set_new(out, "keys", json_integer(kc->set->keys->nelts));
    }
    if (reason == AUTHOS_ERR_NO_KEYSET) {
        set_string(out, "error", kc->error);
    }
    json_dumpf(out, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
    putchar('\n');
    json_decref(out);
}

static void print_text(apr_pool_t *p, const cli_opts_t *o, const keyctx_t *kc,
                       const authos_token_t *tok, authos_reason_t reason,
                       const char *detail, long long now)
{
    double exp;
    int i;

    if (reason == AUTHOS_OK) {
        printf("valid\n");
    }
    else {
        printf("invalid: %s%s%s%s\n", authos_reason_text(reason),
               detail != NULL ? " (" : "", detail != NULL ? detail : "",
               detail != NULL ? ")" : "");
    }
    if (tok->jwt.kid != NULL) {
        printf("  kid: %s\n", cli_printable(p, tok->jwt.kid));
    }
    /* sub is set only once the signature verified. */
    if (tok->sub != NULL) {
        printf("  sub: %s\n", cli_printable(p, tok->sub));
    }
    if (tok->claims != NULL && authos_json_number(tok->claims, "exp", &exp)) {
        printf("  exp: %s\n", cli_time(p, exp, now));
    }
    if (kc->set == NULL) {
        /* Refused by its header: keys were not needed. */
        return;
    }
    printf("  issuer: %s\n", o->issuer != NULL ? o->issuer : "not checked");
    printf("  audience: ");
    for (i = 0; o->audiences != NULL && i < o->audiences->nelts; i++) {
        printf("%s%s", i > 0 ? " " : "",
               APR_ARRAY_IDX(o->audiences, i, const char *));
    }
    printf("%s\n", o->audiences == NULL ? "not checked" : "");
    printf("  keys: %d usable from %s\n", kc->set->keys->nelts,
           kc->kf.jwks_uri);
}

int cli_verify(apr_pool_t *p, const cli_opts_t *o)
{
    authos_claim_rules_t rules;
    authos_token_t tok;
    authos_reason_t reason;
    keyctx_t kc;
    const char *detail;
    long long now = (long long)apr_time_sec(apr_time_now());
    int network = o->kind != AUTHOS_SOURCE_JWKS_FILE;

    if (network) {
        authos_http_global_init();
    }
    memset(&kc, 0, sizeof(kc));
    kc.p = p;
    kc.o = o;
    memset(&rules, 0, sizeof(rules));
    rules.issuer = o->issuer;
    rules.audiences = o->audiences;
    rules.now = now;
    rules.skew = o->skew;
    rules.user_claim = "sub";

    /* Keys are fetched only once the header passed (steps 1 and 2), as in
     * the module: a token refused by its structure is invalid whatever
     * the key set. */
    reason = authos_token_verify(p, o->token, o->token_len, lookup, &kc, &rules,
                                 &tok);
    if (network) {
        curl_global_cleanup();
    }

    if (reason == AUTHOS_ERR_NO_KEYSET) {
        if (o->json) {
            print_json(o, &kc, &tok, reason, "unchecked", NULL);
        }
        else {
            (void)fprintf(stderr,
                          "authos-jwt: cannot check the token: %s: %s "
                          "(--%s %s)\n",
                          authos_reason_text(reason), kc.error,
                          source_name(o->kind), o->source);
        }
        return CLI_EXIT_UNCHECKED;
    }
    if (reason == AUTHOS_OK) {
        detail = NULL;
    }
    else if (!kc.fetched) {
        detail = cli_header_detail(p, o->token, o->token_len, reason);
    }
    else {
        detail = cli_explain(p, reason, tok.detail, tok.claims, now, o);
    }
    if (o->json) {
        print_json(o, &kc, &tok, reason,
                   reason == AUTHOS_OK ? "valid" : "invalid", detail);
    }
    else {
        print_text(p, o, &kc, &tok, reason, detail, now);
    }
    return reason == AUTHOS_OK ? CLI_EXIT_OK : CLI_EXIT_INVALID;
}

/*
 * cli_inspect.c: authos-jwt inspect. Decodes a token without trusting it
 * and says whether mod_auth_authos would refuse it whatever the keys: the
 * header checks of SPEC section 5 steps 1 and 2 (authos_jwt_parse) and the
 * claim checks of step 5 that need no configuration (authos_claims_check
 * without issuer or audience).
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "authos_b64url.h"
#include "authos_claims.h"
#include "authos_json.h"
#include "authos_jwt.h"
#include "authos_jwt_cli.h"

#define MAX_REFUSALS 2

typedef struct {
    apr_size_t nparts;   /* dot-separated parts */
    const char *part[3]; /* the first three parts and their lengths */
    apr_size_t plen[3];
    int decoded[3];     /* strict base64url decoding succeeded */
    apr_size_t sig_len; /* decoded signature bytes */
    json_t *header;     /* NULL unless a JSON object */
    json_t *claims;     /* NULL unless a JSON object */
} decoded_t;

typedef struct {
    authos_reason_t reason;
    const char *detail;
} refusal_t;

/* Split and decode as far as possible, for display: unlike the verifier
 * this goes on past the first problem. */
static void decode(apr_pool_t *p, const char *tok, apr_size_t len, decoded_t *d)
{
    const char *start = tok, *end = tok + len, *dot;
    unsigned char *raw;
    apr_size_t rawlen;
    int i;

    memset(d, 0, sizeof(*d));
    for (;;) {
        dot = memchr(start, '.', (apr_size_t)(end - start));
        if (d->nparts < 3) {
            d->part[d->nparts] = start;
            d->plen[d->nparts] = (apr_size_t)((dot ? dot : end) - start);
        }
        d->nparts++;
        if (dot == NULL) {
            break;
        }
        start = dot + 1;
    }
    for (i = 0; i < 3 && (apr_size_t)i < d->nparts; i++) {
        if (d->plen[i] == 0
            || authos_b64url_decode(p, d->part[i], d->plen[i], &raw, &rawlen)
                   != APR_SUCCESS) {
            continue;
        }
        d->decoded[i] = 1;
        if (i == 0) {
            d->header = authos_json_object(p, (const char *)raw, rawlen);
        }
        else if (i == 1) {
            d->claims = authos_json_object(p, (const char *)raw, rawlen);
        }
        else {
            d->sig_len = rawlen;
        }
    }
}

/* Why authos_jwt_parse refused the token as malformed, in words. */
static const char *malformed_detail(const decoded_t *d, apr_size_t len)
{
    json_t *kid;
    int i;

    if (len == 0) {
        return "empty token";
    }
    if (len > AUTHOS_TOKEN_MAX) {
        return "longer than 16384 bytes";
    }
    if (d->nparts != 3) {
        return d->nparts == 5 ? "five parts: an encrypted JWE, not an "
                                "AuthOS access token"
                              : "not three dot-separated parts";
    }
    for (i = 0; i < 3; i++) {
        if (d->plen[i] == 0) {
            return i == 2 ? "empty signature (unsecured JWS)" : "empty part";
        }
        if (!d->decoded[i]) {
            return i == 0   ? "header is not strict base64url"
                   : i == 1 ? "payload is not strict base64url"
                            : "signature is not strict base64url";
        }
    }
    if (d->header == NULL) {
        return "header is not a JSON object without duplicate keys";
    }
    kid = json_object_get(d->header, "kid");
    if (!json_is_string(kid) || json_string_length(kid) == 0) {
        return "kid missing or not a non-empty string";
    }
    if (json_object_get(d->header, "typ") != NULL) {
        return "typ is not a string";
    }
    return NULL;
}

static const char *header_detail(apr_pool_t *p, authos_reason_t reason,
                                 const decoded_t *d, apr_size_t len)
{
    const char *s;

    switch (reason) {
    case AUTHOS_ERR_MALFORMED:
        return malformed_detail(d, len);
    case AUTHOS_ERR_ALGORITHM:
        s = authos_json_string(d->header, "alg");
        return s == NULL ? "alg missing or not a string"
                         : apr_psprintf(p,
                                        "alg \"%s\"; only RS256 is "
                                        "accepted",
                                        cli_printable(p, s));
    case AUTHOS_ERR_CRIT:
        return "crit header present: no extension is understood";
    case AUTHOS_ERR_TYPE:
        s = authos_json_string(d->header, "typ");
        return apr_psprintf(p,
                            "typ \"%s\"; accepted: authos-management+jwt, "
                            "at+jwt, JWT",
                            cli_printable(p, s != NULL ? s : ""));
    default:
        return NULL;
    }
}

const char *cli_header_detail(apr_pool_t *p, const char *token, apr_size_t len,
                              authos_reason_t reason)
{
    decoded_t d;

    decode(p, token, len <= AUTHOS_TOKEN_MAX ? len : 0, &d);
    return header_detail(p, reason, &d, len);
}

static void print_json(const char *label, const json_t *json)
{
    printf("%s:\n", label);
    /* ENSURE_ASCII: no byte of the token's JSON reaches the terminal
     * unescaped. */
    json_dumpf(json, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    putchar('\n');
}

static void print_times(apr_pool_t *p, const json_t *claims, long long now)
{
    static const char *const names[] = {"exp", "nbf", "iat"};
    apr_size_t i;
    double t;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (authos_json_number(claims, names[i], &t)) {
            printf("%s: %s\n", names[i], cli_time(p, t, now));
        }
    }
}

int cli_inspect(apr_pool_t *p, const cli_opts_t *o)
{
    authos_claim_rules_t rules;
    refusal_t refused[MAX_REFUSALS];
    authos_reason_t reason;
    authos_profile_t profile = AUTHOS_PROFILE_NONE;
    authos_jwt_t jwt;
    decoded_t d;
    const char *user, *detail, *typ;
    long long now = (long long)apr_time_sec(apr_time_now());
    int n = 0, i, prof;

    decode(p, o->token, o->token_len <= AUTHOS_TOKEN_MAX ? o->token_len : 0,
           &d);
    printf("NOT VERIFIED: decoded without checking the signature; nothing "
           "below is trusted.\n");
    if (d.header != NULL) {
        print_json("header", d.header);
    }
    else {
        printf("header: (not decodable)\n");
    }
    if (d.claims != NULL) {
        print_json("claims", d.claims);
        print_times(p, d.claims, now);
    }
    else {
        printf("claims: (not decodable)\n");
    }
    if (d.decoded[2]) {
        printf("signature: %lu bytes\n", (unsigned long)d.sig_len);
    }

    /* Steps 1 and 2: exactly the module's header checks. */
    reason = authos_jwt_parse(p, o->token, o->token_len, &jwt);
    if (reason != AUTHOS_OK) {
        refused[n].reason = reason;
        refused[n++].detail = header_detail(p, reason, &d, o->token_len);
    }
    else {
        profile = jwt.profile;
    }
    if (reason != AUTHOS_OK && d.header != NULL) {
        /* For the claim checks, the profile typ would name if accepted. */
        typ = authos_json_string(d.header, "typ");
        prof = typ != NULL ? authos_jwt_profile_of(typ) : AUTHOS_PROFILE_NONE;
        profile = prof >= 0 ? (authos_profile_t)prof : AUTHOS_PROFILE_NONE;
    }

    /* Step 5 without configuration: times, sub, token_use, mfa_required,
     * act. The issuer and audience depend on the server's settings. */
    if (d.claims != NULL) {
        memset(&rules, 0, sizeof(rules));
        rules.now = now;
        rules.skew = o->skew;
        rules.user_claim = "sub";
        reason = authos_claims_check(&rules, profile, d.claims, &user, &detail);
        if (reason != AUTHOS_OK) {
            refused[n].reason = reason;
            refused[n++].detail =
                cli_explain(p, reason, detail, d.claims, now, o);
        }
    }
    else if (n == 0) {
        refused[n].reason = AUTHOS_ERR_MALFORMED;
        refused[n++].detail = "payload is not a JSON object without "
                              "duplicate keys";
    }

    if (n == 0) {
        printf("structurally acceptable: nothing in the token refuses it; "
               "its signature, issuer and audience still need checking "
               "(authos-jwt verify)\n");
        return CLI_EXIT_OK;
    }
    for (i = 0; i < n; i++) {
        printf("%s: %s%s%s%s\n", i == 0 ? "refused" : "also refused",
               authos_reason_text(refused[i].reason),
               refused[i].detail != NULL ? " (" : "",
               refused[i].detail != NULL ? refused[i].detail : "",
               refused[i].detail != NULL ? ")" : "");
    }
    return CLI_EXIT_INVALID;
}

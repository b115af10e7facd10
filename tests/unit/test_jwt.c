/*
 * test_jwt.c: splitting a compact JWS and checking its protected header
 * (SPEC section 5, steps 1 and 2): the hostile-input catalogue of the
 * token parser.
 */
#include "unit_helpers.h"

#include "authos_jwt.h"

#define PAYLOAD "{\"sub\":\"u1\"}"
#define SIG "c2ln" /* base64url("sig") */
#define GOOD_HEADER "{\"alg\":\"RS256\",\"kid\":\"k1\"}"

static authos_reason_t parse(apr_pool_t *p, const char *token,
                             authos_jwt_t *jwt)
{
    return authos_jwt_parse(p, token, strlen(token), jwt);
}

/* Parse a token made of this header, a harmless payload and signature. */
static authos_reason_t parse_header(apr_pool_t *p, const char *header,
                                    authos_jwt_t *jwt)
{
    return parse(p, unit_token_raw(p, header, PAYLOAD, SIG), jwt);
}

/* A well-formed token of exactly total bytes: the signature part is
 * padded with 'A' (zero bits) and the header with spaces until the
 * padding length is a legal base64url length. */
static char *token_of_length(apr_pool_t *p, apr_size_t total)
{
    int spaces;

    for (spaces = 0; spaces < 4; spaces++) {
        char *hdr = apr_psprintf(p, "{\"alg\":\"RS256\",\"kid\":\"k1\"%*s}",
                                 spaces, "");
        char *prefix = apr_pstrcat(p, unit_b64url_str(p, hdr), ".",
                                   unit_b64url_str(p, PAYLOAD), ".", NULL);
        apr_size_t used = strlen(prefix), siglen;
        char *tok;

        if (used >= total) {
            continue;
        }
        siglen = total - used;
        if (siglen % 4 == 1) {
            continue;
        }
        tok = apr_palloc(p, total + 1);
        memcpy(tok, prefix, used);
        memset(tok + used, 'A', siglen);
        tok[total] = '\0';
        return tok;
    }
    fail_msg("cannot build a token of %lu bytes", (unsigned long)total);
    return NULL;
}

static void jwt_parses_a_good_token(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;
    char *hdr64 = unit_b64url_str(p, GOOD_HEADER);
    char *pl64 = unit_b64url_str(p, PAYLOAD);
    char *token = apr_pstrcat(p, hdr64, ".", pl64, ".", SIG, NULL);

    assert_int_equal(parse(p, token, &jwt), AUTHOS_OK);
    assert_string_equal(jwt.kid, "k1");
    assert_int_equal(jwt.profile, AUTHOS_PROFILE_NONE);
    /* The signing input is "header.payload" inside the token itself. */
    assert_ptr_equal(jwt.signing_input, token);
    assert_int_equal(jwt.signing_input_len, strlen(hdr64) + 1 + strlen(pl64));
    assert_int_equal(jwt.signature_len, 3);
    assert_memory_equal(jwt.signature, "sig", 3);
    assert_int_equal(jwt.payload_len, strlen(PAYLOAD));
    assert_string_equal((char *)jwt.payload, PAYLOAD);
    assert_non_null(jwt.header);
    assert_string_equal(json_string_value(json_object_get(jwt.header, "alg")),
                        "RS256");
}

static void jwt_accepts_token_of_exactly_max_length(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;
    char *token = token_of_length(p, AUTHOS_TOKEN_MAX);

    assert_int_equal(strlen(token), AUTHOS_TOKEN_MAX);
    assert_int_equal(parse(p, token, &jwt), AUTHOS_OK);
    assert_string_equal(jwt.kid, "k1");
}

static void jwt_rejects_token_longer_than_max(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;
    char *token = token_of_length(p, AUTHOS_TOKEN_MAX + 1);

    assert_int_equal(strlen(token), AUTHOS_TOKEN_MAX + 1);
    assert_int_equal(parse(p, token, &jwt), AUTHOS_ERR_MALFORMED);
}

static void jwt_rejects_empty_token(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;

    assert_int_equal(authos_jwt_parse(p, "", 0, &jwt), AUTHOS_ERR_MALFORMED);
}

static void jwt_rejects_wrong_number_of_parts(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;
    char *h = unit_b64url_str(p, GOOD_HEADER);
    char *pl = unit_b64url_str(p, PAYLOAD);

    /* One part, two parts, four parts, five parts (JWE shape). */
    assert_int_equal(parse(p, h, &jwt), AUTHOS_ERR_MALFORMED);
    assert_int_equal(parse(p, apr_pstrcat(p, h, ".", pl, NULL), &jwt),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(
        parse(p, apr_pstrcat(p, h, ".", pl, ".", SIG, ".", SIG, NULL), &jwt),
        AUTHOS_ERR_MALFORMED);
    assert_int_equal(parse(p,
                           apr_pstrcat(p, h, ".", pl, ".", SIG, ".", SIG, ".",
                                       SIG, NULL),
                           &jwt),
                     AUTHOS_ERR_MALFORMED);
    /* A trailing dot is a fourth, empty part. */
    assert_int_equal(
        parse(p, apr_pstrcat(p, h, ".", pl, ".", SIG, ".", NULL), &jwt),
        AUTHOS_ERR_MALFORMED);
}

static void jwt_rejects_empty_parts(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;
    char *h = unit_b64url_str(p, GOOD_HEADER);
    char *pl = unit_b64url_str(p, PAYLOAD);

    assert_int_equal(parse(p, "..", &jwt), AUTHOS_ERR_MALFORMED);
    assert_int_equal(parse(p, apr_pstrcat(p, ".", pl, ".", SIG, NULL), &jwt),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(parse(p, apr_pstrcat(p, h, "..", SIG, NULL), &jwt),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(parse(p, apr_pstrcat(p, h, ".", pl, ".", NULL), &jwt),
                     AUTHOS_ERR_MALFORMED);
}

static void jwt_rejects_bad_base64url_in_each_part(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;
    char *h = unit_b64url_str(p, GOOD_HEADER);
    char *pl = unit_b64url_str(p, PAYLOAD);
    static const char *const junk[] = {"=", "+", "/", " ", "%", "\t"};
    size_t i;

    /* The clean token parses: only the junk makes the difference. */
    assert_int_equal(parse(p, apr_pstrcat(p, h, ".", pl, ".", SIG, NULL),
                           &jwt),
                     AUTHOS_OK);
    for (i = 0; i < UNIT_NELTS(junk); i++) {
        /* Replacing the last character keeps each part's length. */
        char *bh = apr_pstrdup(p, h), *bp = apr_pstrdup(p, pl);
        char *bs = apr_pstrdup(p, SIG);

        bh[strlen(bh) - 1] = junk[i][0];
        bp[strlen(bp) - 1] = junk[i][0];
        bs[strlen(bs) - 1] = junk[i][0];
        assert_int_equal(
            parse(p, apr_pstrcat(p, bh, ".", pl, ".", SIG, NULL), &jwt),
            AUTHOS_ERR_MALFORMED);
        assert_int_equal(
            parse(p, apr_pstrcat(p, h, ".", bp, ".", SIG, NULL), &jwt),
            AUTHOS_ERR_MALFORMED);
        assert_int_equal(
            parse(p, apr_pstrcat(p, h, ".", pl, ".", bs, NULL), &jwt),
            AUTHOS_ERR_MALFORMED);
    }
    /* Padding appended to the signature, and a 1 mod 4 length. */
    assert_int_equal(parse(p, apr_pstrcat(p, h, ".", pl, ".c2lnZw==", NULL),
                           &jwt),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(parse(p, apr_pstrcat(p, h, ".", pl, ".c2lnZ", NULL),
                           &jwt),
                     AUTHOS_ERR_MALFORMED);
}

static void jwt_rejects_nul_inside_token(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;
    char *token = unit_token_raw(p, GOOD_HEADER, PAYLOAD, SIG);
    apr_size_t len = strlen(token);

    /* Length-explicit: a NUL within len is a character, and illegal. */
    token[len - 1] = '\0';
    assert_int_equal(authos_jwt_parse(p, token, len, &jwt),
                     AUTHOS_ERR_MALFORMED);
}

static void jwt_rejects_header_that_is_not_json(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;

    assert_int_equal(parse_header(p, "not json", &jwt), AUTHOS_ERR_MALFORMED);
    assert_int_equal(parse_header(p, "{\"alg\":\"RS256\",\"kid\":\"k1\"",
                                  &jwt),
                     AUTHOS_ERR_MALFORMED);
    /* Trailing data after the object. */
    assert_int_equal(parse_header(p, GOOD_HEADER " {}", &jwt),
                     AUTHOS_ERR_MALFORMED);
}

static void jwt_rejects_header_that_is_not_an_object(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;

    assert_int_equal(parse_header(p, "[" GOOD_HEADER "]", &jwt),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(parse_header(p, "\"RS256\"", &jwt), AUTHOS_ERR_MALFORMED);
    assert_int_equal(parse_header(p, "null", &jwt), AUTHOS_ERR_MALFORMED);
}

static void jwt_rejects_header_with_duplicate_keys(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;

    assert_int_equal(
        parse_header(p, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"kid\":\"k2\"}",
                     &jwt),
        AUTHOS_ERR_MALFORMED);
    /* The classic: a reader taking the first alg sees none, one taking
     * the last sees RS256. */
    assert_int_equal(
        parse_header(p, "{\"alg\":\"none\",\"kid\":\"k1\",\"alg\":\"RS256\"}",
                     &jwt),
        AUTHOS_ERR_MALFORMED);
}

static void jwt_rejects_header_with_nul_character(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;
    static const char raw[] = "{\"alg\":\"RS256\",\"kid\":\"k1\"}";
    char *token;

    /* An escaped NUL inside a string. */
    assert_int_equal(
        parse_header(p, "{\"alg\":\"RS256\",\"kid\":\"k1\\u0000x\"}", &jwt),
        AUTHOS_ERR_MALFORMED);
    /* A raw NUL byte after the object (sizeof includes it). */
    token = apr_pstrcat(p, unit_b64url(p, raw, sizeof(raw)), ".",
                        unit_b64url_str(p, PAYLOAD), ".", SIG, NULL);
    assert_int_equal(parse(p, token, &jwt), AUTHOS_ERR_MALFORMED);
}

static void jwt_rejects_alg_none(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;

    assert_int_equal(parse_header(p, "{\"alg\":\"none\",\"kid\":\"k1\"}", &jwt),
                     AUTHOS_ERR_ALGORITHM);
    assert_int_equal(parse_header(p, "{\"alg\":\"None\",\"kid\":\"k1\"}", &jwt),
                     AUTHOS_ERR_ALGORITHM);
    assert_int_equal(parse_header(p, "{\"alg\":\"NONE\",\"kid\":\"k1\"}", &jwt),
                     AUTHOS_ERR_ALGORITHM);
}

static void jwt_rejects_other_algorithms(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;
    static const char *const algs[] = {
        "\"HS256\"", "\"RS384\"", "\"RS512\"", "\"PS256\"", "\"ES256\"",
        "\"rs256\"", "\"RS256 \"", "\"\"", "256", "null", "[\"RS256\"]",
    };
    size_t i;

    for (i = 0; i < UNIT_NELTS(algs); i++) {
        char *hdr = apr_psprintf(p, "{\"alg\":%s,\"kid\":\"k1\"}", algs[i]);
        assert_int_equal(parse_header(p, hdr, &jwt), AUTHOS_ERR_ALGORITHM);
    }
}

static void jwt_rejects_missing_alg(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;

    assert_int_equal(parse_header(p, "{\"kid\":\"k1\"}", &jwt),
                     AUTHOS_ERR_ALGORITHM);
    assert_int_equal(parse_header(p, "{}", &jwt), AUTHOS_ERR_ALGORITHM);
}

static void jwt_rejects_missing_or_bad_kid(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;

    assert_int_equal(parse_header(p, "{\"alg\":\"RS256\"}", &jwt),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(parse_header(p, "{\"alg\":\"RS256\",\"kid\":\"\"}", &jwt),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(parse_header(p, "{\"alg\":\"RS256\",\"kid\":42}", &jwt),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(parse_header(p, "{\"alg\":\"RS256\",\"kid\":null}", &jwt),
                     AUTHOS_ERR_MALFORMED);
    assert_int_equal(
        parse_header(p, "{\"alg\":\"RS256\",\"kid\":[\"k1\"]}", &jwt),
        AUTHOS_ERR_MALFORMED);
}

static void jwt_rejects_crit(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;

    assert_int_equal(
        parse_header(p,
                     "{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[\"b64\"],"
                     "\"b64\":false}",
                     &jwt),
        AUTHOS_ERR_CRIT);
    /* Even an empty or ill-typed crit. */
    assert_int_equal(
        parse_header(p, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[]}",
                     &jwt),
        AUTHOS_ERR_CRIT);
    assert_int_equal(
        parse_header(p, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":null}",
                     &jwt),
        AUTHOS_ERR_CRIT);
}

static void jwt_checks_header_in_spec_order(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;

    /* SPEC section 5 step 2: alg, then kid, then crit, then typ. */
    assert_int_equal(
        parse_header(p, "{\"alg\":\"HS256\",\"crit\":[],\"typ\":\"x\"}", &jwt),
        AUTHOS_ERR_ALGORITHM);
    assert_int_equal(
        parse_header(p, "{\"alg\":\"RS256\",\"crit\":[],\"typ\":\"x\"}", &jwt),
        AUTHOS_ERR_MALFORMED);
    assert_int_equal(
        parse_header(p,
                     "{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[],"
                     "\"typ\":\"x\"}",
                     &jwt),
        AUTHOS_ERR_CRIT);
}

static void jwt_accepts_access_token_types(void **state)
{
    apr_pool_t *p = *state;
    static const struct {
        const char *typ;
        authos_profile_t profile;
    } ok[] = {
        {"authos-management+jwt", AUTHOS_PROFILE_MANAGEMENT},
        {"application/authos-management+jwt", AUTHOS_PROFILE_MANAGEMENT},
        {"AuthOS-Management+JWT", AUTHOS_PROFILE_MANAGEMENT},
        {"at+jwt", AUTHOS_PROFILE_RESOURCE},
        {"AT+JWT", AUTHOS_PROFILE_RESOURCE},
        {"application/at+jwt", AUTHOS_PROFILE_RESOURCE},
        {"Application/AT+JWT", AUTHOS_PROFILE_RESOURCE},
        {"JWT", AUTHOS_PROFILE_NONE},
        {"jwt", AUTHOS_PROFILE_NONE},
        {"application/jwt", AUTHOS_PROFILE_NONE},
    };
    size_t i;

    for (i = 0; i < UNIT_NELTS(ok); i++) {
        authos_jwt_t jwt;
        char *hdr = apr_psprintf(
            p, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"%s\"}", ok[i].typ);

        assert_int_equal(parse_header(p, hdr, &jwt), AUTHOS_OK);
        assert_int_equal(jwt.profile, ok[i].profile);
        assert_int_equal(authos_jwt_profile_of(ok[i].typ), ok[i].profile);
    }
}

static void jwt_accepts_absent_typ_as_no_profile(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;

    assert_int_equal(parse_header(p, GOOD_HEADER, &jwt), AUTHOS_OK);
    assert_int_equal(jwt.profile, AUTHOS_PROFILE_NONE);
}

static void jwt_rejects_refused_token_types(void **state)
{
    apr_pool_t *p = *state;
    static const char *const refused[] = {
        "authos-mfa-preauth+jwt",
        "application/authos-mfa-preauth+jwt",
        "authos-impersonation+jwt",
        "oauth-id-jag+jwt",
        "",
        "application/",
        "at+jwt ",
        "id_token+jwt",
        "JOSE",
    };
    size_t i;

    for (i = 0; i < UNIT_NELTS(refused); i++) {
        authos_jwt_t jwt;
        char *hdr = apr_psprintf(
            p, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"%s\"}",
            refused[i]);

        assert_int_equal(parse_header(p, hdr, &jwt), AUTHOS_ERR_TYPE);
        assert_int_equal(authos_jwt_profile_of(refused[i]), -1);
    }
}

static void jwt_rejects_non_string_typ(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;

    assert_int_equal(
        parse_header(p, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":1}", &jwt),
        AUTHOS_ERR_MALFORMED);
    assert_int_equal(
        parse_header(p, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":null}",
                     &jwt),
        AUTHOS_ERR_MALFORMED);
    assert_int_equal(
        parse_header(p, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":[\"JWT\"]}",
                     &jwt),
        AUTHOS_ERR_MALFORMED);
}

static void jwt_ignores_key_pointing_headers(void **state)
{
    apr_pool_t *p = *state;
    authos_jwt_t jwt;

    /* jku, x5u, jwk, x5c are never read (SPEC section 2): they neither
     * help nor hurt. */
    assert_int_equal(
        parse_header(p,
                     "{\"alg\":\"RS256\",\"kid\":\"k1\","
                     "\"jku\":\"https://evil.example/jwks.json\","
                     "\"x5u\":\"https://evil.example/cert.pem\","
                     "\"jwk\":{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
                     "\"x5c\":[\"MIIB\"]}",
                     &jwt),
        AUTHOS_OK);
    assert_string_equal(jwt.kid, "k1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_pool_test(jwt_parses_a_good_token),
        unit_pool_test(jwt_accepts_token_of_exactly_max_length),
        unit_pool_test(jwt_rejects_token_longer_than_max),
        unit_pool_test(jwt_rejects_empty_token),
        unit_pool_test(jwt_rejects_wrong_number_of_parts),
        unit_pool_test(jwt_rejects_empty_parts),
        unit_pool_test(jwt_rejects_bad_base64url_in_each_part),
        unit_pool_test(jwt_rejects_nul_inside_token),
        unit_pool_test(jwt_rejects_header_that_is_not_json),
        unit_pool_test(jwt_rejects_header_that_is_not_an_object),
        unit_pool_test(jwt_rejects_header_with_duplicate_keys),
        unit_pool_test(jwt_rejects_header_with_nul_character),
        unit_pool_test(jwt_rejects_alg_none),
        unit_pool_test(jwt_rejects_other_algorithms),
        unit_pool_test(jwt_rejects_missing_alg),
        unit_pool_test(jwt_rejects_missing_or_bad_kid),
        unit_pool_test(jwt_rejects_crit),
        unit_pool_test(jwt_checks_header_in_spec_order),
        unit_pool_test(jwt_accepts_access_token_types),
        unit_pool_test(jwt_accepts_absent_typ_as_no_profile),
        unit_pool_test(jwt_rejects_refused_token_types),
        unit_pool_test(jwt_rejects_non_string_typ),
        unit_pool_test(jwt_ignores_key_pointing_headers),
    };

    return cmocka_run_group_tests_name("jwt", tests, NULL, NULL);
}

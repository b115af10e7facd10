/*
 * fuzz_metadata.c: key-set discovery for AuthOSBaseURL (authos_keyfetch,
 * SPEC sections 4 and 8): the metadata documents, their jwks_uri and the
 * JWKS answer, over a fake transport that plays the input back.
 *
 * The metadata parser is static in src/authos_keyfetch.c, so the harness
 * drives the whole discovery chain. authos_http.c is compiled in here with
 * its authos_http_get renamed, so the real URL check stays and the fake
 * below takes the network's place (mk/fuzz.mk links every other core file).
 *
 * Input: answers separated by "\n##\n", one per request in order; the first
 * byte of each is its status ('2' 200, '4' 404, '1' 410, '5' 500, 'x' or
 * empty: no answer), the rest its body. Invariants:
 * - only URLs that pass authos_http_url_allowed (https only) are fetched,
 *   at most three per fetch (two metadata documents, then the JWKS);
 * - success means the last answer was a JWKS with a usable key (re-parsed
 *   here), fetched from an allowed jwks_uri; a failure says why.
 */
#define authos_http_get authos_http_get_not_in_this_harness
#include "authos_http.c"
#undef authos_http_get

#include "fuzz_common.h"

#include "authos_jwks.h"
#include "authos_keyfetch.h"

#define SEPARATOR "\n##\n"

static const char *input, *input_end;
static const char *last_body;
static int requests;

static apr_status_t release(void *data)
{
    free(data);
    return APR_SUCCESS;
}

/* The fake transport: the next answer of the input. */
apr_status_t authos_http_get(apr_pool_t *p, const char *url,
                             const authos_http_opts_t *opts,
                             apr_interval_time_t timeout, const char *bearer,
                             authos_http_result_t *res);

apr_status_t authos_http_get(apr_pool_t *p, const char *url,
                             const authos_http_opts_t *opts,
                             apr_interval_time_t timeout, const char *bearer,
                             authos_http_result_t *res)
{
    const char *end;
    apr_size_t len;
    char *body;

    (void)timeout;
    memset(res, 0, sizeof(*res));
    res->max_age = -1;
    requests++;
    FUZZ_CHECK(requests <= 3 && bearer == NULL);
    FUZZ_CHECK(authos_http_url_allowed(url, opts->allow_http));
    FUZZ_CHECK(strncasecmp(url, "https://", 8) == 0);
    end = input != NULL
              ? memmem(input, (size_t)(input_end - input), SEPARATOR, 4)
              : NULL;
    end = end != NULL ? end : input_end;
    if (input == NULL || end == input || *input == 'x') {
        res->error = "connection refused";
        return APR_EGENERAL;
    }
    res->status = *input == '4'   ? 404
                  : *input == '1' ? 410
                  : *input == '5' ? 500
                                  : 200;
    /* Exactly len + 1 bytes of heap, so ASan sees any read past the NUL. */
    len = (apr_size_t)(end - input - 1);
    body = malloc(len + 1);
    FUZZ_CHECK(body != NULL);
    memcpy(body, input + 1, len);
    body[len] = '\0';
    apr_pool_cleanup_register(p, body, release, apr_pool_cleanup_null);
    res->body = body;
    res->len = len;
    last_body = body;
    input = end == input_end ? NULL : end + 4;
    return APR_SUCCESS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    authos_http_opts_t opts = {apr_time_from_sec(5), NULL, 0};
    authos_keyfetch_t out;
    authos_jwks_t *set;
    const char *err;
    apr_status_t rv;

    input = (const char *)data;
    input_end = input + size;
    last_body = NULL;
    requests = 0;
    rv = authos_keyfetch(p, AUTHOS_SOURCE_BASE_URL, FUZZ_ISSUER, NULL, &opts,
                         &out);
    FUZZ_CHECK(requests >= 1);
    if (rv == APR_SUCCESS) {
        FUZZ_CHECK(out.error == NULL);
        FUZZ_CHECK(out.jwks != NULL && out.jwks == last_body);
        FUZZ_CHECK(out.jwks_uri != NULL
                   && authos_http_url_allowed(out.jwks_uri, 0));
        set = authos_jwks_parse(p, out.jwks, out.len, &err);
        FUZZ_CHECK(set != NULL && set->keys->nelts == out.nkeys);
        FUZZ_CHECK(out.nkeys >= 1);
    }
    else {
        FUZZ_CHECK(out.error != NULL);
        FUZZ_CHECK(out.nkeys == 0);
    }
    apr_pool_destroy(p);
    return 0;
}

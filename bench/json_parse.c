/*
 * json_parse.c: the JSON reader of a cache miss, timed in one process
 * (make bench-json): authos_json_parse_object against jansson's
 * json_loadb(JSON_REJECT_DUPLICATES), which it replaced, on the payload and
 * header of a token as AuthOS issues it, with a few permissions.
 *
 *   build/bench/json_parse [ROUNDS [PARSES]]     (defaults 5, 200000)
 *
 * Each round times PARSES parses with each reader, alternating, and prints
 * the microseconds per parse; the last line gives the medians. Both readers
 * must agree on every input (json_equal) or it exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <jansson.h>

#include "authos_json.h"

static const char *const inputs[] = {
    "{\"sub\":\"user-123\",\"email\":\"alice@example.com\","
    "\"is_platform_owner\":false,\"iss\":\"https://auth.example.com\","
    "\"aud\":\"service:acme/billing\",\"iat\":1795468166,\"exp\":1795471766,"
    "\"jti\":\"2dd2bef844754825bfad9adf79aa40de\","
    "\"token_use\":\"management_access\",\"org\":\"acme\","
    "\"service\":\"billing\",\"permissions\":[\"billing.read\","
    "\"billing.manage\",\"invoices.read\"]}",
    "{\"alg\":\"RS256\",\"typ\":\"authos-management+jwt\","
    "\"kid\":\"key-2026-11\"}",
};

#define NINPUTS (sizeof(inputs) / sizeof(inputs[0]))

static double now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Microseconds per parse of every input, PARSES times over. */
static double time_reader(apr_pool_t *p, int ours, long parses)
{
    double start = now_us();
    long i;
    size_t k;

    for (i = 0; i < parses; i++) {
        for (k = 0; k < NINPUTS; k++) {
            json_error_t err;
            json_t *j = ours ? authos_json_parse_object(p, inputs[k],
                                                        strlen(inputs[k]))
                             : json_loadb(inputs[k], strlen(inputs[k]),
                                          JSON_REJECT_DUPLICATES, &err);

            if (j == NULL) {
                fprintf(stderr, "json_parse: input %zu refused\n", k);
                exit(1);
            }
            json_decref(j);
        }
    }
    return (now_us() - start) / (double)parses;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5, r;
    long parses = argc > 2 ? atol(argv[2]) : 200000;
    double *theirs, *ours;
    apr_pool_t *p;
    size_t k;

    if (rounds < 1 || parses < 1 || apr_initialize() != APR_SUCCESS
        || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        fprintf(stderr, "usage: json_parse [ROUNDS [PARSES]]\n");
        return 2;
    }
    for (k = 0; k < NINPUTS; k++) {
        json_error_t err;
        json_t *a = authos_json_parse_object(p, inputs[k], strlen(inputs[k]));
        json_t *b = json_loadb(inputs[k], strlen(inputs[k]),
                               JSON_REJECT_DUPLICATES, &err);

        if (a == NULL || b == NULL || !json_equal(a, b)) {
            fprintf(stderr, "json_parse: the readers disagree on input %zu\n", k);
            return 1;
        }
        json_decref(a);
        json_decref(b);
    }
    theirs = calloc((size_t)rounds, sizeof(double));
    ours = calloc((size_t)rounds, sizeof(double));
    if (theirs == NULL || ours == NULL) {
        return 2;
    }
    printf("payload (%zu bytes) + header (%zu bytes), %ld parses per round\n",
           strlen(inputs[0]), strlen(inputs[1]), parses);
    for (r = 0; r < rounds; r++) {
        theirs[r] = time_reader(p, 0, parses);
        ours[r] = time_reader(p, 1, parses);
        printf("round %d: json_loadb %.2f us, authos_json_parse_object %.2f us\n",
               r + 1, theirs[r], ours[r]);
    }
    qsort(theirs, (size_t)rounds, sizeof(double), cmp);
    qsort(ours, (size_t)rounds, sizeof(double), cmp);
    printf("median: json_loadb %.2f us, authos_json_parse_object %.2f us "
           "(%.1fx faster)\n", theirs[rounds / 2], ours[rounds / 2],
           theirs[rounds / 2] / ours[rounds / 2]);
    free(theirs);
    free(ours);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}

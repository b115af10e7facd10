/*
 * authos_json.h: strict JSON loading with jansson, owned by an APR pool.
 */
#ifndef AUTHOS_JSON_H
#define AUTHOS_JSON_H

#include <apr_pools.h>
#include <jansson.h>

/* Parse exactly len bytes as one JSON object, refusing duplicate keys
 * (RFC 7515 section 5.2 lets us) and NUL characters. The object is released
 * when p is cleared. NULL when the text is not a single JSON object. */
json_t *authos_json_object(apr_pool_t *p, const char *buf, apr_size_t len);

/* Tie a reference to p: json_decref runs when p is cleared. */
json_t *authos_json_pool_own(apr_pool_t *p, json_t *json);

/* The string member key of obj, or NULL when absent or not a string. */
const char *authos_json_string(const json_t *obj, const char *key);

/* 1 if the claim is a JSON number (integer or real), storing it in *out. */
int authos_json_number(const json_t *obj, const char *key, double *out);

#endif

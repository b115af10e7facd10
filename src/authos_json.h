/*
 * authos_json.h: strict JSON loading into jansson values, owned by an APR
 * pool.
 */
#ifndef AUTHOS_JSON_H
#define AUTHOS_JSON_H

#include <apr_pools.h>
#include <jansson.h>

/* Parse exactly len bytes as one JSON object (RFC 8259), refusing what
 * jansson's json_loadb(JSON_REJECT_DUPLICATES) refuses: duplicate member
 * names (RFC 7515 section 5.2 lets us), \u0000, lone surrogates, invalid
 * UTF-8, integers beyond long long, reals that overflow, nesting deeper
 * than JSON_PARSER_MAX_DEPTH, anything after the object. The object is
 * released when p is cleared. NULL when the text is not a single JSON
 * object. */
json_t *authos_json_object(apr_pool_t *p, const char *buf, apr_size_t len);

/* The same parse, the caller owning the result (json_decref); scratch
 * holds copies of long escaped strings and numbers. */
json_t *authos_json_parse_object(apr_pool_t *scratch, const char *buf,
                                 apr_size_t len);

/* Tie a reference to p: json_decref runs when p is cleared. */
json_t *authos_json_pool_own(apr_pool_t *p, json_t *json);

/* The string member key of obj, or NULL when absent or not a string. */
const char *authos_json_string(const json_t *obj, const char *key);

/* 1 if the claim is a JSON number (integer or real), storing it in *out. */
int authos_json_number(const json_t *obj, const char *key, double *out);

#endif

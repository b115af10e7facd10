/*
 * authos_json.c: strict JSON loading with jansson, owned by an APR pool.
 */
#include "authos_json.h"

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *authos_json_pool_own(apr_pool_t *p, json_t *json)
{
    if (json != NULL) {
        apr_pool_cleanup_register(p, json, json_cleanup,
                                  apr_pool_cleanup_null);
    }
    return json;
}

json_t *authos_json_object(apr_pool_t *p, const char *buf, apr_size_t len)
{
    json_error_t err;
    json_t *json;

    /* JSON_REJECT_DUPLICATES: a payload with two "sub" members must not
     * mean one thing to us and another to the application. Without
     * JSON_DISABLE_EOF_CHECK trailing garbage is refused; without
     * JSON_ALLOW_NUL a \u0000 in a string is refused. */
    json = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    if (json == NULL) {
        return NULL;
    }
    if (!json_is_object(json)) {
        json_decref(json);
        return NULL;
    }
    return authos_json_pool_own(p, json);
}

const char *authos_json_string(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int authos_json_number(const json_t *obj, const char *key, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v)) {
        return 0;
    }
    *out = json_number_value(v);
    return 1;
}

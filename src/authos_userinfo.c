/*
 * authos_userinfo.c: GET {base}/api/user and its answer; POST
 * {base}/api/auth/logout.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "authos_json.h"
#include "authos_userinfo.h"

const char *authos_userinfo_permissions(apr_pool_t *p, const char *body,
                                        apr_size_t len)
{
    json_t *obj = authos_json_object(p, body, len);
    json_t *perms, *out, *el;
    apr_size_t i;
    char *text;
    const char *copy;

    if (obj == NULL) {
        return NULL;
    }
    perms = json_object_get(obj, "permissions");
    if (perms == NULL) {
        return "[]";
    }
    if (!json_is_array(perms)) {
        return NULL;
    }
    out = authos_json_pool_own(p, json_array());
    json_array_foreach(perms, i, el) {
        if (json_is_string(el)) {
            json_array_append(out, el);
        }
    }
    text = json_dumps(out, JSON_COMPACT);
    if (text == NULL) {
        return NULL;
    }
    copy = apr_pstrdup(p, text);
    free(text);
    return copy;
}

json_t *authos_userinfo_array(apr_pool_t *p, const char *text,
                              apr_size_t len)
{
    json_error_t err;
    json_t *a = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);

    if (a == NULL) {
        return NULL;
    }
    if (!json_is_array(a)) {
        json_decref(a);
        return NULL;
    }
    return authos_json_pool_own(p, a);
}

authos_userinfo_status_t authos_userinfo_fetch(apr_pool_t *p,
                                               const char *base,
                                               const char *token,
                                               const authos_http_opts_t *opts,
                                               authos_userinfo_t *out)
{
    authos_http_result_t res;

    memset(out, 0, sizeof(*out));
    if (authos_http_get(p, apr_pstrcat(p, base, "/api/user", NULL), opts,
                        opts->timeout, token, &res)
        != APR_SUCCESS) {
        out->error = res.error;
        return AUTHOS_USERINFO_FAILED;
    }
    out->http_status = res.status;
    if (res.status == 401) {
        return AUTHOS_USERINFO_REVOKED;
    }
    if (res.status != 200) {
        out->error = apr_psprintf(p, "/api/user answered HTTP %ld",
                                  res.status);
        return AUTHOS_USERINFO_FAILED;
    }
    out->permissions = authos_userinfo_permissions(p, res.body, res.len);
    if (out->permissions == NULL) {
        out->error = "/api/user answer is not a JSON object with a "
                     "permissions array";
        return AUTHOS_USERINFO_FAILED;
    }
    return AUTHOS_USERINFO_OK;
}

int authos_userinfo_logout(apr_pool_t *p, const char *base, const char *token,
                           const authos_http_opts_t *opts, const char **error)
{
    authos_http_result_t res;

    *error = NULL;
    if (authos_http_post(p, apr_pstrcat(p, base, "/api/auth/logout", NULL),
                         opts, token, &res)
        != APR_SUCCESS) {
        *error = res.error;
        return 0;
    }
    if (res.status < 200 || res.status > 299) {
        *error = apr_psprintf(p, "answered HTTP %ld", res.status);
        return 0;
    }
    return 1;
}

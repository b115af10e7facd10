/*
 * shm.c: shared-memory segments with a global mutex.
 */
#include <string.h>

#include "apr_strings.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "util_mutex.h"

#include "authos_module.h"
#include "shm.h"

APLOG_USE_MODULE(auth_authos);

apr_status_t authos_segment_register(authos_segment_t *seg, apr_pool_t *pconf)
{
    seg->shm = NULL;
    seg->base = NULL;
    seg->size = 0;
    seg->mutex = NULL;
    seg->mutex_file = NULL;
    seg->attached = 0;
    return ap_mutex_register(pconf, seg->name, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t segment_cleanup(void *data)
{
    authos_segment_t *seg = data;

    if (seg->shm != NULL) {
        apr_shm_destroy(seg->shm);
    }
    seg->shm = NULL;
    seg->base = NULL;
    seg->mutex = NULL;
    seg->attached = 0;
    return APR_SUCCESS;
}

int authos_segment_create(authos_segment_t *seg, apr_size_t size,
                          apr_pool_t *pconf, server_rec *s)
{
    apr_status_t rv;

    /* Anonymous shared memory first (inherited over fork); a named
     * segment only where the platform lacks it. */
    rv = apr_shm_create(&seg->shm, size, NULL, pconf);
    if (rv == APR_ENOTIMPL) {
        const char *fname = ap_runtime_dir_relative(
            pconf, apr_pstrcat(pconf, seg->name, ".shm", NULL));
        apr_shm_remove(fname, pconf);
        rv = apr_shm_create(&seg->shm, size, fname, pconf);
    }
    if (rv != APR_SUCCESS) {
        seg->shm = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, AUTHOS_LOGNO(0060)
                     "cannot create the %s shared memory (%" APR_SIZE_T_FMT
                     " bytes)", seg->what, size);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, seg, segment_cleanup,
                              apr_pool_cleanup_null);
    seg->base = apr_shm_baseaddr_get(seg->shm);
    seg->size = size;
    memset(seg->base, 0, size);
    rv = ap_global_mutex_create(&seg->mutex, &seg->mutex_file, seg->name,
                                NULL, s, pconf, 0);
    if (rv != APR_SUCCESS) {
        seg->mutex = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, AUTHOS_LOGNO(0061)
                     "cannot create the %s mutex", seg->what);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* The parent (and a single-process server) may lock it at once. */
    seg->attached = 1;
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, AUTHOS_LOGNO(0063)
                 "shared memory for the %s: %" APR_SIZE_T_FMT " bytes",
                 seg->what, size);
    return OK;
}

void authos_segment_child_init(authos_segment_t *seg, apr_pool_t *pchild,
                               server_rec *s)
{
    apr_status_t rv;

    if (seg->mutex == NULL) {
        return;
    }
    rv = apr_global_mutex_child_init(&seg->mutex, seg->mutex_file, pchild);
    if (rv != APR_SUCCESS) {
        seg->attached = 0;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, AUTHOS_LOGNO(0062)
                     "cannot attach to the %s mutex in this process",
                     seg->what);
    }
}

apr_status_t authos_segment_lock(authos_segment_t *seg)
{
    if (seg->mutex == NULL || !seg->attached) {
        return APR_ENOLOCK;
    }
    return apr_global_mutex_lock(seg->mutex);
}

void authos_segment_unlock(authos_segment_t *seg)
{
    apr_global_mutex_unlock(seg->mutex);
}

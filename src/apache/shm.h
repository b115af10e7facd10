/*
 * shm.h: a shared-memory segment with its global mutex, the httpd way
 * (mod_socache_shmcb): the mutex type registered in pre_config, the
 * segment (anonymous first) and mutex created in the real post_config,
 * the mutex reattached in child_init.
 */
#ifndef AUTHOS_SHM_H
#define AUTHOS_SHM_H

#include "apr_global_mutex.h"
#include "apr_shm.h"
#include "httpd.h"

typedef struct {
    const char *name;       /* mutex type and file stem, e.g. "authos-keys" */
    const char *what;       /* for messages, e.g. "key set" */
    apr_shm_t *shm;
    void *base;             /* NULL until created */
    apr_size_t size;
    apr_global_mutex_t *mutex;
    const char *mutex_file;
    int attached;           /* this process may lock the mutex */
} authos_segment_t;

/* pre_config: forget the previous generation's segment, register the
 * mutex type (so the Mutex directive can configure it). */
apr_status_t authos_segment_register(authos_segment_t *seg, apr_pool_t *pconf);

/* post_config (parent): create a zeroed segment of size bytes and its
 * mutex, both released with pconf. OK or HTTP_INTERNAL_SERVER_ERROR (with
 * the reason logged). */
int authos_segment_create(authos_segment_t *seg, apr_size_t size,
                          apr_pool_t *pconf, server_rec *s);

/* child_init: reattach the mutex in this process. */
void authos_segment_child_init(authos_segment_t *seg, apr_pool_t *pchild,
                               server_rec *s);

/* Lock and unlock; a failed lock is logged against s (or r's server by
 * the caller) and returns the APR status. */
apr_status_t authos_segment_lock(authos_segment_t *seg);
void authos_segment_unlock(authos_segment_t *seg);

#endif

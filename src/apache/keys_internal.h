/*
 * keys_internal.h: what keys.c (the cache) and refresh.c (fetching)
 * share. Not for other glue files: they use keys.h.
 */
#ifndef AUTHOS_KEYS_INTERNAL_H
#define AUTHOS_KEYS_INTERNAL_H

#include "httpd.h"

#include "authos_keyslot.h"
#include "config.h"
#include "shm.h"

/* The key-set segment (one slot per trust source). */
extern authos_segment_t authos_keys_segment;

/* Slot i of the segment, or NULL. */
authos_keyslot_t *authos_keys_slot(unsigned i);

/* Number of slots (trust sources) of this configuration. */
unsigned authos_keys_nslots(void);

/* Request path: fetch when the slot needs it. A missing key set is
 * fetched (or waited for) in the request; a due one is refreshed in the
 * background while the request goes on with the cached keys; an unknown
 * kid causes one throttled synchronous refetch. Returns 1 when the key
 * set may have changed (worth looking again). */
int authos_refresh_for_request(request_rec *r, const authos_dir_conf_t *conf,
                               const char *unknown_kid);

/* How long a kid that a fetch did not bring is refused without another
 * fetch. */
apr_interval_time_t authos_unknown_kid_window(const authos_key_policy_t *pol);

/* post_config: with mod_watchdog loaded, refresh ahead of expiry from a
 * watchdog thread in one child process. */
void authos_refresh_watchdog(apr_pool_t *pconf, server_rec *s);

#endif

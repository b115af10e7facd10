/*
 * authos_uicache.c: shared /api/user answer cache (set-associative).
 */
#include <string.h>

#include "authos_sha256.h"

#include "authos_uicache.h"

#define ALIGN64(n) (((n) + 63) & ~(apr_size_t)63)
#define HEADER_SIZE ALIGN64(sizeof(authos_ui_header_t))
#define ENTRY_SIZE ALIGN64(sizeof(authos_ui_entry_t))

apr_size_t authos_ui_size(unsigned nentries)
{
    unsigned nsets = (nentries + AUTHOS_UI_WAYS - 1) / AUTHOS_UI_WAYS;

    if (nsets == 0) {
        nsets = 1;
    }
    return HEADER_SIZE + (apr_size_t)nsets * AUTHOS_UI_WAYS * ENTRY_SIZE;
}

int authos_ui_init(void *base, apr_size_t size, unsigned nentries)
{
    authos_ui_header_t *h = base;
    unsigned nsets = (nentries + AUTHOS_UI_WAYS - 1) / AUTHOS_UI_WAYS;

    if (nsets == 0) {
        nsets = 1;
    }
    if (size < authos_ui_size(nentries)) {
        return 0;
    }
    memset(base, 0, authos_ui_size(nentries));
    h->magic = AUTHOS_UI_MAGIC;
    h->version = AUTHOS_UI_VERSION;
    h->nsets = nsets;
    h->entry_size = (apr_uint32_t)ENTRY_SIZE;
    return 1;
}

void authos_ui_key(const char *token, apr_size_t len,
                   unsigned char key[AUTHOS_UI_KEY_LEN])
{
    authos_sha256(token, len, key);
}

static authos_ui_entry_t *set_of(void *base, const unsigned char *key)
{
    authos_ui_header_t *h = base;
    apr_uint32_t i;

    if (h == NULL || h->magic != AUTHOS_UI_MAGIC
        || h->version != AUTHOS_UI_VERSION || h->nsets == 0) {
        return NULL;
    }
    memcpy(&i, key, sizeof(i));
    return (authos_ui_entry_t *)((char *)base + HEADER_SIZE
                                 + (apr_size_t)(i % h->nsets)
                                       * AUTHOS_UI_WAYS * h->entry_size);
}

static authos_ui_entry_t *way(void *base, authos_ui_entry_t *set, int w)
{
    authos_ui_header_t *h = base;
    return (authos_ui_entry_t *)((char *)set + (apr_size_t)w * h->entry_size);
}

static authos_ui_entry_t *find(void *base, const unsigned char *key)
{
    authos_ui_entry_t *set = set_of(base, key), *e;
    int w;

    if (set == NULL) {
        return NULL;
    }
    for (w = 0; w < AUTHOS_UI_WAYS; w++) {
        e = way(base, set, w);
        if (e->state != AUTHOS_UI_EMPTY
            && memcmp(e->key, key, AUTHOS_UI_KEY_LEN) == 0) {
            return e;
        }
    }
    return NULL;
}

/* The entry to reuse in key's set: an empty one, else an expired answer,
 * else the answer that expires first. Pending entries of other tokens are
 * left alone while they are young. */
static authos_ui_entry_t *victim(void *base, const unsigned char *key,
                                 apr_time_t now,
                                 apr_interval_time_t pending_limit)
{
    authos_ui_entry_t *set = set_of(base, key), *e, *best = NULL;
    int w;

    for (w = 0; w < AUTHOS_UI_WAYS; w++) {
        e = way(base, set, w);
        if (e->state == AUTHOS_UI_EMPTY) {
            return e;
        }
        if (e->state == AUTHOS_UI_PENDING) {
            if (now - e->since >= pending_limit) {
                return e;
            }
            continue;
        }
        if (e->expires <= now) {
            return e;
        }
        if (best == NULL || e->expires < best->expires) {
            best = e;
        }
    }
    return best;
}

authos_ui_decision_t authos_ui_begin(void *base,
                                     const unsigned char *key,
                                     apr_time_t now,
                                     apr_interval_time_t pending_limit,
                                     authos_ui_entry_t *out)
{
    authos_ui_header_t *h = base;
    authos_ui_entry_t *e;

    if (set_of(base, key) == NULL) {
        /* Not a laid-out region: ask AuthOS, write nothing here. */
        return AUTHOS_UI_FETCH;
    }
    e = find(base, key);
    if (e != NULL) {
        if ((e->state == AUTHOS_UI_READY || e->state == AUTHOS_UI_REVOKED)
            && now < e->expires) {
            memcpy(out, e, sizeof(*out));
            h->hits++;
            return AUTHOS_UI_HIT;
        }
        if (e->state == AUTHOS_UI_PENDING && now - e->since < pending_limit) {
            return AUTHOS_UI_WAIT;
        }
    }
    else {
        e = victim(base, key, now, pending_limit);
        if (e == NULL) {
            /* Every entry of the set is being fetched right now: ask
             * AuthOS without caching rather than wait on strangers. */
            h->calls++;
            return AUTHOS_UI_FETCH;
        }
    }
    memcpy(e->key, key, AUTHOS_UI_KEY_LEN);
    e->state = AUTHOS_UI_PENDING;
    e->since = now;
    e->expires = 0;
    e->len = 0;
    h->calls++;
    return AUTHOS_UI_FETCH;
}

int authos_ui_store(void *base, const unsigned char *key, apr_time_t now,
                    apr_interval_time_t ttl, authos_ui_state_t state,
                    const char *data, apr_size_t len)
{
    authos_ui_entry_t *e = find(base, key);

    if (e == NULL) {
        return 0;
    }
    if (len >= sizeof(e->data)) {
        memset(e, 0, sizeof(*e));
        return 0;
    }
    memcpy(e->data, data, len);
    e->data[len] = '\0';
    e->len = (apr_uint32_t)len;
    e->state = state;
    e->since = now;
    e->expires = now + ttl;
    return 1;
}

void authos_ui_abandon(void *base, const unsigned char *key)
{
    authos_ui_entry_t *e = find(base, key);

    if (e != NULL && e->state == AUTHOS_UI_PENDING) {
        memset(e, 0, sizeof(*e));
    }
}

/*
 * authos_tokcache.c: per-process verified-token cache.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "authos_sha256.h"
#include "authos_tokcache.h"

#define WAYS 4
#define STRIPES 64
/* Payloads above this are verified every time rather than cached. */
#define PAYLOAD_MAX 8192

typedef struct {
    unsigned char key[AUTHOS_TOKCACHE_KEY_LEN];
    int used;
    unsigned source;
    char kid[AUTHOS_TOKCACHE_KID_MAX];
    apr_uint64_t key_fp;
    apr_uint64_t generation;
    int profile;
    double exp;
    apr_uint64_t last_use; /* the stripe's clock at its last put or hit */
    char *payload; /* malloc'd */
    apr_size_t len;
    json_t *claims; /* one reference, shared read-only with requests */
} slot_t;

struct authos_tokcache {
    unsigned nsets;
    slot_t *slots;                      /* nsets * WAYS */
    apr_thread_mutex_t *lock[STRIPES];  /* set i uses lock[i % STRIPES] */
    /* Per stripe, guarded by its lock: ticks once per put or hit in its
     * sets, so last_use orders the ways of one set by recency. */
    apr_uint64_t clock[STRIPES];
};

static apr_status_t cache_cleanup(void *data)
{
    authos_tokcache_t *c = data;
    unsigned i;

    for (i = 0; i < c->nsets * WAYS; i++) {
        free(c->slots[i].payload);
        c->slots[i].payload = NULL;
        json_decref(c->slots[i].claims);
        c->slots[i].claims = NULL;
    }
    free(c->slots);
    c->slots = NULL;
    return APR_SUCCESS;
}

authos_tokcache_t *authos_tokcache_create(apr_pool_t *p, unsigned capacity)
{
    authos_tokcache_t *c;
    int i;

    if (capacity == 0) {
        return NULL;
    }
    c = apr_pcalloc(p, sizeof(*c));
    c->nsets = (capacity + WAYS - 1) / WAYS;
    c->slots = calloc((apr_size_t)c->nsets * WAYS, sizeof(slot_t));
    if (c->slots == NULL) {
        return NULL;
    }
    for (i = 0; i < STRIPES; i++) {
        apr_thread_mutex_create(&c->lock[i], APR_THREAD_MUTEX_DEFAULT, p);
    }
    apr_pool_cleanup_register(p, c, cache_cleanup, apr_pool_cleanup_null);
    return c;
}

unsigned authos_tokcache_capacity(const authos_tokcache_t *c)
{
    return c != NULL ? c->nsets * WAYS : 0;
}

void authos_tokcache_key(const char *token, apr_size_t len,
                         unsigned char key[AUTHOS_TOKCACHE_KEY_LEN])
{
    authos_sha256(token, len, key);
}

static unsigned set_index(const authos_tokcache_t *c, const unsigned char *key)
{
    apr_uint32_t v;

    memcpy(&v, key, sizeof(v));
    return v % c->nsets;
}

/* The slot holding (key, source) in its set, or NULL. Lock held. */
static slot_t *find(authos_tokcache_t *c, unsigned set,
                    const unsigned char *key, unsigned source)
{
    slot_t *s = &c->slots[(apr_size_t)set * WAYS];
    int w;

    for (w = 0; w < WAYS; w++) {
        if (s[w].used && s[w].source == source
            && memcmp(s[w].key, key, AUTHOS_TOKCACHE_KEY_LEN) == 0) {
            return &s[w];
        }
    }
    return NULL;
}

int authos_tokcache_get(authos_tokcache_t *c, const unsigned char *key,
                        unsigned source, double now, apr_pool_t *p,
                        authos_tokcache_entry_t *out)
{
    unsigned set;
    slot_t *s;
    int hit = 0;

    if (c == NULL) {
        return 0;
    }
    set = set_index(c, key);
    apr_thread_mutex_lock(c->lock[set % STRIPES]);
    s = find(c, set, key, source);
    if (s != NULL && now <= s->exp) {
        s->last_use = ++c->clock[set % STRIPES];
        out->source = s->source;
        out->kid = apr_pstrdup(p, s->kid);
        out->key_fp = s->key_fp;
        out->generation = s->generation;
        out->profile = s->profile;
        out->exp = s->exp;
        out->payload = apr_pstrmemdup(p, s->payload, s->len);
        out->len = s->len;
        out->claims = json_incref(s->claims);
        hit = 1;
    }
    apr_thread_mutex_unlock(c->lock[set % STRIPES]);
    return hit;
}

static slot_t *victim(authos_tokcache_t *c, unsigned set, double now)
{
    slot_t *s = &c->slots[(apr_size_t)set * WAYS], *best = NULL;
    int w;

    /* An empty way first, even when an earlier way has expired: an entry
     * past exp at the put's now may still be served for skew seconds
     * (get is asked at now - skew). */
    for (w = 0; w < WAYS; w++) {
        if (!s[w].used) {
            return &s[w];
        }
    }
    /* Then one past exp, else the least recently used: a token in use
     * stays, whatever its exp, while one-off tokens come and go. */
    for (w = 0; w < WAYS; w++) {
        if (now > s[w].exp) {
            return &s[w];
        }
        if (best == NULL || s[w].last_use < best->last_use) {
            best = &s[w];
        }
    }
    return best;
}

void authos_tokcache_put(authos_tokcache_t *c, const unsigned char *key,
                         const authos_tokcache_entry_t *e, double now)
{
    unsigned set;
    slot_t *s;
    char *copy;

    if (c == NULL || e->len > PAYLOAD_MAX
        || strlen(e->kid) >= AUTHOS_TOKCACHE_KID_MAX) {
        return;
    }
    copy = malloc(e->len + 1);
    if (copy == NULL) {
        return;
    }
    memcpy(copy, e->payload, e->len);
    copy[e->len] = '\0';
    set = set_index(c, key);
    apr_thread_mutex_lock(c->lock[set % STRIPES]);
    s = find(c, set, key, e->source);
    if (s == NULL) {
        s = victim(c, set, now);
    }
    free(s->payload);
    json_decref(s->claims);
    memcpy(s->key, key, AUTHOS_TOKCACHE_KEY_LEN);
    s->used = 1;
    s->source = e->source;
    apr_cpystrn(s->kid, e->kid, sizeof(s->kid));
    s->key_fp = e->key_fp;
    s->generation = e->generation;
    s->profile = e->profile;
    s->exp = e->exp;
    s->last_use = ++c->clock[set % STRIPES];
    s->payload = copy;
    s->len = e->len;
    s->claims = json_incref(e->claims);
    apr_thread_mutex_unlock(c->lock[set % STRIPES]);
}

void authos_tokcache_touch(authos_tokcache_t *c, const unsigned char *key,
                           unsigned source, apr_uint64_t generation)
{
    unsigned set;
    slot_t *s;

    if (c == NULL) {
        return;
    }
    set = set_index(c, key);
    apr_thread_mutex_lock(c->lock[set % STRIPES]);
    s = find(c, set, key, source);
    if (s != NULL) {
        s->generation = generation;
    }
    apr_thread_mutex_unlock(c->lock[set % STRIPES]);
}

void authos_tokcache_drop(authos_tokcache_t *c, const unsigned char *key,
                          unsigned source)
{
    unsigned set;
    slot_t *s;

    if (c == NULL) {
        return;
    }
    set = set_index(c, key);
    apr_thread_mutex_lock(c->lock[set % STRIPES]);
    s = find(c, set, key, source);
    if (s != NULL) {
        free(s->payload);
        json_decref(s->claims);
        memset(s, 0, sizeof(*s));
    }
    apr_thread_mutex_unlock(c->lock[set % STRIPES]);
}

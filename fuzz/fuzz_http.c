/*
 * fuzz_http.c: what authos_http_get does with an answer before anyone
 * parses it: the Cache-Control max-age parser (on_header, which caps
 * AuthOSJWKSRefresh, SPEC section 4) and the body sink with its 64 KiB cap
 * (on_body, SPEC section 8). Both are static in src/authos_http.c, so it
 * is compiled into the harness (mk/fuzz.mk links every other core file).
 *
 * The input is a header line as libcurl hands it over (not NUL-terminated),
 * then the body: the input again, in chunks of data[0] + 1 bytes, repeated
 * data[1] + 1 times (up to 256 copies, so the 64 KiB cap is reached).
 * Invariants:
 * - max-age stays -1 unless the line is a Cache-Control line shorter than
 *   512 bytes that holds "max-age"; it is never below -1;
 * - stored with a key set as the module stores it (authos_keyslot_store,
 *   AuthOSJWKSRefresh 600 s), the key set is usable at once and due for
 *   refresh no later than 600 s and no earlier than max-age allows;
 * - the sink keeps every byte in order, NUL-terminated, up to the cap;
 *   past it the transfer is aborted (a short return) and flagged.
 */
#include "authos_http.c"

#include "fuzz_common.h"

#include "authos_keyslot.h"

/* What the module does with a fetch's max-age (src/apache/refresh.c). */
static void check_lifetime(long max_age)
{
    static void *region = NULL;
    const authos_key_policy_t pol = {apr_time_from_sec(600),
                                     apr_time_from_sec(10),
                                     apr_time_from_sec(86400),
                                     apr_time_from_sec(5)};
    const apr_time_t now = apr_time_from_sec(FUZZ_NOW);
    authos_keyslot_t *s;

    if (region == NULL) {
        region = malloc(authos_shm_size(1));
        FUZZ_CHECK(region != NULL);
        FUZZ_CHECK(authos_shm_init(region, authos_shm_size(1), 1));
    }
    s = authos_shm_slot(region, 0);
    FUZZ_CHECK(authos_keyslot_store(s, now, &pol, "{}", 2, 1, NULL, max_age));
    FUZZ_CHECK(authos_keyslot_usable(s, now, &pol));
    FUZZ_CHECK(s->refresh_at >= now && s->refresh_at <= now + pol.refresh);
    if (max_age >= 0 && max_age < 600) {
        FUZZ_CHECK(s->refresh_at == now + apr_time_from_sec(max_age));
    }
}

static void check_header(const uint8_t *data, size_t size)
{
    char *line = malloc(size ? size : 1);
    char *lower;
    sink_t s;
    size_t i;

    FUZZ_CHECK(line != NULL);
    memcpy(line, data, size);
    memset(&s, 0, sizeof(s));
    s.max_age = -1;
    FUZZ_CHECK(on_header(line, 1, size, &s) == size);
    FUZZ_CHECK(s.max_age >= -1);
    check_lifetime(s.max_age);
    if (s.max_age >= 0) {
        FUZZ_CHECK(size >= 14 && size < 512);
        FUZZ_CHECK(strncasecmp(line, "cache-control:", 14) == 0);
        lower = calloc(1, size + 1);
        FUZZ_CHECK(lower != NULL);
        for (i = 0; i < size; i++) {
            lower[i] = (char)tolower((unsigned char)line[i]);
        }
        FUZZ_CHECK(memmem(lower, size, "max-age", 7) != NULL);
        free(lower);
    }
    free(line);
}

static void check_body(apr_pool_t *p, const uint8_t *data, size_t size)
{
    size_t chunk = size > 0 ? (size_t)data[0] + 1 : 1;
    size_t copies = size > 1 ? (size_t)data[1] + 1 : 1;
    size_t c, off, n, total = 0, ret;
    sink_t s;

    memset(&s, 0, sizeof(s));
    s.p = p;
    s.max_age = -1;
    for (c = 0; c < copies && !s.too_big; c++) {
        for (off = 0; off < size && !s.too_big; off += n) {
            n = size - off < chunk ? size - off : chunk;
            ret = on_body((char *)data + off, 1, n, &s);
            if (s.too_big) {
                FUZZ_CHECK(ret == 0 && total + n > AUTHOS_HTTP_MAX_BODY);
                break;
            }
            FUZZ_CHECK(ret == n);
            FUZZ_CHECK(memcmp(s.buf + total, data + off, n) == 0);
            total += n;
        }
    }
    FUZZ_CHECK(s.len == total && total <= AUTHOS_HTTP_MAX_BODY);
    FUZZ_CHECK(s.too_big || total == size * copies);
    if (total > 0) {
        FUZZ_CHECK(s.buf[s.len] == '\0' && s.len < s.cap);
        FUZZ_CHECK(memcmp(s.buf, data, total < size ? total : size) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();

    check_header(data, size);
    check_body(p, data, size);
    apr_pool_destroy(p);
    return 0;
}

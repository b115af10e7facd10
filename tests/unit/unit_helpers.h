/*
 * unit_helpers.h: shared fixtures for the cmocka unit tests of src/.
 *
 * Everything here is static inline so a test file that does not use a
 * helper compiles without unused-function warnings (-Werror). The helpers
 * build tokens and key sets with OpenSSL and plain string formatting, not
 * with the code under test, so a bug in src/ cannot hide itself.
 */
#ifndef UNIT_HELPERS_H
#define UNIT_HELPERS_H

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

/* How many elements a static array has. */
#define UNIT_NELTS(a) (sizeof(a) / sizeof((a)[0]))

/* The issuer and clock the claim and token tests agree on, and a valid
 * management token's payload as AuthOS issues it (iat 10 s before
 * UNIT_NOW, exp an hour after). */
#define UNIT_NOW 1700000000LL
#define UNIT_ISSUER "https://auth.example.com"
#define UNIT_CLAIMS                                                           \
    "{\"sub\":\"u1\",\"email\":\"u1@example.com\","                           \
    "\"is_platform_owner\":false,\"iss\":\"" UNIT_ISSUER "\","                \
    "\"aud\":\"platform\",\"exp\":1700003600,\"iat\":1699999990,"             \
    "\"jti\":\"j1\",\"token_use\":\"management_access\"}"

/* Initializer of the authos_claim_rules_t those tokens pass: UNIT_ISSUER,
 * one of audiences (an array of const char *), UNIT_NOW give or take skew
 * seconds, REMOTE_USER from sub. */
#define UNIT_CLAIM_RULES(audiences_, skew_)                                   \
    {                                                                         \
        .issuer = UNIT_ISSUER, .audiences = (audiences_), .now = UNIT_NOW,    \
        .skew = (skew_), .user_claim = "sub"                                  \
    }

/* apr_initialize once per test binary; apr_terminate at exit so valgrind
 * sees APR's global pool released. */
static inline void unit_apr_init(void)
{
    static int done = 0;

    if (!done) {
        if (apr_initialize() != APR_SUCCESS) {
            abort();
        }
        atexit(apr_terminate);
        done = 1;
    }
}

/* Per-test fixture: *state is a fresh pool, destroyed after the test (so
 * every json_t and EVP_PKEY the core bound to it is released too). */
static inline int unit_pool_setup(void **state)
{
    apr_pool_t *p = NULL;

    unit_apr_init();
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return -1;
    }
    *state = p;
    return 0;
}

static inline int unit_pool_teardown(void **state)
{
    apr_pool_destroy((apr_pool_t *)*state);
    *state = NULL;
    return 0;
}

/* Shorthand for a test using the pool fixture. */
#define unit_pool_test(f)                                                     \
    cmocka_unit_test_setup_teardown(f, unit_pool_setup, unit_pool_teardown)

/* A zeroed fixture struct of size bytes in a fresh pool, for a setup to
 * fill in. Its first member must be that pool (apr_pool_t *p), so that
 * unit_pool_fixture_teardown finds it; NULL when the pool fails. */
static inline void *unit_pool_fixture(apr_size_t size)
{
    apr_pool_t *p = NULL;
    apr_pool_t **f;

    if (unit_pool_setup((void **)&p) != 0) {
        return NULL;
    }
    f = apr_pcalloc(p, size);
    *f = p;
    return f;
}

static inline int unit_pool_fixture_teardown(void **state)
{
    void *p = *(apr_pool_t **)*state;

    *state = NULL;
    return unit_pool_teardown(&p);
}

/* A region on the heap standing in for a shared memory segment. A
 * fixture that needs more makes a unit_region_t its first member. */
typedef struct {
    void *base;
    apr_size_t size;
} unit_region_t;

/* A zeroed fixture struct of fixture_size bytes whose region has size
 * bytes of 0xa5 (so an init that skips a byte shows), or NULL. */
static inline void *unit_region_new(size_t fixture_size, apr_size_t size)
{
    unit_region_t *r = calloc(1, fixture_size);

    if (r == NULL) {
        return NULL;
    }
    r->base = malloc(size);
    if (r->base == NULL) {
        free(r);
        return NULL;
    }
    r->size = size;
    memset(r->base, 0xa5, size);
    return r;
}

static inline void unit_region_free(void *fixture)
{
    unit_region_t *r = fixture;

    if (r != NULL) {
        free(r->base);
        free(r);
    }
}

static inline int unit_region_teardown(void **state)
{
    unit_region_free(*state);
    *state = NULL;
    return 0;
}

/* An anonymous MAP_SHARED region, so what a forked child writes there the
 * parent sees; munmap it when done. */
static inline void *unit_shared_map(apr_size_t size)
{
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    assert_true(base != MAP_FAILED);
    return base;
}

/* Runs child(arg) in a forked process and asserts that it exited with 0.
 * child must not use cmocka asserts: it returns a non-zero code that says
 * what went wrong. */
static inline void unit_run_in_child(int (*child)(void *), void *arg)
{
    pid_t pid = fork();
    int status = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(child(arg));
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* base64url without padding (RFC 4648 section 5), independent of
 * authos_b64url_encode: OpenSSL's base64, then the URL-safe alphabet. */
static inline char *unit_b64url(apr_pool_t *p, const void *data,
                                apr_size_t len)
{
    char *out = apr_palloc(p, 4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    int i;

    while (n > 0 && out[n - 1] == '=') {
        n--;
    }
    out[n] = '\0';
    for (i = 0; i < n; i++) {
        if (out[i] == '+') {
            out[i] = '-';
        }
        else if (out[i] == '/') {
            out[i] = '_';
        }
    }
    return out;
}

static inline char *unit_b64url_str(apr_pool_t *p, const char *s)
{
    return unit_b64url(p, s, strlen(s));
}

/* "b64(header).b64(payload).sig_b64": a token whose signature part is
 * given verbatim (for parse tests that never verify). */
static inline char *unit_token_raw(apr_pool_t *p, const char *header,
                                   const char *payload, const char *sig_b64)
{
    return apr_pstrcat(p, unit_b64url_str(p, header), ".",
                       unit_b64url_str(p, payload), ".", sig_b64, NULL);
}

/* A fresh RSA key pair; the caller frees it with EVP_PKEY_free. */
static inline EVP_PKEY *unit_rsa_key(unsigned bits)
{
    EVP_PKEY *key = EVP_RSA_gen(bits);

    if (key == NULL) {
        abort();
    }
    return key;
}

/* RSASSA-PKCS1-v1_5 SHA-256 signature of msg, base64url. */
static inline char *unit_rs256_sign_b64(apr_pool_t *p, EVP_PKEY *key,
                                        const char *msg, apr_size_t len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *sig;
    size_t siglen = 0;
    char *out;

    if (md == NULL
        || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL)
               != 1
        || EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)msg, len)
               != 1) {
        abort();
    }
    sig = apr_palloc(p, siglen);
    if (EVP_DigestSign(md, sig, &siglen, (const unsigned char *)msg, len)
        != 1) {
        abort();
    }
    EVP_MD_CTX_free(md);
    out = unit_b64url(p, sig, siglen);
    return out;
}

/* A compact RS256 JWS over the header and payload JSON texts (taken as
 * bytes, so they may be deliberately malformed), signed with key. */
static inline char *unit_token(apr_pool_t *p, const char *header,
                               const char *payload, EVP_PKEY *key)
{
    char *input = apr_pstrcat(p, unit_b64url_str(p, header), ".",
                              unit_b64url_str(p, payload), NULL);

    return apr_pstrcat(p, input, ".",
                       unit_rs256_sign_b64(p, key, input, strlen(input)),
                       NULL);
}

/* A compact HS256 JWS with secret as the HMAC key (the classic algorithm
 * confusion attack when secret is the issuer's public key). */
static inline char *unit_hs256_token(apr_pool_t *p, const char *header,
                                     const char *payload, const void *secret,
                                     apr_size_t secret_len)
{
    char *input = apr_pstrcat(p, unit_b64url_str(p, header), ".",
                              unit_b64url_str(p, payload), NULL);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    if (HMAC(EVP_sha256(), secret, (int)secret_len,
             (const unsigned char *)input, strlen(input), mac, &maclen)
        == NULL) {
        abort();
    }
    return apr_pstrcat(p, input, ".", unit_b64url(p, mac, maclen), NULL);
}

/* The SubjectPublicKeyInfo PEM of key, as a pool string. */
static inline char *unit_public_pem(apr_pool_t *p, EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;
    char *out;

    if (bio == NULL || PEM_write_bio_PUBKEY(bio, key) != 1) {
        abort();
    }
    n = BIO_get_mem_data(bio, &data);
    out = apr_pstrmemdup(p, data, (apr_size_t)n);
    BIO_free(bio);
    return out;
}

/* One RSA parameter (OSSL_PKEY_PARAM_RSA_N or _E), base64url big-endian
 * without leading zero octets (RFC 7518 section 6.3.1). */
static inline char *unit_rsa_param_b64(apr_pool_t *p, EVP_PKEY *key,
                                       const char *name)
{
    BIGNUM *bn = NULL;
    unsigned char *buf;
    int len;

    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
        abort();
    }
    buf = apr_palloc(p, (apr_size_t)BN_num_bytes(bn) + 1);
    len = BN_bn2bin(bn, buf);
    BN_free(bn);
    return unit_b64url(p, buf, (apr_size_t)len);
}

/* One RSA JWK member as JSON text. kid, use and alg are left out when
 * NULL. */
static inline char *unit_jwk(apr_pool_t *p, EVP_PKEY *key, const char *kid,
                             const char *use, const char *alg)
{
    return apr_pstrcat(
        p, "{\"kty\":\"RSA\"",
        kid ? apr_psprintf(p, ",\"kid\":\"%s\"", kid) : "",
        use ? apr_psprintf(p, ",\"use\":\"%s\"", use) : "",
        alg ? apr_psprintf(p, ",\"alg\":\"%s\"", alg) : "",
        ",\"n\":\"", unit_rsa_param_b64(p, key, OSSL_PKEY_PARAM_RSA_N),
        "\",\"e\":\"", unit_rsa_param_b64(p, key, OSSL_PKEY_PARAM_RSA_E),
        "\"}", NULL);
}

/* A JWK Set holding one RSA key. */
static inline char *unit_jwks(apr_pool_t *p, EVP_PKEY *key, const char *kid,
                              const char *use, const char *alg)
{
    return apr_pstrcat(p, "{\"keys\":[", unit_jwk(p, key, kid, use, alg),
                       "]}", NULL);
}

#endif

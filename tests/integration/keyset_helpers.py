"""Helpers shared by the key-set test files (test_050_keys, test_070_resilience):
the protected server snippet, requests, waiting and concurrency."""

import concurrent.futures
import threading
import time

import requests

AUD = "service:acme/billing"
# The protected path of the key-set tests' servers.
PROTECTED = "/protected/hello.txt"


def protected_conf(source, extra=""):
    """A server snippet: the trust source lines, then directives, then /protected."""
    return """
%s
AuthOSAllowHTTP On
AuthOSAudience %s
%s
<Location /protected>
    AuthType authos
    AuthName billing
    Require valid-user
</Location>
""" % (source, AUD, extra)


def get(server, token, path=PROTECTED, **kwargs):
    return server.get(path, token=token, **kwargs)


def ok(server, token, path=PROTECTED):
    r = get(server, token, path)
    assert r.status_code == 200, (r.status_code, r.headers.get("WWW-Authenticate"))
    return r


def parallel(server, tokens, connections=8, path=PROTECTED):
    """GET path once per token over `connections` keep-alive connections at once.
    Returns the responses in token order."""
    chunks = [list(range(i, len(tokens), connections)) for i in range(connections)]
    results = [None] * len(tokens)
    barrier = threading.Barrier(connections)

    def worker(indexes):
        with requests.Session() as session:
            barrier.wait(10)
            for i in indexes:
                results[i] = session.get(server.url(path), timeout=30,
                                         headers={"Authorization": "Bearer " + tokens[i]})

    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        for future in [pool.submit(worker, c) for c in chunks]:
            future.result()
    return results


def sleep_until(deadline):
    delay = deadline - time.time()
    if delay > 0:
        time.sleep(delay)


def wait_until(predicate, timeout, interval=0.02):
    """Poll predicate until it is true or timeout seconds have passed; its last value."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() >= deadline:
            return value
        time.sleep(interval)

#!/usr/bin/python3
"""Write the fuzzers' fixed key set and seed corpora (run from anywhere):

    /usr/bin/python3 fuzz/make_seeds.py

fuzz/keys/jwks.json   two fresh RSA-2048 public keys (kids FUZZ_KID_1/2);
                      the private keys live only while this script runs, so
                      the key set and the signed seeds are regenerated together
fuzz/corpus/<target>/ small, named seeds: valid AuthOS tokens, one per refusal
                      case of SPEC section 5, RFC 7517 and AuthOS key sets,
                      /api/user answers, metadata exchanges, Cache-Control lines,
                      sign-in forms, state cookies, Accept headers, return
                      paths and URLs (browser)

The constants below must match fuzz/fuzz_common.h (issuer, audiences, now).
Valid tokens are made with PyJWT (an independent encoder); hostile ones are
signed by hand over arbitrary header/payload bytes.
"""

import base64
import hashlib
import hmac
import json
import os
import sys

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

FUZZ = os.path.dirname(os.path.abspath(__file__))
ISSUER = "https://sso.fuzz.example"
AUD = "service:acme/billing"
NOW = 1700000000
KID1, KID2 = "fuzz-k1", "fuzz-k2"
# RFC 7517 appendix A.1: the example public keys, verbatim.
RFC7517_A1 = """{"keys":
       [
         {"kty":"EC",
          "crv":"P-256",
          "x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
          "y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
          "use":"enc",
          "kid":"1"},

         {"kty":"RSA",
          "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
          "e":"AQAB",
          "alg":"RS256",
          "kid":"2011-04-29"}
       ]
     }
"""


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def int_b64(value):
    return b64(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def jwk(pub, kid, **extra):
    nums = pub.public_numbers()
    key = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
           "n": int_b64(nums.n), "e": int_b64(nums.e)}
    key.update(extra)
    return {k: v for k, v in key.items() if v is not None}


def fake_modulus(bits):
    """An odd number of exactly `bits` bits: a key only to the parser."""
    n = int.from_bytes(os.urandom((bits + 7) // 8), "big")
    return (n & ((1 << bits) - 1)) | (1 << (bits - 1)) | 1


def sign_raw(header, payload, key):
    """RS256 over arbitrary header/payload text (duplicates, bad JSON...)."""
    si = b64(header) + "." + b64(payload)
    sig = key.sign(si.encode(), padding.PKCS1v15(), hashes.SHA256())
    return si + "." + b64(sig)


def claims(**over):
    c = {"sub": "u-42", "email": "u42@acme.example", "is_platform_owner": False,
         "iss": ISSUER, "aud": AUD, "exp": NOW + 3600, "iat": NOW - 10,
         "jti": "j-1", "token_use": "management_access", "org": "acme"}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def header(**over):
    h = {"alg": "RS256", "typ": "authos-management+jwt", "kid": KID1}
    h.update(over)
    return {k: v for k, v in h.items() if v is not None}


def write(target, name, data):
    d = os.path.join(FUZZ, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    if target in ("claims", "userinfo", "jwks"):   # JSON the reader sees
        write("json", "from-%s-%s" % (target, name), data)


def token_seeds(k1, k2, other):
    """(name, token) pairs: valid tokens, then one per refusal of SPEC 5."""
    def pyjwt(key, hdr, cl):
        return jwt.encode(cl, key, algorithm="RS256", headers=hdr)

    def raw(h, p, key=k1):
        return sign_raw(h if isinstance(h, str) else compact(h),
                        p if isinstance(p, str) else compact(p), key)

    rs = claims(token_use="external_resource_access", scope="read",
                aud=["https://api.acme.example", AUD])
    pub_pem = k1.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_input = b64(compact(header(alg="HS256"))) + "." + b64(compact(claims()))
    hs = hs_input + "." + b64(hmac.new(pub_pem, hs_input.encode(),
                                       hashlib.sha256).digest())
    good = raw(header(), claims())
    head, pay, sig = good.split(".")
    return [
        ("valid-management", pyjwt(k1, {"typ": "authos-management+jwt",
                                         "kid": KID1}, claims())),
        ("valid-at-jwt-k2", pyjwt(k2, {"typ": "at+jwt", "kid": KID2}, rs)),
        ("valid-typ-JWT-old", raw(header(typ="JWT"), claims(token_use=None))),
        ("valid-no-typ", raw(header(typ=None), claims())),
        ("valid-application-typ", raw(header(typ="application/AT+JWT", kid=KID2),
                                      rs, k2)),
        ("valid-mfa-required-false", raw(header(), claims(mfa_required=False))),
        ("valid-jku-ignored", raw(header(jku="https://evil.example/jwks"),
                                  claims())),
        ("refuse-alg-none-unsecured", b64(compact(header(alg="none"))) + "."
         + b64(compact(claims())) + "."),
        ("refuse-alg-none", b64(compact(header(alg="none"))) + "."
         + b64(compact(claims())) + "." + sig),
        ("refuse-alg-hs256-key-confusion", hs),
        ("refuse-alg-rs512", raw(header(alg="RS512"), claims())),
        ("refuse-no-kid", raw(header(kid=None), claims())),
        ("refuse-empty-kid", raw(header(kid=""), claims())),
        ("refuse-kid-number", raw(header(kid=7), claims())),
        ("refuse-crit", raw(header(crit=["exp"]), claims())),
        ("refuse-typ-mfa-preauth", raw(header(typ="authos-mfa-preauth+jwt"),
                                       claims(token_use="mfa_preauth"))),
        ("refuse-typ-impersonation", raw(header(typ="authos-impersonation+jwt"),
                                         claims())),
        ("refuse-typ-id-jag", raw(header(typ="oauth-id-jag+jwt"), claims())),
        ("refuse-typ-empty", raw(header(typ=""), claims())),
        ("refuse-header-duplicate-kid", raw('{"alg":"RS256","kid":"%s",'
                                            '"kid":"%s"}' % (KID1, KID2),
                                            claims())),
        ("refuse-unknown-kid", raw(header(kid="rotated-away"), claims())),
        ("refuse-no-keyset-kid", raw(header(kid="fuzz-nokeyset"), claims())),
        ("refuse-bad-signature", raw(header(), claims(), other)),
        ("refuse-embedded-jwk", raw(header(jwk=jwk(other.public_key(), KID1)),
                                    claims(), other)),
        ("refuse-signature-flipped", head + "." + pay + "." + sig[:-2] + "A"
         + sig[-1]),
        ("refuse-expired", raw(header(), claims(exp=NOW - 31))),
        ("refuse-not-yet-valid", raw(header(), claims(nbf=NOW + 31))),
        ("refuse-iat-future", raw(header(), claims(iat=NOW + 31))),
        ("refuse-exp-string", raw(header(), claims(exp=str(NOW + 3600)))),
        ("refuse-no-exp", raw(header(), claims(exp=None))),
        ("refuse-wrong-issuer", raw(header(), claims(iss=ISSUER + "/"))),
        ("refuse-wrong-audience", raw(header(), claims(aud="org:other"))),
        ("refuse-no-sub", raw(header(), claims(sub=None))),
        ("refuse-empty-sub", raw(header(), claims(sub=""))),
        ("refuse-token-use-mismatch", raw(header(typ="at+jwt"), claims())),
        ("refuse-token-use-mfa", raw(header(typ="JWT"),
                                     claims(token_use="mfa_preauth"))),
        ("refuse-mfa-required", raw(header(), claims(mfa_required=True))),
        ("refuse-act", raw(header(), claims(act={"sub": "admin"}))),
        ("refuse-payload-duplicate-sub", raw(header(), compact(claims())[:-1]
                                             + ',"sub":"root"}')),
        ("refuse-payload-array", raw(header(), "[1,2,3]")),
        ("refuse-payload-trailing", raw(header(), compact(claims()) + "x")),
        ("refuse-padding", head + "=." + pay + "." + sig),
        ("refuse-std-alphabet", head + "." + pay + "." + sig.replace("-", "+")),
        ("refuse-whitespace", head + ". " + pay + "." + sig),
        ("refuse-two-parts", head + "." + pay),
        ("refuse-four-parts", good + ".e30"),
        ("refuse-jwe-five-parts", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ"
         ".a.b.c.d"),
        ("refuse-empty-payload", head + ".." + sig),
        ("refuse-len-mod4-1", head + "." + pay + "." + sig + "A" * (
            (1 - len(sig)) % 4 or 4)),
        ("refuse-trailing-bits", head[:-1] + "x." + pay + "." + sig),
        ("refuse-over-16k", raw(header(), claims(pad="p" * 12300))),
    ]


def json_seeds():
    """The JSON reader against jansson's: every rule at its edge."""
    deep = 2047
    for name, text in [
            ("payload", compact(claims(permissions=["billing.read", "billing.manage"]))),
            ("empty-object", "{}"), ("spaces", ' \t\r\n{ "a" : [ 1 , 2 ] }\n '),
            ("not-object", "[1]"), ("scalar", "1"), ("empty", ""),
            ("duplicate", '{"a":1,"a":2}'), ("duplicate-escaped", '{"a":1,"\\u0061":2}'),
            ("nested-duplicate", '{"a":{"b":1,"b":1}}'),
            ("trailing-comma", '{"a":1,}'), ("trailing-text", '{} x'), ("two-objects", "{}{}"),
            ("escapes", '{"s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC"}'),
            ("surrogate-pair", '{"s":"\\ud83d\\ude00"}'), ("lone-high", '{"s":"\\ud83d"}'),
            ("lone-low", '{"s":"\\ude00x"}'), ("high-high", '{"s":"\\ud83d\\ud83d"}'),
            ("nul-escape", '{"s":"a\\u0000b"}'), ("nul-key", '{"\\u0000":1}'),
            ("bad-escape", '{"s":"\\x41"}'), ("short-unicode", '{"s":"\\u12"}'),
            ("control", '{"s":"a\tb"}'), ("del", '{"s":"a\x7fb"}'),
            ("utf8", '{"s":"\u00e9\u20ac\U0001f600"}'),
            ("utf8-overlong", b'{"s":"\xc0\xaf"}'), ("utf8-surrogate", b'{"s":"\xed\xa0\x80"}'),
            ("utf8-too-big", b'{"s":"\xf4\x90\x80\x80"}'), ("utf8-truncated", b'{"s":"\xe2\x82"}'),
            ("utf8-outside", b'{"s":1}\xc3\xa9'), ("raw-nul", b'{"s":"a\x00b"}'),
            ("bom", b'\xef\xbb\xbf{}'),
            ("numbers", '{"a":0,"b":-0,"c":1.5,"d":-2e10,"e":1E+2,"f":3e-400,"g":9223372036854775807,'
                        '"h":-9223372036854775808}'),
            ("int-overflow", '{"a":9223372036854775808}'), ("int-underflow", '{"a":-9223372036854775809}'),
            ("int-20-digits", '{"a":10000000000000000000}'), ("real-overflow", '{"a":1e309}'),
            ("real-long", '{"a":0.' + "1" * 200 + '}'), ("leading-zero", '{"a":01}'),
            ("plus", '{"a":+1}'), ("dot", '{"a":1.}'), ("exp-empty", '{"a":1e}'), ("minus", '{"a":-}'),
            ("nan", '{"a":NaN}'), ("literals", '{"t":true,"f":false,"n":null}'),
            ("literal-glued", '{"t":truex}'), ("literal-digit", '{"t":[true1]}'),
            ("literal-case", '{"t":True}'), ("comment", '{/*x*/}'), ("single-quotes", "{'a':1}"),
            ("bare-key", "{a:1}"), ("long-escaped", '{"s":"' + "\\n" * 300 + '"}'),
            ("depth-max", '{"a":' + "[" * (deep - 1) + "1" + "]" * (deep - 1) + "}"),
            ("depth-over", '{"a":' + "[" * deep + "1" + "]" * deep + "}"),
            ("depth-max-empty", '{"a":' + "[" * deep + "]" * deep + "}")]:
        write("json", name, text)


def clear_generated():
    """Remove the generated seeds; regression-* files (inputs a fuzz run found,
    kept by hand) stay."""
    corpus = os.path.join(FUZZ, "corpus")
    for target in (os.listdir(corpus) if os.path.isdir(corpus) else []):
        folder = os.path.join(corpus, target)
        for name in os.listdir(folder):
            if not name.startswith("regression-"):
                os.remove(os.path.join(folder, name))


def main():
    clear_generated()
    k1, k2, other = (rsa.generate_private_key(65537, 2048) for _ in range(3))
    keyset = {"keys": [jwk(k1.public_key(), KID1), jwk(k2.public_key(), KID2)]}
    os.makedirs(os.path.join(FUZZ, "keys"), exist_ok=True)
    with open(os.path.join(FUZZ, "keys", "jwks.json"), "w") as f:
        f.write(json.dumps(keyset, indent=1) + "\n")

    json_seeds()
    tokens = token_seeds(k1, k2, other)
    for name, tok in tokens:
        write("token", name, tok)
        # The header rules (SPEC 5 step 2) see the same structures.
        if not name.startswith("refuse-") or "typ" in name or "kid" in name \
                or "alg" in name or "crit" in name or "part" in name:
            write("jwt", name, tok)

    # b64url: every remainder, each refused character, trailing bits.
    for name, text in [("empty", ""), ("rem0", "QUJD"), ("rem2", "QQ"),
                       ("rem3", "QUI"), ("rem1", "QUJDR"), ("padding", "QQ=="),
                       ("plus-slash", "+/+/"), ("dash-underscore", "-_-_"),
                       ("trailing-bits", "QR"), ("whitespace", "QU JD"),
                       ("nul", "QU\0D"), ("header", tokens[0][1].split(".")[0]),
                       ("signature", tokens[0][1].split(".")[2])]:
        write("b64url", name, text)

    n_other = int_b64(other.public_key().public_numbers().n)
    jwks_seeds = {
        "fuzz-keyset": keyset,
        "authos-rotation-11": {"keys": [jwk(k.public_key(), "k%d" % i)
                                        for i, k in enumerate([k1, k2, other] * 4)][:11]},
        "no-alg-no-use": {"keys": [jwk(k1.public_key(), "a", alg=None, use=None)]},
        "use-enc-skipped": {"keys": [jwk(k1.public_key(), "a", use="enc"),
                                     jwk(k2.public_key(), "b")]},
        "alg-rs512-skipped": {"keys": [jwk(k1.public_key(), "a", alg="RS512"),
                                       jwk(k2.public_key(), "b")]},
        "duplicate-kid": {"keys": [jwk(k1.public_key(), "a"), jwk(k2.public_key(), "a")]},
        "no-kid": {"keys": [jwk(k1.public_key(), None)]},
        "empty-kid": {"keys": [jwk(k1.public_key(), "")]},
        "kid-number": {"keys": [jwk(k1.public_key(), 5)]},
        "rsa-1024-refused": {"keys": [dict(jwk(k1.public_key(), "a"),
                                           n=int_b64(fake_modulus(1024)))]},
        "rsa-8192": {"keys": [dict(jwk(k1.public_key(), "a"),
                                   n=int_b64(fake_modulus(8192)))]},
        "rsa-8200-refused": {"keys": [dict(jwk(k1.public_key(), "a"),
                                           n=int_b64(fake_modulus(8200)))]},
        "leading-zero-n": {"keys": [dict(jwk(k1.public_key(), "a"),
                                         n=b64(b"\0" + base64.urlsafe_b64decode(
                                             n_other + "=" * (-len(n_other) % 4))))]},
        "e-one": {"keys": [dict(jwk(k1.public_key(), "a"), e="AQ")]},
        "e-even": {"keys": [dict(jwk(k1.public_key(), "a"), e="AQAA")]},
        "e-long": {"keys": [dict(jwk(k1.public_key(), "a"), e="AQAAAAAAAAAB")]},
        "n-padding": {"keys": [dict(jwk(k1.public_key(), "a"), n=n_other + "=")]},
        "kty-oct": {"keys": [{"kty": "oct", "kid": "o", "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T"}]},
        "keys-empty": {"keys": []},
        "keys-object": {"keys": {"kty": "RSA"}},
    }
    for name, obj in jwks_seeds.items():
        write("jwks", name, compact(obj))
    write("jwks", "rfc7517-a1", RFC7517_A1)
    write("jwks", "not-object", "[]")
    write("jwks", "duplicate-keys-member", '{"keys":[],"keys":[]}')

    for name, obj in [("valid", claims()), ("valid-resource", claims(
            token_use="external_resource_access", aud=[AUD, "platform"])),
            ("valid-real-times", claims(exp=NOW + 0.5, nbf=NOW - 0.5)),
            ("valid-slugs", claims(org=None, org_slug="acme", service_slug="billing",
                                   permissions=["read", "write"], level=3)),
            ("expired", claims(exp=NOW - 31)), ("nbf", claims(nbf=NOW + 31)),
            ("iat", claims(iat=NOW + 31)), ("exp-null", claims(exp=None)),
            ("iss", claims(iss="https://evil.example")),
            ("aud-array-miss", claims(aud=["a", 1, None])),
            ("sub-number", claims(sub=42)), ("token-use", claims(token_use="x")),
            ("mfa", claims(mfa_required=True)), ("mfa-string", claims(mfa_required="false")),
            ("act", claims(act={"sub": "x"})),
            ("huge-exp", claims(exp=1e308)), ("negative-exp", claims(exp=-1e308))]:
        write("claims", name, compact(obj))
    write("claims", "duplicate", '{"sub":"a","sub":"b","exp":1}')
    write("claims", "not-object", '"sub"')

    for name, text in [
            ("authos", compact({"id": "u-42", "email": "u42@acme.example",
                                "permissions": ["billing:read", "billing:write"],
                                "org": "acme", "service": "billing"})),
            ("no-permissions", '{"id":"u-42"}'), ("empty", '{"permissions":[]}'),
            ("mixed", '{"permissions":["a",1,null,{"b":2},["c"],"d\\u00e9"]}'),
            ("not-array", '{"permissions":"admin"}'), ("array-top", '["a"]'),
            ("duplicate", '{"permissions":[],"permissions":["admin"]}'),
            ("escape", '{"permissions":["\\"quote\\"","a\\nb","\\ud83d\\ude00"]}')]:
        write("userinfo", name, text)

    # metadata: responses separated by "\n##\n"; the first byte of each is
    # its status ('2' 200, '4' 404, '1' 410, '5' 500, 'x' no answer).
    fk = compact(keyset)
    meta = compact({"issuer": ISSUER, "jwks_uri": ISSUER + "/keys"})
    for name, parts in [
            ("authos-configuration", ["2" + meta, "2" + fk]),
            ("openid-fallback", ["4", "2" + meta, "2" + fk]),
            ("jwks-fallback", ["4", "1", "2" + fk]),
            ("jwks-uri-http", ["2" + compact({"jwks_uri": "http://sso/k"})]),
            ("jwks-uri-scheme-case", ["2" + compact({"jwks_uri": "HTTPS://sso/k"}),
                                      "2" + fk]),
            ("jwks-uri-credentials", ["2" + compact({"jwks_uri": "https://a@b/k"})]),
            ("metadata-500", ["5"]), ("metadata-down", ["x"]),
            ("metadata-garbage", ["2<html>", "2" + fk]),
            ("jwks-empty", ["2" + meta, "2" + '{"keys":[]}']),
            ("jwks-404", ["4", "4", "4"])]:
        write("metadata", name, "\n##\n".join(parts))

    for name, text in [("max-age", "Cache-Control: max-age=300\r\n"),
                       ("public", "cache-control: public, max-age = \"60\", s-maxage=5\r\n"),
                       ("two", "Cache-Control: max-age=10, max-age=20\r\n"),
                       ("negative", "Cache-Control: max-age=-1\r\n"),
                       ("overflow", "Cache-Control: max-age=99999999999999999999999\r\n"),
                       ("usec-overflow", "Cache-Control: max-age=9223372036855\r\n"),
                       ("no-store", "Cache-Control: no-store\r\n"),
                       ("other", "Content-Type: application/json\r\n")]:
        write("http", name, text)

    # browser: each input goes to every parser of the sign-in flow (the
    # callback form, the state cookie, Accept, the return path, URLs and
    # Origin headers). Fixed bytes, so the seeds do not change between runs.
    state = b64(bytes(range(32)))
    fake_token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1LTQyIn0.c2lnbmF0dXJl"
    for name, text in [
            ("form-callback", "access_token=%s&state=%s&error=" % (fake_token,
                                                                  state)),
            ("form-error", "access_token=&state=%s&error=access_denied" % state),
            ("form-escapes", "st%61te=a+b%2B%7e&error=x%26y%3Dz&x=1&x=2"),
            ("form-duplicate", "state=a&st%61te=b"),
            ("form-bad-escape", "state=%4&x=%zz&y=%00"),
            ("form-nul", "state=a\0b"),
            ("form-empty-pairs", "&&state&&=x&error"),
            ("cookie-valid", state + "." + b64("/app/page?x=1")),
            ("cookie-forged-return", state + "." + b64("//evil.example/")),
            ("cookie-short-state", b64(bytes(31)) + "." + b64("/")),
            ("cookie-trailing-bits", "A" * 42 + "B." + b64("/")),
            ("cookie-nul-return", state + "." + b64(b"/a\0b")),
            ("cookie-empty-return", state + "."),
            ("cookie-long-return", state + "." + b64("/" + "r" * 2047)),
            ("accept-firefox", "text/html,application/xhtml+xml,"
             "application/xml;q=0.9,*/*;q=0.8"),
            ("accept-q-zero", "text/html;q=0.000, */*"),
            ("accept-params", "text/html ; level=1 ;Q=0.5"),
            ("accept-wildcards", "text/*, */*;q=0.1"),
            ("accept-htmlx", "TEXT/HTMLX"),
            ("accept-api", "application/json"),
            ("return-query", "/a/b?c=d&e=//f#frag"),
            ("return-scheme-relative", "//evil.example/x"),
            ("return-backslash", "/\\evil.example"),
            ("return-controls", "/a\tb\x7f\x80"),
            ("return-max", "/" + "p" * 2047),
            ("return-max-plus-one", "/" + "p" * 2048),
            ("url-https", "https://App.Example.com:443/cb?x=1#y"),
            ("url-port", "http://example.com:08080/"),
            ("url-ipv6", "https://[::1]:8443/cb"),
            ("url-localhost", "http://LOCALHOST:8080/cb"),
            ("url-loopback-lookalike", "http://127.0.0.10/"),
            ("url-credentials", "https://user:pw@evil.example/"),
            ("url-bad-port", "http://example.com:65536/"),
            ("url-scheme", "javascript://example.com/%0aalert(1)"),
            ("origin-null", "null"),
            ("html", "<a href=\"x\">O'Neil & co</a>")]:
        write("browser", name, text)
    print("wrote fuzz/keys/jwks.json and %d seeds" % sum(
        len(files) for _, _, files in os.walk(os.path.join(FUZZ, "corpus"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())

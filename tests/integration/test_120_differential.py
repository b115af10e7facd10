"""Differential test (issue 7, item 4): thousands of randomly mutated tokens, each
verified by the module in a real Apache (200 = accepted, 401 = refused) and by an
independent verifier, Debian's python3-jwt (PyJWT) with the same key set and the
same base rules: RS256 only, the issuer, the audience, leeway = AuthOSClockSkew,
exp and sub required.

The module is deliberately stricter than PyJWT in documented ways (SPEC sections
2 and 5, README "Status codes"), and PyJWT is stricter in a few others.  Each such
rule is an explicit, named predicate below.  A disagreement passes only when:
  - the module refused and PyJWT accepted: a MODULE_RULES predicate fires, and the
    first one that fires (in the module's check order) names exactly the reason in
    the module's WWW-Authenticate error_description;
  - the module accepted and PyJWT refused: a PYJWT_RULES predicate fires.
Anything else fails the test with the token index, the mutations applied, and
both verdicts.

Tokens are reproducible: token i is built from random.Random("SEED:i") (its time
claims relative to the moment it is sent).  Knobs (environment):
  AUTHOS_DIFF_TOKENS   how many tokens (default 3000)
  AUTHOS_DIFF_SEED     the seed (default 20261123)
  AUTHOS_DIFF_ONLY     comma-separated indexes: check only these (to reproduce one)
  AUTHOS_DIFF_THREADS  concurrent keep-alive connections (default 8)
"""

import base64
import collections
import json
import os
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import jwt as pyjwt
import requests

from attack_tokens import (B64URL_ALPHABET, RawJSON, b64u, b64u_decode, hs_sign, jobj, jv, nested,
                           rs_sign, signing_input)
from authos_stub import foreign_key

AUD = "service:acme/billing"
SKEW = 30
TOKEN_MAX = 16384
PROTECTED = "/protected/hello.txt"
N_TOKENS = int(os.environ.get("AUTHOS_DIFF_TOKENS", "3000"))
SEED = os.environ.get("AUTHOS_DIFF_SEED", "20261123")
ONLY = [int(x) for x in os.environ.get("AUTHOS_DIFF_ONLY", "").split(",") if x.strip()]
THREADS = int(os.environ.get("AUTHOS_DIFF_THREADS", "8"))

CONF = """
LimitRequestFieldSize 65536
AuthOSBaseURL {base}
AuthOSAllowHTTP On
AuthOSAudience {aud}
AuthOSClockSkew {skew}
<Location /protected>
    AuthType authos
    AuthName diff
    Require valid-user
</Location>
"""

CHALLENGE = re.compile(r'^Bearer realm="diff", error="invalid_token", error_description="([^"]*)"$')
NO_TOKEN = 'Bearer realm="diff"'

# ====================================================================== JSON facts
# What a token's header/payload bytes are to jansson (the module: strict UTF-8,
# RFC 8259, JSON_REJECT_DUPLICATES, no \u0000, 64-bit integers, finite doubles,
# nesting < 2048) and to Python's json (PyJWT: lenient on all of these).

JANSSON_MAX_DEPTH = 2048     # jansson_config.h JSON_PARSER_MAX_DEPTH; the top object counts
PYTHON_SAFE_DEPTH = 900      # Python's json recursion limit bites from about 990 levels


def max_depth(text):
    """Deepest nesting of objects/arrays, outside strings (no recursion)."""
    depth = best = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    return best


class JsonFacts:
    """Facts about one JSON document (bytes) that the rules below use."""

    def __init__(self, raw):
        self.raw = raw
        self.not_rfc8259 = False    # not UTF-8, a BOM, NaN/Infinity, or not JSON at all
        self.duplicates = False     # a repeated member name in any object
        self.jansson_limit = False  # \u0000, lone surrogate, integer beyond 64 bits,
                                    # real overflowing a double, nesting too deep
        self.depth = 0
        self.python = None          # what json.loads(bytes) gives (PyJWT's view), or None
        try:
            self.python = json.loads(raw)
        except (ValueError, RecursionError):
            pass
        try:
            text = raw.decode("utf-8")                 # strict: no surrogates, no overlongs
        except UnicodeDecodeError:
            self.not_rfc8259 = True
            return
        if text.startswith("\ufeff"):
            self.not_rfc8259 = True
            return
        self.depth = max_depth(text)
        if self.depth >= JANSSON_MAX_DEPTH:
            self.jansson_limit = True
        strings = []

        def pairs_hook(pairs):
            names = [k for k, _ in pairs]
            if len(set(names)) != len(names):
                self.duplicates = True
            strings.extend(names)
            return dict(pairs)

        def constant_hook(name):
            self.not_rfc8259 = True
            return 0

        def int_hook(s):
            v = int(s)
            if not -2 ** 63 <= v < 2 ** 63:
                self.jansson_limit = True
            return v

        def float_hook(s):
            v = float(s)
            if v in (float("inf"), float("-inf")):
                self.jansson_limit = True
            return v

        try:
            doc = json.loads(text, object_pairs_hook=pairs_hook, parse_constant=constant_hook,
                             parse_int=int_hook, parse_float=float_hook)
        except RecursionError:
            return                    # depth facts already noted
        except ValueError:
            self.not_rfc8259 = True
            return
        stack = [doc]
        while stack:                 # every string value and member name
            v = stack.pop()
            if isinstance(v, dict):
                stack.extend(v.values())
            elif isinstance(v, list):
                stack.extend(v)
            elif isinstance(v, str):
                strings.append(v)
        for s in strings:
            if "\x00" in s or any(0xD800 <= ord(ch) <= 0xDFFF for ch in s):
                self.jansson_limit = True
                break


def decode_lenient(part):
    """What a lenient base64 decoder (PyJWT's) makes of one part, or None."""
    try:
        return base64.urlsafe_b64decode(part.encode("ascii") + b"=" * (-len(part) % 4))
    except Exception:
        return None


class TokenFacts:
    def __init__(self, token):
        self.token = token
        self.parts = token.split(".")
        self.header = self.payload = None
        if len(self.parts) == 3:
            hb, pb = decode_lenient(self.parts[0]), decode_lenient(self.parts[1])
            self.header = JsonFacts(hb) if hb is not None else None
            self.payload = JsonFacts(pb) if pb is not None else None

    @property
    def hdr(self):
        h = self.header.python if self.header else None
        return h if isinstance(h, dict) else {}

    @property
    def claims(self):
        p = self.payload.python if self.payload else None
        return p if isinstance(p, dict) else {}


def canonical_b64url(part):
    """Strict base64url: alphabet only, not 1 mod 4 long, unused bits zero."""
    if not part or any(ch not in B64URL_ALPHABET for ch in part) or len(part) % 4 == 1:
        return False
    last = B64URL_ALPHABET.index(part[-1])
    return not ((len(part) % 4 == 2 and last & 0x0F) or (len(part) % 4 == 3 and last & 0x03))


def typ_profile(typ):
    t = typ.lower()
    if t.startswith("application/"):
        t = t[len("application/"):]
    return {"authos-management+jwt": "management", "at+jwt": "resource", "jwt": "none"}.get(t)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ===================================================================== the rules
# Module-stricter rules, in the module's check order (SPEC 5 steps 1, 2, 5).  Each
# returns the error_description the module reports when it fires, else None.

def r_size_limit(f):
    # SPEC 5.1: more than 16 KiB is invalid.
    return "malformed" if len(f.token) > TOKEN_MAX else None


def r_compact_base64url(f):
    # SPEC 5.1: three base64url parts; padding or illegal characters are invalid
    # (README: no padding, no + or /, no whitespace; unused bits zero).
    if len(f.parts) != 3 or not all(canonical_b64url(p) for p in f.parts):
        return "malformed"
    return None


def _json_rule(which, attr):
    def rule(f):
        facts = getattr(f, which)
        return "malformed" if facts is not None and getattr(facts, attr) else None
    rule.__name__ = "%s_%s" % (which, attr)
    return rule


def r_crit(f):
    # SPEC 5.2: crit present is invalid (PyJWT accepts crit ["b64"]).
    return "unsupported critical header" if "crit" in f.hdr else None


def r_typ_profile(f):
    # SPEC 5.2: typ, when present, one of the access-token profiles (PyJWT ignores typ).
    if "typ" not in f.hdr:
        return None
    typ = f.hdr["typ"]
    if not isinstance(typ, str):
        return "malformed"
    return "unsupported token type" if typ_profile(typ) is None else None


def r_time_claims_numeric(f):
    # SPEC 5: exp/nbf/iat non-numeric are malformed (PyJWT int()s strings and bools).
    for name in ("exp", "nbf", "iat"):
        if name in f.claims and not is_number(f.claims[name]):
            return "malformed"
    return None


def r_sub_nonempty_string(f):
    # SPEC 5.5: sub a non-empty string (PyJWT 2.6 only requires it to be non-null).
    sub = f.claims.get("sub")
    return "missing subject" if not isinstance(sub, str) or sub == "" else None


def r_token_use_profile(f):
    # SPEC 5.5: token_use, when present, an access token's, matching the typ profile.
    if "token_use" not in f.claims:
        return None
    use = f.claims["token_use"]
    typ = f.hdr.get("typ")
    profile = typ_profile(typ) if isinstance(typ, str) else "none"
    allowed = {"management": {"management_access"}, "resource": {"external_resource_access"},
               "none": {"management_access", "external_resource_access"}}[profile or "none"]
    return None if isinstance(use, str) and use in allowed else "unsupported token use"


def r_mfa_required(f):
    # SPEC 5.5: mfa_required true is invalid (README: a non-boolean is malformed).
    if "mfa_required" not in f.claims:
        return None
    v = f.claims["mfa_required"]
    if not isinstance(v, bool):
        return "malformed"
    return "mfa required" if v else None


def r_act_claim(f):
    # SPEC 5.5: an act claim is invalid (any value, null included).
    return "delegated token" if "act" in f.claims else None


MODULE_RULES = [
    ("size_limit", r_size_limit),
    ("compact_base64url", r_compact_base64url),
    ("header_json_not_rfc8259", _json_rule("header", "not_rfc8259")),
    ("header_json_duplicate_member", _json_rule("header", "duplicates")),
    ("header_json_jansson_limit", _json_rule("header", "jansson_limit")),
    ("crit_present", r_crit),
    ("typ_profile", r_typ_profile),
    ("payload_json_not_rfc8259", _json_rule("payload", "not_rfc8259")),
    ("payload_json_duplicate_member", _json_rule("payload", "duplicates")),
    ("payload_json_jansson_limit", _json_rule("payload", "jansson_limit")),
    ("time_claims_numeric", r_time_claims_numeric),
    ("sub_nonempty_string", r_sub_nonempty_string),
    ("token_use_profile", r_token_use_profile),
    ("mfa_required", r_mfa_required),
    ("act_claim", r_act_claim),
]


# PyJWT-stricter rules: the module accepts, PyJWT refuses.
def p_aud_nonstring_member(f):
    # PyJWT refuses an aud array holding a non-string; the module looks for its
    # audience among the string members (RFC 7519 4.1.3 wants strings: harmless).
    aud = f.claims.get("aud")
    return isinstance(aud, list) and any(not isinstance(a, str) for a in aud)


def p_b64_false(f):
    # PyJWT treats b64:false (RFC 7797) as a detached, unencoded payload and refuses;
    # without crit the module treats b64 as an unknown member.
    return f.hdr.get("b64", True) is False


def p_python_json_depth(f):
    # Python's json hits its recursion limit at about 990 levels; jansson allows 2047.
    return any(x is not None and x.depth >= PYTHON_SAFE_DEPTH for x in (f.header, f.payload))


# (name, predicate, what PyJWT's refusal must say for the rule to explain it)
PYJWT_RULES = [
    ("pyjwt_aud_nonstring_member", p_aud_nonstring_member, r"^InvalidAudienceError: Invalid claim format"),
    ("pyjwt_b64_false", p_b64_false, r"^DecodeError: .*detached_payload"),
    ("python_json_recursion_limit", p_python_json_depth, r"^RecursionError"),
]


# ============================================================ the reference verifier
class Reference:
    """PyJWT with the module's key set and base rules."""

    def __init__(self, jwks, issuer):
        self.keys = {k["kid"]: pyjwt.PyJWK.from_dict(k).key for k in jwks["keys"]}
        self.issuer = issuer
        self.api = pyjwt.PyJWT()

    def verify(self, token):
        """(accepted, why)"""
        try:
            header = pyjwt.get_unverified_header(token)
            kid = header.get("kid")
            key = self.keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                return False, "unknown kid"
            self.api.decode(token, key, algorithms=["RS256"], audience=AUD, issuer=self.issuer,
                            leeway=SKEW, options={"require": ["exp", "sub"]})
            return True, "ok"
        except (pyjwt.PyJWTError, TypeError, ValueError, OverflowError, RecursionError) as exc:
            return False, "%s: %s" % (type(exc).__name__, str(exc)[:80])


# =============================================================== token generation
ACCEPTED_TYPS = ["authos-management+jwt", "at+jwt", "JWT", "application/at+jwt", "AUTHOS-MANAGEMENT+JWT"]
REFUSED_TYPS = ["authos-mfa-preauth+jwt", "authos-impersonation+jwt", "oauth-id-jag+jwt", "", "JOSE",
                "at+jwt ", "application/jwt+x"]
_REMOVE = object()     # a mutation choice: leave the member out
KID_JUNK = ["../../etc/passwd", "/dev/null", "' OR 1=1 --", "; id", "$(id)", "k" * 300, "K2", "k2 ",
            "kid-unknown", "k99"]


class Gen:
    """Builds token i: a valid AuthOS token, then 0-4 mutations, each recorded."""

    def __init__(self, env, index):
        self.env = env
        self.rng = random.Random("%s:%d" % (SEED, index))
        self.now = int(time.time())
        self.labels = []

    # ------------------------------------------------ a valid starting point
    def base(self):
        r, env, now = self.rng, self.env, self.now
        typ = r.choice(["authos-management+jwt"] * 5 + ["at+jwt"] * 2 + ["JWT", None])
        kid = r.choice(env.listed_kids)
        header = [("alg", jv("RS256")), ("kid", jv(kid))]
        if typ is not None:
            header.append(("typ", jv(typ)))
        use = "external_resource_access" if typ == "at+jwt" else "management_access"
        claims = {"sub": "user-%d" % r.randrange(10 ** 6), "email": "u%d@example.com" % r.randrange(999),
                  "is_platform_owner": r.random() < 0.1, "iss": env.issuer,
                  "aud": AUD if r.random() < 0.8 else ["platform", AUD],
                  "iat": now - r.randrange(0, 3000), "exp": now + r.randrange(600, 86400),
                  "jti": "%032x" % r.getrandbits(128), "token_use": use, "org": "acme", "service": "billing"}
        if r.random() < 0.2:
            claims["nbf"] = now - r.randrange(0, 600)
        if r.random() < 0.2:
            claims["permissions"] = r.sample(["billing:read", "billing:write", "admin"], 2)
        if r.random() < 0.1:
            del claims["token_use"]
        payload = [(k, jv(v)) for k, v in claims.items()]
        return header, payload

    # ------------------------------------------------ pair-list helpers
    @staticmethod
    def set(pairs, name, raw):
        for i, (k, _) in enumerate(pairs):
            if k == name:
                pairs[i] = (k, raw)
                return
        pairs.append((name, raw))

    @staticmethod
    def remove(pairs, name):
        pairs[:] = [(k, v) for k, v in pairs if k != name]

    def mutate_member(self, pairs, name, choices, label):
        v = self.rng.choice(choices)
        if v is _REMOVE:
            self.remove(pairs, name)
            self.labels.append("%s=REMOVE" % label)
        else:
            raw = v if isinstance(v, RawJSON) else jv(v)
            self.set(pairs, name, raw)
            self.labels.append("%s=%s" % (label, raw[:40]))

    # ------------------------------------------------ JSON-level mutations
    def json_mutation(self, header, payload):
        r, now, env = self.rng, self.now, self.env
        t = lambda off: now + off  # noqa: E731
        offsets = [-86400, -3600, -120, -45, -10, 10, 120, 3600, 86400]
        ops = {
            "alg": lambda: self.mutate_member(header, "alg", [
                "none", "None", "HS256", "RS384", "RS512", "PS256", "ES256", "rs256", "RS256 ", "",
                None, 1, ["RS256"], RawJSON('"RS\\u0032\\u0035\\u0036"'), RawJSON('"RS256\\u0000"'),
                "RS256", _REMOVE], "h.alg"),
            "typ": lambda: self.mutate_member(header, "typ", ACCEPTED_TYPS + REFUSED_TYPS + [
                None, 1, RawJSON('"\\u0061t+jwt"'), _REMOVE], "h.typ"),
            "kid": lambda: self.mutate_member(header, "kid", env.listed_kids + [env.retired_kid, "", 1, None,
                                                                                ["k1"], _REMOVE,
                                                                                RawJSON('"\\u006b1"')]
                                              + KID_JUNK, "h.kid"),
            "crit": lambda: self.mutate_member(header, "crit", [["exp"], [], ["b64"], None, "exp"], "h.crit"),
            "b64": lambda: self.mutate_member(header, "b64", [False, True], "h.b64"),
            "keyurl": lambda: self.mutate_member(header, r.choice(["jku", "x5u", "jwk", "x5c"]), [
                "http://127.0.0.1:1/jwks.json", {"kty": "RSA", "n": "AQAB", "e": "AQAB"}, ["MIIB"]], "h.keyurl"),
            "hdup": lambda: self.dup(header, "h"),
            "hextra": lambda: self.mutate_member(header, "x-extra", [1, "a", {"b": [1, 2]}, None], "h.extra"),
            "hnest": lambda: self.mutate_member(header, "deep", [RawJSON(nested(d)) for d in (5, 1500, 3000)],
                                                "h.nested"),
            "exp": lambda: self.mutate_member(payload, "exp", [t(o) for o in offsets] + [
                t(3600) + 0.5, t(-3600) - 0.5, t(10) + 0.25, str(t(3600)), "9999999999", True, False, None,
                [t(3600)], RawJSON("1e400"), RawJSON(str(2 ** 64)), RawJSON("NaN"), RawJSON("1e10"),
                RawJSON(str(2 ** 63 - 1)), 0, -1, _REMOVE], "p.exp"),
            "nbf": lambda: self.mutate_member(payload, "nbf", [t(o) for o in (-3600, -60, -10, 10, 120, 3600)] + [
                t(120) + 0.5, "0", True, None, RawJSON("-1e400"), _REMOVE], "p.nbf"),
            "iat": lambda: self.mutate_member(payload, "iat", [t(o) for o in (-3600, -60, -10, 10, 120, 3600)] + [
                t(-60) + 0.5, str(t(-60)), False, None, [], _REMOVE], "p.iat"),
            "iss": lambda: self.mutate_member(payload, "iss", [
                "https://evil.example", env.issuer + "/", env.issuer.upper(), "", 123, [env.issuer], None,
                RawJSON(jv(env.issuer).replace("h", "\\u0068", 1)), env.issuer, _REMOVE], "p.iss"),
            "aud": lambda: self.mutate_member(payload, "aud", [
                "service:acme/reports", [AUD], ["platform", AUD], ["platform"], [AUD, 5], [None, AUD],
                [[AUD]], "", [], 7, None, {"aud": AUD}, RawJSON('"\\u0073ervice:acme\\/billing"'),
                AUD.upper(), _REMOVE], "p.aud"),
            "sub": lambda: self.mutate_member(payload, "sub", [
                "", 123, None, True, ["user-1"], RawJSON('"\\u0061dmin"'), RawJSON('"adm\\u0000in"'),
                RawJSON('"\\ud800"'), RawJSON('"\\ud83d\\ude00"'), "ädmin", "u" * 3000, "admin", _REMOVE],
                "p.sub"),
            "token_use": lambda: self.mutate_member(payload, "token_use", [
                "management_access", "external_resource_access", "mfa_preauth", "", 1, None, _REMOVE],
                "p.token_use"),
            "mfa": lambda: self.mutate_member(payload, "mfa_required", [True, False, "false", 0, None], "p.mfa"),
            "act": lambda: self.mutate_member(payload, "act", [{"sub": "admin-1"}, None, "x"], "p.act"),
            "pdup": lambda: self.dup(payload, "p"),
            "pnest": lambda: self.mutate_member(payload, "deep", [RawJSON(x) for x in (
                nested(3), nested(60), nested(1500), nested(2046), nested(2047), nested(3000),
                '{"a":1,"a":2}', '[{"x":{"y":1,"y":1}}]')], "p.nested"),
            "numbers": lambda: self.mutate_member(payload, "n", [RawJSON(x) for x in (
                "1e400", "-1e400", str(2 ** 64), str(-2 ** 64), "NaN", "Infinity", "-Infinity", "1e-400", "-0",
                "1E5", "0.1", str(2 ** 63 - 1))], "p.number"),
            "unicode": lambda: self.mutate_member(payload, "u", [RawJSON(x) for x in (
                '"\\u0000"', '"\\ud800"', '"\\udc00"', '"\\ud83d\\ude00"', '"caf\\u00e9"', '"\\u202eadmin"',
                '"\\uDBFF\\uDFFF"')] + ["é", "☃"], "p.unicode"),
            "remove": lambda: self.remove_random(payload),
            "retype": lambda: self.retype_random(payload),
            "bytes": lambda: self.labels.append("p.bytes=" + self.rng.choice(
                ["bom", "invalid_utf8", "cesu8", "overlong", "latin1"])),
            "size": lambda: self.labels.append("p.size=%d" % self.rng.randrange(TOKEN_MAX - 250, TOKEN_MAX + 250)),
            "not_object": lambda: self.labels.append("p.not_object"),
        }
        weights = {"alg": 3, "typ": 4, "kid": 4, "crit": 2, "b64": 1, "keyurl": 2, "hdup": 2, "hextra": 1,
                   "hnest": 1, "exp": 6, "nbf": 3, "iat": 3, "iss": 3, "aud": 4, "sub": 4, "token_use": 3,
                   "mfa": 2, "act": 1, "pdup": 3, "pnest": 2, "numbers": 2, "unicode": 2, "remove": 2,
                   "retype": 2, "bytes": 1, "size": 2, "not_object": 0.3}
        name = r.choices(list(weights), weights=list(weights.values()))[0]
        ops[name]()

    def dup(self, pairs, side):
        r = self.rng
        name, raw = r.choice(pairs)
        if r.random() < 0.5:
            other = raw                                        # same value twice
        else:
            other = jv(r.choice(["admin", 0, None, True, "RS256", "none", self.now + 3600]))
        if r.random() < 0.2:                                   # the twin spelled with an escape
            escaped = RawJSON('"\\u%04x%s"' % (ord(name[0]), name[1:]))
            pairs.append((escaped, other))
        elif r.random() < 0.5:
            pairs.insert(0, (name, other))
        else:
            pairs.append((name, other))
        self.labels.append("%s.dup=%s" % (side, name))

    def remove_random(self, pairs):
        name, _ = self.rng.choice(pairs)
        self.remove(pairs, name)
        self.labels.append("p.remove=%s" % name)

    def retype_random(self, pairs):
        i = self.rng.randrange(len(pairs))
        name = pairs[i][0]
        raw = jv(self.rng.choice([None, True, 0, 1.5, "", "x", [], {}, ["x"], {"a": 1}]))
        pairs[i] = (name, raw)
        self.labels.append("p.retype=%s:%s" % (name, raw))

    # ------------------------------------------------ encoding and signing
    def encode(self, header, payload):
        hb = jobj(*header).encode("utf-8")
        pb = jobj(*payload).encode("utf-8")
        for label in self.labels:
            if label.startswith("p.bytes="):
                kind = label.split("=", 1)[1]
                if kind == "bom":
                    pb = b"\xef\xbb\xbf" + pb
                else:
                    bad = {"invalid_utf8": b"\xff", "cesu8": b"\xed\xa0\x80", "overlong": b"\xc0\xaf",
                           "latin1": b"\xe9"}[kind]
                    pb = pb.replace(b'"acme"', b'"ac' + bad + b'me"', 1) if b'"acme"' in pb else \
                        pb[:-1] + b',"z":"' + bad + b'"}'
            elif label == "p.not_object":
                pb = b"[" + pb + b"]"
            elif label.startswith("p.size="):
                target = int(label.split("=", 1)[1])
                current = len(b64u(hb)) + len(b64u(pb)) + 2 + 342
                grow = max(0, (target - current) * 3 // 4 - 12)
                if pb.endswith(b"}"):
                    pb = pb[:-1] + b',"filler":"' + b"x" * grow + b'"}'
        return hb, pb

    def sign(self, hb, pb, header):
        r, env = self.rng, self.env
        si = signing_input(hb, pb)
        how = r.choices(["own", "other_listed", "retired", "foreign", "hs256_pem", "rs512", "none", "reuse"],
                        weights=[88, 3, 1, 3, 2, 1, 1, 1])[0]
        if how != "own":
            self.labels.append("sig=" + how)
        try:
            kid = json.loads(dict(header).get("kid", "null"))
        except (ValueError, RecursionError):
            kid = None
        own = env.signing_keys.get(kid) if isinstance(kid, str) else None
        if how == "own":
            sig = rs_sign(own or env.signing_keys[env.listed_kids[0]], si)
        elif how == "other_listed":
            other = [k for k in env.listed_kids if k != kid] or env.listed_kids
            sig = rs_sign(env.signing_keys[r.choice(other)], si)
        elif how == "retired":
            sig = rs_sign(env.signing_keys[env.retired_kid], si)
        elif how == "foreign":
            sig = rs_sign(foreign_key(), si)
        elif how == "hs256_pem":
            sig = hs_sign(env.public_pem, si)
        elif how == "rs512":
            sig = rs_sign(own or env.signing_keys[env.listed_kids[0]], si, "RS512")
        elif how == "none":
            sig = b""
        else:
            other_h, other_p = self.base()
            sig = rs_sign(env.signing_keys[env.listed_kids[0]],
                          signing_input(jobj(*other_h).encode(), jobj(*other_p).encode()))
        return si.decode("ascii") + "." + b64u(sig)

    # ------------------------------------------------ text-level mutations
    def text_mutation(self, token):
        r = self.rng
        parts = token.split(".")
        op = r.choice(["flip", "charsub", "insert", "pad", "std", "truncate", "trunc_sig", "swap", "parts",
                       "noncanonical", "case"])
        i = r.randrange(len(parts))
        if op == "flip":
            data = bytearray(b64u_decode(parts[i]) if canonical_b64url(parts[i]) else b"")
            if data:
                data[r.randrange(len(data))] ^= 1 << r.randrange(8)
                parts[i] = b64u(bytes(data))
        elif op == "charsub" and parts[i]:
            j = r.randrange(len(parts[i]))
            parts[i] = parts[i][:j] + r.choice(B64URL_ALPHABET) + parts[i][j + 1:]
        elif op == "insert":
            j = r.randrange(len(parts[i]) + 1)
            parts[i] = parts[i][:j] + r.choice("=+/ \t!~%\",.*") + parts[i][j:]
        elif op == "pad":
            parts[i] += r.choice(["=", "==", "==="])
        elif op == "std":
            data = decode_lenient(parts[i])
            if data is not None:
                parts[i] = base64.b64encode(data).decode().rstrip("=" if r.random() < 0.7 else "")
        elif op == "truncate":
            token = ".".join(parts)
            self.labels.append("t.truncate")
            return token[:r.randrange(1, max(2, len(token)))]
        elif op == "trunc_sig":
            parts[-1] = parts[-1][:-r.choice([1, 2, 3, 4, 50])]
        elif op == "swap":
            other_h, other_p = self.base()
            donor = self.sign(jobj(*other_h).encode(), jobj(*other_p).encode(), other_h).split(".")
            parts[i] = donor[min(i, len(donor) - 1)]
        elif op == "parts":
            if r.random() < 0.5:
                parts.append(r.choice(parts))
            elif len(parts) > 1:
                del parts[i]
        elif op == "noncanonical" and len(parts[i]) % 4 in (2, 3) and canonical_b64url(parts[i]):
            v = B64URL_ALPHABET.index(parts[i][-1])
            parts[i] = parts[i][:-1] + B64URL_ALPHABET[v | (0x01 if len(parts[i]) % 4 == 3 else 0x04)]
        elif op == "case" and parts[i]:
            j = r.randrange(len(parts[i]))
            parts[i] = parts[i][:j] + parts[i][j].swapcase() + parts[i][j + 1:]
        self.labels.append("t.%s[%d]" % (op, i))
        return ".".join(parts)

    def build(self):
        header, payload = self.base()
        r = self.rng
        for _ in range(r.choices([0, 1, 2, 3, 4], weights=[12, 45, 25, 12, 6])[0]):
            self.json_mutation(header, payload)
        hb, pb = self.encode(header, payload)
        token = self.sign(hb, pb, header)
        if r.random() < 0.3:
            for _ in range(r.choice([1, 1, 2])):
                token = self.text_mutation(token)
        return token


class Env:
    """The issuer's keys as the generator needs them."""

    def __init__(self, stub, retired_kid):
        self.issuer = stub.issuer
        self.listed_kids = list(stub.listed_kids)
        self.retired_kid = retired_kid
        kids = self.listed_kids + [retired_kid]
        self.signing_keys = {kid: stub.key(kid).private_key for kid in kids}
        self.public_pem = stub.active_key.public_pem()


# ======================================================================= the test
def parse_challenge(response):
    value = response.headers.get("WWW-Authenticate")
    if value == NO_TOKEN:
        return "no token"
    m = CHALLENGE.match(value or "")
    return m.group(1) if m else "unexpected challenge %r" % value


def classify(token, module_ok, module_reason, ref_ok, ref_why):
    """(explained, rule names that fired, note) for a disagreement."""
    facts = TokenFacts(token)
    if not module_ok and ref_ok:
        fired = [(name, reason) for name, rule in MODULE_RULES for reason in [rule(facts)] if reason]
        if not fired:
            return False, [], "no module-stricter rule fires"
        name, reason = fired[0]
        if reason != module_reason:
            return False, [n for n, _ in fired], "first rule %s predicts %r" % (name, reason)
        return True, [name], ""
    fired = [name for name, rule, _ in PYJWT_RULES if rule(facts)]
    matching = [name for name, rule, why in PYJWT_RULES if rule(facts) and re.search(why, ref_why)]
    if not fired:
        return False, [], "no PyJWT-stricter rule fires"
    if not matching:
        return False, fired, "PyJWT refused for another reason"
    return True, matching, ""


def test_differential_against_pyjwt(apache_factory, stub, capsys):
    stub.rotate()                              # k1 and k2 listed (k2 active)
    retired = stub.rotate().kid                # k3, minted with, then no longer listed
    stub.remove_key(retired)
    env = Env(stub, retired)
    server = apache_factory(CONF.format(base=stub.base_url, aud=AUD, skew=SKEW))
    reference = Reference(requests.get(stub.jwks_url, timeout=10).json(), stub.issuer)
    url = server.url(PROTECTED)
    indexes = ONLY or list(range(N_TOKENS))
    local = threading.local()

    def check_one(i):
        if not hasattr(local, "session"):
            local.session = requests.Session()
        gen = Gen(env, i)
        token = gen.build()
        resp = local.session.get(url, headers={"Authorization": "Bearer " + token}, timeout=30)
        # What reaches the verifier: OWS after "Bearer" is skipped by the module,
        # trailing OWS trimmed by httpd (test_110: leading_spaces, trailing_spaces_and_tab).
        sent = token.strip(" \t")
        ref_ok, ref_why = reference.verify(sent) if sent else (False, "empty")
        if resp.status_code not in (200, 401):
            return i, gen.labels, token, resp.status_code, None, ref_ok, ref_why
        reason = "ok" if resp.status_code == 200 else parse_challenge(resp)
        return i, gen.labels, token, resp.status_code, reason, ref_ok, ref_why

    started = time.time()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(check_one, indexes))
    elapsed = time.time() - started

    failures = []
    counts = collections.Counter()
    explained = collections.Counter()
    reasons = collections.Counter()
    for i, labels, token, status, reason, ref_ok, ref_why in results:
        where = "token %d (seed %s, mutations %s, %d chars)" % (i, SEED, labels, len(token))
        if reason is None or reason.startswith("unexpected"):
            # Only 200 and 401 are possible here (Require valid-user); anything else
            # is a module or environment failure: see the server's error log.
            failures.append("%s: status %d, challenge %r (see %s)"
                            % (where, status, reason, server.error_log_path))
            continue
        module_ok = status == 200
        if status == 200 and reason != "ok":
            failures.append("%s: 200 with a challenge" % where)
        counts["module_accepted" if module_ok else "module_refused"] += 1
        counts["pyjwt_accepted" if ref_ok else "pyjwt_refused"] += 1
        if not module_ok:
            reasons[reason] += 1
        if module_ok == ref_ok:
            counts["agreed"] += 1
            continue
        ok, fired, note = classify(token.strip(" \t"), module_ok, reason, ref_ok, ref_why)
        if ok:
            for name in fired[:1] if not module_ok else fired:
                explained[name] += 1
            counts["explained"] += 1
        else:
            failures.append("%s: module %s (%s), PyJWT %s (%s); rules fired %s; %s; token %s"
                            % (where, "accepted" if module_ok else "refused", reason,
                               "accepted" if ref_ok else "refused", ref_why, fired, note,
                               token if len(token) < 1200 else token[:1200] + "..."))

    total = len(results)
    figure = ("differential: %d tokens (seed %s) in %.1f s: module accepted %d, refused %d; PyJWT accepted %d, "
              "refused %d; agreed %d; disagreements %d, explained %d [%s], unexplained %d; module reasons [%s]"
              % (total, SEED, elapsed, counts["module_accepted"], counts["module_refused"],
                 counts["pyjwt_accepted"], counts["pyjwt_refused"], counts["agreed"],
                 total - counts["agreed"], counts["explained"],
                 ", ".join("%s %d" % kv for kv in explained.most_common()), len(failures),
                 ", ".join("%s %d" % kv for kv in reasons.most_common())))
    with capsys.disabled():
        print("\n" + figure)
    assert not failures, "%d unexplained disagreement(s):\n  %s" % (len(failures), "\n  ".join(failures[:40]))
    if not ONLY and total >= 500:
        # Not a degenerate corpus: plenty accepted and refused, for many reasons.
        assert counts["module_accepted"] >= total // 10, figure
        assert counts["module_refused"] >= total // 3, figure
        assert len(reasons) >= 10 and len(explained) >= 8, figure

"""Attack corpus (issue 7, item 3): one case per known JWT attack that applies to
RS256 verification, each sent to a real Apache and held to the exact status and,
for a refused token, the exact WWW-Authenticate error_description (SPEC section 5
and README "Status codes").  test_010_authn covers the rules one by one; this file
is the attacker's view: alg none and key confusion, alg swaps, kid injection,
keys named by the token (jku/x5u/jwk/x5c: never fetched, checked with a listener
that counts connections), signature tampering, duplicate JSON members, nesting
and size limits, number and string edge cases, non-canonical base64url, header
and cookie smuggling, spoofed X-AuthOS-* headers, refused token profiles, crit,
and times in the future.

Expectations, for every case:
  OK        200, no WWW-Authenticate
  NO_TOKEN  401, WWW-Authenticate exactly 'Bearer realm="attacks"' (SPEC 5: no
            token, or another scheme)
  "reason"  401, WWW-Authenticate 'Bearer realm="attacks", error="invalid_token",
            error_description="reason"', and the AUTHOS0023 info line names it.
Where SPEC/README do not decide a case, the comment names the rule asserted
(what the module does today and why that is acceptable).
"""

import json
import re
import time

import pytest

import apache
from attack_tokens import (alg_none, b64u, compact, CountingListener,
                           dup_header, dup_payload, EchoBackend, es256_sign, flip_part, flip_sig,
                           header_key_token, hs_token, jobj, jv, many_members, nested,
                           new_ec_key, noncanonical_last_char, pad_part, payload_bytes_token,
                           ps256_sign, raw_request, RawJSON, rs_sign,
                           sig_of, sized, std_b64_payload,
                           std_b64_signature, with_sig)
from authos_stub import REMOVE, AuthOSStub, StubKey, generate_rsa_key

AUD = "service:acme/billing"
REALM = "attacks"
PROTECTED = "/protected/hello.txt"
COOKIE_PATH = "/cookie/hello.txt"
TOKEN_MAX = 16384            # SPEC 5.1 / README: more than 16 KiB is malformed

OK = "OK"
NO_TOKEN = "NO_TOKEN"

SERVER_CONF = """
LimitRequestFieldSize 65536
AuthOSBaseURL {base}
AuthOSAllowHTTP On
AuthOSAudience service:acme/billing
AuthOSJWKSMinRefetch 1
<Location /protected>
    AuthType authos
    AuthName attacks
    Require valid-user
</Location>
Alias /cookie/ "@ROOT@/htdocs/protected/"
<Location /cookie/>
    AuthType authos
    AuthName attacks
    AuthOSTokenCookie authos_at
    Require valid-user
</Location>
ScriptAlias /cgi/ "@ROOT@/cgi-bin/"
<Location /cgi/>
    AuthType authos
    AuthName attacks
    AuthOSPassClaims both
    Require valid-user
</Location>
<Location /proxied/>
    AuthType authos
    AuthName attacks
    AuthOSPassClaims headers
    Require valid-user
    ProxyPass {echo}/
</Location>
ProxyPass /open/ {echo}/
"""


def invalid(reason):
    return 'Bearer realm="%s", error="invalid_token", error_description="%s"' % (REALM, reason)


NO_TOKEN_CHALLENGE = 'Bearer realm="%s"' % REALM


# A claim or header value given as raw JSON text (NaN, escapes, nesting, ...).
Raw = RawJSON


def _raw(value):
    return str(value) if isinstance(value, Raw) else jv(value)


class Ctx:
    """Everything the builders need: the issuer (two listed keys), an attacker's
    RSA and EC keys, and the jku/x5u listener."""

    def __init__(self, issuer, listener, attacker):
        self.issuer = issuer
        self.listener = listener
        self.attacker = attacker              # StubKey, kid "attacker-1", never listed
        self.ec_key = new_ec_key()
        self.other_kid = [k for k in issuer.listed_kids if k != issuer.active_kid][0]

    @property
    def kid(self):
        return self.issuer.active_kid

    @property
    def key(self):
        return self.issuer.active_key.private_key

    def hdr(self, extra=(), **over):
        """Raw header JSON: alg RS256, our kid, typ authos-management+jwt, then
        overrides (REMOVE drops one) and extra raw (name, text) pairs."""
        fields = {"alg": "RS256", "kid": self.kid, "typ": "authos-management+jwt"}
        fields.update(over)
        pairs = [(k, _raw(v)) for k, v in fields.items() if v is not REMOVE]
        return jobj(*(pairs + list(extra)))

    def pay(self, extra=(), **over):
        """Raw payload JSON: AuthOS's claims, overrides (REMOVE drops one), extra pairs."""
        fields = self.issuer.default_claims()
        fields.update(over)
        pairs = [(k, _raw(v)) for k, v in fields.items() if v is not REMOVE]
        return jobj(*(pairs + list(extra)))

    def sign(self, header, payload, key=None, alg="RS256"):
        return compact(header, payload, lambda si: rs_sign(key or self.key, si, alg))

    def token(self, header=None, extra=(), hextra=(), key=None, **claims):
        return self.sign(self.hdr(hextra, **(header or {})), self.pay(extra, **claims), key=key)


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def issuer():
    stub = AuthOSStub().start()
    stub.rotate()                 # k2 active, k1 still listed: two keys verify
    stub.remove_key(stub.rotate().kid)     # k3: a retired key, no longer listed
    yield stub
    stub.stop()


@pytest.fixture(scope="module")
def attacker():
    return StubKey("attacker-1", generate_rsa_key(2048))


@pytest.fixture(scope="module")
def listener(attacker):
    jwks = {"keys": [attacker.public_jwk(), dict(attacker.public_jwk(), kid="k1"),
                     dict(attacker.public_jwk(), kid="k2")]}
    lsn = CountingListener(json.dumps(jwks))
    yield lsn
    lsn.close()


@pytest.fixture(scope="module")
def echo():
    backend = EchoBackend()
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def ctx(issuer, listener, attacker):
    return Ctx(issuer, listener, attacker)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, issuer, echo, authos_module):
    server = apache.ApacheServer(
        tmp_path_factory.mktemp("attacks") / "httpd", module_path=authos_module,
        extra_conf=SERVER_CONF.format(base=issuer.base_url, echo=echo.base_url))
    server.start()
    yield server
    server.stop()
    crashes = [line for line in server.error_log().splitlines() if apache.CRASH_LINE.search(line)]
    if crashes:
        pytest.fail("child crashes:\n  " + "\n  ".join(crashes), pytrace=False)


@pytest.fixture
def srv(request, shared_server):
    """The shared server; the error-log lines this test produced are audited."""
    mark = shared_server.log_mark()
    shared_server.allowed_now = []
    yield shared_server
    allowed = [p for m in request.node.iter_markers("allow_log") for p in m.args]
    allowed += list(apache.ACCESS_DENIED_LINES) + shared_server.allowed_now
    bad = [line for line in shared_server.error_log_since(mark).splitlines()
           if (apache.AUDITED_LEVEL.search(line) or apache.CRASH_LINE.search(line))
           and not any(re.search(p, line) for p in allowed)]
    if bad:
        pytest.fail("unexpected error-log lines:\n  " + "\n  ".join(bad), pytrace=False)


# ------------------------------------------------------------ request shapes
class Req:
    """A request other than 'Authorization: Bearer <token>' on /protected."""

    def __init__(self, lines, path=PROTECTED, allow_log=()):
        self.lines = lines
        self.path = path
        self.allow_log = list(allow_log)


def bearer(token):
    return [("Authorization", "Bearer " + token)]


def send(server, spec):
    """(status, [WWW-Authenticate values]) for a token or a Req."""
    if isinstance(spec, Req):
        status, headers, _ = raw_request(server.port, spec.path, spec.lines)
    else:
        status, headers, _ = raw_request(server.port, PROTECTED, bearer(spec))
    return status, headers.get("www-authenticate", [])


def check(server, spec, expect):
    status, challenges = send(server, spec)
    if expect == OK:
        assert (status, challenges) == (200, []), (status, challenges)
    elif expect == NO_TOKEN:
        assert (status, challenges) == (401, [NO_TOKEN_CHALLENGE]), (status, challenges)
    else:
        assert (status, challenges) == (401, [invalid(expect)]), (status, challenges)


now = lambda: int(time.time())  # noqa: E731


# --------------------------------------------------------------- the corpus
CASES = {}


def case(name, build, expect, **kw):
    assert name not in CASES, name
    CASES[name] = (build, expect, kw)


# alg "none" in its spellings: an empty signature part fails step 1 (SPEC 5.1:
# three non-empty base64url parts); with any signature part, step 2 (alg exactly
# RS256) refuses it, even when that part is a real RS256 signature.
for _sp in ("none", "None", "NONE", "nOnE"):
    case("alg_%s_empty_signature" % _sp, lambda c, s=_sp: alg_none(c, s, "empty"), "malformed")
    case("alg_%s_no_signature_part" % _sp, lambda c, s=_sp: alg_none(c, s, "absent"), "malformed")
    case("alg_%s_junk_signature" % _sp, lambda c, s=_sp: alg_none(c, s, "junk"), "unsupported algorithm")
    case("alg_%s_real_rs256_signature" % _sp, lambda c, s=_sp: alg_none(c, s, "rs256"),
         "unsupported algorithm")

# HS* key confusion: HMAC keyed with the public key in every usual spelling.
for _alg in ("HS256", "HS384", "HS512"):
    for _form in ("pem_spki", "pem_pkcs1", "der_spki", "jwk_n_text", "jwk_n_bytes", "jwk_json"):
        case("%s_keyed_with_%s" % (_alg, _form), lambda c, a=_alg, f=_form: hs_token(c, a, f),
             "unsupported algorithm")

# alg swaps, each correctly signed for the alg it names.
case("alg_RS384_signed_rs384", lambda c: compact(c.hdr(alg="RS384"), c.pay(),
                                                 lambda si: rs_sign(c.key, si, "RS384")),
     "unsupported algorithm")
case("alg_RS512_signed_rs512", lambda c: compact(c.hdr(alg="RS512"), c.pay(),
                                                 lambda si: rs_sign(c.key, si, "RS512")),
     "unsupported algorithm")
case("alg_PS256_signed_pss", lambda c: compact(c.hdr(alg="PS256"), c.pay(),
                                               lambda si: ps256_sign(c.key, si)),
     "unsupported algorithm")
case("alg_ES256_attacker_ec_key", lambda c: compact(c.hdr(alg="ES256"), c.pay(),
                                                    lambda si: es256_sign(c.ec_key, si)),
     "unsupported algorithm")
case("alg_EdDSA", lambda c: c.token(header={"alg": "EdDSA"}), "unsupported algorithm")
case("alg_rs256_lowercase", lambda c: c.token(header={"alg": "rs256"}), "unsupported algorithm")
case("alg_RS256_trailing_space", lambda c: c.token(header={"alg": "RS256 "}), "unsupported algorithm")
case("alg_array", lambda c: c.token(header={"alg": ["RS256"]}), "unsupported algorithm")
case("alg_null", lambda c: c.token(header={"alg": None}), "unsupported algorithm")
case("alg_missing", lambda c: c.token(header={"alg": REMOVE}), "unsupported algorithm")
# A NUL after RS256 (a C strcmp would stop there): jansson refuses \u0000, so the
# header is not JSON the module accepts (rule: strings with NUL are malformed).
case("alg_RS256_nul_suffix", lambda c: c.token(header={"alg": Raw('"RS256\\u0000"')}), "malformed")
# The header says RS256 but the signature is RS512's: just a bad signature.
case("alg_RS256_signed_rs512", lambda c: compact(c.hdr(), c.pay(),
                                                 lambda si: rs_sign(c.key, si, "RS512")),
     "bad signature")

# kid injection: signed by the attacker (no key of ours could sign anyway); the kid
# is only ever looked up in the key set, never a file, query or command.
KID_INJECTIONS = {
    "path_traversal": "../../etc/passwd",
    "path_traversal_deep": "../../../../../../../../etc/shadow",
    "dev_null": "/dev/null",
    "sql_or": "' OR 1=1 --",
    "sql_union": "k1' UNION SELECT 'x",
    "cmd_semicolon": "; id",
    "cmd_subshell": "$(id)",
    "cmd_backticks": "`id`",
    "cmd_pipe": "| id",
    "format_string": "%s%s%s%n%n",
    "crlf_log_injection": "k1\r\n[auth_authos:error] forged",
    "url": "http://127.0.0.1:1/jwks.json",
    "very_long": "k" * 10000,
    "our_kid_uppercase": "K2",
    "our_kid_trailing_space": "k2 ",
}
# The forged text would match the error-log audit's level regex inside the (info)
# refusal line, hence the allowed pattern.
FORGED_LINE = r"\[auth_authos:info\].*AUTHOS0023: token refused: unknown key .*forged"
for _name, _kid in KID_INJECTIONS.items():
    case("kid_%s" % _name, lambda c, k=_kid: c.token(header={"kid": k}, key=c.attacker.private_key),
         "unknown key", allow_log=[FORGED_LINE])
case("kid_nul_byte", lambda c: c.token(header={"kid": Raw('"k2\\u0000../../etc/passwd"')}), "malformed")
case("kid_empty", lambda c: c.token(header={"kid": ""}), "malformed")
case("kid_number", lambda c: c.token(header={"kid": 2}), "malformed")
case("kid_array", lambda c: c.token(header={"kid": ["k2"]}), "malformed")
case("kid_object", lambda c: c.token(header={"kid": {"kid": "k2"}}), "malformed")
case("kid_null", lambda c: c.token(header={"kid": None}), "malformed")
case("kid_true", lambda c: c.token(header={"kid": True}), "malformed")
case("kid_missing", lambda c: c.token(header={"kid": REMOVE}), "malformed")

# Keys named or embedded by the token: never used, never fetched (the listener
# behind jku/x5u serves the attacker's JWKS under every kid; it must see nothing).
for _member in ("jku", "x5u", "jwk", "x5c"):
    case("%s_attacker_kid" % _member, lambda c, m=_member: header_key_token(c, m, False),
         "unknown key", fetch_check=True)
    case("%s_our_kid" % _member, lambda c, m=_member: header_key_token(c, m, True),
         "bad signature", fetch_check=True)
case("jwk_embedded_without_kid", lambda c: c.token(
    header={"kid": REMOVE, "jwk": c.attacker.public_jwk()}, key=c.attacker.private_key), "malformed")
case("jku_x5u_on_a_valid_token_ignored", lambda c: c.token(
    header={"jku": c.listener.url("/jwks.json"), "x5u": c.listener.url("/x.pem")}), OK,
    fetch_check=True)

# Signatures.
case("sig_empty", lambda c: with_sig(c.token(), ""), "malformed")
case("sig_truncated_one_char", lambda c: c.token()[:-1], "malformed")    # 341 chars: 341 % 4 == 1
case("sig_truncated_two_chars", lambda c: c.token()[:-2], "bad signature")   # 255 bytes
case("sig_truncated_half", lambda c: with_sig(c.token(), b64u(sig_of(c.token())[:128])), "bad signature")
case("sig_one_byte", lambda c: with_sig(c.token(), "AA"), "bad signature")
case("sig_all_zero", lambda c: with_sig(c.token(), b64u(bytes(256))), "bad signature")
case("sig_all_ff_above_modulus", lambda c: with_sig(c.token(), b64u(b"\xff" * 256)), "bad signature")
case("sig_doubled", lambda c: with_sig(c.token(), b64u(sig_of(c.token()) * 2)), "bad signature")
case("sig_other_listed_key_same_kid", lambda c: c.token(key=c.issuer.key(c.other_kid).private_key),
     "bad signature")
case("sig_retired_key_own_kid", lambda c: c.token(header={"kid": "k3"}, key=c.issuer.key("k3").private_key),
     "unknown key")
case("sig_foreign_key_same_kid", lambda c: c.token(key=c.attacker.private_key), "bad signature")
case("sig_of_another_token", lambda c: with_sig(c.token(sub="user-1"),
                                                c.token(sub="admin").rsplit(".", 1)[1]),
     "bad signature")
case("sig_bitflip_first_byte", lambda c: flip_sig(c.token(), 0, 0x80), "bad signature")
case("sig_bitflip_middle_byte", lambda c: flip_sig(c.token(), 128), "bad signature")
case("sig_bitflip_last_byte", lambda c: flip_sig(c.token(), 255), "bad signature")
case("payload_bitflip_not_resigned", lambda c: flip_part(c.token(sub="user-123"), 1, 10, 0x02),
     "bad signature")
case("payload_sub_swapped_not_resigned", lambda c: c.token(sub="user-123").split(".")[0] + "."
     + b64u(c.pay(sub="admin-123")) + "." + c.token(sub="user-123").split(".")[2], "bad signature")
# A bit flipped inside a header member the module does not check: bad signature.
case("header_bitflip_unchecked_member", lambda c: flip_part(
    c.token(hextra=[("x", jv("aaaaaaaa"))]), 0, len(c.hdr(extra=[("x", jv("aaaaaaaa"))])) - 4),
    "bad signature")
# A bit flipped in the header's first byte: '{' becomes 'z', no longer JSON.
case("header_bitflip_breaks_json", lambda c: flip_part(c.token(), 0, 0, 0x01), "malformed")

# Duplicate JSON members (SPEC 5: payload without duplicate keys; duplicate keys
# in the header are malformed), whatever order the two values come in.
case("header_dup_alg_rs256_then_none", lambda c: dup_header(c, ("alg", jv("none"))), "malformed")
case("header_dup_alg_none_then_rs256", lambda c: c.sign(
    jobj(("alg", jv("none")), ("kid", jv(c.kid)), ("alg", jv("RS256"))), c.pay()), "malformed")
case("header_dup_kid", lambda c: dup_header(c, ("kid", jv(c.other_kid))), "malformed")
case("header_dup_typ", lambda c: dup_header(c, ("typ", jv("authos-mfa-preauth+jwt"))), "malformed")
case("header_dup_kid_via_escape", lambda c: dup_header(c, (RawJSON('"\\u006bid"'), jv(c.kid))), "malformed")
case("payload_dup_sub", lambda c: dup_payload(c, ("sub", jv("admin"))), "malformed")
case("payload_dup_exp_past_then_future", lambda c: dup_payload(c, ("exp", jv(now() + 3600)),
                                                                exp=now() - 3600), "malformed")
case("payload_dup_exp_future_then_past", lambda c: dup_payload(c, ("exp", jv(now() - 3600))),
     "malformed")
case("payload_dup_iss", lambda c: dup_payload(c, ("iss", jv("https://evil.example"))), "malformed")
case("payload_dup_aud", lambda c: dup_payload(c, ("aud", jv("platform"))), "malformed")
case("payload_dup_mfa_required", lambda c: dup_payload(c, ("mfa_required", jv(False)),
                                                       mfa_required=True), "malformed")
case("payload_dup_sub_via_escape", lambda c: dup_payload(c, (RawJSON('"\\u0073ub"'), jv("admin"))), "malformed")
# Rule (not in SPEC): jansson's JSON_REJECT_DUPLICATES also covers nested objects,
# so a duplicate anywhere in the payload is malformed.
case("payload_dup_in_nested_object", lambda c: dup_payload(c, ("x", '{"a":1,"a":2}')), "malformed")
case("payload_keys_differing_in_case_are_distinct", lambda c: dup_payload(c, ("SUB", jv("admin"))), OK)

# Nesting and size.  Rule (not in SPEC): jansson refuses JSON nested 2048 levels or
# deeper (JSON_PARSER_MAX_DEPTH), the top-level object counting as one: malformed.
case("payload_nested_100", lambda c: dup_payload(c, ("deep", nested(100))), OK)
case("payload_nested_2046_inside_object", lambda c: dup_payload(c, ("deep", nested(2046))), OK)
case("payload_nested_2047_inside_object", lambda c: dup_payload(c, ("deep", nested(2047))), "malformed")
case("payload_nested_5000", lambda c: dup_payload(c, ("deep", nested(5000))), "malformed")
case("payload_nested_objects_3000", lambda c: dup_payload(
    c, ("deep", '{"a":' * 3000 + "1" + "}" * 3000)), "malformed")
case("header_nested_3000", lambda c: dup_header(c, ("deep", nested(3000))), "malformed")
case("payload_1000_members", lambda c: many_members(c, 1000), OK)
case("payload_2000_members_over_size_limit", lambda c: many_members(c, 2000), "malformed")
case("header_over_size_limit", lambda c: dup_header(c, ("pad", jv("x" * 13000))), "malformed")
case("token_16383", lambda c: sized(c, TOKEN_MAX - 1), OK)
case("token_exactly_16384", lambda c: sized(c, TOKEN_MAX), OK)
case("token_16385", lambda c: sized(c, TOKEN_MAX + 1), "malformed")
case("token_40000", lambda c: c.token(filler="x" * 30000), "malformed")

# Numbers: exp/nbf/iat must be JSON numbers (SPEC 5: non-numeric is malformed).
_FUT = lambda: now() + 3600  # noqa: E731
case("exp_numeric_string", lambda c: c.token(exp="9999999999"), "malformed")
case("exp_string_of_future_time", lambda c: c.token(exp=str(_FUT())), "malformed")
case("nbf_numeric_string", lambda c: c.token(nbf="0"), "malformed")
case("iat_numeric_string", lambda c: c.token(iat=str(now())), "malformed")
case("exp_float_future", lambda c: c.token(exp=_FUT() + 0.25), OK)
case("exp_float_past", lambda c: c.token(exp=now() - 3600.5), "expired")
case("exp_true", lambda c: c.token(exp=True), "malformed")
case("exp_false", lambda c: c.token(exp=False), "malformed")
case("exp_null", lambda c: c.token(exp=None), "malformed")
case("exp_array", lambda c: c.token(exp=[_FUT()]), "malformed")
case("exp_object", lambda c: c.token(exp={"$date": _FUT()}), "malformed")
case("exp_NaN", lambda c: c.token(exp=Raw("NaN")), "malformed")            # not JSON
case("exp_Infinity", lambda c: c.token(exp=Raw("Infinity")), "malformed")  # not JSON
case("exp_hex", lambda c: c.token(exp=Raw("0x7fffffff")), "malformed")     # not JSON
case("exp_leading_zero", lambda c: c.token(exp=Raw("0" + str(_FUT()))), "malformed")   # not JSON
case("exp_plus_sign", lambda c: c.token(exp=Raw("+" + str(_FUT()))), "malformed")      # not JSON
# Rule (not in SPEC): jansson refuses integers beyond 64 bits and reals that
# overflow a double ("too big integer", "real number overflow"): malformed.
case("exp_1e400_overflow", lambda c: c.token(exp=Raw("1e400")), "malformed")
case("exp_2_pow_63", lambda c: c.token(exp=Raw(str(2 ** 63))), "malformed")
case("exp_int64_max", lambda c: c.token(exp=Raw(str(2 ** 63 - 1))), OK)
case("exp_1e10_real", lambda c: c.token(exp=Raw("1e10")), OK)
case("exp_int64_min", lambda c: c.token(exp=Raw(str(-2 ** 63))), "expired")
case("exp_negative", lambda c: c.token(exp=-1), "expired")
case("exp_zero", lambda c: c.token(exp=0), "expired")
case("exp_missing", lambda c: c.token(exp=REMOVE), "malformed")
case("nbf_true", lambda c: c.token(nbf=True), "malformed")
case("nbf_float_future", lambda c: c.token(nbf=now() + 3600.5), "not yet valid")
case("iat_null", lambda c: c.token(iat=None), "malformed")
case("iat_bool", lambda c: c.token(iat=False), "malformed")
case("mfa_required_zero", lambda c: c.token(mfa_required=0), "malformed")

# Unicode escapes and encodings.  JSON escapes mean what they decode to.
case("sub_escaped_admin", lambda c: c.token(sub=Raw('"\\u0061dmin"')), OK)
case("iss_escaped_equal", lambda c: c.token(iss=Raw(json.dumps(c.issuer.issuer).replace("h", "\\u0068", 1))),
     OK)
case("aud_escaped_equal", lambda c: c.token(aud=Raw('"\\u0073ervice:acme\\/billing"')), OK)
case("alg_escaped_RS256", lambda c: c.token(header={"alg": Raw('"RS\\u0032\\u0035\\u0036"')}), OK)
case("typ_escaped_profile", lambda c: c.token(header={"typ": Raw('"\\u0061t+jwt"')},
                                              token_use="external_resource_access"), OK)
case("sub_surrogate_pair", lambda c: c.token(sub=Raw('"\\ud83d\\ude00"')), OK)
case("sub_utf8_non_ascii", lambda c: c.token(sub="ädmin-☃"), OK)
# Rule (not in SPEC): jansson refuses \u0000 (no JSON_ALLOW_NUL) and lone
# surrogates: malformed, so "admin\0..." can never be cut short by C code.
case("sub_escaped_nul", lambda c: c.token(sub=Raw('"admin\\u0000user-123"')), "malformed")
case("unrelated_claim_escaped_nul", lambda c: c.token(note=Raw('"\\u0000"')), "malformed")
case("sub_lone_high_surrogate", lambda c: c.token(sub=Raw('"\\ud800"')), "malformed")
case("sub_lone_low_surrogate", lambda c: c.token(sub=Raw('"\\udc00admin"')), "malformed")
case("sub_raw_control_char", lambda c: c.token(sub=Raw('"ad\x01min"')), "malformed")   # not JSON
# Not UTF-8 (RFC 8259 section 8.1): malformed.
case("payload_invalid_utf8", lambda c: payload_bytes_token(
    c, c.pay(sub="admin").encode().replace(b"admin", b"adm\xffin")), "malformed")
case("payload_overlong_utf8", lambda c: payload_bytes_token(
    c, c.pay(sub="admin").encode().replace(b"admin", b"adm\xc0\xafin")), "malformed")
case("payload_cesu8_surrogate", lambda c: payload_bytes_token(
    c, c.pay(sub="admin").encode().replace(b"admin", b"adm\xed\xa0\x80in")), "malformed")
case("payload_utf8_bom", lambda c: payload_bytes_token(c, b"\xef\xbb\xbf" + c.pay().encode()), "malformed")
case("payload_utf16", lambda c: payload_bytes_token(c, c.pay().encode("utf-16-le")), "malformed")
case("header_utf8_bom", lambda c: compact(b"\xef\xbb\xbf" + c.hdr().encode(), c.pay(),
                                          lambda si: rs_sign(c.key, si)), "malformed")
case("payload_trailing_garbage", lambda c: payload_bytes_token(c, c.pay().encode() + b'{"sub":"admin"}'),
     "malformed")
case("payload_two_objects_whitespace", lambda c: payload_bytes_token(
    c, c.pay().encode() + b" \n" + c.pay(sub="admin").encode()), "malformed")
case("payload_not_object", lambda c: payload_bytes_token(c, b'"user-123"'), "malformed")
case("payload_empty_object", lambda c: payload_bytes_token(c, b"{}"), "malformed")   # no exp

# base64url strictness (SPEC 5.1: padding or illegal characters are invalid).
case("header_padded", lambda c: pad_part(c.token(), 0), "malformed")
case("payload_padded", lambda c: pad_part(c.token(), 1), "malformed")
case("signature_padded", lambda c: c.token() + "==", "malformed")
case("signature_standard_alphabet", std_b64_signature, "malformed")
case("signature_noncanonical_unused_bits", noncanonical_last_char, "malformed")
case("payload_standard_b64_of_same_bytes", std_b64_payload, "malformed")
case("space_inside_token", lambda c: (lambda t: t[:20] + " " + t[20:])(c.token()), "malformed")
case("tab_inside_token", lambda c: (lambda t: t[:20] + "\t" + t[20:])(c.token()), "malformed")
case("percent_encoded_dot", lambda c: c.token().replace(".", "%2E", 1), "malformed")
case("two_parts", lambda c: c.token().rsplit(".", 1)[0], "malformed")
case("four_parts", lambda c: c.token() + "." + b64u(b"x"), "malformed")
case("trailing_dot", lambda c: c.token() + ".", "malformed")
case("jwe_five_parts", lambda c: ".".join([b64u('{"alg":"RSA-OAEP","enc":"A256GCM","kid":"k2"}'),
                                           "AAAA", "AAAA", "AAAA", "AAAA"]), "malformed")
case("json_serialization", lambda c: json.dumps({"payload": "x", "signatures": []}), "malformed")
case("empty_header_part", lambda c: "." + c.token().split(".", 1)[1], "malformed")
case("empty_payload_part_detached", lambda c: (lambda p: p[0] + ".." + p[2])(c.token().split(".")),
     "malformed")
# Whitespace around the token is not part of it: OWS after "Bearer" is skipped by
# the module (SPEC 5.1 "Bearer <token>"), trailing OWS is trimmed by httpd.
case("leading_spaces", lambda c: Req([("Authorization", "Bearer    " + c.token())]), OK)
case("trailing_spaces_and_tab", lambda c: Req([("Authorization", "Bearer " + c.token() + "  \t")]), OK)

# Header and cookie smuggling.
case("scheme_lowercase_bearer", lambda c: Req([("Authorization", "bearer " + c.token())]), OK)
case("scheme_uppercase_bearer", lambda c: Req([("Authorization", "BEARER " + c.token())]), OK)
case("scheme_two_spaces", lambda c: Req([("Authorization", "Bearer  " + c.token())]), OK)
case("scheme_tab_separator", lambda c: Req([("Authorization", "Bearer\t" + c.token())]), OK)
# Rule: httpd unfolds an obs-fold continuation line into one value, so a folded
# "Bearer\r\n <token>" is the plain bearer token.
case("scheme_obs_fold", lambda c: Req([b"Authorization: Bearer", b" " + c.token().encode()]), OK)
case("scheme_without_separator", lambda c: Req([("Authorization", "Bearer" + c.token())]), NO_TOKEN)
case("scheme_with_colon", lambda c: Req([("Authorization", "Bearer: " + c.token())]), NO_TOKEN)
case("scheme_bearer_empty", lambda c: Req([("Authorization", "Bearer ")]), NO_TOKEN)
case("scheme_basic", lambda c: Req([("Authorization", "Basic dXNlcjpwYXNz")]), NO_TOKEN)
case("scheme_basic_carrying_token", lambda c: Req([("Authorization", "Basic " + c.token())]), NO_TOKEN)
case("scheme_token", lambda c: Req([("Authorization", "Token " + c.token())]), NO_TOKEN)
case("scheme_jwt", lambda c: Req([("Authorization", "JWT " + c.token())]), NO_TOKEN)
case("scheme_dpop", lambda c: Req([("Authorization", "DPoP " + c.token())]), NO_TOKEN)
case("two_tokens_comma", lambda c: Req([("Authorization", "Bearer %s, Bearer %s"
                                         % (c.token(), c.token()))]), "malformed")
case("two_tokens_bare_comma", lambda c: Req([("Authorization", "Bearer %s,%s" % (c.token(), c.token()))]),
     "malformed")
case("two_tokens_space", lambda c: Req([("Authorization", "Bearer %s %s" % (c.token(), c.token()))]),
     "malformed")
case("token_quoted", lambda c: Req([("Authorization", 'Bearer "%s"' % c.token())]), "malformed")
case("proxy_authorization_header", lambda c: Req([("Proxy-Authorization", "Bearer " + c.token())]),
     NO_TOKEN)
case("x_access_token_header", lambda c: Req([("X-Access-Token", c.token()),
                                             ("X-Authorization", "Bearer " + c.token())]), NO_TOKEN)
case("token_in_query_string", lambda c: Req([], path=PROTECTED + "?access_token=" + c.token()), NO_TOKEN)
case("token_in_form_like_query", lambda c: Req([], path=PROTECTED + "?authorization=Bearer%20"
                                                + c.token()), NO_TOKEN)
# Two Authorization header lines really on the wire: httpd merges them into one
# value ("a, b") that is not a token (README: 401 malformed), whatever the case of
# the names; a Basic line first makes the merged value a Basic one: no token.
case("two_authorization_headers_same_token", lambda c: Req(bearer(c.token()) + bearer(c.token())),
     "malformed")
case("two_authorization_headers_valid_and_expired", lambda c: Req(
    bearer(c.token()) + bearer(c.token(exp=now() - 3600))), "malformed")
case("two_authorization_headers_name_case", lambda c: Req(
    [("Authorization", "Bearer " + c.token()), ("authorization", "Bearer " + c.token())]), "malformed")
case("two_authorization_headers_bearer_then_basic", lambda c: Req(
    bearer(c.token()) + [("Authorization", "Basic dXNlcjpwYXNz")]), "malformed")
case("two_authorization_headers_basic_then_bearer", lambda c: Req(
    [("Authorization", "Basic dXNlcjpwYXNz")] + bearer(c.token())), NO_TOKEN)
# The cookie is read only when there is no bearer header (SPEC 5.1).
case("cookie_valid_header_valid", lambda c: Req(bearer(c.token()) + [("Cookie", "authos_at=" + c.token())],
                                                path=COOKIE_PATH), OK)
case("cookie_expired_header_valid", lambda c: Req(
    bearer(c.token()) + [("Cookie", "authos_at=" + c.token(exp=now() - 3600))], path=COOKIE_PATH), OK)
case("cookie_valid_header_expired", lambda c: Req(
    bearer(c.token(exp=now() - 3600)) + [("Cookie", "authos_at=" + c.token())], path=COOKIE_PATH),
    "expired")
case("cookie_valid_header_junk", lambda c: Req(
    bearer("junk") + [("Cookie", "authos_at=" + c.token())], path=COOKIE_PATH), "malformed")
case("cookie_only_valid", lambda c: Req([("Cookie", "a=1; authos_at=" + c.token() + "; b=2")],
                                        path=COOKIE_PATH), OK)
case("cookie_only_alg_none", lambda c: Req([("Cookie", "authos_at=" + alg_none(c, "none", "junk"))],
                                           path=COOKIE_PATH), "unsupported algorithm")
# Rule: a non-Bearer Authorization (Basic) counts as no token (SPEC 5 table), so
# the configured cookie is still read.
case("cookie_valid_header_basic", lambda c: Req(
    [("Authorization", "Basic dXNlcjpwYXNz"), ("Cookie", "authos_at=" + c.token())], path=COOKIE_PATH), OK)
case("cookie_valid_header_bearer_empty", lambda c: Req(
    [("Authorization", "Bearer "), ("Cookie", "authos_at=" + c.token())], path=COOKIE_PATH), OK)
# Rule: the same cookie twice (one header or two) is refused by httpd's
# ap_cookie_read (it logs AH00011 at error level): the module sees no token.
case("cookie_twice_expired_then_valid", lambda c: Req(
    [("Cookie", "authos_at=%s; authos_at=%s" % (c.token(exp=now() - 3600), c.token()))],
    path=COOKIE_PATH, allow_log=[r"AH00011: ap_cookie: client submitted cookie 'authos_at' more than once"]),
    NO_TOKEN)
case("cookie_twice_in_two_headers", lambda c: Req(
    [("Cookie", "authos_at=" + c.token()), ("Cookie", "authos_at=" + c.token(exp=now() - 3600))],
    path=COOKIE_PATH, allow_log=[r"AH00011: ap_cookie: client submitted cookie 'authos_at' more than once"]),
    NO_TOKEN)
case("cookie_quoted_value", lambda c: Req([("Cookie", 'authos_at="%s"' % c.token())], path=COOKIE_PATH),
     "malformed")
case("cookie_similar_name", lambda c: Req([("Cookie", "xauthos_at=" + c.token())], path=COOKIE_PATH),
     NO_TOKEN)
case("cookie_where_not_configured", lambda c: Req([("Cookie", "authos_at=" + c.token())]), NO_TOKEN)

# Token profiles AuthOS refuses (SPEC 2 and 5.2).
for _typ in ("authos-mfa-preauth+jwt", "authos-impersonation+jwt", "oauth-id-jag+jwt",
             "application/authos-mfa-preauth+jwt", "AUTHOS-IMPERSONATION+JWT", "application/OAUTH-ID-JAG+JWT",
             "", "at+jwt ", "JWS", "JOSE", "jwt+authos-management"):
    case("typ_%s" % (re.sub(r"[^A-Za-z0-9]+", "_", _typ) or "empty"),
         lambda c, t=_typ: c.token(header={"typ": t}), "unsupported token type")
case("typ_number", lambda c: c.token(header={"typ": 1}), "malformed")
case("typ_null", lambda c: c.token(header={"typ": None}), "malformed")
case("typ_JWT_accepted", lambda c: c.token(header={"typ": "JWT"}), OK)
case("token_use_mfa_preauth", lambda c: c.token(header={"typ": REMOVE}, token_use="mfa_preauth"),
     "unsupported token use")
case("token_use_impersonation_like", lambda c: c.token(token_use="impersonation"), "unsupported token use")
case("mfa_required_true", lambda c: c.token(mfa_required=True), "mfa required")
case("act_claim", lambda c: c.token(act={"sub": "admin-1"}), "delegated token")
# Rule: any act member counts, even null (RFC 8693: its presence marks delegation).
case("act_null", lambda c: c.token(act=None), "delegated token")

# crit (SPEC 5.2: crit present is invalid), whatever it lists.
case("crit_exp", lambda c: c.token(header={"crit": ["exp"]}), "unsupported critical header")
case("crit_empty_list", lambda c: c.token(header={"crit": []}), "unsupported critical header")
case("crit_b64_false", lambda c: c.token(header={"crit": ["b64"], "b64": False}),
     "unsupported critical header")
case("crit_null", lambda c: c.token(header={"crit": None}), "unsupported critical header")
case("crit_string", lambda c: c.token(header={"crit": "exp"}), "unsupported critical header")
# Rule: without crit, b64 is an ordinary unknown header member (RFC 7797 section 6
# requires crit for it): the payload is still base64url and the token verifies.
case("b64_false_without_crit", lambda c: c.token(header={"b64": False}), OK)

# Times in the future, and the order of the checks (SPEC 5: exp, nbf, iat).
case("nbf_future", lambda c: c.token(nbf=now() + 3600), "not yet valid")
case("iat_future", lambda c: c.token(iat=now() + 3600), "issued in the future")
case("nbf_and_iat_future", lambda c: c.token(nbf=now() + 3600, iat=now() + 3600), "not yet valid")
case("expired_and_nbf_future", lambda c: c.token(exp=now() - 3600, nbf=now() + 3600), "expired")
case("exp_far_future_iat_future", lambda c: c.token(exp=now() + 10 * 365 * 86400, iat=now() + 86400),
     "issued in the future")
case("valid_reference_token", lambda c: c.token(), OK)


@pytest.mark.parametrize("name", list(CASES))
def test_attack(srv, ctx, name):
    build, expect, kw = CASES[name]
    spec = build(ctx)
    srv.allowed_now.extend(kw.get("allow_log", []))
    if isinstance(spec, Req):
        srv.allowed_now.extend(spec.allow_log)
    before = ctx.listener.hits
    mark = srv.log_mark()
    check(srv, spec, expect)
    if expect not in (OK, NO_TOKEN):
        line = srv.wait_for_log(r"AUTHOS0023: token refused: ([^(]*) \(", since=mark, timeout=2)
        assert line is not None and line.group(1).strip() == expect, line and line.group(0)
    if kw.get("fetch_check"):
        time.sleep(0.3)
        assert ctx.listener.hits == before == 0, ctx.listener.request_lines


def test_header_key_urls_never_fetched(srv, ctx):
    """Every jku/x5u/jwk/x5c case again, then zero connections to the listener."""
    for name, (build, expect, kw) in CASES.items():
        if kw.get("fetch_check"):
            check(srv, build(ctx), expect)
    time.sleep(0.5)
    assert ctx.listener.hits == 0, ctx.listener.request_lines


def test_kid_injection_is_logged_escaped(srv, ctx):
    """The CR/LF kid cannot forge a log line: it is escaped on the AUTHOS0023 line."""
    srv.allowed_now.append(FORGED_LINE)
    mark = srv.log_mark()
    check(srv, ctx.token(header={"kid": KID_INJECTIONS["crlf_log_injection"]}, key=ctx.attacker.private_key),
          "unknown key")
    line = srv.wait_for_log(r"[^\n]*AUTHOS0023:[^\n]*", since=mark, timeout=2)
    assert line is not None
    assert re.match(r"\[[^]]+\] \[auth_authos:info\] ", line.group(0))
    assert "kid=k1\\" in line.group(0) and "\r" not in line.group(0)      # CR LF escaped
    assert not re.search(r"^\[auth_authos:error\] forged", srv.error_log_since(mark), re.M)


def test_escaped_sub_reaches_the_app_decoded(srv, ctx):
    """"\\u0061dmin" is the string "admin": that is the user the application sees."""
    status, headers, body = raw_request(srv.port, "/cgi/env.py", bearer(ctx.token(sub=Raw('"\\u0061dmin"'))))
    assert status == 200
    env = json.loads(body)["env"]
    assert env["REMOTE_USER"] == "admin" and env["AUTHOS_SUB"] == "admin"
    assert env["HTTP_X_AUTHOS_SUB"] == "admin"


SPOOFED = [("X-AuthOS-Sub", "spoofed-sub"), ("x-authos-sub", "spoofed-sub-2"),
           ("X_AuthOS_Email", "spoofed@evil.example"), ("X-AUTHOS-PERMISSIONS", "admin:*"),
           ("X-Authos-Is-Platform-Owner", "true"), ("X-AuthOS-Org-Slug", "spoofed-org"),
           ("x_authos_service_slug", "spoofed-service"), ("X-AuthOS-Claims", '{"sub":"spoofed"}'),
           ("X-Other", "kept")]


def _authos_like(name):
    return name.lower().replace("_", "-").startswith("x-authos-")


def test_spoofed_x_authos_headers_never_reach_cgi(srv, ctx):
    # Protected, valid token (claims passed as env and headers): only the module's values.
    status, _, body = raw_request(srv.port, "/cgi/env.py", bearer(ctx.token()) + SPOOFED)
    assert status == 200
    env = json.loads(body)["env"]
    assert "spoofed" not in body.decode() and "admin:*" not in body.decode()
    assert env["HTTP_X_AUTHOS_SUB"] == "user-123" and env["AUTHOS_SUB"] == "user-123"
    assert env["HTTP_X_AUTHOS_IS_PLATFORM_OWNER"] == "false"
    assert "HTTP_X_AUTHOS_PERMISSIONS" not in env and "HTTP_X_AUTHOS_CLAIMS" not in env
    assert env["HTTP_X_OTHER"] == "kept"
    # Unprotected CGI: stripped as well.
    status, _, body = raw_request(srv.port, "/cgi-bin/env.py", SPOOFED)
    assert status == 200
    env = json.loads(body)["env"]
    assert not [k for k in env if k.startswith("HTTP_X_AUTHOS")] and "REMOTE_USER" not in env
    # Refused token: the CGI never runs.
    status, headers, body = raw_request(srv.port, "/cgi/env.py", bearer(ctx.token(exp=now() - 3600)) + SPOOFED)
    assert status == 401 and headers["www-authenticate"] == [invalid("expired")]
    assert b"spoofed" not in body


def test_spoofed_x_authos_headers_never_reach_proxied_backend(srv, ctx):
    status, _, body = raw_request(srv.port, "/proxied/x", bearer(ctx.token()) + SPOOFED)
    assert status == 200
    got = [(k, v) for k, v in json.loads(body)["headers"] if _authos_like(k)]
    assert sorted(got) == sorted([("X-AuthOS-Sub", "user-123"), ("X-AuthOS-Email", "alice@example.com"),
                                  ("X-AuthOS-Org-Slug", "acme"), ("X-AuthOS-Service-Slug", "billing"),
                                  ("X-AuthOS-Is-Platform-Owner", "false")])
    assert b"spoofed" not in body and b"admin:*" not in body
    # Unprotected proxy path.
    status, _, body = raw_request(srv.port, "/open/y", SPOOFED)
    assert status == 200
    assert not [k for k, _ in json.loads(body)["headers"] if _authos_like(k)]
    assert ["X-Other", "kept"] in json.loads(body)["headers"]
    # No token and a refused token: 401, the backend is not reached.
    for lines in (SPOOFED, bearer(alg_none(ctx, "none", "junk")) + SPOOFED):
        status, headers, body = raw_request(srv.port, "/proxied/z", lines)
        assert status == 401 and b"spoofed" not in body

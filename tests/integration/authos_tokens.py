"""Token building blocks shared by the stub issuer, its CLI and the tests.

Everything here is deliberately done by hand (no JWT library) so tests can
build any token, well-formed or hostile: base64url without padding,
compact JWS signing over arbitrary header/payload bytes with RS256
(RSASSA-PKCS1-v1_5 + SHA-256), HS256 (key confusion) and alg "none", and
RSA keys with their JWK form.

    from authos_tokens import b64url, sign_raw, REMOVE
    token = sign_raw(b'{"alg":"RS256","kid":"k1","kid":"k2"}', b'{"sub":"x"}', key)
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# Passed as a claim or header value to mint(): the field is left out.
REMOVE = object()


def b64url(data):
    """base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    """Lenient base64url decoding (padding optional), for test-side inspection."""
    if isinstance(text, str):
        text = text.encode("ascii")
    return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))


def json_bytes(obj):
    """Compact JSON as AuthOS's jsonwebtoken library emits it."""
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def _int_b64(value):
    return b64url(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def sign_raw(header_bytes, payload_bytes, private_key):
    """Compact RS256 JWS over arbitrary header/payload bytes (duplicate keys, etc.)."""
    signing_input = (b64url(header_bytes) + "." + b64url(payload_bytes)).encode("ascii")
    signature = private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return signing_input.decode("ascii") + "." + b64url(signature)


def hs256_raw(header_bytes, payload_bytes, secret):
    """Compact JWS with an HMAC-SHA256 signature (for key confusion attacks)."""
    signing_input = (b64url(header_bytes) + "." + b64url(payload_bytes)).encode("ascii")
    mac = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return signing_input.decode("ascii") + "." + b64url(mac)


def unsigned_raw(header_bytes, payload_bytes):
    """Compact JWS with an empty signature, the shape of an alg "none" token."""
    return b64url(header_bytes) + "." + b64url(payload_bytes) + "."


def decode_unverified(token):
    """(header, payload) dicts of a compact JWS, without any verification."""
    parts = token.split(".")
    return json.loads(b64url_decode(parts[0])), json.loads(b64url_decode(parts[1]))


def generate_rsa_key(key_size=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


_foreign_keys = {}
_foreign_lock = threading.Lock()


def foreign_key(key_size=2048):
    """A private key that no stub ever publishes (one per size per process)."""
    with _foreign_lock:
        if key_size not in _foreign_keys:
            _foreign_keys[key_size] = generate_rsa_key(key_size)
        return _foreign_keys[key_size]


class StubKey:
    """One signing key: kid, private key, and optional JWK field overrides."""

    def __init__(self, kid, private_key, jwk_overrides=None):
        self.kid = kid
        self.private_key = private_key
        self.jwk_overrides = dict(jwk_overrides or {})

    @property
    def public_key(self):
        return self.private_key.public_key()

    @property
    def key_size(self):
        return self.private_key.key_size

    def public_jwk(self):
        """The JWK as AuthOS publishes it; overrides with REMOVE drop a field."""
        numbers = self.public_key.public_numbers()
        jwk = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
               "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}
        for name, value in self.jwk_overrides.items():
            if value is REMOVE:
                jwk.pop(name, None)
            else:
                jwk[name] = value
        return jwk

    def public_pem(self):
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def private_pem(self):
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())


def default_header(kid):
    """The header AuthOS puts on a management access token."""
    return {"alg": "RS256", "kid": kid, "typ": "authos-management+jwt"}


def default_claims(issuer):
    """The claims of a current AuthOS management access token (no permissions claim)."""
    now = int(time.time())
    return {"sub": "user-123", "email": "alice@example.com", "is_platform_owner": False,
            "iss": issuer, "aud": "service:acme/billing", "iat": now, "exp": now + 3600,
            "jti": uuid.uuid4().hex, "token_use": "management_access",
            "org": "acme", "service": "billing"}


def apply_overrides(doc, overrides=None, remove=()):
    """Update doc with overrides, then drop fields named in remove or set to REMOVE."""
    doc.update(overrides or {})
    for name in list(doc):
        if doc[name] is REMOVE or name in remove:
            del doc[name]
    return doc


def verify_rs256(token, keys):
    """Claims of a compact RS256 token signed by one of keys (StubKeys) and not expired, else None.

    This is the issuer's own check for /api/user and logout, not a model of
    the module's verifier.
    """
    try:
        header_b64, payload_b64, sig_b64 = token.split(".")
        header = json.loads(b64url_decode(header_b64))
        claims = json.loads(b64url_decode(payload_b64))
        if header.get("alg") != "RS256":
            return None
        key = next((k for k in keys if k.kid == header.get("kid")), None)
        if key is None:
            return None
        key.public_key.verify(b64url_decode(sig_b64), (header_b64 + "." + payload_b64).encode("ascii"),
                              padding.PKCS1v15(), hashes.SHA256())
    except (ValueError, TypeError, AttributeError, InvalidSignature, UnicodeError):
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), (int, float)):
        return None
    if claims["exp"] < time.time():
        return None
    return claims


def load_state_keys(path):
    """StubKeys listed in a state file written by save_state(), active first."""
    with open(path) as fh:
        state = json.load(fh)
    by_kid = {k["kid"]: StubKey(k["kid"], serialization.load_pem_private_key(
        k["private_key_pem"].encode("ascii"), password=None)) for k in state["keys"]}
    return state, [by_kid[kid] for kid in state.get("listed_kids", [state["active_kid"]])]


def load_signing_key(path, kid=None):
    """(StubKey, base_url or None) from a stub state file or a PEM private key file."""
    with open(path, "rb") as fh:
        data = fh.read()
    if data.lstrip().startswith(b"{"):
        state, keys = load_state_keys(path)
        key = next((k for k in keys if k.kid == (kid or state["active_kid"])), keys[0])
        return key, state["base_url"]
    return StubKey(kid or "k1", serialization.load_pem_private_key(data, password=None)), None


def parse_claim(text):
    """NAME=VALUE with VALUE parsed as JSON, or kept as a string when it is not JSON."""
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise ValueError("expected name=value, got %r" % text)
    try:
        return name, json.loads(raw)
    except ValueError:
        return name, raw

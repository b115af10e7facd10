"""Hostile-token building blocks for test_110_attacks and test_120_differential.

Everything is done by hand (no JWT library) so a token can carry exactly the
bytes an attacker would send: raw JSON text (duplicate members, NaN, escapes,
deep nesting), signatures of other algorithms (RS384, RS512, PS256, ES256,
HS256/384/512 keyed with the RSA public key in its usual spellings), and
non-canonical base64.  Also: a TCP listener that counts every connection (to
prove that the module never fetches a jku/x5u URL), a keep-alive echo backend
for proxied requests, and a raw HTTP/1.1 client that sends header lines
exactly as given.

    from attack_tokens import jobj, jv, compact, rs_sign
    header = jobj(("alg", jv("RS256")), ("alg", jv("none")), ("kid", jv("k1")))
    token = compact(header, payload, lambda si: rs_sign(key, si))
"""

import base64
import datetime
import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

# ------------------------------------------------------------------ encoding
B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64u(data):
    """base64url without padding (RFC 7515 section 2)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text):
    """Lenient decoding (padding optional) for test-side inspection."""
    if isinstance(text, str):
        text = text.encode("ascii")
    return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))


def jv(value):
    """A JSON value as compact text (non-ASCII kept as UTF-8, not escaped)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class RawJSON(str):
    """JSON text used as is: a member name with escapes (RawJSON('"\\u0073ub"')), or a
    value such as NaN, 1e400 or deep nesting."""


def jobj(*pairs):
    """Raw JSON object text from (name, raw value text) pairs, in order, duplicates kept;
    a RawJSON name is used verbatim (quotes included)."""
    return "{" + ",".join((name if isinstance(name, RawJSON) else jv(name)) + ":" + raw
                          for name, raw in pairs) + "}"


def to_bytes(text):
    return text if isinstance(text, bytes) else text.encode("utf-8")


def signing_input(header, payload):
    """The JWS signing input of raw header/payload JSON (str or bytes)."""
    return (b64u(to_bytes(header)) + "." + b64u(to_bytes(payload))).encode("ascii")


def compact(header, payload, signer):
    """header.payload.signature with signer(signing_input bytes) -> signature bytes."""
    si = signing_input(header, payload)
    return si.decode("ascii") + "." + b64u(signer(si))


def nested(depth, leaf="1"):
    """`depth` nested JSON arrays around leaf: [[[1]]] for depth 3."""
    return "[" * depth + leaf + "]" * depth


# ---------------------------------------------------------------- signatures
def rs_sign(private_key, data, alg="RS256"):
    digest = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[alg]
    return private_key.sign(data, padding.PKCS1v15(), digest)


def ps256_sign(private_key, data):
    return private_key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                              salt_length=32), hashes.SHA256())


def es256_sign(ec_private_key, data):
    """JWS ES256: the raw r || s (32 bytes each), not DER."""
    r, s = decode_dss_signature(ec_private_key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def hs_sign(secret, data, alg="HS256"):
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    return hmac.new(secret, data, digest).digest()


def new_ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def public_key_forms(public_key, jwk):
    """The spellings of an RSA public key that key-confusion attacks use as an HMAC secret."""
    return {
        "pem_spki": public_key.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo),
        "pem_pkcs1": public_key.public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.PKCS1),
        "der_spki": public_key.public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo),
        "jwk_n_text": jwk["n"].encode("ascii"),
        "jwk_n_bytes": b64u_decode(jwk["n"]),
        "jwk_json": jv(jwk).encode("utf-8"),
    }


def self_signed_cert_der(private_key, name="attacker.example"):
    """A self-signed X.509 certificate of private_key (for an x5c header)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(private_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(private_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


# --------------------------------------------------------- counting listener
class CountingListener:
    """A TCP listener on 127.0.0.1 that counts every accepted connection and every
    request line, and answers any request with `body` (e.g. the attacker's JWKS), so
    a module that did fetch a jku/x5u URL would find the attacker's key there."""

    def __init__(self, body=b"{}", content_type="application/json"):
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.content_type = content_type
        self.connections = 0
        self.request_lines = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name="counting-listener-%d" % self.port)
        self._thread.start()

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def _serve(self):
        self._sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        try:
            conn.settimeout(2)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            with self._lock:
                self.request_lines.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n" % (self.content_type.encode(), len(self.body))
                         + self.body)
        except OSError:
            pass
        finally:
            conn.close()

    @property
    def hits(self):
        with self._lock:
            return self.connections

    def close(self):
        self._stop = True
        self._thread.join(2)
        self._sock.close()


# -------------------------------------------------------------- echo backend
class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        data = json.dumps({"method": self.command, "path": self.path,
                           "headers": [[k, v] for k, v in self.headers.items()]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class EchoBackend:
    """A mod_proxy backend answering every GET with its method, path and headers as JSON."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
        self.server.daemon_threads = True
        self.base_url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------ raw HTTP client
def raw_request(port, path, header_lines, method="GET", timeout=30):
    """Send one HTTP/1.1 request with these header lines exactly as given (repeated
    names stay separate, bytes are not validated), Connection: close.  header_lines:
    [(name, value)] or raw str/bytes lines.  Returns (status, {lower name: [values]}, body)."""
    lines = [("%s %s HTTP/1.1" % (method, path)).encode("latin-1"), b"Host: 127.0.0.1"]
    for item in header_lines:
        if isinstance(item, tuple):
            name, value = item
            item = "%s: %s" % (name, value)
        lines.append(item if isinstance(item, bytes) else item.encode("latin-1"))
    lines.append(b"Connection: close")
    request = b"\r\n".join(lines) + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    status = int(head_lines[0].split()[1])
    headers = {}
    for line in head_lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    if "chunked" in ",".join(headers.get("transfer-encoding", [])).lower():
        body = _dechunk(body)
    return status, headers, body


def _dechunk(data):
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return out


# ------------------------------------------------------------- token helpers
# Attack tokens built from an attack context c (see test_110_attacks.py: c.issuer, c.attacker,
# c.listener, ...).
def sig_of(token):
    return b64u_decode(token.rsplit(".", 1)[1])


def with_sig(token, sig_text):
    return token.rsplit(".", 1)[0] + "." + sig_text


def flip_sig(token, index, bit=0x01):
    sig = bytearray(sig_of(token))
    sig[index] ^= bit
    return with_sig(token, b64u(bytes(sig)))


def flip_part(token, part, index, bit=0x01):
    """Flip one bit of the decoded bytes of header (0) or payload (1), re-encoded canonically."""
    parts = token.split(".")
    data = bytearray(b64u_decode(parts[part]))
    data[index] ^= bit
    parts[part] = b64u(bytes(data))
    return ".".join(parts)


def std_b64_signature(c):
    """A valid token whose signature, in standard base64 (unpadded), has + or /."""
    for n in range(200):
        token = c.token(jti="std-%d" % n)
        std = base64.b64encode(sig_of(token)).decode().rstrip("=")
        if "+" in std or "/" in std:
            return with_sig(token, std)
    raise AssertionError("no signature with + or / in 200 tries")


def noncanonical_last_char(c):
    """The signature (256 bytes: 342 chars, 4 unused bits in the last one) with its
    unused bits set: standard decoders give the same bytes, strict base64url refuses."""
    token = c.token()
    sig = token.rsplit(".", 1)[1]
    assert len(sig) % 4 == 2
    value = B64URL_ALPHABET.index(sig[-1])
    assert value & 0x0F == 0
    return with_sig(token, sig[:-1] + B64URL_ALPHABET[value | 0x01])


def sized(c, length):
    """A valid token of exactly `length` characters: a filler claim grows the
    payload, a header member shifts the length where the payload alone cannot hit it
    (a base64url part is never 1 modulo 4 long).  Lengths are computed, then signed once."""
    sig_len = len(b64u(bytes(c.issuer.active_key.key_size // 8)))
    for hpad in range(4):
        hdr = c.hdr(extra=[("p", jv("y" * hpad))])
        fixed = len(b64u(hdr)) + 2 + sig_len
        pay0 = c.pay(filler="")
        n = max(0, (length - fixed - len(b64u(pay0))) * 3 // 4 - 4)
        while fixed + len(b64u(c.pay(filler="x" * n, jti="fixed-jti"))) < length:
            n += 1
        payload = c.pay(filler="x" * n, jti="fixed-jti")
        if fixed + len(b64u(payload)) == length:
            token = c.sign(hdr, payload)
            assert len(token) == length
            return token
    raise AssertionError("no token of length %d" % length)


def pad_part(token, index):
    """'=' padding on part `index` (at least one '=', as a lenient decoder would accept)."""
    parts = token.split(".")
    parts[index] += "=" * (-len(parts[index]) % 4 or 1)
    return ".".join(parts)


def std_b64_payload(c):
    """The payload part re-encoded in standard base64 (+ and /), same bytes."""
    parts = c.token(note="??>>??>>~~").split(".")
    std = base64.b64encode(b64u_decode(parts[1])).decode().rstrip("=")
    assert std != parts[1] and ("+" in std or "/" in std)
    return ".".join([parts[0], std, parts[2]])


def alg_none(c, spelling, signature):
    hdr = c.hdr(alg=spelling)
    pay = c.pay()
    si = signing_input(hdr, pay).decode()
    if signature == "empty":
        return si + "."
    if signature == "absent":
        return si
    if signature == "junk":
        return si + ".AAAA"
    return si + "." + b64u(rs_sign(c.key, si.encode()))     # a real RS256 signature


def hs_token(c, alg, form):
    jwk = c.issuer.active_key.public_jwk()
    secret = public_key_forms(c.issuer.active_key.public_key, jwk)[form]
    return compact(c.hdr(alg=alg), c.pay(), lambda si: hs_sign(secret, si, alg))


def header_key_token(c, member, our_kid):
    """The attacker's key named or embedded by the token, signed by the attacker."""
    evil = c.attacker
    kid = c.kid if our_kid else evil.kid
    extra = {
        "jku": c.listener.url("/jwks.json"),
        "x5u": c.listener.url("/cert.pem"),
        "jwk": dict(evil.public_jwk(), kid=kid),
        "x5c": [base64.b64encode(self_signed_cert_der(evil.private_key)).decode()],
    }[member]
    return c.token(header={"kid": kid, member: extra}, key=evil.private_key)


def dup_header(c, *pairs):
    """Default header members plus raw duplicate pairs appended."""
    return c.sign(c.hdr(extra=pairs), c.pay())


def dup_payload(c, *pairs, **over):
    return c.sign(c.hdr(), c.pay(extra=pairs, **over))


def payload_bytes_token(c, payload_bytes):
    """A token whose payload is exactly these bytes (invalid UTF-8, BOM, ...), signed."""
    return compact(c.hdr().encode(), payload_bytes, lambda si: rs_sign(c.key, si))


def many_members(c, count):
    return c.token(extra=[("m%d" % i, "0") for i in range(count)])

#!/usr/bin/python3
"""A stub AuthOS issuer for the mod_auth_authos integration tests and the demo.

It behaves like AuthOS 0.8.x as described in SPEC.md section 2: RS256 keys with
kids "k1", "k2", ... published at /.well-known/jwks.json (active key first, then
up to ten previous keys, no Cache-Control header), metadata at
/.well-known/authos-configuration, 404 for /.well-known/openid-configuration,
GET /api/user and POST /api/auth/logout with a bearer token, and a minimal
/authorize login that redirects with the token in the URL fragment.

Login (/authorize, query or form fields redirect_uri, state, org, service):

  GET /authorize   with stub.login_page False (the default for library use):
                   302 straight to redirect_uri#access_token=...&refresh_token=
                   ...&state=... for sub stub.login_sub; with stub.login_page
                   True: 200 text/html, a self-contained sign-in page ("AuthOS
                   demo sign-in") whose form (username prefilled with login_sub,
                   the other fields hidden) POSTs to /authorize.
  POST /authorize  (application/x-www-form-urlencoded) the same 302 for
                   sub = the posted username (login_sub when empty) and email
                   <username>@acme.example.  Every request is recorded in
                   stub.requests, the POST with its body.

  stub.login_error   "access_denied" etc.: redirect to redirect_uri?error=...&state=...
  stub.login_mfa     True: the fragment's access_token is an MFA pre-auth token
                     (typ authos-mfa-preauth+jwt, token_use mfa_preauth)
  stub.login_claims  dict of claims merged last into the login token, e.g.
                     {"exp": 1} (expired) or {"aud": "service:acme/other"};
                     REMOVE as a value leaves a claim out

Library use (pytest starts it in a background thread)::

    stub = AuthOSStub()          # AuthOSStub(key_size=1024) for short-modulus tests
    stub.start()                 # binds 127.0.0.1 on a port chosen at run time
    token = stub.mint(org="globex", remove=["service"])
    stub.set_mode("/.well-known/jwks.json", "500")
    stub.stop(); stub.start()    # issuer down, then up again on the same port

Fault modes for set_mode(prefix_or_None, mode): "ok", "500", "404", "garbage"
(200 with a non-JSON body), "slow" (sleep slow_seconds first), "huge" (a
multi-megabyte JSON body), "empty_keys" ({"keys":[]}), "drip" (the normal body
one byte per drip_interval seconds).  The longest matching prefix wins; None
is the fallback for every path.

Standalone use (the demo)::

    authos_stub.py [--port 0] [--print-port] [--state-file F] [--jwks-file J]
                   [--key-size 2048] [--permissions SUB=p1,p2 ...] [--cache-max-age N]
                   [--login-page]

serves until SIGTERM/SIGINT and prints its base URL (http://127.0.0.1:PORT) as
the first stdout line (--print-port is accepted and changes nothing).  The state
file (JSON: base_url, active_kid, private keys) is written once the port is
bound and is reused on the next start so keys survive restarts.  --login-page
serves the HTML sign-in page on GET /authorize (stub.login_page = True).  Tokens::

    authos_stub.py mint --key-file F [--iss URL] [--aud A] [--sub S] [--email E]
                   [--exp-in SECONDS] [--kid KID] [--typ T]
                   [--claim name=jsonvalue ...] [--remove name ...]
    authos_stub.py jwks --key-file F

--key-file is a state file (iss and kid default to its base URL and active
kid) or a PEM private key (then --iss is required, --kid defaults to "k1").
A --claim value is parsed as JSON, and taken as a plain string when it is not
JSON (--claim 'permissions=["read"]', --claim org=globex).  A negative
--exp-in mints an expired token.  `jwks` prints the public JWKS.
"""

import argparse
import html
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Re-exported so tests can import every token helper from authos_stub.
from authos_tokens import (REMOVE, StubKey, apply_overrides, b64url, b64url_decode,  # noqa: F401
                           decode_unverified, default_claims, default_header, foreign_key,
                           generate_rsa_key, hs256_raw, json_bytes, load_signing_key,
                           load_state_keys, parse_claim, sign_raw, unsigned_raw, verify_rs256)

JWKS_PATH = "/.well-known/jwks.json"
METADATA_PATH = "/.well-known/authos-configuration"
OIDC_PATH = "/.well-known/openid-configuration"
USER_PATH = "/api/user"
LOGOUT_PATH = "/api/auth/logout"
AUTHORIZE_PATH = "/authorize"

MODES = ("ok", "500", "404", "garbage", "slow", "huge", "empty_keys", "drip")


class AuthOSStub:
    """The stub issuer.  Every control method is thread-safe."""

    def __init__(self, key_size=2048, host="127.0.0.1", port=0, max_previous=10, keys=None):
        self.host = host
        self.port = port
        self.key_size = key_size
        self.max_previous = max_previous
        self.slow_seconds = 3.0
        self.drip_interval = 1.0
        self.huge_bytes = 8 * 1024 * 1024
        self.default_permissions = []
        self.login_sub = "user-123"
        self.login_error = None
        self.login_page = False    # GET /authorize: HTML sign-in page instead of an immediate 302
        self.login_mfa = False     # login token is an MFA pre-auth token
        self.login_claims = {}     # extra claims merged last into the login token
        self._lock = threading.RLock()
        self._keys = []            # StubKey, newest first; index 0 is the active key
        self._retired = {}         # kid -> StubKey no longer listed but still usable by mint()
        self._next_kid = 1
        self._modes = {}           # prefix or None -> mode
        self._permissions = {}
        self._user_info = {}
        self._revoked_jtis = set()
        self._revoked_subs = set()
        self._jwks_override = None
        self._jwks_cache_control = None
        self._metadata = {}
        self._openid_enabled = False
        self.requests = []         # dicts: method, path, query, headers, body, time
        self._server = None
        self._thread = None
        self._generation = 0
        for key in keys or []:
            self._keys.append(key)
        if keys:
            self._next_kid = 1 + max((int(k.kid[1:]) for k in keys if k.kid[1:].isdigit()), default=0)
        else:
            self.rotate()

    # ----------------------------------------------------------- lifecycle
    def start(self):
        """Listen (again) on 127.0.0.1; the first start picks the port, later ones reuse it."""
        with self._lock:
            if self._server is not None:
                return self
            server = _StubHTTPServer((self.host, self.port), _Handler)
            server.stub = self
            self.port = server.server_address[1]
            self._server = server
            self._generation += 1
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="authos-stub-%d" % self.port, daemon=True)
            self._thread.start()
        return self

    def stop(self):
        """Close the listening socket: new connections are refused, in-flight slow answers abort."""
        with self._lock:
            server, self._server = self._server, None
            self._generation += 1
        if server is not None:
            server.shutdown()
            server.server_close()
            self._thread.join(5)

    @property
    def running(self):
        return self._server is not None

    @property
    def base_url(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def issuer(self):
        return self.base_url

    def url(self, path):
        return self.base_url + path

    @property
    def jwks_url(self):
        return self.url(JWKS_PATH)

    # ---------------------------------------------------------------- keys
    @property
    def active_key(self):
        with self._lock:
            return self._keys[0]

    @property
    def active_kid(self):
        return self.active_key.kid

    def _new_kid(self):
        kid = "k%d" % self._next_kid
        self._next_kid += 1
        return kid

    def rotate(self, key_size=None, kid=None, jwk_overrides=None):
        """Add a new active key; the previous ones stay listed (up to max_previous)."""
        key = StubKey(None, generate_rsa_key(key_size or self.key_size), jwk_overrides)
        with self._lock:
            key.kid = kid or self._new_kid()
            self._keys.insert(0, key)
            while len(self._keys) > 1 + self.max_previous:
                old = self._keys.pop()
                self._retired[old.kid] = old
        return key

    def add_key(self, key=None, kid=None, key_size=None, jwk_overrides=None, active=False):
        """List an extra key (a StubKey, or an RSA private key, or a new one) after the active one."""
        if isinstance(key, StubKey):
            stub_key = key
        else:
            stub_key = StubKey(None, key or generate_rsa_key(key_size or self.key_size), jwk_overrides)
        with self._lock:
            stub_key.kid = kid or stub_key.kid or self._new_kid()
            self._keys.insert(0 if active else 1, stub_key)
        return stub_key

    def remove_key(self, kid):
        """Stop listing a key (mint(kid=...) can still sign with it)."""
        with self._lock:
            for key in list(self._keys):
                if key.kid == kid:
                    self._keys.remove(key)
                    self._retired[kid] = key
                    return key
        raise KeyError(kid)

    def key(self, kid):
        with self._lock:
            for key in self._keys:
                if key.kid == kid:
                    return key
            return self._retired.get(kid)

    @property
    def listed_kids(self):
        with self._lock:
            return [k.kid for k in self._keys]

    def jwks(self):
        """The JWKS document the stub publishes (ignores set_jwks_override)."""
        with self._lock:
            return {"keys": [k.public_jwk() for k in self._keys]}

    def write_jwks_file(self, path):
        with open(path, "w") as fh:
            json.dump(self.jwks(), fh, indent=2)
        os.chmod(path, 0o644)
        return path

    def set_jwks_override(self, document):
        """Serve this JWKS instead (dict, or raw bytes/str); None restores the real one."""
        with self._lock:
            self._jwks_override = document

    def set_jwks_cache_control(self, value):
        """int N -> "Cache-Control: max-age=N" on the JWKS; a str verbatim; None removes it."""
        with self._lock:
            self._jwks_cache_control = "max-age=%d" % value if isinstance(value, int) else value

    def set_metadata(self, **fields):
        """Override authos-configuration fields, e.g. set_metadata(issuer="https://x")."""
        with self._lock:
            self._metadata.update(fields)

    def set_metadata_issuer(self, issuer):
        self.set_metadata(issuer=issuer)

    def set_openid_configuration(self, enabled):
        """Serve openid-configuration (like other issuers) instead of 404."""
        with self._lock:
            self._openid_enabled = bool(enabled)

    def metadata(self):
        with self._lock:
            doc = {"issuer": self.base_url, "jwks_uri": self.jwks_url}
            doc.update(self._metadata)
            return doc

    # -------------------------------------------------------------- faults
    def set_mode(self, prefix, mode, seconds=None):
        """Fault mode for paths starting with prefix (None: every path); seconds sets slow_seconds."""
        if mode not in MODES:
            raise ValueError("unknown mode %r, expected one of %s" % (mode, ", ".join(MODES)))
        with self._lock:
            if seconds is not None:
                self.slow_seconds = seconds
            if mode == "ok":
                self._modes.pop(prefix, None)
            else:
                self._modes[prefix] = mode

    def clear_modes(self):
        with self._lock:
            self._modes.clear()

    def mode_for(self, path):
        with self._lock:
            best = None
            for prefix in self._modes:
                if prefix is not None and path.startswith(prefix):
                    if best is None or len(prefix) > len(best):
                        best = prefix
            if best is not None:
                return self._modes[best]
            return self._modes.get(None, "ok")

    # ------------------------------------------------------ request record
    def count(self, path, method=None):
        """How many requests hit this exact path (query string ignored)."""
        with self._lock:
            return sum(1 for r in self.requests
                       if r["path"] == path and (method is None or r["method"] == method))

    def reset_counts(self):
        with self._lock:
            self.requests = []

    def _record(self, entry):
        with self._lock:
            self.requests.append(entry)

    # ------------------------------------------------------ users/sessions
    def set_permissions(self, sub, permissions):
        with self._lock:
            self._permissions[sub] = list(permissions)

    def set_user_info(self, sub, **fields):
        """Extra or replaced fields in that user's /api/user answer."""
        with self._lock:
            self._user_info.setdefault(sub, {}).update(fields)

    def revoke(self, sub=None, jti=None):
        with self._lock:
            if sub is not None:
                self._revoked_subs.add(sub)
            if jti is not None:
                self._revoked_jtis.add(jti)

    def clear_revocations(self):
        with self._lock:
            self._revoked_subs.clear()
            self._revoked_jtis.clear()

    def verify(self, token):
        """Claims of a token this issuer accepts (listed key, RS256, not expired), else None."""
        with self._lock:
            keys = list(self._keys)
        return verify_rs256(token, keys)

    def user_info(self, claims):
        """The /api/user answer for verified claims, or None when the session is gone."""
        sub = claims.get("sub")
        with self._lock:
            if sub in self._revoked_subs or claims.get("jti") in self._revoked_jtis:
                return None
            info = {"id": sub, "email": claims.get("email"),
                    "permissions": list(self._permissions.get(sub, self.default_permissions)),
                    "is_platform_owner": claims.get("is_platform_owner", False)}
            for name, alt in (("org", "org_slug"), ("service", "service_slug")):
                value = claims.get(name, claims.get(alt))
                if value is not None:
                    info[name] = value
            info.update(self._user_info.get(sub, {}))
        return {k: v for k, v in info.items() if v is not None}

    # -------------------------------------------------------------- tokens
    def default_claims(self):
        return default_claims(self.issuer)

    def _token_parts(self, kid=None, key=None, foreign=False, header=None, header_remove=(),
                     remove=(), claims=None, exp_in=None, **overrides):
        if key is not None:
            signing = key.private_key if isinstance(key, StubKey) else key
            header_kid = kid or (key.kid if isinstance(key, StubKey) else self.active_kid)
        elif foreign:
            signing = foreign_key(self.active_key.key_size)
            header_kid = kid or self.active_kid
        else:
            signing = (self.key(kid) if kid else None) or self.active_key
            signing, header_kid = signing.private_key, kid or self.active_kid
        hdr = apply_overrides(default_header(header_kid), header, header_remove)
        payload = self.default_claims()
        if exp_in is not None:
            payload["exp"] = int(time.time()) + int(exp_in)
        payload.update(claims or {})
        return hdr, apply_overrides(payload, overrides, remove), signing

    def mint(self, **kwargs):
        """A compact RS256 token with AuthOS's shape.

        Keywords: kid (header kid, and the signing key when the stub knows that
        kid; an unknown kid signs with the active key); key (a StubKey or RSA
        private key to sign with); foreign=True (sign with a key never
        published, keeping the active or given kid); header (dict merged into
        the header); header_remove / remove (names to leave out of header /
        payload); claims (dict of claims); exp_in (exp = now + exp_in); any
        other keyword replaces that claim, and REMOVE as a value leaves it out.
        """
        hdr, payload, signing = self._token_parts(**kwargs)
        return sign_raw(json_bytes(hdr), json_bytes(payload), signing)

    def mint_hs256(self, secret=None, **kwargs):
        """Key confusion attack: alg HS256, HMAC keyed by the active public key's PEM by default."""
        hdr, payload, _ = self._token_parts(**kwargs)
        hdr["alg"] = "HS256"
        return hs256_raw(json_bytes(hdr), json_bytes(payload), secret or self.active_key.public_pem())

    def mint_alg_none(self, **kwargs):
        """alg "none" token with an empty signature part (same keywords as mint)."""
        hdr, payload, _ = self._token_parts(**kwargs)
        hdr["alg"] = "none"
        return unsigned_raw(json_bytes(hdr), json_bytes(payload))

    def sign_raw(self, header_bytes, payload_bytes, kid=None):
        """sign_raw() with one of this stub's keys (the active one by default)."""
        key = self.key(kid) if kid else self.active_key
        return sign_raw(header_bytes, payload_bytes, key.private_key)

    # --------------------------------------------------------------- state
    def state(self):
        with self._lock:
            keys = self._keys + list(self._retired.values())
            return {"base_url": self.base_url, "port": self.port, "pid": os.getpid(),
                    "active_kid": self.active_kid, "listed_kids": self.listed_kids,
                    "keys": [{"kid": k.kid, "private_key_pem": k.private_pem().decode("ascii")}
                             for k in keys]}

    def save_state(self, path):
        tmp = path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(self.state(), fh, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)


class _StubHTTPServer(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    stub = None

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, socket.timeout)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server_version = "AuthOS-stub/0.8"
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def _dispatch(self):
        stub = self.server.stub
        generation = stub._generation
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        body_len = int(self.headers.get("Content-Length") or 0)
        self.request_body = self.rfile.read(min(body_len, 1 << 20)) if body_len > 0 else b""
        stub._record({"method": self.command, "path": path, "query": parsed.query,
                      "headers": dict(self.headers.items()), "body": self.request_body,
                      "time": time.time()})
        mode = stub.mode_for(path)
        if mode == "slow":
            deadline = time.time() + stub.slow_seconds
            while time.time() < deadline:
                if stub._generation != generation:
                    return
                time.sleep(0.05)
        if mode == "500":
            return self._send(500, {"error": "internal_error"})
        if mode == "404":
            return self._send(404, {"error": "not_found"})
        if mode == "garbage":
            return self._send(200, b"<html><body>Service temporarily unavailable</body>",
                              "application/json")
        if mode == "empty_keys":
            return self._send(200, {"keys": []})
        status, body, headers = self._route(stub, path, parsed.query)
        if mode == "huge":
            doc = body if isinstance(body, dict) else {}
            body = json_bytes(dict(doc, padding="x" * stub.huge_bytes))
        if mode == "drip":
            return self._drip(stub, generation, status, body, headers)
        return self._send(status, body, headers=headers)

    def _route(self, stub, path, query):
        if self.command in ("GET", "HEAD") and path == JWKS_PATH:
            with stub._lock:
                doc, cache = stub._jwks_override, stub._jwks_cache_control
            headers = {"Cache-Control": cache} if cache else {}
            return 200, stub.jwks() if doc is None else doc, headers
        if self.command in ("GET", "HEAD") and path == METADATA_PATH:
            return 200, stub.metadata(), {}
        if self.command in ("GET", "HEAD") and path == OIDC_PATH and stub._openid_enabled:
            return 200, stub.metadata(), {}
        if path == USER_PATH and self.command == "GET":
            claims = self._bearer_claims(stub)
            info = stub.user_info(claims) if claims else None
            return (200, info, {}) if info else (401, {"error": "unauthorized"}, {})
        if path == LOGOUT_PATH and self.command == "POST":
            claims = self._bearer_claims(stub)
            if not claims:
                return 401, {"error": "unauthorized"}, {}
            stub.revoke(sub=claims.get("sub"), jti=claims.get("jti"))
            return 200, {"success": True}, {}
        if path == AUTHORIZE_PATH and self.command == "GET":
            params = urllib.parse.parse_qs(query)
            if stub.login_page:
                return self._login_page(stub, params)
            return self._authorize(stub, params)
        if path == AUTHORIZE_PATH and self.command == "POST":
            params = urllib.parse.parse_qs(query)
            params.update(urllib.parse.parse_qs(self.request_body.decode("utf-8", "replace")))
            username = params.get("username", [""])[0].strip() or stub.login_sub
            return self._authorize(stub, params, sub=username, email=username + "@acme.example")
        return 404, {"error": "not_found"}, {}

    def _login_page(self, stub, params):
        if not params.get("redirect_uri", [""])[0]:
            return 400, {"error": "invalid_request"}, {}

        def esc(value):
            return html.escape(value, quote=True)

        hidden = "".join('      <input type="hidden" name="%s" value="%s">\n'
                         % (name, esc(params.get(name, [""])[0]))
                         for name in ("redirect_uri", "state", "org", "service"))
        page = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                '<title>AuthOS demo sign-in</title>\n'
                '<style>body{font-family:sans-serif;max-width:24em;margin:4em auto}'
                'label,input,button{display:block;margin:.4em 0}</style>\n'
                '</head>\n<body>\n<h1>AuthOS demo sign-in</h1>\n'
                '<form method="post" action="/authorize">\n'
                '      <label for="username">Username</label>\n'
                '      <input type="text" id="username" name="username" value="%s" autocomplete="username">\n'
                '%s'
                '      <button type="submit" id="sign-in">Sign in</button>\n'
                '</form>\n</body>\n</html>\n') % (esc(stub.login_sub), hidden)
        return 200, page, {"Content-Type": "text/html; charset=utf-8"}

    def _authorize(self, stub, params, sub=None, email=None):
        redirect = params.get("redirect_uri", [""])[0]
        state = params.get("state", [""])[0]
        if not redirect:
            return 400, {"error": "invalid_request"}, {}
        if stub.login_error:
            sep = "&" if "?" in redirect else "?"
            location = redirect + sep + urllib.parse.urlencode({"error": stub.login_error, "state": state})
        else:
            claims = {"sub": sub or stub.login_sub}
            if email is not None:
                claims["email"] = email
            for name in ("org", "service"):
                if params.get(name) and params[name][0]:
                    claims[name] = params[name][0]
            header = None
            if stub.login_mfa:
                header = {"typ": "authos-mfa-preauth+jwt"}
                claims["token_use"] = "mfa_preauth"
            claims.update(stub.login_claims or {})
            token = stub.mint(claims=claims, header=header)
            location = redirect + "#" + urllib.parse.urlencode(
                {"access_token": token, "refresh_token": "rt_" + uuid.uuid4().hex, "state": state})
        return 302, b"", {"Location": location}

    def _bearer_claims(self, stub):
        value = self.headers.get("Authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return stub.verify(token.strip())

    def _encode(self, body):
        if isinstance(body, (dict, list)):
            return json_bytes(body)
        return body.encode("utf-8") if isinstance(body, str) else body

    def _send(self, status, body, content_type="application/json", headers=None):
        data = self._encode(body)
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", content_type)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            for start in range(0, len(data), 65536):
                self.wfile.write(data[start:start + 65536])

    def _drip(self, stub, generation, status, body, headers):
        data = self._encode(body)
        headers = dict(headers)
        content_type = headers.pop("Content-Type", "application/json")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()
        for i in range(len(data)):
            if stub._generation != generation:
                return
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()
            time.sleep(stub.drip_interval)


# ------------------------------------------------------------------ CLI
def cli_mint(args):
    key, base_url = load_signing_key(args.key_file, args.kid)
    iss = args.iss or base_url
    if not iss:
        raise SystemExit("mint: --iss is required with a PEM key file")
    payload = default_claims(iss.rstrip("/"))
    if args.exp_in is not None:
        payload["exp"] = payload["iat"] + args.exp_in
    named = {"aud": args.aud, "sub": args.sub, "email": args.email}
    apply_overrides(payload, {k: v for k, v in named.items() if v is not None})
    apply_overrides(payload, dict(args.claim), args.remove)
    header = default_header(key.kid)
    if args.typ is not None:
        header["typ"] = args.typ
    print(sign_raw(json_bytes(header), json_bytes(payload), key.private_key))
    return 0


def cli_jwks(args):
    state, keys = load_state_keys(args.key_file)
    print(json.dumps({"keys": [k.public_jwk() for k in keys]}, indent=2))
    return 0


def cli_serve(args):
    keys = None
    if args.state_file and os.path.exists(args.state_file):
        _, keys = load_state_keys(args.state_file)
    stub = AuthOSStub(key_size=args.key_size, port=args.port, keys=keys)
    for spec in args.permissions:
        sub, _, perms = spec.partition("=")
        stub.set_permissions(sub, [p for p in perms.split(",") if p])
    if args.cache_max_age is not None:
        stub.set_jwks_cache_control(args.cache_max_age)
    stub.login_page = args.login_page
    stub.start()
    if args.state_file:
        stub.save_state(args.state_file)
    if args.jwks_file:
        stub.write_jwks_file(args.jwks_file)
    print(stub.base_url, flush=True)
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    while not done.wait(1):
        pass
    stub.stop()
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="Stub AuthOS issuer (see the module docstring).")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--print-port", action="store_true",
                        help="accepted for compatibility: the base URL is always the first stdout line")
    parser.add_argument("--state-file", help="JSON state (base URL, keys) written at start, reused if present")
    parser.add_argument("--jwks-file", help="also write the public JWKS here (for AuthOSJWKSFile)")
    parser.add_argument("--key-size", type=int, default=2048)
    parser.add_argument("--permissions", action="append", default=[], metavar="SUB=p1,p2",
                        help="permissions /api/user returns for SUB (repeatable)")
    parser.add_argument("--cache-max-age", type=int, help="send Cache-Control: max-age=N on the JWKS")
    parser.add_argument("--login-page", action="store_true",
                        help="GET /authorize serves an HTML sign-in page (POST /authorize signs in)")
    sub = parser.add_subparsers(dest="command")
    mint = sub.add_parser("mint", help="print a signed token")
    mint.add_argument("--key-file", required=True, help="state file or PEM private key")
    mint.add_argument("--kid", help="header kid (default: the state's active kid, or k1)")
    mint.add_argument("--iss", help="issuer (default: the state's base URL)")
    mint.add_argument("--aud", help="audience (default service:acme/billing)")
    mint.add_argument("--sub", help="subject (default user-123)")
    mint.add_argument("--email")
    mint.add_argument("--exp-in", type=int, help="exp = now + SECONDS (negative: expired)")
    mint.add_argument("--typ", help="header typ (default authos-management+jwt)")
    mint.add_argument("--claim", action="append", default=[], type=parse_claim, metavar="NAME=JSON")
    mint.add_argument("--remove", action="append", default=[], metavar="NAME", help="leave a claim out")
    jwks = sub.add_parser("jwks", help="print the public JWKS of a state file")
    jwks.add_argument("--key-file", required=True, help="state file")
    args = parser.parse_args(argv)
    if args.command == "mint":
        return cli_mint(args)
    if args.command == "jwks":
        return cli_jwks(args)
    return cli_serve(args)


if __name__ == "__main__":
    sys.exit(main())

"""The authos-jwt command-line tool (SPEC section 10) against the stub issuer.

authos-jwt links only the httpd-free core (build/libauthos.a): no Apache is
started here.  Every run goes through cli(), which asserts that the token
text never appears on stdout or stderr, and every test asserts the exact
exit status: 0 valid (inspect: nothing structural refuses it), 1 refused,
2 could not check.
"""

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from authos_stub import JWKS_PATH, REMOVE, b64url

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
CLI = REPO_ROOT / "build" / "authos-jwt"
MAN_PAGE = REPO_ROOT / "tools" / "authos-jwt.1"
AUD = "service:acme/billing"
OPTIONS = ("--base-url", "--jwks-url", "--jwks-file", "--issuer", "--audience",
           "--allow-http", "--ca-file", "--timeout", "--skew", "--json", "--help", "-h")


@pytest.fixture(scope="module")
def cli_path():
    """The built CLI; built with make when missing (a failed build fails, never skips)."""
    if not CLI.is_file():
        r = subprocess.run(["make", "-s", "build/authos-jwt"], cwd=str(REPO_ROOT),
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0 or not CLI.is_file():
            pytest.fail("cannot build %s:\n%s%s" % (CLI, r.stdout, r.stderr), pytrace=False)
    return str(CLI)


class Run:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return "rc=%d\n--- stdout\n%s--- stderr\n%s" % (self.rc, self.out, self.err)


def cli(cli_path, *args, token=None, stdin=None, timeout=30):
    """Run authos-jwt; token (if given) is checked never to be echoed."""
    proc = subprocess.run([cli_path, *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout)
    run = Run(proc)
    if token:
        secrets = [token] + [part for part in token.split(".") if len(part) >= 16]
        for text in secrets:
            assert text not in run.out and text not in run.err, \
                "the token (or a part of it) was printed: %r" % run
    return run


def closed_port():
    """A local port nothing listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


# ------------------------------------------------------------------ help
@pytest.mark.parametrize("how", [["--help"], ["-h"], ["help"], ["verify", "--help"],
                                 ["inspect", "-h"]])
def test_help_lists_every_option_and_exit_code(cli_path, how):
    r = cli(cli_path, *how)
    assert r.rc == 0, r
    assert r.err == ""
    for opt in OPTIONS:
        assert re.search(r"(^|[\s\[(|,])%s\b" % re.escape(opt), r.out), (opt, r.out)
    for command in ("inspect TOKEN", "verify TOKEN", "help"):
        assert command in r.out
    assert "'-' reads it from standard" in r.out
    exits = r.out.split("Exit status:")[1]
    for code in ("0", "1", "2"):
        assert re.search(r"^  %s  " % code, exits, re.M), exits


def test_man_page_documents_every_option_and_exit_code():
    text = MAN_PAGE.read_text()
    assert text.lstrip().startswith(".\\\"") or text.startswith(".TH")
    assert ".TH AUTHOS-JWT 1" in text
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", '"EXIT STATUS"', "EXAMPLES"):
        assert ".SH %s" % section in text, section
    for opt in OPTIONS:
        assert opt.replace("-", "\\-") in text, opt
    exits = text.split('.SH "EXIT STATUS"')[1].split(".SH")[0]
    for code in ("0", "1", "2"):
        assert ".TP\n.B %s\n" % code in exits
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(MAN_PAGE)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == "", r.stderr


@pytest.mark.parametrize("args,message", [
    ([], "Usage:"),
    (["frobnicate", "x"], "unknown command"),
    (["inspect"], "needs a TOKEN"),
    (["verify", "x.y.z"], "needs one of --base-url"),
    (["verify", "x.y.z", "--jwks-file", "/a", "--jwks-url", "https://x/"], "exactly one"),
    (["verify", "x.y.z", "--jwks-file"], "needs a value"),
    (["verify", "x.y.z", "--jwks-file", "/a", "--timeout", "0"], "--timeout"),
    (["verify", "x.y.z", "--jwks-file", "/a", "--skew", "-1"], "--skew"),
    (["verify", "x.y.z", "--jwks-file", "/a", "--issuer", "sso.example.com"], "--issuer"),
    (["verify", "x.y.z", "--jwks-url", "ftp://x/jwks"], "not an absolute https://"),
    (["verify", "x.y.z", "--jwks-file", "/a", "--bogus"], "unknown option"),
    (["verify", "x.y.z", "--jwks-file", "/a", "--ca-file", "/nonexistent/ca.pem"], "--ca-file"),
    (["inspect", "x.y.z", "--json"], "option of verify"),
    (["inspect", "x.y.z", "--jwks-file", "/a"], "option of verify"),
    (["inspect", "a.b.c", "d.e.f"], "one TOKEN only"),
])
def test_usage_errors_exit_2(cli_path, args, message):
    r = cli(cli_path, *args)
    assert r.rc == 2, r
    assert message in r.err, r
    assert r.out == ""


def test_a_long_unknown_argument_is_not_echoed(cli_path, stub):
    token = stub.mint()
    r = cli(cli_path, token, token=token)
    assert r.rc == 2, r
    assert "unknown command" in r.err
    r = cli(cli_path, "inspect", "-" + token, token=token)
    assert r.rc == 2, r
    assert "unknown option" in r.err


# --------------------------------------------------------------- inspect
def test_inspect_good_token(cli_path, stub):
    token = stub.mint()
    r = cli(cli_path, "inspect", token, token=token)
    assert r.rc == 0, r
    assert "NOT VERIFIED" in r.out
    assert '"alg": "RS256"' in r.out and '"kid": "k1"' in r.out
    assert '"sub": "user-123"' in r.out and '"aud": "service:acme/billing"' in r.out
    assert "structurally acceptable" in r.out
    assert "refused" not in r.out
    assert re.search(r"^exp: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in (1h00m00s|59m\d\ds)\)$",
                     r.out, re.M), r.out


def test_inspect_expired_token_names_the_time(cli_path, stub):
    token = stub.mint(exp_in=-7200)
    exp = int(time.time()) - 7200
    r = cli(cli_path, "inspect", token, token=token)
    assert r.rc == 1, r
    line = [ln for ln in r.out.splitlines() if ln.startswith("refused: ")]
    assert len(line) == 1, r
    assert line[0].startswith("refused: expired (exp "), line
    assert iso(exp)[:13] in line[0] and " ago" in line[0], line
    assert "skew 30s" in line[0]


def test_inspect_skew_changes_the_verdict(cli_path, stub):
    token = stub.mint(exp_in=-60)
    assert cli(cli_path, "inspect", token, token=token).rc == 1
    r = cli(cli_path, "inspect", token, "--skew", "120", token=token)
    assert r.rc == 0, r


def test_inspect_not_yet_valid(cli_path, stub):
    token = stub.mint(nbf=int(time.time()) + 3600)
    r = cli(cli_path, "inspect", token, token=token)
    assert r.rc == 1, r
    assert "refused: not yet valid (nbf " in r.out


def test_inspect_mfa_preauth_token(cli_path, stub):
    token = stub.mint(header={"typ": "authos-mfa-preauth+jwt"}, token_use="mfa_preauth",
                      mfa_required=True)
    r = cli(cli_path, "inspect", token, token=token)
    assert r.rc == 1, r
    assert '"typ": "authos-mfa-preauth+jwt"' in r.out      # the header is still shown
    assert '"mfa_required": true' in r.out
    refused = [ln for ln in r.out.splitlines() if "refused: " in ln]
    assert refused[0] == ('refused: unsupported token type (typ "authos-mfa-preauth+jwt"; '
                          'accepted: authos-management+jwt, at+jwt, JWT)'), r
    assert refused[1].startswith("also refused: "), r


@pytest.mark.parametrize("header,remove,reason", [
    ({"alg": "HS256"}, (), 'refused: unsupported algorithm (alg "HS256"'),
    ({"crit": ["exp"]}, (), "refused: unsupported critical header"),
    ({"typ": "authos-impersonation+jwt"}, (), "refused: unsupported token type"),
    ({}, ("kid",), "refused: malformed (kid missing"),
])
def test_inspect_header_refusals(cli_path, stub, header, remove, reason):
    token = stub.mint(header=header, header_remove=remove)
    r = cli(cli_path, "inspect", token, token=token)
    assert r.rc == 1, r
    assert reason in r.out, r


@pytest.mark.parametrize("claims,reason", [
    ({"exp": REMOVE}, "refused: malformed (exp missing"),
    ({"sub": REMOVE}, "refused: missing subject"),
    ({"sub": ""}, "refused: missing subject"),
    ({"act": {"sub": "admin"}}, "refused: delegated token"),
    ({"token_use": "refresh"}, "refused: unsupported token use"),
])
def test_inspect_claim_refusals(cli_path, stub, claims, reason):
    token = stub.mint(**claims)
    r = cli(cli_path, "inspect", token, token=token)
    assert r.rc == 1, r
    assert reason in r.out, r


@pytest.mark.parametrize("token,detail", [
    ("not-a-token", "not three dot-separated parts"),
    ("abc.def", "not three dot-separated parts"),
    ("a.b.c.d.e", "five parts"),
    ("eyJhbGciOiJSUzI1NiJ9.e30=.c2ln", "payload is not strict base64url"),
    (b64url(b'{"alg":"none","kid":"k1"}') + "." + b64url(b"{}") + ".", "empty signature"),
    (b64url(b"[1]") + "." + b64url(b"{}") + "." + b64url(b"sig"), "header is not a JSON object"),
    (b64url(b'{"alg":"RS256","kid":"a","kid":"b"}') + "." + b64url(b"{}") + "." + b64url(b"s"),
     "header is not a JSON object without duplicate keys"),
])
def test_inspect_malformed_token(cli_path, token, detail):
    r = cli(cli_path, "inspect", token)
    assert r.rc == 1, r
    assert "refused: malformed (%s" % detail in r.out, r
    assert token not in r.out + r.err


def test_inspect_payload_not_json(cli_path, stub):
    token = stub.sign_raw(b'{"alg":"RS256","kid":"k1"}', b"not json")
    r = cli(cli_path, "inspect", token, token=token)
    assert r.rc == 1, r
    assert "claims: (not decodable)" in r.out
    assert "refused: malformed (payload is not a JSON object" in r.out


def test_inspect_from_stdin(cli_path, stub):
    token = stub.mint()
    r = cli(cli_path, "inspect", "-", stdin=token + "\r\n \n", token=token)
    assert r.rc == 0, r
    assert '"sub": "user-123"' in r.out


def test_inspect_stdin_over_the_limit_is_refused(cli_path):
    r = cli(cli_path, "inspect", "-", stdin="a" * 16385)
    assert r.rc == 1, r
    assert "refused: malformed (longer than 16384 bytes)" in r.out
    r = cli(cli_path, "inspect", "-", stdin="a" * 200000)
    assert r.rc == 1, r
    r = cli(cli_path, "inspect", "-", stdin="")
    assert r.rc == 1, r
    assert "refused: malformed (empty token)" in r.out


def test_untrusted_strings_are_escaped(cli_path, stub):
    token = stub.mint(header={"typ": "evil\x1b]0;x\x07"})
    r = cli(cli_path, "inspect", token, token=token)
    assert r.rc == 1, r
    assert "\x1b" not in r.out and "\x07" not in r.out
    assert 'typ "evil\\x1b]0;x\\x07"' in r.out, r


# ---------------------------------------------------------------- verify
def test_verify_base_url_with_allow_http(cli_path, stub):
    token = stub.mint()
    r = cli(cli_path, "verify", token, "--base-url", stub.base_url + "/", "--allow-http",
            "--audience", AUD, token=token)
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[0] == "valid"
    assert "  kid: k1" in lines and "  sub: user-123" in lines
    assert "  issuer: %s" % stub.issuer in lines                 # the base URL by default
    assert "  audience: %s" % AUD in lines
    assert "  keys: 1 usable from %s" % stub.jwks_url in lines
    assert r.err == ""
    assert stub.count("/.well-known/authos-configuration") == 1


def test_verify_base_url_http_without_allow_http_exit_2(cli_path, stub):
    token = stub.mint()
    r = cli(cli_path, "verify", token, "--base-url", stub.base_url, token=token)
    assert r.rc == 2, r
    assert "http://" in r.err and "--allow-http" in r.err
    assert r.out == ""
    assert stub.requests == []                                    # nothing was fetched
    r = cli(cli_path, "verify", token, "--jwks-url", stub.jwks_url, token=token)
    assert r.rc == 2, r
    assert "--allow-http" in r.err


def test_verify_base_url_checks_the_issuer(cli_path, stub):
    token = stub.mint(iss="https://other.example.com")
    r = cli(cli_path, "verify", token, "--base-url", stub.base_url, "--allow-http", token=token)
    assert r.rc == 1, r
    assert r.out.splitlines()[0] == "invalid: wrong issuer (iss is not %s)" % stub.issuer
    r = cli(cli_path, "verify", token, "--base-url", stub.base_url, "--allow-http",
            "--issuer", "off", token=token)
    assert r.rc == 0, r


def test_verify_metadata_issuer_mismatch_warns(cli_path, stub):
    stub.set_metadata_issuer("https://elsewhere.example.com")
    token = stub.mint()
    r = cli(cli_path, "verify", token, "--base-url", stub.base_url, "--allow-http", token=token)
    assert r.rc == 0, r
    assert "warning" in r.err and "https://elsewhere.example.com" in r.err


def test_verify_jwks_url(cli_path, stub):
    token = stub.mint()
    r = cli(cli_path, "verify", token, "--jwks-url", stub.jwks_url, "--allow-http",
            "--issuer", stub.issuer, "--audience", "platform", "--audience", AUD, token=token)
    assert r.rc == 0, r
    assert r.out.startswith("valid\n")
    assert stub.count(JWKS_PATH) == 1
    assert stub.count("/.well-known/authos-configuration") == 0   # no discovery


def test_verify_jwks_file(cli_path, stub, tmp_path):
    path = stub.write_jwks_file(str(tmp_path / "jwks.json"))
    stub.stop()                                                   # no network needed
    token = stub.mint()
    r = cli(cli_path, "verify", token, "--jwks-file", path, "--issuer", stub.issuer,
            "--audience", AUD, token=token)
    assert r.rc == 0, r
    assert "  keys: 1 usable from %s" % path in r.out.splitlines()
    r = cli(cli_path, "verify", "-", "--jwks-file", path, stdin=token + "\n", token=token)
    assert r.rc == 0, r
    assert "  issuer: not checked" in r.out and "  audience: not checked" in r.out


def test_verify_json_output(cli_path, stub, tmp_path):
    path = stub.write_jwks_file(str(tmp_path / "jwks.json"))
    token = stub.mint()
    r = cli(cli_path, "verify", token, "--jwks-file", path, "--issuer", stub.issuer,
            "--audience", AUD, "--json", token=token)
    assert r.rc == 0, r
    doc = json.loads(r.out)
    assert doc["verdict"] == "valid" and doc["sub"] == "user-123" and doc["kid"] == "k1"
    assert doc["issuer"] == stub.issuer and doc["audiences"] == [AUD] and doc["keys"] == 1
    bad = stub.mint(aud="platform")
    r = cli(cli_path, "verify", bad, "--jwks-file", path, "--audience", AUD, "--json", token=bad)
    assert r.rc == 1, r
    doc = json.loads(r.out)
    assert (doc["verdict"], doc["reason"], doc["reason_name"]) == \
        ("invalid", "wrong audience", "audience")


def test_verify_wrong_audience_exit_1(cli_path, stub):
    token = stub.mint(aud="service:acme/other")
    r = cli(cli_path, "verify", token, "--base-url", stub.base_url, "--allow-http",
            "--audience", AUD, token=token)
    assert r.rc == 1, r
    assert r.out.splitlines()[0] == \
        "invalid: wrong audience (aud holds none of the --audience values)"
    assert "  sub: user-123" in r.out.splitlines()                # signature verified


def test_verify_foreign_key_exit_1(cli_path, stub):
    token = stub.mint(foreign=True)
    r = cli(cli_path, "verify", token, "--jwks-url", stub.jwks_url, "--allow-http", token=token)
    assert r.rc == 1, r
    assert r.out.splitlines()[0] == "invalid: bad signature (signature does not verify)"
    assert "sub:" not in r.out                                    # not trusted: not shown


def test_verify_unknown_kid_exit_1(cli_path, stub):
    token = stub.mint(kid="k-unknown")
    r = cli(cli_path, "verify", token, "--base-url", stub.base_url, "--allow-http", token=token)
    assert r.rc == 1, r
    assert r.out.splitlines()[0] == "invalid: unknown key (kid not in the key set)"
    assert "  kid: k-unknown" in r.out.splitlines()


def test_verify_expired_exit_1(cli_path, stub):
    token = stub.mint(exp_in=-3600)
    r = cli(cli_path, "verify", token, "--base-url", stub.base_url, "--allow-http", token=token)
    assert r.rc == 1, r
    assert r.out.startswith("invalid: expired (exp ")


def test_verify_mfa_preauth_exit_1_without_fetching(cli_path, stub):
    token = stub.mint(header={"typ": "authos-mfa-preauth+jwt"})
    r = cli(cli_path, "verify", token, "--base-url", stub.base_url, "--allow-http", token=token)
    assert r.rc == 1, r
    assert r.out.startswith("invalid: unsupported token type (typ ")
    assert stub.requests == []                                    # refused by its header


def test_verify_issuer_down_exit_2(cli_path, stub):
    token = stub.mint()
    base = stub.base_url
    stub.stop()
    r = cli(cli_path, "verify", token, "--base-url", base, "--allow-http", token=token)
    assert r.rc == 2, r
    assert "cannot check the token: key set unavailable" in r.err
    assert r.out == ""
    r = cli(cli_path, "verify", token, "--jwks-url",
            "http://127.0.0.1:%d/.well-known/jwks.json" % closed_port(), "--allow-http",
            "--json", token=token)
    assert r.rc == 2, r
    doc = json.loads(r.out)
    assert doc["verdict"] == "unchecked" and doc["reason_name"] == "no_keyset"
    assert "connection refused" in doc["error"]


def test_verify_slow_issuer_times_out_exit_2(cli_path, stub):
    stub.set_mode(JWKS_PATH, "slow", seconds=10)
    token = stub.mint()
    start = time.monotonic()
    r = cli(cli_path, "verify", token, "--jwks-url", stub.jwks_url, "--allow-http",
            "--timeout", "1", token=token)
    assert r.rc == 2, r
    assert time.monotonic() - start < 5
    assert "timeout" in r.err


@pytest.mark.parametrize("mode", ["garbage", "empty_keys", "500"])
def test_verify_garbage_jwks_exit_2(cli_path, stub, mode):
    stub.set_mode(JWKS_PATH, mode)
    token = stub.mint()
    r = cli(cli_path, "verify", token, "--jwks-url", stub.jwks_url, "--allow-http", token=token)
    assert r.rc == 2, r
    assert "key set unavailable" in r.err


@pytest.mark.parametrize("content", ["<html>nope</html>", '{"keys": []}',
                                     '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}'])
def test_verify_garbage_jwks_file_exit_2(cli_path, stub, tmp_path, content):
    path = tmp_path / "jwks.json"
    path.write_text(content)
    token = stub.mint()
    r = cli(cli_path, "verify", token, "--jwks-file", str(path), token=token)
    assert r.rc == 2, r
    assert "bad JWKS" in r.err


def test_verify_unreadable_jwks_file_exit_2(cli_path, stub, tmp_path):
    token = stub.mint()
    r = cli(cli_path, "verify", token, "--jwks-file", str(tmp_path / "missing.json"),
            token=token)
    assert r.rc == 2, r
    assert "cannot open the JWKS file" in r.err


def test_verify_oversized_stdin_token_exit_1(cli_path, stub, tmp_path):
    path = stub.write_jwks_file(str(tmp_path / "jwks.json"))
    token = stub.mint(padding="x" * 20000)
    r = cli(cli_path, "verify", "-", "--jwks-file", path, stdin=token, token=token)
    assert r.rc == 1, r
    assert r.out.startswith("invalid: malformed (longer than 16384 bytes)")

"""Authorization: the Require authos-* providers (SPEC section 6).

Each test starts one Apache with several <Location>s, one per Require
configuration, all mapped onto htdocs/hello.txt, and plays tokens from the
stub issuer against them.  Expected outcomes (SPEC sections 5 and 6):

  granted                       200, no WWW-Authenticate
  no token                      401, WWW-Authenticate: Bearer realm="t"
  authenticated, denied         403 (AuthzSendForbiddenOnFailure On),
                                Bearer realm="t", error="insufficient_scope"
"""

import pytest

from authos_stub import REMOVE

AUD = "service:acme/billing"
REALM = 't'
NO_TOKEN_CHALLENGE = 'Bearer realm="t"'
SCOPE_CHALLENGE = 'Bearer realm="t", error="insufficient_scope"'


def trust_conf(stub):
    """Server-wide trust settings (what an administrator puts in the server config)."""
    return ("AuthOSBaseURL %s\nAuthOSAllowHTTP On\nAuthOSAudience %s\nAuthOSJWKSMinRefetch 1\n"
            % (stub.base_url, AUD))


def locations(stub, sections):
    """Server config: trust settings, then one protected <Location /t/NAME> per
    (name, body) pair, every /t/NAME answering with htdocs/hello.txt."""
    out = [trust_conf(stub), 'AliasMatch "^/t/[^/]+$" "@ROOT@/htdocs/hello.txt"']
    for name, body in sections:
        out.append("<Location /t/%s>\n    AuthType authos\n    AuthName %s\n"
                   "    AuthzSendForbiddenOnFailure On\n%s\n</Location>"
                   % (name, REALM, "\n".join("    " + line for line in body.strip().splitlines())))
    return "\n".join(out)


def assert_granted(r):
    assert r.status_code == 200, (r.status_code, r.headers)
    assert r.text == "hello world\n"
    assert "WWW-Authenticate" not in r.headers


def assert_denied(r):
    assert r.status_code == 403, (r.status_code, r.headers)
    assert r.headers.get("WWW-Authenticate") == SCOPE_CHALLENGE


def assert_no_token(r):
    assert r.status_code == 401, (r.status_code, r.headers)
    assert r.headers.get("WWW-Authenticate") == NO_TOKEN_CHALLENGE


def check(server, path, grants=(), denies=()):
    """Every token in grants gets 200, every token in denies 403; no token gets 401."""
    for token in grants:
        assert_granted(server.get(path, token=token))
    for token in denies:
        assert_denied(server.get(path, token=token))
    assert_no_token(server.get(path))


# ------------------------------------------------------------ providers
def test_permission_claim_any_of_exact_match(apache_factory, stub):
    server = apache_factory(locations(stub, [
        ("perm", "Require authos-permission billing:write billing:read"),
        ("one", "Require authos-permission billing:admin"),
    ]))

    def tok(perms):
        return stub.mint(permissions=perms) if perms is not REMOVE else stub.mint()

    check(server, "/t/perm",
          grants=[tok(["billing:read"]), tok(["billing:write"]), tok(["x", "billing:read", "y"]),
                  tok(["billing:write", "billing:read"])],
          denies=[tok(REMOVE), tok([]), tok(["billing:readx"]), tok(["Billing:read"]),
                  tok(["billing"]), tok(["billing:read "]), tok("billing:read"),
                  tok([["billing:read"]]), tok({"billing:read": True})])
    check(server, "/t/one", grants=[tok(["billing:admin"])],
          denies=[tok(["billing:read", "billing:write"]), tok(["billing:admin:x"])])


def test_platform_owner_json_true_only(apache_factory, stub):
    server = apache_factory(locations(stub, [("owner", "Require authos-platform-owner")]))
    check(server, "/t/owner",
          grants=[stub.mint(is_platform_owner=True)],
          denies=[stub.mint(), stub.mint(is_platform_owner=False), stub.mint(is_platform_owner="true"),
                  stub.mint(is_platform_owner=1), stub.mint(is_platform_owner=REMOVE),
                  stub.mint(is_platform_owner=[True]), stub.mint(is_platform_owner="yes")])


def test_org_and_org_slug_org_wins(apache_factory, stub):
    server = apache_factory(locations(stub, [("org", "Require authos-org acme initech")]))
    check(server, "/t/org",
          grants=[stub.mint(), stub.mint(org="initech"),
                  stub.mint(org=REMOVE, org_slug="acme"),
                  stub.mint(org="acme", org_slug="globex")],        # org wins
          denies=[stub.mint(org="globex"), stub.mint(org="ACME"), stub.mint(org="acme2"),
                  stub.mint(org=REMOVE),
                  stub.mint(org=REMOVE, org_slug="globex"),
                  stub.mint(org="globex", org_slug="acme")])        # org wins


def test_service_and_service_slug_service_wins(apache_factory, stub):
    server = apache_factory(locations(stub, [("svc", "Require authos-service billing payroll")]))
    check(server, "/t/svc",
          grants=[stub.mint(), stub.mint(service="payroll"),
                  stub.mint(service=REMOVE, service_slug="billing"),
                  stub.mint(service="billing", service_slug="crm")],
          denies=[stub.mint(service="crm"), stub.mint(service="Billing"),
                  stub.mint(service=REMOVE),
                  stub.mint(service=REMOVE, service_slug="crm"),
                  stub.mint(service="crm", service_slug="billing")])


def test_claim_string_integer_boolean_array(apache_factory, stub):
    server = apache_factory(locations(stub, [
        ("role", "Require authos-claim role admin editor"),
        ("level", "Require authos-claim level 3 7"),
        ("verified", "Require authos-claim email_verified true"),
        ("unverified", "Require authos-claim email_verified false"),
        ("groups", "Require authos-claim groups admins"),
        ("email", 'Require authos-claim email "alice@example.com"'),
    ]))
    check(server, "/t/role",
          grants=[stub.mint(role="admin"), stub.mint(role="editor"), stub.mint(role=["viewer", "editor"])],
          denies=[stub.mint(), stub.mint(role="viewer"), stub.mint(role="Admin"), stub.mint(role=[]),
                  stub.mint(role={"admin": True}), stub.mint(role="admin editor")])
    check(server, "/t/level",
          grants=[stub.mint(level=3), stub.mint(level=7), stub.mint(level=[1, 7])],
          denies=[stub.mint(), stub.mint(level=4), stub.mint(level=37), stub.mint(level=-3),
                  stub.mint(level=True)])
    check(server, "/t/verified",
          grants=[stub.mint(email_verified=True), stub.mint(email_verified=[False, True])],
          denies=[stub.mint(), stub.mint(email_verified=False), stub.mint(email_verified=1),
                  stub.mint(email_verified=None)])
    check(server, "/t/unverified",
          grants=[stub.mint(email_verified=False)],
          denies=[stub.mint(), stub.mint(email_verified=True), stub.mint(email_verified=0)])
    check(server, "/t/groups",
          grants=[stub.mint(groups=["users", "admins"]), stub.mint(groups=["admins"])],
          denies=[stub.mint(), stub.mint(groups=["users"]), stub.mint(groups=[]),
                  stub.mint(groups=["Admins"]), stub.mint(groups=[["admins"]])])
    check(server, "/t/email", grants=[stub.mint()], denies=[stub.mint(email="bob@example.com")])


def test_missing_claims_never_grant(apache_factory, stub):
    server = apache_factory(locations(stub, [
        ("perm", "Require authos-permission billing:read"),
        ("owner", "Require authos-platform-owner"),
        ("org", "Require authos-org acme"),
        ("svc", "Require authos-service billing"),
        ("claim", "Require authos-claim tier gold"),
    ]))
    bare = stub.mint(org=REMOVE, service=REMOVE, is_platform_owner=REMOVE)
    for path in ("/t/perm", "/t/owner", "/t/org", "/t/svc", "/t/claim"):
        check(server, path, denies=[bare])


# ---------------------------------------------------------- composition
COMPOSED = [
    ("not", """
<RequireAll>
    Require valid-user
    Require not authos-org globex
</RequireAll>"""),
    ("all", """
<RequireAll>
    Require authos-org acme
    Require authos-permission billing:read
</RequireAll>"""),
    ("any", """
<RequireAny>
    Require authos-platform-owner
    Require authos-service billing
</RequireAny>"""),
    ("none", """
<RequireAll>
    Require authos-service billing
    <RequireNone>
        Require authos-org globex
        Require authos-claim role banned
    </RequireNone>
</RequireAll>"""),
    ("valid", """
<RequireAll>
    Require valid-user
    Require authos-permission billing:read
</RequireAll>"""),
    ("ipall", """
<RequireAll>
    Require ip 127.0.0.1
    Require authos-org acme
</RequireAll>"""),
    ("ipany", """
<RequireAny>
    Require ip 127.0.0.1
    Require authos-platform-owner
</RequireAny>"""),
    ("nested", """
<RequireAny>
    Require authos-platform-owner
    <RequireAll>
        Require authos-org acme
        Require authos-claim role admin
    </RequireAll>
</RequireAny>"""),
]


def test_require_not(apache_factory, stub):
    server = apache_factory(locations(stub, COMPOSED))
    check(server, "/t/not", grants=[stub.mint(), stub.mint(org=REMOVE), stub.mint(org="acme-globex")],
          denies=[stub.mint(org="globex"), stub.mint(org=REMOVE, org_slug="globex")])


def test_require_all(apache_factory, stub):
    server = apache_factory(locations(stub, COMPOSED))
    check(server, "/t/all", grants=[stub.mint(permissions=["billing:read"])],
          denies=[stub.mint(), stub.mint(org="globex", permissions=["billing:read"]),
                  stub.mint(permissions=["billing:write"])])


def test_require_any_sibling_grant_sends_no_challenge(apache_factory, stub):
    server = apache_factory(locations(stub, COMPOSED))
    # is_platform_owner is false: the first line denies, the sibling grants.
    r = server.get("/t/any", token=stub.mint())
    assert_granted(r)
    assert "WWW-Authenticate" not in r.headers and "www-authenticate" not in str(r.headers).lower()
    check(server, "/t/any", grants=[stub.mint(is_platform_owner=True, service="crm")],
          denies=[stub.mint(service="crm"), stub.mint(service=REMOVE)])
    check(server, "/t/nested", grants=[stub.mint(role="admin"), stub.mint(is_platform_owner=True)],
          denies=[stub.mint(), stub.mint(role="admin", org="globex")])


def test_require_none(apache_factory, stub):
    server = apache_factory(locations(stub, COMPOSED))
    check(server, "/t/none", grants=[stub.mint(), stub.mint(role="user")],
          denies=[stub.mint(org="globex"), stub.mint(role="banned"), stub.mint(role=["x", "banned"]),
                  stub.mint(service="crm")])


def test_mixed_with_valid_user_and_ip(apache_factory, stub):
    server = apache_factory(locations(stub, COMPOSED))
    check(server, "/t/valid", grants=[stub.mint(permissions=["billing:read"])],
          denies=[stub.mint(), stub.mint(permissions=[])])
    check(server, "/t/ipall", grants=[stub.mint()], denies=[stub.mint(org="globex")])
    # Require ip grants the loopback client on its own: no token needed, no challenge.
    for token in (None, stub.mint(), stub.mint(is_platform_owner=True)):
        assert_granted(server.get("/t/ipany", token=token))
    # The provider order does not matter: a non-owner is let in by the ip line.
    assert_granted(server.get("/t/ipany", token=stub.mint(is_platform_owner=False)))
    # httpd decides on the ip line alone (no authentication runs), so even an
    # unusable token is never looked at there.
    assert_granted(server.get("/t/ipany", token="not-a-token"))


def test_every_provider_without_token_is_401(apache_factory, stub):
    sections = [
        ("perm", "Require authos-permission billing:read"),
        ("owner", "Require authos-platform-owner"),
        ("org", "Require authos-org acme"),
        ("svc", "Require authos-service billing"),
        ("claim", "Require authos-claim role admin"),
    ] + COMPOSED
    server = apache_factory(locations(stub, [s for s in sections if s[0] != "ipany"]))
    for name, _ in sections:
        if name == "ipany":
            continue
        assert_no_token(server.get("/t/" + name))
        # Another scheme is no token either.
        assert_no_token(server.get("/t/" + name, headers={"Authorization": "Basic dXNlcjpwYXNz"}))
    r = server.get("/t/org", token=stub.mint(exp_in=-3600))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == \
        'Bearer realm="t", error="invalid_token", error_description="expired"'


def test_denial_without_forbidden_on_failure_is_401_insufficient_scope(apache_factory, stub):
    server = apache_factory(trust_conf(stub) + """
AliasMatch "^/t/[^/]+$" "@ROOT@/htdocs/hello.txt"
<Location /t/plain>
    AuthType authos
    AuthName t
    Require authos-org globex
</Location>""")
    r = server.get("/t/plain", token=stub.mint())
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == SCOPE_CHALLENGE
    assert_no_token(server.get("/t/plain"))
    assert_granted(server.get("/t/plain", token=stub.mint(org="globex")))


# ------------------------------------------------------------ .htaccess
HTACCESS_DIRS = {
    "perm": "Require authos-permission billing:read",
    "owner": "Require authos-platform-owner",
    "org": "Require authos-org acme",
    "svc": "Require authos-service billing",
    "claim": "Require authos-claim groups admins",
    "any": "<RequireAny>\n    Require authos-platform-owner\n    Require authos-org acme\n</RequireAny>",
    "all": ("<RequireAll>\n    Require valid-user\n    Require not authos-claim role banned\n"
            "    <RequireNone>\n        Require authos-org globex\n    </RequireNone>\n</RequireAll>"),
}


def htaccess_files():
    files = {}
    for name, require in HTACCESS_DIRS.items():
        files["htdocs/x/%s/.htaccess" % name] = ("AuthType authos\nAuthName t\n"
                                                  "AuthzSendForbiddenOnFailure On\n%s\n" % require)
        files["htdocs/x/%s/hello.txt" % name] = "hello world\n"
    return files


def test_providers_in_htaccess(apache_factory, stub):
    server = apache_factory(trust_conf(stub), files=htaccess_files())
    check(server, "/x/perm/hello.txt", grants=[stub.mint(permissions=["billing:read"])],
          denies=[stub.mint(), stub.mint(permissions=["billing:write"])])
    check(server, "/x/owner/hello.txt", grants=[stub.mint(is_platform_owner=True)],
          denies=[stub.mint(), stub.mint(is_platform_owner="true")])
    check(server, "/x/org/hello.txt", grants=[stub.mint(), stub.mint(org=REMOVE, org_slug="acme")],
          denies=[stub.mint(org="globex")])
    check(server, "/x/svc/hello.txt", grants=[stub.mint(service=REMOVE, service_slug="billing")],
          denies=[stub.mint(service="crm")])
    check(server, "/x/claim/hello.txt", grants=[stub.mint(groups=["admins"])],
          denies=[stub.mint(), stub.mint(groups="users")])
    check(server, "/x/any/hello.txt", grants=[stub.mint(), stub.mint(org="globex", is_platform_owner=True)],
          denies=[stub.mint(org="globex")])
    check(server, "/x/all/hello.txt", grants=[stub.mint()],
          denies=[stub.mint(role="banned"), stub.mint(org="globex")])
    # Unprotected neighbours are untouched.
    assert server.get("/hello.txt").status_code == 200


# -------------------------------------------------------- config errors
@pytest.mark.parametrize("line, message", [
    ("Require authos-platform-owner x", "authos-platform-owner takes no argument"),
    ("Require authos-platform-owner yes no", "authos-platform-owner takes no argument"),
    ("Require authos-claim onlyname", "authos-claim needs a claim name and at least one value"),
    ("Require authos-claim", "authos-claim needs a claim name and at least one value"),
    ("Require authos-permission", "authos-permission needs at least one permission"),
    ("Require authos-org", "authos-org needs at least one org slug"),
    ("Require authos-service", "authos-service needs at least one service slug"),
])
def test_bad_require_arguments_fail_config_test(apache_factory, stub, line, message):
    server = apache_factory(start=False)
    conf = trust_conf(stub) + "<Location /p>\n    AuthType authos\n    AuthName t\n    %s\n</Location>\n" % line
    rc, out = server.config_test(conf)
    assert rc != 0, out
    assert message in out
    # The offending line of the snippet is named.
    lineno = conf.splitlines().index("    " + line) + 1
    assert "Syntax error on line %d of %s:" % (lineno, server.root / "conf" / "test-1.conf") in out
    assert "Syntax OK" not in out
    # The same section with a good line passes.
    rc, out = server.config_test(conf.replace(line, "Require authos-org acme"))
    assert (rc, out.strip()) == (0, "Syntax OK")


def test_bad_require_in_htaccess_is_500(apache_factory, stub):
    server = apache_factory(trust_conf(stub), files={
        "htdocs/bad/.htaccess": "AuthType authos\nAuthName t\nRequire authos-claim onlyname\n",
        "htdocs/bad/hello.txt": "hello world\n"})
    server.allow_log(r"authos-claim needs a claim name")
    r = server.get("/bad/hello.txt", token=stub.mint())
    assert r.status_code == 500
    assert "authos-claim needs a claim name and at least one value" in server.error_log()

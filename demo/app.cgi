#!/usr/bin/python3
"""The demo's "legacy" CGI application: it knows nothing about tokens and
trusts what Apache tells it (REMOTE_USER and the AUTHOS_* variables)."""
import os

print("Content-Type: text/plain; charset=utf-8")
print()
print("Hello, %s!" % os.environ.get("REMOTE_USER", "nobody"))
print("You were let in by mod_auth_authos (AUTH_TYPE=%s)." % os.environ.get("AUTH_TYPE", ""))
print()
for name in sorted(os.environ):
    if name.startswith("AUTHOS_") and name != "AUTHOS_CLAIMS":
        print("%-26s %s" % (name, os.environ[name]))

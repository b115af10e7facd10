#!/usr/bin/python3
"""The demo's "legacy" CGI application: it knows nothing about tokens and
trusts what Apache tells it (REMOTE_USER and the AUTHOS_* variables). A
browser gets an HTML page with a sign-out button; curl gets plain text."""
import html
import os

user = os.environ.get("REMOTE_USER", "nobody")
claims = [(name, os.environ[name]) for name in sorted(os.environ)
          if name.startswith("AUTHOS_") and name != "AUTHOS_CLAIMS"]

if "text/html" in os.environ.get("HTTP_ACCEPT", ""):
    print("Content-Type: text/html; charset=utf-8")
    print()
    print("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>")
    print("<title>Demo app</title></head><body>")
    print("<h1>Hello, <span id='user'>%s</span>!</h1>" % html.escape(user))
    print("<p>You were let in by mod_auth_authos (AUTH_TYPE=%s).</p>"
          % html.escape(os.environ.get("AUTH_TYPE", "")))
    print("<table>")
    for name, value in claims:
        print("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(name), html.escape(value)))
    print("</table>")
    print("<form method='post' action='/authos/logout'>"
          "<button type='submit' id='sign-out'>Sign out</button></form>")
    print("</body></html>")
else:
    print("Content-Type: text/plain; charset=utf-8")
    print()
    print("Hello, %s!" % user)
    print("You were let in by mod_auth_authos (AUTH_TYPE=%s)." % os.environ.get("AUTH_TYPE", ""))
    print()
    for name, value in claims:
        print("%-26s %s" % (name, value))

/*
 * page.c: the small HTML pages of the browser flow.
 *
 * Every page carries the same headers: never cached (they belong to one
 * sign-in), never framed, no referrer outside this origin (the callback's
 * URL held a token in its fragment; "same-origin" rather than
 * "no-referrer", which would make browsers send "Origin: null" with the
 * callback's form), and a Content-Security-Policy that allows only this
 * origin's script and forms posted to this origin.
 */
#include "apr_strings.h"
#include "httpd.h"
#include "http_protocol.h"

#include "authos_browser.h"
#include "page.h"

#define CSP                                                                   \
    "default-src 'none'; script-src 'self'; form-action 'self'; "           \
    "base-uri 'none'; frame-ancestors 'none'"

static void headers(request_rec *r, const char *type)
{
    apr_table_t *h = r->status == HTTP_OK ? r->headers_out
                                          : r->err_headers_out;

    apr_table_setn(h, "Cache-Control", "no-store");
    apr_table_setn(h, "Content-Security-Policy", CSP);
    apr_table_setn(h, "Referrer-Policy", "same-origin");
    apr_table_setn(h, "X-Content-Type-Options", "nosniff");
    apr_table_setn(h, "X-Frame-Options", "DENY");
    ap_set_content_type(r, type);
}

int authos_page(request_rec *r, int status, const char *title,
                const char *head_extra, const char *body_html)
{
    r->status = status;
    headers(r, "text/html; charset=utf-8");
    if (r->header_only) {
        return OK;
    }
    ap_rvputs(r,
              "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
              "<meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, "
              "initial-scale=1\">\n<title>",
              title, "</title>\n", head_extra != NULL ? head_extra : "",
              "</head>\n<body>\n", body_html, "</body>\n</html>\n", NULL);
    return OK;
}

int authos_error_page(request_rec *r, int status, const char *title,
                      const char *sentence, const char *again_href)
{
    return authos_page(
        r, status, title, NULL,
        apr_pstrcat(r->pool, "<h1>", title, "</h1>\n<p>", sentence,
                    "</p>\n<p><a href=\"",
                    authos_html_escape(r->pool, again_href),
                    "\">Start again</a></p>\n", NULL));
}

int authos_page_script(request_rec *r, const char *script)
{
    r->status = HTTP_OK;
    headers(r, "application/javascript; charset=utf-8");
    if (!r->header_only) {
        ap_rputs(script, r);
    }
    return OK;
}

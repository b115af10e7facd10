/*
 * page.h: the small HTML pages of the browser flow (the callback page,
 * the sign-out confirmation, error pages), all under one strict policy.
 */
#ifndef AUTHOS_PAGE_H
#define AUTHOS_PAGE_H

#include "httpd.h"

/* Send a whole page with status (200 or an error) and return OK: title
 * and the body's HTML are trusted text of ours (escape anything else
 * with authos_html_escape). head_extra goes into <head> (may be NULL).
 * No third-party resources; the only script allowed is this origin's. */
int authos_page(request_rec *r, int status, const char *title,
                const char *head_extra, const char *body_html);

/* An error page: a heading, one sentence and a link to start again. */
int authos_error_page(request_rec *r, int status, const char *title,
                      const char *sentence, const char *again_href);

/* Send text as the page's script (application/javascript) and return OK. */
int authos_page_script(request_rec *r, const char *script);

#endif

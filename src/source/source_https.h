/* Inside src/source/: one file fetched over HTTP(S) into a staging folder. */
#ifndef MREG_SOURCE_HTTPS_H
#define MREG_SOURCE_HTTPS_H

#include <stdbool.h>
#include <stdint.h>

#include "mreg/record.h"
#include "mreg/source.h"
#include "remote/remote_http.h"
#include "util/strutil.h"

/*
 * Header lines for one attempt (Azure signs each request, Range and If-Match
 * included): append "Name: value" lines to @lines. @range is "bytes=N-" or
 * NULL; @if_match the ETag a resumed GET must still match, or NULL.
 */
typedef int (*source_sign_fn)(void *ctx, const char *range, const char *if_match, strbuf *lines);

typedef struct {
	const char *url;       /* what to GET (may carry a SAS query: never shown) */
	const char *shown;     /* the URL for messages and records, without secrets */
	source_sign_fn sign;   /* NULL: no extra headers */
	void *sign_ctx;
	/* A resumed GET sends If-Match (through sign) instead of If-Range: for
	 * servers without If-Range (Azure), a changed file fails with 412. */
	bool if_match;
	/* Called with bytes received so far of this file (progress), may be NULL. */
	void (*progress)(void *ctx, uint64_t have, uint64_t total);
	void *progress_ctx;
} source_get;

typedef struct {
	char digest[MREG_DIGEST_STRLEN];
	uint64_t size;
	char *etag;            /* of the last answer, or NULL */
	char *last_modified;
	char *disposition;     /* Content-Disposition of the answer, or NULL */
	bool resumed;          /* a Range request went on after a cut */
} source_got;

void source_got_dispose(source_got *got);

/*
 * GET g->url into @stage: streamed into a temporary file there while it is
 * hashed (SHA-256, and MD5 when the server sends Content-MD5, which must then
 * match), then fsynced, made read-only and renamed to <stage>/<hex>. A cut
 * transfer, a 5xx, a 408 or a 429 is tried again (the session's retries, with
 * backoff), going on with Range (and If-Range, so a changed file starts over)
 * from what arrived. A size that disagrees with Content-Length, a 4xx, a
 * redirect to http:// (without plain_http) fail; nothing is left behind.
 */
int source_get_file(remote_session *s, const source_get *g, const char *stage, source_got *got);

/* A session for @url's host (any host: no registry credentials are looked up). */
int source_session_open(remote_session **out, const char *url, const char *ca_file,
			bool plain_http, unsigned int retries);

#endif

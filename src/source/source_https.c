/*
 * One file over HTTP(S) into a staging folder (see source_https.h): the body
 * streams to disk in 1 MiB writes while it is hashed, a cut transfer goes on
 * with Range, and only a complete file of the announced size gets its name
 * <stage>/<hex>. The connection is remote_http's (libcurl, TLS verified,
 * --ca-file, redirects to https only).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "source_https.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "util/url.h"
#include "util/dl_curl.h"

#define SINK_BUFFER (1u << 20)
#define HEADER_LINES_MAX 16

typedef struct {
	const source_get *g;
	int fd;
	const char *tmp;
	uint8_t *buf;
	size_t buffered;
	uint64_t written;
	uint64_t flushed;     /* writeback started up to here (see write_all) */
	uint64_t have;        /* written + buffered, all hashed */
	int64_t expected;     /* the file's size, -1 until an answer says */
	hash_ctx *hash;
	EVP_MD_CTX *md5;      /* when the full answer carried Content-MD5 */
	char *md5_want;
	char *validator;      /* If-Range: a strong ETag or Last-Modified of the first answer */
	remote_response *rs;
	bool checked;         /* this answer's status and headers were looked at */
} file_sink;

void source_got_dispose(source_got *got)
{
	free(got->etag);
	free(got->last_modified);
	free(got->disposition);
	memset(got, 0, sizeof(*got));
}

int source_session_open(remote_session **out, const char *url, const char *ca_file,
			bool plain_http, unsigned int retries)
{
	remote_conn_options o = {.plain_http = plain_http, .ca_file = ca_file, .retries = retries,
				 .anonymous = true};
	CURLU *u;
	char *host = NULL, *port = NULL, *hostport = NULL;
	int rc;

	if ((rc = dl_curl_need("fetching a model from a URL (mreg create URL)")))
		return rc;
	if (!(u = sym_curl_url()))
		return mreg_seterr_nomem();
	if (sym_curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    sym_curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		char *shown = url_redact(url);
		rc = mreg_seterr(MREG_EINVALID, "%s: not a URL libcurl can parse",
				 shown ? shown : "model path");
		free(shown);
		goto done;
	}
	sym_curl_url_get(u, CURLUPART_PORT, &port, 0);
	if (!(hostport = port ? str_printf("%s:%s", host, port) : strdup(host))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	rc = remote_session_open(out, hostport, "", "", &o);
done:
	free(hostport);
	sym_curl_free(host);
	sym_curl_free(port);
	sym_curl_url_cleanup(u);
	return rc;
}

/* Writeback is started every WRITEBACK_EVERY bytes, as a local create does
 * (util/stream.c): the disk works while the rest arrives, and the fsync
 * before the blob lands finds little left to write. */
#define WRITEBACK_EVERY (8u << 20)

static int write_all(file_sink *f, const uint8_t *data, size_t len)
{
	int rc = fs_pwrite_all(f->fd, data, len, f->written, f->tmp);

	f->written += rc ? 0 : len;
	if (!rc && f->written - f->flushed >= WRITEBACK_EVERY) {
		fs_start_writeback(f->fd, f->flushed, f->written - f->flushed);
		f->flushed = f->written;
	}
	return rc;
}

static int flush(file_sink *f)
{
	int rc = write_all(f, f->buf, f->buffered);

	f->buffered = 0;
	return rc;
}

/* Start the file over (the server sent all of it again, or cannot resume). */
static int restart(file_sink *f)
{
	uint8_t discard[SHA256_LEN];

	if (ftruncate(f->fd, 0) < 0)
		return mreg_seterr_errno("%s: truncate", f->tmp);
	f->have = f->written = f->flushed = 0;
	f->buffered = 0;
	hash_final(f->hash, discard); /* resets the context */
	if (f->md5)
		EVP_MD_CTX_free(f->md5);
	f->md5 = NULL;
	free(f->md5_want);
	f->md5_want = NULL;
	return 0;
}

/* "bytes START-END/TOTAL": START and TOTAL (TOTAL -1 when "*"). */
static bool parse_content_range(const char *v, uint64_t *start, int64_t *total)
{
	char *end;

	if (!v || strncasecmp(v, "bytes ", 6))
		return false;
	v += 6;
	if (*v < '0' || *v > '9')
		return false;
	*start = strtoull(v, &end, 10);
	if (*end != '-' || (end = strchr(end, '/')) == NULL)
		return false;
	if (end[1] == '*') {
		*total = -1;
		return true;
	}
	if (end[1] < '0' || end[1] > '9')
		return false;
	*total = (int64_t)strtoull(end + 1, NULL, 10);
	return true;
}

/* The first look at a 2xx answer, before its body is kept. */
static int check_answer(file_sink *f)
{
	remote_response *rs = f->rs;
	int rc;

	f->checked = true;
	if (rs->status == 206) {
		uint64_t start;
		int64_t total;
		if (!parse_content_range(rs->content_range, &start, &total) || start != f->have ||
		    (total >= 0 && f->expected >= 0 && total != f->expected))
			return mreg_seterr(MREG_ENETWORK,
					   "%s: the server resumed at the wrong place (Content-Range "
					   "%.80s, wanted bytes %llu-)",
					   f->g->shown, rs->content_range ? rs->content_range : "none",
					   (unsigned long long)f->have);
		if (f->expected < 0)
			f->expected = total;
		return 0;
	}
	/* The whole file (again). */
	if (f->have > 0 && (rc = restart(f)))
		return rc;
	f->expected = rs->content_length;
	free(f->validator);
	f->validator = NULL;
	if (rs->etag && strncmp(rs->etag, "W/", 2))
		f->validator = strdup(rs->etag);
	else if (rs->last_modified)
		f->validator = strdup(rs->last_modified);
	if (rs->content_md5) {
		if (!(f->md5 = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(f->md5, EVP_md5(), NULL) ||
		    !(f->md5_want = strdup(rs->content_md5)))
			return mreg_seterr_nomem();
	}
	return 0;
}

static int sink(void *ctx, const uint8_t *buf, size_t len)
{
	file_sink *f = ctx;
	int rc;

	if (!f->checked && (rc = check_answer(f)))
		return rc;
	if (f->expected >= 0 && f->have + len > (uint64_t)f->expected)
		return mreg_seterr(MREG_ECORRUPT, "%s: the server sent more than the %lld bytes "
						  "it announced",
				   f->g->shown, (long long)f->expected);
	if (f->buffered + len > SINK_BUFFER && (rc = flush(f)))
		return rc;
	if (len >= SINK_BUFFER) {
		if ((rc = write_all(f, buf, len)))
			return rc;
	} else {
		memcpy(f->buf + f->buffered, buf, len);
		f->buffered += len;
	}
	hash_update(f->hash, buf, len);
	if (f->md5)
		EVP_DigestUpdate(f->md5, buf, len);
	f->have += len;
	if (f->g->progress)
		f->g->progress(f->g->progress_ctx, f->have,
			       f->expected >= 0 ? (uint64_t)f->expected : 0);
	return 0;
}

/* Content-MD5 (base64 of 16 bytes) against what arrived. */
static int check_md5(file_sink *f)
{
	unsigned char want[64], got[EVP_MAX_MD_SIZE];
	unsigned int got_len = 0;
	size_t n = strlen(f->md5_want);
	int len;

	if (n != 24 || (len = EVP_DecodeBlock(want, (const unsigned char *)f->md5_want, 24)) != 18)
		return mreg_seterr(MREG_ECORRUPT, "%s: the server's Content-MD5 is not the base64 "
						  "of an MD5 digest",
				   f->g->shown);
	EVP_DigestFinal_ex(f->md5, got, &got_len);
	if (got_len != 16 || memcmp(want, got, 16))
		return mreg_seterr(MREG_ECORRUPT,
				   "%s: what arrived does not match the server's Content-MD5 (%s)",
				   f->g->shown, f->md5_want);
	return 0;
}

/* The lines of @lines ("a\nb\n") as an array for remote_request. */
static size_t split_lines(char *text, const char **out, size_t max)
{
	size_t n = 0;

	for (char *p = text; p && *p && n < max;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		out[n++] = p;
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

/* Why an answer that is not the file failed (no retry helps, or none is left). */
static int answer_error(file_sink *f, int rc, const remote_response *rs)
{
	if (rs->status >= 300 && rs->status < 400) {
		char *to = rs->location ? url_redact(rs->location) : NULL;
		rc = mreg_seterr(MREG_ENETWORK,
				 "%s: redirected (%ld) to %s: refused, redirects are followed to "
				 "https:// only (allow clear text with --plain-http)",
				 f->g->shown, rs->status, to ? to : "another URL");
		free(to);
		return rc;
	}
	if (rc == MREG_ENETWORK && strstr(mreg_error_last(), "certificate")) {
		char *why = strdup(mreg_error_last());
		rc = mreg_seterr(rc, "%s: %s (give --ca-file FILE to trust its CA)", f->g->shown,
				 why ? why : "certificate problem");
		free(why);
		return rc;
	}
	if (rc)
		return mreg_error_prefix(rc, "%s", f->g->shown);
	if (rs->status >= 200 && rs->status < 300)
		return mreg_seterr(MREG_ENETWORK,
				   "%s: the server sent %llu of the %lld bytes it announced",
				   f->g->shown, (unsigned long long)f->have, (long long)f->expected);
	return mreg_seterr(rs->status == 404 || rs->status == 410 ? MREG_ENOTFOUND
			   : rs->status == 401 || rs->status == 403 ? MREG_EAUTH
								    : MREG_ENETWORK,
			   "%s: the server answered %ld%s", f->g->shown, rs->status,
			   rs->status == 404 ? " (not found)"
			   : rs->status == 401 || rs->status == 403 ? " (access denied)"
								    : "");
}

/* GET until the file is complete, or the retries are spent. */
static int download(remote_session *s, file_sink *f, remote_response *rs)
{
	unsigned int retries = remote_session_retries(s);
	int rc = 0;

	for (unsigned int attempt = 0;; attempt++) {
		remote_request rq = REMOTE_REQUEST_INIT;
		strbuf lines = STRBUF_INIT;
		const char *headers[HEADER_LINES_MAX];
		char range[48];
		bool again;

		snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)f->have);
		rq.method = "GET";
		rq.url = f->g->url;
		rq.range = f->have > 0 ? range : NULL;
		rq.sink = sink;
		rq.sink_ctx = f;
		const char *if_match = rq.range && f->g->if_match && f->validator &&
				       f->validator[0] == '"'
				       ? f->validator
				       : NULL;
		if (rq.range && f->validator && !f->g->if_match)
			strbuf_printf(&lines, "If-Range: %s\n", f->validator);
		if (if_match && !f->g->sign)
			strbuf_printf(&lines, "If-Match: %s\n", if_match);
		if (f->g->sign && (rc = f->g->sign(f->g->sign_ctx, rq.range, if_match, &lines))) {
			strbuf_dispose(&lines);
			return rc;
		}
		if (lines.failed) {
			strbuf_dispose(&lines);
			return mreg_seterr_nomem();
		}
		rq.headers = headers;
		rq.header_count = split_lines(lines.data, headers, HEADER_LINES_MAX);
		f->checked = false;
		remote_response_dispose(rs);
		rc = remote_send(s, &rq, rs);
		if (lines.data) /* signatures and SAS-signed headers are not left in memory */
			memset(lines.data, 0, lines.len);
		strbuf_dispose(&lines);
		int frc = flush(f);
		if (frc && (rc == 0 || rc == MREG_ENETWORK))
			rc = frc;
		if (rc == 0 && rs->status >= 200 && rs->status < 300) {
			if (!f->checked && (rc = check_answer(f))) /* an empty body */
				return rc;
			if (f->expected < 0 || f->have == (uint64_t)f->expected)
				return 0;
			again = true; /* shorter than announced, without an error from the transfer */
		} else if (rc == 0 && rs->status == 416 && f->have > 0) {
			if ((rc = restart(f)))
				return rc;
			again = true;
		} else if (rs->status >= 300 && rs->status < 400) {
			return answer_error(f, rc, rs);
		} else {
			again = remote_retryable(rc, rs);
		}
		if (!again || attempt >= retries)
			return answer_error(f, rc, rs);
		if (rc)
			mreg_error_clear();
		remote_backoff(attempt + 1);
	}
}

int source_get_file(remote_session *s, const source_get *g, const char *stage, source_got *got)
{
	remote_response rs = {0};
	file_sink f = {.g = g, .fd = -1, .expected = -1, .rs = &rs};
	char *tmp = NULL, *dest = NULL;
	uint8_t raw[SHA256_LEN];
	int rc;

	memset(got, 0, sizeof(*got));
	rs.content_length = -1;
	if (!(f.hash = hash_new()) || !(f.buf = malloc(SINK_BUFFER))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = fs_tmpfile(&tmp, &f.fd, stage, "fetch-")))
		goto done;
	f.tmp = tmp;
	if ((rc = download(s, &f, &rs)))
		goto done;
	if (f.md5 && (rc = check_md5(&f)))
		goto done;
	hash_final(f.hash, raw);
	digest_format(got->digest, raw);
	got->size = f.have;
	got->resumed = rs.status == 206;
	if ((rs.etag && !(got->etag = strdup(rs.etag))) ||
	    (rs.last_modified && !(got->last_modified = strdup(rs.last_modified))) ||
	    (rs.content_disposition && !(got->disposition = strdup(rs.content_disposition)))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if (fsync(f.fd) < 0 || fchmod(f.fd, 0444) < 0) {
		rc = mreg_seterr_errno("%s: fsync", tmp);
		goto done;
	}
	if (!(dest = path_join(stage, got->digest + 7))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	/* Two files of a folder with the same content share one staged blob. */
	if (fs_exists(dest)) {
		unlink(tmp);
	} else if (rename(tmp, dest) < 0) {
		rc = mreg_seterr_errno("%s: rename", dest);
		goto done;
	}
	free(tmp);
	tmp = NULL;
done:
	if (tmp)
		unlink(tmp);
	if (rc)
		source_got_dispose(got);
	if (f.fd >= 0)
		close(f.fd);
	if (f.md5)
		EVP_MD_CTX_free(f.md5);
	free(f.md5_want);
	free(f.validator);
	hash_free(f.hash);
	free(f.buf);
	free(tmp);
	free(dest);
	remote_response_dispose(&rs);
	return rc;
}

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "util/error_priv.h"
#include "config.h"
#include "remote_auth.h"
#include "remote_http.h"
#include "util/strutil.h"
#include "util/dl_curl.h"

#define ERROR_BODY_MAX (64u << 10)
#define TOKEN_MAX (1u << 20)

struct remote_session {
	CURL *curl;
	char *base;          /* "https://host:port" */
	char *origin;        /* base normalised by origin_of(), for same_origin() */
	char *host;
	char *repository;
	char *actions;
	remote_conn_options opts;
	char *authorization; /* "Basic ..." or "Bearer ...", NULL until asked */
	remote_creds creds;
	int creds_state;     /* 0: not looked up; 1: found; -1: none */
	char errbuf[CURL_ERROR_SIZE];
};

static char *origin_of(const char *url);

int remote_session_open(remote_session **out, const char *host, const char *repository,
			const char *actions, const remote_conn_options *o)
{
	remote_session *s;
	int rc;

	*out = NULL;
	/* loads libcurl and makes its curl_global_init(), once */
	if ((rc = dl_curl_need("talking to a registry (mreg push, pull)")))
		return rc;
	if (!(s = calloc(1, sizeof(*s))))
		return mreg_seterr_nomem();
	s->opts = *o;
	s->curl = sym_curl_easy_init();
	s->base = str_printf("%s://%s", o->plain_http ? "http" : "https", host);
	s->origin = s->base ? origin_of(s->base) : NULL;
	s->host = strdup(host);
	s->repository = strdup(repository);
	s->actions = strdup(actions);
	if (!s->curl || !s->base || !s->host || !s->repository || !s->actions) {
		remote_session_close(s);
		return mreg_seterr_nomem();
	}
	*out = s;
	return 0;
}

static void wipe_free(char *secret)
{
	if (secret) {
		sodium_memzero(secret, strlen(secret));
		free(secret);
	}
}

void remote_session_close(remote_session *s)
{
	if (!s)
		return;
	if (s->curl)
		sym_curl_easy_cleanup(s->curl);
	free(s->base);
	free(s->origin);
	free(s->host);
	free(s->repository);
	free(s->actions);
	wipe_free(s->authorization);
	remote_creds_dispose(&s->creds);
	free(s);
}

unsigned int remote_session_retries(const remote_session *s)
{
	return s->opts.retries;
}

const char *remote_session_host(const remote_session *s)
{
	return s->host;
}

char *remote_url(const remote_session *s, const char *p)
{
	if (str_starts_with(p, "http://") || str_starts_with(p, "https://"))
		return strdup(p);
	return str_printf("%s%s%s", s->base, p[0] == '/' ? "" : "/", p);
}

void remote_response_dispose(remote_response *rs)
{
	free(rs->location);
	free(rs->content_type);
	free(rs->digest);
	free(rs->content_range);
	free(rs->www_authenticate);
	free(rs->oci_subject);
	free(rs->etag);
	free(rs->last_modified);
	free(rs->content_disposition);
	free(rs->content_md5);
	free(rs->body);
	memset(rs, 0, sizeof(*rs));
	rs->content_length = -1;
}

/* ---- one transfer ---- */

typedef struct {
	remote_session *s;
	const remote_request *rq;
	remote_response *rs;
	strbuf body;        /* kept body or error body */
	size_t body_cap;
	uint64_t sent;
	int read_errno;     /* reading the body from its file failed */
	int sink_rc;        /* the sink's error, which aborted the transfer */
	bool too_large;
} transfer;

static bool success(long status)
{
	return status >= 200 && status < 300;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	(void)ctx;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return mreg_check_interrupt() ? 1 : 0;
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
	transfer *t = ctx;
	size_t len = size * n, name_len;
	char **slot = NULL;
	const char *value;

	/* A new status line (after a redirect or "100 Continue"): forget the
	 * last headers, and know the status before the body arrives (a sink
	 * looks at it: a 200 to a Range request is the whole blob again). */
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		const char *sp = memchr(line, ' ', len);
		remote_response_dispose(t->rs);
		t->rs->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return len;
	}
	value = memchr(line, ':', len);
	if (!value)
		return len;
	name_len = (size_t)(value - line);
	value++;
	while (value < line + len && (*value == ' ' || *value == '\t'))
		value++;
	size_t vlen = (size_t)(line + len - value);
	while (vlen > 0 && (value[vlen - 1] == '\r' || value[vlen - 1] == '\n' ||
			    value[vlen - 1] == ' '))
		vlen--;
#define IS(h) (name_len == sizeof(h) - 1 && strncasecmp(line, h, name_len) == 0)
	if (IS("Location"))
		slot = &t->rs->location;
	else if (IS("Content-Type"))
		slot = &t->rs->content_type;
	else if (IS("Docker-Content-Digest"))
		slot = &t->rs->digest;
	else if (IS("Content-Range"))
		slot = &t->rs->content_range;
	else if (IS("WWW-Authenticate"))
		slot = &t->rs->www_authenticate;
	else if (IS("OCI-Subject"))
		slot = &t->rs->oci_subject;
	else if (IS("ETag"))
		slot = &t->rs->etag;
	else if (IS("Last-Modified"))
		slot = &t->rs->last_modified;
	else if (IS("Content-Disposition"))
		slot = &t->rs->content_disposition;
	else if (IS("Content-MD5"))
		slot = &t->rs->content_md5;
	if (IS("OCI-Chunk-Min-Length"))
		t->rs->chunk_min = strtoull(value, NULL, 10);
	if (IS("Content-Length") && vlen > 0 && vlen < 20 && strspn(value, "0123456789") >= vlen)
		t->rs->content_length = (int64_t)strtoull(value, NULL, 10);
#undef IS
	if (slot) {
		free(*slot);
		*slot = strndup(value, vlen);
	}
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	transfer *t = ctx;
	size_t len = size * n;
	long status = 0;

	sym_curl_easy_getinfo(t->s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (success(status) && t->rq->sink) {
		int rc = t->rq->sink(t->rq->sink_ctx, (const uint8_t *)data, len);
		if (rc) {
			t->sink_rc = rc;
			return CURL_WRITEFUNC_ERROR;
		}
		return len;
	}
	if (t->body.len + len > t->body_cap) {
		if (success(status)) {
			t->too_large = true;
			return CURL_WRITEFUNC_ERROR;
		}
		/* An error page: keep its start, which is enough to say what went wrong. */
		len = t->body.len < t->body_cap ? t->body_cap - t->body.len : 0;
		strbuf_add(&t->body, data, len);
		return size * n;
	}
	strbuf_add(&t->body, data, len);
	return t->body.failed ? CURL_WRITEFUNC_ERROR : len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
	transfer *t = ctx;
	const remote_request *rq = t->rq;
	size_t want = size * n;
	uint64_t total = rq->body ? rq->body_len : rq->body_size;

	if (t->sent >= total)
		return 0;
	if (want > total - t->sent)
		want = (size_t)(total - t->sent);
	if (rq->body) {
		memcpy(buf, (const char *)rq->body + t->sent, want);
	} else {
		ssize_t got;
		do
			got = pread(rq->body_fd, buf, want, (off_t)(rq->body_offset + t->sent));
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			t->read_errno = got < 0 ? errno : EIO; /* a file shorter than said */
			return CURL_READFUNC_ABORT;
		}
		want = (size_t)got;
	}
	t->sent += want;
	if (rq->sent)
		rq->sent(rq->sent_ctx, t->sent);
	return want;
}

static int on_seek(void *ctx, curl_off_t offset, int origin)
{
	transfer *t = ctx;

	if (origin != SEEK_SET || offset < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	t->sent = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* The path of a URL, for messages (no query: upload URLs carry state there). */
static char *url_for_message(const remote_session *s, const char *url)
{
	const char *p = url;

	if (str_starts_with(p, s->base))
		p += strlen(s->base);
	return strndup(p, strcspn(p, "?"));
}

/* "scheme://host:port", lowercased, the port made explicit; NULL when unparsable. */
static char *origin_of(const char *url)
{
	CURLU *u = sym_curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;

	if (u && sym_curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    sym_curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    sym_curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    sym_curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		out = str_printf("%s://%s:%s", scheme, host, port);
		for (char *c = out; c && *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	sym_curl_free(scheme);
	sym_curl_free(host);
	sym_curl_free(port);
	sym_curl_url_cleanup(u);
	return out;
}

/* The host of a URL, lowercased (NULL when unparsable). */
static char *host_of(const char *url)
{
	CURLU *u = sym_curl_url();
	char *host = NULL, *out = NULL;

	if (u && sym_curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    sym_curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && (out = strdup(host)))
		for (char *c = out; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	sym_curl_free(host);
	sym_curl_url_cleanup(u);
	return out;
}

static bool same_host(const remote_session *s, const char *url)
{
	char *a = host_of(url), *b = host_of(s->base);
	bool same = a && b && strcmp(a, b) == 0;

	free(a);
	free(b);
	return same;
}

static bool same_origin(const remote_session *s, const char *url)
{
	char *a = origin_of(url);
	bool same = a && s->origin && strcmp(a, s->origin) == 0;

	free(a);
	return same;
}

/*
 * One attempt. @authorization goes to the registry's own URLs only, unless
 * @to_any_host (the token service the registry's challenge named).
 */
static int perform(remote_session *s, const remote_request *rq, remote_response *rs,
		   const char *authorization, bool to_any_host)
{
	CURL *c = s->curl;
	struct curl_slist *headers = NULL;
	char *url = remote_url(s, rq->url), *h;
	transfer t = {.s = s, .rq = rq, .rs = rs, .body = STRBUF_INIT};
	bool has_body = rq->body || rq->body_fd >= 0;
	CURLcode cc;
	int rc = 0;

	memset(rs, 0, sizeof(*rs));
	rs->content_length = -1;
	if (!url)
		return mreg_seterr_nomem();
	t.body_cap = rq->sink ? ERROR_BODY_MAX : (rq->max_body ? rq->max_body : ERROR_BODY_MAX);
	sym_curl_easy_reset(c);
	s->errbuf[0] = '\0';
	sym_curl_easy_setopt(c, CURLOPT_URL, url);
	sym_curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
	sym_curl_easy_setopt(c, CURLOPT_USERAGENT, "mreg/" MREG_VERSION);
	sym_curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* Without --plain-http nothing goes in clear text: not an upload
	 * Location nor a redirect that a misconfigured proxy made http://. */
	const char *protocols = s->opts.plain_http ? "http,https" : "https";
	sym_curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
	sym_curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
	sym_curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	sym_curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	/* An upload's answer may take minutes after its last byte (registries on
	 * object storage move the blob into place): a longer limit there. */
	long stall = s->opts.stall_seconds ? (long)s->opts.stall_seconds : 60;
	sym_curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, has_body && stall < 600 ? 600 : stall);
	sym_curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L << 10);
	if (s->opts.ca_file)
		sym_curl_easy_setopt(c, CURLOPT_CAINFO, s->opts.ca_file);
	sym_curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	sym_curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
	sym_curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	sym_curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
	if (strcmp(rq->method, "GET") == 0) {
		/* Blobs may live behind a redirect (object storage); curl drops our
		 * Authorization header when the redirect leaves the host. */
		sym_curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		sym_curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	} else if (strcmp(rq->method, "HEAD") == 0) {
		/* Not followed: a URL signed for GET answers a HEAD with 403. */
		sym_curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(rq->method, "POST") == 0 && !has_body) {
		sym_curl_easy_setopt(c, CURLOPT_POST, 1L);
		sym_curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		sym_curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	} else {
		sym_curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		sym_curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
		sym_curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		sym_curl_easy_setopt(c, CURLOPT_READDATA, &t);
		sym_curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		sym_curl_easy_setopt(c, CURLOPT_SEEKDATA, &t);
		sym_curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(rq->body ? rq->body_len : has_body ? rq->body_size : 0));
		sym_curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L << 20);
	}
	if (rq->accept && (h = str_printf("Accept: %s", rq->accept)))
		headers = sym_curl_slist_append(headers, h), free(h);
	if (rq->content_type && (h = str_printf("Content-Type: %s", rq->content_type)))
		headers = sym_curl_slist_append(headers, h), free(h);
	if (rq->range && (h = str_printf("Range: %s", rq->range)))
		headers = sym_curl_slist_append(headers, h), free(h);
	if (rq->content_range && (h = str_printf("Content-Range: %s", rq->content_range)))
		headers = sym_curl_slist_append(headers, h), free(h);
	bool extra_failed = false;
	for (size_t i = 0; i < rq->header_count; i++) {
		struct curl_slist *grown = sym_curl_slist_append(headers, rq->headers[i]);
		extra_failed |= !grown;
		headers = grown ? grown : headers;
	}
	/* Credentials go to the registry only, not to an upload or download
	 * location elsewhere (object storage signs its own URLs). */
	if (authorization && !to_any_host && !same_origin(s, url))
		authorization = NULL;
	if (authorization && (h = str_printf("Authorization: %s", authorization))) {
		headers = sym_curl_slist_append(headers, h);
		wipe_free(h);
	}
	if (extra_failed || (!headers && (rq->accept || rq->content_type || rq->range ||
					  rq->content_range || authorization))) {
		sym_curl_slist_free_all(headers);
		free(url);
		strbuf_dispose(&t.body);
		return mreg_seterr_nomem();
	}
	sym_curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	/* A transfer stops within a second of mreg_interrupt(). */
	sym_curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	sym_curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);

	if ((rc = mreg_check_interrupt())) {
		sym_curl_slist_free_all(headers);
		free(url);
		return rc;
	}
	cc = sym_curl_easy_perform(c);
	sym_curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
	sym_curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	sym_curl_slist_free_all(headers);

	if (cc == CURLE_ABORTED_BY_CALLBACK && (rc = mreg_check_interrupt())) {
		/* interrupted: the caller's error path undoes what it began */
	} else if (t.sink_rc) {
		rc = t.sink_rc;
	} else if (t.read_errno) {
		errno = t.read_errno;
		rc = mreg_seterr_errno("%s: reading the body to send", s->host);
	} else if (t.too_large) {
		char *where = url_for_message(s, url);
		rc = mreg_seterr(MREG_EINVALID, "%s: %s %s: the answer is larger than %zu bytes",
				 s->host, rq->method, where ? where : "", t.body_cap);
		free(where);
	} else if (cc != CURLE_OK) {
		char *where = url_for_message(s, url);
		/* A TLS hello answered in clear text: OpenSSL says "wrong version number". */
		bool clear = cc == CURLE_SSL_CONNECT_ERROR && !s->opts.plain_http;
		rs->transport_error = true;
		rc = mreg_seterr(MREG_ENETWORK, "%s: %s %s: %s%s", s->host, rq->method,
				 where ? where : "", s->errbuf[0] ? s->errbuf : sym_curl_easy_strerror(cc),
				 clear ? " (the registry may speak plain HTTP, not HTTPS: for a local "
					 "test registry add --plain-http)"
				       : "");
		free(where);
	}
	if (t.body.failed && rc == 0)
		rc = mreg_seterr_nomem();
	rs->body_len = t.body.len;
	rs->body = strbuf_detach(&t.body);
	free(url);
	return rc;
}

/* ---- authentication ---- */

static int find_creds(remote_session *s)
{
	if (s->creds_state == 0) {
		int rc = remote_creds_find(&s->creds, s->host);
		if (rc && rc != MREG_ENOTFOUND)
			return rc;
		s->creds_state = rc == 0 ? 1 : -1;
	}
	return 0;
}

static int no_creds_error(remote_session *s)
{
	return mreg_seterr(MREG_EAUTH,
			   "%s: the registry asks for credentials and none were found: set "
			   "MREG_REGISTRY_USERNAME and MREG_REGISTRY_PASSWORD, or log in with "
			   "docker, podman or skopeo",
			   s->host);
}

static int fetch_token(remote_session *s, const remote_challenge *ch)
{
	strbuf url = STRBUF_INIT;
	remote_request rq = REMOTE_REQUEST_INIT;
	remote_response rs;
	char *basic = NULL, *esc, *token = NULL;
	int rc;

	/* Credentials travel to the token service: not in clear text, unless
	 * the registry itself is spoken to in clear text and the service is on
	 * the same host (a registry on this machine). */
	if (!str_starts_with(ch->realm, "https://") &&
	    !(s->opts.plain_http && same_host(s, ch->realm)))
		return mreg_seterr(MREG_EAUTH,
				   "%s: the registry names a token service that is not https (%s): "
				   "refused, credentials would travel in clear text",
				   s->host, ch->realm);
	strbuf_puts(&url, ch->realm);
	strbuf_puts(&url, strchr(ch->realm, '?') ? "&" : "?");
	if (ch->service && (esc = sym_curl_easy_escape(s->curl, ch->service, 0))) {
		strbuf_printf(&url, "service=%s&", esc);
		sym_curl_free(esc);
	}
	char *scope = str_printf("repository:%s:%s", s->repository, s->actions);
	if (scope && (esc = sym_curl_easy_escape(s->curl, scope, 0))) {
		strbuf_printf(&url, "scope=%s", esc);
		sym_curl_free(esc);
	}
	free(scope);
	rq.url = strbuf_detach(&url);
	if (!rq.url)
		return mreg_seterr_nomem();
	rq.method = "GET";
	rq.max_body = TOKEN_MAX;
	if (s->creds_state == 1 && !(basic = remote_basic_header(&s->creds))) {
		free((char *)rq.url);
		return mreg_seterr_nomem();
	}
	rc = perform(s, &rq, &rs, basic, true);
	wipe_free(basic);
	if (rc) {
		/* A network failure stays one: the caller may try again. */
		rc = mreg_error_prefix(rc == MREG_ENETWORK ? rc : MREG_EAUTH, "%s: token service",
				       s->host);
		goto done;
	}
	if (rs.status == 401 || rs.status == 403) {
		rc = s->creds_state == 1
			     ? mreg_seterr(MREG_EAUTH,
					   "%s: the token service refused the credentials from %s (%ld)",
					   s->host, s->creds.source, rs.status)
			     : no_creds_error(s);
		goto done;
	}
	if (!success(rs.status)) {
		rc = mreg_seterr(rs.status >= 500 || rs.status == 429 ? MREG_ENETWORK : MREG_EAUTH,
				 "%s: the token service answered %ld", s->host, rs.status);
		goto done;
	}
	if ((rc = remote_token_parse(&token, rs.body, rs.body_len, s->host)))
		goto done;
	wipe_free(s->authorization);
	if (!(s->authorization = str_printf("Bearer %s", token)))
		rc = mreg_seterr_nomem();
done:
	wipe_free(token);
	if (rs.body)
		sodium_memzero(rs.body, rs.body_len);
	remote_response_dispose(&rs);
	free((char *)rq.url);
	return rc;
}

static int authenticate(remote_session *s, const remote_response *rs)
{
	remote_challenge ch;
	int rc;

	if (!rs->www_authenticate)
		return mreg_seterr(MREG_EAUTH, "%s: access denied (401) without a challenge",
				   s->host);
	if ((rc = remote_challenge_parse(&ch, rs->www_authenticate)))
		return mreg_error_prefix(MREG_EAUTH, "%s", s->host);
	if ((rc = find_creds(s)))
		goto done;
	if (ch.bearer) {
		rc = fetch_token(s, &ch);
	} else if (s->creds_state != 1) {
		rc = no_creds_error(s);
	} else {
		wipe_free(s->authorization);
		if (!(s->authorization = remote_basic_header(&s->creds)))
			rc = mreg_seterr_nomem();
	}
done:
	remote_challenge_dispose(&ch);
	return rc;
}

int remote_send(remote_session *s, const remote_request *rq, remote_response *rs)
{
	int rc = perform(s, rq, rs, s->authorization, false);
	/* Basic credentials are tried once; a Bearer token may have expired:
	 * another is fetched, once per request. */
	bool can_authenticate = !s->authorization || str_starts_with(s->authorization, "Bearer ");

	if (s->opts.anonymous)
		return rc;
	if (rc == 0 && rs->status == 401 && can_authenticate) {
		if ((rc = authenticate(s, rs)))
			return rc;
		remote_response_dispose(rs);
		rc = perform(s, rq, rs, s->authorization, false);
	}
	if (rc == 0 && rs->status == 401) {
		find_creds(s);
		return s->creds_state == 1
			       ? mreg_seterr(MREG_EAUTH, "%s: the registry refused the credentials "
							 "from %s (401)",
					     s->host, s->creds.source)
			       : no_creds_error(s);
	}
	return rc;
}

int remote_send_retrying(remote_session *s, const remote_request *rq, remote_response *rs)
{
	int rc;

	for (unsigned int attempt = 0;; attempt++) {
		rc = remote_send(s, rq, rs);
		if (!remote_retryable(rc, rs) || attempt >= s->opts.retries)
			return rc;
		remote_response_dispose(rs);
		remote_backoff(attempt + 1);
	}
}

bool remote_retryable(int rc, const remote_response *rs)
{
	if (rc == MREG_ENETWORK)
		return true;
	if (rc)
		return false;
	return rs->status == 408 || rs->status == 429 || rs->status >= 500;
}

void remote_backoff(unsigned int attempt)
{
	unsigned int ms = 250u << (attempt < 1 ? 0 : attempt > 6 ? 5 : attempt - 1);
	struct timespec ts;

	if (ms > 8000)
		ms = 8000;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int remote_status_error(remote_session *s, const remote_request *rq, const remote_response *rs,
			int code, const char *what)
{
	char *url = remote_url(s, rq->url);
	char *where = url ? url_for_message(s, url) : NULL;
	char *reg = remote_error_text(rs->body, rs->body_len);

	if (what)
		mreg_seterr(code, "%s: %s %s: %s (%ld%s%s)", s->host, rq->method,
			    where ? where : "", what, rs->status, reg ? " " : "", reg ? reg : "");
	else
		mreg_seterr(code, "%s: %s %s: the registry answered %ld%s%s", s->host, rq->method,
			    where ? where : "", rs->status, reg ? ": " : "", reg ? reg : "");
	free(reg);
	free(where);
	free(url);
	return code;
}

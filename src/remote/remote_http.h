/*
 * HTTP to one repository of an OCI distribution registry, over libcurl.
 *
 * A session keeps one connection (keep-alive) and the credentials the registry
 * asked for: on a 401 it reads the WWW-Authenticate challenge, answers Basic
 * with the user's credentials (remote_auth.h) or fetches a Bearer token from
 * the realm for this repository and the session's actions, and sends the
 * request again, once. Credentials are never printed: error messages name the
 * host, the method, the path and the registry's own error code.
 *
 * remote_send() makes one attempt; callers retry what remote_retryable()
 * allows, after remote_backoff().
 */
#ifndef MREG_REMOTE_HTTP_H
#define MREG_REMOTE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct remote_session remote_session;

typedef struct {
	bool plain_http;       /* http:// instead of https:// */
	const char *ca_file;   /* trust these CAs instead of the system's; NULL: system */
	unsigned int retries;  /* extra attempts after a failure worth retrying */
	unsigned int stall_seconds; /* give up on a transfer that moves no byte this long */
	bool anonymous;        /* not a registry: a 401 is an answer, no credentials are looked up */
} remote_conn_options;

/*
 * @actions: the token scope's actions for @repository ("pull" or "pull,push").
 */
int remote_session_open(remote_session **out, const char *host, const char *repository,
			const char *actions, const remote_conn_options *o);
void remote_session_close(remote_session *s);
unsigned int remote_session_retries(const remote_session *s);
const char *remote_session_host(const remote_session *s);

/* Where a successful response's body goes; a non-zero return aborts the transfer. */
typedef int (*remote_sink)(void *ctx, const uint8_t *buf, size_t len);
/* Bytes of a request body sent so far (for progress). */
typedef void (*remote_sent_fn)(void *ctx, uint64_t sent);

typedef struct {
	const char *method;       /* GET, HEAD, POST, PUT, PATCH */
	const char *url;          /* absolute, or a path ("/v2/...") on the registry */
	const char *accept;       /* Accept, or NULL */
	const char *content_type; /* of the body, or NULL */
	const char *range;        /* Range ("bytes=N-"), or NULL */
	const char *content_range; /* Content-Range of a chunk ("0-1048575"), or NULL */
	/* More header lines ("Name: value"), header_count of them. A redirect
	 * to another host gets them too, except an Authorization line (libcurl
	 * drops that when the host changes). */
	const char *const *headers;
	size_t header_count;
	/*
	 * A body from memory (body != NULL), or from a file (body_fd >= 0:
	 * body_size bytes from body_offset).
	 */
	const void *body;
	size_t body_len;
	int body_fd;
	uint64_t body_offset;
	uint64_t body_size;
	remote_sent_fn sent;
	void *sent_ctx;
	/* A 2xx body goes to sink; without one, up to max_body bytes are kept. */
	remote_sink sink;
	void *sink_ctx;
	size_t max_body;
} remote_request;

#define REMOTE_REQUEST_INIT {.body_fd = -1}

typedef struct {
	long status;
	char *location;         /* Location */
	char *content_type;     /* Content-Type */
	char *digest;           /* Docker-Content-Digest */
	char *content_range;    /* Content-Range */
	char *www_authenticate; /* WWW-Authenticate */
	char *oci_subject;      /* OCI-Subject: the registry took a manifest's subject (referrers API) */
	uint64_t chunk_min;     /* OCI-Chunk-Min-Length, 0 when absent */
	char *etag;             /* ETag */
	char *last_modified;    /* Last-Modified */
	char *content_disposition; /* Content-Disposition */
	char *content_md5;      /* Content-MD5 (base64) */
	int64_t content_length; /* Content-Length, -1 when absent */
	char *body;             /* the kept body, or the error body of a non-2xx answer */
	size_t body_len;
	bool transport_error;   /* no complete response (connection refused, cut, stalled) */
} remote_response;

/*
 * Send @rq. Returns 0 when a complete response arrived, whatever its status
 * (a 401 that persists after authenticating is such a response);
 * MREG_ENETWORK when none did (rs->transport_error, message set); MREG_EAUTH
 * when the credentials or the token service failed (the message names where
 * the credentials came from, never what they are); or a sink's error.
 */
int remote_send(remote_session *s, const remote_request *rq, remote_response *rs);
void remote_response_dispose(remote_response *rs);

/*
 * remote_send, tried again (after remote_backoff) while remote_retryable()
 * says so, the session's retries times at most. For requests that can simply
 * be sent again; uploads and resumable downloads do their own.
 */
int remote_send_retrying(remote_session *s, const remote_request *rq, remote_response *rs);

/* True when a failed attempt is worth another: no response, or 408, 429, 5xx. */
bool remote_retryable(int rc, const remote_response *rs);
/* Sleep before attempt @attempt (1, 2, ...): 250 ms, 500 ms, 1 s, ... at most 8 s. */
void remote_backoff(unsigned int attempt);

/*
 * Set the message for an unexpected answer and return @code:
 * "HOST: PUT /v2/REPO/manifests/1: 400 Bad Request: MANIFEST_INVALID: manifest invalid".
 */
int remote_status_error(remote_session *s, const remote_request *rq, const remote_response *rs,
			int code, const char *what);

/* The registry's URL for @path ("/v2/..."), or @location resolved against it; malloc'd. */
char *remote_url(const remote_session *s, const char *path_or_location);

#endif

/*
 * Azure Blob Storage (see source_azure.h). A URL names an account, a
 * container and a path; the path is one blob, or (when no blob has that
 * name, or it ends with '/') every blob under PATH/ as a folder, found with
 * List Blobs (flat, '/' as the folder separator, paged with NextMarker) and
 * fetched by a few workers at once, each on its own connection.
 *
 * Credentials, as Azure's own tools take them, from the environment only:
 * AZURE_STORAGE_CONNECTION_STRING (AccountName, AccountKey, BlobEndpoint,
 * DefaultEndpointsProtocol, EndpointSuffix, SharedAccessSignature,
 * UseDevelopmentStorage), else AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY
 * (Shared Key: each request signed with HMAC-SHA256), else
 * AZURE_STORAGE_SAS_TOKEN (or a SAS in an https:// URL's query), else none
 * (a public container). A BlobEndpoint in clear text (http://, as for the
 * Azurite emulator) is used as configured. Secrets never reach a message
 * or the record: the URL recorded is the one given, without its query.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "azure_parse.h"
#include "source_azure.h"
#include "source_https.h"
#include "source_tree.h"
#include "source_url.h"
#include "store/ingest.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/pool.h"
#include "util/strutil.h"
#include "util/dl_curl.h"

#define AZURE_VERSION "2021-08-06"
#define WORKERS_MAX 4
/* Azurite's (and any emulator's) documented development account. */
#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY                                                                            \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define DEV_ENDPOINT "http://127.0.0.1:10000/" DEV_ACCOUNT

typedef struct {
	char *account;
	char *container;
	char *path;         /* the blob name or prefix, decoded ("" for the container) */
	char *endpoint;     /* scheme://host[:port][/path], no trailing '/' */
	char *shown;        /* the URL given, without its query: for messages and the record */
	char *shown_base;   /* @shown without the path: a blob's is "<shown_base>/<name>" */
	unsigned char *key; /* the decoded account key: a secret */
	size_t key_len;
	char *sas;          /* a SAS query, without '?': a secret */
	const char *creds;  /* where the credentials came from (a variable's name), or NULL */
	bool plain_http;
} azure_target;

static void target_dispose(azure_target *t)
{
	free(t->account);
	free(t->container);
	free(t->path);
	free(t->endpoint);
	free(t->shown);
	free(t->shown_base);
	if (t->key) {
		sodium_memzero(t->key, t->key_len);
		free(t->key);
	}
	if (t->sas) {
		sodium_memzero(t->sas, strlen(t->sas));
		free(t->sas);
	}
	memset(t, 0, sizeof(*t));
}

/* ---- the URL ---- */

/* "ACCOUNT.blob.SUFFIX" (a port allowed): the account, lowercase letters and digits. */
static int split_host(azure_target *t, const char *host, size_t len, const char *url)
{
	const char *dot = memchr(host, '.', len);

	if (!dot || dot == host || (size_t)(dot - host) > 24 || len - (size_t)(dot - host) < 6 ||
	    strncasecmp(dot, ".blob.", 6))
		return mreg_seterr(MREG_EINVALID,
				   "%s: the host is not ACCOUNT.blob.core.windows.net (or another "
				   "cloud's blob endpoint)",
				   url);
	for (const char *c = host; c < dot; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
			return mreg_seterr(MREG_EINVALID, "%s: a storage account name holds "
							  "lowercase letters and digits only",
					   url);
	if (!(t->account = strndup(host, (size_t)(dot - host))) ||
	    !(t->endpoint = str_printf("https://%.*s", (int)len, host)))
		return mreg_seterr_nomem();
	return 0;
}

static int check_container(const char *c, const char *url)
{
	size_t n = strlen(c);

	if (n < 3 || n > 63 || strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
		return mreg_seterr(MREG_EINVALID,
				   "%s: '%s' is not a container name (3 to 63 lowercase letters, "
				   "digits and '-')",
				   url, c);
	return 0;
}

static int parse_target(azure_target *t, const char *url)
{
	const char *p, *host, *q;
	size_t hlen;
	int rc;

	memset(t, 0, sizeof(*t));
	q = strchr(url, '?');
	if (!(t->shown = q ? strndup(url, (size_t)(q - url)) : strdup(url)))
		return mreg_seterr_nomem();
	if (strchr(t->shown, '#'))
		return mreg_seterr(MREG_EINVALID, "%s: a blob URL has no fragment", t->shown);
	if (!strncasecmp(url, "wasbs://", 8)) {
		/* wasbs://CONTAINER@HOST/PATH */
		p = url + 8;
		const char *at = strchr(p, '@'), *slash = strchr(p, '/');
		if (!at || (slash && slash < at))
			return mreg_seterr(MREG_EINVALID, "%s: not wasbs://CONTAINER@ACCOUNT.blob."
							  "core.windows.net/PATH",
					   t->shown);
		if (q)
			return mreg_seterr(MREG_EINVALID, "%s: a wasbs:// URL has no query (give a "
							  "SAS in AZURE_STORAGE_SAS_TOKEN)",
					   t->shown);
		if (!(t->container = strndup(p, (size_t)(at - p))))
			return mreg_seterr_nomem();
		host = at + 1;
		hlen = strcspn(host, "/");
		p = host + hlen;
	} else {
		/* https://HOST/CONTAINER/PATH[?SAS] */
		host = strstr(url, "://") + 3;
		hlen = strcspn(host, "/?");
		if (memchr(host, '@', hlen))
			return mreg_seterr(MREG_EINVALID,
					   "an Azure Blob URL with user:password: give the credentials "
					   "in the environment (see mreg-create(1))");
		p = host + hlen;
		if (*p == '/')
			p++;
		size_t clen = strcspn(p, "/?");
		if (!(t->container = strndup(p, clen)))
			return mreg_seterr_nomem();
		p += clen;
		if (q && !(t->sas = strdup(q + 1)))
			return mreg_seterr_nomem();
	}
	if ((rc = check_container(t->container, t->shown)) ||
	    (rc = split_host(t, host, hlen, t->shown)))
		return rc;
	if (!(t->shown_base = strndup(t->shown, (size_t)(p - url))))
		return mreg_seterr_nomem();
	if (*p == '/')
		p++;
	size_t plen = strcspn(p, "?");
	if (!(t->path = source_percent_decode(p, plen)))
		return errno == ENOMEM ? mreg_seterr_nomem()
				       : mreg_seterr(MREG_EINVALID, "%s: the blob path is not "
								    "percent-encoded right",
						     t->shown);
	if (strlen(t->path) > AZURE_NAME_MAX)
		return mreg_seterr(MREG_EINVALID, "%s: a blob path longer than %d bytes", t->shown,
				   AZURE_NAME_MAX);
	return 0;
}

/* ---- credentials ---- */

static int set_key(azure_target *t, const char *b64, const char *var)
{
	size_t n = strlen(b64);
	unsigned char *key = malloc(n + 1);
	size_t len = 0;

	if (!key)
		return mreg_seterr_nomem();
	if (sodium_base642bin(key, n + 1, b64, n, NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len == 0) {
		free(key);
		return mreg_seterr(MREG_EAUTH, "%s: the account key is not base64", var);
	}
	t->key = key;
	t->key_len = len;
	return 0;
}

static int set_sas(azure_target *t, const char *sas)
{
	if (t->sas) /* the URL's own SAS wins */
		return 0;
	if (sas[0] == '?')
		sas++;
	return (t->sas = strdup(sas)) ? 0 : mreg_seterr_nomem();
}

static int wrong_account(const azure_target *t, const char *var, const char *account)
{
	return mreg_seterr(MREG_EAUTH, "%s: the credentials in %s are for storage account '%s', "
				       "the URL names '%s'",
			   t->shown, var, account, t->account);
}

static int from_connection_string(azure_target *t, const char *text)
{
	static const char var[] = "AZURE_STORAGE_CONNECTION_STRING";
	azure_conn c;
	int rc;

	if ((rc = azure_conn_parse(&c, text)))
		return rc;
	t->creds = var;
	if (c.development) {
		free(c.account);
		free(c.blob_endpoint);
		if (c.key)
			sodium_memzero(c.key, strlen(c.key));
		free(c.key);
		c.account = strdup(DEV_ACCOUNT);
		c.key = strdup(DEV_KEY);
		c.blob_endpoint = strdup(DEV_ENDPOINT);
		if (!c.account || !c.key || !c.blob_endpoint) {
			rc = mreg_seterr_nomem();
			goto done;
		}
	}
	if (c.account && strcmp(c.account, t->account)) {
		rc = wrong_account(t, var, c.account);
		goto done;
	}
	free(t->endpoint);
	if (c.blob_endpoint)
		t->endpoint = strdup(c.blob_endpoint);
	else
		t->endpoint = str_printf("%s://%s.blob.%s", c.protocol ? c.protocol : "https",
					 t->account, c.suffix ? c.suffix : "core.windows.net");
	if (!t->endpoint) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	size_t n = strlen(t->endpoint);
	while (n > 0 && t->endpoint[n - 1] == '/')
		t->endpoint[--n] = '\0';
	if (strncasecmp(t->endpoint, "https://", 8) && strncasecmp(t->endpoint, "http://", 7)) {
		rc = mreg_seterr(MREG_EINVALID, "%s: BlobEndpoint is not an http(s) URL", var);
		goto done;
	}
	/* Clear text only because the user's configuration says so (an emulator). */
	t->plain_http = !strncasecmp(t->endpoint, "http://", 7);
	if (c.key)
		rc = set_key(t, c.key, var);
	else if (c.sas)
		rc = set_sas(t, c.sas);
done:
	azure_conn_dispose(&c);
	return rc;
}

static int find_credentials(azure_target *t)
{
	const char *conn = getenv("AZURE_STORAGE_CONNECTION_STRING");
	const char *account = getenv("AZURE_STORAGE_ACCOUNT");
	const char *key = getenv("AZURE_STORAGE_KEY");
	const char *sas = getenv("AZURE_STORAGE_SAS_TOKEN");

	if (conn && conn[0])
		return from_connection_string(t, conn);
	if (key && key[0]) {
		if (!account || !account[0])
			return mreg_seterr(MREG_EAUTH, "AZURE_STORAGE_KEY is set without "
						       "AZURE_STORAGE_ACCOUNT");
		if (strcmp(account, t->account))
			return wrong_account(t, "AZURE_STORAGE_ACCOUNT", account);
		t->creds = "AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY";
		return set_key(t, key, "AZURE_STORAGE_KEY");
	}
	if (sas && sas[0]) {
		t->creds = "AZURE_STORAGE_SAS_TOKEN";
		return set_sas(t, sas);
	}
	return 0;
}

/* ---- requests ---- */

/* The request's URL: endpoint/container[/blob][?query[&sas]]; @blob percent-encoded per segment. */
static char *request_url(const azure_target *t, const char *blob, const char *query,
			 char **path_out)
{
	strbuf u = STRBUF_INIT;

	strbuf_printf(&u, "%s/%s", t->endpoint, t->container);
	if (blob) {
		strbuf_puts(&u, "/");
		for (const char *p = blob; *p;) {
			size_t n = strcspn(p, "/");
			char *esc = sym_curl_easy_escape(NULL, p, (int)n);
			if (!esc) {
				strbuf_dispose(&u);
				return NULL;
			}
			strbuf_puts(&u, esc);
			sym_curl_free(esc);
			p += n;
			if (*p == '/') {
				strbuf_puts(&u, "/");
				p++;
			}
		}
	}
	/* The path as sent (for Shared Key's canonicalized resource). */
	if (path_out && u.data) {
		const char *host = strstr(u.data, "://") + 3;
		*path_out = strdup(host + strcspn(host, "/"));
	}
	if (query || t->sas)
		strbuf_printf(&u, "?%s%s%s", query ? query : "", query && t->sas ? "&" : "",
			      t->sas ? t->sas : "");
	return strbuf_detach(&u);
}

typedef struct {
	const azure_target *t;
	const char *path;          /* URL path as sent */
	const char *const *params; /* "name:value" (lowercase names, decoded values), sorted */
	size_t param_count;
} sign_ctx;

static void http_date(char *out, size_t size)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* x-ms-date and x-ms-version, and with a key the Shared Key Authorization. */
static int sign(void *ctx, const char *range, const char *if_match, strbuf *lines)
{
	const sign_ctx *s = ctx;
	char date[64];
	strbuf text = STRBUF_INIT;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char b64[sodium_base64_ENCODED_LEN(EVP_MAX_MD_SIZE, sodium_base64_VARIANT_ORIGINAL)];

	http_date(date, sizeof(date));
	strbuf_printf(lines, "x-ms-date: %s\nx-ms-version: %s\n", date, AZURE_VERSION);
	if (if_match)
		strbuf_printf(lines, "If-Match: %s\n", if_match);
	if (!s->t->key)
		return 0;
	/* VERB, Content-Encoding, -Language, -Length, -MD5, -Type, Date,
	 * If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since, Range. */
	strbuf_printf(&text, "GET\n\n\n\n\n\n\n\n%s\n\n\n%s\n", if_match ? if_match : "",
		      range ? range : "");
	strbuf_printf(&text, "x-ms-date:%s\nx-ms-version:%s\n", date, AZURE_VERSION);
	strbuf_printf(&text, "/%s%s", s->t->account, s->path);
	for (size_t i = 0; i < s->param_count; i++)
		strbuf_printf(&text, "\n%s", s->params[i]);
	if (text.failed) {
		strbuf_dispose(&text);
		return mreg_seterr_nomem();
	}
	HMAC(EVP_sha256(), s->t->key, (int)s->t->key_len, (const unsigned char *)text.data, text.len,
	     mac, &mac_len);
	strbuf_dispose(&text);
	sodium_bin2base64(b64, sizeof(b64), mac, mac_len, sodium_base64_VARIANT_ORIGINAL);
	strbuf_printf(lines, "Authorization: SharedKey %s:%s\n", s->t->account, b64);
	sodium_memzero(mac, sizeof(mac));
	return 0;
}

/* Where the credentials came from, for an "access denied" message. */
static const char *creds_text(const azure_target *t)
{
	return t->creds ? t->creds
			: "no credentials were given (set AZURE_STORAGE_CONNECTION_STRING, "
			  "AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY, or AZURE_STORAGE_SAS_TOKEN)";
}

/* An answer that is not a success, as a message naming the credentials' source. */
static int azure_error(const azure_target *t, const char *what, const remote_response *rs)
{
	char code[128] = "";
	const char *c = rs->body ? strstr(rs->body, "<Code>") : NULL;

	if (c) {
		c += 6;
		size_t n = strcspn(c, "<");
		snprintf(code, sizeof(code), " %.*s", (int)(n < 100 ? n : 100), c);
		for (char *p = code; *p; p++)
			if ((unsigned char)*p < ' ')
				*p = '?';
	}
	if (rs->status == 401 || rs->status == 403)
		return mreg_seterr(MREG_EAUTH, "%s: access denied (%ld%s): %s", what, rs->status, code,
				   creds_text(t));
	return mreg_seterr(rs->status == 404 ? MREG_ENOTFOUND : MREG_ENETWORK,
			   "%s: the storage service answered %ld%s", what, rs->status, code);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- List Blobs ---- */

typedef struct {
	azure_blob *blobs;
	size_t count;
} blob_list;

static void blob_list_dispose(blob_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->blobs[i].name);
	free(l->blobs);
	memset(l, 0, sizeof(*l));
}

static unsigned int page_size(void)
{
	/* Azure's maxresults (1 to 5000; 5000 is its default): a knob for tests. */
	const char *v = getenv("MREG_AZURE_MAXRESULTS");
	long n = v ? strtol(v, NULL, 10) : 0;

	return n >= 1 && n <= AZURE_PAGE_MAX ? (unsigned int)n : AZURE_PAGE_MAX;
}

static int list_blobs(remote_session *s, const azure_target *t, const char *prefix, blob_list *out)
{
	char *marker = NULL;
	unsigned int max = page_size();
	int rc = 0;

	memset(out, 0, sizeof(*out));
	do {
		char *eprefix = sym_curl_easy_escape(NULL, prefix, 0);
		char *emarker = marker ? sym_curl_easy_escape(NULL, marker, 0) : NULL;
		char *query = NULL, *url = NULL, *path = NULL;
		char *params[6] = {0};
		size_t np = 0;
		remote_request rq = REMOTE_REQUEST_INIT;
		remote_response rs = {0};
		strbuf lines = STRBUF_INIT;
		const char *headers[8];
		azure_list_page page = {0};

		if (!eprefix || (marker && !emarker) ||
		    !(query = str_printf("restype=container&comp=list&include=metadata&prefix=%s%s%s"
					 "&maxresults=%u",
					 eprefix, marker ? "&marker=" : "", emarker ? emarker : "",
					 max)) ||
		    !(url = request_url(t, NULL, query, &path)) || !path ||
		    !(params[np++] = strdup("comp:list")) ||
		    !(params[np++] = strdup("include:metadata")) ||
		    (marker && !(params[np++] = str_printf("marker:%s", marker))) ||
		    !(params[np++] = str_printf("maxresults:%u", max)) ||
		    !(params[np++] = str_printf("prefix:%s", prefix)) ||
		    !(params[np++] = strdup("restype:container"))) {
			rc = mreg_seterr_nomem();
		} else {
			qsort(params, np, sizeof(params[0]), cmp_str);
			sign_ctx sc = {.t = t, .path = path, .params = (const char *const *)params,
				       .param_count = np};
			if ((rc = sign(&sc, NULL, NULL, &lines)) == 0) {
				rq.method = "GET";
				rq.url = url;
				rq.max_body = AZURE_LIST_BODY_MAX;
				rq.headers = headers;
				for (char *p = lines.data; p && *p && rq.header_count < 8;) {
					char *nl = strchr(p, '\n');
					*nl = '\0';
					headers[rq.header_count++] = p;
					p = nl + 1;
				}
				rc = remote_send_retrying(s, &rq, &rs);
			}
		}
		if (rc == 0 && rs.status != 200) {
			char *what = str_printf("%s (List Blobs)", t->shown);
			rc = azure_error(t, what ? what : t->shown, &rs);
			free(what);
		} else if (rc == 0 && (rc = azure_list_parse(&page, rs.body, rs.body_len)) == 0) {
			if (out->count + page.count > AZURE_BLOBS_MAX) {
				rc = mreg_seterr(MREG_EINVALID, "%s: more than %d blobs", t->shown,
						 AZURE_BLOBS_MAX);
			} else if (page.count) {
				azure_blob *grown = realloc(out->blobs, (out->count + page.count) *
										sizeof(*grown));
				if (!grown) {
					rc = mreg_seterr_nomem();
				} else {
					out->blobs = grown;
					memcpy(grown + out->count, page.blobs,
					       page.count * sizeof(*grown));
					out->count += page.count;
					page.count = 0; /* the names are the list's now */
				}
			}
			free(marker);
			marker = page.next_marker && page.next_marker[0] ? strdup(page.next_marker)
									 : NULL;
			if (page.next_marker && page.next_marker[0] && !marker && rc == 0)
				rc = mreg_seterr_nomem();
		}
		azure_list_page_dispose(&page);
		if (lines.data)
			sodium_memzero(lines.data, lines.len);
		strbuf_dispose(&lines);
		remote_response_dispose(&rs);
		for (size_t i = 0; i < np; i++)
			free(params[i]);
		sym_curl_free(eprefix);
		sym_curl_free(emarker);
		free(query);
		if (url)
			sodium_memzero(url, strlen(url));
		free(url);
		free(path);
	} while (rc == 0 && marker);
	free(marker);
	if (rc)
		blob_list_dispose(out);
	return rc;
}

/* ---- GET of blobs ---- */

/* One blob into @stage, on @s. */
/* GET blob @name into @stage; @progress (may be NULL) hears of its bytes. */
static int get_blob(remote_session *s, const azure_target *t, const char *name, const char *stage,
		    source_got *got, mreg_progress_fn progress, void *progress_ctx)
{
	char *path = NULL, *url = request_url(t, name, NULL, &path);
	char *shown = str_printf("%s/%s", t->shown_base, name);
	sign_ctx sc = {.t = t, .path = path};
	source_get g = {.url = url, .shown = shown, .sign = sign, .sign_ctx = &sc,
			.if_match = true, .progress = progress, .progress_ctx = progress_ctx};
	int rc;

	if (!url || !path || !shown)
		rc = mreg_seterr_nomem();
	else if ((rc = source_get_file(s, &g, stage, got)) == MREG_EAUTH)
		rc = mreg_seterr(rc, "%s: access denied: %s", shown, creds_text(t));
	free(path);
	free(shown);
	if (url)
		sodium_memzero(url, strlen(url));
	free(url);
	return rc;
}

typedef struct {
	const azure_target *t;
	const char *stage;
	const blob_list *list;
	source_got *got;           /* one per blob */
	const mreg_source_options *o;
	pthread_mutex_t lock;
	size_t next;
	pool_fail fail;            /* the failure of the first blob in list order */
	uint64_t done, total;      /* bytes of every blob, for o->progress (under lock) */
} pool;

/* One worker's blob in flight: what it has reported of it so far. */
typedef struct {
	pool *p;
	uint64_t have;
} blob_progress;

/*
 * A blob's bytes so far (a restarted GET reports fewer) added to the
 * folder's, and the caller told under the pool's lock: one call at a time.
 */
static void blob_progress_cb(void *ctx, uint64_t have, uint64_t total)
{
	blob_progress *b = ctx;
	pool *p = b->p;

	(void)total;
	pthread_mutex_lock(&p->lock);
	p->done = p->done - b->have + have;
	b->have = have;
	p->o->progress(p->o->progress_ctx, p->done, p->total);
	pthread_mutex_unlock(&p->lock);
}

static bool is_marker(const azure_blob *b)
{
	size_t n = strlen(b->name);
	return b->size == 0 && (b->folder || (n > 0 && b->name[n - 1] == '/'));
}

static void *worker(void *arg)
{
	pool *p = arg;
	remote_session *s = NULL;
	int rc = source_session_open(&s, p->t->endpoint, p->o->ca_file,
				     p->t->plain_http || p->o->plain_http, p->o->retries);

	for (;;) {
		size_t i;
		pthread_mutex_lock(&p->lock);
		i = p->fail.at != SIZE_MAX ? p->list->count : p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->list->count)
			break;
		if (is_marker(&p->list->blobs[i]))
			continue;
		/* A session that could not be opened fails the first blob it would fetch. */
		blob_progress bp = {.p = p};
		if (rc == 0)
			rc = get_blob(s, p->t, p->list->blobs[i].name, p->stage, &p->got[i],
				      p->o->progress ? blob_progress_cb : NULL, &bp);
		if (rc == 0 && p->got[i].size != p->list->blobs[i].size)
			rc = mreg_seterr(MREG_ENETWORK, "%s/%s: %llu bytes arrived, List Blobs said "
							"%llu (did it change meanwhile?)",
					 p->t->shown_base, p->list->blobs[i].name,
					 (unsigned long long)p->got[i].size,
					 (unsigned long long)p->list->blobs[i].size);
		if (rc) {
			pool_fail_note(&p->fail, &p->lock, i, rc);
			break;
		}
	}
	remote_session_close(s);
	return NULL;
}

/* The folder's path of @name (under @prefix), checked: no empty, "." or ".." segment. */
static int folder_rel(char **out, const azure_target *t, const char *name, size_t prefix_len,
		      bool marker)
{
	const char *rel = name + prefix_len;
	size_t n = strlen(rel);
	char *copy;

	*out = NULL;
	if (marker && n > 0 && rel[n - 1] == '/')
		n--;
	if (n == 0)
		return 0; /* the prefix's own marker */
	if (!(copy = strndup(rel, n)))
		return mreg_seterr_nomem();
	for (char *seg = copy, *end;; seg = end + 1) {
		end = strchr(seg, '/');
		if (end)
			*end = '\0';
		int rc = source_name_check(seg, "blob name");
		if (end)
			*end = '/';
		if (rc) {
			free(copy);
			return mreg_error_prefix(rc, "%s/%s", t->shown_base, name);
		}
		if (!end)
			break;
	}
	*out = copy;
	return 0;
}

static int fetch_folder(mreg_fetched *f, remote_session *s, const azure_target *t,
			const mreg_source_options *o, const char *prefix)
{
	blob_list list;
	pool p = {.t = t, .stage = f->stage, .list = &list, .o = o, .fail = POOL_FAIL_INIT};
	size_t plen = strlen(prefix), files = 0;
	int rc;

	if ((rc = list_blobs(s, t, prefix, &list)))
		return rc;
	for (size_t i = 0; i < list.count; i++) {
		files += !is_marker(&list.blobs[i]);
		p.total += list.blobs[i].size;
	}
	if (list.count == 0 || (files == 0 && list.count == 1 && !strcmp(list.blobs[0].name, prefix))) {
		rc = mreg_seterr(MREG_ENOTFOUND, "%s: no blob%s%s%s", t->shown,
				 t->path[0] ? " named so, and none under '" : " in the container",
				 t->path[0] ? prefix : "", t->path[0] ? "'" : "");
		goto done;
	}
	if (!(p.got = calloc(list.count, sizeof(*p.got)))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	pthread_mutex_init(&p.lock, NULL);
	/* Network transfers: WORKERS_MAX at once whatever the CPUs (each its own session). */
	pool_run(files < WORKERS_MAX ? files : WORKERS_MAX, worker, &p);
	if ((rc = pool_fail_result(&p.fail)))
		goto destroy;
	for (size_t i = 0; i < list.count && rc == 0; i++) {
		bool marker = is_marker(&list.blobs[i]);
		char *rel = NULL;
		if ((rc = folder_rel(&rel, t, list.blobs[i].name, plen, marker)) || !rel)
			continue;
		if (marker) {
			/* An empty folder, as Azure's tools make them (the walk keeps it). */
			char *dir = str_printf("%s/" SOURCE_TREE_DIR "/%s", f->stage, rel);
			rc = dir ? fs_mkdir_p(dir, 0755) : mreg_seterr_nomem();
			free(dir);
		} else {
			rc = source_add_file(f, rel, &p.got[i]);
		}
		free(rel);
	}
	if (rc == 0 && !(f->source.kind = strdup("directory")))
		rc = mreg_seterr_nomem();
	if (rc == 0 && !(f->path = str_printf("%s/" SOURCE_TREE_DIR, f->stage)))
		rc = mreg_seterr_nomem();
destroy:
	pthread_mutex_destroy(&p.lock);
done:
	for (size_t i = 0; p.got && i < list.count; i++)
		source_got_dispose(&p.got[i]);
	free(p.got);
	blob_list_dispose(&list);
	return rc;
}

int source_azure_fetch(mreg_fetched *f, const char *url, const mreg_source_options *o)
{
	azure_target t;
	remote_session *s = NULL;
	source_got got = {0};
	char *prefix = NULL;
	int rc;

	if ((rc = parse_target(&t, url)) || (rc = find_credentials(&t)))
		goto done;
	free(f->source.path);
	if (!(f->source.path = strdup(t.shown))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = source_session_open(&s, t.endpoint, o->ca_file, t.plain_http || o->plain_http,
				      o->retries)))
		goto done;
	size_t n = strlen(t.path);
	if (n > 0 && t.path[n - 1] != '/') {
		/* A blob of that name, else a folder of that name. */
		rc = get_blob(s, &t, t.path, f->stage, &got, o->progress, o->progress_ctx);
		if (rc == 0) {
			const char *base = strrchr(t.path, '/');
			char *tree = NULL;
			base = base ? base + 1 : t.path;
			if ((rc = source_name_check(base, "blob name")) ||
			    (rc = source_add_file(f, base, &got)))
				goto done;
			if (!(tree = str_printf("%s/" SOURCE_TREE_DIR "/%s", f->stage, base)) ||
			    !(f->source.kind = strdup("file")) ||
			    (got.etag && !(f->source.etag = strdup(got.etag))) ||
			    (got.last_modified &&
			     !(f->source.last_modified = strdup(got.last_modified)))) {
				free(tree);
				rc = mreg_seterr_nomem();
				goto done;
			}
			f->path = tree;
			goto done;
		}
		if (rc != MREG_ENOTFOUND)
			goto done;
		mreg_error_clear();
	}
	if (!(prefix = n == 0 || t.path[n - 1] == '/' ? strdup(t.path) : str_printf("%s/", t.path))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	rc = fetch_folder(f, s, &t, o, prefix);
done:
	source_got_dispose(&got);
	remote_session_close(s);
	free(prefix);
	target_dispose(&t);
	return rc;
}

int source_azure_check_url(const char *url)
{
	azure_target t;
	int rc = parse_target(&t, url);

	target_dispose(&t);
	return rc;
}

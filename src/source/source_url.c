/* Remote source URLs, file names and Content-Disposition, parsed (see source_url.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "source_url.h"
#include "util/error_priv.h"
#include "util/strutil.h"
#include "util/url.h"

static bool prefix(const char *s, const char *p)
{
	return strncasecmp(s, p, strlen(p)) == 0;
}

/* Azure's public and sovereign clouds, and emulators on *.blob.localhost. */
static bool is_azure_blob_host(const char *host, size_t len)
{
	static const char *const suffixes[] = {".blob.core.windows.net", ".blob.core.chinacloudapi.cn",
					       ".blob.core.usgovcloudapi.net", ".blob.localhost"};

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t n = strlen(suffixes[i]);
		if (len > n && strncasecmp(host + len - n, suffixes[i], n) == 0)
			return true;
	}
	return false;
}

/* @url for a message: without user, password, query (NULL when it cannot be parsed). */
static char *shown_url(const char *url)
{
	char *s = url_redact(url);

	return s ? s : strdup("the model URL");
}

int source_classify(source_kind *out, const char *url, bool plain_http)
{
	size_t len = strnlen(url, SOURCE_TEXT_MAX + 1);
	char *shown;
	int rc;

	if (len > SOURCE_TEXT_MAX)
		return mreg_seterr(MREG_EINVALID, "model path: a URL longer than %d bytes",
				   SOURCE_TEXT_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f)
			return mreg_seterr(MREG_EINVALID,
					   "model path: a URL with a space or a control character "
					   "(percent-encode it)");
	if (prefix(url, "azureml://datastores/")) {
		*out = SOURCE_AZUREML_DATASTORE;
		return 0;
	}
	if (prefix(url, "azureml:"))
		return mreg_seterr(MREG_EINVALID,
				   "%s: this azureml URI needs an Azure ML workspace to resolve (jobs, "
				   "registries, models and data assets live there); mreg reads "
				   "azureml://datastores/NAME/paths/PATH through the datastores: "
				   "mapping of the store's config.yaml, or give the storage URL "
				   "(wasbs:// or https://)",
				   url);
	if (prefix(url, "wasbs://")) {
		*out = SOURCE_AZURE_BLOB;
		return 0;
	}
	if (prefix(url, "wasb://") || (prefix(url, "http://") && !plain_http)) {
		shown = shown_url(url);
		rc = prefix(url, "wasb://")
			     ? mreg_seterr(MREG_EINVALID,
					   "%s: wasb:// is Azure Blob Storage in clear text: use wasbs://",
					   shown ? shown : "")
			     : mreg_seterr(MREG_EINVALID,
					   "%s: http:// is clear text, refused: use https://, or allow "
					   "it with --plain-http",
					   shown ? shown : "");
		free(shown);
		return rc;
	}
	if (prefix(url, "https://") || prefix(url, "http://")) {
		const char *host = strstr(url, "://") + 3;
		size_t hlen = strcspn(host, "/?#");
		const char *at = memchr(host, '@', hlen);
		if (at) {
			hlen -= (size_t)(at + 1 - host);
			host = at + 1;
		}
		const char *colon = memchr(host, ':', hlen);
		if (colon)
			hlen = (size_t)(colon - host);
		*out = is_azure_blob_host(host, hlen) ? SOURCE_AZURE_BLOB : SOURCE_HTTPS;
		return 0;
	}
	shown = shown_url(url);
	rc = mreg_seterr(MREG_EINVALID, "%s: not a URL mreg fetches (https://, wasbs://, "
					"azureml://datastores/)",
			 shown ? shown : "");
	free(shown);
	return rc;
}

void source_datastore_ref_dispose(source_datastore_ref *ref)
{
	free(ref->name);
	free(ref->path);
	ref->name = ref->path = NULL;
}

int source_datastore_parse(source_datastore_ref *out, const char *uri)
{
	static const char head[] = "azureml://datastores/";
	const char *name, *rest;
	size_t nlen;

	memset(out, 0, sizeof(*out));
	if (!prefix(uri, head) || strnlen(uri, SOURCE_TEXT_MAX + 1) > SOURCE_TEXT_MAX)
		return mreg_seterr(MREG_EINVALID, "%s: not azureml://datastores/NAME/paths/PATH",
				   uri);
	name = uri + sizeof(head) - 1;
	nlen = strcspn(name, "/?#");
	rest = name + nlen;
	if (nlen == 0 || nlen > 255 || strncmp(rest, "/paths/", 7) != 0)
		return mreg_seterr(MREG_EINVALID,
				   "%s: not azureml://datastores/NAME/paths/PATH (a datastore name, "
				   "then /paths/)",
				   uri);
	for (size_t i = 0; i < nlen; i++)
		if (!(name[i] == '_' || name[i] == '-' || (name[i] >= '0' && name[i] <= '9') ||
		      ((name[i] | 0x20) >= 'a' && (name[i] | 0x20) <= 'z')))
			return mreg_seterr(MREG_EINVALID,
					   "%s: a datastore name holds letters, digits, '_' and '-' "
					   "only",
					   uri);
	rest += 7;
	if (strchr(rest, '?') || strchr(rest, '#'))
		return mreg_seterr(MREG_EINVALID, "%s: a datastore path has no query or fragment",
				   uri);
	for (const char *p = rest; *p;) {
		size_t seg = strcspn(p, "/");
		if ((seg == 1 && p[0] == '.') || (seg == 2 && p[0] == '.' && p[1] == '.'))
			return mreg_seterr(MREG_EINVALID, "%s: '.' and '..' are not path segments "
							  "of a datastore path",
					   uri);
		p += seg;
		p += *p == '/';
	}
	out->name = strndup(name, nlen);
	out->path = strdup(rest);
	if (!out->name || !out->path) {
		source_datastore_ref_dispose(out);
		return mreg_seterr_nomem();
	}
	return 0;
}

int source_name_check(const char *name, const char *what)
{
	size_t len = strlen(name);

	if (len == 0 || !strcmp(name, ".") || !strcmp(name, ".."))
		return mreg_seterr(MREG_EINVALID, "%s: '%s' is not a file name", what, name);
	if (len > SOURCE_NAME_MAX)
		return mreg_seterr(MREG_EINVALID, "%s: a file name longer than %d bytes", what,
				   SOURCE_NAME_MAX);
	if (strpbrk(name, "/\\") || !utf8_printable(name))
		return mreg_seterr(MREG_EINVALID,
				   "%s: the file name holds '/', '\\', a control character or is "
				   "not UTF-8",
				   what);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *source_percent_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		if (len - i < 3) {
			free(out);
			return NULL;
		}
		int hi = hexval(s[i + 1]);
		int lo = hexval(s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

int source_url_file_name(char **out, const char *url)
{
	const char *p = strstr(url, "://"), *end, *seg;
	char *name;
	int rc;

	*out = NULL;
	if (!p)
		return mreg_seterr(MREG_EINVALID, "not a URL");
	p += 3;
	p += strcspn(p, "/?#"); /* past the host */
	end = p + strcspn(p, "?#");
	seg = end;
	while (seg > p && seg[-1] != '/')
		seg--;
	if (seg == end)
		return MREG_ENOTFOUND;
	if (!(name = source_percent_decode(seg, (size_t)(end - seg))))
		return mreg_seterr(MREG_EINVALID, "the file name in the URL is not "
						  "percent-encoded right");
	if ((rc = source_name_check(name, "the URL's file name"))) {
		free(name);
		return rc;
	}
	*out = name;
	return 0;
}

/* Skip spaces and tabs. */
static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* The value of one parameter: a token, or a quoted string (backslash escapes). */
static char *param_value(const char **pp)
{
	const char *p = *pp;
	strbuf v = STRBUF_INIT;

	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			strbuf_add(&v, p, 1);
		}
		if (*p != '"') {
			strbuf_dispose(&v);
			return NULL;
		}
		p++;
	} else {
		size_t n = strcspn(p, "; \t");
		strbuf_add(&v, p, n);
		p += n;
	}
	*pp = p;
	if (!v.data && !v.failed)
		return strdup("");
	return strbuf_detach(&v);
}

/* The base name of @name (after its last '/' or '\\'), malloc'd. */
static char *base_name(const char *name)
{
	const char *b = name;

	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	return strdup(b);
}

int source_disposition_file_name(char **out, const char *header)
{
	const char *p;
	char *plain = NULL, *extended = NULL, *chosen;
	int rc = 0;

	*out = NULL;
	if (strnlen(header, SOURCE_TEXT_MAX + 1) > SOURCE_TEXT_MAX)
		return mreg_seterr(MREG_EINVALID, "Content-Disposition: longer than %d bytes",
				   SOURCE_TEXT_MAX);
	p = header + strcspn(header, ";"); /* past the type (attachment, inline) */
	while (*p == ';') {
		p = skip_ws(p + 1);
		size_t klen = strcspn(p, "=; \t");
		const char *key = p;
		p = skip_ws(p + klen);
		if (*p != '=') {
			p += strcspn(p, ";");
			continue;
		}
		p = skip_ws(p + 1);
		char *value = param_value(&p);
		if (!value) {
			rc = mreg_seterr(MREG_EINVALID, "Content-Disposition: an unterminated quoted "
							"string");
			goto done;
		}
		if (klen == 8 && strncasecmp(key, "filename", 8) == 0 && !plain) {
			plain = value;
		} else if (klen == 9 && strncasecmp(key, "filename*", 9) == 0 && !extended) {
			/* charset'language'percent-encoded: UTF-8 only (RFC 8187). */
			char *q1 = strchr(value, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
			if (!q2 || (size_t)(q1 - value) != 5 || strncasecmp(value, "UTF-8", 5)) {
				free(value);
				rc = mreg_seterr(MREG_EINVALID, "Content-Disposition: filename* is "
								"not UTF-8''percent-encoded");
				goto done;
			}
			extended = source_percent_decode(q2 + 1, strlen(q2 + 1));
			free(value);
			if (!extended) {
				rc = mreg_seterr(MREG_EINVALID, "Content-Disposition: filename* is "
								"not percent-encoded right");
				goto done;
			}
		} else {
			free(value);
		}
		p = skip_ws(p);
		if (*p && *p != ';') {
			rc = mreg_seterr(MREG_EINVALID, "Content-Disposition: unexpected text after "
							"a parameter");
			goto done;
		}
	}
	chosen = extended ? extended : plain;
	if (!chosen) {
		rc = MREG_ENOTFOUND;
		goto done;
	}
	if (!(*out = base_name(chosen))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = source_name_check(*out, "Content-Disposition"))) {
		free(*out);
		*out = NULL;
	}
done:
	free(plain);
	free(extended);
	return rc;
}

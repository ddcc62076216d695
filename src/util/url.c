/* URLs made safe to record: no credentials, no query string (see url.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "url.h"
#include "strutil.h"
#include "dl_curl.h"

/* `[user[:password]@]host:path` (git's scp-like syntax), or a local path. */
static char *redact_scp_like(const char *url)
{
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/'), *at;

	if (!colon || (slash && slash < colon))
		return strdup(url); /* a local path */
	/* The userinfo ends at the last '@' before the host's ':'. */
	at = NULL;
	for (const char *p = url; *p && (!slash || p < slash); p++)
		if (*p == '@')
			at = p;
	if (!at)
		return strdup(url);
	if (memchr(url, ':', (size_t)(at - url)))
		return strdup(at + 1); /* user:password@host:path: no user at all */
	return strdup(url);
}

/*
 * What libcurl made of a malformed URL may not read back as itself
 * ("file::///x" gives "file://:////x", which does not parse; "file:///"
 * gives "file://(nil)"): such a URL is not recorded either (found by
 * fuzz_url). A new handle: one that holds a URL resolves the next against it.
 */
static bool stable(const char *url)
{
	CURLU *h = sym_curl_url();
	char *again = NULL;
	bool ok = h && sym_curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
		  sym_curl_url_get(h, CURLUPART_URL, &again, 0) == CURLUE_OK && strcmp(again, url) == 0;

	sym_curl_free(again);
	sym_curl_url_cleanup(h);
	return ok;
}

char *url_redact(const char *url)
{
	CURLU *h;
	char *parsed = NULL, *out = NULL;

	if (!strstr(url, "://"))
		return redact_scp_like(url);
	if (dl_curl_need("reading a URL (a model's, or the git remote mreg create records)")) {
		errno = ELIBACC;
		return NULL;
	}
	if (!(h = sym_curl_url())) {
		errno = ENOMEM;
		return NULL;
	}
	/* A URL libcurl cannot parse (a password with an unencoded '/' or '@')
	 * is not recorded at all: no guess may leave part of a secret in it. */
	if (sym_curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    sym_curl_url_set(h, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    sym_curl_url_set(h, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    sym_curl_url_set(h, CURLUPART_OPTIONS, NULL, 0) == CURLUE_OK &&
	    sym_curl_url_set(h, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
	    sym_curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
	    sym_curl_url_get(h, CURLUPART_URL, &parsed, 0) == CURLUE_OK && stable(parsed)) {
		out = strdup(parsed);
		if (!out)
			errno = ENOMEM;
	} else {
		errno = EINVAL;
	}
	sym_curl_free(parsed);
	sym_curl_url_cleanup(h);
	return out;
}

bool url_is_remote_source(const char *path)
{
	static const char *const schemes[] = {"https://", "http://", "wasbs://", "wasb://",
					      "azureml:"};

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncasecmp(path, schemes[i], strlen(schemes[i])) == 0)
			return true;
	return false;
}

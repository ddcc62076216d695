#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/error_priv.h"
#include "util/grammar.h"
#include "remote_ref.h"
#include "util/strutil.h"

static bool lower_alnum(char c)
{
	return ascii_islower(c) || ascii_isdigit(c);
}

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool component_valid(const char *s, size_t len, const char **why)
{
	size_t i = 0;

	if (len == 0) {
		*why = "an empty path component (\"//\", or a leading or trailing \"/\")";
		return false;
	}
	while (i < len) {
		size_t start = i;
		while (i < len && lower_alnum(s[i]))
			i++;
		if (i == start) {
			if (ascii_isupper(s[i]))
				*why = "capital letters (repository names are lowercase)";
			else if (strchr("._-", s[i]))
				*why = "a separator (\".\", \"_\", \"__\" or \"-\") that does not stand "
				       "between two letters or digits";
			else
				*why = "a character other than a-z, 0-9, \".\", \"_\", \"-\" and \"/\"";
			return false;
		}
		if (i == len)
			return true;
		/* A separator: ".", "_", "__" or a run of "-". */
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += (i + 1 < len && s[i + 1] == '_') ? 2 : 1;
		else if (s[i] == '-')
			while (i < len && s[i] == '-')
				i++;
		else {
			*why = ascii_isupper(s[i])
				       ? "capital letters (repository names are lowercase)"
				       : "a character other than a-z, 0-9, \".\", \"_\", \"-\" and \"/\"";
			return false;
		}
		if (i == len || !lower_alnum(s[i])) {
			if (i < len && ascii_isupper(s[i]))
				*why = "capital letters (repository names are lowercase)";
			else
				*why = "a separator (\".\", \"_\", \"__\" or \"-\") that does not stand "
				       "between two letters or digits";
			return false;
		}
	}
	return true;
}

bool remote_repository_valid(const char *repo, const char **why)
{
	const char *p = repo;

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (!component_valid(p, len, why))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

bool remote_tag_valid(const char *tag)
{
	return grammar_tag_valid(tag);
}

static bool host_valid(const char *host)
{
	const char *port = NULL;

	if (host[0] == '[') {
		const char *end = strchr(host, ']');
		if (!end || end == host + 1)
			return false;
		for (const char *c = host + 1; c < end; c++)
			if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.')
				return false;
		if (end[1] == '\0')
			return true;
		if (end[1] != ':')
			return false;
		port = end + 2;
	} else {
		const char *c = host;
		for (; *c && *c != ':'; c++)
			if (!ascii_isalnum(*c) && *c != '.' && *c != '-')
				return false;
		if (c == host || host[0] == '-' || host[0] == '.')
			return false;
		if (*c == '\0')
			return true;
		port = c + 1;
	}
	if (!*port || strlen(port) > 5)
		return false;
	for (const char *c = port; *c; c++)
		if (!isdigit((unsigned char)*c))
			return false;
	long n = strtol(port, NULL, 10);
	return n >= 1 && n <= 65535;
}

static bool digest_valid(const char *d)
{
	if (strncmp(d, "sha256:", 7) || strlen(d) != 7 + 64)
		return false;
	for (const char *c = d + 7; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

void remote_ref_dispose(remote_ref *r)
{
	free(r->host);
	free(r->repository);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

int remote_ref_parse(remote_ref *out, const char *text)
{
	char *copy = strdup(text), *slash, *at, *colon;
	const char *why = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!copy)
		return mreg_seterr_nomem();
	/* user:password@ in a reference: refused without echoing any of it. An
	 * '@' with a '/' after it is not a digest's (those end the reference). */
	for (const char *p = strrchr(text, '/'); p && p > text; p--) {
		if (*p == '@') {
			rc = mreg_seterr(MREG_EINVALID,
					 "'***@%s': a registry reference cannot hold credentials "
					 "(user:password@ is neither sent nor shown): give them with "
					 "MREG_REGISTRY_USERNAME and MREG_REGISTRY_PASSWORD, docker "
					 "login or a credential file (see mreg-registries(7))",
					 p + 1);
			goto done;
		}
	}
	if (strstr(text, "://")) {
		rc = mreg_seterr(MREG_EINVALID,
				 "'%s': a registry reference has no scheme: give HOST[:PORT]/REPOSITORY"
				 "[:TAG] (https is the default; --plain-http for a local registry)",
				 text);
		goto done;
	}
	slash = strchr(copy, '/');
	if (!slash || slash == copy) {
		rc = mreg_seterr(MREG_EINVALID,
				 "'%s': not a registry reference: give HOST[:PORT]/REPOSITORY[:TAG] "
				 "(mreg has no default registry)",
				 text);
		goto done;
	}
	*slash = '\0';
	/* As docker tells a registry from a namespace: a dot, a port, or localhost. */
	if (!strchr(copy, '.') && !strchr(copy, ':') && strcmp(copy, "localhost")) {
		rc = mreg_seterr(MREG_EINVALID,
				 "'%s': '%s' is not a registry host: give HOST[:PORT]/REPOSITORY (a "
				 "host has a dot or a port, or is localhost; mreg has no default "
				 "registry)",
				 text, copy);
		goto done;
	}
	if (!host_valid(copy)) {
		rc = mreg_seterr(MREG_EINVALID, "'%s': '%s' is not a registry host[:port]", text,
				 copy);
		goto done;
	}
	out->host = strdup(copy);
	char *rest = slash + 1;
	at = strchr(rest, '@');
	if (at) {
		*at = '\0';
		if (!digest_valid(at + 1)) {
			rc = mreg_seterr(MREG_EINVALID,
					 "'%s': the digest must be sha256: and 64 lowercase hex digits",
					 text);
			goto done;
		}
		out->digest = strdup(at + 1);
	}
	colon = strrchr(rest, ':');
	if (colon) {
		*colon = '\0';
		if (!remote_tag_valid(colon + 1)) {
			rc = mreg_seterr(MREG_EINVALID,
					 "'%s': tag '%s' is not valid: 1 to 128 of A-Z a-z 0-9 _ . -, "
					 "not starting with . or -",
					 text, colon + 1);
			goto done;
		}
		out->tag = strdup(colon + 1);
	}
	if (!remote_repository_valid(rest, &why)) {
		rc = mreg_seterr(MREG_EINVALID, "'%s': repository '%s' is not valid: it has %s", text,
				 rest, why);
		goto done;
	}
	if (strlen(out->host) + 1 + strlen(rest) > REMOTE_NAME_MAX) {
		rc = mreg_seterr(MREG_EINVALID,
				 "'%s': the registry and repository name exceed %d characters", text,
				 REMOTE_NAME_MAX);
		goto done;
	}
	out->repository = strdup(rest);
	if (!out->host || !out->repository || (colon && !out->tag) || (at && !out->digest))
		rc = mreg_seterr_nomem();
done:
	free(copy);
	if (rc)
		remote_ref_dispose(out);
	return rc;
}

char *remote_name_to_repository(const char *name)
{
	char *repo = strdup(name);
	const char *why = NULL;

	if (!repo) {
		mreg_seterr_nomem();
		return NULL;
	}
	for (char *c = repo; *c; c++)
		if (ascii_isupper(*c))
			*c = (char)(*c - 'A' + 'a');
	if (!remote_repository_valid(repo, &why)) {
		mreg_seterr(MREG_EINVALID,
			    "model name '%s' maps to repository '%s', which has %s: name the "
			    "repository yourself",
			    name, repo, why);
		free(repo);
		return NULL;
	}
	return repo;
}

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "util/error_priv.h"
#include "remote_auth.h"
#include "util/strutil.h"

#define CONFIG_MAX (1u << 20)

void remote_creds_dispose(remote_creds *c)
{
	if (c->password)
		sodium_memzero(c->password, strlen(c->password));
	free(c->username);
	free(c->password);
	free(c->source);
	memset(c, 0, sizeof(*c));
}

/* "https://host:port/v1/" -> "host:port" */
static char *auths_key_host(const char *key)
{
	const char *p = strstr(key, "://");
	p = p ? p + 3 : key;
	return strndup(p, strcspn(p, "/"));
}

static int creds_from_entry(remote_creds *out, json_t *entry, const char *file, const char *key)
{
	const char *auth = json_string_value(json_object_get(entry, "auth"));
	const char *user = json_string_value(json_object_get(entry, "username"));
	const char *pass = json_string_value(json_object_get(entry, "password"));

	if (auth && *auth) {
		size_t cap = strlen(auth), len = 0;
		unsigned char *raw = malloc(cap + 1);
		char *colon;
		if (!raw)
			return mreg_seterr_nomem();
		if (sodium_base642bin(raw, cap, auth, cap, " \n", &len, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0) {
			free(raw);
			return mreg_seterr(MREG_EINVALID, "%s: auths.\"%s\".auth is not base64", file,
					   key);
		}
		raw[len] = '\0';
		colon = memchr(raw, ':', len);
		if (!colon || strlen((char *)raw) != len) {
			sodium_memzero(raw, len);
			free(raw);
			return mreg_seterr(MREG_EINVALID,
					   "%s: auths.\"%s\".auth is not base64 of USER:PASSWORD", file,
					   key);
		}
		*colon = '\0';
		out->username = strdup((char *)raw);
		out->password = strdup(colon + 1);
		sodium_memzero(raw, len);
		free(raw);
	} else if (user && pass) {
		out->username = strdup(user);
		out->password = strdup(pass);
	} else if (json_object_get(entry, "identitytoken")) {
		return mreg_seterr(MREG_EUNSUPPORTED,
				   "%s: auths.\"%s\" holds an identity token, which mreg does not "
				   "use: set MREG_REGISTRY_USERNAME and MREG_REGISTRY_PASSWORD",
				   file, key);
	} else {
		return MREG_ENOTFOUND;
	}
	out->source = strdup(file);
	if (!out->username || !out->password || !out->source) {
		remote_creds_dispose(out);
		return mreg_seterr_nomem();
	}
	return 0;
}

static int creds_from_file(remote_creds *out, const char *file, const char *host)
{
	json_error_t err;
	json_t *doc, *auths;
	const char *key;
	json_t *entry;
	int rc = MREG_ENOTFOUND;
	FILE *f = fopen(file, "r");

	if (!f)
		return MREG_ENOTFOUND;
	doc = json_loadf(f, JSON_REJECT_DUPLICATES, &err);
	fclose(f);
	if (!doc)
		return mreg_seterr(MREG_EINVALID, "%s:%d:%d: not valid JSON: %s", file, err.line,
				   err.column, err.text);
	auths = json_object_get(doc, "auths");
	if (auths && !json_is_object(auths)) {
		json_decref(doc);
		return mreg_seterr(MREG_EINVALID, "%s: \"auths\" is not an object", file);
	}
	json_object_foreach(auths, key, entry)
	{
		char *h = auths_key_host(key);
		bool match = h && strcmp(h, host) == 0;
		free(h);
		if (!match)
			continue;
		if (!json_is_object(entry)) {
			rc = mreg_seterr(MREG_EINVALID, "%s: auths.\"%s\" is not an object", file, key);
			break;
		}
		rc = creds_from_entry(out, entry, file, key);
		if (rc != MREG_ENOTFOUND)
			break;
	}
	if (rc == MREG_ENOTFOUND &&
	    (json_object_get(json_object_get(doc, "credHelpers"), host) ||
	     json_object_get(doc, "credsStore")))
		rc = mreg_seterr(MREG_EUNSUPPORTED,
				 "%s: credentials for %s are kept by a credential helper, which mreg "
				 "does not run: set MREG_REGISTRY_USERNAME and MREG_REGISTRY_PASSWORD",
				 file, host);
	json_decref(doc);
	return rc;
}

int remote_creds_find(remote_creds *out, const char *host)
{
	const char *user = getenv("MREG_REGISTRY_USERNAME");
	const char *pass = getenv("MREG_REGISTRY_PASSWORD");
	const char *only = getenv("MREG_REGISTRY_HOST");
	const char *authfile = getenv("REGISTRY_AUTH_FILE");
	const char *dcfg = getenv("DOCKER_CONFIG");
	const char *home = getenv("HOME");
	char *file = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	/* $MREG_REGISTRY_HOST keeps them for that registry alone. */
	if (user && *user && only && *only && strcmp(only, host))
		user = NULL;
	if (user && *user) {
		if (!pass)
			return mreg_seterr(MREG_EINVALID,
					   "MREG_REGISTRY_USERNAME is set but MREG_REGISTRY_PASSWORD "
					   "is not");
		out->username = strdup(user);
		out->password = strdup(pass);
		out->source = strdup("$MREG_REGISTRY_USERNAME");
		if (!out->username || !out->password || !out->source) {
			remote_creds_dispose(out);
			return mreg_seterr_nomem();
		}
		return 0;
	}
	if (authfile && *authfile) {
		rc = creds_from_file(out, authfile, host);
		if (rc != MREG_ENOTFOUND)
			return rc;
	}
	if (dcfg && *dcfg)
		file = path_join(dcfg, "config.json");
	else if (home && *home)
		file = path_join(home, ".docker/config.json");
	if (!file)
		return MREG_ENOTFOUND;
	rc = creds_from_file(out, file, host);
	free(file);
	return rc;
}

char *remote_basic_header(const remote_creds *c)
{
	char *plain = str_printf("%s:%s", c->username, c->password);
	size_t len, cap;
	char *out;

	if (!plain)
		return NULL;
	len = strlen(plain);
	cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	out = malloc(cap + 6);
	if (out) {
		memcpy(out, "Basic ", 6);
		sodium_bin2base64(out + 6, cap, (unsigned char *)plain, len,
				  sodium_base64_VARIANT_ORIGINAL);
	}
	sodium_memzero(plain, len);
	free(plain);
	return out;
}

void remote_challenge_dispose(remote_challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/* key=value or key="quoted \"value\"" pairs, separated by commas. */
static int parse_params(remote_challenge *out, const char *p, const char *value)
{
	while (*p) {
		const char *k;
		size_t klen;
		strbuf v = STRBUF_INIT;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (!*p)
			break;
		k = p;
		while (*p && *p != '=' && *p != ' ')
			p++;
		klen = (size_t)(p - k);
		if (*p != '=')
			return mreg_seterr(MREG_EINVALID, "WWW-Authenticate: malformed: %s", value);
		p++;
		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				strbuf_add(&v, p, 1);
				p++;
			}
			if (*p != '"') {
				strbuf_dispose(&v);
				return mreg_seterr(MREG_EINVALID,
						   "WWW-Authenticate: unterminated quote: %s", value);
			}
			p++;
		} else {
			const char *s = p;
			while (*p && *p != ',' && *p != ' ')
				p++;
			strbuf_add(&v, s, (size_t)(p - s));
		}
		strbuf_add(&v, "", 0);
		char *val = strbuf_detach(&v);
		if (!val)
			return mreg_seterr_nomem();
		char **slot = NULL;
		if (klen == 5 && strncasecmp(k, "realm", 5) == 0)
			slot = &out->realm;
		else if (klen == 7 && strncasecmp(k, "service", 7) == 0)
			slot = &out->service;
		else if (klen == 5 && strncasecmp(k, "scope", 5) == 0)
			slot = &out->scope;
		if (slot) {
			free(*slot);
			*slot = val;
		} else {
			free(val);
		}
	}
	return 0;
}

int remote_challenge_parse(remote_challenge *out, const char *value)
{
	const char *p = value;
	int rc;

	memset(out, 0, sizeof(*out));
	while (*p == ' ')
		p++;
	if (strncasecmp(p, "Bearer", 6) == 0 && (p[6] == ' ' || p[6] == '\0'))
		out->bearer = true;
	else if (!(strncasecmp(p, "Basic", 5) == 0 && (p[5] == ' ' || p[5] == '\0')))
		return mreg_seterr(MREG_EUNSUPPORTED,
				   "the registry asks for an authentication scheme mreg does not "
				   "speak: %.*s",
				   (int)strcspn(p, " "), p);
	if ((rc = parse_params(out, p + (out->bearer ? 6 : 5), value))) {
		remote_challenge_dispose(out);
		return rc;
	}
	if (out->bearer && !out->realm) {
		remote_challenge_dispose(out);
		return mreg_seterr(MREG_EINVALID, "WWW-Authenticate: Bearer without a realm");
	}
	return 0;
}

/* RFC 6750's b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool b64token(const char *t)
{
	const char *p = t;

	while (isalnum((unsigned char)*p) || (*p && strchr("-._~+/", *p)))
		p++;
	if (p == t)
		return false;
	while (*p == '=')
		p++;
	return *p == '\0';
}

int remote_token_parse(char **token, const char *body, size_t len, const char *host)
{
	json_t *doc = json_loadb(body ? body : "", body ? len : 0, 0, NULL);
	const char *t = json_string_value(json_object_get(doc, "token"));
	int rc = 0;

	*token = NULL;
	if (!t || !*t)
		t = json_string_value(json_object_get(doc, "access_token"));
	if (!json_is_object(doc))
		rc = mreg_seterr(MREG_EAUTH, "%s: the token service's answer is not a JSON object",
				 host);
	else if (!t || !*t)
		rc = mreg_seterr(MREG_EAUTH, "%s: the token service's answer holds no token", host);
	else if (!b64token(t))
		rc = mreg_seterr(MREG_EAUTH,
				 "%s: the token service's token holds characters a token may not "
				 "(RFC 6750: letters, digits, -._~+/ and trailing =)",
				 host);
	else if (!(*token = strdup(t)))
		rc = mreg_seterr_nomem();
	json_decref(doc);
	return rc;
}

char *remote_error_text(const char *body, size_t len)
{
	json_t *doc, *first;
	const char *code, *msg;
	char *out = NULL;

	if (!body || !len)
		return NULL;
	doc = json_loadb(body, len, 0, NULL);
	first = json_array_get(json_object_get(doc, "errors"), 0);
	code = json_string_value(json_object_get(first, "code"));
	msg = json_string_value(json_object_get(first, "message"));
	if (code)
		out = msg ? str_printf("%.200s: %.300s", code, msg) : strndup(code, 200);
	json_decref(doc);
	if (out && strlen(out) > REMOTE_ERROR_TEXT_MAX)
		out[REMOTE_ERROR_TEXT_MAX] = '\0';
	return out;
}

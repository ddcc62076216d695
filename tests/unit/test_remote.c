/* remote_ref (references, name mapping) and remote_auth (credentials, challenges). */
#include <stdlib.h>
#include <string.h>

#include "util/error_priv.h"
#include "remote/remote_auth.h"
#include "remote/remote_ref.h"
#include "tap.h"

static void ref_ok(const char *text, const char *host, const char *repo, const char *tag,
		   const char *digest)
{
	remote_ref r;
	int rc = remote_ref_parse(&r, text);

	tap_is_int(rc, 0, "'%s' parses (%s)", text, rc ? mreg_error_last() : "");
	if (rc)
		return;
	tap_is_str(r.host, host, "'%s': host", text);
	tap_is_str(r.repository, repo, "'%s': repository", text);
	tap_ok((tag == NULL) == (r.tag == NULL) && (!tag || strcmp(tag, r.tag) == 0),
	       "'%s': tag %s", text, tag ? tag : "(none)");
	tap_ok((digest == NULL) == (r.digest == NULL) && (!digest || strcmp(digest, r.digest) == 0),
	       "'%s': digest %s", text, digest ? "given" : "(none)");
	remote_ref_dispose(&r);
}

static void ref_bad(const char *text, const char *why)
{
	remote_ref r;
	int rc = remote_ref_parse(&r, text);

	tap_is_int(rc, MREG_EINVALID, "'%s' is refused", text);
	tap_ok(rc && strstr(mreg_error_last(), why) != NULL, "'%s': the reason says '%s': %s", text,
	       why, mreg_error_last());
}

static void test_refs(void)
{
	const char *d = "sha256:15c7c72bfae7e72bf110439675364211d0540664eb4fac2d384bf6373d5239b0";
	char with_digest[200];

	ref_ok("localhost:5000/churn:1", "localhost:5000", "churn", "1", NULL);
	ref_ok("localhost/churn:1", "localhost", "churn", "1", NULL);
	ref_ok("registry.example.com/team/ml/churn", "registry.example.com", "team/ml/churn", NULL,
	       NULL);
	ref_ok("r.io/a.b_c__d---e/f:V2_x-1.0", "r.io", "a.b_c__d---e/f", "V2_x-1.0", NULL);
	ref_ok("[::1]:5000/m:t", "[::1]:5000", "m", "t", NULL);
	snprintf(with_digest, sizeof(with_digest), "r.io/m@%s", d);
	ref_ok(with_digest, "r.io", "m", NULL, d);
	snprintf(with_digest, sizeof(with_digest), "r.io/m:t@%s", d);
	ref_ok(with_digest, "r.io", "m", "t", d);

	ref_bad("churn", "not a registry reference");
	ref_bad("team/churn:1", "'team' is not a registry host");
	ref_bad("r.io/Team/churn", "capital letters");
	ref_bad("r.io/team//churn", "empty path component");
	ref_bad("r.io/team/", "empty path component");
	ref_bad("r.io/a_-b", "separator");
	ref_bad("r.io/a___b", "separator");
	ref_bad("r.io/-a", "separator");
	ref_bad("r.io/a.", "separator");
	ref_bad("r.io/a b", "a character other than");
	ref_bad("r.io/m:-t", "tag '-t' is not valid");
	ref_bad("r.io/m:t!", "tag 't!' is not valid");
	ref_bad("r.io/m@sha256:abc", "64 lowercase hex");
	ref_bad("r.io/m@md5:abcd", "sha256");
	ref_bad("r.io:0/m", "not a registry host[:port]");
	ref_bad("r.io:70000/m", "not a registry host[:port]");
	ref_bad("r_io.com/m", "not a registry host[:port]");
	/* Credentials are refused, and never echoed, whatever the password holds. */
	const char *with_creds[] = {"alice:s3cr3t@localhost:5000/x/c:1", "s3cr3t@r.io/m",
		"alice:s3/cr3t@r.io/m", "alice:s3@cr3t@r.io/m:t",
		"https://alice:s3cr3t@r.io/m"};
	for (size_t i = 0; i < sizeof(with_creds) / sizeof(*with_creds); i++) {
		ref_bad(with_creds[i], "cannot hold credentials");
		tap_ok(!strstr(mreg_error_last(), "s3") && !strstr(mreg_error_last(), "alice"),
		       "'%s': the message shows no part of the credentials: %s", with_creds[i],
		       mreg_error_last());
	}
	ref_bad("https://r.io/m:1", "has no scheme");

	char tag[200];
	memset(tag, 'a', 129);
	tag[129] = '\0';
	tap_ok(!remote_tag_valid(tag), "a tag of 129 characters is refused");
	tag[128] = '\0';
	tap_ok(remote_tag_valid(tag), "a tag of 128 characters is fine");

	char long_ref[400];
	memset(long_ref, 'a', sizeof(long_ref));
	memcpy(long_ref, "r.io/", 5);
	long_ref[260] = '\0';
	ref_bad(long_ref, "exceed 255");
}

static void test_name_mapping(void)
{
	char *r;

	r = remote_name_to_repository("Churn_Model-V2");
	tap_is_str(r ? r : "(null)", "churn_model-v2", "Churn_Model-V2 maps to churn_model-v2");
	free(r);
	r = remote_name_to_repository("a__b--c");
	tap_is_str(r ? r : "(null)", "a__b--c", "'__' and '--' are separators the spec allows");
	free(r);
	r = remote_name_to_repository("bad_-name");
	tap_ok(r == NULL && strstr(mreg_error_last(), "name the repository yourself"),
	       "bad_-name is refused: %s", mreg_error_last());
	free(r);
	r = remote_name_to_repository("model-");
	tap_ok(r == NULL, "a trailing separator is refused");
	free(r);
}

static void test_challenges(void)
{
	remote_challenge c;

	tap_is_int(remote_challenge_parse(
			   &c, "Bearer realm=\"https://auth.example.com/token\",service=\"reg\","
			       "scope=\"repository:team/churn:pull,push\""),
		   0, "a Bearer challenge parses");
	tap_ok(c.bearer, "it is Bearer");
	tap_is_str(c.realm, "https://auth.example.com/token", "realm");
	tap_is_str(c.service, "reg", "service");
	tap_is_str(c.scope, "repository:team/churn:pull,push", "scope (a comma inside quotes)");
	remote_challenge_dispose(&c);

	tap_is_int(remote_challenge_parse(&c, "Basic realm=\"a \\\"quoted\\\" realm\""), 0,
		   "a Basic challenge parses");
	tap_ok(!c.bearer, "it is Basic");
	tap_is_str(c.realm, "a \"quoted\" realm", "escapes inside quotes");
	remote_challenge_dispose(&c);

	tap_is_int(remote_challenge_parse(&c, "bearer realm=https://a/t, service=x"), 0,
		   "scheme case and unquoted values");
	tap_is_str(c.realm, "https://a/t", "unquoted realm");
	remote_challenge_dispose(&c);

	tap_is_int(remote_challenge_parse(&c, "Negotiate abc"), MREG_EUNSUPPORTED,
		   "another scheme is unsupported");
	tap_is_int(remote_challenge_parse(&c, "Bearer service=x"), MREG_EINVALID,
		   "Bearer without a realm is refused");
	tap_is_int(remote_challenge_parse(&c, "Bearer realm=\"unterminated"), MREG_EINVALID,
		   "an unterminated quote is refused");
}

static void write_file(const char *path, const char *text)
{
	tap_write(path, text);
}

static void test_creds(void)
{
	remote_creds c;
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/docker", tap_tmpdir());
	unsetenv("MREG_REGISTRY_USERNAME");
	unsetenv("MREG_REGISTRY_PASSWORD");
	unsetenv("REGISTRY_AUTH_FILE");
	setenv("DOCKER_CONFIG", dir, 1);
	setenv("HOME", tap_tmpdir(), 1);

	tap_is_int(remote_creds_find(&c, "r.io"), MREG_ENOTFOUND, "no files: no credentials");

	system("mkdir -p docker");
	/* base64("alice:pa:ss") */
	write_file("docker/config.json",
		   "{\"auths\": {\"https://r.io/v1/\": {\"auth\": \"YWxpY2U6cGE6c3M=\"},"
		   " \"other.io:5000\": {\"username\": \"bob\", \"password\": \"pw\"}}}");
	tap_is_int(remote_creds_find(&c, "r.io"), 0, "docker config: a key with scheme and path");
	tap_is_str(c.username, "alice", "user from auth");
	tap_is_str(c.password, "pa:ss", "password from auth (a colon in it)");
	tap_ok(strstr(c.source, "docker/config.json") != NULL, "source names the file: %s",
	       c.source);
	remote_creds_dispose(&c);
	tap_is_int(remote_creds_find(&c, "other.io:5000"), 0, "username/password fields");
	tap_is_str(c.username, "bob", "user");
	remote_creds_dispose(&c);
	tap_is_int(remote_creds_find(&c, "other.io"), MREG_ENOTFOUND,
		   "the port is part of the registry's name");

	setenv("MREG_REGISTRY_USERNAME", "env", 1);
	tap_is_int(remote_creds_find(&c, "r.io"), MREG_EINVALID,
		   "a username without a password is an error");
	setenv("MREG_REGISTRY_PASSWORD", "envpw", 1);
	tap_is_int(remote_creds_find(&c, "r.io"), 0, "the environment comes first");
	tap_is_str(c.username, "env", "user from the environment");
	remote_creds_dispose(&c);
	setenv("MREG_REGISTRY_HOST", "other.io:5000", 1);
	tap_is_int(remote_creds_find(&c, "r.io"), 0, "MREG_REGISTRY_HOST names another registry");
	tap_is_str(c.username, "alice", "so the environment's credentials are not used for r.io");
	remote_creds_dispose(&c);
	tap_is_int(remote_creds_find(&c, "other.io:5000"), 0, "and are for the one it names");
	tap_is_str(c.username, "env", "user from the environment for MREG_REGISTRY_HOST");
	remote_creds_dispose(&c);
	unsetenv("MREG_REGISTRY_HOST");
	unsetenv("MREG_REGISTRY_USERNAME");
	unsetenv("MREG_REGISTRY_PASSWORD");

	write_file("auth.json", "{\"auths\": {\"r.io\": {\"auth\": \"Y2Fyb2w6eA==\"}}}");
	setenv("REGISTRY_AUTH_FILE", "auth.json", 1);
	tap_is_int(remote_creds_find(&c, "r.io"), 0, "REGISTRY_AUTH_FILE comes before docker's");
	tap_is_str(c.username, "carol", "user from the auth file");
	remote_creds_dispose(&c);
	unsetenv("REGISTRY_AUTH_FILE");

	write_file("docker/config.json", "{\"auths\": {\"r.io\": {\"auth\": \"!!notbase64\"}}}");
	tap_is_int(remote_creds_find(&c, "r.io"), MREG_EINVALID, "bad base64 is an error");
	tap_ok(strstr(mreg_error_last(), "auths.\"r.io\".auth") != NULL, "it names the field: %s",
	       mreg_error_last());
	write_file("docker/config.json", "{\"auths\": {\"r.io\": {\"auth\": \"bm9jb2xvbg==\"}}}");
	tap_is_int(remote_creds_find(&c, "r.io"), MREG_EINVALID, "auth without a colon is an error");
	write_file("docker/config.json", "{\"credsStore\": \"desktop\"}");
	tap_is_int(remote_creds_find(&c, "r.io"), MREG_EUNSUPPORTED,
		   "a credential helper is named, not run");
	tap_ok(strstr(mreg_error_last(), "credential helper") != NULL, "%s", mreg_error_last());
	write_file("docker/config.json", "{\"auths\": ");
	tap_is_int(remote_creds_find(&c, "r.io"), MREG_EINVALID, "malformed JSON is an error");
	tap_ok(strstr(mreg_error_last(), "config.json:") != NULL, "with the file and position: %s",
	       mreg_error_last());

	remote_creds own = {.username = "u", .password = "p:w"};
	char *h = remote_basic_header(&own);
	tap_is_str(h ? h : "", "Basic dTpwOnc=", "the Basic header is base64(user:password)");
	free(h);
}

/* A token service's answer: what becomes the Authorization header. */
/* A string literal and its length. */
#define S(lit) (lit), (sizeof(lit) - 1)

static void test_token_answers(void)
{
	char *t = NULL;
	const char *jwt = "{\"token\":\"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln_-=\","
			  "\"expires_in\":300}";
	const char *crlf = "{\"token\":\"abc\\r\\nX-Injected: 1\"}";

	tap_is_int(remote_token_parse(&t, jwt, strlen(jwt), "reg"), 0, "a JWT token is taken");
	tap_is_str(t, "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln_-=", "the token, as sent");
	free(t);
	tap_is_int(remote_token_parse(&t, S("{\"token\":\"\",\"access_token\":\"x~y+z/0==\"}"),
				      "reg"),
		   0, "OAuth2's access_token when token is empty");
	tap_is_str(t, "x~y+z/0==", "access_token");
	free(t);
	tap_is_int(remote_token_parse(&t, crlf, strlen(crlf), "reg"), MREG_EAUTH,
		   "a token with a line break (header injection) is refused");
	tap_ok(t == NULL, "nothing is returned");
	tap_ok(strstr(mreg_error_last(), "reg: the token service's token holds characters") !=
		       NULL,
	       "the message names the registry and the reason: %s", mreg_error_last());
	tap_is_int(remote_token_parse(&t, S("{\"token\":\"a b\"}"), "reg"), MREG_EAUTH,
		   "a token with a space is refused");
	tap_is_int(remote_token_parse(&t, S("{\"token\":\"=abc\"}"), "reg"), MREG_EAUTH,
		   "a token starting with '=' is refused");
	tap_is_int(remote_token_parse(&t, S("[\"token\"]"), "reg"), MREG_EAUTH,
		   "an answer that is not an object is refused");
	tap_ok(strstr(mreg_error_last(), "not a JSON object") != NULL, "saying so: %s",
	       mreg_error_last());
	tap_is_int(remote_token_parse(&t, S("{\"expires_in\":3}"), "reg"), MREG_EAUTH,
		   "an answer without a token is refused");
	tap_ok(strstr(mreg_error_last(), "holds no token") != NULL, "saying so");
	tap_is_int(remote_token_parse(&t, NULL, 0, "reg"), MREG_EAUTH, "an empty answer is refused");
}

/* A registry's error body, as it appears in mreg's messages. */
static void test_error_bodies(void)
{
	const char *one = "{\"errors\":[{\"code\":\"MANIFEST_INVALID\",\"message\":\"manifest "
			  "invalid\",\"detail\":{}},{\"code\":\"X\"}]}";
	char big[4096], *e;

	e = remote_error_text(one, strlen(one));
	tap_is_str(e, "MANIFEST_INVALID: manifest invalid", "the first error: CODE: message");
	free(e);
	e = remote_error_text(S("{\"errors\":[{\"code\":\"DENIED\"}]}"));
	tap_is_str(e, "DENIED", "a code without a message");
	free(e);
	tap_ok(remote_error_text(S("<html>502 Bad Gateway</html>")) == NULL,
	       "an HTML error page gives nothing");
	tap_ok(remote_error_text(S("{\"errors\":{}}")) == NULL, "errors that is not a list");
	tap_ok(remote_error_text(NULL, 0) == NULL, "no body");
	snprintf(big, sizeof(big), "{\"errors\":[{\"code\":\"C\",\"message\":\"%03000d\"}]}", 0);
	e = remote_error_text(big, strlen(big));
	tap_ok(e && strlen(e) <= REMOTE_ERROR_TEXT_MAX && strncmp(e, "C: 000", 6) == 0,
	       "a 3000-byte message is cut to %d bytes", REMOTE_ERROR_TEXT_MAX);
	free(e);
}

int main(void)
{
	tap_tmpdir();
	test_refs();
	test_name_mapping();
	test_challenges();
	test_creds();
	test_token_answers();
	test_error_bodies();
	return tap_done();
}

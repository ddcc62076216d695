/*
 * Registry credentials and authentication challenges.
 *
 * Credentials come from the environment or from the files `docker login`,
 * `podman login` and `skopeo login` write, never from the command line:
 *   1. $MREG_REGISTRY_USERNAME and $MREG_REGISTRY_PASSWORD (every registry, or
 *      only $MREG_REGISTRY_HOST's when that is set);
 *   2. $REGISTRY_AUTH_FILE (containers-auth.json);
 *   3. $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
 * In the files, "auths" maps a registry ("host:port", optionally with a
 * scheme and a path, as docker writes them) to {"auth": base64("user:pass")}
 * or {"username": ..., "password": ...}.
 */
#ifndef MREG_REMOTE_AUTH_H
#define MREG_REMOTE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
	char *username;
	char *password;
	char *source; /* where they came from, for messages ("$MREG_REGISTRY_USERNAME", a file) */
} remote_creds;

/*
 * Find credentials for @host. Returns 0 and fills @out, MREG_ENOTFOUND when
 * there are none (out stays empty, no message), or MREG_EINVALID for a
 * malformed file (the message names it and the field).
 */
int remote_creds_find(remote_creds *out, const char *host);
void remote_creds_dispose(remote_creds *c);

/* A WWW-Authenticate challenge: "Basic realm=..." or "Bearer realm=...,service=...,scope=...". */
typedef struct {
	bool bearer; /* false: Basic */
	char *realm;
	char *service;
	char *scope;
} remote_challenge;

/* Parse a header value. MREG_EUNSUPPORTED for another scheme, MREG_EINVALID when malformed. */
int remote_challenge_parse(remote_challenge *out, const char *value);
void remote_challenge_dispose(remote_challenge *c);

/*
 * The token of a token service's answer (Docker's token authentication:
 * {"token": ...} or OAuth2's {"access_token": ...}): *token is malloc'd.
 * MREG_EAUTH when the answer is not such a JSON object, holds no token, or
 * a token that is not an RFC 6750 b64token (it goes into an Authorization
 * header: a line break in it would add headers of the service's choosing).
 * @host names the registry in messages.
 */
int remote_token_parse(char **token, const char *body, size_t len, const char *host);

/*
 * The first error of a registry's error body ({"errors": [{"code", "message"}]},
 * the distribution spec's form) as "CODE: message", cut at
 * REMOTE_ERROR_TEXT_MAX bytes (control characters are escaped when the
 * message is set); NULL when the body holds none (or out of memory).
 */
#define REMOTE_ERROR_TEXT_MAX 512
char *remote_error_text(const char *body, size_t len);

/* "Basic base64(user:pass)"; NULL when out of memory. */
char *remote_basic_header(const remote_creds *c);

#endif

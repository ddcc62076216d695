/*
 * Fuzz target for what a registry (or anything posing as one) sends back
 * besides manifests and blobs: the WWW-Authenticate challenge of a 401, the
 * token service's JSON answer, and the error body of a failed request. The
 * input is read as each of them. Invariants: no crash, no leak; a challenge
 * that parses has a realm when it is Bearer; a token taken holds only
 * RFC 6750 b64token characters (it goes into an Authorization header); an
 * error text is bounded.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote/remote_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *token = NULL, *err;
	remote_challenge ch;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (remote_challenge_parse(&ch, text) == 0) {
		if (ch.bearer && !ch.realm)
			abort();
		remote_challenge_dispose(&ch);
	}
	if (remote_token_parse(&token, (const char *)data, size, "fuzz") == 0) {
		if (!*token)
			abort();
		for (const char *p = token; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("-._~+/=", *p))
				abort(); /* a byte that could end the header line */
		free(token);
	}
	if ((err = remote_error_text((const char *)data, size))) {
		if (strlen(err) > REMOTE_ERROR_TEXT_MAX)
			abort();
		free(err);
	}
	free(text);
	return 0;
}

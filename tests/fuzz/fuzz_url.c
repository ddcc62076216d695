/*
 * Fuzz target for the URLs and references mreg reads from elsewhere: a git
 * remote (recorded as source.git.remote after url_redact) and a registry
 * reference. Invariants: no crash, no leak; a redacted URL with a scheme
 * keeps no userinfo and no query string, and redacting it again changes
 * nothing; a reference that parses has a host and a repository.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote/remote_ref.h"
#include "util/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *clean;
	remote_ref ref;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if ((clean = url_redact(text))) {
		const char *auth = strstr(clean, "://");
		if (auth && strstr(text, "://")) {
			size_t alen = strcspn(auth + 3, "/");
			if (memchr(auth + 3, '@', alen) || strchr(clean, '?'))
				abort(); /* userinfo or a query string kept */
			char *again = url_redact(clean);
			if (!again || strcmp(again, clean))
				abort();
			free(again);
		}
		free(clean);
	}
	if (remote_ref_parse(&ref, text) == 0) {
		if (!ref.host || !*ref.host || !ref.repository || !*ref.repository)
			abort();
		remote_ref_dispose(&ref);
	}
	free(text);
	return 0;
}

/* URLs from untrusted places (git remotes), made safe to record and show. */
#ifndef MREG_URL_H
#define MREG_URL_H

#include <stdbool.h>

/*
 * @url without what must never be recorded: the userinfo (user, password,
 * token), the query string (`?private_token=...`) and the fragment. Parsed
 * with libcurl's URL parser. scp-like remotes (`git@host:path`) keep their
 * user name but lose a `user:password@`; local paths stay as they are.
 * Returns a malloc'd string; NULL when @url cannot be parsed (then nothing
 * of it may be recorded), out of memory (errno ENOMEM), or when libcurl,
 * loaded on the first URL, could not be (errno ELIBACC, the message set:
 * see dl_curl.h).
 */
char *url_redact(const char *url);

/*
 * True when a model path names a remote location, not a local file: it
 * starts with https://, http://, wasbs://, wasb:// or azureml: (any case).
 * model.yml keeps such a `path` as it is instead of resolving it.
 */
bool url_is_remote_source(const char *path);

#endif

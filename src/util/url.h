/* URLs from untrusted places (git remotes), made safe to record and show. */
#ifndef MREG_URL_H
#define MREG_URL_H

/*
 * @url without what must never be recorded: the userinfo (user, password,
 * token), the query string (`?private_token=...`) and the fragment. Parsed
 * with libcurl's URL parser. scp-like remotes (`git@host:path`) keep their
 * user name but lose a `user:password@`; local paths stay as they are.
 * Returns a malloc'd string; NULL when @url cannot be parsed (then nothing
 * of it may be recorded) or out of memory (errno ENOMEM).
 */
char *url_redact(const char *url);

#endif

/*
 * The parsing of what a remote source's URL and its server say, for
 * src/source/: every input is untrusted (a URL from argv or model.yml, a
 * header from any server), bounded, and refused with a message that names
 * the field and the reason. tests/fuzz/fuzz_source.c runs them all.
 */
#ifndef MREG_SOURCE_URL_H
#define MREG_SOURCE_URL_H

#include <stdbool.h>
#include <stddef.h>

/* Longest URL or header value looked at; longer ones are refused. */
#define SOURCE_TEXT_MAX 8192
/* Longest file name (bytes), as most file systems allow. */
#define SOURCE_NAME_MAX 255

typedef enum {
	SOURCE_HTTPS,        /* https:// (or http:// with plain_http): one file */
	SOURCE_AZURE_BLOB,   /* wasbs://C@A.blob.core.windows.net/P, https://A.blob.core.windows.net/C/P */
	SOURCE_AZUREML_DATASTORE, /* azureml://datastores/NAME/paths/PATH */
} source_kind;

/* A parsed azureml://datastores/NAME/paths/PATH: malloc'd parts. */
typedef struct {
	char *name;
	char *path; /* may be "" (the datastore's root) */
} source_datastore_ref;

/*
 * What kind of location @url is. MREG_EINVALID with a message for URLs mreg
 * cannot fetch: http:// without @plain_http, wasb:// (clear text), the
 * azureml URIs that need a workspace (azureml://jobs/..., azureml:NAME:VERSION).
 */
int source_classify(source_kind *out, const char *url, bool plain_http);

/* Split azureml://datastores/NAME/paths/PATH (MREG_EINVALID naming what is wrong). */
int source_datastore_parse(source_datastore_ref *out, const char *uri);
void source_datastore_ref_dispose(source_datastore_ref *ref);

/*
 * A file name mreg accepts for a fetched file: not empty, not "." or "..",
 * no '/', '\\' nor control characters, valid UTF-8, at most SOURCE_NAME_MAX
 * bytes. @what names its origin in the message ("Content-Disposition").
 */
int source_name_check(const char *name, const char *what);

/*
 * The last segment of @url's path, percent-decoded (malloc'd into *out);
 * MREG_ENOTFOUND when the path has none ("https://host/", "https://host/d/").
 * MREG_EINVALID when it is not a name source_name_check() accepts.
 */
int source_url_file_name(char **out, const char *url);

/*
 * The file name a Content-Disposition header gives (RFC 6266: filename*=
 * UTF-8''percent-encoded wins over filename="quoted" or filename=token);
 * directories in it are dropped, as browsers and curl -OJ do.
 * MREG_ENOTFOUND when it gives none, MREG_EINVALID when it is malformed.
 */
int source_disposition_file_name(char **out, const char *header);

/* Percent-decode @len bytes of @s (malloc'd); NULL when malformed ("%4" / "%zz" / "%00"). */
char *source_percent_decode(const char *s, size_t len);

#endif

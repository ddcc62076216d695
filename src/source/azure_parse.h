/*
 * What Azure Blob Storage says, and what its users configure, parsed and
 * bounded (tests/fuzz/fuzz_source.c runs both): a List Blobs answer (XML,
 * through libxml2, no network, no entity expansion) and a connection string.
 */
#ifndef MREG_AZURE_PARSE_H
#define MREG_AZURE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many blobs in one answer (Azure sends 5,000), and in one folder. */
#define AZURE_PAGE_MAX 5000
#define AZURE_BLOBS_MAX 100000
/* Azure's own limit on a blob name (bytes, UTF-8). */
#define AZURE_NAME_MAX 1024
/* The largest List Blobs answer read. */
#define AZURE_LIST_BODY_MAX (32u << 20)

typedef struct {
	char *name;
	uint64_t size;
	bool folder;        /* a folder marker: metadata hdi_isfolder=true */
} azure_blob;

typedef struct {
	azure_blob *blobs;
	size_t count;
	char *next_marker;  /* NULL or "" on the last page */
} azure_list_page;

/* Parse one List Blobs answer. MREG_ECORRUPT (message says what) when it is not one. */
int azure_list_parse(azure_list_page *out, const char *xml, size_t len);
void azure_list_page_dispose(azure_list_page *page);

/* A connection string's fields (the ones mreg uses; others are ignored). */
typedef struct {
	char *protocol;     /* DefaultEndpointsProtocol */
	char *account;      /* AccountName */
	char *key;          /* AccountKey (base64): a secret */
	char *blob_endpoint; /* BlobEndpoint */
	char *suffix;       /* EndpointSuffix */
	char *sas;          /* SharedAccessSignature: a secret */
	bool development;   /* UseDevelopmentStorage=true */
} azure_conn;

/*
 * Parse "Key=Value;Key=Value" (values may hold '='). MREG_EINVALID naming
 * the field (never its value) when malformed.
 */
int azure_conn_parse(azure_conn *out, const char *text);
/* Free, wiping the secrets. */
void azure_conn_dispose(azure_conn *c);

#endif

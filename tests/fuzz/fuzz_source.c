/*
 * Fuzz target for what a remote source reads from elsewhere (src/source/):
 * the first byte picks the reader, the rest is its input.
 *   0: a List Blobs answer (azure_list_parse: XML through libxml2)
 *   1: a Content-Disposition header (its file name)
 *   2: an AZURE_STORAGE_CONNECTION_STRING
 *   3: a model URL (classified; its file name; an azureml datastore URI;
 *      an Azure Blob URL)
 * Invariants: no crash, no leak; a file name that comes out passes
 * source_name_check (no '/', not "." or ".."); a parsed page has at most
 * AZURE_PAGE_MAX blobs, each with a name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mreg/error.h"
#include "source/azure_parse.h"
#include "source/source_azure.h"
#include "source/source_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *name)
{
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") || !name[0] ||
	    source_name_check(name, "fuzz"))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *name = NULL;

	if (size < 1)
		return 0;
	if (!(text = malloc(size)))
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0: {
		azure_list_page page;
		if (azure_list_parse(&page, (const char *)data + 1, size - 1) == 0) {
			if (page.count > AZURE_PAGE_MAX)
				abort();
			for (size_t i = 0; i < page.count; i++)
				if (!page.blobs[i].name || !page.blobs[i].name[0])
					abort();
			azure_list_page_dispose(&page);
		}
		break;
	}
	case 1:
		if (source_disposition_file_name(&name, text) == 0) {
			check_name(name);
			free(name);
		}
		break;
	case 2: {
		azure_conn c;
		if (azure_conn_parse(&c, text) == 0)
			azure_conn_dispose(&c);
		break;
	}
	default: {
		source_kind kind;
		source_datastore_ref ref;
		if (source_classify(&kind, text, true) == 0 && kind == SOURCE_AZURE_BLOB)
			source_azure_check_url(text);
		if (source_url_file_name(&name, text) == 0) {
			check_name(name);
			free(name);
		}
		if (source_datastore_parse(&ref, text) == 0) {
			if (!ref.name || !ref.name[0] || !ref.path)
				abort();
			source_datastore_ref_dispose(&ref);
		}
		break;
	}
	}
	free(text);
	mreg_error_clear();
	return 0;
}

/*
 * Fuzz target for the OCI documents of a bundle or a registry: the input is
 * read as oci-layout, index.json, an image manifest, a model config and
 * mreg's record annotation, as import, verify and pull read them before any
 * blob is touched. Invariants: no crash, no leak; a manifest that parses has
 * raw layer paths that are safe (OCI_PATH_RULES) and sizes of what it
 * describes within the limits; a record that parses has a valid name and
 * version and serialises again, and the limits check (import's and pull's
 * next step) takes it without harm.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mreg/registry.h"
#include "bundle/oci.h"
#include "store/record_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char *nul = malloc(size + 1), *ref = NULL, *digest = NULL;
	oci_desc desc;
	oci_manifest m;
	oci_config c;
	mreg_record *r = NULL;

	if (!nul)
		return 0;
	memcpy(nul, data, size);
	nul[size] = '\0';
	oci_layout_check(text, size);
	if (oci_index_parse(&desc, &ref, text, size) == 0) {
		if (desc.size > OCI_JSON_MAX)
			abort();
		free(ref);
	}
	if (oci_manifest_parse(&m, text, size) == 0) {
		if (m.config.size > OCI_JSON_MAX)
			abort();
		for (size_t i = 0; i < m.count; i++)
			if ((m.layers[i].form == LAYER_RAW && !m.layers[i].path) ||
			    (m.layers[i].path && !path_is_valid(m.layers[i].path, OCI_PATH_RULES)) ||
			    m.layers[i].mode > 0777)
				abort();
		oci_manifest_dispose(&m);
	}
	if (oci_config_parse(&c, text, size) == 0)
		oci_config_dispose(&c);
	if (oci_record_parse(&r, &digest, nul, "fuzz") == 0) {
		char *json = oci_record_json(r);
		if (!digest || mreg_name_check(r->name) || mreg_version_check(r->version) || !json)
			abort();
		record_check_limits(r, NULL, 0, "fuzz"); /* what import and pull ask next */
		free(json);
		free(digest);
		mreg_record_free(r);
	}
	free(nul);
	return 0;
}

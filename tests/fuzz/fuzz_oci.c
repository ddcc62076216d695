/*
 * Fuzz target for the OCI documents of a bundle or a registry: the input is
 * read as oci-layout, index.json (a model and its OMS signatures), a
 * referrers list (merged into again, as push maintains the fallback tag), an
 * OMS signature manifest, an image manifest, a model config and
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
	char *nul = malloc(size + 1), *digest = NULL;
	oci_index ix;
	oci_referrer *refs = NULL;
	size_t nrefs = 0;
	oci_sig_manifest sm;
	oci_manifest m;
	oci_config c;
	mreg_record *r = NULL;

	if (!nul)
		return 0;
	memcpy(nul, data, size);
	nul[size] = '\0';
	oci_layout_check(text, size);
	if (oci_index_parse(&ix, text, size) == 0) {
		if (ix.model.size > OCI_JSON_MAX || ix.referrer_count > OCI_REFERRERS_MAX)
			abort();
		for (size_t i = 0; i < ix.referrer_count; i++)
			if (ix.referrers[i].size > OCI_JSON_MAX ||
			    !strcmp(ix.referrers[i].digest, ix.model.digest))
				abort();
		oci_index_dispose(&ix);
	}
	/* What a registry or a bundle says about signatures: the referrers list, the
	 * fallback tag's index (and push's merge into it), a signature manifest. */
	if (oci_referrers_parse(&refs, &nrefs, text, size, "fuzz") == 0) {
		oci_blob merged, sig = {(char *)"{}", 2, OCI_EMPTY_DIGEST};
		if (nrefs > OCI_REFERRERS_MAX)
			abort();
		for (size_t i = 0; i < nrefs; i++)
			if (refs[i].desc.size > OCI_JSON_MAX)
				abort();
		free(refs);
		if (oci_referrers_merge(&merged, text, size, &sig) == 0) {
			if (oci_referrers_parse(&refs, &nrefs, merged.data, merged.len, "merged") ||
			    nrefs == 0)
				abort();
			free(refs);
			oci_blob_dispose(&merged);
		}
	}
	oci_artifact_type_is(text, size, OCI_SIG_ARTIFACT_TYPE);
	if (oci_sig_manifest_parse(&sm, text, size, "fuzz") == 0) {
		if (sm.layer.size == 0 || sm.layer.size > MREG_OMS_BUNDLE_MAX ||
		    strcmp(sm.config.digest, OCI_EMPTY_DIGEST))
			abort();
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

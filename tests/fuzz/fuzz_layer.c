/*
 * Fuzz target for the tar layers of ModelPack artifacts (pull and import of
 * another tool's artifact): the input is expanded as a layer of each form
 * (tar, tar+gzip, tar+zstd), hashing only (no staging folder), its digest and
 * size given right so the whole stream is read. Invariants: no crash, no leak;
 * a layer that expands gives a tree whose paths are safe (OCI_PATH_RULES),
 * sorted, each once, and no file is also a folder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/layer.h"
#include "util/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const model_tree *t)
{
	for (size_t i = 0; i < t->file_count; i++)
		if (!path_is_valid(t->files[i].path, OCI_PATH_RULES) ||
		    (i && strcmp(t->files[i - 1].path, t->files[i].path) >= 0))
			abort();
	for (size_t i = 0; i < t->dir_count; i++) {
		if (!path_is_valid(t->dirs[i].path, OCI_PATH_RULES))
			abort();
		for (size_t k = 0; k < t->file_count; k++)
			if (!strcmp(t->files[k].path, t->dirs[i].path))
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const oci_layer_form forms[] = {LAYER_TAR, LAYER_TAR_GZIP, LAYER_TAR_ZSTD};
	uint8_t raw[SHA256_LEN];
	oci_desc desc;

	hash_buffer(raw, data, size);
	digest_format(desc.digest, raw);
	desc.size = size;
	for (size_t f = 0; f < sizeof(forms) / sizeof(*forms); f++) {
		model_tree t = {0};
		if (layer_expand_memory(&t, data, size, "fuzz layer", forms[f], &desc, NULL) == 0 &&
		    tree_finish(&t, "fuzz") == 0)
			check(&t);
		tree_dispose(&t);
	}
	return 0;
}

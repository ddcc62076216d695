/*
 * Fuzz target for the ONNX reader (formats/weights/onnx.c): the bytes are
 * the whole model file, at sub/model.onnx in a model that holds one other
 * file, sub/weights.bin of 4,096 bytes, so external data is looked up both
 * found and missing. No crash, no leak, no read outside the buffer, and the
 * invariants of fuzz_weights.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(void *ctx, const char *rel, uint64_t *size, const char **why)
{
	(void)ctx;
	if (!strcmp(rel, "sub/weights.bin")) {
		*size = 4096;
		return 0;
	}
	*why = "no such file in the model";
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mreg_diag_list *diags = NULL;
	winfo info = {0};
	wdiag d = {0};
	wsrc src;

	if (mreg_diag_list_new(&diags))
		return 0;
	d.diags = diags;
	d.file = "sub/model.onnx";
	wsrc_init_mem(&src, data, size);
	if (weights_check_onnx(&src, &d, &info, "sub/model.onnx", lookup, NULL) == 0) {
		wdiag_finish(&d);
		fuzz_weights_check(diags, &info);
	}
	wsrc_dispose(&src);
	mreg_diag_list_free(diags);
	return 0;
}

/*
 * Fuzz target for the safetensors header reader (formats/weights/safetensors.c): the
 * bytes are the whole file. No crash, no leak, no read outside the buffer,
 * and the invariants of fuzz_weights.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mreg_diag_list *diags = NULL;
	winfo info;
	wsrc src;

	if (mreg_diag_list_new(&diags))
		return 0;
	wsrc_init_mem(&src, data, size);
	if (weights_check_source("safetensors", &src, "fuzz.safetensors", diags, &info) == 0)
		fuzz_weights_check(diags, &info);
	wsrc_dispose(&src);
	mreg_diag_list_free(diags);
	return 0;
}

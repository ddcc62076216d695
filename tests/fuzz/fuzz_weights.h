/*
 * The fuzz targets of the weight-file readers (formats/weights) share this:
 * the bytes are checked as a file of one format, every diagnostic is
 * formatted, and the invariants hold: a file without errors has its format
 * and as many tensors as its dtypes count; a file with errors describes
 * nothing.
 */
#ifndef MREG_FUZZ_WEIGHTS_H
#define MREG_FUZZ_WEIGHTS_H

#include <stdint.h>
#include <stdlib.h>

#include "weights/weights.h"

static inline void fuzz_weights_check(const mreg_diag_list *diags, const winfo *info)
{
	uint64_t tensors = 0;

	for (size_t i = 0; i < mreg_diag_count(diags); i++)
		free(mreg_diag_format(mreg_diag_get(diags, i)));
	for (size_t i = 0; i < info->ndtypes; i++)
		tensors += info->dtypes[i].tensors;
	if (mreg_diag_count_severity(diags, MREG_DIAG_ERROR) == 0 &&
	    (!info->format || (info->ndtypes < WEIGHTS_MAX_DTYPES && tensors != info->tensors)))
		abort(); /* a valid file must be described whole */
}

#endif

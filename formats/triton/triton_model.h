/*
 * triton_model: a Triton Inference Server model repository, or one model
 * folder of it, checked offline the way Triton checks it when it loads.
 * The plugin itself is mreg_format_triton_model (formats.h); this header
 * exposes what the tests need beyond it.
 */
#ifndef MREG_TRITON_MODEL_H
#define MREG_TRITON_MODEL_H

#include "mreg/diag.h"

/*
 * Environment variable: the number of GPUs of the server the models are
 * meant for (GPU ids 0..N-1; 0 = a CPU-only server). Unset, any id below
 * TRITON_ASSUMED_GPUS is taken to exist.
 */
#define TRITON_GPUS_ENV "MREG_TRITON_GPUS"
#define TRITON_ASSUMED_GPUS 16

/*
 * Validate @dir's config.pbtxt alone as the config of a model named after
 * the folder: every rule that needs only the config (and files it names),
 * none about version folders or model files. Models an ensemble names are
 * looked up beside @dir. For configs published without their model files.
 * Returns 0 when validation ran, MREG_ENOMEM.
 */
int triton_validate_config_only(const char *dir, mreg_diag_list *diags);

#endif

/**
 * @file mreg/common.h
 * @brief Macros and callback types shared by the public headers.
 */
#ifndef MREG_COMMON_H
#define MREG_COMMON_H

#include <stdint.h>

/** Marks a function exported by libmreg; everything else is hidden. */
#if defined(__GNUC__)
#define MREG_API __attribute__((visibility("default")))
#else
#define MREG_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Progress of long work: @p done of @p total bytes. Called at most every
 * few megabytes, from the calling thread.
 */
typedef void (*mreg_progress_fn)(void *ctx, uint64_t done, uint64_t total);

#ifdef __cplusplus
}
#endif

#endif

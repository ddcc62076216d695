/**
 * @file mreg/version.h
 * @brief The library's version.
 */
#ifndef MREG_VERSION_H
#define MREG_VERSION_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The version of the library at run time, e.g. "0.1.0". */
MREG_API const char *mreg_version_string(void);

#ifdef __cplusplus
}
#endif
#endif

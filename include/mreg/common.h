/**
 * @file mreg/common.h
 * @brief Macros shared by the public headers.
 */
#ifndef MREG_COMMON_H
#define MREG_COMMON_H

/** Marks a function exported by libmreg; everything else is hidden. */
#if defined(__GNUC__)
#define MREG_API __attribute__((visibility("default")))
#else
#define MREG_API
#endif

#endif

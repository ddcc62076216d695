/* Setting the thread-local error message (see mreg/error.h). */
#ifndef MREG_ERROR_PRIV_H
#define MREG_ERROR_PRIV_H

#include "mreg/error.h"

/* Set the message and return @code, so callers can write
 * `return mreg_seterr(MREG_EINVALID, "name '%s': ...", name);`. */
int mreg_seterr(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like mreg_seterr() with ": strerror(errno)" appended; the code is
 * MREG_ENOTFOUND for ENOENT, MREG_ENOMEM for ENOMEM, else MREG_EIO. */
int mreg_seterr_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prefix the current message with "prefix: " and return @code. */
int mreg_error_prefix(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Shorthand for out-of-memory. */
int mreg_seterr_nomem(void);

/*
 * 0, or MREG_EINTERRUPTED (message set) once mreg_interrupt() was called:
 * long loops call it at each step and unwind through their error path.
 */
int mreg_check_interrupt(void);

#endif

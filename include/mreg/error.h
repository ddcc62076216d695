/**
 * @file mreg/error.h
 * @brief Error codes and the thread-local error message.
 *
 * Every libmreg function that can fail returns an int: 0 on success or a
 * negative MREG_E* code. The human-readable reason (what and where) is kept
 * in a thread-local buffer read with mreg_error_last().
 */
#ifndef MREG_ERROR_H
#define MREG_ERROR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Return codes of libmreg functions. */
typedef enum {
	MREG_OK = 0,            /**< Success. */
	MREG_ENOTFOUND = -1,    /**< A model, version, store or file does not exist. */
	MREG_EEXISTS = -2,      /**< The thing to be created already exists. */
	MREG_EINVALID = -3,     /**< Bad input: name, version, path, option or model. */
	MREG_ECORRUPT = -4,     /**< Stored data is damaged: digest mismatch, bad record. */
	MREG_EUNSUPPORTED = -5, /**< A format or feature this build does not handle. */
	MREG_EIO = -6,          /**< The operating system refused (read, write, rename...). */
	MREG_ENOMEM = -7,       /**< Out of memory. */
	MREG_ELOCKED = -8,      /**< The store lock could not be taken. */
	MREG_EAUTH = -9,        /**< A registry refused access (no or wrong credentials). */
	MREG_ENETWORK = -10,    /**< A registry could not be reached, or the transfer broke off. */
	MREG_EINTERRUPTED = -11, /**< Stopped by mreg_interrupt(), what it had begun undone. */
} mreg_error_code;

/**
 * The message of the last error on this thread, e.g.
 * "blob sha256:ab12...: digest mismatch (store corrupt?)".
 * Never NULL; "" when no error was set. Valid until the next libmreg call
 * on the same thread.
 */
MREG_API const char *mreg_error_last(void);

/** Forget the last error on this thread. */
MREG_API void mreg_error_clear(void);

/** A short constant name for a code ("not found", "invalid", ...). */
MREG_API const char *mreg_error_name(int code);

/**
 * Ask every libmreg call in progress, on any thread, to stop at its next
 * step (within one chunk of a copy) and return MREG_EINTERRUPTED after
 * undoing what it had begun: temporary files and folders are removed, the
 * store is left as it was. Async-signal-safe: meant for a SIGINT, SIGTERM or
 * SIGHUP handler. The request stays in force until mreg_interrupt_clear().
 */
MREG_API void mreg_interrupt(void);

/** Withdraw an mreg_interrupt() request. */
MREG_API void mreg_interrupt_clear(void);

#ifdef __cplusplus
}
#endif
#endif

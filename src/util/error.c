#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error_priv.h"
#include "strutil.h"

static _Thread_local char last_error[1024];

const char *mreg_error_last(void)
{
	return last_error;
}

void mreg_error_clear(void)
{
	last_error[0] = '\0';
}

const char *mreg_error_name(int code)
{
	switch (code) {
	case MREG_OK: return "ok";
	case MREG_ENOTFOUND: return "not found";
	case MREG_EEXISTS: return "exists";
	case MREG_EINVALID: return "invalid";
	case MREG_ECORRUPT: return "corrupt";
	case MREG_EUNSUPPORTED: return "unsupported";
	case MREG_EIO: return "I/O error";
	case MREG_ENOMEM: return "out of memory";
	case MREG_ELOCKED: return "locked";
	case MREG_EAUTH: return "access denied";
	case MREG_ENETWORK: return "network";
	case MREG_EINTERRUPTED: return "interrupted";
	}
	return "unknown error";
}

/*
 * Messages name untrusted things (file names from a model folder, fields of a
 * bundle or a registry's answer): what a terminal could act on is made
 * visible, once, here, so that no caller has to remember it.
 */
static void make_printable(void)
{
	char clean[sizeof(last_error)];

	if (!str_needs_escape(last_error))
		return;
	str_escape_controls(clean, sizeof(clean), last_error);
	memcpy(last_error, clean, sizeof(clean));
}

static volatile sig_atomic_t interrupt_requested;

void mreg_interrupt(void)
{
	interrupt_requested = 1;
}

void mreg_interrupt_clear(void)
{
	interrupt_requested = 0;
}

int mreg_check_interrupt(void)
{
	if (!interrupt_requested)
		return 0;
	return mreg_seterr(MREG_EINTERRUPTED, "interrupted");
}

int mreg_seterr(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	make_printable();
	return code;
}

int mreg_seterr_errno(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	len = strlen(last_error);
	snprintf(last_error + len, sizeof(last_error) - len, ": %s", strerror(saved));
	make_printable();
	errno = saved;
	if (saved == ENOENT || saved == ENOTDIR)
		return MREG_ENOTFOUND;
	if (saved == ENOMEM)
		return MREG_ENOMEM;
	return MREG_EIO;
}

int mreg_error_prefix(int code, const char *fmt, ...)
{
	char prefix[512], old[sizeof(last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, last_error, sizeof(old));
	/* Messages longer than the buffer are cut: a prefix never fails. */
	size_t n = strnlen(prefix, sizeof(last_error) - 3);
	memcpy(last_error, prefix, n);
	memcpy(last_error + n, ": ", 2);
	n += 2;
	size_t rest = strnlen(old, sizeof(last_error) - n - 1);
	memcpy(last_error + n, old, rest);
	last_error[n + rest] = '\0';
	make_printable();
	return code;
}

int mreg_seterr_nomem(void)
{
	return mreg_seterr(MREG_ENOMEM, "out of memory");
}

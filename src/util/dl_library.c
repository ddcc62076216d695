/* dlopen() of an optional library and its symbols, once (see dl_library.h). */
#include <dlfcn.h>
#include <stdio.h>

#include "dl_library.h"
#include "error_priv.h"

static void forget(dl_library *lib, const dl_symbol *symbols, size_t count)
{
	for (size_t i = 0; i < count; i++)
		*symbols[i].slot = NULL;
	if (lib->handle)
		dlclose(lib->handle);
	lib->handle = NULL;
}

void dl_library_open(dl_library *lib, const dl_symbol *symbols, size_t count)
{
	const char *why;

	/* RTLD_LOCAL: its symbols stay out of the global scope, where they
	 * could take the place of another copy's that a program using libmreg
	 * loaded itself. */
	if (!(lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL))) {
		why = dlerror();
		snprintf(lib->error, sizeof(lib->error), "%s", why ? why : "dlopen failed");
		return;
	}
	for (size_t i = 0; i < count; i++) {
		dlerror();
		*symbols[i].slot = dlsym(lib->handle, symbols[i].name);
		if (!*symbols[i].slot) {
			why = dlerror();
			snprintf(lib->error, sizeof(lib->error), "%s",
				 why ? why : "a symbol is missing");
			forget(lib, symbols, count);
			return;
		}
	}
}

void dl_library_close(dl_library *lib, const dl_symbol *symbols, size_t count, const char *why)
{
	snprintf(lib->error, sizeof(lib->error), "%s", why);
	forget(lib, symbols, count);
}

int dl_library_check(const dl_library *lib, const char *purpose)
{
	if (lib->handle)
		return 0;
	return mreg_seterr(MREG_EIO, "%s needs %s (%s), which could not be loaded: %s",
			   purpose, lib->label, lib->soname, lib->error);
}

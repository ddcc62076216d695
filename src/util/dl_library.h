/*
 * Optional libraries loaded with dlopen() when a command first needs them.
 *
 * libcurl, libarchive, libxml2 and libgit2 bring some forty-five shared
 * libraries with them (TLS, Kerberos, LDAP, ICU, ...): linked at build time
 * they cost every mreg process ~15 ms before main(), in commands that never
 * use them. mreg links none of them; each has a module (dl_curl, dl_archive,
 * dl_xml2, dl_git2) with
 * one function pointer per function mreg calls, typed from the library's own
 * header (`__typeof__(curl_easy_init) *sym_curl_easy_init`), filled on first use.
 * The soname comes from the build (build-aux/soname.py reads it from the
 * library pkg-config found), so the library loaded is the one compiled
 * against.
 */
#ifndef MREG_DL_LIBRARY_H
#define MREG_DL_LIBRARY_H

#include <stddef.h>

/* One symbol to resolve: where its address goes, and its name. */
typedef struct {
	void **slot;
	const char *name;
} dl_symbol;

/* DL_SYMBOL(curl_easy_init) for the pointer sym_curl_easy_init. */
#define DL_SYMBOL(name) {(void **)&sym_##name, #name}

/* A library and what loading it gave; filled once, by dl_library_open(). */
typedef struct {
	const char *label;  /* "libcurl", for messages */
	const char *soname; /* "libcurl.so.4", from the build */
	void *handle;       /* NULL when it could not be loaded */
	char error[512];    /* dlerror()'s text when it could not */
} dl_library;

/*
 * Load @lib (RTLD_NOW | RTLD_LOCAL) and resolve every symbol of @symbols
 * into its slot. On any failure nothing stays loaded, every slot is NULL
 * and @lib->error says why. Not thread-safe: each module calls it from
 * pthread_once().
 */
void dl_library_open(dl_library *lib, const dl_symbol *symbols, size_t count);

/*
 * Unload @lib after dl_library_open() loaded it, when what must follow the
 * load failed (a library's own initialisation): every slot NULL again, @why
 * in @lib->error.
 */
void dl_library_close(dl_library *lib, const dl_symbol *symbols, size_t count, const char *why);

/*
 * 0 when @lib is loaded; else MREG_EIO with the message
 * "<purpose> needs <label> (<soname>), which could not be loaded: <why>".
 */
int dl_library_check(const dl_library *lib, const char *purpose);

#endif

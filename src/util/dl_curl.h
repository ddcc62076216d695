/*
 * libcurl, loaded when first needed (see dl_library.h): call dl_curl_need()
 * before any sym_curl_* pointer; each is typed from <curl/curl.h>. The
 * first dl_curl_need() also makes libcurl's curl_global_init(), once.
 */
#ifndef MREG_DL_CURL_H
#define MREG_DL_CURL_H

#include <curl/curl.h>

extern __typeof__(curl_easy_cleanup) *sym_curl_easy_cleanup;
extern __typeof__(curl_easy_escape) *sym_curl_easy_escape;
extern __typeof__(curl_easy_getinfo) *sym_curl_easy_getinfo;
extern __typeof__(curl_easy_init) *sym_curl_easy_init;
extern __typeof__(curl_easy_perform) *sym_curl_easy_perform;
extern __typeof__(curl_easy_reset) *sym_curl_easy_reset;
extern __typeof__(curl_easy_setopt) *sym_curl_easy_setopt;
extern __typeof__(curl_easy_strerror) *sym_curl_easy_strerror;
extern __typeof__(curl_free) *sym_curl_free;
extern __typeof__(curl_global_init) *sym_curl_global_init;
extern __typeof__(curl_slist_append) *sym_curl_slist_append;
extern __typeof__(curl_slist_free_all) *sym_curl_slist_free_all;
extern __typeof__(curl_url) *sym_curl_url;
extern __typeof__(curl_url_cleanup) *sym_curl_url_cleanup;
extern __typeof__(curl_url_get) *sym_curl_url_get;
extern __typeof__(curl_url_set) *sym_curl_url_set;

/*
 * Load libcurl once (thread-safe). 0, or MREG_EIO with a message
 * that names @purpose ("pushing to a registry (mreg push)"), the library and
 * its soname, and why it could not be loaded.
 */
int dl_curl_need(const char *purpose);

#endif

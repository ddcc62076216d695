/* libcurl's functions that mreg calls, resolved on first use. */
#include <pthread.h>

#include "config.h"
#include "dl_curl.h"
#include "dl_library.h"

__typeof__(curl_easy_cleanup) *sym_curl_easy_cleanup;
__typeof__(curl_easy_escape) *sym_curl_easy_escape;
__typeof__(curl_easy_getinfo) *sym_curl_easy_getinfo;
__typeof__(curl_easy_init) *sym_curl_easy_init;
__typeof__(curl_easy_perform) *sym_curl_easy_perform;
__typeof__(curl_easy_reset) *sym_curl_easy_reset;
__typeof__(curl_easy_setopt) *sym_curl_easy_setopt;
__typeof__(curl_easy_strerror) *sym_curl_easy_strerror;
__typeof__(curl_free) *sym_curl_free;
__typeof__(curl_global_init) *sym_curl_global_init;
__typeof__(curl_slist_append) *sym_curl_slist_append;
__typeof__(curl_slist_free_all) *sym_curl_slist_free_all;
__typeof__(curl_url) *sym_curl_url;
__typeof__(curl_url_cleanup) *sym_curl_url_cleanup;
__typeof__(curl_url_get) *sym_curl_url_get;
__typeof__(curl_url_set) *sym_curl_url_set;

static const dl_symbol symbols[] = {
	DL_SYMBOL(curl_easy_cleanup),  DL_SYMBOL(curl_easy_escape),
	DL_SYMBOL(curl_easy_getinfo),  DL_SYMBOL(curl_easy_init),
	DL_SYMBOL(curl_easy_perform),  DL_SYMBOL(curl_easy_reset),
	DL_SYMBOL(curl_easy_setopt),   DL_SYMBOL(curl_easy_strerror),
	DL_SYMBOL(curl_free),          DL_SYMBOL(curl_global_init),
	DL_SYMBOL(curl_slist_append),  DL_SYMBOL(curl_slist_free_all),
	DL_SYMBOL(curl_url),           DL_SYMBOL(curl_url_cleanup),
	DL_SYMBOL(curl_url_get),       DL_SYMBOL(curl_url_set),
};

static dl_library curl = {.label = "libcurl", .soname = MREG_LIBCURL_SONAME};
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	size_t n = sizeof(symbols) / sizeof(symbols[0]);

	dl_library_open(&curl, symbols, n);
	/* libcurl wants curl_global_init() once, before any other of its calls:
	 * here, in the same once, so whoever got 0 from dl_curl_need() may call
	 * any of them, on any thread. */
	if (curl.handle && sym_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		dl_library_close(&curl, symbols, n, "curl_global_init() failed");
}

int dl_curl_need(const char *purpose)
{
	pthread_once(&once, load);
	return dl_library_check(&curl, purpose);
}

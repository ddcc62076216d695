/* libxml2's functions that mreg calls, resolved on first use. */
#include <pthread.h>

#include "config.h"
#include "dl_xml2.h"
#include "dl_library.h"

__typeof__(xmlDocGetRootElement) *sym_xmlDocGetRootElement;
__typeof__(xmlFree) *sym_xmlFree;
__typeof__(xmlFreeDoc) *sym_xmlFreeDoc;
__typeof__(xmlNodeGetContent) *sym_xmlNodeGetContent;
__typeof__(xmlReadMemory) *sym_xmlReadMemory;

static const dl_symbol symbols[] = {
	DL_SYMBOL(xmlDocGetRootElement),
	DL_SYMBOL(xmlFree),
	DL_SYMBOL(xmlFreeDoc),
	DL_SYMBOL(xmlNodeGetContent),
	DL_SYMBOL(xmlReadMemory),
};

static dl_library lib = {.label = "libxml2", .soname = MREG_LIBXML2_SONAME};
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	dl_library_open(&lib, symbols, sizeof(symbols) / sizeof(symbols[0]));
}

int dl_xml2_need(const char *purpose)
{
	pthread_once(&once, load);
	return dl_library_check(&lib, purpose);
}

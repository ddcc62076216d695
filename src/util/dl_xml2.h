/*
 * libxml2, loaded when first needed (see dl_library.h): call dl_xml2_need()
 * before any sym_* pointer; each is typed from libxml2's own headers.
 * xmlFree is a variable (a pointer to the allocator's free): call it as
 * (*sym_xmlFree)(p).
 */
#ifndef MREG_DL_XML2_H
#define MREG_DL_XML2_H

#include <libxml/parser.h>
#include <libxml/tree.h>

extern __typeof__(xmlDocGetRootElement) *sym_xmlDocGetRootElement;
extern __typeof__(xmlFree) *sym_xmlFree;
extern __typeof__(xmlFreeDoc) *sym_xmlFreeDoc;
extern __typeof__(xmlNodeGetContent) *sym_xmlNodeGetContent;
extern __typeof__(xmlReadMemory) *sym_xmlReadMemory;

/*
 * Load libxml2 once (thread-safe). 0, or MREG_EIO with a message
 * that names @purpose ("listing an Azure container"), the library and its
 * soname, and why it could not be loaded.
 */
int dl_xml2_need(const char *purpose);

#endif

/*
 * Azure Blob Storage (wasbs://CONTAINER@ACCOUNT.blob.core.windows.net/PATH,
 * https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH): one blob, or every
 * blob under a prefix as a folder. See source_azure.c.
 */
#ifndef MREG_SOURCE_AZURE_H
#define MREG_SOURCE_AZURE_H

#include "mreg/source.h"

/* Fetch what @url names into @f's stage (credentials from the environment). */
int source_azure_fetch(mreg_fetched *f, const char *url, const mreg_source_options *o);

/* Parse an Azure Blob URL as the fetch does, and nothing more (tests/fuzz). */
int source_azure_check_url(const char *url);

#endif

#include "source_azure.h"
#include "util/error_priv.h"

int source_azure_fetch(mreg_fetched *f, const char *url, const mreg_source_options *o)
{
	(void)f;
	(void)o;
	return mreg_seterr(MREG_EUNSUPPORTED, "%s: Azure Blob Storage: not yet", url);
}

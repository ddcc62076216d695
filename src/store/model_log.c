/* mreg_model_log(): a model's history from git, for the store's records. */
#include <stdlib.h>

#include "gitinfo.h"
#include "mreg/git.h"
#include "mreg/record.h"
#include "mreg/store.h"

int mreg_model_log(mreg_log_entry **out, size_t *count, mreg_store *store, const char *name)
{
	int rc;

	*out = NULL;
	*count = 0;
	if ((rc = mreg_name_check(name)))
		return rc;
	return gitinfo_history(out, count, mreg_store_path(store), name);
}

void mreg_log_free(mreg_log_entry *e, size_t n)
{
	if (!e)
		return;
	for (size_t i = 0; i < n; i++) {
		free(e[i].version);
		free(e[i].commit);
		free(e[i].author);
		free(e[i].summary);
	}
	free(e);
}

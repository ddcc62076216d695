/*
 * mreg push / mreg pull: the bundle's OCI artifact over the distribution API.
 * This file holds what both directions share; push is remote_push.c, pull is
 * remote_pull.c, and the resumable blob download is remote_blob.c.
 */
#include <stdlib.h>

#include "util/error_priv.h"
#include "remote_priv.h"

void remote_progress_report(remote_progress *p, uint64_t done)
{
	if (p->fn)
		p->fn(p->ctx, p->base + done, p->total);
}

int remote_check_options(const mreg_remote_options *o)
{
	int rc;

	if (!o || (o->version != 1 && o->version != MREG_REMOTE_OPTIONS_VERSION))
		return mreg_seterr(MREG_EINVALID, "remote options: unknown version");
	if (o->retries > 20)
		return mreg_seterr(MREG_EINVALID, "retries: at most 20");
	if ((o->name && (rc = mreg_name_check(o->name))) ||
	    (o->model_version && (rc = mreg_version_check(o->model_version))))
		return rc;
	return 0;
}

int remote_open_session(remote_session **s, const remote_ref *ref, const char *actions,
			const mreg_remote_options *o)
{
	remote_conn_options co = {
		.plain_http = o->plain_http != 0,
		.ca_file = o->ca_file,
		.retries = o->retries,
		.stall_seconds = o->stall_seconds,
	};
	return remote_session_open(s, ref->host, ref->repository, actions, &co);
}

char *mreg_remote_repository_for(const char *model_name)
{
	return remote_name_to_repository(model_name);
}

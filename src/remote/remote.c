/*
 * mreg push / mreg pull: the bundle's OCI artifact over the distribution API.
 * This file holds what both directions share; push is remote_push.c, pull is
 * remote_pull.c, and the resumable blob download is remote_blob.c.
 */
#include <stdlib.h>
#include <string.h>

#include "util/error_priv.h"
#include "remote_priv.h"
#include "util/strutil.h"

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

int remote_get_index(remote_session *s, const char *repo, const char *kind, const char *ref,
		     remote_response *rs, bool *found)
{
	char *path = str_printf("/v2/%s/%s/%s", repo, kind, ref);
	remote_request rq = REMOTE_REQUEST_INIT;
	int rc;

	*found = false;
	if (!path)
		return mreg_seterr_nomem();
	rq.method = "GET";
	rq.url = path;
	rq.accept = OCI_MT_INDEX;
	rq.max_body = OCI_JSON_MAX;
	rc = remote_send_retrying(s, &rq, rs);
	if (rc == 0 && rs->status == 200)
		*found = true;
	else if (rc == 0 && rs->status != 404)
		rc = remote_status_error(s, &rq, rs,
					 rs->status == 403   ? MREG_EAUTH
					 : rs->status >= 500 ? MREG_ENETWORK
							     : MREG_EIO,
					 strcmp(kind, "referrers") ? "the referrers tag"
								   : "the referrers API");
	free(path);
	return rc;
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

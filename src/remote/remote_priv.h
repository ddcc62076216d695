/*
 * Internals shared by push (remote_push.c), pull (remote_pull.c) and the
 * resumable blob download (remote_blob.c): options, the session, progress.
 */
#ifndef MREG_REMOTE_PRIV_H
#define MREG_REMOTE_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "mreg/remote.h"
#include "mreg/store.h"
#include "bundle/oci.h"
#include "remote_http.h"
#include "remote_ref.h"

#define MANIFEST_ACCEPT                                                                   \
	OCI_MT_MANIFEST ", " OCI_MT_INDEX                                                  \
	", application/vnd.docker.distribution.manifest.v2+json"                          \
	", application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MT_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* Progress over all the blobs one push or pull moves. */
typedef struct {
	mreg_progress_fn fn;
	void *ctx;
	uint64_t base;  /* bytes of the blobs done before this one */
	uint64_t total; /* of all blobs to move */
} remote_progress;

void remote_progress_report(remote_progress *p, uint64_t done);

/*
 * GET /v2/@repo/@kind/@ref as an OCI image index (at most OCI_JSON_MAX
 * bytes): the referrers API (@kind "referrers", @ref the subject's digest)
 * or the fallback tag (@kind "manifests", @ref "sha256-HEX"). *found and
 * the index in @rs->body on a 200, not *found on a 404; anything else is an
 * error naming the request.
 */
int remote_get_index(remote_session *s, const char *repo, const char *kind, const char *ref,
		     remote_response *rs, bool *found);

/* Check the caller's options (version, retries, name and version given). */
int remote_check_options(const mreg_remote_options *o);

/* A session with @ref's registry, authorised for @actions ("pull", "push,pull"). */
int remote_open_session(remote_session **s, const remote_ref *ref, const char *actions,
			const mreg_remote_options *o);

/*
 * Download blob @desc of @repo into <@stage>/<hex>, complete and verified but
 * not fsynced (the caller fsyncs the whole stage: ingest_stage_sync()),
 * resuming from tmp/partial/<hex>.part when an earlier pull left one (with a
 * Range request, re-hashing what is there first). @what names the blob in
 * messages. Counts bytes and blobs in @info.
 */
int remote_fetch_blob(remote_session *s, const mreg_store *store, const char *repo,
		      const oci_desc *desc, const char *what, const char *stage, remote_progress *p,
		      mreg_remote_info *info);

/*
 * After a failed pull (@rc, message set): put the blobs it verified in @stage
 * back among the partial ones, complete, so the next pull checks them instead
 * of fetching them again. Returns @rc with its message.
 */
int remote_keep_verified(const mreg_store *store, const char *stage, int rc);

#endif

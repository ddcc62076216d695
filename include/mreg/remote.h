/**
 * @file mreg/remote.h
 * @brief Push and pull model versions to and from OCI distribution registries.
 *
 * A pushed version is the same OCI artifact `mreg package` writes (same
 * manifest, same digest): a CNCF ModelPack manifest, the model config holding
 * the record, and one raw layer per distinct file. Any registry that speaks
 * the OCI distribution API takes it (the CNCF distribution server, Azure
 * Container Registry, GHCR, Harbor, zot), and so do OCI tools (skopeo, oras).
 *
 * References are `HOST[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST]`; repository
 * names follow the distribution spec (lowercase; see mreg(1), REGISTRIES).
 * Credentials come from the environment or docker's and containers' auth
 * files, never from arguments (see mreg(1)); TLS is verified unless
 * plain_http is set.
 *
 * The first push or pull loads libcurl (dlopen, see mreg(1) FILES) and
 * initialises it (curl_global_init): make it
 * before starting other threads, or initialise libcurl yourself first. A
 * process that sends to registries should ignore SIGPIPE (libcurl is told
 * not to touch signals); the mreg program does.
 */
#ifndef MREG_REMOTE_H
#define MREG_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "oms.h"
#include "record.h"
#include "store.h"

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of mreg_push() and mreg_pull(). Initialise with MREG_REMOTE_OPTIONS_INIT. */
typedef struct {
	unsigned int version;       /**< MREG_REMOTE_OPTIONS_VERSION. */
	int plain_http;             /**< Speak http:// (a local registry) instead of https://. */
	const char *ca_file;        /**< Trust the CAs in this PEM file instead of the system's. */
	unsigned int retries;       /**< Further attempts after a failure worth retrying (network, 5xx). */
	unsigned int stall_seconds; /**< Give up on a transfer idle this long (0: 60 s). */
	const char *name;           /**< pull: register under this name instead of the pushed one. */
	const char *model_version;  /**< pull: register as this version instead. */
	mreg_progress_fn progress;  /**< Bytes sent or received of those to move. */
	void *progress_ctx;
	/**
	 * (version 2) pull: PEM public keys (paths); the version lands only when
	 * an OMS signature attached to its manifest (referrers API, else the
	 * fallback tag sha256-HEX) verifies with one of them and matches its files.
	 */
	const char *const *oms_keys;
	size_t oms_key_count;
	/** (version 2) push: sign with this key and attach the OMS signature as a referrer. */
	const mreg_oms_key *oms_key;
	/** (version 2) push: instead of @c oms_key, attach the OMS signature in this file (mreg sign's). */
	const char *oms_signature;
} mreg_remote_options;

#define MREG_REMOTE_OPTIONS_VERSION 2
#define MREG_REMOTE_OPTIONS_INIT {.version = MREG_REMOTE_OPTIONS_VERSION, .retries = 3}

/** What a push or pull did. Plain data: nothing to free. */
typedef struct {
	char manifest_digest[MREG_DIGEST_STRLEN]; /**< The artifact's identity (as `mreg package` prints). */
	char reference[512];        /**< HOST/REPOSITORY:TAG pushed (the repository filled in), or pulled. */
	char tag[129];              /**< The tag pushed or pulled ("" for a pull by digest). */
	size_t blobs;               /**< Blobs of the artifact: the config and the distinct files. */
	size_t blobs_moved;         /**< Of those, sent (push) or fetched (pull). */
	uint64_t bytes_moved;       /**< Their bytes (a resumed blob counts what was fetched). */
	size_t blobs_resumed;       /**< pull: blobs continued from an earlier, cut-off try. */
	int unchanged;              /**< pull: the version and its blobs were in the store already. */
	size_t oms_signatures;      /**< push: OMS signatures attached; pull: found for the manifest. */
	int oms_verified;           /**< pull: one verified with a given key. */
	size_t oms_kept;            /**< pull: OMS signatures newly kept with the version (mreg/kept_signatures.h). */
	size_t oms_dropped;         /**< pull: found but not kept (not an OMS bundle of its files, over the limit). */
	char oms_dropped_why[512];  /**< pull: why the first dropped one was. */
	int referrers_api;          /**< The registry answered the referrers API (else the fallback tag). */
} mreg_remote_info;

/**
 * Upload @p record (a version of @p store) to @p reference
 * (HOST[:PORT]/REPOSITORY[:TAG]; the tag defaults to the version). Blobs the
 * registry has already are skipped (HEAD); the others are streamed from the
 * store; the manifest is put last, under the tag, so the tag never names an
 * incomplete artifact.
 * Returns MREG_EINVALID (a reference the registry would refuse, the message
 * says why), MREG_ECORRUPT (a blob missing or damaged in the store),
 * MREG_EAUTH, MREG_ENETWORK (after the retries), MREG_EIO.
 */
MREG_API int mreg_push(mreg_remote_info *info, mreg_store *store, const mreg_record *record,
		       const char *reference, const mreg_remote_options *opts);

/**
 * Fetch the version @p reference names (a tag or @sha256: digest) and register
 * it. Every blob is verified while it streams into the store's tmp/; a blob cut
 * off is continued where it stopped (HTTP Range) on the next attempt, or by the
 * next mreg_pull() after a failed one. Nothing becomes visible until every blob
 * has been verified; a failure leaves the store's records and blobs as they
 * were. A pull by digest of a version the store holds transfers nothing.
 * @p out (may be NULL) receives the record.
 * Returns MREG_EINVALID (a reference, manifest or config that is not a model's),
 * MREG_ENOTFOUND (no such tag or digest), MREG_ECORRUPT (the registry sent data
 * that does not match its digest), MREG_EEXISTS (NAME:VERSION exists with other
 * content), MREG_EAUTH, MREG_ENETWORK, MREG_EIO.
 */
MREG_API int mreg_pull(mreg_remote_info *info, mreg_record **out, mreg_store *store,
		       const char *reference, const mreg_remote_options *opts);

/**
 * The repository name a model name maps to: letters lowercased, everything
 * else kept ("Churn_Model" -> "churn_model"). NULL with MREG_EINVALID's
 * message when the result still breaks the distribution spec's grammar
 * (a separator not between two letters or digits). Free with free().
 */
MREG_API char *mreg_remote_repository_for(const char *model_name);

#ifdef __cplusplus
}
#endif
#endif

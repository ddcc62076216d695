/**
 * @file mreg/source.h
 * @brief Models from remote locations: `https://` files, Azure Blob Storage
 *        (`wasbs://`) and Azure ML datastore URIs (`azureml://datastores/`).
 *
 * A remote model is fetched into a staging folder under the store's tmp/
 * (each file streamed to disk once, hashed as it arrives), checked there by
 * its format plugin through a tree of hard links to the staged files, and
 * only then lands in the store (mreg_model_create() with a URL as its path).
 * Credentials come from the environment only (see mreg-create(1)) and are
 * never recorded nor printed.
 */
#ifndef MREG_SOURCE_H
#define MREG_SOURCE_H

#include "store.h"

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How remote sources are fetched. Initialise with MREG_SOURCE_OPTIONS_INIT. */
typedef struct {
	unsigned int version;    /**< MREG_SOURCE_OPTIONS_VERSION. */
	const char *ca_file;     /**< Trust these CAs instead of the system's; NULL: system. */
	int plain_http;          /**< Allow http:// URLs and redirects (never by default). */
	const char *file_name;   /**< The name of a single fetched file; NULL: from the answer or URL. */
	unsigned int retries;    /**< Extra attempts after a cut, a 5xx, a 408 or a 429. */
	/* Since version 2: */
	/**
	 * Bytes received so far of all the files, and their total (0 while it is
	 * unknown: a server that sends no Content-Length). Called from one
	 * thread at a time, though a folder's files arrive on several; may be
	 * NULL.
	 */
	mreg_progress_fn progress;
	void *progress_ctx;
} mreg_source_options;

#define MREG_SOURCE_OPTIONS_VERSION 2
#define MREG_SOURCE_RETRIES_DEFAULT 4
#define MREG_SOURCE_OPTIONS_INIT \
	{.version = MREG_SOURCE_OPTIONS_VERSION, .retries = MREG_SOURCE_RETRIES_DEFAULT}

/**
 * True when @p path names a remote location rather than a local file:
 * `https://`, `http://`, `wasbs://`, `wasb://`, `azureml:` (any form).
 */
MREG_API int mreg_source_is_remote(const char *path);

/** A remote model fetched to the local disk, see mreg_source_fetch(). */
typedef struct mreg_fetched mreg_fetched;

/**
 * Fetch the model at @p url into a new folder under the tmp/ of @p store
 * (or under $TMPDIR when @p store is NULL; an `azureml://datastores/` URI
 * needs the store, whose config.yaml maps datastores). A failure leaves
 * nothing behind. @return 0, MREG_EINVALID (a URL mreg cannot fetch: the
 * message says why), MREG_ENOTFOUND, MREG_EAUTH, MREG_ENETWORK, MREG_EIO.
 */
MREG_API int mreg_source_fetch(mreg_fetched **out, mreg_store *store, const char *url,
			       const mreg_source_options *opts);

/** The fetched file or folder on disk (read-only files), for a format plugin. */
MREG_API const char *mreg_fetched_path(const mreg_fetched *fetched);

/** The URL as it may be shown and recorded: no credentials, no query. */
MREG_API const char *mreg_fetched_url(const mreg_fetched *fetched);

/** Remove what was fetched (unless it landed in the store) and free. Accepts NULL. */
MREG_API void mreg_fetched_free(mreg_fetched *fetched);

#ifdef __cplusplus
}
#endif
#endif

/*
 * Writing a bundle: the record's files as an OCI image layout in one tar,
 * streamed from the store and re-hashed beside the copy (blob_check.h), with nothing in the
 * archive that depends on the machine, the time or the user. Each blob is
 * opened once: a small one's descriptor goes to blob_check once copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artifact.h"
#include "blob_check.h"
#include "bundle_priv.h"
#include "oms_attach.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "store/kept_signatures.h"
#include "store/litter.h"
#include "store/record_priv.h"
#include "store/store_priv.h"
#include "util/strutil.h"
#include "util/dl_archive.h"

/* Output: write() + the running BLAKE2b of the file when signing. */
typedef struct {
	int fd;
	const char *name;
	uint64_t written;
	sign_prehash *prehash;
	int err; /* errno of a failed write */
} out_file;

static la_ssize_t write_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	out_file *o = ctx;
	const char *p = buf;
	size_t left = len;

	(void)a;
	while (left > 0) {
		ssize_t n = write(o->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			o->err = errno;
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	if (o->prehash)
		sign_prehash_update(o->prehash, buf, len);
	o->written += len;
	return (la_ssize_t)len;
}

static int archive_fail(struct archive *a, const out_file *o, const char *what)
{
	if (o->err) {
		errno = o->err;
		return mreg_seterr_errno("%s: write", o->name);
	}
	const char *why = sym_archive_error_string(a);

	return mreg_seterr(MREG_EIO, "%s: %s: %s", o->name, what, why ? why : "libarchive error");
}

/* Every entry the same way: no time, no owner, normalised modes. */
static int put_header(struct archive *a, struct archive_entry *e, const out_file *o,
		      const char *path, bool dir, uint64_t size)
{
	sym_archive_entry_clear(e);
	sym_archive_entry_set_pathname(e, path);
	sym_archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
	sym_archive_entry_set_perm(e, dir ? 0755 : 0644);
	sym_archive_entry_set_size(e, dir ? 0 : (la_int64_t)size);
	sym_archive_entry_set_mtime(e, 0, 0);
	sym_archive_entry_set_uid(e, 0);
	sym_archive_entry_set_gid(e, 0);
	if (sym_archive_write_header(a, e) != ARCHIVE_OK)
		return archive_fail(a, o, path);
	return 0;
}

static int put_data(struct archive *a, const out_file *o, const char *path, const void *data,
		    size_t len)
{
	const char *p = data;

	while (len > 0) {
		la_ssize_t n = sym_archive_write_data(a, p, len);
		if (n <= 0)
			return archive_fail(a, o, path);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int put_file(struct archive *a, struct archive_entry *e, const out_file *o,
		    const char *path, const void *data, size_t len)
{
	int rc = put_header(a, e, o, path, false, len);

	return rc ? rc : put_data(a, o, path, data, len);
}

typedef struct {
	struct archive *a;
	const out_file *o;
	const char *path;
} archive_sink;

static int sink_write(void *ctx, const uint8_t *buf, size_t len)
{
	archive_sink *s = ctx;

	return put_data(s->a, s->o, s->path, buf, len);
}

/*
 * One blob that blob_check hashes on its own thread: copied into the archive
 * only, every byte of the size its header promised. By read(2) into a buffer
 * and libarchive's 256 KiB writes, not copy_file_range(2) into the archive:
 * that was tried (libarchive's block size 0, the blob's bytes copied by the
 * kernel after its header, libarchive then handed as many filler bytes to
 * count and pad) and gave the same bytes, but on ext4 (Linux 6.18) it was
 * slower for 5,000 files of 4-64 KiB (a write and a copy per file instead of
 * a read per file and one write per 256 KiB: 2.7-3.1 s against 2.2-2.7 s at
 * load 20) and no faster for 60 files of 4 MB (1.85 s both): see
 * docs/bundles.md.
 */
/*
 * @f's blob from @fd into the archive through @buf (@cap bytes), which holds
 * the whole blob afterwards when it fits (for blob_check_add()).
 */
static int put_checked_blob(struct archive *a, const out_file *o, const char *path, int fd,
			    const mreg_file *f, stream_progress *progress, uint8_t *buf, size_t cap)
{
	bool fits = f->size <= cap;
	uint64_t total = 0;
	int rc;

	while (total < f->size) {
		uint8_t *at = fits ? buf + total : buf;
		ssize_t n = read(fd, at, fits ? cap - (size_t)total : cap);
		if (n < 0 && errno == EINTR)
			continue;
		/* Opened O_NONBLOCK (store_blob_open_nonblocking()). */
		if (n < 0 && errno == EAGAIN && fs_fd_set_blocking(fd) == 0)
			continue;
		if (n < 0)
			return mreg_seterr_errno("%s: blob %s: read", f->path, f->digest);
		if (n == 0)
			break;
		if ((rc = put_data(a, o, path, at, (size_t)n)))
			return rc;
		total += (uint64_t)n;
	}
	if (total != f->size)
		return mreg_seterr(MREG_ECORRUPT, "%s: blob %s has %llu bytes, not %llu (store "
						  "corrupt? run mreg fsck)",
				   f->path, f->digest, (unsigned long long)total,
				   (unsigned long long)f->size);
	if (progress && progress->fn)
		progress->fn(progress->ctx, progress->base + total, progress->total);
	return 0;
}

/*
 * One blob from the store into the archive, re-hashed on the way so that a
 * damaged store never ships a bundle every reader would refuse: a large blob
 * by stream_pump's second thread, a small one by @check's (blob_check.h);
 * either way about the cost of the copy on two cores.
 */
static int put_blob(struct archive *a, struct archive_entry *e, const out_file *o,
		    const mreg_store *store, const mreg_file *f, blob_check *check,
		    stream_progress *progress)
{
	char path[sizeof("blobs/sha256/") + SHA256_HEXLEN], got[MREG_DIGEST_STRLEN];
	uint8_t raw[SHA256_LEN];
	uint64_t size = 0;
	stream_fd in = {.fd = -1, .name = f->digest};
	archive_sink sink = {a, o, path};
	int rc;

	snprintf(path, sizeof(path), "blobs/sha256/%s", f->digest + 7);
	if ((rc = store_blob_open_nonblocking(store, f->digest, f->size, &in.fd)))
		return mreg_error_prefix(MREG_ECORRUPT, "%s", f->path);
	/* The tar header promises f->size bytes: the open checked that the blob
	 * is a regular file of that size before the header is written. */
	if ((rc = put_header(a, e, o, path, false, f->size)))
		goto done;
	if (blob_check_takes(check, f)) {
		uint8_t buf[64 << 10];
		if ((rc = put_checked_blob(a, o, path, in.fd, f, progress, buf, sizeof(buf))))
			goto done;
		/* The check owns the descriptor from here, whatever it finds; a blob
		 * read whole may be hashed here when the check is behind. */
		return blob_check_add(check, f, in.fd, f->size <= sizeof(buf) ? buf : NULL);
	}
	if (fs_fd_set_blocking(in.fd) < 0) {
		rc = mreg_seterr_errno("%s: blob %s", f->path, f->digest);
		goto done;
	}
	posix_fadvise(in.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = stream_pump(stream_fd_reader, &in, sink_write, &sink, f->size, raw, &size, progress);
	if (rc)
		goto done;
	digest_format(got, raw);
	if (size != f->size || strcmp(got, f->digest))
		rc = mreg_seterr(MREG_ECORRUPT,
				 "%s: blob %s does not match its digest (read %s, %llu bytes; store "
				 "corrupt? run mreg fsck)",
				 f->path, f->digest, got, (unsigned long long)size);
done:
	close(in.fd);
	return rc;
}

static mreg_compression compression_for(const char *file)
{
	size_t n = strlen(file);
	static const struct {
		const char *suffix;
		mreg_compression c;
	} map[] = {{".zst", MREG_COMPRESS_ZSTD}, {".tzst", MREG_COMPRESS_ZSTD},
		   {".gz", MREG_COMPRESS_GZIP}, {".tgz", MREG_COMPRESS_GZIP}};

	for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++) {
		size_t k = strlen(map[i].suffix);
		if (n > k && !strcmp(file + n - k, map[i].suffix))
			return map[i].c;
	}
	return MREG_COMPRESS_NONE;
}

static int setup_archive(struct archive *a, mreg_compression c)
{
	int r = ARCHIVE_OK;

	/* pax "restricted": plain ustar headers, a pax header only when ustar cannot
	 * say it (files of 8 GiB and more); nothing per-run such as atime or pids. */
	if (sym_archive_write_set_format_pax_restricted(a) != ARCHIVE_OK)
		return mreg_seterr(MREG_EUNSUPPORTED, "libarchive: %s", sym_archive_error_string(a));
	if (c == MREG_COMPRESS_GZIP) {
		r = sym_archive_write_add_filter_gzip(a);
		/* No time stamp in the gzip header: the same input gives the same bytes. */
		if (r == ARCHIVE_OK)
			r = sym_archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
	} else if (c == MREG_COMPRESS_ZSTD) {
		r = sym_archive_write_add_filter_zstd(a);
	}
	if (r != ARCHIVE_OK)
		return mreg_seterr(MREG_EUNSUPPORTED, "%s compression: %s", mreg_compression_name(c),
				   sym_archive_error_string(a));
	/*
	 * 256 KiB writes; the last block is not padded, so the size is the
	 * archive's own. Not 1 MiB: after other files freed small page-cache
	 * folios, 1 MiB buffered writes cost six times the system time here
	 * (ext4 on Linux 6.18), 256 KiB ones stayed fast (bench/bundle).
	 */
	sym_archive_write_set_bytes_per_block(a, 256 << 10);
	sym_archive_write_set_bytes_in_last_block(a, 1);
	return 0;
}

char *bundle_manifest_comment(const char *name, const char *version, const char *digest)
{
	return str_printf("mreg manifest %s of %s:%s", digest, name, version);
}

static int check_record(const mreg_record *r)
{
	int rc;

	if ((rc = mreg_name_check(r->name)) || (rc = mreg_version_check(r->version)))
		return rc;
	for (size_t i = 0; i < r->file_count; i++) {
		if (!path_is_valid(r->files[i].path, OCI_PATH_RULES))
			return mreg_seterr(MREG_EINVALID, "%s:%s: file path '%s' cannot go in a bundle",
					   r->name, r->version, r->files[i].path);
		if (!digest_valid(r->files[i].digest))
			return mreg_seterr(MREG_ECORRUPT, "%s:%s: %s: bad digest", r->name, r->version,
					   r->files[i].path);
	}
	return 0;
}

int mreg_bundle_package(mreg_bundle_info *info, mreg_store *store, const mreg_record *r,
			const char *file, const mreg_package_options *opts)
{
	artifact_blobs ab = {0};
	oms_attachments oms = {0};
	const oci_blob *referrers[OCI_REFERRERS_MAX];
	char **kept = NULL;
	size_t *kept_lens = NULL, kept_count = 0;
	oci_blob index = {0};
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	out_file o = {.fd = -1, .name = file};
	stream_progress progress = {0};
	mreg_compression comp;
	char *dir = NULL, *tmp = NULL, *inner = NULL, *outer = NULL, *sidecar = NULL;
	char *comment = NULL;
	bool *first = NULL;
	blob_check *check = NULL;
	int rc;

	if (info)
		memset(info, 0, sizeof(*info));
	if (!opts || (opts->version != 1 && opts->version != MREG_PACKAGE_OPTIONS_VERSION))
		return mreg_seterr(MREG_EINVALID, "package options: unknown version");
	if ((rc = dl_archive_need("writing a bundle (mreg package)")))
		return rc;
	if ((rc = check_record(r)))
		return rc;
	comp = opts->compression == MREG_COMPRESS_AUTO ? compression_for(file) : opts->compression;
	if ((rc = artifact_build(&ab, r)) || (rc = oci_check_size(r, &ab.config, &ab.manifest)))
		goto done;
	/* OMS signatures ride along as referrers of the model manifest (oms_attach.h):
	 * those the store keeps for the version, and the one asked for. */
	if ((rc = kept_sigs_read(store, r, &kept, &kept_lens, &kept_count)) ||
	    (rc = oms_attachments_build(&oms, &ab.manifest, r,
					opts->version >= 2 ? opts->oms_key : NULL,
					opts->version >= 2 ? opts->oms_signature : NULL,
					(const char *const *)kept, kept_lens, kept_count)))
		goto done;
	for (size_t i = 0; i < oms.count; i++)
		referrers[i] = &oms.items[i].manifest;
	if ((rc = oci_index_build(&index, r, &ab.manifest, referrers, oms.count)))
		goto done;
	sidecar = str_printf("%s%s", file, BUNDLE_SIDECAR_SUFFIX);
	dir = fs_dirname(file);
	first = record_first_of_digest(r);
	if (!sidecar || !dir || !first) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if (!opts->force && fs_exists(file)) {
		rc = mreg_seterr(MREG_EEXISTS, "%s: already exists (--force replaces it)", file);
		goto done;
	}
	if (!opts->force && opts->sign_key && fs_exists(sidecar)) {
		rc = mreg_seterr(MREG_EEXISTS, "%s: already exists (--force replaces it)", sidecar);
		goto done;
	}
	if (opts->sign_key) {
		uint8_t ph[SIGN_PREHASH_LEN];
		sign_prehash *h = sign_prehash_new();
		if (!h) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		sign_prehash_update(h, ab.manifest.data, ab.manifest.len);
		sign_prehash_final(h, ph);
		sign_prehash_free(h);
		comment = bundle_manifest_comment(r->name, r->version, ab.manifest.digest);
		if (!comment) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		if ((rc = sign_minisig_create(&inner, opts->sign_key, ph, comment)))
			goto done;
		if (!(o.prehash = sign_prehash_new())) {
			rc = mreg_seterr_nomem();
			goto done;
		}
	}

	/* .FILE.mreg-package-XXXXXX, locked while we write: what a kill -9 leaves
	 * is found by the next package of FILE (mreg_package_litter_remove()). */
	if ((rc = litter_make_file(&tmp, &o.fd, file)))
		goto done;
	a = sym_archive_write_new();
	e = sym_archive_entry_new();
	if (!a || !e) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	if ((rc = setup_archive(a, comp)))
		goto done;
	if (sym_archive_write_open(a, &o, NULL, write_cb, NULL) != ARCHIVE_OK) {
		rc = archive_fail(a, &o, "cannot start the archive");
		goto done;
	}
	/* Metadata first, so a reader knows what to expect before the big blobs. */
	if ((rc = put_file(a, e, &o, "oci-layout", OCI_LAYOUT_TEXT, strlen(OCI_LAYOUT_TEXT))) ||
	    (rc = put_file(a, e, &o, "index.json", index.data, index.len)) ||
	    (inner && (rc = put_file(a, e, &o, BUNDLE_MANIFEST_SIG, inner, strlen(inner)))) ||
	    (rc = put_header(a, e, &o, "blobs", true, 0)) ||
	    (rc = put_header(a, e, &o, "blobs/sha256", true, 0)))
		goto done;
	/* The manifest, the config, the tree layer (when there is one), each under its digest;
	 * then the OMS signatures' manifests, the empty config ({}, unless a file is "{}"
	 * and brings it) and the OMS bundles, all before the files. */
	oci_blob empty = {0};
	if (oms.count && !oms_record_has_blob(r, OCI_EMPTY_DIGEST))
		empty = (oci_blob){(char *)OCI_EMPTY_DATA, 2, OCI_EMPTY_DIGEST};
	const oci_blob *docs[3 + 2 * OCI_REFERRERS_MAX + 1] = {&ab.manifest, &ab.config, &ab.tree};
	size_t ndocs = 3;
	for (size_t i = 0; i < oms.count; i++)
		docs[ndocs++] = &oms.items[i].manifest;
	docs[ndocs++] = &empty;
	for (size_t i = 0; i < oms.count; i++)
		docs[ndocs++] = &oms.items[i].bundle;
	for (size_t i = 0; i < ndocs; i++) {
		char path[sizeof("blobs/sha256/") + SHA256_HEXLEN];
		if (!docs[i]->data)
			continue;
		snprintf(path, sizeof(path), "blobs/sha256/%.64s", docs[i]->digest + 7);
		if ((rc = put_file(a, e, &o, path, docs[i]->data, docs[i]->len)))
			goto done;
	}
	progress = (stream_progress){opts->progress, opts->progress_ctx, 0, 0};
	for (size_t i = 0; i < r->file_count; i++)
		if (first[i])
			progress.total += r->files[i].size; /* each content once */
	if ((rc = blob_check_start(&check, STREAM_PIPELINE_MIN)))
		goto done;
	for (size_t i = 0; i < r->file_count; i++) {
		if (first[i] && (rc = put_blob(a, e, &o, store, &r->files[i], check, &progress)))
			goto done;
		if (first[i])
			progress.base += r->files[i].size;
	}
	rc = blob_check_finish(check, false);
	check = NULL;
	if (rc)
		goto done;
	if (sym_archive_write_close(a) != ARCHIVE_OK) {
		rc = archive_fail(a, &o, "cannot finish the archive");
		goto done;
	}
	/*
	 * Not fsynced, like the output of tar or cp: a bundle is an export, not
	 * the store's data, and the rename alone keeps a partial FILE from ever
	 * appearing. Those who need it on disk now run sync(1).
	 */
	if (fchmod(o.fd, 0644) < 0) {
		rc = mreg_seterr_errno("%s: chmod", tmp);
		goto done;
	}
	if (opts->force) {
		if (rename(tmp, file) < 0) {
			rc = mreg_seterr_errno("%s: rename", file);
			goto done;
		}
	} else if ((rc = fs_rename_noreplace(tmp, file))) {
		goto done;
	}
	free(tmp);
	tmp = NULL;
	if (opts->sign_key) {
		/* FILE.minisig signs the file's bytes: what `minisign -V` checks. */
		uint8_t ph[SIGN_PREHASH_LEN];
		char *trusted = str_printf("mreg bundle %s:%s manifest %s", r->name, r->version,
					   ab.manifest.digest);
		sign_prehash_final(o.prehash, ph);
		rc = trusted ? sign_minisig_create(&outer, opts->sign_key, ph, trusted)
			     : mreg_seterr_nomem();
		free(trusted);
		if (rc || (rc = fs_write_atomic(sidecar, outer, strlen(outer), dir, false)))
			goto done;
	}
	if (info) {
		info->oms_signatures = oms.count;
		memcpy(info->manifest_digest, ab.manifest.digest, MREG_DIGEST_STRLEN);
		info->bundle_size = o.written;
		info->compression = comp;
		info->file_count = r->file_count;
		info->total_size = r->total_size;
		if (opts->sign_key) {
			info->manifest_signed = 1;
			info->sidecar = 1;
			memcpy(info->key_id, mreg_secret_key_id(opts->sign_key), MREG_KEY_ID_STRLEN);
			memcpy(info->sidecar_key_id, info->key_id, MREG_KEY_ID_STRLEN);
		}
	}
done:
	blob_check_finish(check, true); /* after a failure: its finding no longer matters */
	if (a)
		sym_archive_write_free(a); /* after a failure: frees without finishing */
	sym_archive_entry_free(e);
	if (o.fd >= 0)
		close(o.fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	sign_prehash_free(o.prehash);
	artifact_blobs_dispose(&ab);
	oms_attachments_dispose(&oms);
	kept_sigs_bytes_free(kept, kept_lens, kept_count);
	oci_blob_dispose(&index);
	free(dir);
	free(inner);
	free(outer);
	free(sidecar);
	free(comment);
	free(first);
	return rc;
}

/*
 * Reading a bundle: one pass over the archive, every entry judged before its
 * data goes anywhere. Only the names of an OCI image layout are accepted
 * (oci-layout, index.json, manifest.minisig, blobs/ and blobs/sha256/,
 * blobs/sha256/<hex>), as regular files or those two folders, each once. Blob
 * data is hashed as it streams; a blob whose bytes do not hash to its name, or
 * whose size is not the manifest's, is refused. Blobs are written only into
 * the caller's private staging folder, so a refused bundle leaves nothing
 * behind. A raw layer is one file's blob; a tar layer (other tools write
 * them) is expanded as it streams, one blob per file entry (layer.c).
 *
 * mreg writes the metadata first, so the manifest is known before any layer
 * arrives and a layer's size is checked against it from the tar header alone.
 * Other tools may order entries differently (skopeo's oci-archive puts the
 * blobs before index.json): blobs met before the manifest are kept in memory
 * when small, streamed to the staging folder (a scratch folder when only
 * verifying) when the archive is uncompressed (the file's size bounds them),
 * and refused otherwise; tar layers among them are expanded once the
 * manifest says what they are.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bundle_priv.h"
#include "util/error_priv.h"
#include "util/fsutil.h"
#include "util/hash.h"
#include "util/path.h"
#include "util/strutil.h"
#include "util/dl_archive.h"

#define READ_BLOCK (1u << 20)
#define SMALL_MAX (64u << 10)   /* oci-layout, manifest.minisig */
#define INDEX_MAX (1u << 20)
#define RETAIN_MAX (64u << 20)  /* blobs held in memory until the manifest says what they are */
#define ENTRIES_MAX (1u << 20)
#define PROGRESS_EVERY (16u << 20)

typedef enum {
	ROLE_UNKNOWN, ROLE_MANIFEST, ROLE_CONFIG, ROLE_LAYER,
	ROLE_SIG_MANIFEST, ROLE_SIG_CONFIG, ROLE_SIG_LAYER, /* OMS signatures: referrers of the model */
} blob_role;

typedef struct {
	char hex[SHA256_HEXLEN + 1];
	blob_role role;
	uint64_t want_size; /* from the manifest (or index.json for the manifest) */
	bool expected;
	bool seen;
	bool raw, tar;      /* layers: a file's blob, a tar of files */
	oci_layer_form form;
	bool expanded;      /* tar: its files are in the tree */
	uint64_t size;      /* as read */
	char *data;         /* held in memory (small, or metadata) */
	bool staged;        /* complete in the blob folder (the stage, or the scratch folder) */
} blob_slot;

typedef struct {
	blob_slot *slots;
	size_t cap, count;
	uint8_t key[16]; /* random: digests in a manifest cannot be chosen to collide */
} blob_table;

typedef struct {
	const char *name;
	int fd;
	struct archive *a;
	uint8_t *buf;
	uint64_t raw_bytes, last_report;
	sign_prehash *prehash;
	int read_errno;
	const bundle_read_opts *opts;
	bundle_contents *c;

	const char *entry;  /* current entry, for messages */
	char last[256];     /* the previous entry's name */
	bool have_layout, have_index, have_manifest, have_config, have_sig;
	bool dir_root, dir_blobs, dir_sha256, announced;
	oci_desc manifest_desc;
	oci_index index;
	size_t sigs_taken;  /* signature manifests read, of index.referrer_count */
	oci_sig_manifest *sigs;
	blob_table blobs;
	uint64_t retained;
	size_t entries;
	char *scratch;      /* verify: blobs whose role is not known yet, in $TMPDIR */
} reader;

/* ---- the blob table: open addressing, keyed SipHash of the hex digest ---- */

static uint64_t hex_hash(const blob_table *t, const char *hex)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h = 0;

	crypto_shorthash(out, (const uint8_t *)hex, SHA256_HEXLEN, t->key);
	for (size_t i = 0; i < sizeof(out); i++)
		h = (h << 8) | out[i];
	return h;
}

static blob_slot *table_find(blob_table *t, const char *hex)
{
	if (!t->cap)
		return NULL;
	for (size_t i = hex_hash(t, hex) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (!t->slots[i].hex[0])
			return NULL;
		if (!strcmp(t->slots[i].hex, hex))
			return &t->slots[i];
	}
}

static blob_slot *table_add(blob_table *t, const char *hex)
{
	blob_slot *s = table_find(t, hex);
	size_t i;

	if (s)
		return s;
	if ((t->count + 1) * 2 > t->cap) {
		blob_table bigger = {calloc(t->cap ? t->cap * 2 : 64, sizeof(blob_slot)),
				     t->cap ? t->cap * 2 : 64, 0, {0}};
		if (!bigger.slots)
			return NULL;
		memcpy(bigger.key, t->key, sizeof(t->key));
		for (i = 0; i < t->cap; i++) {
			if (!t->slots[i].hex[0])
				continue;
			size_t j = hex_hash(&bigger, t->slots[i].hex) & (bigger.cap - 1);
			while (bigger.slots[j].hex[0])
				j = (j + 1) & (bigger.cap - 1);
			bigger.slots[j] = t->slots[i];
			bigger.count++;
		}
		free(t->slots);
		*t = bigger;
	}
	for (i = hex_hash(t, hex) & (t->cap - 1); t->slots[i].hex[0]; i = (i + 1) & (t->cap - 1))
		;
	memcpy(t->slots[i].hex, hex, SHA256_HEXLEN + 1);
	t->count++;
	return &t->slots[i];
}

static void table_free(blob_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i].data);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* ---- archive input ---- */

static la_ssize_t read_cb(struct archive *a, void *ctx, const void **out)
{
	reader *rd = ctx;
	ssize_t n;

	do
		n = read(rd->fd, rd->buf, READ_BLOCK);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		rd->read_errno = errno;
		sym_archive_set_error(a, errno, "read error");
		return -1;
	}
	if (rd->prehash)
		sign_prehash_update(rd->prehash, rd->buf, (size_t)n);
	rd->raw_bytes += (uint64_t)n;
	if (rd->opts->progress && rd->raw_bytes - rd->last_report >= PROGRESS_EVERY) {
		rd->opts->progress(rd->opts->progress_ctx, rd->raw_bytes, rd->c->file_size);
		rd->last_report = rd->raw_bytes;
	}
	*out = rd->buf;
	return n;
}

static int bad_entry(reader *rd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad_entry(reader *rd, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mreg_seterr(code, "%s: entry '%.300s': %s", rd->name, rd->entry, msg);
}

static int archive_err(reader *rd, const char *what)
{
	const char *why = sym_archive_error_string(rd->a);

	if (rd->read_errno) {
		errno = rd->read_errno;
		return mreg_seterr_errno("%s: read", rd->name);
	}
	if (rd->entry)
		return bad_entry(rd, MREG_ECORRUPT, "%s: %s", what, why ? why : "archive error");
	if (rd->last[0])
		return mreg_seterr(MREG_ECORRUPT, "%s: %s after entry '%s': %s", rd->name, what,
				   rd->last, why ? why : "archive error");
	return mreg_seterr(MREG_EINVALID, "%s: %s: %s", rd->name, what, why ? why : "archive error");
}

/* Read the whole data of the current entry (@size bytes) into memory. */
static int read_entry_data(reader *rd, char **out, uint64_t size)
{
	char *buf = malloc(size + 1);
	uint64_t got = 0;

	*out = NULL;
	if (!buf)
		return mreg_seterr_nomem();
	while (got < size) {
		la_ssize_t n = sym_archive_read_data(rd->a, buf + got, size - got);
		if (n < 0) {
			free(buf);
			return archive_err(rd, "cannot read");
		}
		if (n == 0) {
			free(buf);
			return bad_entry(rd, MREG_ECORRUPT, "truncated (%llu of %llu bytes)",
					 (unsigned long long)got, (unsigned long long)size);
		}
		got += (uint64_t)n;
	}
	buf[size] = '\0';
	*out = buf;
	return 0;
}

static ssize_t entry_reader(void *ctx, uint8_t *buf, size_t cap)
{
	reader *rd = ctx;
	la_ssize_t n = sym_archive_read_data(rd->a, buf, cap);

	return n < 0 ? archive_err(rd, "cannot read") : n;
}

/* ---- names ---- */

typedef enum {
	NAME_BAD, NAME_ROOT, NAME_BLOBS, NAME_SHA256, NAME_LAYOUT, NAME_INDEX, NAME_SIG, NAME_BLOB,
} entry_kind;

/*
 * Classify an entry name, after an optional "./" prefix and a trailing '/'.
 * Escaping names get their own message; everything else not in an mreg
 * bundle is "unexpected".
 */
static int classify(reader *rd, const char *raw, entry_kind *kind, char hex[SHA256_HEXLEN + 1])
{
	char name[PATH_MAX_BYTES + 1];
	size_t len = strlen(raw);
	unsigned bad = path_problems(raw, PATH_REJECT_ABSOLUTE | PATH_REJECT_LONG |
						  PATH_REJECT_TRAVERSAL);

	*kind = NAME_BAD;
	if (bad & PATH_REJECT_ABSOLUTE)
		return bad_entry(rd, MREG_EINVALID, "absolute path (it would land outside)");
	if (bad & PATH_REJECT_LONG)
		return bad_entry(rd, MREG_EINVALID, "name too long");
	if (bad & PATH_REJECT_TRAVERSAL)
		return bad_entry(rd, MREG_EINVALID, "'..' in the path (it would land outside)");
	memcpy(name, raw, len + 1);
	while (!strncmp(name, "./", 2))
		memmove(name, name + 2, strlen(name + 2) + 1);
	len = strlen(name);
	if (len > 0 && name[len - 1] == '/')
		name[--len] = '\0';
	if (!strcmp(name, "") || !strcmp(name, "."))
		*kind = NAME_ROOT;
	else if (!strcmp(name, "blobs"))
		*kind = NAME_BLOBS;
	else if (!strcmp(name, "blobs/sha256"))
		*kind = NAME_SHA256;
	else if (!strcmp(name, "oci-layout"))
		*kind = NAME_LAYOUT;
	else if (!strcmp(name, "index.json"))
		*kind = NAME_INDEX;
	else if (!strcmp(name, BUNDLE_MANIFEST_SIG))
		*kind = NAME_SIG;
	else if (str_starts_with(name, "blobs/sha256/") && digest_hex_valid(name + 13)) {
		*kind = NAME_BLOB;
		memcpy(hex, name + 13, SHA256_HEXLEN + 1);
	} else {
		return bad_entry(rd, MREG_EINVALID, "unexpected entry (not part of an mreg bundle)");
	}
	return 0;
}

/* ---- metadata ---- */

static int announce(reader *rd)
{
	if (rd->announced || !rd->have_manifest || !rd->have_config)
		return 0;
	rd->announced = true;
	return rd->opts->on_metadata ? rd->opts->on_metadata(rd->opts->ctx, rd->c) : 0;
}

static int take_config(reader *rd, blob_slot *s)
{
	bundle_contents *c = rd->c;
	int rc = artifact_meta_read(&c->meta, &c->record, &c->manifest, s->data, s->size,
				    rd->opts->ref ? rd->opts->ref : rd->name, c->ref_name);

	if (rc)
		return mreg_error_prefix(rc, "%s", rd->name);
	rd->have_config = true;
	return announce(rd);
}

/* Where blobs go whose role is not known yet: the stage, or a scratch folder when verifying. */
static const char *files_dir(reader *rd)
{
	const char *tmp;

	if (rd->opts->stage)
		return rd->opts->stage;
	if (!rd->scratch) {
		char *prefix;
		tmp = getenv("TMPDIR");
		tmp = tmp && tmp[0] == '/' ? tmp : "/tmp";
		prefix = str_printf("%s/mreg-verify-", tmp);
		if (!prefix || fs_tmpdir(&rd->scratch, prefix, tmp))
			rd->scratch = NULL;
		free(prefix);
	}
	return rd->scratch;
}

/* A tar layer kept in memory or in the blob folder, now known as one: expand it. */
static int expand_kept(reader *rd, blob_slot *s)
{
	char what[400], *path = NULL;
	oci_desc desc;
	int rc;

	if (s->expanded)
		return 0;
	snprintf(what, sizeof(what), "%s: layer sha256:%s", rd->name, s->hex);
	snprintf(desc.digest, sizeof(desc.digest), "sha256:%s", s->hex);
	desc.size = s->size;
	if (s->data) {
		rc = layer_expand_memory(&rd->c->tree, s->data, s->size, what, s->form, &desc,
					 rd->opts->stage);
		rd->retained -= s->size;
		free(s->data);
		s->data = NULL;
	} else if (s->staged && (path = path_join(files_dir(rd), s->hex))) {
		rc = layer_expand_file(&rd->c->tree, path, what, s->form, &desc, rd->opts->stage);
	} else {
		rc = s->staged ? mreg_seterr_nomem()
			       : mreg_seterr(MREG_EIO, "%s: the layer's data was not kept", what);
	}
	free(path);
	s->expanded = rc == 0;
	return rc;
}

/* Every manifest index.json names has been read: each blob's role is known. */
static bool all_known(const reader *rd)
{
	return rd->have_manifest && rd->sigs_taken == rd->index.referrer_count;
}

/* Blobs that came before the manifests must belong to them. */
static int check_seen(reader *rd)
{
	if (!all_known(rd))
		return 0;
	for (size_t i = 0; i < rd->blobs.cap; i++) {
		blob_slot *s = &rd->blobs.slots[i];
		if (!s->hex[0] || !s->seen || s->role == ROLE_MANIFEST || s->role == ROLE_SIG_MANIFEST)
			continue;
		rd->entry = NULL;
		if (!s->expected)
			return mreg_seterr(MREG_EINVALID,
					   "%s: entry 'blobs/sha256/%s': not part of the model (the "
					   "manifest does not name it)",
					   rd->name, s->hex);
		if (s->size != s->want_size)
			return mreg_seterr(MREG_ECORRUPT,
					   "%s: entry 'blobs/sha256/%s': %llu bytes, the manifest says "
					   "%llu",
					   rd->name, s->hex, (unsigned long long)s->size,
					   (unsigned long long)s->want_size);
	}
	return 0;
}

/* A blob a signature manifest names: the empty config, or the OMS bundle. */
static int expect_sig_blob(reader *rd, const oci_desc *d, blob_role role, const char *what)
{
	blob_slot *s = table_add(&rd->blobs, d->digest + 7);

	if (!s)
		return mreg_seterr_nomem();
	/* A model file holding "{}" is the empty config's blob too: it is there either way. */
	if (role == ROLE_SIG_CONFIG && s->role == ROLE_LAYER)
		return 0;
	if (s->role != ROLE_UNKNOWN && s->role != role)
		return mreg_seterr(MREG_EINVALID, "%s: %s: blob %s is also a manifest, a config or a "
				   "model file", rd->name, what, d->digest);
	if (s->expected && s->want_size != d->size)
		return mreg_seterr(MREG_EINVALID, "%s: %s: blob %s is given two different sizes",
				   rd->name, what, d->digest);
	if (s->seen && s->size != d->size)
		return mreg_seterr(MREG_ECORRUPT, "%s: %s: entry 'blobs/sha256/%s' is %llu bytes, "
				   "the signature manifest says %llu", rd->name, what, s->hex,
				   (unsigned long long)s->size, (unsigned long long)d->size);
	s->role = role;
	s->expected = true;
	s->want_size = d->size;
	return 0;
}

/* An OMS signature manifest: it must sign this bundle's model manifest. */
static int take_sig_manifest(reader *rd, blob_slot *ms)
{
	oci_sig_manifest *sm = &rd->sigs[rd->sigs_taken];
	char what[128];
	int rc;

	snprintf(what, sizeof(what), "%s: blobs/sha256/%.12s", rd->name, ms->hex);
	if ((rc = oci_sig_manifest_parse(sm, ms->data, ms->size, what)))
		return rc;
	if (strcmp(sm->subject.digest, rd->index.model.digest) ||
	    sm->subject.size != rd->index.model.size)
		return mreg_seterr(MREG_EINVALID,
				   "%s: its subject is %s, not the model manifest %s (a signature "
				   "of another model)",
				   what, sm->subject.digest, rd->index.model.digest);
	if ((rc = expect_sig_blob(rd, &sm->config, ROLE_SIG_CONFIG, what)) ||
	    (rc = expect_sig_blob(rd, &sm->layer, ROLE_SIG_LAYER, what)))
		return rc;
	rd->sigs_taken++;
	free(ms->data);
	ms->data = NULL;
	return check_seen(rd);
}

/* The manifest is known: every blob has a role now, including those already seen. */
static int take_manifest(reader *rd, blob_slot *ms)
{
	bundle_contents *c = rd->c;
	oci_manifest *m = &c->manifest;
	blob_slot *cs;
	int rc;

	if ((rc = oci_manifest_parse(m, ms->data, ms->size)))
		return mreg_error_prefix(rc, "%s", rd->name);
	c->manifest_data = ms->data;
	c->manifest_len = ms->size;
	ms->data = NULL;
	memcpy(c->manifest_digest, rd->manifest_desc.digest, MREG_DIGEST_STRLEN);
	rd->have_manifest = true;
	cs = table_add(&rd->blobs, m->config.digest + 7);
	if (!cs)
		return mreg_seterr_nomem();
	if (cs->role == ROLE_MANIFEST || cs->role >= ROLE_SIG_MANIFEST)
		return mreg_seterr(MREG_EINVALID, "%s: the manifest names itself or a signature's "
				   "blob as its config",
				   rd->name);
	cs->role = ROLE_CONFIG;
	cs->expected = true;
	cs->want_size = m->config.size;
	for (size_t i = 0; i < m->count; i++) {
		const oci_layer *l = &m->layers[i];
		blob_slot *s = table_add(&rd->blobs, l->desc.digest + 7);
		if (!s)
			return mreg_seterr_nomem();
		if (s->role == ROLE_MANIFEST || s->role == ROLE_CONFIG ||
		    s->role == ROLE_SIG_MANIFEST || s->role == ROLE_SIG_LAYER)
			return mreg_seterr(MREG_EINVALID,
					   "%s: manifest: layer %zu has the digest of a manifest, the "
					   "config or a signature",
					   rd->name, i + 1);
		if (s->expected && s->want_size != l->desc.size)
			return mreg_seterr(MREG_EINVALID,
					   "%s: manifest: blob %s is given two different sizes", rd->name,
					   l->desc.digest);
		if (l->form != LAYER_RAW && s->tar && s->form != l->form)
			return mreg_seterr(MREG_EINVALID,
					   "%s: manifest: blob %s is given two media types", rd->name,
					   l->desc.digest);
		if (l->form == LAYER_RAW)
			s->raw = true;
		else
			s->tar = true, s->form = l->form;
		if (s->raw && s->tar)
			return mreg_seterr(MREG_EINVALID,
					   "%s: manifest: blob %s is both a file and a tar layer",
					   rd->name, l->desc.digest);
		s->role = ROLE_LAYER;
		s->expected = true;
		s->want_size = l->desc.size;
	}
	if ((rc = check_seen(rd)))
		return rc;
	/* The table may have grown since: look the config up again. */
	cs = table_find(&rd->blobs, m->config.digest + 7);
	if (cs && cs->seen && (rc = take_config(rd, cs)))
		return rc;
	/* Tar layers that came before the manifest: expand them now. */
	for (size_t i = 0; i < rd->blobs.cap; i++) {
		blob_slot *s = &rd->blobs.slots[i];
		if (s->hex[0] && s->seen && s->tar && (rc = expand_kept(rd, s)))
			return rc;
	}
	return 0;
}

/* A signature manifest index.json names, taken now if it came before. */
static int expect_sig_manifest(reader *rd, const oci_desc *d)
{
	blob_slot *s = table_add(&rd->blobs, d->digest + 7);

	if (!s)
		return mreg_seterr_nomem();
	if (s->role != ROLE_UNKNOWN && s->role != ROLE_SIG_MANIFEST)
		return mreg_seterr(MREG_EINVALID, "%s: index.json: signature manifest %s is also the "
				   "model's manifest, config or a file", rd->name, d->digest);
	s->role = ROLE_SIG_MANIFEST;
	s->expected = true;
	s->want_size = d->size;
	if (!s->seen)
		return 0;
	if (s->size != s->want_size || !s->data)
		return mreg_seterr(MREG_ECORRUPT, "%s: signature manifest %s is %llu bytes, "
				   "index.json says %llu", rd->name, d->digest,
				   (unsigned long long)s->size, (unsigned long long)s->want_size);
	return take_sig_manifest(rd, s);
}

static int take_index(reader *rd, char *text, size_t len)
{
	blob_slot *s;
	int rc = oci_index_parse(&rd->index, text, len);

	if (rc)
		return mreg_error_prefix(rc, "%s", rd->name);
	rd->have_index = true;
	rd->manifest_desc = rd->index.model;
	rd->c->ref_name = rd->index.ref_name;
	rd->index.ref_name = NULL;
	if (rd->index.referrer_count &&
	    !(rd->sigs = calloc(rd->index.referrer_count, sizeof(*rd->sigs))))
		return mreg_seterr_nomem();
	s = table_add(&rd->blobs, rd->manifest_desc.digest + 7);
	if (!s)
		return mreg_seterr_nomem();
	s->role = ROLE_MANIFEST;
	s->expected = true;
	s->want_size = rd->manifest_desc.size;
	if (!s->seen) {
		for (size_t i = 0; i < rd->index.referrer_count; i++)
			if ((rc = expect_sig_manifest(rd, &rd->index.referrers[i])))
				return rc;
		return 0;
	}
	if (s->size != s->want_size || !s->data)
		return mreg_seterr(MREG_ECORRUPT, "%s: the manifest is %llu bytes, index.json says %llu",
				   rd->name, (unsigned long long)s->size,
				   (unsigned long long)s->want_size);
	if ((rc = take_manifest(rd, s)))
		return rc;
	/* Signature manifests that came before index.json (skopeo's order). */
	for (size_t i = 0; i < rd->index.referrer_count; i++)
		if ((rc = expect_sig_manifest(rd, &rd->index.referrers[i])))
			return rc;
	return 0;
}

/* ---- blobs ---- */

/* Stream the current entry into <stage>/<hex>, hashing it; or only hash it without a stage. */
static int stream_blob(reader *rd, blob_slot *s, const char *stage, uint64_t size,
		       uint8_t raw[SHA256_LEN], uint64_t *got)
{
	char *part = NULL, *final = NULL;
	stream_fd out = {.fd = -1};
	int rc;

	if (stage) {
		part = str_printf("%s/%s.part", stage, s->hex);
		final = str_printf("%s/%s", stage, s->hex);
		if (!part || !final) {
			rc = mreg_seterr_nomem();
			goto done;
		}
		out.fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		out.name = part;
		if (out.fd < 0) {
			rc = mreg_seterr_errno("%s", part);
			goto done;
		}
	}
	rc = stream_pump(entry_reader, rd, stage ? stream_fd_writer : NULL, &out, size, raw, got,
			 NULL);
	if (rc || !stage)
		goto done;
	/* The name is given only to complete data; the caller still checks the
	 * digest, and fsyncs the whole stage in one pass before it lands
	 * (ingest_stage_sync). */
	rc = fs_seal_blob_unsynced(out.fd, part, final);
done:
	if (out.fd >= 0)
		close(out.fd);
	free(part);
	free(final);
	return rc;
}

static int stage_from_memory(reader *rd, blob_slot *s)
{
	char *path;
	int rc;

	if (!rd->opts->stage || s->staged)
		return 0;
	path = str_printf("%s/%s", rd->opts->stage, s->hex);
	if (!path)
		return mreg_seterr_nomem();
	rc = fs_write_atomic_mode(path, s->data, s->size, rd->opts->stage, true, 0444);
	free(path);
	if (rc == 0)
		s->staged = true;
	return rc;
}

static int take_blob(reader *rd, const char *hex, uint64_t size)
{
	blob_slot *s = table_add(&rd->blobs, hex);
	uint8_t raw[SHA256_LEN];
	char got_digest[MREG_DIGEST_STRLEN];
	uint64_t got = 0;
	bool keep;
	int rc;

	if (!s)
		return mreg_seterr_nomem();
	if (s->seen)
		return bad_entry(rd, MREG_EINVALID, "appears twice in the archive");
	if (all_known(rd) && !s->expected)
		return bad_entry(rd, MREG_EINVALID, "not part of the model (the manifest does not name it)");
	if (s->expected && size != s->want_size)
		return bad_entry(rd, MREG_ECORRUPT, "%llu bytes in the archive, the %s says %llu",
				 (unsigned long long)size,
				 s->role == ROLE_MANIFEST ? "index" : "manifest",
				 (unsigned long long)s->want_size);
	/* Metadata in memory; so are small blobs whose role is not known yet. */
	keep = s->role == ROLE_MANIFEST || s->role == ROLE_CONFIG || s->role >= ROLE_SIG_MANIFEST ||
	       (s->role == ROLE_UNKNOWN && size <= OCI_JSON_MAX && rd->retained + size <= RETAIN_MAX);
	if (keep) {
		if (size > OCI_JSON_MAX)
			return bad_entry(rd, MREG_EINVALID, "metadata too large (%llu bytes)",
					 (unsigned long long)size);
		if ((rc = read_entry_data(rd, &s->data, size)))
			return rc;
		hash_buffer(raw, s->data, size);
		got = size;
		if (s->role == ROLE_UNKNOWN)
			rd->retained += size;
	} else if (s->tar) {
		/* A tar layer whose role is known: expanded as it streams, its digest checked. */
		char what[400];
		oci_desc desc;
		layer_source src = {what, s->form, &desc, true, entry_reader, rd, rd->opts->stage};
		snprintf(what, sizeof(what), "%s: layer sha256:%s", rd->name, hex);
		snprintf(desc.digest, sizeof(desc.digest), "sha256:%s", hex);
		desc.size = size;
		if ((rc = layer_expand(&rd->c->tree, &src)))
			return rc;
		s->seen = true;
		s->expanded = true;
		s->size = size;
		return 0;
	} else {
		const char *dir = rd->opts->stage;
		if (s->role == ROLE_UNKNOWN) {
			if (rd->c->compression != MREG_COMPRESS_NONE)
				return bad_entry(rd, MREG_EINVALID,
						 "a large blob before the manifest in a compressed "
						 "bundle (mreg reads those metadata first)");
			/* It may turn out to be a tar layer: keep it to expand. */
			if (!(dir = files_dir(rd)))
				return MREG_EIO;
		}
		if ((rc = stream_blob(rd, s, dir, size, raw, &got)))
			return rc;
		s->staged = dir != NULL;
	}
	digest_format(got_digest, raw);
	if (got != size)
		return bad_entry(rd, MREG_ECORRUPT, "truncated (%llu of %llu bytes)",
				 (unsigned long long)got, (unsigned long long)size);
	if (strcmp(got_digest + 7, hex))
		return bad_entry(rd, MREG_ECORRUPT, "content does not match its digest (it hashes to %s)",
				 got_digest);
	s->seen = true;
	s->size = size;
	if (s->role == ROLE_MANIFEST)
		return take_manifest(rd, s);
	if (s->role == ROLE_CONFIG)
		return take_config(rd, s);
	if (s->role == ROLE_SIG_MANIFEST)
		return take_sig_manifest(rd, s);
	return 0;
}

/* ---- entries ---- */

static int take_small(reader *rd, char **out, size_t *len, uint64_t size, uint64_t max)
{
	int rc;

	if (*out)
		return bad_entry(rd, MREG_EINVALID, "appears twice in the archive");
	if (size > max)
		return bad_entry(rd, MREG_EINVALID, "too large (%llu bytes)", (unsigned long long)size);
	if ((rc = read_entry_data(rd, out, size)))
		return rc;
	*len = (size_t)size;
	return 0;
}

static int take_dir(reader *rd, bool *seen)
{
	if (*seen)
		return bad_entry(rd, MREG_EINVALID, "appears twice in the archive");
	*seen = true;
	return 0;
}

static int take_entry(reader *rd, struct archive_entry *e, char **layout, size_t *layout_len,
		      char **index, size_t *index_len)
{
	char hex[SHA256_HEXLEN + 1];
	entry_kind kind;
	mode_t type = sym_archive_entry_filetype(e);
	uint64_t size;
	int rc;

	if (sym_archive_entry_hardlink(e))
		return bad_entry(rd, MREG_EINVALID, "hard link (bundles hold regular files only)");
	if (type == AE_IFLNK)
		return bad_entry(rd, MREG_EINVALID, "symbolic link to '%.200s' (bundles hold regular "
				 "files only)",
				 sym_archive_entry_symlink(e) ? sym_archive_entry_symlink(e) : "?");
	if (type == AE_IFCHR || type == AE_IFBLK)
		return bad_entry(rd, MREG_EINVALID, "device file (bundles hold regular files only)");
	if (type != AE_IFREG && type != AE_IFDIR)
		return bad_entry(rd, MREG_EINVALID, "special file (bundles hold regular files only)");
	if ((rc = classify(rd, rd->entry, &kind, hex)))
		return rc;
	if (type == AE_IFDIR) {
		switch (kind) {
		case NAME_ROOT: return take_dir(rd, &rd->dir_root);
		case NAME_BLOBS: return take_dir(rd, &rd->dir_blobs);
		case NAME_SHA256: return take_dir(rd, &rd->dir_sha256);
		default: return bad_entry(rd, MREG_EINVALID, "a folder where a file belongs");
		}
	}
	if (kind == NAME_ROOT || kind == NAME_BLOBS || kind == NAME_SHA256)
		return bad_entry(rd, MREG_EINVALID, "a file where a folder belongs");
	if (!sym_archive_entry_size_is_set(e) || sym_archive_entry_size(e) < 0)
		return bad_entry(rd, MREG_EINVALID, "no size");
	size = (uint64_t)sym_archive_entry_size(e);
	/* A tar cannot hold more than it is long: refuse before reading a byte. */
	if (rd->c->compression == MREG_COMPRESS_NONE && size > rd->c->file_size)
		return bad_entry(rd, MREG_ECORRUPT,
				 "claims %llu bytes but the bundle is only %llu bytes long",
				 (unsigned long long)size, (unsigned long long)rd->c->file_size);
	switch (kind) {
	case NAME_LAYOUT:
		if ((rc = take_small(rd, layout, layout_len, size, SMALL_MAX)))
			return rc;
		rd->have_layout = true;
		return oci_layout_check(*layout, *layout_len) ? mreg_error_prefix(MREG_EINVALID, "%s",
										rd->name)
							     : 0;
	case NAME_INDEX:
		if ((rc = take_small(rd, index, index_len, size, INDEX_MAX)))
			return rc;
		return take_index(rd, *index, *index_len);
	case NAME_SIG:
		if ((rc = take_small(rd, &rd->c->signature, &rd->c->signature_len, size, SMALL_MAX)))
			return rc;
		rd->have_sig = true;
		return 0;
	case NAME_BLOB: return take_blob(rd, hex, size);
	default: return bad_entry(rd, MREG_EINVALID, "unexpected entry");
	}
}

static mreg_compression compression_of(struct archive *a)
{
	for (int i = 0; i < sym_archive_filter_count(a); i++) {
		int code = sym_archive_filter_code(a, i);
		if (code == ARCHIVE_FILTER_GZIP)
			return MREG_COMPRESS_GZIP;
		if (code == ARCHIVE_FILTER_ZSTD)
			return MREG_COMPRESS_ZSTD;
	}
	return MREG_COMPRESS_NONE;
}

/* Every signature manifest, its empty config and its OMS bundle are there: keep the bundles. */
static int finish_sigs(reader *rd)
{
	bundle_contents *c = rd->c;

	if (rd->sigs_taken < rd->index.referrer_count)
		for (size_t i = 0; i < rd->index.referrer_count; i++) {
			blob_slot *s = table_find(&rd->blobs, rd->index.referrers[i].digest + 7);
			if (!s || !s->seen)
				return mreg_seterr(MREG_EINVALID, "%s: signature manifest %s is "
						   "missing", rd->name, rd->index.referrers[i].digest);
		}
	if (!rd->sigs_taken)
		return 0;
	if (!(c->oms = calloc(rd->sigs_taken, sizeof(*c->oms))))
		return mreg_seterr_nomem();
	for (size_t i = 0; i < rd->sigs_taken; i++) {
		const oci_desc *want[] = {&rd->sigs[i].config, &rd->sigs[i].layer};
		for (size_t k = 0; k < 2; k++) {
			blob_slot *s = table_find(&rd->blobs, want[k]->digest + 7);
			if (!s || !s->seen)
				return mreg_seterr(MREG_EINVALID, "%s: the %s of signature manifest "
						   "%zu (blob %s) is missing", rd->name,
						   k ? "OMS bundle" : "empty config", i + 1,
						   want[k]->digest);
		}
		blob_slot *l = table_find(&rd->blobs, rd->sigs[i].layer.digest + 7);
		if (!l->data)
			return mreg_seterr(MREG_EINVALID, "%s: the OMS bundle %s came before its "
					   "manifest and is too large to hold", rd->name,
					   rd->sigs[i].layer.digest);
		if (!(c->oms[i].data = malloc(l->size + 1)))
			return mreg_seterr_nomem();
		memcpy(c->oms[i].data, l->data, l->size);
		c->oms[i].data[l->size] = '\0';
		c->oms[i].len = l->size;
		c->oms_count++;
	}
	return 0;
}

/* Everything read: is it a whole bundle? */
static int finish(reader *rd)
{
	rd->entry = NULL;
	if (!rd->have_layout)
		return mreg_seterr(MREG_EINVALID, "%s: not an mreg bundle (no oci-layout)", rd->name);
	if (!rd->have_index)
		return mreg_seterr(MREG_EINVALID, "%s: not an mreg bundle (no index.json)", rd->name);
	if (!rd->have_manifest)
		return mreg_seterr(MREG_EINVALID, "%s: the manifest %s is missing", rd->name,
				   rd->manifest_desc.digest);
	if (!rd->have_config)
		return mreg_seterr(MREG_EINVALID, "%s: the config %s is missing", rd->name,
				   rd->c->manifest.config.digest);
	for (size_t i = 0; i < rd->c->manifest.count; i++) {
		const oci_layer *l = &rd->c->manifest.layers[i];
		blob_slot *s = table_find(&rd->blobs, l->desc.digest + 7);
		int rc;
		if (!s || !s->seen) {
			if (l->path)
				return mreg_seterr(MREG_EINVALID, "%s: %s: blob %s is missing", rd->name,
						   l->path, l->desc.digest);
			return mreg_seterr(MREG_EINVALID, "%s: layer %zu: blob %s is missing",
					   rd->name, i + 1, l->desc.digest);
		}
		if (l->form != LAYER_RAW)
			continue; /* expanded into the tree as it came */
		if (s->data && (rc = stage_from_memory(rd, s)))
			return rc;
		if ((rc = tree_add_file(&rd->c->tree, l->path, l->desc.size, l->mode, l->desc.digest)))
			return mreg_error_prefix(rc, "%s", rd->name);
	}
	{
		int rc;
		if ((rc = finish_sigs(rd)) || (rc = tree_finish(&rd->c->tree, rd->name)) ||
		    (rc = artifact_set_tree(&rd->c->meta, rd->c->record, &rd->c->tree, rd->name)))
			return rc;
	}
	return announce(rd);
}

int bundle_read_fd(bundle_contents *c, int fd, const char *name, const bundle_read_opts *opts)
{
	reader rd = {.name = name, .fd = fd, .opts = opts, .c = c};
	char *layout = NULL, *index = NULL;
	size_t layout_len = 0, index_len = 0;
	struct archive_entry *e;
	struct stat st;
	int rc = 0, r;

	memset(c, 0, sizeof(*c));
	if ((rc = dl_archive_need("reading a bundle (mreg import, unpack, verify)")))
		return rc;
	if (fstat(fd, &st) < 0)
		return mreg_seterr_errno("%s", name);
	if (!S_ISREG(st.st_mode))
		return mreg_seterr(MREG_EINVALID, "%s: not a regular file", name);
	if (st.st_size == 0)
		return mreg_seterr(MREG_EINVALID, "%s: empty file, not a bundle", name);
	c->file_size = (uint64_t)st.st_size;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (sodium_init() < 0)
		return mreg_seterr(MREG_EIO, "libsodium could not be initialised");
	randombytes_buf(rd.blobs.key, sizeof(rd.blobs.key));
	rd.buf = malloc(READ_BLOCK);
	rd.a = sym_archive_read_new();
	if (!rd.buf || !rd.a || (opts->prehash_file && !(rd.prehash = sign_prehash_new()))) {
		rc = mreg_seterr_nomem();
		goto done;
	}
	/* Tar only, and only the two compressions mreg writes: no external programs. */
	sym_archive_read_support_format_tar(rd.a);
	sym_archive_read_support_filter_gzip(rd.a);
	sym_archive_read_support_filter_zstd(rd.a);
	if (sym_archive_read_open(rd.a, &rd, NULL, read_cb, NULL) != ARCHIVE_OK) {
		rc = archive_err(&rd, "not a tar archive");
		goto done;
	}
	for (;;) {
		rd.entry = NULL;
		r = sym_archive_read_next_header(rd.a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			rc = r == ARCHIVE_WARN && !rd.read_errno
				     ? mreg_seterr(MREG_EINVALID, "%s: after %zu entries: %s", name,
						   rd.entries, sym_archive_error_string(rd.a))
				     : archive_err(&rd, rd.entries ? "damaged archive" : "not a tar archive");
			goto done;
		}
		if (rd.entries == 0)
			c->compression = compression_of(rd.a);
		if (++rd.entries > ENTRIES_MAX) {
			rc = mreg_seterr(MREG_EINVALID, "%s: too many entries", name);
			goto done;
		}
		rd.entry = sym_archive_entry_pathname(e);
		if (!rd.entry) {
			rd.entry = "?";
			rc = bad_entry(&rd, MREG_EINVALID, "the name cannot be read");
			goto done;
		}
		if ((rc = take_entry(&rd, e, &layout, &layout_len, &index, &index_len)))
			goto done;
		snprintf(rd.last, sizeof(rd.last), "%s", rd.entry);
	}
	if ((rc = finish(&rd)))
		goto done;
	if (rd.prehash) {
		/* Whatever follows the tar's end (padding) is part of the signed file too. */
		while ((r = (int)read_cb(rd.a, &rd, &(const void *){NULL})) > 0)
			;
		if (r < 0) {
			rc = mreg_seterr_errno("%s: read", name);
			goto done;
		}
		sign_prehash_final(rd.prehash, c->file_prehash);
		c->prehashed = true;
	}
	if (opts->progress)
		opts->progress(opts->progress_ctx, c->file_size, c->file_size);
done:
	if (rd.a)
		sym_archive_read_free(rd.a);
	if (rd.scratch) {
		fs_remove_tree(rd.scratch);
		free(rd.scratch);
	}
	sign_prehash_free(rd.prehash);
	table_free(&rd.blobs);
	oci_index_dispose(&rd.index);
	free(rd.sigs);
	free(rd.buf);
	free(layout);
	free(index);
	if (rc)
		bundle_contents_dispose(c);
	return rc;
}

int bundle_read_file(bundle_contents *c, const char *file, const bundle_read_opts *opts)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int rc;

	memset(c, 0, sizeof(*c));
	if (fd < 0)
		return mreg_seterr_errno("%s", file);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	rc = bundle_read_fd(c, fd, file, opts);
	close(fd);
	return rc;
}

void bundle_contents_dispose(bundle_contents *c)
{
	mreg_record_free(c->record);
	artifact_meta_dispose(&c->meta);
	tree_dispose(&c->tree);
	oci_manifest_dispose(&c->manifest);
	free(c->manifest_data);
	free(c->signature);
	free(c->ref_name);
	for (size_t i = 0; i < c->oms_count; i++)
		free(c->oms[i].data);
	free(c->oms);
	memset(c, 0, sizeof(*c));
}

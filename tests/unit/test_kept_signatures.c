/* Kept OMS signatures through the library (mreg/kept_signatures.h): a stored
 * version signed and its signature kept, with and without a file beside it;
 * the same bytes kept once; what the rules refuse, with the store as it was;
 * the limit of 16; a version deleted meanwhile; a file that cannot be put in
 * place undoes the kept signature. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mreg.h"
#include "tap.h"

static mreg_store *store;

static int create(mreg_record **out, const char *name, const char *path)
{
	mreg_create_options o = MREG_CREATE_OPTIONS_INIT;
	o.name = name;
	o.path = path;
	return mreg_model_create(out, store, &o, NULL);
}

/* Entries of a folder (0 when it does not exist), and whether any is named PREFIX*. */
static size_t entries(const char *dir, const char *prefix, bool *has_prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (has_prefix)
		*has_prefix = false;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		if (has_prefix && prefix && !strncmp(e->d_name, prefix, strlen(prefix)))
			*has_prefix = true;
	}
	closedir(d);
	return n;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	fclose(f);
	return buf;
}

int main(void)
{
	mreg_record *r1 = NULL, *r2 = NULL;
	mreg_oms_key *key = NULL;
	mreg_oms_sign_result res;
	mreg_kept_signature_added kept, again;
	mreg_kept_signature *list = NULL;
	char v1[512], v2[512], path[700], *bytes = NULL;
	size_t len = 0, n = 0;
	bool stray = false;
	int rc;

	tap_tmpdir();
	unsetenv("MREG_DIR");
	if (!tap_ok(mreg_store_init(&store, ".mreg") == 0, "a store"))
		return tap_done();
	mkdir("model", 0755);
	tap_write("model/a.bin", "weights\n");
	tap_write("model/b.txt", "config\n");
	tap_is_int(create(&r1, "demo", "model"), 0, "demo:1");
	tap_write("model/c.txt", "more\n");
	tap_is_int(create(&r2, "demo", "model"), 0, "demo:2, other files");
	tap_is_int(mreg_oms_keygen("k.pem", "k.pub", NULL, 0, NULL), 0, "an OMS key");
	tap_is_int(mreg_oms_key_load(&key, "k.pem", NULL, NULL), 0, "it loads");
	if (!r1 || !r2 || !key)
		goto out;
	snprintf(v1, sizeof(v1), "%s/signatures/demo/1", mreg_store_path(store));
	snprintf(v2, sizeof(v2), "%s/signatures/demo/2", mreg_store_path(store));

	/* Signed and kept, and the same bytes in the file. */
	rc = mreg_kept_signatures_sign(&res, &kept, store, key, r1, "one.sig", NULL);
	tap_is_int(rc, 0, "sign and keep: %s", rc ? mreg_error_last() : "ok");
	tap_ok(res.file_count == 2 && kept.added == 1 && kept.count == 1,
	       "two files signed, kept now, one kept (%zu, %d, %zu)", res.file_count, kept.added,
	       kept.count);
	snprintf(path, sizeof(path), "%s/sha256-%s.json", v1, kept.digest + 7);
	bytes = slurp("one.sig", &len);
	{
		size_t klen = 0;
		char *kbytes = slurp(path, &klen);
		tap_ok(bytes && kbytes && klen == len && !memcmp(bytes, kbytes, len),
		       "the file and %s hold the same bytes", path);
		free(kbytes);
	}
	entries(".", "write-", &stray);
	tap_ok(!stray, "no staging file is left beside the file");

	/* The same bytes again: kept once. */
	tap_is_int(mreg_kept_signatures_add(&again, store, r1, bytes, len), 0, "the same bytes again");
	tap_ok(again.added == 0 && again.count == 1 && !strcmp(again.digest, kept.digest),
	       "kept already, still one (%d, %zu)", again.added, again.count);

	/* Refused by the rules: nothing written, no folder made. */
	rc = mreg_kept_signatures_add(&again, store, r1, "{}", 2);
	tap_is_int(rc, MREG_EINVALID, "not an OMS bundle is refused");
	tap_ok(strstr(mreg_error_last(), "cannot keep the signature with demo:1") != NULL,
	       "and said so: %s", mreg_error_last());
	rc = mreg_kept_signatures_add(&again, store, r2, bytes, len);
	tap_is_int(rc, MREG_EINVALID, "demo:1's signature is not kept with demo:2");
	tap_ok(strstr(mreg_error_last(), "not a signature of demo:2") != NULL, "because: %s",
	       mreg_error_last());
	tap_is_int(entries(v2, NULL, NULL), 0, "no folder was made for demo:2");
	tap_ok(access(v2, F_OK) != 0, "signatures/demo/2 does not exist");
	tap_is_int(entries(v1, NULL, NULL), 1, "demo:1 still keeps one");

	/* The file cannot be put in place (FILE is a folder): the kept one is undone. */
	mkdir("adir", 0755);
	rc = mreg_kept_signatures_sign(&res, &kept, store, key, r1, "adir", NULL);
	tap_ok(rc != 0, "a file that cannot be renamed into place fails the call: %s",
	       mreg_error_last());
	tap_ok(res.file_count == 2, "after the signature was made");
	tap_is_int(entries(v1, NULL, NULL), 1, "and nothing more is kept");
	entries(".", "write-", &stray);
	tap_ok(!stray, "no staging file is left");
	tap_is_int(entries("adir", NULL, NULL), 0, "the folder is as it was");
	/* A file in a folder that does not exist: refused before anything is kept. */
	rc = mreg_kept_signatures_sign(&res, NULL, store, key, r1, "nodir/x.sig", NULL);
	tap_ok(rc != 0, "a file in a missing folder fails the call");
	tap_is_int(entries(v1, NULL, NULL), 1, "nothing kept");

	/* Up to the limit: each signing makes new bytes. */
	for (int i = 2; i <= MREG_KEPT_SIGNATURES_MAX; i++)
		if ((rc = mreg_kept_signatures_sign(NULL, &kept, store, key, r1, NULL, NULL)))
			break;
	tap_is_int(rc, 0, "16 signings keep 16 signatures");
	tap_is_int(kept.count, MREG_KEPT_SIGNATURES_MAX, "the last says 16");
	rc = mreg_kept_signatures_sign(&res, &kept, store, key, r1, "full.sig", NULL);
	tap_is_int(rc, MREG_EINVALID, "the 17th is refused");
	tap_ok(strstr(mreg_error_last(), "keeps 16 already") != NULL, "the limit is named: %s",
	       mreg_error_last());
	tap_ok(access("full.sig", F_OK) != 0, "and its file is not written");
	tap_is_int(mreg_kept_signatures_add(&again, store, r1, bytes, len), 0,
		   "a kept one's bytes at the limit: nothing to add, not an error");
	tap_is_int(entries(v1, NULL, NULL), MREG_KEPT_SIGNATURES_MAX, "still 16");
	tap_is_int(mreg_kept_signatures_list(&list, &n, store, r1), 0, "the list reads");
	{
		size_t sound = 0;
		for (size_t i = 0; i < n; i++)
			sound += !list[i].problem && list[i].method == MREG_OMS_METHOD_KEY;
		tap_is_int(sound, MREG_KEPT_SIGNATURES_MAX, "16 sound signatures of the key method");
	}
	mreg_kept_signatures_free(list, n);

	/* A version deleted meanwhile. */
	tap_is_int(mreg_model_delete(store, "demo", "2"), 0, "demo:2 deleted");
	rc = mreg_kept_signatures_sign(&res, NULL, store, key, r2, "gone.sig", NULL);
	tap_is_int(rc, MREG_ENOTFOUND, "signing what was deleted meanwhile: not found");
	tap_ok(access("gone.sig", F_OK) != 0 && access(v2, F_OK) != 0, "nothing written");
out:
	free(bytes);
	mreg_oms_key_free(key);
	mreg_record_free(r1);
	mreg_record_free(r2);
	mreg_store_free(store);
	return tap_done();
}

/* The registry over a real store: create, versions, @latest, update, archive,
 * delete, download (all or nothing), fsck and gc (never racing a create). */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "mreg.h"
#include "store/store_priv.h"
#include "tap.h"

static mreg_store *store;

static int create(mreg_record **out, const char *name, const char *path, const char *version)
{
	mreg_create_options o = MREG_CREATE_OPTIONS_INIT;
	o.name = name;
	o.path = path;
	o.model_version = version;
	return mreg_model_create(out, store, &o, NULL);
}

static size_t count_blobs(void)
{
	char cmd[512];
	size_t n = 0;
	snprintf(cmd, sizeof(cmd), "ls %s/blobs/sha256 | wc -l", mreg_store_path(store));
	FILE *p = popen(cmd, "r");
	if (p && fscanf(p, "%zu", &n) != 1)
		n = 0;
	if (p)
		pclose(p);
	return n;
}

static void test_init_open(void)
{
	mreg_store *again = NULL;
	char *found = NULL;

	tap_is_int(mreg_store_init(&store, ".mreg"), 0, "init creates a store");
	tap_is_int(mreg_store_init(&again, ".mreg"), MREG_EEXISTS, "init twice is refused");
	mkdir("deep", 0755);
	mkdir("deep/er", 0755);
	unsetenv("MREG_DIR");
	tap_is_int(mreg_store_discover(&found, "deep/er"), 0, "discovery walks up to .mreg");
	tap_ok(found && strstr(found, "/.mreg") != NULL, "found %s", found ? found : "nothing");
	free(found);
	tap_is_int(mreg_store_open(&again, "nowhere"), MREG_ENOTFOUND, "opening a missing store fails");
	mkdir("future", 0755);
	tap_write("future/config.yaml", "format: 9\n");
	tap_is_int(mreg_store_open(&again, "future"), MREG_EUNSUPPORTED, "a newer format is refused");
}

static void test_create_versions(void)
{
	mreg_record *r = NULL;

	mkdir("model", 0755);
	tap_write("model/weights.bin", "0123456789");
	tap_write("model/config.json", "{}");
	tap_is_int(create(&r, "churn", "model", NULL), 0, "first create");
	tap_is_str(r ? r->version : NULL, "1", "first version is 1");
	tap_is_str(r ? r->type : NULL, "custom_model", "default type custom_model");
	mreg_record_free(r);
	size_t blobs = count_blobs();
	tap_is_int(blobs, 2, "two blobs stored");
	tap_is_int(create(&r, "churn", "model", NULL), 0, "same content again");
	tap_is_str(r ? r->version : NULL, "2", "auto-increment to 2");
	mreg_record_free(r);
	tap_is_int(count_blobs(), blobs, "identical content costs no new blob");
	tap_write("model/config.json", "{\"v\": 2}");
	tap_is_int(create(&r, "churn", "model", "2025.11"), 0, "explicit string version");
	mreg_record_free(r);
	tap_is_int(count_blobs(), blobs + 1, "only the changed file adds a blob");
	tap_is_int(create(&r, "churn", "model", "2025.11"), MREG_EEXISTS, "duplicate version refused");
	tap_ok(strstr(mreg_error_last(), "2025.11") != NULL, "message names the version: %s",
	       mreg_error_last());
	tap_is_int(create(&r, "churn", "model", NULL), 0, "auto version after a string one");
	tap_is_str(r ? r->version : NULL, "3", "string versions do not count: next is 3");
	mreg_record_free(r);
	tap_is_int(create(&r, "bad name", "model", NULL), MREG_EINVALID, "name with a space refused");
	tap_is_int(create(&r, "churn", "missing", NULL), MREG_ENOTFOUND, "missing path refused");
}

static void test_invalid_model(void)
{
	mreg_create_options o = MREG_CREATE_OPTIONS_INIT;
	mreg_diag_list *d = NULL;
	mreg_record *r = NULL;

	mkdir("broken", 0755);
	tap_write("broken/ok.bin", "x");
	mkfifo("broken/pipe", 0644);
	symlink("/etc/passwd", "broken/passwd");
	mreg_diag_list_new(&d);
	o.name = "broken";
	o.path = "broken";
	tap_is_int(mreg_model_create(&r, store, &o, d), MREG_EINVALID, "invalid model refused");
	tap_is_int(mreg_diag_count_severity(d, MREG_DIAG_ERROR), 2, "every problem reported");
	tap_is_int(mreg_model_get(&r, store, "broken"), MREG_ENOTFOUND, "no record written");
	o.no_validate = 1;
	tap_is_int(mreg_model_create(&r, store, &o, NULL), MREG_EINVALID,
		   "--no-validate still refuses what cannot be stored");
	mreg_diag_list_free(d);
}

static void test_get_latest(void)
{
	mreg_record *r = NULL;
	size_t changed = 0;

	tap_is_int(mreg_model_get(&r, store, "churn@latest"), 0, "@latest resolves");
	tap_is_str(r ? r->version : NULL, "3", "@latest is the most recently created");
	mreg_record_free(r);
	tap_is_int(mreg_model_set_archived(&changed, store, "churn", "3", 1), 0, "archive 3");
	tap_is_int(changed, 1, "one version changed");
	tap_is_int(mreg_model_get(&r, store, "churn"), 0, "bare name resolves");
	tap_is_str(r ? r->version : NULL, "2025.11", "@latest skips archived versions");
	mreg_record_free(r);
	mreg_record **list = NULL;
	size_t n = 0;
	tap_is_int(mreg_model_list(&list, &n, store, "churn", MREG_LIST_ACTIVE, NULL, NULL), 0, "list");
	tap_is_int(n, 3, "archived version hidden");
	mreg_record_array_free(list, n);
	tap_is_int(mreg_model_list(&list, &n, store, NULL, MREG_LIST_ALL, NULL, NULL), 0, "list all");
	tap_is_int(n, 4, "all four versions with --all");
	tap_ok(n == 4 && !strcmp(list[0]->version, "1") && !strcmp(list[3]->version, "3"),
	       "sorted by creation time");
	mreg_record_array_free(list, n);
	tap_is_int(mreg_model_set_archived(&changed, store, "churn", NULL, 0), 0, "restore all");
	tap_is_int(changed, 1, "only the archived one changed");
	tap_is_int(mreg_model_get(&r, store, "churn:9"), MREG_ENOTFOUND, "missing version");
	tap_ok(strstr(mreg_error_last(), "no version 9") != NULL, "message: %s", mreg_error_last());
	tap_is_int(mreg_model_get(&r, store, "nobody"), MREG_ENOTFOUND, "missing model");
}

static void test_update(void)
{
	mreg_update_options o = MREG_UPDATE_OPTIONS_INIT;
	mreg_kv tag = {"team", "ml"};
	const char *rm[] = {"nope"};
	mreg_record *r = NULL;

	o.description = "better";
	o.stage = "Production";
	o.set_tags = &tag;
	o.set_tag_count = 1;
	tap_is_int(mreg_model_update(&r, store, "churn", "1", &o), 0, "update");
	tap_is_str(r ? r->stage : NULL, "Production", "stage set");
	tap_is_str(r ? mreg_record_tag(r, "team") : NULL, "ml", "tag set");
	char *digest = r ? strdup(r->digest) : NULL;
	mreg_record_free(r);
	mreg_update_options o2 = MREG_UPDATE_OPTIONS_INIT;
	o2.remove_tags = rm;
	o2.remove_tag_count = 1;
	tap_is_int(mreg_model_update(&r, store, "churn", "1", &o2), MREG_ENOTFOUND,
		   "removing a missing tag fails");
	tap_is_int(mreg_model_get(&r, store, "churn:1"), 0, "read back");
	tap_is_str(r ? r->description : NULL, "better", "description kept");
	tap_is_str(r ? r->digest : NULL, digest, "content untouched by update");
	mreg_record_free(r);
	free(digest);
}

static void test_download(void)
{
	mreg_record *r = NULL;
	char *blob = NULL;
	struct stat st;

	mreg_model_get(&r, store, "churn:1");
	tap_is_int(mreg_model_download(store, r, "out", NULL, NULL), 0, "download");
	tap_ok(system("cmp -s out/weights.bin model/weights.bin") == 0, "content equal");
	tap_is_int(mreg_model_download(store, r, "out", NULL, NULL), MREG_EEXISTS,
		   "download never overwrites");
	/* Corrupt one blob: the download must fail and leave nothing behind. */
	mreg_store_blob_path(&blob, store, r->files[1].digest);
	chmod(blob, 0644);
	tap_write(blob, "9123456789");
	tap_is_int(mreg_model_download(store, r, "out2", NULL, NULL), MREG_ECORRUPT,
		   "corrupt blob stops the download");
	tap_ok(strstr(mreg_error_last(), "weights.bin") && strstr(mreg_error_last(), r->files[1].digest),
	       "message names the file and digest: %s", mreg_error_last());
	tap_ok(stat("out2", &st) != 0, "no output folder left behind");
	tap_ok(system("ls -d out2.mreg-download-* >/dev/null 2>&1") != 0, "no staging folder left");

	mreg_fsck_result fr;
	mreg_diag_list *d = NULL;
	mreg_diag_list_new(&d);
	tap_is_int(mreg_store_fsck(&fr, store, d), 0, "fsck runs");
	tap_ok(fr.problems >= 1, "fsck finds the corrupt blob (%zu problems)", fr.problems);
	mreg_diag_list_free(d);
	free(blob);
	mreg_record_free(r);
}

static void test_delete_gc(void)
{
	mreg_gc_result g;
	mreg_record *r = NULL;
	int status;

	mkdir("tmpmodel", 0755);
	tap_write("tmpmodel/unique.bin", "only here");
	create(&r, "scratch", "tmpmodel", NULL);
	mreg_record_free(r);
	size_t before = count_blobs();
	tap_is_int(mreg_model_delete(store, "scratch", "1"), 0, "delete");
	tap_is_int(mreg_model_get(&r, store, "scratch:1"), MREG_ENOTFOUND, "deleted version is gone");
	tap_ok(strstr(mreg_error_last(), "was deleted") != NULL, "message says so: %s",
	       mreg_error_last());
	tap_is_int(create(&r, "scratch", "model", NULL), 0, "create after delete");
	tap_is_str(r ? r->version : NULL, "2", "a deleted version number is not reused");
	mreg_record_free(r);
	r = NULL;
	tap_is_int(mreg_model_delete(store, "scratch", "2"), 0, "delete the new one too");
	tap_is_int(mreg_store_gc(&g, store, 1, NULL, NULL), 0, "gc --dry-run");
	tap_is_int(g.blobs_removed, 1, "dry run counts one blob");
	tap_is_int(count_blobs(), before, "dry run removes nothing");

	/* A create in progress holds the ingest lock shared: gc must wait for it. */
	mreg_store *other = NULL;
	mreg_store_open(&other, ".mreg");
	store_ingest_lock(other, false);
	pid_t pid = fork();
	if (pid == 0) {
		mreg_store *s2 = NULL;
		mreg_store_open(&s2, ".mreg");
		_exit(mreg_store_gc(&g, s2, 0, NULL, NULL) == 0 ? 0 : 1);
	}
	usleep(300 * 1000);
	tap_ok(waitpid(pid, &status, WNOHANG) == 0, "gc waits while a create is in progress");
	tap_is_int(count_blobs(), before, "nothing removed while waiting");
	store_ingest_unlock(other);
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "gc completes after the create");
	tap_is_int(count_blobs(), before - 1, "the unreferenced blob is removed");
	mreg_store_free(other);

	/* A damaged record stops gc: its blobs cannot be told apart. */
	tap_write(".mreg/models/churn/2.yaml", "name: [\n");
	tap_is_int(mreg_store_gc(&g, store, 0, NULL, NULL), MREG_ECORRUPT, "gc refuses");
	tap_is_int(count_blobs(), before - 1, "and removes nothing");
}

int main(void)
{
	tap_tmpdir();
	unsetenv("MREG_DIR");
	test_init_open();
	test_create_versions();
	test_invalid_model();
	test_get_latest();
	test_update();
	test_download();
	test_delete_gc();
	mreg_store_free(store);
	return tap_done();
}

/* The model walker: which files a model holds, and what it refuses. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "tap.h"
#include "util/walk.h"

static bool has_code(mreg_diag_list *d, const char *code, const char *file_part)
{
	for (size_t i = 0; i < mreg_diag_count(d); i++) {
		const mreg_diag *x = mreg_diag_get(d, i);
		if (!strcmp(x->code, code) && (!file_part || strstr(x->file, file_part)))
			return true;
	}
	return false;
}

static void test_plain(void)
{
	mreg_diag_list *d;
	walk_result res;

	mkdir("m", 0755);
	mkdir("m/sub", 0755);
	mkdir("m/.git", 0755);
	tap_write("m/b.txt", "b");
	tap_write("m/a.txt", "aa");
	tap_write("m/sub/c.bin", "ccc");
	tap_write("m/a.b", "x");
	tap_write("m/.git/HEAD", "ref");
	mkdir("m/sub/.MReg", 0755);
	tap_write("m/sub/.MReg/config.yaml", "format: 1\n");
	tap_write("m/sub/.Git", "gitdir: ../.git/modules/sub\n"); /* a submodule's .git is a file */
	chmod("m/a.txt", 0750);
	symlink("sub/c.bin", "m/link");
	mreg_diag_list_new(&d);
	tap_is_int(walk_model(&res, "m", d), 0, "walk runs");
	tap_is_int(mreg_diag_count_severity(d, MREG_DIAG_ERROR), 0, "no errors in a plain folder");
	tap_is_int(res.count, 4, "four files (the .git folder skipped, the link is no file)");
	if (res.count == 4) {
		tap_is_str(res.files[0].rel, "a.b", "sorted bytewise: a.b first");
		tap_is_str(res.files[1].rel, "a.txt", "then a.txt");
		tap_is_str(res.files[3].rel, "sub/c.bin", "nested path with '/'");
		tap_is_int(res.files[1].mode, 0750, "mode recorded");
	}
	tap_is_int(res.link_count, 1, "a relative symlink inside the folder is kept as a link");
	if (res.link_count == 1) {
		tap_is_str(res.links[0].rel, "link", "the link's path");
		tap_is_str(res.links[0].target, "sub/c.bin", "its target, as readlink gives it");
	}
	tap_is_int(res.dir_count, 0, "no empty folder (.git is skipped, not kept empty)");
	tap_is_int(res.total_size, 1 + 2 + 1 + 3, "total size");
	tap_ok(has_code(d, "custom-skipped", ".git"), ".git noted as skipped");
	tap_ok(has_code(d, "custom-skipped", "sub/.MReg"), ".mreg in another case, deeper, skipped too");
	tap_ok(has_code(d, "custom-skipped", "sub/.Git"), "a .git file is skipped as a .git folder is");
	walk_result_dispose(&res);
	mreg_diag_list_free(d);
}

static void test_bad(void)
{
	mreg_diag_list *d;
	walk_result res;

	mkdir("bad", 0755);
	mkdir("bad/d", 0755);
	tap_write("bad/ok.txt", "fine");
	tap_write("outside.txt", "secret");
	symlink("../outside.txt", "bad/escape");
	symlink("nowhere", "bad/dangling");
	symlink("..", "bad/d/up");
	mkfifo("bad/fifo", 0644);
	mreg_diag_list_new(&d);
	tap_is_int(walk_model(&res, "bad", d), 0, "walk runs on a bad folder");
	tap_ok(has_code(d, "custom-symlink-escape", "bad/escape"), "escaping symlink is an error");
	tap_ok(has_code(d, "custom-symlink-dangling", "bad/dangling"), "dangling symlink is an error");
	tap_ok(has_code(d, "custom-special-file", "bad/fifo"), "FIFO is an error");
	tap_ok(has_code(d, "custom-symlink-loop", "bad/d/up"), "symlink to an ancestor is a loop");
	tap_is_int(mreg_diag_count_severity(d, MREG_DIAG_ERROR), 4, "exactly four errors");
	tap_is_int(res.count, 1, "only the readable regular file is kept");
	walk_result_dispose(&res);
	mreg_diag_list_free(d);
}

static void test_single_and_missing(void)
{
	mreg_diag_list *d;
	walk_result res;

	tap_write("one.onnx", "onnx");
	mreg_diag_list_new(&d);
	tap_is_int(walk_model(&res, "one.onnx", d), 0, "a single file walks");
	tap_ok(res.is_file && res.count == 1, "one file, marked as a file model");
	tap_is_str(res.count ? res.files[0].rel : NULL, "one.onnx", "its path is its base name");
	walk_result_dispose(&res);
	tap_is_int(walk_model(&res, "nope", d), MREG_ENOTFOUND, "a missing path is not found");
	mkdir("empty", 0755);
	tap_is_int(walk_model(&res, "empty", d), 0, "an empty folder walks");
	tap_ok(has_code(d, "custom-empty", "empty"), "an empty folder is an error");
	walk_result_dispose(&res);
	mreg_diag_list_free(d);
}

static void test_empty_dirs(void)
{
	mreg_diag_list *d;
	walk_result res;

	/* Triton's ensemble: a version folder that must exist, empty. */
	mkdir("ens", 0755);
	mkdir("ens/ensemble_model", 0755);
	mkdir("ens/ensemble_model/1", 0750);
	mkdir("ens/a-b", 0755);
	mkdir("ens/a", 0755);
	mkdir("ens/a/b", 0755);
	mkdir("ens/gitonly", 0755);
	mkdir("ens/gitonly/.git", 0755);
	tap_write("ens/ensemble_model/config.pbtxt", "platform: \"ensemble\"\n");
	tap_write("ens/gitonly/.git/HEAD", "ref");
	mreg_diag_list_new(&d);
	tap_is_int(walk_model(&res, "ens", d), 0, "walk runs");
	tap_is_int(mreg_diag_count_severity(d, MREG_DIAG_ERROR), 0, "empty folders are no error");
	tap_is_int(res.count, 1, "one file");
	tap_is_int(res.dir_count, 4, "four empty folders (a/b, a-b, ensemble_model/1, gitonly)");
	if (res.dir_count == 4) {
		/* Bytewise order over whole paths: '-' (0x2d) sorts before '/' (0x2f). */
		tap_is_str(res.dirs[0].rel, "a-b", "sorted by path: a-b");
		tap_is_str(res.dirs[1].rel, "a/b", "then a/b (its parent a holds it: not empty)");
		tap_is_str(res.dirs[2].rel, "ensemble_model/1", "then ensemble_model/1");
		tap_is_int(res.dirs[2].mode, 0750, "with its mode");
		tap_is_str(res.dirs[3].rel, "gitonly", "a folder holding only .git keeps nothing: empty");
	}
	walk_result_dispose(&res);
	mreg_diag_list_free(d);
}

static void test_links(void)
{
	mreg_diag_list *d;
	walk_result res;
	char abs[4096], target[4200];

	mkdir("lk", 0755);
	mkdir("lk/1", 0755);
	mkdir("lk/.git", 0755);
	tap_write("lk/1/model.onnx", "onnx");
	tap_write("lk/.git/config", "cfg");
	symlink("1", "lk/latest");                 /* to a folder: kept, not followed */
	symlink("../1/model.onnx", "lk/1/again");  /* ".." that stays inside */
	symlink(".git/config", "lk/gitcfg");       /* into a folder that is not stored */
	getcwd(abs, sizeof(abs));
	snprintf(target, sizeof(target), "%s/lk/1/model.onnx", abs);
	symlink(target, "lk/absolute");            /* absolute, pointing inside */
	mreg_diag_list_new(&d);
	tap_is_int(walk_model(&res, "lk", d), 0, "walk runs");
	tap_is_int(mreg_diag_count_severity(d, MREG_DIAG_ERROR), 0, "no errors");
	tap_is_int(res.link_count, 2, "two links kept");
	if (res.link_count == 2) {
		tap_is_str(res.links[0].rel, "1/again", "1/again is a link");
		tap_is_str(res.links[0].target, "../1/model.onnx", "with its text");
		tap_is_str(res.links[1].rel, "latest", "latest (to a folder) is a link");
	}
	tap_is_int(res.count, 3, "three files: model.onnx and two copies");
	if (res.count == 3) {
		tap_is_str(res.files[0].rel, "1/model.onnx", "the file");
		tap_is_str(res.files[1].rel, "absolute", "an absolute symlink is stored as a copy");
		tap_is_str(res.files[2].rel, "gitcfg", "a symlink into .git is stored as a copy");
	}
	tap_ok(has_code(d, "custom-symlink-copied", "lk/absolute"), "the copy is noted");
	tap_ok(has_code(d, "custom-symlink-copied", "lk/gitcfg"), "the copy into .git is noted");
	tap_is_int(res.dir_count, 0, "no empty folder");
	walk_result_dispose(&res);
	mreg_diag_list_free(d);

	tap_ok(walk_link_inside("a", "b"), "a sibling is inside");
	tap_ok(walk_link_inside("x/y/a", "../../b"), "up to the root is inside");
	tap_ok(walk_link_inside("x/a", ".."), "the root itself is inside");
	tap_ok(walk_link_inside("x/a", "./../x/./b"), "'.' components are fine");
	tap_ok(!walk_link_inside("a", "../b"), "above the root is outside");
	tap_ok(!walk_link_inside("x/a", "../../x/b"), "even when it comes back down");
	tap_ok(!walk_link_inside("x/a", "y/../../.."), "a climb after a descent counts");
	tap_ok(!walk_link_inside("a", "/etc/passwd"), "absolute is outside");
	tap_ok(!walk_link_inside("a", ""), "empty is refused");
	tap_ok(!walk_link_inside("a", "b\nc"), "control characters are refused");

	/* A chain of links each inside by its text that leads out. */
	mkdir("chain", 0755);
	mkdir("chain/a", 0755);
	symlink("..", "chain/a/up");
	symlink("a/up/..", "chain/esc");
	symlink("a", "chain/ok");
	symlink("nothing", "chain/dangling");
	tap_ok(walk_link_inside("a/up", "..") && walk_link_inside("esc", "a/up/.."),
	       "each link of the chain is inside by its text");
	tap_is_int(walk_link_check("chain", "ok"), 0, "a link to a folder inside passes");
	tap_is_int(walk_link_check("chain", "a/up"), 0, "a link to the root passes");
	tap_is_int(walk_link_check("chain", "esc"), MREG_EINVALID, "the chain out is refused");
	tap_ok(strstr(mreg_error_last(), "leads outside the model") != NULL, "message: %s",
	       mreg_error_last());
	tap_is_int(walk_link_check("chain", "dangling"), MREG_EINVALID, "a dangling link is refused");
}

int main(void)
{
	tap_tmpdir();
	test_plain();
	test_bad();
	test_single_and_missing();
	test_empty_dirs();
	test_links();
	return tap_done();
}

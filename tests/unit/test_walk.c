/* The model walker: which files a model holds, and what it refuses. */
#include <fcntl.h>
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
	tap_is_int(res.count, 5, "five files (the .git folder skipped)");
	if (res.count == 5) {
		tap_is_str(res.files[0].rel, "a.b", "sorted bytewise: a.b first");
		tap_is_str(res.files[1].rel, "a.txt", "then a.txt");
		tap_is_str(res.files[3].rel, "link", "symlink inside the folder is followed");
		tap_is_int(res.files[3].size, 3, "symlink's size is its target's");
		tap_is_str(res.files[4].rel, "sub/c.bin", "nested path with '/'");
		tap_is_int(res.files[1].mode, 0750, "mode recorded");
	}
	tap_is_int(res.total_size, 1 + 2 + 1 + 3 + 3, "total size");
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

int main(void)
{
	tap_tmpdir();
	test_plain();
	test_bad();
	test_single_and_missing();
	return tap_done();
}

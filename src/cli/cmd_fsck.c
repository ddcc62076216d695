#include "commands.h"

enum { OPT_JSON = 256 };

static const cli_option options[] = {
	{OPT_JSON, "json", NULL, "print the result as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

static int run(int argc, char **argv)
{
	mreg_store *store = NULL;
	mreg_diag_list *diags = NULL;
	mreg_fsck_result res;
	bool json = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_fsck, argc, argv, &arg)) != -1)
		if (c == OPT_JSON)
			json = true;
	if (optind < argc)
		return cli_usage_error(&cmd_fsck, "unexpected argument '%s'", argv[optind]);
	if ((status = cli_open_store(&store)))
		return status;
	if (mreg_diag_list_new(&diags)) {
		mreg_store_free(store);
		return cli_fail(MREG_ENOMEM);
	}
	rc = mreg_store_fsck(&res, store, diags);
	if (rc) {
		status = cli_fail(rc);
	} else if (json) {
		cli_print_json(json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:o}", "ok",
					 res.problems == 0, "records", (json_int_t)res.records,
					 "blobs", (json_int_t)res.blobs, "bytes",
					 (json_int_t)res.bytes, "unreferenced",
					 (json_int_t)res.unreferenced, "problems",
					 (json_int_t)res.problems, "diagnostics",
					 cli_diags_json(diags)));
		status = res.problems ? EXIT_NO : EXIT_OK;
	} else {
		char size[32];
		cli_print_diags(diags, stdout);
		cli_human_size(size, sizeof(size), res.bytes);
		printf("checked %zu record%s and %zu blob%s (%s): %zu problem%s\n", res.records,
		       res.records == 1 ? "" : "s", res.blobs, res.blobs == 1 ? "" : "s", size,
		       res.problems, res.problems == 1 ? "" : "s");
		status = res.problems ? EXIT_NO : EXIT_OK;
	}
	mreg_diag_list_free(diags);
	mreg_store_free(store);
	return status;
}

const cli_command cmd_fsck = {
	.name = "fsck",
	.usage = "[--json]",
	.summary = "Check the store: re-hash every blob and every record's references.",
	.details = "Reports every problem (damaged record, missing or corrupt blob, size or\n"
		   "content-digest mismatch) and exits 1 if there is one. Unreferenced blobs\n"
		   "and leftovers of interrupted writes are notes: 'mreg gc' removes them.",
	.options = options,
	.run = run,
};

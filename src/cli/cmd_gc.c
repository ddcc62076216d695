#include "commands.h"

enum { OPT_DRY_RUN = 256, OPT_JSON };

static const cli_option options[] = {
	{OPT_DRY_RUN, "dry-run", NULL, "list what would be removed, remove nothing"},
	{OPT_JSON, "json", NULL, "print the result as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

typedef struct {
	bool dry_run;
	bool json;
	json_t *removed;
} gc_ctx;

static void on_blob(void *ctx, const char *digest, uint64_t size)
{
	gc_ctx *g = ctx;
	char human[32];

	if (g->json) {
		json_array_append_new(g->removed, json_pack("{s:s, s:I}", "digest", digest, "size",
							     (json_int_t)size));
		return;
	}
	cli_human_size(human, sizeof(human), size);
	printf("%s %s (%s)\n", g->dry_run ? "would remove" : "removed", digest, human);
}

static int run(int argc, char **argv)
{
	gc_ctx g = {false, false, NULL};
	mreg_store *store = NULL;
	mreg_gc_result res;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_gc, argc, argv, &arg)) != -1) {
		if (c == OPT_DRY_RUN)
			g.dry_run = true;
		if (c == OPT_JSON)
			g.json = true;
	}
	if (optind < argc)
		return cli_usage_error(&cmd_gc, "unexpected argument '%s'", argv[optind]);
	if ((status = cli_open_store(&store)))
		return status;
	g.removed = json_array();
	rc = mreg_store_gc(&res, store, g.dry_run, on_blob, &g);
	if (rc) {
		status = cli_fail(rc);
	} else if (g.json) {
		status = cli_print_json(json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:O}", "dry_run",
						  g.dry_run, "blobs_removed",
						  (json_int_t)res.blobs_removed, "bytes_removed",
						  (json_int_t)res.bytes_removed, "blobs_kept",
						  (json_int_t)res.blobs_kept, "tmp_removed",
						  (json_int_t)res.tmp_removed, "signatures_removed",
						  (json_int_t)res.signatures_removed, "removed",
						  g.removed));
	} else {
		char size[32];
		cli_human_size(size, sizeof(size), res.bytes_removed);
		printf("%s %zu blob%s (%s) and %zu leftover%s of interrupted writes; %zu blob%s kept\n",
		       g.dry_run ? "would remove" : "removed", res.blobs_removed,
		       res.blobs_removed == 1 ? "" : "s", size, res.tmp_removed,
		       res.tmp_removed == 1 ? "" : "s", res.blobs_kept, res.blobs_kept == 1 ? "" : "s");
		if (res.signatures_removed)
			printf("%s the kept OMS signatures of %zu version%s that no longer exist%s\n",
			       g.dry_run ? "would remove" : "removed", res.signatures_removed,
			       res.signatures_removed == 1 ? "" : "s",
			       res.signatures_removed == 1 ? "s" : "");
	}
	json_decref(g.removed);
	mreg_store_free(store);
	return status;
}

const cli_command cmd_gc = {
	.name = "gc",
	.usage = "[--dry-run] [--json]",
	.summary = "Remove blobs no record references, and leftovers of interrupted writes.",
	.details = "Waits for every 'mreg create' in progress to finish first, so a blob whose\n"
		   "record is not written yet is never taken. Refuses to run while a record\n"
		   "cannot be read. Also removes the kept OMS signatures (signatures/NAME/\n"
		   "VERSION/) of versions that no longer exist.",
	.options = options,
	.run = run,
};

#include "commands.h"

enum { OPT_JSON = 256 };

static const cli_option options[] = {
	{'o', "output", "DIR", "folder to write the files into (created if missing)"},
	{OPT_JSON, "json", NULL, "print what was written as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

static int run(int argc, char **argv)
{
	mreg_store *store = NULL;
	mreg_record *rec = NULL;
	mreg_ref ref;
	cli_progress progress;
	const char *out = NULL;
	char *arg;
	bool json = false;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_download, argc, argv, &arg)) != -1) {
		if (c == 'o')
			out = arg;
		else if (c == OPT_JSON)
			json = true;
	}
	if (argc - optind != 1)
		return cli_usage_error(&cmd_download, "give one model: NAME, NAME:VERSION or NAME@latest");
	if (!out)
		return cli_usage_error(&cmd_download, "give the output folder: -o DIR");
	cli_parse_ref(&cmd_download, &ref, argv[optind]);
	mreg_ref_dispose(&ref);
	if ((status = cli_open_store(&store)))
		return status;
	if ((rc = mreg_model_get(&rec, store, argv[optind]))) {
		status = cli_fail(rc);
		goto done;
	}
	cli_progress_init(&progress, "writing");
	rc = mreg_model_download(store, rec, out, cli_progress_cb, &progress);
	cli_progress_done(&progress);
	if (rc) {
		status = cli_fail(rc);
	} else if (json) {
		status = cli_print_json(json_pack(
			"{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "name", rec->name, "version",
			rec->version, "output", out, "digest", rec->digest, "files",
			(json_int_t)rec->file_count, "dirs", (json_int_t)rec->dir_count, "links",
			(json_int_t)rec->link_count, "size", (json_int_t)rec->total_size, "verified", 1));
	} else {
		char size[32];
		cli_human_size(size, sizeof(size), rec->total_size);
		printf("downloaded %s:%s to %s (%zu file%s, %s, every digest verified)\n", rec->name,
		       rec->version, out, rec->file_count, rec->file_count == 1 ? "" : "s", size);
	}
done:
	mreg_record_free(rec);
	mreg_store_free(store);
	return status;
}

const cli_command cmd_download = {
	.name = "download",
	.usage = "NAME[:VERSION|@latest|@ALIAS] -o DIR [--json]",
	.summary = "Write a version's files into DIR, re-verifying every digest.",
	.details = "Files get their recorded modes. Nothing is overwritten, and nothing is left\n"
		   "behind on failure: files are staged, checked, then moved into DIR together.",
	.options = options,
	.run = run,
};

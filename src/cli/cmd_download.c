#include <string.h>

#include "commands.h"

enum { OPT_JSON = 256, OPT_LINK, OPT_SYNC };

static const cli_option options[] = {
	{'o', "output", "DIR", "folder to write the files into (created if missing)"},
	{OPT_LINK, "link", "HOW",
	 "reflink, copy or hardlink (default: reflink where the filesystem can, else copy)"},
	{OPT_SYNC, "sync", NULL, "fsync every file and folder written before reporting success"},
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
	mreg_download_opts opts = {0};
	int c, rc, status;

	while ((c = cli_next_option(&cmd_download, argc, argv, &arg)) != -1) {
		if (c == 'o')
			out = arg;
		else if (c == OPT_JSON)
			json = true;
		else if (c == OPT_SYNC)
			opts.sync = true;
		else if (c == OPT_LINK) {
			if (!strcmp(arg, "reflink"))
				opts.link = MREG_LINK_REFLINK;
			else if (!strcmp(arg, "copy"))
				opts.link = MREG_LINK_COPY;
			else if (!strcmp(arg, "hardlink"))
				opts.link = MREG_LINK_HARDLINK;
			else
				return cli_usage_error(&cmd_download,
						       "--link: give reflink, copy or hardlink, not '%s'",
						       arg);
		}
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
	/* What a killed download into the same folder left (its own failures
	 * clean up after themselves; a kill -9 leaves its staging folder). */
	if ((rc = mreg_download_litter_remove(out, cli_litter_note, "download"))) {
		status = cli_fail(rc);
		goto done;
	}
	if (opts.link == MREG_LINK_HARDLINK)
		cli_error("warning: --link hardlink: the files in %s will be the store's blobs "
			  "themselves, read-only whatever their recorded modes; editing one in place "
			  "(instead of writing a new file and renaming it over) would damage the "
			  "store for every version that holds it",
			  out);
	cli_progress_init(&progress, "writing");
	rc = mreg_model_download_opts(store, rec, out, &opts, cli_progress_cb, &progress);
	cli_progress_done(&progress);
	if (rc) {
		status = cli_fail(rc);
	} else if (json) {
		status = cli_print_json(json_pack(
			"{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:b}", "name",
			rec->name, "version", rec->version, "output", out, "digest", rec->digest,
			"files", (json_int_t)rec->file_count, "dirs", (json_int_t)rec->dir_count,
			"links", (json_int_t)rec->link_count, "size", (json_int_t)rec->total_size,
			"verified", opts.copied == rec->file_count, "reflinked",
			(json_int_t)opts.reflinked, "copied", (json_int_t)opts.copied, "hardlinked",
			(json_int_t)opts.hardlinked, "synced", opts.sync));
	} else {
		char size[32], how[160];
		cli_human_size(size, sizeof(size), rec->total_size);
		if (opts.copied == rec->file_count)
			snprintf(how, sizeof(how), "every digest verified");
		else if (opts.copied == 0)
			snprintf(how, sizeof(how), "%s, trusted by their digest names",
				 opts.reflinked ? "reflinked" : "hard-linked");
		else
			snprintf(how, sizeof(how), "%zu %s, %zu copied and verified", opts.reflinked
				 ? opts.reflinked : opts.hardlinked,
				 opts.reflinked ? "reflinked" : "hard-linked", opts.copied);
		printf("downloaded %s:%s to %s (%zu file%s, %s, %s%s)\n", rec->name, rec->version,
		       out, rec->file_count, rec->file_count == 1 ? "" : "s", size, how,
		       opts.sync ? ", synced to disk" : "");
	}
done:
	mreg_record_free(rec);
	mreg_store_free(store);
	return status;
}

const cli_command cmd_download = {
	.name = "download",
	.usage = "NAME[:VERSION|@latest|@ALIAS] -o DIR [--link HOW] [--sync] [--json]",
	.summary = "Write a version's files into DIR, re-verifying every digest it copies.",
	.details = "Files get their recorded modes. Nothing is overwritten, and nothing is left\n"
		   "behind on failure: files are staged, checked, then moved into DIR together.\n"
		   "A reflink shares the blob's extents and is trusted by its digest name (mreg\n"
		   "fsck checks the store); a copy is hashed in the same pass. Without --sync\n"
		   "nothing is forced to the disk: DIR is a working copy, download it again.",
	.options = options,
	.run = run,
};

#include <stdlib.h>
#include <string.h>

#include "commands.h"

enum { OPT_ARCHIVED = 256, OPT_ALL, OPT_JSON, OPT_TAG, OPT_STAGE, OPT_SORT, OPT_LIMIT };

static const cli_option options[] = {
	{'n', "name", "NAME", "only the versions of this model"},
	{OPT_ARCHIVED, "archived", NULL, "only archived versions"},
	{OPT_ALL, "all", NULL, "active and archived versions"},
	{OPT_TAG, "tag", "K=V", "only versions with this tag (K alone: any value; repeatable)"},
	{OPT_STAGE, "stage", "STAGE", "only versions in this stage ('' for none)"},
	{'t', "type", "TYPE", "only versions of this model type"},
	{OPT_SORT, "sort", "KEY", "order by name (default), created, size, files or version; -KEY reverses"},
	{OPT_LIMIT, "limit", "N", "at most N versions (after sorting)"},
	{OPT_JSON, "json", NULL, "print a JSON array of records (without their file lists)"},
	CLI_COMMON_OPTIONS,
	{0},
};

static void on_damaged(void *ctx, const char *path, int code, const char *message)
{
	(void)ctx;
	(void)path;
	(void)code;
	cli_error("%s", message);
}

enum { COLS = 8 };

static void row_cells(const mreg_record *r, char cells[COLS][64], bool status)
{
	char size[32];

	snprintf(cells[0], 64, "%s", r->name);
	snprintf(cells[1], 64, "%s", r->version);
	snprintf(cells[2], 64, "%s", r->type);
	snprintf(cells[3], 64, "%s", r->stage ? r->stage : "-");
	snprintf(cells[4], 64, "%zu", r->file_count);
	cli_human_size(size, sizeof(size), r->total_size);
	snprintf(cells[5], 64, "%s", size);
	/* "2026-11-26T06:40:00.123456Z" -> "2026-11-26 06:40:00" */
	snprintf(cells[6], 64, "%.19s", r->created_at);
	if (strlen(cells[6]) > 10)
		cells[6][10] = ' ';
	snprintf(cells[7], 64, "%s", status ? (r->archived ? "archived" : "active") : "");
}

static void print_row(const char *const *cells, const size_t *width, size_t ncols)
{
	for (size_t k = 0; k + 1 < ncols; k++)
		printf("%-*s  ", (int)width[k], cells[k]);
	printf("%s\n", cells[ncols - 1]);
}

static int run(int argc, char **argv)
{
	mreg_list_filter filter = MREG_LIST_ACTIVE;
	mreg_store *store = NULL;
	mreg_record **recs = NULL;
	size_t n = 0;
	const char *name = NULL;
	mreg_list_query q = MREG_LIST_QUERY_INIT;
	mreg_kv *tags = NULL;
	size_t ntags = 0;
	bool json = false;
	char *arg, *end;
	int c, rc, qrc, status;

	while ((c = cli_next_option(&cmd_list, argc, argv, &arg)) != -1) {
		switch (c) {
		case 'n': name = arg; break;
		case OPT_ARCHIVED: filter = MREG_LIST_ARCHIVED; break;
		case OPT_ALL: filter = MREG_LIST_ALL; break;
		case OPT_JSON: json = true; break;
		case OPT_TAG: cli_add_kv(&cmd_list, "tag", &tags, &ntags, arg); break;
		case OPT_STAGE: q.stage = arg; break;
		case 't':
			if (!mreg_format_find(arg))
				return cli_unknown_type(&cmd_list, arg);
			q.type = arg;
			break;
		case OPT_SORT: q.sort = arg; break;
		case OPT_LIMIT:
			q.limit = strtoul(arg, &end, 10);
			if (!arg[0] || *end || arg[0] == '-' || q.limit == 0)
				return cli_usage_error(&cmd_list, "--limit: '%s' is not a positive number",
						       arg);
			break;
		}
	}
	if (optind + 1 < argc)
		return cli_usage_error(&cmd_list, "unexpected argument '%s'", argv[optind + 1]);
	/* One operand: a name pattern (fnmatch), e.g. 'churn*'. */
	if (optind < argc)
		q.name_glob = argv[optind];
	if (name && mreg_name_check(name))
		return cli_usage_error(&cmd_list, "%s", mreg_error_last());
	q.tags = tags;
	q.tag_count = ntags;
	{
		/* A bad sort key is a usage error before the store is read. */
		size_t none = 0;
		if (mreg_records_query(NULL, &none, &q)) {
			cli_free_kv(tags, ntags);
			return cli_usage_error(&cmd_list, "%s", mreg_error_last());
		}
	}
	if ((status = cli_open_store(&store))) {
		cli_free_kv(tags, ntags);
		return status;
	}
	rc = mreg_model_list(&recs, &n, store, name, filter, on_damaged, NULL);
	if (rc && rc != MREG_ECORRUPT) {
		status = cli_fail(rc);
		goto done;
	}
	if ((qrc = mreg_records_query(recs, &n, &q))) {
		status = cli_fail(qrc);
		goto done;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < n; i++)
			json_array_append_new(a, cli_record_json(recs[i], false));
		status = cli_print_json(a);
	} else if (n > 0) {
		static const char *head[COLS] = {"NAME", "VERSION", "TYPE", "STAGE", "FILES", "SIZE",
						 "CREATED", "STATUS"};
		bool show_status = filter != MREG_LIST_ACTIVE;
		size_t width[COLS], ncols = show_status ? COLS : COLS - 1;
		char cells[COLS][64];

		for (size_t k = 0; k < COLS; k++)
			width[k] = strlen(head[k]);
		for (size_t i = 0; i < n; i++) {
			row_cells(recs[i], cells, show_status);
			for (size_t k = 0; k < COLS; k++)
				if (strlen(cells[k]) > width[k])
					width[k] = strlen(cells[k]);
		}
		print_row(head, width, ncols);
		for (size_t i = 0; i < n; i++) {
			row_cells(recs[i], cells, show_status);
			const char *row[COLS];
			for (size_t k = 0; k < COLS; k++)
				row[k] = cells[k];
			print_row(row, width, ncols);
		}
	}
	if (status == EXIT_OK && rc)
		status = cli_exit_status(rc); /* damaged records were reported above */
done:
	mreg_record_array_free(recs, n);
	mreg_store_free(store);
	cli_free_kv(tags, ntags);
	return status;
}

const cli_command cmd_list = {
	.name = "list",
	.usage = "[PATTERN] [-n NAME] [--tag K=V] [--stage S] [-t TYPE] [--sort KEY] [--limit N] "
		 "[--archived|--all] [--json]",
	.summary = "List model versions (archived ones only with --archived or --all).",
	.details = "Sorted by name, then by creation time (--sort changes it: '--sort -created\n"
		   "--limit 5' gives the five newest). PATTERN keeps the models whose name\n"
		   "matches it (a shell pattern: 'churn*'); --tag, --stage and -t keep the\n"
		   "versions that have every one given. A record that cannot be read is\n"
		   "reported on stderr and the exit status is 1.",
	.options = options,
	.run = run,
};

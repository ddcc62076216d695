#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"

enum { OPT_JSON = 256 };

static const cli_option options[] = {
	{OPT_JSON, "json", NULL, "print the history as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

static void format_time(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static int run(int argc, char **argv)
{
	mreg_store *store = NULL;
	mreg_log_entry *log = NULL;
	mreg_record **recs = NULL;
	size_t n = 0, nrecs = 0;
	bool json = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_log, argc, argv, &arg)) != -1)
		if (c == OPT_JSON)
			json = true;
	if (argc - optind != 1)
		return cli_usage_error(&cmd_log, "give one model name");
	if (mreg_name_check(argv[optind]))
		return cli_usage_error(&cmd_log, "%s", mreg_error_last());
	if ((status = cli_open_store(&store)))
		return status;
	if ((rc = mreg_model_log(&log, &n, store, argv[optind]))) {
		status = cli_fail(rc);
		goto done;
	}
	/* Versions in the store whose record is not committed yet are shown too. */
	rc = mreg_model_list(&recs, &nrecs, store, argv[optind], MREG_LIST_ALL, NULL, NULL);
	if (rc && rc != MREG_ENOTFOUND && rc != MREG_ECORRUPT) {
		status = cli_fail(rc);
		goto done;
	}
	if (n == 0 && nrecs == 0) {
		cli_error("no model named %s, in the store or in git history", argv[optind]);
		status = EXIT_NO;
		goto done;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < nrecs; i++) {
			bool committed = false;
			for (size_t k = 0; k < n; k++)
				committed |= !log[k].deleted && !strcmp(log[k].version, recs[i]->version);
			if (!committed)
				json_array_append_new(a, json_pack("{s:s, s:n, s:s}", "version",
								   recs[i]->version, "commit",
								   "event", "uncommitted"));
		}
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "version",
							   log[i].version, "commit", log[i].commit,
							   "author", log[i].author, "time",
							   (json_int_t)log[i].time, "summary",
							   log[i].summary, "event",
							   log[i].deleted ? "deleted" : "added"));
		status = cli_print_json(a);
		goto done;
	}
	for (size_t i = 0; i < nrecs; i++) {
		bool committed = false;
		for (size_t k = 0; k < n; k++)
			committed |= !log[k].deleted && !strcmp(log[k].version, recs[i]->version);
		if (!committed)
			printf("%-10s  %-12s  %-19s  (record not committed yet)\n", recs[i]->version, "-",
			       "-");
	}
	for (size_t i = 0; i < n; i++) {
		char when[32];
		format_time(when, sizeof(when), log[i].time);
		printf("%-10s  %.12s  %s  %s%s (%s)\n", log[i].version, log[i].commit, when,
		       log[i].deleted ? "[deleted] " : "", log[i].summary, log[i].author);
	}
done:
	mreg_record_array_free(recs, nrecs);
	mreg_log_free(log, n);
	mreg_store_free(store);
	return status;
}

const cli_command cmd_log = {
	.name = "log",
	.usage = "NAME [--json]",
	.summary = "Show which git commit added (or deleted) each version of a model.",
	.details = "Walks the git history of .mreg/models/NAME/ from HEAD, newest first; a merge\n"
		   "is listed only for records none of its parents had. Versions whose record\n"
		   "is not committed yet are listed first. Times are UTC.",
	.options = options,
	.run = run,
};

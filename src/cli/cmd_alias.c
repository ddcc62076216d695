#include <stdlib.h>
#include <string.h>

#include "commands.h"

enum { OPT_JSON = 256 };

static const cli_option options[] = {
	{'d', "delete", NULL, "remove the alias: mreg alias -d NAME ALIAS"},
	{OPT_JSON, "json", NULL, "print the result as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

static int list_aliases(mreg_store *store, const char *name, bool json)
{
	mreg_kv *items = NULL;
	size_t n = 0;
	int rc = mreg_alias_list(&items, &n, store, name);

	if (rc)
		return cli_fail(rc);
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:s, s:s}", "alias", items[i].key,
							   "version", items[i].value));
		rc = cli_print_json(a);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s@%s -> %s:%s\n", name, items[i].key, name, items[i].value);
	}
	mreg_kv_array_free(items, n);
	return rc ? EXIT_ERROR : EXIT_OK;
}

static int run(int argc, char **argv)
{
	mreg_store *store = NULL;
	mreg_ref ref = {0};
	bool del = false, json = false;
	char *arg, *before = NULL;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_alias, argc, argv, &arg)) != -1) {
		if (c == 'd')
			del = true;
		else if (c == OPT_JSON)
			json = true;
	}
	if (argc - optind < 1 || argc - optind > 2 || (del && argc - optind != 2))
		return cli_usage_error(&cmd_alias, del ? "give NAME ALIAS" :
					       "give NAME:VERSION ALIAS, or NAME to list its aliases");
	cli_parse_ref(&cmd_alias, &ref, argv[optind]);
	if (argc - optind == 2 && mreg_alias_check(argv[optind + 1])) {
		mreg_ref_dispose(&ref);
		return cli_usage_error(&cmd_alias, "%s", mreg_error_last());
	}
	if (argc - optind == 2 && !del && !ref.version) {
		status = cli_usage_error(&cmd_alias,
					 "'%s': name the version the alias moves to, as %s:VERSION",
					 argv[optind], ref.name);
		mreg_ref_dispose(&ref);
		return status;
	}
	if ((del || argc - optind == 1) && (ref.version || ref.latest || ref.alias)) {
		status = cli_usage_error(&cmd_alias, "'%s': give the model's name alone",
					 argv[optind]);
		mreg_ref_dispose(&ref);
		return status;
	}
	if ((status = cli_open_store(&store))) {
		mreg_ref_dispose(&ref);
		return status;
	}
	if (argc - optind == 1) {
		status = list_aliases(store, ref.name, json);
	} else if (del) {
		const char *alias = argv[optind + 1];
		if ((rc = mreg_alias_delete(store, ref.name, alias, &before)))
			status = cli_fail(rc);
		else if (json)
			status = cli_print_json(json_pack("{s:s, s:s, s:s?}", "name", ref.name, "alias",
							  alias, "removed_from", before));
		else
			printf("removed %s@%s (it named %s:%s)\n", ref.name, alias, ref.name,
			       before ? before : "?");
	} else {
		const char *alias = argv[optind + 1];
		if ((rc = mreg_alias_set(store, ref.name, ref.version, alias, &before)))
			status = cli_fail(rc);
		else if (json)
			status = cli_print_json(json_pack("{s:s, s:s, s:s, s:s?}", "name", ref.name,
							  "alias", alias, "version", ref.version,
							  "previous", before));
		else if (before && strcmp(before, ref.version))
			printf("%s@%s now names %s:%s (it named %s:%s)\n", ref.name, alias, ref.name,
			       ref.version, ref.name, before);
		else if (before)
			printf("%s@%s already names %s:%s\n", ref.name, alias, ref.name, ref.version);
		else
			printf("%s@%s now names %s:%s\n", ref.name, alias, ref.name, ref.version);
	}
	free(before);
	mreg_ref_dispose(&ref);
	mreg_store_free(store);
	return status;
}

static const char details[] =
	"An alias is a name for one version of a model, as MLflow's model aliases\n"
	"(champion, prod): NAME@ALIAS then works wherever a reference does (show,\n"
	"download, package, push, diff, update...). Setting an alias that exists moves\n"
	"it: one version per alias per model. @latest is built in and cannot be set.\n"
	"Aliases are small files under the store's models/NAME/, so they are committed\n"
	"and merged in git like records (two branches moving one alias conflict).\n"
	"  mreg alias churn:3 champion     point churn@champion at version 3\n"
	"  mreg alias -d churn champion    remove it\n"
	"  mreg alias churn                list churn's aliases";

const cli_command cmd_alias = {
	.name = "alias",
	.usage = "NAME:VERSION ALIAS | -d NAME ALIAS | NAME [--json]",
	.summary = "Name a version with an alias (NAME@ALIAS), move, remove or list aliases.",
	.details = details,
	.options = options,
	.run = run,
};

#include <stdlib.h>
#include <string.h>

#include "commands.h"

enum { OPT_DESCRIPTION = 256, OPT_TAG, OPT_REMOVE_TAG, OPT_STAGE, OPT_EXCLUSIVE, OPT_JSON };

static const cli_option options[] = {
	{OPT_DESCRIPTION, "description", "TEXT", "new description (\"\" clears it)"},
	{OPT_TAG, "tag", "K=V", "add or replace a tag (repeatable)"},
	{OPT_REMOVE_TAG, "remove-tag", "K", "remove a tag (repeatable)"},
	{OPT_STAGE, "stage", "STAGE", "new stage (\"\" clears it)"},
	{OPT_EXCLUSIVE, "exclusive", NULL, "with --stage: every other version of the model leaves that stage"},
	{OPT_JSON, "json", NULL, "print the updated record as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

typedef struct {
	bool json;
	const char *stage;
} report;

/* The human line for each version --exclusive moved out (--json prints the updated record only). */
static void left_stage(void *ctx, const mreg_record *r)
{
	const report *rp = ctx;

	if (!rp->json)
		printf("%s:%s left stage %s\n", r->name, r->version, rp->stage);
}

static int run(int argc, char **argv)
{
	mreg_update_options o = MREG_UPDATE_OPTIONS_INIT;
	mreg_kv *tags = NULL;
	size_t ntags = 0, nremove = 0;
	const char **remove = NULL;
	mreg_store *store = NULL;
	mreg_record *rec = NULL, *current = NULL;
	mreg_ref ref = {0};
	bool json = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_update, argc, argv, &arg)) != -1) {
		switch (c) {
		case OPT_DESCRIPTION: o.description = arg; break;
		case OPT_TAG: cli_add_kv(&cmd_update, "tag", &tags, &ntags, arg); break;
		case OPT_REMOVE_TAG: {
			const char **grown = realloc(remove, (nremove + 1) * sizeof(*grown));
			if (!grown)
				return cli_fail(MREG_ENOMEM);
			remove = grown;
			remove[nremove++] = arg;
			break;
		}
		case OPT_STAGE: o.stage = arg; break;
		case OPT_EXCLUSIVE: o.exclusive_stage = 1; break;
		case OPT_JSON: json = true; break;
		}
	}
	if (argc - optind != 1) {
		status = cli_usage_error(&cmd_update, "give one model version: NAME:VERSION");
		goto done;
	}
	cli_parse_ref(&cmd_update, &ref, argv[optind]);
	if (!ref.version && !ref.latest && !ref.alias) {
		status = cli_usage_error(&cmd_update, "'%s': say which version (NAME:VERSION, "
				"NAME@latest or NAME@ALIAS)", argv[optind]);
		goto done;
	}
	if (o.exclusive_stage && (!o.stage || !o.stage[0])) {
		status = cli_usage_error(&cmd_update, "--exclusive needs --stage STAGE (the stage only "
				"this version keeps)");
		goto done;
	}
	if (!o.description && !o.stage && !ntags && !nremove) {
		status = cli_usage_error(&cmd_update, "nothing to change: give --description, --tag, "
				"--remove-tag or --stage");
		goto done;
	}
	if ((status = cli_open_store(&store)))
		goto done;
	if (ref.latest || ref.alias) {
		if ((rc = mreg_model_get(&current, store, argv[optind]))) {
			status = cli_fail(rc);
			goto done;
		}
	}
	o.set_tags = tags;
	o.set_tag_count = ntags;
	report rp = {json, o.stage};
	o.on_left_stage = left_stage;
	o.ctx = &rp;
	o.remove_tags = remove;
	o.remove_tag_count = nremove;
	rc = mreg_model_update(&rec, store, ref.name, current ? current->version : ref.version, &o);
	if (rc)
		status = cli_fail(rc);
	else if (json)
		status = cli_print_json(cli_record_json(rec, true));
	else
		printf("updated %s:%s\n", rec->name, rec->version);
done:
	mreg_ref_dispose(&ref);
	mreg_record_free(rec);
	mreg_record_free(current);
	mreg_store_free(store);
	cli_free_kv(tags, ntags);
	free(remove);
	return status;
}

const cli_command cmd_update = {
	.name = "update",
	.usage = "NAME:VERSION [--description TEXT] [--tag K=V]... [--remove-tag K]... [--stage S "
		 "[--exclusive]]",
	.summary = "Change a version's description, tags or stage (its files never change).",
	.details = "Removing a tag the version does not have is an error, so a typo does not\n"
		   "pass silently; nothing is changed then. --stage S --exclusive also clears the\n"
		   "stage of every other version of the model that is in S (one version per\n"
		   "stage, as MLflow's archive_existing_versions); without it stages are free.",
	.options = options,
	.run = run,
};

#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "remote_cli.h"

enum { OPT_DESCRIPTION = 256, OPT_TAG, OPT_PROPERTY, OPT_STAGE, OPT_NO_VALIDATE, OPT_JSON,
       OPT_COMMIT, OPT_NO_COMMIT };

static const cli_option options[] = {
	{'n', "name", "NAME", "model name: letters, digits, '_' and '-' (Azure's rule)"},
	{'p', "path", "PATH", "the model file or folder"},
	{'t', "type", "TYPE", "model type (default custom_model; types listed below)"},
	{'v', "version", "VERSION", "version string (default: next integer)"},
	{'f', "file", "FILE", "read name, version, type, path... from an Azure ML model YAML"},
	{OPT_DESCRIPTION, "description", "TEXT", "free-text description"},
	{OPT_TAG, "tag", "K=V", "a tag (repeatable)"},
	{OPT_PROPERTY, "property", "K=V", "a property, fixed once created (repeatable)"},
	{OPT_STAGE, "stage", "STAGE", "lifecycle stage, e.g. Development or Production"},
	{OPT_NO_VALIDATE, "no-validate", NULL, "register even if the type's checks fail"},
	{OPT_COMMIT, "commit", NULL, "commit the new record to git (and config.yaml, .gitignore on first use)"},
	{OPT_NO_COMMIT, "no-commit", NULL, "do not commit, even if config.yaml says git.commit: true"},
	{OPT_JSON, "json", NULL, "print the new record as JSON"},
	CLI_SOURCE_OPTIONS,
	CLI_COMMON_OPTIONS,
	{0},
};

/* Flags win over the YAML file, as in `az ml model create -f FILE --set`. */
static void merge_kv(mreg_kv **items, size_t *count, const mreg_kv *from, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool present = false;
		for (size_t k = 0; k < *count; k++)
			present |= !strcmp((*items)[k].key, from[i].key);
		if (present)
			continue;
		mreg_kv *grown = realloc(*items, (*count + 1) * sizeof(*grown));
		if (!grown)
			exit(cli_fail(MREG_ENOMEM));
		*items = grown;
		grown[*count].key = strdup(from[i].key);
		grown[*count].value = strdup(from[i].value);
		(*count)++;
	}
}

/* Allowed, but worth a word: the new version holds what an earlier one does. */
static void note_same_content(mreg_store *store, const mreg_record *rec)
{
	char *same = NULL;

	if (mreg_model_same_content(&same, store, rec) == 0 && same && !cli_quiet)
		fprintf(stderr, "mreg: note: same content as %s:%s (mreg diff shows what differs in "
				"metadata)\n",
			rec->name, same);
	free(same);
	mreg_error_clear();
}

static int run(int argc, char **argv)
{
	mreg_create_options o = MREG_CREATE_OPTIONS_INIT;
	mreg_source_options so = MREG_SOURCE_OPTIONS_INIT;
	mreg_fetched *fetched = NULL;
	mreg_kv *tags = NULL, *props = NULL;
	size_t ntags = 0, nprops = 0;
	mreg_model_yml *yml = NULL;
	mreg_diag_list *diags = NULL;
	mreg_store *store = NULL;
	mreg_record *rec = NULL;
	cli_progress progress;
	const char *file = NULL;
	bool json = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_create, argc, argv, &arg)) != -1) {
		if (cli_source_option(&cmd_create, c, arg, &so))
			continue;
		switch (c) {
		case 'n': o.name = arg; break;
		case 'p': o.path = arg; break;
		case 't': o.type = arg; break;
		case 'v': o.model_version = arg; break;
		case 'f': file = arg; break;
		case OPT_DESCRIPTION: o.description = arg; break;
		case OPT_TAG: cli_add_kv(&cmd_create, "tag", &tags, &ntags, arg); break;
		case OPT_PROPERTY: cli_add_kv(&cmd_create, "property", &props, &nprops, arg); break;
		case OPT_STAGE: o.stage = arg; break;
		case OPT_NO_VALIDATE: o.no_validate = 1; break;
		case OPT_JSON: json = true; break;
		case OPT_COMMIT: o.commit = 1; break;
		case OPT_NO_COMMIT: o.commit = 0; break;
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_create, "unexpected argument '%s'", argv[optind]);
	if (mreg_diag_list_new(&diags))
		return cli_fail(MREG_ENOMEM);
	if (file) {
		/* What the command line names wins over the file, before the
		 * file's values are checked (a placeholder version with -v). */
		mreg_model_yml_options yo = MREG_MODEL_YML_OPTIONS_INIT;
		yo.name = o.name;
		yo.model_version = o.model_version;
		yo.type = o.type;
		yo.path = o.path;
		yo.description = o.description;
		yo.stage = o.stage;
		rc = mreg_model_yml_read_with(&yml, file, &yo, diags);
		if (rc) {
			cli_print_diags(diags, stderr);
			status = cli_fail(rc);
			goto done;
		}
		cli_print_diags(diags, stderr); /* notes about ignored fields */
		o.name = o.name ? o.name : yml->name;
		o.path = o.path ? o.path : yml->path;
		o.type = o.type ? o.type : yml->type;
		o.model_version = o.model_version ? o.model_version : yml->version;
		o.description = o.description ? o.description : yml->description;
		o.stage = o.stage ? o.stage : yml->stage;
		merge_kv(&tags, &ntags, yml->tags, yml->tag_count);
		merge_kv(&props, &nprops, yml->properties, yml->property_count);
	}
	if (!o.name) {
		status = cli_usage_error(&cmd_create, "no model name: give -n NAME (or name: in -f FILE)");
		goto done;
	}
	if (!o.path) {
		status = cli_usage_error(&cmd_create, "no model path: give -p PATH (or path: in -f FILE)");
		goto done;
	}
	if (mreg_name_check(o.name) || (o.model_version && mreg_version_check(o.model_version))) {
		status = cli_usage_error(&cmd_create, "%s", mreg_error_last());
		goto done;
	}
	/* A type no plugin knows is a usage error, as in 'mreg validate -t'. */
	if (o.type && !mreg_format_find(o.type)) {
		status = cli_unknown_type(&cmd_create, o.type);
		goto done;
	}
	o.tags = tags;
	o.tag_count = ntags;
	o.properties = props;
	o.property_count = nprops;
	if ((status = cli_open_store(&store)))
		goto done;
	/* A URL: fetched into the store's tmp/ first, then checked and landed from
	 * there. A version given with -v that exists already is refused before a
	 * byte is fetched (mreg_model_create checks it again under the lock). */
	if (o.model_version && mreg_source_is_remote(o.path)) {
		char ref[512];
		mreg_record *taken = NULL;
		snprintf(ref, sizeof(ref), "%s:%s", o.name, o.model_version);
		if (!mreg_model_get(&taken, store, ref)) {
			mreg_record_free(taken);
			cli_error("model %s version %s already exists (nothing fetched)", o.name,
				  o.model_version);
			status = EXIT_NO;
			goto done;
		}
	}
	if ((status = cli_source_fetch(&fetched, store, o.path, &so)))
		goto done;
	o.fetched = fetched;

	cli_progress_init(&progress, "storing");
	o.progress = cli_progress_cb;
	o.progress_ctx = &progress;
	mreg_diag_list_free(diags);
	mreg_diag_list_new(&diags);
	rc = mreg_model_create(&rec, store, &o, diags);
	cli_progress_done(&progress);
	/* Validation findings go to stderr: every one of them, errors or not. */
	cli_print_diags(diags, stderr);
	if (rc) {
		status = cli_fail(rc);
		goto done;
	}
	if (json) {
		status = cli_print_json(cli_record_json(rec, true));
	} else {
		char size[32];
		cli_human_size(size, sizeof(size), rec->total_size);
		printf("created %s:%s (%s, %zu file%s, %s, %s)\n", rec->name, rec->version, rec->type,
		       rec->file_count, rec->file_count == 1 ? "" : "s", size, rec->digest);
		note_same_content(store, rec);
		status = EXIT_OK;
	}
done:
	mreg_record_free(rec);
	mreg_fetched_free(fetched);
	cli_close_store(store);
	mreg_diag_list_free(diags);
	mreg_model_yml_free(yml);
	cli_free_kv(tags, ntags);
	cli_free_kv(props, nprops);
	return status;
}

const cli_command cmd_create = {
	.name = "create",
	.usage = "-n NAME -p PATH [-t TYPE] [-v VERSION] [OPTIONS] | -f model.yml [OPTIONS]",
	.summary = "Register a new model version: validate it, then store its files.",
	.details = "The model is checked by its type's plugin first (see 'mreg validate') and\n"
		   "refused with every diagnostic when it has errors. Each file is read once,\n"
		   "hashed and stored as a blob named by its SHA-256; files already stored cost\n"
		   "nothing. With -f, fields come from an Azure ML model YAML (path relative to\n"
		   "the file); flags given as well take precedence.\n"
		   "PATH may be a URL: https://HOST/FILE (one file, streamed into the store),\n"
		   "wasbs://CONTAINER@ACCOUNT.blob.core.windows.net/PATH or\n"
		   "https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH (a blob, or every blob\n"
		   "under a prefix as a folder; credentials from AZURE_STORAGE_CONNECTION_STRING,\n"
		   "AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN, else\n"
		   "anonymous), or azureml://datastores/NAME/paths/PATH (resolved through the\n"
		   "store's config.yaml datastores:). The record's source names the URL without\n"
		   "credentials or query.",
	.options = options,
	.lists_types = true,
	.run = run,
};

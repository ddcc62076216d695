#include <stdlib.h>
#include <string.h>

#include "commands.h"

enum { OPT_JSON = 256, OPT_FILES };

static const cli_option options[] = {
	{OPT_JSON, "json", NULL, "print the record as JSON"},
	{OPT_FILES, "files", NULL, "only the files, empty folders and links (with --json: those lists)"},
	CLI_COMMON_OPTIONS,
	{0},
};

static void print_kv(const char *title, const mreg_kv *kv, size_t n)
{
	printf("%-13s", title);
	if (n == 0)
		printf("-\n");
	for (size_t i = 0; i < n; i++)
		printf("%s%s=%s\n", i ? "             " : "", kv[i].key, kv[i].value);
}

/* The aliases naming this version, as a JSON array of strings. */
static int version_aliases(json_t **out, mreg_store *store, const mreg_record *r)
{
	mreg_kv *items = NULL;
	size_t n = 0;
	int rc = mreg_alias_list(&items, &n, store, r->name);

	*out = NULL;
	if (rc)
		return rc;
	*out = json_array();
	for (size_t i = 0; i < n; i++)
		if (!strcmp(items[i].value, r->version))
			json_array_append_new(*out, json_string(items[i].key));
	mreg_kv_array_free(items, n);
	return *out ? 0 : MREG_ENOMEM;
}

static void print_table(const mreg_record *r);

static const char *method_name(mreg_oms_method m)
{
	return m == MREG_OMS_METHOD_KEY ? "key"
	       : m == MREG_OMS_METHOD_CERTIFICATE ? "certificate"
	       : m == MREG_OMS_METHOD_SIGSTORE ? "sigstore" : NULL;
}

/* The kept OMS signatures, as show --json lists them. */
static json_t *signatures_json(const mreg_kept_signature *k, size_t n)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < n; i++)
		json_array_append_new(list, json_pack("{s:s?, s:s, s:s?, s:s?, s:s?}", "digest",
						      k[i].digest[0] ? k[i].digest : NULL, "path",
						      k[i].path, "method", method_name(k[i].method),
						      "hint", k[i].hint, "problem", k[i].problem));
	return list;
}

static void print_signatures(const mreg_kept_signature *k, size_t n)
{
	printf("%-13s", "signatures:");
	if (n == 0)
		printf("-\n");
	for (size_t i = 0; i < n; i++) {
		printf("%s%s", i ? "             " : "", k[i].digest[0] ? k[i].digest : k[i].path);
		if (k[i].problem)
			printf(" DAMAGED (mreg fsck)\n");
		else if (k[i].hint)
			printf(" OMS, %s method, key hint %.16s...\n", method_name(k[i].method),
			       k[i].hint);
		else
			printf(" OMS, %s method\n", method_name(k[i].method));
	}
}

static void print_record(const mreg_record *r, json_t *aliases, const mreg_kept_signature *sigs,
			 size_t sig_count)
{
	char size[32];

	cli_human_size(size, sizeof(size), r->total_size);
	printf("%-13s%s\n", "name:", r->name);
	printf("%-13s%s\n", "version:", r->version);
	printf("%-13s%s\n", "type:", r->type);
	printf("%-13s%s\n", "description:", r->description ? r->description : "-");
	printf("%-13s%s\n", "stage:", r->stage ? r->stage : "-");
	printf("%-13s", "aliases:");
	if (!json_array_size(aliases))
		printf("-");
	for (size_t i = 0; i < json_array_size(aliases); i++)
		printf("%s%s@%s", i ? ", " : "", r->name,
		       json_string_value(json_array_get(aliases, i)));
	printf("\n");
	print_kv("tags:", r->tags, r->tag_count);
	print_kv("properties:", r->properties, r->property_count);
	printf("%-13s%s\n", "created:", r->created_at);
	printf("%-13s%s\n", "status:", r->archived ? "archived" : "active");
	printf("%-13s%s (%s)\n", "source:", r->source.path ? r->source.path : "-",
	       r->source.kind ? r->source.kind : "?");
	if (r->source.git_commit) {
		printf("%-13s%s%s%s%s\n", "git:", r->source.git_commit,
		       r->source.git_branch ? " on " : "",
		       r->source.git_branch ? r->source.git_branch : "",
		       r->source.git_dirty == 1 ? " (dirty)" : "");
	}
	printf("%-13s%s\n", "digest:", r->digest);
	printf("%-13s%s in %zu file%s", "size:", size, r->file_count, r->file_count == 1 ? "" : "s");
	if (r->dir_count)
		printf(", %zu empty folder%s", r->dir_count, r->dir_count == 1 ? "" : "s");
	if (r->link_count)
		printf(", %zu link%s", r->link_count, r->link_count == 1 ? "" : "s");
	printf("\n");
	print_signatures(sigs, sig_count);
	if (r->format_json)
		printf("%-13s%s\n", "metadata:", r->format_json);
	printf("\n");
	print_table(r);
}

/* The tree, one line per entry in path order: files, empty folders (PATH/), links (-> TARGET). */
static void print_table(const mreg_record *r)
{
	size_t wpath = 4;

	for (size_t i = 0; i < r->file_count; i++)
		if (strlen(r->files[i].path) > wpath)
			wpath = strlen(r->files[i].path);
	for (size_t i = 0; i < r->dir_count; i++)
		if (strlen(r->dirs[i].path) + 1 > wpath)
			wpath = strlen(r->dirs[i].path) + 1;
	for (size_t i = 0; i < r->link_count; i++)
		if (strlen(r->links[i].path) > wpath)
			wpath = strlen(r->links[i].path);
	printf("%-4s  %10s  %-*s  %s\n", "MODE", "SIZE", (int)wpath, "PATH", "DIGEST");
	size_t fi = 0, di = 0, li = 0;
	while (fi < r->file_count || di < r->dir_count || li < r->link_count) {
		const char *fp = fi < r->file_count ? r->files[fi].path : NULL;
		const char *dp = di < r->dir_count ? r->dirs[di].path : NULL;
		const char *lp = li < r->link_count ? r->links[li].path : NULL;
		if (fp && (!dp || strcmp(fp, dp) < 0) && (!lp || strcmp(fp, lp) < 0)) {
			const mreg_file *f = &r->files[fi++];
			printf("%04o  %10llu  %-*s  %s\n", f->mode, (unsigned long long)f->size,
			       (int)wpath, f->path, f->digest);
		} else if (dp && (!lp || strcmp(dp, lp) < 0)) {
			const mreg_dir *d = &r->dirs[di++];
			printf("%04o  %10s  %s/%*s  %s\n", d->mode, "-", d->path,
			       (int)(wpath - strlen(d->path) - 1), "", "(empty folder)");
		} else {
			const mreg_link *l = &r->links[li++];
			printf("%-4s  %10s  %-*s  -> %s\n", "link", "-", (int)wpath, l->path,
			       l->target);
		}
	}
}

static int run(int argc, char **argv)
{
	mreg_store *store = NULL;
	mreg_record *rec = NULL;
	json_t *aliases = NULL;
	mreg_kept_signature *sigs = NULL;
	size_t sig_count = 0;
	mreg_ref ref;
	bool json = false, files = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_show, argc, argv, &arg)) != -1) {
		if (c == OPT_JSON)
			json = true;
		else if (c == OPT_FILES)
			files = true;
	}
	if (argc - optind != 1)
		return cli_usage_error(&cmd_show, "give one model: NAME, NAME:VERSION or NAME@latest");
	cli_parse_ref(&cmd_show, &ref, argv[optind]);
	mreg_ref_dispose(&ref);
	if ((status = cli_open_store(&store)))
		return status;
	rc = mreg_model_get(&rec, store, argv[optind]);
	if (rc) {
		status = cli_fail(rc);
	} else if ((rc = version_aliases(&aliases, store, rec)) ||
		   (!files && (rc = mreg_kept_signatures_list(&sigs, &sig_count, store, rec)))) {
		status = cli_fail(rc);
	} else if (json) {
		json_t *doc = cli_record_json(rec, true);
		if (doc && files) {
			/* The tree alone: the record's three lists. */
			json_t *tree = json_pack("{s:O, s:O, s:O}", "files",
						 json_object_get(doc, "files"), "dirs",
						 json_object_get(doc, "dirs"), "links",
						 json_object_get(doc, "links"));
			json_decref(doc);
			doc = tree;
		} else if (doc) {
			json_object_set_new(doc, "aliases", aliases);
			json_object_set_new(doc, "signatures", signatures_json(sigs, sig_count));
			aliases = NULL;
		}
		status = cli_print_json(doc);
	} else if (files) {
		print_table(rec);
	} else {
		print_record(rec, aliases, sigs, sig_count);
	}
	json_decref(aliases);
	mreg_kept_signatures_free(sigs, sig_count);
	mreg_record_free(rec);
	mreg_store_free(store);
	return status;
}

const cli_command cmd_show = {
	.name = "show",
	.usage = "NAME[:VERSION|@latest|@ALIAS] [--files] [--json]",
	.summary = "Show one model version (NAME alone means NAME@latest).",
	.details = "@latest is the most recently created version that is not archived.\n"
		   "'signatures:' lists the OMS signatures the store keeps with the version\n"
		   "(each by digest, method and the signer's key hint); 'mreg verify --pubkey\n"
		   "KEY.pem NAME:VERSION' checks them.",
	.options = options,
	.run = run,
};

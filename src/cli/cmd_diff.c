#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"

enum { OPT_JSON = 256 };

static const cli_option options[] = {
	{OPT_JSON, "json", NULL, "print the differences as JSON"},
	CLI_COMMON_OPTIONS,
	{0},
};

/* One side: a version of the store, or a folder or file on disk. */
typedef struct {
	const char *arg;
	mreg_record *record;
	bool is_path;
} operand;

/* A path on disk is a folder or file; anything else is a version reference. */
static int load(operand *op, mreg_store **store)
{
	struct stat st;
	int rc;

	if (lstat(op->arg, &st) == 0) {
		mreg_diag_list *diags = NULL;
		op->is_path = true;
		if ((rc = mreg_diag_list_new(&diags)))
			return cli_fail(rc);
		/* The store's stat cache spares reading unchanged files; no store
		 * here is no problem for a folder. */
		if (!*store && mreg_store_open(store, cli_store_dir)) {
			*store = NULL;
			mreg_error_clear();
		}
		rc = mreg_tree_scan_cached(&op->record, *store, op->arg, diags);
		/* Errors of the walk are printed as create prints them. */
		if (mreg_diag_count_severity(diags, MREG_DIAG_ERROR))
			cli_print_diags(diags, stderr);
		mreg_diag_list_free(diags);
		/* diff(1)'s rule: 1 means "they differ", every trouble is 2. */
		return rc ? (cli_fail(rc), EXIT_ERROR) : EXIT_OK;
	}
	if (!strchr(op->arg, ':') && !strchr(op->arg, '@') && strchr(op->arg, '/')) {
		cli_error("%s: no such file or folder", op->arg);
		return EXIT_ERROR;
	}
	if (!*store && cli_open_store(store))
		return EXIT_ERROR;
	if ((rc = mreg_model_get(&op->record, *store, op->arg)))
		return cli_fail(rc), EXIT_ERROR;
	return EXIT_OK;
}

static const char *change_name(mreg_diff_change c)
{
	return c == MREG_DIFF_ADDED ? "added" : c == MREG_DIFF_REMOVED ? "removed" : "modified";
}

/* "file 0644 12 B sha256:...", "folder 0755 (empty)", "link -> TARGET" */
static json_t *side_json(const char *kind, const mreg_file *f, const mreg_dir *d,
			 const mreg_link *l)
{
	char mode[8];

	if (f) {
		snprintf(mode, sizeof(mode), "%04o", f->mode);
		return json_pack("{s:s, s:I, s:s, s:s}", "kind", kind, "size", (json_int_t)f->size,
				 "mode", mode, "digest", f->digest);
	}
	if (d) {
		snprintf(mode, sizeof(mode), "%04o", d->mode);
		return json_pack("{s:s, s:s}", "kind", kind, "mode", mode);
	}
	if (l)
		return json_pack("{s:s, s:s}", "kind", kind, "target", l->target);
	return json_null();
}

static json_t *operand_json(const operand *op)
{
	return json_pack("{s:o, s:s, s:s}", "operand", cli_json_text(op->arg), "kind",
			 op->is_path ? "path" : "version", "digest", op->record->digest);
}

static int print_json(const operand *a, const operand *b, const mreg_diff *d)
{
	json_t *entries = json_array(), *fields = json_array();

	for (size_t i = 0; i < d->entry_count; i++) {
		const mreg_diff_entry *e = &d->entries[i];
		json_array_append_new(
			entries, json_pack("{s:s, s:s, s:o, s:o}", "path", e->path, "change",
					   change_name(e->change), "old",
					   side_json(e->old_kind, e->old_file, e->old_dir, e->old_link),
					   "new",
					   side_json(e->new_kind, e->new_file, e->new_dir, e->new_link)));
	}
	for (size_t i = 0; i < d->field_count; i++) {
		const mreg_diff_field *f = &d->fields[i];
		json_array_append_new(fields, json_pack("{s:s, s:s?, s:s?}", "field", f->field, "old",
							f->old_value, "new", f->new_value));
	}
	return cli_print_json(json_pack("{s:o, s:o, s:b, s:I, s:I, s:I, s:o, s:o}", "a",
					operand_json(a), "b", operand_json(b), "same",
					d->entry_count == 0 && d->field_count == 0, "added",
					(json_int_t)d->added, "removed", (json_int_t)d->removed,
					"modified", (json_int_t)d->modified, "entries", entries,
					"metadata", fields));
}

static void describe(char *buf, size_t len, const char *kind, const mreg_file *f,
		     const mreg_dir *d, const mreg_link *l)
{
	char size[32];

	if (f) {
		cli_human_size(size, sizeof(size), f->size);
		snprintf(buf, len, "%s, %04o, %.19s...", size, f->mode, f->digest);
	} else if (d) {
		snprintf(buf, len, "empty folder, %04o", d->mode);
	} else if (l) {
		snprintf(buf, len, "link -> %s", l->target);
	} else {
		snprintf(buf, len, "%s", kind ? kind : "-");
	}
}

static void print_text(const operand *a, const operand *b, const mreg_diff *d)
{
	char was[600], now[600];

	printf("--- %s\n+++ %s\n", a->arg, b->arg);
	for (size_t i = 0; i < d->entry_count; i++) {
		const mreg_diff_entry *e = &d->entries[i];
		describe(was, sizeof(was), e->old_kind, e->old_file, e->old_dir, e->old_link);
		describe(now, sizeof(now), e->new_kind, e->new_file, e->new_dir, e->new_link);
		if (e->change == MREG_DIFF_ADDED)
			printf("A  %s  (%s)\n", e->path, now);
		else if (e->change == MREG_DIFF_REMOVED)
			printf("D  %s  (%s)\n", e->path, was);
		else
			printf("M  %s  (%s -> %s)\n", e->path, was, now);
	}
	for (size_t i = 0; i < d->field_count; i++) {
		const mreg_diff_field *f = &d->fields[i];
		printf("~  %s: %s -> %s\n", f->field, f->old_value ? f->old_value : "(unset)",
		       f->new_value ? f->new_value : "(unset)");
	}
	if (d->entry_count == 0 && d->field_count == 0)
		printf("same content (%s)\n", a->record->digest);
	else
		printf("%zu added, %zu removed, %zu modified%s\n", d->added, d->removed, d->modified,
		       d->field_count ? ", metadata differs" : "");
}

static int run(int argc, char **argv)
{
	operand a = {0}, b = {0};
	mreg_store *store = NULL;
	mreg_diff d = {0};
	bool json = false;
	char *arg;
	int c, rc, status;

	while ((c = cli_next_option(&cmd_diff, argc, argv, &arg)) != -1) {
		if (c == OPT_JSON)
			json = true;
	}
	if (argc - optind != 2)
		return cli_usage_error(&cmd_diff, "give two operands: versions (NAME:VERSION, "
				       "NAME@latest) or folders");
	a.arg = argv[optind];
	b.arg = argv[optind + 1];
	if ((status = load(&a, &store)) || (status = load(&b, &store)))
		goto done;
	/* Metadata belongs to versions: a folder has none to compare. */
	if ((rc = mreg_diff_records(&d, a.record, b.record, !a.is_path && !b.is_path))) {
		cli_fail(rc);
		status = EXIT_ERROR;
		goto done;
	}
	if (json)
		print_json(&a, &b, &d);
	else
		print_text(&a, &b, &d);
	status = d.entry_count || d.field_count ? EXIT_NO : EXIT_OK;
done:
	mreg_diff_dispose(&d);
	mreg_record_free(a.record);
	mreg_record_free(b.record);
	mreg_store_free(store);
	return status;
}

static const char details[] =
	"Each operand is a version of the store (NAME:VERSION, NAME@latest, NAME) or a\n"
	"folder or file on disk (hashed on the spot, nothing written: what 'mreg create'\n"
	"would record). An operand that exists on disk is a path; write ./NAME for a\n"
	"folder named like a model. One line per path that differs, in path order:\n"
	"  A  PATH  (what it is)           only in the second\n"
	"  D  PATH  (what it was)          only in the first\n"
	"  M  PATH  (what it was -> is)    content, mode, kind or link target differ\n"
	"and, between two versions, one line per metadata field that differs (type,\n"
	"description, stage, tag.KEY, property.KEY). 'mreg diff NAME@latest ./model'\n"
	"says what a new version made from ./model would change.\n"
	"Exit status 0 when they are the same, 1 when they differ, 2 on an error, as\n"
	"diff(1).";

const cli_command cmd_diff = {
	.name = "diff",
	.usage = "A B [-q] [--json]",
	.summary = "Show what differs between two versions or folders (files, modes, links, metadata).",
	.details = details,
	.options = options,
	.run = run,
};

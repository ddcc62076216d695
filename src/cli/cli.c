#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

const char *cli_store_dir;

static size_t count_options(const cli_option *o)
{
	size_t n = 0;
	while (o[n].name)
		n++;
	return n;
}

bool cli_quiet;

/* Everything a command prints on standard output goes to /dev/null from now on. */
static void go_quiet(void)
{
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	cli_quiet = true;
	fflush(stdout);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		close(null);
	}
}

/* getopt's value for old spelling @i of the command. */
#define OLD_VAL(i) (3000 + (int)(i))

/* Notes about old spellings, printed once all options are read (after a -q). */
static char old_notes[4][160];
static size_t old_note_count;

/* An old spelling was used: the option it stands for; its note waits for the end. */
static int old_spelling(const cli_command *cmd, int c, const char *used)
{
	const cli_old_spelling *old = &cmd->old_spellings[c - OLD_VAL(0)];
	const char *now = "?";

	for (const cli_option *o = cmd->options; o->name; o++)
		if (o->key == old->key)
			now = o->name;
	if (old_note_count < sizeof(old_notes) / sizeof(*old_notes))
		snprintf(old_notes[old_note_count++], sizeof(*old_notes),
			 "mreg %s: note: '%.20s' is the old spelling of --%s; it will stop working "
			 "in a later release",
			 cmd->name, used, now);
	return old->key;
}

static void flush_old_notes(void)
{
	for (size_t i = 0; i < old_note_count && !cli_quiet; i++)
		fprintf(stderr, "%s\n", old_notes[i]);
	old_note_count = 0;
}

int cli_next_option(const cli_command *cmd, int argc, char **argv, char **optarg_out)
{
	struct option longs[96];
	char shorts[200];
	size_t n = count_options(cmd->options), k = 0, l = 0;
	int c;

	if (n >= 63)
		abort(); /* a programming error in a command table */
	shorts[k++] = ':'; /* report a missing value as ':' */
	for (size_t i = 0; i < n; i++) {
		const cli_option *o = &cmd->options[i];
		longs[l++] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
					     o->key};
		if (o->key < 256) {
			shorts[k++] = (char)o->key;
			if (o->arg)
				shorts[k++] = ':';
		}
	}
	/* Old spellings: a long one maps to OLD_VAL(i); a short one is looked up on return. */
	for (size_t i = 0; cmd->old_spellings && cmd->old_spellings[i].key; i++) {
		const cli_old_spelling *old = &cmd->old_spellings[i];
		const cli_option *o = cmd->options;
		while (o->name && o->key != old->key)
			o++;
		if (!o->name || l + 2 >= sizeof(longs) / sizeof(*longs))
			abort(); /* an old spelling of no option: a programming error */
		if (old->old_name)
			longs[l++] = (struct option){old->old_name,
						     o->arg ? required_argument : no_argument, NULL,
						     OLD_VAL(i)};
		if (old->old_key) {
			shorts[k++] = (char)old->old_key;
			if (o->arg)
				shorts[k++] = ':';
		}
	}
	shorts[k] = '\0';
	longs[l] = (struct option){0};

	for (;;) {
		int at = optind;
		c = getopt_long(argc, argv, shorts, longs, NULL);
		if (c == -1) {
			flush_old_notes();
			return -1;
		}
		for (size_t i = 0; c > 0 && c < 256 && cmd->old_spellings && cmd->old_spellings[i].key;
		     i++)
			if (cmd->old_spellings[i].old_key == c)
				c = OLD_VAL(i);
		if (c >= OLD_VAL(0))
			c = old_spelling(cmd, c, at < argc ? argv[at] : "?");
		if (c == '?') {
			if (optopt)
				exit(cli_usage_error(cmd, "unknown option '-%c'", optopt));
			exit(cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]));
		}
		if (c == ':')
			exit(cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]));
		if (c == CLI_OPT_HELP) {
			cli_print_help(cmd, stdout);
			exit(EXIT_OK);
		}
		if (c == CLI_OPT_STORE) {
			cli_store_dir = optarg;
			continue;
		}
		if (c == CLI_OPT_QUIET) {
			go_quiet();
			continue;
		}
		*optarg_out = optarg;
		return c;
	}
}

void cli_print_help(const cli_command *cmd, FILE *f)
{
	fprintf(f, "Usage: mreg %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->details)
		fprintf(f, "\n%s\n", cmd->details);
	fprintf(f, "\nOptions:\n");
	for (const cli_option *o = cmd->options; o->name; o++) {
		char left[64];
		if (o->key < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		if (strlen(left) > 24)
			fprintf(f, "  %s\n  %-24s  %s\n", left, "", o->help);
		else
			fprintf(f, "  %-24s  %s\n", left, o->help);
	}
	if (cmd->lists_types) {
		fprintf(f, "\nModel types:\n");
		for (size_t i = 0; i < mreg_format_count(); i++)
			fprintf(f, "  %-24s  %s\n", mreg_format_at(i)->name,
				mreg_format_at(i)->summary);
	}
	fprintf(f, "\nExit status: 0 ok, 1 a negative answer (invalid, not found, failed "
		   "check), 2 usage or runtime error.\nSee mreg-%s(1).\n",
		cmd->man_page ? cmd->man_page : cmd->name);
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mreg %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: mreg %s %s (see 'mreg %s --help')\n", cmd->name, cmd->usage,
		cmd->name);
	return EXIT_ERROR;
}

int cli_unknown_type(const cli_command *cmd, const char *type)
{
	char known[256] = "", guess[64] = "";
	size_t len = strlen(type);

	for (size_t i = 0; i < mreg_format_count(); i++) {
		const char *name = mreg_format_at(i)->name;
		size_t used = strlen(known);
		snprintf(known + used, sizeof(known) - used, "%s%s", i ? ", " : "", name);
		/* "mlflow" for mlflow_model, "Triton" for triton_model */
		if (!guess[0] && len && !strncasecmp(name, type, len))
			snprintf(guess, sizeof(guess), "; did you mean %s?", name);
	}
	return cli_usage_error(cmd, "unknown model type '%s' (known: %s%s)", type, known, guess);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("mreg: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The signal that asked us to stop, for the exit status (128 + it, as shells do). */
static volatile sig_atomic_t caught_signal;

static void on_signal(int sig)
{
	if (caught_signal) {
		/* A second one: stop now, as the user insists. */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	caught_signal = sig;
	mreg_interrupt();
}

void cli_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a read waiting for a slow source returns, and the
	 * copy notices the request at its next step. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int cli_exit_status(int rc)
{
	switch (rc) {
	case MREG_OK: return EXIT_OK;
	case MREG_EINTERRUPTED: return 128 + (caught_signal ? caught_signal : SIGINT);
	case MREG_ENOTFOUND:
	case MREG_EEXISTS:
	case MREG_EINVALID:
	case MREG_ECORRUPT:
	case MREG_EAUTH: return EXIT_NO;
	default: return EXIT_ERROR;
	}
}

int cli_fail(int rc)
{
	cli_error("%s", mreg_error_last());
	return cli_exit_status(rc);
}

int cli_check_rename(const cli_command *cmd, const char *name, const char *version)
{
	if ((name && mreg_name_check(name)) || (version && mreg_version_check(version)))
		return cli_usage_error(cmd, "%s", mreg_error_last());
	return EXIT_OK;
}

int cli_open_store(mreg_store **out)
{
	int rc = mreg_store_open(out, cli_store_dir);

	if (rc) {
		cli_error("%s", mreg_error_last());
		/* No store is a setup problem, not an answer about a model. */
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

void cli_litter_note(void *ctx, const char *path)
{
	cli_error("note: removed %s, left by an interrupted %s", path, (const char *)ctx);
}

void cli_close_store(mreg_store *store)
{
	const char *warning = mreg_store_warning(store);

	if (warning)
		cli_error("warning: %s", warning);
	mreg_store_free(store);
}

void cli_add_kv(const cli_command *cmd, const char *what, mreg_kv **items, size_t *count,
		const char *text)
{
	const char *eq = strchr(text, '=');
	mreg_kv *n;

	if (eq == text)
		exit(cli_usage_error(cmd, "%s '%s': the key before '=' is empty", what, text));
	n = realloc(*items, (*count + 1) * sizeof(*n));
	if (!n) {
		cli_error("out of memory");
		exit(EXIT_ERROR);
	}
	*items = n;
	n[*count].key = eq ? strndup(text, (size_t)(eq - text)) : strdup(text);
	n[*count].value = strdup(eq ? eq + 1 : "");
	(*count)++;
}

void cli_free_kv(mreg_kv *items, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(items[i].key);
		free(items[i].value);
	}
	free(items);
}

void cli_human_size(char *buf, size_t len, uint64_t bytes)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

int cli_print_json(json_t *doc)
{
	int rc;

	if (!doc) {
		cli_error("out of memory");
		return EXIT_ERROR;
	}
	rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(doc);
	return rc ? EXIT_ERROR : EXIT_OK;
}

json_t *cli_record_json(const mreg_record *r, bool with_files)
{
	char *text = NULL;
	json_t *v;

	if (mreg_record_to_json(&text, r))
		return NULL;
	v = json_loads(text, 0, NULL);
	free(text);
	if (v && !with_files) {
		json_object_del(v, "files");
		json_object_del(v, "dirs");
		json_object_del(v, "links");
		json_object_set_new(v, "file_count", json_integer((json_int_t)r->file_count));
	}
	return v;
}

void cli_print_diags(const mreg_diag_list *diags, FILE *f)
{
	for (size_t i = 0; i < mreg_diag_count(diags); i++) {
		char *line;
		/* -q: errors only. */
		if (cli_quiet && mreg_diag_get(diags, i)->severity != MREG_DIAG_ERROR)
			continue;
		line = mreg_diag_format(mreg_diag_get(diags, i));
		if (line)
			fprintf(f, "%s\n", line);
		free(line);
	}
}

json_t *cli_json_text(const char *s)
{
	json_t *j = json_string(s), *seq;
	size_t len = strlen(s), n = 0, k;
	char *out;

	if (j || !(out = malloc(len * 4 + 1)))
		return j;
	for (size_t i = 0; i < len; i += k) {
		unsigned char c = (unsigned char)s[i];
		/* The sequence the lead byte announces, kept when jansson accepts it. */
		k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		if (k > 1 && i + k <= len && (seq = json_stringn(s + i, k))) {
			json_decref(seq);
			memcpy(out + n, s + i, k);
			n += k;
		} else {
			k = 1;
			n += (size_t)sprintf(out + n, c < 0x80 ? "%c" : "\\x%02x", c);
		}
	}
	out[n] = '\0';
	j = json_string(out);
	free(out);
	return j;
}

json_t *cli_diags_json(const mreg_diag_list *diags)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < mreg_diag_count(diags); i++) {
		const mreg_diag *d = mreg_diag_get(diags, i);
		/* File names and messages come from the model: not always UTF-8. */
		json_array_append_new(a, json_pack("{s:s, s:o, s:i, s:i, s:s, s:o}", "severity",
						   mreg_diag_severity_name(d->severity), "file",
						   cli_json_text(d->file), "line", (int)d->line,
						   "column", (int)d->column, "code", d->code,
						   "message", cli_json_text(d->message)));
	}
	return a;
}

void cli_parse_ref(const cli_command *cmd, mreg_ref *out, const char *text)
{
	if (mreg_ref_parse(out, text) != 0)
		exit(cli_usage_error(cmd, "%s", mreg_error_last()));
}

void cli_warn_dropped_signatures(const mreg_record *r, size_t dropped, const char *why)
{
	if (!dropped || cli_quiet)
		return;
	fprintf(stderr, "mreg: warning: %zu OMS signature%s that came with %s:%s not kept: %s\n",
		dropped, dropped == 1 ? "" : "s", r->name, r->version, why);
}

void cli_report_kept_signatures(const mreg_record *r, size_t kept, size_t dropped,
				const char *why)
{
	if (kept)
		printf("kept %zu OMS signature%s with %s:%s (mreg show lists them)\n", kept,
		       kept == 1 ? "" : "s", r->name, r->version);
	cli_warn_dropped_signatures(r, dropped, why);
}

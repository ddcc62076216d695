/* Shared pieces of the mreg command line: option tables, output, exit codes. */
#ifndef MREG_CLI_H
#define MREG_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "mreg.h"

/* Exit statuses (DESIGN.md): 0 ok, 1 a negative answer, 2 usage or runtime error. */
enum { EXIT_OK = 0, EXIT_NO = 1, EXIT_ERROR = 2 };

/*
 * One option: drives getopt_long, --help and the completion scripts. Each
 * short letter and long name means one thing in every command (mreg(1),
 * OPTIONS; tests/cli/help.bats checks it).
 */
typedef struct {
	int key;            /* short option character, or a value >= 256 for long-only */
	const char *name;   /* long name */
	const char *arg;    /* argument placeholder, NULL for a flag */
	const char *help;
} cli_option;

/*
 * An old spelling of an option, from before the grammar was made one: still
 * accepted for a release, with a note on stderr, and shown nowhere (not in
 * --help, the man pages or the completion scripts).
 */
typedef struct {
	int old_key;          /* the old short letter, or 0 */
	const char *old_name; /* the old long name, or NULL */
	int key;              /* the option it now is (cli_option.key) */
} cli_old_spelling;

/* A subcommand. */
typedef struct {
	const char *name;
	const char *usage;    /* after "mreg NAME " */
	const char *summary;  /* one line */
	const char *details;  /* paragraphs for --help, may be NULL */
	const cli_option *options; /* terminated by {0} */
	const cli_old_spelling *old_spellings; /* terminated by {0}; may be NULL */
	bool lists_types;     /* --help lists the model types of the format table */
	const char *man_page; /* its man page is mreg-MAN_PAGE(1); NULL: mreg-NAME(1) */
	int (*run)(int argc, char **argv);
} cli_command;

/* Options every command accepts: -q, --help, and (those with a store) --store. */
#define CLI_OPT_STORE 1000
#define CLI_OPT_HELP 'h'
#define CLI_OPT_QUIET 'q'
#define CLI_QUIET_OPTION                                                                    \
	{                                                                                   \
		CLI_OPT_QUIET, "quiet", NULL, "print nothing but errors (on stderr); the exit " \
					      "status tells the rest"                       \
	}
#define CLI_HELP_OPTION                                                                     \
	{                                                                                   \
		CLI_OPT_HELP, "help", NULL, "show this help"                                \
	}
#define CLI_COMMON_OPTIONS                                                                  \
	{CLI_OPT_STORE, "store", "DIR", "use the store at DIR (default: $MREG_DIR, else the " \
					"nearest .mreg/)"},                                  \
	CLI_QUIET_OPTION, CLI_HELP_OPTION

/* -q was given: standard output goes nowhere, and notes, warnings and progress are not shown. */
extern bool cli_quiet;

/* The store chosen with --store (or NULL: discover). */
extern const char *cli_store_dir;

/*
 * getopt_long over @cmd's options. Returns the next option key, -1 at the
 * end (then *optind_out is the first operand), or exits: 0 after --help, 2
 * on a usage error. --store is handled here.
 */
int cli_next_option(const cli_command *cmd, int argc, char **argv, char **optarg_out);

/* Print the command's help to @f. */
void cli_print_help(const cli_command *cmd, FILE *f);

/* "mreg CMD: message" + hint on stderr; returns EXIT_ERROR. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A -t TYPE no plugin knows: the usage error, listing the types (and a guess). */
int cli_unknown_type(const cli_command *cmd, const char *type);

/* "mreg: <last libmreg error>" on stderr; returns the exit status for @rc. */
int cli_fail(int rc);

/* "mreg: message" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The exit status for a libmreg code. */
int cli_exit_status(int rc);

/*
 * SIGINT, SIGTERM and SIGHUP ask libmreg to stop (mreg_interrupt()): the
 * command undoes what it began and exits with 128 + the signal. A second
 * signal stops at once.
 */
void cli_catch_signals(void);

/*
 * -n NAME / -v VERSION of import, unpack and pull: EXIT_OK when each given one
 * follows the naming rules, else the usage error (printed) and its status.
 */
int cli_check_rename(const cli_command *cmd, const char *name, const char *version);

/*
 * mreg_litter_fn for download and package: "mreg: note: removed PATH, left by
 * an interrupted <ctx>" on stderr (@ctx is the command's name).
 */
void cli_litter_note(void *ctx, const char *path);

/* Open the store (honouring --store); prints the error itself. */
int cli_open_store(mreg_store **out);

/*
 * Close a store a command wrote to: first "mreg: warning: ..." on stderr when
 * a change was made but not confirmed durable (mreg_store_warning()).
 */
void cli_close_store(mreg_store *store);

/* Parse "K=V" (or "K", value "") into a growing array. Exits 2 on a bad pair. */
void cli_add_kv(const cli_command *cmd, const char *what, mreg_kv **items, size_t *count,
		const char *text);
void cli_free_kv(mreg_kv *items, size_t count);

/* Human sizes: "12.3 MiB". */
void cli_human_size(char *buf, size_t len, uint64_t bytes);

/* Print a JSON document on stdout (indented, newline-terminated) and free it. */
int cli_print_json(json_t *doc);

/*
 * A JSON string for text that may not be UTF-8 (a path or message from a
 * model on disk): each byte that is not part of a valid UTF-8 sequence is
 * written as \xHH, as the text output shows it. NULL only without memory.
 */
json_t *cli_json_text(const char *s);

/* A record as a jansson value (parsed from mreg_record_to_json). */
json_t *cli_record_json(const mreg_record *record, bool with_files);

/* Diagnostics: one line each on @f (errors only after -q); as JSON. */
void cli_print_diags(const mreg_diag_list *diags, FILE *f);
json_t *cli_diags_json(const mreg_diag_list *diags);

/* Progress on stderr when it is a terminal: callback for libmreg. */
typedef struct {
	bool enabled;
	const char *label;
	double start;
	double last;
	double delay;   /* seconds before the line first shows: MREG_PROGRESS_DELAY, else 0.3 */
	bool shown;
} cli_progress;

void cli_progress_init(cli_progress *p, const char *label);
void cli_progress_cb(void *ctx, uint64_t done, uint64_t total);
void cli_progress_done(cli_progress *p);

/* Parse a model reference (NAME, NAME:VERSION, NAME@latest); exits 2 when malformed. */
void cli_parse_ref(const cli_command *cmd, mreg_ref *out, const char *text);

/*
 * import and pull: "kept N OMS signatures with NAME:V" on stdout, and a
 * warning on stderr (unless -q) naming why the first of @dropped was not kept.
 */
void cli_report_kept_signatures(const mreg_record *r, size_t kept, size_t dropped,
				const char *why);
/* The warning alone (for --json, whose stdout is one document). */
void cli_warn_dropped_signatures(const mreg_record *r, size_t dropped, const char *why);

#endif

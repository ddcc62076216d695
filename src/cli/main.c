/* mreg: the command table and global options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

const cli_command *const cli_commands[] = {
	&cmd_init, &cmd_create, &cmd_list, &cmd_show, &cmd_diff, &cmd_alias, &cmd_update, &cmd_archive, &cmd_restore,
	&cmd_delete, &cmd_download, &cmd_log, &cmd_validate, &cmd_fsck, &cmd_gc, &cmd_package,
	&cmd_import, &cmd_unpack, &cmd_sign, &cmd_verify, &cmd_keygen, &cmd_push, &cmd_pull,
	&cmd_completion, NULL,
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: mreg [--store DIR] COMMAND [OPTIONS] [ARGS]\n\n"
		   "Version, check and ship machine-learning models: a registry of named,\n"
		   "versioned models in a content-addressed local store.\n\nCommands:\n");
	for (size_t i = 0; cli_commands[i]; i++)
		fprintf(f, "  %-10s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
	fprintf(f, "\nGlobal options:\n"
		   "  --store DIR   use the store at DIR (default: $MREG_DIR, else the nearest .mreg/)\n"
		   "  -h, --help    show this help ('mreg COMMAND --help' for a command)\n"
		   "  --version     print the version\n\n"
		   "Exit status: 0 ok, 1 a negative answer (invalid, not found, failed check),\n"
		   "2 usage or runtime error. See mreg(1), mreg-COMMAND(1) and mreg-store(5).\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("mreg %s\n", mreg_version_string());
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--store") && i + 1 < argc) {
			cli_store_dir = argv[i + 1];
			i += 2;
			continue;
		}
		if (!strncmp(argv[i], "--store=", 8)) {
			cli_store_dir = argv[i] + 8;
			i++;
			continue;
		}
		/* One line, not the whole help: the way out is in it. */
		fprintf(stderr,
			"mreg: unknown option '%s' before the command (global options: --store DIR, "
			"--help, --version; a command's own options follow it: see 'mreg --help')\n",
			argv[i]);
		return EXIT_ERROR;
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_ERROR;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 < argc) {
			for (size_t k = 0; cli_commands[k]; k++)
				if (!strcmp(cli_commands[k]->name, argv[i + 1])) {
					cli_print_help(cli_commands[k], stdout);
					return EXIT_OK;
				}
		}
		usage(stdout);
		return EXIT_OK;
	}
	cli_catch_signals();
	for (size_t k = 0; cli_commands[k]; k++)
		if (!strcmp(cli_commands[k]->name, argv[i]))
			return cli_commands[k]->run(argc - i, argv + i);
	fprintf(stderr, "mreg: '%s' is not a command (see 'mreg --help')\n", argv[i]);
	return EXIT_ERROR;
}

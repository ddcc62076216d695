/* The subcommands, one file each (cmd_<name>.c). */
#ifndef MREG_COMMANDS_H
#define MREG_COMMANDS_H

#include "cli.h"

extern const cli_command cmd_init;
extern const cli_command cmd_create;
extern const cli_command cmd_list;
extern const cli_command cmd_show;
extern const cli_command cmd_update;
extern const cli_command cmd_archive;
extern const cli_command cmd_restore;
extern const cli_command cmd_delete;
extern const cli_command cmd_download;
extern const cli_command cmd_validate;
extern const cli_command cmd_fsck;
extern const cli_command cmd_gc;
extern const cli_command cmd_log;
extern const cli_command cmd_package;
extern const cli_command cmd_import;
extern const cli_command cmd_unpack;
extern const cli_command cmd_verify;
extern const cli_command cmd_keygen;
extern const cli_command cmd_sign;
extern const cli_command cmd_push;
extern const cli_command cmd_pull;
extern const cli_command cmd_diff;
extern const cli_command cmd_alias;
extern const cli_command cmd_completion;

/* Every command, in --help order, NULL-terminated (main.c). */
extern const cli_command *const cli_commands[];

#endif

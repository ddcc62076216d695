/* What push and pull share: the registry options and their parsing. */
#ifndef MREG_REMOTE_CLI_H
#define MREG_REMOTE_CLI_H

#include "cli.h"

enum { OPT_PLAIN_HTTP = 300, OPT_CA_FILE, OPT_RETRIES, OPT_REMOTE_JSON };

#define CLI_REMOTE_OPTIONS                                                                 \
	{OPT_PLAIN_HTTP, "plain-http", NULL,                                               \
	 "speak http:// instead of https:// (a registry on this machine)"},                \
	{OPT_CA_FILE, "ca-file", "FILE", "trust the CAs in this PEM file instead of the system's"}, \
	{OPT_RETRIES, "retries", "N", "attempts after a network failure or 5xx (default 3)"},      \
	{OPT_REMOTE_JSON, "json", NULL, "print what was done as JSON"}

/* Options of create and validate for a model at a URL (mreg/source.h). */
enum { OPT_SOURCE_PLAIN_HTTP = 320, OPT_SOURCE_CA_FILE, OPT_SOURCE_RETRIES, OPT_FILE_NAME };

#define CLI_SOURCE_OPTIONS                                                                 \
	{OPT_SOURCE_PLAIN_HTTP, "plain-http", NULL,                                        \
	 "allow an http:// model URL and redirects to http:// (clear text)"},              \
	{OPT_SOURCE_CA_FILE, "ca-file", "FILE",                                            \
	 "trust the CAs in this PEM file instead of the system's"},                        \
	{OPT_SOURCE_RETRIES, "retries", "N",                                               \
	 "attempts after a cut transfer or 5xx, resuming with Range (default 4)"},         \
	{OPT_FILE_NAME, "file-name", "NAME", "the name of the file a URL gives (default: "  \
	 "Content-Disposition, else the URL's)"}

/* Take one of the CLI_SOURCE_OPTIONS into @o; false when @key is not one. */
bool cli_source_option(const cli_command *cmd, int key, const char *arg, mreg_source_options *o);

/*
 * Fetch @path when it is a URL (into @store's tmp/, or $TMPDIR without one),
 * *out stays NULL for a local path. Returns an exit
 * status (EXIT_OK, or the failure printed).
 */
int cli_source_fetch(mreg_fetched **out, mreg_store *store, const char *path,
		     const mreg_source_options *o);

/*
 * Take one of the CLI_REMOTE_OPTIONS into @o (and *json). Returns true when
 * @key was one of them; exits with a usage error on a bad value.
 */
bool cli_remote_option(const cli_command *cmd, int key, const char *arg, mreg_remote_options *o,
		       bool *json);

/* The report of a push or pull as JSON. */
json_t *cli_remote_json(const mreg_remote_info *info, const mreg_record *r);

#define CLI_REMOTE_DETAILS                                                                 \
	"Credentials: $MREG_REGISTRY_USERNAME and $MREG_REGISTRY_PASSWORD (for\n"         \
	"$MREG_REGISTRY_HOST only, when set), else $REGISTRY_AUTH_FILE, else\n"           \
	"$DOCKER_CONFIG/config.json or ~/.docker/config.json (as docker, podman and\n"    \
	"skopeo login write them); never on the command line.\n"                          \
	"Basic and Bearer-token authentication, TLS verified unless --plain-http."

#endif

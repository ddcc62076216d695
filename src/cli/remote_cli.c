#include <stdlib.h>
#include <string.h>

#include "remote_cli.h"

static unsigned int parse_retries(const cli_command *cmd, const char *arg)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 10);

	if (!*arg || *end || n > 20)
		cli_usage_error(cmd, "--retries: a number from 0 to 20, not '%s'", arg), exit(EXIT_ERROR);
	return (unsigned int)n;
}

bool cli_remote_option(const cli_command *cmd, int key, const char *arg, mreg_remote_options *o,
		       bool *json)
{
	switch (key) {
	case OPT_PLAIN_HTTP: o->plain_http = 1; return true;
	case OPT_CA_FILE: o->ca_file = arg; return true;
	case OPT_REMOTE_JSON: *json = true; return true;
	case OPT_RETRIES: o->retries = parse_retries(cmd, arg); return true;
	default: return false;
	}
}

bool cli_source_option(const cli_command *cmd, int key, const char *arg, mreg_source_options *o)
{
	switch (key) {
	case OPT_SOURCE_PLAIN_HTTP: o->plain_http = 1; return true;
	case OPT_SOURCE_CA_FILE: o->ca_file = arg; return true;
	case OPT_SOURCE_RETRIES: o->retries = parse_retries(cmd, arg); return true;
	case OPT_FILE_NAME: o->file_name = arg; return true;
	default: return false;
	}
}

int cli_source_fetch(mreg_fetched **out, mreg_store *store, const char *path,
		     const mreg_source_options *o)
{
	mreg_source_options with_progress = *o;
	cli_progress progress;
	int rc;

	*out = NULL;
	if (!mreg_source_is_remote(path))
		return EXIT_OK;
	/* A line on a terminal while the model arrives, as while it is stored. */
	cli_progress_init(&progress, "fetching");
	with_progress.progress = cli_progress_cb;
	with_progress.progress_ctx = &progress;
	rc = mreg_source_fetch(out, store, path, &with_progress);
	cli_progress_done(&progress);
	if (rc)
		return cli_fail(rc);
	return EXIT_OK;
}

json_t *cli_remote_json(const mreg_remote_info *info, const mreg_record *r)
{
	const char *reference = info->reference;
	return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:I, s:I, s:I, s:I, s:b, s:I, s:b, s:b}",
			 "reference", reference, "name", r->name, "version", r->version,
			 "manifest_digest", info->manifest_digest, "tag",
			 info->tag[0] ? info->tag : NULL, "blobs", (json_int_t)info->blobs,
			 "blobs_moved", (json_int_t)info->blobs_moved, "bytes_moved",
			 (json_int_t)info->bytes_moved, "blobs_resumed",
			 (json_int_t)info->blobs_resumed, "unchanged", info->unchanged != 0,
			 "oms_signatures", (json_int_t)info->oms_signatures, "oms_verified",
			 info->oms_verified != 0, "referrers_api", info->referrers_api != 0);
}

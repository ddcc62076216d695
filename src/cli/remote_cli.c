#include <stdlib.h>
#include <string.h>

#include "remote_cli.h"

bool cli_remote_option(const cli_command *cmd, int key, const char *arg, mreg_remote_options *o,
		       bool *json)
{
	char *end;
	unsigned long n;

	switch (key) {
	case OPT_PLAIN_HTTP: o->plain_http = 1; return true;
	case OPT_CA_FILE: o->ca_file = arg; return true;
	case OPT_REMOTE_JSON: *json = true; return true;
	case OPT_RETRIES:
		n = strtoul(arg, &end, 10);
		if (!*arg || *end || n > 20)
			cli_usage_error(cmd, "--retries: a number from 0 to 20, not '%s'", arg), exit(EXIT_ERROR);
		o->retries = (unsigned int)n;
		return true;
	default: return false;
	}
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

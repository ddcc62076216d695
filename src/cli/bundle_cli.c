/* Passphrases, keys and reports for package, import, unpack, verify and keygen. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "bundle_cli.h"

/* One line from the terminal with echo off; the line ending is dropped. */
static int read_tty(int fd, const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	bool restore = tcgetattr(fd, &old) == 0;
	size_t n = 0;
	int rc = 0;

	if (write(fd, prompt, strlen(prompt)) < 0)
		return -1;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n' || c == '\r')
			break;
		if (n + 1 >= size) {
			rc = -2; /* too long: keep reading to the end of the line */
			continue;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	if (restore)
		tcsetattr(fd, TCSANOW, &old);
	return rc;
}

int cli_passphrase(char *buf, size_t size, const char *prompt, bool confirm)
{
	const char *env = getenv(CLI_PASSPHRASE_ENV);
	char *again;
	int fd, rc = EXIT_OK;

	if (env) {
		if (strlen(env) >= size) {
			cli_error("$%s is too long", CLI_PASSPHRASE_ENV);
			return EXIT_ERROR;
		}
		strcpy(buf, env);
		return EXIT_OK;
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		cli_error("a passphrase is needed: set %s or run on a terminal", CLI_PASSPHRASE_ENV);
		return EXIT_ERROR;
	}
	again = calloc(1, size);
	if (!again || read_tty(fd, prompt, buf, size) != 0) {
		cli_error("cannot read the passphrase (at most %zu bytes)", size - 1);
		rc = EXIT_ERROR;
	} else if (confirm) {
		if (read_tty(fd, "Passphrase (again): ", again, size) != 0 || strcmp(buf, again)) {
			cli_error("the passphrases differ");
			rc = EXIT_ERROR;
		}
	}
	if (again) {
		explicit_bzero(again, size);
		free(again);
	}
	close(fd);
	return rc;
}

int cli_load_secret_key(mreg_secret_key **out, const char *path)
{
	char pass[1024];
	int encrypted = 0, rc, status = EXIT_OK;

	*out = NULL;
	if ((rc = mreg_secret_key_encrypted(&encrypted, path))) {
		cli_error("%s", mreg_error_last());
		return EXIT_ERROR;
	}
	if (encrypted) {
		char prompt[300];
		snprintf(prompt, sizeof(prompt), "Passphrase for %.250s: ", path);
		if ((status = cli_passphrase(pass, sizeof(pass), prompt, false)))
			return status;
	}
	rc = mreg_secret_key_load(out, path, encrypted ? pass : NULL);
	explicit_bzero(pass, sizeof(pass));
	if (rc) {
		cli_error("%s", mreg_error_last());
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int cli_load_public_key(mreg_public_key **out, const char *path)
{
	int rc = mreg_public_key_load(out, path);

	if (rc) {
		cli_error("%s", mreg_error_last());
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

int cli_fail_artifact(int rc)
{
	int status = cli_fail(rc);

	return rc == MREG_EUNSUPPORTED ? EXIT_NO : status;
}

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

json_t *cli_bundle_json(const char *file, const mreg_bundle_info *info, const mreg_record *r)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "file", json_string(file));
	json_object_set_new(o, "name", str_or_null(r ? r->name : NULL));
	json_object_set_new(o, "version", str_or_null(r ? r->version : NULL));
	json_object_set_new(o, "type", str_or_null(r ? r->type : NULL));
	json_object_set_new(o, "digest", str_or_null(r ? r->digest : NULL));
	json_object_set_new(o, "manifest_digest", json_string(info->manifest_digest));
	json_object_set_new(o, "bundle_size", json_integer((json_int_t)info->bundle_size));
	json_object_set_new(o, "compression", json_string(mreg_compression_name(info->compression)));
	json_object_set_new(o, "file_count", json_integer((json_int_t)info->file_count));
	json_object_set_new(o, "size", json_integer((json_int_t)info->total_size));
	json_object_set_new(o, "manifest_signed", json_boolean(info->manifest_signed));
	json_object_set_new(o, "manifest_key_id", str_or_null(info->key_id));
	json_object_set_new(o, "sidecar_signature", json_boolean(info->sidecar));
	json_object_set_new(o, "sidecar_key_id", str_or_null(info->sidecar_key_id));
	json_object_set_new(o, "signature_verified", json_boolean(info->signature_verified));
	json_object_set_new(o, "oms_signatures", json_integer((json_int_t)info->oms_signatures));
	json_object_set_new(o, "oms_verified", json_boolean(info->oms_verified));
	return o;
}

bool cli_key_is_oms(const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, "-----BEGIN ") != NULL || (n > 0 && (unsigned char)buf[0] == 0x30);
}

int cli_bundle_pubkey(mreg_bundle_read_options *o, mreg_public_key **key, const char *const *path)
{
	int status;

	*key = NULL;
	if (!*path)
		return EXIT_OK;
	if (cli_key_is_oms(*path)) {
		o->oms_keys = path;
		o->oms_key_count = 1;
		return EXIT_OK;
	}
	if ((status = cli_load_public_key(key, *path)))
		return status;
	o->pubkey = *key;
	return EXIT_OK;
}

void cli_print_signatures(const char *file, const mreg_bundle_info *info, bool key_given,
			  bool oms_key_given)
{
	if (info->oms_signatures)
		printf("signature: OMS v1.0 attached (%zu)%s\n", info->oms_signatures,
		       oms_key_given ? " (verified, every file matches)"
				     : " (not checked: give --pubkey KEY.pem)");
	if (!info->manifest_signed && !info->sidecar) {
		if (!info->oms_signatures)
			printf("signature: none\n");
		return;
	}
	if (info->manifest_signed)
		printf("signature: manifest signed by key %s%s\n", info->key_id,
		       key_given ? " (verified)" : " (not checked: give --pubkey)");
	if (info->sidecar)
		printf("signature: %s%s signed by key %s%s\n", file, ".minisig", info->sidecar_key_id,
		       key_given ? " (verified)" : " (not checked: give --pubkey)");
}

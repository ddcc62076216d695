/*
 * Fuzz target for the bundle reader (the code every import, unpack and verify
 * runs first): the input is read as a bundle file, checking only (no staging).
 * Invariants: no crash, no leak; a bundle that passes has a record whose files
 * (from raw layers and the entries of tar layers) have safe paths inside the
 * model folder, each once and sorted, its empty folders and links make one
 * sound tree with them (record_check_tree()), and the content digest recomputes; its manifest signature, if any, parses
 * or is refused cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bundle/bundle_priv.h"
#include "store/record_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const bundle_contents *c)
{
	const mreg_record *r = c->record;
	mreg_record *copy = NULL;

	if (!r || !r->digest)
		abort();
	for (size_t i = 0; i < r->file_count; i++)
		if (!path_is_valid(r->files[i].path, OCI_PATH_RULES) ||
		    (i && strcmp(r->files[i - 1].path, r->files[i].path) >= 0))
			abort(); /* unsafe, unsorted or duplicate paths got through */
	for (size_t i = 0; i < r->dir_count; i++)
		if (!path_is_valid(r->dirs[i].path, OCI_PATH_RULES))
			abort();
	for (size_t i = 0; i < r->link_count; i++)
		if (!path_is_valid(r->links[i].path, OCI_PATH_RULES))
			abort();
	{
		/* Empty folders, links and files are one tree: each path once, nothing
		 * under a file, a link or an empty folder, every link leading inside. */
		char why[256];
		if (record_check_tree(r, true, why, sizeof(why)))
			abort();
	}
	if (record_copy(&copy, r) == 0) {
		if (record_compute_digest(copy) || strcmp(copy->digest, r->digest))
			abort();
		mreg_record_free(copy);
	}
	if (c->signature) {
		sign_minisig sig;
		sign_minisig_parse(&sig, c->signature, c->signature_len, "fuzz");
		sign_minisig_dispose(&sig);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bundle_read_opts opts = {0};
	bundle_contents c;
	int fd = memfd_create("mreg-fuzz-bundle", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (size == 0 || write(fd, data, size) == (ssize_t)size) {
		lseek(fd, 0, SEEK_SET);
		if (bundle_read_fd(&c, fd, "fuzz.tar", &opts) == 0) {
			check(&c);
			bundle_contents_dispose(&c);
		}
	}
	close(fd);
	return 0;
}

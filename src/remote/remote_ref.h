/*
 * References to OCI registries: HOST[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST],
 * checked against the OCI distribution spec's grammar so that a reference the
 * registry would refuse is refused here first, with the reason.
 */
#ifndef MREG_REMOTE_REF_H
#define MREG_REMOTE_REF_H

#include <stdbool.h>

#include "mreg/record.h"

/* The distribution spec's bound (a tag's is GRAMMAR_TAG_MAX). */
#define REMOTE_NAME_MAX 255 /* HOST/REPOSITORY, as distribution counts it */

typedef struct {
	char *host;       /* "registry.example.com:5000" (with the port, as given) */
	char *repository; /* "team/churn" */
	char *tag;        /* NULL when absent */
	char *digest;     /* "sha256:<hex>", NULL when absent */
} remote_ref;

/*
 * Parse @text. The registry part is mandatory (mreg knows no default
 * registry). Returns 0, or MREG_EINVALID with a message naming the part and
 * the rule it breaks.
 */
int remote_ref_parse(remote_ref *out, const char *text);
void remote_ref_dispose(remote_ref *r);

/* A repository path: components of [a-z0-9]+ joined by ".", "_", "__" or "-"+, "/"-separated. */
bool remote_repository_valid(const char *repo, const char **why);
/* A tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}, the version grammar (grammar_tag_valid()). */
bool remote_tag_valid(const char *tag);

/*
 * The repository component a model name maps to: letters lowercased, the rest
 * kept ("Churn_Model.v2" -> "churn_model.v2"). NULL (message set, MREG_EINVALID)
 * when the result still breaks the grammar (e.g. "a-.b", "x_": separators that
 * do not stand between two letters or digits).
 */
char *remote_name_to_repository(const char *name);

#endif

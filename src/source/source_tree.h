/*
 * The tree of a fetched model (src/source/): <stage>/.tree/<rel> are hard
 * links to the staged blobs <stage>/<hex>, for the format plugins and the
 * walk of mreg_model_create (nothing is copied twice).
 */
#ifndef MREG_SOURCE_TREE_H
#define MREG_SOURCE_TREE_H

#include "mreg/source.h"
#include "source_https.h"

/* The folder under the stage that holds the tree. */
#define SOURCE_TREE_DIR ".tree"

/*
 * Add the fetched file @rel (relative to the model; '/'-separated) to @f:
 * its entry, and its hard link <stage>/.tree/<rel> to the staged blob.
 */
int source_add_file(mreg_fetched *f, const char *rel, const source_got *got);

#endif

/*
 * What a kill -9 leaves beside a command's output, and how the next run finds
 * it: the staging folder of a download (DIR.mreg-download-XXXXXX beside DIR,
 * DIR/.mreg-download-XXXXXX inside it) and the temporary file of a package
 * (.FILE.mreg-package-XXXXXX beside FILE). The command that makes one holds
 * an flock(2) on it while it runs; a leftover is one whose lock nobody holds,
 * which a later run removes (mreg_download_litter_remove(),
 * mreg_package_litter_remove()).
 */
#ifndef MREG_LITTER_H
#define MREG_LITTER_H

/* The name parts: a staging folder is <target><LITTER_DOWNLOAD>XXXXXX. */
#define LITTER_DOWNLOAD ".mreg-download-"
#define LITTER_PACKAGE ".mreg-package-"

/*
 * A new folder "<prefix>XXXXXX", locked: *lock_fd holds the lock until the
 * caller closes it (after renaming or removing the folder). @where names the
 * place in the error message.
 */
int litter_make_dir(char **path, int *lock_fd, const char *prefix, const char *where);

/*
 * The temporary file of the package that will become @file:
 * ".<base name of file>.mreg-package-XXXXXX" in @file's folder, open for
 * writing in *fd and locked while *fd is open.
 */
int litter_make_file(char **path, int *fd, const char *file);

#endif

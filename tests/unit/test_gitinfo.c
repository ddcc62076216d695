/* Git helpers that need no repository: credential stripping. */
#include <stdlib.h>

#include "store/gitinfo.h"
#include "tap.h"

static void strip(const char *in, const char *want)
{
	char *got = gitinfo_strip_credentials(in);
	tap_is_str(got, want, "%s", in);
	free(got);
}

int main(void)
{
	strip("https://alice:tok@github.com/org/repo.git", "https://github.com/org/repo.git");
	strip("https://tok@dev.azure.com/org/_git/repo", "https://dev.azure.com/org/_git/repo");
	strip("https://github.com/org/repo.git", "https://github.com/org/repo.git");
	strip("ssh://git@host:22/x.git", "ssh://host:22/x.git");
	strip("git@github.com:org/repo.git", "git@github.com:org/repo.git");
	strip("https://host/path/with@at", "https://host/path/with@at");
	strip("/srv/git/repo.git", "/srv/git/repo.git");
	return tap_done();
}

/* The one relative-path checker (src/util/path.c) and the rules its callers build from it. */
#include <string.h>

#include "bundle/oci.h"
#include "util/path.h"
#include "tap.h"

#define ALL 0x3fffu /* every PATH_REJECT_* flag */
#define E PATH_REJECT_EMPTY
#define ABS PATH_REJECT_ABSOLUTE
#define DRV PATH_REJECT_DRIVE
#define BS PATH_REJECT_BACKSLASH
#define EC PATH_REJECT_EMPTY_COMPONENT
#define DOT PATH_REJECT_DOT_COMPONENT
#define TRV PATH_REJECT_TRAVERSAL
#define ESC PATH_REJECT_ESCAPE
#define CTL PATH_REJECT_CONTROL
#define U8 PATH_REJECT_NON_UTF8
#define GIT PATH_REJECT_DOTGIT
#define MRG PATH_REJECT_DOTMREG

static const struct {
	const char *path;
	unsigned problems; /* every rule it breaks */
} cases[] = {
	{"a/b/c.txt", 0},
	{"modèle/poids.bin", 0},
	{"", E | EC},
	{".", DOT},
	{"..", TRV | ESC},
	{"...", 0},
	{"a/..b/c..", 0},
	{"a/../b", TRV},
	{"a/../..", TRV | ESC},
	{"../a", TRV | ESC},
	{"a/b/../../c", TRV},
	{"/abs", ABS | EC},
	{"/..", ABS | EC | TRV | ESC},
	{"/", ABS | EC},
	{"a//b", EC},
	{"a//..", EC | TRV},
	{"./a", DOT},
	{"a/./b", DOT},
	{"a/.", DOT},
	{"a/", EC},
	{"C:\\x", DRV | BS},
	{"C:/x", DRV},
	{"C:", 0},
	{"\\\\server\\share", DRV | BS},
	{"a\\b", BS},
	{".GIT/hooks", GIT},
	{"x/.git", GIT},
	{"x/.Mreg/y", MRG},
	{".mreg", MRG},
	{".gitignore", 0},
	{"git/.gitx/a.git/.mregs/mreg", 0},
	{"a\nb", CTL},
	{"a\x7f", CTL},
	{"\x1b[0m", CTL},
	{"\xff\xfe", U8},
	{"\xc0\xaf", U8},
};

/* @s for a TAP line: control bytes as \xNN. */
static const char *shown(const char *s)
{
	static char out[256];
	size_t n = 0;

	for (; *s && n < sizeof(out) - 5; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(out + n, sizeof(out) - n, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
	return out;
}

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		unsigned got = path_problems(cases[i].path, ALL);
		if (!tap_ok(got == cases[i].problems, "'%s' breaks exactly its rules",
			    shown(cases[i].path)))
			printf("#   got 0x%x, want 0x%x\n", got, cases[i].problems);
		tap_ok(path_is_valid(cases[i].path, ALL) == (cases[i].problems == 0),
		       "path_is_valid agrees for '%s'", shown(cases[i].path));
	}
}

static void test_flags_select(void)
{
	tap_is_int(path_problems("/..", ABS), ABS, "only the asked rules are reported");
	tap_ok(path_is_valid("..", ABS | BS), "'..' passes when traversal is not asked about");
	tap_ok(path_is_valid("a/../b", ESC), "'a/../b' stays inside");
	tap_ok(!path_is_valid("a/../b", TRV), "'a/../b' holds a '..'");
	tap_ok(path_is_valid(".git/config", ALL & ~(GIT | MRG)),
	       ".git is only refused when asked");
	tap_is_int(path_problems("", 0), 0, "no flags, no problems");
}

static void test_lengths(void)
{
	char p[PATH_MAX_BYTES + 2];

	memset(p, 'a', PATH_COMPONENT_MAX_BYTES + 1);
	p[PATH_COMPONENT_MAX_BYTES + 1] = '\0';
	tap_is_int(path_problems(p, ALL), PATH_REJECT_LONG_COMPONENT, "a component of 256 bytes");
	p[PATH_COMPONENT_MAX_BYTES] = '\0';
	tap_is_int(path_problems(p, ALL), 0, "a component of 255 bytes");
	/* Components of at most 200 bytes: only the whole is long. */
	memset(p, 'a', PATH_MAX_BYTES + 1);
	for (size_t i = 200; i < PATH_MAX_BYTES; i += 200)
		p[i] = '/';
	p[PATH_MAX_BYTES] = '\0';
	tap_is_int(strlen(p), 4096, "a path of 4096 bytes");
	tap_is_int(path_problems(p, ALL), 0, "4096 bytes is fine");
	p[PATH_MAX_BYTES] = 'a';
	p[PATH_MAX_BYTES + 1] = '\0';
	tap_is_int(path_problems(p, ALL), PATH_REJECT_LONG, "4097 bytes is too long");
}

/* The rule a bundle's file paths follow (oci.h), as it stood before path.c. */
static void test_bundle_rule(void)
{
	static const char *const ok[] = {"weights/model.safetensors", "modèle/poids.bin", "a",
		"a/..b", "C:/x"};
	static const char *const bad[] = {"", "/a", "a/", "a//b", "./a", "a/./b", "a/.", "..",
		"a/../b", "a\\b", "C:\\x", "a\tb", "\xff"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
		tap_ok(path_is_valid(ok[i], OCI_PATH_RULES), "a bundle may hold '%s'", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		tap_ok(!path_is_valid(bad[i], OCI_PATH_RULES), "a bundle may not hold '%s'",
		       shown(bad[i]));
}

int main(void)
{
	test_cases();
	test_flags_select();
	test_lengths();
	test_bundle_rule();
	return tap_done();
}

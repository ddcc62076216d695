/* ASCII classes and the version/tag grammar (src/util/grammar.c), in every locale at hand. */
#include <ctype.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "util/error_priv.h"
#include "util/grammar.h"
#include "remote/remote_ref.h"
#include "tap.h"

static void test_tag(const char *locale)
{
	char t[200];

	tap_ok(grammar_tag_valid("1"), "[%s] '1'", locale);
	tap_ok(grammar_tag_valid("v2025.11-rc_1"), "[%s] letters, digits, '.', '-', '_'", locale);
	tap_ok(grammar_tag_valid("_x"), "[%s] a leading '_'", locale);
	tap_ok(!grammar_tag_valid(""), "[%s] empty refused", locale);
	tap_ok(!grammar_tag_valid(".1"), "[%s] a leading '.' refused", locale);
	tap_ok(!grammar_tag_valid("-1"), "[%s] a leading '-' refused", locale);
	tap_ok(!grammar_tag_valid("a/b") && !grammar_tag_valid("a:b") && !grammar_tag_valid("a b") &&
		       !grammar_tag_valid("a+b"),
	       "[%s] '/', ':', ' ' and '+' refused", locale);
	/* é in Latin-1 (one byte, a letter to isalnum() in a Latin-1 locale) and in UTF-8. */
	tap_ok(!grammar_tag_valid("caf\xe9"), "[%s] Latin-1 'é' refused", locale);
	tap_ok(!grammar_tag_valid("caf\xc3\xa9"), "[%s] UTF-8 'é' refused", locale);
	tap_ok(!grammar_tag_valid("\xe9t\xe9"), "[%s] a leading non-ASCII letter refused", locale);
	tap_ok(!remote_tag_valid("caf\xe9"), "[%s] the registry tag check agrees", locale);
	tap_is_int(mreg_version_check("caf\xe9"), MREG_EINVALID, "[%s] the version check agrees",
		   locale);
	tap_ok(!ascii_isalnum(0xe9) && !ascii_isupper(0xc9) && !ascii_islower(0xe9),
	       "[%s] 0xe9 and 0xc9 are no ASCII letters", locale);
	tap_is_int(grammar_tag_span("1.0/x"), 3, "[%s] the span stops at '/'", locale);
	tap_is_int(grammar_tag_span(".x"), 0, "[%s] the span of '.x' is empty", locale);
	tap_is_int(grammar_tag_span("ab\xc3\xa9"), 2, "[%s] the span stops at a non-ASCII byte",
		   locale);
	memset(t, 'a', 129);
	t[129] = '\0';
	tap_ok(!grammar_tag_valid(t), "[%s] 129 characters refused", locale);
	tap_is_int(grammar_tag_span(t), 129, "[%s] the span ignores the bound", locale);
	t[128] = '\0';
	tap_ok(grammar_tag_valid(t), "[%s] 128 characters accepted", locale);
}

/*
 * A Latin-1 locale, where isalnum(0xe9) is true: the one that tells an ASCII
 * rule from <ctype.h>'s. When none is installed, build one in the test's
 * folder with localedef (half a second) if the locale sources are there.
 */
static const char *latin1_locale(void)
{
	static const char *const names[] = {"fr_FR.ISO-8859-1", "en_US.ISO-8859-1",
		"de_DE.ISO-8859-1"};
	char cmd[600];

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (setlocale(LC_ALL, names[i]))
			return names[i];
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p loc && localedef -i fr_FR -f ISO-8859-1 '%s/loc/fr_FR.ISO-8859-1' "
		 ">/dev/null 2>&1",
		 tap_tmpdir());
	if (system(cmd) != 0)
		return NULL;
	snprintf(cmd, sizeof(cmd), "%s/loc", tap_tmpdir());
	setenv("LOCPATH", cmd, 1);
	return setlocale(LC_ALL, names[0]) ? names[0] : NULL;
}

int main(void)
{
	const char *locales[] = {"C", "C.UTF-8", getenv("MREG_TEST_LOCALE"), NULL};
	int tried = 0;

	tap_tmpdir();
	locales[3] = latin1_locale();
	for (size_t i = 0; i < sizeof(locales) / sizeof(*locales); i++) {
		if (!locales[i] || !setlocale(LC_ALL, locales[i]))
			continue;
		printf("# in %s, isalnum(0xe9) is %d\n", locales[i], isalnum(0xe9) != 0);
		test_tag(locales[i]);
		tried++;
	}
	setlocale(LC_ALL, "C");
	if (locales[3])
		tap_ok(true, "ran in a Latin-1 locale too (%s)", locales[3]);
	else
		printf("ok %d # SKIP no Latin-1 locale, and localedef could not make one\n",
		       ++tap_count);
	tap_ok(tried >= 2, "ran in %d locales", tried);
	return tap_done();
}

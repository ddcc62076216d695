/* The string helpers: one rule each (src/util/strutil.c). */
#include "util/strutil.h"
#include "tap.h"

static void test_printable(void)
{
	tap_ok(utf8_printable("modèle/poids.bin"), "UTF-8 names are fine");
	tap_ok(!utf8_printable("a\nb"), "a newline is refused");
	tap_ok(!utf8_printable("\xff\xfe"), "invalid UTF-8 is refused");
	tap_ok(!utf8_printable("\xc0\xaf"), "overlong UTF-8 is refused");
}

static void escaped(const char *in, const char *want)
{
	char out[256];

	str_escape_controls(out, sizeof(out), in);
	tap_is_str(out, want, "escaped: %s", want);
	tap_ok(str_needs_escape(in) == (strcmp(in, want) != 0), "needs escape: %s", want);
}

static void test_escape(void)
{
	escaped("plain/file.bin", "plain/file.bin");
	escaped("modèle/poids €.bin", "modèle/poids €.bin");
	escaped("evil\033[31mred", "evil\\x1b[31mred");
	escaped("two\nlines\r\t", "two\\nlines\\r\\t");
	escaped("del\x7f", "del\\x7f");
	escaped("c1 \xc2\x9b" "31m", "c1 \\u009b31m");
	escaped("bad \xff\xfe" " utf8", "bad \\xff\\xfe utf8");
	escaped("cut \xe2\x82", "cut \\xe2\\x82");
	escaped("nbsp\xc2\xa0" "ok", "nbsp\xc2\xa0" "ok");

	char small[8];
	str_escape_controls(small, sizeof(small), "ab\033cdef");
	tap_is_str(small, "ab\\x1bc", "cut at the buffer, whole escapes only");
	str_escape_controls(small, 4, "\033\033");
	tap_is_str(small, "", "an escape that does not fit is left out, not cut in half");
}

static void test_in_list(void)
{
	static const char *const fruit[] = {"apple", "pear", ""};
	static const char *const ended[] = {"a", NULL, "b"};

	tap_ok(STR_IN_ARRAY("pear", fruit), "a listed string is found");
	tap_ok(STR_IN_ARRAY("", fruit), "the empty string when listed");
	tap_ok(!STR_IN_ARRAY("pea", fruit) && !STR_IN_ARRAY("pears", fruit),
	       "a prefix or an extension is not found");
	tap_ok(!STR_IN_ARRAY("Apple", fruit), "case counts");
	tap_ok(!STR_IN_ARRAY(NULL, fruit), "NULL is in no list");
	tap_ok(!str_in_list("pear", fruit, 1), "only the first n entries count");
	tap_ok(str_in_list("apple", fruit, 1), "the first of one");
	tap_ok(!str_in_list("apple", fruit, 0), "nothing in an empty list");
	tap_ok(str_in_list("a", ended, 3) && !str_in_list("b", ended, 3),
	       "a NULL entry ends the list");
}

int main(void)
{
	test_printable();
	test_escape();
	test_in_list();
	return tap_done();
}

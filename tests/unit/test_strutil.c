/* The string helpers: one rule each (src/strutil.c). */
#include "util/strutil.h"
#include "tap.h"

static void test_printable(void)
{
	tap_ok(utf8_printable("modèle/poids.bin"), "UTF-8 names are fine");
	tap_ok(!utf8_printable("a\nb"), "a newline is refused");
	tap_ok(!utf8_printable("\xff\xfe"), "invalid UTF-8 is refused");
	tap_ok(!utf8_printable("\xc0\xaf"), "overlong UTF-8 is refused");
}

int main(void)
{
	test_printable();
	return tap_done();
}

/* The protobuf text-format parser: syntax, values, errors with positions,
 * limits, and every text proto of the Triton corpus (when ../shared exists). */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mreg/error.h"
#include "tap.h"
#include "triton/pbtxt.h"

static pbtxt_msg *parse_ok(const char *text, const char *what)
{
	pbtxt_error err;
	pbtxt_msg *m = NULL;
	int rc = pbtxt_parse(&m, text, strlen(text), &err);

	if (!tap_ok(rc == 0, "parses: %s", what))
		printf("#   %u:%u: %s\n", err.line, err.column, err.message);
	if (rc) {
		pbtxt_free(m);
		return NULL;
	}
	return m;
}

/* Parse @text expecting an error at line:col whose message contains @want. */
static void parse_err(const char *text, unsigned line, unsigned col, const char *want)
{
	pbtxt_error err;
	pbtxt_msg *m = NULL;
	int rc = pbtxt_parse(&m, text, strlen(text), &err);

	tap_ok(rc == MREG_EINVALID && m != NULL, "refused: %s", want);
	if (!tap_ok(err.line == line && err.column == col && strstr(err.message, want),
	            "  at %u:%u with '%s'", line, col, want))
		printf("#   got %u:%u: %s\n", err.line, err.column, err.message);
	pbtxt_free(m);
}

static const pbtxt_field *field(const pbtxt_msg *m, size_t i)
{
	return m && i < m->count ? &m->fields[i] : NULL;
}

static void test_structure(void)
{
	pbtxt_msg *m = parse_ok("# header\n"
	                        "name: \"simple\"  # trailing comment\n"
	                        "max_batch_size: 8,\n"
	                        "input [ { name: \"a\" dims: [ 1, -1 ] }, { name: 'b'; } ]\n"
	                        "optimization < graph: { level: 1 } >\n"
	                        "version_policy: { latest { num_versions: 2 } }\n"
	                        "output: [ ]\n"
	                        "dims: 1 dims: 2",
	                        "fields, lists, nesting, separators, comments");
	const pbtxt_field *f;

	if (!m) {
		tap_ok(false, "tree built");
		return;
	}
	tap_is_int(m->count, 8, "eight top-level fields");
	f = field(m, 0);
	tap_is_str(f->name, "name", "first field name");
	tap_is_int(f->line, 2, "field line");
	tap_is_int(f->column, 1, "field column");
	tap_ok(f->colon && !f->list && f->count == 1, "scalar with colon");
	tap_ok(f->values[0].kind == PBTXT_STRING && !strcmp(f->values[0].text, "simple"),
	       "string value decoded");
	tap_is_int(f->values[0].column, 7, "value column");
	f = field(m, 1);
	tap_ok(f->values[0].kind == PBTXT_INT && !strcmp(f->values[0].text, "8"), "integer token");
	f = field(m, 2);
	tap_ok(f->list && !f->colon && f->count == 2, "message list without colon");
	tap_ok(f->values[0].kind == PBTXT_MESSAGE && f->values[0].msg->count == 2,
	       "first element has two fields");
	const pbtxt_field *dims = &f->values[0].msg->fields[1];
	tap_ok(dims->list && dims->count == 2 && dims->values[1].negative &&
	           !strcmp(dims->values[1].text, "1"),
	       "scalar list with a negative element");
	tap_ok(!strcmp(f->values[1].msg->fields[0].values[0].text, "b"), "single-quoted string");
	f = field(m, 3);
	tap_ok(!f->colon && f->values[0].kind == PBTXT_MESSAGE && f->values[0].raw[0] == '<',
	       "angle-bracket message");
	tap_ok(f->values[0].msg->fields[0].colon, "':' before '{' recorded");
	f = field(m, 5);
	tap_ok(f->list && f->count == 0, "empty list");
	tap_ok(field(m, 6)->count == 1 && field(m, 7)->count == 1, "repeated scalar lines");
	pbtxt_free(m);

	m = parse_ok("", "empty input");
	tap_ok(m && m->count == 0, "empty input is an empty message");
	pbtxt_free(m);
	m = parse_ok("# only a comment", "comment without newline");
	pbtxt_free(m);
	m = parse_ok("a{b{}}c:[1]d:\"x\"", "no whitespace between tokens");
	tap_ok(m && m->count == 3, "three fields without spaces");
	pbtxt_free(m);
	m = parse_ok("max_batch_size 4", "scalar without colon");
	tap_ok(m && !m->fields[0].colon, "missing colon recorded for the schema checker");
	pbtxt_free(m);
}

static void test_values(void)
{
	pbtxt_msg *m = parse_ok("s: \"a\\n\\t\\\"\\\\\\x41\\101\\u00e9\" 'b' \"c\"\n"
	                        "z: \"x\\0y\"\n"
	                        "h: 0x1F o: 017 n: - 5 f: .5 g: 2. e: 1e3 k: 1.5f i: inf j: -nan",
	                        "escapes, adjacent strings, number forms");
	char err[256];
	int64_t i;
	uint64_t u;
	double d;
	bool b;

	if (!m)
		return;
	tap_is_str(m->fields[0].values[0].text,
	           "a\n\t\"\\AA\xc3\xa9"
	           "bc",
	           "escapes and joining");
	tap_ok(m->fields[1].values[0].len == 3 && m->fields[1].values[0].text[1] == '\0',
	       "octal NUL kept, length counted");
	tap_ok(
	    pbtxt_value_int(&m->fields[2].values[0], INT32_MIN, INT32_MAX, &i, err, sizeof(err)) &&
	        i == 31,
	    "hex integer");
	tap_ok(
	    pbtxt_value_int(&m->fields[3].values[0], INT32_MIN, INT32_MAX, &i, err, sizeof(err)) &&
	        i == 15,
	    "octal integer");
	tap_ok(
	    pbtxt_value_int(&m->fields[4].values[0], INT32_MIN, INT32_MAX, &i, err, sizeof(err)) &&
	        i == -5,
	    "'- 5' with a space is -5");
	tap_ok(pbtxt_value_double(&m->fields[5].values[0], &d, err, sizeof(err)) && d == 0.5, ".5");
	tap_ok(pbtxt_value_double(&m->fields[6].values[0], &d, err, sizeof(err)) && d == 2.0, "2.");
	tap_ok(pbtxt_value_double(&m->fields[7].values[0], &d, err, sizeof(err)) && d == 1000.0,
	       "1e3");
	tap_ok(pbtxt_value_double(&m->fields[8].values[0], &d, err, sizeof(err)) && d == 1.5,
	       "1.5f");
	tap_ok(pbtxt_value_double(&m->fields[9].values[0], &d, err, sizeof(err)) && isinf(d),
	       "inf");
	tap_ok(pbtxt_value_double(&m->fields[10].values[0], &d, err, sizeof(err)) && isnan(d),
	       "-nan");
	tap_ok(
	    !pbtxt_value_int(&m->fields[5].values[0], INT32_MIN, INT32_MAX, &i, err, sizeof(err)),
	    "float refused for an integer field");
	tap_is_str(err, "Expected integer, got: .5", "protobuf's wording");
	tap_ok(!pbtxt_value_uint(&m->fields[4].values[0], UINT32_MAX, &u, err, sizeof(err)),
	       "negative refused for an unsigned field");
	tap_is_str(err, "Expected integer, got: -", "protobuf's wording");
	tap_ok(
	    !pbtxt_value_int(&m->fields[0].values[0], INT32_MIN, INT32_MAX, &i, err, sizeof(err)),
	    "string refused for an integer field");
	tap_is_str(err, "Expected integer, got: \"a\\n\\t\\\"\\\\\\x41\\101\\u00e9\"",
	           "the raw token is quoted");
	pbtxt_free(m);

	m = parse_ok("a: 4294967296 b: 2147483647 c: -2147483648 d: -2147483649 "
	             "e: 18446744073709551615 f: 18446744073709551616 g: -9223372036854775808",
	             "integer limits");
	if (!m)
		return;
	tap_ok(
	    !pbtxt_value_int(&m->fields[0].values[0], INT32_MIN, INT32_MAX, &i, err, sizeof(err)),
	    "2^32 out of int32 range");
	tap_is_str(err, "Integer out of range (4294967296)", "protobuf's wording");
	tap_ok(pbtxt_value_int(&m->fields[1].values[0], INT32_MIN, INT32_MAX, &i, err, sizeof(err)),
	       "INT32_MAX fits");
	tap_ok(
	    pbtxt_value_int(&m->fields[2].values[0], INT32_MIN, INT32_MAX, &i, err, sizeof(err)) &&
	        i == INT32_MIN,
	    "INT32_MIN fits");
	tap_ok(
	    !pbtxt_value_int(&m->fields[3].values[0], INT32_MIN, INT32_MAX, &i, err, sizeof(err)),
	    "INT32_MIN - 1 does not");
	tap_ok(pbtxt_value_uint(&m->fields[4].values[0], UINT64_MAX, &u, err, sizeof(err)) &&
	           u == UINT64_MAX,
	       "UINT64_MAX fits");
	tap_ok(!pbtxt_value_uint(&m->fields[5].values[0], UINT64_MAX, &u, err, sizeof(err)),
	       "2^64 does not");
	tap_ok(
	    pbtxt_value_int(&m->fields[6].values[0], INT64_MIN, INT64_MAX, &i, err, sizeof(err)) &&
	        i == INT64_MIN,
	    "INT64_MIN fits");
	tap_ok(!pbtxt_value_uint(&m->fields[0].values[0], UINT32_MAX, &u, err, sizeof(err)),
	       "2^32 out of uint32 range");
	pbtxt_free(m);

	m = parse_ok("a: true b: True c: t d: false e: False f: f g: 1 h: 0 i: TRUE j: 2 k: yes",
	             "boolean forms");
	if (!m)
		return;
	bool want[] = {true, true, true, false, false, false, true, false};
	bool all = true;
	for (size_t k = 0; k < 8; k++)
		all &= pbtxt_value_bool(&m->fields[k].values[0], "x", &b, err, sizeof(err)) &&
		       b == want[k];
	tap_ok(all, "true True t false False f 1 0 accepted");
	tap_ok(!pbtxt_value_bool(&m->fields[8].values[0], "enable", &b, err, sizeof(err)),
	       "TRUE refused");
	tap_is_str(err, "Invalid value for boolean field \"enable\". Value: \"TRUE\".",
	           "protobuf's wording");
	tap_ok(!pbtxt_value_bool(&m->fields[9].values[0], "x", &b, err, sizeof(err)),
	       "2 refused for a bool");
	tap_is_str(err, "Integer out of range (2)", "protobuf's wording");
	tap_ok(!pbtxt_value_bool(&m->fields[10].values[0], "x", &b, err, sizeof(err)),
	       "yes refused");
	tap_ok(!pbtxt_value_double(&m->fields[10].values[0], &d, err, sizeof(err)),
	       "identifier refused for a double");
	tap_is_str(err, "Expected double, got: yes", "protobuf's wording");
	pbtxt_free(m);
}

static void test_errors(void)
{
	parse_err("name: \"abc", 1, 11, "Unexpected end of string.");
	parse_err("name: \"ab\nc\"", 1, 10, "String literals cannot cross line boundaries.");
	parse_err("a: 08", 1, 5, "Numbers starting with leading zero must be in octal.");
	parse_err("a: 0x", 1, 6, "\"0x\" must be followed by hex digits.");
	parse_err("a: 1abc", 1, 5, "Need space between number and identifier.");
	parse_err("a: 1.2.3", 1, 7,
	          "Already saw decimal point or exponent; can't have another one.");
	parse_err("a: 1e", 1, 6, "\"e\" must be followed by exponent.");
	parse_err("a: \"\\q\"", 1, 6, "Invalid escape sequence in string literal.");
	parse_err("a: \"\\xg\"", 1, 7, "Expected hex digits for escape sequence.");
	parse_err("a: \"\\u12\"", 1, 9, "Expected four hex digits for \\u escape sequence.");
	parse_err("}", 1, 1, "Expected identifier, got: }");
	parse_err("a {\n b: 1\n", 3, 1, "Expected identifier, got: ");
	parse_err("a { b: 1 >", 1, 10, "Expected \"}\", found \">\".");
	parse_err("a: [1, ]", 1, 8, "Expected value, got: ]");
	parse_err("a: [1 2]", 1, 7, "Expected \",\", found \"2\".");
	parse_err("a: [[1]]", 1, 5, "Expected value, got: [");
	parse_err("a }", 1, 3, "Expected \":\", found \"}\".");
	parse_err("a: ", 1, 4, "Expected value, got: ");
	parse_err("// comment\n", 1, 1, "Expected identifier, got: /");
	parse_err("[ext.name]: 1", 1, 1, "Expected identifier, got: [");
	parse_err("a: 1\x01", 1, 5, "Invalid control characters encountered in text.");
	parse_err("a: 1 \xc3\xa9", 1, 6, "Interpreting non ascii codepoint 195.");
	parse_err("a: - \"x\"", 1, 6, "Expected number, got: \"x\"");
	parse_err("a: 1,,", 1, 6, "Expected identifier, got: ,");
	parse_err("a: 1\nb: 2\n  c ]", 3, 5, "Expected \":\", found \"]\"");
	/* protobuf's tokenizer: "\U00" then 0 or 1 then five hex digits. */
	parse_err("a: \"\\U00200000\"", 1, 9, "Expected eight hex digits up to 10ffff");
	/* A tab runs to the next multiple of 8 columns. */
	parse_err("\ta\t}", 1, 17, "Expected \":\", found \"}\"");
	/* A NUL ends a comment, and is then a control character. */
	{
		pbtxt_error err;
		pbtxt_msg *m = NULL;
		int rc = pbtxt_parse(&m, "# a\0b\nc: 1", 10, &err);
		tap_ok(rc == MREG_EINVALID && err.line == 1 && err.column == 4 &&
		           !strcmp(err.message, "Invalid control characters encountered in text."),
		       "a NUL ends a comment and is refused there (1:4)");
		pbtxt_free(m);
	}
	{
		pbtxt_msg *m = parse_ok("a: \"\\U00110000\\U0010ffff\"", "\\U beyond Unicode");
		const pbtxt_field *f = field(m, 0);
		tap_ok(f && f->count == 1 && f->values[0].len == 14 &&
		           !memcmp(f->values[0].text, "\\U00110000\xf4\x8f\xbf\xbf", 14),
		       "\\U00110000 kept as written (as protobuf decodes it), \\U0010ffff as UTF-8");
		pbtxt_free(m);
	}
	parse_err("a: 1 b.5", 1, 7, "Need space between identifier and decimal point.");
	/* Raw UTF-8 inside a string is fine. */
	pbtxt_msg *m = parse_ok("a: \"\xc3\xa9t\xc3\xa9\"", "raw UTF-8 in a string");
	pbtxt_free(m);
}

static void test_partial_tree(void)
{
	pbtxt_error err;
	pbtxt_msg *m = NULL;
	const char *text = "name: \"x\"\nmax_batch_size: 2\ninput { name: \"a\" dims: [1 }\n";
	int rc = pbtxt_parse(&m, text, strlen(text), &err);

	tap_is_int(rc, MREG_EINVALID, "syntax error reported");
	tap_ok(m && m->count == 3 && !strcmp(m->fields[1].name, "max_batch_size"),
	       "fields before the error are kept");
	pbtxt_free(m);
}

static void test_limits(void)
{
	size_t depth = PBTXT_MAX_DEPTH;
	char *deep = malloc(depth * 4 + 16);
	size_t n = 0;

	if (!deep) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	pbtxt_error err;
	pbtxt_msg *m = NULL;

	for (size_t i = 0; i < depth; i++)
		n += (size_t)sprintf(deep + n, "a{");
	for (size_t i = 0; i < depth; i++)
		deep[n++] = '}';
	tap_is_int(pbtxt_parse(&m, deep, n, &err), 0, "%zu nested messages parse", depth);
	pbtxt_free(m);
	n = 0;
	for (size_t i = 0; i <= depth; i++)
		n += (size_t)sprintf(deep + n, "a{");
	tap_is_int(pbtxt_parse(&m, deep, n, &err), MREG_EINVALID, "%zu nested messages refused",
	           depth + 1);
	tap_ok(strstr(err.message, "recursion limit of 100") != NULL, "message: %s", err.message);
	pbtxt_free(m);
	free(deep);

	/* Very deep nesting far past the limit stops early instead of recursing. */
	size_t big = 1000000;
	char *flood = malloc(big);
	if (!flood) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i + 1 < big; i += 2)
		memcpy(flood + i, "a{", 2);
	tap_is_int(pbtxt_parse(&m, flood, big, &err), MREG_EINVALID,
	           "half a million nested messages refused");
	pbtxt_free(m);
	memset(flood, '"', 1);
	memset(flood + 1, 'x', big - 1);
	tap_is_int(pbtxt_parse(&m, flood, big, &err), MREG_EINVALID,
	           "a megabyte unterminated string refused");
	pbtxt_free(m);
	memcpy(flood, "a: \"", 4);
	flood[big - 1] = '"';
	tap_is_int(pbtxt_parse(&m, flood, big, &err), 0, "a megabyte string parses");
	tap_ok(m && m->fields[0].values[0].len == big - 5, "its length is kept");
	pbtxt_free(m);
	for (size_t i = 0; i < big; i++)
		flood[i] = (char)((i * 7919u) & 0xff);
	tap_is_int(pbtxt_parse(&m, flood, big, &err), MREG_EINVALID, "binary junk refused");
	pbtxt_free(m);
	free(flood);
}

/* Every text proto of the Triton corpus: config.pbtxt, partial.pbtxt and the
 * auto-completed configs Triton's tests expect (protobuf parses them all). */
static size_t corpus_total, corpus_ok;

static int corpus_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base;
	bool want = !strcmp(base, "config.pbtxt") || !strcmp(base, "partial.pbtxt") ||
	            (strstr(path, "autofill_noplatform_success") && !strncmp(base, "expected", 8));
	FILE *f;
	char *buf;
	pbtxt_msg *m = NULL;
	pbtxt_error err;

	if (type != FTW_F || !want)
		return 0;
	corpus_total++;
	buf = malloc((size_t)st->st_size + 1);
	f = fopen(path, "rb");
	if (buf && f && fread(buf, 1, (size_t)st->st_size, f) == (size_t)st->st_size) {
		if (pbtxt_parse(&m, buf, (size_t)st->st_size, &err) == 0)
			corpus_ok++;
		else
			printf("# %s:%u:%u: %s\n", path, err.line, err.column, err.message);
	}
	if (f)
		fclose(f);
	pbtxt_free(m);
	free(buf);
	return 0;
}

static void test_corpus(void)
{
	const char *shared = getenv("MREG_SHARED_DIR");
	char dir[4096];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/corpus/triton", shared ? shared : "../shared");
	if (stat(dir, &st) != 0) {
		printf("ok %d - corpus parse # SKIP %s is absent\n", ++tap_count, dir);
		return;
	}
	nftw(dir, corpus_visit, 16, FTW_PHYS);
	printf("# corpus: %zu of %zu text protos parse\n", corpus_ok, corpus_total);
	tap_ok(corpus_total > 300 && corpus_ok == corpus_total,
	       "every corpus text proto parses (%zu of %zu)", corpus_ok, corpus_total);
}

int main(void)
{
	tap_tmpdir();
	test_structure();
	test_values();
	test_errors();
	test_partial_tree();
	test_limits();
	test_corpus();
	return tap_done();
}

/*
 * util/yamlutil: the bounded loader's limits (size, depth, aliases, recursive
 * aliases, alias expansion, documents), its positioned errors, and the plain
 * scalar resolver's table read both ways (PyYAML's rules for MLmodel, the
 * cautious ones the writer quotes by).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error_priv.h"
#include "util/yamlutil.h"
#include "tap.h"

static const char *type_name(yu_type t)
{
	switch (t) {
	case YU_STR: return "str";
	case YU_NULL: return "null";
	case YU_BOOL: return "bool";
	case YU_INT: return "int";
	case YU_FLOAT: return "float";
	case YU_TIMESTAMP: return "timestamp";
	}
	return "?";
}

static void test_resolve(void)
{
	static const struct {
		const char *s;
		yu_type pyyaml, cautious;
	} table[] = {
		{"", YU_NULL, YU_NULL},
		{"~", YU_NULL, YU_NULL},
		{"null", YU_NULL, YU_NULL},
		{"Null", YU_NULL, YU_NULL},
		{"NULL", YU_NULL, YU_NULL},
		{"nULL", YU_STR, YU_STR},
		{"yes", YU_BOOL, YU_BOOL},
		{"No", YU_BOOL, YU_BOOL},
		{"on", YU_BOOL, YU_BOOL},
		{"OFF", YU_BOOL, YU_BOOL},
		{"True", YU_BOOL, YU_BOOL},
		{"yES", YU_STR, YU_STR},
		/* YAML 1.1's y/n: PyYAML leaves them strings, other readers do not */
		{"y", YU_STR, YU_BOOL},
		{"N", YU_STR, YU_BOOL},
		{"0", YU_INT, YU_INT},
		{"-12", YU_INT, YU_INT},
		{"1_000", YU_INT, YU_INT},
		{"0b101", YU_INT, YU_INT},
		{"0x1F", YU_INT, YU_INT},
		{"017", YU_INT, YU_INT},
		{"08", YU_STR, YU_INT},
		{"0o17", YU_STR, YU_INT},
		{"1:20", YU_INT, YU_INT},
		{"190:20:30", YU_INT, YU_INT},
		{"0:5", YU_STR, YU_INT},
		{"3.1", YU_FLOAT, YU_FLOAT},
		{"1.5e+3", YU_FLOAT, YU_FLOAT},
		{".5", YU_FLOAT, YU_FLOAT},
		{"1.5e3", YU_STR, YU_FLOAT},
		{"1e3", YU_STR, YU_FLOAT},
		{".", YU_STR, YU_FLOAT},
		{"1:20.5", YU_FLOAT, YU_FLOAT},
		{".inf", YU_FLOAT, YU_FLOAT},
		{"-.Inf", YU_FLOAT, YU_FLOAT},
		{"+.INF", YU_FLOAT, YU_FLOAT},
		{".NaN", YU_FLOAT, YU_FLOAT},
		{"-.nan", YU_STR, YU_STR},
		{"2025-01-01", YU_TIMESTAMP, YU_TIMESTAMP},
		{"2025-1-1 1:00:00", YU_TIMESTAMP, YU_TIMESTAMP},
		{"2025-01-01T10:00:00Z", YU_TIMESTAMP, YU_TIMESTAMP},
		{"2025-01-01\t10:00:00 +01:00", YU_TIMESTAMP, YU_TIMESTAMP},
		{"2025-1-01", YU_STR, YU_TIMESTAMP},
		{"2025-01-01 whenever", YU_STR, YU_TIMESTAMP},
		{"2.12.2", YU_STR, YU_STR},
		{"3.10.12", YU_STR, YU_STR},
		{"hello", YU_STR, YU_STR},
		{"=", YU_STR, YU_STR},
		{"<<", YU_STR, YU_STR},
	};
	char digits[102];
	int wrong = 0;

	for (size_t i = 0; i < sizeof(table) / sizeof(*table); i++) {
		const char *s = table[i].s;
		yu_type p = yu_resolve(s, strlen(s), YU_PYYAML);
		yu_type c = yu_resolve(s, strlen(s), YU_CAUTIOUS);
		if (p != table[i].pyyaml || c != table[i].cautious) {
			printf("# '%s': PyYAML %s (want %s), cautious %s (want %s)\n", s, type_name(p),
			       type_name(table[i].pyyaml), type_name(c), type_name(table[i].cautious));
			wrong++;
		}
		if (yu_needs_quotes(s) != (table[i].cautious != YU_STR)) {
			printf("# '%s': yu_needs_quotes is %d\n", s, yu_needs_quotes(s));
			wrong++;
		}
	}
	tap_is_int(wrong, 0, "the resolver's table, %zu scalars read both ways",
		   sizeof(table) / sizeof(*table));
	memset(digits, '1', 101);
	digits[101] = '\0';
	tap_is_int(yu_resolve(digits, 101, YU_PYYAML), YU_STR,
		   "101 digits are a string to the MLmodel reader (it stops at 100 bytes)");
	tap_is_int(yu_resolve(digits, 101, YU_CAUTIOUS), YU_INT, "and an integer to the writer");
	tap_is_int(yu_resolve("12\0" "3", 4, YU_PYYAML), YU_STR, "a NUL inside makes a string");
}

static char *emit_seq(const char *const *items, size_t n)
{
	yu_writer w;
	char *text;

	yu_writer_init(&w);
	yu_seq_start(&w);
	for (size_t i = 0; i < n; i++)
		yu_str(&w, items[i]);
	yu_seq_end(&w);
	text = yu_writer_finish(&w, NULL);
	yu_writer_dispose(&w);
	return text;
}

static void test_writer(void)
{
	static const char *const items[] = {"yes", "2.12.2", "1e3", "-.Inf", "1:20.5", "y", ":",
		"plain text"};
	char *text = emit_seq(items, sizeof(items) / sizeof(*items));

	tap_is_str(text,
		   "- \"yes\"\n- 2.12.2\n- \"1e3\"\n- \"-.Inf\"\n- \"1:20.5\"\n- \"y\"\n- ':'\n"
		   "- plain text\n",
		   "the writer quotes what any reader would not read back as a string");
	free(text);
}

static const yu_limits base = {
	.max_bytes = 1000, .max_depth = 3, .max_nodes = 50, .aliases = true, .whole_stream = true};

/* Load @text with @limits; the status, and the position into @info. */
static yu_status load(const char *text, const yu_limits *limits, yu_load_info *info,
		      yaml_node_type_t *root_type)
{
	yaml_document_t doc;
	yu_status st = yu_load(&doc, text, strlen(text), limits, info);
	yaml_node_t *root = yaml_document_get_root_node(&doc);

	if (root_type)
		*root_type = root ? root->type : YAML_NO_NODE;
	yaml_document_delete(&doc);
	return st;
}

#define AT(info, l, c) ((info).line == (l) && (info).column == (c))

static void test_limits(void)
{
	yu_limits lim = base;
	yu_load_info info;
	yaml_node_type_t root;
	char big[1100];

	tap_is_int(load("a: [[x]]\n", &lim, &info, &root), YU_OK, "3 levels load with max_depth 3");
	tap_is_int(root, YAML_MAPPING_NODE, "and give the mapping");
	tap_is_int(load("a: [[[x]]]\n", &lim, &info, NULL), YU_ETOO_DEEP, "4 levels are refused");
	tap_ok(AT(info, 1, 6), "at the fourth level's start (1:6): %u:%u", info.line, info.column);

	lim.aliases = false;
	tap_is_int(load("a: &x 1\nb: *x\n", &lim, &info, NULL), YU_EALIAS,
		   "an alias is refused when aliases are not allowed");
	tap_ok(AT(info, 2, 4), "at the alias (2:4): %u:%u", info.line, info.column);
	lim.aliases = true;
	tap_is_int(load("a: &x 1\nb: *x\n", &lim, &info, NULL), YU_OK, "and read when they are");

	memset(big, 'b', sizeof(big));
	memcpy(big, "a: ", 3);
	big[1000] = '\0';
	tap_is_int(load(big, &lim, &info, NULL), YU_OK, "max_bytes bytes load");
	big[1000] = 'b';
	big[1001] = '\0';
	tap_is_int(load(big, &lim, &info, NULL), YU_ETOO_LARGE, "one byte more is refused");

	tap_is_int(load("a: 1\nb: &r [1, *r]\n", &lim, &info, NULL), YU_ERECURSIVE,
		   "a recursive alias is refused");
	tap_ok(AT(info, 2, 4), "at the node that contains itself (2:4): %u:%u", info.line,
	       info.column);
	lim.max_nodes = 0;
	tap_is_int(load("a: 1\nb: &r [1, *r]\n", &lim, &info, NULL), YU_OK,
		   "max_nodes 0: the graph is not checked");
	lim.max_nodes = base.max_nodes;

	/* 1 + 1 + 5 + 1 + (1 + 12 * 5) = 69 nodes once expanded */
	static const char fan[] = "a: &a [x, x, x, x]\n"
				  "b: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n";
	tap_is_int(load(fan, &lim, &info, NULL), YU_ETOO_MANY_NODES,
		   "69 nodes once aliases are expanded: more than max_nodes 50");
	tap_ok(AT(info, 1, 1), "reported at the root (1:1): %u:%u", info.line, info.column);
	lim.max_nodes = 69;
	tap_is_int(load(fan, &lim, &info, NULL), YU_OK, "max_nodes 69 takes them");
	lim.max_nodes = base.max_nodes;

	tap_is_int(load("a: &a [[x]]\nb: [*a]\n", &lim, &info, NULL), YU_ETOO_DEEP_EXPANDED,
		   "3 levels, 4 once the alias is expanded: refused");
	tap_ok(AT(info, 1, 4), "at the anchored node (1:4): %u:%u", info.line, info.column);
	tap_is_int(load("a: &a [x]\nb: [*a]\n", &lim, &info, NULL), YU_OK,
		   "3 levels with the alias expanded load");
}

static void test_errors(void)
{
	yu_limits lim = base;
	yu_load_info info;
	yaml_node_type_t root;

	tap_is_int(load("a: [1, 2\nb: 3\n", &lim, &info, NULL), YU_ESYNTAX, "a syntax error");
	tap_ok(AT(info, 2, 2) && info.problem && !strcmp(info.problem, "did not find expected ',' or ']'"),
	       "libyaml's problem and position: %u:%u %s", info.line, info.column,
	       info.problem ? info.problem : "(none)");
	tap_ok(info.context && !strcmp(info.context, "while parsing a flow sequence") &&
		       info.context_line == 1 && info.context_column == 4,
	       "and its context: %s at %u:%u", info.context ? info.context : "(none)",
	       info.context_line, info.context_column);
	tap_is_int(load("a: b\nc: \xff\n", &lim, &info, NULL), YU_ENOT_TEXT, "invalid UTF-8");
	tap_ok(AT(info, 2, 4) && info.byte == 0xff, "the byte and its position: 0x%02x at %u:%u",
	       info.byte, info.line, info.column);
	tap_is_int(load("", &lim, &info, &root), YU_OK, "an empty text loads");
	tap_is_int(root, YAML_NO_NODE, "without a root node");

	tap_is_int(load("a: 1\n---\nb: [\n", &lim, &info, NULL), YU_ESYNTAX,
		   "whole_stream: a syntax error in the second document fails");
	tap_ok(info.second_line == 2 && info.second_column == 1,
	       "and the second document is noted (2:1): %u:%u", info.second_line,
	       info.second_column);
	lim.whole_stream = false;
	tap_is_int(load("a: 1\n---\nb: [\n", &lim, &info, &root), YU_OK,
		   "otherwise only the first document counts");
	tap_is_int(root, YAML_MAPPING_NODE, "and is loaded");
}

static void test_load_file(void)
{
	yaml_document_t doc;
	unsigned int line = 0, col = 0;
	char problem[128] = "", deep[100];
	int fd, rc;

	snprintf(deep, sizeof(deep), "a: %.*s\n", YU_MAX_DEPTH,
		 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
	tap_write("deep.yaml", deep);
	rc = yu_load_file(&doc, "deep.yaml", MREG_ECORRUPT, false, &line, &col, problem,
			  sizeof(problem));
	tap_is_int(rc, MREG_ECORRUPT, "%d levels in a file are refused with the code asked for",
		   YU_MAX_DEPTH + 1);
	tap_is_str(mreg_error_last(), "deep.yaml:1:67: nesting is too deep", "the message");
	tap_ok(line == 1 && col == 67 && !strcmp(problem, "nesting is too deep"),
	       "position and problem out: %u:%u %s", line, col, problem);

	tap_write("alias.yaml", "a: &x 1\nb: *x\n");
	rc = yu_load_file(&doc, "alias.yaml", MREG_EINVALID, false, NULL, NULL, NULL, 0);
	tap_is_int(rc, MREG_EINVALID, "an alias is refused when not allowed");
	tap_is_str(mreg_error_last(), "alias.yaml:2:4: aliases (*name) are not allowed in this file",
		   "the message");
	rc = yu_load_file(&doc, "alias.yaml", MREG_EINVALID, true, NULL, NULL, NULL, 0);
	tap_is_int(rc, 0, "and read when allowed");
	if (!rc) {
		yaml_node_t *b = yu_map_get(&doc, yaml_document_get_root_node(&doc), "b");
		tap_is_str(yu_scalar(b), "1", "the alias reads as its anchor's value");
		yaml_document_delete(&doc);
	}

	tap_write("syntax.yaml", "a: [1, 2\nb: 3\n");
	rc = yu_load_file(&doc, "syntax.yaml", MREG_ECORRUPT, false, &line, &col, problem,
			  sizeof(problem));
	tap_is_str(mreg_error_last(),
		   "syntax.yaml:2:2: did not find expected ',' or ']' while parsing a flow sequence",
		   "a syntax error names the file, line and column");
	tap_ok(line == 2 && col == 2, "position out: %u:%u", line, col);

	tap_write("bad.yaml", "a: \xff\n");
	rc = yu_load_file(&doc, "bad.yaml", MREG_ECORRUPT, false, &line, &col, NULL, 0);
	tap_is_str(mreg_error_last(), "bad.yaml: invalid leading UTF-8 octet",
		   "not text: the file and libyaml's words");

	tap_is_int(yu_load_file(&doc, "missing.yaml", MREG_ECORRUPT, false, NULL, NULL, NULL, 0),
		   MREG_ENOTFOUND, "a missing file is not found");

	fd = open("huge.yaml", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	rc = fd >= 0 ? ftruncate(fd, (off_t)YU_MAX_BYTES + 1) : -1;
	if (fd >= 0)
		close(fd);
	tap_ok(rc == 0, "a sparse file one byte over YU_MAX_BYTES");
	tap_is_int(yu_load_file(&doc, "huge.yaml", MREG_ECORRUPT, false, NULL, NULL, NULL, 0),
		   MREG_ECORRUPT, "is refused before it is read");
	tap_ok(strstr(mreg_error_last(), "huge.yaml: 268435457 bytes is too large") != NULL,
	       "the message: %s", mreg_error_last());
	unlink("huge.yaml");
}

int main(void)
{
	tap_tmpdir();
	test_resolve();
	test_writer();
	test_limits();
	test_errors();
	test_load_file();
	return tap_done();
}

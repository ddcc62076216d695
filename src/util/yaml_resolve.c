/*
 * What a plain scalar stands for. The table is PyYAML's implicit resolvers
 * (yaml/resolver.py: bool, float, int, null, timestamp; YAML 1.1), which MLflow
 * reads MLmodel with, plus the cautious rules mreg's writer quotes by so that
 * other readers (YAML 1.1 by the letter, YAML 1.2) read its strings back as
 * strings too.
 */
#include <pthread.h>
#include <regex.h>
#include <stdbool.h>
#include <string.h>

#include "yamlutil.h"

typedef struct {
	const char *pattern;
	yu_type type;
	regex_t re;
} rule;

#define RULE(pattern_, type_) {.pattern = (pattern_), .type = (type_)}

/* Tried in this order, as PyYAML's resolver tries them. */
static rule pyyaml[] = {
	RULE("^(~|null|Null|NULL|)$", YU_NULL),
	RULE("^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
	     YU_BOOL),
	RULE("^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|"
	     "[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$",
	     YU_INT),
	RULE("^([-+]?([0-9][0-9_]*)\\.[0-9_]*([eE][-+][0-9]+)?|\\.[0-9_]+([eE][-+][0-9]+)?|"
	     "[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(inf|Inf|INF)|"
	     "\\.(nan|NaN|NAN))$",
	     YU_FLOAT),
	RULE("^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+)"
	     "[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)$",
	     YU_TIMESTAMP),
};

/*
 * Beyond PyYAML, for YU_CAUTIOUS: YAML 1.1's y/n booleans; numbers with _,
 * 0x/0o/0b, base 60 or an exponent without a dot (YAML 1.2: 1e3); dates
 * followed by anything. Broad on purpose: quoting a string costs nothing.
 */
static rule cautious[] = {
	RULE("^(y|Y|n|N)$", YU_BOOL),
	RULE("^[-+]?(0[xob][0-9a-fA-F_]+|[0-9][0-9_]*(:[0-5]?[0-9])*)$", YU_INT),
	RULE("^[-+]?([0-9_]*\\.[0-9_]*([eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+)$", YU_FLOAT),
	RULE("^[-+]?[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?$", YU_TIMESTAMP),
};

static bool compiled;

static void compile_rules(void)
{
	bool ok = true;

	for (size_t i = 0; i < sizeof(pyyaml) / sizeof(*pyyaml); i++)
		ok = ok && !regcomp(&pyyaml[i].re, pyyaml[i].pattern, REG_EXTENDED | REG_NOSUB);
	for (size_t i = 0; i < sizeof(cautious) / sizeof(*cautious); i++)
		ok = ok && !regcomp(&cautious[i].re, cautious[i].pattern, REG_EXTENDED | REG_NOSUB);
	compiled = ok;
}

static yu_type match(const rule *rules, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!regexec(&rules[i].re, s, 0, NULL, 0))
			return rules[i].type;
	return YU_STR;
}

yu_type yu_resolve(const char *s, size_t len, yu_schema schema)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	yu_type t = YU_STR;

	pthread_once(&once, compile_rules);
	if (!compiled || strlen(s) != len)
		return YU_STR;
	/* Every rule above wants one of these first (PyYAML keys its resolvers by
	 * the first character too); a path or a digest goes no further. */
	if (len > 0 && !strchr("~nNyYtTfFoO-+0123456789._", s[0]))
		return YU_STR;
	/* Nothing that long is a YAML number, boolean, null or timestamp MLmodel would hold. */
	if (len <= 100)
		t = match(pyyaml, sizeof(pyyaml) / sizeof(*pyyaml), s);
	if (t == YU_STR && schema == YU_CAUTIOUS)
		t = match(cautious, sizeof(cautious) / sizeof(*cautious), s);
	return t;
}

bool yu_needs_quotes(const char *s)
{
	return yu_resolve(s, strlen(s), YU_CAUTIOUS) != YU_STR;
}

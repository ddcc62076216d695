/*
 * mlflow_model: whether PyYAML's SafeConstructor can build a scalar.
 *
 * The resolver (util/yaml_resolve.c, mlf_type_of()) says what type a scalar
 * is: an explicit tag (!!int x) decides, else YAML 1.1's implicit rules.
 * Being typed is not being built: yaml.safe_load runs the type's constructor
 * on the text, and the constructor raises where the text is no such value
 * (!!int x, !!bool maybe, a timestamp on the 13th month, 0x_ whose
 * underscores leave nothing). MLflow's Model.load then fails, so such a
 * file does not load. This file follows SafeConstructor's construct_yaml_int,
 * construct_yaml_float, construct_yaml_bool and construct_yaml_timestamp
 * (PyYAML 6, constructor.py), and Python's int() and float() on what they
 * are handed, for ASCII text.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mlflow/mlflow_model.h"

/* A copy of @s without underscores (construct_yaml_int and _float drop them), or false if too long. */
static bool strip_underscores(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '_')
			continue;
		if (n + 1 >= cap)
			return false;
		out[n++] = s[i];
	}
	out[n] = '\0';
	return true;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* [@b, @e) without the whitespace Python's int() and float() strip. */
static void trim(const char **b, const char **e)
{
	while (*b < *e && is_space(**b))
		(*b)++;
	while (*e > *b && is_space((*e)[-1]))
		(*e)--;
}

static bool digits_in_base(const char *b, const char *e, int base)
{
	if (b == e)
		return false;
	for (; b < e; b++) {
		char c = *b;
		int v = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;
		if (v >= base)
			return false;
	}
	return true;
}

/*
 * Python's int(text, base) on [b, e): whitespace around, a sign, and the
 * prefix (0b, 0o, 0x) int() takes when it matches the base.
 */
static bool python_int(const char *b, const char *e, int base)
{
	char prefix = base == 2 ? 'b' : base == 8 ? 'o' : base == 16 ? 'x' : 0;

	trim(&b, &e);
	if (b < e && (*b == '-' || *b == '+'))
		b++;
	if (prefix && e - b > 2 && b[0] == '0' && (b[1] | 0x20) == prefix)
		b += 2;
	return digits_in_base(b, e, base);
}

static bool construct_int(const char *text, size_t len)
{
	char buf[256];
	const char *v = buf, *end;

	if (!strip_underscores(text, len, buf, sizeof(buf)))
		return true; /* longer than any number MLflow writes: not judged */
	if (*v == '-' || *v == '+')
		v++;
	end = v + strlen(v);
	if (!strcmp(v, "0"))
		return true;
	if (!strncmp(v, "0b", 2))
		return python_int(v + 2, end, 2);
	if (!strncmp(v, "0x", 2))
		return python_int(v + 2, end, 16);
	if (*v == '0')
		return python_int(v, end, 8);
	if (strchr(v, ':')) {
		for (const char *p = v;; p++) {
			const char *q = strchr(p, ':');
			if (!python_int(p, q ? q : end, 10))
				return false;
			if (!q)
				return true;
			p = q;
		}
	}
	/* v[0] with nothing left is an IndexError in construct_yaml_int. */
	return *v && python_int(v, end, 10);
}

/* Python's float() on [b, e): whitespace, a sign, inf/infinity/nan or a decimal number. */
static bool python_float(const char *b, const char *e)
{
	size_t int_digits = 0, frac_digits = 0;

	trim(&b, &e);
	if (b < e && (*b == '-' || *b == '+'))
		b++;
	if ((size_t)(e - b) == 3 && (!strncasecmp(b, "inf", 3) || !strncasecmp(b, "nan", 3)))
		return true;
	if ((size_t)(e - b) == 8 && !strncasecmp(b, "infinity", 8))
		return true;
	for (; b < e && *b >= '0' && *b <= '9'; b++)
		int_digits++;
	if (b < e && *b == '.')
		for (b++; b < e && *b >= '0' && *b <= '9'; b++)
			frac_digits++;
	if (!int_digits && !frac_digits)
		return false;
	if (b < e && (*b == 'e' || *b == 'E')) {
		b++;
		if (b < e && (*b == '-' || *b == '+'))
			b++;
		if (b == e || *b < '0' || *b > '9')
			return false;
		while (b < e && *b >= '0' && *b <= '9')
			b++;
	}
	return b == e;
}

static bool construct_float(const char *text, size_t len)
{
	char buf[256];
	const char *v = buf, *end;

	if (!strip_underscores(text, len, buf, sizeof(buf)))
		return true;
	for (char *p = buf; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (!*v)
		return false; /* value[0]: IndexError */
	if (*v == '-' || *v == '+')
		v++;
	end = v + strlen(v);
	if (!strcmp(v, ".inf") || !strcmp(v, ".nan"))
		return true;
	if (strchr(v, ':')) {
		for (const char *p = v;; p++) {
			const char *q = strchr(p, ':');
			if (!python_float(p, q ? q : end))
				return false;
			if (!q)
				return true;
			p = q;
		}
	}
	return python_float(v, end);
}

static bool construct_bool(const char *text, size_t len)
{
	static const char *const words[] = {"yes", "no", "true", "false", "on", "off"};

	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (len == strlen(words[i]) && !strncasecmp(text, words[i], len))
			return true;
	return false;
}

/* Up to @max digits at *@p (at least @min), their value in *@out. */
static bool take_digits(const char **p, const char *e, int min, int max, int *out)
{
	int n = 0, v = 0;

	while (*p < e && n < max && **p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	*out = v;
	return n >= min;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * construct_yaml_timestamp: its regular expression (looser than the implicit
 * resolver's: one-digit months, days and hours, any fraction), then
 * datetime.date() or datetime.datetime(), which refuse a day, month, year,
 * hour, minute or second out of range.
 */
static bool construct_timestamp(const char *text, size_t len)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = text, *e = text + len;
	int year, month, day, hour, minute, second, tz_hour, tz_minute = 0;

	if (!take_digits(&p, e, 4, 4, &year) || p == e || *p++ != '-' ||
	    !take_digits(&p, e, 1, 2, &month) || p == e || *p++ != '-' ||
	    !take_digits(&p, e, 1, 2, &day))
		return false;
	if (year < 1 || month < 1 || month > 12 || day < 1 ||
	    day > mdays[month - 1] + (month == 2 && leap(year)))
		return false;
	if (p == e)
		return true;
	if (*p == 'T' || *p == 't') {
		p++;
	} else {
		if (*p != ' ' && *p != '\t')
			return false;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
	}
	if (!take_digits(&p, e, 1, 2, &hour) || p == e || *p++ != ':' ||
	    !take_digits(&p, e, 2, 2, &minute) || p == e || *p++ != ':' ||
	    !take_digits(&p, e, 2, 2, &second))
		return false;
	if (hour > 23 || minute > 59 || second > 59)
		return false;
	if (p < e && *p == '.')
		for (p++; p < e && *p >= '0' && *p <= '9'; p++)
			;
	if (p == e)
		return true;
	/* Blanks only before a zone: "(?:[ \t]*(?P<tz>...))?$". */
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (p == e)
		return false;
	if (*p == 'Z')
		return p + 1 == e;
	if (*p != '-' && *p != '+')
		return false;
	p++;
	if (!take_digits(&p, e, 1, 2, &tz_hour))
		return false;
	if (p < e && *p == ':') {
		p++;
		if (!take_digits(&p, e, 2, 2, &tz_minute))
			return false;
	}
	/* datetime.timezone() takes an offset strictly within a day. */
	return p == e && tz_hour * 60 + tz_minute < 24 * 60;
}

const char *mlf_scalar_unbuildable(const yaml_node_t *n)
{
	const char *text;
	size_t len;

	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	text = (const char *)n->data.scalar.value;
	len = n->data.scalar.length;
	if (memchr(text, '\0', len))
		return NULL; /* not text a constructor is handed; the loader judges it */
	switch (mlf_type_of(n)) {
	case MLF_INT:
		return construct_int(text, len) ? NULL : "an integer";
	case MLF_FLOAT:
		return construct_float(text, len) ? NULL : "a floating-point number";
	case MLF_BOOL:
		return construct_bool(text, len) ? NULL : "a boolean";
	case MLF_TIMESTAMP:
		return construct_timestamp(text, len) ? NULL : "a date or timestamp";
	default:
		return NULL;
	}
}

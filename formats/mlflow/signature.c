/*
 * mlflow_model: the signature. Its inputs, outputs and params are JSON texts
 * stored as YAML strings (signature.py); libyaml has already undone the
 * single-quote folding, so the text goes to jansson as it is. The schema
 * rules mirror mlflow/types/schema.py (Schema, ColSpec, TensorSpec, Array,
 * Object, Map, ParamSchema, ParamSpec).
 */
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error_priv.h"
#include "mlflow/mlflow_model.h"
#include "util/strutil.h"

#define E MREG_DIAG_ERROR
#define W MREG_DIAG_WARNING

/* Past this many problems in one field, the rest are counted, not listed. */
#define MAX_PROBLEMS 20
/* schema.py recurses per nesting level; Python gives up long before this. */
#define MAX_TYPE_DEPTH 64

static const char *basic_types[] = {"boolean", "integer", "long", "float", "double", "string",
	"binary", "datetime"};

/* numpy dtype names np.dtype() accepts (sized flexible types like <U10 are refused by MLflow). */
static const char *dtype_names[] = {"bool", "bool_", "bool8", "int8", "int16", "int32", "int64",
	"uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64", "float96",
	"float128", "complex64", "complex128", "complex192", "complex256", "object", "object_",
	"str", "str_", "unicode", "unicode_", "bytes", "bytes_", "string_", "void", "int", "float",
	"complex", "double", "single", "half", "longdouble", "longfloat", "longlong", "ulonglong",
	"short", "ushort", "intc", "uintc", "intp", "uintp", "int_", "uint", "long", "ulong",
	"byte", "ubyte", "float_", "complex_", "cfloat", "cdouble", "csingle", "clongdouble",
	"clongfloat", "longcomplex", "datetime64", "timedelta64"};

typedef struct {
	mlf_ctx *c;
	const yaml_node_t *at; /* the YAML string that holds the JSON */
	const char *field;     /* "inputs", "outputs", "params" */
	const char *code;      /* mlflow-schema or mlflow-params */
	size_t problems;
} sig_check;

static void problem(sig_check *s, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(sig_check *s, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (++s->problems > MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mlf_diag(s->c, E, &s->c->mlmodel, s->at, s->code, "signature %s: %s", where, msg);
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "nothing";
}

static regex_t dtype_code, dtype_named;
static bool dtype_re_ok;

static void compile_dtype_patterns(void)
{
	/* Array-protocol codes: <f8, i4, |b1, O, M8[ns], U, S ... */
	dtype_re_ok = !regcomp(&dtype_code,
			      "^[<>=|]?([biufc](1|2|4|8|16)|[?bBhHiIlLqQpPefdgFDGO]|[SUVa][0-9]*|"
			      "[Mm]8(\\[[0-9]*(Y|M|W|D|h|m|s|ms|us|ns|ps|fs|as|generic)\\])?)$",
			      REG_EXTENDED | REG_NOSUB) &&
		      !regcomp(&dtype_named,
			      "^(datetime64|timedelta64)\\[[0-9]*(Y|M|W|D|h|m|s|ms|us|ns|ps|fs|as|"
			      "generic)\\]$", REG_EXTENDED | REG_NOSUB);
}

static bool dtype_ok(const char *d, bool *sized)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	char base[32];
	size_t n;

	*sized = false;
	pthread_once(&once, compile_dtype_patterns);
	if (STR_IN_ARRAY(d, dtype_names) || (dtype_re_ok && !regexec(&dtype_named, d, 0, NULL, 0)))
		return true;
	if (!dtype_re_ok || regexec(&dtype_code, d, 0, NULL, 0))
		return false;
	/* "U10", "<S5", "a3": a flexible type with a size, which schema.py refuses. */
	n = strspn(d, "<>=|");
	snprintf(base, sizeof(base), "%s", d + n);
	if ((base[0] == 'U' || base[0] == 'S' || base[0] == 'a') && base[1] &&
	    strspn(base + 1, "0") != strlen(base + 1))
		*sized = true;
	return true;
}

static bool check_type(sig_check *s, json_t *obj, const char *where, int depth, bool colspec,
		       bool property);

/* {"type": "array", "items": {...}} and {"type": "map", "values": {...}} */
static bool check_inner(sig_check *s, json_t *obj, const char *key, const char *where,
			int depth)
{
	json_t *inner = json_object_get(obj, key);
	char sub[256];

	snprintf(sub, sizeof(sub), "%s.%s", where, key);
	if (!inner) {
		problem(s, where, "%s type has no '%s'", key[0] == 'i' ? "an array" : "a map", key);
		return false;
	}
	if (!json_is_object(inner)) {
		problem(s, sub, "must be an object with a 'type', not %s", json_kind(inner));
		return false;
	}
	return check_type(s, inner, sub, depth + 1, false, false);
}

/* A type object: a ColSpec, an object property, array items or map values. */
static bool check_type(sig_check *s, json_t *obj, const char *where, int depth, bool colspec,
		       bool property)
{
	json_t *t = json_object_get(obj, "type");
	const char *ty;

	if (depth > MAX_TYPE_DEPTH) {
		problem(s, where, "types nested deeper than %d levels", MAX_TYPE_DEPTH);
		return false;
	}
	if (!t) {
		problem(s, where, "has no 'type'");
		return false;
	}
	if (!json_is_string(t)) {
		problem(s, where, "'type' must be a type name, not %s", json_kind(t));
		return false;
	}
	ty = json_string_value(t);
	if (STR_IN_ARRAY(ty, basic_types)) {
		const char *k;
		json_t *v;
		/* schema.py builds ColSpec(**x): any other key is a TypeError. */
		if (colspec)
			json_object_foreach(obj, k, v) {
				if (strcmp(k, "type") && strcmp(k, "name") && strcmp(k, "required")) {
					problem(s, where,
						"unexpected key '%s' (a column of type '%s' has only "
						"type, name and required)", k, ty);
					return false;
				}
			}
		return true;
	}
	if (!strcmp(ty, "array"))
		return check_inner(s, obj, "items", where, depth);
	if (!strcmp(ty, "map"))
		return check_inner(s, obj, "values", where, depth);
	if (!strcmp(ty, "any"))
		return true;
	if (!strcmp(ty, "sparkml_vector")) {
		if (property) {
			problem(s, where, "an object property cannot be a sparkml_vector");
			return false;
		}
		return true;
	}
	if (!strcmp(ty, "object")) {
		json_t *props = json_object_get(obj, "properties"), *v;
		const char *k;
		bool ok = true;
		char sub[256];
		if (!props) {
			problem(s, where, "an object type has no 'properties'");
			return false;
		}
		if (!json_is_object(props)) {
			problem(s, where, "'properties' must be an object of property types, not %s",
				json_kind(props));
			return false;
		}
		if (!json_object_size(props)) {
			problem(s, where, "'properties' is empty (MLflow: Creating Object with empty "
				"properties is not allowed)");
			return false;
		}
		json_object_foreach(props, k, v) {
			snprintf(sub, sizeof(sub), "%s.properties.%s", where, k);
			if (!json_is_object(v)) {
				problem(s, sub, "must be an object with a 'type', not %s", json_kind(v));
				ok = false;
				continue;
			}
			ok = check_type(s, v, sub, depth + 1, false, true) && ok;
		}
		return ok;
	}
	if (!strcmp(ty, "tensor"))
		problem(s, where, "'tensor' is not a type here (tensor specs are top-level entries)");
	else
		problem(s, where,
			"unknown type '%s' (MLflow knows boolean, integer, long, float, double, "
			"string, binary, datetime, array, object, map, any, sparkml_vector)", ty);
	return false;
}

static void check_tensor(sig_check *s, json_t *x, const char *where)
{
	json_t *spec = json_object_get(x, "tensor-spec"), *dtype, *shape, *dim;
	bool sized;
	size_t i;

	if (!spec) {
		problem(s, where, "a tensor spec has no 'tensor-spec'");
		return;
	}
	if (!json_is_object(spec)) {
		problem(s, where, "'tensor-spec' must be an object with dtype and shape, not %s",
			json_kind(spec));
		return;
	}
	dtype = json_object_get(spec, "dtype");
	shape = json_object_get(spec, "shape");
	if (!dtype)
		problem(s, where, "'tensor-spec' has no 'dtype'");
	else if (!json_is_string(dtype))
		problem(s, where, "'dtype' must be a numpy type name, not %s", json_kind(dtype));
	else if (!dtype_ok(json_string_value(dtype), &sized))
		problem(s, where, "unknown numpy dtype '%s'", json_string_value(dtype));
	else if (sized)
		problem(s, where,
			"dtype '%s' has a size; MLflow does not support sized flexible types "
			"(use 'str' or 'bytes')", json_string_value(dtype));
	if (!shape) {
		problem(s, where, "'tensor-spec' has no 'shape'");
	} else if (!json_is_array(shape)) {
		problem(s, where, "'shape' must be a list of dimensions, not %s", json_kind(shape));
	} else {
		/* TensorInfo checks only that the shape is a list (or tuple). */
		json_array_foreach(shape, i, dim) {
			if (!json_is_integer(dim) || json_integer_value(dim) < -1) {
				mlf_diag(s->c, W, &s->c->mlmodel, s->at, s->code,
					 "signature %s: 'shape' should hold integers (-1 for a variable "
					 "dimension), not %s (MLflow keeps the shape as it is)",
					 where, json_is_integer(dim) ? "a number below -1" : json_kind(dim));
				break;
			}
		}
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names that repeat make MLflow match columns to the wrong values. */
static void warn_duplicates(sig_check *s, const char **names, size_t n, const char *what)
{
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(names[i], names[i - 1]) && (i < 2 || strcmp(names[i], names[i - 2])))
			mlf_diag(s->c, W, &s->c->mlmodel, s->at, "mlflow-column-name",
				 "signature %s: %s '%s' appears more than once", s->field, what,
				 names[i]);
}

/* Schema.from_json + Schema.__init__ */
static void check_schema(sig_check *s, json_t *arr)
{
	size_t n, i, named = 0, unnamed = 0, tensors = 0, columns = 0, unnamed_optional = 0;
	const char **names = NULL;
	size_t name_count = 0;
	json_t *x;
	char where[64];

	if (!json_is_array(arr)) {
		problem(s, s->field, "must be a JSON list of column or tensor specs, not %s",
			json_kind(arr));
		return;
	}
	n = json_array_size(arr);
	if (!n) {
		problem(s, s->field,
			"is an empty list (MLflow: Creating Schema with empty inputs is not allowed)");
		return;
	}
	names = calloc(n, sizeof(*names));
	if (!names) {
		s->c->rc = mreg_seterr_nomem();
		return;
	}
	json_array_foreach(arr, i, x) {
		json_t *name, *type, *req;
		snprintf(where, sizeof(where), "%s[%zu]", s->field, i);
		if (!json_is_object(x)) {
			problem(s, where, "must be an object with a 'type', not %s", json_kind(x));
			continue;
		}
		type = json_object_get(x, "type");
		name = json_object_get(x, "name");
		if (name && !json_is_null(name)) {
			named++;
			if (json_is_string(name))
				names[name_count++] = json_string_value(name);
			else
				mlf_diag(s->c, W, &s->c->mlmodel, s->at, "mlflow-column-name",
					 "signature %s: the name is %s, not a string", where,
					 json_kind(name));
		} else {
			unnamed++;
		}
		if (json_is_string(type) && !strcmp(json_string_value(type), "tensor")) {
			tensors++;
			check_tensor(s, x, where);
			continue;
		}
		columns++;
		if (!check_type(s, x, where, 0, true, false))
			continue;
		req = json_object_get(x, "required");
		if (json_is_false(req) && !(name && !json_is_null(name)))
			unnamed_optional++;
	}
	if (named && unnamed)
		problem(s, s->field, "mixes named and unnamed entries (MLflow: all or none are named)");
	if (tensors && columns)
		problem(s, s->field, "mixes column specs and tensor specs (MLflow: one kind only)");
	else if (tensors > 1 && unnamed)
		problem(s, s->field, "has several tensors without names (MLflow: name each tensor)");
	else if (!named && unnamed_optional)
		problem(s, s->field,
			"has unnamed optional columns (MLflow: name them or make them required)");
	warn_duplicates(s, names, name_count, "name");
	free(names);
}

/* ParamSpec.validate_type_and_shape for one value. */
static bool default_fits(const char *type, json_t *v)
{
	if (!strcmp(type, "boolean"))
		return json_is_boolean(v);
	if (!strcmp(type, "integer") || !strcmp(type, "long"))
		return json_is_integer(v);
	if (!strcmp(type, "float") || !strcmp(type, "double"))
		return json_is_number(v);
	if (!strcmp(type, "string"))
		return json_is_string(v);
	if (!strcmp(type, "datetime")) {
		const char *d = json_string_value(v);
		/* An ISO date, optionally with a time: 2024-01-31[T ...] */
		return d && strlen(d) >= 10 && strspn(d, "0123456789") == 4 && d[4] == '-' &&
		       strspn(d + 5, "0123456789") == 2 && d[7] == '-' &&
		       strspn(d + 8, "0123456789") == 2 && (!d[10] || d[10] == 'T' || d[10] == ' ');
	}
	if (!strcmp(type, "object"))
		return json_is_object(v);
	return false;
}

/* ParamSchema.from_json + ParamSpec */
static void check_params(sig_check *s, json_t *arr)
{
	size_t i, n, name_count = 0;
	json_t *x;
	char where[64];
	const char **names;

	if (!json_is_array(arr)) {
		problem(s, s->field, "must be a JSON list of parameter specs, not %s", json_kind(arr));
		return;
	}
	n = json_array_size(arr);
	names = calloc(n ? n : 1, sizeof(*names));
	if (!names) {
		s->c->rc = mreg_seterr_nomem();
		return;
	}
	json_array_foreach(arr, i, x) {
		json_t *name, *type, *dflt, *shape;
		const char *ty;
		bool list = false;
		snprintf(where, sizeof(where), "%s[%zu]", s->field, i);
		if (!json_is_object(x)) {
			problem(s, where, "must be an object with name, type and default, not %s",
				json_kind(x));
			continue;
		}
		name = json_object_get(x, "name");
		dflt = json_object_get(x, "default");
		/* `kwargs.get("type") or kwargs.get("dtype")`: the legacy key still loads. */
		type = json_object_get(x, "type");
		if (!type || json_is_null(type) ||
		    (json_is_string(type) && !json_string_value(type)[0]))
			type = json_object_get(x, "dtype");
		if (!name || !type || !dflt) {
			problem(s, where, "lacks %s (a parameter has name, type and default)",
				!name ? "'name'" : !type ? "'type'" : "'default'");
			continue;
		}
		if (json_is_string(name)) {
			names[name_count++] = json_string_value(name);
			snprintf(where, sizeof(where), "%s '%.40s'", s->field, json_string_value(name));
		}
		if (!json_is_string(type)) {
			problem(s, where, "'type' must be a type name, not %s", json_kind(type));
			continue;
		}
		ty = json_string_value(type);
		if (!strcmp(ty, "binary")) {
			problem(s, where, "binary is not supported for parameters");
			continue;
		}
		if (!strcmp(ty, "object")) {
			if (!check_type(s, x, where, 0, false, false))
				continue;
		} else if (!STR_IN_ARRAY(ty, basic_types)) {
			problem(s, where,
				"unknown type '%s' (parameters are boolean, integer, long, float, "
				"double, string, datetime or object)", ty);
			continue;
		}
		shape = json_object_get(x, "shape");
		if (shape && !json_is_null(shape)) {
			if (json_is_array(shape) && json_array_size(shape) == 1 &&
			    json_is_integer(json_array_get(shape, 0)) &&
			    json_integer_value(json_array_get(shape, 0)) == -1) {
				list = true;
			} else {
				problem(s, where, "'shape' must be null (a scalar) or [-1] (a list)");
				continue;
			}
		}
		if (json_is_null(dflt))
			continue;
		if (list) {
			size_t j;
			json_t *v;
			if (!json_is_array(dflt)) {
				problem(s, where, "shape [-1] needs a list as default, not %s",
					json_kind(dflt));
				continue;
			}
			json_array_foreach(dflt, j, v) {
				if (!default_fits(ty, v)) {
					problem(s, where, "default item %zu is %s, not a %s value", j,
						json_kind(v), ty);
					break;
				}
			}
		} else if (!default_fits(ty, dflt)) {
			problem(s, where, "default is %s, not a %s value", json_kind(dflt), ty);
		}
	}
	/* ParamSchema: "Duplicated parameters found in schema" */
	qsort(names, name_count, sizeof(*names), cmp_str);
	for (size_t j = 1; j < name_count; j++)
		if (!strcmp(names[j], names[j - 1]) && (j < 2 || strcmp(names[j], names[j - 2])))
			problem(s, s->field, "parameter '%s' appears more than once (MLflow: Duplicated "
				"parameters found in schema)", names[j]);
	free(names);
}

/* The JSON of one field, or NULL (absent/null/empty, or a problem reported when c is set). */
/* Python's json.loads also takes NaN, Infinity and -Infinity as numbers:
 * parse @text with those (outside strings) read as 0.0, or NULL. */
static json_t *json_with_nan(const char *text, size_t len)
{
	char *copy = malloc(len + 1);
	bool in_str = false, changed = false;
	json_t *v = NULL;

	if (!copy)
		return NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (in_str) {
			if (copy[i] == '\\')
				i++;
			else if (copy[i] == '"')
				in_str = false;
			continue;
		}
		if (copy[i] == '"') {
			in_str = true;
		} else if (!strncmp(copy + i, "NaN", 3) || !strncmp(copy + i, "Infinity", 8)) {
			size_t w = copy[i] == 'N' ? 3 : 8;
			memset(copy + i, ' ', w);
			memcpy(copy + i, "0.0", 3); /* a float, as NaN and Infinity are */
			changed = true;
			i += w - 1;
		}
	}
	if (changed)
		v = json_loadb(copy, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	free(copy);
	return v;
}

static json_t *field_json(mlf_ctx *c, const mlf_yaml *y, const yaml_node_t *n, const char *field,
			  bool *present)
{
	json_error_t err;
	json_t *v;
	const char *text;

	*present = false;
	/* from_dict: `if x := signature_dict.get(...)`, so null and "" mean absent. */
	if (mlf_is_null(n) || (mlf_str(n) && !n->data.scalar.length))
		return NULL;
	*present = true;
	text = mlf_str(n);
	if (!text) {
		if (c)
			mlf_diag(c, E, y, n, "mlflow-signature",
				 "signature %s must be a JSON text in a YAML string, not %s", field,
				 mlf_type_name(mlf_type_of(n)));
		return NULL;
	}
	v = json_loadb(text, n->data.scalar.length, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!v && (v = json_with_nan(text, n->data.scalar.length)) && c)
		mlf_diag(c, W, y, n, "mlflow-signature-json",
			 "signature %s holds NaN or Infinity, which Python's json (and so MLflow) "
			 "reads but JSON does not allow", field);
	if (!v && c)
		mlf_diag(c, E, y, n, "mlflow-signature-json",
			 "signature %s is not valid JSON: %s (line %d, column %d of the JSON text)",
			 field, err.text, err.line, err.column);
	return v;
}

void mlf_check_signature(mlf_ctx *c, const yaml_node_t *sig)
{
	static const char *fields[] = {"inputs", "outputs", "params"};
	const mlf_yaml *y = &c->mlmodel;
	bool any = false;

	if (mlf_is_null(sig))
		return;
	/* Model.from_dict parses it only `if isinstance(model_dict["signature"], dict)`:
	 * anything else is stored as it is. */
	if (mlf_type_of(sig) != MLF_MAP) {
		mlf_diag(c, W, y, sig, "mlflow-signature",
			 "signature should be a mapping with inputs, outputs and params, not %s "
			 "(MLflow ignores it: the model has no signature)",
			 mlf_type_name(mlf_type_of(sig)));
		return;
	}
	for (yaml_node_pair_t *p = sig->data.mapping.pairs.start; p < sig->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node((yaml_document_t *)&y->doc, p->key);
		const char *key = mlf_text(k);
		if (key && !STR_IN_ARRAY(key, fields))
			mlf_diag(c, W, y, k, "mlflow-unknown-key",
				 "unknown key '%s' in signature (MLflow reads inputs, outputs and "
				 "params)", key);
	}
	for (size_t i = 0; i < 3; i++) {
		yaml_node_t *n = mlf_get(y, sig, fields[i]);
		sig_check s = {.c = c, .at = n, .field = fields[i],
			       .code = i == 2 ? "mlflow-params" : "mlflow-schema"};
		bool present;
		json_t *v = field_json(c, y, n, fields[i], &present);
		any = any || present;
		if (!v)
			continue;
		if (i == 2)
			check_params(&s, v);
		else
			check_schema(&s, v);
		if (s.problems > MAX_PROBLEMS)
			mlf_diag(c, E, y, n, s.code, "signature %s: %zu more problems not shown",
				 fields[i], s.problems - MAX_PROBLEMS);
		json_decref(v);
	}
	if (!any)
		mlf_diag(c, E, y, sig, "mlflow-signature",
			 "signature has no inputs, outputs or params (MLflow: At least one of inputs, "
			 "outputs or params must be provided)");
}

static int json_depth(json_t *v, int limit)
{
	int best = 0, d;
	const char *k;
	json_t *x;
	size_t i;

	if (limit <= 0)
		return 1;
	if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			if ((d = json_depth(x, limit - 1)) > best)
				best = d;
		}
		return best + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if ((d = json_depth(x, limit - 1)) > best)
				best = d;
		}
		return best + 1;
	}
	return 0;
}

json_t *mlf_signature_json(const mlf_yaml *y, const yaml_node_t *sig)
{
	static const char *fields[] = {"inputs", "outputs", "params"};
	json_t *out = json_object();

	if (!out)
		return NULL;
	for (size_t i = 0; i < 3; i++) {
		yaml_node_t *n = mlf_get(y, sig, fields[i]);
		bool present;
		json_t *v = field_json(NULL, y, n, fields[i], &present);
		/* The record keeps 64 levels; a deeper schema stays as its text. */
		if (v && json_depth(v, 50) >= 48) {
			json_decref(v);
			v = json_stringn(mlf_text(n), n->data.scalar.length);
		}
		if (v)
			json_object_set_new(out, fields[i], v);
	}
	if (!json_object_size(out)) {
		json_decref(out);
		return NULL;
	}
	return out;
}

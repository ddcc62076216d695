/* Triton's config schema: the table's completeness against the reference,
 * and the checker's verdicts in protobuf's words. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "triton/pbtxt.h"
#include "triton/triton_schema.h"

typedef struct {
	char msgs[8][512];
	unsigned lines[8], cols[8];
	size_t n;
} collected;

static void collect(void *ctx, unsigned line, unsigned col, const char *msg)
{
	collected *c = ctx;

	if (c->n < 8) {
		snprintf(c->msgs[c->n], sizeof(c->msgs[0]), "%s", msg);
		c->lines[c->n] = line;
		c->cols[c->n] = col;
		c->n++;
	}
}

/* Check @text; return the tree (caller frees) and the errors in @c. */
static pbtxt_msg *check(const char *text, collected *c)
{
	pbtxt_msg *m = NULL;
	pbtxt_error err;

	memset(c, 0, sizeof(*c));
	if (pbtxt_parse_schema(&m, text, strlen(text), &ts_pbtxt_schema, &err)) {
		/* The parser follows the schema: a wrong token for a known field
		 * is its error, after any schema error before it. */
		ts_check(m, collect, c);
		collect(c, err.line, err.column, err.message);
		return m;
	}
	ts_check(m, collect, c);
	return m;
}

static void accepts(const char *text, const char *what)
{
	collected c;
	pbtxt_msg *m = check(text, &c);

	if (!tap_ok(m && c.n == 0, "accepted: %s", what) && c.n)
		printf("#   %u:%u: %s\n", c.lines[0], c.cols[0], c.msgs[0]);
	pbtxt_free(m);
}

static void rejects(const char *text, unsigned line, unsigned col, const char *want)
{
	collected c;
	pbtxt_msg *m = check(text, &c);

	if (!tap_ok(m && c.n >= 1 && !strcmp(c.msgs[0], want) && c.lines[0] == line &&
	                c.cols[0] == col,
	            "rejected at %u:%u: %s", line, col, want)) {
		if (c.n)
			printf("#   got %u:%u: %s\n", c.lines[0], c.cols[0], c.msgs[0]);
		else
			printf("#   got no error\n");
	}
	pbtxt_free(m);
}

static void test_checker(void)
{
	accepts(
	    "name: \"m\" platform: \"onnxruntime_onnx\" max_batch_size: 8\n"
	    "input [ { name: \"x\" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [3, -1, -1] "
	    "reshape: { shape: [] } } ]\n"
	    "output { name: \"y\" data_type: 11 dims: 1 dims: 2 label_filename: 'l.txt' }\n"
	    "instance_group [ { kind: KIND_CPU, count: 2 gpus: [] } ]\n"
	    "dynamic_batching { preferred_batch_size: [4, 8] max_queue_delay_microseconds: 100 "
	    "priority_queue_policy { key: 1 value: { timeout_action: DELAY } } }\n"
	    "parameters { key: \"k\" value: { string_value: \"v\" } }\n"
	    "parameters: [ { key: \"a\" }, { key: \"b\" value { } } ]\n"
	    "optimization { cuda { graphs: true graph_spec { batch_size: 1 input { key: \"x\" "
	    "value: { dim: [1, 2] } } } } execution_accelerators { gpu_execution_accelerator : [ "
	    "{ name : \"tensorrt\" parameters { key: \"precision_mode\" value: \"FP16\" } } ] } }\n"
	    "version_policy: { specific: { versions: [1, 3] } }\n"
	    "model_warmup [{}]\n"
	    "model_metrics { metric_control: [ { metric_identifier: { family: \"f\" } "
	    "histogram_options: { buckets: [ -5.0, -2, 0, 3.5, 5, inf ] } } ] }\n"
	    "response_cache { enable: True }",
	    "a config using most of the schema");
	accepts("max_batch_size: 0 max_batch_size: 2", "a zero scalar may be set again (proto3)");
	accepts("name: \"\" name: \"x\"", "an empty string may be set again");
	accepts("input { data_type: 99 }", "an enum number the enum does not name (open enum)");
	accepts("instance_group { kind: -1 }", "a negative enum number");

	rejects("foo: 1", 1, 4, "Message type \"inference.ModelConfig\" has no field named \"foo\".");
	rejects("input { Name: \"x\" }", 1, 13, "Message type \"inference.ModelInput\" has no field named \"Name\".");
	rejects("optimization { cuda { graph_spec { input { key: \"a\" valu: {} } } } }", 1, 57, "Message type \"inference.ModelOptimizationPolicy.Cuda.GraphSpec.InputEntry\" has "
	        "no field named \"valu\".");
	rejects("output { format: FORMAT_NCHW }", 1, 16, "Message type \"inference.ModelOutput\" has no field named \"format\".");
	rejects("max_batch_size 4", 1, 16, "Expected \":\", found \"4\".");
	rejects("dims: 4", 1, 5, "Message type \"inference.ModelConfig\" has no field named \"dims\".");
	rejects("input { dims [4] }", 1, 14, "Expected \":\", found \"[\".");
	rejects("name { }", 1, 6, "Expected \":\", found \"{\".");
	rejects("optimization: 4", 1, 15, "Expected \"{\", found \"4\".");
	rejects("optimization [ { } ]", 1, 14, "Expected \"{\", found \"[\".");
	rejects("name: [\"a\"]", 1, 7, "Expected string, got: [");
	rejects("name: { }", 1, 7, "Expected string, got: {");
	rejects("name: \"a\" name: \"b\"", 1, 15, "Non-repeated field \"name\" is specified multiple times.");
	rejects("optimization {} optimization {}", 1, 30, "Non-repeated field \"optimization\" is specified multiple times.");
	rejects("dynamic_batching { }\nsequence_batching { }", 2, 19, "Field \"sequence_batching\" is specified along with field \"dynamic_batching\", "
	        "another member of oneof \"scheduling_choice\".");
	rejects(
	    "model_warmup { inputs { key: \"a\" value { zero_data: false input_data_file: \"x\" } "
	    "} }",
	    1, 74, "Field \"input_data_file\" is specified along with field \"zero_data\", another member "
	    "of oneof \"input_data_type\".");
	rejects("version_policy { all {} latest {} }", 1, 32, "Field \"latest\" is specified along with field \"all\", another member of oneof "
	        "\"policy_choice\".");
	rejects("input { data_type: TYPE_FLOAT }", 1, 31, "Unknown enumeration value of \"TYPE_FLOAT\" for field \"data_type\".");
	rejects("input { data_type: \"TYPE_FP32\" }", 1, 20, "Expected integer or identifier, got: \"TYPE_FP32\"");
	rejects("instance_group { kind: KIND_NVDLA }", 1, 35, "Unknown enumeration value of \"KIND_NVDLA\" for field \"kind\".");
	rejects("max_batch_size: 4294967296", 1, 17, "Integer out of range (4294967296)");
	rejects("max_batch_size: 1.5", 1, 17, "Expected integer, got: 1.5");
	rejects("max_batch_size: \"4\"", 1, 17, "Expected integer, got: \"4\"");
	rejects("version_policy { latest { num_versions: -1 } }", 1, 41, "Expected integer, got: -");
	rejects("response_cache { enable: TRUE }", 1, 31, "Invalid value for boolean field \"enable\". Value: \"TRUE\".");
	rejects("input { dims: [1, 2.5] }", 1, 19, "Expected integer, got: 2.5");
	rejects("sequence_batching { direct { minimum_slot_utilization: x } }", 1, 56, "Expected double, got: x");
	/* Parsed with the schema, as protobuf parses: each checked against
	 * C++ TextFormat::ParseFromString (tests/conformance/pbtxt_oracle). */
	rejects("[ext.name]: 1", 1, 11,
	        "Extension \"ext.name\" is not defined or is not an extension of "
	        "\"inference.ModelConfig\".");
	rejects("max_batch_size: }", 1, 17, "Expected integer, got: }");
	rejects("input { dims: [1, }", 1, 19, "Expected integer, got: }");
	rejects("\tname \t\"x\"", 1, 17, "Expected \":\", found \"\"x\"\".");
	rejects("dynamic_batching [ ]", 1, 18, "Expected \"{\", found \"[\".");
	rejects("input { data_type: -TYPE_FP32 }", 1, 21, "Expected integer, got: TYPE_FP32");
	rejects("max_batch_size: -\"x\"", 1, 18, "Expected integer, got: \"x\"");
	rejects("optimization { priority: PRIORITY_X, }", 1, 36,
	        "Unknown enumeration value of \"PRIORITY_X\" for field \"priority\".");
	rejects("input {\n", 2, 1, "Expected identifier, got: ");
	accepts("name: \"\\U001fffff\"", "a \\U escape up to 0x1fffff (protobuf's tokenizer takes it)");
	accepts("max_batch_size: 8 input { dims: [ 99999999999 ] }", "an int64 dimension");

	collected c;
	pbtxt_msg *m = check("foo: 1\nbar: 2\nname: 3", &c);
	tap_is_int(c.n, 3, "every schema error is reported, not only the first");
	pbtxt_free(m);
}

static void test_accessors(void)
{
	collected c;
	pbtxt_msg *m = check("max_batch_size: 0 max_batch_size: 8\n"
	                     "input { name: \"a\" dims: [1, 2] dims: 3 }\n"
	                     "input { name: \"b\" }\n"
	                     "dynamic_batching { }\n"
	                     "parameters { key: \"k\" value { string_value: \"v\" } }",
	                     &c);
	const pbtxt_value *v;
	ts_iter it;

	tap_ok(m && c.n == 0, "sample checks");
	if (!m)
		return;
	tap_is_int(ts_int(m, "max_batch_size"), 8, "the last setting wins");
	tap_is_str(ts_str(m, "name"), "", "an unset string reads as empty");
	tap_ok(ts_has(m, "dynamic_batching") && ts_msg(m, "dynamic_batching"),
	       "an empty message is present");
	tap_ok(!ts_has(m, "sequence_batching") && !ts_msg(m, "sequence_batching"),
	       "an absent message is not");
	tap_is_int(ts_count(m, "input"), 2, "two inputs");
	ts_iter_init(&it, m, "input");
	v = ts_iter_next(&it);
	tap_is_int(ts_count(v->msg, "dims"), 3, "list and repeated line merge: three dims");
	tap_is_str(ts_str(ts_iter_next(&it)->msg, "name"), "b", "second input by iteration");
	tap_ok(ts_iter_next(&it) == NULL, "iteration ends");
	ts_iter_init(&it, m, "parameters");
	v = ts_iter_next(&it);
	tap_is_str(ts_map_key(v)->text, "k", "map key");
	tap_is_str(ts_str(ts_map_value(v)->msg, "string_value"), "v", "map value");
	tap_is_int(ts_int(NULL, "max_batch_size"), 0, "an absent message reads as defaults");
	pbtxt_free(m);
}

/* The table against ../shared/reference/triton_fields.md: every "name #n"
 * written there is a field of that number in the table, and every field
 * of the table (map entries' key/value aside) is written there. */
static void test_reference(void)
{
	const char *shared = getenv("MREG_SHARED_DIR");
	char path[4096];
	FILE *f;
	char *text = NULL;
	size_t len = 0, cap = 0;
	regex_t re;
	regmatch_t mt[3];

	snprintf(path, sizeof(path), "%s/reference/triton_fields.md",
	         shared ? shared : "../shared");
	if (!(f = fopen(path, "r"))) {
		printf("ok %d - schema against the reference # SKIP %s is absent\n", ++tap_count,
		       path);
		return;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			text = realloc(text, cap);
		}
		size_t n = fread(text + len, 1, 4096, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	text[len] = '\0';

	size_t found = 0, missing = 0, total = 0, unwritten = 0;
	regcomp(&re, "([a-z][a-z0-9_]*)`? #([0-9]+)", REG_EXTENDED);
	for (const char *p = text; !regexec(&re, p, 3, mt, 0); p += mt[0].rm_eo) {
		char name[128];
		int num = atoi(p + mt[2].rm_so);
		snprintf(name, sizeof(name), "%.*s", (int)(mt[1].rm_eo - mt[1].rm_so),
		         p + mt[1].rm_so);
		bool ok = false;
		for (size_t i = 0; ts_all_messages[i] && !ok; i++) {
			const ts_field *fd = ts_field_find(ts_all_messages[i], name);
			ok = fd && fd->number == num;
		}
		total++;
		if (ok) {
			found++;
		} else {
			missing++;
			printf("# reference field %s #%d is not in the table\n", name, num);
		}
	}
	for (size_t i = 0; ts_all_messages[i]; i++) {
		const ts_message *m = ts_all_messages[i];
		if (m->map_entry)
			continue;
		for (size_t k = 0; k < m->count; k++) {
			char needle[160], quoted[160];
			snprintf(needle, sizeof(needle), "%s #%d", m->fields[k].name,
			         m->fields[k].number);
			snprintf(quoted, sizeof(quoted), "`%s` #%d", m->fields[k].name,
			         m->fields[k].number);
			if (!strstr(text, needle) && !strstr(text, quoted)) {
				unwritten++;
				printf("# table field %s.%s is not in the reference\n",
				       m->full_name, m->fields[k].name);
			}
		}
	}
	regfree(&re);
	free(text);
	tap_ok(total > 150 && missing == 0, "all %zu fields of the reference are in the table",
	       total);
	tap_is_int(unwritten, 0, "every field of the table is in the reference");
}

static void test_table(void)
{
	bool ok = true;

	for (size_t i = 0; ts_all_messages[i]; i++) {
		const ts_message *m = ts_all_messages[i];
		ok &= m->count <= 32; /* the checker's presence array */
		for (size_t a = 0; a < m->count; a++)
			for (size_t b = a + 1; b < m->count; b++)
				ok &= m->fields[a].number != m->fields[b].number &&
				      strcmp(m->fields[a].name, m->fields[b].name) != 0;
	}
	tap_ok(ok, "field names and numbers are unique per message");
	tap_is_str(ts_enum_name(&ts_data_type, 11), "TYPE_FP32", "enum name by number");
	tap_is_str(ts_enum_name(&ts_data_type, 99), "", "unknown enum number has no name");
}

int main(void)
{
	tap_tmpdir();
	test_table();
	test_checker();
	test_accessors();
	test_reference();
	return tap_done();
}

/* The triton_model plugin: probe, each family of Triton's rules on small
 * model folders written here, repositories and ensembles, describe. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats.h"
#include "mreg/diag.h"
#include "tap.h"
#include "triton/triton_model.h"

static const mreg_format *fmt = &mreg_format_triton_model;

/* mkdir -p for the folders of @path, then write @text (NULL: a folder). */
static void put(const char *path, const char *text)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	}
	if (text)
		tap_write(path, text);
	else
		mkdir(path, 0755);
}

static void clean(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

static mreg_diag_list *check(const char *path)
{
	mreg_diag_list *d = NULL;

	mreg_diag_list_new(&d);
	fmt->validate(path, d);
	return d;
}

static void dump(const mreg_diag_list *d)
{
	for (size_t i = 0; i < mreg_diag_count(d); i++) {
		char *s = mreg_diag_format(mreg_diag_get(d, i));
		printf("#     %s\n", s);
		free(s);
	}
}

/* The first diagnostic of @sev whose message contains @text, or NULL. */
static const mreg_diag *find(const mreg_diag_list *d, mreg_diag_severity sev, const char *text)
{
	for (size_t i = 0; i < mreg_diag_count(d); i++) {
		const mreg_diag *x = mreg_diag_get(d, i);
		if (x->severity == sev && strstr(x->message, text))
			return x;
	}
	return NULL;
}

/* @path must give an error containing @text with @code (at @line if > 0). */
static void expect_error(const char *path, const char *code, unsigned line, const char *text)
{
	mreg_diag_list *d = check(path);
	const mreg_diag *x = find(d, MREG_DIAG_ERROR, text);

	if (!tap_ok(x && !strcmp(x->code, code) && (!line || x->line == line), "%s: %s", code,
	            text))
		dump(d);
	mreg_diag_list_free(d);
}

static void expect_severity(const char *path, mreg_diag_severity sev, const char *code,
                            const char *text)
{
	mreg_diag_list *d = check(path);
	const mreg_diag *x = find(d, sev, text);

	if (!tap_ok(x && !strcmp(x->code, code), "%s %s: %s", mreg_diag_severity_name(sev), code,
	            text))
		dump(d);
	mreg_diag_list_free(d);
}

static void expect_valid(const char *path, const char *what)
{
	mreg_diag_list *d = check(path);

	if (!tap_ok(mreg_diag_count_severity(d, MREG_DIAG_ERROR) == 0, "valid: %s", what))
		dump(d);
	mreg_diag_list_free(d);
}

#define IO_ONNX                                                                                    \
	"platform: \"onnxruntime_onnx\"\n"                                                         \
	"max_batch_size: 8\n"                                                                      \
	"input [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ 16 ] } ]\n"                       \
	"output [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ 16 ] } ]\n"

/* A model folder m/ with config @cfg and 1/model.onnx. */
static void model(const char *cfg)
{
	clean("m");
	put("m/config.pbtxt", cfg);
	put("m/1/model.onnx", "");
}

static void test_probe(void)
{
	clean("p");
	put("p/repo/a/config.pbtxt", "");
	put("p/bare/1/model.onnx", "");
	put("p/empty", NULL);
	put("p/file", "x");
	tap_is_int(fmt->probe("p/repo/a"), 90, "a folder with config.pbtxt");
	tap_is_int(fmt->probe("p/repo"), 80, "a repository of such folders");
	tap_is_int(fmt->probe("p/bare"), 60, "a model folder without config, with 1/model.onnx");
	tap_is_int(fmt->probe("p"), 50, "a folder of such model folders");
	tap_is_int(fmt->probe("p/empty"), 0, "an empty folder");
	tap_is_int(fmt->probe("p/file"), 0, "a file");
	const mreg_format *got = NULL;
	mreg_format_detect(&got, "p/repo");
	tap_is_str(got ? got->name : NULL, "triton_model", "detection picks triton_model");
	clean("p");
}

static void test_basics(void)
{
	model("name: \"m\"\n" IO_ONNX);
	expect_valid("m", "an ONNX model with config and version 1");
	model("name: \"other\"\n" IO_ONNX);
	expect_error("m", "triton-name", 1,
	             "unexpected directory name 'm' for model 'other', directory name must equal "
	             "model name");
	model(IO_ONNX);
	expect_valid("m", "name omitted: auto-completed from the folder");

	model("name: \"m\"\nmax_batch_size 8\n");
	expect_error("m", "triton-syntax", 2,
	             "failed to read text proto: Expected \":\", found \"8\".");
	model("name: \"m\"\nfoo: 1\nbar: 2\n");
	mreg_diag_list *d = check("m");
	tap_is_int(mreg_diag_count_severity(d, MREG_DIAG_ERROR), 2, "every unknown field reported");
	mreg_diag_list_free(d);
	model("name: \"m\"\ninput { name: \"x\" ");
	expect_error("m", "triton-syntax", 0,
	             "failed to read text proto: Expected identifier, got: ");
	model("name: \"m\"\ninput { dims: [1, 2\n");
	expect_error("m", "triton-syntax", 3,
	             "failed to read text proto: Expected \",\", found \"\".");
	model("");
	expect_valid("m", "an empty config.pbtxt with model.onnx is auto-completed");
}

static void test_autofill(void)
{
	clean("m");
	put("m/1/model.onnx", "");
	expect_severity("m", MREG_DIAG_NOTE, "triton-autofill", "no config.pbtxt");
	expect_valid("m", "no config.pbtxt, ONNX model file");
	clean("m");
	put("m/1/model.savedmodel/saved_model.pb", "");
	expect_severity("m", MREG_DIAG_NOTE, "triton-autofill", "platform tensorflow_savedmodel");
	clean("m");
	put("m/3/model.py", "");
	expect_severity("m", MREG_DIAG_NOTE, "triton-autofill", "backend 'python'");
	clean("m");
	put("m/1/weights.bin", "");
	expect_error(
	    "m", "triton-platform", 0,
	    "Invalid model name: Could not determine backend for model 'm' with no backend "
	    "in model configuration. Expected model name of the form 'model.<backend_name>'.");
	clean("m.identity");
	put("m.identity/1", NULL);
	put("m.identity/config.pbtxt", "");
	expect_valid("m.identity", "a custom backend named by the model ('m.identity')");
	clean("m.identity");
	/* Only the first subfolder (bytewise) is looked at, as Triton does. */
	clean("m");
	put("m/10/weights.bin", "");
	put("m/2/model.onnx", "");
	expect_error("m", "triton-platform", 0, "Could not determine backend");
}

static void test_platforms(void)
{
	model("name: \"m\"\nplatform: \"onnxruntime\"\n");
	clean("m/1");
	put("m/1/weights", "");
	expect_error("m", "triton-platform", 2, "unexpected platform type 'onnxruntime' for m");
	model("name: \"m\"\nplatform: \"onnxruntime_onnx\"\nbackend: \"tensorrt\"\n");
	expect_error("m", "triton-platform", 2,
	             "unexpected 'platform' and 'backend' pair, got:onnxruntime_onnx, tensorrt");
	model("name: \"m\"\nplatform: \"ensemble\"\nbackend: \"python\"\n");
	expect_error(
	    "m", "triton-platform", 2,
	    "Ensemble model 'm' must have platform type 'ensemble' and empty backend type");
	model("name: \"m\"\nplatform: \"anything\"\nbackend: \"my_backend\"\n");
	expect_valid("m", "a custom backend accepts any platform");
	model("name: \"m\"\nplatform: \"onnxruntim\"\ndefault_model_filename: \"model.onnx\"\n");
	expect_error("m", "triton-platform", 2,
	             "unexpected 'platform' and 'backend' pair, got:onnxruntim, onnxruntime");
	model("name: \"m\"\nplatform: \"onnxruntime_onnx\"\nmax_batch_size: -1\n");
	expect_error("m", "triton-max-batch-size", 3,
	             "'max_batch_size' must be non-negative value for m");
}

static void test_batching(void)
{
	model("name: \"m\"\n" IO_ONNX "dynamic_batching { preferred_batch_size: [ 4, 0 ] }");
	expect_error("m", "triton-dynamic-batching", 6,
	             "dynamic batching preferred size must be positive for m");
	model("name: \"m\"\n" IO_ONNX "dynamic_batching { preferred_batch_size: 16 }");
	expect_error("m", "triton-dynamic-batching", 6,
	             "dynamic batching preferred size must be <= max batch size for m");
	model("name: \"m\"\n" IO_ONNX "dynamic_batching { priority_levels: 3 }");
	expect_error("m", "triton-dynamic-batching", 0,
	             "default priority level must be in range [1, 3] for m");
	model("name: \"m\"\n" IO_ONNX
	      "dynamic_batching { priority_levels: 2 default_priority_level: 1 "
	      "priority_queue_policy { key: 3 value { } } }");
	expect_error("m", "triton-dynamic-batching", 6,
	             "priority queue policy must have priority level in range [1, 2] for m");
	model("name: \"m\"\n" IO_ONNX
	      "dynamic_batching { preserve_ordering: true priority_levels: 2 "
	      "default_priority_level: 1 }");
	expect_error("m", "triton-dynamic-batching", 6,
	             "Only one priority level is allowed when 'preserve_ordering' is true for m");
	model("name: \"m\"\n" IO_ONNX
	      "dynamic_batching { preserve_ordering: true default_queue_policy "
	      "{ timeout_action: DELAY default_timeout_microseconds: 100 } }");
	expect_error(
	    "m", "triton-dynamic-batching", 6,
	    "Queue policy can not have DELAY as timeout action when 'preserve_ordering' is "
	    "true for m");
	model("name: \"m\"\n" IO_ONNX "dynamic_batching { }");
	expect_valid("m", "empty dynamic_batching");

#define SEQ(controls) "name: \"m\"\n" IO_ONNX "sequence_batching {\n" controls "\n}\n"
	model(SEQ("control_input [ { control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ "
	          "0, 1 ] } ] } ]"));
	expect_error("m", "triton-sequence-batching", 0,
	             "sequence batching control tensor must have a name for m");
	model(SEQ("control_input [ { name: \"S\" control [ { kind: CONTROL_SEQUENCE_START "
	          "int32_false_true: [ 0, 1 ] } ] }, { name: \"S\" control [ { kind: "
	          "CONTROL_SEQUENCE_END int32_false_true: [ 0, 1 ] } ] } ]"));
	expect_error("m", "triton-sequence-batching", 0,
	             "sequence batching control tensor 'S' is specified for multiple control kinds "
	             "for m");
	model(SEQ("control_input [ { name: \"A\" control [ { kind: CONTROL_SEQUENCE_START "
	          "int32_false_true: [ 0, 1 ] } ] }, { name: \"B\" control [ { kind: "
	          "CONTROL_SEQUENCE_START fp32_false_true: [ 0, 1 ] } ] } ]"));
	expect_error("m", "triton-sequence-batching", 0,
	             "sequence batching specifies multiple CONTROL_SEQUENCE_START tensors for m");
	model(
	    SEQ("control_input [ { name: \"R\" control [ { kind: CONTROL_SEQUENCE_READY } ] } ]"));
	expect_error(
	    "m", "triton-sequence-batching", 0,
	    "sequence batching must specify either 'int32_false_true', 'fp32_false_true' or "
	    "'bool_false_true' for CONTROL_SEQUENCE_READY for m");
	model(SEQ("control_input [ { name: \"R\" control [ { kind: CONTROL_SEQUENCE_READY "
	          "int32_false_true: [0, 1] bool_false_true: [false, true] } ] } ]"));
	expect_error("m", "triton-sequence-batching", 0,
	             "sequence batching specifies more than one from 'int32_false_true', "
	             "'fp32_false_true' and 'bool_false_true' for CONTROL_SEQUENCE_READY for m");
	model(SEQ("control_input [ { name: \"E\" control [ { kind: CONTROL_SEQUENCE_END "
	          "fp32_false_true: [0, 1, 2] } ] } ]"));
	expect_error("m", "triton-sequence-batching", 0,
	             "sequence batching control 'fp32_false_true' must have exactly 2 entries for "
	             "CONTROL_SEQUENCE_END for m");
	model(SEQ("control_input [ { name: \"C\" control [ { kind: CONTROL_SEQUENCE_CORRID "
	          "data_type: TYPE_FP32 } ] } ]"));
	expect_error("m", "triton-sequence-batching", 0,
	             "unexpected data type for control CONTROL_SEQUENCE_CORRID for m. Allowed data "
	             "types are TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 and TYPE_STRING");
	model(SEQ("control_input [ { name: \"C\" control [ { kind: CONTROL_SEQUENCE_CORRID "
	          "data_type: TYPE_UINT64 int32_false_true: [0, 1] } ] } ]"));
	expect_error("m", "triton-sequence-batching", 0,
	             "sequence batching must not specify either 'int32_false_true', "
	             "'fp32_false_true' or 'bool_false_true' for CONTROL_SEQUENCE_CORRID for m");
	model(SEQ("oldest { preferred_batch_size: [ 32 ] }"));
	expect_error("m", "triton-sequence-batching", 0,
	             "sequence batching preferred batch size must be <= max batch size for m");
	model(SEQ("direct { minimum_slot_utilization: 1.5 }"));
	expect_error(
	    "m", "triton-sequence-batching", 0,
	    "sequence batching minimum slot utilization must be in range (0.0, 1.0] for m");
	model(SEQ("control_input [ { name: \"S\" control [ { kind: CONTROL_SEQUENCE_START "
	          "bool_false_true: [ false, true ] } ] } ]\ndirect { }") "response_cache { "
	                                                                  "enable: true }");
	expect_error("m", "triton-response-cache", 0,
	             "Response Cache does not currently support model m with sequence batching "
	             "scheduler. Please disable the response cache.");
	model("name: \"m\"\n" IO_ONNX "model_transaction_policy { decoupled: true }\n"
	      "response_cache { enable: true }");
	expect_error("m", "triton-response-cache", 7, "with 'decoupled' transaction policy");
}

static void test_io(void)
{
#define IN(t)                                                                                      \
	"name: \"m\"\nplatform: \"onnxruntime_onnx\"\nmax_batch_size: 0\ninput [ { " t " } ]\n"
	model(IN("data_type: TYPE_FP32 dims: [ 1 ]"));
	expect_error("m", "triton-io", 4, "model input must specify 'name' for m");
	model(IN("name: \"x\" dims: [ 1 ]"));
	expect_error("m", "triton-io", 0, "model input 'x' must specify 'data_type' for m");
	model(IN("name: \"x\" data_type: TYPE_FP32"));
	expect_error("m", "triton-io", 4, "model input 'x' must specify 'dims' for m");
	model(IN("name: \"x\" data_type: TYPE_FP32 dims: [ 2, 0 ]"));
	expect_error("m", "triton-io", 4,
	             "model input 'x' dimension must be integer >= 1, or -1 to indicate a "
	             "variable-size dimension for m");
	model(IN("name: \"x\" data_type: TYPE_FP32 dims: [ 1 ] reshape { shape: [ ] }"));
	expect_error("m", "triton-io", 4,
	             "model input 'x' cannot have empty reshape for non-batching model as scalar "
	             "tensors are not supported for m");
	model(IN("name: \"x\" data_type: TYPE_FP32 dims: [ 2, 3 ] reshape { shape: [ 5 ] }"));
	expect_error("m", "triton-io", 4,
	             "model input 'x' has different size for dims and reshape for m");
	model(IN(
	    "name: \"x\" data_type: TYPE_FP32 dims: [ 2, -1 ] reshape { shape: [ -1, 2, -1 ] }"));
	expect_error(
	    "m", "triton-io", 4,
	    "model input 'x' has different number of variable-size dimensions for dims and "
	    "reshape for m");
	model(IN("name: \"x\" data_type: TYPE_FP32 dims: [ 2, 4, -1, 6 ] reshape { shape: [ 8, -1, "
	         "1, 6 ] }"));
	expect_valid("m", "reshape [2,4,-1,6] to [8,-1,1,6]");
	model(IN("name: \"x\" data_type: TYPE_FP32 dims: [ 2, 0 ] reshape { shape: [ 0 ] }"));
	expect_error("m", "triton-io", 4, "dimension must be integer >= 1");
	model(IN("name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] reshape { shape: [ -2 ] }"));
	expect_error("m", "triton-io", 4,
	             "model input 'x' reshape dimensions must be integer >= 1, or -1 to indicate a "
	             "variable-size dimension for m");
	model(IN("name: \"x\" data_type: TYPE_FP32 dims: [ 4611686018427387904, 4 ] reshape { "
	         "shape: [ 1 ] }"));
	expect_error(
	    "m", "triton-io", 4,
	    "element count for tensor 'x dims' exceeds maximum size of 9223372036854775807");
	model(IN("name: \"x\" data_type: TYPE_FP32 format: FORMAT_NHWC dims: [ 4, 4 ]"));
	expect_error("m", "triton-io", 4, "model input NHWC/NCHW require 3 dims for m");
	model(IN("name: \"x\" data_type: TYPE_INT32 dims: [ 1 ] is_shape_tensor: true"));
	expect_error("m", "triton-io", 4,
	             "shape tensors are only supported for TensorRT platform for m");
	model(IN("name: \"x\" data_type: TYPE_INT32 dims: [ 1 ] is_non_linear_format_io: true"));
	expect_error("m", "triton-io", 4,
	             "Non-linear IO format is only supported for the TensorRT platform for m");

#define BIO(b) "name: \"m\"\n" IO_ONNX b
	model(BIO(
	    "batch_input [ { kind: BATCH_ITEM_SHAPE target_name: \"t\" data_type: TYPE_INT32 } ]"));
	expect_error("m", "triton-batch-io", 6,
	             "batch input kind 'BATCH_ITEM_SHAPE' expects 1 source input, got 0 for m");
	model(BIO("batch_input [ { kind: BATCH_ITEM_SHAPE data_type: TYPE_FP16 source_input: "
	          "\"INPUT0\" } ]"));
	expect_error("m", "triton-batch-io", 6,
	             "batch input data type must be TYPE_INT32 or TYPE_FP32 for m");
	model(BIO("batch_input [ { data_type: TYPE_INT32 source_input: \"NOPE\" } ]"));
	expect_error("m", "triton-batch-io", 6, "unknown source input name 'NOPE' for m");
	model(BIO("batch_output [ { target_name: [ \"OUTPUT0\", \"OUTPUT0\" ] source_input: "
	          "\"INPUT0\" } ]"));
	expect_error("m", "triton-batch-io", 6,
	             "target output name 'OUTPUT0' can only be specified once for m");
	model(BIO("batch_output [ { target_name: \"X\" source_input: \"INPUT0\" } ]"));
	expect_error("m", "triton-batch-io", 6, "unknown target output name 'X' for m");
}

static void test_versions(void)
{
	clean("m");
	put("m/config.pbtxt", "name: \"m\"\n" IO_ONNX);
	expect_error(
	    "m", "triton-version", 0,
	    "at least one version must be available under the version policy of model 'm'");
	put("m/01/model.onnx", "");
	put("m/abc/x", "");
	expect_severity("m", MREG_DIAG_WARNING, "triton-version",
	                "ignore version directory '01' which contains leading zeros in its "
	                "directory name");
	expect_severity("m", MREG_DIAG_WARNING, "triton-version",
	                "ignore version directory 'abc' which fails to convert to integral number");
	put("m/2x/model.onnx", "");
	expect_severity("m", MREG_DIAG_WARNING, "triton-version",
	                "version directory '2x' is read as version 2");
	clean("m");
	put("m/config.pbtxt",
	    "name: \"m\"\n" IO_ONNX "version_policy { specific { versions: [ 1, 4 ] } }\n");
	put("m/1/model.onnx", "");
	expect_severity(
	    "m", MREG_DIAG_WARNING, "triton-version",
	    "version 4 is specified for model 'm', but the version directory is not present");
	expect_valid("m", "a specific policy with one version present");
	put("m/config.pbtxt",
	    "name: \"m\"\n" IO_ONNX "version_policy { latest { num_versions: 0 } }\n");
	expect_error("m", "triton-version", 6, "at least one version must be available");
	put("m/config.pbtxt", "name: \"m\"\n" IO_ONNX "version_policy { all { } }\n");
	put("m/7", NULL);
	expect_severity("m", MREG_DIAG_WARNING, "triton-model-file",
	                "version 7 of model 'm' has no 'model.onnx'");
	put("m/config.pbtxt", "name: \"m\"\n" IO_ONNX);
	expect_severity("m", MREG_DIAG_WARNING, "triton-model-file", "version 7");
	put("m/config.pbtxt",
	    "name: \"m\"\n" IO_ONNX "cc_model_filenames { key: \"7.5\" value: \"alt.onnx\" }\n");
	put("m/7/alt.onnx", "");
	mreg_diag_list *d = check("m");
	tap_ok(!find(d, MREG_DIAG_WARNING, "has no"),
	       "cc_model_filenames satisfies the model file");
	mreg_diag_list_free(d);
}

static void test_instance_groups(void)
{
#define IG(g) "name: \"m\"\n" IO_ONNX "instance_group [ " g " ]\n"
	model(IG("{ kind: KIND_CPU gpus: [ 0 ] }"));
	expect_error(
	    "m", "triton-instance-group", 6,
	    "instance group m_0 of model m has kind KIND_CPU but specifies one or more GPUs");
	model(IG("{ name: \"g\" kind: KIND_MODEL gpus: [ 0 ] }"));
	expect_error(
	    "m", "triton-instance-group", 6,
	    "instance group g of model m has kind KIND_MODEL but specifies one or more GPUs");
	model(IG("{ kind: KIND_GPU }, { kind: KIND_GPU gpus: [ 1, 42 ] }"));
	expect_error(
	    "m", "triton-instance-group", 6,
	    "instance group m_1 of model m specifies invalid or unsupported gpu id 42. GPUs "
	    "with at least the minimum required CUDA compute compatibility");
	model(IG("{ gpus: [ -1 ] }"));
	expect_error(
	    "m", "triton-instance-group", 6,
	    "instance group m_0 of model m has kind KIND_CPU but specifies one or more GPUs");
	setenv(TRITON_GPUS_ENV, "64", 1);
	model(IG("{ kind: KIND_GPU gpus: [ 42 ] }"));
	expect_valid("m", "GPU 42 exists when " TRITON_GPUS_ENV "=64");
	setenv(TRITON_GPUS_ENV, "0", 1);
	model(IG("{ kind: KIND_GPU }"));
	expect_error("m", "triton-instance-group", 6,
	             "instance group m_0 of model m has kind KIND_GPU but no GPUs are available");
	model(IG("{ kind: KIND_AUTO }"));
	expect_valid("m", "KIND_AUTO on a CPU-only server becomes KIND_CPU");
	unsetenv(TRITON_GPUS_ENV);
	model(IG("{ kind: KIND_GPU profile: [ \"0\" ] }"));
	expect_error("m", "triton-instance-group", 6,
	             "instance group m_0 of model m and platform onnxruntime_onnxspecifies profile "
	             "field which is only supported for TensorRT models");
	model("name: \"m\"\nplatform: \"tensorrt_plan\"\ninstance_group [ { profile: [ \"1\", "
	      "\"-1\" ] } ]\n");
	expect_error("m", "triton-instance-group", 3,
	             "instance group m_0 of model m and platform tensorrt_plan specifies invalid "
	             "profile -1. The field should contain the string representation of a "
	             "non-negative integer.");
	model("name: \"m\"\nplatform: \"tensorrt_plan\"\ninstance_group [ { profile: \"x\" } ]\n");
	expect_error("m", "triton-instance-group", 3, "unable to parse 'x': stoi");
}

static void test_load_rules(void)
{
	model("name: \"m\"\n" IO_ONNX "runtime: \"../lib/libtriton_x.so\"\n");
	expect_error("m", "triton-runtime", 6,
	             "backend library name '../lib/libtriton_x.so' escapes backend directory");
	model("name: \"m\"\n" IO_ONNX "runtime: \"sub/../libtriton_x.so\"\n");
	expect_valid("m", "a runtime path that stays inside");
	model("name: \"m\"\nplatform: \"onnxruntime_onnx\"\noutput [ { name: \"o\" data_type: "
	      "TYPE_FP32 "
	      "dims: [ 1 ] label_filename: \"../labels.txt\" } ]\n");
	expect_error("m", "triton-label-file", 3,
	             "label file path '../labels.txt' for output 'o' in model 'm' is outside model "
	             "directory");
	model("name: \"m\"\n" IO_ONNX
	      "model_warmup [ { batch_size: 1 inputs { key: \"INPUT0\" value { "
	      "data_type: TYPE_FP32 dims: [ -1 ] zero_data: true } } } ]\n");
	expect_error("m", "triton-warmup", 6,
	             "warmup setting expects all variable-size dimensions are specified for input "
	             "'INPUT0'");
	model("name: \"m\"\n" IO_ONNX
	      "model_warmup [ { batch_size: 1 inputs { key: \"INPUT0\" value { "
	      "data_type: TYPE_FP32 dims: [ 16 ] } } } ]\n");
	expect_error("m", "triton-warmup", 6,
	             "warmup setting expects input 'INPUT0' to have input_data_type set");
	model("name: \"m\"\n" IO_ONNX
	      "model_warmup [ { batch_size: 1 inputs { key: \"INPUT0\" value { "
	      "data_type: TYPE_FP32 dims: [ 16 ] input_data_file: \"in0\" } } } ]\n");
	expect_error("m", "triton-warmup", 6,
	             "failed to open text file for read m/warmup/in0: No such file or directory");
	put("m/warmup/in0", "");
	expect_valid("m", "warmup data file present");
#define STATE(s) "name: \"m\"\n" IO_ONNX "sequence_batching { state [ " s " ] }\n"
#define INIT(n, d, extra)                                                                          \
	"{ input_name: \"" n "\" data_type: TYPE_FP32 dims: [ " d                                  \
	" ] initial_state [ { name: \"i\" "                                                        \
	"data_type: TYPE_FP32 dims: [ " d " ] " extra " } ] }"
	model(STATE(
	    "{ input_name: \"a\" data_type: TYPE_FP32 dims: [ 2 ] initial_state [ { data_type: "
	    "TYPE_FP32 dims: [ 2 ] zero_data: true } ] }"));
	expect_error("m", "triton-state", 6,
	             "Field 'name' must be set when using initial_state for state input 'a'.");
	model(STATE(INIT("a", "2", "zero_data: true") ", " INIT("a", "2", "zero_data: true")));
	expect_error("m", "triton-state", 6, "State input name 'a' specified more than once.");
	model(STATE(
	    "{ input_name: \"a\" data_type: TYPE_FP32 dims: [ 2 ] initial_state [ { name: \"i\" "
	    "data_type: TYPE_INT32 dims: [ 2 ] zero_data: true } ] }"));
	expect_error("m", "triton-state", 6,
	             "The data type used for 'initial_state' field of state 'a' does not match the "
	             "state data type.");
	model(STATE(
	    "{ input_name: \"a\" data_type: TYPE_FP32 dims: [ 2 ] initial_state [ { name: \"i\" "
	    "data_type: TYPE_FP32 dims: [ 2, 1 ] zero_data: true } ] }"));
	expect_error("m", "triton-state", 6,
	             "Number of dimensions in 'initial_state' doesn't match the size of 'state' "
	             "dimensions for state input 'a'. 2 != 1");
	model(STATE(
	    "{ input_name: \"a\" data_type: TYPE_FP32 dims: [ -1 ] initial_state [ { name: \"i\" "
	    "data_type: TYPE_FP32 dims: [ 3 ] zero_data: true } ] }"));
	expect_valid("m", "a fixed initial state for a variable state dim");
	model(STATE(INIT("a", "-1", "zero_data: true")));
	expect_error(
	    "m", "triton-state", 6,
	    "'initial_state' field for state input name 'a' contains variable dimensions.");
	model(STATE(INIT("a", "2", "")));
	expect_error("m", "triton-state", 6,
	             "initial_state setting expects state'a' to have state_data set");
	model(STATE(INIT("a", "4", "data_file: \"init.bin\"")));
	expect_error("m", "triton-state", 6,
	             "failed to open text file for read m/initial_state/init.bin");
	put("m/initial_state/init.bin", "12345678");
	expect_error(
	    "m", "triton-state", 6,
	    "initial_state setting expects 16 bytes, but the data provided from init.binonly "
	    "has 8 bytes.");
	put("m/initial_state/init.bin", "1234567812345678");
	expect_valid("m", "an initial state file of the right size");
	model("name: \"m\"\n" IO_ONNX "dynamic_batching { }\nparameters { key: "
	      "\"TRITON_BATCH_STRATEGY_PATH\" value { string_value: \"../strategy.so\" } }\n");
	expect_error("m", "triton-batch-strategy", 7,
	             "Batching library path escapes model repository.");
	model("name: \"m\"\n" IO_ONNX "sequence_batching { }\nparameters { key: "
	      "\"TRITON_BATCH_STRATEGY_PATH\" value { string_value: \"/opt/lib/s.so\" } }\n");
	expect_error("m", "triton-batch-strategy", 7,
	             "TRITON_BATCH_STRATEGY_PATH cannot be specified with sequence batcher, using "
	             "default batching strategy");
	model("name: \"m\"\n" IO_ONNX "dynamic_batching { }\nparameters { key: "
	      "\"TRITON_BATCH_STRATEGY_PATH\" value { string_value: \"/opt/lib/s.so\" } }\n");
	expect_valid("m", "an absolute batching library path (on the server)");
	model("name: \"m\"\n" IO_ONNX
	      "model_metrics { metric_control [ { metric_identifier { family: "
	      "\"nv_inference_first_response_histogram_ms\" } } ] }\n");
	expect_error("m", "triton-metrics", 6, "metric control must specify 'histogram_options'");
}

/* A repository with step models a (batch 8, INPUT0/OUTPUT0 FP32 [16]) and
 * an ensemble e whose step section is @steps. */
static void ensemble_repo(const char *ens)
{
	clean("r");
	put("r/a/config.pbtxt", "name: \"a\"\n" IO_ONNX);
	put("r/a/1/model.onnx", "");
	put("r/e/1", NULL);
	put("r/e/config.pbtxt", ens);
}

#define ENS(mbs, io, steps)                                                                        \
	"name: \"e\"\nplatform: \"ensemble\"\nmax_batch_size: " mbs "\n" io                        \
	"ensemble_scheduling { step [ " steps " ] }\n"
#define EIO                                                                                        \
	"input [ { name: \"IN\" data_type: TYPE_FP32 dims: [ 16 ] } ]\n"                           \
	"output [ { name: \"OUT\" data_type: TYPE_FP32 dims: [ 16 ] } ]\n"
#define STEP(model, in, out)                                                                       \
	"{ model_name: \"" model "\" model_version: -1 input_map { key: \"INPUT0\" value: \"" in   \
	"\" } output_map { key: \"OUTPUT0\" value: \"" out "\" } }"

static void test_ensembles(void)
{
	ensemble_repo(ENS("4", EIO, STEP("a", "IN", "OUT")));
	expect_valid("r", "an ensemble of one step");
	ensemble_repo(ENS("4", EIO, STEP("a", "IN", "T") ", " STEP("a", "T", "OUT")));
	expect_valid("r", "an ensemble of two chained steps");
	ensemble_repo("name: \"e\"\nplatform: \"ensemble\"\n" EIO);
	expect_error("r", "triton-ensemble", 2,
	             "ensemble scheduling must be set for ensemble e whose platform is ensemble");
	ensemble_repo(
	    ENS("4", EIO "instance_group [ { kind: KIND_CPU } ]\n", STEP("a", "IN", "OUT")));
	expect_error("r", "triton-ensemble", 6,
	             "instance group should not be specified for ensemble 'e'");
	ensemble_repo(
	    ENS("4", EIO, "{ model_name: \"a\" output_map { key: \"OUTPUT0\" value: \"OUT\" } }"));
	expect_error("r", "triton-ensemble", 6,
	             "must specify 'input_map' in step 0 of ensemble 'e'");
	ensemble_repo(ENS("4", EIO, STEP("a", "IN", "OUT") ", " STEP("a", "IN", "OUT")));
	expect_error("r", "triton-ensemble", 6,
	             "ensemble tensor 'OUT' can appear in an output map only once for ensemble 'e' "
	             "step 1");
	ensemble_repo(ENS("4",
	                  EIO "input [ { name: \"EXTRA\" data_type: TYPE_FP32 dims: [ 1 ] } ]\n",
	                  STEP("a", "IN", "OUT")));
	expect_error("r", "triton-ensemble", 6,
	             "ensemble input 'EXTRA' for ensemble e' is not used");
	ensemble_repo(ENS("4", EIO, STEP("a", "X", "OUT")));
	expect_error("r", "triton-ensemble", 5,
	             "output 'OUT' for ensemble 'e' is not written: at least one of its depending "
	             "tensors, 'X', is not connected");
	ensemble_repo(ENS("4", EIO, STEP("a", "IN", "OUT") ", " STEP("a", "IN", "DANGLING")));
	expect_error("r", "triton-ensemble", 6,
	             "ensemble tensor 'DANGLING' is unused in ensemble 'e'");

	ensemble_repo(ENS("4", EIO, STEP("zz", "IN", "T") ", " STEP("yy", "T", "OUT")));
	expect_error("r", "triton-ensemble-models", 6,
	             "ensemble e contains models that are not available or ambiguous: yy, zz");
	expect_severity("r/e", MREG_DIAG_WARNING, "triton-ensemble-models",
	                "ensemble e contains models that are not available or ambiguous: yy, zz");
	ensemble_repo(ENS("16", EIO, STEP("a", "IN", "OUT")));
	expect_error("r", "triton-ensemble-models", 0,
	             "ensemble e allows maximum batch size 16, but it contains model a which only "
	             "allows maximum batch size to be 8");
	ensemble_repo(
	    ENS("4", EIO,
	        "{ model_name: \"a\" model_version: -1 input_map { key: \"NOPE\" value: \"IN\" } "
	        "output_map { key: \"OUTPUT0\" value: \"OUT\" } }"));
	expect_error(
	    "r", "triton-ensemble-models", 0,
	    "in ensemble e, ensemble tensor IN is mapping to non-existing input NOPE in model a");
	ensemble_repo(
	    ENS("4", EIO,
	        "{ model_name: \"a\" model_version: -1 input_map { key: \"INPUT0\" value: \"IN\" } "
	        "output_map { key: \"NOPE\" value: \"OUT\" } }"));
	expect_error(
	    "r", "triton-ensemble-models", 0,
	    "in ensemble e, ensemble tensor OUT is mapped from non-existing output NOPE in "
	    "model a");
	ensemble_repo(ENS("4",
	                  "input [ { name: \"IN\" data_type: TYPE_INT32 dims: [ 16 ] } ]\n"
	                  "output [ { name: \"OUT\" data_type: TYPE_FP32 dims: [ 16 ] } ]\n",
	                  STEP("a", "IN", "OUT")));
	expect_error("r", "triton-ensemble-models", 0,
	             "in ensemble e, ensemble tensor IN: inconsistent data type: TYPE_INT32 is "
	             "inferred from model e while TYPE_FP32 is inferred from model a");
	ensemble_repo(ENS("4",
	                  "input [ { name: \"IN\" data_type: TYPE_FP32 dims: [ 8 ] } ]\n"
	                  "output [ { name: \"OUT\" data_type: TYPE_FP32 dims: [ 16 ] } ]\n",
	                  STEP("a", "IN", "OUT")));
	expect_error(
	    "r", "triton-ensemble-models", 0,
	    "in ensemble e, ensemble tensor IN: inconsistent shape: [-1,8] is inferred from "
	    "model e while [-1,16] is inferred from model a");
	ensemble_repo(ENS("4", EIO,
	                  "{ model_name: \"a\" model_version: 3 input_map { key: \"INPUT0\" "
	                  "value: \"IN\" } output_map { key: \"OUTPUT0\" value: \"OUT\" } }"));
	expect_error("r", "triton-ensemble-models", 0,
	             "ensemble 'e' depends on 'a' whose required version 3 is not loaded.");
	ensemble_repo(ENS("4", EIO, STEP("a", "IN", "OUT")));
	put("r/a/config.pbtxt",
	    "name: \"a\"\nplatform: \"onnxruntime_onnx\"\nmax_batch_size: -1\n");
	expect_error("r", "triton-ensemble-models", 0,
	             "ensemble 'e' depends on 'a' which is not valid. Model 'a' failed with error: "
	             "'max_batch_size' must be non-negative value for a");
	ensemble_repo(ENS("4", EIO,
	                  "{ model_name: \"a\" input_map { key: \"INPUT0\" value: \"IN\" } "
	                  "output_map { key: \"OUTPUT0\" value: \"OUT\" } }"));
	expect_error(
	    "r", "triton-ensemble-models", 0,
	    "ensemble 'e' depends on 'a' whose required version 0 is not loaded. (model_version "
	    "is not set");
	ensemble_repo(ENS("4", EIO, STEP("a", "IN", "OUT")));
	clean("r/a/1");
	expect_error(
	    "r", "triton-ensemble-models", 0,
	    "ensemble 'e' depends on 'a' which is not valid. Model 'a' failed with error: at "
	    "least one version must be available under the version policy of model 'a'");

	/* Two ensembles naming each other. */
	clean("r");
	put("r/x/1", NULL);
	put("r/y/1", NULL);
	put("r/x/config.pbtxt",
	    "name: \"x\"\nplatform: \"ensemble\"\n" EIO
	    "ensemble_scheduling { step [ { model_name: \"y\" input_map { key: "
	    "\"IN\" value: \"IN\" } output_map { key: \"OUT\" value: \"OUT\" } } "
	    "] }\n");
	put("r/y/config.pbtxt",
	    "name: \"y\"\nplatform: \"ensemble\"\n" EIO
	    "ensemble_scheduling { step [ { model_name: \"x\" input_map { key: "
	    "\"IN\" value: \"IN\" } output_map { key: \"OUT\" value: \"OUT\" } } "
	    "] }\n");
	expect_error("r", "triton-ensemble-cycle", 5,
	             "circular dependency between ensembles: x -> ... -> y -> x");
	clean("r");

	/* ValidateEnsembleConfig links every ensemble output to a sink node of the
	 * ensemble itself: outputs that come from different decoupled origins are
	 * refused like any step whose inputs do (ensemble_utils.cc, sink_node). */
#define EIO2                                                                                       \
	"input [ { name: \"IN\" data_type: TYPE_FP32 dims: [ 16 ] } ]\n"                          \
	"output [ { name: \"OUT\" data_type: TYPE_FP32 dims: [ 16 ] },"                            \
	" { name: \"OUT2\" data_type: TYPE_FP32 dims: [ 16 ] } ]\n"
	ensemble_repo(ENS("4", EIO2, STEP("d", "IN", "OUT") ", " STEP("a", "IN", "OUT2")));
	put("r/d/config.pbtxt",
	    "name: \"d\"\n" IO_ONNX "model_transaction_policy { decoupled: true }\n");
	put("r/d/1/model.onnx", "");
	expect_error("r", "triton-ensemble-models", 6,
	             "in ensemble e, step of model 'e' receives inputs originated from different "
	             "decoupled models");
	ensemble_repo(ENS("4", EIO2,
	                  STEP("d", "IN", "T") ", " STEP("a", "T", "OUT") ", " STEP("a", "T", "OUT2")));
	put("r/d/config.pbtxt",
	    "name: \"d\"\n" IO_ONNX "model_transaction_policy { decoupled: true }\n");
	put("r/d/1/model.onnx", "");
	expect_valid("r", "both ensemble outputs come from one decoupled step");
	ensemble_repo(ENS("4", EIO2, STEP("a", "IN", "OUT") ", " STEP("a", "IN", "OUT2")));
	expect_valid("r", "both ensemble outputs come from steps that are not decoupled");
}

static void test_repository(void)
{
	clean("r");
	put("r/.git/objects", NULL);
	put("r/m/1/model.onnx", "");
	expect_severity("r", MREG_DIAG_NOTE, "triton-layout",
	                "skipped: mreg does not store '.git'");
	expect_valid("r", "a repository that is also a git work tree");
	put("r/.ipynb_checkpoints", NULL);
	expect_error("r", "triton-version", 0,
	             "at least one version must be available under the version policy of model "
	             "'.ipynb_checkpoints'");
	expect_severity("r", MREG_DIAG_NOTE, "triton-autofill",
	                "(backend 'ipynb_checkpoints') from its name");
	clean("r");
	put("r/README.md", "files at the top are ignored");
	expect_error("r", "triton-layout", 0, "no model found");
	clean("r");
}

static void test_describe(void)
{
	char *json = NULL;

	clean("r");
	put("r/a/config.pbtxt", "name: \"a\"\n" IO_ONNX "version_policy { all { } }\n");
	put("r/a/1/model.onnx", "");
	put("r/a/2/model.onnx", "");
	put("r/b/1/model.py", "");
	tap_is_int(fmt->describe("r", &json), 0, "describe runs");
	tap_is_str(
	    json,
	    "{\"triton\":{\"models\":[{\"name\":\"a\",\"platform\":\"onnxruntime_onnx\","
	    "\"backend\":\"onnxruntime\",\"config\":true,\"max_batch_size\":8,\"versions\":[1,2],"
	    "\"inputs\":[{\"name\":\"INPUT0\",\"data_type\":\"TYPE_FP32\",\"dims\":[16]}],"
	    "\"outputs\":[{\"name\":\"OUTPUT0\",\"data_type\":\"TYPE_FP32\",\"dims\":[16]}]},"
	    "{\"name\":\"b\",\"platform\":\"\",\"backend\":\"python\",\"config\":false,"
	    "\"max_batch_size\":0,\"versions\":[1],\"inputs\":[],\"outputs\":[]}]}}",
	    "models, platforms, versions, tensors");
	free(json);
	clean("r");
}

static void test_hostile(void)
{
	/* Binary junk and a deep nest as config.pbtxt: errors, no crash. */
	char junk[4096];
	for (size_t i = 0; i < sizeof(junk) - 1; i++)
		junk[i] = (char)(1 + (i * 131) % 255);
	junk[sizeof(junk) - 1] = '\0';
	model(junk);
	expect_error("m", "triton-syntax", 0, "failed to read text proto");
	char *deep = malloc(300 * 15 + 1);
	deep[0] = '\0';
	for (int i = 0; i < 300; i++)
		strcat(deep, "optimization {");
	model(deep);
	expect_error("m", "triton-schema", 0, "failed to read text proto");
	free(deep);
	clean("m");
	expect_error("does-not-exist", "triton-layout", 0, "a Triton model is a folder");
}

int main(void)
{
	tap_tmpdir();
	unsetenv(TRITON_GPUS_ENV);
	test_probe();
	test_basics();
	test_autofill();
	test_platforms();
	test_batching();
	test_io();
	test_versions();
	test_instance_groups();
	test_load_rules();
	test_ensembles();
	test_repository();
	test_describe();
	test_hostile();
	return tap_done();
}

/*
 * The schema of config.pbtxt: every message, field, enum, oneof and map of
 * Triton's model_config.proto (triton-inference-server/common,
 * protobuf/model_config.proto at commit
 * 83adf7cf88a2f343005974dff3728be746de2d66), written as C tables, and the
 * checks protobuf's TextFormat::Parser makes while it reads a message.
 *
 * Names follow protobuf: nested types are "inference.Outer.Inner", the
 * entry type of a map field "foo_bar" is "FooBarEntry" inside its message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "triton/triton_schema.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Field shorthands: scalar, repeated scalar, enum, message, repeated
 * message, oneof member. */
/* clang-format off */
#define S(n, num, t) {.name = n, .number = num, .type = t}
#define R(n, num, t) {.name = n, .number = num, .type = t, .repeated = true}
#define EN(n, num, e) {.name = n, .number = num, .type = TS_ENUM, .enumt = &e}
#define M(n, num, m) {.name = n, .number = num, .type = TS_MESSAGE, .message = &m}
#define RM(n, num, m) {.name = n, .number = num, .type = TS_MESSAGE, .repeated = true, .message = &m}
#define OS(n, num, t, o) {.name = n, .number = num, .type = t, .oneof = o}
#define OM(n, num, m, o) {.name = n, .number = num, .type = TS_MESSAGE, .oneof = o, .message = &m}
/* clang-format on */

#define ENUM(var, full, vals) const ts_enum var = {full, vals, N(vals)}
#define MESSAGE(var, full, flds) static const ts_message var = {full, flds, N(flds), false}
#define MAP_ENTRY(var, full, flds) static const ts_message var = {full, flds, N(flds), true}

/* ---- enums ---- */

static const ts_enum_value data_type_values[] = {
    {"TYPE_INVALID", 0}, {"TYPE_BOOL", 1},    {"TYPE_UINT8", 2}, {"TYPE_UINT16", 3},
    {"TYPE_UINT32", 4},  {"TYPE_UINT64", 5},  {"TYPE_INT8", 6},  {"TYPE_INT16", 7},
    {"TYPE_INT32", 8},   {"TYPE_INT64", 9},   {"TYPE_FP16", 10}, {"TYPE_FP32", 11},
    {"TYPE_FP64", 12},   {"TYPE_STRING", 13}, {"TYPE_BF16", 14},
};
ENUM(ts_data_type, "inference.DataType", data_type_values);

static const ts_enum_value instance_kind_values[] = {
    {"KIND_AUTO", 0},
    {"KIND_GPU", 1},
    {"KIND_CPU", 2},
    {"KIND_MODEL", 3},
};
ENUM(ts_instance_group_kind, "inference.ModelInstanceGroup.Kind", instance_kind_values);

static const ts_enum_value secondary_kind_values[] = {{"KIND_NVDLA", 0}};
static ENUM(secondary_device_kind,
            "inference.ModelInstanceGroup.SecondaryDevice.SecondaryDeviceKind",
            secondary_kind_values);

static const ts_enum_value input_format_values[] = {
    {"FORMAT_NONE", 0},
    {"FORMAT_NHWC", 1},
    {"FORMAT_NCHW", 2},
};
static ENUM(input_format, "inference.ModelInput.Format", input_format_values);

static const ts_enum_value batch_input_kind_values[] = {
    {"BATCH_ELEMENT_COUNT", 0},
    {"BATCH_ACCUMULATED_ELEMENT_COUNT", 1},
    {"BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO", 2},
    {"BATCH_MAX_ELEMENT_COUNT_AS_SHAPE", 3},
    {"BATCH_ITEM_SHAPE", 4},
    {"BATCH_ITEM_SHAPE_FLATTEN", 5},
};
ENUM(ts_batch_input_kind, "inference.BatchInput.Kind", batch_input_kind_values);

static const ts_enum_value batch_output_kind_values[] = {{"BATCH_SCATTER_WITH_INPUT_SHAPE", 0}};
ENUM(ts_batch_output_kind, "inference.BatchOutput.Kind", batch_output_kind_values);

static const ts_enum_value priority_values[] = {
    {"PRIORITY_DEFAULT", 0},
    {"PRIORITY_MAX", 1},
    {"PRIORITY_MIN", 2},
};
static ENUM(model_priority, "inference.ModelOptimizationPolicy.ModelPriority", priority_values);

static const ts_enum_value timeout_action_values[] = {{"REJECT", 0}, {"DELAY", 1}};
static ENUM(timeout_action, "inference.ModelQueuePolicy.TimeoutAction", timeout_action_values);

static const ts_enum_value control_kind_values[] = {
    {"CONTROL_SEQUENCE_START", 0},
    {"CONTROL_SEQUENCE_READY", 1},
    {"CONTROL_SEQUENCE_END", 2},
    {"CONTROL_SEQUENCE_CORRID", 3},
};
ENUM(ts_control_kind, "inference.ModelSequenceBatching.Control.Kind", control_kind_values);

/* ---- ModelRateLimiter ---- */

static const ts_field rate_limiter_resource_fields[] = {
    S("name", 1, TS_STRING),
    S("global", 2, TS_BOOL),
    S("count", 3, TS_UINT32),
};
MESSAGE(rate_limiter_resource, "inference.ModelRateLimiter.Resource", rate_limiter_resource_fields);

static const ts_field rate_limiter_fields[] = {
    RM("resources", 1, rate_limiter_resource),
    S("priority", 2, TS_UINT32),
};
MESSAGE(rate_limiter, "inference.ModelRateLimiter", rate_limiter_fields);

/* ---- ModelInstanceGroup ---- */

static const ts_field secondary_device_fields[] = {
    EN("kind", 1, secondary_device_kind),
    S("device_id", 2, TS_INT64),
};
MESSAGE(secondary_device, "inference.ModelInstanceGroup.SecondaryDevice", secondary_device_fields);

static const ts_field instance_group_fields[] = {
    S("name", 1, TS_STRING),        EN("kind", 4, ts_instance_group_kind),
    S("count", 2, TS_INT32),        M("rate_limiter", 6, rate_limiter),
    R("gpus", 3, TS_INT32),         RM("secondary_devices", 8, secondary_device),
    R("profile", 5, TS_STRING),     S("passive", 7, TS_BOOL),
    S("host_policy", 9, TS_STRING),
};
MESSAGE(instance_group, "inference.ModelInstanceGroup", instance_group_fields);

/* ---- tensors ---- */

static const ts_field reshape_fields[] = {R("shape", 1, TS_INT64)};
MESSAGE(tensor_reshape, "inference.ModelTensorReshape", reshape_fields);

static const ts_field input_fields[] = {
    S("name", 1, TS_STRING),
    EN("data_type", 2, ts_data_type),
    EN("format", 3, input_format),
    R("dims", 4, TS_INT64),
    M("reshape", 5, tensor_reshape),
    S("is_shape_tensor", 6, TS_BOOL),
    S("allow_ragged_batch", 7, TS_BOOL),
    S("optional", 8, TS_BOOL),
    S("is_non_linear_format_io", 9, TS_BOOL),
};
MESSAGE(model_input, "inference.ModelInput", input_fields);

static const ts_field output_fields[] = {
    S("name", 1, TS_STRING),
    EN("data_type", 2, ts_data_type),
    R("dims", 3, TS_INT64),
    M("reshape", 5, tensor_reshape),
    S("label_filename", 4, TS_STRING),
    S("is_shape_tensor", 6, TS_BOOL),
    S("is_non_linear_format_io", 7, TS_BOOL),
};
MESSAGE(model_output, "inference.ModelOutput", output_fields);

static const ts_field batch_input_fields[] = {
    EN("kind", 1, ts_batch_input_kind),
    R("target_name", 2, TS_STRING),
    EN("data_type", 3, ts_data_type),
    R("source_input", 4, TS_STRING),
};
MESSAGE(batch_input, "inference.BatchInput", batch_input_fields);

static const ts_field batch_output_fields[] = {
    R("target_name", 1, TS_STRING),
    EN("kind", 2, ts_batch_output_kind),
    R("source_input", 3, TS_STRING),
};
MESSAGE(batch_output, "inference.BatchOutput", batch_output_fields);

/* ---- ModelVersionPolicy ---- */

static const ts_field latest_fields[] = {S("num_versions", 1, TS_UINT32)};
MESSAGE(version_latest, "inference.ModelVersionPolicy.Latest", latest_fields);

static const ts_message version_all = {"inference.ModelVersionPolicy.All", NULL, 0, false};

static const ts_field specific_fields[] = {R("versions", 1, TS_INT64)};
MESSAGE(version_specific, "inference.ModelVersionPolicy.Specific", specific_fields);

static const ts_field version_policy_fields[] = {
    OM("latest", 1, version_latest, "policy_choice"),
    OM("all", 2, version_all, "policy_choice"),
    OM("specific", 3, version_specific, "policy_choice"),
};
MESSAGE(version_policy, "inference.ModelVersionPolicy", version_policy_fields);

/* ---- ModelOptimizationPolicy ---- */

static const ts_field graph_fields[] = {S("level", 1, TS_INT32)};
MESSAGE(opt_graph, "inference.ModelOptimizationPolicy.Graph", graph_fields);

static const ts_field shape_fields[] = {R("dim", 1, TS_INT64)};
MESSAGE(graph_spec_shape, "inference.ModelOptimizationPolicy.Cuda.GraphSpec.Shape", shape_fields);

static const ts_field graph_spec_input_entry_fields[] = {
    S("key", 1, TS_STRING),
    M("value", 2, graph_spec_shape),
};
MAP_ENTRY(graph_spec_input_entry, "inference.ModelOptimizationPolicy.Cuda.GraphSpec.InputEntry",
          graph_spec_input_entry_fields);
MAP_ENTRY(lower_bound_input_entry,
          "inference.ModelOptimizationPolicy.Cuda.GraphSpec.LowerBound.InputEntry",
          graph_spec_input_entry_fields);

static const ts_field lower_bound_fields[] = {
    S("batch_size", 1, TS_INT32),
    RM("input", 2, lower_bound_input_entry),
};
MESSAGE(graph_spec_lower_bound, "inference.ModelOptimizationPolicy.Cuda.GraphSpec.LowerBound",
        lower_bound_fields);

static const ts_field graph_spec_fields[] = {
    S("batch_size", 1, TS_INT32),
    RM("input", 2, graph_spec_input_entry),
    M("graph_lower_bound", 3, graph_spec_lower_bound),
};
MESSAGE(graph_spec, "inference.ModelOptimizationPolicy.Cuda.GraphSpec", graph_spec_fields);

static const ts_field cuda_fields[] = {
    S("graphs", 1, TS_BOOL),
    S("busy_wait_events", 2, TS_BOOL),
    RM("graph_spec", 3, graph_spec),
    S("output_copy_stream", 4, TS_BOOL),
};
MESSAGE(opt_cuda, "inference.ModelOptimizationPolicy.Cuda", cuda_fields);

static const ts_field string_map_entry_fields[] = {
    S("key", 1, TS_STRING),
    S("value", 2, TS_STRING),
};
MAP_ENTRY(accelerator_parameters_entry,
          "inference.ModelOptimizationPolicy.ExecutionAccelerators.Accelerator.ParametersEntry",
          string_map_entry_fields);

static const ts_field accelerator_fields[] = {
    S("name", 1, TS_STRING),
    RM("parameters", 2, accelerator_parameters_entry),
};
MESSAGE(accelerator, "inference.ModelOptimizationPolicy.ExecutionAccelerators.Accelerator",
        accelerator_fields);

static const ts_field accelerators_fields[] = {
    RM("gpu_execution_accelerator", 1, accelerator),
    RM("cpu_execution_accelerator", 2, accelerator),
};
MESSAGE(execution_accelerators, "inference.ModelOptimizationPolicy.ExecutionAccelerators",
        accelerators_fields);

static const ts_field pinned_fields[] = {S("enable", 1, TS_BOOL)};
MESSAGE(pinned_memory, "inference.ModelOptimizationPolicy.PinnedMemoryBuffer", pinned_fields);

static const ts_field optimization_fields[] = {
    M("graph", 1, opt_graph),
    EN("priority", 2, model_priority),
    M("cuda", 3, opt_cuda),
    M("execution_accelerators", 4, execution_accelerators),
    M("input_pinned_memory", 5, pinned_memory),
    M("output_pinned_memory", 6, pinned_memory),
    S("gather_kernel_buffer_threshold", 7, TS_UINT32),
    S("eager_batching", 8, TS_BOOL),
};
MESSAGE(optimization, "inference.ModelOptimizationPolicy", optimization_fields);

/* ---- scheduling ---- */

static const ts_field queue_policy_fields[] = {
    EN("timeout_action", 1, timeout_action),
    S("default_timeout_microseconds", 2, TS_UINT64),
    S("allow_timeout_override", 3, TS_BOOL),
    S("max_queue_size", 4, TS_UINT32),
};
MESSAGE(queue_policy, "inference.ModelQueuePolicy", queue_policy_fields);

static const ts_field priority_queue_entry_fields[] = {
    S("key", 1, TS_UINT64),
    M("value", 2, queue_policy),
};
MAP_ENTRY(priority_queue_entry, "inference.ModelDynamicBatching.PriorityQueuePolicyEntry",
          priority_queue_entry_fields);

static const ts_field dynamic_batching_fields[] = {
    R("preferred_batch_size", 1, TS_INT32),
    S("max_queue_delay_microseconds", 2, TS_UINT64),
    S("preserve_ordering", 3, TS_BOOL),
    S("priority_levels", 4, TS_UINT64),
    S("default_priority_level", 5, TS_UINT64),
    M("default_queue_policy", 6, queue_policy),
    RM("priority_queue_policy", 7, priority_queue_entry),
};
MESSAGE(dynamic_batching, "inference.ModelDynamicBatching", dynamic_batching_fields);

static const ts_field control_fields[] = {
    EN("kind", 1, ts_control_kind),    R("int32_false_true", 2, TS_INT32),
    R("fp32_false_true", 3, TS_FLOAT), R("bool_false_true", 5, TS_BOOL),
    EN("data_type", 4, ts_data_type),
};
MESSAGE(sequence_control, "inference.ModelSequenceBatching.Control", control_fields);

static const ts_field control_input_fields[] = {
    S("name", 1, TS_STRING),
    RM("control", 2, sequence_control),
};
MESSAGE(control_input, "inference.ModelSequenceBatching.ControlInput", control_input_fields);

static const ts_field initial_state_fields[] = {
    EN("data_type", 1, ts_data_type),
    R("dims", 2, TS_INT64),
    OS("zero_data", 3, TS_BOOL, "state_data"),
    OS("data_file", 4, TS_STRING, "state_data"),
    S("name", 5, TS_STRING),
};
MESSAGE(initial_state, "inference.ModelSequenceBatching.InitialState", initial_state_fields);

static const ts_field state_fields[] = {
    S("input_name", 1, TS_STRING),         S("output_name", 2, TS_STRING),
    EN("data_type", 3, ts_data_type),      R("dims", 4, TS_INT64),
    RM("initial_state", 5, initial_state), S("use_same_buffer_for_input_output", 6, TS_BOOL),
    S("use_growable_memory", 7, TS_BOOL),
};
MESSAGE(sequence_state, "inference.ModelSequenceBatching.State", state_fields);

static const ts_field strategy_direct_fields[] = {
    S("max_queue_delay_microseconds", 1, TS_UINT64),
    S("minimum_slot_utilization", 2, TS_FLOAT),
};
MESSAGE(strategy_direct, "inference.ModelSequenceBatching.StrategyDirect", strategy_direct_fields);

static const ts_field strategy_oldest_fields[] = {
    S("max_candidate_sequences", 1, TS_INT32),
    R("preferred_batch_size", 2, TS_INT32),
    S("max_queue_delay_microseconds", 3, TS_UINT64),
    S("preserve_ordering", 4, TS_BOOL),
};
MESSAGE(strategy_oldest, "inference.ModelSequenceBatching.StrategyOldest", strategy_oldest_fields);

static const ts_field sequence_batching_fields[] = {
    OM("direct", 3, strategy_direct, "strategy_choice"),
    OM("oldest", 4, strategy_oldest, "strategy_choice"),
    S("max_sequence_idle_microseconds", 1, TS_UINT64),
    RM("control_input", 2, control_input),
    RM("state", 5, sequence_state),
    S("iterative_sequence", 6, TS_BOOL),
};
MESSAGE(sequence_batching, "inference.ModelSequenceBatching", sequence_batching_fields);

MAP_ENTRY(step_input_map_entry, "inference.ModelEnsembling.Step.InputMapEntry",
          string_map_entry_fields);
MAP_ENTRY(step_output_map_entry, "inference.ModelEnsembling.Step.OutputMapEntry",
          string_map_entry_fields);

static const ts_field step_fields[] = {
    S("model_name", 1, TS_STRING),
    S("model_version", 2, TS_INT64),
    RM("input_map", 3, step_input_map_entry),
    RM("output_map", 4, step_output_map_entry),
    S("model_namespace", 5, TS_STRING),
};
MESSAGE(ensemble_step, "inference.ModelEnsembling.Step", step_fields);

static const ts_field ensembling_fields[] = {
    RM("step", 1, ensemble_step),
    S("max_inflight_requests", 2, TS_UINT32),
};
MESSAGE(ensembling, "inference.ModelEnsembling", ensembling_fields);

/* ---- the rest of ModelConfig ---- */

static const ts_field parameter_fields[] = {S("string_value", 1, TS_STRING)};
MESSAGE(model_parameter, "inference.ModelParameter", parameter_fields);

static const ts_field warmup_input_fields[] = {
    EN("data_type", 1, ts_data_type),
    R("dims", 2, TS_INT64),
    OS("zero_data", 3, TS_BOOL, "input_data_type"),
    OS("random_data", 4, TS_BOOL, "input_data_type"),
    OS("input_data_file", 5, TS_STRING, "input_data_type"),
};
MESSAGE(warmup_input, "inference.ModelWarmup.Input", warmup_input_fields);

static const ts_field warmup_inputs_entry_fields[] = {
    S("key", 1, TS_STRING),
    M("value", 2, warmup_input),
};
MAP_ENTRY(warmup_inputs_entry, "inference.ModelWarmup.InputsEntry", warmup_inputs_entry_fields);

static const ts_field warmup_fields[] = {
    S("name", 1, TS_STRING),
    S("batch_size", 2, TS_UINT32),
    RM("inputs", 3, warmup_inputs_entry),
    S("count", 4, TS_UINT32),
};
MESSAGE(model_warmup, "inference.ModelWarmup", warmup_fields);

static const ts_field operations_fields[] = {R("op_library_filename", 1, TS_STRING)};
MESSAGE(model_operations, "inference.ModelOperations", operations_fields);

static const ts_field transaction_fields[] = {S("decoupled", 1, TS_BOOL)};
MESSAGE(transaction_policy, "inference.ModelTransactionPolicy", transaction_fields);

MAP_ENTRY(agent_parameters_entry, "inference.ModelRepositoryAgents.Agent.ParametersEntry",
          string_map_entry_fields);

static const ts_field agent_fields[] = {
    S("name", 1, TS_STRING),
    RM("parameters", 2, agent_parameters_entry),
};
MESSAGE(repository_agent, "inference.ModelRepositoryAgents.Agent", agent_fields);

static const ts_field agents_fields[] = {RM("agents", 1, repository_agent)};
MESSAGE(repository_agents, "inference.ModelRepositoryAgents", agents_fields);

static const ts_field response_cache_fields[] = {S("enable", 1, TS_BOOL)};
MESSAGE(response_cache, "inference.ModelResponseCache", response_cache_fields);

static const ts_field metric_identifier_fields[] = {S("family", 1, TS_STRING)};
MESSAGE(metric_identifier, "inference.ModelMetrics.MetricControl.MetricIdentifier",
        metric_identifier_fields);

static const ts_field histogram_fields[] = {R("buckets", 1, TS_DOUBLE)};
MESSAGE(histogram_options, "inference.ModelMetrics.MetricControl.HistogramOptions",
        histogram_fields);

static const ts_field metric_control_fields[] = {
    M("metric_identifier", 1, metric_identifier),
    OM("histogram_options", 2, histogram_options, "metric_options"),
};
MESSAGE(metric_control, "inference.ModelMetrics.MetricControl", metric_control_fields);

static const ts_field metrics_fields[] = {RM("metric_control", 1, metric_control)};
MESSAGE(model_metrics, "inference.ModelMetrics", metrics_fields);

MAP_ENTRY(cc_model_filenames_entry, "inference.ModelConfig.CcModelFilenamesEntry",
          string_map_entry_fields);
MAP_ENTRY(metric_tags_entry, "inference.ModelConfig.MetricTagsEntry", string_map_entry_fields);

static const ts_field parameters_entry_fields[] = {
    S("key", 1, TS_STRING),
    M("value", 2, model_parameter),
};
MAP_ENTRY(parameters_entry, "inference.ModelConfig.ParametersEntry", parameters_entry_fields);

static const ts_field model_config_fields[] = {
    S("name", 1, TS_STRING),
    S("platform", 2, TS_STRING),
    S("backend", 17, TS_STRING),
    S("runtime", 25, TS_STRING),
    M("version_policy", 3, version_policy),
    S("max_batch_size", 4, TS_INT32),
    RM("input", 5, model_input),
    RM("output", 6, model_output),
    RM("batch_input", 20, batch_input),
    RM("batch_output", 21, batch_output),
    M("optimization", 12, optimization),
    OM("dynamic_batching", 11, dynamic_batching, "scheduling_choice"),
    OM("sequence_batching", 13, sequence_batching, "scheduling_choice"),
    OM("ensemble_scheduling", 15, ensembling, "scheduling_choice"),
    RM("instance_group", 7, instance_group),
    S("default_model_filename", 8, TS_STRING),
    RM("cc_model_filenames", 9, cc_model_filenames_entry),
    RM("metric_tags", 10, metric_tags_entry),
    RM("parameters", 14, parameters_entry),
    RM("model_warmup", 16, model_warmup),
    M("model_operations", 18, model_operations),
    M("model_transaction_policy", 19, transaction_policy),
    M("model_repository_agents", 23, repository_agents),
    M("response_cache", 24, response_cache),
    M("model_metrics", 26, model_metrics),
};
const ts_message ts_model_config = {"inference.ModelConfig", model_config_fields,
                                    N(model_config_fields), false};

const ts_message *const ts_all_messages[] = {
    &ts_model_config,
    &rate_limiter,
    &rate_limiter_resource,
    &instance_group,
    &secondary_device,
    &tensor_reshape,
    &model_input,
    &model_output,
    &batch_input,
    &batch_output,
    &version_policy,
    &version_latest,
    &version_all,
    &version_specific,
    &optimization,
    &opt_graph,
    &opt_cuda,
    &graph_spec,
    &graph_spec_shape,
    &graph_spec_lower_bound,
    &graph_spec_input_entry,
    &lower_bound_input_entry,
    &execution_accelerators,
    &accelerator,
    &accelerator_parameters_entry,
    &pinned_memory,
    &queue_policy,
    &dynamic_batching,
    &priority_queue_entry,
    &sequence_batching,
    &sequence_control,
    &control_input,
    &initial_state,
    &sequence_state,
    &strategy_direct,
    &strategy_oldest,
    &ensembling,
    &ensemble_step,
    &step_input_map_entry,
    &step_output_map_entry,
    &model_parameter,
    &model_warmup,
    &warmup_input,
    &warmup_inputs_entry,
    &model_operations,
    &transaction_policy,
    &repository_agents,
    &repository_agent,
    &agent_parameters_entry,
    &response_cache,
    &model_metrics,
    &metric_control,
    &metric_identifier,
    &histogram_options,
    &cc_model_filenames_entry,
    &metric_tags_entry,
    &parameters_entry,
    NULL,
};

const ts_field *ts_field_find(const ts_message *m, const char *name)
{
	for (size_t i = 0; i < m->count; i++)
		if (!strcmp(m->fields[i].name, name))
			return &m->fields[i];
	return NULL;
}

const char *ts_enum_name(const ts_enum *e, int64_t number)
{
	for (size_t i = 0; i < e->count; i++)
		if (e->values[i].number == number)
			return e->values[i].name;
	return "";
}

/* ---- the checker ---- */

/* Enough for protobuf's worst case in these files; more is noise. */
#define MAX_ERRORS 50

typedef struct {
	ts_report_fn report;
	void *ctx;
	size_t errors;
} checker;

static void report(checker *c, unsigned int line, unsigned int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void report(checker *c, unsigned int line, unsigned int column, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	c->errors++;
	if (c->errors > MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->errors == MAX_ERRORS)
		strcat(msg, " (further errors not shown)");
	c->report(c->ctx, line, column, msg);
}

/* What protobuf says it expected when a scalar field's value is wrong. */
static const char *expected_word(ts_type t)
{
	switch (t) {
	case TS_DOUBLE:
	case TS_FLOAT:
		return "double";
	case TS_BOOL:
		return "identifier";
	case TS_STRING:
		return "string";
	case TS_ENUM:
		return "integer or identifier";
	default:
		return "integer";
	}
}

/* Convert one scalar; true when it is set to a non-default value. */
static bool check_scalar(checker *c, const ts_field *fd, pbtxt_value *v)
{
	char err[320];
	bool ok = false;

	switch (fd->type) {
	case TS_INT32:
		ok = pbtxt_value_int(v, INT32_MIN, INT32_MAX, &v->v.i, err, sizeof(err));
		break;
	case TS_INT64:
		ok = pbtxt_value_int(v, INT64_MIN, INT64_MAX, &v->v.i, err, sizeof(err));
		break;
	case TS_UINT32:
		ok = pbtxt_value_uint(v, UINT32_MAX, &v->v.u, err, sizeof(err));
		break;
	case TS_UINT64:
		ok = pbtxt_value_uint(v, UINT64_MAX, &v->v.u, err, sizeof(err));
		break;
	case TS_DOUBLE:
	case TS_FLOAT:
		ok = pbtxt_value_double(v, &v->v.d, err, sizeof(err));
		break;
	case TS_BOOL:
		ok = pbtxt_value_bool(v, fd->name, &v->v.b, err, sizeof(err));
		break;
	case TS_STRING:
		ok = v->kind == PBTXT_STRING;
		if (!ok)
			snprintf(err, sizeof(err), "Expected string, got: %s",
			         pbtxt_value_token(v));
		break;
	case TS_ENUM:
		if (v->kind == PBTXT_IDENT && !v->negative) {
			ok = false;
			for (size_t i = 0; i < fd->enumt->count && !ok; i++) {
				if (!strcmp(fd->enumt->values[i].name, v->text)) {
					v->v.i = fd->enumt->values[i].number;
					ok = true;
				}
			}
			if (!ok)
				snprintf(
				    err, sizeof(err),
				    "Unknown enumeration value of \"%.100s\" for field \"%s\".",
				    v->text, fd->name);
		} else if (v->kind == PBTXT_INT || v->negative) {
			/* A number the enum does not name is kept: proto3 enums are open. */
			ok = pbtxt_value_int(v, INT32_MIN, INT32_MAX, &v->v.i, err, sizeof(err));
		} else {
			snprintf(err, sizeof(err), "Expected integer or identifier, got: %s",
			         pbtxt_value_token(v));
		}
		break;
	case TS_MESSAGE:
		break;
	}
	if (!ok) {
		/* Where protobuf's parser stands when it finds the problem: on the
		 * number (after any '-'), on a '-' that may not be there, or past
		 * a name it has consumed and looked up. */
		unsigned int line = v->tline, column = v->tcolumn;
		bool minus_refused = fd->type == TS_UINT32 || fd->type == TS_UINT64 ||
		                     fd->type == TS_BOOL || fd->type == TS_STRING;
		if (v->negative && minus_refused) {
			line = v->line;
			column = v->column;
		} else if (v->kind == PBTXT_IDENT && !v->negative &&
		           (fd->type == TS_ENUM || fd->type == TS_BOOL)) {
			line = v->eline;
			column = v->ecolumn;
		}
		report(c, line, column, "%s", err);
		return false;
	}
	v->valid = true;
	switch (fd->type) {
	case TS_INT32:
	case TS_INT64:
	case TS_ENUM:
		return v->v.i != 0;
	case TS_UINT32:
	case TS_UINT64:
		return v->v.u != 0;
	case TS_DOUBLE:
	case TS_FLOAT:
		return v->v.d != 0.0 || v->v.d != v->v.d;
	case TS_BOOL:
		return v->v.b;
	case TS_STRING:
		return v->len != 0;
	default:
		return true;
	}
}

static void check_message(checker *c, pbtxt_msg *m, const ts_message *type);

static void check_field(checker *c, pbtxt_field *f, const ts_field *fd, bool *present)
{
	bool set = false;

	/* A field cut short by a syntax error has been reported by the parser. */
	if (!f->count && !f->list)
		return;
	if (fd->type != TS_MESSAGE && !f->colon) {
		report(c, f->nline, f->ncolumn, "Expected \":\", found \"%s\".",
		       f->list    ? "["
		       : f->count ? pbtxt_value_token(&f->values[0])
		                  : "");
		return;
	}
	if (f->list && !fd->repeated) {
		if (fd->type == TS_MESSAGE)
			report(c, f->vline, f->vcolumn, "Expected \"{\", found \"[\".");
		else
			report(c, f->vline, f->vcolumn, "Expected %s, got: [",
			       expected_word(fd->type));
		return;
	}
	for (size_t i = 0; i < f->count; i++) {
		pbtxt_value *v = &f->values[i];
		if (fd->type == TS_MESSAGE) {
			if (v->kind != PBTXT_MESSAGE) {
				report(c, v->line, v->column, "Expected \"{\", found \"%s\".",
				       pbtxt_value_token(v));
				continue;
			}
			v->valid = true;
			check_message(c, v->msg, fd->message);
			set = true;
		} else if (v->kind == PBTXT_MESSAGE) {
			report(c, v->line, v->column, "Expected %s, got: %s",
			       expected_word(fd->type), pbtxt_value_token(v));
		} else {
			set = check_scalar(c, fd, v);
		}
	}
	/* Proto3 presence: a message or oneof member once written; a plain
	 * scalar only while it holds a non-zero value. */
	if (fd->type == TS_MESSAGE || fd->oneof)
		*present = *present || f->count > 0;
	else
		*present = set;
}

static void check_message(checker *c, pbtxt_msg *m, const ts_message *type)
{
	bool present[32] = {false};

	m->decl = type;
	for (size_t i = 0; i < m->count; i++) {
		pbtxt_field *f = &m->fields[i];
		const ts_field *fd = ts_field_find(type, f->name);
		size_t idx;

		if (!fd) {
			report(c, f->nline, f->ncolumn,
			       "Message type \"%s\" has no field named \"%.100s\".",
			       type->full_name, f->name);
			continue;
		}
		f->decl = fd;
		idx = (size_t)(fd - type->fields);
		if (!fd->repeated && present[idx]) {
			report(c, f->nline, f->ncolumn,
			       "Non-repeated field \"%s\" is specified multiple times.", fd->name);
			continue;
		}
		if (fd->oneof) {
			const ts_field *other = NULL;
			for (size_t k = 0; k < type->count && !other; k++)
				if (present[k] && type->fields[k].oneof &&
				    !strcmp(type->fields[k].oneof, fd->oneof))
					other = &type->fields[k];
			if (other) {
				report(c, f->nline, f->ncolumn,
				       "Field \"%s\" is specified along with field \"%s\", another "
				       "member "
				       "of oneof \"%s\".",
				       fd->name, other->name, fd->oneof);
				continue;
			}
		}
		check_field(c, f, fd, &present[idx]);
	}
}

static const char *schema_type_name(const void *type)
{
	return ((const ts_message *)type)->full_name;
}

static bool schema_field(const void *type, const char *name, pbtxt_ftype *ft, bool *repeated,
                         const void **child)
{
	const ts_field *fd = ts_field_find(type, name);

	if (!fd)
		return false;
	switch (fd->type) {
	case TS_DOUBLE:
	case TS_FLOAT:
		*ft = PBTXT_F_DOUBLE;
		break;
	case TS_INT32:
	case TS_INT64:
		*ft = PBTXT_F_INT;
		break;
	case TS_UINT32:
	case TS_UINT64:
		*ft = PBTXT_F_UINT;
		break;
	case TS_BOOL:
		*ft = PBTXT_F_BOOL;
		break;
	case TS_STRING:
		*ft = PBTXT_F_STRING;
		break;
	case TS_ENUM:
		*ft = PBTXT_F_ENUM;
		break;
	case TS_MESSAGE:
		*ft = PBTXT_F_MESSAGE;
		break;
	}
	*repeated = fd->repeated;
	*child = fd->message;
	return true;
}

const pbtxt_schema ts_pbtxt_schema = {
    .root = &ts_model_config,
    .type_name = schema_type_name,
    .field = schema_field,
};

size_t ts_check(pbtxt_msg *root, ts_report_fn fn, void *ctx)
{
	checker c = {.report = fn, .ctx = ctx};

	check_message(&c, root, &ts_model_config);
	return c.errors;
}

/* ---- reading a checked tree ---- */

const pbtxt_field *ts_last_field(const pbtxt_msg *m, const char *field)
{
	if (!m)
		return NULL;
	for (size_t i = m->count; i-- > 0;)
		if (!strcmp(m->fields[i].name, field) && m->fields[i].count)
			return &m->fields[i];
	return NULL;
}

bool ts_has(const pbtxt_msg *m, const char *field)
{
	return ts_last_field(m, field) != NULL;
}

const pbtxt_value *ts_last(const pbtxt_msg *m, const char *field)
{
	const pbtxt_field *f = ts_last_field(m, field);
	const pbtxt_value *v = f ? &f->values[f->count - 1] : NULL;

	return v && v->valid ? v : NULL;
}

const pbtxt_msg *ts_msg(const pbtxt_msg *m, const char *field)
{
	const pbtxt_value *v = ts_last(m, field);

	return v && v->kind == PBTXT_MESSAGE ? v->msg : NULL;
}

const char *ts_str(const pbtxt_msg *m, const char *field)
{
	const pbtxt_value *v = ts_last(m, field);

	return v && v->kind == PBTXT_STRING ? v->text : "";
}

int64_t ts_int(const pbtxt_msg *m, const char *field)
{
	const pbtxt_value *v = ts_last(m, field);

	return v ? v->v.i : 0;
}

uint64_t ts_uint(const pbtxt_msg *m, const char *field)
{
	const pbtxt_value *v = ts_last(m, field);

	return v ? v->v.u : 0;
}

double ts_double(const pbtxt_msg *m, const char *field)
{
	const pbtxt_value *v = ts_last(m, field);

	return v ? v->v.d : 0.0;
}

bool ts_bool(const pbtxt_msg *m, const char *field)
{
	const pbtxt_value *v = ts_last(m, field);

	return v ? v->v.b : false;
}

void ts_iter_init(ts_iter *it, const pbtxt_msg *m, const char *field)
{
	it->m = m;
	it->name = field;
	it->fi = 0;
	it->vi = 0;
}

const pbtxt_value *ts_iter_next(ts_iter *it)
{
	if (!it->m)
		return NULL;
	while (it->fi < it->m->count) {
		const pbtxt_field *f = &it->m->fields[it->fi];
		if (strcmp(f->name, it->name) || it->vi >= f->count) {
			it->fi++;
			it->vi = 0;
			continue;
		}
		const pbtxt_value *v = &f->values[it->vi++];
		if (v->valid)
			return v;
	}
	return NULL;
}

size_t ts_count(const pbtxt_msg *m, const char *field)
{
	ts_iter it;
	size_t n = 0;

	ts_iter_init(&it, m, field);
	while (ts_iter_next(&it))
		n++;
	return n;
}

const pbtxt_value *ts_map_key(const pbtxt_value *entry)
{
	return entry && entry->kind == PBTXT_MESSAGE ? ts_last(entry->msg, "key") : NULL;
}

const pbtxt_value *ts_map_value(const pbtxt_value *entry)
{
	return entry && entry->kind == PBTXT_MESSAGE ? ts_last(entry->msg, "value") : NULL;
}

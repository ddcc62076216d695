/*
 * triton_model: the rules of one model's configuration, in Triton's order.
 * From Triton core's model_config_utils.cc: ValidateModelConfig (platform and
 * backend, max_batch_size, dynamic and sequence batching with
 * GetBooleanSequenceControlProperties / GetTypedSequenceControlProperties,
 * response cache, ValidateModelMetrics), ValidateModelIOConfig
 * (ValidateIOShape, ValidateModelInput / ValidateModelOutput,
 * ValidateNonLinearFormatIO, ValidateBatchIO), NormalizeInstanceGroup and
 * ValidateInstanceGroup. Then what Triton checks when it loads the model:
 * the runtime library and TRITON_BATCH_STRATEGY_PATH (backend_model.cc,
 * TritonModel::Create and GetBackendLibraryProperties), label files (model.cc,
 * Model::Init), warmup samples (backend_model_instance.cc,
 * GenerateWarmupData), implicit state (sequence_batch_scheduler.cc), and the
 * model file, which the backend looks for. An ensemble's own scheduling
 * rules are in ensemble.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/path.h"
#include "util/strutil.h"
#include "triton/triton_priv.h"

/* ---- ValidateModelConfig ---- */

typedef enum { BT_UNKNOWN, BT_TENSORFLOW, BT_TENSORRT, BT_ONNXRUNTIME, BT_PYTORCH } backend_type;

static backend_type type_of_backend(const char *b)
{
	if (!strcmp(b, "tensorflow"))
		return BT_TENSORFLOW;
	if (!strcmp(b, "tensorrt"))
		return BT_TENSORRT;
	if (!strcmp(b, "onnxruntime"))
		return BT_ONNXRUNTIME;
	if (!strcmp(b, "pytorch"))
		return BT_PYTORCH;
	return BT_UNKNOWN;
}

static backend_type type_of_platform(const char *p)
{
	if (!strcmp(p, "tensorflow_graphdef") || !strcmp(p, "tensorflow_savedmodel"))
		return BT_TENSORFLOW;
	if (!strcmp(p, "tensorrt_plan"))
		return BT_TENSORRT;
	if (!strcmp(p, "onnxruntime_onnx"))
		return BT_ONNXRUNTIME;
	if (!strcmp(p, "pytorch_libtorch") || !strcmp(p, "torch_aoti"))
		return BT_PYTORCH;
	return BT_UNKNOWN;
}

/* Where platform or backend is written, for the platform rules. */
static tpos pos_platform(const tmodel *m)
{
	tpos p = pos_field(m, m->tree, "platform");

	return p.line ? p : pos_field(m, m->tree, "backend");
}

static const char *control_kind_name(int64_t k)
{
	return ts_enum_name(&ts_control_kind, k);
}

/* GetBooleanSequenceControlProperties / GetTypedSequenceControlProperties
 * for one control kind. Returns false after reporting the first problem. */
static bool check_control(trepo *r, tmodel *m, const pbtxt_msg *sb, int64_t kind, bool typed,
                          int64_t *corrid_type, bool *corrid_seen)
{
	const char *name = m->cfg_name;
	const char *kname = control_kind_name(kind);
	const pbtxt_value *ci, *c;
	ts_iter it, cit;
	bool seen_control = false;
	/* seen tensor names: a small list, the configs are small */
	const char **seen = NULL;
	size_t nseen = 0;
	bool ok = false;

	ts_iter_init(&it, sb, "control_input");
	while ((ci = ts_iter_next(&it))) {
		const char *tname = ts_str(ci->msg, "name");
		if (!*tname) {
			cfg_error(r, m, pos_value(ci), "triton-sequence-batching",
			          "sequence batching control tensor must have a name for %s", name);
			goto done;
		}
		for (size_t i = 0; i < nseen; i++) {
			if (!strcmp(seen[i], tname)) {
				cfg_error(r, m, pos_value(ci), "triton-sequence-batching",
				          "sequence batching control tensor '%s' is specified for "
				          "multiple control kinds for %s",
				          tname, name);
				goto done;
			}
		}
		const char **ns = realloc(seen, (nseen + 1) * sizeof(*ns));
		if (!ns) {
			r->nomem = true;
			goto done;
		}
		seen = ns;
		seen[nseen++] = tname;
		ts_iter_init(&cit, ci->msg, "control");
		while ((c = ts_iter_next(&cit))) {
			if (ts_int(c->msg, "kind") != kind)
				continue;
			if (seen_control) {
				cfg_error(r, m, pos_value(c), "triton-sequence-batching",
				          "sequence batching specifies multiple %s tensors for %s",
				          kname, name);
				goto done;
			}
			seen_control = true;
			size_t ni = ts_count(c->msg, "int32_false_true");
			size_t nf = ts_count(c->msg, "fp32_false_true");
			size_t nb = ts_count(c->msg, "bool_false_true");
			if (typed) {
				*corrid_seen = true;
				*corrid_type = ts_int(c->msg, "data_type");
				if (ni || nf || nb) {
					cfg_error(r, m, pos_value(c), "triton-sequence-batching",
					          "sequence batching must not specify either "
					          "'int32_false_true', 'fp32_false_true' or "
					          "'bool_false_true' for %s for %s",
					          kname, name);
					goto done;
				}
				continue;
			}
			if (!ni && !nf && !nb) {
				cfg_error(
				    r, m, pos_value(c), "triton-sequence-batching",
				    "sequence batching must specify either 'int32_false_true', "
				    "'fp32_false_true' or 'bool_false_true' for %s for %s",
				    kname, name);
				goto done;
			}
			if ((ni && nf) || (ni && nb) || (nf && nb)) {
				cfg_error(r, m, pos_value(c), "triton-sequence-batching",
				          "sequence batching specifies more than one from "
				          "'int32_false_true', 'fp32_false_true' and "
				          "'bool_false_true' for %s for %s",
				          kname, name);
				goto done;
			}
			const char *which = ni   ? "int32_false_true"
			                    : nf ? "fp32_false_true"
			                         : "bool_false_true";
			if ((ni ? ni : nf ? nf : nb) != 2) {
				cfg_error(
				    r, m, pos_field(m, c->msg, which), "triton-sequence-batching",
				    "sequence batching control '%s' must have exactly 2 entries "
				    "for %s for %s",
				    which, kname, name);
				goto done;
			}
		}
	}
	ok = true;
done:
	free(seen);
	return ok;
}

static void check_sequence_batching(trepo *r, tmodel *m, const pbtxt_msg *sb)
{
	const char *name = m->cfg_name;
	int64_t mbs = ts_int(m->tree, "max_batch_size");
	int64_t corrid_type = 0;
	bool corrid = false;
	const pbtxt_value *v;
	ts_iter it;

	if (ts_bool(ts_msg(m->tree, "response_cache"), "enable"))
		cfg_error(r, m, pos_field(m, m->tree, "response_cache"), "triton-response-cache",
		          "Response Cache does not currently support model %s with sequence "
		          "batching scheduler. Please disable the response cache.",
		          name);
	/* Triton checks START, END, READY, then CORRID and stops at the first. */
	if (check_control(r, m, sb, 0, false, NULL, NULL) &&
	    check_control(r, m, sb, 2, false, NULL, NULL) &&
	    check_control(r, m, sb, 1, false, NULL, NULL) &&
	    check_control(r, m, sb, 3, true, &corrid_type, &corrid) && corrid) {
		if (corrid_type != 5 && corrid_type != 9 && corrid_type != 4 && corrid_type != 8 &&
		    corrid_type != 13)
			cfg_error(
			    r, m, pos_field(m, sb, "control_input"), "triton-sequence-batching",
			    "unexpected data type for control CONTROL_SEQUENCE_CORRID for %s. "
			    "Allowed data types are TYPE_UINT64, TYPE_INT64, TYPE_UINT32, "
			    "TYPE_INT32 and TYPE_STRING",
			    name);
	}
	if (ts_has(sb, "oldest")) {
		ts_iter_init(&it, ts_msg(sb, "oldest"), "preferred_batch_size");
		while ((v = ts_iter_next(&it))) {
			if (v->v.i <= 0) {
				cfg_error(r, m, pos_value(v), "triton-sequence-batching",
				          "sequence batching preferred batch size must be positive "
				          "for %s",
				          name);
				break;
			}
			if (v->v.i > mbs) {
				cfg_error(
				    r, m, pos_value(v), "triton-sequence-batching",
				    "sequence batching preferred batch size must be <= max batch "
				    "size for %s",
				    name);
				break;
			}
		}
	}
	if (ts_has(sb, "direct")) {
		const pbtxt_msg *d = ts_msg(sb, "direct");
		double u = ts_double(d, "minimum_slot_utilization");
		if (u < 0.0 || u > 1.0)
			cfg_error(
			    r, m, pos_field(m, d, "minimum_slot_utilization"),
			    "triton-sequence-batching",
			    "sequence batching minimum slot utilization must be in range (0.0, "
			    "1.0] for %s",
			    name);
	}
}

static void check_dynamic_batching(trepo *r, tmodel *m, const pbtxt_msg *db)
{
	const char *name = m->cfg_name;
	int64_t mbs = ts_int(m->tree, "max_batch_size");
	uint64_t levels = ts_uint(db, "priority_levels");
	const pbtxt_value *v;
	ts_iter it;

	ts_iter_init(&it, db, "preferred_batch_size");
	while ((v = ts_iter_next(&it))) {
		if (v->v.i <= 0) {
			cfg_error(r, m, pos_value(v), "triton-dynamic-batching",
			          "dynamic batching preferred size must be positive for %s", name);
			break;
		}
		if (v->v.i > mbs) {
			cfg_error(
			    r, m, pos_value(v), "triton-dynamic-batching",
			    "dynamic batching preferred size must be <= max batch size for %s",
			    name);
			break;
		}
	}
	if (levels) {
		uint64_t def = ts_uint(db, "default_priority_level");
		if (def == 0 || def > levels)
			cfg_error(r, m, pos_field(m, db, "default_priority_level"),
			          "triton-dynamic-batching",
			          "default priority level must be in range [1, %" PRIu64 "] for %s",
			          levels, name);
		ts_iter_init(&it, db, "priority_queue_policy");
		while ((v = ts_iter_next(&it))) {
			const pbtxt_value *key = ts_map_key(v);
			uint64_t k = key ? key->v.u : 0;
			if (k == 0 || k > levels) {
				cfg_error(
				    r, m, key ? pos_value(key) : pos_value(v),
				    "triton-dynamic-batching",
				    "priority queue policy must have priority level in range [1, "
				    "%" PRIu64 "] for %s",
				    levels, name);
				break;
			}
		}
	}
	if (ts_bool(db, "preserve_ordering")) {
		if (levels > 1)
			cfg_error(
			    r, m, pos_field(m, db, "preserve_ordering"), "triton-dynamic-batching",
			    "Only one priority level is allowed when 'preserve_ordering' is true "
			    "for %s",
			    name);
		const pbtxt_msg *def = ts_msg(db, "default_queue_policy");
		bool delay = ts_uint(def, "default_timeout_microseconds") != 0 &&
		             ts_int(def, "timeout_action") == 1;
		tpos where = pos_field(m, db, "default_queue_policy");
		ts_iter_init(&it, db, "priority_queue_policy");
		while (!delay && (v = ts_iter_next(&it))) {
			const pbtxt_value *val = ts_map_value(v);
			const pbtxt_msg *p = val ? val->msg : NULL;
			delay = ts_uint(p, "default_timeout_microseconds") != 0 &&
			        ts_int(p, "timeout_action") == 1;
			where = pos_value(v);
		}
		if (delay)
			cfg_error(r, m, where, "triton-dynamic-batching",
			          "Queue policy can not have DELAY as timeout action when "
			          "'preserve_ordering' is true for %s",
			          name);
	}
}

static void check_metrics(trepo *r, tmodel *m, const pbtxt_msg *mm)
{
	const pbtxt_value *mc;
	ts_iter it;

	ts_iter_init(&it, mm, "metric_control");
	while ((mc = ts_iter_next(&it))) {
		const pbtxt_msg *id = ts_msg(mc->msg, "metric_identifier");
		const char *family = ts_str(id, "family");
		if (!ts_has(mc->msg, "metric_identifier")) {
			cfg_error(r, m, pos_value(mc), "triton-metrics",
			          "metric control must specify 'metric_identifier'");
			return;
		}
		if (!*family) {
			cfg_error(r, m, pos_msg(m, id), "triton-metrics",
			          "metric identifier must specify non-empty 'family'");
			return;
		}
		if (!ts_has(mc->msg, "histogram_options")) {
			cfg_error(r, m, pos_value(mc), "triton-metrics",
			          "metric control must specify 'histogram_options'");
			return;
		}
		if (!ts_count(ts_msg(mc->msg, "histogram_options"), "buckets")) {
			cfg_error(r, m, pos_field(m, mc->msg, "histogram_options"),
			          "triton-metrics",
			          "histogram options must specify non-empty 'buckets'");
			return;
		}
	}
	/* Only histograms of Triton core can be customized (metric_model_reporter.cc). */
	ts_iter_init(&it, mm, "metric_control");
	while ((mc = ts_iter_next(&it))) {
		const pbtxt_msg *id = ts_msg(mc->msg, "metric_identifier");
		const char *family = ts_str(id, "family");
		if (strcmp(family, "nv_inference_first_response_histogram_ms"))
			tm_cfg_diag(
			    r, m, MREG_DIAG_WARNING, pos_field(m, id, "family"), "triton-metrics",
			    "Metric family '%s' in 'metric_identifier' is not a customizable "
			    "metric in Triton core.",
			    family);
	}
}

void tm_check_model_config(trepo *r, tmodel *m)
{
	const pbtxt_msg *cfg = m->tree;
	const char *name = m->cfg_name;

	/* Triton's first rule ("must specify 'name'") cannot fire: auto-completion
	 * names the model after its folder. */
	if (m->platform_unknown) {
		/* config-only and nothing names the backend: see check_model (repository.c) */
	} else if (!*m->backend) {
		if (strcmp(m->platform, ENSEMBLE)) {
			cfg_error(r, m, pos_platform(m), "triton-platform",
			          "unexpected platform type '%s' for %s", m->platform, name);
			return;
		}
	} else if (!strcmp(m->platform, ENSEMBLE)) {
		cfg_error(r, m, pos_platform(m), "triton-platform",
		          "Ensemble model '%s' must have platform type '%s' and empty backend type",
		          name, m->platform);
		return;
	}
	backend_type bt = type_of_backend(m->backend);
	if (!m->platform_unknown && bt != BT_UNKNOWN && bt != type_of_platform(m->platform)) {
		cfg_error(r, m, pos_platform(m), "triton-platform",
		          "unexpected 'platform' and 'backend' pair, got:%s, %s", m->platform,
		          m->backend);
		return;
	}
	if (ts_int(cfg, "max_batch_size") < 0)
		cfg_error(r, m, pos_value(ts_last(cfg, "max_batch_size")), "triton-max-batch-size",
		          "'max_batch_size' must be non-negative value for %s", name);
	if (ts_has(cfg, "dynamic_batching"))
		check_dynamic_batching(r, m, ts_msg(cfg, "dynamic_batching"));
	if (ts_has(cfg, "sequence_batching"))
		check_sequence_batching(r, m, ts_msg(cfg, "sequence_batching"));
	if (ts_has(cfg, "ensemble_scheduling"))
		tm_check_ensemble_scheduling(r, m);
	else if (!strcmp(m->platform, ENSEMBLE))
		cfg_error(r, m, pos_platform(m), "triton-ensemble",
		          "ensemble scheduling must be set for ensemble %s whose platform is "
		          "ensemble",
		          name);
	if (ts_bool(ts_msg(cfg, "model_transaction_policy"), "decoupled") &&
	    ts_bool(ts_msg(cfg, "response_cache"), "enable"))
		cfg_error(r, m, pos_field(m, cfg, "response_cache"), "triton-response-cache",
		          "Response Cache does not currently support model %s with 'decoupled' "
		          "transaction policy. Please disable the response cache.",
		          name);
	if (ts_has(cfg, "model_metrics"))
		check_metrics(r, m, ts_msg(cfg, "model_metrics"));
}

/* ---- inputs and outputs (ValidateModelIOConfig) ---- */

/* GetElementCount: 0 for no dims, -1 with a variable dim; false on
 * overflow. */
static bool element_count(const pbtxt_msg *msg, const char *field, int64_t *out)
{
	ts_iter it;
	const pbtxt_value *v;
	int64_t n = 0;
	bool first = true;

	ts_iter_init(&it, msg, field);
	while ((v = ts_iter_next(&it))) {
		if (v->v.i == -1) {
			*out = -1;
			return true;
		}
		if (first) {
			n = v->v.i;
			first = false;
		} else if (__builtin_mul_overflow(n, v->v.i, &n)) {
			return false;
		}
	}
	*out = n;
	return true;
}

/* Products of the runs between -1 dims (wrapping like Triton's int64). */
static size_t segment_counts(const pbtxt_msg *msg, const char *field, uint64_t *out, size_t max)
{
	ts_iter it;
	const pbtxt_value *v;
	uint64_t cur = 1;
	size_t n = 0;

	ts_iter_init(&it, msg, field);
	while ((v = ts_iter_next(&it))) {
		if (v->v.i == -1) {
			if (n < max)
				out[n] = cur;
			n++;
			cur = 1;
		} else {
			cur *= (uint64_t)v->v.i;
		}
	}
	if (n < max)
		out[n] = cur;
	return n + 1;
}

static bool check_io_shape(trepo *r, tmodel *m, const pbtxt_value *io, const char *prefix)
{
	const pbtxt_msg *t = io->msg, *reshape = ts_msg(t, "reshape");
	const char *tname = ts_str(t, "name"), *name = m->cfg_name;
	int64_t mbs = ts_int(m->tree, "max_batch_size");
	const pbtxt_value *v;
	ts_iter it;

	if (!*tname) {
		cfg_error(r, m, pos_value(io), "triton-io", "%smust specify 'name' for %s", prefix,
		          name);
		return false;
	}
	if (ts_int(t, "data_type") == 0) {
		cfg_error(r, m, pos_field(m, t, "data_type"), "triton-io",
		          "%s'%s' must specify 'data_type' for %s", prefix, tname, name);
		return false;
	}
	if (!ts_count(t, "dims")) {
		cfg_error(r, m, pos_value(io), "triton-io", "%s'%s' must specify 'dims' for %s",
		          prefix, tname, name);
		return false;
	}
	if (reshape && !ts_count(reshape, "shape") && mbs == 0) {
		cfg_error(
		    r, m, pos_field(m, t, "reshape"), "triton-io",
		    "%s'%s' cannot have empty reshape for non-batching model as scalar tensors "
		    "are not supported for %s",
		    prefix, tname, name);
		return false;
	}
	ts_iter_init(&it, t, "dims");
	while ((v = ts_iter_next(&it))) {
		if (v->v.i < 1 && v->v.i != -1) {
			cfg_error(r, m, pos_value(v), "triton-io",
			          "%s'%s' dimension must be integer >= 1, or -1 to indicate a "
			          "variable-size dimension for %s",
			          prefix, tname, name);
			return false;
		}
	}
	if (!reshape)
		return true;
	ts_iter_init(&it, reshape, "shape");
	while ((v = ts_iter_next(&it))) {
		if (v->v.i < 1 && v->v.i != -1) {
			cfg_error(
			    r, m, pos_value(v), "triton-io",
			    "%s'%s' reshape dimensions must be integer >= 1, or -1 to indicate "
			    "a variable-size dimension for %s",
			    prefix, tname, name);
			return false;
		}
	}
	int64_t dims_size, reshape_size;
	if (!element_count(t, "dims", &dims_size)) {
		cfg_error(r, m, pos_field(m, t, "dims"), "triton-io",
		          "element count for tensor '%s dims' exceeds maximum size of %" PRId64
		          " for %s",
		          tname, INT64_MAX, name);
		return false;
	}
	if (!element_count(reshape, "shape", &reshape_size)) {
		cfg_error(r, m, pos_field(m, t, "reshape"), "triton-io",
		          "element count for tensor '%s reshape' exceeds maximum size of %" PRId64
		          " for %s",
		          tname, INT64_MAX, name);
		return false;
	}
	if (dims_size != reshape_size && (reshape_size != 0 || dims_size != 1)) {
		cfg_error(r, m, pos_field(m, t, "reshape"), "triton-io",
		          "%s'%s' has different size for dims and reshape for %s", prefix, tname,
		          name);
		return false;
	}
	if (dims_size == -1) {
		uint64_t a[64], b[64];
		size_t na = segment_counts(t, "dims", a, 64);
		size_t nb = segment_counts(reshape, "shape", b, 64);
		if (na != nb) {
			cfg_error(
			    r, m, pos_field(m, t, "reshape"), "triton-io",
			    "%s'%s' has different number of variable-size dimensions for dims "
			    "and reshape for %s",
			    prefix, tname, name);
			return false;
		}
		for (size_t i = 0; i < na && i < 64; i++) {
			if (a[i] != b[i]) {
				cfg_error(r, m, pos_field(m, t, "reshape"), "triton-io",
				          "%s'%s' has different size for dims and reshape for %s",
				          prefix, tname, name);
				return false;
			}
		}
	}
	return true;
}

static bool check_nonlinear(trepo *r, tmodel *m, const pbtxt_value *io, bool input)
{
	const pbtxt_msg *t = io->msg;

	if (!ts_bool(t, "is_non_linear_format_io"))
		return true;
	if (strcmp(m->platform, "tensorrt_plan")) {
		cfg_error(r, m, pos_field(m, t, "is_non_linear_format_io"), "triton-io",
		          "Non-linear IO format is only supported for the TensorRT platform for %s",
		          m->cfg_name);
		return false;
	}
	if (ts_count(t, "dims") != 3) {
		cfg_error(r, m, pos_field(m, t, "dims"), "triton-io",
		          "Non-linear IO format %s requires 3 dims for %s",
		          input ? "input" : "output", m->cfg_name);
		return false;
	}
	return true;
}

static void check_batch_io(trepo *r, tmodel *m)
{
	const pbtxt_msg *cfg = m->tree;
	const char *name = m->cfg_name;
	const pbtxt_value *b, *s;
	ts_iter it, sit;

	ts_iter_init(&it, cfg, "batch_input");
	while ((b = ts_iter_next(&it))) {
		int64_t kind = ts_int(b->msg, "kind");
		int64_t dt = ts_int(b->msg, "data_type");
		size_t n = ts_count(b->msg, "source_input");
		if (kind < 0 || kind > 5) {
			cfg_error(r, m, pos_field(m, b->msg, "kind"), "triton-batch-io",
			          "unknown batch input kind '' for %s", name);
			return;
		}
		if (n != 1) {
			cfg_error(r, m, pos_value(b), "triton-batch-io",
			          "batch input kind '%s' expects 1 source input, got %zu for %s",
			          ts_enum_name(&ts_batch_input_kind, kind), n, name);
			return;
		}
		if (dt != 8 && dt != 11) {
			cfg_error(r, m, pos_field(m, b->msg, "data_type"), "triton-batch-io",
			          "batch input data type must be TYPE_INT32 or TYPE_FP32 for %s",
			          name);
			return;
		}
		ts_iter_init(&sit, b->msg, "source_input");
		while ((s = ts_iter_next(&sit))) {
			if (!tm_name_in(cfg, "input", s->text)) {
				cfg_error(r, m, pos_value(s), "triton-batch-io",
				          "unknown source input name '%s' for %s", s->text, name);
				return;
			}
		}
	}
	ts_iter_init(&it, cfg, "batch_output");
	while ((b = ts_iter_next(&it))) {
		int64_t kind = ts_int(b->msg, "kind");
		size_t n = ts_count(b->msg, "source_input");
		if (kind != 0) {
			cfg_error(r, m, pos_field(m, b->msg, "kind"), "triton-batch-io",
			          "unknown batch output kind '' for %s", name);
			return;
		}
		if (n != 1) {
			cfg_error(
			    r, m, pos_value(b), "triton-batch-io",
			    "batch output kind 'BATCH_SCATTER_WITH_INPUT_SHAPE' expects 1 source "
			    "input, got %zu for %s",
			    n, name);
			return;
		}
		ts_iter_init(&sit, b->msg, "source_input");
		while ((s = ts_iter_next(&sit))) {
			if (!tm_name_in(cfg, "input", s->text)) {
				cfg_error(r, m, pos_value(s), "triton-batch-io",
				          "unknown source input name '%s' for %s", s->text, name);
				return;
			}
		}
		ts_iter_init(&sit, b->msg, "target_name");
		const pbtxt_value *first_dup = NULL;
		while ((s = ts_iter_next(&sit)) && !first_dup) {
			if (!tm_name_in(cfg, "output", s->text)) {
				cfg_error(r, m, pos_value(s), "triton-batch-io",
				          "unknown target output name '%s' for %s", s->text, name);
				return;
			}
			ts_iter prev;
			const pbtxt_value *p;
			ts_iter_init(&prev, b->msg, "target_name");
			while ((p = ts_iter_next(&prev)) && p != s)
				if (!strcmp(p->text, s->text))
					first_dup = s;
		}
		if (first_dup) {
			cfg_error(r, m, pos_value(first_dup), "triton-batch-io",
			          "target output name '%s' can only be specified once for %s",
			          first_dup->text, name);
			return;
		}
	}
}

void tm_check_io(trepo *r, tmodel *m)
{
	const pbtxt_msg *cfg = m->tree;
	const pbtxt_value *io;
	ts_iter it;
	bool ok = true;

	ts_iter_init(&it, cfg, "input");
	while ((io = ts_iter_next(&it))) {
		const pbtxt_msg *t = io->msg;
		if (!check_io_shape(r, m, io, "model input ")) {
			ok = false;
			continue;
		}
		int64_t fmt = ts_int(t, "format");
		if ((fmt == 1 || fmt == 2) && ts_count(t, "dims") != 3) {
			cfg_error(r, m, pos_field(m, t, "format"), "triton-io",
			          "model input NHWC/NCHW require 3 dims for %s", m->cfg_name);
			ok = false;
			continue;
		}
		if (m->platform_unknown)
			continue;
		if (strcmp(m->platform, "tensorrt_plan") && ts_bool(t, "is_shape_tensor")) {
			cfg_error(r, m, pos_field(m, t, "is_shape_tensor"), "triton-io",
			          "shape tensors are only supported for TensorRT platform for %s",
			          m->cfg_name);
			ok = false;
			continue;
		}
		ok &= check_nonlinear(r, m, io, true);
	}
	ts_iter_init(&it, cfg, "output");
	while ((io = ts_iter_next(&it))) {
		const pbtxt_msg *t = io->msg;
		if (!check_io_shape(r, m, io, "model output ")) {
			ok = false;
			continue;
		}
		if (m->platform_unknown)
			continue;
		if (strcmp(m->platform, "tensorrt_plan") && ts_bool(t, "is_shape_tensor")) {
			cfg_error(r, m, pos_field(m, t, "is_shape_tensor"), "triton-io",
			          "shape tensors are only supported for TensorRT platform for %s",
			          m->cfg_name);
			ok = false;
			continue;
		}
		ok &= check_nonlinear(r, m, io, false);
	}
	/* Triton validates batch inputs/outputs after every tensor passed. */
	if (ok)
		check_batch_io(r, m);
}

/* ---- instance groups (NormalizeInstanceGroup + ValidateInstanceGroup) ---- */

static bool gpu_present(const trepo *r, int64_t id)
{
	int n = r->gpus < 0 ? TRITON_ASSUMED_GPUS : r->gpus;

	return id >= 0 && id < n;
}

static void gpu_list(const trepo *r, char *buf, size_t size)
{
	int n = r->gpus < 0 ? TRITON_ASSUMED_GPUS : r->gpus;
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && o + 16 < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%d", i ? ", " : "", i);
}

/* stoi as GetProfileIndex uses it: 1 with the value, 0 when no number
 * starts the text, -1 when out of int range. */
static int parse_profile(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s)
		return 0;
	if (errno == ERANGE || v < INT32_MIN || v > INT32_MAX)
		return -1;
	*out = v;
	return 1;
}

void tm_check_instance_groups(trepo *r, tmodel *m)
{
	const pbtxt_msg *cfg = m->tree;
	const char *name = m->cfg_name;
	const pbtxt_value *g, *v;
	ts_iter it, git;
	size_t idx = 0;
	char gpus[256];

	/* Instance groups do not apply to ensembles; without any, Triton makes one. */
	if (ts_has(cfg, "ensemble_scheduling"))
		return;
	gpu_list(r, gpus, sizeof(gpus));
	ts_iter_init(&it, cfg, "instance_group");
	for (; (g = ts_iter_next(&it)); idx++) {
		const pbtxt_msg *ig = g->msg;
		char *gname = *ts_str(ig, "name") ? str_dup(ts_str(ig, "name"))
		                                  : str_printf("%s_%zu", name, idx);
		int64_t kind = ts_int(ig, "kind");
		size_t ngpus = ts_count(ig, "gpus");
		if (!gname) {
			r->nomem = true;
			return;
		}
		if (kind == 0) {
			/* KIND_AUTO: GPU when every listed GPU exists, else CPU. */
			bool all = r->gpus != 0;
			ts_iter_init(&git, ig, "gpus");
			while (all && (v = ts_iter_next(&git)))
				all = gpu_present(r, v->v.i);
			kind = all ? 1 : 2;
		}
		if (kind == 3 && ngpus) {
			cfg_error(
			    r, m, pos_field(m, ig, "gpus"), "triton-instance-group",
			    "instance group %s of model %s has kind KIND_MODEL but specifies one "
			    "or more GPUs",
			    gname, name);
		} else if (kind == 2 && ngpus) {
			cfg_error(
			    r, m, pos_field(m, ig, "gpus"), "triton-instance-group",
			    "instance group %s of model %s has kind KIND_CPU but specifies one or "
			    "more GPUs",
			    gname, name);
		} else if (kind == 1 && r->gpus == 0) {
			cfg_error(r, m, pos_field(m, ig, "kind"), "triton-instance-group",
			          "instance group %s of model %s has kind KIND_GPU but no GPUs are "
			          "available (%s=0)",
			          gname, name, TRITON_GPUS_ENV);
		} else if (kind == 1) {
			ts_iter_init(&git, ig, "gpus");
			while ((v = ts_iter_next(&git))) {
				if (gpu_present(r, v->v.i))
					continue;
				cfg_error(r, m, pos_value(v), "triton-instance-group",
				          "instance group %s of model %s specifies invalid or "
				          "unsupported gpu id %" PRId64
				          ". GPUs with at least the minimum required CUDA compute "
				          "compatibility %s: %s",
				          gname, name, v->v.i,
				          r->gpus < 0
				              ? "are assumed here to be (set " TRITON_GPUS_ENV
				                " to the server's GPU count)"
				              : "are (" TRITON_GPUS_ENV ")",
				          gpus);
				break;
			}
		} else if (kind != 2 && kind != 3) {
			cfg_error(r, m, pos_field(m, ig, "kind"), "triton-instance-group",
			          "instance group %s of model %s has unexpected kind KIND_AUTO",
			          gname, name);
		}
		if (ts_count(ig, "profile") && !m->platform_unknown) {
			if (strcmp(m->platform, "tensorrt_plan")) {
				cfg_error(r, m, pos_field(m, ig, "profile"),
				          "triton-instance-group",
				          "instance group %s of model %s and platform %sspecifies "
				          "profile "
				          "field which is only supported for TensorRT models",
				          gname, name, m->platform);
			} else {
				ts_iter_init(&git, ig, "profile");
				while ((v = ts_iter_next(&git))) {
					long p = 0;
					int rc = *v->text ? parse_profile(v->text, &p) : 0;
					if (!*v->text)
						cfg_error(r, m, pos_value(v),
						          "triton-instance-group",
						          "profile name must not be empty");
					else if (rc == 0)
						cfg_error(r, m, pos_value(v),
						          "triton-instance-group",
						          "unable to parse '%s': stoi", v->text);
					else if (rc < 0)
						cfg_error(
						    r, m, pos_value(v), "triton-instance-group",
						    "unable to parse '%s': stoi (out of range)",
						    v->text);
					else if (p < 0)
						cfg_error(
						    r, m, pos_value(v), "triton-instance-group",
						    "instance group %s of model %s and platform %s "
						    "specifies invalid profile %s. The field "
						    "should "
						    "contain the string representation of a "
						    "non-negative integer.",
						    gname, name, m->platform, v->text);
					else
						continue;
					break;
				}
			}
		}
		free(gname);
	}
}

/* ---- rules applied when Triton loads a model (backend_model.cc, model.cc,
 * backend_model_instance.cc, sequence_batch_scheduler.cc) ---- */

/* What leaves the folder a path is joined to: "/x", or a ".." climbing above it. */
#define LEAVES_FOLDER (PATH_REJECT_ABSOLUTE | PATH_REJECT_ESCAPE)

void tm_check_runtime(trepo *r, tmodel *m)
{
	const char *rt = ts_str(m->tree, "runtime");
	tpos p = pos_field(m, m->tree, "runtime");

	if (!*rt)
		return;
	/* The library is looked for in the version folder, then the model
	 * folder, then the backend folder; a name with ".." leaves the first. */
	if (strstr(rt, "..") && !path_is_valid(rt, LEAVES_FOLDER)) {
		const char *where = m->nversions ? m->versions[m->nversions - 1].dir : m->dir;
		cfg_error(
		    r, m, p, "triton-runtime",
		    "backend library name '%s' escapes backend directory '%s', for model '%s', "
		    "check model config runtime field",
		    rt, where, m->cfg_name);
	}
}

void tm_check_labels(trepo *r, tmodel *m)
{
	const pbtxt_value *io;
	ts_iter it;

	ts_iter_init(&it, m->tree, "output");
	while ((io = ts_iter_next(&it))) {
		const char *label = ts_str(io->msg, "label_filename");
		const char *oname = ts_str(io->msg, "name");
		if (!*label)
			continue;
		if (!path_is_valid(label, LEAVES_FOLDER)) {
			tm_cfg_diag(
			    r, m, MREG_DIAG_ERROR, pos_field(m, io->msg, "label_filename"),
			    "triton-label-file",
			    "label file path '%s' for output '%s' in model '%s' is outside model "
			    "directory",
			    label, oname, m->cfg_name);
		} else if (r->layout && !tm_child_exists(m->dir, label, 0)) {
			tm_cfg_diag(r, m, MREG_DIAG_WARNING,
			            pos_field(m, io->msg, "label_filename"), "triton-label-file",
			            "label file '%s' for output '%s' is not in %s", label, oname,
			            m->dir);
		}
	}
}

void tm_check_warmup(trepo *r, tmodel *m)
{
	const pbtxt_value *w, *e, *d;
	ts_iter it, eit, dit;

	ts_iter_init(&it, m->tree, "model_warmup");
	while ((w = ts_iter_next(&it))) {
		if (ts_uint(w->msg, "batch_size") == 0)
			continue; /* Triton skips such samples */
		ts_iter_init(&eit, w->msg, "inputs");
		while ((e = ts_iter_next(&eit))) {
			const pbtxt_value *k = ts_map_key(e), *val = ts_map_value(e);
			const char *in = k ? k->text : "";
			const pbtxt_msg *input = val ? val->msg : NULL;
			bool variable = false;
			ts_iter_init(&dit, input, "dims");
			while ((d = ts_iter_next(&dit)))
				variable |= d->v.i == -1;
			if (variable) {
				cfg_error(r, m, pos_value(e), "triton-warmup",
				          "warmup setting expects all variable-size dimensions are "
				          "specified for input '%s'",
				          in);
				continue;
			}
			if (!ts_has(input, "zero_data") && !ts_has(input, "random_data") &&
			    !ts_has(input, "input_data_file")) {
				cfg_error(
				    r, m, pos_value(e), "triton-warmup",
				    "warmup setting expects input '%s' to have input_data_type set",
				    in);
				continue;
			}
			const char *file = ts_str(input, "input_data_file");
			if (*file && r->layout) {
				char *rel = str_printf("warmup/%s", file);
				char *path = rel ? path_join(m->dir, rel) : NULL;
				if (path && !tm_child_exists(m->dir, rel, 0))
					cfg_error(
					    r, m, pos_field(m, input, "input_data_file"),
					    "triton-warmup",
					    "failed to open text file for read %s: No such file or "
					    "directory (warmup data for input '%s')",
					    path, in);
				free(rel);
				free(path);
			}
		}
	}
}

/* Bytes per element (triton::common::GetDataTypeByteSize; 0 for strings). */
static uint64_t type_size(int64_t t)
{
	static const unsigned char sizes[] = {0, 1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 4, 8, 0, 2};

	return t >= 0 && t < (int64_t)sizeof(sizes) ? sizes[t] : 0;
}

/* Implicit state, as the sequence batch scheduler sets it up
 * (sequence_batch_scheduler.cc, GenerateInitialStateData). */
void tm_check_states(trepo *r, tmodel *m)
{
	const pbtxt_msg *sb = ts_msg(m->tree, "sequence_batching");
	const pbtxt_value *s, *is, *d;
	ts_iter it, dit, sd;
	const char **seen = NULL;
	size_t nseen = 0;

	ts_iter_init(&it, sb, "state");
	while ((s = ts_iter_next(&it))) {
		const char *in = ts_str(s->msg, "input_name");
		size_t n = ts_count(s->msg, "initial_state");
		bool dup = false, bad = false;

		if (n > 1) {
			cfg_error(
			    r, m, pos_field(m, s->msg, "initial_state"), "triton-state",
			    "initial_state field for state input '%s' must contain exactly one "
			    "or zero element. Found '%zu' elements.",
			    in, n);
			continue;
		}
		ts_iter_init(&dit, s->msg, "initial_state");
		if (!(is = ts_iter_next(&dit)))
			continue;
		if (ts_int(is->msg, "data_type") != ts_int(s->msg, "data_type")) {
			cfg_error(
			    r, m, pos_value(is), "triton-state",
			    "The data type used for 'initial_state' field of state '%s' does not "
			    "match the state data type.",
			    in);
			continue;
		}
		if (!*ts_str(is->msg, "name")) {
			cfg_error(
			    r, m, pos_value(is), "triton-state",
			    "Field 'name' must be set when using initial_state for state input "
			    "'%s'.",
			    in);
			continue;
		}
		for (size_t i = 0; i < nseen; i++)
			dup |= !strcmp(seen[i], in);
		if (dup) {
			cfg_error(r, m, pos_value(s), "triton-state",
			          "State input name '%s' specified more than once.", in);
			continue;
		}
		size_t sr = ts_count(s->msg, "dims"), ir = ts_count(is->msg, "dims");
		if (sr != ir) {
			cfg_error(
			    r, m, pos_value(is), "triton-state",
			    "Number of dimensions in 'initial_state' doesn't match the size of "
			    "'state' dimensions for state input '%s'. %zu != %zu",
			    in, ir, sr);
			continue;
		}
		const char **ns = realloc(seen, (nseen + 1) * sizeof(*ns));
		if (!ns) {
			r->nomem = true;
			break;
		}
		seen = ns;
		seen[nseen++] = in;
		uint64_t count = 0;
		bool first = true;
		ts_iter_init(&dit, is->msg, "dims");
		ts_iter_init(&sd, s->msg, "dims");
		while (!bad && (d = ts_iter_next(&dit))) {
			const pbtxt_value *sv = ts_iter_next(&sd);
			if (d->v.i == -1) {
				cfg_error(
				    r, m, pos_value(d), "triton-state",
				    "'initial_state' field for state input name '%s' contains "
				    "variable dimensions.",
				    in);
				bad = true;
			} else if (sv && sv->v.i != -1 && sv->v.i != d->v.i) {
				cfg_error(
				    r, m, pos_value(d), "triton-state",
				    "'initial_state' dim for input name '%s' doesn't match 'state' "
				    "dim description. %" PRId64 " != %" PRId64,
				    in, d->v.i, sv->v.i);
				bad = true;
			}
			/* GetElementCount, saturating instead of overflowing. */
			uint64_t dim = (uint64_t)d->v.i;
			if (first)
				count = dim;
			else if (__builtin_mul_overflow(count, dim, &count))
				count = UINT64_MAX;
			first = false;
		}
		if (bad)
			continue;
		if (!ts_has(is->msg, "zero_data") && !ts_has(is->msg, "data_file")) {
			cfg_error(r, m, pos_value(is), "triton-state",
			          "initial_state setting expects state'%s' to have state_data set",
			          in);
			continue;
		}
		const char *file = ts_str(is->msg, "data_file");
		if (!ts_has(is->msg, "data_file") || !r->layout)
			continue;
		char *rel = str_printf("initial_state/%s", file);
		char *path = rel ? path_join(m->dir, rel) : NULL;
		struct stat st;
		if (!path) {
			r->nomem = true;
		} else if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			cfg_error(r, m, pos_field(m, is->msg, "data_file"), "triton-state",
			          "failed to open text file for read %s: %s", path,
			          strerror(errno ? errno : ENOENT));
		} else {
			int64_t dt = ts_int(is->msg, "data_type");
			uint64_t size = type_size(dt);
			uint64_t total;
			if (__builtin_mul_overflow(count, size ? size : 4, &total))
				total = UINT64_MAX;
			if (dt != 13 && total > (uint64_t)st.st_size)
				cfg_error(r, m, pos_field(m, is->msg, "data_file"), "triton-state",
				          "initial_state setting expects %" PRIu64
				          " bytes, but the data provided from %sonly has %" PRIu64
				          " bytes.",
				          total, file, (uint64_t)st.st_size);
		}
		free(rel);
		free(path);
	}
	free(seen);
}

/* TRITON_BATCH_STRATEGY_PATH: refused with the sequence batcher (an error
 * in backend_model.cc, though the text reads like a warning). The path is
 * opened as written, on the server (absolute, or relative to Triton's
 * working folder), so only a path climbing out with ".." is judged here. */
void tm_check_batch_strategy(trepo *r, tmodel *m)
{
	const pbtxt_value *e;
	ts_iter it;

	ts_iter_init(&it, m->tree, "parameters");
	while ((e = ts_iter_next(&it))) {
		const pbtxt_value *k = ts_map_key(e), *v = ts_map_value(e);
		const char *path = v ? ts_str(v->msg, "string_value") : "";
		if (!k || strcmp(k->text, "TRITON_BATCH_STRATEGY_PATH"))
			continue;
		if (ts_has(m->tree, "sequence_batching"))
			cfg_error(r, m, pos_value(e), "triton-batch-strategy",
			          "TRITON_BATCH_STRATEGY_PATH cannot be specified with sequence "
			          "batcher, using default batching strategy");
		else if (*path != '/' && !path_is_valid(path, PATH_REJECT_ESCAPE))
			cfg_error(r, m, pos_value(e), "triton-batch-strategy",
			          "Batching library path escapes model repository.");
	}
}

/* The backend's model file in each version folder. Core Triton does not
 * look; the backend fails to load a version without it, in its own words. */
void tm_check_model_files(trepo *r, tmodel *m)
{
	static const char *const known[] = {"tensorrt",   "onnxruntime", "pytorch",
	                                    "tensorflow", "openvino",    "python"};

	if (!STR_IN_ARRAY(m->backend, known) || !strcmp(m->platform, ENSEMBLE))
		return;
	const char *file = *m->model_file                       ? m->model_file
	                   : !strcmp(m->platform, "torch_aoti") ? "model.pt2"
	                                                        : "model.pt";
	for (size_t i = 0; i < m->nversions; i++) {
		if (!tm_is_loaded(m, m->versions[i].number))
			continue;
		bool found = tm_child_exists(m->versions[i].dir, file, -1);
		/* cc_model_filenames name per-GPU alternatives. */
		const pbtxt_value *e;
		ts_iter it;
		ts_iter_init(&it, m->tree, "cc_model_filenames");
		while (!found && (e = ts_iter_next(&it))) {
			const pbtxt_value *v = ts_map_value(e);
			found = v && *v->text && tm_child_exists(m->versions[i].dir, v->text, -1);
		}
		if (!found)
			tm_path_diag(
			    r, m, MREG_DIAG_WARNING, m->versions[i].dir, "triton-model-file",
			    "version %" PRId64 " of model '%s' has no '%s': the %s backend will "
			    "fail to load it",
			    m->versions[i].number, m->cfg_name, file, m->backend);
	}
}

/*
 * triton_model: ensembles. Within one config: ValidateEnsembleSchedulingConfig
 * and BuildEnsembleGraph (Triton core's model_config_utils.cc). Across the
 * repository, once the step models are loaded: step models that are missing
 * or form a cycle (model_repository_manager.cc, DependencyGraph::
 * ConnectDependencyGraph and CircularDependencyCheck), step models that failed
 * or lack the version a step needs (CheckNode), then ValidateEnsembleConfig
 * with ValidateTensorMapping, ValidateTensorConsistency and the decoupled-flow
 * check (ensemble_scheduler/ensemble_utils.cc).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strutil.h"
#include "triton/triton_priv.h"

/* ---- ensembles within one config (ValidateEnsembleSchedulingConfig) ---- */

/* A string -> index table for ensemble tensor names. */
typedef struct {
	const char **keys;
	size_t *vals;
	size_t cap, count;
} strmap;

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static bool strmap_grow(strmap *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	const char **keys = calloc(cap, sizeof(*keys));
	size_t *vals = calloc(cap, sizeof(*vals));

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return false;
	}
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->keys[i])
			continue;
		size_t h = hash_str(t->keys[i]) & (cap - 1);
		while (keys[h])
			h = (h + 1) & (cap - 1);
		keys[h] = t->keys[i];
		vals[h] = t->vals[i];
	}
	free(t->keys);
	free(t->vals);
	t->keys = keys;
	t->vals = vals;
	t->cap = cap;
	return true;
}

/* Find @key; when absent and @add, insert it with value @val. Returns the
 * value, or SIZE_MAX when absent (or out of memory). */
static size_t strmap_get(strmap *t, const char *key, bool add, size_t val)
{
	size_t h;

	if (t->cap) {
		for (h = hash_str(key) & (t->cap - 1); t->keys[h]; h = (h + 1) & (t->cap - 1))
			if (!strcmp(t->keys[h], key))
				return t->vals[h];
	}
	if (!add)
		return SIZE_MAX;
	if ((t->count + 1) * 2 > t->cap && !strmap_grow(t))
		return SIZE_MAX;
	for (h = hash_str(key) & (t->cap - 1); t->keys[h]; h = (h + 1) & (t->cap - 1))
		;
	t->keys[h] = key;
	t->vals[h] = val;
	t->count++;
	return val;
}

static void strmap_dispose(strmap *t)
{
	free(t->keys);
	free(t->vals);
}

typedef struct {
	size_t *v;
	size_t n;
} idxlist;

static bool idx_push(idxlist *l, size_t x)
{
	size_t *n;

	if (l->n && (l->n & (l->n - 1)))
		goto put;
	if (!(n = realloc(l->v, (l->n ? l->n * 2 : 1) * sizeof(*n))))
		return false;
	l->v = n;
put:
	l->v[l->n++] = x;
	return true;
}

/* A map field (input_map, output_map) with protobuf's map semantics: one
 * entry per key, the last one written wins. Keys and values are borrowed. */
typedef struct {
	const char **keys;
	const char **vals;
	size_t n;
} kvmap;

static bool kvmap_read(kvmap *out, const pbtxt_msg *msg, const char *field)
{
	ts_iter it;
	const pbtxt_value *e;
	size_t cap = ts_count(msg, field);

	out->n = 0;
	out->keys = calloc(cap ? cap : 1, sizeof(*out->keys));
	out->vals = calloc(cap ? cap : 1, sizeof(*out->vals));
	if (!out->keys || !out->vals)
		return false;
	ts_iter_init(&it, msg, field);
	while ((e = ts_iter_next(&it))) {
		const pbtxt_value *k = ts_map_key(e), *v = ts_map_value(e);
		const char *ks = k ? k->text : "", *vs = v ? v->text : "";
		size_t i;
		for (i = 0; i < out->n && strcmp(out->keys[i], ks); i++)
			;
		out->keys[i] = ks;
		out->vals[i] = vs;
		if (i == out->n)
			out->n++;
	}
	return true;
}

static void kvmap_dispose(kvmap *m)
{
	free(m->keys);
	free(m->vals);
}

typedef struct {
	const char *name;
	bool is_output, ready;
	idxlist prev, next;
} enode;

typedef struct {
	enode *nodes;
	size_t count, cap;
	strmap index;
} egraph;

static void egraph_dispose(egraph *g)
{
	for (size_t i = 0; i < g->count; i++) {
		free(g->nodes[i].prev.v);
		free(g->nodes[i].next.v);
	}
	free(g->nodes);
	strmap_dispose(&g->index);
}

static size_t egraph_node(egraph *g, const char *name, bool *created)
{
	size_t i = strmap_get(&g->index, name, false, 0);

	*created = false;
	if (i != SIZE_MAX)
		return i;
	if (g->count == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		enode *n = realloc(g->nodes, cap * sizeof(*n));
		if (!n)
			return SIZE_MAX;
		g->nodes = n;
		g->cap = cap;
	}
	if (strmap_get(&g->index, name, true, g->count) == SIZE_MAX)
		return SIZE_MAX;
	memset(&g->nodes[g->count], 0, sizeof(g->nodes[0]));
	g->nodes[g->count].name = name;
	*created = true;
	return g->count++;
}

void tm_check_ensemble_scheduling(trepo *r, tmodel *m)
{
	const pbtxt_msg *cfg = m->tree, *es = ts_msg(cfg, "ensemble_scheduling");
	const char *name = m->cfg_name;
	const pbtxt_value *step, *io;
	ts_iter it;
	egraph g = {0};
	size_t idx = 0;
	bool created, oom = false;
	idxlist queue = {0};

	if (strcmp(m->platform, ENSEMBLE)) {
		cfg_error(r, m, pos_field(m, cfg, "ensemble_scheduling"), "triton-ensemble",
		          "ensemble scheduling cannot be set for model '%s' whose platform is not "
		          "ensemble",
		          name);
		return;
	}
	if (ts_count(cfg, "instance_group")) {
		cfg_error(r, m, pos_field(m, cfg, "instance_group"), "triton-ensemble",
		          "instance group should not be specified for ensemble '%s'", name);
		return;
	}
	if (ts_has(cfg, "optimization")) {
		cfg_error(r, m, pos_field(m, cfg, "optimization"), "triton-ensemble",
		          "optimization should not be specified for ensemble '%s'", name);
		return;
	}
	if (ts_count(cfg, "model_warmup")) {
		cfg_error(r, m, pos_field(m, cfg, "model_warmup"), "triton-ensemble",
		          "model_warmup can not be specified for ensemble '%s'", name);
		return;
	}
	if (!ts_count(es, "step")) {
		cfg_error(r, m, pos_field(m, cfg, "ensemble_scheduling"), "triton-ensemble",
		          "must specify 'step' for ensemble '%s'", name);
		return;
	}
	/* BuildEnsembleGraph */
	ts_iter_init(&it, es, "step");
	for (; (step = ts_iter_next(&it)); idx++) {
		kvmap in = {0}, out = {0};
		idxlist outs = {0};
		bool stop = true;
		if (!*ts_str(step->msg, "model_name")) {
			cfg_error(r, m, pos_value(step), "triton-ensemble",
			          "must specify 'model_name' in step %zu of ensemble '%s'", idx,
			          name);
			goto step_done;
		}
		if (!kvmap_read(&in, step->msg, "input_map") ||
		    !kvmap_read(&out, step->msg, "output_map")) {
			oom = true;
			goto step_done;
		}
		if (!in.n) {
			cfg_error(r, m, pos_value(step), "triton-ensemble",
			          "must specify 'input_map' in step %zu of ensemble '%s'", idx,
			          name);
			goto step_done;
		}
		if (!out.n) {
			cfg_error(r, m, pos_value(step), "triton-ensemble",
			          "must specify 'output_map' in step %zu of ensemble '%s'", idx,
			          name);
			goto step_done;
		}
		for (size_t k = 0; k < out.n; k++) {
			size_t t = egraph_node(&g, out.vals[k], &created);
			if (t == SIZE_MAX) {
				oom = true;
				goto step_done;
			}
			if (!created && g.nodes[t].is_output) {
				cfg_error(
				    r, m, pos_field(m, step->msg, "output_map"), "triton-ensemble",
				    "ensemble tensor '%s' can appear in an output map only once "
				    "for ensemble '%s' step %zu",
				    out.vals[k], name, idx);
				goto step_done;
			}
			g.nodes[t].is_output = true;
			if (!idx_push(&outs, t)) {
				oom = true;
				goto step_done;
			}
		}
		/* input_map keys are unique (a protobuf map), so Triton's "mapped to
		 * multiple ensemble tensors" cannot arise from a config file. */
		for (size_t k = 0; k < in.n; k++) {
			size_t t = egraph_node(&g, in.vals[k], &created);
			if (t == SIZE_MAX) {
				oom = true;
				goto step_done;
			}
			for (size_t o = 0; o < outs.n; o++) {
				if (!idx_push(&g.nodes[outs.v[o]].prev, t) ||
				    !idx_push(&g.nodes[t].next, outs.v[o])) {
					oom = true;
					goto step_done;
				}
			}
		}
		stop = false;
	step_done:
		kvmap_dispose(&in);
		kvmap_dispose(&out);
		free(outs.v);
		if (stop)
			goto done;
	}
	/* Data flow from the ensemble inputs. */
	ts_iter_init(&it, cfg, "input");
	while ((io = ts_iter_next(&it))) {
		const char *in = ts_str(io->msg, "name");
		size_t t = strmap_get(&g.index, in, false, 0);
		if (t == SIZE_MAX) {
			cfg_error(r, m, pos_value(io), "triton-ensemble",
			          "ensemble input '%s' for ensemble %s' is not used", in, name);
			continue;
		}
		if (!g.nodes[t].ready) {
			g.nodes[t].ready = true;
			if (!idx_push(&queue, t))
				oom = true;
		}
	}
	for (size_t q = 0; q < queue.n && !oom; q++) {
		enode *cur = &g.nodes[queue.v[q]];
		for (size_t k = 0; k < cur->next.n; k++) {
			enode *nx = &g.nodes[cur->next.v[k]];
			bool ready = true;
			if (nx->ready)
				continue;
			for (size_t p = 0; p < nx->prev.n && ready; p++)
				ready = g.nodes[nx->prev.v[p]].ready;
			nx->ready = ready;
			if (ready && !idx_push(&queue, cur->next.v[k]))
				oom = true;
			cur = &g.nodes[queue.v[q]];
		}
	}
	strmap outputs = {0};
	ts_iter_init(&it, cfg, "output");
	while ((io = ts_iter_next(&it))) {
		const char *on = ts_str(io->msg, "name");
		size_t t = strmap_get(&g.index, on, false, 0);
		if (t == SIZE_MAX) {
			cfg_error(r, m, pos_value(io), "triton-ensemble",
			          "ensemble output '%s' for ensemble %s' is not used", on, name);
			continue;
		}
		if (!g.nodes[t].ready) {
			/* Walk back to a source that is not connected, as Triton does. */
			size_t last = t, seen_n = 0;
			strmap seen = {0};
			const idxlist *prev = &g.nodes[t].prev;
			while (prev && prev->n) {
				const idxlist *nextp = NULL;
				for (size_t k = 0; k < prev->n; k++) {
					size_t p = prev->v[k];
					if (!g.nodes[p].ready && strmap_get(&seen, g.nodes[p].name,
					                                    false, 0) == SIZE_MAX) {
						strmap_get(&seen, g.nodes[p].name, true, seen_n++);
						last = p;
						nextp = &g.nodes[p].prev;
						break;
					}
				}
				prev = nextp;
			}
			strmap_dispose(&seen);
			if (last != t)
				cfg_error(
				    r, m, pos_value(io), "triton-ensemble",
				    "output '%s' for ensemble '%s' is not written: at least one of "
				    "its depending tensors, '%s', is not connected",
				    on, name, g.nodes[last].name);
			else
				cfg_error(r, m, pos_value(io), "triton-ensemble",
				          "output '%s' for ensemble '%s' is not written", on, name);
			continue;
		}
		strmap_get(&outputs, on, true, 0);
	}
	for (size_t t = 0; t < g.count && !oom; t++) {
		if (strmap_get(&outputs, g.nodes[t].name, false, 0) != SIZE_MAX)
			continue;
		if (!g.nodes[t].ready || !g.nodes[t].next.n)
			cfg_error(r, m, pos_field(m, cfg, "ensemble_scheduling"), "triton-ensemble",
			          "ensemble tensor '%s' is unused in ensemble '%s'",
			          g.nodes[t].name, name);
	}
	strmap_dispose(&outputs);
done:
	if (oom)
		r->nomem = true;
	free(queue.v);
	egraph_dispose(&g);
}

/* ---- ensembles across models (ensemble_utils.cc, repository manager) ---- */

typedef struct {
	const char *model; /* where the type and shape come from */
	int64_t type;
	int64_t dims[64], full[65];
	size_t ndims, nfull;
	bool decoupled, visited;
	size_t label;
	size_t sibling; /* SIZE_MAX: none */
	idxlist prev, next;
} tnode;

typedef struct {
	tnode *v;
	size_t n, cap;
	strmap index;
	/* sibling groups: one per step, holding a label and visited flag */
	struct {
		bool visited;
		size_t label;
	} * sib;
	size_t nsib;
} tgraph;

static void tgraph_dispose(tgraph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].prev.v);
		free(g->v[i].next.v);
	}
	free(g->v);
	free(g->sib);
	strmap_dispose(&g->index);
}

static void tnode_init(tnode *t, const char *model, bool batching, int64_t type,
                       const pbtxt_msg *msg, const char *field)
{
	ts_iter it;
	const pbtxt_value *v;

	memset(t, 0, sizeof(*t));
	t->model = model;
	t->type = type;
	t->sibling = SIZE_MAX;
	if (batching)
		t->full[t->nfull++] = -1;
	ts_iter_init(&it, msg, field);
	while ((v = ts_iter_next(&it)) && t->ndims < 64) {
		t->dims[t->ndims++] = v->v.i;
		t->full[t->nfull++] = v->v.i;
	}
}

/* Append @t under @name (NULL: a node no tensor name reaches); an existing
 * name keeps its node, as std::unordered_map::emplace does. */
static size_t tgraph_add(tgraph *g, const char *name, const tnode *t)
{
	size_t i = name ? strmap_get(&g->index, name, false, 0) : SIZE_MAX;

	if (i != SIZE_MAX)
		return i;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		tnode *n = realloc(g->v, cap * sizeof(*n));
		if (!n)
			return SIZE_MAX;
		g->v = n;
		g->cap = cap;
	}
	if (name && strmap_get(&g->index, name, true, g->n) == SIZE_MAX)
		return SIZE_MAX;
	g->v[g->n] = *t;
	return g->n++;
}

static bool dims_match(const int64_t *a, size_t na, const int64_t *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i] != b[i] && a[i] != -1 && b[i] != -1)
			return false;
	return true;
}

static void dims_string(const int64_t *d, size_t n, char *buf, size_t size)
{
	size_t o = (size_t)snprintf(buf, size, "[");

	for (size_t i = 0; i < n && o + 24 < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%" PRId64, i ? "," : "", d[i]);
	snprintf(buf + o, size - o, "]");
}

/* ValidateTensorConsistency; false after reporting. */
static bool consistent(trepo *r, tmodel *e, const char *tensor, const tnode *a, const tnode *b,
                       tpos p)
{
	if (a->type != b->type) {
		cfg_error(
		    r, e, p, "triton-ensemble-models",
		    "in ensemble %s, ensemble tensor %s: inconsistent data type: %s is inferred "
		    "from model %s while %s is inferred from model %s",
		    e->cfg_name, tensor, ts_enum_name(&ts_data_type, a->type), a->model,
		    ts_enum_name(&ts_data_type, b->type), b->model);
		return false;
	}
	if (!dims_match(a->dims, a->ndims, b->dims, b->ndims) &&
	    !dims_match(a->full, a->nfull, b->full, b->nfull)) {
		char da[512], db[512];
		dims_string(a->full, a->nfull, da, sizeof(da));
		dims_string(b->full, b->nfull, db, sizeof(db));
		cfg_error(r, e, p, "triton-ensemble-models",
		          "in ensemble %s, ensemble tensor %s: inconsistent shape: %s is inferred "
		          "from model %s while %s is inferred from model %s",
		          e->cfg_name, tensor, da, a->model, db, b->model);
		return false;
	}
	return true;
}

/* A step model's configuration tells its tensors when it lists inputs and
 * outputs; otherwise its backend completes them when it loads. */
static bool io_known(const tmodel *s)
{
	return s->has_config && ts_count(s->tree, "input") && ts_count(s->tree, "output");
}

/* ValidateTensorMapping for one step; false after reporting. */
static bool map_step(trepo *r, tmodel *e, const pbtxt_value *step, tmodel *s, tgraph *g)
{
	const char *ename = e->cfg_name, *sname = s->cfg_name;
	bool batching = ts_int(s->tree, "max_batch_size") > 0;
	kvmap in = {0}, out = {0};
	const pbtxt_value *io;
	ts_iter it;
	bool ok = false;
	tpos p = pos_value(step);
	size_t sib;

	if (!kvmap_read(&in, step->msg, "input_map") ||
	    !kvmap_read(&out, step->msg, "output_map")) {
		r->nomem = true;
		goto done;
	}
	for (size_t k = 0; k < in.n; k++) {
		if (!tm_name_in(s->tree, "input", in.keys[k])) {
			cfg_error(
			    r, e, p, "triton-ensemble-models",
			    "in ensemble %s, ensemble tensor %s is mapping to non-existing input "
			    "%s in model %s",
			    ename, in.vals[k], in.keys[k], sname);
			goto done;
		}
	}
	ts_iter_init(&it, s->tree, "input");
	while ((io = ts_iter_next(&it))) {
		const char *iname = ts_str(io->msg, "name");
		size_t mapped = 0;
		for (size_t k = 0; k < in.n; k++) {
			if (strcmp(in.keys[k], iname))
				continue;
			tnode t;
			tnode_init(&t, sname, batching, ts_int(io->msg, "data_type"), io->msg,
			           "dims");
			size_t i = strmap_get(&g->index, in.vals[k], false, 0);
			if (i != SIZE_MAX) {
				if (!consistent(r, e, in.vals[k], &g->v[i], &t, p))
					goto done;
			} else if (tgraph_add(g, in.vals[k], &t) == SIZE_MAX) {
				r->nomem = true;
				goto done;
			}
			mapped++;
		}
		if (!mapped && !ts_bool(io->msg, "optional")) {
			cfg_error(
			    r, e, p, "triton-ensemble-models",
			    "in ensemble %s, input %s in model %s is not mapped to any ensemble "
			    "tensors",
			    ename, iname, sname);
			goto done;
		}
	}
	for (size_t k = 0; k < out.n; k++) {
		if (!tm_name_in(s->tree, "output", out.keys[k])) {
			cfg_error(
			    r, e, p, "triton-ensemble-models",
			    "in ensemble %s, ensemble tensor %s is mapped from non-existing output "
			    "%s in model %s",
			    ename, out.vals[k], out.keys[k], sname);
			goto done;
		}
	}
	void *ns = realloc(g->sib, (g->nsib + 1) * sizeof(*g->sib));
	if (!ns) {
		r->nomem = true;
		goto done;
	}
	g->sib = ns;
	sib = g->nsib++;
	g->sib[sib].visited = false;
	g->sib[sib].label = 0;
	for (size_t k = 0; k < out.n; k++) {
		size_t mapped = 0;
		ts_iter_init(&it, s->tree, "output");
		while ((io = ts_iter_next(&it))) {
			if (strcmp(ts_str(io->msg, "name"), out.keys[k]))
				continue;
			tnode t;
			tnode_init(&t, sname, batching, ts_int(io->msg, "data_type"), io->msg,
			           "dims");
			size_t i = strmap_get(&g->index, out.vals[k], false, 0);
			if (i != SIZE_MAX) {
				if (!consistent(r, e, out.vals[k], &g->v[i], &t, p))
					goto done;
			} else if ((i = tgraph_add(g, out.vals[k], &t)) == SIZE_MAX) {
				r->nomem = true;
				goto done;
			}
			g->v[i].sibling = sib;
			mapped++;
		}
		if (mapped > 1) {
			cfg_error(
			    r, e, p, "triton-ensemble-models",
			    "in ensemble %s, multiple outputs in model %s are mapped to the same "
			    "ensemble tensor %s",
			    ename, sname, out.vals[k]);
			goto done;
		}
	}
	bool decoupled = ts_bool(ts_msg(s->tree, "model_transaction_policy"), "decoupled");
	for (size_t k = 0; k < out.n; k++) {
		size_t o = strmap_get(&g->index, out.vals[k], false, 0);
		g->v[o].decoupled = decoupled;
		for (size_t j = 0; j < in.n; j++) {
			size_t i = strmap_get(&g->index, in.vals[j], false, 0);
			if (!idx_push(&g->v[o].prev, i) || !idx_push(&g->v[i].next, o)) {
				r->nomem = true;
				goto done;
			}
		}
	}
	ok = true;
done:
	kvmap_dispose(&in);
	kvmap_dispose(&out);
	return ok;
}

static void check_decoupled_flow(trepo *r, tmodel *e, tgraph *g)
{
	idxlist queue = {0};
	size_t label = 0;
	const pbtxt_value *io;
	ts_iter it;

	ts_iter_init(&it, e->tree, "input");
	while ((io = ts_iter_next(&it))) {
		size_t i = strmap_get(&g->index, ts_str(io->msg, "name"), false, 0);
		if (i == SIZE_MAX || g->v[i].visited)
			continue;
		g->v[i].visited = true;
		if (!idx_push(&queue, i))
			goto oom;
	}
	for (size_t q = 0; q < queue.n; q++) {
		size_t cur = queue.v[q];
		for (size_t k = 0; k < g->v[cur].next.n; k++) {
			tnode *nx = &g->v[g->v[cur].next.v[k]];
			bool ready = true;
			if (nx->visited)
				continue;
			for (size_t p = 0; p < nx->prev.n && ready; p++)
				ready = g->v[nx->prev.v[p]].visited;
			if (!ready)
				continue;
			size_t prev_label = g->v[nx->prev.v[0]].label;
			for (size_t p = 0; p < nx->prev.n; p++) {
				if (g->v[nx->prev.v[p]].label != prev_label) {
					cfg_error(
					    r, e, pos_field(e, e->tree, "ensemble_scheduling"),
					    "triton-ensemble-models",
					    "in ensemble %s, step of model '%s' receives inputs "
					    "originated from different decoupled models",
					    e->cfg_name, nx->model);
					goto done;
				}
			}
			if (nx->sibling != SIZE_MAX) {
				if (g->sib[nx->sibling].visited) {
					nx->label = g->sib[nx->sibling].label;
				} else {
					nx->label = nx->decoupled ? ++label : prev_label;
					g->sib[nx->sibling].label = nx->label;
					g->sib[nx->sibling].visited = true;
				}
			} else {
				nx->label = nx->decoupled ? ++label : prev_label;
			}
			nx->visited = true;
			if (!idx_push(&queue, g->v[cur].next.v[k]))
				goto oom;
		}
	}
	goto done;
oom:
	r->nomem = true;
done:
	free(queue.v);
}

/* Is there a path from @from back to @start through ensemble steps?
 * Reports Triton's message naming the last ensemble before @start. */
static bool find_cycle(trepo *r, tmodel *start, tmodel *from, int depth)
{
	const pbtxt_value *step;
	ts_iter it;

	if (depth > 1000 || from->visit)
		return false;
	from->visit = 1;
	ts_iter_init(&it, ts_msg(from->tree, "ensemble_scheduling"), "step");
	while ((step = ts_iter_next(&it))) {
		const char *sname = ts_str(step->msg, "model_name");
		if (!strcmp(sname, start->name)) {
			cfg_error(r, start, pos_field(start, start->tree, "ensemble_scheduling"),
			          "triton-ensemble-cycle",
			          "circular dependency between ensembles: %s -> ... -> %s -> %s",
			          start->cfg_name, from->cfg_name, start->cfg_name);
			return true;
		}
		tmodel *s = tm_repo_find(r, sname);
		if (s && s->config_ok && ts_has(s->tree, "ensemble_scheduling") &&
		    find_cycle(r, start, s, depth + 1))
			return true;
	}
	return false;
}

void tm_check_ensemble_models(trepo *r, tmodel *e)
{
	const pbtxt_value *step, *io;
	ts_iter it;
	char **missing = NULL;
	size_t nmissing = 0;
	bool unknown_io = false;
	tgraph g = {0};
	tnode t;
	int64_t embs = ts_int(e->tree, "max_batch_size");
	const char *ename = e->cfg_name;

	/* Models the steps name must exist (the missing ones, sorted, once). */
	ts_iter_init(&it, ts_msg(e->tree, "ensemble_scheduling"), "step");
	while ((step = ts_iter_next(&it))) {
		const char *sname = ts_str(step->msg, "model_name");
		if (tm_repo_find(r, sname))
			continue;
		bool dup = false;
		for (size_t i = 0; i < nmissing; i++)
			dup |= !strcmp(missing[i], sname);
		if (dup)
			continue;
		char **nm = realloc(missing, (nmissing + 1) * sizeof(*nm));
		if (!nm) {
			r->nomem = true;
			goto done;
		}
		missing = nm;
		missing[nmissing++] = (char *)sname;
	}
	if (nmissing) {
		strbuf sb = STRBUF_INIT;
		qsort(missing, nmissing, sizeof(*missing), tm_cmp_str);
		for (size_t i = 0; i < nmissing; i++)
			strbuf_printf(&sb, "%s%s", i ? ", " : "", missing[i]);
		if (sb.failed) {
			r->nomem = true;
			strbuf_dispose(&sb);
			goto done;
		}
		/* Validating one model, its repository is only guessed: a warning. */
		tm_cfg_diag(r, e, r->single ? MREG_DIAG_WARNING : MREG_DIAG_ERROR,
		            pos_field(e, e->tree, "ensemble_scheduling"), "triton-ensemble-models",
		            "ensemble %s contains models that are not available or ambiguous: %s%s",
		            ename, sb.data,
		            r->single ? " (not found beside it; validate the whole repository)"
		                      : "");
		strbuf_dispose(&sb);
		goto done;
	}
	if (find_cycle(r, e, e, 0)) {
		for (size_t i = 0; i < r->count; i++)
			r->models[i]->visit = 0;
		goto done;
	}
	for (size_t i = 0; i < r->count; i++)
		r->models[i]->visit = 0;

	/* Versions the steps need, and step models that failed. */
	bool steps_ok = true;
	ts_iter_init(&it, ts_msg(e->tree, "ensemble_scheduling"), "step");
	while ((step = ts_iter_next(&it))) {
		tmodel *s = tm_repo_find(r, ts_str(step->msg, "model_name"));
		int64_t v = ts_int(step->msg, "model_version");
		if (!s)
			continue;
		if (s->errors) {
			cfg_error(
			    r, e, pos_value(step), "triton-ensemble-models",
			    "ensemble '%s' depends on '%s' which is not valid. Model '%s' failed "
			    "with error: %s",
			    ename, s->name, s->name, s->first_error ? s->first_error : "");
			steps_ok = false;
		} else if (r->layout && !s->nloaded) {
			cfg_error(r, e, pos_value(step), "triton-ensemble-models",
			          "ensemble '%s' depends on '%s' which has no loaded version.",
			          ename, s->name);
			steps_ok = false;
		} else if (r->layout && v != -1 && !tm_is_loaded(s, v)) {
			/* model_version is a proto3 int64: unset, it is 0, not -1. */
			cfg_error(r, e, pos_value(step), "triton-ensemble-models",
			          "ensemble '%s' depends on '%s' whose required version %" PRId64
			          " is not loaded.%s",
			          ename, s->name, v,
			          ts_has(step->msg, "model_version")
			              ? ""
			              : " (model_version is not set, so it is 0; -1 means "
			                "the latest version)");
			steps_ok = false;
		}
	}
	if (!steps_ok)
		goto done;

	/* ValidateEnsembleConfig: batch sizes, mappings, shapes, decoupled flow. */
	bool batching = embs > 0;
	ts_iter_init(&it, e->tree, "input");
	while ((io = ts_iter_next(&it))) {
		const pbtxt_msg *rs = ts_msg(io->msg, "reshape");
		tnode_init(&t, ename, batching, ts_int(io->msg, "data_type"), rs ? rs : io->msg,
		           rs ? "shape" : "dims");
		if (tgraph_add(&g, ts_str(io->msg, "name"), &t) == SIZE_MAX)
			goto oom;
	}
	/* The sink: a node of the ensemble itself that every ensemble output
	 * feeds (ensemble_utils.cc, sink_node), so the decoupled-flow check
	 * also asks whether the ensemble's outputs come from one decoupled
	 * origin. */
	tnode_init(&t, ename, false, 0, NULL, "dims");
	size_t sink = tgraph_add(&g, NULL, &t);
	if (sink == SIZE_MAX)
		goto oom;
	ts_iter_init(&it, e->tree, "output");
	while ((io = ts_iter_next(&it))) {
		const pbtxt_msg *rs = ts_msg(io->msg, "reshape");
		tnode_init(&t, ename, batching, ts_int(io->msg, "data_type"), rs ? rs : io->msg,
		           rs ? "shape" : "dims");
		size_t o = tgraph_add(&g, ts_str(io->msg, "name"), &t);
		if (o == SIZE_MAX || !idx_push(&g.v[sink].prev, o) || !idx_push(&g.v[o].next, sink))
			goto oom;
	}
	ts_iter_init(&it, ts_msg(e->tree, "ensemble_scheduling"), "step");
	while ((step = ts_iter_next(&it))) {
		tmodel *s = tm_repo_find(r, ts_str(step->msg, "model_name"));
		int64_t smbs = ts_int(s->tree, "max_batch_size");
		if (smbs != 0 && smbs < embs) {
			cfg_error(
			    r, e, pos_value(step), "triton-ensemble-models",
			    "ensemble %s allows maximum batch size %" PRId64
			    ", but it contains model %s which only allows maximum batch size to "
			    "be %" PRId64,
			    ename, embs, ts_str(step->msg, "model_name"), smbs);
			goto done;
		}
		if (!io_known(s) && strcmp(s->platform, ENSEMBLE)) {
			unknown_io = true;
			continue;
		}
		if (!map_step(r, e, step, s, &g))
			goto done;
	}
	if (unknown_io)
		tm_cfg_diag(
		    r, e, MREG_DIAG_NOTE, pos_field(e, e->tree, "ensemble_scheduling"),
		    "triton-ensemble-models",
		    "tensors of ensemble %s were checked only against steps whose config.pbtxt "
		    "lists their inputs and outputs; the others are completed by their backend "
		    "when Triton loads them",
		    ename);
	else
		check_decoupled_flow(r, e, &g);
	goto done;
oom:
	r->nomem = true;
done:
	free(missing);
	tgraph_dispose(&g);
}

/* Reads a run directory and judges it.  Streaming: events are few (one per
 * command, mark or fault), samples are read once, line by line, and each
 * check keeps a constant amount of state, so memory does not grow with the
 * length of the run. */
#include "results.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/dose.h"
#include "recorder.h"

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS: return "pass";
	case VERDICT_FAIL: return "fail";
	default: return "inconclusive";
	}
}

const char *run_status_name(enum run_status s)
{
	switch (s) {
	case RUN_COMPLETED: return "completed";
	case RUN_ABORTED: return "aborted";
	default: return "interrupted";
	}
}

struct window {
	char name[RIG_ID_MAX];
	bool begun, ended;
	rig_ns begin_ns, end_ns;
};

struct timeline {
	struct rate_change *rates;
	size_t n_rates, cap_rates;
	struct bolus_cmd *boluses;
	size_t n_boluses, cap_boluses;
	struct window *windows;
	size_t n_windows;            /* at most the number of mark steps */
	struct check_result *timeouts;
	size_t n_timeouts;
	bool ended;
	bool aborted;
	char end_reason[512];
	rig_ns last_t_ns;
	size_t torn;
};

struct check_state {
	struct interp_at begin, end;
	size_t n_inside;
};

static int grow(void **items, size_t *cap, size_t n, size_t size)
{
	void *p;

	if (n < *cap)
		return 0;
	*cap = *cap ? *cap * 2 : 16;
	p = realloc(*items, *cap * size);
	if (!p)
		return -ENOMEM;
	*items = p;
	return 0;
}

static struct window *window_get(struct timeline *tl, const char *name, size_t max)
{
	for (size_t i = 0; i < tl->n_windows; i++)
		if (strcmp(tl->windows[i].name, name) == 0)
			return &tl->windows[i];
	if (tl->n_windows >= max)
		return NULL;
	snprintf(tl->windows[tl->n_windows].name, RIG_ID_MAX, "%s", name);
	return &tl->windows[tl->n_windows++];
}

static const char *jstr(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static double jnum(json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

/* A stop command ends any bolus still delivering: only what was programmed
 * up to the stop counts. */
static void truncate_boluses(struct timeline *tl, rig_ns stop_ns)
{
	for (size_t i = 0; i < tl->n_boluses; i++) {
		struct bolus_cmd *b = &tl->boluses[i];
		double until_stop_ml;

		if (b->t_ns >= stop_ns || b->rate_ml_per_h <= 0)
			continue;
		until_stop_ml = b->rate_ml_per_h * rig_ns_to_h(stop_ns - b->t_ns);
		if (until_stop_ml < b->volume_ml)
			b->volume_ml = until_stop_ml;
	}
}

static int read_events(const char *run_dir, struct timeline *tl, size_t max_windows,
		       char *err, size_t err_len)
{
	char path[RIG_PATH_MAX];
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/events.jsonl", run_dir);
	f = fopen(path, "r");
	if (!f) {
		r = -errno;
		snprintf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
		return r;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		json_t *ev;
		const char *name;
		rig_ns t_ns;

		if (line[len - 1] != '\n') {   /* torn by a crash mid-write */
			tl->torn++;
			break;
		}
		ev = json_loads(line, 0, NULL);
		if (!json_is_object(ev)) {
			json_decref(ev);
			tl->torn++;
			continue;
		}
		name = jstr(ev, "event");
		t_ns = json_integer_value(json_object_get(ev, "t_ns"));
		if (t_ns > tl->last_t_ns)
			tl->last_t_ns = t_ns;
		if (strcmp(name, "rate") == 0) {
			r = grow((void **)&tl->rates, &tl->cap_rates, tl->n_rates, sizeof(*tl->rates));
			if (r < 0)
				goto out;
			tl->rates[tl->n_rates++] = (struct rate_change){ t_ns, jnum(ev, "rate_ml_per_h") };
			if (json_is_true(json_object_get(ev, "stop")))
				truncate_boluses(tl, t_ns);
		} else if (strcmp(name, "bolus") == 0) {
			r = grow((void **)&tl->boluses, &tl->cap_boluses, tl->n_boluses, sizeof(*tl->boluses));
			if (r < 0)
				goto out;
			tl->boluses[tl->n_boluses++] = (struct bolus_cmd){
				t_ns, jnum(ev, "volume_ml"), jnum(ev, "rate_ml_per_h") };
		} else if (strcmp(name, "mark") == 0) {
			struct window *w = window_get(tl, jstr(ev, "window"), max_windows);

			if (w && strcmp(jstr(ev, "edge"), "begin") == 0) {
				w->begun = true;
				w->begin_ns = t_ns;
			} else if (w) {
				w->ended = true;
				w->end_ns = t_ns;
			}
		} else if (strcmp(name, "step_timeout") == 0 &&
			   strcmp(jstr(ev, "action"), "fail") == 0) {
			struct check_result *c;
			size_t cap_t = tl->n_timeouts;

			/* exact-size growth: timeouts are rare */
			c = realloc(tl->timeouts, (cap_t + 1) * sizeof(*c));
			if (!c) {
				r = -ENOMEM;
				json_decref(ev);
				goto out;
			}
			tl->timeouts = c;
			c = &tl->timeouts[tl->n_timeouts++];
			memset(c, 0, sizeof(*c));
			snprintf(c->check, sizeof(c->check), "step_timeout");
			c->seq_line = (int)json_integer_value(json_object_get(ev, "line"));
			c->verdict = VERDICT_FAIL;
			snprintf(c->criterion, sizeof(c->criterion), "step completes within its timeout");
			snprintf(c->explanation, sizeof(c->explanation),
				 "step %lld (%s) did not complete within %.0f s; the sequence says a timed-out step fails and the run continues",
				 (long long)json_integer_value(json_object_get(ev, "step")),
				 jstr(ev, "kind"), jnum(ev, "timeout_s"));
			snprintf(c->source, sizeof(c->source), "events.jsonl: step_timeout at t = %.3f s",
				 rig_ns_to_s(t_ns));
		} else if (strcmp(name, "run_end") == 0) {
			tl->ended = true;
			tl->aborted = strcmp(jstr(ev, "status"), "completed") != 0;
			snprintf(tl->end_reason, sizeof(tl->end_reason), "%s", jstr(ev, "reason"));
		}
		json_decref(ev);
	}
out:
	free(line);
	fclose(f);
	if (r < 0)
		snprintf(err, err_len, "%s: %s", path, strerror(-r));
	return r;
}

/* One line of samples.csv: t_ns,role,quantity,value,unit,flags.  Returns
 * false for a line that is not a complete sample (header, torn line). */
static bool parse_sample(char *line, rig_ns *t_ns, char **role, char **qty, double *value,
			 uint32_t *flags)
{
	char *p = line, *end, *fields[6];
	size_t n = 0;

	fields[n++] = p;
	while (*p && n < 6) {
		if (*p == ',') {
			*p = '\0';
			fields[n++] = p + 1;
		}
		p++;
	}
	if (n != 6)
		return false;
	errno = 0;
	*t_ns = strtoll(fields[0], &end, 10);
	if (errno || end == fields[0] || *end)
		return false;
	*value = strtod(fields[3], &end);
	if (end == fields[3] || *end)
		return false;
	*role = fields[1];
	*qty = fields[2];
	*flags = sample_flags_parse(fields[5]);
	return true;
}

static int stream_samples(const char *run_dir, struct run_results *res,
			  struct check_state *states, struct timeline *tl, char *err, size_t err_len)
{
	char path[RIG_PATH_MAX];
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/samples.csv", run_dir);
	f = fopen(path, "r");
	if (!f) {
		int r = -errno;

		snprintf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
		return r;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		rig_ns t_ns;
		char *role, *qty;
		double value;
		uint32_t flags;

		if (line[len - 1] != '\n') {
			tl->torn++;
			break;
		}
		line[len - 1] = '\0';
		if (!parse_sample(line, &t_ns, &role, &qty, &value, &flags))
			continue;
		res->n_samples_total++;
		if (t_ns > tl->last_t_ns)
			tl->last_t_ns = t_ns;
		/* A balance reading that has not settled is not used (it is kept
		 * in the record, flagged). */
		if (strcmp(role, "scale") != 0 || strcmp(qty, "mass") != 0 || (flags & SAMPLE_UNSTABLE))
			continue;
		for (size_t i = 0; i < res->n_checks; i++) {
			struct check_result *c = &res->checks[i];

			if (strcmp(c->check, "dose_accuracy") != 0)
				continue;
			interp_at_add(&states[i].begin, t_ns, value);
			interp_at_add(&states[i].end, t_ns, value);
			if (t_ns >= c->t_begin_ns && t_ns <= c->t_end_ns)
				states[i].n_inside++;
		}
	}
	free(line);
	fclose(f);
	return 0;
}

static void judge_dose(struct check_result *c, const struct check_state *st,
		       const struct timeline *tl, const struct bench *bench)
{
	struct dose_inputs in;
	struct dose_result out;

	if (c->t_end_ns <= c->t_begin_ns) {
		c->verdict = VERDICT_INCONCLUSIVE;
		snprintf(c->explanation, sizeof(c->explanation),
			 "window \"%s\" was not completed before the run ended", c->window);
		return;
	}
	if (interp_at_value(&st->begin, &c->mass_begin_g) < 0 ||
	    interp_at_value(&st->end, &c->mass_end_g) < 0) {
		c->verdict = VERDICT_INCONCLUSIVE;
		snprintf(c->explanation, sizeof(c->explanation),
			 "no settled balance readings on both sides of the ends of window \"%s\"",
			 c->window);
		return;
	}
	in = (struct dose_inputs){
		.t_begin_ns = c->t_begin_ns,
		.t_end_ns = c->t_end_ns,
		.mass_begin_g = c->mass_begin_g,
		.mass_end_g = c->mass_end_g,
		.density_g_per_ml = bench->density_g_per_ml,
		.evaporation_g_per_h = bench->evaporation_g_per_h,
		.programmed_ml = programmed_volume_ml(tl->rates, tl->n_rates, tl->boluses,
						      tl->n_boluses, c->t_begin_ns, c->t_end_ns),
	};
	if (dose_accuracy(&in, &out) < 0) {
		c->verdict = VERDICT_INCONCLUSIVE;
		snprintf(c->explanation, sizeof(c->explanation),
			 "nothing was programmed to be delivered in window \"%s\"", c->window);
		return;
	}
	c->collected_g = out.collected_g;
	c->evaporation_g = out.evaporation_g;
	c->delivered_ml = out.delivered_ml;
	c->programmed_ml = out.programmed_ml;
	c->measured = out.error_pct;
	c->has_measured = true;
	c->n_samples = st->n_inside;
	c->verdict = c->measured >= c->limit_low && c->measured <= c->limit_high ? VERDICT_PASS
										 : VERDICT_FAIL;
	snprintf(c->explanation, sizeof(c->explanation),
		 "delivered %.6f mL against %.6f mL programmed over %.4f h: error %+.3f %% %s the limit of %.3f %%",
		 out.delivered_ml, out.programmed_ml, rig_ns_to_h(c->t_end_ns - c->t_begin_ns),
		 out.error_pct, c->verdict == VERDICT_PASS ? "within" : "outside", c->limit_high);
	snprintf(c->source, sizeof(c->source),
		 "samples.csv: scale mass (settled readings only), %zu in the window, "
		 "interpolated at t = %.3f s (%.6f g) and t = %.3f s (%.6f g); "
		 "events.jsonl: window marks and the rate/bolus commands for the programmed volume; "
		 "inputs/bench.cfg: fluid.density %.6g g/mL, fluid.evaporation_correction %.6g mg/h (%.6f mg added back)",
		 st->n_inside, rig_ns_to_s(c->t_begin_ns), c->mass_begin_g, rig_ns_to_s(c->t_end_ns),
		 c->mass_end_g, bench->density_g_per_ml, bench->evaporation_g_per_h * 1e3,
		 out.evaporation_g * 1e3);
}

static int load_inputs(const char *run_dir, struct sequence **seq, struct bench **bench,
		       struct device **dev, char *err, size_t err_len)
{
	struct diag_list diags = { 0 };
	char path[RIG_PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/inputs/sequence.cfg", run_dir);
	r = seq_load(path, seq, &diags);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/inputs/bench.cfg", run_dir);
		r = bench_load(path, bench, &diags);
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/inputs/device.cfg", run_dir);
		r = device_load(path, dev, &diags);
	}
	if (r < 0) {
		if (diags.n > 0)
			snprintf(err, err_len, "%s:%d: %s", diags.items[0].file, diags.items[0].line,
				 diags.items[0].msg);
		else
			snprintf(err, err_len, "%s: %s", path, strerror(-r));
	}
	diag_clear(&diags);
	return r;
}

static void init_checks(struct run_results *res, const struct sequence *seq,
			const struct device *dev, const struct timeline *tl,
			struct check_state *states)
{
	for (size_t i = 0; i < seq->n_steps; i++) {
		const struct step *s = &seq->steps[i];
		struct check_result *c;
		double tol;

		if (s->kind != STEP_CHECK)
			continue;
		c = &res->checks[res->n_checks];
		memset(c, 0, sizeof(*c));
		snprintf(c->check, sizeof(c->check), "%s", check_kind_name(s->check));
		snprintf(c->window, sizeof(c->window), "%s", s->window);
		snprintf(c->requirement, sizeof(c->requirement), "%s",
			 s->requirement[0] ? s->requirement : dev->accuracy_requirement);
		c->seq_line = s->line;
		tol = s->tolerance_pct > 0 ? s->tolerance_pct : dev->accuracy_tolerance_pct;
		c->limit_low = -tol;
		c->limit_high = tol;
		snprintf(c->unit, sizeof(c->unit), "%%");
		snprintf(c->criterion, sizeof(c->criterion),
			 "|delivered - programmed| / programmed <= %.3g %% (%s)", tol,
			 s->tolerance_pct > 0 ? "sequence" : "device accuracy.tolerance");
		c->verdict = VERDICT_INCONCLUSIVE;
		for (size_t w = 0; w < tl->n_windows; w++) {
			if (strcmp(tl->windows[w].name, s->window) != 0)
				continue;
			if (tl->windows[w].begun)
				c->t_begin_ns = tl->windows[w].begin_ns;
			if (tl->windows[w].ended)
				c->t_end_ns = tl->windows[w].end_ns;
		}
		interp_at_init(&states[res->n_checks].begin, c->t_begin_ns);
		interp_at_init(&states[res->n_checks].end, c->t_end_ns);
		res->n_checks++;
	}
}

int results_analyse(const char *run_dir, struct run_results **ret, char *err, size_t err_len)
{
	struct sequence *seq = NULL;
	struct bench *bench = NULL;
	struct device *dev = NULL;
	struct timeline tl = { 0 };
	struct check_state *states = NULL;
	struct run_results *res = NULL;
	size_t max_checks;
	int r;

	*ret = NULL;
	r = load_inputs(run_dir, &seq, &bench, &dev, err, err_len);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	tl.windows = calloc(seq->n_steps, sizeof(*tl.windows));
	res = calloc(1, sizeof(*res));
	if (!tl.windows || !res)
		goto out;
	r = read_events(run_dir, &tl, seq->n_steps, err, err_len);
	if (r < 0)
		goto out;
	max_checks = seq->n_steps + tl.n_timeouts;
	res->checks = calloc(max_checks, sizeof(*res->checks));
	states = calloc(max_checks, sizeof(*states));
	r = -ENOMEM;
	if (!res->checks || !states)
		goto out;
	snprintf(res->sequence_id, sizeof(res->sequence_id), "%s", seq->id);
	snprintf(res->sequence_title, sizeof(res->sequence_title), "%s", seq->title);
	snprintf(res->bench_id, sizeof(res->bench_id), "%s", bench->id);
	snprintf(res->device_model, sizeof(res->device_model), "%s", dev->model);
	snprintf(res->device_serial, sizeof(res->device_serial), "%s", dev->serial);
	init_checks(res, seq, dev, &tl, states);
	r = stream_samples(run_dir, res, states, &tl, err, err_len);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < res->n_checks; i++)
		judge_dose(&res->checks[i], &states[i], &tl, bench);
	for (size_t i = 0; i < tl.n_timeouts; i++)
		res->checks[res->n_checks++] = tl.timeouts[i];

	res->status = !tl.ended ? RUN_INTERRUPTED : tl.aborted ? RUN_ABORTED : RUN_COMPLETED;
	if (tl.ended)
		snprintf(res->end_reason, sizeof(res->end_reason), "%s", tl.end_reason);
	else
		snprintf(res->end_reason, sizeof(res->end_reason),
			 "the record ends at t = %.3f s without a run_end event: the run was interrupted (crash, kill or power loss)",
			 rig_ns_to_s(tl.last_t_ns));
	res->end_t_ns = tl.last_t_ns;
	res->n_torn_lines = tl.torn;
	res->overall = VERDICT_PASS;
	for (size_t i = 0; i < res->n_checks; i++) {
		if (res->checks[i].verdict == VERDICT_FAIL)
			res->overall = VERDICT_FAIL;
		else if (res->checks[i].verdict == VERDICT_INCONCLUSIVE && res->overall == VERDICT_PASS)
			res->overall = VERDICT_INCONCLUSIVE;
	}
	if (res->status != RUN_COMPLETED && res->overall == VERDICT_PASS)
		res->overall = VERDICT_INCONCLUSIVE;
	*ret = res;
	res = NULL;
	r = 0;
out:
	if (r == -ENOMEM)
		snprintf(err, err_len, "out of memory");
	results_free(res);
	free(states);
	free(tl.rates);
	free(tl.boluses);
	free(tl.windows);
	free(tl.timeouts);
	seq_free(seq);
	bench_free(bench);
	device_free(dev);
	return r;
}

void results_free(struct run_results *res)
{
	if (!res)
		return;
	free(res->checks);
	free(res);
}

int results_exit_status(const struct run_results *res)
{
	if (res->status != RUN_COMPLETED)
		return 3;
	return res->overall == VERDICT_PASS ? 0 : 1;
}

/* Reads a run directory and judges it.  Streaming: events are few (one per
 * command, mark, edge or fault), samples are read once, line by line, and
 * each check keeps a bounded amount of state, so memory does not grow with
 * the length of the run.  The checks themselves live in check_*.c. */
#include "results.h"
#include "rig/base/infile.h"

#include <errno.h>
#include <math.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rig/base/record.h"
#include "check.h"
#include "conditions.h"
#include "rig/analysis/gravimetric.h"



/* A check whose window spans a resume's gap cannot be judged: nobody knows
 * what the pump did while nothing was recorded (on a real bench it may
 * have kept delivering, or stopped when the rig died).  Excluding the gap
 * would judge a different window than the sequence asked for, so the check
 * is inconclusive, with its numbers kept for the record. */
static void judge_across_gaps(const struct timeline *tl, struct check_result *c)
{
	for (size_t k = 0; k < tl->n_resume_gaps; k++) {
		const struct period *g = &tl->resume_gaps[k];

		if (c->t_begin_ns <= 0 && c->t_end_ns <= 0)
			continue;   /* no window */
		if (c->t_begin_ns > g->begin_ns || (c->t_end_ns > 0 && c->t_end_ns < g->end_ns))
			continue;
		char before[sizeof(c->explanation)];

		snprintf(before, sizeof(before), "%s", c->explanation);
		c->verdict = VERDICT_INCONCLUSIVE;
		snprintf(c->explanation, sizeof(c->explanation),
			 "inconclusive: the window (t = %.1f .. %.1f s) spans a gap in the record "
			 "from t = %.1f s to %.1f s (crash, then rig resume); computed as if "
			 "continuous: %.250s", rig_ns_to_s(c->t_begin_ns), rig_ns_to_s(c->t_end_ns),
			 rig_ns_to_s(g->begin_ns), rig_ns_to_s(g->end_ns), before);
		return;
	}
}

/* run.json's "wire_simulator": 1 when rig found its own wire simulator
 * serving any instrument of the run, 0 when it asked and found none, -1
 * when the record does not say (a run made before rig asked). */
static int wire_simulator_recorded(const char *run_dir)
{
	char path[RIG_PATH_MAX + 16];
	json_t *root, *v;
	int r = -1;

	snprintf(path, sizeof(path), "%s/run.json", run_dir);
	root = json_load_file(path, 0, NULL);
	v = json_is_object(root) ? json_object_get(root, "wire_simulator") : NULL;
	if (json_is_boolean(v))
		r = json_is_true(v);
	json_decref(root);
	return r;
}

/* What the bench was: "simulated" when any instrument is an in-process
 * model (one simulated instrument, the pump above all, makes the whole
 * record a model's); "wire-simulated" when rig found its own wire
 * simulator answering for any instrument (run.json wire_simulator: what it
 * talked to, whatever the bench file says), or when the bench file keeps
 * one in lockstep (sim_clock); else "real".  A record from before rig
 * asked is judged by its bench file alone, as it was then. */
static const char *bench_kind(const char *run_dir, const struct bench *b)
{
	for (int role = 0; role < ROLE__COUNT; role++)
		if (b->instrument[role].present && strcmp(b->instrument[role].backend, "sim") == 0)
			return "simulated";
	if (b->sim_clock_uri[0] || wire_simulator_recorded(run_dir) == 1)
		return "wire-simulated";
	return "real";
}

/* Streams every sample to the checks, the evaporation fits and the
 * negative-step detector. */
struct stream_state {
	struct linfit *evap_fits;            /* one per measure_evaporation period */
	struct mass_step_detector steps;
	rig_ns *resets;                      /* commanded changes of flow, in order */
	size_t n_resets, next_reset;
	/* the boluses' spans not watched for falls (in_bolus_span), merged
	 * where they overlap, in order */
	struct period *quiet;
	size_t n_quiet, next_quiet;
	double step_floor_g;
};

static int cmp_ns(const void *a, const void *b)
{
	rig_ns x = *(const rig_ns *)a, y = *(const rig_ns *)b;

	return x < y ? -1 : x > y;
}

/* Every instant the flow into the vessel changes by command: rate changes,
 * boluses starting and ending, the valve, tares. */
static int collect_resets(const struct timeline *tl, struct stream_state *ss)
{
	size_t n = tl->n_rates + 2 * tl->n_boluses + tl->n_valve + tl->n_tares, k = 0;

	ss->resets = calloc(n + 1, sizeof(*ss->resets));
	if (!ss->resets)
		return -ENOMEM;
	for (size_t i = 0; i < tl->n_rates; i++)
		ss->resets[k++] = tl->rates[i].t_ns;
	for (size_t i = 0; i < tl->n_boluses; i++) {
		const struct bolus_cmd *b = &tl->boluses[i];

		ss->resets[k++] = b->t_ns;
		ss->resets[k++] = b->rate_ml_per_h > 0 ?
			b->t_ns + rig_s_to_ns(b->volume_ml / b->rate_ml_per_h * 3600) : b->t_ns;
	}
	for (size_t i = 0; i < tl->n_valve; i++)
		ss->resets[k++] = tl->valve[i].t_ns;
	for (size_t i = 0; i < tl->n_tares; i++)
		ss->resets[k++] = tl->tares[i];
	qsort(ss->resets, k, sizeof(*ss->resets), cmp_ns);
	ss->n_resets = k;
	return 0;
}

/* A bolus ends when the pump has delivered it, not at a command: a pump
 * that runs it short or slow stops its flow before or after the programmed
 * end, which is no disturbance of the vessel.  Its programmed span, half of
 * it again, and the line's settling (bolus_settle_ns()) are not watched for
 * falls: the spans, once, in time order, overlapping ones merged. */
static int collect_quiet(const struct timeline *tl, rig_ns settle_ns, struct stream_state *ss)
{
	ss->quiet = calloc(tl->n_boluses + 1, sizeof(*ss->quiet));
	if (!ss->quiet)
		return -ENOMEM;
	for (size_t i = 0; i < tl->n_boluses; i++) {
		const struct bolus_cmd *b = &tl->boluses[i];
		double run_s = b->rate_ml_per_h > 0 ? b->volume_ml / b->rate_ml_per_h * 3600 : 0;
		struct period p = { b->t_ns, b->t_ns + rig_s_to_ns(1.5 * run_s) + settle_ns };

		if (ss->n_quiet > 0 && p.begin_ns <= ss->quiet[ss->n_quiet - 1].end_ns) {
			if (p.end_ns > ss->quiet[ss->n_quiet - 1].end_ns)
				ss->quiet[ss->n_quiet - 1].end_ns = p.end_ns;
		} else {
			ss->quiet[ss->n_quiet++] = p;
		}
	}
	return 0;
}

/* Whether t lies in a bolus's span; t only grows from call to call. */
static bool in_bolus_span(struct stream_state *ss, rig_ns t_ns)
{
	while (ss->next_quiet < ss->n_quiet && ss->quiet[ss->next_quiet].end_ns < t_ns)
		ss->next_quiet++;
	return ss->next_quiet < ss->n_quiet && t_ns > ss->quiet[ss->next_quiet].begin_ns;
}

static void step_event(struct analysis_ctx *ax, struct stream_state *ss,
		       const struct mass_step *st);

/* A fall still waiting to be told from a change of flow is a step when the
 * trend is given up on. */
static void steps_reset(struct analysis_ctx *ax, struct stream_state *ss)
{
	struct mass_step step;

	if (mass_step_flush(&ss->steps, &step) == 1)
		step_event(ax, ss, &step);
	mass_step_reset(&ss->steps);
}

static void on_settled_mass(struct analysis_ctx *ax, struct stream_state *ss,
			    const struct sample *s)
{
	const struct timeline *tl = ax->tl;
	struct mass_step step;

	/* A commanded change of flow changes the trend: start afresh after it. */
	while (ss->next_reset < ss->n_resets && ss->resets[ss->next_reset] < s->t_ns) {
		steps_reset(ax, ss);
		ss->next_reset++;
	}
	if (in_bolus_span(ss, s->t_ns))
		steps_reset(ax, ss);
	else if (mass_step_add(&ss->steps, s->t_ns, s->value, &step) == 1)
		step_event(ax, ss, &step);
	for (size_t k = 0; k < tl->n_evaporation; k++) {
		const struct stopped_mark *p = &tl->evaporation[k];

		if (s->t_ns >= p->begin_ns && p->end_ns > 0 && s->t_ns <= p->end_ns) {
			linfit_add(&ss->evap_fits[k], s->t_ns, s->value);
			/* second differences within a period only */
			if (ax->stopped_noise_period != (int)k)
				ax->stopped_noise.n = 0;
			ax->stopped_noise_period = (int)k;
			noise_add(&ax->stopped_noise, s->value);
		}
	}
}

static void step_event(struct analysis_ctx *ax, struct stream_state *ss,
		       const struct mass_step *st)
{
	const struct mass_step step = *st;

	{
		results_event(ax->res, step.t_after_ns, "scale", "negative_mass_step",
			      "between t = %.1f s and t = %.1f s the balance changed by %+.4f mg "
			      "where its trend predicted %+.4f mg (more than %.3f mg less: the larger "
			      "of %.3f mg and 8 times its reading noise, %.4f mg): the vessel was "
			      "disturbed or liquid was lost; gravimetric results spanning it are not "
			      "used", rig_ns_to_s(step.t_before_ns),
			      rig_ns_to_s(step.t_after_ns), (step.after_g - step.before_g) * 1e3,
			      step.expected_change_g * 1e3, step.threshold_g * 1e3,
			      ss->step_floor_g * 1e3, step.noise_g * 1e3);
	}
}

/* The negative steps reported since event `from`, each counted against the
 * checks whose window holds it (by its own time: a step is confirmed a few
 * readings after it). */
static void count_steps(struct analysis_ctx *ax, struct check_state *states, size_t from)
{
	for (size_t e = from; e < ax->res->n_events; e++) {
		rig_ns t = ax->res->events[e].t_ns;

		if (strcmp(ax->res->events[e].kind, "negative_mass_step") != 0)
			continue;
		for (size_t i = 0; i < ax->res->n_checks; i++)
			if (t > ax->res->checks[i].t_begin_ns && t <= ax->res->checks[i].t_end_ns)
				states[i].n_mass_steps++;
	}
}

/* samples.csv of run_dir, opened once for both passes over it (the
 * measured conditions', then the checks'). */
static FILE *open_samples(const char *run_dir, char *err, size_t err_len, int *ret)
{
	char path[RIG_PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/samples.csv", run_dir);
	f = samples_open(run_dir);   /* or samples.csv.zst, once compressed */
	if (!f) {
		char why[128];
		struct stat st;

		*ret = -errno;
		/* name the file that was there: the compressed one when the plain
		 * one is not */
		if (lstat(path, &st) < 0 && errno == ENOENT)
			snprintf(path, sizeof(path), "%s/samples.csv.zst", run_dir);
		snprintf(err, err_len, "%s: cannot read: %s", path,
			 infile_strerror(path, *ret, why, sizeof(why)));
	}
	return f;
}

static int stream_samples(FILE *f, struct analysis_ctx *ax, struct stream_state *ss,
			  struct check_state *states, struct timeline *tl)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	for (size_t line_no = 1; (len = getline(&line, &cap, f)) > 0; line_no++) {
		struct sample s;
		struct sample_row row;
		enum sample_damage damage;
		const char *qty;
		bool settled_mass;
		size_t before;

		if (line[len - 1] != '\n') {
			tl->torn++;
			break;
		}
		line[len - 1] = '\0';
		if (line_no == 1 && !strcmp(line, SAMPLES_HEADER))
			continue;
		/* A row rig could not have written (a damaged record) is
		 * counted, reported and never judged. */
		damage = sample_row_parse(line, &row);
		if (damage != SAMPLE_ROW_OK) {
			results_damaged_row(ax->res, line_no, damage);
			continue;
		}
		qty = quantity_name(row.quantity);
		s = (struct sample){ .t_ns = row.t_ns, .role = (int)row.role, .quantity = qty,
				     .value = row.value, .flags = row.flags };
		ax->res->n_samples_total++;
		if (s.t_ns > tl->last_t_ns)
			tl->last_t_ns = s.t_ns;
		if (!isfinite(s.value))
			continue;
		/* A balance reading that has not settled is not used (it is kept
		 * in the record, flagged). */
		settled_mass = s.role == ROLE_SCALE && strcmp(qty, "mass") == 0 &&
			       !(s.flags & SAMPLE_UNSTABLE);
		before = ax->res->n_events;
		if (settled_mass)
			on_settled_mass(ax, ss, &s);
		count_steps(ax, states, before);
		if (s.role == ROLE_SCALE && !settled_mass)
			continue;
		for (size_t i = 0; i < ax->res->n_checks; i++)
			if (states[i].ops)
				states[i].ops->sample(ax, &ax->res->checks[i], &states[i], &s);
	}
	free(line);
	{
		/* a fall the record ends on is a step */
		struct mass_step step;
		size_t before = ax->res->n_events;

		if (mass_step_flush(&ss->steps, &step) == 1)
			step_event(ax, ss, &step);
		count_steps(ax, states, before);
	}
	return 0;
}

/* Each measure_evaporation period's slope: what the balance lost with the
 * pump stopped, evaporation and zero drift together.  A loss the bench's
 * statement does not explain (its evaporation correction and the balance's
 * drift, each with its stated uncertainty, beyond three combined standard
 * uncertainties) and a line that had not stopped draining are instrument
 * events: the loss measured is what the checks add back
 * (evaporation_for()), whatever the bench said.  The run's own figure
 * (results.json gravimetric) is the inverse-variance mean of every period's,
 * else the bench's stated rate. */
static int settle_stopped(struct analysis_ctx *ax, const struct stream_state *ss)
{
	const struct timeline *tl = ax->tl;
	const struct bench *bench = ax->bench;
	struct run_results *res = ax->res;
	double sw = 0, swe = 0;
	double u_stated = hypot(bench->evaporation_u_g_per_h,
				bench->instrument[ROLE_SCALE].cal.drift_u_per_h);
	size_t used = 0;

	res->stopped = calloc(tl->n_evaporation + 1, sizeof(*res->stopped));
	if (!res->stopped)
		return -ENOMEM;
	for (size_t k = 0; k < tl->n_evaporation; k++) {
		const struct stopped_mark *pm = &tl->evaporation[k];
		struct stopped_period *p = &res->stopped[res->n_stopped++];
		double slope, u;

		*p = (struct stopped_period){ .begin_ns = pm->begin_ns, .end_ns = pm->end_ns,
					      .n_readings = ss->evap_fits[k].n };
		if (pm->line_still == 0)
			results_event(res, pm->begin_ns, "scale", "line_not_still",
				      "the balance still rose %.0f s after the pump stopped (the line "
				      "draining, or a siphon): the measure_evaporation period from "
				      "t = %.0f s measured anyway, and its slope may hold the drain",
				      isfinite(pm->line_wait_s) ? pm->line_wait_s : 0,
				      rig_ns_to_s(pm->begin_ns));
		if (pm->end_ns <= 0 || linfit_slope(&ss->evap_fits[k], &slope, &u) < 0)
			continue;
		if (!(u > 0))
			u = 1e-9;
		p->fitted = true;
		p->loss_g_per_h = -slope;
		p->u_g_per_h = u;
		sw += 1 / (u * u);
		swe += -slope / (u * u);
		used++;
		if (fabs(p->loss_g_per_h - bench->evaporation_g_per_h) > 3 * hypot(u, u_stated))
			results_event(res, pm->end_ns, "scale", "stopped_loss_unexpected",
				      "from t = %.0f s to %.0f s, the pump stopped, the balance lost "
				      "%.4f +- %.4f mg/h where the bench states %.4f mg/h of evaporation "
				      "(+- %.4f) and a zero drift within +- %.4f mg/h: more than three "
				      "standard uncertainties apart.  The measured loss is what is added "
				      "back; check the vessel's oil layer, draughts and the balance's zero",
				      rig_ns_to_s(pm->begin_ns), rig_ns_to_s(pm->end_ns),
				      p->loss_g_per_h * 1e3, u * 1e3, bench->evaporation_g_per_h * 1e3,
				      bench->evaporation_u_g_per_h * 1e3,
				      bench->instrument[ROLE_SCALE].cal.drift_u_per_h * 1e3);
	}
	if (used > 0) {
		res->evaporation_g_per_h = swe / sw;
		res->u_evaporation_g_per_h = sqrt(1 / sw);
		snprintf(res->evaporation_source, sizeof(res->evaporation_source),
			 "measured: least-squares slope of the settled balance readings over %zu "
			 "measure_evaporation period(s) with the pump stopped (samples.csv, "
			 "events.jsonl); each check adds back the periods around its window", used);
	} else {
		res->evaporation_g_per_h = bench->evaporation_g_per_h;
		res->u_evaporation_g_per_h = u_stated;
		snprintf(res->evaporation_source, sizeof(res->evaporation_source),
			 "inputs/bench.cfg fluid.evaporation_correction (uncertainty: "
			 "evaporation_uncertainty and the balance's drift_uncertainty)%s",
			 tl->n_evaporation ?
			 "; the measure_evaporation period(s) had too few settled readings" : "");
	}
	return 0;
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

/* The one list of every check a sequence can ask for (check.h). */
static const struct check_ops *const checks[] = {
	&check_dose_ops,
	&check_flow_ops,
	&check_occlusion_ops,
	&check_battery_ops,
	&check_bolus_ops,
	&check_reservoir_ops,
};

const struct check_ops *check_ops_find(enum check_kind kind)
{
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (checks[i]->kind == kind)
			return checks[i];
	return NULL;
}

static int init_checks(struct analysis_ctx *ax, struct check_state *states)
{
	const struct sequence *seq = ax->seq;
	const struct timeline *tl = ax->tl;
	struct run_results *res = ax->res;

	for (size_t i = 0; i < seq->n_steps; i++) {
		const struct step *s = &seq->steps[i];
		struct check_result *c;
		struct check_state *st;
		int r = 0;

		if (s->kind != STEP_CHECK)
			continue;
		c = &res->checks[res->n_checks];
		st = &states[res->n_checks];
		memset(c, 0, sizeof(*c));
		st->step = s;
		snprintf(c->check, sizeof(c->check), "%s", check_kind_name(s->check));
		snprintf(c->window, sizeof(c->window), "%s", s->window);
		c->seq_line = s->line;
		c->rule = *device_rule_for(ax->dev, s->check);
		c->verdict = VERDICT_INCONCLUSIVE;
		c->u_expanded = NAN;
		for (size_t w = 0; w < tl->n_windows; w++) {
			if (strcmp(tl->windows[w].name, s->window) != 0)
				continue;
			if (tl->windows[w].begun)
				c->t_begin_ns = tl->windows[w].begin_ns;
			if (tl->windows[w].ended)
				c->t_end_ns = tl->windows[w].end_ns;
		}
		res->n_checks++;
		st->result = c;
		st->ops = check_ops_find(s->check);
		if (st->ops)
			r = st->ops->init(ax, c, st);
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}


int results_analyse(const char *run_dir, struct run_results **ret, char *err, size_t err_len)
{
	struct sequence *seq = NULL;
	struct bench *bench = NULL;
	struct device *dev = NULL;
	struct timeline tl = { 0 };
	struct check_state *states = NULL;
	struct run_results *res = NULL;
	struct stream_state ss = { 0 };
	struct analysis_ctx ax;
	FILE *samples = NULL;
	double u_rel_factor;
	size_t max_checks = 0;
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
	tl.bench_safe = -1;
	r = timeline_read(run_dir, &tl, seq->n_steps, err, err_len);
	if (r < 0)
		goto out;
	max_checks = seq->n_steps + tl.n_timeouts;
	res->checks = calloc(max_checks, sizeof(*res->checks));
	states = calloc(max_checks, sizeof(*states));
	ss.evap_fits = calloc(tl.n_evaporation + 1, sizeof(*ss.evap_fits));
	r = -ENOMEM;
	if (!res->checks || !states || !ss.evap_fits)
		goto out;
	for (size_t k = 0; k < tl.n_evaporation; k++)
		linfit_init(&ss.evap_fits[k]);
	snprintf(res->sequence_id, sizeof(res->sequence_id), "%s", seq->id);
	snprintf(res->sequence_title, sizeof(res->sequence_title), "%s", seq->title);
	snprintf(res->sequence_version, sizeof(res->sequence_version), "%s", seq->version);
	snprintf(res->protocol_id, sizeof(res->protocol_id), "%s", seq->protocol_id);
	snprintf(res->protocol_revision, sizeof(res->protocol_revision), "%s",
		 seq->protocol_revision);
	memcpy(res->standards, seq->standards, sizeof(res->standards));
	res->n_standards = seq->n_standards;
	snprintf(res->bench_id, sizeof(res->bench_id), "%s", bench->id);
	snprintf(res->bench_kind, sizeof(res->bench_kind), "%s", bench_kind(run_dir, bench));
	res->record_zstd = bench->record_zstd;
	snprintf(res->device_model, sizeof(res->device_model), "%s", dev->model);
	snprintf(res->device_serial, sizeof(res->device_serial), "%s", dev->serial);

	/* The gravimetric chain, the same for every check: from the conditions
	 * the bench measured, else from what it states. */
	samples = open_samples(run_dir, err, err_len, &r);
	if (!samples)
		goto out;
	conditions_read(samples, bench, res);
	rewind(samples);
	conditions_apply(bench, res, &u_rel_factor);
	ax = (struct analysis_ctx){
		.seq = seq, .bench = bench, .dev = dev, .tl = &tl, .res = res,
		.ml_per_g = res->ml_per_g,
		.u_read_cal_g = bench->instrument[ROLE_SCALE].cal.uncertainty,
		.u_rel_factor = u_rel_factor,
		.u_rel_span = bench->instrument[ROLE_SCALE].cal.gain_u_rel,
		.u_rel_clock = bench->clock_u_rel,
		.stopped_noise_period = -1,
	};
	/* A fall this far below the trend between two settled readings is no
	 * noise and no pulsatile delivery: 0.2 mg or two pump strokes, whichever
	 * is larger, or 8 times the balance's reading noise measured as the
	 * readings go (gravimetric.h) when that is larger still. */
	ss.step_floor_g = fmax(0.2e-3, 2 * dev->stroke_volume_ml / ax.ml_per_g);
	if (collect_resets(&tl, &ss) < 0) {
		r = -ENOMEM;
		goto out;
	}
	mass_step_init(&ss.steps, ss.step_floor_g);
	if (collect_quiet(&tl, bolus_settle_ns(bench), &ss) < 0) {
		r = -ENOMEM;
		goto out;
	}

	r = init_checks(&ax, states);
	if (r < 0)
		goto out;
	r = stream_samples(samples, &ax, &ss, states, &tl);
	if (r < 0)
		goto out;
	r = settle_stopped(&ax, &ss);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < res->n_checks; i++)
		if (states[i].ops) {
			states[i].ops->judge(&ax, &res->checks[i], &states[i]);
			decision_apply(&res->checks[i]);
		}
	for (size_t i = 0; i < res->n_checks; i++)
		judge_across_gaps(&tl, &res->checks[i]);
	for (size_t i = 0; i < tl.n_timeouts; i++)
		res->checks[res->n_checks++] = tl.timeouts[i];
	for (size_t i = 0; i < tl.n_gaps; i++)
		results_event(res, tl.gaps[i].t_ns, tl.gaps[i].role, tl.gaps[i].kind, "%s",
			      tl.gaps[i].description);
	conditions_flag(res, seq);

	res->status = !tl.ended ? RUN_INTERRUPTED : tl.aborted ? RUN_ABORTED : RUN_COMPLETED;
	if (tl.ended)
		snprintf(res->end_reason, sizeof(res->end_reason), "%s", tl.end_reason);
	else
		snprintf(res->end_reason, sizeof(res->end_reason),
			 "the record ends at t = %.3f s without a run_end event: the run was interrupted (crash, kill or power loss)",
			 rig_ns_to_s(tl.last_t_ns));
	res->end_t_ns = tl.last_t_ns;
	res->n_torn_lines = tl.torn;
	/* why it ended, for whoever decides what to do next (rig nightly) */
	snprintf(res->end_cause, sizeof(res->end_cause), "%s",
		 res->status == RUN_COMPLETED ? "" : res->status == RUN_INTERRUPTED ? "interrupted" :
		 tl.end_cause[0] ? tl.end_cause : "unknown");
	snprintf(res->ended_utc, sizeof(res->ended_utc), "%s", tl.ended_utc);
	res->bench_left_safe = tl.bench_safe;
	res->overall = VERDICT_PASS;
	for (size_t i = 0; i < res->n_checks; i++) {
		if (res->checks[i].verdict == VERDICT_FAIL)
			res->overall = VERDICT_FAIL;
		else if (res->checks[i].verdict == VERDICT_INCONCLUSIVE && res->overall == VERDICT_PASS)
			res->overall = VERDICT_INCONCLUSIVE;
	}
	if (res->status != RUN_COMPLETED && res->overall == VERDICT_PASS)
		res->overall = VERDICT_INCONCLUSIVE;
	/* No check, no verdict: a run that judged nothing has not passed. */
	if (res->n_checks == 0)
		res->overall = VERDICT_INCONCLUSIVE;
	r = results_deviations(run_dir, res);
	if (r < 0) {
		snprintf(err, err_len, "%s: cannot read the deviations: %s", run_dir, strerror(-r));
		goto out;
	}
	*ret = res;
	res = NULL;
	r = 0;
out:
	if (r == -ENOMEM)
		snprintf(err, err_len, "out of memory");
	for (size_t i = 0; states && i < max_checks; i++)
		if (states[i].ops)
			states[i].ops->free(states[i].priv);
	results_free(res);
	free(states);
	free(ss.evap_fits);
	free(ss.resets);
	free(ss.quiet);
	if (samples)
		fclose(samples);
	timeline_free(&tl);
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
	free(res->stopped);
	free(res);
}

void results_damaged_row(struct run_results *res, size_t line_no, enum sample_damage damage)
{
	if (res->n_damaged_rows < DAMAGED_ROWS_LISTED) {
		res->damaged[res->n_damaged_rows].line = line_no;
		res->damaged[res->n_damaged_rows].damage = damage;
	}
	res->n_damaged_rows++;
}

void results_damaged_text(const struct run_results *res, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < res->n_damaged_rows && i < DAMAGED_ROWS_LISTED && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%sline %zu (%s)", i ? ", " : "",
				 res->damaged[i].line, sample_damage_text(res->damaged[i].damage));

		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (res->n_damaged_rows > DAMAGED_ROWS_LISTED && used < len)
		snprintf(buf + used, len - used, ", ...");
}

const char *results_nothing_judged(const struct run_results *res)
{
	return res->n_checks == 0 ? "nothing was judged: the sequence has no checks" : "";
}

bool results_is_evidence(const struct run_results *res)
{
	return strcmp(res->bench_kind, "real") == 0;
}

const char *results_verdict_text(const struct run_results *res)
{
	if (res->status == RUN_ABORTED)
		return res->overall == VERDICT_FAIL ? "fail (run aborted)" :
						      "inconclusive (run aborted)";
	if (res->status == RUN_INTERRUPTED)
		return res->overall == VERDICT_FAIL ? "fail (run interrupted)" :
						      "inconclusive (run interrupted)";
	if (res->overall == VERDICT_PASS)
		return res->n_deviations > 0 ? "pass with deviations" : "pass";
	return verdict_name(res->overall);
}

int results_exit_status(const struct run_results *res)
{
	if (res->status != RUN_COMPLETED)
		return 3;
	return res->overall == VERDICT_PASS ? 0 : 1;
}

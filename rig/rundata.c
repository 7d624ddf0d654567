/* Reads a run directory and judges it.  Streaming: events are few (one per
 * command, mark, edge or fault), samples are read once, line by line, and
 * each check keeps a bounded amount of state, so memory does not grow with
 * the length of the run.  The checks themselves live in check_*.c. */
#include "results.h"

#include <errno.h>
#include <math.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder.h"
#include "results_internal.h"

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

#define FLAG_APPEND(arr, n, cap, value)                                              \
	do {                                                                        \
		r = grow((void **)&(arr), &(cap), (n), sizeof(*(arr)));            \
		if (r < 0)                                                          \
			goto out;                                                   \
		(arr)[(n)++] = (value);                                             \
	} while (0)

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
			FLAG_APPEND(tl->rates, tl->n_rates, tl->cap_rates,
				    ((struct rate_change){ t_ns, jnum(ev, "rate_ml_per_h") }));
			if (json_is_true(json_object_get(ev, "stop")))
				truncate_boluses(tl, t_ns);
		} else if (strcmp(name, "bolus") == 0) {
			FLAG_APPEND(tl->boluses, tl->n_boluses, tl->cap_boluses,
				    ((struct bolus_cmd){ t_ns, jnum(ev, "volume_ml"),
							 jnum(ev, "rate_ml_per_h") }));
		} else if (strcmp(name, "tare") == 0) {
			FLAG_APPEND(tl->tares, tl->n_tares, tl->cap_tares, t_ns);
		} else if (strcmp(name, "evaporation") == 0) {
			if (strcmp(jstr(ev, "edge"), "begin") == 0)
				FLAG_APPEND(tl->evaporation, tl->n_evaporation, tl->cap_evaporation,
					    ((struct period){ t_ns, -1 }));
			else if (tl->n_evaporation > 0)
				tl->evaporation[tl->n_evaporation - 1].end_ns = t_ns;
		} else if (strcmp(name, "valve") == 0) {
			FLAG_APPEND(tl->valve, tl->n_valve, tl->cap_valve,
				    ((struct t_flag){ t_ns, strcmp(jstr(ev, "state"), "closed") == 0,
						      strcmp(jstr(ev, "by"), "safety supervisor") == 0 }));
		} else if (strcmp(name, "alarm") == 0) {
			FLAG_APPEND(tl->alarm_line, tl->n_alarm_line, tl->cap_alarm_line,
				    ((struct t_flag){ t_ns, strcmp(jstr(ev, "edge"), "rising") == 0,
						      false }));
		} else if (strcmp(name, "pump_alarms") == 0) {
			FLAG_APPEND(tl->pump_occlusion, tl->n_pump_occlusion, tl->cap_pump_occlusion,
				    ((struct t_flag){ t_ns, json_is_true(json_object_get(ev, "occlusion")),
						      false }));
			FLAG_APPEND(tl->pump_low_battery, tl->n_pump_low_battery,
				    tl->cap_pump_low_battery,
				    ((struct t_flag){ t_ns,
						      json_is_true(json_object_get(ev, "low_battery")),
						      false }));
		} else if (strcmp(name, "instrument_recovered") == 0) {
			struct instrument_event g = { .t_ns = t_ns };

			snprintf(g.role, sizeof(g.role), "%s", jstr(ev, "role"));
			snprintf(g.kind, sizeof(g.kind), "instrument_gap");
			snprintf(g.description, sizeof(g.description),
				 "the %s did not answer from t = %.1f s for %.1f s and was reconnected "
				 "after %lld attempt(s) (bench reconnect); no readings in the gap",
				 jstr(ev, "role"), jnum(ev, "gap_begin_s"), jnum(ev, "gap_s"),
				 (long long)json_integer_value(json_object_get(ev, "attempts")));
			FLAG_APPEND(tl->gaps, tl->n_gaps, tl->cap_gaps, g);
		} else if (strcmp(name, "resume") == 0) {
			struct instrument_event g = { .t_ns = t_ns };
			double begin_s = jnum(ev, "gap_begin_s"), gap_s = jnum(ev, "gap_s");
			rig_ns begin_ns = rig_s_to_ns(begin_s);

			snprintf(g.role, sizeof(g.role), "run");
			snprintf(g.kind, sizeof(g.kind), "resume_gap");
			snprintf(g.description, sizeof(g.description),
				 "nothing was recorded from t = %.3f s for %.0f s (the run was interrupted "
				 "and continued by rig resume from step %lld; the bench was unwatched "
				 "meanwhile); checks whose window spans the gap are inconclusive",
				 begin_s, gap_s, (long long)json_integer_value(json_object_get(ev, "from_step")));
			FLAG_APPEND(tl->gaps, tl->n_gaps, tl->cap_gaps, g);
			FLAG_APPEND(tl->resume_gaps, tl->n_resume_gaps, tl->cap_resume_gaps,
				    ((struct period){ begin_ns, t_ns }));
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
			c->u_expanded = NAN;
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
		continue;
out:
		json_decref(ev);
		break;
	}
	free(line);
	fclose(f);
	if (r < 0)
		snprintf(err, err_len, "%s: %s", path, strerror(-r));
	return r;
}

static void timeline_free(struct timeline *tl)
{
	free(tl->rates);
	free(tl->boluses);
	free(tl->windows);
	free(tl->timeouts);
	free(tl->tares);
	free(tl->evaporation);
	free(tl->valve);
	free(tl->alarm_line);
	free(tl->pump_occlusion);
	free(tl->pump_low_battery);
	free(tl->gaps);
	free(tl->resume_gaps);
}

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

double timeline_rate_at(const struct timeline *tl, rig_ns t_ns)
{
	double rate = 0;

	for (size_t i = 0; i < tl->n_rates && tl->rates[i].t_ns <= t_ns; i++)
		rate = tl->rates[i].rate_ml_per_h;
	return rate;
}

bool timeline_bolus_at(const struct timeline *tl, rig_ns t_ns)
{
	for (size_t i = 0; i < tl->n_boluses; i++) {
		const struct bolus_cmd *b = &tl->boluses[i];

		if (b->rate_ml_per_h > 0 && t_ns >= b->t_ns &&
		    t_ns < b->t_ns + rig_s_to_ns(b->volume_ml / b->rate_ml_per_h * 3600))
			return true;
	}
	return false;
}

struct measurement *check_measure(struct check_result *c, const char *name, double value,
				  double u_expanded, const char *unit)
{
	struct measurement *m;

	if (c->n_m >= CHECK_MEASUREMENTS_MAX)
		return NULL;
	m = &c->m[c->n_m++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->value = value;
	m->u_expanded = u_expanded;
	snprintf(m->unit, sizeof(m->unit), "%s", unit);
	m->verdict = VERDICT_INCONCLUSIVE;
	return m;
}

void measure_limit(struct measurement *m, double low, double high)
{
	if (!m)
		return;
	m->has_limit = true;
	m->limit_low = low;
	m->limit_high = high;
	m->verdict = isfinite(m->value) && m->value >= low && m->value <= high ? VERDICT_PASS
									   : VERDICT_FAIL;
}

void results_event(struct run_results *res, rig_ns t_ns, const char *role, const char *kind,
		   const char *fmt, ...)
{
	struct instrument_event *ev;
	va_list ap;

	if (res->n_events >= INSTRUMENT_EVENTS_MAX) {
		res->n_events_dropped++;
		return;
	}
	ev = &res->events[res->n_events++];
	ev->t_ns = t_ns;
	snprintf(ev->role, sizeof(ev->role), "%s", role);
	snprintf(ev->kind, sizeof(ev->kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(ev->description, sizeof(ev->description), fmt, ap);
	va_end(ap);
}

void accuracy_limits(const struct analysis_ctx *ax, struct check_result *c,
		     const struct step *s, const char *quantity)
{
	double tol = s->tolerance_pct > 0 ? s->tolerance_pct : ax->dev->accuracy_tolerance_pct;

	snprintf(c->requirement, sizeof(c->requirement), "%s",
		 s->requirement[0] ? s->requirement : ax->dev->accuracy_requirement);
	c->limit_low = -tol;
	c->limit_high = tol;
	snprintf(c->unit, sizeof(c->unit), "%%");
	snprintf(c->criterion, sizeof(c->criterion), "%s <= %.3g %% (%s)", quantity, tol,
		 s->tolerance_pct > 0 ? "sequence" : "device accuracy.tolerance");
}

bool window_incomplete(struct check_result *c)
{
	if (c->t_end_ns > c->t_begin_ns)
		return false;
	snprintf(c->explanation, sizeof(c->explanation),
		 "window \"%s\" was not completed before the run ended", c->window);
	return true;
}

void noise_add(struct noise_est *ne, double w)
{
	if (ne->n >= 2) {
		double d = w - 2 * ne->w1 + ne->w2;

		ne->sum_d2 += d * d;
		ne->n_d++;
	}
	ne->w2 = ne->w1;
	ne->w1 = w;
	ne->n++;
}

double noise_sigma(const struct noise_est *ne)
{
	return ne->n_d ? sqrt(ne->sum_d2 / (double)ne->n_d / 6) : 0;
}

bool sample_line_parse(char *line, rig_ns *t_ns, char **role, char **qty, double *value,
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

/* Streams every sample to the checks, the evaporation fits and the
 * negative-step detector. */
struct stream_state {
	struct linfit *evap_fits;            /* one per measure_evaporation period */
	struct mass_step_detector steps;
	rig_ns *resets;                      /* commanded changes of flow, in order */
	size_t n_resets, next_reset;
	double step_threshold_g;
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

static void on_settled_mass(struct analysis_ctx *ax, struct stream_state *ss,
			    const struct sample *s)
{
	const struct timeline *tl = ax->tl;
	struct mass_step step;

	/* A commanded change of flow changes the trend: start afresh after it. */
	while (ss->next_reset < ss->n_resets && ss->resets[ss->next_reset] < s->t_ns) {
		mass_step_reset(&ss->steps);
		ss->next_reset++;
	}
	if (mass_step_add(&ss->steps, s->t_ns, s->value, &step) == 1) {
		results_event(ax->res, step.t_after_ns, "scale", "negative_mass_step",
			      "between t = %.1f s and t = %.1f s the balance changed by %+.4f mg "
			      "where its trend predicted %+.4f mg (more than %.3f mg less): the "
			      "vessel was disturbed or liquid was lost; gravimetric results spanning "
			      "it are not used", rig_ns_to_s(step.t_before_ns),
			      rig_ns_to_s(step.t_after_ns), (step.after_g - step.before_g) * 1e3,
			      step.expected_change_g * 1e3, ss->step_threshold_g * 1e3);
	}
	for (size_t k = 0; k < tl->n_evaporation; k++) {
		const struct period *p = &tl->evaporation[k];

		if (s->t_ns >= p->begin_ns && p->end_ns > 0 && s->t_ns <= p->end_ns)
			linfit_add(&ss->evap_fits[k], s->t_ns, s->value);
	}
}

static int stream_samples(const char *run_dir, struct analysis_ctx *ax, struct stream_state *ss,
			  struct check_state *states, struct timeline *tl, char *err,
			  size_t err_len)
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
		struct sample s;
		char *role, *qty;
		bool settled_mass;
		size_t before;

		if (line[len - 1] != '\n') {
			tl->torn++;
			break;
		}
		line[len - 1] = '\0';
		if (!sample_line_parse(line, &s.t_ns, &role, &qty, &s.value, &s.flags))
			continue;
		s.role = rig_role_from_name(role);
		s.quantity = qty;
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
		if (ax->res->n_events > before &&
		    strcmp(ax->res->events[ax->res->n_events - 1].kind, "negative_mass_step") == 0)
			for (size_t i = 0; i < ax->res->n_checks; i++)
				if (s.t_ns > ax->res->checks[i].t_begin_ns &&
				    s.t_ns <= ax->res->checks[i].t_end_ns)
					states[i].n_mass_steps++;
		if (s.role == ROLE_SCALE && !settled_mass)
			continue;
		for (size_t i = 0; i < ax->res->n_checks; i++) {
			struct check_result *c = &ax->res->checks[i];

			switch (states[i].step->check) {
			case CHECK_DOSE_ACCURACY: check_dose_sample(ax, c, &states[i], &s); break;
			case CHECK_FLOW_ACCURACY: check_flow_sample(ax, c, &states[i], &s); break;
			case CHECK_OCCLUSION: check_occlusion_sample(ax, c, &states[i], &s); break;
			case CHECK_BATTERY: check_battery_sample(ax, c, &states[i], &s); break;
			default: break;
			}
		}
	}
	free(line);
	fclose(f);
	return 0;
}

/* The evaporation added back: measured with the pump stopped when the
 * sequence did so (inverse-variance mean of the fitted slopes), else the
 * bench's stated rate, taken as uncertain by half its value (rectangular). */
static void settle_evaporation(struct analysis_ctx *ax, const struct stream_state *ss)
{
	const struct timeline *tl = ax->tl;
	struct run_results *res = ax->res;
	double sw = 0, swe = 0;
	size_t used = 0;

	for (size_t k = 0; k < tl->n_evaporation; k++) {
		double slope, u;

		if (linfit_slope(&ss->evap_fits[k], &slope, &u) < 0)
			continue;
		if (!(u > 0))
			u = 1e-9;
		sw += 1 / (u * u);
		swe += -slope / (u * u);
		used++;
	}
	if (used > 0) {
		ax->e_g_per_h = swe / sw;
		ax->u_e_g_per_h = sqrt(1 / sw);
		snprintf(res->evaporation_source, sizeof(res->evaporation_source),
			 "measured: least-squares slope of the settled balance readings over %zu "
			 "measure_evaporation period(s) with the pump stopped (samples.csv, "
			 "events.jsonl)", used);
	} else {
		ax->e_g_per_h = ax->bench->evaporation_g_per_h;
		ax->u_e_g_per_h = 0.5 * ax->e_g_per_h / sqrt(3);
		snprintf(res->evaporation_source, sizeof(res->evaporation_source),
			 "inputs/bench.cfg fluid.evaporation_correction (taken as uncertain by "
			 "+-50 %%, rectangular)%s", tl->n_evaporation ?
			 "; the measure_evaporation period(s) had too few settled readings" : "");
	}
	res->evaporation_g_per_h = ax->e_g_per_h;
	res->u_evaporation_g_per_h = ax->u_e_g_per_h;
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
		switch (s->check) {
		case CHECK_DOSE_ACCURACY: r = check_dose_init(ax, c, st); break;
		case CHECK_FLOW_ACCURACY: r = check_flow_init(ax, c, st); break;
		case CHECK_OCCLUSION: r = check_occlusion_init(ax, c, st); break;
		case CHECK_BATTERY: r = check_battery_init(ax, c, st); break;
		default: break;
		}
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

void check_state_free(struct check_state *st)
{
	flow_free(st->flow);
	flow_free(st->startup);
	free(st->modes);
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
	r = read_events(run_dir, &tl, seq->n_steps, err, err_len);
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
	snprintf(res->bench_id, sizeof(res->bench_id), "%s", bench->id);
	snprintf(res->device_model, sizeof(res->device_model), "%s", dev->model);
	snprintf(res->device_serial, sizeof(res->device_serial), "%s", dev->serial);

	/* The gravimetric chain, the same for every check. */
	res->density_g_per_ml = bench->density_g_per_ml;
	if (bench->density_given)
		snprintf(res->density_source, sizeof(res->density_source),
			 "inputs/bench.cfg fluid.density");
	else
		snprintf(res->density_source, sizeof(res->density_source),
			 "water at %.2f degC (inputs/bench.cfg fluid.temperature), Tanaka et al. 2001",
			 bench->fluid_temperature_c);
	res->ml_per_g = buoyancy_ml_per_g(bench->density_g_per_ml * 1000,
					  bench->air_density_g_per_ml * 1000,
					  RHO_REFERENCE_WEIGHTS_KG_PER_M3);
	ax = (struct analysis_ctx){
		.seq = seq, .bench = bench, .dev = dev, .tl = &tl, .res = res,
		.ml_per_g = res->ml_per_g,
		.u_read_cal_g = bench->instrument[ROLE_SCALE].cal.uncertainty,
	};
	/* A fall this far below the trend between two settled readings is no
	 * noise and no pulsatile delivery: 0.2 mg, 8 times the stated reading
	 * uncertainty, or two pump strokes, whichever is largest. */
	ss.step_threshold_g = fmax(fmax(0.2e-3, 8 * ax.u_read_cal_g),
				   2 * dev->stroke_volume_ml / ax.ml_per_g);
	if (collect_resets(&tl, &ss) < 0) {
		r = -ENOMEM;
		goto out;
	}
	mass_step_init(&ss.steps, ss.step_threshold_g);

	r = init_checks(&ax, states);
	if (r < 0)
		goto out;
	r = stream_samples(run_dir, &ax, &ss, states, &tl, err, err_len);
	if (r < 0)
		goto out;
	settle_evaporation(&ax, &ss);
	for (size_t i = 0; i < res->n_checks; i++) {
		struct check_result *c = &res->checks[i];

		switch (states[i].step->check) {
		case CHECK_DOSE_ACCURACY: check_dose_judge(&ax, c, &states[i]); break;
		case CHECK_FLOW_ACCURACY: check_flow_judge(&ax, c, &states[i]); break;
		case CHECK_OCCLUSION: check_occlusion_judge(&ax, c, &states[i]); break;
		case CHECK_BATTERY: check_battery_judge(&ax, c, &states[i]); break;
		default: break;
		}
	}
	for (size_t i = 0; i < res->n_checks; i++)
		judge_across_gaps(&tl, &res->checks[i]);
	for (size_t i = 0; i < tl.n_timeouts; i++)
		res->checks[res->n_checks++] = tl.timeouts[i];
	for (size_t i = 0; i < tl.n_gaps; i++)
		results_event(res, tl.gaps[i].t_ns, tl.gaps[i].role, tl.gaps[i].kind, "%s",
			      tl.gaps[i].description);

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
	for (size_t i = 0; states && i < max_checks; i++)
		check_state_free(&states[i]);
	results_free(res);
	free(states);
	free(ss.evap_fits);
	free(ss.resets);
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
	free(res);
}

int results_exit_status(const struct run_results *res)
{
	if (res->status != RUN_COMPLETED)
		return 3;
	return res->overall == VERDICT_PASS ? 0 : 1;
}

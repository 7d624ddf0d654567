/* The report's plots: volume, flow, pressure and power against time, the
 * start-up and trumpet curves, read from samples.csv in one decimating pass
 * (report_data.c) so their memory does not grow with the run.
 *
 * Each plot shows the judgment, not only the data: the windows the checks
 * judged are shaded and named, what was programmed (rate and volume) is
 * drawn beside what was measured, the limits beside the trumpet curve, the
 * set rate beside the start-up curve, and an abort where it happened.  A
 * plot without data is not drawn: the section says in a line what is
 * missing and why. */
#include "report_doc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports.h"

static const double C_BLUE[3] = { 0.12, 0.35, 0.70 };
static const double C_RED[3] = { 0.80, 0.15, 0.10 };
static const double C_GREEN[3] = { 0.10, 0.55, 0.25 };
static const double C_ORANGE[3] = { 0.90, 0.50, 0.05 };
static const double C_GREY[3] = { 0.35, 0.35, 0.35 };
static const double C_PURPLE[3] = { 0.50, 0.20, 0.60 };
/* the shaded windows, in turn */
static const double C_WINDOWS[][3] = {
	{ 0.15, 0.45, 0.75 }, { 0.85, 0.55, 0.10 }, { 0.20, 0.60, 0.35 }, { 0.60, 0.30, 0.65 },
};

/* ------------------------------------------------- what was programmed -- */

/* When bolus b stops delivering: its volume at its rate, or a stop command
 * before that (as the judge's timeline truncates it). */
static rig_ns bolus_end(const struct report_data *d, size_t b)
{
	rig_ns t = d->bolus_t_ns[b], end = t;

	if (d->bolus_rate_ml_per_h[b] > 0)
		end = t + rig_s_to_ns(d->bolus_ml[b] / d->bolus_rate_ml_per_h[b] * 3600);
	for (size_t k = 0; k < d->n_rates; k++)
		if (d->rate_stop[k] && d->rate_t_ns[k] > t && d->rate_t_ns[k] < end)
			end = d->rate_t_ns[k];
	return end;
}

/* The rate programmed at t: the basal rate set, plus every bolus or prime
 * delivering then. */
static double programmed_rate(const struct report_data *d, rig_ns t)
{
	double rate = 0;

	for (size_t k = 0; k < d->n_rates && d->rate_t_ns[k] <= t; k++)
		rate = d->rate_ml_per_h[k];
	for (size_t b = 0; b < d->n_boluses; b++)
		if (t >= d->bolus_t_ns[b] && t < bolus_end(d, b))
			rate += d->bolus_rate_ml_per_h[b];
	return rate;
}

static double overlap_h(rig_ns a0, rig_ns a1, rig_ns b0, rig_ns b1)
{
	rig_ns lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;

	return hi > lo ? rig_ns_to_h(hi - lo) : 0;
}

/* The volume programmed from t0 to t1 (mL). */
static double programmed_volume(const struct report_data *d, rig_ns t0, rig_ns t1)
{
	double v = 0;

	for (size_t k = 0; k < d->n_rates; k++) {
		rig_ns end = k + 1 < d->n_rates ? d->rate_t_ns[k + 1] : INT64_MAX;

		v += d->rate_ml_per_h[k] * overlap_h(d->rate_t_ns[k], end, t0, t1);
	}
	for (size_t b = 0; b < d->n_boluses; b++)
		v += d->bolus_rate_ml_per_h[b] * overlap_h(d->bolus_t_ns[b], bolus_end(d, b), t0, t1);
	return v;
}

static int cmp_ns(const void *a, const void *b)
{
	rig_ns x = *(const rig_ns *)a, y = *(const rig_ns *)b;

	return x < y ? -1 : x > y;
}

/* The programmed rate as a staircase: every instant it changes (a rate
 * command, a bolus's start and end).  False when it does not fit. */
static bool rate_staircase(const struct report_data *d, const struct run_results *res,
			   struct plot_line *l, double unit_ns)
{
	rig_ns t[3 * REPORT_RATES_MAX + 1];
	size_t n = 0;
	double prev = 0;

	for (size_t k = 0; k < d->n_rates; k++)
		t[n++] = d->rate_t_ns[k];
	for (size_t b = 0; b < d->n_boluses; b++) {
		t[n++] = d->bolus_t_ns[b];
		t[n++] = bolus_end(d, b);
	}
	qsort(t, n, sizeof(t[0]), cmp_ns);
	for (size_t k = 0; k < n; k++) {
		double now;

		if (k > 0 && t[k] == t[k - 1])
			continue;
		now = programmed_rate(d, t[k]);
		if (l->n_xy + 3 > PLOT_XY_MAX)
			return false;
		l->xs[l->n_xy] = (double)t[k] / unit_ns;
		l->ys[l->n_xy++] = prev;
		l->xs[l->n_xy] = (double)t[k] / unit_ns;
		l->ys[l->n_xy++] = now;
		prev = now;
	}
	l->xs[l->n_xy] = (double)res->end_t_ns / unit_ns;
	l->ys[l->n_xy++] = prev;
	return true;
}

/* ------------------------------------------------- on every time plot -- */

static const struct report_window *window_named(const struct report_data *d, const char *name)
{
	for (size_t i = 0; i < d->n_windows; i++)
		if (strcmp(d->windows[i].name, name) == 0)
			return &d->windows[i];
	return NULL;
}

static const char *startup_window_of(const struct report_data *d, const struct check_result *c)
{
	for (size_t k = 0; k < d->seq->n_steps; k++)
		if (d->seq->steps[k].line == c->seq_line && d->seq->steps[k].kind == STEP_CHECK)
			return d->seq->steps[k].startup_window;
	return "";
}

/* The judged windows shaded and named ("3 dose_max"), a flow check's
 * start-up window too, and the abort or the record's end where the run
 * did not complete. */
static void judgment_marks(struct plot *p, const struct run_results *res,
			   const struct report_data *d, double unit_ns)
{
	size_t n = 0;

	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];
		const struct report_window *sw = window_named(d, startup_window_of(d, c));
		char label[RIG_ID_MAX + 24];

		if (c->t_end_ns > c->t_begin_ns) {
			snprintf(label, sizeof(label), "%zu %s", i + 1, c->window);
			plot_add_span(p, (double)c->t_begin_ns / unit_ns, (double)c->t_end_ns / unit_ns,
				      label, C_WINDOWS[n++ % 4]);
		}
		if (strcmp(c->check, "flow_accuracy") == 0 && sw && sw->begun && sw->ended) {
			snprintf(label, sizeof(label), "%zu %s", i + 1, sw->name);
			plot_add_span(p, (double)sw->begin_ns / unit_ns, (double)sw->end_ns / unit_ns,
				      label, C_WINDOWS[n++ % 4]);
		}
	}
	if (res->status == RUN_ABORTED && d->aborted)
		plot_add_mark(p, (double)d->t_abort_ns / unit_ns, PLOT_MARK_ALERT, "run aborted", C_RED);
	else if (res->status == RUN_INTERRUPTED)
		plot_add_mark(p, (double)res->end_t_ns / unit_ns, PLOT_MARK_DASHED, "record ends",
			      C_RED);
}

/* A time plot's frame: axes, units, what the windows and marks need. */
static struct plot *time_plot(struct report_doc *doc, const struct run_results *res,
			      const struct report_data *d, struct time_axis ta, const char *title,
			      const char *y_title, const char *y_unit)
{
	struct plot *p = doc_plot(doc);

	if (!p)
		return NULL;
	snprintf(p->title, sizeof(p->title), "%s", title);
	snprintf(p->x_title, sizeof(p->x_title), "run time (%s)", ta.name);
	snprintf(p->x_unit_name, sizeof(p->x_unit_name), "%s", ta.name);
	snprintf(p->y_title, sizeof(p->y_title), "%s (%s)", y_title, y_unit);
	snprintf(p->y_unit_name, sizeof(p->y_unit_name), "%s", y_unit);
	p->x_unit_ns = ta.unit_ns;
	judgment_marks(p, res, d, ta.unit_ns);
	return p;
}

/* Flow from the balance: the change of the plotted volume between
 * neighbouring bins over the time between them (pairs of bins when there
 * are more bins than plot points).  A bin may be empty where the bins are
 * narrower than the balance's period; only a longer silence (five bins or
 * five mean reading spacings) is a gap, where the line lifts. */
static void balance_flow(const struct series *v, struct plot_line *l, double x_unit_ns)
{
	size_t stride = v->n_bins / PLOT_XY_MAX + 1;
	bool have_prev = false;
	double prev_t = 0, prev_v = 0, t_first = 0, t_last = 0, gap_ns;
	bool seen = false;

	for (size_t i = 0; i < v->n_bins; i++) {
		if (!v->bins[i].count)
			continue;
		if (!seen)
			t_first = (double)v->bins[i].t_first_ns;
		t_last = (double)v->bins[i].t_last_ns;
		seen = true;
	}
	gap_ns = 5 * fmax((double)v->bin_ns * (double)stride,
			  v->n_samples > 1 ? (t_last - t_first) / (double)(v->n_samples - 1) : 0);
	/* room for a point and a gap marker per step */
	for (size_t i = 0; i < v->n_bins && l->n_xy + 1 < PLOT_XY_MAX; i += stride) {
		double sum = 0, n = 0, t_sum = 0, t;

		for (size_t k = i; k < i + stride && k < v->n_bins; k++) {
			const struct series_bin *b = &v->bins[k];

			if (!b->count)
				continue;
			sum += b->sum;
			t_sum += ((double)b->t_first_ns + (double)b->t_last_ns) / 2 * b->count;
			n += b->count;
		}
		if (n == 0)
			continue;
		t = t_sum / n;
		if (have_prev && t - prev_t > gap_ns) {
			l->xs[l->n_xy] = prev_t / x_unit_ns;
			l->ys[l->n_xy++] = NAN;
		} else if (have_prev && t > prev_t) {
			l->xs[l->n_xy] = (t + prev_t) / 2 / x_unit_ns;
			l->ys[l->n_xy++] = (sum / n - prev_v) / ((t - prev_t) / 3.6e12);
		}
		have_prev = true;
		prev_t = t;
		prev_v = sum / n;
	}
}

/* ------------------------------------------------------------ the plots -- */

/* Plots without data, said in one line at the end of the section. */
struct absent {
	char text[1024];
};

/* Keeps the plot just added when it has data; else drops it and notes why. */
static void keep_or_say(struct report_doc *doc, struct plot *p, struct absent *a)
{
	size_t used = strlen(a->text);

	if (!p || plot_has_data(p))
		return;
	snprintf(a->text + used, sizeof(a->text) - used, "%s%s", used ? "; " : "", p->absent);
	doc_drop_last(doc);
}

static void plot_volume(struct report_doc *doc, const struct run_results *res,
			const struct report_data *d, struct time_axis ta, struct absent *a)
{
	struct plot *p = time_plot(doc, res, d, ta, "Delivered and programmed volume", "volume",
				   "mL");
	struct plot_line *l;

	if (!p)
		return;
	p->y_include_zero = true;
	plot_add_series(p, &d->volume_ml, 1, "delivered (balance, gravimetric chain)", C_BLUE);
	/* what was programmed from the same first reading on */
	l = d->volume_ml.n_samples && !d->rates_truncated ?
		plot_add_xy(p, PLOT_DASHED, "programmed (rate and bolus commands)", C_GREY) : NULL;
	for (size_t k = 0; l && k < PLOT_XY_MAX; k++) {
		rig_ns t = d->volume_t0_ns + (rig_ns)((double)(res->end_t_ns - d->volume_t0_ns) *
						      (double)k / (PLOT_XY_MAX - 1));

		l->xs[l->n_xy] = (double)t / ta.unit_ns;
		l->ys[l->n_xy++] = programmed_volume(d, d->volume_t0_ns, t);
	}
	if (l)
		l->exact = true;
	snprintf(p->note, sizeof(p->note),
		 "settled readings × %.7f mL/g + evaporation; %zu tare(s) bridged%s%s%s",
		 res->ml_per_g, d->n_tares_bridged, d->n_tares_bridged ? " (at " : "",
		 d->tares_bridged_at, d->n_tares_bridged ? " h; events.jsonl tare)" : "");
	snprintf(p->absent, sizeof(p->absent), "volume: no settled balance readings in samples.csv");
	keep_or_say(doc, p, a);
}

static void plot_flow(struct report_doc *doc, const struct run_results *res,
		      const struct report_data *d, struct time_axis ta, struct absent *a)
{
	struct plot *p = time_plot(doc, res, d, ta, "Flow", "flow", "mL/h");
	struct plot_line *l;
	bool staircase = false;

	if (!p)
		return;
	p->y_include_zero = true;
	p->y_robust = true;
	plot_add_series(p, &d->flow_ml_per_h, 1, "flow sensor", C_GREEN);
	l = plot_add_xy(p, PLOT_LINE, "balance (volume change per plotted bin)", C_BLUE);
	if (l)
		balance_flow(&d->volume_ml, l, ta.unit_ns);
	/* what was programmed: basal rate plus boluses and primes */
	l = (d->n_rates || d->n_boluses) && !d->rates_truncated ?
		plot_add_xy(p, PLOT_DASHED, "programmed rate", C_GREY) : NULL;
	if (l) {
		l->exact = true;
		staircase = rate_staircase(d, res, l, ta.unit_ns);
		if (!staircase)
			p->n_lines--;
	}
	if (!staircase && (d->n_rates || d->n_boluses))
		snprintf(p->note, sizeof(p->note), "the programmed rate is not drawn: more commands "
			 "than the plot holds (events.jsonl rate, bolus)");
	snprintf(p->absent, sizeof(p->absent), "flow: no flow sensor or balance readings in samples.csv");
	keep_or_say(doc, p, a);
}

/* A horizontal line across the whole x range of a plot, for a limit. */
static void limit_line(struct plot *p, double x0, double x1, double y, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void limit_line(struct plot *p, double x0, double x1, double y, const char *fmt, ...)
{
	struct plot_line *l = plot_add_xy(p, PLOT_DASHED, "", C_RED);
	va_list ap;

	if (!l)
		return;
	va_start(ap, fmt);
	vsnprintf(l->label, sizeof(l->label), fmt, ap);
	va_end(ap);
	l->xs[0] = x0;
	l->xs[1] = x1;
	l->ys[0] = l->ys[1] = y;
	l->n_xy = 2;
	l->exact = true;
}

static void plot_trumpet(struct report_doc *doc, size_t i, const struct check_result *c,
			 const struct report_data *d, struct absent *a)
{
	struct plot *p = doc_plot(doc);
	struct plot_line *hi, *lo, *mean_line;
	double p_min = INFINITY, p_max = -INFINITY, mean = NAN;

	if (!p)
		return;
	snprintf(p->title, sizeof(p->title), "Trumpet curve (check %zu, window %s)", i + 1,
		 c->window);
	snprintf(p->x_title, sizeof(p->x_title), "observation window P (min)");
	snprintf(p->y_title, sizeof(p->y_title), "flow error (%%)");
	p->x_unit_ns = 1;
	p->y_include_zero = true;
	hi = plot_add_xy(p, PLOT_POINTS, "Ep(max)", C_RED);
	lo = plot_add_xy(p, PLOT_POINTS, "Ep(min)", C_BLUE);
	for (size_t k = 0; k < c->n_m && hi && lo; k++) {
		const struct measurement *m = &c->m[k];
		struct plot_line *into = NULL;
		const char *num = NULL;
		char *end;
		double minutes;

		if (strncmp(m->name, "Ep_max_", 7) == 0) {
			into = hi;
			num = m->name + 7;
		} else if (strncmp(m->name, "Ep_min_", 7) == 0) {
			into = lo;
			num = m->name + 7;
		} else if (strcmp(m->name, "A") == 0) {
			mean = m->value;
		}
		if (!into || !isfinite(m->value))
			continue;
		minutes = strtod(num, &end);
		if (end == num || strcmp(end, "min") != 0 || into->n_xy >= PLOT_XY_MAX)
			continue;
		into->xs[into->n_xy] = minutes;
		into->ys[into->n_xy++] = m->value;
		p_min = fmin(p_min, minutes);
		p_max = fmax(p_max, minutes);
	}
	/* a pair of points is no curve; with only A the plot says so */
	if (hi && hi->n_xy == 0 && lo && lo->n_xy == 0)
		p->n_lines = 0;
	if (p->n_lines && isfinite(mean) && p_max >= p_min) {
		mean_line = plot_add_xy(p, PLOT_DASHED, "", C_GREY);
		if (mean_line) {
			snprintf(mean_line->label, sizeof(mean_line->label), "mean error A = %.3f %%", mean);
			mean_line->xs[0] = p_min;
			mean_line->ys[0] = mean;
			mean_line->xs[1] = p_max;
			mean_line->ys[1] = mean;
			mean_line->n_xy = 2;
		}
	}
	/* the specification's limits on Ep, from the device file */
	if (p->n_lines && p_max >= p_min && d->dev->has_flow) {
		if (d->dev->has_ep_max)
			limit_line(p, 0, p_max * 1.05, d->dev->ep_max_pct, "Ep(max) limit %+.3g %% (%s)",
				   d->dev->ep_max_pct, d->dev->ep_max_requirement);
		if (d->dev->has_ep_min)
			limit_line(p, 0, p_max * 1.05, d->dev->ep_min_pct, "Ep(min) limit %+.3g %% (%s)",
				   d->dev->ep_min_pct, d->dev->ep_min_requirement);
	}
	if (p_max >= p_min) {
		/* from P = 0, so the shortest window is not on the frame */
		p->have_x_range = true;
		p->x_min = 0;
		p->x_max = p_max * 1.05;
	}
	snprintf(p->note, sizeof(p->note), "results: check %zu measurements Ep_max_*, Ep_min_*, A; "
		 "limits: device flow_accuracy", i + 1);
	snprintf(p->absent, sizeof(p->absent),
		 "trumpet curve of check %zu: the check could not compute Ep (%s)", i + 1,
		 verdict_name(c->verdict));
	keep_or_say(doc, p, a);
}

static void plot_startup(struct report_doc *doc, size_t i, const struct check_result *c,
			 const struct report_data *d, struct absent *a)
{
	struct plot *p = doc_plot(doc);
	const char *sw = startup_window_of(d, c);
	struct plot_line *l;

	if (!p)
		return;
	/* the start-up curve is the check's startup_window, not its trumpet
	 * window: the title names it, from the sequence step */
	if (sw[0])
		snprintf(p->title, sizeof(p->title), "Start-up curve (check %zu, window %s)", i + 1, sw);
	else
		snprintf(p->title, sizeof(p->title), "Start-up curve (check %zu)", i + 1);
	snprintf(p->x_title, sizeof(p->x_title), "time from the start-up window's begin (min)");
	snprintf(p->y_title, sizeof(p->y_title), "flow (mL/h)");
	p->x_unit_ns = 1;
	p->y_include_zero = true;
	l = plot_add_xy(p, PLOT_LINE, "Q_i from the balance", C_BLUE);
	for (size_t k = 0; l && k < c->n_curve && k < PLOT_XY_MAX; k++) {
		l->xs[k] = c->curve_t_s[k] / 60;
		l->ys[k] = c->curve_q_ml_per_h[k];
		l->n_xy++;
	}
	if (l && l->n_xy > 0 && l->xs[l->n_xy - 1] > 0) {
		p->have_x_range = true;
		p->x_min = 0;
		p->x_max = l->xs[l->n_xy - 1];
		if (c->set_rate_ml_per_h > 0) {
			struct plot_line *r = plot_add_xy(p, PLOT_DASHED, "", C_GREY);

			if (r) {
				snprintf(r->label, sizeof(r->label), "set rate %.4g mL/h",
					 c->set_rate_ml_per_h);
				r->xs[0] = 0;
				r->xs[1] = p->x_max;
				r->ys[0] = r->ys[1] = c->set_rate_ml_per_h;
				r->n_xy = 2;
				r->exact = true;
			}
		}
	}
	snprintf(p->note, sizeof(p->note), "results: check %zu startup_curve", i + 1);
	snprintf(p->absent, sizeof(p->absent), "start-up curve of check %zu: no startup_window, or "
		 "it was not completed", i + 1);
	keep_or_say(doc, p, a);
}

static void plot_pressure(struct report_doc *doc, const struct run_results *res,
			  const struct report_data *d, struct absent *a)
{
	struct time_axis pa = doc_time_axis(d->pressure_to_ns - d->pressure_kpa.t0_ns);
	struct plot *p = doc_plot(doc);

	if (!p)
		return;
	snprintf(p->title, sizeof(p->title), "Line pressure%s",
		 d->have_occlusion ? " through the occlusion" : "");
	p->x_unit_ns = pa.unit_ns;
	if (d->have_occlusion) {
		p->x_origin_ns = d->t_close_ns;
		snprintf(p->x_title, sizeof(p->x_title), "time from the valve closing (%s)", pa.name);
		plot_add_mark(p, 0, PLOT_MARK_DASHED, "valve closed", C_GREY);
		/* The alarm is the pump's doing, not the sequence's: its own
		 * style, labelled with its time from the closing, from the same
		 * event as its place (the occlusion check's time_to_alarm takes
		 * that edge too). */
		if (d->have_alarm) {
			char label[48];

			snprintf(label, sizeof(label), "alarm %.1f s",
				 rig_ns_to_s(d->t_alarm_ns - d->t_close_ns));
			plot_add_mark(p, (double)(d->t_alarm_ns - d->t_close_ns) / pa.unit_ns,
				      PLOT_MARK_ALERT, label, C_RED);
		}
		if (d->have_release)
			plot_add_mark(p, (double)(d->t_release_ns - d->t_close_ns) / pa.unit_ns,
				      PLOT_MARK_DASHED, "released", C_GREEN);
		snprintf(p->note, sizeof(p->note), "the valve closed at t = %.1f s of run time%s",
			 rig_ns_to_s(d->t_close_ns),
			 d->have_alarm ? "" : "; no alarm was recorded after it");
	} else {
		snprintf(p->x_title, sizeof(p->x_title), "run time (%s)", pa.name);
		judgment_marks(p, res, d, pa.unit_ns);
	}
	snprintf(p->y_title, sizeof(p->y_title), "pressure (kPa)");
	p->y_include_zero = true;
	plot_add_series(p, &d->pressure_kpa, 1, "line pressure", C_PURPLE);
	/* the device's limit on the pressure at the alarm, across the plot, so
	 * that the margin to it is seen */
	if (d->have_occlusion && d->dev->occlusion_pressure_max_kpa > 0 && plot_has_data(p))
		limit_line(p, (double)(d->pressure_kpa.t0_ns - d->t_close_ns) / pa.unit_ns,
			   (double)(d->pressure_to_ns - d->t_close_ns) / pa.unit_ns,
			   d->dev->occlusion_pressure_max_kpa,
			   "alarm pressure limit %.4g kPa (device.cfg)", d->dev->occlusion_pressure_max_kpa);
	snprintf(p->absent, sizeof(p->absent), "line pressure: no pressure readings in samples.csv");
	keep_or_say(doc, p, a);
}

/* A battery's voltage falls by millivolts over a run: an axis of its own
 * span would make that look like a collapse.  At least this much. */
#define VOLTAGE_SPAN_MIN_V 0.2

void section_plots(struct report_doc *doc, const struct run_results *res,
		   const struct report_data *d)
{
	struct time_axis ta = doc_time_axis(res->end_t_ns);
	struct absent a = { "" };
	bool any_flow_check = false;
	struct plot *p;

	doc_text(doc, DB_H1, DS_NORMAL, "6  Plots");
	doc_text(doc, DB_PARA, DS_SMALL,
		 "Drawn from samples.csv, read once into %d time bins per series (merged pairwise "
		 "as the record grows): the line is the mean of each bin, the light band its "
		 "minimum and maximum. Shaded and numbered: the window each check judged; dashed "
		 "grey: what was programmed; dashed red: a limit.", SERIES_BINS);
	plot_volume(doc, res, d, ta, &a);
	plot_flow(doc, res, d, ta, &a);
	for (size_t i = 0; i < res->n_checks; i++) {
		if (strcmp(res->checks[i].check, "flow_accuracy") != 0)
			continue;
		any_flow_check = true;
		plot_trumpet(doc, i, &res->checks[i], d, &a);
		plot_startup(doc, i, &res->checks[i], d, &a);
	}
	if (!any_flow_check) {
		size_t used = strlen(a.text);

		snprintf(a.text + used, sizeof(a.text) - used, "%sno trumpet curve: the sequence has "
			 "no flow_accuracy check", used ? "; " : "");
	}
	plot_pressure(doc, res, d, &a);
	p = time_plot(doc, res, d, ta, "Battery current", "current", "µA");
	if (p) {
		p->y_include_zero = true;
		p->y_robust = true;
		plot_add_series(p, &d->current_ua, 1, "supply current (power monitor)", C_ORANGE);
		snprintf(p->absent, sizeof(p->absent), "battery current: no current readings in "
			 "samples.csv");
		keep_or_say(doc, p, &a);
	}
	p = time_plot(doc, res, d, ta, "Battery voltage", "voltage", "V");
	if (p) {
		p->y_min_span = VOLTAGE_SPAN_MIN_V;
		plot_add_series(p, &d->voltage_v, 1, "battery voltage (power monitor)", C_RED);
		snprintf(p->note, sizeof(p->note), "the axis spans at least %.1f V, so that millivolts "
			 "do not look like a collapse", VOLTAGE_SPAN_MIN_V);
		snprintf(p->absent, sizeof(p->absent), "battery voltage: no voltage readings in "
			 "samples.csv");
		keep_or_say(doc, p, &a);
	}
	if (a.text[0])
		doc_text(doc, DB_PARA, DS_NORMAL, "Not plotted, for want of data: %s.", a.text);
}

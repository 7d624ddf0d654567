/* The report's plots: volume, flow, pressure and power against time, the
 * start-up and trumpet curves, read from samples.csv in one decimating pass
 * (report_data.c) so their memory does not grow with the run. */
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

void section_plots(struct report_doc *doc, const struct run_results *res,
			  const struct report_data *d)
{
	struct time_axis ta = doc_time_axis(res->end_t_ns);
	struct plot *p;
	struct plot_line *l;
	bool any_flow_check = false;

	doc_text(doc, DB_H1, DS_NORMAL, "6  Plots");
	doc_text(doc, DB_PARA, DS_SMALL,
		   "Drawn from samples.csv, read once into %d time bins per series (merged pairwise "
		   "as the record grows): the line is the mean of each bin, the light band its "
		   "minimum and maximum.", SERIES_BINS);

	p = doc_plot(doc);
	if (p) {
		snprintf(p->title, sizeof(p->title), "Delivered volume (balance, gravimetric chain)");
		snprintf(p->x_title, sizeof(p->x_title), "run time (%s)", ta.name);
		snprintf(p->y_title, sizeof(p->y_title), "volume (mL)");
		p->x_unit_ns = ta.unit_ns;
		p->y_include_zero = true;
		plot_add_series(p, &d->volume_ml, 1, "delivered volume", C_BLUE);
		snprintf(p->note, sizeof(p->note),
			 "settled readings × %.7f mL/g + evaporation; %zu tare(s) bridged%s%s%s",
			 res->ml_per_g, d->n_tares_bridged, d->n_tares_bridged ? " (at " : "",
			 d->tares_bridged_at, d->n_tares_bridged ? " h; events.jsonl tare)" : "");
		snprintf(p->absent, sizeof(p->absent), "no settled balance readings in samples.csv");
	}
	p = doc_plot(doc);
	if (p) {
		snprintf(p->title, sizeof(p->title), "Flow");
		snprintf(p->x_title, sizeof(p->x_title), "run time (%s)", ta.name);
		snprintf(p->y_title, sizeof(p->y_title), "flow (mL/h)");
		p->x_unit_ns = ta.unit_ns;
		p->y_include_zero = true;
		plot_add_series(p, &d->flow_ml_per_h, 1, "flow sensor", C_GREEN);
		l = plot_add_xy(p, PLOT_LINE, "balance (volume change per plotted bin)", C_BLUE);
		if (l)
			balance_flow(&d->volume_ml, l, ta.unit_ns);
		/* the basal rate as commanded, a staircase (boluses not drawn) */
		l = d->n_rates && !d->rates_truncated ?
			plot_add_xy(p, PLOT_DASHED, "programmed basal rate", C_GREY) : NULL;
		for (size_t k = 0; l && k < d->n_rates; k++) {
			double x = (double)d->rate_t_ns[k] / ta.unit_ns;

			l->xs[l->n_xy] = x;
			l->ys[l->n_xy++] = k ? d->rate_ml_per_h[k - 1] : 0;
			l->xs[l->n_xy] = x;
			l->ys[l->n_xy++] = d->rate_ml_per_h[k];
		}
		if (l) {
			l->xs[l->n_xy] = (double)res->end_t_ns / ta.unit_ns;
			l->ys[l->n_xy] = l->ys[l->n_xy - 1];
			l->n_xy++;
		}
		snprintf(p->absent, sizeof(p->absent), "no flow sensor or balance readings in samples.csv");
	}

	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];
		struct plot_line *hi, *lo, *a;
		double p_min = INFINITY, p_max = -INFINITY, mean = NAN;

		if (strcmp(c->check, "flow_accuracy") != 0)
			continue;
		any_flow_check = true;
		p = doc_plot(doc);
		if (!p)
			break;
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
		if (isfinite(mean) && p_max >= p_min) {
			a = plot_add_xy(p, PLOT_DASHED, "", C_GREY);
			if (a) {
				snprintf(a->label, sizeof(a->label), "mean error A = %.3f %%", mean);
				a->xs[0] = p_min;
				a->ys[0] = mean;
				a->xs[1] = p_max;
				a->ys[1] = mean;
				a->n_xy = 2;
			}
		}
		if (p_max >= p_min) {
			/* from P = 0, so the shortest window is not on the frame */
			p->have_x_range = true;
			p->x_min = 0;
			p->x_max = p_max * 1.05;
		}
		snprintf(p->note, sizeof(p->note), "results: check %zu measurements Ep_max_*, Ep_min_*, A",
			 i + 1);
		snprintf(p->absent, sizeof(p->absent),
			 "no trumpet curve: the check could not compute Ep (%s)", verdict_name(c->verdict));
		/* a pair of points is no curve; with only A the plot says so */
		if (hi && hi->n_xy == 0 && lo && lo->n_xy == 0)
			p->n_lines = 0;

		p = doc_plot(doc);
		if (!p)
			break;
		/* the start-up curve is the check's startup_window, not its
		 * trumpet window: the title names it, from the sequence step */
		{
			const char *sw = "";

			for (size_t k = 0; k < d->seq->n_steps; k++)
				if (d->seq->steps[k].line == c->seq_line)
					sw = d->seq->steps[k].startup_window;
			if (sw[0])
				snprintf(p->title, sizeof(p->title), "Start-up curve (check %zu, window %s)",
					 i + 1, sw);
			else
				snprintf(p->title, sizeof(p->title), "Start-up curve (check %zu)", i + 1);
		}
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
		}
		snprintf(p->note, sizeof(p->note), "results: check %zu startup_curve", i + 1);
		snprintf(p->absent, sizeof(p->absent),
			 "no start-up curve: the check has no startup_window, or it was not completed");
	}
	if (!any_flow_check) {
		p = doc_plot(doc);
		if (p) {
			snprintf(p->title, sizeof(p->title), "Trumpet curve");
			snprintf(p->absent, sizeof(p->absent),
				 "no trumpet curve: the sequence has no flow_accuracy check");
		}
	}

	p = doc_plot(doc);
	if (p) {
		struct time_axis pa = doc_time_axis(d->pressure_to_ns - d->pressure_kpa.t0_ns);

		snprintf(p->title, sizeof(p->title), "Line pressure%s",
			 d->have_occlusion ? " through the occlusion" : "");
		p->x_unit_ns = pa.unit_ns;
		if (d->have_occlusion) {
			p->x_origin_ns = d->t_close_ns;
			snprintf(p->x_title, sizeof(p->x_title), "time from the valve closing (%s)",
				 pa.name);
			plot_add_mark(p, 0, PLOT_MARK_DASHED, "valve closed", C_GREY);
			/* The alarm is the pump's doing, not the sequence's: its own
			 * style, labelled with its time from the closing, from the
			 * same event as its place (the occlusion check's
			 * time_to_alarm takes that edge too). */
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
		}
		snprintf(p->y_title, sizeof(p->y_title), "pressure (kPa)");
		p->y_include_zero = true;
		plot_add_series(p, &d->pressure_kpa, 1, "line pressure", C_PURPLE);
		/* the device's limit on the pressure at the alarm, across the
		 * plot, so that the margin to it is seen */
		if (d->have_occlusion && d->dev->occlusion_pressure_max_kpa > 0 &&
		    plot_has_data(p)) {
			struct plot_line *lim = plot_add_xy(p, PLOT_DASHED, "", C_RED);

			if (lim) {
				snprintf(lim->label, sizeof(lim->label),
					 "alarm pressure limit %.4g kPa (device.cfg)",
					 d->dev->occlusion_pressure_max_kpa);
				lim->xs[0] = (double)(d->pressure_kpa.t0_ns - d->t_close_ns) / pa.unit_ns;
				lim->xs[1] = (double)(d->pressure_to_ns - d->t_close_ns) / pa.unit_ns;
				lim->ys[0] = lim->ys[1] = d->dev->occlusion_pressure_max_kpa;
				lim->n_xy = 2;
			}
		}
		snprintf(p->absent, sizeof(p->absent), "no pressure readings in samples.csv");
	}
	p = doc_plot(doc);
	if (p) {
		snprintf(p->title, sizeof(p->title), "Battery current");
		snprintf(p->x_title, sizeof(p->x_title), "run time (%s)", ta.name);
		snprintf(p->y_title, sizeof(p->y_title), "current (µA)");
		p->x_unit_ns = ta.unit_ns;
		p->y_include_zero = true;
		plot_add_series(p, &d->current_ua, 1, "supply current (power monitor)", C_ORANGE);
		snprintf(p->absent, sizeof(p->absent), "no current readings in samples.csv");
	}
	p = doc_plot(doc);
	if (p) {
		snprintf(p->title, sizeof(p->title), "Battery voltage");
		snprintf(p->x_title, sizeof(p->x_title), "run time (%s)", ta.name);
		snprintf(p->y_title, sizeof(p->y_title), "voltage (V)");
		p->x_unit_ns = ta.unit_ns;
		plot_add_series(p, &d->voltage_v, 1, "battery voltage (power monitor)", C_RED);
		snprintf(p->absent, sizeof(p->absent), "no voltage readings in samples.csv");
	}
}

/* Flow accuracy, IEC 60601-2-24 style: see flow.h. */
#include "flow.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

struct flow_state {
	struct flow_cfg cfg;
	size_t n_instants;          /* N + 1 grid instants, 0..N */
	size_t next;                /* next instant to emit */
	bool have_prev;
	rig_ns prev_t_ns;
	double prev_w;
	/* the last `ring_len` instants: mass, and whether present */
	size_t ring_len;
	double *ring_w;
	bool *ring_ok;
	size_t p[FLOW_WINDOWS_MAX]; /* window lengths in intervals */
	bool have_missing;
	size_t last_missing;        /* index of the latest missing instant */
	size_t n_missing;
	bool have_first;
	size_t first_i, last_i;
	double first_w, last_w;
	struct flow_window_result win[FLOW_WINDOWS_MAX];
};

int flow_new(const struct flow_cfg *cfg, struct flow_state **ret)
{
	struct flow_state *st;
	rig_ns span = cfg->t_end_ns - cfg->t_begin_ns;
	size_t n, max_p = 0;

	*ret = NULL;
	if (span <= 0 || cfg->sample_interval_ns <= 0 || span < cfg->sample_interval_ns ||
	    !(cfg->rate_ml_per_h > 0) || !(cfg->ml_per_g > 0) || cfg->n_windows > FLOW_WINDOWS_MAX)
		return -EINVAL;
	n = (size_t)(span / cfg->sample_interval_ns);
	for (size_t w = 0; w < cfg->n_windows; w++) {
		rig_ns len = cfg->window_ns[w];

		if (len <= 0 || len % cfg->sample_interval_ns || (size_t)(len / cfg->sample_interval_ns) > n)
			return -EINVAL;
		if ((size_t)(len / cfg->sample_interval_ns) > max_p)
			max_p = (size_t)(len / cfg->sample_interval_ns);
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->cfg = *cfg;
	st->n_instants = n + 1;
	st->ring_len = max_p + 2;
	st->ring_w = calloc(st->ring_len, sizeof(*st->ring_w));
	st->ring_ok = calloc(st->ring_len, sizeof(*st->ring_ok));
	if (!st->ring_w || !st->ring_ok) {
		flow_free(st);
		return -ENOMEM;
	}
	for (size_t w = 0; w < cfg->n_windows; w++) {
		st->p[w] = (size_t)(cfg->window_ns[w] / cfg->sample_interval_ns);
		st->win[w] = (struct flow_window_result){
			.window_ns = cfg->window_ns[w], .ep_max_pct = -INFINITY, .ep_min_pct = INFINITY };
	}
	*ret = st;
	return 0;
}

void flow_free(struct flow_state *st)
{
	if (!st)
		return;
	free(st->ring_w);
	free(st->ring_ok);
	free(st);
}

/* e among the FLOW_EXTREMES_KEPT largest and smallest so far (insertion:
 * a few comparisons a window) */
static void keep_extreme(struct flow_window_result *wr, double e)
{
	size_t n = wr->n_kept, j;

	if (n < FLOW_EXTREMES_KEPT)
		wr->n_kept++;
	for (j = n < FLOW_EXTREMES_KEPT ? n : FLOW_EXTREMES_KEPT; j > 0 && wr->top_pct[j - 1] < e; j--)
		if (j < FLOW_EXTREMES_KEPT)
			wr->top_pct[j] = wr->top_pct[j - 1];
	if (j < FLOW_EXTREMES_KEPT)
		wr->top_pct[j] = e;
	for (j = n < FLOW_EXTREMES_KEPT ? n : FLOW_EXTREMES_KEPT; j > 0 && wr->bottom_pct[j - 1] > e;
	     j--)
		if (j < FLOW_EXTREMES_KEPT)
			wr->bottom_pct[j] = wr->bottom_pct[j - 1];
	if (j < FLOW_EXTREMES_KEPT)
		wr->bottom_pct[j] = e;
}

static rig_ns instant_t(const struct flow_state *st, size_t i)
{
	return st->cfg.t_begin_ns + (rig_ns)i * st->cfg.sample_interval_ns;
}

/* Percentage error of the mean flow from mass w0 to w1 over `hours`. */
static double error_pct(const struct flow_state *st, double w0, double w1, double hours)
{
	double q = st->cfg.ml_per_g * (w1 - w0 + st->cfg.evaporation_g_per_h * hours) / hours;

	return 100 * (q - st->cfg.rate_ml_per_h) / st->cfg.rate_ml_per_h;
}

/* Instant i is known: present with mass w, or missing. */
static void emit(struct flow_state *st, bool ok, double w)
{
	size_t i = st->next++, slot = i % st->ring_len;
	double s_h = rig_ns_to_h(st->cfg.sample_interval_ns);

	st->ring_ok[slot] = ok;
	st->ring_w[slot] = w;
	if (!ok) {
		st->have_missing = true;
		st->last_missing = i;
		st->n_missing++;
		/* every window ending here touches this instant */
		for (size_t k = 0; k < st->cfg.n_windows; k++)
			if (i >= st->p[k])
				st->win[k].n_skipped++;
		return;
	}
	if (!st->have_first) {
		st->have_first = true;
		st->first_i = i;
		st->first_w = w;
	}
	st->last_i = i;
	st->last_w = w;
	if (i > 0 && st->ring_ok[(i - 1) % st->ring_len] && st->cfg.on_interval) {
		double w0 = st->ring_w[(i - 1) % st->ring_len];
		double q = st->cfg.ml_per_g * (w - w0 + st->cfg.evaporation_g_per_h * s_h) / s_h;

		st->cfg.on_interval(st->cfg.ctx, instant_t(st, i), q);
	}
	for (size_t k = 0; k < st->cfg.n_windows; k++) {
		size_t p = st->p[k];
		struct flow_window_result *wr = &st->win[k];
		double e;

		if (i < p)
			continue;
		/* the window of intervals i-p+1 .. i spans instants i-p .. i */
		if (st->have_missing && st->last_missing >= i - p) {
			wr->n_skipped++;
			continue;
		}
		e = error_pct(st, st->ring_w[(i - p) % st->ring_len], w, s_h * (double)p);
		wr->n_windows++;
		if (e > wr->ep_max_pct)
			wr->ep_max_pct = e;
		if (e < wr->ep_min_pct)
			wr->ep_min_pct = e;
		keep_extreme(wr, e);
	}
}

size_t flow_windows_near(const struct flow_window_result *wr, bool max, double d_pct)
{
	const double *kept = max ? wr->top_pct : wr->bottom_pct;
	size_t n = 0;

	while (n < wr->n_kept && fabs(kept[n] - kept[0]) <= d_pct)
		n++;
	if (n == FLOW_EXTREMES_KEPT)
		return wr->n_windows;
	return n ? n : 1;
}

void flow_add(struct flow_state *st, rig_ns t_ns, double mass_g)
{
	while (st->next < st->n_instants) {
		rig_ns g = instant_t(st, st->next);

		if (g > t_ns)
			break;
		if (g == t_ns) {
			emit(st, true, mass_g);
		} else if (st->have_prev && g - st->prev_t_ns <= st->cfg.max_gap_ns &&
			   t_ns - g <= st->cfg.max_gap_ns) {
			double f = (double)(g - st->prev_t_ns) / (double)(t_ns - st->prev_t_ns);

			emit(st, true, st->prev_w + f * (mass_g - st->prev_w));
		} else {
			emit(st, false, 0);
		}
	}
	st->have_prev = true;
	st->prev_t_ns = t_ns;
	st->prev_w = mass_g;
}

int flow_finish(struct flow_state *st, struct flow_result *ret)
{
	double hours;

	/* instants after the last reading (a run cut short) are missing */
	while (st->next < st->n_instants)
		emit(st, false, 0);
	*ret = (struct flow_result){
		.n_intervals = st->n_instants - 1,
		.n_missing = st->n_missing,
		.n_windows = st->cfg.n_windows,
	};
	for (size_t k = 0; k < st->cfg.n_windows; k++) {
		ret->windows[k] = st->win[k];
		if (st->win[k].n_windows == 0)
			ret->windows[k].ep_max_pct = ret->windows[k].ep_min_pct = NAN;
	}
	if (!st->have_first || st->last_i == st->first_i)
		return -ENODATA;
	hours = rig_ns_to_h((rig_ns)(st->last_i - st->first_i) * st->cfg.sample_interval_ns);
	ret->mean_rate_ml_per_h = st->cfg.ml_per_g *
				  (st->last_w - st->first_w + st->cfg.evaporation_g_per_h * hours) / hours;
	ret->mean_error_pct = 100 * (ret->mean_rate_ml_per_h - st->cfg.rate_ml_per_h) /
			      st->cfg.rate_ml_per_h;
	return 0;
}

/* Flow accuracy by the method of IEC 60601-2-24 (infusion pumps), adapted to
 * implantable rates.  Pure and streaming: feed settled balance readings in
 * time order; memory is bounded by the longest observation window, never by
 * the run's length.
 *
 * The analysis period [t_begin, t_end] is cut into sample intervals of S.
 * The balance mass W_i at each grid instant t_i = t_begin + i*S is
 * interpolated linearly from the readings either side of it (a grid instant
 * with no reading within max_gap on both sides is missing).  With the
 * volume factor f (mL per gram of balance reading, gravimetric.h) and the
 * evaporation rate e (g/h, added back):
 *
 *   Q_i = f * ((W_i - W_{i-1}) + e*S) / S                    mL/h, S in hours
 *   A   = 100 * (Q_mean - r) / r, Q_mean over the whole period  (mean error)
 *   for each observation window P = p*S, every window of p consecutive
 *   intervals k..k+p-1 inside the period gives
 *   E_P(k) = (1/p) * sum 100*(Q_i - r)/r
 *          = 100 * (f*((W_{k+p-1} - W_{k-1}) + e*P)/P - r) / r
 *   (the sum telescopes to a mass difference, so each window costs O(1));
 *   Ep max and Ep min are the extremes over the m = T/S - p + 1 windows.
 *   Windows touching a missing instant are skipped and counted.
 * Check values (T = 60 min, S = 0.5 min): m = 119, 117, 111, 99, 83, 59 for
 * P = 1, 2, 5, 11, 19, 31 min. */
#ifndef RIG_ANALYSIS_FLOW_H
#define RIG_ANALYSIS_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include "rig/base/rtime.h"

#define FLOW_WINDOWS_MAX 8

struct flow_cfg {
	rig_ns t_begin_ns, t_end_ns;       /* analysis period */
	rig_ns sample_interval_ns;         /* S */
	rig_ns window_ns[FLOW_WINDOWS_MAX];/* observation windows P, multiples of S */
	size_t n_windows;
	double rate_ml_per_h;              /* r: the set rate over the period (> 0) */
	double ml_per_g;                   /* f */
	double evaporation_g_per_h;        /* e */
	rig_ns max_gap_ns;                 /* readings further apart than this leave
	                                      the instants between them missing */
	/* Optional: called once per sample interval, in order, with the interval's
	 * end time and Q_i (for the start-up curve and plots); may be NULL. */
	void (*on_interval)(void *ctx, rig_ns t_ns, double q_ml_per_h);
	void *ctx;
};

/* The largest and smallest window errors kept, for how many windows lie
 * near each extreme (flow_windows_near). */
#define FLOW_EXTREMES_KEPT 64

struct flow_window_result {
	rig_ns window_ns;
	size_t n_windows;                  /* windows evaluated */
	size_t n_skipped;                  /* windows touching a missing instant */
	double ep_max_pct, ep_min_pct;
	/* the largest errors, descending, and the smallest, ascending */
	double top_pct[FLOW_EXTREMES_KEPT], bottom_pct[FLOW_EXTREMES_KEPT];
	size_t n_kept;
};

/* How many windows lie within d_pct of the extreme (max, else min): those
 * any of which could be the extreme, given window errors of that size.  At
 * least 1; every window when all that were kept are that near (the count
 * could go on). */
size_t flow_windows_near(const struct flow_window_result *wr, bool max, double d_pct);

struct flow_result {
	size_t n_intervals;                /* T/S */
	size_t n_missing;                  /* grid instants with no reading near */
	double mean_rate_ml_per_h;         /* from the first to the last present instant */
	double mean_error_pct;             /* A */
	struct flow_window_result windows[FLOW_WINDOWS_MAX];
	size_t n_windows;
};

struct flow_state;

/* -EINVAL for an empty period, S <= 0, a window not a positive multiple of S
 * or longer than the period, r <= 0 or f <= 0; -ENOMEM. */
int flow_new(const struct flow_cfg *cfg, struct flow_state **ret);
void flow_free(struct flow_state *st);
/* One settled balance reading (any time; readings outside the period are
 * used only to interpolate its ends). */
void flow_add(struct flow_state *st, rig_ns t_ns, double mass_g);
/* After the last reading.  -ENODATA when fewer than two grid instants are
 * present. */
int flow_finish(struct flow_state *st, struct flow_result *ret);

#endif

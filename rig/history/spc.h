/* Statistical process control for the run history: an individuals chart
 * (one value per run) and the Western Electric / Nelson rules.  Pure
 * functions over arrays: no I/O, no clock, no store.
 *
 * The chart (Montgomery, Introduction to Statistical Quality Control, the
 * individuals and moving-range chart): centre = mean of the baseline
 * values; sigma = average moving range of consecutive baseline values /
 * d2, d2 = 1.128 for ranges of two; limits centre +- 3 sigma.  The moving
 * range rather than the standard deviation, so that a drift inside the
 * baseline does not widen the limits as much as it would the SD.
 *
 * sigma is never taken below a floor: half the smallest step between two
 * different baseline values (data recorded at a coarse resolution, such as
 * a time to alarm in tenths of a second, would otherwise give a moving
 * range of zero and limits no wider than the resolution: Wheeler's
 * "chunky data"), and 1e-9 of the centre (results.json carries 10
 * significant digits).  A baseline of identical values (a simulated bench
 * with a fixed seed) thus flags any change at all.
 *
 * Rules, each judged with a point as the newest of its pattern and that
 * point taking part in it (so a pattern in the past is not raised again by
 * every later point):
 *   1 one point beyond 3 sigma;
 *   2 two of three consecutive points beyond 2 sigma on the same side;
 *   3 four of five consecutive points beyond 1 sigma on the same side;
 *   4 eight consecutive points on the same side of the centre;
 *   5 six consecutive points steadily rising or falling (five steps, ties
 *     break it).
 * Rules are judged only at points outside the baseline (Phase II); their
 * windows may reach back into it.
 *
 * A flag is *open* when its rule holds at the series' newest point and at
 * each of the (confirm - 1) monitored points before it.  confirm = 3 (the
 * default) means three nights in a row: the false alarms of a stable series
 * are mostly single noisy nights, a real change persists.  With the default
 * baseline of 8 runs (a week of nights and one), a chart starts judging in
 * the second week; a lab chooses a longer baseline with `rig history
 * baseline set` once it has one.  The choices and their measured
 * false-alarm rates are in docs/history.md. */
#ifndef RIG_HISTORY_SPC_H
#define RIG_HISTORY_SPC_H

#include <stdbool.h>
#include <stddef.h>

enum spc_rule {
	SPC_BEYOND_3SIGMA = 1,
	SPC_2_OF_3_BEYOND_2SIGMA = 2,
	SPC_4_OF_5_BEYOND_1SIGMA = 3,
	SPC_8_ON_ONE_SIDE = 4,
	SPC_6_TRENDING = 5,
};
#define SPC_RULE_FIRST SPC_BEYOND_3SIGMA
#define SPC_RULE_LAST SPC_6_TRENDING
#define SPC_RULE_BIT(r) (1u << (r))
#define SPC_RULES_ALL 0x3eu        /* rules 1 to 5 */

#define SPC_D2 1.128               /* E[range of 2 normal values] / sigma */
#define SPC_BASELINE_DEFAULT 8
#define SPC_CONFIRM_DEFAULT 3

struct spc_params {
	size_t baseline_n;   /* the first N points are the baseline (when none is chosen) */
	unsigned rules;      /* SPC_RULE_BIT()s */
	size_t confirm;      /* points in a row a rule must hold at to open a flag (>= 1) */
};

void spc_params_default(struct spc_params *ret);

struct spc_chart {
	bool valid;          /* false: fewer baseline points than needed; no limits */
	size_t n_baseline;
	double centre;
	double mr_bar;       /* average moving range of the baseline */
	double sigma_mr;     /* mr_bar / SPC_D2 */
	double sigma_floor;  /* see above */
	double sigma;        /* the larger of the two: what the rules use */
	double lcl, ucl;     /* centre -+ 3 sigma */
};

/* Fits the chart.  in_baseline (may be NULL) marks the baseline points
 * (a chosen baseline: at least 2 of them); NULL means the first
 * p->baseline_n points (the chart is valid once there are that many).
 * Values must be finite.  Returns 0 (ret->valid says whether there are
 * limits) or -EINVAL. */
int spc_chart_fit(const double *x, size_t n, const bool *in_baseline, const struct spc_params *p,
		  struct spc_chart *ret);

/* A rule holding with point i as its newest: its pattern runs from first to
 * i; side +1 above the centre or rising, -1 below or falling. */
struct spc_hit {
	size_t first;
	int side;
};

/* The rules (of those in rules) that hold at point i, as SPC_RULE_BIT()s,
 * with each one's pattern in hits[rule] (hits has SPC_RULE_LAST + 1
 * entries).  Baseline points are not judged: 0 for them (in_baseline as
 * for spc_chart_fit; NULL: the first c->n_baseline). */
unsigned spc_rules_at(const double *x, size_t n, size_t i, const bool *in_baseline,
		      const struct spc_chart *c, unsigned rules, struct spc_hit *hits);

struct spc_flag {
	enum spc_rule rule;
	size_t first, last;  /* the points of the pattern(s) that opened it; last = n - 1 */
	int side;
};

/* The flags open at the newest point (see above), in rule order; at most
 * max into ret.  Returns how many are open. */
size_t spc_open_flags(const double *x, size_t n, const bool *in_baseline,
		      const struct spc_chart *c, const struct spc_params *p,
		      struct spc_flag *ret, size_t max);

const char *spc_rule_name(enum spc_rule r);   /* "beyond_3sigma", ... */
const char *spc_rule_text(enum spc_rule r);   /* "one point beyond 3 sigma", ... */

#endif

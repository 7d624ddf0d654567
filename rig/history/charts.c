/* The store's control charts: the series of each watched value, their
 * baselines, `rig history watch` and `rig history trend`, and setting a
 * baseline (spc.c holds the arithmetic).  See history.h. */
#include "rig/base/utc.h"
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------- series and charts */

/* Points of one series, in time order. */
struct series {
	char *key[5];              /* device: serial, sequence, check, window, measurement;
				      bench: bench id, sequence, "bench_health", window, figure */
	bool bench;
	char *unit;
	size_t n, cap;
	double *x;
	char **run_id, **started;
	long long *ns;             /* the start's nanoseconds (LLONG_MIN: not recorded) */
	long long *pk;             /* the stored row: orders runs started in one second
				      before their nanoseconds were recorded */
	bool *in_base;
};

static void series_clear(struct series *s)
{
	size_t i;

	for (i = 0; i < 5; i++)
		free(s->key[i]);
	for (i = 0; i < s->n; i++) {
		free(s->run_id[i]);
		free(s->started[i]);
	}
	free(s->unit);
	free(s->x);
	free(s->run_id);
	free(s->started);
	free(s->pk);
	free(s->ns);
	free(s->in_base);
	*s = (struct series){ 0 };
}

static int series_push(struct series *s, const char *run_id, const char *started,
		       long long start_ns, long long pk, double x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		double *nx = realloc(s->x, cap * sizeof(*nx));
		char **nr, **ns;
		long long *np;

		if (!nx)
			return -ENOMEM;
		s->x = nx;
		nr = realloc(s->run_id, cap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		s->run_id = nr;
		ns = realloc(s->started, cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		s->started = ns;
		np = realloc(s->pk, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		s->pk = np;
		np = realloc(s->ns, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		s->ns = np;
		s->cap = cap;
	}
	s->x[s->n] = x;
	s->pk[s->n] = pk;
	s->ns[s->n] = start_ns;
	s->run_id[s->n] = strdup(run_id ? run_id : "");
	s->started[s->n] = strdup(started ? started : "");
	s->n++;
	return s->run_id[s->n - 1] && s->started[s->n - 1] ? 0 : -ENOMEM;
}

/* The newest baseline of every subject and sequence, as rows
 * (scope, subject, sequence_id, run_id, set_utc, set_by, baseline key). */
int hist_load_baselines(struct history *h, struct hist_rows *ret, char *err, size_t errlen)
{
	return hist_query(h, "SELECT b.scope, b.subject, b.sequence_id, br.run_id, b.set_utc,"
			     " b.set_by, b.id FROM baselines b JOIN baseline_runs br ON br.baseline_pk = b.id"
			     " WHERE NOT EXISTS (SELECT 1 FROM baselines n WHERE n.scope = b.scope"
			     " AND n.subject = b.subject AND n.sequence_id = b.sequence_id"
			     " AND n.id > b.id) ORDER BY b.scope, b.subject, b.sequence_id, br.run_id",
			  NULL, 0, ret, err, errlen);
}

/* Marks the series' points whose runs are in its chosen baseline; false
 * (and no mask) when none was chosen for it. */
static bool apply_baseline(struct series *s, const struct hist_rows *b, char *ret_desc,
			   size_t desclen)
{
	const char *scope = s->bench ? "bench" : "device";
	size_t i, j;
	bool any = false;

	for (i = 0; i < b->n_rows; i++) {
		if (strcmp(hist_cell(b, i, 0), scope) || strcmp(hist_cell(b, i, 1), s->key[0]) ||
		    strcmp(hist_cell(b, i, 2), s->key[1]))
			continue;
		if (!any) {
			s->in_base = calloc(s->n ? s->n : 1, sizeof(*s->in_base));
			if (!s->in_base)
				return false;
			snprintf(ret_desc, desclen, "chosen %s by %s", hist_cell(b, i, 4),
				 hist_cell(b, i, 5));
			any = true;
		}
		for (j = 0; j < s->n; j++)
			if (strcmp(s->run_id[j], hist_cell(b, i, 3)) == 0)
				s->in_base[j] = true;
	}
	return any;
}

static json_t *series_json(const struct series *s)
{
	if (s->bench)
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "bench",
				 "bench_id", s->key[0], "sequence_id", s->key[1], "check", s->key[2],
				 "window", s->key[3], "measurement", s->key[4], "unit", s->unit);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "device",
			 "device_serial", s->key[0], "sequence_id", s->key[1], "check", s->key[2],
			 "window", s->key[3], "measurement", s->key[4], "unit", s->unit);
}

static json_t *chart_json(const struct spc_chart *c, const char *baseline_desc)
{
	json_t *o = json_pack("{s:b, s:I, s:s}", "valid", c->valid, "n_baseline",
			      (json_int_t)c->n_baseline, "baseline", baseline_desc);

	if (c->valid) {
		json_object_set_new(o, "centre", json_real(c->centre));
		json_object_set_new(o, "sigma", json_real(c->sigma));
		json_object_set_new(o, "sigma_moving_range", json_real(c->sigma_mr));
		json_object_set_new(o, "sigma_floor", json_real(c->sigma_floor));
		json_object_set_new(o, "lcl", json_real(c->lcl));
		json_object_set_new(o, "ucl", json_real(c->ucl));
	}
	return o;
}

static const char *side_name(enum spc_rule r, int side)
{
	if (r == SPC_6_TRENDING)
		return side > 0 ? "rising" : "falling";
	return side > 0 ? "above" : "below";
}

static json_t *flag_json(const struct series *s, const struct spc_chart *c,
			 const struct spc_flag *f)
{
	json_t *runs = json_array(), *values = json_array(), *started = json_array();
	size_t i;

	for (i = f->first; i <= f->last; i++) {
		json_array_append_new(runs, json_string(s->run_id[i]));
		json_array_append_new(values, json_real(s->x[i]));
		json_array_append_new(started, json_string(s->started[i]));
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:f, s:f, s:f, s:f}",
			 "rule", spc_rule_name(f->rule), "rule_text", spc_rule_text(f->rule),
			 "side", side_name(f->rule, f->side), "series", series_json(s),
			 "runs", runs, "values", values, "started", started,
			 "centre", c->centre, "sigma", c->sigma, "lcl", c->lcl, "ucl", c->ucl);
}

/* Fits the series' chart and appends its open flags to flags. */
static int series_watch(struct series *s, const struct hist_rows *baselines,
			const struct spc_params *p, struct spc_chart *ret_chart, char *desc,
			size_t desclen, json_t *flags)
{
	struct spc_flag f[SPC_RULE_LAST];
	size_t n, i;
	int r;

	snprintf(desc, desclen, "first %zu runs", p->baseline_n);
	apply_baseline(s, baselines, desc, desclen);
	r = spc_chart_fit(s->x, s->n, s->in_base, p, ret_chart);
	if (r < 0 || !ret_chart->valid)
		return r;
	n = spc_open_flags(s->x, s->n, s->in_base, ret_chart, p, f, SPC_RULE_LAST);
	for (i = 0; i < n && i < SPC_RULE_LAST; i++)
		json_array_append_new(flags, flag_json(s, ret_chart, &f[i]));
	return 0;
}

/* Groups rows (key columns 0..4, unit 5, run_id 6, started 7, value 8),
 * already ordered by series then time, calling fn per series. */
typedef int (*series_fn)(void *ctx, struct series *s);

/* A row's stored-row key in column col (-1 when it has none). */
static long long row_pk(const struct hist_rows *rows, size_t row, size_t col)
{
	long long v;

	return hist_cell_ll(rows, row, col, &v) ? v : -1;
}

/* A start's nanoseconds; LLONG_MIN for NULL (a run from before they were
 * recorded), which sorts first as SQLite sorts NULL. */
static long long row_ns(const struct hist_rows *rows, size_t row, size_t col)
{
	long long v;

	return hist_cell_ll(rows, row, col, &v) ? v : LLONG_MIN;
}

static int for_each_series(const struct hist_rows *rows, bool bench, series_fn fn, void *ctx)
{
	struct series s = { 0 };
	size_t i, k;
	int r = 0;

	for (i = 0; i < rows->n_rows && r == 0; i++) {
		bool same = s.key[0] != NULL;
		double v = hist_cell_double(rows, i, 8);

		for (k = 0; k < 5 && same; k++)
			same = strcmp(s.key[k], hist_cell(rows, i, k) ? hist_cell(rows, i, k) : "") == 0;
		if (!same) {
			if (s.key[0])
				r = fn(ctx, &s);
			series_clear(&s);
			if (r < 0)
				break;
			s.bench = bench;
			for (k = 0; k < 5; k++)
				s.key[k] = strdup(hist_cell(rows, i, k) ? hist_cell(rows, i, k) : "");
			s.unit = strdup(hist_cell(rows, i, 5) ? hist_cell(rows, i, 5) : "");
		}
		if (isfinite(v))
			r = series_push(&s, hist_cell(rows, i, 6), hist_cell(rows, i, 7),
					row_ns(rows, i, 10), row_pk(rows, i, 9), v);
	}
	if (r == 0 && s.key[0])
		r = fn(ctx, &s);
	series_clear(&s);
	return r;
}

/* ----------------------------------------------------------------- watch */

/* The points of one watched series (keys in s), current versions only, in
 * time order; runs started in the same second (virtual-time nights) by
 * their start to the nanosecond (run.json's started_unix_ns), runs from
 * before it was recorded in the order stored, never by their run ids'
 * random tails. */
#define POINTS_SQL(extra, order, limit)                                                      \
	"SELECT p.run_id, p.started_utc, p.value, p.run_pk, p.started_ns FROM points p"       \
	" WHERE p.scope = $1"                                                                \
	" AND p.subject = $2 AND p.sequence_id = $3 AND p.check_kind = $4"                  \
	" AND p.check_window = $5 AND p.measurement = $6" extra                              \
	" AND NOT EXISTS (SELECT 1 FROM runs n WHERE n.run_id = p.run_id AND n.id > p.run_pk)" \
	" ORDER BY p.started_utc " order ", p.started_ns " order ", p.run_pk " order limit

static int fetch_points(struct history *h, struct series *s, const char *sql, long long extra,
			bool reverse, char *err, size_t errlen)
{
	struct hist_val v[7] = { hv_text(s->bench ? "bench" : "device"), hv_text(s->key[0]),
				 hv_text(s->key[1]), hv_text(s->key[2]), hv_text(s->key[3]),
				 hv_text(s->key[4]), hv_int(extra) };
	struct hist_rows rows;
	size_t i;
	int r = hist_query(h, sql, v, 7, &rows, err, errlen);

	for (i = 0; r == 0 && i < rows.n_rows; i++) {
		size_t row = reverse ? rows.n_rows - 1 - i : i;

		r = series_push(s, hist_cell(&rows, row, 0), hist_cell(&rows, row, 1),
				row_ns(&rows, row, 4), row_pk(&rows, row, 3),
				hist_cell_double(&rows, row, 2));
	}
	hist_rows_free(&rows);
	return r;
}

/* Drops points whose run is already in the series (a chosen baseline that
 * reaches the newest runs); s is in time order. */
static void series_dedupe(struct series *s)
{
	size_t i, j, o = 0;

	for (i = 0; i < s->n; i++) {
		bool dup = false;

		for (j = 0; j < o && !dup; j++)
			dup = strcmp(s->run_id[j], s->run_id[i]) == 0;
		if (dup) {
			free(s->run_id[i]);
			free(s->started[i]);
			continue;
		}
		s->x[o] = s->x[i];
		s->pk[o] = s->pk[i];
		s->ns[o] = s->ns[i];
		s->run_id[o] = s->run_id[i];
		s->started[o] = s->started[i];
		o++;
	}
	s->n = o;
}

/* Sorts a series by (started, its nanoseconds, stored row). */
static void series_sort(struct series *s)
{
	size_t i, j;

	for (i = 1; i < s->n; i++) {
		for (j = i; j > 0; j--) {
			int c = strcmp(s->started[j - 1], s->started[j]);
			double tx;
			char *t;

			long long tp;

			if (c == 0 && s->ns[j - 1] != s->ns[j])
				c = s->ns[j - 1] < s->ns[j] ? -1 : 1;
			if (c < 0 || (c == 0 && s->pk[j - 1] <= s->pk[j]))
				break;
			tx = s->x[j], s->x[j] = s->x[j - 1], s->x[j - 1] = tx;
			tp = s->pk[j], s->pk[j] = s->pk[j - 1], s->pk[j - 1] = tp;
			tp = s->ns[j], s->ns[j] = s->ns[j - 1], s->ns[j - 1] = tp;
			t = s->run_id[j], s->run_id[j] = s->run_id[j - 1], s->run_id[j - 1] = t;
			t = s->started[j], s->started[j] = s->started[j - 1], s->started[j - 1] = t;
		}
	}
}

/* Loads what the rules need of one watched series: its baseline (the first
 * N points, or the chosen runs) and its newest (confirm + 7) points, which
 * is as far back as any rule looks from the newest point and the points
 * confirming it.  A few dozen points, read through points_by_series, however
 * long the history. */
static int load_watched(struct history *h, struct series *s, const struct hist_rows *baselines,
			const struct spc_params *p, char *err, size_t errlen)
{
	size_t tail = (p->confirm ? p->confirm : 1) + 7, i;
	long long chosen = -1;
	int r;

	for (i = 0; i < baselines->n_rows && chosen < 0; i++)
		if (strcmp(hist_cell(baselines, i, 0), s->bench ? "bench" : "device") == 0 &&
		    strcmp(hist_cell(baselines, i, 1), s->key[0]) == 0 &&
		    strcmp(hist_cell(baselines, i, 2), s->key[1]) == 0)
			hist_cell_ll(baselines, i, 6, &chosen);
	if (chosen >= 0) {
		r = fetch_points(h, s, POINTS_SQL(" AND p.run_id IN (SELECT br.run_id FROM"
						  " baseline_runs br WHERE br.baseline_pk = $7)", "ASC", ""),
				 chosen, false, err, errlen);
		if (r == 0)
			r = fetch_points(h, s, POINTS_SQL("", "DESC", " LIMIT $7"),
					 (long long)tail, true, err, errlen);
		series_sort(s);
		series_dedupe(s);
		return r;
	}
	r = fetch_points(h, s, POINTS_SQL("", "ASC", " LIMIT $7"),
			 (long long)(p->baseline_n + tail), false, err, errlen);
	if (r < 0 || s->n < p->baseline_n + tail)
		return r;   /* that is the whole series */
	for (i = p->baseline_n; i < s->n; i++) {
		free(s->run_id[i]);
		free(s->started[i]);
	}
	s->n = p->baseline_n;
	return fetch_points(h, s, POINTS_SQL("", "DESC", " LIMIT $7"), (long long)tail, true,
			    err, errlen);
}

/* Whether row i of the bulk result belongs to the series in row k of the
 * series list (their first six columns). */
static bool same_series(const struct hist_rows *bulk, size_t i, const struct hist_rows *list,
			size_t k)
{
	size_t c;

	for (c = 0; c < 6; c++)
		if (strcmp(hist_cell(bulk, i, c), hist_cell(list, k, c)) != 0)
			return false;
	return true;
}

static bool has_chosen_baseline(const struct series *s, const struct hist_rows *b)
{
	size_t i;

	for (i = 0; i < b->n_rows; i++)
		if (strcmp(hist_cell(b, i, 0), s->bench ? "bench" : "device") == 0 &&
		    strcmp(hist_cell(b, i, 1), s->key[0]) == 0 &&
		    strcmp(hist_cell(b, i, 2), s->key[1]) == 0)
			return true;
	return false;
}

int history_watch(struct history *h, const struct spc_params *p, json_t **ret, char *err,
		  size_t errlen)
{
	struct hist_rows baselines = { 0 }, rows = { 0 }, bulk = { 0 };
	size_t tail = (p->confirm ? p->confirm : 1) + 7, i, k, b = 0;
	json_t *flags = json_array();
	int r;

	*ret = NULL;
	r = hist_load_baselines(h, &baselines, err, errlen);
	if (r == 0)
		r = hist_query(h, "SELECT scope, subject, sequence_id, check_kind, check_window,"
				  " measurement, unit FROM series ORDER BY 1, 2, 3, 4, 5, 6",
			       NULL, 0, &rows, err, errlen);
	if (r == 0 && h->be->sql_watch_bulk)
		r = hist_query(h, h->be->sql_watch_bulk,
			       (struct hist_val[]){ hv_int((long long)(p->baseline_n + tail)),
						    hv_int((long long)tail) }, 2,
			       &bulk, err, errlen);
	for (i = 0; r == 0 && i < rows.n_rows; i++) {
		struct series s = { .bench = strcmp(hist_cell(&rows, i, 0), "bench") == 0 };
		struct spc_chart c;
		size_t heads = 0, first = b;
		char desc[160];

		for (k = 0; k < 5; k++)
			s.key[k] = strdup(hist_cell(&rows, i, k + 1));
		s.unit = strdup(hist_cell(&rows, i, 6));
		/* both results are in the store's own order of the series */
		while (b < bulk.n_rows && same_series(&bulk, b, &rows, i))
			heads += strcmp(hist_cell(&bulk, b++, 7), "h") == 0;
		if (!h->be->sql_watch_bulk || has_chosen_baseline(&s, &baselines)) {
			r = load_watched(h, &s, &baselines, p, err, errlen);
		} else {
			/* the whole series when it is short, else the baseline's
			 * first N and the newest points */
			bool whole = heads < p->baseline_n + tail;
			size_t n_head = 0;

			for (k = first; r == 0 && k < b; k++) {
				bool head = strcmp(hist_cell(&bulk, k, 7), "h") == 0;

				if (head ? (!whole && n_head >= p->baseline_n) : whole)
					continue;
				n_head += head;
				r = series_push(&s, hist_cell(&bulk, k, 8), hist_cell(&bulk, k, 9),
						row_ns(&bulk, k, 12), row_pk(&bulk, k, 11),
						hist_cell_double(&bulk, k, 10));
			}
		}
		if (r == 0)
			r = series_watch(&s, &baselines, p, &c, desc, sizeof(desc), flags);
		series_clear(&s);
	}
	hist_rows_free(&bulk);
	hist_rows_free(&rows);
	hist_rows_free(&baselines);
	if (r < 0) {
		json_decref(flags);
		return r;
	}
	*ret = flags;
	return 0;
}

/* ----------------------------------------------------------------- trend */

#define DEVICE_POINTS_SQL                                                                    \
	"SELECT r.device_serial, r.sequence_id, c.kind, c.check_window, m.name, m.unit,"     \
	" r.run_id, r.started_utc, m.value, r.id, r.started_ns"                              \
	" FROM runs_current r JOIN checks c ON c.run_pk = r.id"                              \
	" JOIN measurements m ON m.run_pk = c.run_pk AND m.check_idx = c.check_idx"

struct trend_ctx {
	const struct hist_rows *baselines;
	const struct spc_params *p;
	json_t *out;
};

static int trend_one(void *ctx, struct series *s)
{
	struct trend_ctx *t = ctx;
	struct spc_hit hits[SPC_RULE_LAST + 1];
	struct spc_chart c;
	json_t *flags = json_array(), *points = json_array();
	char desc[160];
	size_t i;
	int r = series_watch(s, t->baselines, t->p, &c, desc, sizeof(desc), flags);

	if (r < 0) {
		json_decref(flags);
		json_decref(points);
		return r;
	}
	for (i = 0; i < s->n; i++) {
		bool base = s->in_base ? s->in_base[i] : c.valid && i < c.n_baseline;
		unsigned held = spc_rules_at(s->x, s->n, i, s->in_base, &c, t->p->rules, hits);
		json_t *rules = json_array();
		int rule;

		for (rule = SPC_RULE_FIRST; rule <= SPC_RULE_LAST; rule++)
			if (held & SPC_RULE_BIT(rule))
				json_array_append_new(rules, json_string(spc_rule_name(rule)));
		json_array_append_new(points, json_pack("{s:s, s:s, s:f, s:b, s:o}",
			"run_id", s->run_id[i], "started", s->started[i], "value", s->x[i],
			"baseline", base, "rules", rules));
	}
	json_array_append_new(t->out, json_pack("{s:o, s:o, s:o, s:o}", "series", series_json(s),
						"chart", chart_json(&c, desc), "points", points,
						"open_flags", flags));
	return 0;
}

/* Through points (watched values: one index range per device), or, for a
 * measurement that is not watched, through every measurement of the device. */
#define TREND_POINTS_SQL                                                                     \
	"SELECT p.subject, p.sequence_id, p.check_kind, p.check_window, p.measurement, s.unit," \
	" p.run_id, p.started_utc, p.value, p.run_pk, p.started_ns FROM points p JOIN series s" \
	" ON s.scope = p.scope"                                                               \
	" AND s.subject = p.subject AND s.sequence_id = p.sequence_id"                        \
	" AND s.check_kind = p.check_kind AND s.check_window = p.check_window"                \
	" AND s.measurement = p.measurement"                                                  \
	" WHERE p.scope = 'device' AND p.subject = $1 AND p.check_kind = $2"                  \
	" AND NOT EXISTS (SELECT 1 FROM runs n WHERE n.run_id = p.run_id AND n.id > p.run_pk)"

static int trend_query(struct history *h, const struct history_trend_query *q, bool watched,
		       struct hist_rows *ret, char *err, size_t errlen)
{
	const char *pre = watched ? "p." : "c.";
	struct hist_val v[5];
	char sql[2048];
	size_t n = 0;
	int o;

	v[n++] = hv_text(q->device_serial);
	v[n++] = hv_text(q->check);
	o = snprintf(sql, sizeof(sql), "%s", watched ? TREND_POINTS_SQL :
		     DEVICE_POINTS_SQL " WHERE r.device_serial = $1 AND c.kind = $2");
	if (q->window) {
		v[n] = hv_text(q->window);
		n++;
		o += snprintf(sql + o, sizeof(sql) - (size_t)o, " AND %scheck_window = $%zu", pre, n);
	}
	if (q->measurement) {
		v[n] = hv_text(q->measurement);
		n++;
		o += snprintf(sql + o, sizeof(sql) - (size_t)o, " AND %s = $%zu",
			      watched ? "p.measurement" : "m.name", n);
	} else {
		o += snprintf(sql + o, sizeof(sql) - (size_t)o, "%s", watched ?
			      " AND p.is_primary = 1" : " AND m.name = c.primary_measurement");
	}
	if (q->sequence_id) {
		v[n] = hv_text(q->sequence_id);
		n++;
		o += snprintf(sql + o, sizeof(sql) - (size_t)o, " AND %ssequence_id = $%zu",
			      watched ? "p." : "r.", n);
	}
	/* in time order: runs started in one second by their nanoseconds,
	 * then (runs from before those were recorded) in the order stored */
	snprintf(sql + o, sizeof(sql) - (size_t)o, " ORDER BY 1, 2, 3, 4, 5, 8, 11, 10");
	return hist_query(h, sql, v, n, ret, err, errlen);
}

int history_trend(struct history *h, const struct history_trend_query *q,
		  const struct spc_params *p, json_t **ret, char *err, size_t errlen)
{
	struct hist_rows baselines = { 0 }, rows = { 0 };
	struct trend_ctx t = { .baselines = &baselines, .p = p, .out = json_array() };
	int r;

	*ret = NULL;
	if (!q->device_serial || !q->check) {
		json_decref(t.out);
		hist_errf(err, errlen, "trend needs a device serial and a check");
		return -EINVAL;
	}
	r = hist_load_baselines(h, &baselines, err, errlen);
	if (r == 0)
		r = trend_query(h, q, true, &rows, err, errlen);
	if (r == 0 && rows.n_rows == 0 && q->measurement) {
		hist_rows_free(&rows);
		r = trend_query(h, q, false, &rows, err, errlen);
	}
	if (r == 0)
		r = for_each_series(&rows, false, trend_one, &t);
	hist_rows_free(&rows);
	hist_rows_free(&baselines);
	if (r < 0) {
		json_decref(t.out);
		return r;
	}
	*ret = t.out;
	return 0;
}

/* -------------------------------------------------------------- baselines */

int history_baseline_set(struct history *h, const char *const *runs, size_t n,
			 const char *set_by, json_t **ret, char *err, size_t errlen)
{
	/* (scope, subject, sequence) -> run ids */
	json_t *groups = json_object(), *g, *out = json_array(), *ids;
	struct hist_rows rows;
	char id[HISTORY_RUN_ID_MAX], now[32];
	const char *key;
	long long pk;
	size_t i, j;
	int r = 0, pass;

	if (ret)
		*ret = NULL;
	if (!n) {
		json_decref(groups);
		json_decref(out);
		hist_errf(err, errlen, "a baseline needs runs");
		return -EINVAL;
	}
	for (i = 0; i < n && r == 0; i++) {
		r = hist_resolve_run(h, runs[i], &pk, id, err, errlen);
		if (r < 0)
			break;
		r = hist_query(h, "SELECT device_serial, bench_id, sequence_id FROM runs WHERE id = $1",
			       (struct hist_val[]){ hv_int(pk) }, 1, &rows, err, errlen);
		if (r < 0)
			break;
		for (pass = 0; pass < 2; pass++) {
			char k[512];

			/* scope \x1f subject \x1f sequence */
			snprintf(k, sizeof(k), "%s\x1f%s\x1f%s", pass ? "bench" : "device",
				 hist_cell(&rows, 0, pass ? 1 : 0), hist_cell(&rows, 0, 2));
			if (!(g = json_object_get(groups, k))) {
				g = json_array();
				json_object_set_new(groups, k, g);
			}
			json_array_append_new(g, json_string(id));
		}
		hist_rows_free(&rows);
	}
	if (r < 0)
		goto out;
	/* a chart's σ is the mean moving range: two runs at least, per device
	 * and per bench (a one-run baseline would stop watching the series) */
	json_object_foreach(groups, key, ids) {
		size_t distinct = 0;

		for (i = 0; i < json_array_size(ids); i++) {
			bool seen = false;

			for (j = 0; j < i && !seen; j++)
				seen = json_equal(json_array_get(ids, i), json_array_get(ids, j));
			distinct += !seen;
		}
		if (distinct < 2) {
			const char *a = strchr(key, '\x1f'), *b = a ? strchr(a + 1, '\x1f') : NULL;

			hist_errf(err, errlen, "the %.*s %.*s's baseline for %s would hold %zu run: "
				  "a baseline needs at least 2 runs of each device and each bench it "
				  "names (the chart's sigma is their mean moving range)",
				  a ? (int)(a - key) : 0, key, a && b ? (int)(b - a - 1) : 0,
				  a ? a + 1 : "", b ? b + 1 : "", distinct);
			r = -EINVAL;
			goto out;
		}
	}
	rig_utc_now_iso(now);
	r = h->be->begin(h->db, err, errlen);
	if (r < 0)
		goto out;
	json_object_foreach(groups, key, ids) {
		char scope[16], subject[200], sequence[200];
		const char *a = strchr(key, '\x1f'), *b = a ? strchr(a + 1, '\x1f') : NULL;
		json_t *idv;
		long long bpk;

		if (!a || !b)
			continue;
		snprintf(scope, sizeof(scope), "%.*s", (int)(a - key), key);
		snprintf(subject, sizeof(subject), "%.*s", (int)(b - a - 1), a + 1);
		snprintf(sequence, sizeof(sequence), "%s", b + 1);
		r = hist_query(h, "INSERT INTO baselines (scope, subject, sequence_id, set_utc, set_by)"
				  " VALUES ($1, $2, $3, $4, $5) RETURNING id",
			       (struct hist_val[]){ hv_text(scope), hv_text(subject), hv_text(sequence),
						    hv_text(now), hv_text(set_by ? set_by : "") }, 5,
			       &rows, err, errlen);
		if (r < 0)
			break;
		if (!hist_cell_ll(&rows, 0, 0, &bpk)) {
			hist_rows_free(&rows);
			r = -EIO;
			break;
		}
		hist_rows_free(&rows);
		json_array_foreach(ids, j, idv) {
			r = hist_query(h, "INSERT INTO baseline_runs (baseline_pk, run_id) VALUES ($1, $2)"
					  " ON CONFLICT DO NOTHING",
				       (struct hist_val[]){ hv_int(bpk), hv_text(json_string_value(idv)) },
				       2, NULL, err, errlen);
			if (r < 0)
				break;
		}
		if (r < 0)
			break;
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:O}", "scope", scope,
			"subject", subject, "sequence_id", sequence, "set_utc", now, "runs", ids));
	}
	if (r < 0) {
		hist_rollback(h);
		goto out;
	}
	r = hist_commit(h, err, errlen);
out:
	json_decref(groups);
	if (r < 0 || !ret)
		json_decref(out);
	else
		*ret = out;
	return r;
}

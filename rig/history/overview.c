/* The whole store at once (overview.h): six statements, then the charts
 * fitted here with spc.c, exactly as history_trend and history_watch fit
 * them. */
#include "internal.h"
#include "overview.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rows the overview's strings point into, and the lookups. */
struct ov_priv {
	struct hist_rows runs, checks, points, series, acceptance, health, instruments, nights,
		night_runs, baselines;
	size_t *by_run_id;            /* run indexes in run id order */
};

static const char *cell(const struct hist_rows *r, size_t row, size_t col)
{
	const char *s = hist_cell(r, row, col);

	return s ? s : "";
}

static long long cell_ll(const struct hist_rows *r, size_t row, size_t col)
{
	long long v = 0;

	hist_cell_ll(r, row, col, &v);
	return v;
}

void history_overview_free(struct history_overview *o)
{
	struct ov_priv *pv;
	size_t i;

	if (!o)
		return;
	pv = o->priv;
	for (i = 0; i < o->n_charts; i++)
		free(o->charts[i].points);
	for (i = 0; i < o->n_nights; i++)
		free(o->nights[i].runs);
	free(o->runs);
	free(o->checks);
	free(o->charts);
	free(o->instruments);
	free(o->nights);
	if (pv) {
		hist_rows_free(&pv->runs);
		hist_rows_free(&pv->checks);
		hist_rows_free(&pv->points);
		hist_rows_free(&pv->series);
		hist_rows_free(&pv->acceptance);
		hist_rows_free(&pv->health);
		hist_rows_free(&pv->instruments);
		hist_rows_free(&pv->nights);
		hist_rows_free(&pv->night_runs);
		hist_rows_free(&pv->baselines);
		free(pv->by_run_id);
		free(pv);
	}
	free(o);
}

/* ------------------------------------------------------------------ runs */

static const struct history_overview *sort_ctx;   /* qsort has no context argument */

static int cmp_run_id(const void *a, const void *b)
{
	return strcmp(sort_ctx->runs[*(const size_t *)a].run_id,
		      sort_ctx->runs[*(const size_t *)b].run_id);
}

size_t history_ov_find_run(const struct history_overview *o, const char *run_id)
{
	const struct ov_priv *pv = o->priv;
	size_t lo = 0, hi = o->n_runs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(o->runs[pv->by_run_id[mid]].run_id, run_id);

		if (c == 0)
			return pv->by_run_id[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return HISTORY_OV_NONE;
}

/* The run whose key is pk (runs are in key order), or HISTORY_OV_NONE. */
static size_t run_by_pk(const struct history_overview *o, long long pk)
{
	size_t lo = 0, hi = o->n_runs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->runs[mid].pk == pk)
			return mid;
		if (o->runs[mid].pk < pk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return HISTORY_OV_NONE;
}

static int load_runs(struct history *h, struct history_overview *o, struct ov_priv *pv,
		     char *err, size_t errlen)
{
	const struct hist_rows *rr = &pv->runs, *cr = &pv->checks;
	size_t i, k;
	int r;

	r = hist_query(h, "SELECT r.id, r.run_id, r.device_serial, r.device_model, r.device_firmware,"
			  " r.sequence_id, r.sequence_version, r.bench_id, r.started_utc, r.ended_utc,"
			  " r.status, r.end_reason, r.verdict, r.clock, r.software, r.operator,"
			  " r.run_dir, r.end_s, r.bench_kind, r.verdict_text, r.started_ns,"
			  " (SELECT MIN(f.id) FROM runs f WHERE f.run_id = r.run_id)"
			  " FROM runs_current r ORDER BY r.id",
		       NULL, 0, &pv->runs, err, errlen);
	if (r == 0)
		/* every version's: those no longer current are dropped in the walk
		 * below (cheaper than asking the store which are) */
		r = hist_query(h, "SELECT c.run_pk, c.check_idx, c.kind, c.check_window, c.requirement,"
				  " c.verdict, c.unit, c.measured, c.u, c.limit_low, c.limit_high"
				  " FROM checks c ORDER BY c.run_pk, c.check_idx", NULL, 0, &pv->checks, err,
			       errlen);
	if (r < 0)
		return r;
	o->runs = calloc(rr->n_rows ? rr->n_rows : 1, sizeof(*o->runs));
	o->checks = calloc(cr->n_rows ? cr->n_rows : 1, sizeof(*o->checks));
	pv->by_run_id = calloc(rr->n_rows ? rr->n_rows : 1, sizeof(*pv->by_run_id));
	if (!o->runs || !o->checks || !pv->by_run_id)
		return -ENOMEM;
	for (i = 0; i < rr->n_rows; i++) {
		struct history_ov_run *run = &o->runs[i];

		run->pk = cell_ll(rr, i, 0);
		run->run_id = cell(rr, i, 1);
		run->device_serial = cell(rr, i, 2);
		run->device_model = cell(rr, i, 3);
		run->device_firmware = cell(rr, i, 4);
		run->sequence_id = cell(rr, i, 5);
		run->sequence_version = cell(rr, i, 6);
		run->bench_id = cell(rr, i, 7);
		run->started = cell(rr, i, 8);
		run->ended = cell(rr, i, 9);
		run->status = cell(rr, i, 10);
		run->end_reason = cell(rr, i, 11);
		run->verdict = cell(rr, i, 12);
		run->clock = cell(rr, i, 13);
		run->software = cell(rr, i, 14);
		run->operator_name = cell(rr, i, 15);
		run->run_dir = cell(rr, i, 16);
		run->end_s = hist_cell_double(rr, i, 17);
		run->sim_mark = history_sim_mark(cell(rr, i, 18), run->clock);
		run->verdict_text = cell(rr, i, 19);
		if (!hist_cell_ll(rr, i, 20, &run->started_ns))
			run->started_ns = LLONG_MIN;
		run->first_pk = cell_ll(rr, i, 21);
		pv->by_run_id[i] = i;
	}
	o->n_runs = rr->n_rows;
	sort_ctx = o;
	qsort(pv->by_run_id, o->n_runs, sizeof(*pv->by_run_id), cmp_run_id);
	/* checks come in key order as the runs do: one walk */
	for (i = 0, k = 0; i < cr->n_rows; i++) {
		long long pk = cell_ll(cr, i, 0);
		struct history_ov_check *c = &o->checks[o->n_checks];

		while (k < o->n_runs && o->runs[k].pk < pk)
			k++;
		if (k == o->n_runs || o->runs[k].pk != pk)
			continue;
		c->run = k;
		c->check_idx = (int)cell_ll(cr, i, 1);
		c->kind = cell(cr, i, 2);
		c->window = cell(cr, i, 3);
		c->requirement = cell(cr, i, 4);
		c->verdict = cell(cr, i, 5);
		c->unit = cell(cr, i, 6);
		c->measured = hist_cell_double(cr, i, 7);
		c->U = hist_cell_double(cr, i, 8);
		c->limit_low = hist_cell_double(cr, i, 9);
		c->limit_high = hist_cell_double(cr, i, 10);
		if (!o->runs[k].n_checks)
			o->runs[k].first_check = o->n_checks;
		o->runs[k].n_checks++;
		o->n_checks++;
	}
	return 0;
}

/* ---------------------------------------------------------------- charts */

/* Every point of every watched series, in the order of points_by_series
 * (series, then time: the index alone, no sort); the points of versions no
 * longer current are dropped here, against the runs read.  Their
 * measurements' U, limits and verdicts, and the health figures' U, come
 * from two scans in key order rather than a join per point: a join would
 * visit the checks and measurements tables in the series' order, a page
 * read for nearly every point. */
#define POINTS_ALL_SQL                                                                       \
	"SELECT p.scope, p.subject, p.sequence_id, p.check_kind, p.check_window, p.measurement," \
	" p.run_pk, p.value FROM points p ORDER BY p.scope, p.subject, p.sequence_id,"          \
	" p.check_kind, p.check_window, p.measurement, p.started_utc, p.started_ns, p.run_pk"
#define OWN_ACCEPTANCE_SQL                                                                   \
	"SELECT m.run_pk, c.kind, c.check_window, m.name, m.u, m.limit_low, m.limit_high,"     \
	" m.verdict FROM measurements m JOIN checks c ON c.run_pk = m.run_pk"                  \
	" AND c.check_idx = m.check_idx WHERE m.verdict <> '' ORDER BY m.run_pk, m.check_idx, m.idx"
#define HEALTH_U_SQL "SELECT run_pk, figure, check_window, u FROM health ORDER BY run_pk"

/* Whether row a of r and row b of t have the same six series keys. */
static bool same_key_rows(const struct hist_rows *r, size_t a, const struct hist_rows *t, size_t b)
{
	size_t c;

	for (c = 0; c < 6; c++)
		if (strcmp(cell(r, a, c), cell(t, b, c)) != 0)
			return false;
	return true;
}

/* Rows (first column a run's key, in key order) by run: runs[i]'s rows
 * start at at[i] (find_row stops where its key ends). */
static size_t *rows_by_run(const struct history_overview *o, const struct hist_rows *r)
{
	size_t *at = calloc(o->n_runs + 1, sizeof(*at)), i, k = 0;

	if (!at)
		return NULL;
	for (i = 0; i < o->n_runs; i++) {
		while (k < r->n_rows && cell_ll(r, k, 0) < o->runs[i].pk)
			k++;
		at[i] = k;
		while (k < r->n_rows && cell_ll(r, k, 0) == o->runs[i].pk)
			k++;
	}
	at[o->n_runs] = k;
	return at;
}

/* The row of run among r's rows (by rows_by_run) whose columns 1.. match
 * the keys; (size_t)-1 when none. */
static size_t find_row(const struct hist_rows *r, const size_t *at, size_t run,
		       const char *const *keys, size_t n_keys, long long pk)
{
	size_t k, c;

	for (k = at[run]; k < r->n_rows && cell_ll(r, k, 0) == pk; k++) {
		for (c = 0; c < n_keys; c++)
			if (strcmp(cell(r, k, c + 1), keys[c]) != 0)
				break;
		if (c == n_keys)
			return k;
	}
	return (size_t)-1;
}

/* Fits the chart of points [first, end) of the points rows. */
static int fit_chart(struct history_overview *o, const struct ov_priv *pv,
		     const struct spc_params *p, size_t first, size_t end,
		     const size_t *m_at, const size_t *h_at, struct history_ov_chart *ch)
{
	const struct hist_rows *pr = &pv->points, *b = &pv->baselines;
	const struct hist_rows *mr = &pv->acceptance, *hr = &pv->health, *sr = &pv->series;
	struct spc_hit hits[SPC_RULE_LAST + 1];
	struct spc_flag f[SPC_RULE_LAST];
	double *x = NULL;
	bool *in_base = NULL;
	long long last_pk = -1;
	size_t i, n = 0, nf;
	int r = 0;

	ch->bench = strcmp(cell(pr, first, 0), "bench") == 0;
	ch->subject = cell(pr, first, 1);
	ch->sequence_id = cell(pr, first, 2);
	ch->check = cell(pr, first, 3);
	ch->window = cell(pr, first, 4);
	ch->measurement = cell(pr, first, 5);
	ch->unit = "";
	for (i = 0; i < sr->n_rows; i++)
		if (same_key_rows(pr, first, sr, i))
			ch->unit = cell(sr, i, 6);
	ch->points = calloc(end - first, sizeof(*ch->points));
	x = calloc(end - first, sizeof(*x));
	if (!ch->points || !x) {
		r = -ENOMEM;
		goto out;
	}
	for (i = first; i < end; i++) {
		long long pk = cell_ll(pr, i, 6);
		size_t run = run_by_pk(o, pk), row;
		struct history_ov_point *pt = &ch->points[n];
		double v = hist_cell_double(pr, i, 7);

		/* one point per run; none of a version no longer current */
		if (pk == last_pk || run == HISTORY_OV_NONE || !isfinite(v))
			continue;
		last_pk = pk;
		pt->run = run;
		pt->value = x[n] = v;
		pt->U = pt->limit_low = pt->limit_high = NAN;
		pt->verdict = "";
		if (ch->bench) {
			const char *keys[] = { ch->measurement, ch->window };

			row = find_row(hr, h_at, run, keys, 2, pk);
			if (row != (size_t)-1)
				pt->U = hist_cell_double(hr, row, 3);
		} else {
			const char *keys[] = { ch->check, ch->window, ch->measurement };

			row = find_row(mr, m_at, run, keys, 3, pk);
			if (row != (size_t)-1) {
				pt->U = hist_cell_double(mr, row, 4);
				pt->limit_low = hist_cell_double(mr, row, 5);
				pt->limit_high = hist_cell_double(mr, row, 6);
				pt->verdict = cell(mr, row, 7);
			}
		}
		n++;
	}
	ch->n_points = n;
	/* a baseline chosen for this subject and sequence replaces the first N */
	snprintf(ch->baseline, sizeof(ch->baseline), "first %zu runs", p->baseline_n);
	for (i = 0; i < b->n_rows; i++) {
		size_t k;

		if (strcmp(cell(b, i, 0), ch->bench ? "bench" : "device") != 0 ||
		    strcmp(cell(b, i, 1), ch->subject) != 0 || strcmp(cell(b, i, 2), ch->sequence_id) != 0)
			continue;
		if (!in_base) {
			in_base = calloc(n ? n : 1, sizeof(*in_base));
			if (!in_base) {
				r = -ENOMEM;
				goto out;
			}
			snprintf(ch->baseline, sizeof(ch->baseline), "chosen %s by %s", cell(b, i, 4),
				 cell(b, i, 5));
			ch->baseline_chosen = true;
		}
		for (k = 0; k < n; k++)
			if (strcmp(o->runs[ch->points[k].run].run_id, cell(b, i, 3)) == 0)
				in_base[k] = true;
	}
	/* a chosen baseline with fewer than two of this series' points has no
	 * limits: the chart says so rather than the whole overview failing */
	if (spc_chart_fit(x, n, in_base, p, &ch->chart) < 0)
		ch->chart = (struct spc_chart){ .valid = false };
	if (!ch->chart.valid)
		goto out;
	for (i = 0; i < n; i++) {
		ch->points[i].baseline = in_base ? in_base[i] : i < ch->chart.n_baseline;
		ch->points[i].rules = spc_rules_at(x, n, i, in_base, &ch->chart, p->rules, hits);
	}
	nf = spc_open_flags(x, n, in_base, &ch->chart, p, f, SPC_RULE_LAST);
	for (i = 0; i < nf && i < SPC_RULE_LAST; i++)
		ch->flags[ch->n_flags++] = (struct history_ov_flag){ f[i].rule, f[i].first, f[i].last,
								     f[i].side };
out:
	free(x);
	free(in_base);
	return r;
}

static int load_charts(struct history *h, struct history_overview *o, struct ov_priv *pv,
		       const struct spc_params *p, char *err, size_t errlen)
{
	const struct hist_rows *pr = &pv->points;
	size_t i, first, n = 0, *m_at = NULL, *h_at = NULL;
	int r = hist_load_baselines(h, &pv->baselines, err, errlen);

	if (r == 0)
		r = hist_query(h, POINTS_ALL_SQL, NULL, 0, &pv->points, err, errlen);
	if (r == 0)
		r = hist_query(h, "SELECT scope, subject, sequence_id, check_kind, check_window,"
				  " measurement, unit FROM series", NULL, 0, &pv->series, err, errlen);
	if (r == 0)
		r = hist_query(h, OWN_ACCEPTANCE_SQL, NULL, 0, &pv->acceptance, err, errlen);
	if (r == 0)
		r = hist_query(h, HEALTH_U_SQL, NULL, 0, &pv->health, err, errlen);
	if (r < 0)
		return r;
	m_at = rows_by_run(o, &pv->acceptance);
	h_at = rows_by_run(o, &pv->health);
	for (i = 0; i < pr->n_rows; i++)
		n += i == 0 || !same_key_rows(pr, i - 1, pr, i);
	o->charts = calloc(n ? n : 1, sizeof(*o->charts));
	if (!o->charts || !m_at || !h_at)
		r = -ENOMEM;
	for (first = 0; first < pr->n_rows && r == 0; first = i) {
		for (i = first + 1; i < pr->n_rows && same_key_rows(pr, first, pr, i); i++)
			;
		r = fit_chart(o, pv, p, first, i, m_at, h_at, &o->charts[o->n_charts]);
		/* a series whose every point is of an old version is no chart */
		if (r == 0 && o->charts[o->n_charts].n_points == 0)
			free(o->charts[o->n_charts].points);
		else
			o->n_charts++;
	}
	free(m_at);
	free(h_at);
	return r;
}

/* ----------------------------------------------------------- instruments */

static int load_instruments(struct history *h, struct history_overview *o, struct ov_priv *pv,
			    char *err, size_t errlen)
{
	const struct hist_rows *ir = &pv->instruments;
	size_t i;
	int r = hist_query(h, "SELECT r.bench_id, i.role, i.backend, i.model, i.serial, i.cal_date,"
			      " i.cal_due, i.cal_uncertainty, MIN(r.started_utc), MAX(r.started_utc),"
			      " COUNT(*) FROM instruments i JOIN runs_current r ON r.id = i.run_pk"
			      " GROUP BY r.bench_id, i.role, i.backend, i.model, i.serial, i.cal_date,"
			      " i.cal_due, i.cal_uncertainty ORDER BY 1, 2, 9",
			   NULL, 0, &pv->instruments, err, errlen);

	if (r < 0)
		return r;
	o->instruments = calloc(ir->n_rows ? ir->n_rows : 1, sizeof(*o->instruments));
	if (!o->instruments)
		return -ENOMEM;
	for (i = 0; i < ir->n_rows; i++) {
		struct history_ov_instrument *in = &o->instruments[i];

		in->bench_id = cell(ir, i, 0);
		in->role = cell(ir, i, 1);
		in->backend = cell(ir, i, 2);
		in->model = cell(ir, i, 3);
		in->serial = cell(ir, i, 4);
		in->cal_date = cell(ir, i, 5);
		in->cal_due = cell(ir, i, 6);
		in->cal_uncertainty = cell(ir, i, 7);
		in->first_seen = cell(ir, i, 8);
		in->last_seen = cell(ir, i, 9);
		in->n_runs = (size_t)cell_ll(ir, i, 10);
	}
	o->n_instruments = ir->n_rows;
	return 0;
}

int history_ov_run_cmp(const struct history_ov_run *a, const struct history_ov_run *b)
{
	int c = strcmp(a->started, b->started);

	if (c)
		return c;
	if (a->started_ns != b->started_ns)
		return a->started_ns < b->started_ns ? -1 : 1;
	return a->first_pk < b->first_pk ? -1 : a->first_pk > b->first_pk;
}

/* ---------------------------------------------------------------- nights */

static int cmp_night(const void *a, const void *b)
{
	const struct history_ov_night *x = a, *y = b;
	int c = strcmp(x->bench_id, y->bench_id);

	return c ? c : strcmp(x->started, y->started);
}

static int load_nights(struct history *h, struct history_overview *o, struct ov_priv *pv,
		       char *err, size_t errlen)
{
	const struct hist_rows *nr = &pv->nights, *rr = &pv->night_runs;
	size_t i, k = 0;
	int r = hist_query(h, "SELECT id, night_id, plan_id, bench_id, started_utc, ended_utc,"
			      " status, reason, verdict, night_dir, exit_status, virtual_time"
			      " FROM nights ORDER BY id", NULL, 0, &pv->nights, err, errlen);

	if (r == 0)
		r = hist_query(h, "SELECT night_pk, job, repeat_index, exit_status, sequence_id,"
				  " device_serial, run_id, run_dir, verdict, status, end_cause,"
				  " retry_of, duration_s, retry FROM night_runs ORDER BY night_pk, idx",
			       NULL, 0, &pv->night_runs, err, errlen);
	if (r < 0)
		return r;
	o->nights = calloc(nr->n_rows ? nr->n_rows : 1, sizeof(*o->nights));
	if (!o->nights)
		return -ENOMEM;
	for (i = 0; i < nr->n_rows; i++) {
		struct history_ov_night *n = &o->nights[i];
		long long pk = cell_ll(nr, i, 0);
		size_t first;

		n->night_id = cell(nr, i, 1);
		n->plan_id = cell(nr, i, 2);
		n->bench_id = cell(nr, i, 3);
		n->started = cell(nr, i, 4);
		n->ended = cell(nr, i, 5);
		n->status = cell(nr, i, 6);
		n->reason = cell(nr, i, 7);
		n->verdict = cell(nr, i, 8);
		n->night_dir = cell(nr, i, 9);
		n->exit_status = (int)cell_ll(nr, i, 10);
		n->virtual_time = cell_ll(nr, i, 11) != 0;
		/* its runs: the night runs come in key order too */
		while (k < rr->n_rows && cell_ll(rr, k, 0) < pk)
			k++;
		for (first = k; k < rr->n_rows && cell_ll(rr, k, 0) == pk; k++)
			;
		if (k == first)
			continue;
		n->runs = calloc(k - first, sizeof(*n->runs));
		if (!n->runs)
			return -ENOMEM;
		for (; first < k; first++) {
			struct history_ov_night_run *e = &n->runs[n->n_runs++];

			e->job = (int)cell_ll(rr, first, 1);
			e->repeat_index = (int)cell_ll(rr, first, 2);
			e->exit_status = (int)cell_ll(rr, first, 3);
			e->sequence_id = cell(rr, first, 4);
			e->device_serial = cell(rr, first, 5);
			e->run_id = cell(rr, first, 6);
			e->run_dir = cell(rr, first, 7);
			e->verdict = cell(rr, first, 8);
			e->status = cell(rr, first, 9);
			e->end_cause = cell(rr, first, 10);
			e->retry_of = cell(rr, first, 11);
			e->duration_s = hist_cell_double(rr, first, 12);
			e->retry = cell_ll(rr, first, 13) != 0;
			e->run = *e->run_id ? history_ov_find_run(o, e->run_id) : HISTORY_OV_NONE;
		}
	}
	o->n_nights = nr->n_rows;
	qsort(o->nights, o->n_nights, sizeof(*o->nights), cmp_night);
	return 0;
}

int history_overview(struct history *h, const struct spc_params *p,
		     struct history_overview **ret, char *err, size_t errlen)
{
	struct history_overview *o = calloc(1, sizeof(*o));
	struct ov_priv *pv = calloc(1, sizeof(*pv));
	int r;

	*ret = NULL;
	if (!o || !pv) {
		free(o);
		free(pv);
		return -ENOMEM;
	}
	o->priv = pv;
	o->engine = h->be->name;
	r = load_runs(h, o, pv, err, errlen);
	if (r == 0)
		r = load_charts(h, o, pv, p, err, errlen);
	if (r == 0)
		r = load_instruments(h, o, pv, err, errlen);
	if (r == 0)
		r = load_nights(h, o, pv, err, errlen);
	if (r < 0) {
		if (r == -ENOMEM)
			hist_errf(err, errlen, "out of memory reading the history");
		history_overview_free(o);
		return r;
	}
	*ret = o;
	return 0;
}

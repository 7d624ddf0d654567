/* What `rig history` asks of the store: list, show, previous, compare,
 * trend, watch and baselines.  Every query reads the newest version of
 * each run (the view runs_current).  See history.h. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Column specs: a type letter (s text, r real, i integer) then the JSON key. */
static json_t *row_object(const struct hist_rows *rows, size_t row, const char *const *spec,
			  size_t first_col)
{
	json_t *o = json_object();
	size_t c;

	for (c = 0; spec[c]; c++) {
		const char *cell = hist_cell(rows, row, first_col + c);
		const char *key = spec[c] + 1;
		long long i;
		double d;

		switch (spec[c][0]) {
		case 'r':
			d = hist_cell_double(rows, row, first_col + c);
			json_object_set_new(o, key, isfinite(d) ? json_real(d) : json_null());
			break;
		case 'i':
			json_object_set_new(o, key, hist_cell_ll(rows, row, first_col + c, &i) ?
						    json_integer(i) : json_null());
			break;
		default:
			json_object_set_new(o, key, json_string(cell ? cell : ""));
			break;
		}
	}
	return o;
}

static json_t *rows_array(const struct hist_rows *rows, const char *const *spec)
{
	json_t *a = json_array();
	size_t r;

	for (r = 0; r < rows->n_rows; r++)
		json_array_append_new(a, row_object(rows, r, spec, 0));
	return a;
}

/* A RUN as the user wrote it: a run directory, else a run id.  The newest
 * stored version's key into ret_pk; -ENOENT when not stored. */
static int resolve_run(struct history *h, const char *run, long long *ret_pk,
		       char ret_id[HISTORY_RUN_ID_MAX], char *err, size_t errlen)
{
	struct hist_rows rows;
	struct stat st;
	int r;

	if (stat(run, &st) == 0 && S_ISDIR(st.st_mode)) {
		r = history_run_id_of_dir(run, ret_id);
		if (r < 0) {
			hist_errf(err, errlen, "%s: not a run directory (no readable run.json)", run);
			return -ENOENT;
		}
	} else {
		snprintf(ret_id, HISTORY_RUN_ID_MAX, "%s", run);
	}
	r = hist_query(h, "SELECT MAX(id) FROM runs WHERE run_id = $1",
		       (struct hist_val[]){ hv_text(ret_id) }, 1, &rows, err, errlen);
	if (r < 0)
		return r;
	if (!hist_cell_ll(&rows, 0, 0, ret_pk)) {
		hist_rows_free(&rows);
		hist_errf(err, errlen, "%s: no such run in the history", run);
		return -ENOENT;
	}
	hist_rows_free(&rows);
	return 0;
}

/* ------------------------------------------------------------------ list */

static const char *const list_spec[] = {
	"srun_id", "sdevice_serial", "sdevice_model", "ssequence_id", "sbench_id", "sstarted",
	"sended", "sstatus", "sverdict", "sclock", "ssoftware", "srun_dir", "iversions", NULL
};

int history_list(struct history *h, const struct history_filter *f, json_t **ret, char *err,
		 size_t errlen)
{
	struct hist_val p[5];
	struct hist_rows rows;
	char sql[1024];
	size_t n = 0;
	int o, r;

	*ret = NULL;
	o = snprintf(sql, sizeof(sql),
		     "SELECT r.run_id, r.device_serial, r.device_model, r.sequence_id, r.bench_id,"
		     " r.started_utc, r.ended_utc, r.status, r.verdict, r.clock, r.software, r.run_dir,"
		     " (SELECT COUNT(*) FROM runs v WHERE v.run_id = r.run_id)"
		     " FROM runs_current r WHERE 1 = 1");
#define FILTER(field, column, op)                                                            \
	if (f && f->field && *f->field) {                                                    \
		p[n] = hv_text(f->field);                                                    \
		n++;                                                                         \
		o += snprintf(sql + o, sizeof(sql) - (size_t)o, " AND r." column " " op " $%zu", n); \
	}
	FILTER(device_serial, "device_serial", "=")
	FILTER(sequence_id, "sequence_id", "=")
	FILTER(bench_id, "bench_id", "=")
	FILTER(since_utc, "started_utc", ">=")
#undef FILTER
	o += snprintf(sql + o, sizeof(sql) - (size_t)o, " ORDER BY r.started_utc DESC, r.run_id DESC");
	if (f && f->limit) {
		p[n] = hv_int((long long)f->limit);
		n++;
		snprintf(sql + o, sizeof(sql) - (size_t)o, " LIMIT $%zu", n);
	}
	r = hist_query(h, sql, p, n, &rows, err, errlen);
	if (r < 0)
		return r;
	*ret = rows_array(&rows, list_spec);
	hist_rows_free(&rows);
	return 0;
}

/* ------------------------------------------------------------------ show */

static const char *const run_spec[] = {
	"srun_id", "sdevice_model", "sdevice_serial", "sdevice_firmware", "ssequence_id",
	"ssequence_version", "ssequence_sha256", "sbench_id", "ssoftware", "shost", "soperator",
	"sstarted", "sended", "sclock", "sstatus", "send_reason", "sverdict", "rend_s", "isamples",
	"srun_dir", "smanifest_sha256", "ssealed_utc", "ssealed_by", "sfirst_sealed_utc",
	"ssealed_after_the_fact", "ssigned_by", "sresults_schema", "singested_utc", NULL
};
static const char *const input_spec[] = { "sname", "ssha256", "ssource_path", NULL };
static const char *const instrument_spec[] = { "srole", "sbackend", "smodel", "sserial",
					       "scal_date", "scal_due", "scal_uncertainty", NULL };
static const char *const check_spec[] = { "icheck_idx", "scheck", "swindow", "srequirement",
					  "isequence_line", "sverdict", "rmeasured", "rU", "sunit",
					  "rlimit_low", "rlimit_high", "sprimary_measurement",
					  "scriterion", "sexplanation", NULL };
static const char *const measurement_spec[] = { "icheck_idx", "sname", "rvalue", "rU", "sunit",
						"rlimit_low", "rlimit_high", "sverdict", NULL };
static const char *const health_spec[] = { "sfigure", "swindow", "rvalue", "rU", "sunit",
					   "ssource", NULL };
static const char *const version_spec[] = { "iversion", "smanifest_sha256", "ssealed_utc",
					    "ssealed_by", "singested_utc", "sverdict", NULL };

static int show_pk(struct history *h, long long pk, json_t **ret, char *err, size_t errlen)
{
	struct hist_val p[] = { hv_int(pk) };
	struct hist_rows rows;
	json_t *o, *checks, *ms, *c, *m;
	size_t i, j;
	int r;

	r = hist_query(h, "SELECT run_id, device_model, device_serial, device_firmware, sequence_id,"
			  " sequence_version, sequence_sha256, bench_id, software, host, operator,"
			  " started_utc, ended_utc, clock, status, end_reason, verdict, end_s,"
			  " samples, run_dir, manifest_sha256, sealed_utc, sealed_by,"
			  " first_sealed_utc, sealed_after_the_fact, signed_by, results_schema,"
			  " ingested_utc FROM runs WHERE id = $1", p, 1, &rows, err, errlen);
	if (r < 0)
		return r;
	if (!rows.n_rows) {
		hist_rows_free(&rows);
		return -ENOENT;
	}
	o = row_object(&rows, 0, run_spec, 0);
	hist_rows_free(&rows);

#define SUB(key, spec, sql)                                                                  \
	r = hist_query(h, sql, p, 1, &rows, err, errlen);                                    \
	if (r < 0)                                                                           \
		goto fail;                                                                   \
	json_object_set_new(o, key, rows_array(&rows, spec));                               \
	hist_rows_free(&rows);
	SUB("inputs", input_spec, "SELECT name, sha256, source_path FROM run_inputs WHERE run_pk = $1"
				  " ORDER BY name")
	SUB("instruments", instrument_spec,
	    "SELECT role, backend, model, serial, cal_date, cal_due, cal_uncertainty"
	    " FROM instruments WHERE run_pk = $1 ORDER BY role")
	SUB("checks", check_spec,
	    "SELECT check_idx, kind, check_window, requirement, sequence_line, verdict, measured, u,"
	    " unit, limit_low, limit_high, primary_measurement, criterion, explanation FROM checks"
	    " WHERE run_pk = $1 ORDER BY check_idx")
	SUB("health", health_spec, "SELECT figure, check_window, value, u, unit, source FROM health"
				   " WHERE run_pk = $1 ORDER BY figure, check_window")
	r = hist_query(h, "SELECT check_idx, name, value, u, unit, limit_low, limit_high, verdict"
			  " FROM measurements WHERE run_pk = $1 ORDER BY check_idx, idx",
		       p, 1, &rows, err, errlen);
	if (r < 0)
		goto fail;
	ms = rows_array(&rows, measurement_spec);
	hist_rows_free(&rows);
	checks = json_object_get(o, "checks");
	json_array_foreach(checks, i, c)
		json_object_set_new(c, "measurements", json_array());
	json_array_foreach(ms, j, m) {
		json_int_t ci = json_integer_value(json_object_get(m, "check_idx"));

		json_array_foreach(checks, i, c) {
			if (json_integer_value(json_object_get(c, "check_idx")) == ci) {
				json_object_del(m, "check_idx");
				json_array_append(json_object_get(c, "measurements"), m);
				break;
			}
		}
	}
	json_decref(ms);
	/* every version, numbered in ingest order (not through the view
	 * run_versions: SQLite would number every run's versions to find one's) */
	r = hist_query(h, "SELECT v.manifest_sha256, v.sealed_utc, v.sealed_by, v.ingested_utc,"
			  " v.verdict FROM runs v WHERE v.run_id = (SELECT run_id FROM runs WHERE id = $1)"
			  " ORDER BY v.id", p, 1, &rows, err, errlen);
	if (r < 0)
		goto fail;
	{
		json_t *versions = json_array();

		for (i = 0; i < rows.n_rows; i++) {
			json_t *v = row_object(&rows, i, version_spec + 1, 0);

			json_object_set_new(v, "version", json_integer((json_int_t)i + 1));
			json_array_append_new(versions, v);
		}
		json_object_set_new(o, "versions", versions);
	}
	hist_rows_free(&rows);
#undef SUB
	*ret = o;
	return 0;
fail:
	json_decref(o);
	return r;
}

int history_show(struct history *h, const char *run, json_t **ret, char *err, size_t errlen)
{
	char id[HISTORY_RUN_ID_MAX];
	long long pk;
	int r;

	*ret = NULL;
	r = resolve_run(h, run, &pk, id, err, errlen);
	if (r < 0)
		return r;
	return show_pk(h, pk, ret, err, errlen);
}

/* -------------------------------------------------------- previous, compare */

int history_previous(struct history *h, const char *run, char ret_run_id[HISTORY_RUN_ID_MAX],
		     char *err, size_t errlen)
{
	char id[HISTORY_RUN_ID_MAX];
	struct hist_rows rows;
	long long pk;
	int r = resolve_run(h, run, &pk, id, err, errlen);

	if (r < 0)
		return r;
	/* every version of a run shares its start, device and sequence, so
	 * any row of the previous run names it: the index runs_by_device */
	r = hist_query(h, "SELECT p.run_id FROM runs r JOIN runs p"
			  " ON p.device_serial = r.device_serial AND p.sequence_id = r.sequence_id"
			  " AND (p.started_utc < r.started_utc"
			  "      OR (p.started_utc = r.started_utc AND p.run_id < r.run_id))"
			  " WHERE r.id = $1 ORDER BY p.started_utc DESC, p.run_id DESC LIMIT 1",
		       (struct hist_val[]){ hv_int(pk) }, 1, &rows, err, errlen);
	if (r < 0)
		return r;
	if (!rows.n_rows) {
		hist_rows_free(&rows);
		hist_errf(err, errlen, "%s: no earlier run of the same device and sequence", run);
		return -ENOENT;
	}
	snprintf(ret_run_id, HISTORY_RUN_ID_MAX, "%s", hist_cell(&rows, 0, 0));
	hist_rows_free(&rows);
	return 0;
}

static json_t *change(const json_t *a, const json_t *b, const char *key)
{
	json_t *va = json_object_get(a, key), *vb = json_object_get(b, key);

	return json_pack("{s:s, s:O, s:O, s:b}", "field", key, "a", va ? va : json_null(),
			 "b", vb ? vb : json_null(), "changed", !json_equal(va, vb));
}

/* Finds in array the object whose key k1 (and k2, when not NULL) equal o's. */
static json_t *find_match(const json_t *array, const json_t *o, const char *k1, const char *k2)
{
	size_t i;
	json_t *e;

	json_array_foreach(array, i, e)
		if (json_equal(json_object_get(e, k1), json_object_get(o, k1)) &&
		    (!k2 || json_equal(json_object_get(e, k2), json_object_get(o, k2))))
			return e;
	return NULL;
}

static json_t *compare_rows(const json_t *ra, const json_t *rb, const char *key,
			    const char *const *fields)
{
	json_t *out = json_array(), *e, *m;
	size_t i, f;
	int pass;

	/* a's rows in order, then those only b has */
	for (pass = 0; pass < 2; pass++) {
		json_array_foreach(pass ? rb : ra, i, e) {
			json_t *other = find_match(pass ? ra : rb, e, key, NULL);
			json_t *a = pass ? other : e, *b = pass ? e : other, *fs;
			bool changed = !a || !b;

			if (pass && other)
				continue;
			fs = json_array();
			for (f = 0; fields[f]; f++) {
				m = change(a, b, fields[f]);
				if (json_is_true(json_object_get(m, "changed")))
					changed = true;
				json_array_append_new(fs, m);
			}
			json_array_append_new(out, json_pack("{s:O, s:b, s:b, s:b, s:o}",
				key, json_object_get(e, key), "in_a", a != NULL, "in_b", b != NULL,
				"changed", changed, "fields", fs));
		}
	}
	return out;
}

/* Every measurement as one row: check, window, measurement, value, U, unit. */
static json_t *flat_values(const json_t *run)
{
	json_t *out = json_array(), *c, *m;
	size_t i, j;

	json_array_foreach(json_object_get(run, "checks"), i, c)
		json_array_foreach(json_object_get(c, "measurements"), j, m)
			json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O}",
				"check", json_object_get(c, "check"),
				"window", json_object_get(c, "window"),
				"measurement", json_object_get(m, "name"),
				"value", json_object_get(m, "value"), "U", json_object_get(m, "U"),
				"unit", json_object_get(m, "unit"),
				"verdict", json_object_get(m, "verdict")));
	return out;
}

static bool same_value_key(const json_t *x, const json_t *y)
{
	return json_equal(json_object_get(x, "check"), json_object_get(y, "check")) &&
	       json_equal(json_object_get(x, "window"), json_object_get(y, "window")) &&
	       json_equal(json_object_get(x, "measurement"), json_object_get(y, "measurement"));
}

static double num_or_nan(const json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Each value of a against b: the change is significant when it is larger
 * than the two expanded uncertainties combined, |b - a| > sqrt(Ua^2 + Ub^2)
 * (the runs are independent, so their uncertainties add in quadrature). */
static json_t *compare_values(const json_t *a, const json_t *b)
{
	json_t *va = flat_values(a), *vb = flat_values(b), *out = json_array(), *x, *y;
	size_t i, j;

	json_array_foreach(va, i, x) {
		double xa = num_or_nan(json_object_get(x, "value")), ua, ub, xb, d, lim;
		json_t *o;

		y = NULL;
		for (j = 0; j < json_array_size(vb) && !y; j++)
			if (same_value_key(x, json_array_get(vb, j)))
				y = json_array_get(vb, j);
		xb = y ? num_or_nan(json_object_get(y, "value")) : NAN;
		ua = num_or_nan(json_object_get(x, "U"));
		ub = y ? num_or_nan(json_object_get(y, "U")) : NAN;
		d = xb - xa;
		lim = sqrt(ua * ua + ub * ub);
		o = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:o, s:o}",
			"check", json_object_get(x, "check"), "window", json_object_get(x, "window"),
			"measurement", json_object_get(x, "measurement"), "unit", json_object_get(x, "unit"),
			"a", json_object_get(x, "value"), "U_a", json_object_get(x, "U"),
			"b", y ? json_incref(json_object_get(y, "value")) : json_null(),
			"U_b", y ? json_incref(json_object_get(y, "U")) : json_null(),
			"delta", isfinite(d) ? json_real(d) : json_null());
		json_object_set_new(o, "U_combined", isfinite(lim) ? json_real(lim) : json_null());
		json_object_set_new(o, "significant", isfinite(d) && isfinite(lim) ?
						      json_boolean(fabs(d) > lim) : json_null());
		json_object_set_new(o, "verdict_a", json_incref(json_object_get(x, "verdict")));
		json_object_set_new(o, "verdict_b", y ? json_incref(json_object_get(y, "verdict")) :
						      json_null());
		json_array_append_new(out, o);
	}
	json_array_foreach(vb, j, y) {
		bool found = false;

		json_array_foreach(va, i, x)
			found = found || same_value_key(x, y);
		if (!found)
			json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O, s:n, s:n, s:O, s:O,"
							     " s:n, s:n, s:n}",
				"check", json_object_get(y, "check"), "window", json_object_get(y, "window"),
				"measurement", json_object_get(y, "measurement"),
				"unit", json_object_get(y, "unit"), "a", "U_a",
				"b", json_object_get(y, "value"), "U_b", json_object_get(y, "U"),
				"delta", "U_combined", "significant"));
	}
	json_decref(va);
	json_decref(vb);
	return out;
}

int history_compare(struct history *h, const char *run_a, const char *run_b, json_t **ret,
		    char *err, size_t errlen)
{
	static const char *const identity[] = { "device_model", "device_serial", "device_firmware",
		"sequence_id", "sequence_version", "sequence_sha256", "bench_id", "software", "host",
		"operator", "clock", "status", "verdict", NULL };
	static const char *const input_fields[] = { "sha256", "source_path", NULL };
	static const char *const instrument_fields[] = { "backend", "model", "serial", "cal_date",
							 "cal_due", "cal_uncertainty", NULL };
	json_t *a = NULL, *b = NULL, *out, *ids;
	size_t i;
	int r;

	*ret = NULL;
	r = history_show(h, run_a, &a, err, errlen);
	if (r == 0)
		r = history_show(h, run_b, &b, err, errlen);
	if (r < 0) {
		json_decref(a);
		return r;
	}
	ids = json_array();
	for (i = 0; identity[i]; i++)
		json_array_append_new(ids, change(a, b, identity[i]));
	out = json_pack("{s:O, s:O, s:O, s:O, s:o, s:o, s:o, s:o}",
		"run_a", json_object_get(a, "run_id"), "run_b", json_object_get(b, "run_id"),
		"started_a", json_object_get(a, "started"), "started_b", json_object_get(b, "started"),
		"identity", ids,
		"inputs", compare_rows(json_object_get(a, "inputs"), json_object_get(b, "inputs"),
				       "name", input_fields),
		"instruments", compare_rows(json_object_get(a, "instruments"),
					    json_object_get(b, "instruments"), "role",
					    instrument_fields),
		"values", compare_values(a, b));
	json_decref(a);
	json_decref(b);
	if (!out)
		return -ENOMEM;
	*ret = out;
	return 0;
}

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
	free(s->in_base);
	*s = (struct series){ 0 };
}

static int series_push(struct series *s, const char *run_id, const char *started, double x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		double *nx = realloc(s->x, cap * sizeof(*nx));
		char **nr, **ns;

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
		s->cap = cap;
	}
	s->x[s->n] = x;
	s->run_id[s->n] = strdup(run_id ? run_id : "");
	s->started[s->n] = strdup(started ? started : "");
	s->n++;
	return s->run_id[s->n - 1] && s->started[s->n - 1] ? 0 : -ENOMEM;
}

/* The newest baseline of every subject and sequence, as rows
 * (scope, subject, sequence_id, run_id, set_utc, set_by, baseline key). */
static int load_baselines(struct history *h, struct hist_rows *ret, char *err, size_t errlen)
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
			r = series_push(&s, hist_cell(rows, i, 6), hist_cell(rows, i, 7), v);
	}
	if (r == 0 && s.key[0])
		r = fn(ctx, &s);
	series_clear(&s);
	return r;
}

/* ----------------------------------------------------------------- watch */

/* The points of one watched series (keys in s), current versions only, in
 * time order. */
#define POINTS_SQL(extra, order, limit)                                                      \
	"SELECT p.run_id, p.started_utc, p.value FROM points p WHERE p.scope = $1"          \
	" AND p.subject = $2 AND p.sequence_id = $3 AND p.check_kind = $4"                  \
	" AND p.check_window = $5 AND p.measurement = $6" extra                              \
	" AND NOT EXISTS (SELECT 1 FROM runs n WHERE n.run_id = p.run_id AND n.id > p.run_pk)" \
	" ORDER BY p.started_utc " order ", p.run_id " order limit

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
		s->run_id[o] = s->run_id[i];
		s->started[o] = s->started[i];
		o++;
	}
	s->n = o;
}

/* Sorts a series by (started, run id). */
static void series_sort(struct series *s)
{
	size_t i, j;

	for (i = 1; i < s->n; i++) {
		for (j = i; j > 0; j--) {
			int c = strcmp(s->started[j - 1], s->started[j]);
			double tx;
			char *t;

			if (c < 0 || (c == 0 && strcmp(s->run_id[j - 1], s->run_id[j]) <= 0))
				break;
			tx = s->x[j], s->x[j] = s->x[j - 1], s->x[j - 1] = tx;
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
	r = load_baselines(h, &baselines, err, errlen);
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
	" r.run_id, r.started_utc, m.value"                                                  \
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
	" p.run_id, p.started_utc, p.value FROM points p JOIN series s ON s.scope = p.scope"   \
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
	snprintf(sql + o, sizeof(sql) - (size_t)o, " ORDER BY 1, 2, 3, 4, 5, 8, 7");
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
	r = load_baselines(h, &baselines, err, errlen);
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
		r = resolve_run(h, runs[i], &pk, id, err, errlen);
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
	hist_utc_now(now);
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

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

/* Column specs: a type letter (s text, r real, i integer) then the JSON key.
 * The keys are ours and the text came into the store through the JSON of a
 * run directory (valid UTF-8, checked when it was read): no check again,
 * which is most of the cost of listing thousands of runs. */
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
			json_object_set_new_nocheck(o, key, isfinite(d) ? json_real(d) : json_null());
			break;
		case 'i':
			json_object_set_new_nocheck(o, key, hist_cell_ll(rows, row, first_col + c, &i) ?
								    json_integer(i) : json_null());
			break;
		default:
			json_object_set_new_nocheck(o, key, json_string_nocheck(cell ? cell : ""));
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
int hist_resolve_run(struct history *h, const char *run, long long *ret_pk,
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

/* ----------------------------------------------------------------- trace */

static const char *const trace_spec[] = {
	"srun_id", "sstarted", "sdevice_model", "sdevice_serial", "sclock", "ssequence_id",
	"srequirement", "scheck_verdict", "smeasurement", "rvalue", "sunit", "rlimit_low",
	"rlimit_high", "scheck", "swindow", NULL
};

/* Each judged measurement under the requirement it judges: its own where
 * it has one (Ep(max), Ep(min), a bolus lockout), else its check's; and
 * with its own verdict (a bolus within its tolerance passes it, whatever
 * the lockout did to the check). */
#define TRACE_SELECT                                                                       \
	"SELECT r.run_id, r.started_utc, r.device_model, r.device_serial, r.clock, "        \
	"r.sequence_id, COALESCE(NULLIF(m.requirement, ''), c.requirement) AS requirement, " \
	"COALESCE(NULLIF(m.verdict, ''), c.verdict), m.name, m.value, m.unit, m.limit_low, m.limit_high, c.kind, c.check_window FROM runs_current r " \
	"JOIN checks c ON c.run_pk = r.id "                                                  \
	"JOIN measurements m ON m.run_pk = c.run_pk AND m.check_idx = c.check_idx "          \
	"WHERE COALESCE(NULLIF(m.requirement, ''), c.requirement) <> '' "                    \
	"AND (m.limit_low IS NOT NULL OR m.limit_high IS NOT NULL)"
/* Oldest run first, in the order the runs were made (as list and
 * history_previous): two runs may start in the same second, and a run id
 * ends in a random tail; such runs go by their start's nanoseconds, runs
 * from before those were recorded by their first stored version (the
 * smallest runs.id), so "latest" is the one made last. */
#define TRACE_ORDER                                                                        \
	" ORDER BY r.started_utc, COALESCE(r.started_ns, -1),"                             \
	" (SELECT MIN(f.id) FROM runs f WHERE f.run_id = r.run_id), c.check_idx, m.idx"

int history_trace_rows(struct history *h, const char *device_model, json_t **ret, char *err,
		       size_t errlen)
{
	struct hist_rows rows;
	int r;

	*ret = NULL;
	/* the judged measurement of each check (the one with a limit) that
	 * names a requirement, newest version of each run, oldest run first */
	r = hist_query(h, device_model && *device_model ?
		TRACE_SELECT " AND r.device_model = $1" TRACE_ORDER :
		TRACE_SELECT TRACE_ORDER,
		(struct hist_val[]){ hv_text(device_model ? device_model : "") },
		device_model && *device_model ? 1 : 0, &rows, err, errlen);
	if (r < 0)
		return r;
	*ret = rows_array(&rows, trace_spec);
	hist_rows_free(&rows);
	return 0;
}

/* ------------------------------------------------------------------ list */

static const char *const list_spec[] = {
	"srun_id", "sdevice_serial", "sdevice_model", "ssequence_id", "sbench_id", "sstarted",
	"sended", "sstatus", "sverdict", "sclock", "ssoftware", "srun_dir", "iversions",
	"sbench_kind", "sverdict_text", "sseal_journal", NULL
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
	/* Each run's newest version, its count of versions and its first
	 * version (the order of runs of one second from before started_ns):
	 * SQLite answers fastest asked per row through runs_by_run_id (the
	 * newest 50 in 0.2 ms; one aggregate over every run first took 30 ms),
	 * a server fastest with one aggregate joined (every one of 10 000 runs
	 * in 40 to 60 ms, against 110 to 120 ms per row; tools/bench_history). */
	o = snprintf(sql, sizeof(sql),
		     "SELECT r.run_id, r.device_serial, r.device_model, r.sequence_id, r.bench_id,"
		     " r.started_utc, r.ended_utc, r.status, r.verdict, r.clock, r.software, r.run_dir,"
		     " %s, r.bench_kind, r.verdict_text FROM %s WHERE 1 = 1", h->be->server ?
		     "v.versions" : "(SELECT COUNT(*) FROM runs v WHERE v.run_id = r.run_id)",
		     h->be->server ?
		     "runs r JOIN (SELECT MAX(id) AS id, MIN(id) AS first, COUNT(*) AS versions"
		     " FROM runs GROUP BY run_id) v ON v.id = r.id" : "runs_current r");
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
	/* newest first, as history_previous orders runs */
	o += snprintf(sql + o, sizeof(sql) - (size_t)o,
		      " ORDER BY r.started_utc DESC, COALESCE(r.started_ns, -1) DESC, %s DESC",
		      h->be->server ? "v.first" :
		      "(SELECT MIN(f.id) FROM runs f WHERE f.run_id = r.run_id)");
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
	"ssealed_after_the_fact", "ssigned_by", "sresults_schema", "singested_utc", "sbench_kind",
	"sverdict_text", "sseal_journal", NULL
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
static const char *const signature_spec[] = { "iline", "sutc", "smeaning", "ssigner",
					      "skey", "smanifest_sha256", "ivalid", NULL };
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
			  " ingested_utc, bench_kind, verdict_text, seal_journal FROM runs WHERE id = $1", p, 1, &rows, err, errlen);
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
	/* the run's personal signatures (rig sign), whichever version of the
	 * run brought each: they are the run's, kept by its run id */
	SUB("signatures", signature_spec,
	    "SELECT line, utc, meaning, signer, key_fingerprint, manifest_sha256, valid"
	    " FROM signatures WHERE run_id = (SELECT run_id FROM runs WHERE id = $1) AND run_id <> ''"
	    " ORDER BY line")
	json_array_foreach(json_object_get(o, "signatures"), i, c)
		json_object_set_new(c, "valid",
				    json_boolean(json_integer_value(json_object_get(c, "valid")) != 0));
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
	r = hist_resolve_run(h, run, &pk, id, err, errlen);
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
	int r = hist_resolve_run(h, run, &pk, id, err, errlen);

	if (r < 0)
		return r;
	/* every version of a run shares its start, device and sequence, so
	 * any row of the previous run names it: the index runs_by_device */
	/* Runs are ordered by their start, to the nanosecond where run.json
	 * has it, then (runs of before) by the first stored version of each:
	 * never by a run id's random tail, never moved by a new version.  p
	 * is each earlier run's first version. */
	r = hist_query(h, "SELECT p.run_id FROM runs r JOIN runs p"
			  " ON p.device_serial = r.device_serial AND p.sequence_id = r.sequence_id"
			  " AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.run_id = p.run_id AND o.id < p.id)"
			  " AND (p.started_utc < r.started_utc OR (p.started_utc = r.started_utc"
			  "  AND (COALESCE(p.started_ns, -1) < COALESCE(r.started_ns, -1)"
			  "   OR (COALESCE(p.started_ns, -1) = COALESCE(r.started_ns, -1)"
			  "    AND p.id < (SELECT MIN(f.id) FROM runs f WHERE f.run_id = r.run_id)))))"
			  " WHERE r.id = $1"
			  " ORDER BY p.started_utc DESC, COALESCE(p.started_ns, -1) DESC, p.id DESC LIMIT 1",
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

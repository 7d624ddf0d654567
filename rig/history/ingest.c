/* Storing the records of sealed run directories (record.c reads them):
 * versions, idempotence, batches, store and forward.  See history.h and
 * docs/history.md. */
#include "rig/base/utc.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libconfig.h>

#include "rig/seal/integrity.h"
#include "rig/seal/manifest.h"

/* -------------------------------------------------------------- storing */

static struct hist_val jv(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return hv_text(json_string_value(v));
	if (json_is_integer(v))
		return hv_int(json_integer_value(v));
	if (json_is_number(v))
		return hv_real(json_number_value(v));
	return (struct hist_val){ .type = HV_NULL };
}

#define BATCH_MAX 512              /* runs in one transaction at most */
#define PARAMS_PER_INSERT 30000   /* under SQLite's 32766 and libpq's 65535 */
/* PostgreSQL ingested a batch twice as fast in statements of 100 rows as
 * in statements of 1000 (its parse and analysis of a long VALUES list
 * grows faster than the list); SQLite did not mind either way. */
#define ROWS_PER_INSERT_MAX 100

/* "$k" at s (k >= 1), as sprintf would write it but without its cost: a
 * batch of runs has tens of thousands of placeholders.  The length. */
static int put_placeholder(char *s, size_t k)
{
	char digits[24];
	int n = 0, len;

	do {
		digits[n++] = (char)('0' + k % 10);
		k /= 10;
	} while (k);
	s[0] = '$';
	for (len = 1; n > 0; len++)
		s[len] = digits[--n];
	s[len] = '\0';
	return len;
}

/* INSERT INTO table (cols) VALUES (...), (...) for the objects in rows, as
 * many rows to a statement as the engines' parameter limits allow: a few
 * statements per table for a whole batch of runs, rather than one per row
 * (a round trip each on PostgreSQL).  suffix (may be NULL) ends each
 * statement; with ret, the rows each statement returns are appended. */
static int insert_rows(struct history *h, const char *table, const char *const *cols,
		       size_t ncols, const json_t *rows, const char *suffix, struct hist_rows *ret,
		       char *err, size_t errlen)
{
	size_t total = json_array_size(rows), done = 0;
	size_t per_stmt = PARAMS_PER_INSERT / ncols;
	char *sql = NULL;
	struct hist_val *p = NULL;
	int r = 0;

	if (per_stmt > ROWS_PER_INSERT_MAX)
		per_stmt = ROWS_PER_INSERT_MAX;
	if (!total)
		return 0;
	p = calloc(per_stmt * ncols, sizeof(*p));
	sql = malloc(512 + per_stmt * (ncols * 9 + 8) + ncols * 32);
	if (!p || !sql) {
		r = -ENOMEM;
		goto out;
	}
	while (done < total && r == 0) {
		size_t n = total - done < per_stmt ? total - done : per_stmt;
		size_t i, c, k = 0;
		struct hist_rows got = { 0 };
		int o = sprintf(sql, "INSERT INTO %s (", table);

		for (c = 0; c < ncols; c++)
			o += sprintf(sql + o, "%s%s", c ? ", " : "", cols[c]);
		o += sprintf(sql + o, ") VALUES ");
		for (i = 0; i < n; i++) {
			const json_t *row = json_array_get(rows, done + i);

			if (i) {
				memcpy(sql + o, ", ", 2);
				o += 2;
			}
			sql[o++] = '(';
			for (c = 0; c < ncols; c++) {
				if (c) {
					memcpy(sql + o, ", ", 2);
					o += 2;
				}
				o += put_placeholder(sql + o, k + 1);
				p[k++] = jv(row, cols[c]);
			}
			sql[o++] = ')';
			sql[o] = '\0';
		}
		if (suffix)
			sprintf(sql + o, " %s", suffix);
		r = hist_query(h, sql, p, k, ret ? &got : NULL, err, errlen);
		if (r == 0 && ret && got.n_rows)
			r = hist_rows_append(ret, &got);
		hist_rows_free(&got);
		done += n;
	}
out:
	free(p);
	free(sql);
	return r;
}


static const char *const input_cols[] = { "run_pk", "name", "sha256", "source_path" };
static const char *const instrument_cols[] = { "run_pk", "role", "backend", "model", "serial",
					       "cal_date", "cal_due", "cal_uncertainty" };
static const char *const check_cols[] = { "run_pk", "check_idx", "kind", "check_window",
					  "requirement", "sequence_line", "verdict", "measured", "u",
					  "unit", "limit_low", "limit_high", "primary_measurement",
					  "criterion", "explanation" };
static const char *const measurement_cols[] = { "run_pk", "check_idx", "idx", "name", "value",
						"u", "unit", "limit_low", "limit_high", "verdict",
						"requirement" };
static const char *const signature_cols[] = { "run_pk", "run_id", "line", "utc", "meaning",
	"signer", "key_fingerprint", "public_key", "manifest_sha256", "record_sha256", "signature",
	"valid" };
static const char *const health_cols[] = { "run_pk", "figure", "check_window", "value", "u",
					   "unit", "source" };
static const char *const series_cols[] = { "scope", "subject", "sequence_id", "check_kind",
					   "check_window", "measurement", "unit" };
static const char *const point_cols[] = { "run_pk", "scope", "subject", "sequence_id", "check_kind",
					  "check_window", "measurement", "run_id", "started_utc",
					  "started_ns", "value", "is_primary" };

/* The watched series of the record and its points on them (see the
 * schema): each value with its own verdict, per device; each bench-health
 * figure, per bench.  One point per series and run (the first). */
static void watched_points(const json_t *rec, const json_t *health, json_t *ret_series,
			   json_t *ret_points)
{
	const json_t *run = json_object_get(rec, "run"), *c, *m;
	size_t ci, mi, k;

	for (k = 0; k < 2; k++) {
		const json_t *list = k ? health : json_object_get(rec, "checks");

		json_array_foreach(list, ci, c) {
			const json_t *ms = k ? NULL : json_object_get(c, "measurements");
			size_t nm = k ? 1 : json_array_size(ms);

			for (mi = 0; mi < nm; mi++) {
				json_t *pt, *e;
				size_t j;
				bool dup = false;

				m = k ? c : json_array_get(ms, mi);
				if (!json_is_number(json_object_get(m, "value")) ||
				    (!k && !*history_jstr(m, "verdict")))
					continue;
				pt = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:i}",
					"scope", k ? "bench" : "device",
					"subject", history_jstr(run, k ? "bench_id" : "device_serial"),
					"sequence_id", history_jstr(run, "sequence_id"),
					"check_kind", k ? "bench_health" : history_jstr(c, "kind"),
					"check_window", history_jstr(c, "check_window"),
					"measurement", history_jstr(m, k ? "figure" : "name"),
					"run_id", history_jstr(run, "run_id"), "started_utc", history_jstr(run, "started_utc"),
					"value", json_object_get(m, "value"), "unit", history_jstr(m, "unit"),
					"is_primary", !k && strcmp(history_jstr(m, "name"),
								   history_jstr(c, "primary_measurement")) == 0);
				json_object_set(pt, "started_ns", json_object_get(run, "started_ns"));
				json_array_foreach(ret_points, j, e)
					dup = dup || (json_equal(json_object_get(e, "scope"), json_object_get(pt, "scope")) &&
						      json_equal(json_object_get(e, "check_kind"), json_object_get(pt, "check_kind")) &&
						      json_equal(json_object_get(e, "check_window"), json_object_get(pt, "check_window")) &&
						      json_equal(json_object_get(e, "measurement"), json_object_get(pt, "measurement")));
				if (dup) {
					json_decref(pt);
					continue;
				}
				json_array_append(ret_series, pt);
				json_array_append_new(ret_points, pt);
			}
		}
	}
}
#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static int version_of(struct history *h, const char *run_id, long long pk, int *ret, char *err,
		      size_t errlen)
{
	struct hist_rows rows;
	long long v = 0;
	int r = hist_query(h, "SELECT COUNT(*) FROM runs WHERE run_id = $1 AND id <= $2",
			   (struct hist_val[]){ hv_text(run_id), hv_int(pk) }, 2, &rows, err, errlen);

	if (r < 0)
		return r;
	hist_cell_ll(&rows, 0, 0, &v);
	hist_rows_free(&rows);
	*ret = (int)v;
	return 0;
}

static int already_stored(struct history *h, struct history_ingest_result *ret, bool *ret_found,
			  char *err, size_t errlen)
{
	struct hist_rows rows;
	long long pk = 0;
	int r = hist_query(h, "SELECT id FROM runs WHERE run_id = $1 AND manifest_sha256 = $2",
			   (struct hist_val[]){ hv_text(ret->run_id), hv_text(ret->manifest_sha256) },
			   2, &rows, err, errlen);

	*ret_found = false;
	if (r < 0)
		return r;
	if (rows.n_rows) {
		*ret_found = true;
		hist_cell_ll(&rows, 0, 0, &pk);
		ret->outcome = HISTORY_ALREADY_PRESENT;
		r = version_of(h, ret->run_id, pk, &ret->version, err, errlen);
	}
	hist_rows_free(&rows);
	return r;
}

/* Appends copies of the objects in from to to, each with run_pk set. */
static void add_rows(json_t *to, const json_t *from, long long pk)
{
	const json_t *e;
	size_t i;

	json_array_foreach(from, i, e) {
		json_t *row = json_copy((json_t *)e);   /* shallow: only run_pk is added */

		json_object_set_new(row, "run_pk", json_integer(pk));
		json_array_append_new(to, row);
	}
}

/* Stores the records (NULL entries skipped) inside the caller's
 * transaction, table by table for the whole batch.  A record another
 * process stored meanwhile inserts nothing (ON CONFLICT) and is reported
 * already present. */
static int store_batch(struct history *h, json_t *const *recs, size_t n,
		       struct history_ingest_result *ret, char *err, size_t errlen)
{
	static const char *const cols[] = {
		"ingested_utc", "run_id", "manifest_sha256", "run_dir", "results_schema",
		"software", "host", "operator", "started_utc", "ended_utc", "clock",
		"device_model", "device_serial", "device_firmware", "sequence_id",
		"sequence_version", "sequence_sha256", "bench_id", "status", "end_reason", "verdict",
		"end_s", "samples", "sealed_utc", "sealed_by", "first_sealed_utc",
		"sealed_after_the_fact", "signed_by", "bench_kind", "verdict_text", "started_ns",
		"seal_journal",
	};
	json_t *runs = json_array(), *inputs = json_array(), *instruments = json_array();
	json_t *sigs = json_array();
	json_t *checks = json_array(), *ms = json_array(), *health = json_array();
	json_t *series = json_array(), *points = json_array();
	struct hist_rows got = { 0 }, vers = { 0 };
	long long *pks = calloc(n ? n : 1, sizeof(*pks)), lo = -1, hi = -1;
	size_t *dup_of = calloc(n ? n : 1, sizeof(*dup_of));   /* 1 + index of the first */
	char now[32];
	size_t i, j, k;
	int r;

	if (!pks || !dup_of) {
		r = -ENOMEM;
		goto out;
	}
	rig_utc_now_iso(now);
	for (i = 0; i < n; i++) {
		json_t *row;

		if (!recs[i])
			continue;
		row = json_copy(json_object_get(recs[i], "run"));   /* shallow */
		json_object_set_new(row, "ingested_utc", json_string(now));
		json_array_append_new(runs, row);
	}
	r = insert_rows(h, "runs", cols, sizeof(cols) / sizeof(cols[0]), runs,
			"ON CONFLICT (run_id, manifest_sha256) DO NOTHING"
			" RETURNING id, run_id, manifest_sha256", &got, err, errlen);
	if (r < 0)
		goto out;
	for (i = 0; i < n; i++) {
		const json_t *rec = recs[i], *c, *m;
		json_t *hv;
		json_t *run_health;
		size_t ci, mi;

		pks[i] = -1;
		if (!rec)
			continue;
		for (k = 0; k < got.n_rows && pks[i] < 0; k++)
			if (strcmp(hist_cell(&got, k, 1), ret[i].run_id) == 0 &&
			    strcmp(hist_cell(&got, k, 2), ret[i].manifest_sha256) == 0)
				hist_cell_ll(&got, k, 0, &pks[i]);
		if (pks[i] < 0) {
			/* another bench's ingest of the same version won the race */
			bool found;

			r = already_stored(h, &ret[i], &found, err, errlen);
			if (r < 0)
				goto out;
			continue;
		}
		for (j = 0; j < i; j++) {
			if (pks[j] == pks[i]) {
				/* the same run given twice in the batch: once */
				ret[i].outcome = HISTORY_ALREADY_PRESENT;
				dup_of[i] = j + 1;
				pks[i] = -1;
				break;
			}
		}
		if (pks[i] < 0)
			continue;
		lo = lo < 0 || pks[i] < lo ? pks[i] : lo;
		hi = pks[i] > hi ? pks[i] : hi;
		add_rows(inputs, json_object_get(rec, "inputs"), pks[i]);
		add_rows(instruments, json_object_get(rec, "instruments"), pks[i]);
		add_rows(sigs, json_object_get(rec, "signatures"), pks[i]);
		add_rows(checks, json_object_get(rec, "checks"), pks[i]);
		json_array_foreach(json_object_get(rec, "checks"), ci, c) {
			json_array_foreach(json_object_get(c, "measurements"), mi, m) {
				json_t *row = json_copy((json_t *)m);   /* shallow */

				json_object_set(row, "check_idx", json_object_get(c, "check_idx"));
				json_object_set_new(row, "run_pk", json_integer(pks[i]));
				json_array_append_new(ms, row);
			}
		}
		/* one figure per name and window: the first (a window judged twice) */
		run_health = json_array();
		json_array_foreach(json_object_get(rec, "health"), mi, hv) {
			bool dup = false;

			for (j = 0; j < mi && !dup; j++) {
				json_t *e = json_array_get(json_object_get(rec, "health"), j);

				dup = json_equal(json_object_get(e, "figure"), json_object_get(hv, "figure")) &&
				      json_equal(json_object_get(e, "check_window"),
						 json_object_get(hv, "check_window"));
			}
			if (!dup)
				json_array_append(run_health, hv);
		}
		add_rows(health, run_health, pks[i]);
		{
			json_t *s1 = json_array(), *p1 = json_array();

			watched_points(rec, run_health, s1, p1);
			json_array_extend(series, s1);
			add_rows(points, p1, pks[i]);
			json_decref(s1);
			json_decref(p1);
		}
		json_decref(run_health);
	}
	r = insert_rows(h, "run_inputs", input_cols, NCOLS(input_cols), inputs, NULL, NULL, err,
			errlen);
	if (r == 0)
		r = insert_rows(h, "instruments", instrument_cols, NCOLS(instrument_cols), instruments,
				NULL, NULL, err, errlen);
	if (r == 0)
		r = insert_rows(h, "checks", check_cols, NCOLS(check_cols), checks, NULL, NULL, err,
				errlen);
	if (r == 0)
		r = insert_rows(h, "measurements", measurement_cols, NCOLS(measurement_cols), ms, NULL,
				NULL, err, errlen);
	if (r == 0)
		r = insert_rows(h, "health", health_cols, NCOLS(health_cols), health, NULL, NULL, err,
				errlen);
	if (r == 0)   /* a signature an earlier version of the run carried is kept once */
		r = insert_rows(h, "signatures", signature_cols, NCOLS(signature_cols), sigs,
				"ON CONFLICT DO NOTHING", NULL, err, errlen);
	if (r == 0)   /* a series already known stays as it is */
		r = insert_rows(h, "series", series_cols, NCOLS(series_cols), series,
				"ON CONFLICT DO NOTHING", NULL, err, errlen);
	if (r == 0)
		r = insert_rows(h, "points", point_cols, NCOLS(point_cols), points, NULL, NULL, err,
				errlen);
	if (r < 0 || hi < 0)
		goto out;
	/* each new row's version: its place among the rows of its run id */
	r = hist_query(h, "SELECT r.id, COUNT(v.id) FROM runs r JOIN runs v ON v.run_id = r.run_id"
			  " AND v.id <= r.id WHERE r.id BETWEEN $1 AND $2 GROUP BY r.id",
		       (struct hist_val[]){ hv_int(lo), hv_int(hi) }, 2, &vers, err, errlen);
	if (r < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (!recs[i] || pks[i] < 0)
			continue;
		for (k = 0; k < vers.n_rows; k++) {
			long long id, v;

			if (hist_cell_ll(&vers, k, 0, &id) && id == pks[i] &&
			    hist_cell_ll(&vers, k, 1, &v)) {
				ret[i].version = (int)v;
				ret[i].outcome = HISTORY_INGESTED;
			}
		}
	}
	for (i = 0; i < n; i++)
		if (dup_of[i])
			ret[i].version = ret[dup_of[i] - 1].version;
out:
	hist_rows_free(&got);
	hist_rows_free(&vers);
	free(pks);
	free(dup_of);
	json_decref(runs);
	json_decref(inputs);
	json_decref(sigs);
	json_decref(instruments);
	json_decref(checks);
	json_decref(ms);
	json_decref(health);
	json_decref(series);
	json_decref(points);
	return r;
}

/* Reads run_dir into *ret_rec, filling the result's identity; a refusal
 * leaves *ret_rec NULL and returns 0. */
static int read_one(const char *run_dir, json_t **ret_rec, struct history_ingest_result *ret,
		    char *err, size_t errlen)
{
	json_t *run;
	int r;

	*ret = (struct history_ingest_result){ .outcome = HISTORY_REFUSED };
	r = history_read_run_dir(run_dir, ret_rec, ret->reason, sizeof(ret->reason));
	if (r == -EBADMSG)
		return 0;
	if (r < 0) {
		hist_errf(err, errlen, "%s: %s", run_dir, strerror(-r));
		return r;
	}
	run = json_object_get(*ret_rec, "run");
	snprintf(ret->run_id, sizeof(ret->run_id), "%s", history_jstr(run, "run_id"));
	snprintf(ret->manifest_sha256, sizeof(ret->manifest_sha256), "%s",
		 history_jstr(run, "manifest_sha256"));
	return 0;
}

int history_ingest_run_dirs(struct history *h, const char *const *run_dirs, size_t n,
			    struct history_ingest_result *ret, char *err, size_t errlen)
{
	json_t **recs;
	size_t i, to_store = 0;
	bool found;
	int r = 0;

	if (n > BATCH_MAX) {
		/* a transaction per BATCH_MAX runs: bounded statements and memory */
		for (i = 0; i < n && r == 0; i += BATCH_MAX)
			r = history_ingest_run_dirs(h, run_dirs + i, n - i < BATCH_MAX ? n - i : BATCH_MAX,
						    ret + i, err, errlen);
		return r;
	}
	recs = calloc(n ? n : 1, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	/* Read and check every run first, outside any transaction: the
	 * store's lock is held only while inserting. */
	for (i = 0; i < n && r == 0; i++)
		r = read_one(run_dirs[i], &recs[i], &ret[i], err, errlen);
	/* Which are stored already: one query for the batch (a round trip per
	 * run would cost a server more than the inserts), then the versions of
	 * those found, one by one: they are few after the first sync. */
	if (r == 0) {
		struct hist_val *ids = calloc(n ? n : 1, sizeof(*ids));
		struct hist_rows have = { 0 };
		char *sql = malloc(128 + n * 12);
		size_t m = 0, k;
		int o;

		if (!ids || !sql)
			r = -ENOMEM;
		for (i = 0; r == 0 && i < n; i++)
			if (recs[i])
				ids[m++] = hv_text(ret[i].run_id);
		if (r == 0 && m) {
			o = sprintf(sql, "SELECT run_id, manifest_sha256 FROM runs WHERE run_id IN (");
			for (k = 0; k < m; k++)
				o += sprintf(sql + o, "%s$%zu", k ? ", " : "", k + 1);
			sprintf(sql + o, ")");
			r = hist_query(h, sql, ids, m, &have, err, errlen);
		}
		for (i = 0; r == 0 && i < n; i++) {
			if (!recs[i])
				continue;
			found = false;
			for (k = 0; k < have.n_rows && !found; k++)
				found = strcmp(hist_cell(&have, k, 0), ret[i].run_id) == 0 &&
					strcmp(hist_cell(&have, k, 1), ret[i].manifest_sha256) == 0;
			if (found)
				r = already_stored(h, &ret[i], &found, err, errlen);
			if (found) {
				json_decref(recs[i]);
				recs[i] = NULL;
			} else {
				to_store++;
			}
		}
		hist_rows_free(&have);
		free(ids);
		free(sql);
	}
	if (r == 0 && to_store) {
		r = h->be->begin(h->db, err, errlen);
		if (r == 0)
			r = store_batch(h, recs, n, ret, err, errlen);
		if (r == 0)
			r = hist_commit(h, err, errlen);
		if (r < 0)
			hist_rollback(h);
	}
	for (i = 0; i < n; i++) {
		json_decref(recs[i]);
		if (r < 0 && ret[i].outcome == HISTORY_INGESTED)
			ret[i].outcome = HISTORY_REFUSED, ret[i].version = 0;
	}
	free(recs);
	return r;
}

int history_ingest_run_dir(struct history *h, const char *run_dir,
			   struct history_ingest_result *ret, char *err, size_t errlen)
{
	return history_ingest_run_dirs(h, &run_dir, 1, ret, err, errlen);
}

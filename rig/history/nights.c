/* Nights in the store: what `rig nightly` ran on a bench, read from the
 * night directory's nightly.json (docs/nightly.md), stored once, and listed.
 * The night directory stays the night's record, as a run directory stays
 * the run's: the rows are a derived copy that can be rebuilt by importing
 * the night directories again.  See history.h. */
#include "rig/base/utc.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rig/base/infile.h"
#include "rig/base/wholefile.h"
#include "rig/seal/digest.h"

#define NIGHTLY_JSON "nightly.json"
#define NIGHTLY_SCHEMA "pumprig.nightly/1"
#define NIGHTLY_MAX_BYTES (16 << 20)    /* 64 jobs x 100 repeats, retried, is far less */
#define NIGHT_ROWS_PER_INSERT 50
#define NIGHT_ID_MAX 256

bool history_is_night_dir(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/run.json", dir) >= sizeof(path) ||
	    stat(path, &st) == 0)
		return false;
	snprintf(path, sizeof(path), "%s/" NIGHTLY_JSON, dir);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* "YYYY-MM-DDTHH:MM:SSZ", as rig writes every UTC time. */
static bool utc_text_ok(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t i;

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return false;
	return true;
}

/* A member that must be a string (allowed empty when may_be_empty). */
static const char *need_str(const json_t *o, const char *key, bool may_be_empty, char *reason,
			    size_t len, const char *where)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || (!may_be_empty && !*json_string_value(v))) {
		if (!*reason)
			snprintf(reason, len, "nightly.json%s: %s is not %s", where, key,
				 may_be_empty ? "a string" : "a string that is not empty");
		return "";
	}
	return json_string_value(v);
}

static long long need_int(const json_t *o, const char *key, char *reason, size_t len,
			  const char *where)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v)) {
		if (!*reason)
			snprintf(reason, len, "nightly.json%s: %s is not a whole number", where, key);
		return 0;
	}
	return json_integer_value(v);
}

/* A string or null (""), as nightly.json writes end_cause and retry_of. */
static const char *str_or_null(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* Reads and checks night_dir/nightly.json; a refusal is said in reason and
 * returns -EBADMSG. */
static int read_night(const char *night_dir, json_t **ret, char hex[DIGEST_HEX_LEN + 1],
		      char abs[PATH_MAX], char *reason, size_t len)
{
	char path[PATH_MAX], *text;
	const json_t *runs, *e;
	json_error_t je;
	json_t *night;
	size_t n = 0, i;
	int r;

	*ret = NULL;
	reason[0] = '\0';
	if (!realpath(night_dir, abs)) {
		snprintf(reason, len, "%.300s: %s", night_dir, strerror(errno));
		return -EBADMSG;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/" NIGHTLY_JSON, abs) >= sizeof(path))
		return -ENAMETOOLONG;
	/* a FIFO in its place would block the store for ever; a link could
	 * point anywhere: both refused, as in a run directory */
	r = wholefile_read(path, NIGHTLY_MAX_BYTES, true, &text, &n);
	if (r < 0) {
		char why[128];

		snprintf(reason, len, "%.300s: %s", path, r == -EFBIG ?
			 "larger than any night rig writes" :
			 r == -ELOOP ? "a symbolic link, not a regular file" :
			 infile_strerror(path, r, why, sizeof(why)));
		return -EBADMSG;
	}
	digest_buf_sha256(text, n, hex);
	night = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!json_is_object(night)) {
		snprintf(reason, len, "%.300s:%d: not a nightly.json (%s)", path, je.line,
			 night ? "not an object" : je.text);
		json_decref(night);
		return -EBADMSG;
	}
	if (strcmp(need_str(night, "schema", false, reason, len, ""), NIGHTLY_SCHEMA) != 0 &&
	    !*reason)
		snprintf(reason, len, "nightly.json: schema is not " NIGHTLY_SCHEMA);
	need_str(night, "plan_id", false, reason, len, "");
	need_str(night, "plan_sha256", true, reason, len, "");
	need_str(night, "bench_id", false, reason, len, "");
	need_str(night, "status", false, reason, len, "");
	need_str(night, "reason", true, reason, len, "");
	need_str(night, "verdict", false, reason, len, "");
	need_int(night, "exit_status", reason, len, "");
	if (!*reason) {
		const char *a = need_str(night, "started_utc", false, reason, len, "");
		const char *b = need_str(night, "ended_utc", false, reason, len, "");

		if (!*reason && (!utc_text_ok(a) || !utc_text_ok(b)))
			snprintf(reason, len, "nightly.json: started_utc and ended_utc must be "
				 "YYYY-MM-DDTHH:MM:SSZ");
	}
	if (!*reason && strlen(history_jstr(night, "plan_id")) > NIGHT_ID_MAX - 32)
		snprintf(reason, len, "nightly.json: plan_id is longer than %d characters",
			 NIGHT_ID_MAX - 32);
	runs = json_object_get(night, "runs");
	if (!*reason && !json_is_array(runs))
		snprintf(reason, len, "nightly.json: runs is not an array");
	json_array_foreach(runs, i, e) {
		char where[48];
		const json_t *d = json_object_get(e, "duration_s");

		if (*reason)
			break;
		snprintf(where, sizeof(where), " runs[%zu]", i);
		if (!json_is_object(e)) {
			snprintf(reason, len, "nightly.json%s is not an object", where);
			break;
		}
		need_int(e, "job", reason, len, where);
		need_int(e, "repeat_index", reason, len, where);
		need_int(e, "exit_status", reason, len, where);
		need_str(e, "sequence_id", true, reason, len, where);
		need_str(e, "device_serial", true, reason, len, where);
		need_str(e, "run_id", true, reason, len, where);
		need_str(e, "run_dir", true, reason, len, where);
		need_str(e, "verdict", true, reason, len, where);
		need_str(e, "status", true, reason, len, where);
		if (!*reason && !json_is_boolean(json_object_get(e, "retry")))
			snprintf(reason, len, "nightly.json%s: retry is not true or false", where);
		if (!*reason && d && !json_is_null(d) && !json_is_number(d))
			snprintf(reason, len, "nightly.json%s: duration_s is not a number", where);
	}
	if (*reason) {
		json_decref(night);
		return -EBADMSG;
	}
	*ret = night;
	return 0;
}

static int insert_runs(struct history *h, long long pk, const json_t *runs, char *err,
		       size_t errlen)
{
	static const char head[] = "INSERT INTO night_runs (night_pk, idx, job, repeat_index,"
				   " sequence_id, device_serial, run_id, run_dir, verdict, status,"
				   " end_cause, duration_s, retry, retry_of, exit_status) VALUES ";
	enum { NCOLS = 15 };
	struct hist_val p[NIGHT_ROWS_PER_INSERT * NCOLS];
	char sql[sizeof(head) + NIGHT_ROWS_PER_INSERT * (NCOLS * 8 + 8)];
	size_t total = json_array_size(runs), done = 0;
	int r = 0;

	while (done < total && r == 0) {
		size_t n = total - done < NIGHT_ROWS_PER_INSERT ? total - done : NIGHT_ROWS_PER_INSERT;
		size_t i, k = 0, c;
		int o = snprintf(sql, sizeof(sql), "%s", head);

		for (i = 0; i < n; i++) {
			const json_t *e = json_array_get(runs, done + i), *d = json_object_get(e, "duration_s");

			p[k + 0] = hv_int(pk);
			p[k + 1] = hv_int((long long)(done + i));
			p[k + 2] = hv_int(json_integer_value(json_object_get(e, "job")));
			p[k + 3] = hv_int(json_integer_value(json_object_get(e, "repeat_index")));
			p[k + 4] = hv_text(str_or_null(e, "sequence_id"));
			p[k + 5] = hv_text(str_or_null(e, "device_serial"));
			p[k + 6] = hv_text(str_or_null(e, "run_id"));
			p[k + 7] = hv_text(str_or_null(e, "run_dir"));
			p[k + 8] = hv_text(str_or_null(e, "verdict"));
			p[k + 9] = hv_text(str_or_null(e, "status"));
			p[k + 10] = hv_text(str_or_null(e, "end_cause"));
			p[k + 11] = json_is_number(d) ? hv_real(json_number_value(d)) :
							(struct hist_val){ .type = HV_NULL };
			p[k + 12] = hv_int(json_is_true(json_object_get(e, "retry")));
			p[k + 13] = hv_text(str_or_null(e, "retry_of"));
			p[k + 14] = hv_int(json_integer_value(json_object_get(e, "exit_status")));
			o += snprintf(sql + o, sizeof(sql) - (size_t)o, "%s(", i ? ", " : "");
			for (c = 0; c < NCOLS; c++)
				o += snprintf(sql + o, sizeof(sql) - (size_t)o, "%s$%zu", c ? ", " : "",
					      k + c + 1);
			o += snprintf(sql + o, sizeof(sql) - (size_t)o, ")");
			k += NCOLS;
		}
		r = hist_query(h, sql, p, k, NULL, err, errlen);
		done += n;
	}
	return r;
}

int history_ingest_night_dir(struct history *h, const char *night_dir,
			     struct history_ingest_result *ret, char *err, size_t errlen)
{
	char hex[DIGEST_HEX_LEN + 1], abs[PATH_MAX], now[32], compact[32], night_id[NIGHT_ID_MAX];
	struct hist_rows got = { 0 };
	const char *started;
	json_t *night;
	long long pk;
	size_t i, o = 0;
	int r;

	*ret = (struct history_ingest_result){ .outcome = HISTORY_REFUSED };
	r = read_night(night_dir, &night, hex, abs, ret->reason, sizeof(ret->reason));
	if (r == -EBADMSG)
		return 0;
	if (r < 0) {
		hist_errf(err, errlen, "%s: %s", night_dir, strerror(-r));
		return r;
	}
	/* the night's id: its start without punctuation and its plan, as
	 * rig nightly names the night directory */
	started = history_jstr(night, "started_utc");
	for (i = 0; started[i] && o < sizeof(compact) - 1; i++)
		if (started[i] != '-' && started[i] != ':')
			compact[o++] = started[i];
	compact[o] = '\0';
	snprintf(night_id, sizeof(night_id), "%s-%s", compact, history_jstr(night, "plan_id"));
	snprintf(ret->run_id, sizeof(ret->run_id), "%.*s", (int)sizeof(ret->run_id) - 1, night_id);
	snprintf(ret->manifest_sha256, sizeof(ret->manifest_sha256), "%s", hex);
	rig_utc_now_iso(now);
	r = h->be->begin(h->db, err, errlen);
	if (r < 0)
		goto out;
	r = hist_query(h, "INSERT INTO nights (night_id, plan_id, plan_sha256, bench_id, started_utc,"
			  " ended_utc, status, reason, verdict, exit_status, virtual_time, night_dir,"
			  " nightly_sha256, ingested_utc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
			  " $10, $11, $12, $13, $14)"
			  " ON CONFLICT (bench_id, plan_id, started_utc) DO NOTHING RETURNING id",
		       (struct hist_val[]){ hv_text(night_id), hv_text(history_jstr(night, "plan_id")),
			       hv_text(history_jstr(night, "plan_sha256")),
			       hv_text(history_jstr(night, "bench_id")), hv_text(started),
			       hv_text(history_jstr(night, "ended_utc")), hv_text(history_jstr(night, "status")),
			       hv_text(history_jstr(night, "reason")), hv_text(history_jstr(night, "verdict")),
			       hv_int(json_integer_value(json_object_get(night, "exit_status"))),
			       hv_int(json_is_true(json_object_get(night, "virtual_time"))),
			       hv_text(abs), hv_text(hex), hv_text(now) }, 14, &got, err, errlen);
	if (r == 0 && got.n_rows == 1 && hist_cell_ll(&got, 0, 0, &pk)) {
		r = insert_runs(h, pk, json_object_get(night, "runs"), err, errlen);
		ret->outcome = HISTORY_INGESTED;
	} else if (r == 0) {
		/* stored before (by this bench, or imported again) */
		ret->outcome = HISTORY_ALREADY_PRESENT;
	}
	if (r == 0)
		r = hist_commit(h, err, errlen);
	if (r < 0) {
		hist_rollback(h);
		ret->outcome = HISTORY_REFUSED;
		goto out;
	}
	ret->version = 1;
out:
	hist_rows_free(&got);
	json_decref(night);
	return r;
}

/* ----------------------------------------------------------------- list */

static json_t *text_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

int history_nights(struct history *h, const struct history_filter *f, json_t **ret, char *err,
		   size_t errlen)
{
	struct hist_val p[3];
	struct hist_rows nights = { 0 }, runs = { 0 };
	json_t *out;
	char which[256], sql[1024];
	size_t n = 0, i, k = 0;
	int o, r;

	*ret = NULL;
	/* a night runs several devices and sequences: those filters do not
	 * select nights, and are refused rather than ignored */
	if (f && ((f->device_serial && *f->device_serial) || (f->sequence_id && *f->sequence_id))) {
		hist_errf(err, errlen, "a device or a sequence does not select nights (a night "
			  "runs several); nights are selected by bench, start and number");
		return -EINVAL;
	}
	/* which nights: the same text selects them and their runs */
	o = snprintf(which, sizeof(which), "FROM nights WHERE 1 = 1");
	if (f && f->bench_id && *f->bench_id) {
		p[n++] = hv_text(f->bench_id);
		o += snprintf(which + o, sizeof(which) - (size_t)o, " AND bench_id = $%zu", n);
	}
	if (f && f->since_utc && *f->since_utc) {
		p[n++] = hv_text(f->since_utc);
		o += snprintf(which + o, sizeof(which) - (size_t)o, " AND started_utc >= $%zu", n);
	}
	o += snprintf(which + o, sizeof(which) - (size_t)o, " ORDER BY started_utc DESC, id DESC");
	if (f && f->limit) {
		p[n++] = hv_int((long long)f->limit);
		snprintf(which + o, sizeof(which) - (size_t)o, " LIMIT $%zu", n);
	}
	snprintf(sql, sizeof(sql), "SELECT id, night_id, plan_id, bench_id, started_utc, ended_utc,"
		 " status, reason, verdict, exit_status, virtual_time, night_dir %s", which);
	r = hist_query(h, sql, p, n, &nights, err, errlen);
	if (r == 0 && nights.n_rows) {
		/* their runs, and no other night's */
		snprintf(sql, sizeof(sql), "SELECT night_pk, job, repeat_index, sequence_id,"
			 " device_serial, run_id, run_dir, verdict, status, end_cause, duration_s,"
			 " retry, retry_of, exit_status FROM night_runs WHERE night_pk IN (SELECT id"
			 " %s) ORDER BY night_pk, idx", which);
		r = hist_query(h, sql, p, n, &runs, err, errlen);
	}
	out = json_array();
	for (i = 0; r == 0 && i < nights.n_rows; i++) {
		long long pk = -1, es = 0, vt = 0, rp;
		json_t *night, *list = json_array();

		hist_cell_ll(&nights, i, 0, &pk);
		hist_cell_ll(&nights, i, 9, &es);
		hist_cell_ll(&nights, i, 10, &vt);
		night = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:b, s:o}",
			"night_id", text_or_null(hist_cell(&nights, i, 1)),
			"plan_id", text_or_null(hist_cell(&nights, i, 2)),
			"bench_id", text_or_null(hist_cell(&nights, i, 3)),
			"started", text_or_null(hist_cell(&nights, i, 4)),
			"ended", text_or_null(hist_cell(&nights, i, 5)),
			"status", text_or_null(hist_cell(&nights, i, 6)),
			"reason", text_or_null(hist_cell(&nights, i, 7)),
			"verdict", text_or_null(hist_cell(&nights, i, 8)),
			"exit_status", (json_int_t)es, "virtual_time", vt != 0,
			"night_dir", text_or_null(hist_cell(&nights, i, 11)));
		/* runs are in key order, nights newest first: the first of this
		 * night's by bisection */
		{
			size_t lo = 0, hi = runs.n_rows;

			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (hist_cell_ll(&runs, mid, 0, &rp) && rp < pk)
					lo = mid + 1;
				else
					hi = mid;
			}
			k = lo;
		}
		for (; k < runs.n_rows && hist_cell_ll(&runs, k, 0, &rp) && rp == pk; k++) {
			long long job = 0, rep = 0, retry = 0, st = 0;
			double d;
			json_t *e;

			hist_cell_ll(&runs, k, 1, &job);
			hist_cell_ll(&runs, k, 2, &rep);
			hist_cell_ll(&runs, k, 11, &retry);
			hist_cell_ll(&runs, k, 13, &st);
			d = hist_cell_double(&runs, k, 10);
			e = json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:I}",
				"job", (json_int_t)job, "repeat_index", (json_int_t)rep,
				"sequence_id", text_or_null(hist_cell(&runs, k, 3)),
				"device_serial", text_or_null(hist_cell(&runs, k, 4)),
				"run_id", text_or_null(hist_cell(&runs, k, 5)),
				"run_dir", text_or_null(hist_cell(&runs, k, 6)),
				"verdict", text_or_null(hist_cell(&runs, k, 7)),
				"status", text_or_null(hist_cell(&runs, k, 8)),
				"end_cause", text_or_null(hist_cell(&runs, k, 9)),
				"duration_s", d == d ? json_real(d) : json_null(), "retry", retry != 0,
				"retry_of", text_or_null(hist_cell(&runs, k, 12)),
				"exit_status", (json_int_t)st);
			json_array_append_new(list, e);
		}
		json_object_set_new(night, "runs", list);
		json_array_append_new(out, night);
	}
	hist_rows_free(&nights);
	hist_rows_free(&runs);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	*ret = out;
	return 0;
}

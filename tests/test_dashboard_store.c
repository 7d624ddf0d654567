/* What the dashboard reads from the run history, on SQLite and on a real
 * PostgreSQL server that this suite starts (tools/pg-scratch; a server that
 * cannot be started fails the PostgreSQL tests with the reason): the nights
 * of rig nightly stored once, listed, refused when malformed, and under the
 * bench role's least privilege; the overview judging every series exactly
 * as `rig history watch` and `trend` do; a site generated from either
 * engine; and a night whose store was down forwarded by sync, once. */
#include <criterion/criterion.h>
#include <errno.h>
#include <criterion/hooks.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libpq-fe.h>

#include "helpers.h"
#include "history_synth.h"
#include "scratch_stores.h"
#include "rig/dashboard/dashboard.h"
#include "rig/history/history.h"
#include "rig/history/overview.h"

#define BOTH(name)                                                                           \
	Test(dashboard_sqlite, name, .timeout = 240)                                          \
	{                                                                                    \
		char *uri = sqlite_store();                                                  \
		name(uri);                                                                   \
		free(uri);                                                                   \
	}                                                                                    \
	Test(dashboard_postgresql, name, .timeout = 240)                                      \
	{                                                                                    \
		char *uri = pg_store("d_" #name);                                            \
		name(uri);                                                                   \
		free(uri);                                                                   \
	}

/* ---------------------------------------------------------------- nights */

static json_t *nights_of(struct history *h)
{
	json_t *n = NULL;
	char err[512];

	cr_assert_eq(history_nights(h, NULL, &n, err, sizeof(err)), 0, "%s", err);
	return n;
}

/* night_dir's nightly.json with key set to value (a JSON text), or removed
 * (value NULL), written to a new night directory. */
static char *altered_night(const char *root, const char *night_dir, const char *name,
			   const char *path_in_runs, const char *key, const char *value)
{
	static int altered;
	char *src, *dir, *file;
	json_t *j, *target;

	cr_assert_geq(asprintf(&src, "%s/nightly.json", night_dir), 0);
	j = json_load_file(src, 0, NULL);
	cr_assert_not_null(j);
	/* a start of its own, so that a refused night wrongly stored would be a
	 * new row and not hidden by ON CONFLICT (bench, plan, start) */
	json_object_set_new(j, "started_utc", json_sprintf("2023-02-%02dT01:%02d:00Z",
							   1 + altered / 60 % 28, altered % 60));
	altered++;
	target = path_in_runs ? json_array_get(json_object_get(j, "runs"), 0) : j;
	if (value)
		json_object_set_new(target, key, json_loads(value, JSON_DECODE_ANY, NULL));
	else
		json_object_del(target, key);
	cr_assert_geq(asprintf(&dir, "%s/%s", root, name), 0);
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_geq(asprintf(&file, "%s/nightly.json", dir), 0);
	cr_assert_eq(json_dump_file(j, file, 0), 0);
	json_decref(j);
	free(src);
	free(file);
	return dir;
}

static void nights_stored_once_and_refused_when_malformed(const char *uri)
{
	static const struct {
		const char *in_runs, *key, *value, *reason;
	} bad[] = {
		{ NULL, "schema", "\"pumprig.nightly/9\"", "schema" },
		{ NULL, "bench_id", NULL, "bench_id" },
		{ NULL, "started_utc", "\"yesterday\"", "started_utc" },
		{ NULL, "runs", "{}", "runs" },
		{ "0", "retry", "\"yes\"", "retry" },
		{ "0", "job", "1.5", "job" },
	};
	char *root = th_tmpdir(), night[4096], run[4096], err[512];
	struct history *h = open_store(uri);
	struct history_ingest_result res;
	json_t *n, *r0;
	size_t i;

	cr_assert_eq(synth_lab_night(root, 0, 10, night, sizeof(night)), 0);
	cr_assert_eq(synth_lab_run(root, 0, 10, false, run, sizeof(run)), 0);
	cr_assert(history_is_night_dir(night));
	cr_assert_not(history_is_night_dir(run));
	cr_assert_eq(history_ingest_night_dir(h, night, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(res.outcome, HISTORY_INGESTED, "%s", res.reason);
	cr_assert_str_eq(res.run_id, "20230101T010000Z-NIGHT-BENCH-00");
	cr_assert_eq(history_ingest_night_dir(h, night, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(res.outcome, HISTORY_ALREADY_PRESENT);
	n = nights_of(h);
	cr_assert_eq(json_array_size(n), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(n, 0), "bench_id")),
			 "BENCH-00");
	r0 = json_array_get(json_object_get(json_array_get(n, 0), "runs"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(r0, "run_id")), "BENCH-00-00000");
	cr_assert_str_eq(json_string_value(json_object_get(r0, "device_serial")), "SN-0000");
	cr_assert_eq(json_real_value(json_object_get(r0, "duration_s")), 3600.0);
	json_decref(n);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[32], *d;

		snprintf(name, sizeof(name), "bad-%zu", i);
		d = altered_night(root, night, name, bad[i].in_runs, bad[i].key, bad[i].value);
		cr_assert_eq(history_ingest_night_dir(h, d, &res, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(res.outcome, HISTORY_REFUSED, "%s stored", bad[i].key);
		cr_assert(strstr(res.reason, bad[i].reason), "%s: %s", bad[i].key, res.reason);
		free(d);
	}
	{
		char *d = altered_night(root, night, "not-json", NULL, "x", "1"), *f;

		cr_assert_geq(asprintf(&f, "%s/nightly.json", d), 0);
		free(th_write_file(d, "nightly.json", "{ \"schema\": "));
		cr_assert_eq(history_ingest_night_dir(h, d, &res, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(res.outcome, HISTORY_REFUSED);
		cr_assert(strstr(res.reason, "not a nightly.json"), "%s", res.reason);
		free(f);
		free(d);
	}
	/* nightly.json as a FIFO (nobody writes it: reading it would block for
	 * ever) or a link to a real night elsewhere: refused, not read */
	for (i = 0; i < 2; i++) {
		char *d = altered_night(root, night, i ? "linked" : "fifo", NULL, "x", "1"), *f, *to;

		cr_assert_geq(asprintf(&f, "%s/nightly.json", d), 0);
		cr_assert_geq(asprintf(&to, "%s/nightly.json", night), 0);
		cr_assert_eq(unlink(f), 0);
		cr_assert_eq(i ? symlink(to, f) : mkfifo(f, 0644), 0, "%s", strerror(errno));
		cr_assert_eq(history_ingest_night_dir(h, d, &res, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(res.outcome, HISTORY_REFUSED);
		cr_assert(strstr(res.reason, i ? "symbolic link" : "FIFO"), "%s", res.reason);
		free(to);
		free(f);
		free(d);
	}
	n = nights_of(h);
	cr_assert_eq(json_array_size(n), 1, "a refused night was stored");
	json_decref(n);
	history_close(h);
	free(root);
}
BOTH(nights_stored_once_and_refused_when_malformed)

/* nights are selected by bench, start and number, each with its own runs; a
 * device or sequence (which select runs, not nights: a night runs several)
 * is refused, by the library and by rig history nights (exit 2), never
 * silently ignored */
static void nights_filtered_by_bench_and_refused_by_device(const char *uri)
{
	static const char *const refused[][2] = { { "--device", "SN-0001" },
						  { "--sequence", "SEQ-QUAL" } };
	char *root = th_tmpdir(), night[4096], err[512];
	struct history_filter f = { .bench_id = "BENCH-01" };
	struct history_ingest_result res;
	struct history *h = open_store(uri);
	json_t *n = NULL, *e;
	size_t k, i;

	for (k = 0; k < 9; k++) {   /* three benches, three nights each */
		cr_assert_eq(synth_lab_night(root, k, 3, night, sizeof(night)), 0);
		cr_assert_eq(history_ingest_night_dir(h, night, &res, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(res.outcome, HISTORY_INGESTED, "%s", res.reason);
	}
	cr_assert_eq(history_nights(h, &f, &n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(json_array_size(n), 3);
	json_array_foreach(n, i, e) {
		json_t *runs = json_object_get(e, "runs");

		cr_assert_str_eq(json_string_value(json_object_get(e, "bench_id")), "BENCH-01");
		cr_assert_eq(json_array_size(runs), 1);
		cr_assert_eq(strncmp(json_string_value(json_object_get(json_array_get(runs, 0),
								       "run_id")), "BENCH-01-", 9), 0);
	}
	json_decref(n);
	f.limit = 1;
	cr_assert_eq(history_nights(h, &f, &n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(json_array_size(n), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(n, 0), "started")),
			 "2023-01-03T01:00:00Z");
	cr_assert_eq(json_array_size(json_object_get(json_array_get(n, 0), "runs")), 1);
	json_decref(n);
	n = NULL;
	f = (struct history_filter){ .device_serial = "SN-0001" };
	cr_assert_eq(history_nights(h, &f, &n, err, sizeof(err)), -EINVAL);
	cr_assert_null(n);
	cr_assert(strstr(err, "does not select nights"), "%s", err);
	f = (struct history_filter){ .sequence_id = "SEQ-QUAL" };
	cr_assert_eq(history_nights(h, &f, &n, err, sizeof(err)), -EINVAL);
	cr_assert_null(n);
	history_close(h);
	for (i = 0; i < 2; i++) {
		char *out, *errt;

		cr_assert_eq(th_rig(root, (const char *[]){ "history", "nights", refused[i][0],
							    refused[i][1], "--db", uri, NULL }), 2);
		out = th_slurp(root, "stdout");
		errt = th_slurp(root, "stderr");
		cr_assert_str_eq(out, "");
		cr_assert(strstr(errt, refused[i][0]) && strstr(errt, "allowed: --bench"), "%s", errt);
		free(out);
		free(errt);
	}
	free(root);
}
BOTH(nights_filtered_by_bench_and_refused_by_device)

/* ------------------------------------------------------------- overview */

/* A small lab: two pumps on two benches, 24 nights; SN-1's dose error
 * creeps after night 12, its balance noise too; SN-2 is stable and gets a
 * chosen baseline. */
static void small_lab(struct history *h, const char *root)
{
	char err[512];
	struct history_ingest_result res;
	const char *base[6];
	char ids[6][32];
	size_t nb = 0;

	for (int night = 0; night < 24; night++) {
		for (int d = 0; d < 2; d++) {
			double noise = 0.07 * sin(night * 2.1 + d), creep = d == 0 && night > 12 ?
							     0.15 * (night - 12) : 0;
			struct synth_value v[2] = {
				{ "dose_accuracy", "dose_nominal", "dose_error", 0.1 + noise + creep, 0.05,
				  "%", -10, 10 },
				{ "occlusion", "occlusion", "time_to_alarm", 70 + 10 * noise, 0.5, "s",
				  NAN, 150 },
			};
			char id[32], started[32], dir[4096];
			struct synth_run s = { .run_id = id, .device_serial = d ? "SN-2" : "SN-1",
					       .sequence_id = "SEQ-QUAL", .bench_id = d ? "B-2" : "B-1",
					       .started_utc = started, .values = v, .n_values = 2,
					       .balance_noise_mg = 0.02 + 0.001 * noise +
								   (d == 0 && night > 12 ? 0.002 * (night - 12) : 0),
					       .evaporation_mg_per_h = 0.05 + 0.001 * noise };

			snprintf(id, sizeof(id), "R%d-%02d", d + 1, night);
			snprintf(started, sizeof(started), "2026-03-%02dT02:%02d:00Z", night + 1, d);
			snprintf(dir, sizeof(dir), "%s/%s", root, id);
			cr_assert_eq(synth_run_dir(dir, &s), 0);
			cr_assert_eq(history_ingest_run_dir(h, dir, &res, err, sizeof(err)), 0, "%s", err);
			cr_assert_eq(res.outcome, HISTORY_INGESTED, "%s", res.reason);
			if (d == 1 && night >= 2 && night < 8) {
				snprintf(ids[nb], sizeof(ids[nb]), "%s", id);
				base[nb] = ids[nb];
				nb++;
			}
		}
	}
	cr_assert_eq(history_baseline_set(h, base, nb, "tester", NULL, err, sizeof(err)), 0, "%s",
		     err);
}

static const struct history_ov_chart *chart_of(const struct history_overview *o,
					       const json_t *series)
{
	const char *kind = json_string_value(json_object_get(series, "kind"));
	bool bench = !strcmp(kind, "bench");
	const char *subject = json_string_value(json_object_get(series, bench ? "bench_id" :
								 "device_serial"));
	size_t i;

	for (i = 0; i < o->n_charts; i++) {
		const struct history_ov_chart *c = &o->charts[i];

		if (c->bench == bench && !strcmp(c->subject, subject) &&
		    !strcmp(c->sequence_id, json_string_value(json_object_get(series, "sequence_id"))) &&
		    !strcmp(c->check, json_string_value(json_object_get(series, "check"))) &&
		    !strcmp(c->window, json_string_value(json_object_get(series, "window"))) &&
		    !strcmp(c->measurement, json_string_value(json_object_get(series, "measurement"))))
			return c;
	}
	return NULL;
}

static void overview_judges_as_watch_and_trend(const char *uri)
{
	char *root = th_tmpdir(), err[512];
	struct history *h = open_store(uri);
	struct history_overview *o = NULL;
	struct spc_params p;
	json_t *flags = NULL, *trend = NULL, *f, *s;
	size_t i, k, open = 0, matched = 0;

	small_lab(h, root);
	spc_params_default(&p);
	cr_assert_eq(history_overview(h, &p, &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(history_watch(h, &p, &flags, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o->n_runs, 48);
	cr_assert_eq(o->n_checks, 96);
	cr_assert_gt(json_array_size(flags), 0, "the creeping pump is not flagged");
	/* every flag watch raises, the overview raises: rule, series and runs */
	json_array_foreach(flags, i, f) {
		const struct history_ov_chart *c = chart_of(o, json_object_get(f, "series"));
		const json_t *runs = json_object_get(f, "runs");
		bool found = false;

		cr_assert_not_null(c, "no chart for %s", json_dumps(json_object_get(f, "series"), 0));
		for (k = 0; k < c->n_flags && !found; k++) {
			const struct history_ov_flag *g = &c->flags[k];
			size_t j;

			if (strcmp(spc_rule_name(g->rule), json_string_value(json_object_get(f, "rule"))))
				continue;
			cr_assert_eq(g->last - g->first + 1, json_array_size(runs));
			for (j = 0; j < json_array_size(runs); j++)
				cr_assert_str_eq(o->runs[c->points[g->first + j].run].run_id,
						 json_string_value(json_array_get(runs, j)));
			cr_assert_float_eq(c->chart.centre, json_number_value(json_object_get(f, "centre")),
					   1e-9 * (1 + fabs(c->chart.centre)));
			found = true;
		}
		cr_assert(found, "watch's %s flag is not in the overview", json_string_value(
			  json_object_get(f, "rule")));
		matched++;
	}
	for (i = 0; i < o->n_charts; i++)
		open += o->charts[i].n_flags;
	cr_assert_eq(open, matched, "the overview opens %zu flags, watch %zu", open, matched);
	/* the chosen baseline of SN-2, and trend's rules at every point */
	{
		struct history_trend_query q = { .device_serial = "SN-1", .check = "dose_accuracy" };
		const json_t *pts, *pt;

		cr_assert_eq(history_trend(h, &q, &p, &trend, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(json_array_size(trend), 1);
		s = json_array_get(trend, 0);
		const struct history_ov_chart *c = chart_of(o, json_object_get(s, "series"));

		cr_assert_not_null(c);
		pts = json_object_get(s, "points");
		cr_assert_eq(c->n_points, json_array_size(pts));
		cr_assert_float_eq(c->chart.ucl, json_number_value(json_object_get(
			json_object_get(s, "chart"), "ucl")), 1e-9);
		json_array_foreach(pts, k, pt) {
			unsigned want = 0;
			const json_t *rv;
			size_t j;

			json_array_foreach(json_object_get(pt, "rules"), j, rv)
				for (int r = SPC_RULE_FIRST; r <= SPC_RULE_LAST; r++)
					if (!strcmp(spc_rule_name(r), json_string_value(rv)))
						want |= SPC_RULE_BIT(r);
			cr_assert_eq(c->points[k].rules, want, "point %zu", k);
			cr_assert_eq(c->points[k].baseline, json_is_true(json_object_get(pt, "baseline")));
			cr_assert_str_eq(c->points[k].verdict, "pass");
			cr_assert_float_eq(c->points[k].limit_high, 10, 1e-12);
		}
	}
	for (i = 0; i < o->n_charts; i++) {
		if (!strcmp(o->charts[i].subject, "SN-2")) {
			cr_assert(o->charts[i].baseline_chosen, "%s", o->charts[i].baseline);
			cr_assert(strstr(o->charts[i].baseline, "tester"));
		}
	}
	json_decref(flags);
	json_decref(trend);
	history_overview_free(o);
	history_close(h);
	free(root);
}
BOTH(overview_judges_as_watch_and_trend)

static void a_site_from_either_engine(const char *uri)
{
	char *root = th_tmpdir(), *out, *index, err[512];
	struct history *h = open_store(uri);
	struct dashboard_opts o = { 0 };
	struct dashboard_result res;

	small_lab(h, root);
	cr_assert_geq(asprintf(&out, "%s/site", root), 0);
	o.out_dir = out;
	cr_assert_eq(dashboard_generate(h, &o, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(res.pages, 1 + 2 + 2);
	cr_assert_eq(res.runs, 48);
	cr_assert_gt(res.open_flags, 0);
	cr_assert_lt(res.front_bytes, 1000000);
	free(out);
	cr_assert_geq(asprintf(&out, "%s/site/index.html", root), 0);
	index = th_read_file(out);
	cr_assert(strstr(index, "href=\"device/SN-1.html#c"), "no flag of SN-1 on the front page");
	cr_assert_null(strstr(index, "href=\"device/SN-2.html#c"), "SN-2 is stable");
	/* no night recorded: each bench's newest runs stand in */
	cr_assert(strstr(index, "No night recorded for this bench"));
	free(index);
	free(out);
	history_close(h);
	free(root);
}
BOTH(a_site_from_either_engine)

/* The bench page charts the line pressure baseline that an occlusion run's
 * check measured: a real run through rig, ingested, and the site made. */
Test(dashboard_sqlite, the_bench_page_charts_the_pressure_baseline, .timeout = 120)
{
	char *uri = sqlite_store(), *root = th_tmpdir(), *run, *out, *page, *seq;
	char *bench = th_src("fixtures/bench/sim.cfg"), *dut = th_src("fixtures/dut/itp-40.cfg");
	struct history *h = open_store(uri);
	struct dashboard_opts o = { 0 };
	struct dashboard_result res;
	struct history_ingest_result ir;
	const char *name, *section;
	char err[512];

	seq = th_src("sequences/occlusion.cfg");
	cr_assert_geq(asprintf(&run, "%s/run", root), 0);
	cr_assert_eq(th_rig(root, (const char *const[]){ "run", seq, "--bench", bench, "--dut", dut,
							  "-o", run, "-q", NULL }), 0);
	cr_assert_eq(history_ingest_run_dir(h, run, &ir, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ir.outcome, HISTORY_INGESTED, "%s", ir.reason);
	cr_assert_geq(asprintf(&out, "%s/site", root), 0);
	o.out_dir = out;
	cr_assert_eq(dashboard_generate(h, &o, &res, err, sizeof(err)), 0, "%s", err);
	free(out);
	cr_assert_geq(asprintf(&out, "%s/site/bench/SIM-1.html", root), 0);
	page = th_read_file(out);
	cr_assert_not_null(page, "%s", out);
	/* a chart of its own, the figure in the report's words, in the health
	 * section, with its plot */
	name = strstr(page, "<h3>bench health [occlusion] <span title=\"pressure_baseline\">line "
			    "pressure baseline</span>");
	cr_assert_not_null(name, "no pressure baseline chart on the bench page");
	section = strstr(page, "<h2 id=\"health\">");
	cr_assert(section && section < name && name < strstr(page, "<h2 id=\"instruments\">"));
	cr_assert(strstr(name, "<svg") && strstr(name, "<svg") < strstr(name, "</section>"));
	free(page);
	free(out);
	history_close(h);
	free(run);
	free(seq);
	free(bench);
	free(dut);
	free(root);
	free(uri);
}

/* Least privilege holds for the nights too (migration 0004, its PostgreSQL block). */
Test(dashboard_postgresql, the_bench_role_adds_nights_and_cannot_remove_them, .timeout = 120)
{
	char *uri = pg_store("d_roles"), *root = th_tmpdir(), *bench_uri, night[4096], err[512];
	struct history *h = open_store(uri);
	struct history_ingest_result res;
	static const char *const denied[] = { "DELETE FROM nights", "DELETE FROM night_runs",
					      "UPDATE nights SET verdict = 'pass'", "TRUNCATE nights" };
	PGconn *c;

	history_close(h);
	pg_exec(pg_admin(),
		"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench8')"
		" THEN CREATE ROLE bench8 LOGIN IN ROLE pumprig_bench; END IF; END $$");
	bench_uri = strdup(uri);
	strcpy(strstr(bench_uri, "user=pumprig_admin"), "user=bench8");
	cr_assert_eq(synth_lab_night(root, 3, 10, night, sizeof(night)), 0);
	h = open_store(bench_uri);
	cr_assert_eq(history_ingest_night_dir(h, night, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(res.outcome, HISTORY_INGESTED);
	history_close(h);
	c = PQconnectdb(bench_uri);
	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		PGresult *r = PQexec(c, denied[i]);

		cr_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE) ?: "", "42501", "bench8 may: %s",
				 denied[i]);
		PQclear(r);
	}
	PQfinish(c);
	free(bench_uri);
	free(root);
	free(uri);
}

/* ------------------------------------------- rig nightly, store and forward */

static char *plan_file(const char *dir, const char *id)
{
	char *bench = th_src("fixtures/bench/sim.cfg"), *dut = th_src("fixtures/dut/itp-40.cfg");
	char *seq = th_src("sequences/dose-accuracy.cfg"), *text, *path, name[64];

	cr_assert_geq(asprintf(&text, "night = { id = \"%s\"; bench = \"%s\"; jobs = ( { sequence = "
			       "\"%s\"; dut = \"%s\"; repeat = 2; } ); };\n", id, bench, seq, dut), 0);
	snprintf(name, sizeof(name), "%s.cfg", id);
	path = th_write_file(dir, name, text);
	free(text);
	free(bench);
	free(dut);
	free(seq);
	return path;
}

static json_t *rig_nights(const char *dir, const char *db)
{
	char *out;
	json_t *j;

	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "nights", "--json", "--db", db, NULL }),
		     0, "%s", th_slurp(dir, "stderr"));
	out = th_slurp(dir, "stdout");
	j = json_loads(out, 0, NULL);
	cr_assert(json_is_array(j), "%s", out);
	free(out);
	return j;
}

Test(dashboard_sqlite, a_night_is_stored_and_when_the_store_is_down_synced_once, .timeout = 180)
{
	char *dir = th_tmpdir(), *runs, *db, *down, *p;
	json_t *n, *file;
	glob_t g;

	cr_assert_geq(asprintf(&runs, "%s/runs", dir), 0);
	cr_assert_geq(asprintf(&db, "sqlite:%s/lab.sqlite", dir), 0);
	cr_assert_geq(asprintf(&down, "sqlite:%s/no-such-folder/lab.sqlite", dir), 0);
	/* a store that is there: the night is in it, as its nightly.json says */
	p = plan_file(dir, "UP");
	cr_assert_eq(th_rig(dir, (const char *[]){ "nightly", p, "--runs", runs, "--db", db,
						   "--quiet", NULL }), 0, "%s", th_slurp(dir, "stderr"));
	free(p);
	n = rig_nights(dir, db);
	cr_assert_eq(json_array_size(n), 1);
	cr_assert_geq(asprintf(&p, "%s/nights/*-UP/nightly.json", runs), 0);
	cr_assert_eq(glob(p, 0, NULL, &g), 0);
	free(p);
	file = json_load_file(g.gl_pathv[0], 0, NULL);
	globfree(&g);
	for (size_t i = 0; i < 2; i++)
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(
					 json_array_get(n, 0), "runs"), i), "run_id")),
				 json_string_value(json_object_get(json_array_get(json_object_get(
					 file, "runs"), i), "run_id")));
	json_decref(file);
	json_decref(n);
	/* a store that is down: the night completes, its runs and the night pending */
	p = plan_file(dir, "DOWN");
	cr_assert_eq(th_rig(dir, (const char *[]){ "nightly", p, "--runs", runs, "--db", down,
						   "--quiet", NULL }), 0, "%s", th_slurp(dir, "stderr"));
	free(p);
	{
		char *spool;

		cr_assert_geq(asprintf(&spool, "%s/.history-pending/*.pending", runs), 0);
		cr_assert_eq(glob(spool, 0, NULL, &g), 0);
		cr_assert_eq(g.gl_pathc, 3, "two runs and the night pending: %zu", g.gl_pathc);
		globfree(&g);
		free(spool);
	}
	for (int again = 0; again < 2; again++) {
		cr_assert_eq(th_rig(dir, (const char *[]){ "history", "sync", "--runs", runs, "--db", db,
							   NULL }), 0, "%s", th_slurp(dir, "stderr"));
		n = rig_nights(dir, db);
		cr_assert_eq(json_array_size(n), 2, "sync %d: %zu nights", again, json_array_size(n));
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(n, 0), "plan_id")),
				 "DOWN");
		json_decref(n);
	}
	free(runs);
	free(db);
	free(down);
	free(dir);
}

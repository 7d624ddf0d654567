/* rig history trace: the design-verification trace of the history (issue
 * 16, 6 of 7, item 11).  Rows are requirements (a requirement id and the
 * measurement its check is judged on), columns are runs, oldest first; each
 * requirement's latest and worst result; and, per device model, a summary
 * over its devices (each device's latest value): n, mean, s and the normal
 * tolerance interval that holds 95 % of the model's devices with 95 %
 * confidence, against the requirement's limit: two-sided when the limit
 * has two sides, else one-sided toward the one it has
 * (rig/analysis/tolerance.c).  Printed, and written as PDF and HTML through
 * the report's document model. */
#include "rig/base/utc.h"
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lab.h"
#include "rig/analysis/tolerance.h"
#include "reports/report_doc.h"
#include "version.h"

#define TOL_P 0.95
#define TOL_GAMMA 0.95
#define RUNS_PER_TABLE 6

static int verdict_rank(const char *v)
{
	return !strcmp(v, "fail") ? 3 : !strcmp(v, "inconclusive") ? 2 : !strcmp(v, "pass") ? 1 : 0;
}

static const char *verdict_word(const char *v)
{
	return !strcmp(v, "fail") ? "FAIL" : !strcmp(v, "inconclusive") ? "INCONCLUSIVE" :
	       !strcmp(v, "pass") ? "PASS" : "—";
}

/* The key of a row: the requirement, the measurement it is judged on and
 * the window of the check that judged it.  One requirement judged in
 * several windows (a dose accuracy at the minimum, nominal and maximum
 * rate) is several rows, each with its own results and its own summary:
 * values of different windows are never pooled.  The row keeps the ids
 * (requirement, measurement, check, window) for a machine and the judge's
 * words for a reader. */
static json_t *find_req(json_t *reqs, const json_t *row)
{
	char words[96];
	size_t i;
	json_t *q;

	json_array_foreach(reqs, i, q)
		if (!strcmp(history_jstr(q, "requirement"), history_jstr(row, "requirement")) &&
		    !strcmp(history_jstr(q, "measurement"), history_jstr(row, "measurement")) &&
		    !strcmp(history_jstr(q, "window"), history_jstr(row, "window")))
			return q;
	measurement_words(history_jstr(row, "measurement"), words, sizeof(words));
	q = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:O, s:{}, s:{}, s:{}}",
		      "requirement", history_jstr(row, "requirement"),
		      "measurement", history_jstr(row, "measurement"), "measurement_words", words,
		      "check", history_jstr(row, "check"),
		      "check_words", check_words(history_jstr(row, "check")),
		      "window", history_jstr(row, "window"), "unit", history_jstr(row, "unit"),
		      "limit_low", json_object_get(row, "limit_low"),
		      "limit_high", json_object_get(row, "limit_high"), "results", "by_model",
		      "latest");
	json_array_append_new(reqs, q);
	return q;
}

/* How far a value is inside its limits, in its unit: the distance to the
 * nearer limit, negative beyond it; NaN without a value.  The row's own
 * limits judge it (a newer sequence version may have moved them). */
static double margin_of(const json_t *row)
{
	const json_t *v = json_object_get(row, "value"), *lo = json_object_get(row, "limit_low"),
		     *hi = json_object_get(row, "limit_high");
	double m = INFINITY;

	if (!json_is_number(v))
		return NAN;
	if (json_is_number(lo))
		m = fmin(m, json_number_value(v) - json_number_value(lo));
	if (json_is_number(hi))
		m = fmin(m, json_number_value(hi) - json_number_value(v));
	return isfinite(m) ? m : NAN;
}

/* Whether a result is worse than the worst so far: the verdict first (a
 * failure before an inconclusive before a pass), then, between equal
 * verdicts, the smaller margin to the nearer limit; a value beats no
 * value (it says how close it came). */
static bool worse_than(const char *v, double margin, const json_t *worst)
{
	int a = verdict_rank(v), b = verdict_rank(history_jstr(worst, "verdict"));
	const json_t *wm = json_object_get(worst, "margin");

	if (a != b)
		return a > b;
	if (!isfinite(margin))
		return false;
	return !json_is_number(wm) || margin < json_number_value(wm);
}

/* A row's name for a reader: "ACC-001: dose error, dose accuracy
 * [dose_max]". */
static void req_label(const json_t *q, char *buf, size_t size)
{
	const char *w = history_jstr(q, "window");

	snprintf(buf, size, "%s: %s, %s%s%s%s", history_jstr(q, "requirement"),
		 history_jstr(q, "measurement_words"), history_jstr(q, "check_words"),
		 *w ? " [" : "", w, *w ? "]" : "");
}

/* n, mean, s and the tolerance interval of one model's devices. */
static json_t *summary(const char *model, json_t *devices, const json_t *req)
{
	double lo = json_is_number(json_object_get(req, "limit_low")) ?
		    json_number_value(json_object_get(req, "limit_low")) : NAN;
	double hi = json_is_number(json_object_get(req, "limit_high")) ?
		    json_number_value(json_object_get(req, "limit_high")) : NAN;
	double sum = 0, ss = 0, mean, s, k = NAN, a = NAN, b = NAN;
	size_t n = json_object_size(devices), i = 0;
	const char *serial, *sided;
	json_t *v, *serials = json_array(), *o;
	bool meets = false;

	json_object_foreach(devices, serial, v) {
		sum += json_number_value(v);
		json_array_append_new(serials, json_string(serial));
	}
	mean = n ? sum / (double)n : NAN;
	json_object_foreach(devices, serial, v) {
		double d = json_number_value(v) - mean;

		ss += d * d;
		i++;
	}
	s = n > 1 ? sqrt(ss / (double)(n - 1)) : NAN;
	sided = isfinite(lo) && isfinite(hi) ? "two-sided" : isfinite(hi) ? "upper" : "lower";
	if (n >= 2) {
		if (!strcmp(sided, "two-sided")) {
			k = tol_k_two_sided((int)n, TOL_P, TOL_GAMMA);
			a = mean - k * s;
			b = mean + k * s;
			meets = a >= lo && b <= hi;
		} else {
			k = tol_k_one_sided((int)n, TOL_P, TOL_GAMMA);
			if (!strcmp(sided, "upper")) {
				b = mean + k * s;
				meets = b <= hi;
			} else {
				a = mean - k * s;
				meets = a >= lo;
			}
		}
	}
	o = json_pack("{s:s, s:I, s:o, s:o, s:o, s:s, s:f, s:f, s:o, s:o, s:o, s:o}", "model", model,
		      "n", (json_int_t)n, "devices", serials,
		      "mean", isfinite(mean) ? json_real(mean) : json_null(),
		      "s", isfinite(s) ? json_real(s) : json_null(), "sided", sided,
		      "proportion", TOL_P, "confidence", TOL_GAMMA,
		      "k", isfinite(k) ? json_real(k) : json_null(),
		      "interval_low", isfinite(a) ? json_real(a) : json_null(),
		      "interval_high", isfinite(b) ? json_real(b) : json_null(),
		      "meets", n >= 2 ? json_boolean(meets) : json_null());
	return o;
}

/* The trace as one JSON object (see lab.h). */
static json_t *trace_build(const json_t *rows, const char *model)
{
	json_t *runs = json_array(), *reqs = json_array(), *seen = json_object(), *row, *q;
	size_t i;

	json_array_foreach(rows, i, row) {
		const char *run = history_jstr(row, "run_id");
		const char *v = history_jstr(row, "check_verdict");
		json_t *results, *latest, *worst, *by_model, *devices, *cell;
		double margin;

		if (!json_object_get(seen, run)) {
			json_object_set_new(seen, run, json_integer((json_int_t)json_array_size(runs)));
			json_array_append_new(runs, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "run_id",
				run, "started", history_jstr(row, "started"), "device_model",
				history_jstr(row, "device_model"), "device_serial",
				history_jstr(row, "device_serial"),
				"clock", history_jstr(row, "clock"), "sequence_id",
				history_jstr(row, "sequence_id")));
		}
		q = find_req(reqs, row);
		/* the same row twice in one run (a check repeated): its worst */
		results = json_object_get(q, "results");
		cell = json_object_get(results, run);
		if (!cell || verdict_rank(v) > verdict_rank(json_string_value(cell)))
			json_object_set_new(results, run, json_string(v));
		/* rows come oldest first (runs of one second in the order they
		 * were stored): the last one seen is the latest */
		latest = json_pack("{s:s, s:s, s:s, s:O}", "run_id", run, "started",
				   history_jstr(row, "started"), "verdict",
				   json_string_value(json_object_get(results, run)),
				   "value", json_object_get(row, "value"));
		json_object_set_new(q, "latest", latest);
		worst = json_object_get(q, "worst");
		margin = margin_of(row);
		if (!worst || worse_than(v, margin, worst))
			json_object_set_new(q, "worst", json_pack("{s:s, s:s, s:s, s:O, s:o}",
				"run_id", run, "started", history_jstr(row, "started"), "verdict", v,
				"value", json_object_get(row, "value"), "margin",
				isfinite(margin) ? json_real(margin) : json_null()));
		/* each device's latest value, per model */
		if (json_is_number(json_object_get(row, "value"))) {
			by_model = json_object_get(q, "by_model");
			devices = json_object_get(by_model, history_jstr(row, "device_model"));
			if (!devices) {
				devices = json_object();
				json_object_set_new(by_model, history_jstr(row, "device_model"),
						    devices);
			}
			json_object_set(devices, history_jstr(row, "device_serial"),
					json_object_get(row, "value"));
		}
	}
	json_array_foreach(reqs, i, q) {
		json_t *models = json_array(), *devices;
		const char *m;

		json_object_foreach(json_object_get(q, "by_model"), m, devices)
			json_array_append_new(models, summary(m, devices, q));
		json_object_del(q, "by_model");
		json_object_set_new(q, "summary", models);
	}
	json_decref(seen);
	return json_pack("{s:s, s:s, s:o, s:o}", "model", model ? model : "",
			 "software", "pumprig " RIG_VERSION, "runs", runs, "requirements", reqs);
}

static void fmt_num(const json_t *v, char *buf, size_t size)
{
	if (json_is_number(v))
		snprintf(buf, size, "%.4g", json_number_value(v));
	else
		snprintf(buf, size, "—");
}

static void fmt_limit(const json_t *q, char *buf, size_t size)
{
	char a[32], b[32];
	const json_t *lo = json_object_get(q, "limit_low"), *hi = json_object_get(q, "limit_high");

	fmt_num(lo, a, sizeof(a));
	fmt_num(hi, b, sizeof(b));
	if (json_is_number(lo) && json_is_number(hi))
		snprintf(buf, size, "%s .. %s %s", a, b, history_jstr(q, "unit"));
	else if (json_is_number(hi))
		snprintf(buf, size, "≤ %s %s", b, history_jstr(q, "unit"));
	else
		snprintf(buf, size, "≥ %s %s", a, history_jstr(q, "unit"));
}

static void fmt_interval(const json_t *sm, const char *unit, char *buf, size_t size)
{
	char a[32], b[32], k[32];

	if (!json_is_number(json_object_get(sm, "k"))) {
		snprintf(buf, size, "n < 2: none");
		return;
	}
	fmt_num(json_object_get(sm, "interval_low"), a, sizeof(a));
	fmt_num(json_object_get(sm, "interval_high"), b, sizeof(b));
	snprintf(k, sizeof(k), "%.3f", json_number_value(json_object_get(sm, "k")));
	if (!strcmp(history_jstr(sm, "sided"), "two-sided"))
		snprintf(buf, size, "%s .. %s %s (k2 = %s)", a, b, unit, k);
	else if (!strcmp(history_jstr(sm, "sided"), "upper"))
		snprintf(buf, size, "≤ %s %s (k1 = %s)", b, unit, k);
	else
		snprintf(buf, size, "≥ %s %s (k1 = %s)", a, unit, k);
}

static const char *meets_word(const json_t *sm)
{
	const json_t *m = json_object_get(sm, "meets");

	return json_is_null(m) ? "too few devices" : json_is_true(m) ? "meets (95 %/95 %)" :
	       "does NOT meet";
}

static bool any_simulated(const json_t *runs)
{
	size_t i;
	json_t *r;

	json_array_foreach(runs, i, r)
		if (!strcmp(history_jstr(r, "clock"), "virtual"))
			return true;
	return false;
}

static void print_trace(const json_t *t)
{
	const json_t *runs = json_object_get(t, "runs"), *reqs = json_object_get(t, "requirements");
	size_t i, j, k;
	json_t *q, *r, *sm;

	if (any_simulated(runs))
		printf("SIMULATED: runs marked * were made on a simulated bench; they are not "
		       "verification evidence\n");
	printf("runs (oldest first):\n");
	json_array_foreach(runs, i, r)
		printf("  %2zu%s %s  %s  %s %s\n", i + 1,
		       !strcmp(history_jstr(r, "clock"), "virtual") ? "*" : " ",
		       TERM_SAFE(history_jstr(r, "started")), TERM_SAFE(history_jstr(r, "run_id")),
		       TERM_SAFE(history_jstr(r, "device_model")),
		       TERM_SAFE(history_jstr(r, "device_serial")));
	printf("\nrequirement x run (P pass, F fail, I inconclusive, . not judged):\n");
	json_array_foreach(reqs, i, q) {
		char lim[96], label[256], lv[32], wv[32];

		fmt_limit(q, lim, sizeof(lim));
		req_label(q, label, sizeof(label));
		fmt_num(json_object_get(json_object_get(q, "latest"), "value"), lv, sizeof(lv));
		fmt_num(json_object_get(json_object_get(q, "worst"), "value"), wv, sizeof(wv));
		printf("  %s\n      ", TERM_SAFE(label));
		json_array_foreach(runs, j, r) {
			const char *v = json_string_value(json_object_get(json_object_get(q, "results"),
									  history_jstr(r,
										       "run_id")));

			putchar(!v ? '.' : !strcmp(v, "pass") ? 'P' : !strcmp(v, "fail") ? 'F' : 'I');
		}
		printf("\n      limit %s; latest %s %s %s (%s), worst %s %s %s (%s)\n", TERM_SAFE(lim),
		       verdict_word(history_jstr(json_object_get(q, "latest"), "verdict")), lv,
		       TERM_SAFE(history_jstr(q, "unit")),
		       TERM_SAFE(history_jstr(json_object_get(q, "latest"), "run_id")),
		       verdict_word(history_jstr(json_object_get(q, "worst"), "verdict")), wv,
		       TERM_SAFE(history_jstr(q, "unit")),
		       TERM_SAFE(history_jstr(json_object_get(q, "worst"), "run_id")));
		json_array_foreach(json_object_get(q, "summary"), k, sm) {
			char mean[32], s[32], iv[128];

			fmt_num(json_object_get(sm, "mean"), mean, sizeof(mean));
			fmt_num(json_object_get(sm, "s"), s, sizeof(s));
			fmt_interval(sm, history_jstr(q, "unit"), iv, sizeof(iv));
			printf("      %s: n = %lld devices, mean %s, s %s, 95 %%/95 %% %s: %s\n",
			       TERM_SAFE(history_jstr(sm, "model")),
			       (long long)json_integer_value(json_object_get(sm, "n")), mean, s, iv,
			       meets_word(sm));
		}
	}
}

static void style_verdict(struct report_doc *doc, struct doc_block *t, const char *v)
{
	enum doc_style st = !strcmp(v, "pass") ? DS_PASS : !strcmp(v, "fail") ? DS_FAIL :
			    !strcmp(v, "inconclusive") ? DS_INCONCLUSIVE : DS_NORMAL;

	doc_add_cell(doc, t, st, "%s", verdict_word(v));
}

static struct report_doc *trace_doc(const json_t *t, const char *utc)
{
	const json_t *runs = json_object_get(t, "runs"), *reqs = json_object_get(t, "requirements");
	struct report_doc *doc = calloc(1, sizeof(*doc));
	const char *model = history_jstr(t, "model");
	struct doc_block *b;
	size_t i, j, k;
	json_t *q, *r, *sm;

	if (!doc)
		return NULL;
	snprintf(doc->report_id, sizeof(doc->report_id), "TRACE %s %s", model[0] ? model : "all models",
		 utc);
	snprintf(doc->title, sizeof(doc->title), "Design verification trace: %s",
		 model[0] ? model : "every device model");
	snprintf(doc->software, sizeof(doc->software), "pumprig %s", RIG_VERSION);
	doc_text(doc, DB_H1, DS_NORMAL, "Design verification trace: %s", model[0] ? model : "every model");
	doc_text(doc, DB_PARA, DS_NORMAL, "Generated %s from the run history: %zu runs, %zu "
		 "requirements. Each cell is the verdict of the requirement's check in that run (the "
		 "newest version of each run).", utc, json_array_size(runs), json_array_size(reqs));
	/* on every page, as a run's report has it: a page of the trace may be
	 * read, copied or filed alone */
	if (any_simulated(runs))
		snprintf(doc->sim_mark, sizeof(doc->sim_mark),
			 "SIMULATED BENCH — NOT VERIFICATION EVIDENCE");
	if (any_simulated(runs))
		doc_text(doc, DB_VERDICT, DS_WARN, "SIMULATED — runs marked * were made on a simulated "
			 "bench: not verification evidence");
	doc_text(doc, DB_H1, DS_NORMAL, "1  Runs");
	b = doc_table(doc, true, 4, 0.08, 0.44, 0.24, 0.24);
	doc_add_cell(doc, b, DS_HEAD, "#");
	doc_add_cell(doc, b, DS_HEAD, "run id");
	doc_add_cell(doc, b, DS_HEAD, "started (UTC)");
	doc_add_cell(doc, b, DS_HEAD, "device");
	json_array_foreach(runs, i, r) {
		doc_add_cell(doc, b, DS_NORMAL, "%zu%s", i + 1,
			     !strcmp(history_jstr(r, "clock"), "virtual") ? "*" : "");
		doc_add_cell(doc, b, DS_MONO, "%s", history_jstr(r, "run_id"));
		doc_add_cell(doc, b, DS_NORMAL, "%s", history_jstr(r, "started"));
		doc_add_cell(doc, b, DS_NORMAL, "%s %s", history_jstr(r, "device_model"),
			     history_jstr(r, "device_serial"));
	}
	doc_text(doc, DB_H1, DS_NORMAL, "2  Requirements × runs");
	for (size_t from = 0; from < json_array_size(runs); from += RUNS_PER_TABLE) {
		size_t to = from + RUNS_PER_TABLE < json_array_size(runs) ? from + RUNS_PER_TABLE :
			    json_array_size(runs), cols = 1 + to - from;
		double w = 0.7 / (double)(cols - 1);

		b = doc_table(doc, true, cols, 0.3, w, w, w, w, w, w);
		doc_add_cell(doc, b, DS_HEAD, "requirement: measurement, check [window]");
		for (j = from; j < to; j++)
			doc_add_cell(doc, b, DS_HEAD, "run %zu%s", j + 1,
				     !strcmp(history_jstr(json_array_get(runs, j), "clock"),
					     "virtual") ? "*" : "");
		json_array_foreach(reqs, i, q) {
			char label[256];

			req_label(q, label, sizeof(label));
			doc_add_cell(doc, b, DS_NORMAL, "%s", label);
			for (j = from; j < to; j++)
				style_verdict(doc, b, history_jstr(json_object_get(q, "results"),
							   history_jstr(json_array_get(runs, j),
									"run_id")));
		}
	}
	doc_text(doc, DB_H1, DS_NORMAL, "3  Latest and worst result per requirement");
	doc_text(doc, DB_PARA, DS_NORMAL, "Worst: the worst verdict; among equal verdicts, the "
		 "value nearest its limit (or farthest beyond it).");
	b = doc_table(doc, true, 4, 0.3, 0.2, 0.25, 0.25);
	doc_add_cell(doc, b, DS_HEAD, "requirement: measurement, check [window]");
	doc_add_cell(doc, b, DS_HEAD, "limit");
	doc_add_cell(doc, b, DS_HEAD, "latest");
	doc_add_cell(doc, b, DS_HEAD, "worst");
	json_array_foreach(reqs, i, q) {
		char lim[96], lv[32], wv[32], label[256];
		const json_t *l = json_object_get(q, "latest"), *w = json_object_get(q, "worst");

		fmt_limit(q, lim, sizeof(lim));
		fmt_num(json_object_get(l, "value"), lv, sizeof(lv));
		fmt_num(json_object_get(w, "value"), wv, sizeof(wv));
		req_label(q, label, sizeof(label));
		doc_add_cell(doc, b, DS_NORMAL, "%s", label);
		doc_add_cell(doc, b, DS_NORMAL, "%s", lim);
		doc_add_cell(doc, b,
			     verdict_rank(history_jstr(l, "verdict")) == 3 ? DS_FAIL : DS_NORMAL,
			     "%s, %s %s, %s", verdict_word(history_jstr(l, "verdict")), lv,
			     history_jstr(q, "unit"),
			     history_jstr(l, "started"));
		doc_add_cell(doc, b,
			     verdict_rank(history_jstr(w, "verdict")) == 3 ? DS_FAIL : DS_NORMAL,
			     "%s, %s %s, %s", verdict_word(history_jstr(w, "verdict")), wv,
			     history_jstr(q, "unit"),
			     history_jstr(w, "started"));
	}
	doc_text(doc, DB_H1, DS_NORMAL, "4  Summary over the devices of each model");
	doc_text(doc, DB_PARA, DS_NORMAL, "One row per requirement, measurement and window: a "
		 "requirement judged in several windows is summarised in each, never pooled. The "
		 "value used is each device's latest in that window. The tolerance interval "
		 "covers 95 %% of the model's devices with 95 %% confidence, assuming a normal "
		 "population: x̄ ± k2·s against a limit on both sides (k2 exact, Odeh and Owen), "
		 "x̄ + k1·s or x̄ − k1·s against a one-sided limit (k1 from the noncentral t).");
	b = doc_table(doc, true, 7, 0.22, 0.1, 0.06, 0.16, 0.2, 0.12, 0.14);
	doc_add_cell(doc, b, DS_HEAD, "requirement: measurement, check [window]");
	doc_add_cell(doc, b, DS_HEAD, "model");
	doc_add_cell(doc, b, DS_HEAD, "n");
	doc_add_cell(doc, b, DS_HEAD, "mean, s");
	doc_add_cell(doc, b, DS_HEAD, "95 %%/95 %% interval");
	doc_add_cell(doc, b, DS_HEAD, "limit");
	doc_add_cell(doc, b, DS_HEAD, "result");
	json_array_foreach(reqs, i, q) {
		json_array_foreach(json_object_get(q, "summary"), k, sm) {
			char lim[96], mean[32], s[32], iv[128], label[256];
			const json_t *m = json_object_get(sm, "meets");

			fmt_limit(q, lim, sizeof(lim));
			fmt_num(json_object_get(sm, "mean"), mean, sizeof(mean));
			fmt_num(json_object_get(sm, "s"), s, sizeof(s));
			fmt_interval(sm, history_jstr(q, "unit"), iv, sizeof(iv));
			req_label(q, label, sizeof(label));
			doc_add_cell(doc, b, DS_NORMAL, "%s", label);
			doc_add_cell(doc, b, DS_NORMAL, "%s", history_jstr(sm, "model"));
			doc_add_cell(doc, b, DS_NORMAL, "%lld",
				     (long long)json_integer_value(json_object_get(sm, "n")));
			doc_add_cell(doc, b, DS_NORMAL, "%s, %s", mean, s);
			doc_add_cell(doc, b, DS_NORMAL, "%s", iv);
			doc_add_cell(doc, b, DS_NORMAL, "%s", lim);
			doc_add_cell(doc, b, json_is_true(m) ? DS_PASS : json_is_false(m) ? DS_FAIL :
					     DS_INCONCLUSIVE, "%s", meets_word(sm));
		}
	}
	return doc;
}

int lab_trace(const json_t *rows, const char *model, const char *out_dir, bool json)
{
	json_t *t;
	struct report_doc *doc;
	struct stat st;
	char utc[32], path[RIG_PATH_MAX + 32];
	int r = 0;

	/* the folder for the PDF and HTML, made as rig history dashboard
	 * makes its --out (its parent must exist: a mistyped path is not
	 * made); refused before anything is printed, as bad input */
	if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "rig history trace: cannot make the folder %s for trace.pdf and "
			"trace.html: %s; give --out an existing folder or one whose parent "
			"exists\n", TERM_SAFE(out_dir), strerror(errno));
		return EXIT_BAD_INPUT;
	}
	if (stat(out_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "rig history trace: --out %s is not a folder\n", TERM_SAFE(out_dir));
		return EXIT_BAD_INPUT;
	}
	t = trace_build(rows, model);
	rig_utc_now_iso(utc);
	json_object_set_new(t, "generated_utc", json_string(utc));
	if (json)
		json_dumpf(t, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER), putchar('\n');
	else
		print_trace(t);
	doc = trace_doc(t, utc);
	if (!doc || doc->failed)
		r = -ENOMEM;
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/trace.pdf", out_dir);
		r = report_pdf_write(doc, path);
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/trace.html", out_dir);
		r = report_html_write(doc, path);
	}
	report_doc_free(doc);
	pango_cairo_font_map_set_default(NULL);
	json_decref(t);
	if (r < 0) {
		fprintf(stderr, "rig history trace: cannot write %s: %s\n", TERM_SAFE(path), strerror(-r));
		return EXIT_ABORTED;
	}
	if (!json)
		fprintf(stderr, "rig history trace: wrote %s/trace.pdf and %s/trace.html\n",
			TERM_SAFE(out_dir), TERM_SAFE(out_dir));
	return EXIT_PASS;
}

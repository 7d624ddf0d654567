/* What a reviewer reads first (issue 16): page 1 of the PDF report opens
 * with the overall verdict and a line per check, for a pass, a fail, a run
 * that judged nothing and an aborted run alike; every page of a report from
 * a simulated bench says it is not verification evidence, and so do
 * results.json, junit.xml and the run history; an override (a calibration
 * used past its due date) makes a pass "pass with deviations", listed.
 * The PDF is read back by poppler's pdftotext, the history by rig history. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faults.h"
#include "helpers.h"

#define SIM_MARK "SIMULATED BENCH — NOT VERIFICATION EVIDENCE"

struct first_page {
	int status;
	char *run;
	char *pages[64];     /* pdftotext -layout, split at form feeds */
	size_t n_pages;
	char *text;          /* the whole of it */
	json_t *results;
	char *junit;
	char *history;       /* rig history list, and show, of the run */
};

/* Runs text on bench (extra: one more rig run argument, or NULL) into
 * dir/run, and reads back what a reviewer and a machine would. */
static struct first_page run_and_read(const char *dir, const char *seq_text, const char *bench,
				      const char *extra)
{
	struct first_page fp = { 0 };
	char *seq = th_write_file(dir, "seq.cfg", seq_text), *dut = th_src(DUT), *db, *save, *copy;
	json_error_t jerr;

	if (asprintf(&fp.run, "%s/run", dir) < 0 || asprintf(&db, "sqlite:%s/history.sqlite", dir) < 0)
		abort();
	fp.status = th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						  "--output", fp.run, "-q", "--db", db, extra, NULL });
	fp.text = report_text(fp.run, dir);
	cr_assert_not_null(fp.text, "no readable report.pdf (exit %d)", fp.status);
	copy = strdup(fp.text);
	for (char *pg = strtok_r(copy, "\f", &save); pg; pg = strtok_r(NULL, "\f", &save))
		if (strspn(pg, " \n") != strlen(pg) && fp.n_pages < 64)
			fp.pages[fp.n_pages++] = strdup(pg);
	free(copy);
	cr_assert_gt(fp.n_pages, 1);
	{
		char *path;

		if (asprintf(&path, "%s/results.json", fp.run) < 0)
			abort();
		fp.results = json_load_file(path, 0, &jerr);
		cr_assert_not_null(fp.results, "%s: %s", path, jerr.text);
		free(path);
	}
	fp.junit = th_slurp(fp.run, "junit.xml");
	cr_assert_not_null(fp.junit);
	/* the run went into the history at its end; list and show it */
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "list", "--db", db, NULL }), 0);
	{
		char *list = th_slurp(dir, "stdout"), *show;

		cr_assert_eq(th_rig(dir, (const char *[]){ "history", "show", fp.run, "--db", db,
							   NULL }), 0);
		show = th_slurp(dir, "stdout");
		if (asprintf(&fp.history, "%s\n%s", list, show) < 0)
			abort();
		free(list);
		free(show);
	}
	free(seq);
	free(dut);
	free(db);
	return fp;
}

static void first_page_free(struct first_page *fp)
{
	for (size_t i = 0; i < fp->n_pages; i++)
		free(fp->pages[i]);
	free(fp->run);
	free(fp->text);
	json_decref(fp->results);
	free(fp->junit);
	free(fp->history);
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* Page 1 opens with the verdict: it comes before anything else of the body
 * (the identification, the equipment), and every page says the bench was
 * simulated; so do results.json, junit.xml and the history. */
static void assert_verdict_first_and_simulated(const struct first_page *fp, const char *verdict)
{
	const char *p1 = fp->pages[0], *v, *ident;
	char want[128];

	snprintf(want, sizeof(want), "Overall verdict: %s", verdict);
	v = strstr(p1, want);
	cr_assert_not_null(v, "page 1 does not say '%s':\n%s", want, p1);
	/* exactly that verdict, not one that begins like it */
	cr_assert(v[strlen(want)] == '\n' || v[strlen(want)] == ' ', "page 1: '%.60s'", v);
	ident = strstr(p1, "1 Identification");
	cr_assert(!ident || v < ident, "the verdict comes after the identification");
	for (size_t i = 0; i < fp->n_pages; i++)
		cr_assert(has_words(fp->pages[i], SIM_MARK), "page %zu of %zu lacks the mark:\n%s",
			  i + 1, fp->n_pages, fp->pages[i]);
	cr_assert_str_eq(jstr(fp->results, "bench_kind"), "simulated");
	cr_assert(json_is_false(json_object_get(fp->results, "verification_evidence")));
	cr_assert_not_null(strstr(fp->junit, " [SIMULATED]\" tests="), "%s", fp->junit);
	cr_assert_not_null(strstr(fp->junit, "name=\"verification_evidence\" value=\"false"),
			   "%s", fp->junit);
	cr_assert_not_null(strstr(fp->history, "SIMULATED: not evidence"), "%s", fp->history);
	cr_assert_not_null(strstr(fp->history, "SIMULATED BENCH: NOT VERIFICATION EVIDENCE"), "%s",
			   fp->history);
	cr_assert_not_null(strstr(fp->history, "bench_kind       simulated"), "%s", fp->history);
}

/* Page 1's line for the check of window w: its verdict on the same line. */
static void assert_check_line(const struct first_page *fp, const char *window, const char *verdict)
{
	char key[64];
	const char *at, *eol;

	snprintf(key, sizeof(key), "dose accuracy [%s]", window);
	at = strstr(fp->pages[0], key);
	cr_assert_not_null(at, "page 1 has no line for %s:\n%s", key, fp->pages[0]);
	eol = strchr(at, '\n');
	cr_assert(eol && memmem(at, (size_t)(eol - at), verdict, strlen(verdict)),
		  "page 1's line for %s lacks %s: %.*s", key, verdict, (int)(eol - at), at);
}

Test(first_page, a_pass_says_pass_first_and_simulated_on_every_page)
{
	char *dir = th_tmpdir(), *bench = bench_variant(dir, NULL, NULL, NULL);
	struct first_page fp = run_and_read(dir, delivery_seq, bench, NULL);

	cr_assert_eq(fp.status, 0);
	assert_verdict_first_and_simulated(&fp, "PASS");
	assert_check_line(&fp, "w", "PASS");
	cr_assert(has_words(fp.pages[0], "Deviations: none"), "%s", fp.pages[0]);
	cr_assert_str_eq(jstr(fp.results, "verdict_text"), "pass");
	cr_assert_eq(json_array_size(json_object_get(fp.results, "deviations")), 0);
	first_page_free(&fp);
	free(bench);
	free(dir);
}

Test(first_page, a_fail_says_fail_first_with_the_failing_check)
{
	char *dir = th_tmpdir();
	char *bench = bench_variant(dir, NULL, "rate_error = \"0 %\"", "rate_error = \"20 %\"");
	struct first_page fp = run_and_read(dir, delivery_seq, bench, NULL);

	cr_assert_eq(fp.status, 1);
	assert_verdict_first_and_simulated(&fp, "FAIL");
	assert_check_line(&fp, "w", "FAIL");
	/* the old first page said only how the run ended */
	cr_assert_str_eq(jstr(fp.results, "verdict_text"), "fail");
	cr_assert_not_null(strstr(fp.junit, "name=\"verdict_text\" value=\"fail\""));
	first_page_free(&fp);
	free(bench);
	free(dir);
}

/* A check can fail on a measurement other than its primary one: an occlusion
 * alarmed in time (59.8 s, limit 4 h) but a pump 20 % fast let out 0.12 mL
 * where 0.05 mL is allowed.  Page 1 and the terminal's summary show the value
 * that decided, named, never the passing time beside FAIL. */
Test(first_page, a_check_that_fails_on_another_measurement_shows_that_one)
{
	char *dir = th_tmpdir(), *occ = th_src("sequences/occlusion.cfg"), *text = th_read_file(occ);
	char *bench = bench_variant(dir, NULL, "rate_error = \"0 %\"", "rate_error = \"20 %\"");
	struct first_page fp;
	const char *at, *eol, *summary;

	cr_assert_not_null(text);
	fp = run_and_read(dir, text, bench, NULL);
	cr_assert_eq(fp.status, 1);
	assert_verdict_first_and_simulated(&fp, "FAIL");
	at = strstr(fp.pages[0], "occlusion alarm [occlusion]");
	cr_assert_not_null(at, "%s", fp.pages[0]);
	eol = strchr(at, '\n');
	cr_assert(eol && memmem(at, (size_t)(eol - at), "FAIL", 4), "%.*s", (int)(eol - at), at);
	cr_assert(memmem(at, (size_t)(eol - at), "≤ 0.05 mL", strlen("≤ 0.05 mL")),
		  "page 1 shows a limit other than the released bolus's: %.*s", (int)(eol - at), at);
	cr_assert(memmem(at, (size_t)(eol - at), "bolus released after", 20),
		  "page 1 does not name the released bolus: %.*s", (int)(eol - at), at);
	summary = th_slurp(fp.run, "summary.txt");
	cr_assert_not_null(strstr(summary, "released_bolus +0.1"), "%s", summary);
	cr_assert_not_null(strstr(summary, "limit <= +0.05 mL"), "%s", summary);
	free((char *)summary);
	first_page_free(&fp);
	free(bench);
	free(text);
	free(occ);
	free(dir);
}

Test(first_page, a_run_that_judged_nothing_is_inconclusive_first)
{
	char *dir = th_tmpdir(), *bench = bench_variant(dir, NULL, NULL, NULL);
	struct first_page fp = run_and_read(dir, short_seq, bench, NULL);

	cr_assert_eq(fp.status, 1);
	assert_verdict_first_and_simulated(&fp, "INCONCLUSIVE");
	cr_assert(has_words(fp.pages[0], "nothing was judged"), "%s", fp.pages[0]);
	cr_assert_str_eq(jstr(fp.results, "verdict_text"), "inconclusive");
	first_page_free(&fp);
	free(bench);
	free(dir);
}

Test(first_page, an_aborted_run_says_so_first_with_its_inconclusive_check)
{
	char *dir = th_tmpdir();
	char *bench = bench_variant(dir, "faults = ( { role = \"scale\"; kind = \"dropout\"; "
				    "at = \"2 h\"; duration = \"10 min\"; } );", NULL, NULL);
	struct first_page fp = run_and_read(dir, delivery_seq, bench, NULL);
	json_t *d;
	size_t i;
	bool aborted = false, root = false;

	cr_assert_eq(fp.status, 3);
	assert_verdict_first_and_simulated(&fp, "INCONCLUSIVE (RUN ABORTED)");
	assert_check_line(&fp, "w", "INCONCLUSIVE");
	cr_assert(has_words(fp.pages[0], "The run was ABORTED at"), "%s", fp.pages[0]);
	cr_assert_str_eq(jstr(fp.results, "verdict_text"), "inconclusive (run aborted)");
	json_array_foreach(json_object_get(fp.results, "deviations"), i, d) {
		aborted |= !strcmp(jstr(d, "kind"), "run_aborted");
		root |= !strcmp(jstr(d, "kind"), "fault") && strstr(jstr(d, "text"), "(root cause)");
	}
	cr_assert(aborted && root, "the abort and its root cause are deviations");
	first_page_free(&fp);
	free(bench);
	free(dir);
}

/* An override is a deviation even when nothing went wrong: the scale used
 * past its calibration's due date, allowed by the operator, turns a pass
 * into "pass with deviations" with the calibration listed, everywhere. */
Test(first_page, a_pass_on_an_expired_calibration_is_a_pass_with_deviations)
{
	char *dir = th_tmpdir();
	char *bench = bench_variant(dir, NULL, "date = \"2026-11-16\"; due = \"2028-11-16\"; };",
				    "date = \"2019-01-01\"; due = \"2020-01-01\"; };");
	struct first_page fp = run_and_read(dir, delivery_seq, bench, "--allow-expired-calibration");
	json_t *d;
	char *summary;

	cr_assert_eq(fp.status, 0, "a pass with deviations is still a pass to the exit status");
	assert_verdict_first_and_simulated(&fp, "PASS WITH DEVIATIONS");
	assert_check_line(&fp, "w", "PASS");
	cr_assert(has_words(fp.pages[0], "calibration expired"), "%s", fp.pages[0]);
	cr_assert_not(has_words(fp.pages[0], "Deviations: none"));
	/* section 5 lists it with what happened */
	cr_assert(has_words(fp.text, "the scale (serial SIM-SCALE) was used past its calibration "
			    "due date 2020-01-01"), "%s", fp.text);
	cr_assert_str_eq(jstr(fp.results, "verdict_text"), "pass with deviations");
	cr_assert_str_eq(jstr(fp.results, "overall_verdict"), "pass");
	d = json_array_get(json_object_get(fp.results, "deviations"), 0);
	cr_assert_str_eq(jstr(d, "kind"), "calibration_expired");
	cr_assert_not_null(strstr(fp.junit, "name=\"verdict_text\" value=\"pass with deviations\""));
	/* junit.xml and summary.txt in the report's words, not the raw kind */
	cr_assert_not_null(strstr(fp.junit, "deviation: calibration expired: the scale"), "%s", fp.junit);
	cr_assert_null(strstr(fp.junit, "calibration_expired"), "%s", fp.junit);
	summary = th_slurp(fp.run, "summary.txt");
	cr_assert_not_null(strstr(summary, "  calibration expired: the scale"), "%s", summary);
	cr_assert_null(strstr(summary, "calibration_expired"), "%s", summary);
	free(summary);
	cr_assert_not_null(strstr(fp.history, "pass with deviations"), "%s", fp.history);
	first_page_free(&fp);
	free(bench);
	free(dir);
}

/* --retry-of names a run: a control character or an empty id is refused
 * before anything is created, as any other text given to rig. */
Test(first_page, a_retry_of_that_is_not_a_run_id_is_refused_before_anything_moves)
{
	char *dir = th_tmpdir(), *bench = bench_variant(dir, NULL, NULL, NULL);
	char *seq = th_write_file(dir, "seq.cfg", short_seq), *dut = th_src(DUT), *run, *err;
	const char *bad[] = { "", "run\nid", "run\x1b[2J" };

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
							   "--output", run, "-q", "--retry-of", bad[i],
							   NULL }), 2, "--retry-of #%zu", i);
		err = th_slurp(dir, "stderr");
		cr_assert_not_null(strstr(err, "--retry-of"), "%s", err);
		cr_assert_eq(access(run, F_OK), -1, "a run directory was created");
		free(err);
	}
	free(run);
	free(dut);
	free(seq);
	free(bench);
	free(dir);
}

/* Gaps an outside audit of the report and its signatures found: a note
 * added to a sealed run that the outputs did not show, a device file
 * without the firmware the pump reported, budget sources cut mid-word, a
 * retry of a run that does not exist, a simulated bench taken for a real
 * one, and personal signatures the history did not show. */
#include <criterion/criterion.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers.h"

#define SEQ "sequences/dose-accuracy.cfg"
#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

static int run_with(const char *tmp, const char *name, const char *bench_path,
		    const char *dut_path, const char *const *extra, char **ret_run)
{
	char *seq = th_src(SEQ), *bench = bench_path ? strdup(bench_path) : th_src(BENCH);
	char *dut = dut_path ? strdup(dut_path) : th_src(DUT), *run = th_path(tmp, name);
	const char *args[24] = { "run", seq, "--bench", bench, "--dut", dut, "-o", run, "-q" };
	int n = 9, status;

	while (extra && *extra && n < 22)
		args[n++] = *extra++;
	args[n] = NULL;
	status = th_rig(tmp, args);
	free(seq);
	free(bench);
	free(dut);
	if (ret_run)
		*ret_run = run;
	else
		free(run);
	return status;
}

static json_t *load_json(const char *dir, const char *name)
{
	char *text = th_slurp(dir, name);
	json_t *o;

	cr_assert_not_null(text, "%s/%s", dir, name);
	o = json_loads(text, 0, NULL);
	cr_assert_not_null(o, "%s/%s: %s", dir, name, text);
	free(text);
	return o;
}

/* -------------------------------------------------- a note after sealing -- */

Test(audit, a_note_added_to_a_sealed_run_is_in_its_results_and_a_new_report_revision)
{
	char *tmp = th_tmpdir(), *run, *txt;
	json_t *res, *dev;

	cr_assert_eq(run_with(tmp, "run", NULL, NULL, NULL, &run), 0);
	res = load_json(run, "results.json");
	cr_assert_eq(json_array_size(json_object_get(res, "deviations")), 0);
	json_decref(res);
	cr_assert_eq(th_rig(tmp, (const char *[]){ "note", run, "tubing kinked at 2 h", NULL }), 0,
		     "%s", th_slurp(tmp, "stderr"));
	res = load_json(run, "results.json");
	dev = json_object_get(res, "deviations");
	cr_assert_eq(json_array_size(dev), 1, "the note is a deviation");
	cr_assert(strstr(json_string_value(json_object_get(json_array_get(dev, 0), "text")),
			 "tubing kinked at 2 h"));
	cr_assert_str_eq(json_string_value(json_object_get(res, "verdict_text")),
			 "pass with deviations", "not a plain pass beside a note");
	json_decref(res);
	txt = th_slurp(run, "summary.txt");
	cr_assert(strstr(txt, "Deviations (1):") && strstr(txt, "tubing kinked"), "%s", txt);
	free(txt);
	txt = th_slurp(run, "report-revisions.jsonl");
	cr_assert(strstr(txt, "{\"revision\":2,"), "the report written again: %s", txt);
	free(txt);
	cr_assert_eq(th_rig(tmp, (const char *[]){ "verify", run, NULL }), 0, "%s",
		     th_slurp(tmp, "stdout"));
	/* the sealed outputs, kept aside while they were written, are gone */
	txt = th_path(tmp, ".run.derived-kept-*");
	{
		glob_t g;

		cr_assert_eq(glob(txt, 0, NULL, &g), GLOB_NOMATCH, "%s", g.gl_pathv[0]);
	}
	free(txt);
	free(run);
	free(tmp);
}

/* --------------------------------------------- the device's firmware -- */

Test(audit, a_device_file_without_firmware_is_refused_at_validate_and_run)
{
	char *tmp = th_tmpdir(), *dut, *seq = th_src(SEQ), *bench = th_src(BENCH), *err;
	char *shipped = th_src(DUT), *text = th_read_file(shipped);

	cr_assert(strstr(text, "firmware = "), "the shipped device file states it");
	free(text);
	dut = th_src_edited(tmp, DUT, "dut.cfg", (const char *[]){ "  firmware = \"1.0.0\";\n", "",
								   NULL });
	cr_assert_eq(th_rig(tmp, (const char *[]){ "validate", seq, "--bench", bench, "--dut", dut,
						   NULL }), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "dut.cfg:7: missing 'firmware' in device"), "%s", err);
	free(err);
	cr_assert_eq(run_with(tmp, "run", NULL, dut, NULL, NULL), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "dut.cfg:7: missing 'firmware' in device"), "%s", err);
	free(err);
	/* one of blanks, or with a blank at an end or a tab: no pump says so */
	for (int k = 0; k < 4; k++) {
		static const char *const lines[] = { "  firmware = \"   \";\n",
						      "  firmware = \"1.0.0\t\";\n",
						      "  firmware = \" 1.0.0\";\n",
						      "  serial = \"SN-0001 \";\n" };
		char *bad;

		bad = th_src_edited(tmp, DUT, "bad.cfg", (const char *[]){ k < 3 ?
			"  firmware = \"1.0.0\";\n" : "  serial = \"SN-0001\";\n", lines[k], NULL });
		cr_assert_eq(th_rig(tmp, (const char *[]){ "validate", seq, "--bench", bench, "--dut",
							   bad, NULL }), 2, "%s", lines[k]);
		err = th_slurp(tmp, "stderr");
		cr_assert(strstr(err, "is not an identity a pump reports"), "%s", err);
		free(err);
		free(bad);
	}
	free(shipped);
	free(dut);
	free(bench);
	free(seq);
	free(tmp);
}

/* ------------------------------------------------- budget sources whole -- */

Test(audit, no_budget_source_of_a_qualification_is_cut)
{
	char *tmp = th_tmpdir(), *seq = th_src("sequences/qualification.cfg");
	char *bench = th_src(BENCH), *dut = th_src(DUT), *run = th_path(tmp, "run"), *html;
	json_t *res, *checks;
	size_t n = 0, longest = 0;

	cr_assert_eq(th_rig(tmp, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut, "-o",
						   run, "-q", NULL }), 0, "%s", th_slurp(tmp, "stderr"));
	res = load_json(run, "results.json");
	html = th_slurp(run, "report.html");
	checks = json_object_get(res, "checks");
	for (size_t i = 0; i < json_array_size(checks); i++) {
		json_t *budget = json_object_get(json_array_get(checks, i), "uncertainty_budget");

		for (size_t k = 0; k < json_array_size(budget); k++) {
			const char *s = json_string_value(json_object_get(json_array_get(budget, k),
									  "source"));
			int depth = 0;

			cr_assert_not_null(s);
			for (const char *p = s; *p; p++)
				depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
			cr_assert_eq(depth, 0, "cut: %s", s);
			cr_assert(strlen(s) < 4 || strcmp(s + strlen(s) - 3, "..."), "cut: %s", s);
			if (strlen(s) > longest)
				longest = strlen(s);
			n++;
		}
	}
	cr_assert_gt(n, 20, "a qualification has budgets");
	cr_assert_gt(longest, 192, "the long ones are there");
	cr_assert(strstr(html, "the load between them)"), "the report's copy whole too");
	free(html);
	json_decref(res);
	free(run);
	free(dut);
	free(bench);
	free(seq);
	free(tmp);
}

/* ------------------------------------------------------------ retry of -- */

Test(audit, retry_of_a_run_that_is_not_there_is_refused)
{
	char *tmp = th_tmpdir(), *run, *err, *meta_text;
	json_t *meta;

	cr_assert_eq(run_with(tmp, "again", NULL, NULL,
			      (const char *[]){ "--retry-of", "2026-no-such-run", NULL }, NULL), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "--retry-of \"2026-no-such-run\": no run with that id in"), "%s", err);
	free(err);
	cr_assert_null(th_slurp(tmp, "again/run.json"), "nothing was created");
	/* the run it repeats, by its run id, in the same folder */
	cr_assert_eq(run_with(tmp, "first", NULL, NULL, NULL, &run), 0);
	meta_text = th_slurp(run, "run.json");
	meta = json_loads(meta_text, 0, NULL);
	cr_assert_eq(run_with(tmp, "again", NULL, NULL, (const char *[]){ "--retry-of",
		     json_string_value(json_object_get(meta, "run_id")), NULL }, NULL), 0, "%s",
		     th_slurp(tmp, "stderr"));
	json_decref(meta);
	free(meta_text);
	free(run);
	free(tmp);
}

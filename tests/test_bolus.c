/* Bolus accuracy and the patient's lockout, recovered from the record alone:
 * the simulated pump is told to run its boluses short or long and to keep
 * (or not) a lockout; the shipped sequence (and others of the same kind,
 * written here) is run through the CLI, and results.json must say what the
 * pump was told, within the U it states. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "results_read.h"

#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

/* Runs sequence (a shipped one, or text when it starts with "sequence") on
 * the simulated bench edited by bench_pairs. */
static struct th_run run_seq(const char *sequence, const char *const *bench_pairs)
{
	return th_run_seq(sequence, BENCH, bench_pairs, DUT, NULL);
}

/* How many bolus_<n>_error measurements the check has. */
static size_t boluses_weighed(json_t *c)
{
	size_t i, n = 0;
	json_t *m;

	json_array_foreach(json_object_get(c, "measurements"), i, m) {
		const char *name = json_string_value(json_object_get(m, "name"));

		n += strncmp(name, "bolus_", 6) == 0 && strstr(name, "_error") &&
		     name[6] >= '1' && name[6] <= '9';
	}
	return n;
}

/* Every bolus's error within its own U of the truth, and the mean's. */
static void assert_recovered(json_t *c, double truth_pct, size_t n_boluses)
{
	size_t n = boluses_weighed(c);

	cr_assert_eq(n, n_boluses, "%zu boluses weighed", n);
	for (size_t i = 1; i <= n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "bolus_%zu_error", i);
		cr_assert(mU(c, name) > 0 && mU(c, name) < 2, "%s: U = %g %%", name, mU(c, name));
		cr_assert(fabs(mval(c, name) - truth_pct) <= mU(c, name),
			  "%s: %+.4f %% +- %.4f, the pump was told %+.2f %%", name, mval(c, name),
			  mU(c, name), truth_pct);
	}
	cr_assert(fabs(mval(c, "bolus_error_mean") - truth_pct) <= mU(c, "bolus_error_mean"),
		  "mean %+.4f %% +- %.4f, the pump was told %+.2f %%", mval(c, "bolus_error_mean"),
		  mU(c, "bolus_error_mean"), truth_pct);
}

Test(bolus, an_accurate_pump_that_keeps_its_lockout_passes)
{
	struct th_run r = run_seq("sequences/bolus.cfg", (const char *[]){ NULL });
	json_t *c;

	cr_assert_not_null(r.results, "%s", r.err);
	c = check_named(r.results, "bolus_accuracy");
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(verdict(c), "pass");
	assert_recovered(c, 0, 5);
	cr_assert_eq(mval(c, "lockout_violations"), 0);
	/* the demand inside the lockout was refused, and the balance agrees */
	cr_assert(fabs(mval(c, "refused_1_delivered")) <= mU(c, "refused_1_delivered"),
		  "refused demand weighed %.4f %% +- %.4f", mval(c, "refused_1_delivered"),
		  mU(c, "refused_1_delivered"));
	cr_assert_str_eq(json_string_value(json_object_get(measurement(c, "refused_1_delivered"),
							   "requirement")), "ITP-40-SRS-BOL-002");
	th_run_free(&r);
}

/* The case: boluses 5 % short, measured 5 % short (at the limit, so
 * no verdict is asserted), and nothing taken for a disturbance of the
 * balance when the short bolus stops early. */
Test(bolus, boluses_5_percent_short_are_measured_5_percent_short)
{
	struct th_run r = run_seq("sequences/bolus.cfg", (const char *[]){
		"bolus_error = \"0 %\"", "bolus_error = \"-5 %\"", "seed = 1", "seed = 7", NULL });
	json_t *c;

	cr_assert_not_null(r.results, "%s", r.err);
	c = check_named(r.results, "bolus_accuracy");
	cr_assert_str_neq(verdict(c), "inconclusive", "%s",
			  json_string_value(json_object_get(c, "explanation")));
	assert_recovered(c, -5, 5);
	th_run_free(&r);
}

/* Another member of the class: other volumes, another rate, a pump running
 * its boluses long, no patient demands; outside the tolerance it fails. */
Test(bolus, other_volumes_and_a_pump_running_long_fail_outside_the_tolerance)
{
	static const char seq[] =
		"sequence = {\n"
		"  id = \"T-BOLUS\"; version = \"1\"; title = \"boluses\";\n"
		"  steps = (\n"
		"    { step = \"prime\"; volume = \"0.05 mL\"; },\n"
		"    { step = \"tare\"; },\n"
		"    { step = \"measure_evaporation\"; duration = \"30 min\"; },\n"
		"    { step = \"set_rate\"; rate = \"0.2 mL/h\"; },\n"
		"    { step = \"hold\"; duration = \"20 min\"; },\n"
		"    { step = \"mark\"; window = \"b\"; edge = \"begin\"; },\n"
		"    { step = \"bolus\"; volume = \"0.25 mL\"; rate = \"0.8 mL/h\"; },\n"
		"    { step = \"hold\"; duration = \"5 min\"; },\n"
		"    { step = \"bolus\"; volume = \"0.02 mL\"; rate = \"0.5 mL/h\"; },\n"
		"    { step = \"hold\"; duration = \"5 min\"; },\n"
		"    { step = \"bolus\"; volume = \"0.4 mL\"; },\n"
		"    { step = \"hold\"; duration = \"10 min\"; },\n"
		"    { step = \"mark\"; window = \"b\"; edge = \"end\"; },\n"
		"    { step = \"stop\"; },\n"
		"    { step = \"measure_evaporation\"; duration = \"30 min\"; },\n"
		"    { step = \"check\"; check = \"bolus_accuracy\"; window = \"b\"; }\n"
		"  );\n"
		"};\n";
	struct th_run r = run_seq(seq, (const char *[]){
		"bolus_error = \"0 %\"", "bolus_error = \"7 %\"", "seed = 1", "seed = 11", NULL });
	json_t *c;

	cr_assert_not_null(r.results, "%s", r.err);
	c = check_named(r.results, "bolus_accuracy");
	cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(verdict(c), "fail");
	/* 0.02 mL is 80 strokes: 7 % more is 85.6, delivered as 86 (+7.5 %) */
	cr_assert(fabs(mval(c, "bolus_2_error") - 7.5) <= mU(c, "bolus_2_error"),
		  "%+.3f +- %.3f", mval(c, "bolus_2_error"), mU(c, "bolus_2_error"));
	cr_assert(fabs(mval(c, "bolus_1_error") - 7.0) <= mU(c, "bolus_1_error"));
	cr_assert(fabs(mval(c, "bolus_3_error") - 7.0) <= mU(c, "bolus_3_error"));
	/* without a demand of the patient's the device's lockout is not tested,
	 * and the results say so rather than pass it */
	{
		size_t i;
		json_t *m;

		json_array_foreach(json_object_get(c, "measurements"), i, m)
			cr_assert_str_neq(json_string_value(json_object_get(m, "name")),
					  "lockout_violations");
		cr_assert_eq(json_array_size(json_object_get(c, "other_requirements")), 0);
		cr_assert_not_null(strstr(json_string_value(json_object_get(c, "explanation")),
					  "the lockout (ITP-40-SRS-BOL-002) was not tested"));
	}
	th_run_free(&r);
}

/* A pump without the lockout delivers the demand it must refuse, and the
 * next one inside a lockout counted from it: both are violations. */
Test(bolus, a_pump_that_ignores_its_lockout_fails_the_lockout_requirement)
{
	struct th_run r = run_seq("sequences/bolus.cfg", (const char *[]){
		"bolus_lockout = \"1 h\"", "bolus_lockout = \"0 s\"", NULL });
	json_t *c, *m;

	cr_assert_not_null(r.results, "%s", r.err);
	c = check_named(r.results, "bolus_accuracy");
	cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(verdict(c), "fail");
	cr_assert_eq(mval(c, "lockout_violations"), 2);
	m = measurement(c, "lockout_violations");
	cr_assert_str_eq(json_string_value(json_object_get(m, "requirement")), "ITP-40-SRS-BOL-002");
	cr_assert_not_null(strstr(json_string_value(json_object_get(c, "explanation")),
				  "lockout not honoured (2 violations; the first:"));
	cr_assert_not_null(strstr(json_string_value(json_object_get(c, "explanation")),
				  "within the lockout"));
	/* each requirement's own verdict: in results.json and in summary.txt */
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(
		json_object_get(c, "other_requirements"), 0), "verdict")), "fail");
	{
		char *summary = th_slurp(r.dir, "run/summary.txt");
		char *junit = th_slurp(r.dir, "run/junit.xml");

		cr_assert_not_null(strstr(summary, "by requirement: ITP-40-SRS-BOL-001 pass; "
					  "ITP-40-SRS-BOL-002 fail"), "%s", summary);
		cr_assert_not_null(strstr(junit, "message=\"ITP-40-SRS-BOL-001 pass; "
					  "ITP-40-SRS-BOL-002 fail: "), "%s", junit);
		free(junit);
		free(summary);
	}
	/* the boluses themselves were accurate */
	assert_recovered(c, 0, 6);
	/* the run history traces each to its own requirement, with its own
	 * verdict: the boluses pass BOL-001, the lockout fails BOL-002 */
	{
		char *db, *out;

		if (asprintf(&db, "sqlite:%s/history.sqlite", r.dir) < 0)
			abort();
		cr_assert_eq(th_rig(r.dir, (const char *[]){ "history", "trace", "--db", db, "--out",
							     r.dir, NULL }), 0);
		out = th_slurp(r.dir, "stdout");
		cr_assert_not_null(strstr(out, "ITP-40-SRS-BOL-002: lockout violations, bolus "
					  "accuracy [boluses]\n      F"), "%s", out);
		cr_assert_not_null(strstr(out, "ITP-40-SRS-BOL-001: bolus 1 error, bolus accuracy "
					  "[boluses]\n      P"), "%s", out);
		cr_assert_null(strstr(out, "ITP-40-SRS-BOL-001: lockout violations"), "%s", out);
		free(out);
		free(db);
	}
	th_run_free(&r);
}

/* A pump whose lockout outlasts the device's refuses a demand it must take. */
Test(bolus, a_pump_whose_lockout_is_too_long_fails)
{
	struct th_run r = run_seq("sequences/bolus.cfg", (const char *[]){
		"bolus_lockout = \"1 h\"", "bolus_lockout = \"2 h\"", NULL });
	json_t *c;

	cr_assert_not_null(r.results, "%s", r.err);
	c = check_named(r.results, "bolus_accuracy");
	cr_assert_str_eq(verdict(c), "fail");
	cr_assert_eq(mval(c, "lockout_violations"), 1);
	cr_assert_not_null(strstr(json_string_value(json_object_get(c, "explanation")),
				  "after the lockout"));
	th_run_free(&r);
}

/* A plan that cannot judge its boluses is refused before anything moves. */
Test(bolus, a_bolus_without_time_to_settle_or_a_device_without_tolerance_is_bad_input)
{
	static const char seq[] =
		"sequence = {\n"
		"  id = \"T-BOLUS\"; version = \"1\"; title = \"boluses\";\n"
		"  steps = (\n"
		"    { step = \"tare\"; },\n"
		"    { step = \"mark\"; window = \"b\"; edge = \"begin\"; },\n"
		"    { step = \"bolus\"; volume = \"0.1 mL\"; },\n"
		"    { step = \"hold\"; duration = \"30 s\"; },\n"
		"    { step = \"bolus\"; volume = \"0.1 mL\"; demand = \"patient\"; },\n"
		"    { step = \"hold\"; duration = \"10 min\"; },\n"
		"    { step = \"mark\"; window = \"b\"; edge = \"end\"; },\n"
		"    { step = \"check\"; check = \"bolus_accuracy\"; window = \"b\"; }\n"
		"  );\n"
		"};\n";
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT), *err;
	char *path = th_write_file(dir, "seq.cfg", seq);
	char *plain_dut = th_src_edited(dir, DUT, "plain.cfg", (const char *[]){
		"tolerance = \"5 %\";\n    requirement = \"ITP-40-SRS-BOL-001\";", "", NULL });

	cr_assert_eq(th_rig(dir, (const char *[]){ "validate", path, "--bench", bench, "--dut",
						   dut, NULL }), 2);
	err = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(err, "seq.cfg:6: this bolus is followed by 30 s of hold"), "%s", err);
	free(err);
	cr_assert_eq(th_rig(dir, (const char *[]){ "validate", path, "--bench", bench, "--dut",
						   plain_dut, NULL }), 2);
	err = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(err, "seq.cfg:11: a bolus_accuracy check needs the bolus "
				  "tolerance"), "%s", err);
	free(err);
	/* more boluses than one window weighs; the check's own requirement
	 * made the lockout's */
	{
		char *many = NULL, *text;
		size_t len = 0;
		FILE *f = open_memstream(&many, &len);

		fprintf(f, "sequence = { id = \"T\"; version = \"1\"; title = \"t\";\n  steps = (\n"
			"    { step = \"tare\"; },\n    { step = \"mark\"; window = \"b\"; edge = \"begin\"; },\n");
		for (int i = 0; i < 17; i++)
			fprintf(f, "    { step = \"bolus\"; volume = \"0.01 mL\"; },\n"
				"    { step = \"hold\"; duration = \"5 min\"; },\n");
		fprintf(f, "    { step = \"mark\"; window = \"b\"; edge = \"end\"; },\n"
			"    { step = \"check\"; check = \"bolus_accuracy\"; window = \"b\";"
			" requirement = \"itp-40-srs-bol-002\"; }\n  );\n};\n");
		fclose(f);
		text = th_write_file(dir, "many.cfg", many);
		cr_assert_eq(th_rig(dir, (const char *[]){ "validate", text, "--bench", bench,
							   "--dut", dut, NULL }), 2);
		err = th_slurp(dir, "stderr");
		cr_assert_not_null(strstr(err, "many.cfg:40: window 'b' holds 17 bolus steps; a "
					  "bolus_accuracy check weighs at most 16"), "%s", err);
		cr_assert_not_null(strstr(err, "many.cfg:40: requirement = \"itp-40-srs-bol-002\" is "
					  "the device's bolus.lockout_requirement"), "%s", err);
		free(err);
		free(text);
		free(many);
	}
	/* a tolerance without its requirement; a blank requirement */
	{
		char *bad = th_src_edited(dir, DUT, "bad.cfg", (const char *[]){
			"    requirement = \"ITP-40-SRS-BOL-001\";\n", "",
			"lockout_requirement = \"ITP-40-SRS-BOL-002\"", "lockout_requirement = \" \"",
			NULL });

		cr_assert_eq(th_rig(dir, (const char *[]){ "validate", path, "--bench", bench,
							   "--dut", bad, NULL }), 2);
		err = th_slurp(dir, "stderr");
		cr_assert_not_null(strstr(err, "'tolerance' is given without 'requirement'"), "%s", err);
		cr_assert_not_null(strstr(err, "'lockout_requirement' is blank"), "%s", err);
		cr_assert_not_null(strstr(err, "2 problems found"), "%s", err);
		free(err);
		free(bad);
	}
	/* a demand the sequence cannot name */
	free(th_write_file(dir, "seq.cfg", "sequence = { id = \"T\"; version = \"1\"; title = \"t\";\n"
			   "  steps = ( { step = \"bolus\"; volume = \"0.1 mL\"; demand = \"nurse\"; } ); };\n"));
	cr_assert_eq(th_rig(dir, (const char *[]){ "validate", path, "--bench", bench, "--dut",
						   dut, NULL }), 2);
	err = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(err, "seq.cfg:2:"), "%s", err);
	cr_assert_not_null(strstr(err, "clinician"), "%s", err);
	free(err);
	free(plain_dut);
	free(path);
	free(dut);
	free(bench);
	free(dir);
}

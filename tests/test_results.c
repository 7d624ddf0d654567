/* Judging a run directory from its record alone, on a hand-made record whose
 * expected values are worked out in the comments. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers.h"
#include "rig/base/record.h"
#include "rig/judge/results.h"
#include "reports/reports.h"

static void copy_input(const char *run, const char *src_rel, const char *name)
{
	char *src = th_src(src_rel), *text = th_read_file(src), *dir;

	cr_assert_not_null(text, "%s", src);
	if (asprintf(&dir, "%s/inputs", run) < 0)
		abort();
	mkdir(dir, 0755);
	free(th_write_file(dir, name, text));
	free(dir);
	free(text);
	free(src);
}

static char *make_run(const char *events, const char *samples)
{
	char *run = th_tmpdir();

	copy_input(run, "sequences/dose-accuracy.cfg", "sequence.cfg");
	copy_input(run, "fixtures/bench/sim.cfg", "bench.cfg");
	copy_input(run, "fixtures/dut/itp-40.cfg", "device.cfg");
	free(th_write_file(run, "events.jsonl", events));
	free(th_write_file(run, "samples.csv", samples));
	return run;
}

/* 0.25 mL/h from t = 0; window "steady" from 3600 s to 7200 s.
 * Balance: 0.200 g at 3570 s and 0.210 g at 3630 s -> 0.205 g at 3600 s;
 * 0.455 g at 7170 s and 0.465 g at 7230 s -> 0.460 g at 7200 s.
 * A reading flagged U (unstable) at 3600 s says 5 g and must be ignored.
 * Collected 0.255 g; the shipped bench adds back 0.05 mg/h * 1 h = 0.05 mg.
 * Water at 20 degC (Tanaka 2001: 998.20675 kg/m3) weighed in 1.2 kg/m3 air
 * against 8000 kg/m3 weights: 1/(998.20675 - 1.2) * (1 - 1.2/8000) =
 * 1.00285179 mL/g, so 0.25505 g is 0.2557773 mL against 0.25 mL programmed:
 * +2.3109397 %. */
static const char events_ok[] =
	"{\"t_ns\":0,\"event\":\"run_start\"}\n"
	"{\"t_ns\":0,\"event\":\"rate\",\"rate_ml_per_h\":0.25}\n"
	"{\"t_ns\":3600000000000,\"event\":\"mark\",\"window\":\"steady\",\"edge\":\"begin\"}\n"
	"{\"t_ns\":7200000000000,\"event\":\"mark\",\"window\":\"steady\",\"edge\":\"end\"}\n";
static const char samples_ok[] =
	"t_ns,role,quantity,value,unit,flags\n"
	"3570000000000,scale,mass,0.2,g,\n"
	"3600000000000,scale,mass,5,g,U\n"
	"3600000000000,pressure,pressure,1.5,kPa,\n"
	"3630000000000,scale,mass,0.21,g,\n"
	"7170000000000,scale,mass,0.455,g,\n"
	"7230000000000,scale,mass,0.465,g,\n";

Test(results, dose_accuracy_from_a_hand_made_record)
{
	char *events, *run;
	struct run_results *res;
	char err[512];

	if (asprintf(&events, "%s%s", events_ok,
		     "{\"t_ns\":7300000000000,\"event\":\"run_end\",\"status\":\"completed\",\"reason\":\"every step ran\"}\n") < 0)
		abort();
	run = make_run(events, samples_ok);
	cr_assert_eq(results_analyse(run, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(res->status, RUN_COMPLETED);
	cr_assert_eq(res->n_checks, 1);
	cr_assert_str_eq(res->checks[0].check, "dose_accuracy");
	cr_assert(res->checks[0].has_measured);
	cr_assert_float_eq(res->checks[0].mass_begin_g, 0.205, 1e-12);
	cr_assert_float_eq(res->checks[0].mass_end_g, 0.460, 1e-12);
	cr_assert_float_eq(res->checks[0].programmed_ml, 0.25, 1e-12);
	cr_assert_float_eq(res->checks[0].measured, 2.3109397, 1e-6);
	cr_assert_eq(res->checks[0].verdict, VERDICT_PASS);
	cr_assert_eq(res->overall, VERDICT_PASS);
	cr_assert_eq(results_exit_status(res), 0);
	cr_assert_eq(res->n_samples_total, 6);
	results_free(res);
	free(events);
	free(run);
}

Test(results, an_interrupted_record_is_judged_and_marked_so)
{
	char *samples, *run;
	struct run_results *res;
	char err[512];

	/* no run_end event, and a last sample row torn by the crash */
	if (asprintf(&samples, "%s%s", samples_ok, "7260000000000,scale,ma") < 0)
		abort();
	run = make_run(events_ok, samples);
	cr_assert_eq(results_analyse(run, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(res->status, RUN_INTERRUPTED);
	cr_assert_eq(res->n_torn_lines, 1);
	cr_assert_float_eq(res->checks[0].measured, 2.3109397, 1e-6);
	cr_assert_eq(res->overall, VERDICT_INCONCLUSIVE);
	cr_assert_eq(results_exit_status(res), 3);
	cr_assert_not_null(strstr(res->end_reason, "interrupted"));
	cr_assert_eq(report_write_all(res, run, NULL), 0);
	results_free(res);
	free(samples);
	free(run);
}

Test(results, a_window_never_ended_is_inconclusive_not_passed)
{
	static const char events[] =
		"{\"t_ns\":0,\"event\":\"rate\",\"rate_ml_per_h\":0.25}\n"
		"{\"t_ns\":3600000000000,\"event\":\"mark\",\"window\":\"steady\",\"edge\":\"begin\"}\n"
		"{\"t_ns\":4000000000000,\"event\":\"run_end\",\"status\":\"aborted\",\"reason\":\"scale read failed\"}\n";
	char *run = make_run(events, samples_ok);
	struct run_results *res;
	char err[512];

	cr_assert_eq(results_analyse(run, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(res->status, RUN_ABORTED);
	cr_assert_str_eq(res->end_reason, "scale read failed");
	cr_assert_eq(res->checks[0].verdict, VERDICT_INCONCLUSIVE);
	cr_assert_not(res->checks[0].has_measured);
	cr_assert_eq(results_exit_status(res), 3);
	results_free(res);
	free(run);
}

Test(results, a_pump_outside_tolerance_fails)
{
	/* Same record, but 0.3 mL/h programmed: 0.2557773 mL against 0.3 mL is
	 * -14.74 %, outside the device's 10 %. */
	static const char events[] =
		"{\"t_ns\":0,\"event\":\"rate\",\"rate_ml_per_h\":0.3}\n"
		"{\"t_ns\":3600000000000,\"event\":\"mark\",\"window\":\"steady\",\"edge\":\"begin\"}\n"
		"{\"t_ns\":7200000000000,\"event\":\"mark\",\"window\":\"steady\",\"edge\":\"end\"}\n"
		"{\"t_ns\":7300000000000,\"event\":\"run_end\",\"status\":\"completed\",\"reason\":\"\"}\n";
	char *run = make_run(events, samples_ok);
	struct run_results *res;
	char err[512];

	cr_assert_eq(results_analyse(run, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_float_eq(res->checks[0].measured, -14.7408836, 1e-6);
	cr_assert_eq(res->checks[0].verdict, VERDICT_FAIL);
	cr_assert_eq(results_exit_status(res), 1);
	results_free(res);
	free(run);
}

Test(results, a_missing_run_directory_is_an_error_with_a_message)
{
	struct run_results *res;
	char err[512] = "";

	cr_assert_lt(results_analyse("/nonexistent/pumprig-run", &res, err, sizeof(err)), 0);
	cr_assert_null(res);
	cr_assert_neq(err[0], '\0');
}

Test(results, a_disturbed_vessel_is_an_instrument_event_and_the_window_inconclusive)
{
	/* 0.25 mL/h is about 2.08 mg per 30 s reading; at 5400 s 3 mg were taken
	 * out, so that interval shows -0.9 mg where +2.08 mg were due. */
	char *samples = NULL, *run, *events;
	struct run_results *res;
	char err[512];
	size_t len = 0;
	FILE *f = open_memstream(&samples, &len);

	fprintf(f, "t_ns,role,quantity,value,unit,flags\n");
	for (int s = 3000; s <= 7500; s += 30) {
		char v[SAMPLE_VALUE_TEXT_MAX];

		/* as the recorder writes them, to the microgram */
		sample_value_format(v, sizeof(v),
				    round(((s - 3000) * 0.25 / 3600 + (s >= 5400 ? -3e-3 : 0)) * 1e6) / 1e6);
		fprintf(f, "%d000000000,scale,mass,%s,g,\n", s, v);
	}
	fclose(f);
	if (asprintf(&events, "%s%s", events_ok,
		     "{\"t_ns\":7600000000000,\"event\":\"run_end\",\"status\":\"completed\",\"reason\":\"\"}\n") < 0)
		abort();
	run = make_run(events, samples);
	cr_assert_eq(results_analyse(run, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(res->n_events, 1);
	cr_assert_str_eq(res->events[0].kind, "negative_mass_step");
	cr_assert_eq(res->events[0].t_ns, 5400 * RIG_NS_PER_S);
	cr_assert_eq(res->checks[0].verdict, VERDICT_INCONCLUSIVE);
	cr_assert_not_null(strstr(res->checks[0].explanation, "fell abruptly"));
	cr_assert_eq(results_exit_status(res), 1);
	results_free(res);
	free(samples);
	free(events);
	free(run);
}

/* ILAC-G8 decision rules, value by value: simple acceptance passes within
 * the limit; guarded acceptance only within the limit narrowed by w = r U
 * on each finite side, and cannot accept a value without U. */
Test(results, guarded_acceptance_rejects_a_value_in_its_guard_band)
{
	struct decision_rule simple = { .kind = DECISION_SIMPLE };
	struct decision_rule guarded = { .kind = DECISION_GUARDED, .guard_factor = 1 };
	struct decision_rule wide = { .kind = DECISION_GUARDED, .guard_factor = 2 };

	cr_assert_eq(decision_judge(&simple, 9.5, 0.6, -10, 10), VERDICT_PASS);
	cr_assert_eq(decision_judge(&guarded, 9.5, 0.6, -10, 10), VERDICT_FAIL);
	cr_assert_eq(decision_judge(&guarded, -9.5, 0.6, -10, 10), VERDICT_FAIL);
	cr_assert_eq(decision_judge(&guarded, 9.3, 0.6, -10, 10), VERDICT_PASS);
	cr_assert_eq(decision_judge(&wide, 9.3, 0.6, -10, 10), VERDICT_FAIL);
	cr_assert_eq(decision_judge(&guarded, 9.3, NAN, -10, 10), VERDICT_INCONCLUSIVE);
	cr_assert_eq(decision_judge(&simple, 9.3, NAN, -10, 10), VERDICT_PASS);
	cr_assert_eq(decision_judge(&simple, 10.5, 0.1, -10, 10), VERDICT_FAIL);
	cr_assert_eq(decision_judge(&guarded, 10.5, NAN, -10, 10), VERDICT_FAIL);
	/* one-sided: the open side has no guard band */
	cr_assert_eq(decision_judge(&guarded, 5.05, 0.11, 5, INFINITY), VERDICT_FAIL);
	cr_assert_eq(decision_judge(&guarded, 500, 0.11, 5, INFINITY), VERDICT_PASS);
	cr_assert_eq(decision_judge(&simple, 5.05, 0.11, 5, INFINITY), VERDICT_PASS);
}

/* The same pump, 9.95 % fast, against a 10 % dose tolerance: within the
 * limit, so a simple-acceptance requirement passes, but inside a guard
 * band of 3 U, so a guarded one fails, saying why. */
static json_t *dose_with_rule(const char *rule)
{
	char *dir = th_tmpdir(), *seq = th_src("sequences/dose-accuracy.cfg");
	char *bsrc = th_src("fixtures/bench/sim.cfg"), *btext = th_read_file(bsrc);
	char *dsrc = th_src("fixtures/dut/itp-40.cfg"), *dtext = th_read_file(dsrc);
	char *bench, *dut, *run, *path, *k, *out;
	json_t *root;

	k = strstr(btext, "rate_error = \"0 %\"");
	cr_assert_not_null(k);
	if (asprintf(&out, "%.*srate_error = \"9.95 %%\"%s", (int)(k - btext), btext,
		     k + strlen("rate_error = \"0 %\"")) < 0)
		abort();
	bench = th_write_file(dir, "bench.cfg", out);
	free(out);
	k = strstr(dtext, "decision_rule = \"simple\";");
	cr_assert_not_null(k);
	if (asprintf(&out, "%.*s%s%s", (int)(k - dtext), dtext, rule,
		     k + strlen("decision_rule = \"simple\";")) < 0)
		abort();
	dut = th_write_file(dir, "dut.cfg", out);
	free(out);
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut, "--output", run,
				      "-q", NULL });
	if (asprintf(&path, "%s/results.json", run) < 0)
		abort();
	root = json_load_file(path, 0, NULL);
	cr_assert_not_null(root);
	free(path);
	free(run);
	free(dut);
	free(bench);
	free(dtext);
	free(dsrc);
	free(btext);
	free(bsrc);
	free(seq);
	free(dir);
	return root;
}

Test(results, the_device_files_decision_rule_decides_a_value_near_its_limit)
{
	json_t *simple = dose_with_rule("decision_rule = \"simple\";");
	json_t *guarded = dose_with_rule("decision_rule = \"guarded\"; guard_band = \"3 U\";");
	json_t *cs = json_array_get(json_object_get(simple, "checks"), 0);
	json_t *cg = json_array_get(json_object_get(guarded, "checks"), 0);
	double v = json_number_value(json_object_get(cg, "measured"));
	double u = json_number_value(json_object_get(cg, "U"));

	/* the premise: within the limit, inside the guard band */
	cr_assert(v < 10 && v > 10 - 3 * u, "error %g %% with U %g %%", v, u);
	cr_assert_str_eq(json_string_value(json_object_get(cs, "verdict")), "pass");
	cr_assert_str_eq(json_string_value(json_object_get(cg, "verdict")), "fail");
	cr_assert_not_null(strstr(json_string_value(json_object_get(cg, "explanation")),
				  "inside the guard band"));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(cg, "decision_rule"),
							   "rule")), "guarded");
	cr_assert_str_eq(json_string_value(json_object_get(simple, "overall_verdict")), "pass");
	cr_assert_str_eq(json_string_value(json_object_get(guarded, "overall_verdict")), "fail");
	json_decref(simple);
	json_decref(guarded);
}

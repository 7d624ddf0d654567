/* The measurement-science checks recover what the simulated bench was told,
 * from the recorded samples alone: each test changes one physical parameter
 * of the shipped simulated bench, runs a shipped sequence through the CLI,
 * and compares results.json with the value expected from the physics. */
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

struct run {
	int status;
	json_t *results;
};

/* sequence as shipped, or with seq_pairs (text, replacement) replaced */
static struct run run_seq_edited(const char *sequence, const char *const *seq_pairs,
				 const char *const *bench_pairs)
{
	char *dir = th_tmpdir(), *bench = th_src_edited(dir, BENCH, "bench.cfg", bench_pairs);
	char *seq = seq_pairs ? th_src_edited(dir, sequence, "sequence.cfg", seq_pairs) : th_src(sequence);
	char *dut = th_src(DUT), *out, *path, *err;
	json_error_t jerr;
	struct run r;

	if (asprintf(&out, "%s/run", dir) < 0 || asprintf(&path, "%s/run/results.json", dir) < 0)
		abort();
	r.status = th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						 "--output", out, "-q", NULL });
	r.results = json_load_file(path, 0, &jerr);
	err = th_slurp(dir, "stderr");
	cr_assert_not_null(r.results, "%s: %s; stderr: %s", path, jerr.text, err);
	free(err);
	free(dir);
	free(bench);
	free(seq);
	free(dut);
	free(out);
	free(path);
	return r;
}

static struct run run_seq(const char *sequence, const char *const *bench_pairs)
{
	return run_seq_edited(sequence, NULL, bench_pairs);
}

Test(measurement, a_pump_5_percent_slow_is_measured_5_percent_slow_within_its_uncertainty)
{
	struct run r = run_seq("sequences/dose-accuracy.cfg",
			       (const char *[]){ "rate_error = \"0 %\"", "rate_error = \"-5 %\"", NULL });
	json_t *c = check_named(r.results, "dose_accuracy");
	double e = mval(c, "dose_error"), u = mU(c, "dose_error");

	cr_assert_eq(r.status, 0);
	cr_assert(u > 0 && u < 0.5, "U = %g %%", u);
	cr_assert(fabs(e - -5.0) <= u, "measured %+.4f %% +- %.4f, expected -5 %%", e, u);
	json_decref(r.results);
}

Test(measurement, evaporation_measured_with_the_pump_stopped_is_what_the_vessel_lost)
{
	/* The minimum-rate sequence measures evaporation for 2 h before delivering;
	 * the simulated vessel loses 0.05 mg/h (0.15 mg/h here, to tell it from
	 * the bench file's stated 0.05 mg/h correction). */
	struct run r = run_seq("sequences/dose-accuracy-min.cfg",
			       (const char *[]){ "evaporation = \"0.05 mg/h\"",
						 "evaporation = \"0.15 mg/h\"", NULL });
	json_t *g = json_object_get(r.results, "gravimetric");
	double e = json_number_value(json_object_get(g, "evaporation_mg_per_h"));
	double u = json_number_value(json_object_get(g, "evaporation_u_mg_per_h"));
	json_t *c = check_named(r.results, "dose_accuracy");

	cr_assert(fabs(e - 0.15) <= 3 * u + 0.005, "evaporation %.4f +- %.4f mg/h", e, u);
	cr_assert_not_null(strstr(json_string_value(json_object_get(g, "evaporation_source")),
				  "measured"));
	/* with the measured rate added back, the minimum rate is accurate */
	cr_assert(fabs(mval(c, "dose_error")) <= mU(c, "dose_error") + 0.2,
		  "error %+.3f %% +- %.3f", mval(c, "dose_error"), mU(c, "dose_error"));
	cr_assert_eq(r.status, 0);
	json_decref(r.results);
}

Test(measurement, trumpet_curve_window_counts_and_a_fast_pump)
{
	struct run r = run_seq("sequences/trumpet.cfg",
			       (const char *[]){ "rate_error = \"0 %\"", "rate_error = \"2 %\"", NULL });
	json_t *c = check_named(r.results, "flow_accuracy");
	/* T = 60 min, S = 0.5 min: 120 - 2P + 1 windows (DESIGN.md check values) */
	static const struct { const char *name; int windows; } w[] = {
		{ "Ep_max_2min", 117 }, { "Ep_max_5min", 111 }, { "Ep_max_11min", 99 },
		{ "Ep_max_19min", 83 }, { "Ep_max_31min", 59 },
	};

	cr_assert_eq(r.status, 0);
	cr_assert(fabs(mval(c, "A") - 2.0) <= mU(c, "A") + 0.05, "A = %+.3f +- %.3f",
		  mval(c, "A"), mU(c, "A"));
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		const char *src = json_string_value(json_object_get(measurement(c, w[i].name),
								    "source"));
		char expect[32];
		double max = mval(c, w[i].name);
		char min_name[32];

		snprintf(expect, sizeof(expect), "over %d windows", w[i].windows);
		cr_assert_not_null(strstr(src, expect), "%s: %s", w[i].name, src);
		snprintf(min_name, sizeof(min_name), "Ep_min_%s", w[i].name + 7);
		/* the trumpet narrows towards A as the window grows */
		cr_assert(max >= mval(c, "A") && mval(c, min_name) <= mval(c, "A"));
	}
	cr_assert(mval(c, "Ep_max_2min") - mval(c, "Ep_min_2min") >=
		  mval(c, "Ep_max_31min") - mval(c, "Ep_min_31min"));
	cr_assert_not_null(json_object_get(c, "startup_curve"));
	cr_assert_eq(json_array_size(json_object_get(c, "startup_curve")), 120);
	json_decref(r.results);
}

Test(measurement, an_occlusion_alarm_set_at_45_s_is_measured_at_45_s)
{
	/* Physics of the simulated line: with the valve closed every stroke
	 * stays in the line, so the pressure reaches the alarm threshold after
	 * C * dP / Q = 0.2 uL/kPa * 62.5 kPa / (1 mL/h) = 45 s (with a line
	 * time constant short enough that the line holds ~nothing at flow). */
	struct run r = run_seq("sequences/occlusion.cfg", (const char *[]){
		"occlusion_alarm_pressure = \"100 kPa\"", "occlusion_alarm_pressure = \"62.5 kPa\"",
		"occlusion_alarm_latency = \"5 s\"", "occlusion_alarm_latency = \"0 s\"",
		"time_constant = \"5 s\"", "time_constant = \"0.05 s\"", NULL });
	json_t *c = check_named(r.results, "occlusion");
	double t = mval(c, "time_to_alarm"), p = mval(c, "pressure_at_alarm");
	double bolus = mval(c, "released_bolus");

	cr_assert_eq(r.status, 0, "verdict %s", verdict(c));
	cr_assert_str_eq(verdict(c), "pass");
	/* one stroke (0.9 s at 1 mL/h) of granularity */
	cr_assert(fabs(t - 45.0) <= 1.0, "time to alarm %.3f s", t);
	cr_assert(fabs(p - 62.5) <= 2.5, "pressure at alarm %.2f kPa", p);
	/* the line released what it stored: C * P ~ 12.5 uL, within the
	 * balance and stroke uncertainty */
	cr_assert(fabs(bolus - 0.0125) <= mU(c, "released_bolus") + 0.002,
		  "bolus %.5f mL +- %.5f", bolus, mU(c, "released_bolus"));
	json_decref(r.results);
}

/* The simulated line at steady flow Q holds Q tau of fluid above its
 * baseline (it drains through the open valve as an RC circuit), so it
 * stands at P0 + Q tau / C; the transducer reads that plus its offset. */
static double line_pressure_at_flow_kpa(double p0_kpa, double rate_ml_per_h)
{
	const double tau_s = 5, c_ml_per_kpa = 0.2e-3;   /* fixtures/bench/sim.cfg line */

	return p0_kpa + rate_ml_per_h / 3600 * tau_s / c_ml_per_kpa;
}

Test(measurement, the_line_pressure_baseline_recovers_the_transducer_offset)
{
	/* the line at 3 kPa with no flow, the transducer reading 12 kPa high:
	 * before the closure at 1 mL/h it reads 3 + 6.94 + 12 kPa */
	struct run r = run_seq("sequences/occlusion.cfg", (const char *[]){
		"baseline_pressure = \"0 kPa\"", "baseline_pressure = \"3 kPa\"",
		"pressure = { noise = \"0.2 kPa\"; }",
		"pressure = { noise = \"0.2 kPa\"; offset = \"12 kPa\"; }", NULL });
	json_t *c = check_named(r.results, "occlusion"), *m = measurement(c, "pressure_baseline");
	double b = mval(c, "pressure_baseline"), u = mU(c, "pressure_baseline");
	double offset = b - line_pressure_at_flow_kpa(3, 1);

	cr_assert_eq(r.status, 0, "verdict %s", verdict(c));
	cr_assert_not_null(m);
	/* calibration 0.5 kPa (k = 1) dominates: U about 1 kPa */
	cr_assert(u > 0.9 && u < 1.5, "U = %g kPa", u);
	cr_assert(fabs(offset - 12) <= u, "baseline %.3f kPa +- %.3f: offset %.3f kPa, told 12",
		  b, u, offset);
	/* within a few times the scatter of the mean alone, too: the mean is
	 * the readings', not a calibration's guess */
	cr_assert(fabs(offset - 12) <= 0.15, "offset %.3f kPa", offset);
	cr_assert_str_eq(json_string_value(json_object_get(m, "unit")), "kPa");
	cr_assert_str_eq(json_string_value(json_object_get(m, "label")), "line pressure baseline");
	cr_assert_null(json_object_get(m, "limit"), "a bench-health figure has no limit of its own");
	cr_assert_not_null(strstr(json_string_value(json_object_get(m, "source")),
				  "mean of 600 readings"));
	json_decref(r.results);
}

Test(measurement, the_line_pressure_baseline_waits_for_the_line_to_settle_after_a_change)
{
	/* 3 min at 0.5 mL/h after 30 min at 1 mL/h: the ten minutes before the
	 * closure hold both, the quiet part only the slower flow, from a
	 * minute after the change */
	struct run r = run_seq_edited("sequences/occlusion.cfg", (const char *[]){
		"{ step = \"hold\";     duration = \"30 min\"; label = \"steady flow\"; },",
		"{ step = \"hold\";     duration = \"30 min\"; label = \"steady flow\"; },\n"
		"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; },\n"
		"    { step = \"hold\";     duration = \"3 min\"; label = \"slower\"; },", NULL },
		NULL);
	json_t *c = check_named(r.results, "occlusion");
	double b = mval(c, "pressure_baseline"), u = mU(c, "pressure_baseline");
	const char *src = json_string_value(json_object_get(measurement(c, "pressure_baseline"),
							    "source"));

	cr_assert_not_null(src);
	cr_assert(fabs(b - line_pressure_at_flow_kpa(0, 0.5)) <= u, "baseline %.3f kPa +- %.3f, "
		  "expected %.3f", b, u, line_pressure_at_flow_kpa(0, 0.5));
	cr_assert(fabs(b - line_pressure_at_flow_kpa(0, 0.5)) <= 0.3, "baseline %.3f kPa", b);
	cr_assert_not_null(strstr(src, "mean of 120 readings"), "%s", src);
	json_decref(r.results);
}

Test(measurement, a_pump_that_never_alarms_fails_and_the_occlusion_is_released)
{
	/* The pump stalls at 200 kPa, below the bench's 250 kPa limit, so the
	 * occlusion is held until the occlude step's 4 h timeout, which the
	 * sequence says fails the step and goes on to the release. */
	struct run r = run_seq("sequences/occlusion.cfg", (const char *[]){
		"occlusion_alarm = true", "occlusion_alarm = false",
		"stall_pressure = \"300 kPa\"", "stall_pressure = \"200 kPa\"", NULL });
	json_t *c = check_named(r.results, "occlusion");

	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(verdict(c), "fail");
	cr_assert_not_null(strstr(json_string_value(json_object_get(c, "explanation")),
				  "never alarmed"));
	cr_assert_str_eq(verdict(check_named(r.results, "step_timeout")), "fail");
	json_decref(r.results);
}

/* Daily charge at the reference regimen from the simulator's parameters:
 * quiescent current all day plus 10 uC per 0.25 uL stroke at 0.5 mL/day. */
static double expected_years_to_depletion(double quiescent_ua)
{
	double strokes_per_day = 0.5 / 0.25e-3;
	double q_day_mah = quiescent_ua * 24 / 1000 + strokes_per_day * 10e-6 / 3.6;

	return 1000 / q_day_mah / 365.25;
}

Test(measurement, battery_longevity_follows_the_quiescent_current)
{
	struct run a = run_seq("sequences/battery.cfg", NULL);
	struct run b = run_seq("sequences/battery.cfg", (const char *[]){
		"quiescent_current = \"20 uA\"", "quiescent_current = \"26 uA\"", NULL });
	json_t *ca = check_named(a.results, "battery"), *cb = check_named(b.results, "battery");
	double ya = mval(ca, "years_to_depletion"), yb = mval(cb, "years_to_depletion");

	cr_assert(fabs(ya / expected_years_to_depletion(20) - 1) < 0.02, "%.3f years", ya);
	cr_assert(fabs(yb / expected_years_to_depletion(26) - 1) < 0.02, "%.3f years", yb);
	cr_assert(fabs(mval(ca, "mean_current_idle") - 20) < 0.2);
	/* 30 % more quiescent current: about 23 % less life, below the promise */
	cr_assert(yb < 0.8 * ya);
	cr_assert_str_eq(verdict(ca), "pass");
	cr_assert_str_eq(verdict(cb), "fail");
	cr_assert_eq(a.status, 0);
	cr_assert_eq(b.status, 1);
	json_decref(a.results);
	json_decref(b.results);
}

Test(measurement, flow_sensor_disagreeing_with_the_balance_is_a_bench_problem)
{
	struct run r = run_seq("sequences/dose-accuracy.cfg", (const char *[]){
		"offset = \"0 mL/h\"", "offset = \"0.05 mL/h\"", NULL });
	json_t *c = check_named(r.results, "dose_accuracy");
	json_t *events = json_object_get(r.results, "instrument_events");
	json_t *ev;
	size_t i;
	bool flagged = false;

	json_array_foreach(events, i, ev)
		flagged |= strcmp(json_string_value(json_object_get(ev, "kind")),
				  "flow_crosscheck") == 0;
	cr_assert(flagged, "no flow_crosscheck event");
	cr_assert(fabs(mval(c, "flow_sensor_minus_balance") - 0.05) < 0.01);
	/* not a verdict on the pump */
	cr_assert_str_eq(verdict(c), "pass");
	cr_assert_eq(r.status, 0);
	json_decref(r.results);
}

/* Every judged value's U is what its budget's terms give: 2 u_c, but for
 * the two kinds whose source says why not (a rectangular-dominated time,
 * the extreme of many windows), whose U lies between 1.9 u_c and 4 u_c. */
static void budget_gives_U(json_t *check)
{
	size_t i, k;
	json_t *m, *b;

	json_array_foreach(json_object_get(check, "measurements"), i, m) {
		const char *name = json_string_value(json_object_get(m, "name"));
		double U = json_number_value(json_object_get(m, "U")), sum = 0, uc;
		size_t n = 0;
		bool limited = json_is_object(json_object_get(m, "limit"));

		json_array_foreach(json_object_get(check, "uncertainty_budget"), k, b)
			if (!strcmp(json_string_value(json_object_get(b, "quantity")), name)) {
				double u = json_number_value(json_object_get(b, "u"));

				sum += u * u;
				n++;
			}
		cr_assert(n > 0 || !limited, "%s: judged against a limit with no budget", name);
		if (n == 0)
			continue;
		uc = sqrt(sum);
		if (!strncmp(name, "Ep_", 3) || !strcmp(name, "time_to_alarm"))
			cr_assert(U >= 1.9 * uc && U <= 4 * uc, "%s: U %g against u_c %g", name, U, uc);
		/* a bolus's basal taken away is rectangular (and the released
		 * bolus's after an occlusion): 95 % of it with the rest lies
		 * between 1.65 u_c (rectangular alone) and 1.96 u_c */
		else if ((!strcmp(json_string_value(json_object_get(check, "check")), "bolus_accuracy") &&
			  strcmp(name, "lockout_violations") != 0) || !strcmp(name, "released_bolus"))
			cr_assert(U >= 1.64 * uc && U <= 1.961 * uc, "%s: U %g against u_c %g", name,
				  U, uc);
		else
			cr_assert_float_eq(U, 2 * uc, 1e-9 * U + 1e-15, "%s: U %g, 2 u_c %g", name, U,
					   2 * uc);
	}
}

Test(measurement, the_shipped_qualification_suite_passes_on_a_nominal_pump)
{
	struct run r = run_seq("sequences/qualification.cfg", NULL);
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(r.results, "checks"), i, c) {
		cr_assert_str_eq(verdict(c), "pass", "%s [%s]: %s",
				 json_string_value(json_object_get(c, "check")),
				 json_string_value(json_object_get(c, "window")),
				 json_string_value(json_object_get(c, "explanation")));
		budget_gives_U(c);
	}
	cr_assert_eq(json_array_size(json_object_get(r.results, "checks")), 8);
	cr_assert_eq(r.status, 0);
	json_decref(r.results);
}

Test(measurement, the_replacement_indicator_is_observed_when_the_battery_runs_down)
{
	/* A 0.5 mAh battery at about 20 uA: the pump raises its low-battery
	 * (replacement) indicator when 90 % is used, about 22.5 h into the
	 * 27 h battery sequence, at 2.6 + 0.1 * 0.6 = 2.66 V. */
	struct run r = run_seq("sequences/battery.cfg", (const char *[]){
		"capacity = \"1000 mAh\"", "capacity = \"0.5 mAh\"", NULL });
	json_t *c = check_named(r.results, "battery");
	double t = mval(c, "replacement_indicator_at");
	const char *src = json_string_value(json_object_get(measurement(c, "replacement_indicator_at"),
							    "source"));
	double v;

	cr_assert(t > 20 * 3600 && t < 25 * 3600, "indicator at %.0f s", t);
	cr_assert_not_null(strstr(src, "battery at "));
	v = strtod(strstr(src, "battery at ") + strlen("battery at "), NULL);
	cr_assert(fabs(v - 2.66) < 0.01, "%.3f V", v);
	json_decref(r.results);
}

/* Flow accuracy at the minimum rate, one stroke every 7.5 min: a pump 3 %
 * slow is measured 3 % slow, to its U and one stroke of the period (what a
 * pulsatile pump delivers is a whole number of strokes); the trumpet's
 * windows are laid on the 30 min grid; the start-up curve covers the whole
 * first day. */
Test(measurement, the_minimum_rate_trumpet_recovers_a_slow_pump_from_whole_strokes)
{
	struct run r = run_seq("sequences/trumpet-min.cfg",
			       (const char *[]){ "rate_error = \"0 %\"", "rate_error = \"-3 %\"", NULL });
	json_t *c = check_named(r.results, "flow_accuracy");
	/* 0.048 mL/day for 24 h in 0.25 uL strokes: 192 strokes */
	double stroke_pct = 100.0 / 192;
	static const struct { const char *name; int windows; } w[] = {
		{ "Ep_max_240min", 41 }, { "Ep_max_480min", 33 }, { "Ep_max_720min", 25 },
	};
	json_t *curve = json_object_get(c, "startup_curve");

	cr_assert(fabs(mval(c, "A") - -3.0) <= mU(c, "A") + stroke_pct, "A = %+.3f +- %.3f",
		  mval(c, "A"), mU(c, "A"));
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		const char *src = json_string_value(json_object_get(measurement(c, w[i].name),
								    "source"));
		char expect[32];

		snprintf(expect, sizeof(expect), "over %d windows", w[i].windows);
		cr_assert_not_null(strstr(src, expect), "%s: %s", w[i].name, src);
	}
	cr_assert_eq(json_array_size(curve), 48);
	cr_assert_float_eq(json_number_value(json_array_get(json_array_get(curve, 47), 0)),
			   24 * 3600.0, 1e-6);
	json_decref(r.results);
}

/* At body temperature (fixtures/bench/sim-37c.cfg: a 37 degC water bath,
 * truly 37.4 degC and measured by its RTD 0.03 K high, water 993.33 kg/m3
 * at 37 degC by Tanaka et al., -0.36 kg/m3 per K there; six times the
 * evaporation): a pump 2 % fast is measured 2 % fast; the volume per gram
 * comes from the bath as measured (tests/test_conditions.c for more). */
Test(measurement, a_pump_at_body_temperature_is_measured_with_the_density_at_37_degC)
{
	char *dir = th_tmpdir(), *bench = th_src_edited(dir, "fixtures/bench/sim-37c.cfg", "bench.cfg",
		(const char *[]){ "rate_error = \"0 %\"", "rate_error = \"2 %\"", NULL });
	char *seq = th_src("sequences/dose-accuracy.cfg"), *dut = th_src(DUT), *out, *path;
	json_t *res, *c, *g;

	if (asprintf(&out, "%s/run", dir) < 0 || asprintf(&path, "%s/run/results.json", dir) < 0)
		abort();
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", out, "-q", NULL }), 0);
	res = json_load_file(path, 0, NULL);
	cr_assert_not_null(res);
	g = json_object_get(res, "gravimetric");
	cr_assert_float_eq(json_number_value(json_object_get(g, "density_g_per_ml")),
			   (993.33 - 0.36 * 0.43) / 1000, 2e-5);
	cr_assert(fabs(json_number_value(json_object_get(g, "evaporation_mg_per_h")) - 0.3) < 0.03);
	c = check_named(res, "dose_accuracy");
	cr_assert(fabs(mval(c, "dose_error") - 2.0) <= mU(c, "dose_error"), "measured %+.4f %% +- %.4f",
		  mval(c, "dose_error"), mU(c, "dose_error"));
	json_decref(res);
	free(path);
	free(out);
	free(dut);
	free(seq);
	free(bench);
	free(dir);
}

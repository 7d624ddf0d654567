/* Refill and reservoir, recovered from the record alone: the simulated pump
 * is told to read its reservoir high or low and to alarm late; the shipped
 * sequence (and others of the same kind, written here) is run through the
 * CLI, and results.json must say what the pump was told, within the U it
 * states.  The expected figures come from what the simulator was told
 * (fixtures/bench/sim.cfg: 0.25 uL strokes, a 3 min start-up delay), not
 * from rig's arithmetic. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "results_read.h"
#include "drivers/pumplink/protocol.h"

#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"
#define STARTUP_H (3.0 / 60)                 /* sim.cfg pump.startup_delay */
#define REFILL_ML (5.0 / 0.9982067)          /* sequences/reservoir.cfg: 5 g of water at 20 degC */

/* Runs sequence (a shipped one, or text when it starts with "sequence") on
 * the simulated bench edited by bench_pairs, with the device edited by
 * dut_pairs. */
static struct th_run run_seq(const char *sequence, const char *const *bench_pairs,
			     const char *const *dut_pairs)
{
	return th_run_seq(sequence, BENCH, bench_pairs, DUT, dut_pairs);
}

static void assert_near(json_t *c, const char *name, double truth)
{
	cr_assert(mU(c, name) > 0, "%s: U = %g", name, mU(c, name));
	cr_assert(fabs(mval(c, name) - truth) <= mU(c, name), "%s: %+.5f +- %.5f, the truth %+.5f",
		  name, mval(c, name), mU(c, name), truth);
}

static const char *requirement_of(json_t *c, const char *name)
{
	return json_string_value(json_object_get(measurement(c, name), "requirement"));
}

Test(reservoir, an_accurate_pump_passes_and_its_refill_interval_is_projected)
{
	struct th_run r = run_seq("sequences/reservoir.cfg", (const char *[]){ NULL },
			       (const char *[]){ NULL });
	json_t *c;

	cr_assert_not_null(r.results, "%s", r.err);
	c = check_named(r.results, "reservoir");
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(verdict(c), "pass");
	assert_near(c, "reading_error_after_refill", 0);
	assert_near(c, "reading_error_worst", 0);
	assert_near(c, "low_alarm_volume_error", 0);
	assert_near(c, "empty_alarm_volume", 0);
	cr_assert(fabs(mval(c, "delivered_after_empty")) < 0.005, "%g", mval(c, "delivered_after_empty"));
	/* the low alarm: 2 mL left of the refill at 1 mL/h, after the start-up */
	cr_assert(fabs(mval(c, "low_alarm_after_refill") - (REFILL_ML - 2 + STARTUP_H)) < 0.01,
		  "%.4f h", mval(c, "low_alarm_after_refill"));
	cr_assert_str_eq(requirement_of(c, "low_alarm_volume_error"), "ITP-40-SRS-RES-002");
	cr_assert_str_eq(requirement_of(c, "reading_error_worst"), "ITP-40-SRS-RES-001");
	/* 38 mL of the 40 mL reservoir to the low alarm at 1 mL/h is 1.583
	 * days; this pump loses its 3 min start-up in the 3 h it was measured */
	{
		double days = 38.0 / 24 * (REFILL_ML - 2 + STARTUP_H) / (REFILL_ML - 2);

		assert_near(c, "refill_interval_days", days);
	}
	th_run_free(&r);
}

/* The case: a reservoir reading 1 mL high.  It reads 1 mL high from
 * the refill on, its low alarm comes 1 mL (1 h) late, and the reservoir
 * runs dry an hour before the pump says empty. */
Test(reservoir, a_reading_1_ml_high_is_measured_1_ml_high_and_fails)
{
	struct th_run r = run_seq("sequences/reservoir.cfg", (const char *[]){
		"reservoir_error = \"0 mL\"", "reservoir_error = \"1 mL\"", "seed = 1", "seed = 5",
		NULL }, (const char *[]){ NULL });
	json_t *c;

	cr_assert_not_null(r.results, "%s", r.err);
	c = check_named(r.results, "reservoir");
	cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(verdict(c), "fail");
	assert_near(c, "reading_error_after_refill", 1);
	assert_near(c, "reading_error_worst", 1);
	assert_near(c, "low_alarm_volume_error", -1);
	cr_assert(fabs(mval(c, "low_alarm_after_refill") - (REFILL_ML - 1 + STARTUP_H)) < 0.01);
	/* dry before it said so: nothing delivered in the hour before */
	cr_assert(mval(c, "delivery_before_empty_error") < -95, "%g",
		  mval(c, "delivery_before_empty_error"));
	{
		char *summary = th_slurp(r.dir, "run/summary.txt");

		cr_assert_not_null(strstr(summary, "by requirement: ITP-40-SRS-RES-001 fail; "
					  "ITP-40-SRS-RES-002 fail"), "%s", summary);
		free(summary);
	}
	/* the run history trends it like every check */
	{
		char *db, *out;

		if (asprintf(&db, "sqlite:%s/history.sqlite", r.dir) < 0)
			abort();
		cr_assert_eq(th_rig(r.dir, (const char *[]){ "history", "trend", "--device", "SN-0001",
							     "--check", "reservoir", "--db", db, NULL }), 0);
		out = th_slurp(r.dir, "stdout");
		cr_assert_not_null(strstr(out, "SEQ-RESERVOIR reservoir [reservoir] "
					  "reading_error_worst (mL)"), "%s", out);
		cr_assert_not_null(strstr(out, " 1.000"), "%s", out);
		free(out);
		free(db);
	}
	th_run_free(&r);
}

/* The other case: an alarm 2 mL late (the device says 3 mL, the
 * pump alarms at 1 mL), on a reading that is right: only the alarm
 * requirement fails. */
Test(reservoir, a_low_alarm_2_ml_late_fails_the_alarm_requirement_alone)
{
	struct th_run r = run_seq("sequences/reservoir.cfg", (const char *[]){
		"low_reservoir = \"2 mL\"", "low_reservoir = \"1 mL\"", NULL }, (const char *[]){
		"low_alarm = \"2 mL\"", "low_alarm = \"3 mL\"", NULL });
	json_t *c;

	cr_assert_not_null(r.results, "%s", r.err);
	c = check_named(r.results, "reservoir");
	cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	assert_near(c, "low_alarm_volume_error", -2);
	assert_near(c, "reading_error_worst", 0);
	assert_near(c, "empty_alarm_volume", 0);
	cr_assert(fabs(mval(c, "low_alarm_after_refill") - (REFILL_ML - 1 + STARTUP_H)) < 0.01);
	{
		char *summary = th_slurp(r.dir, "run/summary.txt");

		cr_assert_not_null(strstr(summary, "by requirement: ITP-40-SRS-RES-001 pass; "
					  "ITP-40-SRS-RES-002 fail"), "%s", summary);
		free(summary);
	}
	th_run_free(&r);
}

/* A pump that never says its reservoir is low before it is empty (its
 * empty status carries the low bit too) fails the alarm requirement: its
 * low alarm came with 2 mL less than the device's threshold left. */
Test(reservoir, a_pump_without_its_low_alarm_fails)
{
	struct th_run r = run_seq("sequences/reservoir.cfg", (const char *[]){
		"low_reservoir = \"2 mL\"", "low_reservoir = \"0 mL\"", NULL }, (const char *[]){ NULL });
	json_t *c;

	cr_assert_not_null(r.results, "%s", r.err);
	c = check_named(r.results, "reservoir");
	cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(verdict(c), "fail");
	assert_near(c, "low_alarm_volume_error", -2);
	cr_assert_str_eq(json_string_value(json_object_get(measurement(c, "low_alarm_volume_error"),
							   "verdict")), "fail");
	assert_near(c, "empty_alarm_volume", 0);
	assert_near(c, "reading_error_worst", 0);
	th_run_free(&r);
}

/* Another member of the class: another refill, another rate, a reading
 * 0.8 mL low, so the pump says empty, and stops, with 0.8 mL still in it. */
Test(reservoir, a_reading_low_stops_the_pump_with_drug_left_and_fails)
{
	static const char seq[] =
		"sequence = {\n"
		"  id = \"T-RES\"; version = \"1\"; title = \"refill\";\n"
		"  steps = (\n"
		"    { step = \"prime\"; volume = \"0.05 mL\"; },\n"
		"    { step = \"tare\"; },\n"
		"    { step = \"measure_evaporation\"; duration = \"30 min\"; },\n"
		"    { step = \"mark\"; window = \"r\"; edge = \"begin\"; },\n"
		"    { step = \"refill\"; mass = \"3.5 g\"; },\n"
		"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; },\n"
		"    { step = \"hold\"; duration = \"9 h\"; },\n"
		"    { step = \"mark\"; window = \"r\"; edge = \"end\"; },\n"
		"    { step = \"stop\"; },\n"
		"    { step = \"measure_evaporation\"; duration = \"30 min\"; },\n"
		"    { step = \"check\"; check = \"reservoir\"; window = \"r\"; }\n"
		"  );\n"
		"};\n";
	struct th_run r = run_seq(seq, (const char *[]){
		"reservoir_error = \"0 mL\"", "reservoir_error = \"-0.8 mL\"", "seed = 1", "seed = 9",
		NULL }, (const char *[]){ NULL });
	json_t *c;

	cr_assert_not_null(r.results, "%s", r.err);
	c = check_named(r.results, "reservoir");
	cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
	assert_near(c, "reading_error_worst", -0.8);
	assert_near(c, "empty_alarm_volume", 0.8);
	assert_near(c, "low_alarm_volume_error", 0.8);
	/* it delivered until it said empty, and nothing after */
	assert_near(c, "delivery_before_empty_error", 0);
	cr_assert(fabs(mval(c, "delivered_after_empty")) < 0.003);
	th_run_free(&r);
}

/* Plans that cannot judge a reservoir are refused before anything moves,
 * at the line to change. */
Test(reservoir, plans_that_cannot_be_judged_are_bad_input)
{
	static const char head[] =
		"sequence = {\n"
		"  id = \"T-RES\"; version = \"1\"; title = \"refill\";\n"
		"  steps = (\n"
		"    { step = \"tare\"; },\n"
		"    { step = \"mark\"; window = \"r\"; edge = \"begin\"; },\n";
	static const struct {
		const char *steps, *expect;
	} cases[] = {
		{ "    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
		  "    { step = \"hold\"; duration = \"8 h\"; },\n",
		  "seq.cfg:9: window 'r' holds no refill step" },
		{ "    { step = \"refill\"; mass = \"5 g\"; },\n"
		  "    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
		  "    { step = \"hold\"; duration = \"5 h\"; },\n",
		  "seq.cfg:10: window 'r' programs 5 mL of basal delivery after its refill" },
		{ "    { step = \"refill\"; mass = \"45 g\"; },\n"
		  "    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
		  "    { step = \"hold\"; duration = \"60 h\"; },\n",
		  "seq.cfg:6: a refill of 45 g (45.128" },
		{ "    { step = \"refill\"; },\n",
		  "seq.cfg:6: missing 'mass'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT), *text, *seq, *err;

		if (asprintf(&text, "%s%s    { step = \"mark\"; window = \"r\"; edge = \"end\"; },\n"
			     "    { step = \"check\"; check = \"reservoir\"; window = \"r\"; }\n  );\n};\n",
			     head, cases[i].steps) < 0)
			abort();
		seq = th_write_file(dir, "seq.cfg", text);
		cr_assert_eq(th_rig(dir, (const char *[]){ "validate", seq, "--bench", bench, "--dut",
							   dut, NULL }), 2, "case %zu", i);
		err = th_slurp(dir, "stderr");
		cr_assert_not_null(strstr(err, cases[i].expect), "case %zu: %s", i, err);
		free(err);
		free(seq);
		free(text);
		free(bench);
		free(dut);
		free(dir);
	}
}

/* The pump link carries the refill, and a pump that cannot read it is told
 * what is wrong (a malformed line is refused, not guessed at). */
Test(reservoir, the_pump_link_carries_the_refill)
{
	struct pumplink_cmd cmd = { .seq = 42, .kind = PL_REFILL, .volume_ml = 5.014300 }, back;
	char line[PUMPLINK_LINE_MAX];
	int n = pumplink_format_cmd(&cmd, line, sizeof(line));

	cr_assert_gt(n, 0);
	cr_assert_not_null(strstr(line, "42 REFILL 5.014300*"), "%s", line);
	cr_assert_eq(pumplink_parse_cmd(line, (size_t)n, &back), 0);
	cr_assert_eq(back.kind, PL_REFILL);
	cr_assert_float_eq(back.volume_ml, 5.0143, 1e-9);
	/* a REFILL without its volume */
	n = snprintf(line, sizeof(line), "7 REFILL*%02X", pumplink_checksum("7 REFILL", 8));
	cr_assert_eq(pumplink_parse_cmd(line, (size_t)n, &back), -EINVAL);
}

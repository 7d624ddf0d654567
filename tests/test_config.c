/* The loaders and the unit parser: one test per class of input error, each
 * asserting the file and line the user is pointed to, plus the shipped files
 * loading to the values written in them.  Input files are data under
 * tests/data/config/; expected lines are read off those files by eye. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "rig/config/config.h"
#include "rig/config/units.h"

static struct diag_list diags;

static void reset(void)
{
	diag_clear(&diags);
}

TestSuite(config, .fini = reset);
TestSuite(units);

static char *data(const char *name)
{
	char *rel, *path;

	if (asprintf(&rel, "tests/data/config/%s", name) < 0)
		abort();
	path = th_src(rel);
	free(rel);
	return path;
}

/* A sequence from tests/data/config that must be refused. */
static void refuse_seq(const char *name)
{
	char *path = data(name);
	struct sequence *seq = (struct sequence *)1;

	cr_assert_eq(seq_load(path, &seq, &diags), -EINVAL, "%s loaded", name);
	cr_assert_null(seq);
	free(path);
}

/* Asserts a diagnostic naming file `name` at `line` whose text holds `what`. */
static void expect(const char *name, int line, const char *what)
{
	char all[4096] = "";
	size_t n = 0;

	for (size_t i = 0; i < diags.n; i++) {
		const struct diag *d = &diags.items[i];
		const char *base = strrchr(d->file, '/');

		base = base ? base + 1 : d->file;
		if (strcmp(base, name) == 0 && d->line == line && strstr(d->msg, what))
			return;
		n += (size_t)snprintf(all + n, n < sizeof(all) ? sizeof(all) - n : 0, "  %s:%d: %s\n",
				      d->file, d->line, d->msg);
		if (n >= sizeof(all))
			n = sizeof(all) - 1;
	}
	cr_assert_fail("no diagnostic %s:%d containing \"%s\"; got:\n%s", name, line, what, all);
}

Test(config, libconfig_syntax_error_points_at_its_line)
{
	refuse_seq("syntax.cfg");
	cr_assert_eq(diags.n, 1);
	expect("syntax.cfg", 5, "syntax error");
}

Test(config, unknown_key_is_named_with_the_allowed_ones)
{
	refuse_seq("unknown-key.cfg");
	expect("unknown-key.cfg", 5, "unknown key 'colour'");
	expect("unknown-key.cfg", 5, "allowed: step, label, timeout, on_timeout, duration");
}

Test(config, unknown_step_lists_the_steps)
{
	refuse_seq("unknown-step.cfg");
	expect("unknown-step.cfg", 5, "unknown step 'dance'; allowed: prime, tare, set_rate");
}

Test(config, missing_field_points_at_the_step_lacking_it)
{
	refuse_seq("missing-field.cfg");
	expect("missing-field.cfg", 5, "missing 'duration'");
}

Test(config, wrong_type_says_what_is_wanted)
{
	refuse_seq("wrong-type.cfg");
	expect("wrong-type.cfg", 4, "'duration' must be a string with a unit");
}

Test(config, number_without_unit_is_an_error)
{
	refuse_seq("no-unit.cfg");
	expect("no-unit.cfg", 4, "has no unit");
	expect("no-unit.cfg", 4, "mL/h");
}

Test(config, unknown_or_wrong_kind_unit_is_an_error)
{
	refuse_seq("unknown-unit.cfg");
	expect("unknown-unit.cfg", 4, "unknown unit");
	expect("unknown-unit.cfg", 5, "unknown unit");
}

Test(config, text_that_is_not_a_number_is_an_error)
{
	refuse_seq("not-a-number.cfg");
	expect("not-a-number.cfg", 4, "not a number");
}

Test(config, out_of_range_value_gives_the_range)
{
	refuse_seq("out-of-range.cfg");
	expect("out-of-range.cfg", 4, "out of range; allowed 0.001 s to");
}

Test(config, bad_choice_lists_the_choices)
{
	refuse_seq("bad-choice.cfg");
	expect("bad-choice.cfg", 3, "must be one of: abort, fail");
}

Test(config, every_error_in_a_file_is_reported_in_one_pass)
{
	refuse_seq("three-errors.cfg");
	cr_assert_eq(diags.n, 3);
	expect("three-errors.cfg", 4, "has no unit");
	expect("three-errors.cfg", 5, "unknown unit");
	expect("three-errors.cfg", 6, "must be one of: begin, end");
}

Test(config, include_directives_are_refused)
{
	refuse_seq("include.cfg");
	expect("include.cfg", 2, "@include is not allowed");
}

Test(config, unreadable_file_has_no_line)
{
	struct sequence *seq;

	cr_assert_lt(seq_load("/nonexistent/pumprig.cfg", &seq, &diags), 0);
	cr_assert_null(seq);
	cr_assert_eq(diags.n, 1);
	cr_assert_eq(diags.items[0].line, 0);
	cr_assert_not_null(strstr(diags.items[0].msg, "cannot read"));
}

Test(config, bench_errors_unknown_backend_role_and_choices)
{
	char *path = data("bench-errors.cfg");
	struct bench *bench;

	cr_assert_eq(bench_load(path, &bench, &diags), -EINVAL);
	cr_assert_null(bench);
	expect("bench-errors.cfg", 3, "'density' = \"5 g/mL\" is out of range; allowed 0.5 g/mL to 2 g/mL");
	expect("bench-errors.cfg", 6, "unknown backend 'warp'; allowed: sim");
	expect("bench-errors.cfg", 7, "unknown instrument role 'laser'");
	expect("bench-errors.cfg", 9, "must be one of: open, closed");
	expect("bench-errors.cfg", 12, "must be one of: dropout, stuck, no_answer, disconnect, stale, frozen, nan, out_of_range, internal_error, crash, lost_reply, unplug, segv, pressed");
	expect("bench-errors.cfg", 13, "only the emergency stop is pressed; allowed: role = \"estop\"");
	expect("bench-errors.cfg", 14, "kind 'nan' does not apply to the emergency stop; allowed: "
	       "\"pressed\", \"dropout\", \"disconnect\"");
	cr_assert_eq(diags.n, 7);
	free(path);
}

Test(config, device_errors_missing_field_inverted_range_and_no_unit)
{
	char *path = data("device-errors.cfg");
	struct device *dev;

	cr_assert_eq(device_load(path, &dev, &diags), -EINVAL);
	cr_assert_null(dev);
	expect("device-errors.cfg", 1, "missing 'serial'");
	expect("device-errors.cfg", 4, "out of range; it must be above 'min'");
	expect("device-errors.cfg", 6, "has no unit");
	cr_assert_eq(diags.n, 3);
	free(path);
}

/* The shipped bench without its valve. */
static struct bench *bench_without_valve(void)
{
	char *src = th_src("fixtures/bench/sim.cfg"), *text = th_read_file(src), *dir = th_tmpdir();
	char *line = strstr(text, "valve = {"), *eol, *path;
	struct bench *bench;

	cr_assert_not_null(line);
	eol = strchr(line, '\n');
	memmove(line, eol + 1, strlen(eol + 1) + 1);
	path = th_write_file(dir, "no-valve.cfg", text);
	cr_assert_eq(bench_load(path, &bench, &diags), 0);
	cr_assert_eq(bench->instrument[ROLE_VALVE].present, false);
	free(src);
	free(text);
	free(dir);
	free(path);
	return bench;
}

Test(config, plan_checks_rates_bolus_roles_and_windows_at_the_sequence_lines)
{
	char *seq_path = data("plan.cfg"), *dut = th_src("fixtures/dut/itp-40.cfg");
	struct sequence *seq;
	struct device *dev;
	struct bench *bench = bench_without_valve();

	cr_assert_eq(seq_load(seq_path, &seq, &diags), 0);
	cr_assert_eq(device_load(dut, &dev, &diags), 0);
	cr_assert_eq(plan_validate(seq, bench, dev, &diags), -EINVAL);
	expect("plan.cfg", 4, "rate 5 mL/h is outside the device's rate range");
	expect("plan.cfg", 5, "above the device's maximum bolus");
	expect("plan.cfg", 6, "bench has no 'valve' instrument");
	expect("plan.cfg", 7, "window 'late' ends here but never begins");
	expect("plan.cfg", 8, "window 'never' is not marked");
	cr_assert_eq(diags.n, 5);
	seq_free(seq);
	bench_free(bench);
	device_free(dev);
	free(seq_path);
	free(dut);
}

Test(config, shipped_files_load_to_the_values_written_in_them)
{
	char *sp = th_src("sequences/dose-accuracy.cfg"), *bp = th_src("fixtures/bench/sim.cfg");
	char *dp = th_src("fixtures/dut/itp-40.cfg");
	struct sequence *seq;
	struct bench *b;
	struct device *d;

	cr_assert_eq(seq_load(sp, &seq, &diags), 0);
	cr_assert_eq(bench_load(bp, &b, &diags), 0);
	cr_assert_eq(device_load(dp, &d, &diags), 0);
	cr_assert_eq(diags.n, 0);

	cr_assert_str_eq(seq->id, "SEQ-DOSE-NOM");
	cr_assert_eq(seq->n_steps, 11);
	cr_assert_eq(seq->steps[0].kind, STEP_PRIME);
	cr_assert_float_eq(seq->steps[0].volume_ml, 0.05, 1e-12);
	cr_assert_eq(seq->steps[0].timeout_ns, 30 * RIG_NS_PER_MIN);
	/* the balance with the pump stopped, before and after the delivery */
	cr_assert_eq(seq->steps[2].kind, STEP_MEASURE_EVAPORATION);
	cr_assert_eq(seq->steps[2].duration_ns, RIG_NS_PER_H);
	cr_assert_eq(seq->steps[9].kind, STEP_MEASURE_EVAPORATION);
	cr_assert_eq(seq->steps[3].kind, STEP_SET_RATE);
	cr_assert_float_eq(seq->steps[3].rate_ml_per_h, 0.25, 1e-12);
	cr_assert_eq(seq->steps[6].duration_ns, 6 * RIG_NS_PER_H);
	cr_assert_eq(seq->steps[5].line, 27);
	cr_assert_eq(seq->steps[7].edge, MARK_END);
	cr_assert_eq(seq->steps[10].check, CHECK_DOSE_ACCURACY);
	cr_assert_str_eq(seq->steps[10].window, "steady");
	cr_assert(seq->has_protocol);
	cr_assert_str_eq(seq->protocol_id, "TP-DOSE-NOM");
	cr_assert_eq(seq->n_standards, 2);
	cr_assert_str_eq(seq->standards[1], "IEC 60601-2-24:2012");
	for (size_t i = 0; i < seq->n_steps; i++)
		cr_assert_eq(seq->steps[i].on_timeout, TIMEOUT_ABORT);

	cr_assert_float_eq(b->density_g_per_ml, 0.9982067, 1e-7);   /* Tanaka at 20 degC */
	cr_assert_not(b->density_given);
	cr_assert_float_eq(b->evaporation_g_per_h, 0.05e-3, 1e-15);
	cr_assert_eq(b->instrument[ROLE_SCALE].period_ns, 30 * RIG_NS_PER_S);
	cr_assert_float_eq(b->instrument[ROLE_SCALE].cal.gain, 1.0, 0);
	cr_assert_str_eq(b->instrument[ROLE_SCALE].cal.due, "2028-11-16");
	cr_assert_float_eq(b->instrument[ROLE_FLOW].cal.gain, 1.0, 0);   /* default */
	/* the uncertainties the budgets use, as the shipped bench states them */
	cr_assert_float_eq(b->instrument[ROLE_SCALE].cal.gain_u_rel, 0.005e-2, 1e-15);
	cr_assert_float_eq(b->instrument[ROLE_SCALE].cal.drift_u_per_h, 0.01e-3, 1e-15);
	cr_assert_float_eq(b->instrument[ROLE_FLOW].cal.gain_u_rel, 0.01, 1e-15);
	cr_assert_float_eq(b->clock_u_rel, 20e-6, 1e-15);
	cr_assert_eq(b->line_time_constant_ns, 5 * RIG_NS_PER_S);
	cr_assert_float_eq(b->fluid_temperature_u_k, 0.5, 1e-15);
	cr_assert_float_eq(b->air_density_u_g_per_ml, 0.05e-3, 1e-15);
	cr_assert_float_eq(b->evaporation_u_g_per_h, 0.5 * 0.05e-3 / sqrt(3), 1e-15);
	cr_assert_eq(b->instrument[ROLE_VALVE].safe_closed, false);
	cr_assert_float_eq(b->limit_pressure_kpa, 250, 1e-12);
	cr_assert_eq(b->limit_duration_ns, 100 * RIG_NS_PER_H);
	cr_assert(b->has_sim);
	cr_assert_float_eq(b->sim.stroke_volume_ml, 0.25e-3, 1e-15);
	cr_assert_float_eq(b->sim.compliance_ml_per_kpa, 0.2e-3, 1e-15);
	cr_assert_float_eq(b->sim.stroke_charge_mah, 10e-6 / 3.6, 1e-18);
	cr_assert_eq(b->sim.startup_delay_ns, 3 * RIG_NS_PER_MIN);

	cr_assert_float_eq(d->rate_min_ml_per_h, 0.048 / 24, 1e-15);
	cr_assert_float_eq(d->rate_max_ml_per_h, 1.0, 1e-15);
	cr_assert_float_eq(d->accuracy_tolerance_pct, 10, 1e-12);
	cr_assert_str_eq(d->accuracy_requirement, "ITP-40-SRS-ACC-001");
	cr_assert_eq(d->accuracy_rule.kind, DECISION_SIMPLE);
	cr_assert(d->has_flow);
	cr_assert_str_eq(d->ep_max_requirement, "ITP-40-SRS-ACC-003");
	cr_assert_float_eq(d->ep_min_pct, -5, 1e-12);
	cr_assert_eq(d->flow_rule.kind, DECISION_GUARDED);
	cr_assert_float_eq(d->flow_rule.guard_factor, 1, 1e-12);
	cr_assert_eq(d->battery_rule.kind, DECISION_GUARDED);
	cr_assert_eq(d->longevity_min_ns, (rig_ns)(5 * 365.25 * 86400) * RIG_NS_PER_S);
	cr_assert_eq(plan_validate(seq, b, d, &diags), 0);
	seq_free(seq);
	bench_free(b);
	device_free(d);
	free(sp);
	free(bp);
	free(dp);
}

Test(config, step_on_timeout_defaults_to_the_sequence_and_can_be_overridden)
{
	char *dir = th_tmpdir();
	char *path = th_write_file(dir, "t.cfg",
		"sequence = {\n"
		"  id = \"T\"; version = \"1\"; title = \"t\";\n"
		"  steps = (\n"
		"    { step = \"tare\"; timeout = \"1 min\"; },\n"
		"    { step = \"tare\"; timeout = \"1 min\"; on_timeout = \"abort\"; }\n"
		"  );\n"
		"  on_timeout = \"fail\";\n"
		"};\n");
	struct sequence *seq;

	cr_assert_eq(seq_load(path, &seq, &diags), 0);
	cr_assert_eq(seq->steps[0].on_timeout, TIMEOUT_FAIL);
	cr_assert_eq(seq->steps[1].on_timeout, TIMEOUT_ABORT);
	seq_free(seq);
	free(path);
	free(dir);
}

/* ------------------------------------------------------------------ units */

static double parse_ok(const char *text, enum qty_kind kind)
{
	double v = NAN;
	int r = qty_parse(text, kind, &v);

	cr_assert_eq(r, 0, "\"%s\" as %s: %d", text, qty_kind_name(kind), r);
	return v;
}

#define close_to(a, b) cr_assert(fabs((a) - (b)) <= 1e-12 * fabs(b) + 1e-300, \
				 "%.17g != %.17g", (double)(a), (double)(b))

Test(units, each_kind_converts_to_its_canonical_unit)
{
	close_to(parse_ok("30 min", QTY_DURATION), 1800.0);
	close_to(parse_ok("30s", QTY_DURATION), 30.0);
	close_to(parse_ok("5 year", QTY_DURATION), 5 * 365.25 * 86400);
	close_to(parse_ok("250 ms", QTY_DURATION), 0.25);
	close_to(parse_ok("0.25 uL", QTY_VOLUME), 0.25e-3);
	close_to(parse_ok("0.25 \xc2\xb5L", QTY_VOLUME), 0.25e-3);   /* micro sign */
	close_to(parse_ok("1e-3 mL", QTY_VOLUME), 1e-3);
	close_to(parse_ok("0.5 mL/day", QTY_RATE), 0.5 / 24);
	close_to(parse_ok("10 uL/min", QTY_RATE), 0.6);
	close_to(parse_ok("1 bar", QTY_PRESSURE), 100.0);
	close_to(parse_ok("760 mmHg", QTY_PRESSURE), 760 * 0.133322387415);   /* conventional mmHg, NIST */
	close_to(parse_ok("1 psi", QTY_PRESSURE), 6.894757293168);
	close_to(parse_ok("0.02 mg", QTY_MASS), 0.02e-3);
	close_to(parse_ok("0.05 mg/h", QTY_MASS_RATE), 0.05e-3);
	close_to(parse_ok("2 mA", QTY_CURRENT), 2000.0);
	close_to(parse_ok("10 uC", QTY_CHARGE), 10e-6 / 3.6);
	close_to(parse_ok("3.6 C", QTY_CHARGE), 1.0);
	close_to(parse_ok("2600 mV", QTY_VOLTAGE), 2.6);
	close_to(parse_ok("293.15 K", QTY_TEMPERATURE), 20.0);
	close_to(parse_ok("998.2 kg/m3", QTY_DENSITY), 0.9982);
	close_to(parse_ok("-2 %", QTY_PERCENT), -2.0);
	close_to(parse_ok("500 ppm", QTY_PERCENT), 0.05);
	close_to(parse_ok("0.2 uL/kPa", QTY_COMPLIANCE), 0.2e-3);
}

Test(units, malformed_quantities_are_refused_with_their_reason)
{
	double v = 42;

	cr_assert_eq(qty_parse("30", QTY_DURATION, &v), -ENODATA);
	cr_assert_eq(qty_parse("30   ", QTY_DURATION, &v), -ENODATA);
	cr_assert_eq(qty_parse("abc s", QTY_DURATION, &v), -EINVAL);
	cr_assert_eq(qty_parse("", QTY_DURATION, &v), -EINVAL);
	cr_assert_eq(qty_parse("nan s", QTY_DURATION, &v), -EINVAL);
	cr_assert_eq(qty_parse("inf s", QTY_DURATION, &v), -EINVAL);
	cr_assert_eq(qty_parse("0x10 s", QTY_DURATION, &v), -EINVAL);
	cr_assert_eq(qty_parse("3 parsec", QTY_DURATION, &v), -ENOENT);
	cr_assert_eq(qty_parse("3 kPa", QTY_DURATION, &v), -ENOENT);
	cr_assert_eq(qty_parse("3 s x", QTY_DURATION, &v), -ENOENT);
	cr_assert_eq(qty_parse("3 ML", QTY_VOLUME, &v), -ENOENT);   /* units are case-sensitive */
	cr_assert_eq(qty_parse("1e999 s", QTY_DURATION, &v), -ERANGE);
	cr_assert_eq(qty_parse("1e308 year", QTY_DURATION, &v), -ERANGE);
	cr_assert_eq(v, 42, "a refused value must not be written");
}

Test(units, kinds_name_their_units_for_messages)
{
	cr_assert_str_eq(qty_kind_name(QTY_RATE), "flow rate");
	cr_assert_str_eq(qty_kind_canonical(QTY_RATE), "mL/h");
	cr_assert_not_null(strstr(qty_kind_units(QTY_DURATION), "min"));
	cr_assert_str_eq(qty_kind_name(QTY__COUNT), "?");
}

Test(config, plan_refuses_flow_windows_that_split_pump_strokes_and_evaporation_while_pumping)
{
	char *dir = th_tmpdir(), *bp = th_src("fixtures/bench/sim.cfg");
	char *dp = th_src("fixtures/dut/itp-40.cfg");
	char *path = th_write_file(dir, "flow.cfg",
		"sequence = {\n"
		"  id = \"F\"; version = \"1\"; title = \"t\";\n"
		"  steps = (\n"
		"    { step = \"set_rate\"; rate = \"0.25 mL/h\"; },\n"
		"    { step = \"measure_evaporation\"; duration = \"1 h\"; },\n"
		"    { step = \"mark\"; window = \"w\"; edge = \"begin\"; },\n"
		"    { step = \"hold\"; duration = \"1 h\"; },\n"
		"    { step = \"mark\"; window = \"w\"; edge = \"end\"; },\n"
		"    { step = \"check\"; check = \"flow_accuracy\"; window = \"w\"; }\n"
		"  );\n"
		"};\n");
	struct sequence *seq;
	struct bench *b;
	struct device *d;

	cr_assert_eq(seq_load(path, &seq, &diags), 0);
	cr_assert_eq(bench_load(bp, &b, &diags), 0);
	cr_assert_eq(device_load(dp, &d, &diags), 0);
	cr_assert_eq(plan_validate(seq, b, d, &diags), -EINVAL);
	/* 0.25 uL strokes at 0.25 mL/h come every 3.6 s: 30 s is 8.33 strokes */
	expect("flow.cfg", 5, "measure_evaporation needs the pump stopped");
	expect("flow.cfg", 9, "sample_interval 30 s is not a whole number of pump strokes");
	expect("flow.cfg", 9, "multiples of 3.6 s");
	cr_assert_eq(diags.n, 2);
	seq_free(seq);
	bench_free(b);
	device_free(d);
	free(path);
	free(dir);
	free(bp);
	free(dp);
}

Test(config, sensor_guard_keys_are_checked_with_their_line)
{
	char *path = data("bench-guards.cfg");
	struct bench *bench;

	cr_assert_eq(bench_load(path, &bench, &diags), -EINVAL);
	cr_assert_null(bench);
	expect("bench-guards.cfg", 7, "'stale_after' = 0 is out of range; allowed 1 to 1000");
	expect("bench-guards.cfg", 8, "'stuck_after' must be a whole number of readings");
	expect("bench-guards.cfg", 9, "'valid_range' must be a list of two quantities in pressure units");
	expect("bench-guards.cfg", 10, "'2 g' is not a current quantity");
	cr_assert_eq(diags.n, 4);
	free(path);
}

Test(config, a_baud_rate_the_port_cannot_take_is_refused_with_the_rates_it_can)
{
	char *path = data("bench-baud.cfg");
	struct bench *bench;

	/* 14400 is a modem rate termios has no name for; 2400, a balance's
	 * factory setting, is fine */
	cr_assert_eq(bench_load(path, &bench, &diags), -EINVAL);
	expect("bench-baud.cfg", 6, "'baud' = 14400 is not a serial rate this port can be set to; "
	       "allowed: 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600");
	cr_assert_eq(diags.n, 1);
	free(path);
}

/* One buffer per IIO device in the kernel: two buffered instruments on one
 * device of a local: context are refused, both named, at one's line. */
Test(config, two_buffers_on_one_local_iio_device_are_refused)
{
	char *path = data("bench-local-buffers.cfg");
	struct bench *bench;

	cr_assert_eq(bench_load(path, &bench, &diags), -EINVAL);
	expect("bench-local-buffers.cfg", 7, "flow and pressure both capture IIO device 'ads1015' "
	       "through a buffer on local:");
	cr_assert_eq(diags.n, 1);
	free(path);
}

Test(config, output_lines_are_checked_with_their_line)
{
	char *path = data("bench-outputs.cfg");
	struct bench *bench;

	cr_assert_eq(bench_load(path, &bench, &diags), -EINVAL);
	expect("bench-outputs.cfg", 9, "missing 'device'");
	expect("bench-outputs.cfg", 9, "missing 'channel'");
	expect("bench-outputs.cfg", 10, "backend 'iio' has no output lines; allowed: gpiod, sim");
	expect("bench-outputs.cfg", 11, "'safe' = \"dim\" must be one of: off, on");
	expect("bench-outputs.cfg", 11, "unknown key 'colour'");
	expect("bench-outputs.cfg", 12, "missing 'safe'");
	cr_assert_eq(diags.n, 6);
	free(path);
}

Test(config, sensor_guards_load_in_canonical_units_with_defaults_per_role)
{
	char *path = data("bench-guards-reversed.cfg");
	struct bench *bench;

	/* the only error: a range given upside down */
	cr_assert_eq(bench_load(path, &bench, &diags), -EINVAL);
	expect("bench-guards-reversed.cfg", 9, "'valid_range' must list the lower limit first");
	cr_assert_eq(diags.n, 1);
	diag_clear(&diags);
	free(path);
	/* the shipped bench: the flow sensor's guards and the pressure's stuck
	 * check as written, the others by default (3 periods, no stuck check,
	 * the role's widest range) */
	path = th_src("fixtures/bench/sim.cfg");
	cr_assert_eq(bench_load(path, &bench, &diags), 0);
	cr_assert_eq(bench->instrument[ROLE_FLOW].stale_after, 3);
	cr_assert_float_eq(bench->instrument[ROLE_FLOW].valid_min, -100, 1e-9);
	cr_assert_float_eq(bench->instrument[ROLE_FLOW].valid_max, 100, 1e-9);
	cr_assert_eq(bench->instrument[ROLE_PRESSURE].stale_after, 3);
	cr_assert_eq(bench->instrument[ROLE_PRESSURE].stuck_after, 30);
	cr_assert_eq(bench->instrument[ROLE_FLOW].stuck_after, 30);
	cr_assert_eq(bench->instrument[ROLE_POWER].stuck_after, 0);
	cr_assert_float_eq(bench->instrument[ROLE_PRESSURE].valid_max, 5000, 1e-9);
	cr_assert_float_eq(bench->instrument[ROLE_SCALE].valid_min, -100, 1e-9);
	bench_free(bench);
	free(path);
}

/* The decision rules and the flow group of the device file: every problem,
 * each at its line, in one pass; a guard band only with guarded
 * acceptance; one requirement, one criterion. */
Test(config, decision_rules_and_flow_requirements_are_checked_with_their_line)
{
	char *dir = th_tmpdir();
	char *path = th_write_file(dir, "dut-rules.cfg",
		"device = {\n"
		"  model = \"M\"; serial = \"S\"; reservoir = \"20 mL\";\n"
		"  rate = { min = \"0.01 mL/h\"; max = \"1 mL/h\"; };\n"
		"  bolus = { max = \"0.5 mL\"; rate = \"1 mL/h\"; };\n"
		"  accuracy = { tolerance = \"10 %\"; requirement = \"R-1\";\n"
		"               decision_rule = \"strict\"; };\n"
		"  flow_accuracy = { tolerance = \"10 %\"; requirement = \"R-2\";\n"
		"                    ep_max = \"5 %\"; ep_max_requirement = \"R-1\";\n"
		"                    ep_min_requirement = \"R-4\"; };\n"
		"  occlusion = { alarm_pressure_max = \"150 kPa\"; alarm_time_max = \"4 h\";\n"
		"                bolus_max = \"0.05 mL\"; requirement = \"R-5\";\n"
		"                guard_band = \"U\"; };\n"
		"  battery = { capacity = \"1000 mAh\"; longevity_min = \"5 year\";\n"
		"              longevity_max = \"7 year\"; requirement = \"R-6\"; reference_rate = \"0.5 mL/day\";\n"
		"              decision_rule = \"guarded\"; guard_band = \"5 U\"; };\n"
		"};\n");
	struct device *dev = (struct device *)1;

	cr_assert_eq(device_load(path, &dev, &diags), -EINVAL);
	cr_assert_null(dev);
	expect("dut-rules.cfg", 6, "'decision_rule' = \"strict\" must be one of: simple, guarded");
	expect("dut-rules.cfg", 8, "ep_max_requirement = \"R-1\" is also accuracy.requirement");
	expect("dut-rules.cfg", 9, "'ep_min_requirement' without 'ep_min'");
	expect("dut-rules.cfg", 12, "'guard_band' applies only with decision_rule = \"guarded\"");
	expect("dut-rules.cfg", 15, "'guard_band' = \"5 U\" is out of range; allowed 0.001 U to 3 U");
	cr_assert_eq(diags.n, 5);
	free(path);
	free(dir);
}

Test(config, a_protocol_needs_its_id_revision_and_standards)
{
	char *dir = th_tmpdir();
	char *path = th_write_file(dir, "proto.cfg",
		"sequence = {\n"
		"  id = \"T\"; version = \"1\"; title = \"t\";\n"
		"  protocol = {\n"
		"    id = \"TP-1\";\n"
		"    standards = ( \"ISO 14708-4:2022\", \"\" );\n"
		"  };\n"
		"  steps = ( { step = \"stop\"; } );\n"
		"};\n");
	struct sequence *seq = (struct sequence *)1;

	cr_assert_eq(seq_load(path, &seq, &diags), -EINVAL);
	cr_assert_null(seq);
	expect("proto.cfg", 3, "revision");
	expect("proto.cfg", 5, "standard 2 must be a non-empty string");
	cr_assert_eq(diags.n, 2);
	free(path);
	free(dir);
}

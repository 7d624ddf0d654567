/* Plans that cannot work are refused before anything moves, by rig validate
 * and rig run alike: the same messages, exit status 2, nothing created.  A
 * run of hours that the bench's own limits would abort, more than the
 * reservoir holds, an overdue calibration, two instruments on one serial
 * device, IIO channel or GPIO line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "helpers.h"

#define SIM_BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

/* text with its one occurrence of from replaced by to (asserted there). */
static char *subst(char *text, const char *from, const char *to)
{
	char *at = strstr(text, from), *out;

	cr_assert_not_null(at, "'%s' not in the text", from);
	cr_assert_null(strstr(at + 1, from), "'%s' more than once", from);
	if (asprintf(&out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) < 0)
		abort();
	free(text);
	return out;
}

/* A copy of a shipped file with one replacement, written to dir/name. */
static char *variant(const char *dir, const char *src_rel, const char *name, const char *from,
		     const char *to)
{
	char *src = th_src(src_rel), *text = th_read_file(src), *path;

	cr_assert_not_null(text);
	if (from)
		text = subst(text, from, to);
	path = th_write_file(dir, name, text);
	free(text);
	free(src);
	return path;
}

/* rig validate and rig run on the same files: both exit 2 with the very same
 * words on stderr, and the run creates nothing.  Returns that stderr. */
static char *refused_alike(const char *dir, const char *seq, const char *bench, const char *dut)
{
	char *run, *by_validate, *by_run;
	struct stat st;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	cr_assert_eq(th_rig(dir, (const char *[]){ "validate", seq, "--bench", bench, "--dut", dut,
						   NULL }), 2, "validate did not refuse it");
	by_validate = th_slurp(dir, "stderr");
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", run, "-q", NULL }), 2,
		     "run did not refuse it: %s", th_slurp(dir, "stderr"));
	by_run = th_slurp(dir, "stderr");
	cr_assert_str_eq(by_validate, by_run, "validate and run answer differently");
	cr_assert_neq(stat(run, &st), 0, "the refused run created %s", run);
	free(by_run);
	free(run);
	return by_validate;
}

static void has(const char *text, const char *what)
{
	cr_assert_not_null(strstr(text, what), "no '%s' in:\n%s", what, text);
}

/* ------------------------------------------------------------ the plan -- */

static const char long_seq[] =
	"sequence = {\n"
	"  id = \"T-LONG\"; version = \"1\"; title = \"longer than the bench allows\";\n"
	"  steps = (\n"
	"    { step = \"tare\"; timeout = \"5 min\"; },\n"
	"    { step = \"set_rate\"; rate = \"0.1 mL/h\"; },\n"
	"    { step = \"hold\"; duration = \"40 min\"; },\n"
	"    { step = \"bolus\"; volume = \"0.1 mL\"; timeout = \"2 h\"; },\n"
	"    { step = \"occlude\"; until = \"duration\"; duration = \"10 min\"; },\n"
	"    { step = \"release\"; duration = \"5 min\"; },\n"
	"    { step = \"stop\"; },\n"
	"    { step = \"measure_evaporation\"; duration = \"5 min\"; },\n"
	"    { step = \"hold\"; duration = \"2 min\"; }\n"
	"  );\n"
	"};\n";

/* The timed steps (hold, occlude for a duration, release, evaporation)
 * add up to the bench's hour by line 11 (allowed) and pass it with the last
 * hold's 2 min: refused there, naming the limit.  The waits (tare, bolus)
 * are the balance's and the pump's and are not counted: without the last
 * hold the plan is valid. */
Test(plans, a_plan_longer_than_duration_max_is_refused_at_the_step_that_passes_it)
{
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", long_seq), *err;
	char *bench = variant(dir, SIM_BENCH, "bench.cfg", "duration_max = \"100 h\"",
			      "duration_max = \"1 h\""), *dut = th_src(DUT), *shorter;

	err = refused_alike(dir, seq, bench, dut);
	has(err, "seq.cfg:12: the run is at least 62 min long by the end of this step");
	has(err, "past the bench's duration_max of 1 h");
	has(err, "allowed: timed steps adding up to at most 1 h");
	has(err, "rig: 1 problem found; nothing was run");
	free(err);
	/* without the last hold: the hour exactly, within the limit */
	{
		char *text = strdup(long_seq);

		text = subst(text, "    { step = \"hold\"; duration = \"2 min\"; }\n", "");
		text = subst(text, "duration = \"5 min\"; },\n  );", "duration = \"5 min\"; }\n  );");
		shorter = th_write_file(dir, "shorter.cfg", text);
		free(text);
	}
	cr_assert_eq(th_rig(dir, (const char *[]){ "validate", shorter, "--bench", bench, "--dut",
						   dut, NULL }), 0, "%s", th_slurp(dir, "stderr"));
	free(shorter);
	free(seq);
	free(bench);
	free(dut);
	free(dir);
}

static const char volume_seq[] =
	"sequence = {\n"
	"  id = \"T-VOLUME\"; version = \"1\"; title = \"more than the bench allows\";\n"
	"  steps = (\n"
	"    { step = \"prime\"; volume = \"0.4 mL\"; timeout = \"1 h\"; },\n"
	"    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
	"    { step = \"hold\"; duration = \"1 h\"; },\n"
	"    { step = \"occlude\"; until = \"duration\"; duration = \"2 h\"; },\n"
	"    { step = \"release\"; },\n"
	"    { step = \"bolus\"; volume = \"0.5 mL\"; timeout = \"1 h\"; },\n"
	"    { step = \"hold\"; duration = \"30 min\"; },\n"
	"    { step = \"stop\"; }\n"
	"  );\n"
	"};\n";

/* Primes, boluses and the basal rate over the timed steps: 0.4 + 1 + 0.5
 * = 1.9 mL by the bolus (the occlusion's two hours held behind the valve
 * are not counted), 2.4 mL by the last hold, against a 2 mL cap. */
Test(plans, a_plan_delivering_more_than_delivered_max_is_refused_where_it_passes_it)
{
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", volume_seq), *err;
	char *bench = variant(dir, SIM_BENCH, "bench.cfg", "delivered_max = \"20 mL\"",
			      "delivered_max = \"2 mL\""), *dut = th_src(DUT);

	err = refused_alike(dir, seq, bench, dut);
	has(err, "seq.cfg:10: the plan delivers at least 2.4 mL by the end of this step (primes "
	    "0.4 mL, boluses 0.5 mL, basal 1.5 mL over the timed steps), above the bench's "
	    "delivered_max of 2 mL");
	has(err, "allowed: at most 2 mL in all");
	has(err, "rig: 1 problem found; nothing was run");
	free(err);
	free(seq);
	free(bench);
	free(dut);
	free(dir);
}

/* The device's reservoir, filled once: after a 0.4 mL prime of a 2 mL
 * reservoir, 1.6 mL can follow; the same plan takes 2.4 mL. */
Test(plans, a_plan_taking_more_than_the_reservoir_holds_after_its_prime_is_refused)
{
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", volume_seq), *err;
	char *bench = th_src(SIM_BENCH);
	char *dut = variant(dir, DUT, "dut.cfg", "reservoir = \"40 mL\"", "reservoir = \"2 mL\"");

	err = refused_alike(dir, seq, bench, dut);
	has(err, "seq.cfg:10: the plan takes at least 2.4 mL from the pump's reservoir by the end "
	    "of this step");
	has(err, "more than the device's reservoir of 2 mL holds");
	has(err, "allowed: at most 1.6 mL after the prime of 0.4 mL");
	free(err);
	free(seq);
	free(bench);
	free(dut);
	free(dir);
}

/* validate used to say 0 where run said 2: now both say 2, at the bench
 * file's line of the overdue instrument, and both accept the operator's
 * leave. */
Test(plans, an_overdue_calibration_is_refused_by_validate_as_by_run)
{
	char *dir = th_tmpdir(), *seq = th_src("sequences/dose-accuracy.cfg"), *err, *warned;
	char *bench = variant(dir, SIM_BENCH, "bench.cfg",
			      "date = \"2026-11-16\"; due = \"2028-11-16\"; };\n    };\n    flow",
			      "date = \"2020-01-15\"; due = \"2021-01-15\"; };\n    };\n    flow");
	char *dut = th_src(DUT);

	err = refused_alike(dir, seq, bench, dut);
	has(err, "bench.cfg:");
	has(err, "scale (serial SIM-SCALE): calibration was due 2021-01-15, before today");
	has(err, "or run with --allow-expired-calibration");
	has(err, "rig: 1 problem found; nothing was run");
	cr_assert_eq(th_rig(dir, (const char *[]){ "validate", seq, "--bench", bench, "--dut", dut,
						   "--allow-expired-calibration", NULL }), 0);
	warned = th_slurp(dir, "stderr");
	has(warned, "calibration was due 2021-01-15");
	has(warned, "anyway (--allow-expired-calibration");
	free(warned);
	free(err);
	free(seq);
	free(bench);
	free(dut);
	free(dir);
}

/* -------------------------------------------- one resource, two users -- */

/* The shipped simulated bench with its instruments replaced by text. */
static char *bench_with(const char *dir, const char *from, const char *to)
{
	return variant(dir, SIM_BENCH, "bench.cfg", from, to);
}

/* The pump and the balance on one serial device, one named through a
 * symbolic link to it (as /dev/serial/by-id/ names a /dev/ttyUSBn). */
Test(plans, the_pump_and_the_balance_on_one_serial_device_are_refused)
{
	char *dir = th_tmpdir(), *tty, *link, *bench, *err, *seq, *text, *dut = th_src(DUT);

	if (asprintf(&tty, "%s/ttyUSB0", dir) < 0 || asprintf(&link, "%s/by-id-balance", dir) < 0)
		abort();
	free(th_write_file(dir, "ttyUSB0", ""));
	cr_assert_eq(symlink(tty, link), 0);
	bench = bench_with(dir, "pump = { backend = \"sim\";", "pump = { backend = \"pumplink\"; "
			   "device = \"TTY\";");
	text = th_read_file(bench);
	text = subst(text, "TTY", tty);
	text = subst(text, "backend = \"sim\"; model = \"microbalance (model)\";",
		     "backend = \"mtsics\"; device = \"LINK\"; model = \"microbalance (model)\";");
	text = subst(text, "LINK", link);
	free(bench);
	bench = th_write_file(dir, "bench.cfg", text);
	free(text);
	seq = th_src("sequences/dose-accuracy.cfg");
	err = refused_alike(dir, seq, bench, dut);
	has(err, "bench.cfg:41: scale is on serial device ");
	has(err, "/by-id-balance (");
	has(err, "/ttyUSB0), which pump");
	has(err, "which pump (line 40) uses too; one instrument or output line per physical "
	    "resource: give each its own");
	free(err);
	free(tty);
	free(link);
	free(bench);
	free(seq);
	free(dut);
	free(dir);
}

/* The pump on /dev/ttyS0 (here a node with its numbers, 4:64) and the
 * balance on a second node made with mknod for the same device: two paths,
 * no link between them, one UART.  Compared by real path they were two
 * resources and validate said 0. */
Test(plans, the_pump_and_the_balance_on_two_nodes_of_one_device_are_refused)
{
	char *dir = th_tmpdir(), *a, *b, *c, *bench, *err, *seq, *text, *dut = th_src(DUT);

	if (asprintf(&a, "%s/ttyS0", dir) < 0 || asprintf(&b, "%s/copy-of-ttyS0", dir) < 0 ||
	    asprintf(&c, "%s/ttyS1", dir) < 0)
		abort();
	cr_assert_eq(mknod(a, S_IFCHR | 0600, makedev(4, 64)), 0, "mknod (tests run as root)");
	cr_assert_eq(mknod(b, S_IFCHR | 0600, makedev(4, 64)), 0);
	cr_assert_eq(mknod(c, S_IFCHR | 0600, makedev(4, 65)), 0);
	bench = bench_with(dir, "pump = { backend = \"sim\";", "pump = { backend = \"pumplink\"; "
			   "device = \"TTY\";");
	text = subst(th_read_file(bench), "TTY", a);
	text = subst(text, "backend = \"sim\"; model = \"microbalance (model)\";",
		     "backend = \"mtsics\"; device = \"COPY\"; model = \"microbalance (model)\";");
	text = subst(text, "COPY", b);
	free(bench);
	bench = th_write_file(dir, "bench.cfg", text);
	seq = th_src("sequences/dose-accuracy.cfg");
	err = refused_alike(dir, seq, bench, dut);
	has(err, "bench.cfg:41: scale is on serial device ");
	has(err, "/copy-of-ttyS0 (character device 4:64), which pump (line 40) uses too");
	free(err);
	/* another device (4:65) is another resource */
	free(text);
	text = subst(th_read_file(bench), b, c);
	free(bench);
	bench = th_write_file(dir, "bench.cfg", text);
	cr_assert_eq(th_rig(dir, (const char *[]){ "validate", seq, "--bench", bench, "--dut", dut,
						   NULL }), 0, "%s", th_slurp(dir, "stderr"));
	free(text);
	free(a);
	free(b);
	free(c);
	free(bench);
	free(seq);
	free(dut);
	free(dir);
}

/* Flow and pressure on one channel of one IIO device, the context once
 * with libiio's default port and once without it. */
Test(plans, flow_and_pressure_on_one_iio_channel_are_refused)
{
	char *dir = th_tmpdir(), *seq = th_src("sequences/dose-accuracy.cfg"), *dut = th_src(DUT);
	char *bench, *err, *text;

	bench = bench_with(dir, "backend = \"sim\"; model = \"flow sensor (model)\"; serial = \"SIM-FLOW\";",
			   "backend = \"iio\"; uri = \"ip:Bench-Board\"; device = \"ads1015\"; "
			   "channel = \"voltage1\";");
	text = th_read_file(bench);
	text = subst(text, "backend = \"sim\"; model = \"pressure transducer (model)\"; serial = \"SIM-PRES\";",
		     "backend = \"iio\"; uri = \"ip:bench-board:30431\"; device = \"ads1015\"; "
		     "channel = \"voltage1\";");
	free(bench);
	bench = th_write_file(dir, "bench.cfg", text);
	free(text);
	err = refused_alike(dir, seq, bench, dut);
	has(err, "bench.cfg:53: pressure is on IIO input channel voltage1 of device ads1015 on "
	    "ip:bench-board:30431, which flow (line 48) uses too");
	free(err);
	/* the same channel name on another device is another channel */
	text = th_read_file(bench);
	text = subst(text, "uri = \"ip:bench-board:30431\"; device = \"ads1015\"",
		     "uri = \"ip:bench-board:30431\"; device = \"ads1115\"");
	free(bench);
	bench = th_write_file(dir, "bench.cfg", text);
	free(text);
	cr_assert_eq(th_rig(dir, (const char *[]){ "validate", seq, "--bench", bench, "--dut", dut,
						   NULL }), 0, "%s", th_slurp(dir, "stderr"));
	free(bench);
	free(seq);
	free(dut);
	free(dir);
}

/* One GPIO line twice: the valve and an output line on chip 0 line 5
 * (by number, and by its /dev path), and the alarm and the emergency stop
 * on one named line of a chip. */
Test(plans, one_gpio_line_used_twice_is_refused_with_both_lines_named)
{
	char *dir = th_tmpdir(), *seq = th_src("sequences/dose-accuracy.cfg"), *dut = th_src(DUT);
	char *bench, *err, *text;

	bench = bench_with(dir, "valve = { backend = \"sim\"; model = \"pinch valve (model)\"; "
			   "serial = \"SIM-VALVE\"; safe_state = \"open\"; };\n"
			   "    alarm = { backend = \"sim\"; period = \"1 s\"; };",
			   "valve = { backend = \"gpiod\"; device = \"0\"; channel = \"05\"; };\n"
			   "    alarm = { backend = \"gpiod\"; device = \"gpiochip1\"; channel = \"PUMP_ALARM\"; period = \"1 s\"; };\n"
			   "    estop = { backend = \"gpiod\"; device = \"gpiochip1\"; channel = \"PUMP_ALARM\"; period = \"1 s\"; };\n"
			   "  };\n"
			   "  outputs = {\n"
			   "    pump_enable = { backend = \"gpiod\"; device = \"/dev/gpiochip0\"; channel = \"5\"; safe = \"off\"; };");
	text = th_read_file(bench);
	err = refused_alike(dir, seq, bench, dut);
	has(err, "bench.cfg:66: estop is on GPIO line PUMP_ALARM of chip gpiochip1, which alarm "
	    "(line 65) uses too");
	has(err, "bench.cfg:69: output 'pump_enable' is on GPIO line 5 of chip /dev/gpiochip0, "
	    "which valve (line 64) uses too");
	has(err, "rig: 2 problems found");
	free(err);
	free(text);
	free(bench);
	free(seq);
	free(dut);
	free(dir);
}

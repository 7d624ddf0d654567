/* rig probe, and the gpiod backend's error paths (no machine here has a GPIO
 * chip: what is tested is that a missing chip or line is reported clearly and
 * that a run with one never starts). */
#include <criterion/criterion.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static char *gpio_bench(const char *dir)
{
	char *src = th_src("fixtures/bench/sim.cfg"), *text = th_read_file(src), *out, *path;
	const char *from = "    valve = { backend = \"sim\"; model = \"pinch valve (model)\"; "
			   "serial = \"SIM-VALVE\"; safe_state = \"open\"; };";
	char *at = strstr(text, from);

	cr_assert_not_null(at, "the shipped bench's valve line changed");
	cr_assert_geq(asprintf(&out, "%.*s%s%s", (int)(at - text), text,
			       "    valve = { backend = \"gpiod\"; device = \"gpiochip9\"; "
			       "channel = \"occlusion-valve\"; safe_state = \"open\"; };\n"
			       "    estop = { backend = \"gpiod\"; device = \"gpiochip9\"; channel = \"7\"; "
			       "active_low = true; period = \"100 ms\"; };",
			       at + strlen(from)), 0);
	/* and a pump-enable line among the bench's outputs */
	at = strstr(out, "  simulator = {");
	cr_assert_not_null(at);
	free(text);
	cr_assert_geq(asprintf(&text, "%.*s%s%s", (int)(at - out), out,
			       "  outputs = { pump_enable = { backend = \"gpiod\"; device = \"gpiochip9\"; "
			       "channel = \"PUMP_EN\"; safe = \"off\"; run = \"on\"; }; };\n", at), 0);
	free(out);
	out = text;
	text = NULL;
	path = th_write_file(dir, "gpio.cfg", out);
	free(src);
	free(text);
	free(out);
	return path;
}

Test(probe, every_instrument_of_the_simulated_bench_answers)
{
	char *dir = th_tmpdir(), *bench = th_src("fixtures/bench/sim.cfg"), *out;

	cr_assert_eq(th_rig(dir, (const char *[]){ "probe", "--bench", bench, NULL }), 0);
	out = th_slurp(dir, "stdout");
	cr_assert_not_null(strstr(out, "role"));
	cr_assert_not_null(strstr(out, "2028-11-16"));
	cr_assert_not_null(strstr(out, " uA, "));   /* power: current and voltage */
	cr_assert_null(strstr(out, "ERROR"), "%s", out);
	free(out);
	free(bench);
	free(dir);
}

Test(probe, a_missing_gpio_chip_is_a_clear_error_and_a_run_never_starts)
{
	char *dir = th_tmpdir(), *bench = gpio_bench(dir), *out, *run, *events;
	char *seq = th_src("sequences/dose-accuracy.cfg"), *dut = th_src("fixtures/dut/itp-40.cfg");

	cr_assert_eq(th_rig(dir, (const char *[]){ "validate", seq, "--bench", bench, "--dut", dut,
						   NULL }), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "probe", "--bench", bench, NULL }), 1);
	out = th_slurp(dir, "stdout");
	cr_assert_not_null(strstr(out, "no GPIO chip \"gpiochip9\" on this machine"), "%s", out);
	cr_assert_not_null(strstr(out, "estop"), "%s", out);
	/* the output line's own row, its backend beside it */
	{
		const char *row = strstr(out, "\npump_enable ");

		cr_assert_not_null(row, "%s", out);
		row += strspn(row + 1, "pump_enable ") + 1;
		cr_assert_eq(strncmp(row, "gpiod", 5), 0, "%s", out);
	}
	free(out);
	cr_assert_geq(asprintf(&run, "%s/run", dir), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", run, "-q", NULL }), 3);
	events = th_slurp(run, "events.jsonl");
	cr_assert_not_null(strstr(events, "cannot open valve (backend gpiod)"), "%s", events);
	/* no step ran: nothing was delivered with an output it could not control */
	cr_assert_null(strstr(events, "\"event\":\"step\""), "%s", events);
	cr_assert_not_null(strstr(events, "\"event\":\"safe_state\""));
	free(events);
	free(run);
	free(seq);
	free(dut);
	free(bench);
	free(dir);
}

/* On the SBC the sensors are read through libiio's local backend; on a
 * machine with no IIO bus (this one, CI) that must say so plainly rather
 * than "No such file or directory", and a run must not start. */
Test(probe, a_local_iio_context_without_an_iio_bus_is_a_clear_error)
{
	char *dir = th_tmpdir(), *src = th_src("fixtures/bench/wire.cfg"), *text, *bench, *out;
	char *at;

	if (access("/sys/bus/iio", F_OK) == 0)
		cr_skip_test("this machine has an IIO bus: the error path cannot be shown here");
	text = th_read_file(src);
	cr_assert_not_null(text);
	while ((at = strstr(text, "ip:127.0.0.1:30431")))
		memmove(at, "local:", 6), memmove(at + 6, at + 18, strlen(at + 18) + 1);
	bench = th_write_file(dir, "local.cfg", text);
	cr_assert_eq(th_rig(dir, (const char *[]){ "probe", "--bench", bench, NULL }), 1);
	out = th_slurp(dir, "stdout");
	cr_assert_not_null(strstr(out, "local: ina226/current3"), "%s", out);
	cr_assert_not_null(strstr(out, "ERROR: no IIO devices on this machine (/sys/bus/iio is "
				  "missing: is the driver for ina226 loaded"), "%s", out);
	free(out);
	free(bench);
	free(text);
	free(src);
	free(dir);
}

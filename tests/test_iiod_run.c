/* A whole run against Debian's real iiod (tests/iiod/fake-sysfs): when the
 * daemon freezes (SIGSTOP: its port still takes connections, nothing
 * answers), the pump is made safe within the bench's answer bound, however
 * many instruments the silent board carries (or boards: two contexts here),
 * and the record says which board did not answer within how long.  Root is needed (see iiod_real.h): without
 * it these fail and say so, never skip. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "iiod_real.h"

static const char bench_text[] =
	"bench = {\n"
	"  id = \"IIOD-REAL\";\n"
	"  fluid = { name = \"water\"; temperature = \"20 degC\"; };\n"
	"  limits = { pressure_max = \"250 kPa\"; delivered_max = \"20 mL\"; duration_max = \"2 h\"; };\n"
	"  answer_timeout = \"%s\";\n"
	"  instruments = {\n"
	"    pump = { backend = \"sim\"; };\n"
	"    scale = { backend = \"iio\"; uri = \"%s\"; device = \"hx711\"; channel = \"voltage0\";\n"
	"              period = \"1 s\"; calibration = { gain = 10.0; };\n"
	"              valid_range = (\"-1000 g\", \"1000 g\"); };\n"
	"    pressure = { backend = \"iio\"; uri = \"%s\"; device = \"ads1015\"; channel = \"voltage0\";\n"
	"              period = \"1 s\"; calibration = { gain = 0.1; offset = \"-50 kPa\"; }; };\n"
	"    flow = { backend = \"iio\"; uri = \"%s\"; device = \"ads1015\"; channel = \"voltage1\";\n"
	"              period = \"1 s\"; calibration = { gain = 0.0005; offset = \"-0.125 mL/h\"; }; };\n"
	"    power = { backend = \"iio\"; uri = \"%s\"; device = \"ina226\"; channel = \"current3\";\n"
	"              voltage_channel = \"voltage1\"; period = \"1 s\"; };\n"
	"  };\n"
	"  simulator = { };\n"
	"};\n";

static const char seq_text[] =
	"sequence = {\n"
	"  id = \"T-FREEZE\"; version = \"1\"; title = \"delivery while the board freezes\";\n"
	"  steps = (\n"
	"    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
	"    { step = \"hold\"; label = \"steady\"; duration = \"10 min\"; }\n"
	"  );\n"
	"};\n";

/* The run time, in seconds, of the first event whose line holds what. */
static double event_s(const char *events, const char *what)
{
	const char *at = strstr(events, what), *line;

	cr_assert_not_null(at, "no %s in:\n%s", what, events);
	for (line = at; line > events && line[-1] != '\n'; line--)
		;
	cr_assert_eq(strncmp(line, "{\"t_ns\":", 8), 0);
	return strtod(line + 8, NULL) / 1e9;
}

/* Runs the sequence in real time on the four IIO sensors of the real iiod,
 * freezes the daemon once the hold has begun and some readings are in, and
 * returns how long (wall time, ms) it took from the freeze until the record
 * held the safe state; *ret_events gets the record. */
static long long freeze_mid_run(const char *bound, char **ret_events, int *ret_status)
{
	struct real r = start_real();
	char *dir = th_tmpdir(), *text, *bench, *seq, *dut = th_src("fixtures/dut/itp-40.cfg"), *run;
	char *events;
	long long t0, took;
	pid_t pid;

	char uri2[64];

	/* two of the sensors name the board without its (default) port: to
	 * libiio and to rig's backend that is a second context, as a second
	 * board would be, so a freeze costs no more for two boards than for one */
	cr_assert(strlen(r.uri) > 6 && strcmp(r.uri + strlen(r.uri) - 6, ":30431") == 0, "%s", r.uri);
	snprintf(uri2, sizeof(uri2), "%.*s", (int)strlen(r.uri) - 6, r.uri);
	cr_assert_geq(asprintf(&text, bench_text, bound, r.uri, r.uri, uri2, uri2), 0);
	bench = th_write_file(dir, "bench.cfg", text);
	seq = th_write_file(dir, "seq.cfg", seq_text);
	cr_assert_geq(asprintf(&run, "%s/run", dir), 0);
	/* the child inherits this test's network namespace: iiod's loopback */
	pid = th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						 "--output", run, "-q", NULL });
	events = th_wait_for_text(run, "events.jsonl", "\"label\":\"steady\"", 20000);
	cr_assert_not_null(events, "the run did not reach its hold");
	free(events);
	/* a few rounds of readings from the live board first */
	events = th_wait_for_text_n(run, "samples.csv", ",power,", 3, 20000);
	cr_assert_not_null(events, "no readings from the board");
	free(events);

	freeze(&r);
	t0 = mono_ms();
	events = th_wait_for_text(run, "events.jsonl", "\"event\":\"safe_state\"", 30000);
	took = mono_ms() - t0;
	cr_assert_not_null(events, "no safe state within 30 s of the freeze");
	free(events);
	*ret_status = th_rig_wait(pid);
	*ret_events = th_slurp(run, "events.jsonl");
	stop_real(&r);
	free(text);
	free(bench);
	free(seq);
	free(dut);
	free(run);
	free(dir);
	return took;
}

Test(iiod_run, a_frozen_board_makes_the_bench_safe_within_one_answer_bound, .timeout = 120)
{
	char *events, *safe;
	int status;
	long long took = freeze_mid_run("1 s", &events, &status);

	fprintf(stderr, "iiod_run: SIGSTOP of iiod to the safe state in the record: %lld ms "
		"(answer bound 1 s, four IIO sensors read every second)\n", took);
	/* the next reading is due within a period (1 s), it waits the bound
	 * (1 s), then the safe state, without first reading the sensors on the
	 * other context (another bound each): before, each of the four sensors
	 * waited its own 5 s in turn */
	cr_assert_lt(took, 2600, "%lld ms from the freeze to the safe state", took);
	cr_assert_eq(status, 3);
	/* from the first answer that did not come to the safe state: no other
	 * sensor read first (the two on the other context would each cost
	 * another bound) */
	{
		double fault_s = event_s(events, "\"event\":\"fault\""),
		       safe_s = event_s(events, "\"event\":\"safe_state_begin\"");

		fprintf(stderr, "iiod_run: the first silent read's fault to the safe state: %.0f ms\n",
			(safe_s - fault_s) * 1e3);
		cr_assert_lt(safe_s - fault_s, 0.3, "%.3f s between the fault and the safe state",
			     safe_s - fault_s);
	}
	safe = strstr(events, "\"event\":\"safe_state\"");
	cr_assert_not_null(strstr(safe, "\"pump\":\"stopped\""), "%s", safe);
	cr_assert_not_null(strstr(events, "within 1 s (reading "), "the record does not say which "
			   "board did not answer within how long:\n%s", events);
	cr_assert_not_null(strstr(events, "no answer from ip:127.0.0.1"), "%s", events);
	free(events);
}

Test(iiod_run, the_answer_bound_comes_from_the_bench_file, .timeout = 120)
{
	char *events;
	int status;
	long long took = freeze_mid_run("2 s", &events, &status);

	fprintf(stderr, "iiod_run: with a 2 s bound, %lld ms from the freeze to the safe state\n",
		took);
	cr_assert_geq(took, 1800, "the 2 s bound was not waited: %lld ms", took);
	cr_assert_lt(took, 3600, "%lld ms", took);
	cr_assert_eq(status, 3);
	cr_assert_not_null(strstr(events, "within 2 s (reading "), "%s", events);
	free(events);
}

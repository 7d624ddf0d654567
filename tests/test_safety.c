/* Fault injection through the CLI: whatever ends a run, the bench ends safe
 * (pump stopped, occlusion released), the reason is recorded, the samples up
 * to the fault are on disk, and the exit status says aborted (3). */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

/* The shipped bench with text inserted at the start of bench.simulator and
 * one literal piece of text replaced (from may be NULL). */
static char *bench_variant(const char *dir, const char *sim_insert, const char *from,
			   const char *to)
{
	char *src = th_src(BENCH), *text = th_read_file(src), *a, *b, *path;
	const char *sim, *brace;

	cr_assert_not_null(text);
	sim = strstr(text, "simulator");
	cr_assert_not_null(sim);
	brace = strchr(sim, '{');
	if (asprintf(&a, "%.*s\n%s\n%s", (int)(brace + 1 - text), text, sim_insert ? sim_insert : "",
		     brace + 1) < 0)
		abort();
	if (from) {
		const char *k = strstr(a, from);

		cr_assert_not_null(k, "the shipped bench has no '%s'", from);
		if (asprintf(&b, "%.*s%s%s", (int)(k - a), a, to, k + strlen(from)) < 0)
			abort();
		free(a);
		a = b;
	}
	path = th_write_file(dir, "bench.cfg", a);
	free(a);
	free(text);
	free(src);
	return path;
}

struct outcome {
	int status;
	char *events;
	char *samples;
	char *summary;
	char *stderr_text;
};

static void outcome_free(struct outcome *o)
{
	free(o->events);
	free(o->samples);
	free(o->summary);
	free(o->stderr_text);
}

static struct outcome run_case(const char *sequence_text, const char *sim_insert,
			       const char *from, const char *to)
{
	char *dir = th_tmpdir(), *bench = bench_variant(dir, sim_insert, from, to);
	char *seq = th_write_file(dir, "seq.cfg", sequence_text), *dut = th_src(DUT), *run;
	struct outcome o;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	o.status = th_rig_wait(th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut",
							     dut, "--output", run, "-q", NULL }));
	o.events = th_slurp(run, "events.jsonl");
	o.samples = th_slurp(run, "samples.csv");
	o.summary = th_slurp(run, "summary.txt");
	o.stderr_text = th_slurp(dir, "stderr");
	cr_assert_not_null(o.events, "no events.jsonl; stderr: %s", o.stderr_text);
	free(dir);
	free(bench);
	free(seq);
	free(dut);
	free(run);
	return o;
}

static void assert_safe_end(const struct outcome *o, const char *reason)
{
	const char *safe = strstr(o->events, "\"event\":\"safe_state\"");

	cr_assert_not_null(safe, "no safe_state event");
	cr_assert_not_null(strstr(safe, "\"pump\":\"stopped\""), "pump not stopped: %s", safe);
	cr_assert_not_null(strstr(safe, "\"valve\":\"open\""), "occlusion not released: %s", safe);
	cr_assert_not_null(strstr(o->events, "\"status\":\"aborted\""));
	cr_assert_not_null(strstr(o->events, reason), "reason '%s' not recorded:\n%s", reason,
			   o->events);
	cr_assert_not_null(o->summary, "no summary for the aborted run");
	cr_assert_not_null(strstr(o->summary, "aborted"));
}

static const char delivery_seq[] =
	"sequence = {\n"
	"  id = \"T-FAULT\"; version = \"1\"; title = \"delivery with a fault\";\n"
	"  steps = (\n"
	"    { step = \"tare\"; timeout = \"5 min\"; },\n"
	"    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"begin\"; },\n"
	"    { step = \"hold\"; duration = \"4 h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"end\"; },\n"
	"    { step = \"stop\"; },\n"
	"    { step = \"check\"; check = \"dose_accuracy\"; window = \"w\"; }\n"
	"  );\n"
	"};\n";

Test(safety, a_sensor_dropout_aborts_safely_and_keeps_the_samples)
{
	struct outcome o = run_case(delivery_seq,
		"faults = ( { role = \"scale\"; kind = \"dropout\"; at = \"2 h\"; duration = \"10 min\"; } );",
		NULL, NULL);

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "scale read failed");
	/* every balance reading up to the fault is on disk: 30 s period, so
	 * the one at 1:59:30 (7170 s) is there */
	cr_assert_not_null(strstr(o.samples, "\n7170000000000,scale,mass,"));
	cr_assert_null(strstr(o.samples, "\n7230000000000,scale,mass,"));
	outcome_free(&o);
}

Test(safety, a_sensor_allowed_to_reconnect_comes_back_and_the_gap_is_recorded)
{
	/* the bench lets the balance be away for 15 min: a 10 min dropout is a
	 * recorded gap, not an abort, and the dose is still judged */
	struct outcome o = run_case(delivery_seq,
		"faults = ( { role = \"scale\"; kind = \"dropout\"; at = \"2 h\"; duration = \"10 min\"; } );",
		"period = \"30 s\";", "period = \"30 s\"; reconnect = \"15 min\";");
	const char *rec = strstr(o.events, "\"event\":\"instrument_recovered\"");
	double gap;

	cr_assert_eq(o.status, 0, "%s", o.events);
	cr_assert_not_null(strstr(o.events, "\"event\":\"instrument_fault\""));
	cr_assert_not_null(rec, "%s", o.events);
	gap = strtod(strstr(rec, "\"gap_s\":") + 8, NULL);
	/* down from the read at 7200 s to the first after 7800 s: 600 s, to
	 * within one 30 s period */
	cr_assert(gap >= 600 && gap <= 630, "gap %.0f s", gap);
	/* no reading inside the gap, readings on both sides */
	cr_assert_null(strstr(o.samples, "\n7500000000000,scale,mass,"));
	cr_assert_not_null(strstr(o.samples, "\n7170000000000,scale,mass,"));
	cr_assert_not_null(strstr(o.samples, "\n7830000000000,scale,mass,"));
	/* the report says so, as a deviation */
	cr_assert_not_null(strstr(o.summary, "instrument_gap"), "%s", o.summary);
	outcome_free(&o);
}

Test(safety, a_sensor_away_longer_than_its_reconnect_bound_aborts_safely)
{
	struct outcome o = run_case(delivery_seq,
		"faults = ( { role = \"scale\"; kind = \"dropout\"; at = \"2 h\"; duration = \"10 min\"; } );",
		"period = \"30 s\";", "period = \"30 s\"; reconnect = \"5 min\";");

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "scale did not come back within 300 s");
	outcome_free(&o);
}

Test(safety, a_pump_that_stops_answering_aborts_safely)
{
	struct outcome o = run_case(delivery_seq,
		"faults = ( { role = \"pump\"; kind = \"no_answer\"; at = \"1 h\"; duration = \"2 s\"; } );",
		NULL, NULL);

	cr_assert_eq(o.status, 3);
	/* the pump still does not answer when the safe state begins: the stop is
	 * retried until it gets through, and the attempts are recorded */
	assert_safe_end(&o, "pump status failed");
	cr_assert_not_null(strstr(o.events, "\"pump_stop_attempts\":3"), "%s", o.events);
	outcome_free(&o);
}

Test(safety, line_pressure_above_the_bench_limit_releases_the_occlusion_at_once)
{
	static const char seq[] =
		"sequence = {\n"
		"  id = \"T-OCCL\"; version = \"1\"; title = \"occlusion past the limit\";\n"
		"  steps = (\n"
		"    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
		"    { step = \"hold\"; duration = \"10 min\"; },\n"
		"    { step = \"occlude\"; until = \"duration\"; duration = \"2 h\"; }\n"
		"  );\n"
		"};\n";
	/* a pump whose occlusion alarm never comes: only the bench limit
	 * (250 kPa, below the stall pressure) stops the pressure rising */
	struct outcome o = run_case(seq, NULL, "occlusion_alarm = true", "occlusion_alarm = false");
	const char *release = strstr(o.events, "\"by\":\"safety supervisor\"");

	cr_assert_eq(o.status, 3);
	cr_assert_not_null(release, "the supervisor did not release the valve:\n%s", o.events);
	cr_assert_not_null(strstr(o.events, "above the bench limit 250.0 kPa"));
	/* released before the run wound down: the release precedes the safe state */
	cr_assert_lt(release, strstr(o.events, "\"event\":\"safe_state\""));
	assert_safe_end(&o, "line pressure");
	outcome_free(&o);
}

Test(safety, sigterm_mid_run_stops_the_pump_and_records_why)
{
	static const char seq[] =
		"sequence = {\n"
		"  id = \"T-SIG\"; version = \"1\"; title = \"long hold\";\n"
		"  steps = (\n"
		"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; },\n"
		"    { step = \"hold\"; duration = \"1 h\"; label = \"waiting for a signal\"; }\n"
		"  );\n"
		"};\n";
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *seqp = th_write_file(dir, "seq.cfg", seq), *run, *events = NULL;
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	pid_t pid;
	int status;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	pid = th_rig_spawn(dir, (const char *[]){ "run", seqp, "--bench", bench, "--dut", dut,
					       "--output", run, "--real-time", "-q", NULL });
	/* Ready when the hold step has been recorded as started (bounded wait). */
	for (int i = 0; i < 1000; i++) {
		free(events);
		events = th_slurp(run, "events.jsonl");
		if (events && strstr(events, "\"kind\":\"hold\""))
			break;
		nanosleep(&pause, NULL);
	}
	cr_assert(events && strstr(events, "\"kind\":\"hold\""), "the run never reached its hold");
	kill(pid, SIGTERM);
	kill(pid, SIGTERM);   /* a second signal must not skip the safe state */
	status = th_rig_wait(pid);
	cr_assert_eq(status, 3);
	free(events);
	events = th_slurp(run, "events.jsonl");
	cr_assert_not_null(strstr(events, "stopped by signal SIGTERM"));
	cr_assert_not_null(strstr(events, "\"pump\":\"stopped\""));
	cr_assert_not_null(strstr(events, "\"valve\":\"open\""));
	free(events);
	free(dir);
	free(bench);
	free(dut);
	free(seqp);
	free(run);
}

Test(safety, a_timed_out_step_aborts_when_the_sequence_says_abort)
{
	static const char seq[] =
		"sequence = {\n"
		"  id = \"T-TO\"; version = \"1\"; title = \"tare that never settles\";\n"
		"  on_timeout = \"abort\";\n"
		"  steps = (\n"
		"    { step = \"tare\"; timeout = \"1 min\"; },\n"
		"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; }\n"
		"  );\n"
		"};\n";
	struct outcome o = run_case(seq, NULL, "settle_time = \"2 s\"", "settle_time = \"1 h\"");

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "timed out after 60 s");
	/* the step after the timeout never ran */
	cr_assert_null(strstr(o.events, "\"kind\":\"set_rate\""));
	outcome_free(&o);
}

Test(safety, a_timed_out_step_fails_a_check_and_the_run_goes_on_when_told_so)
{
	static const char seq[] =
		"sequence = {\n"
		"  id = \"T-TOF\"; version = \"1\"; title = \"tare that never settles\";\n"
		"  on_timeout = \"fail\";\n"
		"  steps = (\n"
		"    { step = \"tare\"; timeout = \"1 min\"; },\n"
		"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; },\n"
		"    { step = \"hold\"; duration = \"10 min\"; },\n"
		"    { step = \"stop\"; }\n"
		"  );\n"
		"};\n";
	struct outcome o = run_case(seq, NULL, "settle_time = \"2 s\"", "settle_time = \"1 h\"");

	cr_assert_eq(o.status, 1);
	cr_assert_not_null(strstr(o.events, "\"kind\":\"set_rate\""));
	cr_assert_not_null(strstr(o.events, "\"status\":\"completed\""));
	cr_assert_not_null(strstr(o.summary, "step_timeout"));
	cr_assert_not_null(strstr(o.summary, "Overall: fail"));
	outcome_free(&o);
}

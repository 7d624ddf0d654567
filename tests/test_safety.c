/* Fault injection through the CLI: whatever ends a run, the bench ends safe
 * (pump stopped, occlusion released), the reason is recorded, the samples up
 * to the fault are on disk, and the exit status says aborted (3). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
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
	char *results;       /* results.json as written by the run */
	char *report;        /* pdftotext of the run's report.pdf (NULL: none) */
	char *run;           /* the run directory */
};

static void outcome_free(struct outcome *o)
{
	free(o->events);
	free(o->samples);
	free(o->summary);
	free(o->stderr_text);
	free(o->results);
	free(o->report);
	free(o->run);
}

/* Every fault case runs with two output lines (a pump enable and a heater
 * relay, on the simulated backend), so that each checks they end at their
 * safe level too. */
static const char fault_outputs[] =
	"  outputs = {\n"
	"    pump_enable = { backend = \"sim\"; safe = \"off\"; run = \"on\"; };\n"
	"    heater_relay = { backend = \"sim\"; safe = \"off\"; run = \"on\"; };\n"
	"  };\n";

static void add_outputs(const char *bench_path)
{
	char *text = th_read_file(bench_path), *at, *out;
	FILE *f;

	cr_assert_not_null(text);
	if (strstr(text, "outputs = {")) {   /* a case with lines of its own */
		free(text);
		return;
	}
	at = strstr(text, "  simulator = {");
	cr_assert_not_null(at, "the shipped bench has no simulator group");
	if (asprintf(&out, "%.*s%s%s", (int)(at - text), text, fault_outputs, at) < 0)
		abort();
	f = fopen(bench_path, "w");
	cr_assert_not_null(f);
	fputs(out, f);
	fclose(f);
	free(out);
	free(text);
}

/* hay holds needle, whitespace aside (pdftotext wraps and pads lines). */
static bool has_words(const char *hay, const char *needle)
{
	char *h = strdup(hay), *n = strdup(needle), *w;
	const char *r;
	bool found;

	for (char *s = h; s; s = s == h ? n : NULL) {
		w = s;
		for (r = s; *r; r++)
			if (*r != ' ' && *r != '\n' && *r != '\f' && *r != '\t')
				*w++ = *r;
		*w = '\0';
	}
	found = strstr(h, n) != NULL;
	free(h);
	free(n);
	return found;
}

/* The text of run/report.pdf (pdftotext -layout), written beside the run in
 * dir since the run is sealed; NULL when there is no readable report. */
static char *report_text(const char *run, const char *dir)
{
	char *cmd, *text = NULL;

	if (asprintf(&cmd, "pdftotext -layout '%s/report.pdf' '%s/report.txt' 2>/dev/null", run,
		     dir) < 0)
		abort();
	if (system(cmd) == 0)
		text = th_slurp(dir, "report.txt");
	free(cmd);
	return text;
}

/* What a finished rig left in run (and its stderr in dir). */
static void outcome_collect(struct outcome *o, const char *dir, const char *run)
{
	o->events = th_slurp(run, "events.jsonl");
	o->samples = th_slurp(run, "samples.csv");
	o->summary = th_slurp(run, "summary.txt");
	o->stderr_text = th_slurp(dir, "stderr");
	o->results = th_slurp(run, "results.json");
	o->report = report_text(run, dir);
	o->run = strdup(run);
	cr_assert_not_null(o->events, "no events.jsonl; stderr: %s", o->stderr_text);
}

static struct outcome run_case(const char *sequence_text, const char *sim_insert,
			       const char *from, const char *to)
{
	char *dir = th_tmpdir(), *bench = bench_variant(dir, sim_insert, from, to);
	char *seq = th_write_file(dir, "seq.cfg", sequence_text), *dut = th_src(DUT), *run;
	struct outcome o;

	add_outputs(bench);
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	o.status = th_rig_wait(th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut",
							     dut, "--output", run, "-q", NULL }));
	outcome_collect(&o, dir, run);
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
	cr_assert_not_null(strstr(safe, "\"bench_safe\":true"), "%s", safe);
	cr_assert_not_null(strstr(o->events, "\"status\":\"aborted\""));
	cr_assert_not_null(strstr(o->events, reason), "reason '%s' not recorded:\n%s", reason,
			   o->events);
	cr_assert_not_null(o->summary, "no summary for the aborted run");
	cr_assert_not_null(strstr(o->summary, "aborted"));
	/* the reason is the summary's end reason too (results.json's end_reason) */
	cr_assert_not_null(strstr(o->summary, reason), "reason '%s' not in the summary:\n%s", reason,
			   o->summary);
	/* every output line at its safe level */
	cr_assert_not_null(strstr(safe, "\"outputs\":{\"pump_enable\":\"off\",\"heater_relay\":\"off\"}"),
			   "output lines not at their safe level: %s", safe);
	/* results.json: aborted, the root cause as its end_reason */
	cr_assert_not_null(o->results, "no results.json");
	{
		json_t *res = json_loads(o->results, 0, NULL);
		const char *end;

		cr_assert_not_null(res);
		cr_assert_str_eq(json_string_value(json_object_get(res, "status")), "aborted");
		end = json_string_value(json_object_get(res, "end_reason"));
		cr_assert(end && strstr(end, reason), "end_reason '%s' lacks '%s'", end, reason);
		json_decref(res);
	}
	/* and the report: INCOMPLETE with the reason, on its pages */
	cr_assert_not_null(o->report, "no report.pdf for the aborted run");
	cr_assert(has_words(o->report, "INCOMPLETE"), "%s", o->report);
	cr_assert(has_words(o->report, reason), "the report does not give the reason '%s'", reason);
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
	/* released at once: before the abort is even recorded, so before every
	 * other action of the safe state */
	cr_assert_lt(release, strstr(o.events, "\"root_cause\":true"));
	cr_assert_lt(release, strstr(o.events, "\"event\":\"safe_state_begin\""));
	cr_assert_lt(release, strstr(o.events, "\"event\":\"safe_state\""));
	assert_safe_end(&o, "line pressure");
	outcome_free(&o);
}

/* A real signal sent to the rig process mid-run: in real time, once the hold
 * step is in the event log (inotify, no sleeping), so the signal lands while
 * the pump delivers. */
/* The signal arrives while the occlusion valve is closed (an occlude step
 * waiting for an alarm that a second of real time never brings): the safe
 * state must release it, stop the pump and drop the output lines. */
static void signal_mid_run(int sig, const char *name)
{
	static const char seq[] =
		"sequence = {\n"
		"  id = \"T-SIG\"; version = \"1\"; title = \"occluded, waiting\";\n"
		"  steps = (\n"
		"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; },\n"
		"    { step = \"occlude\"; until = \"alarm\"; timeout = \"1 h\"; on_timeout = \"fail\"; }\n"
		"  );\n"
		"};\n";
	char *dir = th_tmpdir(), *bench = bench_variant(dir, NULL, NULL, NULL), *dut = th_src(DUT);
	char *seqp = th_write_file(dir, "seq.cfg", seq), *run, *events, *reason, *root;
	const char *closed, *safe;
	struct outcome o;
	pid_t pid;

	add_outputs(bench);
	if (asprintf(&run, "%s/run", dir) < 0 || asprintf(&reason, "stopped by signal %s", name) < 0 ||
	    asprintf(&root, "\"reason\":\"%s\",\"root_cause\":true", reason) < 0)
		abort();
	pid = th_rig_spawn(dir, (const char *[]){ "run", seqp, "--bench", bench, "--dut", dut,
					       "--output", run, "--real-time", "-q", NULL });
	events = th_wait_for_text(run, "events.jsonl", "\"kind\":\"occlude\"", 20000);
	cr_assert_not_null(events, "the run never reached its occlusion");
	free(events);
	kill(pid, sig);
	o.status = th_rig_wait(pid);
	cr_assert_eq(o.status, 3);
	outcome_collect(&o, dir, run);
	assert_safe_end(&o, reason);
	/* the signal is the root cause, and the valve was closed when it came */
	cr_assert_not_null(strstr(o.events, root), "%s", o.events);
	closed = strstr(o.events, "\"event\":\"valve\",\"state\":\"closed\"");
	safe = strstr(o.events, "\"event\":\"safe_state\"");
	cr_assert_not_null(closed, "the valve never closed:\n%s", o.events);
	cr_assert_lt(closed, safe);
	cr_assert_null(strstr(closed, "\"event\":\"valve\",\"state\":\"open\""),
		       "opened before the safe state: then the release was not the safe state's");
	outcome_free(&o);
	free(root);
	free(reason);
	free(dir);
	free(bench);
	free(dut);
	free(seqp);
	free(run);
}

Test(safety, sigint_mid_run_stops_the_pump_and_records_why)
{
	signal_mid_run(SIGINT, "SIGINT");
}

Test(safety, sigterm_mid_run_stops_the_pump_and_records_why)
{
	signal_mid_run(SIGTERM, "SIGTERM");
}

Test(safety, sighup_mid_run_stops_the_pump_and_records_why)
{
	signal_mid_run(SIGHUP, "SIGHUP");
}

Test(safety, a_second_sigint_during_the_safe_state_does_not_cut_it_short)
{
	/* The pump stops answering at 1 s for 2.5 s (real time): its status poll
	 * fails, the run aborts, and the safe state must ask it to stop once a
	 * second until it answers, at the 4th attempt (4 s).  Two SIGINTs land
	 * as soon as the first stop attempt has failed.  Were the retry wait
	 * cut short by them, all five attempts would fall inside the fault and
	 * the pump would be left running. */
	static const char seq[] =
		"sequence = {\n"
		"  id = \"T-SIG2\"; version = \"1\"; title = \"long hold\";\n"
		"  steps = (\n"
		"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; },\n"
		"    { step = \"hold\"; duration = \"1 h\"; }\n"
		"  );\n"
		"};\n";
	char *dir = th_tmpdir(), *dut = th_src(DUT), *run, *events, *safe;
	char *bench = bench_variant(dir,
		"faults = ( { role = \"pump\"; kind = \"no_answer\"; at = \"1 s\"; duration = \"2500 ms\"; } );",
		NULL, NULL);
	char *seqp = th_write_file(dir, "seq.cfg", seq);
	pid_t pid;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	pid = th_rig_spawn(dir, (const char *[]){ "run", seqp, "--bench", bench, "--dut", dut,
					       "--output", run, "--real-time", "-q", NULL });
	events = th_wait_for_text(run, "events.jsonl", "\"event\":\"pump_stop_failed\"", 20000);
	cr_assert_not_null(events, "the safe state never had to retry");
	free(events);
	kill(pid, SIGINT);
	kill(pid, SIGINT);
	cr_assert_eq(th_rig_wait(pid), 3);
	events = th_slurp(run, "events.jsonl");
	safe = strstr(events, "\"event\":\"safe_state\"");
	cr_assert_not_null(safe, "%s", events);
	cr_assert_not_null(strstr(safe, "\"pump\":\"stopped\""), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"pump_stop_attempts\":4"), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"signal_while_going_safe\":\"SIGINT\""), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"valve\":\"open\""), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"bench_safe\":true"), "%s", safe);
	/* the pump's silence stays the root cause: the signals change no reason */
	cr_assert_not_null(strstr(events, "\"reason\":\"pump status failed"), "%s", events);
	cr_assert_not_null(strstr(strstr(events, "\"reason\":\"pump status failed"),
				  "\"root_cause\":true"));
	cr_assert_null(strstr(events, "stopped by signal"), "a signal became a reason:\n%s", events);
	cr_assert_not_null(strstr(safe, "\"event\":\"run_end\",\"status\":\"aborted\""));
	/* the stop attempts a second apart (SAFE_STOP_RETRY), not hurried by the
	 * signals: 1 s between each failed attempt's record */
	{
		long long t[3];
		const char *p = events;

		for (int k = 0; k < 3; k++) {
			const char *ev = strstr(p, "\"event\":\"pump_stop_failed\"");
			const char *line;

			cr_assert_not_null(ev, "fewer than 3 failed stop attempts:\n%s", events);
			for (line = ev; line > events && line[-1] != '\n'; line--)
				;
			cr_assert_eq(sscanf(line, "{\"t_ns\":%lld", &t[k]), 1);
			p = ev + 1;
		}
		for (int k = 1; k < 3; k++)
			cr_assert(t[k] - t[k - 1] >= 900000000LL && t[k] - t[k - 1] <= 1500000000LL,
				  "attempts %d and %d %lld ns apart", k, k + 1, t[k] - t[k - 1]);
	}
	free(events);
	free(dir);
	free(bench);
	free(dut);
	free(seqp);
	free(run);
}

Test(safety, a_second_sigint_while_the_first_is_being_obeyed_changes_nothing)
{
	/* The first SIGINT is the root cause.  The valve driver fails from 1 s
	 * to 4 s (real time), so the safe state it starts must ask the valve
	 * again once a second; the second SIGINT lands while it waits after the
	 * second attempt has failed.  Were that wait cut short, the valve would
	 * take one attempt more (and a storm of signals would exhaust them all
	 * inside the fault, the line left closed). */
	static const char seq[] =
		"sequence = {\n"
		"  id = \"T-SIG3\"; version = \"1\"; title = \"long hold\";\n"
		"  steps = (\n"
		"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; },\n"
		"    { step = \"hold\"; duration = \"1 h\"; }\n"
		"  );\n"
		"};\n";
	char *dir = th_tmpdir(), *dut = th_src(DUT), *run, *events, *safe;
	char *bench = bench_variant(dir,
		"faults = ( { role = \"valve\"; kind = \"dropout\"; at = \"1 s\"; duration = \"3 s\"; } );",
		NULL, NULL);
	char *seqp = th_write_file(dir, "seq.cfg", seq), *samples;
	const char *root;
	pid_t pid;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	pid = th_rig_spawn(dir, (const char *[]){ "run", seqp, "--bench", bench, "--dut", dut,
					       "--output", run, "--real-time", "-q", NULL });
	/* the second pressure reading, at 1 s, is on disk: the fault is active */
	samples = th_wait_for_text_n(run, "samples.csv", ",pressure,pressure,", 2, 20000);
	cr_assert_not_null(samples, "the run never reached 1 s");
	free(samples);
	kill(pid, SIGINT);
	/* the second attempt has failed: the safe state now waits for the third */
	events = th_wait_for_text(run, "events.jsonl",
				  "\"event\":\"valve_set_failed\",\"attempt\":2", 20000);
	cr_assert_not_null(events, "the safe state never had to retry the valve");
	free(events);
	kill(pid, SIGINT);
	cr_assert_eq(th_rig_wait(pid), 3);
	events = th_slurp(run, "events.jsonl");
	root = strstr(events, "\"root_cause\":true");
	cr_assert_not_null(root, "%s", events);
	safe = strstr(events, "\"event\":\"safe_state\"");
	cr_assert_not_null(safe, "%s", events);
	/* the root cause is the first signal, not anything after it */
	cr_assert(strstr(events, "\"reason\":\"stopped by signal SIGINT\",\"root_cause\":true") != NULL,
		  "%s", events);
	cr_assert_not_null(strstr(safe, "\"valve\":\"open\""), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"pump\":\"stopped\""), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"signal_while_going_safe\":\"SIGINT\""), "%s", safe);
	/* tried at 1, 2, 3 and 4 s (and after): open at the fourth, once the
	 * fault was over; with a wait cut short by the signal it takes five */
	cr_assert_not_null(strstr(safe, "\"valve_attempts\":4"), "%s", safe);
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

/* ------------------------------------------- the supervisor's sensor guards -- */

#define FAULT_AT_1H(role, kind) \
	"faults = ( { role = \"" role "\"; kind = \"" kind "\"; at = \"1 h\"; duration = \"10 min\"; } );"

/* The run time of the root-cause fault event, in seconds. */
static double root_fault_s(const char *events)
{
	const char *f = strstr(events, "\"root_cause\":true");
	const char *line;

	cr_assert_not_null(f, "no root-cause fault:\n%s", events);
	for (line = f; line > events && line[-1] != '\n'; line--)
		;
	return strtod(strstr(line, "\"t_ns\":") + 7, NULL) / 1e9;
}

Test(safety, a_sensor_with_no_fresh_sample_for_stale_after_periods_aborts_safely)
{
	/* the pressure sensor answers but has nothing new from 1 h on; the
	 * bench's default stale_after is 3 periods of 1 s */
	struct outcome o = run_case(delivery_seq, FAULT_AT_1H("pressure", "stale"), NULL, NULL);
	double t;

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "pressure gave no fresh reading for 3 periods");
	t = root_fault_s(o.events);
	cr_assert(t >= 3600 + 2 && t <= 3600 + 3, "aborted at %.3f s", t);
	/* the readings before the fault are on disk */
	cr_assert_not_null(strstr(o.samples, "\n3599000000000,pressure,pressure,"));
	outcome_free(&o);
}

Test(safety, stale_after_from_the_bench_file_sets_how_long_a_silent_sensor_is_tolerated)
{
	struct outcome o = run_case(delivery_seq, FAULT_AT_1H("pressure", "stale"),
				    "serial = \"SIM-PRES\"; period = \"1 s\";",
				    "serial = \"SIM-PRES\"; period = \"1 s\"; stale_after = 30;");
	double t;

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "pressure gave no fresh reading for 30 periods");
	t = root_fault_s(o.events);
	cr_assert(t >= 3600 + 29 && t <= 3600 + 30, "aborted at %.3f s", t);
	outcome_free(&o);
}

Test(safety, a_sensor_repeating_readings_it_flags_stale_counts_as_silent)
{
	/* the simulator's "stuck" kind repeats the last reading flagged S */
	struct outcome o = run_case(delivery_seq, FAULT_AT_1H("scale", "stuck"), NULL, NULL);

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "scale gave no fresh reading for 3 periods (90 s");
	/* the stale repeats are on disk as taken, flagged */
	cr_assert_not_null(strstr(o.samples, "\n3630000000000,scale,mass,"));
	cr_assert_not_null(strstr(strstr(o.samples, "\n3630000000000,scale,mass,"), ",g,S\n"));
	outcome_free(&o);
}

#define PRESSURE_STUCK_AFTER_10 "stuck_after = 30;\n", "stuck_after = 10;\n"

Test(safety, a_noisy_sensor_repeating_itself_exactly_is_stuck_and_aborts_safely)
{
	/* "frozen": the converter stopped converting and the driver returns its
	 * last value unflagged; only the missing noise gives it away */
	struct outcome o = run_case(delivery_seq, FAULT_AT_1H("pressure", "frozen"),
				    PRESSURE_STUCK_AFTER_10);
	double t;

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "pressure stuck: 10 identical readings");
	/* the last fresh reading at 3599 s plus 9 repeats: the 10th identical
	 * value is the reading at 3608 s */
	t = root_fault_s(o.events);
	cr_assert(t >= 3608 && t <= 3609, "aborted at %.3f s", t);
	outcome_free(&o);
}

Test(safety, a_noisy_sensor_that_works_does_not_trip_the_stuck_check)
{
	/* the control: the same bench and 4 h of 1 s pressure readings with the
	 * model's noise, no fault: no abort */
	struct outcome o = run_case(delivery_seq, NULL, PRESSURE_STUCK_AFTER_10);

	cr_assert_eq(o.status, 0, "%s", o.events);
	cr_assert_null(strstr(o.events, "stuck"));
	outcome_free(&o);
}

Test(safety, a_reading_that_is_not_a_number_aborts_safely_and_is_kept)
{
	struct outcome o = run_case(delivery_seq, FAULT_AT_1H("flow", "nan"), NULL, NULL);

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "flow reading is not a number");
	cr_assert_not_null(strstr(o.samples, "\n3600000000000,flow,flow,nan,mL/h,"), "%s",
			   strstr(o.samples, "\n3590000000000"));
	outcome_free(&o);
}

Test(safety, an_out_of_range_reading_aborts_safely_flagged_R_and_does_not_fire_other_limits)
{
	struct outcome o = run_case(delivery_seq, FAULT_AT_1H("pressure", "out_of_range"), NULL, NULL);

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "pressure reading 1e+12 kPa outside its valid range -200..5000 kPa");
	cr_assert_not_null(strstr(o.samples, "\n3600000000000,pressure,pressure,1e+12,kPa,R\n"));
	/* an implausible reading is no line pressure: the pressure limit's
	 * release is not triggered by it */
	cr_assert_null(strstr(o.events, "\"by\":\"safety supervisor\""));
	outcome_free(&o);
}

Test(safety, valid_range_from_the_bench_file_bounds_a_real_reading)
{
	/* a balance declared good from 19 to 20.5 g, untared under its 20 g
	 * vessel: at 1 mL/h the gross reading passes 20.5 g after about half an
	 * hour of delivery (plus the 3 min start-up delay).  No fault injected:
	 * the physics gets there. */
	static const char seq[] =
		"sequence = {\n"
		"  id = \"T-RANGE\"; version = \"1\"; title = \"untared delivery\";\n"
		"  steps = (\n"
		"    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
		"    { step = \"hold\"; duration = \"4 h\"; }\n"
		"  );\n"
		"};\n";
	struct outcome o = run_case(seq, NULL, "serial = \"SIM-SCALE\";",
				    "serial = \"SIM-SCALE\"; valid_range = (\"19 g\", \"20.5 g\");");
	double t;

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "outside its valid range 19..20.5 g");
	t = root_fault_s(o.events);
	cr_assert(t > 30 * 60 && t < 36 * 60, "aborted at %.0f s", t);
	outcome_free(&o);
}

Test(safety, an_internal_error_aborts_through_the_safe_state)
{
	/* injectable only: the simulated scale answers a reading of a quantity
	 * no scale measures, a driver-contract violation the engine treats as
	 * its own internal error */
	struct outcome o = run_case(delivery_seq, FAULT_AT_1H("scale", "internal_error"), NULL, NULL);

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "internal error: scale driver returned a reading of quantity");
	cr_assert_not_null(strstr(o.events, "\"event\":\"internal_error\""));
	outcome_free(&o);
}

Test(safety, a_valve_that_fails_to_open_is_asked_again_after_the_pump_is_stopped)
{
	/* the valve driver fails from 3590 s to 3602 s; the run's duration
	 * limit ends it at 3600..3601 s, inside that spell */
	struct outcome o = run_case(delivery_seq,
		"faults = ( { role = \"valve\"; kind = \"dropout\"; at = \"3590 s\"; duration = \"12 s\"; } );",
		"duration_max = \"100 h\"", "duration_max = \"1 h\"");
	const char *safe = strstr(o.events, "\"event\":\"safe_state\"");
	const char *stop = strstr(o.events, "\"pump_stop_attempts\"");
	const char *second = strstr(o.events, "\"event\":\"valve_set_failed\",\"attempt\":2");

	cr_assert_eq(o.status, 3);
	/* the first try failed, the pump was stopped, then one second apart
	 * the valve was tried until it answered: open at the third */
	assert_safe_end(&o, "past the bench limit 3600 s");
	cr_assert_not_null(strstr(o.events, "\"event\":\"valve_set_failed\",\"attempt\":1"), "%s",
			   o.events);
	cr_assert_not_null(second, "%s", o.events);
	cr_assert_null(strstr(o.events, "\"attempt\":3,\"error\":\"Input/output error\""));
	cr_assert_not_null(strstr(safe, "\"valve_attempts\":3"), "%s", safe);
	cr_assert_not_null(stop);
	cr_assert(strstr(o.events, "\"attempt\":1") < second);
	outcome_free(&o);
}

Test(safety, a_valve_that_never_answers_is_recorded_as_not_safe)
{
	struct outcome o = run_case(delivery_seq,
		"faults = ( { role = \"valve\"; kind = \"dropout\"; at = \"3590 s\"; } );",
		"duration_max = \"100 h\"", "duration_max = \"1 h\"");
	const char *safe = strstr(o.events, "\"event\":\"safe_state\"");

	cr_assert_eq(o.status, 3);
	cr_assert_not_null(safe, "%s", o.events);
	/* never "open": the record says what the valve answered, five times */
	cr_assert_not_null(strstr(safe, "\"valve\":\"Input/output error\""), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"valve_attempts\":5"), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"pump\":\"stopped\""), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"bench_safe\":false"), "%s", safe);
	cr_assert_not_null(strstr(o.stderr_text, "THE BENCH MAY NOT BE SAFE"), "%s", o.stderr_text);
	outcome_free(&o);
}

Test(safety, a_valve_that_cannot_be_set_safe_at_the_start_means_no_run)
{
	struct outcome o = run_case(delivery_seq,
		"faults = ( { role = \"valve\"; kind = \"dropout\"; at = \"0 s\"; duration = \"2.5 s\"; } );",
		NULL, NULL);

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "valve could not be set to its safe state at the start");
	cr_assert_null(strstr(o.events, "\"rate_ml_per_h\":1"), "%s", o.events);
	outcome_free(&o);
}

/* --------------------------------------------------------- output lines -- */

#define WITH_OUTPUTS "  # Physics of the simulated bench", \
	"  outputs = {\n" \
	"    pump_enable = { backend = \"sim\"; safe = \"off\"; run = \"on\"; };\n" \
	"    heater_relay = { backend = \"sim\"; safe = \"off\"; };\n" \
	"  };\n  # Physics of the simulated bench"

Test(safety, output_lines_run_at_their_run_level_and_end_at_their_safe_level)
{
	struct outcome o = run_case(delivery_seq, NULL, WITH_OUTPUTS);
	const char *opened = strstr(o.events, "\"event\":\"output\",\"name\":\"pump_enable\",\"level\":\"off\"");
	const char *on = strstr(o.events, "\"event\":\"output\",\"name\":\"pump_enable\",\"level\":\"on\"");
	const char *rate = strstr(o.events, "\"event\":\"rate\"");
	const char *safe = strstr(o.events, "\"event\":\"safe_state\"");

	cr_assert_eq(o.status, 0, "%s", o.stderr_text);
	/* opened at the safe level, on before the pump is given a rate, off in
	 * the safe state; the relay with no run level never leaves its safe one */
	cr_assert(opened && on && rate && safe, "%s", o.events);
	cr_assert(opened < on && on < rate && rate < safe, "%s", o.events);
	cr_assert_null(strstr(o.events, "\"name\":\"heater_relay\",\"level\":\"on\""));
	cr_assert_not_null(strstr(safe, "\"outputs\":{\"pump_enable\":\"off\",\"heater_relay\":\"off\"}"),
			   "%s", safe);
	cr_assert_not_null(strstr(safe, "\"bench_safe\":true"), "%s", safe);
	outcome_free(&o);
}

Test(safety, an_aborted_run_puts_the_output_lines_at_their_safe_level)
{
	struct outcome o = run_case(delivery_seq,
		"faults = ( { role = \"scale\"; kind = \"dropout\"; at = \"2 h\"; } );", WITH_OUTPUTS);
	const char *safe = strstr(o.events, "\"event\":\"safe_state\"");

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "scale read failed");
	cr_assert_not_null(strstr(safe, "\"outputs\":{\"pump_enable\":\"off\",\"heater_relay\":\"off\"}"),
			   "%s", safe);
	outcome_free(&o);
}

/* ------------------------------------------------------- emergency stop -- */

/* The shipped bench with an emergency-stop button polled every 100 ms. */
#define WITH_ESTOP "alarm = { backend = \"sim\"; period = \"1 s\"; };", \
	"alarm = { backend = \"sim\"; period = \"1 s\"; };\n" \
	"estop = { backend = \"sim\"; period = \"100 ms\"; };"

Test(safety, the_emergency_stop_makes_the_bench_safe_at_once)
{
	/* pressed a quarter of a second after the hour, between two readings
	 * of the 1 s sensors, and held for 10 s */
	struct outcome o = run_case(delivery_seq,
		"faults = ( { role = \"estop\"; kind = \"pressed\"; at = \"3600.25 s\"; "
		"duration = \"10 s\"; } );", WITH_ESTOP);
	const char *begin = strstr(o.events, "\"event\":\"safe_state_begin\"");
	const char *line;
	double t_fault, t_safe;

	cr_assert_eq(o.status, 3, "%s", o.stderr_text);
	/* the press is dated by its edge, not by when the loop saw it */
	assert_safe_end(&o, "emergency stop pressed at t = 3600.250 s");
	t_fault = root_fault_s(o.events);
	cr_assert(t_fault >= 3600.25 && t_fault <= 3600.35 + 1e-9,
		  "seen at %.3f s: not within one 100 ms poll of the press", t_fault);
	cr_assert_not_null(begin, "%s", o.events);
	for (line = begin; line > o.events && line[-1] != '\n'; line--)
		;
	t_safe = strtod(strstr(line, "\"t_ns\":") + 7, NULL) / 1e9;
	cr_assert(t_safe - t_fault < 1e-6, "safe state began %.3f s after the press was seen",
		  t_safe - t_fault);
	/* nothing sampled after it: the 1 s pressure readings stop at 3600 s */
	cr_assert_not_null(strstr(o.samples, "\n3600000000000,pressure,"));
	cr_assert_null(strstr(o.samples, "\n3601000000000,pressure,"));
	outcome_free(&o);
}

Test(safety, a_run_started_with_the_emergency_stop_pressed_delivers_nothing)
{
	struct outcome o = run_case(delivery_seq,
		"faults = ( { role = \"estop\"; kind = \"pressed\"; at = \"0 s\"; } );", WITH_ESTOP);

	cr_assert_eq(o.status, 3, "%s", o.stderr_text);
	assert_safe_end(&o, "emergency stop pressed at t = 0.000 s");
	cr_assert(root_fault_s(o.events) < 0.2, "seen at %.3f s", root_fault_s(o.events));
	/* the pump was never given a rate */
	cr_assert_null(strstr(o.events, "\"rate_ml_per_h\":1"), "%s", o.events);
	outcome_free(&o);
}

Test(safety, a_failed_emergency_stop_input_aborts_safely)
{
	/* a broken e-stop wire cannot be told from a pressed button: stop */
	struct outcome o = run_case(delivery_seq,
		"faults = ( { role = \"estop\"; kind = \"disconnect\"; at = \"1 h\"; } );", WITH_ESTOP);

	cr_assert_eq(o.status, 3, "%s", o.stderr_text);
	assert_safe_end(&o, "emergency stop input failed");
	outcome_free(&o);
}

/* -------------------------------------------------------- a crash of rig -- */

Test(safety, a_crash_of_rig_itself_is_followed_by_a_fresh_process_that_makes_the_bench_safe)
{
	/* SIGSEGV raised inside rig at its first pressure read after 1 h: the
	 * crashed process is replaced (execv from the handler) by rig safe */
	struct outcome o = run_case(delivery_seq, FAULT_AT_1H("pressure", "segv"), NULL, NULL);
	char *dir = th_tmpdir();

	cr_assert_eq(o.status, 3, "%s", o.stderr_text);
	cr_assert_not_null(strstr(o.stderr_text, "crashed; making the bench safe"), "%s",
			   o.stderr_text);
	assert_safe_end(&o, "internal error: rig crashed (SIGSEGV)");
	/* the samples handed to the kernel before the crash are kept: to the
	 * last flush (1 s of run time) before it */
	cr_assert_not_null(strstr(o.samples, "\n3598000000000,pressure,"), "samples lost");
	/* the safe state comes after everything the crashed process recorded */
	cr_assert(root_fault_s(o.events) > 3599, "fault at %.0f s", root_fault_s(o.events));
	/* the fresh process also judged and sealed the run: the seal holds */
	cr_assert_eq(th_rig(dir, (const char *[]){ "verify", o.run, NULL }), 0);
	outcome_free(&o);
	free(dir);
}

Test(safety, rig_safe_by_hand_stops_the_pump_and_says_so)
{
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *out;

	cr_assert_eq(th_rig(dir, (const char *[]){ "safe", "--bench", bench, NULL }), 0);
	out = th_slurp(dir, "stdout");
	cr_assert_not_null(strstr(out, "rig safe: the bench is safe"), "%s", out);
	free(out);
	cr_assert_eq(th_rig(dir, (const char *[]){ "safe", NULL }), 2);
	free(bench);
	free(dir);
}

/* ---------------------------------------------------------- hard limits -- */

Test(safety, delivered_volume_above_the_hard_cap_aborts_safely)
{
	/* 0.5 mL cap at 1 mL/h: reached about 33 min in (3 min start-up delay),
	 * seen at the next 30 s balance reading */
	struct outcome o = run_case(delivery_seq, NULL, "delivered_max = \"20 mL\"",
				    "delivered_max = \"0.5 mL\"");
	double t;

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "above the bench limit 0.5000 mL");
	t = root_fault_s(o.events);
	cr_assert(t > 30 * 60 && t < 36 * 60, "aborted at %.0f s", t);
	outcome_free(&o);
}

Test(safety, a_run_past_its_maximum_duration_aborts_safely)
{
	struct outcome o = run_case(delivery_seq, NULL, "duration_max = \"100 h\"",
				    "duration_max = \"1 h\"");
	double t;

	cr_assert_eq(o.status, 3);
	assert_safe_end(&o, "past the bench limit 3600 s");
	t = root_fault_s(o.events);
	cr_assert(t > 3600 && t <= 3601, "aborted at %.3f s", t);
	cr_assert_null(strstr(o.samples, "\n3602000000000,"));
	outcome_free(&o);
}

/* ---------------------------------------------------------- durability -- */

Test(safety, a_full_disk_aborts_safely_and_the_samples_written_stay_readable)
{
	/* every file of the child limited to 256 KiB: samples.csv reaches it
	 * after about an hour of readings and the next write fails (EFBIG, as
	 * ENOSPC would on a full disk); events.jsonl stays small enough to
	 * carry the story */
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *seq = th_write_file(dir, "seq.cfg", delivery_seq), *run, *events, *samples, *results;
	size_t rows = 0;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	cr_assert_eq(th_rig_wait(th_rig_spawn_limited(dir, (const char *[]){ "run", seq, "--bench",
		bench, "--dut", dut, "--output", run, "-q", NULL }, 256 * 1024)), 3);
	events = th_slurp(run, "events.jsonl");
	samples = th_slurp(run, "samples.csv");
	cr_assert_not_null(strstr(events, "cannot record samples: File too large"), "%s", events);
	cr_assert_not_null(strstr(strstr(events, "\"event\":\"safe_state\""), "\"pump\":\"stopped\""));
	cr_assert_not_null(strstr(strstr(events, "\"event\":\"safe_state\""), "\"valve\":\"open\""));
	/* what was written is there, up to the limit */
	cr_assert_eq(strlen(samples), 256 * 1024);
	for (const char *p = samples; (p = strchr(p, '\n')); p++)
		rows++;
	cr_assert_gt(rows, 4000);
	/* and a report can be made from it, again, later */
	cr_assert_eq(th_rig(dir, (const char *[]){ "report", run, NULL }), 3);
	results = th_slurp(run, "results.json");
	cr_assert_not_null(results);
	cr_assert_not_null(strstr(results, "\"status\": \"aborted\""), "%s", results);
	cr_assert_not_null(strstr(results, "cannot record samples: File too large"), "%s", results);
	free(results);
	free(samples);
	free(events);
	free(dir);
	free(bench);
	free(dut);
	free(seq);
	free(run);
}

/* A real full disk: a 6 MiB tmpfs holds the run directory, and samples.csv
 * fills it.  Every file is then out of room, events.jsonl too; the
 * recorder's 4 MiB reserve, given back at the first ENOSPC, is what lets
 * the fault, the safe state and the run's end reach the record.  Mounting
 * needs root (CI runs as root); elsewhere the test says it was skipped. */
Test(safety, a_disk_that_fills_up_still_records_why_and_the_safe_state)
{
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *seq = th_write_file(dir, "seq.cfg", delivery_seq), *mnt, *run, *events, *err;
	const char *safe, *end;
	struct stat st;

	if (asprintf(&mnt, "%s/disk", dir) < 0 || asprintf(&run, "%s/run", mnt) < 0)
		abort();
	cr_assert_eq(mkdir(mnt, 0755), 0);
	if (mount("pumprig-test", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=6m") != 0)
		cr_skip_test("cannot mount a tmpfs here (%s): this test needs root", strerror(errno));
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", run, "-q", NULL }), 3);
	events = th_slurp(run, "events.jsonl");
	err = th_slurp(dir, "stderr");
	cr_assert_not_null(events);
	cr_assert_not_null(strstr(events, "cannot record samples: No space left on device"),
			   "the reason is not in the record:\n%s\nstderr:\n%s", events, err);
	safe = strstr(events, "\"event\":\"safe_state\"");
	cr_assert_not_null(safe, "%s", events);
	cr_assert_not_null(strstr(safe, "\"pump\":\"stopped\""));
	cr_assert_not_null(strstr(safe, "\"valve\":\"open\""));
	end = strstr(safe, "\"event\":\"run_end\",\"status\":\"aborted\"");
	cr_assert_not_null(end, "%s", events);
	/* whole lines only: every line of the record ends */
	cr_assert_eq(events[strlen(events) - 1], '\n');
	/* the reserve is gone: it is no part of the record */
	cr_assert_neq(stat(run, &st), -1);
	{
		char *reserve;

		if (asprintf(&reserve, "%s/.disk-reserve", run) < 0)
			abort();
		cr_assert_eq(stat(reserve, &st), -1, "the disk reserve was left in the run");
		free(reserve);
	}
	cr_assert_eq(umount2(mnt, MNT_DETACH), 0);
	free(err);
	free(events);
	/* A disk too small for the reserve: the recorder runs without one.
	 * Whether an event still fits once the disk is full depends on the
	 * room left in the page events.jsonl already holds; either it does, or
	 * the event is copied to stderr: the reason and the safe state are in
	 * one of the two, never lost. */
	cr_assert_eq(mount("pumprig-test", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m"), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", run, "-q", NULL }), 3);
	err = th_slurp(dir, "stderr");
	events = th_slurp(run, "events.jsonl");
	cr_assert_not_null(events);
	{
		const char *reason = "cannot record samples: No space left on device";
		bool in_record = strstr(events, reason) &&
				 strstr(events, "\"event\":\"safe_state\"");
		bool on_stderr = strstr(err, "/events.jsonl: cannot record (") &&
				 strstr(err, reason) && strstr(err, "\"event\":\"safe_state\"");

		cr_assert(in_record || on_stderr, "the story is lost:\n%s\nstderr:\n%s", events, err);
	}
	free(events);
	cr_assert_eq(umount2(mnt, MNT_DETACH), 0);
	free(err);
	free(mnt);
	free(run);
	free(dir);
	free(bench);
	free(dut);
	free(seq);
}

/* Reproducible "random" moments: a fixed-seed linear congruential generator. */
static uint64_t lcg_next(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return *state >> 33;
}

Test(safety, kill_9_at_random_moments_loses_at_most_one_flush_interval)
{
	/* A 24 h delivery on the virtual clock; the simulator's "crash" fault
	 * sends the process SIGKILL at the first pressure read at or after a
	 * moment drawn from a seeded generator.  Whatever stdio held is lost;
	 * what the recorder handed to the kernel (every flush interval of run
	 * time, 1 s on this bench) must be on disk, contiguous. */
	static const char seq[] =
		"sequence = {\n"
		"  id = \"T-KILL\"; version = \"1\"; title = \"a long delivery\";\n"
		"  steps = (\n"
		"    { step = \"tare\"; timeout = \"5 min\"; },\n"
		"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; },\n"
		"    { step = \"mark\"; window = \"w\"; edge = \"begin\"; },\n"
		"    { step = \"hold\"; duration = \"24 h\"; },\n"
		"    { step = \"mark\"; window = \"w\"; edge = \"end\"; },\n"
		"    { step = \"check\"; check = \"dose_accuracy\"; window = \"w\"; }\n"
		"  );\n"
		"};\n";
	uint64_t rng = 20261125;

	for (int k = 0; k < 3; k++) {
		long long at_ms = 60000 + (long long)(lcg_next(&rng) % (23ULL * 3600 * 1000));
		char insert[160], *dir = th_tmpdir(), *bench, *seqp, *dut = th_src(DUT), *run;
		char *samples, *results, *last_line = NULL;
		long long last_p_s = -1, n_p = 0;
		int st;

		snprintf(insert, sizeof(insert), "faults = ( { role = \"pressure\"; kind = \"crash\"; "
			 "at = \"%lld ms\"; } );", at_ms);
		bench = bench_variant(dir, insert, NULL, NULL);
		seqp = th_write_file(dir, "seq.cfg", seq);
		if (asprintf(&run, "%s/run", dir) < 0)
			abort();
		st = th_rig_wait_raw(th_rig_spawn(dir, (const char *[]){ "run", seqp, "--bench", bench,
			"--dut", dut, "--output", run, "-q", NULL }));
		cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "moment %d: not killed", k);
		samples = th_slurp(run, "samples.csv");
		cr_assert_not_null(samples);
		/* count the complete pressure rows: one a second from 0, no holes */
		for (char *p = samples, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
			char *end;
			long long t_ns = strtoll(p, &end, 10);

			/* line by line: no search over the rest of a 10 MB record */
			if (end != p && strncmp(end, ",pressure,pressure,", 19) == 0) {
				cr_assert_eq(t_ns, n_p * 1000000000LL, "moment %d: a hole before %lld ns",
					     k, t_ns);
				n_p++;
				last_p_s = t_ns / 1000000000LL;
			}
			last_line = p;
		}
		cr_assert_not_null(last_line);
		/* killed at the pressure read at ceil(at); lost: at most the flush
		 * interval (1 s) before it, plus the reads of that instant */
		cr_assert(last_p_s >= (at_ms + 999) / 1000 - 2 && last_p_s < (at_ms + 999) / 1000,
			  "moment %d: killed at %.3f s, last pressure sample on disk at %lld s", k,
			  at_ms / 1e3, last_p_s);
		/* the run directory is readable and says interrupted: exit 3 */
		cr_assert_eq(th_rig(dir, (const char *[]){ "report", run, NULL }), 3);
		results = th_slurp(run, "results.json");
		cr_assert_not_null(strstr(results, "\"status\": \"interrupted\""), "%s", results);
		free(results);
		free(samples);
		free(dir);
		free(bench);
		free(seqp);
		free(dut);
		free(run);
	}
}

/* ---------------------------------------------------- one run per bench -- */

static const char short_seq[] =
	"sequence = {\n"
	"  id = \"T-SHORT\"; version = \"1\"; title = \"short\";\n"
	"  steps = (\n"
	"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; },\n"
	"    { step = \"hold\"; duration = \"10 min\"; },\n"
	"    { step = \"stop\"; }\n"
	"  );\n"
	"};\n";

Test(safety, a_second_run_on_a_busy_bench_is_refused_naming_the_holder)
{
	/* a real first rig holds the bench (real time, in its hold); the
	 * second is refused before it creates anything */
	char *dir = th_tmpdir(), *locks = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *seq = th_write_file(dir, "seq.cfg", short_seq), *run1, *run2, *events, *err, pidtext[32];
	pid_t first;

	setenv("PUMPRIG_LOCK_DIR", locks, 1);
	if (asprintf(&run1, "%s/run1", dir) < 0 || asprintf(&run2, "%s/run2", dir) < 0)
		abort();
	first = th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						 "--output", run1, "--real-time", "-q", NULL });
	events = th_wait_for_text(run1, "events.jsonl", "\"kind\":\"hold\"", 20000);
	cr_assert_not_null(events);
	free(events);
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						"--output", run2, "-q", NULL }), 5);
	err = th_slurp(dir, "stderr");
	snprintf(pidtext, sizeof(pidtext), "pid %d on host ", (int)first);
	cr_assert_not_null(strstr(err, "bench SIM-1 is busy"), "%s", err);
	cr_assert_not_null(strstr(err, pidtext), "%s", err);
	cr_assert_not_null(strstr(err, run1), "%s", err);
	cr_assert_not_null(strstr(err, " since 20"), "%s", err);
	cr_assert_eq(access(run2, F_OK), -1, "the refused run created its directory");
	kill(first, SIGTERM);
	cr_assert_eq(th_rig_wait(first), 3);
	/* let go at the end: the next run gets the bench, no takeover */
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						"--output", run2, "-q", NULL }), 0);
	events = th_slurp(run2, "events.jsonl");
	cr_assert_null(strstr(events, "lock_taken_over"));
	unsetenv("PUMPRIG_LOCK_DIR");
	free(err);
	free(events);
	free(dir);
	free(locks);
	free(bench);
	free(dut);
	free(seq);
	free(run1);
	free(run2);
}

Test(safety, a_lock_left_by_a_crashed_run_is_taken_over_and_noted)
{
	/* the holder line of a run that was killed: the file is there, its
	 * flock went with the process */
	char *dir = th_tmpdir(), *locks = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *seq = th_write_file(dir, "seq.cfg", short_seq), *run, *events, *lockfile, *after;

	free(th_write_file(locks, "SIM-1.lock",
		"{\"pid\":999999,\"host\":\"bench-pc\",\"run_dir\":\"/runs/crashed\","
		"\"since\":\"2026-11-24T03:00:00Z\"}\n"));
	setenv("PUMPRIG_LOCK_DIR", locks, 1);
	if (asprintf(&run, "%s/run", dir) < 0 || asprintf(&lockfile, "%s/SIM-1.lock", locks) < 0)
		abort();
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						"--output", run, "-q", NULL }), 0);
	unsetenv("PUMPRIG_LOCK_DIR");
	events = th_slurp(run, "events.jsonl");
	cr_assert_not_null(strstr(events, "\"event\":\"lock_taken_over\""), "%s", events);
	cr_assert_not_null(strstr(events, "\"run_dir\":\"/runs/crashed\""), "%s", events);
	after = th_read_file(lockfile);
	cr_assert_str_empty(after, "the lock file still names a holder: %s", after);
	free(after);
	free(events);
	free(lockfile);
	free(dir);
	free(locks);
	free(bench);
	free(dut);
	free(seq);
	free(run);
}

/* ------------------------------------------------------------- resume -- */

static const char resume_seq[] =
	"sequence = {\n"
	"  id = \"T-RESUME\"; version = \"1\"; title = \"resume across a crash\";\n"
	"  steps = (\n"
	"    { step = \"tare\"; timeout = \"5 min\"; },\n"
	"    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
	"    { step = \"hold\"; duration = \"30 min\"; },\n"
	"    { step = \"mark\"; window = \"a\"; edge = \"begin\"; },\n"
	"    { step = \"hold\"; duration = \"2 h\"; },\n"
	"    { step = \"mark\"; window = \"a\"; edge = \"end\"; },\n"
	"    { step = \"mark\"; window = \"b\"; edge = \"begin\"; },\n"
	"    { step = \"hold\"; duration = \"2 h\"; },\n"
	"    { step = \"mark\"; window = \"b\"; edge = \"end\"; },\n"
	"    { step = \"mark\"; window = \"c\"; edge = \"begin\"; },\n"
	"    { step = \"hold\"; duration = \"2 h\"; },\n"
	"    { step = \"mark\"; window = \"c\"; edge = \"end\"; },\n"
	"    { step = \"stop\"; },\n"
	"    { step = \"check\"; check = \"dose_accuracy\"; window = \"a\"; },\n"
	"    { step = \"check\"; check = \"dose_accuracy\"; window = \"b\"; },\n"
	"    { step = \"check\"; check = \"dose_accuracy\"; window = \"c\"; }\n"
	"  );\n"
	"};\n";

/* The process is killed at `at` (resume_seq: 210 min, in window b's hold,
 * step 8); the record's files are then aged by 10 min, as if the power came
 * back then. */
static char *crash_and_age_seq_with(const char *dir, const char *seq_text, const char *at,
				    const char *from, const char *to, const char *extra_arg)
{
	char insert[160], *bench, *seq, *dut = th_src(DUT), *run;
	struct timespec aged[2];
	int st;

	snprintf(insert, sizeof(insert), "faults = ( { role = \"pressure\"; kind = \"crash\"; "
		 "at = \"%s\"; duration = \"1 min\"; } );", at);
	bench = bench_variant(dir, insert, from, to);
	seq = th_write_file(dir, "seq.cfg", seq_text);
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	st = th_rig_wait_raw(th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench,
		"--dut", dut, "--output", run, "-q", extra_arg, NULL }));
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	clock_gettime(CLOCK_REALTIME, &aged[0]);
	aged[0].tv_sec -= 600;
	aged[1] = aged[0];
	for (int i = 0; i < 2; i++) {
		char *path;

		if (asprintf(&path, "%s/%s", run, i ? "samples.csv" : "events.jsonl") < 0)
			abort();
		cr_assert_eq(utimensat(AT_FDCWD, path, aged, 0), 0);
		free(path);
	}
	free(bench);
	free(seq);
	free(dut);
	return run;
}

static char *crash_and_age_seq(const char *dir, const char *seq_text, const char *at,
			       const char *from, const char *to)
{
	return crash_and_age_seq_with(dir, seq_text, at, from, to, NULL);
}

static char *crash_and_age(const char *dir, const char *from, const char *to)
{
	return crash_and_age_seq(dir, resume_seq, "210 min", from, to);
}

/* The first event of that name (after *after when given), parsed. */
static json_t *event_named(const char *events, const char *name, const char **after)
{
	char key[64], *copy;
	const char *p, *line;
	json_t *ev;

	snprintf(key, sizeof(key), "\"event\":\"%s\"", name);
	p = strstr(after && *after ? *after : events, key);
	if (!p)
		return NULL;
	for (line = p; line > events && line[-1] != '\n'; line--)
		;
	copy = strndup(line, (size_t)(strchr(p, '\n') - line));
	ev = json_loads(copy, 0, NULL);
	free(copy);
	if (after)
		*after = strchr(p, '\n');
	return ev;
}

static const char *check_field(json_t *checks, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(checks, i), key));
}

Test(safety, resume_continues_after_a_crash_with_the_gap_recorded_and_judged)
{
	char *dir = th_tmpdir(), *run = crash_and_age(dir, NULL, NULL), *events, *samples, *summary;
	char *path, *err, *dumped, *pdf, *words, *word, *save, *row, t_s[32];
	const char *cursor = NULL, *p, *from;
	json_t *resume, *res, *checks, *ev, *gap_ev = NULL;
	double gap_begin_s, gap_s;
	long long first_after = -1;
	size_t k;

	cr_assert_eq(th_rig(dir, (const char *[]){ "resume", run, "-q", NULL }), 1);
	/* the resumed record is sealed at its end, and the seal holds */
	cr_assert_eq(th_rig(dir, (const char *[]){ "verify", run, NULL }), 0);
	events = th_slurp(run, "events.jsonl");
	samples = th_slurp(run, "samples.csv");
	summary = th_slurp(run, "summary.txt");
	resume = event_named(events, "resume", &cursor);
	cr_assert_not_null(resume, "%s", events);
	gap_begin_s = json_number_value(json_object_get(resume, "gap_begin_s"));
	gap_s = json_number_value(json_object_get(resume, "gap_s"));
	/* the last record before the kill at the 12600 s pressure read; the
	 * 10 min the files were aged, and the seconds this test took */
	cr_assert(gap_begin_s >= 12598 && gap_begin_s <= 12600, "gap begins at %.3f s", gap_begin_s);
	cr_assert(gap_s >= 600 && gap_s <= 660, "gap %.3f s", gap_s);
	cr_assert_eq(json_integer_value(json_object_get(resume, "from_step")), 8);
	/* the bench made safe, then the rate set again, before the hold is redone */
	p = strstr(cursor, "\"event\":\"safe_state\"");
	cr_assert_not_null(p);
	cr_assert_not_null(strstr(p, "\"pump\":\"stopped\""));
	cr_assert_not_null(strstr(cursor, "\"event\":\"rate\",\"rate_ml_per_h\":1.0,\"by\":\"resume\""));
	cr_assert_lt(p, strstr(cursor, "\"event\":\"rate\",\"rate_ml_per_h\":1.0,\"by\":\"resume\""));
	cr_assert_lt(strstr(cursor, "\"rate_ml_per_h\":1.0,\"by\":\"resume\""),
		     strstr(cursor, "\"kind\":\"hold\""));
	/* one header, and the time base continues: nothing inside the gap, the
	 * first reading after it at or after gap_begin + gap */
	cr_assert_null(strstr(samples + 1, "\nt_ns,"));
	for (p = samples; (p = strchr(p, '\n')) && p[1]; p++) {
		long long t = strtoll(p + 1, NULL, 10);

		if (t > (long long)(gap_begin_s * 1e9)) {
			first_after = t;
			break;
		}
	}
	cr_assert_geq(first_after, (long long)((gap_begin_s + gap_s) * 1e9), "first after: %lld",
		      first_after);
	/* a (before) and c (after) judged, b (spanning the gap) inconclusive */
	if (asprintf(&path, "%s/results.json", run) < 0)
		abort();
	res = json_load_file(path, 0, NULL);
	cr_assert_not_null(res);
	checks = json_object_get(res, "checks");
	cr_assert_eq(json_array_size(checks), 3);
	cr_assert_str_eq(check_field(checks, 0, "verdict"), "pass");
	cr_assert_str_eq(check_field(checks, 1, "verdict"), "inconclusive");
	cr_assert_not_null(strstr(check_field(checks, 1, "explanation"), "spans a gap in the record"));
	cr_assert_str_eq(check_field(checks, 2, "verdict"), "pass");
	cr_assert_str_eq(json_string_value(json_object_get(res, "status")), "completed");
	/* the gap is a deviation in both reports */
	cr_assert_not_null(strstr(summary, "resume_gap"), "%s", summary);
	dumped = json_dumps(json_object_get(res, "instrument_events"), 0);
	cr_assert_not_null(strstr(dumped, "resume_gap"));
	/* and in the PDF, read back by pdftotext (beside the sealed run, not in
	 * it): the deviation's row with results.json's time, kind and words */
	pdf = report_text(run, dir);
	cr_assert_not_null(pdf, "no readable report.pdf");
	json_array_foreach(json_object_get(res, "instrument_events"), k, ev)
		if (strcmp(json_string_value(json_object_get(ev, "kind")), "resume_gap") == 0)
			gap_ev = ev;
	cr_assert_not_null(gap_ev);
	cr_assert_str_eq(json_string_value(json_object_get(gap_ev, "role")), "run");
	from = strstr(pdf, "resume_gap (run)");
	cr_assert_not_null(from, "the PDF has no resume_gap deviation:\n%s", pdf);
	for (p = from; p > pdf && p[-1] != '\n'; p--)
		;
	row = strndup(p, strcspn(p, "\n"));
	snprintf(t_s, sizeof(t_s), "%.1f", json_number_value(json_object_get(gap_ev, "t_s")));
	cr_assert(strstr(row, t_s) && strstr(row, t_s) < strstr(row, "resume_gap"),
		  "the resume_gap row does not begin with its time %s: %s", t_s, row);
	/* its description, word by word across the lines the cell wrapped into */
	words = strdup(json_string_value(json_object_get(gap_ev, "description")));
	for (word = strtok_r(words, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		from = strstr(from, word);
		cr_assert_not_null(from, "the PDF's resume_gap row lacks '%s'", word);
		from += strlen(word);
	}
	free(words);
	/* window b, judged inconclusive for the gap, says so in the PDF too */
	from = strstr(pdf, "explanation of the verdict");
	cr_assert_not_null(from);
	words = strdup(check_field(checks, 1, "explanation"));
	for (word = strtok_r(words, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		from = strstr(from, word);
		cr_assert_not_null(from, "the PDF's explanation of check 2 lacks '%s'", word);
		from += strlen(word);
	}
	free(words);
	cr_assert_not_null(strstr(pdf, "INCONCLUSIVE"));
	free(row);
	free(pdf);
	/* a run that ended cannot be resumed */
	cr_assert_eq(th_rig(dir, (const char *[]){ "resume", run, "-q", NULL }), 2);
	err = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(err, "nothing to resume"), "%s", err);
	free(err);
	free(dumped);
	free(path);
	json_decref(res);
	json_decref(resume);
	free(events);
	free(samples);
	free(summary);
	free(dir);
	free(run);
}

/* The calibration gate holds on the day of a resume too: a run of days
 * can outlive an instrument's due date.  The run here was started with the
 * operator's leave for an overdue balance; that leave does not carry over
 * to the resume, which must be given it again, and records it. */
Test(safety, resume_refuses_an_overdue_calibration_unless_allowed_again)
{
	char *dir = th_tmpdir(), *run, *before, *after, *err, *pdf;
	const char *cursor = NULL;
	json_t *ev;

	run = crash_and_age_seq_with(dir, resume_seq, "210 min",
				     "date = \"2026-11-16\"; due = \"2028-11-16\"",
				     "date = \"2020-01-15\"; due = \"2021-01-15\"",
				     "--allow-expired-calibration");
	before = th_slurp(run, "events.jsonl");
	cr_assert_eq(th_rig(dir, (const char *[]){ "resume", run, "-q", NULL }), 2);
	err = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(err, "bench.cfg:"), "%s", err);
	cr_assert_not_null(strstr(err, "calibration was due 2021-01-15"), "%s", err);
	cr_assert_not_null(strstr(err, "nothing was resumed"), "%s", err);
	/* refused before anything was touched: the record is as the crash left it */
	after = th_slurp(run, "events.jsonl");
	cr_assert_str_eq(after, before);
	free(after);
	free(err);
	cr_assert_eq(th_rig(dir, (const char *[]){ "resume", run, "-q",
						   "--allow-expired-calibration", NULL }), 1);
	after = th_slurp(run, "events.jsonl");
	ev = event_named(after, "resume", &cursor);
	cr_assert_not_null(ev, "%s", after);
	json_decref(ev);
	/* the leave is recorded after the resume, for the instrument concerned */
	ev = event_named(after, "calibration_expired", &cursor);
	cr_assert_not_null(ev, "no calibration_expired event after the resume:\n%s", after);
	cr_assert_str_eq(json_string_value(json_object_get(ev, "role")), "scale");
	cr_assert_str_eq(json_string_value(json_object_get(ev, "due")), "2021-01-15");
	cr_assert_str_eq(json_string_value(json_object_get(ev, "allowed_by")),
			 "--allow-expired-calibration");
	json_decref(ev);
	/* and the report flags the balance */
	pdf = report_text(run, dir);
	cr_assert_not_null(pdf, "no readable report.pdf");
	cr_assert_not_null(strstr(pdf, "EXPIRED"), "%s", pdf);
	free(pdf);
	free(after);
	free(before);
	free(run);
	free(dir);
}

/* A crashed run reported and signed after the fact stays signed through
 * its resume: without the key the resume refuses (it would have to reseal
 * the run unsigned), with --sign-key it runs and seals it signed again. */
Test(safety, a_signed_run_is_resumed_with_its_key_and_stays_signed)
{
	char *dir = th_tmpdir(), *run = crash_and_age(dir, NULL, NULL), *key, *pub, *err;

	if (asprintf(&key, "%s/station.key", dir) < 0 || asprintf(&pub, "%s.pub", key) < 0)
		abort();
	cr_assert_eq(th_rig(dir, (const char *[]){ "keygen", "--out", key, NULL }), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "report", run, "--sign-key", key, NULL }), 3);
	cr_assert_eq(th_rig(dir, (const char *[]){ "verify", run, "--public-key", pub, NULL }), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "resume", run, "-q", NULL }), 4);
	err = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(err, "signed"), "%s", err);
	free(err);
	cr_assert_eq(th_rig(dir, (const char *[]){ "resume", run, "-q", "--sign-key", key, NULL }),
		     1);
	cr_assert_eq(th_rig(dir, (const char *[]){ "verify", run, "--public-key", pub, NULL }), 0);
	{
		char *events = th_slurp(run, "events.jsonl");

		cr_assert_not_null(strstr(events, "\"event\":\"resume\""), "%s", events);
		free(events);
	}
	free(pub);
	free(key);
	free(run);
	free(dir);
}

/* A resume drives the bench as a run does, so it takes the bench's lock:
 * with another run holding the bench it is refused (exit 5) and touches
 * nothing, and once the bench is free it goes ahead. */
Test(safety, resume_waits_its_turn_for_a_busy_bench)
{
	char *dir = th_tmpdir(), *locks = th_tmpdir(), *run, *other, *seq, *bench = th_src(BENCH);
	char *dut = th_src(DUT), *before, *after, *events, *err;
	pid_t holder;

	setenv("PUMPRIG_LOCK_DIR", locks, 1);
	run = crash_and_age(dir, NULL, NULL);
	before = th_slurp(run, "events.jsonl");
	seq = th_write_file(dir, "other.cfg", short_seq);
	if (asprintf(&other, "%s/other", dir) < 0)
		abort();
	holder = th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						  "--output", other, "--real-time", "-q", NULL });
	events = th_wait_for_text(other, "events.jsonl", "\"kind\":\"hold\"", 20000);
	cr_assert_not_null(events);
	free(events);
	cr_assert_eq(th_rig(dir, (const char *[]){ "resume", run, "-q", NULL }), 5);
	err = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(err, "bench SIM-1 is busy"), "%s", err);
	after = th_slurp(run, "events.jsonl");
	cr_assert_str_eq(after, before);
	free(after);
	kill(holder, SIGTERM);
	cr_assert_eq(th_rig_wait(holder), 3);
	cr_assert_eq(th_rig(dir, (const char *[]){ "resume", run, "-q", NULL }), 1);
	after = th_slurp(run, "events.jsonl");
	cr_assert_not_null(strstr(after, "\"event\":\"resume\""));
	unsetenv("PUMPRIG_LOCK_DIR");
	free(after);
	free(err);
	free(before);
	free(other);
	free(seq);
	free(dut);
	free(bench);
	free(run);
	free(locks);
	free(dir);
}

Test(safety, the_delivered_volume_cap_counts_what_was_delivered_before_a_resume)
{
	/* 3.4 mL went in before the crash; the cap is 5 mL: the resumed run must
	 * stop about 1.6 h later, not 5 h */
	char *dir = th_tmpdir(), *run = crash_and_age(dir, "delivered_max = \"20 mL\"",
						      "delivered_max = \"5 mL\"");
	char *events;
	json_t *resume;
	double delivered, t;

	cr_assert_eq(th_rig(dir, (const char *[]){ "resume", run, "-q", NULL }), 3);
	events = th_slurp(run, "events.jsonl");
	resume = event_named(events, "resume", NULL);
	cr_assert_not_null(resume);
	delivered = json_number_value(json_object_get(resume, "delivered_before_ml"));
	cr_assert(delivered > 3.3 && delivered < 3.5, "delivered before: %.4f mL", delivered);
	cr_assert_not_null(strstr(events, "above the bench limit 5.0000 mL"), "%s", events);
	t = root_fault_s(events) - json_number_value(json_object_get(resume, "gap_begin_s")) -
	    json_number_value(json_object_get(resume, "gap_s"));
	cr_assert(t > 1.5 * 3600 && t < 1.8 * 3600, "cap reached %.0f s after the resume", t);
	json_decref(resume);
	free(events);
	free(dir);
	free(run);
}

Test(safety, resume_does_not_give_an_interrupted_bolus_again)
{
	/* killed 15 min into a 30 min bolus (0.5 mL at 1 mL/h, step 4): part of
	 * it went in, so the resumed run goes on with the hold after it */
	static const char seq[] =
		"sequence = {\n"
		"  id = \"T-BOLUS\"; version = \"1\"; title = \"bolus across a crash\";\n"
		"  steps = (\n"
		"    { step = \"tare\"; timeout = \"5 min\"; },\n"
		"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; },\n"
		"    { step = \"hold\"; duration = \"1 h\"; },\n"
		"    { step = \"bolus\"; volume = \"0.5 mL\"; timeout = \"1 h\"; },\n"
		"    { step = \"hold\"; duration = \"1 h\"; },\n"
		"    { step = \"stop\"; }\n"
		"  );\n"
		"};\n";
	char *dir = th_tmpdir(), *run = crash_and_age_seq(dir, seq, "75 min", NULL, NULL), *events;
	const char *p;
	json_t *resume;
	int n_bolus = 0;

	cr_assert_eq(th_rig(dir, (const char *[]){ "resume", run, "-q", NULL }), 0);
	events = th_slurp(run, "events.jsonl");
	resume = event_named(events, "resume", NULL);
	cr_assert_not_null(resume, "%s", events);
	cr_assert(json_is_true(json_object_get(resume, "skipped_interrupted_bolus")));
	cr_assert_eq(json_integer_value(json_object_get(resume, "from_step")), 5);
	for (p = events; (p = strstr(p, "\"event\":\"bolus\"")); p++)
		n_bolus++;
	cr_assert_eq(n_bolus, 1, "the bolus was given %d times", n_bolus);
	/* the basal rate set again, the sequence completed */
	cr_assert_not_null(strstr(events, "\"rate_ml_per_h\":0.5,\"by\":\"resume\""));
	cr_assert_not_null(strstr(events, "\"status\":\"completed\""));
	json_decref(resume);
	free(events);
	free(dir);
	free(run);
}

Test(safety, an_external_kill_9_in_real_time_leaves_a_readable_interrupted_record)
{
	/* a real SIGKILL from outside, on a real-time run, once the samples of
	 * its first 2 s have reached the file (the run-time flush put them
	 * there: the test waits for them on inotify) */
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT), *run, *samples, *results;
	char *seq = th_write_file(dir, "seq.cfg", short_seq);
	long long n_p = 0;
	pid_t pid;
	int st;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	pid = th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
					       "--output", run, "--real-time", "-q", NULL });
	/* real-time rows carry the time they were read: 2.00x s is "\n200..." */
	samples = th_wait_for_text(run, "samples.csv", "\n200", 20000);
	cr_assert_not_null(samples, "no samples reached the file");
	free(samples);
	kill(pid, SIGKILL);
	st = th_rig_wait_raw(pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	samples = th_slurp(run, "samples.csv");
	for (char *p = samples, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		char *end;
		long long t_ns = strtoll(p, &end, 10);

		/* one a second, read at (a little after) each deadline */
		if (end != p && strncmp(end, ",pressure,pressure,", 19) == 0) {
			n_p++;
			cr_assert(t_ns >= (n_p - 1) * 1000000000LL && t_ns < (n_p - 1) * 1000000000LL + 500000000LL,
				  "pressure row %lld at %lld ns: a hole", n_p, t_ns);
		}
	}
	cr_assert_geq(n_p, 3);
	cr_assert_eq(th_rig(dir, (const char *[]){ "report", run, NULL }), 3);
	results = th_slurp(run, "results.json");
	cr_assert_not_null(strstr(results, "\"status\": \"interrupted\""), "%s", results);
	cr_assert_not_null(strstr(results, "without a run_end event"), "%s", results);
	free(results);
	free(samples);
	free(dir);
	free(bench);
	free(dut);
	free(seq);
	free(run);
}

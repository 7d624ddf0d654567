/* Fault injection through the CLI: whatever ends a run, the bench ends safe
 * (pump stopped, occlusion released), the reason is recorded, the samples up
 * to the fault are on disk, and the exit status says aborted (3).  Here:
 * instruments failing, signals, timed-out steps, the supervisor's sensor
 * guards and a valve that will not answer; the bench's own lines and limits
 * in test_safety_bench.c, the disk and the lock in test_durability.c, resume
 * in test_resume.c. */
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

#include "faults.h"
#include "helpers.h"
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
	cr_assert_not_null(strstr(o.summary, "instrument gap at t = "), "%s", o.summary);
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
	 * limit ends it at 3600..3601 s, inside that spell (a plan within the
	 * hour on paper, whose bolus's wait overruns it: overrun_seq) */
	struct outcome o = run_case(overrun_seq,
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
	struct outcome o = run_case(overrun_seq,
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
	/* and closing it (the simulated bench's backend, as the iio one in
	 * test_wire) says so rather than dropping it */
	cr_assert_not_null(strstr(o.stderr_text, "rig: warning: valve: the valve not left open on "
				  "closing: "), "%s", o.stderr_text);
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

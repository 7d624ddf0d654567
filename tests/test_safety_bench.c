/* Fault injection through the CLI, the bench's own lines and limits: output
 * lines, the emergency stop, a crash of rig itself, the hard limits. */
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
	char *dir = th_tmpdir(), *journal, *out;

	cr_assert_eq(o.status, 3, "%s", o.stderr_text);
	cr_assert_not_null(strstr(o.stderr_text, "crashed; making the bench safe"), "%s",
			   o.stderr_text);
	assert_safe_end(&o, "internal error: rig crashed (SIGSEGV)");
	/* the samples handed to the kernel before the crash are kept: in
	 * virtual time, all but at most one 64 KiB buffer of rows before it
	 * (docs/faults.md, "Durability"; the record's own bytes per second) */
	long long last_row_ns = -1;

	{
		long long last_p_ns = -1;

		for (const char *p = o.samples, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
			char *after;
			long long t = strtoll(p, &after, 10);

			if (after != p && t < 3600 * 1000000000LL) {
				last_row_ns = t;
				if (strncmp(after, ",pressure,", 10) == 0)
					last_p_ns = t;
			}
		}
		cr_assert_gt(last_p_ns, 0, "samples lost");
		{
			double bound_s = th_samples_buffer_span_s(o.samples);

			cr_assert(last_p_ns / 1e9 >= 3600 - bound_s, "last pressure sample at %.0f s, "
				  "more than %.0f s before the crash at 3600 s", last_p_ns / 1e9, bound_s);
		}
	}
	/* the safe state comes after everything the crashed process recorded */
	cr_assert(root_fault_s(o.events) > last_row_ns / 1e9, "fault at %.0f s, last sample at "
		  "%.0f s", root_fault_s(o.events), last_row_ns / 1e9);
	/* the fresh process also judged and sealed the run: the seal holds, and
	 * is the one in the journal the run was made with (beside it) */
	if (asprintf(&journal, "%.*s/seal-journal.jsonl", (int)(strrchr(o.run, '/') - o.run),
		     o.run) < 0)
		abort();
	cr_assert_eq(th_rig(dir, (const char *[]){ "verify", o.run, "--journal", journal, NULL }), 0,
		     "%s", th_slurp(dir, "stdout"));
	out = th_slurp(dir, "stdout");
	cr_assert_not_null(strstr(out, "sealed once, by rig safe at "), "%s", out);
	free(out);
	free(journal);
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

/* 0.47 mL programmed against a 0.5 mL cap (10 min at 1 mL/h and a 0.3 mL
 * bolus), which rig validate accepts; but the basal rate goes on during the
 * bolus's wait, which is the pump's (18 min at 1 mL/h on top of the basal
 * rate), and takes the balance past the cap. */
static const char cap_seq[] =
	"sequence = {\n"
	"  id = \"T-CAP\"; version = \"1\"; title = \"past the cap in a wait\";\n"
	"  steps = (\n"
	"    { step = \"tare\"; timeout = \"5 min\"; },\n"
	"    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"begin\"; },\n"
	"    { step = \"hold\"; duration = \"10 min\"; },\n"
	"    { step = \"bolus\"; volume = \"0.3 mL\"; timeout = \"1 h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"end\"; },\n"
	"    { step = \"stop\"; },\n"
	"    { step = \"check\"; check = \"dose_accuracy\"; window = \"w\"; }\n"
	"  );\n"
	"};\n";

Test(safety, delivered_volume_above_the_hard_cap_aborts_safely)
{
	/* 0.5 mL cap: 7 min of basal after the 3 min start-up delay, then 2
	 * mL/h during the bolus: reached about 21.5 min in, seen at the next
	 * 30 s balance reading */
	struct outcome o = run_case(cap_seq, NULL, "delivered_max = \"20 mL\"",
				    "delivered_max = \"0.5 mL\"");
	double t;

	cr_assert_eq(o.status, 3, "%s", o.stderr_text);
	assert_safe_end(&o, "above the bench limit 0.5000 mL");
	t = root_fault_s(o.events);
	cr_assert(t > 21 * 60 && t < 23 * 60, "aborted at %.0f s", t);
	outcome_free(&o);
}

Test(safety, a_run_past_its_maximum_duration_aborts_safely)
{
	struct outcome o = run_case(overrun_seq, NULL, "duration_max = \"100 h\"",
				    "duration_max = \"1 h\"");
	double t;

	/* valid on paper (55 min of timed steps): the bolus's wait overruns */
	cr_assert_eq(o.status, 3, "%s", o.stderr_text);
	assert_safe_end(&o, "past the bench limit 3600 s");
	t = root_fault_s(o.events);
	cr_assert(t > 3600 && t <= 3601, "aborted at %.3f s", t);
	cr_assert_null(strstr(o.samples, "\n3602000000000,"));
	outcome_free(&o);
}

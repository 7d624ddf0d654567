/* A pump link that times out or goes, on the in-process simulated bench:
 * where the bench allows (pump reconnect), the link is reopened within the
 * bound and the command in flight is carried out exactly once, decided from
 * the pump's own status; otherwise the run ends safe with exit status 3.
 * "Exactly once" is judged from the balance: a bolus given twice would put
 * 0.05 mL more into the vessel than the same run without the fault. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define BOLUS_ML 0.05

/* The bolus is sent at 3630.5 s (tare settled at 30 s, then 3600.5 s), off
 * the 1 s grid of the pump's status polls, so the fault meets the bolus
 * command itself. */
static const char seq_text[] =
	"sequence = {\n"
	"  id = \"T-PUMPLINK\"; version = \"1\"; title = \"a bolus across a pump link fault\";\n"
	"  steps = (\n"
	"    { step = \"tare\"; timeout = \"5 min\"; },\n"
	"    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"begin\"; },\n"
	"    { step = \"hold\"; duration = \"3600.5 s\"; },\n"
	"    { step = \"bolus\"; volume = \"0.05 mL\"; rate = \"1 mL/h\"; timeout = \"1 h\"; },\n"
	"    { step = \"hold\"; duration = \"1 h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"end\"; },\n"
	"    { step = \"hold\"; duration = \"1 min\"; },\n"
	"    { step = \"stop\"; },\n"
	"    { step = \"check\"; check = \"dose_accuracy\"; window = \"w\"; }\n"
	"  );\n"
	"};\n";

struct outcome {
	int status;
	char *events;
	double delivered_ml;
};

/* The shipped simulated bench with a fault and the pump's reconnect bound
 * ("" for none). */
static struct outcome run_with(const char *fault, const char *reconnect)
{
	char *dir = th_tmpdir(), *src = th_src("fixtures/bench/sim.cfg"), *text = th_read_file(src);
	char *bench_text, *bench, *seq, *dut = th_src("fixtures/dut/itp-40.cfg"), *run, *results;
	const char *sim = strstr(text, "simulator"), *brace = strchr(sim, '{');
	const char *pump = strstr(strstr(text, "instruments"), "pump = {");
	struct outcome o = { 0 };
	json_t *res;

	cr_assert_not_null(pump);
	cr_assert_geq(asprintf(&bench_text, "%.*s reconnect = \"%s\"; %.*s\n%s\n%s",
			       (int)(pump + 8 - text), text, reconnect,
			       (int)(brace + 1 - (pump + 8)), pump + 8, fault, brace + 1), 0);
	if (!*reconnect) {   /* no reconnect key at all */
		char *k = strstr(bench_text, " reconnect = \"\";");

		memmove(k, k + 16, strlen(k + 16) + 1);
	}
	bench = th_write_file(dir, "bench.cfg", bench_text);
	seq = th_write_file(dir, "seq.cfg", seq_text);
	cr_assert_geq(asprintf(&run, "%s/run", dir), 0);
	o.status = th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						 "--output", run, "-q", NULL });
	o.events = th_slurp(run, "events.jsonl");
	cr_assert_not_null(o.events, "%s", th_slurp(dir, "stderr"));
	cr_assert_geq(asprintf(&results, "%s/results.json", run), 0);
	res = json_load_file(results, 0, NULL);
	free(results);
	o.delivered_ml = NAN;
	if (res) {
		json_t *c = json_array_get(json_object_get(res, "checks"), 0);
		json_t *d = json_object_get(json_object_get(c, "inputs"), "delivered_ml");

		if (d)
			o.delivered_ml = json_number_value(d);
		json_decref(res);
	}
	free(text);
	free(src);
	free(bench_text);
	free(bench);
	free(seq);
	free(dut);
	free(run);
	free(dir);
	return o;
}

static double reference_delivered_ml(void)
{
	struct outcome o = run_with("", "");
	double d = o.delivered_ml;

	cr_assert_eq(o.status, 0, "%s", o.events);
	cr_assert(isfinite(d));
	free(o.events);
	return d;
}

Test(pump_reconnect, a_bolus_whose_answer_was_lost_is_not_given_twice)
{
	double ref = reference_delivered_ml();
	struct outcome o = run_with("faults = ( { role = \"pump\"; kind = \"lost_reply\"; "
				    "at = \"3630.5 s\"; duration = \"20 s\"; } );", "1 min");
	const char *resync = strstr(o.events, "\"event\":\"pump_resync\"");

	cr_assert_eq(o.status, 0, "%s", o.events);
	cr_assert_not_null(strstr(o.events, "\"event\":\"instrument_fault\",\"role\":\"pump\""),
			   "%s", o.events);
	cr_assert_not_null(strstr(o.events, "\"during\":\"bolus\""), "%s", o.events);
	cr_assert_not_null(resync, "%s", o.events);
	cr_assert_not_null(strstr(resync, "\"applied\":true"), "%s", resync);
	cr_assert_not_null(strstr(resync, "not sent again"), "%s", resync);
	cr_assert_not_null(strstr(o.events, "\"event\":\"instrument_recovered\",\"role\":\"pump\""));
	/* one bolus in the vessel, not two */
	cr_assert(fabs(o.delivered_ml - ref) < BOLUS_ML / 5, "delivered %.5f mL, without the "
		  "fault %.5f mL", o.delivered_ml, ref);
	free(o.events);
}

Test(pump_reconnect, a_bolus_the_pump_never_received_is_sent_again_after_the_gap)
{
	double ref = reference_delivered_ml();
	struct outcome o = run_with("faults = ( { role = \"pump\"; kind = \"no_answer\"; "
				    "at = \"3630.5 s\"; duration = \"20 s\"; } );", "1 min");
	const char *resync = strstr(o.events, "\"event\":\"pump_resync\"");
	const char *rec = strstr(o.events, "\"event\":\"instrument_recovered\"");

	cr_assert_eq(o.status, 0, "%s", o.events);
	cr_assert_not_null(resync, "%s", o.events);
	cr_assert_not_null(strstr(resync, "\"applied\":false"), "%s", resync);
	cr_assert_not_null(strstr(resync, "sent again"), "%s", resync);
	/* the gap: from the failed bolus until the pump answered, at the
	 * first 5 s retry after the 20 s fault */
	cr_assert_not_null(rec);
	{
		double gap = strtod(strstr(rec, "\"gap_s\":") + 8, NULL);

		cr_assert(gap >= 20 && gap <= 25, "gap %.1f s", gap);
	}
	/* the bolus was given once, 20 s late, inside the window */
	cr_assert(fabs(o.delivered_ml - ref) < BOLUS_ML / 5, "delivered %.5f mL, without the "
		  "fault %.5f mL", o.delivered_ml, ref);
	free(o.events);
}

Test(pump_reconnect, without_a_reconnect_bound_a_lost_answer_aborts_safely)
{
	struct outcome o = run_with("faults = ( { role = \"pump\"; kind = \"lost_reply\"; "
				    "at = \"3630.5 s\"; duration = \"20 s\"; } );", "");
	const char *safe = strstr(o.events, "\"event\":\"safe_state\"");

	cr_assert_eq(o.status, 3);
	cr_assert_not_null(strstr(o.events, "pump bolus failed"), "%s", o.events);
	cr_assert_null(strstr(o.events, "pump_resync"));
	/* the stop is carried out, but its answers are lost too while the
	 * fault lasts: the record says what the host could know */
	cr_assert_not_null(safe);
	cr_assert_not_null(strstr(safe, "\"pump\":\"Connection timed out\""), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"pump_stop_attempts\":5"), "%s", safe);
	free(o.events);
}

Test(pump_reconnect, a_link_away_longer_than_the_bound_aborts_safely)
{
	struct outcome o = run_with("faults = ( { role = \"pump\"; kind = \"unplug\"; "
				    "at = \"3630.5 s\"; duration = \"2 min\"; } );", "30 s");
	const char *safe = strstr(o.events, "\"event\":\"safe_state\"");

	cr_assert_eq(o.status, 3);
	cr_assert_not_null(strstr(o.events, "pump link did not come back within 30 s"), "%s",
			   o.events);
	/* the stop is retried until the link is back (the unplug ends at
	 * 3750.5 s; the bound ran out at 3660.5 s) or the attempts run out,
	 * and the outcome is recorded either way */
	cr_assert_not_null(safe);
	cr_assert_not_null(strstr(safe, "\"pump_stop_attempts\""), "%s", safe);
	cr_assert_not_null(strstr(o.events, "\"status\":\"aborted\""));
	free(o.events);
}

/* The blind spots of issue 15, each injected on the simulated bench (or fed
 * to the analysis as a record) and shown flagged or corrected: a balance
 * that drifts, an evaporation far above the stated one, a noisy balance, a
 * line still draining after the prime, an alarm seen only by polling. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "results_read.h"
#include "rig/analysis/gravimetric.h"

#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

/* Runs a shipped sequence on the shipped simulated bench with literal texts
 * replaced (pairs of from, to; NULL-terminated); returns results.json and,
 * in ret_events, the record's events.jsonl text. */
static json_t *run_seq(const char *sequence, const char *const *pairs, char **ret_events)
{
	char *dir = th_tmpdir(), *bench = th_src_edited(dir, BENCH, "bench.cfg", pairs);
	char *seq = th_src(sequence), *dut = th_src(DUT), *out, *path, *ev;
	json_error_t jerr;
	json_t *res;

	if (asprintf(&out, "%s/run", dir) < 0 || asprintf(&path, "%s/run/results.json", dir) < 0 ||
	    asprintf(&ev, "%s/run/events.jsonl", dir) < 0)
		abort();
	th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut, "--output", out,
				      "-q", NULL });
	res = json_load_file(path, 0, &jerr);
	cr_assert_not_null(res, "%s: %s; stderr: %s", path, jerr.text, th_slurp(dir, "stderr"));
	if (ret_events)
		*ret_events = th_read_file(ev);
	free(seq);
	free(dut);
	free(bench);
	free(out);
	free(path);
	free(ev);
	free(dir);
	return res;
}

static size_t events_of_kind(json_t *results, const char *kind)
{
	size_t i, n = 0;
	json_t *e;

	json_array_foreach(json_object_get(results, "instrument_events"), i, e)
		n += !strcmp(json_string_value(json_object_get(e, "kind")), kind);
	return n;
}

/* ------------------------------------------- drift and evaporation -- */

Test(blindspots, a_balance_drifting_1_mg_per_h_is_flagged_and_taken_out, .timeout = 300)
{
	/* A zero drift of +1 mg/h over the 6 h window adds 6 mg to 1.5 g:
	 * +0.4 pp of dose error that the stated 0.05 mg/h correction does not
	 * explain.  Measured with the pump stopped before and after, it is
	 * flagged and added back with the evaporation. */
	json_t *r = run_seq("sequences/dose-accuracy.cfg",
			    (const char *[]){ "drift = \"0 mg/h\"", "drift = \"1 mg/h\"", NULL }, NULL);
	json_t *c = check_named(r, "dose_accuracy");

	cr_assert_geq(events_of_kind(r, "stopped_loss_unexpected"), 2);
	cr_assert(fabs(mval(c, "evaporation") - (0.05 - 1.0)) <= mU(c, "evaporation") + 0.001,
		  "loss %.4f +- %.4f mg/h", mval(c, "evaporation"), mU(c, "evaporation"));
	/* the pump is exact: the error is 0 within U */
	cr_assert(fabs(mval(c, "dose_error")) <= mU(c, "dose_error"),
		  "dose error %+.4f %% +- %.4f", mval(c, "dose_error"), mU(c, "dose_error"));
	json_decref(r);
}

Test(blindspots, evaporation_five_times_the_stated_is_flagged_and_measured, .timeout = 300)
{
	json_t *r = run_seq("sequences/dose-accuracy.cfg",
			    (const char *[]){ "evaporation = \"0.05 mg/h\"",
					      "evaporation = \"0.25 mg/h\"", NULL }, NULL);
	json_t *c = check_named(r, "dose_accuracy");

	cr_assert_geq(events_of_kind(r, "stopped_loss_unexpected"), 2);
	/* the balance reads conventional mass: 0.25 mg/h * 0.99895 */
	cr_assert(fabs(mval(c, "evaporation") - 0.2497) <= mU(c, "evaporation"),
		  "loss %.4f +- %.4f mg/h", mval(c, "evaporation"), mU(c, "evaporation"));
	cr_assert(fabs(mval(c, "dose_error")) <= mU(c, "dose_error"),
		  "dose error %+.4f %% +- %.4f", mval(c, "dose_error"), mU(c, "dose_error"));
	json_decref(r);
}

Test(blindspots, the_stated_evaporation_and_drift_are_not_flagged, .timeout = 300)
{
	json_t *r = run_seq("sequences/dose-accuracy.cfg", NULL, NULL);

	cr_assert_eq(events_of_kind(r, "stopped_loss_unexpected"), 0);
	cr_assert_eq(events_of_kind(r, "stopped_loss_changed"), 0);
	cr_assert_str_eq(verdict(check_named(r, "dose_accuracy")), "pass");
	json_decref(r);
}

/* ----------------------------------------------------------- noise -- */

Test(blindspots, a_noisy_balance_widens_U_instead_of_making_the_check_inconclusive,
     .timeout = 300)
{
	/* 0.15 mg of reading noise: the old fixed threshold (two strokes,
	 * 0.5 mg) sits at 2.4 sigma of an interval's change and fired within
	 * hours; the threshold now follows the measured noise. */
	json_t *quiet = run_seq("sequences/dose-accuracy.cfg", NULL, NULL);
	json_t *noisy = run_seq("sequences/dose-accuracy.cfg",
				(const char *[]){ "noise = \"0.02 mg\"", "noise = \"0.15 mg\"", NULL },
				NULL);
	json_t *cq = check_named(quiet, "dose_accuracy"), *cn = check_named(noisy, "dose_accuracy");

	cr_assert_eq(events_of_kind(noisy, "negative_mass_step"), 0);
	cr_assert_str_eq(verdict(cn), "pass");
	cr_assert(mU(cn, "dose_error") > mU(cq, "dose_error"), "U %.4f noisy, %.4f quiet",
		  mU(cn, "dose_error"), mU(cq, "dose_error"));
	cr_assert(fabs(mval(cn, "dose_error")) <= mU(cn, "dose_error"),
		  "dose error %+.4f %% +- %.4f", mval(cn, "dose_error"), mU(cn, "dose_error"));
	json_decref(quiet);
	json_decref(noisy);
}

/* The detector itself, on readings of a noisy balance: no event from the
 * noise, one from a 3 mg fall. */
static size_t steps_in(double noise_g, double fall_g, unsigned seed)
{
	struct mass_step_detector d;
	struct mass_step st;
	size_t n = 0;

	srand(seed);
	mass_step_init(&d, 0.5e-3);
	for (int i = 0; i < 2000; i++) {
		/* Box-Muller from rand(): the test needs a fixed sequence, not quality */
		double u1 = (rand() + 1.0) / (RAND_MAX + 2.0), u2 = (rand() + 1.0) / (RAND_MAX + 2.0);
		double w = i * 2.08e-3 + noise_g * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2) +
			   (i >= 1000 ? -fall_g : 0);

		n += mass_step_add(&d, (rig_ns)i * 30 * RIG_NS_PER_S, w, &st) == 1;
	}
	return n;
}

Test(blindspots, the_step_threshold_follows_the_measured_noise)
{
	for (unsigned seed = 1; seed <= 5; seed++) {
		cr_assert_eq(steps_in(0.15e-3, 0, seed), 0, "seed %u: noise taken for a step", seed);
		cr_assert_eq(steps_in(0.15e-3, 3e-3, seed), 1, "seed %u: a 3 mg fall not seen", seed);
	}
}

/* ----------------------------------------------------------- drain -- */

Test(blindspots, the_line_draining_after_the_prime_is_waited_out, .timeout = 300)
{
	/* A long, soft line: 2 min to pass a stroke on.  After the prime it
	 * drains for minutes; measured from the first stable reading, the
	 * evaporation came out low and the minimum-rate dose biased. */
	char *ev = NULL;
	json_t *r = run_seq("sequences/dose-accuracy-min.cfg",
			    (const char *[]){ "time_constant = \"5 s\"", "time_constant = \"2 min\"",
					      "line_time_constant = \"5.0 s\"",
					      "line_time_constant = \"2 min\"", NULL }, &ev);
	json_t *c = check_named(r, "dose_accuracy");
	const char *begin = strstr(ev, "\"edge\":\"begin\",\"line_still\":true,\"waited_s\":");
	double waited;

	cr_assert_not_null(begin, "no still line before the evaporation period: %s", ev);
	waited = strtod(begin + strlen("\"edge\":\"begin\",\"line_still\":true,\"waited_s\":"), NULL);
	cr_assert(waited > 180, "waited %.0f s only", waited);
	/* the true loss: 0.05 mg/h of water as a steel-adjusted balance reads it */
	cr_assert(fabs(mval(c, "evaporation_before") - 0.04995) <= mU(c, "evaporation_before"),
		  "loss before %.4f +- %.4f mg/h", mval(c, "evaporation_before"),
		  mU(c, "evaporation_before"));
	cr_assert(fabs(mval(c, "dose_error")) <= mU(c, "dose_error"),
		  "dose error %+.4f %% +- %.4f", mval(c, "dose_error"), mU(c, "dose_error"));
	free(ev);
	json_decref(r);
}

/* ------------------------------------------------------ polled alarm -- */

Test(blindspots, an_alarm_seen_by_polling_carries_the_poll_period_in_its_U, .timeout = 300)
{
	/* The same pump and line twice: once with the alarm line, whose edge
	 * dates the alarm to the nanosecond, once without, when the alarm is
	 * seen in the pump's status polled once a second. */
	static const char *const common[] = {
		"occlusion_alarm_pressure = \"100 kPa\"", "occlusion_alarm_pressure = \"62.5 kPa\"",
		"occlusion_alarm_latency = \"5 s\"", "occlusion_alarm_latency = \"0 s\"",
	};
	const char *line[] = { common[0], common[1], common[2], common[3], NULL };
	const char *polled[] = { common[0], common[1], common[2], common[3],
				 "alarm = { backend = \"sim\"; period = \"1 s\"; };", "", NULL };
	/* and polled every 10 s (the pump's `period`, as fixtures/bench/wire.cfg
	 * asks its status) */
	const char *polled10[] = { common[0], common[1], common[2], common[3],
				   "alarm = { backend = \"sim\"; period = \"1 s\"; };", "",
				   "serial = \"SIM-PUMP\"; };", "serial = \"SIM-PUMP\"; period = \"10 s\"; };",
				   NULL };
	json_t *a = run_seq("sequences/occlusion.cfg", line, NULL);
	json_t *b = run_seq("sequences/occlusion.cfg", polled, NULL);
	json_t *d = run_seq("sequences/occlusion.cfg", polled10, NULL);
	json_t *ca = check_named(a, "occlusion"), *cb = check_named(b, "occlusion");
	json_t *cd = check_named(d, "occlusion");
	double t_line = mval(ca, "time_to_alarm"), t_poll = mval(cb, "time_to_alarm");
	double u_poll = mU(cb, "time_to_alarm"), t_poll10 = mval(cd, "time_to_alarm");
	double u_poll10 = mU(cd, "time_to_alarm");

	cr_assert(mU(ca, "time_to_alarm") < 0.01, "U from the edge %.4f s", mU(ca, "time_to_alarm"));
	/* 95 % of a rectangular +-0.5 s */
	cr_assert(u_poll >= 0.45 && u_poll <= 0.5, "U from polling %.4f s", u_poll);
	cr_assert(fabs(t_poll - t_line) <= u_poll, "polled %.3f s, edge %.3f s, U %.3f s", t_poll,
		  t_line, u_poll);
	/* +-5 s */
	cr_assert(u_poll10 >= 4.5 && u_poll10 <= 5, "U from polling every 10 s %.4f s", u_poll10);
	cr_assert(fabs(t_poll10 - t_line) <= u_poll10, "polled every 10 s %.3f s, edge %.3f s, U %.3f s",
		  t_poll10, t_line, u_poll10);
	json_decref(a);
	json_decref(b);
	json_decref(d);
}

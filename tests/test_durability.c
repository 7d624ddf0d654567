/* Fault injection through the CLI, what survives: a full disk, kill -9 at
 * random moments, and one run per bench (the lock). */
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

Test(safety, kill_9_at_random_moments_in_virtual_time_loses_at_most_one_buffer)
{
	/* A 24 h delivery on the virtual clock; the simulator's "crash" fault
	 * sends the process SIGKILL at the first pressure read at or after a
	 * moment drawn from a seeded generator.  Whatever stdio held is lost;
	 * what the recorder handed to the kernel must be on disk, contiguous,
	 * and reach to within one buffer of the kill (docs/faults.md,
	 * "Durability"). */
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
		/* killed at the pressure read at ceil(at).  In virtual time the
		 * samples go to the kernel at most twice a second of wall time,
		 * and whenever stdio's 64 KiB buffer is full: lost is at most the
		 * run time one buffer of rows spans (this record's own bytes per
		 * second of run time), plus the flush interval (1 s) and the
		 * reads of that instant */
		{
			long long killed_s = (at_ms + 999) / 1000;
			double bound_s = th_samples_buffer_span_s(samples);

			cr_assert(last_p_s < killed_s && last_p_s >= killed_s - bound_s,
				  "moment %d: killed at %.3f s, last pressure sample on disk at %lld s "
				  "(bound: %.0f s)", k, at_ms / 1e3, last_p_s, bound_s);
		}
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
	/* let go at the end: the next run gets the bench, no takeover (and
	 * completes: short_seq has no checks, so exit 1, nothing judged) */
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						"--output", run2, "-q", NULL }), 1);
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
	/* completed; short_seq has no checks: exit 1, nothing judged */
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						"--output", run, "-q", NULL }), 1);
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

/* Every signal, from the table of signal(7): what it does to a real-time run
 * of the real rig binary on the simulated bench, started with every signal
 * at its default disposition and unblocked (as `env --default-signal` leaves
 * it, whatever the test runner inherited).  A signal whose default action
 * ends a process must end the run safe with its name recorded; one that is
 * ignored or continues by default, one that would stop rig (leaving the pump
 * unwatched) and the two the C library keeps for itself must leave the run
 * going to its end.  The table below is this test's own copy of signal(7),
 * not rig's, so a signal rig forgot is caught here. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faults.h"
#include "helpers.h"

enum expect {
	ENDS_SAFE,     /* Term or Core: the run ends, safe, "stopped by signal NAME" */
	CRASH,         /* a crash signal: a fresh rig safe makes the bench safe */
	GOES_ON,       /* Ign, Cont, the stop signals rig refuses, the C library's own */
	NOT_SENT,      /* SIGKILL, SIGSTOP: nothing in a process can answer them */
};

struct row {
	int sig;
	const char *name;
	enum expect what;
};

/* signal(7), "Standard signals": the action column, and what rig makes of it. */
static const struct row standard[] = {
	{ SIGHUP, "SIGHUP", ENDS_SAFE },      /* Term */
	{ SIGINT, "SIGINT", ENDS_SAFE },      /* Term */
	{ SIGQUIT, "SIGQUIT", ENDS_SAFE },    /* Core */
	{ SIGILL, "SIGILL", CRASH },          /* Core */
	{ SIGTRAP, "SIGTRAP", ENDS_SAFE },    /* Core */
	{ SIGABRT, "SIGABRT", CRASH },        /* Core */
	{ SIGBUS, "SIGBUS", CRASH },          /* Core */
	{ SIGFPE, "SIGFPE", CRASH },          /* Core */
	{ SIGKILL, "SIGKILL", NOT_SENT },     /* Term, uncatchable: test_durability.c */
	{ SIGUSR1, "SIGUSR1", ENDS_SAFE },    /* Term */
	{ SIGSEGV, "SIGSEGV", CRASH },        /* Core */
	{ SIGUSR2, "SIGUSR2", ENDS_SAFE },    /* Term */
	{ SIGPIPE, "SIGPIPE", ENDS_SAFE },    /* Term */
	{ SIGALRM, "SIGALRM", ENDS_SAFE },    /* Term */
	{ SIGTERM, "SIGTERM", ENDS_SAFE },    /* Term */
	{ SIGSTKFLT, "SIGSTKFLT", ENDS_SAFE },/* Term */
	{ SIGCHLD, "SIGCHLD", GOES_ON },      /* Ign */
	{ SIGCONT, "SIGCONT", GOES_ON },      /* Cont */
	{ SIGSTOP, "SIGSTOP", NOT_SENT },     /* Stop, uncatchable: docs/faults.md */
	{ SIGTSTP, "SIGTSTP", GOES_ON },      /* Stop: refused */
	{ SIGTTIN, "SIGTTIN", GOES_ON },      /* Stop: ignored */
	{ SIGTTOU, "SIGTTOU", GOES_ON },      /* Stop: ignored */
	{ SIGURG, "SIGURG", GOES_ON },        /* Ign */
	{ SIGXCPU, "SIGXCPU", ENDS_SAFE },    /* Core */
	{ SIGXFSZ, "SIGXFSZ", ENDS_SAFE },    /* Core */
	{ SIGVTALRM, "SIGVTALRM", ENDS_SAFE },/* Term */
	{ SIGPROF, "SIGPROF", ENDS_SAFE },    /* Term */
	{ SIGWINCH, "SIGWINCH", GOES_ON },    /* Ign */
	{ SIGIO, "SIGIO", ENDS_SAFE },        /* Term (SIGPOLL) */
	{ SIGPWR, "SIGPWR", ENDS_SAFE },      /* Term */
	{ SIGSYS, "SIGSYS", ENDS_SAFE },      /* Core */
};

/* Any other number up to SIGRTMAX: a real-time signal (Term), named as
 * bash's kill -l names it, or one of the numbers below SIGRTMIN that glibc
 * keeps for its threads (Term, but no program can catch them: rig blocks
 * them, so the run goes on). */
static struct row row_of(int sig, char name[24])
{
	int mid = SIGRTMIN + (SIGRTMAX - SIGRTMIN) / 2;

	for (size_t i = 0; i < sizeof(standard) / sizeof(standard[0]); i++)
		if (standard[i].sig == sig)
			return standard[i];
	if (sig < SIGRTMIN)
		snprintf(name, 24, "signal %d", sig);
	else if (sig == SIGRTMIN)
		snprintf(name, 24, "SIGRTMIN");
	else if (sig == SIGRTMAX)
		snprintf(name, 24, "SIGRTMAX");
	else if (sig <= mid)
		snprintf(name, 24, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(name, 24, "SIGRTMAX-%d", SIGRTMAX - sig);
	return (struct row){ sig, name, sig < SIGRTMIN ? GOES_ON : ENDS_SAFE };
}

/* The pump delivering into a closed line for 2 s of real time, then the
 * line opened and the pump stopped: a signal sent once the occlusion has
 * begun lands while the valve is closed and the pump runs. */
static const char occluded_seq[] =
	"sequence = {\n"
	"  id = \"T-SIGNALS\"; version = \"1\"; title = \"occluded for two seconds\";\n"
	"  steps = (\n"
	"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; },\n"
	"    { step = \"occlude\"; until = \"duration\"; duration = \"2 s\"; },\n"
	"    { step = \"stop\"; }\n"
	"  );\n"
	"};\n";

struct started {
	char *dir, *run;
	pid_t pid;
};

/* rig run of occluded_seq in real time, returned once the occlusion is in
 * events.jsonl (inotify: no sleeping). */
static struct started start_occluded(const struct th_spawn_opts *opts)
{
	char *dir = th_tmpdir(), *bench = bench_variant(dir, NULL, NULL, NULL), *dut = th_src(DUT);
	char *seq = th_write_file(dir, "seq.cfg", occluded_seq), *run, *events;
	struct started s;

	add_outputs(bench);
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	s.pid = th_rig_spawn_with(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
							 "--output", run, "--real-time", "-q", NULL },
				  opts);
	events = th_wait_for_text(run, "events.jsonl", "\"kind\":\"occlude\"", 20000);
	cr_assert_not_null(events, "the run never reached its occlusion");
	free(events);
	free(bench);
	free(dut);
	free(seq);
	s.dir = dir;
	s.run = run;
	return s;
}

/* Waits for rig; a rig that was stopped instead (the pump left unwatched)
 * is killed and the test fails. */
static int wait_exit(pid_t pid, const char *name)
{
	int status;

	cr_assert_eq(waitpid(pid, &status, WUNTRACED), pid);
	if (WIFSTOPPED(status)) {
		kill(pid, SIGKILL);
		kill(pid, SIGCONT);
		waitpid(pid, &status, 0);
		cr_assert_fail("%s stopped rig: the pump would run with nobody watching", name);
	}
	cr_assert(WIFEXITED(status), "%s ended rig itself (wait status %#x): the pump left "
		  "running, no safe state recorded", name, status);
	return WEXITSTATUS(status);
}

/* The safe state after the signal: pump stopped, the closed line opened,
 * the output lines off, and the reason in events.jsonl (as the root cause)
 * and in results.json's end_reason: exactly reason, or starting with it
 * when !exact. */
static void assert_ended_safe(const char *run, const char *reason, bool exact)
{
	char *events = th_slurp(run, "events.jsonl"), *results = th_slurp(run, "results.json");
	char *want, *line;
	const char *safe, *root, *end;
	json_t *res;

	cr_assert_not_null(events);
	safe = strstr(events, "\"event\":\"safe_state\"");
	cr_assert_not_null(safe, "no safe_state event:\n%s", events);
	cr_assert_not_null(strstr(safe, "\"pump\":\"stopped\""), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"valve\":\"open\""), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"outputs\":{\"pump_enable\":\"off\",\"heater_relay\":\"off\"}"),
			   "%s", safe);
	cr_assert_not_null(strstr(safe, "\"bench_safe\":true"), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"event\":\"run_end\",\"status\":\"aborted\""), "%s", safe);
	/* the root cause's line names it */
	root = strstr(events, "\"root_cause\":true");
	cr_assert_not_null(root, "no root cause:\n%s", events);
	while (root > events && root[-1] != '\n')
		root--;
	line = strndup(root, strcspn(root, "\n"));
	if (asprintf(&want, "\"reason\":\"%s%s", reason, exact ? "\"" : "") < 0)
		abort();
	cr_assert_not_null(strstr(line, want), "the root cause is not '%s': %s", reason, line);
	cr_assert_not_null(results, "no results.json");
	res = json_loads(results, 0, NULL);
	cr_assert_not_null(res);
	cr_assert_str_eq(json_string_value(json_object_get(res, "status")), "aborted");
	end = json_string_value(json_object_get(res, "end_reason"));
	cr_assert_not_null(end);
	cr_assert(exact ? !strcmp(end, reason) : !strncmp(end, reason, strlen(reason)),
		  "end_reason '%s', not '%s'", end, reason);
	json_decref(res);
	free(want);
	free(line);
	free(results);
	free(events);
}

/* The run went to its end as if nothing had been sent. */
static void assert_went_on(const char *run, const char *name)
{
	char *events = th_slurp(run, "events.jsonl");
	const char *safe;

	cr_assert_not_null(events);
	cr_assert_null(strstr(events, "stopped by signal"), "%s stopped the run:\n%s", name, events);
	cr_assert_not_null(strstr(events, "\"event\":\"run_end\",\"status\":\"completed\""),
			   "%s: the run did not complete:\n%s", name, events);
	safe = strstr(events, "\"event\":\"safe_state\"");
	cr_assert_not_null(safe);
	cr_assert_not_null(strstr(safe, "\"pump\":\"stopped\""), "%s", safe);
	free(events);
}

ParameterizedTestParameters(signals, every_signal_from_the_table)
{
	size_t n = (size_t)SIGRTMAX;
	int *sigs = cr_malloc(n * sizeof(*sigs));

	for (size_t i = 0; i < n; i++)
		sigs[i] = (int)i + 1;
	return cr_make_param_array(int, sigs, n, NULL);
}

ParameterizedTest(int *sig, signals, every_signal_from_the_table, .timeout = 120)
{
	char buf[24], reason[96];
	struct row row = row_of(*sig, buf);
	struct started s;
	int status;

	if (row.what == NOT_SENT)
		cr_skip_test("%s cannot be caught (docs/faults.md)", row.name);
	s = start_occluded(&(struct th_spawn_opts){ .own_process_group = true });
	cr_assert_eq(kill(s.pid, *sig), 0);
	status = wait_exit(s.pid, row.name);
	switch (row.what) {
	case ENDS_SAFE:
		cr_assert_eq(status, 3, "%s: exit status %d", row.name, status);
		snprintf(reason, sizeof(reason), "stopped by signal %s", row.name);
		assert_ended_safe(s.run, reason, true);
		break;
	case CRASH:
		cr_assert_eq(status, 3, "%s: exit status %d", row.name, status);
		snprintf(reason, sizeof(reason), "internal error: rig crashed (%s)", row.name);
		assert_ended_safe(s.run, reason, false);
		break;
	default:
		/* no checks in the sequence: nothing judged, exit 1 */
		cr_assert_neq(status, 3, "%s: exit status %d", row.name, status);
		assert_went_on(s.run, row.name);
		if (*sig == SIGTSTP) {
			char *err = th_slurp(s.dir, "stderr");

			cr_assert_not_null(strstr(err, "not suspended"), "%s", err);
			free(err);
		}
		break;
	}
	free(s.dir);
	free(s.run);
}

Test(signals, a_signal_ignored_or_blocked_by_whoever_started_rig_still_ends_the_run_safely)
{
	/* a background job of a shell script ignores SIGINT and SIGQUIT, nohup
	 * ignores SIGHUP, a parent may leave signals blocked: rig takes them
	 * back, so the signal an operator sends does what it says instead of
	 * nothing (after which kill -9 would leave the pump running) */
	static const int ignored[] = { SIGINT, SIGQUIT, SIGHUP, 0 }, blocked[] = { SIGTERM, SIGUSR1, 0 };
	static const int sent[] = { SIGQUIT, SIGUSR1 };
	static const char *const names[] = { "SIGQUIT", "SIGUSR1" };

	for (size_t i = 0; i < 2; i++) {
		struct started s = start_occluded(&(struct th_spawn_opts){ .ignored = ignored,
			.blocked = blocked, .own_process_group = true });
		char reason[64];

		kill(s.pid, sent[i]);
		cr_assert_eq(wait_exit(s.pid, names[i]), 3, "%s", names[i]);
		snprintf(reason, sizeof(reason), "stopped by signal %s", names[i]);
		assert_ended_safe(s.run, reason, true);
		free(s.dir);
		free(s.run);
	}
}

Test(signals, a_file_size_limit_with_sigxfsz_at_its_default_is_a_full_disk_not_a_death)
{
	/* RLIMIT_FSIZE reached, SIGXFSZ at its default (end with a core): the
	 * kernel's SIGXFSZ to rig itself must not end rig; the write fails with
	 * EFBIG and the run aborts safely as on a full disk */
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *seq = th_write_file(dir, "seq.cfg", delivery_seq), *run, *events, *safe;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	cr_assert_eq(wait_exit(th_rig_spawn_with(dir, (const char *[]){ "run", seq, "--bench", bench,
		"--dut", dut, "--output", run, "-q", NULL },
		&(struct th_spawn_opts){ .fsize_bytes = 256 * 1024 }), "SIGXFSZ"), 3);
	events = th_slurp(run, "events.jsonl");
	cr_assert_not_null(strstr(events, "cannot record samples: File too large"), "%s", events);
	cr_assert_null(strstr(events, "stopped by signal"), "%s", events);
	safe = strstr(events, "\"event\":\"safe_state\"");
	cr_assert_not_null(safe, "%s", events);
	cr_assert_not_null(strstr(safe, "\"pump\":\"stopped\""), "%s", safe);
	cr_assert_not_null(strstr(safe, "\"valve\":\"open\""), "%s", safe);
	free(events);
	free(dir);
	free(bench);
	free(dut);
	free(seq);
	free(run);
}

Test(signals, a_signal_to_rig_report_waits_until_its_outputs_and_the_seal_are_written)
{
	/* a crashed 24-hour record (about 280 000 rows): rig report judges
	 * it, writes its outputs and seals it after the fact.  SIGTERM lands as
	 * soon as junit.xml is there, while the tables and the report are being
	 * written: rig must finish them and the seal, then end by the signal,
	 * leaving a run that verifies and no half-written file */
	char *dir = th_tmpdir(), *dut = th_src(DUT), *seq = th_src("sequences/dose-accuracy-24h.cfg");
	char *bench = bench_variant(dir, "faults = ( { role = \"pressure\"; kind = \"crash\"; "
				    "at = \"20 h\"; duration = \"1 min\"; } );", NULL, NULL);
	char *run, *junit, *cmd;
	pid_t pid;
	int st;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	st = th_rig_wait_raw(th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench,
		"--dut", dut, "--output", run, "-q", NULL }));
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	if (asprintf(&cmd, "%s/SHA256SUMS", run) < 0)
		abort();
	cr_assert_eq(access(cmd, F_OK), -1, "the crashed run has no seal yet");
	free(cmd);
	pid = th_rig_spawn(dir, (const char *[]){ "report", run, NULL });
	junit = th_wait_for_text(run, "junit.xml", "</testsuites>", 60000);
	cr_assert_not_null(junit, "rig report never wrote junit.xml");
	free(junit);
	kill(pid, SIGTERM);
	st = th_rig_wait_raw(pid);
	/* obeyed, after the writing */
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "wait status %#x", st);
	cr_assert_eq(th_rig(dir, (const char *[]){ "verify", run, NULL }), 0,
		     "the run does not verify after rig report was stopped");
	/* nothing half written left beside the outputs */
	if (asprintf(&cmd, "find '%s' -name '*.tmp' | grep -q .", run) < 0)
		abort();
	cr_assert_neq(system(cmd), 0, "a .tmp file was left in the run");
	free(cmd);
	free(run);
	free(bench);
	free(seq);
	free(dut);
	free(dir);
}

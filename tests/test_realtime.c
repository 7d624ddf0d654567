/* bench.realtime_priority: a run on the real clock samples under SCHED_FIFO
 * with its memory locked where the system permits, goes on in the ordinary
 * scheduler (and says so) where it does not, and ignores the option in
 * virtual time.  What the kernel holds of the running rig is read from
 * /proc/PID, not from what rig says of itself. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define DUT "fixtures/dut/itp-40.cfg"
#define HOLD_SEQ "sequence = { id = \"RT\"; version = \"1\"; title = \"rt\";\n" \
		 "  steps = ( { step = \"hold\"; duration = \"3 s\"; } ); };\n"

static char *rt_bench(const char *dir, const char *priority_line)
{
	return th_src_edited(dir, "fixtures/bench/sim.cfg", "bench.cfg", (const char *[]){
		"  clock_uncertainty = \"20 ppm\";\n", priority_line, NULL });
}

/* The scheduling policy and real-time priority of pid (proc(5): stat fields
 * 40 and 41) and its locked memory (status: VmLck, kB). */
struct sched_seen {
	int rt_priority, policy;
	long vm_lck_kb;
};

static bool proc_sched(pid_t pid, struct sched_seen *s)
{
	char path[64], *text, *p;
	int field = 2;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	text = th_read_file(path);
	if (!text)
		return false;
	p = strrchr(text, ')');   /* the command name may hold spaces */
	cr_assert_not_null(p);
	for (p++; *p && field < 40; p++)
		if (*p == ' ')
			field++;
	cr_assert_eq(sscanf(p, "%d %d", &s->rt_priority, &s->policy), 2, "%s", text);
	free(text);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	text = th_read_file(path);
	if (!text)
		return false;
	p = strstr(text, "VmLck:");
	cr_assert_not_null(p);
	s->vm_lck_kb = strtol(p + 6, NULL, 10);
	free(text);
	return true;
}

/* Waits until the run's record holds its "realtime" event and returns it. */
static json_t *realtime_event(const char *run)
{
	char *path;
	json_t *ev = NULL;

	if (asprintf(&path, "%s/events.jsonl", run) < 0)
		abort();
	for (int i = 0; i < 500 && !ev; i++) {
		char *text = th_read_file(path), *line;

		for (line = text ? strstr(text, "\"event\":\"realtime\"") : NULL; line && line > text &&
		     line[-1] != '\n'; line--)
			;
		if (line) {
			char *nl = strchr(line, '\n');

			if (nl) {
				*nl = '\0';
				ev = json_loads(line, 0, NULL);
			}
		}
		free(text);
		if (!ev)
			nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	free(path);
	cr_assert_not_null(ev, "no realtime event in %s within 5 s", run);
	return ev;
}

/* The report's identification says what the run ran under (its Scheduler row). */
static void report_says(const char *run, const char *scheduler)
{
	char *html = th_slurp(run, "report.html");

	cr_assert_not_null(html);
	cr_assert_not_null(strstr(html, scheduler), "no \"%s\" in %s/report.html", scheduler, run);
	free(html);
}

/* What the kernel's PM QoS holds the CPUs' wake-up latency to, in us, as
 * /dev/cpu_dma_latency reads back (its aggregate of every request). */
static int32_t cpu_dma_latency_us(void)
{
	int32_t v = -1;
	FILE *f = fopen("/dev/cpu_dma_latency", "rb");

	cr_assert_not_null(f, "/dev/cpu_dma_latency: %s", strerror(errno));
	cr_assert_eq(fread(&v, sizeof(v), 1, f), 1);
	fclose(f);
	return v;
}

/* Whether process pid has /dev/cpu_dma_latency open (/proc/PID/fd). */
static bool holds_cpu_dma_latency(pid_t pid)
{
	char dir[64], path[320], target[256];
	struct dirent *d;
	bool found = false;
	DIR *fds;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	fds = opendir(dir);
	cr_assert_not_null(fds, "%s: %s", dir, strerror(errno));
	while (!found && (d = readdir(fds))) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			found = strcmp(target, "/dev/cpu_dma_latency") == 0;
		}
	}
	closedir(fds);
	return found;
}

Test(realtime, a_real_time_run_samples_under_sched_fifo_with_its_memory_locked, .timeout = 60)
{
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", HOLD_SEQ), *dut = th_src(DUT);
	char *bench = rt_bench(dir, "  clock_uncertainty = \"20 ppm\";\n  realtime_priority = 50;\n");
	char *run, *text;
	struct sched_seen s;
	json_t *ev;
	pid_t pid;

	if (geteuid() != 0)
		cr_assert_fail("needs root for SCHED_FIFO (CI runs as root)");
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	pid = th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
					       "--output", run, "--real-time", "-q", NULL });
	ev = realtime_event(run);
	/* the kernel's view of the process, during the hold */
	cr_assert(proc_sched(pid, &s));
	cr_assert_eq(s.policy, 1, "policy %d (1 is SCHED_FIFO)", s.policy);
	cr_assert_eq(s.rt_priority, 50);
#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer makes mlockall a no-op that succeeds (its shadow
	 * memory could not be locked): rig under it locks nothing */
	(void)s.vm_lck_kb;
#else
	cr_assert_gt(s.vm_lck_kb, 0, "no memory locked");
#endif
	/* the kernel's PM QoS target, as it reads it back: 0 us while rig
	 * holds it (the default is 2000 s), and rig is a holder: its open
	 * descriptors in /proc name the device (a lockstep run of another
	 * test may hold it too, so the value alone proves nothing) */
	cr_assert_eq(cpu_dma_latency_us(), 0);
	cr_assert(holds_cpu_dma_latency(pid), "rig holds no /dev/cpu_dma_latency");
	cr_assert_eq(th_rig_wait(pid), 1);   /* a hold alone judges nothing */
	cr_assert_str_eq(json_string_value(json_object_get(ev, "scheduler")), "SCHED_FIFO");
	cr_assert(json_is_true(json_object_get(ev, "memory_locked")));
	cr_assert(json_is_null(json_object_get(ev, "scheduler_error")));
	cr_assert(json_is_true(json_object_get(ev, "cpu_dma_latency_0")));
	text = th_slurp(dir, "stderr");
	cr_assert_null(strstr(text, "realtime_priority"), "%s", text);
	free(text);
	report_says(run, "SCHED_FIFO 50 asked: SCHED_FIFO; memory locked; CPUs kept from slow idle "
		    "states: yes");
	json_decref(ev);
	free(run);
	free(bench);
	free(dut);
	free(seq);
	free(dir);
}

Test(realtime, where_it_is_not_permitted_the_run_goes_on_in_the_ordinary_scheduler_and_says_so,
     .timeout = 60)
{
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", HOLD_SEQ), *dut = th_src(DUT);
	char *bench = rt_bench(dir, "  clock_uncertainty = \"20 ppm\";\n  realtime_priority = 50;\n");
	char *run, *err_path, *journal, *text, *events;
	struct sched_seen s;
	int status;
	json_t *ev;
	pid_t pid;

	if (geteuid() != 0)
		cr_assert_fail("needs root to become nobody (CI runs as root)");
	chmod(dir, 0777);
	chmod(bench, 0644);
	chmod(seq, 0644);
	if (asprintf(&run, "%s/run", dir) < 0 || asprintf(&err_path, "%s/stderr", dir) < 0 ||
	    asprintf(&journal, "%s/seal-journal.jsonl", dir) < 0)
		abort();
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		/* nobody, in the ordinary scheduler, memory lock limited as for any user */
		if (!freopen("/dev/null", "w", stdout) || !freopen(err_path, "w", stderr) ||
		    setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
			_exit(99);
		setenv("PUMPRIG_OPERATOR", "Test Operator", 1);
		setenv("PUMPRIG_LOCK_DIR", dir, 1);
		setenv("PUMPRIG_JOURNAL", journal, 1);
		if (chdir(dir) != 0)
			_exit(99);
		execl(RIG_BINARY, RIG_BINARY, "run", seq, "--bench", bench, "--dut", dut, "--output",
		      run, "--real-time", "-q", (char *)NULL);
		_exit(98);
	}
	ev = realtime_event(run);
	cr_assert(proc_sched(pid, &s));
	cr_assert_eq(s.policy, 0, "policy %d (0 is SCHED_OTHER)", s.policy);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	/* every step ran: the option never stops a run */
	events = th_slurp(run, "events.jsonl");
	cr_assert_not_null(strstr(events, "\"status\":\"completed\""), "%s", events);
	cr_assert_str_eq(json_string_value(json_object_get(ev, "scheduler")), "SCHED_OTHER");
	cr_assert_str_eq(json_string_value(json_object_get(ev, "scheduler_error")), strerror(EPERM));
	cr_assert(json_is_false(json_object_get(ev, "memory_locked")));
	text = th_read_file(err_path);
	cr_assert_not_null(strstr(text, "realtime_priority = 50: SCHED_FIFO not permitted"), "%s", text);
	cr_assert_not_null(strstr(text, "memory not locked"), "%s", text);
	/* /dev/cpu_dma_latency is root's alone (mode 0600) */
	cr_assert_not_null(strstr(text, "/dev/cpu_dma_latency not held at 0 (Permission denied)"),
			   "%s", text);
	cr_assert(json_is_false(json_object_get(ev, "cpu_dma_latency_0")));
	free(text);
	report_says(run, "SCHED_FIFO 50 asked: SCHED_OTHER, refused: Operation not permitted; "
		    "memory not locked");
	report_says(run, "CPUs kept from slow idle states: no, Permission denied");
	free(events);
	json_decref(ev);
	free(journal);
	free(err_path);
	free(run);
	free(bench);
	free(dut);
	free(seq);
	free(dir);
}

Test(realtime, in_virtual_time_the_option_is_recorded_as_not_applied)
{
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", HOLD_SEQ), *dut = th_src(DUT);
	char *bench = rt_bench(dir, "  clock_uncertainty = \"20 ppm\";\n  realtime_priority = 50;\n");
	char *run;
	json_t *ev;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", run, "-q", NULL }), 1);
	ev = realtime_event(run);
	cr_assert_str_eq(json_string_value(json_object_get(ev, "scheduler")), "SCHED_OTHER");
	cr_assert_not_null(strstr(json_string_value(json_object_get(ev, "why_not")), "virtual time"));
	json_decref(ev);
	free(run);
	free(bench);
	free(dut);
	free(seq);
	free(dir);
}

Test(realtime, a_priority_that_is_not_a_whole_number_from_1_to_99_is_refused_with_its_line)
{
	static const char *const bad[] = { "0", "100", "2.5", "\"50\"", "-1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", HOLD_SEQ);
		char *dut = th_src(DUT), *line, *bench, *err;

		if (asprintf(&line, "  clock_uncertainty = \"20 ppm\";\n  realtime_priority = %s;\n",
			     bad[i]) < 0)
			abort();
		bench = rt_bench(dir, line);
		cr_assert_eq(th_rig(dir, (const char *[]){ "validate", seq, "--bench", bench, "--dut",
							   dut, NULL }), 2, "%s", bad[i]);
		err = th_slurp(dir, "stderr");
		/* the line of the key in the bench file (line 26 of the edited copy) */
		cr_assert_not_null(strstr(err, "bench.cfg:26:"), "%s: %s", bad[i], err);
		cr_assert_not_null(strstr(err, "realtime_priority"), "%s: %s", bad[i], err);
		free(err);
		free(bench);
		free(line);
		free(dut);
		free(seq);
		free(dir);
	}
}

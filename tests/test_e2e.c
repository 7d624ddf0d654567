/* End to end through the CLI: the built `rig` binary runs shipped and
 * modified files on the simulated bench; the test reads what it wrote.
 * The simulator is told a rate error; the analysis must recover it from the
 * recorded samples alone. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "results_read.h"

#define SEQ "sequences/dose-accuracy.cfg"
#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

/* Replaces the quoted value after `key =` (first occurrence) in text. */
static char *with_value(const char *text, const char *key, const char *value)
{
	const char *k = strstr(text, key), *q1, *q2;
	char *out;

	cr_assert_not_null(k, "no key %s", key);
	q1 = strchr(k, '"');
	cr_assert_not_null(q1);
	q2 = strchr(q1 + 1, '"');
	cr_assert_not_null(q2);
	if (asprintf(&out, "%.*s%s%s", (int)(q1 + 1 - text), text, value, q2) < 0)
		abort();
	return out;
}

/* A copy of the shipped bench with one simulator value changed. */
static char *bench_with(const char *dir, const char *key, const char *value)
{
	char *path = th_src(BENCH), *text = th_read_file(path), *changed, *out;

	cr_assert_not_null(text);
	changed = with_value(text, key, value);
	out = th_write_file(dir, "bench.cfg", changed);
	free(path);
	free(text);
	free(changed);
	return out;
}

static json_t *results(const char *run_dir)
{
	char *path;
	json_t *root;
	json_error_t jerr;

	if (asprintf(&path, "%s/results.json", run_dir) < 0)
		abort();
	root = json_load_file(path, 0, &jerr);
	cr_assert_not_null(root, "%s: %s", path, jerr.text);
	free(path);
	return root;
}

static double dose_error_pct(const char *run_dir, const char **verdict)
{
	json_t *root = results(run_dir), *c = check_named(root, "dose_accuracy");
	double v = json_number_value(json_object_get(c, "measured"));

	cr_assert(json_is_number(json_object_get(c, "measured")), "no measured value");
	*verdict = strcmp(json_string_value(json_object_get(c, "verdict")), "pass") == 0 ? "pass"
										     : "fail";
	json_decref(root);
	return v;
}

static char *run_dir_in(const char *dir)
{
	char *p;

	if (asprintf(&p, "%s/run", dir) < 0)
		abort();
	return p;
}

static void run_with_rate_error(const char *rate_error, int *status, double *err_pct,
				const char **verdict)
{
	char *dir = th_tmpdir(), *bench = bench_with(dir, "rate_error", rate_error);
	char *seq = th_src(SEQ), *dut = th_src(DUT), *run = run_dir_in(dir);

	*status = th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
					     "--output", run, "--quiet", NULL });
	*err_pct = dose_error_pct(run, verdict);
	free(dir);
	free(bench);
	free(seq);
	free(dut);
	free(run);
}

Test(e2e, shipped_sequence_passes_on_a_nominal_pump)
{
	int status;
	double e;
	const char *verdict;

	run_with_rate_error("0 %", &status, &e, &verdict);
	cr_assert_eq(status, 0);
	cr_assert_str_eq(verdict, "pass");
	cr_assert_lt(fabs(e), 0.5, "nominal pump measured %+.3f %%", e);
}

Test(e2e, a_pump_20_percent_fast_fails_and_is_measured_so)
{
	int status;
	double e;
	const char *verdict;

	run_with_rate_error("20 %", &status, &e, &verdict);
	cr_assert_eq(status, 1);
	cr_assert_str_eq(verdict, "fail");
	cr_assert_lt(fabs(e - 20.0), 1.0, "measured %+.3f %%", e);
}

Test(e2e, a_pump_3_percent_fast_passes_and_is_measured_so)
{
	int status;
	double e;
	const char *verdict;

	run_with_rate_error("3 %", &status, &e, &verdict);
	cr_assert_eq(status, 0);
	cr_assert_str_eq(verdict, "pass");
	cr_assert_lt(fabs(e - 3.0), 0.5, "measured %+.3f %%", e);
}

Test(e2e, a_pump_5_percent_slow_is_measured_so)
{
	int status;
	double e;
	const char *verdict;

	run_with_rate_error("-5 %", &status, &e, &verdict);
	cr_assert_eq(status, 0);
	cr_assert_lt(fabs(e + 5.0), 0.5, "measured %+.3f %%", e);
}

/* The pump's own delivered total (role pump, quantity delivered) last
 * written at or before t_ns, from samples.csv. */
static double pump_delivered_at(const char *run_dir, long long t_ns)
{
	char *text = th_slurp(run_dir, "samples.csv"), *line, *save = NULL;
	double v = NAN;

	cr_assert_not_null(text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		long long t = strtoll(line, NULL, 10);
		const char *rest = strchr(line, ',');

		if (rest && t <= t_ns && strncmp(rest, ",pump,delivered,", 16) == 0)
			v = strtod(rest + 16, NULL);
	}
	free(text);
	return v;
}

Test(e2e, the_pumps_own_account_is_recorded_and_agrees_with_the_balance)
{
	/* a pump 3 % fast: its telemetry (strokes counted by the pump) and the
	 * balance are two instruments; over the dose window each must see about
	 * 3 % more than the 1.5 mL programmed */
	char *dir = th_tmpdir(), *bench = bench_with(dir, "rate_error", "3 %");
	char *seq = th_src(SEQ), *dut = th_src(DUT), *run = run_dir_in(dir), *events;
	const char *b, *e;
	double pump_ml, err_pct;
	const char *verdict;

	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", run, "--quiet", NULL }), 0);
	events = th_slurp(run, "events.jsonl");
	b = strstr(events, "\"event\":\"mark\",\"window\":\"steady\",\"edge\":\"begin\"");
	e = strstr(events, "\"event\":\"mark\",\"window\":\"steady\",\"edge\":\"end\"");
	cr_assert(b && e, "%s", events);
	while (b > events && b[-1] != '\n')
		b--;
	while (e > events && e[-1] != '\n')
		e--;
	pump_ml = pump_delivered_at(run, strtoll(strstr(e, "\"t_ns\":") + 7, NULL, 10)) -
		  pump_delivered_at(run, strtoll(strstr(b, "\"t_ns\":") + 7, NULL, 10));
	err_pct = dose_error_pct(run, &verdict);
	/* one stroke (0.25 uL) either side is the telemetry's resolution */
	cr_assert(fabs(pump_ml - 1.5 * 1.03) < 2 * 0.25e-3 + 1e-9, "pump says %.6f mL", pump_ml);
	cr_assert(fabs(100 * (pump_ml - 1.5) / 1.5 - err_pct) < 0.1,
		  "pump %+.3f %% against the balance %+.3f %%", 100 * (pump_ml - 1.5) / 1.5, err_pct);
	free(events);
	free(dir);
	free(bench);
	free(seq);
	free(dut);
	free(run);
}

Test(e2e, the_run_directory_holds_the_record)
{
	char *dir = th_tmpdir(), *seq = th_src(SEQ), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *run = run_dir_in(dir), *events, *samples, *summary, *copy, *orig;
	int status = th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						"--output", run, NULL });

	cr_assert_eq(status, 0);
	samples = th_slurp(run, "samples.csv");
	events = th_slurp(run, "events.jsonl");
	summary = th_slurp(run, "summary.txt");
	cr_assert_not_null(samples);
	cr_assert_not_null(events);
	cr_assert_not_null(summary);
	cr_assert(strncmp(samples, "t_ns,role,quantity,value,unit,flags\n", 36) == 0);
	cr_assert_not_null(strstr(samples, ",scale,mass,"));
	cr_assert_not_null(strstr(samples, ",pressure,pressure,"));
	cr_assert_not_null(strstr(samples, ",power,current,"));
	/* the run ends with the bench made safe and says so */
	cr_assert_not_null(strstr(events, "\"event\":\"safe_state\""));
	cr_assert_not_null(strstr(events, "\"pump\":\"stopped\""));
	cr_assert_not_null(strstr(events, "\"valve\":\"open\""));
	cr_assert_not_null(strstr(events, "\"status\":\"completed\""));
	cr_assert_not_null(strstr(summary, "Overall: pass"));
	/* the inputs are copied byte for byte */
	copy = th_slurp(run, "inputs/sequence.cfg");
	orig = th_read_file(seq);
	cr_assert_str_eq(copy, orig);
	free(copy);
	free(orig);
	free(samples);
	free(events);
	free(summary);
	free(dir);
	free(seq);
	free(bench);
	free(dut);
	free(run);
}

Test(e2e, report_regenerates_the_same_results_from_raw_data)
{
	char *dir = th_tmpdir(), *seq = th_src(SEQ), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *run = run_dir_in(dir), *first, *second, *path;

	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						"--output", run, "-q", NULL }), 0);
	first = th_slurp(run, "results.json");
	if (asprintf(&path, "%s/results.json", run) < 0)
		abort();
	unlink(path);
	cr_assert_eq(th_rig(dir, (const char *[]){ "report", run, NULL }), 0);
	second = th_slurp(run, "results.json");
	cr_assert_not_null(second);
	cr_assert_str_eq(first, second);
	free(path);
	free(first);
	free(second);
	free(dir);
	free(seq);
	free(bench);
	free(dut);
	free(run);
}

Test(e2e, an_existing_run_directory_is_never_overwritten)
{
	char *dir = th_tmpdir(), *seq = th_src(SEQ), *bench = th_src(BENCH), *dut = th_src(DUT);
	char *run = run_dir_in(dir), *marker, *text;

	cr_assert_eq(mkdir(run, 0755), 0);
	marker = th_write_file(run, "keep.txt", "precious");
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						"--output", run, "-q", NULL }), 2);
	text = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(text, "already exists"), "stderr: %s", text);
	free(text);
	text = th_read_file(marker);
	cr_assert_str_eq(text, "precious");
	free(text);
	free(marker);
	free(dir);
	free(seq);
	free(bench);
	free(dut);
	free(run);
}

Test(e2e, validate_accepts_the_shipped_files)
{
	char *dir = th_tmpdir(), *seq = th_src(SEQ), *bench = th_src(BENCH), *dut = th_src(DUT);

	cr_assert_eq(th_rig(dir, (const char *[]){ "validate", seq, "--bench", bench, "--dut", dut,
						NULL }), 0);
	free(dir);
	free(seq);
	free(bench);
	free(dut);
}

Test(e2e, bad_input_is_exit_2_with_file_and_line_and_touches_nothing)
{
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT), *text;
	char *run = run_dir_in(dir);
	char *seq = th_write_file(dir, "bad.cfg",
		"sequence = {\n"
		"  id = \"BAD\"; version = \"1\"; title = \"bad\";\n"
		"  steps = (\n"
		"    { step = \"set_rate\"; rate = \"0.5\"; },\n"
		"    { step = \"dance\"; }\n"
		"  );\n"
		"};\n");
	struct stat st;

	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						"--output", run, NULL }), 2);
	text = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(text, "bad.cfg:4:"), "stderr: %s", text);
	cr_assert_not_null(strstr(text, "bad.cfg:5:"), "stderr: %s", text);
	/* no run directory: nothing was opened or recorded */
	cr_assert_neq(stat(run, &st), 0);
	free(text);
	free(dir);
	free(seq);
	free(bench);
	free(dut);
	free(run);
}

Test(e2e, usage_errors_are_exit_2_and_help_is_exit_0)
{
	char *dir = th_tmpdir(), *text;

	cr_assert_eq(th_rig(dir, (const char *[]){ "frobnicate", NULL }), 2);
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", NULL }), 2);
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", "--help", NULL }), 0);
	text = th_slurp(dir, "stdout");
	cr_assert_not_null(strstr(text, "Usage: rig run"));
	free(text);
	cr_assert_eq(th_rig(dir, (const char *[]){ "validate", "--help", NULL }), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "report", "--help", NULL }), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "--version", NULL }), 0);
	text = th_slurp(dir, "stdout");
	cr_assert(strncmp(text, "pumprig ", 8) == 0, "version: %s", text);
	free(text);
	free(dir);
}

static long long monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The first event of a record, parsed. */
static json_t *first_event(const char *run_dir)
{
	char *text = th_slurp(run_dir, "events.jsonl"), *nl;
	json_error_t jerr;
	json_t *ev;

	cr_assert_not_null(text);
	nl = strchr(text, '\n');
	cr_assert_not_null(nl);
	*nl = '\0';
	ev = json_loads(text, 0, &jerr);
	cr_assert_not_null(ev, "%s: %s", text, jerr.text);
	free(text);
	return ev;
}

/* A run on the real clock says where its time 0 lies on CLOCK_MONOTONIC, the
 * clock of the kernel's GPIO edge and IIO scan timestamps: the origin lies
 * between this test's clock before it started rig and when it read the
 * run_start event (tests/vm/rig.sh sets gpio-sim edges against it).  A
 * virtual run has no such origin and says none. */
Test(e2e, a_real_time_run_says_where_its_time_zero_lies_on_the_monotonic_clock)
{
	char *dir = th_tmpdir(), *run = run_dir_in(dir), *seq, *bench = th_src(BENCH);
	char *dut = th_src(DUT), *events, *vdir, *vrun;
	long long before = monotonic_ns(), after, t0;
	json_t *ev;
	pid_t pid;

	seq = th_write_file(dir, "seq.cfg", "sequence = { id = \"T0\"; version = \"1\"; title = \"t0\";\n"
				       "  steps = ( { step = \"hold\"; duration = \"1 s\"; } ); };\n");
	pid = th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
					       "--output", run, "--real-time", "-q", NULL });
	events = th_wait_for_text(run, "events.jsonl", "\"event\":\"run_start\"", 20000);
	after = monotonic_ns();
	cr_assert_not_null(events, "no run_start");
	free(events);
	th_rig_wait(pid);
	ev = first_event(run);
	cr_assert_str_eq(json_string_value(json_object_get(ev, "event")), "run_start");
	cr_assert(json_is_integer(json_object_get(ev, "t0_monotonic_ns")), "no t0_monotonic_ns");
	t0 = json_integer_value(json_object_get(ev, "t0_monotonic_ns"));
	cr_assert(t0 >= before && t0 + json_integer_value(json_object_get(ev, "t_ns")) <= after,
		  "t0 %lld not between %lld and %lld", t0, before, after);
	json_decref(ev);

	vdir = th_tmpdir();
	vrun = run_dir_in(vdir);
	th_rig(vdir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut, "--output", vrun,
				    "-q", NULL });
	ev = first_event(vrun);
	cr_assert_str_eq(json_string_value(json_object_get(ev, "clock")), "virtual");
	cr_assert_null(json_object_get(ev, "t0_monotonic_ns"));
	json_decref(ev);
	free(vdir);
	free(vrun);
	free(dir);
	free(run);
	free(seq);
	free(bench);
	free(dut);
}

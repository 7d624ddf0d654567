/* Sign-off of a run (issue 16, 6 of 7, items 4, 5, 6): who ran it (never the
 * login name), the device's identity read from the pump and compared with
 * the device file, the report's id and revisions, and electronic signatures
 * with meaning (rig sign) bound to the record and checked by rig verify. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

#define SEQ "sequences/dose-accuracy.cfg"
#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

static bool exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

/* rig run of the shipped dose-accuracy sequence into tmp/NAME with up to
 * eight extra arguments; bench NULL: the shipped simulated bench. */
static int run_named(const char *tmp, const char *name, const char *bench_path,
		     const char *const *extra, char **ret_run)
{
	char *seq = th_src(SEQ), *bench = bench_path ? strdup(bench_path) : th_src(BENCH);
	char *dut = th_src(DUT), *run;
	const char *args[24] = { "run", seq, "--bench", bench, "--dut", dut, "-o", NULL, "-q" };
	int n = 9, status;

	if (asprintf(&run, "%s/%s", tmp, name) < 0)
		abort();
	args[7] = run;
	while (extra && *extra && n < 22)
		args[n++] = *extra++;
	args[n] = NULL;
	status = th_rig(tmp, args);
	free(seq);
	free(bench);
	free(dut);
	if (ret_run)
		*ret_run = run;
	else
		free(run);
	return status;
}

/* ----------------------------------------------------------- operator -- */

Test(signoff, a_run_without_an_operator_is_refused_not_run_as_the_login_name)
{
	char *tmp = th_tmpdir(), *err;

	/* set but empty: the helpers then give no default operator */
	setenv("PUMPRIG_OPERATOR", "", 1);
	cr_assert_eq(run_named(tmp, "run", NULL, NULL, NULL), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "no operator: give --operator NAME"), "%s", err);
	cr_assert(!exists(tmp, "run"), "nothing is created");
	free(err);
	/* --operator names one */
	cr_assert_eq(run_named(tmp, "run", NULL, (const char *[]){ "--operator", "Ann Operator", NULL },
			       NULL), 0);
	err = th_slurp(tmp, "run/run.json");
	cr_assert(strstr(err, "\"operator\": \"Ann Operator\""), "%s", err);
	free(err);
	free(tmp);
}

Test(signoff, a_note_and_a_night_without_an_operator_are_refused)
{
	char *tmp = th_tmpdir(), *run, *plan = th_src("sequences/nightly-sim.cfg"), *err;

	cr_assert_eq(run_named(tmp, "run", NULL, NULL, &run), 0);
	setenv("PUMPRIG_OPERATOR", "", 1);
	cr_assert_eq(th_rig(tmp, (const char *[]){ "note", run, "a remark", NULL }), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "rig note: no operator"), "%s", err);
	cr_assert(!exists(run, "notes.jsonl"));
	free(err);
	cr_assert_eq(th_rig(tmp, (const char *[]){ "nightly", plan, "--runs", tmp, NULL }), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "rig nightly: no operator"), "%s", err);
	free(err);
	free(plan);
	free(run);
	free(tmp);
}

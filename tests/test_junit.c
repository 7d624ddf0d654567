/* junit.xml read by an independent consumer: python3's junitparser (Debian
 * python3-junitparser), the library CI tools use to merge and inspect JUnit
 * reports.  The expectations come from results.json of the same run, never
 * from constants: a 20 %-fast pump must come out as failures, an aborted run
 * as an error testcase "run", and text with XML's special characters must
 * survive the round trip. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "helpers.h"

#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

/* Debian's interpreter, where python3-junitparser installs (a python3 earlier
 * in PATH, such as a pyenv shim, would not see it). */
#define PYTHON "/usr/bin/python3"

/* Prints one line per suite and per case, as junitparser sees them:
 *   suite <tests> <failures> <errors> <skipped> <counted failures> <counted errors> <name>
 *   case <result kind> <classname>|<name>|<message>
 * junitparser 2.x gives case.result as a list of Failure/Error/Skipped. */
static const char py_dump[] =
	"import sys\n"
	"from junitparser import JUnitXml, Failure, Error, Skipped\n"
	"xml = JUnitXml.fromfile(sys.argv[1])\n"
	"for s in xml:\n"
	"    cases = list(s)\n"
	"    nf = sum(1 for c in cases for r in c.result if isinstance(r, Failure))\n"
	"    ne = sum(1 for c in cases for r in c.result if isinstance(r, Error))\n"
	"    print('suite', s.tests, s.failures, s.errors, s.skipped, nf, ne, len(cases), s.name)\n"
	"    for p in s.properties():\n"
	"        print('property', p.name + '=' + p.value)\n"
	"    for c in cases:\n"
	"        kind = 'pass'\n"
	"        msg = ''\n"
	"        for r in c.result:\n"
	"            kind = type(r).__name__.lower()\n"
	"            msg = r.message or ''\n"
	"        print('case', kind, c.classname + '|' + c.name + '|' + msg)\n";

struct junit_view {
	long tests, failures, errors, skipped, counted_failures, counted_errors, cases;
	char name[128];
	char *text;          /* the whole dump */
};

static void junit_read(const char *run_dir, struct junit_view *v)
{
	char *cmd, *xml;
	FILE *p;
	size_t len = 0, cap = 0;
	char *line = NULL;
	int st;

	if (asprintf(&xml, "%s/junit.xml", run_dir) < 0 ||
	    asprintf(&cmd, PYTHON " -c \"$PY\" '%s'", xml) < 0)
		abort();
	setenv("PY", py_dump, 1);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	memset(v, 0, sizeof(*v));
	v->text = calloc(1, 1);
	while (getline(&line, &cap, p) > 0) {
		size_t n = strlen(line);

		v->text = realloc(v->text, len + n + 1);
		memcpy(v->text + len, line, n + 1);
		len += n;
		if (!strncmp(line, "suite ", 6)) {
			char *end, *q = line + 6;
			long *fields[] = { &v->tests, &v->failures, &v->errors, &v->skipped,
					   &v->counted_failures, &v->counted_errors, &v->cases };

			for (size_t i = 0; i < 7; i++) {
				*fields[i] = strtol(q, &end, 10);
				cr_assert_neq(end, q, "%s", line);
				q = end;
			}
			snprintf(v->name, sizeof(v->name), "%.*s", (int)strcspn(q + 1, "\n"), q + 1);
		}
	}
	free(line);
	st = pclose(p);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "junitparser could not read %s:\n%s", xml,
		  v->text);
	free(cmd);
	free(xml);
}

/* The shipped bench with the simulator's value for key replaced. */
static char *with_value(const char *text, const char *key, const char *value)
{
	const char *k = strstr(text, key), *q1, *q2;
	char *out;

	cr_assert_not_null(k, "no key %s", key);
	q1 = strchr(k, '"');
	q2 = strchr(q1 + 1, '"');
	if (asprintf(&out, "%.*s%s%s", (int)(q1 + 1 - text), text, value, q2) < 0)
		abort();
	return out;
}

static char *file_with(const char *dir, const char *src_rel, const char *name, const char *key,
		       const char *value)
{
	char *src = th_src(src_rel), *text = th_read_file(src), *changed, *out;

	cr_assert_not_null(text);
	changed = key ? with_value(text, key, value) : strdup(text);
	out = th_write_file(dir, name, changed);
	free(src);
	free(text);
	free(changed);
	return out;
}

static void count_results(const char *run_dir, long *n, long *fail, long *inconclusive,
			  const char **status)
{
	char *path;
	json_t *root, *c;
	size_t i;

	if (asprintf(&path, "%s/results.json", run_dir) < 0)
		abort();
	root = json_load_file(path, 0, NULL);
	cr_assert_not_null(root);
	*n = *fail = *inconclusive = 0;
	json_array_foreach(json_object_get(root, "checks"), i, c) {
		const char *v = json_string_value(json_object_get(c, "verdict"));

		(*n)++;
		*fail += !strcmp(v, "fail");
		*inconclusive += !strcmp(v, "inconclusive");
	}
	*status = strcmp(json_string_value(json_object_get(root, "status")), "completed") ?
		  "incomplete" : "completed";
	json_decref(root);
	free(path);
}

static int run(const char *dir, const char *seq, const char *bench, char **ret_run)
{
	char *dut = th_src(DUT), *out;
	int st;

	if (asprintf(&out, "%s/run", dir) < 0)
		abort();
	st = th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut, "-o", out,
					   "-q", NULL });
	free(dut);
	*ret_run = out;
	return st;
}

Test(junit, a_20_percent_fast_pump_is_a_failure_to_junitparser_with_correct_counts)
{
	char *dir = th_tmpdir(), *seq = th_src("sequences/qualification.cfg"), *run_dir;
	char *bench = file_with(dir, BENCH, "bench.cfg", "rate_error", "20 %");
	struct junit_view v;
	long n, fail, inc;
	const char *status;

	cr_assert_eq(run(dir, seq, bench, &run_dir), 1);
	count_results(run_dir, &n, &fail, &inc, &status);
	cr_assert_str_eq(status, "completed");
	cr_assert_gt(fail, 0, "a 20 %% fast pump must fail some check");
	junit_read(run_dir, &v);
	/* a simulated bench says so in the suite's name, wherever CI lists it,
	 * and in its properties */
	cr_expect_str_eq(v.name, "SEQ-QUAL [SIMULATED]");
	cr_expect_not_null(strstr(v.text, "property bench_kind=simulated\n"), "%s", v.text);
	cr_expect_not_null(strstr(v.text, "property verification_evidence=false"), "%s", v.text);
	cr_expect_eq(v.tests, n, "%s", v.text);
	cr_expect_eq(v.cases, n, "%s", v.text);
	cr_expect_eq(v.failures, fail, "%s", v.text);
	cr_expect_eq(v.errors, inc, "%s", v.text);
	cr_expect_eq(v.skipped, 0);
	/* the attributes agree with the testcases themselves */
	cr_expect_eq(v.counted_failures, v.failures);
	cr_expect_eq(v.counted_errors, v.errors);
	/* the nominal dose-accuracy check is a failure, named as the contract says */
	cr_expect_not_null(strstr(v.text, "case failure dose_accuracy|dose_accuracy [dose_nominal] ITP-40-SRS-ACC-001|"),
			   "%s", v.text);
	cr_expect_not_null(strstr(v.text, "property overall_verdict=fail"), "%s", v.text);
	free(v.text);
	free(run_dir);
	free(bench);
	free(seq);
	free(dir);
}

Test(junit, an_aborted_run_adds_an_error_testcase_run_with_the_reason)
{
	char *dir = th_tmpdir(), *seq = th_src("sequences/dose-accuracy.cfg"), *run_dir, *src;
	char *text, *at, *changed, *bench;
	struct junit_view v;
	long n, fail, inc;
	const char *status;

	/* the scale drops out at 2 h and may not reconnect: the run aborts */
	src = th_src(BENCH);
	text = th_read_file(src);
	at = strstr(text, "  simulator = {");
	cr_assert_not_null(at);
	if (asprintf(&changed, "%.*s  simulator = {\n    faults = ( { role = \"scale\"; kind = "
		     "\"dropout\"; at = \"2 h\"; duration = \"10 min\"; } );%s", (int)(at - text),
		     text, at + strlen("  simulator = {")) < 0)
		abort();
	bench = th_write_file(dir, "bench.cfg", changed);
	cr_assert_eq(run(dir, seq, bench, &run_dir), 3);
	count_results(run_dir, &n, &fail, &inc, &status);
	cr_assert_str_eq(status, "incomplete");
	junit_read(run_dir, &v);
	cr_expect_eq(v.tests, n + 1, "%s", v.text);
	cr_expect_eq(v.errors, inc + 1, "%s", v.text);
	cr_expect_eq(v.failures, fail, "%s", v.text);
	cr_expect_eq(v.counted_errors, v.errors, "%s", v.text);
	cr_expect_not_null(strstr(v.text, "case error run|run|"), "%s", v.text);
	cr_expect_not_null(strstr(v.text, "scale"), "the reason names the instrument: %s", v.text);
	free(v.text);
	free(run_dir);
	free(bench);
	free(changed);
	free(text);
	free(src);
	free(seq);
	free(dir);
}

Test(junit, xml_special_characters_survive_the_round_trip)
{
	char *dir = th_tmpdir(), *bench = th_src(BENCH), *run_dir, *seq;
	const char *title = "A <b> & \\\"c\\\" 'd' > e";   /* as written in libconfig */
	struct junit_view v;

	seq = file_with(dir, "sequences/dose-accuracy.cfg", "seq.cfg", "title", title);
	cr_assert_eq(run(dir, seq, bench, &run_dir), 0);
	junit_read(run_dir, &v);
	cr_expect_not_null(strstr(v.text, "property sequence_title=A <b> & \"c\" 'd' > e\n"),
			   "%s", v.text);
	cr_expect_eq(v.tests, 1);
	cr_expect_eq(v.failures + v.errors, 0);
	free(v.text);
	free(run_dir);
	free(seq);
	free(bench);
	free(dir);
}

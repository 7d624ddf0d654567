/* A crashed record whose samples.csv holds rows rig could not have written
 * (a disk error, a hand edit, a tool gone wrong): every reader of the record
 * must count them, say so, and keep them out of the checks, the derived
 * tables, the plots and a resume's arithmetic. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "faults.h"
#include "helpers.h"
#include "rig/base/record.h"

/* A dose window of one hour that ends before the crash (at 2 h, in the hold
 * after it): rig report judges it from the record. */
static const char window_then_crash_seq[] =
	"sequence = {\n"
	"  id = \"T-DAMAGED\"; version = \"1\"; title = \"a window, then a crash\";\n"
	"  steps = (\n"
	"    { step = \"tare\"; timeout = \"5 min\"; },\n"
	"    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"begin\"; },\n"
	"    { step = \"hold\"; duration = \"1 h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"end\"; },\n"
	"    { step = \"hold\"; duration = \"3 h\"; },\n"
	"    { step = \"stop\"; },\n"
	"    { step = \"check\"; check = \"dose_accuracy\"; window = \"w\"; }\n"
	"  );\n"
	"};\n";

/* Each damaged row, what rig must call it, and why it is one.  The times
 * sit inside the window and at its end, where a balance reading taken in
 * would move the dose; the values are ones that would. */
static const struct {
	const char *row, *problem;
} damaged[] = {
	{ "-5000000000,scale,mass,0.0001,g,", "negative time" },
	{ "3000000000000,scale,mass,NaN,g,", "a value that is not a number, not flagged R" },
	{ "3000000000000,scale,mass,inf,g,", "a value that is not a number, not flagged R" },
	{ "3500000000000,scale,mass,1.5,kg,", "not the unit of its quantity" },
	{ "3500000000000,thermometer,temperature,37.0,degC,", "unknown role" },
	{ "3500000000000,scale,flow,40,mL/h,", "a quantity its role does not record" },
	{ "3500000000000,scale,mass,7.5,g,X", "a flag other than U, C, S, R, each once, in that order" },
	{ "3500000000000,scale,mass,7.5,g", "not a row of six fields with a time and a number as rig writes them" },
	{ "35e11,scale,mass,7.5,g,", "not a row of six fields with a time and a number as rig writes them" },
	{ "999999999999999999,pump,delivered,99,mL,XX", "a flag other than U, C, S, R, each once, in that order" },
	{ "999999999999999999,valve,state,1,1,", "unknown role" },
	/* numbers rig would not write so (an outside audit's members of the
	 * class): a sign, a space, a leading or trailing zero, an exponent
	 * without its sign, eleven digits */
	{ "+3000000000000,scale,mass,7.5,g,", "not a row of six fields with a time and a number as rig writes them" },
	{ " 3000000000000,scale,mass,7.5,g,", "not a row of six fields with a time and a number as rig writes them" },
	{ "3000000000000,scale,mass, 7.5,g,", "not a row of six fields with a time and a number as rig writes them" },
	{ "03000000000000,scale,mass,7.5,g,", "not a row of six fields with a time and a number as rig writes them" },
	{ "3000000000000,scale,mass,7.50,g,", "not a row of six fields with a time and a number as rig writes them" },
	{ "3000000000000,scale,mass,1e300,g,", "not a row of six fields with a time and a number as rig writes them" },
	{ "3000000000000,scale,mass,+7.5,g,", "not a row of six fields with a time and a number as rig writes them" },
	{ "-0,scale,mass,0.5,g,", "not a row of six fields with a time and a number as rig writes them" },
	{ "3000000000000,scale,mass,7.5,g,RU", "a flag other than U, C, S, R, each once, in that order" },
	{ "3000000000000,scale,mass,7.123456789012,g,", "not a row of six fields with a time and a number as rig writes them" },
};
#define N_DAMAGED (sizeof(damaged) / sizeof(damaged[0]))

static void copy_tree(const char *from, const char *to)
{
	char *cmd;

	if (asprintf(&cmd, "cp -a '%s' '%s'", from, to) < 0)
		abort();
	cr_assert_eq(system(cmd), 0);
	free(cmd);
}

/* samples.csv with the damaged rows put in after its line `after`; the
 * line number each lands on in *lines. */
static void damage(const char *run, size_t after, size_t lines[N_DAMAGED])
{
	char *text = th_slurp(run, "samples.csv"), *path, *p = text;
	FILE *f;

	cr_assert_not_null(text);
	for (size_t i = 0; i < after; i++) {
		p = strchr(p, '\n');
		cr_assert_not_null(p);
		p++;
	}
	if (asprintf(&path, "%s/samples.csv", run) < 0)
		abort();
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fwrite(text, 1, (size_t)(p - text), f);
	for (size_t i = 0; i < N_DAMAGED; i++) {
		fprintf(f, "%s\n", damaged[i].row);
		lines[i] = after + 1 + i;
	}
	fputs(p, f);
	cr_assert_eq(fclose(f), 0);
	free(path);
	free(text);
}

static json_t *results_of(const char *run)
{
	char *text = th_slurp(run, "results.json");
	json_t *res = json_loads(text, 0, NULL);

	cr_assert_not_null(res, "%s", text);
	free(text);
	return res;
}

/* No two columns of a table share a name. */
static void assert_unique_columns(const char *csv_path)
{
	char *text = th_read_file(csv_path), *header, *save = NULL, *names[32];
	size_t n = 0;

	cr_assert_not_null(text, "%s", csv_path);
	header = strndup(text, strcspn(text, "\n"));
	for (char *c = strtok_r(header, ",", &save); c && n < 32; c = strtok_r(NULL, ",", &save)) {
		for (size_t i = 0; i < n; i++)
			cr_assert_str_neq(names[i], c, "%s: two columns named %s", csv_path, c);
		names[n++] = c;
	}
	free(header);
	free(text);
}

Test(damaged, damaged_rows_are_counted_reported_and_never_judged_tabled_or_resumed_from)
{
	char *dir = th_tmpdir(), *dut = th_src(DUT), *clean, *run, *bench, *seq, *text;
	char *report;
	size_t lines[N_DAMAGED];
	json_t *rc, *rd, *list;
	int st;

	/* the crash: SIGKILL at the first pressure read at 2 h, an hour after
	 * the window closed */
	bench = bench_variant(dir, "faults = ( { role = \"pressure\"; kind = \"crash\"; "
				   "at = \"2 h\"; duration = \"1 min\"; } );", NULL, NULL);
	seq = th_write_file(dir, "seq.cfg", window_then_crash_seq);
	if (asprintf(&clean, "%s/clean", dir) < 0 || asprintf(&run, "%s/damaged", dir) < 0)
		abort();
	st = th_rig_wait_raw(th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench,
		"--dut", dut, "--output", clean, "-q", NULL }));
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	copy_tree(clean, run);
	damage(run, 100, lines);

	/* each judged from its record alone: the crashed run is interrupted */
	cr_assert_eq(th_rig(dir, (const char *[]){ "report", clean, NULL }), 3);
	/* the copy is the same run (one run.json): sealed on this station
	 * already, its seal would rightly be one taken away; from here on it is
	 * judged and resumed as on another station, with a journal of its own */
	{
		char *elsewhere;

		if (asprintf(&elsewhere, "PUMPRIG_JOURNAL=%s/elsewhere.jsonl", dir) < 0)
			abort();
		putenv(elsewhere);   /* the environment keeps it */
	}
	cr_assert_eq(th_rig(dir, (const char *[]){ "report", run, NULL }), 3);
	rc = results_of(clean);
	rd = results_of(run);

	/* counted and listed, each with its line and what is wrong */
	cr_assert_null(json_object_get(rc, "damaged_rows"));
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(rd, "damaged_rows"), "count")),
		     (json_int_t)N_DAMAGED);
	list = json_object_get(json_object_get(rd, "damaged_rows"), "first");
	cr_assert_eq(json_array_size(list), 8);
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);

		cr_assert_eq(json_integer_value(json_object_get(e, "line")), (json_int_t)lines[i]);
		cr_assert_str_eq(json_string_value(json_object_get(e, "problem")), damaged[i].problem,
				 "row %s", damaged[i].row);
	}
	/* and nothing else changed: the same samples counted, the same checks
	 * with the same numbers, the same end */
	cr_assert(json_equal(json_object_get(rc, "checks"), json_object_get(rd, "checks")),
		  "the damaged rows changed a check:\n%s",
		  json_dumps(json_object_get(rd, "checks"), JSON_INDENT(1)));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(rd, "checks"),
									0), "verdict")), "pass");
	cr_assert_eq(json_integer_value(json_object_get(rc, "samples")),
		     json_integer_value(json_object_get(rd, "samples")));
	cr_assert(json_equal(json_object_get(rc, "end_s"), json_object_get(rd, "end_s")));

	/* the derived tables (rig export) are the clean record's, byte for
	 * byte, and no table has two columns of one name */
	{
		static const char *const roles[] = { "scale", "flow", "pressure", "power", "pump",
						     "alarm" };
		char *tables_clean, *tables_run;

		if (asprintf(&tables_clean, "%s/tables-clean", dir) < 0 ||
		    asprintf(&tables_run, "%s/tables-damaged", dir) < 0)
			abort();
		cr_assert_eq(th_rig(dir, (const char *[]){ "export", clean, "--out", tables_clean,
							   NULL }), 0);
		cr_assert_eq(th_rig(dir, (const char *[]){ "export", run, "--out", tables_run, NULL }),
			     0);
		for (size_t i = 0; i < 6; i++) {
			char *a, *b, *ta, *tb;

			if (asprintf(&a, "%s/%s.csv", tables_clean, roles[i]) < 0 ||
			    asprintf(&b, "%s/%s.csv", tables_run, roles[i]) < 0)
				abort();
			ta = th_read_file(a);
			tb = th_read_file(b);
			cr_assert((ta == NULL) == (tb == NULL), "%s.csv", roles[i]);
			if (ta) {
				cr_assert_str_eq(ta, tb, "%s.csv differs", roles[i]);
				assert_unique_columns(b);
			}
			free(ta);
			free(tb);
			free(a);
			free(b);
		}
		text = th_slurp(tables_run, "thermometer.csv");
		cr_assert_null(text, "a table for a role rig does not know");
		text = th_slurp(tables_run, "README.txt");
		cr_assert_not_null(strstr(text, "21 damaged rows left out"), "%s", text);
		free(text);
		free(tables_clean);
		free(tables_run);
	}

	/* said in the summary and the report */
	text = th_slurp(run, "summary.txt");
	cr_assert_not_null(strstr(text, "DAMAGED: 21 row(s) of samples.csv"), "%s", text);
	cr_assert_not_null(strstr(text, "line 101 (negative time)"), "%s", text);
	free(text);
	report = report_text(run, dir);
	cr_assert_not_null(report);
	/* (a table: its cells wrap beside each other) */
	cr_assert(has_words(report, "damaged record"), "%s", report);
	cr_assert(has_words(report, "21 row(s) rig could not have written"), "%s", report);
	cr_assert(has_words(report, "DAMAGED ROWS left out"), "%s", report);
	free(report);
	text = th_slurp(run, "report.html");
	cr_assert_not_null(strstr(text, "damaged record"));
	cr_assert_not_null(strstr(text, "were left out of every check, table and plot (samples.csv)"));
	free(text);

	/* a resume reads the same record: a damaged row's time is no gap's
	 * beginning (it would be 31 years after the start).  The record aged
	 * ten minutes, as if the power came back then: the resumed run starts
	 * past the crash fault's minute. */
	{
		struct timespec aged[2];

		clock_gettime(CLOCK_REALTIME, &aged[0]);
		aged[0].tv_sec -= 600;
		aged[1] = aged[0];
		for (int i = 0; i < 2; i++) {
			char *path;

			if (asprintf(&path, "%s/%s", run, i ? "samples.csv" : "events.jsonl") < 0)
				abort();
			cr_assert_eq(utimensat(AT_FDCWD, path, aged, 0), 0);
			free(path);
		}
	}
	cr_assert_eq(th_rig(dir, (const char *[]){ "resume", run, "-q", NULL }), 0);
	text = th_slurp(run, "events.jsonl");
	{
		const char *r = strstr(text, "\"event\":\"resume\"");
		double gap_begin;

		cr_assert_not_null(r, "%s", text);
		gap_begin = strtod(strstr(r, "\"gap_begin_s\":") + 14, NULL);
		/* the last good row before the kill at 7200 s, never a damaged
		 * one: within what a kill -9 loses in virtual time (one buffer) */
		char *clean_samples = th_slurp(clean, "samples.csv");
		double bound_s = th_samples_buffer_span_s(clean_samples);

		free(clean_samples);
		cr_assert(gap_begin >= 7200 - bound_s && gap_begin <= 7201, "gap_begin_s %.0f (bound "
			  "%.0f s before the kill)", gap_begin, bound_s);
	}
	free(text);
	json_decref(rc);
	json_decref(rd);
	free(bench);
	free(seq);
	free(clean);
	free(run);
	free(dut);
	free(dir);
}

/* The other side of the strict reading: every row the recorder writes is
 * read back as written, whatever the value's size or sign: a million
 * random doubles over 600 decades, whole numbers, the edges of %f and %e
 * style, and the flagged non-finite values. */
Test(damaged, every_row_the_recorder_writes_is_read_as_written)
{
	static const double edges[] = { 0.0, -0.0, 1, -1, 10, 1e9, 9999999999, 1e10, 1e-4,
					9.99999999949e-5, 1e-5, 123456789.0, 0.1, 1.5e-300, -2.5e300,
					4.9e-324, 1e308 };
	uint64_t x = 88172645463325252ULL;
	char line[256];
	struct sample_row row;

	for (size_t i = 0; i < 1000000 + sizeof(edges) / sizeof(edges[0]); i++) {
		double v;

		if (i < sizeof(edges) / sizeof(edges[0])) {
			v = edges[i];
		} else {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			v = ldexp((double)(x >> 11) / 9007199254740992.0, (int)(x % 2000) - 1000);
			if (x & 1024)
				v = -v;
			if ((x & 0x3000) == 0)
				v = round(v * 1e3);
		}
		cr_assert_gt(sample_row_format(line, sizeof(line), (rig_ns)(x % 4000000000000000000ULL),
					       ROLE_SCALE, QUANT_MASS_G, v, ""), 0);
		line[strcspn(line, "\n")] = '\0';
		cr_assert_eq(sample_row_parse(line, &row), SAMPLE_ROW_OK, "%.17g", v);
	}
	for (int k = 0; k < 4; k++) {
		double v = k == 0 ? INFINITY : k == 1 ? -INFINITY : k == 2 ? NAN : -NAN;

		sample_row_format(line, sizeof(line), 0, ROLE_PRESSURE, QUANT_PRESSURE_KPA, v, "R");
		line[strcspn(line, "\n")] = '\0';
		cr_assert_eq(sample_row_parse(line, &row), SAMPLE_ROW_OK, "%s", line);
	}
}

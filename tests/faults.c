/* The fault-case harness (faults.h). */
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
/* The shipped bench with text inserted at the start of bench.simulator and
 * one literal piece of text replaced (from may be NULL). */
char *bench_variant(const char *dir, const char *sim_insert, const char *from,
			   const char *to)
{
	char *src = th_src(BENCH), *text = th_read_file(src), *a, *b, *path;
	const char *sim, *brace;

	cr_assert_not_null(text);
	sim = strstr(text, "simulator");
	cr_assert_not_null(sim);
	brace = strchr(sim, '{');
	if (asprintf(&a, "%.*s\n%s\n%s", (int)(brace + 1 - text), text, sim_insert ? sim_insert : "",
		     brace + 1) < 0)
		abort();
	if (from) {
		const char *k = strstr(a, from);

		cr_assert_not_null(k, "the shipped bench has no '%s'", from);
		if (asprintf(&b, "%.*s%s%s", (int)(k - a), a, to, k + strlen(from)) < 0)
			abort();
		free(a);
		a = b;
	}
	path = th_write_file(dir, "bench.cfg", a);
	free(a);
	free(text);
	free(src);
	return path;
}

void outcome_free(struct outcome *o)
{
	free(o->events);
	free(o->samples);
	free(o->summary);
	free(o->stderr_text);
	free(o->results);
	free(o->report);
	free(o->run);
}

/* Every fault case runs with two output lines (a pump enable and a heater
 * relay, on the simulated backend), so that each checks they end at their
 * safe level too. */
static const char fault_outputs[] =
	"  outputs = {\n"
	"    pump_enable = { backend = \"sim\"; safe = \"off\"; run = \"on\"; };\n"
	"    heater_relay = { backend = \"sim\"; safe = \"off\"; run = \"on\"; };\n"
	"  };\n";

void add_outputs(const char *bench_path)
{
	char *text = th_read_file(bench_path), *at, *out;
	FILE *f;

	cr_assert_not_null(text);
	if (strstr(text, "outputs = {")) {   /* a case with lines of its own */
		free(text);
		return;
	}
	at = strstr(text, "  simulator = {");
	cr_assert_not_null(at, "the shipped bench has no simulator group");
	if (asprintf(&out, "%.*s%s%s", (int)(at - text), text, fault_outputs, at) < 0)
		abort();
	f = fopen(bench_path, "w");
	cr_assert_not_null(f);
	fputs(out, f);
	fclose(f);
	free(out);
	free(text);
}

/* hay holds needle, whitespace aside (pdftotext wraps and pads lines). */
bool has_words(const char *hay, const char *needle)
{
	char *h = strdup(hay), *n = strdup(needle), *w;
	const char *r;
	bool found;

	for (char *s = h; s; s = s == h ? n : NULL) {
		w = s;
		for (r = s; *r; r++)
			if (*r != ' ' && *r != '\n' && *r != '\f' && *r != '\t')
				*w++ = *r;
		*w = '\0';
	}
	found = strstr(h, n) != NULL;
	free(h);
	free(n);
	return found;
}

/* The text of run/report.pdf (pdftotext -layout), written beside the run in
 * dir since the run is sealed; NULL when there is no readable report. */
char *report_text(const char *run, const char *dir)
{
	char *cmd, *text = NULL;

	if (asprintf(&cmd, "pdftotext -layout '%s/report.pdf' '%s/report.txt' 2>/dev/null", run,
		     dir) < 0)
		abort();
	if (system(cmd) == 0)
		text = th_slurp(dir, "report.txt");
	free(cmd);
	return text;
}

/* What a finished rig left in run (and its stderr in dir). */
void outcome_collect(struct outcome *o, const char *dir, const char *run)
{
	o->events = th_slurp(run, "events.jsonl");
	o->samples = th_slurp(run, "samples.csv");
	o->summary = th_slurp(run, "summary.txt");
	o->stderr_text = th_slurp(dir, "stderr");
	o->results = th_slurp(run, "results.json");
	o->report = report_text(run, dir);
	o->run = strdup(run);
	cr_assert_not_null(o->events, "no events.jsonl; stderr: %s", o->stderr_text);
}

struct outcome run_case(const char *sequence_text, const char *sim_insert,
			       const char *from, const char *to)
{
	char *dir = th_tmpdir(), *bench = bench_variant(dir, sim_insert, from, to);
	char *seq = th_write_file(dir, "seq.cfg", sequence_text), *dut = th_src(DUT), *run;
	struct outcome o;

	add_outputs(bench);
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	o.status = th_rig_wait(th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut",
							     dut, "--output", run, "-q", NULL }));
	outcome_collect(&o, dir, run);
	free(dir);
	free(bench);
	free(seq);
	free(dut);
	free(run);
	return o;
}

void assert_safe_end(const struct outcome *o, const char *reason)
{
	const char *safe = strstr(o->events, "\"event\":\"safe_state\"");

	cr_assert_not_null(safe, "no safe_state event");
	cr_assert_not_null(strstr(safe, "\"pump\":\"stopped\""), "pump not stopped: %s", safe);
	cr_assert_not_null(strstr(safe, "\"valve\":\"open\""), "occlusion not released: %s", safe);
	cr_assert_not_null(strstr(safe, "\"bench_safe\":true"), "%s", safe);
	cr_assert_not_null(strstr(o->events, "\"status\":\"aborted\""));
	cr_assert_not_null(strstr(o->events, reason), "reason '%s' not recorded:\n%s", reason,
			   o->events);
	cr_assert_not_null(o->summary, "no summary for the aborted run");
	cr_assert_not_null(strstr(o->summary, "aborted"));
	/* the reason is the summary's end reason too (results.json's end_reason) */
	cr_assert_not_null(strstr(o->summary, reason), "reason '%s' not in the summary:\n%s", reason,
			   o->summary);
	/* every output line at its safe level */
	cr_assert_not_null(strstr(safe, "\"outputs\":{\"pump_enable\":\"off\",\"heater_relay\":\"off\"}"),
			   "output lines not at their safe level: %s", safe);
	/* results.json: aborted, the root cause as its end_reason */
	cr_assert_not_null(o->results, "no results.json");
	{
		json_t *res = json_loads(o->results, 0, NULL);
		const char *end;

		cr_assert_not_null(res);
		cr_assert_str_eq(json_string_value(json_object_get(res, "status")), "aborted");
		end = json_string_value(json_object_get(res, "end_reason"));
		cr_assert(end && strstr(end, reason), "end_reason '%s' lacks '%s'", end, reason);
		json_decref(res);
	}
	/* and the report: INCOMPLETE with the reason, on its pages */
	cr_assert_not_null(o->report, "no report.pdf for the aborted run");
	cr_assert(has_words(o->report, "INCOMPLETE"), "%s", o->report);
	cr_assert(has_words(o->report, reason), "the report does not give the reason '%s'", reason);
}

const char delivery_seq[] =
	"sequence = {\n"
	"  id = \"T-FAULT\"; version = \"1\"; title = \"delivery with a fault\";\n"
	"  steps = (\n"
	"    { step = \"tare\"; timeout = \"5 min\"; },\n"
	"    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"begin\"; },\n"
	"    { step = \"hold\"; duration = \"4 h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"end\"; },\n"
	"    { step = \"stop\"; },\n"
	"    { step = \"check\"; check = \"dose_accuracy\"; window = \"w\"; }\n"
	"  );\n"
	"};\n";

/* Within a 1 h duration_max on paper (the timed steps: 55 min) and a
 * 1.5 mL cap (1.42 mL programmed), but the bolus's wait is the pump's: 30
 * min at its 1 mL/h, so the run passes the hour inside it.  rig validate
 * cannot know how long a pump takes; the supervisor stops it at 3600 s. */
const char overrun_seq[] =
	"sequence = {\n"
	"  id = \"T-OVERRUN\"; version = \"1\"; title = \"a run that waits past its hour\";\n"
	"  steps = (\n"
	"    { step = \"tare\"; timeout = \"5 min\"; },\n"
	"    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"begin\"; },\n"
	"    { step = \"hold\"; duration = \"45 min\"; },\n"
	"    { step = \"bolus\"; volume = \"0.5 mL\"; timeout = \"2 h\"; },\n"
	"    { step = \"hold\"; duration = \"10 min\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"end\"; },\n"
	"    { step = \"stop\"; },\n"
	"    { step = \"check\"; check = \"dose_accuracy\"; window = \"w\"; }\n"
	"  );\n"
	"};\n";

/* The run time of the root-cause fault event, in seconds. */
double root_fault_s(const char *events)
{
	const char *f = strstr(events, "\"root_cause\":true");
	const char *line;

	cr_assert_not_null(f, "no root-cause fault:\n%s", events);
	for (line = f; line > events && line[-1] != '\n'; line--)
		;
	return strtod(strstr(line, "\"t_ns\":") + 7, NULL) / 1e9;
}

const char short_seq[] =
	"sequence = {\n"
	"  id = \"T-SHORT\"; version = \"1\"; title = \"short\";\n"
	"  steps = (\n"
	"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; },\n"
	"    { step = \"hold\"; duration = \"10 min\"; },\n"
	"    { step = \"stop\"; }\n"
	"  );\n"
	"};\n";

/* A rate, a 3 s hold, a stop: a run short enough in real time. */
const char tiny_seq[] =
	"sequence = {\n"
	"  id = \"T-TINY\"; version = \"1\"; title = \"a few seconds\";\n"
	"  steps = (\n"
	"    { step = \"set_rate\"; rate = \"0.5 mL/h\"; },\n"
	"    { step = \"hold\"; duration = \"3 s\"; },\n"
	"    { step = \"stop\"; }\n"
	"  );\n"
	"};\n";

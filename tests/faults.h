/* The fault-case harness shared by the safety suites (test_safety*.c,
 * test_durability.c, test_resume.c): a run of rig on a variant of the shipped
 * simulated bench, with two output lines, and what it left behind. */
#ifndef RIG_TEST_FAULTS_H
#define RIG_TEST_FAULTS_H

#include <stdbool.h>

#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

#define FAULT_AT_1H(role, kind) \
	"faults = ( { role = \"" role "\"; kind = \"" kind "\"; at = \"1 h\"; duration = \"10 min\"; } );"

/* The shipped bench with text inserted at the start of bench.simulator and
 * one literal piece of text replaced (from may be NULL); written to dir. */
char *bench_variant(const char *dir, const char *sim_insert, const char *from, const char *to);

struct outcome {
	int status;
	char *events;
	char *samples;
	char *summary;
	char *stderr_text;
	char *results;       /* results.json as written by the run */
	char *report;        /* pdftotext of the run's report.pdf (NULL: none) */
	char *run;           /* the run directory */
};
void outcome_free(struct outcome *o);
/* Adds the two fault-case output lines to a bench file (unless it has its own). */
void add_outputs(const char *bench_path);
/* hay holds needle, whitespace aside (pdftotext wraps and pads lines). */
bool has_words(const char *hay, const char *needle);
/* The text of run/report.pdf, written beside the run in dir; NULL: none. */
char *report_text(const char *run, const char *dir);
/* What a finished rig left in run (and its stderr in dir). */
void outcome_collect(struct outcome *o, const char *dir, const char *run);
/* rig run of sequence_text on bench_variant(sim_insert, from, to). */
struct outcome run_case(const char *sequence_text, const char *sim_insert, const char *from,
			const char *to);
/* The run ended aborted and safe (pump, valve, outputs), with reason recorded
 * in the events, the summary, results.json and the report. */
void assert_safe_end(const struct outcome *o, const char *reason);
/* The run time of the root-cause fault event, in seconds. */
double root_fault_s(const char *events);

/* Tare, 1 mL/h for 4 h in window w, stop, a dose check of w. */
extern const char delivery_seq[];
/* Valid on paper for a 1 h bench (55 min of timed steps), but a 30 min
 * bolus wait takes it past the hour: the supervisor's duration limit. */
extern const char overrun_seq[];
/* 0.5 mL/h for 10 min, then stop: a run that holds the bench a while. */
extern const char short_seq[];
extern const char tiny_seq[];   /* 3 s hold */

#endif

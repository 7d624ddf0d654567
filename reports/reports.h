/* Report writers: read nothing but a run_results, write one output each. */
#ifndef RIG_REPORTS_H
#define RIG_REPORTS_H

#include <stdio.h>
#include "rig/judge/results.h"

/* results.json: schema in docs/results-json.md. */
int report_write_json(const struct run_results *res, const char *path);
/* Plain-text summary (summary.txt), every text exact. */
void report_write_summary(const struct run_results *res, FILE *out);
/* The same for a terminal (printed at the end of `rig run`): control
 * characters in any text from the run's files shown, not obeyed. */
void report_print_summary(const struct run_results *res, FILE *out);
/* The test report for people: report.pdf and report.html in run_dir, from
 * res and the run directory's own files (docs/report.md). */
int report_write_documents(const struct run_results *res, const char *run_dir);
/* junit.xml for CI (docs/integrity.md); run_dir for run.json's start time. */
int report_write_junit(const struct run_results *res, const char *run_dir, const char *path);
/* The pieces of it, for a document of several runs (rig nightly): the
 * counts of a run's suite, and the suite itself (name: NULL for the
 * sequence id; extra_properties: name, value pairs, NULL-terminated). */
struct junit_counts {
	size_t tests, failures, errors;
	double time_s;
};
void report_junit_counts(const struct run_results *res, struct junit_counts *ret);
void report_junit_suite(FILE *f, const struct run_results *res, const char *run_dir,
			const char *name, const char *const *extra_properties);
/* out_dir/<role>.csv and out_dir/README.txt, streamed from
 * run_dir/samples.csv (rig export); out_dir is made if missing. */
int report_write_tables(const char *run_dir, const char *out_dir);
/* The records for machines into run_dir: results.json, summary.txt,
 * junit.xml (results_json.c; no drawing library).
 * *ret_results_written (may be NULL) says whether results.json, the first,
 * was written, whatever happened to the others. */
int report_write_records(const struct run_results *res, const char *run_dir,
			 bool *ret_results_written);
/* Every output into run_dir: the records, then report.pdf and report.html
 * (report_content.c).  manifest_path_derived() (rig/seal/manifest.c) lists
 * these outputs: a writer added here adds its outputs there.  The bench's
 * rig writes the documents in a process of their own (rig/cli/lab/module.h). */
int report_write_all(const struct run_results *res, const char *run_dir,
		     bool *ret_results_written);

#endif

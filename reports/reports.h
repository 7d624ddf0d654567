/* Report writers: read nothing but a run_results, write one output each. */
#ifndef RIG_REPORTS_H
#define RIG_REPORTS_H

#include <stdio.h>
#include "../rig/results.h"

/* results.json: schema in docs/results-json.md. */
int report_write_json(const struct run_results *res, const char *path);
/* Plain-text summary (also printed at the end of `rig run`). */
void report_write_summary(const struct run_results *res, FILE *out);
/* The test report for people: report.pdf and report.html in run_dir, from
 * res and the run directory's own files (docs/report.md). */
int report_write_documents(const struct run_results *res, const char *run_dir);
/* Everything into run_dir: results.json, summary.txt, report.pdf, report.html. */
int report_write_all(const struct run_results *res, const char *run_dir);

#endif

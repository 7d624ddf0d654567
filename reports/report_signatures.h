/* The report's id and revisions, and its signatures section
 * (report_signatures.c). */
#ifndef RIG_REPORTS_REPORT_SIGNATURES_H
#define RIG_REPORTS_REPORT_SIGNATURES_H

#include "report_data.h"

struct report_doc;

/* Takes the run's id (the judge read it: run_id_read), reads the seal in place and the signatures
 * (signatures.jsonl), numbers this generation of the report as the next
 * revision (report-revisions.jsonl) and sets d->report_id to
 * "RPT-<run id> rev N".  0 or a negative errno. */
int report_signoff_gather(struct report_data *d, const char *run_id, const char *run_dir);
void report_signoff_free(struct report_signoff *s);

/* The last section: report id, revision, generation time, the manifest and
 * the seal's status, every signature (meaning, printed name, UTC time) and
 * the revisions. */
void section_signatures(struct report_doc *doc, const struct report_data *d);

#endif

/* junit.xml: the run as a JUnit test suite, for CI systems.
 *
 * One <testsuite> named by the sequence id; one <testcase> per check
 * (classname the check kind, name "check [window] requirement").  A failed
 * check is a <failure>; an inconclusive one is an <error>, because a check
 * that could not be judged is neither a pass nor something to skip: CI must
 * not go green on it.  A run that did not complete adds a testcase "run"
 * with an <error> carrying the reason.  Every measured value, its
 * uncertainty, limit and source go in the testcase's <system-out>.
 * docs/integrity.md describes the mapping. */
#include "reports.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Text safe in an XML 1.0 attribute or element: the five specials escaped,
 * and control characters XML 1.0 cannot carry at all replaced by '?'. */
static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '\n': fputs("&#10;", f); break;
		case '\t': fputs("&#9;", f); break;
		case '\r': fputs("&#13;", f); break;
		default:
			fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
		}
	}
}

/* Element content: like xml_text but newlines kept as they are. */
static void xml_body(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputc('\n', f);
		else {
			char one[2] = { *s, '\0' };

			xml_text(f, one);
		}
	}
}

static void print_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.10g", v);
	else
		fputs(isnan(v) ? "none" : v > 0 ? "+inf" : "-inf", f);
}

/* run.json's started_utc, without the zone letter (the JUnit schema's
 * timestamp has no zone; it is UTC, as docs/integrity.md says). */
static void read_run_meta(const char *run_dir, char *stamp, size_t stamp_len, char *host,
			  size_t host_len)
{
	char path[RIG_PATH_MAX + 16];
	json_t *meta;
	const char *s;

	snprintf(path, sizeof(path), "%s/run.json", run_dir);
	meta = json_load_file(path, 0, NULL);
	s = json_string_value(json_object_get(meta, "started_utc"));
	if (s && strlen(s) >= 19)
		snprintf(stamp, stamp_len, "%.19s", s);
	s = json_string_value(json_object_get(meta, "host"));
	if (s)
		snprintf(host, host_len, "%s", s);
	json_decref(meta);
}

static void write_measurements(FILE *f, const struct check_result *c)
{
	fputs("      <system-out>", f);
	if (c->has_measured) {
		fprintf(f, "measured = ");
		print_num(f, c->measured);
		fprintf(f, " %s, U (k = 2) = ", c->unit);
		print_num(f, c->u_expanded);
		fprintf(f, " %s, limit ", c->unit);
		print_num(f, c->limit_low);
		fputs(" .. ", f);
		print_num(f, c->limit_high);
		fprintf(f, " %s\n", c->unit);
	}
	for (size_t i = 0; i < c->n_m; i++) {
		const struct measurement *m = &c->m[i];

		xml_body(f, m->name);
		fputs(" = ", f);
		print_num(f, m->value);
		fputs(" ", f);
		xml_body(f, m->unit);
		fputs(", U (k = 2) = ", f);
		print_num(f, m->u_expanded);
		fputs(" ", f);
		xml_body(f, m->unit);
		if (m->has_limit) {
			fputs(", limit ", f);
			print_num(f, m->limit_low);
			fputs(" .. ", f);
			print_num(f, m->limit_high);
			fprintf(f, ", %s", verdict_name(m->verdict));
		}
		fputs(" (source: ", f);
		xml_body(f, m->source);
		fputs(")\n", f);
	}
	fputs("criterion: ", f);
	xml_body(f, c->criterion);
	fputs("\nexplanation: ", f);
	xml_body(f, c->explanation);
	fputs("\nsource: ", f);
	xml_body(f, c->source);
	fprintf(f, "\nsequence line: %d</system-out>\n", c->seq_line);
}

static void write_check(FILE *f, const struct check_result *c)
{
	double t_s = c->t_end_ns > c->t_begin_ns ? rig_ns_to_s(c->t_end_ns - c->t_begin_ns) : 0;

	fputs("    <testcase classname=\"", f);
	xml_text(f, c->check);
	fputs("\" name=\"", f);
	xml_text(f, c->check);
	if (c->window[0]) {
		fputs(" [", f);
		xml_text(f, c->window);
		fputs("]", f);
	}
	if (c->requirement[0]) {
		fputs(" ", f);
		xml_text(f, c->requirement);
	}
	fprintf(f, "\" time=\"%.3f\">\n", t_s);
	if (c->verdict != VERDICT_PASS) {
		bool fail = c->verdict == VERDICT_FAIL;

		fprintf(f, "      <%s type=\"%s\" message=\"", fail ? "failure" : "error",
			fail ? "fail" : "inconclusive");
		/* a check judging more than one requirement: which of them did not
		 * pass, first (the testcase is named by the check's own) */
		for (size_t k = 0; k <= c->n_more && c->n_more > 0; k++) {
			const char *r = check_requirement_at(c, k);
			int v = decision_requirement_verdict(c, r);

			xml_text(f, r);
			fprintf(f, " %s%s", v < 0 ? "not judged" : verdict_name((enum verdict)v),
				k == c->n_more ? ": " : "; ");
		}
		xml_text(f, c->explanation);
		fputs("\">", f);
		xml_body(f, c->criterion);
		fprintf(f, "</%s>\n", fail ? "failure" : "error");
	}
	write_measurements(f, c);
	fputs("    </testcase>\n", f);
}

static void property(FILE *f, const char *name, const char *value)
{
	fputs("      <property name=\"", f);
	xml_text(f, name);
	fputs("\" value=\"", f);
	xml_text(f, value);
	fputs("\"/>\n", f);
}

void report_junit_counts(const struct run_results *res, struct junit_counts *ret)
{
	*ret = (struct junit_counts){ .tests = res->n_checks };
	for (size_t i = 0; i < res->n_checks; i++) {
		ret->failures += res->checks[i].verdict == VERDICT_FAIL;
		ret->errors += res->checks[i].verdict == VERDICT_INCONCLUSIVE;
	}
	/* an incomplete run: one case in error for the run itself */
	if (res->status != RUN_COMPLETED) {
		ret->tests++;
		ret->errors++;
	}
	/* nothing judged: one case in error, so that CI cannot count no tests
	 * as every test passed */
	if (*results_nothing_judged(res)) {
		ret->tests++;
		ret->errors++;
	}
	ret->time_s = rig_ns_to_s(res->end_t_ns);
}

void report_junit_suite(FILE *f, const struct run_results *res, const char *run_dir,
			const char *name, const char *const *extra_properties)
{
	char stamp[32] = "1970-01-01T00:00:00", host[256] = "";
	struct junit_counts n;

	report_junit_counts(res, &n);
	read_run_meta(run_dir, stamp, sizeof(stamp), host, sizeof(host));
	fputs("  <testsuite name=\"", f);
	xml_text(f, name ? name : res->sequence_id);
	/* on a simulated bench the name itself says so, wherever CI shows it */
	if (!results_is_evidence(res))
		fputs(strcmp(res->bench_kind, "wire-simulated") == 0 ? " [WIRE-SIMULATED]" :
		      " [SIMULATED]", f);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" time=\"%.3f\" "
		"timestamp=\"", n.tests, n.failures, n.errors, n.time_s);
	xml_text(f, stamp);
	fputs("\" hostname=\"", f);
	xml_text(f, host);
	fputs("\">\n    <properties>\n", f);
	property(f, "sequence_title", res->sequence_title);
	property(f, "bench", res->bench_id);
	property(f, "device_model", res->device_model);
	property(f, "device_serial", res->device_serial);
	property(f, "status", run_status_name(res->status));
	property(f, "end_reason", res->end_reason);
	property(f, "overall_verdict", verdict_name(res->overall));
	property(f, "verdict_text", results_verdict_text(res));
	property(f, "bench_kind", res->bench_kind);
	property(f, "verification_evidence", results_is_evidence(res) ? "true" :
		 "false: a simulated bench, not verification evidence");
	if (res->protocol_id[0]) {
		char proto[RIG_ID_MAX * 2 + 16];

		snprintf(proto, sizeof(proto), "%s revision %s", res->protocol_id,
			 res->protocol_revision);
		property(f, "protocol", proto);
	}
	{
		char n_text[32];

		snprintf(n_text, sizeof(n_text), "%zu", res->n_samples_total);
		property(f, "samples", n_text);
		snprintf(n_text, sizeof(n_text), "%zu", res->n_deviations + res->n_deviations_dropped);
		property(f, "deviations", n_text);
	}
	property(f, "time_basis", "run time on the bench (seconds of the record), not wall time");
	for (size_t i = 0; extra_properties && extra_properties[i] && extra_properties[i + 1]; i += 2)
		property(f, extra_properties[i], extra_properties[i + 1]);
	fputs("    </properties>\n", f);
	for (size_t i = 0; i < res->n_checks; i++)
		write_check(f, &res->checks[i]);
	if (res->status != RUN_COMPLETED) {
		fprintf(f, "    <testcase classname=\"run\" name=\"run\" time=\"%.3f\">\n"
			"      <error type=\"%s\" message=\"", rig_ns_to_s(res->end_t_ns),
			run_status_name(res->status));
		xml_text(f, res->end_reason);
		fputs("\">the run did not complete; its checks were judged on the partial record"
		      "</error>\n    </testcase>\n", f);
	}
	if (*results_nothing_judged(res)) {
		fputs("    <testcase classname=\"checks\" name=\"checks\" time=\"0.000\">\n"
		      "      <error type=\"nothing_judged\" message=\"", f);
		xml_text(f, results_nothing_judged(res));
		fputs("\">a run is judged by the check steps of its sequence, and this one has "
		      "none</error>\n    </testcase>\n", f);
	}
	/* the deviations a reviewer weighs with the verdict */
	if (res->n_deviations) {
		fputs("    <system-out>", f);
		for (size_t i = 0; i < res->n_deviations; i++) {
			const struct deviation *d = &res->deviations[i];

			fprintf(f, "deviation: %s", deviation_words(d->kind));
			if (d->has_t)
				fprintf(f, " at t = %.1f s", rig_ns_to_s(d->t_ns));
			fputs(": ", f);
			xml_body(f, d->text);
			fputc('\n', f);
		}
		fputs("</system-out>\n", f);
	}
	fputs("  </testsuite>\n", f);
}

int report_write_junit(const struct run_results *res, const char *run_dir, const char *path)
{
	char tmp[RIG_PATH_MAX + 8];
	struct junit_counts n;
	FILE *f;
	int r = 0;

	report_junit_counts(res, &n);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" "
		"time=\"%.3f\">\n", n.tests, n.failures, n.errors, n.time_s);
	report_junit_suite(f, res, run_dir, NULL, NULL);
	fputs("</testsuites>\n", f);
	if (ferror(f))
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r < 0)
		remove(tmp);
	return r;
}

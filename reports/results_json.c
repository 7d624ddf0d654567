/* results.json, written with jansson.  Schema: docs/results-json.md. */
#include "reports.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static json_t *check_json(const struct check_result *c)
{
	json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "check", c->check, "requirement",
			      c->requirement, "sequence_line", c->seq_line, "verdict",
			      verdict_name(c->verdict));

	if (!o)
		return NULL;
	if (c->window[0])
		json_object_set_new(o, "window", json_string(c->window));
	json_object_set_new(o, "measured", c->has_measured ? json_real(c->measured) : json_null());
	json_object_set_new(o, "unit", json_string(c->unit));
	if (strcmp(c->check, "dose_accuracy") == 0) {
		json_object_set_new(o, "limit", json_pack("{s:f, s:f}", "low", c->limit_low,
							  "high", c->limit_high));
		if (c->has_measured)
			json_object_set_new(o, "inputs", json_pack(
				"{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I}",
				"window_begin_s", rig_ns_to_s(c->t_begin_ns),
				"window_end_s", rig_ns_to_s(c->t_end_ns),
				"mass_begin_g", c->mass_begin_g, "mass_end_g", c->mass_end_g,
				"collected_g", c->collected_g, "evaporation_g", c->evaporation_g,
				"delivered_ml", c->delivered_ml, "programmed_ml", c->programmed_ml,
				"balance_samples", (json_int_t)c->n_samples));
	}
	json_object_set_new(o, "criterion", json_string(c->criterion));
	json_object_set_new(o, "explanation", json_string(c->explanation));
	json_object_set_new(o, "source", json_string(c->source));
	return o;
}

int report_write_json(const struct run_results *res, const char *path)
{
	json_t *root, *checks;
	char tmp[RIG_PATH_MAX + 8];
	int r = 0;

	checks = json_array();
	for (size_t i = 0; i < res->n_checks; i++)
		json_array_append_new(checks, check_json(&res->checks[i]));
	root = json_pack("{s:s, s:{s:s, s:s}, s:s, s:{s:s, s:s}, s:s, s:s, s:f, s:I, s:s, s:o}",
			 "schema", "pumprig.results/1",
			 "sequence", "id", res->sequence_id, "title", res->sequence_title,
			 "bench", res->bench_id,
			 "device", "model", res->device_model, "serial", res->device_serial,
			 "status", run_status_name(res->status),
			 "end_reason", res->end_reason,
			 "end_s", rig_ns_to_s(res->end_t_ns),
			 "samples", (json_int_t)res->n_samples_total,
			 "overall_verdict", verdict_name(res->overall),
			 "checks", checks);
	if (!root)
		return -ENOMEM;
	/* Written beside and renamed over, so a reader never sees half a file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) != 0)
		r = -EIO;
	else if (rename(tmp, path) != 0)
		r = -errno;
	json_decref(root);
	return r;
}

void report_write_summary(const struct run_results *res, FILE *out)
{
	fprintf(out, "Sequence %s: %s\n", res->sequence_id, res->sequence_title);
	fprintf(out, "Device   %s serial %s on bench %s\n", res->device_model, res->device_serial,
		res->bench_id);
	fprintf(out, "Run      %s at t = %.1f s (%.3f h)", run_status_name(res->status),
		rig_ns_to_s(res->end_t_ns), rig_ns_to_h(res->end_t_ns));
	if (res->end_reason[0] && res->status != RUN_COMPLETED)
		fprintf(out, ": %s", res->end_reason);
	fprintf(out, "\n\n");
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];

		fprintf(out, "%-12s %s", verdict_name(c->verdict), c->check);
		if (c->window[0])
			fprintf(out, " [%s]", c->window);
		if (c->requirement[0])
			fprintf(out, " (%s)", c->requirement);
		if (c->has_measured)
			fprintf(out, ": %+.3f %s, limit %+.3g .. %+.3g %s", c->measured, c->unit,
				c->limit_low, c->limit_high, c->unit);
		fprintf(out, "\n             %s\n", c->explanation);
	}
	if (res->n_checks == 0)
		fprintf(out, "(the sequence has no checks)\n");
	fprintf(out, "\nOverall: %s\n", verdict_name(res->overall));
}

int report_write_all(const struct run_results *res, const char *run_dir)
{
	char path[RIG_PATH_MAX + 32];
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/results.json", run_dir);
	r = report_write_json(res, path);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/summary.txt", run_dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	report_write_summary(res, f);
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

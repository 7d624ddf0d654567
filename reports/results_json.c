/* results.json, written with jansson.  Schema: docs/results-json.md. */
#include "reports.h"
#include "rig/base/text.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A number, or null when it is not finite (JSON has no infinity or NaN). */
static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *measurement_json(const struct measurement *m)
{
	char words[96];
	json_t *o;

	measurement_words(m->name, words, sizeof(words));
	o = json_pack("{s:s, s:s, s:o, s:o, s:s}", "name", m->name, "label", words,
		      "value", num(m->value), "U", num(m->u_expanded), "unit", m->unit);
	if (m->has_limit) {
		json_object_set_new(o, "limit", json_pack("{s:o, s:o}", "low", num(m->limit_low),
							  "high", num(m->limit_high)));
		json_object_set_new(o, "requirement", json_string(m->requirement));
		json_object_set_new(o, "verdict", json_string(verdict_name(m->verdict)));
	}
	json_object_set_new(o, "source", json_string(m->source));
	return o;
}

/* The decision rule a check's limits were judged by (decision.c). */
static json_t *rule_json(const struct decision_rule *r)
{
	char text[256];

	decision_rule_text(r, text, sizeof(text));
	return json_pack("{s:s, s:o, s:s, s:b, s:s}",
			 "rule", r->kind == DECISION_GUARDED ? "guarded" : "simple",
			 "guard_band_U", r->kind == DECISION_GUARDED ? json_real(r->guard_factor) :
				     json_null(),
			 "key", r->key, "stated", r->stated, "text", text);
}

static json_t *budget_json(const struct check_result *c)
{
	json_t *a = json_array();

	for (size_t i = 0; i < c->n_budget; i++) {
		const struct budget_term *b = &c->budget[i];

		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:s, s:s}", "quantity", b->quantity,
						   "term", b->term, "u", num(b->u), "unit", b->unit,
						   "source", b->source));
	}
	return a;
}

static json_t *check_json(const struct check_result *c)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s}", "check", c->check, "label",
			      check_words(c->check), "requirement", c->requirement,
			      "sequence_line", c->seq_line, "verdict", verdict_name(c->verdict));
	json_t *ms, *more;

	if (!o)
		return NULL;
	if (c->window[0])
		json_object_set_new(o, "window", json_string(c->window));
	json_object_set_new(o, "measured", c->has_measured ? num(c->measured) : json_null());
	json_object_set_new(o, "U", c->has_measured ? num(c->u_expanded) : json_null());
	json_object_set_new(o, "unit", json_string(c->unit));
	if (strcmp(c->check, "step_timeout") != 0)
		json_object_set_new(o, "limit", json_pack("{s:o, s:o}", "low", num(c->limit_low),
							  "high", num(c->limit_high)));
	if (strcmp(c->check, "dose_accuracy") == 0 && c->has_measured)
		json_object_set_new(o, "inputs", json_pack(
			"{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I}",
			"window_begin_s", rig_ns_to_s(c->t_begin_ns),
			"window_end_s", rig_ns_to_s(c->t_end_ns),
			"mass_begin_g", c->mass_begin_g, "mass_end_g", c->mass_end_g,
			"collected_g", c->collected_g, "evaporation_g", c->evaporation_g,
			"delivered_ml", c->delivered_ml, "programmed_ml", c->programmed_ml,
			"balance_samples", (json_int_t)c->n_samples));
	ms = json_array();
	for (size_t i = 0; i < c->n_m; i++)
		json_array_append_new(ms, measurement_json(&c->m[i]));
	json_object_set_new(o, "measurements", ms);
	if (c->n_curve > 0) {
		json_t *curve = json_array();

		for (size_t i = 0; i < c->n_curve; i++)
			json_array_append_new(curve, json_pack("[f, f]", c->curve_t_s[i],
							       c->curve_q_ml_per_h[i]));
		json_object_set_new(o, "startup_curve", curve);
		json_object_set_new(o, "startup_curve_columns", json_pack("[s, s]", "t_s",
									  "flow_ml_per_h"));
	}
	if (c->set_rate_ml_per_h > 0)
		json_object_set_new(o, "set_rate_ml_per_h", json_real(c->set_rate_ml_per_h));
	json_object_set_new(o, "criterion", json_string(c->criterion));
	more = json_array();
	for (size_t i = 0; i < c->n_more; i++) {
		int v = decision_requirement_verdict(c, c->more[i].requirement);

		json_array_append_new(more, json_pack("{s:s, s:s, s:s?}", "requirement",
						      c->more[i].requirement, "criterion",
						      c->more[i].text, "verdict",
						      v < 0 ? NULL : verdict_name((enum verdict)v)));
	}
	json_object_set_new(o, "other_requirements", more);
	if (strcmp(c->check, "step_timeout") != 0)
		json_object_set_new(o, "decision_rule", rule_json(&c->rule));
	json_object_set_new(o, "uncertainty_budget", budget_json(c));
	json_object_set_new(o, "explanation", json_string(c->explanation));
	json_object_set_new(o, "source", json_string(c->source));
	return o;
}

/* What the bench measured of the fluid and the air, each with its declared
 * range and what fell outside it. */
static json_t *conditions_json(const struct run_results *res)
{
	json_t *a = json_array();

	for (size_t i = 0; i < res->n_conditions; i++) {
		const struct measured_condition *mc = &res->conditions[i];
		bool any = mc->n > 0;
		json_t *o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:s}",
			"role", rig_role_name((enum rig_role)mc->role),
			"unit", quantity_unit(role_primary_quantity((enum rig_role)mc->role)),
			"readings", (json_int_t)mc->n,
			"mean", any ? num(mc->mean) : json_null(),
			"sd", any ? num(mc->sd) : json_null(),
			"min", any ? num(mc->min) : json_null(),
			"max", any ? num(mc->max) : json_null(),
			"u", any ? num(mc->u) : json_null(),
			"source", "samples.csv");

		json_object_set_new(o, "declared_range", mc->range_given
			? json_pack("{s:o, s:o, s:s}", "low", num(mc->lo), "high", num(mc->hi),
				    "source", "inputs/bench.cfg conditions")
			: json_null());
		json_object_set_new(o, "readings_outside", json_integer((json_int_t)mc->n_outside));
		/* null: nothing to judge (no reading, or no declared range) */
		json_object_set_new(o, "in_range", any && mc->range_given
					? json_boolean(mc->n_outside == 0) : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

int report_write_json(const struct run_results *res, const char *path)
{
	json_t *root, *checks;
	char tmp[RIG_PATH_MAX + 8];
	int r = 0;

	json_t *events, *chain, *protocol, *deviations;

	checks = json_array();
	for (size_t i = 0; i < res->n_checks; i++)
		json_array_append_new(checks, check_json(&res->checks[i]));
	events = json_array();
	for (size_t i = 0; i < res->n_events; i++)
		json_array_append_new(events, json_pack("{s:f, s:s, s:s, s:s}", "t_s",
			rig_ns_to_s(res->events[i].t_ns), "role", res->events[i].role, "kind",
			res->events[i].kind, "description", res->events[i].description));
	chain = json_pack("{s:o, s:s, s:o, s:o, s:o, s:s}",
			  "density_g_per_ml", num(res->density_g_per_ml),
			  "density_source", res->density_source,
			  "volume_per_balance_gram_ml_per_g", num(res->ml_per_g),
			  "evaporation_mg_per_h", num(res->evaporation_g_per_h * 1e3),
			  "evaporation_u_mg_per_h", num(res->u_evaporation_g_per_h * 1e3),
			  "evaporation_source", res->evaporation_source);
	json_object_set_new(chain, "density_u_g_per_ml", num(res->u_density_g_per_ml));
	json_object_set_new(chain, "air_density_kg_per_m3", num(res->air_density_kg_per_m3));
	json_object_set_new(chain, "air_density_u_kg_per_m3", num(res->u_air_density_kg_per_m3));
	json_object_set_new(chain, "air_density_source", json_string(res->air_density_source));
	json_object_set_new(chain, "conditions", conditions_json(res));
	/* the protocol the sequence carries out, null when it names none */
	protocol = json_null();
	if (res->protocol_id[0]) {
		json_t *standards = json_array();

		for (size_t i = 0; i < res->n_standards; i++)
			json_array_append_new(standards, json_string(res->standards[i]));
		json_decref(protocol);
		protocol = json_pack("{s:s, s:s, s:o}", "id", res->protocol_id, "revision",
				     res->protocol_revision, "standards", standards);
	}
	deviations = json_array();
	for (size_t i = 0; i < res->n_deviations; i++) {
		const struct deviation *d = &res->deviations[i];

		json_array_append_new(deviations, json_pack("{s:s, s:s, s:o, s:s}", "kind", d->kind,
			"label", deviation_words(d->kind),
			"t_s", d->has_t ? json_real(rig_ns_to_s(d->t_ns)) : json_null(),
			"text", d->text));
	}
	root = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:o, s:s, s:s, s:b, s:{s:s, s:s}, s:s, s:s, s:o, s:o, s:o, s:f, s:I, s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:I}",
			 "schema", "pumprig.results/3",
			 "run_id", res->run_id,
			 "sequence", "id", res->sequence_id, "title", res->sequence_title,
			 "version", res->sequence_version,
			 "protocol", protocol,
			 "bench", res->bench_id,
			 "bench_kind", res->bench_kind,
			 "verification_evidence", results_is_evidence(res),
			 "device", "model", res->device_model, "serial", res->device_serial,
			 "status", run_status_name(res->status),
			 "end_reason", res->end_reason,
			 "end_cause", res->end_cause[0] ? json_string(res->end_cause) : json_null(),
			 "ended_utc", res->ended_utc[0] ? json_string(res->ended_utc) : json_null(),
			 "bench_left_safe", res->bench_left_safe < 0 ? json_null() :
					    json_boolean(res->bench_left_safe),
			 "end_s", rig_ns_to_s(res->end_t_ns),
			 "samples", (json_int_t)res->n_samples_total,
			 "overall_verdict", verdict_name(res->overall),
			 "verdict_text", results_verdict_text(res),
			 "deviations", deviations,
			 "deviations_dropped", (json_int_t)res->n_deviations_dropped,
			 "checks", checks,
			 "gravimetric", chain,
			 "instrument_events", events,
			 "instrument_events_dropped", (json_int_t)res->n_events_dropped);
	if (!root)
		return -ENOMEM;
	if (*results_nothing_judged(res))
		json_object_set_new(root, "nothing_judged", json_string(results_nothing_judged(res)));
	if (res->n_damaged_rows > 0) {
		json_t *listed = json_array();

		for (size_t i = 0; i < res->n_damaged_rows && i < DAMAGED_ROWS_LISTED; i++)
			json_array_append_new(listed, json_pack("{s:I, s:s}", "line",
				(json_int_t)res->damaged[i].line, "problem",
				sample_damage_text(res->damaged[i].damage)));
		json_object_set_new(root, "damaged_rows", json_pack("{s:I, s:o}", "count",
			(json_int_t)res->n_damaged_rows, "first", listed));
	}
	/* Written beside and renamed over, so a reader never sees half a file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) != 0)
		r = -EIO;
	else if (rename(tmp, path) != 0)
		r = -errno;
	json_decref(root);
	return r;
}

/* The summary; for a terminal (term) every text the run's files gave it is
 * escaped (rig/base/text.h), for summary.txt it is written exact. */
#define TXT(s) (term ? TERM_SAFE(s) : (s))
/* "limit -10 .. +10 %", "limit <= +0.05 mL", "limit >= +5 year" */
static void print_limit(FILE *out, double lo, double hi, const char *unit)
{
	if (isfinite(lo) && isfinite(hi))
		fprintf(out, "limit %+.4g .. %+.4g %s", lo, hi, unit);
	else if (isfinite(lo))
		fprintf(out, "limit >= %+.4g %s", lo, unit);
	else if (isfinite(hi))
		fprintf(out, "limit <= %+.4g %s", hi, unit);
	else
		fprintf(out, "no limit");
}

static void summary(const struct run_results *res, FILE *out, bool term)
{
	fprintf(out, "Sequence %s: %s\n", TXT(res->sequence_id), TXT(res->sequence_title));
	if (res->protocol_id[0]) {
		fprintf(out, "Protocol %s revision %s, following", TXT(res->protocol_id),
			TXT(res->protocol_revision));
		for (size_t i = 0; i < res->n_standards; i++)
			fprintf(out, "%s %s", i ? ";" : "", TXT(res->standards[i]));
		fputc('\n', out);
	}
	fprintf(out, "Device   %s serial %s on bench %s\n", TXT(res->device_model),
		TXT(res->device_serial), TXT(res->bench_id));
	if (!results_is_evidence(res))
		fprintf(out, "Bench    %s BENCH: NOT VERIFICATION EVIDENCE\n",
			strcmp(res->bench_kind, "wire-simulated") == 0 ? "WIRE-SIMULATED" : "SIMULATED");
	fprintf(out, "Run      %s at t = %.1f s (%.3f h)", run_status_name(res->status),
		rig_ns_to_s(res->end_t_ns), rig_ns_to_h(res->end_t_ns));
	if (res->end_reason[0] && res->status != RUN_COMPLETED)
		fprintf(out, ": %s", TXT(res->end_reason));
	fprintf(out, "\n");
	if (res->n_damaged_rows > 0) {
		char listed[1024];

		results_damaged_text(res, listed, sizeof(listed));
		fprintf(out, "Record   DAMAGED: %zu row(s) of samples.csv rig could not have written, "
			"left out of every check and table: %s\n", res->n_damaged_rows, TXT(listed));
	}
	fprintf(out, "\n");
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];
		const struct measurement *m;

		fprintf(out, "%-12s %s", verdict_name(c->verdict), c->check);
		if (c->window[0])
			fprintf(out, " [%s]", TXT(c->window));
		if (c->requirement[0])
			fprintf(out, " (%s)", TXT(c->requirement));
		if ((m = decision_deciding(c))) {
			fprintf(out, ": %s %+.4g", m->name, m->value);
			if (isfinite(m->u_expanded))
				fprintf(out, " +- %.2g", m->u_expanded);
			fprintf(out, " %s, ", m->unit);
			print_limit(out, m->limit_low, m->limit_high, m->unit);
		} else if (c->has_measured) {
			fprintf(out, ": %+.4g", c->measured);
			if (isfinite(c->u_expanded))
				fprintf(out, " +- %.2g", c->u_expanded);
			fprintf(out, " %s, ", c->unit);
			print_limit(out, c->limit_low, c->limit_high, c->unit);
		}
		fprintf(out, "\n             %s\n", TXT(c->explanation));
		/* a check that judges more than one requirement: each one's verdict */
		if (c->n_more > 0) {
			fprintf(out, "             by requirement:");
			for (size_t k = 0; k <= c->n_more; k++) {
				const char *r = check_requirement_at(c, k);
				int v = decision_requirement_verdict(c, r);

				fprintf(out, "%s %s %s", k ? ";" : "", TXT(r),
					v < 0 ? "not judged" : verdict_name((enum verdict)v));
			}
			fprintf(out, "\n");
		}
	}
	if (res->n_checks == 0)
		fprintf(out, "(the sequence has no checks: nothing was judged)\n");
	if (res->n_deviations)
		fprintf(out, "\nDeviations (%zu):\n", res->n_deviations + res->n_deviations_dropped);
	for (size_t i = 0; i < res->n_deviations; i++) {
		const struct deviation *d = &res->deviations[i];

		fprintf(out, "  %s", deviation_words(d->kind));
		if (d->has_t)
			fprintf(out, " at t = %.1f s", rig_ns_to_s(d->t_ns));
		fprintf(out, ": %s\n", TXT(d->text));
	}
	if (res->n_deviations_dropped)
		fprintf(out, "  ... and %zu more (results.json counts them)\n",
			res->n_deviations_dropped);
	fprintf(out, "\nOverall: %s", results_verdict_text(res));
	if (*results_nothing_judged(res))
		fprintf(out, " (%s)", results_nothing_judged(res));
	fputc('\n', out);
}

#undef TXT

void report_write_summary(const struct run_results *res, FILE *out)
{
	summary(res, out, false);
}

void report_print_summary(const struct run_results *res, FILE *out)
{
	summary(res, out, true);
}

int report_write_records(const struct run_results *res, const char *run_dir,
			 bool *ret_results_written)
{
	char path[RIG_PATH_MAX + 32];
	FILE *f;
	int r;

	if (ret_results_written)
		*ret_results_written = false;
	snprintf(path, sizeof(path), "%s/results.json", run_dir);
	r = report_write_json(res, path);
	if (r < 0)
		return r;
	if (ret_results_written)
		*ret_results_written = true;
	/* a new file renamed over the old, as every other output: never a
	 * half-written summary, and the one sealed stays whole until then
	 * (rig note keeps it aside as a link while it writes the outputs) */
	snprintf(path, sizeof(path), "%s/summary.txt.tmp", run_dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	report_write_summary(res, f);
	if (fclose(f) != 0) {
		r = -errno;
		(void)unlink(path);
		return r;
	}
	{
		char final[RIG_PATH_MAX + 32];

		snprintf(final, sizeof(final), "%s/summary.txt", run_dir);
		if (rename(path, final) != 0) {
			r = -errno;
			(void)unlink(path);
			return r;
		}
	}
	snprintf(path, sizeof(path), "%s/junit.xml", run_dir);
	return report_write_junit(res, run_dir, path);
}

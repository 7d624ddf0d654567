/* The report's content, in the order a reviewer reads it: the verdict and a
 * line per check on page 1, then identification, equipment, acceptance
 * criteria and results, the gravimetric chain, deviations, plots,
 * traceability, signatures.  Every number printed here is
 * taken from the judged results (results.json says the same) or from a named
 * file of the run directory; docs/report.md lists where each comes from. */
#define _GNU_SOURCE   /* vasprintf */
#include "report_doc.h"
#include "report_signatures.h"

#include <errno.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports.h"
#include "version.h"

/* -------------------------------------------------------------- sections -- */

/* Page 1: the verdict, how the run ended, what it was (and whether it can
 * be evidence at all), one line per check, and the deviations to weigh. */
static void section_summary(struct report_doc *doc, const struct run_results *res,
			    const struct report_data *d)
{
	char verdict[64], title[160], reqs[256], kinds[512] = "";
	struct doc_block *t;

	doc_verdict_upper(res, verdict, sizeof(verdict));
	doc_text(doc, DB_VERDICT, doc_verdict_style(res->overall), "Overall verdict: %s%s%s",
		 verdict, *results_nothing_judged(res) ? " — " : "", results_nothing_judged(res));
	if (res->status == RUN_COMPLETED)
		doc_text(doc, DB_PARA, DS_NORMAL, "The run completed: every step ran (%.3f h of run "
			 "time, %zu samples).", rig_ns_to_h(res->end_t_ns), res->n_samples_total);
	else
		doc_text(doc, DB_PARA, DS_WARN, "The run was %s at t = %.1f s (%.3f h): %s. Its "
			 "checks were judged on the partial record; a check whose window did not "
			 "complete is inconclusive.", res->status == RUN_ABORTED ? "ABORTED" :
			 "INTERRUPTED", rig_ns_to_s(res->end_t_ns), rig_ns_to_h(res->end_t_ns),
			 res->end_reason);
	if (!results_is_evidence(res))
		doc_text(doc, DB_PARA, DS_WARN, "The bench %s is %s: this run is not verification "
			 "evidence. It shows what the method and the software do with a model of the "
			 "pump, not what a pump does.", res->bench_id,
			 strcmp(res->bench_kind, "wire-simulated") == 0 ?
			 "wire-simulated (rig's own simulator, served over the instruments' protocols)" :
			 "simulated (its instruments, or some of them, in-process physics models)");
	if (res->protocol_id[0]) {
		char std[RIG_ID_MAX * PROTOCOL_STANDARDS_MAX + 16] = "";

		for (size_t i = 0; i < res->n_standards; i++) {
			size_t used = strlen(std);

			snprintf(std + used, sizeof(std) - used, "%s%s",
				 i == 0 ? "" : i + 1 == res->n_standards ? " and " : ", ",
				 res->standards[i]);
		}
		doc_text(doc, DB_PARA, DS_NORMAL, "Protocol %s revision %s (sequence %s version %s), "
			 "following the methods of %s. Device under test: %s serial %s, firmware %s.",
			 res->protocol_id, res->protocol_revision, res->sequence_id, res->sequence_version,
			 std, d->dev->model, d->dev->serial,
			 d->dev->firmware[0] ? d->dev->firmware : "not stated");
	} else {
		doc_text(doc, DB_PARA, DS_WARN, "The sequence %s version %s names no protocol and no "
			 "standard (its protocol group): what it was meant to verify is not on record. "
			 "Device under test: %s serial %s.", res->sequence_id, res->sequence_version,
			 d->dev->model, d->dev->serial);
	}
	if (res->n_checks > 0) {
		doc_text(doc, DB_H2, DS_NORMAL, "Results at a glance");
		t = doc_table(doc, true, 6, 0.04, 0.25, 0.21, 0.19, 0.16, 0.15);
		doc_add_cell(doc, t, DS_HEAD, "#");
		doc_add_cell(doc, t, DS_HEAD, "check [window]");
		doc_add_cell(doc, t, DS_HEAD, "requirements");
		doc_add_cell(doc, t, DS_HEAD, "result ± U (k = 2)");
		doc_add_cell(doc, t, DS_HEAD, "limit");
		doc_add_cell(doc, t, DS_HEAD, "verdict");
		for (size_t i = 0; i < res->n_checks; i++) {
			const struct check_result *c = &res->checks[i];

			doc_check_requirements(c, reqs, sizeof(reqs));
			doc_add_cell(doc, t, DS_NORMAL, "%zu", i + 1);
			doc_check_title(c, title, sizeof(title));
			doc_add_cell(doc, t, DS_NORMAL, "%s", title);
			doc_add_cell(doc, t, DS_MONO, "%s", reqs);
			doc_check_result_cells(doc, t, c);
		}
	}
	/* the kinds of deviation, each once with its count */
	for (size_t i = 0; i < res->n_deviations; i++) {
		const char *kind = res->deviations[i].kind;
		size_t n = 0, used = strlen(kinds);
		bool seen = false;

		for (size_t k = 0; k < res->n_deviations; k++) {
			n += strcmp(res->deviations[k].kind, kind) == 0;
			seen |= k < i && strcmp(res->deviations[k].kind, kind) == 0;
		}
		if (seen)
			continue;
		if (n > 1)
			snprintf(kinds + used, sizeof(kinds) - used, "%s%s (%zu)", used ? ", " : "",
				 deviation_words(kind), n);
		else
			snprintf(kinds + used, sizeof(kinds) - used, "%s%s", used ? ", " : "",
				 deviation_words(kind));
	}
	if (res->n_deviations)
		doc_text(doc, DB_PARA, DS_WARN, "Deviations (%zu): %s. Section 5 lists each with what "
			 "happened%s", res->n_deviations + res->n_deviations_dropped, kinds,
			 res->overall == VERDICT_PASS && res->status == RUN_COMPLETED ?
			 "; a pass with deviations is a pass only once each is accepted." : ".");
	else
		doc_text(doc, DB_PARA, DS_NORMAL, "Deviations: none (no override, fault, gap, "
			 "timeout, overrun, instrument event or operator note).");
}

static void section_identification(struct report_doc *doc, const struct run_results *res,
				   const struct report_data *d)
{
	const struct device *dev = d->dev;
	const struct bench *bench = d->bench;
	struct doc_block *t;
	char reqs[512] = "";
	bool virtual_clock;

	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];

		for (size_t k = 0; k <= c->n_more; k++) {
			const char *r = check_requirement_at(c, k);
			size_t len = strlen(reqs);

			if (!r[0] || strstr(reqs, r))
				continue;
			snprintf(reqs + len, sizeof(reqs) - len, "%s%s", len ? ", " : "", r);
		}
	}
	doc_text(doc, DB_H1, DS_NORMAL, "1  Identification");
	t = doc_table(doc, false, 2, 0.26, 0.74);
	doc_kv(doc, t, "Report id", "%s", d->report_id);
	doc_kv(doc, t, "Run id", "%s", res->run_id[0] ? res->run_id :
	       "not recorded (run.json has no run_id)");
	doc_kv(doc, t, "Sequence", "%s, version %s — %s", d->seq->id, d->seq->version, d->seq->title);
	if (d->seq->has_protocol) {
		char std[RIG_ID_MAX * PROTOCOL_STANDARDS_MAX + 16] = "";

		for (size_t i = 0; i < d->seq->n_standards; i++) {
			size_t used = strlen(std);

			snprintf(std + used, sizeof(std) - used, "%s%s", i ? "; " : "",
				 d->seq->standards[i]);
		}
		doc_kv(doc, t, "Protocol", "%s, revision %s (inputs/sequence.cfg protocol)",
		       d->seq->protocol_id, d->seq->protocol_revision);
		doc_kv(doc, t, "Methods of", "%s", std);
	} else {
		doc_kv(doc, t, "Protocol", "NOT STATED: the sequence names no protocol and no standard");
		if (t && t->n_cells >= 2)
			t->cells[t->n_cells - 1].style = DS_WARN;
	}
	doc_kv(doc, t, "Sequence SHA-256", "%s (inputs/sequence.cfg)", d->sha_sequence);
	doc_kv(doc, t, "Bench, device SHA-256", "%s (inputs/bench.cfg); %s (inputs/device.cfg)",
	   d->sha_bench, d->sha_device);
	doc_kv(doc, t, "Requirements checked", "%s", reqs[0] ? reqs : "none (the sequence has no checks)");
	doc_kv(doc, t, "Device under test", "%s, serial %s, firmware %s, manufacturer %s (inputs/device.cfg)",
	   dev->model, dev->serial, dev->firmware[0] ? dev->firmware : "not stated",
	   dev->manufacturer[0] ? dev->manufacturer : "not stated");
	doc_kv(doc, t, "Bench", "%s%s%s", bench->id, bench->description[0] ? " — " : "",
	   bench->description);
	doc_kv(doc, t, "Bench kind", "%s", results_is_evidence(res) ? "real instruments" :
	       strcmp(res->bench_kind, "wire-simulated") == 0 ?
	       "WIRE-SIMULATED (rig sim serve in lockstep): NOT VERIFICATION EVIDENCE" :
	       "SIMULATED (in-process physics model): NOT VERIFICATION EVIDENCE");
	if (t && t->n_cells >= 2 && !results_is_evidence(res))
		t->cells[t->n_cells - 1].style = DS_WARN;
	if (res->retry_of[0])
		doc_kv(doc, t, "Run again of", "%s (rig nightly ran it again after the bench let it "
		       "down)", res->retry_of);
	doc_kv(doc, t, "Operator", "%s", d->operator_name[0] ? d->operator_name :
	   "not recorded (run.json has no operator)");
	doc_kv(doc, t, "Software", "%s (this report: pumprig %s)",
	   d->software[0] ? d->software : "not recorded", RIG_VERSION);
	/* wall-clock times: on a simulated bench in virtual time, seconds apart
	 * for a run of days, which the run-time row gives */
	virtual_clock = strncmp(d->clock, "virtual", 7) == 0;
	doc_kv(doc, t, "Started (UTC)", "%s%s", d->started_utc[0] ? d->started_utc :
	   d->start_utc[0] ? d->start_utc : "not recorded",
	   virtual_clock ? " (wall clock; the run itself ran in virtual time)" : "");
	doc_kv(doc, t, "Ended (UTC)", "%s%s", d->end_utc[0] ? d->end_utc :
	   res->status == RUN_INTERRUPTED ? "no run_end event: the run was interrupted" :
	   "not recorded (run_end event without utc)",
	   virtual_clock && d->end_utc[0] ? " (wall clock)" : "");
	doc_kv(doc, t, "Run time recorded", "%.1f s (%.3f h), %zu samples%s%s", rig_ns_to_s(res->end_t_ns),
	   rig_ns_to_h(res->end_t_ns), res->n_samples_total,
	   res->n_torn_lines ? ", a torn last line skipped" : "",
	   res->n_damaged_rows ? "; DAMAGED ROWS left out (section 5)" : "");
	doc_kv(doc, t, "Run status", "%s — %s", run_status_name(res->status), res->end_reason);
	doc_kv(doc, t, "Clock", "%s", d->clock[0] ? d->clock : "not recorded");
	if (d->scheduler[0])
		doc_kv(doc, t, "Scheduler", "%s (bench.realtime_priority; events.jsonl realtime)",
		       d->scheduler);
	if (res->n_conditions > 0)
		doc_kv(doc, t, "Environment", "fluid density %.7f g/mL — %s; air density %.4f kg/m³ — "
		   "%s (section 4, measured conditions)", res->density_g_per_ml, res->density_source,
		   res->air_density_kg_per_m3, res->air_density_source);
	else
		doc_kv(doc, t, "Environment", "fluid %s at %.2f °C, air density %.3g kg/m³ (stated in "
		   "inputs/bench.cfg fluid, not measured during the run; they set the density and the "
		   "buoyancy correction of section 4)",
		   bench->fluid_name[0] ? bench->fluid_name : "water", bench->fluid_temperature_c,
		   bench->air_density_g_per_ml * 1e3);
	doc_kv(doc, t, "Host", "%s", d->host[0] ? d->host : "not recorded");
	doc_kv(doc, t, "Run directory", "%s", d->run_dir_name);
	if (d->inputs_sha_mismatch)
		doc_kv(doc, t, "Input files", "CHANGED: a digest in run.json inputs_sha256 differs from the file in inputs/ now");
	if (t && t->n_cells >= 2 && d->inputs_sha_mismatch)
		t->cells[t->n_cells - 1].style = DS_WARN;
}

static void section_equipment(struct report_doc *doc, const struct report_data *d)
{
	const struct bench *bench = d->bench;
	struct doc_block *t;

	doc_text(doc, DB_H1, DS_NORMAL, "2  Equipment");
	t = doc_table(doc, true, 8, 0.10, 0.09, 0.16, 0.13, 0.12, 0.13, 0.12, 0.15);
	doc_add_cell(doc, t, DS_HEAD, "role");
	doc_add_cell(doc, t, DS_HEAD, "backend");
	doc_add_cell(doc, t, DS_HEAD, "model");
	doc_add_cell(doc, t, DS_HEAD, "serial");
	doc_add_cell(doc, t, DS_HEAD, "calibrated");
	doc_add_cell(doc, t, DS_HEAD, "due");
	doc_add_cell(doc, t, DS_HEAD, "u (k = 1)");
	doc_add_cell(doc, t, DS_HEAD, "calibration");
	for (int role = 0; role < ROLE__COUNT; role++) {
		const struct instrument_cfg *ic = &bench->instrument[role];

		if (!ic->present)
			continue;
		doc_add_cell(doc, t, DS_NORMAL, "%s", rig_role_name(role));
		doc_add_cell(doc, t, DS_NORMAL, "%s", ic->backend);
		/* the pump is the device under test, not bench equipment: its
		 * row is the bench's link to it, and its serial the device's */
		if (role == ROLE_PUMP) {
			doc_add_cell(doc, t, DS_NORMAL, "device under test (link: %s)",
			     ic->model[0] ? ic->model : ic->backend);
			doc_add_cell(doc, t, DS_MONO, "%s", d->dev->serial);
			doc_add_cell(doc, t, DS_NORMAL, "—");
			doc_add_cell(doc, t, DS_NORMAL, "—");
			doc_add_cell(doc, t, DS_NORMAL, "—");
			doc_add_cell(doc, t, DS_NORMAL, "not calibrated: under test");
			continue;
		}
		doc_add_cell(doc, t, DS_NORMAL, "%s", ic->model[0] ? ic->model : "—");
		doc_add_cell(doc, t, DS_MONO, "%s", ic->serial[0] ? ic->serial : "—");
		doc_add_cell(doc, t, DS_NORMAL, "%s", ic->cal.date[0] ? ic->cal.date : "—");
		doc_add_cell(doc, t, d->expired[role] ? DS_WARN : DS_NORMAL, "%s",
		     ic->cal.due[0] ? ic->cal.due : "—");
		if (ic->cal.uncertainty > 0 && role == ROLE_SCALE)
			doc_add_cell(doc, t, DS_NORMAL, "%.3g mg", ic->cal.uncertainty * 1e3);
		else if (ic->cal.uncertainty > 0)
			doc_add_cell(doc, t, DS_NORMAL, "%.3g %s", ic->cal.uncertainty, doc_role_unit(role));
		else
			doc_add_cell(doc, t, DS_NORMAL, "not stated");
		if (d->expired[role])
			doc_add_cell(doc, t, DS_WARN, "EXPIRED");
		else if (ic->cal.due[0])
			doc_add_cell(doc, t, DS_PASS, "valid");
		else
			doc_add_cell(doc, t, DS_NORMAL, "no due date");
	}
	doc_text(doc, DB_PARA, DS_SMALL,
		   "From inputs/bench.cfg (instruments and their calibration blocks). A calibration "
		   "whose due date is before the day the run started (%s), or that events.jsonl "
		   "records as used past its date (calibration_expired, at the start or on a resume), "
		   "is flagged as expired.",
		   d->started_utc[0] ? d->started_utc : d->start_utc[0] ? d->start_utc : "unknown");
	if (d->allow_expired_calibration)
		doc_text(doc, DB_PARA, DS_WARN,
			   "The run was started with --allow-expired-calibration%s%s.",
			   d->expired_listed[0] ? "; run.json lists as expired: " : "",
			   d->expired_listed);
	else if (d->allowed_by_event)
		doc_text(doc, DB_PARA, DS_WARN,
			   "The run was resumed with --allow-expired-calibration after a calibration "
			   "due date had passed (events.jsonl: calibration_expired).");
	else if (d->n_expired > 0)
		doc_text(doc, DB_PARA, DS_WARN,
			   "%zu instrument(s) were used past their calibration due date.", d->n_expired);
}

static void section_gravimetric(struct report_doc *doc, const struct run_results *res)
{
	struct doc_block *t;

	doc_text(doc, DB_H1, DS_NORMAL, "4  Gravimetric chain");
	t = doc_table(doc, false, 2, 0.30, 0.70);
	doc_kv(doc, t, "Fluid density", "%.7f g/mL — %s", res->density_g_per_ml, res->density_source);
	doc_kv(doc, t, "Air density", "%.4f ± %.4f kg/m³ (standard uncertainty) — %s",
	   res->air_density_kg_per_m3, res->u_air_density_kg_per_m3, res->air_density_source);
	doc_kv(doc, t, "Volume per balance gram", "%.7f mL/g: air buoyancy, ISO 8655-6 form, "
	   "reference weights 8000 kg/m³, with the fluid and air densities above", res->ml_per_g);
	doc_kv(doc, t, "Evaporation, the run's", "%.4f ± %.4f mg/h (standard uncertainty) — %s",
	   res->evaporation_g_per_h * 1e3, res->u_evaporation_g_per_h * 1e3,
	   res->evaporation_source);
	doc_kv(doc, t, "Delivered volume", "V = f · (m_end − m_begin + e · Δt), f the volume per "
	   "balance gram, e the evaporation rate each check adds back (its evaporation "
	   "measurement, section 3: the pump-stopped periods around its window when it has them, "
	   "else the run's); settled balance readings only");
}

/* What the bench measured of the fluid and the air: each condition's
 * readings against the range the bench is declared for. */
static void section_conditions(struct report_doc *doc, const struct run_results *res)
{
	struct doc_block *t;

	if (res->n_conditions == 0)
		return;
	doc_text(doc, DB_H2, DS_NORMAL, "Measured conditions");
	t = doc_table(doc, true, 6, 0.20, 0.10, 0.22, 0.20, 0.16, 0.12);
	doc_add_cell(doc, t, DS_HEAD, "condition");
	doc_add_cell(doc, t, DS_HEAD, "readings");
	doc_add_cell(doc, t, DS_HEAD, "mean ± u (k = 1)");
	doc_add_cell(doc, t, DS_HEAD, "min .. max");
	doc_add_cell(doc, t, DS_HEAD, "declared range");
	doc_add_cell(doc, t, DS_HEAD, "in range");
	for (size_t i = 0; i < res->n_conditions; i++) {
		const struct measured_condition *mc = &res->conditions[i];
		const char *unit = quantity_unit(role_primary_quantity((enum rig_role)mc->role));

		if (strcmp(unit, "degC") == 0)
			unit = "°C";
		doc_add_cell(doc, t, DS_NORMAL, "%s", rig_role_name((enum rig_role)mc->role));
		doc_add_cell(doc, t, DS_NORMAL, "%zu", mc->n);
		if (mc->n == 0) {
			doc_add_cell(doc, t, DS_WARN, "none read");
			doc_add_cell(doc, t, DS_NORMAL, "—");
		} else {
			doc_add_cell(doc, t, DS_NORMAL, "%.3f ± %.3f %s", mc->mean, mc->u, unit);
			doc_add_cell(doc, t, DS_NORMAL, "%.3f .. %.3f", mc->min, mc->max);
		}
		if (mc->range_given)
			doc_add_cell(doc, t, DS_NORMAL, "%g .. %g %s", mc->lo, mc->hi, unit);
		else
			doc_add_cell(doc, t, DS_NORMAL, "not declared");
		if (!mc->range_given)
			doc_add_cell(doc, t, DS_NORMAL, "—");
		else if (mc->n_outside == 0)
			doc_add_cell(doc, t, DS_NORMAL, "yes");
		else
			doc_add_cell(doc, t, DS_WARN, "NO: %zu outside", mc->n_outside);
	}
	doc_text(doc, DB_PARA, DS_NORMAL, "Every reading of samples.csv, by role; the bench's "
		 "declared ranges from inputs/bench.cfg conditions.  A condition outside its range "
		 "is a deviation (section 5).");
}

static void section_deviations(struct report_doc *doc, const struct run_results *res,
			       const struct report_data *d)
{
	struct doc_block *t;

	doc_text(doc, DB_H1, DS_NORMAL, "5  Deviations");
	doc_text(doc, DB_PARA, DS_SMALL, "Everything a reviewer weighs before accepting the "
		 "verdict, in the order of the run: overrides (a calibration used past its due date, "
		 "a resumed gap, a run again, an operator's note), faults and the abort, instruments "
		 "lost and back, timeouts, sampling overruns, what the instruments did (results "
		 "instrument_events), damaged rows. From results.json deviations (run.json, "
		 "events.jsonl, notes.jsonl).");
	t = doc_table(doc, true, 3, 0.11, 0.20, 0.69);
	doc_add_cell(doc, t, DS_HEAD, "run time (s)");
	doc_add_cell(doc, t, DS_HEAD, "kind");
	doc_add_cell(doc, t, DS_HEAD, "what happened");
	for (size_t i = 0; i < res->n_deviations; i++) {
		const struct deviation *v = &res->deviations[i];

		if (v->has_t)
			doc_add_cell(doc, t, DS_NORMAL, "%.1f", rig_ns_to_s(v->t_ns));
		else
			doc_add_cell(doc, t, DS_NORMAL, "—");
		doc_add_cell(doc, t, strcmp(v->kind, "damaged_record") == 0 ? DS_FAIL : DS_WARN, "%s",
			     deviation_words(v->kind));
		doc_add_cell(doc, t, DS_NORMAL, "%s", v->text);
	}
	if (res->n_deviations == 0) {
		doc_add_cell(doc, t, DS_NORMAL, "—");
		doc_add_cell(doc, t, DS_NORMAL, "none");
		doc_add_cell(doc, t, DS_NORMAL, "no override, fault, abort, instrument gap, step "
			     "timeout, overrun, instrument event or operator note was recorded");
	}
	if (res->n_deviations_dropped)
		doc_text(doc, DB_PARA, DS_WARN, "%zu further deviation(s) not listed here; see "
			 "events.jsonl and results.json.", res->n_deviations_dropped);
	doc_text(doc, DB_PARA, DS_NORMAL, "Safe state at the end: %s.",
		 d->safe_state[0] ? d->safe_state : "NOT RECORDED (no safe_state event: the run was "
		 "interrupted before the bench was made safe by rig)");
	doc_text(doc, DB_H2, DS_NORMAL, "Operator notes");
	if (d->n_notes == 0) {
		doc_text(doc, DB_PARA, DS_NORMAL, "None (no notes.jsonl in the run directory).");
		return;
	}
	t = doc_table(doc, true, 3, 0.22, 0.18, 0.60);
	doc_add_cell(doc, t, DS_HEAD, "time (UTC)");
	doc_add_cell(doc, t, DS_HEAD, "operator");
	doc_add_cell(doc, t, DS_HEAD, "note (notes.jsonl)");
	for (size_t i = 0; i < d->n_notes; i++) {
		doc_add_cell(doc, t, DS_NORMAL, "%s", d->notes[i].utc);
		doc_add_cell(doc, t, DS_NORMAL, "%s", d->notes[i].operator_name);
		doc_add_cell(doc, t, DS_NORMAL, "%s", d->notes[i].text);
	}
	if (d->n_notes_dropped)
		doc_text(doc, DB_PARA, DS_NORMAL, "%zu further note(s) in notes.jsonl.",
			 d->n_notes_dropped);
}

static void section_traceability(struct report_doc *doc, const struct run_results *res,
				 const struct report_data *d)
{
	struct doc_block *t;
	/* as the directory holds it: an ended run's record is compressed
	 * before its documents are written */
	bool zst = d->record_zst;

	doc_text(doc, DB_H1, DS_NORMAL, "7  Traceability");
	doc_text(doc, DB_PARA, DS_SMALL, "Where each number came from (the source strings of "
		   "results.json; files are those of the run directory%s).", zst ?
		   "; the raw record samples.csv is stored there as samples.csv.zst, compressed once "
		   "the run ended: `zstdcat samples.csv.zst` gives it back byte for byte" : "");
	t = doc_table(doc, true, 3, 0.05, 0.22, 0.73);
	doc_add_cell(doc, t, DS_HEAD, "#");
	doc_add_cell(doc, t, DS_HEAD, "quantity");
	doc_add_cell(doc, t, DS_HEAD, "source");
	for (size_t i = 0; i < res->n_checks; i++) {
		const struct check_result *c = &res->checks[i];

		doc_add_cell(doc, t, DS_NORMAL, "%zu", i + 1);
		doc_add_cell(doc, t, DS_NORMAL, "%s (the check)", check_words(c->check));
		doc_add_cell(doc, t, DS_SMALL, "%s", c->source);
		for (size_t k = 0; k < c->n_m; k++) {
			char words[96];

			if (!c->m[k].source[0])
				continue;
			measurement_words(c->m[k].name, words, sizeof(words));
			doc_add_cell(doc, t, DS_NORMAL, "%zu", i + 1);
			doc_add_cell(doc, t, DS_NORMAL, "%s", words);
			doc_add_cell(doc, t, DS_SMALL, "%s", c->m[k].source);
		}
	}
}

int report_doc_build(const struct run_results *res, const struct report_data *d,
		     struct report_doc **ret)
{
	struct report_doc *doc = calloc(1, sizeof(*doc));

	*ret = NULL;
	if (!doc)
		return -ENOMEM;
	snprintf(doc->report_id, sizeof(doc->report_id), "%s", d->report_id);
	snprintf(doc->title, sizeof(doc->title), "Test report: %s", d->seq->title);
	snprintf(doc->software, sizeof(doc->software), "pumprig %s", RIG_VERSION);
	if (res->status != RUN_COMPLETED)
		snprintf(doc->incomplete, sizeof(doc->incomplete), "INCOMPLETE — %s",
			 res->end_reason);
	if (!results_is_evidence(res))
		snprintf(doc->sim_mark, sizeof(doc->sim_mark), "%s BENCH — NOT VERIFICATION EVIDENCE",
			 strcmp(res->bench_kind, "wire-simulated") == 0 ? "WIRE-SIMULATED" :
			 "SIMULATED");

	section_summary(doc, res, d);
	section_identification(doc, res, d);
	section_equipment(doc, d);
	section_results(doc, res);
	section_gravimetric(doc, res);
	section_conditions(doc, res);
	section_deviations(doc, res, d);
	section_plots(doc, res, d);
	section_traceability(doc, res, d);
	section_signatures(doc, d);
	if (doc->failed) {
		report_doc_free(doc);
		return -ENOMEM;
	}
	*ret = doc;
	return 0;
}

void report_doc_free(struct report_doc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; i < doc->n_blocks; i++) {
		struct doc_block *b = &doc->blocks[i];

		free(b->text);
		for (size_t k = 0; k < b->n_cells; k++)
			free(b->cells[k].text);
		free(b->cells);
		free(b->plot);
	}
	free(doc->blocks);
	free(doc);
}

int report_write_documents(const struct run_results *res, const char *run_dir)
{
	struct report_data *d = NULL;
	struct report_doc *doc = NULL;
	char err[512], path[RIG_PATH_MAX + 32];
	int r;

	r = report_data_gather(res, run_dir, &d, err, sizeof(err));
	if (r < 0)
		return r;
	r = report_doc_build(res, d, &doc);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/report.pdf", run_dir);
		r = report_pdf_write(doc, path);
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/report.html", run_dir);
		r = report_html_write(doc, path);
	}
	report_doc_free(doc);
	report_data_free(d);
	/* Pango keeps a font map (and through it fontconfig's matches) for the
	 * life of the thread; rig writes one report per process, so release
	 * it rather than leave it to exit. */
	pango_cairo_font_map_set_default(NULL);
	return r;
}

int report_write_all(const struct run_results *res, const char *run_dir,
		     bool *ret_results_written)
{
	int r = report_write_records(res, run_dir, ret_results_written);

	return r < 0 ? r : report_write_documents(res, run_dir);
}

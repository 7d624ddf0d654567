/* The deviations of a run: everything a reviewer must weigh before accepting
 * its verdict, gathered from the run directory alone.
 *
 *   run.json       a run again in a night (retry_of), calibrations used past
 *                  their due date (expired_calibrations, allowed by the
 *                  operator), and the run's id
 *   events.jsonl   faults (the root cause marked), the abort, instruments lost
 *                  and reconnected, steps that timed out, sampling overruns,
 *                  a calibration found expired on a resume
 *   the results    instrument events (a disturbed balance, a flow sensor that
 *                  disagrees, gaps, the gap a resume leaves), damaged rows
 *   notes.jsonl    every operator note
 *
 * An override is a deviation even when nothing went wrong: a run that passes
 * with any deviation passes "with deviations" (results_verdict_text). */
#include "check.h"
#include "rig/base/infile.h"
#include "rig/base/runid.h"
#include "rig/base/text.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static double jnum(json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

static void deviation_add(struct run_results *res, bool has_t, rig_ns t_ns, const char *kind,
			  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void deviation_add(struct run_results *res, bool has_t, rig_ns t_ns, const char *kind,
			  const char *fmt, ...)
{
	struct deviation *d;
	va_list ap;

	if (res->n_deviations >= DEVIATIONS_MAX) {
		res->n_deviations_dropped++;
		return;
	}
	d = &res->deviations[res->n_deviations++];
	d->has_t = has_t;
	d->t_ns = t_ns;
	snprintf(d->kind, sizeof(d->kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(d->text, sizeof(d->text), fmt, ap);
	va_end(ap);
	text_trim_partial(d->text);   /* cut short, still UTF-8 */
}

static bool listed(const struct run_results *res, const char *kind, const char *what)
{
	for (size_t i = 0; i < res->n_deviations; i++)
		if (strcmp(res->deviations[i].kind, kind) == 0 && strstr(res->deviations[i].text, what))
			return true;
	return false;
}

/* run.json: the run's id, a run again, the calibrations allowed past due. */
static void from_run_json(const char *run_dir, struct run_results *res)
{
	char path[RIG_PATH_MAX + 16];
	json_t *root, *v;
	size_t i;

	snprintf(path, sizeof(path), "%s/run.json", run_dir);
	root = json_load_file(path, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return;
	}
	(void)run_id_of(root, res->run_id);   /* "" when none */
	snprintf(res->retry_of, sizeof(res->retry_of), "%s", jstr(root, "retry_of"));
	text_trim_partial(res->retry_of);
	if (res->retry_of[0])
		deviation_add(res, false, 0, "retry",
			      "this run is a run again (rig nightly) of run %s, which the bench let "
			      "down; both are in the history, and the night's nightly.json says why",
			      res->retry_of);
	json_array_foreach(json_object_get(root, "expired_calibrations"), i, v) {
		char what[160];

		snprintf(what, sizeof(what), "the %s (serial %s)", jstr(v, "role"), jstr(v, "serial"));
		deviation_add(res, false, 0, "calibration_expired",
			      "%s was used past its calibration due date %s: the operator allowed "
			      "it with --allow-expired-calibration when the run started", what,
			      jstr(v, "due"));
	}
	json_decref(root);
}

/* events.jsonl: what the engine recorded going wrong, and the overrides it
 * was given on the way (a calibration found expired on a resume). */
static int from_events(const char *run_dir, struct run_results *res)
{
	char path[RIG_PATH_MAX + 16], *line = NULL;
	size_t cap = 0, overruns = 0;
	rig_ns last_overrun = 0;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events.jsonl", run_dir);
	f = infile_fopen(path);
	if (!f)
		return -errno;
	while ((len = getline(&line, &cap, f)) > 0) {
		json_t *ev;
		const char *name;
		rig_ns t;

		if (line[len - 1] != '\n')
			break;   /* torn last line */
		ev = json_loads(line, 0, NULL);
		if (!json_is_object(ev)) {
			json_decref(ev);
			continue;
		}
		name = jstr(ev, "event");
		t = json_integer_value(json_object_get(ev, "t_ns"));
		if (strcmp(name, "run_end") == 0 && strcmp(jstr(ev, "status"), "completed") != 0) {
			deviation_add(res, true, t, "run_aborted", "the run was aborted: %s",
				      jstr(ev, "reason"));
		} else if (strcmp(name, "fault") == 0) {
			bool root = json_is_true(json_object_get(ev, "root_cause"));

			deviation_add(res, true, t, "fault", "%s%s", jstr(ev, "reason"),
				      root ? " (root cause)" :
				      " (follow-on; the first fault stays the root cause)");
		} else if (strcmp(name, "instrument_fault") == 0) {
			deviation_add(res, true, t, "instrument_fault",
				      "the %s failed (%s); the bench allows it to be reconnected within %.0f s",
				      jstr(ev, "role"), jstr(ev, "error"), jnum(ev, "reconnect_within_s"));
		} else if (strcmp(name, "instrument_recovered") == 0) {
			deviation_add(res, true, t, "instrument_recovered",
				      "the %s answered again after a gap of %.1f s from t = %.1f s (%lld "
				      "attempt(s)); no readings in the gap", jstr(ev, "role"),
				      jnum(ev, "gap_s"), jnum(ev, "gap_begin_s"),
				      (long long)json_integer_value(json_object_get(ev, "attempts")));
		} else if (strcmp(name, "step_timeout") == 0) {
			deviation_add(res, true, t, "step_timeout",
				      "step %lld (%s, sequence line %lld) did not complete within %.0f s; "
				      "the sequence says: %s",
				      (long long)json_integer_value(json_object_get(ev, "step")),
				      jstr(ev, "kind"),
				      (long long)json_integer_value(json_object_get(ev, "line")),
				      jnum(ev, "timeout_s"), jstr(ev, "action"));
		} else if (strcmp(name, "calibration_expired") == 0) {
			char what[160];

			snprintf(what, sizeof(what), "the %s (serial %s)", jstr(ev, "role"),
				 jstr(ev, "serial"));
			/* at the start run.json says so already; a resume on a later
			 * day finds it anew */
			if (!listed(res, "calibration_expired", what))
				deviation_add(res, true, t, "calibration_expired",
					      "%s was used past its calibration due date %s (found on "
					      "%s, allowed by %s)", what, jstr(ev, "due"),
					      jstr(ev, "today_utc"), jstr(ev, "allowed_by"));
		} else if (strcmp(name, "overrun") == 0) {
			if (overruns++ < 4)
				deviation_add(res, true, t, "overrun",
					      "the %s was read late: %lld sampling period(s) skipped",
					      jstr(ev, "role"),
					      (long long)json_integer_value(json_object_get(ev, "missed_periods")));
			last_overrun = t;
		}
		json_decref(ev);
	}
	if (overruns > 4)
		deviation_add(res, true, last_overrun, "overrun",
			      "%zu more sampling overruns, the last at this time (events.jsonl)",
			      overruns - 4);
	free(line);
	fclose(f);
	return 0;
}

/* notes.jsonl: each note is a deviation (the full text is in the report's
 * operator notes). */
#define NOTE_QUOTED_MAX 200
static void from_notes(const char *run_dir, struct run_results *res)
{
	char path[RIG_PATH_MAX + 16], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/notes.jsonl", run_dir);
	f = infile_fopen(path);
	if (!f)
		return;   /* a run without notes */
	while ((len = getline(&line, &cap, f)) > 0) {
		json_t *n = json_loads(line, 0, NULL);

		const char *text = json_is_object(n) ? jstr(n, "text") : "";

		/* a short note is quoted; a longer one is named, so that the
		 * report prints it once, whole, under its operator notes */
		if (json_is_object(n) && !strchr(text, '\n') && strlen(text) <= NOTE_QUOTED_MAX)
			deviation_add(res, false, 0, "operator_note", "%s at %s: %s",
				      jstr(n, "operator"), jstr(n, "utc"), text);
		else if (json_is_object(n))
			deviation_add(res, false, 0, "operator_note", "%s at %s: a note of %zu "
				      "characters (the whole of it under the operator notes)",
				      jstr(n, "operator"), jstr(n, "utc"), strlen(text));
		json_decref(n);
	}
	free(line);
	fclose(f);
}

/* Sorts the deviations [from, to) by run time, those at one time in the
 * order they were added (insertion sort: stable, and the list is short). */
static void sort_timed(struct run_results *res, size_t from, size_t to)
{
	for (size_t i = from + 1; i < to; i++) {
		struct deviation d = res->deviations[i];
		size_t k = i;

		while (k > from && res->deviations[k - 1].t_ns > d.t_ns) {
			res->deviations[k] = res->deviations[k - 1];
			k--;
		}
		res->deviations[k] = d;
	}
}

int results_deviations(const char *run_dir, struct run_results *res)
{
	size_t timed_from;
	int r;

	res->n_deviations = res->n_deviations_dropped = 0;
	from_run_json(run_dir, res);
	timed_from = res->n_deviations;
	r = from_events(run_dir, res);
	if (r < 0)
		return r;
	for (size_t i = 0; i < res->n_events; i++)
		deviation_add(res, true, res->events[i].t_ns, res->events[i].kind, "%s",
			      res->events[i].description);
	sort_timed(res, timed_from, res->n_deviations);
	if (res->n_events_dropped)
		deviation_add(res, false, 0, "instrument_event",
			      "%zu further instrument event(s) not listed (results.json counts them)",
			      res->n_events_dropped);
	if (res->n_damaged_rows > 0) {
		char first[512];

		results_damaged_text(res, first, sizeof(first));
		deviation_add(res, false, 0, "damaged_record",
			      "%zu row(s) rig could not have written were left out of every check, "
			      "table and plot (samples.csv): %s", res->n_damaged_rows, first);
	}
	from_notes(run_dir, res);
	return 0;
}

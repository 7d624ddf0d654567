/* The timeline of a run: what was commanded and what happened, read from
 * events.jsonl (one entry per command, mark, edge or fault, never one per
 * sample), and the questions the checks ask of it. */
#include "timeline.h"
#include "rig/base/text.h"
#include "rig/base/infile.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(void **items, size_t *cap, size_t n, size_t size)
{
	void *p;

	if (n < *cap)
		return 0;
	*cap = *cap ? *cap * 2 : 16;
	p = realloc(*items, *cap * size);
	if (!p)
		return -ENOMEM;
	*items = p;
	return 0;
}

static struct window *window_get(struct timeline *tl, const char *name, size_t max)
{
	for (size_t i = 0; i < tl->n_windows; i++)
		if (strcmp(tl->windows[i].name, name) == 0)
			return &tl->windows[i];
	if (tl->n_windows >= max)
		return NULL;
	snprintf(tl->windows[tl->n_windows].name, RIG_ID_MAX, "%s", name);
	return &tl->windows[tl->n_windows++];
}

static const char *jstr(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static double jnum(json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

/* A stop command ends any bolus still delivering: only what was programmed
 * up to the stop counts. */
static void truncate_boluses(struct timeline *tl, rig_ns stop_ns)
{
	for (size_t i = 0; i < tl->n_boluses; i++) {
		struct bolus_cmd *b = &tl->boluses[i];
		double until_stop_ml;

		if (b->t_ns >= stop_ns || b->rate_ml_per_h <= 0)
			continue;
		until_stop_ml = b->rate_ml_per_h * rig_ns_to_h(stop_ns - b->t_ns);
		if (until_stop_ml < b->volume_ml)
			b->volume_ml = until_stop_ml;
	}
}

#define FLAG_APPEND(arr, n, cap, value)                                              \
	do {                                                                        \
		r = grow((void **)&(arr), &(cap), (n), sizeof(*(arr)));            \
		if (r < 0)                                                          \
			goto out;                                                   \
		(arr)[(n)++] = (value);                                             \
	} while (0)

int timeline_read(const char *run_dir, struct timeline *tl, size_t max_windows, char *err,
		  size_t err_len)
{
	char path[RIG_PATH_MAX];
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/events.jsonl", run_dir);
	f = infile_fopen(path);
	if (!f) {
		char why[128];

		r = -errno;
		snprintf(err, err_len, "%s: cannot read: %s", path,
			 infile_strerror(path, r, why, sizeof(why)));
		return r;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		json_t *ev;
		const char *name;
		rig_ns t_ns;

		if (line[len - 1] != '\n') {   /* torn by a crash mid-write */
			tl->torn++;
			break;
		}
		ev = json_loads(line, 0, NULL);
		if (!json_is_object(ev)) {
			json_decref(ev);
			tl->torn++;
			continue;
		}
		name = jstr(ev, "event");
		t_ns = json_integer_value(json_object_get(ev, "t_ns"));
		if (t_ns > tl->last_t_ns)
			tl->last_t_ns = t_ns;
		if (strcmp(name, "rate") == 0) {
			FLAG_APPEND(tl->rates, tl->n_rates, tl->cap_rates,
				    ((struct rate_change){ t_ns, jnum(ev, "rate_ml_per_h") }));
			if (json_is_true(json_object_get(ev, "stop")))
				truncate_boluses(tl, t_ns);
		} else if (strcmp(name, "bolus") == 0 || strcmp(name, "bolus_refused") == 0) {
			bool refused = name[5] == '_';

			if (!refused)
				FLAG_APPEND(tl->boluses, tl->n_boluses, tl->cap_boluses,
					    ((struct bolus_cmd){ t_ns, jnum(ev, "volume_ml"),
								 jnum(ev, "rate_ml_per_h") }));
			if (refused || strcmp(jstr(ev, "kind"), "prime") != 0)
				FLAG_APPEND(tl->requests, tl->n_requests, tl->cap_requests,
					    ((struct bolus_request){
						    .t_ns = t_ns, .volume_ml = jnum(ev, "volume_ml"),
						    .rate_ml_per_h = jnum(ev, "rate_ml_per_h"),
						    .patient = strcmp(jstr(ev, "demand"), "patient") == 0,
						    .refused = refused }));
		} else if (strcmp(name, "tare") == 0) {
			FLAG_APPEND(tl->tares, tl->n_tares, tl->cap_tares, t_ns);
		} else if (strcmp(name, "evaporation") == 0) {
			if (strcmp(jstr(ev, "edge"), "begin") == 0) {
				json_t *still = json_object_get(ev, "line_still");
				json_t *wait = json_object_get(ev, "waited_s");

				FLAG_APPEND(tl->evaporation, tl->n_evaporation, tl->cap_evaporation,
					    ((struct stopped_mark){ t_ns, -1,
						    json_is_boolean(still) ? json_is_true(still) : -1,
						    json_is_number(wait) ? json_number_value(wait) : NAN }));
			}
			else if (tl->n_evaporation > 0)
				tl->evaporation[tl->n_evaporation - 1].end_ns = t_ns;
		} else if (strcmp(name, "valve") == 0) {
			FLAG_APPEND(tl->valve, tl->n_valve, tl->cap_valve,
				    ((struct t_flag){ t_ns, strcmp(jstr(ev, "state"), "closed") == 0,
						      strcmp(jstr(ev, "by"), "safety supervisor") == 0 }));
		} else if (strcmp(name, "alarm") == 0) {
			FLAG_APPEND(tl->alarm_line, tl->n_alarm_line, tl->cap_alarm_line,
				    ((struct t_flag){ t_ns, strcmp(jstr(ev, "edge"), "rising") == 0,
						      false }));
		} else if (strcmp(name, "pump_alarms") == 0) {
			FLAG_APPEND(tl->pump_occlusion, tl->n_pump_occlusion, tl->cap_pump_occlusion,
				    ((struct t_flag){ t_ns, json_is_true(json_object_get(ev, "occlusion")),
						      false }));
			FLAG_APPEND(tl->pump_low_battery, tl->n_pump_low_battery,
				    tl->cap_pump_low_battery,
				    ((struct t_flag){ t_ns,
						      json_is_true(json_object_get(ev, "low_battery")),
						      false }));
			FLAG_APPEND(tl->pump_reservoir_low, tl->n_pump_reservoir_low,
				    tl->cap_pump_reservoir_low,
				    ((struct t_flag){ t_ns,
						      json_is_true(json_object_get(ev, "reservoir_low")),
						      false }));
			FLAG_APPEND(tl->pump_empty, tl->n_pump_empty, tl->cap_pump_empty,
				    ((struct t_flag){ t_ns,
						      json_is_true(json_object_get(ev, "reservoir_empty")),
						      false }));
		} else if (strcmp(name, "refill") == 0) {
			FLAG_APPEND(tl->refills, tl->n_refills, tl->cap_refills,
				    ((struct refill_mark){ t_ns, jnum(ev, "mass_g"), jnum(ev, "mass_u_g"),
							   jnum(ev, "volume_ml") }));
		} else if (strcmp(name, "instrument_recovered") == 0) {
			struct instrument_event g = { .t_ns = t_ns };

			snprintf(g.role, sizeof(g.role), "%s", jstr(ev, "role"));
			snprintf(g.kind, sizeof(g.kind), "instrument_gap");
			snprintf(g.description, sizeof(g.description),
				 "the %s did not answer from t = %.1f s for %.1f s and was reconnected "
				 "after %lld attempt(s) (bench reconnect); no readings in the gap",
				 jstr(ev, "role"), jnum(ev, "gap_begin_s"), jnum(ev, "gap_s"),
				 (long long)json_integer_value(json_object_get(ev, "attempts")));
			FLAG_APPEND(tl->gaps, tl->n_gaps, tl->cap_gaps, g);
		} else if (strcmp(name, "resume") == 0) {
			struct instrument_event g = { .t_ns = t_ns };
			double begin_s = jnum(ev, "gap_begin_s"), gap_s = jnum(ev, "gap_s");
			rig_ns begin_ns = rig_s_to_ns(begin_s);

			snprintf(g.role, sizeof(g.role), "run");
			snprintf(g.kind, sizeof(g.kind), "resume_gap");
			snprintf(g.description, sizeof(g.description),
				 "nothing was recorded from t = %.3f s for %.0f s (the run was interrupted "
				 "and continued by rig resume from step %lld; the bench was unwatched "
				 "meanwhile); checks whose window spans the gap are inconclusive",
				 begin_s, gap_s, (long long)json_integer_value(json_object_get(ev, "from_step")));
			FLAG_APPEND(tl->gaps, tl->n_gaps, tl->cap_gaps, g);
			FLAG_APPEND(tl->resume_gaps, tl->n_resume_gaps, tl->cap_resume_gaps,
				    ((struct period){ begin_ns, t_ns }));
		} else if (strcmp(name, "mark") == 0) {
			struct window *w = window_get(tl, jstr(ev, "window"), max_windows);

			if (w && strcmp(jstr(ev, "edge"), "begin") == 0) {
				w->begun = true;
				w->begin_ns = t_ns;
			} else if (w) {
				w->ended = true;
				w->end_ns = t_ns;
			}
		} else if (strcmp(name, "step_timeout") == 0 &&
			   strcmp(jstr(ev, "action"), "fail") == 0) {
			struct check_result *c;
			size_t cap_t = tl->n_timeouts;

			/* exact-size growth: timeouts are rare */
			c = realloc(tl->timeouts, (cap_t + 1) * sizeof(*c));
			if (!c) {
				r = -ENOMEM;
				json_decref(ev);
				goto out;
			}
			tl->timeouts = c;
			c = &tl->timeouts[tl->n_timeouts++];
			memset(c, 0, sizeof(*c));
			snprintf(c->check, sizeof(c->check), "step_timeout");
			c->seq_line = (int)json_integer_value(json_object_get(ev, "line"));
			c->verdict = VERDICT_FAIL;
			c->u_expanded = NAN;
			snprintf(c->criterion, sizeof(c->criterion), "step completes within its timeout");
			snprintf(c->explanation, sizeof(c->explanation),
				 "step %lld (%s) did not complete within %.0f s; the sequence says a timed-out step fails and the run continues",
				 (long long)json_integer_value(json_object_get(ev, "step")),
				 jstr(ev, "kind"), jnum(ev, "timeout_s"));
			snprintf(c->source, sizeof(c->source), "events.jsonl: step_timeout at t = %.3f s",
				 rig_ns_to_s(t_ns));
		} else if (strcmp(name, "fault") == 0) {
			if (json_is_true(json_object_get(ev, "root_cause")) && !tl->end_cause[0])
				snprintf(tl->end_cause, sizeof(tl->end_cause), "%s", jstr(ev, "cause"));
		} else if (strcmp(name, "safe_state") == 0) {
			tl->bench_safe = json_is_true(json_object_get(ev, "bench_safe")) ? 1 : 0;
		} else if (strcmp(name, "run_end") == 0) {
			snprintf(tl->ended_utc, sizeof(tl->ended_utc), "%s", jstr(ev, "utc"));
			tl->ended = true;
			tl->aborted = strcmp(jstr(ev, "status"), "completed") != 0;
			snprintf(tl->end_reason, sizeof(tl->end_reason), "%s", jstr(ev, "reason"));
			text_trim_partial(tl->end_reason);   /* a long reason cut short: still UTF-8 */
		}
		json_decref(ev);
		continue;
out:
		json_decref(ev);
		break;
	}
	free(line);
	fclose(f);
	if (r < 0)
		snprintf(err, err_len, "%s: %s", path, strerror(-r));
	return r;
}

void timeline_free(struct timeline *tl)
{
	free(tl->rates);
	free(tl->boluses);
	free(tl->requests);
	free(tl->windows);
	free(tl->timeouts);
	free(tl->tares);
	free(tl->evaporation);
	free(tl->valve);
	free(tl->alarm_line);
	free(tl->pump_occlusion);
	free(tl->pump_low_battery);
	free(tl->pump_reservoir_low);
	free(tl->pump_empty);
	free(tl->refills);
	free(tl->gaps);
	free(tl->resume_gaps);
}

double timeline_rate_at(const struct timeline *tl, rig_ns t_ns)
{
	double rate = 0;

	for (size_t i = 0; i < tl->n_rates && tl->rates[i].t_ns <= t_ns; i++)
		rate = tl->rates[i].rate_ml_per_h;
	return rate;
}

bool timeline_bolus_at(const struct timeline *tl, rig_ns t_ns)
{
	for (size_t i = 0; i < tl->n_boluses; i++) {
		const struct bolus_cmd *b = &tl->boluses[i];

		if (b->rate_ml_per_h > 0 && t_ns >= b->t_ns &&
		    t_ns < b->t_ns + rig_s_to_ns(b->volume_ml / b->rate_ml_per_h * 3600))
			return true;
	}
	return false;
}

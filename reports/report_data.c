/* Gathers the report's identification, equipment, commands, marks and plot
 * series from a run directory.  See report_data.h. */
#include "report_data.h"
#include "report_signatures.h"
#include "rig/base/infile.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rig/base/diag.h"
#include "rig/base/record.h"

static const char *jstr(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static double jnum(json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

/* Copies src into dst (n bytes), cut short, if it must be, at a character
 * boundary: half a UTF-8 character is no text at all to pango. */
static void copy_text(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src), end;

	if (len < n) {
		memcpy(dst, src, len + 1);
		return;
	}
	end = n - 1;
	while (end > 0 && ((unsigned char)src[end] & 0xC0) == 0x80)
		end--;   /* src[end] is the first byte not copied: not a continuation */
	memcpy(dst, src, end);
	dst[end] = '\0';
}

/* run.json: every field the integrity stream adds is optional. */
static void read_run_json(struct report_data *d, const char *run_dir)
{
	char path[RIG_PATH_MAX + 16];
	json_t *root, *v, *digests;
	size_t i;

	snprintf(path, sizeof(path), "%s/run.json", run_dir);
	root = json_load_file(path, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return;
	}
	d->have_run_json = true;
	copy_text(d->software, sizeof(d->software), jstr(root, "software"));
	copy_text(d->started_utc, sizeof(d->started_utc), jstr(root, "started_utc"));
	copy_text(d->host, sizeof(d->host), jstr(root, "host"));
	copy_text(d->clock, sizeof(d->clock), jstr(root, "clock"));
	copy_text(d->operator_name, sizeof(d->operator_name), jstr(root, "operator"));
	d->allow_expired_calibration = json_is_true(json_object_get(root, "allow_expired_calibration"));
	json_array_foreach(json_object_get(root, "expired_calibrations"), i, v) {
		size_t len = strlen(d->expired_listed);

		snprintf(d->expired_listed + len, sizeof(d->expired_listed) - len, "%s%s %s (due %s)",
			 i ? "; " : "", jstr(v, "role"), jstr(v, "serial"), jstr(v, "due"));
	}
	digests = json_object_get(root, "inputs_sha256");
	if (json_is_object(digests)) {
		const char *seq = json_string_value(json_object_get(digests, "sequence.cfg"));
		const char *bench = json_string_value(json_object_get(digests, "bench.cfg"));
		const char *dev = json_string_value(json_object_get(digests, "device.cfg"));

		d->inputs_sha_mismatch = (seq && strcmp(seq, d->sha_sequence) != 0) ||
					 (bench && strcmp(bench, d->sha_bench) != 0) ||
					 (dev && strcmp(dev, d->sha_device) != 0);
	}
	json_decref(root);
}

static void read_notes(struct report_data *d, const char *run_dir)
{
	char path[RIG_PATH_MAX + 16], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/notes.jsonl", run_dir);
	f = infile_fopen(path);
	if (!f)
		return;   /* optional: a run without notes */
	while ((len = getline(&line, &cap, f)) > 0) {
		json_t *n = json_loads(line, 0, NULL);
		struct report_note *note;

		if (json_is_object(n)) {
			if (d->n_notes >= REPORT_NOTES_MAX) {
				d->n_notes_dropped++;
			} else {
				note = &d->notes[d->n_notes++];
				copy_text(note->utc, sizeof(note->utc), jstr(n, "utc"));
				snprintf(note->operator_name, sizeof(note->operator_name), "%s",
					 jstr(n, "operator"));
				copy_text(note->text, sizeof(note->text), jstr(n, "text"));
			}
		}
		json_decref(n);
	}
	free(line);
	fclose(f);
}

static struct report_window *window_get(struct report_data *d, const char *name)
{
	for (size_t i = 0; i < d->n_windows; i++)
		if (strcmp(d->windows[i].name, name) == 0)
			return &d->windows[i];
	if (d->n_windows >= REPORT_WINDOWS_MAX)
		return NULL;
	copy_text(d->windows[d->n_windows].name, RIG_ID_MAX, name);
	return &d->windows[d->n_windows++];
}

/* events.jsonl: when the run started and ended, how the bench was left,
 * the commands (for the programmed rate and volume), the marks, the
 * occlusion and the calibrations found expired.  The deviations are the
 * judge's (results). */
static void read_events(struct report_data *d, const char *run_dir)
{
	char path[RIG_PATH_MAX + 16], *line = NULL;
	size_t cap = 0;
	bool have_root = false;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events.jsonl", run_dir);
	f = infile_fopen(path);
	if (!f)
		return;   /* results_analyse already refused a run without events */
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
		if (strcmp(name, "run_start") == 0) {
			copy_text(d->start_utc, sizeof(d->start_utc), jstr(ev, "utc"));
		} else if (strcmp(name, "run_end") == 0) {
			copy_text(d->end_utc, sizeof(d->end_utc), jstr(ev, "utc"));
			if (strcmp(jstr(ev, "status"), "completed") != 0 && !d->aborted) {
				d->aborted = true;
				d->t_abort_ns = t;
			}
		} else if (strcmp(name, "fault") == 0) {
			/* the abort is marked where its root cause happened */
			if (json_is_true(json_object_get(ev, "root_cause")) && !have_root) {
				have_root = true;
				d->t_abort_ns = t;
			}
		} else if (strcmp(name, "realtime") == 0) {
			/* bench.realtime_priority: what was asked, what was granted */
			long long prio = json_integer_value(json_object_get(ev, "requested_priority"));

			if (json_object_get(ev, "why_not"))
				snprintf(d->scheduler, sizeof(d->scheduler), "SCHED_FIFO %lld asked, not "
					 "applied (%s)", prio, jstr(ev, "why_not"));
			else {
				/* the idle-state request, recorded since it was made */
				json_t *qos = json_object_get(ev, "cpu_dma_latency_0");
				char q[96] = "";

				if (qos)
					snprintf(q, sizeof(q), "; CPUs kept from slow idle states: %s%s",
						 json_is_true(qos) ? "yes" : "no, ",
						 json_is_true(qos) ? "" : jstr(ev, "cpu_dma_latency_error"));
				snprintf(d->scheduler, sizeof(d->scheduler), "SCHED_FIFO %lld asked: %s%s%s; "
					 "memory %s%s%s%s", prio, jstr(ev, "scheduler"),
					 json_is_string(json_object_get(ev, "scheduler_error")) ? ", refused: " : "",
					 json_is_string(json_object_get(ev, "scheduler_error")) ?
					 jstr(ev, "scheduler_error") : "",
					 json_is_true(json_object_get(ev, "memory_locked")) ? "locked" : "not locked",
					 json_is_string(json_object_get(ev, "memory_error")) ? ": " : "",
					 json_is_string(json_object_get(ev, "memory_error")) ?
					 jstr(ev, "memory_error") : "", q);
			}
		} else if (strcmp(name, "calibration_expired") == 0) {
			/* an instrument used past its due date with the operator's
			 * leave: at the start, or on a resume after the date passed */
			int role = rig_role_from_name(jstr(ev, "role"));

			if (role >= 0 && role < ROLE__COUNT)
				d->expired_event[role] = true;
			d->allowed_by_event = true;
		} else if (strcmp(name, "safe_state") == 0) {
			json_t *att = json_object_get(ev, "pump_stop_attempts");

			snprintf(d->safe_state, sizeof(d->safe_state),
				 "at t = %.1f s: pump %s%s%lld%s, valve %s (reason: %s)",
				 rig_ns_to_s(t), json_object_get(ev, "pump") ? jstr(ev, "pump") : "(none on the bench)",
				 att ? " after " : "", att ? (long long)json_integer_value(att) : 0LL,
				 att ? " stop command(s)" : "",
				 json_object_get(ev, "valve") ? jstr(ev, "valve") : "(none on the bench)",
				 jstr(ev, "reason"));
		} else if (strcmp(name, "rate") == 0) {
			if (d->n_rates < REPORT_RATES_MAX) {
				d->rate_t_ns[d->n_rates] = t;
				d->rate_stop[d->n_rates] = json_is_true(json_object_get(ev, "stop"));
				d->rate_ml_per_h[d->n_rates++] = jnum(ev, "rate_ml_per_h");
			} else {
				d->rates_truncated = true;
			}
		} else if (strcmp(name, "bolus") == 0) {
			if (d->n_boluses < REPORT_RATES_MAX) {
				d->bolus_t_ns[d->n_boluses] = t;
				d->bolus_ml[d->n_boluses] = jnum(ev, "volume_ml");
				d->bolus_rate_ml_per_h[d->n_boluses++] = jnum(ev, "rate_ml_per_h");
			} else {
				d->rates_truncated = true;
			}
		} else if (strcmp(name, "mark") == 0) {
			struct report_window *w = window_get(d, jstr(ev, "window"));

			if (w && strcmp(jstr(ev, "edge"), "begin") == 0) {
				w->begun = true;
				w->begin_ns = t;
			} else if (w) {
				w->ended = true;
				w->end_ns = t;
			}
		} else if (strcmp(name, "valve") == 0) {
			bool closed = strcmp(jstr(ev, "state"), "closed") == 0;

			if (closed && !d->have_occlusion) {
				d->have_occlusion = true;
				d->t_close_ns = t;
			} else if (!closed && d->have_occlusion && !d->have_release) {
				d->have_release = true;
				d->t_release_ns = t;
			}
		} else if (strcmp(name, "alarm") == 0 || strcmp(name, "pump_alarms") == 0) {
			bool on = strcmp(name, "alarm") == 0 ? strcmp(jstr(ev, "edge"), "rising") == 0 :
				  json_is_true(json_object_get(ev, "occlusion"));

			/* The first alarm after the closure.  The line's edge is logged
			 * with its own (exact) time, possibly after the polled pump
			 * status that noticed it later: keep the earliest. */
			if (on && d->have_occlusion && t >= d->t_close_ns &&
			    (!d->have_alarm || t < d->t_alarm_ns)) {
				d->have_alarm = true;
				d->t_alarm_ns = t;
			}
		}
		json_decref(ev);
	}
	free(line);
	fclose(f);
}

static int load_inputs(struct report_data *d, const char *run_dir, char *err, size_t err_len)
{
	struct diag_list diags = { 0 };
	char path[RIG_PATH_MAX + 32];
	int r;

	snprintf(path, sizeof(path), "%s/inputs/sequence.cfg", run_dir);
	r = seq_load(path, &d->seq, &diags);
	if (r == 0)
		r = digest_file_sha256(path, d->sha_sequence);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/inputs/bench.cfg", run_dir);
		r = bench_load(path, &d->bench, &diags);
	}
	if (r == 0)
		r = digest_file_sha256(path, d->sha_bench);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/inputs/device.cfg", run_dir);
		r = device_load(path, &d->dev, &diags);
	}
	if (r == 0)
		r = digest_file_sha256(path, d->sha_device);
	if (r < 0)
		snprintf(err, err_len, "%s: %s", path,
			 diags.n ? diags.items[0].msg : strerror(-r));
	diag_clear(&diags);
	return r;
}

/* Volume delivered since the first settled reading, through the same
 * gravimetric chain as the results: V = f·(m + tare offset − m0 + e·(t − t0)).
 * A tare zeroes the balance; the jump across it is bridged by carrying the
 * last settled reading before it into an offset, so the curve shows what
 * was delivered through the whole run. */
struct rig_ns_list {
	const rig_ns *t;
	size_t n;
};

struct volume_state {
	bool have_first, have_last;
	rig_ns t0_ns;
	double m0_g, offset_g, last_g;
	size_t next_tare;
	bool bridge_pending;
};

static void volume_add(struct report_data *d, const struct run_results *res,
		       const struct rig_ns_list *tares,
		       struct volume_state *vs, rig_ns t_ns, double mass_g)
{
	/* Strictly after: a settled reading stamped at the tare's own instant
	 * was taken before it (one taken after is flagged unstable while the
	 * balance settles). */
	while (vs->next_tare < tares->n && tares->t[vs->next_tare] < t_ns) {
		vs->bridge_pending = vs->have_last;
		vs->next_tare++;
	}
	if (vs->bridge_pending) {
		vs->offset_g += vs->last_g - mass_g;
		vs->bridge_pending = false;
		d->n_tares_bridged++;
		{
			size_t len = strlen(d->tares_bridged_at);

			/* the first few, enough to find them in events.jsonl */
			if (len + 12 < sizeof(d->tares_bridged_at))
				snprintf(d->tares_bridged_at + len, sizeof(d->tares_bridged_at) - len,
					 "%s%.2f", len ? ", " : "",
					 rig_ns_to_h(tares->t[vs->next_tare - 1]));
		}
	}
	if (!vs->have_first) {
		vs->have_first = true;
		vs->t0_ns = t_ns;
		vs->m0_g = mass_g;
		d->volume_t0_ns = t_ns;
	}
	vs->last_g = mass_g;
	vs->have_last = true;
	series_add(&d->volume_ml, t_ns,
		   res->ml_per_g * (mass_g + vs->offset_g - vs->m0_g +
				    res->evaporation_g_per_h * rig_ns_to_h(t_ns - vs->t0_ns)));
}

static int read_tares(const char *run_dir, rig_ns **ret, size_t *ret_n)
{
	char path[RIG_PATH_MAX + 16], *line = NULL;
	size_t cap = 0, n = 0, cap_t = 0;
	rig_ns *t = NULL;
	ssize_t len;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/events.jsonl", run_dir);
	f = infile_fopen(path);
	if (!f)
		goto out;
	while ((len = getline(&line, &cap, f)) > 0) {
		/* cheap filter: only tare events are parsed */
		if (!strstr(line, "\"event\":\"tare\""))
			continue;
		json_t *ev = json_loads(line, 0, NULL);

		if (json_is_object(ev)) {
			if (n == cap_t) {
				rig_ns *p = realloc(t, (cap_t ? cap_t * 2 : 8) * sizeof(*t));

				if (!p) {
					json_decref(ev);
					r = -ENOMEM;
					break;
				}
				t = p;
				cap_t = cap_t ? cap_t * 2 : 8;
			}
			t[n++] = json_integer_value(json_object_get(ev, "t_ns"));
		}
		json_decref(ev);
	}
	fclose(f);
out:
	free(line);
	*ret = t;
	*ret_n = n;
	return r;
}

static int read_samples(struct report_data *d, const struct run_results *res,
			const char *run_dir)
{
	char *line = NULL;
	struct volume_state vs = { 0 };
	struct rig_ns_list tares;
	rig_ns *tare_t = NULL;
	size_t cap = 0, n_tares = 0;
	ssize_t len;
	FILE *f;
	int r;

	r = read_tares(run_dir, &tare_t, &n_tares);
	if (r < 0)
		return r;
	tares = (struct rig_ns_list){ tare_t, n_tares };
	f = samples_open(run_dir);   /* or samples.csv.zst, once compressed */
	if (!f) {
		free(tare_t);
		return 0;   /* the plots say their data is absent */
	}
	{
		char plain[RIG_PATH_MAX + 16];
		struct stat st;

		snprintf(plain, sizeof(plain), "%s/samples.csv", run_dir);
		d->record_zst = lstat(plain, &st) < 0 && errno == ENOENT;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		struct sample_row row;
		double value;
		rig_ns t;

		if (line[len - 1] != '\n')
			break;
		line[len - 1] = '\0';
		/* the header, and a damaged row (never plotted: results.json
		 * counts and lists them) */
		if (sample_row_parse(line, &row) != SAMPLE_ROW_OK)
			continue;
		d->n_samples_read++;
		t = row.t_ns;
		value = row.value;
		if (row.role == ROLE_SCALE) {
			/* unsettled readings are not used, as in the analysis */
			if (!(row.flags & SAMPLE_UNSTABLE) && isfinite(value))
				volume_add(d, res, &tares, &vs, t, value);
		} else if (row.role == ROLE_FLOW) {
			series_add(&d->flow_ml_per_h, t, value);
		} else if (row.role == ROLE_PRESSURE) {
			if (t >= d->pressure_kpa.t0_ns && t <= d->pressure_to_ns)
				series_add(&d->pressure_kpa, t, value);
		} else if (row.role == ROLE_POWER && row.quantity == QUANT_CURRENT_UA) {
			series_add(&d->current_ua, t, value);
		} else if (row.role == ROLE_POWER && row.quantity == QUANT_VOLTAGE_V) {
			series_add(&d->voltage_v, t, value);
		}
	}
	free(line);
	free(tare_t);
	fclose(f);
	return 0;
}

int report_data_gather(const struct run_results *res, const char *run_dir,
		       struct report_data **ret, char *err, size_t err_len)
{
	struct report_data *d;
	const char *base;
	rig_ns bin_ns, p_from = 0, p_to;
	int r;

	*ret = NULL;
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	base = strrchr(run_dir, '/');
	base = base && base[1] ? base + 1 : run_dir;
	copy_text(d->run_dir_name, sizeof(d->run_dir_name), base);
	/* Stable: the same run directory always gets the same id, and two runs
	 * of one sequence differ by their directory's name. */
	{
		/* a default run directory is named <UTC stamp>-<sequence id>: the
		 * id is not repeated */
		size_t n = strlen(d->run_dir_name), k = strlen(res->sequence_id);
		int keep = (int)n;

		if (n > k + 1 && d->run_dir_name[n - k - 1] == '-' &&
		    strcmp(d->run_dir_name + n - k, res->sequence_id) == 0)
			keep = (int)(n - k - 1);
		snprintf(d->report_id, sizeof(d->report_id), "RPT-%s-%.*s", res->sequence_id,
			 keep, d->run_dir_name);
	}
	r = load_inputs(d, run_dir, err, err_len);
	if (r < 0)
		goto fail;
	read_run_json(d, run_dir);
	read_events(d, run_dir);
	read_notes(d, run_dir);
	r = report_signoff_gather(d, res->run_id, run_dir);
	if (r < 0) {
		snprintf(err, err_len, "%s: the report's revisions: %s", run_dir, strerror(-r));
		goto fail;
	}

	/* A calibration is expired when its due date is before the day the run
	 * started (ISO dates compare as strings), or when events.jsonl says it
	 * was used expired (a resume on a later day). */
	{
		const char *start = d->started_utc[0] ? d->started_utc : d->start_utc;

		for (int role = 0; role < ROLE__COUNT && strlen(start) >= 10; role++) {
			const struct instrument_cfg *ic = &d->bench->instrument[role];

			if (ic->present && ((ic->cal.due[0] && strncmp(ic->cal.due, start, 10) < 0) ||
					    d->expired_event[role])) {
				d->expired[role] = true;
				d->n_expired++;
			}
		}
	}

	bin_ns = res->end_t_ns / SERIES_BINS + 1;
	series_init(&d->volume_ml, 0, bin_ns);
	series_init(&d->flow_ml_per_h, 0, bin_ns);
	series_init(&d->current_ua, 0, bin_ns);
	series_init(&d->voltage_v, 0, bin_ns);
	/* Line pressure around the occlusion: a closure of minutes in a run of
	 * days would be one pixel wide on the whole run's time axis. */
	p_to = res->end_t_ns;
	if (d->have_occlusion) {
		rig_ns held = (d->have_release ? d->t_release_ns : res->end_t_ns) - d->t_close_ns;
		rig_ns pre = held / 2 > 60 * RIG_NS_PER_S ? held / 2 : 60 * RIG_NS_PER_S;
		rig_ns post = held > 120 * RIG_NS_PER_S ? held : 120 * RIG_NS_PER_S;

		p_from = d->t_close_ns > pre ? d->t_close_ns - pre : 0;
		if (d->have_release && d->t_release_ns + post < p_to)
			p_to = d->t_release_ns + post;
	}
	series_init(&d->pressure_kpa, p_from, (p_to - p_from) / SERIES_BINS + 1);
	d->pressure_to_ns = p_to;
	r = read_samples(d, res, run_dir);
	if (r < 0) {
		snprintf(err, err_len, "%s/samples.csv: %s", run_dir, strerror(-r));
		goto fail;
	}
	*ret = d;
	return 0;
fail:
	report_data_free(d);
	return r;
}

void report_data_free(struct report_data *d)
{
	if (!d)
		return;
	seq_free(d->seq);
	bench_free(d->bench);
	device_free(d->dev);
	report_signoff_free(d->signoff);
	free(d);
}

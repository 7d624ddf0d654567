#include "resume.h"
#include "rig/base/infile.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "rig/base/record.h"

static const char *jstr(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static int add_mark(struct resume_scan *st, rig_ns t_ns, bool is_resume)
{
	if (st->n_marks == st->cap_marks) {
		size_t cap = st->cap_marks ? 2 * st->cap_marks : 16;
		struct resume_mark *m = realloc(st->marks, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		st->marks = m;
		st->cap_marks = cap;
	}
	st->marks[st->n_marks++] = (struct resume_mark){ t_ns, is_resume };
	return 0;
}

int resume_scan_event(struct resume_scan *st, const char *line, size_t len)
{
	json_t *ev, *t;
	const char *name;
	int r = 0;

	st->n_lines++;
	ev = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	t = json_object_get(ev, "t_ns");
	if (!json_is_object(ev) || !json_is_integer(t) || !json_is_string(json_object_get(ev, "event"))) {
		st->n_skipped++;
		json_decref(ev);
		return 0;
	}
	name = jstr(ev, "event");
	if (json_integer_value(t) > st->last_t_ns)
		st->last_t_ns = json_integer_value(t);
	if (!strcmp(name, "run_start")) {
		if (!st->started)
			st->virtual_clock = !strcmp(jstr(ev, "clock"), "virtual");
		st->started = true;
	} else if (!strcmp(name, "run_end")) {
		st->ended = true;
	} else if (!strcmp(name, "step")) {
		json_t *n = json_object_get(ev, "step");

		if (json_is_integer(n) && json_integer_value(n) > 0) {
			st->last_step = json_integer_value(n);
			snprintf(st->last_step_kind, sizeof(st->last_step_kind), "%s", jstr(ev, "kind"));
		}
	} else if (!strcmp(name, "rate")) {
		double rate = json_number_value(json_object_get(ev, "rate_ml_per_h"));

		st->rate_ml_per_h = isfinite(rate) && rate > 0 ? rate : 0;
	} else if (!strcmp(name, "valve")) {
		st->valve_closed = !strcmp(jstr(ev, "state"), "closed");
	} else if (!strcmp(name, "tare")) {
		r = add_mark(st, json_integer_value(t), false);
	} else if (!strcmp(name, "resume")) {
		r = add_mark(st, json_integer_value(t), true);
	}
	json_decref(ev);
	return r;
}

void resume_scan_free(struct resume_scan *st)
{
	free(st->marks);
	st->marks = NULL;
	st->n_marks = st->cap_marks = 0;
}

/* The supervisor's delivered-volume estimate, as the engine kept it:
 * balance gain since the run's first reading plus what each tare removed,
 * over the bench's density; a resume restarts it from the estimate so far. */
struct delivered {
	bool have;
	double first_g, last_g, offset_g, base_ml, ml;
};

static void delivered_mark(struct delivered *d, const struct resume_mark *m)
{
	if (m->is_resume) {
		d->base_ml = d->ml;
		d->have = false;
		d->offset_g = 0;
	} else if (d->have) {
		d->offset_g += d->last_g;
		d->last_g = 0;
	}
}

static int scan_samples(const char *run_dir, const struct resume_scan *st, double density,
			double *ret_ml, rig_ns *last_t_ns)
{
	char path[RIG_PATH_MAX], *line = NULL;
	struct delivered d = { 0 };
	size_t cap = 0, next = 0;
	ssize_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/samples.csv", run_dir);
	f = infile_fopen(path);
	if (!f)
		return -errno;
	while ((len = getline(&line, &cap, f)) > 0) {
		struct sample_row row;
		rig_ns t;
		double v;

		if (line[len - 1] != '\n')
			break;   /* the torn last line */
		line[len - 1] = '\0';
		/* the header, and a damaged row: no time of it is trusted, no
		 * mass of it counted */
		if (sample_row_parse(line, &row) != SAMPLE_ROW_OK)
			continue;
		if (row.t_ns > *last_t_ns)
			*last_t_ns = row.t_ns;
		if (row.role != ROLE_SCALE || !isfinite(row.value))
			continue;
		t = row.t_ns;
		v = row.value;
		while (next < st->n_marks && st->marks[next].t_ns < t)
			delivered_mark(&d, &st->marks[next++]);
		if (!d.have) {
			d.have = true;
			d.first_g = v;
		}
		d.last_g = v;
		d.ml = d.base_ml + (v + d.offset_g - d.first_g) / density;
	}
	free(line);
	fclose(f);
	*ret_ml = d.ml;
	return 0;
}

static rig_ns mtime_ns(const char *run_dir, const char *name)
{
	char path[RIG_PATH_MAX];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", run_dir, name);
	if (stat(path, &sb) != 0)
		return 0;
	return (rig_ns)sb.st_mtim.tv_sec * RIG_NS_PER_S + sb.st_mtim.tv_nsec;
}

int resume_plan(const char *run_dir, const struct sequence *seq, const struct bench *bench,
		struct engine_resume *ret, bool *ret_virtual, char *err, size_t err_len)
{
	struct resume_scan st = { 0 };
	char path[RIG_PATH_MAX], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	struct timespec wall;
	rig_ns last_write_ns;
	FILE *f;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	snprintf(path, sizeof(path), "%s/events.jsonl", run_dir);
	f = infile_fopen(path);
	if (!f) {
		char why[128];

		r = -errno;
		snprintf(err, err_len, "%s: cannot read: %s", path,
			 infile_strerror(path, r, why, sizeof(why)));
		return r;
	}
	while (r == 0 && (len = getline(&line, &cap, f)) > 0)
		if (line[len - 1] == '\n')   /* a torn last line is no event */
			r = resume_scan_event(&st, line, (size_t)len);
	free(line);
	fclose(f);
	if (r < 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(-r));
		goto out;
	}
	if (!st.started) {
		r = -EINVAL;
		snprintf(err, err_len, "%s: no run_start event: not the record of a run", path);
		goto out;
	}
	if (st.ended) {
		r = -EALREADY;
		snprintf(err, err_len, "%s: the run ended (run_end recorded): there is nothing to "
			 "resume; rig report judges it", path);
		goto out;
	}
	if (st.last_step > (long long)seq->n_steps) {
		r = -EINVAL;
		snprintf(err, err_len, "%s: step %lld announced but inputs/sequence.cfg has %zu steps",
			 path, st.last_step, seq->n_steps);
		goto out;
	}
	r = scan_samples(run_dir, &st, bench->density_g_per_ml, &ret->delivered_ml, &st.last_t_ns);
	if (r < 0) {
		char why[128];

		snprintf(path, sizeof(path), "%s/samples.csv", run_dir);
		snprintf(err, err_len, "%s: cannot read: %s", path,
			 infile_strerror(path, r, why, sizeof(why)));
		goto out;
	}
	/* The step in progress at the crash is redone from its start (a hold
	 * holds its whole duration again, a tare tares again), except a bolus:
	 * part of it may have gone in, and giving it again would deliver more
	 * than the sequence programmed. */
	ret->first_step = st.last_step > 0 ? (size_t)st.last_step - 1 : 0;
	if (st.last_step > 0 && !strcmp(st.last_step_kind, "bolus")) {
		ret->first_step++;
		ret->skipped_bolus = true;
	}
	ret->rate_ml_per_h = st.rate_ml_per_h;
	ret->valve_closed = st.valve_closed;
	ret->gap_begin_ns = st.last_t_ns;
	/* How long nobody watched: wall time since the record was last written. */
	last_write_ns = mtime_ns(run_dir, "events.jsonl");
	if (mtime_ns(run_dir, "samples.csv") > last_write_ns)
		last_write_ns = mtime_ns(run_dir, "samples.csv");
	clock_gettime(CLOCK_REALTIME, &wall);
	ret->gap_ns = (rig_ns)wall.tv_sec * RIG_NS_PER_S + wall.tv_nsec - last_write_ns;
	if (ret->gap_ns < 0)
		ret->gap_ns = 0;
	/* whole seconds, rounded up: the file times are no finer than the
	 * writes, the gap is never understated, and the resumed samples keep
	 * whole-second times */
	ret->gap_ns = (ret->gap_ns + RIG_NS_PER_S - 1) / RIG_NS_PER_S * RIG_NS_PER_S;
	*ret_virtual = st.virtual_clock;
out:
	resume_scan_free(&st);
	return r;
}

/* rig calibrate scale: a two-point calibration of the bench's balance or load
 * cell with a reference mass.
 *
 * The scale is read through its own backend with the bench file's
 * calibration set aside (gain 1, offset 0), once empty and once with the
 * reference mass on it, averaging several settled readings at each point (a
 * balance is zeroed on the empty pan and asked for its stable weight; a load
 * cell's readings flagged unstable are left out):
 *
 *     gain = m_ref / (r_ref - r_empty)        offset = -gain * r_empty
 *
 * The result is printed as the bench file's calibration group, dated today
 * and due in a year, and written with the raw points to a record file. */
#define _GNU_SOURCE
#include "rig/base/utc.h"
#include "calibrate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rig/base/clock.h"
#include "drivers/driver.h"
#include "drivers/sim/model.h"

/* An unsettled scale is asked again this often ... */
#define SETTLE_STEP_NS (100 * RIG_NS_PER_MS)
/* ... for at most this long per point: far beyond a balance's settling
 * after a load is placed, so a scale still unsettled is disturbed (a
 * draught, a vibrating bench) and its points would be worthless. */
#define SETTLE_MAX_NS (120 * RIG_NS_PER_S)

struct cal {
	struct instrument *inst;
	struct rig_clock *clock;
	struct sim_clock_link *link;   /* a wire simulator kept in lockstep, or NULL */
};

/* Lets the scale settle a little: real time passes, or virtual time jumps
 * and a wire simulator in lockstep is told, since its scale settles only as
 * its time moves. */
static int cal_wait(struct cal *c)
{
	rig_ns t = rig_clock_now(c->clock) + SETTLE_STEP_NS;
	int r;

	while ((r = rig_clock_sleep_until(c->clock, t)) == -EINTR)
		;
	if (r == 0 && c->link)
		r = sim_clock_link_set(c->link, t);
	return r;
}

/* A settled reading: the backend's own (a balance's stable weight, which
 * waits on its stability detection), else the next reading not flagged
 * unstable.  An unsettled reading would pull the mean towards whatever the
 * pan was doing (swinging after the reference was placed, creeping after a
 * zero), which is not the mass on it. */
static int cal_read(struct cal *c, struct rig_cal_point *pt, bool zero, rig_ns deadline,
		    struct reading *ret)
{
	int r;

	for (;;) {
		struct reading rd[READINGS_MAX];
		size_t n = 0;

		if (pt->by_scale) {
			r = sensor_read_settled(c->inst, zero, ret);
			if (r == -ENOTSUP) {
				pt->by_scale = false;   /* a load cell: judged by its flags */
				continue;
			}
			if (r == 0 || r == -EAGAIN)
				pt->zeroed |= zero;
			if (r == 0)
				return 0;
			/* not settled within the balance's own timeout (zeroed
			 * already), or not zeroed (it could not settle for that) */
			if (r != -EAGAIN && r != -EBUSY)
				return r;
			zero = zero && r == -EBUSY;
		} else {
			r = sensor_read(c->inst, rd, READINGS_MAX, &n);
			if (r < 0)
				return r;
			if (n == 0)
				return -ENODATA;
			if (!(rd[0].flags & SAMPLE_UNSTABLE)) {
				*ret = rd[0];
				return 0;
			}
			pt->skipped++;
		}
		if (rig_clock_now(c->clock) >= deadline)
			return -ETIMEDOUT;
		r = cal_wait(c);
		if (r < 0)
			return r;
	}
}

int rig_calibrate_point(struct instrument *inst, struct rig_clock *clock,
			struct sim_clock_link *link, bool zero, struct rig_cal_point *ret)
{
	struct cal c = { inst, clock, link };
	rig_ns deadline = rig_clock_now(clock) + SETTLE_MAX_NS;
	double sum = 0, sum2 = 0;

	*ret = (struct rig_cal_point){ .by_scale = true };
	for (int i = 0; i < RIG_CAL_READINGS; i++) {
		struct reading rd;
		/* readings a step apart, so that each is a fresh conversion and
		 * their spread the scale's repeatability */
		int r = i > 0 ? cal_wait(&c) : 0;

		if (r == 0)
			r = cal_read(&c, ret, zero && !ret->zeroed, deadline, &rd);
		if (r < 0)
			return r;
		sum += rd.value;
		sum2 += rd.value * rd.value;
	}
	ret->mean = sum / RIG_CAL_READINGS;
	ret->sd = sqrt(fmax(0, (sum2 - sum * sum / RIG_CAL_READINGS) / (RIG_CAL_READINGS - 1)));
	return 0;
}

static const char *cal_point_how(const struct rig_cal_point *pt)
{
	if (pt->by_scale)
		return pt->zeroed ? "zeroed, then stable weights" : "stable weights";
	return "readings not flagged unstable";
}

static int wait_for_operator(FILE *in, FILE *out, const char *what)
{
	char line[64];

	fprintf(out, "%s, then press Enter\n", what);
	fflush(out);
	return fgets(line, sizeof(line), in) ? 0 : -ECANCELED;
}

/* The directory of path, for the balance's wire log beside the record. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

int rig_calibrate_scale(const struct bench *bench, double reference_g, const char *record_path,
			FILE *in, FILE *out)
{
	struct bench *raw_bench = malloc(sizeof(*raw_bench));
	struct driver_env env = { 0 };
	struct cal c = { 0 };
	struct rig_cal_point p0, p1;
	double gain, offset;
	char today[16], due[16], *dir = dir_of(record_path);
	int64_t now = rig_utc_now();
	FILE *rec;
	int r;

	if (!raw_bench || !dir) {
		free(raw_bench);
		free(dir);
		return -ENOMEM;
	}
	if (!bench->instrument[ROLE_SCALE].present) {
		free(raw_bench);
		free(dir);
		return -ENODEV;
	}
	/* the bench as it is, but with the scale's calibration set aside */
	*raw_bench = *bench;
	raw_bench->instrument[ROLE_SCALE].cal.gain = 1;
	raw_bench->instrument[ROLE_SCALE].cal.offset = 0;
	env.bench = raw_bench;
	env.answer_timeout_ns = bench->answer_timeout_ns;
	/* a serial balance's every byte goes beside the record, as evidence of
	 * how the points were taken */
	env.run_dir = dir;
	env.clock = bench->sim_clock_uri[0] || bench->has_sim ? rig_clock_new_virtual()
							      : rig_clock_new_real();
	c.clock = env.clock;
	if (bench->has_sim && strcmp(bench->instrument[ROLE_SCALE].backend, "sim") == 0)
		env.sim = sim_model_new(&bench->sim, bench->sim.fluid_density_g_per_ml);
	r = env.clock ? 0 : -ENOMEM;
	if (r == 0 && bench->sim_clock_uri[0])
		r = sim_clock_link_open(bench->sim_clock_uri, &c.link);
	if (r == 0)
		r = instrument_open(&c.inst, ROLE_SCALE, &env);
	if (r == 0)
		r = wait_for_operator(in, out, "Empty the scale's pan");
	if (r == 0)
		r = rig_calibrate_point(c.inst, c.clock, c.link, true, &p0);
	if (r == 0) {
		char what[96];

		snprintf(what, sizeof(what), "Place the %.6g g reference mass on the pan", reference_g);
		r = wait_for_operator(in, out, what);
	}
	if (r == 0)
		r = rig_calibrate_point(c.inst, c.clock, c.link, false, &p1);
	if (r == 0 && !(fabs(p1.mean - p0.mean) > 0))
		r = -EDOM;   /* the reference changed nothing (-ERANGE is a balance's overload) */
	if (r == 0) {
		gain = reference_g / (p1.mean - p0.mean);
		offset = -gain * p0.mean;
		rig_utc_format(now, "%Y-%m-%d", today, sizeof(today));
		rig_utc_format(rig_utc_plus_year(now), "%Y-%m-%d", due, sizeof(due));
		fprintf(out, "calibration = { gain = %.9g; offset = \"%.9g g\"; date = \"%s\"; "
			     "due = \"%s\"; };\n", gain, offset, today, due);
		rec = fopen(record_path, "wx");
		if (!rec) {
			r = -errno;
		} else {
			fprintf(rec, "# rig calibrate scale: two-point calibration of %s (backend %s)\n"
				     "# empty pan: %.9g (sd %.3g, %d readings: %s; %d unsettled skipped)\n"
				     "# reference %.9g g: %.9g (sd %.3g, %d readings: %s; %d unsettled "
				     "skipped)\n"
				     "calibration = { gain = %.9g; offset = \"%.9g g\"; date = \"%s\"; "
				     "due = \"%s\"; };\n", bench->id, bench->instrument[ROLE_SCALE].backend,
				p0.mean, p0.sd, RIG_CAL_READINGS, cal_point_how(&p0), p0.skipped,
				reference_g, p1.mean, p1.sd, RIG_CAL_READINGS, cal_point_how(&p1),
				p1.skipped, gain, offset, today, due);
			if (fclose(rec) != 0)
				r = -errno;
		}
	}
	instrument_close(c.inst);
	sim_clock_link_close(c.link);
	sim_model_free(env.sim);
	rig_clock_free(env.clock);
	free(raw_bench);
	free(dir);
	return r;
}

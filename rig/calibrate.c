/* rig calibrate scale: a two-point calibration of the bench's balance or load
 * cell with a reference mass.
 *
 * The scale is read through its own backend with the bench file's
 * calibration set aside (gain 1, offset 0), once empty and once with the
 * reference mass on it, averaging several readings at each point:
 *
 *     gain = m_ref / (r_ref - r_empty)        offset = -gain * r_empty
 *
 * The result is printed as the bench file's calibration group, dated today
 * and due in a year, and written with the raw points to a record file. */
#define _GNU_SOURCE
#include "calibrate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "drivers/driver.h"
#include "drivers/sim/model.h"

#define READINGS_PER_POINT 10

static int mean_reading(struct instrument *inst, double *ret, double *ret_sd)
{
	double sum = 0, sum2 = 0;

	for (int i = 0; i < READINGS_PER_POINT; i++) {
		struct reading rd[READINGS_MAX];
		size_t n;
		int r = sensor_read(inst, rd, READINGS_MAX, &n);

		if (r < 0)
			return r;
		if (n == 0)
			return -ENODATA;
		sum += rd[0].value;
		sum2 += rd[0].value * rd[0].value;
	}
	*ret = sum / READINGS_PER_POINT;
	*ret_sd = sqrt(fmax(0, (sum2 - sum * sum / READINGS_PER_POINT) / (READINGS_PER_POINT - 1)));
	return 0;
}

static int wait_for_operator(FILE *in, FILE *out, const char *what)
{
	char line[64];

	fprintf(out, "%s, then press Enter\n", what);
	fflush(out);
	return fgets(line, sizeof(line), in) ? 0 : -ECANCELED;
}

int rig_calibrate_scale(const struct bench *bench, double reference_g, const char *record_path,
			FILE *in, FILE *out)
{
	struct bench *raw_bench = malloc(sizeof(*raw_bench));
	struct driver_env env = { 0 };
	struct instrument *inst = NULL;
	double r0, r1, sd0, sd1, gain, offset;
	char today[16], due[16];
	time_t now = time(NULL);
	struct tm tm;
	FILE *rec;
	int r;

	if (!raw_bench)
		return -ENOMEM;
	if (!bench->instrument[ROLE_SCALE].present) {
		free(raw_bench);
		return -ENODEV;
	}
	/* the bench as it is, but with the scale's calibration set aside */
	*raw_bench = *bench;
	raw_bench->instrument[ROLE_SCALE].cal.gain = 1;
	raw_bench->instrument[ROLE_SCALE].cal.offset = 0;
	env.bench = raw_bench;
	env.clock = bench->sim_clock_uri[0] || bench->has_sim ? rig_clock_new_virtual()
							      : rig_clock_new_real();
	if (bench->has_sim && strcmp(bench->instrument[ROLE_SCALE].backend, "sim") == 0)
		env.sim = sim_model_new(&bench->sim, bench->sim.fluid_density_g_per_ml);
	r = env.clock ? instrument_open(&inst, ROLE_SCALE, &env) : -ENOMEM;
	if (r == 0)
		r = wait_for_operator(in, out, "Empty the scale's pan");
	if (r == 0)
		r = mean_reading(inst, &r0, &sd0);
	if (r == 0) {
		char what[96];

		snprintf(what, sizeof(what), "Place the %.6g g reference mass on the pan", reference_g);
		r = wait_for_operator(in, out, what);
	}
	if (r == 0)
		r = mean_reading(inst, &r1, &sd1);
	if (r == 0 && !(fabs(r1 - r0) > 0))
		r = -ERANGE;   /* the reference changed nothing */
	if (r == 0) {
		gain = reference_g / (r1 - r0);
		offset = -gain * r0;
		gmtime_r(&now, &tm);
		strftime(today, sizeof(today), "%Y-%m-%d", &tm);
		tm.tm_year += 1;
		strftime(due, sizeof(due), "%Y-%m-%d", &tm);
		fprintf(out, "calibration = { gain = %.9g; offset = \"%.9g g\"; date = \"%s\"; "
			     "due = \"%s\"; };\n", gain, offset, today, due);
		rec = fopen(record_path, "wx");
		if (!rec) {
			r = -errno;
		} else {
			fprintf(rec, "# rig calibrate scale: two-point calibration of %s (backend %s)\n"
				     "# empty pan: %.9g (sd %.3g, %d readings)\n"
				     "# reference %.9g g: %.9g (sd %.3g, %d readings)\n"
				     "calibration = { gain = %.9g; offset = \"%.9g g\"; date = \"%s\"; "
				     "due = \"%s\"; };\n", bench->id, bench->instrument[ROLE_SCALE].backend,
				r0, sd0, READINGS_PER_POINT, reference_g, r1, sd1, READINGS_PER_POINT,
				gain, offset, today, due);
			if (fclose(rec) != 0)
				r = -errno;
		}
	}
	instrument_close(inst);
	sim_model_free(env.sim);
	rig_clock_free(env.clock);
	free(raw_bench);
	return r;
}

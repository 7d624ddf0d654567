/* Has the line stopped draining into the vessel?
 *
 * After a prime or a delivery the line still holds what its compliance
 * stored, and passes it on to the vessel over some time constants of the
 * line (seconds for a short, stiff line; minutes for a long catheter).  The
 * balance's stability flag says nothing about it: each reading is stable, it
 * is the series that still rises.  A measure_evaporation period begun then
 * fits that rise into the evaporation (too low, and every dose error that
 * adds it back biased low), so the engine first watches the balance itself.
 *
 * The line is still when the least-squares slope of the last STILL_N settled
 * readings is no more than twice its own standard uncertainty above zero:
 * evaporation and drift make the balance fall or stay, a drain makes it
 * rise.  The uncertainty comes from the residual scatter of those readings,
 * never below what the balance's stated calibration uncertainty gives, so a
 * quantised balance that repeats a value is not taken for a rising one. */
#include <math.h>

#include "internal.h"

void engine_still_begin(struct engine *e)
{
	e->still = (struct still_watch){ .on = true };
}

void engine_still_add(struct engine *e, rig_ns t_ns, double mass_g)
{
	struct still_watch *w = &e->still;

	if (!w->on)
		return;
	w->t_ns[w->n % STILL_N] = t_ns;
	w->g[w->n % STILL_N] = mass_g;
	w->n++;
}

bool engine_line_still(const struct engine *e)
{
	const struct still_watch *w = &e->still;
	double st = 0, sg = 0, stt = 0, stg = 0, ssr = 0, slope, sigma, sigma_cal;
	rig_ns t0;

	if (w->n < STILL_N)
		return false;
	t0 = w->t_ns[w->n % STILL_N];   /* the oldest held */
	for (size_t i = 0; i < STILL_N; i++) {
		double t = rig_ns_to_s(w->t_ns[i] - t0);

		st += t;
		sg += w->g[i];
	}
	st /= STILL_N;
	sg /= STILL_N;
	for (size_t i = 0; i < STILL_N; i++) {
		double t = rig_ns_to_s(w->t_ns[i] - t0) - st;

		stt += t * t;
		stg += t * (w->g[i] - sg);
	}
	if (!(stt > 0))
		return false;
	slope = stg / stt;
	for (size_t i = 0; i < STILL_N; i++) {
		double r = w->g[i] - sg - slope * (rig_ns_to_s(w->t_ns[i] - t0) - st);

		ssr += r * r;
	}
	sigma = sqrt(ssr / (STILL_N - 2));
	sigma_cal = e->o->bench->instrument[ROLE_SCALE].cal.uncertainty;
	return slope <= 2 * fmax(sigma, sigma_cal) / sqrt(stt);
}

/* The gravimetric chain: see gravimetric.h. */
#include "gravimetric.h"

#include <errno.h>
#include <math.h>

double water_density_kg_per_m3(double t_c)
{
	/* Tanaka et al. 2001, eq. 1, air-free water at 101.325 kPa */
	const double a1 = -3.983035, a2 = 301.797, a3 = 522528.9, a4 = 69.34881, a5 = 999.974950;

	return a5 * (1 - (t_c + a1) * (t_c + a1) * (t_c + a2) / (a3 * (t_c + a4)));
}

double air_density_cipm2007_kg_per_m3(double t_c, double p_kpa, double rh_pct, double x_co2)
{
	/* the equation and constants of CIPM-2007, in SI units */
	const double R = 8.314472, mv = 18.01528e-3;
	const double ma = (28.96546 + 12.011 * (x_co2 - 0.0004)) * 1e-3;
	double T = t_c + 273.15, p = p_kpa * 1e3, h = rh_pct / 100;
	/* saturation vapour pressure and enhancement factor */
	double psv = exp(1.2378847e-5 * T * T - 1.9121316e-2 * T + 33.93711047 - 6.3431645e3 / T);
	double f = 1.00062 + 3.14e-8 * p + 5.6e-7 * t_c * t_c;
	double xv = h * f * psv / p;
	/* compressibility */
	double z = 1 - p / T * (1.58123e-6 - 2.9331e-8 * t_c + 1.1043e-10 * t_c * t_c +
				(5.707e-6 - 2.051e-8 * t_c) * xv + (1.9898e-4 - 2.376e-6 * t_c) * xv * xv) +
		   p * p / (T * T) * (1.83e-11 - 0.765e-8 * xv * xv);

	return p * ma / (z * R * T) * (1 - xv * (1 - mv / ma));
}

double buoyancy_ml_per_g(double rho_fluid_kg_per_m3, double rho_air_kg_per_m3,
			 double rho_weights_kg_per_m3)
{
	/* 1 / (kg/m3) = 1000 mL/g */
	return 1000 / (rho_fluid_kg_per_m3 - rho_air_kg_per_m3) *
	       (1 - rho_air_kg_per_m3 / rho_weights_kg_per_m3);
}

void linfit_init(struct linfit *fit)
{
	*fit = (struct linfit){ 0 };
}

void linfit_add(struct linfit *fit, rig_ns t_ns, double value)
{
	double t;

	if (fit->n == 0)
		fit->t0_ns = t_ns;
	t = rig_ns_to_h(t_ns - fit->t0_ns);
	fit->n++;
	fit->st += t;
	fit->sv += value;
	fit->stt += t * t;
	fit->stv += t * value;
	fit->svv += value * value;
}

int linfit_slope(const struct linfit *fit, double *ret_slope_per_h, double *ret_u_slope_per_h)
{
	double n = (double)fit->n, sxx, sxy, syy, slope, rss;

	if (fit->n < 3)
		return -ENODATA;
	sxx = fit->stt - fit->st * fit->st / n;
	sxy = fit->stv - fit->st * fit->sv / n;
	syy = fit->svv - fit->sv * fit->sv / n;
	if (!(sxx > 0))
		return -ENODATA;
	slope = sxy / sxx;
	/* residual sum of squares; the sums are shifted to the first point, but
	 * cancellation can still leave a tiny negative */
	rss = fmax(syy - slope * sxy, 0);
	*ret_slope_per_h = slope;
	*ret_u_slope_per_h = sqrt(rss / (n - 2) / sxx);
	return 0;
}

void mass_step_init(struct mass_step_detector *d, double floor_g)
{
	*d = (struct mass_step_detector){ .floor_g = floor_g };
}

void mass_step_reset(struct mass_step_detector *d)
{
	d->n = 0;
	d->n_recent = 0;
	d->pending = false;
}

int mass_step_flush(struct mass_step_detector *d, struct mass_step *ret)
{
	if (!d->pending)
		return 0;
	*ret = d->pend;
	d->pending = false;
	return 1;
}

/* n <= NOISE_BLOCK */
static double median_of(const double *v, size_t n)
{
	double s[NOISE_BLOCK];

	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		while (j > 0 && s[j - 1] > v[i]) {
			s[j] = s[j - 1];
			j--;
		}
		s[j] = v[i];
	}
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

void noise_add(struct noise_est *ne, double w)
{
	if (ne->n >= 2) {
		ne->block[ne->n_block++] = fabs(w - 2 * ne->w1 + ne->w2);
		if (ne->n_block == NOISE_BLOCK) {
			ne->sum_medians += median_of(ne->block, NOISE_BLOCK);
			ne->n_medians++;
			ne->n_block = 0;
		}
	}
	ne->w2 = ne->w1;
	ne->w1 = w;
	ne->n++;
}

double noise_sigma(const struct noise_est *ne)
{
	double med;

	if (ne->n_medians > 0)
		med = ne->sum_medians / (double)ne->n_medians;
	else if (ne->n_block > 0)
		med = median_of(ne->block, ne->n_block);
	else
		return 0;
	return med / (0.6744897502 * sqrt(6));
}

size_t noise_count(const struct noise_est *ne)
{
	return ne->n_medians * NOISE_BLOCK + ne->n_block;
}

double mass_step_noise_g(const struct mass_step_detector *d)
{
	return noise_count(&d->noise) < MASS_STEP_NOISE_MIN ? NAN : noise_sigma(&d->noise);
}

int mass_step_add(struct mass_step_detector *d, rig_ns t_ns, double mass_g, struct mass_step *ret)
{
	double noise = mass_step_noise_g(d);
	int found = 0;

	/* judged against the noise before this reading: a step does not
	 * raise the bar it is judged by */
	noise_add(&d->noise, mass_g);
	if (d->n > 0 && t_ns > d->prev_t_ns) {
		double dt_s = rig_ns_to_s(t_ns - d->prev_t_ns);
		double rate = (mass_g - d->prev_g) / dt_s;
		size_t cap = sizeof(d->recent_g_per_s) / sizeof(d->recent_g_per_s[0]);

		bool below = false, trend = true;

		if (d->n_recent >= 3 && isfinite(noise)) {
			double expected = median_of(d->recent_g_per_s,
						    d->n_recent < cap ? d->n_recent : cap) * dt_s;
			double threshold = fmax(d->floor_g, MASS_STEP_NOISE_FACTOR * noise);

			below = mass_g - d->prev_g - expected < -threshold;
			if (below && !d->pending) {
				d->pend = (struct mass_step){ d->prev_t_ns, t_ns, d->prev_g, mass_g,
							      expected, threshold, noise };
				d->pending = true;
				d->n_pend = 0;
				trend = false;
			} else if (below) {
				/* still below: the flow changed, once confirmed */
				d->pend_g_per_s[d->n_pend++] = rate;
				trend = false;
				if (d->n_pend == MASS_STEP_CONFIRM) {
					d->pending = false;
					d->n_recent = 0;
					for (size_t i = 0; i < d->n_pend; i++)
						d->recent_g_per_s[d->n_recent++ % cap] =
							d->pend_g_per_s[i];
				}
			} else if (d->pending) {
				/* the trend resumed: the fall was a step */
				*ret = d->pend;
				d->pending = false;
				found = 1;
			}
		}
		/* a step is not the trend: keep it out of the median */
		if (trend)
			d->recent_g_per_s[d->n_recent++ % cap] = rate;
	}
	d->n++;
	d->prev_t_ns = t_ns;
	d->prev_g = mass_g;
	return found;
}

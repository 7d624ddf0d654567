/* Uncertainty arithmetic: see uncertainty.h. */
#include "uncertainty.h"

#include <math.h>

#include "gravimetric.h"

double normal_cdf(double z)
{
	return 0.5 * erfc(-z / sqrt(2));
}

/* Bisection on the distribution function: 200 halvings of [-40, 40] reach
 * the last bit, and nothing here is called often. */
double normal_quantile(double p)
{
	double lo = -40, hi = 40;

	if (!(p > 0))
		return -INFINITY;
	if (!(p < 1))
		return INFINITY;
	for (int i = 0; i < 200 && hi - lo > 1e-15 * fmax(1, fabs(lo)); i++) {
		double mid = 0.5 * (lo + hi);

		if (normal_cdf(mid) < p)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

/* The integral of Phi from -inf to z: z Phi(z) + phi(z). */
static double int_phi(double z)
{
	return z * normal_cdf(z) + exp(-0.5 * z * z) / sqrt(2 * M_PI);
}

/* P(|R + N| <= u), R uniform on [-a, a], N ~ N(0, s^2): the mean over x of
 * Phi((u - x)/s) - Phi((-u - x)/s), in closed form through int_phi. */
static double prob_within(double u, double a, double s)
{
	double c = s / (2 * a);

	return c * (int_phi((u + a) / s) - int_phi((u - a) / s) - int_phi((-u + a) / s) +
		    int_phi((-u - a) / s));
}

double coverage95_rect_normal(double a, double sigma)
{
	double lo = 0, hi;

	if (!(a > 0))
		return 1.959963985 * fmax(sigma, 0);
	if (!(sigma > 1e-6 * a))
		return 0.95 * a;
	hi = a + 6 * sigma;
	for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
		double mid = 0.5 * (lo + hi);

		if (prob_within(mid, a, sigma) < 0.95)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/* P(the largest of m errors at most U), by Simpson's rule over the common
 * error. */
static double all_within(size_t m, double u_own, double u_common, double big_u)
{
	const int n = 400;                  /* even: z0 over [-8, 8] */
	const double lo = -8, h = 16.0 / n;
	double sum = 0;

	for (int i = 0; i <= n; i++) {
		double z = lo + i * h, c = u_common * z;
		double f = exp(-0.5 * z * z) / sqrt(2 * M_PI) *
			   pow(normal_cdf((big_u - c) / u_own), (double)m);

		sum += (i == 0 || i == n ? 1 : i % 2 ? 4 : 2) * f;
	}
	return sum * h / 3;
}

double extreme_common_u(size_t m, double u_own, double u_common)
{
	double lo, hi;

	if (m < 1)
		m = 1;
	if (isnan(u_own) || isnan(u_common))
		return NAN;
	if (!(u_own > 0))
		return 1.959963984540054 * u_common;
	/* the answer lies above the quadrature sum (m = 1) and, doubling as
	 * needed, below the linear one */
	lo = 1.959963984540054 * hypot(u_own, u_common) * 0.999;
	hi = extreme_coverage_factor(m) * u_own + 1.959963984540054 * u_common;
	for (int it = 0; it < 20 && 1 - all_within(m, u_own, u_common, hi) +
				     normal_cdf(-hi / hypot(u_own, u_common)) > 0.05; it++)
		hi *= 2;
	for (int it = 0; it < 60 && hi - lo > 1e-12 * hi; it++) {
		double mid = 0.5 * (lo + hi);

		/* above by the largest of the m, below by one value's error */
		double miss = 1 - all_within(m, u_own, u_common, mid) +
			      normal_cdf(-mid / hypot(u_own, u_common));

		if (miss > 0.05)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

double extreme_coverage_factor(size_t m)
{
	/* P(max |e_k| <= c) = (2 Phi(c) - 1)^m = 0.95 */
	double each = pow(0.95, 1.0 / (double)(m ? m : 1));

	return normal_quantile(0.5 * (1 + each));
}

double water_density_slope_kg_per_m3_per_k(double t_c)
{
	const double h = 1e-3;

	return (water_density_kg_per_m3(t_c + h) - water_density_kg_per_m3(t_c - h)) / (2 * h);
}

double volume_factor_u_rel(double rho_fluid, double u_rho_fluid, double rho_air,
			   double u_rho_air, double rho_weights)
{
	/* f = (1 / (rho_W - rho_A)) (1 - rho_A / rho_B):
	 * d ln f / d rho_W = -1 / (rho_W - rho_A),
	 * d ln f / d rho_A = 1 / (rho_W - rho_A) - 1 / (rho_B - rho_A) */
	double dw = u_rho_fluid / (rho_fluid - rho_air);
	double da = u_rho_air * (1 / (rho_fluid - rho_air) - 1 / (rho_weights - rho_air));

	return sqrt(dw * dw + da * da);
}

double line_content_var(double stroke_ml, double period_s, double tau_s)
{
	double x, v;

	if (!(tau_s > 0) || !(period_s > 0))
		return stroke_ml * stroke_ml / 12;
	x = period_s / tau_s;
	if (x < 1e-3)   /* the series: 1/12 - x^2/720 */
		return stroke_ml * stroke_ml * (1.0 / 12 - x * x / 720);
	v = 1 / tanh(x / 2) / (2 * x) - 1 / (x * x);
	return stroke_ml * stroke_ml * fmax(v, 0);
}

/* Uncertainty arithmetic the budgets share (GUM, JCGM 100:2008).  Pure
 * functions: no I/O, no clock.
 *
 * A budget states each input's standard uncertainty u (k = 1), combines them
 * in quadrature and reports U = k * u_c with k = 2, which covers about 95 % of
 * outcomes when the combined distribution is near normal.  Two cases are not:
 *
 *  - a rectangular term dominating (a time read by polling: the event lies
 *    anywhere within one poll period): k = 2 on its u = a / sqrt(3) would
 *    cover 100 %, not 95 %.  coverage95_rect_normal() gives the half-width
 *    of the interval that holds 95 % of a rectangular (+-a) plus a normal
 *    (sigma) error;
 *  - the extreme of many noisy values (Ep(max) over a hundred windows): the
 *    extreme picks up the largest noise too.  extreme_coverage_factor(m)
 *    gives the factor on the per-value u that holds the largest of m
 *    independent normal errors in 95 % of outcomes. */
#ifndef RIG_ANALYSIS_UNCERTAINTY_H
#define RIG_ANALYSIS_UNCERTAINTY_H

#include <stddef.h>

/* The standard normal distribution function, and its inverse (0 < p < 1). */
double normal_cdf(double z);
double normal_quantile(double p);

/* U such that |R + N| <= U with probability 0.95, for R rectangular on
 * [-a, a] and N normal with standard deviation sigma (a, sigma >= 0).  With
 * a = 0 it is 1.96 sigma; with sigma = 0, 0.95 a. */
double coverage95_rect_normal(double a, double sigma);

/* c such that the largest |error| of m independent N(0, 1) errors is at
 * most c in 95 % of outcomes: 1.96 for m = 1, 3.48 for m = 100. */
double extreme_coverage_factor(size_t m);

/* U such that the largest of m errors u_own Z_k + u_common Z_0 (Z
 * independent N(0, 1): each value's own error and one that shifts every
 * value alike) exceeds U, or one value's error falls below -U, in 5 % of
 * outcomes together:
 *   1 - integral phi(z) Phi((U - u_common z) / u_own)^m dz
 *     + Phi(-U / hypot(u_own, u_common)) = 0.05.
 * The measured maximum of m values lies above the true one by at most the
 * largest error of the values that could be it, and below it by no more
 * than the truly largest value's own error: |error| <= U in 95 % of
 * outcomes (and the same for a minimum).  1.96 hypot(u_own, u_common) when
 * m = 1; normal_quantile(0.95^(1/m)) u_own when u_common = 0 (3.29 for
 * m = 100), a little below extreme_coverage_factor(m), which bounds every
 * |error| of the m and not the extreme's.  NaN in, NaN out. */
double extreme_common_u(size_t m, double u_own, double u_common);

/* The variance (mL^2) of what a line holds at an instant taken at random,
 * for strokes of stroke_ml every period_s that the line passes on to the
 * vessel exponentially with time constant tau_s (the outflow of a compliant
 * line through a resistance).  In steady state the line holds
 * V(u) = s e^(-u/tau) / (1 - e^(-P/tau)) a time u after a stroke, and over u
 * uniform on [0, P): var = s^2 (coth(x/2) / (2x) - 1/x^2) with x = P/tau,
 * which falls from s^2/12 (strokes far faster than the line: a sawtooth)
 * towards s^2 tau / (2P) (strokes far apart: mostly empty).  tau_s <= 0
 * (unknown) gives the largest, s^2/12. */
double line_content_var(double stroke_ml, double period_s, double tau_s);

/* Water's density slope dRho/dT by Tanaka et al. (2001), kg/m3 per K:
 * -0.2068 at 20 degC. */
double water_density_slope_kg_per_m3_per_k(double t_c);

/* Relative standard uncertainty of the volume per gram of balance reading
 * (gravimetric.h, ISO 8655-6 form) from the standard uncertainties of the
 * fluid's density and of the air's, all in kg/m3. */
double volume_factor_u_rel(double rho_fluid, double u_rho_fluid, double rho_air,
			   double u_rho_air, double rho_weights);

#endif

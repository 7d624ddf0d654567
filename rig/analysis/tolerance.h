/* Normal tolerance intervals: the factor k such that x̄ ± k·s (two-sided)
 * or x̄ + k·s, x̄ − k·s (one-sided) contains at least a proportion p of a
 * normal population with confidence γ, from n values (ISO 16269-6; NIST
 * e-Handbook 7.2.6.3).  Pure functions, computed exactly by numerical
 * integration rather than looked up:
 *   one-sided: k = t'⁻¹(γ; ν = n−1, δ = z_p·√n) / √n, t' the noncentral t;
 *   two-sided (Odeh and Owen 1980): γ = √(2n/π) ∫₀^∞ e^(−n z²/2)
 *     P(χ²_ν ≥ ν·r(z)²/k²) dz, with Φ(z + r) − Φ(z − r) = p;
 *   and Howe's (1969) closed approximation of the two-sided factor,
 *     k ≈ z_((1+p)/2) · √(ν (1 + 1/n) / χ²_(1−γ; ν)). */
#ifndef RIG_ANALYSIS_TOLERANCE_H
#define RIG_ANALYSIS_TOLERANCE_H

/* (The standard normal distribution and its quantile: uncertainty.h.) */
/* Chi-square distribution function and its quantile, ν degrees of freedom. */
double tol_chi2_cdf(double x, double nu);
double tol_chi2_quantile(double p, double nu);

/* The factors; NAN for n < 2 or p, γ outside (0, 1). */
double tol_k_one_sided(int n, double p, double gamma);
double tol_k_two_sided(int n, double p, double gamma);
double tol_k_two_sided_howe(int n, double p, double gamma);

#endif

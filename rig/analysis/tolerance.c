/* Normal tolerance factors: see tolerance.h.  Every integral here is taken
 * by composite Simpson's rule over a range outside which the integrand is
 * below 1e-12; every inverse by bisection, which cannot fail to converge on
 * these monotone functions. */
#include "tolerance.h"
#include "uncertainty.h"

#include <math.h>
#include <stdlib.h>
#include <stddef.h>

static double bisect(double (*f)(double, const void *), const void *ctx, double target,
		     double lo, double hi)
{
	for (int i = 0; i < 200 && hi - lo > 1e-13 * (1 + fabs(lo)); i++) {
		double mid = 0.5 * (lo + hi);

		if (f(mid, ctx) < target)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

/* The regularized lower incomplete gamma function P(a, x): its power
 * series below a + 1, the continued fraction of Q = 1 − P above (both
 * converge fast there; Abramowitz and Stegun 6.5.29 and 6.5.31). */
static double gamma_p(double a, double x)
{
	double lead;

	if (x <= 0)
		return 0;
	lead = exp(a * log(x) - x - lgamma(a));
	if (x < a + 1) {
		double term = 1 / a, sum = term;

		for (int k = 1; k < 10000 && fabs(term) > 1e-16 * fabs(sum); k++) {
			term *= x / (a + k);
			sum += term;
		}
		return sum * lead;
	}
	/* Q(a, x) = lead / (x + 1 − a − 1(1 − a)/(x + 3 − a − 2(2 − a)/(x + 5 − a − ...))),
	 * evaluated by the modified Lentz method */
	{
		const double tiny = 1e-300;
		double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;

		for (int i = 1; i < 10000; i++) {
			double an = -i * (i - a), delta;

			b += 2;
			d = an * d + b;
			d = fabs(d) < tiny ? tiny : d;
			c = b + an / c;
			c = fabs(c) < tiny ? tiny : c;
			d = 1 / d;
			delta = d * c;
			h *= delta;
			if (fabs(delta - 1) < 1e-16)
				break;
		}
		return 1 - lead * h;
	}
}

double tol_chi2_cdf(double x, double nu)
{
	return gamma_p(nu / 2, x / 2);
}

static double chi2_cdf_ctx(double x, const void *ctx)
{
	return tol_chi2_cdf(x, *(const double *)ctx);
}

double tol_chi2_quantile(double p, double nu)
{
	if (!(p > 0 && p < 1) || !(nu > 0))
		return NAN;
	return bisect(chi2_cdf_ctx, &nu, p, 0, nu + 100 * sqrt(2 * nu) + 1000);
}

/* ---------------------------------------------------------- one-sided -- */

struct nct {
	double nu, delta;
};

/* P(T' ≤ t) for the noncentral t with ν degrees of freedom and
 * noncentrality δ: T' = (Z + δ)/√(χ²_ν/ν), so P = E[Φ(t·W/√ν − δ)] over
 * W = √χ²_ν, whose density (the chi distribution) is finite at 0 for every
 * ν ≥ 1 and negligible beyond √ν + 12. */
static double nct_cdf(double t, const void *ctx)
{
	const struct nct *c = ctx;
	const int m = 4000;   /* even */
	double hi = sqrt(c->nu) + 12, h = hi / m, sum = 0;
	double log_norm = (c->nu / 2 - 1) * log(2) + lgamma(c->nu / 2);

	for (int i = 0; i <= m; i++) {
		double w = i * h, f;

		if (w == 0)
			f = c->nu == 1 ? exp(-log_norm) : 0;
		else
			f = exp((c->nu - 1) * log(w) - w * w / 2 - log_norm);
		f *= normal_cdf(t * w / sqrt(c->nu) - c->delta);
		sum += f * (i == 0 || i == m ? 1 : i % 2 ? 4 : 2);
	}
	return sum * h / 3;
}

double tol_k_one_sided(int n, double p, double gamma)
{
	struct nct c;
	double zp;

	if (n < 2 || !(p > 0 && p < 1) || !(gamma > 0 && gamma < 1))
		return NAN;
	zp = normal_quantile(p);
	c = (struct nct){ .nu = n - 1, .delta = zp * sqrt(n) };
	/* the quantile of T' lies between δ and a bound far above it */
	return bisect(nct_cdf, &c, gamma, c.delta, c.delta * 1000 + 1000) / sqrt(n);
}

/* ---------------------------------------------------------- two-sided -- */

struct content {
	double z, p;
};

static double coverage(double r, const void *ctx)
{
	const struct content *c = ctx;

	return normal_cdf(c->z + r) - normal_cdf(c->z - r);
}

#define TWO_SIDED_NODES 2000   /* Simpson's rule over z: even */

struct two_sided {
	int n;
	double h;                        /* the step in z */
	double r[TWO_SIDED_NODES + 1];   /* r(z_i): coverage(z_i ± r) = p */
};

/* The confidence that x̄ ± k·s covers p of the population.  r(z) does not
 * depend on k: it is solved once per factor, not at every step of the
 * search for k. */
static double two_sided_confidence(double k, const void *ctx)
{
	const struct two_sided *c = ctx;
	double nu = c->n - 1, sum = 0;

	for (int i = 0; i <= TWO_SIDED_NODES; i++) {
		double z = i * c->h, r = c->r[i];
		double f = exp(-c->n * z * z / 2) * (1 - tol_chi2_cdf(nu * r * r / (k * k), nu));

		sum += f * (i == 0 || i == TWO_SIDED_NODES ? 1 : i % 2 ? 4 : 2);
	}
	return sqrt(2.0 * c->n / M_PI) * sum * c->h / 3;
}

double tol_k_two_sided(int n, double p, double gamma)
{
	struct two_sided *c;
	double lo, k;

	if (n < 2 || !(p > 0 && p < 1) || !(gamma > 0 && gamma < 1))
		return NAN;
	c = malloc(sizeof(*c));
	if (!c)
		return NAN;
	c->n = n;
	c->h = 9 / sqrt(n) / TWO_SIDED_NODES;
	for (int i = 0; i <= TWO_SIDED_NODES; i++) {
		struct content ct = { .z = i * c->h, .p = p };

		c->r[i] = bisect(coverage, &ct, p, 0, ct.z + 40);
	}
	lo = normal_quantile((1 + p) / 2);
	k = bisect(two_sided_confidence, c, gamma, lo, lo * 1000 + 1000);
	free(c);
	return k;
}

double tol_k_two_sided_howe(int n, double p, double gamma)
{
	double nu = n - 1;

	if (n < 2 || !(p > 0 && p < 1) || !(gamma > 0 && gamma < 1))
		return NAN;
	return normal_quantile((1 + p) / 2) *
	       sqrt(nu * (1 + 1.0 / n) / tol_chi2_quantile(1 - gamma, nu));
}

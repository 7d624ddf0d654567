/* Individuals chart and run rules.  See spc.h for the method. */
#include "spc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

void spc_params_default(struct spc_params *ret)
{
	*ret = (struct spc_params){ .baseline_n = SPC_BASELINE_DEFAULT, .rules = SPC_RULES_ALL,
				    .confirm = SPC_CONFIRM_DEFAULT };
}

static bool is_baseline(const bool *in_baseline, size_t n_first, size_t i)
{
	return in_baseline ? in_baseline[i] : i < n_first;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int spc_chart_fit(const double *x, size_t n, const bool *in_baseline, const struct spc_params *p,
		  struct spc_chart *ret)
{
	size_t nb = 0, need, k = 0, i;
	double sum = 0, mr_sum = 0, prev = 0, step = INFINITY;
	double *sorted;

	*ret = (struct spc_chart){ 0 };
	if (!p || p->baseline_n < 2 || (n && !x))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!isfinite(x[i]))
			return -EINVAL;
		if (!in_baseline && i >= p->baseline_n)
			break;
		if (is_baseline(in_baseline, p->baseline_n, i))
			nb++;
	}
	need = in_baseline ? 2 : p->baseline_n;
	ret->n_baseline = nb;
	if (nb < need)
		return 0;

	sorted = malloc(nb * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	for (i = 0; i < n && k < nb; i++) {
		if (!is_baseline(in_baseline, p->baseline_n, i))
			continue;
		sum += x[i];
		if (k > 0)
			mr_sum += fabs(x[i] - prev);
		prev = x[i];
		sorted[k++] = x[i];
	}
	qsort(sorted, nb, sizeof(*sorted), cmp_double);
	for (i = 1; i < nb; i++)
		if (sorted[i] > sorted[i - 1] && sorted[i] - sorted[i - 1] < step)
			step = sorted[i] - sorted[i - 1];

	ret->centre = sum / (double)nb;
	if (sorted[0] == sorted[nb - 1])
		ret->centre = sorted[0];   /* exactly, not the sum's rounding */
	free(sorted);
	ret->mr_bar = mr_sum / (double)(nb - 1);
	ret->sigma_mr = ret->mr_bar / SPC_D2;
	ret->sigma_floor = 1e-9 * fabs(ret->centre);
	if (isfinite(step) && step / 2 > ret->sigma_floor)
		ret->sigma_floor = step / 2;
	if (ret->sigma_floor < 1e-300)
		ret->sigma_floor = 1e-300;
	ret->sigma = fmax(ret->sigma_mr, ret->sigma_floor);
	ret->lcl = ret->centre - 3 * ret->sigma;
	ret->ucl = ret->centre + 3 * ret->sigma;
	ret->valid = true;
	return 0;
}

/* Distance from the centre in sigmas; within a millionth of a sigma is on
 * the centre, on neither side (a baseline of identical values has a mean
 * off by a rounding error, which would put every later equal value on one
 * side of it). */
static double zscore(const struct spc_chart *c, double v)
{
	double z = (v - c->centre) / c->sigma;

	return fabs(z) < 1e-6 ? 0 : z;
}

/* k of the m points ending at i beyond `zone` sigma on the side of point i,
 * point i among them. */
static bool k_of_m(const double *x, size_t i, const struct spc_chart *c, size_t k, size_t m,
		   double zone, struct spc_hit *hit)
{
	double zi = zscore(c, x[i]);
	int side = zi > zone ? 1 : zi < -zone ? -1 : 0;
	size_t count = 0, first = i, j;

	if (!side || i + 1 < m)
		return false;
	for (j = i + 1 - m; j <= i; j++) {
		if ((double)side * zscore(c, x[j]) > zone) {
			if (!count)
				first = j;
			count++;
		}
	}
	if (count < k)
		return false;
	*hit = (struct spc_hit){ .first = first, .side = side };
	return true;
}

unsigned spc_rules_at(const double *x, size_t n, size_t i, const bool *in_baseline,
		      const struct spc_chart *c, unsigned rules, struct spc_hit *hits)
{
	unsigned held = 0;
	struct spc_hit h;
	double zi;
	size_t j;

	if (!c->valid || i >= n || is_baseline(in_baseline, c->n_baseline, i))
		return 0;
	zi = zscore(c, x[i]);
	if ((rules & SPC_RULE_BIT(SPC_BEYOND_3SIGMA)) && fabs(zi) > 3) {
		hits[SPC_BEYOND_3SIGMA] = (struct spc_hit){ .first = i, .side = zi > 0 ? 1 : -1 };
		held |= SPC_RULE_BIT(SPC_BEYOND_3SIGMA);
	}
	if ((rules & SPC_RULE_BIT(SPC_2_OF_3_BEYOND_2SIGMA)) && k_of_m(x, i, c, 2, 3, 2, &h)) {
		hits[SPC_2_OF_3_BEYOND_2SIGMA] = h;
		held |= SPC_RULE_BIT(SPC_2_OF_3_BEYOND_2SIGMA);
	}
	if ((rules & SPC_RULE_BIT(SPC_4_OF_5_BEYOND_1SIGMA)) && k_of_m(x, i, c, 4, 5, 1, &h)) {
		hits[SPC_4_OF_5_BEYOND_1SIGMA] = h;
		held |= SPC_RULE_BIT(SPC_4_OF_5_BEYOND_1SIGMA);
	}
	if ((rules & SPC_RULE_BIT(SPC_8_ON_ONE_SIDE)) && i >= 7 && zi != 0) {
		int side = zi > 0 ? 1 : -1;

		for (j = i - 7; j < i && (double)side * zscore(c, x[j]) > 0; j++)
			;
		if (j == i) {
			hits[SPC_8_ON_ONE_SIDE] = (struct spc_hit){ .first = i - 7, .side = side };
			held |= SPC_RULE_BIT(SPC_8_ON_ONE_SIDE);
		}
	}
	if ((rules & SPC_RULE_BIT(SPC_6_TRENDING)) && i >= 5 && x[i] != x[i - 1]) {
		int side = x[i] > x[i - 1] ? 1 : -1;

		for (j = i - 5; j < i && (double)side * (x[j + 1] - x[j]) > 0; j++)
			;
		if (j == i) {
			hits[SPC_6_TRENDING] = (struct spc_hit){ .first = i - 5, .side = side };
			held |= SPC_RULE_BIT(SPC_6_TRENDING);
		}
	}
	return held;
}

size_t spc_open_flags(const double *x, size_t n, const bool *in_baseline,
		      const struct spc_chart *c, const struct spc_params *p,
		      struct spc_flag *ret, size_t max)
{
	struct spc_hit hits[SPC_RULE_LAST + 1];
	size_t first[SPC_RULE_LAST + 1];
	int side[SPC_RULE_LAST + 1];
	unsigned open = p->rules & SPC_RULES_ALL;
	size_t confirm = p->confirm ? p->confirm : 1, k, count = 0;
	int r;

	if (!c->valid || n < confirm)
		return 0;
	for (k = 0; k < confirm && open; k++) {
		size_t i = n - 1 - k;
		unsigned held = spc_rules_at(x, n, i, in_baseline, c, open, hits);

		open &= held;
		for (r = SPC_RULE_FIRST; r <= SPC_RULE_LAST; r++) {
			if (!(open & SPC_RULE_BIT(r)))
				continue;
			if (k == 0) {
				first[r] = hits[r].first;
				side[r] = hits[r].side;
			} else if (hits[r].first < first[r]) {
				first[r] = hits[r].first;
			}
		}
	}
	for (r = SPC_RULE_FIRST; r <= SPC_RULE_LAST; r++) {
		if (!(open & SPC_RULE_BIT(r)))
			continue;
		if (count < max)
			ret[count] = (struct spc_flag){ .rule = (enum spc_rule)r, .first = first[r],
							.last = n - 1, .side = side[r] };
		count++;
	}
	return count;
}

const char *spc_rule_name(enum spc_rule r)
{
	switch (r) {
	case SPC_BEYOND_3SIGMA: return "beyond_3sigma";
	case SPC_2_OF_3_BEYOND_2SIGMA: return "2_of_3_beyond_2sigma";
	case SPC_4_OF_5_BEYOND_1SIGMA: return "4_of_5_beyond_1sigma";
	case SPC_8_ON_ONE_SIDE: return "8_on_one_side";
	case SPC_6_TRENDING: return "6_trending";
	}
	return "unknown";
}

const char *spc_rule_text(enum spc_rule r)
{
	switch (r) {
	case SPC_BEYOND_3SIGMA: return "one point beyond 3 sigma";
	case SPC_2_OF_3_BEYOND_2SIGMA: return "two of three points beyond 2 sigma on one side";
	case SPC_4_OF_5_BEYOND_1SIGMA: return "four of five points beyond 1 sigma on one side";
	case SPC_8_ON_ONE_SIDE: return "eight points in a row on one side of the centre";
	case SPC_6_TRENDING: return "six points in a row steadily rising or falling";
	}
	return "unknown rule";
}

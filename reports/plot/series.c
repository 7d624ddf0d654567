/* Decimated time series: a fixed number of bins whatever the length of the
 * record (see plot.h). */
#include "plot.h"

#include <math.h>
#include <string.h>

/* -------------------------------------------------------------- series -- */

void series_init(struct series *s, rig_ns t0_ns, rig_ns bin_ns)
{
	memset(s, 0, sizeof(*s));
	s->t0_ns = t0_ns;
	s->bin_ns = bin_ns > 0 ? bin_ns : 1;
}

static void bin_merge(struct series_bin *into, const struct series_bin *a,
		      const struct series_bin *b)
{
	if (!a->count) {
		*into = *b;
		return;
	}
	if (!b->count) {
		*into = *a;
		return;
	}
	into->t_first_ns = a->t_first_ns;
	into->t_last_ns = b->t_last_ns;
	into->min = fmin(a->min, b->min);
	into->max = fmax(a->max, b->max);
	into->sum = a->sum + b->sum;
	into->count = a->count + b->count;
}

/* Halves the resolution: bins 2i and 2i+1 become bin i. */
static void series_halve(struct series *s)
{
	size_t n = (s->n_bins + 1) / 2;

	for (size_t i = 0; i < n; i++) {
		struct series_bin a = s->bins[2 * i];
		struct series_bin b = 2 * i + 1 < s->n_bins ? s->bins[2 * i + 1] :
							     (struct series_bin){ 0 };

		bin_merge(&s->bins[i], &a, &b);
	}
	memset(&s->bins[n], 0, (SERIES_BINS - n) * sizeof(s->bins[0]));
	s->n_bins = n;
	s->bin_ns *= 2;
	s->merges++;
}

void series_add(struct series *s, rig_ns t_ns, double value)
{
	struct series_bin *b;
	rig_ns idx;

	if (!isfinite(value))
		return;
	idx = t_ns > s->t0_ns ? (t_ns - s->t0_ns) / s->bin_ns : 0;
	while (idx >= SERIES_BINS) {
		series_halve(s);
		idx = (t_ns - s->t0_ns) / s->bin_ns;
	}
	b = &s->bins[idx];
	if (!b->count) {
		b->t_first_ns = b->t_last_ns = t_ns;
		b->min = b->max = value;
	} else {
		if (t_ns < b->t_first_ns)
			b->t_first_ns = t_ns;
		if (t_ns > b->t_last_ns)
			b->t_last_ns = t_ns;
		b->min = fmin(b->min, value);
		b->max = fmax(b->max, value);
	}
	b->sum += value;
	b->count++;
	if ((size_t)idx + 1 > s->n_bins)
		s->n_bins = (size_t)idx + 1;
	s->n_samples++;
}

bool series_range(const struct series *s, double *ret_min, double *ret_max)
{
	bool any = false;

	for (size_t i = 0; i < s->n_bins; i++) {
		const struct series_bin *b = &s->bins[i];

		if (!b->count)
			continue;
		*ret_min = any ? fmin(*ret_min, b->min) : b->min;
		*ret_max = any ? fmax(*ret_max, b->max) : b->max;
		any = true;
	}
	return any;
}

#include "dose.h"

#include <errno.h>

void interp_at_init(struct interp_at *it, rig_ns target_ns)
{
	*it = (struct interp_at){ .target_ns = target_ns };
}

void interp_at_add(struct interp_at *it, rig_ns t_ns, double value)
{
	if (t_ns <= it->target_ns) {
		it->have_lo = true;
		it->lo_t_ns = t_ns;
		it->lo_v = value;
	}
	if (t_ns >= it->target_ns && !it->have_hi) {
		it->have_hi = true;
		it->hi_t_ns = t_ns;
		it->hi_v = value;
	}
}

int interp_at_value(const struct interp_at *it, double *ret_value)
{
	double f;

	if (!it->have_lo || !it->have_hi)
		return -ENODATA;
	if (it->hi_t_ns == it->lo_t_ns) {
		*ret_value = it->lo_v;
		return 0;
	}
	f = (double)(it->target_ns - it->lo_t_ns) / (double)(it->hi_t_ns - it->lo_t_ns);
	*ret_value = it->lo_v + f * (it->hi_v - it->lo_v);
	return 0;
}

static double overlap_h(rig_ns a0, rig_ns a1, rig_ns b0, rig_ns b1)
{
	rig_ns lo = a0 > b0 ? a0 : b0;
	rig_ns hi = a1 < b1 ? a1 : b1;

	return hi > lo ? rig_ns_to_h(hi - lo) : 0.0;
}

double programmed_volume_ml(const struct rate_change *rates, size_t n_rates,
			    const struct bolus_cmd *boluses, size_t n_boluses,
			    rig_ns t0_ns, rig_ns t1_ns)
{
	double volume_ml = 0.0;

	for (size_t i = 0; i < n_rates; i++) {
		rig_ns until = i + 1 < n_rates ? rates[i + 1].t_ns : RIG_NS_MAX;

		volume_ml += rates[i].rate_ml_per_h * overlap_h(rates[i].t_ns, until, t0_ns, t1_ns);
	}
	for (size_t i = 0; i < n_boluses; i++) {
		const struct bolus_cmd *b = &boluses[i];
		rig_ns length_ns;

		if (b->rate_ml_per_h <= 0.0 || b->volume_ml <= 0.0)
			continue;
		length_ns = rig_s_to_ns(b->volume_ml / b->rate_ml_per_h * 3600.0);
		volume_ml += b->rate_ml_per_h * overlap_h(b->t_ns, b->t_ns + length_ns, t0_ns, t1_ns);
	}
	return volume_ml;
}

int dose_accuracy(const struct dose_inputs *in, struct dose_result *ret)
{
	double hours;

	if (in->t_end_ns <= in->t_begin_ns || !(in->density_g_per_ml > 0.0) ||
	    !(in->programmed_ml > 0.0))
		return -EINVAL;
	hours = rig_ns_to_h(in->t_end_ns - in->t_begin_ns);
	ret->collected_g = in->mass_end_g - in->mass_begin_g;
	/* Evaporation takes mass out of the vessel while it collects; what the
	 * pump delivered is what was collected plus what evaporated meanwhile. */
	ret->evaporation_g = in->evaporation_g_per_h * hours;
	ret->delivered_ml = (ret->collected_g + ret->evaporation_g) / in->density_g_per_ml;
	ret->programmed_ml = in->programmed_ml;
	ret->error_pct = 100.0 * (ret->delivered_ml - in->programmed_ml) / in->programmed_ml;
	return 0;
}

/* Dose accuracy: pure functions over recorded values (no I/O, no clock).
 *
 * Gravimetric method: the mass collected in the vessel between the two ends of
 * a marked window, corrected for evaporation and converted to volume with the
 * fluid's density, against the volume the pump was programmed to deliver in
 * that window. */
#ifndef RIG_ANALYSIS_DOSE_H
#define RIG_ANALYSIS_DOSE_H

#include <stdbool.h>
#include <stddef.h>
#include "rig/base/rtime.h"

/* The value of a sampled signal at one instant, by linear interpolation
 * between the last sample at or before it and the first at or after it.
 * Fed samples in time order, it keeps two samples whatever the run length. */
struct interp_at {
	rig_ns target_ns;
	bool have_lo, have_hi;
	rig_ns lo_t_ns, hi_t_ns;
	double lo_v, hi_v;
};

void interp_at_init(struct interp_at *it, rig_ns target_ns);
void interp_at_add(struct interp_at *it, rig_ns t_ns, double value);
/* 0 and the value; -ENODATA when no sample lies on one side of the target. */
int interp_at_value(const struct interp_at *it, double *ret_value);

/* What the pump was told to do: piecewise-constant basal rate changes and
 * boluses, in time order.  A bolus delivers volume_ml at rate_ml_per_h on top
 * of the basal rate from t_ns on. */
struct rate_change {
	rig_ns t_ns;
	double rate_ml_per_h;
};
struct bolus_cmd {
	rig_ns t_ns;
	double volume_ml;
	double rate_ml_per_h;
};

/* Programmed volume in [t0_ns, t1_ns]: the basal rate integrated over the
 * window plus the part of each bolus that falls inside it. */
double programmed_volume_ml(const struct rate_change *rates, size_t n_rates,
			    const struct bolus_cmd *boluses, size_t n_boluses,
			    rig_ns t0_ns, rig_ns t1_ns);

struct dose_inputs {
	rig_ns t_begin_ns, t_end_ns;
	double mass_begin_g, mass_end_g;   /* balance readings at the window ends */
	double density_g_per_ml;
	double evaporation_g_per_h;        /* loss added back over the window */
	double programmed_ml;
};

struct dose_result {
	double collected_g;      /* mass_end - mass_begin */
	double evaporation_g;    /* added back */
	double delivered_ml;     /* (collected + evaporation) / density */
	double programmed_ml;
	double error_pct;        /* 100 * (delivered - programmed) / programmed */
};

/* Returns 0, or -EINVAL for an empty window, non-positive density or a
 * programmed volume of zero (the error is undefined then). */
int dose_accuracy(const struct dose_inputs *in, struct dose_result *ret);

#endif

/* The gravimetric chain: from what a balance reads to the volume delivered.
 * Pure functions (no I/O, no clock).
 *
 * A balance calibrated with steel reference weights reads "conventional mass":
 * the mass of 8000 kg/m3 weights that would balance the load in air.  Liquid
 * (about 1000 kg/m3) displaces more air than the weights, so the true mass is
 * higher, and the volume is
 *
 *     V = m_read * (1 / (rho_W - rho_A)) * (1 - rho_A / rho_B)      (ISO 8655-6)
 *
 * with rho_W the liquid's density, rho_A the air's and rho_B = 8000 kg/m3.
 * At 20 degC and rho_A = 1.2 kg/m3 the factor is 1.0028518 mL/g. */
#ifndef RIG_ANALYSIS_GRAVIMETRIC_H
#define RIG_ANALYSIS_GRAVIMETRIC_H

#include <stdbool.h>
#include <stddef.h>
#include "rig/base/rtime.h"

#define RHO_REFERENCE_WEIGHTS_KG_PER_M3 8000.0
#define RHO_AIR_STANDARD_KG_PER_M3 1.2

/* Density of air-free water, Tanaka et al. (2001), Metrologia 38, 301, valid
 * 0..40 degC (standard uncertainty about 1e-3 kg/m3 there).  Check values:
 * 20 degC 998.2067, 25 degC 997.0470, 37 degC 993.33 kg/m3. */
double water_density_kg_per_m3(double t_c);

/* Density of moist air, CIPM-2007 (Picard, Davis, Glaeser, Fujii 2008,
 * Metrologia 45, 149): from its temperature, pressure (kPa), relative
 * humidity (%) and CO2 mole fraction (0.0004 when not measured).  The
 * formula's own relative standard uncertainty is CIPM2007_U_REL, for
 * 600 to 1100 hPa and 15 to 27 degC.  Near 20 degC, 101.325 kPa and 50 %
 * it gives 1.1993 kg/m3 (OIML R 111-1 E.3 agrees to 2e-5). */
#define CIPM2007_U_REL 22e-6
#define CO2_MOLE_FRACTION_DEFAULT 0.0004
double air_density_cipm2007_kg_per_m3(double t_c, double p_kpa, double rh_pct, double x_co2);

/* Volume per unit of balance reading, mL/g (the formula above). */
double buoyancy_ml_per_g(double rho_fluid_kg_per_m3, double rho_air_kg_per_m3,
			 double rho_weights_kg_per_m3);

/* Streaming least-squares straight line through (t, value) points: the
 * evaporation rate from a period with the pump stopped, or drift.  Constant
 * memory; numerically shifted to the first point's time. */
struct linfit {
	size_t n;
	rig_ns t0_ns;
	double st, sv, stt, stv, svv;   /* sums over points, t in hours from t0 */
};

void linfit_init(struct linfit *fit);
void linfit_add(struct linfit *fit, rig_ns t_ns, double value);
/* Slope per hour and its standard uncertainty (from the residual scatter).
 * -ENODATA with fewer than 3 points or all points at one time. */
int linfit_slope(const struct linfit *fit, double *ret_slope_per_h, double *ret_u_slope_per_h);

/* The reading noise of a series of settled readings, from their second
 * differences, whatever the (linear) trend: W[i+1] - 2 W[i] + W[i-1] has
 * standard deviation sigma sqrt(6), and its median absolute value is 0.6745
 * of that.  The median ignores the few large second differences a pump
 * stroke arriving between two readings makes at a low rate, or a step or
 * disturbance; a dense ripple of strokes at every reading counts as noise.
 * The median of one block of NOISE_BLOCK scatters by about a fifth of
 * itself (a threshold set from one block would, over a day's readings, meet
 * a block that reads the noise 40 % low), so each full block's median joins
 * a running mean, whose scatter falls with every block and whose state stays
 * bounded; until the first block is full, the median of those so far
 * stands. */
#define NOISE_BLOCK 31
struct noise_est {
	size_t n;                            /* readings so far */
	double w1, w2;                       /* the previous two readings */
	double block[NOISE_BLOCK];           /* |second differences| of the current block */
	size_t n_block;
	double sum_medians;                  /* of the blocks done */
	size_t n_medians;
};
void noise_add(struct noise_est *ne, double w);
/* sigma; 0 with fewer than 3 readings */
double noise_sigma(const struct noise_est *ne);
/* How many second differences the estimate rests on. */
size_t noise_count(const struct noise_est *ne);

/* A negative step in the balance: between two successive settled readings
 * the mass changed by more than a threshold below the recent trend of such
 * changes (the median rate of change over the last five intervals, which a
 * single spike such as a released bolus does not move, while a sustained
 * change such as a pump starting is adopted within three intervals), as
 * when the vessel is touched or
 * liquid is taken out.  Such a step is an instrument event to report, never
 * averaged away.  A commanded change of flow (rate, stop, valve, tare, a
 * bolus starting or ending) changes the trend legitimately: the caller
 * resets the detector then; judging resumes once three full intervals after
 * the reset have set a new trend.
 *
 * The threshold is the larger of the caller's floor and 8 times the
 * balance's reading noise, measured as the readings go (struct noise_est,
 * whose median the steps themselves do not move).  The interval's change less the trend then scatters by about
 * 1.6 sigma, so a noisy balance does not fire (one false event in some
 * thousand runs of a day), while a fall the noise cannot explain does.
 * Until MASS_STEP_NOISE_MIN second differences are known nothing is judged.
 * The noise is the balance's own: a reset does not forget it.
 *
 * A fall is a step only when the trend resumes after it.  When the next
 * MASS_STEP_CONFIRM intervals all stay below the old trend too, the flow
 * itself has changed (a pump that stopped on its own: its reservoir empty,
 * or run dry before it said so) and the new rate becomes the trend, with no
 * event: what the flow did is the checks' to judge, not a disturbance of the
 * vessel.  So a step is reported up to MASS_STEP_CONFIRM readings after it
 * (with its own times), or by mass_step_flush() at a reset or the end. */
#define MASS_STEP_NOISE_MIN 15
#define MASS_STEP_NOISE_FACTOR 8.0
#define MASS_STEP_CONFIRM 3

struct mass_step {
	rig_ns t_before_ns, t_after_ns;
	double before_g, after_g;
	double expected_change_g;      /* what the trend predicted over the interval */
	double threshold_g;            /* the threshold it fell beyond */
	double noise_g;                /* the reading noise then (1 sigma) */
};

struct mass_step_detector {
	double floor_g;                /* the threshold's floor */
	size_t n;                      /* readings since the reset */
	rig_ns prev_t_ns;
	double prev_g;
	double recent_g_per_s[5];      /* the last intervals' rates of change */
	size_t n_recent;
	struct noise_est noise;
	/* a fall waiting to be told from a change of flow */
	bool pending;
	struct mass_step pend;
	double pend_g_per_s[MASS_STEP_CONFIRM];
	size_t n_pend;
};


void mass_step_init(struct mass_step_detector *d, double floor_g);
/* The reading noise (1 sigma) measured so far; NAN while too few readings. */
double mass_step_noise_g(const struct mass_step_detector *d);
/* After a commanded change of flow: forget the trend. */
void mass_step_reset(struct mass_step_detector *d);
/* Feeds one settled reading; returns 1 and fills ret when it confirms a
 * negative step (of an interval up to MASS_STEP_CONFIRM readings back),
 * else 0. */
int mass_step_add(struct mass_step_detector *d, rig_ns t_ns, double mass_g, struct mass_step *ret);
/* A fall still waiting to be told from a change of flow, given up on (a
 * reset, the end of the record): returns 1 and fills ret with it as a step,
 * else 0. */
int mass_step_flush(struct mass_step_detector *d, struct mass_step *ret);

#endif

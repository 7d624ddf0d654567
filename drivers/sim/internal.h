/* Shared by the simulated bench's physics (model.c) and its sensors and
 * lines (sensors.c): the model's state, its noise generators and the few
 * questions the sensors ask of the physics.  Not for use outside
 * drivers/sim/. */
#ifndef RIG_SIM_INTERNAL_H
#define RIG_SIM_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "model.h"

#define NS_PER_H 3.6e12
/* The balance's deviation from linearity: this many sinusoids of the load
 * with incommensurate periods (linearity_period times powers of the golden
 * ratio), so that no load change is a whole number of all of them. */
#define SIM_LINEARITY_TERMS 4

/* ---------------------------------------------------------------- noise -- */

/* xoshiro256** (Blackman & Vigna), seeded through splitmix64 as its authors
 * recommend.  One generator per role, each seeded from (seed, role), so that
 * reading one sensor more or less often never changes another's noise. */
struct rng {
	uint64_t s[4];
	double spare;
	bool has_spare;
};

static inline uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline void rng_seed(struct rng *g, uint64_t seed, unsigned stream)
{
	uint64_t x = seed ^ (UINT64_C(0xD1B54A32D192ED03) * (stream + 1));

	for (int i = 0; i < 4; i++)
		g->s[i] = splitmix64(&x);
	g->has_spare = false;
}

static inline uint64_t rng_next(struct rng *g)
{
	uint64_t *s = g->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in (0, 1]: the top 53 bits, shifted off zero so log() is finite. */
static inline double rng_uniform(struct rng *g)
{
	return ((double)(rng_next(g) >> 11) + 1.0) * 0x1.0p-53;
}

/* Standard normal by Box-Muller; the second value of each pair is kept for
 * the next call. */
static inline double rng_gauss(struct rng *g)
{
	double r, phi;

	if (g->has_spare) {
		g->has_spare = false;
		return g->spare;
	}
	r = sqrt(-2.0 * log(rng_uniform(g)));
	phi = 2.0 * M_PI * rng_uniform(g);
	g->spare = r * sin(phi);
	g->has_spare = true;
	return r * cos(phi);
}

/* ----------------------------------------------------------------- state -- */

/* A compensated (Kahan-Babuska-Neumaier) sum.  The volumes passed per event
 * can be 1e-12 of the running totals when the model is sampled every few
 * microseconds; plain accumulation would then round them away and make the
 * physics depend on how often it is sampled. */
struct ksum {
	double s, c;
};

static inline void ksum_add(struct ksum *k, double x)
{
	double t = k->s + x;

	if (fabs(k->s) >= fabs(x))
		k->c += (k->s - t) + x;
	else
		k->c += (x - t) + k->s;
	k->s = t;
}

static inline double ksum_value(const struct ksum *k)
{
	return k->s + k->c;
}

/* A stream of pump strokes at a constant rate.  The pump's firmware owes
 * volume at the programmed rate and fires a stroke whenever a whole stroke is
 * owed, so a rate change keeps the fraction already owed: the volume delivered
 * follows the integral of the rate to within one stroke.  Stroke k (k = 1, 2,
 * ...) after the reference time fires at t_ref + (k - owed_ref) / rate, with
 * owed_ref (in strokes, 0..1) the amount owed at t_ref.  Times are computed
 * from the reference, not by adding intervals, so they never drift. */
struct stream {
	bool active;
	double rate_per_ns;      /* actual strokes per ns */
	double t_ref;
	double owed_ref;
	uint64_t n_since_ref;
	uint64_t remaining;      /* strokes still to come (bolus); UINT64_MAX for basal */
};

struct edge_queue {
	struct edge *v;
	size_t head, len, cap;
};

struct sim_model {
	struct sim_cfg cfg;
	double density_g_per_ml;
	double t;                /* physics time, ns: the true time, which rig's clock
	                            (run time) measures (1 + clock_error) too long */
	double clock_scale;      /* 1 + clock_error: run time = true time * clock_scale */
	double pan_weight_g;     /* a reference weight placed beside the vessel */

	/* pump */
	struct stream basal, bolus;
	double patient_bolus_t;  /* physics time of the last patient bolus delivered (-1: none) */
	double basal_set_ml_per_h;
	uint64_t strokes;        /* all strokes, stalled ones included */
	uint64_t strokes_stalled;
	struct ksum pumped_ml;   /* what the strokes that moved liquid moved, each its
	                            own volume (stroke_variation) */
	/* reservoir: truly fill_ml at the last fill, less what has been pumped
	 * since (pumped_ml - fill_pumped_ml); the pump's own reading is what it
	 * was told at the fill less its strokes since at the nominal volume */
	double fill_ml, fill_pumped_ml, told_ml;
	uint64_t fill_strokes;
	uint64_t strokes_dry;    /* strokes with nothing left to move */
	bool empty;              /* stopped at a reading of 0: the empty alarm */

	/* line: excess volume V = C (P - P0) stored in the compliance */
	double line_ml;
	bool valve_closed;
	struct ksum outflow_ml;

	/* vessel */
	struct ksum vessel_ml;   /* liquid in the vessel */
	struct ksum evaporated_ml;
	double evap_ml_per_ns;

	/* occlusion alarm: `condition` is the pressure latch with hysteresis,
	 * `asserted` the pump's alarm output, which follows the latch's rise
	 * alarm_latency later and its fall at once. */
	bool condition;
	bool asserted;
	double assert_at;
	struct edge_queue edges;
	double alarm_rise_t;     /* physics time of the last rising edge (-1: none) */
	double alarm_rise_kpa;   /* the line pressure then */

	/* scale: tare_g is the indication tared away */
	double tare_g;
	double tare_t;
	bool tared;
	double linearity_phase[SIM_LINEARITY_TERMS];   /* per seed */

	/* averaging sensors: state at their previous read */
	double flow_last_t, flow_last_outflow_ml;
	double power_last_t;
	uint64_t power_last_strokes;

	/* per role: noise, and the last readings returned (for a stuck fault) */
	struct rng rng[ROLE__COUNT];
	struct reading last[ROLE__COUNT][READINGS_MAX];
	size_t n_last[ROLE__COUNT];
	bool last_level;         /* alarm line's last reported level */
	rig_ns estop_seen_ns;    /* the emergency stop's last edge reported */
};

/* What an active fault does to a read that still answers. */
enum {
	MOD_STUCK = 1u << 0,      /* repeat the last readings, flagged stale */
	MOD_STALE = 1u << 1,      /* answer with no reading at all */
	MOD_FROZEN = 1u << 2,     /* repeat the last readings exactly, unflagged */
	MOD_NAN = 1u << 3,        /* primary reading NaN */
	MOD_RANGE = 1u << 4,      /* primary reading absurd */
	MOD_INTERNAL = 1u << 5,   /* a reading of an impossible quantity */
};

double model_line_pressure_kpa(const struct sim_model *m);
double model_reservoir_true_ml(const struct sim_model *m);
double model_reservoir_reading_ml(const struct sim_model *m);
bool model_fault_active(const struct sim_fault *f, rig_ns t_ns);
int model_fault_check(const struct sim_model *m, enum rig_role role, rig_ns t_ns,
		       unsigned *ret_mods);
double model_battery_used_mah(const struct sim_model *m);
double model_battery_voltage_v(const struct sim_model *m);
double model_scale_gross_g(const struct sim_model *m);
double model_scale_indication_g(const struct sim_model *m);
/* Physics time (ns) as run time (ns): rig's clock, which dates the edges. */
rig_ns model_run_time(const struct sim_model *m, double t);

#endif

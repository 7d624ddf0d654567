/* The simulated bench: a physics model, not an answer key.
 *
 * One model per run, shared by every instrument whose backend is "sim".  Time
 * only moves forward: every call first advances the physics to `t_ns` (the
 * driving clock's now), so the model runs at whatever speed the clock runs.
 *
 *  reservoir -> pump (strokes) -> line (compliance C, pressure P) -> valve -> vessel on balance
 *
 * Pump: pulsatile; strokes of stroke_volume at actual rate set*(1+rate_error);
 *   the first stroke after a start comes startup_delay later; a stroke
 *   against a line pressure above stall_pressure delivers nothing; the pump's
 *   occlusion alarm rises alarm_latency after P - P0 reaches the alarm pressure
 *   and falls when the pressure is relieved.  Prime and bolus deliver volume at
 *   their rate on top of the basal rate.
 * Line: stored volume C*(P - P0); valve open: the excess decays with the time
 *   constant into the vessel (exact exponential between strokes); valve closed:
 *   nothing leaves, so pressure builds by stroke_volume/C per stroke.
 * Vessel and balance: liquid mass = outflow*density - evaporation (never below
 *   0); load = vessel + liquid*(1 - rho_air/density)/(1 - rho_air/8 g/mL)
 *   (a balance adjusted with steel weights reads conventional mass); reading
 *   = load*(1 + span) + linearity*sin(2 pi load/period + phase) + drift*t
 *   - tare + gaussian noise, quantised to resolution; unstable for settle_time
 *   after a tare.
 * Flow sensor: mean outflow over the interval since its last read, times
 *   (1 + gain), + offset + noise.
 * Pressure sensor: P*(1 + gain) + offset + noise.
 * Battery: charge used = quiescent*t + stroke_charge per stroke; voltage falls
 *   linearly from full to empty over the capacity; the power monitor reads the
 *   mean current since its last read times (1 + gain), + offset + noise, and
 *   the voltage.
 * Time: the physics runs in true time; rig's clock (run time, which every
 *   call hands in and every edge is dated in) runs (1 + clock_error) fast.
 * Strokes: each moves stroke_volume*(1 + stroke_variation*N(0, 1)); the
 *   pump's own count (telemetry) knows only the nominal volume.
 * Faults from the bench file act on the sensor and pump reads (see config.h).
 * Noise is reproducible: a seeded generator per role. */
#ifndef RIG_SIM_MODEL_H
#define RIG_SIM_MODEL_H

#include <stdbool.h>
#include "rig/base/bench.h"
#include "drivers/driver.h"

struct sim_model;

struct sim_model *sim_model_new(const struct sim_cfg *cfg, double density_g_per_ml);
void sim_model_free(struct sim_model *model);

/* Advances the physics to t_ns (ignored when t_ns is in the past). */
void sim_model_advance(struct sim_model *model, rig_ns t_ns);

/* Actuators; each advances to t_ns first.  Pump commands return -ETIMEDOUT
 * during a no_answer fault (not carried out), -ENODEV after a disconnect or
 * during an unplug (not carried out), and -ECOMM during a lost_reply fault:
 * carried out, but the answer is lost. */
int sim_pump_set_rate(struct sim_model *model, rig_ns t_ns, double rate_ml_per_h);
int sim_pump_bolus(struct sim_model *model, rig_ns t_ns, double volume_ml, double rate_ml_per_h,
		   enum bolus_demand demand);
int sim_pump_stop(struct sim_model *model, rig_ns t_ns);
int sim_pump_refill(struct sim_model *model, rig_ns t_ns, double volume_ml);
int sim_pump_status(struct sim_model *model, rig_ns t_ns, struct pump_status *ret);
/* Who the simulated pump says it is (the bench's simulator.pump serial and
 * firmware, or what sim_model_set_identity gave it); answers as a status
 * does (not during a no_answer fault); -ENOTSUP when it was given none. */
int sim_pump_identity(struct sim_model *model, rig_ns t_ns, struct pump_identity *ret);
/* Gives the pump an identity where the bench gave it none (a field left
 * "" stays unset). */
void sim_model_set_identity(struct sim_model *model, const char *serial, const char *firmware);
/* True while an unplug fault has taken the pump's link away. */
bool sim_pump_link_unplugged(const struct sim_model *model, rig_ns t_ns);
int sim_valve_set_closed(struct sim_model *model, rig_ns t_ns, bool closed);
int sim_scale_tare(struct sim_model *model, rig_ns t_ns);
/* Puts a reference weight on the pan (0 takes it off), as for a calibration. */
void sim_scale_place_weight(struct sim_model *model, rig_ns t_ns, double grams);

/* Sensors, as the instrument reports them (noise, resolution, faults).
 * Return 0, -EIO during a dropout, -ENODEV after a disconnect. */
int sim_read(struct sim_model *model, rig_ns t_ns, enum rig_role role,
	     struct reading *ret, size_t max, size_t *ret_n);
/* The alarm line: level now, and edges in time order with their exact time. */
int sim_alarm_level(struct sim_model *model, rig_ns t_ns, bool *ret_active);
int sim_alarm_next_edge(struct sim_model *model, rig_ns t_ns, struct edge *ret);
int sim_estop_level(struct sim_model *model, rig_ns t_ns, bool *ret_active);
int sim_estop_next_edge(struct sim_model *model, rig_ns t_ns, struct edge *ret);

/* The model's true state, for tests of the model itself (mass balance) and
 * of the analysis against what the model was told (tools/bench_coverage.c).
 * Analysis never sees this: it works from recorded samples only. */
struct sim_truth {
	double t_true_s;          /* the physics' own (true) time now */
	double pumped_ml;         /* delivered out of the pump into the line */
	double in_line_ml;        /* stored in the line's compliance */
	double outflow_ml;        /* passed the valve into the vessel */
	double in_vessel_ml;      /* liquid in the vessel now */
	double evaporated_ml;     /* lost from the vessel */
	double line_pressure_kpa;
	double battery_used_mah;
	bool alarm_active;
	double alarm_rise_t_true_s; /* true time of the alarm's last rise; NAN: none yet */
	double alarm_rise_kpa;    /* the line pressure (above 0) then */
	unsigned long strokes;
	double reservoir_ml;      /* truly left in the reservoir */
	unsigned long strokes_dry; /* strokes with nothing left to move */
};
void sim_model_truth(const struct sim_model *model, struct sim_truth *ret);

#endif

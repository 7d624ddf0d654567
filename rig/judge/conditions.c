/* The measured conditions of a run: the collected fluid's temperature and
 * the air's temperature, humidity and pressure at the balance.  Read from
 * samples.csv before the checks, because the volume one gram on the balance
 * stands for (and its uncertainty), which every check uses, comes from them:
 * water's density from its measured temperature (Tanaka et al. 2001), the
 * air's from its measured state (CIPM-2007).  What the bench file states
 * is used only for what it did not measure.  A reading outside the bench's
 * declared range is an instrument event, hence a deviation. */
#include "conditions.h"
#include "check.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rig/analysis/gravimetric.h"
#include "rig/analysis/uncertainty.h"
#include "rig/base/infile.h"
#include "rig/base/record.h"

/* Welford's running mean and variance, with the range and the readings
 * outside the declared one. */
struct cond_acc {
	struct measured_condition *mc;
	double m2;
};

static void acc_add(struct cond_acc *a, rig_ns t_ns, double v)
{
	struct measured_condition *mc = a->mc;
	double d = v - mc->mean;

	mc->n++;
	mc->mean += d / (double)mc->n;
	a->m2 += d * (v - mc->mean);
	mc->min = mc->n == 1 ? v : fmin(mc->min, v);
	mc->max = mc->n == 1 ? v : fmax(mc->max, v);
	if (mc->range_given && (v < mc->lo || v > mc->hi)) {
		double out = v < mc->lo ? mc->lo - v : v - mc->hi;
		double worst = mc->n_outside == 0 ? 0 :
			       mc->worst_outside < mc->lo ? mc->lo - mc->worst_outside :
			       mc->worst_outside - mc->hi;

		if (mc->n_outside == 0)
			mc->first_outside_t_ns = t_ns;
		if (mc->n_outside == 0 || out > worst)
			mc->worst_outside = v;
		mc->n_outside++;
	}
}

void conditions_read(FILE *samples, const struct bench *bench, struct run_results *res)
{
	struct cond_acc acc[ROLE__COUNT] = { 0 };
	char first[MEASURED_CONDITIONS_MAX + 1] = "", *line = NULL;
	size_t cap = 0;
	ssize_t len;

	res->n_conditions = 0;
	for (int role = 0; role < ROLE__COUNT; role++) {
		struct measured_condition *mc;
		const struct condition_range *cr = &bench->condition_range[role];

		if (!role_is_condition((enum rig_role)role) || !bench->instrument[role].present ||
		    res->n_conditions >= MEASURED_CONDITIONS_MAX)
			continue;
		mc = &res->conditions[res->n_conditions++];
		*mc = (struct measured_condition){ .role = role, .range_given = cr->given,
						   .lo = cr->lo, .hi = cr->hi,
						   .range_line = cr->line };
		acc[role].mc = mc;
	}
	if (res->n_conditions == 0)
		return;
	/* Only these roles' rows are parsed (the reader parses every row
	 * after): a row whose role does not begin with one of their first
	 * letters is passed over at a glance. */
	for (size_t i = 0; i < res->n_conditions; i++) {
		char c = rig_role_name((enum rig_role)res->conditions[i].role)[0];

		if (!strchr(first, c))
			first[strlen(first)] = c;
	}
	while ((len = getline(&line, &cap, samples)) > 0) {
		struct sample_row row;
		const char *comma = memchr(line, ',', (size_t)len);

		if (line[len - 1] != '\n' || !comma || !comma[1] || !strchr(first, comma[1]))
			continue;
		line[len - 1] = '\0';
		if (sample_row_parse(line, &row) != SAMPLE_ROW_OK || !role_is_condition(row.role) ||
		    !acc[row.role].mc || row.quantity != role_primary_quantity(row.role) ||
		    !isfinite(row.value) || (row.flags & (SAMPLE_STALE | SAMPLE_OUT_OF_RANGE)))
			continue;
		acc_add(&acc[row.role], row.t_ns, row.value);
	}
	free(line);
	for (int role = 0; role < ROLE__COUNT; role++) {
		struct measured_condition *mc = acc[role].mc;
		const struct calibration *cal = &bench->instrument[role].cal;

		if (!mc)
			continue;
		mc->sd = mc->n > 1 ? sqrt(acc[role].m2 / (double)(mc->n - 1)) : 0;
		/* the run's condition, as each delivery met it: the instrument's
		 * calibration (its gain's on gain x raw, the reading less the
		 * offset: a MAX31865's raw is some 290 degC above the reading)
		 * and the spread of the readings over the run */
		mc->u = sqrt(cal->uncertainty * cal->uncertainty +
			     pow(cal->gain_u_rel * (mc->mean - cal->offset), 2) + mc->sd * mc->sd);
	}
}

static const struct measured_condition *measured(const struct run_results *res, int role)
{
	for (size_t i = 0; i < res->n_conditions; i++)
		if (res->conditions[i].role == role && res->conditions[i].n > 0)
			return &res->conditions[i];
	return NULL;
}

void conditions_apply(const struct bench *bench, struct run_results *res, double *ret_u_rel_factor)
{
	const struct measured_condition *tf = measured(res, ROLE_FLUID_TEMP);
	const struct measured_condition *ta = measured(res, ROLE_AIR_TEMP);
	const struct measured_condition *h = measured(res, ROLE_HUMIDITY);
	const struct measured_condition *p = measured(res, ROLE_AIR_PRESSURE);
	bool water = !bench->fluid_name[0] || strcmp(bench->fluid_name, "water") == 0;
	double rho_f = bench->density_g_per_ml * 1000, u_rho_f, rho_a, u_rho_a;

	/* the fluid: a stated density, or water at its temperature, measured
	 * when the bench measures it */
	if (bench->density_given) {
		u_rho_f = bench->density_u_g_per_ml * 1000;
		snprintf(res->density_source, sizeof(res->density_source),
			 "inputs/bench.cfg fluid.density");
	} else if (water && tf && tf->mean >= 0 && tf->mean <= 40) {
		rho_f = water_density_kg_per_m3(tf->mean);
		u_rho_f = fabs(water_density_slope_kg_per_m3_per_k(tf->mean)) * tf->u;
		snprintf(res->density_source, sizeof(res->density_source),
			 "water at %.3f °C measured (fluid_temperature, mean of %zu readings, u %.3f K), "
			 "Tanaka et al. 2001", tf->mean, tf->n, tf->u);
	} else {
		u_rho_f = fabs(water_density_slope_kg_per_m3_per_k(bench->fluid_temperature_c)) *
			  bench->fluid_temperature_u_k;
		snprintf(res->density_source, sizeof(res->density_source),
			 "water at %.2f °C (inputs/bench.cfg fluid.temperature), Tanaka et al. 2001%s",
			 bench->fluid_temperature_c,
			 water && tf ? "; the measured fluid, outside Tanaka's 0 to 40 °C, not used" : "");
	}
	/* the air: CIPM-2007 from its measured state, each input's
	 * uncertainty carried through by the formula's own slopes */
	rho_a = bench->air_density_g_per_ml * 1000;
	u_rho_a = bench->air_density_u_g_per_ml * 1000;
	snprintf(res->air_density_source, sizeof(res->air_density_source),
		 "inputs/bench.cfg fluid.air_density (stated, not measured)");
	if (ta && h && p) {
		double x = CO2_MOLE_FRACTION_DEFAULT;
		double d_t = (air_density_cipm2007_kg_per_m3(ta->mean + 0.5, p->mean, h->mean, x) -
			      air_density_cipm2007_kg_per_m3(ta->mean - 0.5, p->mean, h->mean, x));
		double d_p = (air_density_cipm2007_kg_per_m3(ta->mean, p->mean + 0.5, h->mean, x) -
			      air_density_cipm2007_kg_per_m3(ta->mean, p->mean - 0.5, h->mean, x));
		double d_h = (air_density_cipm2007_kg_per_m3(ta->mean, p->mean, h->mean + 0.5, x) -
			      air_density_cipm2007_kg_per_m3(ta->mean, p->mean, h->mean - 0.5, x));

		rho_a = air_density_cipm2007_kg_per_m3(ta->mean, p->mean, h->mean, x);
		/* the CO2 fraction unmeasured: 0.0001 either way, about 5e-5 kg/m3
		 * (a crowded lab's 1000 ppm would be 3e-4 kg/m3: 4e-8 of a volume) */
		u_rho_a = sqrt(pow(d_t * ta->u, 2) + pow(d_p * p->u, 2) + pow(d_h * h->u, 2) +
			       pow(CIPM2007_U_REL * rho_a, 2) + pow(12.011e-3 * 1e-4 / 0.029 * rho_a, 2));
		snprintf(res->air_density_source, sizeof(res->air_density_source),
			 "CIPM-2007 from the air measured at the balance: %.2f °C, %.1f %%, %.3f kPa "
			 "(means of %zu, %zu, %zu readings), CO2 0.0004", ta->mean, h->mean, p->mean,
			 ta->n, h->n, p->n);
	}
	res->density_g_per_ml = rho_f / 1000;
	res->u_density_g_per_ml = u_rho_f / 1000;
	res->air_density_kg_per_m3 = rho_a;
	res->u_air_density_kg_per_m3 = u_rho_a;
	/* unmeasured, the bench loader's one figure, which the refill step's
	 * volume uses too */
	res->ml_per_g = tf || (ta && h && p)
				? buoyancy_ml_per_g(rho_f, rho_a, RHO_REFERENCE_WEIGHTS_KG_PER_M3)
				: bench->ml_per_g;
	*ret_u_rel_factor = volume_factor_u_rel(rho_f, u_rho_f, rho_a, u_rho_a,
						RHO_REFERENCE_WEIGHTS_KG_PER_M3);
}

void conditions_flag(struct run_results *res, const struct sequence *seq)
{
	const struct measured_condition *tf = measured(res, ROLE_FLUID_TEMP);
	const struct measured_condition *ta = measured(res, ROLE_AIR_TEMP);
	const struct measured_condition *p = measured(res, ROLE_AIR_PRESSURE);
	double want = seq->fluid_temperature_c, tol = seq->fluid_temperature_tol_k;

	/* the temperature the sequence is made at, against the bath as
	 * measured: every reading within the tolerance, not the mean alone */
	if (tf && !isnan(want) && (tf->min < want - tol || tf->max > want + tol))
		results_event(res, 0, "fluid_temperature", "condition_out_of_range",
			      "the fluid measured %.3f to %.3f degC (mean %.3f, %zu readings); the "
			      "sequence is made at %g degC within %g K (inputs/sequence.cfg:%d, "
			      "fluid_temperature)", tf->min, tf->max, tf->mean, tf->n, want, tol,
			      seq->fluid_temperature_line);
	if (tf && (tf->mean < 0 || tf->mean > 40))
		results_event(res, 0, "fluid_temperature", "condition_out_of_range",
			      "the fluid measured %.3f degC on average, outside the 0 to 40 degC of "
			      "Tanaka's formula for water's density: the stated temperature was used",
			      tf->mean);
	/* where CIPM-2007 and its 22 ppm hold */
	if (ta && p && res->air_density_source[0] == 'C' &&
	    (ta->mean < 15 || ta->mean > 27 || p->mean < 60 || p->mean > 110))
		results_event(res, 0, "air_temperature", "condition_out_of_range",
			      "the air measured %.2f degC and %.3f kPa on average, outside the 15 to "
			      "27 degC and 60 to 110 kPa CIPM-2007 holds for: its air density is "
			      "used, less certain than stated", ta->mean, p->mean);
	/* an instrument the bench has that gave nothing usable */
	for (size_t i = 0; i < res->n_conditions; i++)
		if (res->conditions[i].n == 0)
			results_event(res, 0, rig_role_name((enum rig_role)res->conditions[i].role),
				      "condition_not_measured",
				      "the bench's %s instrument gave no usable reading (none recorded, "
				      "or each flagged stale or out of range): what the bench file "
				      "states was used instead",
				      rig_role_name((enum rig_role)res->conditions[i].role));
	for (size_t i = 0; i < res->n_conditions; i++) {
		const struct measured_condition *mc = &res->conditions[i];
		const char *unit = quantity_unit(role_primary_quantity((enum rig_role)mc->role));

		if (mc->n_outside == 0)
			continue;
		results_event(res, mc->first_outside_t_ns, rig_role_name((enum rig_role)mc->role),
			      "condition_out_of_range",
			      "%zu of %zu readings outside the bench's declared %g to %g %s "
			      "(inputs/bench.cfg:%d, conditions.%s), the farthest %g %s: the run "
			      "was not made in the conditions the bench is declared for",
			      mc->n_outside, mc->n, mc->lo, mc->hi, unit, mc->range_line,
			      rig_role_name((enum rig_role)mc->role), mc->worst_outside, unit);
	}
}

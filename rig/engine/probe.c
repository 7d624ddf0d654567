/* rig probe: opens every instrument a bench file names, reads one value from
 * each, and prints a table, so an operator sees before a run that every
 * instrument answers and is in calibration. */
#include "probe.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/param.h>

#include "rig/base/clock.h"
#include "rig/base/text.h"
#include "drivers/driver.h"
#include "drivers/sim/model.h"
#include "rig/config/config.h"

static void where(const struct instrument_cfg *ic, char *buf, size_t size)
{
	if (strcmp(ic->backend, "sim") == 0)
		snprintf(buf, size, "in-process model");
	else if (ic->uri[0])
		snprintf(buf, size, "%s %s/%s", ic->uri, ic->device, ic->channel);
	else if (ic->channel[0])
		snprintf(buf, size, "%s line %s", ic->device, ic->channel);
	else
		snprintf(buf, size, "%s", ic->device);
}

static int probe_one(struct instrument *inst, char *reading, size_t size)
{
	struct reading rd[READINGS_MAX];
	struct pump_status st;
	size_t n = 0;
	bool active;
	int r;

	switch (inst->role) {
	case ROLE_PUMP:
		r = pump_status(inst, &st);
		if (r == 0 && isfinite(st.reservoir_ml))
			snprintf(reading, size, "%s, %.4f mL/h, alarms %#x, %.3f V, reservoir %.3f mL",
				 st.running ? "running" : "stopped", st.rate_ml_per_h, st.alarms,
				 st.battery_v, st.reservoir_ml);
		else if (r == 0)
			snprintf(reading, size, "%s, %.4f mL/h, alarms %#x, %.3f V",
				 st.running ? "running" : "stopped", st.rate_ml_per_h, st.alarms,
				 st.battery_v);
		return r;
	case ROLE_VALVE:
		snprintf(reading, size, "(output; at its safe state)");
		return 0;
	case ROLE_ALARM:
	case ROLE_ESTOP:
		r = input_level(inst, &active);
		if (r == 0)
			snprintf(reading, size, "%s", active ? "active" : "inactive");
		return r;
	default:
		r = sensor_read(inst, rd, READINGS_MAX, &n);
		if (r == 0 && n > 0) {
			int k = snprintf(reading, size, "%.6g %s", rd[0].value,
					 quantity_unit(rd[0].quantity));

			if (n > 1 && k > 0 && (size_t)k < size)
				snprintf(reading + k, size - (size_t)k, ", %.6g %s", rd[1].value,
					 quantity_unit(rd[1].quantity));
		}
		return r;
	}
}

/* One row of the table; returns 1 for a failure. */
static int print_row(FILE *out, int width, const char *name, const struct instrument_cfg *ic,
		     const char *reading, int r)
{
	char place[RIG_TEXT_MAX + 2 * RIG_ID_MAX + 8], status[256], why[200];

	where(ic, place, sizeof(place));
	if (r == 0)
		snprintf(status, sizeof(status), "OK");
	else
		snprintf(status, sizeof(status), "ERROR: %s",
			 instrument_error_text(ic, r, why, sizeof(why)));
	/* the bench file's names and what a device answered: shown, not obeyed */
	fprintf(out, "%-*s %-9s %-44s %-36s %-12s %s\n", width, TERM_SAFE(name), ic->backend,
		TERM_SAFE(place), TERM_SAFE(reading), ic->cal.due[0] ? ic->cal.due : "-",
		TERM_SAFE(status));
	return r < 0;
}

/* What an instrument could not do on closing (a setting it could not put
 * back): said on stderr, after its row; arg: the row's name. */
static void probe_warning(void *arg, const struct instrument_cfg *ic, const char *text)
{
	(void)ic;
	fprintf(stderr, "rig: warning: %s: %s\n", TERM_SAFE((const char *)arg), TERM_SAFE(text));
}

int rig_probe(const struct bench *bench, FILE *out)
{
	struct driver_env env = { .bench = bench, .answer_timeout_ns = bench->answer_timeout_ns,
				  .warn = probe_warning };
	int failures = 0, width = 4;   /* "role" */

	env.clock = bench->sim_clock_uri[0] || bench->has_sim ? rig_clock_new_virtual()
							      : rig_clock_new_real();
	if (!env.clock)
		return -ENOMEM;
	if (bench->has_sim)
		env.sim = sim_model_new(&bench->sim, bench->sim.fluid_density_g_per_ml);
	/* the first column as wide as the longest name this bench has */
	for (int role = 0; role < ROLE__COUNT; role++)
		if (bench->instrument[role].present)
			width = MAX(width, (int)strlen(rig_role_name((enum rig_role)role)));
	for (size_t i = 0; i < bench->n_outputs; i++)
		width = MAX(width, (int)strlen(bench->outputs[i].name));
	fprintf(out, "%-*s %-9s %-44s %-36s %-12s %s\n", width, "role", "backend", "device / line",
		"reading", "cal. due", "status");
	for (int role = 0; role < ROLE__COUNT; role++) {
		const struct instrument_cfg *ic = &bench->instrument[role];
		struct instrument *inst = NULL;
		char reading[96] = "";
		int r;

		if (!ic->present)
			continue;
		env.warn_arg = (void *)rig_role_name((enum rig_role)role);
		r = instrument_open(&inst, (enum rig_role)role, &env);
		if (r == 0)
			r = probe_one(inst, reading, sizeof(reading));
		failures += print_row(out, width, rig_role_name((enum rig_role)role), ic, reading, r);
		instrument_close(inst);
	}
	for (size_t i = 0; i < bench->n_outputs; i++) {
		const struct output_cfg *oc = &bench->outputs[i];
		struct instrument *inst = NULL;
		char reading[96];
		int r;

		env.warn_arg = (void *)oc->name;
		r = output_open(&inst, oc, &env);

		/* taking the line drives it to its safe level; nothing else is set */
		reading[0] = '\0';
		if (r == 0)
			snprintf(reading, sizeof(reading), "(output; at its safe level, %s)",
				 oc->safe_on ? "on" : "off");
		failures += print_row(out, width, oc->name, &oc->line, reading, r);
		instrument_close(inst);
	}
	sim_model_free(env.sim);
	rig_clock_free(env.clock);
	return failures;
}

int rig_pump_identity(const struct bench *bench, const struct device *dev,
		      struct pump_identity *ret, char *err, size_t err_len)
{
	const struct instrument_cfg *ic = &bench->instrument[ROLE_PUMP];
	struct driver_env env = { .bench = bench, .answer_timeout_ns = bench->answer_timeout_ns };
	struct instrument *inst = NULL;
	char why[200];
	int r;

	if (!ic->present) {
		snprintf(err, err_len, "the bench has no pump");
		return -ENODEV;
	}
	env.clock = bench->sim_clock_uri[0] || bench->has_sim ? rig_clock_new_virtual()
							      : rig_clock_new_real();
	if (!env.clock)
		return -ENOMEM;
	if (bench->has_sim) {
		env.sim = sim_model_new(&bench->sim, bench->sim.fluid_density_g_per_ml);
		if (env.sim)
			sim_model_set_identity(env.sim, dev->serial, dev->firmware);
	}
	r = instrument_open(&inst, ROLE_PUMP, &env);
	if (r == 0)
		r = pump_identify(inst, ret);
	if (r < 0)
		snprintf(err, err_len, "%s", r == -ENOTSUP || r == -EOPNOTSUPP ?
			 "the pump does not say who it is (no answer to IDENT)" :
			 instrument_error_text(ic, r, why, sizeof(why)));
	instrument_close(inst);
	sim_model_free(env.sim);
	rig_clock_free(env.clock);
	return r == -EOPNOTSUPP ? -ENOTSUP : r;
}

static void seen_add(struct wire_sim_seen *s, const char *fmt, const char *what)
{
	s->found = true;
	if (s->n < WIRE_SIM_SEEN_MAX)
		snprintf(s->how[s->n++], sizeof(s->how[0]), fmt, what);
}

/* Each network context once, however many roles name it: a pumprig-clock
 * device is the simulator's own (docs/wire-simulator.md), no kernel
 * driver's.  local: contexts are this machine's kernel, which the simulator
 * never serves. */
static int iio_seen(const struct bench *bench, const struct instrument_cfg *ic,
		    const char **asked, size_t *n_asked, struct wire_sim_seen *ret,
		    char *err, size_t err_len)
{
	int r;

	if (!ic->present || strcmp(ic->backend, "iio") != 0 || strncmp(ic->uri, "ip:", 3) != 0)
		return 0;
	for (size_t i = 0; i < *n_asked; i++)
		if (strcmp(asked[i], ic->uri) == 0)
			return 0;
	r = sim_wire_serves_iio(ic->uri, bench->answer_timeout_ns);
	if (r < 0) {
		snprintf(err, err_len, "cannot reach the IIO context %s to tell whether it is a real "
			 "board or rig's wire simulator: %s", ic->uri, strerror(-r));
		return r;
	}
	if (r > 0)
		seen_add(ret, "the IIO context %s serves the device pumprig-clock (rig sim serve's "
			 "clock)", ic->uri);
	asked[(*n_asked)++] = ic->uri;
	return 0;
}

int rig_wire_simulator_find(const struct bench *bench, const struct pump_identity *pump,
			    struct wire_sim_seen *ret, char *err, size_t err_len)
{
	const char *asked[ROLE__COUNT + OUTPUTS_MAX];
	size_t n_asked = 0;
	int r = 0;

	*ret = (struct wire_sim_seen){ 0 };
	if (pump && pump->simulator)
		seen_add(ret, "the pump on %s answered IDENT as rig's wire simulator (SIMULATOR)",
			 bench->instrument[ROLE_PUMP].device);
	for (int role = 0; role < ROLE__COUNT && r == 0; role++)
		r = iio_seen(bench, &bench->instrument[role], asked, &n_asked, ret, err, err_len);
	for (size_t i = 0; i < bench->n_outputs && r == 0; i++)
		r = iio_seen(bench, &bench->outputs[i].line, asked, &n_asked, ret, err, err_len);
	return r;
}

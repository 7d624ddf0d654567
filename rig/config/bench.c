/* Bench files: see config.h and docs/file-formats.md. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "rig/analysis/gravimetric.h"
#include "drivers/driver.h"
#include "drivers/tty.h"

#define DURATION_MAX_S (10 * 365.25 * 86400)

/* The unit kind of a sensor's primary reading (the one calibration applies to). */
static enum qty_kind sensor_kind(enum rig_role r)
{
	switch (r) {
	case ROLE_SCALE: return QTY_MASS;
	case ROLE_FLOW: return QTY_RATE;
	case ROLE_PRESSURE: return QTY_PRESSURE;
	case ROLE_FLUID_TEMP: return QTY_TEMPERATURE;
	case ROLE_AIR_TEMP: return QTY_TEMPERATURE;
	case ROLE_HUMIDITY: return QTY_PERCENT;
	case ROLE_AIR_PRESSURE: return QTY_PRESSURE;
	default: return QTY_CURRENT;
	}
}

/* The kind of a difference of two readings (a calibration's offset and
 * uncertainty): a temperature's is in kelvin, "0.1 K", not 0.1 K absolute. */
static enum qty_kind sensor_diff_kind(enum rig_role r)
{
	enum qty_kind k = sensor_kind(r);

	return k == QTY_TEMPERATURE ? QTY_TEMPERATURE_DIFF : k;
}

static void load_calibration(struct cfg_ctx *ctx, config_setting_t *inst, enum rig_role role,
			     struct calibration *cal)
{
	static const char *const keys[] = { "gain", "offset", "date", "due", "uncertainty",
					    "gain_uncertainty", "drift_uncertainty", NULL };
	config_setting_t *g = cfg_group(ctx, inst, "calibration", false);

	cal->gain = 1;
	cal->offset = 0;
	if (!g)
		return;
	cfg_check_keys(ctx, g, "calibration", keys);
	if (cfg_number(ctx, g, "gain", -1e6, 1e6, &cal->gain) == 1 && cal->gain == 0)
		cfg_error(ctx, config_setting_get_member(g, "gain"),
			  "'gain' = 0 would read every value as the offset; allowed: any non-zero "
			  "number");
	cfg_qty(ctx, g, "offset", sensor_diff_kind(role), false, -1e9, 1e9, &cal->offset);
	cfg_qty(ctx, g, "uncertainty", sensor_diff_kind(role), false, 0, 1e9, &cal->uncertainty);
	if (cfg_qty(ctx, g, "gain_uncertainty", QTY_PERCENT, false, 0, 50, &cal->gain_u_rel) == 1)
		cal->gain_u_rel /= 100;
	/* a zero drift is a balance's: the other sensors' offsets are in `uncertainty` */
	if (role == ROLE_SCALE)
		cfg_qty(ctx, g, "drift_uncertainty", QTY_MASS_RATE, false, 0, 1, &cal->drift_u_per_h);
	else if (config_setting_get_member(g, "drift_uncertainty"))
		cfg_error(ctx, config_setting_get_member(g, "drift_uncertainty"),
			  "'drift_uncertainty' applies to the scale only (a balance's zero drift)");
	cfg_date(ctx, g, "date", cal->date, sizeof(cal->date));
	cfg_date(ctx, g, "due", cal->due, sizeof(cal->due));
	if (cal->date[0] && cal->due[0] && strcmp(cal->due, cal->date) < 0)
		cfg_error(ctx, config_setting_get_member(g, "due"),
			  "'due' = \"%s\" is before the calibration date \"%s\"; the due date must "
			  "follow it", cal->due, cal->date);
}

/* The widest primary reading each role can give on any bench this software
 * knows: past these the reading is a fault, not a measurement. */
static void default_valid_range(enum rig_role role, double *lo, double *hi)
{
	switch (role) {
	case ROLE_SCALE: *lo = -100; *hi = 10000; break;        /* g */
	case ROLE_FLOW: *lo = -1000; *hi = 1000; break;         /* mL/h */
	case ROLE_PRESSURE: *lo = -200; *hi = 5000; break;      /* kPa */
	case ROLE_FLUID_TEMP: *lo = -50; *hi = 150; break;      /* degC */
	case ROLE_AIR_TEMP: *lo = -40; *hi = 85; break;         /* degC: a BME280's range */
	case ROLE_HUMIDITY: *lo = 0; *hi = 100; break;          /* % */
	case ROLE_AIR_PRESSURE: *lo = 30; *hi = 110; break;     /* kPa: a BME280's range */
	default: *lo = -1e6; *hi = 1e6; break;                  /* uA: +-1 A */
	}
}

/* A quantity range, key = ("LOW", "HIGH") in the role's unit kind, as
 * valid_range and the conditions take it: 1 and *lo, *hi set when given
 * and good, 0 when absent, -1 after reporting what is wrong. */
static int load_range(struct cfg_ctx *ctx, config_setting_t *range, const char *key,
		      enum rig_role role, double *lo, double *hi)
{
	static const char *const examples[ROLE__COUNT][2] = {
		[ROLE_SCALE] = { "-1 g", "500 g" }, [ROLE_FLOW] = { "-10 mL/h", "100 mL/h" },
		[ROLE_PRESSURE] = { "-10 kPa", "400 kPa" }, [ROLE_POWER] = { "-1 mA", "50 mA" },
		[ROLE_FLUID_TEMP] = { "18 degC", "22 degC" }, [ROLE_AIR_TEMP] = { "18 degC", "26 degC" },
		[ROLE_HUMIDITY] = { "20 %", "80 %" }, [ROLE_AIR_PRESSURE] = { "80 kPa", "106 kPa" },
	};
	enum qty_kind k = sensor_kind(role);
	double v[2];

	if (!range)
		return 0;
	if (config_setting_type(range) != CONFIG_TYPE_LIST || config_setting_length(range) != 2 ||
	    config_setting_type(config_setting_get_elem(range, 0)) != CONFIG_TYPE_STRING ||
	    config_setting_type(config_setting_get_elem(range, 1)) != CONFIG_TYPE_STRING) {
		cfg_error(ctx, range, "'%s' must be a list of two quantities in %s units, lowest "
			  "first, like (\"%s\", \"%s\")", key, qty_kind_name(k), examples[role][0],
			  examples[role][1]);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		const char *text = config_setting_get_string(config_setting_get_elem(range, (unsigned)i));

		if (qty_parse(text, k, &v[i]) < 0 || !isfinite(v[i])) {
			cfg_error(ctx, config_setting_get_elem(range, (unsigned)i),
				  "'%s' is not a %s quantity; allowed units: %s", text, qty_kind_name(k),
				  qty_kind_units(k));
			return -1;
		}
	}
	if (!(v[0] < v[1])) {
		cfg_error(ctx, range, "'%s' must list the lower limit first and below the upper one",
			  key);
		return -1;
	}
	*lo = v[0];
	*hi = v[1];
	return 1;
}

/* stale_after, stuck_after and valid_range: the supervisor's checks of a
 * sensor's freshness and plausibility (engine.c). */
static void load_sensor_guards(struct cfg_ctx *ctx, config_setting_t *g, enum rig_role role,
			       struct instrument_cfg *ic)
{
	long n;

	ic->stale_after = 3;
	ic->stuck_after = 0;
	if (cfg_whole(ctx, g, "stale_after", 1, 1000, "periods", &n) == 1)
		ic->stale_after = (unsigned)n;
	if (cfg_whole(ctx, g, "stuck_after", 2, 100000, "readings", &n) == 1)
		ic->stuck_after = (unsigned)n;
	default_valid_range(role, &ic->valid_min, &ic->valid_max);
	load_range(ctx, config_setting_get_member(g, "valid_range"), "valid_range", role,
		   &ic->valid_min, &ic->valid_max);
}

/* bench.conditions: key = ("LOW", "HIGH"), the declared range of a measured
 * condition in its role's unit. */
static void load_condition_range(struct cfg_ctx *ctx, config_setting_t *g, enum rig_role role,
				 struct condition_range *cr)
{
	config_setting_t *range = config_setting_get_member(g, rig_role_name(role));

	if (load_range(ctx, range, rig_role_name(role), role, &cr->lo, &cr->hi) == 1) {
		cr->given = true;
		cr->line = (int)config_setting_source_line(range);
	}
}

/* Buffered capture or attribute reads for an iio sensor: chosen from the
 * period unless the bench says; a buffer is collected every `batch`. */
static void load_capture(struct cfg_ctx *ctx, config_setting_t *g, struct instrument_cfg *ic)
{
	static const char *const capture_names[] = { "buffer", "attribute", NULL };
	bool iio = strcmp(ic->backend, "iio") == 0;
	int choice = -1, have;

	have = cfg_choice(ctx, g, "capture", false, capture_names, &choice);
	if (have == 1 && !iio)
		cfg_error(ctx, config_setting_get_member(g, "capture"),
			  "'capture' applies to the iio backend only; this instrument uses '%s'",
			  ic->backend);
	if (!iio)
		choice = 1;
	ic->buffered = have == 1 ? choice == 0 : iio && ic->period_ns > 0 &&
						  ic->period_ns < CAPTURE_BUFFER_BELOW_NS;
	if (cfg_duration(ctx, g, "batch", false, 1e-3, 3600, &ic->batch_ns) == 1) {
		if (!ic->buffered)
			cfg_error(ctx, config_setting_get_member(g, "batch"),
				  "'batch' applies to buffered capture only; set capture = \"buffer\" "
				  "or remove it");
		else if (ic->batch_ns < ic->period_ns)
			cfg_error(ctx, config_setting_get_member(g, "batch"),
				  "'batch' is shorter than the period; allowed: at least the period");
	} else if (ic->buffered) {
		ic->batch_ns = ic->period_ns > BATCH_MIN_NS ? ic->period_ns : BATCH_MIN_NS;
	}
	/* The kernel's hx711 and ti-ads1015 drivers set up triggered buffers:
	 * a scan is taken only when the assigned trigger fires, and enabling
	 * the buffer with none fails (EINVAL).  The INA2xx runs its own
	 * capture thread and takes no trigger.  Checked here, where the file
	 * and line are known, rather than as a bare EINVAL at open; a device
	 * named by id ("iio:device2") cannot be checked until then. */
	if (cfg_string(ctx, g, "trigger", false, ic->trigger, sizeof(ic->trigger)) == 1) {
		if (!iio || !ic->buffered)
			cfg_error(ctx, config_setting_get_member(g, "trigger"),
				  "'trigger' applies to buffered capture on the iio backend only; "
				  "set capture = \"buffer\" or remove it");
		else if (!ic->trigger[0])
			cfg_error(ctx, config_setting_get_member(g, "trigger"),
				  "'trigger' is empty; allowed: the name of an IIO trigger device");
	} else if (ic->buffered && (strcmp(ic->device, "hx711") == 0 ||
				    strcmp(ic->device, "ads1015") == 0)) {
		config_setting_t *at = config_setting_get_member(g, "capture");

		if (!at)
			at = config_setting_get_member(g, "period");
		cfg_error(ctx, at ? at : g,
			  "buffered capture on IIO device '%s' needs a trigger (its kernel driver "
			  "converts only when one fires); set trigger = \"NAME\" (an hrtimer or "
			  "sysfs trigger), or capture = \"attribute\"", ic->device);
	}
}

static void load_instrument(struct cfg_ctx *ctx, config_setting_t *g, enum rig_role role,
			    struct instrument_cfg *ic)
{
	static const char *const pump_keys[] = { "backend", "model", "serial", "uri", "device",
						 "channel", "baud", "reconnect", "period", NULL };
	static const char *const sensor_keys[] = { "backend", "model", "serial", "uri", "device",
						   "channel", "period", "calibration",
						   "voltage_channel", "baud", "reconnect",
						   "stale_after", "stuck_after", "valid_range", "capture",
						   "batch", "trigger", NULL };
	static const char *const valve_keys[] = { "backend", "model", "serial", "uri", "device",
						  "channel", "safe_state", "active_low", NULL };
	static const char *const alarm_keys[] = { "backend", "model", "serial", "uri", "device",
						  "channel", "period", "active_low", NULL };
	static const char *const safe_names[] = { "open", "closed", NULL };
	const struct backend *be;
	char what[48];
	int choice;

	ic->present = true;
	ic->line = (int)config_setting_source_line(g);
	snprintf(what, sizeof(what), "instrument '%s'", rig_role_name(role));
	cfg_check_keys(ctx, g, what, role == ROLE_PUMP ? pump_keys :
				     role_is_sensor(role) ? sensor_keys :
				     role == ROLE_VALVE ? valve_keys : alarm_keys);
	if (cfg_string(ctx, g, "backend", true, ic->backend, sizeof(ic->backend)) == 1) {
		be = backend_find(ic->backend);
		if (!be)
			cfg_error(ctx, config_setting_get_member(g, "backend"),
				  "unknown backend '%s'; allowed: %s", ic->backend, backend_names());
		else if (!(be->roles & (1u << role)))
			cfg_error(ctx, config_setting_get_member(g, "backend"),
				  "backend '%s' cannot play the %s role", ic->backend,
				  rig_role_name(role));
	}
	cfg_string(ctx, g, "model", false, ic->model, sizeof(ic->model));
	cfg_string(ctx, g, "serial", false, ic->serial, sizeof(ic->serial));
	cfg_string(ctx, g, "uri", false, ic->uri, sizeof(ic->uri));
	cfg_string(ctx, g, "device", false, ic->device, sizeof(ic->device));
	cfg_string(ctx, g, "channel", false, ic->channel, sizeof(ic->channel));
	cfg_string(ctx, g, "voltage_channel", false, ic->channel2, sizeof(ic->channel2));
	{
		double baud = 0;

		if (cfg_number(ctx, g, "baud", 1200, 921600, &baud) == 1) {
			if (baud != floor(baud) || !tty_baud_supported((unsigned)baud)) {
				char allowed[160] = "";
				size_t n = 0;

				for (size_t i = 0; tty_bauds[i] && n < sizeof(allowed); i++)
					n += (size_t)snprintf(allowed + n, sizeof(allowed) - n, "%s%u",
							      i ? ", " : "", tty_bauds[i]);
				cfg_error(ctx, config_setting_get_member(g, "baud"),
					  "'baud' = %g is not a serial rate this port can be set to; "
					  "allowed: %s", baud, allowed);
			} else {
				ic->baud = (unsigned)baud;
			}
		}
	}
	if (strcmp(ic->backend, "pumplink") == 0 || strcmp(ic->backend, "mtsics") == 0)
		cfg_string(ctx, g, "device", true, ic->device, sizeof(ic->device));
	if (strcmp(ic->backend, "iio") == 0) {
		/* where the instrument is: the context, the device, the channel */
		cfg_string(ctx, g, "uri", true, ic->uri, sizeof(ic->uri));
		cfg_string(ctx, g, "device", true, ic->device, sizeof(ic->device));
		cfg_string(ctx, g, "channel", true, ic->channel, sizeof(ic->channel));
	}
	ic->cal.gain = 1;
	cfg_bool(ctx, g, "active_low", &ic->active_low);
	if (strcmp(ic->backend, "gpiod") == 0) {
		/* the chip (name, path or number) and the line (name or offset) */
		cfg_string(ctx, g, "device", true, ic->device, sizeof(ic->device));
		cfg_string(ctx, g, "channel", true, ic->channel, sizeof(ic->channel));
	}
	if (role_is_sensor(role) || role == ROLE_ALARM || role == ROLE_ESTOP)
		cfg_duration(ctx, g, "period", true, 1e-3, 3600, &ic->period_ns);
	if (role_is_sensor(role)) {
		load_calibration(ctx, g, role, &ic->cal);
		cfg_duration(ctx, g, "reconnect", false, 0, 86400, &ic->reconnect_ns);
		load_sensor_guards(ctx, g, role, ic);
		load_capture(ctx, g, ic);
	}
	if (role == ROLE_PUMP) {
		cfg_duration(ctx, g, "reconnect", false, 0, 3600, &ic->reconnect_ns);
		/* how often its status is asked (bench_pump_poll_ns: 1 s unless
		 * said); an alarm it reports is dated to within a period */
		cfg_duration(ctx, g, "period", false, 0.1, 60, &ic->period_ns);
	}
	if (role == ROLE_VALVE && cfg_choice(ctx, g, "safe_state", false, safe_names, &choice) == 1)
		ic->safe_closed = choice == 1;
}

/* The simulated pump's identity, as the pump link carries it (one word of
 * printable ASCII, no '*': docs/pump-link.md, IDENT). */
static void sim_identity(struct cfg_ctx *ctx, const config_setting_t *g, const char *key,
			 char *buf, size_t size)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	size_t n;

	if (cfg_string(ctx, g, key, false, buf, size) <= 0)
		return;
	n = strlen(buf);
	for (size_t i = 0; i < n; i++)
		if (buf[i] <= ' ' || buf[i] > '~' || buf[i] == '*' || n > 40) {
			cfg_error(ctx, s, "'%s' = \"%s\" cannot be said on the pump link; it must be "
				  "1 to 40 printable ASCII characters without spaces or '*'", key, buf);
			buf[0] = '\0';
			return;
		}
}

static void sim_defaults(struct sim_cfg *s)
{
	*s = (struct sim_cfg){
		.seed = 1,
		.stroke_volume_ml = 0.25e-3,
		.reservoir_ml = 40,
		.alarm_pressure_kpa = 100,
		.alarm_enabled = true,
		.stall_pressure_kpa = 300,
		.compliance_ml_per_kpa = 0.2e-3,
		.time_constant_ns = 5 * RIG_NS_PER_S,
		.vessel_mass_g = 20,
		.scale_noise_g = 0.02e-3,
		.scale_resolution_g = 0.01e-3,
		.scale_settle_ns = 2 * RIG_NS_PER_S,
		.battery_capacity_mah = 1000,
		.quiescent_current_ua = 8,
		.stroke_charge_mah = 10e-6 / 3.6,
		.battery_full_v = 3.2,
		.battery_empty_v = 2.6,
		.fluid_density_g_per_ml = 0.998207,
		.fluid_temperature_c = NAN,
		.air_density_g_per_ml = RHO_AIR_STANDARD_KG_PER_M3 / 1000,
		.scale_linearity_period_g = 10e-3,
		.air_temperature_c = 20,
		.air_humidity_pct = 50,
		.air_pressure_kpa = 101.325,
		/* a MAX31865's and a BME280's scatter from one reading to the next */
		.cond_noise = { [ROLE_FLUID_TEMP] = 0.01, [ROLE_AIR_TEMP] = 0.01,
				[ROLE_HUMIDITY] = 0.05, [ROLE_AIR_PRESSURE] = 0.002 },
	};
}

/* bench.outputs: digital lines besides the valve, by name.  Only backends
 * with output lines may drive one (gpiod; sim for tests). */
static void load_outputs(struct cfg_ctx *ctx, config_setting_t *group, struct bench *b)
{
	static const char *const keys[] = { "backend", "model", "serial", "device", "channel",
					    "active_low", "safe", "run", NULL };
	static const char *const levels[] = { "off", "on", NULL };
	int n = config_setting_length(group), choice;

	if (n > OUTPUTS_MAX) {
		cfg_error(ctx, group, "%d outputs given; at most %d are allowed", n, OUTPUTS_MAX);
		n = OUTPUTS_MAX;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(group, (unsigned)i);
		struct output_cfg *o = &b->outputs[b->n_outputs];
		const char *name = config_setting_name(g);
		char what[RIG_ID_MAX + 16];

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			cfg_error(ctx, g, "output '%s' must be a group { backend = \"gpiod\"; device; "
				  "channel; safe = \"off\"; }", name ? name : "?");
			continue;
		}
		snprintf(o->name, sizeof(o->name), "%s", name ? name : "?");
		snprintf(what, sizeof(what), "output '%s'", o->name);
		o->line.present = true;
		o->line.line = (int)config_setting_source_line(g);
		o->line.cal.gain = 1;
		cfg_check_keys(ctx, g, what, keys);
		if (cfg_string(ctx, g, "backend", true, o->line.backend, sizeof(o->line.backend)) == 1) {
			const struct backend *be = backend_find(o->line.backend);

			if (!be)
				cfg_error(ctx, config_setting_get_member(g, "backend"),
					  "unknown backend '%s'; allowed: %s", o->line.backend,
					  backend_names());
			else if (!be->outputs)
				cfg_error(ctx, config_setting_get_member(g, "backend"),
					  "backend '%s' has no output lines; allowed: gpiod, sim",
					  o->line.backend);
		}
		cfg_string(ctx, g, "model", false, o->line.model, sizeof(o->line.model));
		cfg_string(ctx, g, "serial", false, o->line.serial, sizeof(o->line.serial));
		cfg_bool(ctx, g, "active_low", &o->line.active_low);
		if (strcmp(o->line.backend, "gpiod") == 0) {
			cfg_string(ctx, g, "device", true, o->line.device, sizeof(o->line.device));
			cfg_string(ctx, g, "channel", true, o->line.channel, sizeof(o->line.channel));
		}
		if (cfg_choice(ctx, g, "safe", true, levels, &choice) == 1)
			o->safe_on = choice == 1;
		o->run_on = o->safe_on;
		if (cfg_choice(ctx, g, "run", false, levels, &choice) == 1)
			o->run_on = choice == 1;
		o->line.safe_closed = o->safe_on;   /* what a backend drives at open and close */
		b->n_outputs++;
	}
}

static void load_faults(struct cfg_ctx *ctx, config_setting_t *list, struct sim_cfg *s)
{
	static const char *const keys[] = { "role", "kind", "at", "duration", NULL };
	static const char *const kind_names[] = { "dropout", "stuck", "no_answer", "disconnect",
						  "stale", "frozen", "nan", "out_of_range",
						  "internal_error", "crash", "lost_reply", "unplug",
						  "segv", "pressed", NULL };
	static const char *const role_list[] = { "pump", "scale", "flow", "pressure", "power",
						 "valve", "alarm", "estop", NULL };
	int n, choice;

	if (config_setting_type(list) != CONFIG_TYPE_LIST) {
		cfg_error(ctx, list, "'faults' must be a list ( { role = \"scale\"; kind = "
			  "\"dropout\"; at = \"2 h\"; }, ... )");
		return;
	}
	n = config_setting_length(list);
	if (n > SIM_FAULTS_MAX) {
		cfg_error(ctx, list, "%d faults given; at most %d are allowed", n, SIM_FAULTS_MAX);
		n = SIM_FAULTS_MAX;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		struct sim_fault *f = &s->faults[s->n_faults];

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			cfg_error(ctx, g, "each fault must be a group { role; kind; at; duration; }");
			continue;
		}
		f->line = (int)config_setting_source_line(g);
		cfg_check_keys(ctx, g, "a fault", keys);
		bool role_ok = false;
		{
			char role[RIG_ID_MAX], list_text[128];

			if (cfg_string(ctx, g, "role", true, role, sizeof(role)) == 1) {
				int r = rig_role_from_name(role);

				if (r < 0)
					cfg_error(ctx, config_setting_get_member(g, "role"),
						  "unknown instrument role '%s'; allowed: %s", role,
						  cfg_join(role_list, list_text, sizeof(list_text)));
				else
					f->role = (enum rig_role)r;
				role_ok = r >= 0;
			}
		}
		if (cfg_choice(ctx, g, "kind", true, kind_names, &choice) == 1 && role_ok) {
			bool estop = f->role == ROLE_ESTOP;

			f->kind = (enum sim_fault_kind)choice;
			if (f->kind == SIM_FAULT_PRESSED && !estop)
				cfg_error(ctx, config_setting_get_member(g, "kind"),
					  "only the emergency stop is pressed; allowed: role = \"estop\"");
			else if (estop && f->kind != SIM_FAULT_PRESSED && f->kind != SIM_FAULT_DROPOUT &&
				 f->kind != SIM_FAULT_DISCONNECT)
				cfg_error(ctx, config_setting_get_member(g, "kind"),
					  "kind '%s' does not apply to the emergency stop; allowed: "
					  "\"pressed\", \"dropout\", \"disconnect\"", kind_names[choice]);
		}
		cfg_duration(ctx, g, "at", true, 0, DURATION_MAX_S, &f->at_ns);
		cfg_duration(ctx, g, "duration", false, 0, DURATION_MAX_S, &f->duration_ns);
		s->n_faults++;
	}
}

static void load_simulator(struct cfg_ctx *ctx, config_setting_t *g, struct sim_cfg *s)
{
	static const char *const keys[] = { "seed", "pump", "line", "scale", "flow", "pressure",
					    "battery", "faults", "fluid", "clock_error", "air",
					    "fluid_temperature", "air_temperature", "humidity",
					    "air_pressure", NULL };
	static const char *const fluid_keys[] = { "density", "temperature", "air_density", NULL };
	static const char *const air_keys[] = { "temperature", "humidity", "pressure", NULL };
	static const char *const cond_keys[] = { "offset", "noise", NULL };
	bool air_density = false;
	static const char *const pump_keys[] = { "rate_error", "stroke_volume", "reservoir",
		"startup_delay", "occlusion_alarm_pressure", "occlusion_alarm_latency",
		"occlusion_alarm", "stall_pressure", "stroke_variation", "serial", "firmware",
		"bolus_error", "bolus_lockout", "reservoir_error", "low_reservoir", "refill_error", NULL };
	static const char *const line_keys[] = { "compliance", "time_constant",
						 "baseline_pressure", NULL };
	static const char *const scale_keys[] = { "vessel_mass", "noise", "resolution", "drift",
						  "evaporation", "settle_time", "span", "linearity",
						  "linearity_period", NULL };
	static const char *const flow_keys[] = { "noise", "offset", "gain", NULL };
	static const char *const pressure_keys[] = { "noise", "offset", "gain", NULL };
	static const char *const battery_keys[] = { "capacity", "quiescent_current",
		"stroke_charge", "full_voltage", "empty_voltage", "current_noise", "current_offset",
		"current_gain", NULL };
	config_setting_t *sub, *faults;

	sim_defaults(s);
	cfg_check_keys(ctx, g, "simulator", keys);
	cfg_uint64(ctx, g, "seed", &s->seed);
	if (cfg_qty(ctx, g, "clock_error", QTY_PERCENT, false, -1, 1, &s->clock_error_rel) == 1)
		s->clock_error_rel /= 100;

	if ((sub = cfg_group(ctx, g, "pump", false))) {
		cfg_check_keys(ctx, sub, "simulator.pump", pump_keys);
		cfg_qty(ctx, sub, "rate_error", QTY_PERCENT, false, -90, 500, &s->rate_error_pct);
		cfg_qty(ctx, sub, "stroke_volume", QTY_VOLUME, false, 1e-9, 1, &s->stroke_volume_ml);
		cfg_qty(ctx, sub, "reservoir", QTY_VOLUME, false, 0.001, 1000, &s->reservoir_ml);
		cfg_duration(ctx, sub, "startup_delay", false, 0, 86400, &s->startup_delay_ns);
		cfg_qty(ctx, sub, "occlusion_alarm_pressure", QTY_PRESSURE, false, 0.001, 10000,
			&s->alarm_pressure_kpa);
		cfg_duration(ctx, sub, "occlusion_alarm_latency", false, 0, 86400,
			     &s->alarm_latency_ns);
		cfg_bool(ctx, sub, "occlusion_alarm", &s->alarm_enabled);
		cfg_qty(ctx, sub, "stall_pressure", QTY_PRESSURE, false, 0.001, 10000,
			&s->stall_pressure_kpa);
		sim_identity(ctx, sub, "serial", s->pump_serial, sizeof(s->pump_serial));
		sim_identity(ctx, sub, "firmware", s->pump_firmware, sizeof(s->pump_firmware));
		if (cfg_qty(ctx, sub, "stroke_variation", QTY_PERCENT, false, 0, 30,
			    &s->stroke_variation_rel) == 1)
			s->stroke_variation_rel /= 100;
		cfg_qty(ctx, sub, "bolus_error", QTY_PERCENT, false, -90, 100, &s->bolus_error_pct);
		cfg_duration(ctx, sub, "bolus_lockout", false, 0, 7 * 86400, &s->bolus_lockout_ns);
		cfg_qty(ctx, sub, "reservoir_error", QTY_VOLUME, false, -100, 100,
			&s->reservoir_error_ml);
		cfg_qty(ctx, sub, "low_reservoir", QTY_VOLUME, false, 0, 100, &s->low_reservoir_ml);
		cfg_qty(ctx, sub, "refill_error", QTY_VOLUME, false, -100, 100, &s->refill_error_ml);
	}
	if ((sub = cfg_group(ctx, g, "fluid", false))) {
		bool density;

		cfg_check_keys(ctx, sub, "simulator.fluid", fluid_keys);
		density = cfg_qty(ctx, sub, "density", QTY_DENSITY, false, 0.5, 2,
				  &s->fluid_density_g_per_ml) == 1;
		/* the true temperature of water makes its true density */
		if (cfg_qty(ctx, sub, "temperature", QTY_TEMPERATURE, false, 0, 40,
			    &s->fluid_temperature_c) == 1) {
			if (density)
				cfg_error(ctx, config_setting_get_member(sub, "temperature"),
					  "'temperature' and 'density' both given; give one: the "
					  "temperature of water makes its density");
			else
				s->fluid_density_g_per_ml =
					water_density_kg_per_m3(s->fluid_temperature_c) / 1000;
		}
		air_density = cfg_qty(ctx, sub, "air_density", QTY_DENSITY, false, 0, 0.002,
				      &s->air_density_g_per_ml) == 1;
	}
	if ((sub = cfg_group(ctx, g, "air", false))) {
		cfg_check_keys(ctx, sub, "simulator.air", air_keys);
		s->air_given = true;
		cfg_qty(ctx, sub, "temperature", QTY_TEMPERATURE, false, -20, 60, &s->air_temperature_c);
		cfg_qty(ctx, sub, "humidity", QTY_PERCENT, false, 0, 100, &s->air_humidity_pct);
		cfg_qty(ctx, sub, "pressure", QTY_PRESSURE, false, 50, 120, &s->air_pressure_kpa);
		if (air_density)
			cfg_error(ctx, sub, "'air' and fluid.air_density both given; give one: the "
				  "air's temperature, humidity and pressure make its density "
				  "(CIPM-2007)");
		else
			s->air_density_g_per_ml = air_density_cipm2007_kg_per_m3(
				s->air_temperature_c, s->air_pressure_kpa, s->air_humidity_pct,
				CO2_MOLE_FRACTION_DEFAULT) / 1000;
	} else {
		/* no air given: the air the sensors read is 20 degC and 50 % at
		 * the pressure that makes the true air density (the density is
		 * nearly proportional to the pressure: two steps come within
		 * 2e-8 of it), so a bench that measures its air reads the truth */
		for (int k = 0; k < 2; k++)
			s->air_pressure_kpa *= s->air_density_g_per_ml * 1000 /
				air_density_cipm2007_kg_per_m3(s->air_temperature_c,
					s->air_pressure_kpa, s->air_humidity_pct, CO2_MOLE_FRACTION_DEFAULT);
	}
	for (int role = 0; role < ROLE__COUNT; role++) {
		char what[48];
		enum qty_kind k = sensor_diff_kind((enum rig_role)role);

		if (!role_is_condition((enum rig_role)role) ||
		    !(sub = cfg_group(ctx, g, rig_role_name((enum rig_role)role), false)))
			continue;
		snprintf(what, sizeof(what), "simulator.%s", rig_role_name((enum rig_role)role));
		cfg_check_keys(ctx, sub, what, cond_keys);
		cfg_qty(ctx, sub, "offset", k, false, -50, 50, &s->cond_offset[role]);
		cfg_qty(ctx, sub, "noise", k, false, 0, 10, &s->cond_noise[role]);
	}
	if ((sub = cfg_group(ctx, g, "line", false))) {
		cfg_check_keys(ctx, sub, "simulator.line", line_keys);
		cfg_qty(ctx, sub, "compliance", QTY_COMPLIANCE, false, 1e-9, 1,
			&s->compliance_ml_per_kpa);
		cfg_duration(ctx, sub, "time_constant", false, 1e-3, 3600, &s->time_constant_ns);
		cfg_qty(ctx, sub, "baseline_pressure", QTY_PRESSURE, false, -100, 1000,
			&s->baseline_pressure_kpa);
	}
	if ((sub = cfg_group(ctx, g, "scale", false))) {
		cfg_check_keys(ctx, sub, "simulator.scale", scale_keys);
		cfg_qty(ctx, sub, "vessel_mass", QTY_MASS, false, 0, 10000, &s->vessel_mass_g);
		cfg_qty(ctx, sub, "noise", QTY_MASS, false, 0, 1, &s->scale_noise_g);
		cfg_qty(ctx, sub, "resolution", QTY_MASS, false, 0, 1, &s->scale_resolution_g);
		cfg_qty(ctx, sub, "drift", QTY_MASS_RATE, false, -1, 1, &s->scale_drift_g_per_h);
		cfg_qty(ctx, sub, "evaporation", QTY_MASS_RATE, false, 0, 1, &s->evaporation_g_per_h);
		cfg_duration(ctx, sub, "settle_time", false, 0, 86400, &s->scale_settle_ns);
		if (cfg_qty(ctx, sub, "span", QTY_PERCENT, false, -10, 10, &s->scale_span_rel) == 1)
			s->scale_span_rel /= 100;
		cfg_qty(ctx, sub, "linearity", QTY_MASS, false, 0, 1, &s->scale_linearity_g);
		cfg_qty(ctx, sub, "linearity_period", QTY_MASS, false, 1e-6, 10000,
			&s->scale_linearity_period_g);
	}
	if ((sub = cfg_group(ctx, g, "flow", false))) {
		cfg_check_keys(ctx, sub, "simulator.flow", flow_keys);
		cfg_qty(ctx, sub, "noise", QTY_RATE, false, 0, 100, &s->flow_noise_ml_per_h);
		cfg_qty(ctx, sub, "offset", QTY_RATE, false, -100, 100, &s->flow_offset_ml_per_h);
		if (cfg_qty(ctx, sub, "gain", QTY_PERCENT, false, -50, 50, &s->flow_gain_rel) == 1)
			s->flow_gain_rel /= 100;
	}
	if ((sub = cfg_group(ctx, g, "pressure", false))) {
		cfg_check_keys(ctx, sub, "simulator.pressure", pressure_keys);
		cfg_qty(ctx, sub, "noise", QTY_PRESSURE, false, 0, 1000, &s->pressure_noise_kpa);
		cfg_qty(ctx, sub, "offset", QTY_PRESSURE, false, -1000, 1000, &s->pressure_offset_kpa);
		if (cfg_qty(ctx, sub, "gain", QTY_PERCENT, false, -50, 50, &s->pressure_gain_rel) == 1)
			s->pressure_gain_rel /= 100;
	}
	if ((sub = cfg_group(ctx, g, "battery", false))) {
		cfg_check_keys(ctx, sub, "simulator.battery", battery_keys);
		cfg_qty(ctx, sub, "capacity", QTY_CHARGE, false, 1e-3, 1e6, &s->battery_capacity_mah);
		cfg_qty(ctx, sub, "quiescent_current", QTY_CURRENT, false, 0, 1e6,
			&s->quiescent_current_ua);
		cfg_qty(ctx, sub, "stroke_charge", QTY_CHARGE, false, 0, 1, &s->stroke_charge_mah);
		cfg_qty(ctx, sub, "full_voltage", QTY_VOLTAGE, false, 0.1, 100, &s->battery_full_v);
		cfg_qty(ctx, sub, "empty_voltage", QTY_VOLTAGE, false, 0, 100, &s->battery_empty_v);
		cfg_qty(ctx, sub, "current_noise", QTY_CURRENT, false, 0, 1e6, &s->current_noise_ua);
		cfg_qty(ctx, sub, "current_offset", QTY_CURRENT, false, -1e6, 1e6, &s->current_offset_ua);
		if (cfg_qty(ctx, sub, "current_gain", QTY_PERCENT, false, -50, 50,
			    &s->current_gain_rel) == 1)
			s->current_gain_rel /= 100;
		if (s->battery_empty_v >= s->battery_full_v)
			cfg_error(ctx, sub, "empty_voltage %g V is out of range; it must be below "
				  "full_voltage %g V", s->battery_empty_v, s->battery_full_v);
	}
	if ((faults = config_setting_get_member(g, "faults")))
		load_faults(ctx, faults, s);
}

void bench_free(struct bench *bench)
{
	free(bench);
}

int bench_load(const char *path, struct bench **ret_bench, struct diag_list *diags)
{
	static const char *const keys[] = { "id", "description", "fluid", "flush_interval",
					    "limits", "instruments", "outputs", "simulator", "sim_clock",
					    "answer_timeout", "clock_uncertainty", "line_time_constant",
					    "realtime_priority", "conditions", "record_compression", NULL };
	static const char *const fluid_keys[] = { "name", "density", "temperature",
						  "evaporation_correction", "air_density",
						  "temperature_uncertainty", "density_uncertainty",
						  "air_density_uncertainty", "evaporation_uncertainty",
						  NULL };
	static const char *const limit_keys[] = { "pressure_max", "delivered_max", "duration_max",
						  NULL };
	static const char *const condition_keys[] = { "fluid_temperature", "air_temperature",
						      "humidity", "air_pressure", NULL };
	struct cfg_ctx ctx = { .path = path, .diags = diags };
	struct bench *b;
	config_t cfg;
	config_setting_t *g, *sub;
	bool uses_sim = false;

	*ret_bench = NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	snprintf(b->path, sizeof(b->path), "%s", path);
	b->fluid_temperature_c = 20;
	b->air_density_g_per_ml = RHO_AIR_STANDARD_KG_PER_M3 / 1000;
	/* what the budget assumed before these keys existed: 0.5 K on the
	 * fluid's temperature, 0.1 kg/m3 on a stated density and on the air's */
	b->fluid_temperature_u_k = 0.5;
	b->density_u_g_per_ml = 0.1e-3;
	b->air_density_u_g_per_ml = 0.1e-3;
	b->evaporation_u_g_per_h = NAN;
	b->flush_interval_ns = RIG_NS_PER_S;
	b->answer_timeout_ns = ANSWER_TIMEOUT_DEFAULT_NS;
	if (cfg_read(&ctx, &cfg) < 0)
		goto fail;
	g = cfg_root_group(&ctx, &cfg, "bench");
	if (!g)
		goto fail;
	cfg_check_keys(&ctx, g, "bench", keys);
	cfg_ident(&ctx, g, "id", true, b->id, sizeof(b->id));
	cfg_string(&ctx, g, "description", false, b->description, sizeof(b->description));
	cfg_duration(&ctx, g, "flush_interval", false, 1e-3, 60, &b->flush_interval_ns);
	{
		/* samples.csv kept plain, or compressed once the run has ended
		 * (rig/base/record_zst.c) */
		static const char *const compressions[] = { "none", "zstd", NULL };
		int choice;

		if (cfg_choice(&ctx, g, "record_compression", false, compressions, &choice) == 1)
			b->record_zstd = choice == 1;
	}
	cfg_duration(&ctx, g, "answer_timeout", false, 0.1, 60, &b->answer_timeout_ns);
	cfg_string(&ctx, g, "sim_clock", false, b->sim_clock_uri, sizeof(b->sim_clock_uri));
	if (cfg_qty(&ctx, g, "clock_uncertainty", QTY_PERCENT, false, 0, 1, &b->clock_u_rel) == 1)
		b->clock_u_rel /= 100;
	cfg_duration(&ctx, g, "line_time_constant", false, 1e-3, 86400, &b->line_time_constant_ns);
	{
		long prio;

		/* the sampler's SCHED_FIFO priority; absent: the ordinary scheduler */
		if (cfg_whole(&ctx, g, "realtime_priority", 1, 99, NULL, &prio) == 1)
			b->realtime_priority = (int)prio;
	}

	if ((sub = cfg_group(&ctx, g, "fluid", true))) {
		cfg_check_keys(&ctx, sub, "fluid", fluid_keys);
		bool water;

		cfg_string(&ctx, sub, "name", false, b->fluid_name, sizeof(b->fluid_name));
		water = !b->fluid_name[0] || strcmp(b->fluid_name, "water") == 0;
		b->density_given = cfg_qty(&ctx, sub, "density", QTY_DENSITY, !water, 0.5, 2,
					   &b->density_g_per_ml) == 1;
		/* Tanaka's formula holds from 0 to 40 degC */
		cfg_qty(&ctx, sub, "temperature", QTY_TEMPERATURE, false, 0, water ? 40 : 100,
			&b->fluid_temperature_c);
		if (water && !b->density_given)
			b->density_g_per_ml = water_density_kg_per_m3(b->fluid_temperature_c) / 1000;
		cfg_qty(&ctx, sub, "air_density", QTY_DENSITY, false, 0, 0.002,
			&b->air_density_g_per_ml);
		b->ml_per_g = buoyancy_ml_per_g(b->density_g_per_ml * 1000,
						b->air_density_g_per_ml * 1000,
						RHO_REFERENCE_WEIGHTS_KG_PER_M3);
		cfg_qty(&ctx, sub, "evaporation_correction", QTY_MASS_RATE, false, 0, 1,
			&b->evaporation_g_per_h);
		cfg_qty(&ctx, sub, "temperature_uncertainty", QTY_TEMPERATURE_DIFF, false, 0, 20,
			&b->fluid_temperature_u_k);
		if (cfg_qty(&ctx, sub, "density_uncertainty", QTY_DENSITY, false, 0, 0.1,
			    &b->density_u_g_per_ml) == 1 && water && !b->density_given)
			cfg_error(&ctx, config_setting_get_member(sub, "density_uncertainty"),
				  "'density_uncertainty' applies to a stated density; water's comes "
				  "from its temperature: give temperature_uncertainty");
		cfg_qty(&ctx, sub, "air_density_uncertainty", QTY_DENSITY, false, 0, 0.001,
			&b->air_density_u_g_per_ml);
		cfg_qty(&ctx, sub, "evaporation_uncertainty", QTY_MASS_RATE, false, 0, 1,
			&b->evaporation_u_g_per_h);
	}
	/* unstated, the correction is taken as uncertain by half its value,
	 * rectangular */
	if (isnan(b->evaporation_u_g_per_h))
		b->evaporation_u_g_per_h = 0.5 * b->evaporation_g_per_h / sqrt(3);
	if ((sub = cfg_group(&ctx, g, "conditions", false))) {
		cfg_check_keys(&ctx, sub, "conditions", condition_keys);
		for (int role = 0; role < ROLE__COUNT; role++)
			if (role_is_condition((enum rig_role)role))
				load_condition_range(&ctx, sub, (enum rig_role)role,
						     &b->condition_range[role]);
	}
	if ((sub = cfg_group(&ctx, g, "limits", true))) {
		cfg_check_keys(&ctx, sub, "limits", limit_keys);
		cfg_qty(&ctx, sub, "pressure_max", QTY_PRESSURE, true, 0.001, 10000,
			&b->limit_pressure_kpa);
		cfg_qty(&ctx, sub, "delivered_max", QTY_VOLUME, true, 1e-6, 10000, &b->limit_volume_ml);
		cfg_duration(&ctx, sub, "duration_max", true, 1, DURATION_MAX_S,
			     &b->limit_duration_ns);
	}
	if ((sub = cfg_group(&ctx, g, "instruments", true))) {
		int n = config_setting_length(sub);
		const char *roles[ROLE__COUNT + 1];
		char list[256];

		for (int r = 0; r < ROLE__COUNT; r++)
			roles[r] = rig_role_name((enum rig_role)r);
		roles[ROLE__COUNT] = NULL;
		for (int i = 0; i < n; i++) {
			config_setting_t *ig = config_setting_get_elem(sub, (unsigned)i);
			const char *name = config_setting_name(ig);
			int role = rig_role_from_name(name);

			if (role < 0) {
				cfg_error(&ctx, ig, "unknown instrument role '%s'; allowed: %s",
					  name ? name : "?", cfg_join(roles, list, sizeof(list)));
				continue;
			}
			if (config_setting_type(ig) != CONFIG_TYPE_GROUP) {
				cfg_error(&ctx, ig, "instrument '%s' must be a group { backend = "
					  "\"sim\"; ... }", name);
				continue;
			}
			load_instrument(&ctx, ig, (enum rig_role)role, &b->instrument[role]);
			if (strcmp(b->instrument[role].backend, "sim") == 0)
				uses_sim = true;
		}
		if (!b->instrument[ROLE_PUMP].present)
			cfg_error(&ctx, sub, "missing 'pump' in instruments; every bench drives a "
				  "pump: pump = { backend = \"...\"; };");
	}
	if ((sub = cfg_group(&ctx, g, "outputs", false))) {
		load_outputs(&ctx, sub, b);
		for (size_t i = 0; i < b->n_outputs; i++)
			if (strcmp(b->outputs[i].line.backend, "sim") == 0)
				uses_sim = true;
	}
	/* Two instruments or output lines on one serial device, IIO channel,
	 * GPIO line (or, on a local: context, one IIO device's buffer, which
	 * the kernel gives to one opener) would find the second refused, or
	 * worse, not refused, at the start of the run. */
	ctx.errors += bench_check_resources(b, diags);
	sim_defaults(&b->sim);
	sub = cfg_group(&ctx, g, "simulator", false);
	if (sub) {
		b->has_sim = true;
		load_simulator(&ctx, sub, &b->sim);
	} else if (uses_sim && !config_setting_get_member(g, "simulator")) {
		cfg_error(&ctx, g, "missing 'simulator' in bench; an instrument uses backend "
			  "\"sim\", which needs simulator = { ... }; (may be empty for defaults)");
	}
	if (ctx.errors)
		goto fail;
	config_destroy(&cfg);
	*ret_bench = b;
	return 0;
fail:
	config_destroy(&cfg);
	bench_free(b);
	return -EINVAL;
}

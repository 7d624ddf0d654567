/* Sequence files: see config.h and docs/file-formats.md. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const step_names[] = {
	[STEP_PRIME] = "prime", [STEP_TARE] = "tare", [STEP_SET_RATE] = "set_rate",
	[STEP_BOLUS] = "bolus", [STEP_HOLD] = "hold", [STEP_STOP] = "stop",
	[STEP_OCCLUDE] = "occlude", [STEP_RELEASE] = "release", [STEP_MARK] = "mark",
	[STEP_CHECK] = "check", [STEP_MEASURE_EVAPORATION] = "measure_evaporation",
	[STEP_REFILL] = "refill",
	[STEP__COUNT] = NULL,
};

static const char *const check_names[] = {
	[CHECK_DOSE_ACCURACY] = "dose_accuracy", [CHECK_FLOW_ACCURACY] = "flow_accuracy",
	[CHECK_OCCLUSION] = "occlusion", [CHECK_BATTERY] = "battery",
	[CHECK_BOLUS_ACCURACY] = "bolus_accuracy", [CHECK_RESERVOIR] = "reservoir",
	[CHECK__COUNT] = NULL,
};

static const char *const timeout_names[] = { "abort", "fail", NULL };
static const char *const edge_names[] = { "begin", "end", NULL };
static const char *const until_names[] = { "alarm", "duration", NULL };
static const char *const demand_names[] = { "clinician", "patient", NULL };

const char *step_kind_name(enum step_kind kind)
{
	return (unsigned)kind < STEP__COUNT ? step_names[kind] : "?";
}

const char *check_kind_name(enum check_kind kind)
{
	return (unsigned)kind < CHECK__COUNT ? check_names[kind] : "?";
}

/* Upper bounds that catch typos ("25 mL/h" for "0.25 mL/h" stays allowed; the
 * device file narrows rates further in plan_validate). */
#define RATE_MAX_ML_PER_H 1000.0
#define VOLUME_MAX_ML 1000.0
#define DURATION_MAX_S (10 * 365.25 * 86400)

/* Keys each step kind accepts on top of step, label, timeout, on_timeout. */
static const char *const *step_keys(enum step_kind kind)
{
	static const char *const prime[] = { "step", "label", "timeout", "on_timeout", "volume",
					     "rate", NULL };
	static const char *const bolus[] = { "step", "label", "timeout", "on_timeout", "volume",
					     "rate", "demand", NULL };
	static const char *const refill[] = { "step", "label", "timeout", "on_timeout", "mass",
					      "mass_uncertainty", NULL };
	static const char *const plain[] = { "step", "label", "timeout", "on_timeout", NULL };
	static const char *const set_rate[] = { "step", "label", "timeout", "on_timeout", "rate",
						NULL };
	static const char *const timed[] = { "step", "label", "timeout", "on_timeout", "duration",
					     NULL };
	static const char *const occlude[] = { "step", "label", "timeout", "on_timeout", "until",
					       "duration", NULL };
	static const char *const mark[] = { "step", "label", "timeout", "on_timeout", "window",
					    "edge", NULL };
	static const char *const check[] = { "step", "label", "timeout", "on_timeout", "check",
					     "window", "requirement", "tolerance", "sample_interval",
					     "observation_windows", "startup_window", "bolus_window",
					     NULL };

	switch (kind) {
	case STEP_PRIME: return prime;
	case STEP_BOLUS: return bolus;
	case STEP_SET_RATE: return set_rate;
	case STEP_HOLD:
	case STEP_RELEASE:
	case STEP_MEASURE_EVAPORATION: return timed;
	case STEP_OCCLUDE: return occlude;
	case STEP_MARK: return mark;
	case STEP_CHECK: return check;
	case STEP_REFILL: return refill;
	case STEP_TARE:
	case STEP_STOP:
	default: return plain;
	}
}

/* Keys that belong to one kind of check only. */
static void only_for(struct cfg_ctx *ctx, config_setting_t *g, const struct step *st,
		     const char *key, enum check_kind kind)
{
	config_setting_t *s = config_setting_get_member(g, key);

	if (s && st->check != kind)
		cfg_error(ctx, s, "'%s' applies only to check = \"%s\"; this is a %s check", key,
			  check_names[kind], check_names[st->check]);
}

static void load_check_options(struct cfg_ctx *ctx, config_setting_t *g, struct step *st)
{
	static const double default_windows_min[] = { 2, 5, 11, 19, 31 };
	config_setting_t *w;

	only_for(ctx, g, st, "sample_interval", CHECK_FLOW_ACCURACY);
	only_for(ctx, g, st, "observation_windows", CHECK_FLOW_ACCURACY);
	only_for(ctx, g, st, "startup_window", CHECK_FLOW_ACCURACY);
	only_for(ctx, g, st, "bolus_window", CHECK_OCCLUSION);
	if (config_setting_get_member(g, "tolerance") && st->check != CHECK_DOSE_ACCURACY &&
	    st->check != CHECK_FLOW_ACCURACY)
		cfg_error(ctx, config_setting_get_member(g, "tolerance"), "'tolerance' applies only "
			  "to dose_accuracy and flow_accuracy checks; the other limits come from the "
			  "device file");

	st->sample_interval_ns = 30 * RIG_NS_PER_S;
	st->bolus_window_ns = 30 * RIG_NS_PER_MIN;
	if (st->check == CHECK_FLOW_ACCURACY) {
		cfg_duration(ctx, g, "sample_interval", false, 1, 86400, &st->sample_interval_ns);
		cfg_ident(ctx, g, "startup_window", false, st->startup_window,
			  sizeof(st->startup_window));
		w = config_setting_get_member(g, "observation_windows");
		if (!w) {
			for (size_t i = 0; i < 5; i++)
				st->obs_window_ns[i] = (rig_ns)default_windows_min[i] * RIG_NS_PER_MIN;
			st->n_obs_windows = 5;
		} else if (config_setting_type(w) != CONFIG_TYPE_ARRAY &&
			   config_setting_type(w) != CONFIG_TYPE_LIST) {
			cfg_error(ctx, w, "'observation_windows' must be a list of durations like "
				  "[\"2 min\", \"5 min\"]");
		} else if (config_setting_length(w) < 1 || config_setting_length(w) > 8) {
			cfg_error(ctx, w, "'observation_windows' has %d entries; allowed 1 to 8",
				  config_setting_length(w));
		} else {
			for (int i = 0; i < config_setting_length(w); i++) {
				config_setting_t *e = config_setting_get_elem(w, (unsigned)i);
				const char *text = config_setting_get_string(e);
				double sec;
				int r = text ? qty_parse(text, QTY_DURATION, &sec) : -EINVAL;

				if (r < 0 || sec <= 0) {
					cfg_error(ctx, e, "observation window %d (\"%s\") is not a "
						  "positive duration with a unit; allowed units: %s", i + 1,
						  text ? text : "not a string", qty_kind_units(QTY_DURATION));
					continue;
				}
				st->obs_window_ns[st->n_obs_windows++] = rig_s_to_ns(sec);
			}
		}
		for (size_t i = 0; i < st->n_obs_windows; i++)
			if (st->sample_interval_ns > 0 && st->obs_window_ns[i] % st->sample_interval_ns)
				cfg_error(ctx, w ? w : g, "observation window %.6g s is not a whole number of "
					  "sample intervals (%.6g s); allowed: multiples of the interval",
					  rig_ns_to_s(st->obs_window_ns[i]),
					  rig_ns_to_s(st->sample_interval_ns));
	}
	if (st->check == CHECK_OCCLUSION)
		cfg_duration(ctx, g, "bolus_window", false, 1, 86400, &st->bolus_window_ns);
}

static void load_step(struct cfg_ctx *ctx, config_setting_t *g, struct step *st,
		      bool *ret_own_timeout)
{
	char what[48], list[256];
	int kind = -1, choice;
	bool own_timeout = false;

	st->line = (int)config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		cfg_error(ctx, g, "each step must be a group { step = \"...\"; ... }");
		*ret_own_timeout = false;
		return;
	}
	{
		config_setting_t *k = config_setting_get_member(g, "step");
		const char *name;

		if (!k) {
			cfg_error(ctx, g, "missing 'step' in this step; say what it does: step = "
				  "\"%s\"", "hold");
			*ret_own_timeout = false;
			return;
		}
		if (config_setting_type(k) != CONFIG_TYPE_STRING) {
			cfg_error(ctx, k, "'step' must be a string; allowed: %s",
				  cfg_join(step_names, list, sizeof(list)));
			*ret_own_timeout = false;
			return;
		}
		name = config_setting_get_string(k);
		for (int i = 0; i < STEP__COUNT; i++)
			if (strcmp(step_names[i], name) == 0)
				kind = i;
		if (kind < 0) {
			cfg_error(ctx, k, "unknown step '%s'; allowed: %s", name,
				  cfg_join(step_names, list, sizeof(list)));
			*ret_own_timeout = false;
			return;
		}
	}
	st->kind = (enum step_kind)kind;
	snprintf(what, sizeof(what), "a %s step", step_names[kind]);
	cfg_check_keys(ctx, g, what, step_keys(st->kind));
	cfg_string(ctx, g, "label", false, st->label, sizeof(st->label));
	cfg_duration(ctx, g, "timeout", false, 1e-3, DURATION_MAX_S, &st->timeout_ns);
	if (cfg_choice(ctx, g, "on_timeout", false, timeout_names, &choice) == 1) {
		st->on_timeout = (enum timeout_action)choice;
		own_timeout = true;
	}

	switch (st->kind) {
	case STEP_PRIME:
	case STEP_BOLUS:
		cfg_qty(ctx, g, "volume", QTY_VOLUME, true, 1e-6, VOLUME_MAX_ML, &st->volume_ml);
		cfg_qty(ctx, g, "rate", QTY_RATE, false, 1e-6, RATE_MAX_ML_PER_H, &st->rate_ml_per_h);
		if (st->kind == STEP_BOLUS &&
		    cfg_choice(ctx, g, "demand", false, demand_names, &choice) == 1)
			st->demand = (enum bolus_demand_kind)choice;
		break;
	case STEP_REFILL:
		cfg_qty(ctx, g, "mass", QTY_MASS, true, 1e-3, 1000, &st->mass_g);
		st->mass_u_g = 0.010;
		cfg_qty(ctx, g, "mass_uncertainty", QTY_MASS, false, 0, 100, &st->mass_u_g);
		break;
	case STEP_SET_RATE:
		cfg_qty(ctx, g, "rate", QTY_RATE, true, 1e-6, RATE_MAX_ML_PER_H, &st->rate_ml_per_h);
		break;
	case STEP_HOLD:
		cfg_duration(ctx, g, "duration", true, 1e-3, DURATION_MAX_S, &st->duration_ns);
		break;
	case STEP_MEASURE_EVAPORATION:
		/* at least a few balance readings: the rate is a fitted slope */
		cfg_duration(ctx, g, "duration", true, 60, DURATION_MAX_S, &st->duration_ns);
		break;
	case STEP_RELEASE:
		cfg_duration(ctx, g, "duration", false, 0, DURATION_MAX_S, &st->duration_ns);
		break;
	case STEP_OCCLUDE:
		st->until = OCCLUDE_UNTIL_ALARM;
		if (cfg_choice(ctx, g, "until", false, until_names, &choice) == 1)
			st->until = (enum occlude_until)choice;
		if (st->until == OCCLUDE_UNTIL_DURATION)
			cfg_duration(ctx, g, "duration", true, 1e-3, DURATION_MAX_S, &st->duration_ns);
		else if (config_setting_get_member(g, "duration"))
			cfg_error(ctx, config_setting_get_member(g, "duration"),
				  "'duration' applies only with until = \"duration\"; an occlusion "
				  "until the alarm is bounded by timeout = \"...\"");
		break;
	case STEP_MARK:
		cfg_ident(ctx, g, "window", true, st->window, sizeof(st->window));
		if (cfg_choice(ctx, g, "edge", true, edge_names, &choice) == 1)
			st->edge = (enum mark_edge)choice;
		break;
	case STEP_CHECK:
		if (cfg_choice(ctx, g, "check", true, check_names, &choice) == 1)
			st->check = (enum check_kind)choice;
		cfg_ident(ctx, g, "window", true, st->window, sizeof(st->window));
		cfg_requirement(ctx, g, "requirement", false, st->requirement, sizeof(st->requirement));
		cfg_qty(ctx, g, "tolerance", QTY_PERCENT, false, 1e-6, 100, &st->tolerance_pct);
		load_check_options(ctx, g, st);
		break;
	case STEP_TARE:
	case STEP_STOP:
	default:
		break;
	}
	*ret_own_timeout = own_timeout;
}

/* protocol = { id = "..."; revision = "..."; standards = ( "...", ... ); } */
static void load_protocol(struct cfg_ctx *ctx, config_setting_t *g, struct sequence *seq)
{
	static const char *const keys[] = { "id", "revision", "standards", NULL };
	config_setting_t *p = cfg_group(ctx, g, "protocol", false), *list;
	int n;

	if (!p)
		return;
	seq->has_protocol = true;
	cfg_check_keys(ctx, p, "protocol", keys);
	cfg_ident(ctx, p, "id", true, seq->protocol_id, sizeof(seq->protocol_id));
	cfg_string(ctx, p, "revision", true, seq->protocol_revision, sizeof(seq->protocol_revision));
	list = config_setting_get_member(p, "standards");
	if (!list) {
		cfg_error(ctx, p, "missing 'standards' in protocol; name the standards whose methods "
			  "the sequence follows: standards = ( \"ISO 14708-4:2022\" );");
		return;
	}
	if (config_setting_type(list) != CONFIG_TYPE_LIST &&
	    config_setting_type(list) != CONFIG_TYPE_ARRAY) {
		cfg_error(ctx, list, "'standards' must be a list of strings like ( \"IEC "
			  "60601-2-24:2012\" )");
		return;
	}
	n = config_setting_length(list);
	if (n < 1 || n > PROTOCOL_STANDARDS_MAX) {
		cfg_error(ctx, list, "'standards' has %d entries; allowed 1 to %d", n,
			  PROTOCOL_STANDARDS_MAX);
		return;
	}
	for (int i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *text = config_setting_get_string(e);

		if (!text || !text[0] || strlen(text) >= sizeof(seq->standards[0])) {
			cfg_error(ctx, e, "standard %d must be a non-empty string of at most %zu "
				  "characters, like \"ISO 14708-4:2022\"", i + 1,
				  sizeof(seq->standards[0]) - 1);
			continue;
		}
		snprintf(seq->standards[seq->n_standards++], sizeof(seq->standards[0]), "%s", text);
	}
}

void seq_free(struct sequence *seq)
{
	if (!seq)
		return;
	free(seq->steps);
	free(seq);
}

int seq_load(const char *path, struct sequence **ret_seq, struct diag_list *diags)
{
	static const char *const keys[] = { "id", "version", "title", "protocol", "on_timeout",
					    "steps", "fluid_temperature", "fluid_temperature_tolerance",
					    NULL };
	struct cfg_ctx ctx = { .path = path, .diags = diags };
	struct sequence *seq;
	config_t cfg;
	config_setting_t *g, *steps;
	bool *own_timeout = NULL;
	int choice, n;

	*ret_seq = NULL;
	seq = calloc(1, sizeof(*seq));
	if (!seq)
		return -ENOMEM;
	snprintf(seq->path, sizeof(seq->path), "%s", path);
	if (cfg_read(&ctx, &cfg) < 0)
		goto fail;
	g = cfg_root_group(&ctx, &cfg, "sequence");
	if (!g)
		goto fail;
	cfg_check_keys(&ctx, g, "sequence", keys);
	cfg_ident(&ctx, g, "id", true, seq->id, sizeof(seq->id));
	cfg_string(&ctx, g, "version", true, seq->version, sizeof(seq->version));
	cfg_string(&ctx, g, "title", true, seq->title, sizeof(seq->title));
	load_protocol(&ctx, g, seq);
	seq->fluid_temperature_c = NAN;
	seq->fluid_temperature_tol_k = 1;
	if (cfg_qty(&ctx, g, "fluid_temperature", QTY_TEMPERATURE, false, 0, 100,
		    &seq->fluid_temperature_c) == 1)
		seq->fluid_temperature_line =
			(int)config_setting_source_line(config_setting_get_member(g, "fluid_temperature"));
	if (cfg_qty(&ctx, g, "fluid_temperature_tolerance", QTY_TEMPERATURE_DIFF, false, 0.01, 20,
		    &seq->fluid_temperature_tol_k) == 1 && isnan(seq->fluid_temperature_c))
		cfg_error(&ctx, config_setting_get_member(g, "fluid_temperature_tolerance"),
			  "'fluid_temperature_tolerance' without fluid_temperature; give the "
			  "temperature the test is made at, like fluid_temperature = \"37 degC\"");
	seq->on_timeout = TIMEOUT_ABORT;
	if (cfg_choice(&ctx, g, "on_timeout", false, timeout_names, &choice) == 1)
		seq->on_timeout = (enum timeout_action)choice;

	steps = config_setting_get_member(g, "steps");
	if (!steps) {
		cfg_error(&ctx, g, "missing 'steps' in sequence; give a list: steps = ( { step = "
			  "\"hold\"; duration = \"1 h\"; }, ... );");
		goto fail;
	}
	if (config_setting_type(steps) != CONFIG_TYPE_LIST) {
		cfg_error(&ctx, steps, "'steps' must be a list ( { ... }, { ... } ) of step groups");
		goto fail;
	}
	n = config_setting_length(steps);
	if (n == 0) {
		cfg_error(&ctx, steps, "'steps' is empty; a sequence needs at least one step");
		goto fail;
	}
	seq->steps = calloc((size_t)n, sizeof(*seq->steps));
	own_timeout = calloc((size_t)n, sizeof(*own_timeout));
	if (!seq->steps || !own_timeout) {
		free(own_timeout);
		config_destroy(&cfg);
		seq_free(seq);
		return -ENOMEM;
	}
	seq->n_steps = (size_t)n;
	for (int i = 0; i < n; i++)
		load_step(&ctx, config_setting_get_elem(steps, (unsigned)i), &seq->steps[i],
			  &own_timeout[i]);
	for (int i = 0; i < n; i++)
		if (!own_timeout[i])
			seq->steps[i].on_timeout = seq->on_timeout;
	if (ctx.errors)
		goto fail;
	free(own_timeout);
	config_destroy(&cfg);
	*ret_seq = seq;
	return 0;
fail:
	free(own_timeout);
	config_destroy(&cfg);
	seq_free(seq);
	return -EINVAL;
}

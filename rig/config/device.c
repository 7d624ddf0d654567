/* Device-under-test files: see config.h and docs/file-formats.md. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define YEAR_S (365.25 * 86400)

void device_free(struct device *dev)
{
	free(dev);
}

const struct decision_rule *device_rule_for(const struct device *dev, enum check_kind kind)
{
	switch (kind) {
	case CHECK_FLOW_ACCURACY: return dev->has_flow ? &dev->flow_rule : &dev->accuracy_rule;
	case CHECK_OCCLUSION: return &dev->occlusion_rule;
	case CHECK_BATTERY: return &dev->battery_rule;
	case CHECK_BOLUS_ACCURACY: return &dev->bolus_rule;
	case CHECK_RESERVOIR: return &dev->refill_rule;
	case CHECK_DOSE_ACCURACY:
	default: return &dev->accuracy_rule;
	}
}

/* decision_rule = "simple" (default) | "guarded"; guard_band = "U" or
 * "<r> U", 0 < r <= 3 (default "U"), only with "guarded": ILAC-G8:09/2019's
 * simple acceptance, or guarded acceptance with w = r * U. */
static void load_rule(struct cfg_ctx *ctx, config_setting_t *g, const char *group,
		      struct decision_rule *rule)
{
	static const char *const names[] = { "simple", "guarded", NULL };
	config_setting_t *gb = config_setting_get_member(g, "guard_band");
	int choice;

	*rule = (struct decision_rule){ .kind = DECISION_SIMPLE };
	snprintf(rule->key, sizeof(rule->key), "device %s.decision_rule", group);
	if (cfg_choice(ctx, g, "decision_rule", false, names, &choice) == 1) {
		rule->kind = (enum decision_kind)choice;
		rule->stated = true;
	}
	if (rule->kind == DECISION_GUARDED)
		rule->guard_factor = 1;
	if (!gb)
		return;
	if (rule->kind != DECISION_GUARDED) {
		cfg_error(ctx, gb, "'guard_band' applies only with decision_rule = \"guarded\"; "
			  "simple acceptance has none");
		return;
	}
	/* "U" alone is one U */
	if (config_setting_type(gb) == CONFIG_TYPE_STRING &&
	    strcmp(config_setting_get_string(gb), "U") == 0)
		return;
	cfg_qty(ctx, g, "guard_band", QTY_U_MULTIPLE, false, 1e-3, 3, &rule->guard_factor);
}

/* One requirement, one criterion: two criteria of the device may not name
 * the same requirement id (a reader of the results would not know which
 * one a verdict on it answered). */
static void distinct_requirements(struct cfg_ctx *ctx, config_setting_t *g,
				  const struct device *d)
{
	const struct {
		const char *group, *key, *id;
		bool given;
	} reqs[] = {
		{ "accuracy", "requirement", d->accuracy_requirement, true },
		{ "flow_accuracy", "requirement", d->flow_requirement, d->has_flow },
		{ "flow_accuracy", "ep_max_requirement", d->ep_max_requirement, d->has_ep_max },
		{ "flow_accuracy", "ep_min_requirement", d->ep_min_requirement, d->has_ep_min },
		{ "occlusion", "requirement", d->occlusion_requirement, true },
		{ "battery", "requirement", d->battery_requirement, true },
		{ "bolus", "requirement", d->bolus_requirement, d->bolus_tolerance_pct > 0 },
		{ "bolus", "lockout_requirement", d->lockout_requirement, d->bolus_lockout_ns > 0 },
		{ "refill", "requirement", d->refill_requirement, d->has_refill },
		{ "refill", "alarm_requirement", d->alarm_requirement, d->has_refill },
	};
	size_t n = sizeof(reqs) / sizeof(reqs[0]);

	for (size_t i = 0; i < n; i++) {
		if (!reqs[i].given || !reqs[i].id[0])
			continue;
		for (size_t k = 0; k < i; k++) {
			config_setting_t *grp, *at;

			/* ids that differ only in case are one id mistyped */
			if (!reqs[k].given || strcasecmp(reqs[k].id, reqs[i].id) != 0)
				continue;
			grp = config_setting_get_member(g, reqs[i].group);
			at = grp ? config_setting_get_member(grp, reqs[i].key) : NULL;
			cfg_error(ctx, at ? at : g, "%s.%s = \"%s\" is also %s.%s%s: each requirement "
				  "has one criterion; give this one its own id", reqs[i].group,
				  reqs[i].key, reqs[i].id, reqs[k].group, reqs[k].key,
				  strcmp(reqs[k].id, reqs[i].id) ? " (ids that differ only in case are "
				  "one id)" : "");
			break;
		}
	}
}

/* flow_accuracy = { tolerance; requirement; ep_max; ep_max_requirement;
 * ep_min; ep_min_requirement; decision_rule; guard_band; } */
static void load_flow(struct cfg_ctx *ctx, config_setting_t *sub, struct device *d)
{
	static const char *const keys[] = { "tolerance", "requirement", "ep_max",
		"ep_max_requirement", "ep_min", "ep_min_requirement", "decision_rule",
		"guard_band", NULL };
	int hi, lo;

	d->has_flow = true;
	cfg_check_keys(ctx, sub, "flow_accuracy", keys);
	cfg_qty(ctx, sub, "tolerance", QTY_PERCENT, true, 1e-6, 100, &d->flow_tolerance_pct);
	cfg_requirement(ctx, sub, "requirement", true, d->flow_requirement, sizeof(d->flow_requirement));
	hi = cfg_qty(ctx, sub, "ep_max", QTY_PERCENT, false, -100, 1000, &d->ep_max_pct);
	lo = cfg_qty(ctx, sub, "ep_min", QTY_PERCENT, false, -100, 1000, &d->ep_min_pct);
	d->has_ep_max = hi == 1;
	d->has_ep_min = lo == 1;
	/* each limit with its own requirement, and none without its limit */
	cfg_requirement(ctx, sub, "ep_max_requirement", hi != 0, d->ep_max_requirement,
		   sizeof(d->ep_max_requirement));
	cfg_requirement(ctx, sub, "ep_min_requirement", lo != 0, d->ep_min_requirement,
		   sizeof(d->ep_min_requirement));
	if (hi == 0 && config_setting_get_member(sub, "ep_max_requirement"))
		cfg_error(ctx, config_setting_get_member(sub, "ep_max_requirement"),
			  "'ep_max_requirement' without 'ep_max': give the limit it judges");
	if (lo == 0 && config_setting_get_member(sub, "ep_min_requirement"))
		cfg_error(ctx, config_setting_get_member(sub, "ep_min_requirement"),
			  "'ep_min_requirement' without 'ep_min': give the limit it judges");
	if (hi == 1 && lo == 1 && d->ep_min_pct > d->ep_max_pct)
		cfg_error(ctx, config_setting_get_member(sub, "ep_min"),
			  "'ep_min' = %g %% is out of range; it must not be above 'ep_max' (%g %%)",
			  d->ep_min_pct, d->ep_max_pct);
	load_rule(ctx, sub, "flow_accuracy", &d->flow_rule);
}

/* A criterion and its requirement id come together: one given without the
 * other is an error at the one given, saying what to add. */
static void paired_with_requirement(struct cfg_ctx *ctx, config_setting_t *g, const char *key,
				    const char *req_key, const char *example, const char *criterion)
{
	config_setting_t *k = config_setting_get_member(g, key);
	config_setting_t *r = config_setting_get_member(g, req_key);

	if (k && !r)
		cfg_error(ctx, k, "'%s' is given without '%s': it states a criterion (%s), which "
			  "answers a requirement; add %s = \"<its id>\"", key, req_key, criterion,
			  req_key);
	else if (r && !k)
		cfg_error(ctx, r, "'%s' is given without '%s', the criterion it would judge (%s); "
			  "add %s = \"%s\" or remove '%s'", req_key, key, criterion, key, example,
			  req_key);
}

/* A serial or firmware is compared, character for character, with what
 * the pump reports: one that is blank, or has blanks at its ends or a tab
 * in it, could only ever match a pump that says so. */
static void identity_text(struct cfg_ctx *ctx, const config_setting_t *g, const char *key,
			  const char *v)
{
	const config_setting_t *m = config_setting_get_member(g, key);
	size_t n = strlen(v);

	/* an empty firmware is a missing one: judge_job says so, once */
	if (!m || config_setting_type(m) != CONFIG_TYPE_STRING || (!n && !strcmp(key, "firmware")))
		return;
	if (!n || isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1]) ||
	    strchr(v, '\t'))
		cfg_error(ctx, m, "'%s' = \"%s\" is not an identity a pump reports: it is blank, "
			  "or has a blank at its start or end or a tab in it; allowed: the text the "
			  "pump reports, such as \"1.0.0\"", key, v);
}

int device_load(const char *path, struct device **ret_dev, struct diag_list *diags)
{
	static const char *const keys[] = { "model", "manufacturer", "serial", "firmware",
		"reservoir", "rate", "bolus", "accuracy", "flow_accuracy", "occlusion", "battery",
		"stroke_volume", "refill", NULL };
	static const char *const refill_keys[] = { "low_alarm", "alarm_tolerance",
						   "reading_tolerance", "requirement",
						   "alarm_requirement", "decision_rule", "guard_band",
						   NULL };
	static const char *const rate_keys[] = { "min", "max", NULL };
	static const char *const bolus_keys[] = { "max", "rate", "tolerance", "requirement",
						  "lockout", "lockout_requirement",
						  "decision_rule", "guard_band", NULL };
	static const char *const acc_keys[] = { "tolerance", "requirement", "decision_rule",
						"guard_band", NULL };
	static const char *const occ_keys[] = { "alarm_pressure_max", "alarm_time_max",
						"bolus_max", "requirement", "decision_rule",
						"guard_band", NULL };
	static const char *const bat_keys[] = { "capacity", "longevity_min", "longevity_max",
						"requirement", "reference_rate",
						"replacement_reserve", "decision_rule",
						"guard_band", NULL };
	struct cfg_ctx ctx = { .path = path, .diags = diags };
	struct device *d;
	config_t cfg;
	config_setting_t *g, *sub;

	*ret_dev = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	snprintf(d->path, sizeof(d->path), "%s", path);
	if (cfg_read(&ctx, &cfg) < 0)
		goto fail;
	g = cfg_root_group(&ctx, &cfg, "device");
	if (!g)
		goto fail;
	cfg_check_keys(&ctx, g, "device", keys);
	d->line = (int)config_setting_source_line(g);
	cfg_string(&ctx, g, "model", true, d->model, sizeof(d->model));
	cfg_string(&ctx, g, "manufacturer", false, d->manufacturer, sizeof(d->manufacturer));
	cfg_string(&ctx, g, "serial", true, d->serial, sizeof(d->serial));
	cfg_string(&ctx, g, "firmware", false, d->firmware, sizeof(d->firmware));
	identity_text(&ctx, g, "serial", d->serial);
	identity_text(&ctx, g, "firmware", d->firmware);
	/* the pump's own answer is compared with these: say where they are */
	if (config_setting_get_member(g, "serial"))
		d->serial_line = (int)config_setting_source_line(config_setting_get_member(g, "serial"));
	if (config_setting_get_member(g, "firmware"))
		d->firmware_line = (int)config_setting_source_line(config_setting_get_member(g, "firmware"));
	cfg_qty(&ctx, g, "reservoir", QTY_VOLUME, true, 1e-3, 1000, &d->reservoir_ml);
	cfg_qty(&ctx, g, "stroke_volume", QTY_VOLUME, false, 1e-9, 1, &d->stroke_volume_ml);

	if ((sub = cfg_group(&ctx, g, "rate", true))) {
		cfg_check_keys(&ctx, sub, "rate", rate_keys);
		int lo = cfg_qty(&ctx, sub, "min", QTY_RATE, true, 1e-6, 1000, &d->rate_min_ml_per_h);
		int hi = cfg_qty(&ctx, sub, "max", QTY_RATE, true, 1e-6, 1000, &d->rate_max_ml_per_h);

		if (lo == 1 && hi == 1 && d->rate_min_ml_per_h >= d->rate_max_ml_per_h)
			cfg_error(&ctx, config_setting_get_member(sub, "max"),
				  "'max' = %g mL/h is out of range; it must be above 'min' (%g mL/h)",
				  d->rate_max_ml_per_h, d->rate_min_ml_per_h);
	}
	if ((sub = cfg_group(&ctx, g, "bolus", true))) {
		cfg_check_keys(&ctx, sub, "bolus", bolus_keys);
		cfg_qty(&ctx, sub, "max", QTY_VOLUME, true, 1e-6, 1000, &d->bolus_max_ml);
		cfg_qty(&ctx, sub, "rate", QTY_RATE, true, 1e-6, 1000, &d->bolus_rate_ml_per_h);
		/* the accuracy of each bolus, and the patient's lockout: each a
		 * criterion, so each with its requirement */
		paired_with_requirement(&ctx, sub, "tolerance", "requirement", "5 %",
					"each bolus within +-tolerance of its volume");
		paired_with_requirement(&ctx, sub, "lockout", "lockout_requirement", "1 h",
					"a patient's bolus within the lockout refused");
		cfg_qty(&ctx, sub, "tolerance", QTY_PERCENT, false, 1e-6, 100, &d->bolus_tolerance_pct);
		cfg_requirement(&ctx, sub, "requirement", false, d->bolus_requirement,
				sizeof(d->bolus_requirement));
		cfg_duration(&ctx, sub, "lockout", false, 1, 7 * 86400, &d->bolus_lockout_ns);
		cfg_requirement(&ctx, sub, "lockout_requirement", false, d->lockout_requirement,
				sizeof(d->lockout_requirement));
		load_rule(&ctx, sub, "bolus", &d->bolus_rule);
	}
	if ((sub = cfg_group(&ctx, g, "accuracy", true))) {
		cfg_check_keys(&ctx, sub, "accuracy", acc_keys);
		cfg_qty(&ctx, sub, "tolerance", QTY_PERCENT, true, 1e-6, 100,
			&d->accuracy_tolerance_pct);
		cfg_requirement(&ctx, sub, "requirement", true, d->accuracy_requirement,
			   sizeof(d->accuracy_requirement));
		load_rule(&ctx, sub, "accuracy", &d->accuracy_rule);
	}
	if ((sub = cfg_group(&ctx, g, "flow_accuracy", false)))
		load_flow(&ctx, sub, d);
	if ((sub = cfg_group(&ctx, g, "occlusion", true))) {
		cfg_check_keys(&ctx, sub, "occlusion", occ_keys);
		cfg_qty(&ctx, sub, "alarm_pressure_max", QTY_PRESSURE, true, 0.001, 10000,
			&d->occlusion_pressure_max_kpa);
		cfg_duration(&ctx, sub, "alarm_time_max", true, 1e-3, 30 * 86400,
			     &d->occlusion_time_max_ns);
		cfg_qty(&ctx, sub, "bolus_max", QTY_VOLUME, true, 0, 1000, &d->occlusion_bolus_max_ml);
		cfg_requirement(&ctx, sub, "requirement", true, d->occlusion_requirement,
			   sizeof(d->occlusion_requirement));
		load_rule(&ctx, sub, "occlusion", &d->occlusion_rule);
	}
	if ((sub = cfg_group(&ctx, g, "battery", true))) {
		cfg_check_keys(&ctx, sub, "battery", bat_keys);
		int lo, hi;

		cfg_qty(&ctx, sub, "capacity", QTY_CHARGE, true, 1e-3, 1e6, &d->battery_capacity_mah);
		lo = cfg_duration(&ctx, sub, "longevity_min", true, 86400, 50 * YEAR_S,
				  &d->longevity_min_ns);
		hi = cfg_duration(&ctx, sub, "longevity_max", true, 86400, 50 * YEAR_S,
				  &d->longevity_max_ns);
		if (lo == 1 && hi == 1 && d->longevity_max_ns < d->longevity_min_ns)
			cfg_error(&ctx, config_setting_get_member(sub, "longevity_max"),
				  "'longevity_max' is out of range; it must not be below "
				  "'longevity_min'");
		cfg_requirement(&ctx, sub, "requirement", true, d->battery_requirement,
			   sizeof(d->battery_requirement));
		cfg_qty(&ctx, sub, "reference_rate", QTY_RATE, true, 1e-6, 1000,
			&d->reference_rate_ml_per_h);
		d->replacement_reserve_ns = 90 * RIG_NS_PER_DAY;
		cfg_duration(&ctx, sub, "replacement_reserve", false, 0, 5 * 365.25 * 86400,
			     &d->replacement_reserve_ns);
		load_rule(&ctx, sub, "battery", &d->battery_rule);
	}
	if ((sub = cfg_group(&ctx, g, "refill", false))) {
		/* the reservoir check's criteria: the pump's reading, and its
		 * low and empty alarms, each with its requirement */
		cfg_check_keys(&ctx, sub, "refill", refill_keys);
		d->has_refill = true;
		cfg_qty(&ctx, sub, "low_alarm", QTY_VOLUME, true, 1e-3, 1000, &d->low_alarm_ml);
		cfg_qty(&ctx, sub, "alarm_tolerance", QTY_VOLUME, true, 1e-6, 1000,
			&d->alarm_tolerance_ml);
		cfg_qty(&ctx, sub, "reading_tolerance", QTY_VOLUME, true, 1e-6, 1000,
			&d->reading_tolerance_ml);
		cfg_requirement(&ctx, sub, "requirement", true, d->refill_requirement,
				sizeof(d->refill_requirement));
		cfg_requirement(&ctx, sub, "alarm_requirement", true, d->alarm_requirement,
				sizeof(d->alarm_requirement));
		load_rule(&ctx, sub, "refill", &d->refill_rule);
		if (d->low_alarm_ml > d->reservoir_ml && d->reservoir_ml > 0)
			cfg_error(&ctx, config_setting_get_member(sub, "low_alarm"),
				  "'low_alarm' = %g mL is out of range; it must not be above the "
				  "reservoir (%g mL)", d->low_alarm_ml, d->reservoir_ml);
	}
	distinct_requirements(&ctx, g, d);
	if (ctx.errors)
		goto fail;
	config_destroy(&cfg);
	*ret_dev = d;
	return 0;
fail:
	config_destroy(&cfg);
	device_free(d);
	return -EINVAL;
}

/* Device-under-test files: see config.h and docs/file-formats.md. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

#define YEAR_S (365.25 * 86400)

void device_free(struct device *dev)
{
	free(dev);
}

int device_load(const char *path, struct device **ret_dev, struct diag_list *diags)
{
	static const char *const keys[] = { "model", "manufacturer", "serial", "firmware",
		"reservoir", "rate", "bolus", "accuracy", "occlusion", "battery", "stroke_volume",
		NULL };
	static const char *const rate_keys[] = { "min", "max", NULL };
	static const char *const bolus_keys[] = { "max", "rate", NULL };
	static const char *const acc_keys[] = { "tolerance", "requirement", NULL };
	static const char *const occ_keys[] = { "alarm_pressure_max", "alarm_time_max",
						"bolus_max", "requirement", NULL };
	static const char *const bat_keys[] = { "capacity", "longevity_min", "longevity_max",
						"requirement", "reference_rate",
						"replacement_reserve", NULL };
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
	cfg_string(&ctx, g, "model", true, d->model, sizeof(d->model));
	cfg_string(&ctx, g, "manufacturer", false, d->manufacturer, sizeof(d->manufacturer));
	cfg_string(&ctx, g, "serial", true, d->serial, sizeof(d->serial));
	cfg_string(&ctx, g, "firmware", false, d->firmware, sizeof(d->firmware));
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
	}
	if ((sub = cfg_group(&ctx, g, "accuracy", true))) {
		cfg_check_keys(&ctx, sub, "accuracy", acc_keys);
		cfg_qty(&ctx, sub, "tolerance", QTY_PERCENT, true, 1e-6, 100,
			&d->accuracy_tolerance_pct);
		cfg_string(&ctx, sub, "requirement", true, d->accuracy_requirement,
			   sizeof(d->accuracy_requirement));
	}
	if ((sub = cfg_group(&ctx, g, "occlusion", true))) {
		cfg_check_keys(&ctx, sub, "occlusion", occ_keys);
		cfg_qty(&ctx, sub, "alarm_pressure_max", QTY_PRESSURE, true, 0.001, 10000,
			&d->occlusion_pressure_max_kpa);
		cfg_duration(&ctx, sub, "alarm_time_max", true, 1e-3, 30 * 86400,
			     &d->occlusion_time_max_ns);
		cfg_qty(&ctx, sub, "bolus_max", QTY_VOLUME, true, 0, 1000, &d->occlusion_bolus_max_ml);
		cfg_string(&ctx, sub, "requirement", true, d->occlusion_requirement,
			   sizeof(d->occlusion_requirement));
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
		cfg_string(&ctx, sub, "requirement", true, d->battery_requirement,
			   sizeof(d->battery_requirement));
		cfg_qty(&ctx, sub, "reference_rate", QTY_RATE, true, 1e-6, 1000,
			&d->reference_rate_ml_per_h);
		d->replacement_reserve_ns = 90 * RIG_NS_PER_DAY;
		cfg_duration(&ctx, sub, "replacement_reserve", false, 0, 5 * 365.25 * 86400,
			     &d->replacement_reserve_ns);
	}
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

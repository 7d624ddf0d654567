/* The names the judge gives its checks, measurements and deviations, in the
 * words a reader of the report uses: "time to the occlusion alarm", not
 * time_to_alarm.  results.json keeps the names (machines key on them) and
 * gives these words beside them. */
#include "results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name, *words;
} measurement_names[] = {
	{ "dose_error", "dose error" },
	{ "delivered", "volume delivered" },
	{ "programmed", "volume programmed" },
	{ "balance_noise", "balance reading noise (1 σ)" },
	{ "flow_sensor_minus_balance", "flow sensor minus balance" },
	{ "A", "mean flow error A" },
	{ "mean_rate", "mean flow rate" },
	{ "startup_mean_error", "mean flow error over the start-up window" },
	{ "pressure_baseline", "line pressure baseline" },
	{ "peak_pressure", "peak line pressure" },
	{ "time_to_alarm", "time to the occlusion alarm" },
	{ "pressure_at_alarm", "line pressure at the alarm" },
	{ "released_bolus", "bolus released after the occlusion" },
	{ "mean_current_idle", "mean current, idle" },
	{ "mean_current_bolus", "mean current, delivering a bolus" },
	{ "charge_drawn", "charge drawn over the window" },
	{ "charge_per_ml", "charge per mL delivered" },
	{ "charge_per_day", "charge per day at the reference rate" },
	{ "years_to_replacement", "years to the replacement indicator" },
	{ "years_to_depletion", "years to depletion" },
	{ "replacement_indicator_at", "replacement indicator raised (run time)" },
	{ "reading_error_after_refill", "pump's reservoir reading less the account, after the refill" },
	{ "reading_error_worst", "pump's reservoir reading less the account, the farthest" },
	{ "low_alarm_volume_error", "left at the low-reservoir alarm, less its threshold" },
	{ "low_alarm_after_refill", "low-reservoir alarm after the refill" },
	{ "empty_alarm_volume", "left at the empty alarm" },
	{ "delivery_before_empty_error", "delivery in the hour before the empty alarm" },
	{ "delivered_after_empty", "delivered after the empty alarm" },
	{ "empty_alarm_seen", "empty alarms seen" },
	{ "low_alarm_seen", "low-reservoir alarms seen" },
	{ "refill_interval_days", "days between refills, full reservoir, this rate" },
};

/* "12.5" from "12.5min" when it ends in suffix. */
static bool number_before(const char *s, const char *suffix, char *buf, size_t len)
{
	size_t n = strlen(s), k = strlen(suffix);

	if (n <= k || strcmp(s + n - k, suffix) != 0 || n - k >= len)
		return false;
	memcpy(buf, s, n - k);
	buf[n - k] = '\0';
	return true;
}

void measurement_words(const char *name, char *buf, size_t len)
{
	char num[32];
	size_t i;

	for (i = 0; i < sizeof(measurement_names) / sizeof(measurement_names[0]); i++)
		if (strcmp(name, measurement_names[i].name) == 0) {
			snprintf(buf, len, "%s", measurement_names[i].words);
			return;
		}
	if (!strncmp(name, "Ep_max_", 7) && number_before(name + 7, "min", num, sizeof(num))) {
		snprintf(buf, len, "Ep(max), P = %s min", num);
		return;
	}
	if (!strncmp(name, "Ep_min_", 7) && number_before(name + 7, "min", num, sizeof(num))) {
		snprintf(buf, len, "Ep(min), P = %s min", num);
		return;
	}
	if (!strncmp(name, "mean_current_at_", 16) &&
	    number_before(name + 16, "mL_per_h", num, sizeof(num))) {
		snprintf(buf, len, "mean current, basal %s mL/h", num);
		return;
	}
	/* a name of a later check: its words are its parts */
	snprintf(buf, len, "%s", name);
	for (char *c = buf; *c; c++)
		if (*c == '_')
			*c = ' ';
}

const char *check_words(const char *check)
{
	static const struct {
		const char *name, *words;
	} names[] = {
		{ "dose_accuracy", "dose accuracy" },
		{ "flow_accuracy", "flow accuracy" },
		{ "occlusion", "occlusion alarm" },
		{ "battery", "battery longevity" },
		{ "bolus_accuracy", "bolus accuracy" },
		{ "reservoir", "reservoir and refill" },
		{ "step_timeout", "step timeout" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(check, names[i].name) == 0)
			return names[i].words;
	return check;
}

const char *deviation_words(const char *kind)
{
	static const struct {
		const char *name, *words;
	} names[] = {
		{ "retry", "run again (retry)" },
		{ "calibration_expired", "calibration expired" },
		{ "operator_note", "operator note" },
		{ "fault", "fault" },
		{ "run_aborted", "run aborted" },
		{ "instrument_fault", "instrument lost" },
		{ "instrument_recovered", "instrument reconnected" },
		{ "step_timeout", "step timed out" },
		{ "overrun", "sampling overrun" },
		{ "negative_mass_step", "balance disturbed" },
		{ "flow_crosscheck", "flow sensor disagrees" },
		{ "instrument_gap", "instrument gap" },
		{ "resume_gap", "resumed after a gap" },
		{ "instrument_event", "instrument events" },
		{ "damaged_record", "damaged record" },
		{ "condition_out_of_range", "conditions out of range" },
		{ "condition_not_measured", "condition not measured" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(kind, names[i].name) == 0)
			return names[i].words;
	return kind;
}

/* The iio backend against Debian's real iiod (0.24), serving a fake
 * kernel-shaped sysfs tree (tests/iiod/fake-sysfs: hx711, ina226, an
 * ADS1115, a BME280, a MAX31865 and an hrtimer trigger, as the Linux 6.1
 * drivers name them) in a
 * private mount and network namespace.  The wire simulator is our own
 * imitation of iiod, so it cannot show where it differs from the real one:
 * these tests can, for everything but buffers (which need /dev/iio:deviceN:
 * every buffer open fails here, which is how the failure paths of a
 * buffered open are tested).
 *
 * They need root (unshare -m -n, a mount on /sys/bus), as CI has.  Where
 * that is not permitted they fail and say why: never skip. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drivers/driver.h"
#include "helpers.h"
#include "iiod_real.h"
#include "rig/base/clock.h"

/* -------------------------------------------------------------- tests -- */

Test(real_iiod, every_role_reads_the_value_the_kernel_abi_gives, .timeout = 60)
{
	struct real r = start_real();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	struct instrument *scale, *pressure, *flow, *power;

	/* value = raw * scale, the scale as the driver prints it: hx711
	 * 0.000002327 mV (AVDD 5 V, gain 128), ADS1115 0.1875 mV (+-6.144 V),
	 * ina226 0.0001 mA (25 ohm shunt) and 1.25 mV; the calibration is
	 * left at gain 1, so the role's value is the channel's mV (mA as uA) */
	sysfs_set(&r, "iio:device0/in_voltage0_raw", "8389608");
	sysfs_set(&r, "iio:device2/in_voltage0_raw", "-1234");
	sysfs_set(&r, "iio:device2/in_voltage0-voltage1_raw", "-32768");
	sysfs_set(&r, "iio:device1/in_current3_raw", "-400");
	sysfs_set(&r, "iio:device1/in_voltage1_raw", "2560");
	iio_cfg(b, &r, ROLE_SCALE, "hx711", "voltage0");
	iio_cfg(b, &r, ROLE_PRESSURE, "ads1015", "voltage0");
	iio_cfg(b, &r, ROLE_FLOW, "ads1015", "voltage0-voltage1");
	iio_cfg(b, &r, ROLE_POWER, "ina226", "current3");
	scale = open_ok(&env, ROLE_SCALE);
	pressure = open_ok(&env, ROLE_PRESSURE);
	flow = open_ok(&env, ROLE_FLOW);
	power = open_ok(&env, ROLE_POWER);

	cr_assert(fabs(read_one(scale, 0) - 19.522617816) < 1e-9, "%.9f", read_one(scale, 0));
	cr_assert(fabs(read_one(pressure, 0) - -231.375) < 1e-9, "%.9f", read_one(pressure, 0));
	cr_assert(fabs(read_one(flow, 0) - -6144.0) < 1e-9, "%.9f", read_one(flow, 0));
	/* the current flowing back: the driver prints the register signed */
	cr_assert(fabs(read_one(power, 0) - -40.0) < 1e-9, "%.9f uA", read_one(power, 0));
	cr_assert(fabs(read_one(power, 1) - 3.2) < 1e-12, "%.9f V", read_one(power, 1));

	/* each read is a fresh read of the file */
	sysfs_set(&r, "iio:device0/in_voltage0_raw", "8387608");
	sysfs_set(&r, "iio:device2/in_voltage0_raw", "32767");
	sysfs_set(&r, "iio:device1/in_current3_raw", "32767");
	cr_assert(fabs(read_one(scale, 0) - 19.517963816) < 1e-9, "%.9f", read_one(scale, 0));
	cr_assert(fabs(read_one(pressure, 0) - 6143.8125) < 1e-9, "%.9f", read_one(pressure, 0));
	cr_assert(fabs(read_one(power, 0) - 3276.7) < 1e-9, "%.9f uA", read_one(power, 0));

	/* and the calibration of the bench file maps it: the pressure
	 * transducer's 10 mV/kPa above 500 mV */
	b->instrument[ROLE_PRESSURE].cal = (struct calibration){ .gain = 0.1, .offset = -50 };
	sysfs_set(&r, "iio:device2/in_voltage0_raw", "-1234");
	cr_assert(fabs(read_one(pressure, 0) - -73.1375) < 1e-9, "%.9f kPa", read_one(pressure, 0));

	instrument_close(scale);
	instrument_close(pressure);
	instrument_close(flow);
	instrument_close(power);
	stop_real(&r);
	rig_clock_free(env.clock);
	free(b);
}

/* The reading's value, checked to be the role's primary quantity. */
static double read_condition(struct instrument *inst, enum rig_role role)
{
	struct reading rd[READINGS_MAX];
	size_t n = 0;

	cr_assert_eq(sensor_read(inst, rd, READINGS_MAX, &n), 0, "%s", rig_role_name(role));
	cr_assert_eq(n, 1);
	cr_assert_eq(rd[0].quantity, role_primary_quantity(role), "%s: %s", rig_role_name(role),
		     quantity_name(rd[0].quantity));
	return rd[0].value;
}

Test(real_iiod, the_conditions_read_the_bme280s_processed_values_and_the_max31865s_raw_x_scale,
     .timeout = 60)
{
	struct real r = start_real();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	struct instrument *air_t, *hum, *air_p, *fluid_t;

	/* the bmp280 driver's BME280: in_temp_input m°C, in_humidityrelative_
	 * input milli-percent, in_pressure_input kPa; the max31865 driver:
	 * in_temp_raw x in_temp_scale (31.250000 m°C) and no offset */
	iio_cfg(b, &r, ROLE_AIR_TEMP, "bme280", "temp");
	iio_cfg(b, &r, ROLE_HUMIDITY, "bme280", "humidityrelative");
	iio_cfg(b, &r, ROLE_AIR_PRESSURE, "bme280", "pressure");
	iio_cfg(b, &r, ROLE_FLUID_TEMP, "max31865", "temp");
	air_t = open_ok(&env, ROLE_AIR_TEMP);
	hum = open_ok(&env, ROLE_HUMIDITY);
	air_p = open_ok(&env, ROLE_AIR_PRESSURE);
	fluid_t = open_ok(&env, ROLE_FLUID_TEMP);

	cr_assert(fabs(read_condition(air_t, ROLE_AIR_TEMP) - 21.37) < 1e-9);
	cr_assert(fabs(read_condition(hum, ROLE_HUMIDITY) - 45.263) < 1e-9);
	cr_assert(fabs(read_condition(air_p, ROLE_AIR_PRESSURE) - 100.98125) < 1e-9);
	/* the RTD converter's count / 32 in degC: 8831 (a PT100 at about
	 * 20 degC on a 400 ohm reference) x 31.25 m°C, not the temperature */
	cr_assert(fabs(read_condition(fluid_t, ROLE_FLUID_TEMP) - 275.96875) < 1e-9);

	/* each read is a fresh read of the file */
	sysfs_set(&r, "iio:device5/in_temp_input", "-5230");
	sysfs_set(&r, "iio:device5/in_humidityrelative_input", "100000");
	sysfs_set(&r, "iio:device5/in_pressure_input", "30.000003906");
	sysfs_set(&r, "iio:device6/in_temp_raw", "8192");
	cr_assert(fabs(read_condition(air_t, ROLE_AIR_TEMP) - -5.23) < 1e-9);
	cr_assert(fabs(read_condition(hum, ROLE_HUMIDITY) - 100) < 1e-9);
	cr_assert(fabs(read_condition(air_p, ROLE_AIR_PRESSURE) - 30.000003906) < 1e-12);
	cr_assert(fabs(read_condition(fluid_t, ROLE_FLUID_TEMP) - 256) < 1e-9);

	/* the bench's calibration maps the count: the datasheet's line, -256 K
	 * (a temperature's offset is a difference), gives 0 degC at R0 */
	b->instrument[ROLE_FLUID_TEMP].cal = (struct calibration){ .gain = 1, .offset = -256 };
	cr_assert(fabs(read_condition(fluid_t, ROLE_FLUID_TEMP)) < 1e-9);

	instrument_close(air_t);
	instrument_close(hum);
	instrument_close(air_p);
	instrument_close(fluid_t);
	stop_real(&r);
	rig_clock_free(env.clock);
	free(b);
}

static const char *const watched[] = { "iio:device0", "iio:device0/trigger", "iio:device1",
				       "iio:device2", "iio:device2/trigger", "trigger0", NULL };

Test(real_iiod, buffered_settings_are_found_set_read_back_and_put_back_when_the_open_fails,
     .timeout = 60)
{
	/* the ina226 averaging 1 until rig needs 4: a setting to change */
	struct real r = start_real_with((const char *[]){ "--set", "iio:device1/in_oversampling_ratio=1",
							  NULL });
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	char *before = tree_snapshot(&r), *after, *writes, *why;
	struct watch w;

	/* ina226 at 10 ms: no trigger, its rate from averaging (1e6 / (2200 us
	 * x 4) = 114 per second is the slowest at least 100), not from its
	 * read-only in_sampling_frequency, which libiio 0.24 shows as channel
	 * "sampling", attribute "frequency" */
	buffered(iio_cfg(b, &r, ROLE_POWER, "ina226", "current3"), 10 * RIG_NS_PER_MS, NULL);
	watch_start(&w, &r, watched);
	why = open_fails(&env, ROLE_POWER, -ENOENT);
	writes = watch_writes(&w);
	/* it got as far as the buffer, every setting made and read back
	 * before (a file iiod cannot open: /dev/iio:device1) */
	has(why, "opening a buffer of");
	has(why, "on ina226 (channels current3, voltage1 and the timestamp)");
	has(why, "No such file or directory (ENOENT)");
	hasnt(why, "no channel");
	cr_assert_str_eq(writes, "iio:device1/in_oversampling_ratio\n"
				 "iio:device1/current_timestamp_clock\n"
				 "iio:device1/current_timestamp_clock\n"
				 "iio:device1/in_oversampling_ratio\n");
	after = tree_snapshot(&r);
	cr_assert_str_eq(after, before);
	free(after);
	free(writes);
	free(why);

	/* the ADS1115 at 20 ms on the hrtimer trigger: the channel's data rate
	 * (64, the slowest of its list at least 50), the trigger's rate, the
	 * trigger itself, the timestamp clock; put back newest first */
	buffered(iio_cfg(b, &r, ROLE_PRESSURE, "ads1015", "voltage0"), 20 * RIG_NS_PER_MS,
		 "rig-timer");
	watch_start(&w, &r, watched);
	why = open_fails(&env, ROLE_PRESSURE, -ENOENT);
	writes = watch_writes(&w);
	has(why, "on ads1015 (channel voltage0 and the timestamp)");
	has(why, "No such file or directory (ENOENT)");
	cr_assert_str_eq(writes, "iio:device2/in_voltage0_sampling_frequency\n"
				 "trigger0/sampling_frequency\n"
				 "iio:device2/trigger/current_trigger\n"
				 "iio:device2/current_timestamp_clock\n"
				 "iio:device2/current_timestamp_clock\n"
				 "iio:device2/trigger/current_trigger\n"
				 "trigger0/sampling_frequency\n"
				 "iio:device2/in_voltage0_sampling_frequency\n");
	after = tree_snapshot(&r);
	cr_assert_str_eq(after, before);
	free(after);
	free(writes);
	free(why);

	/* the hx711: no rate of its own to set (its RATE pin), the trigger's */
	buffered(iio_cfg(b, &r, ROLE_SCALE, "hx711", "voltage0"), 25 * RIG_NS_PER_MS, "rig-timer");
	watch_start(&w, &r, watched);
	why = open_fails(&env, ROLE_SCALE, -ENOENT);
	writes = watch_writes(&w);
	has(why, "on hx711 (channel voltage0 and the timestamp)");
	cr_assert_str_eq(writes, "trigger0/sampling_frequency\n"
				 "iio:device0/trigger/current_trigger\n"
				 "iio:device0/current_timestamp_clock\n"
				 "iio:device0/current_timestamp_clock\n"
				 "iio:device0/trigger/current_trigger\n"
				 "trigger0/sampling_frequency\n");
	after = tree_snapshot(&r);
	cr_assert_str_eq(after, before);
	free(after);
	free(writes);
	free(why);

	free(before);
	stop_real(&r);
	rig_clock_free(env.clock);
	free(b);
}

Test(real_iiod, a_setting_rig_needs_that_the_device_lacks_is_refused_with_nothing_changed,
     .timeout = 60)
{
	struct real r = start_real_with((const char *[]){
		"--remove", "iio:device1/in_oversampling_ratio",
		"--remove", "iio:device2/current_timestamp_clock",
		"--remove", "iio:device0/trigger", NULL });
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	char *before = tree_snapshot(&r), *after, *why;

	buffered(iio_cfg(b, &r, ROLE_POWER, "ina226", "current3"), 10 * RIG_NS_PER_MS, NULL);
	why = open_fails(&env, ROLE_POWER, -ENOENT);
	has(why, "IIO device \"ina226\"");
	has(why, "has no oversampling_ratio");
	has(why, "in_oversampling_ratio");
	has(why, "rig sets it to 4");
	free(why);

	/* the ADS1115's trigger and rates set, then the missing clock: the
	 * open refuses, and puts back what it had set */
	buffered(iio_cfg(b, &r, ROLE_PRESSURE, "ads1015", "voltage0"), 20 * RIG_NS_PER_MS,
		 "rig-timer");
	why = open_fails(&env, ROLE_PRESSURE, -ENOENT);
	has(why, "IIO device \"ads1015\"");
	has(why, "has no current_timestamp_clock");
	has(why, "monotonic");
	free(why);

	/* a trigger named for a device whose driver takes none */
	buffered(iio_cfg(b, &r, ROLE_SCALE, "hx711", "voltage0"), 25 * RIG_NS_PER_MS, "rig-timer");
	why = open_fails(&env, ROLE_SCALE, -ENOENT);
	has(why, "IIO device \"hx711\" takes no trigger");
	free(why);

	after = tree_snapshot(&r);
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	stop_real(&r);
	rig_clock_free(env.clock);
	free(b);
}

Test(real_iiod, a_period_faster_than_the_converter_is_refused_with_its_rates, .timeout = 60)
{
	struct real r = start_real();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	char *before = tree_snapshot(&r), *after, *why;

	/* 1000 per second: the ADS1115 lists 860 at most */
	buffered(iio_cfg(b, &r, ROLE_PRESSURE, "ads1015", "voltage0"), RIG_NS_PER_MS, "rig-timer");
	why = open_fails(&env, ROLE_PRESSURE, -ERANGE);
	has(why, "ads1015/voltage0 converts at most 860 times per second");
	has(why, "sampling_frequency_available");
	free(why);
	/* the INA226 converts at most 455 per second with its 1.1 ms times */
	buffered(iio_cfg(b, &r, ROLE_POWER, "ina226", "current3"), RIG_NS_PER_MS, NULL);
	why = open_fails(&env, ROLE_POWER, -ERANGE);
	has(why, "ina226 converts at most 455 times per second");
	has(why, "in_voltage0_integration_time");
	free(why);
	after = tree_snapshot(&r);
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	stop_real(&r);
	rig_clock_free(env.clock);
	free(b);
}

Test(real_iiod, errors_name_what_failed_where_with_the_errno, .timeout = 60)
{
	struct real r = start_real();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	struct instrument_cfg *ic;
	struct instrument *flow;
	struct reading rd[READINGS_MAX];
	char *why, text[512];
	size_t n;
	int err;

	/* a wrong bus voltage channel is named, not the current channel */
	ic = iio_cfg(b, &r, ROLE_POWER, "ina226", "current3");
	snprintf(ic->channel2, sizeof(ic->channel2), "voltage7");
	why = open_fails(&env, ROLE_POWER, -ENOENT);
	has(why, "IIO device \"ina226\" has no input channel \"voltage7\" (voltage_channel");
	hasnt(why, "current3");
	free(why);
	ic = iio_cfg(b, &r, ROLE_POWER, "ina226", "current9");
	why = open_fails(&env, ROLE_POWER, -ENOENT);
	has(why, "IIO device \"ina226\" has no input channel \"current9\" (channel;");
	free(why);
	iio_cfg(b, &r, ROLE_POWER, "ina219", "current3");
	why = open_fails(&env, ROLE_POWER, -ENODEV);
	has(why, "no IIO device \"ina219\" in ");
	free(why);
	/* a trigger that is not there */
	buffered(iio_cfg(b, &r, ROLE_PRESSURE, "ads1015", "voltage0"), 20 * RIG_NS_PER_MS,
		 "no-such-timer");
	why = open_fails(&env, ROLE_PRESSURE, -ENXIO);
	has(why, "no IIO trigger \"no-such-timer\"");
	free(why);

	/* a read that fails says which file, and the errno iiod gave */
	iio_cfg(b, &r, ROLE_FLOW, "ads1015", "voltage1");
	flow = open_ok(&env, ROLE_FLOW);
	{
		char *p = path_of(&r, "iio:device2/in_voltage1_raw");

		cr_assert_eq(unlink(p), 0);
		free(p);
	}
	err = sensor_read(flow, rd, READINGS_MAX, &n);
	cr_assert_eq(err, -ENOENT, "%d", err);
	instrument_error_text(&b->instrument[ROLE_FLOW], err, text, sizeof(text));
	cr_assert_str_eq(text, "reading ads1015 voltage1 raw: No such file or directory (ENOENT)");
	instrument_close(flow);
	stop_real(&r);
	rig_clock_free(env.clock);
	free(b);
}

Test(real_iiod, a_stopped_iiod_is_reported_within_one_answer_timeout_for_all_its_instruments,
     .timeout = 60)
{
	struct real r = start_real();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b,
				  .answer_timeout_ns = RIG_NS_PER_S };
	static const enum rig_role roles[] = { ROLE_SCALE, ROLE_PRESSURE, ROLE_FLOW, ROLE_POWER };
	struct instrument *inst[4];
	struct reading rd[READINGS_MAX];
	char text[512], *expect;
	long long t0, took;
	size_t n;

	iio_cfg(b, &r, ROLE_SCALE, "hx711", "voltage0");
	iio_cfg(b, &r, ROLE_PRESSURE, "ads1015", "voltage0");
	iio_cfg(b, &r, ROLE_FLOW, "ads1015", "voltage1");
	iio_cfg(b, &r, ROLE_POWER, "ina226", "current3");
	for (size_t i = 0; i < 4; i++) {
		inst[i] = open_ok(&env, roles[i]);
		cr_assert_eq(sensor_read(inst[i], rd, READINGS_MAX, &n), 0);
	}
	cr_assert_geq(asprintf(&expect, "no answer from %s within 1 s (reading hx711 voltage0 raw)",
			       r.uri), 0);

	/* the process stopped: its port still takes connections, nothing
	 * answers.  The first instrument waits the bound out; the others on
	 * the same board learn it and fail at once. */
	freeze(&r);
	t0 = mono_ms();
	for (size_t i = 0; i < 4; i++) {
		int err = sensor_read(inst[i], rd, READINGS_MAX, &n);

		cr_assert_eq(err, -ETIMEDOUT, "%s: %d", rig_role_name(roles[i]), err);
		instrument_error_text(&b->instrument[roles[i]], err, text, sizeof(text));
		cr_assert_str_eq(text, expect, "%s", rig_role_name(roles[i]));
	}
	took = mono_ms() - t0;
	fprintf(stderr, "real_iiod: SIGSTOP of iiod to the 4th instrument's error: %lld ms "
		"(answer timeout 1 s)\n", took);
	cr_assert(took >= 900 && took < 1500, "%lld ms for four instruments", took);

	/* opened again at once: not asked again within the bound */
	for (size_t i = 0; i < 4; i++)
		instrument_close(inst[i]);
	t0 = mono_ms();
	for (size_t i = 0; i < 4; i++) {
		struct instrument *again = NULL;

		cr_assert_eq(instrument_open(&again, roles[i], &env), -ETIMEDOUT);
	}
	took = mono_ms() - t0;
	cr_assert(took < 300, "%lld ms to refuse four opens", took);
	/* after the bound, an open asks again: within the bound too (libiio
	 * alone would give the stopped daemon 5 s) */
	{
		struct timespec pause = { .tv_sec = 1, .tv_nsec = 100 * 1000000 };
		struct instrument *again = NULL;

		nanosleep(&pause, NULL);   /* past the bound: this is what is tested */
		t0 = mono_ms();
		cr_assert_eq(instrument_open(&again, ROLE_SCALE, &env), -ETIMEDOUT);
		took = mono_ms() - t0;
		fprintf(stderr, "real_iiod: an open of a stopped iiod failed after %lld ms\n", took);
		cr_assert(took >= 900 && took < 1500, "%lld ms", took);
		instrument_error_text(&b->instrument[ROLE_SCALE], -ETIMEDOUT, text, sizeof(text));
		has(text, "no answer from");
		has(text, "within 1 s (connecting)");
	}
	/* the daemon back: everything opens and reads again */
	cr_assert_eq(kill(r.iiod, SIGCONT), 0);
	{
		struct timespec pause = { .tv_sec = 1, .tv_nsec = 100 * 1000000 };

		nanosleep(&pause, NULL);   /* past the bound again */
	}
	for (size_t i = 0; i < 4; i++) {
		inst[i] = open_ok(&env, roles[i]);
		cr_assert_eq(sensor_read(inst[i], rd, READINGS_MAX, &n), 0);
		instrument_close(inst[i]);
	}
	free(expect);
	stop_real(&r);
	rig_clock_free(env.clock);
	free(b);
}

/* The measured conditions over the wire: `rig sim serve` on a bench with
 * the fluid's and the air's sensors on the iio backend serves a bme280 and
 * a max31865 as their kernel drivers present them (libiio's own iio_attr
 * sees the kernel's attribute names and units), and the iio backend reads
 * the simulator's true fluid and air back through them, in degC, % and
 * kPa, within the sensors' noise and resolution. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/driver.h"
#include "helpers.h"
#include "iiod_real.h"
#include "rig/base/clock.h"
#include "rig/config/config.h"
#include "wire_server.h"

#define FIXTURE "fixtures/bench/wire-conditions.cfg"

/* The simulator's truth in the shipped fixture (simulator.fluid, .air). */
#define TRUE_FLUID_C 21.0
#define TRUE_AIR_C 22.5
#define TRUE_HUMIDITY_PCT 45.0
#define TRUE_AIR_KPA 98.7

/* The fixture pointed at server s, loaded. */
static struct bench *load_fixture(const char *dir, const struct server *s)
{
	char *path = wire_bench_of(dir, s, FIXTURE);
	struct diag_list diags = { 0 };
	struct bench *b = NULL;
	int r = bench_load(path, &b, &diags);

	if (r < 0)
		diag_print(&diags, stderr);
	cr_assert_eq(r, 0, "%s does not load", FIXTURE);
	diag_clear(&diags);
	free(path);
	return b;
}

static double read_value(struct instrument *inst, enum rig_role role)
{
	struct reading rd[READINGS_MAX];
	size_t n = 0;

	cr_assert_eq(sensor_read(inst, rd, READINGS_MAX, &n), 0, "%s", rig_role_name(role));
	cr_assert_eq(n, 1, "%s: %zu readings", rig_role_name(role), n);
	cr_assert_eq(rd[0].quantity, role_primary_quantity(role), "%s", rig_role_name(role));
	return rd[0].value;
}

Test(wire_conditions, the_bench_reads_the_simulated_fluid_and_air_within_noise, .timeout = 60)
{
	struct server s = start_server_with(FIXTURE);
	char *dir = th_tmpdir();
	struct bench *b = load_fixture(dir, &s);
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	struct sim_clock_link *clk;
	static const enum rig_role roles[] = { ROLE_FLUID_TEMP, ROLE_AIR_TEMP, ROLE_HUMIDITY,
					       ROLE_AIR_PRESSURE };
	/* the truth; and how far one reading may be from it: 4 sigma of the
	 * simulator's default noise (0.01 K, 0.05 %, 0.002 kPa) and the
	 * resolution on the way (the model's, then the kernel's: 1/32 K and a
	 * PT100 count of 0.03 K, 0.01 K; 1/1024 % and 1 milli-%; 0.2 Pa and
	 * 1/256 Pa), and for the RTD the calibration's straight line, within
	 * 0.006 K of the PT100's curve over 15..30 degC */
	static const double truth[] = { TRUE_FLUID_C, TRUE_AIR_C, TRUE_HUMIDITY_PCT, TRUE_AIR_KPA };
	static const double tol[] = { 0.04 + 0.07 + 0.006, 0.04 + 0.02, 0.2 + 0.002, 0.008 + 0.0003 };
	struct instrument *inst[4];
	double sum[4] = { 0 };
	const int n = 30;

	signal(SIGPIPE, SIG_IGN);
	for (size_t k = 0; k < 4; k++) {
		cr_assert(b->instrument[roles[k]].present, "%s", rig_role_name(roles[k]));
		cr_assert_str_eq(b->instrument[roles[k]].backend, "iio");
		inst[k] = open_ok(&env, roles[k]);
	}
	cr_assert_eq(sim_clock_link_open(s.uri, &clk), 0);
	for (int i = 1; i <= n; i++) {
		cr_assert_eq(sim_clock_link_set(clk, (rig_ns)i * 10 * RIG_NS_PER_S), 0);
		for (size_t k = 0; k < 4; k++) {
			double v = read_value(inst[k], roles[k]);

			cr_assert(fabs(v - truth[k]) < tol[k], "%s reads %.6f, truly %.6f",
				  rig_role_name(roles[k]), v, truth[k]);
			sum[k] += v;
		}
	}
	/* the means: the noise averaged out, what is left is the resolution's
	 * and (the RTD) the calibration line's */
	cr_assert(fabs(sum[0] / n - TRUE_FLUID_C) < 0.035, "%.4f degC", sum[0] / n);
	cr_assert(fabs(sum[1] / n - TRUE_AIR_C) < 0.01, "%.4f degC", sum[1] / n);
	cr_assert(fabs(sum[2] / n - TRUE_HUMIDITY_PCT) < 0.03, "%.4f %%", sum[2] / n);
	cr_assert(fabs(sum[3] / n - TRUE_AIR_KPA) < 0.0015, "%.5f kPa", sum[3] / n);
	for (size_t k = 0; k < 4; k++)
		instrument_close(inst[k]);

	/* the MAX31865 uncalibrated: raw x scale, the count / 32 in degC, with
	 * no offset (the kernel driver's): a PT100 at 21 degC on a 400 ohm
	 * reference reads 8862 or so, 276.9 "degC" */
	b->instrument[ROLE_FLUID_TEMP].cal = (struct calibration){ .gain = 1 };
	inst[0] = open_ok(&env, ROLE_FLUID_TEMP);
	{
		double v = read_value(inst[0], ROLE_FLUID_TEMP);
		char *raw = sh("timeout 10 iio_attr -u %s -c max31865 temp raw", s.uri);

		cr_assert(fabs(v - 100 * (1 + 3.9083e-3 * 21 - 5.775e-7 * 21 * 21) / 400 * 1024) < 0.2,
			  "%.5f", v);
		cr_assert(fabs(v - atol(raw) * 31.25 / 1000) < 1e-9, "%.5f against raw %s", v, raw);
		free(raw);
	}
	instrument_close(inst[0]);
	sim_clock_link_close(clk);
	stop_server(&s);
	bench_free(b);
	rig_clock_free(env.clock);
	free(dir);
}

Test(wire_conditions, iio_attr_shows_the_kernel_drivers_attributes, .timeout = 60)
{
	struct server s = start_server_with(FIXTURE);
	char *out;
	long v;

	out = sh("timeout 10 iio_attr -u %s -c bme280 2>&1", s.uri);
	cr_assert_not_null(strstr(out, "dev 'bme280', channel 'temp' (input), found 2 "
				  "channel-specific attributes"), "%s", out);
	cr_assert_not_null(strstr(out, "channel 'humidityrelative' (input)"), "%s", out);
	cr_assert_not_null(strstr(out, "channel 'pressure' (input)"), "%s", out);
	free(out);
	/* the processed values as the bmp280 driver prints them: m°C in steps
	 * of 10, milli-percent, kPa to 9 places */
	out = sh("timeout 10 iio_attr -u %s -c bme280 temp input", s.uri);
	cr_assert_eq(sscanf(out, "%ld", &v), 1, "%s", out);
	cr_assert(labs(v - 22500) <= 60 && v % 10 == 0, "in_temp_input %s", out);
	free(out);
	out = sh("timeout 10 iio_attr -u %s -c bme280 humidityrelative input", s.uri);
	cr_assert_eq(sscanf(out, "%ld", &v), 1, "%s", out);
	cr_assert(labs(v - 45000) <= 250 && !strchr(out, '.'), "in_humidityrelative_input %s", out);
	free(out);
	out = sh("timeout 10 iio_attr -u %s -c bme280 pressure input", s.uri);
	cr_assert(strchr(out, '.') && strlen(strchr(out, '.')) == 1 + 9 + 1 &&
		  fabs(atof(out) - TRUE_AIR_KPA) < 0.01, "in_pressure_input %s", out);
	free(out);
	out = sh("timeout 10 iio_attr -u %s -c bme280 temp oversampling_ratio", s.uri);
	cr_assert_str_eq(out, "2\n");
	free(out);
	/* a ratio the chip has is taken, another refused as the driver does */
	out = sh("timeout 10 iio_attr -u %s -c bme280 pressure oversampling_ratio 3 2>&1; "
		 "timeout 10 iio_attr -u %s -c bme280 pressure oversampling_ratio 4 >/dev/null; "
		 "timeout 10 iio_attr -u %s -c bme280 pressure oversampling_ratio", s.uri, s.uri,
		 s.uri);
	cr_assert_not_null(strstr(out, "Invalid argument"), "%s", out);
	cr_assert(strlen(out) >= 3 && strcmp(out + strlen(out) - 3, "\n4\n") == 0, "%s", out);
	free(out);

	/* the max31865: raw and scale (31.25 m°C a count, no offset), the notch
	 * filter libiio makes a channel "filter" of, the device attributes */
	out = sh("timeout 10 iio_attr -u %s -c max31865 temp raw", s.uri);
	cr_assert_eq(sscanf(out, "%ld", &v), 1, "%s", out);
	cr_assert(labs(v - 8862) <= 2, "in_temp_raw %s", out);
	free(out);
	out = sh("timeout 10 iio_attr -u %s -c max31865 temp scale", s.uri);
	cr_assert_str_eq(out, "31.250000\n");
	free(out);
	out = sh("timeout 10 iio_attr -u %s -c max31865 temp 2>&1", s.uri);
	cr_assert_not_null(strstr(out, "channel 'temp' (input), attr 'raw', value '"), "%s", out);
	cr_assert_not_null(strstr(out, "channel 'temp' (input), attr 'scale', value '31.250000'"),
			   "%s", out);
	cr_assert_null(strstr(out, "offset"), "%s", out);
	free(out);
	out = sh("timeout 10 iio_attr -u %s -c max31865 filter notch_center_frequency", s.uri);
	cr_assert_str_eq(out, "60\n");
	free(out);
	out = sh("timeout 10 iio_attr -u %s -d max31865 2>&1", s.uri);
	cr_assert_not_null(strstr(out, "dev 'max31865', attr 'fault_ovuv', value :'0'"), "%s", out);
	cr_assert_not_null(strstr(out, "dev 'max31865', attr 'sampling_frequency_available', "
				  "value :'50 60'"), "%s", out);
	free(out);
	stop_server(&s);

	/* a bench without those roles is served without those devices */
	s = start_server();
	out = sh("timeout 20 iio_info -u %s 2>&1", s.uri);
	cr_assert_not_null(strstr(out, "IIO context has 6 devices"), "%s", out);
	cr_assert_null(strstr(out, "bme280"), "%s", out);
	cr_assert_null(strstr(out, "max31865"), "%s", out);
	free(out);
	stop_server(&s);
}

Test(wire_conditions, rig_probe_reads_each_condition_in_its_unit, .timeout = 60)
{
	char *dir = th_tmpdir(), *links, *src = th_src(FIXTURE), *bench, *out;
	struct server s;

	cr_assert_geq(asprintf(&links, "%s/links", dir), 0);
	s = start_server_at(src, links);
	bench = wire_bench_of(dir, &s, FIXTURE);
	cr_assert_eq(th_rig(dir, (const char *[]){ "probe", "--bench", bench, NULL }), 0,
		     "%s", th_slurp(dir, "stdout"));
	out = th_slurp(dir, "stdout");
	cr_assert_not_null(strstr(out, "max31865/temp"), "%s", out);
	cr_assert_not_null(strstr(out, " degC"), "%s", out);
	cr_assert_not_null(strstr(out, "bme280/humidityrelative"), "%s", out);
	cr_assert_not_null(strstr(out, " %"), "%s", out);
	cr_assert_not_null(strstr(out, "bme280/pressure"), "%s", out);
	cr_assert_not_null(strstr(out, " kPa"), "%s", out);
	cr_assert_null(strstr(out, "ERROR"), "%s", out);
	free(out);
	stop_server(&s);
	free(bench);
	free(links);
	free(src);
	free(dir);
}

Test(wire_conditions, a_condition_is_read_through_attributes_never_a_buffer, .timeout = 60)
{
	struct server s = start_server_with(FIXTURE);
	char *dir = th_tmpdir(), *why;
	struct bench *b = load_fixture(dir, &s);
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };

	signal(SIGPIPE, SIG_IGN);
	b->instrument[ROLE_AIR_PRESSURE].buffered = true;
	why = open_fails(&env, ROLE_AIR_PRESSURE, -ENOTSUP);
	cr_assert_not_null(strstr(why, "air_pressure on IIO device \"bme280\" is read through its "
				  "attributes only"), "%s", why);
	free(why);
	/* and a channel with neither a processed nor a raw value is named */
	b->instrument[ROLE_AIR_PRESSURE].buffered = false;
	snprintf(b->instrument[ROLE_AIR_PRESSURE].device, RIG_ID_MAX, "max31865");
	snprintf(b->instrument[ROLE_AIR_PRESSURE].channel, RIG_ID_MAX, "filter");
	why = open_fails(&env, ROLE_AIR_PRESSURE, -ENOENT);
	cr_assert_not_null(strstr(why, "IIO device \"max31865\" channel \"filter\" has neither an "
				  "input (processed) nor a raw attribute"), "%s", why);
	free(why);
	stop_server(&s);
	bench_free(b);
	rig_clock_free(env.clock);
	free(dir);
}

/* A simulated sensor fault reaches rig as the kernel would report it: the
 * attribute read fails, and the error names the device, channel and
 * attribute, with the errno. */
Test(wire_conditions, a_dropout_fails_the_attribute_read_and_says_which, .timeout = 60)
{
	char *dir = th_tmpdir(), *src, *why;
	struct server s;
	struct bench *b;
	struct driver_env env = { .clock = rig_clock_new_virtual() };
	struct instrument *hum, *fluid;
	struct reading rd[READINGS_MAX];
	char text[512];
	size_t n;

	signal(SIGPIPE, SIG_IGN);
	src = th_src_edited(dir, FIXTURE, "faulty.cfg", (const char *[]){
		"    # Fault injection, for tests and demonstrations:",
		"    faults = ( { role = \"humidity\"; kind = \"dropout\"; at = \"0 s\"; } );", NULL });
	s = start_server_at(src, NULL);
	b = load_fixture(dir, &s);
	env.bench = b;
	hum = open_ok(&env, ROLE_HUMIDITY);
	fluid = open_ok(&env, ROLE_FLUID_TEMP);
	cr_assert_eq(sensor_read(hum, rd, READINGS_MAX, &n), -EIO);
	why = strdup(instrument_error_text(&b->instrument[ROLE_HUMIDITY], -EIO, text, sizeof(text)));
	cr_assert_not_null(strstr(why, "reading bme280 humidityrelative input"), "%s", why);
	/* the other sensors read on */
	(void)read_value(fluid, ROLE_FLUID_TEMP);
	instrument_close(hum);
	instrument_close(fluid);
	stop_server(&s);
	bench_free(b);
	rig_clock_free(env.clock);
	free(why);
	free(src);
	free(dir);
}

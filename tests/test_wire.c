/* The wire-level simulator (`rig sim serve`) against independent clients:
 * libiio's own command-line tools (Debian's libiio-utils), and the real iio
 * backend through the driver interface.  The simulator is started as rig
 * would be started by an operator, and waited for by its "ready" line. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <time.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drivers/driver.h"
#include "helpers.h"
#include "wire_server.h"
#include "rig/base/clock.h"

Test(wire, iio_info_lists_the_devices_as_the_kernel_drivers_name_them)
{
	struct server s = start_server();
	char *out = sh("timeout 20 iio_info -u %s 2>&1", s.uri);

	cr_assert_not_null(strstr(out, "IIO context has 6 devices"), "%s", out);
	cr_assert_not_null(strstr(out, "iio:device0: hx711 (buffer capable)"), "%s", out);
	/* the hrtimer trigger, as configfs makes one, at its default 100 Hz;
	 * iio_info asks every device for its trigger (GETTRIG): the hx711
	 * takes one and has none yet, the ina226 has no trigger at all */
	cr_assert_not_null(strstr(out, "trigger0: rig-timer\n\t\t0 channels found:"), "%s", out);
	cr_assert_not_null(strstr(out, "sampling_frequency value: 100.000000"), "%s", out);
	{
		char *hx = strstr(out, "iio:device0: hx711"), *ina = strstr(out, "iio:device1: ina226");
		char *ads = strstr(out, "iio:device2: ads1015");

		cr_assert(hx && ina && ads);
		cr_assert(strstr(hx, "No trigger assigned to device") < ina, "%s", out);
		cr_assert(strstr(ina, "No trigger on this device") < ads, "%s", out);
	}
	cr_assert_not_null(strstr(out, "iio:device1: ina226"), "%s", out);
	cr_assert_not_null(strstr(out, "iio:device2: ads1015"), "%s", out);
	cr_assert_not_null(strstr(out, "mcp4725"), "%s", out);
	cr_assert_not_null(strstr(out, "voltage0-voltage1"), "%s", out);
	cr_assert_not_null(strstr(out, "format: le:u24/32>>0"), "%s", out);
	free(out);
	stop_server(&s);
}

Test(wire, iio_attr_reads_and_writes_and_iio_readdev_streams)
{
	struct server s = start_server();
	char *out;
	long raw;

	/* the pressure transducer at rest: 500 mV / 0.1875 mV = 2667 counts */
	out = sh("timeout 10 iio_attr -u %s -c ads1015 voltage0 raw", s.uri);
	raw = strtol(out, NULL, 10);
	cr_assert(raw > 2640 && raw < 2700, "raw %ld", raw);
	free(out);
	/* time moves when the clock is written, and only forward */
	free(sh("timeout 10 iio_attr -u %s -d pumprig-clock time_ns 7200000000000", s.uri));
	free(sh("timeout 10 iio_attr -u %s -d pumprig-clock time_ns 60", s.uri));
	out = sh("timeout 10 iio_attr -u %s -d pumprig-clock time_ns", s.uri);
	cr_assert_str_eq(out, "7200000000000\n");
	free(out);
	stop_server(&s);
}

/* Runs iio_readdev in the background into dir/name while this test moves
 * the simulator's clock in steps of step_ns: buffers are sampled on
 * simulated time, which moves only when a client writes it.  Returns the
 * captured bytes. */
static char *readdev_while_time_moves(const struct server *s, const char *dir, const char *args,
				      rig_ns step_ns, size_t *ret_len)
{
	struct sim_clock_link *clk;
	char *cmd, *path, *data;
	rig_ns t = 7200 * RIG_NS_PER_S;
	int status = 0;
	pid_t pid;
	FILE *f;

	cr_assert_geq(asprintf(&path, "%s/readdev.bin", dir), 0);
	cr_assert_geq(asprintf(&cmd, "exec timeout 60 iio_readdev -u %s %s > %s", s->uri, args, path),
		      0);
	{
		int r = sim_clock_link_open(s->uri, &clk);

		cr_assert_eq(r, 0, "%s: %s", s->uri, strerror(-r));
	}
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(98);
	}
	/* bounded: 200 000 steps is far more simulated time than any capture
	 * here needs */
	for (int i = 0; i < 200000 && waitpid(pid, &status, WNOHANG) == 0; i++) {
		t += step_ns;
		cr_assert_eq(sim_clock_link_set(clk, t), 0);
	}
	if (waitpid(pid, &status, WNOHANG) == 0)
		waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "iio_readdev failed");
	sim_clock_link_close(clk);
	f = fopen(path, "rb");
	cr_assert_not_null(f);
	data = malloc(1 << 20);
	*ret_len = fread(data, 1, 1 << 20, f);
	fclose(f);
	free(cmd);
	free(path);
	return data;
}

Test(wire, iio_readdev_streams_buffers_sampled_on_simulated_time)
{
	struct server s = start_server();
	char *dir = th_tmpdir(), *data;
	size_t len;

	signal(SIGPIPE, SIG_IGN);
	/* the hx711's buffer is a triggered one: without a trigger the
	 * kernel will not enable it, and iio_readdev says so */
	{
		char *out = sh("timeout 10 iio_readdev -u %s -s 10 hx711 voltage0 2>&1 >/dev/null; "
			       "echo exit $?", s.uri);

		cr_assert_not_null(strstr(out, "Invalid argument"), "%s", out);
		cr_assert_not_null(strstr(out, "exit 1"), "%s", out);
		free(out);
	}
	/* 1000 scans of a 24-bit channel stored in 32 bits, paced by the
	 * hrtimer trigger (iio_readdev -t sets it to 100 Hz, then SETTRIG) */
	data = readdev_while_time_moves(&s, dir, "-t rig-timer -s 1000 hx711 voltage0",
					RIG_NS_PER_S, &len);
	cr_assert_eq(len, 4000);
	free(data);
	/* with the timestamp: the trigger fires at 100 Hz, so the scans are
	 * 10 ms of simulated time apart, each stamped with its own instant
	 * (16 bytes: the 32-bit value, padding, the 64-bit stamp) */
	data = readdev_while_time_moves(&s, dir, "-t rig-timer -s 200 hx711 voltage0 timestamp",
					3 * RIG_NS_PER_S / 10, &len);
	cr_assert_eq(len, 200 * 16);
	for (size_t k = 1; k < 200; k++) {
		int64_t a, b;
		uint32_t raw;

		memcpy(&a, data + (k - 1) * 16 + 8, 8);
		memcpy(&b, data + k * 16 + 8, 8);
		memcpy(&raw, data + k * 16, 4);
		cr_assert_eq(b - a, 10 * RIG_NS_PER_MS, "scan %zu: %lld then %lld", k, (long long)a,
			     (long long)b);
		/* the 20 g vessel: 8388608 + 20 g * 0.1 mV/g / 0.000002328 mV */
		cr_assert(llabs((long long)raw - 9247701) < 50, "raw %u", raw);
	}
	free(data);
	stop_server(&s);
	free(dir);
}

Test(wire, in_real_time_a_readbuf_waits_for_its_scans_as_iiod_does, .timeout = 60)
{
	struct server s = start_server_real_time();
	char *out = sh("timeout 30 iio_readdev -u %s -t rig-timer -s 20 hx711 voltage0 timestamp"
		       " | od -A n -t d8 -v -w16", s.uri);
	long long raw[20], ts[20];
	int n = 0;

	/* nobody moves time here: the wall clock does, and each READBUF is
	 * answered as the trigger's 100 Hz scans come due (none is empty:
	 * iio_readdev would loop, not end, on empty answers) */
	for (char *p = out, *end; n < 20; n++, p = end) {
		raw[n] = strtoll(p, &end, 10);
		if (end == p)
			break;
		p = end;
		ts[n] = strtoll(p, &end, 10);
	}
	cr_assert_eq(n, 20, "%s", out);
	for (int k = 1; k < 20; k++) {
		/* CLOCK_MONOTONIC stamps, one trigger period apart */
		cr_assert_eq(ts[k] - ts[k - 1], 10 * RIG_NS_PER_MS, "scan %d", k);
		cr_assert(llabs((raw[k] & 0xffffff) - 9247701) < 50, "raw %lld", raw[k]);
	}
	free(out);
	stop_server(&s);
}

Test(wire, the_iio_backend_captures_a_fast_power_monitor_through_a_buffer)
{
	struct server s = start_server();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	struct instrument_cfg *ic = &b->instrument[ROLE_POWER];
	struct reading rd[READINGS_BATCH];
	struct sim_clock_link *clk;
	struct instrument *power;
	size_t n, total = 0;
	rig_ns expect_t = 0;

	signal(SIGPIPE, SIG_IGN);
	/* in lockstep: the scans' stamps are the simulator's time, rig's run time */
	snprintf(b->sim_clock_uri, sizeof(b->sim_clock_uri), "%s", s.uri);
	*ic = (struct instrument_cfg){ .present = true, .period_ns = 10 * RIG_NS_PER_MS,
				       .buffered = true, .batch_ns = RIG_NS_PER_S,
				       .cal = { .gain = 1 } };
	snprintf(ic->backend, sizeof(ic->backend), "iio");
	snprintf(ic->uri, sizeof(ic->uri), "%s", s.uri);
	snprintf(ic->device, sizeof(ic->device), "ina226");
	snprintf(ic->channel, sizeof(ic->channel), "current3");
	cr_assert_eq(sim_clock_link_open(s.uri, &clk), 0);
	/* averaging 1, as someone left it: 455 conversions per second */
	free(sh("timeout 10 iio_attr -u %s -c ina226 oversampling ratio 1", s.uri));
	cr_assert_eq(instrument_open(&power, ROLE_POWER, &env), 0);
	/* the INA226's rate cannot be written (its driver refuses, EINVAL):
	 * it follows from averaging and the integration times (1.1 ms each),
	 * and rig averages 4, the most that keeps up with 100 per second:
	 * 1e6 / 8800 us = 114 */
	{
		char *out = sh("timeout 10 iio_attr -u %s -c ina226 oversampling ratio; "
			       "timeout 10 iio_attr -u %s -c ina226 sampling frequency; "
			       "timeout 10 iio_attr -u %s -c ina226 sampling frequency 100 2>&1",
			       s.uri, s.uri, s.uri);

		cr_assert_not_null(strstr(out, "4\n114\n"), "[%s]", out);
		cr_assert_not_null(strstr(out, "Invalid argument"), "[%s]", out);
		free(out);
	}
	/* two seconds of simulated time, collected once a second (one
	 * READBUF each): every 8.8 ms scan arrives, with its own time, not the
	 * collection's */
	for (int sec = 1; sec <= 2; sec++) {
		cr_assert_eq(sim_clock_link_set(clk, sec * RIG_NS_PER_S), 0);
		cr_assert_eq(sensor_read(power, rd, READINGS_BATCH, &n), 0);
		cr_assert_eq(n % 2, 0);
		for (size_t i = 0; i < n; i += 2) {
			cr_assert_eq(rd[i].t_ns, expect_t, "reading %zu", total + i);
			cr_assert_eq(rd[i].quantity, QUANT_CURRENT_UA);
			cr_assert_eq(rd[i + 1].quantity, QUANT_VOLTAGE_V);
			cr_assert_eq(rd[i + 1].t_ns, rd[i].t_ns);
			/* quiescent 20 uA (sim.cfg) within its noise and the
			 * 0.1 uA count; 3.2 V on a full battery */
			cr_assert(fabs(rd[i].value - 20) < 1.5, "%.2f uA", rd[i].value);
			cr_assert(fabs(rd[i + 1].value - 3.2) < 0.01, "%.3f V", rd[i + 1].value);
			expect_t += 8800 * RIG_NS_PER_US;
		}
		total += n;
	}
	/* scans at 0, 8.8 ms, ... 1.9976 s */
	cr_assert_eq(total, 2 * 228, "%zu readings", total);
	/* nothing new until time moves: a collection answers at once, empty */
	cr_assert_eq(sensor_read(power, rd, READINGS_BATCH, &n), 0);
	cr_assert_eq(n, 0);
	instrument_close(power);
	/* closing put back the averaging it found */
	{
		char *out = sh("timeout 10 iio_attr -u %s -c ina226 oversampling ratio", s.uri);

		cr_assert_str_eq(out, "1\n");
		free(out);
	}
	sim_clock_link_close(clk);
	stop_server(&s);
	rig_clock_free(env.clock);
	free(b);
}

/* One command line of libiio's network protocol on a fresh connection,
 * as iiod-client sends it; returns the answer's first `lines` lines. */
static char *iiod_command(const struct server *s, const char *cmd, int lines)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 5 };
	char *line, buf[256];
	size_t len = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_geq(asprintf(&line, "%s\r\n", cmd), 0);
	cr_assert_eq(send(fd, line, strlen(line), MSG_NOSIGNAL), (ssize_t)strlen(line));
	free(line);
	while (lines > 0 && len + 1 < sizeof(buf)) {
		ssize_t r = recv(fd, buf + len, 1, 0);

		cr_assert_eq(r, 1, "%s: answer cut short after [%.*s]", cmd, (int)len, buf);
		if (buf[len++] == '\n')
			lines--;
	}
	close(fd);
	buf[len] = '\0';
	return strdup(buf);
}

/* A sensor captured through a buffer, as a bench file gives it. */
static void buffered_cfg(struct bench *b, enum rig_role role, const char *uri, const char *device,
			 const char *channel, rig_ns period_ns, const char *trigger, double gain,
			 double offset)
{
	struct instrument_cfg *ic = &b->instrument[role];

	*ic = (struct instrument_cfg){ .present = true, .period_ns = period_ns, .buffered = true,
				       .batch_ns = RIG_NS_PER_S,
				       .cal = { .gain = gain, .offset = offset } };
	snprintf(ic->backend, sizeof(ic->backend), "iio");
	snprintf(ic->uri, sizeof(ic->uri), "%s", uri);
	snprintf(ic->device, sizeof(ic->device), "%s", device);
	snprintf(ic->channel, sizeof(ic->channel), "%s", channel);
	snprintf(ic->trigger, sizeof(ic->trigger), "%s", trigger ? trigger : "");
}

Test(wire, the_pressure_adc_is_captured_through_a_buffer_paced_by_its_trigger)
{
	struct server s = start_server();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	struct reading rd[READINGS_BATCH];
	struct instrument *pressure, *flow;
	struct sim_clock_link *clk;
	size_t n;
	char *out;

	signal(SIGPIPE, SIG_IGN);
	snprintf(b->sim_clock_uri, sizeof(b->sim_clock_uri), "%s", s.uri);
	/* 20 ms: 50 Hz; the flow sensor on the same ADC, so on the same
	 * trigger.  No calibration: the readings are the channels' mV, the
	 * backend's own work (sensor_read calibrates only the first reading
	 * of a batch) */
	buffered_cfg(b, ROLE_PRESSURE, s.uri, "ads1015", "voltage0", 20 * RIG_NS_PER_MS, "rig-timer",
		     1, 0);
	buffered_cfg(b, ROLE_FLOW, s.uri, "ads1015", "voltage1", 20 * RIG_NS_PER_MS, "rig-timer",
		     1, 0);
	cr_assert_eq(sim_clock_link_open(s.uri, &clk), 0);
	cr_assert_eq(instrument_open(&pressure, ROLE_PRESSURE, &env), 0);
	/* the second buffer on the device finds the trigger assigned and
	 * leaves it: setting it under a running buffer is refused */
	cr_assert_eq(instrument_open(&flow, ROLE_FLOW, &env), 0);
	out = iiod_command(&s, "SETTRIG iio:device2 trigger0", 1);
	cr_assert_str_eq(out, "-16\n");   /* EBUSY, as current_trigger_store */
	free(out);
	out = iiod_command(&s, "GETTRIG iio:device2", 2);
	cr_assert_str_eq(out, "9\nrig-timer\n");
	free(out);
	/* the trigger was set to the period, and libiio's tools see it */
	out = sh("timeout 10 iio_attr -u %s -d trigger0 sampling_frequency", s.uri);
	cr_assert_str_eq(out, "50.000000\n");
	free(out);
	/* the converter to the slowest of its data rates that keeps up: 64 for
	 * 50 (the driver refuses 50 itself, as the simulator does) */
	out = sh("timeout 10 iio_attr -u %s -c ads1015 voltage0 sampling_frequency", s.uri);
	cr_assert_str_eq(out, "64\n");
	free(out);
	out = sh("timeout 20 iio_info -u %s 2>&1", s.uri);
	cr_assert_not_null(strstr(strstr(out, "iio:device2: ads1015"),
				  "Current trigger: trigger0(rig-timer)"), "%s", out);
	free(out);
	/* one second: the hrtimer first fires one period after the buffer is
	 * enabled, then every 20 ms, each scan with its tick's time */
	cr_assert_eq(sim_clock_link_set(clk, RIG_NS_PER_S), 0);
	cr_assert_eq(sensor_read(pressure, rd, READINGS_BATCH, &n), 0);
	cr_assert_eq(n, 50);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(rd[i].t_ns, (rig_ns)(i + 1) * 20 * RIG_NS_PER_MS, "reading %zu", i);
		cr_assert_eq(rd[i].quantity, QUANT_PRESSURE_KPA);
		/* at rest: 0 kPa, so the transducer's 500 mV (10 mV/kPa), within
		 * its 0.2 kPa noise and the ADC's 0.1875 mV count */
		cr_assert(fabs(rd[i].value - 500) < 10, "%.3f mV", rd[i].value);
	}
	cr_assert_eq(sensor_read(flow, rd, READINGS_BATCH, &n), 0);
	cr_assert_eq(n, 50);
	cr_assert_eq(rd[49].t_ns, RIG_NS_PER_S);
	cr_assert_eq(rd[0].quantity, QUANT_FLOW_ML_PER_H);
	/* no flow: the sensor's 250 mV (2000 mV per mL/h) */
	for (size_t i = 0; i < n; i++)
		cr_assert(fabs(rd[i].value - 250) < 20, "%.3f mV", rd[i].value);
	/* what rig set is put back when the last instrument that needs it
	 * closes: the flow channel's own rate at once, the trigger they share
	 * (and its rate) with the pressure channel */
	instrument_close(flow);
	out = sh("timeout 10 iio_attr -u %s -c ads1015 voltage1 sampling_frequency; "
		 "timeout 10 iio_attr -u %s -d trigger0 sampling_frequency", s.uri, s.uri);
	cr_assert_str_eq(out, "860\n50.000000\n");
	free(out);
	out = iiod_command(&s, "GETTRIG iio:device2", 2);
	cr_assert_str_eq(out, "9\nrig-timer\n");
	free(out);
	instrument_close(pressure);
	out = sh("timeout 10 iio_attr -u %s -c ads1015 voltage0 sampling_frequency; "
		 "timeout 10 iio_attr -u %s -d trigger0 sampling_frequency", s.uri, s.uri);
	cr_assert_str_eq(out, "860\n100.000000\n");
	free(out);
	out = iiod_command(&s, "GETTRIG iio:device2", 1);
	cr_assert_str_eq(out, "0\n");
	free(out);
	/* with the buffers closed the trigger may change again */
	out = iiod_command(&s, "SETTRIG iio:device2 trigger0", 1);
	cr_assert_str_eq(out, "0\n");
	free(out);
	sim_clock_link_close(clk);
	stop_server(&s);
	rig_clock_free(env.clock);
	free(b);
}

/* What driver_env.warn was told, a line each. */
static char warned[2048];

static void collect_warning(void *arg, const struct instrument_cfg *ic, const char *text)
{
	size_t n = strlen(warned);

	(void)arg;
	(void)ic;
	snprintf(warned + n, sizeof(warned) - n, "%s\n", text);
}

/* The iio backend's restore meets a kernel that will not take a setting
 * back (EBUSY: another client's buffer on the device is enabled; through
 * iiod 0.24 rig's own, for a moment after its CLOSE, docs/kernel-vm.md).
 * It asks again until the answer bound has passed, then says what stays
 * and why: never silently.  The settings the kernel does take are put
 * back all the same. */
Test(wire, a_setting_the_kernel_will_not_take_back_is_reported_never_dropped)
{
	struct server s = start_server();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b,
				  .answer_timeout_ns = 300 * RIG_NS_PER_MS, .warn = collect_warning };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s.port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static const char open_cmd[] = "OPEN iio:device2 16 00000001\r\n";
	struct instrument *pressure;
	struct sim_clock_link *clk;
	struct timespec t0, t1;
	char answer[8] = "";
	size_t len = 0;
	double took;
	int other = socket(AF_INET, SOCK_STREAM, 0);
	char *out;

	signal(SIGPIPE, SIG_IGN);
	warned[0] = '\0';
	snprintf(b->sim_clock_uri, sizeof(b->sim_clock_uri), "%s", s.uri);
	buffered_cfg(b, ROLE_PRESSURE, s.uri, "ads1015", "voltage0", 20 * RIG_NS_PER_MS, "rig-timer",
		     1, 0);
	cr_assert_eq(sim_clock_link_open(s.uri, &clk), 0);
	cr_assert_eq(instrument_open(&pressure, ROLE_PRESSURE, &env), 0);
	/* another client (iio_readdev on the board) opens a buffer on the
	 * same device, on the trigger rig assigned, and keeps it */
	cr_assert_geq(other, 0);
	cr_assert_eq(connect(other, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(send(other, open_cmd, strlen(open_cmd), MSG_NOSIGNAL), (ssize_t)strlen(open_cmd));
	while (len + 1 < sizeof(answer) && (len == 0 || answer[len - 1] != '\n'))
		cr_assert_eq(recv(other, answer + len++, 1, 0), 1);
	cr_assert_str_eq(answer, "0\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	instrument_close(pressure);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* asked again for the whole bound, then said, once */
	cr_assert_geq(took, 0.3, "%.3f s", took);
	cr_assert_geq(asprintf(&out, "IIO device \"ads1015\" at %s: trigger/current_trigger not put "
			       "back to \"\" (rig had set \"rig-timer\"): the kernel still refused it "
			       "after 0.3 s (Device or resource busy (EBUSY): its buffer still "
			       "enabled, by another client?)\n", s.uri), 0);
	cr_assert_str_eq(warned, out);
	free(out);
	/* the trigger stays as the kernel kept it; the rest is put back */
	out = iiod_command(&s, "GETTRIG iio:device2", 2);
	cr_assert_str_eq(out, "9\nrig-timer\n");
	free(out);
	out = sh("timeout 10 iio_attr -u %s -c ads1015 voltage0 sampling_frequency; "
		 "timeout 10 iio_attr -u %s -d trigger0 sampling_frequency", s.uri, s.uri);
	cr_assert_str_eq(out, "860\n100.000000\n");
	free(out);
	close(other);
	sim_clock_link_close(clk);
	stop_server(&s);
	rig_clock_free(env.clock);
	free(b);
}

/* A transducer wired across two inputs is read on the ADS1115's
 * differential channel (in_voltage0-voltage1): through a buffer and by
 * attribute, each reading is the two single-ended ones' difference at the
 * same instant, to the count.  The simulator computes one reading per
 * device per instant, so the three channels of a scan agree exactly, and
 * their noise makes a backend that read either input alone fail. */
Test(wire, a_differential_adc_channel_reads_the_difference_of_its_inputs)
{
	struct server s = start_server();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	struct reading d[READINGS_BATCH], p[READINGS_BATCH], f[READINGS_BATCH];
	struct instrument *diff, *pos, *neg;
	struct sim_clock_link *clk;
	size_t nd, np, nf, differ = 0;

	signal(SIGPIPE, SIG_IGN);
	snprintf(b->sim_clock_uri, sizeof(b->sim_clock_uri), "%s", s.uri);
	/* uncalibrated: the readings are the channels' mV */
	buffered_cfg(b, ROLE_PRESSURE, s.uri, "ads1015", "voltage0-voltage1", 20 * RIG_NS_PER_MS,
		     "rig-timer", 1, 0);
	buffered_cfg(b, ROLE_FLOW, s.uri, "ads1015", "voltage1", 20 * RIG_NS_PER_MS, "rig-timer", 1,
		     0);
	buffered_cfg(b, ROLE_SCALE, s.uri, "ads1015", "voltage0", 20 * RIG_NS_PER_MS, "rig-timer", 1,
		     0);
	cr_assert_eq(sim_clock_link_open(s.uri, &clk), 0);
	cr_assert_eq(instrument_open(&diff, ROLE_PRESSURE, &env), 0);
	cr_assert_eq(instrument_open(&neg, ROLE_FLOW, &env), 0);
	cr_assert_eq(instrument_open(&pos, ROLE_SCALE, &env), 0);
	cr_assert_eq(sim_clock_link_set(clk, RIG_NS_PER_S), 0);
	cr_assert_eq(sensor_read(diff, d, READINGS_BATCH, &nd), 0);
	cr_assert_eq(sensor_read(neg, f, READINGS_BATCH, &nf), 0);
	cr_assert_eq(sensor_read(pos, p, READINGS_BATCH, &np), 0);
	cr_assert_eq(nd, 50);
	cr_assert_eq(nf, nd);
	cr_assert_eq(np, nd);
	for (size_t i = 0; i < nd; i++) {
		cr_assert_eq(d[i].t_ns, p[i].t_ns);
		cr_assert_eq(d[i].t_ns, f[i].t_ns);
		/* 0.1875 mV a count on every channel: exact in a double */
		cr_assert_float_eq(d[i].value, p[i].value - f[i].value, 1e-9,
				   "scan %zu: %.4f mV, inputs %.4f - %.4f", i, d[i].value, p[i].value,
				   f[i].value);
		differ += fabs(d[i].value - f[i].value) > 1e-9 && fabs(d[i].value - p[i].value) > 1e-9;
	}
	cr_assert_gt(differ, nd / 2, "the difference too often equals one input: no noise?");
	instrument_close(pos);
	instrument_close(neg);
	instrument_close(diff);

	/* the same channel by attribute read, all three at one instant */
	for (size_t k = 0; k < 3; k++) {
		static const enum rig_role roles[] = { ROLE_PRESSURE, ROLE_FLOW, ROLE_SCALE };

		b->instrument[roles[k]].buffered = false;
		b->instrument[roles[k]].period_ns = RIG_NS_PER_S;
	}
	cr_assert_eq(instrument_open(&diff, ROLE_PRESSURE, &env), 0);
	cr_assert_eq(instrument_open(&neg, ROLE_FLOW, &env), 0);
	cr_assert_eq(instrument_open(&pos, ROLE_SCALE, &env), 0);
	cr_assert_eq(sim_clock_link_set(clk, 2 * RIG_NS_PER_S), 0);
	cr_assert_eq(sensor_read(diff, d, READINGS_BATCH, &nd), 0);
	cr_assert_eq(sensor_read(neg, f, READINGS_BATCH, &nf), 0);
	cr_assert_eq(sensor_read(pos, p, READINGS_BATCH, &np), 0);
	cr_assert_eq(nd, 1);
	cr_assert_float_eq(d[0].value, p[0].value - f[0].value, 1e-9, "%.4f mV, inputs %.4f - %.4f",
			   d[0].value, p[0].value, f[0].value);
	/* at rest: the transducer's 500 mV less the flow sensor's 250 mV */
	cr_assert(fabs(d[0].value - 250) < 25, "%.3f mV", d[0].value);
	instrument_close(pos);
	instrument_close(neg);
	instrument_close(diff);
	sim_clock_link_close(clk);
	stop_server(&s);
	rig_clock_free(env.clock);
	free(b);
}

/* The ADS1115 converts only at its data rates (8 .. 860 per second, listed
 * in sampling_frequency_available) and its driver refuses any other rate:
 * a period no rate keeps up with is refused at open, clearly, and a rate
 * off the list is refused by the simulator as by the kernel. */
Test(wire, an_adc_period_faster_than_its_fastest_data_rate_is_refused)
{
	struct server s = start_server();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	struct instrument *pressure = NULL;
	char why[200], *out;

	signal(SIGPIPE, SIG_IGN);
	snprintf(b->sim_clock_uri, sizeof(b->sim_clock_uri), "%s", s.uri);
	/* shared by all channels (the kernel's info_mask_shared_by_all_available):
	 * a device attribute */
	out = sh("timeout 10 iio_attr -u %s -d ads1015 sampling_frequency_available", s.uri);
	cr_assert_str_eq(out, "8 16 32 64 128 250 475 860\n");
	free(out);
	/* 1 ms: 1000 per second, beyond the 860 */
	buffered_cfg(b, ROLE_PRESSURE, s.uri, "ads1015", "voltage0", RIG_NS_PER_MS, "rig-timer", 1,
		     0);
	cr_assert_eq(instrument_open(&pressure, ROLE_PRESSURE, &env), -ERANGE);
	cr_assert_null(pressure);
	cr_assert_not_null(strstr(instrument_error_text(&b->instrument[ROLE_PRESSURE], -ERANGE, why,
							sizeof(why)),
				  "ads1015/voltage0 converts at most 860 times per second"), "%s", why);
	/* 2 ms, 500 per second: 860 keeps up */
	b->instrument[ROLE_PRESSURE].period_ns = 2 * RIG_NS_PER_MS;
	cr_assert_eq(instrument_open(&pressure, ROLE_PRESSURE, &env), 0);
	instrument_close(pressure);
	out = sh("timeout 10 iio_attr -u %s -c ads1015 voltage0 sampling_frequency", s.uri);
	cr_assert_str_eq(out, "860\n");
	free(out);
	/* a rate off the list, written by hand, is refused and changes nothing */
	out = sh("timeout 10 iio_attr -u %s -c ads1015 voltage0 sampling_frequency 100 2>&1; "
		 "timeout 10 iio_attr -u %s -c ads1015 voltage0 sampling_frequency", s.uri, s.uri);
	cr_assert_not_null(strstr(out, "860\n"), "%s", out);
	cr_assert_null(strstr(out, "100\n"), "%s", out);
	free(out);
	stop_server(&s);
	rig_clock_free(env.clock);
	free(b);
}

Test(wire, triggers_are_set_and_refused_as_iiod_and_the_kernel_do)
{
	struct server s = start_server();
	char *out;

	/* the ina226 has no trigger: no trigger/current_trigger to read */
	out = iiod_command(&s, "GETTRIG ina226", 1);
	cr_assert_str_eq(out, "-2\n");
	free(out);
	out = iiod_command(&s, "SETTRIG ina226 trigger0", 1);
	cr_assert_str_eq(out, "-2\n");
	free(out);
	/* a device that is not a trigger (libiio: EINVAL), no such one (iiod:
	 * ENOENT), no such device */
	out = iiod_command(&s, "SETTRIG hx711 ads1015", 1);
	cr_assert_str_eq(out, "-22\n");
	free(out);
	out = iiod_command(&s, "SETTRIG hx711 sysfstrig7", 1);
	cr_assert_str_eq(out, "-2\n");
	free(out);
	out = iiod_command(&s, "GETTRIG nosuch", 1);
	cr_assert_str_eq(out, "-19\n");
	free(out);
	/* the trigger's frequency as the hrtimer takes it: millihertz, more
	 * than 0 */
	free(sh("timeout 10 iio_attr -u %s -d rig-timer sampling_frequency 12.3456", s.uri));
	out = sh("timeout 10 iio_attr -u %s -d rig-timer sampling_frequency", s.uri);
	cr_assert_str_eq(out, "12.345000\n");
	free(out);
	out = sh("timeout 10 iio_attr -u %s -d rig-timer sampling_frequency 0 2>&1", s.uri);
	cr_assert_not_null(strstr(out, "Invalid argument"), "%s", out);
	free(out);
	/* by id or name; assigned, the hx711 buffer opens (SETTRIG answers 0) */
	out = iiod_command(&s, "SETTRIG iio:device0 rig-timer", 1);
	cr_assert_str_eq(out, "0\n");
	free(out);
	out = iiod_command(&s, "GETTRIG hx711", 2);
	cr_assert_str_eq(out, "9\nrig-timer\n");
	free(out);
	stop_server(&s);
}

Test(wire, a_triggered_buffer_without_its_trigger_is_refused_clearly)
{
	struct server s = start_server_with("fixtures/bench/wire.cfg");
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b };
	struct instrument *inst = NULL;
	char *dir = th_tmpdir(), *bench, *out;

	signal(SIGPIPE, SIG_IGN);
	/* at open: the kernel's (the simulator's) EINVAL for a buffer with no
	 * trigger, and a trigger that is not there */
	buffered_cfg(b, ROLE_PRESSURE, s.uri, "iio:device2", "voltage0", 20 * RIG_NS_PER_MS, NULL,
		     0.1, -50);
	cr_assert_eq(instrument_open(&inst, ROLE_PRESSURE, &env), -EINVAL);
	cr_assert_null(inst);
	buffered_cfg(b, ROLE_PRESSURE, s.uri, "ads1015", "voltage0", 20 * RIG_NS_PER_MS,
		     "sysfstrig7", 0.1, -50);
	cr_assert_eq(instrument_open(&inst, ROLE_PRESSURE, &env), -ENXIO);
	cr_assert_null(inst);
	/* at load, where the device is known by name: the file, the line,
	 * the device and the key to set, before anything is opened */
	bench = wire_bench_with(dir, &s, "capture = \"buffer\"; trigger = \"rig-timer\";",
				"capture = \"buffer\";");
	cr_assert_eq(th_rig(dir, (const char *[]){ "probe", "--bench", bench, NULL }), 2);
	out = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(out, "wire.cfg:"), "%s", out);
	cr_assert_not_null(strstr(out, "buffered capture on IIO device 'ads1015' needs a trigger"),
			   "%s", out);
	cr_assert_not_null(strstr(out, "set trigger = \"NAME\""), "%s", out);
	free(out);
	free(bench);
	/* given one (as wire.cfg does), the same bench probes clean, at 20 ms too */
	bench = wire_bench_with(dir, &s, "channel = \"voltage0\";\n      period = \"1 s\";",
				"channel = \"voltage0\";\n      period = \"20 ms\";");
	cr_assert_eq(th_rig(dir, (const char *[]){ "probe", "--bench", bench, NULL }), 0);
	out = th_slurp(dir, "stdout");
	cr_assert_null(strstr(out, "ERROR"), "%s", out);
	free(out);
	free(bench);
	stop_server(&s);
	rig_clock_free(env.clock);
	free(b);
	free(dir);
}

/* An instrument on the iio backend, opened through the driver interface. */
static struct instrument *open_iio(struct driver_env *env, struct bench *b, const char *uri,
				   enum rig_role role, const char *device, const char *channel,
				   double gain, double offset)
{
	struct instrument *inst;
	struct instrument_cfg *ic = &b->instrument[role];

	*ic = (struct instrument_cfg){ .present = true, .period_ns = RIG_NS_PER_S,
				       .cal = { .gain = gain, .offset = offset } };
	snprintf(ic->backend, sizeof(ic->backend), "iio");
	snprintf(ic->uri, sizeof(ic->uri), "%s", uri);
	snprintf(ic->device, sizeof(ic->device), "%s", device);
	snprintf(ic->channel, sizeof(ic->channel), "%s", channel);
	env->bench = b;
	cr_assert_eq(instrument_open(&inst, role, env), 0, "%s %s", device, channel);
	return inst;
}

Test(wire, the_iio_backend_reads_the_simulated_bench_in_physical_units)
{
	struct server s = start_server();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual() };
	struct reading rd[READINGS_MAX];
	struct instrument *scale, *pressure, *power, *valve;
	size_t n;

	/* libiio writes to its socket without MSG_NOSIGNAL (DESIGN.md); rig
	 * ignores SIGPIPE, and so must this test */
	signal(SIGPIPE, SIG_IGN);

	scale = open_iio(&env, b, s.uri, ROLE_SCALE, "hx711", "voltage0", 10, -195.28679424);
	pressure = open_iio(&env, b, s.uri, ROLE_PRESSURE, "ads1015", "voltage0", 0.1, -50);
	power = open_iio(&env, b, s.uri, ROLE_POWER, "ina226", "current3", 1, 0);
	valve = open_iio(&env, b, s.uri, ROLE_VALVE, "mcp4725", "voltage0", 1, 0);

	/* the 20 g vessel on the pan, to the load cell's 23 ug count */
	cr_assert_eq(sensor_read(scale, rd, READINGS_MAX, &n), 0);
	cr_assert(fabs(rd[0].value - 20) < 1e-3, "%.6f g", rd[0].value);
	cr_assert_eq(sensor_tare(scale), 0);
	cr_assert_eq(sensor_read(scale, rd, READINGS_MAX, &n), 0);
	cr_assert(fabs(rd[0].value) < 0.2e-3, "after tare %.6f g", rd[0].value);
	cr_assert_eq(sensor_read(pressure, rd, READINGS_MAX, &n), 0);
	cr_assert(fabs(rd[0].value) < 2, "%.3f kPa at rest", rd[0].value);
	/* quiescent 20 uA on a battery at 3.2 V */
	cr_assert_eq(sensor_read(power, rd, READINGS_MAX, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert(fabs(rd[0].value - 20) < 1, "%.2f uA", rd[0].value);
	cr_assert(fabs(rd[1].value - 3.2) < 0.01, "%.3f V", rd[1].value);
	cr_assert_eq(valve_set_closed(valve, true), 0);
	free(sh("true"));
	instrument_close(valve);
	/* closing left the valve at its safe state (open: DAC at 0) */
	{
		char *out = sh("timeout 10 iio_attr -u %s -o -c mcp4725 voltage0 raw", s.uri);

		cr_assert_str_eq(out, "0\n");
		free(out);
	}
	/* a simulator that goes away is an error, not a stale value */
	stop_server(&s);
	cr_assert_lt(sensor_read(pressure, rd, READINGS_MAX, &n), 0);
	instrument_close(scale);
	instrument_close(pressure);
	instrument_close(power);
	rig_clock_free(env.clock);
	free(b);
}

/* A valve whose safe state cannot be set on closing (the board stopped
 * answering) is reported through driver_env.warn, with why, never
 * dropped. */
Test(wire, a_valve_not_left_at_its_safe_state_on_closing_is_reported)
{
	struct server s = start_server();
	struct bench *b = calloc(1, sizeof(*b));
	struct driver_env env = { .clock = rig_clock_new_virtual(), .bench = b,
				  .answer_timeout_ns = 300 * RIG_NS_PER_MS, .warn = collect_warning };
	struct instrument *valve;
	char *want;

	signal(SIGPIPE, SIG_IGN);
	warned[0] = '\0';
	valve = open_iio(&env, b, s.uri, ROLE_VALVE, "mcp4725", "voltage0", 1, 0);
	cr_assert_eq(valve_set_closed(valve, true), 0);
	cr_assert_eq(kill(s.pid, SIGSTOP), 0);
	instrument_close(valve);
	cr_assert_eq(kill(s.pid, SIGCONT), 0);
	cr_assert_geq(asprintf(&want, "the valve not left open on closing: no answer from %s within "
			       "0.3 s (setting mcp4725 voltage0 raw)\n", s.uri), 0);
	cr_assert_str_eq(warned, want);
	free(want);
	stop_server(&s);
	rig_clock_free(env.clock);
	free(b);
}

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
#include "rig/base/clock.h"

struct server {
	pid_t pid;
	unsigned port;
	char uri[64];
	char pump[64], balance[64];
};

static struct server start_server_at(const char *bench, const char *links_dir);
static struct server start_server_real_time(void);
static char *wire_bench_with(const char *dir, const struct server *s, const char *from0,
			     const char *to0);

static struct server start_server_with(const char *bench_rel)
{
	char *bench = th_src(bench_rel);
	struct server s = start_server_at(bench, NULL);

	free(bench);
	return s;
}

static bool g_real_time;

/* The simulator following the wall clock (--real-time). */
static struct server start_server_real_time(void)
{
	char *bench = th_src("fixtures/bench/sim.cfg");
	struct server s;

	g_real_time = true;
	s = start_server_at(bench, NULL);
	g_real_time = false;
	free(bench);
	return s;
}

/* The simulator on a bench file given by path; links_dir: --links. */
static struct server start_server_at(const char *bench, const char *links_dir)
{
	char line[256];
	struct server s = { 0 };
	int fd[2];
	FILE *out;

	cr_assert_eq(pipe(fd), 0);
	s.pid = fork();
	cr_assert_neq(s.pid, -1);
	if (s.pid == 0) {
		/* the simulator goes when the test does, whatever happens to it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		if (g_real_time)
			execl(RIG_BINARY, RIG_BINARY, "sim", "serve", "--bench", bench, "--real-time",
			      (char *)NULL);
		else if (links_dir)
			execl(RIG_BINARY, RIG_BINARY, "sim", "serve", "--bench", bench, "--links",
			      links_dir, (char *)NULL);
		else
			execl(RIG_BINARY, RIG_BINARY, "sim", "serve", "--bench", bench, (char *)NULL);
		_exit(98);
	}
	close(fd[1]);
	out = fdopen(fd[0], "r");
	while (fgets(line, sizeof(line), out)) {
		if (sscanf(line, "iio ip:127.0.0.1:%u", &s.port) == 1)
			continue;
		if (sscanf(line, "pump %63s", s.pump) == 1 || sscanf(line, "balance %63s", s.balance) == 1)
			continue;
		if (strcmp(line, "ready\n") == 0)
			break;
	}
	fclose(out);
	cr_assert_neq(s.port, 0, "the simulator announced no port");
	snprintf(s.uri, sizeof(s.uri), "ip:127.0.0.1:%u", s.port);
	return s;
}

static struct server start_server(void)
{
	return start_server_with("fixtures/bench/sim.cfg");
}

static void stop_server(struct server *s)
{
	int status;

	kill(s->pid, SIGTERM);
	cr_assert_eq(waitpid(s->pid, &status, 0), s->pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the simulator did not stop cleanly");
}

/* Runs a shell command, returns its stdout. */
static char *sh(const char *fmt, ...)
{
	char *cmd, *out = NULL, buf[4096];
	size_t len = 0;
	va_list ap;
	FILE *p, *m = open_memstream(&out, &len);
	size_t n;

	va_start(ap, fmt);
	cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, m);
	pclose(p);
	fclose(m);
	free(cmd);
	return out;
}

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
	bench = wire_bench_with(dir, &s, "channel = \"voltage0\";\n      period = \"1 s\";",
				"channel = \"voltage0\";\n      period = \"20 ms\";");
	cr_assert_eq(th_rig(dir, (const char *[]){ "probe", "--bench", bench, NULL }), 2);
	out = th_slurp(dir, "stderr");
	cr_assert_not_null(strstr(out, "wire.cfg:"), "%s", out);
	cr_assert_not_null(strstr(out, "buffered capture on IIO device 'ads1015' needs a trigger"),
			   "%s", out);
	cr_assert_not_null(strstr(out, "set trigger = \"NAME\""), "%s", out);
	free(out);
	free(bench);
	/* given one, the same bench probes clean */
	bench = wire_bench_with(dir, &s, "channel = \"voltage0\";\n      period = \"1 s\";",
				"channel = \"voltage0\";\n      period = \"20 ms\"; "
				"trigger = \"rig-timer\";");
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

/* ---------------------------------------------------- runs over the wire -- */

/* The shipped wire bench, pointed at this simulator's port and terminals. */
static char *wire_bench_with(const char *dir, const struct server *s, const char *from0,
			     const char *to0)
{
	char *src = th_src("fixtures/bench/wire.cfg"), *text = th_read_file(src), *path;
	const char *from[] = { from0 ? from0 : "\x01", "ip:127.0.0.1:30431", "/tmp/pumprig-sim/pump",
			       "/tmp/pumprig-sim/balance" };
	const char *to[] = { to0, s->uri, s->pump, s->balance };

	cr_assert_not_null(text);
	for (int k = 0; k < 4; k++) {
		char *at;

		while ((at = strstr(text, from[k]))) {
			char *out;

			cr_assert_geq(asprintf(&out, "%.*s%s%s", (int)(at - text), text, to[k],
					       at + strlen(from[k])), 0);
			free(text);
			text = out;
		}
	}
	path = th_write_file(dir, "wire.cfg", text);
	free(text);
	free(src);
	return path;
}

static char *wire_bench(const char *dir, const struct server *s)
{
	return wire_bench_with(dir, s, NULL, NULL);
}

static json_t *load_results(const char *run)
{
	char *path;
	json_t *root;

	cr_assert_geq(asprintf(&path, "%s/results.json", run), 0);
	root = json_load_file(path, 0, NULL);
	cr_assert_not_null(root, "%s", path);
	free(path);
	return root;
}

Test(wire, the_qualification_suite_over_the_wire_agrees_with_the_in_process_simulation,
     .timeout = 600)
{
	struct server s = start_server_with("fixtures/bench/wire.cfg");
	char *dir = th_tmpdir(), *bench = wire_bench(dir, &s), *seq = th_src("sequences/qualification.cfg");
	char *dut = th_src("fixtures/dut/itp-40.cfg"), *sim = th_src("fixtures/bench/sim.cfg");
	char *run_wire, *run_sim;
	json_t *a, *b;
	size_t i;

	cr_assert_geq(asprintf(&run_wire, "%s/wire", dir), 0);
	cr_assert_geq(asprintf(&run_sim, "%s/sim", dir), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", run_wire, "-q", NULL }), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", sim, "--dut", dut,
						   "--output", run_sim, "-q", NULL }), 0);
	a = load_results(run_wire);
	b = load_results(run_sim);
	/* the pump's telemetry came over its link into the record, the
	 * reservoir among it */
	{
		char *samples = th_slurp(run_wire, "samples.csv");

		cr_assert_not_null(strstr(samples, ",pump,reservoir,"), "no reservoir telemetry");
		cr_assert_not_null(strstr(samples, ",pump,delivered,"), "no delivered telemetry");
		free(samples);
	}
	cr_assert_eq(json_array_size(json_object_get(a, "checks")), 6);
	for (i = 0; i < 6; i++) {
		json_t *ca = json_array_get(json_object_get(a, "checks"), i);
		json_t *cb = json_array_get(json_object_get(b, "checks"), i);
		double ma = json_number_value(json_object_get(ca, "measured"));
		double mb = json_number_value(json_object_get(cb, "measured"));
		double ua = json_number_value(json_object_get(ca, "U"));
		double ub = json_number_value(json_object_get(cb, "U"));
		const char *what = json_string_value(json_object_get(ca, "check"));

		cr_assert_str_eq(json_string_value(json_object_get(ca, "verdict")),
				 json_string_value(json_object_get(cb, "verdict")), "%s", what);
		/* the same physics through other instruments: the same value
		 * within the two measurements' uncertainties (and, for the
		 * occlusion time, the pump's 1 s status polling) */
		cr_assert(fabs(ma - mb) <= ua + ub + (strcmp(what, "occlusion") == 0 ? 1.0 : 0),
			  "%s: wire %.6g +- %.3g, in-process %.6g +- %.3g", what, ma, ua, mb, ub);
	}
	json_decref(a);
	json_decref(b);
	stop_server(&s);
	free(dir);
	free(bench);
	free(seq);
	free(dut);
	free(sim);
	free(run_wire);
	free(run_sim);
}

Test(wire, killing_the_simulator_mid_run_aborts_safely_and_keeps_the_samples, .timeout = 120)
{
	struct server s = start_server_with("fixtures/bench/wire.cfg");
	char *dir = th_tmpdir(), *bench = wire_bench(dir, &s), *seq = th_src("sequences/dose-accuracy.cfg");
	char *dut = th_src("fixtures/dut/itp-40.cfg"), *run, *samples, *events;
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	pid_t rig;
	int status;
	size_t rows_at_kill = 0;

	cr_assert_geq(asprintf(&run, "%s/run", dir), 0);
	rig = th_rig_spawn(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						  "--output", run, "-q", NULL });
	/* wait until the run is well under way (samples on disk), then kill
	 * the simulator as a power cut would */
	for (;;) {
		char *text = th_slurp(run, "samples.csv");
		size_t rows = 0;

		for (char *p = text; p && *p; p++)
			rows += *p == '\n';
		free(text);
		if (rows > 2000) {
			rows_at_kill = rows;
			break;
		}
		nanosleep(&pause, NULL);
	}
	kill(s.pid, SIGKILL);
	waitpid(s.pid, &status, 0);
	cr_assert_eq(th_rig_wait(rig), 3);
	samples = th_slurp(run, "samples.csv");
	events = th_slurp(run, "events.jsonl");
	{
		size_t rows = 0;

		for (char *p = samples; *p; p++)
			rows += *p == '\n';
		cr_assert_geq(rows, rows_at_kill, "samples taken before the fault were lost");
	}
	/* every pressure reading (1 s) from the start to the fault, without a
	 * hole, the last within two periods of the fault's time */
	{
		const char *fault = strstr(events, "\"event\":\"fault\"");
		const char *line;
		long long fault_t, prev = -1, n = 0;

		cr_assert_not_null(fault, "no fault recorded:\n%s", events);
		for (line = fault; line > events && line[-1] != '\n'; line--)
			;
		cr_assert_eq(sscanf(line, "{\"t_ns\":%lld", &fault_t), 1, "%s", line);
		for (const char *p = samples; (p = strchr(p, '\n')) && p[1]; p++) {
			long long t;
			char role[16];

			if (sscanf(p + 1, "%lld,%15[^,]", &t, role) != 2 || strcmp(role, "pressure") != 0)
				continue;
			if (prev >= 0)
				cr_assert_eq(t - prev, 1000000000LL, "a hole in the pressure readings at %lld",
					     prev);
			prev = t;
			n++;
		}
		cr_assert_gt(n, 300);
		cr_assert_geq(prev, fault_t - 2000000000LL, "readings before the fault at %lld ns were "
			      "lost: the last is at %lld ns", fault_t, prev);
	}
	/* the safe-state sequence ran to its end though nothing answered: every
	 * stop and valve attempt made, and the record says the bench may not be
	 * safe (the simulator was the bench), as stderr does */
	{
		const char *safe = strstr(events, "\"event\":\"safe_state\"");
		char *err = th_slurp(dir, "stderr");

		cr_assert_not_null(safe, "%s", events);
		cr_assert_not_null(strstr(safe, "\"pump_stop_attempts\":5"), "%s", safe);
		cr_assert_not_null(strstr(safe, "\"valve_attempts\":5"), "%s", safe);
		cr_assert_not_null(strstr(safe, "\"bench_safe\":false"), "%s", safe);
		cr_assert_not_null(strstr(safe, "\"event\":\"run_end\",\"status\":\"aborted\""));
		cr_assert_not_null(strstr(err, "THE BENCH MAY NOT BE SAFE"), "%s", err);
		/* a link gone is named as gone, not as a bad descriptor */
		cr_assert_null(strstr(events, "Bad file descriptor"), "%s", events);
		free(err);
	}
	free(samples);
	free(events);
	free(dir);
	free(bench);
	free(seq);
	free(dut);
	free(run);
}

Test(wire, probe_reads_every_instrument_of_the_wire_bench)
{
	struct server s = start_server_with("fixtures/bench/wire.cfg");
	char *dir = th_tmpdir(), *bench = wire_bench(dir, &s), *out;

	cr_assert_eq(th_rig(dir, (const char *[]){ "probe", "--bench", bench, NULL }), 0);
	out = th_slurp(dir, "stdout");
	cr_assert_not_null(strstr(out, "pumplink"), "%s", out);
	cr_assert_not_null(strstr(out, "mtsics"), "%s", out);
	cr_assert_not_null(strstr(out, "ads1015/voltage0"), "%s", out);
	cr_assert_null(strstr(out, "ERROR"), "%s", out);
	free(out);
	stop_server(&s);
	free(bench);
	free(dir);
}

/* A bench file naming a device the board does not have says which, and
 * how to see what it has, before any run. */
Test(wire, probe_names_an_iio_device_the_board_does_not_have)
{
	struct server s = start_server_with("fixtures/bench/wire.cfg");
	char *dir = th_tmpdir(), *out, *expect;
	char *bench = wire_bench_with(dir, &s, "device = \"ina226\"", "device = \"ina219\"");

	cr_assert_eq(th_rig(dir, (const char *[]){ "probe", "--bench", bench, NULL }), 1);
	out = th_slurp(dir, "stdout");
	cr_assert_geq(asprintf(&expect, "ERROR: no IIO device \"ina219\" in %s (iio_info -u %s "
			       "lists what is there)", s.uri, s.uri), 0);
	cr_assert_not_null(strstr(out, expect), "%s", out);
	/* the others still answer */
	cr_assert_not_null(strstr(out, "ads1015/voltage0"), "%s", out);
	cr_assert_null(strstr(strstr(out, "ERROR") + 1, "ERROR"), "one error only:\n%s", out);
	free(expect);
	free(out);
	stop_server(&s);
	free(bench);
	free(dir);
}

Test(wire, a_two_point_calibration_of_the_load_cell_recovers_its_sensitivity)
{
	struct server s = start_server_with("fixtures/bench/wire.cfg");
	char *dir = th_tmpdir(), *record, line[256], *text;
	char *bench = wire_bench_with(dir, &s,
		"backend = \"mtsics\"; device = \"/tmp/pumprig-sim/balance\"; baud = 9600;",
		"backend = \"iio\"; uri = \"ip:127.0.0.1:30431\"; device = \"hx711\"; "
		"channel = \"voltage0\";");
	int in[2], out[2], status;
	double gain = 0, offset = 0;
	FILE *from, *to;
	pid_t pid;

	cr_assert_geq(asprintf(&record, "%s/calibration.cfg", dir), 0);
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[1]);
		close(out[0]);
		execl(RIG_BINARY, RIG_BINARY, "calibrate", "scale", "--bench", bench, "--reference",
		      "50 g", "--record", record, (char *)NULL);
		_exit(98);
	}
	close(in[0]);
	close(out[1]);
	from = fdopen(out[0], "r");
	to = fdopen(in[1], "w");
	/* the operator: empties the pan (the vessel stays: it is the zero) ... */
	cr_assert_not_null(fgets(line, sizeof(line), from));
	cr_assert_not_null(strstr(line, "Empty the scale's pan"), "%s", line);
	fputs("\n", to);
	fflush(to);
	/* ... then puts a 50 g reference weight on it */
	cr_assert_not_null(fgets(line, sizeof(line), from));
	cr_assert_not_null(strstr(line, "50 g reference"), "%s", line);
	free(sh("timeout 10 iio_attr -u %s -d pumprig-clock pan_weight_g 50", s.uri));
	fputs("\n", to);
	fflush(to);
	cr_assert_not_null(fgets(line, sizeof(line), from));
	cr_assert_eq(sscanf(line, "calibration = { gain = %lf; offset = \"%lf g\"", &gain, &offset), 2,
		     "%s", line);
	fclose(to);
	fclose(from);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the simulated load cell gives 0.1 mV/g: 10 g/mV, and the 20 g vessel
	 * plus the ADC's offset binary (195.28679 g) below zero */
	cr_assert(fabs(gain / 10 - 1) < 1e-3, "gain %.6f g/mV", gain);
	cr_assert(fabs(offset - -(195.28679 + 20)) < 0.05, "offset %.4f g", offset);
	text = th_read_file(record);
	cr_assert_not_null(strstr(text, "date = \""), "%s", text);
	cr_assert_not_null(strstr(text, "reference 50 g"), "%s", text);
	free(text);
	stop_server(&s);
	free(record);
	free(bench);
	free(dir);
}

/* ------------------------------------------------ the pump link's faults -- */

/* The bolus goes at 3630.5 s (tare settled at 30 s, then 3600.5 s), off the
 * 1 s grid of the pump's status polls, so a fault at that instant meets the
 * bolus command itself. */
static const char bolus_seq[] =
	"sequence = {\n"
	"  id = \"T-PUMPLINK\"; version = \"1\"; title = \"a bolus across a pump link fault\";\n"
	"  steps = (\n"
	"    { step = \"tare\"; timeout = \"5 min\"; },\n"
	"    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"begin\"; },\n"
	"    { step = \"hold\"; duration = \"3600.5 s\"; },\n"
	"    { step = \"bolus\"; volume = \"0.05 mL\"; rate = \"1 mL/h\"; timeout = \"1 h\"; },\n"
	"    { step = \"hold\"; duration = \"1 h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"end\"; },\n"
	"    { step = \"hold\"; duration = \"65 s\"; },\n"
	"    { step = \"stop\"; },\n"
	"    { step = \"check\"; check = \"dose_accuracy\"; window = \"w\"; }\n"
	"  );\n"
	"};\n";

/* Text with every `from` replaced by `to`; frees text. */
static char *replace_all(char *text, const char *from, const char *to)
{
	char *at, *out;
	size_t skip = 0;

	while ((at = strstr(text + skip, from))) {
		size_t pos = (size_t)(at - text);

		cr_assert_geq(asprintf(&out, "%.*s%s%s", (int)pos, text, to, at + strlen(from)), 0);
		free(text);
		text = out;
		skip = pos + strlen(to);
	}
	return text;
}

struct pump_fault_run {
	int status;
	char *events, *wire_log, *samples;
	double delivered_ml;
};

static double delivered_ml_of(const char *run)
{
	json_t *res = load_results(run);
	json_t *c = json_array_get(json_object_get(res, "checks"), 0);
	double d = json_number_value(json_object_get(json_object_get(c, "inputs"), "delivered_ml"));

	json_decref(res);
	return d;
}

/* The wire bench with a pump fault and a pump reconnect bound, served by a
 * simulator whose pump terminal is reached through --links DIR/pump (it may
 * be replaced while the run goes on), and the bolus sequence run on it. */
static struct pump_fault_run run_pump_fault(const char *fault, const char *reconnect)
{
	char *dir = th_tmpdir(), *src = th_src("fixtures/bench/wire.cfg"), *text = th_read_file(src);
	char *bench, *links, *pump_link, *seq, *dut = th_src("fixtures/dut/itp-40.cfg"), *run;
	struct pump_fault_run o = { 0 };
	struct server s;

	cr_assert_geq(asprintf(&links, "%s/links", dir), 0);
	cr_assert_geq(asprintf(&pump_link, "%s/pump", links), 0);
	text = replace_all(text, "simulator = {", fault);
	{
		char *with;

		cr_assert_geq(asprintf(&with, "serial = \"SIM-PUMP\"; reconnect = \"%s\";", reconnect),
			      0);
		text = replace_all(text, "serial = \"SIM-PUMP\";", with);
		free(with);
	}
	bench = th_write_file(dir, "wire.cfg", text);
	s = start_server_at(bench, links);
	free(bench);
	text = replace_all(text, "ip:127.0.0.1:30431", s.uri);
	text = replace_all(text, "/tmp/pumprig-sim/pump", pump_link);
	text = replace_all(text, "/tmp/pumprig-sim/balance", s.balance);
	bench = th_write_file(dir, "wire.cfg", text);
	seq = th_write_file(dir, "seq.cfg", bolus_seq);
	cr_assert_geq(asprintf(&run, "%s/run", dir), 0);
	o.status = th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						 "--output", run, "-q", NULL });
	o.events = th_slurp(run, "events.jsonl");
	o.wire_log = th_slurp(run, "wire-pump.log");
	o.samples = th_slurp(run, "samples.csv");
	cr_assert_not_null(o.events, "%s", th_slurp(dir, "stderr"));
	cr_assert_not_null(o.wire_log);
	o.delivered_ml = o.status == 0 ? delivered_ml_of(run) : NAN;
	stop_server(&s);
	free(text);
	free(src);
	free(bench);
	free(links);
	free(pump_link);
	free(seq);
	free(dut);
	free(run);
	free(dir);
	return o;
}

/* The same sequence on the in-process simulated bench with the same seed,
 * no fault: what one bolus puts into the vessel. */
static double in_process_delivered_ml(void)
{
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", bolus_seq), *run;
	char *bench = th_src("fixtures/bench/sim.cfg"), *dut = th_src("fixtures/dut/itp-40.cfg");
	double d;

	cr_assert_geq(asprintf(&run, "%s/run", dir), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", run, "-q", NULL }), 0);
	d = delivered_ml_of(run);
	free(dir);
	free(seq);
	free(run);
	free(bench);
	free(dut);
	return d;
}

/* How many distinct sequence numbers carried a BOLUS to the pump. */
static int bolus_commands_sent(const char *log)
{
	long seen[16];
	int n = 0;

	for (const char *p = log; (p = strstr(p, " > ")); p++) {
		char *end;
		long seq = strtol(p + 3, &end, 10);
		bool dup = false;

		if (strncmp(end, " BOLUS", 6) != 0)
			continue;
		for (int i = 0; i < n; i++)
			dup |= seen[i] == seq;
		if (!dup && n < 16)
			seen[n++] = seq;
	}
	return n;
}

Test(wire, a_bolus_whose_answer_is_lost_on_the_wire_is_given_once, .timeout = 240)
{
	double ref = in_process_delivered_ml();
	struct pump_fault_run o = run_pump_fault(
		"simulator = {\n faults = ( { role = \"pump\"; kind = \"lost_reply\"; "
		"at = \"3630.5 s\"; duration = \"20 s\"; } );", "1 min");
	const char *resync = strstr(o.events, "\"event\":\"pump_resync\"");

	cr_assert_eq(o.status, 0, "%s", o.events);
	cr_assert_not_null(strstr(o.events, "\"during\":\"bolus\""), "%s", o.events);
	cr_assert_not_null(resync, "%s", o.events);
	cr_assert_not_null(strstr(resync, "\"applied\":true"), "%s", resync);
	cr_assert_not_null(strstr(o.events, "\"event\":\"instrument_recovered\",\"role\":\"pump\""));
	/* the host retried the line (same sequence number: the simulated pump
	 * answers a retry without carrying it out again), and sent no second
	 * bolus after the gap */
	cr_assert_eq(bolus_commands_sent(o.wire_log), 1, "%s", o.wire_log);
	/* and the vessel got one bolus: 0.05 mL more would be a second */
	cr_assert(fabs(o.delivered_ml - ref) < 0.01, "wire %.5f mL, in-process %.5f mL",
		  o.delivered_ml, ref);
	/* the power monitor is buffered and collected every 10 s: its scans
	 * since the last collection are collected when the run ends, so the
	 * record reaches the end (its 1 s period) and not only the last batch */
	{
		const char *end = strstr(o.events, "\"event\":\"run_end\""), *p, *last = NULL;
		long long t_end, t_last;

		cr_assert_not_null(end);
		while (end > o.events && strncmp(end, "{\"t_ns\":", 8) != 0)
			end--;
		t_end = strtoll(end + 8, NULL, 10);
		for (p = o.samples; (p = strstr(p, ",power,current,")); p++)
			last = p;
		cr_assert_not_null(last);
		while (last > o.samples && last[-1] != '\n')
			last--;
		t_last = strtoll(last, NULL, 10);
		cr_assert(t_last <= t_end && t_end - t_last < RIG_NS_PER_S,
			  "last power scan at %lld ns, run end at %lld ns", t_last, t_end);
	}
	free(o.events);
	free(o.wire_log);
	free(o.samples);
}

Test(wire, an_unplugged_pump_link_comes_back_under_its_name_and_the_bolus_goes_once,
     .timeout = 240)
{
	double ref = in_process_delivered_ml();
	struct pump_fault_run o = run_pump_fault(
		"simulator = {\n faults = ( { role = \"pump\"; kind = \"unplug\"; "
		"at = \"3630.5 s\"; duration = \"20 s\"; } );", "1 min");
	const char *fault = strstr(o.events, "\"event\":\"instrument_fault\",\"role\":\"pump\"");
	const char *resync = strstr(o.events, "\"event\":\"pump_resync\"");
	const char *rec = strstr(o.events, "\"event\":\"instrument_recovered\",\"role\":\"pump\"");

	cr_assert_eq(o.status, 0, "%s", o.events);
	cr_assert_not_null(fault, "%s", o.events);
	cr_assert_not_null(rec, "%s", o.events);
	cr_assert_not_null(resync, "%s", o.events);
	/* the pump never saw the bolus while its link was away: sent again */
	cr_assert_not_null(strstr(resync, "\"applied\":false"), "%s", resync);
	cr_assert_eq(bolus_commands_sent(o.wire_log), 2, "%s", o.wire_log);
	/* back at the first 5 s retry after the 20 s unplug */
	{
		double gap = strtod(strstr(rec, "\"gap_s\":") + 8, NULL);

		cr_assert(gap >= 20 && gap <= 25, "gap %.1f s", gap);
	}
	/* one bolus in the vessel, 25 s late, inside the window */
	cr_assert(fabs(o.delivered_ml - ref) < 0.01, "wire %.5f mL, in-process %.5f mL",
		  o.delivered_ml, ref);
	free(o.events);
	free(o.wire_log);
	free(o.samples);
}

Test(wire, a_pump_link_silent_past_its_bound_aborts_safely_with_every_byte_logged,
     .timeout = 240)
{
	struct pump_fault_run o = run_pump_fault(
		"simulator = {\n faults = ( { role = \"pump\"; kind = \"no_answer\"; "
		"at = \"3630.5 s\"; duration = \"5 min\"; } );", "15 s");
	const char *safe = strstr(o.events, "\"event\":\"safe_state\"");

	cr_assert_eq(o.status, 3, "%s", o.events);
	cr_assert_not_null(strstr(o.events, "pump link did not come back within 15 s"), "%s",
			   o.events);
	cr_assert_not_null(safe);
	cr_assert_not_null(strstr(o.events, "\"status\":\"aborted\""));
	/* the unanswered lines are in the wire log, retries and reopens alike */
	cr_assert_geq(bolus_commands_sent(o.wire_log), 1);
	cr_assert_not_null(strstr(o.wire_log, "STATUS"));
	free(o.events);
	free(o.wire_log);
	free(o.samples);
}

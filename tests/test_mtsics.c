/* The MT-SICS balance backend (drivers/mtsics/api.c) against a balance
 * played by the test on a pseudo-terminal (the test holds the master, the
 * backend opens the slave as it would a USB serial adapter), the wire
 * simulator's balance (`rig sim serve`), and `rig calibrate scale` on a
 * balance.  What the backend sent and got is read back from its
 * wire-balance.log. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "drivers/driver.h"
#include "helpers.h"
#include "rig/engine/calibrate.h"
#include "rig/base/clock.h"
#include "rig/base/diag.h"
#include "drivers/sim/model.h"

/* ------------------------------------------------- a balance on a pty -- */

/* One exchange of the played balance: the command it expects, how long it
 * takes to answer (a balance settling) and the answer (NULL: none). */
struct exchange {
	const char *cmd;
	int delay_ms;
	const char *answer;
};

struct fake {
	int master;
	char slave[64];
	const struct exchange *script;
	size_t n_steps;
	char got[256];        /* the commands received, "|"-separated */
	pthread_t thread;
};

static void ms_sleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Reads one CR LF line from the master (blocking). */
static bool fake_read_line(struct fake *f, char *buf, size_t size)
{
	size_t n = 0;
	char c;

	while (read(f->master, &c, 1) == 1) {
		if (c == '\n') {
			if (n > 0 && buf[n - 1] == '\r')
				n--;
			buf[n] = '\0';
			return true;
		}
		if (n + 1 < size)
			buf[n++] = c;
	}
	return false;
}

static void *fake_serve(void *arg)
{
	struct fake *f = arg;
	char line[64];

	for (size_t i = 0; i < f->n_steps && fake_read_line(f, line, sizeof(line)); i++) {
		const struct exchange *s = &f->script[i];

		strncat(f->got, line, sizeof(f->got) - strlen(f->got) - 2);
		strcat(f->got, "|");
		if (strcmp(line, s->cmd) != 0)
			break;
		if (s->delay_ms)
			ms_sleep(s->delay_ms);   /* the stimulus: a balance taking its time */
		if (s->answer)
			cr_assert_eq(write(f->master, s->answer, strlen(s->answer)),
				     (ssize_t)strlen(s->answer));
	}
	return NULL;
}

static void fake_open(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->master = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert_geq(f->master, 0);
	cr_assert_eq(grantpt(f->master), 0);
	cr_assert_eq(unlockpt(f->master), 0);
	cr_assert_eq(ptsname_r(f->master, f->slave, sizeof(f->slave)), 0);
}

static void fake_start(struct fake *f, const struct exchange *script, size_t n)
{
	f->script = script;
	f->n_steps = n;
	cr_assert_eq(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

static void fake_join(struct fake *f)
{
	pthread_join(f->thread, NULL);
}

/* Writes bytes the backend has not asked for, and returns once they wait in
 * the slave's input (seen through a second descriptor on the same terminal:
 * its input queue is the terminal's, not the descriptor's). */
static void fake_push_unasked(struct fake *f, const char *bytes)
{
	int fd = open(f->slave, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	struct pollfd p = { .fd = fd, .events = POLLIN };

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(f->master, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
	cr_assert_eq(poll(&p, 1, 5000), 1, "the unasked bytes never reached the terminal");
	close(fd);
}

struct scale {
	struct bench *bench;
	struct driver_env env;
	struct instrument *inst;
	char *dir;
};

/* The mtsics backend on the fake's slave, its wire log in a fresh dir.
 * Filled in place: the instrument keeps a pointer to s->env. */
static void scale_open(struct scale *s, const struct fake *f)
{
	struct instrument_cfg *ic;

	*s = (struct scale){ .bench = calloc(1, sizeof(*s->bench)), .dir = th_tmpdir() };
	ic = &s->bench->instrument[ROLE_SCALE];

	*ic = (struct instrument_cfg){ .present = true, .period_ns = RIG_NS_PER_S, .baud = 9600,
				       .cal = { .gain = 1 } };
	snprintf(ic->backend, sizeof(ic->backend), "mtsics");
	snprintf(ic->device, sizeof(ic->device), "%s", f->slave);
	s->env = (struct driver_env){ .clock = rig_clock_new_real(), .bench = s->bench,
				      .run_dir = s->dir };
	cr_assert_eq(instrument_open(&s->inst, ROLE_SCALE, &s->env), 0);
}

static char *scale_close(struct scale *s)
{
	char *log;

	instrument_close(s->inst);
	log = th_slurp(s->dir, "wire-balance.log");
	rig_clock_free(s->env.clock);
	free(s->bench);
	free(s->dir);
	cr_assert_not_null(log);
	return log;
}

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(mtsics, a_stale_answer_waiting_in_the_input_is_not_taken_for_the_next_one)
{
	static const struct exchange script[] = { { "SI", 0, "S S    2.0000000 g\r\n" } };
	static struct fake f;   /* outlives a failed assertion: its thread may still run */
	struct scale s;
	struct reading rd[READINGS_MAX];
	size_t n = 0;
	char *log;

	fake_open(&f);
	scale_open(&s, &f);
	/* the answer to a command the backend gave up on, arriving late */
	fake_push_unasked(&f, "S S    1.0000000 g\r\n");
	fake_start(&f, script, 1);
	cr_assert_eq(sensor_read(s.inst, rd, READINGS_MAX, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_float_eq(rd[0].value, 2.0, 1e-9, "took %.7f g: the stale answer", rd[0].value);
	fake_join(&f);
	log = scale_close(&s);
	/* the dropped bytes are in the log, received before the command went */
	{
		const char *stale = strstr(log, " < S S    1.0000000 g\\r\\n");
		const char *cmd = strstr(log, " > SI\\r\\n");

		cr_assert_not_null(stale, "%s", log);
		cr_assert_not_null(cmd, "%s", log);
		cr_assert_lt(stale, cmd, "%s", log);
	}
	free(log);
	close(f.master);
}

Test(mtsics, a_reply_that_comes_after_its_timeout_is_not_read_as_the_next_reading)
{
	/* the first SI is answered 1.5 s late, after the backend's 1 s */
	static const struct exchange script[] = {
		{ "SI", 1500, "S S    1.0000000 g\r\n" },
		{ "SI", 0, "S S    2.0000000 g\r\n" },
	};
	static struct fake f;   /* outlives a failed assertion: its thread may still run */
	struct scale s;
	struct reading rd[READINGS_MAX];
	struct timespec t0;
	size_t n = 0;

	fake_open(&f);
	scale_open(&s, &f);
	fake_start(&f, script, 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(sensor_read(s.inst, rd, READINGS_MAX, &n), -ETIMEDOUT);
	/* SI keeps its short timeout */
	cr_assert_lt(elapsed_s(&t0), 1.45);
	/* wait until the late answer has come, then read again */
	{
		int fd = open(f.slave, O_RDONLY | O_NOCTTY | O_NONBLOCK);
		struct pollfd p = { .fd = fd, .events = POLLIN };

		cr_assert_eq(poll(&p, 1, 5000), 1);
		close(fd);
	}
	cr_assert_eq(sensor_read(s.inst, rd, READINGS_MAX, &n), 0);
	cr_assert_float_eq(rd[0].value, 2.0, 1e-9, "took %.7f g: the late answer", rd[0].value);
	fake_join(&f);
	free(scale_close(&s));
	close(f.master);
}

Test(mtsics, a_settled_reading_zeroes_then_waits_for_the_stable_weight_longer_than_si)
{
	/* Z and S each answered only after 1.5 s of settling: longer than
	 * SI's timeout, well inside the one for stability */
	static const struct exchange script[] = {
		{ "Z", 1500, "Z A\r\n" },
		{ "S", 1500, "S S    0.0000120 g\r\n" },
		{ "S", 0, "S I\r\n" },
	};
	static struct fake f;   /* outlives a failed assertion: its thread may still run */
	struct scale s;
	struct reading rd;
	char *log;

	fake_open(&f);
	scale_open(&s, &f);
	fake_start(&f, script, 3);
	cr_assert_eq(sensor_read_settled(s.inst, true, &rd), 0);
	cr_assert_float_eq(rd.value, 12e-6, 1e-12, "%.7f g", rd.value);
	cr_assert_eq(rd.flags & SAMPLE_UNSTABLE, 0u);
	/* a balance that could not settle within its own timeout says so */
	cr_assert_eq(sensor_read_settled(s.inst, false, &rd), -EAGAIN);
	fake_join(&f);
	cr_assert_str_eq(f.got, "Z|S|S|");
	log = scale_close(&s);
	cr_assert_not_null(strstr(log, "> Z\\r\\n"), "%s", log);
	cr_assert_not_null(strstr(log, "< Z A\\r\\n"), "%s", log);
	cr_assert_not_null(strstr(log, "> S\\r\\n"), "%s", log);
	free(log);
	close(f.master);
}

Test(mtsics, a_load_cell_calibration_point_skips_readings_flagged_unstable)
{
	char *path = th_src("fixtures/bench/sim.cfg");
	struct diag_list diags = { 0 };
	struct bench *b = NULL;
	struct driver_env env = { .clock = rig_clock_new_virtual() };
	struct instrument *inst;
	struct rig_cal_point pt;

	cr_assert_eq(bench_load(path, &b, &diags), 0);
	env.bench = b;
	env.sim = sim_model_new(&b->sim, b->sim.fluid_density_g_per_ml);
	cr_assert_eq(instrument_open(&inst, ROLE_SCALE, &env), 0);
	/* the simulated scale reads unstable for 2 s after a tare */
	cr_assert_eq(sensor_tare(inst), 0);
	cr_assert_eq(rig_calibrate_point(inst, env.clock, NULL, true, &pt), 0);
	cr_assert(!pt.by_scale && !pt.zeroed);
	/* asked every 100 ms: 20 unstable readings, none of them used */
	cr_assert_geq(pt.skipped, 19, "%d skipped", pt.skipped);
	cr_assert_geq(rig_clock_now(env.clock), 2 * RIG_NS_PER_S - 100 * RIG_NS_PER_MS);
	cr_assert(fabs(pt.mean) < 0.1e-3, "%.6f g", pt.mean);
	instrument_close(inst);
	sim_model_free(env.sim);
	rig_clock_free(env.clock);
	bench_free(b);
	free(path);
}

/* --------------------------------------------- the wire simulator's one -- */

struct server {
	pid_t pid;
	char uri[64], pump[64], balance[64];
};

static struct server server_start(const char *bench, bool real_time)
{
	struct server s = { 0 };
	char line[256];
	unsigned port = 0;
	int fd[2];
	FILE *out;

	cr_assert_eq(pipe(fd), 0);
	s.pid = fork();
	cr_assert_neq(s.pid, -1);
	if (s.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		if (real_time)
			execl(RIG_BINARY, RIG_BINARY, "sim", "serve", "--bench", bench, "--real-time",
			      (char *)NULL);
		else
			execl(RIG_BINARY, RIG_BINARY, "sim", "serve", "--bench", bench, (char *)NULL);
		_exit(98);
	}
	close(fd[1]);
	out = fdopen(fd[0], "r");
	while (fgets(line, sizeof(line), out)) {
		if (sscanf(line, "iio ip:127.0.0.1:%u", &port) == 1)
			continue;
		if (sscanf(line, "pump %63s", s.pump) == 1 || sscanf(line, "balance %63s", s.balance) == 1)
			continue;
		if (strcmp(line, "ready\n") == 0)
			break;
	}
	fclose(out);
	cr_assert_neq(port, 0, "the simulator announced no port");
	cr_assert_neq(s.balance[0], '\0');
	snprintf(s.uri, sizeof(s.uri), "ip:127.0.0.1:%u", port);
	return s;
}

static void server_stop(struct server *s)
{
	int status;

	kill(s->pid, SIGTERM);
	cr_assert_eq(waitpid(s->pid, &status, 0), s->pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The balance's terminal, raw, for asking it directly. */
static int balance_open(const char *path)
{
	struct termios tio;
	int fd = open(path, O_RDWR | O_NOCTTY);

	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(tcgetattr(fd, &tio), 0);
	cfmakeraw(&tio);
	cr_assert_eq(tcsetattr(fd, TCSANOW, &tio), 0);
	return fd;
}

static void balance_ask(int fd, const char *cmd, char *ret, size_t size)
{
	struct fake f = { .master = fd };

	cr_assert_eq(write(fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
	cr_assert(fake_read_line(&f, ret, size), "no answer to %s", cmd);
}

Test(mtsics, the_simulated_balance_answers_s_only_once_settled_in_real_time, .timeout = 60)
{
	char *bench = th_src("fixtures/bench/wire.cfg"), line[64];
	struct server s = server_start(bench, true);
	struct timespec t0;
	int fd = balance_open(s.balance);
	double t;

	balance_ask(fd, "Z\r\n", line, sizeof(line));
	cr_assert_str_eq(line, "Z A");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* settling (2 s after the zero): SI answers at once, dynamic ... */
	balance_ask(fd, "SI\r\n", line, sizeof(line));
	cr_assert_eq(strncmp(line, "S D ", 4), 0, "%s", line);
	/* ... S waits for the balance to settle, then answers stable */
	balance_ask(fd, "S\r\n", line, sizeof(line));
	t = elapsed_s(&t0);
	cr_assert_eq(strncmp(line, "S S ", 4), 0, "%s", line);
	cr_assert(t > 1.5 && t < 4.5, "S answered after %.2f s", t);
	cr_assert(fabs(strtod(line + 4, NULL)) < 0.1e-3, "%s", line);
	/* settled: at once, stable */
	balance_ask(fd, "S\r\n", line, sizeof(line));
	cr_assert_eq(strncmp(line, "S S ", 4), 0, "%s", line);
	balance_ask(fd, "X\r\n", line, sizeof(line));
	cr_assert_str_eq(line, "ES");
	close(fd);
	server_stop(&s);
	free(bench);
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* The shipped wire bench (its scale the mtsics balance) on this simulator. */
static char *wire_bench(const char *dir, const struct server *s)
{
	char *src = th_src("fixtures/bench/wire.cfg"), *text = th_read_file(src), *path;
	const char *from[] = { "ip:127.0.0.1:30431", "/tmp/pumprig-sim/pump",
			       "/tmp/pumprig-sim/balance" };
	const char *to[] = { s->uri, s->pump, s->balance };

	cr_assert_not_null(text);
	for (int k = 0; k < 3; k++) {
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

Test(mtsics, a_two_point_calibration_of_the_balance_zeroes_it_and_uses_stable_weights_only,
     .timeout = 120)
{
	char *src = th_src("fixtures/bench/wire.cfg");
	struct server s = server_start(src, false);
	char *dir = th_tmpdir(), *bench = wire_bench(dir, &s), *record, *log, *text, line[256], *cmd;
	int in[2], out[2], status;
	double gain = 0, offset = 0;
	FILE *from, *to;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	cr_assert_geq(asprintf(&record, "%s/calibration.cfg", dir), 0);
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[1]);
		close(out[0]);
		setenv("PUMPRIG_LOCK_DIR", dir, 1);   /* its own bench locks (th_rig_spawn's rule) */
		execl(RIG_BINARY, RIG_BINARY, "calibrate", "scale", "--bench", bench, "--reference",
		      "50 g", "--record", record, (char *)NULL);
		_exit(98);
	}
	close(in[0]);
	close(out[1]);
	from = fdopen(out[0], "r");
	to = fdopen(in[1], "w");
	/* the operator empties the pan (the 20 g vessel stays) ... */
	cr_assert_not_null(fgets(line, sizeof(line), from));
	cr_assert_not_null(strstr(line, "Empty the scale's pan"), "%s", line);
	fputs("\n", to);
	fflush(to);
	/* ... then puts the 50 g reference on it */
	cr_assert_not_null(fgets(line, sizeof(line), from));
	cr_assert_not_null(strstr(line, "50 g reference"), "%s", line);
	cr_assert_geq(asprintf(&cmd, "timeout 10 iio_attr -u %s -d pumprig-clock pan_weight_g 50 "
				     ">/dev/null", s.uri), 0);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	fputs("\n", to);
	fflush(to);
	cr_assert_not_null(fgets(line, sizeof(line), from));
	cr_assert_eq(sscanf(line, "calibration = { gain = %lf; offset = \"%lf g\"", &gain, &offset), 2,
		     "%s", line);
	fclose(to);
	fclose(from);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* zeroed with the vessel on it, the balance reads the reference as it
	 * is: gain 1, offset 0 to the balance's 0.02 mg noise */
	cr_assert(fabs(gain - 1) < 1e-5, "gain %.9f", gain);
	cr_assert(fabs(offset) < 0.05e-3, "offset %.6f g", offset);
	/* the wire: zeroed once, then only stable weights asked for; while it
	 * settled after the zero the balance said busy ("S I", no weight),
	 * and the ten weights of each point are its stable ones */
	log = th_slurp(dir, "wire-balance.log");
	cr_assert_not_null(log);
	cr_assert_eq(count(log, " > Z\\r\\n"), 1, "%s", log);
	cr_assert_eq(count(log, " < Z A\\r\\n"), 1, "%s", log);
	cr_assert_eq(count(log, " > SI\\r\\n"), 0, "%s", log);
	cr_assert_eq(count(log, " < S D "), 0, "%s", log);
	cr_assert_geq(count(log, " < S I\\r\\n"), 15, "%s", log);
	cr_assert_eq(count(log, " < S S "), 2 * RIG_CAL_READINGS, "%s", log);
	cr_assert_lt(strstr(log, " > Z\\r\\n"), strstr(log, " > S\\r\\n"), "%s", log);
	text = th_read_file(record);
	cr_assert_not_null(strstr(text, "zeroed, then stable weights"), "%s", text);
	cr_assert_not_null(strstr(text, "reference 50 g"), "%s", text);
	free(text);
	free(log);
	server_stop(&s);
	free(record);
	free(bench);
	free(dir);
	free(src);
}

/* Runs over the wire-level simulator: the qualification through the real
 * iio, pumplink and mtsics backends agrees with the in-process simulation;
 * killing the simulator; probe and calibrate; the pump link's faults. */
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
#include "faults.h"
#include "helpers.h"
#include "wire_server.h"
#include "rig/base/clock.h"
#include "rig/judge/results.h"

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
						   "--output", run_wire, "-q", NULL }), 0, "%s",
		     th_slurp(dir, "stderr"));
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", sim, "--dut", dut,
						   "--output", run_sim, "-q", NULL }), 0, "%s",
		     th_slurp(dir, "stderr"));
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
	/* in lockstep the CPUs were kept from halting between round trips
	 * (root may hold /dev/cpu_dma_latency; CI runs as root), and the
	 * in-process run, with no round trips, asked nothing */
	{
		char *ev_wire = th_slurp(run_wire, "events.jsonl"), *ev_sim = th_slurp(run_sim, "events.jsonl");

		cr_assert_not_null(strstr(ev_wire, "\"event\":\"cpu_latency\",\"why\":\"lockstep with the "
					   "simulator: a step is round trips\",\"cpu_dma_latency_0\":true"),
				   "%.400s", ev_wire);
		cr_assert_null(strstr(ev_sim, "cpu_latency"));
		free(ev_wire);
		free(ev_sim);
	}
	/* a wire-simulated bench is no more evidence than an in-process one,
	 * and says which it is: results.json, junit.xml, every page */
	cr_assert_str_eq(json_string_value(json_object_get(a, "bench_kind")), "wire-simulated");
	cr_assert(json_is_false(json_object_get(a, "verification_evidence")));
	cr_assert_str_eq(json_string_value(json_object_get(b, "bench_kind")), "simulated");
	{
		char *junit = th_slurp(run_wire, "junit.xml"), *text = report_text(run_wire, dir);
		char *save, *pg;
		size_t pages = 0;

		cr_assert_not_null(strstr(junit, "SEQ-QUAL [WIRE-SIMULATED]\""), "%s", junit);
		cr_assert_not_null(text);
		for (pg = strtok_r(text, "\f", &save); pg; pg = strtok_r(NULL, "\f", &save)) {
			if (strspn(pg, " \n") == strlen(pg))
				continue;
			pages++;
			cr_assert(has_words(pg, "WIRE-SIMULATED BENCH — NOT VERIFICATION EVIDENCE"),
				  "page %zu:\n%s", pages, pg);
		}
		cr_assert_gt(pages, 5);
		free(junit);
		free(text);
	}
	cr_assert_eq(json_array_size(json_object_get(a, "checks")), 8);
	for (i = 0; i < 8; i++) {
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
		 * within the two measurements' uncertainties (the occlusion
		 * time's holds the wire bench's 10 s status polling) */
		cr_assert(fabs(ma - mb) <= ua + ub,
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

/* The audit's case: the wire bench's file copied without sim_clock and run
 * against the simulator in real time says nothing of a simulator, so rig
 * must learn it from what answers (the pumprig-clock device, the pump's
 * IDENT) and mark the record as on any wire-simulated bench. */
Test(wire, a_wire_bench_without_sim_clock_is_still_marked_wire_simulated, .timeout = 120)
{
	struct server s = start_server_real_time_with("fixtures/bench/wire.cfg");
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", tiny_seq);
	char *bench = wire_bench_with(dir, &s, "sim_clock = \"ip:127.0.0.1:30431\";", "");
	char *dut = th_src("fixtures/dut/itp-40.cfg"), *run, *text, *junit, *page1, *meta, *save;
	json_t *res, *m;

	text = th_read_file(bench);
	cr_assert_null(strstr(text, "sim_clock ="), "the copy still has sim_clock");
	free(text);
	cr_assert_geq(asprintf(&run, "%s/run", dir), 0);
	th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut, "--output", run,
				      "-q", NULL });
	meta = th_slurp(run, "run.json");
	cr_assert_not_null(meta, "%s", th_slurp(dir, "stderr"));
	m = json_loads(meta, 0, NULL);
	/* what rig talked to, and how it knew */
	cr_assert(json_is_true(json_object_get(m, "wire_simulator")), "%s", meta);
	cr_assert(json_is_true(json_object_get(m, "simulated")), "%s", meta);
	cr_assert_not_null(strstr(meta, "serves the device pumprig-clock"), "%s", meta);
	cr_assert_not_null(strstr(meta, "answered IDENT as rig's wire simulator"), "%s", meta);
	cr_assert_str_eq(json_string_value(json_object_get(m, "clock_kind")), "real");
	res = load_results(run);
	cr_assert_str_eq(json_string_value(json_object_get(res, "bench_kind")), "wire-simulated");
	cr_assert(json_is_false(json_object_get(res, "verification_evidence")));
	junit = th_slurp(run, "junit.xml");
	cr_assert_not_null(strstr(junit, "T-TINY [WIRE-SIMULATED]\""), "%s", junit);
	text = report_text(run, dir);
	cr_assert_not_null(text, "no report");
	page1 = strtok_r(text, "\f", &save);
	cr_assert(has_words(page1, "WIRE-SIMULATED BENCH — NOT VERIFICATION EVIDENCE"), "%s", page1);
	/* a record from before rig asked (no wire_simulator in its run.json)
	 * keeps the bench file's rule: this bench file alone says real */
	{
		struct run_results *judged;
		char err[512], *old;

		cr_assert_geq(asprintf(&old, "%s/old", dir), 0);
		free(sh("cp -r '%s' '%s' && chmod -R u+w '%s'", run, old, old));
		json_object_del(m, "wire_simulator");
		json_object_del(m, "wire_simulator_seen");
		free(meta);
		meta = json_dumps(m, JSON_INDENT(2));
		free(th_write_file(old, "run.json", meta));
		cr_assert_eq(results_analyse(old, &judged, err, sizeof(err)), 0, "%s", err);
		cr_assert_str_eq(judged->bench_kind, "real");
		results_free(judged);
		cr_assert_eq(results_analyse(run, &judged, err, sizeof(err)), 0, "%s", err);
		cr_assert_str_eq(judged->bench_kind, "wire-simulated");
		results_free(judged);
		free(old);
	}
	json_decref(res);
	json_decref(m);
	stop_server(&s);
	free(text);
	free(junit);
	free(meta);
	free(run);
	free(dut);
	free(bench);
	free(seq);
	free(dir);
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
	 * hole, the last within a batch and a period of the fault's time:
	 * wire.cfg captures the pressure by buffer, collected every 10 s, and
	 * what the device held when it died was never handed over */
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
		cr_assert_geq(prev, fault_t - 11000000000LL, "readings before the fault at %lld ns were "
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
		/* its own bench locks, as th_rig_spawn gives every test: a run
		 * of the same bench id elsewhere on the machine is not this one */
		setenv("PUMPRIG_LOCK_DIR", dir, 1);
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

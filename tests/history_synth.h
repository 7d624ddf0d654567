/* Synthetic sealed run directories for the history tests and benchmark:
 * the files rig writes (run.json, results.json, inputs/, events.jsonl,
 * samples.csv) with the values a test chooses, sealed by rig's own
 * integrity_seal(), so ingest reads them exactly as it reads a real run.
 * Header-only (static functions) so tests/ and tools/ can share it without
 * a library of its own. */
#ifndef RIG_TESTS_HISTORY_SYNTH_H
#define RIG_TESTS_HISTORY_SYNTH_H

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <jansson.h>

#include "rig/seal/digest.h"
#include "rig/seal/integrity.h"

struct synth_value {
	const char *check;         /* dose_accuracy, ... */
	const char *window;
	const char *measurement;   /* the check's primary value */
	double value, U;
	const char *unit;
	double low, high;          /* the limit; NAN for an open side */
};

struct synth_run {
	const char *run_id;        /* NULL: run.json without run_id (derived by ingest) */
	const char *device_serial, *device_model, *firmware;
	const char *sequence_id, *sequence_version;
	const char *bench_id, *scale_serial, *cal_date, *cal_due;
	const char *started_utc, *ended_utc;
	const char *software;
	const struct synth_value *values;
	size_t n_values;
	double balance_noise_mg;   /* NAN: none */
	double evaporation_mg_per_h;
	bool reports;              /* a report.pdf and report.html (placeholders) too */
	/* NULL: a record from before results.json said (a virtual clock:
	 * simulated); "real": a real bench's, with a real clock; or as said */
	const char *bench_kind;
	const char *verdict_text;  /* results.json verdict_text; NULL: none (before 0007) */
	long long started_unix_ns; /* run.json's; 0: none (a run from before it was recorded) */
};

static inline int synth_write(const char *dir, const char *name, const char *text)
{
	char path[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -errno;
}

static inline json_t *synth_num(double v)
{
	return v == v ? json_real(v) : json_null();
}

/* Writes and seals run directory dir (which must not exist). */
static inline int synth_run_dir(const char *dir, const struct synth_run *s)
{
	char path[8192], bench[2048], device[512], sequence[256], hex[3][DIGEST_HEX_LEN + 1];
	json_t *run, *results, *checks = json_array();
	char *text;
	size_t i;
	int r;

	if (mkdir(dir, 0755) != 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/inputs", dir);
	if (mkdir(path, 0755) != 0)
		return -errno;
	snprintf(bench, sizeof(bench),
		 "bench = {\n  id = \"%s\";\n  instruments = {\n"
		 "    pump = { backend = \"sim\"; model = \"pump\"; serial = \"P-%s\"; };\n"
		 "    scale = { backend = \"sim\"; model = \"microbalance\"; serial = \"%s\";\n"
		 "      calibration = { uncertainty = \"0.03 mg\"; date = \"%s\"; due = \"%s\"; }; };\n"
		 "  };\n};\n", s->bench_id, s->bench_id, s->scale_serial ? s->scale_serial : "SCALE-1",
		 s->cal_date ? s->cal_date : "2026-01-01", s->cal_due ? s->cal_due : "2028-01-01");
	snprintf(device, sizeof(device),
		 "device = {\n  model = \"%s\";\n  serial = \"%s\";\n  firmware = \"%s\";\n};\n",
		 s->device_model ? s->device_model : "ITP-40", s->device_serial,
		 s->firmware ? s->firmware : "1.0.0");
	snprintf(sequence, sizeof(sequence), "sequence = {\n  id = \"%s\";\n  version = \"%s\";\n};\n",
		 s->sequence_id, s->sequence_version ? s->sequence_version : "1");
	if ((r = synth_write(dir, "inputs/bench.cfg", bench)) < 0 ||
	    (r = synth_write(dir, "inputs/device.cfg", device)) < 0 ||
	    (r = synth_write(dir, "inputs/sequence.cfg", sequence)) < 0)
		return r;
	digest_buf_sha256(sequence, strlen(sequence), hex[0]);
	digest_buf_sha256(bench, strlen(bench), hex[1]);
	digest_buf_sha256(device, strlen(device), hex[2]);

	run = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:s, s:s, s:s,"
			" s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:s, s:b, s:[]}",
		"schema", "pumprig.run/1", "software", s->software ? s->software : "pumprig test",
		"started_utc", s->started_utc, "host", "testhost", "command", "rig",
		"clock", s->bench_kind && !strcmp(s->bench_kind, "real") ? "real (CLOCK_MONOTONIC)"
			 : "virtual (simulated bench)", "sequence_id", s->sequence_id,
		"bench_id", s->bench_id,
		"inputs", "sequence.cfg", "seq.cfg", "bench.cfg", "bench.cfg", "device.cfg", "dev.cfg",
		"inputs_sha256", "sequence.cfg", hex[0], "bench.cfg", hex[1], "device.cfg", hex[2],
		"operator", "tester", "allow_expired_calibration", 0, "expired_calibrations");
	if (s->run_id)
		json_object_set_new(run, "run_id", json_string(s->run_id));
	if (s->started_unix_ns)
		json_object_set_new(run, "started_unix_ns", json_integer(s->started_unix_ns));
	for (i = 0; i < s->n_values; i++) {
		const struct synth_value *v = &s->values[i];
		bool pass = (v->low != v->low || v->value >= v->low) &&
			    (v->high != v->high || v->value <= v->high);
		json_t *limit = json_pack("{s:o, s:o}", "low", synth_num(v->low), "high",
					  synth_num(v->high));
		json_t *ms = json_pack("[{s:s, s:f, s:f, s:s, s:O, s:s, s:s}]", "name", v->measurement,
				       "value", v->value, "U", v->U, "unit", v->unit, "limit", limit,
				       "verdict", pass ? "pass" : "fail", "source", "synthetic");

		if (strcmp(v->check, "dose_accuracy") == 0 && s->balance_noise_mg == s->balance_noise_mg)
			json_array_append_new(ms, json_pack("{s:s, s:f, s:n, s:s, s:s}", "name",
				"balance_noise", "value", s->balance_noise_mg, "U", "unit", "mg",
				"source", "synthetic"));
		json_array_append_new(checks, json_pack(
			"{s:s, s:s, s:i, s:s, s:s, s:f, s:f, s:s, s:o, s:o, s:s, s:s, s:s}",
			"check", v->check, "requirement", "REQ-1", "sequence_line", (int)(10 + i),
			"verdict", pass ? "pass" : "fail", "window", v->window, "measured", v->value,
			"U", v->U, "unit", v->unit, "limit", limit, "measurements", ms,
			"criterion", "synthetic", "explanation", "synthetic", "source", "synthetic"));
	}
	results = json_pack("{s:s, s:{s:s, s:s}, s:s, s:{s:s, s:s}, s:s, s:s, s:f, s:i, s:s, s:o,"
			    " s:{s:f, s:f, s:s}, s:[], s:i}",
		"schema", "pumprig.results/2", "sequence", "id", s->sequence_id, "title", "synthetic",
		"bench", s->bench_id, "device", "model", s->device_model ? s->device_model : "ITP-40",
		"serial", s->device_serial, "status", "completed", "end_reason", "every step ran",
		"end_s", 3600.0, "samples", 2, "overall_verdict", "pass", "checks", checks,
		"gravimetric", "evaporation_mg_per_h", s->evaporation_mg_per_h,
		"evaporation_u_mg_per_h", 0.002, "evaporation_source", "measured: synthetic",
		"instrument_events", "instrument_events_dropped", 0);
	if (s->bench_kind)
		json_object_set_new(results, "bench_kind", json_string(s->bench_kind));
	if (s->verdict_text)
		json_object_set_new(results, "verdict_text", json_string(s->verdict_text));
	text = json_dumps(run, JSON_INDENT(2));
	r = synth_write(dir, "run.json", text);
	free(text);
	if (r == 0) {
		text = json_dumps(results, JSON_INDENT(2));
		r = synth_write(dir, "results.json", text);
		free(text);
	}
	json_decref(run);
	json_decref(results);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path),
		 "{\"t_ns\":0,\"event\":\"run_start\",\"utc\":\"%s\"}\n"
		 "{\"t_ns\":3600000000000,\"event\":\"run_end\",\"status\":\"completed\","
		 "\"reason\":\"every step ran\",\"utc\":\"%s\"}\n", s->started_utc,
		 s->ended_utc ? s->ended_utc : s->started_utc);
	if ((r = synth_write(dir, "events.jsonl", path)) < 0 ||
	    (r = synth_write(dir, "samples.csv", "t_ns,role,quantity,value,unit,flags\n"
						 "0,scale,mass,1,g,\n")) < 0)
		return r;
	if (s->reports &&
	    ((r = synth_write(dir, "report.pdf", "%PDF-1.4\n% a synthetic run's placeholder\n")) < 0 ||
	     (r = synth_write(dir, "report.html", "<!DOCTYPE html><title>synthetic run</title>\n")) < 0))
		return r;
	{
		struct seal_outcome out;

		/* sealed without a station journal: these runs are synthetic */
		return integrity_seal(dir, &(struct seal_opts){ .sealed_by = "rig run", .first = true },
				      &out);
	}
}

/* ------------------------------------------------------- a lab at scale */

/* The benchmarks' lab: `benches` benches with one pump each (SN-000b on
 * BENCH-0b), a night apart every `benches` runs from 2023-01-01, ten checks
 * a run with normal noise; bench 3's pump creeps from night 900. */
#define SYNTH_LAB_CHECKS 10

static uint64_t synth_rng_state = 12345;

static inline double synth_gauss(void)
{
	double u1, u2;

	synth_rng_state ^= synth_rng_state >> 12;
	synth_rng_state ^= synth_rng_state << 25;
	synth_rng_state ^= synth_rng_state >> 27;
	u1 = (double)((synth_rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0 + 1e-300;
	synth_rng_state ^= synth_rng_state >> 12;
	synth_rng_state ^= synth_rng_state << 25;
	synth_rng_state ^= synth_rng_state >> 27;
	u2 = (double)((synth_rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* Run k's identity: its bench index, night, id, start. */
static inline void synth_lab_identity(size_t k, size_t benches, size_t *ret_bench,
				      size_t *ret_night, char id[64], char started[32])
{
	struct tm tm = { .tm_year = 123, .tm_mon = 0, .tm_hour = 1 };
	time_t t;

	*ret_bench = k % benches;
	*ret_night = k / benches;
	tm.tm_mday = 1 + (int)*ret_night;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	strftime(started, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(id, 64, "BENCH-%02zu-%05zu", *ret_bench, *ret_night);
}

/* Writes and seals run k as root/<its id>. */
static inline int synth_lab_run(const char *root, size_t k, size_t benches, bool reports,
				char *ret_dir, size_t len)
{
	static const char *const kinds[SYNTH_LAB_CHECKS] = {
		"dose_accuracy", "dose_accuracy", "dose_accuracy", "flow_accuracy", "occlusion",
		"occlusion", "occlusion", "battery", "dose_accuracy", "flow_accuracy",
	};
	static const char *const windows[SYNTH_LAB_CHECKS] = {
		"dose_min", "dose_nominal", "dose_max", "second_hour", "occlusion", "occlusion_low",
		"occlusion_high", "drain", "dose_bolus", "first_hour",
	};
	struct synth_value v[SYNTH_LAB_CHECKS];
	char id[64], serial[32], bench[32], started[32];
	size_t b, night, i;

	synth_lab_identity(k, benches, &b, &night, id, started);
	snprintf(serial, sizeof(serial), "SN-%04zu", b);
	snprintf(bench, sizeof(bench), "BENCH-%02zu", b);
	for (i = 0; i < SYNTH_LAB_CHECKS; i++)
		v[i] = (struct synth_value){ kinds[i], windows[i], "value",
			0.25 * synth_gauss() + (b == 3 && night >= 900 ? 0.1 * (double)(night - 899) : 0),
			0.05, "%", -10, 10 };
	if ((size_t)snprintf(ret_dir, len, "%s/%s", root, id) >= len)
		return -ENAMETOOLONG;
	struct synth_run s = { .run_id = id, .device_serial = serial, .sequence_id = "SEQ-QUAL",
			       .bench_id = bench, .started_utc = started, .values = v,
			       .n_values = SYNTH_LAB_CHECKS,
			       .balance_noise_mg = 0.02 + 0.002 * synth_gauss(),
			       .evaporation_mg_per_h = 0.05 + 0.002 * synth_gauss(),
			       .reports = reports };
	return synth_run_dir(ret_dir, &s);
}

/* The night of run k, as rig nightly writes it: nights_root/<start>-NIGHT-<bench>/
 * nightly.json naming that one run. */
static inline int synth_lab_night(const char *nights_root, size_t k, size_t benches,
				  char *ret_dir, size_t len)
{
	char id[64], started[32], compact[32], bench[32], serial[32], plan[48], path[8192];
	size_t b, night, i, o = 0;
	json_t *j;
	int r;

	synth_lab_identity(k, benches, &b, &night, id, started);
	for (i = 0; started[i]; i++)
		if (started[i] != '-' && started[i] != ':')
			compact[o++] = started[i];
	compact[o] = '\0';
	snprintf(bench, sizeof(bench), "BENCH-%02zu", b);
	snprintf(serial, sizeof(serial), "SN-%04zu", b);
	snprintf(plan, sizeof(plan), "NIGHT-%s", bench);
	if ((size_t)snprintf(ret_dir, len, "%s/%s-%s", nights_root, compact, plan) >= len)
		return -ENAMETOOLONG;
	if (mkdir(ret_dir, 0755) != 0)
		return -errno;
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b,"
		      " s:[{s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:n, s:f, s:b,"
		      " s:n, s:i}]}",
		"schema", "pumprig.nightly/1", "plan_id", plan, "plan", "plan.cfg",
		"plan_sha256", "", "bench_id", bench, "started_utc", started, "ended_utc", started,
		"status", "completed", "reason", "", "verdict", "pass", "exit_status", 0,
		"virtual_time", 0, "runs", "job", 1, "repeat_index", 1, "sequence", "qual.cfg",
		"sequence_id", "SEQ-QUAL", "dut", "dut.cfg", "device_serial", serial,
		"run_id", id, "run_dir", id, "verdict", "pass", "status", "completed",
		"end_cause", "end_reason", "duration_s", 3600.0, "retry", 0, "retry_of",
		"exit_status", 0);
	if (!j)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/nightly.json", ret_dir);
	r = json_dump_file(j, path, JSON_INDENT(2)) == 0 ? 0 : -EIO;
	json_decref(j);
	return r;
}

#endif

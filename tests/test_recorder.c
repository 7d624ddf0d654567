/* The recorder writes what it is given, as it is given, and never
 * overwrites an earlier record. */
#include <criterion/criterion.h>
#include <sys/wait.h>
#include <jansson.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "faults.h"
#include "helpers.h"
#include "rig/engine/recorder.h"
#include "rig/base/record.h"

Test(recorder, samples_and_events_reach_the_files_in_order)
{
	char *dir = th_tmpdir(), *samples, *events;
	struct recorder *rec;
	struct reading a = { 30 * RIG_NS_PER_S, QUANT_MASS_G, 0.01234, SAMPLE_UNSTABLE };
	struct reading b = { 31 * RIG_NS_PER_S, QUANT_PRESSURE_KPA, -1.5, 0 };

	cr_assert_eq(recorder_open(&rec, dir, RIG_NS_PER_S), 0);
	cr_assert_eq(recorder_sample(rec, ROLE_SCALE, &a), 0);
	cr_assert_eq(recorder_sample(rec, ROLE_PRESSURE, &b), 0);
	cr_assert_eq(recorder_event(rec, 32 * RIG_NS_PER_S, "mark",
				    json_pack("{s:s}", "window", "w")), 0);
	/* events are on disk at once, before close */
	events = th_slurp(dir, "events.jsonl");
	cr_assert_str_eq(events, "{\"t_ns\":32000000000,\"event\":\"mark\",\"window\":\"w\"}\n");
	cr_assert_eq(recorder_close(rec), 0);
	samples = th_slurp(dir, "samples.csv");
	cr_assert_str_eq(samples, "t_ns,role,quantity,value,unit,flags\n"
				  "30000000000,scale,mass,0.01234,g,U\n"
				  "31000000000,pressure,pressure,-1.5,kPa,\n");
	free(samples);
	free(events);
	free(dir);
}

Test(recorder, an_existing_record_is_never_overwritten)
{
	char *dir = th_tmpdir(), *kept;
	struct recorder *rec;

	free(th_write_file(dir, "samples.csv", "earlier run\n"));
	cr_assert_eq(recorder_open(&rec, dir, RIG_NS_PER_S), -EEXIST);
	cr_assert_null(rec);
	kept = th_slurp(dir, "samples.csv");
	cr_assert_str_eq(kept, "earlier run\n");
	free(kept);
	free(dir);
}

Test(recorder, flags_round_trip)
{
	char buf[8];
	uint32_t all = SAMPLE_UNSTABLE | SAMPLE_CLIPPED | SAMPLE_STALE | SAMPLE_OUT_OF_RANGE;

	sample_flags_format(all, buf);
	cr_assert_str_eq(buf, "UCSR");
	cr_assert_eq(sample_flags_parse(buf), all);
	sample_flags_format(0, buf);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(sample_flags_parse("S\n"), SAMPLE_STALE);
}

/* samples_compress and samples_open (rig/base/record_zst.c), called
 * directly: the compressed record reads as the plain one did, rewinds,
 * and a cut or damaged file gives what came before the damage, no more. */
static char *read_all(FILE *f)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int c;

	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	return text;
}

Test(recorder, a_compressed_record_reads_back_as_written)
{
	char *dir = th_tmpdir(), *plain = NULL, *got, *path, *cmd;
	size_t len = 0;
	FILE *m = open_memstream(&plain, &len), *f;
	struct stat st;

	fputs("t_ns,role,quantity,value,unit,flags\n", m);
	for (long i = 0; i < 200000; i++)
		fprintf(m, "%ld000000000,scale,mass,%.10g,g,%s\n", i, 20 + i * 1e-7 + (i % 7) * 1e-5,
			i % 1000 ? "" : "U");
	fclose(m);
	free(th_write_file(dir, "samples.csv", plain));
	cr_assert_eq(samples_compress(dir), 0);
	cr_assert_eq(samples_compress(dir), 0, "a second call: nothing left to do");
	cr_assert_geq(asprintf(&path, "%s/samples.csv", dir), 0);
	cr_assert_neq(stat(path, &st), 0, "samples.csv is still there");
	free(path);
	cr_assert_geq(asprintf(&path, "%s/samples.csv.zst", dir), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_lt((size_t)st.st_size * 4, len);
	f = samples_open(dir);
	cr_assert_not_null(f);
	got = read_all(f);
	cr_assert_str_eq(got, plain);
	free(got);
	rewind(f);
	got = read_all(f);
	cr_assert_str_eq(got, plain, "read again after rewind");
	free(got);
	fclose(f);
	/* cut in the middle: a prefix of the record, then the end */
	cr_assert_geq(asprintf(&cmd, "truncate -s %lld '%s'", (long long)st.st_size / 2, path), 0);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	f = samples_open(dir);
	cr_assert_not_null(f);
	got = read_all(f);
	cr_assert_gt(strlen(got), 0);
	cr_assert_lt(strlen(got), len);
	cr_assert_eq(strncmp(got, plain, strlen(got)), 0, "a cut record reads as something else");
	free(got);
	fclose(f);
	/* not zstd at all: an error, nothing invented */
	free(th_write_file(dir, "samples.csv.zst", "this is not a zstd frame\n"));
	f = samples_open(dir);
	cr_assert_not_null(f);
	got = read_all(f);
	cr_assert_str_eq(got, "");
	cr_assert(ferror(f));
	free(got);
	fclose(f);
	free(path);
	free(plain);
	free(dir);
}

/* The shipped bench's record_compression = "zstd": the ended run's
 * samples.csv becomes samples.csv.zst before the seal; zstd itself reads
 * back the plain record of the same seeded run (record_compression =
 * "none"), byte for byte, and every reader of rig (judge, report, export,
 * verify) gives what the plain record gives. */
Test(recorder, a_compressed_record_is_the_plain_one_for_zstd_and_for_every_reader, .timeout = 120)
{
	char *tmp = th_tmpdir(), *plain, *bench, *seq = th_src("sequences/dose-accuracy.cfg");
	char *dut = th_src(DUT), *z, *sums, *sim = th_src(BENCH), *rp, *rz;
	json_t *jp, *jz;
	struct stat st_plain, st_z;

	bench = th_src_edited(tmp, BENCH, "bench-plain.cfg", (const char *[]){
		"record_compression = \"zstd\";", "record_compression = \"none\";", NULL });
	plain = th_path(tmp, "plain");
	cr_assert_eq(th_rig(tmp, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut, "-o",
						   plain, "-q", NULL }), 0);
	z = th_path(tmp, "z");
	cr_assert_eq(th_rig(tmp, (const char *[]){ "run", seq, "--bench", sim, "--dut", dut, "-o", z,
						   "-q", NULL }), 0);
	{
		char *a = th_path(z, "samples.csv"), *b = th_path(z, "samples.csv.zst");
		char *c = th_path(plain, "samples.csv");

		cr_assert_neq(stat(a, &st_z), 0, "the plain record stayed");
		cr_assert_eq(stat(b, &st_z), 0);
		cr_assert_eq(stat(c, &st_plain), 0);
		free(a);
		free(b);
		free(c);
	}
	cr_assert_lt(st_z.st_size * 4, st_plain.st_size, "%lld bytes from %lld",
		     (long long)st_z.st_size, (long long)st_plain.st_size);
	/* zstd's own reader, independently of rig's */
	{
		char *cmd;

		cr_assert_geq(asprintf(&cmd, "zstd -q -d -c '%s/samples.csv.zst' | cmp -s - '%s/samples.csv'",
					z, plain), 0);
		cr_assert_eq(system(cmd), 0, "zstd -d does not give the plain record");
		free(cmd);
	}
	/* the report names the file the directory holds */
	{
		char *hz = th_slurp(z, "report.html"), *hp = th_slurp(plain, "report.html");

		cr_assert_not_null(strstr(hz, "stored there as samples.csv.zst"));
		cr_assert_null(strstr(hp, "samples.csv.zst"));
		free(hz);
		free(hp);
	}
	sums = th_slurp(z, "SHA256SUMS");
	cr_assert_not_null(strstr(sums, "  samples.csv.zst\n"), "%s", sums);
	cr_assert_null(strstr(sums, "  samples.csv\n"), "%s", sums);
	cr_assert_eq(th_rig(tmp, (const char *[]){ "verify", z, NULL }), 0);
	/* the same judgement, then again by rig report from the compressed record */
	for (int pass = 0; pass < 2; pass++) {
		rp = th_slurp(plain, "results.json");
		rz = th_slurp(z, "results.json");
		jp = json_loads(rp, 0, NULL);
		jz = json_loads(rz, 0, NULL);
		cr_assert(json_equal(json_object_get(jp, "checks"), json_object_get(jz, "checks")),
			  "pass %d: the checks differ", pass);
		cr_assert(json_equal(json_object_get(jp, "samples"), json_object_get(jz, "samples")));
		json_decref(jp);
		json_decref(jz);
		free(rp);
		free(rz);
		if (pass == 0)
			cr_assert_eq(th_rig(tmp, (const char *[]){ "report", z, NULL }), 0);
	}
	cr_assert_eq(th_rig(tmp, (const char *[]){ "verify", z, NULL }), 0);
	/* rig export reads it too: the same tables */
	{
		char *tz = th_path(tmp, "tz"), *tp = th_path(tmp, "tp");

		cr_assert_eq(th_rig(tmp, (const char *[]){ "export", z, "--out", tz, NULL }), 0);
		cr_assert_eq(th_rig(tmp, (const char *[]){ "export", plain, "--out", tp, NULL }), 0);
		free(tz);
		free(tp);
	}
	{
		char *cmd;

		cr_assert_geq(asprintf(&cmd, "cd '%s' && for f in tp/*.csv; do cmp -s $f tz/${f#tp/} || "
				       "exit 1; done", tmp), 0);
		cr_assert_eq(system(cmd), 0, "the tables differ");
		free(cmd);
	}
	free(sums);
	free(z);
	free(dut);
	free(seq);
	free(sim);
	free(bench);
	free(plain);
	free(tmp);
}

/* The recorder writes what it is given, as it is given, and never
 * overwrites an earlier record. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

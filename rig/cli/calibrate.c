/* rig calibrate scale: a two-point calibration of the bench's scale. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rig/base/utc.h"
#include "cli.h"
#include "rig/config/units.h"
#include "rig/engine/calibrate.h"
#include "rig/engine/lock.h"

static const char usage_calibrate[] =
	"Usage: rig calibrate scale --bench FILE --reference MASS [--record FILE]\n"
	"\n"
	"Two-point calibration of the bench's scale with a reference mass (\"20 g\"):\n"
	"asks for the empty pan, then for the reference on it (press Enter at each),\n"
	"averages 10 settled readings at each point through the scale's own backend\n"
	"(a balance: zeroed on the empty pan, then its stable weight, S; a load cell:\n"
	"readings flagged unstable left out) with the\n"
	"bench file's calibration set aside, and prints the calibration group to put\n"
	"in the bench file, dated today and due in a year.  The raw points and the\n"
	"result are written to --record (default calibration-scale-<date>.cfg; never\n"
	"overwritten).  Takes the bench's locks as a run does: exit status 5 when the\n"
	"bench or one of its instruments is held by a run.\n";

static int calibrate_main(int argc, char **argv)
{
	const char *bench_path = NULL, *ref_text = NULL, *record = NULL;
	struct bench *bench = NULL;
	struct bench_lock *lock = NULL;
	char default_record[64], stale[RIG_PATH_MAX + 1024];
	double ref_g;
	int r;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_calibrate, stdout);
		return EXIT_PASS;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--bench"))
			bench_path = argv[i + 1];
		else if (!strcmp(argv[i], "--reference"))
			ref_text = argv[i + 1];
		else if (!strcmp(argv[i], "--record"))
			record = argv[i + 1];
	}
	if (argc < 2 || strcmp(argv[1], "scale") != 0 || !bench_path || !ref_text || argc % 2) {
		fprintf(stderr, "rig calibrate: usage\n\n%s", usage_calibrate);
		return EXIT_BAD_INPUT;
	}
	if (qty_parse(ref_text, QTY_MASS, &ref_g) < 0 || !(ref_g > 0)) {
		fprintf(stderr, "rig calibrate: --reference \"%s\" is not a mass with a unit; "
			"write it like \"20 g\" (units: %s)\n", TERM_SAFE(ref_text), qty_kind_units(QTY_MASS));
		return EXIT_BAD_INPUT;
	}
	if (load_bench(bench_path, &bench) < 0)
		return EXIT_BAD_INPUT;
	if (!record) {
		rig_utc_now_format("calibration-scale-%Y-%m-%d.cfg", default_record,
				   sizeof(default_record));
		record = default_record;
	}
	/* the scale of a bench that runs is not to be zeroed under it */
	r = take_bench_lock(bench, "", "rig calibrate", "opened", &lock, stale, sizeof(stale));
	if (r != 0) {
		bench_free(bench);
		return r;
	}
	signal(SIGPIPE, SIG_IGN);
	r = rig_calibrate_scale(bench, ref_g, record, stdin, stdout);
	bench_lock_release_restoring(lock);
	bench_free(bench);
	if (r < 0) {
		fprintf(stderr, "rig calibrate scale: %s\n", r == -EDOM ?
			"the reference mass changed nothing: is it on the pan?" : r == -ERANGE ?
			"the scale reports an overload or underload: is the pan free, the mass "
			"within its range?" : strerror(-r));
		return r == -EEXIST ? EXIT_BAD_INPUT : EXIT_ABORTED;
	}
	printf("record written to %s\n", TERM_SAFE(record));
	return EXIT_PASS;
}

const struct rig_command cmd_calibrate = { "calibrate", usage_calibrate, calibrate_main };

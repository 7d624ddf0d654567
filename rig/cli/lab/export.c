/* rig export: a recorded run's samples as one table per instrument, for
 * spreadsheets and CI tools, written where they are asked for.  A run
 * directory does not keep them: they are derived from samples.csv, which
 * holds every reading, and kept there they doubled the record's size
 * (issue 17). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lab.h"
#include "reports/reports.h"
#include "rig/engine/rundir.h"

static const char usage_export[] =
	"Usage: rig export RUN_DIR --out DIR\n"
	"\n"
	"Writes each instrument's samples from RUN_DIR/samples.csv into its own table,\n"
	"DIR/<role>.csv (t_s, then each quantity's value with its unit in the column's\n"
	"name and its flags), and DIR/README.txt (what each file holds, rows counted,\n"
	"damaged rows left out).  Values are copied as recorded, character for\n"
	"character.  DIR is made if missing; tables already there are replaced.  DIR\n"
	"may not lie inside a run directory (writing there would break its seal).\n"
	"Reads the run; changes nothing in it.  Works on interrupted runs too.\n"
	"Exit status: 0 written, 2 bad input, 3 a table could not be written.\n";

static int export_main(int argc, char **argv)
{
	const char *run_dir = NULL, *out = NULL;
	char inside[RIG_PATH_MAX];
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_export, stdout);
			return EXIT_PASS;
		}
		if ((!strcmp(argv[i], "--out") || !strcmp(argv[i], "-o")) && i + 1 < argc) {
			out = argv[++i];
		} else if (argv[i][0] == '-' || run_dir) {
			fprintf(stderr, "rig export: %s %s\n\n%s", argv[i][0] == '-' ?
				"unknown option or option without its value:" : "one RUN_DIR only, not also",
				TERM_SAFE(argv[i]), usage_export);
			return EXIT_BAD_INPUT;
		} else {
			run_dir = argv[i];
		}
	}
	if (!run_dir || !out) {
		fprintf(stderr, "rig export: %s\n\n%s", !run_dir ? "no RUN_DIR given" :
			"no --out DIR given: where the tables go", usage_export);
		return EXIT_BAD_INPUT;
	}
	r = require_run_dir(run_dir, "export", "nothing was written");
	if (r != 0)
		return r;
	r = rundir_inside_run(out, inside, sizeof(inside));
	if (r != 0) {
		if (r > 0)
			fprintf(stderr, "rig export: %s lies inside the run directory %s: writing "
				"there would break its seal; name a directory outside it; nothing was "
				"written\n", TERM_SAFE(out), TERM_SAFE(inside));
		else
			fprintf(stderr, "rig export: %s: cannot follow the path: %s; nothing was "
				"written\n", TERM_SAFE(out), strerror(-r));
		return EXIT_BAD_INPUT;
	}
	r = report_write_tables(run_dir, out);
	if (r < 0) {
		fprintf(stderr, "rig export: cannot write the tables of %s into %s: %s\n",
			TERM_SAFE(run_dir), TERM_SAFE(out), strerror(-r));
		return EXIT_ABORTED;
	}
	printf("rig: tables of %s in %s (README.txt says what each holds)\n", TERM_SAFE(run_dir),
	       TERM_SAFE(out));
	return EXIT_PASS;
}

const struct rig_command cmd_export = { "export", usage_export, export_main };

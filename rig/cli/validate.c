/* rig validate: the three files loaded and cross-checked; nothing opened. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lab/lab.h"

static const char usage_validate[] =
	"Usage: rig validate SEQUENCE --bench FILE --dut FILE [--allow-expired-calibration]\n"
	"\n"
	"Judges the plan as rig run does before anything moves, with the same\n"
	"messages: loads and cross-checks the three files (rates, volumes, windows;\n"
	"the run's least length and volume against the bench's duration_max and\n"
	"delivered_max and the device's reservoir; two instruments on one serial\n"
	"device, IIO channel or GPIO line; an overdue calibration, unless\n"
	"--allow-expired-calibration) and reports every problem as\n"
	"file:line: what is wrong; what is allowed.  Opens no instrument and takes\n"
	"no lock.  A sequence without check steps is valid, with a warning: a run of\n"
	"it judges nothing (overall verdict inconclusive, exit status 1).\n"
	"Exit status 0 when valid, 2 otherwise.\n";

static int validate_main(int argc, char **argv)
{
	struct files f = { 0 };
	struct sequence *seq = NULL;
	struct bench *bench = NULL;
	struct device *dev = NULL;
	struct cal_gate cal;
	int r;

	/* rig validate PLAN [--allow-expired-calibration]: a night's plan */
	if ((argc == 2 || (argc == 3 && !strcmp(argv[2], "--allow-expired-calibration"))) &&
	    argv[1][0] != '-')
		return nightly_validate(argv[1], argc == 3);
	r = parse_files(argc, argv, &f, usage_validate);
	if (r != 0)
		return r > 0 ? EXIT_PASS : EXIT_BAD_INPUT;
	/* the very judgement rig run makes before anything moves */
	r = load_all(&f, true, &seq, &bench, &dev, &cal);
	if (r == 0) {
		size_t n_checks = 0;

		for (size_t i = 0; i < seq->n_steps; i++)
			n_checks += seq->steps[i].kind == STEP_CHECK;
		printf("%s: %zu steps, valid for bench %s and device %s\n", TERM_SAFE(f.seq_path),
		       seq->n_steps, TERM_SAFE(bench->id), TERM_SAFE(dev->model));
		/* valid (a soak may judge nothing), but a run of it will not pass */
		if (n_checks == 0)
			fprintf(stderr, "rig validate: %s has no check steps: a run of it judges "
				"nothing, so its overall verdict is inconclusive and rig run exits "
				"with status 1\n", TERM_SAFE(f.seq_path));
	}
	seq_free(seq);
	bench_free(bench);
	device_free(dev);
	return r == 0 ? EXIT_PASS : EXIT_BAD_INPUT;
}

const struct rig_command cmd_validate = { "validate", usage_validate, validate_main };

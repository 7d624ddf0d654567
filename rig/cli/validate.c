/* rig validate: the three files loaded and cross-checked; nothing opened. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_validate[] =
	"Usage: rig validate SEQUENCE --bench FILE --dut FILE\n"
	"\n"
	"Loads and cross-checks the three files and reports every problem as\n"
	"file:line: what is wrong; what is allowed.  Opens no instrument.\n"
	"A sequence without check steps is valid, with a warning: a run of it judges\n"
	"nothing (overall verdict inconclusive, exit status 1).\n"
	"Exit status 0 when valid, 2 otherwise.\n";

static int validate_main(int argc, char **argv)
{
	struct files f = { 0 };
	struct sequence *seq = NULL;
	struct bench *bench = NULL;
	struct device *dev = NULL;
	int r = parse_files(argc, argv, &f, usage_validate);

	if (r != 0)
		return r > 0 ? EXIT_PASS : EXIT_BAD_INPUT;
	r = load_all(&f, &seq, &bench, &dev);
	if (r == 0) {
		size_t n_checks = 0;

		for (size_t i = 0; i < seq->n_steps; i++)
			n_checks += seq->steps[i].kind == STEP_CHECK;
		printf("%s: %zu steps, valid for bench %s and device %s\n", f.seq_path, seq->n_steps,
		       bench->id, dev->model);
		/* valid (a soak may judge nothing), but a run of it will not pass */
		if (n_checks == 0)
			fprintf(stderr, "rig validate: %s has no check steps: a run of it judges "
				"nothing, so its overall verdict is inconclusive and rig run exits "
				"with status 1\n", f.seq_path);
	}
	seq_free(seq);
	bench_free(bench);
	device_free(dev);
	return r == 0 ? EXIT_PASS : EXIT_BAD_INPUT;
}

const struct rig_command cmd_validate = { "validate", usage_validate, validate_main };

/* rig probe: every instrument of a bench opened and read once. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rig/engine/lock.h"
#include "rig/engine/probe.h"

static const char usage_probe[] =
	"Usage: rig probe --bench FILE\n"
	"\n"
	"Opens every instrument the bench file names, reads one value from each and\n"
	"prints a table: role, backend, device or line, the reading with its unit, the\n"
	"calibration due date, and OK or the error.  Takes the bench's locks as a run\n"
	"does, so it never talks to the instruments of a bench that runs.  Exit status 0\n"
	"when every instrument answered, 1 when one did not, 2 for a bad bench file,\n"
	"5 when the bench or one of its instruments is held by a run.\n";

static int probe_main(int argc, char **argv)
{
	struct bench *bench = NULL;
	struct bench_lock *lock = NULL;
	char stale[RIG_PATH_MAX + 1024];
	int r;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_probe, stdout);
		return EXIT_PASS;
	}
	if (argc != 3 || (strcmp(argv[1], "--bench") && strcmp(argv[1], "-b"))) {
		fprintf(stderr, "rig probe: --bench FILE is required\n\n%s", usage_probe);
		return EXIT_BAD_INPUT;
	}
	if (load_bench(argv[2], &bench) < 0)
		return EXIT_BAD_INPUT;
	/* a probe talks to the instruments: not to those of a bench that runs */
	r = take_bench_lock(bench, "", "rig probe", "opened", &lock, stale, sizeof(stale));
	if (r != 0) {
		bench_free(bench);
		return r;
	}
	signal(SIGPIPE, SIG_IGN);
	r = rig_probe(bench, stdout);
	bench_lock_release_restoring(lock);
	bench_free(bench);
	if (r < 0) {
		fprintf(stderr, "rig probe: %s\n", strerror(-r));
		return EXIT_ABORTED;
	}
	return r > 0 ? EXIT_CHECK_FAILED : EXIT_PASS;
}

const struct rig_command cmd_probe = { "probe", usage_probe, probe_main };

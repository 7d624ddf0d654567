/* rig: the pumprig command line.  The one table of commands; each command is
 * a file of this folder (cli.h).
 *
 * Exit status: 0 every check passed; 1 a check failed or could not be judged
 * (or there was none);
 * 2 bad input or usage; 3 the run was aborted (fault, limit, signal); 4 the
 * run directory could not be sealed or was altered after it was sealed; 5
 * the bench is busy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lab/module.h"
#include "rig/base/text.h"
#include "version.h"

static const char usage_main[] =
	"Usage: rig COMMAND [OPTIONS]\n"
	"\n"
	"Hardware-in-the-loop test rig for implantable drug pumps.\n"
	"\n"
	"Commands:\n"
	"  run SEQUENCE --bench FILE --dut FILE [--output DIR]   run a sequence and judge it\n"
	"  validate SEQUENCE --bench FILE --dut FILE             check the files; touches no hardware\n"
	"  report RUN_DIR [--sign-key FILE]                      judge a recorded run again\n"
	"  resume RUN_DIR                                        continue an interrupted run\n"
	"  note RUN_DIR TEXT [--operator NAME]                   add an operator note to a run\n"
	"  verify RUN_DIR [--public-key FILE]                    check a run against its manifest\n"
	"                                                        and signature\n"
	"  sign RUN_DIR --meaning M --signer NAME --key FILE     sign a run: authored, reviewed or\n"
	"                                                        approved (rig help sign)\n"
	"  keygen --out FILE                                     make a signing key (station, signer)\n"
	"  probe --bench FILE                                    open every instrument, read one value\n"
	"  safe --bench FILE [--run-dir RUN_DIR]                 make a bench safe (pump stopped,\n"
	"                                                        valve and outputs at safe levels)\n"
	"  calibrate scale --bench FILE --reference MASS          two-point calibration of the scale\n"
	"  nightly PLAN [--runs DIR] [--db TEXT]                 a night's jobs on one bench, one\n"
	"                                                        after another (rig help nightly)\n"
	"  history list|show|compare|trend|watch|...             the run history (rig help history)\n"
	"  export RUN_DIR --out DIR                              a run's samples as one table per\n"
	"                                                        instrument\n"
	"  sim serve --bench FILE [--port N] [--listen ADDR]     serve the simulated bench over\n"
	"                                                        the wire (libiio network protocol)\n"
	"  help [COMMAND]                                        this text, or a command's\n"
	"\n"
	"  --version   print the version\n"
	"\n"
	"Exit status: 0 all checks passed, 1 a check failed or was inconclusive (or\n"
	"there was no check: nothing judged),\n"
	"2 bad input or usage, 3 run aborted (fault, limit, signal), 4 the run directory\n"
	"could not be sealed or was altered after it was sealed (rig verify: 1),\n"
	"5 bench busy (another run holds its lock).\n";

static const struct rig_command *const commands[] = {
	&cmd_run, &cmd_validate, &cmd_report, &cmd_resume, &cmd_note, &cmd_verify, &cmd_keygen,
	&cmd_probe, &cmd_safe, &cmd_calibrate, &cmd_sim, &cmd_history,
	&cmd_nightly, &cmd_sign, &cmd_export,
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct rig_command *command_find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static const char usage_help[] =
	"Usage: rig help [COMMAND]\n"
	"\n"
	"Prints rig's commands (also rig --help, rig -h), or COMMAND's usage: its\n"
	"options and exit status (also rig COMMAND --help).\n"
	"Exit status 0, 2 for a command rig does not have.\n";

static int help_main(int argc, char **argv)
{
	const struct rig_command *c = argc > 1 ? command_find(argv[1]) : NULL;

	/* help's own usage: "help" itself is no entry of the command table */
	if (argc == 2 && (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
			  !strcmp(argv[1], "-h"))) {
		fputs(usage_help, stdout);
		return EXIT_PASS;
	}
	if (argc > 2 || (argc > 1 && !c)) {
		fprintf(stderr, "rig help: %s%s\n\n%s", argc > 2 ? "one command at most, not " :
			"no command ", argc > 2 ? "several" : argv[1], usage_main);
		return EXIT_BAD_INPUT;
	}
	fputs(!c ? usage_main : c->usage ? c->usage : lab_usage(c->name), stdout);
	return EXIT_PASS;
}

/* rig records its command line (run.json), operator notes and names, and
 * jansson writes nothing that is not UTF-8: every argument and every
 * variable of the environment rig reads is checked once, here, before any
 * command sees it.  Control characters have no place in a path, a name or
 * a note either (tab and newline aside: a note may have lines). */
static bool arguments_are_text(int argc, char **argv)
{
	static const char *const env[] = { "PUMPRIG_OPERATOR", "PUMPRIG_SIGN_KEY",
					   "PUMPRIG_LOCK_DIR", "XDG_RUNTIME_DIR" };
	struct text_fault f;
	char what[64];

	for (int i = 1; i < argc; i++) {
		bool after_option = i > 1 && argv[i - 1][0] == '-';

		if (text_check(argv[i], strlen(argv[i]), TEXT_ALLOW_TAB | TEXT_ALLOW_NEWLINE, &f))
			continue;
		text_fault_describe(&f, what, sizeof(what));
		fprintf(stderr, "rig: argument %d (\"%s\")%s%s%s holds %s at byte %zu; rig "
			"records its command line, so every argument must be UTF-8 text without "
			"control characters (tab and newline aside)\n", i, TERM_SAFE(argv[i]),
			after_option ? ", after " : "", after_option ? TERM_SAFE(argv[i - 1]) : "",
			after_option ? "," : "", what, f.offset + 1);
		return false;
	}
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
		const char *v = getenv(env[i]);

		if (!v || text_check(v, strlen(v), 0, &f))
			continue;
		text_fault_describe(&f, what, sizeof(what));
		fprintf(stderr, "rig: $%s (\"%s\") holds %s at byte %zu; rig may record it, so "
			"it must be UTF-8 text without control characters\n", env[i], TERM_SAFE(v),
			what, f.offset + 1);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "";
	const struct rig_command *c;

	cli_full_argc = argc;
	cli_full_argv = argv;
	if (!arguments_are_text(argc, argv))
		return EXIT_BAD_INPUT;
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("pumprig %s\n", RIG_VERSION);
		return EXIT_PASS;
	}
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help"))
		return help_main(argc - 1, argv + 1);
	c = command_find(name);
	if (c)
		return c->main(argc - 1, argv + 1);
	fprintf(stderr, "rig: %s\n\n%s", *name ? "unknown command" : "no command given", usage_main);
	return EXIT_BAD_INPUT;
}

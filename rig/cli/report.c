/* rig report: a recorded run judged again from its raw data, and sealed. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lab/lab.h"

static const char usage_report[] =
	"Usage: rig report RUN_DIR [--sign-key FILE | --unsign] [--db TEXT]\n"
	"\n"
	"Judges a recorded run again from its raw data alone (inputs/, events.jsonl,\n"
	"samples.csv) and rewrites results.json, summary.txt, junit.xml and the report;\n"
	"works for aborted and interrupted runs too.  Then seals the run again\n"
	"(SHA256SUMS, signed with --sign-key or $PUMPRIG_SIGN_KEY).\n"
	"\n"
	"A sealed run is first checked against its manifest: when any file but those\n"
	"the report writes has changed, appeared or gone, or the signature does not\n"
	"match, or the manifest is not the latest seal the station's seal journal\n"
	"holds of the run ($PUMPRIG_JOURNAL; rig verify says why), nothing is\n"
	"written, the old manifest stays, and the exit status is 4.  Every seal is\n"
	"journalled; a reseal says how many times the run has been sealed.\n"
	"A run without a manifest (it crashed before rig run sealed it) is sealed,\n"
	"marked in SHA256SUMS as sealed after the fact.  A signed run is sealed again\n"
	"only with a key, or unsigned on purpose with --unsign (else exit status 4).\n"
	"The sealed run is stored in the run history (--db, as for rig run) as a new\n"
	"version of it; earlier versions stay.\n"
	"Exit status as for run, and 4 as above.\n";

static int report_main(int argc, char **argv)
{
	struct dir_opts d = { 0 };
	struct sig_secret_key key;
	bool have_key, sealed;
	int r = parse_dir_opts(argc, argv, usage_report, 1, "KUD", &d), status;

	if (r != 0)
		return r > 0 ? EXIT_PASS : EXIT_BAD_INPUT;
	/* what was given is judged first: a bad key is said even for a run
	 * directory that is no run's */
	if (sign_key_resolve(d.sign_key, "report", &key, &have_key) < 0)
		return EXIT_BAD_INPUT;
	status = require_run_dir(d.run_dir, "report", "nothing was done");
	if (status != 0)
		goto out;
	status = sealed_precheck(d.run_dir, "report", true, have_key, d.unsign, &sealed);
	if (status != 0)
		goto out;
	if (!sealed)
		fprintf(stderr, "rig report: %s has no manifest: sealing it now, marked as sealed "
			"after the fact\n", TERM_SAFE(d.run_dir));
	status = judge(d.run_dir, true, "report", &(struct seal_opts){
		.sealed_by = "rig report", .key = have_key ? &key : NULL, .unsign = d.unsign,
		.why = sealed ? "re-judged" : "sealed after the fact",
		.after_the_fact = sealed ? NULL : "rig report found no manifest (the run was "
			"interrupted before rig run could seal it, or its sealing failed); the files "
			"were sealed as found" }, NULL);
	if (status != EXIT_INTEGRITY)
		lab_history_store(d.run_dir, d.history_db, false);
out:
	sodium_memzero(&key, sizeof(key));
	return status;
}

const struct rig_command cmd_report = { "report", usage_report, report_main };

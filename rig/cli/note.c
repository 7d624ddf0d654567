/* rig note: an operator note appended to a run, which is sealed again. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "lab/lab.h"
#include "rig/seal/notes.h"

static const char usage_note[] =
	"Usage: rig note RUN_DIR TEXT [--operator NAME] [--sign-key FILE | --unsign]\n"
	"                [--db TEXT]\n"
	"\n"
	"Appends {\"utc\", \"operator\", \"text\"} to RUN_DIR/notes.jsonl.  A sealed run is\n"
	"checked against its manifest and the station's seal journal first (every\n"
	"file: exit status 4 when anything differs, and nothing is written), then\n"
	"judged again as rig report does (the note is a deviation: results.json and\n"
	"the report, as a new revision, show it), sealed again, the seal journalled,\n"
	"and stored in the run history (--db, as for rig run).\n"
	"  --operator NAME   default $PUMPRIG_OPERATOR, the station's; one is needed\n"
	"  --sign-key FILE   default $PUMPRIG_SIGN_KEY, else the new seal is unsigned\n"
	"  --unsign          seal a signed run again without its signature (else a\n"
	"                    signed run without a key is refused: exit status 4)\n";

static int note_main(int argc, char **argv)
{
	struct dir_opts d = { 0 };
	struct sig_secret_key key;
	bool have_key, sealed, had_notes;
	char path[RIG_PATH_MAX + 16];
	struct manifest_derived kept;
	struct stat st;
	sigset_t held;
	const char *who;
	int r = parse_dir_opts(argc, argv, usage_note, 2, "OKUD", &d), status;

	if (r != 0)
		return r > 0 ? EXIT_PASS : EXIT_BAD_INPUT;
	if (operator_require("note", d.operator_name, &who) < 0)
		return EXIT_BAD_INPUT;
	if (sign_key_resolve(d.sign_key, "note", &key, &have_key) < 0)
		return EXIT_BAD_INPUT;
	/* what was given is judged before the run directory it names */
	status = require_run_dir(d.run_dir, "note", "nothing was done");
	if (status != 0)
		goto out;
	/* Every file must match, the derived ones too (stricter than rig
	 * report): what was sealed is what the note is added to. */
	status = sealed_precheck(d.run_dir, "note", false, have_key, d.unsign, &sealed);
	if (status != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", d.run_dir, NOTES_NAME);
	had_notes = stat(path, &st) == 0;
	hold_signals(&held);   /* the note and the new seal together, or neither */
	r = notes_append(d.run_dir, who, d.text);
	if (r < 0) {
		char why[128];

		fprintf(stderr, "rig note: %s/%s: %s\n", TERM_SAFE(d.run_dir), NOTES_NAME,
			r == -EINVAL ? "the text must hold 1 to 4096 bytes" :
			r == -EILSEQ ? "the text is not UTF-8" :
			infile_strerror(path, r, why, sizeof(why)));
		/* no such run directory, or a text that cannot be a note: bad input */
		status = r == -ENOENT || r == -EINVAL || r == -EILSEQ || r == -RIG_ENOTREG ?
			 EXIT_BAD_INPUT : EXIT_ABORTED;
		release_signals(&held);
		goto out;
	}
	/* A sealed run's results and report are judged again with the note
	 * in them (a note is a deviation): a seal over outputs that say
	 * "Deviations: none" beside a note would vouch for a stale verdict. */
	if (sealed) {
		/* the outputs as sealed kept aside, to be put back with the note
		 * taken back when the new seal cannot be made */
		r = manifest_derived_keep(d.run_dir, &kept);
		if (r < 0) {
			fprintf(stderr, "rig note: cannot keep the reports of %s aside while they "
				"are written again: %s\n", TERM_SAFE(d.run_dir), strerror(-r));
			status = EXIT_ABORTED;
		} else {
			/* judged without sealing (judge says on stderr when it
			 * cannot write them), then sealed whatever it wrote */
			(void)judge(d.run_dir, false, "note", NULL, NULL);
			status = seal(d.run_dir, "note", &(struct seal_opts){ .sealed_by = "rig note",
				.key = have_key ? &key : NULL, .unsign = d.unsign,
				.why = "note added" });
			if (status != 0 && manifest_derived_put_back(d.run_dir, &kept) < 0)
				fprintf(stderr, "rig note: cannot put the reports of %s back as "
					"sealed (rig report %s writes them again)\n",
					TERM_SAFE(d.run_dir), TERM_SAFE(d.run_dir));
			manifest_derived_free(&kept);
		}
	}
	/* A seal that failed left the previous one in place: the note goes too,
	 * or the run would no longer match its own seal. */
	if (sealed && status != 0) {
		if (had_notes ? truncate(path, st.st_size) : unlink(path))
			fprintf(stderr, "rig note: %s: cannot take the note back: %s; the run no "
				"longer matches its seal\n", path, strerror(errno));
		else
			fprintf(stderr, "rig note: the note was not kept\n");
	}
	release_signals(&held);
	if (sealed && status == EXIT_PASS)
		lab_history_store(d.run_dir, d.history_db, true);
out:
	sodium_memzero(&key, sizeof(key));
	return status;
}

const struct rig_command cmd_note = { "note", usage_note, note_main };

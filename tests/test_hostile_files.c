/* Hostile input, files (issue 1 of 7, "Files and text"): a FIFO, a
 * directory, a socket or a character device where rig expects a file or a
 * run directory, for every command that takes one; a FIFO inside a run
 * directory; a key of the other kind; and "results in X" for an X never
 * written.  Each rig is bounded in time (tests/hostile.h): a FIFO that
 * blocked it fails the test instead of hanging it. */
#include <sys/socket.h>
#include <sys/un.h>

#include "hostile.h"

TestSuite(hostile_files, .timeout = 600);

/* ------------------------------------------------------- special files -- */

/* dir/name made as a FIFO, a directory, a socket; or /dev/null. */
enum special { SP_FIFO, SP_DIR, SP_SOCKET, SP_CHARDEV, SP__N };
static const char *const special_says[SP__N] = {
	"is a FIFO (named pipe)", "is a directory", "is a socket", "is a character device",
};

static char *make_special(const char *dir, const char *name, enum special kind)
{
	char *path = path_in(dir, name);

	switch (kind) {
	case SP_FIFO:
		cr_assert_eq(mkfifo(path, 0644), 0, "%s", strerror(errno));
		break;
	case SP_DIR:
		cr_assert_eq(mkdir(path, 0755), 0);
		break;
	case SP_SOCKET: {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		cr_assert_lt(strlen(path), sizeof(sa.sun_path));
		strcpy(sa.sun_path, path);
		cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
		close(fd);   /* the socket file stays */
		break;
	}
	default:
		free(path);
		path = strdup("/dev/null");
		break;
	}
	return path;
}

/* Every place a command reads a file by a path it was given. */
static const char *const file_cases[][12] = {
	{ "validate", "@", "--bench", "$B", "--dut", "$D" },
	{ "validate", "$S", "--bench", "@", "--dut", "$D" },
	{ "validate", "$S", "--bench", "$B", "--dut", "@" },
	{ "run", "@", "--bench", "$B", "--dut", "$D", "-o", "$O" },
	{ "run", "$S", "--bench", "@", "--dut", "$D", "-o", "$O" },
	{ "run", "$S", "--bench", "$B", "--dut", "@", "-o", "$O" },
	{ "run", "$S", "--bench", "$B", "--dut", "$D", "-o", "$O", "--sign-key", "@" },
	{ "report", "$T", "--sign-key", "@" },
	{ "note", "$T", "text", "--sign-key", "@" },
	{ "verify", "$T", "--public-key", "@" },
	{ "probe", "--bench", "@" },
	{ "safe", "--bench", "@" },
	{ "calibrate", "scale", "--bench", "@", "--reference", "20 g" },
	{ "sim", "serve", "--bench", "@" },
};

Test(hostile_files, special_files_given_as_input_files_are_refused_at_once_saying_what_they_are)
{
	for (int kind = 0; kind < SP__N; kind++) {
		char *tmp = th_tmpdir(), *out = path_in(tmp, "run");
		char *special = make_special(tmp, "special", (enum special)kind);

		for (size_t c = 0; c < sizeof(file_cases) / sizeof(file_cases[0]); c++) {
			const char *args[16];
			struct outcome o;

			expand(file_cases[c], special, tmp, out, args);
			o = rig(tmp, args);
			cr_assert_eq(o.status, 2, "rig %s %s with %s: exit %d: %s", args[0], args[1],
				     special_says[kind], o.status, o.err);
			cr_assert(strstr(o.err, special_says[kind]), "rig %s %s: %s", args[0],
				  args[1], o.err);
			cr_assert(strstr(o.err, "not a regular file"), "rig %s: %s", args[0], o.err);
			assert_nothing_started(tmp, args[0]);
			outcome_free(&o);
		}
		/* $PUMPRIG_SIGN_KEY is read like --sign-key */
		{
			char *seq = th_src(SEQ), *bench = th_src(BENCH), *dut = th_src(DUT), *set;
			const char *args[] = { "run", seq, "--bench", bench, "--dut", dut, "-o", out,
					       NULL };
			struct outcome o;

			if (asprintf(&set, "PUMPRIG_SIGN_KEY=%s", special) < 0)
				abort();
			o = rig_env(tmp, args, (const char *const[]){ set, NULL }, 10);
			cr_assert_eq(o.status, 2, "$PUMPRIG_SIGN_KEY: %s", o.err);
			cr_assert(strstr(o.err, special_says[kind]), "%s", o.err);
			assert_nothing_started(tmp, "$PUMPRIG_SIGN_KEY");
			outcome_free(&o);
			free(set);
			free(seq);
			free(bench);
			free(dut);
		}
		free(special);
		free(out);
		free(tmp);
	}
}

/* The seal journal that is something else, named by $PUMPRIG_JOURNAL or
 * verify's --journal: refused at once, saying what it is, as an input file
 * is (a FIFO used to block verify, report, note and sign forever; a
 * directory or /dev/null read as "cannot check against X: Invalid
 * argument", exit 1, as if the run had been tampered with). */
Test(hostile_files, a_special_file_as_the_seal_journal_is_refused_at_once_saying_what_it_is)
{
	/* the run made elsewhere: its bench lock file is not one of these */
	char *tmp = th_tmpdir(), *made = th_tmpdir(), *run = make_run(made, "sealed", NULL);
	char *signer = path_in(tmp, "signer"), *sums = path_in(run, "SHA256SUMS");
	char *sums_before = th_read_file(sums);
	const char *const cmds[][12] = {
		{ "verify", "$T" },
		{ "verify", "$T", "--journal", "@" },
		{ "report", "$T" },
		{ "note", "$T", "text" },
		{ "sign", "$T", "--meaning", "reviewed", "--signer", "A Reviewer", "--key", signer },
		{ "run", "$S", "--bench", "$B", "--dut", "$D", "-o", "$O" },
	};
	struct outcome o = rig(tmp, (const char *const[]){ "keygen", "--out", signer, NULL });

	cr_assert_eq(o.status, 0, "%s", o.err);
	outcome_free(&o);
	for (int kind = 0; kind < SP__N; kind++) {
		char *special = make_special(tmp, "journal", (enum special)kind), *set, *out;

		if (asprintf(&set, "PUMPRIG_JOURNAL=%s", special) < 0)
			abort();
		for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
			const char *args[16];
			char *sums_after;

			out = path_in(tmp, "run");
			expand(cmds[c], special, run, out, args);
			o = rig_env(tmp, args, (const char *const[]){ set, NULL }, 10);
			cr_assert_eq(o.status, 2, "rig %s with %s as the journal: exit %d: %s%s", args[0],
				     special_says[kind], o.status, o.out, o.err);
			cr_assert(strstr(o.err, special_says[kind]), "rig %s: %s", args[0], o.err);
			cr_assert(strstr(o.err, "not a regular file"), "rig %s: %s", args[0], o.err);
			assert_nothing_started(tmp, args[0]);
			sums_after = th_read_file(sums);
			cr_assert_str_eq(sums_after, sums_before, "rig %s sealed the run", args[0]);
			free(sums_after);
			outcome_free(&o);
			free(out);
		}
		free(set);
		if (kind != SP_CHARDEV)
			sh("rm -rf '%s'%s", special, "");
		free(special);
	}
	free(sums_before);
	free(sums);
	free(signer);
	free(run);
	free(made);
	free(tmp);
}

/* A run directory that is something else. */
Test(hostile_files, special_files_given_as_run_directories_are_refused_saying_what_they_are)
{
	static const char *const cmds[][4] = {
		{ "report", "@" }, { "verify", "@" }, { "note", "@", "text" }, { "resume", "@" },
	};
	static const char *const says[] = { "is a FIFO (named pipe), not a run directory",
		NULL, "is a socket, not a run directory", "is a character device, not a run directory" };

	for (int kind = 0; kind < SP__N; kind++) {
		char *tmp = th_tmpdir(), *special;

		if (kind == SP_DIR)   /* a directory is what these take */
			special = th_write_file(tmp, "plain-file", "x\n");
		else
			special = make_special(tmp, "special", (enum special)kind);
		for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
			const char *args[8];
			struct outcome o;

			expand(cmds[c], special, tmp, NULL, args);
			o = rig(tmp, args);
			cr_assert_eq(o.status, 2, "rig %s on %s: exit %d: %s", args[0], special,
				     o.status, o.err);
			cr_assert(strstr(o.err, says[kind] ? says[kind] :
					 "is a regular file, not a run directory"), "rig %s: %s",
				  args[0], o.err);
			outcome_free(&o);
		}
		free(special);
		free(tmp);
	}
}

/* A FIFO in a run directory, in place of a file rig reads: every command
 * that reads it goes on or stops, saying what it found, and none blocks. */
Test(hostile_files, a_fifo_inside_a_run_directory_never_blocks_a_reader)
{
	static const struct {
		const char *file, *cmd, *arg2;
		int status;
		const char *says;
		bool unsealed;       /* the manifest taken away first */
	} cases[] = {
		/* unsealed, so that the reader itself meets the FIFO */
		{ "events.jsonl", "report", NULL, 3, "events.jsonl: cannot read: is a FIFO (named pipe), not a regular file", true },
		{ "samples.csv", "report", NULL, 3, "samples.csv: cannot read: is a FIFO (named pipe), not a regular file", true },
		{ "samples.csv.zst", "report", NULL, 3, "samples.csv.zst: cannot read: is a FIFO (named pipe), not a regular file", true },
		{ "inputs/sequence.cfg", "report", NULL, 3, "is a FIFO (named pipe), not a regular file", true },
		{ "notes.jsonl", "note", "a note", 2, "notes.jsonl: is a FIFO (named pipe), not a regular file", true },
		{ "events.jsonl", "resume", NULL, 2, "is a FIFO (named pipe), not a regular file", true },
		/* sealed: the manifest check meets it first and names it */
		{ "samples.csv.zst", "report", NULL, 4, "CHANGED  samples.csv.zst", false },
		{ "samples.csv.zst", "verify", NULL, 1, "samples.csv.zst", false },
		{ "samples.csv", "verify", NULL, 1, "ADDED    samples.csv", false },
		{ "SHA256SUMS", "verify", NULL, 1, "BAD      SHA256SUMS", false },
		{ "SHA256SUMS.sig", "verify", NULL, 1, "BAD      SHA256SUMS.sig", false },
	};
	char *tmp = th_tmpdir(), *run = make_run(tmp, "run", NULL), *unsealed, *elsewhere;

	/* A run whose manifest is taken away must be one this station never
	 * sealed (its journal would name that as the attack it is): made with
	 * another journal, as a run that crashed before its seal. */
	elsewhere = path_in(tmp, "elsewhere.jsonl");
	setenv("PUMPRIG_JOURNAL", elsewhere, 1);
	unsealed = make_run(tmp, "run-elsewhere", NULL);
	unsetenv("PUMPRIG_JOURNAL");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *copy = path_in(tmp, "copy"), *target;
		const char *args[] = { cases[c].cmd, copy, cases[c].arg2, NULL };
		struct outcome o;

		sh("rm -rf '%s'%s", copy, "");
		sh("cp -a '%s' '%s'", cases[c].unsealed ? unsealed : run, copy);
		if (cases[c].unsealed)
			sh("rm -f '%s/SHA256SUMS' '%s/SHA256SUMS.sig'", copy, copy);
		target = path_in(copy, cases[c].file);
		unlink(target);
		cr_assert_eq(mkfifo(target, 0644), 0);
		o = rig(tmp, args);
		cr_assert_eq(o.status, cases[c].status, "rig %s with a FIFO %s: exit %d: %s%s",
			     cases[c].cmd, cases[c].file, o.status, o.out, o.err);
		cr_assert(strstr(o.err, cases[c].says) || strstr(o.out, cases[c].says),
			  "rig %s with a FIFO %s: %s%s", cases[c].cmd, cases[c].file, o.out, o.err);
		outcome_free(&o);
		free(target);
		free(copy);
	}
	free(unsealed);
	free(elsewhere);
	free(run);
	free(tmp);
}

/* ----------------------------------------------------------- key files -- */

Test(hostile_files, a_key_of_the_other_kind_is_named_as_such)
{
	char *tmp = th_tmpdir(), *key = path_in(tmp, "station.key"), *pub, *out = path_in(tmp, "run");
	char *seq = th_src(SEQ), *bench = th_src(BENCH), *dut = th_src(DUT);

	{
		const char *args[] = { "keygen", "--out", key, NULL };
		struct outcome o = rig(tmp, args);

		cr_assert_eq(o.status, 0, "%s", o.err);
		outcome_free(&o);
	}
	if (asprintf(&pub, "%s.pub", key) < 0)
		abort();
	{
		const char *args[] = { "run", seq, "--bench", bench, "--dut", dut, "-o", out,
				       "--sign-key", pub, NULL };
		struct outcome o = rig(tmp, args);

		cr_assert_eq(o.status, 2, "%s", o.err);
		cr_assert(strstr(o.err, "this is a public key (the .pub file); --sign-key takes the "
				 "secret key"), "%s", o.err);
		cr_assert(!strstr(o.err, "may read"), "a public key called readable: %s", o.err);
		assert_nothing_started(tmp, "--sign-key FILE.pub");
		outcome_free(&o);
	}
	{
		const char *args[] = { "verify", tmp, "--public-key", key, NULL };
		struct outcome o = rig(tmp, args);

		cr_assert_eq(o.status, 2, "%s%s", o.out, o.err);
		cr_assert(strstr(o.err, "this is a secret key; --public-key takes the public key"),
			  "%s", o.err);
		outcome_free(&o);
	}
	free(seq);
	free(bench);
	free(dut);
	free(pub);
	free(key);
	free(out);
	free(tmp);
}

/* ------------------------------------------------------ results in ... -- */

/* "results in X" is said of an X that was written, never of one that was
 * not: results.json.tmp made a directory while the run holds, so that the
 * results cannot be written. */
Test(hostile_files, results_in_is_said_only_of_a_results_file_that_was_written)
{
	char *tmp = th_tmpdir(), *run = path_in(tmp, "run"), *seq, *block, *results;
	char *bench = th_src(BENCH), *dut = th_src(DUT), *text;
	const char *args[] = { "run", NULL, "--bench", bench, "--dut", dut, "-o", run, "--real-time",
			       "-q", NULL };
	struct stat st;
	char *err;
	pid_t pid;

	seq = th_write_file(tmp, "short.cfg", "sequence = {\n  id = \"SHORT\";\n  version = \"1\";\n"
			    "  title = \"a short hold\";\n  steps = ( { step = \"hold\"; "
			    "duration = \"3 s\"; } );\n};\n");
	args[1] = seq;
	pid = th_rig_spawn(tmp, args);
	/* the hold has begun: three seconds to make the results unwritable */
	text = th_wait_for_text(run, "events.jsonl", "\"event\":\"step\"", 60000);
	cr_assert_not_null(text, "the run did not start");
	free(text);
	block = path_in(run, "results.json.tmp");
	cr_assert_eq(mkdir(block, 0755), 0);
	cr_assert_eq(th_rig_wait(pid), 3);
	results = path_in(run, "results.json");
	cr_assert_neq(stat(results, &st), 0, "results.json was written after all");
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "cannot write the results into"), "%s", err);
	cr_assert(!strstr(err, "rig: results in"), "said of a file never written: %s", err);
	cr_assert(strstr(err, "no results.json was written in"), "%s", err);
	free(err);
	free(results);
	free(block);
	free(seq);
	free(bench);
	free(dut);
	free(run);
	free(tmp);
}

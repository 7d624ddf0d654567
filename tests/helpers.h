/* Shared helpers for the Criterion suites. */
#ifndef RIG_TEST_HELPERS_H
#define RIG_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

/* A fresh empty directory under $TMPDIR (or /tmp); caller owns the string. */
char *th_tmpdir(void);
/* Writes text to dir/name and returns the malloc'd path. */
char *th_write_file(const char *dir, const char *name, const char *text);
/* Reads a whole file into a malloc'd NUL-terminated string, or NULL. */
char *th_read_file(const char *path);
/* Path under the source tree ("fixtures/bench/sim.cfg"); malloc'd. */
char *th_src(const char *relative);

/* The source file at relative with each piece of text pairs[0] replaced by
 * pairs[1] (pairs: from, to, ..., NULL; NULL pairs: none; every from must
 * be there, or the test fails naming it), written to dir/name; returns the
 * malloc'd path. */
char *th_src_edited(const char *dir, const char *relative, const char *name,
		    const char *const *pairs);

/* Reads dir/name whole (see th_read_file). */
char *th_slurp(const char *dir, const char *name);
/* dir/name, malloc'd. */
char *th_path(const char *dir, const char *name);

#include <sys/types.h>
/* Starts the rig binary with args (NULL-terminated, without the program
 * name), stdout and stderr going to dir/stdout and dir/stderr, every signal
 * at its default disposition and unblocked.  Unless the test set them,
 * $PUMPRIG_LOCK_DIR is dir and $PUMPRIG_JOURNAL is dir/seal-journal.jsonl:
 * each test its own locks and seal journal. */
pid_t th_rig_spawn(const char *dir, const char *const *args);
/* The same, the child's files limited to fsize_bytes (RLIMIT_FSIZE) with
 * SIGXFSZ ignored: a write past the limit fails with EFBIG, as on a full
 * disk. */
pid_t th_rig_spawn_limited(const char *dir, const char *const *args, long fsize_bytes);
/* How a child is started: every signal at its default disposition and
 * unblocked (whatever the test runner inherited), except those in ignored
 * and blocked (0-terminated lists, may be NULL); files limited to fsize_bytes when > 0; in a
 * process group of its own when own_process_group (whose parent, the test,
 * is in another group of the session: not orphaned, so SIGTSTP, SIGTTIN and
 * SIGTTOU at their default stop it, as at a terminal). */
struct th_spawn_opts {
	long fsize_bytes;
	const int *ignored, *blocked;
	bool own_process_group;
	bool in_dir;                 /* run in dir (where rig's default runs/ goes) */
	const char *binary;          /* another rig than the build's (NULL: RIG_BINARY) */
};
pid_t th_rig_spawn_with(const char *dir, const char *const *args, const struct th_spawn_opts *opts);
/* Waits for it and returns the raw wait status (for a child that may be
 * killed). */
int th_rig_wait_raw(pid_t pid);
/* Waits for it; asserts a normal exit and returns the exit status. */
int th_rig_wait(pid_t pid);
/* Both: runs rig to the end and returns its exit status. */
int th_rig(const char *dir, const char *const *args);

/* What a kill -9 can lose of a virtual-time run's samples (docs/faults.md,
 * "Durability"): the run time that one 64 KiB stdio buffer of rows spans in
 * this samples.csv text (its own bytes per second of run time, up to its
 * last complete row), plus 2 s for the flush interval and the rows of the
 * instant.  Fails the test for a text without rows. */
double th_samples_buffer_span_s(const char *samples);

#include <jansson.h>
/* A run through the CLI, as `rig run` makes it: the sequence (a shipped file
 * relative to the source tree, or text when it starts with "sequence =") on
 * the bench and device files at bench_src and dut_src (relative too), each
 * edited by its pairs (th_src_edited; NULL: none), into dir/run.  status is
 * rig's exit status, err its stderr, results results.json (NULL when it was
 * not written); the run history is in dir. */
struct th_run {
	int status;
	json_t *results;
	char *err;
	char *dir;
};
struct th_run th_run_seq(const char *sequence, const char *bench_src,
			 const char *const *bench_pairs, const char *dut_src,
			 const char *const *dut_pairs);
void th_run_free(struct th_run *r);

/* Waits, without polling on a timer, until dir/name exists and contains
 * text (inotify on dir: every write wakes it).  Returns the file's text
 * (malloc'd) or NULL after timeout_ms. */
char *th_wait_for_text(const char *dir, const char *name, const char *text, int timeout_ms);
/* The same, until text is there count times. */
char *th_wait_for_text_n(const char *dir, const char *name, const char *text, size_t count,
			 int timeout_ms);

/* Whether text shows a value that rounds to zero as negative ("-0.000"
 * with no other digit after it). */
bool th_negative_zero(const char *text);

#endif

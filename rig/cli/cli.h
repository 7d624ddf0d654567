/* The command line: one file per command (run.c, report.c, ...), each with its
 * own options and usage text, dispatched by the one table in main.c (as git
 * keeps builtin/<name>.c).  What several commands share, and the process-wide
 * signal handling, is in common.c.
 *
 * The top layer: it may call every layer below (engine, judge, seal, config,
 * reports, the simulator's wire server); nothing below calls it. */
#ifndef RIG_CLI_H
#define RIG_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "rig/base/infile.h"
#include "rig/base/text.h"       /* TERM_SAFE: every text a command prints that it did not write */
#include "rig/config/config.h"
#include "rig/engine/calgate.h"
#include "rig/seal/integrity.h"

enum { EXIT_PASS = 0, EXIT_CHECK_FAILED = 1, EXIT_BAD_INPUT = 2, EXIT_ABORTED = 3,
       EXIT_INTEGRITY = 4, EXIT_BENCH_BUSY = 5 };

struct rig_command {
	const char *name;             /* "run": rig run ... */
	const char *usage;            /* rig help NAME, rig NAME --help */
	/* argv[0] is the command's name; returns the exit status */
	int (*main)(int argc, char **argv);
};

extern const struct rig_command cmd_run, cmd_validate, cmd_resume, cmd_report, cmd_note,
	cmd_verify, cmd_keygen, cmd_probe, cmd_safe, cmd_calibrate, cmd_sim, cmd_history,
	cmd_nightly, cmd_sign, cmd_export;

/* ------------------------------------------------------------ common.c -- */

/* The whole command line as rig was started (run.json records it). */
extern int cli_full_argc;
extern char **cli_full_argv;

/* Set by SIGINT, SIGTERM and SIGHUP once install_signals() ran: the engine
 * notices it and ends the run safely. */
extern volatile sig_atomic_t stop_signal;
void install_signals(void);
/* A crash of rig's own (SIGSEGV, ...) replaces the process by a fresh
 * `rig safe --bench bench_path --run-dir run_dir --crashed SIGNAL`. */
void install_crash_handler(const char *bench_path, const char *run_dir);

#define RUN_NOTES_MAX 16

/* The options of rig run and rig validate (and resume's files). */
struct files {
	const char *seq_path, *bench_path, *dut_path, *out_dir;
	bool real_time, quiet;
	const char *operator_name, *sign_key;
	const char *history_db;               /* --db: the run history (else its default) */
	const char *notes[RUN_NOTES_MAX];
	size_t n_notes;
	bool allow_expired_calibration;
	const char *retry_of;                 /* --retry-of RUN_ID (rig nightly's run again) */
};
/* A bad option getopt_long answered '?' for (opterr = 0), shown escaped,
 * then the usage. */
void bad_option(char **argv, const char *usage);
/* Returns 0, 1 after --help, -1 after a usage error (printed). */
int parse_files(int argc, char **argv, struct files *f, const char *usage);
/* What the calibration gate found: today (UTC) and each instrument overdue. */
struct cal_gate {
	char today[UTC_DATE_LEN + 1];
	struct cal_expired expired[ROLE__COUNT];
	size_t n;
};
/* Loads the three files and judges the whole plan before anything moves:
 * every problem in every file, the cross-file checks (plan_validate: rates,
 * volumes, windows, the run's least length and volume against the bench's
 * limits and the reservoir), two instruments on one resource (bench_load),
 * and the calibration gate (an overdue instrument is a problem unless
 * f->allow_expired_calibration, then a printed warning).  starting: rig
 * run and rig validate, which call this one function so that they cannot
 * give different answers; false: rig resume.  Every problem is printed
 * once; returns 0 or -EINVAL. */
int load_all(const struct files *f, bool starting, struct sequence **seq, struct bench **bench,
	     struct device **dev, struct cal_gate *cal);
/* load_all's parts, for a caller that loads a bench once for many jobs (rig
 * nightly) and prints the problems itself; none of them prints a problem.
 * judge_job: the judgement of one job's files that needs more than one file
 * (a device file that states no firmware, when starting; plan_validate),
 * each of seq, bench, dev NULL when it could not be loaded, as far as those
 * loaded allow.  calibration_problems: the calibration gate of a bench (fills
 * cal; an overdue instrument is a problem unless allow); returns how many
 * instruments are overdue.  calibration_warnings: those allowed, printed. */
void judge_job(const struct files *f, bool starting, const struct sequence *seq,
	       const struct bench *bench, const struct device *dev, struct diag_list *diags);
size_t calibration_problems(const struct bench *bench, bool allow, bool starting,
			    struct cal_gate *cal, struct diag_list *diags);
void calibration_warnings(const struct bench *bench, const struct cal_gate *cal, bool starting);
/* A bench file alone (probe, safe, calibrate, sim), its problems printed. */
int load_bench(const char *path, struct bench **ret);
/* Every instrument simulated (in-process, or a wire simulator in lockstep). */
bool all_simulated(const struct bench *bench);

/* The operator (--operator, else $PUMPRIG_OPERATOR, the station's
 * setting; never the login name) resolved and checked; prints why and
 * returns -EINVAL when there is none or it is not one line of text. */
int operator_require(const char *cmd, const char *given, const char **ret);
/* The signing key: --sign-key, else $PUMPRIG_SIGN_KEY, else none. */
int sign_key_resolve(const char *given, const char *cmd, struct sig_secret_key *key,
		     bool *ret_have);

/* RUN_DIR of report, note, verify, resume and safe must be a run's: a
 * directory holding run.json (or its manifest).  0, or the reason printed
 * (ending with outcome: "nothing was done") and EXIT_BAD_INPUT. */
int require_run_dir(const char *run_dir, const char *cmd, const char *outcome);

void print_change(void *ctx, enum manifest_change c, const char *path);
/* A sealed run must still match its manifest before a command writes into
 * it.  Returns 0 with *ret_sealed, or an exit status. */
int sealed_precheck(const char *run_dir, const char *cmd, bool raw_only, bool have_key,
		    bool unsign, bool *ret_sealed);
/* The station's seal journal (journal_station), or why it cannot be named
 * (printed). */
int journal_where_resolve(const char *cmd, struct journal_where *w);
/* A journal at w->path that is there and is no regular file (a FIFO, a
 * directory, a device): said what it is, as for an input file, and
 * -RIG_ENOTREG; else 0.  It is looked at, never opened. */
int journal_refuse_special(const char *cmd, const struct journal_where *w);
/* The journal can take a seal: 0, or a negative errno after saying so (for
 * one that is no regular file, what it is), and that then `nothing`
 * ("nothing was run"). */
int journal_ready(const char *cmd, const char *nothing);
/* "once", "twice", "3 times" */
const char *times_words(size_t n, char buf[32]);
/* What the journal says of the run, in rig verify's columns (verify.c);
 * true when it vouches for the seal.  hint: name verify's --journal and
 * --no-journal. */
bool journal_print(FILE *f, const struct journal_check *c, const char *path, const char *source,
		   bool hint);
/* Seals run_dir and journals the seal; 0 or EXIT_INTEGRITY (said why). */
int seal(const char *run_dir, const char *cmd, const struct seal_opts *so);
/* Signals that would end rig wait while a run's outputs and seal are
 * written (hold), and take effect after (release). */
void hold_signals(sigset_t *ret_old);
void release_signals(const sigset_t *old);
/* Judges the run, writes every report, then seals it when so is not NULL.
 * Returns the exit status; *ret_results_written (may be NULL) says whether
 * results.json was written now. */
int judge(const char *run_dir, bool print, const char *cmd, const struct seal_opts *so,
	  bool *ret_results_written);

struct bench_lock;
/* One run per bench and one user per physical instrument (rig/engine/lock.h):
 * 0, or the exit status to give up with (EXIT_BENCH_BUSY, naming the holder
 * of what was busy).  command: "rig run"; nothing: "started", "opened". */
int take_bench_lock(const struct bench *bench, const char *run_dir, const char *command,
		    const char *nothing, struct bench_lock **lock, char *stale, size_t stale_len);

/* Options shared by report, note and verify: RUN_DIR and up to one more
 * positional argument, --operator, --sign-key, --public-key, --unsign,
 * --journal, --no-journal. */
struct dir_opts {
	const char *run_dir, *text, *operator_name, *sign_key, *public_key, *journal;
	const char *history_db;
	bool unsign, no_journal;
};
/* rig verify's lines on the run's signatures (rig/cli/signoff/sign.c): each
 * checked against its key, this run's id, the record as it is now and, when
 * jc is not NULL, the run's seals in the journal; reviewer and approver
 * different people.  True when every one holds (none is true). */
bool signoff_verify_print(FILE *f, const char *run_dir, const struct journal_check *jc);

int parse_dir_opts(int argc, char **argv, const char *usage, size_t n_pos, const char *allowed,
		   struct dir_opts *d);

#endif

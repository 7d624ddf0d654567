/* The station's seal journal: one JSON line for every seal rig makes, kept
 * outside the run directories, append-only, each line carrying the SHA-256
 * of the line before it.  A run's manifest is then not only consistent with
 * its files: it must be the seal rig last made of that run on this station.
 * Format, location and the rules: docs/integrity.md, "The station's seal
 * journal".
 *
 * The interface is kept small (journal_append, journal_lookup) so that the
 * run history can record the same seals. */
#ifndef RIG_JOURNAL_H
#define RIG_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "rig/base/bench.h"
#include "rig/base/runid.h"
#include "digest.h"
#include "signature.h"

#define JOURNAL_ENV "PUMPRIG_JOURNAL"
#define JOURNAL_SYSTEM_DIR "/var/lib/pumprig"
#define JOURNAL_FILE "seal-journal.jsonl"
#define JOURNAL_RUN_MAX 80             /* a run's key: "sha256:" + 64 hex */
#define JOURNAL_LINE_MAX 16384         /* a longer line is not a journal line */

/* One seal: one line of the journal. */
struct journal_seal {
	size_t line;                         /* 1-based */
	char utc[32];                        /* when it was sealed */
	char run[JOURNAL_RUN_MAX];           /* which run (journal_run_key) */
	char run_id[RUN_ID_MAX];             /* run.json's run_id; "" none (a line written
	                                        before lines carried it, a run without one) */
	char run_dir[RIG_PATH_MAX];          /* where it was, absolute */
	char manifest[DIGEST_HEX_LEN + 1];   /* SHA-256 of the SHA256SUMS written */
	char replaced[DIGEST_HEX_LEN + 1];   /* of the SHA256SUMS it replaced; "" none */
	char key[SIG_FINGERPRINT_LEN + 1];   /* the signing key; "" unsigned */
	char sealed_by[32];                  /* "rig run", "rig report", ... */
	char why[96];                        /* "end of run", "re-judged", "note added", ... */
	char host[64];
	char software[64];                   /* "pumprig 0.1.0" */
};

/* Where the station's journal is, and who said so. */
struct journal_where {
	char path[RIG_PATH_MAX];
	const char *source;   /* "$PUMPRIG_JOURNAL", "/var/lib/pumprig", "$XDG_STATE_HOME", "~/.local/state" */
	bool make_dir;        /* a per-user default: rig may create its folder */
};

/* $PUMPRIG_JOURNAL; else /var/lib/pumprig/seal-journal.jsonl when that
 * folder exists (the station's, made at installation); else
 * $XDG_STATE_HOME/pumprig/seal-journal.jsonl; else
 * ~/.local/state/pumprig/seal-journal.jsonl.  -ENOENT when no HOME. */
int journal_station(struct journal_where *ret);

/* What identifies a run in the journal: today "sha256:" and the SHA-256 of
 * its run.json (written once, when the run is created, with its start time,
 * host and command line); the one place to change when run.json carries a
 * run id of its own.  -ENOENT without run.json. */
int journal_run_key(const char *run_dir, char ret[JOURNAL_RUN_MAX]);

struct journal;

/* Opens the journal at path and locks it (flock: exclusive to append,
 * shared to read) until journal_close.  To append it is created when
 * missing (and its folder when make_dir); to read, -ENOENT when missing.
 * -RIG_ENOTREG (rig/base/infile.h) when it is not a regular file (a FIFO
 * never waited on, a device never opened), -EINVAL for a symbolic link. */
int journal_open(const char *path, bool append, bool make_dir, struct journal **ret);
void journal_close(struct journal *j);

/* What the journal says about one run and one manifest. */
struct journal_lookup {
	size_t n_lines;
	size_t broken_line;           /* the first line that does not follow the one before it
	                                 (its chain digest or its line number is wrong); 0 none */
	size_t n_unreadable;          /* lines that are not journal lines (torn by a crash,
	                                 or written by hand): the chain runs through their
	                                 bytes, and they are no seal */
	size_t unreadable_line;       /* the first of them */
	struct journal_seal *seals;   /* the run's seals, oldest first */
	size_t n_seals;
	struct journal_seal other;    /* the manifest journalled as another run's seal */
	bool other_found;
	struct journal_seal other_at_dir;   /* the latest seal of another run at the same folder */
	size_t n_other_at_dir;
	struct journal_seal same_id;        /* the first seal of another run (another run.json)
	                                       with the run's run_id */
	bool same_id_found;
};

/* Reads the whole journal: the seals of run (may be NULL), the latest seal
 * of another run whose manifest is manifest_hex (may be NULL) and of
 * another run at run_dir (may be NULL), the first seal of another run with
 * the run id run_id (NULL or "": none looked for), and whether every line
 * follows the one before it.  Free with journal_lookup_free. */
int journal_lookup(struct journal *j, const char *run, const char *run_id, const char *run_dir,
		   const char *manifest_hex, struct journal_lookup *ret);

/* journal_lookup for a question about one run alone (the history's ingest
 * of thousands): a line that names none of run, run_id, run_dir and
 * manifest_hex is not parsed, so the chain between lines is not checked
 * (broken_line and unreadable_line stay 0; rig verify uses journal_lookup). */
int journal_lookup_run(struct journal *j, const char *run, const char *run_id,
		       const char *run_dir, const char *manifest_hex, struct journal_lookup *ret);
void journal_lookup_free(struct journal_lookup *l);

/* Appends s as the next line (s->line is set): one write, forced to disk.
 * A torn last line is closed first, in the same write. */
int journal_append(struct journal *j, struct journal_seal *s);

/* One line's text, as written (prev_hex: the SHA-256 of the line before it,
 * 64 zeros for the first); malloc'd, without the newline. */
int journal_format_line(const struct journal_seal *s, const char *prev_hex, char **ret,
			size_t *ret_len);
/* Parses one line (untrusted text of any length, no newline): -EBADMSG when
 * it is not a journal line.  ret_prev: its prev_line_sha256. */
int journal_parse_line(const char *text, size_t len, struct journal_seal *ret,
		       char ret_prev[DIGEST_HEX_LEN + 1]);

#endif

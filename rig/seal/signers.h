/* The station's signers: which person each signing key belongs to, beside
 * the seal journal (signers.jsonl in its folder).  A key's first signature
 * on the station names its owner; the key then signs as no one else, on
 * any run (21 CFR 11.100(a): a signature is unique to one person, never
 * reused by or given to another).  One JSON line per key, appended under a
 * lock, never rewritten.  docs/integrity.md, "Signatures with meaning". */
#ifndef RIG_SIGNERS_H
#define RIG_SIGNERS_H

#include <stddef.h>

#define SIGNERS_FILE "signers.jsonl"

/* The registry beside the journal at journal_path. */
int signers_path_of(const char *journal_path, char *ret, size_t len);

/* Claims the key `fingerprint` for `signer` (compared by name_skeleton).
 * 0: the key is this signer's (now or already); -EEXIST: it is another's,
 * whose name and first use are in owner; another negative errno when the
 * registry cannot be read or written (-EINVAL: not a regular file). */
int signers_claim(const char *path, const char *fingerprint, const char *signer,
		  char *owner, size_t owner_len);

#endif

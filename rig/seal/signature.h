/* Ed25519 signatures of a run's manifest, through libsodium.
 *
 * A station holds one secret key (`rig keygen`); its public key goes to
 * whoever must check the station's records.  The signature file names the
 * algorithm and carries the public key that made it and the key's
 * fingerprint, so a record can be checked on its own and against an
 * expected key.  Formats: docs/integrity.md. */
#ifndef RIG_SIGNATURE_H
#define RIG_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>

#define SIG_PUBLIC_KEY_BYTES 32
#define SIG_SECRET_KEY_BYTES 64
#define SIG_BYTES 64
#define SIG_FINGERPRINT_LEN 71          /* "sha256:" + 64 hex */
#define SIG_ALGORITHM "ed25519"

struct sig_secret_key {
	unsigned char sk[SIG_SECRET_KEY_BYTES];   /* libsodium's layout: seed, then public key */
	unsigned char pk[SIG_PUBLIC_KEY_BYTES];
};

struct signature {
	unsigned char pk[SIG_PUBLIC_KEY_BYTES];
	unsigned char sig[SIG_BYTES];
	char fingerprint[SIG_FINGERPRINT_LEN + 1];
	char signed_file[64];
};

/* Writes a new key pair: path (secret, mode 0600) and path.pub.  Neither may
 * exist (-EEXIST). */
int sig_keygen(const char *path);

/* Reads a secret key file; -EACCES when group or others may read it (a
 * station key readable by anyone is no longer the station's), -ENOKEY when
 * it is a public key file, -EBADMSG when it is not a key file, -RIG_ENOTREG
 * (rig/base/infile.h) when it is not a regular file (never blocks on a
 * FIFO). */
int sig_secret_key_load(const char *path, struct sig_secret_key *ret);
/* Reads a public key file (path.pub from sig_keygen); -ENOKEY when it is a
 * secret key file, else as above. */
int sig_public_key_load(const char *path, unsigned char ret_pk[SIG_PUBLIC_KEY_BYTES]);
/* Text forms of the key files, as written (parse_* are the readers' cores;
 * they take untrusted text of any length). */
int sig_public_key_parse(const char *text, size_t len, unsigned char ret_pk[SIG_PUBLIC_KEY_BYTES]);
int sig_secret_key_parse(const char *text, size_t len, struct sig_secret_key *ret);

/* "sha256:" + hex SHA-256 of the 32 key bytes. */
void sig_fingerprint(const unsigned char pk[SIG_PUBLIC_KEY_BYTES],
		     char ret[SIG_FINGERPRINT_LEN + 1]);

/* Signs msg and formats the signature file text (malloc'd). */
int sig_sign_format(const struct sig_secret_key *key, const char *signed_file, const void *msg,
		    size_t len, char **ret_text, size_t *ret_len);

/* Parses a signature file.  -EBADMSG with the 1-based line in *ret_line for
 * a malformed line, an unknown key, a repeated key, a missing key, or an
 * algorithm other than ed25519. */
int sig_parse(const char *text, size_t len, struct signature *ret, size_t *ret_line);

/* True when sig is a valid signature of msg by the key it names. */
bool sig_check(const struct signature *sig, const void *msg, size_t len);

#endif

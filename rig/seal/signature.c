/* Ed25519 key files and manifest signatures.  See signature.h. */
#define _GNU_SOURCE  /* asprintf */
#include "signature.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rig/base/bench.h"
#include "rig/base/infile.h"
#include "digest.h"

#define SECRET_HEADER "pumprig ed25519 secret key"
#define PUBLIC_HEADER "pumprig ed25519 public key"
#define SIG_HEADER "pumprig signature 1"
#define KEY_FILE_MAX 4096

static int write_new(const char *path, mode_t mode, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int r = 0;

	if (fd < 0)
		return -errno;
	errno = 0;
	/* The mode given to open is masked by the umask; a secret key must end
	 * up 0600 whatever the umask says. */
	if (fchmod(fd, mode) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
		r = errno ? -errno : -EIO;
	if (close(fd) != 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

int sig_keygen(const char *path)
{
	unsigned char pk[SIG_PUBLIC_KEY_BYTES], sk[SIG_SECRET_KEY_BYTES];
	char pub_path[RIG_PATH_MAX], text[2 * SIG_SECRET_KEY_BYTES + 128];
	char hex[2 * SIG_SECRET_KEY_BYTES + 1], fp[SIG_FINGERPRINT_LEN + 1];
	struct stat st;
	int r;

	if (sodium_init() < 0)
		return -EIO;
	if ((size_t)snprintf(pub_path, sizeof(pub_path), "%s.pub", path) >= sizeof(pub_path))
		return -ENAMETOOLONG;
	if (lstat(pub_path, &st) == 0)
		return -EEXIST;
	crypto_sign_keypair(pk, sk);
	sodium_bin2hex(hex, sizeof(hex), sk, sizeof(sk));
	snprintf(text, sizeof(text), SECRET_HEADER "\n%s\n", hex);
	sodium_memzero(sk, sizeof(sk));
	r = write_new(path, 0600, text);
	sodium_memzero(text, sizeof(text));
	sodium_memzero(hex, sizeof(hex));
	if (r < 0)
		return r;
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	sig_fingerprint(pk, fp);
	snprintf(text, sizeof(text), PUBLIC_HEADER "\n%s\n# fingerprint %s\n", hex, fp);
	r = write_new(pub_path, 0644, text);
	if (r < 0)
		unlink(path);
	return r;
}

/* Exactly 2*n lowercase or uppercase hex digits. */
static int hex_decode(const char *hex, size_t hex_len, unsigned char *out, size_t n)
{
	size_t got = 0;

	if (hex_len != 2 * n)
		return -EBADMSG;
	for (size_t i = 0; i < hex_len; i++) {
		char c = hex[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return -EBADMSG;
	}
	if (sodium_hex2bin(out, n, hex, hex_len, NULL, &got, NULL) != 0 || got != n)
		return -EBADMSG;
	return 0;
}

/* "HEADER\n<hex>\n" and optional '#' comment lines after it. */
static int key_parse(const char *text, size_t len, const char *header, unsigned char *out,
		     size_t n)
{
	size_t hl = strlen(header);
	const char *p, *nl;

	if (len < hl + 1 || memcmp(text, header, hl) != 0 || text[hl] != '\n')
		return -EBADMSG;
	p = text + hl + 1;
	nl = memchr(p, '\n', len - (size_t)(p - text));
	if (!nl)
		return -EBADMSG;
	if (hex_decode(p, (size_t)(nl - p), out, n) < 0)
		return -EBADMSG;
	for (p = nl + 1; p < text + len; p = nl + 1) {
		nl = memchr(p, '\n', len - (size_t)(p - text));
		if (*p != '#' && !(nl == p))
			return -EBADMSG;
		if (!nl)
			break;
	}
	return 0;
}

int sig_public_key_parse(const char *text, size_t len, unsigned char ret_pk[SIG_PUBLIC_KEY_BYTES])
{
	return key_parse(text, len, PUBLIC_HEADER, ret_pk, SIG_PUBLIC_KEY_BYTES);
}

int sig_secret_key_parse(const char *text, size_t len, struct sig_secret_key *ret)
{
	int r = key_parse(text, len, SECRET_HEADER, ret->sk, SIG_SECRET_KEY_BYTES);

	if (r < 0)
		return r;
	if (sodium_init() < 0)
		return -EIO;
	/* The second half of libsodium's secret key is the public key; deriving
	 * it again from the seed catches a damaged file. */
	crypto_sign_ed25519_sk_to_pk(ret->pk, ret->sk);
	{
		unsigned char seed[crypto_sign_SEEDBYTES], pk[SIG_PUBLIC_KEY_BYTES], sk[SIG_SECRET_KEY_BYTES];
		bool same;

		crypto_sign_ed25519_sk_to_seed(seed, ret->sk);
		crypto_sign_seed_keypair(pk, sk, seed);
		same = sodium_memcmp(pk, ret->pk, sizeof(pk)) == 0;
		sodium_memzero(seed, sizeof(seed));
		sodium_memzero(sk, sizeof(sk));
		if (!same)
			return -EBADMSG;
	}
	return 0;
}

static int read_small(const char *path, char *buf, size_t cap, size_t *ret_len, mode_t *ret_mode)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd = infile_open(path), r = 0;   /* a FIFO or a device is refused, never read */

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	*ret_mode = st.st_mode;
	while (got < cap && (n = read(fd, buf + got, cap - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		got += (size_t)n;
	}
	if (got == cap)
		r = -EBADMSG;   /* larger than any key file */
	*ret_len = got;
out:
	close(fd);
	return r;
}

/* The first line of a key file of the other kind. */
static bool starts_with_line(const char *buf, size_t len, const char *header)
{
	size_t hl = strlen(header);

	return len > hl && memcmp(buf, header, hl) == 0 && buf[hl] == '\n';
}

int sig_secret_key_load(const char *path, struct sig_secret_key *ret)
{
	char buf[KEY_FILE_MAX];
	size_t len = 0;
	mode_t mode = 0;
	int r = read_small(path, buf, sizeof(buf), &len, &mode);

	/* the public half is no secret: said before its mode is held against it */
	if (r == 0 && starts_with_line(buf, len, PUBLIC_HEADER))
		r = -ENOKEY;
	if (r == 0 && (mode & 077))
		r = -EACCES;
	if (r == 0)
		r = sig_secret_key_parse(buf, len, ret);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

int sig_public_key_load(const char *path, unsigned char ret_pk[SIG_PUBLIC_KEY_BYTES])
{
	char buf[KEY_FILE_MAX];
	size_t len = 0;
	mode_t mode = 0;
	int r = read_small(path, buf, sizeof(buf), &len, &mode);

	if (r == 0 && starts_with_line(buf, len, SECRET_HEADER))
		r = -ENOKEY;
	if (r == 0)
		r = sig_public_key_parse(buf, len, ret_pk);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

void sig_fingerprint(const unsigned char pk[SIG_PUBLIC_KEY_BYTES],
		     char ret[SIG_FINGERPRINT_LEN + 1])
{
	char hex[DIGEST_HEX_LEN + 1];

	digest_buf_sha256(pk, SIG_PUBLIC_KEY_BYTES, hex);
	snprintf(ret, SIG_FINGERPRINT_LEN + 1, "sha256:%s", hex);
}

int sig_sign_format(const struct sig_secret_key *key, const char *signed_file, const void *msg,
		    size_t len, char **ret_text, size_t *ret_len)
{
	unsigned char sig[SIG_BYTES];
	char sig_hex[2 * SIG_BYTES + 1], pk_hex[2 * SIG_PUBLIC_KEY_BYTES + 1];
	char fp[SIG_FINGERPRINT_LEN + 1];
	int n;

	if (sodium_init() < 0)
		return -EIO;
	if (crypto_sign_detached(sig, NULL, msg, len, key->sk) != 0)
		return -EIO;
	sodium_bin2hex(sig_hex, sizeof(sig_hex), sig, sizeof(sig));
	sodium_bin2hex(pk_hex, sizeof(pk_hex), key->pk, sizeof(key->pk));
	sig_fingerprint(key->pk, fp);
	n = asprintf(ret_text,
		     SIG_HEADER "\n"
		     "algorithm: " SIG_ALGORITHM "\n"
		     "signed-file: %s\n"
		     "public-key: %s\n"
		     "key-fingerprint: %s\n"
		     "signature: %s\n",
		     signed_file, pk_hex, fp, sig_hex);
	if (n < 0)
		return -ENOMEM;
	*ret_len = (size_t)n;
	return 0;
}

int sig_parse(const char *text, size_t len, struct signature *ret, size_t *ret_line)
{
	enum { K_ALG, K_FILE, K_PK, K_FP, K_SIG, K__N };
	static const char *const keys[K__N] = { "algorithm", "signed-file", "public-key",
						 "key-fingerprint", "signature" };
	bool seen[K__N] = { 0 };
	size_t pos = 0, line_no = 0;
	char fp[SIG_FINGERPRINT_LEN + 1] = "";

	memset(ret, 0, sizeof(*ret));
	*ret_line = 0;
	if (len > KEY_FILE_MAX)
		return -EBADMSG;
	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos), *colon, *v;
		size_t n = nl ? (size_t)(nl - line) : len - pos, vl;
		int k;

		line_no++;
		pos += n + (nl ? 1 : 0);
		*ret_line = line_no;
		if (line_no == 1) {
			if (n != strlen(SIG_HEADER) || memcmp(line, SIG_HEADER, n) != 0)
				return -EBADMSG;
			continue;
		}
		if (n == 0 || line[0] == '#')
			continue;
		colon = memchr(line, ':', n);
		if (!colon || (size_t)(colon - line) + 2 > n || colon[1] != ' ')
			return -EBADMSG;
		for (k = 0; k < K__N; k++)
			if ((size_t)(colon - line) == strlen(keys[k]) &&
			    memcmp(line, keys[k], strlen(keys[k])) == 0)
				break;
		if (k == K__N || seen[k])
			return -EBADMSG;
		seen[k] = true;
		v = colon + 2;
		vl = n - (size_t)(v - line);
		switch (k) {
		case K_ALG:
			if (vl != strlen(SIG_ALGORITHM) || memcmp(v, SIG_ALGORITHM, vl) != 0)
				return -EBADMSG;
			break;
		case K_FILE:
			if (vl == 0 || vl >= sizeof(ret->signed_file) || memchr(v, '\0', vl))
				return -EBADMSG;
			memcpy(ret->signed_file, v, vl);
			ret->signed_file[vl] = '\0';
			break;
		case K_PK:
			if (hex_decode(v, vl, ret->pk, sizeof(ret->pk)) < 0)
				return -EBADMSG;
			break;
		case K_FP:
			if (vl != SIG_FINGERPRINT_LEN)
				return -EBADMSG;
			memcpy(fp, v, vl);
			fp[vl] = '\0';
			break;
		default:
			if (hex_decode(v, vl, ret->sig, sizeof(ret->sig)) < 0)
				return -EBADMSG;
			break;
		}
	}
	*ret_line = line_no + 1;   /* what is missing is missing at the end */
	for (int k = 0; k < K__N; k++)
		if (!seen[k])
			return -EBADMSG;
	/* The fingerprint is a convenience for people; it must agree with the
	 * key it claims to summarise. */
	sig_fingerprint(ret->pk, ret->fingerprint);
	if (strcmp(fp, ret->fingerprint) != 0)
		return -EBADMSG;
	*ret_line = 0;
	return 0;
}

bool sig_check(const struct signature *sig, const void *msg, size_t len)
{
	if (sodium_init() < 0)
		return false;
	return crypto_sign_verify_detached(sig->sig, msg, len, sig->pk) == 0;
}

#include "digest.h"
#include "rig/base/infile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

static void to_hex(const unsigned char *d, char *hex)
{
	/* sodium_bin2hex writes lowercase and the terminating NUL */
	sodium_bin2hex(hex, DIGEST_HEX_LEN + 1, d, crypto_hash_sha256_BYTES);
}

int digest_file_sha256(const char *path, char ret_hex[DIGEST_HEX_LEN + 1])
{
	unsigned char buf[65536], d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	ssize_t n;
	int fd, r = 0;

	if (sodium_init() < 0)
		return -EIO;
	fd = infile_open(path);   /* never blocks on a FIFO put in a file's place */
	if (fd < 0)
		return fd;
	crypto_hash_sha256_init(&st);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
	}
	close(fd);
	if (r < 0)
		return r;
	crypto_hash_sha256_final(&st, d);
	to_hex(d, ret_hex);
	return 0;
}

void digest_buf_sha256(const void *buf, size_t len, char ret_hex[DIGEST_HEX_LEN + 1])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, buf, len);
	to_hex(d, ret_hex);
}

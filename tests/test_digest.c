/* SHA-256 through libsodium, against the FIPS 180-2 example digests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "rig/seal/digest.h"

Test(digest, matches_the_fips_180_2_examples_in_memory_and_from_a_file)
{
	char hex[DIGEST_HEX_LEN + 1], *dir = th_tmpdir(), path[4200];
	const char *abc = "abc";
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/a-million-a", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

	digest_buf_sha256(abc, 3, hex);
	cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	cr_assert(fd >= 0);
	f = fdopen(fd, "w");
	/* one million 'a': larger than the 64 KiB read buffer */
	for (int i = 0; i < 1000000; i++)
		fputc('a', f);
	fclose(f);
	cr_assert_eq(digest_file_sha256(path, hex), 0);
	cr_expect_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	unlink(path);
	cr_expect_eq(digest_file_sha256(path, hex), -ENOENT);
	rmdir(dir);
	free(dir);
}

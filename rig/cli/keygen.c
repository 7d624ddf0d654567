/* rig keygen: the station's Ed25519 signing key. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage_keygen[] =
	"Usage: rig keygen --out FILE\n"
	"\n"
	"Makes an Ed25519 key pair for signing run manifests: FILE holds the secret\n"
	"key (mode 0600; keep it on the station), FILE.pub the public key to give to\n"
	"whoever checks the records (rig verify --public-key FILE.pub).  Neither file\n"
	"may exist already.\n";

static int keygen_main(int argc, char **argv)
{
	int r;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_keygen, stdout);
		return EXIT_PASS;
	}
	if (argc != 3 || strcmp(argv[1], "--out") != 0) {
		fprintf(stderr, "rig keygen: --out FILE is required\n\n%s", usage_keygen);
		return EXIT_BAD_INPUT;
	}
	r = sig_keygen(argv[2]);
	if (r < 0) {
		fprintf(stderr, "rig keygen: %s: %s\n", TERM_SAFE(argv[2]), r == -EEXIST ?
			"it or its .pub already exists; a key is never overwritten, name a new file" :
			strerror(-r));
		return EXIT_BAD_INPUT;
	}
	printf("secret key %s (mode 0600), public key %s.pub\n", TERM_SAFE(argv[2]),
	       TERM_SAFE(argv[2]));
	return EXIT_PASS;
}

const struct rig_command cmd_keygen = { "keygen", usage_keygen, keygen_main };

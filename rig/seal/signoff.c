/* Electronic signatures with meaning: see signoff.h and docs/integrity.md. */
#include "signoff.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rig/base/name.h"
#include "rig/base/text.h"
#include "rig/base/wholefile.h"

static const char *const meaning_names[SIGNOFF__COUNT] = { "authored", "reviewed", "approved" };

int signoff_meaning_parse(const char *text, enum signoff_meaning *ret)
{
	for (int m = 0; m < SIGNOFF__COUNT; m++)
		if (strcmp(text, meaning_names[m]) == 0) {
			*ret = (enum signoff_meaning)m;
			return 0;
		}
	return -EINVAL;
}

const char *signoff_meaning_name(enum signoff_meaning m)
{
	return m < SIGNOFF__COUNT ? meaning_names[m] : "?";
}

void signoff_record_digest(const struct manifest *m, char ret[DIGEST_HEX_LEN + 1])
{
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&st);
	for (size_t i = 0; i < m->n; i++) {
		const struct manifest_entry *e = &m->entries[i];

		if (strcmp(e->path, SIGNOFF_NAME) == 0 || manifest_path_derived(e->path))
			continue;
		crypto_hash_sha256_update(&st, (const unsigned char *)e->hex, strlen(e->hex));
		crypto_hash_sha256_update(&st, (const unsigned char *)"  ", 2);
		crypto_hash_sha256_update(&st, (const unsigned char *)e->path, strlen(e->path));
		crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
	}
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(ret, DIGEST_HEX_LEN + 1, h, sizeof(h));
}

int signoff_record_of(const char *run_dir, char ret_manifest[DIGEST_HEX_LEN + 1],
		      char ret_record[DIGEST_HEX_LEN + 1])
{
	struct manifest m = { 0 };
	char *text = NULL;
	size_t len = 0, line = 0;
	int r = manifest_load(run_dir, &m, &text, &len, &line);

	ret_manifest[0] = ret_record[0] = '\0';
	if (r == 0) {
		digest_buf_sha256(text, len, ret_manifest);
		signoff_record_digest(&m, ret_record);
	}
	free(text);
	manifest_free(&m);
	return r;
}

/* What is signed: every field that says what the signature means, one a
 * line, so that no field can be shifted into another. */
static int message(const struct signoff *s, char *buf, size_t size)
{
	int n = snprintf(buf, size, "pumprig signoff 1\nrun_id: %s\nmeaning: %s\nsigner: %s\n"
			 "utc: %s\nmanifest_sha256: %s\nrecord_sha256: %s\n", s->run_id,
			 signoff_meaning_name(s->meaning), s->signer, s->utc, s->manifest_sha256,
			 s->record_sha256);

	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int signoff_sign(const struct sig_secret_key *key, struct signoff *s)
{
	char msg[SIGNOFF_LINE_MAX];
	int n = message(s, msg, sizeof(msg));

	if (n < 0)
		return n;
	if (sodium_init() < 0)
		return -EIO;
	memcpy(s->pk, key->pk, sizeof(s->pk));
	sig_fingerprint(s->pk, s->fingerprint);
	crypto_sign_detached(s->sig, NULL, (const unsigned char *)msg, (unsigned long long)n, key->sk);
	return 0;
}

/* True when s->sig is a valid signature of s's fields by s->pk and the
 * fingerprint is that key's: the first thing signoff_status asks. */
static bool signoff_check(const struct signoff *s)
{
	char msg[SIGNOFF_LINE_MAX], fp[SIG_FINGERPRINT_LEN + 1];
	int n = message(s, msg, sizeof(msg));

	if (n < 0 || sodium_init() < 0)
		return false;
	sig_fingerprint(s->pk, fp);
	return strcmp(fp, s->fingerprint) == 0 &&
	       crypto_sign_verify_detached(s->sig, (const unsigned char *)msg, (unsigned long long)n,
					   s->pk) == 0;
}

enum signoff_status signoff_status(const struct signoff *s, const char *run_id,
				   const char *record_hex)
{
	if (!signoff_check(s))
		return SIGNOFF_ALTERED;
	if (strcmp(s->run_id, run_id) != 0)
		return SIGNOFF_OTHER_RUN;
	if (strcmp(s->record_sha256, record_hex) != 0)
		return SIGNOFF_RECORD_CHANGED;
	return SIGNOFF_VALID;
}

const char *signoff_status_words(enum signoff_status st)
{
	switch (st) {
	case SIGNOFF_VALID: return "valid";
	case SIGNOFF_ALTERED: return "NOT VALID: altered";
	case SIGNOFF_OTHER_RUN: return "NOT VALID: another run's";
	case SIGNOFF_RECORD_CHANGED: return "NOT VALID: record changed";
	}
	return "NOT VALID";
}

int signoff_format_line(const struct signoff *s, char **ret)
{
	char pk[2 * SIG_PUBLIC_KEY_BYTES + 1], sig[2 * SIG_BYTES + 1];
	json_t *o;

	sodium_bin2hex(pk, sizeof(pk), s->pk, sizeof(s->pk));
	sodium_bin2hex(sig, sizeof(sig), s->sig, sizeof(s->sig));
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "line", (json_int_t)s->n,
		      "utc", s->utc, "run_id", s->run_id, "meaning", signoff_meaning_name(s->meaning),
		      "signer", s->signer, "manifest_sha256", s->manifest_sha256, "record_sha256",
		      s->record_sha256, "public_key", pk, "key", s->fingerprint, "signature", sig);
	*ret = o ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
	json_decref(o);
	return *ret ? 0 : -ENOMEM;
}

static bool hex_field(json_t *o, const char *key, char *out, size_t n_hex)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (!v || strlen(v) != n_hex)
		return false;
	for (size_t i = 0; i < n_hex; i++)
		if (!isxdigit((unsigned char)v[i]) || isupper((unsigned char)v[i]))
			return false;
	memcpy(out, v, n_hex + 1);
	return true;
}

static bool text_field(json_t *o, const char *key, char *out, size_t size)
{
	const char *v = json_string_value(json_object_get(o, key));
	size_t len = v ? strlen(v) : 0;

	/* one line of UTF-8 text, no control character: a name that printed
	 * as another line of the report would fake a signature */
	if (!v || len == 0 || len >= size || !text_check(v, len, 0, NULL))
		return false;
	memcpy(out, v, len + 1);
	return true;
}

int signoff_parse_line(const char *text, size_t len, struct signoff *ret)
{
	char pk[2 * SIG_PUBLIC_KEY_BYTES + 1], sig[2 * SIG_BYTES + 1], meaning[16];
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	json_int_t line;
	size_t got = 0;
	bool ok;

	memset(ret, 0, sizeof(*ret));
	ok = o && json_is_object(o) && json_object_size(o) == 10 &&
	     json_is_integer(json_object_get(o, "line"));
	line = ok ? json_integer_value(json_object_get(o, "line")) : 0;
	ok = ok && line >= 1 && line <= SIGNOFF_MAX &&
	     text_field(o, "utc", ret->utc, sizeof(ret->utc)) &&
	     text_field(o, "run_id", ret->run_id, sizeof(ret->run_id)) &&
	     text_field(o, "meaning", meaning, sizeof(meaning)) &&
	     signoff_meaning_parse(meaning, &ret->meaning) == 0 &&
	     text_field(o, "signer", ret->signer, sizeof(ret->signer)) &&
	     hex_field(o, "manifest_sha256", ret->manifest_sha256, DIGEST_HEX_LEN) &&
	     hex_field(o, "record_sha256", ret->record_sha256, DIGEST_HEX_LEN) &&
	     hex_field(o, "public_key", pk, 2 * SIG_PUBLIC_KEY_BYTES) &&
	     text_field(o, "key", ret->fingerprint, sizeof(ret->fingerprint)) &&
	     hex_field(o, "signature", sig, 2 * SIG_BYTES);
	ok = ok && sodium_hex2bin(ret->pk, sizeof(ret->pk), pk, strlen(pk), NULL, &got, NULL) == 0 &&
	     got == sizeof(ret->pk);
	ok = ok && sodium_hex2bin(ret->sig, sizeof(ret->sig), sig, strlen(sig), NULL, &got, NULL) == 0 &&
	     got == sizeof(ret->sig);
	ret->n = (size_t)line;
	json_decref(o);
	return ok ? 0 : -EBADMSG;
}

int signoff_load(const char *run_dir, struct signoff **ret, size_t *ret_n, size_t *ret_bad_line)
{
	char path[RIG_PATH_MAX + 32], *text = NULL, *p, *end;
	size_t len = 0, n = 0, line = 0;
	struct signoff *v;
	int r;

	*ret = NULL;
	*ret_n = 0;
	*ret_bad_line = 0;
	snprintf(path, sizeof(path), "%s/%s", run_dir, SIGNOFF_NAME);
	r = wholefile_read(path, (size_t)SIGNOFF_MAX * SIGNOFF_LINE_MAX, true, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	v = calloc(SIGNOFF_MAX, sizeof(*v));
	if (!v) {
		free(text);
		return -ENOMEM;
	}
	for (p = text, end = text + len; p < end; p = p + strcspn(p, "\n") + 1) {
		size_t l = strcspn(p, "\n");

		line++;
		/* every line whole, numbered in order: a line taken out or put in
		 * between is seen (the manifest and the journal say more) */
		if (n == SIGNOFF_MAX || p[l] != '\n' || signoff_parse_line(p, l, &v[n]) < 0 ||
		    v[n].n != n + 1) {
			*ret_bad_line = line;
			free(v);
			free(text);
			return -EBADMSG;
		}
		n++;
	}
	free(text);
	*ret = v;
	*ret_n = n;
	return 0;
}

int signoff_append(const char *run_dir, const struct signoff *s)
{
	char path[RIG_PATH_MAX + 32], *line = NULL;
	int fd, r;
	size_t len;

	r = signoff_format_line(s, &line);
	if (r < 0)
		return r;
	len = strlen(line);
	line[len] = '\n';   /* json_dumps leaves room for the NUL: replaced, not used */
	snprintf(path, sizeof(path), "%s/%s", run_dir, SIGNOFF_NAME);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
	} else {
		ssize_t w = write(fd, line, len + 1);

		r = w == (ssize_t)(len + 1) ? 0 : w < 0 ? -errno : -EIO;
		if (r == 0 && fsync(fd) != 0)
			r = -errno;
		close(fd);
	}
	free(line);
	return r;
}

bool signoff_same_person(const struct signoff *a, const struct signoff *b)
{
	char na[RIG_TEXT_MAX], nb[RIG_TEXT_MAX];

	if (memcmp(a->pk, b->pk, sizeof(a->pk)) == 0)
		return true;
	name_skeleton(a->signer, na, sizeof(na));
	name_skeleton(b->signer, nb, sizeof(nb));
	return strcmp(na, nb) == 0;
}

/* The station's seal journal.  See journal.h. */
#define _GNU_SOURCE  /* memmem */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rig/base/infile.h"

/* The chain digest the first line follows. */
static const char no_line[DIGEST_HEX_LEN + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

struct journal {
	int fd;
	bool append;
	bool scanned;                       /* the fields below are known */
	size_t n_lines;
	bool torn_tail;                     /* the last line has no newline */
	char tail_hex[DIGEST_HEX_LEN + 1];  /* the chain digest of the last line */
};

int journal_station(struct journal_where *ret)
{
	const char *env = getenv(JOURNAL_ENV), *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	struct stat st;
	int n;

	memset(ret, 0, sizeof(*ret));
	if (env && *env) {
		ret->source = "$" JOURNAL_ENV;
		n = snprintf(ret->path, sizeof(ret->path), "%s", env);
	} else if (stat(JOURNAL_SYSTEM_DIR, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* made when rig was installed on the station: the station's journal,
		 * whoever runs rig (a user who cannot write it is told so, never
		 * given a journal of its own instead) */
		ret->source = JOURNAL_SYSTEM_DIR;
		n = snprintf(ret->path, sizeof(ret->path), "%s/%s", JOURNAL_SYSTEM_DIR, JOURNAL_FILE);
	} else if (xdg && xdg[0] == '/') {
		ret->source = "$XDG_STATE_HOME";
		ret->make_dir = true;
		n = snprintf(ret->path, sizeof(ret->path), "%s/pumprig/%s", xdg, JOURNAL_FILE);
	} else if (home && *home) {
		ret->source = "~/.local/state";
		ret->make_dir = true;
		n = snprintf(ret->path, sizeof(ret->path), "%s/.local/state/pumprig/%s", home,
			     JOURNAL_FILE);
	} else {
		return -ENOENT;
	}
	return (size_t)n >= sizeof(ret->path) ? -ENAMETOOLONG : 0;
}

int journal_run_key(const char *run_dir, char ret[JOURNAL_RUN_MAX])
{
	char path[RIG_PATH_MAX + 16], hex[DIGEST_HEX_LEN + 1];
	int r;

	snprintf(path, sizeof(path), "%s/run.json", run_dir);
	r = digest_file_sha256(path, hex);
	if (r < 0)
		return r;
	snprintf(ret, JOURNAL_RUN_MAX, "sha256:%s", hex);
	return 0;
}

/* mkdir -p of the folder path is in. */
static int make_parents(const char *path)
{
	char dir[RIG_PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		{
			char c = *p;

			*p = '\0';
			if (mkdir(dir, 0755) != 0 && errno != EEXIST)
				return -errno;
			*p = c;
		}
		if (!*p)
			return 0;
	}
}

int journal_open(const char *path, bool append, bool make_dir, struct journal **ret)
{
	struct journal *j;
	struct stat st;
	int fd, r;

	if (append && make_dir) {
		r = make_parents(path);
		if (r < 0)
			return r;
	}
	/* As an input file (rig/base/infile.h): a FIFO would block the open
	 * (and the reads) forever, a device may act on being opened, and
	 * neither is a journal.  stat opens nothing; O_NONBLOCK keeps a FIFO
	 * put there since from blocking, and the open file is looked at again. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return -RIG_ENOTREG;
	fd = open(path, (append ? O_RDWR | O_APPEND | O_CREAT : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW |
			O_NONBLOCK | O_NOCTTY, 0644);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : errno == ENXIO ? -RIG_ENOTREG : -errno;
	r = fstat(fd, &st) != 0 ? -errno : !S_ISREG(st.st_mode) ? -RIG_ENOTREG : 0;
	if (r == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	/* Writers one at a time: each reads the last line to chain to it, and
	 * no two may chain to the same one.  Readers never see half a seal. */
	while (flock(fd, append ? LOCK_EX : LOCK_SH) != 0)
		if (errno != EINTR) {
			r = -errno;
			close(fd);
			return r;
		}
	j = calloc(1, sizeof(*j));
	if (!j) {
		close(fd);
		return -ENOMEM;
	}
	j->fd = fd;
	j->append = append;
	*ret = j;
	return 0;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	close(j->fd);   /* lets go of the lock */
	free(j);
}

/* Called for every line: its number, its bytes (when they fit in
 * JOURNAL_LINE_MAX: whole), whether a newline ended it, and its chain
 * digest. */
typedef void (*line_fn)(void *ctx, size_t no, const char *text, size_t len, bool whole,
			bool ended, const char *hex);

static void line_done(crypto_hash_sha256_state *st, char hex[DIGEST_HEX_LEN + 1])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_final(st, d);
	sodium_bin2hex(hex, DIGEST_HEX_LEN + 1, d, sizeof(d));
	crypto_hash_sha256_init(st);
}

/* Reads the journal from its start, line by line, in constant memory. */
static int scan(struct journal *j, line_fn fn, void *ctx)
{
	enum { CHUNK = 65536 };
	char *chunk = malloc(CHUNK + JOURNAL_LINE_MAX), *line = chunk + CHUNK;
	char hex[DIGEST_HEX_LEN + 1];
	crypto_hash_sha256_state st;
	size_t len = 0, n_lines = 0;
	bool over = false, pending = false;
	off_t off = 0;
	int r = 0;

	if (!chunk)
		return -ENOMEM;
	memcpy(hex, no_line, sizeof(hex));
	crypto_hash_sha256_init(&st);
	for (;;) {
		ssize_t n = pread(j->fd, chunk, CHUNK, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		off += n;
		for (size_t i = 0; i < (size_t)n;) {
			const char *nl = memchr(chunk + i, '\n', (size_t)n - i);
			size_t take = nl ? (size_t)(nl - (chunk + i)) : (size_t)n - i;

			crypto_hash_sha256_update(&st, (const unsigned char *)chunk + i, take);
			if (!over && len + take <= JOURNAL_LINE_MAX) {
				memcpy(line + len, chunk + i, take);
				len += take;
			} else {
				over = true;
			}
			pending = true;
			i += take;
			if (!nl)
				continue;
			i++;
			line_done(&st, hex);
			if (fn)
				fn(ctx, ++n_lines, line, len, !over, true, hex);
			else
				n_lines++;
			len = 0;
			over = pending = false;
		}
	}
	if (pending) {
		line_done(&st, hex);
		if (fn)
			fn(ctx, ++n_lines, line, len, !over, false, hex);
		else
			n_lines++;
	}
	j->n_lines = n_lines;
	j->torn_tail = pending;
	memcpy(j->tail_hex, hex, sizeof(hex));
	j->scanned = true;
out:
	free(chunk);
	return r;
}

static bool put(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

static bool is_hex64(const char *s)
{
	if (strlen(s) != DIGEST_HEX_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int journal_format_line(const struct journal_seal *s, const char *prev_hex, char **ret,
			size_t *ret_len)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s}",
			      "line", (json_int_t)s->line, "utc", s->utc, "run", s->run,
			      "run_id", s->run_id[0] ? json_string(s->run_id) : json_null(),
			      "run_dir", s->run_dir, "manifest_sha256", s->manifest,
			      "replaced_sha256", s->replaced[0] ? json_string(s->replaced) : json_null(),
			      "key", s->key[0] ? json_string(s->key) : json_null(),
			      "sealed_by", s->sealed_by, "why", s->why, "host", s->host,
			      "software", s->software, "prev_line_sha256", prev_hex);
	char *text;

	/* jansson takes only UTF-8: a folder named in another encoding */
	if (!o)
		return -EILSEQ;
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	*ret = text;
	*ret_len = strlen(text);
	return 0;
}

int journal_parse_line(const char *text, size_t len, struct journal_seal *ret,
		       char ret_prev[DIGEST_HEX_LEN + 1])
{
	const char *utc, *run, *dir, *man, *by, *why, *host, *sw, *prev;
	json_t *o, *rep, *key, *id = NULL;
	json_int_t line;
	bool ok;

	memset(ret, 0, sizeof(*ret));
	if (len > JOURNAL_LINE_MAX)
		return -EBADMSG;
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!o)
		return -EBADMSG;
	/* run_id: absent from the lines written before it was journalled */
	ok = json_unpack(o, "{s:I, s:s, s:s, s?o, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s}",
			 "line", &line, "utc", &utc, "run", &run, "run_id", &id, "run_dir", &dir,
			 "manifest_sha256", &man, "replaced_sha256", &rep, "key", &key,
			 "sealed_by", &by, "why", &why, "host", &host, "software", &sw,
			 "prev_line_sha256", &prev) == 0;
	ok = ok && line >= 1 && *utc && *run && dir[0] == '/' && is_hex64(man) && is_hex64(prev) &&
	     (!id || json_is_null(id) || (json_is_string(id) &&
					  put(ret->run_id, sizeof(ret->run_id), json_string_value(id)))) &&
	     (json_is_null(rep) || (json_is_string(rep) && is_hex64(json_string_value(rep)))) &&
	     (json_is_null(key) || (json_is_string(key) &&
				    strlen(json_string_value(key)) == SIG_FINGERPRINT_LEN &&
				    !strncmp(json_string_value(key), "sha256:", 7) &&
				    is_hex64(json_string_value(key) + 7)));
	ok = ok && put(ret->utc, sizeof(ret->utc), utc) && put(ret->run, sizeof(ret->run), run) &&
	     put(ret->run_dir, sizeof(ret->run_dir), dir) &&
	     put(ret->manifest, sizeof(ret->manifest), man) &&
	     put(ret->sealed_by, sizeof(ret->sealed_by), by) && put(ret->why, sizeof(ret->why), why) &&
	     put(ret->host, sizeof(ret->host), host) &&
	     put(ret->software, sizeof(ret->software), sw);
	if (ok) {
		ret->line = (size_t)line;
		if (json_is_string(rep))
			put(ret->replaced, sizeof(ret->replaced), json_string_value(rep));
		if (json_is_string(key))
			put(ret->key, sizeof(ret->key), json_string_value(key));
		memcpy(ret_prev, prev, DIGEST_HEX_LEN + 1);
	}
	json_decref(o);
	return ok ? 0 : -EBADMSG;
}

struct look {
	const char *run, *run_id, *run_dir, *manifest;
	bool run_alone;                  /* journal_lookup_run: skip what names none of them */
	struct journal_lookup *l;
	size_t cap;
	char prev[DIGEST_HEX_LEN + 1];   /* the chain digest of the line before */
	int err;
};

/* Whether the line's text holds what (NULL or "": no). */
static bool names(const char *text, size_t len, const char *what)
{
	return what && *what && memmem(text, len, what, strlen(what)) != NULL;
}

static void look_line(void *p, size_t no, const char *text, size_t len, bool whole, bool ended,
		      const char *hex)
{
	struct look *lk = p;
	struct journal_lookup *l = lk->l;
	struct journal_seal s;
	char prev[DIGEST_HEX_LEN + 1];

	if (lk->run_alone && !names(text, len, lk->run) && !names(text, len, lk->run_id) &&
	    !names(text, len, lk->run_dir) && !names(text, len, lk->manifest))
		goto next;
	/* A line without its newline is a write that did not finish: its
	 * writer failed, and put the seal it was journalling back. */
	if (!whole || !ended || journal_parse_line(text, len, &s, prev) < 0) {
		if (l->n_unreadable++ == 0)
			l->unreadable_line = no;
	} else {
		if (!l->broken_line && (strcmp(prev, lk->prev) != 0 || s.line != no))
			l->broken_line = no;
		if (lk->run && !strcmp(s.run, lk->run)) {
			if (l->n_seals == lk->cap) {
				size_t cap = lk->cap ? lk->cap * 2 : 4;
				struct journal_seal *n = realloc(l->seals, cap * sizeof(*n));

				if (!n) {
					lk->err = -ENOMEM;
					goto next;
				}
				l->seals = n;
				lk->cap = cap;
			}
			l->seals[l->n_seals++] = s;
		} else {
			if (lk->manifest && !strcmp(s.manifest, lk->manifest)) {
				l->other = s;
				l->other_found = true;
			}
			if (lk->run_dir && !strcmp(s.run_dir, lk->run_dir)) {
				l->other_at_dir = s;
				l->n_other_at_dir++;
			}
			/* the same run by its id, with another run.json: it was
			 * sealed before as what it was then */
			if (lk->run_id && lk->run_id[0] && !l->same_id_found &&
			    !strcmp(s.run_id, lk->run_id)) {
				l->same_id = s;
				l->same_id_found = true;
			}
		}
	}
next:
	memcpy(lk->prev, hex, sizeof(lk->prev));
}

static int lookup(struct journal *j, const char *run, const char *run_id, const char *run_dir,
		  const char *manifest_hex, bool run_alone, struct journal_lookup *ret)
{
	struct look lk = { run, run_id, run_dir, manifest_hex, run_alone, ret, 0, "", 0 };
	int r;

	memset(ret, 0, sizeof(*ret));
	memcpy(lk.prev, no_line, sizeof(lk.prev));
	r = scan(j, look_line, &lk);
	if (r == 0)
		r = lk.err;
	ret->n_lines = j->n_lines;
	if (r < 0)
		journal_lookup_free(ret);
	return r;
}

int journal_lookup(struct journal *j, const char *run, const char *run_id, const char *run_dir,
		   const char *manifest_hex, struct journal_lookup *ret)
{
	return lookup(j, run, run_id, run_dir, manifest_hex, false, ret);
}

int journal_lookup_run(struct journal *j, const char *run, const char *run_id,
		       const char *run_dir, const char *manifest_hex, struct journal_lookup *ret)
{
	return lookup(j, run, run_id, run_dir, manifest_hex, true, ret);
}

void journal_lookup_free(struct journal_lookup *l)
{
	free(l->seals);
	l->seals = NULL;
	l->n_seals = 0;
}

int journal_append(struct journal *j, struct journal_seal *s)
{
	char *text, *buf;
	size_t len, k = 0, done = 0;
	int r;

	if (!j->append)
		return -EBADF;
	if (!j->scanned) {
		r = scan(j, NULL, NULL);
		if (r < 0)
			return r;
	}
	s->line = j->n_lines + 1;
	r = journal_format_line(s, j->tail_hex, &text, &len);
	if (r < 0)
		return r;
	buf = malloc(len + 2);
	if (!buf) {
		free(text);
		return -ENOMEM;
	}
	if (j->torn_tail)
		buf[k++] = '\n';
	memcpy(buf + k, text, len);
	k += len;
	buf[k++] = '\n';
	/* One write: with O_APPEND and the lock held, the line lands whole
	 * after the last one, or (a full disk) torn at the end, where the next
	 * writer closes it. */
	while (done < k) {
		ssize_t n = write(j->fd, buf + done, k - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (r == 0 && fsync(j->fd) != 0)
		r = -errno;
	if (r == 0) {
		unsigned char d[crypto_hash_sha256_BYTES];

		crypto_hash_sha256(d, (const unsigned char *)text, len);
		sodium_bin2hex(j->tail_hex, sizeof(j->tail_hex), d, sizeof(d));
		j->n_lines = s->line;
		j->torn_tail = false;
	} else {
		j->scanned = false;   /* read it again before another line */
	}
	free(buf);
	free(text);
	return r;
}

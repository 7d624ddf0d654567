/* Manifest of a run directory: scan, parse, format, compare.  See manifest.h. */
#define _GNU_SOURCE  /* memmem */
#include "manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rig/base/bench.h"
#include "rig/base/wholefile.h"

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->entries[i].path);
	free(m->entries);
	memset(m, 0, sizeof(*m));
}

static int entry_add(struct manifest *m, const char *path, size_t path_len, const char *hex,
		     bool not_regular)
{
	struct manifest_entry *e;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 32;

		e = realloc(m->entries, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		m->entries = e;
		m->cap = cap;
	}
	e = &m->entries[m->n];
	e->path = strndup(path, path_len);
	if (!e->path)
		return -ENOMEM;
	snprintf(e->hex, sizeof(e->hex), "%s", hex);
	e->not_regular = not_regular;
	m->n++;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct manifest_entry *)a)->path,
		      ((const struct manifest_entry *)b)->path);
}

/* ".NAME.<pid>.tmp": the temporary name wholefile_replace writes NAME
 * through. */
static bool is_temp_of(const char *rel, const char *name)
{
	size_t n = strlen(name), len = strlen(rel);
	const char *p = rel + 1 + n + 1;

	if (len < n + 7 || rel[0] != '.' || strncmp(rel + 1, name, n) != 0 || rel[1 + n] != '.' ||
	    strcmp(rel + len - 4, ".tmp") != 0)
		return false;
	for (; p < rel + len - 4; p++)
		if (*p < '0' || *p > '9')
			return false;
	return p > rel + 1 + n + 1;
}

/* The manifest, its signature and the temporary files they are written
 * through are the seal itself, not what it covers. */
static bool is_seal_file(const char *rel)
{
	return !strcmp(rel, MANIFEST_NAME) || !strcmp(rel, MANIFEST_SIG_NAME) ||
	       !strcmp(rel, MANIFEST_NAME ".tmp") || !strcmp(rel, MANIFEST_SIG_NAME ".tmp") ||
	       is_temp_of(rel, MANIFEST_NAME) || is_temp_of(rel, MANIFEST_SIG_NAME);
}

static int scan_dir(const char *root, const char *rel, int depth, struct manifest *m)
{
	char path[RIG_PATH_MAX], child[RIG_PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (depth > MANIFEST_DEPTH_MAX)
		return -ELOOP;
	if ((size_t)snprintf(path, sizeof(path), "%s%s%s", root, *rel ? "/" : "", rel) >= sizeof(path))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -errno;
	while (r == 0 && (errno = 0, de = readdir(d))) {
		struct stat st;
		char full[RIG_PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "",
				     de->d_name) >= sizeof(child) ||
		    (size_t)snprintf(full, sizeof(full), "%s/%s", root, child) >= sizeof(full)) {
			r = -ENAMETOOLONG;
			break;
		}
		if (!*rel && is_seal_file(child))
			continue;
		if (lstat(full, &st) != 0) {
			r = -errno;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			r = scan_dir(root, child, depth + 1, m);
		} else if (S_ISREG(st.st_mode) && manifest_path_valid(child)) {
			char hex[DIGEST_HEX_LEN + 1];

			r = digest_file_sha256(full, hex);
			if (r == 0)
				r = entry_add(m, child, strlen(child), hex, false);
		} else {
			/* A symlink could point anywhere and a name with a newline or
			 * backslash cannot be written plainly in sha256sum's format:
			 * neither belongs in a run directory, so both are listed as
			 * found but never digested. */
			r = entry_add(m, child, strlen(child), "", true);
		}
	}
	if (r == 0 && errno != 0)
		r = -errno;
	closedir(d);
	return r;
}

int manifest_scan(const char *run_dir, struct manifest *ret)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	r = scan_dir(run_dir, "", 0, ret);
	if (r < 0) {
		manifest_free(ret);
		return r;
	}
	if (ret->n > 1)
		qsort(ret->entries, ret->n, sizeof(*ret->entries), cmp_entry);
	return 0;
}

/* the files the report writers write, at the run directory's top */
static const char *const derived_files[MANIFEST_DERIVED_TOP] = {
	"results.json", "summary.txt", "junit.xml", "report.pdf", "report.html",
	"report-revisions.jsonl",
};

bool manifest_path_derived(const char *path)
{
	for (size_t i = 0; i < MANIFEST_DERIVED_TOP; i++)
		if (!strcmp(path, derived_files[i]))
			return true;
	/* data/: the per-instrument tables and their README, all from samples.csv */
	return !strncmp(path, "data/", 5);
}

/* Kept as hard links in a folder beside the run directory (never in it: it
 * would be sealed with it), so that putting them back writes no data: a
 * seal that failed for a full disk or a file size limit must not fail to
 * restore what it replaced. */
int manifest_derived_keep(const char *run_dir, struct manifest_derived *ret)
{
	char path[RIG_PATH_MAX + 32], kept[sizeof(((struct manifest_derived *)0)->dir) + 32];
	char name[RIG_PATH_MAX];
	const char *slash;
	size_t len;
	int r = 0;

	*ret = (struct manifest_derived){ 0 };
	len = strlen(run_dir);
	while (len > 1 && run_dir[len - 1] == '/')
		len--;
	if (len >= sizeof(name))
		return -ENAMETOOLONG;
	memcpy(name, run_dir, len);
	name[len] = '\0';
	run_dir = name;
	slash = strrchr(run_dir, '/');
	r = snprintf(ret->dir, sizeof(ret->dir), "%.*s.%s.derived-kept-%ld",
		     slash ? (int)(slash - run_dir + 1) : 0, run_dir, slash ? slash + 1 : run_dir,
		     (long)getpid());
	if (r < 0 || (size_t)r >= sizeof(ret->dir))
		return -ENAMETOOLONG;
	if (mkdir(ret->dir, 0700) != 0)
		return -errno;
	for (size_t i = 0; i < MANIFEST_DERIVED_TOP; i++) {
		snprintf(path, sizeof(path), "%s/%s", run_dir, derived_files[i]);
		snprintf(kept, sizeof(kept), "%s/%s", ret->dir, derived_files[i]);
		if (link(path, kept) == 0)
			ret->had[i] = true;
		else if (errno != ENOENT) {
			r = -errno;
			manifest_derived_free(ret);
			return r;
		}
	}
	return 0;
}

int manifest_derived_put_back(const char *run_dir, const struct manifest_derived *k)
{
	char path[RIG_PATH_MAX + 32], kept[sizeof(((struct manifest_derived *)0)->dir) + 32];
	int first = 0;

	for (size_t i = 0; i < MANIFEST_DERIVED_TOP; i++) {
		int r = 0;

		snprintf(path, sizeof(path), "%s/%s", run_dir, derived_files[i]);
		snprintf(kept, sizeof(kept), "%s/%s", k->dir, derived_files[i]);
		if (k->had[i] ? rename(kept, path) != 0 : unlink(path) != 0 && errno != ENOENT)
			r = -errno;
		if (r < 0 && first == 0)
			first = r;
	}
	if (dir_sync(run_dir) < 0 && first == 0)
		first = -EIO;
	return first;
}

void manifest_derived_free(struct manifest_derived *k)
{
	char kept[sizeof(((struct manifest_derived *)0)->dir) + 32];

	if (!k->dir[0])
		return;
	for (size_t i = 0; i < MANIFEST_DERIVED_TOP; i++) {
		snprintf(kept, sizeof(kept), "%s/%s", k->dir, derived_files[i]);
		(void)unlink(kept);
	}
	(void)rmdir(k->dir);
	k->dir[0] = '\0';
}

bool manifest_path_valid(const char *path)
{
	const char *p = path;

	if (!*path || *path == '/' || strlen(path) >= RIG_PATH_MAX)
		return false;
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == '\\' || *c == 0x7f)
			return false;
	/* every component non-empty, and neither "." nor ".." */
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!slash)
			break;
		p = slash + 1;
		if (!*p)
			return false;   /* trailing slash */
	}
	return true;
}

/* "# key: value" header lines; anything else after '#' is a plain comment. */
static void header_line(struct manifest *m, const char *line, size_t len)
{
	static const struct { const char *key; int field; } keys[] = {
		{ "# sealed: ", 0 }, { "# first-sealed: ", 1 }, { "# sealed-after-the-fact: ", 2 },
		{ "# signed-by-key: ", 3 },
	};

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t kl = strlen(keys[k].key);
		const char *v = line + kl, *by;
		size_t vl = len - kl;

		if (len < kl || memcmp(line, keys[k].key, kl) != 0)
			continue;
		if (keys[k].field == 2) {
			snprintf(m->after_the_fact, sizeof(m->after_the_fact), "%.*s", (int)vl, v);
			return;
		}
		if (keys[k].field == 3) {
			snprintf(m->signed_by_key, sizeof(m->signed_by_key), "%.*s", (int)vl, v);
			return;
		}
		/* "UTC by WHO" */
		by = memmem(v, vl, " by ", 4);
		if (!by)
			return;
		if (keys[k].field == 0) {
			snprintf(m->sealed_utc, sizeof(m->sealed_utc), "%.*s", (int)(by - v), v);
			snprintf(m->sealed_by, sizeof(m->sealed_by), "%.*s", (int)(vl - (size_t)(by + 4 - v)), by + 4);
		} else {
			snprintf(m->first_sealed_utc, sizeof(m->first_sealed_utc), "%.*s", (int)(by - v), v);
			snprintf(m->first_sealed_by, sizeof(m->first_sealed_by), "%.*s",
				 (int)(vl - (size_t)(by + 4 - v)), by + 4);
		}
		return;
	}
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int manifest_parse(const char *text, size_t len, struct manifest *ret, size_t *ret_line)
{
	size_t pos = 0, line_no = 0;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	*ret_line = 0;
	if (len > MANIFEST_TEXT_MAX)
		return -EFBIG;
	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		char path[RIG_PATH_MAX];

		line_no++;
		pos += n + (nl ? 1 : 0);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n == 0)
			continue;
		if (line[0] == '#') {
			header_line(ret, line, n);
			continue;
		}
		/* "<64 hex>  <path>" (text mode) or "<64 hex> *<path>" (binary mode:
		 * the same bytes on this system) */
		if (n < DIGEST_HEX_LEN + 3 || !is_lower_hex(line, DIGEST_HEX_LEN) ||
		    line[DIGEST_HEX_LEN] != ' ' ||
		    (line[DIGEST_HEX_LEN + 1] != ' ' && line[DIGEST_HEX_LEN + 1] != '*') ||
		    n - (DIGEST_HEX_LEN + 2) >= sizeof(path)) {
			r = -EBADMSG;
			break;
		}
		memcpy(path, line + DIGEST_HEX_LEN + 2, n - (DIGEST_HEX_LEN + 2));
		path[n - (DIGEST_HEX_LEN + 2)] = '\0';
		if (strlen(path) != n - (DIGEST_HEX_LEN + 2) || !manifest_path_valid(path) ||
		    is_seal_file(path)) {
			r = -EBADMSG;
			break;
		}
		{
			char hex[DIGEST_HEX_LEN + 1];

			memcpy(hex, line, DIGEST_HEX_LEN);
			hex[DIGEST_HEX_LEN] = '\0';
			r = entry_add(ret, path, strlen(path), hex, false);
		}
		if (r < 0)
			break;
	}
	if (r == 0 && ret->n > 1) {
		qsort(ret->entries, ret->n, sizeof(*ret->entries), cmp_entry);
		for (size_t i = 1; i < ret->n; i++)
			if (!strcmp(ret->entries[i - 1].path, ret->entries[i].path)) {
				r = -EBADMSG;
				line_no = 0;   /* which of the two is not known after sorting */
				break;
			}
	}
	if (r < 0) {
		*ret_line = line_no;
		manifest_free(ret);
	}
	return r;
}

int manifest_load(const char *run_dir, struct manifest *ret, char **ret_text, size_t *ret_len,
		  size_t *ret_line)
{
	char path[RIG_PATH_MAX + 16], *text = NULL;
	struct stat st;
	size_t got = 0;
	int fd, r = 0;

	memset(ret, 0, sizeof(*ret));
	*ret_line = 0;
	snprintf(path, sizeof(path), "%s/%s", run_dir, MANIFEST_NAME);
	/* O_NONBLOCK: a FIFO in its place is refused below, not waited on */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -EBADMSG : -errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = -EBADMSG;
		goto close_fd;
	}
	if ((unsigned long long)st.st_size > MANIFEST_TEXT_MAX) {
		r = -EFBIG;
		goto close_fd;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		r = -ENOMEM;
		goto close_fd;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto free_text;
		}
		got += (size_t)n;
	}
	text[got] = '\0';
	r = manifest_parse(text, got, ret, ret_line);
	if (r == 0 && ret_text) {
		*ret_text = text;
		*ret_len = got;
		text = NULL;
	}
free_text:
	free(text);
close_fd:
	close(fd);
	return r;
}

int manifest_format(const struct manifest *m, char **ret_text, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "# pumprig manifest: SHA-256 of every file in this run directory but "
		"%s and %s; check with: sha256sum -c %s\n", MANIFEST_NAME, MANIFEST_SIG_NAME,
		MANIFEST_NAME);
	if (m->sealed_utc[0])
		fprintf(f, "# sealed: %s by %s\n", m->sealed_utc, m->sealed_by);
	if (m->first_sealed_utc[0])
		fprintf(f, "# first-sealed: %s by %s\n", m->first_sealed_utc, m->first_sealed_by);
	if (m->after_the_fact[0])
		fprintf(f, "# sealed-after-the-fact: %s\n", m->after_the_fact);
	if (m->signed_by_key[0])
		fprintf(f, "# signed-by-key: %s\n", m->signed_by_key);
	for (size_t i = 0; i < m->n; i++)
		if (!m->entries[i].not_regular)
			fprintf(f, "%s  %s\n", m->entries[i].hex, m->entries[i].path);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret_text = buf;
	*ret_len = len;
	return 0;
}

const char *manifest_change_name(enum manifest_change c)
{
	switch (c) {
	case MANIFEST_ADDED: return "ADDED";
	case MANIFEST_CHANGED: return "CHANGED";
	default: return "MISSING";
	}
}

size_t manifest_diff(const struct manifest *listed, const struct manifest *found,
		     bool (*skip)(const char *path),
		     void (*fn)(void *ctx, enum manifest_change c, const char *path), void *ctx)
{
	size_t i = 0, j = 0, n = 0;

	/* Both lists are sorted by path: one merge pass. */
	while (i < listed->n || j < found->n) {
		const struct manifest_entry *a = i < listed->n ? &listed->entries[i] : NULL;
		const struct manifest_entry *b = j < found->n ? &found->entries[j] : NULL;
		int c = !a ? 1 : !b ? -1 : strcmp(a->path, b->path);
		enum manifest_change kind;
		const char *path;

		if (c < 0) {
			kind = MANIFEST_MISSING;
			path = a->path;
			i++;
		} else if (c > 0) {
			kind = MANIFEST_ADDED;
			path = b->path;
			j++;
		} else {
			i++;
			j++;
			if (!b->not_regular && strcmp(a->hex, b->hex) == 0)
				continue;
			kind = MANIFEST_CHANGED;
			path = a->path;
		}
		if (skip && skip(path))
			continue;
		n++;
		if (fn)
			fn(ctx, kind, path);
	}
	return n;
}

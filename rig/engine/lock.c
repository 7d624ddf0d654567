/* The bench lock and the resources' locks: see lock.h. */
#include "rig/base/utc.h"
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rig/seal/digest.h"

#define LINE_MAX_LEN (RIG_PATH_MAX + 1024)

struct lock_file {
	int fd;
	char path[RIG_PATH_MAX];
	char what[RESOURCE_KEY_MAX];     /* the resource in words; "" for the bench */
	char previous[LINE_MAX_LEN];     /* the line found there: a crashed holder's */
};

struct bench_lock {
	struct lock_file *files;         /* [0]: the bench's; then the resources' by key */
	size_t n;
	char since[32];
	char bench_id[RIG_ID_MAX];
	char command[64];
	char run_dir[RIG_PATH_MAX];
	const char *stale_path;          /* the file a crashed holder's line was found in */
};

static int dir_usable(const char *dir)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -errno;
	return access(dir, W_OK | X_OK) == 0 ? 0 : -errno;
}

/* Where lock files live: the first usable of the documented places. */
static int lock_dir(char *buf, size_t len)
{
	const char *env = getenv("PUMPRIG_LOCK_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return dir_usable(buf);
	}
	snprintf(buf, len, "/run/lock/pumprig");
	if (dir_usable(buf) == 0)
		return 0;
	if (xdg && *xdg) {
		snprintf(buf, len, "%s/pumprig", xdg);
		if (dir_usable(buf) == 0)
			return 0;
	}
	snprintf(buf, len, "/tmp/pumprig-lock-%u", (unsigned)getuid());
	return dir_usable(buf);
}

/* The bench id as a file name: anything but [A-Za-z0-9._-] becomes '_'
 * (so no bench's file can be named like a resource's, which has '@'). */
static void bench_file_name(const char *bench_id, char *buf, size_t len)
{
	size_t i = 0;

	for (; bench_id[i] && i + 6 < len; i++) {
		char c = bench_id[i];

		buf[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '.' || c == '-' || c == '_' ? c : '_';
	}
	if (i > 0 && buf[0] == '.')
		buf[0] = '_';
	snprintf(buf + i, len - i, ".lock");
}

/* A resource's file: its key is too long and too free for a file name, so
 * the name is a digest of it; the holder line says what the resource is. */
static void resource_file_name(const char *key, char *buf, size_t len)
{
	char hex[DIGEST_HEX_LEN + 1];

	digest_buf_sha256(key, strlen(key), hex);
	snprintf(buf, len, "res@%.32s.lock", hex);
}

static void read_line(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);
	char *nl;

	buf[n > 0 ? n : 0] = '\0';
	if ((nl = strchr(buf, '\n')))
		*nl = '\0';
}

static int write_line(int fd, const char *text)
{
	size_t len = strlen(text);

	if (ftruncate(fd, 0) != 0)
		return -errno;
	if (len && (pwrite(fd, text, len, 0) < 0 || pwrite(fd, "\n", 1, (off_t)len) < 0))
		return -errno;
	return 0;
}

static int write_holder(const struct bench_lock *lock, const struct lock_file *f)
{
	char host[256] = "";
	json_t *obj;
	char *text;
	int r;

	gethostname(host, sizeof(host) - 1);
	obj = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "pid", (json_int_t)getpid(), "host", host,
			"run_dir", lock->run_dir, "since", lock->since, "bench", lock->bench_id,
			"command", lock->command);
	if (obj && f->what[0])
		json_object_set_new(obj, "resource", json_string(f->what));
	text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(obj);
	if (!text)
		return -ENOMEM;
	r = write_line(f->fd, text);
	free(text);
	return r;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct bench_resource *)a)->key,
		      ((const struct bench_resource *)b)->key);
}

/* The bench's resources, sorted by key, each once. */
static int sorted_resources(const struct bench *bench, struct bench_resource **ret,
			    size_t *ret_n)
{
	size_t n, k = 0;
	int r = bench_resources(bench, ret, &n);

	if (r < 0)
		return r;
	if (n > 1)   /* a simulated bench has none: qsort must not see NULL */
		qsort(*ret, n, sizeof(**ret), by_key);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || strcmp((*ret)[k - 1].key, (*ret)[i].key) != 0)
			(*ret)[k++] = (*ret)[i];
	*ret_n = k;
	return 0;
}

/* The path and words of the i-th file: the bench's, then the resources'. */
static void target(const char *dir, const struct bench *bench, const struct bench_resource *res,
		   size_t i, struct lock_file *f)
{
	char name[RIG_ID_MAX + 48];

	if (i == 0) {
		bench_file_name(bench->id, name, sizeof(name));
		f->what[0] = '\0';
	} else {
		resource_file_name(res[i - 1].key, name, sizeof(name));
		snprintf(f->what, sizeof(f->what), "%s", res[i - 1].what);
	}
	snprintf(f->path, sizeof(f->path), "%.*s/%s", (int)(sizeof(f->path) - sizeof(name) - 2),
		 dir, name);
}

static void fill_busy(struct lock_busy *busy, const struct bench *bench,
		      const struct bench_resource *res, size_t i, const struct lock_file *f, int fd)
{
	busy->bench = i == 0;
	if (i == 0) {
		snprintf(busy->what, sizeof(busy->what), "bench %s", bench->id);
		busy->user[0] = '\0';
		busy->line = 0;
	} else {
		snprintf(busy->what, sizeof(busy->what), "%s", res[i - 1].what);
		snprintf(busy->user, sizeof(busy->user), "%s", res[i - 1].user);
		busy->line = res[i - 1].line;
	}
	snprintf(busy->path, sizeof(busy->path), "%s", f->path);
	read_line(fd, busy->holder, sizeof(busy->holder));
}

/* Lets go of every file held; with restore, each gets back the line found
 * in it (giving up must not erase a crashed holder's trace), else emptied. */
static void let_go(struct bench_lock *lock, bool restore)
{
	for (size_t i = lock->n; i-- > 0;) {
		struct lock_file *f = &lock->files[i];

		if (write_line(f->fd, restore ? f->previous : "") == 0)
			fsync(f->fd);
		close(f->fd);
	}
	free(lock->files);
	free(lock);
}

int bench_lock_acquire(const struct bench *bench, const char *run_dir, const char *command,
		       struct bench_lock **ret, struct lock_busy *busy, char *stale,
		       size_t stale_len)
{
	struct bench_resource *res = NULL;
	struct bench_lock *lock;
	char dir[RIG_PATH_MAX - 64];
	size_t n_res = 0;
	int r;

	*ret = NULL;
	*busy = (struct lock_busy){ 0 };
	stale[0] = '\0';
	r = lock_dir(dir, sizeof(dir));
	if (r < 0) {
		snprintf(busy->holder, sizeof(busy->holder), "no usable lock directory (last "
			 "tried %s: %s)", dir, strerror(-r));
		return r;
	}
	r = sorted_resources(bench, &res, &n_res);
	lock = r == 0 ? calloc(1, sizeof(*lock)) : NULL;
	if (lock)
		lock->files = calloc(n_res + 1, sizeof(*lock->files));
	if (!lock || !lock->files) {
		if (lock)
			free(lock);
		free(res);
		return -ENOMEM;
	}
	rig_utc_text(rig_utc_now(), RIG_UTC_ISO, lock->since, sizeof(lock->since));
	snprintf(lock->bench_id, sizeof(lock->bench_id), "%s", bench->id);
	snprintf(lock->command, sizeof(lock->command), "%s", command);
	snprintf(lock->run_dir, sizeof(lock->run_dir), "%s", run_dir);
	for (size_t i = 0; i <= n_res; i++) {
		struct lock_file *f = &lock->files[i];
		int fd;

		target(dir, bench, res, i, f);
		fd = open(f->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			r = -errno;
			snprintf(busy->holder, sizeof(busy->holder), "%s: %s", f->path, strerror(errno));
			goto give_up;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			r = errno == EWOULDBLOCK ? -EBUSY : -errno;
			if (r == -EBUSY)
				fill_busy(busy, bench, res, i, f, fd);
			else
				snprintf(busy->holder, sizeof(busy->holder), "%s: %s", f->path,
					 strerror(errno));
			close(fd);
			goto give_up;
		}
		f->fd = fd;
		lock->n++;
		/* Ours now.  A holder line still there was left by a run that
		 * died without letting go: its flock went with it. */
		read_line(fd, f->previous, sizeof(f->previous));
		if (f->previous[0] && !lock->stale_path) {
			snprintf(stale, stale_len, "%s", f->previous);
			lock->stale_path = f->path;
		}
		r = write_holder(lock, f);
		if (r < 0) {
			snprintf(busy->holder, sizeof(busy->holder), "%s: cannot write: %s", f->path,
				 strerror(-r));
			goto give_up;
		}
	}
	free(res);
	*ret = lock;
	return 0;

give_up:
	stale[0] = '\0';
	free(res);
	let_go(lock, true);
	return r;
}

int bench_lock_query(const struct bench *bench, struct lock_busy *busy)
{
	struct bench_resource *res = NULL;
	char dir[RIG_PATH_MAX - 64];
	size_t n_res = 0;
	int r;

	*busy = (struct lock_busy){ 0 };
	r = lock_dir(dir, sizeof(dir));
	if (r == 0)
		r = sorted_resources(bench, &res, &n_res);
	for (size_t i = 0; r == 0 && i <= n_res; i++) {
		struct lock_file f;
		int fd;

		target(dir, bench, res, i, &f);
		fd = open(f.path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;   /* never locked here */
		/* shared: two queries do not see each other */
		if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
			r = errno == EWOULDBLOCK ? -EBUSY : -errno;
			if (r == -EBUSY)
				fill_busy(busy, bench, res, i, &f, fd);
		} else {
			flock(fd, LOCK_UN);
		}
		close(fd);
	}
	free(res);
	return r;
}

int bench_lock_set_run_dir(struct bench_lock *lock, const char *run_dir)
{
	int r = 0;

	if (!lock)
		return -EINVAL;
	snprintf(lock->run_dir, sizeof(lock->run_dir), "%s", run_dir);
	for (size_t i = 0; i < lock->n && r == 0; i++)
		r = write_holder(lock, &lock->files[i]);
	return r;
}

const char *bench_lock_path(const struct bench_lock *lock)
{
	return lock && lock->n ? lock->files[0].path : "";
}

const char *bench_lock_stale_path(const struct bench_lock *lock)
{
	return lock && lock->stale_path ? lock->stale_path : "";
}

size_t bench_lock_count(const struct bench_lock *lock)
{
	return lock ? lock->n : 0;
}

void bench_lock_release(struct bench_lock *lock)
{
	/* emptied first: a file with a holder line and no flock means a crash */
	if (lock)
		let_go(lock, false);
}

void bench_lock_release_restoring(struct bench_lock *lock)
{
	if (lock)
		let_go(lock, true);
}

void bench_lock_describe(const char *line, char *buf, size_t len)
{
	json_t *obj = json_loads(line, 0, NULL);
	const char *run_dir, *bench, *command;

	if (!json_is_object(obj)) {
		snprintf(buf, len, "%s", line[0] ? line : "(no holder recorded)");
		json_decref(obj);
		return;
	}
	run_dir = json_string_value(json_object_get(obj, "run_dir"));
	bench = json_string_value(json_object_get(obj, "bench"));
	command = json_string_value(json_object_get(obj, "command"));
	snprintf(buf, len, "%s%s (pid %lld on host %s since %s%s%s)",
		 run_dir && run_dir[0] ? "run " : command && command[0] ? command : "a holder",
		 run_dir && run_dir[0] ? run_dir : "",
		 (long long)json_integer_value(json_object_get(obj, "pid")),
		 json_string_value(json_object_get(obj, "host")) ?: "?",
		 json_string_value(json_object_get(obj, "since")) ?: "?",
		 bench && bench[0] ? ", bench " : "", bench && bench[0] ? bench : "");
	json_decref(obj);
}

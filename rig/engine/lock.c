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

#include "rig/config/config.h"

struct bench_lock {
	int fd;
	char path[RIG_PATH_MAX];
	char since[32];
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

/* The bench id as a file name: anything but [A-Za-z0-9._-] becomes '_'. */
static void file_name(const char *bench_id, char *buf, size_t len)
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

static void read_line(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);
	char *nl;

	buf[n > 0 ? n : 0] = '\0';
	if ((nl = strchr(buf, '\n')))
		*nl = '\0';
}

static int write_holder(struct bench_lock *lock, const char *run_dir)
{
	char host[256] = "";
	json_t *obj;
	char *text;
	int r = 0;

	gethostname(host, sizeof(host) - 1);
	obj = json_pack("{s:I, s:s, s:s, s:s}", "pid", (json_int_t)getpid(), "host", host,
			"run_dir", run_dir, "since", lock->since);
	text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(obj);
	if (!text)
		return -ENOMEM;
	if (ftruncate(lock->fd, 0) != 0 || pwrite(lock->fd, text, strlen(text), 0) < 0 ||
	    pwrite(lock->fd, "\n", 1, (off_t)strlen(text)) < 0)
		r = -errno;
	free(text);
	return r;
}

int bench_lock_acquire(const char *bench_id, const char *run_dir, struct bench_lock **ret,
		       char *holder, size_t holder_len, char *stale, size_t stale_len)
{
	struct bench_lock *lock;
	char dir[RIG_PATH_MAX - RIG_ID_MAX - 16], name[RIG_ID_MAX + 8];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	*ret = NULL;
	holder[0] = stale[0] = '\0';
	r = lock_dir(dir, sizeof(dir));
	if (r < 0) {
		snprintf(holder, holder_len, "no usable lock directory (last tried %s: %s)", dir,
			 strerror(-r));
		return r;
	}
	lock = calloc(1, sizeof(*lock));
	if (!lock)
		return -ENOMEM;
	file_name(bench_id, name, sizeof(name));
	snprintf(lock->path, sizeof(lock->path), "%s/%s", dir, name);
	lock->fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock->fd < 0) {
		r = -errno;
		snprintf(holder, holder_len, "%s: %s", lock->path, strerror(errno));
		goto free_lock;
	}
	if (flock(lock->fd, LOCK_EX | LOCK_NB) != 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (r == -EBUSY)
			read_line(lock->fd, holder, holder_len);
		else
			snprintf(holder, holder_len, "%s: %s", lock->path, strerror(errno));
		goto close_fd;
	}
	/* Ours now.  A holder line still there was left by a run that died
	 * without letting go: its flock went with it. */
	read_line(lock->fd, stale, stale_len);
	gmtime_r(&now, &tm);
	strftime(lock->since, sizeof(lock->since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	r = write_holder(lock, run_dir);
	if (r < 0) {
		snprintf(holder, holder_len, "%s: cannot write: %s", lock->path, strerror(-r));
		goto close_fd;
	}
	*ret = lock;
	return 0;

close_fd:
	close(lock->fd);
free_lock:
	free(lock);
	return r;
}

int bench_lock_set_run_dir(struct bench_lock *lock, const char *run_dir)
{
	return lock ? write_holder(lock, run_dir) : -EINVAL;
}

const char *bench_lock_path(const struct bench_lock *lock)
{
	return lock ? lock->path : "";
}

void bench_lock_release(struct bench_lock *lock)
{
	if (!lock)
		return;
	/* emptied first: a file with a holder line and no flock means a crash */
	if (ftruncate(lock->fd, 0) == 0)
		fsync(lock->fd);
	close(lock->fd);
	free(lock);
}

void bench_lock_describe(const char *line, char *buf, size_t len)
{
	json_t *obj = json_loads(line, 0, NULL);

	if (!json_is_object(obj)) {
		snprintf(buf, len, "%s", line[0] ? line : "(no holder recorded)");
	} else {
		snprintf(buf, len, "pid %lld on host %s since %s, recording to %s",
			 (long long)json_integer_value(json_object_get(obj, "pid")),
			 json_string_value(json_object_get(obj, "host")) ?: "?",
			 json_string_value(json_object_get(obj, "since")) ?: "?",
			 json_string_value(json_object_get(obj, "run_dir")) ?: "?");
	}
	json_decref(obj);
}

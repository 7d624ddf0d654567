#include "recorder.h"
#include "rig/base/record.h"
#include "rig/base/text.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Room kept on the disk for the run's story: a file of RESERVE_BYTES made
 * when the record opens and deleted the moment a write finds the disk full
 * (ENOSPC, EDQUOT), so that the fault, the safe state, the run's end and
 * the results can still be written after the samples have filled it.
 * Deleted too when the record closes, and by recorder_drop_reserve before
 * a run directory is judged (a crash leaves it behind). */
#define RESERVE_NAME ".disk-reserve"
#define RESERVE_BYTES (4 << 20)

/* samples.csv's stdio buffer: what a kill -9 can lose in virtual time (recorder.h) */
#define SAMPLES_BUF_BYTES (64 << 10)

struct recorder {
	FILE *samples;
	/* given to setvbuf: glibc ignores the size asked without a buffer of
	 * ours and takes the file system's block (4 KiB), a write(2) every
	 * 20 s of a simulated run */
	char samples_buf[SAMPLES_BUF_BYTES];
	int events_fd;            /* events: plain write(2), one line each, so that
				     a failed write leaves nothing half-buffered */
	char reserve[RIG_PATH_MAX];   /* "" once released, or when none could be made */
	char events_path[RIG_PATH_MAX];
	rig_ns flush_interval_ns;
	rig_ns last_sync_wall_ns;
	rig_ns last_flush_run_ns;     /* run time of the last hand-over to the kernel */
	rig_ns last_flush_wall_ns;    /* and its wall time */
	int first_error;          /* kept: later failures are consequences */
};

static rig_ns wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (rig_ns)ts.tv_sec * RIG_NS_PER_S + ts.tv_nsec;
}

/* A file that exists, for appending; a torn last line (a crash mid-write)
 * is ended first so that it stays one unreadable line and the next one
 * starts clean.  -1 and errno on failure. */
static int open_existing_fd(const char *dir, const char *name)
{
	char path[RIG_PATH_MAX], last = '\n';
	int fd;
	off_t end;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -1;
	end = lseek(fd, 0, SEEK_END);
	if (end > 0 && pread(fd, &last, 1, end - 1) == 1 && last != '\n' &&
	    write(fd, "\n", 1) != 1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int open_new_fd(const char *dir, const char *name)
{
	char path[RIG_PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
}

static FILE *buffered(int fd, char *buf, size_t size)
{
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "a");
	if (!f) {
		close(fd);
		return NULL;
	}
	setvbuf(f, buf, _IOFBF, size);
	return f;
}

/* Best effort: a disk with less room than the reserve, or a file system
 * without fallocate, records without one. */
static void reserve_make(struct recorder *rec, const char *run_dir)
{
	int fd;

	rec->reserve[0] = '\0';
	if ((size_t)snprintf(rec->reserve, sizeof(rec->reserve), "%s/%s", run_dir, RESERVE_NAME) >=
	    sizeof(rec->reserve)) {
		rec->reserve[0] = '\0';
		return;
	}
	fd = open(rec->reserve, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0 && posix_fallocate(fd, 0, RESERVE_BYTES) == 0) {
		close(fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	(void)unlink(rec->reserve);
	rec->reserve[0] = '\0';
}

static bool reserve_release(struct recorder *rec)
{
	if (!rec->reserve[0])
		return false;
	(void)unlink(rec->reserve);
	rec->reserve[0] = '\0';
	return true;
}

void recorder_drop_reserve(const char *run_dir)
{
	char path[RIG_PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", run_dir, RESERVE_NAME) < sizeof(path))
		(void)unlink(path);
}

static int recorder_open_mode(struct recorder **ret, const char *run_dir,
			      rig_ns flush_interval_ns, bool append)
{
	struct recorder *rec;
	int r;

	*ret = NULL;
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	rec->flush_interval_ns = flush_interval_ns > 0 ? flush_interval_ns : RIG_NS_PER_S;
	rec->samples = buffered(append ? open_existing_fd(run_dir, "samples.csv") :
				open_new_fd(run_dir, "samples.csv"), rec->samples_buf,
				sizeof(rec->samples_buf));
	if (!rec->samples)
		goto fail_free;
	rec->events_fd = append ? open_existing_fd(run_dir, "events.jsonl") :
				  open_new_fd(run_dir, "events.jsonl");
	if (rec->events_fd < 0)
		goto fail_samples;
	snprintf(rec->events_path, sizeof(rec->events_path), "%s/events.jsonl", run_dir);
	if (!append)
		fputs("t_ns,role,quantity,value,unit,flags\n", rec->samples);
	reserve_make(rec, run_dir);
	rec->last_sync_wall_ns = wall_now();
	*ret = rec;
	return 0;

fail_samples:
	r = -errno;
	fclose(rec->samples);
	free(rec);
	return r;
fail_free:
	r = -errno;
	free(rec);
	return r;
}

int recorder_open(struct recorder **ret, const char *run_dir, rig_ns flush_interval_ns)
{
	return recorder_open_mode(ret, run_dir, flush_interval_ns, false);
}

int recorder_open_append(struct recorder **ret, const char *run_dir, rig_ns flush_interval_ns)
{
	return recorder_open_mode(ret, run_dir, flush_interval_ns, true);
}

static void note_error(struct recorder *rec, int r)
{
	/* the disk is full: what follows (the fault, the safe state) gets the
	 * reserved room */
	if (r == -ENOSPC || r == -EDQUOT)
		reserve_release(rec);
	if (r < 0 && rec->first_error == 0)
		rec->first_error = r;
}

/* One event line, whole or retried once the reserve is given back.  0 or
 * a negative errno. */
static int events_write(struct recorder *rec, const char *line, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t w = write(rec->events_fd, line + done, len - done);

		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == ENOSPC || errno == EDQUOT) && reserve_release(rec))
			continue;
		return w < 0 ? -errno : -EIO;
	}
	return 0;
}

static int sync_file(FILE *f)
{
	if (fflush(f) != 0)
		return -errno;
	if (fsync(fileno(f)) != 0)
		return -errno;
	return 0;
}

int recorder_sync(struct recorder *rec)
{
	note_error(rec, sync_file(rec->samples));
	if (fsync(rec->events_fd) != 0)
		note_error(rec, -errno);
	rec->last_sync_wall_ns = wall_now();
	return rec->first_error;
}



int recorder_sample(struct recorder *rec, enum rig_role role, const struct reading *rd)
{
	char flags[8], row[256];
	rig_ns now;
	int n;

	/* A reading that is not a number is implausible whatever its
	 * quantity: flagged R, as the supervisor flags one out of its valid
	 * range, so a reader can tell it from a damaged row (rig/base/record.h). */
	sample_flags_format(rd->flags | (isfinite(rd->value) ? 0 : SAMPLE_OUT_OF_RANGE), flags);
	/* %.10g keeps 0.01 mg on a 100 g reading; the value is what the
	 * instrument reported after calibration, nothing derived.  The row is
	 * formatted by sample_row_format (printf's text, without its cost:
	 * most of a simulated run's time went to fprintf). */
	n = sample_row_format(row, sizeof(row), rd->t_ns, role, rd->quantity, rd->value, flags);
	if (n < 0 || (size_t)n >= sizeof(row) || fwrite(row, 1, (size_t)n, rec->samples) != (size_t)n)
		note_error(rec, n < 0 || (size_t)n >= sizeof(row) ? -EOVERFLOW : -errno);
	/* Handed to the kernel every flush interval of run time, as a bench
	 * on the real clock measures them (what the kernel holds survives the
	 * process being killed), but never more than twice a flush interval
	 * of wall time: in virtual time that rule alone was one write(2) per
	 * simulated second, most of a fast run's wall time.  stdio hands over
	 * a full 64 KiB buffer by itself, which bounds what a kill -9 loses
	 * in virtual time (docs/faults.md, "Durability").  The fsync (which
	 * survives power loss) stays on wall time: see recorder.h.  One
	 * reading of the wall clock a sample serves both. */
	now = wall_now();
	if (now - rec->last_sync_wall_ns >= rec->flush_interval_ns)
		return recorder_sync(rec);
	if (rd->t_ns - rec->last_flush_run_ns >= rec->flush_interval_ns &&
	    now - rec->last_flush_wall_ns >= rec->flush_interval_ns / 2) {
		rec->last_flush_run_ns = rd->t_ns;
		rec->last_flush_wall_ns = now;
		if (fflush(rec->samples) != 0)
			note_error(rec, -errno);
	}
	return rec->first_error;
}

int recorder_event(struct recorder *rec, rig_ns t_ns, const char *name, json_t *fields)
{
	json_t *obj = json_object();
	char *text;

	if (!obj) {
		json_decref(fields);
		note_error(rec, -ENOMEM);
		return -ENOMEM;
	}
	json_object_set_new(obj, "t_ns", json_integer(t_ns));
	json_object_set_new(obj, "event", json_string(name));
	if (fields)
		json_object_update(obj, fields);
	json_decref(fields);
	text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (!text) {
		note_error(rec, -ENOMEM);
		return -ENOMEM;
	}
	{
		size_t len = strlen(text);
		char *line = realloc(text, len + 2);
		int r;

		if (!line) {
			free(text);
			note_error(rec, -ENOMEM);
			return -ENOMEM;
		}
		line[len] = '\n';
		line[len + 1] = '\0';
		r = events_write(rec, line, len + 1);
		if (r < 0) {
			/* the story must not vanish with the disk: the log that
			 * watches the process (a terminal, CI, the journal) gets it */
			note_error(rec, r);
			line[len] = '\0';   /* its newline, escaped, would only say \x0a */
			fprintf(stderr, "rig: %s: cannot record (%s): %s\n",
				TERM_SAFE(rec->events_path), strerror(-r), TERM_SAFE(line));
		}
		free(line);
	}
	/* Events are rare and carry the run's story (steps, faults, the safe
	 * state): they go to disk at once. */
	return recorder_sync(rec);
}

int recorder_close(struct recorder *rec)
{
	int r;

	if (!rec)
		return 0;
	recorder_sync(rec);
	if (fclose(rec->samples) != 0)
		note_error(rec, -errno);
	if (close(rec->events_fd) != 0)
		note_error(rec, -errno);
	reserve_release(rec);
	r = rec->first_error;
	free(rec);
	return r;
}

/* Operator notes.  See notes.h. */
#include "notes.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rig/base/bench.h"
#include "rig/base/infile.h"
#include "rig/base/utc.h"

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int notes_append(const char *run_dir, const char *operator_name, const char *text)
{
	char path[RIG_PATH_MAX + 16], utc[32], last;
	json_t *note;
	char *line = NULL;
	struct stat st;
	int fd, r = 0;

	if (!text[0] || strlen(text) > NOTE_TEXT_MAX)
		return -EINVAL;
	rig_utc_now_iso(utc);
	note = json_pack("{s:s, s:s, s:s}", "utc", utc, "operator", operator_name, "text", text);
	/* jansson refuses text that is not UTF-8 */
	if (!note)
		return -EILSEQ;
	line = json_dumps(note, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(note);
	if (!line)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", run_dir, NOTES_NAME);
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	if (fd < 0) {
		r = errno == ELOOP ? -RIG_ENOTREG : -errno;
		goto free_line;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {   /* a note written into a FIFO would be lost */
		r = -RIG_ENOTREG;
		goto close_fd;
	}
	if (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n')
		r = write_all(fd, "\n", 1);
	if (r == 0)
		r = write_all(fd, line, strlen(line));
	if (r == 0)
		r = write_all(fd, "\n", 1);
	if (r == 0 && fsync(fd) != 0)
		r = -errno;
close_fd:
	if (close(fd) != 0 && r == 0)
		r = -errno;
free_line:
	free(line);
	return r;
}

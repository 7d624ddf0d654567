/* Input files opened without blocking: see infile.h. */
#include "infile.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *file_kind_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO (named pipe)";
	case S_IFSOCK: return "a socket";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFLNK: return "a symbolic link";
	default: return "not a file";
	}
}

int infile_open(const char *path)
{
	struct stat st;
	int fd, flags, r;

	/* stat opens nothing: a device is never opened, a FIFO never waited on */
	if (stat(path, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -RIG_ENOTREG;
	/* It may have been replaced since: O_NONBLOCK keeps a FIFO put there
	 * from blocking the open, and the open file is looked at again. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return errno == ENXIO ? -RIG_ENOTREG : -errno;   /* ENXIO: a socket */
	if (fstat(fd, &st) != 0)
		goto fail_errno;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -RIG_ENOTREG;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
		goto fail_errno;
	return fd;
fail_errno:
	r = -errno;
	close(fd);
	return r;
}

FILE *infile_fopen(const char *path)
{
	int fd = infile_open(path);
	FILE *f;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return f;
}

const char *infile_strerror(const char *path, int err, char *buf, size_t size)
{
	struct stat st;

	if (err < 0)
		err = -err;
	if (err == RIG_ENOTREG && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		snprintf(buf, size, "is %s, not a regular file", file_kind_name(st.st_mode));
	else if (err == RIG_ENOTREG)
		snprintf(buf, size, "is not a regular file");
	else
		snprintf(buf, size, "%s", strerror(err));
	return buf;
}

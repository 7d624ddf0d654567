/* Serial ports for line protocols: see tty.h. */
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* The standard rates termios names; laboratory balances commonly ship at
 * 2400 to 9600 baud, pump telemetry links faster. */
const unsigned tty_bauds[] = { 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400,
			       460800, 921600, 0 };
static const speed_t speeds[] = { B1200, B2400, B4800, B9600, B19200, B38400, B57600, B115200,
				  B230400, B460800, B921600 };

static speed_t speed_of(unsigned baud)
{
	for (size_t i = 0; tty_bauds[i]; i++)
		if (tty_bauds[i] == baud)
			return speeds[i];
	return 0;
}

bool tty_baud_supported(unsigned baud)
{
	return speed_of(baud) != 0;
}

int tty_open(struct tty *t, const char *path, unsigned baud, const char *log_path)
{
	struct termios tio;
	speed_t speed = speed_of(baud);
	int r;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (!speed)
		return -EINVAL;
	t->fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (t->fd < 0)
		return -errno;
	if (tcgetattr(t->fd, &tio) != 0)
		goto fail;
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cflag &= ~(CSTOPB | CRTSCTS);
	cfsetispeed(&tio, speed);
	cfsetospeed(&tio, speed);
	if (tcsetattr(t->fd, TCSANOW, &tio) != 0)
		goto fail;
	tcflush(t->fd, TCIOFLUSH);
	if (log_path) {
		t->log = fopen(log_path, "ae");
		if (!t->log)
			goto fail;
		setvbuf(t->log, NULL, _IOLBF, 0);
	}
	return 0;
fail:
	r = -errno;
	close(t->fd);
	t->fd = -1;
	return r;
}

void tty_close(struct tty *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->log)
		fclose(t->log);
	t->log = NULL;
}

static void log_bytes(struct tty *t, char dir, const char *buf, size_t len, rig_ns t_ns)
{
	if (!t->log)
		return;
	fprintf(t->log, "%lld %c ", (long long)t_ns, dir);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\r')
			fputs("\\r", t->log);
		else if (c == '\n')
			fputs("\\n", t->log);
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			fprintf(t->log, "\\x%02x", c);
		else
			fputc(c, t->log);
	}
	fputc('\n', t->log);
}

int tty_write(struct tty *t, const char *buf, size_t len, rig_ns t_ns)
{
	size_t done = 0;

	/* a port closed after an error (a reconnect that failed) says it is
	 * not connected: not EBADF from fd -1, which reads as a bug in a record */
	if (t->fd < 0)
		return -ENOTCONN;
	log_bytes(t, '>', buf, len, t_ns);
	while (done < len) {
		ssize_t w = write(t->fd, buf + done, len - done);

		if (w < 0) {
			struct pollfd p = { .fd = t->fd, .events = POLLOUT };

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			if (poll(&p, 1, 1000) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		done += (size_t)w;
	}
	return 0;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

int tty_read_line(struct tty *t, unsigned timeout_ms, rig_ns t_ns, const char **ret_line)
{
	static char out[256];
	struct timespec t0;

	/* poll() skips fd -1: a closed port would wait out the timeout */
	if (t->fd < 0 && !memchr(t->line, '\n', t->n))
		return -ENOTCONN;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		char *nl = memchr(t->line, '\n', t->n);
		struct pollfd p = { .fd = t->fd, .events = POLLIN };
		long left;
		ssize_t got;

		if (nl) {
			size_t len = (size_t)(nl - t->line);

			log_bytes(t, '<', t->line, len + 1, t_ns);
			if (len > 0 && t->line[len - 1] == '\r')
				len--;
			memcpy(out, t->line, len);
			out[len] = '\0';
			memmove(t->line, nl + 1, t->n - (size_t)(nl + 1 - t->line));
			t->n -= (size_t)(nl + 1 - t->line);
			*ret_line = out;
			return 1;
		}
		if (t->n == sizeof(t->line)) {
			log_bytes(t, '<', t->line, t->n, t_ns);
			t->n = 0;   /* a line no instrument sends: drop it */
			return -EMSGSIZE;
		}
		left = (long)timeout_ms - ms_since(&t0);
		if (left <= 0)
			return 0;
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		got = read(t->fd, t->line + t->n, sizeof(t->line) - t->n);
		if (got < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		if (got == 0)
			return -ENODEV;   /* the other end went away */
		t->n += (size_t)got;
	}
}

int tty_discard_input(struct tty *t, rig_ns t_ns)
{
	size_t dropped = 0;

	if (t->fd < 0)
		return -ENOTCONN;

	for (;;) {
		ssize_t got;

		if (t->n > 0) {
			log_bytes(t, '<', t->line, t->n, t_ns);
			dropped += t->n;
			t->n = 0;
		}
		got = read(t->fd, t->line, sizeof(t->line));   /* the port is O_NONBLOCK */
		if (got > 0) {
			t->n = (size_t)got;
			continue;
		}
		if (got == 0 || errno == EAGAIN)
			return (int)dropped;
		if (errno != EINTR)
			return -errno;
	}
}

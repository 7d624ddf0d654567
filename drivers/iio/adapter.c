/* The libiio 0.24 adapter: see adapter.h. */
#include "adapter.h"

#include <errno.h>
#include <iio.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct iioa_ctx {
	struct iio_context *ctx;
};

struct iioa_chan {
	struct iio_channel *ch;
};

#define BUF_FIELDS_MAX 4

struct iioa_buf {
	struct iio_device *dev;
	struct iio_buffer *buf;
	struct iio_channel *field[BUF_FIELDS_MAX];
	struct scan_format format[BUF_FIELDS_MAX];
	size_t n_fields;
	bool has_timestamp;
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline: 0, -ETIMEDOUT, or -errno. */
static int wait_fd(int fd, short events, long long deadline_ms)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		long long left = deadline_ms - mono_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Asks the iiod at "ip:HOST[:PORT]" its VERSION and waits for the line,
 * all within timeout_ms.  0: it answers; -ETIMEDOUT: it does not (a
 * stopped iiod: the kernel still accepts connections on its port); other
 * -errno from the connection.  URIs it cannot take apart (no host: a
 * DNS-SD lookup; an IPv6 literal) are left to libiio: 0. */
static int probe_iiod(const char *uri, unsigned timeout_ms)
{
	static const char ask[] = "VERSION\r\n";
	char host[256], port[16] = "30431";
	const char *h = uri + 3, *colon = strchr(h, ':');
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	long long deadline = mono_ms() + timeout_ms;
	size_t hlen = colon ? (size_t)(colon - h) : strlen(h);
	int fd, r, err = 0;
	socklen_t len = sizeof(err);

	if (hlen == 0 || hlen >= sizeof(host) || (colon && strchr(colon + 1, ':')))
		return 0;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (colon)
		snprintf(port, sizeof(port), "%s", colon + 1);
	if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
		return 0;   /* libiio says what is wrong with the name */
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return -errno;
	}
	r = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno == EINPROGRESS ? 1 : -errno;
	freeaddrinfo(ai);
	if (r == 1) {
		r = wait_fd(fd, POLLOUT, deadline);
		if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
			r = -err;
	}
	if (r == 0 && send(fd, ask, sizeof(ask) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(ask) - 1)
		r = -EPIPE;
	while (r == 0) {
		char c;
		ssize_t n;

		r = wait_fd(fd, POLLIN, deadline);
		if (r < 0)
			break;
		n = recv(fd, &c, 1, 0);
		if (n == 1 && c == '\n')
			break;
		if (n == 0)
			r = -EPIPE;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			r = -errno;
	}
	if (r == 0)
		(void)send(fd, "EXIT\r\n", 6, MSG_NOSIGNAL);
	close(fd);
	return r;
}

int iioa_open(const char *uri, unsigned timeout_ms, struct iioa_ctx **ret)
{
	struct iioa_ctx *c;
	char *copy;
	int r;

	*ret = NULL;
	if (strncmp(uri, "ip:", 3) == 0 && timeout_ms > 0) {
		r = probe_iiod(uri, timeout_ms);
		if (r < 0)
			return r;
	}
	c = calloc(1, sizeof(*c));
	/* libiio 0.24 cuts "ip:HOST:PORT" at the port's colon in the string it
	 * is given, const or not: a second open of the same text would then go
	 * to the default port.  It gets a copy. */
	copy = strdup(uri);
	if (!c || !copy) {
		free(c);
		free(copy);
		return -ENOMEM;
	}
	errno = 0;
	c->ctx = iio_create_context_from_uri(copy);
	free(copy);
	if (!c->ctx) {
		r = errno ? -errno : -ENODEV;
		free(c);
		return r;
	}
	r = iio_context_set_timeout(c->ctx, timeout_ms);
	if (r < 0) {
		iio_context_destroy(c->ctx);
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void iioa_close(struct iioa_ctx *ctx)
{
	if (!ctx)
		return;
	iio_context_destroy(ctx->ctx);
	free(ctx);
}

static struct iio_device *device(struct iioa_ctx *ctx, const char *name)
{
	return iio_context_find_device(ctx->ctx, name);
}

int iioa_channel(struct iioa_ctx *ctx, const char *dev_name, const char *channel, bool output,
		 struct iioa_chan **ret)
{
	struct iio_device *dev = device(ctx, dev_name);
	struct iio_channel *ch;
	struct iioa_chan *c;

	*ret = NULL;
	if (!dev)
		return -ENODEV;
	ch = iio_device_find_channel(dev, channel, output);
	if (!ch)
		return -ENOENT;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ch = ch;
	*ret = c;   /* freed with free(): the channel belongs to the context */
	return 0;
}

bool iioa_chan_has_attr(struct iioa_chan *ch, const char *attr)
{
	return iio_channel_find_attr(ch->ch, attr) != NULL;
}

int iioa_chan_read_double(struct iioa_chan *ch, const char *attr, double *ret)
{
	return iio_channel_attr_read_double(ch->ch, attr, ret);
}

int iioa_chan_read_text(struct iioa_chan *ch, const char *attr, char *buf, size_t size)
{
	ssize_t n = iio_channel_attr_read(ch->ch, attr, buf, size);

	if (n < 0)
		return (int)n;
	if (size > 0)
		buf[(size_t)n < size ? (size_t)n : size - 1] = '\0';
	return (int)n;
}

int iioa_chan_read_long(struct iioa_chan *ch, const char *attr, long long *ret)
{
	return iio_channel_attr_read_longlong(ch->ch, attr, ret);
}

int iioa_chan_write_long(struct iioa_chan *ch, const char *attr, long long value)
{
	return iio_channel_attr_write_longlong(ch->ch, attr, value);
}

int iioa_dev_write(struct iioa_ctx *ctx, const char *dev_name, const char *attr, const char *value)
{
	struct iio_device *dev = device(ctx, dev_name);
	ssize_t r;

	if (!dev)
		return -ENODEV;
	r = iio_device_attr_write(dev, attr, value);
	return r < 0 ? (int)r : 0;
}

int iioa_dev_read(struct iioa_ctx *ctx, const char *dev_name, const char *attr, char *buf,
		  size_t size)
{
	struct iio_device *dev = device(ctx, dev_name);
	ssize_t r;

	if (!dev)
		return -ENODEV;
	r = iio_device_attr_read(dev, attr, buf, size);
	return r < 0 ? (int)r : 0;
}

int iioa_chan_write_double(struct iioa_chan *ch, const char *attr, double value)
{
	return iio_channel_attr_write_double(ch->ch, attr, value);
}

const char *iioa_dev_name(struct iioa_ctx *ctx, const char *dev_name)
{
	struct iio_device *dev = device(ctx, dev_name);
	const char *name = dev ? iio_device_get_name(dev) : NULL;

	return name ? name : "";
}

bool iioa_has_device(struct iioa_ctx *ctx, const char *dev_name)
{
	return device(ctx, dev_name) != NULL;
}

const char *iioa_dev_id(struct iioa_ctx *ctx, const char *dev_name)
{
	struct iio_device *dev = device(ctx, dev_name);

	return dev ? iio_device_get_id(dev) : "";
}

int iioa_attr_find(struct iioa_ctx *ctx, const char *dev_name, const char *channel,
		   const char *name, struct iioa_attr *ret)
{
	struct iio_device *dev = device(ctx, dev_name);
	struct iio_channel *ch;
	const char *under = strchr(name, '_'), *a;

	memset(ret, 0, sizeof(*ret));
	if (!dev)
		return -ENODEV;
	ret->dev = dev;
	/* the channel's own (per channel, or shared by type or direction and
	 * copied onto each channel by libiio) */
	if (channel && (ch = iio_device_find_channel(dev, channel, false)) &&
	    (a = iio_channel_find_attr(ch, name))) {
		const char *file = iio_channel_attr_get_filename(ch, a);

		ret->chn = ch;
		ret->name = a;
		snprintf(ret->file, sizeof(ret->file), "%s", file ? file : a);
		return 0;
	}
	if ((a = iio_device_find_attr(dev, name))) {
		ret->name = a;
		snprintf(ret->file, sizeof(ret->file), "%s", a);
		return 0;
	}
	/* in_sampling_frequency: channel "sampling", attribute "frequency" */
	if (under && under > name) {
		char id[64];
		size_t n = (size_t)(under - name);

		if (n < sizeof(id)) {
			memcpy(id, name, n);
			id[n] = '\0';
			ch = iio_device_find_channel(dev, id, false);
			if (ch && !iio_channel_is_scan_element(ch) &&
			    (a = iio_channel_find_attr(ch, under + 1))) {
				ret->chn = ch;
				ret->name = a;
				snprintf(ret->file, sizeof(ret->file), "in_%s", name);
				return 0;
			}
		}
	}
	return -ENOENT;
}

int iioa_buf_attr_find(struct iioa_ctx *ctx, const char *dev_name, const char *name,
		       struct iioa_attr *ret)
{
	struct iio_device *dev = device(ctx, dev_name);
	const char *a;

	char probe[64];

	memset(ret, 0, sizeof(*ret));
	if (!dev)
		return -ENODEV;
	ret->dev = dev;
	ret->buffer = true;
	snprintf(ret->file, sizeof(ret->file), "buffer/%s", name);
	a = iio_device_find_buffer_attr(dev, name);
	if (a) {
		ret->name = a;
		return 0;
	}
	/* libiio 0.24 keeps "length" and "enable" out of the buffer
	 * attributes it lists (they are its own to set), but reads and writes
	 * them as the device's "buffer/length", locally and through iiod:
	 * there when that answers */
	if (iio_device_attr_read(dev, ret->file, probe, sizeof(probe)) > 0)
		return 0;
	return -ENOENT;
}

int iioa_attr_read(const struct iioa_attr *a, char *buf, size_t size)
{
	ssize_t n;
	size_t len;

	if (size == 0)
		return -EINVAL;
	n = a->buffer ? (a->name ? iio_device_buffer_attr_read(a->dev, a->name, buf, size)
			       : iio_device_attr_read(a->dev, a->file, buf, size))
	    : a->chn ? iio_channel_attr_read(a->chn, a->name, buf, size)
		     : iio_device_attr_read(a->dev, a->name, buf, size);
	if (n < 0)
		return (int)n;
	len = (size_t)n < size ? (size_t)n : size - 1;
	buf[len] = '\0';
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	return (int)len;
}

int iioa_attr_write(const struct iioa_attr *a, const char *value)
{
	ssize_t n = a->buffer ? (a->name ? iio_device_buffer_attr_write(a->dev, a->name, value)
				 : iio_device_attr_write(a->dev, a->file, value))
		    : a->chn ? iio_channel_attr_write(a->chn, a->name, value)
			     : iio_device_attr_write(a->dev, a->name, value);

	return n < 0 ? (int)n : 0;
}

static struct iio_device *trigger_find(struct iioa_ctx *ctx, const char *trigger)
{
	for (unsigned i = 0; i < iio_context_get_devices_count(ctx->ctx); i++) {
		struct iio_device *d = iio_context_get_device(ctx->ctx, i);
		const char *name = iio_device_get_name(d);

		if (iio_device_is_trigger(d) &&
		    (strcmp(iio_device_get_id(d), trigger) == 0 || (name && strcmp(name, trigger) == 0)))
			return d;
	}
	return NULL;
}

int iioa_dev_trigger(struct iioa_ctx *ctx, const char *dev_name, char *buf, size_t size)
{
	struct iio_device *dev = device(ctx, dev_name);
	const struct iio_device *cur = NULL;
	const char *name;
	int r;

	if (!dev)
		return -ENODEV;
	if (size > 0)
		buf[0] = '\0';
	r = iio_device_get_trigger(dev, &cur);
	/* With no trigger assigned the kernel's trigger/current_trigger reads
	 * empty (iio_trigger_read_current prints nothing), and libiio 0.24's
	 * local backend, here or in the board's iiod, turns a read of no
	 * bytes into -EIO: that is "none", which a device that takes no
	 * trigger at all tells apart by having no such file (-ENOENT). */
	if (r == -EIO)
		return 0;
	if (r < 0)
		return r;
	name = cur ? iio_device_get_name(cur) : NULL;
	if (cur && size > 0)
		snprintf(buf, size, "%s", name ? name : iio_device_get_id(cur));
	return 0;
}

int iioa_dev_trigger_set(struct iioa_ctx *ctx, const char *dev_name, const char *trigger)
{
	struct iio_device *dev = device(ctx, dev_name), *trig = NULL;

	if (!dev)
		return -ENODEV;
	if (trigger[0] && !(trig = trigger_find(ctx, trigger)))
		return -ENXIO;
	return iio_device_set_trigger(dev, trig);
}

static int field_add(struct iioa_buf *b, struct iio_channel *ch)
{
	const struct iio_data_format *f = iio_channel_get_data_format(ch);

	if (!iio_channel_is_scan_element(ch) || b->n_fields == BUF_FIELDS_MAX)
		return -ENOTSUP;
	if (f->repeat > 1 || (f->length != 8 && f->length != 16 && f->length != 32 &&
			      f->length != 64) || f->bits == 0 || f->bits + f->shift > f->length)
		return -ENOTSUP;
	b->format[b->n_fields] = (struct scan_format){
		.big_endian = f->is_be, .is_signed = f->is_signed, .real_bits = f->bits,
		.storage_bits = f->length, .shift = f->shift,
	};
	b->field[b->n_fields++] = ch;
	iio_channel_enable(ch);
	return 0;
}

int iioa_buf_open(struct iioa_ctx *ctx, const char *dev_name, const char *const *channels,
		  size_t n, size_t scans, struct iioa_buf **ret)
{
	struct iioa_buf *b;
	struct iio_channel *ts;
	int r = 0;

	*ret = NULL;
	if (n + 1 > BUF_FIELDS_MAX)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->dev = device(ctx, dev_name);
	if (!b->dev) {
		free(b);
		return -ENODEV;
	}
	/* only the channels asked for travel */
	for (unsigned i = 0; i < iio_device_get_channels_count(b->dev); i++)
		iio_channel_disable(iio_device_get_channel(b->dev, i));
	for (size_t i = 0; i < n && r == 0; i++) {
		struct iio_channel *ch = iio_device_find_channel(b->dev, channels[i], false);

		r = ch ? field_add(b, ch) : -ENOENT;
	}
	ts = iio_device_find_channel(b->dev, "timestamp", false);
	if (r == 0 && ts) {
		r = field_add(b, ts);
		b->has_timestamp = r == 0;
	}
	if (r == 0) {
		errno = 0;
		b->buf = iio_device_create_buffer(b->dev, scans, false);
		if (!b->buf)
			r = errno ? -errno : -EIO;
	}
	if (r < 0) {
		iioa_buf_close(b, false);
		return r;
	}
	*ret = b;
	return 0;
}

void iioa_buf_close(struct iioa_buf *b, bool abandon)
{
	if (!b)
		return;
	/* cancelled, libiio 0.24 closes the buffer's connection without
	 * asking the server to CLOSE it and waiting for the answer */
	if (b->buf && abandon)
		iio_buffer_cancel(b->buf);
	if (b->buf)
		iio_buffer_destroy(b->buf);
	for (size_t i = 0; i < b->n_fields; i++)
		iio_channel_disable(b->field[i]);
	free(b);
}

bool iioa_buf_has_timestamp(const struct iioa_buf *b)
{
	return b->has_timestamp;
}

int iioa_buf_refill(struct iioa_buf *b, size_t *ret_scans)
{
	ssize_t r = iio_buffer_refill(b->buf);
	ptrdiff_t step = iio_buffer_step(b->buf);

	*ret_scans = 0;
	if (r < 0)
		return (int)r;
	if (step <= 0)
		return -EPROTO;
	*ret_scans = (size_t)(((char *)iio_buffer_end(b->buf) - (char *)iio_buffer_start(b->buf)) /
			      step);
	return 0;
}

const uint8_t *iioa_buf_first(struct iioa_buf *b, size_t i)
{
	return (const uint8_t *)iio_buffer_first(b->buf, b->field[i]);
}

ptrdiff_t iioa_buf_step(struct iioa_buf *b)
{
	return iio_buffer_step(b->buf);
}

const struct scan_format *iioa_buf_format(const struct iioa_buf *b, size_t i)
{
	return &b->format[i];
}

/* The libiio 0.24 adapter: see adapter.h. */
#include "adapter.h"

#include <errno.h>
#include <iio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int iioa_open(const char *uri, unsigned timeout_ms, struct iioa_ctx **ret)
{
	struct iioa_ctx *c = calloc(1, sizeof(*c));
	int r;

	char *copy = strdup(uri);

	*ret = NULL;
	if (!c || !copy) {
		free(c);
		free(copy);
		return -ENOMEM;
	}
	/* libiio 0.24 cuts "ip:HOST:PORT" at the port's colon in the string it
	 * is given, const or not: a second open of the same text would then go
	 * to the default port.  It gets a copy. */
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

bool iioa_dev_has_attr(struct iioa_ctx *ctx, const char *dev_name, const char *attr)
{
	struct iio_device *dev = device(ctx, dev_name);

	return dev && iio_device_find_attr(dev, attr) != NULL;
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

int iioa_dev_set_trigger(struct iioa_ctx *ctx, const char *dev_name, const char *trigger,
			 double hz)
{
	struct iio_device *dev = device(ctx, dev_name), *trig = trigger_find(ctx, trigger);
	const struct iio_device *cur = NULL;
	ssize_t w;

	if (!dev)
		return -ENODEV;
	if (!trig)
		return -ENXIO;
	/* The hrtimer trigger took whole hertz only (kstrtoul) until it
	 * learned millihertz (iio_str_to_fixpoint, 3 decimals): a whole
	 * frequency goes as an integer so that either kernel takes it; a
	 * fractional one an older kernel refuses (EINVAL). */
	if (iio_device_find_attr(trig, "sampling_frequency")) {
		char text[32];

		if (hz == floor(hz))
			snprintf(text, sizeof(text), "%.0f", hz);
		else
			snprintf(text, sizeof(text), "%.3f", hz);
		w = iio_device_attr_write(trig, "sampling_frequency", text);
		if (w < 0)
			return (int)w;
	}
	/* a second instrument on a device whose buffer already runs on this
	 * trigger: setting it again would be refused (EBUSY) */
	if (iio_device_get_trigger(dev, &cur) == 0 && cur == trig)
		return 0;
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
		iioa_buf_close(b);
		return r;
	}
	*ret = b;
	return 0;
}

void iioa_buf_close(struct iioa_buf *b)
{
	if (!b)
		return;
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

const uint8_t *iioa_buf_field(struct iioa_buf *b, size_t k, size_t i)
{
	return (const uint8_t *)iio_buffer_first(b->buf, b->field[i]) +
	       (ptrdiff_t)k * iio_buffer_step(b->buf);
}

const struct scan_format *iioa_buf_format(const struct iioa_buf *b, size_t i)
{
	return &b->format[i];
}

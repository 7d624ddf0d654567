/* The libiio 0.24 adapter: see adapter.h. */
#include "adapter.h"

#include <errno.h>
#include <iio.h>
#include <stdlib.h>
#include <string.h>

struct iioa_ctx {
	struct iio_context *ctx;
};

struct iioa_chan {
	struct iio_channel *ch;
};

int iioa_open(const char *uri, unsigned timeout_ms, struct iioa_ctx **ret)
{
	struct iioa_ctx *c = calloc(1, sizeof(*c));
	int r;

	*ret = NULL;
	if (!c)
		return -ENOMEM;
	errno = 0;
	c->ctx = iio_create_context_from_uri(uri);
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

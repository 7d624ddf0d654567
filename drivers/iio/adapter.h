/* Every libiio call pumprig makes, in one file, so moving from libiio 0.24 to
 * 1.x is one file's change.  The rest of the iio backend sees only these
 * opaque handles and negative-errno returns. */
#ifndef RIG_IIO_ADAPTER_H
#define RIG_IIO_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scan.h"

struct iioa_ctx;
struct iioa_chan;
struct iioa_buf;

/* "local:", "ip:HOST[:PORT]".  timeout_ms bounds every operation on the
 * context (libiio's iio_context_set_timeout: the socket's receive and send
 * timeout; a server that does not answer within it fails the operation with
 * -EPIPE, and the connection is out of step afterwards).  Before libiio
 * creates a network context (it gives the connection and the context's
 * description 5 s each, whatever is asked), the server is asked its VERSION
 * on a connection of this call's own, within timeout_ms: a stopped iiod,
 * whose port still accepts connections, gives -ETIMEDOUT in that bound. */
int iioa_open(const char *uri, unsigned timeout_ms, struct iioa_ctx **ret);
void iioa_close(struct iioa_ctx *ctx);
/* A channel by device name (or id) and channel id. */
int iioa_channel(struct iioa_ctx *ctx, const char *device, const char *channel, bool output,
		 struct iioa_chan **ret);
int iioa_chan_read_double(struct iioa_chan *ch, const char *attr, double *ret);
int iioa_chan_read_long(struct iioa_chan *ch, const char *attr, long long *ret);
int iioa_chan_write_long(struct iioa_chan *ch, const char *attr, long long value);
bool iioa_chan_has_attr(struct iioa_chan *ch, const char *attr);
/* A channel attribute as text (NUL-terminated, cut to size): its length or -errno. */
int iioa_chan_read_text(struct iioa_chan *ch, const char *attr, char *buf, size_t size);
/* A device attribute, written as text. */
int iioa_dev_write(struct iioa_ctx *ctx, const char *device, const char *attr, const char *value);
int iioa_dev_read(struct iioa_ctx *ctx, const char *device, const char *attr, char *buf,
		  size_t size);
bool iioa_dev_has_attr(struct iioa_ctx *ctx, const char *device, const char *attr);
int iioa_chan_write_double(struct iioa_chan *ch, const char *attr, double value);
/* The IIO device's name ("ina226") for a device given by name or id. */
const char *iioa_dev_name(struct iioa_ctx *ctx, const char *device);

/* An attribute where libiio 0.24 presents it: a channel's (ads1015
 * in_voltage0_sampling_frequency: channel "voltage0", "sampling_frequency";
 * hx711 in_voltage_scale, shared by type, on every voltage channel), a
 * device's (current_timestamp_clock; an hrtimer trigger's
 * sampling_frequency), or a shared in_ attribute that libiio turns into a
 * channel of its own named by the text up to the first '_' (ina226
 * in_sampling_frequency: channel "sampling", attribute "frequency";
 * in_oversampling_ratio: "oversampling", "ratio"). */
struct iio_device;
struct iio_channel;
struct iioa_attr {
	struct iio_device *dev;
	struct iio_channel *chn;       /* NULL: a device (or buffer) attribute */
	bool buffer;                   /* one of the device's buffer/ attributes */
	const char *name;              /* libiio's name for it ("frequency"); NULL: a
					  buffer attribute libiio does not list, by its file */
	char file[96];                 /* the sysfs file ("in_sampling_frequency") */
};
/* Finds `name` ("sampling_frequency") of `device` (by name or id; a
 * trigger too), looking at the input channel `channel` (NULL: none) first,
 * then the device, then a shared pseudo-channel.  -ENODEV: no such device;
 * -ENOENT: no such attribute anywhere. */
int iioa_attr_find(struct iioa_ctx *ctx, const char *device, const char *channel,
		   const char *name, struct iioa_attr *ret);
/* `name` of the device's buffer/ ("length"); -ENOENT where the device
 * (or the server's description of it) has no such buffer attribute. */
int iioa_buf_attr_find(struct iioa_ctx *ctx, const char *device, const char *name,
		       struct iioa_attr *ret);
/* Its value as text (NUL-terminated, trailing newline and blanks cut):
 * the length, or -errno. */
int iioa_attr_read(const struct iioa_attr *a, char *buf, size_t size);
int iioa_attr_write(const struct iioa_attr *a, const char *value);

/* The name of the trigger assigned to `device` into buf ("" when none);
 * -ENOENT when the device takes no trigger (no trigger/current_trigger,
 * as the ina2xx).  The kernel refuses to change a device's trigger while
 * its buffer is enabled (EBUSY): set it before iioa_buf_open. */
int iioa_dev_trigger(struct iioa_ctx *ctx, const char *device, char *buf, size_t size);
/* Assigns the trigger named (or with the id) `trigger`; "" removes it.
 * -ENXIO: no trigger of that name in the context. */
int iioa_dev_trigger_set(struct iioa_ctx *ctx, const char *device, const char *trigger);
/* True when the context has a device by that name or id (a trigger too). */
bool iioa_has_device(struct iioa_ctx *ctx, const char *device);
/* Its id ("iio:device1", "trigger0"), or "". */
const char *iioa_dev_id(struct iioa_ctx *ctx, const char *device);

/* Buffered capture: enables the n named input channels of `device` and,
 * where the device has one, its timestamp channel, and creates a buffer of
 * `scans` scans.  Field i < n is channels[i]; field n is the timestamp. */
int iioa_buf_open(struct iioa_ctx *ctx, const char *device, const char *const *channels,
		  size_t n, size_t scans, struct iioa_buf **ret);
/* abandon: the server no longer answers; close without asking it to. */
void iioa_buf_close(struct iioa_buf *b, bool abandon);
bool iioa_buf_has_timestamp(const struct iioa_buf *b);
/* Fetches what the device has captured; *ret_scans whole scans. */
int iioa_buf_refill(struct iioa_buf *b, size_t *ret_scans);
/* Field i of the refill's scan k is at first + k x step (first and step
 * asked once a refill, not once a scan), in the scan format given. */
const uint8_t *iioa_buf_first(struct iioa_buf *b, size_t i);
ptrdiff_t iioa_buf_step(struct iioa_buf *b);
const struct scan_format *iioa_buf_format(const struct iioa_buf *b, size_t i);

#endif

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

/* "local:", "ip:HOST[:PORT]".  timeout_ms bounds every operation. */
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

/* Paces `device`'s buffer with the IIO trigger named `trigger` (the name in
 * /sys/bus/iio/devices/triggerN/name, such as an hrtimer trigger made in
 * configfs, or its id "triggerN"), first setting the trigger's
 * sampling_frequency to hz where it has one.  Call it before
 * iioa_buf_open: the kernel refuses to change a device's trigger while its
 * buffer is enabled (EBUSY), so a trigger already assigned is left as it
 * is.  -ENXIO: no trigger of that name in the context. */
int iioa_dev_set_trigger(struct iioa_ctx *ctx, const char *device, const char *trigger,
			 double hz);

/* Buffered capture: enables the n named input channels of `device` and,
 * where the device has one, its timestamp channel, and creates a buffer of
 * `scans` scans.  Field i < n is channels[i]; field n is the timestamp. */
int iioa_buf_open(struct iioa_ctx *ctx, const char *device, const char *const *channels,
		  size_t n, size_t scans, struct iioa_buf **ret);
void iioa_buf_close(struct iioa_buf *b);
bool iioa_buf_has_timestamp(const struct iioa_buf *b);
/* Fetches what the device has captured; *ret_scans whole scans. */
int iioa_buf_refill(struct iioa_buf *b, size_t *ret_scans);
/* Field i of scan k: its bytes and the scan format they are in. */
const uint8_t *iioa_buf_field(struct iioa_buf *b, size_t k, size_t i);
const struct scan_format *iioa_buf_format(const struct iioa_buf *b, size_t i);

#endif

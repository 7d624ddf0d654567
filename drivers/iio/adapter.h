/* Every libiio call pumprig makes, in one file, so moving from libiio 0.24 to
 * 1.x is one file's change.  The rest of the iio backend sees only these
 * opaque handles and negative-errno returns. */
#ifndef RIG_IIO_ADAPTER_H
#define RIG_IIO_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>

struct iioa_ctx;
struct iioa_chan;

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
/* A device attribute, written as text. */
int iioa_dev_write(struct iioa_ctx *ctx, const char *device, const char *attr, const char *value);
int iioa_dev_read(struct iioa_ctx *ctx, const char *device, const char *attr, char *buf,
		  size_t size);

#endif

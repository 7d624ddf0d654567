/* A server for libiio's network protocol (iiod, TCP), so that the real iio
 * backend, and libiio's own tools, talk to the simulated bench exactly as
 * they would to a board running iiod.  Pure protocol over file descriptors:
 * the device tree and every attribute value come from callbacks.
 *
 * The protocol (libiio 0.24): ASCII command lines ending "\r\n"; integer
 * replies "%li\n" (negative errno on failure).  VERSION, PRINT (the XML
 * context: length, the XML, "\n"), TIMEOUT, READ and WRITE of device, channel,
 * debug and buffer attributes (a READ answers the value's length, then the
 * value and "\n"; a WRITE is followed by the value's bytes and answers the
 * length written), and for buffers OPEN dev samples mask, READBUF dev bytes
 * (length, the enabled-channel mask "%08x\n", then the samples), CLOSE, EXIT.
 * Anything else answers -EINVAL (so ZPRINT falls back to PRINT). */
#ifndef RIG_SIM_IIOD_SERVER_H
#define RIG_SIM_IIOD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IIOD_CHANNELS_MAX 8
#define IIOD_ATTRS_MAX 8

struct iiod_attr {
	const char *name;               /* "raw" */
	const char *filename;           /* "in_voltage0_raw" (channel attributes) */
};

struct iiod_channel {
	const char *id;                 /* "voltage0" */
	bool output;
	int scan_index;                 /* -1: not in buffers */
	const char *format;             /* "le:u24/32>>0" */
	unsigned storage_bits;          /* 32 */
	const char *scale;              /* scan-element scale, or NULL */
	struct iiod_attr attrs[IIOD_ATTRS_MAX];
	size_t n_attrs;
};

struct iiod_device {
	const char *id;                 /* "iio:device0" */
	const char *name;               /* "hx711" */
	struct iiod_channel channels[IIOD_CHANNELS_MAX];
	size_t n_channels;
	const char *attrs[IIOD_ATTRS_MAX];
	size_t n_attrs;
};

struct iiod_ops {
	/* Attribute value as text into buf; returns its length or -errno.
	 * channel is -1 for a device attribute. */
	int (*read_attr)(void *ctx, size_t dev, int channel, const char *attr, char *buf,
			 size_t size);
	int (*write_attr)(void *ctx, size_t dev, int channel, const char *attr, const char *value);
	/* One sample of every channel enabled in mask, packed as the kernel
	 * does (each value at its storage size, aligned to it); returns bytes
	 * written or -errno. */
	int (*sample)(void *ctx, size_t dev, uint32_t mask, uint8_t *buf, size_t size);
};

struct iiod_server;

/* Listens on addr:port (port 0: any free port). */
int iiod_server_new(const struct iiod_device *devices, size_t n_devices,
		    const struct iiod_ops *ops, void *ctx, const char *addr, unsigned port,
		    struct iiod_server **ret);
void iiod_server_free(struct iiod_server *srv);
unsigned iiod_server_port(const struct iiod_server *srv);

/* For a poll loop: the descriptors to watch (listening socket and clients),
 * and the handler when poll reports them readable. */
size_t iiod_server_fds(const struct iiod_server *srv, int *fds, size_t max);
void iiod_server_handle(struct iiod_server *srv, int fd);

/* The XML context, for tests; caller frees. */
char *iiod_server_xml(const struct iiod_server *srv);

#endif

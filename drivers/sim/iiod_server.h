/* A server for libiio's network protocol (iiod, TCP), so that the real iio
 * backend, and libiio's own tools, talk to the simulated bench exactly as
 * they would to a board running iiod.  Pure protocol over file descriptors:
 * the device tree and every attribute value come from callbacks.
 *
 * The protocol (libiio 0.24): ASCII command lines ending "\r\n"; integer
 * replies "%li\n" (negative errno on failure).  VERSION, PRINT (the XML
 * context as iiod writes it: scan formats with the sign letter in capitals
 * when the value fills its storage, "le:S16/16>>0", scales to 6 decimals;
 * length, the XML, "\n"), TIMEOUT, READ and WRITE of device, channel,
 * debug and buffer attributes (a READ answers the value's length, then the
 * value and "\n"; a WRITE is followed by the value's bytes and answers the
 * length written), and for buffers OPEN dev samples mask, READBUF dev bytes
 * (length, the enabled-channel mask "%08x\n", then the samples), CLOSE, EXIT,
 * and GETTRIG dev (the trigger's name length, then the name and "\n"; 0 for
 * none), SETTRIG dev [trigger].  Anything else answers -EINVAL (so ZPRINT
 * falls back to PRINT).
 *
 * Triggers: beside the owner's devices the server itself serves one hrtimer
 * trigger, "trigger0" named "rig-timer" (attribute sampling_frequency, in
 * mHz steps, 100 Hz until written).  A device whose kernel driver sets up a
 * triggered buffer (hx711, ads1015: known here by name) takes a trigger,
 * refuses to OPEN a buffer without one (-EINVAL, as the kernel refuses to
 * enable it) and to change it while a buffer is open (-EBUSY); its scans
 * are taken at the trigger's ticks, the first one trigger period after the
 * OPEN.  Any other device answers GETTRIG and SETTRIG -ENOENT, as iiod does
 * for a device with no trigger/current_trigger, and converts at its own
 * period from the OPEN on.
 *
 * Buffers: an opened buffer is sampled at the device's sampling period (or
 * its trigger's, above), on the simulator's time; samples are produced when
 * that time moves (iiod_server_advance) and queued per client as the kernel
 * queues them.  A READBUF answers with the queued
 * samples, as many whole samples as asked for or fewer, in one chunk ended
 * by a "0" chunk when short (libiio's client reads chunks until it has its
 * length or meets a 0).  Whether a READBUF with nothing queued waits is the
 * owner's choice (iiod_server_set_wait): in lockstep it must not, since the
 * one client that moves time may be the one waiting for the answer. */
#ifndef RIG_SIM_IIOD_SERVER_H
#define RIG_SIM_IIOD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IIOD_CHANNELS_MAX 12
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
	/* buffer attributes besides length, enable and watermark (which
	 * libiio keeps to itself): "data_available" answers the samples
	 * queued for the asking client, "direction" "in" */
	const char *buffer_attrs[4];
	size_t n_buffer_attrs;
};

struct iiod_ops {
	/* Attribute value as text into buf; returns its length or -errno.
	 * channel is -1 for a device attribute. */
	int (*read_attr)(void *ctx, size_t dev, int channel, const char *attr, char *buf,
			 size_t size);
	int (*write_attr)(void *ctx, size_t dev, int channel, const char *attr, const char *value);
	/* One sample at time t_ns of every channel enabled in mask, packed as
	 * the kernel does (each value at its storage size, aligned to it);
	 * returns bytes written or -errno.  Called in time order. */
	int (*sample)(void *ctx, size_t dev, uint32_t mask, int64_t t_ns, uint8_t *buf,
		      size_t size);
	/* The device's sampling period now, and the simulator's time now. */
	int64_t (*period_ns)(void *ctx, size_t dev);
	int64_t (*now_ns)(void *ctx);
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

/* Produces every sample due on the open buffers up to t_ns (inclusive), in
 * time order across devices, then answers READBUFs that were waiting. */
void iiod_server_advance(struct iiod_server *srv, int64_t t_ns);
/* wait: a READBUF with nothing queued waits for a sample (real time);
 * otherwise it answers at once with none (lockstep; the default). */
void iiod_server_set_wait(struct iiod_server *srv, bool wait);
/* True while a READBUF waits for samples (poll with a short timeout). */
bool iiod_server_waiting(const struct iiod_server *srv);

/* The XML context, for tests; caller frees. */
char *iiod_server_xml(const struct iiod_server *srv);

/* An IIO trigger served beside the devices (an hrtimer's: no channels). */
struct iiod_trigger {
	const char *id, *name;
};
/* The context XML for devs and triggers (iiod_xml.c); malloc'd, NULL when
 * out of memory. */
char *iiod_xml_build(const struct iiod_device *devs, size_t n, const struct iiod_trigger *triggers,
		     size_t n_triggers);

#endif

/* libiio network protocol server: see iiod_server.h. */
#define _GNU_SOURCE  /* asprintf */
#include "iiod_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLIENTS_MAX 16
#define LINE_MAX_BYTES 1024
#define BUF_BYTES_MAX (16u << 20)

/* The IIO triggers served beside the devices: one periodic hrtimer trigger,
 * as a bench's kernel has it after
 *   mkdir /sys/kernel/config/iio/triggers/hrtimer/rig-timer
 * (a trigger device "triggerN" with no channels, named by the directory,
 * and one attribute, sampling_frequency, 100 Hz until written). */
static const struct iiod_trigger triggers[] = {
	{ "trigger0", "rig-timer" },
};
#define N_TRIGGERS (sizeof(triggers) / sizeof(triggers[0]))
#define HRTIMER_DEFAULT_MHZ 100000ull

struct client {
	int fd;
	char line[LINE_MAX_BYTES];
	size_t n;
	/* a WRITE waiting for its value's bytes */
	bool in_write;
	size_t write_dev, write_len, write_got;
	int write_chn;
	char write_attr[64];
	char *write_value;
	/* an opened buffer: its samples queued as the kernel queues them */
	bool open;
	size_t open_dev;
	uint32_t mask;
	size_t sample_bytes;
	int64_t next_tick_ns;
	uint8_t *q;
	size_t q_head, q_len;
	unsigned long long dropped;   /* samples lost to a full queue */
	int error;                    /* a failed conversion, reported once */
	size_t want;                  /* a READBUF waiting for samples (bytes) */
};

struct iiod_server {
	const struct iiod_device *devices;
	size_t n_devices;
	const struct iiod_ops *ops;
	void *ctx;
	int listen_fd;
	unsigned port;
	struct client clients[CLIENTS_MAX];
	char *xml;
	bool wait;
	/* each trigger's frequency in mHz (the hrtimer's resolution), and the
	 * trigger assigned to each device (its current_trigger; -1: none) */
	unsigned long long trig_mhz[N_TRIGGERS];
	int *dev_trigger;
};

/* Kernel drivers whose buffer is a triggered buffer
 * (iio_triggered_buffer_setup): a scan is taken each time the device's
 * trigger fires, and the kernel will not enable the buffer without one.
 * The ina2xx instead runs its own capture thread (a software kfifo buffer)
 * and has no trigger at all. */
static bool device_triggered(const struct iiod_device *dev)
{
	return strcmp(dev->name, "hx711") == 0 || strcmp(dev->name, "ads1015") == 0;
}

char *iiod_server_xml(const struct iiod_server *srv)
{
	return strdup(srv->xml);
}

/* --------------------------------------------------------- replies -- */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int reply_int(struct client *c, long value)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", value);

	return write_all(c->fd, buf, (size_t)n);
}

/* ---------------------------------------------------------- lookup -- */

static int find_device(const struct iiod_server *srv, const char *word)
{
	for (size_t d = 0; d < srv->n_devices; d++)
		if (strcmp(srv->devices[d].id, word) == 0 || strcmp(srv->devices[d].name, word) == 0)
			return (int)d;
	return -1;
}

static int find_trigger(const char *word)
{
	for (size_t t = 0; t < N_TRIGGERS; t++)
		if (strcmp(triggers[t].id, word) == 0 || strcmp(triggers[t].name, word) == 0)
			return (int)t;
	return -1;
}

static int64_t trigger_period_ns(const struct iiod_server *srv, int t)
{
	return (int64_t)(1000000000000ull / srv->trig_mhz[t]);
}

static int find_channel(const struct iiod_device *dev, const char *id, bool output)
{
	for (size_t c = 0; c < dev->n_channels; c++)
		if (strcmp(dev->channels[c].id, id) == 0 && dev->channels[c].output == output)
			return (int)c;
	return -1;
}

/* chn: a channel, -1 the device's attributes, CHN_BUFFER its buffer's */
#define CHN_BUFFER (-4)

static bool has_attr(const struct iiod_device *dev, int chn, const char *attr)
{
	if (chn == CHN_BUFFER) {
		for (size_t a = 0; a < dev->n_buffer_attrs; a++)
			if (strcmp(dev->buffer_attrs[a], attr) == 0)
				return true;
		return false;
	}
	if (chn < 0) {
		for (size_t a = 0; a < dev->n_attrs; a++)
			if (strcmp(dev->attrs[a], attr) == 0)
				return true;
		return false;
	}
	for (size_t a = 0; a < dev->channels[chn].n_attrs; a++)
		if (strcmp(dev->channels[chn].attrs[a].name, attr) == 0)
			return true;
	return false;
}

/* "dev attr", "dev DEBUG attr", "dev BUFFER attr", "dev INPUT|OUTPUT chn attr":
 * resolves words[0..] and returns how many words it used, or -errno. */
static int resolve_attr(const struct iiod_server *srv, char **w, int n, int *ret_dev,
			int *ret_chn, const char **ret_attr)
{
	int d = n >= 1 ? find_device(srv, w[0]) : -1;

	if (d < 0)
		return -ENODEV;
	*ret_dev = d;
	*ret_chn = -1;
	if (n >= 4 && (strcasecmp(w[1], "INPUT") == 0 || strcasecmp(w[1], "OUTPUT") == 0)) {
		int c = find_channel(&srv->devices[d], w[2], strcasecmp(w[1], "OUTPUT") == 0);

		if (c < 0)
			return -ENOENT;
		*ret_chn = c;
		*ret_attr = w[3];
		return 4;
	}
	if (n >= 3 && strcasecmp(w[1], "BUFFER") == 0) {
		*ret_chn = CHN_BUFFER;
		*ret_attr = w[2];
		return 3;
	}
	if (n >= 3 && strcasecmp(w[1], "DEBUG") == 0) {
		*ret_attr = w[2];
		return -ENOENT;   /* no debug attributes here */
	}
	if (n >= 2) {
		*ret_attr = w[1];
		return 2;
	}
	return -EINVAL;
}

/* -------------------------------------------------------- commands -- */

static void cmd_read(struct iiod_server *srv, struct client *c, char **w, int n)
{
	int d, ch, used;
	const char *attr = NULL;
	char value[4096];
	int len;

	if (n == 2 && (d = find_trigger(w[0])) >= 0) {
		unsigned long long mhz = srv->trig_mhz[d];

		/* shown as the hrtimer trigger shows it (IIO_VAL_INT_PLUS_MICRO) */
		if (strcmp(w[1], "sampling_frequency") != 0) {
			reply_int(c, -ENOENT);
			return;
		}
		len = snprintf(value, sizeof(value), "%llu.%06llu", mhz / 1000, mhz % 1000 * 1000);
		reply_int(c, len);
		value[len] = '\n';
		write_all(c->fd, value, (size_t)len + 1);
		return;
	}
	used = resolve_attr(srv, w, n, &d, &ch, &attr);
	if (used < 0) {
		reply_int(c, used);
		return;
	}
	if (!has_attr(&srv->devices[d], ch, attr)) {
		reply_int(c, -ENOENT);
		return;
	}
	if (ch == CHN_BUFFER && strcmp(attr, "data_available") == 0)
		len = snprintf(value, sizeof(value), "%zu", c->open && c->open_dev == (size_t)d &&
							      c->sample_bytes
							      ? (c->q_len - c->q_head) / c->sample_bytes
							      : 0);
	else if (ch == CHN_BUFFER)
		len = snprintf(value, sizeof(value), "in");   /* direction */
	else
		len = srv->ops->read_attr(srv->ctx, (size_t)d, ch, attr, value, sizeof(value) - 1);
	if (len < 0) {
		reply_int(c, len);
		return;
	}
	reply_int(c, len);
	value[len] = '\n';
	write_all(c->fd, value, (size_t)len + 1);
}

static void cmd_write(struct iiod_server *srv, struct client *c, char **w, int n)
{
	int d, ch, used, t = n == 3 ? find_trigger(w[0]) : -1;
	const char *attr = NULL;
	char *end;
	unsigned long len;

	used = t >= 0 ? 2 : resolve_attr(srv, w, n - 1, &d, &ch, &attr);
	if (n < 3 || used < 0) {
		reply_int(c, used < 0 ? used : -EINVAL);
		return;
	}
	len = strtoul(w[n - 1], &end, 10);
	if (*end || len > 4096) {
		reply_int(c, -EINVAL);
		return;
	}
	if (t >= 0) {
		/* -3: the trigger's sampling_frequency, -2: no such attribute */
		d = t;
		ch = strcmp(w[1], "sampling_frequency") == 0 ? -3 : -2;
		attr = w[1];
	}
	c->write_value = calloc(len + 1, 1);
	if (!c->write_value) {
		reply_int(c, -ENOMEM);
		return;
	}
	c->in_write = true;
	c->write_dev = (size_t)d;
	c->write_chn = t >= 0 ? ch : has_attr(&srv->devices[d], ch, attr) ? ch : -2;
	snprintf(c->write_attr, sizeof(c->write_attr), "%s", attr);
	c->write_len = len;
	c->write_got = 0;
}

/* The hrtimer trigger's sampling_frequency as the kernel parses it
 * (iio_str_to_fixpoint to millihertz: later digits are ignored): more than
 * 0, at most UINT_MAX mHz. */
static int trigger_write_frequency(struct iiod_server *srv, size_t t, const char *value)
{
	unsigned long long mhz = 0, scale = 100;
	const char *p = value;
	bool digits = false;

	if (*p == '-')
		return -ERANGE;
	for (; *p >= '0' && *p <= '9'; p++, digits = true)
		if ((mhz = mhz * 10 + (unsigned)(*p - '0')) > 0xffffffffull)
			return -EINVAL;
	mhz *= 1000;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true, scale /= 10)
			mhz += scale * (unsigned)(*p - '0');
	if (*p == '\n')
		p++;
	if (!digits || *p)
		return -EINVAL;
	if (mhz == 0 || mhz > 0xffffffffull)
		return -EINVAL;
	srv->trig_mhz[t] = mhz;
	return 0;
}

static void finish_write(struct iiod_server *srv, struct client *c)
{
	int r;

	if (c->write_chn == -3)
		r = trigger_write_frequency(srv, c->write_dev, c->write_value);
	else if (c->write_chn == -2)
		r = -ENOENT;
	else if (c->write_chn == CHN_BUFFER)
		r = -EACCES;   /* data_available and direction are read only */
	else
		r = srv->ops->write_attr(srv->ctx, c->write_dev, c->write_chn, c->write_attr,
					 c->write_value);
	reply_int(c, r < 0 ? r : (long)c->write_len);
	free(c->write_value);
	c->write_value = NULL;
	c->in_write = false;
}

static uint32_t parse_mask(const char *hex)
{
	/* the client sends the mask words most significant first, 8 hex
	 * digits each; only the lowest word matters for our few channels */
	size_t len = strlen(hex);
	const char *low = len > 8 ? hex + len - 8 : hex;

	return (uint32_t)strtoul(low, NULL, 16);
}

/* Bytes of one scan of the channels in mask, laid out as the kernel does:
 * each value at its storage size, aligned to it, in scan order. */
static size_t scan_bytes(const struct iiod_device *dev, uint32_t mask)
{
	size_t off = 0;

	for (size_t c = 0; c < dev->n_channels; c++) {
		size_t bytes = dev->channels[c].storage_bits / 8;

		if (dev->channels[c].scan_index < 0 || !(mask & (1u << c)) || bytes == 0)
			continue;
		if (off % bytes)
			off += bytes - off % bytes;
		off += bytes;
	}
	return off;
}

static void queue_reset(struct client *c)
{
	free(c->q);
	c->q = NULL;
	c->q_head = c->q_len = 0;
	c->dropped = 0;
	c->error = 0;
	c->want = 0;
}

/* Sends up to `want` bytes of whole queued samples; a short answer ends
 * with a 0 chunk, which libiio's client takes as "that is all for now". */
static void send_queued(struct client *c, size_t want)
{
	size_t n = c->q_len - c->q_head;
	char head[64];

	if (n > want)
		n = want;
	n -= n % c->sample_bytes;
	if (n == 0) {
		int err = c->error;

		c->error = 0;
		reply_int(c, err < 0 ? err : 0);
		return;
	}
	snprintf(head, sizeof(head), "%zu\n%08x\n", n, c->mask);
	if (write_all(c->fd, head, strlen(head)) == 0 && write_all(c->fd, c->q + c->q_head, n) == 0 &&
	    n < want)
		write_all(c->fd, "0\n", 2);
	c->q_head += n;
	if (c->q_head == c->q_len)
		c->q_head = c->q_len = 0;
}

static bool queued_sample(const struct client *c)
{
	return c->q_len - c->q_head >= c->sample_bytes;
}

static void cmd_readbuf(struct iiod_server *srv, struct client *c, char **w, int n)
{
	unsigned long want;
	char *end;
	int d;

	d = n >= 2 ? find_device(srv, w[0]) : -1;
	if (d < 0 || !c->open || c->open_dev != (size_t)d) {
		reply_int(c, d < 0 ? -ENODEV : -EBADF);
		return;
	}
	want = strtoul(w[1], &end, 10);
	if (*end || want == 0 || want > BUF_BYTES_MAX) {
		reply_int(c, -EINVAL);
		return;
	}
	if (srv->wait && !queued_sample(c) && !c->error) {
		c->want = want;   /* answered by iiod_server_advance */
		return;
	}
	send_queued(c, want);
}

/* One scan for client c at its next tick, appended to its queue unless the
 * queue is full (the kernel drops what does not fit, too). */
static void produce(struct iiod_server *srv, struct client *c)
{
	int64_t period = device_triggered(&srv->devices[c->open_dev])
				 ? trigger_period_ns(srv, srv->dev_trigger[c->open_dev])
				 : srv->ops->period_ns(srv->ctx, c->open_dev);
	uint8_t scan[256] = { 0 };   /* alignment padding goes out as zeros */
	int r;

	if (period < 1000)
		period = 1000;
	if (c->q_len + c->sample_bytes > BUF_BYTES_MAX) {
		if (c->q_head > 0) {
			memmove(c->q, c->q + c->q_head, c->q_len - c->q_head);
			c->q_len -= c->q_head;
			c->q_head = 0;
		}
	}
	if (c->q_len + c->sample_bytes > BUF_BYTES_MAX) {
		c->dropped++;
	} else {
		r = srv->ops->sample(srv->ctx, c->open_dev, c->mask, c->next_tick_ns, scan,
				     sizeof(scan));
		if (r == (int)c->sample_bytes) {
			if (!c->q) {
				c->q = malloc(BUF_BYTES_MAX);
				if (!c->q) {
					c->error = -ENOMEM;
					c->next_tick_ns += period;
					return;
				}
			}
			memcpy(c->q + c->q_len, scan, c->sample_bytes);
			c->q_len += c->sample_bytes;
		} else if (!c->error) {
			c->error = r < 0 ? r : -EIO;
		}
	}
	c->next_tick_ns += period;
}

void iiod_server_advance(struct iiod_server *srv, int64_t t_ns)
{
	for (;;) {
		struct client *first = NULL;

		for (size_t i = 0; i < CLIENTS_MAX; i++) {
			struct client *c = &srv->clients[i];

			if (c->fd >= 0 && c->open && c->next_tick_ns <= t_ns &&
			    (!first || c->next_tick_ns < first->next_tick_ns))
				first = c;
		}
		if (!first)
			break;
		produce(srv, first);
	}
	for (size_t i = 0; i < CLIENTS_MAX; i++) {
		struct client *c = &srv->clients[i];

		if (c->fd >= 0 && c->want > 0 && (queued_sample(c) || c->error)) {
			size_t want = c->want;

			c->want = 0;
			send_queued(c, want);
		}
	}
}

void iiod_server_set_wait(struct iiod_server *srv, bool wait)
{
	srv->wait = wait;
}

bool iiod_server_waiting(const struct iiod_server *srv)
{
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (srv->clients[i].fd >= 0 && srv->clients[i].want > 0)
			return true;
	return false;
}

/* Another client's buffer paced by trigger t: its ticks are the trigger's. */
static const struct client *trigger_peer(const struct iiod_server *srv, int t,
					 const struct client *self)
{
	for (size_t i = 0; i < CLIENTS_MAX; i++) {
		const struct client *o = &srv->clients[i];

		if (o != self && o->fd >= 0 && o->open &&
		    device_triggered(&srv->devices[o->open_dev]) && srv->dev_trigger[o->open_dev] == t)
			return o;
	}
	return NULL;
}

static void cmd_open(struct iiod_server *srv, struct client *c, char **w, int n)
{
	int d = n >= 4 ? find_device(srv, w[1]) : -1;
	int64_t now;
	uint32_t mask;
	int t;

	if (d < 0) {
		reply_int(c, n >= 4 ? -ENODEV : -EINVAL);
		return;
	}
	/* the kernel will not enable a triggered buffer with no trigger
	 * assigned ("Buffer not started: no trigger"), and iiod passes its
	 * EINVAL back as the answer to the OPEN */
	t = srv->dev_trigger[d];
	if (device_triggered(&srv->devices[d]) && t < 0) {
		reply_int(c, -EINVAL);
		return;
	}
	mask = parse_mask(w[3]);
	queue_reset(c);
	c->sample_bytes = scan_bytes(&srv->devices[d], mask);
	if (c->sample_bytes == 0) {
		reply_int(c, -EINVAL);
		return;
	}
	now = srv->ops->now_ns(srv->ctx);
	if (device_triggered(&srv->devices[d])) {
		/* an hrtimer trigger first fires one period after it is
		 * started (hrtimer_start, relative), and a buffer joining a
		 * trigger that already runs takes its next tick */
		const struct client *peer = trigger_peer(srv, t, c);
		int64_t period = trigger_period_ns(srv, t);

		c->next_tick_ns = peer ? peer->next_tick_ns : now + period;
		while (c->next_tick_ns <= now)
			c->next_tick_ns += period;
	} else {
		/* the device converts from the moment its buffer is enabled
		 * (the ina2xx capture thread reads at once) */
		c->next_tick_ns = now;
	}
	c->open = true;
	c->open_dev = (size_t)d;
	c->mask = mask;
	reply_int(c, 0);
	iiod_server_advance(srv, now);
}

/* GETTRIG dev: the name of the device's trigger ("%li\n" length, then the
 * name and "\n"), 0 when none is assigned, -ENOENT for a device that takes
 * no trigger (no trigger/current_trigger in its sysfs directory, which is
 * what iiod's local backend reads). */
static void cmd_gettrig(struct iiod_server *srv, struct client *c, char **w, int n)
{
	int d = n == 1 ? find_device(srv, w[0]) : -1;
	const char *name;

	if (d < 0) {
		reply_int(c, n == 1 && find_trigger(w[0]) >= 0 ? -ENOENT : -ENODEV);
		return;
	}
	if (!device_triggered(&srv->devices[d])) {
		reply_int(c, -ENOENT);
		return;
	}
	if (srv->dev_trigger[d] < 0) {
		reply_int(c, 0);
		return;
	}
	name = triggers[srv->dev_trigger[d]].name;
	reply_int(c, (long)strlen(name));
	write_all(c->fd, name, strlen(name));
	write_all(c->fd, "\n", 1);
}

/* SETTRIG dev [trigger]: assigns (or, without one, removes) the device's
 * trigger.  iiod finds the trigger among the context's devices (-ENOENT if
 * none), libiio refuses a device that is not a trigger (-EINVAL), and the
 * kernel refuses any change while the device's buffer is enabled (-EBUSY,
 * even to the trigger already assigned). */
static void cmd_settrig(struct iiod_server *srv, struct client *c, char **w, int n)
{
	int d = n == 1 || n == 2 ? find_device(srv, w[0]) : -1, t = -1;

	if (d < 0) {
		reply_int(c, (n == 1 || n == 2) && find_trigger(w[0]) >= 0 ? -ENOENT : -ENODEV);
		return;
	}
	if (n == 2) {
		t = find_trigger(w[1]);
		if (t < 0) {
			reply_int(c, find_device(srv, w[1]) >= 0 ? -EINVAL : -ENOENT);
			return;
		}
	}
	if (!device_triggered(&srv->devices[d])) {
		reply_int(c, -ENOENT);
		return;
	}
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (srv->clients[i].fd >= 0 && srv->clients[i].open &&
		    srv->clients[i].open_dev == (size_t)d) {
			reply_int(c, -EBUSY);
			return;
		}
	srv->dev_trigger[d] = t;
	reply_int(c, 0);
}

static void drop_client(struct client *c)
{
	close(c->fd);
	free(c->write_value);
	free(c->q);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void execute(struct iiod_server *srv, struct client *c, char *line)
{
	char *w[16], *save = NULL;
	int n = 0;

	for (char *t = strtok_r(line, " \t", &save); t && n < 16; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (n == 0)
		return;
	if (strcmp(w[0], "VERSION") == 0) {
		write_all(c->fd, "0.24.pumprig\n", 13);
	} else if (strcmp(w[0], "PRINT") == 0) {
		reply_int(c, (long)strlen(srv->xml));
		write_all(c->fd, srv->xml, strlen(srv->xml));
		write_all(c->fd, "\n", 1);
	} else if (strcmp(w[0], "TIMEOUT") == 0) {
		reply_int(c, 0);
	} else if (strcmp(w[0], "EXIT") == 0) {
		drop_client(c);
	} else if (strcmp(w[0], "READ") == 0) {
		cmd_read(srv, c, w + 1, n - 1);
	} else if (strcmp(w[0], "WRITE") == 0) {
		cmd_write(srv, c, w + 1, n - 1);
	} else if (strcmp(w[0], "OPEN") == 0) {
		cmd_open(srv, c, w, n);
	} else if (strcmp(w[0], "CLOSE") == 0) {
		c->open = false;
		queue_reset(c);
		reply_int(c, 0);
	} else if (strcmp(w[0], "READBUF") == 0) {
		cmd_readbuf(srv, c, w + 1, n - 1);
	} else if (strcmp(w[0], "GETTRIG") == 0) {
		cmd_gettrig(srv, c, w + 1, n - 1);
	} else if (strcmp(w[0], "SETTRIG") == 0) {
		cmd_settrig(srv, c, w + 1, n - 1);
	} else if (strcmp(w[0], "SET") == 0) {
		reply_int(c, 0);
	} else {
		reply_int(c, -EINVAL);
	}
}

void iiod_server_handle(struct iiod_server *srv, int fd)
{
	struct client *c = NULL;
	char buf[4096];
	ssize_t got;

	if (fd == srv->listen_fd) {
		int cfd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC), one = 1;

		if (cfd < 0)
			return;
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		for (size_t i = 0; i < CLIENTS_MAX; i++)
			if (srv->clients[i].fd < 0) {
				srv->clients[i].fd = cfd;
				return;
			}
		close(cfd);
		return;
	}
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (srv->clients[i].fd == fd)
			c = &srv->clients[i];
	if (!c)
		return;
	got = recv(fd, buf, sizeof(buf), 0);
	if (got <= 0) {
		drop_client(c);
		return;
	}
	for (ssize_t i = 0; i < got && c->fd >= 0; i++) {
		if (c->in_write) {
			c->write_value[c->write_got++] = buf[i];
			if (c->write_got == c->write_len)
				finish_write(srv, c);
			continue;
		}
		if (buf[i] == '\n') {
			if (c->n > 0 && c->line[c->n - 1] == '\r')
				c->n--;
			c->line[c->n] = '\0';
			c->n = 0;
			execute(srv, c, c->line);
			if (c->fd >= 0 && c->in_write && c->write_len == 0)
				finish_write(srv, c);
		} else if (c->n + 1 < sizeof(c->line)) {
			c->line[c->n++] = buf[i];
		} else {
			drop_client(c);   /* a line no client sends */
		}
	}
}

size_t iiod_server_fds(const struct iiod_server *srv, int *fds, size_t max)
{
	size_t n = 0;

	if (n < max)
		fds[n++] = srv->listen_fd;
	for (size_t i = 0; i < CLIENTS_MAX && n < max; i++)
		if (srv->clients[i].fd >= 0)
			fds[n++] = srv->clients[i].fd;
	return n;
}

unsigned iiod_server_port(const struct iiod_server *srv)
{
	return srv->port;
}

int iiod_server_new(const struct iiod_device *devices, size_t n_devices,
		    const struct iiod_ops *ops, void *ctx, const char *addr, unsigned port,
		    struct iiod_server **ret)
{
	struct iiod_server *srv = calloc(1, sizeof(*srv));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t sl = sizeof(sa);
	int one = 1, r;

	*ret = NULL;
	if (!srv)
		return -ENOMEM;
	srv->devices = devices;
	srv->n_devices = n_devices;
	srv->ops = ops;
	srv->ctx = ctx;
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		srv->clients[i].fd = -1;
	for (size_t t = 0; t < N_TRIGGERS; t++)
		srv->trig_mhz[t] = HRTIMER_DEFAULT_MHZ;
	srv->dev_trigger = malloc((n_devices ? n_devices : 1) * sizeof(*srv->dev_trigger));
	srv->xml = iiod_xml_build(devices, n_devices, triggers, N_TRIGGERS);
	if (!srv->xml || !srv->dev_trigger) {
		free(srv->xml);
		free(srv->dev_trigger);
		free(srv);
		return -ENOMEM;
	}
	for (size_t d = 0; d < n_devices; d++)
		srv->dev_trigger[d] = -1;
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		free(srv->xml);
		free(srv->dev_trigger);
		free(srv);
		return -EINVAL;
	}
	srv->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0)
		goto fail;
	setsockopt(srv->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(srv->listen_fd, 8) != 0 ||
	    getsockname(srv->listen_fd, (struct sockaddr *)&sa, &sl) != 0)
		goto fail;
	srv->port = ntohs(sa.sin_port);
	*ret = srv;
	return 0;
fail:
	r = -errno;
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	free(srv->xml);
	free(srv->dev_trigger);
	free(srv);
	return r;
}

void iiod_server_free(struct iiod_server *srv)
{
	if (!srv)
		return;
	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (srv->clients[i].fd >= 0)
			drop_client(&srv->clients[i]);
	close(srv->listen_fd);
	free(srv->xml);
	free(srv->dev_trigger);
	free(srv);
}

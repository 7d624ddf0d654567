/* The physical resources a bench occupies: see bench_resources() in
 * config.h.  One list serves two purposes, so they cannot disagree: the
 * loader refuses a bench file that puts two instruments (or output lines) on
 * one resource, and the bench lock (rig/engine/lock.c) takes one lock per
 * resource, so that two bench files naming one pump cannot drive it at once.
 *
 * Two spellings of one resource must give one key.  What can be told from
 * the text (and the file system) is normalised here: a serial device that
 * is there by its device number (major:minor), which every node of it
 * shares: the /dev/pts/N a /tmp/pumprig-sim/pump link points to, a
 * /dev/serial/by-id/ name and its /dev/ttyUSBn, and a second node made
 * with mknod for the same device; one not there yet (a link the
 * simulator makes later) by its real path, else as written; an IIO context's URI
 * (ip:host and ip:host:30431; the host's case), a GPIO chip by number,
 * name or /dev path (0, gpiochip0, /dev/gpiochip0).  What needs the device
 * itself is not: an IIO device by name and by id (ads1015, iio:device0), a
 * GPIO chip by label, a GPIO line by name and by offset, and a host by two
 * names or addresses (localhost, 127.0.0.1).  docs/file-formats.md says so. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define IIOD_PORT 30431   /* libiio's network backend, when the URI names none */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* A number without its leading zeros ("007" and "7" are one line). */
static void norm_number(const char *s, char *out, size_t len)
{
	while (s[0] == '0' && s[1])
		s++;
	snprintf(out, len, "%s", s);
}

/* A serial device by its real path, when it exists; else as written. */
static void norm_tty(const char *path, char *out, size_t len)
{
	char *real = realpath(path, NULL);

	snprintf(out, len, "%s", real ? real : path);
	free(real);
}

/* ip:HOST[:PORT] (HOST may be [v6]) with the port made explicit and the host
 * in lower case; other contexts (local:, usb:, serial:) as written. */
static void norm_iio_uri(const char *uri, char *out, size_t len)
{
	const char *h = uri + 3, *port = NULL, *end;
	char host[RIG_TEXT_MAX], portbuf[16];
	bool v6 = false;
	size_t n;

	if (strncmp(uri, "ip:", 3) != 0 || !*h) {
		snprintf(out, len, "%s", uri);
		return;
	}
	if (h[0] == '[' && (end = strchr(h, ']'))) {
		v6 = true;
		h++;
		port = end[1] == ':' ? end + 2 : NULL;
	} else if ((end = strchr(h, ':')) && !strchr(end + 1, ':')) {
		port = end + 1;
	} else {
		v6 = end != NULL;   /* a bare IPv6 address: no port can follow */
		end = h + strlen(h);
	}
	n = (size_t)(end - h) < sizeof(host) ? (size_t)(end - h) : sizeof(host) - 1;
	for (size_t i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)h[i]);
	host[n] = '\0';
	if (port && all_digits(port))
		norm_number(port, portbuf, sizeof(portbuf));
	else if (port && *port)
		snprintf(portbuf, sizeof(portbuf), "%.15s", port);
	else
		snprintf(portbuf, sizeof(portbuf), "%d", IIOD_PORT);
	snprintf(out, len, "ip:%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", portbuf);
}

/* libgpiod's lookup takes a chip by number, name, /dev path or label: the
 * first three name one chip, gpiochipN. */
static void norm_gpio_chip(const char *chip, char *out, size_t len)
{
	char num[RIG_ID_MAX], *real;

	if (all_digits(chip)) {
		norm_number(chip, num, sizeof(num));
		snprintf(out, len, "gpiochip%s", num);
		return;
	}
	if (strncmp(chip, "/dev/", 5) == 0) {
		real = realpath(chip, NULL);
		snprintf(out, len, "%s", strrchr(real ? real : chip, '/') + 1);
		free(real);
		return;
	}
	snprintf(out, len, "%s", chip);
}

struct list {
	struct bench_resource *items;
	size_t n, cap;
};

static struct bench_resource *add(struct list *l, const char *user, int line)
{
	struct bench_resource *r;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct bench_resource *items = realloc(l->items, cap * sizeof(*items));

		if (!items)
			return NULL;
		l->items = items;
		l->cap = cap;
	}
	r = &l->items[l->n++];
	*r = (struct bench_resource){ .line = line };
	snprintf(r->user, sizeof(r->user), "%s", user);
	return r;
}

static int add_tty(struct list *l, const char *user, int line, const char *path)
{
	struct bench_resource *r = add(l, user, line);
	char real[RESOURCE_KEY_MAX - 8];
	struct stat st;
	bool chr;

	if (!r)
		return -ENOMEM;
	norm_tty(path, real, sizeof(real));
	/* stat opens nothing; a device node's path says nothing of which
	 * device it is (mknod makes another anywhere), its number does */
	chr = stat(path, &st) == 0 && S_ISCHR(st.st_mode);
	if (chr)
		snprintf(r->key, sizeof(r->key), "serial|chr:%u:%u", major(st.st_rdev),
			 minor(st.st_rdev));
	else
		snprintf(r->key, sizeof(r->key), "serial|%s", real);
	if (strcmp(real, path) != 0)
		snprintf(r->what, sizeof(r->what), "serial device %.300s (%.300s)", path, real);
	else if (chr)
		snprintf(r->what, sizeof(r->what), "serial device %.300s (character device %u:%u)",
			 path, major(st.st_rdev), minor(st.st_rdev));
	else
		snprintf(r->what, sizeof(r->what), "serial device %s", path);
	return 0;
}

static int add_iio(struct list *l, const char *user, int line, const struct instrument_cfg *ic,
		   const char *channel, bool output)
{
	struct bench_resource *r = add(l, user, line);
	char uri[RIG_TEXT_MAX + 32];

	if (!r)
		return -ENOMEM;
	norm_iio_uri(ic->uri, uri, sizeof(uri));
	snprintf(r->key, sizeof(r->key), "iio|%s|%s|%s|%s", uri, ic->device,
		 output ? "out" : "in", channel);
	snprintf(r->what, sizeof(r->what), "IIO %s channel %s of device %s on %s",
		 output ? "output" : "input", channel, ic->device, ic->uri);
	return 0;
}

static int add_iio_buffer(struct list *l, const char *user, int line,
			  const struct instrument_cfg *ic)
{
	struct bench_resource *r = add(l, user, line);
	char uri[RIG_TEXT_MAX + 32];

	if (!r)
		return -ENOMEM;
	norm_iio_uri(ic->uri, uri, sizeof(uri));
	snprintf(r->key, sizeof(r->key), "iio-buffer|%s|%s", uri, ic->device);
	snprintf(r->what, sizeof(r->what), "the buffer of IIO device %s on %s", ic->device, ic->uri);
	/* iiod hands one device's buffer to all its clients; the kernel, to one
	 * opener: instruments of one bench share it only through iiod */
	r->shared_in_bench = strncmp(uri, "ip:", 3) == 0;
	r->iio_buffer = true;
	r->ic = ic;
	return 0;
}

static int add_gpio(struct list *l, const char *user, int line, const struct instrument_cfg *ic)
{
	struct bench_resource *r = add(l, user, line);
	char chip[RIG_ID_MAX + 16], off[RIG_ID_MAX];

	if (!r)
		return -ENOMEM;
	norm_gpio_chip(ic->device, chip, sizeof(chip));
	if (all_digits(ic->channel))
		norm_number(ic->channel, off, sizeof(off));
	else
		snprintf(off, sizeof(off), "%s", ic->channel);
	snprintf(r->key, sizeof(r->key), "gpio|%s|%s", chip, off);
	snprintf(r->what, sizeof(r->what), "GPIO line %s of chip %s", ic->channel, ic->device);
	return 0;
}

static int add_instrument(struct list *l, const char *user, enum rig_role role,
			  const struct instrument_cfg *ic)
{
	int r = 0;

	if (!ic->present)
		return 0;
	if (strcmp(ic->backend, "pumplink") == 0 || strcmp(ic->backend, "mtsics") == 0)
		return ic->device[0] ? add_tty(l, user, ic->line, ic->device) : 0;
	if (strcmp(ic->backend, "gpiod") == 0)
		return ic->device[0] ? add_gpio(l, user, ic->line, ic) : 0;
	if (strcmp(ic->backend, "iio") != 0 || !ic->uri[0])
		return 0;   /* sim: nothing physical */
	r = add_iio(l, user, ic->line, ic, ic->channel, role == ROLE_VALVE);
	if (r == 0 && ic->channel2[0])
		r = add_iio(l, user, ic->line, ic, ic->channel2, false);
	if (r == 0 && ic->buffered)
		r = add_iio_buffer(l, user, ic->line, ic);
	return r;
}

int bench_resources(const struct bench *b, struct bench_resource **ret, size_t *ret_n)
{
	struct list l = { 0 };
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	for (int role = 0; role < ROLE__COUNT && r == 0; role++)
		r = add_instrument(&l, rig_role_name((enum rig_role)role), (enum rig_role)role,
				   &b->instrument[role]);
	for (size_t i = 0; i < b->n_outputs && r == 0; i++) {
		char user[RIG_ID_MAX + 16];

		snprintf(user, sizeof(user), "output '%s'", b->outputs[i].name);
		r = add_instrument(&l, user, ROLE_VALVE, &b->outputs[i].line);
	}
	if (r == 0 && b->sim_clock_uri[0]) {
		/* two runs stepping one wire simulator's clock would each see the
		 * other's time */
		struct bench_resource *c = add(&l, "sim_clock", 0);
		char uri[RIG_TEXT_MAX + 32];

		if (!c) {
			r = -ENOMEM;
		} else {
			norm_iio_uri(b->sim_clock_uri, uri, sizeof(uri));
			snprintf(c->key, sizeof(c->key), "sim-clock|%s", uri);
			snprintf(c->what, sizeof(c->what), "the wire simulator's clock at %s",
				 b->sim_clock_uri);
		}
	}
	if (r < 0) {
		free(l.items);
		return r;
	}
	*ret = l.items;
	*ret_n = l.n;
	return 0;
}

int bench_check_resources(const struct bench *b, struct diag_list *diags)
{
	struct bench_resource *res;
	size_t n;
	int errors = 0;

	if (bench_resources(b, &res, &n) < 0) {
		diag_add(diags, b->path, 0, "out of memory listing the bench's resources");
		return 1;
	}
	for (size_t j = 0; j < n; j++)
		for (size_t i = 0; i < j; i++) {
			const struct bench_resource *a = &res[i], *c = &res[j];

			if (strcmp(a->key, c->key) != 0 || strcmp(a->user, c->user) == 0 ||
			    a->shared_in_bench)
				continue;
			if (a->iio_buffer)
				diag_add(diags, b->path, c->line, "%s and %s both capture IIO device "
					 "'%s' through a buffer on %s, and the kernel gives a "
					 "device's buffer to one opener only; read one of them by "
					 "attribute (capture = \"attribute\"), or reach the device "
					 "through iiod (uri = \"ip:localhost\"), which shares it",
					 a->user, c->user, a->ic->device, a->ic->uri);
			else
				diag_add(diags, b->path, c->line, "%s is on %s, which %s (line %d) "
					 "uses too; one instrument or output line per physical "
					 "resource: give each its own", c->user, c->what, a->user,
					 a->line);
			errors++;
			break;   /* one report per later user: the first it meets */
		}
	free(res);
	return errors;
}

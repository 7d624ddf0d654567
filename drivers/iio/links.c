/* The iio backend: what went wrong (the account instrument_error_text
 * gives), and what the instruments on one URI know of it (api.c says why). */
#define _GNU_SOURCE   /* strerrorname_np */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

long long iiob_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "No such file or directory (ENOENT)" */
const char *iiob_errno_text(int err)
{
	static char buf[160];
	const char *name = strerrorname_np(err < 0 ? -err : err);

	snprintf(buf, sizeof(buf), "%s (%s)", strerror(err < 0 ? -err : err), name ? name : "?");
	return buf;
}

/* "1 s", "0.5 s" */
const char *iiob_seconds_text(unsigned ms, char *buf, size_t size)
{
	snprintf(buf, size, "%g s", ms / 1000.0);
	return buf;
}

/* ------------------------------------------------- what went wrong -- */

/* The account of the last error each instrument's open or operation
 * returned, for instrument_error_text. */
#define FAILURES_MAX 32
static struct failure failures[FAILURES_MAX];
static unsigned failures_next;

struct failure *iiob_failure_slot(const struct instrument_cfg *ic)
{
	for (size_t i = 0; i < FAILURES_MAX; i++)
		if (failures[i].ic == ic)
			return &failures[i];
	for (size_t i = 0; i < FAILURES_MAX; i++)
		if (!failures[i].ic)
			return &failures[i];
	return &failures[failures_next++ % FAILURES_MAX];
}

/* Records err for ic with its account; returns err. */
int iiob_fail(const struct instrument_cfg *ic, int err, const char *fmt, ...)
{
	struct failure *f = iiob_failure_slot(ic);
	char text[sizeof(f->text)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	f->ic = ic;
	f->err = err;
	memcpy(f->text, text, sizeof(text));
	return err;
}

void iiob_failure_clear(const struct instrument_cfg *ic)
{
	for (size_t i = 0; i < FAILURES_MAX; i++)
		if (failures[i].ic == ic)
			failures[i] = (struct failure){ 0 };
}

const char *iiob_error_text(const struct instrument_cfg *ic, int err, char *buf,
				  size_t size)
{
	for (size_t i = 0; i < FAILURES_MAX; i++)
		if (failures[i].ic == ic && failures[i].err == err) {
			snprintf(buf, size, "%s", failures[i].text);
			return buf;
		}
	return NULL;
}

/* ---------------------------------------------------------- links -- */

static struct link links[LINKS_MAX];

struct link *iiob_link_get(const char *uri)
{
	struct link *free_slot = NULL;

	if (strncmp(uri, "ip:", 3) != 0)
		return NULL;   /* local: no network between rig and the kernel */
	for (size_t i = 0; i < LINKS_MAX; i++) {
		if (strcmp(links[i].uri, uri) == 0) {
			links[i].refs++;
			return &links[i];
		}
		if (!free_slot && links[i].refs == 0)
			free_slot = &links[i];
	}
	if (!free_slot)
		return NULL;   /* more boards than that: each instrument on its own */
	*free_slot = (struct link){ .refs = 1 };
	snprintf(free_slot->uri, sizeof(free_slot->uri), "%s", uri);
	return free_slot;
}

void iiob_link_put(struct link *l)
{
	if (l && l->refs > 0)
		l->refs--;
}

void iiob_link_down(struct link *l, int err, const char *fmt, ...)
{
	va_list ap;

	if (!l)
		return;
	va_start(ap, fmt);
	vsnprintf(l->why, sizeof(l->why), fmt, ap);
	va_end(ap);
	l->err = err;
	l->down = true;
	l->since_ms = iiob_mono_ms();
	l->gen++;
}

/* ---------------------------------------------------- the instrument -- */

/* 0 when the instrument's link has not been found down since it opened;
 * else the link's error (the instrument must be opened again). */
int iiob_link_check(struct instrument *inst)
{
	struct instrument_pdata *p = inst->pdata;
	struct link *l = p->link;

	if (!l || l->gen == p->gen)
		return 0;
	return iiob_fail(inst->cfg, l->err, "%s", l->why);
}

/* The same, for a close: whether the board can still be told anything. */
bool iiob_link_alive(const struct instrument_pdata *p)
{
	return p->ctx && (!p->link || p->link->gen == p->gen);
}

/* After one operation on the link that began at t0_ms and returned r: an
 * error that took the whole bound is the server not answering (libiio 0.24
 * says -EPIPE for a timeout and for a closed connection alike); one that
 * came at once on a broken connection is that.  Either way every
 * instrument on the link learns it.  Returns r, -ETIMEDOUT for no answer. */
int iiob_link_after(struct instrument *inst, int r, long long t0_ms, const char *fmt, ...)
{
	struct instrument_pdata *p = inst->pdata;
	const char *uri = inst->cfg->uri;
	long long took = iiob_mono_ms() - t0_ms;
	char doing[200], t[32];
	va_list ap;

	if (r >= 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(doing, sizeof(doing), fmt, ap);
	va_end(ap);
	if (p->link && (r == -EPIPE || r == -ETIMEDOUT || r == -EAGAIN) &&
	    took >= (long long)p->timeout_ms * 9 / 10) {
		iiob_link_down(p->link, -ETIMEDOUT, "no answer from %s within %s (%s)", uri,
			  iiob_seconds_text(p->timeout_ms, t, sizeof(t)), doing);
		return iiob_fail(inst->cfg, -ETIMEDOUT, "%s", p->link->why);
	}
	if (p->link && (r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN)) {
		iiob_link_down(p->link, r, "the connection to %s broke (%s: %s)", uri, doing,
			  iiob_errno_text(r));
		return iiob_fail(inst->cfg, r, "%s", p->link->why);
	}
	return iiob_fail(inst->cfg, r, "%s: %s", doing, iiob_errno_text(r));
}

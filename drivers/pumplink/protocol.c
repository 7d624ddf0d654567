/* The pump link's line protocol: see protocol.h and docs/pump-link.md. */
#define _GNU_SOURCE  /* strtod_l, newlocale */
#include "protocol.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t pumplink_checksum(const char *body, size_t len)
{
	uint8_t x = 0;

	for (size_t i = 0; i < len; i++)
		x ^= (uint8_t)body[i];
	return x;
}

static int frame(char *buf, size_t size, int body_len)
{
	int n;

	if (body_len < 0 || (size_t)body_len + 6 > size)
		return -ENOSPC;
	n = snprintf(buf + body_len, size - (size_t)body_len, "*%02X\r\n",
		     pumplink_checksum(buf, (size_t)body_len));
	return body_len + n;
}

int pumplink_format_cmd(const struct pumplink_cmd *cmd, char *buf, size_t size)
{
	int n;

	switch (cmd->kind) {
	case PL_RATE:
		n = snprintf(buf, size, "%u RATE %.6f", cmd->seq, cmd->rate_ml_per_h);
		break;
	case PL_BOLUS:
		n = snprintf(buf, size, "%u BOLUS %.6f %.6f%s", cmd->seq, cmd->volume_ml,
			     cmd->rate_ml_per_h, cmd->patient ? " PATIENT" : "");
		break;
	case PL_STOP: n = snprintf(buf, size, "%u STOP", cmd->seq); break;
	case PL_STATUS: n = snprintf(buf, size, "%u STATUS", cmd->seq); break;
	case PL_IDENT: n = snprintf(buf, size, "%u IDENT", cmd->seq); break;
	case PL_REFILL: n = snprintf(buf, size, "%u REFILL %.6f", cmd->seq, cmd->volume_ml); break;
	default: return -EINVAL;
	}
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return frame(buf, size, n);
}

int pumplink_format_reply(const struct pumplink_reply *rep, char *buf, size_t size)
{
	int n;

	switch (rep->kind) {
	case PL_OK: n = snprintf(buf, size, "%u OK", rep->seq); break;
	case PL_ERR: n = snprintf(buf, size, "%u ERR %d %s", rep->seq, rep->err, strerror(rep->err)); break;
	case PL_STATUS_REPLY:
		n = snprintf(buf, size, "%u STATUS %d %d %.6f %X %.6f %.4f %.4f", rep->seq,
			     rep->running, rep->bolus_active, rep->rate_ml_per_h, rep->alarms,
			     rep->delivered_ml, rep->battery_v, rep->reservoir_ml);
		break;
	case PL_IDENT_REPLY:
		if (!pumplink_ident_token_valid(rep->serial) || !pumplink_ident_token_valid(rep->firmware))
			return -EINVAL;
		n = snprintf(buf, size, "%u IDENT %s %s%s", rep->seq, rep->serial, rep->firmware,
			     rep->simulator ? " SIMULATOR" : "");
		break;
	default: return -EINVAL;
	}
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return frame(buf, size, n);
}

bool pumplink_ident_token_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PUMPLINK_IDENT_MAX)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || *s == '*')
			return false;
	return true;
}

/* Checks the "*HH" trailer; returns the body's length or -EBADMSG. */
static int unframe(const char *line, size_t len)
{
	const char *star;
	unsigned x;
	char hex[3];
	char *end;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len < 3 || len >= PUMPLINK_LINE_MAX || memchr(line, '\0', len))
		return -EBADMSG;
	star = line + len - 3;
	if (*star != '*')
		return -EBADMSG;
	hex[0] = star[1];
	hex[1] = star[2];
	hex[2] = '\0';
	if (!((hex[0] >= '0' && hex[0] <= '9') || (hex[0] >= 'A' && hex[0] <= 'F')) ||
	    !((hex[1] >= '0' && hex[1] <= '9') || (hex[1] >= 'A' && hex[1] <= 'F')))
		return -EBADMSG;
	x = (unsigned)strtoul(hex, &end, 16);
	if (x != pumplink_checksum(line, (size_t)(star - line)))
		return -EBADMSG;
	return (int)(star - line);
}

/* Splits the body into at most max words (copied into store). */
static int words(const char *body, size_t len, char *store, size_t store_size, char **w,
		 int max)
{
	int n = 0;
	char *save = NULL;

	if (len >= store_size)
		return -EINVAL;
	memcpy(store, body, len);
	store[len] = '\0';
	for (char *t = strtok_r(store, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == max)
			return -EINVAL;   /* trailing text */
		w[n++] = t;
	}
	return n;
}

static int num(const char *s, double lo, double hi, double *ret)
{
	static locale_t c_locale;
	char *end;
	double v;

	if (!c_locale)
		c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '+' ||
		      *p == 'e' || *p == 'E'))
			return -EINVAL;
	v = c_locale ? strtod_l(s, &end, c_locale) : strtod(s, &end);
	if (end == s || *end || !isfinite(v) || v < lo || v > hi)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int seq_of(const char *s, unsigned *ret)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end || v > 999999)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

int pumplink_parse_cmd(const char *line, size_t len, struct pumplink_cmd *ret)
{
	char store[PUMPLINK_LINE_MAX], *w[5];
	int body = unframe(line, len), n;

	if (body < 0)
		return body;
	n = words(line, (size_t)body, store, sizeof(store), w, 5);
	if (n < 2 || seq_of(w[0], &ret->seq) < 0)
		return -EINVAL;
	ret->rate_ml_per_h = 0;
	ret->volume_ml = 0;
	ret->patient = false;
	if (strcmp(w[1], "RATE") == 0 && n == 3) {
		ret->kind = PL_RATE;
		return num(w[2], 0, 1000, &ret->rate_ml_per_h);
	}
	if (strcmp(w[1], "BOLUS") == 0 && (n == 4 || (n == 5 && strcmp(w[4], "PATIENT") == 0))) {
		ret->kind = PL_BOLUS;
		ret->patient = n == 5;
		if (num(w[2], 0, 1000, &ret->volume_ml) < 0)
			return -EINVAL;
		return num(w[3], 0, 1000, &ret->rate_ml_per_h);
	}
	if (strcmp(w[1], "REFILL") == 0 && n == 3) {
		ret->kind = PL_REFILL;
		return num(w[2], 0, 1000, &ret->volume_ml);
	}
	if (strcmp(w[1], "STOP") == 0 && n == 2) {
		ret->kind = PL_STOP;
		return 0;
	}
	if (strcmp(w[1], "STATUS") == 0 && n == 2) {
		ret->kind = PL_STATUS;
		return 0;
	}
	if (strcmp(w[1], "IDENT") == 0 && n == 2) {
		ret->kind = PL_IDENT;
		return 0;
	}
	if (strcmp(w[1], "RATE") == 0 || strcmp(w[1], "BOLUS") == 0 || strcmp(w[1], "STOP") == 0 ||
	    strcmp(w[1], "STATUS") == 0 || strcmp(w[1], "IDENT") == 0 || strcmp(w[1], "REFILL") == 0)
		return -EINVAL;
	return -ENOMSG;
}

int pumplink_parse_reply(const char *line, size_t len, struct pumplink_reply *ret)
{
	char store[PUMPLINK_LINE_MAX], *w[32];
	int body = unframe(line, len), n;
	double v;

	if (body < 0)
		return body;
	n = words(line, (size_t)body, store, sizeof(store), w, 32);
	if (n < 2 || seq_of(w[0], &ret->seq) < 0)
		return -EINVAL;
	if (strcmp(w[1], "OK") == 0) {
		ret->kind = PL_OK;
		return n == 2 ? 0 : -EINVAL;
	}
	if (strcmp(w[1], "ERR") == 0) {
		ret->kind = PL_ERR;
		if (n < 3 || num(w[2], 1, 4095, &v) < 0 || v != floor(v))
			return -EINVAL;
		ret->err = (int)v;
		return 0;   /* the rest is text for people */
	}
	if (strcmp(w[1], "STATUS") == 0) {
		char *end;
		unsigned long alarms;

		ret->kind = PL_STATUS_REPLY;
		if (n != 9)
			return -EINVAL;
		if (strcmp(w[2], "0") && strcmp(w[2], "1"))
			return -EINVAL;
		if (strcmp(w[3], "0") && strcmp(w[3], "1"))
			return -EINVAL;
		ret->running = w[2][0] == '1';
		ret->bolus_active = w[3][0] == '1';
		alarms = strtoul(w[5], &end, 16);
		if (*end || end == w[5] || alarms > 0xFF)
			return -EINVAL;
		ret->alarms = (uint32_t)alarms;
		if (num(w[4], 0, 1000, &ret->rate_ml_per_h) < 0 ||
		    num(w[6], 0, 1e6, &ret->delivered_ml) < 0 ||
		    num(w[7], 0, 100, &ret->battery_v) < 0 ||
		    num(w[8], 0, 1e6, &ret->reservoir_ml) < 0)
			return -EINVAL;
		return 0;
	}
	if (strcmp(w[1], "IDENT") == 0) {
		ret->kind = PL_IDENT_REPLY;
		/* a pump says who it is in two words; rig's simulator adds a
		 * third, so that a record made on it can never pass for a real
		 * bench's (docs/pump-link.md) */
		if ((n != 4 && (n != 5 || strcmp(w[4], "SIMULATOR") != 0)) ||
		    !pumplink_ident_token_valid(w[2]) || !pumplink_ident_token_valid(w[3]))
			return -EINVAL;
		ret->simulator = n == 5;
		memcpy(ret->serial, w[2], strlen(w[2]) + 1);
		memcpy(ret->firmware, w[3], strlen(w[3]) + 1);
		return 0;
	}
	return -ENOMSG;
}

int pumplink_assembler_push(struct pumplink_assembler *a, char c, const char **ret_line)
{
	if (c == '\n') {
		bool overflow = a->overflow;

		if (a->n > 0 && a->buf[a->n - 1] == '\r')
			a->n--;
		a->buf[a->n] = '\0';
		a->n = 0;
		a->overflow = false;
		if (overflow)
			return -EMSGSIZE;
		*ret_line = a->buf;
		return 1;
	}
	if (a->overflow)
		return 0;
	if (a->n + 1 >= sizeof(a->buf)) {
		a->overflow = true;
		return 0;
	}
	a->buf[a->n++] = c;
	return 0;
}

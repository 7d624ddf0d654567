/* Text for the pages: a growing buffer, escaping for HTML and URLs, and the
 * few ways the pages write numbers, times and verdicts. */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rig/base/text.h"

void buf_free(struct buf *b)
{
	free(b->s);
	*b = (struct buf){ 0 };
}

static bool reserve(struct buf *b, size_t more)
{
	size_t cap;
	char *s;

	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	s = realloc(b->s, cap);
	if (!s) {
		b->oom = true;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

void buf_putn(struct buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void buf_put(struct buf *b, const char *s)
{
	buf_putn(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* once into the room there is (nearly always enough), again if not */
	if (!reserve(b, 256))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->s[b->len] = '\0';
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (!reserve(b, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void buf_html(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, run = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = text_utf8_char(p + i, len - i, &cp);
		const char *rep = NULL;
		char hex[8];

		if (n == 0)
			rep = "\xef\xbf\xbd";             /* U+FFFD */
		else if (cp == '&')
			rep = "&amp;";
		else if (cp == '<')
			rep = "&lt;";
		else if (cp == '>')
			rep = "&gt;";
		else if (cp == '"')
			rep = "&quot;";
		else if (cp == '\'')
			rep = "&#39;";
		else if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7f ||
			 (cp >= 0x80 && cp < 0xa0)) {
			snprintf(hex, sizeof(hex), "\\x%02X", (unsigned)(cp & 0xff));
			rep = hex;
		}
		if (!rep) {
			i += n;
			run += n;
			continue;
		}
		buf_putn(b, s + i - run, run);
		run = 0;
		buf_put(b, rep);
		i += n ? n : 1;
	}
	buf_putn(b, s + i - run, run);
}

void buf_url_path(struct buf *b, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == '/') {
			buf_putn(b, (const char *)p, 1);
		} else {
			char e[3] = { '%', hexd[*p >> 4], hexd[*p & 15] };

			buf_putn(b, e, 3);
		}
	}
}

const char *fmt_num(double v, char buf[32])
{
	if (!isfinite(v))
		return "-";
	snprintf(buf, 32, "%.4g", v);
	return buf;
}

const char *fmt_u(double u, char buf[32])
{
	if (!isfinite(u))
		return "-";
	snprintf(buf, 32, "%.2g", u);
	return buf;
}

const char *fmt_utc(const char *utc, char buf[32])
{
	if (strlen(utc) == 20 && utc[10] == 'T' && utc[19] == 'Z')
		snprintf(buf, 32, "%.10s %.8sZ", utc, utc + 11);
	else
		snprintf(buf, 32, "%.31s", utc);
	return buf;
}

const char *fmt_day(const char *utc, char buf[32])
{
	snprintf(buf, 32, "%.10s", utc);
	return buf;
}

const char *fmt_duration(double s, char buf[32])
{
	if (!isfinite(s) || s < 0)
		return "-";
	if (s < 60)
		snprintf(buf, 32, "%.1f s", s);
	else if (s < 3600)
		snprintf(buf, 32, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60));
	else
		snprintf(buf, 32, "%d h %02d min", (int)(s / 3600), (int)fmod(s / 60, 60));
	return buf;
}

bool parse_utc(const char *s, time_t *ret)
{
	struct tm tm = { 0 };
	int y, mo, d, h = 0, mi = 0, sec = 0;
	char tail;

	if (strlen(s) == 10) {
		if (sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3)
			return false;
	} else if (strlen(s) != 20 ||
		   sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%c", &y, &mo, &d, &h, &mi, &sec, &tail) != 6) {
		return false;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*ret = timegm(&tm);
	return true;
}

void put_sim_mark(struct buf *b, const struct history_ov_run *run)
{
	if (*run->sim_mark)
		buf_printf(b, " <span class=\"v sim\" title=\"run on a %s bench: not verification "
			      "evidence\">%s</span>", !strcmp(run->sim_mark, "SIMULATED") ? "simulated"
			   : "wire-simulated", run->sim_mark);
}

/* a pass with deviations is said so, as the report's page 1 says it: a
 * reviewer reads the deviations before signing */
const char *run_verdict_words(const struct history_ov_run *run)
{
	return !strcmp(run->verdict, "pass") && run_has_deviations(run) ? run->verdict_text
									: run->verdict;
}

void put_run_verdict(struct buf *b, const struct history_ov_run *run)
{
	put_verdict(b, run_verdict_words(run));
	put_sim_mark(b, run);
}

bool run_has_deviations(const struct history_ov_run *run)
{
	return run->verdict_text && !strncmp(run->verdict_text, "pass with deviations", 20);
}

void put_verdict(struct buf *b, const char *v)
{
	const char *cls = "other", *icon = "\xe2\x80\x93";   /* – */

	if (!strncmp(v, "pass", 4))   /* "pass", "pass with deviations" */
		cls = "pass", icon = "\xe2\x9c\x93";            /* ✓ */
	else if (!strncmp(v, "fail", 4))
		cls = "fail", icon = "\xe2\x9c\x97";            /* ✗ */
	else if (!strcmp(v, "inconclusive"))
		cls = "inc", icon = "?";
	else if (!strcmp(v, "incomplete") || !strcmp(v, "not judged"))
		cls = "inc", icon = "!";
	buf_printf(b, "<span class=\"v %s\">%s ", cls, icon);
	if (!strcmp(cls, "fail"))
		buf_put(b, "FAIL");
	buf_html(b, !strcmp(cls, "fail") ? v + 4 : *v ? v : "unknown");
	buf_put(b, "</span>");
}

void slug(const char *s, char ret[96])
{
	static const char hexd[] = "0123456789abcdef";
	const unsigned char *p;
	uint64_t hash = 1469598103934665603ull;   /* FNV-1a */
	size_t o = 0;

	for (p = (const unsigned char *)s; *p; p++) {
		hash = (hash ^ *p) * 1099511628211ull;
		if (o >= 70)
			continue;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || (*p == '.' && o > 0)) {
			ret[o++] = (char)*p;
		} else {
			ret[o++] = '_';
			ret[o++] = hexd[*p >> 4];
			ret[o++] = hexd[*p & 15];
		}
	}
	if (o >= 70 || o == 0) {
		/* cut, or empty: the hash of the whole keeps it one of a kind */
		snprintf(ret + o, 96 - o, "~%016llx", (unsigned long long)hash);
		return;
	}
	ret[o] = '\0';
}

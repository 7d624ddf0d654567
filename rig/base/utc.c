/* Wall-clock dates and times in UTC.  See utc.h. */
#include "utc.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

int64_t rig_utc_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec;
}

int64_t rig_utc_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int to_tm(int64_t unix_s, struct tm *tm)
{
	time_t t = (time_t)unix_s;

	if ((int64_t)t != unix_s || !gmtime_r(&t, tm))
		return -EOVERFLOW;
	return 0;
}

int rig_utc_format(int64_t unix_s, const char *fmt, char *buf, size_t len)
{
	struct tm tm;
	int r = to_tm(unix_s, &tm);

	if (len > 0)
		buf[0] = '\0';
	if (r < 0)
		return r;
	if (len == 0 || strftime(buf, len, fmt, &tm) == 0) {
		if (len > 0)
			buf[0] = '\0';
		return -ERANGE;
	}
	return 0;
}

const char *rig_utc_text(int64_t unix_s, const char *fmt, char *buf, size_t len)
{
	if (rig_utc_format(unix_s, fmt, buf, len) < 0)
		snprintf(buf, len, "unknown");
	return buf;
}

const char *rig_utc_now_format(const char *fmt, char *buf, size_t len)
{
	return rig_utc_text(rig_utc_now(), fmt, buf, len);
}

const char *rig_utc_now_iso(char buf[RIG_UTC_ISO_LEN])
{
	return rig_utc_text(rig_utc_now(), RIG_UTC_ISO, buf, RIG_UTC_ISO_LEN);
}

int64_t rig_utc_plus_year(int64_t unix_s)
{
	struct tm tm;

	if (to_tm(unix_s, &tm) < 0)
		return unix_s;
	tm.tm_year += 1;
	if (tm.tm_mon == 1 && tm.tm_mday == 29)
		tm.tm_mday = 28;
	return (int64_t)timegm(&tm);
}

/* Wall-clock dates and times in UTC, as every record states them.
 *
 * Seconds since the epoch are int64_t here, never time_t or long: on the 32-bit
 * boards (armhf) both were 32 bits in Debian 12's userspace, so a time after
 * 2038-01-19T03:14:07Z did not fit. The build asks glibc for a 64-bit time_t
 * everywhere (CMakeLists.txt: _TIME_BITS=64); these functions also refuse,
 * rather than wrap, a time their time_t cannot hold. */
#ifndef RIG_BASE_UTC_H
#define RIG_BASE_UTC_H

#include <stddef.h>
#include <stdint.h>

/* The wall clock now, in seconds since the epoch. */
int64_t rig_utc_now(void);

/* The wall clock now, in nanoseconds since the epoch (0 when unreadable):
 * orders moments within one second, as runs of a simulated night start. */
int64_t rig_utc_now_ns(void);

/* Formats unix_s with strftime's fmt, in UTC, into buf: 0, -EOVERFLOW for a
 * time this build's time_t cannot hold, -ERANGE for a buf too small (buf then
 * holds ""). */
int rig_utc_format(int64_t unix_s, const char *fmt, char *buf, size_t len);

/* rig_utc_format, or "unknown" in buf when it fails.  Returns buf. */
const char *rig_utc_text(int64_t unix_s, const char *fmt, char *buf, size_t len);

/* rig_utc_text of now. */
const char *rig_utc_now_format(const char *fmt, char *buf, size_t len);

/* How every record states a moment: ISO 8601 in UTC to the second,
 * "2026-12-06T18:41:47Z", in a buffer of RIG_UTC_ISO_LEN. */
#define RIG_UTC_ISO "%Y-%m-%dT%H:%M:%SZ"
#define RIG_UTC_ISO_LEN 32
const char *rig_utc_now_iso(char buf[RIG_UTC_ISO_LEN]);

/* One year later (the same month and day; 29 February to 28 February). */
int64_t rig_utc_plus_year(int64_t unix_s);

#endif

/* One time type for the whole program: signed 64-bit nanoseconds.
 *
 * Run time starts at 0 when a run starts, on either clock.  int64 nanoseconds
 * cover +-292 years, so a 7-year battery projection still fits. */
#ifndef RIG_RTIME_H
#define RIG_RTIME_H

#include <stdint.h>
#include <math.h>

typedef int64_t rig_ns;

#define RIG_NS_PER_US  INT64_C(1000)
#define RIG_NS_PER_MS  INT64_C(1000000)
#define RIG_NS_PER_S   INT64_C(1000000000)
#define RIG_NS_PER_MIN (INT64_C(60) * RIG_NS_PER_S)
#define RIG_NS_PER_H   (INT64_C(3600) * RIG_NS_PER_S)
#define RIG_NS_PER_DAY (INT64_C(86400) * RIG_NS_PER_S)
#define RIG_NS_MAX     INT64_MAX

static inline double rig_ns_to_s(rig_ns t_ns) { return (double)t_ns / 1e9; }
static inline double rig_ns_to_h(rig_ns t_ns) { return (double)t_ns / 3.6e12; }
static inline rig_ns rig_s_to_ns(double s) { return (rig_ns)llround(s * 1e9); }

#endif

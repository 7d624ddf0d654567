/* The calibration gate.  See calgate.h. */
#include "calgate.h"

#include "rig/base/utc.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void calgate_today_utc(char ret[UTC_DATE_LEN + 1])
{
	/* UTC, like every time pumprig records: a calibration due on the 25th
	 * is still valid on the 25th everywhere, and overdue from the 26th. */
	rig_utc_now_format("%Y-%m-%d", ret, UTC_DATE_LEN + 1);
}

bool calgate_instrument_expired(const struct instrument_cfg *ic, const char *today)
{
	/* The loader accepts only YYYY-MM-DD, so text order is date order. */
	return ic->present && ic->cal.due[0] && strcmp(ic->cal.due, today) < 0;
}

size_t calgate_expired(const struct bench *bench, const char *today,
		       struct cal_expired ret[ROLE__COUNT])
{
	size_t n = 0;

	for (int role = 0; role < ROLE__COUNT; role++) {
		const struct instrument_cfg *ic = &bench->instrument[role];

		if (!calgate_instrument_expired(ic, today))
			continue;
		ret[n] = (struct cal_expired){ .role = (enum rig_role)role, .line = ic->line };
		snprintf(ret[n].serial, sizeof(ret[n].serial), "%s", ic->serial);
		snprintf(ret[n].due, sizeof(ret[n].due), "%s", ic->cal.due);
		n++;
	}
	return n;
}

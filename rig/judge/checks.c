/* The one list of every check a sequence can ask for (check.h). */
#include "check.h"

static const struct check_ops *const checks[] = {
	&check_dose_ops,
	&check_flow_ops,
	&check_occlusion_ops,
	&check_battery_ops,
	&check_bolus_ops,
	&check_reservoir_ops,
};

const struct check_ops *check_ops_find(enum check_kind kind)
{
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (checks[i]->kind == kind)
			return checks[i];
	return NULL;
}

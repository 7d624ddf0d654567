/* Who runs a run: the operator, named on the command line or by the
 * station, never taken from the login. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rig/base/name.h"
#include "rig/base/text.h"
#include "rig/cli/cli.h"

/* The operator: --operator, else the station's setting $PUMPRIG_OPERATOR.
 * Never the login name: a record signed off under "root" or a shared
 * account names nobody (21 CFR 11.50), so a run with neither is refused. */
static const char *operator_resolve(const char *given)
{
	const char *env = getenv("PUMPRIG_OPERATOR");

	if (given)
		return given;
	return env && *env ? env : NULL;
}

int operator_require(const char *cmd, const char *given, const char **ret)
{
	const char *who = operator_resolve(given);
	struct name_fault nf;

	*ret = who;
	if (!who) {
		fprintf(stderr, "rig %s: no operator: give --operator NAME, or set the station's "
			"operator in $PUMPRIG_OPERATOR; rig does not take the login name (a record "
			"must name a person); nothing was done\n", cmd);
		return -EINVAL;
	}
	if (!text_one_line(who, RIG_TEXT_MAX)) {   /* the record's and every report's */
		fprintf(stderr, "rig %s: the operator (\"%s\": --operator, else $PUMPRIG_OPERATOR) "
			"must be one line of UTF-8 text without control characters, 1 to %d bytes\n",
			cmd, TERM_SAFE(who), RIG_TEXT_MAX - 1);
		return -EINVAL;
	}
	if (!name_check(who, &nf)) {   /* a name that could pass for another's */
		char w[160];

		fprintf(stderr, "rig %s: the operator (\"%s\": --operator, else $PUMPRIG_OPERATOR): "
			"%s; a name is written with ordinary spaces and visible characters, each "
			"word in one script; nothing was done\n", cmd, TERM_SAFE(who),
			name_fault_describe(&nf, w, sizeof(w)));
		return -EINVAL;
	}
	return 0;
}

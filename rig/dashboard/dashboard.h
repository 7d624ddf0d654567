/* The lab's morning view: a static site generated from the run history
 * (docs/dashboard.md).  Plain HTML files with one small inline style sheet
 * and inline SVG charts: no script, no font, nothing fetched when a page is
 * viewed (each page's Content-Security-Policy forbids it), so the site opens
 * from file:// and from any static web server, offline.
 *
 *   index.html            last night per bench, open drift flags first, the
 *                         devices x checks matrix, what changed since the
 *                         run before
 *   device/<serial>.html  each check's control chart, its runs and their
 *                         reports
 *   bench/<id>.html       the bench's health over time, its instruments and
 *                         calibrations, its nights
 *
 * Library code: nothing printed; errors come back as a negative errno and
 * a sentence in err. */
#ifndef RIG_DASHBOARD_H
#define RIG_DASHBOARD_H

#include <stddef.h>
#include <time.h>

#include "rig/history/history.h"

struct dashboard_opts {
	const char *out_dir;         /* made when missing; pages replace older ones */
	/* NULL: each run's report and folder linked by a relative path, when
	 * they are on this machine.  Else every run linked at
	 * <runs_url>/<run folder name>/..., "{bench}" in it replaced by the
	 * run's bench id: the lab serves its runs folders there. */
	const char *runs_url;
	const char *title;           /* NULL: "pumprig: the lab's morning view" */
	time_t now;                  /* 0: time(NULL); calibrations due are counted from it */
	const struct spc_params *spc;   /* NULL: spc_params_default() */
};

struct dashboard_result {
	size_t pages, runs, devices, benches, nights, open_flags;
	size_t front_bytes, total_bytes;
	double read_s, write_s;      /* reading the store, writing the pages (wall time) */
};

/* Whether the options can make a site (out_dir given and not a file, a
 * runs_url a link can carry), before anything is read or written: 0, or
 * -EINVAL with err said (file:line style is not needed: they are options). */
int dashboard_check_opts(const struct dashboard_opts *o, char *err, size_t errlen);

/* Writes the site for everything h holds.  -EINVAL for options that
 * cannot make a site (out_dir a file, a runs_url with characters a link
 * cannot carry), with err said and nothing written. */
int dashboard_generate(struct history *h, const struct dashboard_opts *o,
		       struct dashboard_result *ret, char *err, size_t errlen);

#endif

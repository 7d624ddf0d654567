/* Private to rig/dashboard/: the site being generated (site.c), the text
 * buffer and HTML helpers (html.c), the charts (svg.c) and the pages
 * (front.c, device.c, bench.c). */
#ifndef RIG_DASHBOARD_INTERNAL_H
#define RIG_DASHBOARD_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dashboard.h"
#include "rig/history/overview.h"
#include "rig/judge/results.h"

/* ---------------------------------------------------------------- html.c */

/* A growing text; a failed allocation is remembered (oom) and later writes
 * do nothing, so a page is written whole or reported lost. */
struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

void buf_free(struct buf *b);
void buf_put(struct buf *b, const char *s);
void buf_putn(struct buf *b, const char *s, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text for HTML content or a quoted attribute: & < > " ' escaped, bytes that
 * are not UTF-8 as U+FFFD, control characters other than tab and newline
 * shown as \xNN. */
void buf_html(struct buf *b, const char *s);
/* A path for a URL: every byte but letters, digits, - . _ ~ and / as %XX. */
void buf_url_path(struct buf *b, const char *s);

/* A number as results.json would say it ("-" when not finite), into buf. */
const char *fmt_num(double v, char buf[32]);
/* An uncertainty: two significant digits ("0.034"). */
const char *fmt_u(double u, char buf[32]);
/* "2026-12-06T06:28:23Z" as "2026-12-06 06:28:23Z". */
const char *fmt_utc(const char *utc, char buf[32]);
/* Its day: "2026-12-06". */
const char *fmt_day(const char *utc, char buf[32]);
/* Seconds as "1.2 s", "3 min 4 s", "2 h 5 min". */
const char *fmt_duration(double s, char buf[32]);
/* "YYYY-MM-DD[THH:MM:SSZ]" to a time; false when it is not one. */
bool parse_utc(const char *s, time_t *ret);

/* A verdict in words with an icon, coloured by its class: pass, fail,
 * inconclusive, incomplete, or as it is. */
void put_verdict(struct buf *b, const char *verdict);
/* A run's verdict, and its mark when it ran on a simulated bench. */
void put_run_verdict(struct buf *b, const struct history_ov_run *run);
/* The words of a run's verdict wherever it is shown: "pass with deviations"
 * for such a pass, else its verdict. */
const char *run_verdict_words(const struct history_ov_run *run);
/* The run passed with deviations (its verdict_text says so). */
bool run_has_deviations(const struct history_ov_run *run);
/* The mark of a run from a simulated bench ("" for a real one's). */
void put_sim_mark(struct buf *b, const struct history_ov_run *run);
/* A file name (without .html) for a serial or bench id: letters, digits,
 * '-' and '.' kept, every other byte as _XX; long ones shortened with a
 * hash of the whole. */
void slug(const char *s, char ret[96]);

/* ---------------------------------------------------------------- site.c */

struct site_device {
	const char *serial, *model;
	char slug[96];
	size_t *runs, n_runs;        /* indexes into ov->runs, oldest first */
	size_t *charts, n_charts;    /* indexes into ov->charts */
	size_t n_flags;
	size_t n_sim;                /* its runs from a simulated bench */
};

struct site_bench {
	const char *id;
	char slug[96];
	size_t *runs, n_runs;        /* oldest first */
	size_t *charts, n_charts;    /* bench-health charts */
	size_t *nights, n_nights;    /* indexes into ov->nights, oldest first */
	size_t first_instrument, n_instruments;
	size_t n_flags;
	size_t n_sim;
};

/* What a run's links may point at. */
enum {
	RUN_HAVE_DIR = 1,
	RUN_HAVE_PDF = 2,
	RUN_HAVE_HTML = 4,
	RUN_CHECKED = 8,
};

struct site {
	struct history *h;
	const struct history_overview *ov;
	const struct dashboard_opts *o;
	const struct spc_params *spc;
	char out[PATH_MAX];          /* the output folder, absolute */
	time_t now;
	char now_text[32];
	struct site_device *devices;   /* by serial */
	size_t n_devices;
	struct site_bench *benches;    /* by id */
	size_t n_benches;
	unsigned char *run_have;     /* RUN_HAVE_* per run */
	size_t n_flags;
	size_t n_sim;                /* runs from a simulated bench, of ov->n_runs */
	struct dashboard_result *res;
};

struct site_device *site_device(const struct site *s, const char *serial);
struct site_bench *site_bench(const struct site *s, const char *id);

/* The page frame.  depth: 0 for index.html, 1 for a page in a subfolder;
 * n_sim of its n_runs from a simulated bench: said first, under the title
 * bar, when there are any. */
void page_begin(struct buf *b, const struct site *s, const char *title, int depth,
		size_t n_sim, size_t n_runs);
void page_end(struct buf *b, const struct site *s);
/* Writes b as out/name atomically (a temporary file renamed). */
int page_write(struct site *s, const char *name, const struct buf *b, char *err, size_t errlen);

/* Links to a run's report (PDF, HTML) and folder, from a page at depth;
 * what is not on this machine is said, not linked. */
void put_run_links(struct buf *b, struct site *s, size_t run, int depth);
/* <a href> to a device's or bench's page (and an anchor in it). */
void put_device_link(struct buf *b, const struct site *s, const char *serial, int depth,
		     const char *anchor);
void put_bench_link(struct buf *b, const struct site *s, const char *id, int depth,
		    const char *anchor);
/* "check [window] measurement" of a chart. */
/* A check's or a measurement's name in the report's words ("dose
 * accuracy"), the stored name (dose_accuracy) in its title. */
void put_check_name(struct buf *b, const char *check);
void put_measurement_name(struct buf *b, const char *measurement);
void put_chart_name(struct buf *b, const struct history_ov_chart *c);
/* The anchor of a chart on its page: "c<index>". */
void chart_anchor(const struct site *s, const struct history_ov_chart *c, char ret[32]);

/* ----------------------------------------------------------------- svg.c */

/* The chart as inline SVG (its points, centre, control and specification
 * limits, the baseline, the points where rules hold, the open flags), and
 * the words under it. */
void svg_chart(struct buf *b, const struct site *s, const struct history_ov_chart *c,
	       const char *id);
/* The key to the charts' marks, once per page. */
void svg_legend(struct buf *b);

/* ----------------------------------------------------------- the pages */

int front_page(struct site *s, char *err, size_t errlen);
int device_page(struct site *s, const struct site_device *d, char *err, size_t errlen);
int bench_page(struct site *s, const struct site_bench *bn, char *err, size_t errlen);

/* front.c, for the bench pages too: the instrument whose calibration falls
 * due first among those of the bench's newest run, with how far off. */
void put_next_calibration(struct buf *b, const struct site *s, const struct site_bench *bn);
/* The calibration due date in words, against now: "2028-11-16 (in 711
 * days)", "OVERDUE since ..." */
void put_due(struct buf *b, const struct site *s, const char *due);

#endif

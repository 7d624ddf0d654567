/* The site: the store read once (history_overview), the runs grouped by
 * device and bench, every page written, and what the pages share: the
 * frame and its style sheet, the links between pages and to the runs. */
#include "rig/base/utc.h"
#include "internal.h"
#include "rig/base/wholefile.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- frame */

/* One small style sheet in every page (no file to fetch).  Verdicts carry a
 * word and an icon; colour only repeats them. */
static const char style[] =
	":root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg2:#f6f8fa;--pass:#1a7f37;"
	"--fail:#cf222e;--inc:#9a6700;--flag:#bc4c00;--sim:#8250df}"
	"*{box-sizing:border-box}"
	"body{font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",sans-serif;"
	"color:var(--fg);margin:0 auto;max-width:1240px;padding:0 16px 48px}"
	"header{border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;align-items:baseline;"
	"gap:4px 18px;padding:10px 0}"
	"header .site{font-weight:700}nav{display:flex;flex-wrap:wrap;gap:4px 14px}"
	"a{color:#0550ae}h1{font-size:1.45em;margin:.5em 0 .2em}"
	"h2{font-size:1.18em;margin:1.5em 0 .5em;padding-bottom:3px;border-bottom:1px solid var(--line)}"
	"h3{font-size:1.02em;margin:1.2em 0 .3em}p{margin:.3em 0 .6em}"
	".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin-bottom:.6em}"
	"table{border-collapse:collapse;font-size:.92em}"
	"th,td{padding:4px 9px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top;"
	"white-space:nowrap}th{background:var(--bg2)}td.wrap{white-space:normal;min-width:16em}"
	"td.num{text-align:right;font-variant-numeric:tabular-nums}"
	".v{font-weight:600;white-space:nowrap}.sim{color:var(--sim)}"
	".simbanner{border:2px solid var(--sim);padding:6px 10px;color:var(--sim)}"
	".pass{color:var(--pass)}.fail{color:var(--fail)}"
	".inc{color:var(--inc)}.flag{color:var(--flag)}.other,.muted{color:var(--muted)}"
	".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:14px}"
	".card{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:0}"
	".card h3{margin-top:.2em}.card table{width:100%}"
	"ul.changes{margin:.2em 0 .6em;padding-left:1.3em}"
	".chart{margin:1.4em 0 2em}.chart h3{margin-bottom:.1em}"
	/* a chart keeps 11 px letters at 9 px or more (640 of its 760 units):
	 * on a narrower screen it scrolls in its box, the page does not */
	".plotbox{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}"
	"svg.plot{width:100%;min-width:640px;max-width:820px;height:auto;display:block;"
	"border:1px solid var(--line);"
	"background:#fff}svg.plot text{font:11px system-ui,\"DejaVu Sans\",sans-serif;fill:#444}"
	"svg.plot path{fill:none}svg.plot .grid{stroke:#eaeef2}svg.plot .axis{stroke:#8c959f}"
	"svg.plot .base{fill:#eef1f4}svg.plot .series{fill:none;stroke:#0969da;stroke-width:1.2}"
	"svg.plot .pts{stroke:#0969da;stroke-width:4.5;stroke-linecap:round}"
	"svg.plot .bpts{fill:#fff;stroke:#0969da;stroke-width:1.3}"
	"svg.plot .cl{stroke:#57606a;stroke-width:1;stroke-dasharray:5 3}"
	"svg.plot .centre{stroke:#57606a;stroke-width:1}"
	"svg.plot .spec{stroke:var(--fail);stroke-width:1.2;stroke-dasharray:9 3 2 3}"
	"svg.plot .rule{fill:var(--flag);stroke:#fff;stroke-width:.8}"
	"svg.plot .bad{stroke:var(--fail);stroke-width:2}"
	"svg.plot .zone{fill:none;stroke:var(--flag);stroke-width:1.4;stroke-dasharray:3 2}"
	"svg.plot text.flag{fill:var(--flag);font-weight:600}svg.plot text.specl{fill:var(--fail)}"
	".legend{font-size:.88em;color:var(--muted)}.meta{font-size:.92em}"
	"footer{margin-top:3em;font-size:.85em;color:var(--muted)}"
	"@media (max-width:640px){body{font-size:14px;padding:0 10px 32px}"
	"th,td{padding:3px 6px}.cards{grid-template-columns:1fr}h1{font-size:1.25em}"
	/* a table of few rows and many columns: each row a block, each cell
	 * named by its column */
	"table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}"
	"table.stack tr.head{display:none}table.stack tr{border-bottom:1px solid var(--line);"
	"padding:4px 0}table.stack td{border:0;white-space:normal;text-align:left;padding:1px 4px}"
	"table.stack td[data-label]::before{content:attr(data-label) \": \";color:var(--muted)}}";

void page_begin(struct buf *b, const struct site *s, const char *title, int depth,
		size_t n_sim, size_t n_runs)
{
	const char *up = depth ? "../" : "";

	buf_put(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		   /* nothing is ever fetched: no script, font, image or frame */
		   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		   "style-src 'unsafe-inline'; img-src data:\">\n"
		   "<link rel=\"icon\" href=\"data:,\">\n<title>");
	buf_html(b, title);
	buf_put(b, "</title>\n<style>");
	buf_put(b, style);
	buf_put(b, "</style>\n</head>\n<body>\n<header><span class=\"site\">");
	buf_html(b, s->o->title ? s->o->title : "pumprig: the lab's morning view");
	buf_printf(b, "</span><nav><a href=\"%sindex.html\">Overview</a>"
		      "<a href=\"%sindex.html#flags\">Drift flags</a>"
		      "<a href=\"%sindex.html#nights\">Last night</a>"
		      "<a href=\"%sindex.html#matrix\">Devices</a>"
		      "<a href=\"%sindex.html#benches\">Benches</a></nav></header>\n<main>\n",
		   up, up, up, up, up);
	if (n_sim == 0)
		return;
	buf_put(b, "<p class=\"simbanner\"><strong>SIMULATED BENCH: NOT VERIFICATION "
		   "EVIDENCE.</strong> ");
	if (n_sim == n_runs)
		buf_printf(b, n_runs == 1 ? "The one run" : "All %zu runs", n_runs);
	else
		buf_printf(b, "%zu of the %zu runs", n_sim, n_runs);
	buf_put(b, " this page draws on ran on a simulated or wire-simulated bench; each "
		      "is marked SIMULATED or WIRE-SIMULATED where it appears.</p>\n");
}

void page_end(struct buf *b, const struct site *s)
{
	buf_printf(b, "</main>\n<footer>Generated %s from the run history (%s, %zu runs) by "
		      "<code>rig history dashboard</code>. Every figure comes from a sealed run "
		      "directory; the run's own report is the record.</footer>\n</body>\n</html>\n",
		   s->now_text, s->ov->engine, s->ov->n_runs);
}

int page_write(struct site *s, const char *name, const struct buf *b, char *err, size_t errlen)
{
	char dir[PATH_MAX + 128];
	const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name;
	int r;

	if (b->oom) {
		snprintf(err, errlen, "%s: out of memory writing the page", name);
		return -ENOMEM;
	}
	/* a page in a subfolder is written beside itself, in that folder */
	if (slash)
		snprintf(dir, sizeof(dir), "%s/%.*s", s->out, (int)(slash - name), name);
	else
		snprintf(dir, sizeof(dir), "%s", s->out);
	/* readers of the served site see the old page or the new, whole */
	r = wholefile_replace(dir, base, b->s, b->len);
	if (r < 0) {
		snprintf(err, errlen, "%s/%s: %s", s->out, name, strerror(-r));
		return r;
	}
	s->res->pages++;
	s->res->total_bytes += b->len;
	return 0;
}

/* ---------------------------------------------------------------- links */

void put_device_link(struct buf *b, const struct site *s, const char *serial, int depth,
		     const char *anchor)
{
	const struct site_device *d = site_device(s, serial);

	if (!d) {
		buf_html(b, serial);
		return;
	}
	buf_printf(b, "<a href=\"%sdevice/%s.html%s%s\">", depth ? "../" : "", d->slug,
		   anchor ? "#" : "", anchor ? anchor : "");
	buf_html(b, *serial ? serial : "(no serial)");
	buf_put(b, "</a>");
}

void put_bench_link(struct buf *b, const struct site *s, const char *id, int depth,
		    const char *anchor)
{
	const struct site_bench *bn = site_bench(s, id);

	if (!bn) {
		buf_html(b, id);
		return;
	}
	buf_printf(b, "<a href=\"%sbench/%s.html%s%s\">", depth ? "../" : "", bn->slug,
		   anchor ? "#" : "", anchor ? anchor : "");
	buf_html(b, *id ? id : "(no bench id)");
	buf_put(b, "</a>");
}

static void put_named(struct buf *b, const char *name, const char *words)
{
	if (!strcmp(words, name)) {
		buf_html(b, name);
		return;
	}
	buf_put(b, "<span title=\"");
	buf_html(b, name);
	buf_put(b, "\">");
	buf_html(b, words);
	buf_put(b, "</span>");
}

void put_check_name(struct buf *b, const char *check)
{
	put_named(b, check, check_words(check));
}

void put_measurement_name(struct buf *b, const char *measurement)
{
	char words[128];

	measurement_words(measurement, words, sizeof(words));
	put_named(b, measurement, words);
}

void put_chart_name(struct buf *b, const struct history_ov_chart *c)
{
	if (c->bench)
		buf_put(b, "bench health");
	else
		put_check_name(b, c->check);
	if (*c->window) {
		buf_put(b, " [");
		buf_html(b, c->window);
		buf_put(b, "]");
	}
	buf_put(b, " ");
	put_measurement_name(b, c->measurement);
}

void chart_anchor(const struct site *s, const struct history_ov_chart *c, char ret[32])
{
	snprintf(ret, 32, "c%zu", (size_t)(c - s->ov->charts));
}

/* The path from the folder of a page at depth to the absolute path to,
 * relative when both are on this machine's tree (they always are: both
 * absolute). */
static void put_relative(struct buf *b, const struct site *s, int depth, const char *to)
{
	const char *a = s->out, *t = to;
	size_t common = 0, i, ups = (size_t)depth;

	/* the longest common prefix ending at a '/' of both */
	for (i = 0; a[i] && a[i] == t[i]; i++)
		if (a[i] == '/')
			common = i;
	if (!a[i] && (t[i] == '/' || !t[i]))
		common = i;
	for (i = common; a[i]; i++)
		if (a[i] == '/')
			ups++;
	for (i = 0; i < ups; i++)
		buf_put(b, "../");
	t += common;
	while (*t == '/')
		t++;
	buf_url_path(b, t);
}

static void check_run(struct site *s, size_t run)
{
	const char *dir = s->ov->runs[run].run_dir;
	char path[PATH_MAX + 32];
	struct stat st;
	unsigned char have = RUN_CHECKED;

	if (*dir == '/' && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		have |= RUN_HAVE_DIR;
		snprintf(path, sizeof(path), "%s/report.pdf", dir);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			have |= RUN_HAVE_PDF;
		snprintf(path, sizeof(path), "%s/report.html", dir);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			have |= RUN_HAVE_HTML;
	}
	s->run_have[run] = have;
}

/* The href of a run's file ("" for the folder itself). */
static void put_run_href(struct buf *b, struct site *s, size_t run, int depth, const char *file)
{
	const struct history_ov_run *r = &s->ov->runs[run];
	const char *name = strrchr(r->run_dir, '/');

	name = name ? name + 1 : r->run_dir;
	buf_put(b, "<a href=\"");
	if (s->o->runs_url) {
		const char *u = s->o->runs_url;

		/* the URL as given (checked: nothing that ends an attribute),
		 * {bench} as the run's bench id */
		for (; *u; u++) {
			if (!strncmp(u, "{bench}", 7)) {
				buf_url_path(b, r->bench_id);
				u += 6;
			} else {
				buf_put(b, *u == '&' ? "&amp;" : (char[]){ *u, 0 });
			}
		}
		if (u == s->o->runs_url || u[-1] != '/')
			buf_put(b, "/");
		buf_url_path(b, name);
	} else {
		put_relative(b, s, depth, r->run_dir);
	}
	buf_printf(b, "/%s\">", file);
}

void put_run_links(struct buf *b, struct site *s, size_t run, int depth)
{
	unsigned char have;

	if (!(s->run_have[run] & RUN_CHECKED))
		check_run(s, run);
	have = s->o->runs_url ? RUN_HAVE_DIR | RUN_HAVE_PDF | RUN_HAVE_HTML : s->run_have[run];
	if (!(have & RUN_HAVE_DIR)) {
		buf_put(b, "<span class=\"muted\">not on this machine</span>");
		return;
	}
	if (have & RUN_HAVE_PDF) {
		put_run_href(b, s, run, depth, "report.pdf");
		buf_put(b, "report (PDF)</a> ");
	}
	if (have & RUN_HAVE_HTML) {
		put_run_href(b, s, run, depth, "report.html");
		buf_put(b, "(HTML)</a> ");
	}
	put_run_href(b, s, run, depth, "");
	buf_put(b, "folder</a>");
}

/* ------------------------------------------------------------- grouping */

struct site_device *site_device(const struct site *s, const char *serial)
{
	size_t lo = 0, hi = s->n_devices;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->devices[mid].serial, serial);

		if (!c)
			return &s->devices[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct site_bench *site_bench(const struct site *s, const char *id)
{
	size_t lo = 0, hi = s->n_benches;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->benches[mid].id, id);

		if (!c)
			return &s->benches[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const struct history_overview *order_ov;   /* qsort has no context argument */

static int cmp_run_time(const void *a, const void *b)
{
	return history_ov_run_cmp(&order_ov->runs[*(const size_t *)a],
				  &order_ov->runs[*(const size_t *)b]);
}

/* The distinct strings among n, sorted, into a malloc'd array. */
static const char **distinct(const char **v, size_t n, size_t *ret_n)
{
	size_t i, o = 0;

	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++)
		if (!o || strcmp(v[o - 1], v[i]) != 0)
			v[o++] = v[i];
	*ret_n = o;
	return v;
}

#define PUSH(arr, n, v)                                                                      \
	do {                                                                                 \
		(arr)[(n)++] = (v);                                                          \
	} while (0)

static int group(struct site *s)
{
	const struct history_overview *ov = s->ov;
	const char **names = calloc(ov->n_runs + ov->n_nights + 1, sizeof(*names));
	size_t i, n;
	size_t *idx;

	if (!names)
		return -ENOMEM;
	/* devices */
	for (i = 0; i < ov->n_runs; i++)
		names[i] = ov->runs[i].device_serial;
	distinct(names, ov->n_runs, &n);
	s->devices = calloc(n ? n : 1, sizeof(*s->devices));
	if (!s->devices)
		goto oom;
	for (i = 0; i < n; i++) {
		s->devices[i].serial = names[i];
		slug(names[i], s->devices[i].slug);
	}
	s->n_devices = n;
	/* benches: of the runs and of the nights */
	for (i = 0; i < ov->n_runs; i++)
		names[i] = ov->runs[i].bench_id;
	for (i = 0; i < ov->n_nights; i++)
		names[ov->n_runs + i] = ov->nights[i].bench_id;
	distinct(names, ov->n_runs + ov->n_nights, &n);
	s->benches = calloc(n ? n : 1, sizeof(*s->benches));
	if (!s->benches)
		goto oom;
	for (i = 0; i < n; i++) {
		s->benches[i].id = names[i];
		slug(names[i], s->benches[i].slug);
	}
	s->n_benches = n;
	free(names);
	names = NULL;

	/* each its runs, oldest first */
	idx = calloc(ov->n_runs ? ov->n_runs : 1, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < ov->n_runs; i++)
		idx[i] = i;
	order_ov = ov;
	qsort(idx, ov->n_runs, sizeof(*idx), cmp_run_time);
	for (i = 0; i < ov->n_runs; i++) {
		struct site_device *d = site_device(s, ov->runs[idx[i]].device_serial);
		struct site_bench *bn = site_bench(s, ov->runs[idx[i]].bench_id);

		d->n_runs++;
		bn->n_runs++;
	}
	for (i = 0; i < s->n_devices; i++)
		if (!(s->devices[i].runs = calloc(s->devices[i].n_runs + 1, sizeof(size_t))))
			goto oom_idx;
	for (i = 0; i < s->n_benches; i++)
		if (!(s->benches[i].runs = calloc(s->benches[i].n_runs + 1, sizeof(size_t))))
			goto oom_idx;
	for (i = 0; i < s->n_devices; i++)
		s->devices[i].n_runs = 0;
	for (i = 0; i < s->n_benches; i++)
		s->benches[i].n_runs = 0;
	for (i = 0; i < ov->n_runs; i++) {
		const struct history_ov_run *r = &ov->runs[idx[i]];
		struct site_device *d = site_device(s, r->device_serial);
		struct site_bench *bn = site_bench(s, r->bench_id);

		PUSH(d->runs, d->n_runs, idx[i]);
		PUSH(bn->runs, bn->n_runs, idx[i]);
		if (*r->sim_mark)
			d->n_sim++, bn->n_sim++, s->n_sim++;
		d->model = r->device_model;    /* the newest run's word */
	}
	free(idx);

	/* charts: a device's own series, a bench's health */
	for (i = 0; i < ov->n_charts; i++) {
		const struct history_ov_chart *c = &ov->charts[i];
		struct site_device *d = c->bench ? NULL : site_device(s, c->subject);
		struct site_bench *bn = c->bench ? site_bench(s, c->subject) : NULL;
		size_t **list = d ? &d->charts : bn ? &bn->charts : NULL;
		size_t *cnt = d ? &d->n_charts : bn ? &bn->n_charts : NULL;
		size_t *nl;

		if (!list)
			continue;
		nl = realloc(*list, (*cnt + 1) * sizeof(**list));
		if (!nl)
			return -ENOMEM;
		*list = nl;
		PUSH(*list, *cnt, i);
		if (d)
			d->n_flags += c->n_flags;
		else
			bn->n_flags += c->n_flags;
		s->n_flags += c->n_flags;
	}
	/* nights (the overview has them by bench, then start) and instruments */
	for (i = 0; i < ov->n_nights; i++) {
		struct site_bench *bn = site_bench(s, ov->nights[i].bench_id);
		size_t *nl = realloc(bn->nights, (bn->n_nights + 1) * sizeof(*nl));

		if (!nl)
			return -ENOMEM;
		bn->nights = nl;
		PUSH(bn->nights, bn->n_nights, i);
	}
	for (i = 0; i < ov->n_instruments; i++) {
		struct site_bench *bn = site_bench(s, ov->instruments[i].bench_id);

		if (!bn)
			continue;
		if (!bn->n_instruments)
			bn->first_instrument = i;
		bn->n_instruments++;
	}
	return 0;
oom_idx:
	free(idx);
	return -ENOMEM;
oom:
	free(names);
	return -ENOMEM;
}

static void site_free(struct site *s)
{
	size_t i;

	for (i = 0; i < s->n_devices; i++) {
		free(s->devices[i].runs);
		free(s->devices[i].charts);
	}
	for (i = 0; i < s->n_benches; i++) {
		free(s->benches[i].runs);
		free(s->benches[i].charts);
		free(s->benches[i].nights);
	}
	free(s->devices);
	free(s->benches);
	free(s->run_have);
}

/* ----------------------------------------------------------- generating */

/* A runs URL goes into href attributes as it is: it may hold what a URL
 * holds, not what would end the attribute or the tag. */
static bool runs_url_ok(const char *u)
{
	const unsigned char *p;
	size_t scheme = strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");

	if (!*u)
		return false;
	/* a scheme, when there is one, is one a browser fetches a page by:
	 * never javascript: or data: in a link */
	if (u[scheme] == ':' && strncasecmp(u, "https:", 6) != 0 && strncasecmp(u, "http:", 5) != 0 &&
	    strncasecmp(u, "file:", 5) != 0)
		return false;
	for (p = (const unsigned char *)u; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"'<>\\`", *p))
			return false;
	return true;
}

int dashboard_check_opts(const struct dashboard_opts *o, char *err, size_t errlen)
{
	struct stat st;

	if (!o->out_dir || !*o->out_dir) {
		snprintf(err, errlen, "no folder for the site; allowed: --out DIR");
		return -EINVAL;
	}
	if (stat(o->out_dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--out %s: not a folder; allowed: a folder for the site, or a "
			 "name to make one", o->out_dir);
		return -EINVAL;
	}
	if (o->runs_url && !runs_url_ok(o->runs_url)) {
		snprintf(err, errlen, "--runs-url %s: a URL cannot carry spaces, quotes, <, >, "
			 "backslashes, bytes that are not ASCII or control characters, nor a scheme "
			 "other than http, https or file; allowed: a URL such as "
			 "https://lab.example/runs/{bench}/ or a path", o->runs_url);
		return -EINVAL;
	}
	return 0;
}

static int make_out(const struct dashboard_opts *o, char ret[PATH_MAX], char *err, size_t errlen)
{
	static const char *const sub[] = { "device", "bench" };
	char path[PATH_MAX + 16];
	size_t i;

	if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot make it: %s", o->out_dir, strerror(errno));
		return -errno;
	}
	if (!realpath(o->out_dir, ret)) {
		snprintf(err, errlen, "%s: %s", o->out_dir, strerror(errno));
		return -errno;
	}
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", ret, sub[i]);
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: cannot make it: %s", path, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int dashboard_generate(struct history *h, const struct dashboard_opts *o,
		       struct dashboard_result *ret, char *err, size_t errlen)
{
	struct history_overview *ov = NULL;
	struct site s = { .h = h, .o = o, .res = ret };
	struct spc_params p;
	double t0 = wall_s();
	size_t i;
	int r;

	*ret = (struct dashboard_result){ 0 };
	r = dashboard_check_opts(o, err, errlen);
	if (r < 0)
		return r;
	if (o->spc) {
		p = *o->spc;
	} else {
		spc_params_default(&p);
	}
	s.spc = &p;
	s.now = o->now ? o->now : time(NULL);
	rig_utc_text((int64_t)s.now, "%Y-%m-%d %H:%M UTC", s.now_text, sizeof(s.now_text));
	r = history_overview(h, &p, &ov, err, errlen);
	if (r < 0)
		return r;
	s.ov = ov;
	ret->read_s = wall_s() - t0;
	t0 = wall_s();
	r = make_out(o, s.out, err, errlen);
	if (r == 0) {
		s.run_have = calloc(ov->n_runs ? ov->n_runs : 1, 1);
		r = s.run_have ? group(&s) : -ENOMEM;
		if (r == -ENOMEM)
			snprintf(err, errlen, "out of memory");
	}
	for (i = 0; r == 0 && i < s.n_devices; i++)
		r = device_page(&s, &s.devices[i], err, errlen);
	for (i = 0; r == 0 && i < s.n_benches; i++)
		r = bench_page(&s, &s.benches[i], err, errlen);
	/* the front page last: it links to every other page */
	if (r == 0)
		r = front_page(&s, err, errlen);
	ret->runs = ov->n_runs;
	ret->devices = s.n_devices;
	ret->benches = s.n_benches;
	ret->nights = ov->n_nights;
	ret->open_flags = s.n_flags;
	ret->write_s = wall_s() - t0;
	site_free(&s);
	history_overview_free(ov);
	return r;
}

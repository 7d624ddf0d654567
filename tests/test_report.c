/* The PDF and HTML test report, end to end: real sequences run on the
 * simulated bench through the CLI, then the outputs are read back by
 * independent readers (poppler's pdftotext and pdfinfo; the HTML as text)
 * and compared with results.json.  The plots' own arithmetic is in
 * test_plot.c. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdarg.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "reports/plot/plot.h"

#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

/* ------------------------------------------------------------ helpers -- */

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	r = system(cmd);
	cr_assert_eq(r, 0, "command failed (%d): %s", r, cmd);
	free(cmd);
}

/* A copy of text with every whitespace character removed: pdftotext breaks
 * lines where the layout wrapped them. */
static char *squeeze(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;

	cr_assert_not_null(out);
	for (; *text; text++)
		if (!isspace((unsigned char)*text))
			*o++ = *text;
	*o = '\0';
	return out;
}

static bool contains(const char *hay, const char *needle)
{
	char *h = squeeze(hay), *n = squeeze(needle);
	bool found = strstr(h, n) != NULL;

	free(h);
	free(n);
	return found;
}

struct pdf_text {
	int pages;               /* from pdfinfo */
	char *all;               /* pdftotext of the whole document */
	char **page;             /* one string per page (split at form feeds) */
	size_t n_page;
	char report_id[256];     /* "RPT-" and run.json's run_id: the run's own id */
};

static struct pdf_text pdf_read(const char *run_dir)
{
	struct pdf_text p = { 0 };
	char *info, *txt, *line, *save, *path;
	json_t *meta;

	if (asprintf(&path, "%s/run.json", run_dir) < 0)
		abort();
	meta = json_load_file(path, 0, NULL);
	free(path);
	cr_assert(json_string_value(json_object_get(meta, "run_id")));
	snprintf(p.report_id, sizeof(p.report_id), "RPT-%s",
		 json_string_value(json_object_get(meta, "run_id")));
	json_decref(meta);

	/* beside the run directory, not in it: a file added to a sealed run is
	 * tampering to rig report */
	sh("pdfinfo '%s/report.pdf' > '%s.pdfinfo.txt'", run_dir, run_dir);
	sh("pdftotext -layout '%s/report.pdf' '%s.report.txt'", run_dir, run_dir);
	if (asprintf(&path, "%s.pdfinfo.txt", run_dir) < 0)
		abort();
	info = th_read_file(path);
	free(path);
	cr_assert_not_null(info);
	line = strstr(info, "Pages:");
	cr_assert_not_null(line, "pdfinfo gives no page count:\n%s", info);
	p.pages = (int)strtol(line + 6, NULL, 10);
	free(info);
	if (asprintf(&path, "%s.report.txt", run_dir) < 0)
		abort();
	p.all = th_read_file(path);
	free(path);
	cr_assert_not_null(p.all);
	txt = strdup(p.all);
	p.page = calloc((size_t)p.pages + 2, sizeof(*p.page));
	for (char *pg = strtok_r(txt, "\f", &save); pg; pg = strtok_r(NULL, "\f", &save)) {
		if (!*pg || (pg[0] == '\n' && !pg[1]))
			continue;
		cr_assert_lt(p.n_page, (size_t)p.pages + 1, "more text pages than pdfinfo pages");
		p.page[p.n_page++] = strdup(pg);
	}
	free(txt);
	return p;
}

static void pdf_free(struct pdf_text *p)
{
	for (size_t i = 0; i < p->n_page; i++)
		free(p->page[i]);
	free(p->page);
	free(p->all);
}

static json_t *load_json(const char *dir, const char *name)
{
	char *path;
	json_error_t jerr;
	json_t *root;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	root = json_load_file(path, 0, &jerr);
	cr_assert_not_null(root, "%s: %s", path, jerr.text);
	free(path);
	return root;
}

static const char *upper_verdict(const char *v)
{
	return strcmp(v, "pass") == 0 ? "PASS" : strcmp(v, "fail") == 0 ? "FAIL" : "INCONCLUSIVE";
}

/* Runs a sequence (a shipped path or written text) on a bench into
 * dir/run and returns rig's exit status. */
static int run_rig(const char *dir, const char *seq, const char *bench, const char *extra)
{
	char *run, *dut = th_src(DUT);
	int status;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	status = th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
					       "--output", run, "-q", extra, NULL });
	free(run);
	free(dut);
	return status;
}

/* The shipped bench with one literal replaced. */
static char *bench_replace(const char *dir, const char *from, const char *to)
{
	char *src = th_src(BENCH), *text = th_read_file(src), *out, *path;
	const char *k;

	cr_assert_not_null(text);
	k = strstr(text, from);
	cr_assert_not_null(k, "the shipped bench has no '%s'", from);
	if (asprintf(&out, "%.*s%s%s", (int)(k - text), text, to, k + strlen(from)) < 0)
		abort();
	path = th_write_file(dir, "bench.cfg", out);
	free(out);
	free(text);
	free(src);
	return path;
}

/* Every page carries the report id and "page N of M"; pdfinfo agrees. */
static void assert_every_page(const struct pdf_text *p, const char *report_id,
			      const char *also)
{
	char buf[64];

	cr_assert_gt(p->pages, 1);
	cr_assert_eq(p->n_page, (size_t)p->pages, "pdftotext found %zu pages, pdfinfo %d",
		     p->n_page, p->pages);
	for (size_t i = 0; i < p->n_page; i++) {
		snprintf(buf, sizeof(buf), "page %zu of %d", i + 1, p->pages);
		cr_assert(contains(p->page[i], buf), "page %zu lacks '%s'", i + 1, buf);
		cr_assert(contains(p->page[i], report_id), "page %zu lacks the report id %s", i + 1,
			  report_id);
		if (also)
			cr_assert(contains(p->page[i], also), "page %zu lacks '%s':\n%s", i + 1, also,
				  p->page[i]);
	}
}

/* The words of the PDF with their boxes, from pdftotext -bbox: points, y
 * down from the page's top edge. */
struct pdf_word {
	double x0, y0, x1, y1;
	char text[64];
};

struct pdf_page_words {
	double w, h;
	struct pdf_word *word;
	size_t n;
};

/* The number in attribute name="..." of the tag at tag. */
static double bbox_attr(const char *tag, const char *name)
{
	char key[32];
	const char *v, *end = strchr(tag, '>');
	char *num_end;
	double x;

	snprintf(key, sizeof(key), " %s=\"", name);
	v = strstr(tag, key);
	cr_assert(v && end && v < end, "no %s in %.80s", name, tag);
	x = strtod(v + strlen(key), &num_end);
	cr_assert_eq(*num_end, '"', "bad %s in %.80s", name, tag);
	return x;
}

static size_t pdf_words_read(const char *run_dir, struct pdf_page_words **ret)
{
	struct pdf_page_words *pages = NULL;
	size_t n = 0;
	char *path, *html;
	const char *t;

	sh("pdftotext -bbox '%s/report.pdf' '%s.bbox.html'", run_dir, run_dir);
	if (asprintf(&path, "%s.bbox.html", run_dir) < 0)
		abort();
	html = th_read_file(path);
	free(path);
	cr_assert_not_null(html);
	for (t = html; (t = strstr(t, "<page ")); ) {
		const char *next = strstr(t + 1, "<page "), *w;
		struct pdf_page_words *pg;

		pages = realloc(pages, (n + 1) * sizeof(*pages));
		cr_assert_not_null(pages);
		pg = &pages[n++];
		*pg = (struct pdf_page_words){ bbox_attr(t, "width"), bbox_attr(t, "height"), NULL, 0 };
		for (w = t; (w = strstr(w + 1, "<word ")) && (!next || w < next); ) {
			const char *text = strchr(w, '>') + 1, *text_end = strstr(text, "</word>");
			struct pdf_word *pw;

			pg->word = realloc(pg->word, (pg->n + 1) * sizeof(*pg->word));
			cr_assert_not_null(pg->word);
			pw = &pg->word[pg->n++];
			pw->x0 = bbox_attr(w, "xMin");
			pw->y0 = bbox_attr(w, "yMin");
			pw->x1 = bbox_attr(w, "xMax");
			pw->y1 = bbox_attr(w, "yMax");
			cr_assert_not_null(text_end);
			snprintf(pw->text, sizeof(pw->text), "%.*s", (int)(text_end - text), text);
		}
		t = next ? next : t + strlen(t);
	}
	free(html);
	*ret = pages;
	return n;
}

static void pdf_words_free(struct pdf_page_words *pages, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(pages[i].word);
	free(pages);
}

/* Boxes that share more than half a point each way: text drawn over text. */
static bool words_overlap(const struct pdf_word *a, const struct pdf_word *b)
{
	return a->x0 < b->x1 - 0.5 && b->x0 < a->x1 - 0.5 && a->y0 < b->y1 - 0.5 &&
	       b->y0 < a->y1 - 0.5;
}

/* pdfinfo's Creator: the footer's software string. */
static char *pdf_creator(const char *run_dir)
{
	char *path, *info, *line, *out;

	if (asprintf(&path, "%s.pdfinfo.txt", run_dir) < 0)
		abort();
	info = th_read_file(path);
	free(path);
	cr_assert_not_null(info);
	line = strstr(info, "Creator:");
	cr_assert_not_null(line, "pdfinfo gives no creator:\n%s", info);
	for (line += 8; *line == ' '; line++)
		;
	out = strndup(line, strcspn(line, "\n"));
	free(info);
	return out;
}

/* report_pdf.c draws the footer's rule this far above the page's bottom
 * edge, and the footer's text under it. */
#define FOOTER_RULE_PT 36.0

/* Every word lies on its page, none is drawn over another, and below the
 * footer's rule there is the footer and nothing else: a body that ran past
 * its end would cross the rule or add words under it. */
static void assert_within_margins(const char *run_dir)
{
	struct pdf_page_words *pages;
	size_t n = pdf_words_read(run_dir, &pages);
	char *creator = pdf_creator(run_dir);

	cr_assert_gt(n, 0);
	for (size_t i = 0; i < n; i++) {
		const struct pdf_page_words *pg = &pages[i];
		double rule = pg->h - FOOTER_RULE_PT;
		char footer[256] = "", want[256];

		for (size_t k = 0; k < pg->n; k++) {
			const struct pdf_word *w = &pg->word[k];
			size_t len = strlen(footer);

			cr_assert(w->x0 >= 0 && w->x1 <= pg->w && w->y0 >= 0 && w->y1 <= pg->h,
				  "page %zu: '%s' at (%.1f, %.1f)-(%.1f, %.1f) is off the page", i + 1,
				  w->text, w->x0, w->y0, w->x1, w->y1);
			cr_assert(w->y1 <= rule || w->y0 >= rule,
				  "page %zu: '%s' (y %.1f to %.1f) crosses the footer's rule at %.1f",
				  i + 1, w->text, w->y0, w->y1, rule);
			if (w->y0 >= rule)
				snprintf(footer + len, sizeof(footer) - len, "%s%s", len ? " " : "",
					 w->text);
			for (size_t j = k + 1; j < pg->n; j++)
				cr_assert_not(words_overlap(w, &pg->word[j]),
					      "page %zu: '%s' and '%s' are drawn over each other", i + 1,
					      w->text, pg->word[j].text);
		}
		snprintf(want, sizeof(want), "%s page %zu of %zu", creator, i + 1, n);
		cr_assert_str_eq(footer, want, "page %zu: under the footer's rule", i + 1);
	}
	free(creator);
	pdf_words_free(pages, n);
}

/* --------------------------------------------------- the full report -- */

Test(report, the_qualification_report_identifies_the_run_and_every_check)
{
	char *dir = th_tmpdir(), *seq = th_src("sequences/qualification.cfg");
	char *bench = th_src(BENCH), *run, *html;
	struct pdf_text p;
	json_t *res, *c;
	size_t i, n_checks = 0;
	int status = run_rig(dir, seq, bench, NULL);

	cr_assert_eq(status, 0);
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	p = pdf_read(run);
	res = load_json(run, "results.json");
	assert_every_page(&p, p.report_id, NULL);
	/* identification, from the inputs and run.json */
	cr_assert(contains(p.all, "SEQ-QUAL, version 1"));
	cr_assert(contains(p.all, "ITP-40, serial SN-0001, firmware"));
	cr_assert(contains(p.all, "SIM-1"));
	cr_assert(contains(p.all, "virtual (simulated bench)"));
	cr_assert(contains(p.all, "fluid water at 20.00 °C"));
	cr_assert(contains(p.all, "Started (UTC)"));
	cr_assert(contains(p.all, "Ended (UTC)"));
	/* a reviewer must not take seconds of wall clock for the run's length,
	 * nor a stated temperature for a measured one */
	cr_assert(contains(p.all, "(wall clock; the run itself ran in virtual time)"));
	cr_assert(contains(p.all, "not measured during the run"));
	/* the pump is the device under test: its serial in the equipment list
	 * is the device's, and it is not bench equipment awaiting calibration */
	cr_assert(contains(p.all, "device under test"));
	cr_assert(contains(p.all, "not calibrated:"));
	cr_assert_not(contains(p.all, "SIM-PUMP"), "the bench's pump link serial shown for the DUT");
	cr_assert_not(th_negative_zero(p.all), "a value rounded to zero shown negative");
	cr_assert_not(contains(p.all, "EXPIRED"), "nothing on the shipped bench is expired");
	/* every check: its requirement id and its verdict, as results.json says */
	json_array_foreach(json_object_get(res, "checks"), i, c) {
		cr_assert(contains(p.all, json_string_value(json_object_get(c, "requirement"))));
		cr_assert(contains(p.all, json_string_value(json_object_get(c, "label"))));
		cr_assert(contains(p.all, upper_verdict(json_string_value(json_object_get(c, "verdict")))));
		n_checks++;
	}
	cr_assert_eq(n_checks, 8);
	cr_assert(contains(p.all, "Overall verdict: PASS"));
	/* plots: axes titled with units, the occlusion's alarm marked */
	cr_assert(contains(p.all, "volume (mL)"));
	cr_assert(contains(p.all, "flow (mL/h)"));
	cr_assert(contains(p.all, "observation window P (min)"));
	cr_assert(contains(p.all, "flow error (%)"));
	cr_assert(contains(p.all, "pressure (kPa)"));
	cr_assert(contains(p.all, "current (µA)"));
	cr_assert(contains(p.all, "voltage (V)"));
	cr_assert(contains(p.all, "valve closed"));
	cr_assert(contains(p.all, "released"));
	cr_assert(contains(p.all, "Ep(max)"));
	/* words a reader understands (issue 16 item 9), not the machines' names */
	cr_assert_not(contains(p.all, "mean_current_at"));
	cr_assert(contains(p.all, "mean current, basal 0.02083"));
	cr_assert(contains(p.all, "Ep(max), P = 2 min"));
	cr_assert(contains(p.all, "time to the occlusion alarm"));
	cr_assert_not(contains(p.all, "degC"));
	/* the protocol and the standards cited; one requirement, one criterion */
	cr_assert(contains(p.all, "Protocol TP-QUAL revision A"));
	cr_assert(contains(p.all, "ISO 14708-4:2022"));
	cr_assert(contains(p.all, "IEC 60601-2-24:2012"));
	cr_assert(contains(p.all, "Ep(max) <= 5 % in every observation"));
	cr_assert(contains(p.all, "ITP-40-SRS-ACC-003"));
	cr_assert(contains(p.all, "ITP-40-SRS-ACC-004"));
	/* the decision rule of each requirement and the uncertainty budgets */
	cr_assert(contains(p.all, "Acceptance criteria and decision rules"));
	cr_assert(contains(p.all, "guarded acceptance, w = 1 U"));
	cr_assert(contains(p.all, "simple acceptance"));
	cr_assert(contains(p.all, "Uncertainty budgets"));
	cr_assert(contains(p.all, "whole strokes against"));   /* the released bolus's */
	cr_assert(contains(p.all, "balance span") && contains(p.all, "time base"));
	cr_assert(contains(p.all, "power monitor calibration"));
	/* plots that show the judgment: windows, programmed values, limits */
	cr_assert(contains(p.all, "1 dose_min"));
	cr_assert(contains(p.all, "programmed (rate and bolus commands)"));
	cr_assert(contains(p.all, "Ep(max) limit +5 % (ITP-40-SRS-ACC-003)"));
	cr_assert(contains(p.all, "set rate 0.9 mL/h"));
	cr_assert(contains(p.all, "peaks beyond the axis, clipped"));
	html = th_slurp(run, "report.html");   /* no word broken mid-word in a cell */
	cr_assert(strstr(html, "word-break:normal") && !strstr(html, "break-all"));
	cr_assert(!strstr(html, "degC") && contains(html, "SIMULATED BENCH — NOT VERIFICATION"));
	free(html);
	/* the gravimetric chain and the signature block */
	cr_assert(contains(p.all, "Tanaka et al. 2001"));
	cr_assert(contains(p.all, "Signatures and record status"));
	cr_assert(contains(p.all, "Not signed electronically"));
	json_decref(res);
	pdf_free(&p);
	free(run);
	free(dir);
	free(seq);
	free(bench);
}

/* The alarm stands 0.4 s before the release it caused, one line width on
 * the plot's minutes: its marker says what it is and when, from the
 * occlusion check's time_to_alarm, and no other text is drawn over it. */
Test(report, the_occlusion_alarm_is_labelled_with_its_time_beside_the_release)
{
	char *dir = th_tmpdir(), *seq = th_src("sequences/qualification.cfg");
	char *bench = th_src(BENCH), *run, label[48];
	struct pdf_page_words *pages;
	struct pdf_text p;
	json_t *res, *c, *occlusion = NULL;
	size_t i, n, page = 0, at = 0;
	bool found = false;

	cr_assert_eq(run_rig(dir, seq, bench, NULL), 0);
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	res = load_json(run, "results.json");
	json_array_foreach(json_object_get(res, "checks"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "check")), "occlusion") == 0)
			occlusion = c;
	cr_assert_not_null(occlusion, "the qualification has an occlusion check");
	cr_assert_str_eq(json_string_value(json_object_get(occlusion, "unit")), "s");
	/* its explanation gives the whole criterion: the pressure reached (the
	 * pressure_at_alarm measurement) and the rate the sequence set before
	 * closing the valve (sequences/qualification.cfg: 1 mL/h) */
	{
		const char *ex = json_string_value(json_object_get(occlusion, "explanation"));
		json_t *m;
		size_t k;
		char at_kpa[48] = "";

		json_array_foreach(json_object_get(occlusion, "measurements"), k, m)
			if (strcmp(json_string_value(json_object_get(m, "name")), "pressure_at_alarm") == 0)
				snprintf(at_kpa, sizeof(at_kpa), " at %.1f kPa",
					 json_number_value(json_object_get(m, "value")));
		cr_assert(at_kpa[0], "no pressure_at_alarm measurement");
		cr_assert_not_null(strstr(ex, at_kpa), "'%s' lacks '%s'", ex, at_kpa);
		cr_assert_not_null(strstr(ex, "(pumping at 1 mL/h)"), "%s", ex);
	}
	snprintf(label, sizeof(label), "alarm %.1f s",
		 json_number_value(json_object_get(occlusion, "measured")));
	p = pdf_read(run);
	assert_every_page(&p, p.report_id, NULL);
	for (i = 0; i < p.n_page && !contains(p.page[i], "Line pressure through the occlusion"); i++)
		;
	cr_assert_lt(i, p.n_page, "no occlusion plot");
	cr_assert(contains(p.page[i], label), "the occlusion plot lacks '%s':\n%s", label, p.page[i]);
	cr_assert(contains(p.page[i], "released"));
	cr_assert(contains(p.page[i], "valve closed"));
	/* the device's limit on the pressure at the alarm is drawn, labelled
	 * with its value from device.cfg (150 kPa for the ITP-40) */
	cr_assert(contains(p.page[i], "alarm pressure limit 150 kPa (device.cfg)"), "%s", p.page[i]);
	/* the label's three words, on one line, under no other word */
	n = pdf_words_read(run, &pages);
	cr_assert_eq(n, p.n_page);
	page = i;
	for (i = 0; i + 2 < pages[page].n && !found; i++) {
		const struct pdf_word *w = &pages[page].word[i];
		char three[200];

		snprintf(three, sizeof(three), "%s %s %s", w[0].text, w[1].text, w[2].text);
		if (strcmp(three, label) == 0 && fabs(w[1].y0 - w[0].y0) < 1 &&
		    fabs(w[2].y0 - w[0].y0) < 1) {
			found = true;
			at = i;
		}
	}
	cr_assert(found, "'%s' is not one line of text on page %zu", label, page + 1);
	for (size_t k = at; k < at + 3; k++)
		for (size_t j = 0; j < pages[page].n; j++)
			cr_assert(j == k || !words_overlap(&pages[page].word[k], &pages[page].word[j]),
				  "'%s' of the alarm's label lies under '%s'", pages[page].word[k].text,
				  pages[page].word[j].text);
	pdf_words_free(pages, n);
	json_decref(res);
	pdf_free(&p);
	free(run);
	free(dir);
	free(seq);
	free(bench);
}

Test(report, the_html_report_is_self_contained_and_agrees_with_results_json)
{
	char *dir = th_tmpdir(), *seq = th_src("sequences/qualification.cfg");
	char *bench = th_src(BENCH), *run, *html, *p, num[64];
	json_t *res, *c;
	size_t i, n_svg = 0;

	cr_assert_eq(run_rig(dir, seq, bench, NULL), 0);
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	html = th_slurp(run, "report.html");
	cr_assert_not_null(html);
	res = load_json(run, "results.json");
	for (p = html; (p = strstr(p, "<svg")); p++)
		n_svg++;
	cr_assert_geq(n_svg, 6, "only %zu inline plots", n_svg);
	cr_assert_null(strstr(html, "src=\"http"));
	cr_assert_null(strstr(html, "href=\"http"));
	cr_assert_null(strstr(html, "<script"));
	cr_assert_null(strstr(html, "<link"));
	cr_assert_null(strstr(html, "<img"));
	/* cairo names every SVG's glyphs alike: inline, each plot's ids must
	 * be its own */
	cr_assert_null(strstr(html, "id=\"glyph"), "an SVG id without its plot's prefix");
	cr_assert_not_null(strstr(html, "id=\"p1-glyph"));
	json_array_foreach(json_object_get(res, "checks"), i, c) {
		cr_assert(contains(html, json_string_value(json_object_get(c, "requirement"))));
		cr_assert(contains(html, upper_verdict(json_string_value(json_object_get(c, "verdict")))));
	}
	snprintf(num, sizeof(num), "%.7f g/mL",
		 json_number_value(json_object_get(json_object_get(res, "gravimetric"),
						   "density_g_per_ml")));
	cr_assert(contains(html, num), "the density %s of results.json is not in the report", num);
	snprintf(num, sizeof(num), "Overall verdict: %s",
		 upper_verdict(json_string_value(json_object_get(res, "overall_verdict"))));
	cr_assert(contains(html, num));
	/* text is escaped: the criteria hold "<=" */
	cr_assert(contains(html, "&lt;= 10 %"));
	cr_assert_null(strstr(html, "<= 10 %"));
	json_decref(res);
	free(html);
	free(run);
	free(dir);
	free(seq);
	free(bench);
}

/* --------------------------------------------------- incomplete runs -- */

static const char delivery_seq[] =
	"sequence = {\n"
	"  id = \"T-REPORT\"; version = \"3\"; title = \"delivery for the report\";\n"
	"  steps = (\n"
	"    { step = \"tare\"; timeout = \"5 min\"; },\n"
	"    { step = \"set_rate\"; rate = \"1 mL/h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"begin\"; },\n"
	"    { step = \"hold\"; duration = \"4 h\"; },\n"
	"    { step = \"mark\"; window = \"w\"; edge = \"end\"; },\n"
	"    { step = \"stop\"; },\n"
	"    { step = \"check\"; check = \"dose_accuracy\"; window = \"w\";"
	"      requirement = \"REQ-T-042\"; }\n"
	"  );\n"
	"};\n";

Test(report, an_aborted_run_is_incomplete_on_every_page_with_its_root_cause)
{
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", delivery_seq), *run;
	char *bench = bench_replace(dir, "    seed = 1;",
		"    seed = 1;\n    faults = ( { role = \"scale\"; kind = \"dropout\"; at = \"2 h\"; duration = \"10 min\"; } );");
	struct pdf_text p;
	char *html;

	cr_assert_eq(run_rig(dir, seq, bench, NULL), 3);
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	p = pdf_read(run);
	assert_every_page(&p, p.report_id, "INCOMPLETE — scale read failed");
	cr_assert(contains(p.all, "REQ-T-042"));
	cr_assert(contains(p.all, "INCONCLUSIVE"));
	/* the deviation and the safe state */
	cr_assert(contains(p.all, "(root cause)"));
	cr_assert(contains(p.all, "pump stopped"));
	html = th_slurp(run, "report.html");
	cr_assert(contains(html, "INCOMPLETE — scale read failed"));
	free(html);
	pdf_free(&p);

	/* rig report regenerates it from the run directory alone */
	sh("rm '%s/report.pdf' '%s/report.html'", run, run);
	cr_assert_eq(th_rig(dir, (const char *[]){ "report", run, NULL }), 3);
	p = pdf_read(run);
	assert_every_page(&p, p.report_id, "INCOMPLETE — scale read failed");
	pdf_free(&p);
	free(run);
	free(dir);
	free(seq);
	free(bench);
}

Test(report, an_interrupted_run_is_reported_incomplete)
{
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", delivery_seq), *run;
	char *bench = th_src(BENCH);
	struct pdf_text p;
	char *elsewhere;

	/* a run the power cut short was never sealed: the station's journal
	 * holds no seal of it, so the seal rig run gives this one goes to a
	 * journal the station does not use */
	if (asprintf(&elsewhere, "%s/elsewhere.jsonl", dir) < 0)
		abort();
	setenv("PUMPRIG_JOURNAL", elsewhere, 1);
	cr_assert_eq(run_rig(dir, seq, bench, NULL), 0);
	unsetenv("PUMPRIG_JOURNAL");
	free(elsewhere);
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	/* as if the power failed before the end: no safe_state, no run_end, and
	 * so no manifest either (rig run seals only at its end) */
	sh("cd '%s' && grep -v -e '\"event\":\"run_end\"' -e '\"event\":\"safe_state\"' events.jsonl"
	   " > ev && cat ev > events.jsonl && rm ev report.pdf SHA256SUMS", run);
	cr_assert_eq(th_rig(dir, (const char *[]){ "report", run, NULL }), 3);
	p = pdf_read(run);
	assert_every_page(&p, p.report_id, "INCOMPLETE — the record ends at");
	cr_assert(contains(p.all, "no run_end event: the run was interrupted"));
	cr_assert(contains(p.all, "NOT RECORDED (no safe_state event"));
	pdf_free(&p);
	free(run);
	free(dir);
	free(seq);
	free(bench);
}

Test(report, a_reconnected_sensor_is_a_deviation_with_its_gap)
{
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", delivery_seq), *run, *text;
	char *bench = bench_replace(dir, "    seed = 1;",
		"    seed = 1;\n    faults = ( { role = \"scale\"; kind = \"dropout\"; at = \"2 h\"; duration = \"10 min\"; } );");
	char *b2, *path;
	struct pdf_text p;

	/* the balance may be away for 15 min: the run completes */
	text = th_read_file(bench);
	b2 = strstr(text, "period = \"30 s\";");
	cr_assert_not_null(b2);
	if (asprintf(&path, "%.*speriod = \"30 s\"; reconnect = \"15 min\";%s", (int)(b2 - text), text,
		     b2 + strlen("period = \"30 s\";")) < 0)
		abort();
	free(th_write_file(dir, "bench.cfg", path));
	free(path);
	free(text);
	cr_assert_eq(run_rig(dir, seq, bench, NULL), 0);
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	p = pdf_read(run);
	assert_every_page(&p, p.report_id, NULL);
	cr_assert_not(contains(p.all, "INCOMPLETE"));
	/* the deviations in words, and a pass with them is not a plain pass */
	cr_assert(contains(p.all, "instrument lost"));
	cr_assert(contains(p.all, "instrument reconnected"));
	cr_assert(contains(p.all, "the scale answered again after a gap of"));
	cr_assert(contains(p.all, "instrument gap"));
	cr_assert(contains(p.page[0], "Overall verdict: PASS WITH DEVIATIONS"));
	pdf_free(&p);
	free(run);
	free(dir);
	free(seq);
	free(bench);
}

/* ------------------------------------------------ expired calibration -- */

Test(report, an_expired_calibration_is_flagged)
{
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", delivery_seq), *run;
	/* the first calibration block of the shipped bench is the balance's */
	char *bench = bench_replace(dir, "date = \"2026-11-16\"; due = \"2028-11-16\"",
				    "date = \"2019-01-15\"; due = \"2020-01-15\"");
	struct pdf_text p;
	json_t *meta;
	int status = run_rig(dir, seq, bench, NULL);

	/* A rig that refuses an expired calibration needs the operator's
	 * explicit consent (the integrity stream's --allow-expired-calibration). */
	if (status == 2) {
		sh("rm -rf '%s/run'", dir);
		status = run_rig(dir, seq, bench, "--allow-expired-calibration");
	}
	cr_assert_eq(status, 0);
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	p = pdf_read(run);
	cr_assert(contains(p.all, "EXPIRED"));
	cr_assert(contains(p.all, "2020-01-15"));
	cr_assert(contains(p.all, "SIM-SCALE"));
	meta = load_json(run, "run.json");
	if (json_is_true(json_object_get(meta, "allow_expired_calibration")))
		cr_assert(contains(p.all, "started with --allow-expired-calibration"));
	json_decref(meta);
	pdf_free(&p);
	free(run);
	free(dir);
	free(seq);
	free(bench);
}

/* ---------------------------------------- notes and operator (contract) -- */

Test(report, operator_and_notes_are_shown)
{
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", delivery_seq), *run;
	char *bench = th_src(BENCH), *dut = th_src(DUT), *notes, *path = NULL, *html;
	struct pdf_text p;
	json_t *note;

	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", run, "-q", "--operator", "A. Tester",
						   NULL }), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "note", run,
						   "vessel lid <re-seated> & checked", NULL }), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "report", run, NULL }), 0);
	notes = th_slurp(run, "notes.jsonl");
	note = json_loads(notes, JSON_DISABLE_EOF_CHECK, NULL);
	cr_assert_not_null(note);
	p = pdf_read(run);
	cr_assert(contains(p.all, "A. Tester"));
	cr_assert(contains(p.all, "vessel lid <re-seated> & checked"));
	/* the note's own time, as rig note recorded it */
	cr_assert(contains(p.all, json_string_value(json_object_get(note, "utc"))));
	json_decref(note);
	free(notes);
	free(dut);
	html = th_slurp(run, "report.html");
	cr_assert(contains(html, "vessel lid &lt;re-seated&gt; &amp; checked"));
	/* a sequence without a flow check says so instead of an empty plot */
	cr_assert(contains(p.all, "no trumpet curve: the sequence has no flow_accuracy check"));
	free(html);
	pdf_free(&p);
	free(path);
	free(run);
	free(dir);
	free(seq);
	free(bench);
}

Test(report, a_long_note_in_a_script_of_many_bytes_per_letter_is_reported_whole)
{
	char *dir = th_tmpdir(), *seq = th_write_file(dir, "seq.cfg", delivery_seq), *run;
	char *bench = th_src(BENCH), *dut = th_src(DUT), *html, text[3000], *w = text;
	struct pdf_text p;

	/* 1200 two-byte letters: 2400 bytes, well within a note's 4096, and
	 * far past any short buffer that could cut a letter in half */
	for (int i = 0; i < 1200; i++)
		w += sprintf(w, i % 60 == 59 ? "\xc3\xa9 " : "\xc3\xa9");
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	cr_assert_eq(th_rig(dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
						   "--output", run, "-q", "--note", text, NULL }), 0);
	p = pdf_read(run);
	html = th_slurp(run, "report.html");
	cr_assert_not_null(html);
	/* the last word of the note is there: none of it was cut */
	cr_assert(contains(html, text), "the HTML report lost part of the note");
	cr_assert(contains(p.all, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"));
	cr_assert_eq(th_rig(dir, (const char *[]){ "verify", run, NULL }), 0);
	pdf_free(&p);
	free(html), free(run), free(dir), free(seq), free(bench), free(dut);
}

/* An operator's note of 120 lines is taller than a page: the row goes on
 * over the following pages, between lines, under the repeated header, and
 * no line runs over the footer or off the page. */
Test(report, a_note_taller_than_a_page_continues_on_the_next_pages)
{
	char *dir = th_tmpdir(), *seq = th_src("sequences/dose-accuracy.cfg");
	char *bench = th_src(BENCH), *run, note[2400], *w = note, *all, *html;
	const char *at;
	struct pdf_text p;
	size_t pages_with_note = 0;

	for (int i = 1; i <= 120; i++)
		w += sprintf(w, "%snote line %03d", i > 1 ? "\n" : "", i);
	cr_assert_eq(run_rig(dir, seq, bench, NULL), 0);
	if (asprintf(&run, "%s/run", dir) < 0)
		abort();
	cr_assert_eq(th_rig(dir, (const char *[]){ "note", run, note, NULL }), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "report", run, NULL }), 0);
	p = pdf_read(run);
	assert_every_page(&p, p.report_id, NULL);
	/* every line, once and in order */
	all = squeeze(p.all);
	at = all;
	for (int i = 1; i <= 120; i++) {
		char key[32];

		snprintf(key, sizeof(key), "noteline%03d", i);
		at = strstr(at, key);
		cr_assert_not_null(at, "line %d of the note is missing or out of order", i);
		at += strlen(key);
		cr_assert_null(strstr(at, key), "line %d of the note is there twice", i);
	}
	free(all);
	/* the note takes more than one page, each under the table's header */
	for (size_t i = 0; i < p.n_page; i++) {
		if (!contains(p.page[i], "note line"))
			continue;
		pages_with_note++;
		cr_assert(contains(p.page[i], "note (notes.jsonl)"),
			  "page %zu continues the note without the table's header", i + 1);
	}
	cr_assert_geq(pages_with_note, 2);
	assert_within_margins(run);
	/* the HTML shows the note's line breaks too, as the PDF does */
	html = th_slurp(run, "report.html");
	cr_assert_not_null(html);
	cr_assert_not_null(strstr(html, "note line 001\nnote line 002\n"));
	cr_assert_not_null(strstr(html, "note line 119\nnote line 120</td>"));
	cr_assert_not_null(strstr(html, "white-space:pre-line"), "the HTML joins the note's lines");
	pdf_free(&p);
	free(html), free(run), free(dir), free(seq), free(bench);
}

/* rig history dashboard, end to end: a site made from real `rig nightly`
 * nights on the simulated bench (tools/dashboard-demo: a creeping pump, a
 * balance growing noisy, a pump that fails), loaded page by page in a real
 * browser, Debian's headless Chromium: no console message (the pages have
 * no script, so any message is an error: a resource refused by the pages'
 * Content-Security-Policy, a script that got in), every link and image
 * pointing at a file that exists and every #anchor at an element that
 * does, nothing fetched from the network, a screenshot at 1280 px and at
 * phone width.  A Chromium that cannot start fails the test with the
 * reason; nothing is skipped.  Also: the options refused before anything is
 * written, runs linked through --runs-url, hostile names escaped. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "history_synth.h"

/* ------------------------------------------------------------ the site */

/* Runs argv (a program, not rig) with its output into dir/cmd.out; the
 * exit status. */
static int run_cmd(const char *dir, const char *const *argv)
{
	char out[4096];
	pid_t pid;
	int st;

	snprintf(out, sizeof(out), "%s/cmd.out", dir);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setenv("RIG", RIG_BINARY, 1);
		unsetenv("PUMPRIG_HISTORY");
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Decodes %XX and &amp; in place. */
static void decode(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%' && s[1] && s[2]) {
			char hex[3] = { s[1], s[2], 0 };

			*o++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else if (!strncmp(s, "&amp;", 5)) {
			*o++ = '&';
			s += 4;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static bool has_id(const char *html, const char *id)
{
	char *pat;
	bool found;

	cr_assert_geq(asprintf(&pat, " id=\"%s\"", id), 0);
	found = strstr(html, pat) != NULL;
	free(pat);
	return found;
}

/* Every href and src of html (the page page_path, or its DOM): a relative
 * path to a file that exists, or an anchor of an element that exists;
 * nothing from the network.  Returns how many links it followed. */
static size_t check_links(const char *page_path, const char *html)
{
	static const char *const attrs[] = { " href=\"", " src=\"" };
	char *folder = strdup(page_path), *slash = strrchr(folder, '/');
	size_t n = 0, a;

	*slash = '\0';
	for (a = 0; a < 2; a++) {
		const char *p = html;

		while ((p = strstr(p, attrs[a]))) {
			const char *v = p + strlen(attrs[a]), *end = strchr(v, '"');
			char *link = strndup(v, (size_t)(end - v)), *frag, *path;
			struct stat st;

			p = end;
			if (!strcmp(link, "data:,")) {   /* the page's empty icon */
				free(link);
				continue;
			}
			cr_assert(strncmp(link, "http:", 5) && strncmp(link, "https:", 6) &&
				  strncmp(link, "//", 2) && strncmp(link, "file:", 5) && link[0] != '/',
				  "%s: %s is not a relative link (the site works offline, anywhere)",
				  page_path, link);
			frag = strchr(link, '#');
			if (frag)
				*frag++ = '\0';
			decode(link);
			if (!*link) {
				cr_assert(frag && has_id(html, frag), "%s: no element #%s", page_path,
					  frag ? frag : "");
				free(link);
				n++;
				continue;
			}
			cr_assert_geq(asprintf(&path, "%s/%s", folder, link), 0);
			cr_assert_eq(stat(path, &st), 0, "%s: broken link %s (%s)", page_path, link, path);
			if (frag) {
				char *target = th_read_file(path);

				cr_assert(target && has_id(target, frag), "%s: %s has no element #%s",
					  page_path, link, frag);
				free(target);
			}
			free(path);
			free(link);
			n++;
		}
	}
	free(folder);
	return n;
}

/* Loads url in Debian's headless Chromium: the DOM it built into *ret_dom,
 * its log (stderr, --enable-logging) into *ret_log, and a screenshot at
 * width x height into png when png is not NULL.  Returns its exit status. */
static int chromium(const char *dir, const char *url, const char *png, int width, int height,
		    char **ret_dom, char **ret_log)
{
	char out[4096], err[4096], profile[4200], shot[4200], size[64];
	pid_t pid;
	int st;

	snprintf(out, sizeof(out), "%s/chromium.dom", dir);
	snprintf(err, sizeof(err), "%s/chromium.log", dir);
	snprintf(profile, sizeof(profile), "--user-data-dir=%s/chromium-profile", dir);
	snprintf(shot, sizeof(shot), "--screenshot=%s", png ? png : "");
	snprintf(size, sizeof(size), "--window-size=%d,%d", width, height);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		const char *argv[] = { "chromium", "--headless", "--no-sandbox", "--disable-gpu",
			"--disable-quic", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--disable-extensions",
			"--hide-scrollbars", "--enable-logging=stderr", "--v=0", "--timeout=60000",
			profile, size, "--dump-dom", png ? shot : url, png ? url : NULL, NULL };
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fo, 1);
		dup2(fe, 2);
		/* no session bus here: do not wait for one; a home of its own */
		setenv("DBUS_SESSION_BUS_ADDRESS", "disabled:", 1);
		setenv("HOME", dir, 1);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot start chromium: %s\n", strerror(errno));
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	*ret_dom = th_read_file(out);
	*ret_log = th_read_file(err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The PNG's width from its IHDR chunk, 0 when it is not a PNG. */
static uint32_t png_width(const char *path, size_t *ret_size)
{
	unsigned char h[24];
	struct stat st;
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(h, 1, sizeof(h), f) : 0;

	if (f)
		fclose(f);
	*ret_size = stat(path, &st) == 0 ? (size_t)st.st_size : 0;
	if (n != sizeof(h) || memcmp(h, "\x89PNG\r\n\x1a\n", 8) || memcmp(h + 12, "IHDR", 4))
		return 0;
	return (uint32_t)h[16] << 24 | (uint32_t)h[17] << 16 | (uint32_t)h[18] << 8 | h[19];
}

/* Loads one page and checks what the browser made of it. */
static char *load_page(const char *dir, const char *page, const char *png, int width)
{
	char url[4200], *dom, *log;
	int st;

	snprintf(url, sizeof(url), "file://%s", page);
	st = chromium(dir, url, png, width, 2400, &dom, &log);
	cr_assert_eq(st, 0, "chromium could not load %s (exit %d; tools/install-deps installs it):\n%s",
		     page, st, log ? log : "(no log)");
	cr_assert(dom && strstr(dom, "</html>"), "%s: no DOM from chromium:\n%s", page, log);
	/* no script runs on these pages, so any console message is an error */
	cr_assert_null(strstr(log, ":CONSOLE"), "%s: the console said:\n%s", page, log);
	cr_assert_null(strstr(log, "Refused to"), "%s: the page wanted to fetch something:\n%s",
		       page, log);
	cr_assert_null(strstr(dom, "<script"), "%s: a script in the DOM", page);
	cr_assert_null(strstr(dom, "<img"), "%s: an image element in the DOM (a name got in "
		       "unescaped?)", page);
	if (png) {
		size_t size;

		cr_assert_eq(png_width(png, &size), (uint32_t)width, "%s: no screenshot %d px wide",
			     png, width);
		cr_assert_gt(size, 20000, "%s: a screenshot of %zu bytes is a blank page", png, size);
	}
	free(log);
	return dom;
}

/* The site's pages: index.html and the .html in device/ and bench/. */
static size_t list_pages(const char *site, char ***ret)
{
	static const char *const sub[] = { "device", "bench" };
	char **pages = calloc(64, sizeof(*pages));
	size_t n = 0, k;

	cr_assert_geq(asprintf(&pages[n++], "%s/index.html", site), 0);
	for (k = 0; k < 2; k++) {
		char *folder;
		DIR *d;
		struct dirent *e;

		cr_assert_geq(asprintf(&folder, "%s/%s", site, sub[k]), 0);
		d = opendir(folder);
		cr_assert_not_null(d, "%s", folder);
		while ((e = readdir(d)) && n < 63) {
			size_t len = strlen(e->d_name);

			if (len > 5 && !strcmp(e->d_name + len - 5, ".html"))
				cr_assert_geq(asprintf(&pages[n++], "%s/%s", folder, e->d_name), 0);
			else
				cr_assert(e->d_name[0] == '.', "%s/%s: not a page (a temporary file left?)",
					  folder, e->d_name);
		}
		closedir(d);
		free(folder);
	}
	*ret = pages;
	return n;
}

/* A synthetic run whose names would be markup, a path and a URL if they
 * were not escaped, imported into the store runs/history.sqlite. */
static void import_hostile(const char *dir, const char *runs)
{
	static const struct synth_value v = { "dose_accuracy", "steady<b>", "dose_error", 0.5, 0.05,
					      "%", -10, 10 };
	char *run, *db;
	struct synth_run s = { .run_id = "HOSTILE-1", .device_serial = "<img src=x onerror=alert(1)>&'",
			       .device_model = "<script>alert(2)</script>",
			       .sequence_id = "SEQ\"><script>x</script>", .bench_id = "../ b/#?%",
			       .started_utc = "2026-01-01T00:00:00Z", .values = &v, .n_values = 1,
			       .balance_noise_mg = 0.02, .evaporation_mg_per_h = 0.05 };

	cr_assert_geq(asprintf(&run, "%s/hostile", dir), 0);
	cr_assert_eq(synth_run_dir(run, &s), 0);
	cr_assert_geq(asprintf(&db, "sqlite:%s/history.sqlite", runs), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "import", run, "--db", db, NULL }), 0,
		     "%s", th_slurp(dir, "stderr"));
	free(run);
	free(db);
}

Test(dashboard, a_site_of_simulated_nights_loads_in_chromium_with_no_error_or_broken_link,
     .timeout = 900)
{
	char *dir = th_tmpdir(), *demo = th_src("tools/dashboard-demo"), *runs, *site, *png;
	char **pages, *dom, *index;
	size_t n, i, links = 0;
	struct stat st;

	cr_assert_eq(run_cmd(dir, (const char *[]){ demo, dir, "7", NULL }), 0,
		     "tools/dashboard-demo: %s", th_slurp(dir, "cmd.out"));
	cr_assert_geq(asprintf(&runs, "%s/runs", dir), 0);
	cr_assert_geq(asprintf(&site, "%s/site", dir), 0);
	import_hostile(dir, runs);
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "dashboard", "--out", site, "--runs",
						   runs, NULL }), 0, "%s", th_slurp(dir, "stderr"));

	/* what the morning asks, on the front page */
	cr_assert_geq(asprintf(&png, "%s/index.html", site), 0);
	index = th_read_file(png);
	free(png);
	cr_assert_not_null(index);
	cr_assert_eq(stat(site, &st), 0);
	{
		const char *flags = strstr(index, "id=\"flags\""), *nights = strstr(index, "id=\"nights\"");
		const char *matrix = strstr(index, "id=\"matrix\""), *changes = strstr(index, "id=\"changes\"");

		cr_assert(flags && nights && matrix && changes && flags < nights && nights < matrix &&
			  matrix < changes, "the front page's sections, flags first");
		/* the creeping pump and the noisy balance are flagged, each by name */
		cr_assert(strstr(flags, "href=\"device/SN-0001.html#c") &&
			  strstr(flags, "dose_error") < nights, "no flag on SN-0001's dose error");
		cr_assert(strstr(flags, "href=\"bench/SIM-2.html#c") &&
			  strstr(flags, "balance_noise") < nights, "no flag on SIM-2's balance noise");
		/* last night per bench: its night, its jobs, the calibration due soon */
		cr_assert(strstr(nights, "NIGHT-A7") && strstr(nights, "NIGHT-B7"));
		cr_assert(strstr(nights, "due soon") && strstr(nights, "scale SIM-SCALE"));
		/* the failing pump: in words and an icon, not colour alone */
		cr_assert(strstr(matrix, "<span class=\"v fail\">\xe2\x9c\x97 FAIL</span>"));
		cr_assert(strstr(changes, "verdict <span class=\"v pass\">\xe2\x9c\x93 pass</span> "
					  "&rarr; <span class=\"v fail\">\xe2\x9c\x97 FAIL</span>"),
			  "what changed does not say the verdict went from pass to FAIL");
		/* SIM-2 measured the fast pump twice last night: each run against
		 * the night before (passed), not the second against the first */
		{
			const char *sim2 = strstr(changes, "SIM-2"), *p = sim2;
			int fails = 0;

			cr_assert_not_null(sim2);
			while ((p = strstr(p + 1, "verdict <span class=\"v pass\">\xe2\x9c\x93 pass</span> "
							  "&rarr; <span class=\"v fail\">")))
				fails++;
			cr_assert_eq(fails, 2, "%d of SIM-2's two runs last night changed from pass to "
					       "FAIL since the night before", fails);
		}
		/* the hostile names, escaped */
		cr_assert(strstr(index, "&lt;img src=x onerror=alert(1)&gt;&amp;&#39;"));
		cr_assert(strstr(index, "SEQ&quot;&gt;&lt;script&gt;x&lt;/script&gt;"));
	}
	cr_assert_lt(strlen(index), 1000000, "the front page is over 1 MB");

	n = list_pages(site, &pages);
	cr_assert_eq(n, 1 + 3 + 3, "index, three devices and three benches: %zu pages", n);
	for (i = 0; i < n; i++) {
		char *text = th_read_file(pages[i]);

		/* the file as written, and the DOM as the browser built it */
		links += check_links(pages[i], text);
		dom = load_page(dir, pages[i], NULL, 1280);
		links += check_links(pages[i], dom);
		free(dom);
		free(text);
	}
	cr_assert_gt(links, 100, "only %zu links followed", links);
	/* the front page at a desk and on a phone */
	cr_assert_geq(asprintf(&png, "%s/front-1280.png", dir), 0);
	free(load_page(dir, pages[0], png, 1280));
	free(png);
	cr_assert_geq(asprintf(&png, "%s/front-390.png", dir), 0);
	free(load_page(dir, pages[0], png, 390));
	free(png);
	for (i = 0; i < n; i++)
		free(pages[i]);
	free(pages);
	free(index);
	free(runs);
	free(site);
	free(demo);
	free(dir);
}

/* ------------------------------------------------------------- options */

static char *synthetic_store(const char *dir, size_t nights)
{
	struct synth_value v = { "dose_accuracy", "steady", "dose_error", 0.1, 0.05, "%", -10, 10 };
	char *db, run[4096];
	size_t k;

	cr_assert_geq(asprintf(&db, "sqlite:%s/history.sqlite", dir), 0);
	for (k = 0; k < nights; k++) {
		char id[32], started[32];
		struct synth_run s = { .run_id = id, .device_serial = "SN-9", .sequence_id = "SEQ",
				       .bench_id = "B 1", .started_utc = started, .values = &v,
				       .n_values = 1, .balance_noise_mg = 0.02,
				       .evaporation_mg_per_h = 0.05, .reports = true };

		/* a night a day of February: at most 28 */
		cr_assert_leq(k, 27);
		snprintf(id, sizeof(id), "R-%02d", (int)k);
		snprintf(started, sizeof(started), "2026-02-%02dT02:00:00Z", (int)(k % 28) + 1);
		snprintf(run, sizeof(run), "%s/runs/%s", dir, id);
		v.value = 0.1 + 0.01 * (double)(k % 3);
		cr_assert_eq(synth_run_dir(run, &s), 0);
		cr_assert_eq(th_rig(dir, (const char *[]){ "history", "import", run, "--db", db, NULL }),
			     0, "%s", th_slurp(dir, "stderr"));
	}
	return db;
}

Test(dashboard, options_that_cannot_make_a_site_are_refused_and_nothing_is_written)
{
	char *dir = th_tmpdir(), *db, *file, *out, *err;
	struct stat st;

	cr_assert_geq(asprintf(&out, "%s/runs", dir), 0);
	cr_assert_eq(mkdir(out, 0755), 0);
	free(out);
	db = synthetic_store(dir, 2);
	file = th_write_file(dir, "a-file", "not a folder\n");
	cr_assert_geq(asprintf(&out, "%s/site", dir), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "dashboard", "--db", db, NULL }), 2);
	err = th_slurp(dir, "stderr");
	cr_assert(strstr(err, "--out DIR"), "%s", err);
	free(err);
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "dashboard", "--db", db, "--out", file,
						   NULL }), 2);
	err = th_slurp(dir, "stderr");
	cr_assert(strstr(err, "not a folder") && strstr(err, "nothing was written"), "%s", err);
	free(err);
	free(th_read_file(file));
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_size, 13, "the file was touched");
	for (int k = 0; k < 6; k++) {
		static const char *const bad[] = { "https://lab/x\"><script>", "https://lab/a b",
						   "https://lab/<x>", "https://lab/\x01",
						   "javascript:alert(1)//{bench}", "data:text/html,x" };

		cr_assert_eq(th_rig(dir, (const char *[]){ "history", "dashboard", "--db", db, "--out",
							   out, "--runs-url", bad[k], NULL }), 2,
			     "--runs-url %s", bad[k]);
		cr_assert_neq(stat(out, &st), 0, "%s made for --runs-url %s", out, bad[k]);
	}
	/* a store that cannot be reached: 3, and no site */
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "dashboard", "--db",
						   "sqlite:/nonexistent/folder/h.sqlite", "--out", out,
						   NULL }), 3);
	cr_assert_neq(stat(out, &st), 0);
	free(db);
	free(file);
	free(out);
	free(dir);
}

Test(dashboard, runs_linked_through_a_runs_url_carry_their_bench_and_folder)
{
	char *dir = th_tmpdir(), *db, *out, *page, *path;
	const char *p;

	cr_assert_geq(asprintf(&out, "%s/runs", dir), 0);
	cr_assert_eq(mkdir(out, 0755), 0);
	free(out);
	db = synthetic_store(dir, 3);
	/* relative links first, from a site folder deep elsewhere */
	cr_assert_geq(asprintf(&out, "%s/a/b/c/site", dir), 0);
	cr_assert_geq(asprintf(&path, "mkdir -p '%s'", out), 0);
	cr_assert_eq(system(path), 0);
	free(path);
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "dashboard", "--db", db, "--out", out,
						   NULL }), 0, "%s", th_slurp(dir, "stderr"));
	cr_assert_geq(asprintf(&path, "%s/device/SN-9.html", out), 0);
	page = th_read_file(path);
	cr_assert_not_null(page);
	cr_assert(strstr(page, "href=\"../../../../../runs/R-02/report.pdf\""), "%s", page);
	cr_assert_gt(check_links(path, page), 9);
	free(page);
	/* then the lab's web server */
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "dashboard", "--db", db, "--out", out,
						   "--runs-url", "https://lab.example/r&d/{bench}",
						   NULL }), 0, "%s", th_slurp(dir, "stderr"));
	page = th_read_file(path);
	p = strstr(page, "href=\"https://lab.example/r&amp;d/B%201/R-02/report.pdf\"");
	cr_assert_not_null(p, "%s", page);
	cr_assert(strstr(page, "href=\"https://lab.example/r&amp;d/B%201/R-00/report.html\""));
	cr_assert(strstr(page, "href=\"https://lab.example/r&amp;d/B%201/R-00/\""));
	free(page);
	free(path);
	free(out);
	free(db);
	free(dir);
}

/* ------------------------------------------------- simulated, marked */

static char *page_of(const char *site, const char *name)
{
	char *path, *text;

	cr_assert_geq(asprintf(&path, "%s/%s", site, name), 0);
	text = th_read_file(path);
	cr_assert_not_null(text, "%s", path);
	free(path);
	return text;
}

static size_t count_of(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* A synthetic run directory made in dir/runs/RUN_ID and imported into db. */
static void import_synth(const char *dir, const char *db, const struct synth_run *s)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/runs/%s", dir, s->run_id);
	cr_assert_eq(synth_run_dir(path, s), 0);
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "import", path, "--db", db, NULL }), 0,
		     "%s", th_slurp(dir, "stderr"));
}

/* A lab with a real bench beside simulated ones: every page that draws on a
 * simulated run says so first, every such run carries its mark where it is
 * listed, and nothing of the real bench's is marked. */
Test(dashboard, a_simulated_run_is_marked_wherever_it_appears_and_a_real_one_never)
{
	static const struct {
		const char *id, *serial, *bench, *kind, *day;
	} runs[] = {
		{ "R-1", "SN-R", "REAL-1", "real", "2026-02-01" },
		{ "R-2", "SN-R", "REAL-1", "real", "2026-02-02" },
		/* from before results.json said: its virtual clock says */
		{ "S-1", "SN-S", "SIM-9", NULL, "2026-02-02" },
		{ "W-1", "SN-W", "WIRE-1", "wire-simulated", "2026-02-02" },
	};
	struct synth_value v = { "dose_accuracy", "steady", "dose_error", 0.1, 0.05, "%", -10, 10 };
	char *dir = th_tmpdir(), *db, *site, *page, path[4096];
	const char *row;

	cr_assert_geq(asprintf(&db, "sqlite:%s/history.sqlite", dir), 0);
	cr_assert_geq(asprintf(&site, "%s/site", dir), 0);
	snprintf(path, sizeof(path), "%s/runs", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		char started[32];
		struct synth_run s = { .run_id = runs[i].id, .device_serial = runs[i].serial,
				       .sequence_id = "SEQ", .bench_id = runs[i].bench,
				       .started_utc = started, .values = &v, .n_values = 1,
				       .balance_noise_mg = 0.02, .evaporation_mg_per_h = 0.05,
				       .reports = true, .bench_kind = runs[i].kind };

		snprintf(started, sizeof(started), "%sT02:00:00Z", runs[i].day);
		import_synth(dir, db, &s);
	}
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "dashboard", "--db", db, "--out", site,
						   NULL }), 0, "%s", th_slurp(dir, "stderr"));

	/* the front page: the count first, a mark on the simulated devices'
	 * rows of the matrix and on their benches' cards, none on the real */
	page = page_of(site, "index.html");
	cr_assert_not_null(strstr(page, "<p class=\"simbanner\"><strong>SIMULATED BENCH: NOT "
					"VERIFICATION EVIDENCE.</strong> 2 of the 4 runs "), "%s", page);
	cr_assert_lt(strstr(page, "simbanner") - page, strstr(page, "<h1>") - page);
	row = strstr(strstr(page, "id=\"matrix\""), "href=\"device/SN-R.html\"");
	cr_assert_not_null(row);
	cr_assert_lt(strstr(row, "</tr>") - row, strstr(row, "SIMULATED") - row,
		     "the real bench's device is marked in the matrix");
	row = strstr(strstr(page, "id=\"matrix\""), "href=\"device/SN-S.html\"");
	cr_assert_gt(strstr(row, "</tr>") - row, strstr(row, ">SIMULATED</span>") - row);
	row = strstr(strstr(page, "id=\"matrix\""), "href=\"device/SN-W.html\"");
	cr_assert_gt(strstr(row, "</tr>") - row, strstr(row, ">WIRE-SIMULATED</span>") - row);
	free(page);

	/* a real device's and a real bench's pages: nothing marked */
	page = page_of(site, "device/SN-R.html");
	cr_assert_null(strstr(page, "SIMULATED"), "%s", page);
	free(page);
	page = page_of(site, "bench/REAL-1.html");
	cr_assert_null(strstr(page, "SIMULATED"), "%s", page);
	free(page);

	/* a simulated one's: said first, and on its run's row and summary */
	page = page_of(site, "device/SN-S.html");
	cr_assert_not_null(strstr(page, "NOT VERIFICATION EVIDENCE.</strong> The one run "));
	cr_assert_eq(count_of(page, "<span class=\"v sim\" title=\"run on a simulated bench: not "
				    "verification evidence\">SIMULATED</span>"), 2, "%s", page);
	free(page);
	page = page_of(site, "bench/SIM-9.html");
	cr_assert_eq(count_of(page, ">SIMULATED</span>"), 1, "%s", page);
	free(page);
	page = page_of(site, "device/SN-W.html");
	cr_assert_eq(count_of(page, "title=\"run on a wire-simulated bench: not verification "
				    "evidence\">WIRE-SIMULATED</span>"), 2, "%s", page);
	free(page);
	free(site);
	free(db);
	free(dir);
}

/* A pass with deviations (an override, a note, a resumed gap) is said so
 * wherever the run's verdict is shown, as the report's first page says it,
 * and the front page counts it: a reviewer reads those before signing. */
Test(dashboard, a_pass_with_deviations_is_said_so_not_shown_as_a_plain_pass)
{
	struct synth_value v = { "dose_accuracy", "steady", "dose_error", 0.1, 0.05, "%", -10, 10 };
	char *dir = th_tmpdir(), *db, *site, *page, path[4096];
	static const char *const texts[] = { "pass", "pass with deviations" };

	cr_assert_geq(asprintf(&db, "sqlite:%s/history.sqlite", dir), 0);
	cr_assert_geq(asprintf(&site, "%s/site", dir), 0);
	snprintf(path, sizeof(path), "%s/runs", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	for (size_t i = 0; i < 2; i++) {
		char id[16], serial[16];
		struct synth_run s = { .run_id = id, .device_serial = serial, .sequence_id = "SEQ",
				       .bench_id = "REAL-1", .started_utc = "2026-02-02T02:00:00Z",
				       .values = &v, .n_values = 1, .balance_noise_mg = 0.02,
				       .evaporation_mg_per_h = 0.05, .reports = true,
				       .bench_kind = "real", .verdict_text = texts[i] };

		snprintf(id, sizeof(id), "D-%zu", i);
		snprintf(serial, sizeof(serial), "SN-D%zu", i);
		import_synth(dir, db, &s);
	}
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "dashboard", "--db", db, "--out", site,
						   NULL }), 0, "%s", th_slurp(dir, "stderr"));
	page = page_of(site, "index.html");
	cr_assert_not_null(strstr(page, "every device's newest run passed, <span class=\"v other\">1 "
					"with deviations</span>"), "%s", page);
	/* and the bench's card, which lists those runs, says it of that run */
	cr_assert_eq(count_of(page, "\xe2\x9c\x93 pass with deviations</span>"), 1, "%s", page);
	free(page);
	page = page_of(site, "device/SN-D1.html");
	cr_assert_not_null(strstr(page, "\xe2\x9c\x93 pass with deviations</span>"), "%s", page);
	free(page);
	page = page_of(site, "device/SN-D0.html");
	cr_assert_null(strstr(page, "with deviations"), "%s", page);
	cr_assert_not_null(strstr(page, "\xe2\x9c\x93 pass</span>"), "%s", page);
	free(page);
	free(site);
	free(db);
	free(dir);
}

/* An empty history: each section says there is nothing yet, and nothing
 * is claimed to have passed, since nothing was judged. */
Test(dashboard, an_empty_history_says_so_in_each_section_and_claims_no_pass)
{
	char *dir = th_tmpdir(), *db, *site, *page, *main_part;

	cr_assert_geq(asprintf(&db, "sqlite:%s/new.sqlite", dir), 0);
	cr_assert_geq(asprintf(&site, "%s/site", dir), 0);
	/* a store with nothing in it: sync makes one (the dashboard only reads) */
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "sync", "--db", db, "--runs", dir,
						   NULL }), 0, "%s", th_slurp(dir, "stderr"));
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "dashboard", "--db", db, "--out", site,
						   NULL }), 0, "%s", th_slurp(dir, "stderr"));
	page = page_of(site, "index.html");
	main_part = strstr(page, "<main>");
	cr_assert_not_null(main_part);
	cr_assert_null(strstr(main_part, "\xe2\x9c\x93"), "a pass mark: %s", main_part);
	cr_assert_null(strstr(main_part, "newest run passed"), "%s", main_part);
	cr_assert_not_null(strstr(main_part, "nothing judged yet"), "%s", main_part);
	cr_assert_not_null(strstr(main_part, "No runs yet, so no value is watched"), "%s", main_part);
	cr_assert_not_null(strstr(main_part, "No nights yet"), "%s", main_part);
	cr_assert_not_null(strstr(main_part, "No runs yet: nothing to compare"), "%s", main_part);
	cr_assert_not_null(strstr(main_part, "No bench has stored a run yet"), "%s", main_part);
	cr_assert_null(strstr(main_part, "<div class=\"cards\">\n</div>"), "%s", main_part);
	cr_assert_null(strstr(main_part, "<th scope=\"col\">bench</th>"), "an empty table: %s",
		       main_part);
	free(page);
	free(site);
	free(db);
	free(dir);
}

/* ------------------------------------------------------ chart geometry -- */

/* The width of 11 px text as svg.c reckons it (DejaVu Sans, 0.68 em a
 * character): the test holds the chart to the same measure. */
static double text_w11(const char *t, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)t[i] & 0xc0) != 0x80;
	return (double)n * 11 * 0.68;
}

/* The number after `key="` in tag, or NAN. */
static double attr_num(const char *tag, const char *end, const char *key)
{
	char k[32];
	const char *p = (snprintf(k, sizeof(k), " %s=\"", key), strstr(tag, k));

	return !p || p > end ? NAN : strtod(p + strlen(k), NULL);
}

struct svg_text {
	double x, y;
	const char *text;
	size_t len;
	bool end_anchor;
};

/* The <text> elements of one svg (from svg to its </svg>) whose class is
 * cls ("" for those without one). */
static size_t svg_texts(const char *svg, const char *cls, struct svg_text *out, size_t max)
{
	const char *stop = strstr(svg, "</svg>"), *p = svg;
	size_t n = 0;

	while ((p = strstr(p, "<text")) && p < stop && n < max) {
		const char *gt = strchr(p, '>'), *close = strstr(gt, "</text>");
		const char *c = strstr(p, " class=\"");
		bool has_cls = c && c < gt;

		if ((*cls && has_cls && !strncmp(c + 8, cls, strlen(cls)) && c[8 + strlen(cls)] == '"') ||
		    (!*cls && !has_cls)) {
			out[n] = (struct svg_text){ attr_num(p, gt, "x"), attr_num(p, gt, "y"), gt + 1,
						    (size_t)(close - gt - 1),
						    strstr(p, "text-anchor=\"end\"") &&
						    strstr(p, "text-anchor=\"end\"") < gt };
			n++;
		}
		p = gt;
	}
	return n;
}

static int by_y(const void *a, const void *b)
{
	double d = ((const struct svg_text *)a)->y - ((const struct svg_text *)b)->y;

	return d < 0 ? -1 : d > 0;
}

/* Values of a few millionths (a flow sensor minus the balance), a chart
 * whose control limits coincide (every run the same value), and a device
 * that drifts out of control on its last runs: the values on the axis fit
 * inside the chart and clear of the unit, share one power of ten instead of
 * each carrying "e-06", the lines' names and the flags' names keep a line
 * apart, the flags' names sit above the plot; and each chart keeps a width
 * that leaves its letters readable on a phone, scrolling in its own box. */
Test(dashboard, chart_labels_fit_and_keep_apart_and_charts_stay_readable_on_a_phone,
     .timeout = 300)
{
	struct synth_value v = { "dose_accuracy", "steady", "dose_error", 0, 1e-7, "%", -1e-5, 1e-5 };
	char *dir = th_tmpdir(), *db, *site, *page, path[4096];
	static const char *const serials[] = { "SN-TINY", "SN-FLAT" };
	struct svg_text t[64];
	size_t n, charts = 0;

	cr_assert_geq(asprintf(&db, "sqlite:%s/history.sqlite", dir), 0);
	cr_assert_geq(asprintf(&site, "%s/site", dir), 0);
	snprintf(path, sizeof(path), "%s/runs", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	for (size_t d = 0; d < 2; d++)
		for (int k = 0; k < 14; k++) {
			char id[32], started[32];
			struct synth_run s = { .run_id = id, .device_serial = serials[d],
					       .sequence_id = "SEQ", .bench_id = "B-1",
					       .started_utc = started, .values = &v, .n_values = 1,
					       .balance_noise_mg = 0.02, .evaporation_mg_per_h = 0.05 };

			snprintf(id, sizeof(id), "%s-%02d", serials[d], k);
			snprintf(started, sizeof(started), "2026-02-%02dT02:%02zu:00Z", k + 1, d);
			v.value = d ? -5e-6 : -6.158e-6 + 1e-9 * (double)(k % 3) +
					      (k >= 10 ? 6e-8 * (double)(k - 9) : 0);
			import_synth(dir, db, &s);
		}
	cr_assert_eq(th_rig(dir, (const char *[]){ "history", "dashboard", "--db", db, "--out", site,
						   NULL }), 0, "%s", th_slurp(dir, "stderr"));
	for (size_t d = 0; d < 2; d++) {
		char name[64];
		const char *svg;

		snprintf(name, sizeof(name), "device/%s.html", serials[d]);
		page = page_of(site, name);
		/* at 390 px the page does not shrink a chart below 640 of its 760
		 * units (11 px letters stay over 9 px): it scrolls in its box */
		cr_assert_not_null(strstr(page, "svg.plot{width:100%;min-width:640px"));
		cr_assert_not_null(strstr(page, ".plotbox{overflow-x:auto"));
		for (svg = page; (svg = strstr(svg, "<svg class=\"plot\"")); svg++) {
			double axis_top, ml;
			const char *ax = strstr(svg, "class=\"axis\" d=\"M"), *unit;

			charts++;
			cr_assert(!strncmp(svg - strlen("<div class=\"plotbox\">"),
					   "<div class=\"plotbox\">", strlen("<div class=\"plotbox\">")),
				  "a chart outside its scrolling box");
			cr_assert_not_null(ax);
			ml = strtod(ax + strlen("class=\"axis\" d=\"M"), (char **)&unit);
			axis_top = strtod(unit, NULL);
			/* the values: inside the chart, right of the unit's column */
			n = svg_texts(svg, "tick", t, 64);
			cr_assert_gt(n, 1, "no values on the axis of %s", name);
			for (size_t i = 0; i < n; i++) {
				cr_assert(t[i].end_anchor);
				cr_assert_geq(t[i].x - text_w11(t[i].text, t[i].len), 18.0,
					      "%s: '%.*s' at x %g runs into the unit or off the chart",
					      name, (int)t[i].len, t[i].text, t[i].x);
				cr_assert_lt(t[i].x, ml);
				cr_assert_null(memchr(t[i].text, 'e', t[i].len), "'%.*s'",
					       (int)t[i].len, t[i].text);
			}
			/* a shared power of ten, said with the unit */
			unit = strstr(svg, "<text class=\"unit\"");
			cr_assert_not_null(unit);
			cr_assert(strstr(unit, "\xc3\x97" "10\xe2\x81\xbb\xe2\x81\xb6 %</text>") ==
				  strchr(unit, '>') + 1, "%.80s", unit);
			/* the lines' names: a line apart at least */
			n = svg_texts(svg, "", t, 64);
			{
				struct svg_text names[8];
				size_t m = 0;

				for (size_t i = 0; i < n && m < 8; i++)
					if (t[i].len > 3 && (!strncmp(t[i].text, "UCL ", 4) ||
							     !strncmp(t[i].text, "CL ", 3) ||
							     !strncmp(t[i].text, "LCL ", 4)))
						names[m++] = t[i];
				cr_assert_eq(m, 3, "%s: %zu line names", name, m);
				qsort(names, m, sizeof(names[0]), by_y);
				for (size_t i = 1; i < m; i++)
					cr_assert_geq(names[i].y - names[i - 1].y, 13.0,
						      "%s: '%.*s' and '%.*s' %g px apart", name,
						      (int)names[i - 1].len, names[i - 1].text,
						      (int)names[i].len, names[i].text,
						      names[i].y - names[i - 1].y);
			}
			/* the flags' names: above the plot, a line apart, inside it */
			n = svg_texts(svg, "flag", t, 64);
			if (d == 0)
				cr_assert_geq(n, 2, "the drifting device has several open flags");
			qsort(t, n, sizeof(t[0]), by_y);
			for (size_t i = 0; i < n; i++) {
				cr_assert_lt(t[i].y, axis_top, "a flag's name inside the plot");
				cr_assert_geq(t[i].x - text_w11(t[i].text, t[i].len), ml - 1);
				cr_assert_leq(t[i].x, 760.0);
				if (i)
					cr_assert_geq(t[i].y - t[i - 1].y, 13.0);
			}
		}
		free(page);
	}
	cr_assert_geq(charts, 2);
	free(site);
	free(db);
	free(dir);
}

/* rig history: the run history (rig/history/, docs/history.md) from the
 * command line.  Every subcommand takes --db (else $PUMPRIG_HISTORY, else
 * the SQLite file in the runs folder) and prints a table for people or, with
 * --json, exactly what the library answers. */
#define _GNU_SOURCE  /* strptime, timegm */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include "rig/base/text.h"
#include "rig/dashboard/dashboard.h"

static const char usage_history[] =
	"Usage: rig history SUBCOMMAND [--db TEXT] [--runs DIR] [--json] ...\n"
	"\n"
	"The run history: every sealed run, remembered, compared and watched for drift.\n"
	"\n"
	"  list [--device SERIAL] [--sequence ID] [--bench ID] [--since DATE] [--limit N]\n"
	"                               the runs, newest first\n"
	"  show RUN                     one run: identity, inputs, instruments, checks, health,\n"
	"                               signatures\n"
	"  compare RUN_A RUN_B          what changed between two runs, and whether each\n"
	"  compare RUN --previous       check's change is significant (|d| > sqrt(Ua^2 + Ub^2));\n"
	"                               --previous: the run before of the same device and sequence\n"
	"  trend --device SERIAL --check NAME [--window W] [--measurement M] [--sequence ID]\n"
	"                               a value's control chart, run by run\n"
	"  watch                        the open drift flags; exit status 1 when there are any\n"
	"  trace [--model M] [--out DIR] requirements x runs: each requirement's latest and worst\n"
	"                               result, and per device model n, mean, s and the 95 %/95 %\n"
	"                               tolerance interval against the limit; prints it and writes\n"
	"                               DIR/trace.pdf and DIR/trace.html (default .)\n"
	"  baseline set RUN... [--operator NAME]\n"
	"                               make these runs the control charts' baseline, chosen by\n"
	"                               NAME (else $PUMPRIG_OPERATOR; refused without one)\n"
	"  nights [--bench ID] [--since DATE] [--limit N]\n"
	"                               the nights of rig nightly, newest first, with their runs\n"
	"  dashboard --out DIR [--runs-url URL] [--title TEXT]\n"
	"                               write the lab's morning view: a static site (index.html,\n"
	"                               a page per device and per bench) that opens from disk\n"
	"                               or any web server, offline; --runs-url: where the lab\n"
	"                               serves its runs folders ({bench}: the bench id), else\n"
	"                               runs are linked by relative paths on this machine\n"
	"  import DIR...                store sealed run directories and night directories\n"
	"                               (backfill)\n"
	"  sync                         store the runs and nights left pending while the store\n"
	"                               was away\n"
	"\n"
	"A RUN is a run id or a run directory. An option a subcommand does not read is\n"
	"refused (exit 2), never ignored.\n"
	"  --db TEXT      sqlite:PATH or postgresql://... (credentials from libpq's own service\n"
	"                 and password files); default $PUMPRIG_HISTORY, else\n"
	"                 sqlite:RUNS/history.sqlite\n"
	"  --runs DIR     the runs folder (default runs): the default store and the pending runs\n"
	"  --json         machine-readable output\n"
	"\n"
	"Exit status: 0; 1 when watch finds open flags or import/sync refused a run;\n"
	"2 bad usage or an unknown run; 3 the store could not be reached (or, for a command\n"
	"that only reads, a SQLite store that does not exist).\n";

struct hopts {
	const char *db, *runs, *out, *runs_url, *title, *model, *operator_name;
	bool json, previous;
	struct history_filter f;
	struct history_trend_query q;
	char *limit_text;
	char given[32];   /* the options given, by their letter below */
};

/* --since as every start is written (2026-12-01T02:00:00Z, compared as
 * text), or a date alone: a real day and time, nothing after them. */
static bool since_valid(const char *text)
{
	static const char *const forms[] = { "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d" };

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct tm tm = { 0 }, said;
		const char *end = strptime(text, forms[i], &tm);

		if (!end || *end || strlen(text) != (i ? 10u : 20u))
			continue;
		/* strptime takes 2026-02-30; timegm moves it to March */
		said = tm;
		if (timegm(&tm) != (time_t)-1 && tm.tm_mday == said.tm_mday &&
		    tm.tm_mon == said.tm_mon && tm.tm_year == said.tm_year)
			return true;
	}
	return false;
}

static const struct option opts[] = {
		{ "db", required_argument, NULL, 'D' }, { "runs", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'J' }, { "device", required_argument, NULL, 'd' },
		{ "sequence", required_argument, NULL, 's' }, { "bench", required_argument, NULL, 'b' },
		{ "since", required_argument, NULL, 'S' }, { "limit", required_argument, NULL, 'L' },
		{ "check", required_argument, NULL, 'c' }, { "window", required_argument, NULL, 'w' },
		{ "measurement", required_argument, NULL, 'm' }, { "model", required_argument, NULL, 'M' },
		{ "previous", no_argument, NULL, 'P' }, { "help", no_argument, NULL, 'h' },
		{ "out", required_argument, NULL, 'o' }, { "runs-url", required_argument, NULL, 'U' },
		{ "title", required_argument, NULL, 'T' },
		{ "operator", required_argument, NULL, 'O' }, { 0 },
};

/* What each subcommand reads besides --db, --runs and --json (and --help):
 * any other option is refused, never silently ignored. */
static const struct {
	const char *sub, *letters;
} sub_opts[] = {
	{ "list", "dsbSL" }, { "show", "" }, { "compare", "P" }, { "trend", "dscwm" },
	{ "watch", "" }, { "trace", "Mo" }, { "baseline", "O" }, { "nights", "bSL" },
	{ "dashboard", "oUT" }, { "import", "" }, { "sync", "" },
};

static const char *long_name(int letter)
{
	for (const struct option *op = opts; op->name; op++)
		if (op->val == letter)
			return op->name;
	return "?";
}

/* 0, or -1 with what was given that sub does not read said on stderr. */
static int refuse_unread(const char *sub, const struct hopts *o)
{
	for (size_t i = 0; i < sizeof(sub_opts) / sizeof(sub_opts[0]); i++) {
		if (strcmp(sub_opts[i].sub, sub) != 0)
			continue;
		for (const char *g = o->given; *g; g++) {
			if (strchr("DRJ", *g) || strchr(sub_opts[i].letters, *g))
				continue;
			fprintf(stderr, "rig history %s: --%s is not an option of %s; allowed:", sub,
				long_name(*g), sub);
			for (const char *a = sub_opts[i].letters; *a; a++)
				fprintf(stderr, " --%s,", long_name(*a));
			fprintf(stderr, " --db, --runs, --json\n");
			return -1;
		}
	}
	return 0;
}

static int parse(int argc, char **argv, struct hopts *o)
{
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		size_t n = strlen(o->given);

		if (c != 'h' && c != '?' && !strchr(o->given, c) && n + 1 < sizeof(o->given))
			o->given[n] = (char)c;
		switch (c) {
		case 'D': o->db = optarg; break;
		case 'R': o->runs = optarg; break;
		case 'J': o->json = true; break;
		case 'd': o->f.device_serial = o->q.device_serial = optarg; break;
		case 's': o->f.sequence_id = o->q.sequence_id = optarg; break;
		case 'b': o->f.bench_id = optarg; break;
		case 'S': o->f.since_utc = optarg; break;
		case 'L': o->limit_text = optarg; break;
		case 'c': o->q.check = optarg; break;
		case 'w': o->q.window = optarg; break;
		case 'm': o->q.measurement = optarg; break;
		case 'P': o->previous = true; break;
		case 'o': o->out = optarg; break;
		case 'U': o->runs_url = optarg; break;
		case 'T': o->title = optarg; break;
		case 'M': o->model = optarg; break;
		case 'O': o->operator_name = optarg; break;
		case 'h': fputs(usage_history, stdout); return 1;
		default:
			fprintf(stderr, "rig history: %s is not an option of rig history\n\n%s",
				TERM_SAFE(argv[optind - 1]), usage_history);
			return -1;
		}
	}
	if (o->f.since_utc && !since_valid(o->f.since_utc)) {
		fprintf(stderr, "rig history: --since %s: give a date, 2026-12-01, or a time in UTC, "
			"2026-12-01T02:00:00Z\n", TERM_SAFE(o->f.since_utc));
		return -1;
	}
	if (o->limit_text) {
		char *end;
		unsigned long n = strtoul(o->limit_text, &end, 10);

		if (*end || end == o->limit_text || n == 0 || n > 1000000) {
			fprintf(stderr, "rig history: --limit %s: give a whole number 1 .. 1000000\n",
				TERM_SAFE(o->limit_text));
			return -1;
		}
		o->f.limit = n;
	}
	return 0;
}

/* A number as results.json would say it, "-" when unknown. */
static const char *jnumtext(const json_t *o, const char *key, char *buf, size_t len)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		return "-";
	snprintf(buf, len, "%.6g", json_number_value(v));
	return buf;
}

static void print_json(const json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

	if (text)
		puts(text);
	free(text);
}

/* ----------------------------------------------------------- the views -- */

/* A run from a simulated bench is not verification evidence: said on its
 * row, whatever else the row says ("" for a real bench). */
static const char *sim_mark(const json_t *r)
{
	const char *mark = history_sim_mark(history_jstr(r, "bench_kind"), history_jstr(r, "clock"));

	return !strcmp(mark, "WIRE-SIMULATED") ? "WIRE-SIMULATED: not evidence"
		: *mark ? "SIMULATED: not evidence" : "";
}

/* The verdict in the report's words when the history has them. */
static const char *verdict_words(const json_t *r)
{
	const char *words = history_jstr(r, "verdict_text");

	return *words ? words : history_jstr(r, "verdict");
}

static void view_list(const json_t *runs)
{
	size_t i;
	const json_t *r;

	printf("%-36s %-20s %-14s %-16s %-10s %-20s %-12s %s\n", "run", "started (UTC)", "device",
	       "sequence", "bench", "verdict", "status", "bench kind");
	json_array_foreach(runs, i, r)
		printf("%-36s %-20s %-14s %-16s %-10s %-20s %-12s %s\n",
		       TERM_SAFE(history_jstr(r, "run_id")),
		       TERM_SAFE(history_jstr(r, "started")),
		       TERM_SAFE(history_jstr(r, "device_serial")),
		       TERM_SAFE(history_jstr(r, "sequence_id")),
		       TERM_SAFE(history_jstr(r, "bench_id")),
		       TERM_SAFE(verdict_words(r)), TERM_SAFE(history_jstr(r, "status")),
		       *sim_mark(r) ? sim_mark(r) : TERM_SAFE(history_jstr(r, "bench_kind")));
	printf("%zu run%s\n", json_array_size(runs), json_array_size(runs) == 1 ? "" : "s");
}

static void view_show(const json_t *run)
{
	static const char *const keys[] = { "run_id", "device_model", "device_serial",
		"device_firmware", "sequence_id", "sequence_version", "bench_id", "software", "host",
		"operator", "started", "ended", "clock", "bench_kind", "status", "end_reason",
		"verdict", "verdict_text", "run_dir",
		"manifest_sha256", "sealed_utc", "sealed_by", "signed_by", "seal_journal", NULL };
	const json_t *c, *m, *x;
	size_t i, k;
	char a[32], b[32];

	if (*sim_mark(run))
		printf("%s BENCH: NOT VERIFICATION EVIDENCE\n\n",
		       history_sim_mark(history_jstr(run, "bench_kind"), history_jstr(run, "clock")));
	for (i = 0; keys[i]; i++)
		printf("%-16s %s\n", keys[i], TERM_SAFE(history_jstr(run, keys[i])));
	printf("\ninputs\n");
	json_array_foreach(json_object_get(run, "inputs"), i, x)
		printf("  %-14s %s  %s\n", TERM_SAFE(history_jstr(x, "name")),
		       history_jstr(x, "sha256"),
		       TERM_SAFE(history_jstr(x, "source_path")));
	printf("\ninstruments\n");
	json_array_foreach(json_object_get(run, "instruments"), i, x)
		printf("  %-9s %-9s %-22s serial %-14s calibrated %-10s due %s\n",
		       TERM_SAFE(history_jstr(x, "role")), TERM_SAFE(history_jstr(x, "backend")),
		       TERM_SAFE(history_jstr(x, "model")), TERM_SAFE(history_jstr(x, "serial")),
		       TERM_SAFE(history_jstr(x, "cal_date")),
		       TERM_SAFE(history_jstr(x, "cal_due")));
	printf("\nchecks\n");
	json_array_foreach(json_object_get(run, "checks"), i, c) {
		printf("  %-12s %s [%s] %s: %s +- %s %s\n", TERM_SAFE(history_jstr(c, "verdict")),
		       TERM_SAFE(history_jstr(c, "check")), TERM_SAFE(history_jstr(c, "window")),
		       TERM_SAFE(history_jstr(c, "requirement")),
		       jnumtext(c, "measured", a, sizeof(a)),
		       jnumtext(c, "U", b, sizeof(b)), TERM_SAFE(history_jstr(c, "unit")));
		json_array_foreach(json_object_get(c, "measurements"), k, m)
			printf("               %-28s %s +- %s %s\n",
			       TERM_SAFE(history_jstr(m, "name")),
			       jnumtext(m, "value", a, sizeof(a)), jnumtext(m, "U", b, sizeof(b)),
			       TERM_SAFE(history_jstr(m, "unit")));
	}
	printf("\nbench health\n");
	json_array_foreach(json_object_get(run, "health"), i, x)
		printf("  %-28s [%s] %s +- %s %s\n", TERM_SAFE(history_jstr(x, "figure")),
		       TERM_SAFE(history_jstr(x, "window")), jnumtext(x, "value", a, sizeof(a)),
		       jnumtext(x, "U", b, sizeof(b)), TERM_SAFE(history_jstr(x, "unit")));
	printf("\nsignatures\n");
	if (!json_array_size(json_object_get(run, "signatures")))
		printf("  none\n");
	json_array_foreach(json_object_get(run, "signatures"), i, x) {
		char n[32];

		printf("  %-3s %-9s by %s at %s, key %s: %s\n", jnumtext(x, "line", n, sizeof(n)),
		       TERM_SAFE(history_jstr(x, "meaning")), TERM_SAFE(history_jstr(x, "signer")),
		       TERM_SAFE(history_jstr(x, "utc")), TERM_SAFE(history_jstr(x, "key")),
		       json_is_true(json_object_get(x, "valid")) ? "valid" : "NOT VALID");
	}
	printf("\nversions\n");
	json_array_foreach(json_object_get(run, "versions"), i, x) {
		char v[32];

		printf("  %-3s sealed %s by %s, %s\n", jnumtext(x, "version", v, sizeof(v)),
		       TERM_SAFE(history_jstr(x, "sealed_utc")),
		       TERM_SAFE(history_jstr(x, "sealed_by")),
		       TERM_SAFE(history_jstr(x, "verdict")));
	}
}

static void view_nights(const json_t *nights)
{
	const json_t *n, *r;
	size_t i, k;

	json_array_foreach(nights, i, n) {
		printf("%-34s %-10s %-20s %-10s %s%s%s\n", TERM_SAFE(history_jstr(n, "night_id")),
		       TERM_SAFE(history_jstr(n, "bench_id")),
		       TERM_SAFE(history_jstr(n, "started")),
		       TERM_SAFE(history_jstr(n, "status")), TERM_SAFE(history_jstr(n, "verdict")),
		       history_jstr(n, "reason")[0] ? ": " : "",
		       TERM_SAFE(history_jstr(n, "reason")));
		json_array_foreach(json_object_get(n, "runs"), k, r) {
			char d[32];

			printf("    job %lld #%lld %-16s %-12s %-36s %-12s %8s s%s\n",
			       (long long)json_integer_value(json_object_get(r, "job")),
			       (long long)json_integer_value(json_object_get(r, "repeat_index")),
			       TERM_SAFE(history_jstr(r, "sequence_id")),
			       TERM_SAFE(history_jstr(r, "device_serial")),
			       TERM_SAFE(history_jstr(r, "run_id")),
			       TERM_SAFE(history_jstr(r, "verdict")),
			       jnumtext(r, "duration_s", d, sizeof(d)),
			       json_is_true(json_object_get(r, "retry")) ? "  (run again)" : "");
		}
	}
	printf("%zu night%s\n", json_array_size(nights), json_array_size(nights) == 1 ? "" : "s");
}

/* A JSON value in words, for compare. */
static const char *jtext(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_number(v)) {
		snprintf(buf, len, "%.6g", json_number_value(v));
		return buf;
	}
	return json_is_null(v) || !v ? "-" : json_is_true(v) ? "true" : "false";
}

static void view_compare(const json_t *cmp)
{
	const json_t *x;
	size_t i;
	char a[64], b[64], d[32], u[32];
	bool any = false;

	printf("A  %s  %s\nB  %s  %s\n\n", TERM_SAFE(history_jstr(cmp, "run_a")),
	       TERM_SAFE(history_jstr(cmp, "started_a")), TERM_SAFE(history_jstr(cmp, "run_b")),
	       TERM_SAFE(history_jstr(cmp, "started_b")));
	printf("what changed\n");
	json_array_foreach(json_object_get(cmp, "identity"), i, x)
		if (json_is_true(json_object_get(x, "changed"))) {
			printf("  %-18s %s -> %s\n", TERM_SAFE(history_jstr(x, "field")),
			       TERM_SAFE(jtext(json_object_get(x, "a"), a, sizeof(a))),
			       TERM_SAFE(jtext(json_object_get(x, "b"), b, sizeof(b))));
			any = true;
		}
	json_array_foreach(json_object_get(cmp, "inputs"), i, x)
		if (json_is_true(json_object_get(x, "changed"))) {
			printf("  input %-12s changed (SHA-256)\n",
			       TERM_SAFE(history_jstr(x, "name")));
			any = true;
		}
	json_array_foreach(json_object_get(cmp, "instruments"), i, x)
		if (json_is_true(json_object_get(x, "changed"))) {
			printf("  instrument %-7s changed (model, serial or calibration)\n",
			       TERM_SAFE(history_jstr(x, "role")));
			any = true;
		}
	if (!any)
		printf("  nothing: same software, inputs, instruments and calibrations\n");
	printf("\n%-52s %14s %14s %14s %14s  %s\n", "value", "A", "B", "B - A",
	       "sqrt(Ua2+Ub2)", "significant");
	json_array_foreach(json_object_get(cmp, "values"), i, x) {
		const json_t *sig = json_object_get(x, "significant");
		char name[128];

		snprintf(name, sizeof(name), "%s [%s] %s", history_jstr(x, "check"),
			 history_jstr(x, "window"),
			 history_jstr(x, "measurement"));
		printf("%-52s %14s %14s %14s %14s  %s\n", TERM_SAFE(name),
		       jtext(json_object_get(x, "a"), a, sizeof(a)),
		       jtext(json_object_get(x, "b"), b, sizeof(b)),
		       jtext(json_object_get(x, "delta"), d, sizeof(d)),
		       jtext(json_object_get(x, "U_combined"), u, sizeof(u)),
		       json_is_true(sig) ? "YES" : json_is_false(sig) ? "no" : "(no U)");
	}
}

static void view_flags(const json_t *flags)
{
	const json_t *f;
	size_t i;

	if (json_array_size(flags) == 0) {
		printf("no open flags\n");
		return;
	}
	json_array_foreach(flags, i, f) {
		const json_t *s = json_object_get(f, "series"), *runs = json_object_get(f, "runs");
		char subject[256];

		snprintf(subject, sizeof(subject), "%s %s %s %s [%s] %s",
			 history_jstr(s, "device_serial")[0] ? history_jstr(s, "device_serial") :
			 						history_jstr(s, "bench_id"),
			 history_jstr(s, "sequence_id"), history_jstr(s, "check"),
			 history_jstr(s, "kind"),
			 history_jstr(s, "window"), history_jstr(s, "measurement"));
		printf("FLAG  %s: %s\n      series %s\n      runs  ",
		       TERM_SAFE(history_jstr(f, "rule")),
		       TERM_SAFE(history_jstr(f, "rule_text")), TERM_SAFE(subject));
		for (size_t k = 0; k < json_array_size(runs); k++)
			printf("%s%s", k ? ", " : "", TERM_SAFE(json_string_value(json_array_get(runs, k))));
		printf("\n");
	}
	printf("%zu open flag%s\n", json_array_size(flags), json_array_size(flags) == 1 ? "" : "s");
}

static void view_trend(const json_t *t)
{
	const json_t *series = json_object_get(t, "series"), *s, *p;
	size_t i, k;
	char a[32], b[32], c[32];

	if (!series)
		series = t;
	json_array_foreach(series, i, s) {
		const json_t *chart = json_object_get(s, "chart");
		/* what the series is: its own object ("series"), else the entry */
		const json_t *id = json_is_object(json_object_get(s, "series")) ?
				   json_object_get(s, "series") : s;

		printf("%s %s [%s] %s (%s)\n", TERM_SAFE(history_jstr(id, "sequence_id")),
		       TERM_SAFE(history_jstr(id, "check")), TERM_SAFE(history_jstr(id, "window")),
		       TERM_SAFE(history_jstr(id, "measurement")),
		       TERM_SAFE(history_jstr(id, "unit")));
		if (json_is_true(json_object_get(chart, "valid")))
			printf("  chart: centre %s, limits %s .. %s (sigma from the average moving "
			       "range of the baseline)\n", jnumtext(chart, "centre", a, sizeof(a)),
			       jnumtext(chart, "lcl", b, sizeof(b)), jnumtext(chart, "ucl", c, sizeof(c)));
		else
			printf("  chart: not yet (the baseline needs more runs)\n");
		json_array_foreach(json_object_get(s, "points"), k, p) {
			const json_t *rules = json_object_get(p, "rules");
			size_t r;
			const json_t *rv;

			printf("  %-20s %-36s %14s", TERM_SAFE(history_jstr(p, "started")),
			       TERM_SAFE(history_jstr(p, "run_id")),
			       jnumtext(p, "value", a, sizeof(a)));
			if (json_is_true(json_object_get(p, "baseline")))
				printf("  baseline");
			json_array_foreach(rules, r, rv)
				printf("  %s", TERM_SAFE(json_string_value(rv)));
			printf("\n");
		}
		view_flags(json_object_get(s, "open_flags"));
	}
}

/* ------------------------------------------------------------ commands -- */

struct sync_print {
	bool json;
	size_t refused, ingested;
	json_t *out;
};

static void on_synced(void *ctx, const char *run_dir, const struct history_ingest_result *res)
{
	struct sync_print *sp = ctx;
	static const char *const words[] = { "stored", "already stored", "REFUSED" };

	if (res->outcome == HISTORY_REFUSED)
		sp->refused++;
	else if (res->outcome == HISTORY_INGESTED)
		sp->ingested++;
	if (sp->json)
		json_array_append_new(sp->out, json_pack("{s:s, s:s, s:s, s:i, s:s}", "run_dir",
			run_dir, "outcome", words[res->outcome], "run_id", res->run_id, "version",
			res->version, "reason", res->reason));
	else
		printf("%-15s %s%s%s\n", words[res->outcome], TERM_SAFE(run_dir),
		       res->outcome == HISTORY_REFUSED ? ": " : "",
		       res->outcome == HISTORY_REFUSED ? TERM_SAFE(res->reason) : "");
}

static int do_import(struct history *h, char **dirs, int n, bool json)
{
	struct history_ingest_result *res = calloc((size_t)n, sizeof(*res));
	struct sync_print sp = { .json = json, .out = json ? json_array() : NULL };
	char err[512] = "";
	int r;

	if (!res)
		return EXIT_ABORTED;
	/* run directories 64 to a transaction, then the night directories
	 * (after the runs they name) */
	for (int i = 0; i < n;) {
		const char *batch[64];
		int m = 0, idx[64];

		for (; i < n && m < 64; i++) {
			if (history_is_night_dir(dirs[i]))
				continue;
			idx[m] = i;
			batch[m++] = dirs[i];
		}
		if (!m)
			break;
		r = history_ingest_run_dirs(h, batch, (size_t)m, res, err, sizeof(err));
		if (r < 0)
			goto failed;
		for (int k = 0; k < m; k++)
			on_synced(&sp, dirs[idx[k]], &res[k]);
	}
	for (int i = 0; i < n; i++) {
		if (!history_is_night_dir(dirs[i]))
			continue;
		r = history_ingest_night_dir(h, dirs[i], &res[0], err, sizeof(err));
		if (r < 0)
			goto failed;
		on_synced(&sp, dirs[i], &res[0]);
	}
	history_after_bulk(h, sp.ingested);
	if (json)
		print_json(sp.out);
	json_decref(sp.out);
	free(res);
	return sp.refused ? EXIT_CHECK_FAILED : EXIT_PASS;
failed:
	fprintf(stderr, "rig history import: %s\n", TERM_SAFE(err));
	free(res);
	json_decref(sp.out);
	return EXIT_ABORTED;
}

/* rig history dashboard: the site, and what it took. */
static int do_dashboard(struct history *h, const struct hopts *o)
{
	struct dashboard_opts d = { .out_dir = o->out, .runs_url = o->runs_url, .title = o->title };
	struct dashboard_result res;
	char err[1024] = "";
	int r = dashboard_generate(h, &d, &res, err, sizeof(err));

	if (r == -EINVAL) {
		fprintf(stderr, "rig history dashboard: %s\n", TERM_SAFE(err));
		return EXIT_BAD_INPUT;
	}
	if (r < 0) {
		fprintf(stderr, "rig history dashboard: %s\n", TERM_SAFE(err));
		return EXIT_ABORTED;
	}
	if (o->json) {
		json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f}",
			"out", o->out, "pages", (json_int_t)res.pages, "runs", (json_int_t)res.runs,
			"devices", (json_int_t)res.devices, "benches", (json_int_t)res.benches,
			"nights", (json_int_t)res.nights, "open_flags", (json_int_t)res.open_flags,
			"front_bytes", (json_int_t)res.front_bytes,
			"total_bytes", (json_int_t)res.total_bytes, "read_s", res.read_s,
			"write_s", res.write_s);

		print_json(j);
		json_decref(j);
	} else {
		printf("%s/index.html: %zu pages (%zu devices, %zu benches) from %zu runs and %zu "
		       "nights, %zu open flag%s; front page %.0f kB, all %.1f MB; read %.2f s, "
		       "written %.2f s\n", TERM_SAFE(o->out), res.pages, res.devices, res.benches,
		       res.runs, res.nights, res.open_flags, res.open_flags == 1 ? "" : "s",
		       res.front_bytes / 1e3, res.total_bytes / 1e6, res.read_s, res.write_s);
	}
	return EXIT_PASS;
}

static int history_main(int argc, char **argv)
{
	struct hopts o = { .runs = "runs" };
	char db[RIG_PATH_MAX + 32], err[1024] = "", spool[RIG_PATH_MAX + 32];
	struct history *h = NULL;
	json_t *out = NULL;
	const char *sub;
	int r, n_pos, status = EXIT_PASS;
	char **pos;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(usage_history, stdout);
			return EXIT_PASS;
		}
		fprintf(stderr, "rig history: which? list, show, compare, trend, watch, baseline, "
			"nights, dashboard, import or sync\n\n%s", usage_history);
		return EXIT_BAD_INPUT;
	}
	sub = argv[1];
	r = parse(argc - 1, argv + 1, &o);
	if (r != 0)
		return r > 0 ? EXIT_PASS : EXIT_BAD_INPUT;
	pos = argv + 1 + optind;
	n_pos = argc - 1 - optind;
	history_resolve(o.db, o.runs, db, sizeof(db));
	snprintf(spool, sizeof(spool), "%s/%s", o.runs, HISTORY_SPOOL_DIR);

	/* usage first, then the store */
	if (!strcmp(sub, "list") || !strcmp(sub, "watch") || !strcmp(sub, "sync") ||
	    !strcmp(sub, "nights") || !strcmp(sub, "trace")) {
		if (n_pos != 0)
			goto usage;
		if (!strcmp(sub, "nights") && (o.f.device_serial || o.f.sequence_id)) {
			fprintf(stderr, "rig history nights: --%s does not select nights (a night "
				"runs several devices and sequences); allowed: --bench, --since, "
				"--limit\n", o.f.device_serial ? "device" : "sequence");
			return EXIT_BAD_INPUT;
		}
	} else if (!strcmp(sub, "dashboard")) {
		struct dashboard_opts d = { .out_dir = o.out, .runs_url = o.runs_url };

		if (n_pos != 0 || !o.out || !*o.out) {
			fprintf(stderr, "rig history dashboard: give --out DIR, the folder for the "
				"site\n\n%s", usage_history);
			return EXIT_BAD_INPUT;
		}
		if (dashboard_check_opts(&d, err, sizeof(err)) < 0) {
			fprintf(stderr, "rig history dashboard: %s; nothing was written\n",
				TERM_SAFE(err));
			return EXIT_BAD_INPUT;
		}
	} else if (!strcmp(sub, "show")) {
		if (n_pos != 1)
			goto usage;
	} else if (!strcmp(sub, "compare")) {
		if (n_pos != (o.previous ? 1 : 2))
			goto usage;
	} else if (!strcmp(sub, "trend")) {
		if (n_pos != 0 || !o.q.device_serial || !o.q.check)
			goto usage;
	} else if (!strcmp(sub, "baseline")) {
		if (n_pos < 2 || strcmp(pos[0], "set") != 0)
			goto usage;
	} else if (!strcmp(sub, "import")) {
		if (n_pos < 1)
			goto usage;
	} else {
		fprintf(stderr, "rig history: no subcommand %s\n\n%s", TERM_SAFE(sub), usage_history);
		return EXIT_BAD_INPUT;
	}
	if (refuse_unread(sub, &o) < 0)
		return EXIT_BAD_INPUT;
	/* a command that only reads never makes a store: a mistyped --runs or
	 * --db would otherwise answer "0 runs", or a green empty dashboard */
	if (strncmp(db, "sqlite:", 7) == 0 && access(db + 7, F_OK) != 0 && errno == ENOENT &&
	    strcmp(sub, "import") != 0 && strcmp(sub, "sync") != 0 && strcmp(sub, "baseline") != 0) {
		fprintf(stderr, "rig history %s: no run history at %s (no run was stored there; "
			"give the runs folder with --runs, or the store with --db)\n", sub,
			TERM_SAFE(db + 7));
		return EXIT_ABORTED;
	}
	if (lab_open_history(db, o.runs, &h, err, sizeof(err)) < 0) {
		fprintf(stderr, "rig history: %s\n", TERM_SAFE(err));   /* err names the store */
		return EXIT_ABORTED;
	}
	if (!strcmp(sub, "list")) {
		r = history_list(h, &o.f, &out, err, sizeof(err));
		if (r == 0)
			o.json ? print_json(out) : view_list(out);
	} else if (!strcmp(sub, "show")) {
		r = history_show(h, pos[0], &out, err, sizeof(err));
		if (r == 0)
			o.json ? print_json(out) : view_show(out);
	} else if (!strcmp(sub, "compare")) {
		char prev[HISTORY_RUN_ID_MAX];
		const char *a = pos[0], *b = o.previous ? pos[0] : pos[1];

		r = 0;
		if (o.previous) {
			r = history_previous(h, pos[0], prev, err, sizeof(err));
			a = prev;
		}
		if (r == 0)
			r = history_compare(h, a, b, &out, err, sizeof(err));
		if (r == 0)
			o.json ? print_json(out) : view_compare(out);
	} else if (!strcmp(sub, "trend")) {
		struct spc_params p;

		spc_params_default(&p);
		r = history_trend(h, &o.q, &p, &out, err, sizeof(err));
		if (r == 0)
			o.json ? print_json(out) : view_trend(out);
	} else if (!strcmp(sub, "nights")) {
		r = history_nights(h, &o.f, &out, err, sizeof(err));
		if (r == 0)
			o.json ? print_json(out) : view_nights(out);
	} else if (!strcmp(sub, "dashboard")) {
		status = do_dashboard(h, &o);
		r = 0;
	} else if (!strcmp(sub, "trace")) {
		r = history_trace_rows(h, o.model, &out, err, sizeof(err));
		if (r == 0)
			status = lab_trace(out, o.model, o.out ? o.out : ".", o.json);
	} else if (!strcmp(sub, "watch")) {
		struct spc_params p;

		spc_params_default(&p);
		r = history_watch(h, &p, &out, err, sizeof(err));
		if (r == 0) {
			o.json ? print_json(out) : view_flags(out);
			status = json_array_size(out) ? EXIT_CHECK_FAILED : EXIT_PASS;
		}
	} else if (!strcmp(sub, "baseline")) {
		const char *who;

		if (operator_require("history baseline", o.operator_name, &who) < 0) {
			history_close(h);
			return EXIT_BAD_INPUT;
		}
		r = history_baseline_set(h, (const char *const *)pos + 1, (size_t)n_pos - 1,
					 who, &out, err, sizeof(err));
		if (r == 0)
			o.json ? print_json(out) : (void)printf("baseline set from %d run%s\n",
								 n_pos - 1, n_pos == 2 ? "" : "s");
	} else if (!strcmp(sub, "import")) {
		status = do_import(h, pos, n_pos, o.json);
		r = 0;
	} else {   /* sync */
		struct sync_print sp = { .json = o.json, .out = o.json ? json_array() : NULL };
		struct history_sync_result sr;

		r = history_sync(h, spool, on_synced, &sp, &sr, err, sizeof(err));
		if (r == 0) {
			if (o.json)
				print_json(sp.out);
			else
				printf("%zu stored, %zu already stored, %zu refused, %zu gone\n",
				       sr.ingested, sr.already_present, sr.refused, sr.gone);
			status = sr.refused ? EXIT_CHECK_FAILED : EXIT_PASS;
		}
		json_decref(sp.out);
	}
	json_decref(out);
	history_close(h);
	if (r == -ENOENT || r == -EINVAL) {   /* an unknown run; what cannot be asked */
		fprintf(stderr, "rig history %s: %s\n", sub, TERM_SAFE(err));
		return EXIT_BAD_INPUT;
	}
	if (r < 0) {
		fprintf(stderr, "rig history %s: %s\n", sub, TERM_SAFE(err));
		return EXIT_ABORTED;
	}
	return status;
usage:
	fprintf(stderr, "rig history %s: wrong arguments\n\n%s", TERM_SAFE(sub), usage_history);
	return EXIT_BAD_INPUT;
}

const struct rig_command cmd_history = { "history", usage_history, history_main };

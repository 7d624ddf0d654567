/* rig: the pumprig command line.
 *
 * Exit status: 0 every check passed; 1 a check failed or could not be judged;
 * 2 bad input or usage; 3 the run was aborted (fault, limit, signal). */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "results.h"
#include "calibrate.h"
#include "probe.h"
#include "units.h"
#include "rundir.h"
#include "calgate.h"
#include "integrity.h"
#include "notes.h"
#include "lock.h"
#include "recorder.h"
#include "resume.h"
#include "drivers/sim/wire.h"
#include "version.h"
#include "../reports/reports.h"

enum { EXIT_PASS = 0, EXIT_CHECK_FAILED = 1, EXIT_BAD_INPUT = 2, EXIT_ABORTED = 3,
       EXIT_INTEGRITY = 4, EXIT_BENCH_BUSY = 5 };

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	/* Only a flag: the engine notices it, puts the bench in its safe state
	 * and records why.  A second signal sets it again and changes nothing,
	 * so it cannot skip the safe-state sequence. */
	stop_signal = sig;
}

/* A crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT: rig's own fault) leaves
 * this process untrustworthy, so nothing in it makes the bench safe: the
 * handler, on its own stack, replaces the process by a fresh `rig safe` for
 * the same bench and run directory (execv is async-signal-safe), which stops
 * the pump, sets the valve and output lines safe, records why and reports.
 * The arguments are built before the run; the handler only picks them. */
enum { CRASH_SIGNALS = 5 };
static const int crash_signals[CRASH_SIGNALS] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
static const char *const crash_names[CRASH_SIGNALS] = { "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL",
							 "SIGABRT" };
static char crash_bench[RIG_PATH_MAX], crash_run[RIG_PATH_MAX];
static char *crash_argv[CRASH_SIGNALS][9];
static char crash_stack[64 * 1024];

static void on_crash(int sig)
{
	static const char msg[] = "rig: crashed; making the bench safe in a fresh process "
				  "(rig safe)\n";

	for (int i = 0; i < CRASH_SIGNALS; i++)
		if (crash_signals[i] == sig) {
			(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
			execv("/proc/self/exe", crash_argv[i]);
		}
	raise(sig);   /* SA_RESETHAND: the default action, a core if so configured */
}

static void install_crash_handler(const char *bench_path, const char *run_dir)
{
	struct sigaction sa = { .sa_handler = on_crash, .sa_flags = SA_ONSTACK | SA_RESETHAND };
	stack_t ss = { .ss_sp = crash_stack, .ss_size = sizeof(crash_stack) };

	snprintf(crash_bench, sizeof(crash_bench), "%s", bench_path);
	snprintf(crash_run, sizeof(crash_run), "%s", run_dir);
	for (int i = 0; i < CRASH_SIGNALS; i++) {
		char **a = crash_argv[i];

		a[0] = "rig";
		a[1] = "safe";
		a[2] = "--bench";
		a[3] = crash_bench;
		a[4] = "--run-dir";
		a[5] = crash_run;
		a[6] = "--crashed";
		a[7] = (char *)crash_names[i];
		a[8] = NULL;
	}
	sigaltstack(&ss, NULL);
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < CRASH_SIGNALS; i++)
		sigaction(crash_signals[i], &sa, NULL);
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static const char usage_main[] =
	"Usage: rig COMMAND [OPTIONS]\n"
	"\n"
	"Hardware-in-the-loop test rig for implantable drug pumps.\n"
	"\n"
	"Commands:\n"
	"  run SEQUENCE --bench FILE --dut FILE [--output DIR]   run a sequence and judge it\n"
	"  validate SEQUENCE --bench FILE --dut FILE             check the files; touches no hardware\n"
	"  report RUN_DIR [--sign-key FILE]                      judge a recorded run again\n"
	"  resume RUN_DIR                                        continue an interrupted run\n"
	"  note RUN_DIR TEXT [--operator NAME]                   add an operator note to a run\n"
	"  verify RUN_DIR [--public-key FILE]                    check a run against its manifest\n"
	"                                                        and signature\n"
	"  keygen --out FILE                                     make the station's signing key\n"
	"  probe --bench FILE                                    open every instrument, read one value\n"
	"  safe --bench FILE [--run-dir RUN_DIR]                 make a bench safe (pump stopped,\n"
	"                                                        valve and outputs at safe levels)\n"
	"  calibrate scale --bench FILE --reference MASS          two-point calibration of the scale\n"
	"  sim serve --bench FILE [--port N] [--listen ADDR]     serve the simulated bench over\n"
	"                                                        the wire (libiio network protocol)\n"
	"  help [COMMAND]                                        this text, or a command's\n"
	"\n"
	"  --version   print the version\n"
	"\n"
	"Exit status: 0 all checks passed, 1 a check failed or was inconclusive,\n"
	"2 bad input or usage, 3 run aborted (fault, limit, signal), 4 the run directory\n"
	"could not be sealed or was altered after it was sealed (rig verify: 1),\n"
	"5 bench busy (another run holds its lock).\n";

static const char usage_run[] =
	"Usage: rig run SEQUENCE --bench FILE --dut FILE [--output DIR] [--real-time] [--quiet]\n"
	"               [--operator NAME] [--note TEXT]... [--sign-key FILE]\n"
	"               [--allow-expired-calibration]\n"
	"\n"
	"Validates the three files, then runs SEQUENCE on the bench against the device\n"
	"under test, recording every sample, and judges the checks.\n"
	"\n"
	"  -b, --bench FILE    bench file (fixtures/bench/*.cfg)\n"
	"  -d, --dut FILE      device-under-test file (fixtures/dut/*.cfg)\n"
	"  -o, --output DIR    run directory to create (must not exist);\n"
	"                      default runs/<UTC time>-<sequence id>\n"
	"      --real-time     on a simulated bench, run in real time instead of virtual time\n"
	"  -q, --quiet         no progress output\n"
	"      --operator NAME who runs it, into run.json and the notes (default\n"
	"                      $PUMPRIG_OPERATOR, else the login name)\n"
	"      --note TEXT     an operator note for notes.jsonl at the start (repeatable)\n"
	"      --sign-key FILE sign the run's manifest with this key (rig keygen);\n"
	"                      default $PUMPRIG_SIGN_KEY, else unsigned\n"
	"      --allow-expired-calibration\n"
	"                      run although an instrument's calibration is overdue\n"
	"                      (recorded in run.json and events.jsonl); without it such\n"
	"                      a run is refused with exit status 2 before anything starts\n"
	"\n"
	"The run directory holds inputs/ (copies of the files), run.json, samples.csv,\n"
	"events.jsonl, notes.jsonl, results.json, summary.txt, junit.xml, data/ (one\n"
	"CSV per instrument) and SHA256SUMS (the manifest; SHA256SUMS.sig when signed).\n";

static const char usage_validate[] =
	"Usage: rig validate SEQUENCE --bench FILE --dut FILE\n"
	"\n"
	"Loads and cross-checks the three files and reports every problem as\n"
	"file:line: what is wrong; what is allowed.  Opens no instrument.\n"
	"Exit status 0 when valid, 2 otherwise.\n";

static const char usage_report[] =
	"Usage: rig report RUN_DIR [--sign-key FILE | --unsign]\n"
	"\n"
	"Judges a recorded run again from its raw data alone (inputs/, events.jsonl,\n"
	"samples.csv) and rewrites results.json, summary.txt, junit.xml and data/;\n"
	"works for aborted and interrupted runs too.  Then seals the run again\n"
	"(SHA256SUMS, signed with --sign-key or $PUMPRIG_SIGN_KEY).\n"
	"\n"
	"A sealed run is first checked against its manifest: when any file but those\n"
	"the report writes has changed, appeared or gone, or the signature does not\n"
	"match, nothing is written, the old manifest stays, and the exit status is 4.\n"
	"A run without a manifest (it crashed before rig run sealed it) is sealed,\n"
	"marked in SHA256SUMS as sealed after the fact.  A signed run is sealed again\n"
	"only with a key, or unsigned on purpose with --unsign (else exit status 4).\n"
	"Exit status as for run, and 4 as above.\n";

static const char usage_note[] =
	"Usage: rig note RUN_DIR TEXT [--operator NAME] [--sign-key FILE | --unsign]\n"
	"\n"
	"Appends {\"utc\", \"operator\", \"text\"} to RUN_DIR/notes.jsonl.  A sealed run is\n"
	"checked against its manifest first (every file: exit status 4 when anything\n"
	"differs, and nothing is written) and sealed again afterwards.\n"
	"  --operator NAME   default $PUMPRIG_OPERATOR, else the login name\n"
	"  --sign-key FILE   default $PUMPRIG_SIGN_KEY, else the new seal is unsigned\n"
	"  --unsign          seal a signed run again without its signature (else a\n"
	"                    signed run without a key is refused: exit status 4)\n";

static const char usage_verify[] =
	"Usage: rig verify RUN_DIR [--public-key FILE]\n"
	"\n"
	"Recomputes the SHA-256 of every file in RUN_DIR and compares with SHA256SUMS:\n"
	"prints every ADDED, CHANGED and MISSING file, and checks SHA256SUMS.sig.\n"
	"With --public-key (a .pub file from rig keygen) the run must be signed by\n"
	"that key.  Exit status 0 when everything matches, 1 when anything does not\n"
	"(or there is no manifest), 2 for usage.\n";

static const char usage_keygen[] =
	"Usage: rig keygen --out FILE\n"
	"\n"
	"Makes an Ed25519 key pair for signing run manifests: FILE holds the secret\n"
	"key (mode 0600; keep it on the station), FILE.pub the public key to give to\n"
	"whoever checks the records (rig verify --public-key FILE.pub).  Neither file\n"
	"may exist already.\n";

static const char usage_probe[] =
	"Usage: rig probe --bench FILE\n"
	"\n"
	"Opens every instrument the bench file names, reads one value from each and\n"
	"prints a table: role, backend, device or line, the reading with its unit, the\n"
	"calibration due date, and OK or the error.  Exit status 0 when every instrument\n"
	"answered, 1 when one did not, 2 for a bad bench file.\n";

static int cmd_probe(int argc, char **argv)
{
	struct diag_list diags = { 0 };
	struct bench *bench = NULL;
	int r;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_probe, stdout);
		return EXIT_PASS;
	}
	if (argc != 3 || (strcmp(argv[1], "--bench") && strcmp(argv[1], "-b"))) {
		fprintf(stderr, "rig probe: --bench FILE is required\n\n%s", usage_probe);
		return EXIT_BAD_INPUT;
	}
	if (bench_load(argv[2], &bench, &diags) < 0) {
		diag_print(&diags, stderr);
		diag_clear(&diags);
		return EXIT_BAD_INPUT;
	}
	signal(SIGPIPE, SIG_IGN);
	r = rig_probe(bench, stdout);
	bench_free(bench);
	if (r < 0) {
		fprintf(stderr, "rig probe: %s\n", strerror(-r));
		return EXIT_ABORTED;
	}
	return r > 0 ? EXIT_CHECK_FAILED : EXIT_PASS;
}

static const char usage_calibrate[] =
	"Usage: rig calibrate scale --bench FILE --reference MASS [--record FILE]\n"
	"\n"
	"Two-point calibration of the bench's scale with a reference mass (\"20 g\"):\n"
	"asks for the empty pan, then for the reference on it (press Enter at each),\n"
	"averages 10 settled readings at each point through the scale's own backend\n"
	"(a balance: zeroed on the empty pan, then its stable weight, S; a load cell:\n"
	"readings flagged unstable left out) with the\n"
	"bench file's calibration set aside, and prints the calibration group to put\n"
	"in the bench file, dated today and due in a year.  The raw points and the\n"
	"result are written to --record (default calibration-scale-<date>.cfg; never\n"
	"overwritten).\n";

static int cmd_calibrate(int argc, char **argv)
{
	const char *bench_path = NULL, *ref_text = NULL, *record = NULL;
	struct diag_list diags = { 0 };
	struct bench *bench = NULL;
	char default_record[64];
	double ref_g;
	int r;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_calibrate, stdout);
		return EXIT_PASS;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--bench"))
			bench_path = argv[i + 1];
		else if (!strcmp(argv[i], "--reference"))
			ref_text = argv[i + 1];
		else if (!strcmp(argv[i], "--record"))
			record = argv[i + 1];
	}
	if (argc < 2 || strcmp(argv[1], "scale") != 0 || !bench_path || !ref_text || argc % 2) {
		fprintf(stderr, "rig calibrate: usage\n\n%s", usage_calibrate);
		return EXIT_BAD_INPUT;
	}
	if (qty_parse(ref_text, QTY_MASS, &ref_g) < 0 || !(ref_g > 0)) {
		fprintf(stderr, "rig calibrate: --reference \"%s\" is not a mass with a unit; "
			"write it like \"20 g\" (units: %s)\n", ref_text, qty_kind_units(QTY_MASS));
		return EXIT_BAD_INPUT;
	}
	if (bench_load(bench_path, &bench, &diags) < 0) {
		diag_print(&diags, stderr);
		diag_clear(&diags);
		return EXIT_BAD_INPUT;
	}
	if (!record) {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(default_record, sizeof(default_record), "calibration-scale-%Y-%m-%d.cfg", &tm);
		record = default_record;
	}
	signal(SIGPIPE, SIG_IGN);
	r = rig_calibrate_scale(bench, ref_g, record, stdin, stdout);
	bench_free(bench);
	if (r < 0) {
		fprintf(stderr, "rig calibrate scale: %s\n", r == -EDOM ?
			"the reference mass changed nothing: is it on the pan?" : r == -ERANGE ?
			"the scale reports an overload or underload: is the pan free, the mass "
			"within its range?" : strerror(-r));
		return r == -EEXIST ? EXIT_BAD_INPUT : EXIT_ABORTED;
	}
	printf("record written to %s\n", record);
	return EXIT_PASS;
}

static const char usage_sim[] =
	"Usage: rig sim serve --bench FILE [--port N] [--listen ADDR] [--links DIR] [--real-time]\n"
	"\n"
	"Serves the physics of the bench file's simulator group the way hardware does:\n"
	"the sensors and the valve DAC over libiio's network protocol (iiod) on TCP,\n"
	"shaped like the kernel's hx711, ina226 and ads1015 drivers, the pump's command\n"
	"link and an MT-SICS balance on pseudo-terminals (docs/wire-simulator.md).\n"
	"Prints one endpoint per line (\"iio ip:HOST:PORT\", \"pump PATH\", \"balance PATH\"),\n"
	"then \"ready\", and serves until SIGINT or SIGTERM.\n"
	"\n"
	"  -b, --bench FILE     bench file with a simulator group\n"
	"  -p, --port N         TCP port (default 0: any free port, printed)\n"
	"  -l, --listen ADDR    address to bind (default 127.0.0.1: loopback only)\n"
	"      --links DIR      also make DIR/pump and DIR/balance links to the terminals\n"
	"      --real-time      simulated time follows the wall clock; by default it moves\n"
	"                       only when rig writes pumprig-clock/time_ns (lockstep)\n";

static int cmd_sim(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bench", required_argument, NULL, 'b' }, { "port", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' }, { "real-time", no_argument, NULL, 'r' },
		{ "links", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	struct wire_opts wo = { .addr = "127.0.0.1", .announce = stdout, .stop = &stop_signal };
	const char *bench_path = NULL;
	struct diag_list diags = { 0 };
	struct bench *bench = NULL;
	char *end;
	int c, r;

	if (argc < 2 || strcmp(argv[1], "serve") != 0) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(usage_sim, stdout);
			return EXIT_PASS;
		}
		fprintf(stderr, "rig sim: expected \"serve\"\n\n%s", usage_sim);
		return EXIT_BAD_INPUT;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "b:p:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': bench_path = optarg; break;
		case 'l': wo.addr = optarg; break;
		case 'r': wo.real_time = true; break;
		case 'k': wo.links_dir = optarg; break;
		case 'p':
			wo.port = (unsigned)strtoul(optarg, &end, 10);
			if (*end || wo.port > 65535) {
				fprintf(stderr, "rig sim serve: --port must be 0..65535\n");
				return EXIT_BAD_INPUT;
			}
			break;
		case 'h': fputs(usage_sim, stdout); return EXIT_PASS;
		default: fputs(usage_sim, stderr); return EXIT_BAD_INPUT;
		}
	}
	if (!bench_path || optind != argc) {
		fprintf(stderr, "rig sim serve: --bench is required\n\n%s", usage_sim);
		return EXIT_BAD_INPUT;
	}
	if (bench_load(bench_path, &bench, &diags) < 0 || !bench->has_sim) {
		diag_print(&diags, stderr);
		if (bench)
			fprintf(stderr, "%s: no simulator group to serve\n", bench_path);
		diag_clear(&diags);
		bench_free(bench);
		return EXIT_BAD_INPUT;
	}
	install_signals();
	wo.bench = bench;
	r = sim_wire_serve(&wo);
	if (r < 0)
		fprintf(stderr, "rig sim serve: cannot serve on %s:%u: %s\n", wo.addr, wo.port,
			strerror(-r));
	bench_free(bench);
	return r < 0 ? EXIT_BAD_INPUT : EXIT_PASS;
}

#define RUN_NOTES_MAX 16

struct files {
	const char *seq_path, *bench_path, *dut_path, *out_dir;
	bool real_time, quiet;
	const char *operator_name, *sign_key;
	const char *notes[RUN_NOTES_MAX];
	size_t n_notes;
	bool allow_expired_calibration;
};

static int parse_files(int argc, char **argv, struct files *f, const char *usage)
{
	static const struct option opts[] = {
		{ "bench", required_argument, NULL, 'b' },
		{ "dut", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "real-time", no_argument, NULL, 'R' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "operator", required_argument, NULL, 'O' },
		{ "note", required_argument, NULL, 'N' },
		{ "sign-key", required_argument, NULL, 'K' },
		{ "allow-expired-calibration", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "b:d:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'O': f->operator_name = optarg; break;
		case 'K': f->sign_key = optarg; break;
		case 'X': f->allow_expired_calibration = true; break;
		case 'N':
			if (f->n_notes == RUN_NOTES_MAX) {
				fprintf(stderr, "rig: more than %d --note options; put the rest in one "
					"note or add them later with rig note\n", RUN_NOTES_MAX);
				return -1;
			}
			f->notes[f->n_notes++] = optarg;
			break;
		case 'b': f->bench_path = optarg; break;
		case 'd': f->dut_path = optarg; break;
		case 'o': f->out_dir = optarg; break;
		case 'R': f->real_time = true; break;
		case 'q': f->quiet = true; break;
		case 'h': fputs(usage, stdout); return 1;
		default: fputs(usage, stderr); return -1;
		}
	}
	if (optind + 1 != argc || !f->bench_path || !f->dut_path) {
		fprintf(stderr, "rig: %s\n\n%s",
			optind >= argc ? "no sequence file given" :
			optind + 1 < argc ? "more than one sequence file given" :
			!f->bench_path ? "--bench is required" : "--dut is required", usage);
		return -1;
	}
	f->seq_path = argv[optind];
	return 0;
}

static int load_all(const struct files *f, struct sequence **seq, struct bench **bench,
		    struct device **dev)
{
	struct diag_list diags = { 0 };

	/* Every file is loaded even when an earlier one failed: all problems in
	 * one pass. */
	int rs = seq_load(f->seq_path, seq, &diags);
	int rb = bench_load(f->bench_path, bench, &diags);
	int rd = device_load(f->dut_path, dev, &diags);

	if (rs == 0 && rb == 0 && rd == 0)
		plan_validate(*seq, *bench, *dev, &diags);
	if (diags.n > 0) {
		diag_print(&diags, stderr);
		fprintf(stderr, "rig: %zu problem%s found; nothing was run\n", diags.n,
			diags.n == 1 ? "" : "s");
		diag_clear(&diags);
		return -EINVAL;
	}
	return rs < 0 ? rs : rb < 0 ? rb : rd;
}

static bool all_simulated(const struct bench *bench)
{
	if (bench->sim_clock_uri[0])
		return true;   /* a wire-level simulator in lockstep with rig */
	for (int role = 0; role < ROLE__COUNT; role++)
		if (bench->instrument[role].present && strcmp(bench->instrument[role].backend, "sim") != 0)
			return false;
	return true;
}

/* The operator: --operator, else $PUMPRIG_OPERATOR, else the login name. */
static const char *operator_resolve(const char *given)
{
	const char *env = getenv("PUMPRIG_OPERATOR");
	const struct passwd *pw;

	if (given)
		return given;
	if (env && *env)
		return env;
	pw = getpwuid(geteuid());
	return pw && pw->pw_name ? pw->pw_name : "unknown";
}

static bool operator_valid(const char *name)
{
	if (!*name || strlen(name) >= RIG_TEXT_MAX)
		return false;
	for (const char *c = name; *c; c++)
		if ((unsigned char)*c < 0x20)
			return false;
	return true;
}

/* The signing key: --sign-key, else $PUMPRIG_SIGN_KEY, else none (0).
 * Loaded before anything happens, so a bad key never costs a run. */
static int sign_key_resolve(const char *given, const char *cmd, struct sig_secret_key *key,
			    bool *ret_have)
{
	const char *path = given ? given : getenv("PUMPRIG_SIGN_KEY");
	int r;

	*ret_have = false;
	if (!path || !*path)
		return 0;
	r = sig_secret_key_load(path, key);
	if (r < 0) {
		fprintf(stderr, "rig %s: %s: %s\n", cmd, path,
			r == -EACCES ? "group or others may read this secret key; chmod 600 it "
				       "(or make a new one with rig keygen)" :
			r == -EBADMSG ? "not a pumprig secret key (rig keygen --out FILE makes one)" :
			strerror(-r));
		return r;
	}
	*ret_have = true;
	return 0;
}

static void print_change(void *ctx, enum manifest_change c, const char *path)
{
	fprintf((FILE *)ctx, "%-8s %s\n", manifest_change_name(c), path);
}

/* A sealed run must still match its manifest before rig report or rig note
 * write into it (docs/integrity.md): raw_only lets the files that report
 * writes anyway differ.  Returns 0 with *ret_sealed, or an exit status. */
static int sealed_precheck(const char *run_dir, const char *cmd, bool raw_only, bool have_key,
			   bool unsign, bool *ret_sealed)
{
	struct integrity_result ir;
	int r;

	*ret_sealed = false;
	fflush(stdout);
	r = integrity_check(run_dir, raw_only ? report_output_is_derived : NULL, NULL,
			    print_change, stderr, &ir);
	if (r < 0) {
		fprintf(stderr, "rig %s: cannot read %s: %s\n", cmd, run_dir, strerror(-r));
		return EXIT_BAD_INPUT;
	}
	if (!ir.manifest_found)
		return 0;
	*ret_sealed = true;
	if (ir.manifest_malformed) {
		fprintf(stderr, "rig %s: %s/%s:%zu: not a manifest line; the seal itself was "
			"altered: nothing written (rig verify says the same)\n", cmd, run_dir,
			MANIFEST_NAME, ir.manifest_bad_line);
		return EXIT_INTEGRITY;
	}
	if (ir.sig_found && (ir.sig_malformed || !ir.sig_valid)) {
		fprintf(stderr, "rig %s: %s/%s does not match the manifest: the seal was altered; "
			"nothing written\n", cmd, run_dir, MANIFEST_SIG_NAME);
		return EXIT_INTEGRITY;
	}
	if (ir.n_added + ir.n_changed + ir.n_missing > 0) {
		fprintf(stderr, "rig %s: %s WAS ALTERED after it was sealed (%zu added, %zu changed, "
			"%zu missing%s, listed above); nothing was written and the old "
			"manifest stays, so rig verify keeps failing\n", cmd, run_dir, ir.n_added,
			ir.n_changed, ir.n_missing, raw_only ? ", not counting the report's own outputs" : "");
		return EXIT_INTEGRITY;
	}
	if ((ir.sig_found || ir.signed_by_key[0]) && !have_key && !unsign) {
		fprintf(stderr, "rig %s: %s is signed (key %s); sealing it again without the key "
			"would leave it unsigned: give --sign-key FILE (or $PUMPRIG_SIGN_KEY)%s; "
			"nothing written\n", cmd, run_dir,
			ir.sig_fingerprint[0] ? ir.sig_fingerprint : ir.signed_by_key,
			strcmp(cmd, "resume") ? ", or --unsign to seal it unsigned on purpose" : "");
		return EXIT_INTEGRITY;
	}
	return 0;
}

static int seal(const char *run_dir, const char *cmd, const struct seal_opts *so)
{
	bool stale = false;
	int r = integrity_seal(run_dir, so, &stale);

	if (r < 0) {
		fprintf(stderr, "rig %s: cannot seal %s: %s\n", cmd, run_dir,
			r == -EPERM ? "it is signed, and no key was given (--sign-key, or --unsign)" :
			r == -EINVAL ? "it holds something that is not a regular file or directory "
				       "(a symlink?), or a name with a newline or backslash" :
			strerror(-r));
		return EXIT_INTEGRITY;
	}
	if (stale)
		fprintf(stderr, "rig %s: %s was signed; it is now sealed again unsigned (give "
			"--sign-key or $PUMPRIG_SIGN_KEY to sign it)\n", cmd, run_dir);
	return 0;
}

/* Judges the run, writes every report, then seals the directory (so the
 * manifest covers every report file) when so is not NULL. */
static int judge(const char *run_dir, bool print, const char *cmd, const struct seal_opts *so)
{
	struct run_results *res;
	char err[1024] = "";
	int r, status;

	/* the room a crashed recorder kept: not part of the record */
	recorder_drop_reserve(run_dir);
	r = results_analyse(run_dir, &res, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "rig: cannot judge %s: %s\n", run_dir, err);
		return EXIT_ABORTED;
	}
	r = report_write_all(res, run_dir);
	if (r < 0) {
		/* a report left from an earlier judgement would now say less than
		 * the record: none is better than a stale one */
		static const char *const documents[] = { "report.pdf", "report.html" };
		char path[RIG_PATH_MAX + 16];

		for (size_t i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "%s/%s", run_dir, documents[i]);
			(void)unlink(path);
		}
		fprintf(stderr, "rig: cannot write the results into %s: %s (no report: the raw "
			"data are intact; rig report %s tries again)\n", run_dir, strerror(-r), run_dir);
	}
	if (print)
		report_write_summary(res, stdout);
	status = results_exit_status(res);
	results_free(res);
	if (so) {
		int rs = seal(run_dir, cmd, so);

		if (rs != 0 && r == 0)
			return rs;
	}
	return r < 0 ? EXIT_ABORTED : status;
}

/* One run per bench: takes the bench's lock or says who holds it.  Returns
 * 0, or the exit status to give up with. */
static int take_bench_lock(const struct bench *bench, const char *run_dir,
			   struct bench_lock **lock, char *stale, size_t stale_len)
{
	char holder[1024], words[1200];
	int r = bench_lock_acquire(bench->id, run_dir, lock, holder, sizeof(holder), stale,
				   stale_len);

	if (r == -EBUSY) {
		bench_lock_describe(holder, words, sizeof(words));
		fprintf(stderr, "rig: bench %s is busy: %s; one run per bench at a time "
			"(nothing was started)\n", bench->id, words);
		return EXIT_BENCH_BUSY;
	}
	if (r < 0) {
		fprintf(stderr, "rig: cannot lock bench %s: %s\n", bench->id, holder);
		return EXIT_BAD_INPUT;
	}
	return 0;
}

/* The calibration gate of rig run (starting) and rig resume: each overdue
 * instrument named with its bench file line; false when one is overdue and
 * the operator did not take it on.  today and expired are filled for the
 * record either way. */
static bool calibration_gate(const struct bench *bench, bool allow, bool starting,
			     char today[UTC_DATE_LEN + 1], struct cal_expired expired[ROLE__COUNT],
			     size_t *ret_n)
{
	size_t n;

	calgate_today_utc(today);
	n = calgate_expired(bench, today, expired);
	*ret_n = n;
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s:%d: %s (serial %s): calibration was due %s, before today "
			"(%s UTC); %s\n", bench->path, expired[i].line, rig_role_name(expired[i].role),
			expired[i].serial[0] ? expired[i].serial : "not stated", expired[i].due, today,
			allow ? (starting ? "running anyway (--allow-expired-calibration; recorded in "
					    "run.json and events.jsonl)" :
					    "resuming anyway (--allow-expired-calibration; recorded in "
					    "events.jsonl)") :
			starting ? "recalibrate it and update the bench file, or run with "
				   "--allow-expired-calibration (recorded in the run)" :
				   "recalibrate it, or resume with --allow-expired-calibration "
				   "(recorded in the run)");
	if (n > 0 && !allow) {
		fprintf(stderr, "rig: %zu instrument%s overdue for calibration; nothing was %s\n", n,
			n == 1 ? "" : "s", starting ? "run" : "resumed");
		return false;
	}
	return true;
}

static int cmd_run(int argc, char **argv, int full_argc, char **full_argv)
{
	struct bench_lock *lock = NULL;
	char stale[1024] = "";
	struct files f = { 0 };
	struct sequence *seq = NULL;
	struct bench *bench = NULL;
	struct device *dev = NULL;
	char dir[RIG_PATH_MAX], err[1024] = "", today[UTC_DATE_LEN + 1];
	struct cal_expired expired[ROLE__COUNT];
	struct sig_secret_key key;
	struct run_meta meta;
	struct engine_opts o;
	size_t n_expired;
	bool have_key;
	int r, status;

	r = parse_files(argc, argv, &f, usage_run);
	if (r != 0)
		return r > 0 ? EXIT_PASS : EXIT_BAD_INPUT;
	f.operator_name = operator_resolve(f.operator_name);
	if (!operator_valid(f.operator_name)) {
		fprintf(stderr, "rig run: --operator must be a non-empty name without control "
			"characters, shorter than %d bytes\n", RIG_TEXT_MAX);
		return EXIT_BAD_INPUT;
	}
	for (size_t i = 0; i < f.n_notes; i++)
		if (!f.notes[i][0] || strlen(f.notes[i]) > NOTE_TEXT_MAX) {
			fprintf(stderr, "rig run: --note must hold 1 to %d bytes of text\n", NOTE_TEXT_MAX);
			return EXIT_BAD_INPUT;
		}
	if (sign_key_resolve(f.sign_key, "run", &key, &have_key) < 0)
		return EXIT_BAD_INPUT;
	if (load_all(&f, &seq, &bench, &dev) < 0) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	/* The calibration gate: an overdue instrument stops the run here, before
	 * any file or instrument is touched, unless the operator takes it on. */
	if (!calibration_gate(bench, f.allow_expired_calibration, true, today, expired,
			      &n_expired)) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	meta = (struct run_meta){ .operator_name = f.operator_name,
				  .allow_expired_calibration = f.allow_expired_calibration,
				  .expired = expired, .n_expired = n_expired };
	if (!f.real_time && !all_simulated(bench))
		f.real_time = true;   /* virtual time only drives a simulated bench */
	if (f.out_dir)
		snprintf(dir, sizeof(dir), "%s", f.out_dir);
	else
		rundir_default_path(seq, dir, sizeof(dir));
	status = take_bench_lock(bench, dir, &lock, stale, sizeof(stale));
	if (status != 0)
		goto out;
	r = rundir_create_meta(dir, seq, bench, dev, full_argc, full_argv, !f.real_time, &meta,
			       err, sizeof(err));
	/* A default name taken by a run started in the same second gets a
	 * suffix; a name the user chose is never silently changed. */
	for (int n = 2; r == -EEXIST && !f.out_dir && n < 100; n++) {
		char base[sizeof(dir)];

		rundir_default_path(seq, base, sizeof(base));
		snprintf(dir, sizeof(dir), "%.*s-%d", (int)sizeof(base) - 8, base, n);
		r = rundir_create_meta(dir, seq, bench, dev, full_argc, full_argv, !f.real_time,
				       &meta, err, sizeof(err));
	}
	if (r < 0) {
		fprintf(stderr, "rig: %s\n", err);
		status = EXIT_BAD_INPUT;
		goto out;
	}
	for (size_t i = 0; i < f.n_notes; i++) {
		r = notes_append(dir, f.operator_name, f.notes[i]);
		if (r < 0) {
			fprintf(stderr, "rig: %s/%s: cannot write the note: %s; nothing was run\n", dir,
				NOTES_NAME, r == -EILSEQ ? "it is not UTF-8 text" : strerror(-r));
			status = EXIT_BAD_INPUT;
			goto out;
		}
	}
	bench_lock_set_run_dir(lock, dir);
	if (!f.quiet)
		fprintf(stderr, "rig: %s on bench %s (%s time), device %s %s\nrig: recording to %s\n",
			seq->id, bench->id, f.real_time ? "real" : "virtual", dev->model, dev->serial,
			dir);
	install_signals();
	install_crash_handler(f.bench_path, dir);
	o = (struct engine_opts){
		.seq = seq, .bench = bench, .dev = dev, .run_dir = dir,
		.virtual_time = !f.real_time,
		.progress = f.quiet ? NULL : stderr,
		.progress_live = isatty(STDERR_FILENO),
		.stop_signal = &stop_signal,
		.calibration_today = n_expired > 0 ? today : NULL,
		.lock_path = bench_lock_path(lock), .lock_stale_holder = stale,
	};
	r = engine_run(&o, err, sizeof(err));
	if (r < 0 && r != -ECANCELED)
		fprintf(stderr, "rig: %s\n", err);
	else if (r == -ECANCELED)
		fprintf(stderr, "rig: run aborted: %s\n", err);
	status = judge(dir, true, "run", &(struct seal_opts){ .sealed_by = "rig run",
		.key = have_key ? &key : NULL, .first = true });
	if (r < 0 && status != EXIT_INTEGRITY)
		status = EXIT_ABORTED;
	fprintf(stderr, "rig: results in %s/results.json\n", dir);
out:
	sodium_memzero(&key, sizeof(key));
	bench_lock_release(lock);
	seq_free(seq);
	bench_free(bench);
	device_free(dev);
	return status;
}

static const char usage_safe[] =
	"Usage: rig safe --bench FILE [--run-dir RUN_DIR] [--reason TEXT]\n"
	"\n"
	"Makes the bench safe from a process of its own: opens only its pump, valve\n"
	"and output lines (a broken sensor cannot stand in the way), stops the pump\n"
	"(retried), sets the valve and the output lines to their safe levels, and\n"
	"prints what each did.  With --run-dir, a run that was interrupted (no run_end\n"
	"in its events.jsonl) gets the fault, the safe state and its end recorded,\n"
	"then is judged and sealed as rig report would.  rig run starts this itself\n"
	"when it crashes (--crashed SIGNAL).  Exit status 0 when the bench is safe, 3\n"
	"when something did not answer (or after a crash), 2 for bad input.\n";

static int cmd_safe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bench", required_argument, NULL, 'b' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "reason", required_argument, NULL, 'R' },
		{ "crashed", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *bench_path = NULL, *run_dir = NULL, *reason = NULL, *crashed = NULL;
	struct diag_list diags = { 0 };
	struct bench *bench = NULL;
	char why[512], err[1024] = "";
	bool recorded = false;
	int c, r, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': bench_path = optarg; break;
		case 'r': run_dir = optarg; break;
		case 'R': reason = optarg; break;
		case 'C': crashed = optarg; break;
		case 'h': fputs(usage_safe, stdout); return EXIT_PASS;
		default: fputs(usage_safe, stderr); return EXIT_BAD_INPUT;
		}
	}
	if (!bench_path || optind != argc) {
		fprintf(stderr, "rig safe: --bench FILE is required\n\n%s", usage_safe);
		return EXIT_BAD_INPUT;
	}
	if (bench_load(bench_path, &bench, &diags) < 0) {
		diag_print(&diags, stderr);
		diag_clear(&diags);
		return EXIT_BAD_INPUT;
	}
	if (crashed)
		snprintf(why, sizeof(why), "internal error: rig crashed (%s); the bench was made "
			 "safe by a fresh process (rig safe)", crashed);
	else
		snprintf(why, sizeof(why), "%s", reason ? reason : "made safe by hand (rig safe)");
	install_signals();   /* a signal now is noted, never obeyed: see engine.c */
	r = engine_make_safe(&(struct engine_opts){ .bench = bench, .run_dir = run_dir,
		.virtual_time = all_simulated(bench), .stop_signal = &stop_signal }, why, &recorded,
		err, sizeof(err));
	if (r < 0 && r != -EIO)
		fprintf(stderr, "rig safe: %s\n", err[0] ? err : strerror(-r));
	status = r == 0 && !crashed ? EXIT_PASS : EXIT_ABORTED;
	printf("rig safe: the bench %s%s\n", r == 0 ? "is safe" : "MAY NOT BE SAFE",
	       recorded ? "; the run's record says so" : "");
	if (recorded) {
		struct sig_secret_key key;
		bool have_key;

		if (sign_key_resolve(NULL, "safe", &key, &have_key) == 0) {
			(void)judge(run_dir, false, "safe", &(struct seal_opts){
				.sealed_by = "rig safe", .key = have_key ? &key : NULL, .first = true });
			if (have_key)
				sodium_memzero(&key, sizeof(key));
		}
	}
	bench_free(bench);
	return status;
}

static const char usage_resume[] =
	"Usage: rig resume RUN_DIR [--quiet] [--allow-expired-calibration] [--sign-key FILE]\n"
	"\n"
	"Continues a run that was interrupted (crash, kill, power loss: no run_end in\n"
	"its events.jsonl) with the inputs copied into RUN_DIR/inputs/: re-opens the\n"
	"bench, makes it safe, sets again the rate and valve state the sequence had\n"
	"set, and runs the sequence again from the step that was in progress (an\n"
	"interrupted bolus is not given again), appending to samples.csv and\n"
	"events.jsonl.  The gap is recorded (a resume event with gap_begin_s and\n"
	"gap_s, wall time since the record was last written) and run time continues\n"
	"across it; checks whose window spans it are inconclusive.  Exit status as\n"
	"for run; 2 for a run that ended, 5 when the bench is busy.  A run sealed\n"
	"after the fact (rig report) must still match its manifest; the resumed run\n"
	"is sealed again at its end, signed with --sign-key FILE or $PUMPRIG_SIGN_KEY.\n"
	"The calibration gate of rig run applies again on the day of the resume: an\n"
	"instrument whose calibration fell due meanwhile stops it (exit 2) unless\n"
	"--allow-expired-calibration is given, which events.jsonl and the report record.\n";

static int cmd_resume(int argc, char **argv)
{
	struct files f = { 0 };
	char seq_path[RIG_PATH_MAX], bench_path[RIG_PATH_MAX], dut_path[RIG_PATH_MAX];
	char err[1024] = "", stale[1024] = "", today[UTC_DATE_LEN + 1];
	struct cal_expired expired[ROLE__COUNT];
	const char *run_dir = NULL;
	size_t n_expired;
	struct sequence *seq = NULL;
	struct bench *bench = NULL;
	struct device *dev = NULL;
	struct bench_lock *lock = NULL;
	struct engine_resume rs;
	struct engine_opts o;
	struct sig_secret_key key;
	bool virtual_time = false, have_key = false, sealed = false;
	int r, status;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_resume, stdout);
			return EXIT_PASS;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			f.quiet = true;
		} else if (!strcmp(argv[i], "--allow-expired-calibration")) {
			f.allow_expired_calibration = true;
		} else if (!strcmp(argv[i], "--sign-key") && i + 1 < argc) {
			f.sign_key = argv[++i];
		} else if (argv[i][0] == '-' || run_dir) {
			fprintf(stderr, "rig: resume: unexpected '%s'\n\n%s", argv[i], usage_resume);
			return EXIT_BAD_INPUT;
		} else {
			run_dir = argv[i];
		}
	}
	if (!run_dir) {
		fprintf(stderr, "rig: resume takes one run directory\n\n%s", usage_resume);
		return EXIT_BAD_INPUT;
	}
	snprintf(seq_path, sizeof(seq_path), "%s/inputs/sequence.cfg", run_dir);
	snprintf(bench_path, sizeof(bench_path), "%s/inputs/bench.cfg", run_dir);
	snprintf(dut_path, sizeof(dut_path), "%s/inputs/device.cfg", run_dir);
	f.seq_path = seq_path;
	f.bench_path = bench_path;
	f.dut_path = dut_path;
	if (load_all(&f, &seq, &bench, &dev) < 0) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	if (sign_key_resolve(f.sign_key, "resume", &key, &have_key) < 0) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	/* The calibration gate, as for rig run, on the day of the resume: a
	 * run of days may outlive an instrument's due date. */
	if (!calibration_gate(bench, f.allow_expired_calibration, false, today, expired,
			      &n_expired)) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	status = sealed_precheck(run_dir, "resume", true, have_key, false, &sealed);
	if (status != 0)
		goto out;
	status = take_bench_lock(bench, run_dir, &lock, stale, sizeof(stale));
	if (status != 0)
		goto out;
	r = resume_plan(run_dir, seq, bench, &rs, &virtual_time, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "rig: cannot resume: %s\n", err);
		status = EXIT_BAD_INPUT;
		goto out;
	}
	if (!all_simulated(bench))
		virtual_time = false;
	if (!f.quiet)
		fprintf(stderr, "rig: resuming %s at step %zu of %zu after a gap of %.0f s from t = %.3f s\n",
			run_dir, rs.first_step + 1, seq->n_steps, rig_ns_to_s(rs.gap_ns),
			rig_ns_to_s(rs.gap_begin_ns));
	install_signals();
	install_crash_handler(bench_path, run_dir);
	o = (struct engine_opts){
		.seq = seq, .bench = bench, .dev = dev, .run_dir = run_dir,
		.virtual_time = virtual_time,
		.progress = f.quiet ? NULL : stderr,
		.progress_live = isatty(STDERR_FILENO),
		.stop_signal = &stop_signal,
		.lock_path = bench_lock_path(lock), .lock_stale_holder = stale,
		.calibration_today = n_expired > 0 ? today : NULL,
		.resume = &rs,
	};
	r = engine_run(&o, err, sizeof(err));
	if (r < 0 && r != -ECANCELED)
		fprintf(stderr, "rig: %s\n", err);
	else if (r == -ECANCELED)
		fprintf(stderr, "rig: run aborted: %s\n", err);
	status = judge(run_dir, !f.quiet, "resume", &(struct seal_opts){
		.sealed_by = "rig resume", .key = have_key ? &key : NULL, .first = !sealed });
	if (r < 0 && status != EXIT_INTEGRITY)
		status = EXIT_ABORTED;
out:
	if (have_key)
		sodium_memzero(&key, sizeof(key));
	bench_lock_release(lock);
	seq_free(seq);
	bench_free(bench);
	device_free(dev);
	return status;
}

static int cmd_validate(int argc, char **argv)
{
	struct files f = { 0 };
	struct sequence *seq = NULL;
	struct bench *bench = NULL;
	struct device *dev = NULL;
	int r = parse_files(argc, argv, &f, usage_validate);

	if (r != 0)
		return r > 0 ? EXIT_PASS : EXIT_BAD_INPUT;
	r = load_all(&f, &seq, &bench, &dev);
	if (r == 0)
		printf("%s: %zu steps, valid for bench %s and device %s\n", f.seq_path, seq->n_steps,
		       bench->id, dev->model);
	seq_free(seq);
	bench_free(bench);
	device_free(dev);
	return r == 0 ? EXIT_PASS : EXIT_BAD_INPUT;
}

/* Options shared by report, note and verify: RUN_DIR and up to one more
 * positional argument, --operator, --sign-key, --public-key. */
struct dir_opts {
	const char *run_dir, *text, *operator_name, *sign_key, *public_key;
	bool unsign;
};

static int parse_dir_opts(int argc, char **argv, const char *usage, size_t n_pos,
			  const char *allowed, struct dir_opts *d)
{
	static const struct option opts[] = {
		{ "operator", required_argument, NULL, 'O' },
		{ "sign-key", required_argument, NULL, 'K' },
		{ "public-key", required_argument, NULL, 'P' },
		{ "unsign", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'h' && c != '?' && !strchr(allowed, c)) {
			fprintf(stderr, "rig: %s does not apply here\n\n%s", argv[optind - 1], usage);
			return -1;
		}
		switch (c) {
		case 'O': d->operator_name = optarg; break;
		case 'K': d->sign_key = optarg; break;
		case 'P': d->public_key = optarg; break;
		case 'U': d->unsign = true; break;
		case 'h': fputs(usage, stdout); return 1;
		default: fputs(usage, stderr); return -1;
		}
	}
	if ((size_t)(argc - optind) != n_pos) {
		fprintf(stderr, "rig: expected %s\n\n%s", n_pos == 1 ? "one run directory" :
			"a run directory and a text", usage);
		return -1;
	}
	d->run_dir = argv[optind];
	d->text = n_pos > 1 ? argv[optind + 1] : NULL;
	return 0;
}

static int cmd_report(int argc, char **argv)
{
	struct dir_opts d = { 0 };
	struct sig_secret_key key;
	bool have_key, sealed;
	int r = parse_dir_opts(argc, argv, usage_report, 1, "KU", &d), status;

	if (r != 0)
		return r > 0 ? EXIT_PASS : EXIT_BAD_INPUT;
	if (sign_key_resolve(d.sign_key, "report", &key, &have_key) < 0)
		return EXIT_BAD_INPUT;
	status = sealed_precheck(d.run_dir, "report", true, have_key, d.unsign, &sealed);
	if (status != 0)
		goto out;
	if (!sealed)
		fprintf(stderr, "rig report: %s has no manifest: sealing it now, marked as sealed "
			"after the fact\n", d.run_dir);
	status = judge(d.run_dir, true, "report", &(struct seal_opts){
		.sealed_by = "rig report", .key = have_key ? &key : NULL, .unsign = d.unsign,
		.after_the_fact = sealed ? NULL : "rig report found no manifest (the run was "
			"interrupted before rig run could seal it, or its sealing failed); the files "
			"were sealed as found" });
out:
	sodium_memzero(&key, sizeof(key));
	return status;
}

static int cmd_note(int argc, char **argv)
{
	struct dir_opts d = { 0 };
	struct sig_secret_key key;
	bool have_key, sealed;
	const char *who;
	int r = parse_dir_opts(argc, argv, usage_note, 2, "OKU", &d), status;

	if (r != 0)
		return r > 0 ? EXIT_PASS : EXIT_BAD_INPUT;
	who = operator_resolve(d.operator_name);
	if (!operator_valid(who)) {
		fprintf(stderr, "rig note: --operator must be a non-empty name without control "
			"characters\n");
		return EXIT_BAD_INPUT;
	}
	if (sign_key_resolve(d.sign_key, "note", &key, &have_key) < 0)
		return EXIT_BAD_INPUT;
	/* Every file must match: a note does not regenerate the reports, so a
	 * new seal would otherwise bless an edited one. */
	status = sealed_precheck(d.run_dir, "note", false, have_key, d.unsign, &sealed);
	if (status != 0)
		goto out;
	r = notes_append(d.run_dir, who, d.text);
	if (r < 0) {
		fprintf(stderr, "rig note: %s/%s: %s\n", d.run_dir, NOTES_NAME,
			r == -EINVAL ? "the text must hold 1 to 4096 bytes" :
			r == -EILSEQ ? "the text is not UTF-8" : strerror(-r));
		/* no such run directory, or a text that cannot be a note: bad input */
		status = r == -ENOENT || r == -EINVAL || r == -EILSEQ ? EXIT_BAD_INPUT : EXIT_ABORTED;
		goto out;
	}
	if (sealed)
		status = seal(d.run_dir, "note", &(struct seal_opts){ .sealed_by = "rig note",
			.key = have_key ? &key : NULL, .unsign = d.unsign });
out:
	sodium_memzero(&key, sizeof(key));
	return status;
}

static int cmd_verify(int argc, char **argv)
{
	struct dir_opts d = { 0 };
	unsigned char pk[SIG_PUBLIC_KEY_BYTES];
	char fp[SIG_FINGERPRINT_LEN + 1] = "";
	struct integrity_result ir;
	int r = parse_dir_opts(argc, argv, usage_verify, 1, "P", &d);

	if (r != 0)
		return r > 0 ? EXIT_PASS : EXIT_BAD_INPUT;
	if (d.public_key) {
		r = sig_public_key_load(d.public_key, pk);
		if (r < 0) {
			fprintf(stderr, "rig verify: %s: %s\n", d.public_key, r == -EBADMSG ?
				"not a pumprig public key (the .pub file rig keygen writes)" :
				strerror(-r));
			return EXIT_BAD_INPUT;
		}
		sig_fingerprint(pk, fp);
	}
	r = integrity_check(d.run_dir, NULL, d.public_key ? pk : NULL, print_change, stdout, &ir);
	if (r < 0) {
		fprintf(stderr, "rig verify: cannot read %s: %s\n", d.run_dir, strerror(-r));
		return r == -ENOENT || r == -ENOTDIR ? EXIT_BAD_INPUT : EXIT_CHECK_FAILED;
	}
	if (!ir.manifest_found) {
		printf("MISSING  %s: the run was never sealed (rig report seals it)\n", MANIFEST_NAME);
	} else if (ir.manifest_malformed) {
		printf("BAD      %s:%zu: not a manifest line\n", MANIFEST_NAME, ir.manifest_bad_line);
	} else {
		if (ir.sealed_utc[0])
			printf("sealed   %s by %s\n", ir.sealed_utc, ir.sealed_by);
		if (ir.after_the_fact[0])
			printf("note     sealed after the fact: %s\n", ir.after_the_fact);
		if (!ir.sig_found && ir.signed_by_key[0])
			printf("MISSING  %s: %s says it was signed by key %s\n", MANIFEST_SIG_NAME,
			       MANIFEST_NAME, ir.signed_by_key);
		else if (!ir.sig_found && ir.sig_expected_missing)
			printf("MISSING  %s: the run is not signed, and a public key (%s) was given\n",
			       MANIFEST_SIG_NAME, fp);
		else if (!ir.sig_found)
			printf("unsigned (no %s)\n", MANIFEST_SIG_NAME);
		else if (ir.sig_malformed)
			printf("BAD      %s%s%zu: not a pumprig signature file\n", MANIFEST_SIG_NAME,
			       ir.sig_bad_line ? ":" : "", ir.sig_bad_line);
		else if (!ir.sig_valid)
			printf("BAD      %s: the signature does not match %s (key %s)\n",
			       MANIFEST_SIG_NAME, MANIFEST_NAME, ir.sig_fingerprint);
		else if (ir.sig_other_key)
			printf("BAD      %s: signed by key %s, not by the expected key %s\n",
			       MANIFEST_SIG_NAME, ir.sig_fingerprint, fp);
		else
			printf("signed   by key %s: valid\n", ir.sig_fingerprint);
	}
	if (integrity_ok(&ir)) {
		printf("OK: %zu files match %s%s\n", ir.n_listed, MANIFEST_NAME,
		       ir.sig_found ? ", signature valid" : "");
		return EXIT_PASS;
	}
	printf("FAILED: %zu added, %zu changed, %zu missing%s\n", ir.n_added, ir.n_changed,
	       ir.n_missing, ir.manifest_found && !ir.manifest_malformed && (ir.sig_malformed ||
	       (ir.sig_found && !ir.sig_valid) || ir.sig_other_key || ir.sig_expected_missing) ?
	       "; signature not accepted" : "");
	return EXIT_CHECK_FAILED;
}

static int cmd_keygen(int argc, char **argv)
{
	int r;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_keygen, stdout);
		return EXIT_PASS;
	}
	if (argc != 3 || strcmp(argv[1], "--out") != 0) {
		fprintf(stderr, "rig keygen: --out FILE is required\n\n%s", usage_keygen);
		return EXIT_BAD_INPUT;
	}
	r = sig_keygen(argv[2]);
	if (r < 0) {
		fprintf(stderr, "rig keygen: %s: %s\n", argv[2], r == -EEXIST ?
			"it or its .pub already exists; a key is never overwritten, name a new file" :
			strerror(-r));
		return EXIT_BAD_INPUT;
	}
	printf("secret key %s (mode 0600), public key %s.pub\n", argv[2], argv[2]);
	return EXIT_PASS;
}

static int cmd_help(int argc, char **argv)
{
	const char *topic = argc > 1 ? argv[1] : "";

	fputs(!strcmp(topic, "run") ? usage_run : !strcmp(topic, "validate") ? usage_validate :
	      !strcmp(topic, "report") ? usage_report : !strcmp(topic, "sim") ? usage_sim :
	      !strcmp(topic, "probe") ? usage_probe : !strcmp(topic, "calibrate") ? usage_calibrate :
	      !strcmp(topic, "note") ? usage_note : !strcmp(topic, "verify") ? usage_verify :
	      !strcmp(topic, "keygen") ? usage_keygen : !strcmp(topic, "resume") ? usage_resume :
	      usage_main, stdout);
	return EXIT_PASS;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("pumprig %s\n", RIG_VERSION);
		return EXIT_PASS;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help"))
		return cmd_help(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1, argc, argv);
	if (!strcmp(cmd, "validate"))
		return cmd_validate(argc - 1, argv + 1);
	if (!strcmp(cmd, "resume"))
		return cmd_resume(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(cmd, "sim"))
		return cmd_sim(argc - 1, argv + 1);
	if (!strcmp(cmd, "probe"))
		return cmd_probe(argc - 1, argv + 1);
	if (!strcmp(cmd, "calibrate"))
		return cmd_calibrate(argc - 1, argv + 1);
	if (!strcmp(cmd, "note"))
		return cmd_note(argc - 1, argv + 1);
	if (!strcmp(cmd, "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(cmd, "keygen"))
		return cmd_keygen(argc - 1, argv + 1);
	if (!strcmp(cmd, "safe"))
		return cmd_safe(argc - 1, argv + 1);
	fprintf(stderr, "rig: %s\n\n%s", *cmd ? "unknown command" : "no command given", usage_main);
	return EXIT_BAD_INPUT;
}

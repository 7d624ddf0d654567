/* rig run: a sequence on a bench against a device under test, judged and sealed. */
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lab/lab.h"
#include "rig/engine/engine.h"
#include "rig/engine/lock.h"
#include "rig/engine/probe.h"
#include "rig/engine/rundir.h"
#include "rig/base/runid.h"
#include "rig/seal/notes.h"

static const char usage_run[] =
	"Usage: rig run SEQUENCE --bench FILE --dut FILE [--output DIR] [--real-time] [--quiet]\n"
	"               [--operator NAME] [--note TEXT]... [--sign-key FILE]\n"
	"               [--allow-expired-calibration] [--db TEXT] [--retry-of RUN_ID]\n"
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
	"                      $PUMPRIG_OPERATOR, the station's; one of them is needed)\n"
	"      --note TEXT     an operator note for notes.jsonl at the start (repeatable)\n"
	"      --sign-key FILE sign the run's manifest with this key (rig keygen);\n"
	"                      default $PUMPRIG_SIGN_KEY, else unsigned\n"
	"      --allow-expired-calibration\n"
	"                      run although an instrument's calibration is overdue\n"
	"                      (recorded in run.json and events.jsonl); without it such\n"
	"                      a run is refused with exit status 2 before anything starts\n"
	"      --db TEXT       the run history to store the sealed run in: sqlite:PATH or\n"
	"                      postgresql://...; default $PUMPRIG_HISTORY, else\n"
	"                      sqlite:<the run directory's folder>/history.sqlite.  A store\n"
	"                      that cannot be reached leaves the run pending (rig history\n"
	"                      sync); it never changes the run or its exit status\n"
	"      --retry-of RUN_ID\n"
	"                      this run repeats run RUN_ID (rig nightly gives it to a run\n"
	"                      again): recorded in run.json, a deviation in its report;\n"
	"                      RUN_ID must be there: the run_id of a run directory (or its\n"
	"                      name) in the folder this run goes to, or in its nights/\n"
	"\n"
	"The run directory holds inputs/ (copies of the files), run.json, samples.csv,\n"
	"events.jsonl, notes.jsonl, results.json, summary.txt, junit.xml, report.pdf,\n"
	"report.html and SHA256SUMS (the manifest; SHA256SUMS.sig when signed).  One CSV\n"
	"per instrument: rig export RUN_DIR --out DIR.\n";

/* The pump asked who it is, and compared with the device file: serial, and
 * firmware where the device file states one.  0, or EXIT_BAD_INPUT with
 * every difference said as file:line. */
static int check_identity(const struct bench *bench, const struct device *dev,
			  struct run_meta *meta)
{
	char err[256];
	int r = rig_pump_identity(bench, dev, &meta->pump_identity, err, sizeof(err)), bad = 0;

	if (r < 0) {
		fprintf(stderr, "rig run: %s: cannot read the device's identity from the pump: %s; "
			"rig compares the pump's own serial and firmware with the device file before "
			"a run; nothing was run\n", TERM_SAFE(bench->path), TERM_SAFE(err));
		return r == -ENOTSUP ? EXIT_BAD_INPUT : EXIT_ABORTED;
	}
	meta->have_pump_identity = true;
	if (strcmp(meta->pump_identity.serial, dev->serial) != 0) {
		fprintf(stderr, "%s:%d: serial \"%s\", but the pump on the bench's link says it is "
			"serial \"%s\"; put the device named here on the bench, or name the one that "
			"is there\n", TERM_SAFE(dev->path), dev->serial_line, TERM_SAFE(dev->serial),
			TERM_SAFE(meta->pump_identity.serial));
		bad++;
	}
	if (dev->firmware[0] && strcmp(meta->pump_identity.firmware, dev->firmware) != 0) {
		fprintf(stderr, "%s:%d: firmware \"%s\", but the pump on the bench's link runs "
			"firmware \"%s\"; the device file must state the firmware under test\n",
			TERM_SAFE(dev->path), dev->firmware_line, TERM_SAFE(dev->firmware),
			TERM_SAFE(meta->pump_identity.firmware));
		bad++;
	}
	if (bad)
		fprintf(stderr, "rig: the device on the bench is not the one the device file names; "
			"nothing was run\n");
	return bad ? EXIT_BAD_INPUT : 0;
}

/* Whether anything of the bench is served by rig's own wire simulator,
 * asked of what answers rather than read from the bench file: a copy of a
 * simulator's bench file without sim_clock, run against a simulator in real
 * time, is still a model's record and must never be marked real. */
static int check_wire_simulator(const struct bench *bench, struct run_meta *meta,
				struct wire_sim_seen *ret)
{
	char err[RIG_TEXT_MAX + 256];
	int r = rig_wire_simulator_find(bench, meta->have_pump_identity ? &meta->pump_identity : NULL,
					ret, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "rig run: %s: %s; nothing was run\n", TERM_SAFE(bench->path),
			TERM_SAFE(err));
		return EXIT_ABORTED;
	}
	meta->wire_sim = ret;
	if (ret->found)
		meta->simulated = true;
	return 0;
}

/* Whether folder holds the run id: a run directory of that name, or one
 * whose run.json has that run_id; in folder itself and in folder/nights/
 * (rig nightly's nights, whose runs a retry by hand may repeat). */
static bool run_known_in(const char *folder, const char *id, int depth)
{
	char path[RIG_PATH_MAX + 256], meta[RIG_PATH_MAX + 300], got[RUN_ID_MAX];
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(folder);

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", folder, de->d_name);
		if (run_id_read(path, got) == 0 && !strcmp(got, id))
			found = true;
		else if (!strcmp(de->d_name, id)) {   /* a run made before runs had an id */
			snprintf(meta, sizeof(meta), "%s/run.json", path);
			found = access(meta, F_OK) == 0;
		}
		if (!found && depth == 0 && !strcmp(de->d_name, "nights")) {
			DIR *n = opendir(path);
			struct dirent *ne;
			char night[sizeof(path) + 256];

			while (n && !found && (ne = readdir(n))) {
				if (ne->d_name[0] == '.')
					continue;
				snprintf(night, sizeof(night), "%s/%s", path, ne->d_name);
				found = run_known_in(night, id, 1);
			}
			if (n)
				closedir(n);
		}
	}
	closedir(d);
	return found;
}

/* --retry-of names a run that is there: the deviation it becomes says
 * "both are in the history", which a made-up id would falsify. */
static int check_retry_of(const char *dir, const char *id)
{
	char folder[RIG_PATH_MAX];
	char *slash;

	snprintf(folder, sizeof(folder), "%s", dir);
	slash = strrchr(folder, '/');
	if (slash == folder)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(folder, sizeof(folder), ".");
	if (run_known_in(folder, id, 0))
		return 0;
	fprintf(stderr, "rig run: --retry-of \"%s\": no run with that id in %s (a run directory "
		"whose run.json has that run_id, or of that name, there or in its nights/): a run "
		"again must name the run it repeats; nothing was run\n", TERM_SAFE(id),
		TERM_SAFE(folder));
	return EXIT_BAD_INPUT;
}

static int run_main(int argc, char **argv)
{
	struct bench_lock *lock = NULL;
	char stale[1024] = "";
	struct files f = { 0 };
	struct sequence *seq = NULL;
	struct bench *bench = NULL;
	struct device *dev = NULL;
	char dir[RIG_PATH_MAX], err[1024] = "";
	struct cal_gate cal;
	struct sig_secret_key key;
	struct run_meta meta;
	struct wire_sim_seen wire_sim;
	struct engine_opts o;
	bool have_key, written = false;
	int r, status;

	r = parse_files(argc, argv, &f, usage_run);
	if (r != 0)
		return r > 0 ? EXIT_PASS : EXIT_BAD_INPUT;
	if (operator_require("run", f.operator_name, &f.operator_name) < 0)
		return EXIT_BAD_INPUT;
	/* a run id: one line of text, as rig gives them */
	if (f.retry_of && !text_one_line(f.retry_of, RUNDIR_ID_MAX)) {
		fprintf(stderr, "rig run: --retry-of \"%s\" must be the run id of the run this one "
			"repeats: one line of UTF-8 text without control characters, 1 to %d bytes\n",
			TERM_SAFE(f.retry_of), RUNDIR_ID_MAX - 1);
		return EXIT_BAD_INPUT;
	}
	for (size_t i = 0; i < f.n_notes; i++)
		if (!f.notes[i][0] || strlen(f.notes[i]) > NOTE_TEXT_MAX) {
			fprintf(stderr, "rig run: --note must hold 1 to %d bytes of text\n", NOTE_TEXT_MAX);
			return EXIT_BAD_INPUT;
		}
	if (sign_key_resolve(f.sign_key, "run", &key, &have_key) < 0)
		return EXIT_BAD_INPUT;
	/* The whole plan, judged as rig validate judges it (the calibration
	 * gate among it), before any file or instrument is touched. */
	if (load_all(&f, true, &seq, &bench, &dev, &cal) < 0) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	/* Like the key: a journal that cannot take the seal never costs a run
	 * (checked once the inputs are known good, so bad input touches
	 * nothing). */
	if (journal_ready("run", "nothing was run") < 0) {
		status = EXIT_BAD_INPUT;
		goto out;
	}
	meta = (struct run_meta){ .operator_name = f.operator_name,
				  .allow_expired_calibration = f.allow_expired_calibration,
				  .retry_of = f.retry_of,
				  .expired = cal.expired, .n_expired = cal.n,
				  .simulated = all_simulated(bench) };
	if (!f.real_time && !all_simulated(bench))
		f.real_time = true;   /* virtual time only drives a simulated bench */
	if (f.out_dir)
		snprintf(dir, sizeof(dir), "%s", f.out_dir);
	else
		rundir_default_path(seq, dir, sizeof(dir));
	/* A run directory is the record of one run, sealed at its end: another
	 * run created inside it would break its seal (and be hidden in it).  A
	 * default name that a run of the same second already took is no such
	 * place: it gets a suffix below, so its folder is what is judged. */
	{
		char inside[RIG_PATH_MAX], where[RIG_PATH_MAX];
		char *slash;

		snprintf(where, sizeof(where), "%s", dir);
		if (!f.out_dir && (slash = strrchr(where, '/')))
			*slash = '\0';
		r = rundir_inside_run(where, inside, sizeof(inside));
		if (r != 0) {
			if (r > 0)
				fprintf(stderr, "rig run: %s lies inside the run directory %s (it holds "
					"a run's run.json and inputs/, or its manifest): a run directory "
					"holds one run, and writing into it would break its seal; name a "
					"directory outside it; nothing was run\n", TERM_SAFE(dir), TERM_SAFE(inside));
			else
				fprintf(stderr, "rig run: %s: cannot follow the path: %s; nothing was "
					"run\n", TERM_SAFE(dir), strerror(-r));
			status = EXIT_BAD_INPUT;
			goto out;
		}
	}
	if (f.retry_of && (status = check_retry_of(dir, f.retry_of)) != 0)
		goto out;
	status = take_bench_lock(bench, dir, "rig run", "started", &lock, stale, sizeof(stale));
	if (status != 0)
		goto out;
	/* The device's identity is read from the pump, not copied from the
	 * device file: the wrong pump on the bench refuses the run before
	 * anything moves or any record is made. */
	status = check_identity(bench, dev, &meta);
	if (status != 0)
		goto out;
	status = check_wire_simulator(bench, &meta, &wire_sim);
	if (status != 0)
		goto out;
	r = rundir_create_meta(dir, seq, bench, dev, cli_full_argc, cli_full_argv, !f.real_time, &meta,
			       err, sizeof(err));
	/* A default name taken by a run started in the same second gets a
	 * suffix; a name the user chose is never silently changed. */
	for (int n = 2; r == -EEXIST && !f.out_dir && n < 100; n++) {
		char base[sizeof(dir)];

		rundir_default_path(seq, base, sizeof(base));
		snprintf(dir, sizeof(dir), "%.*s-%d", (int)sizeof(base) - 8, base, n);
		r = rundir_create_meta(dir, seq, bench, dev, cli_full_argc, cli_full_argv, !f.real_time,
				       &meta, err, sizeof(err));
	}
	if (r < 0) {
		fprintf(stderr, "rig: %s\n", TERM_SAFE(err));
		status = EXIT_BAD_INPUT;
		goto out;
	}
	for (size_t i = 0; i < f.n_notes; i++) {
		r = notes_append(dir, f.operator_name, f.notes[i]);
		if (r < 0) {
			fprintf(stderr, "rig: %s/%s: cannot write the note: %s; nothing was run\n",
				TERM_SAFE(dir),
				NOTES_NAME, r == -EILSEQ ? "it is not UTF-8 text" : strerror(-r));
			status = EXIT_BAD_INPUT;
			goto out;
		}
	}
	bench_lock_set_run_dir(lock, dir);
	if (!f.quiet)
		fprintf(stderr, "rig: %s on bench %s (%s time), device %s %s\nrig: recording to %s\n",
			TERM_SAFE(seq->id), TERM_SAFE(bench->id), f.real_time ? "real" : "virtual",
			TERM_SAFE(dev->model), TERM_SAFE(dev->serial), TERM_SAFE(dir));
	install_signals();
	install_crash_handler(f.bench_path, dir);
	o = (struct engine_opts){
		.seq = seq, .bench = bench, .dev = dev, .run_dir = dir,
		.virtual_time = !f.real_time,
		.progress = f.quiet ? NULL : stderr,
		.progress_live = isatty(STDERR_FILENO),
		.stop_signal = &stop_signal,
		.calibration_today = cal.n > 0 ? cal.today : NULL,
		.lock_path = bench_lock_stale_path(lock), .lock_stale_holder = stale,
	};
	r = engine_run(&o, err, sizeof(err));
	if (r < 0 && r != -ECANCELED)
		fprintf(stderr, "rig: %s\n", TERM_SAFE(err));
	else if (r == -ECANCELED)
		fprintf(stderr, "rig: run aborted: %s\n", TERM_SAFE(err));
	status = judge(dir, true, "run", &(struct seal_opts){ .sealed_by = "rig run",
		.key = have_key ? &key : NULL, .first = true, .why = "end of run" }, &written);
	if (status != EXIT_INTEGRITY)
		lab_history_store(dir, f.history_db, f.quiet);
	if (r < 0 && status != EXIT_INTEGRITY)
		status = EXIT_ABORTED;
	/* said only of a file this run wrote */
	if (written)
		fprintf(stderr, "rig: results in %s/results.json\n", TERM_SAFE(dir));
	else
		fprintf(stderr, "rig: no results.json was written in %s; the record is there: "
			"rig report %s judges it again\n", TERM_SAFE(dir), TERM_SAFE(dir));
out:
	sodium_memzero(&key, sizeof(key));
	bench_lock_release(lock);
	seq_free(seq);
	bench_free(bench);
	device_free(dev);
	return status;
}

const struct rig_command cmd_run = { "run", usage_run, run_main };

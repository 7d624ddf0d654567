/* Sign-off of a run (issue 16, 6 of 7, items 4, 5, 6): who ran it (never the
 * login name), the device's identity read from the pump and compared with
 * the device file, the report's id and revisions, and electronic signatures
 * with meaning (rig sign) bound to the record and checked by rig verify. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "wire_server.h"

#define SEQ "sequences/dose-accuracy.cfg"
#define BENCH "fixtures/bench/sim.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

static bool exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

/* rig run of the shipped dose-accuracy sequence into tmp/NAME with up to
 * eight extra arguments; bench NULL: the shipped simulated bench. */
static int run_named(const char *tmp, const char *name, const char *bench_path,
		     const char *const *extra, char **ret_run)
{
	char *seq = th_src(SEQ), *bench = bench_path ? strdup(bench_path) : th_src(BENCH);
	char *dut = th_src(DUT), *run;
	const char *args[24] = { "run", seq, "--bench", bench, "--dut", dut, "-o", NULL, "-q" };
	int n = 9, status;

	if (asprintf(&run, "%s/%s", tmp, name) < 0)
		abort();
	args[7] = run;
	while (extra && *extra && n < 22)
		args[n++] = *extra++;
	args[n] = NULL;
	status = th_rig(tmp, args);
	free(seq);
	free(bench);
	free(dut);
	if (ret_run)
		*ret_run = run;
	else
		free(run);
	return status;
}

/* ----------------------------------------------------------- operator -- */

Test(signoff, a_run_without_an_operator_is_refused_not_run_as_the_login_name)
{
	char *tmp = th_tmpdir(), *err;

	/* set but empty: the helpers then give no default operator */
	setenv("PUMPRIG_OPERATOR", "", 1);
	cr_assert_eq(run_named(tmp, "run", NULL, NULL, NULL), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "no operator: give --operator NAME"), "%s", err);
	cr_assert(!exists(tmp, "run"), "nothing is created");
	free(err);
	/* --operator names one */
	cr_assert_eq(run_named(tmp, "run", NULL, (const char *[]){ "--operator", "Ann Operator", NULL },
			       NULL), 0);
	err = th_slurp(tmp, "run/run.json");
	cr_assert(strstr(err, "\"operator\": \"Ann Operator\""), "%s", err);
	free(err);
	free(tmp);
}

Test(signoff, a_note_and_a_night_without_an_operator_are_refused)
{
	char *tmp = th_tmpdir(), *run, *plan = th_src("sequences/nightly-sim.cfg"), *err;

	cr_assert_eq(run_named(tmp, "run", NULL, NULL, &run), 0);
	setenv("PUMPRIG_OPERATOR", "", 1);
	cr_assert_eq(th_rig(tmp, (const char *[]){ "note", run, "a remark", NULL }), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "rig note: no operator"), "%s", err);
	cr_assert(!exists(run, "notes.jsonl"));
	free(err);
	cr_assert_eq(th_rig(tmp, (const char *[]){ "nightly", plan, "--runs", tmp, NULL }), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "rig nightly: no operator"), "%s", err);
	free(err);
	free(plan);
	free(run);
	free(tmp);
}

/* ---------------------------------------------------------- signatures -- */

static void keygen(const char *tmp, const char *name)
{
	char *out;

	if (asprintf(&out, "%s/%s", tmp, name) < 0)
		abort();
	cr_assert_eq(th_rig(tmp, (const char *[]){ "keygen", "--out", out, NULL }), 0);
	free(out);
}

static int sign(const char *tmp, const char *run, const char *meaning, const char *signer,
		const char *key)
{
	char *k;
	int st;

	if (asprintf(&k, "%s/%s", tmp, key) < 0)
		abort();
	st = th_rig(tmp, (const char *[]){ "sign", run, "--meaning", meaning, "--signer", signer,
					   "--key", k, NULL });
	free(k);
	return st;
}

static char *verify(const char *tmp, const char *run, const char *extra, int expect)
{
	const char *args[] = { "verify", run, extra, NULL };

	cr_assert_eq(th_rig(tmp, args), expect, "%s", th_slurp(tmp, "stdout"));
	return th_slurp(tmp, "stdout");
}

static void shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void shell(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(cmd);
}

Test(signoff, a_reviewed_and_approved_run_verifies_and_its_report_shows_each_signature)
{
	char *tmp = th_tmpdir(), *run, *out, *txt, *hex, *line;

	keygen(tmp, "ann");
	keygen(tmp, "bob");
	cr_assert_eq(run_named(tmp, "run", NULL, NULL, &run), 0);
	cr_assert_eq(sign(tmp, run, "reviewed", "Ann Reviewer", "ann"), 0);
	/* the seal Bob signs over, and the report he writes again is generated over */
	shell("sha256sum < '%s/SHA256SUMS' | cut -c1-64 | tr -d '\\n' > '%s/sealed.hex'", run, tmp);
	hex = th_slurp(tmp, "sealed.hex");
	cr_assert_eq(strlen(hex), 64, "%s", hex);
	cr_assert_eq(sign(tmp, run, "approved", "Bob Approver", "bob"), 0);
	out = verify(tmp, run, NULL, 0);
	cr_assert(strstr(out, "signoff  signature 1 (reviewed by Ann Reviewer at "), "%s", out);
	cr_assert(strstr(out, "signoff  signature 2 (approved by Bob Approver at "), "%s", out);
	cr_assert(strstr(out, "valid; it signed seal 2 of the run"), "%s", out);
	free(out);
	/* the report, written again by rig sign, prints them */
	shell("pdftotext -layout '%s/report.pdf' '%s/report.txt'", run, tmp);
	txt = th_slurp(tmp, "report.txt");
	cr_assert(strstr(txt, "Ann Reviewer") && strstr(txt, "Bob Approver"), "%s", txt);
	cr_assert(strstr(txt, "approved") && strstr(txt, "reviewed"));
	/* the manifest's own digest, not merely its label (printed sealed or not) */
	cr_assert(strstr(txt, "Manifest"), "the manifest digest is printed");
	if (asprintf(&line, "sha256:%s", hex) < 0)
		abort();
	cr_assert(strstr(txt, line), "%s not in:\n%s", line, txt);
	free(line);
	free(hex);
	free(txt);
	free(run);
	free(tmp);
}

Test(signoff, the_same_person_cannot_review_and_approve)
{
	char *tmp = th_tmpdir(), *run, *before, *after, *err;

	keygen(tmp, "ann");
	keygen(tmp, "ann2");
	cr_assert_eq(run_named(tmp, "run", NULL, NULL, &run), 0);
	cr_assert_eq(sign(tmp, run, "reviewed", "Ann Reviewer", "ann"), 0);
	before = th_slurp(run, "SHA256SUMS");
	/* the same name (case and spacing aside) with another key */
	cr_assert_eq(sign(tmp, run, "approved", "ann  REVIEWER", "ann2"), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "reviewer and approver must be different people"), "%s", err);
	free(err);
	/* the same key under another name */
	cr_assert_eq(sign(tmp, run, "approved", "A. Reviewer", "ann"), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "with this key"), "%s", err);
	free(err);
	after = th_slurp(run, "SHA256SUMS");
	cr_assert_str_eq(before, after, "nothing was written");
	free(after);
	after = th_slurp(run, "signatures.jsonl");
	cr_assert_eq(strchr(after, '\n') - after + 1, (long)strlen(after), "one signature only");
	/* and the other way round: an approver cannot review afterwards */
	cr_assert_eq(sign(tmp, run, "approved", "Bob Approver", "ann2"), 0);
	cr_assert_eq(sign(tmp, run, "reviewed", "Bob Approver", "ann2"), 2);
	free(before);
	free(after);
	free(run);
	free(tmp);
}

/* A manifest rewritten by hand over what is there (a forger's, or a copy's):
 * then only the signatures' binding can tell. */
static void reseal_by_hand(const char *run)
{
	shell("cd '%s' && rm -f SHA256SUMS.sig && find . -type f ! -name SHA256SUMS ! -name "
	   "SHA256SUMS.sig ! -name SHA256SUMS.new -printf '%%P\\n' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS.new && "
	   "mv SHA256SUMS.new SHA256SUMS%s", run, "");
}

Test(signoff, a_signature_moved_to_another_run_fails_verify)
{
	char *tmp = th_tmpdir(), *a, *b, *out;

	keygen(tmp, "ann");
	cr_assert_eq(run_named(tmp, "a", NULL, NULL, &a), 0);
	cr_assert_eq(run_named(tmp, "b", NULL, NULL, &b), 0);
	cr_assert_eq(sign(tmp, a, "approved", "Ann Approver", "ann"), 0);
	shell("cp '%s/signatures.jsonl' '%s/signatures.jsonl'", a, b);
	out = verify(tmp, b, NULL, 1);
	cr_assert(strstr(out, "not this run"), "%s", out);
	cr_assert(strstr(out, "a signature cannot be moved to another record"), "%s", out);
	free(out);
	/* even with b's manifest made again to cover it, without the journal */
	reseal_by_hand(b);
	out = verify(tmp, b, "--no-journal", 1);
	cr_assert(strstr(out, "BAD      signature 1 (approved by Ann Approver"), "%s", out);
	cr_assert(strstr(out, "a signature is not accepted"), "%s", out);
	free(out);
	/* a's own still holds */
	out = verify(tmp, a, NULL, 0);
	free(out);
	free(a);
	free(b);
	free(tmp);
}

Test(signoff, a_signed_record_edited_afterwards_fails_verify_even_resealed_by_hand)
{
	char *tmp = th_tmpdir(), *run, *out, *txt, *other, *db;

	keygen(tmp, "ann");
	cr_assert_eq(run_named(tmp, "run", NULL, NULL, &run), 0);
	cr_assert_eq(sign(tmp, run, "reviewed", "Ann Reviewer", "ann"), 0);
	out = verify(tmp, run, "--no-journal", 0);
	free(out);
	/* one more balance reading than was taken */
	shell("pdftotext -layout '%s/report.pdf' '%s/report.txt'", run, tmp);
	txt = th_slurp(tmp, "report.txt");
	/* the signature's own row says valid (not "Seal status" or a
	 * calibration's "valid" elsewhere on the page) */
	{
		char *row = strstr(txt, "Ann Reviewer"), *eol;

		cr_assert_not_null(row, "%s", txt);
		eol = strchr(row, '\n');
		cr_assert_not_null(eol);
		while (eol > row && eol[-1] == ' ')
			eol--;
		cr_assert(eol - row >= 6 && !strncmp(eol - 6, " valid", 6), "%.*s", (int)(eol - row), row);
	}
	cr_assert_null(strstr(txt, "NOT VALID"), "%s", txt);
	free(txt);
	/* one row more at the record's end: a second zstd frame */
	shell("printf '7200000000000,scale,mass,1.5,g,\\n' | zstd -q -c >> '%s/samples.csv.zst'", run);
	reseal_by_hand(run);
	out = verify(tmp, run, "--no-journal", 1);
	cr_assert(strstr(out, "the record changed after it was signed"), "%s", out);
	free(out);
	/* the report, written again over the changed record, says so too: the
	 * same rule as rig verify's, not every line of the trail printed as
	 * if it held.  A run whose manifest is gone is sealed after the fact
	 * by rig report (on a station whose journal has none of it). */
	other = th_tmpdir();
	shell("touch '%s/seal-journal.jsonl' && rm '%s/SHA256SUMS'", other, run);
	if (asprintf(&db, "sqlite:%s/history.sqlite", other) < 0)
		abort();
	cr_assert_eq(th_rig(other, (const char *[]){ "report", run, "--db", db, NULL }), 0, "%s",
		     th_slurp(other, "stderr"));
	/* and the history it was stored in holds it not valid, by the same rule */
	shell("sqlite3 '%s/history.sqlite' 'SELECT line, valid FROM signatures' > '%s/valid.txt'",
	      other, other);
	txt = th_slurp(other, "valid.txt");
	cr_assert_str_eq(txt, "1|0\n");
	free(txt);
	free(db);
	free(other);
	shell("pdftotext -layout '%s/report.pdf' '%s/report.txt'", run, tmp);
	txt = th_slurp(tmp, "report.txt");
	cr_assert(strstr(txt, "NOT VALID: record changed"), "%s", txt);
	free(txt);
	free(run);
	free(tmp);
}

Test(signoff, a_signature_line_edited_fails_verify)
{
	char *tmp = th_tmpdir(), *run, *out;

	keygen(tmp, "ann");
	cr_assert_eq(run_named(tmp, "run", NULL, NULL, &run), 0);
	cr_assert_eq(sign(tmp, run, "reviewed", "Ann Reviewer", "ann"), 0);
	/* the meaning changed from reviewed to approved, all else kept */
	shell("sed -i 's/\"reviewed\"/\"approved\"/' '%s/signatures.jsonl'%s", run, "");
	reseal_by_hand(run);
	out = verify(tmp, run, "--no-journal", 1);
	cr_assert(strstr(out, "does not match what the line says"), "%s", out);
	free(out);
	free(run);
	free(tmp);
}

/* ------------------------------------------------ report id, revisions -- */

/* run.json's run_id is read with one validation wherever it is read: one
 * with a control character in it is no id to the judge (results.json), the
 * report and rig sign alike. */
/* run.json's run_id edited into one rig takes for none: its results.json
 * says "", the report says so, and rig sign refuses it. */
static void an_edited_run_id_is_no_id_anywhere(const char *sed_edit, const char *grep_check)
{
	char *tmp = th_tmpdir(), *run, *other = th_tmpdir(), *res, *err, *key, *txt;

	keygen(tmp, "ann");
	cr_assert_eq(run_named(tmp, "run", NULL, NULL, &run), 0);
	/* the manifest lost, so rig report (another station) seals it after the fact */
	shell("cd '%s' && rm SHA256SUMS && sed -i '%s' run.json && grep -q '%s' run.json && "
	      "touch '%s/seal-journal.jsonl'", run, sed_edit, grep_check, other);
	cr_assert_eq(th_rig(other, (const char *[]){ "report", run, NULL }), 0, "%s",
		     th_slurp(other, "stderr"));
	res = th_slurp(run, "results.json");
	cr_assert(strstr(res, "\"run_id\": \"\""), "%s", res);
	free(res);
	shell("pdftotext -layout '%s/report.pdf' '%s/report.txt'", run, tmp);
	txt = th_slurp(tmp, "report.txt");
	cr_assert(strstr(txt, "not recorded (run.json has no run_id)"), "%s", txt);
	free(txt);
	if (asprintf(&key, "%s/ann", tmp) < 0)
		abort();
	cr_assert_eq(th_rig(other, (const char *[]){ "sign", run, "--meaning", "reviewed", "--signer",
						     "Ann Reviewer", "--key", key, NULL }), 2);
	err = th_slurp(other, "stderr");
	cr_assert(strstr(err, "holds no run_id"), "%s", err);
	free(key);
	free(err);
	free(other);
	free(run);
	free(tmp);
}

/* a control character in it; and one line of text, but longer than any
 * run id buffer (RUN_ID_MAX): before, rig sign took 160 bytes, the judge
 * 128, and the history cut it to 127, so verify and the history called
 * a signature valid that the report called another run's */
Test(signoff, a_run_id_that_is_not_one_line_of_text_is_no_id_anywhere)
{
	an_edited_run_id_is_no_id_anywhere("s/\"run_id\": *\"/&BEL\\\\u0007/", "BEL.u0007");
}

Test(signoff, a_run_id_longer_than_any_run_id_is_no_id_anywhere)
{
	an_edited_run_id_is_no_id_anywhere("s/\"run_id\": *\"/&" "0123456789" "0123456789" "0123456789"
					   "0123456789" "0123456789" "0123456789" "0123456789"
					   "0123456789" "0123456789" "0123456789" "/",
					   "01234567890123456789");
}

Test(signoff, the_report_id_is_the_runs_own_and_each_regeneration_a_revision)
{
	char *tmp = th_tmpdir(), *run, *meta, *txt, id[256], *revs;
	json_t *o;

	cr_assert_eq(run_named(tmp, "my-folder-name", NULL, NULL, &run), 0);
	meta = th_slurp(run, "run.json");
	o = json_loads(meta, 0, NULL);
	cr_assert(json_string_value(json_object_get(o, "run_id")));
	snprintf(id, sizeof(id), "RPT-%s rev 1", json_string_value(json_object_get(o, "run_id")));
	shell("pdftotext -layout '%s/report.pdf' '%s/report.txt'", run, tmp);
	txt = th_slurp(tmp, "report.txt");
	cr_assert(strstr(txt, id), "%s not in the report", id);
	cr_assert(!strstr(txt, "RPT-dose-accuracy-my-folder-name"), "not from the folder's name");
	free(txt);
	/* regenerated: the same id, the next revision, the history listed */
	cr_assert_eq(th_rig(tmp, (const char *[]){ "report", run, NULL }), 0);
	snprintf(id, sizeof(id), "RPT-%s rev 2", json_string_value(json_object_get(o, "run_id")));
	shell("pdftotext -layout '%s/report.pdf' '%s/report.txt'", run, tmp);
	txt = th_slurp(tmp, "report.txt");
	cr_assert(strstr(txt, id), "%s not in the report", id);
	cr_assert(strstr(txt, "Revisions of this report"));
	free(txt);
	revs = th_slurp(run, "report-revisions.jsonl");
	cr_assert(strstr(revs, "{\"revision\":1,") && strstr(revs, "{\"revision\":2,"), "%s", revs);
	free(revs);
	/* and the run still verifies: the revisions are derived, sealed with it */
	free(verify(tmp, run, NULL, 0));
	json_decref(o);
	free(meta);
	free(run);
	free(tmp);
}

/* ------------------------------------------------------ device identity -- */

/* The shipped simulated bench, its simulated pump given an identity of its
 * own (a fault injected: the wrong pump on the bench). */
static char *bench_with_pump(const char *dir, const char *identity)
{
	char *src = th_src(BENCH), *text = th_read_file(src), *out, *at, *path;
	const char *key = "rate_error = \"0 %\";";

	at = strstr(text, key);
	cr_assert(at, "the shipped bench's simulated pump group");
	if (asprintf(&out, "%.*s%s %s%s", (int)(at - text), text, key, identity,
		     at + strlen(key)) < 0)
		abort();
	path = th_write_file(dir, "bench.cfg", out);
	free(out);
	free(text);
	free(src);
	return path;
}

Test(signoff, a_pump_that_is_not_the_device_file_refuses_the_run_before_anything_moves)
{
	char *tmp = th_tmpdir(), *bench, *err;

	bench = bench_with_pump(tmp, "serial = \"SN-0999\"; firmware = \"1.0.0\";");
	cr_assert_eq(run_named(tmp, "run", bench, NULL, NULL), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "itp-40.cfg:10: serial \"SN-0001\", but the pump on the bench's link "
			      "says it is serial \"SN-0999\""), "%s", err);
	cr_assert(!strstr(err, "firmware \"1.0.0\", but"), "the firmware matched: %s", err);
	cr_assert(strstr(err, "nothing was run"), "%s", err);
	cr_assert(!exists(tmp, "run"), "no run directory");
	free(err);
	free(bench);
	/* the firmware alone */
	bench = bench_with_pump(tmp, "serial = \"SN-0001\"; firmware = \"1.0.1\";");
	cr_assert_eq(run_named(tmp, "run", bench, NULL, NULL), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "itp-40.cfg:11: firmware \"1.0.0\", but the pump on the bench's "
			      "link runs firmware \"1.0.1\""), "%s", err);
	cr_assert(!exists(tmp, "run"));
	free(err);
	free(bench);
	/* the right pump: the run goes, and run.json keeps what the pump said */
	bench = bench_with_pump(tmp, "serial = \"SN-0001\"; firmware = \"1.0.0\";");
	cr_assert_eq(run_named(tmp, "run", bench, NULL, NULL), 0);
	err = th_slurp(tmp, "run/run.json");
	cr_assert(strstr(err, "\"device_identity_read\": {\n    \"serial\": \"SN-0001\""), "%s", err);
	free(err);
	free(bench);
	free(tmp);
}

Test(signoff, over_the_wire_the_pump_is_asked_who_it_is_and_a_mismatch_refuses_the_run)
{
	char *tmp = th_tmpdir(), *sim_bench, *bench, *seq = th_src(SEQ), *dut = th_src(DUT), *err;
	char *run;
	struct server s;

	/* the wire simulator's pump is SN-0999 (its bench's own simulator group
	 * wins over --dut) */
	sim_bench = bench_with_pump(tmp, "serial = \"SN-0999\"; firmware = \"1.0.0\";");
	s = start_server_at(sim_bench, NULL);
	bench = wire_bench(tmp, &s);
	if (asprintf(&run, "%s/run", tmp) < 0)
		abort();
	cr_assert_eq(th_rig(tmp, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut, "-o",
						   run, "-q", NULL }), 2);
	err = th_slurp(tmp, "stderr");
	cr_assert(strstr(err, "says it is serial \"SN-0999\""), "%s", err);
	cr_assert(!exists(tmp, "run"));
	free(err);
	stop_server(&s);
	/* the simulator as the wire suites start it (--dut itp-40) runs
	 * them: tests/test_wire_runs.c */
	free(run);
	free(sim_bench);
	free(bench);
	free(seq);
	free(dut);
	free(tmp);
}

#include "drivers/pumplink/protocol.h"

Test(signoff, ident_on_the_pump_link_formats_and_parses_and_refuses_what_it_cannot_carry)
{
	struct pumplink_reply rep = { .seq = 42, .kind = PL_IDENT_REPLY, .serial = "SN-0001",
				      .firmware = "1.0.0" }, back;
	struct pumplink_cmd cmd = { .seq = 7, .kind = PL_IDENT }, cback;
	char line[PUMPLINK_LINE_MAX];
	int n;

	n = pumplink_format_cmd(&cmd, line, sizeof(line));
	cr_assert_gt(n, 0);
	cr_assert_eq(pumplink_parse_cmd(line, (size_t)n, &cback), 0);
	cr_assert_eq(cback.kind, PL_IDENT);
	cr_assert_eq(cback.seq, 7u);
	n = pumplink_format_reply(&rep, line, sizeof(line));
	cr_assert_gt(n, 0);
	cr_assert(strncmp(line, "42 IDENT SN-0001 1.0.0*", 23) == 0, "%s", line);
	cr_assert_eq(pumplink_parse_reply(line, (size_t)n, &back), 0);
	cr_assert_eq(back.kind, PL_IDENT_REPLY);
	cr_assert_str_eq(back.serial, "SN-0001");
	cr_assert_str_eq(back.firmware, "1.0.0");
	/* a serial with a space or a '*', or longer than 40, cannot be said */
	strcpy(rep.serial, "SN 0001");
	cr_assert_eq(pumplink_format_reply(&rep, line, sizeof(line)), -EINVAL);
	strcpy(rep.serial, "SN*0001");
	cr_assert_eq(pumplink_format_reply(&rep, line, sizeof(line)), -EINVAL);
	memset(rep.serial, 'A', 40);
	rep.serial[40] = '\0';
	cr_assert_gt(pumplink_format_reply(&rep, line, sizeof(line)), 0);
	/* a reply missing the firmware, or with one word too many */
	{
		static const char *const bodies[] = { "1 IDENT SN-1", "1 IDENT SN-1 1.0 extra" };

		for (size_t i = 0; i < 2; i++) {
			char full[80];

			snprintf(full, sizeof(full), "%s*%02X", bodies[i],
				 pumplink_checksum(bodies[i], strlen(bodies[i])));
			cr_assert_eq(pumplink_parse_reply(full, strlen(full), &back), -EINVAL, "%s", full);
		}
	}
}

/* Reading a sealed run directory into the record the store keeps (one JSON
 * object: the runs row and the rows of the other tables).  Only the run's
 * files are read (run.json, results.json, SHA256SUMS, inputs/, events.jsonl),
 * never rig's in-memory structs, so the store can be rebuilt from run
 * directories by any later rig.  See history.h and docs/history.md. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libconfig.h>

#include "rig/base/infile.h"
#include "rig/seal/signoff.h"
#include "rig/base/wholefile.h"
#include "rig/seal/integrity.h"
#include "rig/seal/manifest.h"

#define SMALL_FILE_MAX (64u << 20)   /* run.json, results.json, an input file */

/* ---------------------------------------------------------------- files */

/* Reads dir/name whole (NUL-terminated) and its SHA-256; -ENOENT, -EFBIG. */
static int read_file(const char *dir, const char *name, char **ret, size_t *ret_len,
		     char ret_hex[DIGEST_HEX_LEN + 1])
{
	unsigned char d[crypto_hash_sha256_BYTES];
	char path[PATH_MAX];
	size_t got = 0;
	char *buf;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	r = wholefile_read(path, SMALL_FILE_MAX, true, &buf, &got);
	if (r == -RIG_ENOTREG)
		return -EBADMSG;
	if (r < 0)
		return r;
	if (sodium_init() < 0) {
		free(buf);
		return -EIO;
	}
	crypto_hash_sha256(d, (const unsigned char *)buf, got);
	sodium_bin2hex(ret_hex, DIGEST_HEX_LEN + 1, d, sizeof(d));
	*ret = buf;
	*ret_len = got;
	return 0;
}

static const char *manifest_hex(const struct manifest *m, const char *path)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->entries[i].path, path) == 0)
			return m->entries[i].hex;
	return NULL;
}

/* ------------------------------------------------------------ reasons */

struct changes {
	char text[256];
	size_t shown;
};

static void note_change(void *ctx, enum manifest_change c, const char *path)
{
	struct changes *ch = ctx;
	size_t len = strlen(ch->text);

	if (ch->shown++ < 3)
		snprintf(ch->text + len, sizeof(ch->text) - len, "%s%s %s", len ? ", " : "",
			 manifest_change_name(c), path);
}

/* Why a checked run directory is not fit to store, or "" when it is. */
static void seal_reason(const struct integrity_result *ir, const struct changes *ch, char *reason,
			size_t len)
{
	reason[0] = '\0';
	if (!ir->manifest_found)
		snprintf(reason, len, "not sealed: no %s (a run still going, or one that "
			 "crashed: `rig report RUN_DIR` judges and seals it)", MANIFEST_NAME);
	else if (ir->manifest_malformed)
		snprintf(reason, len, "%s is not a manifest (line %zu)", MANIFEST_NAME,
			 ir->manifest_bad_line);
	else if (ir->n_added || ir->n_changed || ir->n_missing || ir->n_not_regular)
		snprintf(reason, len, "the seal does not verify: %zu added, %zu changed, %zu "
			 "missing (%s); `rig verify` lists them", ir->n_added, ir->n_changed,
			 ir->n_missing, ch->text);
	else if (ir->sig_malformed)
		snprintf(reason, len, "%s is not a pumprig signature file (line %zu)",
			 MANIFEST_SIG_NAME, ir->sig_bad_line);
	else if (ir->sig_expected_missing)
		snprintf(reason, len, "the manifest says it was signed (%s) but %s is missing",
			 ir->signed_by_key, MANIFEST_SIG_NAME);
	else if (ir->sig_found && !ir->sig_valid)
		snprintf(reason, len, "the signature does not match the manifest");
	else if (!integrity_ok(ir))
		snprintf(reason, len, "the seal does not verify");
}

/* The station's seal journal, the check rig verify makes after the manifest
 * (docs/integrity.md, "The station's seal journal"), for a run whose files
 * match their manifest.  A run the journal holds seals of (by its run.json
 * key or its run_id), none of them this manifest, is refused with the
 * journal's reason: its SHA256SUMS was written by hand to fit an edit.  A
 * run the journal knows nothing of (sealed at another station, or before
 * the station kept a journal) is stored as today, and found says so (the
 * runs row's seal_journal).  -EBADMSG with reason, or 0. */
static int journal_reason(const char *run_dir, char *found, size_t found_len, char *reason,
			  size_t len)
{
	struct journal_where w;
	struct journal_check c;
	const struct journal_seal *latest;
	int r = journal_station(&w);

	if (r < 0) {
		snprintf(found, found_len, "not checked: the station's seal journal cannot be "
			 "named (%s)", r == -ENOENT ? "no $HOME" : strerror(-r));
		return 0;
	}
	r = integrity_journal_check_run(run_dir, w.path, &c);
	if (r < 0) {
		snprintf(reason, len, "the station's seal journal %s (from %s) cannot be read: %s; "
			 "`rig verify` cannot vouch for the seal either", w.path, w.source,
			 r == -RIG_ENOTREG ? "not a regular file" : strerror(-r));
		return -EBADMSG;
	}
	latest = c.l.n_seals ? &c.l.seals[c.l.n_seals - 1] : NULL;
	r = 0;
	if (c.match) {
		snprintf(found, found_len, "seal %zu of %zu of the run, line %zu of %s", c.match,
			 c.l.n_seals, c.l.seals[c.match - 1].line, w.path);
	} else if (latest) {
		snprintf(reason, len, "journal: this %s (sha256:%s) is in no line of the station's "
			 "seal journal %s, which holds %zu seal%s of this run: rig did not seal it "
			 "(%s written or edited by hand); the run's latest seal, %s by %s, was %s "
			 "sha256:%s; `rig verify` says so", MANIFEST_NAME, c.manifest, w.path,
			 c.l.n_seals, c.l.n_seals == 1 ? "" : "s", MANIFEST_NAME, latest->utc,
			 latest->sealed_by, MANIFEST_NAME, latest->manifest);
		r = -EBADMSG;
	} else if (c.l.same_id_found) {
		snprintf(reason, len, "journal: a run with run_id %s was already sealed at %s by %s "
			 "with another run.json (line %zu of %s, run %s in %s): this run.json is not "
			 "the one rig sealed, and this %s (sha256:%s) is in no line of the journal; "
			 "`rig verify` says so", c.run_id, c.l.same_id.utc, c.l.same_id.sealed_by,
			 c.l.same_id.line, w.path, c.l.same_id.run, c.l.same_id.run_dir,
			 MANIFEST_NAME, c.manifest);
		r = -EBADMSG;
	} else {
		snprintf(found, found_len, "not found: %s holds no seal of this run (sealed at "
			 "another station, or before this one kept a journal)", c.verdict ==
			 JOURNAL_NONE ? "there is no journal at the station's path, so it" : w.path);
	}
	integrity_journal_check_free(&c);
	return r;
}

/* ------------------------------------------------------------- helpers */

const char *history_jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

const char *history_sim_mark(const char *bench_kind, const char *clock)
{
	if (!strcmp(bench_kind, "wire-simulated"))
		return "WIRE-SIMULATED";
	if (!strcmp(bench_kind, "simulated") || (!*bench_kind && !strcmp(clock, "virtual")))
		return "SIMULATED";
	return "";
}

static double jnum(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static json_t *jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static int cfg_text(const config_t *cfg, const char *path, char *buf, size_t len)
{
	const config_setting_t *s = config_lookup(cfg, path);

	buf[0] = '\0';
	if (!s)
		return -ENOENT;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		snprintf(buf, len, "%s", config_setting_get_string(s));
		return 0;
	case CONFIG_TYPE_INT:
		snprintf(buf, len, "%d", config_setting_get_int(s));
		return 0;
	case CONFIG_TYPE_INT64:
		snprintf(buf, len, "%lld", config_setting_get_int64(s));
		return 0;
	default:
		return -EINVAL;
	}
}

static const char *setting_str(const config_setting_t *g, const char *name)
{
	const char *s = NULL;

	if (g && config_setting_lookup_string(g, name, &s) == CONFIG_TRUE)
		return s;
	return "";
}

/* "2026-12-06T03:51:57Z" -> "20261206T035157Z" */
static void compact_time(const char *utc, char *buf, size_t len)
{
	size_t o = 0;

	for (; *utc && o + 1 < len; utc++)
		if (*utc != '-' && *utc != ':')
			buf[o++] = *utc;
	buf[o] = '\0';
	if (!o)
		snprintf(buf, len, "unknown");
}

/* run.json's run_id, else "<start>-<bench>-<first 8 hex of run.json's
 * SHA-256>": run.json is written once, when the run starts, and never again
 * (rig report and rig resume leave it), so the id is the same for every
 * version of the run, and two runs of one bench that start in the same
 * second differ in their run.json (command line, output folder). */
static void run_id_from(const json_t *run, const char *run_json_hex, char ret[HISTORY_RUN_ID_MAX])
{
	char stamp[32], bench[64];
	size_t i;

	/* its own, unless it has none that rig sign, verify and the judge
	 * would take either (run_id_of): then one made as for an older run */
	if (run_id_of(run, ret) == 0)
		return;
	compact_time(history_jstr(run, "started_utc"), stamp, sizeof(stamp));
	snprintf(bench, sizeof(bench), "%s", *history_jstr(run, "bench_id") ? history_jstr(run, "bench_id") : "bench");
	for (i = 0; bench[i]; i++)
		if (bench[i] == '/' || bench[i] == ' ' || (unsigned char)bench[i] < 0x20)
			bench[i] = '_';
	snprintf(ret, HISTORY_RUN_ID_MAX, "%s-%s-%.8s", stamp, bench, run_json_hex);
}

int history_run_id_of_dir(const char *dir, char ret[HISTORY_RUN_ID_MAX])
{
	char hex[DIGEST_HEX_LEN + 1], *text;
	size_t len;
	json_t *run;
	int r = read_file(dir, "run.json", &text, &len, hex);

	if (r < 0)
		return r;
	run = json_loadb(text, len, 0, NULL);
	free(text);
	if (!json_is_object(run)) {
		json_decref(run);
		return -EBADMSG;
	}
	run_id_from(run, hex, ret);
	json_decref(run);
	return 0;
}

/* The kind of bench a run ran on: results.json says so; a record from
 * before it did (pumprig.results/2) is simulated when its clock was
 * virtual, else unknown (''). */
static const char *bench_kind_of(const json_t *results, const char *clock)
{
	const char *kind = history_jstr(results, "bench_kind");

	if (!strcmp(kind, "simulated") || !strcmp(kind, "wire-simulated") || !strcmp(kind, "real"))
		return kind;
	return strncmp(clock, "virtual", 7) == 0 ? "simulated" : "";
}

/* The last run_end event's wall-clock time (a resumed run has one per
 * part), streaming events.jsonl and digesting it on the way. */
static int read_events(const char *dir, char ended[32], char ret_hex[DIGEST_HEX_LEN + 1])
{
	unsigned char d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	ended[0] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s/events.jsonl", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	crypto_hash_sha256_init(&st);
	while ((n = getline(&line, &cap, f)) > 0) {
		crypto_hash_sha256_update(&st, (unsigned char *)line, (unsigned long long)n);
		if (strstr(line, "\"run_end\"")) {
			json_t *e = json_loadb(line, (size_t)n, 0, NULL);

			if (json_is_object(e) && strcmp(history_jstr(e, "event"), "run_end") == 0)
				snprintf(ended, 32, "%s", history_jstr(e, "utc"));
			json_decref(e);
		}
	}
	free(line);
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	crypto_hash_sha256_final(&st, d);
	sodium_bin2hex(ret_hex, DIGEST_HEX_LEN + 1, d, sizeof(d));
	return 0;
}

/* ------------------------------------------------------------ the record */

struct reader {
	const char *dir;
	const struct manifest *m;
	char *reason;
	size_t reasonlen;
};

/* A file the record is taken from, its bytes matching the manifest's digest
 * (so nothing stored comes from a file changed after the seal was checked). */
static int sealed_file(struct reader *rd, const char *name, bool required, char **ret,
		       size_t *ret_len, char ret_hex[DIGEST_HEX_LEN + 1])
{
	const char *listed;
	int r = read_file(rd->dir, name, ret, ret_len, ret_hex);

	if (r == -ENOENT && !required)
		return 0;
	if (r < 0) {
		snprintf(rd->reason, rd->reasonlen, "%s: %s", name, strerror(-r));
		return -EBADMSG;
	}
	listed = manifest_hex(rd->m, name);
	if (!listed || strcmp(listed, ret_hex) != 0) {
		snprintf(rd->reason, rd->reasonlen, "%s changed while it was read: the seal does "
			 "not vouch for it", name);
		free(*ret);
		*ret = NULL;
		return -EBADMSG;
	}
	return 1;
}

static json_t *read_instruments(const config_t *bench)
{
	const config_setting_t *g = config_lookup(bench, "bench.instruments");
	json_t *a = json_array();
	int i, n = g ? config_setting_length(g) : 0;

	for (i = 0; i < n; i++) {
		config_setting_t *inst = config_setting_get_elem(g, (unsigned)i);
		const config_setting_t *cal = config_setting_lookup(inst, "calibration");
		const char *name = config_setting_name(inst);

		if (!name || !config_setting_is_group(inst))
			continue;
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			"role", name, "backend", setting_str(inst, "backend"),
			"model", setting_str(inst, "model"), "serial", setting_str(inst, "serial"),
			"cal_date", setting_str(cal, "date"), "cal_due", setting_str(cal, "due"),
			"cal_uncertainty", setting_str(cal, "uncertainty")));
	}
	return a;
}

static json_t *limit_side(const json_t *limit, const char *side)
{
	return jreal(jnum(limit, side));
}

/* checks[] and the bench-health figures among them. */
/* The run's audit trail of signatures (rig sign), each with whether it
 * holds for the record stored (signoff_status: its key made it, it names
 * this run, the raw files are the ones it signed).  rig verify checks the
 * journal besides.  A trail that does not read gives none: rig verify
 * names it. */
/* Each signature, stored under the history's run_id, and valid by the one
 * rule rig verify and the report apply, against the run's own id (own_id:
 * run_id_of, "" when it has none). */
static json_t *read_signatures(const char *run_dir, const char *run_id, const char *own_id,
			       const struct manifest *m)
{
	char record_hex[DIGEST_HEX_LEN + 1];
	json_t *a = json_array();
	struct signoff *v = NULL;
	size_t n = 0, bad = 0;

	if (signoff_load(run_dir, &v, &n, &bad) < 0)
		return a;
	signoff_record_digest(m, record_hex);
	for (size_t i = 0; i < n; i++) {
		char pk[2 * SIG_PUBLIC_KEY_BYTES + 1], sig[2 * SIG_BYTES + 1];

		sodium_bin2hex(pk, sizeof(pk), v[i].pk, sizeof(v[i].pk));
		sodium_bin2hex(sig, sizeof(sig), v[i].sig, sizeof(v[i].sig));
		json_array_append_new(a, json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}",
			"run_id", run_id, "line", (json_int_t)v[i].n, "utc", v[i].utc,
			"meaning", signoff_meaning_name(v[i].meaning), "signer", v[i].signer,
			"key_fingerprint", v[i].fingerprint, "public_key", pk,
			"manifest_sha256", v[i].manifest_sha256, "record_sha256", v[i].record_sha256,
			"signature", sig,
			"valid", (json_int_t)(signoff_status(&v[i], own_id, record_hex) == SIGNOFF_VALID)));
	}
	free(v);
	return a;
}

static void read_checks(const json_t *results, json_t *rec)
{
	json_t *checks = json_array(), *health = json_array(), *c, *m;
	size_t ci, mi;

	json_array_foreach(json_object_get(results, "checks"), ci, c) {
		json_t *ms = json_array(), *limit = json_object_get(c, "limit");
		json_t *line = json_object_get(c, "sequence_line");
		double measured = jnum(c, "measured");
		const char *primary = "";

		json_array_foreach(json_object_get(c, "measurements"), mi, m) {
			json_t *ml = json_object_get(m, "limit");
			const char *name = history_jstr(m, "name");

			/* The check's value is the measurement with its own verdict
			 * that equals `measured` (dose_error, A, time_to_alarm,
			 * years_to_replacement). */
			if (!*primary && *history_jstr(m, "verdict") && isfinite(measured) &&
			    jnum(m, "value") == measured)
				primary = name;

			json_array_append_new(ms, json_pack("{s:I, s:s, s:o, s:o, s:s, s:o, s:o, s:s, s:s}",
				"idx", (json_int_t)mi, "name", name,
				"value", jreal(jnum(m, "value")), "u", jreal(jnum(m, "U")),
				"unit", history_jstr(m, "unit"),
				"limit_low", limit_side(ml, "low"), "limit_high", limit_side(ml, "high"),
				"verdict", history_jstr(m, "verdict"),
				/* its own requirement ('' the check's) */
				"requirement", history_jstr(m, "requirement")));
			/* The bench's own health, as the checks measure it. */
			if (strcmp(name, "balance_noise") == 0 ||
			    strcmp(name, "flow_sensor_minus_balance") == 0 ||
			    strcmp(name, "pressure_baseline") == 0)
				json_array_append_new(health, json_pack("{s:s, s:s, s:o, s:o, s:s, s:s}",
					"figure", name, "check_window", history_jstr(c, "window"),
					"value", jreal(jnum(m, "value")), "u", jreal(jnum(m, "U")),
					"unit", history_jstr(m, "unit"), "source", history_jstr(m, "source")));
		}
		json_array_append_new(checks, json_pack(
			"{s:I, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:s, s:o, s:o, s:s, s:s, s:s, s:o}",
			"check_idx", (json_int_t)ci, "kind", history_jstr(c, "check"),
			"check_window", history_jstr(c, "window"), "requirement", history_jstr(c, "requirement"),
			"sequence_line", json_is_integer(line) ? json_incref(line) : json_null(),
			"verdict", history_jstr(c, "verdict"),
			"measured", jreal(jnum(c, "measured")), "u", jreal(jnum(c, "U")),
			"unit", history_jstr(c, "unit"),
			"limit_low", limit_side(limit, "low"), "limit_high", limit_side(limit, "high"),
			"primary_measurement", primary, "criterion", history_jstr(c, "criterion"),
			"explanation", history_jstr(c, "explanation"), "measurements", ms));
	}
	/* The evaporation the balance showed with the pump stopped; a rate
	 * merely stated in the bench file says nothing about the bench. */
	c = json_object_get(results, "gravimetric");
	if (strncmp(history_jstr(c, "evaporation_source"), "measured", 8) == 0) {
		double u = jnum(c, "evaporation_u_mg_per_h");

		json_array_append_new(health, json_pack("{s:s, s:s, s:o, s:o, s:s, s:s}",
			"figure", "evaporation", "check_window", "",
			"value", jreal(jnum(c, "evaporation_mg_per_h")),
			"u", jreal(2 * u),   /* expanded, k = 2, like every other U */
			"unit", "mg/h", "source", history_jstr(c, "evaporation_source")));
	}
	/* The conditions the bench measured (a stated one says nothing about
	 * the bench): each mean with its expanded uncertainty, and the air's
	 * density they gave. */
	{
		json_t *cond = json_object_get(c, "conditions"), *mc;
		size_t k;

		json_array_foreach(cond, k, mc) {
			if (!json_is_number(json_object_get(mc, "mean")))
				continue;
			json_array_append_new(health, json_pack("{s:s, s:s, s:o, s:o, s:s, s:s}",
				"figure", history_jstr(mc, "role"), "check_window", "",
				"value", jreal(jnum(mc, "mean")), "u", jreal(2 * jnum(mc, "u")),
				"unit", history_jstr(mc, "unit"),
				"source", "results.json gravimetric.conditions (samples.csv)"));
		}
		if (strncmp(history_jstr(c, "air_density_source"), "CIPM", 4) == 0)
			json_array_append_new(health, json_pack("{s:s, s:s, s:o, s:o, s:s, s:s}",
				"figure", "air_density", "check_window", "",
				"value", jreal(jnum(c, "air_density_kg_per_m3")),
				"u", jreal(2 * jnum(c, "air_density_u_kg_per_m3")),
				"unit", "kg/m3", "source", history_jstr(c, "air_density_source")));
	}
	json_object_set_new(rec, "checks", checks);
	json_object_set_new(rec, "health", health);
}

int history_read_run_dir(const char *run_dir, json_t **ret, char *reason, size_t reasonlen)
{
	char abs[PATH_MAX], hex[DIGEST_HEX_LEN + 1], run_hex[DIGEST_HEX_LEN + 1];
	char mhex[DIGEST_HEX_LEN + 1], run_id[HISTORY_RUN_ID_MAX], own_id[RUN_ID_MAX], ended[32], text[256];
	char journal[RIG_PATH_MAX + 160] = "";
	char *run_text = NULL, *res_text = NULL, *bench_text = NULL, *dev_text = NULL;
	char *seq_text = NULL, *mtext = NULL;
	size_t len, mlen, bad_line = 0;
	struct integrity_result ir;
	struct changes ch = { .text = "" };
	struct manifest m = { 0 };
	struct reader rd = { .m = &m, .reason = reason, .reasonlen = reasonlen };
	json_t *run = NULL, *results = NULL, *rec = NULL, *inputs, *in_sha, *in_src, *v;
	config_t bench, device, sequence;
	const char *key, *schema;
	int r;

	*ret = NULL;
	reason[0] = '\0';
	config_init(&bench);
	config_init(&device);
	config_init(&sequence);
	if (!realpath(run_dir, abs)) {
		snprintf(reason, reasonlen, "%s: %s", run_dir, strerror(errno));
		return -EBADMSG;
	}
	rd.dir = abs;

	/* The seal first: nothing is read from a run it does not vouch for. */
	r = integrity_check(abs, NULL, NULL, note_change, &ch, &ir);
	if (r < 0) {
		snprintf(reason, reasonlen, "%s: %s", abs, strerror(-r));
		return -EBADMSG;
	}
	seal_reason(&ir, &ch, reason, reasonlen);
	if (reason[0])
		return -EBADMSG;
	/* then, as rig verify, the station's seal journal */
	if (journal_reason(abs, journal, sizeof(journal), reason, reasonlen) < 0)
		return -EBADMSG;
	r = manifest_load(abs, &m, &mtext, &mlen, &bad_line);
	if (r < 0) {
		snprintf(reason, reasonlen, "%s: %s", MANIFEST_NAME, strerror(-r));
		return -EBADMSG;
	}
	digest_buf_sha256(mtext, mlen, mhex);

	r = -EBADMSG;
	if (sealed_file(&rd, "run.json", true, &run_text, &len, run_hex) < 0)
		goto out;
	run = json_loadb(run_text, len, 0, NULL);
	if (!json_is_object(run)) {
		snprintf(reason, reasonlen, "run.json is not a JSON object");
		goto out;
	}
	if (sealed_file(&rd, "results.json", true, &res_text, &len, hex) < 0) {
		if (strstr(reason, "No such file"))
			snprintf(reason, reasonlen, "no results.json: `rig report RUN_DIR` judges the run");
		goto out;
	}
	results = json_loadb(res_text, len, 0, NULL);
	schema = history_jstr(results, "schema");
	if (!json_is_object(results) || strncmp(schema, "pumprig.results/", 16) != 0) {
		snprintf(reason, reasonlen, "results.json is not pumprig results (schema \"%s\")",
			 schema);
		goto out;
	}
	if (sealed_file(&rd, "inputs/bench.cfg", false, &bench_text, &len, hex) < 0 ||
	    sealed_file(&rd, "inputs/device.cfg", false, &dev_text, &len, hex) < 0 ||
	    sealed_file(&rd, "inputs/sequence.cfg", false, &seq_text, &len, hex) < 0)
		goto out;
	/* The copies passed rig's own loader when the run started; a copy
	 * libconfig cannot read now only costs the fields taken from it. */
	if (bench_text)
		config_read_string(&bench, bench_text);
	if (dev_text)
		config_read_string(&device, dev_text);
	if (seq_text)
		config_read_string(&sequence, seq_text);
	if (read_events(abs, ended, hex) == 0) {
		const char *listed = manifest_hex(&m, "events.jsonl");

		if (!listed || strcmp(listed, hex) != 0) {
			snprintf(reason, reasonlen, "events.jsonl changed while it was read: the "
				 "seal does not vouch for it");
			goto out;
		}
	}
	run_id_from(run, run_hex, run_id);

	rec = json_object();
	{
		const json_t *dev = json_object_get(results, "device");
		const char *clock = history_jstr(run, "clock");
		char model[128], serial[128], firmware[128], seq_version[64];

		if (cfg_text(&device, "device.model", model, sizeof(model)) < 0)
			snprintf(model, sizeof(model), "%s", history_jstr(dev, "model"));
		if (cfg_text(&device, "device.serial", serial, sizeof(serial)) < 0)
			snprintf(serial, sizeof(serial), "%s", history_jstr(dev, "serial"));
		cfg_text(&device, "device.firmware", firmware, sizeof(firmware));
		cfg_text(&sequence, "sequence.version", seq_version, sizeof(seq_version));
		in_sha = json_object_get(run, "inputs_sha256");
		v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
			      " s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s}",
			"run_id", run_id, "manifest_sha256", mhex, "run_dir", abs,
			"results_schema", schema, "software", history_jstr(run, "software"),
			"host", history_jstr(run, "host"), "operator", history_jstr(run, "operator"),
			"started_utc", history_jstr(run, "started_utc"), "ended_utc", ended,
			"clock", strncmp(clock, "virtual", 7) == 0 ? "virtual" : "real",
			"device_model", model, "device_serial", serial, "device_firmware", firmware,
			"sequence_id", *history_jstr(run, "sequence_id") ? history_jstr(run, "sequence_id") :
				       history_jstr(json_object_get(results, "sequence"), "id"),
			"sequence_version", seq_version,
			"sequence_sha256", history_jstr(in_sha, "sequence.cfg"),
			"bench_id", *history_jstr(run, "bench_id") ? history_jstr(run, "bench_id") :
				    history_jstr(results, "bench"),
			"status", history_jstr(results, "status"), "end_reason", history_jstr(results, "end_reason"),
			"verdict", history_jstr(results, "overall_verdict"),
			"verdict_text", history_jstr(results, "verdict_text"),
			"bench_kind", bench_kind_of(results, clock),
			"end_s", jreal(jnum(results, "end_s")),
			"samples", json_is_integer(json_object_get(results, "samples")) ?
				   json_incref(json_object_get(results, "samples")) : json_null(),
			"sealed_utc", m.sealed_utc, "sealed_by", m.sealed_by,
			"first_sealed_utc", m.first_sealed_utc[0] ? m.first_sealed_utc : m.sealed_utc,
			"sealed_after_the_fact", m.after_the_fact,
			"signed_by", ir.sig_valid ? ir.sig_fingerprint : "",
			"seal_journal", journal);
		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		/* the start to the nanosecond, when run.json has it (runs since
		 * 2026-12-07): orders runs started in one second */
		json_object_set_new(v, "started_ns",
				    json_is_integer(json_object_get(run, "started_unix_ns")) ?
				    json_integer(json_integer_value(json_object_get(run,
						 "started_unix_ns"))) : json_null());
		json_object_set_new(rec, "run", v);
	}
	/* inputs: run.json's digests, checked against the copies' own entries
	 * in the manifest (a run older than inputs_sha256 has only those). */
	inputs = json_array();
	in_src = json_object_get(run, "inputs");
	json_object_foreach(in_sha, key, v) {
		json_array_append_new(inputs, json_pack("{s:s, s:s, s:s}", "name", key,
			"sha256", json_string_value(v) ? json_string_value(v) : "",
			"source_path", history_jstr(in_src, key)));
	}
	if (!json_object_size(in_sha)) {
		static const char *const names[] = { "sequence.cfg", "bench.cfg", "device.cfg" };
		size_t i;

		for (i = 0; i < 3; i++) {
			const char *h;

			snprintf(text, sizeof(text), "inputs/%s", names[i]);
			h = manifest_hex(&m, text);
			if (h)
				json_array_append_new(inputs, json_pack("{s:s, s:s, s:s}", "name",
					names[i], "sha256", h, "source_path", history_jstr(in_src, names[i])));
		}
	}
	json_object_set_new(rec, "inputs", inputs);
	json_object_set_new(rec, "instruments", read_instruments(&bench));
	(void)run_id_of(run, own_id);
	json_object_set_new(rec, "signatures", read_signatures(run_dir, run_id, own_id, &m));
	read_checks(results, rec);
	*ret = rec;
	rec = NULL;
	r = 0;
out:
	json_decref(rec);
	json_decref(run);
	json_decref(results);
	free(run_text);
	free(res_text);
	free(bench_text);
	free(dev_text);
	free(seq_text);
	free(mtext);
	manifest_free(&m);
	config_destroy(&bench);
	config_destroy(&device);
	config_destroy(&sequence);
	return r;
}

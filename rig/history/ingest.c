/* Reading a sealed run directory and storing it.  Only the run's files are
 * read (run.json, results.json, SHA256SUMS, inputs/, events.jsonl), never
 * rig's in-memory structs, so the store can be rebuilt from run
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

#include "rig/integrity.h"
#include "rig/manifest.h"

#define SMALL_FILE_MAX (64u << 20)   /* run.json, results.json, an input file */

/* ---------------------------------------------------------------- files */

/* Reads dir/name whole (NUL-terminated) and its SHA-256; -ENOENT, -EFBIG. */
static int read_file(const char *dir, const char *name, char **ret, size_t *ret_len,
		     char ret_hex[DIGEST_HEX_LEN + 1])
{
	unsigned char d[crypto_hash_sha256_BYTES];
	char path[PATH_MAX];
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd, r = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EBADMSG;
	}
	if ((unsigned long long)st.st_size > SMALL_FILE_MAX) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[got] = '\0';
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

/* ------------------------------------------------------------- helpers */

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
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
	const char *given = jstr(run, "run_id");
	char stamp[32], bench[64];
	size_t i;

	if (*given) {
		snprintf(ret, HISTORY_RUN_ID_MAX, "%s", given);
		return;
	}
	compact_time(jstr(run, "started_utc"), stamp, sizeof(stamp));
	snprintf(bench, sizeof(bench), "%s", *jstr(run, "bench_id") ? jstr(run, "bench_id") : "bench");
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

			if (json_is_object(e) && strcmp(jstr(e, "event"), "run_end") == 0)
				snprintf(ended, 32, "%s", jstr(e, "utc"));
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
			const char *name = jstr(m, "name");

			/* The check's value is the measurement with its own verdict
			 * that equals `measured` (dose_error, A, time_to_alarm,
			 * years_to_replacement). */
			if (!*primary && *jstr(m, "verdict") && isfinite(measured) &&
			    jnum(m, "value") == measured)
				primary = name;

			json_array_append_new(ms, json_pack("{s:I, s:s, s:o, s:o, s:s, s:o, s:o, s:s}",
				"idx", (json_int_t)mi, "name", name,
				"value", jreal(jnum(m, "value")), "u", jreal(jnum(m, "U")),
				"unit", jstr(m, "unit"),
				"limit_low", limit_side(ml, "low"), "limit_high", limit_side(ml, "high"),
				"verdict", jstr(m, "verdict")));
			/* The bench's own health, as the checks measure it. */
			if (strcmp(name, "balance_noise") == 0 ||
			    strcmp(name, "flow_sensor_minus_balance") == 0 ||
			    strcmp(name, "pressure_baseline") == 0)
				json_array_append_new(health, json_pack("{s:s, s:s, s:o, s:o, s:s, s:s}",
					"figure", name, "check_window", jstr(c, "window"),
					"value", jreal(jnum(m, "value")), "u", jreal(jnum(m, "U")),
					"unit", jstr(m, "unit"), "source", jstr(m, "source")));
		}
		json_array_append_new(checks, json_pack(
			"{s:I, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:s, s:o, s:o, s:s, s:s, s:s, s:o}",
			"check_idx", (json_int_t)ci, "kind", jstr(c, "check"),
			"check_window", jstr(c, "window"), "requirement", jstr(c, "requirement"),
			"sequence_line", json_is_integer(line) ? json_incref(line) : json_null(),
			"verdict", jstr(c, "verdict"),
			"measured", jreal(jnum(c, "measured")), "u", jreal(jnum(c, "U")),
			"unit", jstr(c, "unit"),
			"limit_low", limit_side(limit, "low"), "limit_high", limit_side(limit, "high"),
			"primary_measurement", primary, "criterion", jstr(c, "criterion"),
			"explanation", jstr(c, "explanation"), "measurements", ms));
	}
	/* The evaporation the balance showed with the pump stopped; a rate
	 * merely stated in the bench file says nothing about the bench. */
	c = json_object_get(results, "gravimetric");
	if (strncmp(jstr(c, "evaporation_source"), "measured", 8) == 0) {
		double u = jnum(c, "evaporation_u_mg_per_h");

		json_array_append_new(health, json_pack("{s:s, s:s, s:o, s:o, s:s, s:s}",
			"figure", "evaporation", "check_window", "",
			"value", jreal(jnum(c, "evaporation_mg_per_h")),
			"u", jreal(2 * u),   /* expanded, k = 2, like every other U */
			"unit", "mg/h", "source", jstr(c, "evaporation_source")));
	}
	json_object_set_new(rec, "checks", checks);
	json_object_set_new(rec, "health", health);
}

int history_read_run_dir(const char *run_dir, json_t **ret, char *reason, size_t reasonlen)
{
	char abs[PATH_MAX], hex[DIGEST_HEX_LEN + 1], run_hex[DIGEST_HEX_LEN + 1];
	char mhex[DIGEST_HEX_LEN + 1], run_id[HISTORY_RUN_ID_MAX], ended[32], text[256];
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
	schema = jstr(results, "schema");
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
		const char *clock = jstr(run, "clock");
		char model[128], serial[128], firmware[128], seq_version[64];

		if (cfg_text(&device, "device.model", model, sizeof(model)) < 0)
			snprintf(model, sizeof(model), "%s", jstr(dev, "model"));
		if (cfg_text(&device, "device.serial", serial, sizeof(serial)) < 0)
			snprintf(serial, sizeof(serial), "%s", jstr(dev, "serial"));
		cfg_text(&device, "device.firmware", firmware, sizeof(firmware));
		cfg_text(&sequence, "sequence.version", seq_version, sizeof(seq_version));
		in_sha = json_object_get(run, "inputs_sha256");
		v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
			      " s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s}",
			"run_id", run_id, "manifest_sha256", mhex, "run_dir", abs,
			"results_schema", schema, "software", jstr(run, "software"),
			"host", jstr(run, "host"), "operator", jstr(run, "operator"),
			"started_utc", jstr(run, "started_utc"), "ended_utc", ended,
			"clock", strncmp(clock, "virtual", 7) == 0 ? "virtual" : "real",
			"device_model", model, "device_serial", serial, "device_firmware", firmware,
			"sequence_id", *jstr(run, "sequence_id") ? jstr(run, "sequence_id") :
				       jstr(json_object_get(results, "sequence"), "id"),
			"sequence_version", seq_version,
			"sequence_sha256", jstr(in_sha, "sequence.cfg"),
			"bench_id", *jstr(run, "bench_id") ? jstr(run, "bench_id") :
				    jstr(results, "bench"),
			"status", jstr(results, "status"), "end_reason", jstr(results, "end_reason"),
			"verdict", jstr(results, "overall_verdict"),
			"end_s", jreal(jnum(results, "end_s")),
			"samples", json_is_integer(json_object_get(results, "samples")) ?
				   json_incref(json_object_get(results, "samples")) : json_null(),
			"sealed_utc", m.sealed_utc, "sealed_by", m.sealed_by,
			"first_sealed_utc", m.first_sealed_utc[0] ? m.first_sealed_utc : m.sealed_utc,
			"sealed_after_the_fact", m.after_the_fact,
			"signed_by", ir.sig_valid ? ir.sig_fingerprint : "");
		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		json_object_set_new(rec, "run", v);
	}
	/* inputs: run.json's digests, checked against the copies' own entries
	 * in the manifest (a run older than inputs_sha256 has only those). */
	inputs = json_array();
	in_src = json_object_get(run, "inputs");
	json_object_foreach(in_sha, key, v) {
		json_array_append_new(inputs, json_pack("{s:s, s:s, s:s}", "name", key,
			"sha256", json_string_value(v) ? json_string_value(v) : "",
			"source_path", jstr(in_src, key)));
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
					names[i], "sha256", h, "source_path", jstr(in_src, names[i])));
		}
	}
	json_object_set_new(rec, "inputs", inputs);
	json_object_set_new(rec, "instruments", read_instruments(&bench));
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

/* -------------------------------------------------------------- storing */

static struct hist_val jv(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return hv_text(json_string_value(v));
	if (json_is_integer(v))
		return hv_int(json_integer_value(v));
	if (json_is_number(v))
		return hv_real(json_number_value(v));
	return (struct hist_val){ .type = HV_NULL };
}

#define BATCH_MAX 512              /* runs in one transaction at most */
#define PARAMS_PER_INSERT 30000   /* under SQLite's 32766 and libpq's 65535 */
/* PostgreSQL ingested a batch twice as fast in statements of 100 rows as
 * in statements of 1000 (its parse and analysis of a long VALUES list
 * grows faster than the list); SQLite did not mind either way. */
#define ROWS_PER_INSERT_MAX 100

/* INSERT INTO table (cols) VALUES (...), (...) for the objects in rows, as
 * many rows to a statement as the engines' parameter limits allow: a few
 * statements per table for a whole batch of runs, rather than one per row
 * (a round trip each on PostgreSQL).  suffix (may be NULL) ends each
 * statement; with ret, the rows each statement returns are appended. */
static int insert_rows(struct history *h, const char *table, const char *const *cols,
		       size_t ncols, const json_t *rows, const char *suffix, struct hist_rows *ret,
		       char *err, size_t errlen)
{
	size_t total = json_array_size(rows), done = 0;
	size_t per_stmt = PARAMS_PER_INSERT / ncols;
	char *sql = NULL;
	struct hist_val *p = NULL;
	int r = 0;

	if (per_stmt > ROWS_PER_INSERT_MAX)
		per_stmt = ROWS_PER_INSERT_MAX;
	if (!total)
		return 0;
	p = calloc(per_stmt * ncols, sizeof(*p));
	sql = malloc(512 + per_stmt * (ncols * 9 + 8) + ncols * 32);
	if (!p || !sql) {
		r = -ENOMEM;
		goto out;
	}
	while (done < total && r == 0) {
		size_t n = total - done < per_stmt ? total - done : per_stmt;
		size_t i, c, k = 0;
		struct hist_rows got = { 0 };
		int o = sprintf(sql, "INSERT INTO %s (", table);

		for (c = 0; c < ncols; c++)
			o += sprintf(sql + o, "%s%s", c ? ", " : "", cols[c]);
		o += sprintf(sql + o, ") VALUES ");
		for (i = 0; i < n; i++) {
			const json_t *row = json_array_get(rows, done + i);

			o += sprintf(sql + o, "%s(", i ? ", " : "");
			for (c = 0; c < ncols; c++) {
				o += sprintf(sql + o, "%s$%zu", c ? ", " : "", k + 1);
				p[k++] = jv(row, cols[c]);
			}
			o += sprintf(sql + o, ")");
		}
		if (suffix)
			sprintf(sql + o, " %s", suffix);
		r = hist_query(h, sql, p, k, ret ? &got : NULL, err, errlen);
		if (r == 0 && ret && got.n_rows) {
			/* append: cells move over */
			size_t cells = ret->n_rows * got.n_cols, add = got.n_rows * got.n_cols;
			char **m = realloc(ret->cells, (cells + add) * sizeof(*m));

			if (!m) {
				r = -ENOMEM;
			} else {
				memcpy(m + cells, got.cells, add * sizeof(*m));
				ret->cells = m;
				ret->n_cols = got.n_cols;
				ret->n_rows += got.n_rows;
				free(got.cells);
				got = (struct hist_rows){ 0 };
			}
		}
		hist_rows_free(&got);
		done += n;
	}
out:
	free(p);
	free(sql);
	return r;
}


static const char *const input_cols[] = { "run_pk", "name", "sha256", "source_path" };
static const char *const instrument_cols[] = { "run_pk", "role", "backend", "model", "serial",
					       "cal_date", "cal_due", "cal_uncertainty" };
static const char *const check_cols[] = { "run_pk", "check_idx", "kind", "check_window",
					  "requirement", "sequence_line", "verdict", "measured", "u",
					  "unit", "limit_low", "limit_high", "primary_measurement",
					  "criterion", "explanation" };
static const char *const measurement_cols[] = { "run_pk", "check_idx", "idx", "name", "value",
						"u", "unit", "limit_low", "limit_high", "verdict" };
static const char *const health_cols[] = { "run_pk", "figure", "check_window", "value", "u",
					   "unit", "source" };
static const char *const series_cols[] = { "scope", "subject", "sequence_id", "check_kind",
					   "check_window", "measurement", "unit" };
static const char *const point_cols[] = { "run_pk", "scope", "subject", "sequence_id", "check_kind",
					  "check_window", "measurement", "run_id", "started_utc",
					  "value", "is_primary" };

/* The watched series of the record and its points on them (see the
 * schema): each value with its own verdict, per device; each bench-health
 * figure, per bench.  One point per series and run (the first). */
static void watched_points(const json_t *rec, const json_t *health, json_t *ret_series,
			   json_t *ret_points)
{
	const json_t *run = json_object_get(rec, "run"), *c, *m;
	size_t ci, mi, k;

	for (k = 0; k < 2; k++) {
		const json_t *list = k ? health : json_object_get(rec, "checks");

		json_array_foreach(list, ci, c) {
			const json_t *ms = k ? NULL : json_object_get(c, "measurements");
			size_t nm = k ? 1 : json_array_size(ms);

			for (mi = 0; mi < nm; mi++) {
				json_t *pt, *e;
				size_t j;
				bool dup = false;

				m = k ? c : json_array_get(ms, mi);
				if (!json_is_number(json_object_get(m, "value")) ||
				    (!k && !*jstr(m, "verdict")))
					continue;
				pt = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:i}",
					"scope", k ? "bench" : "device",
					"subject", jstr(run, k ? "bench_id" : "device_serial"),
					"sequence_id", jstr(run, "sequence_id"),
					"check_kind", k ? "bench_health" : jstr(c, "kind"),
					"check_window", jstr(c, "check_window"),
					"measurement", jstr(m, k ? "figure" : "name"),
					"run_id", jstr(run, "run_id"), "started_utc", jstr(run, "started_utc"),
					"value", json_object_get(m, "value"), "unit", jstr(m, "unit"),
					"is_primary", !k && strcmp(jstr(m, "name"),
								   jstr(c, "primary_measurement")) == 0);
				json_array_foreach(ret_points, j, e)
					dup = dup || (json_equal(json_object_get(e, "scope"), json_object_get(pt, "scope")) &&
						      json_equal(json_object_get(e, "check_kind"), json_object_get(pt, "check_kind")) &&
						      json_equal(json_object_get(e, "check_window"), json_object_get(pt, "check_window")) &&
						      json_equal(json_object_get(e, "measurement"), json_object_get(pt, "measurement")));
				if (dup) {
					json_decref(pt);
					continue;
				}
				json_array_append(ret_series, pt);
				json_array_append_new(ret_points, pt);
			}
		}
	}
}
#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static int version_of(struct history *h, const char *run_id, long long pk, int *ret, char *err,
		      size_t errlen)
{
	struct hist_rows rows;
	long long v = 0;
	int r = hist_query(h, "SELECT COUNT(*) FROM runs WHERE run_id = $1 AND id <= $2",
			   (struct hist_val[]){ hv_text(run_id), hv_int(pk) }, 2, &rows, err, errlen);

	if (r < 0)
		return r;
	hist_cell_ll(&rows, 0, 0, &v);
	hist_rows_free(&rows);
	*ret = (int)v;
	return 0;
}

static int already_stored(struct history *h, struct history_ingest_result *ret, bool *ret_found,
			  char *err, size_t errlen)
{
	struct hist_rows rows;
	long long pk = 0;
	int r = hist_query(h, "SELECT id FROM runs WHERE run_id = $1 AND manifest_sha256 = $2",
			   (struct hist_val[]){ hv_text(ret->run_id), hv_text(ret->manifest_sha256) },
			   2, &rows, err, errlen);

	*ret_found = false;
	if (r < 0)
		return r;
	if (rows.n_rows) {
		*ret_found = true;
		hist_cell_ll(&rows, 0, 0, &pk);
		ret->outcome = HISTORY_ALREADY_PRESENT;
		r = version_of(h, ret->run_id, pk, &ret->version, err, errlen);
	}
	hist_rows_free(&rows);
	return r;
}

/* Appends copies of the objects in from to to, each with run_pk set. */
static void add_rows(json_t *to, const json_t *from, long long pk)
{
	const json_t *e;
	size_t i;

	json_array_foreach(from, i, e) {
		json_t *row = json_deep_copy(e);

		json_object_set_new(row, "run_pk", json_integer(pk));
		json_array_append_new(to, row);
	}
}

/* Stores the records (NULL entries skipped) inside the caller's
 * transaction, table by table for the whole batch.  A record another
 * process stored meanwhile inserts nothing (ON CONFLICT) and is reported
 * already present. */
static int store_batch(struct history *h, json_t *const *recs, size_t n,
		       struct history_ingest_result *ret, char *err, size_t errlen)
{
	static const char *const cols[] = {
		"ingested_utc", "run_id", "manifest_sha256", "run_dir", "results_schema",
		"software", "host", "operator", "started_utc", "ended_utc", "clock",
		"device_model", "device_serial", "device_firmware", "sequence_id",
		"sequence_version", "sequence_sha256", "bench_id", "status", "end_reason", "verdict",
		"end_s", "samples", "sealed_utc", "sealed_by", "first_sealed_utc",
		"sealed_after_the_fact", "signed_by",
	};
	json_t *runs = json_array(), *inputs = json_array(), *instruments = json_array();
	json_t *checks = json_array(), *ms = json_array(), *health = json_array();
	json_t *series = json_array(), *points = json_array();
	struct hist_rows got = { 0 }, vers = { 0 };
	long long *pks = calloc(n ? n : 1, sizeof(*pks)), lo = -1, hi = -1;
	size_t *dup_of = calloc(n ? n : 1, sizeof(*dup_of));   /* 1 + index of the first */
	char now[32];
	size_t i, j, k;
	int r;

	if (!pks || !dup_of) {
		r = -ENOMEM;
		goto out;
	}
	hist_utc_now(now);
	for (i = 0; i < n; i++) {
		json_t *row;

		if (!recs[i])
			continue;
		row = json_deep_copy(json_object_get(recs[i], "run"));
		json_object_set_new(row, "ingested_utc", json_string(now));
		json_array_append_new(runs, row);
	}
	r = insert_rows(h, "runs", cols, sizeof(cols) / sizeof(cols[0]), runs,
			"ON CONFLICT (run_id, manifest_sha256) DO NOTHING"
			" RETURNING id, run_id, manifest_sha256", &got, err, errlen);
	if (r < 0)
		goto out;
	for (i = 0; i < n; i++) {
		const json_t *rec = recs[i], *c, *m;
		json_t *hv;
		json_t *run_health;
		size_t ci, mi;

		pks[i] = -1;
		if (!rec)
			continue;
		for (k = 0; k < got.n_rows && pks[i] < 0; k++)
			if (strcmp(hist_cell(&got, k, 1), ret[i].run_id) == 0 &&
			    strcmp(hist_cell(&got, k, 2), ret[i].manifest_sha256) == 0)
				hist_cell_ll(&got, k, 0, &pks[i]);
		if (pks[i] < 0) {
			/* another bench's ingest of the same version won the race */
			bool found;

			r = already_stored(h, &ret[i], &found, err, errlen);
			if (r < 0)
				goto out;
			continue;
		}
		for (j = 0; j < i; j++) {
			if (pks[j] == pks[i]) {
				/* the same run given twice in the batch: once */
				ret[i].outcome = HISTORY_ALREADY_PRESENT;
				dup_of[i] = j + 1;
				pks[i] = -1;
				break;
			}
		}
		if (pks[i] < 0)
			continue;
		lo = lo < 0 || pks[i] < lo ? pks[i] : lo;
		hi = pks[i] > hi ? pks[i] : hi;
		add_rows(inputs, json_object_get(rec, "inputs"), pks[i]);
		add_rows(instruments, json_object_get(rec, "instruments"), pks[i]);
		add_rows(checks, json_object_get(rec, "checks"), pks[i]);
		json_array_foreach(json_object_get(rec, "checks"), ci, c) {
			json_array_foreach(json_object_get(c, "measurements"), mi, m) {
				json_t *row = json_deep_copy(m);

				json_object_set(row, "check_idx", json_object_get(c, "check_idx"));
				json_object_set_new(row, "run_pk", json_integer(pks[i]));
				json_array_append_new(ms, row);
			}
		}
		/* one figure per name and window: the first (a window judged twice) */
		run_health = json_array();
		json_array_foreach(json_object_get(rec, "health"), mi, hv) {
			bool dup = false;

			for (j = 0; j < mi && !dup; j++) {
				json_t *e = json_array_get(json_object_get(rec, "health"), j);

				dup = json_equal(json_object_get(e, "figure"), json_object_get(hv, "figure")) &&
				      json_equal(json_object_get(e, "check_window"),
						 json_object_get(hv, "check_window"));
			}
			if (!dup)
				json_array_append(run_health, hv);
		}
		add_rows(health, run_health, pks[i]);
		{
			json_t *s1 = json_array(), *p1 = json_array();

			watched_points(rec, run_health, s1, p1);
			json_array_extend(series, s1);
			add_rows(points, p1, pks[i]);
			json_decref(s1);
			json_decref(p1);
		}
		json_decref(run_health);
	}
	r = insert_rows(h, "run_inputs", input_cols, NCOLS(input_cols), inputs, NULL, NULL, err,
			errlen);
	if (r == 0)
		r = insert_rows(h, "instruments", instrument_cols, NCOLS(instrument_cols), instruments,
				NULL, NULL, err, errlen);
	if (r == 0)
		r = insert_rows(h, "checks", check_cols, NCOLS(check_cols), checks, NULL, NULL, err,
				errlen);
	if (r == 0)
		r = insert_rows(h, "measurements", measurement_cols, NCOLS(measurement_cols), ms, NULL,
				NULL, err, errlen);
	if (r == 0)
		r = insert_rows(h, "health", health_cols, NCOLS(health_cols), health, NULL, NULL, err,
				errlen);
	if (r == 0)   /* a series already known stays as it is */
		r = insert_rows(h, "series", series_cols, NCOLS(series_cols), series,
				"ON CONFLICT DO NOTHING", NULL, err, errlen);
	if (r == 0)
		r = insert_rows(h, "points", point_cols, NCOLS(point_cols), points, NULL, NULL, err,
				errlen);
	if (r < 0 || hi < 0)
		goto out;
	/* each new row's version: its place among the rows of its run id */
	r = hist_query(h, "SELECT r.id, COUNT(v.id) FROM runs r JOIN runs v ON v.run_id = r.run_id"
			  " AND v.id <= r.id WHERE r.id BETWEEN $1 AND $2 GROUP BY r.id",
		       (struct hist_val[]){ hv_int(lo), hv_int(hi) }, 2, &vers, err, errlen);
	if (r < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (!recs[i] || pks[i] < 0)
			continue;
		for (k = 0; k < vers.n_rows; k++) {
			long long id, v;

			if (hist_cell_ll(&vers, k, 0, &id) && id == pks[i] &&
			    hist_cell_ll(&vers, k, 1, &v)) {
				ret[i].version = (int)v;
				ret[i].outcome = HISTORY_INGESTED;
			}
		}
	}
	for (i = 0; i < n; i++)
		if (dup_of[i])
			ret[i].version = ret[dup_of[i] - 1].version;
out:
	hist_rows_free(&got);
	hist_rows_free(&vers);
	free(pks);
	free(dup_of);
	json_decref(runs);
	json_decref(inputs);
	json_decref(instruments);
	json_decref(checks);
	json_decref(ms);
	json_decref(health);
	json_decref(series);
	json_decref(points);
	return r;
}

/* Reads run_dir into *ret_rec, filling the result's identity; a refusal
 * leaves *ret_rec NULL and returns 0. */
static int read_one(const char *run_dir, json_t **ret_rec, struct history_ingest_result *ret,
		    char *err, size_t errlen)
{
	json_t *run;
	int r;

	*ret = (struct history_ingest_result){ .outcome = HISTORY_REFUSED };
	r = history_read_run_dir(run_dir, ret_rec, ret->reason, sizeof(ret->reason));
	if (r == -EBADMSG)
		return 0;
	if (r < 0) {
		hist_errf(err, errlen, "%s: %s", run_dir, strerror(-r));
		return r;
	}
	run = json_object_get(*ret_rec, "run");
	snprintf(ret->run_id, sizeof(ret->run_id), "%s", jstr(run, "run_id"));
	snprintf(ret->manifest_sha256, sizeof(ret->manifest_sha256), "%s",
		 jstr(run, "manifest_sha256"));
	return 0;
}

int history_ingest_run_dirs(struct history *h, const char *const *run_dirs, size_t n,
			    struct history_ingest_result *ret, char *err, size_t errlen)
{
	json_t **recs;
	size_t i, to_store = 0;
	bool found;
	int r = 0;

	if (n > BATCH_MAX) {
		/* a transaction per BATCH_MAX runs: bounded statements and memory */
		for (i = 0; i < n && r == 0; i += BATCH_MAX)
			r = history_ingest_run_dirs(h, run_dirs + i, n - i < BATCH_MAX ? n - i : BATCH_MAX,
						    ret + i, err, errlen);
		return r;
	}
	recs = calloc(n ? n : 1, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	/* Read and check every run first, outside any transaction: the
	 * store's lock is held only while inserting. */
	for (i = 0; i < n && r == 0; i++)
		r = read_one(run_dirs[i], &recs[i], &ret[i], err, errlen);
	/* Which are stored already: one query for the batch (a round trip per
	 * run would cost a server more than the inserts), then the versions of
	 * those found, one by one: they are few after the first sync. */
	if (r == 0) {
		struct hist_val *ids = calloc(n ? n : 1, sizeof(*ids));
		struct hist_rows have = { 0 };
		char *sql = malloc(128 + n * 12);
		size_t m = 0, k;
		int o;

		if (!ids || !sql)
			r = -ENOMEM;
		for (i = 0; r == 0 && i < n; i++)
			if (recs[i])
				ids[m++] = hv_text(ret[i].run_id);
		if (r == 0 && m) {
			o = sprintf(sql, "SELECT run_id, manifest_sha256 FROM runs WHERE run_id IN (");
			for (k = 0; k < m; k++)
				o += sprintf(sql + o, "%s$%zu", k ? ", " : "", k + 1);
			sprintf(sql + o, ")");
			r = hist_query(h, sql, ids, m, &have, err, errlen);
		}
		for (i = 0; r == 0 && i < n; i++) {
			if (!recs[i])
				continue;
			found = false;
			for (k = 0; k < have.n_rows && !found; k++)
				found = strcmp(hist_cell(&have, k, 0), ret[i].run_id) == 0 &&
					strcmp(hist_cell(&have, k, 1), ret[i].manifest_sha256) == 0;
			if (found)
				r = already_stored(h, &ret[i], &found, err, errlen);
			if (found) {
				json_decref(recs[i]);
				recs[i] = NULL;
			} else {
				to_store++;
			}
		}
		hist_rows_free(&have);
		free(ids);
		free(sql);
	}
	if (r == 0 && to_store) {
		r = h->be->begin(h->db, err, errlen);
		if (r == 0)
			r = store_batch(h, recs, n, ret, err, errlen);
		if (r == 0)
			r = hist_commit(h, err, errlen);
		if (r < 0)
			hist_rollback(h);
	}
	for (i = 0; i < n; i++) {
		json_decref(recs[i]);
		if (r < 0 && ret[i].outcome == HISTORY_INGESTED)
			ret[i].outcome = HISTORY_REFUSED, ret[i].version = 0;
	}
	free(recs);
	return r;
}

int history_ingest_run_dir(struct history *h, const char *run_dir,
			   struct history_ingest_result *ret, char *err, size_t errlen)
{
	return history_ingest_run_dirs(h, &run_dir, 1, ret, err, errlen);
}

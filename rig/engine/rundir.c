#include "rig/base/utc.h"
#include "rundir.h"
#include "rig/base/infile.h"

#include <errno.h>
#include <sodium.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rig/seal/digest.h"
#include "version.h"

void rundir_default_path(const struct sequence *seq, char *buf, size_t len)
{
	char stamp[32];

	rig_utc_now_format("%Y%m%dT%H%M%SZ", stamp, sizeof(stamp));
	snprintf(buf, len, "runs/%s-%s", stamp, seq->id);
}

static int mkdir_parents(const char *dir)
{
	char path[RIG_PATH_MAX];
	size_t len = strlen(dir);

	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in, out, r = 0;

	in = infile_open(from);   /* loaded as a regular file, and still one */
	if (in < 0)
		return in;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			r = -EIO;
			break;
		}
	}
	if (n < 0)
		r = -errno;
	if (r == 0 && fsync(out) != 0)
		r = -errno;
	close(in);
	close(out);
	return r;
}

void rundir_new_id(const char *bench_id, int64_t unix_s, char ret[RUNDIR_ID_MAX])
{
	unsigned char rnd[4];
	char stamp[24];

	/* when and where, readable, and 32 random bits so that two runs
	 * started in one second on one bench (or a copied bench file) differ */
	randombytes_buf(rnd, sizeof(rnd));
	rig_utc_format(unix_s, "%Y%m%dT%H%M%SZ", stamp, sizeof(stamp));
	snprintf(ret, RUNDIR_ID_MAX, "%.20s-%.64s-%02x%02x%02x%02x", stamp, bench_id, rnd[0], rnd[1],
		 rnd[2], rnd[3]);
}

/* Each instrument of the bench as the record names it: role, backend,
 * model, serial and calibration (the history and the report read it here
 * rather than parse the bench file again). */
static json_t *instruments_json(const struct bench *bench)
{
	json_t *a = json_array();

	for (int role = 0; role < ROLE__COUNT; role++) {
		const struct instrument_cfg *ic = &bench->instrument[role];
		json_t *cal;

		if (!ic->present)
			continue;
		cal = json_pack("{s:s*, s:s*}", "date", ic->cal.date[0] ? ic->cal.date : NULL,
				"due", ic->cal.due[0] ? ic->cal.due : NULL);
		json_object_set_new(cal, "uncertainty", ic->cal.uncertainty > 0 ?
				    json_real(ic->cal.uncertainty) : json_null());
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:o}", "role",
			rig_role_name((enum rig_role)role), "backend", ic->backend, "model", ic->model,
			"serial", ic->serial, "calibration", cal));
	}
	return a;
}

int rundir_create(const char *dir, const struct sequence *seq, const struct bench *bench,
		  const struct device *dev, int argc, char **argv, bool virtual_time,
		  char *err, size_t err_len)
{
	return rundir_create_meta(dir, seq, bench, dev, argc, argv, virtual_time, NULL, err, err_len);
}

int rundir_create_meta(const char *dir, const struct sequence *seq, const struct bench *bench,
		       const struct device *dev, int argc, char **argv, bool virtual_time,
		       const struct run_meta *rm, char *err, size_t err_len)
{
	static const char *const names[] = { "sequence.cfg", "bench.cfg", "device.cfg" };
	const char *sources[] = { seq->path, bench->path, dev->path };
	char path[RIG_PATH_MAX + 32], host[256] = "", stamp[32], run_id[RUNDIR_ID_MAX];
	json_t *meta, *cmd, *inputs, *digests;
	int64_t t_ns = rig_utc_now_ns(), t = t_ns / 1000000000;
	int r;

	r = mkdir_parents(dir);
	if (r == 0 && mkdir(dir, 0755) != 0)
		r = -errno;
	if (r == -EEXIST) {
		snprintf(err, err_len, "%s: already exists; a run directory is never reused, name a new one",
			 dir);
		return r;
	}
	if (r < 0) {
		snprintf(err, err_len, "%s: cannot create: %s", dir, strerror(-r));
		return r;
	}
	snprintf(path, sizeof(path), "%s/inputs", dir);
	if (mkdir(path, 0755) != 0) {
		r = -errno;
		snprintf(err, err_len, "%s: cannot create: %s", path, strerror(errno));
		return r;
	}
	inputs = json_object();
	digests = json_object();
	for (size_t i = 0; i < 3; i++) {
		char hex[DIGEST_HEX_LEN + 1];

		snprintf(path, sizeof(path), "%s/inputs/%s", dir, names[i]);
		r = copy_file(sources[i], path);
		/* the digest of the copy: what the run used, as it lies in the record */
		if (r == 0)
			r = digest_file_sha256(path, hex);
		if (r < 0) {
			snprintf(err, err_len, "%s: cannot copy to %s: %s", sources[i], path, strerror(-r));
			json_decref(inputs);
			json_decref(digests);
			return r;
		}
		json_object_set_new(inputs, names[i], json_string(sources[i]));
		json_object_set_new(digests, names[i], json_string(hex));
	}
	cmd = json_array();
	for (int i = 0; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	gethostname(host, sizeof(host) - 1);
	rig_utc_text(t, RIG_UTC_ISO, stamp, sizeof(stamp));
	rundir_new_id(bench->id, t, run_id);
	meta = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:o}",
			 "schema", "pumprig.run/1",
			 "run_id", run_id,
			 "software", "pumprig " RIG_VERSION,
			 "started_utc", stamp,
			 "host", host,
			 "command", cmd,
			 "clock", virtual_time ? "virtual (simulated bench)" : "real (CLOCK_MONOTONIC)",
			 "clock_kind", virtual_time ? "virtual" : "real",
			 "sequence_id", seq->id,
			 "sequence_version", seq->version,
			 "bench_id", bench->id,
			 "inputs", inputs);
	if (meta) {
		/* started_utc to the nanosecond: the order of runs started in
		 * one second (a simulated night's), which the history keeps */
		json_object_set_new(meta, "started_unix_ns", json_integer(t_ns));
		json_object_set_new(meta, "simulated", json_boolean(rm && rm->simulated));
		json_object_set_new(meta, "device", json_pack("{s:s, s:s, s:s, s:s}",
			"model", dev->model, "serial", dev->serial, "firmware", dev->firmware,
			"manufacturer", dev->manufacturer));
		json_object_set_new(meta, "instruments", instruments_json(bench));
	}
	if (meta) {
		json_object_set_new(meta, "inputs_sha256", digests);
		digests = NULL;
	}
	/* the device's identity as the pump itself said it, beside the device
	 * file's (run.json "device"), which it matched or the run was refused */
	if (meta && rm && rm->have_pump_identity)
		json_object_set_new(meta, "device_identity_read", json_pack("{s:s, s:s, s:s}",
			"serial", rm->pump_identity.serial, "firmware", rm->pump_identity.firmware,
			"source", "the pump's own link (IDENT), before the run"));
	/* what rig talked to, not what the bench file says: a bench file for
	 * the wire simulator without sim_clock is still the simulator's, and
	 * the judge marks its record so (docs/results-json.md, bench_kind) */
	if (meta && rm && rm->wire_sim) {
		json_t *seen = json_array();

		for (size_t i = 0; i < rm->wire_sim->n; i++)
			json_array_append_new(seen, json_string(rm->wire_sim->how[i]));
		json_object_set_new(meta, "wire_simulator", json_boolean(rm->wire_sim->found));
		json_object_set_new(meta, "wire_simulator_seen", seen);
	}
	if (meta && rm && rm->operator_name)
		json_object_set_new(meta, "operator", json_string(rm->operator_name));
	if (meta && rm && rm->retry_of)
		json_object_set_new(meta, "retry_of", json_string(rm->retry_of));
	if (meta && rm) {
		json_t *expired = json_array();

		for (size_t i = 0; i < rm->n_expired; i++)
			json_array_append_new(expired, json_pack("{s:s, s:s, s:s}",
				"role", rig_role_name(rm->expired[i].role),
				"serial", rm->expired[i].serial, "due", rm->expired[i].due));
		json_object_set_new(meta, "allow_expired_calibration",
				    json_boolean(rm->allow_expired_calibration));
		json_object_set_new(meta, "expired_calibrations", expired);
	}
	json_decref(digests);
	snprintf(path, sizeof(path), "%s/run.json", dir);
	r = meta && json_dump_file(meta, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : -EIO;
	json_decref(meta);
	if (r < 0)
		snprintf(err, err_len, "%s: cannot write", path);
	return r;
}

/* What makes a directory a run's: rig run writes run.json and inputs/
 * before anything else, and seals it with a manifest that says whose it
 * is.  A SHA256SUMS of some other origin (a download's) or a stray run.json
 * alone does not make a run. */
bool rundir_holds_run(const char *dir)
{
	static const char mark[] = "# pumprig manifest";
	char path[RIG_PATH_MAX + 16], head[sizeof(mark) - 1];
	struct stat st;
	bool manifest = false;
	int fd;

	snprintf(path, sizeof(path), "%s/run.json", dir);
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		snprintf(path, sizeof(path), "%s/inputs", dir);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return true;
	}
	snprintf(path, sizeof(path), "%s/SHA256SUMS", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	manifest = read(fd, head, sizeof(head)) == (ssize_t)sizeof(head) &&
		   memcmp(head, mark, sizeof(head)) == 0;
	close(fd);
	return manifest;
}

int rundir_inside_run(const char *dir, char *ret_run, size_t ret_len)
{
	/* dir followed as the kernel will when rig creates it: while its
	 * components exist, each is resolved (symbolic links, "..") by
	 * realpath into the canonical cur; the first that does not exist, and
	 * every one after, is a plain directory rig makes, so a ".." after one
	 * of them undoes it ("new/../run/x" is "run/x", cur again) */
	char cur[PATH_MAX], tried[PATH_MAX], next[PATH_MAX + RIG_PATH_MAX], copy[RIG_PATH_MAX];
	char *save = NULL;
	size_t n_new = 0;

	if (strlen(dir) >= sizeof(copy))
		return -ENAMETOOLONG;
	memcpy(copy, dir, strlen(dir) + 1);
	if (!realpath(dir[0] == '/' ? "/" : ".", cur))
		return -errno;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (n_new > 0) {
			n_new += strcmp(c, "..") ? 1 : -1;
			continue;
		}
		snprintf(next, sizeof(next), "%s/%s", strcmp(cur, "/") ? cur : "", c);
		if (realpath(next, tried)) {
			memcpy(cur, tried, sizeof(cur));
			continue;
		}
		if (errno != ENOENT)
			return -errno;
		n_new = 1;
	}
	/* the run, if any: cur or the nearest ancestor holding a run's files */
	for (;;) {
		char *slash;

		if (rundir_holds_run(cur)) {
			snprintf(ret_run, ret_len, "%s", cur);
			return 1;
		}
		slash = strrchr(cur, '/');
		if (!slash || !strcmp(cur, "/"))
			return 0;
		slash[slash == cur ? 1 : 0] = '\0';
	}
}

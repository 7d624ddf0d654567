/* Run directories: created fresh for each run, never overwritten. */
#ifndef RIG_RUNDIR_H
#define RIG_RUNDIR_H

#include <stdbool.h>

#include "drivers/driver.h"
#include <stddef.h>
#include "rig/config/config.h"
#include "calgate.h"
#include "rig/base/runid.h"
#include "probe.h"

/* Default location: runs/<UTC yyyymmddThhmmssZ>-<sequence id>. */
void rundir_default_path(const struct sequence *seq, char *buf, size_t len);

/* Creates dir (and missing parents); an existing dir is -EEXIST.  Then copies
 * the three input files to dir/inputs/ and writes dir/run.json (software
 * version, start time, host, command line, inputs). */
int rundir_create(const char *dir, const struct sequence *seq, const struct bench *bench,
		  const struct device *dev, int argc, char **argv, bool virtual_time,
		  char *err, size_t err_len);

/* dir holds a run: its run.json and inputs/ (written first), or a manifest
 * rig wrote (SHA256SUMS starting "# pumprig manifest"). */
bool rundir_holds_run(const char *dir);

/* Whether dir, created as rundir_create would create it, would be a run
 * directory or lie inside one (rundir_holds_run, after symbolic links and
 * ".." are followed): 1 with that directory in
 * ret_run, 0 when not, or a negative errno when dir cannot be followed. */
int rundir_inside_run(const char *dir, char *ret_run, size_t ret_len);

/* What run.json records beyond the files: who ran it, and the expired
 * calibrations the operator allowed (docs/integrity.md). */
struct run_meta {
	const char *operator_name;            /* NULL: not recorded */
	bool allow_expired_calibration;       /* --allow-expired-calibration was given */
	const struct cal_expired *expired;    /* overdue instruments at the start */
	size_t n_expired;
	const char *retry_of;                 /* the run this one repeats (rig nightly's run
	                                         again): a deviation in its report; NULL: none */
	bool simulated;                       /* every instrument simulated (in-process or a
	                                         wire-level simulator), or any served by the
	                                         wire simulator: not verification evidence */
	/* what rig found serving the bench before the run (rig_wire_simulator_find):
	 * run.json "wire_simulator" and "wire_simulator_seen"; NULL: not asked */
	const struct wire_sim_seen *wire_sim;
	bool have_pump_identity;              /* read from the pump before the run */
	struct pump_identity pump_identity;   /* what it said: run.json device_identity_read */
};

#define RUNDIR_ID_MAX RUN_ID_MAX
/* A new run id: "20261206T055512Z-SIM-1-3fa9c2d1" (UTC start, bench id, 32
 * random bits), unique however the run directory is named or copied. */
void rundir_new_id(const char *bench_id, int64_t unix_s, char ret[RUNDIR_ID_MAX]);

/* rundir_create, with run.json also holding "operator",
 * "allow_expired_calibration", "expired_calibrations" and "inputs_sha256"
 * (the SHA-256 of each copied input).  meta may be NULL. */
int rundir_create_meta(const char *dir, const struct sequence *seq, const struct bench *bench,
		       const struct device *dev, int argc, char **argv, bool virtual_time,
		       const struct run_meta *meta, char *err, size_t err_len);

#endif

/* Night plans (rig nightly): see config.h and docs/nightly.md.
 *
 *   night = {
 *     id = "NIGHTLY-SIM";
 *     bench = "../fixtures/bench/sim.cfg";        # relative to this file's folder
 *     end_by = "06:00";                           # optional: local time of day, or "06:00Z"
 *     retries = 1;                                # optional, 0 .. 3, default 1
 *     jobs = (
 *       { sequence = "qualification.cfg"; dut = "../fixtures/dut/itp-40.cfg"; repeat = 1; }
 *     );
 *   };
 *
 * Paths are taken relative to the plan file's folder, so a plan works from
 * wherever it is started (a systemd unit, a CI runner). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NIGHT_JOBS_MAX 64
#define NIGHT_REPEAT_MAX 100
#define NIGHT_RETRIES_MAX 3

void night_free(struct night_plan *plan)
{
	if (!plan)
		return;
	free(plan->jobs);
	free(plan);
}

/* path as written, made relative to the plan's folder unless absolute. */
static int beside(const char *plan_path, const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(plan_path, '/');
	int n;

	if (path[0] == '/' || !slash)
		n = snprintf(buf, size, "%s", path);
	else
		n = snprintf(buf, size, "%.*s/%s", (int)(slash - plan_path), plan_path, path);
	return n >= 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

/* A path key: present, text, resolved beside the plan. */
static int path_key(struct cfg_ctx *ctx, const config_setting_t *g, const char *key, char *buf,
		    size_t size, int *ret_line)
{
	char raw[RIG_PATH_MAX];
	const config_setting_t *s = config_setting_get_member(g, key);
	int r = cfg_string(ctx, g, key, true, raw, sizeof(raw));

	if (r != 1)
		return r;
	if (!raw[0]) {
		cfg_error(ctx, s, "'%s' is empty; give the file's path (relative to this plan's "
			  "folder, or absolute)", key);
		return -1;
	}
	if (beside(ctx->path, raw, buf, size) < 0) {
		cfg_error(ctx, s, "'%s' is too long a path beside this plan; allowed: %zu bytes in all",
			  key, size - 1);
		return -1;
	}
	if (ret_line)
		*ret_line = config_setting_source_line(s);
	return 1;
}

/* "HH:MM" (local time) or "HH:MMZ" (UTC). */
static int end_by(struct cfg_ctx *ctx, const config_setting_t *g, struct night_plan *p)
{
	const config_setting_t *s = config_setting_get_member(g, "end_by");
	char text[16];
	int r = cfg_string(ctx, g, "end_by", false, text, sizeof(text));
	size_t len;

	if (r != 1)
		return r;
	len = strlen(text);
	p->end_by_utc = len == 6 && text[5] == 'Z';
	if (!((len == 5 || p->end_by_utc) && text[2] == ':' && text[0] >= '0' && text[0] <= '2' &&
	      text[1] >= '0' && text[1] <= '9' && text[3] >= '0' && text[3] <= '5' &&
	      text[4] >= '0' && text[4] <= '9') ||
	    (text[0] - '0') * 10 + (text[1] - '0') > 23) {
		cfg_error(ctx, s, "'end_by' = \"%s\" is not a time of day; write \"06:00\" (the "
			  "station's local time) or \"06:00Z\" (UTC), 00:00 .. 23:59", text);
		return -1;
	}
	p->has_end_by = true;
	p->end_by_min = ((text[0] - '0') * 10 + (text[1] - '0')) * 60 + (text[3] - '0') * 10 +
			(text[4] - '0');
	p->end_by_line = config_setting_source_line(s);
	return 1;
}

int night_load(const char *path, struct night_plan **ret_plan, struct diag_list *diags)
{
	static const char *const keys[] = { "id", "bench", "end_by", "retries", "jobs", NULL };
	static const char *const job_keys[] = { "sequence", "dut", "repeat", NULL };
	struct cfg_ctx ctx = { .path = path, .diags = diags };
	struct night_plan *p;
	config_t cfg;
	config_setting_t *g, *jobs;
	double retries = 1;

	*ret_plan = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->retries = 1;
	if (cfg_read(&ctx, &cfg) < 0)
		goto fail;
	g = cfg_root_group(&ctx, &cfg, "night");
	if (!g)
		goto fail;
	cfg_check_keys(&ctx, g, "night", keys);
	cfg_ident(&ctx, g, "id", true, p->id, sizeof(p->id));
	path_key(&ctx, g, "bench", p->bench, sizeof(p->bench), &p->bench_line);
	end_by(&ctx, g, p);
	if (cfg_number(&ctx, g, "retries", 0, NIGHT_RETRIES_MAX, &retries) == 1) {
		if (retries != (unsigned)retries)
			cfg_error(&ctx, config_setting_get_member(g, "retries"),
				  "'retries' = %g is not a whole number; allowed: 0 .. %d", retries,
				  NIGHT_RETRIES_MAX);
		p->retries = (unsigned)retries;
	}
	jobs = config_setting_get_member(g, "jobs");
	if (!jobs) {
		cfg_error(&ctx, g, "missing 'jobs' in night; give jobs = ( { sequence = \"...\"; "
			  "dut = \"...\"; repeat = 1; }, ... )");
	} else if (!config_setting_is_list(jobs) || config_setting_length(jobs) == 0 ||
		   config_setting_length(jobs) > NIGHT_JOBS_MAX) {
		cfg_error(&ctx, jobs, "'jobs' must be a list of 1 to %d groups ( { sequence = "
			  "\"...\"; dut = \"...\"; repeat = 1; }, ... )", NIGHT_JOBS_MAX);
	} else {
		p->n_jobs = (size_t)config_setting_length(jobs);
		p->jobs = calloc(p->n_jobs, sizeof(*p->jobs));
		if (!p->jobs) {
			config_destroy(&cfg);
			night_free(p);
			return -ENOMEM;
		}
		for (size_t i = 0; i < p->n_jobs; i++) {
			config_setting_t *j = config_setting_get_elem(jobs, (unsigned)i);
			struct night_job *job = &p->jobs[i];
			double repeat = 1;

			job->line = config_setting_source_line(j);
			job->repeat = 1;
			if (!config_setting_is_group(j)) {
				cfg_error(&ctx, j, "job %zu is not a group; write { sequence = \"...\"; "
					  "dut = \"...\"; repeat = 1; }", i + 1);
				continue;
			}
			cfg_check_keys(&ctx, j, "job", job_keys);
			path_key(&ctx, j, "sequence", job->sequence, sizeof(job->sequence), NULL);
			path_key(&ctx, j, "dut", job->dut, sizeof(job->dut), NULL);
			if (cfg_number(&ctx, j, "repeat", 1, NIGHT_REPEAT_MAX, &repeat) == 1) {
				if (repeat != (unsigned)repeat)
					cfg_error(&ctx, config_setting_get_member(j, "repeat"),
						  "'repeat' = %g is not a whole number; allowed: 1 .. %d",
						  repeat, NIGHT_REPEAT_MAX);
				job->repeat = (unsigned)repeat;
			}
		}
	}
	if (ctx.errors)
		goto fail;
	config_destroy(&cfg);
	*ret_plan = p;
	return 0;
fail:
	config_destroy(&cfg);
	night_free(p);
	return -EINVAL;
}

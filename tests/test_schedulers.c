/* The schedulers a lab already has, running the shipped files as they are:
 * the systemd units' own command lines (tools/systemd/rig-nightly@.service),
 * and the example CI pipelines' own scripts (docs/examples/), each on the
 * simulated bench with its folders under a scratch root.  What the engines
 * themselves judge is checked by tools/check-schedulers in .ci/run
 * (systemd-analyze verify, the YAML read by a YAML parser). */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define INSTANCE "SIM-1"

/* Every `from` in text replaced by `to` (malloc'd). */
static char *replaced(const char *text, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	const char *p;
	char *out, *o;

	for (p = text; (p = strstr(p, from)); p += fl)
		n++;
	out = malloc(strlen(text) + n * tl + 1);
	cr_assert_not_null(out);
	for (o = out, p = text;;) {
		const char *q = strstr(p, from);

		if (!q) {
			strcpy(o, p);
			return out;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
		p = q + fl;
	}
}

static void mkdirs(const char *path)
{
	char *cmd;

	cr_assert_geq(asprintf(&cmd, "mkdir -p '%s'", path), 0);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(cmd);
}

/* The shipped simulated bench (id SIM-1) and a plan of `repeat` short
 * dose-accuracy runs on it, as DIR/bench.cfg and DIR/plan.cfg (bench =
 * "bench.cfg"), with the sequence beside them. */
static void bench_files(const char *dir, unsigned repeat)
{
	char *b = th_src("fixtures/bench/sim.cfg"), *d = th_src("fixtures/dut/itp-40.cfg");
	char *q = th_src("sequences/dose-accuracy.cfg"), *bt = th_read_file(b), *qt = th_read_file(q);
	char *q1, *q2, *plan;

	mkdirs(dir);
	free(th_write_file(dir, "bench.cfg", bt));
	q1 = replaced(qt, "duration = \"1 h\"", "duration = \"10 min\"");
	q2 = replaced(q1, "duration = \"6 h\"", "duration = \"30 min\"");
	cr_assert(strcmp(q2, qt) != 0, "the shipped sequence changed");
	free(th_write_file(dir, "dose.cfg", q2));
	cr_assert_geq(asprintf(&plan, "night = {\n  id = \"NIGHT\";\n  bench = \"bench.cfg\";\n"
			       "  jobs = ( { sequence = \"dose.cfg\"; dut = \"%s\"; repeat = %u; } );\n};\n",
			       d, repeat), 0);
	free(th_write_file(dir, "plan.cfg", plan));
	free(plan);
	free(q1);
	free(q2);
	free(bt);
	free(qt);
	free(b);
	free(d);
	free(q);
}

/* ------------------------------------------------------------- systemd -- */

/* The unit's value of key (the last one: systemd's rule for a plain
 * setting), or NULL. */
static char *unit_value(const char *unit, const char *key)
{
	char *found = NULL;
	size_t kl = strlen(key);

	for (const char *p = unit; *p;) {
		size_t len = strcspn(p, "\n");

		if (len > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			free(found);
			found = strndup(p + kl + 1, len - kl - 1);
		}
		p += len + (p[len] == '\n');
	}
	return found;
}

/* A unit's command line as systemd splits it: words apart at blanks,
 * "double quotes" holding blanks; %i the instance, %% a percent sign (any
 * other specifier fails the test: this reader would not expand it as
 * systemd does).  The paths under /etc/pumprig and /var/lib/pumprig are
 * taken under root, and /usr/bin/rig is the rig built here. */
static char **unit_argv(const char *line, const char *root)
{
	char **argv = calloc(32, sizeof(*argv)), *etc, *var, *a, *b;
	size_t n = 0;
	const char *p = line;

	cr_assert_geq(asprintf(&etc, "%s/etc/pumprig", root), 0);
	cr_assert_geq(asprintf(&var, "%s/var/lib/pumprig", root), 0);
	while (*p) {
		char word[1024];
		size_t w = 0;
		bool quoted = false;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		for (; *p && (quoted || *p != ' '); p++) {
			if (*p == '"') {
				quoted = !quoted;
				continue;
			}
			if (*p == '%') {
				p++;
				cr_assert(*p == 'i' || *p == '%', "specifier %%%c: not read by this test", *p);
				w += (size_t)snprintf(word + w, sizeof(word) - w, "%s",
						      *p == 'i' ? INSTANCE : "%");
				continue;
			}
			word[w++] = *p;
		}
		word[w] = '\0';
		cr_assert(!quoted, "an unclosed quote in %s", line);
		a = replaced(word, "/etc/pumprig", etc);
		b = replaced(a, "/var/lib/pumprig", var);
		free(a);
		argv[n++] = strcmp(b, "/usr/bin/rig") ? b : (free(b), strdup(RIG_BINARY));
		cr_assert_lt(n, 31);
	}
	free(etc);
	free(var);
	return argv;
}

static void argv_free(char **argv)
{
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* systemd's EnvironmentFile: KEY=VALUE lines, # comments.  Sets each. */
static void load_environment(const char *path)
{
	char *text = th_read_file(path), *line, *save = NULL;

	cr_assert_not_null(text, "%s", path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		setenv(line, eq + 1, 1);
	}
	free(text);
}

/* Starts argv with stdout and stderr to dir/stdout, dir/stderr. */
static pid_t start(const char *dir, char **argv)
{
	cr_assert_str_eq(argv[0], RIG_BINARY, "the unit runs %s, not /usr/bin/rig", argv[0]);
	return th_rig_spawn(dir, (const char *const *)argv + 1);
}

Test(schedulers, the_systemd_units_run_a_night_and_make_the_bench_safe_however_it_ends,
     .timeout = 180)
{
	char *root = th_tmpdir(), *src = th_src("tools/systemd/rig-nightly@.service");
	char *tsrc = th_src("tools/systemd/rig-nightly@.timer"), *unit = th_read_file(src);
	char *timer = th_read_file(tsrc), *bench_dir, *env_line, *env_file, *state, *s, *out;
	char **exec_start, **stop_post, *v;
	json_t *night;
	int st;

	cr_assert_not_null(unit);
	cr_assert_not_null(timer);
	/* what the issue asks of them, as systemd reads it */
	cr_assert_str_eq((v = unit_value(unit, "Type")), "oneshot");
	free(v);
	cr_assert_not_null((v = unit_value(unit, "TimeoutStartSec")), "no time limit");
	free(v);
	cr_assert_str_eq((v = unit_value(unit, "StandardOutput")), "journal");
	free(v);
	cr_assert_str_eq((v = unit_value(timer, "Persistent")), "true");
	free(v);
	cr_assert_not_null((v = unit_value(timer, "RandomizedDelaySec")));
	free(v);
	cr_assert_not_null((v = unit_value(timer, "OnCalendar")));
	free(v);

	/* the bench's files where the unit looks for them, the state
	 * folders systemd makes (StateDirectory), the environment file */
	cr_assert_geq(asprintf(&bench_dir, "%s/etc/pumprig/benches/" INSTANCE, root), 0);
	bench_files(bench_dir, 8);
	state = unit_value(unit, "StateDirectory");
	cr_assert_not_null(state);
	for (char *save = NULL, *w = strtok_r(state, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *dir, *d2 = replaced(w, "%i", INSTANCE);

		cr_assert_geq(asprintf(&dir, "%s/var/lib/%s", root, d2), 0);
		mkdirs(dir);
		free(dir);
		free(d2);
	}
	env_line = unit_value(unit, "EnvironmentFile");
	cr_assert_not_null(env_line);
	{
		char **e = unit_argv(env_line[0] == '-' ? env_line + 1 : env_line, root);

		env_file = strdup(e[0]);
		argv_free(e);
	}
	cr_assert_geq(asprintf(&s, "# the lab's store\nPUMPRIG_HISTORY=sqlite:%s/lab.sqlite\n", root), 0);
	{
		char *slash = strrchr(env_file, '/');

		*slash = '\0';
		free(th_write_file(env_file, slash + 1, s));
		*slash = '/';
	}
	free(s);
	load_environment(env_file);
	v = unit_value(unit, "ExecStart");
	exec_start = unit_argv(v, root);
	free(v);
	v = unit_value(unit, "ExecStopPost");
	stop_post = unit_argv(v, root);
	free(v);

	/* a night that ends by itself, then the stop's rig safe */
	st = th_rig_wait(start(root, exec_start));
	out = th_slurp(root, "stderr");
	cr_assert_eq(st, 0, "ExecStart: %d %s", st, out);
	free(out);
	cr_assert_geq(asprintf(&s, "%s/var/lib/pumprig/runs/" INSTANCE "/nights", root), 0);
	{
		char *cmd, *dir;

		cr_assert_geq(asprintf(&cmd, "ls -1d %s/*/ | tail -n 1", s), 0);
		{
			FILE *p = popen(cmd, "r");
			char buf[2048] = "";

			cr_assert(p && fgets(buf, sizeof(buf), p), "no night in %s", s);
			pclose(p);
			buf[strcspn(buf, "\n")] = '\0';
			dir = strdup(buf);
		}
		free(cmd);
		cr_assert_geq(asprintf(&cmd, "%snightly.json", dir), 0);
		night = json_load_file(cmd, 0, NULL);
		cr_assert_not_null(night, "%s", cmd);
		cr_assert_str_eq(json_string_value(json_object_get(night, "status")), "completed");
		cr_assert_eq(json_array_size(json_object_get(night, "runs")), 8);
		cr_assert_str_eq(json_string_value(json_object_get(night, "history")),
				 getenv("PUMPRIG_HISTORY"), "the environment file's store");
		cr_assert_eq(json_integer_value(json_object_get(night, "history_pending")), 0);
		json_decref(night);
		free(cmd);
		free(dir);
	}
	st = th_rig_wait(start(root, stop_post));
	out = th_slurp(root, "stdout");
	cr_assert_eq(st, 0, "ExecStopPost: %d %s %s", st, out, th_slurp(root, "stderr"));
	free(out);

	/* a night stopped by systemd (its time limit, or systemctl stop):
	 * KillMode=mixed sends SIGTERM to rig nightly alone, which passes it
	 * to the run in progress; the night is cut short, and rig safe runs
	 * after it all the same */
	{
		char *kill_mode = unit_value(unit, "KillMode");
		pid_t pid;

		cr_assert_str_eq(kill_mode, "mixed");
		free(kill_mode);
		pid = start(root, exec_start);
		out = th_wait_for_text(root, "stderr", "run 2 of 8", 60000);
		cr_assert_not_null(out, "the night did not reach its second run");
		free(out);
		kill(pid, SIGTERM);
		st = th_rig_wait(pid);
		out = th_slurp(root, "stderr");
		cr_assert_eq(st, 3, "a night stopped: %d %s", st, out);
		free(out);
		st = th_rig_wait(start(root, stop_post));
		cr_assert_eq(st, 0, "ExecStopPost after a stop: %d", st);
	}
	unsetenv("PUMPRIG_HISTORY");
	argv_free(exec_start);
	argv_free(stop_post);
	free(env_line);
	free(env_file);
	free(state);
	free(s);
	free(bench_dir);
	free(unit);
	free(timer);
	free(src);
	free(tsrc);
	free(root);
}

/* ------------------------------------------------------ CI pipelines -- */

/* A YAML file of the tree, read by a YAML parser (python3-yaml, in Debian's
 * interpreter: a python3 earlier on the PATH may not have it), as JSON. */
static json_t *yaml_file(const char *relative)
{
	char *path = th_src(relative), *cmd;
	json_error_t e;
	json_t *j;
	FILE *p;

	cr_assert_geq(asprintf(&cmd, "/usr/bin/python3 -c 'import json, sys, yaml; "
			       "json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)' '%s'", path), 0);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	j = json_loadf(p, 0, &e);
	cr_assert_eq(pclose(p), 0, "%s is not YAML that python3-yaml reads", relative);
	cr_assert_not_null(j, "%s: %s", relative, e.text);
	free(cmd);
	free(path);
	return j;
}

/* The lab's project as a runner checks it out: benches/SIM-1/plan.cfg and
 * bench.cfg; a folder with `rig` on the PATH; each rig of the job with its
 * own locks and seal journal under root. */
static char *ci_project(const char *root, unsigned repeat)
{
	char *project, *bench, *bin, *link, *path;

	cr_assert_geq(asprintf(&project, "%s/project", root), 0);
	cr_assert_geq(asprintf(&bench, "%s/benches/" INSTANCE, project), 0);
	bench_files(bench, repeat);
	cr_assert_geq(asprintf(&bin, "%s/bin", root), 0);
	mkdirs(bin);
	cr_assert_geq(asprintf(&link, "%s/rig", bin), 0);
	cr_assert_eq(symlink(RIG_BINARY, link), 0, "%s", strerror(errno));
	cr_assert_geq(asprintf(&path, "%s:%s", bin, getenv("PATH")), 0);
	setenv("PATH", path, 1);
	setenv("PUMPRIG_LOCK_DIR", root, 1);
	free(path);
	cr_assert_geq(asprintf(&path, "%s/seal-journal.jsonl", root), 0);
	setenv("PUMPRIG_JOURNAL", path, 1);
	free(path);
	free(bench);
	free(bin);
	free(link);
	return project;
}

/* A pipeline's variable as the lab's machine has it: the runs folder
 * under root, the lab's store a SQLite file of the test's. */
static void ci_setenv(const char *root, const char *name, const char *value)
{
	char *v, *store;

	if (!strcmp(name, "PUMPRIG_HISTORY")) {
		cr_assert(!strncmp(value, "postgresql://", 13), "the example's store: %s", value);
		cr_assert(!strstr(value, "password"), "a password in the pipeline: %s", value);
		cr_assert_geq(asprintf(&store, "sqlite:%s/lab.sqlite", root), 0);
		setenv(name, store, 1);
		free(store);
		return;
	}
	{
		char *var;

		cr_assert_geq(asprintf(&var, "%s/var/lib/pumprig", root), 0);
		v = replaced(value, "/var/lib/pumprig", var);
		free(var);
	}
	setenv(name, v, 1);
	free(v);
}

/* Runs a script as a CI runner's shell does (bash, stopping at the first
 * command that fails) in dir; its output to root/ci.log; its exit status. */
static int ci_shell(const char *root, const char *dir, const char *script)
{
	char *log;
	pid_t pid;
	int st;

	cr_assert_geq(asprintf(&log, "%s/ci.log", root), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		if (chdir(dir) != 0 || !freopen(log, "a", stdout) || !freopen(log, "a", stderr))
			_exit(99);
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		execl("/bin/bash", "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script,
		      (char *)NULL);
		_exit(98);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	free(log);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* The lines of a GitLab script list as one script. */
static char *gitlab_script(const json_t *lines)
{
	char *text = NULL;
	size_t len = 0, i;
	const json_t *l;
	FILE *f = open_memstream(&text, &len);

	cr_assert(json_is_array(lines));
	json_array_foreach(lines, i, l)
		fprintf(f, "%s\n", json_string_value(l));
	fclose(f);
	return text;
}

/* What the job published: its night, the JUnit report among it. */
static void check_published(const char *root, const char *project)
{
	char *path, *text, *log;
	json_t *night;

	cr_assert_geq(asprintf(&path, "%s/night/nightly.json", project), 0);
	log = th_slurp(root, "ci.log");
	night = json_load_file(path, 0, NULL);
	cr_assert_not_null(night, "%s; the job said:\n%s", path, log);
	cr_assert_str_eq(json_string_value(json_object_get(night, "status")), "completed");
	cr_assert_eq(json_array_size(json_object_get(night, "runs")), 1);
	cr_assert_eq(json_integer_value(json_object_get(night, "history_pending")), 0);
	json_decref(night);
	text = th_slurp(project, "night/junit.xml");
	cr_assert(text && strstr(text, "<testsuites"), "no junit.xml published");
	free(text);
	text = th_slurp(project, "night/summary.txt");
	cr_assert_not_null(text);
	free(text);
	free(path);
	free(log);
}

Test(schedulers, the_gitlab_pipeline_runs_each_bench_on_its_own_runner_and_publishes_the_night,
     .timeout = 120)
{
	char *root = th_tmpdir(), *project = ci_project(root, 1), *script, *after, *cmd;
	json_t *doc = yaml_file("docs/examples/nightly.gitlab-ci.yml"), *job, *base, *vars;
	json_t *artifacts, *v;
	const char *name, *key;
	size_t n_jobs = 0;
	int st;

	/* one job per bench, tagged with its bench id, extending the night */
	base = json_object_get(doc, ".night");
	cr_assert_not_null(base);
	json_object_foreach(doc, name, job) {
		const char *bench;

		if (!json_is_object(job) || !json_object_get(job, "extends"))
			continue;
		cr_assert_str_eq(json_string_value(json_object_get(job, "extends")), ".night");
		bench = json_string_value(json_object_get(json_object_get(job, "variables"), "BENCH"));
		cr_assert_not_null(bench, "%s: no BENCH", name);
		cr_assert_eq(json_array_size(json_object_get(job, "tags")), 1, "%s", name);
		cr_assert_str_eq(json_string_value(json_array_get(json_object_get(job, "tags"), 0)), bench,
				 "%s: tagged other than its bench", name);
		n_jobs++;
	}
	cr_assert_geq(n_jobs, 2);
	artifacts = json_object_get(base, "artifacts");
	cr_assert_str_eq(json_string_value(json_object_get(artifacts, "when")), "always");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(artifacts, "reports"),
							   "junit")), "night/junit.xml");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(artifacts, "paths"), 0)),
			 "night/");

	/* the job of bench SIM-1, as its runner runs it: the variables (the
	 * job's over the template's, $BENCH expanded), the script, then the
	 * after_script in a shell of its own */
	job = json_object_get(doc, "night " INSTANCE);
	cr_assert_not_null(job);
	vars = json_deep_copy(json_object_get(base, "variables"));
	json_object_update(vars, json_object_get(job, "variables"));
	json_object_foreach(vars, key, v) {
		char *val = replaced(json_string_value(v), "$BENCH", INSTANCE);

		ci_setenv(root, key, val);
		free(val);
	}
	setenv("CI_JOB_ID", "4242", 1);
	script = gitlab_script(json_object_get(base, "script"));
	after = gitlab_script(json_object_get(base, "after_script"));
	st = ci_shell(root, project, script);
	cr_assert_eq(st, 0, "script: %d\n%s", st, th_slurp(root, "ci.log"));
	st = ci_shell(root, project, after);
	cr_assert_eq(st, 0, "after_script: %d\n%s", st, th_slurp(root, "ci.log"));
	check_published(root, project);
	cr_assert(strstr(th_slurp(root, "ci.log"), "rig safe: the bench is safe"));

	/* the next night, its plan refused: the job fails, the bench is made
	 * safe, and yesterday's night is not published as today's */
	cr_assert_geq(asprintf(&cmd, "rm -rf '%s/night' && sed -i 's/repeat = 1/repeat = 0/' "
			       "'%s/benches/" INSTANCE "/plan.cfg'", project, project), 0);
	cr_assert_eq(system(cmd), 0);
	st = ci_shell(root, project, script);
	cr_assert_eq(st, 2, "a refused plan: %d", st);
	st = ci_shell(root, project, after);
	cr_assert_eq(st, 0, "after_script: %d\n%s", st, th_slurp(root, "ci.log"));
	{
		char *night;

		cr_assert_geq(asprintf(&night, "%s/night", project), 0);
		cr_assert_eq(rmdir(night), 0, "a night published for a night that never ran");
		free(night);
	}
	unsetenv("PUMPRIG_HISTORY");
	json_decref(vars);
	json_decref(doc);
	free(cmd);
	free(script);
	free(after);
	free(project);
	free(root);
}

/* GitHub's ${{ matrix.bench }} for the bench the job runs on. */
static char *gh_expand(const char *text)
{
	cr_assert(!strstr(text, "${{") || strstr(text, "${{ matrix.bench }}") ||
		  strstr(text, "${{ github"), "an expression this test does not read: %s", text);
	return replaced(text, "${{ matrix.bench }}", INSTANCE);
}

Test(schedulers, the_github_workflow_runs_each_bench_on_its_own_runner_and_publishes_the_night,
     .timeout = 120)
{
	char *root = th_tmpdir(), *project = ci_project(root, 1);
	json_t *doc = yaml_file("docs/examples/nightly.github-actions.yml");
	json_t *job = json_object_get(json_object_get(doc, "jobs"), "night"), *env, *step, *v;
	const char *key;
	bool failed = false, uploaded = false;
	size_t i;

	cr_assert_not_null(job);
	cr_assert(json_is_false(json_object_get(json_object_get(job, "strategy"), "fail-fast")));
	cr_assert_geq(json_array_size(json_object_get(json_object_get(json_object_get(job, "strategy"),
								      "matrix"), "bench")), 2);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(job, "runs-on"), 0)),
			 "self-hosted");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(job, "runs-on"), 1)),
			 "${{ matrix.bench }}", "each bench's job on that bench's runner");
	env = json_object_get(job, "env");
	json_object_foreach(env, key, v) {
		char *val = gh_expand(json_string_value(v));

		ci_setenv(root, key, val);
		free(val);
	}
	setenv("GITHUB_RUN_ID", "77", 1);
	/* each step in order; after a failure only those with if: always() */
	json_array_foreach(json_object_get(job, "steps"), i, step) {
		const char *uses = json_string_value(json_object_get(step, "uses"));
		const char *cond = json_string_value(json_object_get(step, "if"));

		if (failed && !(cond && !strcmp(cond, "always()")))
			continue;
		if (uses && !strncmp(uses, "actions/checkout@", 17))
			continue;   /* ci_project made the checkout */
		if (uses) {
			const json_t *with = json_object_get(step, "with");
			char *path;

			cr_assert(!strncmp(uses, "actions/upload-artifact@", 24), "step %zu: %s", i, uses);
			cr_assert_str_eq(cond, "always()");
			cr_assert_geq(asprintf(&path, "%s/%s", project,
					       json_string_value(json_object_get(with, "path"))), 0);
			cr_assert_eq(access(path, R_OK), 0, "nothing to upload at %s", path);
			free(path);
			uploaded = true;
			continue;
		}
		{
			char *script = gh_expand(json_string_value(json_object_get(step, "run")));
			int st = ci_shell(root, project, script);

			failed |= st != 0;
			cr_assert_eq(st, 0, "step %zu: %d\n%s", i, st, th_slurp(root, "ci.log"));
			free(script);
		}
	}
	cr_assert(uploaded);
	check_published(root, project);
	unsetenv("PUMPRIG_HISTORY");
	json_decref(doc);
	free(project);
	free(root);
}

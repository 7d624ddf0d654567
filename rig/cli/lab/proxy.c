/* The lab module's functions as the bench's `rig` calls them (lab/module.h).
 *
 * Only the `rig` executable has this file; the module has the real
 * functions of the same names (lab/lab.c, lab/nightly.c, lab/history.c).
 * What a run does at its end (the report's documents, storing the run in
 * the history) runs in a child process that loads the module, so the
 * process that drove the bench never maps the report's or the history's
 * libraries; the lab's commands load it in the process itself.
 *
 * The module is looked for beside the running rig (a build tree), in
 * ../lib/pumprig from it (the package's layout, also unpacked or moved),
 * then in RIG_LAB_DIR (where the package installs it). */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "module.h"
#include "reports/reports.h"
#include "version.h"

#ifndef RIG_LAB_DIR
#define RIG_LAB_DIR "/usr/lib/pumprig"
#endif

static const struct rig_lab_entry *lab_entry;

static int try_open(const char *path, char *err, size_t errlen)
{
	const struct rig_lab_entry *e;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(err, errlen, "%s", dlerror());
		return -ENOENT;
	}
	e = dlsym(h, RIG_LAB_ENTRY);
	if (!e || strcmp(e->version, RIG_VERSION) != 0 ||
	    e->run_results_size != sizeof(struct run_results)) {
		snprintf(err, errlen, "%s is %s", path,
			 e ? "of another build of rig" : "not rig's lab module");
		dlclose(h);
		return -ENOEXEC;
	}
	lab_entry = e;
	return 0;
}

/* The module, loaded once; NULL with the reason on stderr. */
static const struct rig_lab_entry *lab_module(void)
{
	/* beside rig (a build tree), where a package puts it relative to rig
	 * (an unpacked package, a prefix moved as a whole), where it was
	 * installed */
	static const char *const beside[] = { "", "/../lib/pumprig" };
	char self[PATH_MAX], path[PATH_MAX + 64], err[PATH_MAX + 256] = "";
	ssize_t n;

	if (lab_entry)
		return lab_entry;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			for (size_t i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
				snprintf(path, sizeof(path), "%s%s/%s", self, beside[i],
					 RIG_LAB_MODULE_NAME);
				if (access(path, F_OK) == 0 && try_open(path, err, sizeof(err)) == 0)
					return lab_entry;
				if (err[0])
					break;   /* there, but not loadable: say why */
			}
		}
	}
	if (!err[0]) {
		snprintf(path, sizeof(path), "%s/%s", RIG_LAB_DIR, RIG_LAB_MODULE_NAME);
		if (try_open(path, err, sizeof(err)) == 0)
			return lab_entry;
	}
	fprintf(stderr, "rig: cannot load the lab module (the report's documents, the run history "
		"and the lab's commands): %s\n", err);
	return NULL;
}

/* fn(arg) in a child process that loads the module; its result, a
 * negative errno or a small non-negative number, comes back through the
 * exit status.  Signals stay as the caller holds them; a crash in the
 * child ends the child alone (the bench is the parent's). */
static int in_child(int (*fn)(const struct rig_lab_entry *, void *), void *arg)
{
	static const int crash[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS };
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		const struct rig_lab_entry *e;
		int r;

		for (size_t i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
			signal(crash[i], SIG_DFL);
		e = lab_module();
		r = e ? fn(e, arg) : -ENOENT;
		fflush(stdout);
		fflush(stderr);
		/* 0..127 as they are, -errno as 128 + errno */
		_exit(r >= 0 ? (r < 128 ? r : 127) : 128 + (-r < 127 ? -r : 127));
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "rig: the lab module's process ended by signal %d\n", WTERMSIG(status));
		return -ECHILD;
	}
	status = WEXITSTATUS(status);
	return status >= 128 ? -(status - 128) : status;
}

struct documents_args {
	const struct run_results *res;
	const char *run_dir;
};

static int documents_in_child(const struct rig_lab_entry *e, void *arg)
{
	const struct documents_args *a = arg;

	return e->write_documents(a->res, a->run_dir);
}

int lab_write_documents(const struct run_results *res, const char *run_dir)
{
	struct documents_args a = { res, run_dir };

	return in_child(documents_in_child, &a);
}

struct store_args {
	const char *dir, *runs, *db_opt;
	bool quiet;
};

static int store_in_child(const struct rig_lab_entry *e, void *arg)
{
	const struct store_args *a = arg;

	return a->runs ? e->history_store_in(a->dir, a->runs, a->db_opt, a->quiet)
		       : e->history_store(a->dir, a->db_opt, a->quiet);
}

/* never changes a run's exit status: a module that cannot be loaded is a
 * store that cannot be reached (1), said on stderr */
int lab_history_store(const char *run_dir, const char *db_opt, bool quiet)
{
	struct store_args a = { run_dir, NULL, db_opt, quiet };
	int r = in_child(store_in_child, &a);

	return r == 0 ? 0 : 1;
}

int lab_history_store_in(const char *dir, const char *runs, const char *db_opt, bool quiet)
{
	struct store_args a = { dir, runs, db_opt, quiet };
	int r = in_child(store_in_child, &a);

	return r == 0 ? 0 : 1;
}

int nightly_validate(const char *plan_path, bool allow_expired)
{
	const struct rig_lab_entry *e = lab_module();

	return e ? e->nightly_validate(plan_path, allow_expired) : EXIT_ABORTED;
}

static const struct rig_command *lab_command(const char *name)
{
	const struct rig_lab_entry *e = lab_module();

	for (size_t i = 0; e && e->commands[i]; i++)
		if (!strcmp(e->commands[i]->name, name))
			return e->commands[i];
	return NULL;
}

const char *lab_usage(const char *name)
{
	const struct rig_command *c = lab_command(name);

	return c ? c->usage : "";
}

static int lab_main(int argc, char **argv)
{
	const struct rig_command *c = lab_command(argv[0]);

	if (!c)
		return EXIT_ABORTED;
	lab_entry->set_command_line(cli_full_argc, cli_full_argv);
	return c->main(argc, argv);
}

const struct rig_command cmd_history = { "history", NULL, lab_main };
const struct rig_command cmd_nightly = { "nightly", NULL, lab_main };
const struct rig_command cmd_export = { "export", NULL, lab_main };

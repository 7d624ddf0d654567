/* The lab module (rig-lab.so): what rig does with the libraries a run does
 * not need (cairo, pango and the fonts for the PDF and HTML report; SQLite
 * and libpq for the run history; the dashboard).
 *
 * The `rig` that drives a bench links none of them, so its resident memory
 * is what the run itself holds (README, "Memory").  It loads this module
 * with dlopen when a command needs it: in a child process of its own for
 * what a run does at its end (the report's documents, storing the run in
 * the history: proxy.c), in the process itself for the lab's commands
 * (rig history, rig nightly).  The module is built from the same sources as
 * rig and exports one symbol, RIG_LAB_ENTRY; everything else in it is its
 * own copy, bound inside it (module.map), so nothing in it can call
 * into rig's copies by name. */
#ifndef RIG_CLI_LAB_MODULE_H
#define RIG_CLI_LAB_MODULE_H

#include <stdbool.h>

#include "rig/cli/cli.h"
#include "rig/judge/results.h"

#define RIG_LAB_ENTRY "rig_lab_entry"
#define RIG_LAB_MODULE_NAME "rig-lab.so"

struct rig_lab_entry {
	/* the build: rig refuses a module of another version or whose
	 * struct run_results has another size */
	const char *version;
	size_t run_results_size;
	/* reports/report_content.c: report.pdf and report.html */
	int (*write_documents)(const struct run_results *res, const char *run_dir);
	/* lab.c, nightly.c: as declared in lab.h */
	int (*history_store)(const char *run_dir, const char *db_opt, bool quiet);
	int (*history_store_in)(const char *dir, const char *runs, const char *db_opt, bool quiet);
	int (*nightly_validate)(const char *plan_path, bool allow_expired);
	/* the module's commands (history, nightly); NULL-terminated.  Their
	 * main takes the whole command line too (run.json records it). */
	const struct rig_command *const *commands;
	void (*set_command_line)(int argc, char **argv);
};

/* proxy.c, in rig only: the usage text of the module's command name */
const char *lab_usage(const char *name);

#endif

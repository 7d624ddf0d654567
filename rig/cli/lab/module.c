/* The lab module's one exported symbol (module.h): its functions as the
 * bench's `rig` calls them through lab_proxy.c. */
#include "lab.h"
#include "module.h"
#include "reports/reports.h"
#include "version.h"

static const struct rig_command *const module_commands[] = { &cmd_history, &cmd_nightly,
							     &cmd_export, NULL };

static void set_command_line(int argc, char **argv)
{
	cli_full_argc = argc;
	cli_full_argv = argv;
}

const struct rig_lab_entry rig_lab_entry = {
	.version = RIG_VERSION,
	.run_results_size = sizeof(struct run_results),
	.write_documents = report_write_documents,
	.history_store = lab_history_store,
	.history_store_in = lab_history_store_in,
	.nightly_validate = nightly_validate,
	.commands = module_commands,
	.set_command_line = set_command_line,
};

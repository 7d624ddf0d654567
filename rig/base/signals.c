/* Linux's signals and their default actions, from the table of signal(7). */
#include "signals.h"

#include <stdio.h>

struct signal_row {
	int sig;
	const char *name;
	enum rig_signal_default action;
};

/* signal(7), "Standard signals", x86 and ARM numbering (the numbers come
 * from <signal.h>, so other architectures get theirs). */
static const struct signal_row table[] = {
	{ SIGHUP, "SIGHUP", RIG_SIGNAL_TERM },
	{ SIGINT, "SIGINT", RIG_SIGNAL_TERM },
	{ SIGQUIT, "SIGQUIT", RIG_SIGNAL_CORE },
	{ SIGILL, "SIGILL", RIG_SIGNAL_CORE },
	{ SIGTRAP, "SIGTRAP", RIG_SIGNAL_CORE },
	{ SIGABRT, "SIGABRT", RIG_SIGNAL_CORE },
	{ SIGBUS, "SIGBUS", RIG_SIGNAL_CORE },
	{ SIGFPE, "SIGFPE", RIG_SIGNAL_CORE },
	{ SIGKILL, "SIGKILL", RIG_SIGNAL_TERM },
	{ SIGUSR1, "SIGUSR1", RIG_SIGNAL_TERM },
	{ SIGSEGV, "SIGSEGV", RIG_SIGNAL_CORE },
	{ SIGUSR2, "SIGUSR2", RIG_SIGNAL_TERM },
	{ SIGPIPE, "SIGPIPE", RIG_SIGNAL_TERM },
	{ SIGALRM, "SIGALRM", RIG_SIGNAL_TERM },
	{ SIGTERM, "SIGTERM", RIG_SIGNAL_TERM },
#ifdef SIGSTKFLT
	{ SIGSTKFLT, "SIGSTKFLT", RIG_SIGNAL_TERM },
#endif
	{ SIGCHLD, "SIGCHLD", RIG_SIGNAL_IGN },
	{ SIGCONT, "SIGCONT", RIG_SIGNAL_CONT },
	{ SIGSTOP, "SIGSTOP", RIG_SIGNAL_STOP },
	{ SIGTSTP, "SIGTSTP", RIG_SIGNAL_STOP },
	{ SIGTTIN, "SIGTTIN", RIG_SIGNAL_STOP },
	{ SIGTTOU, "SIGTTOU", RIG_SIGNAL_STOP },
	{ SIGURG, "SIGURG", RIG_SIGNAL_IGN },
	{ SIGXCPU, "SIGXCPU", RIG_SIGNAL_CORE },
	{ SIGXFSZ, "SIGXFSZ", RIG_SIGNAL_CORE },
	{ SIGVTALRM, "SIGVTALRM", RIG_SIGNAL_TERM },
	{ SIGPROF, "SIGPROF", RIG_SIGNAL_TERM },
	{ SIGWINCH, "SIGWINCH", RIG_SIGNAL_IGN },
	{ SIGIO, "SIGIO", RIG_SIGNAL_TERM },   /* SIGPOLL */
#ifdef SIGPWR
	{ SIGPWR, "SIGPWR", RIG_SIGNAL_TERM },
#endif
	{ SIGSYS, "SIGSYS", RIG_SIGNAL_CORE },
};
#define N_ROWS (sizeof(table) / sizeof(table[0]))

static const struct signal_row *row_of(int sig)
{
	for (size_t i = 0; i < N_ROWS; i++)
		if (table[i].sig == sig)
			return &table[i];
	return NULL;
}

int rig_signal_max(void)
{
	return SIGRTMAX;
}

bool rig_signal_reserved(int sig)
{
	return !row_of(sig) && sig > 0 && sig < SIGRTMIN;
}

enum rig_signal_default rig_signal_default(int sig)
{
	const struct signal_row *r = row_of(sig);

	/* real-time signals, and the C library's own, end the process */
	return r ? r->action : RIG_SIGNAL_TERM;
}

bool rig_signal_ends_process(int sig)
{
	enum rig_signal_default d = rig_signal_default(sig);

	return d == RIG_SIGNAL_TERM || d == RIG_SIGNAL_CORE;
}

const char *rig_signal_name(int sig, char buf[RIG_SIGNAL_NAME_MAX])
{
	const struct signal_row *r = row_of(sig);
	int mid = SIGRTMIN + (SIGRTMAX - SIGRTMIN) / 2;

	if (r)
		snprintf(buf, RIG_SIGNAL_NAME_MAX, "%s", r->name);
	else if (sig == SIGRTMIN)
		snprintf(buf, RIG_SIGNAL_NAME_MAX, "SIGRTMIN");
	else if (sig == SIGRTMAX)
		snprintf(buf, RIG_SIGNAL_NAME_MAX, "SIGRTMAX");
	else if (sig > SIGRTMIN && sig <= mid)
		snprintf(buf, RIG_SIGNAL_NAME_MAX, "SIGRTMIN+%d", sig - SIGRTMIN);
	else if (sig > mid && sig < SIGRTMAX)
		snprintf(buf, RIG_SIGNAL_NAME_MAX, "SIGRTMAX-%d", SIGRTMAX - sig);
	else
		snprintf(buf, RIG_SIGNAL_NAME_MAX, "signal %d", sig);
	return buf;
}

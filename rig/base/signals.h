/* The signals of Linux as signal(7) tables them: each one's name and what
 * the kernel does to a process that leaves it at its default disposition.
 * rig's command line decides from this table what every signal does to a
 * run (rig/cli/common.c), the engine names the signal that stopped one. */
#ifndef RIG_BASE_SIGNALS_H
#define RIG_BASE_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

enum rig_signal_default {
	RIG_SIGNAL_TERM,   /* the process ends */
	RIG_SIGNAL_CORE,   /* the process ends (with a core dump where allowed) */
	RIG_SIGNAL_IGN,    /* nothing happens */
	RIG_SIGNAL_STOP,   /* the process is stopped until SIGCONT */
	RIG_SIGNAL_CONT,   /* a stopped process continues; otherwise nothing */
};

/* The highest signal number the kernel knows (SIGRTMAX as the kernel
 * counts, not as the C library adjusts it). */
int rig_signal_max(void);

/* The default action of sig (1 .. rig_signal_max()).  Real-time signals end
 * the process, and so do the two or three numbers below SIGRTMIN that the C
 * library keeps for itself (rig_signal_reserved). */
enum rig_signal_default rig_signal_default(int sig);

/* True for the numbers between the standard signals and SIGRTMIN that the C
 * library keeps for its own threads (glibc: 32 and 33): sigaction() refuses
 * them, so no program can catch them. */
bool rig_signal_reserved(int sig);

/* True when the default action ends the process. */
bool rig_signal_ends_process(int sig);

#define RIG_SIGNAL_NAME_MAX 24

/* "SIGUSR1", "SIGRTMIN+3", "SIGRTMAX-2" (as bash's kill -l counts them),
 * "signal 32" for one without a name; written into buf, which is returned. */
const char *rig_signal_name(int sig, char buf[RIG_SIGNAL_NAME_MAX]);

#endif

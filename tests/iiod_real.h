/* The harness of the suites against Debian's real iiod (test_iiod_*.c):
 * tests/iiod/fake-sysfs serving a kernel-shaped sysfs tree in a private
 * mount and network namespace, and instruments of the iio backend on it. */
#ifndef RIG_TEST_IIOD_REAL_H
#define RIG_TEST_IIOD_REAL_H

#include <stdio.h>
#include <sys/types.h>

#include "drivers/driver.h"

struct real {
	pid_t pid;           /* tests/iiod/fake-sysfs serve */
	int in_fd;           /* its stdin: closing it takes everything down */
	pid_t iiod;
	char uri[64];
	char sysfs[256];     /* the tree, seen from here */
};

struct watch {
	int fd;
	int wd[16];
	char dir[16][64];
	size_t n;
};

long long mono_ms(void);
struct real start_real_with(const char *const *extra);
struct real start_real(void);
void stop_real(struct real *r);
char *path_of(const struct real *r, const char *rel);
void sysfs_set(const struct real *r, const char *rel, const char *value);
char *tree_snapshot(const struct real *r);
void watch_start(struct watch *w, const struct real *r, const char *const *dirs);
char *watch_writes(struct watch *w);
void freeze(const struct real *r);
struct instrument_cfg *iio_cfg(struct bench *b, const struct real *r, enum rig_role role, const char *device, const char *channel);
void buffered(struct instrument_cfg *ic, rig_ns period_ns, const char *trigger);
struct instrument *open_ok(struct driver_env *env, enum rig_role role);
char *open_fails(struct driver_env *env, enum rig_role role, int err);
double read_one(struct instrument *inst, size_t k);

#define has(text, part) cr_assert_not_null(strstr(text, part), "no [%s] in: %s", part, text)
#define hasnt(text, part) cr_assert_null(strstr(text, part), "[%s] in: %s", part, text)

#endif

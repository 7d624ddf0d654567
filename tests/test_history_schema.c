/* The history store's migrations as files: what embed.cmake compiles in. */
#include "rig/history/history.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>

/* Each version is one migration, numbered from 1 without a gap: two files
 * with one number would be recorded as one and the second skipped by a
 * store that already has the first.  The files on disk are what embed.cmake
 * compiles in. */
Test(history, migrations_are_numbered_from_one_each_number_once)
{
	DIR *d = opendir(RIG_SOURCE_DIR "/rig/history/migrations");
	int seen[100] = { 0 }, n = 0, v;
	struct dirent *e;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		cr_assert_eq(sscanf(e->d_name, "%4d_", &v), 1, "%s: not NNNN_name.sql", e->d_name);
		cr_assert(v >= 1 && v < 100, "%s", e->d_name);
		cr_assert_eq(seen[v]++, 0, "version %d is used by more than one file (%s)", v,
			     e->d_name);
		n++;
	}
	closedir(d);
	for (v = 1; v <= n; v++)
		cr_assert_eq(seen[v], 1, "version %d is missing among %d migrations", v, n);
	cr_assert_eq(history_schema_latest(), n);
}

/* <role>.csv: the raw samples of each instrument in its own table,
 * derived from samples.csv for spreadsheets and CI tools that want one
 * instrument at a time, written by `rig export` where it is asked (a run
 * directory no longer keeps them: derived, they would double its size).  Streams samples.csv twice (once to learn each
 * role's columns, once to write): memory does not depend on the run's
 * length.  Values are copied as recorded, character for character, so
 * nothing is rounded on the way.
 *
 * A row holds the readings one role took at one instant: a power monitor's
 * current and voltage (two samples.csv rows with the same t_ns) share a row.
 * So every reading in samples.csv is exactly one value cell in exactly one
 * file; a damaged row (rig/base/record.h) is in none, only counted. */
#include "reports.h"
#include "rig/base/infile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rig/base/record.h"
#include "version.h"

#define ROLES_MAX 16
#define COLUMNS_MAX 4
#define VALUE_MAX_LEN 40

/* Names as rig_role_name, quantity_name and quantity_unit give them: the
 * record's own strings, whatever their length. */
struct column {
	const char *quantity;
	const char *unit;
};

struct role_table {
	const char *role;
	struct column col[COLUMNS_MAX];
	size_t n_col;
	FILE *f;
	char tmp_path[RIG_PATH_MAX + 64];
	/* the row being gathered */
	bool pending;
	long long t_ns;
	char value[COLUMNS_MAX][VALUE_MAX_LEN + 1];
	char flags[COLUMNS_MAX][8];
	bool filled[COLUMNS_MAX];
	size_t rows, cells;
};

struct tables {
	struct role_table t[ROLES_MAX];
	size_t n;
	size_t rows_read, skipped, torn;
};

static struct role_table *table_for(struct tables *ts, const char *role, bool add)
{
	for (size_t i = 0; i < ts->n; i++)
		if (!strcmp(ts->t[i].role, role))
			return &ts->t[i];
	if (!add || ts->n == ROLES_MAX)
		return NULL;
	ts->t[ts->n].role = role;
	return &ts->t[ts->n++];
}

static int column_for(struct role_table *t, const char *quantity, const char *unit, bool add)
{
	for (size_t i = 0; i < t->n_col; i++)
		if (!strcmp(t->col[i].quantity, quantity) && !strcmp(t->col[i].unit, unit))
			return (int)i;
	if (!add || t->n_col == COLUMNS_MAX)
		return -1;
	t->col[t->n_col] = (struct column){ quantity, unit };
	return (int)t->n_col++;
}

/* Each pass reads every complete line; fn gets each row rig could have
 * written.  A damaged one (rig/base/record.h) is counted and left out: a
 * table derived from the record holds only readings. */
static int each_sample(const char *run_dir, struct tables *ts,
		       int (*fn)(struct tables *ts, const struct sample_row *row))
{
	char *line = NULL;
	size_t cap = 0, line_no = 0;
	ssize_t len;
	FILE *f;
	int r = 0;

	f = samples_open(run_dir);   /* or samples.csv.zst, once compressed */
	if (!f)
		return -errno;
	ts->rows_read = ts->skipped = ts->torn = 0;
	while (r == 0 && (len = getline(&line, &cap, f)) > 0) {
		struct sample_row row;

		if (line[len - 1] != '\n') {   /* torn by a crash mid-write */
			ts->torn++;
			break;
		}
		line[len - 1] = '\0';
		if (line_no++ == 0 && !strcmp(line, SAMPLES_HEADER))
			continue;
		if (sample_row_parse(line, &row) != SAMPLE_ROW_OK) {
			ts->skipped++;
			continue;
		}
		ts->rows_read++;
		r = fn(ts, &row);
	}
	free(line);
	fclose(f);
	return r;
}

static int learn(struct tables *ts, const struct sample_row *row)
{
	struct role_table *t = table_for(ts, rig_role_name(row->role), true);

	/* every row parsed names a role and a quantity rig records: never
	 * more than the tables hold */
	if (!t || column_for(t, quantity_name(row->quantity), quantity_unit(row->quantity), true) < 0)
		return -E2BIG;
	return 0;
}

static void print_t_s(FILE *f, long long t_ns)
{
	unsigned long long a = t_ns < 0 ? 0ULL - (unsigned long long)t_ns : (unsigned long long)t_ns;

	fprintf(f, "%s%llu.%09llu", t_ns < 0 ? "-" : "", a / 1000000000ULL, a % 1000000000ULL);
}

static void flush_row(struct role_table *t)
{
	if (!t->pending)
		return;
	print_t_s(t->f, t->t_ns);
	for (size_t i = 0; i < t->n_col; i++) {
		fprintf(t->f, ",%s,%s", t->filled[i] ? t->value[i] : "",
			t->filled[i] ? t->flags[i] : "");
	}
	fputc('\n', t->f);
	t->rows++;
	t->pending = false;
	memset(t->filled, 0, sizeof(t->filled));
}

static int emit(struct tables *ts, const struct sample_row *row)
{
	struct role_table *t = table_for(ts, rig_role_name(row->role), false);
	int c = t ? column_for(t, quantity_name(row->quantity), quantity_unit(row->quantity), false) : -1;

	if (c < 0)
		return -EIO;   /* samples.csv changed between the passes */
	if (t->pending && (t->t_ns != row->t_ns || t->filled[c]))
		flush_row(t);
	t->pending = true;
	t->t_ns = row->t_ns;
	snprintf(t->value[c], sizeof(t->value[c]), "%s", row->value_text);
	snprintf(t->flags[c], sizeof(t->flags[c]), "%s", row->flags_text);
	t->filled[c] = true;
	t->cells++;
	return 0;
}

/* "mass_g", "flow_mL_per_h"; a dimensionless quantity ("1") keeps its name. */
static void column_name(FILE *f, const struct column *c)
{
	fputs(c->quantity, f);
	if (!strcmp(c->unit, "1"))
		return;
	fputc('_', f);
	for (const char *u = c->unit; *u; u++)
		if (*u == '/')
			fputs("_per_", f);
		else
			fputc(*u, f);
}

static int write_readme(const char *data_dir, const char *run_dir, const struct tables *ts)
{
	char path[RIG_PATH_MAX + 64], tmp[RIG_PATH_MAX + 72];
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/README.txt", data_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"These files are derived from %s/samples.csv (the raw record, as taken) by\n"
		"pumprig %s (`rig export`), which writes them again from it.  One file per\n"
		"instrument role.  Columns: t_s (run time in seconds, exact to the ns of\n"
		"samples.csv's t_ns), then for each quantity the role recorded its value\n"
		"(column named quantity_unit, '/' written _per_) and its flags\n"
		"(quantity_flags: U unstable, C clipped, S stale, R out of range).\n"
		"Readings a role took at the same t_ns share a row, so every reading in\n"
		"samples.csv is exactly one value cell here; values are copied as recorded.\n"
		"Rows rig could not have written (damaged) are left out.\n\n",
		run_dir, RIG_VERSION);
	for (size_t i = 0; i < ts->n; i++)
		fprintf(f, "%s.csv: %zu rows, %zu values\n", ts->t[i].role, ts->t[i].rows,
			ts->t[i].cells);
	fprintf(f, "samples.csv: %zu sample rows copied, %zu damaged rows left out (rows rig "
		"could not have written: the run's results.json damaged_rows lists them), %zu torn "
		"last line(s) skipped\n", ts->rows_read, ts->skipped, ts->torn);
	if (ferror(f))
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	return r;
}

int report_write_tables(const char *run_dir, const char *out_dir)
{
	char data_dir[RIG_PATH_MAX + 16];
	struct tables *ts = calloc(1, sizeof(*ts));
	int r;

	if (!ts)
		return -ENOMEM;
	r = each_sample(run_dir, ts, learn);
	if (r < 0)
		goto free_ts;
	snprintf(data_dir, sizeof(data_dir), "%s", out_dir);
	if (mkdir(data_dir, 0755) != 0 && errno != EEXIST) {
		r = -errno;
		goto free_ts;
	}
	for (size_t i = 0; i < ts->n; i++) {
		struct role_table *t = &ts->t[i];

		snprintf(t->tmp_path, sizeof(t->tmp_path), "%s/%s.csv.tmp", data_dir, t->role);
		t->f = fopen(t->tmp_path, "w");
		if (!t->f) {
			r = -errno;
			goto close_files;
		}
		fputs("t_s", t->f);
		for (size_t c = 0; c < t->n_col; c++) {
			fputc(',', t->f);
			column_name(t->f, &t->col[c]);
			fprintf(t->f, ",%s_flags", t->col[c].quantity);
		}
		fputc('\n', t->f);
	}
	r = each_sample(run_dir, ts, emit);
close_files:
	for (size_t i = 0; i < ts->n; i++) {
		struct role_table *t = &ts->t[i];
		char path[RIG_PATH_MAX + 64];

		if (!t->f)
			continue;
		flush_row(t);
		if (ferror(t->f) && r == 0)
			r = -EIO;
		if (fclose(t->f) != 0 && r == 0)
			r = -errno;
		t->f = NULL;
		snprintf(path, sizeof(path), "%s/%s.csv", data_dir, t->role);
		if (r == 0 && rename(t->tmp_path, path) != 0)
			r = -errno;
		if (r < 0)
			remove(t->tmp_path);
	}
	if (r == 0)
		r = write_readme(data_dir, run_dir, ts);
free_ts:
	free(ts);
	return r;
}

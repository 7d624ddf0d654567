/* A lab of benches on one PostgreSQL server, through the rig binary: several
 * `rig nightly` on different simulated benches write into one store at once,
 * each bench with its own login whose password libpq finds in the bench's own
 * password file; the server is stopped in the middle of the night and started
 * again; afterwards every run directory on disk is in the store once, and the
 * bench's login may not change or remove what is there.  docs/history.md
 * ("A lab's server"), README ("From one bench to a lab"). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libpq-fe.h>

#include "fleet.h"
#include "helpers.h"

/* Six benches: the first three have short nights that end while the server
 * is away, the others long ones that end after it is back. */
#define N_BENCHES 6
#define N_SHORT 3
#define REPEATS_SHORT 5
#define REPEATS_LONG 12
/* The store's text every bench is given, as the systemd unit gives it: no
 * host, no user, no password; the bench's service file says the rest. */
#define STORE "postgresql://?service=pumprig"

/* A bench of the lab: the shipped simulated bench with its own id and seed,
 * its own pump (serial), a night's plan of `repeats` dose-accuracy runs, and
 * libpq's service and password files, which only it has. */
struct lab_bench {
	char *dir, *runs, *plan, *service_file, *pass_file, *password, *login;
	char id[32];
	unsigned repeats;
	pid_t pid;
};

static void bench_make(struct lab_bench *b, const char *root, int k, const char *pgdata,
		       unsigned repeats)
{
	char *src = th_src("fixtures/bench/sim.cfg"), *text = th_read_file(src), *t1, *t2, *t3;
	char *dut_src = th_src("fixtures/dut/itp-40.cfg"), *seq = th_src("sequences/dose-accuracy.cfg");
	char *dut_text = th_read_file(dut_src), *seq_text = th_read_file(seq), line[64], serial[64];
	char *s, *t4, *t5;

	snprintf(b->id, sizeof(b->id), "LAB-%d", k);
	b->repeats = repeats;
	cr_assert_geq(asprintf(&b->dir, "%s/bench-%d", root, k), 0);
	cr_assert_eq(mkdir(b->dir, 0755), 0);
	cr_assert_geq(asprintf(&b->runs, "%s/runs", b->dir), 0);
	cr_assert_geq(asprintf(&b->login, "bench_lab_%d", k), 0);
	cr_assert_geq(asprintf(&b->password, "pw-%d-%ld", k, (long)getpid()), 0);

	cr_assert(strstr(text, "id = \"SIM-1\";") && strstr(text, "seed = 1;"), "the shipped bench changed");
	snprintf(line, sizeof(line), "id = \"%s\";", b->id);
	t1 = replaced(text, "id = \"SIM-1\";", line);
	snprintf(line, sizeof(line), "seed = %d;", 100 + k);
	t2 = replaced(t1, "seed = 1;", line);
	free(th_write_file(b->dir, "bench.cfg", t2));
	snprintf(serial, sizeof(serial), "serial = \"SN-LAB-%d\";", k);
	cr_assert(strstr(dut_text, "serial = \"SN-0001\";"), "the shipped device changed");
	t3 = replaced(dut_text, "serial = \"SN-0001\";", serial);
	free(th_write_file(b->dir, "dut.cfg", t3));
	/* the shipped nominal dose accuracy with its hours made minutes: a
	 * night of many short runs */
	cr_assert(strstr(seq_text, "duration = \"1 h\"") && strstr(seq_text, "duration = \"6 h\""),
		  "the shipped sequence changed");
	t4 = replaced(seq_text, "duration = \"1 h\"", "duration = \"10 min\"");
	t5 = replaced(t4, "duration = \"6 h\"", "duration = \"30 min\"");
	free(th_write_file(b->dir, "dose.cfg", t5));
	cr_assert_geq(asprintf(&s, "night = {\n  id = \"LAB-NIGHT\";\n  bench = \"bench.cfg\";\n"
			       "  jobs = ( { sequence = \"dose.cfg\"; dut = \"dut.cfg\"; repeat = %u; } );\n};\n",
			       repeats), 0);
	b->plan = th_write_file(b->dir, "plan.cfg", s);
	free(s);

	/* libpq's own files: where the server is and who the bench is, and its
	 * password; pumprig's files and command lines never hold either */
	cr_assert_geq(asprintf(&s, "[pumprig]\nhost=%s\ndbname=pumprig\nuser=%s\n", pgdata, b->login), 0);
	b->service_file = th_write_file(b->dir, "pg_service.conf", s);
	free(s);
	cr_assert_geq(asprintf(&s, "*:*:pumprig:%s:%s\n", b->login, b->password), 0);
	b->pass_file = th_write_file(b->dir, "pgpass", s);
	cr_assert_eq(chmod(b->pass_file, 0600), 0);   /* libpq ignores a password file others can read */
	free(s);
	free(t1);
	free(t2);
	free(t3);
	free(t4);
	free(t5);
	free(seq_text);
	free(text);
	free(src);
	free(dut_text);
	free(dut_src);
	free(seq);
}

static void bench_free(struct lab_bench *b)
{
	free(b->dir);
	free(b->runs);
	free(b->plan);
	free(b->service_file);
	free(b->pass_file);
	free(b->password);
	free(b->login);
}

/* This process's environment as the bench's: libpq finds its files, and
 * nothing else says where the store is or who connects. */
static void bench_env(const struct lab_bench *b)
{
	static const char *const others[] = { "PGHOST", "PGPORT", "PGUSER", "PGDATABASE",
					      "PGPASSWORD", "PGSERVICE", "PGHOSTADDR", NULL };

	for (const char *const *e = others; *e; e++)
		unsetenv(*e);
	setenv("PGSERVICEFILE", b->service_file, 1);
	setenv("PGPASSFILE", b->pass_file, 1);
	setenv("PUMPRIG_HISTORY", STORE, 1);
}

/* The run directories in a runs folder (each holding run.json), every one
 * of them sealed. */
static size_t runs_on_disk(const char *runs, json_t *ids)
{
	DIR *d = opendir(runs);
	struct dirent *e;
	size_t n = 0;

	cr_assert_not_null(d, "%s", runs);
	while ((e = readdir(d))) {
		char *path, *sums;
		json_t *meta;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "nights") || e->d_type == DT_REG)
			continue;   /* the spool, the nights, a SQLite file */
		cr_assert_geq(asprintf(&path, "%s/%s/run.json", runs, e->d_name), 0);
		meta = json_load_file(path, 0, NULL);
		cr_assert_not_null(meta, "%s is not a run directory", path);
		cr_assert_geq(asprintf(&sums, "%s/%s/SHA256SUMS", runs, e->d_name), 0);
		cr_assert_eq(access(sums, F_OK), 0, "%s/%s is not sealed", runs, e->d_name);
		json_array_append(ids, json_object_get(meta, "run_id"));
		json_decref(meta);
		free(path);
		free(sums);
		n++;
	}
	closedir(d);
	return n;
}

/* The spool's marks: of runs, and in *ret_nights (when given) of nights
 * (a mark holds its directory's path; a night's holds nightly.json). */
static size_t pending_marks_of(const char *runs, size_t *ret_nights)
{
	char *spool;
	DIR *d;
	struct dirent *e;
	size_t n = 0, nights = 0;

	cr_assert_geq(asprintf(&spool, "%s/.history-pending", runs), 0);
	d = opendir(spool);
	while (d && (e = readdir(d))) {
		char *mark, *text, *nj;
		struct stat st;

		if (!strstr(e->d_name, ".pending") || e->d_name[0] == '.')
			continue;
		cr_assert_geq(asprintf(&mark, "%s/%s", spool, e->d_name), 0);
		text = th_read_file(mark);
		cr_assert_not_null(text);
		text[strcspn(text, "\n")] = '\0';
		cr_assert_geq(asprintf(&nj, "%s/nightly.json", text), 0);
		if (stat(nj, &st) == 0)
			nights++;
		else
			n++;
		free(nj);
		free(text);
		free(mark);
	}
	if (d)
		closedir(d);
	free(spool);
	if (ret_nights)
		*ret_nights = nights;
	else
		cr_assert_eq(nights, 0, "%s: %zu nights pending", runs, nights);
	return n;
}

/* The runs pending; no night may be. */
static size_t pending_marks(const char *runs)
{
	return pending_marks_of(runs, NULL);
}

/* The night's directory that rig nightly named on stderr. */
static char *night_dir_of(const struct lab_bench *b)
{
	static const char said[] = "the night's directory is ";
	char *err = th_wait_for_text(b->dir, "stderr", said, 60000), *p, *dir;

	cr_assert_not_null(err, "%s: rig nightly did not start its night", b->id);
	p = strstr(err, said) + strlen(said);
	dir = strndup(p, strcspn(p, "\n"));
	free(err);
	return dir;
}

/* The scratch server of the test in progress, stopped however the test ends. */
static char server_dir[1024];

static void stop_server(void)
{
	char *tool = th_src("tools/pg-scratch"), *out;
	int st;

	if (server_dir[0]) {
		out = sh(&st, "%s stop %s 2>&1 && rm -rf %s", tool, server_dir, server_dir);
		free(out);
	}
	free(tool);
}

/* The night's nightly.json: completed, with its runs. */
static json_t *night_json(const char *night_dir, unsigned repeats)
{
	char *path;
	json_t *nj;

	cr_assert_geq(asprintf(&path, "%s/nightly.json", night_dir), 0);
	nj = json_load_file(path, 0, NULL);
	cr_assert_not_null(nj, "%s", path);
	cr_assert_eq(json_array_size(json_object_get(nj, "runs")), repeats);
	cr_assert_str_eq(json_string_value(json_object_get(nj, "status")), "completed");
	free(path);
	return nj;
}

Test(fleet, six_benches_into_one_postgresql_stopped_and_started_mid_night, .timeout = 900,
     .fini = stop_server)
{
	char *root = th_tmpdir(), *server, *pgdata, *admin, *hba, *hba_text, *s, *out;
	struct lab_bench b[N_BENCHES];
	char *night[N_BENCHES];
	size_t disk_total = 0;
	int st;

	cr_assert_geq(asprintf(&server, "%s/server", root), 0);
	cr_assert_geq(asprintf(&pgdata, "%s/pg", server), 0);
	snprintf(server_dir, sizeof(server_dir), "%s", server);
	admin = pg_scratch("start", server);

	/* The owner makes the schema and the roles: the first rig to open the
	 * store migrates it (docs/history.md, "A lab's server"). */
	cr_assert_eq(th_rig(root, (const char *[]){ "history", "list", "--db", admin, "--runs",
						    root, NULL }), 0);
	/* A login per bench, with a password, in the group role the migration
	 * made; a reviewer's login; and the server asking them for their
	 * passwords (the owner keeps the scratch server's trust). */
	for (int k = 0; k < N_BENCHES; k++) {
		bench_make(&b[k], root, k + 1, pgdata, k < N_SHORT ? REPEATS_SHORT : REPEATS_LONG);
		cr_assert_geq(asprintf(&s, "CREATE ROLE %s LOGIN PASSWORD '%s' IN ROLE pumprig_bench",
				       b[k].login, b[k].password), 0);
		pg_exec(admin, s);
		free(s);
	}
	pg_exec(admin, "CREATE ROLE reviewer_lab LOGIN PASSWORD 'pw-review' IN ROLE pumprig_reviewer");
	cr_assert_geq(asprintf(&hba, "%s/pg_hba.conf", pgdata), 0);
	hba_text = th_read_file(hba);
	cr_assert_not_null(hba_text);
	cr_assert_geq(asprintf(&s, "local all +pumprig_bench scram-sha-256\n"
				   "local all +pumprig_reviewer scram-sha-256\n%s", hba_text), 0);
	{
		FILE *f = fopen(hba, "w");

		cr_assert_not_null(f);
		fputs(s, f);
		cr_assert_eq(fclose(f), 0);
	}
	free(s);
	free(pg_scratch("stop", server));
	free(pg_scratch("start", server));

	/* Without its password file a bench cannot connect: the password
	 * comes from there and from nowhere else. */
	bench_env(&b[0]);
	setenv("PGPASSFILE", "/nonexistent/pgpass", 1);
	st = th_rig(b[0].dir, (const char *[]){ "history", "sync", "--runs", b[0].runs, NULL });
	out = th_slurp(b[0].dir, "stderr");
	cr_assert_eq(st, 3, "rig history sync without the password file: %d, %s", st, out);
	cr_assert(strstr(out, "password"), "%s", out);
	free(out);

	/* Bench 1 had a run before the lab's server, in its own SQLite file
	 * (the default); once the bench has its login, the run is imported
	 * into the server: the run directory is the record, the store is
	 * derived from it. */
	{
		char *early, *seq, *dut, *bench;

		cr_assert_geq(asprintf(&early, "%s/before-the-server", b[0].runs), 0);
		cr_assert_geq(asprintf(&seq, "%s/dose.cfg", b[0].dir), 0);
		cr_assert_geq(asprintf(&dut, "%s/dut.cfg", b[0].dir), 0);
		cr_assert_geq(asprintf(&bench, "%s/bench.cfg", b[0].dir), 0);
		cr_assert_eq(mkdir(b[0].runs, 0755), 0);
		unsetenv("PUMPRIG_HISTORY");
		st = th_rig(b[0].dir, (const char *[]){ "run", seq, "--bench", bench, "--dut", dut,
							"-o", early, NULL });
		cr_assert_eq(st, 0, "%s", th_slurp(b[0].dir, "stderr"));
		out = th_slurp(b[0].dir, "stderr");
		cr_assert(strstr(out, "history.sqlite"), "not in the bench's SQLite file: %s", out);
		free(out);
		bench_env(&b[0]);
		st = th_rig(b[0].dir, (const char *[]){ "history", "import", early, NULL });
		out = th_slurp(b[0].dir, "stdout");
		cr_assert_eq(st, 0, "import: %d %s %s", st, out, th_slurp(b[0].dir, "stderr"));
		cr_assert(!strncmp(out, "stored", 6), "%s", out);
		free(out);
		free(early);
		free(seq);
		free(dut);
		free(bench);
	}

	/* The night: every bench at once, each with its own files. */
	for (int k = 0; k < N_BENCHES; k++) {
		bench_env(&b[k]);
		b[k].pid = th_rig_spawn(b[k].dir, (const char *[]){ "nightly", b[k].plan, "--runs",
								    b[k].runs, NULL });
	}
	for (int k = 0; k < N_BENCHES; k++)
		night[k] = night_dir_of(&b[k]);
	/* Mid-night: every bench has stored a run (its second has started),
	 * and each has several more to go. */
	for (int k = 0; k < N_BENCHES; k++) {
		cr_assert_geq(asprintf(&s, "run 2 of %u", b[k].repeats), 0);
		out = th_wait_for_text(b[k].dir, "stderr", s, 120000);
		cr_assert_not_null(out, "%s did not reach its second run", b[k].id);
		free(out);
		free(s);
	}
	free(pg_scratch("stop", server));
	/* While the server is down, each bench's runs go on and stay pending
	 * (rig run said so into the night's rig.log), and a sync says the
	 * store cannot be reached, losing nothing. */
	for (int k = 0; k < N_BENCHES; k++) {
		out = th_wait_for_text(night[k], "rig.log", "rig history sync stores it later", 120000);
		cr_assert_not_null(out, "%s: no run was left pending while the server was down", b[k].id);
		free(out);
	}
	bench_env(&b[0]);
	cr_assert_eq(th_rig(root, (const char *[]){ "history", "sync", "--runs", b[0].runs, NULL }), 3);
	/* The short nights end while the server is still down: complete, with
	 * their runs waiting, and the night says so. */
	for (int k = 0; k < N_SHORT; k++) {
		json_t *nj;

		st = th_rig_wait(b[k].pid);
		out = th_slurp(b[k].dir, "stderr");
		cr_assert_eq(st, 0, "%s: rig nightly exit %d: %s", b[k].id, st, out);
		free(out);
		nj = night_json(night[k], b[k].repeats);
		cr_assert(json_is_null(json_object_get(nj, "drift_flags")));
		cr_assert_gt(json_integer_value(json_object_get(nj, "history_pending")), 0);
		{
			size_t nights_waiting;

			cr_assert_eq((size_t)json_integer_value(json_object_get(nj, "history_pending")),
				     pending_marks_of(b[k].runs, &nights_waiting));
			cr_assert_eq(nights_waiting, 1, "%s: the night's own record waits too", b[k].id);
		}
		json_decref(nj);
		out = th_slurp(night[k], "summary.txt");
		cr_assert(strstr(out, "wait for the run history"), "%s", out);
		free(out);
	}
	/* the long nights must still be going for the server's return */
	for (int k = N_SHORT; k < N_BENCHES; k++)
		cr_assert_eq(waitpid(b[k].pid, &st, WNOHANG), 0,
			     "%s: its night ended before the server came back (a slow machine?)",
			     b[k].id);
	free(pg_scratch("start", server));   /* pg_ctl -w: returns once it accepts connections */

	/* The long nights end with the server back: each forwarded its own
	 * pending runs at its end, and nothing waits. */
	for (int k = N_SHORT; k < N_BENCHES; k++) {
		json_t *nj;

		st = th_rig_wait(b[k].pid);
		out = th_slurp(b[k].dir, "stderr");
		cr_assert_eq(st, 0, "%s: rig nightly exit %d: %s", b[k].id, st, out);
		free(out);
		nj = night_json(night[k], b[k].repeats);
		cr_assert(json_is_array(json_object_get(nj, "drift_flags")));
		cr_assert_eq(json_integer_value(json_object_get(nj, "history_pending")), 0);
		cr_assert_gt(json_integer_value(json_object_get(nj, "history_forwarded")), 0);
		json_decref(nj);
		cr_assert_eq(pending_marks(b[k].runs), 0, "%s", b[k].id);
	}

	/* Each bench forwards what waits, twice: the second finds nothing to
	 * do (and on the long nights' benches, neither does the first). */
	for (int k = 0; k < N_BENCHES; k++) {
		bench_env(&b[k]);
		for (int pass = 0; pass < 2; pass++) {
			json_t *synced;

			st = th_rig(b[k].dir, (const char *[]){ "history", "sync", "--runs", b[k].runs,
								"--json", NULL });
			out = th_slurp(b[k].dir, "stdout");
			cr_assert_eq(st, 0, "%s: rig history sync: %d %s", b[k].id, st, out);
			synced = json_loads(out, 0, NULL);
			cr_assert(json_is_array(synced), "%s", out);
			if (pass == 1 || k >= N_SHORT)
				cr_assert_eq(json_array_size(synced), 0, "%s pass %d: %s", b[k].id, pass, out);
			else
				cr_assert_gt(json_array_size(synced), 0, "%s: %s", b[k].id, out);
			json_decref(synced);
			free(out);
		}
		cr_assert_eq(pending_marks(b[k].runs), 0, "%s: still pending after sync", b[k].id);
	}

	/* The store against the disk, read by the reviewer's login. */
	{
		char *conn;
		PGconn *c;
		PGresult *res;
		json_t *ids = json_array(), *id;
		size_t i;

		bench_env(&b[0]);   /* no PGPASSFILE of the reviewer's: write one */
		cr_assert_geq(asprintf(&s, "*:*:pumprig:reviewer_lab:pw-review\n"), 0);
		free(th_write_file(root, "reviewer.pgpass", s));
		free(s);
		cr_assert_geq(asprintf(&s, "%s/reviewer.pgpass", root), 0);
		cr_assert_eq(chmod(s, 0600), 0);
		setenv("PGPASSFILE", s, 1);
		free(s);
		cr_assert_geq(asprintf(&conn, "host=%s dbname=pumprig user=reviewer_lab", pgdata), 0);
		c = PQconnectdb(conn);
		cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
		for (int k = 0; k < N_BENCHES; k++) {
			size_t n = runs_on_disk(b[k].runs, ids);
			char sql[256];

			/* bench 1's run from before the server among them */
			cr_assert_eq(n, b[k].repeats + (k == 0), "%s: %zu run directories", b[k].id, n);
			snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM runs WHERE bench_id = '%s'", b[k].id);
			cr_assert_eq(pg_count(c, sql), (long)n, "%s: the store has %ld runs, the disk %zu",
				     b[k].id, pg_count(c, sql), n);
			/* and its one night, stored once, whether it ended with the
			 * server away (then forwarded by sync) or not */
			snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM nights WHERE bench_id = '%s'",
				 b[k].id);
			cr_assert_eq(pg_count(c, sql), 1, "%s: %ld nights stored", b[k].id,
				     pg_count(c, sql));
			disk_total += n;
		}
		cr_assert_eq(pg_count(c, "SELECT COUNT(*) FROM runs"), (long)disk_total);
		cr_assert_eq(pg_count(c, "SELECT COUNT(DISTINCT run_id) FROM runs"), (long)disk_total,
			     "a run stored twice");
		json_array_foreach(ids, i, id) {
			const char *p[] = { json_string_value(id) };

			res = PQexecParams(c, "SELECT COUNT(*) FROM runs_current WHERE run_id = $1", 1,
					   NULL, p, NULL, NULL, 0);
			cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK);
			cr_assert_str_eq(PQgetvalue(res, 0, 0), "1", "%s is not in the store", p[0]);
			PQclear(res);
		}
		/* the reviewer reads, never writes */
		res = PQexec(c, "DELETE FROM runs");
		cr_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
		PQclear(res);
		PQfinish(c);
		json_decref(ids);
		free(conn);
	}

	/* The bench's login, as the bench connects (its service and password
	 * files), may add and read, never change or remove. */
	{
		static const char *const denied[] = {
			"DELETE FROM runs", "UPDATE runs SET verdict = 'pass'", "DELETE FROM checks",
			"UPDATE measurements SET value = 0", "TRUNCATE runs", "DELETE FROM points",
		};
		PGconn *c;

		bench_env(&b[2]);
		c = PQconnectdb("service=pumprig");
		cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
		cr_assert_eq(pg_count(c, "SELECT COUNT(*) FROM runs"), (long)disk_total);
		for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
			PGresult *res = PQexec(c, denied[i]);

			cr_assert_eq(PQresultStatus(res), PGRES_FATAL_ERROR, "the bench may: %s", denied[i]);
			cr_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501", "%s: %s",
					 denied[i], PQresultErrorMessage(res));
			PQclear(res);
		}
		cr_assert_eq(pg_count(c, "SELECT COUNT(*) FROM runs"), (long)disk_total);
		PQfinish(c);
	}

	/* No password in anything pumprig wrote or was given. */
	for (int k = 0; k < N_BENCHES; k++) {
		out = sh(&st, "grep -rlF --exclude=pgpass -- '%s' '%s'", b[k].password, b[k].dir);
		cr_assert_eq(st, 1, "%s's password found in: %s", b[k].id, out);
		free(out);
	}

	for (int k = 0; k < N_BENCHES; k++) {
		free(night[k]);
		bench_free(&b[k]);
	}
	free(hba);
	free(hba_text);
	free(admin);
	free(pgdata);
	free(server);
	free(root);
}

/* A bench with a night of `repeats` short runs, its store given as text
 * (no service or password file). */
static void bench_plain(struct lab_bench *b, const char *root, int k, unsigned repeats)
{
	bench_make(b, root, k, "/nonexistent", repeats);
	unsetenv("PGSERVICEFILE");
	unsetenv("PGPASSFILE");
	unsetenv("PGCONNECT_TIMEOUT");
	unsetenv("PUMPRIG_HISTORY_TIMEOUT");
}

/* A PostgreSQL that takes the connection and never answers: a socket where
 * libpq looks for the server's, listening, never accepting.  A blocking
 * libpq waits for its answer for ever, and a night with it. */
Test(fleet, a_server_that_never_answers_cannot_hold_a_night, .timeout = 120)
{
	char *root = th_tmpdir(), *silent, *store, *out, *nd;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct lab_bench b;
	size_t nights_waiting;
	json_t *nj;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), st;

	cr_assert_geq(asprintf(&silent, "%s/silent", root), 0);
	cr_assert_eq(mkdir(silent, 0755), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/.s.PGSQL.5432", silent);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
	cr_assert_eq(listen(fd, 64), 0);
	cr_assert_geq(asprintf(&store, "postgresql:///pumprig?host=%s&user=bench", silent), 0);
	bench_plain(&b, root, 1, 1);

	/* none given: 10 s, and the night goes on, its runs pending */
	st = th_rig(b.dir, (const char *[]){ "nightly", b.plan, "--runs", b.runs, "--db", store, NULL });
	out = th_slurp(b.dir, "stderr");
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	nd = night_dir_of(&b);
	nj = night_json(nd, 1);
	cr_assert_eq(json_integer_value(json_object_get(nj, "history_pending")), 1);
	cr_assert_eq(pending_marks_of(b.runs, &nights_waiting), 1);
	cr_assert_eq(nights_waiting, 1);
	cr_assert(json_is_null(json_object_get(nj, "drift_flags")));
	cr_assert(strstr(json_string_value(json_object_get(nj, "history_error")),
			 "no answer within 10 s"), "%s",
		  json_string_value(json_object_get(nj, "history_error")));
	out = th_slurp(nd, "rig.log");
	cr_assert_not_null(strstr(out, "no answer within 10 s"), "%s", out);
	free(out);

	/* connect_timeout from the store's text, the service file or
	 * PGCONNECT_TIMEOUT, as libpq finds it */
	setenv("PGCONNECT_TIMEOUT", "2", 1);
	st = th_rig(b.dir, (const char *[]){ "history", "list", "--db", store, NULL });
	out = th_slurp(b.dir, "stderr");
	cr_assert_eq(st, 3, "%s", out);
	cr_assert(strstr(out, "no answer within 2 s"), "%s", out);
	free(out);
	unsetenv("PGCONNECT_TIMEOUT");
	json_decref(nj);
	close(fd);
	free(nd);
	bench_free(&b);
	free(store);
	free(silent);
	free(root);
}

/* A server that answers the connection, then keeps a statement waiting: a
 * lock someone holds on the runs (a maintenance, a restore).  Each wait is
 * bounded ($PUMPRIG_HISTORY_TIMEOUT), the night goes on with its runs
 * pending, and once the lock is gone a sync stores each run once. */
Test(fleet, a_statement_kept_waiting_cannot_hold_a_night, .timeout = 180, .fini = stop_server)
{
	char *root = th_tmpdir(), *server, *admin, *out, *nd;
	struct lab_bench b;
	size_t nights_waiting;
	PGconn *locker, *c;
	PGresult *res;
	json_t *nj;
	int st;

	cr_assert_geq(asprintf(&server, "%s/server", root), 0);
	snprintf(server_dir, sizeof(server_dir), "%s", server);
	admin = pg_scratch("start", server);
	cr_assert_eq(th_rig(root, (const char *[]){ "history", "list", "--db", admin, "--runs",
						    root, NULL }), 0);
	bench_plain(&b, root, 1, 2);
	locker = PQconnectdb(admin);
	cr_assert_eq(PQstatus(locker), CONNECTION_OK, "%s", PQerrorMessage(locker));
	res = PQexec(locker, "BEGIN; LOCK TABLE runs IN ACCESS EXCLUSIVE MODE");
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(res));
	PQclear(res);

	setenv("PUMPRIG_HISTORY_TIMEOUT", "3", 1);
	st = th_rig(b.dir, (const char *[]){ "nightly", b.plan, "--runs", b.runs, "--db", admin, NULL });
	out = th_slurp(b.dir, "stderr");
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	nd = night_dir_of(&b);
	nj = night_json(nd, 2);
	cr_assert_eq(json_integer_value(json_object_get(nj, "history_pending")), 2);
	cr_assert_eq(pending_marks_of(b.runs, &nights_waiting), 2);
	/* the lock is on runs alone: the night's record, which names its runs
	 * by id, is stored; its runs follow with the sync below */
	cr_assert_eq(nights_waiting, 0);
	out = th_slurp(nd, "rig.log");
	cr_assert_not_null(strstr(out, "no answer from the server within 3 s"), "%s", out);
	free(out);
	json_decref(nj);
	/* a value that is not a number of seconds is said, and stores nothing */
	setenv("PUMPRIG_HISTORY_TIMEOUT", "soon", 1);
	st = th_rig(b.dir, (const char *[]){ "history", "sync", "--runs", b.runs, "--db", admin, NULL });
	out = th_slurp(b.dir, "stderr");
	cr_assert_eq(st, 3, "%s", out);
	cr_assert(strstr(out, "PUMPRIG_HISTORY_TIMEOUT=soon is not a number of seconds"), "%s", out);
	free(out);
	unsetenv("PUMPRIG_HISTORY_TIMEOUT");

	res = PQexec(locker, "COMMIT");
	PQclear(res);
	PQfinish(locker);
	st = th_rig(b.dir, (const char *[]){ "history", "sync", "--runs", b.runs, "--db", admin, NULL });
	out = th_slurp(b.dir, "stderr");
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	cr_assert_eq(pending_marks(b.runs), 0);
	c = PQconnectdb(admin);
	cr_assert_eq(pg_count(c, "SELECT COUNT(*) FROM runs"), 2);
	cr_assert_eq(pg_count(c, "SELECT COUNT(DISTINCT run_id) FROM runs"), 2);
	PQfinish(c);
	free(nd);
	bench_free(&b);
	free(admin);
	free(server);
	free(root);
}

/* A free TCP port on the loopback, for a scratch server. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A service file for the bench's login with these settings. */
static char *service_file(const char *dir, const char *name, const char *settings)
{
	char *text, *path;

	cr_assert_geq(asprintf(&text, "[pumprig]\ndbname=pumprig\nuser=bench_tls\n%s\n", settings), 0);
	path = th_write_file(dir, name, text);
	free(text);
	return path;
}

/* `rig history list` through a service file: its exit status, and what it
 * said in *ret_err. */
static int list_with(const char *dir, const char *service, char **ret_err)
{
	int st;

	setenv("PGSERVICEFILE", service, 1);
	st = th_rig(dir, (const char *[]){ "history", "list", "--db", STORE, NULL });
	*ret_err = th_slurp(dir, "stderr");
	return st;
}

/* docs/history.md, "TLS": the server's certificate signed by the lab's own
 * authority, the bench checking both the chain and the name
 * (sslmode=verify-full, sslrootcert in its service file), the server taking
 * the benches' logins over TLS only (hostssl). */
Test(fleet, a_bench_reaches_the_server_over_tls_and_checks_whom_it_talks_to, .timeout = 120,
     .fini = stop_server)
{
	char *root = th_tmpdir(), *server, *pgdata, *tls, *admin, *out, *s, *good, *svc;
	struct lab_bench b;
	char port[16];
	PGconn *c;
	PGresult *res;
	int st;

	cr_assert_geq(asprintf(&server, "%s/server", root), 0);
	cr_assert_geq(asprintf(&pgdata, "%s/pg", server), 0);
	cr_assert_geq(asprintf(&tls, "%s/tls", root), 0);
	snprintf(server_dir, sizeof(server_dir), "%s", server);
	snprintf(port, sizeof(port), "%d", free_port());
	setenv("PUMPRIG_PG_LISTEN", "127.0.0.1", 1);
	setenv("PUMPRIG_PG_PORT", port, 1);
	admin = pg_scratch("start", server);
	cr_assert_eq(th_rig(root, (const char *[]){ "history", "list", "--db", admin, "--runs",
						    root, NULL }), 0);
	pg_exec(admin, "CREATE ROLE bench_tls LOGIN PASSWORD 'pw-tls' IN ROLE pumprig_bench");

	/* the lab's authority, the server's certificate for its name, and
	 * another authority that did not sign it */
	out = sh(&st, "exec 2>&1; set -e; mkdir -p '%s' && cd '%s'\n"
		 "ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
		 "openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 -subj '/CN=lab CA'\n"
		 "openssl req -x509 $ec -keyout other.key -out other.crt -days 2 -subj '/CN=lab CA'\n"
		 "openssl req $ec -keyout server.key -out server.csr -subj '/CN=localhost'\n"
		 "printf 'subjectAltName=DNS:localhost\\n' > san.ext\n"
		 "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
		 "-out server.crt -days 2 -extfile san.ext\n"
		 "cp server.crt server.key '%s/'\n"
		 "chown --reference='%s' '%s/server.crt' '%s/server.key'\n"
		 "chmod 0600 '%s/server.key'\n"
		 "printf \"ssl = on\\nssl_cert_file = 'server.crt'\\nssl_key_file = 'server.key'\\n\" "
		 ">> '%s/postgresql.conf'\n"
		 "{ printf 'hostssl pumprig +pumprig_bench 127.0.0.1/32 scram-sha-256\\n"
		 "hostnossl all all 127.0.0.1/32 reject\\n'; cat '%s/pg_hba.conf'; } > hba.new\n"
		 "cat hba.new > '%s/pg_hba.conf' 2>&1",
		 tls, tls, pgdata, pgdata, pgdata, pgdata, pgdata, pgdata, pgdata, pgdata);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	free(pg_scratch("stop", server));
	free(pg_scratch("start", server));

	bench_make(&b, root, 1, "unused", 1);
	bench_env(&b);
	cr_assert_geq(asprintf(&s, "*:*:pumprig:bench_tls:pw-tls\n"), 0);
	free(th_write_file(b.dir, "pgpass", s));
	free(s);
	cr_assert_geq(asprintf(&s, "host=localhost\nhostaddr=127.0.0.1\nport=%s\nsslmode=verify-full\n"
			       "sslrootcert=%s/ca.crt", port, tls), 0);
	good = service_file(b.dir, "pg_service.conf", s);
	free(s);

	/* a night over TLS: stored, and the connection was TLS */
	st = th_rig(b.dir, (const char *[]){ "nightly", b.plan, "--runs", b.runs, NULL });
	out = th_slurp(b.dir, "stderr");
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	cr_assert_eq(pending_marks(b.runs), 0);
	c = PQconnectdb("service=pumprig");
	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	res = PQexec(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
	cr_assert_str_eq(PQgetvalue(res, 0, 0), "t", "not TLS");
	PQclear(res);
	cr_assert_eq(pg_count(c, "SELECT COUNT(*) FROM runs WHERE bench_id = 'LAB-1'"), 1);
	PQfinish(c);

	/* a server whose certificate another authority signed: refused */
	cr_assert_geq(asprintf(&s, "host=localhost\nhostaddr=127.0.0.1\nport=%s\nsslmode=verify-full\n"
			       "sslrootcert=%s/other.crt", port, tls), 0);
	svc = service_file(b.dir, "other-ca.conf", s);
	free(s);
	cr_assert_eq(list_with(b.dir, svc, &out), 3, "%s", out);
	cr_assert(strstr(out, "certificate verify failed"), "%s", out);
	free(out);
	free(svc);
	/* the right authority, another name than the certificate's: refused */
	cr_assert_geq(asprintf(&s, "host=127.0.0.1\nport=%s\nsslmode=verify-full\nsslrootcert=%s/ca.crt",
			       port, tls), 0);
	svc = service_file(b.dir, "other-name.conf", s);
	free(s);
	cr_assert_eq(list_with(b.dir, svc, &out), 3, "%s", out);
	cr_assert(strstr(out, "does not match host name"), "%s", out);
	free(out);
	free(svc);
	/* without TLS the server does not take the bench's login */
	cr_assert_geq(asprintf(&s, "host=localhost\nhostaddr=127.0.0.1\nport=%s\nsslmode=disable", port), 0);
	svc = service_file(b.dir, "plain.conf", s);
	free(s);
	cr_assert_eq(list_with(b.dir, svc, &out), 3, "%s", out);
	cr_assert(strstr(out, "no encryption"), "%s", out);
	free(out);
	free(svc);

	unsetenv("PUMPRIG_PG_LISTEN");
	unsetenv("PUMPRIG_PG_PORT");
	bench_free(&b);
	free(good);
	free(admin);
	free(tls);
	free(pgdata);
	free(server);
	free(root);
}

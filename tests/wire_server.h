/* The harness of the wire-level suites (test_wire*.c): `rig sim serve`
 * started as an operator starts it and waited for by its "ready" line. */
#ifndef RIG_TEST_WIRE_SERVER_H
#define RIG_TEST_WIRE_SERVER_H

#include <jansson.h>
#include <sys/types.h>

struct server {
	pid_t pid;
	unsigned port;
	char uri[64];
	char pump[64], balance[64];
};

struct server start_server_with(const char *bench_rel);
struct server start_server_real_time(void);
/* The simulator on a shipped bench (bench_rel), following the wall clock. */
struct server start_server_real_time_with(const char *bench_rel);
struct server start_server_at(const char *bench, const char *links_dir);
struct server start_server(void);
void stop_server(struct server *s);
/* Runs a shell command; its stdout (malloc'd). */
char *sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The shipped wire bench pointed at server s, with from0 replaced by to0 (may be NULL). */
char *wire_bench_with(const char *dir, const struct server *s, const char *from0, const char *to0);
char *wire_bench(const char *dir, const struct server *s);
/* Another shipped bench of the wire simulator's (bench_rel: "fixtures/bench/
 * wire-conditions.cfg"), pointed at server s, written to dir under its own name. */
char *wire_bench_of(const char *dir, const struct server *s, const char *bench_rel);
json_t *load_results(const char *run);

#endif

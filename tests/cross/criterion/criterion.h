/* A stand-in for the part of Criterion's API the suites use, for targets
 * where Criterion cannot run them: Debian 12 has no Criterion for armhf, and
 * its runner re-executes the test program for every test, which under
 * qemu-user without binfmt_misc fails ("Could not spawn test instance").
 * tests/cross/runner.c runs each test in a forked child of the same
 * program, one at a time: fork, never exec.  Built instead of Criterion when
 * RIG_FORK_RUNNER is on (the default for cross builds; tests/cross/README.md). */
#ifndef RIG_CROSS_CRITERION_H
#define RIG_CROSS_CRITERION_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct crs_test {
	const char *suite, *name;
	void (*fn)(void);
	void (*init)(void), (*fini)(void);
	double timeout;
	bool disabled;
	struct crs_test *next;
};

void crs_register(struct crs_test *test);
void crs_register_suite(struct crs_test *suite);
/* Records a failed check (fatal: the test ends here); returns nothing when
 * ok. */
void crs_check(bool ok, bool fatal, const char *file, int line, const char *expr,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));
_Noreturn void crs_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void crs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool crs_str_eq(const char *a, const char *b);

#define Test(S_, N_, ...)                                                                  \
	static void S_##_##N_##_fn(void);                                                  \
	static struct crs_test S_##_##N_##_test = { .suite = #S_, .name = #N_,             \
						    .fn = S_##_##N_##_fn, __VA_ARGS__ };   \
	__attribute__((constructor)) static void S_##_##N_##_reg(void)                     \
	{                                                                                  \
		crs_register(&S_##_##N_##_test);                                           \
	}                                                                                  \
	static void S_##_##N_##_fn(void)

#define TestSuite(S_, ...)                                                                 \
	static struct crs_test S_##_suite_opts = { .suite = #S_, __VA_ARGS__ };            \
	__attribute__((constructor)) static void S_##_suite_reg(void)                      \
	{                                                                                  \
		crs_register_suite(&S_##_suite_opts);                                      \
	}

#define crs_chk_(fatal, cond, text, ...) \
	crs_check((cond) ? true : false, fatal, __FILE__, __LINE__, text, " " __VA_ARGS__)

#define cr_assert(c, ...) crs_chk_(true, (c), #c, __VA_ARGS__)
#define cr_expect(c, ...) crs_chk_(false, (c), #c, __VA_ARGS__)
#define cr_assert_not(c, ...) crs_chk_(true, !(c), "!(" #c ")", __VA_ARGS__)
#define cr_assert_fail(...) crs_chk_(true, false, "cr_assert_fail", __VA_ARGS__)
#define crs_cmp_(fatal, a, op, b, ...) crs_chk_(fatal, (a)op(b), #a " " #op " " #b, __VA_ARGS__)
#define cr_assert_eq(a, b, ...) crs_cmp_(true, a, ==, b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) crs_cmp_(true, a, !=, b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...) crs_cmp_(true, a, <, b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) crs_cmp_(true, a, <=, b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...) crs_cmp_(true, a, >, b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) crs_cmp_(true, a, >=, b, __VA_ARGS__)
#define cr_expect_eq(a, b, ...) crs_cmp_(false, a, ==, b, __VA_ARGS__)
#define cr_expect_neq(a, b, ...) crs_cmp_(false, a, !=, b, __VA_ARGS__)
#define cr_expect_gt(a, b, ...) crs_cmp_(false, a, >, b, __VA_ARGS__)
#define cr_assert_null(p, ...) crs_chk_(true, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...) crs_chk_(true, (p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_expect_null(p, ...) crs_chk_(false, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_expect_not_null(p, ...) crs_chk_(false, (p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...) crs_chk_(true, crs_str_eq(a, b), #a " eq " #b, __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...) crs_chk_(true, !crs_str_eq(a, b), #a " ne " #b, __VA_ARGS__)
#define cr_expect_str_eq(a, b, ...) crs_chk_(false, crs_str_eq(a, b), #a " eq " #b, __VA_ARGS__)
#define cr_expect_str_neq(a, b, ...) crs_chk_(false, !crs_str_eq(a, b), #a " ne " #b, __VA_ARGS__)
#define cr_assert_str_empty(s, ...) crs_chk_(true, (s) != NULL && (s)[0] == '\0', #s " empty", __VA_ARGS__)
#define cr_assert_float_eq(a, b, eps, ...) \
	crs_chk_(true, fabs((double)(a) - (double)(b)) <= (eps), #a " ~ " #b, __VA_ARGS__)
#define cr_skip_test(...) crs_skip(" " __VA_ARGS__)
#define cr_log_info(...) crs_log(__VA_ARGS__)

#endif

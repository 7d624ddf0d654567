/* Reading a results.json in the tests: a check by its kind, a measurement
 * of it by name, its value, its U and a verdict. A missing one fails the
 * test, naming what was looked for. */
#ifndef TESTS_RESULTS_READ_H
#define TESTS_RESULTS_READ_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

/* The first check of that kind ("dose_accuracy", "occlusion", ...). */
static inline json_t *check_named(json_t *results, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(results, "checks"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "check")), name) == 0)
			return c;
	cr_assert_fail("no %s check in results.json", name);
	return NULL;
}

static inline json_t *measurement(json_t *check, const char *name)
{
	size_t i;
	json_t *m;

	json_array_foreach(json_object_get(check, "measurements"), i, m)
		if (strcmp(json_string_value(json_object_get(m, "name")), name) == 0)
			return m;
	cr_assert_fail("no measurement %s", name);
	return NULL;
}

static inline double mval(json_t *check, const char *name)
{
	return json_number_value(json_object_get(measurement(check, name), "value"));
}

static inline double mU(json_t *check, const char *name)
{
	return json_number_value(json_object_get(measurement(check, name), "U"));
}

/* A check's verdict (or any object's "verdict"). */
static inline const char *verdict(json_t *check)
{
	return json_string_value(json_object_get(check, "verdict"));
}

#endif

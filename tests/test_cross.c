/* What the 32-bit boards (armhf: 32-bit time_t and long) and unsigned char
 * (arm64 and armhf) expose. Built natively and, under the fork runner
 * (tests/cross), for both board architectures by tools/cross-test. */
#include <criterion/criterion.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "rig/base/record.h"
#include "rig/base/text.h"
#include "rig/base/utc.h"

Test(cross, time_and_file_offsets_are_64_bits)
{
	/* the build asks for them (CMakeLists.txt, _TIME_BITS=64) */
	cr_assert_geq(sizeof(time_t), 8);
	cr_assert_eq(sizeof(off_t), 8);
}

Test(cross, dates_past_2038_are_recorded_as_they_are)
{
	char buf[32];

	/* the last second a 32-bit time_t holds, and the next one */
	cr_assert_eq(rig_utc_format(INT64_C(2147483647), "%Y-%m-%dT%H:%M:%SZ", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "2038-01-19T03:14:07Z");
	cr_assert_eq(rig_utc_format(INT64_C(2147483648), "%Y-%m-%dT%H:%M:%SZ", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "2038-01-19T03:14:08Z");
	/* a calibration due in 2041, and a run far beyond */
	cr_assert_eq(rig_utc_format(INT64_C(2240611200), "%Y-%m-%d", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "2041-01-01");
	cr_assert_eq(rig_utc_format(INT64_C(4102444800), "%Y%m%dT%H%M%SZ", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "21000101T000000Z");
}

Test(cross, a_calibration_a_year_later_crosses_2038)
{
	char buf[16];

	/* calibrated 2037-06-01: due 2038-06-01 */
	cr_assert_eq(rig_utc_format(rig_utc_plus_year(INT64_C(2127427200)), "%Y-%m-%d", buf,
				    sizeof(buf)), 0);
	cr_assert_str_eq(buf, "2038-06-01");
	/* calibrated on 29 February 2040: due 28 February 2041, not 1 March */
	cr_assert_eq(rig_utc_format(rig_utc_plus_year(INT64_C(2214086400)), "%Y-%m-%d", buf,
				    sizeof(buf)), 0);
	cr_assert_str_eq(buf, "2041-02-28");
}

Test(cross, the_wall_clock_is_not_before_the_build)
{
	char buf[32];

	cr_assert_gt(rig_utc_now(), INT64_C(1764547200));   /* 2025-12-01 */
	cr_assert_str_neq(rig_utc_now_format("%Y-%m-%d", buf, sizeof(buf)), "unknown");
	cr_assert_eq(strlen(buf), 10);
}

Test(cross, a_short_buffer_is_an_error_not_a_truncated_date)
{
	char buf[8] = "x";

	cr_assert_eq(rig_utc_format(0, "%Y-%m-%dT%H:%M:%SZ", buf, sizeof(buf)), -ERANGE);
	cr_assert_str_eq(buf, "");
}

Test(cross, bytes_above_0x7f_are_judged_the_same_whatever_char_is)
{
	/* char is unsigned on arm64 and armhf, signed on amd64: the checks of
	 * text and the escapes for a terminal must see the same bytes either way */
	char buf[64];

	cr_assert(text_check("caf\xc3\xa9", 5, 0, NULL));
	cr_assert(text_check("\xf0\x9f\x92\x89", 4, 0, NULL));
	cr_assert_not(text_check("caf\xe9", 4, 0, NULL));          /* Latin-1 */
	cr_assert_not(text_check("\xff\xfe", 2, 0, NULL));         /* a UTF-16 mark */
	cr_assert_not(text_check("\xf4\x90\x80\x80", 4, 0, NULL)); /* past U+10FFFF */
	cr_assert_not(text_check("\x7f", 1, 0, NULL));              /* DEL */
	cr_assert_str_eq(text_escape("caf\xe9", buf, sizeof(buf)), "caf\\xe9");
	cr_assert_str_eq(text_escape("a\xc2\x85" "b", buf, sizeof(buf)), "a\\u0085b");
	cr_assert_str_eq(text_escape("\xc3\xa9\x7f", buf, sizeof(buf)), "\xc3\xa9\\x7f");
	/* a right-to-left override and a line separator: a label that would
	 * show reversed, or as two lines, is printed escaped */
	cr_assert_str_eq(text_escape("st\xe2\x80\xae" "art", buf, sizeof(buf)), "st\\u202eart");
	cr_assert_str_eq(text_escape("st\xe2\x80\xa8" "art", buf, sizeof(buf)), "st\\u2028art");
	cr_assert_str_eq(text_escape("\xe2\x81\xa6x\xe2\x81\xa9", buf, sizeof(buf)),
			 "\\u2066x\\u2069");
}

/* A reproducible generator of its own (splitmix64): the same values on
 * every architecture. */
static uint64_t mix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The kinds of value a recorder meets, and those that trip a fast
 * formatter: any bit pattern, decimals at an instrument's resolution,
 * halves at the 11th significant digit, powers of ten and their
 * neighbours, both signs. */
static double draw_value(uint64_t *state, int kind)
{
	uint64_t r = mix(state);
	double v;

	switch (kind) {
	case 0: /* any finite double */
		memcpy(&v, &r, sizeof(v));
		if (!isfinite(v))
			v = 1.5;
		break;
	case 1: /* k x 10^-j: a reading at its resolution */
		v = (double)(r % 100000000000ULL) / pow(10, (double)(mix(state) % 12));
		break;
	case 2: /* a tie at the 11th digit: (n + 0.5) x 10^(e - 10) */
		v = ((double)(1000000000ULL + r % 9000000000ULL) + 0.5) *
		    pow(10, (double)((int)(mix(state) % 40) - 25));
		break;
	case 3: { /* a power of ten, or a few ulps beside it */
		double p = pow(10, (double)((int)(r % 60) - 30));

		for (int i = (int)(mix(state) % 7) - 3; i != 0; i += i < 0 ? 1 : -1)
			p = nextafter(p, i < 0 ? 0 : INFINITY);
		v = p;
		break;
	}
	default: /* 9.9999999995 x 10^e and its neighbours: rounding up a decade */
		v = nextafter(9.9999999995 * pow(10, (double)((int)(r % 40) - 20)),
			      (mix(state) & 1) ? INFINITY : 0);
		break;
	}
	return (mix(state) & 1) ? -v : v;
}

Test(cross, a_samples_row_is_printed_as_printf_prints_it)
{
	uint64_t state = 20261207;
	char fast[64], ref[64];

	for (int i = 0; i < 400000; i++) {
		double v = draw_value(&state, i % 5);

		sample_value_format(fast, sizeof(fast), v);
		snprintf(ref, sizeof(ref), "%.10g", v);
		cr_assert_str_eq(fast, ref, "%a: %s, printf %s", v, fast, ref);
	}
	for (const double *v = (const double[]){ 0.0, -0.0, 1e-300, 1e300, 5e-324, 1.0, 0.1, 1e-5,
						 1e-4, 9999999999.0, 1e10, 123456789012.0,
						 NAN, INFINITY, -INFINITY, 7 }; *v != 7; v++) {
		sample_value_format(fast, sizeof(fast), *v);
		snprintf(ref, sizeof(ref), "%.10g", *v);
		cr_assert_str_eq(fast, ref);
	}
	/* the whole row, in a buffer with room for any row and in one without
	 * (where snprintf writes it) */
	{
		char row[256];

		cr_assert_eq(sample_row_format(row, sizeof(row), 30000000000LL, ROLE_SCALE,
					       QUANT_MASS_G, 0.01234, "U"), 35);
		cr_assert_str_eq(row, "30000000000,scale,mass,0.01234,g,U\n");
		cr_assert_eq(sample_row_format(row, 40, 30000000000LL, ROLE_SCALE, QUANT_MASS_G,
					       0.01234, "U"), 35);
		cr_assert_str_eq(row, "30000000000,scale,mass,0.01234,g,U\n");
	}
}

/* strtod's and strtoll's answers, bit for bit, for what the recorder
 * writes; and what it never writes (a number in another form than %.10g
 * and %lld give, or no number) refused. */
Test(cross, a_samples_row_is_read_as_strtod_reads_it)
{
	uint64_t state = 7;
	static const char *const odd[] = { "0x1p3", "inf", "-inf", "nan", " 5", "+5", "5 ", "1e400",
					   "1e-400", "-0", "00012.5000", "1.", ".5", "5e", "5e+",
					   "1e22", "1e23", "9007199254740993", "123456789012345678901234",
					   "0.000000000000000000000000001", "4.9e-324", "-", "", "1,5",
					   "1e-22", "12345678901234567890", "1E5", "0e0", NULL };

	for (int i = 0; i < 200000 + 29; i++) {
		char text[64], line[128], again[64];
		struct sample_row row;
		enum sample_damage d;
		char *end;
		double want;

		if (i < 200000)
			snprintf(text, sizeof(text), (i & 1) ? "%.10g" : "%.17g",
				 draw_value(&state, i % 5));
		else if (odd[i - 200000])
			snprintf(text, sizeof(text), "%s", odd[i - 200000]);
		else
			break;
		want = strtod(text, &end);
		snprintf(line, sizeof(line), "12,scale,mass,%s,g,", text);
		d = sample_row_parse(line, &row);
		if (end == text || *end || strlen(text) > SAMPLE_VALUE_TEXT_MAX || strchr(text, ',')) {
			cr_assert_eq(d, SAMPLE_ROW_MALFORMED, "%s read as a number", text);
			continue;
		}
		if (!isfinite(want)) {
			cr_assert_eq(d, SAMPLE_ROW_NOT_FINITE, "%s", text);
			continue;
		}
		/* a number, but not as the recorder (%.10g) would have written it */
		snprintf(again, sizeof(again), "%.10g", want);
		if (strcmp(again, text) != 0) {
			cr_assert_eq(d, SAMPLE_ROW_MALFORMED, "%s (written %s) read as written", text,
				     again);
			continue;
		}
		cr_assert_eq(d, SAMPLE_ROW_OK, "%s: %s", text, sample_damage_text(d));
		cr_assert(memcmp(&row.value, &want, sizeof(want)) == 0, "%s: %a, strtod %a", text,
			  row.value, want);
	}
	for (const char *const *t = (const char *const[]){ "0", "-0", "5", "0005", "+5", " 5", "-5", "5x",
							  "999999999999999999",
							  "9223372036854775807",
							  "9223372036854775808", "", NULL };
	     *t; t++) {
		char line[96], again[32], *end;
		struct sample_row row;
		enum sample_damage d;
		long long want;

		errno = 0;
		want = strtoll(*t, &end, 10);
		snprintf(line, sizeof(line), "%s,scale,mass,1,g,", *t);
		d = sample_row_parse(line, &row);
		snprintf(again, sizeof(again), "%lld", want);
		if (errno || end == *t || *end)
			cr_assert_eq(d, SAMPLE_ROW_MALFORMED, "time %s", *t);
		else if (want < 0)
			cr_assert_eq(d, SAMPLE_ROW_NEGATIVE_TIME, "time %s", *t);
		else if (strcmp(again, *t) != 0)   /* "0005", "+5", "-0": not as written */
			cr_assert_eq(d, SAMPLE_ROW_MALFORMED, "time %s", *t);
		else
			cr_assert(d == SAMPLE_ROW_OK && row.t_ns == want, "time %s", *t);
	}
}

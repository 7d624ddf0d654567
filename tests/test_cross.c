/* What the 32-bit boards (armhf: 32-bit time_t and long) and unsigned char
 * (arm64 and armhf) expose. Built natively and, under the fork runner
 * (tests/cross), for both board architectures by tools/cross-test. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

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
}

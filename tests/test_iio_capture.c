/* Buffered capture, the pure part: scan formats as the kernel publishes
 * them and the values they hold (byte patterns worked out by hand from the
 * chips' data sheets), and how a bench file chooses buffer or attribute. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/iio/scan.h"
#include "helpers.h"
#include "rig/config/config.h"
#include "rig/base/diag.h"

Test(scan, formats_parse_as_the_kernel_prints_them)
{
	struct scan_format f;

	cr_assert_eq(scan_format_parse("le:u24/32>>0", &f), 0);
	cr_assert(!f.big_endian && !f.is_signed && f.real_bits == 24 && f.storage_bits == 32 &&
		  f.shift == 0);
	cr_assert_eq(scan_format_parse("le:s12/16>>4", &f), 0);   /* an ADS1015 */
	cr_assert(f.is_signed && f.real_bits == 12 && f.shift == 4);
	cr_assert_eq(scan_format_parse("be:S16/16>>0", &f), 0);
	cr_assert(f.big_endian && f.is_signed);
	cr_assert_eq(scan_format_parse("le:s64/64>>0", &f), 0);
	/* what no kernel prints */
	cr_assert_eq(scan_format_parse("le:u24/24>>0", &f), -EINVAL);   /* storage 24 */
	cr_assert_eq(scan_format_parse("le:u16/16>>4", &f), -EINVAL);   /* 20 bits in 16 */
	cr_assert_eq(scan_format_parse("xe:u16/16>>0", &f), -EINVAL);
	cr_assert_eq(scan_format_parse("le:q16/16>>0", &f), -EINVAL);
	cr_assert_eq(scan_format_parse("le:u16/16>>0 ", &f), -EINVAL);
	cr_assert_eq(scan_format_parse("le:u16/16X2>>0", &f), -EINVAL);
}

Test(scan, an_hx711_count_is_offset_binary_in_the_low_24_bits)
{
	struct scan_format f;
	/* 0x800000 is 0 mV (the driver flips the sign bit of the chip's two's
	 * complement); the top byte of the 32-bit word is not part of it */
	const uint8_t zero[4] = { 0x00, 0x00, 0x80, 0xff };
	const uint8_t plus[4] = { 0x10, 0x27, 0x80, 0x00 };   /* 0x802710 */

	cr_assert_eq(scan_format_parse("le:u24/32>>0", &f), 0);
	cr_assert_eq(scan_value_extract(&f, zero), 8388608);
	cr_assert_eq(scan_value_extract(&f, plus), 8388608 + 10000);
}

Test(scan, an_ads1115_count_is_signed)
{
	struct scan_format f;
	const uint8_t neg[2] = { 0xf6, 0xff };    /* -10 */
	const uint8_t pos[2] = { 0x6b, 0x0a };    /* 2667: 500 mV at 0.1875 mV */
	const uint8_t ads1015[2] = { 0xf0, 0xff };   /* le:s12/16>>4: -1 */

	cr_assert_eq(scan_format_parse("le:s16/16>>0", &f), 0);
	cr_assert_eq(scan_value_extract(&f, neg), -10);
	cr_assert_eq(scan_value_extract(&f, pos), 2667);
	cr_assert_eq(scan_format_parse("le:s12/16>>4", &f), 0);
	cr_assert_eq(scan_value_extract(&f, ads1015), -1);
}

Test(scan, an_ina226_current_declared_unsigned_is_twos_complement)
{
	struct scan_format f;
	const uint8_t minus[2] = { 0x38, 0xff };   /* 0xff38: -200 counts, -20 uA at 0.1 uA */

	cr_assert_eq(scan_format_parse("le:u16/16>>0", &f), 0);
	cr_assert_eq(scan_value_extract(&f, minus), 0xff38);
	cr_assert_eq(scan_twos_complement((uint64_t)scan_value_extract(&f, minus), f.real_bits),
		     -200);
	cr_assert_eq(scan_twos_complement(200, 16), 200);
}

/* The widest signed field short of 64 bits (fuzz_serial found it: the old
 * value - 2^63 overflowed int64_t) and the narrowest, at both ends. */
Test(scan, signed_fields_of_every_width_reach_both_ends)
{
	struct scan_format f;
	const uint8_t top[8] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t low[8] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80 };

	cr_assert_eq(scan_format_parse("le:s63/64>>1", &f), 0);
	cr_assert_eq(scan_value_extract(&f, top), -1);             /* 0xffff...fffe >> 1: all ones */
	cr_assert_eq(scan_value_extract(&f, low), -(INT64_C(1) << 62));
	cr_assert_eq(scan_twos_complement(UINT64_C(1) << 62, 63), -(INT64_C(1) << 62));
	cr_assert_eq(scan_twos_complement((UINT64_C(1) << 62) - 1, 63), (INT64_C(1) << 62) - 1);
	cr_assert_eq(scan_twos_complement(1, 1), -1);
	cr_assert_eq(scan_twos_complement(0, 1), 0);
	for (unsigned bits = 2; bits < 64; bits++) {
		uint64_t half = UINT64_C(1) << (bits - 1);

		cr_assert_eq(scan_twos_complement(half, bits), -(int64_t)half, "%u bits", bits);
		cr_assert_eq(scan_twos_complement(half - 1, bits), (int64_t)(half - 1), "%u bits", bits);
		cr_assert_eq(scan_twos_complement((half << 1) - 1, bits), -1, "%u bits", bits);
	}
}

Test(scan, a_timestamp_is_a_signed_64_bit_count)
{
	struct scan_format f;
	const uint8_t ts[8] = { 0x00, 0xe4, 0x0b, 0x54, 0x02, 0x00, 0x00, 0x00 };   /* 10 s */

	cr_assert_eq(scan_format_parse("le:s64/64>>0", &f), 0);
	cr_assert_eq(scan_value_extract(&f, ts), 10000000000LL);
}

/* ------------------------------------------ buffer or attribute reads -- */

/* A bench whose instrument `role` is the group given. */
static struct bench *load_role(const char *role, const char *group, struct diag_list *diags,
			       int *ret)
{
	char *dir = th_tmpdir(), *text, *path;
	struct bench *b = NULL;

	cr_assert_geq(asprintf(&text,
		"bench = { id = \"B\"; description = \"d\";\n"
		"  fluid = { name = \"water\"; temperature = \"20 degC\"; air_density = \"1.2 kg/m3\";\n"
		"            evaporation_correction = \"0 mg/h\"; };\n"
		"  limits = { pressure_max = \"250 kPa\"; delivered_max = \"20 mL\"; duration_max = \"10 h\"; };\n"
		"  instruments = {\n"
		"    pump = { backend = \"pumplink\"; device = \"/dev/ttyUSB0\"; };\n"
		"    %s = %s;\n"
		"  };\n"
		"};\n", role, group), 0);
	path = th_write_file(dir, "bench.cfg", text);
	*ret = bench_load(path, &b, diags);
	free(text);
	free(path);
	free(dir);
	return b;
}

static struct bench *load_power(const char *power_group, struct diag_list *diags, int *ret)
{
	return load_role("power", power_group, diags, ret);
}

#define IIO_POWER "backend = \"iio\"; uri = \"ip:127.0.0.1\"; device = \"ina226\"; " \
		  "channel = \"current3\"; "

Test(capture, a_short_period_chooses_a_buffer_and_a_long_one_attribute_reads)
{
	struct diag_list diags = { 0 };
	struct bench *b;
	int r;

	b = load_power("{ " IIO_POWER "period = \"10 ms\"; }", &diags, &r);
	cr_assert_eq(r, 0);
	cr_assert(b->instrument[ROLE_POWER].buffered);
	/* collected every 100 ms at least, not every sample */
	cr_assert_eq(b->instrument[ROLE_POWER].batch_ns, 100 * RIG_NS_PER_MS);
	bench_free(b);
	b = load_power("{ " IIO_POWER "period = \"1 s\"; }", &diags, &r);
	cr_assert_eq(r, 0);
	cr_assert(!b->instrument[ROLE_POWER].buffered);
	bench_free(b);
	/* the bench file overrides the choice either way */
	b = load_power("{ " IIO_POWER "period = \"1 s\"; capture = \"buffer\"; batch = \"1 min\"; }",
		       &diags, &r);
	cr_assert_eq(r, 0);
	cr_assert(b->instrument[ROLE_POWER].buffered);
	cr_assert_eq(b->instrument[ROLE_POWER].batch_ns, 60 * RIG_NS_PER_S);
	bench_free(b);
	b = load_power("{ " IIO_POWER "period = \"10 ms\"; capture = \"attribute\"; }", &diags, &r);
	cr_assert_eq(r, 0);
	cr_assert(!b->instrument[ROLE_POWER].buffered);
	bench_free(b);
	diag_clear(&diags);
}

Test(capture, capture_settings_that_cannot_apply_are_refused)
{
	struct diag_list diags = { 0 };
	struct bench *b;
	int r;

	b = load_power("{ backend = \"sim\"; period = \"1 s\"; capture = \"buffer\"; }", &diags, &r);
	cr_assert_eq(r, -EINVAL);
	cr_assert_not_null(strstr(diags.items[0].msg, "iio backend only"), "%s", diags.items[0].msg);
	bench_free(b);
	diag_clear(&diags);
	b = load_power("{ " IIO_POWER "period = \"1 s\"; capture = \"buffer\"; batch = \"10 ms\"; }",
		       &diags, &r);
	cr_assert_eq(r, -EINVAL);
	cr_assert_not_null(strstr(diags.items[0].msg, "shorter than the period"));
	bench_free(b);
	diag_clear(&diags);
	b = load_power("{ " IIO_POWER "period = \"1 s\"; batch = \"10 s\"; }", &diags, &r);
	cr_assert_eq(r, -EINVAL);
	cr_assert_not_null(strstr(diags.items[0].msg, "buffered capture only"));
	bench_free(b);
	diag_clear(&diags);
	b = load_power("{ " IIO_POWER "period = \"1 s\"; capture = \"dma\"; }", &diags, &r);
	cr_assert_eq(r, -EINVAL);
	cr_assert_not_null(strstr(diags.items[0].msg, "buffer, attribute"), "%s", diags.items[0].msg);
	bench_free(b);
	diag_clear(&diags);
}

/* ------------------------------------------------------------ triggers -- */

#define IIO_PRESSURE "backend = \"iio\"; uri = \"ip:127.0.0.1\"; device = \"ads1015\"; " \
		     "channel = \"voltage0\"; "

Test(trigger, a_triggered_adc_captured_through_a_buffer_needs_its_trigger_named)
{
	struct diag_list diags = { 0 };
	struct bench *b;
	int r;

	/* the ADS1115's kernel driver converts into its buffer only when its
	 * trigger fires: refused at load, with the line, the device, the key */
	b = load_role("pressure", "{ " IIO_PRESSURE "period = \"20 ms\"; }", &diags, &r);
	cr_assert_eq(r, -EINVAL);
	cr_assert_eq(diags.n, 1);
	cr_assert_eq(diags.items[0].line, 7);
	cr_assert_not_null(strstr(diags.items[0].msg, "IIO device 'ads1015' needs a trigger"), "%s",
			   diags.items[0].msg);
	cr_assert_not_null(strstr(diags.items[0].msg, "set trigger = \"NAME\""), "%s",
			   diags.items[0].msg);
	bench_free(b);
	diag_clear(&diags);
	/* so is the load cell's hx711, buffered on request */
	b = load_role("scale", "{ backend = \"iio\"; uri = \"ip:127.0.0.1\"; device = \"hx711\"; "
		      "channel = \"voltage0\"; period = \"1 s\"; capture = \"buffer\"; }", &diags, &r);
	cr_assert_eq(r, -EINVAL);
	cr_assert_not_null(strstr(diags.items[0].msg, "'hx711' needs a trigger"), "%s",
			   diags.items[0].msg);
	bench_free(b);
	diag_clear(&diags);
	/* named, it loads and goes to the driver */
	b = load_role("pressure", "{ " IIO_PRESSURE "period = \"20 ms\"; trigger = \"rig-timer\"; }",
		      &diags, &r);
	cr_assert_eq(r, 0);
	cr_assert(b->instrument[ROLE_PRESSURE].buffered);
	cr_assert_str_eq(b->instrument[ROLE_PRESSURE].trigger, "rig-timer");
	bench_free(b);
	/* attribute reads need none; nor does the ina226 (its driver runs its
	 * own capture thread) */
	b = load_role("pressure", "{ " IIO_PRESSURE "period = \"1 s\"; }", &diags, &r);
	cr_assert_eq(r, 0);
	cr_assert_str_eq(b->instrument[ROLE_PRESSURE].trigger, "");
	bench_free(b);
	b = load_power("{ " IIO_POWER "period = \"10 ms\"; }", &diags, &r);
	cr_assert_eq(r, 0);
	bench_free(b);
	/* a device named by id cannot be known here: its open says (EINVAL) */
	b = load_role("pressure", "{ backend = \"iio\"; uri = \"ip:127.0.0.1\"; "
		      "device = \"iio:device2\"; channel = \"voltage0\"; period = \"20 ms\"; }",
		      &diags, &r);
	cr_assert_eq(r, 0);
	bench_free(b);
	diag_clear(&diags);
}

Test(trigger, a_trigger_where_none_can_apply_is_refused)
{
	struct diag_list diags = { 0 };
	struct bench *b;
	int r;

	b = load_role("pressure", "{ " IIO_PRESSURE "period = \"1 s\"; trigger = \"rig-timer\"; }",
		      &diags, &r);
	cr_assert_eq(r, -EINVAL);
	cr_assert_not_null(strstr(diags.items[0].msg, "'trigger' applies to buffered capture"), "%s",
			   diags.items[0].msg);
	bench_free(b);
	diag_clear(&diags);
	b = load_role("pressure", "{ backend = \"sim\"; period = \"20 ms\"; trigger = \"t\"; }",
		      &diags, &r);
	cr_assert_eq(r, -EINVAL);
	cr_assert_not_null(strstr(diags.items[0].msg, "iio backend only"), "%s", diags.items[0].msg);
	bench_free(b);
	diag_clear(&diags);
	b = load_role("pressure", "{ " IIO_PRESSURE "period = \"20 ms\"; trigger = \"\"; }",
		      &diags, &r);
	cr_assert_eq(r, -EINVAL);
	cr_assert_not_null(strstr(diags.items[0].msg, "'trigger' is empty"), "%s",
			   diags.items[0].msg);
	bench_free(b);
	diag_clear(&diags);
}

/* IIO scan elements: the kernel's description of how one channel's sample
 * sits in a buffer ("le:s16/16>>0": little endian, signed, 16 significant
 * bits stored in 16, shifted right by 0), and the arithmetic that takes the
 * value out of the bytes.  Pure: no libiio, no I/O, so the demultiplexing is
 * tested against byte patterns alone (tests/test_iio_scan.c) and the wire
 * simulator packs with the same description it publishes. */
#ifndef RIG_IIO_SCAN_H
#define RIG_IIO_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scan_format {
	bool big_endian;
	bool is_signed;         /* 's' or 'S' in the kernel's text */
	unsigned real_bits;     /* significant bits, 1..64 */
	unsigned storage_bits;  /* 8, 16, 32 or 64 */
	unsigned shift;         /* right shift before masking */
};

/* Parses "le:s16/16>>0" (also "be:", "u", "S"; no repeat "X" count).
 * -EINVAL on anything else. */
int scan_format_parse(const char *text, struct scan_format *ret);

/* The channel's value from its storage bytes: byte order, shift, mask to
 * real_bits, sign extension for a signed format. */
int64_t scan_value_extract(const struct scan_format *f, const uint8_t *p);

/* A count stored as an unsigned field that the chip fills with two's
 * complement (the INA226's shunt voltage and current registers, which the
 * kernel declares 'u'): reinterpreted at real_bits. */
int64_t scan_twos_complement(uint64_t value, unsigned real_bits);

#endif

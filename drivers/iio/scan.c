/* IIO scan elements: see scan.h. */
#include "scan.h"

#include <errno.h>
#include <string.h>

static int parse_uint(const char **s, unsigned *ret)
{
	unsigned v = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > 64)
			return -EINVAL;
	}
	*s = p;
	*ret = v;
	return 0;
}

int scan_format_parse(const char *text, struct scan_format *ret)
{
	struct scan_format f = { 0 };
	const char *p = text;

	if (strncmp(p, "le:", 3) == 0)
		f.big_endian = false;
	else if (strncmp(p, "be:", 3) == 0)
		f.big_endian = true;
	else
		return -EINVAL;
	p += 3;
	if (*p == 's' || *p == 'S')
		f.is_signed = true;
	else if (*p != 'u' && *p != 'U')
		return -EINVAL;
	p++;
	if (parse_uint(&p, &f.real_bits) < 0 || *p++ != '/' ||
	    parse_uint(&p, &f.storage_bits) < 0 || strncmp(p, ">>", 2) != 0)
		return -EINVAL;
	p += 2;
	if (parse_uint(&p, &f.shift) < 0 || *p != '\0')
		return -EINVAL;
	if (f.storage_bits != 8 && f.storage_bits != 16 && f.storage_bits != 32 &&
	    f.storage_bits != 64)
		return -EINVAL;
	if (f.real_bits == 0 || f.real_bits + f.shift > f.storage_bits)
		return -EINVAL;
	*ret = f;
	return 0;
}

int64_t scan_twos_complement(uint64_t value, unsigned real_bits)
{
	uint64_t mask;

	if (real_bits >= 64)
		return (int64_t)value;
	mask = (UINT64_C(1) << real_bits) - 1;
	value &= mask;
	/* negative: -(its complement) - 1, which stays in range for every
	 * width; value - 2^bits overflows int64_t at 63 bits */
	if (value & (UINT64_C(1) << (real_bits - 1)))
		return -(int64_t)(~value & mask) - 1;
	return (int64_t)value;
}

int64_t scan_value_extract(const struct scan_format *f, const uint8_t *p)
{
	unsigned bytes = f->storage_bits / 8;
	uint64_t v = 0;

	/* the common case, a little-endian word of 4 or 8 bytes, at once
	 * (every scan of a buffer comes here) */
	if (!f->big_endian && bytes == 4) {
		v = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
	} else if (!f->big_endian && bytes == 8) {
		v = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
		    (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
		    (uint64_t)p[7] << 56;
	} else {
		for (unsigned i = 0; i < bytes; i++) {
			unsigned b = f->big_endian ? i : bytes - 1 - i;

			v = v << 8 | p[b];
		}
	}
	v >>= f->shift;
	if (f->real_bits < 64)
		v &= (UINT64_C(1) << f->real_bits) - 1;
	return f->is_signed ? scan_twos_complement(v, f->real_bits) : (int64_t)v;
}

/* The line formats of a run's record, shared by its writer and its readers. */
#include "record.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The exact powers of ten a double holds (10^22 is the last). */
static const double exact_pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
				      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

static char *put_uint(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* The ten significant digits of a (> 0) as printf rounds them, and the
 * decimal exponent of the first: a = digits x 10^(exp - 9).  false where
 * the double arithmetic cannot tell the rounding for certain (the 11th
 * digit onwards within 1e-5 of a half, an exponent beyond the exact powers
 * of ten): the caller asks snprintf. */
static bool ten_digits(double a, uint64_t *digits, int *exp)
{
	int e = (int)floor(log10(a));

	for (int tries = 0; tries < 3; tries++) {
		int k = 9 - e;
		double scaled, frac;
		uint64_t n;

		if (k > 22 || k < -22)
			return false;
		scaled = k >= 0 ? a * exact_pow10[k] : a / exact_pow10[-k];
		if (scaled < 1e9) {
			e--;
			continue;
		}
		if (scaled >= 1e10) {
			e++;
			continue;
		}
		/* the product is within half an ulp (under 1e-6 here) of the
		 * exact a x 10^k */
		n = (uint64_t)scaled;
		frac = scaled - (double)n;
		if (fabs(frac - 0.5) < 1e-5)
			return false;
		if (frac > 0.5)
			n++;
		if (n == 10000000000ULL) {
			n = 1000000000ULL;
			e++;
		}
		*digits = n;
		*exp = e;
		return true;
	}
	return false;
}

int sample_value_format(char *buf, size_t len, double v)
{
	char d[10], *p = buf;
	uint64_t digits;
	int e, last;

	if (len < SAMPLE_VALUE_TEXT_MAX || !isfinite(v) || v == 0 || fabs(v) < 1e-290 ||
	    fabs(v) > 1e290 || !ten_digits(fabs(v), &digits, &e))
		return snprintf(buf, len, "%.10g", v);
	for (int i = 9; i >= 0; i--) {
		d[i] = (char)('0' + digits % 10);
		digits /= 10;
	}
	for (last = 9; last > 0 && d[last] == '0'; last--)
		;
	if (v < 0)
		*p++ = '-';
	if (e >= -4 && e < 10) {
		/* %f style, trailing zeros removed */
		if (e >= 0) {
			memcpy(p, d, (size_t)e + 1);
			p += e + 1;
			if (last > e) {
				*p++ = '.';
				memcpy(p, d + e + 1, (size_t)(last - e));
				p += last - e;
			}
		} else {
			*p++ = '0';
			*p++ = '.';
			for (int i = 0; i < -e - 1; i++)
				*p++ = '0';
			memcpy(p, d, (size_t)last + 1);
			p += last + 1;
		}
	} else {
		/* %e style: d.ddde+XX, trailing zeros removed, two exponent digits at least */
		*p++ = d[0];
		if (last > 0) {
			*p++ = '.';
			memcpy(p, d + 1, (size_t)last);
			p += last;
		}
		*p++ = 'e';
		*p++ = e < 0 ? '-' : '+';
		if (abs(e) < 10)
			*p++ = '0';
		p = put_uint(p, (uint64_t)abs(e));
	}
	*p = '\0';
	return (int)(p - buf);
}

int sample_row_format(char *buf, size_t len, rig_ns t_ns, enum rig_role role, enum quantity q,
		      double value, const char *flags)
{
	const char *parts[4] = { rig_role_name(role), quantity_name(q), quantity_unit(q), flags };
	size_t n[4], need = 24 + SAMPLE_VALUE_TEXT_MAX + 6;
	char *p = buf;

	for (int i = 0; i < 4; i++)
		need += n[i] = strlen(parts[i]);
	if (len < need || t_ns < 0)
		return snprintf(buf, len, "%lld,%s,%s,%.10g,%s,%s\n", (long long)t_ns, parts[0],
				parts[1], value, parts[2], flags);
	p = put_uint(p, (uint64_t)t_ns);
	for (int i = 0; i < 4; i++) {
		*p++ = ',';
		if (i == 2) {
			p += sample_value_format(p, SAMPLE_VALUE_TEXT_MAX, value);
			*p++ = ',';
		}
		memcpy(p, parts[i], n[i]);
		p += n[i];
	}
	*p++ = '\n';
	*p = '\0';
	return (int)(p - buf);
}

/* strtod's answer for the numbers the recorder writes, without its cost:
 * a decimal of at most 19 significant digits whose value is m x 10^e with
 * m < 2^53 and |e| <= 22 is one correctly rounded multiplication or
 * division of two exact doubles, which is what strtod (correctly rounded)
 * gives too (Clinger's fast path).  Anything else is strtod's. */
static double parse_double(const char *s, char **end)
{
	const char *p = s;
	uint64_t m = 0;
	int digits = 0, e = 0;
	bool neg = false, any = false;
	double v;

	if (*p == '-') {
		neg = true;
		p++;
	}
	for (; *p >= '0' && *p <= '9'; p++, any = true) {
		m = m * 10 + (uint64_t)(*p - '0');
		if (m && ++digits > 19)
			return strtod(s, end);
	}
	if (!any)
		return strtod(s, end);
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, e--) {
			m = m * 10 + (uint64_t)(*p - '0');
			if (m && ++digits > 19)
				return strtod(s, end);
		}
	if (*p == 'e' || *p == 'E') {
		const char *q = p + 1;
		bool eneg = false;
		int x = 0;

		if (*q == '-' || *q == '+')
			eneg = *q++ == '-';
		if (!(*q >= '0' && *q <= '9'))
			return strtod(s, end);
		for (; *q >= '0' && *q <= '9'; q++)
			if ((x = x * 10 + (*q - '0')) > 1000)
				return strtod(s, end);
		e += eneg ? -x : x;
		p = q;
	}
	/* not the whole field (hex, inf, nan, ...): strtod says what it is */
	if (*p || m > (1ULL << 53) || e > 22 || e < -22)
		return strtod(s, end);
	v = (double)m;
	v = e < 0 ? v / exact_pow10[-e] : v * exact_pow10[e];
	*end = (char *)p;
	return neg ? -v : v;
}

/* strtoll's answer for a time as the recorder writes it (digits alone, up
 * to 18 of them); anything else is strtoll's, errno included. */
static long long parse_time(const char *s, char **end)
{
	const char *p = s;
	long long v = 0;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (p - s == 18) {
			errno = 0;
			return strtoll(s, end, 10);
		}
		v = v * 10 + (*p - '0');
	}
	if (p == s || *p) {
		errno = 0;
		return strtoll(s, end, 10);
	}
	*end = (char *)p;
	return v;
}

void sample_flags_format(uint32_t flags, char buf[8])
{
	char *p = buf;

	if (flags & SAMPLE_UNSTABLE)
		*p++ = 'U';
	if (flags & SAMPLE_CLIPPED)
		*p++ = 'C';
	if (flags & SAMPLE_STALE)
		*p++ = 'S';
	if (flags & SAMPLE_OUT_OF_RANGE)
		*p++ = 'R';
	*p = '\0';
}

uint32_t sample_flags_parse(const char *text)
{
	uint32_t flags = 0;

	for (; *text && *text != '\n' && *text != '\r'; text++) {
		switch (*text) {
		case 'U': flags |= SAMPLE_UNSTABLE; break;
		case 'C': flags |= SAMPLE_CLIPPED; break;
		case 'S': flags |= SAMPLE_STALE; break;
		case 'R': flags |= SAMPLE_OUT_OF_RANGE; break;
		default: break;
		}
	}
	return flags;
}

bool record_role_quantity(enum rig_role role, enum quantity q)
{
	switch (role) {
	case ROLE_SCALE: return q == QUANT_MASS_G;
	case ROLE_FLOW: return q == QUANT_FLOW_ML_PER_H;
	case ROLE_PRESSURE: return q == QUANT_PRESSURE_KPA;
	case ROLE_POWER: return q == QUANT_CURRENT_UA || q == QUANT_VOLTAGE_V;
	case ROLE_ALARM: return q == QUANT_ALARM_LEVEL;
	case ROLE_PUMP: return q == QUANT_DELIVERED_ML || q == QUANT_RESERVOIR_ML || q == QUANT_VOLTAGE_V;
	default: return q != QUANT__COUNT && q == role_primary_quantity(role);
	}
}

const char *sample_damage_text(enum sample_damage d)
{
	switch (d) {
	case SAMPLE_ROW_OK: return "";
	case SAMPLE_ROW_MALFORMED: return "not a row of six fields with a time and a number as rig writes them";
	case SAMPLE_ROW_NEGATIVE_TIME: return "negative time";
	case SAMPLE_ROW_UNKNOWN_ROLE: return "unknown role";
	case SAMPLE_ROW_UNKNOWN_QUANTITY: return "a quantity its role does not record";
	case SAMPLE_ROW_WRONG_UNIT: return "not the unit of its quantity";
	case SAMPLE_ROW_UNKNOWN_FLAG: return "a flag other than U, C, S, R, each once, in that order";
	case SAMPLE_ROW_NOT_FINITE: return "a value that is not a number, not flagged R";
	}
	return "?";
}

static int quantity_from_name(const char *name)
{
	for (int q = 0; q < QUANT__COUNT; q++)
		if (quantity_name((enum quantity)q)[0] == name[0] &&
		    strcmp(quantity_name((enum quantity)q), name) == 0)
			return q;
	return -1;
}

/* A time as put_uint writes it: digits, no sign, no leading zero but "0"
 * itself, at most 19 digits (a minus sign before them is judged apart: a
 * negative time). */
static bool time_as_written(const char *s)
{
	size_t n = strspn(s, "0123456789");

	if (*s == '-')   /* never "-0" */
		return s[1] != '0' && time_as_written(s + 1);
	return n && !s[n] && n <= 19 && (s[0] != '0' || n == 1);
}

/* A value as the recorder writes it (sample_value_format, which is
 * %.10g), judged by its characters alone (reading it again would cost as
 * much as the reading): an optional minus; inf or nan; or at most 10
 * significant digits, an integer part without leading zeros, a fraction
 * not ending in 0, and %g's choice of style: d[.ddd]e+XX (two exponent
 * digits, three from 100) when the exponent is below -4 or 10 and more,
 * else plain.  No plus sign, no space, no "1.0", "07", "1e300",
 * "1e+05" or eleventh digit. */
static bool value_as_written(const char *s, double v)
{
	const char *p = s + (*s == '-');
	int int_digits = 0, frac_digits = 0, zeros = 0, x;
	bool int_zero = *p == '0';

	if (!strcmp(p, "inf") || !strcmp(p, "nan"))
		return true;
	if (int_zero)
		p++;
	else
		for (; *p >= '0' && *p <= '9'; p++)
			int_digits++;
	if (!int_zero && !int_digits)
		return false;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			frac_digits++;
			zeros += int_zero && frac_digits == zeros + 1 && *p == '0';
		}
		if (!frac_digits || p[-1] == '0')
			return false;
	}
	if ((int_zero ? frac_digits - zeros : int_digits + frac_digits) > 10)
		return false;
	if (*p == 'e') {
		size_t n;

		if (int_zero || int_digits != 1 || (p[1] != '+' && p[1] != '-'))
			return false;
		n = strspn(p + 2, "0123456789");
		if (n < 2 || n > 3 || p[2 + n] || (n == 3 && p[2] == '0'))
			return false;
		x = atoi(p + 2) * (p[1] == '-' ? -1 : 1);
		if (x < -300 || x > 300) {
			/* near the edges of a double (1e-400 reads as 0, 1e400
			 * as inf): written again, as rig would */
			char again[SAMPLE_VALUE_TEXT_MAX];

			sample_value_format(again, sizeof(again), v);
			return strcmp(again, s) == 0;
		}
		return x < -4 || x >= 10;
	}
	if (*p)
		return false;
	if (int_zero)
		return !frac_digits || zeros <= 3;   /* 0, or 0.000d at the least */
	return int_digits <= 10;
}

enum sample_damage sample_row_parse(char *line, struct sample_row *ret)
{
	char *p = line, *end, *fields[6];
	size_t n = 0;
	int role, q;

	fields[n++] = p;
	while ((p = strchr(p, ',')) != NULL) {
		if (n == 6)
			return SAMPLE_ROW_MALFORMED;
		*p++ = '\0';
		fields[n++] = p;
	}
	if (n != 6)
		return SAMPLE_ROW_MALFORMED;
	errno = 0;
	ret->t_ns = parse_time(fields[0], &end);
	if (errno || end == fields[0] || *end)
		return SAMPLE_ROW_MALFORMED;
	ret->value = parse_double(fields[3], &end);
	if (end == fields[3] || *end || strlen(fields[3]) > SAMPLE_VALUE_TEXT_MAX)
		return SAMPLE_ROW_MALFORMED;
	ret->value_text = fields[3];
	ret->flags_text = fields[5];
	if (ret->t_ns < 0)
		return SAMPLE_ROW_NEGATIVE_TIME;
	role = rig_role_from_name(fields[1]);
	if (role < 0)
		return SAMPLE_ROW_UNKNOWN_ROLE;
	ret->role = (enum rig_role)role;
	q = quantity_from_name(fields[2]);
	if (q < 0 || !record_role_quantity(ret->role, (enum quantity)q))
		return SAMPLE_ROW_UNKNOWN_QUANTITY;
	ret->quantity = (enum quantity)q;
	if (strcmp(fields[4], quantity_unit(ret->quantity)) != 0)
		return SAMPLE_ROW_WRONG_UNIT;
	if (fields[5][0] && (strspn(fields[5], "UCSR") != strlen(fields[5]) || strlen(fields[5]) > 4))
		return SAMPLE_ROW_UNKNOWN_FLAG;
	ret->flags = sample_flags_parse(fields[5]);
	if (!isfinite(ret->value) && !(ret->flags & SAMPLE_OUT_OF_RANGE))
		return SAMPLE_ROW_NOT_FINITE;
	/* last (the damages above say more): the numbers as the recorder
	 * writes them, character for character; a row with "+3", " 7.5",
	 * "07", "7.50" or "1e300" is not one rig wrote */
	if (!time_as_written(fields[0]) || !value_as_written(fields[3], ret->value))
		return SAMPLE_ROW_MALFORMED;
	{
		char flags[8];

		/* the flags in the recorder's order, each once: "RU", "UU" are not */
		sample_flags_format(ret->flags, flags);
		if (strcmp(flags, fields[5]) != 0)
			return SAMPLE_ROW_UNKNOWN_FLAG;
	}
	return SAMPLE_ROW_OK;
}

/* The line formats of a run's record, shared by its writer and its readers. */
#include "record.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
	case SAMPLE_ROW_MALFORMED: return "not a row of six fields with an integer time and a number";
	case SAMPLE_ROW_NEGATIVE_TIME: return "negative time";
	case SAMPLE_ROW_UNKNOWN_ROLE: return "unknown role";
	case SAMPLE_ROW_UNKNOWN_QUANTITY: return "a quantity its role does not record";
	case SAMPLE_ROW_WRONG_UNIT: return "not the unit of its quantity";
	case SAMPLE_ROW_UNKNOWN_FLAG: return "unknown flag";
	case SAMPLE_ROW_NOT_FINITE: return "a value that is not a number, not flagged R";
	}
	return "?";
}

static int quantity_from_name(const char *name)
{
	for (int q = 0; q < QUANT__COUNT; q++)
		if (strcmp(quantity_name((enum quantity)q), name) == 0)
			return q;
	return -1;
}

enum sample_damage sample_row_parse(char *line, struct sample_row *ret)
{
	char *p = line, *end, *fields[6];
	size_t n = 0;
	int role, q;

	fields[n++] = p;
	for (; *p; p++)
		if (*p == ',') {
			if (n == 6)
				return SAMPLE_ROW_MALFORMED;
			*p = '\0';
			fields[n++] = p + 1;
		}
	if (n != 6)
		return SAMPLE_ROW_MALFORMED;
	/* numbers as the recorder writes them: decimal, the whole field */
	errno = 0;
	ret->t_ns = strtoll(fields[0], &end, 10);
	if (errno || end == fields[0] || *end)
		return SAMPLE_ROW_MALFORMED;
	ret->value = strtod(fields[3], &end);
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
	if (strspn(fields[5], "UCSR") != strlen(fields[5]) || strlen(fields[5]) > 4)
		return SAMPLE_ROW_UNKNOWN_FLAG;
	ret->flags = sample_flags_parse(fields[5]);
	if (!isfinite(ret->value) && !(ret->flags & SAMPLE_OUT_OF_RANGE))
		return SAMPLE_ROW_NOT_FINITE;
	return SAMPLE_ROW_OK;
}

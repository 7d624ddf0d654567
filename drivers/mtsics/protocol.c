/* MT-SICS subset: see protocol.h. */
#define _GNU_SOURCE  /* strtod_l */
#include "protocol.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cmd_text[] = { [MT_S] = "S", [MT_SI] = "SI", [MT_T] = "T", [MT_Z] = "Z" };

const char *mtsics_cmd_text(enum mtsics_cmd cmd)
{
	return (unsigned)cmd <= MT_Z ? cmd_text[cmd] : "?";
}

int mtsics_format_cmd(enum mtsics_cmd cmd, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s\r\n", mtsics_cmd_text(cmd));

	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int mtsics_parse_cmd(const char *line, enum mtsics_cmd *ret)
{
	for (int c = MT_S; c <= MT_Z; c++)
		if (strcmp(line, cmd_text[c]) == 0) {
			*ret = (enum mtsics_cmd)c;
			return 0;
		}
	return -ENOMSG;
}

static int parse_value(const char *text, double *ret)
{
	static locale_t c_locale;
	char num[32], unit[8], *end;
	const char *p = text;
	size_t n = 0;
	double v, factor;

	while (*p == ' ')
		p++;
	while (*p && *p != ' ' && n + 1 < sizeof(num))
		num[n++] = *p++;
	num[n] = '\0';
	if (*p != ' ' || n == 0)
		return -EINVAL;
	while (*p == ' ')
		p++;
	if (strlen(p) == 0 || strlen(p) >= sizeof(unit))
		return -EINVAL;
	strcpy(unit, p);
	if (strcmp(unit, "g") == 0)
		factor = 1;
	else if (strcmp(unit, "mg") == 0)
		factor = 1e-3;
	else if (strcmp(unit, "kg") == 0)
		factor = 1e3;
	else
		return -EINVAL;
	for (const char *c = num; *c; c++)
		if (!((*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == '+'))
			return -EINVAL;
	if (!c_locale)
		c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	v = c_locale ? strtod_l(num, &end, c_locale) : strtod(num, &end);
	if (end == num || *end || !isfinite(v))
		return -EINVAL;
	*ret = v * factor;
	return 0;
}

int mtsics_parse_response(const char *line, enum mtsics_cmd cmd, struct mtsics_response *ret)
{
	const char *id = cmd == MT_SI ? "S" : mtsics_cmd_text(cmd);
	size_t idl = strlen(id);

	*ret = (struct mtsics_response){ .cmd = cmd };
	if (strcmp(line, "ES") == 0 || strcmp(line, "ET") == 0 || strcmp(line, "EL") == 0) {
		ret->status = line[1] == 'S' ? MT_ERR_SYNTAX : line[1] == 'T' ?
			      MT_ERR_TRANSMISSION : MT_ERR_LOGICAL;
		return 0;
	}
	if (strncmp(line, id, idl) != 0 || line[idl] != ' ' || !line[idl + 1])
		return -EINVAL;
	line += idl + 1;
	switch (line[0]) {
	case 'S': ret->status = MT_STABLE; break;
	case 'D': ret->status = MT_DYNAMIC; break;
	case 'A': ret->status = MT_DONE; break;
	case 'I': ret->status = MT_BUSY; break;
	case '+': ret->status = MT_OVERLOAD; break;
	case '-': ret->status = MT_UNDERLOAD; break;
	default: return -EINVAL;
	}
	if ((ret->status == MT_STABLE && cmd != MT_Z) || (ret->status == MT_DYNAMIC && cmd == MT_SI)) {
		if (line[1] != ' ')
			return -EINVAL;
		ret->has_value = true;
		return parse_value(line + 2, &ret->value_g);
	}
	if ((ret->status == MT_DONE && cmd != MT_Z) || (ret->status == MT_DYNAMIC))
		return -EINVAL;
	return line[1] == '\0' ? 0 : -EINVAL;
}

int mtsics_format_response(const struct mtsics_response *rep, char *buf, size_t size)
{
	static const char status_char[] = { [MT_STABLE] = 'S', [MT_DYNAMIC] = 'D', [MT_DONE] = 'A',
					    [MT_BUSY] = 'I', [MT_OVERLOAD] = '+',
					    [MT_UNDERLOAD] = '-' };
	const char *id = rep->cmd == MT_SI ? "S" : mtsics_cmd_text(rep->cmd);
	int n;

	switch (rep->status) {
	case MT_ERR_SYNTAX: n = snprintf(buf, size, "ES\r\n"); break;
	case MT_ERR_TRANSMISSION: n = snprintf(buf, size, "ET\r\n"); break;
	case MT_ERR_LOGICAL: n = snprintf(buf, size, "EL\r\n"); break;
	default:
		if (rep->has_value)   /* a 10-character value field, grams to 0.1 ug */
			n = snprintf(buf, size, "%s %c %11.7f g\r\n", id, status_char[rep->status],
				     rep->value_g);
		else
			n = snprintf(buf, size, "%s %c\r\n", id, status_char[rep->status]);
		break;
	}
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

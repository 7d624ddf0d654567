/* The context XML the simulator's iiod serves (PRINT): what libiio 0.24
 * parses into devices, channels, scan elements and attributes. */
#define _GNU_SOURCE  /* open_memstream */
#include "iiod_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The DTD that libiio validates a context against: a context holds devices
 * and context attributes; a device holds channels and attributes; a channel
 * an optional scan element and attributes. */
static const char dtd[] =
	"<!DOCTYPE context ["
	"<!ELEMENT context (device | context-attribute)*>"
	"<!ELEMENT context-attribute EMPTY>"
	"<!ELEMENT device (channel | attribute | debug-attribute | buffer-attribute)*>"
	"<!ELEMENT channel (scan-element?, attribute*)>"
	"<!ELEMENT attribute EMPTY>"
	"<!ELEMENT scan-element EMPTY>"
	"<!ELEMENT debug-attribute EMPTY>"
	"<!ELEMENT buffer-attribute EMPTY>"
	"<!ATTLIST context name CDATA #REQUIRED version-major CDATA #REQUIRED "
	"version-minor CDATA #REQUIRED version-git CDATA #REQUIRED description CDATA #IMPLIED>"
	"<!ATTLIST context-attribute name CDATA #REQUIRED value CDATA #REQUIRED>"
	"<!ATTLIST device id CDATA #REQUIRED name CDATA #IMPLIED label CDATA #IMPLIED>"
	"<!ATTLIST channel id CDATA #REQUIRED type (input|output) #REQUIRED name CDATA #IMPLIED>"
	"<!ATTLIST scan-element index CDATA #REQUIRED format CDATA #REQUIRED scale CDATA #IMPLIED>"
	"<!ATTLIST attribute name CDATA #REQUIRED filename CDATA #IMPLIED>"
	"<!ATTLIST debug-attribute name CDATA #REQUIRED>"
	"<!ATTLIST buffer-attribute name CDATA #REQUIRED>"
	"]>";

/* '>' in a scan format ("le:u24/32>>0") must be escaped in XML. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '>': fputs("&gt;", f); break;
		case '<': fputs("&lt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f); break;
		}
	}
}

/* A kernel scan type as libiio writes it into the XML: the sign letter in
 * capitals when the value's bits fill its storage ("le:s16/16>>0" ->
 * "le:S16/16>>0"), the kernel's text otherwise ("le:u24/32>>0"). */
static void put_format(FILE *f, const char *kernel)
{
	char text[64];
	unsigned bits, storage;
	char *sign;

	snprintf(text, sizeof(text), "%s", kernel);
	sign = strchr(text, ':');
	if (sign && sscanf(sign + 2, "%u/%u", &bits, &storage) == 2 && bits == storage)
		sign[1] = (char)(sign[1] == 's' ? 'S' : sign[1] == 'u' ? 'U' : sign[1]);
	put_escaped(f, text);
}

char *iiod_xml_build(const struct iiod_device *devs, size_t n, const struct iiod_trigger *triggers,
		     size_t n_triggers)
{
	char *xml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&xml, &len);

	if (!f)
		return NULL;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"utf-8\"?>%s<context name=\"network\" "
		   "version-major=\"0\" version-minor=\"24\" version-git=\"pumprig\" "
		   "description=\"pumprig wire-level bench simulator\" >", dtd);
	fprintf(f, "<context-attribute name=\"pumprig,simulator\" value=\"1\" />");
	for (size_t d = 0; d < n; d++) {
		const struct iiod_device *dev = &devs[d];

		fprintf(f, "<device id=\"%s\" name=\"%s\" >", dev->id, dev->name);
		for (size_t c = 0; c < dev->n_channels; c++) {
			const struct iiod_channel *ch = &dev->channels[c];

			fprintf(f, "<channel id=\"%s\" type=\"%s\" >", ch->id,
				ch->output ? "output" : "input");
			if (ch->scan_index >= 0) {
				fprintf(f, "<scan-element index=\"%d\" format=\"", ch->scan_index);
				put_format(f, ch->format);
				fprintf(f, "\" ");
				/* libiio keeps the scale as a float, printed %f */
				if (ch->scale)
					fprintf(f, "scale=\"%f\" ", (float)strtod(ch->scale, NULL));
				fprintf(f, "/>");
			}
			for (size_t a = 0; a < ch->n_attrs; a++)
				fprintf(f, "<attribute name=\"%s\" filename=\"%s\" />", ch->attrs[a].name,
					ch->attrs[a].filename);
			fprintf(f, "</channel>");
		}
		for (size_t a = 0; a < dev->n_attrs; a++)
			fprintf(f, "<attribute name=\"%s\" />", dev->attrs[a]);
		for (size_t a = 0; a < dev->n_buffer_attrs; a++)
			fprintf(f, "<buffer-attribute name=\"%s\" />", dev->buffer_attrs[a]);
		fprintf(f, "</device>");
	}
	/* libiio takes a device whose id starts "trigger", with a name and no
	 * channels, for a trigger (iio_device_is_trigger) */
	for (size_t t = 0; t < n_triggers; t++)
		fprintf(f, "<device id=\"%s\" name=\"%s\" ><attribute name=\"sampling_frequency\" />"
			   "</device>", triggers[t].id, triggers[t].name);
	fprintf(f, "</context>");
	if (fclose(f) != 0) {
		free(xml);
		return NULL;
	}
	return xml;
}

/* run.json's run_id: see runid.h. */
#include "runid.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "wholefile.h"

#define RUN_JSON_MAX (1u << 20)

int run_id_read(const char *run_dir, char *buf, size_t len)
{
	char path[4096], *text = NULL;
	size_t n = 0;
	const char *id;
	json_t *o;
	int r;

	if (len)
		buf[0] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s/run.json", run_dir) >= sizeof(path))
		return -ENAMETOOLONG;
	r = wholefile_read(path, RUN_JSON_MAX, true, &text, &n);
	if (r < 0)
		return r;
	o = json_loadb(text, n, 0, NULL);
	free(text);
	if (!json_is_object(o)) {
		json_decref(o);
		return -EBADMSG;
	}
	id = json_string_value(json_object_get(o, "run_id"));
	r = -ENODATA;
	if (id && *id && strlen(id) < len && text_check(id, strlen(id), 0, NULL)) {
		memcpy(buf, id, strlen(id) + 1);
		r = 0;
	}
	json_decref(o);
	return r;
}

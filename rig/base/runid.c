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

int run_id_of(const json_t *run, char buf[RUN_ID_MAX])
{
	const char *id = json_string_value(json_object_get(run, "run_id"));

	buf[0] = '\0';
	if (!id || !text_one_line(id, RUN_ID_MAX))
		return -ENODATA;
	memcpy(buf, id, strlen(id) + 1);
	return 0;
}

int run_id_read(const char *run_dir, char buf[RUN_ID_MAX])
{
	char path[4096], *text = NULL;
	size_t n = 0;
	json_t *o;
	int r;

	buf[0] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s/run.json", run_dir) >= sizeof(path))
		return -ENAMETOOLONG;
	r = wholefile_read(path, RUN_JSON_MAX, true, &text, &n);
	if (r < 0)
		return r;
	o = json_loadb(text, n, 0, NULL);
	free(text);
	r = json_is_object(o) ? run_id_of(o, buf) : -EBADMSG;
	json_decref(o);
	return r;
}

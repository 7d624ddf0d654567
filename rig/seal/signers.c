/* The station's signers registry (signers.h). */
#include "signers.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rig/base/name.h"
#include "rig/base/utc.h"

int signers_path_of(const char *journal_path, char *ret, size_t len)
{
	const char *slash = strrchr(journal_path, '/');
	int n = slash ? snprintf(ret, len, "%.*s/%s", (int)(slash - journal_path), journal_path,
				 SIGNERS_FILE) : snprintf(ret, len, "%s", SIGNERS_FILE);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The owner of fingerprint among the registry's lines (text), by the
 * first line naming it: 1 found (name and utc into owner), 0 none. */
static int find_owner(const char *text, const char *fingerprint, char *skel, size_t skel_len,
		      char *owner, size_t owner_len)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		json_t *o = json_loadb(p, len, 0, NULL);
		const char *key = json_string_value(json_object_get(o, "key"));
		const char *who = json_string_value(json_object_get(o, "signer"));

		if (key && who && !strcmp(key, fingerprint)) {
			name_skeleton(who, skel, skel_len);
			snprintf(owner, owner_len, "%s (first signed %s)", who,
				 json_string_value(json_object_get(o, "utc")) ?: "?");
			json_decref(o);
			return 1;
		}
		json_decref(o);   /* a torn or foreign line names no one */
		p += len + (nl != NULL);
	}
	return 0;
}

int signers_claim(const char *path, const char *fingerprint, const char *signer,
		  char *owner, size_t owner_len)
{
	char mine[512], theirs[512], utc[32], *text = NULL;
	struct stat st;
	json_t *line;
	int fd, r = 0;

	owner[0] = '\0';
	/* not a FIFO, a directory or a device: opened without blocking, then
	 * looked at */
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (flock(fd, LOCK_EX) != 0) {
		r = -errno;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	text = calloc(1, (size_t)st.st_size + 1);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	if (pread(fd, text, (size_t)st.st_size, 0) != st.st_size) {
		r = -EIO;
		goto out;
	}
	name_skeleton(signer, mine, sizeof(mine));
	if (find_owner(text, fingerprint, theirs, sizeof(theirs), owner, owner_len)) {
		r = strcmp(mine, theirs) ? -EEXIST : 0;
		goto out;
	}
	owner[0] = '\0';
	rig_utc_now_iso(utc);
	line = json_pack("{s:s, s:s, s:s}", "key", fingerprint, "signer", signer, "utc", utc);
	{
		char *s = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		size_t len = s ? strlen(s) : 0;

		json_decref(line);
		if (!s) {
			r = -ENOMEM;
			goto out;
		}
		s = realloc(s, len + 2);
		s[len++] = '\n';
		/* a torn last line (a full disk before) is closed first */
		if (st.st_size && text[st.st_size - 1] != '\n' && write(fd, "\n", 1) != 1)
			r = -EIO;
		if (r == 0 && write(fd, s, len) != (ssize_t)len)
			r = -EIO;
		if (r == 0 && fsync(fd) != 0)
			r = -errno;
		free(s);
	}
out:
	free(text);
	close(fd);   /* and the lock */
	return r;
}

/* The one explicit list of every backend a bench file can name.  Adding a
 * backend means adding its descriptor here, nothing else. */
#include "driver.h"

#include <string.h>

extern const struct backend sim_backend;
extern const struct backend iio_backend;
extern const struct backend pumplink_backend;
extern const struct backend mtsics_backend;
extern const struct backend gpiod_backend;

static const struct backend *const backends[] = {
	&sim_backend,
	&iio_backend,
	&pumplink_backend,
	&mtsics_backend,
	&gpiod_backend,
};

const struct backend *backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

const char *backend_names(void)
{
	return "sim, iio, pumplink, mtsics, gpiod";
}

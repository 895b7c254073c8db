/* Image configs: image_config_parse() accepts or refuses any bytes without a
 * crash, a leak or undefined behaviour; what is accepted holds only valid diff
 * IDs, and vessel's own JSON for it parses back to the same config. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/manifest.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count(char **l)
{
	size_t n = 0;
	while (l && l[n])
		n++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_image_config_ struct image_config *c = NULL;
	if (image_config_parse(data, size, &c, &err) < 0) {
		if (err == NULL || err->msg == NULL || c != NULL)
			abort();
		return 0;
	}
	if (c->architecture == NULL || c->os == NULL)
		abort();
	for (size_t i = 0; c->diff_ids && c->diff_ids[i]; i++)
		if (!digest_is_valid(c->diff_ids[i]))
			abort();

	size_t len = 0;
	_cleanup_free_ char *json = image_config_to_json(c, &len);
	if (json == NULL)
		return 0; /* out of memory */
	_cleanup_image_config_ struct image_config *back = NULL;
	if (image_config_parse(json, len, &back, &err) < 0)
		abort();
	if (count(back->diff_ids) != count(c->diff_ids) || back->n_history != c->n_history ||
	    count(back->config.env) != count(c->config.env) ||
	    count(back->config.exposed_ports) != count(c->config.exposed_ports) ||
	    back->config.n_labels != c->config.n_labels || strcmp(back->os, c->os) != 0)
		abort();
	return 0;
}

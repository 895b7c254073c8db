/* Image manifests as registries and archives serve them: manifest_kind_of()
 * and manifest_parse() accept or refuse any bytes without a crash, a leak or
 * undefined behaviour; what is accepted holds only valid digests and sizes,
 * and vessel's own JSON for it parses back to the same manifest. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/manifest.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_descriptor(const struct descriptor *d)
{
	if (d->media_type == NULL || !digest_is_valid(d->digest) || d->size < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	{
		_cleanup_error_ struct vsl_error *err = NULL;
		enum manifest_kind kind;
		if (manifest_kind_of(NULL, data, size, &kind, &err) < 0 && (err == NULL || err->msg == NULL))
			abort();
	}

	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_manifest_ struct manifest *m = NULL;
	if (manifest_parse(data, size, &m, &err) < 0) {
		if (err == NULL || err->msg == NULL || m != NULL)
			abort();
		return 0;
	}
	check_descriptor(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		check_descriptor(&m->layers[i]);

	size_t len = 0;
	_cleanup_free_ char *json = manifest_to_json(m, &len);
	if (json == NULL)
		return 0; /* out of memory */
	_cleanup_manifest_ struct manifest *back = NULL;
	if (manifest_parse(json, len, &back, &err) < 0)
		abort();
	if (back->n_layers != m->n_layers || strcmp(back->config.digest, m->config.digest) != 0 ||
	    back->config.size != m->config.size || back->n_annotations != m->n_annotations)
		abort();
	for (size_t i = 0; i < m->n_layers; i++)
		if (strcmp(back->layers[i].digest, m->layers[i].digest) != 0 ||
		    back->layers[i].size != m->layers[i].size)
			abort();
	return 0;
}

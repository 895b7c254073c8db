/* Image indexes (manifest lists): image_index_parse() accepts or refuses any
 * bytes without a crash, a leak or undefined behaviour; platform selection on
 * what it accepts returns one of its entries or says why not, and vessel's own
 * JSON for it parses back to the same index. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/manifest.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_select(const struct image_index *idx, const char *platform)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	struct platform want = {0};
	if (platform_parse(platform, &want, &err) < 0)
		abort();
	const struct descriptor *d = NULL;
	int r = image_index_select(idx, &want, "fuzz", &d, &err);
	platform_release(&want);
	if (r < 0) {
		if (err == NULL || err->msg == NULL)
			abort();
		return;
	}
	if (d < idx->manifests || d >= idx->manifests + idx->n_manifests || d->platform == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_image_index_ struct image_index *idx = NULL;
	if (image_index_parse(data, size, &idx, &err) < 0) {
		if (err == NULL || err->msg == NULL || idx != NULL)
			abort();
		return 0;
	}
	for (size_t i = 0; i < idx->n_manifests; i++)
		if (!digest_is_valid(idx->manifests[i].digest) || idx->manifests[i].size < 0)
			abort();
	check_select(idx, "linux/amd64");
	check_select(idx, "linux/arm/v7");
	check_select(idx, "linux/arm64");

	size_t len = 0;
	_cleanup_free_ char *json = image_index_to_json(idx, &len);
	if (json == NULL)
		return 0; /* out of memory */
	_cleanup_image_index_ struct image_index *back = NULL;
	if (image_index_parse(json, len, &back, &err) < 0)
		abort();
	if (back->n_manifests != idx->n_manifests)
		abort();
	for (size_t i = 0; i < idx->n_manifests; i++)
		if (strcmp(back->manifests[i].digest, idx->manifests[i].digest) != 0 ||
		    (back->manifests[i].platform == NULL) != (idx->manifests[i].platform == NULL))
			abort();
	return 0;
}

#include "engine/disk-usage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/container-store.h"
#include "engine/containers.h"
#include "engine/engine-internal.h"
#include "engine/volume-store.h"
#include "engine/volumes.h"
#include "image/image-db.h"
#include "image/images.h"
#include "storage/overlay.h"
#include "storage/tree.h"
#include "util/cleanup.h"
#include "util/error.h"

void disk_usage_free(struct disk_usage *du)
{
	if (du == NULL)
		return;
	for (size_t i = 0; i < du->n_images; i++)
		image_record_free(du->images[i]);
	free(du->images);
	free(du->image_containers);
	container_record_list_free(du->containers, du->n_containers);
	free(du->container_sizes);
	free(du->container_volumes);
	volume_record_list_free(du->volumes, du->n_volumes);
	free(du->volume_sizes);
	free(du);
}

int disk_usage_get(struct engine *e, struct disk_usage **ret, struct vsl_error **err)
{
	struct disk_usage *du = calloc(1, sizeof(*du));
	if (du == NULL)
		return vsl_error_errno(err, ENOMEM, "disk usage");
	int r = images_list(e->images, &du->images, &du->n_images, err);
	if (r >= 0)
		r = containers_list(e, &du->containers, &du->n_containers, err);
	if (r >= 0)
		r = volumes_list(e, &du->volumes, &du->n_volumes, err);
	if (r >= 0) {
		du->image_containers = calloc(du->n_images + 1, sizeof(unsigned));
		du->container_sizes = calloc(du->n_containers + 1, sizeof(uint64_t));
		du->container_volumes = calloc(du->n_containers + 1, sizeof(unsigned));
		du->volume_sizes = calloc(du->n_volumes + 1, sizeof(uint64_t));
		if (!du->image_containers || !du->container_sizes || !du->container_volumes ||
		    !du->volume_sizes)
			r = vsl_error_errno(err, ENOMEM, "disk usage");
	}
	if (r < 0) {
		disk_usage_free(du);
		return r;
	}
	for (size_t i = 0; i < du->n_containers; i++) {
		const struct container_record *c = du->containers[i];
		for (size_t k = 0; k < du->n_images; k++)
			if (strcmp(du->images[k]->id, c->image_id) == 0)
				du->image_containers[k]++;
		struct volume_mount_record *rows = NULL;
		size_t n_rows = 0;
		if (volume_store_mounts_of(e->db, c->id, &rows, &n_rows, NULL) >= 0)
			for (size_t k = 0; k < n_rows; k++)
				du->container_volumes[i] += rows[k].volume != NULL;
		volume_mount_list_free(rows, n_rows);
		_cleanup_close_ int diff = -EBADF;
		/* A layer gone meanwhile (removed by another vessel) counts as empty. */
		if (overlay_diff_dirfd(e->root_dirfd, c->id, &diff, NULL) >= 0)
			tree_size(diff, &du->container_sizes[i], NULL);
	}
	for (size_t i = 0; i < du->n_volumes; i++)
		volumes_size(e, du->volumes[i]->name, &du->volume_sizes[i], NULL);
	*ret = du;
	return 0;
}

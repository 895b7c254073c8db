/* What `vessel system df` reports: the images, containers (their read-write
 * layers) and volumes under a root, with their sizes and whether anything
 * uses them, gathered in one place for the CLI and the API's /system/df.
 *
 *     _cleanup_disk_usage_ struct disk_usage *du = NULL;
 *     disk_usage_get(e, &du, err);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct engine;
struct vsl_error;
struct image_record;
struct container_record;
struct volume_record;

struct disk_usage {
	struct image_record **images;
	size_t n_images;
	unsigned *image_containers; /* per image: how many containers use it */
	struct container_record **containers;
	size_t n_containers;
	uint64_t *container_sizes;   /* per container: bytes of its rw layer */
	unsigned *container_volumes; /* per container: volumes it mounts */
	struct volume_record **volumes;
	size_t n_volumes;
	uint64_t *volume_sizes;
};

int disk_usage_get(struct engine *e, struct disk_usage **ret, struct vsl_error **err);
void disk_usage_free(struct disk_usage *du);
static inline void disk_usage_freep(struct disk_usage **du)
{
	disk_usage_free(*du);
}
#define _cleanup_disk_usage_ __attribute__((cleanup(disk_usage_freep)))

/* Volumes as Docker users know them: named or anonymous directories that
 * outlive containers, made by `volume create` or on first use by
 * `-v NAME:/path`, `--mount type=volume`, `-v /path` and the image's VOLUME
 * entries, removed only when no container uses them.
 *
 *     volumes_create(e, "data", &(struct volume_create_opts){0}, &name, err);
 *     volumes_remove(e, "data", false, err);      (in use: Docker's message)
 *
 * The container lifecycle calls in at three points:
 *
 *     volumes_attach(e, id, create, image, err);   containers_create: which
 *             volume goes where (made now, as Docker does), recorded with the
 *             container;
 *     volumes_prepare(e, id, rootfd, &mounts, &n, err);   each start: driver
 *             mounts, copy-up of the image's content into new empty volumes,
 *             the bind mounts for oci_spec_input.volumes;
 *     volumes_release(e, id);                      each stop: unmount what no
 *             running container needs any more.
 *
 * Records live in the "volume" room of the state database; data under
 * <root>/volumes/<name>/_data (storage/volume-local.h). The order of every
 * change is such that a crash at any point loses no data: a volume's
 * directory is deleted only after the removal of its record committed, and a
 * directory without a record is a leftover of exactly that (or of a create
 * that never committed, still empty). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct engine;
struct vsl_error;
struct container_create;
struct image_config;
struct oci_spec_volume;
struct volume_record;

/* The label Docker 23+ puts on anonymous volumes. */
#define VOLUME_ANONYMOUS_LABEL "com.docker.volume.anonymous"

struct volume_create_opts {
	const char *driver; /* NULL or "local" */
	char **labels;      /* "key=value" */
	char **options;     /* "key=value": type, device, o */
};

/* name NULL: a generated 64-hex name. An existing volume of that name is
 * returned as it is (Docker: create is idempotent) unless the options differ. */
int volumes_create(struct engine *e, const char *name, const struct volume_create_opts *o, char **ret_name,
                   struct vsl_error **err);
int volumes_get(struct engine *e, const char *name, struct volume_record **ret, struct vsl_error **err);
/* Every volume, by name, with how many containers use it. */
int volumes_list(struct engine *e, struct volume_record ***ret, size_t *ret_n, struct vsl_error **err);
/* Docker's `volume inspect` object (CreatedAt, Driver, Labels, Mountpoint,
 * Name, Options, Scope), as malloc'd JSON text. */
int volumes_inspect(struct engine *e, const char *name, char **ret_json, struct vsl_error **err);
/* In use: -EBUSY, "remove NAME: volume is in use - [ID, ...]". force: a
 * missing volume is no error (it does not remove a used one, as Docker). */
int volumes_remove(struct engine *e, const char *name, bool force, struct vsl_error **err);
/* Removes unused volumes: anonymous ones, or all with `all`. *ret_names
 * the removed (may be NULL), *ret_reclaimed their bytes. */
int volumes_prune(struct engine *e, bool all, char ***ret_names, uint64_t *ret_reclaimed,
                  struct vsl_error **err);
/* Bytes in the volume's directory. */
int volumes_size(struct engine *e, const char *name, uint64_t *ret, struct vsl_error **err);

int volumes_attach(struct engine *e, const char *container_id, const struct container_create *c,
                   const struct image_config *image, struct vsl_error **err);
int volumes_prepare(struct engine *e, const char *container_id, int rootfs_dirfd,
                    struct oci_spec_volume **ret, size_t *ret_n, struct vsl_error **err);
void volumes_release(struct engine *e, const char *container_id);
/* The anonymous volumes of a container that is removed (or being removed):
 * each goes unless another container uses it; the container's mount rows go. */
int volumes_remove_anonymous(struct engine *e, const char *container_id, struct vsl_error **err);

void oci_spec_volumes_free(struct oci_spec_volume *v, size_t n);

/* Docker's "Mounts" of `inspect`: the container's binds, volumes (its own
 * and those of --volumes-from) and tmpfs of --mount, ordered by destination;
 * *ret a JSON array. */
typedef struct json_t json_t;
int volumes_mount_points(struct engine *e, const char *container_id, const struct container_create *c,
                         json_t **ret, struct vsl_error **err);

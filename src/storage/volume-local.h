/* The local volume driver, as Docker's: a volume is the directory
 * <root>/volumes/<name>/_data, which containers get bind-mounted. With the
 * driver options type=, device= and o= a filesystem is mounted on _data
 * while containers use it, as `mount -t TYPE -o O DEVICE _data` would:
 * a tmpfs with a size limit, a bind of a host directory, an NFS export.
 *
 *     volume_local_create(root_dirfd, "data", err);
 *     volume_local_mount(root_dirfd, "data", &(struct volume_local_opts){
 *             .type = "tmpfs", .device = "tmpfs", .o = "size=10m"}, err);
 *     ... bind <root>/volumes/data/_data into containers ...
 *     volume_local_unmount(root_dirfd, "data", err);
 *     volume_local_remove(root_dirfd, "data", err);
 *
 * The caller serialises these per volume (the engine holds a lock): the
 * driver keeps no state besides the directories and the mounts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vsl_error;
struct json_kv;

#define VOLUME_LOCAL_DIR "volumes"

struct volume_local_opts {
	const char *type, *device, *o; /* all NULL: a plain directory */
};

/* Docker's checks of the driver options: only type, device and o ("invalid
 * option: \"x\""); a type needs a device. */
int volume_local_opts_parse(const struct json_kv *opts, size_t n, struct volume_local_opts *ret,
                            struct vsl_error **err);

/* Makes <root>/volumes/<name>/_data; -EEXIST when <name> is already there. */
int volume_local_create(int root_dirfd, const char *name, struct vsl_error **err);
/* Removes <root>/volumes/<name> after unmounting _data; what a mount left
 * mounted would expose is never deleted (-EBUSY). Absent: 0. */
int volume_local_remove(int root_dirfd, const char *name, struct vsl_error **err);
/* Mounts the options' filesystem on _data unless it is mounted already;
 * a plain directory needs nothing. */
int volume_local_mount(int root_dirfd, const char *name, const struct volume_local_opts *o,
                       struct vsl_error **err);
int volume_local_unmount(int root_dirfd, const char *name, struct vsl_error **err);
bool volume_local_is_mounted(int root_dirfd, const char *name);
/* An O_RDONLY|O_DIRECTORY fd of _data (of what is mounted there, if anything). */
int volume_local_open_data(int root_dirfd, const char *name, int *ret_fd, struct vsl_error **err);
/* "<root>/volumes/<name>/_data", malloc'd; NULL when out of memory. */
char *volume_local_data_path(const char *root, const char *name);
/* Docker's rule for names of local volumes: [a-zA-Z0-9][a-zA-Z0-9_.-]+ . */
bool volume_local_name_valid(const char *name);

/* A container's root filesystem from the outside: `cp`, `diff`, `export`
 * and `commit`.
 *
 *     container_fs_copy_from(e, "web", "/etc/hosts", "./hosts", -1, &opts, err);
 *     container_fs_copy_to(e, "web", "./app", -1, "/srv/", &opts, err);
 *     container_fs_export(e, "web", fd, err);
 *
 * Paths inside a container are always resolved by the kernel inside its root
 * (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS on the overlay's merged
 * directory): a symlink in the container to /etc/shadow names the container's
 * /etc/shadow, never the host's. A stopped container's root is mounted for
 * the time of the call. What crosses between the two sides is a tar stream
 * (libarchive), written and read through file descriptors, and Docker's
 * rules decide where it lands (a missing DEST is created; "SRC/." copies a
 * directory's content; a directory never overwrites a file). Volumes and
 * bind mounts of a running container are not seen: only its root. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct engine;
struct vsl_error;
struct overlay_change;

struct container_cp_opts {
	bool archive;     /* -a: keep the source's uid/gid (else: root's inside, the caller's outside) */
	bool follow_link; /* -L: a symlink as SRC is copied as what it points to */
};

/* `cp CONTAINER:SRC DEST`: dest a host path, or NULL for `-`: the tar of SRC
 * to out_fd. */
int container_fs_copy_from(struct engine *e, const char *container, const char *src, const char *dest,
                           int out_fd, const struct container_cp_opts *o, struct vsl_error **err);
/* `cp SRC CONTAINER:DEST`: src a host path, or NULL for `-`: a tar read from
 * in_fd is extracted into DEST, which must be a directory. */
int container_fs_copy_to(struct engine *e, const char *container, const char *src, int in_fd,
                         const char *dest, const struct container_cp_opts *o, struct vsl_error **err);

/* `diff`: the changes against the image, sorted by path (storage/overlay.h). */
int container_fs_changes(struct engine *e, const char *container, struct overlay_change **ret, size_t *ret_n,
                         struct vsl_error **err);

/* `export`: an uncompressed tar of the whole root filesystem to out_fd. */
int container_fs_export(struct engine *e, const char *container, int out_fd, struct vsl_error **err);

struct container_commit_opts {
	const char *name;    /* REPOSITORY[:TAG]; NULL: a dangling image */
	const char *message; /* -m */
	const char *author;  /* -a */
	char **changes;      /* -c: Dockerfile lines */
	bool pause;          /* -p: the container is frozen while its layer is read */
};
/* `commit`: a new image from the container's image and its changes; the
 * container's own settings (Cmd, Entrypoint, Env, User, WorkingDir, Labels,
 * ExposedPorts, Volumes, StopSignal) become the image's. *ret_id: "sha256:...". */
int container_fs_commit(struct engine *e, const char *container, const struct container_commit_opts *o,
                        char **ret_id, struct vsl_error **err);

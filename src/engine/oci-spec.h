/* From a container's create body (engine/create-config.h) and its image's
 * config to the OCI runtime config.json the runtime starts it from, with
 * Docker's defaults: the same args, env, user, capabilities, seccomp
 * profile, namespaces, mounts, masked paths, device rules and resources
 * dockerd would give the container.
 *
 *     struct oci_spec_input in = {
 *             .create = c, .image = img, .id = id, .name = "web",
 *             .rootfs = "/var/lib/vessel/.../merged", .rootfs_dirfd = rootfd,
 *             .hosts_path = ..., .hostname_path = ..., .resolv_conf_path = ...,
 *     };
 *     _cleanup_free_ char *json = NULL;
 *     if (oci_spec_build(&in, &json, err) < 0) ...
 *
 * Nothing on the host changes: host paths are only stat()ed (devices, the
 * device numbers of blkio limits) and the image's /etc/passwd and /etc/group
 * are read through rootfs_dirfd, inside the root. Errors carry Docker's
 * messages where it has them ("no command specified", "unable to find user
 * app: no matching entries in passwd file").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "runtime/config.h" /* enum ns_type */

struct vsl_error;
struct container_create;
struct image_config;

/* Where --init's binary appears in the container: on the /dev tmpfs, so the
 * image needs no file for it. */
#define OCI_SPEC_INIT_PATH "/dev/init"
/* The default parent of containers' cgroups: cgroupsPath "/vessel/<id>". */
#define OCI_SPEC_CGROUP_PARENT "vessel"

struct oci_spec_input {
	const struct container_create *create;
	const struct image_config *image; /* NULL for none */
	const char *id;                   /* 64 hex */
	const char *name;
	const char *rootfs; /* absolute path of the mounted root */
	int rootfs_dirfd;   /* the same, opened: /etc/passwd and /etc/group are read through it */
	/* Files the engine made, bind-mounted at /etc/hostname, /etc/hosts,
	 * /etc/resolv.conf (NULL: none). With NetworkMode "host" the engine passes
	 * the host's /etc/hosts and /etc/resolv.conf. */
	const char *hostname_path, *hosts_path, *resolv_conf_path;
	const char *cgroup_parent; /* NULL: OCI_SPEC_CGROUP_PARENT; HostConfig.CgroupParent wins */
	const char *init_path;     /* the host's init binary for HostConfig.Init; NULL: --init unsupported */
	/* Namespaces to join (/proc/<pid>/ns/net of the container that
	 * NetworkMode, IpcMode or PidMode "container:<x>" names): the engine
	 * resolves them. A "container:" mode without its path is an error. */
	const char *ns_paths[NS_COUNT];
	char **extra_mounts_json; /* OCI mount objects as JSON text, after all others; may be NULL */
	/* The volumes the engine resolved (engine/volumes.h): every
	 * CREATE_MOUNT_VOLUME spec of the create body needs one at its
	 * destination; more (anonymous, --volumes-from) may come. Bind-mounted
	 * like Binds entries, sorted with them. */
	const struct oci_spec_volume *volumes;
	size_t n_volumes;
};

struct oci_spec_volume {
	char *destination; /* absolute and clean */
	char *source;      /* the host directory: <root>/volumes/<name>/_data, or a bind's path */
	bool read_only;
};

/* *ret_json: malloc'd config.json text that oci_config_parse() accepts. */
int oci_spec_build(const struct oci_spec_input *in, char **ret_json, struct vsl_error **err);

/* The signal that stops the container: --stop-signal, else the image's
 * StopSignal, else NULL (SIGTERM). image may be NULL. */
const char *oci_spec_stop_signal(const struct container_create *c, const struct image_config *image);

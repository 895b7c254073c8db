/* Device nodes in the container's /dev.
 *
 * Nodes are made with mknodat() relative to an fd of their directory that
 * resolve.c opened inside the root; whatever the image left at that name
 * (a symlink /dev/null -> /etc/shadow) is unlinked first, never followed.
 * In a new user namespace mknod is not allowed: an empty file is created the
 * same way and the host's device is bind-mounted onto its fd.
 *
 *     devices_setup(rootfd, config, true, new_userns, err);
 */
#pragma once

#include <stdbool.h>

struct vsl_error;
struct oci_config;

/* with_defaults: the spec mounted a fresh /dev: make the default devices
 * (null, zero, full, random, urandom, tty), the /dev/fd, stdin, stdout,
 * stderr (and core) symlinks and /dev/ptmx -> pts/ptmx. linux.devices are
 * always made. */
int devices_setup(int rootfd, const struct oci_config *c, bool with_defaults, bool new_userns,
                  struct vsl_error **err);

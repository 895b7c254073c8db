/* The mountpoints every container's root needs and most images lack
 * (/etc/hosts, /etc/hostname, /etc/resolv.conf), made once per image as a
 * read-only layer over its layers: `<root>/layers/<top chain>/init`, beside
 * the top layer's diff and removed with it.
 *
 *     _cleanup_free_ char *init = NULL;
 *     init_layer_ensure(lowers, &init, err);   (lowers: top layer first)
 *     ... mount the overlay with init (if not NULL) as the topmost lower ...
 *
 * A container's start then creates nothing in its own layer: no inode is
 * allocated and freed per `run --rm`, and `diff` and `commit` see what
 * Docker's do (its per-container "-init" layer holds the same files).
 *
 * Only what the image lacks is made. The init layer's /etc carries the
 * owner, mode and times of the image's /etc, because overlay shows a
 * directory with the attributes of the topmost layer that has it. An image
 * whose /etc is not a directory gets an empty init layer: the runtime makes
 * the mountpoints in the container's layer then, as before. The layer is
 * made under a temporary name and renamed, so it is whole when seen; two
 * starts making it at once both use the one that was renamed first. */
#pragma once

struct vsl_error;

/* *ret_path: the init layer of the image whose layer directories lowers
 * lists (top first, NULL-terminated), made if missing; NULL for an image
 * without layers. */
int init_layer_ensure(char *const *lowers, char **ret_path, struct vsl_error **err);

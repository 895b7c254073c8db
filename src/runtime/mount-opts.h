/* OCI mount option strings ("ro", "rbind", "rnosuid", "mode=755", ...) parsed
 * into what the new mount API wants: mount attributes for the mount itself
 * and for its whole tree (mount_setattr AT_RECURSIVE), superblock flags for
 * fsconfig, a propagation change, and the remaining filesystem data.
 *
 *     struct mount_opts o;
 *     if (mount_opts_parse(m->options, &o, err) < 0) ...
 *     ...
 *     mount_opts_clear(&o);
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct vsl_error;

struct mount_opts {
	/* MOUNT_ATTR_* for the top mount, and for every mount of the tree (r*). */
	uint64_t attr_set, attr_clr;
	uint64_t rec_attr_set, rec_attr_clr;
	/* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE or 0; recursive for r*. */
	unsigned long propagation;
	bool propagation_rec;
	bool bind, rbind, remount, idmap, ridmap, tmpcopyup;
	/* Superblock flags for fsconfig(FSCONFIG_SET_FLAG): "sync", "dirsync",
	 * "mand", "lazytime" and their negations. NULL-terminated. */
	char **sb_flags;
	/* Everything else, in order: "mode=755", "size=65536k", "newinstance".
	 * NULL-terminated. */
	char **data;
};

int mount_opts_parse(char *const *options, struct mount_opts *ret, struct vsl_error **err);
void mount_opts_clear(struct mount_opts *o);

/* Propagation names as in linux.rootfsPropagation and mount options:
 * "shared", "rslave", ... Returns 0 and sets *ret_flag and *ret_rec, or -EINVAL. */
int mount_propagation_parse(const char *name, unsigned long *ret_flag, bool *ret_rec);

/* "mode=755,size=65536k" for messages and for mount(2) fallbacks; malloc'ed. */
char *mount_opts_data_string(const struct mount_opts *o);

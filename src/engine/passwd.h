/* Users and groups of a container image: Docker's `User` ("name", "uid",
 * "name:group", "uid:gid") and `GroupAdd` resolved through the image's own
 * /etc/passwd and /etc/group, with runc's rules (which Docker uses):
 *
 *   - a number is a uid (or gid) even when no entry has it; a name must have one;
 *   - the gid is the user's primary group unless a group is given;
 *   - without an explicit group, the groups listing the user by name are its
 *     additional gids; GroupAdd entries (names or numbers) come after them.
 *
 * The files are read through rootfd with openat2(RESOLVE_IN_ROOT), so an
 * image whose /etc/passwd is a symlink to "/../../etc/shadow" reads its own
 * root, never the host's. Only regular files are read.
 *
 *     struct passwd_user u = {0};
 *     if (passwd_resolve(rootfd, "app:staff", group_add, &u, err) < 0) ...
 *     passwd_user_release(&u);
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct vsl_error;

struct passwd_user {
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t n_additional_gids;
};

/* spec NULL or "": root (uid 0) as the image's passwd has it. Unknown names
 * fail as Docker's do: "unable to find user app: no matching entries in
 * passwd file", "unable to find group staff: no matching entries in group
 * file", "Unable to find group video: no matching entries in group file". */
int passwd_resolve(int rootfd, const char *spec, char *const *group_add, struct passwd_user *ret,
                   struct vsl_error **err);
void passwd_user_release(struct passwd_user *u);

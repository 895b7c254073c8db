/* User and group names of an image, read inside its root. */
#include "engine/passwd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

/* Far beyond any real passwd file; bounds what a hostile image makes us read. */
#define PASSWD_MAX_SIZE (8u << 20)

#define NO_PASSWD "no matching entries in passwd file"
#define NO_GROUP  "no matching entries in group file"

/* The file's content, or NULL (and 0) when the image has none. */
static int read_in_root(int rootfd, const char *path, char **ret, struct vsl_error **err)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			*ret = NULL;
			return 0;
		}
		return vsl_error_errno(err, errno, "open '/%s' in the container", path);
	}
	/* O_NONBLOCK and this check: a fifo or device named /etc/passwd must not hang or flood us. */
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vsl_error_errno(err, errno, "stat '/%s' in the container", path);
	if (!S_ISREG(st.st_mode))
		return vsl_error_set_code(err, EINVAL, "'/%s' in the container is not a regular file", path);
	if ((uint64_t)st.st_size > PASSWD_MAX_SIZE)
		return vsl_error_set_code(err, EFBIG, "'/%s' in the container is larger than %u bytes", path,
		                          PASSWD_MAX_SIZE);
	_cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		return vsl_error_errno(err, ENOMEM, "read '/%s' in the container", path);
	ssize_t n = read_all(fd, buf, (size_t)st.st_size);
	if (n < 0)
		return vsl_error_errno(err, errno, "read '/%s' in the container", path);
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

/* "123" -> 123; anything but digits (or beyond 32 bits) is not an id. */
static bool parse_id(const char *s, uint32_t *ret)
{
	if (s == NULL || s[0] == '\0' || strlen(s) > 10)
		return false;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	/* (uid_t)-1 means "unchanged" to setresuid: not an id. */
	if (v >= UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/* Splits one line at ':' into up to max fields (empty fields kept); returns the count. */
static size_t split_fields(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (n < max && p != NULL)
		fields[n++] = strsep(&p, ":");
	return n;
}

/* Calls fn for each well-formed line; fn returns > 0 to stop. */
typedef int (*line_fn)(char **fields, size_t n, void *userdata);

static int each_line(const char *content, size_t want_fields, line_fn fn, void *userdata)
{
	if (content == NULL)
		return 0;
	_cleanup_free_ char *dup = strdup(content);
	if (dup == NULL)
		return -ENOMEM;
	char *save = NULL;
	for (char *line = strtok_r(dup, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);
		if (len > 0 && line[len - 1] == '\r')
			line[len - 1] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		char *fields[7] = {0};
		size_t n = split_fields(line, fields, want_fields);
		if (n < want_fields - 1)
			continue;
		int r = fn(fields, n, userdata);
		if (r != 0)
			return r;
	}
	return 0;
}

/* ---- passwd ---- */

struct user_query {
	const char *name; /* match by name, or */
	bool by_uid;
	uint32_t uid; /* by uid */
	bool found;
	char *matched_name;
	uint32_t found_uid, found_gid;
};

static int match_user(char **f, size_t n, void *userdata)
{
	struct user_query *q = userdata;
	uint32_t uid, gid;
	(void)n;
	if (!parse_id(f[2], &uid) || !parse_id(f[3], &gid))
		return 0;
	if (q->by_uid ? uid != q->uid : strcmp(f[0], q->name) != 0)
		return 0;
	/* The first match wins, even when more follow. */
	q->found = true;
	q->found_uid = uid;
	q->found_gid = gid;
	q->matched_name = strdup(f[0]);
	return q->matched_name ? 1 : -ENOMEM;
}

/* ---- group ---- */

struct group_query {
	const char *name; /* a group by name (or by its number as text), or */
	bool by_gid;
	uint32_t gid;
	const char *member; /* all groups listing this user */
	gid_t *gids;
	size_t n_gids;
};

static int add_gid(gid_t **gids, size_t *n, gid_t g)
{
	for (size_t i = 0; i < *n; i++)
		if ((*gids)[i] == g)
			return 0;
	gid_t *a = realloc(*gids, (*n + 1) * sizeof(gid_t));
	if (a == NULL)
		return -ENOMEM;
	a[(*n)++] = g;
	*gids = a;
	return 0;
}

static int match_group(char **f, size_t n, void *userdata)
{
	struct group_query *q = userdata;
	uint32_t gid;
	if (!parse_id(f[2], &gid))
		return 0;
	if (q->member != NULL) {
		if (n < 4)
			return 0;
		char *p = f[3];
		for (char *m = strsep(&p, ","); m; m = strsep(&p, ","))
			if (strcmp(m, q->member) == 0)
				return add_gid(&q->gids, &q->n_gids, gid) < 0 ? -ENOMEM : 0;
		return 0;
	}
	if (q->by_gid ? gid != q->gid : strcmp(f[0], q->name) != 0)
		return 0;
	return add_gid(&q->gids, &q->n_gids, gid) < 0 ? -ENOMEM : 1;
}

/* ---- public ---- */

void passwd_user_release(struct passwd_user *u)
{
	if (u == NULL)
		return;
	free(u->additional_gids);
	u->additional_gids = NULL;
	u->n_additional_gids = 0;
}

int passwd_resolve(int rootfd, const char *spec, char *const *group_add, struct passwd_user *ret,
                   struct vsl_error **err)
{
	_cleanup_free_ char *user_arg = strdup(spec ? spec : "");
	if (user_arg == NULL)
		return vsl_error_errno(err, ENOMEM, "resolve user");
	char *group_arg = strchr(user_arg, ':');
	if (group_arg != NULL)
		*group_arg++ = '\0';
	/* "name:" names no group, as runc's parser has it. */
	if (group_arg != NULL && group_arg[0] == '\0')
		group_arg = NULL;

	_cleanup_free_ char *passwd = NULL, *group = NULL;
	int r = read_in_root(rootfd, "etc/passwd", &passwd, err);
	if (r < 0)
		return r;

	uint32_t uid_num = 0, gid_num = 0;
	bool uid_is_num = parse_id(user_arg, &uid_num);
	bool gid_is_num = group_arg && parse_id(group_arg, &gid_num);

	struct user_query uq = {.name = user_arg};
	if (user_arg[0] == '\0') {
		uq.by_uid = true; /* no user: root, as the image's passwd names it */
		uq.uid = 0;
	} else if (uid_is_num) {
		uq.by_uid = true;
		uq.uid = uid_num;
	}
	r = each_line(passwd, 7, match_user, &uq);
	_cleanup_free_ char *matched_name = uq.matched_name;
	if (r < 0)
		return vsl_error_errno(err, -r, "read /etc/passwd");

	struct passwd_user u = {0};
	if (uq.found) {
		u.uid = uq.found_uid;
		u.gid = uq.found_gid;
	} else if (user_arg[0] != '\0') {
		if (!uid_is_num) {
			if (user_arg[strspn(user_arg, "0123456789")] == '\0')
				return vsl_error_set_code(err, EINVAL, "uid %s is out of range", user_arg);
			return vsl_error_set_code(err, ENOENT, "unable to find user %s: " NO_PASSWD,
			                          user_arg);
		}
		u.uid = uid_num;
	}

	if (group_arg != NULL || matched_name != NULL) {
		r = read_in_root(rootfd, "etc/group", &group, err);
		if (r < 0)
			return r;
	}

	_cleanup_free_ gid_t *gids = NULL;
	size_t n_gids = 0;
	if (group_arg != NULL) {
		struct group_query gq = {.name = group_arg, .by_gid = gid_is_num, .gid = gid_num};
		r = each_line(group, 4, match_group, &gq);
		if (r < 0) {
			free(gq.gids);
			return vsl_error_errno(err, -r, "read /etc/group");
		}
		if (gq.n_gids > 0) {
			u.gid = gq.gids[0];
		} else {
			if (!gid_is_num)
				return vsl_error_set_code(err, ENOENT, "unable to find group %s: " NO_GROUP,
				                          group_arg);
			u.gid = gid_num;
		}
		free(gq.gids);
	} else if (matched_name != NULL) {
		/* Supplementary groups only in the implicit form, as runc does. */
		struct group_query gq = {.member = matched_name};
		r = each_line(group, 4, match_group, &gq);
		gids = gq.gids;
		n_gids = gq.n_gids;
		if (r < 0)
			return vsl_error_errno(err, -r, "read /etc/group");
	}

	for (char *const *g = group_add; g && *g; g++) {
		uint32_t gid;
		if (group == NULL) {
			r = read_in_root(rootfd, "etc/group", &group, err);
			if (r < 0)
				return r;
		}
		struct group_query gq = {.name = *g};
		r = each_line(group, 4, match_group, &gq);
		if (r < 0) {
			free(gq.gids);
			return vsl_error_errno(err, -r, "read /etc/group");
		}
		if (gq.n_gids > 0)
			gid = gq.gids[0];
		else if (!parse_id(*g, &gid)) {
			free(gq.gids);
			return vsl_error_set_code(err, ENOENT, "Unable to find group %s: " NO_GROUP, *g);
		}
		free(gq.gids);
		if (add_gid(&gids, &n_gids, gid) < 0)
			return vsl_error_errno(err, ENOMEM, "resolve groups");
	}

	u.additional_gids = TAKE_PTR(gids);
	u.n_additional_gids = n_gids;
	*ret = u;
	return 0;
}

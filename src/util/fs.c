#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/random.h"

ssize_t write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len, struct vsl_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open '%s'", name);

	size_t cap = 4096, len = 0;
	_cleanup_free_ char *buf = malloc(cap + 1);
	if (buf == NULL)
		return vsl_error_errno(err, ENOMEM, "read '%s'", name);
	for (;;) {
		if (len == cap) {
			if (cap >= max)
				return vsl_error_set(err, "read '%s': larger than %zu bytes", name, max);
			cap = cap * 2 > max ? max : cap * 2;
			char *n = realloc(buf, cap + 1);
			if (n == NULL)
				return vsl_error_errno(err, ENOMEM, "read '%s'", name);
			buf = n;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return vsl_error_errno(err, errno, "read '%s'", name);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         struct vsl_error **err)
{
	_cleanup_free_ char *tmp = NULL;
	if (asprintf(&tmp, ".%s.tmp%d", name, (int)getpid()) < 0)
		return vsl_error_errno(err, ENOMEM, "write '%s'", name);
	_cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return vsl_error_errno(err, errno, "create '%s'", tmp);
	if (write_all(fd, data, len) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return vsl_error_errno(err, e, "write '%s'", name);
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return vsl_error_errno(err, e, "rename '%s' to '%s'", tmp, name);
	}
	return 0;
}

int write_string_at(int dirfd, const char *name, const char *value, struct vsl_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open '%s'", name);
	if (write_all(fd, value, strlen(value)) < 0)
		return vsl_error_errno(err, errno, "write '%s' to '%s'", value, name);
	return 0;
}

int rm_rf_at(int parent, const char *name)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;

	_cleanup_close_ int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (d == NULL)
		return -errno;
	int dfd = TAKE_FD(fd);
	(void)dfd; /* owned by d now */
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int q = rm_rf_at(dirfd(d), de->d_name);
		if (q < 0 && r == 0)
			r = q;
	}
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

int rename_noreplace_at(int dirfd, const char *from, const char *to)
{
	int r = renameat2(dirfd, from, dirfd, to, RENAME_NOREPLACE);
	if (r < 0 && errno == EINVAL)
		r = renameat(dirfd, from, dirfd, to);
	if (r < 0)
		return errno == ENOTEMPTY ? -EEXIST : -errno;
	return 0;
}

int remove_by_rename_at(int dirfd, const char *name, const char *prefix, char *del, size_t del_size)
{
	for (int i = 0;; i++) {
		random_tmp_name(del, del_size, prefix);
		int r = rename_noreplace_at(dirfd, name, del);
		if (r == 0)
			break;
		del[0] = '\0';
		if (r == -ENOENT) /* removed by someone else meanwhile */
			return 0;
		if (r != -EEXIST || i == 100)
			return r;
	}
	int r = rm_rf_at(dirfd, del);
	return r == -ENOENT ? 0 : r;
}

#include "runtime/cloned-binary.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#define CLONED_ENV "_VESSEL_RUNTIME_CLONED"

extern char **environ;

/* Our own argv, from the kernel: callers may have shifted theirs. */
static char **read_argv(void)
{
	char *text = NULL;
	size_t len = 0;
	if (read_file_at(AT_FDCWD, "/proc/self/cmdline", 1 << 20, &text, &len, NULL) < 0)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += text[i] == '\0';
	char **argv = calloc(n + 1, sizeof(char *));
	if (argv == NULL) {
		free(text);
		return NULL;
	}
	size_t k = 0;
	for (size_t i = 0; i < len && k < n; i += strlen(text + i) + 1)
		argv[k++] = text + i;
	return argv; /* text is owned through argv[0] for the rest of the process */
}

static int readonly_mount_fd(void)
{
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int sealed_memfd(void)
{
	_cleanup_close_ int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return -errno;
	struct stat st;
	if (fstat(src, &st) < 0)
		return -errno;
	_cleanup_close_ int mfd = memfd_create("vessel-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -errno;
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
	}
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		return -errno;
	return TAKE_FD(mfd);
}

static char *original_path;

const char *cloned_binary_original(void)
{
	return original_path;
}

int cloned_binary_ensure(struct vsl_error **err)
{
	/* CLONED_ENV carries where we came from: helpers installed beside the
	 * binary are found from there, not from the detached copy. */
	const char *from = getenv(CLONED_ENV);
	if (from != NULL) {
		free(original_path);
		original_path = *from == '/' ? strdup(from) : NULL;
		unsetenv(CLONED_ENV);
		return 0;
	}
	/* Installed on a read-only file system already: nothing to protect. */
	struct statvfs sv;
	if (statvfs("/proc/self/exe", &sv) == 0 && (sv.f_flag & ST_RDONLY))
		return 0;

	char **argv = read_argv();
	if (argv == NULL)
		return vsl_error_errno(err, ENOMEM, "read our own command line");
	int fd = readonly_mount_fd();
	if (fd < 0)
		fd = sealed_memfd();
	if (fd < 0)
		return vsl_error_errno(err, -fd, "make a protected copy of the runtime binary");
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	if (setenv(CLONED_ENV, n > 0 ? self : "1", 1) < 0)
		return vsl_error_errno(err, errno, "setenv");
	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	int e = errno;
	unsetenv(CLONED_ENV);
	close(fd);
	return vsl_error_errno(err, e, "re-execute the runtime from its protected copy");
}

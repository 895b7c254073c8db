#include "runtime/console.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mount.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/resolve.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

int console_open(unsigned rows, unsigned cols, int *ret_master, int *ret_slave, struct vsl_error **err)
{
	_cleanup_close_ int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return vsl_error_errno(err, errno, "open '/dev/pts/ptmx' (is devpts mounted on /dev/pts?)");
	struct statfs sfs;
	if (fstatfs(master, &sfs) < 0)
		return vsl_error_errno(err, errno, "statfs '/dev/pts/ptmx'");
	if (sfs.f_type != DEVPTS_SUPER_MAGIC)
		return vsl_error_set(err, "'/dev/pts/ptmx' is not on a devpts file system");
	if (unlockpt(master) < 0)
		return vsl_error_errno(err, errno, "unlock pty");
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return vsl_error_errno(err, errno, "open pty peer");
	if (rows > 0 || cols > 0) {
		struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
		ioctl(slave, TIOCSWINSZ, &ws);
	}
	*ret_master = TAKE_FD(master);
	*ret_slave = slave;
	return 0;
}

int console_bind_dev_console(int slave, struct vsl_error **err)
{
	_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return vsl_error_errno(err, errno, "open '/'");
	/* No /dev at all (a config without one): nothing to bind onto. */
	if (resolve_open_quiet(rootfd, "/dev", O_PATH | O_DIRECTORY, 0) == -ENOENT)
		return 0;
	_cleanup_close_ int target = resolve_mkfile_p(rootfd, "/dev/console", 0600, err);
	if (target < 0)
		return vsl_error_prefix(err, "make /dev/console");
	_cleanup_close_ int tree =
	    (int)syscall(SYS_open_tree, slave, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return vsl_error_errno(err, errno, "bind the pty on /dev/console");
	if (syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	    0)
		return vsl_error_errno(err, errno, "bind the pty on /dev/console");
	return 0;
}

int console_become_stdio(int slave, struct vsl_error **err)
{
	if (setsid() < 0)
		return vsl_error_errno(err, errno, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return vsl_error_errno(err, errno, "set controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return vsl_error_errno(err, errno, "dup pty to fd %d", fd);
	return 0;
}

int console_send_master(int sock, int master, struct vsl_error **err)
{
	char name[128];
	if (ptsname_r(master, name, sizeof(name)) != 0)
		snprintf(name, sizeof(name), "/dev/ptmx");
	struct iovec iov = {.iov_base = name, .iov_len = strlen(name)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		return vsl_error_errno(err, errno, "send pty master to console socket");
	return 0;
}

int console_socket_connect(const char *path, int *ret_fd, struct vsl_error **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path))
		return vsl_error_set(err, "console socket path '%s' is too long", path);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vsl_error_errno(err, errno, "console socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return vsl_error_errno(err, errno, "connect to console socket '%s'", path);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static void copy_window_size(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

/* Moves what is readable from `from` to `to`; returns false at EOF or error. */
static bool pump(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	return write_all(to, buf, (size_t)n) >= 0;
}

/* Our stdin to the master, watching for the detach sequence: *matched is how
 * much of it the previous reads ended with (held back, not yet sent). Returns
 * false at EOF or error; sets *detach once the whole sequence came. */
static bool pump_input(int master, const char *keys, size_t *matched, bool *detach)
{
	char buf[8192], out[8192 + 64];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	size_t len = 0, klen = keys ? strlen(keys) : 0;
	for (ssize_t i = 0; i < n && !*detach; i++) {
		if (klen && buf[i] == keys[*matched]) {
			*detach = ++*matched == klen;
			continue;
		}
		/* Not the sequence after all: what was held back goes through. */
		memcpy(out + len, keys, *matched);
		len += *matched;
		*matched = 0;
		if (klen && buf[i] == keys[0])
			*matched = 1;
		else
			out[len++] = buf[i];
	}
	return write_all(master, out, len) >= 0;
}

bool console_proxy(int master, int pidfd, const char *detach_keys)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios saved;
	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		copy_window_size(STDIN_FILENO, master);
	} else {
		tty = false;
	}

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	bool in_open = true, out_open = true, detach = false;
	size_t matched = 0;
	while (out_open && !detach) {
		struct pollfd p[4] = {
		    {.fd = master, .events = POLLIN},
		    {.fd = in_open ? STDIN_FILENO : -1, .events = POLLIN},
		    {.fd = sfd, .events = POLLIN},
		    {.fd = pidfd, .events = POLLIN},
		};
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
			out_open = pump(master, STDOUT_FILENO);
		if (in_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			in_open = pump_input(master, tty ? detach_keys : NULL, &matched, &detach);
			if (!in_open) {
				/* EOF on our stdin: send the terminal's EOF character. */
				write(master, "\x04", 1);
			}
		}
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) > 0)
				copy_window_size(STDIN_FILENO, master);
		}
		if ((p[3].revents & POLLIN) && !(p[0].revents & POLLIN))
			break;
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	return detach;
}

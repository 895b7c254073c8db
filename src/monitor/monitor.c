/* vessel-monitor: the parent of one detached container.
 *
 *   vessel-monitor --id ID --pid PID
 *       [--stdout-fd N] [--stderr-fd N] [--stdin-fd N] | [--pty-fd N]
 *       --log PATH [--log-max-size BYTES] [--log-max-file N]
 *       --exit-file PATH --attach-socket PATH [--ready-fd N]
 *       [--then PROGRAM ARG...]
 *
 * The engine's child creates and starts the container (its init is then that
 * child's child) and execs this program, which so stays the container's
 * parent. It holds the container's stdio pipes or pty master, writes the
 * output to the json-file log, serves attach clients (src/monitor/protocol.h),
 * reaps the container, writes the exit file and finally execs --then, the
 * engine's cleanup command (--rm, restart policy): the monitor itself knows
 * nothing of the database, the runtime or images.
 *
 * It links against libc only and keeps its memory fixed (a few static
 * buffers; a client's backlog while that client lags behind): one runs per
 * detached container. One thread, one poll loop.
 *
 * The engine must give it stdin/stdout of its choosing (they are replaced by
 * /dev/null so that the monitor never holds the caller's terminal or pipes)
 * and a stderr for its diagnostics (a file or /dev/null). A monitor that
 * fails to start exits 1 without writing to --ready-fd: the engine reads EOF
 * there instead of the byte and then kills the container itself.
 *
 * SIGTERM, SIGINT and SIGHUP are ignored: the container outlives `vessel`,
 * and if the monitor dies anyway the container is not killed for it (the
 * engine then reports the truth from the runtime state). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "monitor/jsonlog.h"
#include "monitor/protocol.h"

#define MAX_CLIENTS 32
#define IO_CHUNK    (16 * 1024)
/* After the container exits, what its other processes still write is read
 * up to this much a stream: a grandchild writing without end must not keep
 * the exit from being recorded. */
#define DRAIN_MAX (4 * 1024 * 1024)
/* How long clients that lag behind get to take their last output. */
#define CLIENT_GRACE_MS 1000

struct output {
	int fd;
	uint8_t stream; /* MONITOR_STREAM_* */
	bool eof;
	struct jsonlog_stream *log;
};

struct client {
	int fd; /* -1: free slot */
	bool input_eof;
	uint8_t hdr[MONITOR_FRAME_HEADER];
	size_t hdr_len; /* < MONITOR_FRAME_HEADER: reading a header */
	uint8_t kind;
	uint32_t remaining; /* of the current frame's payload */
	uint8_t resize[4];
	size_t resize_len;
	char *pending; /* output not yet taken, MONITOR_CLIENT_BACKLOG bytes */
	size_t pending_off, pending_len;
};

static struct {
	const char *id;
	pid_t pid;
	int stdout_fd, stderr_fd, stdin_fd, pty_fd, ready_fd;
	const char *log_path, *exit_file, *socket_path;
	int64_t log_max_size;
	int log_max_file;
	char **then;
} opt = {
    .stdout_fd = -1,
    .stderr_fd = -1,
    .stdin_fd = -1,
    .pty_fd = -1,
    .ready_fd = -1,
    .log_max_size = MONITOR_LOG_MAX_SIZE_DEFAULT,
    .log_max_file = MONITOR_LOG_MAX_FILE_DEFAULT,
};

static struct jsonlog jlog;
/* Named in main(): initialised here they would sit in .data, 32 KiB of file pages. */
static struct jsonlog_stream log_stdout, log_stderr;
static struct output outputs[2];
static size_t n_outputs;
static struct client clients[MAX_CLIENTS];

/* The container's stdin: its pipe or the pty master. Input from clients is
 * queued here; while it is not empty, clients are not read (no growth). */
static int input_fd = -1;
static bool close_input_requested;
static char input_buf[IO_CHUNK];
static size_t input_off, input_len;

static int listen_fd = -1, signal_fd = -1;
static sigset_t saved_mask;

static bool exited;
static int exit_status;
static struct timespec finished_at;

static char read_buf[IO_CHUNK];

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "vessel-monitor: %s: ", opt.id ? opt.id : "?");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void usage(void)
{
	fputs("usage: vessel-monitor --id ID --pid PID [--stdout-fd N] [--stderr-fd N] [--stdin-fd N]\n"
	      "       [--pty-fd N] --log PATH [--log-max-size BYTES] [--log-max-file N]\n"
	      "       --exit-file PATH --attach-socket PATH [--ready-fd N] [--then PROGRAM ARG...]\n",
	      stderr);
}

static bool parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

static int parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--then") == 0) {
			if (i + 1 >= argc) {
				warn("--then needs a program");
				return -1;
			}
			opt.then = argv + i + 1;
			break;
		}
		if (i + 1 >= argc) {
			warn("'%s' needs a value", a);
			return -1;
		}
		const char *v = argv[++i];
		int64_t n = 0;
		bool ok = true;
		int *fd = NULL;
		if (strcmp(a, "--id") == 0)
			opt.id = v;
		else if (strcmp(a, "--log") == 0)
			opt.log_path = v;
		else if (strcmp(a, "--exit-file") == 0)
			opt.exit_file = v;
		else if (strcmp(a, "--attach-socket") == 0)
			opt.socket_path = v;
		else if (strcmp(a, "--pid") == 0) {
			ok = parse_int64(v, 1, INT32_MAX, &n);
			opt.pid = (pid_t)n;
		} else if (strcmp(a, "--log-max-size") == 0) {
			ok = parse_int64(v, 0, INT64_MAX, &n);
			opt.log_max_size = n;
		} else if (strcmp(a, "--log-max-file") == 0) {
			ok = parse_int64(v, 1, 1000, &n);
			opt.log_max_file = (int)n;
		} else if (strcmp(a, "--stdout-fd") == 0)
			fd = &opt.stdout_fd;
		else if (strcmp(a, "--stderr-fd") == 0)
			fd = &opt.stderr_fd;
		else if (strcmp(a, "--stdin-fd") == 0)
			fd = &opt.stdin_fd;
		else if (strcmp(a, "--pty-fd") == 0)
			fd = &opt.pty_fd;
		else if (strcmp(a, "--ready-fd") == 0)
			fd = &opt.ready_fd;
		else {
			warn("unknown option '%s'", a);
			usage();
			return -1;
		}
		if (fd) {
			ok = parse_int64(v, 0, INT32_MAX, &n);
			*fd = (int)n;
		}
		if (!ok) {
			warn("%s: invalid value '%s'", a, v);
			return -1;
		}
	}
	if (!opt.id || !opt.pid || !opt.log_path || !opt.exit_file || !opt.socket_path) {
		warn("--id, --pid, --log, --exit-file and --attach-socket are required");
		usage();
		return -1;
	}
	if (opt.pty_fd >= 0 && (opt.stdout_fd >= 0 || opt.stderr_fd >= 0 || opt.stdin_fd >= 0)) {
		warn("--pty-fd replaces --stdout-fd, --stderr-fd and --stdin-fd");
		return -1;
	}
	return 0;
}

/* The fds we were given become ours: close-on-exec (the --then program must
 * not inherit the container's stdio) and non-blocking (one loop serves all). */
static int adopt_fd(int fd, const char *what)
{
	if (fd < 0)
		return 0;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		warn("%s %d: %s", what, fd, strerror(errno));
		return -1;
	}
	return 0;
}

static void reap(void)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			return;
		if (p == opt.pid && !exited) {
			exited = true;
			exit_status = st;
			clock_gettime(CLOCK_REALTIME, &finished_at);
		}
	}
}

static void handle_signals(void)
{
	struct signalfd_siginfo si;
	while (read(signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo != SIGCHLD)
			warn("ignoring signal %u: the container does not stop with its monitor",
			     si.ssi_signo);
	}
	reap();
}

static int listen_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char via_dir[sizeof(sa.sun_path)];
	int dirfd = -1, r = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		/* Too long for sun_path: bind through /proc/self/fd/<dir>/<name>. */
		const char *slash = strrchr(path, '/');
		char dir[PATH_MAX];
		if (!slash ||
		    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >= (int)sizeof(dir) ||
		    (dirfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		    snprintf(via_dir, sizeof(via_dir), "/proc/self/fd/%d/%s", dirfd, slash + 1) >=
		        (int)sizeof(via_dir)) {
			warn("attach socket path '%s' is too long", path);
			goto out;
		}
		memcpy(sa.sun_path, via_dir, strlen(via_dir) + 1);
	} else
		memcpy(sa.sun_path, path, strlen(path) + 1);

	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (listen_fd < 0) {
		warn("socket: %s", strerror(errno));
		goto out;
	}
	if (unlink(sa.sun_path) < 0 && errno != ENOENT) {
		warn("remove stale '%s': %s", path, strerror(errno));
		goto out;
	}
	/* Attaching means writing to the container's stdin: owner only. */
	mode_t old = umask(0077);
	int b = bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (b < 0 || listen(listen_fd, 16) < 0) {
		warn("listen on '%s': %s", path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (dirfd >= 0)
		close(dirfd);
	return r;
}

static void client_drop(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->pending);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Sends hdr+data to a client without ever blocking: what the socket does
 * not take is queued, and a client whose queue would overflow is dropped. */
static void client_send(struct client *c, const uint8_t *hdr, size_t hdr_len, const char *data, size_t len)
{
	size_t total = hdr_len + len, sent = 0;
	if (c->pending_len == 0) {
		struct iovec iov[2] = {{(void *)hdr, hdr_len}, {(void *)data, len}};
		struct msghdr m = {.msg_iov = hdr_len ? iov : iov + 1, .msg_iovlen = hdr_len ? 2 : 1};
		ssize_t n = sendmsg(c->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				client_drop(c);
				return;
			}
			n = 0;
		}
		sent = (size_t)n;
		if (sent == total)
			return;
	}
	size_t need = total - sent;
	if (c->pending_len + need > MONITOR_CLIENT_BACKLOG) {
		client_drop(c);
		return;
	}
	if (!c->pending) {
		c->pending = malloc(MONITOR_CLIENT_BACKLOG);
		if (!c->pending) {
			client_drop(c);
			return;
		}
	}
	if (c->pending_off + c->pending_len + need > MONITOR_CLIENT_BACKLOG) {
		memmove(c->pending, c->pending + c->pending_off, c->pending_len);
		c->pending_off = 0;
	}
	char *dst = c->pending + c->pending_off + c->pending_len;
	if (sent < hdr_len) {
		memcpy(dst, hdr + sent, hdr_len - sent);
		dst += hdr_len - sent;
		sent = hdr_len;
	}
	memcpy(dst, data + (sent - hdr_len), total - sent);
	c->pending_len += need;
}

static void client_flush(struct client *c)
{
	while (c->pending_len > 0) {
		ssize_t n =
		    send(c->fd, c->pending + c->pending_off, c->pending_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				client_drop(c);
			return;
		}
		c->pending_off += (size_t)n;
		c->pending_len -= (size_t)n;
	}
	free(c->pending);
	c->pending = NULL;
	c->pending_off = 0;
}

static void broadcast(uint8_t stream, const char *data, size_t len)
{
	uint8_t hdr[MONITOR_FRAME_HEADER];
	/* A pty has one stream and Docker sends it raw. */
	size_t hdr_len = opt.pty_fd >= 0 ? 0 : sizeof(hdr);
	monitor_frame_header(hdr, stream, (uint32_t)len);
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			client_send(&clients[i], hdr, hdr_len, data, len);
}

static void accept_clients(void)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		struct client *c = NULL;
		for (size_t i = 0; i < MAX_CLIENTS && !c; i++)
			if (clients[i].fd < 0)
				c = &clients[i];
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
	}
}

static void close_input(void)
{
	/* A pty has no EOF of its own to give; the pipe is closed for the reader to see one. */
	if (input_fd >= 0 && input_fd != opt.pty_fd)
		close(input_fd);
	input_fd = -1;
	input_off = input_len = 0;
}

static void write_input(void)
{
	while (input_len > 0 && input_fd >= 0) {
		ssize_t n = write(input_fd, input_buf + input_off, input_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			/* The container closed its stdin (EPIPE): input has nowhere to go. */
			close_input();
			break;
		}
		input_off += (size_t)n;
		input_len -= (size_t)n;
	}
	input_off = input_len = 0;
	if (close_input_requested && opt.pty_fd < 0)
		close_input();
}

static void frame_done(struct client *c)
{
	if (c->kind == MONITOR_MSG_RESIZE && opt.pty_fd >= 0) {
		struct winsize ws = {
		    .ws_row = (unsigned short)(c->resize[0] << 8 | c->resize[1]),
		    .ws_col = (unsigned short)(c->resize[2] << 8 | c->resize[3]),
		};
		if (ioctl(opt.pty_fd, TIOCSWINSZ, &ws) < 0)
			warn("resize: %s", strerror(errno));
	} else if (c->kind == MONITOR_MSG_CLOSE_STDIN) {
		close_input_requested = true;
		if (input_len == 0)
			write_input();
	}
	c->hdr_len = 0;
}

/* One read a wakeup: poll is level-triggered, and no client hogs the loop. */
static void client_read(struct client *c)
{
	ssize_t n;
	if (c->hdr_len < sizeof(c->hdr)) {
		n = read(c->fd, c->hdr + c->hdr_len, sizeof(c->hdr) - c->hdr_len);
		if (n <= 0)
			goto eof_or_error;
		c->hdr_len += (size_t)n;
		if (c->hdr_len < sizeof(c->hdr))
			return;
		c->remaining = monitor_frame_parse(c->hdr, &c->kind);
		c->resize_len = 0;
		if ((c->kind == MONITOR_MSG_STDIN && c->remaining > MONITOR_MSG_MAX) ||
		    (c->kind == MONITOR_MSG_RESIZE && c->remaining != 4) ||
		    (c->kind == MONITOR_MSG_CLOSE_STDIN && c->remaining != 0) ||
		    c->kind > MONITOR_MSG_CLOSE_STDIN) {
			client_drop(c);
			return;
		}
		if (c->remaining == 0)
			frame_done(c);
		return;
	}
	if (c->kind == MONITOR_MSG_STDIN) {
		size_t want = c->remaining < sizeof(input_buf) ? c->remaining : sizeof(input_buf);
		n = read(c->fd, input_buf, want);
		if (n <= 0)
			goto eof_or_error;
		if (input_fd >= 0) {
			input_off = 0;
			input_len = (size_t)n;
			write_input();
		}
	} else {
		n = read(c->fd, c->resize + c->resize_len, c->remaining);
		if (n <= 0)
			goto eof_or_error;
		c->resize_len += (size_t)n;
	}
	c->remaining -= (uint32_t)n;
	if (c->remaining == 0)
		frame_done(c);
	return;

eof_or_error:
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_drop(c);
		return;
	}
	/* Half-closed: it sends nothing more but may still read output. */
	c->input_eof = true;
}

static struct jsonlog_stream *other_log(const struct output *o)
{
	if (n_outputs < 2)
		return NULL;
	return o == &outputs[0] ? outputs[1].log : outputs[0].log;
}

/* Reads one chunk of a stream. Returns false at EOF (or nothing to read). */
static bool read_output(struct output *o)
{
	ssize_t n = read(o->fd, read_buf, sizeof(read_buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (n <= 0) {
		/* EOF, or EIO: the pty's last slave is closed. */
		o->eof = true;
		jsonlog_end_stream(&jlog, o->log, other_log(o), &now);
		return false;
	}
	jsonlog_feed(&jlog, o->log, read_buf, (size_t)n, &now);
	broadcast(o->stream, read_buf, (size_t)n);
	return true;
}

static void loop(void)
{
	/* signal, listen, 2 outputs, input, clients */
	struct pollfd pfd[5 + MAX_CLIENTS];
	while (!exited) {
		pfd[0] = (struct pollfd){.fd = signal_fd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
		for (size_t i = 0; i < 2; i++)
			pfd[2 + i] = (struct pollfd){
			    .fd = i < n_outputs && !outputs[i].eof ? outputs[i].fd : -1, .events = POLLIN};
		pfd[4] = (struct pollfd){.fd = input_len > 0 ? input_fd : -1, .events = POLLOUT};
		for (size_t i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];
			short ev = (c->fd >= 0 && !c->input_eof && input_len == 0 ? POLLIN : 0) |
			           (c->pending_len > 0 ? POLLOUT : 0);
			/* Not polled while it may neither read nor write: a hang-up
			 * would wake us in a loop; the next send notices it. */
			pfd[5 + i] = (struct pollfd){.fd = ev ? c->fd : -1, .events = ev};
		}
		if (poll(pfd, sizeof(pfd) / sizeof(pfd[0]), -1) < 0) {
			if (errno == EINTR)
				continue;
			warn("poll: %s", strerror(errno));
			exit(1);
		}
		if (pfd[0].revents)
			handle_signals();
		/* New clients first: they get the output read in this round. */
		if (pfd[1].revents)
			accept_clients();
		for (size_t i = 0; i < n_outputs; i++)
			if (pfd[2 + i].revents)
				read_output(&outputs[i]);
		if (pfd[4].revents)
			write_input();
		for (size_t i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];
			short re = pfd[5 + i].revents;
			if (c->fd < 0 || pfd[5 + i].fd < 0 || !re)
				continue;
			if ((re & POLLOUT) || (re & (POLLHUP | POLLERR) && c->pending_len > 0))
				client_flush(c);
			if (c->fd >= 0 && (re & (POLLIN | POLLHUP | POLLERR)) && !c->input_eof &&
			    input_len == 0)
				client_read(c);
			if (c->fd >= 0 && (re & (POLLHUP | POLLERR)) && c->input_eof)
				client_drop(c);
		}
		jsonlog_flush(&jlog);
	}
}

static int write_exit_file(void)
{
	/* By hand, libc only: numbers and a timestamp, nothing to escape. */
	char time[JSONLOG_TIME_LEN + 1], buf[256], tmp[PATH_MAX];
	int code = 0, sig = 0;
	if (WIFEXITED(exit_status))
		code = WEXITSTATUS(exit_status);
	else if (WIFSIGNALED(exit_status)) {
		sig = WTERMSIG(exit_status);
		code = 128 + sig;
	}
	jsonlog_format_time(&finished_at, time, sizeof(time));
	int len = snprintf(buf, sizeof(buf),
	                   "{\"exit_code\":%d,\"signal\":%d,\"finished_at\":\"%s\",\"oom_killed\":false}\n",
	                   code, sig, time);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", opt.exit_file) >= (int)sizeof(tmp)) {
		warn("exit file path '%s' is too long", opt.exit_file);
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0) {
		warn("write '%s': %s", tmp, strerror(errno));
		return -1;
	}
	ssize_t w = write(fd, buf, (size_t)len);
	int r = w == len ? 0 : -1;
	if (w < 0)
		warn("write '%s': %s", tmp, strerror(errno));
	if (close(fd) < 0)
		r = -1;
	if (r == 0 && rename(tmp, opt.exit_file) < 0) {
		warn("rename '%s': %s", tmp, strerror(errno));
		r = -1;
	}
	if (r < 0)
		unlink(tmp);
	return r;
}

static void finish(void)
{
	struct timespec now;
	/* What the container wrote before it exited is in the pipes (or the
	 * pty, whose pending input a read flushes): take it all. */
	for (size_t i = 0; i < n_outputs; i++) {
		size_t drained = 0;
		while (!outputs[i].eof && drained < DRAIN_MAX && read_output(&outputs[i]))
			drained += sizeof(read_buf);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	for (size_t i = 0; i < n_outputs; i++)
		jsonlog_end_stream(&jlog, outputs[i].log, other_log(&outputs[i]), &now);
	jsonlog_close(&jlog);

	int r = write_exit_file();

	close_input();
	for (size_t i = 0; i < n_outputs; i++)
		close(outputs[i].fd);

	/* Clients get a moment to take their last output, then EOF. */
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd[MAX_CLIENTS];
		size_t n = 0;
		for (size_t i = 0; i < MAX_CLIENTS; i++)
			if (clients[i].fd >= 0 && clients[i].pending_len > 0)
				pfd[n++] = (struct pollfd){.fd = clients[i].fd, .events = POLLOUT};
		clock_gettime(CLOCK_MONOTONIC, &now);
		long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (n == 0 || elapsed >= CLIENT_GRACE_MS)
			break;
		if (poll(pfd, n, (int)(CLIENT_GRACE_MS - elapsed)) < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < MAX_CLIENTS; i++)
			if (clients[i].fd >= 0 && clients[i].pending_len > 0)
				client_flush(&clients[i]);
	}
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		client_drop(&clients[i]);
	close(listen_fd);
	unlink(opt.socket_path);
	close(signal_fd);

	if (r < 0)
		exit(1);
	if (!opt.then)
		exit(0);
	/* The cleanup command starts as any program would: no subreaper (it survives
	 * execve), default SIGPIPE, the signal mask we were given. */
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	execv(opt.then[0], opt.then);
	warn("exec '%s': %s", opt.then[0], strerror(errno));
	exit(127);
}

int main(int argc, char **argv)
{
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	log_stdout.name = "stdout";
	log_stderr.name = "stderr";
	if (parse_args(argc, argv) < 0)
		return 1;

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &saved_mask) < 0 ||
	    (signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		warn("signalfd: %s", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	siginfo_t si;
	if (waitid(P_PID, (id_t)opt.pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
		warn("pid %d: %s (not a child of the monitor)", (int)opt.pid, strerror(errno));
		return 1;
	}
	/* Grandchildren of an init that dies are reaped here too, not by pid 1. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	if (adopt_fd(opt.stdout_fd, "--stdout-fd") < 0 || adopt_fd(opt.stderr_fd, "--stderr-fd") < 0 ||
	    adopt_fd(opt.stdin_fd, "--stdin-fd") < 0 || adopt_fd(opt.pty_fd, "--pty-fd") < 0)
		return 1;
	if (opt.ready_fd >= 0 && fcntl(opt.ready_fd, F_SETFD, FD_CLOEXEC) < 0) {
		warn("--ready-fd %d: %s", opt.ready_fd, strerror(errno));
		return 1;
	}
	if (opt.pty_fd >= 0) {
		outputs[n_outputs++] = (struct output){opt.pty_fd, MONITOR_STREAM_STDOUT, false, &log_stdout};
		input_fd = opt.pty_fd;
	} else {
		if (opt.stdout_fd >= 0)
			outputs[n_outputs++] =
			    (struct output){opt.stdout_fd, MONITOR_STREAM_STDOUT, false, &log_stdout};
		if (opt.stderr_fd >= 0)
			outputs[n_outputs++] =
			    (struct output){opt.stderr_fd, MONITOR_STREAM_STDERR, false, &log_stderr};
		input_fd = opt.stdin_fd;
	}

	int r = jsonlog_open(&jlog, opt.log_path, opt.log_max_size, opt.log_max_file);
	if (r < 0) {
		warn("open log '%s': %s", opt.log_path, strerror(-r));
		return 1;
	}
	if (listen_socket(opt.socket_path) < 0)
		return 1;

	/* Never hold the caller's terminal or pipes open. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		for (int fd = 0; fd <= 1; fd++)
			if (fd != opt.stdout_fd && fd != opt.stderr_fd && fd != opt.stdin_fd &&
			    fd != opt.pty_fd && fd != opt.ready_fd)
				dup2(null, fd);
		close(null);
	}

	/* A container that exited before we got here is a zombie already. */
	reap();
	if (opt.ready_fd >= 0) {
		ssize_t w;
		do
			w = write(opt.ready_fd, "R", 1);
		while (w < 0 && errno == EINTR);
		close(opt.ready_fd);
	}
	loop();
	finish();
	return 0;
}

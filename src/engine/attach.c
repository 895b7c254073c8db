/* The attach client: one poll loop over stdin, the monitor's socket and a
 * signalfd (SIGWINCH for resizes, the proxied signals). Input goes out in
 * MONITOR_MSG_STDIN frames, with the detach key sequence held back until it
 * is either complete (detach) or broken (the held bytes go out after all). */
#include "engine/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "engine/container-store.h"
#include "engine/containers.h"
#include "engine/create-config.h"
#include "engine/engine-internal.h"
#include "monitor/protocol.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#define BUF_SIZE 32768

int attach_parse_detach_keys(const char *spec, char **ret, struct vsl_error **err)
{
	_cleanup_free_ char *keys = malloc(strlen(spec) + 1);
	if (keys == NULL)
		return vsl_error_errno(err, ENOMEM, "detach keys");
	size_t n = 0;
	const char *p = spec;
	while (*p) {
		size_t len = strcspn(p, ",");
		if (len == 1) {
			keys[n++] = p[0];
		} else if (len == 6 && strncmp(p, "ctrl-", 5) == 0) {
			char c = p[5];
			if (c >= 'a' && c <= 'z')
				keys[n++] = (char)(c - 'a' + 1);
			else if (c >= 'A' && c <= 'Z')
				keys[n++] = (char)(c - 'A' + 1);
			else if (strchr("@[\\]^_", c))
				keys[n++] = (char)(c == '@' ? 0 : c - '[' + 27);
			else
				goto bad;
		} else {
			goto bad;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	keys[n] = '\0';
	*ret = TAKE_PTR(keys);
	return 0;
bad:
	return vsl_error_set_code(err, EINVAL, "invalid detach keys (%s) provided", spec);
}

int attach_connect(struct engine *e, const char *id, int *ret_fd, bool *ret_tty, struct vsl_error **err)
{
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_get(e, id, &rec, err);
	if (r < 0)
		return r;
	if (rec->state != CONTAINER_RUNNING && rec->state != CONTAINER_PAUSED)
		return vsl_error_set_code(err, EINVAL,
		                          "cannot attach to a stopped container, start it first");
	struct container_create *c = NULL;
	if ((r = containers_create_config(rec, &c, err)) < 0)
		return r;
	bool tty = c->tty;
	container_create_free(c);
	/* The socket's path may not fit in sun_path: its directory is reached
	 * through /proc/self/fd, as the monitor binds it. */
	_cleanup_free_ char *dir = NULL;
	if (asprintf(&dir, "%s/%s", e->containers_run, rec->id) < 0)
		return vsl_error_errno(err, ENOMEM, "attach");
	_cleanup_close_ int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return vsl_error_errno(err, errno, "open '%s'", dir);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/attach.sock", dirfd);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vsl_error_errno(err, errno, "attach");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return vsl_error_errno(err, errno, "connect to '%s/attach.sock'", dir);
	*ret_tty = tty;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int send_frame(int sock, uint8_t kind, const void *buf, size_t len)
{
	uint8_t h[MONITOR_FRAME_HEADER];
	monitor_frame_header(h, kind, (uint32_t)len);
	if (write_all(sock, h, sizeof(h)) < 0 || (len && write_all(sock, buf, len) < 0))
		return -errno;
	return 0;
}

static void send_resize(int sock, int tty_fd)
{
	struct winsize ws;
	if (tty_fd < 0 || ioctl(tty_fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
		return;
	uint8_t f[MONITOR_FRAME_HEADER + 4];
	monitor_resize_frame(f, ws.ws_row, ws.ws_col);
	write_all(sock, f, sizeof(f));
}

/* The output side: raw bytes (tty) or stream frames, reassembled across reads. */
struct demux {
	bool tty;
	uint8_t head[MONITOR_FRAME_HEADER];
	size_t head_len;
	uint32_t left; /* payload bytes of the current frame still to come */
	int stream_fd;
};

static int demux_feed(struct demux *d, const struct attach_opts *o, const uint8_t *buf, size_t len)
{
	if (d->tty)
		return write_all(o->out_fd, buf, len) < 0 ? -errno : 0;
	while (len > 0) {
		if (d->left == 0) {
			size_t take = MONITOR_FRAME_HEADER - d->head_len;
			if (take > len)
				take = len;
			memcpy(d->head + d->head_len, buf, take);
			d->head_len += take;
			buf += take;
			len -= take;
			if (d->head_len < MONITOR_FRAME_HEADER)
				return 0;
			uint8_t kind;
			d->left = monitor_frame_parse(d->head, &kind);
			d->head_len = 0;
			d->stream_fd = kind == MONITOR_STREAM_STDERR ? o->err_fd : o->out_fd;
			continue;
		}
		size_t take = d->left < len ? d->left : len;
		if (write_all(d->stream_fd, buf, take) < 0)
			return -errno;
		d->left -= (uint32_t)take;
		buf += take;
		len -= take;
	}
	return 0;
}

/* Passes input on, holding back a prefix of the detach sequence (it may
 * span reads). Returns 1 when the sequence is complete. */
static int feed_input(int sock, const char *keys, size_t *matched, const char *buf, size_t len)
{
	size_t nkeys = strlen(keys);
	_cleanup_free_ char *out = malloc(len + nkeys);
	if (out == NULL)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (nkeys && buf[i] == keys[*matched]) {
			if (++*matched == nkeys)
				return n && send_frame(sock, MONITOR_MSG_STDIN, out, n) < 0 ? -errno : 1;
			continue;
		}
		if (*matched > 0) {
			/* Broken: what was held goes out after all. */
			memcpy(out + n, keys, *matched);
			n += *matched;
			*matched = 0;
			if (buf[i] == keys[0]) {
				*matched = 1;
				continue;
			}
		}
		out[n++] = buf[i];
	}
	return n ? send_frame(sock, MONITOR_MSG_STDIN, out, n) : 0;
}

static const int proxied[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

int attach_run(struct engine *e, const char *container, const struct attach_opts *o,
               struct attach_result *ret, struct vsl_error **err)
{
	_cleanup_free_ char *id = NULL;
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = containers_resolve(e, container, &id, err);
	if (r < 0 || (r = containers_get(e, id, &rec, err)) < 0)
		return r;
	struct container_create *c = NULL;
	if ((r = containers_create_config(rec, &c, err)) < 0)
		return r;
	bool open_stdin = c->open_stdin, stdin_once = c->stdin_once;
	container_create_free(c);
	_cleanup_free_ char *keys = NULL;
	if ((r = attach_parse_detach_keys(o->detach_keys ? o->detach_keys : ATTACH_DEFAULT_DETACH_KEYS, &keys,
	                                  err)) < 0)
		return r;
	_cleanup_close_ int sock = -EBADF;
	bool tty = false;
	if ((r = attach_connect(e, id, &sock, &tty, err)) < 0)
		return r;
	int in_fd = open_stdin ? o->in_fd : -1;
	_cleanup_free_ char *buf = NULL;

	sigset_t mask, old;
	sigemptyset(&mask);
	if (tty)
		sigaddset(&mask, SIGWINCH);
	else if (o->sig_proxy)
		for (size_t i = 0; i < sizeof(proxied) / sizeof(proxied[0]); i++)
			sigaddset(&mask, proxied[i]);
	sigprocmask(SIG_BLOCK, &mask, &old);
	_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		r = vsl_error_errno(err, errno, "attach: signalfd");
		goto out;
	}
	int tty_fd = tty ? (isatty(o->out_fd) ? o->out_fd : (in_fd >= 0 && isatty(in_fd) ? in_fd : -1)) : -1;
	send_resize(sock, tty_fd);

	struct demux d = {.tty = tty};
	size_t matched = 0;
	if ((buf = malloc(BUF_SIZE)) == NULL) {
		r = vsl_error_errno(err, ENOMEM, "attach");
		goto out;
	}
	*ret = (struct attach_result){.tty = tty};
	for (;;) {
		struct pollfd p[3] = {
		    {.fd = sock, .events = POLLIN},
		    {.fd = sfd, .events = POLLIN},
		    {.fd = in_fd, .events = POLLIN},
		};
		if (poll(p, in_fd >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = vsl_error_errno(err, errno, "attach: poll");
			goto out;
		}
		if (p[0].revents) {
			ssize_t n = read(sock, buf, BUF_SIZE);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) /* the monitor closes us once the exit file is written */
				break;
			if (demux_feed(&d, o, (uint8_t *)buf, (size_t)n) < 0) {
				r = vsl_error_errno(err, errno, "attach: write output");
				goto out;
			}
		}
		if (p[1].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH)
					send_resize(sock, tty_fd);
				else
					containers_kill(e, id, (int)si.ssi_signo, NULL);
			}
		}
		if (in_fd >= 0 && p[2].revents) {
			ssize_t n = read(in_fd, buf, BUF_SIZE);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				/* Docker closes the container's stdin only for StdinOnce. */
				if (stdin_once)
					send_frame(sock, MONITOR_MSG_CLOSE_STDIN, NULL, 0);
				in_fd = -1;
				continue;
			}
			int k = feed_input(sock, keys, &matched, buf, (size_t)n);
			if (k == 1) {
				ret->detached = true;
				r = 0;
				goto out;
			}
		}
	}
	r = containers_wait(e, id, &ret->status, err);
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

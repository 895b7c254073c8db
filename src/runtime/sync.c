#include "runtime/sync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/cleanup.h"
#include "util/error.h"

struct sync_header {
	int type;
};

int sync_send(int sock, enum sync_type type, const char *text, int fd)
{
	struct sync_header h = {.type = type};
	size_t tlen = text ? strnlen(text, SYNC_TEXT_MAX) : 0;
	struct iovec iov[2] = {
	    {.iov_base = &h, .iov_len = sizeof(h)},
	    {.iov_base = (void *)text, .iov_len = tlen},
	};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
	if (fd >= 0) {
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

int sync_recv(int sock, enum sync_type *ret_type, char **ret_text, int *ret_fd)
{
	struct sync_header h;
	_cleanup_free_ char *text = malloc(SYNC_TEXT_MAX + 1);
	if (text == NULL)
		return -ENOMEM;
	struct iovec iov[2] = {
	    {.iov_base = &h, .iov_len = sizeof(h)},
	    {.iov_base = text, .iov_len = SYNC_TEXT_MAX},
	};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
	    .msg_iov = iov, .msg_iovlen = 2, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	ssize_t n;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n < (ssize_t)sizeof(h))
		return -EPIPE;
	text[n - sizeof(h)] = '\0';

	int fd = -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (ret_fd)
		*ret_fd = fd;
	else if (fd >= 0)
		close(fd);
	*ret_type = (enum sync_type)h.type;
	if (ret_text)
		*ret_text = TAKE_PTR(text);
	return 0;
}

int sync_expect(int sock, enum sync_type want, char **ret_text, struct vsl_error **err)
{
	enum sync_type type;
	_cleanup_free_ char *text = NULL;
	int r = sync_recv(sock, &type, &text, NULL);
	if (r == -EPIPE)
		return vsl_error_set(err, "the other side of the runtime exited unexpectedly");
	if (r < 0)
		return vsl_error_errno(err, -r, "receive from the runtime");
	if (type == SYNC_ERROR)
		return sync_error_from(text, err);
	if (type != want)
		return vsl_error_set(err, "runtime protocol: expected message %d, got %d", want, type);
	if (ret_text)
		*ret_text = TAKE_PTR(text);
	return 0;
}

int sync_send_error(int sock, const struct vsl_error *e)
{
	_cleanup_free_ char *text = NULL;
	if (asprintf(&text, "%d %s", -vsl_error_code(e), vsl_error_message(e)) < 0)
		return -ENOMEM;
	return sync_send(sock, SYNC_ERROR, text, -1);
}

int sync_error_from(const char *text, struct vsl_error **err)
{
	char *end;
	long code = strtol(text, &end, 10);
	if (end == text || *end != ' ' || code < 0 || code > 4095)
		return vsl_error_set(err, "%s", text);
	return vsl_error_set_code(err, code > 0 ? (int)code : 0, "%s", end + 1);
}

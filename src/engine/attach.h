/* `attach`: a client of a detached container's monitor (monitor/protocol.h)
 * that relays the caller's stdin to the container and the container's output
 * to the caller's stdout and stderr, until the container exits or the user
 * types the detach keys.
 *
 *     struct attach_opts o = {.in_fd = 0, .out_fd = 1, .err_fd = 2};
 *     attach_run(e, "web", &o, &res, err);
 *     if (res.detached) ... else exit(res.status);
 *
 * The caller owns its terminal: with a Tty container it puts it in raw mode
 * before and restores it after. attach_connect() alone is for front ends
 * that relay the stream themselves (the API server). */
#pragma once

#include <stdbool.h>

struct engine;
struct vsl_error;

/* Docker's default --detach-keys. */
#define ATTACH_DEFAULT_DETACH_KEYS "ctrl-p,ctrl-q"

struct attach_opts {
	int in_fd; /* -1: --no-stdin (also when the container has no open stdin) */
	int out_fd, err_fd;
	const char *detach_keys; /* NULL: ATTACH_DEFAULT_DETACH_KEYS; "": none */
	/* Signals this process gets (INT, TERM, HUP, QUIT, USR1, USR2) are sent
	 * to the container; only without a tty, as Docker does. */
	bool sig_proxy;
};

struct attach_result {
	bool detached; /* the detach keys were typed: the container runs on */
	int status;    /* else its exit code */
	bool tty;      /* whether the container has a terminal */
};

/* Refused for a container that is not running. */
int attach_run(struct engine *e, const char *container, const struct attach_opts *o,
               struct attach_result *ret, struct vsl_error **err);

/* The container's attach socket, connected (SOCK_CLOEXEC); *ret_tty whether
 * its output is raw (a tty) rather than in stream frames. */
int attach_connect(struct engine *e, const char *id, int *ret_fd, bool *ret_tty, struct vsl_error **err);

/* "ctrl-p,ctrl-q" -> the bytes 0x10 0x11; Docker's key names (a letter,
 * ctrl-a..ctrl-z, ctrl-@, ctrl-[, ctrl-\, ctrl-], ctrl-^, ctrl-_, or one
 * character). -EINVAL with Docker's message for a bad one. */
int attach_parse_detach_keys(const char *spec, char **ret, struct vsl_error **err);

/* The container's terminal: a pty made inside the container's own devpts, its
 * master handed to whoever holds the console socket (runc's protocol: one
 * SCM_RIGHTS message whose payload is the pty's name). */
#pragma once

#include <stdbool.h>

struct vsl_error;

/* Opens /dev/pts/ptmx of the current root (verified to be a devpts) and the
 * peer through TIOCGPTPEER, never through a path (CVE-2025-52565). */
int console_open(unsigned rows, unsigned cols, int *ret_master, int *ret_slave, struct vsl_error **err);
/* Bind-mounts the pty on /dev/console of the current root, as runc does. */
int console_bind_dev_console(int slave, struct vsl_error **err);
/* Makes slave the controlling terminal and stdin/stdout/stderr. */
int console_become_stdio(int slave, struct vsl_error **err);
int console_send_master(int sock, int master, struct vsl_error **err);
/* Connects to the console socket path (on the host, before any pivot). */
int console_socket_connect(const char *path, int *ret_fd, struct vsl_error **err);
/* Foreground `run -t`/`exec -t` without a console socket: copies between our
 * stdio and the master until the container's process exits (pidfd readable).
 * Puts our terminal in raw mode meanwhile and forwards window size changes. */
/* detach_keys (NULL: none), typed on our stdin, end the proxy early (they are
 * not passed on): it returns true then, with the container still running. */
bool console_proxy(int master, int pidfd, const char *detach_keys);

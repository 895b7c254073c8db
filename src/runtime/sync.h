/* Messages between the runtime and the container process it is making, over
 * a SOCK_SEQPACKET socketpair: one message, one record, optionally one fd. */
#pragma once

enum sync_type {
	SYNC_GO = 1,     /* runtime -> child: ids mapped, cgroups made (but cgroups_late): go on */
	SYNC_HOOKS,      /* child -> runtime: mounts done, run prestart/createRuntime */
	SYNC_HOOKS_DONE, /* runtime -> child: text is the state JSON for its own hooks */
	SYNC_CONSOLE,    /* child -> runtime: the pty master (foreground terminal) */
	SYNC_READY,      /* child -> runtime: set up, waiting to be started */
	SYNC_ERROR,      /* child -> runtime: text is the error; the child exits */
	SYNC_PID,        /* intermediate -> runtime: text is the init's pid, fd its pidfd */
	SYNC_CGROUPS,    /* runtime -> child: the rest of its cgroups is made (cgroups_late) */
};

#define SYNC_TEXT_MAX 8192

struct vsl_error;

int sync_send(int sock, enum sync_type type, const char *text, int fd);
/* *ret_text (may be NULL) is malloc'd; *ret_fd gets a passed fd or -1.
 * Returns -EPIPE at end of stream (the peer exited or exec'd). */
int sync_recv(int sock, enum sync_type *ret_type, char **ret_text, int *ret_fd);
/* Receives and checks it is `want`; an SYNC_ERROR becomes the error. */
int sync_expect(int sock, enum sync_type want, char **ret_text, struct vsl_error **err);
/* SYNC_ERROR carries the errno with the message ("<errno> <message>"), so the
 * runtime's caller can tell "command not found" from other failures. */
int sync_send_error(int sock, const struct vsl_error *e);
int sync_error_from(const char *text, struct vsl_error **err);

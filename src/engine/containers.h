/* Containers as Docker users know them: made from an image and a create body,
 * started in the foreground (vessel itself is the parent: nothing else runs)
 * or detached (under a vessel-monitor), stopped, removed.
 *
 *     containers_create(e, body, len, "web", &id, err);
 *     containers_run_attached(e, id, NULL, &status, err); (`vessel run`)
 *     containers_start(e, id, err);                      (`vessel run -d`, `start`)
 *
 * The database records what vessel did; the runtime's state and the monitor's
 * exit file say what happened since (a container that exited while no vessel
 * ran, a monitor killed with -9): containers_refresh() brings the record up
 * to date, and every command that reads a container calls it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct engine;
struct vsl_error;
struct container_record;

/* The image must be present (the caller pulls it). name NULL: a generated one. */
int containers_create(struct engine *e, const char *body, size_t len, const char *name, char **ret_id,
                      struct vsl_error **err);
/* Starts the container attached to vessel's own stdio (a pty proxy with Tty)
 * and waits: *ret_status is its exit code (128+N after signal N). With a
 * terminal, detach_keys (raw bytes, "\x10\x11" for Ctrl-P Ctrl-Q; NULL: none)
 * leave it running under a monitor, and vessel returns 0. */
int containers_run_attached(struct engine *e, const char *id, const char *detach_keys, int *ret_status,
                            struct vsl_error **err);
/* Starts the container under a monitor that outlives this process. */
int containers_start(struct engine *e, const char *id, struct vsl_error **err);
/* What a monitor runs when its container exited: record the exit, release
 * the runtime state and the mount, then --rm or the restart policy. */
int containers_cleanup(struct engine *e, const char *id, struct vsl_error **err);

/* `restart` marks a running container first, so that its stop does not
 * remove a --rm container (Docker's manual restart); the cleanup of that stop
 * takes the mark, and `restart` clears it before starting again. */
void containers_mark_restarting(struct engine *e, const char *id, bool on);

/* Removes what the runtime still holds of containers that have no record
 * (a vessel killed between the two). */
void containers_gc_runtime(struct engine *e);

int containers_resolve(struct engine *e, const char *name_or_id, char **ret_id, struct vsl_error **err);
/* Reconciles the record with the world (see above) and returns it. */
int containers_get(struct engine *e, const char *id, struct container_record **ret, struct vsl_error **err);
int containers_list(struct engine *e, struct container_record ***ret, size_t *ret_n, struct vsl_error **err);
/* The create body the record keeps, parsed (for `container_create_free()`). */
struct container_create;
int containers_create_config(const struct container_record *rec, struct container_create **ret,
                             struct vsl_error **err);

int containers_kill(struct engine *e, const char *id, int sig, struct vsl_error **err);
/* sig (0: the container's stop signal, else the image's, else SIGTERM), then
 * SIGKILL after timeout seconds (<0: the container's). */
int containers_stop(struct engine *e, const char *id, int timeout, int sig, struct vsl_error **err);
/* Waits for the container to stop; *ret_status its exit code. */
int containers_wait(struct engine *e, const char *id, int *ret_status, struct vsl_error **err);
/* force: a running container is killed first. */
int containers_remove(struct engine *e, const char *id, bool force, struct vsl_error **err);

/* Docker's exit code for a failed start: 127 when the command was not found,
 * 126 when it cannot be executed, else 125. */
int containers_start_failure_code(const struct vsl_error *err);

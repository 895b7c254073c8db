/* Container records in the state database (the "container" room of
 * <root>/vessel.db): identity, name, image, the create body as given, and the
 * state the lifecycle last recorded. The processes themselves are the truth
 * about whether a container runs; see engine/containers.c for how the two are
 * reconciled.
 *
 *     _cleanup_container_record_ struct container_record *c = NULL;
 *     container_store_resolve(db, "web", &id, err);
 *     container_store_get(db, id, &c, err);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct vsl_error;

enum container_state {
	CONTAINER_CREATED,
	CONTAINER_RUNNING,
	CONTAINER_PAUSED,
	CONTAINER_RESTARTING,
	CONTAINER_EXITED,
	CONTAINER_DEAD,
	CONTAINER_REMOVING,
};
/* Docker's words: "created", "running", "paused", ... */
const char *container_state_name(enum container_state s);

struct container_record {
	char *id;         /* 64 hex */
	char *name;       /* without Docker's leading '/' */
	char *image_id;   /* sha256:... */
	char *image_name; /* as the user gave it ("ubuntu") */
	char *config;     /* the ContainerCreate body, JSON */
	int64_t created;  /* ns since the epoch, as every time here */
	enum container_state state;
	int pid; /* of the container's init while it runs, else 0 */
	int monitor_pid;
	int64_t started_at, finished_at;
	int exit_code;
	bool oom_killed;
	int restart_count;
	char *error;         /* why the last start failed, or NULL */
	bool stop_requested; /* by `stop` or `kill`: no restart policy applies */
};

void container_record_free(struct container_record *c);
static inline void container_record_freep(struct container_record **c)
{
	container_record_free(*c);
}
#define _cleanup_container_record_ __attribute__((cleanup(container_record_freep)))

int container_store_init(struct db *db, struct vsl_error **err);
/* A new record. A name in use is -EEXIST with Docker's message. */
int container_store_insert(struct db *db, const struct container_record *c, struct vsl_error **err);
int container_store_get(struct db *db, const char *id, struct container_record **ret, struct vsl_error **err);
/* A full id, a name (with or without '/'), or a unique id prefix -> the id.
 * -ENOENT: "no such container: x". */
int container_store_resolve(struct db *db, const char *name_or_id, char **ret_id, struct vsl_error **err);
/* Every container, newest first. */
int container_store_list(struct db *db, struct container_record ***ret, size_t *ret_n,
                         struct vsl_error **err);
void container_record_list_free(struct container_record **l, size_t n);
/* Writes the lifecycle fields (state, pid, monitor_pid, started_at,
 * finished_at, exit_code, oom_killed, restart_count, error, stop_requested) of c. */
int container_store_update(struct db *db, const struct container_record *c, struct vsl_error **err);
int container_store_rename(struct db *db, const char *id, const char *name, struct vsl_error **err);
int container_store_remove(struct db *db, const char *id, struct vsl_error **err);
bool container_store_name_taken(struct db *db, const char *name);
/* Whether any container uses the image; *ret_user gets one such id. */
bool container_store_image_user(struct db *db, const char *image_id, char **ret_user);
/* Whether some container may run in another's network namespace
 * (--network container:...); errs on the side of yes. */
bool container_store_any_joins_netns(struct db *db);

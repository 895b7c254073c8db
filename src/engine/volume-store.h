/* Volume records in the state database (the "volume" room of
 * <root>/vessel.db) and which container mounts which volume where.
 *
 *     volume_store_init(db, err);
 *     volume_store_insert(db, &(struct volume_record){.name = "data", ...}, err);
 *     volume_store_mount_add(db, &(struct volume_mount_record){
 *             .container_id = id, .destination = "/srv", .volume = "data"}, err);
 *
 * A mount row counts while its container's record exists: `rm` of a
 * container leaves its rows behind (so that `rm -v` and --rm can still find
 * its anonymous volumes) and volume_store_gc() drops them later. Callers that
 * check and then change (remove unless in use) do both inside one
 * db_begin()/db_commit(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct vsl_error;
struct json_kv;

struct volume_record {
	char *name;
	char *driver;     /* "local" */
	char *labels;     /* JSON object of strings */
	char *options;    /* JSON object of strings: the driver options */
	int64_t created;  /* ns since the epoch */
	bool anonymous;   /* made for one container (-v /path, VOLUME): prune takes it by default */
	unsigned users;   /* containers that mount it (filled by get and list) */
	unsigned running; /* of those, how many run (by their records) */
};

void volume_record_free(struct volume_record *v);
void volume_record_list_free(struct volume_record **l, size_t n);
static inline void volume_record_freep(struct volume_record **v)
{
	volume_record_free(*v);
}
#define _cleanup_volume_record_ __attribute__((cleanup(volume_record_freep)))

/* One mount of a container: a volume, or (copied by --volumes-from) a bind
 * of a host path. */
struct volume_mount_record {
	char *container_id;
	char *destination;
	char *volume; /* NULL: a bind of source */
	char *source;
	bool read_only;
	bool no_copy;
};
void volume_mount_list_free(struct volume_mount_record *m, size_t n);

int volume_store_init(struct db *db, struct vsl_error **err);
/* -EEXIST when the name is taken. */
int volume_store_insert(struct db *db, const struct volume_record *v, struct vsl_error **err);
/* -ENOENT: "no such volume". */
int volume_store_get(struct db *db, const char *name, struct volume_record **ret, struct vsl_error **err);
int volume_store_list(struct db *db, struct volume_record ***ret, size_t *ret_n, struct vsl_error **err);
int volume_store_delete(struct db *db, const char *name, struct vsl_error **err);

int volume_store_mount_add(struct db *db, const struct volume_mount_record *m, struct vsl_error **err);
int volume_store_mounts_of(struct db *db, const char *container_id, struct volume_mount_record **ret,
                           size_t *ret_n, struct vsl_error **err);
/* Forgets the container's mounts. */
int volume_store_mounts_drop(struct db *db, const char *container_id, struct vsl_error **err);
/* The containers that mount the volume (full ids), existing ones only. */
int volume_store_users(struct db *db, const char *volume, char ***ret_ids, struct vsl_error **err);
/* Whether a container other than except_id that mounts the volume is
 * recorded as running, paused or restarting. */
int volume_store_in_use_by_running(struct db *db, const char *volume, const char *except_id, bool *ret,
                                   struct vsl_error **err);
/* Drops the mount rows of containers that no longer exist. */
int volume_store_gc(struct db *db, struct vsl_error **err);

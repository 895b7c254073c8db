/* Unpacked image layers, one directory per chain ID, at
 * `<root>/layers/<chain hex>/diff`: the lowerdirs of overlay mounts. A layer
 * shared by many images is unpacked once. Beside diff, the top layer of an
 * image may hold `init`, the mountpoints its containers need
 * (storage/init-layer.h), removed with the layer.
 *
 *     _cleanup_layer_ingest_ struct layer_ingest *in = NULL;
 *     _cleanup_close_ int diff = -EBADF;
 *     layer_store_begin(s, chain_id, &in, &diff, err);
 *     ... unpack the layer into diff ...
 *     layer_ingest_commit(in, err);
 *
 * A layer is unpacked into `layers/tmp-<random>/diff` and renamed to its chain
 * ID only when complete, so a layer under its real name is always whole. If
 * another process commits the same chain ID first, ours is dropped and both
 * succeed. Removal renames the layer to `del-<random>` before deleting it, so
 * a crash never leaves a half-removed layer under its real name. Leftovers of
 * crashed ingests and removals are cleared by layer_store_gc(); a live ingest
 * holds a lock on its directory that keeps the collector away.
 *
 * Which layers are in use is recorded in the image database, not here.
 */
#pragma once

#include <stdbool.h>

struct vsl_error;
struct layer_store;
struct layer_ingest;

/* root_dirfd is borrowed; `layers` is created under it as needed. */
int layer_store_open(int root_dirfd, struct layer_store **ret, struct vsl_error **err);
void layer_store_free(struct layer_store *s);

/* False for an invalid chain ID. */
bool layer_store_has(struct layer_store *s, const char *chain_id);

/* Starts unpacking chain_id: returns an empty directory (fd, O_CLOEXEC) to
 * unpack into. The store must outlive the ingest. */
int layer_store_begin(struct layer_store *s, const char *chain_id, struct layer_ingest **ret,
                      int *ret_diff_dirfd, struct vsl_error **err);
/* Makes the layer visible under its chain ID (after syncing the filesystem:
 * the image database will point at it). Succeeds too when another process
 * committed the same layer meanwhile; theirs is kept. */
int layer_ingest_commit(struct layer_ingest *in, struct vsl_error **err);
/* Without a commit, removes what was unpacked. */
void layer_ingest_free(struct layer_ingest *in);

/* Removes a layer; a layer already absent is not an error. */
int layer_store_remove(struct layer_store *s, const char *chain_id, struct vsl_error **err);

/* Absolute path of the layer's diff directory (for overlay's lowerdir), or
 * NULL for an invalid chain ID or out of memory. Does not check existence. */
char *layer_store_diff_path(struct layer_store *s, const char *chain_id);

/* Removes leftovers of crashed ingests and removals: tmp-* and del-*
 * directories last modified more than a minute ago and not locked by a live
 * process. */
int layer_store_gc(struct layer_store *s, struct vsl_error **err);

static inline void layer_store_freep(struct layer_store **s)
{
	layer_store_free(*s);
}
#define _cleanup_layer_store_ __attribute__((cleanup(layer_store_freep)))

static inline void layer_ingest_freep(struct layer_ingest **in)
{
	layer_ingest_free(*in);
}
#define _cleanup_layer_ingest_ __attribute__((cleanup(layer_ingest_freep)))

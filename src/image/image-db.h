/* Image records in the state database (the "image" room of util/db.h): which
 * images exist, their names (tags) and repo digests, and the layers they are
 * made of.
 *
 *     image_db_init(db, err);                       (once per process)
 *     image_db_put(db, &img, layers, n, err);       (after a pull or load)
 *     image_db_resolve(db, "docker.io/library/ubuntu:latest", &id, err);
 *     image_db_get(db, id, &img, err);
 *
 * An image's id is its config digest. Names are stored fully qualified
 * ("docker.io/library/ubuntu:latest"), repo digests as
 * "docker.io/library/ubuntu@sha256:..."; the caller normalizes what the user
 * typed. A name belongs to one image at a time: tagging or pulling moves it,
 * and the image it leaves keeps its other names or becomes dangling.
 *
 * Layers are keyed by chain ID and shared between images; the files behind
 * them (blob store, layer store) are removed by the caller, after
 * image_db_remove() has committed and said which ones no image uses any more.
 *
 * Every function runs in its own transaction (a savepoint when the caller
 * already holds one, see db_begin()), so each leaves the records consistent.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct db;
struct vsl_error;

struct image_record {
	char *id; /* config digest */
	char *manifest_digest;
	char *manifest_media_type;
	int64_t created; /* unix seconds, from the config */
	int64_t added;   /* unix seconds, when first stored here */
	uint64_t size;   /* unpacked bytes of all layers */
	char *architecture, *os, *variant;
	char **names;     /* NULL-terminated, sorted; empty when dangling */
	char **digests;   /* NULL-terminated, sorted */
	char **chain_ids; /* NULL-terminated, base layer first */
};

struct layer_record {
	char *chain_id, *diff_id, *parent;   /* parent: NULL for a base layer */
	char *blob_digest, *blob_media_type; /* a stored blob that unpacks to this layer */
	uint64_t blob_size, size;            /* size: unpacked bytes */
};

/* Creates or updates the room's tables. */
int image_db_init(struct db *db, struct vsl_error **err);

/* Records an image in one transaction: its layers (layers[0] is the base;
 * those already known are kept), the image row (inserted, or updated on a
 * re-pull; `added` is kept from the first time, and 0 means now), and its
 * names and digests, which move here from any other image. Names the image
 * already had are kept. img->chain_ids is ignored: the layers array says it. */
int image_db_put(struct db *db, const struct image_record *img, const struct layer_record *layers,
                 size_t n_layers, struct vsl_error **err);

/* -ENOENT ("no such image") when absent. */
int image_db_get(struct db *db, const char *id, struct image_record **ret, struct vsl_error **err);

/* Finds the image for what a user typed, already normalized by the caller
 * where it is a name: a full name ("docker.io/library/ubuntu:latest"), a
 * name@digest, a full id ("sha256:<hex>"), or an id prefix (1 to 64 hex
 * digits, with or without "sha256:"), which must be unique. A bare word such
 * as "abc123" can be a name or an id prefix: Docker tries the normalized name
 * first, then the word as a prefix, so call this twice in that order.
 * -ENOENT: "no such image"; -EINVAL: an ambiguous prefix. */
int image_db_resolve(struct db *db, const char *name_or_id, char **ret_id, struct vsl_error **err);

/* All images, newest (by created) first. */
int image_db_list(struct db *db, struct image_record ***ret, size_t *ret_n, struct vsl_error **err);

/* Gives image id the name (moving it from another image). -ENOENT if no such image. */
int image_db_tag(struct db *db, const char *id, const char *name, struct vsl_error **err);
/* Removes one name ("repo:tag") or one repo digest ("repo@sha256:...") and
 * nothing else; an image left without any is dangling, not removed.
 * -ENOENT when the name is not recorded. */
int image_db_untag(struct db *db, const char *name, struct vsl_error **err);

/* Removes an image with its names and digests. Returns (NULL-terminated, may
 * be empty; either pointer may be NULL) the chain IDs no other image uses any
 * more, top layer first, and the blob digests no other image uses: this
 * image's config and manifest, then its layers' blobs, top first. The caller removes
 * those layer directories and blobs after this returns. -ENOENT when absent. */
int image_db_remove(struct db *db, const char *id, char ***ret_unused_chain_ids, char ***ret_unused_blobs,
                    struct vsl_error **err);

/* -ENOENT when the layer is not recorded. */
int image_db_get_layer(struct db *db, const char *chain_id, struct layer_record **ret,
                       struct vsl_error **err);

void image_record_free(struct image_record *r);
void image_record_list_free(struct image_record **list, size_t n);
void layer_record_free(struct layer_record *r);

static inline void image_record_freep(struct image_record **r)
{
	image_record_free(*r);
}
#define _cleanup_image_record_ __attribute__((cleanup(image_record_freep)))

static inline void layer_record_freep(struct layer_record **r)
{
	layer_record_free(*r);
}
#define _cleanup_layer_record_ __attribute__((cleanup(layer_record_freep)))

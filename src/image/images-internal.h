/* Shared by the files of the image room (pull.c, push.c, archive.c, images.c). */
#pragma once

#include "image/compress.h"
#include "image/images.h"

struct blob_store;
struct layer_store;

struct images {
	int root_dirfd;
	struct db *db;
	struct blob_store *blobs;
	struct layer_store *layers;
	struct images_config cfg;
	int lock_fd; /* <root>/images.lock, see images_lock() */
};

/* Between "this layer is present, skip it" and recording the image that uses
 * it, a pull must not see the layer deleted; so adding images (pull, load,
 * import) holds this lock shared, and deleting layers and blobs (rmi, prune)
 * holds it exclusive. LOCK_SH or LOCK_EX; released with images_unlock(). */
int images_lock(struct images *im, int how, struct vsl_error **err);
void images_unlock(struct images *im);

/* Unpacks the stored blob @blob into the layer store as @chain_id, unless that
 * layer is there already, and checks that its content is @diff_id. Returns 1
 * with the unpacked size when it made the layer (a failure later must remove
 * it), 0 when the layer was there (the size from its record, when it has one;
 * *ret_size untouched otherwise). */
int images_unpack_blob(struct images *im, const char *blob, const char *chain_id, const char *diff_id,
                       uint64_t *ret_size, struct vsl_error **err);

/* Reads in_fd (a tar, compressed in any way zreader knows) into a new blob
 * compressed with c. ret_diff_id (may be NULL): the digest of the tar itself. */
int images_store_compressed(struct images *im, int in_fd, enum compression c, char ret_diff_id[DIGEST_SIZE],
                            char ret_digest[DIGEST_SIZE], uint64_t *ret_size, struct vsl_error **err);

/* Shared by the files of the image room (pull.c, push.c, archive.c, images.c). */
#pragma once

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

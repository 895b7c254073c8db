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
};

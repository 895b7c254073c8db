#include "engine/reset.h"

#include <errno.h>
#include <stdlib.h>

#include "engine/container-store.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "engine/networks.h"
#include "engine/volume-store.h"
#include "engine/volumes.h"
#include "image/image-db.h"
#include "image/images.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/strv.h"

/* Keeps the first error in *err and drops the later ones: the reset goes on. */
static void keep_first(struct vsl_error **err, struct vsl_error **e, int *r, int rr)
{
	if (rr >= 0 || *e == NULL)
		return;
	if (*r >= 0) {
		*r = rr;
		*err = TAKE_PTR(*e);
	} else {
		vsl_error_free(TAKE_PTR(*e));
	}
}

static void remove_containers(struct engine *e, int *r, struct vsl_error **err)
{
	struct container_record **v = NULL;
	size_t n = 0;
	struct vsl_error *le = NULL;
	int rr = containers_list(e, &v, &n, &le);
	keep_first(err, &le, r, rr);
	for (size_t i = 0; i < n; i++) {
		struct vsl_error *ce = NULL;
		rr = containers_remove(e, v[i]->id, true, &ce);
		if (rr < 0 && ce)
			vsl_error_prefix(&ce, "remove container %.12s", v[i]->id);
		keep_first(err, &ce, r, rr);
	}
	container_record_list_free(v, n);
	/* Runtime state (cgroups, processes) of containers whose record a killed vessel dropped. */
	containers_gc_runtime(e);
}

static void remove_networks(struct engine *e, int *r, struct vsl_error **err)
{
	struct engine_network_env *n = NULL;
	struct vsl_error *ne = NULL;
	int rr = engine_network_env_open(e, &n, &ne);
	if (rr >= 0)
		rr = network_reset(engine_network_env_get(n), &ne);
	keep_first(err, &ne, r, rr);
	engine_network_env_free(n);
}

static void remove_volumes(struct engine *e, int *r, struct vsl_error **err)
{
	struct volume_record **v = NULL;
	size_t n = 0;
	struct vsl_error *le = NULL;
	int rr = volumes_list(e, &v, &n, &le);
	keep_first(err, &le, r, rr);
	for (size_t i = 0; i < n; i++) {
		struct vsl_error *ve = NULL;
		rr = volumes_remove(e, v[i]->name, true, &ve);
		keep_first(err, &ve, r, rr);
	}
	volume_record_list_free(v, n);
}

static void remove_images(struct engine *e, int *r, struct vsl_error **err)
{
	struct images *im = engine_images(e);
	struct image_record **v = NULL;
	size_t n = 0;
	struct vsl_error *le = NULL;
	int rr = images_list(im, &v, &n, &le);
	keep_first(err, &le, r, rr);
	struct remove_opts ro = {.force = true, .in_use = engine_image_in_use, .userdata = e};
	for (size_t i = 0; i < n; i++) {
		struct vsl_error *ie = NULL;
		_cleanup_strv_ char **lines = NULL;
		rr = images_remove(im, v[i]->id, &ro, &lines, &ie);
		if (rr == -ENOENT) { /* went with an image removed before */
			vsl_error_free(TAKE_PTR(ie));
			continue;
		}
		keep_first(err, &ie, r, rr);
	}
	image_record_list_free(v, n);
	struct vsl_error *ge = NULL;
	rr = images_gc(im, NULL, &ge);
	keep_first(err, &ge, r, rr);
}

int engine_system_reset(struct engine *e, struct vsl_error **err)
{
	int r = 0;
	/* Containers first: they hold the networks' endpoints, volumes and images. */
	remove_containers(e, &r, err);
	remove_networks(e, &r, err);
	remove_volumes(e, &r, err);
	remove_images(e, &r, err);
	return r < 0 ? vsl_error_prefix(err, "system reset") : 0;
}

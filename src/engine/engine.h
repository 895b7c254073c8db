/* The engine: what one `vessel` command (or the API server) opens to work on
 * images, containers, networks and volumes under a root. It reads vessel's
 * config file, opens the state database and each room once:
 *
 *     struct engine *e;
 *     engine_open(&(struct engine_opts){.root = "/tmp/r"}, &e, &err);
 *     images_pull(engine_images(e), "ubuntu", &opts, &id, &err);
 *     engine_close(e);
 *
 * The config file is JSON in the spelling of Docker's daemon.json:
 * {"registry-mirrors": [...], "insecure-registries": [...],
 *  "max-concurrent-downloads": 3}. */
#pragma once

#include <stdbool.h>

struct vsl_error;
struct images;
struct db;

#define ENGINE_DEFAULT_ROOT    "/var/lib/vessel"
#define ENGINE_DEFAULT_RUNROOT "/run/vessel"
#define ENGINE_DEFAULT_CONFIG  "/etc/vessel/config.json"

struct engine_opts {
	const char *root;           /* NULL: $VESSEL_ROOT, else ENGINE_DEFAULT_ROOT */
	const char *runroot;        /* NULL: $VESSEL_RUNROOT, else ENGINE_DEFAULT_RUNROOT */
	const char *config_file;    /* NULL: $VESSEL_CONFIG, else ENGINE_DEFAULT_CONFIG (may be absent) */
	char **registry_mirrors;    /* added before the config file's */
	char **insecure_registries; /* added to the config file's */
};

struct engine;

int engine_open(const struct engine_opts *opts, struct engine **ret, struct vsl_error **err);
void engine_close(struct engine *e);
struct images *engine_images(struct engine *e);
const char *engine_root(const struct engine *e);
const char *engine_runroot(const struct engine *e);
struct db *engine_db(struct engine *e);
/* An image_in_use_fn (image/images.h): whether a container uses the image. */
bool engine_image_in_use(void *engine, const char *image_id, char **ret_user);

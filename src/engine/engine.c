#include "engine/engine.h"
#include "engine/engine-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/container-store.h"
#include "engine/volume-store.h"
#include "image/images.h"
#include "util/cleanup.h"
#include "util/db.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strv.h"

#define CONFIG_MAX_SIZE (1u << 20)

static const char *pick(const char *given, const char *env, const char *fallback)
{
	if (given)
		return given;
	const char *v = getenv(env);
	return v && *v ? v : fallback;
}

/* A list of strings from the config file into *list. */
static int config_strings(json_t *root, const char *key, const char *file, char ***list,
                          struct vsl_error **err)
{
	json_t *a = json_object_get(root, key);
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return vsl_error_set(err, "%s: %s: expected an array of strings", file, key);
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return vsl_error_set(err, "%s: %s[%zu]: expected a string", file, key, i);
		if (strv_append(list, json_string_value(v)) < 0)
			return vsl_error_errno(err, ENOMEM, "read %s", file);
	}
	return 0;
}

static int read_config(struct engine *e, const char *file, struct images_config *cfg, struct vsl_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	_cleanup_error_ struct vsl_error *read_err = NULL;
	int r = read_file_at(AT_FDCWD, file, CONFIG_MAX_SIZE, &text, &len, &read_err);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		*err = TAKE_PTR(read_err);
		return r;
	}
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		return vsl_error_set(err, "%s: line %d: %s", file, jerr.line,
		                     root ? "expected an object" : jerr.text);
	}
	r = config_strings(root, "registry-mirrors", file, &e->mirrors, err);
	if (r >= 0)
		r = config_strings(root, "insecure-registries", file, &e->insecure, err);
	json_t *n = json_object_get(root, "max-concurrent-downloads");
	if (r >= 0 && n && !json_is_null(n)) {
		if (!json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) > 16)
			r = vsl_error_set(
			    err, "%s: max-concurrent-downloads: expected an integer from 1 to 16", file);
		else
			cfg->max_concurrent_downloads = (unsigned)json_integer_value(n);
	}
	json_decref(root);
	return r;
}

static int make_dir(const char *path, struct vsl_error **err)
{
	/* Parents too: a test's --root may be a fresh path under /tmp. */
	_cleanup_free_ char *copy = strdup(path);
	if (copy == NULL)
		return vsl_error_errno(err, ENOMEM, "create '%s'", path);
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			return vsl_error_errno(err, errno, "create '%s'", copy);
		*p = '/';
	}
	if (mkdir(copy, 0700) < 0 && errno != EEXIST)
		return vsl_error_errno(err, errno, "create '%s'", copy);
	return 0;
}

int engine_open(const struct engine_opts *opts, struct engine **ret, struct vsl_error **err)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return vsl_error_errno(err, ENOMEM, "open engine");
	e->root_dirfd = -EBADF;
	struct images_config cfg = {.registry = {.tls_verify = true}};
	int r = 0;
	for (char **m = opts->registry_mirrors; m && *m && r >= 0; m++)
		r = strv_append(&e->mirrors, *m);
	for (char **m = opts->insecure_registries; m && *m && r >= 0; m++)
		r = strv_append(&e->insecure, *m);
	if (r < 0) {
		engine_close(e);
		return vsl_error_errno(err, ENOMEM, "open engine");
	}
	e->root = strdup(pick(opts->root, "VESSEL_ROOT", ENGINE_DEFAULT_ROOT));
	e->runroot = strdup(pick(opts->runroot, "VESSEL_RUNROOT", ENGINE_DEFAULT_RUNROOT));
	if (e->root == NULL || e->runroot == NULL)
		r = vsl_error_errno(err, ENOMEM, "open engine");
	if (r >= 0)
		r = read_config(e, pick(opts->config_file, "VESSEL_CONFIG", ENGINE_DEFAULT_CONFIG), &cfg,
		                err);
	if (r >= 0 && (asprintf(&e->runtime_root, "%s/runtime", e->runroot) < 0 ||
	               asprintf(&e->containers_run, "%s/containers", e->runroot) < 0))
		r = vsl_error_errno(err, ENOMEM, "open engine");
	if (r >= 0)
		r = make_dir(e->root, err);
	if (r >= 0)
		r = make_dir(e->containers_run, err);
	if (r >= 0 && (e->root_dirfd = open(e->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = vsl_error_errno(err, errno, "open '%s'", e->root);
	_cleanup_free_ char *db_path = NULL;
	if (r >= 0 && asprintf(&db_path, "%s/vessel.db", e->root) < 0)
		r = vsl_error_errno(err, ENOMEM, "open engine");
	if (r >= 0)
		r = db_open(db_path, &e->db, err);
	if (r >= 0) {
		cfg.registry.mirrors = e->mirrors;
		cfg.registry.insecure_registries = e->insecure;
		r = images_open(e->root_dirfd, e->db, &cfg, &e->images, err);
	}
	if (r >= 0)
		r = container_store_init(e->db, err);
	if (r >= 0)
		r = volume_store_init(e->db, err);
	if (r < 0) {
		engine_close(e);
		return r;
	}
	*ret = e;
	return 0;
}

void engine_close(struct engine *e)
{
	if (e == NULL)
		return;
	images_free(e->images);
	db_close(e->db);
	if (e->root_dirfd >= 0)
		close(e->root_dirfd);
	strv_free(e->mirrors);
	strv_free(e->insecure);
	free(e->root);
	free(e->runroot);
	free(e->runtime_root);
	free(e->containers_run);
	free(e);
}

struct images *engine_images(struct engine *e)
{
	return e->images;
}

const char *engine_root(const struct engine *e)
{
	return e->root;
}

const char *engine_runroot(const struct engine *e)
{
	return e->runroot;
}

struct db *engine_db(struct engine *e)
{
	return e->db;
}

bool engine_image_in_use(void *engine, const char *image_id, char **ret_user)
{
	struct engine *e = engine;
	return container_store_image_user(e->db, image_id, ret_user);
}

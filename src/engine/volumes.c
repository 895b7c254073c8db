/* Volumes: records (engine/volume-store), data (storage/volume-local), and
 * the container lifecycle's three calls (see the header).
 *
 * Locking: every change of volumes and of their mounts takes an exclusive
 * flock on <runroot>/volumes.lock first, then the database's write lock:
 * the directories and mounts of a volume change together with its record,
 * and no other vessel sees one without the other. The flock is always taken
 * before the database's lock, never after, so the two cannot deadlock. */
#include "engine/volumes.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "engine/container-store.h"
#include "engine/containers.h"
#include "engine/create-config.h"
#include "engine/engine-internal.h"
#include "engine/oci-spec.h"
#include "engine/volume-store.h"
#include "image/manifest.h"
#include "runtime/resolve.h"
#include "storage/tree.h"
#include "storage/volume-local.h"
#include "util/cleanup.h"
#include "util/db.h"
#include "util/error.h"
#include "util/random.h"
#include "util/strv.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int random_name(char ret[65], struct vsl_error **err)
{
	int r = random_hex(ret, 32);
	return r < 0 ? vsl_error_errno(err, -r, "make a volume name") : 0;
}

static int lock_volumes(struct engine *e, int *ret_fd, struct vsl_error **err)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/volumes.lock", e->runroot) < 0)
		return vsl_error_errno(err, ENOMEM, "lock volumes");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open '%s'", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int e2 = errno;
		close(fd);
		return vsl_error_errno(err, e2, "lock '%s'", path);
	}
	*ret_fd = fd;
	return 0;
}

/* "k=v" strings as a JSON object of strings; extra_key (if any) added with "". */
static char *kv_json(char **kv, const char *extra_key)
{
	_cleanup_json_ json_t *o = json_object();
	if (o == NULL)
		return NULL;
	for (char **p = kv; p && *p; p++) {
		const char *eq = strchr(*p, '=');
		_cleanup_free_ char *k = eq ? strndup(*p, (size_t)(eq - *p)) : strdup(*p);
		if (k == NULL || json_object_set_new(o, k, json_string(eq ? eq + 1 : "")) < 0)
			return NULL;
	}
	if (extra_key && json_object_set_new(o, extra_key, json_string("")) < 0)
		return NULL;
	return json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
}

/* The driver options of a record (JSON text) as volume_local_opts, pointing into *ret_json. */
static int record_opts(const struct volume_record *v, json_t **ret_json, struct volume_local_opts *ret,
                       struct vsl_error **err)
{
	json_t *o = json_loads(v->options, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return vsl_error_set_code(err, EUCLEAN, "volume '%s': options: expected an object", v->name);
	}
	*ret = (struct volume_local_opts){
	    .type = json_string_value(json_object_get(o, "type")),
	    .device = json_string_value(json_object_get(o, "device")),
	    .o = json_string_value(json_object_get(o, "o")),
	};
	*ret_json = o;
	return 0;
}

static int check_options(char **options, struct vsl_error **err)
{
	size_t n = strv_length(options);
	_cleanup_free_ struct json_kv *kv = calloc(n + 1, sizeof(*kv));
	_cleanup_strv_ char **keys = NULL;
	if (kv == NULL)
		return vsl_error_errno(err, ENOMEM, "check volume options");
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(options[i], '=');
		_cleanup_free_ char *k =
		    eq ? strndup(options[i], (size_t)(eq - options[i])) : strdup(options[i]);
		if (k == NULL || strv_append(&keys, k) < 0)
			return vsl_error_errno(err, ENOMEM, "check volume options");
		kv[i] = (struct json_kv){keys[i], (char *)(eq ? eq + 1 : "")};
	}
	struct volume_local_opts o;
	return volume_local_opts_parse(kv, n, &o, err);
}

static int check_driver(const char *driver, struct vsl_error **err)
{
	if (driver == NULL || *driver == '\0' || strcmp(driver, "local") == 0)
		return 0;
	return vsl_error_set_code(err, ENOENT, "error looking up volume plugin %s: plugin \"%s\" not found",
	                          driver, driver);
}

static int check_name(const char *name, struct vsl_error **err)
{
	if (volume_local_name_valid(name))
		return 0;
	return vsl_error_set_code(
	    err, EINVAL,
	    "create %s: \"%s\" includes invalid characters for a local volume name, only "
	    "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
	    "directory, use absolute path",
	    name, name);
}

/* Names of volumes whose directories this command made, for undoing them
 * when the transaction that records them does not commit. */
struct made {
	char **names;
};

/* With the lock and inside a transaction: the volume, made unless it exists. */
static int ensure_locked(struct engine *e, const char *name, const char *labels, const char *options,
                         bool anonymous, struct made *made, struct vsl_error **err)
{
	_cleanup_volume_record_ struct volume_record *v = NULL;
	_cleanup_error_ struct vsl_error *get_err = NULL;
	int r = volume_store_get(e->db, name, &v, &get_err);
	if (r >= 0)
		return 0;
	if (r != -ENOENT) {
		*err = TAKE_PTR(get_err);
		return r;
	}
	r = volume_local_create(e->root_dirfd, name, err);
	if (r == -EEXIST) {
		/* A directory without a record: its removal committed, or its
		 * creation never did (see the header). Either way it is no one's. */
		vsl_error_freep(err);
		if ((r = volume_local_remove(e->root_dirfd, name, err)) < 0)
			return r;
		r = volume_local_create(e->root_dirfd, name, err);
	}
	if (r < 0)
		return r;
	if (strv_append(&made->names, name) < 0) {
		volume_local_remove(e->root_dirfd, name, NULL);
		return vsl_error_errno(err, ENOMEM, "create volume '%s'", name);
	}
	struct volume_record rec = {
	    .name = (char *)name,
	    .driver = "local",
	    .labels = (char *)labels,
	    .options = (char *)options,
	    .created = now_ns(),
	    .anonymous = anonymous,
	};
	return volume_store_insert(e->db, &rec, err);
}

static void undo_made(struct engine *e, struct made *made)
{
	for (char **n = made->names; n && *n; n++)
		volume_local_remove(e->root_dirfd, *n, NULL);
	strv_free(made->names);
	made->names = NULL;
}

int volumes_create(struct engine *e, const char *name, const struct volume_create_opts *o, char **ret_name,
                   struct vsl_error **err)
{
	char generated[65];
	int r = check_driver(o->driver, err);
	if (r < 0)
		return r;
	if (name == NULL) {
		if ((r = random_name(generated, err)) < 0)
			return r;
		name = generated;
	} else if ((r = check_name(name, err)) < 0) {
		return r;
	}
	if ((r = check_options(o->options, err)) < 0)
		return vsl_error_prefix(err, "create %s", name);
	_cleanup_free_ char *labels = kv_json(o->labels, NULL);
	_cleanup_free_ char *options = kv_json(o->options, NULL);
	_cleanup_free_ char *out = strdup(name);
	if (labels == NULL || options == NULL || out == NULL)
		return vsl_error_errno(err, ENOMEM, "create volume");

	_cleanup_close_ int lock = -EBADF;
	if ((r = lock_volumes(e, &lock, err)) < 0 || (r = db_begin(e->db, err)) < 0)
		return r;
	struct made made = {0};
	r = ensure_locked(e, name, labels, options, false, &made, err);
	if (r >= 0)
		r = db_commit(e->db, err);
	else
		db_rollback(e->db);
	if (r < 0) {
		undo_made(e, &made);
		return r;
	}
	strv_free(made.names);
	*ret_name = TAKE_PTR(out);
	return 0;
}

int volumes_get(struct engine *e, const char *name, struct volume_record **ret, struct vsl_error **err)
{
	int r = volume_store_get(e->db, name, ret, err);
	if (r == -ENOENT)
		return vsl_error_prefix(err, "get %s", name);
	return r;
}

int volumes_list(struct engine *e, struct volume_record ***ret, size_t *ret_n, struct vsl_error **err)
{
	return volume_store_list(e->db, ret, ret_n, err);
}

static json_t *object_or_null(const char *text)
{
	json_t *o = json_loads(text, 0, NULL);
	if (json_is_object(o) && json_object_size(o) > 0)
		return o;
	json_decref(o);
	return json_null();
}

int volumes_inspect(struct engine *e, const char *name, char **ret_json, struct vsl_error **err)
{
	_cleanup_volume_record_ struct volume_record *v = NULL;
	int r = volumes_get(e, name, &v, err);
	if (r < 0)
		return r;
	time_t secs = (time_t)(v->created / 1000000000);
	struct tm tm;
	localtime_r(&secs, &tm);
	char when[64], zone[40];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	long off = tm.tm_gmtoff;
	if (off == 0)
		snprintf(zone, sizeof(zone), "Z");
	else
		snprintf(zone, sizeof(zone), "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 3600,
		         (labs(off) % 3600) / 60);
	_cleanup_free_ char *created = NULL, *mountpoint = volume_local_data_path(e->root, v->name);
	if (asprintf(&created, "%s%s", when, zone) < 0 || mountpoint == NULL)
		return vsl_error_errno(err, ENOMEM, "inspect volume");
	_cleanup_json_ json_t *j =
	    json_pack("{ss ss so ss ss so ss}", "CreatedAt", created, "Driver", v->driver, "Labels",
	              object_or_null(v->labels), "Mountpoint", mountpoint, "Name", v->name, "Options",
	              object_or_null(v->options), "Scope", "local");
	char *text = j ? json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER) : NULL;
	if (text == NULL)
		return vsl_error_errno(err, ENOMEM, "inspect volume");
	*ret_json = text;
	return 0;
}

/* "[id1, id2]" as Docker prints the users of a volume. */
static char *ids_text(char **ids)
{
	size_t len = 3;
	for (char **p = ids; p && *p; p++)
		len += strlen(*p) + 2;
	char *s = malloc(len);
	if (s == NULL)
		return NULL;
	size_t k = (size_t)snprintf(s, len, "[");
	for (char **p = ids; p && *p; p++)
		k += (size_t)snprintf(s + k, len - k, "%s%s", p == ids ? "" : ", ", *p);
	snprintf(s + k, len - k, "]");
	return s;
}

/* With the lock held and in a transaction: deletes the record unless in use. */
static int remove_record_locked(struct engine *e, const char *name, struct vsl_error **err)
{
	_cleanup_strv_ char **users = NULL;
	int r = volume_store_users(e->db, name, &users, err);
	if (r < 0)
		return r;
	if (users && users[0]) {
		_cleanup_free_ char *text = ids_text(users);
		return vsl_error_set_code(err, EBUSY, "remove %s: volume is in use - %s", name,
		                          text ? text : "[]");
	}
	return volume_store_delete(e->db, name, err);
}

int volumes_remove(struct engine *e, const char *name, bool force, struct vsl_error **err)
{
	_cleanup_close_ int lock = -EBADF;
	int r = lock_volumes(e, &lock, err);
	if (r < 0 || (r = db_begin(e->db, err)) < 0)
		return r;
	_cleanup_volume_record_ struct volume_record *v = NULL;
	r = volume_store_gc(e->db, err);
	if (r >= 0 && (r = volume_store_get(e->db, name, &v, err)) == -ENOENT) {
		db_rollback(e->db);
		if (force) {
			vsl_error_freep(err);
			return 0;
		}
		return vsl_error_prefix(err, "get %s", name);
	}
	if (r >= 0)
		r = remove_record_locked(e, name, err);
	if (r >= 0)
		r = db_commit(e->db, err);
	else
		db_rollback(e->db);
	if (r < 0)
		return r;
	/* Only now, with the record's removal committed, does the data go. */
	return volume_local_remove(e->root_dirfd, name, err);
}

int volumes_size(struct engine *e, const char *name, uint64_t *ret, struct vsl_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	int r = volume_local_open_data(e->root_dirfd, name, &fd, err);
	if (r < 0)
		return r;
	return tree_size(fd, ret, err);
}

/* Directories under <root>/volumes without a record (see the header): the
 * lock is held, so no create is half-way. */
static void sweep_leftovers(struct engine *e)
{
	_cleanup_close_ int dir = openat(e->root_dirfd, VOLUME_LOCAL_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return;
	_cleanup_strv_ char **stale = NULL;
	{
		int fd = dup(dir);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		if (d == NULL) {
			if (fd >= 0)
				close(fd);
			return;
		}
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (!volume_local_name_valid(de->d_name))
				continue;
			_cleanup_volume_record_ struct volume_record *v = NULL;
			if (volume_store_get(e->db, de->d_name, &v, NULL) == -ENOENT)
				strv_append(&stale, de->d_name);
		}
		closedir(d);
	}
	for (char **n = stale; n && *n; n++)
		volume_local_remove(e->root_dirfd, *n, NULL);
}

int volumes_prune(struct engine *e, bool all, char ***ret_names, uint64_t *ret_reclaimed,
                  struct vsl_error **err)
{
	_cleanup_close_ int lock = -EBADF;
	int r = lock_volumes(e, &lock, err);
	if (r < 0 || (r = db_begin(e->db, err)) < 0)
		return r;
	struct volume_record **l = NULL;
	size_t n = 0;
	_cleanup_strv_ char **gone = NULL;
	r = volume_store_gc(e->db, err);
	if (r >= 0)
		r = volume_store_list(e->db, &l, &n, err);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (l[i]->users > 0 || !(all || l[i]->anonymous))
			continue;
		if ((r = volume_store_delete(e->db, l[i]->name, err)) >= 0 &&
		    strv_append(&gone, l[i]->name) < 0)
			r = vsl_error_errno(err, ENOMEM, "prune volumes");
	}
	volume_record_list_free(l, n);
	if (r >= 0)
		r = db_commit(e->db, err);
	else
		db_rollback(e->db);
	if (r < 0)
		return r;
	uint64_t reclaimed = 0;
	for (char **g = gone; g && *g; g++) {
		uint64_t size = 0;
		if (volumes_size(e, *g, &size, NULL) >= 0)
			reclaimed += size;
		volume_local_remove(e->root_dirfd, *g, NULL);
	}
	sweep_leftovers(e);
	if (ret_names)
		*ret_names = TAKE_PTR(gone);
	if (ret_reclaimed)
		*ret_reclaimed = reclaimed;
	return 0;
}

/* ---- the container lifecycle ---- */

/* A mount to record for a new container. */
struct plan {
	char *destination;
	char *volume; /* NULL and !source: a new anonymous volume */
	char *source; /* a bind (from --volumes-from) */
	bool read_only, no_copy;
	char **labels, **options; /* for a volume made here */
};

struct plans {
	struct plan *v;
	size_t n;
};

static void plans_clear(struct plans *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].destination);
		free(p->v[i].volume);
		free(p->v[i].source);
		strv_free(p->v[i].labels);
		strv_free(p->v[i].options);
	}
	free(p->v);
}

static bool plans_have(const struct plans *p, const char *destination)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].destination, destination) == 0)
			return true;
	return false;
}

static bool specs_have(const struct create_mount_spec *m, size_t n, const char *destination)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].destination, destination) == 0)
			return true;
	return false;
}

/* Takes the strings of `add` (on failure too). */
static int plans_add(struct plans *p, struct plan add)
{
	struct plan *v = realloc(p->v, (p->n + 1) * sizeof(*v));
	if (v == NULL || add.destination == NULL) {
		free(add.destination);
		free(add.volume);
		free(add.source);
		strv_free(add.labels);
		strv_free(add.options);
		if (v)
			p->v = v;
		return -ENOMEM;
	}
	p->v = v;
	p->v[p->n++] = add;
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static char **strv_dup(char **v)
{
	char **out = NULL;
	for (char **p = v; p && *p; p++)
		if (strv_append(&out, *p) < 0) {
			strv_free(out);
			return NULL;
		}
	return out;
}

/* --volumes-from CONTAINER[:ro|rw]: the container's volumes and binds at the same places. */
static int plan_volumes_from(struct engine *e, const char *spec, const struct create_mount_spec *specs,
                             size_t n_specs, struct plans *p, struct vsl_error **err)
{
	_cleanup_free_ char *name = strdup(spec);
	if (name == NULL)
		return vsl_error_errno(err, ENOMEM, "volumes from '%s'", spec);
	int mode = -1; /* -1: as the source has it */
	char *colon = strrchr(name, ':');
	if (colon) {
		if (strcmp(colon + 1, "ro") == 0)
			mode = 1;
		else if (strcmp(colon + 1, "rw") == 0)
			mode = 0;
		else
			return vsl_error_set_code(err, EINVAL, "invalid mode: %s", colon + 1);
		*colon = '\0';
	}
	_cleanup_free_ char *id = NULL;
	_cleanup_container_record_ struct container_record *rec = NULL;
	int r = container_store_resolve(e->db, name, &id, err);
	if (r < 0 || (r = container_store_get(e->db, id, &rec, err)) < 0)
		return r;

	struct volume_mount_record *rows = NULL;
	size_t n_rows = 0;
	if ((r = volume_store_mounts_of(e->db, id, &rows, &n_rows, err)) < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < n_rows; i++) {
		if (specs_have(specs, n_specs, rows[i].destination) || plans_have(p, rows[i].destination))
			continue;
		r = plans_add(p, (struct plan){
		                     .destination = strdup(rows[i].destination),
		                     .volume = dup_or_null(rows[i].volume),
		                     .source = dup_or_null(rows[i].source),
		                     .read_only = mode < 0 ? rows[i].read_only : mode == 1,
		                     .no_copy = true,
		                 });
	}
	volume_mount_list_free(rows, n_rows);
	if (r < 0)
		return vsl_error_errno(err, ENOMEM, "volumes from '%s'", spec);

	/* Its binds are in its create body, not in the rows. */
	_cleanup_container_create_ struct container_create *src = NULL;
	struct create_mount_spec *sm = NULL;
	size_t n_sm = 0;
	if ((r = containers_create_config(rec, &src, err)) < 0 ||
	    (r = create_mounts_list(src, &sm, &n_sm, err)) < 0)
		return vsl_error_prefix(err, "volumes from '%s'", spec);
	for (size_t i = 0; r >= 0 && i < n_sm; i++) {
		if (sm[i].kind != CREATE_MOUNT_BIND || specs_have(specs, n_specs, sm[i].destination) ||
		    plans_have(p, sm[i].destination))
			continue;
		r = plans_add(p, (struct plan){
		                     .destination = strdup(sm[i].destination),
		                     .source = strdup(sm[i].source),
		                     .read_only = mode < 0 ? sm[i].read_only : mode == 1,
		                     .no_copy = true,
		                 });
	}
	create_mount_specs_free(sm, n_sm);
	return r < 0 ? vsl_error_errno(err, ENOMEM, "volumes from '%s'", spec) : 0;
}

static int plan_anonymous(char **dests, const struct create_mount_spec *specs, size_t n_specs,
                          struct plans *p)
{
	for (char **d = dests; d && *d; d++) {
		_cleanup_free_ char *clean = create_path_clean(*d);
		if (clean == NULL)
			return -ENOMEM;
		if (strcmp(clean, "/") == 0 || specs_have(specs, n_specs, clean) || plans_have(p, clean))
			continue;
		if (plans_add(p, (struct plan){.destination = TAKE_PTR(clean)}) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int make_plans(struct engine *e, const struct container_create *c, const struct image_config *image,
                      struct plans *p, struct vsl_error **err)
{
	struct create_mount_spec *specs = NULL;
	size_t n_specs = 0;
	int r = create_mounts_list(c, &specs, &n_specs, err);
	if (r < 0)
		return r;
	if ((r = check_driver(c->host.volume_driver, err)) < 0)
		goto out;
	for (size_t i = 0; r >= 0 && i < n_specs; i++) {
		const struct create_mount_spec *m = &specs[i];
		if (m->kind != CREATE_MOUNT_VOLUME)
			continue;
		if ((m->source && (r = check_name(m->source, err)) < 0) ||
		    (r = check_driver(m->volume_driver, err)) < 0 ||
		    (r = check_options(m->volume_options, err)) < 0)
			goto out;
		struct plan add = {
		    .destination = strdup(m->destination),
		    .volume = dup_or_null(m->source),
		    .read_only = m->read_only,
		    .no_copy = m->no_copy,
		    .labels = strv_dup(m->volume_labels),
		    .options = strv_dup(m->volume_options),
		};
		if ((m->source && add.volume == NULL) || (m->volume_labels && add.labels == NULL) ||
		    (m->volume_options && add.options == NULL) || plans_add(p, add) < 0)
			r = vsl_error_errno(err, ENOMEM, "plan volumes");
	}
	/* --volumes-from fills in where the container's own mounts leave room. */
	for (char **f = c->host.volumes_from; r >= 0 && f && *f; f++)
		r = plan_volumes_from(e, *f, specs, n_specs, p, err);
	if (r >= 0 && (plan_anonymous(c->volumes, specs, n_specs, p) < 0 ||
	               (image && plan_anonymous(image->config.volumes, specs, n_specs, p) < 0)))
		r = vsl_error_errno(err, ENOMEM, "plan volumes");
out:
	create_mount_specs_free(specs, n_specs);
	return r;
}

int volumes_attach(struct engine *e, const char *container_id, const struct container_create *c,
                   const struct image_config *image, struct vsl_error **err)
{
	struct plans p = {0};
	int r = make_plans(e, c, image, &p, err);
	if (r < 0 || p.n == 0) {
		plans_clear(&p);
		return r;
	}
	_cleanup_close_ int lock = -EBADF;
	if ((r = lock_volumes(e, &lock, err)) < 0 || (r = db_begin(e->db, err)) < 0) {
		plans_clear(&p);
		return r;
	}
	struct made made = {0};
	for (size_t i = 0; r >= 0 && i < p.n; i++) {
		struct plan *pl = &p.v[i];
		if (pl->volume == NULL && pl->source == NULL) {
			char name[65];
			if ((r = random_name(name, err)) < 0 || (pl->volume = strdup(name)) == NULL) {
				r = r < 0 ? r : vsl_error_errno(err, ENOMEM, "create volume");
				break;
			}
			_cleanup_free_ char *labels = kv_json(NULL, VOLUME_ANONYMOUS_LABEL);
			r = labels ? ensure_locked(e, pl->volume, labels, "{}", true, &made, err)
			           : vsl_error_errno(err, ENOMEM, "create volume");
		} else if (pl->volume) {
			_cleanup_free_ char *labels = kv_json(pl->labels, NULL);
			_cleanup_free_ char *options = kv_json(pl->options, NULL);
			r = labels && options
			        ? ensure_locked(e, pl->volume, labels, options, false, &made, err)
			        : vsl_error_errno(err, ENOMEM, "create volume");
		}
		if (r < 0)
			break;
		struct volume_mount_record m = {
		    .container_id = (char *)container_id,
		    .destination = pl->destination,
		    .volume = pl->volume,
		    .source = pl->source,
		    .read_only = pl->read_only,
		    .no_copy = pl->no_copy,
		};
		r = volume_store_mount_add(e->db, &m, err);
	}
	if (r >= 0)
		r = db_commit(e->db, err);
	else
		db_rollback(e->db);
	if (r < 0)
		undo_made(e, &made);
	strv_free(made.names);
	plans_clear(&p);
	return r;
}

static int by_destination(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "Destination")),
	              json_string_value(json_object_get(*(json_t *const *)b, "Destination")));
}

int volumes_mount_points(struct engine *e, const char *container_id, const struct container_create *c,
                         json_t **ret, struct vsl_error **err)
{
	struct create_mount_spec *specs = NULL;
	size_t n_specs = 0, n_rows = 0;
	struct volume_mount_record *rows = NULL;
	int r = create_mounts_list(c, &specs, &n_specs, err);
	if (r >= 0)
		r = volume_store_mounts_of(e->db, container_id, &rows, &n_rows, err);
	json_t **points = r >= 0 ? calloc(n_specs + n_rows + c->host.n_mounts + 1, sizeof(*points)) : NULL;
	size_t n = 0;
	if (r >= 0 && points == NULL)
		r = vsl_error_errno(err, ENOMEM, "mounts");
	/* Binds as given; volumes (anonymous ones named now) and --volumes-from binds as recorded. */
	for (size_t i = 0; r >= 0 && i < n_specs; i++)
		if (specs[i].kind == CREATE_MOUNT_BIND)
			points[n++] = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind", "Source",
			                        specs[i].source, "Destination", specs[i].destination, "Mode",
			                        "", "RW", !specs[i].read_only, "Propagation",
			                        specs[i].propagation ? specs[i].propagation : "rprivate");
	/* A tmpfs of --mount is one of Docker's mount points; one of --tmpfs is not. */
	for (size_t i = 0; r >= 0 && i < c->host.n_mounts; i++) {
		const struct create_mount *m = &c->host.mounts[i];
		_cleanup_free_ char *dest = m->type && strcmp(m->type, "tmpfs") == 0 && m->target
		                                ? create_path_clean(m->target)
		                                : NULL;
		if (dest)
			points[n++] = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "tmpfs", "Source",
			                        "", "Destination", dest, "Mode", "", "RW", !m->read_only,
			                        "Propagation", "");
	}
	for (size_t i = 0; r >= 0 && i < n_rows; i++) {
		const struct volume_mount_record *m = &rows[i];
		_cleanup_free_ char *data = m->volume ? volume_local_data_path(e->root, m->volume) : NULL;
		if (m->volume && data)
			points[n++] =
			    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "volume", "Name",
			              m->volume, "Source", data, "Destination", m->destination, "Driver",
			              "local", "Mode", "", "RW", !m->read_only, "Propagation", "");
		else if (m->source)
			points[n++] = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind", "Source",
			                        m->source, "Destination", m->destination, "Mode", "", "RW",
			                        !m->read_only, "Propagation", "rprivate");
	}
	json_t *array = r >= 0 ? json_array() : NULL;
	for (size_t i = 0; r >= 0 && i <= n; i++)
		if (i == n ? array == NULL : points[i] == NULL)
			r = vsl_error_errno(err, ENOMEM, "mounts");
	if (r >= 0)
		qsort(points, n, sizeof(*points), by_destination);
	for (size_t i = 0; i < n; i++) {
		if (r >= 0 && json_array_append(array, points[i]) < 0)
			r = vsl_error_errno(err, ENOMEM, "mounts");
		json_decref(points[i]);
	}
	free(points);
	create_mount_specs_free(specs, n_specs);
	volume_mount_list_free(rows, n_rows);
	if (r < 0) {
		json_decref(array);
		return r;
	}
	*ret = array;
	return 0;
}

void oci_spec_volumes_free(struct oci_spec_volume *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].destination);
		free(v[i].source);
	}
	free(v);
}

/* Docker's copy-up: a volume new and empty gets what the image has at its
 * destination, owners, modes and all. The source is opened inside the
 * container's root (RESOLVE_IN_ROOT): the image's symlinks cannot point
 * the copy at the host. */
static int copy_up(struct engine *e, const char *name, int rootfs_dirfd, const char *destination,
                   struct vsl_error **err)
{
	_cleanup_close_ int data = -EBADF;
	int r = volume_local_open_data(e->root_dirfd, name, &data, err);
	if (r < 0)
		return r;
	r = tree_is_empty(data, ".");
	if (r <= 0)
		return r < 0 ? vsl_error_errno(err, -r, "read volume '%s'", name) : 0;
	_cleanup_close_ int src = resolve_open_quiet(rootfs_dirfd, destination, O_RDONLY | O_DIRECTORY, 0);
	if (src == -ENOENT || src == -ENOTDIR)
		return 0;
	if (src < 0)
		return vsl_error_errno(err, -src, "open '%s' in the container", destination);
	if ((r = tree_copy(src, data, err)) < 0)
		return vsl_error_prefix(err, "copy '%s' of the image into volume '%s'", destination, name);
	return 0;
}

int volumes_prepare(struct engine *e, const char *container_id, int rootfs_dirfd,
                    struct oci_spec_volume **ret, size_t *ret_n, struct vsl_error **err)
{
	struct volume_mount_record *rows = NULL;
	size_t n = 0;
	int r = volume_store_mounts_of(e->db, container_id, &rows, &n, err);
	if (r < 0)
		return r;
	if (n == 0) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	struct oci_spec_volume *out = calloc(n, sizeof(*out));
	_cleanup_close_ int lock = -EBADF;
	if (out == NULL)
		r = vsl_error_errno(err, ENOMEM, "prepare volumes");
	else
		r = lock_volumes(e, &lock, err);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct volume_mount_record *m = &rows[i];
		out[i].read_only = m->read_only;
		if ((out[i].destination = strdup(m->destination)) == NULL) {
			r = vsl_error_errno(err, ENOMEM, "prepare volumes");
			break;
		}
		if (m->volume == NULL) {
			if ((out[i].source = strdup(m->source)) == NULL)
				r = vsl_error_errno(err, ENOMEM, "prepare volumes");
			continue;
		}
		_cleanup_volume_record_ struct volume_record *v = NULL;
		_cleanup_json_ json_t *oj = NULL;
		struct volume_local_opts o;
		if ((r = volume_store_get(e->db, m->volume, &v, err)) < 0 ||
		    (r = record_opts(v, &oj, &o, err)) < 0 ||
		    (r = volume_local_mount(e->root_dirfd, v->name, &o, err)) < 0)
			break;
		if (!m->no_copy && (r = copy_up(e, v->name, rootfs_dirfd, m->destination, err)) < 0)
			break;
		if ((out[i].source = volume_local_data_path(e->root, v->name)) == NULL)
			r = vsl_error_errno(err, ENOMEM, "prepare volumes");
	}
	volume_mount_list_free(rows, n);
	if (r < 0) {
		oci_spec_volumes_free(out, n);
		return vsl_error_prefix(err, "prepare volumes");
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

void volumes_release(struct engine *e, const char *container_id)
{
	struct volume_mount_record *rows = NULL;
	size_t n = 0;
	if (volume_store_mounts_of(e->db, container_id, &rows, &n, NULL) < 0 || n == 0) {
		volume_mount_list_free(rows, n);
		return;
	}
	_cleanup_close_ int lock = -EBADF;
	if (lock_volumes(e, &lock, NULL) >= 0) {
		for (size_t i = 0; i < n; i++) {
			if (rows[i].volume == NULL || !volume_local_is_mounted(e->root_dirfd, rows[i].volume))
				continue;
			bool busy = true;
			if (volume_store_in_use_by_running(e->db, rows[i].volume, container_id, &busy,
			                                   NULL) >= 0 &&
			    !busy)
				volume_local_unmount(e->root_dirfd, rows[i].volume, NULL);
		}
	}
	volume_mount_list_free(rows, n);
}

int volumes_remove_anonymous(struct engine *e, const char *container_id, struct vsl_error **err)
{
	struct volume_mount_record *rows = NULL;
	size_t n = 0;
	/* Rows are made only at create: a container without any has nothing to
	 * drop, and its removal writes nothing here. */
	int r = volume_store_mounts_of(e->db, container_id, &rows, &n, err);
	volume_mount_list_free(rows, n);
	if (r < 0 || n == 0)
		return r;
	rows = NULL;
	n = 0;
	_cleanup_close_ int lock = -EBADF;
	if ((r = lock_volumes(e, &lock, err)) < 0 || (r = db_begin(e->db, err)) < 0)
		return r;
	_cleanup_strv_ char **gone = NULL;
	r = volume_store_mounts_of(e->db, container_id, &rows, &n, err);
	if (r >= 0)
		r = volume_store_mounts_drop(e->db, container_id, err);
	/* Rows of removed containers would hold the volumes (their key). */
	if (r >= 0)
		r = volume_store_gc(e->db, err);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (rows[i].volume == NULL)
			continue;
		_cleanup_volume_record_ struct volume_record *v = NULL;
		if (volume_store_get(e->db, rows[i].volume, &v, NULL) < 0 || !v->anonymous || v->users > 0)
			continue;
		if ((r = volume_store_delete(e->db, v->name, err)) >= 0 && strv_append(&gone, v->name) < 0)
			r = vsl_error_errno(err, ENOMEM, "remove volumes");
	}
	volume_mount_list_free(rows, n);
	if (r >= 0)
		r = db_commit(e->db, err);
	else
		db_rollback(e->db);
	if (r < 0)
		return r;
	for (char **g = gone; g && *g; g++)
		volume_local_remove(e->root_dirfd, *g, NULL);
	return 0;
}

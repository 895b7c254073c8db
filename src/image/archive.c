/* `vessel save` and `vessel load`: images as tar archives.
 *
 * save writes Docker 25's docker-archive: an OCI image layout (oci-layout,
 * index.json, blobs/sha256/...) with Docker's manifest.json and repositories
 * beside it, so `docker load`, skopeo and other OCI tools all read it; the
 * oci-archive is the layout alone. Blobs are written as stored, so every
 * digest in the archive is the one the registry had.
 *
 * load reads that, the legacy docker-archive (<id>/layer.tar, <hex>.json) and
 * oci-archives, plain or compressed. The archive is unpacked into a temporary
 * directory under the root (files and directories only, symlinks kept as
 * links that are only ever followed inside it), every blob is checked against
 * its digest and every layer against the config's diff ids, and the images
 * are recorded in one transaction; on failure the layers and blobs this load
 * added are removed again, so nothing of a bad archive stays. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <sys/file.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "image/blob-store.h"
#include "image/compress.h"
#include "image/image-db.h"
#include "image/images-internal.h"
#include "image/layer.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "storage/layer-store.h"
#include "util/cleanup.h"
#include "util/db.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/random.h"
#include "util/strv.h"

#define ANNOTATION_REF_NAME        "org.opencontainers.image.ref.name"
#define ANNOTATION_CONTAINERD_NAME "io.containerd.image.name"
/* manifest.json, index.json, repositories: small documents. */
#define ARCHIVE_DOC_MAX (16u << 20)

#define _cleanup_json_ _cleanup_(json_decrefp)

static void archive_write_freep(struct archive **a)
{
	if (*a)
		archive_write_free(*a);
}
static void archive_read_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}
static void archive_entry_freep(struct archive_entry **e)
{
	if (*e)
		archive_entry_free(*e);
}

/* ================================ save ================================ */

struct save_image {
	char *id;
	char **names; /* full names; NULL: none */
	char *manifest_digest;
	char *manifest_media_type;
	uint64_t manifest_size;
	struct manifest *manifest;
};

static void save_images_free(struct save_image *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].id);
		strv_free(v[i].names);
		free(v[i].manifest_digest);
		free(v[i].manifest_media_type);
		manifest_free(v[i].manifest);
	}
	free(v);
}

struct tar_out {
	int fd;
	int error;
};

static la_ssize_t tar_write_cb(struct archive *a, void *userdata, const void *buf, size_t len)
{
	struct tar_out *o = userdata;
	if (write_all(o->fd, buf, len) < 0) {
		o->error = errno;
		archive_set_error(a, errno, "write archive");
		return -1;
	}
	return (la_ssize_t)len;
}

static int tar_error(struct archive *a, struct tar_out *o, struct vsl_error **err, const char *what)
{
	if (o && o->error)
		return vsl_error_errno(err, o->error, "write %s", what);
	return vsl_error_set_code(err, EIO, "write %s: %s", what, archive_error_string(a));
}

static int tar_header(struct archive *a, struct tar_out *o, const char *path, mode_t type, uint64_t size,
                      struct vsl_error **err)
{
	_cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();
	if (e == NULL)
		return vsl_error_errno(err, ENOMEM, "write '%s'", path);
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, type == AE_IFDIR ? 0 : (la_int64_t)size);
	archive_entry_set_mtime(e, 0, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		return tar_error(a, o, err, path);
	return 0;
}

static int tar_buffer(struct archive *a, struct tar_out *o, const char *path, const void *buf, size_t len,
                      struct vsl_error **err)
{
	int r = tar_header(a, o, path, AE_IFREG, len, err);
	if (r < 0)
		return r;
	if (len > 0 && archive_write_data(a, buf, len) != (la_ssize_t)len)
		return tar_error(a, o, err, path);
	return 0;
}

static int tar_json(struct archive *a, struct tar_out *o, const char *path, json_t *j, struct vsl_error **err)
{
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
	if (text == NULL)
		return vsl_error_errno(err, ENOMEM, "write '%s'", path);
	return tar_buffer(a, o, path, text, strlen(text), err);
}

static int tar_blob(struct images *im, struct archive *a, struct tar_out *o, const char *digest,
                    struct vsl_error **err)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "blobs/sha256/%s", digest_hex(digest)) < 0)
		return vsl_error_errno(err, ENOMEM, "save");
	_cleanup_close_ int fd = -EBADF;
	uint64_t size;
	int r = blob_store_open_blob(im->blobs, digest, &fd, &size, err);
	if (r < 0)
		return r;
	if ((r = tar_header(a, o, path, AE_IFREG, size, err)) < 0)
		return r;
	char buf[65536];
	uint64_t done = 0;
	while (done < size) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vsl_error_errno(err, errno, "read blob %s", digest);
		if (n == 0)
			return vsl_error_set_code(err, EIO, "blob %s is shorter than its %llu bytes", digest,
			                          (unsigned long long)size);
		if ((uint64_t)n > size - done)
			n = (ssize_t)(size - done);
		if (archive_write_data(a, buf, (size_t)n) != n)
			return tar_error(a, o, err, path);
		done += (uint64_t)n;
	}
	return 0;
}

/* The repository of a full name: "docker.io/library/ubuntu:latest" -> length of "docker.io/library/ubuntu".
 */
static size_t name_repo_len(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *colon = strrchr(name, ':');
	return colon && (!slash || colon > slash) ? (size_t)(colon - name) : strlen(name);
}

static int save_add(struct save_image **v, size_t *n, const char *id, const char *full_name,
                    struct vsl_error **err)
{
	struct save_image *s = NULL;
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].id, id) == 0)
			s = &(*v)[i];
	if (s == NULL) {
		struct save_image *grown = realloc(*v, (*n + 1) * sizeof(**v));
		if (grown == NULL)
			return vsl_error_errno(err, ENOMEM, "save");
		*v = grown;
		s = &grown[(*n)++];
		*s = (struct save_image){.id = strdup(id)};
		if (s->id == NULL)
			return vsl_error_errno(err, ENOMEM, "save");
	}
	if (full_name && !strv_contains(s->names, full_name) && strv_append(&s->names, full_name) < 0)
		return vsl_error_errno(err, ENOMEM, "save");
	return 0;
}

/* What the user named -> images and the names to write for them: a tagged
 * name that one tag, a bare repository every tag of it, an id no name. */
static int save_collect(struct images *im, const char *arg, struct save_image **v, size_t *n,
                        struct vsl_error **err)
{
	_cleanup_image_ref_ struct image_ref *ref = NULL;
	if (image_ref_parse(arg, &ref, NULL) >= 0 && ref->digest == NULL) {
		_cleanup_free_ char *full = image_ref_string(ref);
		_cleanup_free_ char *repo = image_ref_name(ref);
		if (full == NULL || repo == NULL)
			return vsl_error_errno(err, ENOMEM, "save");
		const char *last = strrchr(arg, '/');
		bool tagged = strchr(last ? last : arg, ':') != NULL;
		_cleanup_free_ char *id = NULL;
		if (tagged && image_db_resolve(im->db, full, &id, NULL) >= 0)
			return save_add(v, n, id, full, err);
		if (!tagged) {
			struct image_record **recs = NULL;
			size_t nrecs = 0;
			int r = image_db_list(im->db, &recs, &nrecs, err);
			if (r < 0)
				return r;
			size_t found = 0;
			for (size_t i = 0; r >= 0 && i < nrecs; i++)
				for (char **nm = recs[i]->names; r >= 0 && nm && *nm; nm++)
					if (name_repo_len(*nm) == strlen(repo) &&
					    strncmp(*nm, repo, strlen(repo)) == 0) {
						r = save_add(v, n, recs[i]->id, *nm, err);
						found++;
					}
			image_record_list_free(recs, nrecs);
			if (r < 0 || found > 0)
				return r;
		}
	}
	_cleanup_free_ char *id = NULL;
	int r = images_resolve(im, arg, &id, err);
	if (r < 0)
		return r;
	return save_add(v, n, id, NULL, err);
}

static int save_load_manifest(struct images *im, struct save_image *s, struct vsl_error **err)
{
	_cleanup_image_record_ struct image_record *rec = NULL;
	int r = image_db_get(im->db, s->id, &rec, err);
	if (r < 0)
		return r;
	if (rec->manifest_digest == NULL)
		return vsl_error_set(err, "image %s has no manifest", s->id);
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	if ((r = blob_store_read(im->blobs, rec->manifest_digest, MANIFEST_MAX_SIZE, &body, &len, err)) < 0 ||
	    (r = manifest_parse(body, len, &s->manifest, err)) < 0)
		return vsl_error_prefix(err, "image %s", s->id);
	s->manifest_digest = strdup(rec->manifest_digest);
	const char *type = rec->manifest_media_type && *rec->manifest_media_type ? rec->manifest_media_type
	                   : s->manifest->media_type                             ? s->manifest->media_type
	                                                                         : MEDIA_TYPE_OCI_MANIFEST;
	s->manifest_media_type = strdup(type);
	s->manifest_size = len;
	if (s->manifest_digest == NULL || s->manifest_media_type == NULL)
		return vsl_error_errno(err, ENOMEM, "save");
	return 0;
}

static json_t *index_entry(const struct save_image *s, const char *name)
{
	json_t *e = json_pack("{s:s, s:s, s:I}", "mediaType", s->manifest_media_type, "digest",
	                      s->manifest_digest, "size", (json_int_t)s->manifest_size);
	if (e == NULL || name == NULL)
		return e;
	const char *tag = name + name_repo_len(name);
	json_t *ann = json_pack("{s:s, s:s}", ANNOTATION_CONTAINERD_NAME, name, ANNOTATION_REF_NAME,
	                        *tag == ':' ? tag + 1 : "latest");
	if (ann == NULL || json_object_set_new(e, "annotations", ann) < 0) {
		json_decref(e);
		return NULL;
	}
	return e;
}

static int save_write(struct images *im, struct save_image *v, size_t n, int out_fd, enum save_format fmt,
                      struct vsl_error **err)
{
	_cleanup_(archive_write_freep) struct archive *a = archive_write_new();
	if (a == NULL)
		return vsl_error_errno(err, ENOMEM, "save");
	struct tar_out out = {.fd = out_fd};
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, &out, NULL, tar_write_cb, NULL) != ARCHIVE_OK)
		return tar_error(a, &out, err, "archive");

	_cleanup_json_ json_t *index =
	    json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", MEDIA_TYPE_OCI_INDEX, "manifests");
	_cleanup_json_ json_t *docker = json_array();
	_cleanup_json_ json_t *repos = json_object();
	_cleanup_strv_ char **written = NULL;
	if (index == NULL || docker == NULL || repos == NULL)
		return vsl_error_errno(err, ENOMEM, "save");
	int r = tar_header(a, &out, "blobs/", AE_IFDIR, 0, err);
	if (r >= 0)
		r = tar_header(a, &out, "blobs/sha256/", AE_IFDIR, 0, err);
	if (r < 0)
		return r;

	for (size_t i = 0; i < n; i++) {
		struct save_image *s = &v[i];
		const struct manifest *m = s->manifest;
		/* Layers, then config and manifest; a blob shared by images is written once. */
		_cleanup_free_ const char **blobs = calloc(m->n_layers + 2, sizeof(char *));
		if (blobs == NULL)
			return vsl_error_errno(err, ENOMEM, "save");
		size_t nb = 0;
		for (size_t j = 0; j < m->n_layers; j++)
			blobs[nb++] = m->layers[j].digest;
		blobs[nb++] = m->config.digest;
		blobs[nb++] = s->manifest_digest;
		for (size_t j = 0; j < nb; j++) {
			if (strv_contains(written, blobs[j]))
				continue;
			if ((r = tar_blob(im, a, &out, blobs[j], err)) < 0)
				return vsl_error_prefix(err, "save %s", s->id);
			if (strv_append(&written, blobs[j]) < 0)
				return vsl_error_errno(err, ENOMEM, "save");
		}

		json_t *manifests = json_object_get(index, "manifests");
		for (size_t k = 0; k == 0 || (s->names && s->names[k]); k++) {
			json_t *e = index_entry(s, s->names ? s->names[k] : NULL);
			if (e == NULL || json_array_append_new(manifests, e) < 0)
				return vsl_error_errno(err, ENOMEM, "save");
		}

		json_t *tags = json_array(), *layers = json_array();
		json_t *entry = json_pack("{s:s+, s:o, s:o}", "Config", "blobs/sha256/",
		                          digest_hex(m->config.digest), "RepoTags", tags, "Layers", layers);
		if (entry == NULL || json_array_append_new(docker, entry) < 0)
			return vsl_error_errno(err, ENOMEM, "save");
		for (char **nm = s->names; nm && *nm; nm++) {
			_cleanup_free_ char *familiar = image_ref_familiarize(*nm);
			if (familiar == NULL || json_array_append_new(tags, json_string(familiar)) < 0)
				return vsl_error_errno(err, ENOMEM, "save");
			/* repositories: {"ubuntu": {"latest": "<top layer>"}}, as Docker writes it. */
			size_t rl = name_repo_len(familiar);
			if (familiar[rl] != ':' || m->n_layers == 0)
				continue;
			familiar[rl] = '\0';
			json_t *repo = json_object_get(repos, familiar);
			if (repo == NULL && json_object_set_new(repos, familiar, repo = json_object()) < 0)
				return vsl_error_errno(err, ENOMEM, "save");
			if (json_object_set_new(repo, familiar + rl + 1,
			                        json_string(digest_hex(m->layers[m->n_layers - 1].digest))) <
			    0)
				return vsl_error_errno(err, ENOMEM, "save");
		}
		for (size_t j = 0; j < m->n_layers; j++) {
			_cleanup_free_ char *path = NULL;
			if (asprintf(&path, "blobs/sha256/%s", digest_hex(m->layers[j].digest)) < 0 ||
			    json_array_append_new(layers, json_string(path)) < 0)
				return vsl_error_errno(err, ENOMEM, "save");
		}
	}

	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	if ((r = tar_buffer(a, &out, "oci-layout", layout, strlen(layout), err)) < 0 ||
	    (r = tar_json(a, &out, "index.json", index, err)) < 0)
		return r;
	if (fmt == SAVE_DOCKER_ARCHIVE) {
		if ((r = tar_json(a, &out, "manifest.json", docker, err)) < 0)
			return r;
		if (json_object_size(repos) > 0 && (r = tar_json(a, &out, "repositories", repos, err)) < 0)
			return r;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		return tar_error(a, &out, err, "archive");
	return 0;
}

int images_save(struct images *im, char **names_or_ids, int out_fd, enum save_format fmt,
                struct vsl_error **err)
{
	struct save_image *v = NULL;
	size_t n = 0;
	int r = 0;
	if (names_or_ids == NULL || names_or_ids[0] == NULL)
		r = vsl_error_set_code(err, EINVAL, "save: no image given");
	for (char **a = names_or_ids; r >= 0 && a && *a; a++)
		r = save_collect(im, *a, &v, &n, err);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = save_load_manifest(im, &v[i], err);
	if (r >= 0)
		r = save_write(im, v, n, out_fd, fmt, err);
	save_images_free(v, n);
	if (r < 0)
		return vsl_error_prefix(err, "save");
	return 0;
}

/* ================================ load ================================ */

static int stage_open(int stage_fd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int fd;
	do
		fd = (int)syscall(SYS_openat2, stage_fd, path, &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

/* "./a//b/" -> "a/b"; NULL for "..", absolute paths and empty names. */
static char *clean_path(const char *p)
{
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (*p == '/')
		return NULL;
	char *out = malloc(strlen(p) + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			return NULL;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	out[o] = '\0';
	if (o == 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Opens (creating) the directory of path's parent; *ret_last points into path. */
static int stage_parent(int stage_fd, char *path, const char **ret_last, struct vsl_error **err)
{
	char *slash = strrchr(path, '/');
	if (slash == NULL) {
		*ret_last = path;
		int fd = fcntl(stage_fd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? vsl_error_errno(err, errno, "stage archive") : fd;
	}
	*slash = '\0';
	*ret_last = slash + 1;
	_cleanup_close_ int dir = fcntl(stage_fd, F_DUPFD_CLOEXEC, 3);
	if (dir < 0)
		return vsl_error_errno(err, errno, "stage archive");
	for (char *c = path; c;) {
		char *next = strchr(c, '/');
		if (next)
			*next = '\0';
		if (mkdirat(dir, c, 0700) < 0 && errno != EEXIST)
			return vsl_error_errno(err, errno, "archive entry '%s'", path);
		/* No symlink is followed while writing: an entry cannot land outside. */
		int sub = openat(dir, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next)
			*next = '/';
		if (sub < 0)
			return vsl_error_errno(err, errno, "archive entry '%s'", path);
		close(dir);
		dir = sub;
		c = next ? next + 1 : NULL;
	}
	*slash = '/';
	return TAKE_FD(dir);
}

struct tar_in {
	struct zreader *z;
	struct vsl_error *err;
	char buf[65536];
};

static la_ssize_t tar_read_cb(struct archive *a, void *userdata, const void **buf)
{
	struct tar_in *in = userdata;
	ssize_t n = zreader_read(in->z, in->buf, sizeof(in->buf), &in->err);
	if (n < 0) {
		archive_set_error(a, EIO, "%s", in->err ? vsl_error_message(in->err) : "read error");
		return -1;
	}
	*buf = in->buf;
	return n;
}

static int stage_entry(struct archive *a, struct archive_entry *e, int stage_fd, struct vsl_error **err)
{
	const char *raw = archive_entry_pathname(e);
	if (raw == NULL)
		return 0;
	_cleanup_free_ char *path = clean_path(raw);
	if (path == NULL) {
		if (strcmp(raw, ".") == 0 || strcmp(raw, "./") == 0)
			return 0;
		return vsl_error_set_code(err, EINVAL, "archive entry '%s': path outside the archive", raw);
	}
	mode_t type = archive_entry_filetype(e);
	if (type == AE_IFDIR) {
		_cleanup_free_ char *dir = NULL;
		if (asprintf(&dir, "%s/.", path) < 0)
			return vsl_error_errno(err, ENOMEM, "stage archive");
		const char *last;
		_cleanup_close_ int parent = stage_parent(stage_fd, dir, &last, err);
		return parent < 0 ? parent : 0;
	}
	const char *last;
	_cleanup_close_ int parent = stage_parent(stage_fd, path, &last, err);
	if (parent < 0)
		return parent;
	/* A later entry replaces an earlier one, as tar extracts. */
	if (unlinkat(parent, last, 0) < 0 && errno != ENOENT)
		return vsl_error_errno(err, errno, "archive entry '%s'", path);
	const char *hardlink = archive_entry_hardlink(e);
	if (hardlink) {
		_cleanup_free_ char *target = clean_path(hardlink);
		if (target == NULL)
			return vsl_error_set_code(err, EINVAL, "archive entry '%s': link outside the archive",
			                          raw);
		_cleanup_close_ int src = stage_open(stage_fd, target, O_PATH | O_NOFOLLOW);
		if (src < 0)
			return vsl_error_errno(err, -src, "archive entry '%s': link to '%s'", path, target);
		_cleanup_free_ char *proc = NULL;
		if (asprintf(&proc, "/proc/self/fd/%d", src) < 0)
			return vsl_error_errno(err, ENOMEM, "stage archive");
		if (linkat(AT_FDCWD, proc, parent, last, AT_SYMLINK_FOLLOW) < 0)
			return vsl_error_errno(err, errno, "archive entry '%s'", path);
		return 0;
	}
	if (type == AE_IFLNK) {
		const char *target = archive_entry_symlink(e);
		if (target && symlinkat(target, parent, last) < 0)
			return vsl_error_errno(err, errno, "archive entry '%s'", path);
		return 0;
	}
	if (type != AE_IFREG)
		return 0; /* devices, fifos: nothing an image archive holds */
	_cleanup_close_ int fd =
	    openat(parent, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return vsl_error_errno(err, errno, "archive entry '%s'", path);
	const void *buf;
	size_t len;
	la_int64_t off;
	int ar;
	while ((ar = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		if (lseek(fd, off, SEEK_SET) < 0 || write_all(fd, buf, len) < 0)
			return vsl_error_errno(err, errno, "archive entry '%s'", path);
	}
	if (ar != ARCHIVE_EOF)
		return vsl_error_set_code(err, EIO, "archive entry '%s': %s", path, archive_error_string(a));
	if (ftruncate(fd, archive_entry_size(e)) < 0)
		return vsl_error_errno(err, errno, "archive entry '%s'", path);
	return 0;
}

static int stage_archive(int in_fd, int stage_fd, struct vsl_error **err)
{
	_cleanup_free_ struct tar_in *in = calloc(1, sizeof(*in));
	if (in == NULL)
		return vsl_error_errno(err, ENOMEM, "read archive");
	_cleanup_zreader_ struct zreader *z = NULL;
	int r = zreader_open(in_fd, &z, err);
	if (r < 0)
		return r;
	in->z = z;
	_cleanup_(archive_read_freep) struct archive *a = archive_read_new();
	if (a == NULL)
		return vsl_error_errno(err, ENOMEM, "read archive");
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open(a, in, NULL, tar_read_cb, NULL) != ARCHIVE_OK) {
		r = vsl_error_set_code(err, EINVAL, "read archive: %s", archive_error_string(a));
		goto out;
	}
	struct archive_entry *e;
	int ar;
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN)
		if ((r = stage_entry(a, e, stage_fd, err)) < 0)
			goto out;
	if (ar != ARCHIVE_EOF)
		r = vsl_error_set_code(err, EINVAL, "read archive: %s", archive_error_string(a));
out:
	if (r < 0 && in->err && err && *err == NULL) {
		*err = TAKE_PTR(in->err);
		r = -EIO;
	}
	vsl_error_free(in->err);
	return r;
}

/* One image of the archive. */
struct load_image {
	char *config_path;
	char **layer_paths;
	size_t n_layers;
	char **names; /* full names */
	/* The layout's manifest for it, when the archive has one (OCI layout). */
	char *manifest_body;
	size_t manifest_len;
	char *manifest_media_type;

	char id[DIGEST_SIZE];
	char *config_body;
	size_t config_len;
	struct image_config *config;
	char (*blob_digests)[DIGEST_SIZE];
	char (*chain_ids)[DIGEST_SIZE];
	char **blob_types;
	uint64_t *blob_sizes, *sizes;
};

static void load_image_release(struct load_image *l)
{
	free(l->config_path);
	for (size_t i = 0; i < l->n_layers; i++)
		free(l->layer_paths[i]);
	free(l->layer_paths);
	strv_free(l->names);
	free(l->manifest_body);
	free(l->manifest_media_type);
	free(l->config_body);
	image_config_free(l->config);
	free(l->blob_digests);
	free(l->chain_ids);
	if (l->blob_types)
		for (size_t i = 0; i < l->n_layers; i++)
			free(l->blob_types[i]);
	free(l->blob_types);
	free(l->blob_sizes);
	free(l->sizes);
}

struct load {
	struct images *im;
	int stage_fd;
	struct load_image *images;
	size_t n_images;
	char **new_blobs;  /* added by this load: removed again on failure */
	char **new_layers; /* same, chain ids */
};

/* The digest a path in the archive promises: blobs/sha256/<hex>, or a legacy <hex>.json config. */
static bool path_digest(const char *path, char ret[DIGEST_SIZE])
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strspn(base, "0123456789abcdef");
	if (n != DIGEST_HEX_LEN || (base[n] != '\0' && strcmp(base + n, ".json") != 0))
		return false;
	snprintf(ret, DIGEST_SIZE, "%s%.*s", DIGEST_PREFIX, DIGEST_HEX_LEN, base);
	return true;
}

static int read_staged(struct load *ld, const char *path, size_t max, char **ret, size_t *ret_len,
                       struct vsl_error **err)
{
	_cleanup_close_ int fd = stage_open(ld->stage_fd, path, O_RDONLY);
	if (fd < 0)
		return vsl_error_errno(err, -fd, "archive: '%s'", path);
	/* Read through the fd resolved inside the stage, never by the path again. */
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (read_file_at(AT_FDCWD, proc, max, ret, ret_len, err) < 0)
		return vsl_error_prefix(err, "archive: '%s'", path);
	return 0;
}

static int add_name(struct load_image *l, const char *name, struct vsl_error **err)
{
	_cleanup_image_ref_ struct image_ref *ref = NULL;
	int r = image_ref_parse(name, &ref, err);
	if (r < 0)
		return vsl_error_prefix(err, "archive: image name '%s'", name);
	if (ref->digest)
		return 0; /* a digest is not a name a load can give */
	_cleanup_free_ char *full = image_ref_string(ref);
	if (full == NULL || (!strv_contains(l->names, full) && strv_append(&l->names, full) < 0))
		return vsl_error_errno(err, ENOMEM, "load");
	return 0;
}

static int grow_images(struct load *ld, struct load_image **ret, struct vsl_error **err)
{
	struct load_image *grown = realloc(ld->images, (ld->n_images + 1) * sizeof(*grown));
	if (grown == NULL)
		return vsl_error_errno(err, ENOMEM, "load");
	ld->images = grown;
	*ret = &grown[ld->n_images++];
	**ret = (struct load_image){0};
	return 0;
}

static int set_layers(struct load_image *l, size_t n, struct vsl_error **err)
{
	l->n_layers = 0;
	l->layer_paths = calloc(n + 1, sizeof(char *));
	if (l->layer_paths == NULL)
		return vsl_error_errno(err, ENOMEM, "load");
	l->n_layers = n;
	return 0;
}

static char *blob_path(const char *digest)
{
	char *p = NULL;
	if (!digest_is_valid(digest) || asprintf(&p, "blobs/sha256/%s", digest_hex(digest)) < 0)
		return NULL;
	return p;
}

/* docker-archive: manifest.json [{Config, RepoTags, Layers}]. */
static int parse_docker_manifest(struct load *ld, const char *text, size_t len, struct vsl_error **err)
{
	json_error_t jerr;
	_cleanup_json_ json_t *root = json_loadb(text, len, 0, &jerr);
	if (root == NULL || !json_is_array(root))
		return vsl_error_set_code(err, EINVAL, "archive: manifest.json: %s",
		                          root ? "expected an array" : jerr.text);
	size_t i;
	json_t *entry;
	json_array_foreach(root, i, entry)
	{
		struct load_image *l = NULL;
		int r = grow_images(ld, &l, err);
		if (r < 0)
			return r;
		const char *config = json_string_value(json_object_get(entry, "Config"));
		json_t *layers = json_object_get(entry, "Layers");
		json_t *tags = json_object_get(entry, "RepoTags");
		if (config == NULL || !json_is_array(layers) ||
		    (tags && !json_is_null(tags) && !json_is_array(tags)))
			return vsl_error_set_code(
			    err, EINVAL, "archive: manifest.json[%zu]: expected Config, Layers and RepoTags",
			    i);
		if ((l->config_path = strdup(config)) == NULL ||
		    (r = set_layers(l, json_array_size(layers), err)) < 0)
			return r < 0 ? r : vsl_error_errno(err, ENOMEM, "load");
		size_t j;
		json_t *v;
		json_array_foreach(layers, j, v)
		{
			if (!json_is_string(v))
				return vsl_error_set_code(
				    err, EINVAL, "archive: manifest.json[%zu].Layers[%zu]: expected a string",
				    i, j);
			if ((l->layer_paths[j] = strdup(json_string_value(v))) == NULL)
				return vsl_error_errno(err, ENOMEM, "load");
		}
		json_array_foreach(tags, j, v)
		{
			if (!json_is_string(v))
				return vsl_error_set_code(
				    err, EINVAL,
				    "archive: manifest.json[%zu].RepoTags[%zu]: expected a string", i, j);
			if ((r = add_name(l, json_string_value(v), err)) < 0)
				return r;
		}
	}
	return 0;
}

static int read_manifest_blob(struct load *ld, const struct descriptor *d, char **ret_body, size_t *ret_len,
                              struct vsl_error **err)
{
	_cleanup_free_ char *path = blob_path(d->digest);
	if (path == NULL)
		return vsl_error_errno(err, ENOMEM, "load");
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	int r = read_staged(ld, path, MANIFEST_MAX_SIZE, &body, &len, err);
	if (r < 0)
		return r;
	char digest[DIGEST_SIZE];
	digest_buffer(body, len, digest);
	if (strcmp(digest, d->digest) != 0)
		return vsl_error_set_code(err, EBADMSG,
		                          "archive: blob %s: content does not match its digest (%s)",
		                          d->digest, digest);
	*ret_body = TAKE_PTR(body);
	*ret_len = len;
	return 0;
}

/* The image manifest an index.json entry leads to (through a nested index: the host's platform). */
static int resolve_manifest(struct load *ld, const struct descriptor *d, char **ret_body, size_t *ret_len,
                            char **ret_type, int depth, struct vsl_error **err)
{
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	int r = read_manifest_blob(ld, d, &body, &len, err);
	if (r < 0)
		return r;
	enum manifest_kind kind;
	if ((r = manifest_kind_of(d->media_type, body, len, &kind, err)) < 0)
		return vsl_error_prefix(err, "archive: manifest %s", d->digest);
	if (kind == MANIFEST_IMAGE) {
		*ret_type = strdup(d->media_type ? d->media_type : MEDIA_TYPE_OCI_MANIFEST);
		if (*ret_type == NULL)
			return vsl_error_errno(err, ENOMEM, "load");
		*ret_body = TAKE_PTR(body);
		*ret_len = len;
		return 0;
	}
	if (depth > 2)
		return vsl_error_set_code(err, EINVAL, "archive: indexes nested too deep");
	_cleanup_image_index_ struct image_index *idx = NULL;
	if ((r = image_index_parse(body, len, &idx, err)) < 0)
		return vsl_error_prefix(err, "archive: index %s", d->digest);
	struct platform want = {0};
	if ((r = platform_host(&want, err)) < 0)
		return r;
	const struct descriptor *chosen = NULL;
	r = image_index_select(idx, &want, NULL, &chosen, err);
	platform_release(&want);
	if (r < 0)
		return r;
	return resolve_manifest(ld, chosen, ret_body, ret_len, ret_type, depth + 1, err);
}

static const char *annotation(const struct descriptor *d, const char *key)
{
	for (size_t i = 0; i < d->n_annotations; i++)
		if (strcmp(d->annotations[i].key, key) == 0)
			return d->annotations[i].value;
	return NULL;
}

/* index.json: the images of an OCI layout (alone, or beside a manifest.json). */
static int parse_oci_index(struct load *ld, const char *text, size_t len, bool names_only_here,
                           struct vsl_error **err)
{
	_cleanup_image_index_ struct image_index *idx = NULL;
	int r = image_index_parse(text, len, &idx, err);
	if (r < 0)
		return vsl_error_prefix(err, "archive: index.json");
	for (size_t i = 0; i < idx->n_manifests; i++) {
		const struct descriptor *d = &idx->manifests[i];
		_cleanup_free_ char *body = NULL, *type = NULL;
		size_t blen = 0;
		_cleanup_manifest_ struct manifest *m = NULL;
		_cleanup_error_ struct vsl_error *e = NULL;
		r = resolve_manifest(ld, d, &body, &blen, &type, 0, &e);
		if (r >= 0 && (r = manifest_parse(body, blen, &m, &e)) < 0)
			vsl_error_prefix(&e, "archive: manifest %s", d->digest);
		if (r < 0 && names_only_here)
			continue; /* manifest.json says what the images are; this was only a hint */
		if (r < 0) {
			if (err)
				*err = TAKE_PTR(e);
			return r;
		}
		/* The same image under several names: one entry, several names. */
		struct load_image *l = NULL;
		for (size_t k = 0; k < ld->n_images; k++) {
			_cleanup_free_ char *cp = blob_path(m->config.digest);
			if (cp && ld->images[k].config_path && strcmp(ld->images[k].config_path, cp) == 0)
				l = &ld->images[k];
		}
		if (l == NULL && names_only_here)
			continue; /* beside manifest.json, index.json only lends manifests */
		if (l == NULL) {
			if ((r = grow_images(ld, &l, err)) < 0)
				return r;
			if ((l->config_path = blob_path(m->config.digest)) == NULL ||
			    (r = set_layers(l, m->n_layers, err)) < 0)
				return r < 0 ? r : vsl_error_errno(err, ENOMEM, "load");
			for (size_t j = 0; j < m->n_layers; j++)
				if ((l->layer_paths[j] = blob_path(m->layers[j].digest)) == NULL)
					return vsl_error_errno(err, ENOMEM, "load");
		}
		if (l->manifest_body == NULL) {
			/* Only a manifest naming exactly the archive's layer blobs describes this image. */
			bool same = m->n_layers == l->n_layers;
			for (size_t j = 0; same && j < m->n_layers; j++) {
				_cleanup_free_ char *p = blob_path(m->layers[j].digest);
				same = p && strcmp(p, l->layer_paths[j]) == 0;
			}
			if (same) {
				l->manifest_body = TAKE_PTR(body);
				l->manifest_len = blen;
				l->manifest_media_type = TAKE_PTR(type);
			}
		}
		if (names_only_here)
			continue;
		const char *name = annotation(d, ANNOTATION_CONTAINERD_NAME);
		const char *ref_name = annotation(d, ANNOTATION_REF_NAME);
		/* A bare tag ("latest") names no repository: only a full reference is a name. */
		if (name == NULL && ref_name && strpbrk(ref_name, "/:"))
			name = ref_name;
		if (name && (r = add_name(l, name, err)) < 0)
			return r;
	}
	return 0;
}

/* Copies a staged file into the blob store; checks expected (may be NULL). */
static int store_staged(struct load *ld, const char *path, const char *expected, char ret_digest[DIGEST_SIZE],
                        uint64_t *ret_size, enum compression *ret_comp, struct vsl_error **err)
{
	_cleanup_close_ int fd = stage_open(ld->stage_fd, path, O_RDONLY);
	if (fd < 0)
		return vsl_error_errno(err, -fd, "archive: '%s'", path);
	bool had = expected && blob_store_has(ld->im->blobs, expected);
	_cleanup_blob_writer_ struct blob_writer *w = NULL;
	int r = blob_writer_new(ld->im->blobs, expected, -1, &w, err);
	if (r < 0)
		return r;
	char buf[65536];
	uint64_t size = 0;
	enum compression comp = COMPRESSION_NONE;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vsl_error_errno(err, errno, "archive: read '%s'", path);
		if (n == 0)
			break;
		if (size == 0)
			comp = compression_detect(buf, (size_t)n);
		if ((r = blob_writer_write(w, buf, (size_t)n, err)) < 0)
			return r;
		size += (uint64_t)n;
	}
	char digest[DIGEST_SIZE];
	if ((r = blob_writer_commit(w, digest, err)) < 0)
		return vsl_error_prefix(err, "archive: '%s'", path);
	if (!had && !strv_contains(ld->new_blobs, digest) && strv_append(&ld->new_blobs, digest) < 0)
		return vsl_error_errno(err, ENOMEM, "load");
	memcpy(ret_digest, digest, DIGEST_SIZE);
	*ret_size = size;
	if (ret_comp)
		*ret_comp = comp;
	return 0;
}

/* Checks every blobs/sha256/<hex> file against its name before anything is stored. */
static int verify_layout_blobs(struct load *ld, struct vsl_error **err)
{
	_cleanup_close_ int dir = stage_open(ld->stage_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY);
	if (dir == -ENOENT)
		return 0;
	if (dir < 0)
		return vsl_error_errno(err, -dir, "archive: blobs/sha256");
	_cleanup_closedir_ DIR *d = fdopendir(dir);
	if (d == NULL)
		return vsl_error_errno(err, errno, "archive: blobs/sha256");
	TAKE_FD(dir);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char want[DIGEST_SIZE];
		if (!path_digest(de->d_name, want) || strchr(de->d_name, '.'))
			return vsl_error_set_code(err, EINVAL, "archive: blobs/sha256/%s: not a digest",
			                          de->d_name);
		_cleanup_close_ int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return vsl_error_errno(err, errno, "archive: blobs/sha256/%s", de->d_name);
		char got[DIGEST_SIZE];
		int r = digest_fd(fd, got, err);
		if (r < 0)
			return r;
		if (strcmp(got, want) != 0)
			return vsl_error_set_code(err, EBADMSG,
			                          "archive: blob %s: content does not match its digest (%s)",
			                          want, got);
	}
	return 0;
}

static int prepare_image(struct load *ld, struct load_image *l, struct vsl_error **err)
{
	int r = read_staged(ld, l->config_path, IMAGE_CONFIG_MAX_SIZE, &l->config_body, &l->config_len, err);
	if (r < 0)
		return r;
	digest_buffer(l->config_body, l->config_len, l->id);
	char want[DIGEST_SIZE];
	if (path_digest(l->config_path, want) && strcmp(want, l->id) != 0)
		return vsl_error_set_code(err, EBADMSG,
		                          "archive: config '%s': content does not match its digest (%s)",
		                          l->config_path, l->id);
	if ((r = image_config_parse(l->config_body, l->config_len, &l->config, err)) < 0)
		return vsl_error_prefix(err, "archive: config '%s'", l->config_path);
	if (strv_length(l->config->diff_ids) != l->n_layers)
		return vsl_error_set_code(err, EINVAL,
		                          "archive: image %s: %zu layers but %zu diff ids in its config",
		                          l->id, l->n_layers, strv_length(l->config->diff_ids));
	size_t n = l->n_layers ? l->n_layers : 1;
	l->blob_digests = calloc(n, DIGEST_SIZE);
	l->chain_ids = calloc(n, DIGEST_SIZE);
	l->blob_types = calloc(n, sizeof(char *));
	l->blob_sizes = calloc(n, sizeof(uint64_t));
	l->sizes = calloc(n, sizeof(uint64_t));
	if (!l->blob_digests || !l->chain_ids || !l->blob_types || !l->blob_sizes || !l->sizes)
		return vsl_error_errno(err, ENOMEM, "load");
	return 0;
}

static const char *layer_media_type(enum compression c)
{
	switch (c) {
	case COMPRESSION_GZIP:
		return MEDIA_TYPE_OCI_LAYER_GZIP;
	case COMPRESSION_ZSTD:
		return MEDIA_TYPE_OCI_LAYER_ZSTD;
	default:
		return MEDIA_TYPE_OCI_LAYER;
	}
}

/* Stores a layer's blob and unpacks it (unless that layer is there already). */
static int load_layer(struct load *ld, struct load_image *l, size_t i, struct vsl_error **err)
{
	char expected[DIGEST_SIZE];
	bool has_expected = path_digest(l->layer_paths[i], expected);
	enum compression comp;
	int r = store_staged(ld, l->layer_paths[i], has_expected ? expected : NULL, l->blob_digests[i],
	                     &l->blob_sizes[i], &comp, err);
	if (r < 0)
		return r;
	if ((l->blob_types[i] = strdup(layer_media_type(comp))) == NULL)
		return vsl_error_errno(err, ENOMEM, "load");
	image_chain_id(i > 0 ? l->chain_ids[i - 1] : NULL, l->config->diff_ids[i], l->chain_ids[i]);
	r = images_unpack_blob(ld->im, l->blob_digests[i], l->chain_ids[i], l->config->diff_ids[i],
	                       &l->sizes[i], err);
	if (r < 0)
		return vsl_error_prefix(err, "layer '%s'", l->layer_paths[i]);
	if (r == 0) {
		/* Unpacked by an earlier image of this archive, not recorded yet. */
		for (struct load_image *o = ld->images; o < l; o++)
			for (size_t j = 0; j < o->n_layers; j++)
				if (strcmp(o->chain_ids[j], l->chain_ids[i]) == 0)
					l->sizes[i] = o->sizes[j];
		return 0;
	}
	if (strv_append(&ld->new_layers, l->chain_ids[i]) < 0)
		return vsl_error_errno(err, ENOMEM, "load");
	return 0;
}

/* The manifest recorded for the image: the layout's when it has one, else one written here. */
static int image_manifest(struct load *ld, struct load_image *l, char ret_digest[DIGEST_SIZE],
                          const char **ret_type, struct vsl_error **err)
{
	_cleanup_free_ char *made = NULL;
	const char *body = l->manifest_body;
	size_t len = l->manifest_len;
	*ret_type = l->manifest_media_type;
	if (body == NULL) {
		struct descriptor *layers = calloc(l->n_layers ? l->n_layers : 1, sizeof(*layers));
		if (layers == NULL)
			return vsl_error_errno(err, ENOMEM, "load");
		for (size_t i = 0; i < l->n_layers; i++)
			layers[i] = (struct descriptor){.media_type = l->blob_types[i],
			                                .digest = l->blob_digests[i],
			                                .size = (int64_t)l->blob_sizes[i]};
		struct manifest m = {
		    .media_type = (char *)MEDIA_TYPE_OCI_MANIFEST,
		    .config = {.media_type = (char *)MEDIA_TYPE_OCI_CONFIG,
		               .digest = l->id,
		               .size = (int64_t)l->config_len},
		    .layers = layers,
		    .n_layers = l->n_layers,
		};
		made = manifest_to_json(&m, &len);
		free(layers);
		if (made == NULL)
			return vsl_error_errno(err, ENOMEM, "load: write manifest");
		body = made;
		*ret_type = MEDIA_TYPE_OCI_MANIFEST;
	}
	bool had;
	digest_buffer(body, len, ret_digest);
	had = blob_store_has(ld->im->blobs, ret_digest);
	int r = blob_store_put(ld->im->blobs, body, len, ret_digest, NULL, err);
	if (r < 0)
		return r;
	if (!had && strv_append(&ld->new_blobs, ret_digest) < 0)
		return vsl_error_errno(err, ENOMEM, "load");
	return 0;
}

static int64_t parse_created(const char *s)
{
	if (s == NULL)
		return 0;
	struct tm tm = {0};
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	return rest ? (int64_t)timegm(&tm) : 0;
}

static int record_image(struct load *ld, struct load_image *l, struct vsl_error **err)
{
	char manifest_digest[DIGEST_SIZE];
	const char *manifest_type;
	int r = image_manifest(ld, l, manifest_digest, &manifest_type, err);
	if (r < 0)
		return r;
	_cleanup_free_ struct layer_record *layers = calloc(l->n_layers ? l->n_layers : 1, sizeof(*layers));
	if (layers == NULL)
		return vsl_error_errno(err, ENOMEM, "load");
	uint64_t total = 0;
	for (size_t i = 0; i < l->n_layers; i++) {
		layers[i] = (struct layer_record){
		    .chain_id = l->chain_ids[i],
		    .diff_id = l->config->diff_ids[i],
		    .parent = i > 0 ? l->chain_ids[i - 1] : NULL,
		    .blob_digest = l->blob_digests[i],
		    .blob_media_type = l->blob_types[i],
		    .blob_size = l->blob_sizes[i],
		    .size = l->sizes[i],
		};
		total += l->sizes[i];
	}
	char *no_names[] = {NULL};
	struct image_record rec = {
	    .id = l->id,
	    .manifest_digest = manifest_digest,
	    .manifest_media_type = (char *)manifest_type,
	    .created = parse_created(l->config->created),
	    .size = total,
	    .architecture = l->config->architecture,
	    .os = l->config->os,
	    .variant = l->config->variant,
	    .names = l->names ? l->names : no_names,
	    .digests = no_names,
	};
	return image_db_put(ld->im->db, &rec, layers, l->n_layers, err);
}

static int load_staged(struct load *ld, struct vsl_error **err)
{
	_cleanup_free_ char *docker = NULL, *index = NULL;
	size_t docker_len = 0, index_len = 0;
	_cleanup_error_ struct vsl_error *e1 = NULL, *e2 = NULL;
	bool has_docker = read_staged(ld, "manifest.json", ARCHIVE_DOC_MAX, &docker, &docker_len, &e1) >= 0;
	bool has_index = read_staged(ld, "index.json", ARCHIVE_DOC_MAX, &index, &index_len, &e2) >= 0;
	if (!has_docker && !has_index)
		return vsl_error_set_code(
		    err, EINVAL, "archive has neither manifest.json nor index.json: not an image archive");
	int r = verify_layout_blobs(ld, err);
	if (r < 0)
		return r;
	if (has_docker && (r = parse_docker_manifest(ld, docker, docker_len, err)) < 0)
		return r;
	if (has_index && (r = parse_oci_index(ld, index, index_len, has_docker, err)) < 0)
		return r;
	if (ld->n_images == 0)
		return vsl_error_set_code(err, EINVAL, "archive holds no image");
	for (size_t i = 0; i < ld->n_images; i++)
		if ((r = prepare_image(ld, &ld->images[i], err)) < 0)
			return r;
	for (size_t i = 0; i < ld->n_images; i++) {
		struct load_image *l = &ld->images[i];
		char id[DIGEST_SIZE];
		uint64_t size;
		if ((r = store_staged(ld, l->config_path, l->id, id, &size, NULL, err)) < 0)
			return r;
		for (size_t j = 0; j < l->n_layers; j++)
			if ((r = load_layer(ld, l, j, err)) < 0)
				return vsl_error_prefix(err, "image %s", l->id);
	}
	/* Everything checked: all images or none. */
	if ((r = db_begin(ld->im->db, err)) < 0)
		return r;
	for (size_t i = 0; i < ld->n_images; i++)
		if ((r = record_image(ld, &ld->images[i], err)) < 0) {
			db_rollback(ld->im->db);
			return r;
		}
	return db_commit(ld->im->db, err);
}

static int make_stage(int tmp_fd, char name[32], struct vsl_error **err)
{
	for (int tries = 0; tries < 16; tries++) {
		char hex[17];
		int r = random_hex(hex, 8);
		if (r < 0)
			return vsl_error_errno(err, -r, "load: random name");
		snprintf(name, 32, "load-%s", hex);
		if (mkdirat(tmp_fd, name, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return vsl_error_errno(err, errno, "load: create a staging directory");
	}
	return vsl_error_errno(err, EEXIST, "load: create a staging directory");
}

static int load_unlocked(struct images *im, int in_fd, char ***ret_loaded, struct vsl_error **err)
{
	if (mkdirat(im->root_dirfd, "tmp", 0700) < 0 && errno != EEXIST)
		return vsl_error_errno(err, errno, "load: create tmp");
	_cleanup_close_ int tmp_fd = openat(im->root_dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmp_fd < 0)
		return vsl_error_errno(err, errno, "load: open tmp");
	char stage[32];
	int r = make_stage(tmp_fd, stage, err);
	if (r < 0)
		return r;
	struct load ld = {.im = im, .stage_fd = openat(tmp_fd, stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
	if (ld.stage_fd < 0)
		r = vsl_error_errno(err, errno, "load: open staging directory");
	if (r >= 0)
		r = stage_archive(in_fd, ld.stage_fd, err);
	if (r >= 0)
		r = load_staged(&ld, err);

	_cleanup_strv_ char **loaded = NULL;
	for (size_t i = 0; r >= 0 && i < ld.n_images; i++) {
		struct load_image *l = &ld.images[i];
		if (l->names == NULL && strv_append(&loaded, l->id) < 0)
			r = vsl_error_errno(err, ENOMEM, "load");
		for (char **n = l->names; r >= 0 && n && *n; n++) {
			_cleanup_free_ char *f = image_ref_familiarize(*n);
			if (f == NULL || strv_append(&loaded, f) < 0)
				r = vsl_error_errno(err, ENOMEM, "load");
		}
	}
	if (r < 0) {
		/* What this load added goes; what was there before stays. */
		for (char **c = ld.new_layers; c && *c; c++)
			layer_store_remove(im->layers, *c, NULL);
		for (char **b = ld.new_blobs; b && *b; b++)
			blob_store_remove(im->blobs, *b, NULL);
	}
	if (ld.stage_fd >= 0)
		close(ld.stage_fd);
	rm_rf_at(tmp_fd, stage);
	for (size_t i = 0; i < ld.n_images; i++)
		load_image_release(&ld.images[i]);
	free(ld.images);
	strv_free(ld.new_blobs);
	strv_free(ld.new_layers);
	if (r < 0)
		return vsl_error_prefix(err, "load");
	if (ret_loaded)
		*ret_loaded = TAKE_PTR(loaded);
	return 0;
}

/* Adding an image: the images lock shared, so no rmi deletes a layer this
 * relies on between finding it present and recording the image. */
int images_load(struct images *im, int in_fd, char ***ret_loaded, struct vsl_error **err)
{
	int r = images_lock(im, LOCK_SH, err);
	if (r < 0)
		return r;
	r = load_unlocked(im, in_fd, ret_loaded, err);
	images_unlock(im);
	return r;
}

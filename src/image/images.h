/* The image room's front: pull, push, list, tag, remove, inspect, save, load,
 * import. It composes the content store (blob-store), the image records
 * (image-db), the unpacked layers (storage/layer-store), the registry client
 * and the layer tar code; the engine opens it once per command:
 *
 *     struct images *im;
 *     images_open(root_dirfd, db, &cfg, &im, &err);
 *     images_pull(im, "ubuntu", &opts, &id, &err);
 *
 * Names are stored fully qualified ("docker.io/library/ubuntu:latest"); what a
 * user types is normalized by images_resolve(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/registry.h"

struct db;
struct vsl_error;
struct images;

struct images_config {
	struct registry_config registry;
	unsigned max_concurrent_downloads; /* 0: 3, as Docker */
};

int images_open(int root_dirfd, struct db *db, const struct images_config *cfg, struct images **ret,
                struct vsl_error **err);
void images_free(struct images *im);
static inline void images_freep(struct images **im)
{
	images_free(*im);
}
#define _cleanup_images_ __attribute__((cleanup(images_freep)))

/* Progress of a pull or push, for Docker-style output. Callbacks are
 * serialized: they never run at the same time, whichever thread sends them. */
enum image_event_kind {
	IMAGE_EVENT_STATUS, /* a line of its own: "latest: Pulling from library/ubuntu" */
	IMAGE_EVENT_LAYER,  /* one layer's state: id + status (+ current/total) */
};
struct image_event {
	enum image_event_kind kind;
	const char *id;     /* 12 hex digits of the layer's blob digest */
	const char *status; /* "Pulling fs layer", "Downloading", "Pull complete", ... */
	uint64_t current, total;
};
typedef void (*image_event_fn)(void *userdata, const struct image_event *ev);

struct pull_opts {
	const char *platform; /* NULL: the host's */
	image_event_fn on_event;
	void *userdata;
};
/* Pulls `ref` (as typed: "ubuntu", "host:5000/x@sha256:...") and returns the
 * image id. Layers are fetched in parallel and unpacked as they stream in; a
 * layer already present is neither fetched nor unpacked again. */
int images_pull(struct images *im, const char *ref, const struct pull_opts *opts, char **ret_id,
                struct vsl_error **err);

/* What a user typed (name, name:tag, name@digest, id or unique id prefix) ->
 * the image id. -ENOENT: "no such image". */
int images_resolve(struct images *im, const char *name_or_id, char **ret_id, struct vsl_error **err);

struct image_record;

/* Every image, newest first. Free with image_record_free() each, then the array. */
int images_list(struct images *im, struct image_record ***ret, size_t *ret_n, struct vsl_error **err);
/* `tag SOURCE TARGET`: SOURCE as images_resolve() takes it, TARGET a name[:tag]. */
int images_tag(struct images *im, const char *source, const char *target, struct vsl_error **err);

/* Whether a container uses an image (the engine knows; the image room does not). */
typedef bool (*image_in_use_fn)(void *userdata, const char *image_id, char **ret_user);
struct remove_opts {
	bool force;
	image_in_use_fn in_use;
	void *userdata;
};
/* `rmi`: a name loses its tag; an image whose last name goes (or an id) is
 * deleted with its layers and blobs that no other image uses. *ret_lines gets
 * Docker's "Untagged: ..." / "Deleted: ..." lines. */
int images_remove(struct images *im, const char *name_or_id, const struct remove_opts *opts,
                  char ***ret_lines, struct vsl_error **err);

/* `image inspect`: Docker's JSON shape (Id, RepoTags, RepoDigests, Created,
 * Config, RootFS, Size, Architecture, Os, ...), as compact JSON text. */
int images_inspect(struct images *im, const char *id, char **ret_json, struct vsl_error **err);

struct image_history_entry {
	char *id; /* the image id for the newest entry, NULL ("<missing>") for the others */
	char *created;
	char *created_by;
	char *comment;
	uint64_t size;
};
/* `history`: newest first. */
int images_history(struct images *im, const char *id, struct image_history_entry **ret, size_t *ret_n,
                   struct vsl_error **err);
void image_history_free(struct image_history_entry *h, size_t n);

/* ---- transfers: push, save, load, import, login (push.c, archive.c, import.c) ---- */

#include "image/compress.h"

struct push_opts {
	/* For layers stored uncompressed (loaded from an archive): compressed
	 * in-process before the upload, and kept. COMPRESSION_NONE means gzip. */
	enum compression compression;
	uint64_t chunk_size;       /* 0: one monolithic PUT per blob */
	bool insecure;             /* --tls-verify=false */
	const char *user, *secret; /* --creds; NULL: the auth file's */
	image_event_fn on_event;
	void *userdata;
};
/* `push NAME[:TAG]`: blobs the registry has are skipped, the others uploaded,
 * then the config and the manifest, PUT by tag. The image then carries the
 * pushed manifest's digest among its RepoDigests. */
int images_push(struct images *im, const char *name, const struct push_opts *opts, struct vsl_error **err);

enum save_format {
	SAVE_DOCKER_ARCHIVE, /* Docker 25's: an OCI layout plus manifest.json and repositories */
	SAVE_OCI_ARCHIVE,    /* the OCI layout only */
};
/* `save`: a tar of the images (names, ids) to out_fd, with their blobs as
 * stored, so every digest stays valid. A name without a tag saves every tag
 * of that repository, as Docker does. */
int images_save(struct images *im, char **names_or_ids, int out_fd, enum save_format fmt,
                struct vsl_error **err);

/* `load`: a docker-archive (legacy or Docker 25 layout) or an oci-archive,
 * plain, gzip or zstd. Every digest and diff id is checked before anything is
 * recorded; on failure nothing of the archive stays. *ret_loaded: what was
 * loaded, familiar names ("ubuntu:latest") and, for images without a name,
 * ids ("sha256:..."); NULL-terminated. */
int images_load(struct images *im, int in_fd, char ***ret_loaded_names_or_ids, struct vsl_error **err);

/* `import`: a one-layer image from a tar of a root filesystem (any
 * compression). changes: Dockerfile lines (CMD, ENTRYPOINT, ENV, EXPOSE,
 * LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL); message: the history comment
 * (NULL: "Imported from -"); name: NULL for a dangling image. */
int images_import(struct images *im, int in_fd, const char *name, char **changes, const char *message,
                  char **ret_id, struct vsl_error **err);

/* `login`: checks the credentials against server (a domain, or a URL such as
 * "https://index.docker.io/v1/"; NULL: docker.io) and stores them in the auth
 * file. */
int images_login(struct images *im, const char *server, const char *user, const char *secret, bool insecure,
                 struct vsl_error **err);
/* `logout`: -ENOENT ("not logged in to SERVER") when there was nothing.
 * *ret_key: the name the credentials were stored under, for the message. */
int images_logout(struct images *im, const char *server, char **ret_key, struct vsl_error **err);

struct image_config;
/* What a container made from the image needs: its config, and its layer
 * directories top first (overlay's lowerdir order). */
int images_get_config(struct images *im, const char *id, struct image_config **ret, struct vsl_error **err);
int images_layer_paths(struct images *im, const char *id, char ***ret, struct vsl_error **err);

/* ---- prune and the content store's garbage collection (prune.c) ---- */

struct prune_opts {
	bool all;               /* every image no container uses; default: dangling (untagged) ones only */
	int64_t until;          /* unix seconds; 0: any age. Only images created before it */
	char **labels;          /* "key" or "key=value" an image must carry (all of them) */
	char **not_labels;      /* "key" or "key=value" it must not carry (label!=) */
	image_in_use_fn in_use; /* images a container uses are kept */
	void *userdata;
};
/* `image prune`: removes the images the options select, then collects the
 * content store's garbage (images_gc()). *ret_lines gets Docker's prune lines
 * ("untagged: ubuntu:latest", "deleted: sha256:..."), *ret_reclaimed the bytes
 * freed on disk. An image that cannot be removed is skipped, as Docker does. */
int images_prune(struct images *im, const struct prune_opts *opts, char ***ret_lines, uint64_t *ret_reclaimed,
                 struct vsl_error **err);

/* Removes what no image record references: blobs, unpacked layer
 * directories, leftovers of crashed ingests, removals and loads (the stores'
 * temporary files). Holds the images lock exclusive, so no pull, load, import
 * or push is between storing a file and recording it. ret_reclaimed may be NULL. */
int images_gc(struct images *im, uint64_t *ret_reclaimed, struct vsl_error **err);

/* The tags the registry holds for name's repository (tags.c), in the
 * registry's order; NULL-terminated. */
int images_remote_tags(struct images *im, const char *name, char ***ret, struct vsl_error **err);

/* ---- commit (commit.c) ---- */

struct image_container_config;

struct images_commit_opts {
	const char *parent_id; /* the image the new layer goes on */
	int diff_dirfd;        /* an overlay upper directory (whiteouts as 0/0 devices): the layer */
	/* Edits the parent's config into the new image's (the container's own
	 * Cmd, Env, ...) before the changes are applied; may be NULL. */
	int (*edit_config)(void *userdata, struct image_container_config *c, struct vsl_error **err);
	void *userdata;
	char **changes;         /* Dockerfile lines, as images_import() takes them */
	const char *message;    /* the history comment; NULL: none */
	const char *author;     /* NULL: none */
	const char *created_by; /* the history's created_by (Docker: the container's command) */
	const char *name;       /* REPOSITORY[:TAG]; NULL: a dangling image */
};
/* `commit`: the parent plus one gzip layer made from diff_dirfd, recorded like
 * a pulled image, with a history entry appended. *ret_id: "sha256:...". */
int images_commit(struct images *im, const struct images_commit_opts *o, char **ret_id,
                  struct vsl_error **err);
/* Applies one Dockerfile line (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER,
 * VOLUME, WORKDIR, STOPSIGNAL) to a config, as `--change` does. */
int images_config_apply_change(struct image_container_config *c, const char *line, struct vsl_error **err);

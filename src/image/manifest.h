/* Image documents: manifests, indexes (manifest lists) and image configs, as
 * the OCI image spec and Docker's image manifest v2 schema 2 write them,
 * parsed into C structs and written back.
 *
 *     enum manifest_kind kind;
 *     if (manifest_kind_of(content_type, body, len, &kind, err) < 0) ...
 *     if (kind == MANIFEST_INDEX) {
 *             _cleanup_image_index_ struct image_index *idx = NULL;
 *             image_index_parse(body, len, &idx, err);
 *             image_index_select(idx, &want, "ubuntu:latest", &desc, err);
 *             ... fetch desc->digest, then manifest_parse() it
 *     }
 *
 * Documents come from registries and archives, so everything is checked on
 * the way in: every digest is a valid sha256 digest (they become file names),
 * sizes are not negative, bodies are capped, and errors name the field's path
 * ("manifest: layers[2].digest: invalid digest 'x'"). Unknown fields are
 * ignored, as the specs ask.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/digest.h"
#include "util/json-table.h" /* struct json_kv */

struct vsl_error;

#define MEDIA_TYPE_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_TYPE_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_TYPE_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_TYPE_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define MEDIA_TYPE_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define MEDIA_TYPE_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
/* Schema 1, only to recognise and refuse it. */
#define MEDIA_TYPE_DOCKER_SCHEMA1        "application/vnd.docker.distribution.manifest.v1+json"
#define MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

#define MEDIA_TYPE_DOCKER_LAYER         "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MEDIA_TYPE_DOCKER_FOREIGN_LAYER "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MEDIA_TYPE_OCI_LAYER            "application/vnd.oci.image.layer.v1.tar"
#define MEDIA_TYPE_OCI_LAYER_GZIP       "application/vnd.oci.image.layer.v1.tar+gzip"
#define MEDIA_TYPE_OCI_LAYER_ZSTD       "application/vnd.oci.image.layer.v1.tar+zstd"
#define MEDIA_TYPE_OCI_LAYER_ND         "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define MEDIA_TYPE_OCI_LAYER_ND_GZIP    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define MEDIA_TYPE_OCI_LAYER_ND_ZSTD    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

/* Registries limit manifests to 4 MiB; configs are larger only with absurd histories. */
#define MANIFEST_MAX_SIZE     (4u << 20)
#define IMAGE_CONFIG_MAX_SIZE (8u << 20)

struct platform {
	char *os;           /* "linux" */
	char *architecture; /* "amd64", "arm64": Go's GOARCH names */
	char *variant;      /* "v8", "v7"; NULL: none */
	char *os_version;   /* Windows builds; NULL: none */
};

struct descriptor {
	char *media_type;
	char *digest;              /* digest_is_valid() */
	int64_t size;              /* >= 0 */
	struct platform *platform; /* in an index; NULL: none */
	char **urls;               /* foreign layers; NULL: none */
	struct json_kv *annotations;
	size_t n_annotations;
};

enum manifest_kind { MANIFEST_IMAGE, MANIFEST_INDEX };

/* Decides from the Content-Type (may be NULL or generic, such as
 * "application/json") and the body's mediaType/schemaVersion/manifests/layers
 * fields. Docker schema 1 (schemaVersion 1, or its media types) is refused:
 * "schema 1 manifests are no longer supported; push the image again with a
 * current docker or vessel" (EPROTONOSUPPORT). */
int manifest_kind_of(const char *content_type, const void *body, size_t len, enum manifest_kind *ret,
                     struct vsl_error **err);

struct manifest {
	char *media_type; /* NULL when the body has none (OCI allows that) */
	struct descriptor config;
	struct descriptor *layers;
	size_t n_layers;
	struct json_kv *annotations;
	size_t n_annotations;
};

struct image_index {
	char *media_type; /* NULL when the body has none */
	struct descriptor *manifests;
	size_t n_manifests;
	struct json_kv *annotations;
	size_t n_annotations;
};

int manifest_parse(const void *body, size_t len, struct manifest **ret, struct vsl_error **err);
int image_index_parse(const void *body, size_t len, struct image_index **ret, struct vsl_error **err);
void manifest_free(struct manifest *m);
void image_index_free(struct image_index *idx);

/* "linux/arm64/v8", "linux/amd64", "arm64", by Docker's rules: the OS defaults
 * to linux; architectures are normalised (x86_64 -> amd64, aarch64 -> arm64
 * with variant v8, armhf -> arm v7, armel -> arm v6, i386 -> 386, arm -> arm
 * v7); a lone OS name takes the host's architecture. */
int platform_parse(const char *s, struct platform *ret, struct vsl_error **err);
/* The host's platform, from uname(), normalised the same way. */
int platform_host(struct platform *ret, struct vsl_error **err);
/* "linux/arm64/v8"; NULL when out of memory. */
char *platform_string(const struct platform *p);
/* Frees the strings; the struct itself is the caller's. */
void platform_release(struct platform *p);

/* The best entry for want: os and architecture must match (after
 * normalisation); the variant matches exactly, else the closest lower
 * compatible one (arm v7 runs v6 and v5 images, as containerd decides).
 * Entries for the platform "unknown" (build attestations) are never chosen.
 * When none matches (ENOENT): "no image for platform linux/s390x in
 * 'ubuntu:latest' (available: linux/amd64, linux/arm64/v8)"; name is only
 * used in that message and may be NULL. *ret points into idx. */
int image_index_select(const struct image_index *idx, const struct platform *want, const char *name,
                       const struct descriptor **ret, struct vsl_error **err);

struct image_history {
	char *created; /* RFC 3339 */
	char *created_by;
	char *author;
	char *comment;
	bool empty_layer;
};

struct image_healthcheck {
	char **test; /* ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"] */
	int64_t interval, timeout, start_period, start_interval; /* nanoseconds; 0: inherit */
	int32_t retries;
};

/* The "config" object: what a container of the image starts with. */
struct image_container_config {
	char *user;
	char **exposed_ports; /* "80/tcp" */
	char **env;           /* "KEY=value" */
	char **entrypoint;    /* NULL: none; empty: reset by the image */
	char **cmd;
	char **volumes; /* "/data" */
	char *working_dir;
	struct json_kv *labels;
	size_t n_labels;
	char *stop_signal;
	char **shell;
	char **onbuild;
	struct image_healthcheck *healthcheck; /* NULL: none */
	bool args_escaped;                     /* Windows images */
};

struct image_config {
	char *created; /* RFC 3339; NULL: unknown */
	char *author;
	char *architecture;
	char *os;
	char *variant;
	char *os_version;
	char *comment; /* "Imported from ..." */
	struct image_container_config config;
	char **diff_ids; /* rootfs.diff_ids (rootfs.type must be "layers"); digest_is_valid() each */
	struct image_history *history;
	size_t n_history;
};

int image_config_parse(const void *body, size_t len, struct image_config **ret, struct vsl_error **err);
void image_config_free(struct image_config *c);

/* For images vessel makes (import, commit, build): Docker-compatible compact
 * JSON, config keys in Docker's spelling ("Env", "Cmd", "WorkingDir", ...).
 * Zero values are left out; an empty (non-NULL) list is written as [].
 * malloc'd; NULL when out of memory or a string is not UTF-8. */
char *image_config_to_json(const struct image_config *c, size_t *ret_len);
/* schemaVersion 2; mediaType as in m (set it for Docker's format). */
char *manifest_to_json(const struct manifest *m, size_t *ret_len);
char *image_index_to_json(const struct image_index *idx, size_t *ret_len);

/* OCI chain ID: ChainID(L0) = DiffID(L0);
 * ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). Both inputs are
 * valid digests (as the parsers above guarantee). */
void image_chain_id(const char *parent_chain_id /* NULL for the first */, const char *diff_id,
                    char ret[DIGEST_SIZE]);

static inline void manifest_freep(struct manifest **m)
{
	manifest_free(*m);
}
static inline void image_index_freep(struct image_index **idx)
{
	image_index_free(*idx);
}
static inline void image_config_freep(struct image_config **c)
{
	image_config_free(*c);
}
#define _cleanup_manifest_     __attribute__((cleanup(manifest_freep)))
#define _cleanup_image_index_  __attribute__((cleanup(image_index_freep)))
#define _cleanup_image_config_ __attribute__((cleanup(image_config_freep)))

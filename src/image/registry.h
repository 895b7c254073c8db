/* A client of container registries: the OCI distribution API (and Docker's
 * registry protocol, which is the same on the wire) over libcurl.
 *
 *     _cleanup_registry_ struct registry *r = NULL;
 *     registry_open("docker.io", &cfg, &r, &err);
 *     registry_get_manifest(r, "library/ubuntu", "22.04", &m, &err);
 *     registry_fetch_blob(r, "library/ubuntu", digest, size, sink, progress, ud, &err);
 *
 * It speaks to the registry (and, for pulls from docker.io or the configured
 * mirror_registries, to its mirrors first), probes /v2/, answers Bearer and
 * Basic challenges with credentials from the auth file or given explicitly,
 * retries 429/5xx and broken connections a few times, follows redirects to blob
 * storage without the registry's Authorization, and verifies every digest.
 * A registry object may be used from several threads at once.
 *
 * Errors carry an errno a caller can test: ENOENT (manifest, blob or repository
 * unknown), EACCES (denied or wrong credentials), EBADMSG (content does not match
 * its digest or size), EFBIG (manifest too large), ECONNREFUSED/EHOSTUNREACH/
 * ETIMEDOUT/EIO (transport), EPROTO (the server does not speak the protocol). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/digest.h"

struct vsl_error;

struct registry_config {
	char **mirrors;             /* URLs ("http://127.0.0.1:5000", "https://mirror.gcr.io") tried first, in
	                               order, for docker.io */
	char **mirror_registries;   /* other registry domains the mirrors apply to besides docker.io (may be
	                               NULL) */
	char **insecure_registries; /* domains (host[:port]) or CIDRs allowed plain HTTP / unverified TLS */
	bool tls_verify;            /* default true; false = --tls-verify=false for this registry */
	const char *auth_file;      /* NULL: the default (see auth.h) */
	const char *user_agent;     /* NULL: "vessel/<version>" */
};

struct registry;

/* domain as in a normalized reference ("docker.io" -> https://registry-1.docker.io).
 * Loopback registries (localhost, 127.0.0.0/8, ::1) and insecure ones: HTTPS
 * without verification first, then plain HTTP (as Docker does). cfg may be NULL
 * (no mirrors, verified TLS, the default auth file); a cfg from `= {0}` has
 * tls_verify false, so set it. tls_verify false also allows plain HTTP, as
 * for an insecure registry. Nothing is sent yet. */
int registry_open(const char *domain, const struct registry_config *cfg, struct registry **ret,
                  struct vsl_error **err);
void registry_free(struct registry *r);

static inline void registry_freep(struct registry **r)
{
	registry_free(*r);
}
#define _cleanup_registry_ __attribute__((cleanup(registry_freep)))

/* Explicit credentials (login, --creds) override those from the auth file. */
int registry_set_credentials(struct registry *r, const char *user, const char *secret,
                             struct vsl_error **err);

/* GET /v2/ with authentication: `vessel login` uses it to verify credentials. */
int registry_ping(struct registry *r, struct vsl_error **err);

/* The largest manifest or index accepted. */
#define REGISTRY_MANIFEST_MAX (4u << 20)

struct registry_manifest {
	char *body; /* NUL-terminated for convenience; len excludes the NUL */
	size_t len;
	char *media_type; /* Content-Type without parameters, else the body's "mediaType", else "" */
	char digest[DIGEST_SIZE];
};

/* reference: a tag or a digest. Accepts Docker schema2 manifests and lists, OCI
 * manifests and indexes, and schema1 (so the caller can refuse it clearly). The
 * digest is computed over the body; when the reference is a digest, a mismatch
 * is an error. */
int registry_get_manifest(struct registry *r, const char *repo, const char *reference,
                          struct registry_manifest *ret, struct vsl_error **err);
void registry_manifest_release(struct registry_manifest *m);

/* Streams a blob to sink as it arrives; verifies size (when expected_size >= 0)
 * and digest at the end: a mismatch is an error (the caller discards what it
 * got). A connection broken midway is resumed with a Range request, so the sink
 * sees every byte once and in order. Redirects to blob storage are followed
 * without the registry's Authorization. progress may be NULL; total is 0 when
 * unknown. */
typedef int (*registry_sink_fn)(void *userdata, const void *buf, size_t len, struct vsl_error **err);
typedef void (*registry_progress_fn)(void *userdata, uint64_t done, uint64_t total);
int registry_fetch_blob(struct registry *r, const char *repo, const char *digest, int64_t expected_size,
                        registry_sink_fn sink, registry_progress_fn progress, void *userdata,
                        struct vsl_error **err);

/* HEAD; *ret_exists false on 404. Asks for pull access only, unless
 * registry_prepare_push() (or a push) named the repository before. */
int registry_blob_exists(struct registry *r, const char *repo, const char *digest, bool *ret_exists,
                         struct vsl_error **err);

/* From now on, requests for repo ask for push access too: a pusher calls it
 * first, so that its registry_blob_exists() checks in a repository that does
 * not exist yet are not refused (a pull-only token cannot see it). */
int registry_prepare_push(struct registry *r, const char *repo, struct vsl_error **err);

/* Uploads size bytes of fd (read with pread from offset 0): POST, then one
 * monolithic PUT, or PATCH chunks of chunk_size then PUT ?digest= when
 * chunk_size > 0. With from_repo (same registry) a cross-repository mount is
 * tried first. The registry checks the digest. progress may be NULL. */
int registry_push_blob(struct registry *r, const char *repo, const char *digest, int fd, uint64_t size,
                       uint64_t chunk_size, const char *from_repo, registry_progress_fn progress,
                       void *userdata, struct vsl_error **err);

int registry_put_manifest(struct registry *r, const char *repo, const char *reference, const char *media_type,
                          const void *body, size_t len, struct vsl_error **err);

/* A NULL-terminated list (free with strv_free()). Follows Link pagination. */
int registry_list_tags(struct registry *r, const char *repo, char ***ret, struct vsl_error **err);
/* Same, asking for page_size tags a page (?n=); 0 lets the registry choose. */
int registry_list_tags_paged(struct registry *r, const char *repo, unsigned page_size, char ***ret,
                             struct vsl_error **err);

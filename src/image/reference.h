/* Image references ("ubuntu", "ghcr.io/me/app:1", "name@sha256:..."), parsed and
 * normalized as Docker does (distribution/reference's ParseNormalizedNamed):
 * a name without a domain lives on docker.io, and a one-component name there
 * is an official image under "library/". A reference without tag or digest
 * means ":latest".
 *
 *     _cleanup_image_ref_ struct image_ref *r = NULL;
 *     if (image_ref_parse("ubuntu", &r, err) < 0) ...
 *     r->domain == "docker.io", r->path == "library/ubuntu", r->tag == "latest"
 *     image_ref_string(r)   -> "docker.io/library/ubuntu:latest" (what vessel stores)
 *     image_ref_familiar(r) -> "ubuntu:latest"                   (what users read)
 *
 * The string functions return malloc'ed strings, NULL only when out of memory.
 */
#pragma once

#include <stdbool.h>

struct vsl_error;

struct image_ref {
	/* "docker.io", "localhost:5000", "ghcr.io", "[::1]:5000". Empty (never NULL)
	 * in one odd case Docker accepts: a first component that looks like a domain
	 * but is not a valid one, yet is a valid path component ("my_reg.local/app"):
	 * the whole name is then the path, as in Docker. */
	char *domain;
	char *path;   /* "library/ubuntu", "me/app" */
	char *tag;    /* "latest" when neither tag nor digest was given; NULL when only a digest was */
	char *digest; /* "sha256:<64 hex>" (sha384, sha512 are accepted too, as by Docker) or NULL */
};

/* Parses and normalizes a reference as the user typed it. An invalid one fails
 * with -EINVAL and Docker's own message, byte for byte ("invalid reference format",
 * "invalid reference format: repository name (library/Ubuntu) must be lowercase",
 * "invalid checksum digest length", ...), so callers may add context but should
 * not reword it. A string of 64 lowercase hex digits is refused: callers treat it
 * as an image ID. */
int image_ref_parse(const char *s, struct image_ref **ret, struct vsl_error **err);
void image_ref_free(struct image_ref *r);

/* "docker.io/library/ubuntu:latest", "name@sha256:...", "name:tag@sha256:..." */
char *image_ref_string(const struct image_ref *r);
/* "docker.io/library/ubuntu": the repository, without tag or digest */
char *image_ref_name(const struct image_ref *r);
/* As docker prints it: "ubuntu:latest", "me/app:1", "ghcr.io/x/y:z", "ubuntu@sha256:..." */
char *image_ref_familiar(const struct image_ref *r);
/* "ubuntu", "me/app", "ghcr.io/x/y" */
char *image_ref_familiar_name(const struct image_ref *r);

/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
bool image_ref_tag_is_valid(const char *tag);

/* The familiar form of a full name vessel stored ("docker.io/library/ubuntu:latest"
 * -> "ubuntu:latest", "docker.io/me/app" -> "me/app"); other strings are copied
 * unchanged. NULL only when out of memory. */
char *image_ref_familiarize(const char *full);

static inline void image_ref_freep(struct image_ref **r)
{
	image_ref_free(*r);
	*r = (void *)0;
}
#define _cleanup_image_ref_ __attribute__((cleanup(image_ref_freep)))

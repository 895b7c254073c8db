/* Content digests as the OCI image spec writes them: "sha256:" + 64 lowercase hex.
 *
 *     _cleanup_digester_ struct digester *d = digester_new();
 *     digester_update(d, buf, n);            (as data streams by)
 *     char digest[DIGEST_SIZE];
 *     digester_final(d, digest);             ("sha256:e3b0...")
 *
 * OpenSSL's libcrypto does the hashing; only sha256 is produced, as every
 * registry and tool writes it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct vsl_error;

#define DIGEST_PREFIX  "sha256:"
#define DIGEST_HEX_LEN 64
#define DIGEST_SIZE    (sizeof(DIGEST_PREFIX) - 1 + DIGEST_HEX_LEN + 1) /* with the NUL */

struct digester;

/* NULL when out of memory. */
struct digester *digester_new(void);
void digester_update(struct digester *d, const void *buf, size_t len);
/* Writes "sha256:<hex>"; the digester may not be updated afterwards. */
void digester_final(struct digester *d, char ret[DIGEST_SIZE]);
void digester_free(struct digester *d);

static inline void digester_freep(struct digester **d)
{
	digester_free(*d);
}
#define _cleanup_digester_ __attribute__((cleanup(digester_freep)))

void digest_buffer(const void *buf, size_t len, char ret[DIGEST_SIZE]);
/* Reads fd from its current offset to the end. */
int digest_fd(int fd, char ret[DIGEST_SIZE], struct vsl_error **err);

/* "sha256:" followed by exactly 64 lowercase hex digits: the only digests that
 * are ever used as file names, so this check also keeps a digest from a
 * registry or an archive from naming a path. */
bool digest_is_valid(const char *s);
/* The hex part of a valid digest. */
const char *digest_hex(const char *digest);

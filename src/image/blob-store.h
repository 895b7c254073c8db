/* The content store: blobs (layers, configs, manifests) named by their sha256
 * digest, at `<root>/blobs/sha256/<hex>`.
 *
 *     _cleanup_blob_store_ struct blob_store *s = NULL;
 *     blob_store_open(root_dirfd, &s, err);
 *
 *     _cleanup_blob_writer_ struct blob_writer *w = NULL;
 *     blob_writer_new(s, desc->digest, desc->size, &w, err);
 *     blob_writer_write(w, buf, n, err);          (as the data arrives)
 *     blob_writer_commit(w, NULL, err);           (verified, then visible)
 *
 * A blob only ever appears under its name complete and verified: it is written
 * to an unnamed temporary file in `<root>/tmp/` (same filesystem), hashed as it
 * is written, checked against the expected digest and size, synced, and only
 * then linked into place. A crash or kill -9 at any point leaves either no
 * blob or the whole blob, and no half-written file under any name. Several
 * processes storing the same blob at once all succeed.
 *
 * Digests are checked with digest_is_valid() before they form a path, so a
 * digest from a registry or an archive cannot name a file outside the store.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/digest.h"

struct vsl_error;
struct blob_store;
struct blob_writer;

/* root_dirfd is borrowed; `blobs/sha256` and `tmp` are created under it as needed. */
int blob_store_open(int root_dirfd, struct blob_store **ret, struct vsl_error **err);
void blob_store_free(struct blob_store *s);

/* False for an invalid digest. */
bool blob_store_has(struct blob_store *s, const char *digest);
/* Opens a stored blob for reading. -ENOENT when it is not in the store. */
int blob_store_open_blob(struct blob_store *s, const char *digest, int *ret_fd, uint64_t *ret_size,
                         struct vsl_error **err);
/* Reads a whole blob of at most max bytes into a NUL-terminated buffer and
 * checks its digest again: manifests and configs are parsed from this, and a
 * blob damaged on disk must not be trusted. -ENOENT when absent, -EFBIG when
 * larger than max, -EBADMSG when the content does not match the digest. */
int blob_store_read(struct blob_store *s, const char *digest, size_t max, char **ret_buf, size_t *ret_len,
                    struct vsl_error **err);
/* Stores buf. expected_digest NULL: any content (the digest is returned);
 * otherwise a mismatch is -EBADMSG and nothing is stored. ret_digest may be NULL. */
int blob_store_put(struct blob_store *s, const void *buf, size_t len, const char *expected_digest,
                   char ret_digest[DIGEST_SIZE], struct vsl_error **err);
/* Removes a blob; a blob already absent is not an error. */
int blob_store_remove(struct blob_store *s, const char *digest, struct vsl_error **err);

/* Streaming ingest. expected_digest NULL: any content; expected_size -1:
 * unknown. Writing past expected_size fails at once (a server sending more
 * than it announced is not read to the end). The store must outlive the writer. */
int blob_writer_new(struct blob_store *s, const char *expected_digest, int64_t expected_size,
                    struct blob_writer **ret, struct vsl_error **err);
int blob_writer_write(struct blob_writer *w, const void *buf, size_t len, struct vsl_error **err);
/* Verifies digest and size and makes the blob visible. On a mismatch
 * (-EBADMSG) the temporary file is dropped and nothing is stored. Either way
 * the writer is finished: only blob_writer_free() may follow. ret_digest may be NULL. */
int blob_writer_commit(struct blob_writer *w, char ret_digest[DIGEST_SIZE], struct vsl_error **err);
/* Without a commit, drops what was written. */
void blob_writer_free(struct blob_writer *w);

static inline void blob_store_freep(struct blob_store **s)
{
	blob_store_free(*s);
}
#define _cleanup_blob_store_ __attribute__((cleanup(blob_store_freep)))

static inline void blob_writer_freep(struct blob_writer **w)
{
	blob_writer_free(*w);
}
#define _cleanup_blob_writer_ __attribute__((cleanup(blob_writer_freep)))

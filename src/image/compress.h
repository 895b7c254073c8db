/* In-process compression of layer blobs: gzip (zlib) and zstd (libzstd).
 *
 * A zreader turns a file descriptor holding a blob of any supported
 * compression into its uncompressed bytes; the compression is detected from
 * the first bytes, so callers never need to trust a media type. It also
 * hashes the raw bytes it reads, which gives the blob digest at no extra pass:
 *
 *     _cleanup_zreader_ struct zreader *r = NULL;
 *     if (zreader_open(fd, &r, err) < 0) ...
 *     while ((n = zreader_read(r, buf, sizeof(buf), err)) > 0) ...
 *     zreader_input_digest(r, digest, &size);
 *
 * A zwriter compresses into a sink callback (a file, a hash, a socket).
 * No external program is ever run. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/digest.h"

struct vsl_error;

enum compression { COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_ZSTD };

/* By magic bytes; anything unrecognised (including too few bytes) is NONE. */
enum compression compression_detect(const void *buf, size_t len);
/* "none", "gzip", "zstd". */
const char *compression_name(enum compression c);

struct zreader;

/* fd is borrowed, not closed; it is read from its current offset. */
int zreader_open(int fd, struct zreader **ret, struct vsl_error **err);
/* Uncompressed bytes: > 0 read, 0 at the end, < 0 on a read error or corrupt
 * or truncated data. A gzip blob may hold several members, one after another;
 * a zstd blob several frames. */
ssize_t zreader_read(struct zreader *r, void *buf, size_t len, struct vsl_error **err);
enum compression zreader_compression(const struct zreader *r);
/* After zreader_read() returned 0: the digest of all raw bytes read from fd and
 * their count. May be called more than once. */
void zreader_input_digest(struct zreader *r, char ret[DIGEST_SIZE], uint64_t *ret_size);
void zreader_free(struct zreader *r);

static inline void zreader_freep(struct zreader **r)
{
	zreader_free(*r);
}
#define _cleanup_zreader_ __attribute__((cleanup(zreader_freep)))

/* Receives compressed output; a negative return stops the writer with that error. */
typedef int (*zsink_fn)(void *userdata, const void *buf, size_t len, struct vsl_error **err);

struct zwriter;

/* level 0: the library's default; otherwise 1-9 for gzip, 1-ZSTD_maxCLevel()
 * (or negative fast levels) for zstd. COMPRESSION_NONE passes bytes through. */
int zwriter_new(enum compression c, int level, zsink_fn sink, void *userdata, struct zwriter **ret,
                struct vsl_error **err);
int zwriter_write(struct zwriter *w, const void *buf, size_t len, struct vsl_error **err);
/* Flushes and ends the stream; no write may follow. */
int zwriter_finish(struct zwriter *w, struct vsl_error **err);
void zwriter_free(struct zwriter *w);

static inline void zwriter_freep(struct zwriter **w)
{
	zwriter_free(*w);
}
#define _cleanup_zwriter_ __attribute__((cleanup(zwriter_freep)))

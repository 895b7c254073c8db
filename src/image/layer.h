/* Layer tar streams: applying a pulled layer into its own overlay layer
 * directory, and turning a directory (a container's overlay upper dir) back
 * into a layer tar.
 *
 * layer_apply() reads a blob of any compression from an fd (a pipe the puller
 * writes into while the download is still running), unpacks it into an empty
 * directory and reports both digests, so the caller can verify the blob and the
 * image config's diff_ids without reading anything twice:
 *
 *     struct layer_apply_result res;
 *     if (layer_apply(pipe_rd, diff_dirfd, &res, err) < 0) ...
 *     if (strcmp(res.digest, manifest_layer_digest) != 0) ...
 *
 * Entries are written through file descriptors, never through path strings:
 * every parent is looked up with openat2() inside the layer directory and the
 * last component is never followed, so a hostile tar cannot write outside it.
 * Docker whiteouts (".wh.<name>", ".wh..wh..opq") become overlayfs whiteouts
 * (0/0 character devices, the trusted.overlay.opaque xattr); layer_write() with
 * LAYER_WRITE_OVERLAY_DIFF turns them back. Both need root (mknod, chown,
 * trusted.* xattrs). */
#pragma once

#include <stdint.h>

#include "image/compress.h"
#include "util/digest.h"

struct vsl_error;

struct layer_apply_result {
	char diff_id[DIGEST_SIZE]; /* sha256 of the uncompressed tar */
	char digest[DIGEST_SIZE];  /* sha256 of the bytes read from in_fd (compressed blob digest) */
	uint64_t compressed_size;  /* bytes read from in_fd */
	uint64_t size;             /* bytes of the uncompressed tar */
	uint64_t unpacked_size;    /* sum of regular file sizes written (for `images` SIZE) */
	enum compression compression;
};

/* Reads a layer (any compression) from in_fd to its very end, past the tar's
 * end-of-archive blocks, so that digest covers the whole blob, and applies it
 * into dest_dirfd, an empty directory that becomes one overlay layer. On error
 * the directory holds a partial layer: the caller removes it. Errors name the
 * entry: "layer entry '../x': path escapes the layer". */
int layer_apply(int in_fd, int dest_dirfd, struct layer_apply_result *ret, struct vsl_error **err);

struct layer_write_result {
	char diff_id[DIGEST_SIZE]; /* sha256 of the uncompressed tar */
	char digest[DIGEST_SIZE];  /* sha256 of the bytes written to out_fd */
	uint64_t size;             /* bytes of the uncompressed tar */
	uint64_t compressed_size;  /* bytes written to out_fd */
};

enum {
	/* src_dirfd is an overlay upper dir: its whiteouts (0/0 character devices)
	 * become ".wh.<name>" entries, opaque directories (trusted.overlay.opaque
	 * "y") get a ".wh..wh..opq" entry. */
	LAYER_WRITE_OVERLAY_DIFF = 1 << 0,
};

/* Writes the tree under src_dirfd (not the directory itself) as a layer tar to
 * out_fd, compressed with c. Entries come in a stable order (depth first, names
 * sorted bytewise), with hardlinks as tar hardlinks, xattrs as pax records
 * (except trusted.overlay.* and security.selinux, which belong to the host),
 * and mtimes in whole seconds, so the same tree gives the same diff_id. */
int layer_write(int src_dirfd, int out_fd, enum compression c, unsigned flags, struct layer_write_result *ret,
                struct vsl_error **err);

#include "image/compress.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "util/cleanup.h"
#include "util/error.h"

#define ZBUF_SIZE (128 * 1024)
/* zlib counts in uInt. */
#define ZLIB_CHUNK_MAX (1u << 30)

static const unsigned char gzip_magic[] = {0x1f, 0x8b, 0x08};
static const unsigned char zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};

enum compression compression_detect(const void *buf, size_t len)
{
	if (len >= sizeof(gzip_magic) && memcmp(buf, gzip_magic, sizeof(gzip_magic)) == 0)
		return COMPRESSION_GZIP;
	if (len >= sizeof(zstd_magic) && memcmp(buf, zstd_magic, sizeof(zstd_magic)) == 0)
		return COMPRESSION_ZSTD;
	return COMPRESSION_NONE;
}

const char *compression_name(enum compression c)
{
	switch (c) {
	case COMPRESSION_NONE:
		return "none";
	case COMPRESSION_GZIP:
		return "gzip";
	case COMPRESSION_ZSTD:
		return "zstd";
	}
	return "unknown";
}

struct zreader {
	int fd;
	enum compression compression;

	struct digester *raw;
	uint64_t raw_size;
	bool digest_done;
	char digest[DIGEST_SIZE];

	unsigned char *in;
	size_t in_len, in_pos; /* for COMPRESSION_NONE: bytes peeked at open, not yet returned */
	bool in_eof;
	bool done;

	z_stream zs;
	bool zs_init;
	bool member_done; /* a gzip member just ended; another may follow */

	ZSTD_DCtx *zd;
	ZSTD_inBuffer zin;
	size_t zstd_hint; /* 0 when the last zstd frame is complete */
};

static ssize_t raw_read(struct zreader *r, void *buf, size_t len, struct vsl_error **err)
{
	ssize_t n;
	do
		n = read(r->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return vsl_error_errno(err, errno, "read compressed stream");
	if (n == 0)
		r->in_eof = true;
	digester_update(r->raw, buf, (size_t)n);
	r->raw_size += (uint64_t)n;
	return n;
}

/* Refills the input buffer once it is used up. */
static int fill(struct zreader *r, struct vsl_error **err)
{
	ssize_t n = raw_read(r, r->in, ZBUF_SIZE, err);
	if (n < 0)
		return (int)n;
	r->in_len = (size_t)n;
	r->in_pos = 0;
	return 0;
}

int zreader_open(int fd, struct zreader **ret, struct vsl_error **err)
{
	struct zreader *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return vsl_error_errno(err, ENOMEM, "allocate decompressor");
	_cleanup_(zreader_freep) struct zreader *guard = r;
	r->fd = fd;
	r->raw = digester_new();
	r->in = malloc(ZBUF_SIZE);
	if (r->raw == NULL || r->in == NULL)
		return vsl_error_errno(err, ENOMEM, "allocate decompressor");

	/* A short first read (a pipe) must not hide the magic bytes. */
	while (r->in_len < sizeof(zstd_magic) && !r->in_eof) {
		ssize_t n = raw_read(r, r->in + r->in_len, ZBUF_SIZE - r->in_len, err);
		if (n < 0)
			return (int)n;
		r->in_len += (size_t)n;
	}
	r->compression = compression_detect(r->in, r->in_len);

	switch (r->compression) {
	case COMPRESSION_NONE:
		break;
	case COMPRESSION_GZIP:
		/* 16 + MAX_WBITS: gzip framing only; a raw zlib stream is not a layer. */
		if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK)
			return vsl_error_errno(err, ENOMEM, "initialise gzip decompression");
		r->zs_init = true;
		r->zs.next_in = r->in;
		r->zs.avail_in = (uInt)r->in_len;
		break;
	case COMPRESSION_ZSTD:
		r->zd = ZSTD_createDCtx();
		if (r->zd == NULL)
			return vsl_error_errno(err, ENOMEM, "initialise zstd decompression");
		r->zin = (ZSTD_inBuffer){r->in, r->in_len, 0};
		r->zstd_hint = 1;
		break;
	}
	*ret = TAKE_PTR(guard);
	return 0;
}

static ssize_t read_none(struct zreader *r, void *buf, size_t len, struct vsl_error **err)
{
	if (r->in_pos < r->in_len) {
		size_t n = r->in_len - r->in_pos;
		if (n > len)
			n = len;
		memcpy(buf, r->in + r->in_pos, n);
		r->in_pos += n;
		return (ssize_t)n;
	}
	if (r->in_eof)
		return 0;
	return raw_read(r, buf, len, err);
}

static ssize_t read_gzip(struct zreader *r, void *buf, size_t len, struct vsl_error **err)
{
	uInt cap = len > ZLIB_CHUNK_MAX ? ZLIB_CHUNK_MAX : (uInt)len;
	r->zs.next_out = buf;
	r->zs.avail_out = cap;
	for (;;) {
		if (r->zs.avail_in == 0 && !r->in_eof) {
			int q = fill(r, err);
			if (q < 0)
				return q;
			r->zs.next_in = r->in;
			r->zs.avail_in = (uInt)r->in_len;
		}
		if (r->member_done) {
			if (r->zs.avail_in == 0)
				return 0; /* end of input right after a complete member */
			/* Concatenated members form one stream (RFC 1952 2.2). */
			if (inflateReset(&r->zs) != Z_OK)
				return vsl_error_set(err, "reset gzip decompression");
			r->member_done = false;
		}
		int z = inflate(&r->zs, Z_NO_FLUSH);
		if (z == Z_STREAM_END)
			r->member_done = true;
		else if (z == Z_MEM_ERROR)
			return vsl_error_errno(err, ENOMEM, "gzip decompression");
		else if (z != Z_OK && z != Z_BUF_ERROR)
			return vsl_error_set_code(err, EBADMSG, "corrupt gzip data: %s",
			                          r->zs.msg ? r->zs.msg : "unknown error");
		size_t produced = cap - r->zs.avail_out;
		if (produced > 0)
			return (ssize_t)produced;
		if (!r->member_done && r->zs.avail_in == 0 && r->in_eof)
			return vsl_error_set_code(err, EBADMSG, "truncated gzip data");
	}
}

static ssize_t read_zstd(struct zreader *r, void *buf, size_t len, struct vsl_error **err)
{
	ZSTD_outBuffer out = {buf, len, 0};
	for (;;) {
		if (r->zin.pos == r->zin.size && !r->in_eof) {
			int q = fill(r, err);
			if (q < 0)
				return q;
			r->zin = (ZSTD_inBuffer){r->in, r->in_len, 0};
		}
		/* Called even without new input: the decoder may still hold output. */
		size_t before = r->zin.pos;
		size_t z = ZSTD_decompressStream(r->zd, &out, &r->zin);
		if (ZSTD_isError(z))
			return vsl_error_set_code(err, EBADMSG, "corrupt zstd data: %s",
			                          ZSTD_getErrorName(z));
		/* A call that did nothing returns the hint for a next frame, not
		 * whether the last one ended. */
		if (r->zin.pos != before || out.pos > 0)
			r->zstd_hint = z;
		if (out.pos > 0)
			return (ssize_t)out.pos;
		if (r->zin.pos == r->zin.size && r->in_eof) {
			if (r->zstd_hint == 0)
				return 0;
			return vsl_error_set_code(err, EBADMSG, "truncated zstd data");
		}
	}
}

ssize_t zreader_read(struct zreader *r, void *buf, size_t len, struct vsl_error **err)
{
	if (r->done || len == 0)
		return 0;
	ssize_t n = 0;
	switch (r->compression) {
	case COMPRESSION_NONE:
		n = read_none(r, buf, len, err);
		break;
	case COMPRESSION_GZIP:
		n = read_gzip(r, buf, len, err);
		break;
	case COMPRESSION_ZSTD:
		n = read_zstd(r, buf, len, err);
		break;
	}
	if (n == 0)
		r->done = true;
	return n;
}

enum compression zreader_compression(const struct zreader *r)
{
	return r->compression;
}

void zreader_input_digest(struct zreader *r, char ret[DIGEST_SIZE], uint64_t *ret_size)
{
	if (!r->digest_done) {
		digester_final(r->raw, r->digest);
		r->digest_done = true;
	}
	memcpy(ret, r->digest, DIGEST_SIZE);
	if (ret_size)
		*ret_size = r->raw_size;
}

void zreader_free(struct zreader *r)
{
	if (r == NULL)
		return;
	if (r->zs_init)
		inflateEnd(&r->zs);
	ZSTD_freeDCtx(r->zd);
	digester_free(r->raw);
	free(r->in);
	free(r);
}

struct zwriter {
	enum compression compression;
	zsink_fn sink;
	void *userdata;
	bool finished, failed;

	unsigned char *out;
	z_stream zs;
	bool zs_init;
	ZSTD_CCtx *zc;
};

int zwriter_new(enum compression c, int level, zsink_fn sink, void *userdata, struct zwriter **ret,
                struct vsl_error **err)
{
	struct zwriter *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return vsl_error_errno(err, ENOMEM, "allocate compressor");
	_cleanup_(zwriter_freep) struct zwriter *guard = w;
	w->compression = c;
	w->sink = sink;
	w->userdata = userdata;

	switch (c) {
	case COMPRESSION_NONE:
		break;
	case COMPRESSION_GZIP:
		if (level < 0 || level > 9)
			return vsl_error_set_code(err, EINVAL, "invalid gzip level %d (1-9)", level);
		w->out = malloc(ZBUF_SIZE);
		if (w->out == NULL)
			return vsl_error_errno(err, ENOMEM, "allocate compressor");
		if (deflateInit2(&w->zs, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED,
		                 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return vsl_error_errno(err, ENOMEM, "initialise gzip compression");
		w->zs_init = true;
		break;
	case COMPRESSION_ZSTD:
		if (level != 0 && (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()))
			return vsl_error_set_code(err, EINVAL, "invalid zstd level %d (%d-%d)", level,
			                          ZSTD_minCLevel(), ZSTD_maxCLevel());
		w->out = malloc(ZBUF_SIZE);
		w->zc = ZSTD_createCCtx();
		if (w->out == NULL || w->zc == NULL)
			return vsl_error_errno(err, ENOMEM, "initialise zstd compression");
		size_t z = ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel,
		                                  level == 0 ? ZSTD_CLEVEL_DEFAULT : level);
		if (ZSTD_isError(z))
			return vsl_error_set_code(err, EINVAL, "set zstd level %d: %s", level,
			                          ZSTD_getErrorName(z));
		/* A checksum lets readers detect corruption, as the zstd tool does by default. */
		(void)ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1);
		break;
	default:
		return vsl_error_set_code(err, EINVAL, "unknown compression %d", (int)c);
	}
	*ret = TAKE_PTR(guard);
	return 0;
}

static int emit(struct zwriter *w, size_t n, struct vsl_error **err)
{
	if (n == 0)
		return 0;
	int r = w->sink(w->userdata, w->out, n, err);
	if (r < 0)
		w->failed = true;
	return r;
}

static int gzip_push(struct zwriter *w, const void *buf, size_t len, int flush, struct vsl_error **err)
{
	const unsigned char *p = buf;
	do {
		uInt chunk = len > ZLIB_CHUNK_MAX ? ZLIB_CHUNK_MAX : (uInt)len;
		int f = (flush == Z_FINISH && chunk == len) ? Z_FINISH : Z_NO_FLUSH;
		w->zs.next_in = (Bytef *)p;
		w->zs.avail_in = chunk;
		for (;;) {
			w->zs.next_out = w->out;
			w->zs.avail_out = ZBUF_SIZE;
			int z = deflate(&w->zs, f);
			if (z == Z_STREAM_ERROR)
				return vsl_error_set(err, "gzip compression failed");
			int r = emit(w, ZBUF_SIZE - w->zs.avail_out, err);
			if (r < 0)
				return r;
			if (f == Z_FINISH ? z == Z_STREAM_END : w->zs.avail_out != 0)
				break;
		}
		p += chunk;
		len -= chunk;
	} while (len > 0);
	return 0;
}

static int zstd_push(struct zwriter *w, const void *buf, size_t len, ZSTD_EndDirective mode,
                     struct vsl_error **err)
{
	ZSTD_inBuffer in = {buf, len, 0};
	for (;;) {
		ZSTD_outBuffer out = {w->out, ZBUF_SIZE, 0};
		size_t z = ZSTD_compressStream2(w->zc, &out, &in, mode);
		if (ZSTD_isError(z))
			return vsl_error_set(err, "zstd compression failed: %s", ZSTD_getErrorName(z));
		int r = emit(w, out.pos, err);
		if (r < 0)
			return r;
		/* z is what remains to flush; for e_continue, done once all input is taken. */
		if (mode == ZSTD_e_end ? z == 0 : in.pos == in.size)
			return 0;
	}
}

int zwriter_write(struct zwriter *w, const void *buf, size_t len, struct vsl_error **err)
{
	if (w->finished || w->failed)
		return vsl_error_set_code(err, EINVAL, "write to a finished or failed compressor");
	if (len == 0)
		return 0;
	int r = 0;
	switch (w->compression) {
	case COMPRESSION_NONE:
		r = w->sink(w->userdata, buf, len, err);
		break;
	case COMPRESSION_GZIP:
		r = gzip_push(w, buf, len, Z_NO_FLUSH, err);
		break;
	case COMPRESSION_ZSTD:
		r = zstd_push(w, buf, len, ZSTD_e_continue, err);
		break;
	}
	if (r < 0)
		w->failed = true;
	return r;
}

int zwriter_finish(struct zwriter *w, struct vsl_error **err)
{
	if (w->finished || w->failed)
		return vsl_error_set_code(err, EINVAL, "finish a finished or failed compressor");
	int r = 0;
	switch (w->compression) {
	case COMPRESSION_NONE:
		break;
	case COMPRESSION_GZIP:
		r = gzip_push(w, "", 0, Z_FINISH, err);
		break;
	case COMPRESSION_ZSTD:
		r = zstd_push(w, "", 0, ZSTD_e_end, err);
		break;
	}
	if (r < 0) {
		w->failed = true;
		return r;
	}
	w->finished = true;
	return 0;
}

void zwriter_free(struct zwriter *w)
{
	if (w == NULL)
		return;
	if (w->zs_init)
		deflateEnd(&w->zs);
	ZSTD_freeCCtx(w->zc);
	free(w->out);
	free(w);
}

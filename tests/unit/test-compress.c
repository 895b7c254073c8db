/* Compression: every compressed input here is made by zlib or libzstd directly
 * in the test, and every zwriter output is checked by zlib or libzstd directly,
 * so neither direction checks compress.c against itself alone. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <cmocka.h>

#include "image/compress.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"

static int memfd_with(const void *buf, size_t len)
{
	int fd = memfd_create("test-compress", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* A gzip member made by zlib itself. */
static size_t gzip_member(const void *in, size_t len, unsigned char *out, size_t cap)
{
	z_stream zs = {0};
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	size_t n = cap - zs.avail_out;
	deflateEnd(&zs);
	return n;
}

static size_t gunzip_all(const void *in, size_t len, unsigned char *out, size_t cap)
{
	z_stream zs = {0};
	assert_int_equal(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.avail_in, 0);
	size_t n = cap - zs.avail_out;
	inflateEnd(&zs);
	return n;
}

/* Reads everything through a zreader in small, odd-sized reads. */
static int read_all_z(int fd, unsigned char *out, size_t cap, size_t *ret_len, enum compression *ret_c,
                      char digest[DIGEST_SIZE], uint64_t *ret_raw, struct vsl_error **err)
{
	_cleanup_zreader_ struct zreader *r = NULL;
	int q = zreader_open(fd, &r, err);
	if (q < 0)
		return q;
	size_t total = 0;
	for (;;) {
		size_t want = cap - total < 777 ? cap - total : 777;
		assert_true(want > 0);
		ssize_t n = zreader_read(r, out + total, want, err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		total += (size_t)n;
	}
	*ret_len = total;
	if (ret_c)
		*ret_c = zreader_compression(r);
	if (digest)
		zreader_input_digest(r, digest, ret_raw);
	return 0;
}

/* Mixed data: compressible text with pseudo-random stretches, larger than
 * the internal buffers so refills and partial outputs happen. */
static unsigned char *sample(size_t len)
{
	unsigned char *p = malloc(len);
	assert_non_null(p);
	uint32_t x = 12345;
	for (size_t i = 0; i < len; i++) {
		if ((i / 4096) % 2) {
			x = x * 1103515245 + 12345;
			p[i] = (unsigned char)(x >> 16);
		} else {
			p[i] = "layer tar bytes "[i % 16];
		}
	}
	return p;
}

static void test_detect(void **state)
{
	(void)state;
	assert_int_equal(compression_detect("\x1f\x8b\x08\x00", 4), COMPRESSION_GZIP);
	assert_int_equal(compression_detect("\x28\xb5\x2f\xfd\x00", 5), COMPRESSION_ZSTD);
	assert_int_equal(compression_detect("\x1f\x8b", 2), COMPRESSION_NONE);
	assert_int_equal(compression_detect("usr/\0\0\0", 7), COMPRESSION_NONE);
	assert_int_equal(compression_detect("", 0), COMPRESSION_NONE);
	assert_string_equal(compression_name(COMPRESSION_NONE), "none");
	assert_string_equal(compression_name(COMPRESSION_GZIP), "gzip");
	assert_string_equal(compression_name(COMPRESSION_ZSTD), "zstd");
}

static void test_gzip(void **state)
{
	(void)state;
	const size_t len = 600 * 1024;
	_cleanup_free_ unsigned char *plain = sample(len);
	size_t cap = compressBound(len) + 64;
	_cleanup_free_ unsigned char *gz = malloc(cap);
	size_t gzlen = gzip_member(plain, len, gz, cap);
	_cleanup_close_ int fd = memfd_with(gz, gzlen);

	_cleanup_free_ unsigned char *out = malloc(len + 1);
	size_t outlen = 0;
	enum compression c = COMPRESSION_NONE;
	char d[DIGEST_SIZE], want[DIGEST_SIZE];
	uint64_t raw = 0;
	_cleanup_error_ struct vsl_error *err = NULL;
	if (read_all_z(fd, out, len + 1, &outlen, &c, d, &raw, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	assert_int_equal(c, COMPRESSION_GZIP);
	assert_int_equal(outlen, len);
	assert_memory_equal(out, plain, len);
	digest_buffer(gz, gzlen, want);
	assert_string_equal(d, want);
	assert_int_equal(raw, gzlen);
}

static void test_gzip_multi_member(void **state)
{
	(void)state;
	unsigned char gz[512];
	size_t n1 = gzip_member("hello, ", 7, gz, sizeof(gz));
	size_t n2 = gzip_member("", 0, gz + n1, sizeof(gz) - n1); /* an empty member in between */
	size_t n3 = gzip_member("world", 5, gz + n1 + n2, sizeof(gz) - n1 - n2);
	_cleanup_close_ int fd = memfd_with(gz, n1 + n2 + n3);
	unsigned char out[64];
	size_t outlen = 0;
	char d[DIGEST_SIZE], want[DIGEST_SIZE];
	uint64_t raw = 0;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(read_all_z(fd, out, sizeof(out), &outlen, NULL, d, &raw, &err), 0);
	assert_int_equal(outlen, 12);
	assert_memory_equal(out, "hello, world", 12);
	digest_buffer(gz, n1 + n2 + n3, want);
	assert_string_equal(d, want);
	assert_int_equal(raw, n1 + n2 + n3);
}

static void expect_gzip_error(const unsigned char *gz, size_t len, const char *msg_part)
{
	_cleanup_close_ int fd = memfd_with(gz, len);
	unsigned char out[4096];
	size_t outlen = 0;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_true(read_all_z(fd, out, sizeof(out), &outlen, NULL, NULL, NULL, &err) < 0);
	assert_non_null(err);
	assert_non_null(strstr(vsl_error_message(err), msg_part));
}

static void test_gzip_corrupt(void **state)
{
	(void)state;
	static const char text[] = "some text that compresses some text that compresses";
	unsigned char gz[512];
	size_t n = gzip_member(text, sizeof(text), gz, sizeof(gz));

	/* A flipped byte in the CRC32 trailer. */
	unsigned char bad[512];
	memcpy(bad, gz, n);
	bad[n - 6] ^= 0xff;
	expect_gzip_error(bad, n, "corrupt gzip data");

	/* Cut short. */
	expect_gzip_error(gz, n - 4, "truncated gzip data");

	/* Garbage where a next member would start. */
	memcpy(bad, gz, n);
	memcpy(bad + n, "garbage!", 8);
	expect_gzip_error(bad, n + 8, "corrupt gzip data");

	/* Header intact, deflate data broken: a reserved block type (binary 11). */
	memcpy(bad, gz, n);
	bad[10] = 0x07;
	expect_gzip_error(bad, n, "corrupt gzip data");
}

static void test_zstd(void **state)
{
	(void)state;
	const size_t len = 700 * 1024;
	_cleanup_free_ unsigned char *plain = sample(len);
	/* Two frames, as a parallel compressor writes them. */
	size_t cap = ZSTD_compressBound(len) * 2;
	_cleanup_free_ unsigned char *zs = malloc(cap);
	size_t n1 = ZSTD_compress(zs, cap, plain, len / 3, 3);
	assert_false(ZSTD_isError(n1));
	size_t n2 = ZSTD_compress(zs + n1, cap - n1, plain + len / 3, len - len / 3, 19);
	assert_false(ZSTD_isError(n2));
	_cleanup_close_ int fd = memfd_with(zs, n1 + n2);

	_cleanup_free_ unsigned char *out = malloc(len + 1);
	size_t outlen = 0;
	enum compression c = COMPRESSION_NONE;
	char d[DIGEST_SIZE], want[DIGEST_SIZE];
	uint64_t raw = 0;
	_cleanup_error_ struct vsl_error *err = NULL;
	if (read_all_z(fd, out, len + 1, &outlen, &c, d, &raw, &err) < 0)
		fail_msg("%s", vsl_error_message(err));
	assert_int_equal(c, COMPRESSION_ZSTD);
	assert_int_equal(outlen, len);
	assert_memory_equal(out, plain, len);
	digest_buffer(zs, n1 + n2, want);
	assert_string_equal(d, want);
	assert_int_equal(raw, n1 + n2);
}

static void test_zstd_corrupt(void **state)
{
	(void)state;
	static const char text[] = "zstd text zstd text zstd text zstd text zstd text";
	unsigned char zs[512], out[512];
	size_t n = ZSTD_compress(zs, sizeof(zs), text, sizeof(text), 3);
	assert_false(ZSTD_isError(n));

	/* Truncated: the frame never ends. */
	{
		_cleanup_close_ int fd = memfd_with(zs, n - 3);
		size_t outlen = 0;
		_cleanup_error_ struct vsl_error *err = NULL;
		assert_true(read_all_z(fd, out, sizeof(out), &outlen, NULL, NULL, NULL, &err) < 0);
		assert_non_null(strstr(vsl_error_message(err), "zstd data"));
	}
	/* Garbage after a complete frame. */
	{
		unsigned char bad[600];
		memcpy(bad, zs, n);
		memcpy(bad + n, "garbage garbage!", 16);
		_cleanup_close_ int fd = memfd_with(bad, n + 16);
		size_t outlen = 0;
		_cleanup_error_ struct vsl_error *err = NULL;
		assert_true(read_all_z(fd, out, sizeof(out), &outlen, NULL, NULL, NULL, &err) < 0);
		assert_non_null(strstr(vsl_error_message(err), "corrupt zstd data"));
	}
}

static void test_none_through_slow_pipe(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* One byte at a time first: detection must not settle on a short read. */
		static const char msg[] = "plain tar bytes";
		close(p[0]);
		for (size_t i = 0; i < sizeof(msg) - 1; i++) {
			if (write(p[1], msg + i, 1) != 1)
				_exit(1);
			usleep(1000);
		}
		_exit(0);
	}
	close(p[1]);
	_cleanup_close_ int rfd = p[0];
	unsigned char out[64];
	size_t outlen = 0;
	enum compression c = COMPRESSION_GZIP;
	char d[DIGEST_SIZE], want[DIGEST_SIZE];
	uint64_t raw = 0;
	_cleanup_error_ struct vsl_error *err = NULL;
	int q = read_all_z(rfd, out, sizeof(out), &outlen, &c, d, &raw, &err);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(q, 0);
	assert_int_equal(c, COMPRESSION_NONE);
	assert_int_equal(outlen, 15);
	assert_memory_equal(out, "plain tar bytes", 15);
	digest_buffer("plain tar bytes", 15, want);
	assert_string_equal(d, want);
	assert_int_equal(raw, 15);
}

static void test_gzip_through_slow_pipe(void **state)
{
	(void)state;
	unsigned char gz[256];
	size_t n = gzip_member("piped", 5, gz, sizeof(gz));
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		for (size_t i = 0; i < n; i++) {
			if (write(p[1], gz + i, 1) != 1)
				_exit(1);
			if (i < 4)
				usleep(2000);
		}
		_exit(0);
	}
	close(p[1]);
	_cleanup_close_ int rfd = p[0];
	unsigned char out[64];
	size_t outlen = 0;
	enum compression c = COMPRESSION_NONE;
	_cleanup_error_ struct vsl_error *err = NULL;
	int q = read_all_z(rfd, out, sizeof(out), &outlen, &c, NULL, NULL, &err);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(q, 0);
	assert_int_equal(c, COMPRESSION_GZIP);
	assert_int_equal(outlen, 5);
	assert_memory_equal(out, "piped", 5);
}

static void test_empty_input(void **state)
{
	(void)state;
	_cleanup_close_ int fd = memfd_with("", 0);
	unsigned char out[8];
	size_t outlen = 1;
	enum compression c = COMPRESSION_GZIP;
	char d[DIGEST_SIZE];
	uint64_t raw = 1;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(read_all_z(fd, out, sizeof(out), &outlen, &c, d, &raw, &err), 0);
	assert_int_equal(outlen, 0);
	assert_int_equal(c, COMPRESSION_NONE);
	assert_string_equal(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(raw, 0);
}

struct membuf {
	unsigned char *data;
	size_t len, cap;
	int fail_after; /* calls left before failing; < 0: never */
};

static int mem_sink(void *userdata, const void *buf, size_t len, struct vsl_error **err)
{
	struct membuf *m = userdata;
	if (m->fail_after == 0)
		return vsl_error_set_code(err, ENOSPC, "sink full");
	if (m->fail_after > 0)
		m->fail_after--;
	assert_true(len > 0);
	if (m->len + len > m->cap) {
		m->cap = (m->len + len) * 2;
		m->data = realloc(m->data, m->cap);
		assert_non_null(m->data);
	}
	memcpy(m->data + m->len, buf, len);
	m->len += len;
	return 0;
}

static void compress_to(enum compression c, int level, const unsigned char *in, size_t len, struct membuf *m)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_zwriter_ struct zwriter *w = NULL;
	assert_int_equal(zwriter_new(c, level, mem_sink, m, &w, &err), 0);
	/* Uneven pieces, including an empty one. */
	size_t off = 0, step = 1;
	while (off < len) {
		size_t n = len - off < step ? len - off : step;
		assert_int_equal(zwriter_write(w, in + off, n, &err), 0);
		off += n;
		step = step * 3 + 1;
	}
	assert_int_equal(zwriter_write(w, "", 0, &err), 0);
	assert_int_equal(zwriter_finish(w, &err), 0);
	assert_true(zwriter_write(w, "x", 1, &err) < 0);
}

static void test_zwriter_gzip(void **state)
{
	(void)state;
	const size_t len = 900 * 1024;
	_cleanup_free_ unsigned char *plain = sample(len);
	struct membuf m = {.fail_after = -1};
	compress_to(COMPRESSION_GZIP, 0, plain, len, &m);
	_cleanup_free_ unsigned char *data = m.data;
	assert_true(m.len > 3);
	assert_memory_equal(data, "\x1f\x8b\x08", 3);
	assert_true(m.len < len);
	_cleanup_free_ unsigned char *out = malloc(len + 16);
	assert_int_equal(gunzip_all(data, m.len, out, len + 16), len);
	assert_memory_equal(out, plain, len);

	/* And back through the reader. */
	_cleanup_close_ int fd = memfd_with(data, m.len);
	size_t outlen = 0;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(read_all_z(fd, out, len + 16, &outlen, NULL, NULL, NULL, &err), 0);
	assert_int_equal(outlen, len);
	assert_memory_equal(out, plain, len);
}

static void test_zwriter_zstd(void **state)
{
	(void)state;
	const size_t len = 900 * 1024;
	_cleanup_free_ unsigned char *plain = sample(len);
	struct membuf m = {.fail_after = -1};
	compress_to(COMPRESSION_ZSTD, 5, plain, len, &m);
	_cleanup_free_ unsigned char *data = m.data;
	assert_true(m.len > 4);
	assert_memory_equal(data, "\x28\xb5\x2f\xfd", 4);
	assert_true(m.len < len);
	_cleanup_free_ unsigned char *out = malloc(len + 16);
	size_t n = ZSTD_decompress(out, len + 16, data, m.len);
	assert_false(ZSTD_isError(n));
	assert_int_equal(n, len);
	assert_memory_equal(out, plain, len);

	_cleanup_close_ int fd = memfd_with(data, m.len);
	size_t outlen = 0;
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(read_all_z(fd, out, len + 16, &outlen, NULL, NULL, NULL, &err), 0);
	assert_int_equal(outlen, len);
	assert_memory_equal(out, plain, len);
}

static void test_zwriter_none_and_empty(void **state)
{
	(void)state;
	struct membuf m = {.fail_after = -1};
	compress_to(COMPRESSION_NONE, 0, (const unsigned char *)"as is", 5, &m);
	assert_int_equal(m.len, 5);
	assert_memory_equal(m.data, "as is", 5);
	free(m.data);

	/* An empty stream is still a valid gzip member. */
	struct membuf e = {.fail_after = -1};
	compress_to(COMPRESSION_GZIP, 9, NULL, 0, &e);
	unsigned char out[8];
	assert_int_equal(gunzip_all(e.data, e.len, out, sizeof(out)), 0);
	free(e.data);
}

static void test_zwriter_errors(void **state)
{
	(void)state;
	struct membuf m = {.fail_after = -1};
	{
		_cleanup_error_ struct vsl_error *err = NULL;
		struct zwriter *w = NULL;
		assert_int_equal(zwriter_new(COMPRESSION_GZIP, 10, mem_sink, &m, &w, &err), -EINVAL);
		assert_null(w);
	}
	{
		_cleanup_error_ struct vsl_error *err = NULL;
		struct zwriter *w = NULL;
		assert_int_equal(zwriter_new(COMPRESSION_ZSTD, ZSTD_maxCLevel() + 1, mem_sink, &m, &w, &err),
		                 -EINVAL);
		assert_null(w);
	}
	/* A failing sink stops the writer with the sink's error. */
	const size_t len = 512 * 1024;
	_cleanup_free_ unsigned char *plain = sample(len);
	struct membuf f = {.fail_after = 0};
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_zwriter_ struct zwriter *w = NULL;
	assert_int_equal(zwriter_new(COMPRESSION_ZSTD, 1, mem_sink, &f, &w, &err), 0);
	int r = zwriter_write(w, plain, len, &err);
	if (r == 0)
		r = zwriter_finish(w, &err);
	assert_int_equal(r, -ENOSPC);
	assert_string_equal(vsl_error_message(err), "sink full");
	free(f.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_detect),
	    cmocka_unit_test(test_gzip),
	    cmocka_unit_test(test_gzip_multi_member),
	    cmocka_unit_test(test_gzip_corrupt),
	    cmocka_unit_test(test_zstd),
	    cmocka_unit_test(test_zstd_corrupt),
	    cmocka_unit_test(test_none_through_slow_pipe),
	    cmocka_unit_test(test_gzip_through_slow_pipe),
	    cmocka_unit_test(test_empty_input),
	    cmocka_unit_test(test_zwriter_gzip),
	    cmocka_unit_test(test_zwriter_zstd),
	    cmocka_unit_test(test_zwriter_none_and_empty),
	    cmocka_unit_test(test_zwriter_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

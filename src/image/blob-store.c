#include "image/blob-store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/random.h"

struct blob_store {
	int blobs_fd; /* <root>/blobs/sha256 */
	int tmp_fd;   /* <root>/tmp */
};

struct blob_writer {
	struct blob_store *store;
	int fd;
	char *tmp_name; /* NULL while the file is unnamed (O_TMPFILE) */
	struct digester *digester;
	char expected[DIGEST_SIZE]; /* "" when any content will do */
	int64_t expected_size;
	uint64_t written;
	bool failed; /* a write failed: the file no longer matches the hash */
	bool finished;
};

static int open_dir(int parent, const char *name, mode_t mode, int *ret_fd, struct vsl_error **err)
{
	if (mkdirat(parent, name, mode) < 0 && errno != EEXIST)
		return vsl_error_errno(err, errno, "create '%s'", name);
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open '%s'", name);
	*ret_fd = fd;
	return 0;
}

int blob_store_open(int root_dirfd, struct blob_store **ret, struct vsl_error **err)
{
	_cleanup_close_ int blobs = -EBADF, sha = -EBADF, tmp = -EBADF;
	int r = open_dir(root_dirfd, "blobs", 0700, &blobs, err);
	if (r >= 0)
		r = open_dir(blobs, "sha256", 0700, &sha, err);
	if (r >= 0)
		r = open_dir(root_dirfd, "tmp", 0700, &tmp, err);
	if (r < 0)
		return vsl_error_prefix(err, "open content store");

	struct blob_store *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return vsl_error_errno(err, ENOMEM, "open content store");
	s->blobs_fd = TAKE_FD(sha);
	s->tmp_fd = TAKE_FD(tmp);
	*ret = s;
	return 0;
}

void blob_store_free(struct blob_store *s)
{
	if (s == NULL)
		return;
	closep(&s->blobs_fd);
	closep(&s->tmp_fd);
	free(s);
}

static int check_digest(const char *digest, struct vsl_error **err)
{
	if (!digest_is_valid(digest))
		return vsl_error_set_code(err, EINVAL, "invalid digest '%s'", digest ? digest : "(null)");
	return 0;
}

bool blob_store_has(struct blob_store *s, const char *digest)
{
	struct stat st;
	return digest_is_valid(digest) &&
	       fstatat(s->blobs_fd, digest_hex(digest), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int blob_store_open_blob(struct blob_store *s, const char *digest, int *ret_fd, uint64_t *ret_size,
                         struct vsl_error **err)
{
	int r = check_digest(digest, err);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = openat(s->blobs_fd, digest_hex(digest), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return vsl_error_set_code(err, ENOENT, "blob '%s' is not in the content store", digest);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open blob '%s'", digest);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return vsl_error_errno(err, errno, "stat blob '%s'", digest);
	if (!S_ISREG(st.st_mode))
		return vsl_error_set_code(err, EBADMSG, "blob '%s' is not a regular file", digest);
	if (ret_size)
		*ret_size = (uint64_t)st.st_size;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int blob_store_read(struct blob_store *s, const char *digest, size_t max, char **ret_buf, size_t *ret_len,
                    struct vsl_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	uint64_t size;
	int r = blob_store_open_blob(s, digest, &fd, &size, err);
	if (r < 0)
		return r;
	if (size > max)
		return vsl_error_set_code(err, EFBIG, "blob '%s' is larger than %zu bytes", digest, max);

	_cleanup_free_ char *buf = malloc((size_t)size + 1);
	if (buf == NULL)
		return vsl_error_errno(err, ENOMEM, "read blob '%s'", digest);
	ssize_t n = read_all(fd, buf, (size_t)size);
	if (n < 0)
		return vsl_error_errno(err, errno, "read blob '%s'", digest);
	if ((uint64_t)n != size)
		return vsl_error_set_code(err, EBADMSG, "blob '%s' shrank while being read", digest);
	buf[n] = '\0';

	char actual[DIGEST_SIZE];
	digest_buffer(buf, (size_t)n, actual);
	if (strcmp(actual, digest) != 0)
		return vsl_error_set_code(err, EBADMSG, "blob '%s' is corrupt: its content hashes to '%s'",
		                          digest, actual);
	if (ret_len)
		*ret_len = (size_t)n;
	*ret_buf = TAKE_PTR(buf);
	return 0;
}

int blob_writer_new(struct blob_store *s, const char *expected_digest, int64_t expected_size,
                    struct blob_writer **ret, struct vsl_error **err)
{
	if (expected_digest) {
		int r = check_digest(expected_digest, err);
		if (r < 0)
			return r;
	}
	_cleanup_(blob_writer_freep) struct blob_writer *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return vsl_error_errno(err, ENOMEM, "store blob");
	w->store = s;
	w->fd = -EBADF;
	w->expected_size = expected_size < 0 ? -1 : expected_size;
	if (expected_digest)
		memcpy(w->expected, expected_digest, DIGEST_SIZE);
	w->digester = digester_new();
	if (w->digester == NULL)
		return vsl_error_errno(err, ENOMEM, "store blob");

	/* Unnamed until verified: a crash cannot leave a partial file behind. */
	w->fd = openat(s->tmp_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (w->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* A filesystem without O_TMPFILE: a named temporary in tmp/ instead. */
		char name[64];
		for (int i = 0; i < 100 && w->fd < 0; i++) {
			random_tmp_name(name, sizeof(name), "blob-");
			w->fd = openat(s->tmp_fd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
			if (w->fd < 0 && errno != EEXIST)
				break;
		}
		if (w->fd >= 0 && (w->tmp_name = strdup(name)) == NULL)
			return vsl_error_errno(err, ENOMEM, "store blob");
	}
	if (w->fd < 0)
		return vsl_error_errno(err, errno, "create temporary file for blob '%s'",
		                       expected_digest ? expected_digest : "");
	*ret = TAKE_PTR(w);
	return 0;
}

static const char *writer_subject(const struct blob_writer *w)
{
	return w->expected[0] ? w->expected : "(new)";
}

int blob_writer_write(struct blob_writer *w, const void *buf, size_t len, struct vsl_error **err)
{
	if (w->finished)
		return vsl_error_set_code(err, EINVAL, "write to finished blob writer");
	if (w->failed)
		return vsl_error_set_code(err, EINVAL, "write to failed blob writer");
	if (w->expected_size >= 0 && w->written + len > (uint64_t)w->expected_size) {
		w->failed = true;
		return vsl_error_set_code(err, EBADMSG,
		                          "blob '%s': more data than the expected %" PRId64 " bytes",
		                          writer_subject(w), w->expected_size);
	}
	if (write_all(w->fd, buf, len) < 0) {
		w->failed = true;
		return vsl_error_errno(err, errno, "write blob '%s'", writer_subject(w));
	}
	digester_update(w->digester, buf, len);
	w->written += len;
	return 0;
}

/* Puts the verified temporary file at blobs/sha256/<hex>. */
static int place(struct blob_writer *w, const char *hex, struct vsl_error **err)
{
	struct blob_store *s = w->store;
	if (w->tmp_name) {
		if (renameat(s->tmp_fd, w->tmp_name, s->blobs_fd, hex) < 0)
			return vsl_error_errno(err, errno, "rename blob into place");
		free(TAKE_PTR(w->tmp_name));
		return 0;
	}

	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
	int r = linkat(AT_FDCWD, proc, s->blobs_fd, hex, AT_SYMLINK_FOLLOW);
	if (r < 0 && errno == ENOENT) /* no /proc: needs CAP_DAC_READ_SEARCH, which root has */
		r = linkat(w->fd, "", s->blobs_fd, hex, AT_EMPTY_PATH);
	if (r == 0 || errno != EEXIST) {
		if (r < 0)
			return vsl_error_errno(err, errno, "link blob into place");
		return 0;
	}

	/* Stored already, by another process or an earlier pull. Replace it with
	 * ours through a named temporary and rename(): both are verified copies of
	 * the same content, and a reader sees one or the other, whole. */
	char name[64];
	for (int i = 0; i < 100; i++) {
		random_tmp_name(name, sizeof(name), "blob-");
		r = linkat(AT_FDCWD, proc, s->tmp_fd, name, AT_SYMLINK_FOLLOW);
		if (r < 0 && errno == ENOENT)
			r = linkat(w->fd, "", s->tmp_fd, name, AT_EMPTY_PATH);
		if (r == 0 || errno != EEXIST)
			break;
	}
	if (r < 0)
		return vsl_error_errno(err, errno, "link blob into place");
	if (renameat(s->tmp_fd, name, s->blobs_fd, hex) < 0) {
		int e = errno;
		unlinkat(s->tmp_fd, name, 0);
		return vsl_error_errno(err, e, "rename blob into place");
	}
	return 0;
}

static void writer_discard(struct blob_writer *w)
{
	closep(&w->fd);
	w->fd = -EBADF;
	if (w->tmp_name) {
		unlinkat(w->store->tmp_fd, w->tmp_name, 0);
		free(TAKE_PTR(w->tmp_name));
	}
}

int blob_writer_commit(struct blob_writer *w, char ret_digest[DIGEST_SIZE], struct vsl_error **err)
{
	if (w->finished)
		return vsl_error_set_code(err, EINVAL, "commit of finished blob writer");
	w->finished = true;

	char actual[DIGEST_SIZE];
	digester_final(w->digester, actual);
	int r = 0;
	if (w->failed)
		r = vsl_error_set_code(err, EINVAL, "blob '%s': commit after a failed write",
		                       writer_subject(w));
	else if (w->expected_size >= 0 && w->written != (uint64_t)w->expected_size)
		r = vsl_error_set_code(err, EBADMSG,
		                       "blob '%s': size mismatch: expected %" PRId64 " bytes, got %" PRIu64,
		                       writer_subject(w), w->expected_size, w->written);
	else if (w->expected[0] && strcmp(actual, w->expected) != 0)
		r = vsl_error_set_code(err, EBADMSG, "blob '%s': digest mismatch: content hashes to '%s'",
		                       w->expected, actual);
	/* The data reaches the disk before the name does: after a power cut a
	 * blob is whole or absent, and the state database may point at it. */
	else if (fsync(w->fd) < 0)
		r = vsl_error_errno(err, errno, "sync blob '%s'", actual);
	else if ((r = place(w, digest_hex(actual), err)) < 0)
		r = vsl_error_prefix(err, "store blob '%s'", actual);
	else if (fsync(w->store->blobs_fd) < 0)
		r = vsl_error_errno(err, errno, "sync content store directory");
	writer_discard(w);
	if (r < 0)
		return r;
	if (ret_digest)
		memcpy(ret_digest, actual, DIGEST_SIZE);
	return 0;
}

void blob_writer_free(struct blob_writer *w)
{
	if (w == NULL)
		return;
	writer_discard(w);
	digester_free(w->digester);
	free(w);
}

int blob_store_put(struct blob_store *s, const void *buf, size_t len, const char *expected_digest,
                   char ret_digest[DIGEST_SIZE], struct vsl_error **err)
{
	_cleanup_blob_writer_ struct blob_writer *w = NULL;
	int r = blob_writer_new(s, expected_digest, (int64_t)len, &w, err);
	if (r >= 0)
		r = blob_writer_write(w, buf, len, err);
	if (r >= 0)
		r = blob_writer_commit(w, ret_digest, err);
	return r;
}

int blob_store_remove(struct blob_store *s, const char *digest, struct vsl_error **err)
{
	int r = check_digest(digest, err);
	if (r < 0)
		return r;
	if (unlinkat(s->blobs_fd, digest_hex(digest), 0) < 0 && errno != ENOENT)
		return vsl_error_errno(err, errno, "remove blob '%s'", digest);
	return 0;
}

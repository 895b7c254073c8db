#include "storage/layer-store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/random.h"

/* Younger leftovers may belong to an ingest that has not taken its lock yet. */
#define GC_MIN_AGE_SEC 60

struct layer_store {
	int layers_fd;
	char *layers_path;
};

struct layer_ingest {
	struct layer_store *store;
	char tmp[32];
	char hex[DIGEST_HEX_LEN + 1];
	int lock_fd; /* the tmp directory, flock()ed while the ingest lives */
	bool committed;
};

int layer_store_open(int root_dirfd, struct layer_store **ret, struct vsl_error **err)
{
	if (mkdirat(root_dirfd, "layers", 0700) < 0 && errno != EEXIST)
		return vsl_error_errno(err, errno, "create layer store 'layers'");
	_cleanup_close_ int fd = openat(root_dirfd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open layer store 'layers'");

	/* Overlay wants lowerdir paths: remember where the store is. */
	char proc[64], path[PATH_MAX];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, path, sizeof(path) - 1);
	if (n < 0)
		return vsl_error_errno(err, errno, "find path of layer store");
	path[n] = '\0';

	struct layer_store *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->layers_path = strdup(path)) == NULL) {
		free(s);
		return vsl_error_errno(err, ENOMEM, "open layer store");
	}
	s->layers_fd = TAKE_FD(fd);
	*ret = s;
	return 0;
}

void layer_store_free(struct layer_store *s)
{
	if (s == NULL)
		return;
	closep(&s->layers_fd);
	free(s->layers_path);
	free(s);
}

static int check_chain_id(const char *chain_id, struct vsl_error **err)
{
	if (!digest_is_valid(chain_id))
		return vsl_error_set_code(err, EINVAL, "invalid chain id '%s'",
		                          chain_id ? chain_id : "(null)");
	return 0;
}

bool layer_store_has(struct layer_store *s, const char *chain_id)
{
	if (!digest_is_valid(chain_id))
		return false;
	char rel[DIGEST_HEX_LEN + 8];
	snprintf(rel, sizeof(rel), "%s/diff", digest_hex(chain_id));
	struct stat st;
	return fstatat(s->layers_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

char *layer_store_diff_path(struct layer_store *s, const char *chain_id)
{
	if (!digest_is_valid(chain_id))
		return NULL;
	char *p = NULL;
	if (asprintf(&p, "%s/%s/diff", s->layers_path, digest_hex(chain_id)) < 0)
		return NULL;
	return p;
}

int layer_store_begin(struct layer_store *s, const char *chain_id, struct layer_ingest **ret,
                      int *ret_diff_dirfd, struct vsl_error **err)
{
	int r = check_chain_id(chain_id, err);
	if (r < 0)
		return r;
	_cleanup_(layer_ingest_freep) struct layer_ingest *in = calloc(1, sizeof(*in));
	if (in == NULL)
		return vsl_error_errno(err, ENOMEM, "unpack layer '%s'", chain_id);
	in->store = s;
	in->lock_fd = -EBADF;
	in->committed = true; /* nothing to remove until the directory exists */
	memcpy(in->hex, digest_hex(chain_id), sizeof(in->hex));

	for (int i = 0;; i++) {
		random_tmp_name(in->tmp, sizeof(in->tmp), "tmp-");
		if (mkdirat(s->layers_fd, in->tmp, 0700) == 0)
			break;
		if (errno != EEXIST || i == 100)
			return vsl_error_errno(err, errno, "create directory for layer '%s'", chain_id);
	}
	in->committed = false;

	in->lock_fd = openat(s->layers_fd, in->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (in->lock_fd < 0)
		return vsl_error_errno(err, errno, "open '%s'", in->tmp);
	if (flock(in->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return vsl_error_errno(err, errno, "lock '%s'", in->tmp);
	if (mkdirat(in->lock_fd, "diff", 0755) < 0)
		return vsl_error_errno(err, errno, "create '%s/diff'", in->tmp);
	int diff = openat(in->lock_fd, "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (diff < 0)
		return vsl_error_errno(err, errno, "open '%s/diff'", in->tmp);

	*ret_diff_dirfd = diff;
	*ret = TAKE_PTR(in);
	return 0;
}

int layer_ingest_commit(struct layer_ingest *in, struct vsl_error **err)
{
	struct layer_store *s = in->store;
	if (in->committed)
		return vsl_error_set_code(err, EINVAL, "layer 'sha256:%s' already committed", in->hex);

	/* The database will record this layer as present once we return: its
	 * files must survive a power cut before its name appears. */
	if (syncfs(in->lock_fd) < 0)
		return vsl_error_errno(err, errno, "sync layer 'sha256:%s'", in->hex);

	/* A committed layer always holds diff/: never an empty target. */
	int r = rename_noreplace_at(s->layers_fd, in->tmp, in->hex);
	if (r < 0 && r != -EEXIST)
		return vsl_error_errno(err, -r, "commit layer 'sha256:%s'", in->hex);
	if (r < 0) {
		/* Another process unpacked the same layer first: keep theirs. */
		(void)rm_rf_at(s->layers_fd, in->tmp);
	}
	in->committed = true;
	return 0;
}

void layer_ingest_free(struct layer_ingest *in)
{
	if (in == NULL)
		return;
	/* Removed while still locked, so the collector never races us. */
	if (!in->committed)
		(void)rm_rf_at(in->store->layers_fd, in->tmp);
	closep(&in->lock_fd);
	free(in);
}

int layer_store_remove(struct layer_store *s, const char *chain_id, struct vsl_error **err)
{
	int r = check_chain_id(chain_id, err);
	if (r < 0)
		return r;
	const char *hex = digest_hex(chain_id);

	_cleanup_close_ int fd = openat(s->layers_fd, hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return vsl_error_errno(err, errno, "open layer '%s'", chain_id);
	/* Keeps the collector off the del- directory while we delete it. Not
	 * waited for: an ingest of this layer in our own process may hold it. */
	(void)flock(fd, LOCK_EX | LOCK_NB);

	char del[32];
	r = remove_by_rename_at(s->layers_fd, hex, "del-", del, sizeof(del));
	if (r < 0 && del[0] != '\0')
		/* Out of the way already; layer_store_gc() finishes it. */
		return vsl_error_errno(err, -r, "remove layer '%s' (left as '%s')", chain_id, del);
	if (r < 0)
		return vsl_error_errno(err, -r, "remove layer '%s'", chain_id);
	return 0;
}

static bool is_leftover(const char *name)
{
	return strncmp(name, "tmp-", 4) == 0 || strncmp(name, "del-", 4) == 0;
}

int layer_store_gc(struct layer_store *s, struct vsl_error **err)
{
	int dfd = openat(s->layers_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return vsl_error_errno(err, errno, "open layer store");
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (d == NULL) {
		int e = errno;
		close(dfd);
		return vsl_error_errno(err, e, "open layer store");
	}

	time_t now = time(NULL);
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!is_leftover(de->d_name))
			continue;
		struct stat st;
		if (fstatat(s->layers_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (now - st.st_mtime < GC_MIN_AGE_SEC)
			continue;
		_cleanup_close_ int fd =
		    openat(s->layers_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* Held by a live ingest or removal: not a leftover. */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0)
			continue;
		int q = rm_rf_at(s->layers_fd, de->d_name);
		if (q < 0 && q != -ENOENT && r == 0)
			r = vsl_error_errno(err, q, "remove leftover layer directory '%s'", de->d_name);
	}
	return r;
}

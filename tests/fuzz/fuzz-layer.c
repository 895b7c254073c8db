/* Layer blobs as registries serve them: layer_apply() applies or refuses any
 * bytes (tar, gzip, zstd, garbage) without a crash, a leak or undefined
 * behaviour, reports the blob's own digest and size when it accepts, and never
 * creates anything outside the layer directory, whatever names, symlinks and
 * hardlinks the tar holds. */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/layer.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_entries(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		abort();
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (d == NULL)
		abort();
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char root[] = "/tmp/fuzz-layer-XXXXXX";
	if (mkdtemp(root) == NULL)
		abort();
	_cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || mkdirat(rootfd, "layer", 0755) < 0 || mkdirat(rootfd, "outside", 0755) < 0)
		abort();
	_cleanup_close_ int layer = openat(rootfd, "layer", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int outside = openat(rootfd, "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int in = memfd_create("fuzz-layer", MFD_CLOEXEC);
	if (layer < 0 || outside < 0 || in < 0 || write_all(in, data, size) < 0 ||
	    lseek(in, 0, SEEK_SET) != 0)
		abort();

	struct layer_apply_result res;
	_cleanup_error_ struct vsl_error *err = NULL;
	if (layer_apply(in, layer, &res, &err) < 0) {
		/* A refusal always says why. */
		if (err == NULL || err->msg == NULL)
			abort();
	} else {
		char want[DIGEST_SIZE];
		digest_buffer(data, size, want);
		if (res.compressed_size != size || strcmp(res.digest, want) != 0 ||
		    !digest_is_valid(res.diff_id))
			abort();
	}

	/* Nothing beside the layer directory, nothing in its sibling. */
	if (count_entries(rootfd) != 2 || count_entries(outside) != 0)
		abort();
	rm_rf_at(AT_FDCWD, root);
	return 0;
}

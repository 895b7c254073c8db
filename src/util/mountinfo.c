#include "util/mountinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

/* Published with a CAS so concurrent first callers are safe. */
static char *cgroup_lines;

int mountinfo_cgroup_lines(const char **ret, struct vsl_error **err)
{
	char *kept = __atomic_load_n(&cgroup_lines, __ATOMIC_ACQUIRE);
	if (kept == NULL) {
		_cleanup_free_ char *all = NULL;
		size_t len = 0;
		if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", 64 << 20, &all, &len, err) < 0)
			return -1;
		_cleanup_free_ char *out = malloc(len + 1);
		if (out == NULL)
			return vsl_error_errno(err, ENOMEM, "read /proc/self/mountinfo");
		size_t w = 0;
		for (const char *line = all; *line;) {
			const char *nl = strchr(line, '\n');
			size_t l = nl ? (size_t)(nl - line) + 1 : strlen(line);
			/* "id parent maj:min root mountpoint opts [optional...] - fstype source superopts" */
			const char *sep = memmem(line, l, " - ", 3);
			if (sep && (size_t)(line + l - sep) > 9 && strncmp(sep + 3, "cgroup", 6) == 0) {
				memcpy(out + w, line, l);
				w += l;
			}
			line += l;
		}
		out[w] = '\0';
		char *expected = NULL;
		if (__atomic_compare_exchange_n(&cgroup_lines, &expected, out, false, __ATOMIC_ACQ_REL,
		                                __ATOMIC_ACQUIRE))
			kept = TAKE_PTR(out);
		else
			kept = expected;
	}
	*ret = kept;
	return 0;
}

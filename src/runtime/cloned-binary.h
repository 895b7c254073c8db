/* CVE-2019-5736: a container process must never be able to write the runtime
 * binary on the host through /proc/<pid>/exe. Before entering a container the
 * runtime re-executes itself from a read-only, detached bind mount of its own
 * binary (no copy: zero memory cost); writes through the magic link then fail
 * with EROFS. Where the new mount API is missing, a sealed memfd copy is used. */
#pragma once

struct vsl_error;

/* Returns 0 when already running from a protected copy; otherwise re-execs
 * with the same arguments and returns only on failure. */
int cloned_binary_ensure(struct vsl_error **err);
/* After the re-exec: the path of the binary we were started as (for files
 * installed beside it); NULL when there was no re-exec. */
const char *cloned_binary_original(void);

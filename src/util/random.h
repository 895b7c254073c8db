/* Random names: hex ids for containers and volumes, from the kernel's CSPRNG,
 * and names for temporary files, where a clash only means another try.
 *
 *     char id[65];
 *     if ((r = random_hex(id, 32)) < 0)
 *             return vsl_error_errno(err, -r, "make a container id");
 */
#pragma once

#include <stddef.h>

/* Writes 2 * n_bytes lowercase hex digits and a NUL to ret (room for 2 * n_bytes + 1).
 * Returns 0 or -errno. */
int random_hex(char *ret, size_t n_bytes);
/* prefix and 16 hex digits. Never fails: while the kernel's pool is not ready
 * (early boot) the time and pid stand in, which is enough for a name that is
 * created with O_EXCL or mkdir and tried again on a clash. */
void random_tmp_name(char *buf, size_t size, const char *prefix);

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/random.h"

int random_hex(char *ret, size_t n_bytes)
{
	unsigned char bytes[64];
	if (n_bytes > sizeof(bytes))
		return -EINVAL;
	ssize_t n = getrandom(bytes, n_bytes, 0);
	if (n < 0)
		return -errno;
	if ((size_t)n != n_bytes)
		return -EIO;
	for (size_t i = 0; i < n_bytes; i++)
		snprintf(ret + 2 * i, 3, "%02x", bytes[i]);
	return 0;
}

void random_tmp_name(char *buf, size_t size, const char *prefix)
{
	uint64_t v;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		v = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
	}
	snprintf(buf, size, "%s%016" PRIx64, prefix, v);
}

#include "util/digest.h"

/* OpenSSL 3 marks the SHA256_* calls deprecated in favour of EVP, but EVP's first
 * digest in a process loads openssl.cnf and fetches the algorithm from a provider:
 * ~6 million instructions (2 ms), paid by every `vessel run` when it checks the
 * image config it reads. The low-level calls run the same assembly without that. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

struct digester {
	SHA256_CTX ctx;
};

static void format_digest(const unsigned char *md, unsigned n, char ret[DIGEST_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	memcpy(ret, DIGEST_PREFIX, sizeof(DIGEST_PREFIX) - 1);
	char *p = ret + sizeof(DIGEST_PREFIX) - 1;
	for (unsigned i = 0; i < n && i < DIGEST_HEX_LEN / 2; i++) {
		*p++ = hex[md[i] >> 4];
		*p++ = hex[md[i] & 15];
	}
	*p = '\0';
}

struct digester *digester_new(void)
{
	struct digester *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	(void)SHA256_Init(&d->ctx); /* cannot fail */
	return d;
}

void digester_update(struct digester *d, const void *buf, size_t len)
{
	(void)SHA256_Update(&d->ctx, buf, len); /* cannot fail */
}

void digester_final(struct digester *d, char ret[DIGEST_SIZE])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	(void)SHA256_Final(md, &d->ctx);
	format_digest(md, sizeof(md), ret);
}

void digester_free(struct digester *d)
{
	if (d == NULL)
		return;
	free(d);
}

void digest_buffer(const void *buf, size_t len, char ret[DIGEST_SIZE])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_CTX ctx;
	/* Not SHA256(): in OpenSSL 3 that one goes through EVP. */
	(void)SHA256_Init(&ctx);
	(void)SHA256_Update(&ctx, buf, len);
	(void)SHA256_Final(md, &ctx);
	format_digest(md, sizeof(md), ret);
}

int digest_fd(int fd, char ret[DIGEST_SIZE], struct vsl_error **err)
{
	struct digester *d = digester_new();
	if (d == NULL)
		return vsl_error_errno(err, ENOMEM, "hash");
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			digester_free(d);
			return vsl_error_errno(err, e, "read for hashing");
		}
		if (n == 0)
			break;
		digester_update(d, buf, (size_t)n);
	}
	digester_final(d, ret);
	digester_free(d);
	return 0;
}

bool digest_is_valid(const char *s)
{
	if (s == NULL || strncmp(s, DIGEST_PREFIX, sizeof(DIGEST_PREFIX) - 1) != 0)
		return false;
	const char *h = s + sizeof(DIGEST_PREFIX) - 1;
	size_t n = strspn(h, "0123456789abcdef");
	return n == DIGEST_HEX_LEN && h[n] == '\0';
}

const char *digest_hex(const char *digest)
{
	return digest + sizeof(DIGEST_PREFIX) - 1;
}

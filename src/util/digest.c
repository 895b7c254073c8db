#include "util/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

struct digester {
	EVP_MD_CTX *ctx;
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
	d->ctx = EVP_MD_CTX_new();
	if (d->ctx == NULL || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1) {
		digester_free(d);
		return NULL;
	}
	return d;
}

void digester_update(struct digester *d, const void *buf, size_t len)
{
	/* Cannot fail for sha256 once initialised. */
	(void)EVP_DigestUpdate(d->ctx, buf, len);
}

void digester_final(struct digester *d, char ret[DIGEST_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	(void)EVP_DigestFinal_ex(d->ctx, md, &n);
	format_digest(md, n, ret);
}

void digester_free(struct digester *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

void digest_buffer(const void *buf, size_t len, char ret[DIGEST_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	(void)EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
	format_digest(md, n, ret);
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

#include "image/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

/* A file larger than this is not a credentials file someone wrote by hand or by login. */
#define AUTH_FILE_MAX (4u << 20)

char *auth_default_file(void)
{
	const char *e = getenv("VESSEL_AUTH_FILE");
	if (e != NULL && e[0] != '\0')
		return strdup(e);

	char *path = NULL;
	e = getenv("DOCKER_CONFIG");
	if (e != NULL && e[0] != '\0')
		return asprintf(&path, "%s/config.json", e) < 0 ? NULL : path;

	const char *home = getenv("HOME");
	if (home == NULL || home[0] == '\0') {
		struct passwd *pw = getpwuid(getuid());
		home = pw != NULL && pw->pw_dir != NULL ? pw->pw_dir : "/";
	}
	return asprintf(&path, "%s/.docker/config.json", home) < 0 ? NULL : path;
}

static bool is_docker_hub(const char *domain)
{
	return strcmp(domain, "docker.io") == 0 || strcmp(domain, "index.docker.io") == 0 ||
	       strcmp(domain, "registry-1.docker.io") == 0;
}

static const char *canonical_key(const char *domain)
{
	return is_docker_hub(domain) ? AUTH_DOCKER_HUB_KEY : domain;
}

/* Whether an "auths" key names the registry: keys written by older tools carry a
 * scheme and a path ("https://index.docker.io/v1/", "http://host:5000/v2/"). */
static bool key_matches(const char *key, const char *domain)
{
	if (strncmp(key, "https://", 8) == 0)
		key += 8;
	else if (strncmp(key, "http://", 7) == 0)
		key += 7;
	size_t n = strcspn(key, "/");
	_cleanup_free_ char *host = strndup(key, n);
	if (host == NULL)
		return false;
	if (is_docker_hub(domain))
		return is_docker_hub(host);
	return strcmp(host, domain) == 0;
}

/* NULL (and *ret_len untouched) when s is not valid base64. */
static char *base64_decode(const char *s, size_t *ret_len)
{
	size_t n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		n--;
	/* Some writers drop the padding: put it back, EVP_DecodeBlock wants whole quads. */
	size_t padded = (n + 3) / 4 * 4;
	_cleanup_free_ unsigned char *in = malloc(padded + 1);
	_cleanup_free_ unsigned char *out = malloc(padded / 4 * 3 + 1);
	if (in == NULL || out == NULL || padded > INT_MAX)
		return NULL;
	memcpy(in, s, n);
	memset(in + n, '=', padded - n);
	int len = EVP_DecodeBlock(out, in, (int)padded);
	if (len < 0)
		return NULL;
	/* EVP_DecodeBlock counts the bytes the padding stands for. */
	for (size_t i = padded; i > 0 && in[i - 1] == '='; i--)
		len--;
	if (len < 0)
		return NULL;
	out[len] = '\0';
	*ret_len = (size_t)len;
	return (char *)TAKE_PTR(out);
}

static char *base64_encode(const void *data, size_t len)
{
	if (len > INT_MAX / 2)
		return NULL;
	char *out = malloc((len + 2) / 3 * 4 + 1);
	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

char *auth_encode(const char *user, const char *secret)
{
	_cleanup_free_ char *plain = NULL;
	if (asprintf(&plain, "%s:%s", user, secret) < 0)
		return NULL;
	char *b64 = base64_encode(plain, strlen(plain));
	explicit_bzero(plain, strlen(plain));
	return b64;
}

/* *ret NULL when the file does not exist. */
static int load_file(const char *file, json_t **ret, struct vsl_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	_cleanup_error_ struct vsl_error *e = NULL;
	int r = read_file_at(AT_FDCWD, file, AUTH_FILE_MAX, &data, &len, &e);
	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	if (r < 0) {
		if (err != NULL && *err == NULL)
			*err = TAKE_PTR(e);
		return r;
	}

	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr);
	if (root == NULL)
		return vsl_error_set_code(err, EINVAL, "'%s': line %d: %s", file, jerr.line, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return vsl_error_set_code(err, EINVAL, "'%s': expected a JSON object", file);
	}
	*ret = root;
	return 0;
}

/* file NULL: auth_default_file(), which *ret_dflt then owns. */
static int load_file_or_default(const char **file, char **ret_dflt, json_t **ret, struct vsl_error **err)
{
	if (*file == NULL && (*file = *ret_dflt = auth_default_file()) == NULL)
		return vsl_error_errno(err, ENOMEM, "auth file");
	return load_file(*file, ret, err);
}

static int entry_credentials(const char *file, const char *key, json_t *entry, char **ret_user,
                             char **ret_secret, struct vsl_error **err)
{
	if (!json_is_object(entry))
		return vsl_error_set_code(err, EINVAL, "'%s': auths.%s: expected an object", file, key);

	_cleanup_free_ char *user = NULL, *secret = NULL;
	const char *token = json_string_value(json_object_get(entry, "identitytoken"));
	const char *auth = json_string_value(json_object_get(entry, "auth"));
	if (token != NULL && token[0] != '\0') {
		user = strdup("<token>");
		secret = strdup(token);
	} else if (auth != NULL && auth[0] != '\0') {
		size_t len = 0;
		_cleanup_free_ char *plain = base64_decode(auth, &len);
		char *colon = plain != NULL ? memchr(plain, ':', len) : NULL;
		if (colon == NULL || memchr(plain, '\0', len) != NULL)
			return vsl_error_set_code(
			    err, EINVAL, "'%s': auths.%s.auth: expected base64 of 'user:secret'", file, key);
		*colon = '\0';
		user = strdup(plain);
		secret = strdup(colon + 1);
	} else {
		const char *u = json_string_value(json_object_get(entry, "username"));
		const char *p = json_string_value(json_object_get(entry, "password"));
		if (u == NULL || p == NULL || u[0] == '\0') {
			*ret_user = *ret_secret = NULL;
			return 0;
		}
		user = strdup(u);
		secret = strdup(p);
	}
	if (user == NULL || secret == NULL)
		return vsl_error_errno(err, ENOMEM, "read credentials");
	*ret_user = TAKE_PTR(user);
	*ret_secret = TAKE_PTR(secret);
	return 0;
}

int auth_lookup(const char *file, const char *domain, char **ret_user, char **ret_secret,
                struct vsl_error **err)
{
	_cleanup_free_ char *dflt = NULL;
	_cleanup_json_ json_t *root = NULL;
	int r = load_file_or_default(&file, &dflt, &root, err);
	if (r < 0)
		return r;
	json_t *auths = root != NULL ? json_object_get(root, "auths") : NULL;
	if (auths == NULL) {
		*ret_user = *ret_secret = NULL;
		return 0;
	}
	if (!json_is_object(auths))
		return vsl_error_set_code(err, EINVAL, "'%s': auths: expected an object", file);

	/* The exact key first: another spelling may be an older, stale entry. */
	const char *key = canonical_key(domain);
	json_t *entry = json_object_get(auths, key);
	if (entry == NULL) {
		const char *k;
		json_t *v;
		json_object_foreach(auths, k, v)
		{
			if (key_matches(k, domain)) {
				key = k;
				entry = v;
				break;
			}
		}
	}
	if (entry == NULL) {
		*ret_user = *ret_secret = NULL;
		return 0;
	}
	return entry_credentials(file, key, entry, ret_user, ret_secret, err);
}

/* Through a temporary file in the same directory, fsync'd: a crash leaves the old
 * credentials or the new ones, and never a file others can read. */
static int save_file(const char *file, json_t *root, struct vsl_error **err)
{
	/* Replace what a symlinked config.json points to, not the link. */
	_cleanup_free_ char *real = realpath(file, NULL);
	const char *target = real != NULL ? real : file;

	_cleanup_free_ char *dir = strdup(target);
	if (dir == NULL)
		return vsl_error_errno(err, ENOMEM, "write '%s'", file);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else {
		free(dir);
		dir = strdup(".");
		if (dir == NULL)
			return vsl_error_errno(err, ENOMEM, "write '%s'", file);
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return vsl_error_errno(err, errno, "create directory '%s'", dir);

	_cleanup_free_ char *text = json_dumps(root, JSON_INDENT(8));
	_cleanup_free_ char *tmp = NULL;
	if (text == NULL || asprintf(&tmp, "%s/.config.json.XXXXXX", dir) < 0)
		return vsl_error_errno(err, ENOMEM, "write '%s'", file);
	/* mkostemp creates the file 0600. */
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return vsl_error_errno(err, errno, "create '%s'", tmp);
	int e = 0;
	if (write_all(fd, text, strlen(text)) < 0 || write_all(fd, "\n", 1) < 0 || fsync(fd) < 0)
		e = errno;
	else if (rename(tmp, target) < 0)
		e = errno;
	if (e != 0) {
		unlink(tmp);
		return vsl_error_errno(err, e, "write '%s'", file);
	}
	return 0;
}

/* Deletes every key naming the registry; returns how many there were. */
static size_t remove_keys(json_t *auths, const char *domain)
{
	size_t n = 0;
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(auths, tmp, k, v)
	{
		if (key_matches(k, domain) && json_object_del(auths, k) == 0)
			n++;
	}
	return n;
}

int auth_store(const char *file, const char *domain, const char *user, const char *secret,
               struct vsl_error **err)
{
	if (strchr(user, ':') != NULL)
		return vsl_error_set_code(err, EINVAL, "user name '%s' contains ':'", user);
	_cleanup_free_ char *dflt = NULL;
	_cleanup_json_ json_t *root = NULL;
	int r = load_file_or_default(&file, &dflt, &root, err);
	if (r < 0)
		return r;
	if (root == NULL && (root = json_object()) == NULL)
		return vsl_error_errno(err, ENOMEM, "write '%s'", file);

	json_t *auths = json_object_get(root, "auths");
	if (auths == NULL) {
		if (json_object_set_new(root, "auths", json_object()) < 0)
			return vsl_error_errno(err, ENOMEM, "write '%s'", file);
		auths = json_object_get(root, "auths");
	}
	if (!json_is_object(auths))
		return vsl_error_set_code(err, EINVAL, "'%s': auths: expected an object", file);

	_cleanup_free_ char *encoded = auth_encode(user, secret);
	json_t *entry = json_pack("{s:s}", "auth", encoded ? encoded : "");
	if (encoded == NULL || entry == NULL) {
		json_decref(entry);
		return vsl_error_errno(err, ENOMEM, "write '%s'", file);
	}
	remove_keys(auths, domain);
	if (json_object_set_new(auths, canonical_key(domain), entry) < 0)
		return vsl_error_errno(err, ENOMEM, "write '%s'", file);
	return save_file(file, root, err);
}

int auth_remove(const char *file, const char *domain, struct vsl_error **err)
{
	_cleanup_free_ char *dflt = NULL;
	_cleanup_json_ json_t *root = NULL;
	int r = load_file_or_default(&file, &dflt, &root, err);
	if (r < 0)
		return r;
	json_t *auths = root != NULL ? json_object_get(root, "auths") : NULL;
	if (!json_is_object(auths) || remove_keys(auths, domain) == 0)
		return vsl_error_set_code(err, ENOENT, "not logged in to '%s'", domain);
	return save_file(file, root, err);
}

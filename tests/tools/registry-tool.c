/* A command-line driver of the registry client (src/image/registry.h) for the
 * system tests: each subcommand is one API call, so a test can aim at one
 * behaviour against a real registry.
 *
 *   registry-tool [options] ping DOMAIN
 *   registry-tool [options] login-check DOMAIN          (--creds; --store writes the auth file)
 *   registry-tool [options] get-manifest DOMAIN REPO REF (body on stdout; digest, media type on stderr)
 *   registry-tool [options] fetch-blob DOMAIN REPO DIGEST (blob on stdout; --size N)
 *   registry-tool [options] fetch-blobs DOMAIN REPO DIGEST... (--threads N, 3 by default, on one registry)
 *   registry-tool [options] blob-exists DOMAIN REPO DIGEST (prints true or false)
 *   registry-tool [options] push-blob DOMAIN REPO FILE  (--chunk-size N, --from REPO; prints the digest)
 *   registry-tool [options] put-manifest DOMAIN REPO REF MEDIA-TYPE FILE
 *   registry-tool [options] tags DOMAIN REPO             (--page-size N)
 *
 * Options: --insecure HOST, --mirror URL, --mirror-registry DOMAIN (repeatable),
 * --auth-file FILE, --creds USER:SECRET, --tls-verify=false, --prepare-push
 * (registry_prepare_push() on REPO first).
 *
 * Exit status: 0, or 2 for ENOENT, 3 for EACCES, 4 for EBADMSG, 1 otherwise;
 * the error message goes to stderr. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/auth.h"
#include "image/registry.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

struct options {
	char *insecure[16], *mirrors[16], *mirror_registries[16];
	size_t n_insecure, n_mirrors, n_mirror_registries;
	const char *auth_file;
	const char *creds;
	bool tls_verify;
	bool store;
	uint64_t chunk_size;
	const char *from;
	unsigned page_size;
	int64_t size;
	unsigned threads;
	bool prepare_push;
};

static int fail(struct vsl_error *err, int r)
{
	fprintf(stderr, "registry-tool: %s\n", err && err->msg ? err->msg : strerror(-r));
	switch (-r) {
	case ENOENT:
		return 2;
	case EACCES:
		return 3;
	case EBADMSG:
		return 4;
	default:
		return 1;
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: registry-tool [options] COMMAND DOMAIN [ARGS...] (see the source)\n");
	return 1;
}

static int open_registry(const struct options *o, const char *domain, struct registry **ret,
                         struct vsl_error **err)
{
	struct registry_config cfg = {
	    .mirrors = (char **)o->mirrors,
	    .mirror_registries = (char **)o->mirror_registries,
	    .insecure_registries = (char **)o->insecure,
	    .tls_verify = o->tls_verify,
	    .auth_file = o->auth_file,
	    .user_agent = "vessel-registry-tool",
	};
	_cleanup_registry_ struct registry *r = NULL;
	int rc = registry_open(domain, &cfg, &r, err);
	if (rc < 0)
		return rc;
	if (o->creds != NULL) {
		const char *colon = strchr(o->creds, ':');
		if (colon == NULL)
			return vsl_error_set_code(err, EINVAL, "--creds: expected USER:SECRET");
		_cleanup_free_ char *user = strndup(o->creds, (size_t)(colon - o->creds));
		rc = registry_set_credentials(r, user, colon + 1, err);
		if (rc < 0)
			return rc;
	}
	*ret = TAKE_PTR(r);
	return 0;
}

static int sink_fd(void *userdata, const void *buf, size_t len, struct vsl_error **err)
{
	int fd = *(int *)userdata;
	if (write_all(fd, buf, len) < 0)
		return vsl_error_errno(err, errno, "write the blob");
	return 0;
}

struct parallel {
	struct registry *r;
	const char *repo;
	char **digests;
	size_t n, next;
	pthread_mutex_t lock;
	int failed;
};

struct one_blob {
	struct digester *dg;
	uint64_t len;
};

static int sink_digest(void *userdata, const void *buf, size_t len, struct vsl_error **err)
{
	(void)err;
	struct one_blob *b = userdata;
	digester_update(b->dg, buf, len);
	b->len += len;
	return 0;
}

/* Each thread takes the next digest until none is left: the puller's pattern. */
static void *fetch_worker(void *arg)
{
	struct parallel *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			return NULL;
		_cleanup_error_ struct vsl_error *err = NULL;
		_cleanup_digester_ struct digester *dg = digester_new();
		struct one_blob b = {.dg = dg};
		int rc = registry_fetch_blob(p->r, p->repo, p->digests[i], -1, sink_digest, NULL, &b, &err);
		char got[DIGEST_SIZE];
		digester_final(dg, got);
		pthread_mutex_lock(&p->lock);
		if (rc < 0) {
			fprintf(stderr, "registry-tool: %s\n", err ? err->msg : "failed");
			p->failed = rc;
		} else {
			/* Checked here too: the sink saw exactly the blob, once, in order. */
			printf("%s %" PRIu64 " %s\n", p->digests[i], b.len,
			       strcmp(got, p->digests[i]) == 0 ? "ok" : "BAD");
		}
		pthread_mutex_unlock(&p->lock);
	}
}

int main(int argc, char **argv)
{
	struct options o = {.tls_verify = true, .size = -1, .threads = 3};
	static const struct option longopts[] = {
	    {"insecure", required_argument, NULL, 'i'},
	    {"mirror", required_argument, NULL, 'm'},
	    {"mirror-registry", required_argument, NULL, 'M'},
	    {"auth-file", required_argument, NULL, 'a'},
	    {"creds", required_argument, NULL, 'c'},
	    {"tls-verify", required_argument, NULL, 't'},
	    {"store", no_argument, NULL, 's'},
	    {"chunk-size", required_argument, NULL, 'C'},
	    {"from", required_argument, NULL, 'f'},
	    {"page-size", required_argument, NULL, 'p'},
	    {"size", required_argument, NULL, 'S'},
	    {"debug", no_argument, NULL, 'd'},
	    {"threads", required_argument, NULL, 'T'},
	    {"prepare-push", no_argument, NULL, 'P'},
	    {},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (o.n_insecure < 15)
				o.insecure[o.n_insecure++] = optarg;
			break;
		case 'm':
			if (o.n_mirrors < 15)
				o.mirrors[o.n_mirrors++] = optarg;
			break;
		case 'M':
			if (o.n_mirror_registries < 15)
				o.mirror_registries[o.n_mirror_registries++] = optarg;
			break;
		case 'a':
			o.auth_file = optarg;
			break;
		case 'c':
			o.creds = optarg;
			break;
		case 't':
			o.tls_verify = strcmp(optarg, "false") != 0;
			break;
		case 's':
			o.store = true;
			break;
		case 'C':
			o.chunk_size = strtoull(optarg, NULL, 10);
			break;
		case 'f':
			o.from = optarg;
			break;
		case 'p':
			o.page_size = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			o.size = strtoll(optarg, NULL, 10);
			break;
		case 'P':
			o.prepare_push = true;
			break;
		case 'T':
			o.threads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			log_open(NULL, false, LOG_DEBUG);
			break;
		default:
			return usage();
		}
	}
	if (argc - optind < 2)
		return usage();
	const char *cmd = argv[optind], *domain = argv[optind + 1];
	char **args = argv + optind + 2;
	int nargs = argc - optind - 2;

	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_registry_ struct registry *r = NULL;
	int rc = open_registry(&o, domain, &r, &err);
	if (rc < 0)
		return fail(err, rc);

	if (o.prepare_push && nargs > 0 && (rc = registry_prepare_push(r, args[0], &err)) < 0)
		return fail(err, rc);

	if (strcmp(cmd, "ping") == 0 && nargs == 0) {
		rc = registry_ping(r, &err);
		if (rc >= 0)
			printf("ok\n");
	} else if (strcmp(cmd, "login-check") == 0 && nargs == 0) {
		if (o.creds == NULL)
			return usage();
		rc = registry_ping(r, &err);
		if (rc >= 0 && o.store) {
			_cleanup_free_ char *user = strndup(o.creds, strcspn(o.creds, ":"));
			rc = auth_store(o.auth_file, domain, user, strchr(o.creds, ':') + 1, &err);
		}
		if (rc >= 0)
			printf("Login Succeeded\n");
	} else if (strcmp(cmd, "get-manifest") == 0 && nargs == 2) {
		struct registry_manifest m = {0};
		rc = registry_get_manifest(r, args[0], args[1], &m, &err);
		if (rc >= 0) {
			fprintf(stderr, "digest: %s\nmedia-type: %s\n", m.digest, m.media_type);
			if (write_all(STDOUT_FILENO, m.body, m.len) < 0)
				rc = vsl_error_errno(&err, errno, "write stdout");
		}
		registry_manifest_release(&m);
	} else if (strcmp(cmd, "fetch-blob") == 0 && nargs == 2) {
		int fd = STDOUT_FILENO;
		rc = registry_fetch_blob(r, args[0], args[1], o.size, sink_fd, NULL, &fd, &err);
	} else if (strcmp(cmd, "fetch-blobs") == 0 && nargs >= 2) {
		struct parallel p = {.r = r, .repo = args[0], .digests = args + 1, .n = (size_t)nargs - 1};
		pthread_mutex_init(&p.lock, NULL);
		pthread_t t[16];
		size_t n = o.threads < 1 ? 1 : o.threads > ARRAY_SIZE(t) ? ARRAY_SIZE(t) : o.threads;
		for (size_t i = 0; i < n; i++)
			pthread_create(&t[i], NULL, fetch_worker, &p);
		for (size_t i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		pthread_mutex_destroy(&p.lock);
		if (p.failed < 0)
			return 1;
	} else if (strcmp(cmd, "blob-exists") == 0 && nargs == 2) {
		bool exists = false;
		rc = registry_blob_exists(r, args[0], args[1], &exists, &err);
		if (rc >= 0)
			printf("%s\n", exists ? "true" : "false");
	} else if (strcmp(cmd, "push-blob") == 0 && nargs == 2) {
		_cleanup_close_ int fd = open(args[1], O_RDONLY | O_CLOEXEC);
		struct stat st;
		char digest[DIGEST_SIZE];
		if (fd < 0 || fstat(fd, &st) < 0)
			rc = vsl_error_errno(&err, errno, "open '%s'", args[1]);
		else
			rc = digest_fd(fd, digest, &err);
		if (rc >= 0)
			rc = registry_push_blob(r, args[0], digest, fd, (uint64_t)st.st_size, o.chunk_size,
			                        o.from, NULL, NULL, &err);
		if (rc >= 0)
			printf("%s\n", digest);
	} else if (strcmp(cmd, "put-manifest") == 0 && nargs == 4) {
		_cleanup_free_ char *body = NULL;
		size_t len = 0;
		rc = read_file_at(AT_FDCWD, args[3], REGISTRY_MANIFEST_MAX, &body, &len, &err);
		if (rc >= 0)
			rc = registry_put_manifest(r, args[0], args[1], args[2], body, len, &err);
		if (rc >= 0) {
			char digest[DIGEST_SIZE];
			digest_buffer(body, len, digest);
			printf("%s\n", digest);
		}
	} else if (strcmp(cmd, "tags") == 0 && nargs == 1) {
		_cleanup_strv_ char **tags = NULL;
		rc = registry_list_tags_paged(r, args[0], o.page_size, &tags, &err);
		for (char **t = tags; rc >= 0 && t && *t; t++)
			printf("%s\n", *t);
	} else {
		return usage();
	}
	if (rc < 0)
		return fail(err, rc);
	return 0;
}

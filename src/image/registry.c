#include "image/registry.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/auth.h"
#include "image/registry-http.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strv.h"

/* ---- the API ---- */

void registry_free(struct registry *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_eps; i++)
		endpoint_done(&r->eps[i]);
	free(r->eps);
	if (r->share)
		curl_share_cleanup(r->share);
	for (size_t i = 0; i < ARRAY_SIZE(r->share_locks); i++)
		pthread_mutex_destroy(&r->share_locks[i]);
	pthread_mutex_destroy(&r->lock);
	free(r->domain);
	free(r->user_agent);
	free(r->auth_file);
	strv_free(r->insecure);
	strv_free(r->push_repos);
	free(r);
}

int registry_open(const char *domain, const struct registry_config *cfg, struct registry **ret,
                  struct vsl_error **err)
{
	CURLcode init = registry_http_global_init();
	if (init != CURLE_OK)
		return vsl_error_set_code(err, EIO, "initialize libcurl: %s", curl_easy_strerror(init));
	if (domain == NULL || domain[0] == '\0' || strpbrk(domain, "/ @?#") != NULL)
		return vsl_error_set_code(err, EINVAL, "invalid registry '%s'", domain ? domain : "");

	_cleanup_registry_ struct registry *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", domain);
	pthread_mutex_init(&r->lock, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(r->share_locks); i++)
		pthread_mutex_init(&r->share_locks[i], NULL);

	r->tls_verify = cfg ? cfg->tls_verify : true;
	r->domain = strdup(domain);
	if (cfg && cfg->user_agent)
		r->user_agent = strdup(cfg->user_agent);
	else
		r->user_agent = strdup("vessel/" VESSEL_VERSION);
	r->auth_file = cfg && cfg->auth_file ? strdup(cfg->auth_file) : auth_default_file();
	r->insecure = strv_copy(cfg ? cfg->insecure_registries : NULL);
	r->push_repos = strv_copy(NULL);
	r->share = curl_share_init();
	if (r->domain == NULL || r->user_agent == NULL || r->auth_file == NULL || r->insecure == NULL ||
	    r->push_repos == NULL || r->share == NULL)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", domain);
	/* Connections, TLS sessions and DNS answers are reused across calls and threads. */
	curl_share_setopt(r->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(r->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(r->share, CURLSHOPT_USERDATA, r);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);

	bool mirrored =
	    strcmp(domain, "docker.io") == 0 || strv_contains(cfg ? cfg->mirror_registries : NULL, domain);
	size_t n_mirrors = 0;
	for (char **m = cfg && mirrored ? cfg->mirrors : NULL; m && *m; m++)
		n_mirrors++;
	r->eps = calloc(n_mirrors + 1, sizeof(struct endpoint));
	if (r->eps == NULL)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", domain);
	for (size_t i = 0; i < n_mirrors; i++) {
		int rc = endpoint_init_mirror(r, &r->eps[r->n_eps], cfg->mirrors[i]);
		r->n_eps++;
		if (rc < 0)
			return vsl_error_set_code(err, -rc, "registry mirror '%s': %s", cfg->mirrors[i],
			                          rc == -ENOMEM ? "out of memory" : "not an http(s) URL");
	}
	int rc = endpoint_init_registry(r, &r->eps[r->n_eps]);
	r->n_eps++;
	if (rc < 0)
		return vsl_error_errno(err, -rc, "registry '%s'", domain);

	*ret = TAKE_PTR(r);
	return 0;
}

int registry_set_credentials(struct registry *r, const char *user, const char *secret, struct vsl_error **err)
{
	if (user == NULL || user[0] == '\0' || secret == NULL)
		return vsl_error_set_code(err, EINVAL, "registry '%s': empty user name", r->domain);
	char *u = strdup(user), *s = strdup(secret);
	if (u == NULL || s == NULL) {
		free(u);
		free(s);
		return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);
	}
	struct endpoint *ep = registry_endpoint(r);
	pthread_mutex_lock(&r->lock);
	free(ep->user);
	if (ep->secret)
		explicit_bzero(ep->secret, strlen(ep->secret));
	free(ep->secret);
	ep->user = u;
	ep->secret = s;
	ep->creds_loaded = true;
	/* Tokens got anonymously (or as someone else) do not carry the new identity. */
	tokens_free(ep->tokens);
	ep->tokens = NULL;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static char *repo_scope(struct registry *r, const char *repo, bool push)
{
	pthread_mutex_lock(&r->lock);
	push = push || strv_contains(r->push_repos, repo);
	pthread_mutex_unlock(&r->lock);
	char *s = NULL;
	return asprintf(&s, "repository:%s:%s", repo, push ? "pull,push" : "pull") < 0 ? NULL : s;
}

/* Later requests for repo ask for push access too: a token scoped to pull only
 * would not see a repository that does not exist yet. */
static int remember_push_repo(struct registry *r, const char *repo)
{
	int rc = 0;
	pthread_mutex_lock(&r->lock);
	if (!strv_contains(r->push_repos, repo))
		rc = strv_append(&r->push_repos, repo);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

static int check_repo(const struct registry *r, const char *repo, struct vsl_error **err)
{
	if (repo == NULL || repo[0] == '\0' || strpbrk(repo, " ?#%:@") != NULL || strstr(repo, "..") != NULL)
		return vsl_error_set_code(err, EINVAL, "registry '%s': invalid repository name '%s'",
		                          r->domain, repo ? repo : "");
	return 0;
}

int registry_prepare_push(struct registry *r, const char *repo, struct vsl_error **err)
{
	int rc = check_repo(r, repo, err);
	if (rc < 0)
		return rc;
	if (remember_push_repo(r, repo) < 0)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);
	return 0;
}

int registry_ping(struct registry *r, struct vsl_error **err)
{
	struct endpoint *ep = registry_endpoint(r);
	struct exchange ex = {.method = "GET", .body_max = PROBE_BODY_MAX};
	int rc = endpoint_request(r, ep, NULL, "/v2/", &ex, err);
	if (rc >= 0 && ex.status == 401) {
		pthread_mutex_lock(&r->lock);
		_cleanup_free_ char *user = ep->user ? strdup(ep->user) : NULL;
		pthread_mutex_unlock(&r->lock);
		if (user != NULL)
			rc = vsl_error_set_code(err, EACCES, "registry '%s': login as '%s' failed: %s",
			                        ep->name, user, "incorrect username or password");
		else
			rc = vsl_error_set_code(err, EACCES, "registry '%s': authentication required",
			                        ep->name);
	} else if (rc >= 0 && (ex.status < 200 || ex.status >= 300)) {
		rc = response_error(r, ep, &ex, "", "ping", false, err);
	}
	exchange_done(&ex);
	return rc < 0 ? rc : 0;
}

void registry_manifest_release(struct registry_manifest *m)
{
	if (m == NULL)
		return;
	free(m->body);
	free(m->media_type);
	*m = (struct registry_manifest){0};
}

static char *manifest_media_type(const struct exchange *ex)
{
	if (ex->content_type != NULL) {
		size_t n = strcspn(ex->content_type, "; \t");
		if (n > 0 && strncmp(ex->content_type, "application/json", n) != 0 &&
		    strncmp(ex->content_type, "text/plain", n) != 0)
			return strndup(ex->content_type, n);
	}
	/* Some registries serve everything as application/json: the body says what it is. */
	_cleanup_json_ json_t *j = json_loadb(ex->body ? ex->body : "", ex->body_len, 0, NULL);
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	if (mt == NULL && json_integer_value(json_object_get(j, "schemaVersion")) == 1)
		mt = "application/vnd.docker.distribution.manifest.v1+json";
	return strdup(mt ? mt : "");
}

static int manifest_from(struct registry *r, struct endpoint *ep, const char *repo, const char *reference,
                         struct registry_manifest *ret, struct vsl_error **err)
{
	bool by_digest = strchr(reference, ':') != NULL;
	_cleanup_free_ char *path = NULL, *scope = repo_scope(r, repo, false), *what = NULL;
	if (asprintf(&path, "/v2/%s/manifests/%s", repo, reference) < 0 || scope == NULL ||
	    asprintf(&what, "%s '%s'", by_digest ? "digest" : "tag", reference) < 0)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);
	_cleanup_slist_ struct curl_slist *hdrs = curl_slist_append(NULL, MANIFEST_ACCEPT);
	struct exchange ex = {.method = "GET", .headers = hdrs, .body_max = REGISTRY_MANIFEST_MAX};
	int rc = endpoint_request(r, ep, scope, path, &ex, err);
	if (rc == -EFBIG)
		vsl_error_prefix(err, "manifest %s", what);
	if (rc >= 0 && ex.status != 200)
		rc = response_error(r, ep, &ex, repo, what, false, err);
	if (rc < 0) {
		exchange_done(&ex);
		return rc;
	}

	char digest[DIGEST_SIZE];
	digest_buffer(ex.body ? ex.body : "", ex.body_len, digest);
	if (by_digest && strcmp(digest, reference) != 0) {
		exchange_done(&ex);
		return vsl_error_set_code(err, EBADMSG,
		                          "registry '%s': manifest %s does not match its digest (got '%s')",
		                          ep->name, what, digest);
	}
	char *mt = manifest_media_type(&ex);
	char *body = ex.body ? TAKE_PTR(ex.body) : strdup("");
	size_t len = ex.body_len;
	exchange_done(&ex);
	if (mt == NULL || body == NULL) {
		free(mt);
		free(body);
		return vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);
	}
	*ret = (struct registry_manifest){.body = body, .len = len, .media_type = mt};
	memcpy(ret->digest, digest, sizeof(digest));
	return 0;
}

/* Mirrors in order, then the registry: a mirror's failure only means the next one is asked. */
#define FOR_EACH_PULL_ENDPOINT(r, ep) for (struct endpoint *ep = (r)->eps; ep < (r)->eps + (r)->n_eps; ep++)

static bool fall_through(const struct registry *r, const struct endpoint *ep, struct vsl_error *e)
{
	if (ep == registry_endpoint((struct registry *)r))
		return false;
	log_debug("mirror '%s': %s; trying the next", ep->name, e ? e->msg : "failed");
	return true;
}

int registry_get_manifest(struct registry *r, const char *repo, const char *reference,
                          struct registry_manifest *ret, struct vsl_error **err)
{
	int rc = check_repo(r, repo, err);
	if (rc < 0)
		return rc;
	if (reference == NULL || reference[0] == '\0' || strpbrk(reference, "/ ?#%") != NULL ||
	    (strchr(reference, ':') != NULL && !digest_is_valid(reference)))
		return vsl_error_set_code(err, EINVAL, "registry '%s': invalid tag or digest '%s'", r->domain,
		                          reference ? reference : "");
	FOR_EACH_PULL_ENDPOINT(r, ep)
	{
		_cleanup_error_ struct vsl_error *e = NULL;
		rc = manifest_from(r, ep, repo, reference, ret, &e);
		if (rc >= 0)
			return 0;
		/* A mirror that serves a manifest not matching its digest is broken, not authoritative. */
		if (fall_through(r, ep, e))
			continue;
		if (err != NULL && *err == NULL)
			*err = TAKE_PTR(e);
		return rc;
	}
	return rc;
}

int registry_fetch_blob(struct registry *r, const char *repo, const char *digest, int64_t expected_size,
                        registry_sink_fn sink, registry_progress_fn progress, void *userdata,
                        struct vsl_error **err)
{
	int rc = check_repo(r, repo, err);
	if (rc < 0)
		return rc;
	if (!digest_is_valid(digest))
		return vsl_error_set_code(err, EINVAL, "registry '%s': invalid digest '%s'", r->domain,
		                          digest ? digest : "");
	_cleanup_digester_ struct digester *dg = digester_new();
	_cleanup_free_ char *path = NULL, *scope = repo_scope(r, repo, false), *what = NULL;
	if (dg == NULL || scope == NULL || asprintf(&path, "/v2/%s/blobs/%s", repo, digest) < 0 ||
	    asprintf(&what, "blob '%s'", digest) < 0)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);

	struct stream s = {.digest = digest,
	                   .dg = dg,
	                   .expected = expected_size,
	                   .sink = sink,
	                   .progress = progress,
	                   .userdata = userdata};
	FOR_EACH_PULL_ENDPOINT(r, ep)
	{
		_cleanup_error_ struct vsl_error *e = NULL;
		struct exchange ex = {.method = "GET", .stream = &s};
		rc = endpoint_request(r, ep, scope, path, &ex, &e);
		int fatal = ex.fatal;
		if (rc >= 0 && ex.status != 200 && ex.status != 206)
			rc = response_error(r, ep, &ex, repo, what, false, &e);
		exchange_done(&ex);
		if (rc >= 0) {
			char got[DIGEST_SIZE];
			digester_final(dg, got);
			if (expected_size >= 0 && s.delivered != (uint64_t)expected_size)
				return vsl_error_set_code(err, EBADMSG,
				                          "registry '%s': blob '%s' has %" PRIu64
				                          " bytes, expected %" PRId64,
				                          ep->name, digest, s.delivered, expected_size);
			if (strcmp(got, digest) != 0)
				return vsl_error_set_code(
				    err, EBADMSG,
				    "registry '%s': blob '%s' does not match its digest (got '%s')", ep->name,
				    digest, got);
			return 0;
		}
		/* What the sink refused, or a blob larger than announced, no mirror can fix. */
		if (fatal == 0 && fall_through(r, ep, e))
			continue;
		if (err != NULL && *err == NULL)
			*err = TAKE_PTR(e);
		return rc;
	}
	return rc;
}

int registry_blob_exists(struct registry *r, const char *repo, const char *digest, bool *ret_exists,
                         struct vsl_error **err)
{
	int rc = check_repo(r, repo, err);
	if (rc < 0)
		return rc;
	if (!digest_is_valid(digest))
		return vsl_error_set_code(err, EINVAL, "registry '%s': invalid digest '%s'", r->domain,
		                          digest ? digest : "");
	struct endpoint *ep = registry_endpoint(r);
	_cleanup_free_ char *path = NULL, *scope = repo_scope(r, repo, false), *what = NULL;
	if (scope == NULL || asprintf(&path, "/v2/%s/blobs/%s", repo, digest) < 0 ||
	    asprintf(&what, "blob '%s'", digest) < 0)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);
	struct exchange ex = {.method = "HEAD"};
	rc = endpoint_request(r, ep, scope, path, &ex, err);
	bool exists = false;
	if (rc >= 0 && ex.status == 200)
		exists = true;
	else if (rc >= 0 && ex.status != 404)
		rc = response_error(r, ep, &ex, repo, what, false, err);
	exchange_done(&ex);
	if (rc < 0)
		return rc;
	*ret_exists = exists;
	return 0;
}

/* The upload location the registry answered with, or an error naming what was asked. */
static int upload_next(const struct registry *r, const struct endpoint *ep, struct exchange *ex, long want,
                       const char *repo, const char *what, char **location, struct vsl_error **err)
{
	if (ex->status != want)
		return response_error(r, ep, ex, repo, what, true, err);
	if (location == NULL)
		return 0;
	if (ex->location == NULL)
		return vsl_error_set_code(err, EPROTO, "registry '%s': %s: no upload location", ep->name,
		                          what);
	free(*location);
	*location = TAKE_PTR(ex->location);
	return 0;
}

static int check_pushed_digest(const struct endpoint *ep, const struct exchange *ex, const char *digest,
                               struct vsl_error **err)
{
	if (ex->docker_digest != NULL && ex->docker_digest[0] != '\0' &&
	    strcmp(ex->docker_digest, digest) != 0)
		return vsl_error_set_code(err, EBADMSG, "registry '%s': stored '%s' as '%s'", ep->name,
		                          digest, ex->docker_digest);
	return 0;
}

int registry_push_blob(struct registry *r, const char *repo, const char *digest, int fd, uint64_t size,
                       uint64_t chunk_size, const char *from_repo, registry_progress_fn progress,
                       void *userdata, struct vsl_error **err)
{
	int rc = check_repo(r, repo, err);
	if (rc >= 0 && from_repo != NULL)
		rc = check_repo(r, from_repo, err);
	if (rc < 0)
		return rc;
	if (!digest_is_valid(digest))
		return vsl_error_set_code(err, EINVAL, "registry '%s': invalid digest '%s'", r->domain,
		                          digest ? digest : "");
	if (remember_push_repo(r, repo) < 0)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);

	struct endpoint *ep = registry_endpoint(r);
	_cleanup_free_ char *scope = NULL, *path = NULL, *what = NULL, *location = NULL;
	if (asprintf(&scope, "repository:%s:pull,push%s%s%s", repo, from_repo ? " repository:" : "",
	             from_repo ? from_repo : "", from_repo ? ":pull" : "") < 0 ||
	    asprintf(&what, "upload of blob '%s'", digest) < 0)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);

	if (from_repo != NULL && strcmp(from_repo, repo) != 0) {
		if (asprintf(&path, "/v2/%s/blobs/uploads/?mount=%s&from=%s", repo, digest, from_repo) < 0)
			return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);
		struct exchange ex = {.method = "POST"};
		rc = endpoint_request(r, ep, scope, path, &ex, err);
		if (rc >= 0 && ex.status == 201) {
			rc = check_pushed_digest(ep, &ex, digest, err);
			exchange_done(&ex);
			if (rc >= 0 && progress)
				progress(userdata, size, size);
			return rc;
		}
		/* 202: no mount (unknown there, or not allowed), an upload was started instead. */
		if (rc >= 0)
			rc = upload_next(r, ep, &ex, 202, repo, what, &location, err);
		exchange_done(&ex);
		if (rc < 0)
			return rc;
	} else {
		if (asprintf(&path, "/v2/%s/blobs/uploads/", repo) < 0)
			return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);
		struct exchange ex = {.method = "POST"};
		rc = endpoint_request(r, ep, scope, path, &ex, err);
		if (rc >= 0)
			rc = upload_next(r, ep, &ex, 202, repo, what, &location, err);
		exchange_done(&ex);
		if (rc < 0)
			return rc;
	}

	_cleanup_slist_ struct curl_slist *octet =
	    curl_slist_append(NULL, "Content-Type: application/octet-stream");
	uint64_t off = 0;
	if (chunk_size > 0) {
		while (off < size) {
			uint64_t n = size - off < chunk_size ? size - off : chunk_size;
			char range[64];
			snprintf(range, sizeof(range), "Content-Range: %" PRIu64 "-%" PRIu64, off,
			         off + n - 1);
			_cleanup_slist_ struct curl_slist *hdrs = curl_slist_append(NULL, range);
			hdrs = curl_slist_append(hdrs, "Content-Type: application/octet-stream");
			struct exchange ex = {.method = "PATCH",
			                      .headers = hdrs,
			                      .up_fd = fd,
			                      .up_off = off,
			                      .up_len = n,
			                      .up_progress = progress,
			                      .up_userdata = userdata,
			                      .up_base = off,
			                      .up_total = size};
			rc = endpoint_request(r, ep, scope, location, &ex, err);
			if (rc >= 0)
				rc = upload_next(r, ep, &ex, 202, repo, what, &location, err);
			exchange_done(&ex);
			if (rc < 0)
				return rc;
			off += n;
		}
	}

	_cleanup_free_ char *put = url_add_query(location, "digest", digest);
	if (put == NULL)
		return vsl_error_set_code(err, EPROTO, "registry '%s': bad upload location '%s'", ep->name,
		                          location);
	struct exchange ex = {.method = "PUT",
	                      .headers = octet,
	                      .up_fd = fd,
	                      .up_off = off,
	                      .up_len = size - off,
	                      .up_progress = progress,
	                      .up_userdata = userdata,
	                      .up_base = off,
	                      .up_total = size};
	rc = endpoint_request(r, ep, scope, put, &ex, err);
	if (rc >= 0)
		rc = upload_next(r, ep, &ex, 201, repo, what, NULL, err);
	if (rc >= 0)
		rc = check_pushed_digest(ep, &ex, digest, err);
	exchange_done(&ex);
	if (rc >= 0 && progress && size == 0)
		progress(userdata, 0, 0);
	return rc < 0 ? rc : 0;
}

int registry_put_manifest(struct registry *r, const char *repo, const char *reference, const char *media_type,
                          const void *body, size_t len, struct vsl_error **err)
{
	int rc = check_repo(r, repo, err);
	if (rc < 0)
		return rc;
	if (reference == NULL || reference[0] == '\0' || strpbrk(reference, "/ ?#%") != NULL ||
	    (strchr(reference, ':') != NULL && !digest_is_valid(reference)))
		return vsl_error_set_code(err, EINVAL, "registry '%s': invalid tag or digest '%s'", r->domain,
		                          reference ? reference : "");
	if (remember_push_repo(r, repo) < 0)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);
	struct endpoint *ep = registry_endpoint(r);
	char digest[DIGEST_SIZE];
	digest_buffer(body, len, digest);
	if (strchr(reference, ':') != NULL && strcmp(reference, digest) != 0)
		return vsl_error_set_code(err, EBADMSG, "registry '%s': manifest does not match digest '%s'",
		                          ep->name, reference);
	_cleanup_free_ char *path = NULL, *scope = repo_scope(r, repo, true), *what = NULL, *ct = NULL;
	if (scope == NULL || asprintf(&path, "/v2/%s/manifests/%s", repo, reference) < 0 ||
	    asprintf(&what, "manifest '%s'", reference) < 0 ||
	    asprintf(&ct, "Content-Type: %s", media_type) < 0)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);
	_cleanup_slist_ struct curl_slist *hdrs = curl_slist_append(NULL, ct);
	struct exchange ex = {.method = "PUT", .headers = hdrs, .up_mem = body, .up_len = len};
	rc = endpoint_request(r, ep, scope, path, &ex, err);
	if (rc >= 0)
		rc = upload_next(r, ep, &ex, 201, repo, what, NULL, err);
	if (rc >= 0)
		rc = check_pushed_digest(ep, &ex, digest, err);
	exchange_done(&ex);
	return rc < 0 ? rc : 0;
}

/* The rel="next" target of a Link header, resolved against the request's URL. */
static char *link_next(const char *link, const char *base)
{
	if (link == NULL)
		return NULL;
	const char *lt = strchr(link, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	if (gt == NULL || strcasestr(gt, "rel=\"next\"") == NULL)
		return NULL;
	_cleanup_free_ char *target = strndup(lt + 1, (size_t)(gt - lt - 1));
	return target ? url_resolve(base, target) : NULL;
}

int registry_list_tags_paged(struct registry *r, const char *repo, unsigned page_size, char ***ret,
                             struct vsl_error **err)
{
	int rc = check_repo(r, repo, err);
	if (rc < 0)
		return rc;
	struct endpoint *ep = registry_endpoint(r);
	rc = endpoint_settle(r, ep, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *url = NULL, *scope = repo_scope(r, repo, false), *what = NULL;
	if (scope == NULL || asprintf(&what, "tags of '%s'", repo) < 0)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);
	rc = page_size > 0 ? asprintf(&url, "%s/v2/%s/tags/list?n=%u", ep->url, repo, page_size)
	                   : asprintf(&url, "%s/v2/%s/tags/list", ep->url, repo);
	if (rc < 0)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);

	_cleanup_strv_ char **tags = calloc(1, sizeof(char *));
	size_t n = 0;
	if (tags == NULL)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);
	/* Bounded: a registry that links pages in a circle does not keep us here. */
	for (unsigned page = 0; url != NULL; page++) {
		if (page >= 100000)
			return vsl_error_set_code(err, ELOOP, "registry '%s': too many pages of tags",
			                          ep->name);
		struct exchange ex = {.method = "GET", .body_max = TAGS_BODY_MAX};
		rc = endpoint_request(r, ep, scope, url, &ex, err);
		if (rc >= 0 && ex.status != 200)
			rc = response_error(r, ep, &ex, repo, what, false, err);
		_cleanup_json_ json_t *j =
		    rc >= 0 && ex.body ? json_loadb(ex.body, ex.body_len, 0, NULL) : NULL;
		json_t *list = json_object_get(j, "tags");
		if (rc >= 0 && (j == NULL || (!json_is_array(list) && !json_is_null(list) && list != NULL)))
			rc = vsl_error_set_code(err, EPROTO, "registry '%s': %s: expected {\"tags\": [...]}",
			                        ep->name, what);
		char *next = rc >= 0 ? link_next(ex.link, url) : NULL;
		exchange_done(&ex);
		if (rc < 0)
			return rc;
		size_t i;
		json_t *t;
		char **grown = realloc(tags, (n + json_array_size(list) + 1) * sizeof(char *));
		if (grown == NULL) {
			free(next);
			return vsl_error_errno(err, ENOMEM, "registry '%s'", r->domain);
		}
		tags = grown;
		json_array_foreach(list, i, t)
		{
			if (json_is_string(t) && (tags[n] = strdup(json_string_value(t))) != NULL)
				n++;
		}
		tags[n] = NULL;
		free(url);
		url = next;
	}
	*ret = TAKE_PTR(tags);
	return 0;
}

int registry_list_tags(struct registry *r, const char *repo, char ***ret, struct vsl_error **err)
{
	return registry_list_tags_paged(r, repo, 0, ret, err);
}

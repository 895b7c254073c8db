/* The registry client's transport (internal to registry.c): libcurl handles
 * shared between threads, requests with retries and backoff, redirects,
 * the endpoints a registry is read from (mirrors first, then the registry),
 * the /v2/ probe that settles HTTPS or plain HTTP, and answers to Bearer and
 * Basic challenges with cached tokens.
 *
 *     struct exchange ex = {.method = "GET", .body_max = N};
 *     endpoint_request(r, ep, scope, "/v2/<repo>/tags/list", &ex, err);
 *     ... ex.status, ex.body ...
 *     exchange_done(&ex);
 *
 * registry.c builds the distribution API (manifests, blobs, uploads, tags)
 * on these; nothing outside it includes this header. */
#pragma once

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "image/registry.h"
#include "util/cleanup.h"

#ifndef VESSEL_VERSION
#define VESSEL_VERSION "0.1.0"
#endif

/* A few quick attempts: a registry that is still down after a couple of seconds
 * is a failure to report, not to wait out. */
#define MAX_ATTEMPTS      4
#define BACKOFF_MS        200
#define RETRY_AFTER_MAX_S 10
#define MAX_REDIRECTS     5
#define ERROR_BODY_MAX    (64u << 10)
#define TOKEN_BODY_MAX    (1u << 20)
#define TAGS_BODY_MAX     (16u << 20)
#define PROBE_BODY_MAX    (64u << 10)

#define MANIFEST_ACCEPT                                                                                      \
	"Accept: application/vnd.oci.image.index.v1+json, "                                                  \
	"application/vnd.docker.distribution.manifest.list.v2+json, "                                        \
	"application/vnd.oci.image.manifest.v1+json, "                                                       \
	"application/vnd.docker.distribution.manifest.v2+json, "                                             \
	"application/vnd.docker.distribution.manifest.v1+prettyjws, "                                        \
	"application/vnd.docker.distribution.manifest.v1+json"

#define _cleanup_json_ _cleanup_(json_decrefp)

static inline void curl_slist_freep(struct curl_slist **l)
{
	curl_slist_free_all(*l);
}
#define _cleanup_slist_ _cleanup_(curl_slist_freep)

static inline void curl_urlp(CURLU **u)
{
	curl_url_cleanup(*u);
}
#define _cleanup_curlu_ _cleanup_(curl_urlp)

static inline void curl_easy_cleanupp(CURL **c)
{
	curl_easy_cleanup(*c);
}
#define _cleanup_curl_ _cleanup_(curl_easy_cleanupp)

static inline void curl_freep(char **p)
{
	curl_free(*p);
}
#define _cleanup_curl_free_ _cleanup_(curl_freep)

enum auth_scheme { AUTH_NONE, AUTH_BEARER, AUTH_BASIC };

struct challenge {
	enum auth_scheme scheme;
	char *realm;
	char *service;
	char *scope; /* what the server asked for, in a challenge to a request */
};

struct token {
	struct token *next;
	char *scope;
	char *value;
	time_t expires; /* CLOCK_MONOTONIC seconds */
};

/* One place the registry's content can be read from: a mirror or the registry. */
struct endpoint {
	char *name;         /* for messages: the domain, or the mirror's host[:port] */
	char *host;         /* host[:port]: what auth files and insecure lists name */
	char *fixed_url;    /* a mirror given with its scheme: only that */
	bool http_fallback; /* insecure: HTTPS without verification, then plain HTTP */
	bool mirror;

	/* The rest is shared between threads, under registry.lock. */
	bool probed;
	char *url; /* scheme://host[:port] the probe settled on */
	struct challenge ch;
	bool creds_loaded;
	char *user, *secret;
	struct token *tokens;
};

struct registry {
	char *domain;
	char *user_agent;
	char *auth_file;
	char **insecure;
	bool tls_verify;
	struct endpoint *eps; /* mirrors first, the registry itself last */
	size_t n_eps;
	size_t first_mirror; /* == n_eps - 1 when no mirror applies */
	char **push_repos;   /* repositories to ask push access for */
	size_t n_push_repos;

	pthread_mutex_t lock;
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
};

/* The blob being downloaded: survives retries, redirects and mirror fallbacks. */
struct stream {
	const char *digest;
	struct digester *dg;
	int64_t expected;
	uint64_t delivered; /* bytes the sink has seen */
	uint64_t skip;      /* bytes of the current response the sink already saw */
	registry_sink_fn sink;
	registry_progress_fn progress;
	void *userdata;
};

/* One HTTP request and its response. */
struct exchange {
	const char *method;
	const struct curl_slist *headers;
	const void *up_mem; /* request body from memory ... */
	int up_fd;          /* ... or from a file */
	uint64_t up_off, up_len, up_pos;
	registry_progress_fn up_progress;
	void *up_userdata;
	uint64_t up_base, up_total;

	struct stream *stream; /* 2xx bodies go there, when set */
	size_t body_max;       /* 2xx bodies otherwise collected up to this */

	/* Response, reset for every attempt. */
	CURL *curl;
	CURLcode cc;
	long status;
	char *body;
	size_t body_len, body_cap;
	bool too_big;
	bool started;
	int fatal; /* the sink or the digest said no: do not retry */
	struct vsl_error *fatal_err;
	char *location; /* resolved */
	char *www_auth;
	char *content_type;
	char *link;
	char *docker_digest;
	long retry_after;
	char errbuf[CURL_ERROR_SIZE];
};

/* curl_global_init(), once per process; its result. */
CURLcode registry_http_global_init(void);
/* The lock callbacks of the registry's CURLSH (userdata: the registry). */
void share_lock(CURL *c, curl_lock_data data, curl_lock_access access, void *ud);
void share_unlock(CURL *c, curl_lock_data data, void *ud);

/* ref (absolute or relative) resolved against base; NULL when it does not parse. */
char *url_resolve(const char *base, const char *ref);
/* url with "key=value" added to its query, the value percent-encoded. */
char *url_add_query(const char *url, const char *key, const char *value);

/* Frees what a request left in ex (response body, headers, a fatal error). */
void exchange_done(struct exchange *ex);

/* The error for a response that is not what was hoped for: the registry's
 * own error codes and messages, mapped to an errno a caller can test. */
int response_error(const struct registry *r, const struct endpoint *ep, const struct exchange *ex,
                   const char *repo, const char *what, bool push, struct vsl_error **err);

void tokens_free(struct token *t);

/* GET /v2/ once per endpoint: settles HTTPS or plain HTTP and learns how the
 * registry wants to be authenticated. Concurrent first calls may both probe:
 * the first answer is kept. */
int endpoint_settle(struct registry *r, struct endpoint *ep, struct vsl_error **err);
/* A request to ep in scope, authenticated; a 401 (an expired token, a scope
 * the server wants widened, a changed challenge) is answered once more with a
 * fresh token. path_or_url: "/v2/..." on the endpoint, or an absolute URL the
 * registry gave (an upload location). */
int endpoint_request(struct registry *r, struct endpoint *ep, const char *scope, const char *path_or_url,
                     struct exchange *ex, struct vsl_error **err);
/* The registry itself as an endpoint, and a mirror from its URL ("http://127.0.0.1:5000"
 * as written, "mirror.example" like a registry domain); -ENOMEM or -EINVAL. */
int endpoint_init_registry(struct registry *r, struct endpoint *ep);
int endpoint_init_mirror(struct registry *r, struct endpoint *ep, const char *spec);
void endpoint_done(struct endpoint *ep);
/* The last endpoint: the registry, after its mirrors. */
struct endpoint *registry_endpoint(struct registry *r);

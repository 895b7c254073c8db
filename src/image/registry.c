#include "image/registry.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "image/auth.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/log.h"

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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init_once(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *c, curl_lock_data data, curl_lock_access access, void *ud)
{
	(void)c;
	(void)access;
	struct registry *r = ud;
	pthread_mutex_lock(&r->share_locks[data]);
}

static void share_unlock(CURL *c, curl_lock_data data, void *ud)
{
	(void)c;
	struct registry *r = ud;
	pthread_mutex_unlock(&r->share_locks[data]);
}

static time_t now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
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

static char *basic_authorization(const char *user, const char *secret)
{
	_cleanup_free_ char *plain = NULL;
	if (asprintf(&plain, "%s:%s", user, secret) < 0)
		return NULL;
	_cleanup_free_ char *b64 = base64_encode(plain, strlen(plain));
	explicit_bzero(plain, strlen(plain));
	char *h = NULL;
	if (b64 == NULL || asprintf(&h, "Basic %s", b64) < 0)
		return NULL;
	return h;
}

/* ---- hosts: loopback, insecure lists ---- */

/* "host" out of "host:port", "[v6]:port", "v6". */
static char *host_only(const char *hostport)
{
	if (hostport[0] == '[') {
		const char *end = strchr(hostport, ']');
		return end ? strndup(hostport + 1, (size_t)(end - hostport - 1)) : strdup(hostport);
	}
	const char *colon = strchr(hostport, ':');
	if (colon != NULL && strchr(colon + 1, ':') == NULL)
		return strndup(hostport, (size_t)(colon - hostport));
	return strdup(hostport);
}

static bool host_is_loopback(const char *host)
{
	if (strcasecmp(host, "localhost") == 0)
		return true;
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	struct in6_addr a6;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

/* IP literals only: a name is not resolved to be matched against a CIDR. */
static bool host_in_cidr(const char *host, const char *cidr)
{
	const char *slash = strchr(cidr, '/');
	if (slash == NULL)
		return false;
	_cleanup_free_ char *net = strndup(cidr, (size_t)(slash - cidr));
	char *end;
	long bits = strtol(slash + 1, &end, 10);
	if (net == NULL || *end != '\0' || bits < 0)
		return false;
	unsigned char a[16], b[16];
	size_t n;
	if (inet_pton(AF_INET, net, b) == 1 && inet_pton(AF_INET, host, a) == 1)
		n = 4;
	else if (inet_pton(AF_INET6, net, b) == 1 && inet_pton(AF_INET6, host, a) == 1)
		n = 16;
	else
		return false;
	if ((size_t)bits > n * 8)
		return false;
	for (size_t i = 0; i < n && bits > 0; i++, bits -= 8) {
		unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
		if ((a[i] & mask) != (b[i] & mask))
			return false;
	}
	return true;
}

static bool hostport_insecure(const struct registry *r, const char *hostport)
{
	_cleanup_free_ char *host = host_only(hostport);
	if (host == NULL)
		return false;
	if (!r->tls_verify || host_is_loopback(host))
		return true;
	for (char **i = r->insecure; i && *i; i++) {
		if (strcasecmp(*i, hostport) == 0 || strcasecmp(*i, host) == 0 || host_in_cidr(host, *i))
			return true;
	}
	return false;
}

/* "host[:port]" of an absolute URL; NULL when it does not parse. */
static char *url_hostport(const char *url)
{
	_cleanup_curlu_ CURLU *u = curl_url();
	_cleanup_curl_free_ char *host = NULL, *port = NULL;
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		return NULL;
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	char *hp = NULL;
	if (asprintf(&hp, "%s%s%s", host, port ? ":" : "", port ? port : "") < 0)
		return NULL;
	return hp;
}

/* Scheme, host and port: the registry's Authorization never leaves its origin. */
static bool same_origin(const char *a, const char *b)
{
	_cleanup_curlu_ CURLU *ua = curl_url(), *ub = curl_url();
	if (ua == NULL || ub == NULL || curl_url_set(ua, CURLUPART_URL, a, 0) != CURLUE_OK ||
	    curl_url_set(ub, CURLUPART_URL, b, 0) != CURLUE_OK)
		return false;
	static const CURLUPart parts[] = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		_cleanup_curl_free_ char *x = NULL, *y = NULL;
		curl_url_get(ua, parts[i], &x, CURLU_DEFAULT_PORT);
		curl_url_get(ub, parts[i], &y, CURLU_DEFAULT_PORT);
		if (x == NULL || y == NULL || strcasecmp(x, y) != 0)
			return false;
	}
	return true;
}

/* ref (absolute or relative) resolved against base; NULL when it does not parse. */
static char *url_resolve(const char *base, const char *ref)
{
	_cleanup_curlu_ CURLU *u = curl_url();
	_cleanup_curl_free_ char *s = NULL;
	if (u == NULL || curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		return NULL;
	return strdup(s);
}

/* url with "key=value" added to its query, the value percent-encoded. */
static char *url_add_query(const char *url, const char *key, const char *value)
{
	_cleanup_curlu_ CURLU *u = curl_url();
	_cleanup_free_ char *kv = NULL;
	_cleanup_curl_free_ char *s = NULL;
	if (u == NULL || asprintf(&kv, "%s=%s", key, value) < 0 ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, kv, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		return NULL;
	return strdup(s);
}

/* ---- one HTTP exchange ---- */

static void exchange_reset(struct exchange *ex)
{
	free(ex->body);
	free(ex->location);
	free(ex->www_auth);
	free(ex->content_type);
	free(ex->link);
	free(ex->docker_digest);
	ex->body = ex->location = ex->www_auth = ex->content_type = ex->link = ex->docker_digest = NULL;
	ex->body_len = ex->body_cap = 0;
	ex->too_big = ex->started = false;
	ex->status = 0;
	ex->cc = CURLE_OK;
	ex->retry_after = -1;
	ex->up_pos = 0;
	ex->fatal = 0;
	ex->errbuf[0] = '\0';
}

static void exchange_done(struct exchange *ex)
{
	exchange_reset(ex);
	vsl_error_free(ex->fatal_err);
	ex->fatal_err = NULL;
}

static int stream_write(struct exchange *ex, const char *p, size_t len)
{
	struct stream *s = ex->stream;
	if (!ex->started) {
		ex->started = true;
		/* A 200 to a resumed request starts over: skip what the sink already has. */
		s->skip = s->delivered;
		if (ex->status == 206) {
			struct curl_header *h = NULL;
			uint64_t start = UINT64_MAX;
			if (curl_easy_header(ex->curl, "Content-Range", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
				sscanf(h->value, "bytes %" SCNu64 "-", &start);
			if (start != s->delivered) {
				ex->fatal =
				    vsl_error_set_code(&ex->fatal_err, EPROTO,
				                       "blob '%s': resumed at the wrong offset (%" PRIu64 ")",
				                       s->digest, s->delivered);
				return -1;
			}
			s->skip = 0;
		}
	}
	if (s->skip > 0) {
		size_t k = s->skip < len ? (size_t)s->skip : len;
		p += k;
		len -= k;
		s->skip -= k;
	}
	if (len == 0)
		return 0;
	if (s->expected >= 0 && s->delivered + len > (uint64_t)s->expected) {
		ex->fatal = vsl_error_set_code(&ex->fatal_err, EBADMSG,
		                               "blob '%s' is larger than the expected %" PRId64 " bytes",
		                               s->digest, s->expected);
		return -1;
	}
	digester_update(s->dg, p, len);
	int r = s->sink(s->userdata, p, len, &ex->fatal_err);
	if (r < 0) {
		ex->fatal = r;
		if (ex->fatal_err == NULL)
			vsl_error_errno(&ex->fatal_err, -r, "write blob '%s'", s->digest);
		return -1;
	}
	s->delivered += len;
	if (s->progress) {
		curl_off_t cl = -1;
		curl_easy_getinfo(ex->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		uint64_t total = 0;
		if (s->expected >= 0)
			total = (uint64_t)s->expected;
		else if (cl >= 0 && ex->status == 200)
			total = (uint64_t)cl;
		s->progress(s->userdata, s->delivered, total);
	}
	return 0;
}

static size_t on_write(char *p, size_t size, size_t n, void *userdata)
{
	struct exchange *ex = userdata;
	size_t len = size * n;
	curl_easy_getinfo(ex->curl, CURLINFO_RESPONSE_CODE, &ex->status);
	bool ok = ex->status >= 200 && ex->status < 300;
	if (ok && ex->stream != NULL)
		return stream_write(ex, p, len) < 0 ? 0 : len;

	/* Error bodies are only read for their message: keep the start, drop the rest. */
	size_t max = ok ? ex->body_max : ERROR_BODY_MAX;
	if (ex->body_len + len > max) {
		if (ok) {
			ex->too_big = true;
			return 0;
		}
		len = max - ex->body_len;
	}
	if (ex->body_len + len + 1 > ex->body_cap) {
		size_t cap = ex->body_cap ? ex->body_cap : 4096;
		while (cap < ex->body_len + len + 1)
			cap *= 2;
		char *b = realloc(ex->body, cap);
		if (b == NULL)
			return 0;
		ex->body = b;
		ex->body_cap = cap;
	}
	memcpy(ex->body + ex->body_len, p, len);
	ex->body_len += len;
	ex->body[ex->body_len] = '\0';
	return size * n;
}

static size_t on_read(char *buf, size_t size, size_t n, void *userdata)
{
	struct exchange *ex = userdata;
	size_t want = size * n;
	uint64_t left = ex->up_len - ex->up_pos;
	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	ssize_t k;
	if (ex->up_mem != NULL) {
		memcpy(buf, (const char *)ex->up_mem + ex->up_pos, want);
		k = (ssize_t)want;
	} else {
		do
			k = pread(ex->up_fd, buf, want, (off_t)(ex->up_off + ex->up_pos));
		while (k < 0 && errno == EINTR);
		if (k <= 0) {
			ex->fatal =
			    vsl_error_errno(&ex->fatal_err, k < 0 ? errno : EIO, "read the blob to upload%s",
			                    k == 0 ? ": file shorter than its size" : "");
			return CURL_READFUNC_ABORT;
		}
	}
	ex->up_pos += (uint64_t)k;
	if (ex->up_progress)
		ex->up_progress(ex->up_userdata, ex->up_base + ex->up_pos, ex->up_total);
	return (size_t)k;
}

static char *header_value(CURL *c, const char *name)
{
	struct curl_header *h = NULL;
	if (curl_easy_header(c, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return NULL;
	return strdup(h->value);
}

/* The Bearer challenge when there are several WWW-Authenticate headers. */
static char *www_authenticate(CURL *c)
{
	struct curl_header *h = NULL;
	if (curl_easy_header(c, "WWW-Authenticate", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return NULL;
	size_t amount = h->amount;
	for (size_t i = 0; i < amount; i++) {
		if (curl_easy_header(c, "WWW-Authenticate", i, CURLH_HEADER, -1, &h) == CURLHE_OK &&
		    strncasecmp(h->value, "Bearer", 6) == 0)
			return strdup(h->value);
	}
	curl_easy_header(c, "WWW-Authenticate", 0, CURLH_HEADER, -1, &h);
	return strdup(h->value);
}

static long parse_retry_after(const char *v)
{
	if (v == NULL)
		return -1;
	char *end;
	long s = strtol(v, &end, 10);
	if (end != v && *end == '\0')
		return s < 0 ? 0 : s;
	time_t t = curl_getdate(v, NULL);
	if (t < 0)
		return -1;
	time_t now = time(NULL);
	return t > now ? (long)(t - now) : 0;
}

static void perform_once(struct registry *r, struct exchange *ex, const char *url, const char *auth)
{
	exchange_reset(ex);
	_cleanup_curl_ CURL *c = curl_easy_init();
	if (c == NULL) {
		ex->cc = CURLE_OUT_OF_MEMORY;
		return;
	}
	ex->curl = c;

	_cleanup_free_ char *hostport = url_hostport(url);
	bool verify = hostport == NULL || !hostport_insecure(r, hostport);

	_cleanup_slist_ struct curl_slist *hdrs = NULL;
	for (const struct curl_slist *h = ex->headers; h; h = h->next)
		hdrs = curl_slist_append(hdrs, h->data);
	/* No "Expect: 100-continue" round trip before uploads. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	_cleanup_free_ char *authz = NULL, *range = NULL;
	if (auth != NULL && asprintf(&authz, "Authorization: %s", auth) >= 0)
		hdrs = curl_slist_append(hdrs, authz);
	if (ex->stream != NULL && ex->stream->delivered > 0 &&
	    asprintf(&range, "Range: bytes=%" PRIu64 "-", ex->stream->delivered) >= 0)
		hdrs = curl_slist_append(hdrs, range);

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_SHARE, r->share);
	curl_easy_setopt(c, CURLOPT_USERAGENT, r->user_agent);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A stalled transfer is a broken one: fail it so that it is retried. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ex->errbuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, ex);

	const char *m = ex->method ? ex->method : "GET";
	if (strcmp(m, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(m, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, ex->up_mem ? ex->up_mem : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(ex->up_mem ? ex->up_len : 0));
	} else if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, ex);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)ex->up_len);
		if (strcmp(m, "PATCH") == 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
	}

	ex->cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ex->status);
	if (ex->cc == CURLE_OK) {
		_cleanup_free_ char *loc = header_value(c, "Location");
		if (loc != NULL)
			ex->location = url_resolve(url, loc);
		ex->www_auth = www_authenticate(c);
		ex->content_type = header_value(c, "Content-Type");
		ex->link = header_value(c, "Link");
		ex->docker_digest = header_value(c, "Docker-Content-Digest");
		_cleanup_free_ char *ra = header_value(c, "Retry-After");
		ex->retry_after = parse_retry_after(ra);
	}
	ex->curl = NULL;
}

/* ---- retries and redirects ---- */

static bool curl_transient(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static int curl_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		return ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return ENOMEM;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return EPROTO;
	default:
		return EIO;
	}
}

static bool status_retryable(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* Sends ex to url, retrying 429/5xx and broken connections with a short
 * backoff (or what Retry-After asks, within reason), and following redirects.
 * auth goes to url's origin only: blob storage behind a redirect gets its
 * credentials in the URL it was given, and must not see the registry's.
 * Returns 0 with ex->status set (any status), or a negative errno. */
static int http_send(struct registry *r, struct exchange *ex, const char *url, const char *auth,
                     const char *who, struct vsl_error **err)
{
	_cleanup_free_ char *cur = strdup(url);
	if (cur == NULL)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", who);
	unsigned redirects = 0;
	for (unsigned attempt = 1;;) {
		perform_once(r, ex, cur, same_origin(cur, url) ? auth : NULL);
		if (ex->fatal != 0) {
			int rc = ex->fatal;
			if (err != NULL && *err == NULL)
				*err = TAKE_PTR(ex->fatal_err);
			return rc;
		}
		if (ex->too_big)
			return vsl_error_set_code(err, EFBIG, "registry '%s': response larger than %zu bytes",
			                          who, ex->body_max);
		bool retry = false;
		long delay_ms = (long)BACKOFF_MS << (attempt - 1);
		if (ex->cc != CURLE_OK) {
			if (!curl_transient(ex->cc) || attempt >= MAX_ATTEMPTS)
				return vsl_error_set_code(err, curl_errno(ex->cc), "registry '%s': %s", who,
				                          ex->errbuf[0] ? ex->errbuf
				                                        : curl_easy_strerror(ex->cc));
			retry = true;
		} else if (ex->status >= 300 && ex->status < 400 && ex->status != 304 &&
		           ex->location != NULL) {
			if (++redirects > MAX_REDIRECTS)
				return vsl_error_set_code(err, ELOOP, "registry '%s': too many redirects",
				                          who);
			free(cur);
			cur = TAKE_PTR(ex->location);
			continue;
		} else if (status_retryable(ex->status) && attempt < MAX_ATTEMPTS) {
			retry = true;
			if (ex->retry_after >= 0)
				delay_ms = (ex->retry_after > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S
				                                                : ex->retry_after) *
				           1000;
		}
		if (!retry)
			return 0;
		log_debug("registry '%s': %s, retrying in %ld ms", who,
		          ex->cc != CURLE_OK ? curl_easy_strerror(ex->cc) : "server busy", delay_ms);
		sleep_ms(delay_ms);
		attempt++;
		/* From the start: a redirect target (a signed URL) may have expired. */
		free(cur);
		cur = strdup(url);
		if (cur == NULL)
			return vsl_error_errno(err, ENOMEM, "registry '%s'", who);
	}
}

/* ---- the registry's answers ---- */

/* "message; message" out of {"errors":[{"code","message"}]}, NULL when absent;
 * *ret_code (may be NULL) gets the first code. */
static char *registry_errors(const struct exchange *ex, char **ret_code)
{
	if (ex->body == NULL)
		return NULL;
	_cleanup_json_ json_t *j = json_loadb(ex->body, ex->body_len, 0, NULL);
	json_t *errors = json_object_get(j, "errors");
	if (!json_is_array(errors) || json_array_size(errors) == 0)
		return NULL;
	char *text = NULL;
	size_t i;
	json_t *e;
	json_array_foreach(errors, i, e)
	{
		const char *msg = json_string_value(json_object_get(e, "message"));
		const char *code = json_string_value(json_object_get(e, "code"));
		if (i == 0 && ret_code != NULL && code != NULL && *ret_code == NULL)
			*ret_code = strdup(code);
		if (msg == NULL || msg[0] == '\0')
			msg = code;
		if (msg == NULL)
			continue;
		char *joined = NULL;
		if (asprintf(&joined, "%s%s%s", text ? text : "", text ? "; " : "", msg) < 0) {
			free(text);
			return NULL;
		}
		free(text);
		text = joined;
	}
	return text;
}

/* Docker Hub's official images are "library/x", but users wrote "x". */
static const char *display_repo(const struct registry *r, const char *repo)
{
	if (strcmp(r->domain, "docker.io") == 0 && strncmp(repo, "library/", 8) == 0)
		return repo + 8;
	return repo;
}

static int response_error(const struct registry *r, const struct endpoint *ep, const struct exchange *ex,
                          const char *repo, const char *what, bool push, struct vsl_error **err)
{
	_cleanup_free_ char *code = NULL;
	_cleanup_free_ char *text = registry_errors(ex, &code);
	bool denied = ex->status == 401 || ex->status == 403 ||
	              (code != NULL && (strcmp(code, "NAME_UNKNOWN") == 0 || strcmp(code, "DENIED") == 0 ||
	                                strcmp(code, "UNAUTHORIZED") == 0));
	if (denied && push)
		return vsl_error_set_code(
		    err, ex->status == 404 ? ENOENT : EACCES,
		    "push access denied for '%s', repository does not exist or may require "
		    "'vessel login'%s%s",
		    display_repo(r, repo), text ? ": " : "", text ? text : "");
	if (denied)
		return vsl_error_set_code(
		    err, ex->status == 404 ? ENOENT : EACCES,
		    "pull access denied for '%s', repository does not exist or may require "
		    "'vessel login'",
		    display_repo(r, repo));
	if (ex->status == 404)
		return vsl_error_set_code(err, ENOENT, "registry '%s': %s: %s", ep->name,
		                          text ? text : "not found", what);
	int e = ex->status >= 500 || ex->status == 429 ? EIO : EPROTO;
	if (code != NULL && (strcmp(code, "DIGEST_INVALID") == 0 || strcmp(code, "SIZE_INVALID") == 0))
		e = EBADMSG;
	return vsl_error_set_code(err, e, "registry '%s': %s: %s (HTTP %ld)", ep->name, what,
	                          text ? text : "unexpected response", ex->status);
}

/* ---- authentication ---- */

static void challenge_done(struct challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	*c = (struct challenge){0};
}

/* WWW-Authenticate: Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="..." */
static int challenge_parse(const char *v, struct challenge *ret)
{
	struct challenge c = {0};
	while (*v == ' ')
		v++;
	size_t n = strcspn(v, " ");
	if (n == 6 && strncasecmp(v, "Bearer", 6) == 0)
		c.scheme = AUTH_BEARER;
	else if (n == 5 && strncasecmp(v, "Basic", 5) == 0)
		c.scheme = AUTH_BASIC;
	else
		return -EPROTO;
	v += n;
	for (;;) {
		while (*v == ' ' || *v == ',' || *v == '\t')
			v++;
		if (*v == '\0')
			break;
		size_t kn = strcspn(v, "= \t,");
		_cleanup_free_ char *key = strndup(v, kn);
		v += kn;
		if (*v != '=') {
			challenge_done(&c);
			return -EPROTO;
		}
		v++;
		_cleanup_free_ char *val = malloc(strlen(v) + 1);
		if (key == NULL || val == NULL) {
			challenge_done(&c);
			return -ENOMEM;
		}
		size_t vn = 0;
		if (*v == '"') {
			for (v++; *v != '\0' && *v != '"'; v++) {
				if (*v == '\\' && v[1] != '\0')
					v++;
				val[vn++] = *v;
			}
			if (*v == '"')
				v++;
		} else {
			while (*v != '\0' && *v != ',' && *v != ' ')
				val[vn++] = *v++;
		}
		val[vn] = '\0';
		char **slot = strcasecmp(key, "realm") == 0     ? &c.realm
		              : strcasecmp(key, "service") == 0 ? &c.service
		              : strcasecmp(key, "scope") == 0   ? &c.scope
		                                                : NULL;
		if (slot != NULL) {
			free(*slot);
			*slot = TAKE_PTR(val);
		}
	}
	*ret = c;
	return 0;
}

static void tokens_free(struct token *t)
{
	while (t != NULL) {
		struct token *next = t->next;
		free(t->scope);
		if (t->value)
			explicit_bzero(t->value, strlen(t->value));
		free(t->value);
		free(t);
		t = next;
	}
}

/* Under registry.lock. */
static struct token **token_find(struct endpoint *ep, const char *scope)
{
	for (struct token **t = &ep->tokens; *t; t = &(*t)->next)
		if (strcmp((*t)->scope, scope) == 0)
			return t;
	return NULL;
}

static int endpoint_load_creds(struct registry *r, struct endpoint *ep, struct vsl_error **err)
{
	pthread_mutex_lock(&r->lock);
	bool loaded = ep->creds_loaded;
	pthread_mutex_unlock(&r->lock);
	if (loaded)
		return 0;
	_cleanup_free_ char *user = NULL, *secret = NULL;
	int rc = auth_lookup(r->auth_file, ep->mirror ? ep->host : r->domain, &user, &secret, err);
	if (rc < 0)
		return vsl_error_prefix(err, "credentials for '%s'", ep->name);
	pthread_mutex_lock(&r->lock);
	if (!ep->creds_loaded) {
		ep->user = TAKE_PTR(user);
		ep->secret = TAKE_PTR(secret);
		ep->creds_loaded = true;
	}
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int parse_token_reply(const struct exchange *ex, const char *who, char **ret_token, long *ret_expires,
                             struct vsl_error **err)
{
	_cleanup_json_ json_t *j = ex->body ? json_loadb(ex->body, ex->body_len, 0, NULL) : NULL;
	const char *tok = json_string_value(json_object_get(j, "token"));
	if (tok == NULL || tok[0] == '\0')
		tok = json_string_value(json_object_get(j, "access_token"));
	if (tok == NULL || tok[0] == '\0')
		return vsl_error_set_code(err, EPROTO, "registry '%s': token server sent no token", who);
	json_t *exp = json_object_get(j, "expires_in");
	/* The distribution spec's default lifetime: 60 seconds. */
	long expires =
	    json_is_integer(exp) && json_integer_value(exp) > 0 ? (long)json_integer_value(exp) : 60;
	char *t = strdup(tok);
	if (t == NULL)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", who);
	*ret_token = t;
	*ret_expires = expires;
	return 0;
}

/* An identity token from the auth file is an OAuth2 refresh token: it is
 * exchanged by a POST to the realm, as Docker does. */
static int oauth_body(const struct challenge *ch, const char *scope, const char *refresh, char **ret)
{
	_cleanup_curl_free_ char *t = curl_easy_escape(NULL, refresh, 0);
	_cleanup_curl_free_ char *svc = curl_easy_escape(NULL, ch->service ? ch->service : "", 0);
	_cleanup_curl_free_ char *sc = curl_easy_escape(NULL, scope ? scope : "", 0);
	if (t == NULL || svc == NULL || sc == NULL)
		return -ENOMEM;
	return asprintf(ret, "grant_type=refresh_token&client_id=vessel&refresh_token=%s&service=%s&scope=%s",
	                t, svc, sc) < 0
	           ? -ENOMEM
	           : 0;
}

static int fetch_token(struct registry *r, const struct endpoint *ep, const struct challenge *ch,
                       const char *scope, const char *user, const char *secret, char **ret_token,
                       long *ret_expires, struct vsl_error **err)
{
	if (ch->realm == NULL)
		return vsl_error_set_code(err, EPROTO, "registry '%s': bearer challenge without a realm",
		                          ep->name);

	struct exchange ex = {.method = "GET", .body_max = TOKEN_BODY_MAX};
	_cleanup_free_ char *url = strdup(ch->realm), *auth = NULL, *form = NULL;
	_cleanup_slist_ struct curl_slist *hdrs = NULL;
	if (url == NULL)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);
	if (user != NULL && strcmp(user, "<token>") == 0) {
		if (oauth_body(ch, scope, secret, &form) < 0)
			return vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);
		ex.method = "POST";
		ex.up_mem = form;
		ex.up_len = strlen(form);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/x-www-form-urlencoded");
		ex.headers = hdrs;
	} else {
		const char *keys[] = {"service", "account"};
		const char *vals[] = {ch->service, user};
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			if (vals[i] == NULL)
				continue;
			char *u = url_add_query(url, keys[i], vals[i]);
			free(url);
			url = u;
			if (url == NULL)
				return vsl_error_set_code(err, EPROTO, "registry '%s': bad token realm '%s'",
				                          ep->name, ch->realm);
		}
		/* Several scopes are several scope= parameters. */
		_cleanup_free_ char *scopes = scope ? strdup(scope) : NULL;
		char *save = NULL;
		for (char *s = scopes ? strtok_r(scopes, " ", &save) : NULL; s;
		     s = strtok_r(NULL, " ", &save)) {
			char *u = url_add_query(url, "scope", s);
			free(url);
			url = u;
			if (url == NULL)
				return vsl_error_set_code(err, EPROTO, "registry '%s': bad token realm '%s'",
				                          ep->name, ch->realm);
		}
		if (user != NULL && (auth = basic_authorization(user, secret)) == NULL)
			return vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);
	}

	int rc = http_send(r, &ex, url, auth, ep->name, err);
	if (rc >= 0 && (ex.status == 401 || ex.status == 403)) {
		_cleanup_free_ char *text = registry_errors(&ex, NULL);
		if (user != NULL)
			rc = vsl_error_set_code(err, EACCES, "registry '%s': login as '%s' failed: %s",
			                        ep->name, user,
			                        text ? text : "incorrect username or password");
		else
			rc = vsl_error_set_code(err, EACCES, "registry '%s': token refused: %s", ep->name,
			                        text ? text : "authentication required");
	} else if (rc >= 0 && ex.status != 200) {
		rc = vsl_error_set_code(err, EPROTO, "registry '%s': token server answered HTTP %ld",
		                        ep->name, ex.status);
	} else if (rc >= 0) {
		rc = parse_token_reply(&ex, ep->name, ret_token, ret_expires, err);
	}
	exchange_done(&ex);
	return rc;
}

/* The Authorization header value for a request in scope, fetching a token when
 * the cache has none (or fresh is set); *ret NULL when there is nothing to send. */
static int endpoint_authorization(struct registry *r, struct endpoint *ep, const char *scope, bool fresh,
                                  char **ret, struct vsl_error **err)
{
	int rc = endpoint_load_creds(r, ep, err);
	if (rc < 0)
		return rc;
	const char *key = scope ? scope : "";
	struct challenge ch = {0};
	_cleanup_free_ char *user = NULL, *secret = NULL, *cached = NULL;
	bool oom = false;

	pthread_mutex_lock(&r->lock);
	ch.scheme = ep->ch.scheme;
	if (ep->ch.realm && (ch.realm = strdup(ep->ch.realm)) == NULL)
		oom = true;
	if (ep->ch.service && (ch.service = strdup(ep->ch.service)) == NULL)
		oom = true;
	if (ep->user && ((user = strdup(ep->user)) == NULL || (secret = strdup(ep->secret)) == NULL))
		oom = true;
	struct token **t = token_find(ep, key);
	if (t != NULL && (fresh || (*t)->expires <= now_seconds())) {
		struct token *dead = *t;
		*t = dead->next;
		dead->next = NULL;
		tokens_free(dead);
	} else if (t != NULL && (cached = strdup((*t)->value)) == NULL) {
		oom = true;
	}
	pthread_mutex_unlock(&r->lock);

	char *h = NULL;
	if (oom) {
		rc = vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);
	} else if (ch.scheme == AUTH_BASIC && user != NULL) {
		if ((h = basic_authorization(user, secret)) == NULL)
			rc = vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);
	} else if (ch.scheme == AUTH_BEARER && cached != NULL) {
		if (asprintf(&h, "Bearer %s", cached) < 0)
			rc = vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);
	} else if (ch.scheme == AUTH_BEARER) {
		_cleanup_free_ char *tok = NULL;
		long expires = 0;
		rc = fetch_token(r, ep, &ch, scope, user, secret, &tok, &expires, err);
		if (rc >= 0 && asprintf(&h, "Bearer %s", tok) < 0)
			rc = vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);
		struct token *n = rc >= 0 ? calloc(1, sizeof(*n)) : NULL;
		if (n != NULL && (n->scope = strdup(key)) != NULL) {
			n->value = TAKE_PTR(tok);
			/* Renew a little early rather than send a token that expires in flight. */
			n->expires = now_seconds() + (expires > 20 ? expires - 10 : expires);
			pthread_mutex_lock(&r->lock);
			n->next = ep->tokens;
			ep->tokens = n;
			pthread_mutex_unlock(&r->lock);
		} else if (n != NULL) {
			free(n);
		}
	}
	challenge_done(&ch);
	if (secret)
		explicit_bzero(secret, strlen(secret));
	if (rc < 0) {
		free(h);
		return rc;
	}
	*ret = h;
	return 0;
}

/* ---- endpoints ---- */

/* GET /v2/ once per endpoint: settles HTTPS or plain HTTP and learns how the
 * registry wants to be authenticated. Concurrent first calls may both probe:
 * the first answer is kept. */
static int endpoint_settle(struct registry *r, struct endpoint *ep, struct vsl_error **err)
{
	pthread_mutex_lock(&r->lock);
	bool done = ep->probed;
	pthread_mutex_unlock(&r->lock);
	if (done)
		return 0;

	_cleanup_free_ char *https = NULL, *http = NULL;
	const char *candidates[2] = {ep->fixed_url, NULL};
	if (ep->fixed_url == NULL) {
		if (asprintf(&https, "https://%s", ep->host) < 0 ||
		    (ep->http_fallback && asprintf(&http, "http://%s", ep->host) < 0))
			return vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);
		candidates[0] = https;
		candidates[1] = http;
	}

	_cleanup_error_ struct vsl_error *first = NULL;
	int first_rc = 0;
	for (size_t i = 0; i < ARRAY_SIZE(candidates) && candidates[i] != NULL; i++) {
		_cleanup_free_ char *url = NULL;
		if (asprintf(&url, "%s/v2/", candidates[i]) < 0)
			return vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);
		struct exchange ex = {.method = "GET", .body_max = PROBE_BODY_MAX};
		_cleanup_error_ struct vsl_error *e = NULL;
		int rc = http_send(r, &ex, url, NULL, ep->name, &e);
		struct challenge ch = {0};
		if (rc >= 0 && ex.status == 401) {
			if (ex.www_auth == NULL || challenge_parse(ex.www_auth, &ch) < 0)
				rc = vsl_error_set_code(
				    &e, EPROTO, "registry '%s': unsupported authentication '%s'", ep->name,
				    ex.www_auth ? ex.www_auth : "(no challenge)");
		} else if (rc >= 0 && ex.status == 404) {
			rc = vsl_error_set_code(
			    &e, EPROTO, "registry '%s': '%s' does not answer as a registry (HTTP %ld)",
			    ep->name, url, ex.status);
		} else if (rc >= 0 && (ex.status < 200 || ex.status >= 300)) {
			_cleanup_free_ char *text = registry_errors(&ex, NULL);
			rc = vsl_error_set_code(&e, ex.status >= 500 || ex.status == 429 ? EIO : EPROTO,
			                        "registry '%s': %s (HTTP %ld)", ep->name,
			                        text ? text : "unexpected response", ex.status);
		}
		bool answered = ex.status != 0;
		exchange_done(&ex);
		if (rc < 0) {
			/* What a server that answered said beats the TLS failure of the first try. */
			if (first == NULL || answered) {
				vsl_error_free(first);
				first = TAKE_PTR(e);
				first_rc = rc;
			}
			/* Refused on the port: plain HTTP to the same port is refused too. */
			if (rc == -ECONNREFUSED)
				break;
			continue;
		}
		char *settled = strdup(candidates[i]);
		if (settled == NULL) {
			challenge_done(&ch);
			return vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);
		}
		pthread_mutex_lock(&r->lock);
		if (!ep->probed) {
			ep->url = settled;
			ep->ch = ch;
			ep->probed = true;
			settled = NULL;
			ch = (struct challenge){0};
		}
		pthread_mutex_unlock(&r->lock);
		free(settled);
		challenge_done(&ch);
		return 0;
	}
	if (err != NULL && *err == NULL)
		*err = TAKE_PTR(first);
	return first_rc;
}

/* A request to ep in scope, authenticated; a 401 (an expired token, a scope
 * the server wants widened, a changed challenge) is answered once more with a
 * fresh token. path_or_url: "/v2/..." on the endpoint, or an absolute URL the
 * registry gave (an upload location). */
static int endpoint_request(struct registry *r, struct endpoint *ep, const char *scope,
                            const char *path_or_url, struct exchange *ex, struct vsl_error **err)
{
	int rc = endpoint_settle(r, ep, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *url = NULL;
	if (strncmp(path_or_url, "http://", 7) == 0 || strncmp(path_or_url, "https://", 8) == 0)
		url = strdup(path_or_url);
	else if (asprintf(&url, "%s%s", ep->url, path_or_url) < 0)
		url = NULL;
	if (url == NULL)
		return vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);

	_cleanup_free_ char *auth = NULL;
	rc = endpoint_authorization(r, ep, scope, false, &auth, err);
	if (rc < 0)
		return rc;
	rc = http_send(r, ex, url, auth, ep->name, err);
	if (rc < 0 || ex->status != 401 || ex->www_auth == NULL)
		return rc;

	struct challenge ch = {0};
	if (challenge_parse(ex->www_auth, &ch) < 0)
		return 0;
	_cleanup_free_ char *wider = NULL;
	if (ch.scope != NULL && (scope == NULL || strstr(scope, ch.scope) == NULL)) {
		if (asprintf(&wider, "%s%s%s", scope ? scope : "", scope ? " " : "", ch.scope) < 0) {
			challenge_done(&ch);
			return vsl_error_errno(err, ENOMEM, "registry '%s'", ep->name);
		}
		scope = wider;
	}
	pthread_mutex_lock(&r->lock);
	bool changed = ch.scheme != ep->ch.scheme ||
	               (ch.realm && (ep->ch.realm == NULL || strcmp(ch.realm, ep->ch.realm) != 0));
	if (changed) {
		free(ch.scope);
		ch.scope = NULL;
		challenge_done(&ep->ch);
		ep->ch = ch;
		ch = (struct challenge){0};
	}
	pthread_mutex_unlock(&r->lock);
	challenge_done(&ch);

	_cleanup_free_ char *fresh = NULL;
	rc = endpoint_authorization(r, ep, scope, true, &fresh, err);
	if (rc < 0)
		return rc;
	/* Nothing new to offer: the 401 is the answer. */
	if (fresh == NULL || (auth != NULL && strcmp(auth, fresh) == 0 && strncmp(fresh, "Basic ", 6) == 0))
		return 0;
	return http_send(r, ex, url, fresh, ep->name, err);
}

static void endpoint_done(struct endpoint *ep)
{
	free(ep->name);
	free(ep->host);
	free(ep->fixed_url);
	free(ep->url);
	challenge_done(&ep->ch);
	free(ep->user);
	if (ep->secret)
		explicit_bzero(ep->secret, strlen(ep->secret));
	free(ep->secret);
	tokens_free(ep->tokens);
}

static int endpoint_init_registry(struct registry *r, struct endpoint *ep)
{
	const char *host = strcmp(r->domain, "docker.io") == 0 ? "registry-1.docker.io" : r->domain;
	ep->name = strdup(r->domain);
	ep->host = strdup(host);
	if (ep->name == NULL || ep->host == NULL)
		return -ENOMEM;
	ep->http_fallback = hostport_insecure(r, host);
	return 0;
}

/* "http://127.0.0.1:5000" is used as written; "mirror.example" (no scheme) like a registry domain. */
static int endpoint_init_mirror(struct registry *r, struct endpoint *ep, const char *spec)
{
	ep->mirror = true;
	_cleanup_free_ char *url = strdup(spec);
	if (url == NULL)
		return -ENOMEM;
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	if (strstr(url, "://") != NULL) {
		if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
			return -EINVAL;
		ep->host = url_hostport(url);
		if (ep->host == NULL)
			return -EINVAL;
		ep->fixed_url = TAKE_PTR(url);
	} else {
		ep->host = TAKE_PTR(url);
		ep->http_fallback = hostport_insecure(r, ep->host);
	}
	ep->name = strdup(ep->host);
	return ep->name ? 0 : -ENOMEM;
}

static struct endpoint *registry_endpoint(struct registry *r)
{
	return &r->eps[r->n_eps - 1];
}

/* ---- the API ---- */

static char **strv_copy(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	char **c = calloc(n + 1, sizeof(char *));
	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if ((c[i] = strdup(v[i])) == NULL) {
			strv_free(c);
			return NULL;
		}
	}
	return c;
}

static bool strv_contains(char **v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

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
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_result != CURLE_OK)
		return vsl_error_set_code(err, EIO, "initialize libcurl: %s",
		                          curl_easy_strerror(curl_init_result));
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
	if (!strv_contains(r->push_repos, repo)) {
		size_t n = 0;
		while (r->push_repos[n])
			n++;
		char **v = realloc(r->push_repos, (n + 2) * sizeof(char *));
		if (v == NULL || (v[n] = strdup(repo)) == NULL) {
			rc = -ENOMEM;
			if (v)
				r->push_repos = v;
		} else {
			v[n + 1] = NULL;
			r->push_repos = v;
		}
	}
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

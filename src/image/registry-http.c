/* The registry client's transport: see registry-http.h. */
#include "image/registry-http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init_once(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

CURLcode registry_http_global_init(void)
{
	pthread_once(&curl_once, curl_init_once);
	return curl_init_result;
}

void share_lock(CURL *c, curl_lock_data data, curl_lock_access access, void *ud)
{
	(void)c;
	(void)access;
	struct registry *r = ud;
	pthread_mutex_lock(&r->share_locks[data]);
}

void share_unlock(CURL *c, curl_lock_data data, void *ud)
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

static char *basic_authorization(const char *user, const char *secret)
{
	_cleanup_free_ char *b64 = auth_encode(user, secret);
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
char *url_resolve(const char *base, const char *ref)
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
char *url_add_query(const char *url, const char *key, const char *value)
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

void exchange_done(struct exchange *ex)
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

int response_error(const struct registry *r, const struct endpoint *ep, const struct exchange *ex,
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

void tokens_free(struct token *t)
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
int endpoint_settle(struct registry *r, struct endpoint *ep, struct vsl_error **err)
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
int endpoint_request(struct registry *r, struct endpoint *ep, const char *scope, const char *path_or_url,
                     struct exchange *ex, struct vsl_error **err)
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

void endpoint_done(struct endpoint *ep)
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

int endpoint_init_registry(struct registry *r, struct endpoint *ep)
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
int endpoint_init_mirror(struct registry *r, struct endpoint *ep, const char *spec)
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

struct endpoint *registry_endpoint(struct registry *r)
{
	return &r->eps[r->n_eps - 1];
}

#include "image/reference.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "util/cleanup.h"
#include "util/error.h"

#define DEFAULT_DOMAIN        "docker.io"
#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX       "library/"
#define DEFAULT_TAG           "latest"
/* Docker's limit applies to the path alone, not to the domain in front of it. */
#define PATH_MAX_LEN 255
#define TAG_MAX_LEN  128

/* ASCII classes by hand: <ctype.h> follows the locale, the grammar does not. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_alpha(char c)
{
	return is_lower(c) || is_upper(c);
}

static bool is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

static bool is_lower_alnum(char c)
{
	return is_lower(c) || is_digit(c);
}

static bool is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_lower_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* Length of the valid UTF-8 sequence at s (no overlong forms, no surrogates,
 * nothing past U+10FFFF), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

#define RUNE_INVALID UINT32_MAX

/* The code point of the UTF-8 sequence at s in *ret_cp (RUNE_INVALID for a byte
 * that starts no valid one), and its length, at least 1. */
static size_t rune_next(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	size_t len = utf8_sequence(s, n);
	if (len == 0) {
		*ret_cp = RUNE_INVALID;
		return 1;
	}
	uint32_t cp = s[0] & (0xffu >> (len + 1));
	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (s[i] & 0x3fu);
	*ret_cp = cp;
	return len;
}

static size_t rune_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Unicode case tables for non-ASCII letters: C.UTF-8 is built into glibc, so this
 * does not depend on which locales are installed, nor on the process's locale. */
static locale_t utf8_locale;
static pthread_once_t utf8_locale_once = PTHREAD_ONCE_INIT;

static void utf8_locale_init(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Go's unicode.ToLower: the simple lowercase mapping of one code point. */
static uint32_t rune_lower(uint32_t cp)
{
	if (cp < 0x80)
		return is_upper((char)cp) ? cp - 'A' + 'a' : cp;
	pthread_once(&utf8_locale_once, utf8_locale_init);
	if (utf8_locale == (locale_t)0)
		return cp;
	return (uint32_t)towlower_l((wint_t)cp, utf8_locale);
}

/* Whether Go's strings.ToLower would change s: Docker's test for a name that is
 * not lowercase. It changes capitals of any script, and bytes that are not UTF-8
 * (it replaces them with U+FFFD). */
static bool lowercase_changes(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		i += rune_next(u + i, n - i, &cp);
		if (cp == RUNE_INVALID || rune_lower(cp) != cp)
			return true;
	}
	return false;
}

/* Go's strings.ToLower. NULL when out of memory. */
static char *go_lower(const char *s)
{
	size_t n = strlen(s);
	/* An invalid byte grows to three (U+FFFD); nothing grows more. */
	char *out = malloc(3 * n + 1);
	if (out == NULL)
		return NULL;
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		i += rune_next(u + i, n - i, &cp);
		o += rune_encode(cp == RUNE_INVALID ? 0xfffd : rune_lower(cp), out + o);
	}
	out[o] = '\0';
	return out;
}

/* path-component: runs of [a-z0-9] joined by ".", "_", "__" or any run of "-". */
static bool path_component_ok(const char *s, size_t n)
{
	if (n == 0 || !is_lower_alnum(s[0]))
		return false;
	size_t i = 0;
	while (i < n) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		size_t j = i + 1;
		if (s[i] == '_' && j < n && s[j] == '_')
			j++;
		else if (s[i] == '-')
			while (j < n && s[j] == '-')
				j++;
		else if (s[i] != '.' && s[i] != '_')
			return false;
		/* A separator always sits between two alphanumerics. */
		if (j >= n || !is_lower_alnum(s[j]))
			return false;
		i = j;
	}
	return true;
}

static bool remote_name_ok(const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (!path_component_ok(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* domain-component: [a-zA-Z0-9], or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool domain_component_ok(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* host [":" port], where host is a dotted domain name or a bracketed IPv6 address
 * ("[" [a-fA-F0-9:]+ "]": no zone identifiers, no embedded IPv4). */
static bool domain_ok(const char *s, size_t n)
{
	size_t host_end;
	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (close == NULL || close == s + 1)
			return false;
		for (const char *c = s + 1; c < close; c++)
			if (!is_xdigit(*c) && *c != ':')
				return false;
		host_end = (size_t)(close - s) + 1;
	} else {
		const char *colon = memchr(s, ':', n);
		host_end = colon ? (size_t)(colon - s) : n;
		size_t start = 0;
		for (size_t i = 0; i <= host_end; i++) {
			if (i == host_end || s[i] == '.') {
				if (!domain_component_ok(s + start, i - start))
					return false;
				start = i + 1;
			}
		}
	}
	if (host_end == n)
		return true;
	if (s[host_end] != ':' || host_end + 1 == n)
		return false;
	for (size_t i = host_end + 1; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

static bool tag_ok(const char *s, size_t n)
{
	if (n == 0 || n > TAG_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!is_alnum(c) && c != '_' && (i == 0 || (c != '.' && c != '-')))
			return false;
	}
	return true;
}

bool image_ref_tag_is_valid(const char *tag)
{
	return tag != NULL && tag_ok(tag, strlen(tag));
}

static bool is_digest_separator(char c)
{
	return c == '-' || c == '_' || c == '+' || c == '.';
}

/* What the reference grammar accepts as a digest, before the digest itself is
 * checked: algorithm ([A-Za-z][A-Za-z0-9]* joined by [-_+.]) ":" 32+ hex digits. */
static bool digest_syntax_ok(const char *s, size_t n)
{
	size_t i = 0;
	for (;;) {
		if (i >= n || !is_alpha(s[i]))
			return false;
		for (i++; i < n && is_alnum(s[i]); i++)
			;
		if (i < n && is_digest_separator(s[i])) {
			i++;
			continue;
		}
		break;
	}
	if (i >= n || s[i] != ':')
		return false;
	i++;
	if (n - i < 32)
		return false;
	for (; i < n; i++)
		if (!is_xdigit(s[i]))
			return false;
	return true;
}

/* The digest library's own check (go-digest's Validate), with its messages:
 * Docker reports these rather than "invalid reference format". */
static const char *digest_check(const char *s, size_t n)
{
	static const struct {
		const char *name;
		size_t hex_len;
	} algorithms[] = {{"sha256", 64}, {"sha384", 96}, {"sha512", 128}};

	const char *colon = memchr(s, ':', n);
	size_t alg_len = (size_t)(colon - s);
	const char *hex = colon + 1;
	size_t hex_len = n - alg_len - 1;

	for (size_t a = 0; a < ARRAY_SIZE(algorithms); a++) {
		if (alg_len != strlen(algorithms[a].name) || memcmp(s, algorithms[a].name, alg_len) != 0)
			continue;
		if (hex_len != algorithms[a].hex_len)
			return "invalid checksum digest length";
		for (size_t i = 0; i < hex_len; i++)
			if (!is_lower_xdigit(hex[i]))
				return "invalid checksum digest format";
		return NULL;
	}
	/* Unknown algorithm: a well-formed name ([a-z0-9]+ joined by [.+_-]) is
	 * unsupported, anything else is malformed. */
	for (size_t i = 0; i < alg_len; i++) {
		bool sep = is_digest_separator(s[i]);
		if (!is_lower_alnum(s[i]) && !sep)
			return "invalid checksum digest format";
		if (sep && (i == 0 || i + 1 == alg_len || is_digest_separator(s[i - 1])))
			return "invalid checksum digest format";
	}
	return "unsupported digest algorithm";
}

struct span {
	const char *p;
	size_t n;
};

struct match {
	struct span domain, path, tag, digest; /* .p == NULL: absent */
};

/* The reference grammar, name [":" tag] ["@" digest], matched by hand. No
 * backtracking is needed: neither name nor tag holds '@'; a ':' after the last
 * '/' can only start the tag (a path has no ':'); and the first component is the
 * domain when it is a valid one and the rest a valid path, else the whole name is
 * a path (which is how Docker's regular expression chooses). */
static bool reference_match(const char *s, struct match *m)
{
	*m = (struct match){0};
	size_t n = strlen(s);
	size_t left = n;

	const char *at = memchr(s, '@', n);
	if (at) {
		left = (size_t)(at - s);
		m->digest = (struct span){at + 1, n - left - 1};
		if (!digest_syntax_ok(m->digest.p, m->digest.n))
			return false;
	}

	const char *colon = memrchr(s, ':', left);
	const char *slash = memrchr(s, '/', left);
	size_t name_len = left;
	if (colon && (slash == NULL || colon > slash)) {
		name_len = (size_t)(colon - s);
		m->tag = (struct span){colon + 1, left - name_len - 1};
		if (!tag_ok(m->tag.p, m->tag.n))
			return false;
	}

	const char *first_slash = memchr(s, '/', name_len);
	if (first_slash) {
		size_t dn = (size_t)(first_slash - s);
		if (domain_ok(s, dn) && remote_name_ok(first_slash + 1, name_len - dn - 1)) {
			m->domain = (struct span){s, dn};
			m->path = (struct span){first_slash + 1, name_len - dn - 1};
			return true;
		}
	}
	if (!remote_name_ok(s, name_len))
		return false;
	m->domain = (struct span){s, 0};
	m->path = (struct span){s, name_len};
	return true;
}

static int ref_invalid(struct vsl_error **err, const char *msg)
{
	return vsl_error_set_code(err, EINVAL, "%s", msg);
}

static char *span_dup(struct span sp)
{
	return sp.p ? strndup(sp.p, sp.n) : NULL;
}

/* Docker's reference.Parse on the already normalized string. */
static int reference_parse(const char *s, struct image_ref **ret, struct vsl_error **err)
{
	struct match m;
	if (!reference_match(s, &m)) {
		_cleanup_free_ char *lower = go_lower(s);
		if (lower == NULL)
			return vsl_error_errno(err, ENOMEM, "parse reference");
		if (strcmp(lower, s) != 0 && reference_match(lower, &m))
			return ref_invalid(err, "repository name must be lowercase");
		return ref_invalid(err, "invalid reference format");
	}
	if (m.path.n > PATH_MAX_LEN)
		return vsl_error_set_code(err, EINVAL, "repository name must not be more than %d characters",
		                          PATH_MAX_LEN);
	if (m.digest.p) {
		const char *why = digest_check(m.digest.p, m.digest.n);
		if (why)
			return ref_invalid(err, why);
	}

	_cleanup_image_ref_ struct image_ref *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return vsl_error_errno(err, ENOMEM, "parse reference");
	r->domain = span_dup(m.domain);
	r->path = span_dup(m.path);
	r->tag = m.tag.p ? span_dup(m.tag) : (m.digest.p ? NULL : strdup(DEFAULT_TAG));
	r->digest = span_dup(m.digest);
	if (!r->domain || !r->path || (!r->tag && !m.digest.p) || (!r->digest && m.digest.p))
		return vsl_error_errno(err, ENOMEM, "parse reference");
	*ret = TAKE_PTR(r);
	return 0;
}

static bool is_identifier(const char *s)
{
	size_t n = strlen(s);
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lower_xdigit(s[i]))
			return false;
	return true;
}

int image_ref_parse(const char *s, struct image_ref **ret, struct vsl_error **err)
{
	if (is_identifier(s))
		return vsl_error_set_code(
		    err, EINVAL, "invalid repository name (%s), cannot specify 64-byte hexadecimal strings",
		    s);

	/* Which first component names a registry: Docker's splitDockerDomain. */
	const char *domain = DEFAULT_DOMAIN;
	size_t domain_len = strlen(DEFAULT_DOMAIN);
	const char *remainder = s;
	const char *slash = strchr(s, '/');
	if (slash) {
		size_t n = (size_t)(slash - s);
		if (n == strlen(LEGACY_DEFAULT_DOMAIN) && memcmp(s, LEGACY_DEFAULT_DOMAIN, n) == 0) {
			remainder = slash + 1;
		} else if ((n == strlen("localhost") && memcmp(s, "localhost", n) == 0) ||
		           memchr(s, '.', n) || memchr(s, ':', n) || lowercase_changes(s, n)) {
			domain = s;
			domain_len = n;
			remainder = slash + 1;
		}
	}
	bool on_hub = domain_len == strlen(DEFAULT_DOMAIN) && memcmp(domain, DEFAULT_DOMAIN, domain_len) == 0;
	const char *prefix = on_hub && strchr(remainder, '/') == NULL ? OFFICIAL_PREFIX : "";

	_cleanup_free_ char *full = NULL;
	if (asprintf(&full, "%.*s/%s%s", (int)domain_len, domain, prefix, remainder) < 0)
		return vsl_error_errno(err, ENOMEM, "parse reference");

	/* Docker checks the case of everything before the first ':' of what follows
	 * the domain, and names it in the message. */
	const char *remote = full + domain_len + 1;
	size_t remote_len = strcspn(remote, ":");
	if (lowercase_changes(remote, remote_len))
		return vsl_error_set_code(
		    err, EINVAL, "invalid reference format: repository name (%.*s) must be lowercase",
		    (int)remote_len, remote);

	return reference_parse(full, ret, err);
}

void image_ref_free(struct image_ref *r)
{
	if (r == NULL)
		return;
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	free(r);
}

/* name [":" tag] ["@" digest] */
static char *with_suffixes(const char *domain, const char *path, const struct image_ref *r)
{
	char *s = NULL;
	if (asprintf(&s, "%s%s%s%s%s%s%s", domain, *domain ? "/" : "", path, r->tag ? ":" : "",
	             r->tag ? r->tag : "", r->digest ? "@" : "", r->digest ? r->digest : "") < 0)
		return NULL;
	return s;
}

/* Docker's familiarizeName: Docker Hub's domain goes, and so does "library/" when
 * nothing nested follows it. */
static const char *familiar_path(const struct image_ref *r)
{
	if (strcmp(r->domain, DEFAULT_DOMAIN) != 0)
		return r->path;
	size_t k = strlen(OFFICIAL_PREFIX);
	if (strncmp(r->path, OFFICIAL_PREFIX, k) == 0 && strchr(r->path + k, '/') == NULL)
		return r->path + k;
	return r->path;
}

static const char *familiar_domain(const struct image_ref *r)
{
	return strcmp(r->domain, DEFAULT_DOMAIN) == 0 ? "" : r->domain;
}

char *image_ref_string(const struct image_ref *r)
{
	return with_suffixes(r->domain, r->path, r);
}

char *image_ref_name(const struct image_ref *r)
{
	const struct image_ref bare = {0};
	return with_suffixes(r->domain, r->path, &bare);
}

char *image_ref_familiar(const struct image_ref *r)
{
	return with_suffixes(familiar_domain(r), familiar_path(r), r);
}

char *image_ref_familiar_name(const struct image_ref *r)
{
	const struct image_ref bare = {0};
	return with_suffixes(familiar_domain(r), familiar_path(r), &bare);
}

char *image_ref_familiarize(const char *full)
{
	size_t k = strlen(DEFAULT_DOMAIN "/");
	if (strncmp(full, DEFAULT_DOMAIN "/", k) != 0)
		return strdup(full);
	const char *rest = full + k;
	/* In a stored name, the path ends at the first ':' (tag) or '@' (digest). */
	size_t path_len = strcspn(rest, ":@");
	size_t lk = strlen(OFFICIAL_PREFIX);
	if (path_len > lk && strncmp(rest, OFFICIAL_PREFIX, lk) == 0 &&
	    memchr(rest + lk, '/', path_len - lk) == NULL)
		rest += lk;
	return strdup(rest);
}

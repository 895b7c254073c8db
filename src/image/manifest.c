/* Manifests, indexes and image configs <-> C structs, by the tables of
 * util/json-table.h; platform names and matching as Docker and containerd do. */
#include "image/manifest.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"
#include "util/json-table.h"
#include "util/strv.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

#define SCHEMA1_GONE                                                                                         \
	"schema 1 manifests are no longer supported; push the image again with a current docker or vessel"

/* ---- checks ---- */

/* Digests become file names in the blob and layer stores. */
static int check_digest(void *obj, const struct json_field *f, const struct jpath *p, struct vsl_error **err)
{
	const char *d = *JT_AT(obj, f->off, char *);
	if (!digest_is_valid(d))
		return json_table_fail(err, p, "invalid digest '%s'", d);
	return 0;
}

static int check_digests(void *obj, const struct json_field *f, const struct jpath *p, struct vsl_error **err)
{
	char **l = *JT_AT(obj, f->off, char **);
	for (size_t i = 0; l[i]; i++)
		if (!digest_is_valid(l[i])) {
			struct jpath ep = {.up = p, .index = i};
			return json_table_fail(err, &ep, "invalid digest '%s'", l[i]);
		}
	return 0;
}

static int check_size(void *obj, const struct json_field *f, const struct jpath *p, struct vsl_error **err)
{
	int64_t size = *JT_AT(obj, f->off, int64_t);
	if (size < 0)
		return json_table_fail(err, p, "%lld is not a valid size", (long long)size);
	return 0;
}

/* schemaVersion is fixed at 2 and not stored: written back as 2 whatever the struct. */
static int parse_schema_version(json_t *v, void *obj, const struct json_field *f, const struct jpath *p,
                                struct vsl_error **err)
{
	(void)obj;
	(void)f;
	if (!json_is_integer(v))
		return json_table_fail(err, p, "expected an integer");
	if (json_integer_value(v) == 1)
		return json_table_fail(err, p, SCHEMA1_GONE);
	if (json_integer_value(v) != 2)
		return json_table_fail(err, p, "unsupported schema version %lld (expected 2)",
		                       (long long)json_integer_value(v));
	return 0;
}

static int dump_schema_version(const void *obj, const struct json_field *f, json_t **ret)
{
	(void)obj;
	(void)f;
	return (*ret = json_integer(2)) ? 0 : -ENOMEM;
}

/* rootfs.type: "layers" is the only type there has ever been. */
static int parse_rootfs_type(json_t *v, void *obj, const struct json_field *f, const struct jpath *p,
                             struct vsl_error **err)
{
	(void)obj;
	(void)f;
	if (!json_table_is_string(v))
		return json_table_fail(err, p, "expected a string");
	if (strcmp(json_string_value(v), "layers") != 0)
		return json_table_fail(err, p, "unsupported rootfs type '%s' (expected 'layers')",
		                       json_string_value(v));
	return 0;
}

static int dump_rootfs_type(const void *obj, const struct json_field *f, json_t **ret)
{
	(void)obj;
	(void)f;
	return (*ret = json_string("layers")) ? 0 : -ENOMEM;
}

/* ---- manifests and indexes ---- */

#define P struct platform
static const struct json_field platform_fields[] = {
    JT_FIELD(P, "architecture", K_STR, architecture, JT_REQ),
    JT_FIELD(P, "os", K_STR, os, JT_REQ),
    JT_FIELD(P, "os.version", K_STR, os_version),
    JT_FIELD(P, "variant", K_STR, variant),
    {0},
};
#undef P
static const struct json_table platform_table = {platform_fields, sizeof(struct platform), NULL, NULL};

#define D struct descriptor
static const struct json_field descriptor_fields[] = {
    JT_FIELD(D, "mediaType", K_STR, media_type, JT_REQ),
    JT_FIELD(D, "digest", K_STR, digest, JT_REQ JT_CHECK(check_digest)),
    JT_FIELD(D, "size", K_I64, size, JT_REQ JT_CHECK(check_size)),
    JT_FIELD(D, "urls", K_STRV, urls),
    JT_FIELD(D, "annotations", K_MAP, annotations, JT_COUNT(D, n_annotations)),
    JT_FIELD(D, "platform", K_PTR, platform, JT_SUB(platform_table)),
    {0},
};
#undef D
static const struct json_table descriptor_table = {descriptor_fields, sizeof(struct descriptor), NULL, NULL};

#define SCHEMA_VERSION                                                                                       \
	{                                                                                                    \
		.name = "schemaVersion", .kind = K_FN, .required = true, .parse = parse_schema_version,      \
		.dump = dump_schema_version,                                                                 \
	}

#define M struct manifest
static const struct json_field manifest_fields[] = {
    SCHEMA_VERSION,
    JT_FIELD(M, "mediaType", K_STR, media_type,
             JT_ONEOF("media type", MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_OCI_MANIFEST)),
    JT_FIELD(M, "config", K_OBJ, config, JT_REQ JT_SUB(descriptor_table)),
    JT_FIELD(M, "layers", K_ARR, layers, JT_REQ JT_COUNT(M, n_layers) JT_SUB(descriptor_table)),
    JT_FIELD(M, "annotations", K_MAP, annotations, JT_COUNT(M, n_annotations)),
    {0},
};
#undef M
static const struct json_table manifest_table = {manifest_fields, sizeof(struct manifest), NULL, NULL};

#define I struct image_index
static const struct json_field index_fields[] = {
    SCHEMA_VERSION,
    JT_FIELD(I, "mediaType", K_STR, media_type,
             JT_ONEOF("media type", MEDIA_TYPE_DOCKER_LIST, MEDIA_TYPE_OCI_INDEX)),
    JT_FIELD(I, "manifests", K_ARR, manifests, JT_REQ JT_COUNT(I, n_manifests) JT_SUB(descriptor_table)),
    JT_FIELD(I, "annotations", K_MAP, annotations, JT_COUNT(I, n_annotations)),
    {0},
};
#undef I
static const struct json_table index_table = {index_fields, sizeof(struct image_index), NULL, NULL};

/* ---- image config ---- */

#define H struct image_history
static const struct json_field history_fields[] = {
    JT_FIELD(H, "created", K_STR, created),
    JT_FIELD(H, "created_by", K_STR, created_by),
    JT_FIELD(H, "author", K_STR, author),
    JT_FIELD(H, "comment", K_STR, comment),
    JT_FIELD(H, "empty_layer", K_BOOL, empty_layer),
    {0},
};
#undef H
static const struct json_table history_table = {history_fields, sizeof(struct image_history), NULL, NULL};

#define HC struct image_healthcheck
static const struct json_field healthcheck_fields[] = {
    JT_FIELD(HC, "Test", K_STRV, test),
    JT_FIELD(HC, "Interval", K_I64, interval),
    JT_FIELD(HC, "Timeout", K_I64, timeout),
    JT_FIELD(HC, "StartPeriod", K_I64, start_period),
    JT_FIELD(HC, "StartInterval", K_I64, start_interval),
    JT_FIELD(HC, "Retries", K_I32, retries),
    {0},
};
#undef HC
static const struct json_table healthcheck_table = {healthcheck_fields, sizeof(struct image_healthcheck),
                                                    NULL, NULL};

/* Docker's spelling and order (its container.Config). */
#define CC struct image_container_config
static const struct json_field container_config_fields[] = {
    JT_FIELD(CC, "User", K_STR, user),
    JT_FIELD(CC, "ExposedPorts", K_KEYS, exposed_ports),
    JT_FIELD(CC, "Env", K_STRV, env),
    JT_FIELD(CC, "Cmd", K_STRV, cmd),
    JT_FIELD(CC, "Healthcheck", K_PTR, healthcheck, JT_SUB(healthcheck_table)),
    JT_FIELD(CC, "ArgsEscaped", K_BOOL, args_escaped),
    JT_FIELD(CC, "Volumes", K_KEYS, volumes),
    JT_FIELD(CC, "WorkingDir", K_STR, working_dir),
    JT_FIELD(CC, "Entrypoint", K_STRV, entrypoint),
    JT_FIELD(CC, "OnBuild", K_STRV, onbuild),
    JT_FIELD(CC, "Labels", K_MAP, labels, JT_COUNT(CC, n_labels)),
    JT_FIELD(CC, "StopSignal", K_STR, stop_signal),
    JT_FIELD(CC, "Shell", K_STRV, shell),
    {0},
};
#undef CC
static const struct json_table container_config_table = {container_config_fields,
                                                         sizeof(struct image_container_config), NULL, NULL};

#define C struct image_config
static const struct json_field rootfs_fields[] = {
    {.name = "type", .kind = K_FN, .required = true, .parse = parse_rootfs_type, .dump = dump_rootfs_type},
    JT_FIELD(C, "diff_ids", K_STRV, diff_ids, JT_CHECK(check_digests)),
    {0},
};
static const struct json_table rootfs_table = {rootfs_fields, 0, NULL, NULL};

static const struct json_field image_config_fields[] = {
    JT_FIELD(C, "created", K_STR, created),
    JT_FIELD(C, "author", K_STR, author),
    JT_FIELD(C, "architecture", K_STR, architecture, JT_REQ),
    JT_FIELD(C, "variant", K_STR, variant),
    JT_FIELD(C, "os", K_STR, os, JT_REQ),
    JT_FIELD(C, "os.version", K_STR, os_version),
    JT_FIELD(C, "comment", K_STR, comment),
    JT_FIELD(C, "config", K_OBJ, config, JT_SUB(container_config_table)),
    JT_INLINE("rootfs", rootfs_table, JT_REQ),
    JT_FIELD(C, "history", K_ARR, history, JT_COUNT(C, n_history) JT_SUB(history_table)),
    {0},
};
#undef C
static const struct json_table image_config_table = {image_config_fields, sizeof(struct image_config), NULL,
                                                     NULL};

/* ---- documents ---- */

static int parse_document(const struct json_table *t, const char *name, size_t max, const void *body,
                          size_t len, void **ret, struct vsl_error **err)
{
	const struct jpath root = {.key = name, .doc = true};
	if (len > max)
		return vsl_error_set_code(err, EFBIG, "%s: %zu bytes is over the limit of %u bytes", name,
		                          len, (unsigned)max);
	_cleanup_json_ json_t *j = NULL;
	int r = json_table_load(body, len, &root, &j, err);
	if (r < 0)
		return r;
	void *obj = calloc(1, t->size);
	if (obj == NULL)
		return json_table_fail_oom(err, &root);
	r = json_table_parse(t, j, obj, &root, err);
	if (r < 0) {
		json_table_free(t, obj);
		free(obj);
		return r;
	}
	*ret = obj;
	return 0;
}

static char *dump_document(const struct json_table *t, const void *obj, size_t *ret_len)
{
	_cleanup_json_ json_t *j = json_table_dump(t, obj);
	if (j == NULL)
		return NULL;
	char *s = json_dumps(j, JSON_COMPACT);
	if (s != NULL && ret_len != NULL)
		*ret_len = strlen(s);
	return s;
}

int manifest_parse(const void *body, size_t len, struct manifest **ret, struct vsl_error **err)
{
	return parse_document(&manifest_table, "manifest", MANIFEST_MAX_SIZE, body, len, (void **)ret, err);
}

int image_index_parse(const void *body, size_t len, struct image_index **ret, struct vsl_error **err)
{
	return parse_document(&index_table, "image index", MANIFEST_MAX_SIZE, body, len, (void **)ret, err);
}

int image_config_parse(const void *body, size_t len, struct image_config **ret, struct vsl_error **err)
{
	return parse_document(&image_config_table, "image config", IMAGE_CONFIG_MAX_SIZE, body, len,
	                      (void **)ret, err);
}

void manifest_free(struct manifest *m)
{
	if (m == NULL)
		return;
	json_table_free(&manifest_table, m);
	free(m);
}

void image_index_free(struct image_index *idx)
{
	if (idx == NULL)
		return;
	json_table_free(&index_table, idx);
	free(idx);
}

void image_config_free(struct image_config *c)
{
	if (c == NULL)
		return;
	json_table_free(&image_config_table, c);
	free(c);
}

char *image_config_to_json(const struct image_config *c, size_t *ret_len)
{
	return dump_document(&image_config_table, c, ret_len);
}

char *manifest_to_json(const struct manifest *m, size_t *ret_len)
{
	return dump_document(&manifest_table, m, ret_len);
}

char *image_index_to_json(const struct image_index *idx, size_t *ret_len)
{
	return dump_document(&index_table, idx, ret_len);
}

/* ---- which kind of manifest ---- */

enum doc_type { DOC_UNKNOWN, DOC_IMAGE, DOC_INDEX, DOC_SCHEMA1 };

static enum doc_type media_type_doc(const char *s, size_t n)
{
	static const struct {
		const char *name;
		enum doc_type type;
	} types[] = {
	    {MEDIA_TYPE_DOCKER_MANIFEST, DOC_IMAGE},  {MEDIA_TYPE_OCI_MANIFEST, DOC_IMAGE},
	    {MEDIA_TYPE_DOCKER_LIST, DOC_INDEX},      {MEDIA_TYPE_OCI_INDEX, DOC_INDEX},
	    {MEDIA_TYPE_DOCKER_SCHEMA1, DOC_SCHEMA1}, {MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED, DOC_SCHEMA1},
	};
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strlen(types[i].name) == n && strncasecmp(types[i].name, s, n) == 0)
			return types[i].type;
	return DOC_UNKNOWN;
}

/* Content-Type without its parameters and surrounding blanks. */
static enum doc_type content_type_doc(const char *ct, const char **ret_start, size_t *ret_len)
{
	const char *s = ct ? ct : "";
	s += strspn(s, " \t");
	size_t n = strcspn(s, ";");
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*ret_start = s;
	*ret_len = n;
	return media_type_doc(s, n);
}

int manifest_kind_of(const char *content_type, const void *body, size_t len, enum manifest_kind *ret,
                     struct vsl_error **err)
{
	const struct jpath root = {.key = "manifest", .doc = true};
	const char *ct;
	size_t ct_len;
	enum doc_type by_ct = content_type_doc(content_type, &ct, &ct_len);

	if (by_ct == DOC_SCHEMA1)
		return vsl_error_set_code(err, EPROTONOSUPPORT, SCHEMA1_GONE);
	if (len > MANIFEST_MAX_SIZE)
		return vsl_error_set_code(err, EFBIG, "manifest: %zu bytes is over the limit of %u bytes",
		                          len, MANIFEST_MAX_SIZE);
	_cleanup_json_ json_t *j = NULL;
	int r = json_table_load(body, len, &root, &j, err);
	if (r < 0)
		return r;

	json_t *version = json_object_get(j, "schemaVersion");
	if (json_is_integer(version) && json_integer_value(version) == 1)
		return vsl_error_set_code(err, EPROTONOSUPPORT, SCHEMA1_GONE);

	enum doc_type by_body = DOC_UNKNOWN;
	json_t *mt = json_object_get(j, "mediaType");
	if (mt != NULL && !json_is_null(mt)) {
		const struct jpath mp = {.up = &root, .key = "mediaType"};
		if (!json_table_is_string(mt))
			return json_table_fail(err, &mp, "expected a string");
		by_body = media_type_doc(json_string_value(mt), json_string_length(mt));
		if (by_body == DOC_SCHEMA1)
			return vsl_error_set_code(err, EPROTONOSUPPORT, SCHEMA1_GONE);
		if (by_body == DOC_UNKNOWN)
			return json_table_fail(err, &mp, "unsupported media type '%s'",
			                       json_string_value(mt));
	}

	/* A registry that says one thing and serves another is not to be guessed at. */
	if (by_ct != DOC_UNKNOWN && by_body != DOC_UNKNOWN && by_ct != by_body)
		return vsl_error_set(err, "manifest: content type '%.*s' does not match mediaType '%s'",
		                     (int)ct_len, ct, json_string_value(mt));
	enum doc_type t = by_ct != DOC_UNKNOWN ? by_ct : by_body;
	if (t == DOC_UNKNOWN) {
		if (json_object_get(j, "manifests") != NULL)
			t = DOC_INDEX;
		else if (json_object_get(j, "layers") != NULL || json_object_get(j, "config") != NULL)
			t = DOC_IMAGE;
		else
			return vsl_error_set(
			    err, "manifest: neither an image manifest nor an index (no mediaType, "
			         "layers or manifests)");
	}
	*ret = t == DOC_INDEX ? MANIFEST_INDEX : MANIFEST_IMAGE;
	return 0;
}

/* ---- platforms ---- */

static const char *const known_os[] = {"aix",     "android", "darwin",  "dragonfly", "freebsd", "illumos",
                                       "ios",     "js",      "linux",   "netbsd",    "openbsd", "plan9",
                                       "solaris", "wasip1",  "windows", NULL};
static const char *const known_arch[] = {"386",    "amd64",   "arm",      "arm64",  "loong64", "mips",
                                         "mipsle", "mips64",  "mips64le", "ppc64",  "ppc64le", "riscv64",
                                         "s390x",  "sparc64", "wasm",     "x86_64", "x86-64",  "aarch64",
                                         "armhf",  "armel",   "i386",     NULL};

static bool in_list(const char *const *l, const char *s)
{
	for (size_t i = 0; l[i]; i++)
		if (strcmp(l[i], s) == 0)
			return true;
	return false;
}

static char *lowercase(const char *s, size_t n)
{
	char *t = strndup(s, n);
	for (char *c = t; c && *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return t;
}

/* Sets ret's fields from lowercase names, normalised; frees nothing of ret. */
static int platform_set(struct platform *ret, const char *os, const char *arch, const char *variant)
{
	const char *a = arch, *v = variant;

	if (strcmp(arch, "x86_64") == 0 || strcmp(arch, "x86-64") == 0 || strcmp(arch, "amd64") == 0) {
		a = "amd64";
		if (v && strcmp(v, "v1") == 0)
			v = NULL;
	} else if (strcmp(arch, "aarch64") == 0 || strcmp(arch, "arm64") == 0) {
		a = "arm64";
		if (v == NULL || strcmp(v, "8") == 0 || strcmp(v, "v8.0") == 0)
			v = "v8";
	} else if (strcmp(arch, "armhf") == 0) {
		a = "arm";
		v = "v7";
	} else if (strcmp(arch, "armel") == 0) {
		a = "arm";
		v = "v6";
	} else if (strcmp(arch, "arm") == 0) {
		if (v == NULL)
			v = "v7";
		else if (strcmp(v, "5") == 0)
			v = "v5";
		else if (strcmp(v, "6") == 0)
			v = "v6";
		else if (strcmp(v, "7") == 0)
			v = "v7";
		else if (strcmp(v, "8") == 0)
			v = "v8";
	} else if (strcmp(arch, "i386") == 0) {
		a = "386";
	}

	struct platform p = {
	    .os = strdup(os),
	    .architecture = strdup(a),
	    .variant = v ? strdup(v) : NULL,
	};
	if (p.os == NULL || p.architecture == NULL || (v && p.variant == NULL)) {
		platform_release(&p);
		return -ENOMEM;
	}
	*ret = p;
	return 0;
}

static int platform_normalized(const struct platform *in, struct platform *ret)
{
	if (in->os == NULL || in->architecture == NULL)
		return -EINVAL;
	_cleanup_free_ char *os = lowercase(in->os, strlen(in->os));
	_cleanup_free_ char *arch = lowercase(in->architecture, strlen(in->architecture));
	_cleanup_free_ char *variant = in->variant ? lowercase(in->variant, strlen(in->variant)) : NULL;
	if (os == NULL || arch == NULL || (in->variant && variant == NULL))
		return -ENOMEM;
	return platform_set(ret, os, arch, variant);
}

/* Go's names are short words; anything else in a platform is a typo. */
static bool platform_word(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

int platform_parse(const char *s, struct platform *ret, struct vsl_error **err)
{
	char *part[3] = {NULL, NULL, NULL};
	size_t n = 0;
	int r = 0;

	for (const char *c = s;;) {
		size_t len = strcspn(c, "/");
		if (n == 3 || !platform_word(c, len)) {
			r = vsl_error_set_code(err, EINVAL,
			                       "invalid platform '%s' (expected os/arch[/variant])", s);
			goto out;
		}
		if ((part[n++] = lowercase(c, len)) == NULL) {
			r = vsl_error_errno(err, ENOMEM, "parse platform '%s'", s);
			goto out;
		}
		if (c[len] == '\0')
			break;
		c += len + 1;
	}

	if (n == 1) {
		/* One word: an architecture on linux, or an OS on the host's architecture. */
		if (in_list(known_arch, part[0]))
			r = platform_set(ret, "linux", part[0], NULL);
		else if (in_list(known_os, part[0])) {
			struct platform host;
			if ((r = platform_host(&host, err)) < 0)
				goto out;
			r = platform_set(ret, part[0], host.architecture, host.variant);
			platform_release(&host);
		} else {
			r = vsl_error_set_code(err, EINVAL, "unknown operating system or architecture '%s'",
			                       s);
			goto out;
		}
	} else {
		r = platform_set(ret, part[0], part[1], part[2]);
	}
	if (r < 0)
		r = vsl_error_errno(err, -r, "parse platform '%s'", s);
out:
	for (size_t i = 0; i < 3; i++)
		free(part[i]);
	return r;
}

int platform_host(struct platform *ret, struct vsl_error **err)
{
	static const struct {
		const char *machine;
		const char *arch, *variant;
	} machines[] = {
	    {"x86_64", "amd64", NULL}, {"aarch64", "arm64", NULL}, {"arm64", "arm64", NULL},
	    {"armv8l", "arm", "v8"},   {"armv7l", "arm", "v7"},    {"armv7", "arm", "v7"},
	    {"armv6l", "arm", "v6"},   {"armv5tel", "arm", "v5"},  {"armv5tejl", "arm", "v5"},
	    {"i386", "386", NULL},     {"i486", "386", NULL},      {"i586", "386", NULL},
	    {"i686", "386", NULL},
	};
	struct utsname u;
	if (uname(&u) < 0)
		return vsl_error_errno(err, errno, "uname");

	const char *arch = u.machine, *variant = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(machines); i++)
		if (strcmp(u.machine, machines[i].machine) == 0) {
			arch = machines[i].arch;
			variant = machines[i].variant;
			break;
		}
	_cleanup_free_ char *os = lowercase(u.sysname, strlen(u.sysname));
	if (os == NULL || platform_set(ret, os, arch, variant) < 0)
		return vsl_error_errno(err, ENOMEM, "host platform");
	return 0;
}

char *platform_string(const struct platform *p)
{
	char *s = NULL;
	int r = p->variant ? asprintf(&s, "%s/%s/%s", p->os, p->architecture, p->variant)
	                   : asprintf(&s, "%s/%s", p->os, p->architecture);
	return r < 0 ? NULL : s;
}

void platform_release(struct platform *p)
{
	if (p == NULL)
		return;
	free(p->os);
	free(p->architecture);
	free(p->variant);
	free(p->os_version);
	*p = (struct platform){0};
}

/* "v7" -> 70, "v8.2" -> 82; amd64's absent variant is v1. -1: not a version. */
static int variant_rank(const char *arch, const char *v)
{
	if (v == NULL)
		return strcmp(arch, "amd64") == 0 ? 10 : -1;
	if (v[0] != 'v' || !isdigit((unsigned char)v[1]))
		return -1;
	char *end;
	unsigned long major = strtoul(v + 1, &end, 10), minor = 0;
	if (*end == '.') {
		if (!isdigit((unsigned char)end[1]))
			return -1;
		minor = strtoul(end + 1, &end, 10);
	}
	if (*end != '\0' || major > 99 || minor > 9)
		return -1;
	return (int)(major * 10 + minor);
}

/* How well an entry serves want: -1 not at all, higher is better. */
static int platform_score(const struct platform *want, const struct platform *have)
{
	if (strcmp(want->os, have->os) != 0 || strcmp(want->architecture, have->architecture) != 0)
		return -1;
	if ((want->variant == NULL && have->variant == NULL) ||
	    (want->variant && have->variant && strcmp(want->variant, have->variant) == 0))
		return 1000;
	/* Newer CPUs of these families run code built for older ones. */
	const char *a = want->architecture;
	if (strcmp(a, "arm") != 0 && strcmp(a, "arm64") != 0 && strcmp(a, "amd64") != 0)
		return -1;
	int w = variant_rank(a, want->variant), h = variant_rank(a, have->variant);
	if (w < 0 || h < 0 || h > w)
		return -1;
	return h;
}

/* "linux/amd64, linux/arm64/v8": what the index offers, for the error. */
static char *available_platforms(const struct image_index *idx)
{
	_cleanup_strv_ char **seen = calloc(1, sizeof(char *));
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (seen == NULL || f == NULL) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	for (size_t i = 0; i < idx->n_manifests; i++) {
		const struct platform *p = idx->manifests[i].platform;
		struct platform have = {0};
		if (p == NULL || strcmp(p->os, "unknown") == 0 || platform_normalized(p, &have) < 0)
			continue;
		_cleanup_free_ char *s = platform_string(&have);
		platform_release(&have);
		/* Several entries of one platform (per OS version) are listed once. */
		if (s == NULL || strv_contains(seen, s) || strv_append(&seen, s) < 0)
			continue;
		fprintf(f, "%s%s", seen[1] ? ", " : "", s);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int image_index_select(const struct image_index *idx, const struct platform *want, const char *name,
                       const struct descriptor **ret, struct vsl_error **err)
{
	struct platform w = {0};
	int r = platform_normalized(want, &w);
	if (r < 0)
		return vsl_error_errno(err, -r, "select platform");

	const struct descriptor *best = NULL;
	int best_score = -1;
	for (size_t i = 0; i < idx->n_manifests; i++) {
		const struct descriptor *d = &idx->manifests[i];
		/* Attestation manifests (buildx) are indexed under "unknown/unknown". */
		if (d->platform == NULL || strcmp(d->platform->os, "unknown") == 0)
			continue;
		struct platform have = {0};
		if ((r = platform_normalized(d->platform, &have)) == -EINVAL)
			continue;
		if (r < 0) {
			platform_release(&w);
			return vsl_error_errno(err, ENOMEM, "select platform");
		}
		int score = platform_score(&w, &have);
		platform_release(&have);
		if (score > best_score) {
			best_score = score;
			best = d;
		}
	}

	if (best == NULL) {
		_cleanup_free_ char *ws = platform_string(&w);
		_cleanup_free_ char *available = available_platforms(idx);
		platform_release(&w);
		return vsl_error_set_code(err, ENOENT, "no image for platform %s%s%s%s (available: %s)",
		                          ws ? ws : "?", name ? " in '" : "", name ? name : "",
		                          name ? "'" : "", available && *available ? available : "none");
	}
	platform_release(&w);
	*ret = best;
	return 0;
}

/* ---- layers ---- */

void image_chain_id(const char *parent_chain_id, const char *diff_id, char ret[DIGEST_SIZE])
{
	if (parent_chain_id == NULL) {
		snprintf(ret, DIGEST_SIZE, "%s", diff_id);
		return;
	}
	/* Both are digests: the buffer holds them and the space. */
	char buf[2 * DIGEST_SIZE];
	snprintf(buf, sizeof(buf), "%s %s", parent_chain_id, diff_id);
	digest_buffer(buf, strlen(buf), ret);
}

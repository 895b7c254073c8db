/* -v, --mount, --tmpfs's neighbours and --device of `run`/`create`, as the
 * docker CLI turns them into Binds, Mounts, Volumes and Devices (opts/mount.go,
 * volume/mounts), with the daemon's checks of a mount config. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/run-flags-internal.h"
#include "cli/units.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/strv.h"

static bool valid_volume_name(const char *s)
{
	/* the local driver's names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
	size_t n = strlen(s);
	if (n < 2)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

static bool valid_volume_mode(const char *mode)
{
	static const char *const known[] = {"rw",       "ro",         "z",      "Z",        "nocopy",
	                                    "shared",   "rshared",    "slave",  "rslave",   "private",
	                                    "rprivate", "consistent", "cached", "delegated"};
	_cleanup_free_ char *copy = strdup(mode);
	if (copy == NULL)
		return false;
	char *save = NULL;
	for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		bool ok = false;
		for (size_t i = 0; i < ARRAY_SIZE(known); i++)
			ok = ok || strcmp(o, known[i]) == 0;
		if (!ok)
			return false;
	}
	return true;
}

/* -v [SRC:]DST[:OPTS]: binds stay strings (the daemon parses them again);
 * a lone DST is an anonymous volume and goes to Config.Volumes. */
int run_flags_add_volume(struct body *b, const char *spec, json_t *binds, json_t *volumes,
                         struct vsl_error **err)
{
	if (*spec == '\0')
		return vsl_error_set_code(err, EINVAL, "invalid empty volume spec");
	_cleanup_strv_ char **parts = NULL;
	const char *p = spec;
	for (;;) {
		size_t n = strcspn(p, ":");
		_cleanup_free_ char *part = strndup(p, n);
		if (part == NULL || strv_append(&parts, part) < 0)
			return vsl_error_errno(err, ENOMEM, "parse volume");
		if (n == 0)
			return vsl_error_set_code(err, EINVAL,
			                          "invalid spec: %s: empty section between colons", spec);
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	size_t np = strv_length(parts);
	if (np > 3)
		return vsl_error_set_code(err, EINVAL, "invalid spec: %s: too many colons", spec);
	if (np == 1) {
		if (parts[0][0] != '/')
			return vsl_error_set_code(
			    err, EINVAL,
			    "invalid volume specification: '%s': invalid mount config for type "
			    "\"volume\": invalid mount path: '%s' mount path must be absolute",
			    spec, parts[0]);
		put(b, volumes, parts[0], json_object());
		return 0;
	}
	const char *src = parts[0], *dst = parts[1];
	if (np == 2 && src[0] == '/' && valid_volume_mode(dst)) {
		/* /path:ro is an anonymous volume with a mode, which the daemon reads from Binds */
		append(b, binds, jstr(b, spec));
		return 0;
	}
	bool bind = src[0] == '/' || src[0] == '.' || src[0] == '~';
	if (dst[0] != '/')
		return vsl_error_set_code(
		    err, EINVAL,
		    "invalid volume specification: '%s': invalid mount config for type \"%s\": "
		    "invalid mount path: '%s' mount path must be absolute",
		    spec, bind ? "bind" : "volume", dst);
	if (np == 3 && !valid_volume_mode(parts[2]))
		return vsl_error_set_code(err, EINVAL, "invalid volume specification: '%s': invalid mode: %s",
		                          spec, parts[2]);
	if (!bind || src[0] == '~') {
		if (!valid_volume_name(src))
			return vsl_error_set_code(
			    err, EINVAL,
			    "create %s: \"%s\" includes invalid characters for a local volume "
			    "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended "
			    "to pass a host directory, use absolute path",
			    src, src);
		append(b, binds, jstr(b, spec));
		return 0;
	}
	/* docker resolves ./x against its own working directory, not the daemon's */
	_cleanup_free_ char *abs = src[0] == '.' ? run_flags_abs_path(src) : NULL;
	if (src[0] == '.' && abs == NULL)
		return vsl_error_errno(err, errno ? errno : ENOMEM, "resolve '%s'", src);
	_cleanup_free_ char *full = NULL;
	if (asprintf(&full, "%s:%s", abs ? abs : src, spec + strlen(src) + 1) < 0)
		return vsl_error_errno(err, ENOMEM, "parse volume");
	append(b, binds, jstr(b, full));
	return 0;
}

/* One CSV record, as Go's encoding/csv reads --mount: fields split at commas,
 * a field may be "quoted" with "" for a quote inside. */
static int csv_fields(const char *s, char ***ret, struct vsl_error **err)
{
	_cleanup_strv_ char **fields = NULL;
	_cleanup_free_ char *buf = malloc(strlen(s) + 1);
	if (buf == NULL)
		return vsl_error_errno(err, ENOMEM, "parse mount");
	for (const char *p = s;;) {
		size_t w = 0;
		if (*p == '"') {
			for (p++;; p++) {
				if (*p == '\0')
					return vsl_error_set_code(
					    err, EINVAL,
					    "parse error on line 1, column %zu: extraneous or "
					    "missing \" in quoted-field",
					    strlen(s) + 1);
				if (*p == '"' && p[1] == '"') {
					buf[w++] = '"';
					p++;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					buf[w++] = *p;
				}
			}
			if (*p != ',' && *p != '\0')
				return vsl_error_set_code(
				    err, EINVAL,
				    "parse error on line 1, column %zu: extraneous or missing \" "
				    "in quoted-field",
				    (size_t)(p - s) + 1);
		} else {
			for (; *p && *p != ','; p++) {
				if (*p == '"')
					return vsl_error_set_code(
					    err, EINVAL,
					    "parse error on line 1, column %zu: bare \" in "
					    "non-quoted-field",
					    (size_t)(p - s) + 1);
				buf[w++] = *p;
			}
		}
		buf[w] = '\0';
		if (strv_append(&fields, buf) < 0)
			return vsl_error_errno(err, ENOMEM, "parse mount");
		if (*p == '\0')
			break;
		p++;
	}
	*ret = TAKE_PTR(fields);
	return 0;
}

static int mount_bool(const char *key, const char *val, bool *ret, struct vsl_error **err)
{
	if (val == NULL || strcmp(val, "1") == 0 || strcmp(val, "true") == 0)
		*ret = true;
	else if (strcmp(val, "0") == 0 || strcmp(val, "false") == 0)
		*ret = false;
	else
		return vsl_error_set_code(
		    err, EINVAL,
		    "invalid value for '%s': invalid boolean value (\"%s\"): must be one of "
		    "\"true\", \"1\", \"false\", or \"0\" (default \"true\")",
		    key, val);
	return 0;
}

static json_t *ensure(struct body *b, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL) {
		v = json_object();
		put(b, obj, key, v);
	}
	return v;
}

static bool is_whitespace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* --mount type=...,src=...,dst=...: one HostConfig.Mounts object. */
static int parse_mount_fields(struct body *b, char **fields, json_t *m, struct vsl_error **err)
{
	for (char **fp = fields; *fp; fp++) {
		const char *field = *fp;
		const char *eq = strchr(field, '=');
		_cleanup_free_ char *key = strndup(field, eq ? (size_t)(eq - field) : strlen(field));
		if (key == NULL)
			return vsl_error_errno(err, ENOMEM, "parse mount");
		const char *val = eq ? eq + 1 : NULL;
		size_t kn = strlen(key);
		if (kn > 0 && (is_whitespace(key[0]) || is_whitespace(key[kn - 1]))) {
			char *k = key;
			while (is_whitespace(*k))
				k++;
			size_t l = strlen(k);
			while (l > 0 && is_whitespace(k[l - 1]))
				l--;
			return vsl_error_set_code(
			    err, EINVAL, "invalid option '%.*s' in '%s': option should not have whitespace",
			    (int)l, k, field);
		}
		if (val != NULL) {
			size_t vn = strlen(val), lead = 0;
			while (lead < vn && is_whitespace(val[lead]))
				lead++;
			if (lead == vn)
				return vsl_error_set_code(err, EINVAL,
				                          "invalid value for '%s': value is empty", key);
			if (lead > 0 || is_whitespace(val[vn - 1]))
				return vsl_error_set_code(
				    err, EINVAL,
				    "invalid value for '%s' in '%s': value should not have "
				    "whitespace",
				    key, field);
		}
		for (char *k = key; *k; k++)
			if (*k >= 'A' && *k <= 'Z')
				*k = (char)(*k - 'A' + 'a');

		if (val == NULL && strcmp(key, "readonly") != 0 && strcmp(key, "ro") != 0 &&
		    strcmp(key, "volume-nocopy") != 0 && strcmp(key, "bind-create-src") != 0 &&
		    strcmp(key, "bind-nonrecursive") != 0)
			return vsl_error_set_code(err, EINVAL, "invalid field '%s' must be a key=value pair",
			                          field);

		bool flag = false;
		int r = 0;
		if (strcmp(key, "type") == 0) {
			_cleanup_free_ char *t = strdup(val);
			if (t == NULL)
				return vsl_error_errno(err, ENOMEM, "parse mount");
			for (char *c = t; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			put(b, m, "Type", jstr(b, t));
		} else if (strcmp(key, "source") == 0 || strcmp(key, "src") == 0) {
			_cleanup_free_ char *abs = val[0] == '.' ? run_flags_abs_path(val) : NULL;
			put(b, m, "Source", jstr(b, abs ? abs : val));
		} else if (strcmp(key, "target") == 0 || strcmp(key, "dst") == 0 ||
		           strcmp(key, "destination") == 0) {
			put(b, m, "Target", jstr(b, val));
		} else if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0) {
			if ((r = mount_bool(key, val, &flag, err)) < 0)
				return r;
			put(b, m, "ReadOnly", json_boolean(flag));
		} else if (strcmp(key, "consistency") == 0) {
			/* only meaningful on Docker Desktop's file sharing; accepted, ignored */
		} else if (strcmp(key, "bind-propagation") == 0) {
			_cleanup_free_ char *prop = strdup(val);
			if (prop == NULL)
				return vsl_error_errno(err, ENOMEM, "parse mount");
			for (char *c = prop; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			put(b, ensure(b, m, "BindOptions"), "Propagation", jstr(b, prop));
		} else if (strcmp(key, "bind-nonrecursive") == 0) {
			return vsl_error_set_code(
			    err, EINVAL,
			    "bind-nonrecursive is deprecated, use bind-recursive=disabled instead");
		} else if (strcmp(key, "bind-recursive") == 0) {
			const char *opt = strcmp(val, "disabled") == 0   ? "NonRecursive"
			                  : strcmp(val, "writable") == 0 ? "ReadOnlyNonRecursive"
			                  : strcmp(val, "readonly") == 0 ? "ReadOnlyForceRecursive"
			                  : strcmp(val, "enabled") == 0  ? ""
			                                                 : NULL;
			if (opt == NULL)
				return vsl_error_set_code(
				    err, EINVAL,
				    "invalid value for %s: %s (must be \"enabled\", \"disabled\", "
				    "\"writable\", or \"readonly\")",
				    key, val);
			if (*opt)
				put(b, ensure(b, m, "BindOptions"), opt, json_true());
		} else if (strcmp(key, "bind-create-src") == 0) {
			if ((r = mount_bool(key, val, &flag, err)) < 0)
				return r;
			put(b, ensure(b, m, "BindOptions"), "CreateMountpoint", json_boolean(flag));
		} else if (strcmp(key, "volume-subpath") == 0) {
			put(b, ensure(b, m, "VolumeOptions"), "Subpath", jstr(b, val));
		} else if (strcmp(key, "volume-nocopy") == 0) {
			if ((r = mount_bool(key, val, &flag, err)) < 0)
				return r;
			put(b, ensure(b, m, "VolumeOptions"), "NoCopy", json_boolean(flag));
		} else if (strcmp(key, "volume-label") == 0) {
			run_flags_set_kv(b, ensure(b, ensure(b, m, "VolumeOptions"), "Labels"), val);
		} else if (strcmp(key, "volume-driver") == 0) {
			put(b, ensure(b, ensure(b, m, "VolumeOptions"), "DriverConfig"), "Name",
			    jstr(b, val));
		} else if (strcmp(key, "volume-opt") == 0) {
			json_t *drv = ensure(b, ensure(b, m, "VolumeOptions"), "DriverConfig");
			run_flags_set_kv(b, ensure(b, drv, "Options"), val);
		} else if (strcmp(key, "tmpfs-size") == 0) {
			int64_t size;
			if (parse_size(val, &size) < 0)
				return vsl_error_set_code(err, EINVAL, "invalid value for %s: %s", key, val);
			put(b, ensure(b, m, "TmpfsOptions"), "SizeBytes", json_integer(size));
		} else if (strcmp(key, "tmpfs-mode") == 0) {
			char *end;
			errno = 0;
			unsigned long mode = (*val >= '0' && *val <= '7') ? strtoul(val, &end, 8) : 0;
			if (!(*val >= '0' && *val <= '7') || *end != '\0' || errno == ERANGE ||
			    mode > UINT32_MAX)
				return vsl_error_set_code(err, EINVAL, "invalid value for %s: %s", key, val);
			put(b, ensure(b, m, "TmpfsOptions"), "Mode", json_integer((json_int_t)mode));
		} else {
			return vsl_error_set_code(err, EINVAL, "unknown option '%s' in '%s'", key, field);
		}
	}
	return 0;
}

/* The CLI's own checks of a --mount (the flag refuses the value). */
static int check_mount_options(json_t *m, struct vsl_error **err)
{
	const char *type = member_str(m, "Type");
	static const char *const kinds[] = {"BindOptions", "VolumeOptions", "TmpfsOptions"};
	static const char *const owners[] = {"bind", "volume", "tmpfs"};
	static const char *const prefixes[] = {"bind", "volume", "tmpfs"};
	if (*type == '\0')
		return vsl_error_set_code(err, EINVAL, "type is required");
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (json_object_get(m, kinds[i]) && strcmp(type, owners[i]) != 0)
			return vsl_error_set_code(
			    err, EINVAL, "cannot mix '%s-*' options with mount type '%s'", prefixes[i], type);
	json_t *bo = json_object_get(m, "BindOptions");
	bool ro = json_is_true(json_object_get(m, "ReadOnly"));
	if (json_is_true(json_object_get(bo, "ReadOnlyNonRecursive")) && !ro)
		return vsl_error_set_code(
		    err, EINVAL,
		    "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
	if (json_is_true(json_object_get(bo, "ReadOnlyForceRecursive"))) {
		if (!ro)
			return vsl_error_set_code(
			    err, EINVAL,
			    "option 'bind-recursive=readonly' requires 'readonly' to be specified "
			    "in conjunction");
		if (strcmp(member_str(bo, "Propagation"), "rprivate") != 0)
			return vsl_error_set_code(
			    err, EINVAL,
			    "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' "
			    "to be specified in conjunction");
	}
	return 0;
}

/* What the daemon checks of a mount before creating anything, in its words. */
static int check_mount_config(json_t *m, struct vsl_error **err)
{
	const char *type = member_str(m, "Type"), *src = member_str(m, "Source"),
	           *dst = member_str(m, "Target");
	json_t *bo = json_object_get(m, "BindOptions");
	if (strcmp(type, "bind") != 0 && strcmp(type, "volume") != 0 && strcmp(type, "tmpfs") != 0)
		return vsl_error_set_code(err, EINVAL,
		                          "invalid mount config for type \"%s\": mount type unknown", type);
	if (*dst == '\0')
		return vsl_error_set_code(
		    err, EINVAL, "invalid mount config for type \"%s\": field Target must not be empty",
		    type);
	if (dst[0] != '/')
		return vsl_error_set_code(
		    err, EINVAL,
		    "invalid mount config for type \"%s\": invalid mount path: '%s' mount path "
		    "must be absolute",
		    type, dst);
	if (strcmp(type, "tmpfs") == 0 && *src != '\0')
		return vsl_error_set_code(
		    err, EINVAL,
		    "invalid mount config for type \"tmpfs\": field Source must not be specified");
	if (strcmp(type, "bind") == 0) {
		if (*src == '\0')
			return vsl_error_set_code(
			    err, EINVAL,
			    "invalid mount config for type \"bind\": field Source must not be empty");
		if (src[0] != '/')
			return vsl_error_set_code(
			    err, EINVAL,
			    "invalid mount config for type \"bind\": invalid mount path: '%s' "
			    "mount path must be absolute",
			    src);
		struct stat st;
		if (!json_is_true(json_object_get(bo, "CreateMountpoint")) && stat(src, &st) < 0) {
			if (errno == ENOENT)
				return vsl_error_set_code(
				    err, ENOENT,
				    "invalid mount config for type \"bind\": bind source path "
				    "does not exist: %s",
				    src);
			return vsl_error_errno(err, errno, "invalid mount config for type \"bind\": stat %s",
			                       src);
		}
	}
	return 0;
}

int run_flags_add_mount(struct body *b, const char *spec, json_t *mounts, struct vsl_error **err)
{
	/* TrimSpace first, as docker does */
	while (is_whitespace(*spec))
		spec++;
	_cleanup_free_ char *value = strdup(spec);
	if (value == NULL)
		return vsl_error_errno(err, ENOMEM, "parse mount");
	for (size_t n = strlen(value); n > 0 && is_whitespace(value[n - 1]); n--)
		value[n - 1] = '\0';
	if (*value == '\0') {
		vsl_error_set_code(err, EINVAL, "value is empty");
		return run_flags_error(err, "mount", spec);
	}

	_cleanup_strv_ char **fields = NULL;
	int r = csv_fields(value, &fields, err);
	if (r < 0)
		return run_flags_error(err, "mount", spec);
	_cleanup_json_ json_t *m = json_pack("{s:s}", "Type", "volume");
	if (m == NULL)
		return vsl_error_errno(err, ENOMEM, "parse mount");
	r = parse_mount_fields(b, fields, m, err);
	if (r >= 0)
		r = check_mount_options(m, err);
	if (r < 0)
		return run_flags_error(err, "mount", spec);
	if (b->nomem || b->bad_utf8)
		return 0;
	r = check_mount_config(m, err);
	if (r < 0)
		return r;
	append(b, mounts, json_incref(m));
	return 0;
}

static bool valid_device_mode(const char *mode)
{
	if (*mode == '\0' || strlen(mode) > 3)
		return false;
	for (const char *c = mode; *c; c++)
		if (!strchr("rwm", *c) || strchr(c + 1, *c))
			return false;
	return true;
}

/* --device SRC[:DST][:PERMS]: validateLinuxPath, then parseLinuxDevice. */
int run_flags_add_device(struct body *b, const char *spec, json_t *devices, struct vsl_error **err)
{
	size_t colons = 0;
	for (const char *c = spec; *c; c++)
		colons += *c == ':';
	if (colons > 2 || *spec == '\0' || *spec == ':')
		return vsl_error_set_code(err, EINVAL, "bad format for path: %s", spec);
	_cleanup_free_ char *copy = strdup(spec);
	if (copy == NULL)
		return vsl_error_errno(err, ENOMEM, "parse device");
	char *parts[3] = {copy, NULL, NULL};
	for (size_t i = 1; i <= colons; i++) {
		parts[i] = strchr(parts[i - 1], ':');
		*parts[i]++ = '\0';
	}
	const char *src = parts[0], *dst = NULL, *perms = "rwm";
	if (colons == 1 && valid_device_mode(parts[1])) {
		perms = parts[1];
	} else if (colons >= 1) {
		dst = parts[1];
		if (colons == 2) {
			if (!valid_device_mode(parts[2]))
				return vsl_error_set_code(err, EINVAL, "bad mode specified: %s", parts[2]);
			perms = parts[2];
		}
	}
	const char *in_container = dst ? dst : src;
	if (in_container[0] != '/')
		return vsl_error_set_code(err, EINVAL, "%s is not an absolute path", in_container);
	/* docker cleans the path it will use inside the container (a lone path is both) */
	_cleanup_free_ char *clean_src =
	    colons == 0 || (colons == 1 && dst == NULL) ? run_flags_clean_path(src) : strdup(src);
	_cleanup_free_ char *clean_dst = dst && colons == 1 ? run_flags_clean_path(dst)
	                                 : dst              ? strdup(dst)
	                                                    : NULL;
	if (clean_src == NULL || (dst && clean_dst == NULL))
		return vsl_error_errno(err, ENOMEM, "parse device");
	json_t *d = json_object();
	put(b, d, "PathOnHost", jstr(b, clean_src));
	put(b, d, "PathInContainer", jstr(b, clean_dst ? clean_dst : clean_src));
	put(b, d, "CgroupPermissions", jstr(b, perms));
	append(b, devices, d);
	return 0;
}

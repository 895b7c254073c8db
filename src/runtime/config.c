/* config.json -> struct oci_config.
 *
 * Every JSON object of the spec is described once, by a table of fields (its
 * JSON name, the kind of value expected, where it lands in the C struct, whether
 * it is required, and an optional check). One engine walks the tables to parse,
 * and the same tables drive freeing, so a half-built struct left behind by an
 * error is released exactly like a complete one.
 */
#include "runtime/config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

/* The integer kinds store through these types. */
static_assert(sizeof(uid_t) == 4 && sizeof(gid_t) == 4 && sizeof(mode_t) == 4, "32-bit ids");
static_assert(sizeof(unsigned) == 4 && sizeof(int) == 4, "32-bit int");

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* config.json documents are small; this only bounds a hostile or broken file. */
#define CONFIG_MAX_SIZE (64u << 20)

/* jansson provides json_decrefp() for this. */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* ---- where we are in the document, for messages ---- */

struct jpath {
	const struct jpath *up;
	const char *key; /* NULL: the array element `index` */
	size_t index;
	bool doc; /* key names the document ("config.json"), not a field */
};

static bool path_write(FILE *f, const struct jpath *p)
{
	if (p == NULL || p->doc)
		return false;
	bool any = path_write(f, p->up);
	if (p->key != NULL)
		fprintf(f, "%s%s", any ? "." : "", p->key);
	else
		fprintf(f, "[%zu]", p->index);
	return true;
}

/* "config.json: linux.namespaces[2].type: " + message */
static int fail(struct vsl_error **err, const struct jpath *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct vsl_error **err, const struct jpath *p, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);

	_cleanup_free_ char *where = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&where, &size);
	if (f == NULL)
		return vsl_error_errno(err, ENOMEM, "config error");
	const struct jpath *top = p;
	while (top != NULL && top->up != NULL)
		top = top->up;
	if (top != NULL && top->doc)
		fprintf(f, "%s: ", top->key);
	if (path_write(f, p))
		fputs(": ", f);
	if (fclose(f) != 0)
		return vsl_error_errno(err, ENOMEM, "config error");
	return vsl_error_set(err, "%s%s", where, msg ? msg : "out of memory");
}

static int fail_oom(struct vsl_error **err, const struct jpath *p)
{
	(void)p;
	return vsl_error_errno(err, ENOMEM, "parse config");
}

/* ---- integers beyond long long ----
 *
 * jansson stores integers as long long and refuses larger literals, yet
 * config.json legitimately carries uint64 values above INT64_MAX (RLIM_INFINITY
 * as an rlimit, 64-bit seccomp argument masks). Such literals are rewritten into
 * strings that start with NUL before parsing (larger ones too, so that their
 * error names the field). No other string can start with
 * NUL: the input is refused if it contains "\u0000" itself, and without our
 * rewrite we parse without JSON_ALLOW_NUL. Only the integer readers accept them. */

static const char *big_integer(const json_t *v)
{
	if (!json_is_string(v) || json_string_length(v) < 2 || json_string_value(v)[0] != '\0')
		return NULL;
	return json_string_value(v) + 1;
}

static bool is_plain_string(const json_t *v)
{
	return json_is_string(v) && big_integer(v) == NULL;
}

/* A literal of digits only, beyond what a long long holds. */
static bool above_int64(const char *s, size_t n)
{
	char buf[32];
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	if (n >= sizeof(buf))
		return true;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	unsigned long long v = strtoull(buf, NULL, 10);
	return errno == ERANGE || v > (unsigned long long)INT64_MAX;
}

/* *ret = rewritten text, or NULL when there is nothing to rewrite. */
static int rewrite_big_integers(const char *text, size_t len, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t size = 0, copied = 0;
	FILE *out = NULL;
	bool in_string = false;

	*ret = NULL;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\') {
				if (len - i > 5 && memcmp(text + i + 1, "u0000", 5) == 0)
					goto nothing; /* jansson will refuse the NUL */
				i++;
			} else if (c == '"') {
				in_string = false;
			}
			continue;
		}
		if (c == '"') {
			in_string = true;
			continue;
		}
		if (c != '-' && (c < '0' || c > '9'))
			continue;
		size_t j = i;
		while (j < len && text[j] != '\0' && strchr("0123456789+-.eE", text[j]))
			j++;
		if (above_int64(text + i, j - i)) {
			if (out == NULL && (out = open_memstream(&buf, &size)) == NULL)
				return -ENOMEM;
			fwrite(text + copied, 1, i - copied, out);
			fputs("\"\\u0000", out);
			fwrite(text + i, 1, j - i, out);
			fputc('"', out);
			copied = j;
		}
		i = j - 1;
	}
	if (out == NULL)
		return 0;
	fwrite(text + copied, 1, len - copied, out);
	if (fclose(out) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	*ret_len = size;
	return 0;
nothing:
	if (out != NULL) {
		fclose(out);
		free(buf);
	}
	return 0;
}

static int load_json(const char *text, size_t len, const struct jpath *root, json_t **ret,
                     struct vsl_error **err)
{
	_cleanup_free_ char *fixed = NULL;
	size_t fixed_len = 0;
	if (rewrite_big_integers(text, len, &fixed, &fixed_len) < 0)
		return fail_oom(err, root);

	json_error_t je;
	json_t *j = fixed ? json_loadb(fixed, fixed_len, JSON_ALLOW_NUL, &je) : json_loadb(text, len, 0, &je);
	if (j == NULL)
		return fail(err, root, "invalid JSON at line %d, column %d: %s", je.line, je.column, je.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return fail(err, root, "expected an object");
	}
	*ret = j;
	return 0;
}

/* ---- the field tables ---- */

enum kind {
	K_STR,  /* char * */
	K_BOOL, /* bool */
	K_CHAR, /* char: a one-letter string among .chars */
	K_STRV, /* char **, NULL-terminated */
	K_U16,
	K_U32, /* uint32_t, uid_t, gid_t, mode_t, unsigned */
	K_I32,
	K_U64,
	K_I64,
	K_U32V, /* uint32_t * + size_t count */
	K_OBJ,  /* a nested object stored in place (offset 0: flattened into this struct) */
	K_PTR,  /* a nested object stored behind a pointer */
	K_ARR,  /* an array of objects: pointer + size_t count */
	K_MAP,  /* an object of strings: struct oci_key_value * + size_t count */
	K_FN,   /* parsed by .parse, released by .release */
};

struct field;
typedef int (*field_check_fn)(void *obj, const struct field *f, const struct jpath *p,
                              struct vsl_error **err);

struct table {
	const struct field *fields; /* ends with a NULL name */
	size_t size;                /* of one struct: K_PTR, K_ARR */
	void (*init)(void *obj);    /* defaults other than zero */
	/* After all fields: checks across fields. */
	int (*check)(void *obj, const struct jpath *p, struct vsl_error **err);
};

struct field {
	const char *name;
	enum kind kind;
	bool required;
	size_t off;
	size_t has;   /* offsetof(a bool set when the field is present) + 1; 0: none */
	size_t count; /* K_U32V, K_ARR, K_MAP: offsetof(the size_t count) */
	const struct table *sub;
	const char *const *oneof; /* K_STR: the accepted values */
	const char *chars;        /* K_CHAR: the accepted letters */
	const char *noun;         /* for "unknown <noun> 'x'" */
	field_check_fn check;     /* after the field is parsed */
	int (*parse)(json_t *v, void *obj, const struct field *f, const struct jpath *p,
	             struct vsl_error **err);
	void (*release)(void *obj, const struct field *f);
};

#define FIELD(T, json, k, member, ...)                                                                       \
	{                                                                                                    \
		.name = (json), .kind = (k), __VA_ARGS__.off = offsetof(T, member)                           \
	}
#define INLINE(json, table, ...)                                                                             \
	{                                                                                                    \
		.name = (json), .kind = K_OBJ, __VA_ARGS__.sub = &(table)                                    \
	}
#define REQ               .required = true,
#define HAS(T, m)         .has = offsetof(T, m) + 1,
#define COUNT(T, m)       .count = offsetof(T, m),
#define SUB(t)            .sub = &(t),
#define CHECK(fn)         .check = (fn),
#define ONEOF(noun_, ...) .noun = (noun_), .oneof = (const char *const[]){__VA_ARGS__, NULL},

#define AT(obj, off, type) ((type *)((char *)(obj) + (off)))

static const struct {
	int64_t min;
	uint64_t max;
	const char *what;
} int_kinds[] = {
    [K_U16] = {0, UINT16_MAX, "an unsigned 16-bit integer"},
    [K_U32] = {0, UINT32_MAX, "an unsigned 32-bit integer"},
    [K_I32] = {INT32_MIN, INT32_MAX, "a 32-bit integer"},
    [K_U64] = {0, UINT64_MAX, "an unsigned 64-bit integer"},
    [K_I64] = {INT64_MIN, INT64_MAX, "a 64-bit integer"},
};

/* Reads an integer of `kind` as its two's-complement bits. */
static int take_int(json_t *v, enum kind kind, const struct jpath *p, uint64_t *ret, struct vsl_error **err)
{
	const char *big = big_integer(v);
	if (json_is_integer(v)) {
		long long i = json_integer_value(v);
		if ((i < 0 && i < int_kinds[kind].min) || (i >= 0 && (uint64_t)i > int_kinds[kind].max))
			return fail(err, p, "%lld is out of range (expected %s)", i, int_kinds[kind].what);
		*ret = (uint64_t)i;
		return 0;
	}
	if (big != NULL) {
		/* Always above INT64_MAX; maybe above UINT64_MAX too. */
		errno = 0;
		unsigned long long u = strtoull(big, NULL, 10);
		if (errno == ERANGE || int_kinds[kind].max != UINT64_MAX)
			return fail(err, p, "%s is out of range (expected %s)", big, int_kinds[kind].what);
		*ret = u;
		return 0;
	}
	return fail(err, p, "expected %s", int_kinds[kind].what);
}

static char *join_list(const char *const *list)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL)
		return NULL;
	for (size_t i = 0; list[i]; i++)
		fprintf(f, "%s%s", i ? ", " : "", list[i]);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int parse_table(const struct table *t, json_t *j, void *obj, const struct jpath *p,
                       struct vsl_error **err);
static void table_free(const struct table *t, void *obj);

static int parse_strv(json_t *v, char ***ret, const struct jpath *p, struct vsl_error **err)
{
	if (!json_is_array(v))
		return fail(err, p, "expected an array of strings");
	size_t n = json_array_size(v);
	for (size_t i = 0; i < n; i++)
		if (!is_plain_string(json_array_get(v, i)))
			return fail(err, p, "expected an array of strings");
	char **l = calloc(n + 1, sizeof(char *));
	if (l == NULL)
		return fail_oom(err, p);
	*ret = l;
	for (size_t i = 0; i < n; i++)
		if ((l[i] = strdup(json_string_value(json_array_get(v, i)))) == NULL)
			return fail_oom(err, p);
	return 0;
}

static int parse_field(const struct field *f, json_t *v, void *obj, const struct jpath *p,
                       struct vsl_error **err)
{
	void *dst = AT(obj, f->off, void);
	uint64_t u = 0;
	int r;

	switch (f->kind) {
	case K_STR:
		if (!is_plain_string(v))
			return fail(err, p, "expected a string");
		if (f->oneof != NULL) {
			size_t i = 0;
			while (f->oneof[i] && strcmp(f->oneof[i], json_string_value(v)) != 0)
				i++;
			if (f->oneof[i] == NULL) {
				_cleanup_free_ char *list = join_list(f->oneof);
				return fail(err, p, "unknown %s '%s' (expected one of %s)", f->noun,
				            json_string_value(v), list ? list : "...");
			}
		}
		if ((*(char **)dst = strdup(json_string_value(v))) == NULL)
			return fail_oom(err, p);
		break;
	case K_BOOL:
		if (!json_is_boolean(v))
			return fail(err, p, "expected a boolean");
		*(bool *)dst = json_is_true(v);
		break;
	case K_CHAR: {
		if (!is_plain_string(v))
			return fail(err, p, "expected a string");
		const char *s = json_string_value(v);
		if (strlen(s) != 1 || strchr(f->chars, s[0]) == NULL)
			return fail(err, p, "unknown %s '%s' (expected one of '%s')", f->noun, s, f->chars);
		*(char *)dst = s[0];
		break;
	}
	case K_STRV:
		if ((r = parse_strv(v, (char ***)dst, p, err)) < 0)
			return r;
		break;
	case K_U16:
	case K_U32:
	case K_I32:
	case K_U64:
	case K_I64:
		if ((r = take_int(v, f->kind, p, &u, err)) < 0)
			return r;
		if (f->kind == K_U16)
			*(uint16_t *)dst = (uint16_t)u;
		else if (f->kind == K_U32)
			*(uint32_t *)dst = (uint32_t)u;
		else if (f->kind == K_I32)
			*(int32_t *)dst = (int32_t)(int64_t)u;
		else
			*(uint64_t *)dst = u; /* int64_t has the same bits */
		break;
	case K_U32V: {
		if (!json_is_array(v))
			return fail(err, p, "expected an array of unsigned 32-bit integers");
		size_t n = json_array_size(v);
		if (n == 0)
			break;
		uint32_t *a = calloc(n, sizeof(uint32_t));
		if (a == NULL)
			return fail_oom(err, p);
		*(uint32_t **)dst = a;
		*AT(obj, f->count, size_t) = n;
		for (size_t i = 0; i < n; i++) {
			struct jpath ep = {.up = p, .index = i};
			if ((r = take_int(json_array_get(v, i), K_U32, &ep, &u, err)) < 0)
				return r;
			a[i] = (uint32_t)u;
		}
		break;
	}
	case K_OBJ:
		if (!json_is_object(v))
			return fail(err, p, "expected an object");
		if ((r = parse_table(f->sub, v, dst, p, err)) < 0)
			return r;
		break;
	case K_PTR: {
		if (!json_is_object(v))
			return fail(err, p, "expected an object");
		void *sub = calloc(1, f->sub->size);
		if (sub == NULL)
			return fail_oom(err, p);
		if (f->sub->init)
			f->sub->init(sub);
		*(void **)dst = sub;
		if ((r = parse_table(f->sub, v, sub, p, err)) < 0)
			return r;
		break;
	}
	case K_ARR: {
		if (!json_is_array(v))
			return fail(err, p, "expected an array");
		size_t n = json_array_size(v);
		if (n == 0)
			break;
		char *a = calloc(n, f->sub->size);
		if (a == NULL)
			return fail_oom(err, p);
		*(void **)dst = a;
		*AT(obj, f->count, size_t) = n;
		for (size_t i = 0; i < n; i++)
			if (f->sub->init)
				f->sub->init(a + i * f->sub->size);
		for (size_t i = 0; i < n; i++) {
			struct jpath ep = {.up = p, .index = i};
			json_t *e = json_array_get(v, i);
			if (!json_is_object(e))
				return fail(err, &ep, "expected an object");
			if ((r = parse_table(f->sub, e, a + i * f->sub->size, &ep, err)) < 0)
				return r;
		}
		break;
	}
	case K_MAP: {
		if (!json_is_object(v))
			return fail(err, p, "expected an object of strings");
		size_t n = json_object_size(v);
		if (n == 0)
			break;
		struct oci_key_value *kv = calloc(n, sizeof(*kv));
		if (kv == NULL)
			return fail_oom(err, p);
		*(struct oci_key_value **)dst = kv;
		*AT(obj, f->count, size_t) = n;
		const char *key;
		json_t *val;
		size_t i = 0;
		json_object_foreach(v, key, val)
		{
			struct jpath kp = {.up = p, .key = key};
			if (!is_plain_string(val))
				return fail(err, &kp, "expected a string");
			kv[i].key = strdup(key);
			kv[i].value = strdup(json_string_value(val));
			if (kv[i].key == NULL || kv[i].value == NULL)
				return fail_oom(err, p);
			i++;
		}
		break;
	}
	case K_FN:
		if ((r = f->parse(v, obj, f, p, err)) < 0)
			return r;
		break;
	}

	if (f->has)
		*AT(obj, f->has - 1, bool) = true;
	if (f->check)
		return f->check(obj, f, p, err);
	return 0;
}

static int parse_table(const struct table *t, json_t *j, void *obj, const struct jpath *p,
                       struct vsl_error **err)
{
	for (const struct field *f = t->fields; f->name; f++) {
		struct jpath fp = {.up = p, .key = f->name};
		json_t *v = json_object_get(j, f->name);
		/* null is absence, as for Go's encoding/json that writes most configs. */
		if (v == NULL || json_is_null(v)) {
			if (f->required)
				return fail(err, &fp, "required field missing");
			continue;
		}
		int r = parse_field(f, v, obj, &fp, err);
		if (r < 0)
			return r;
	}
	return t->check ? t->check(obj, p, err) : 0;
}

static void table_free(const struct table *t, void *obj)
{
	for (const struct field *f = t->fields; f->name; f++) {
		void *dst = AT(obj, f->off, void);
		switch (f->kind) {
		case K_STR:
		case K_U32V:
			free(*(void **)dst);
			break;
		case K_STRV:
			strv_free(*(char ***)dst);
			break;
		case K_OBJ:
			table_free(f->sub, dst);
			break;
		case K_PTR:
			if (*(void **)dst) {
				table_free(f->sub, *(void **)dst);
				free(*(void **)dst);
			}
			break;
		case K_ARR: {
			char *a = *(char **)dst;
			size_t n = *AT(obj, f->count, size_t);
			for (size_t i = 0; a && i < n; i++)
				table_free(f->sub, a + i * f->sub->size);
			free(a);
			break;
		}
		case K_MAP: {
			struct oci_key_value *kv = *(struct oci_key_value **)dst;
			size_t n = *AT(obj, f->count, size_t);
			for (size_t i = 0; kv && i < n; i++) {
				free(kv[i].key);
				free(kv[i].value);
			}
			free(kv);
			break;
		}
		case K_FN:
			if (f->release)
				f->release(obj, f);
			break;
		default:
			break;
		}
	}
}

/* ---- checks ---- */

static int check_absolute(void *obj, const struct field *f, const struct jpath *p, struct vsl_error **err)
{
	const char *s = *AT(obj, f->off, char *);
	if (s[0] != '/')
		return fail(err, p, "'%s' is not an absolute path", s);
	return 0;
}

static int check_not_empty(void *obj, const struct field *f, const struct jpath *p, struct vsl_error **err)
{
	char **l = *AT(obj, f->off, char **);
	if (l == NULL || l[0] == NULL)
		return fail(err, p, "must not be empty");
	return 0;
}

static bool parse_number(const char **s, unsigned *ret)
{
	const char *c = *s;
	unsigned v = 0;
	if (*c < '0' || *c > '9')
		return false;
	for (; *c >= '0' && *c <= '9'; c++) {
		if (v > 100000)
			return false;
		v = v * 10 + (unsigned)(*c - '0');
	}
	*s = c;
	*ret = v;
	return true;
}

/* SemVer MAJOR.MINOR.PATCH[-pre][+build]: 1.0.0 up to any 1.3.x (and their -rc). */
static int check_oci_version(void *obj, const struct field *f, const struct jpath *p, struct vsl_error **err)
{
	const char *v = *AT(obj, f->off, char *);
	const char *s = v;
	unsigned major, minor, patch;
	bool ok = parse_number(&s, &major) && *s++ == '.' && parse_number(&s, &minor) && *s++ == '.' &&
	          parse_number(&s, &patch) && (*s == '\0' || *s == '-' || *s == '+');
	if (!ok || major != 1 || minor > 3)
		return fail(err, p, "unsupported version '%s' (vessel supports 1.0.0 to 1.3.x)", v);
	return 0;
}

/* Spec 1.0 allowed relative destinations; runc reads them from "/", so do we. */
static int check_mount_destination(void *obj, const struct field *f, const struct jpath *p,
                                   struct vsl_error **err)
{
	char **d = AT(obj, f->off, char *);
	if ((*d)[0] == '/')
		return 0;
	if ((*d)[0] == '\0')
		return fail(err, p, "must not be empty");
	char *abs = NULL;
	if (asprintf(&abs, "/%s", *d) < 0)
		return fail_oom(err, p);
	free(*d);
	*d = abs;
	return 0;
}

static int check_access(void *obj, const struct field *f, const struct jpath *p, struct vsl_error **err)
{
	const char *s = *AT(obj, f->off, char *);
	if (s[strspn(s, "rwm")] != '\0')
		return fail(err, p, "invalid access '%s' (expected letters among r, w, m)", s);
	return 0;
}

static int check_oom_score_adj(void *obj, const struct field *f, const struct jpath *p,
                               struct vsl_error **err)
{
	int v = *AT(obj, f->off, int);
	if (v < -1000 || v > 1000)
		return fail(err, p, "%d is out of range (expected -1000 to 1000)", v);
	return 0;
}

static int check_umask(void *obj, const struct field *f, const struct jpath *p, struct vsl_error **err)
{
	mode_t m = *AT(obj, f->off, mode_t);
	if (m > 0777)
		return fail(err, p, "%#o is not a valid umask", (unsigned)m);
	return 0;
}

static int check_positive(void *obj, const struct field *f, const struct jpath *p, struct vsl_error **err)
{
	if (*AT(obj, f->off, int) <= 0)
		return fail(err, p, "must be greater than zero");
	return 0;
}

static int check_nanosecs(void *obj, const struct field *f, const struct jpath *p, struct vsl_error **err)
{
	if (*AT(obj, f->off, uint32_t) >= 1000000000u)
		return fail(err, p, "must be below 1000000000");
	return 0;
}

/* The kernel's seccomp_data carries six syscall arguments. */
static int check_arg_index(void *obj, const struct field *f, const struct jpath *p, struct vsl_error **err)
{
	unsigned i = *AT(obj, f->off, unsigned);
	if (i >= 6)
		return fail(err, p, "%u is out of range (a syscall has arguments 0 to 5)", i);
	return 0;
}

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int check_rlimit_type(void *obj, const struct field *f, const struct jpath *p, struct vsl_error **err)
{
	struct oci_rlimit *rl = obj;
	(void)f;
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (strcmp(rl->type, rlimit_names[i].name) == 0) {
			rl->resource = rlimit_names[i].resource;
			return 0;
		}
	return fail(err, p, "unknown rlimit '%s'", rl->type);
}

static int check_rlimit(void *obj, const struct jpath *p, struct vsl_error **err)
{
	const struct oci_rlimit *rl = obj;
	if (rl->soft > rl->hard)
		return fail(err, p, "soft limit %llu is above hard limit %llu", (unsigned long long)rl->soft,
		            (unsigned long long)rl->hard);
	return 0;
}

/* ---- process ---- */

static const struct field id_map_fields[] = {
    FIELD(struct oci_id_map, "containerID", K_U32, container_id, REQ),
    FIELD(struct oci_id_map, "hostID", K_U32, host_id, REQ),
    FIELD(struct oci_id_map, "size", K_U32, size, REQ),
    {0},
};
static const struct table id_map_table = {id_map_fields, sizeof(struct oci_id_map), NULL, NULL};

static const struct field rlimit_fields[] = {
    FIELD(struct oci_rlimit, "type", K_STR, type, REQ CHECK(check_rlimit_type)),
    FIELD(struct oci_rlimit, "hard", K_U64, hard, REQ),
    FIELD(struct oci_rlimit, "soft", K_U64, soft, REQ),
    {0},
};
static const struct table rlimit_table = {rlimit_fields, sizeof(struct oci_rlimit), NULL, check_rlimit};

static const struct field caps_fields[] = {
    FIELD(struct oci_caps, "bounding", K_STRV, bounding),
    FIELD(struct oci_caps, "effective", K_STRV, effective),
    FIELD(struct oci_caps, "inheritable", K_STRV, inheritable),
    FIELD(struct oci_caps, "permitted", K_STRV, permitted),
    FIELD(struct oci_caps, "ambient", K_STRV, ambient),
    {0},
};
static const struct table caps_table = {caps_fields, sizeof(struct oci_caps), NULL, NULL};

static const struct field user_fields[] = {
    FIELD(struct oci_user, "uid", K_U32, uid, REQ),
    FIELD(struct oci_user, "gid", K_U32, gid, REQ),
    FIELD(struct oci_user, "umask", K_U32, umask, HAS(struct oci_user, has_umask) CHECK(check_umask)),
    FIELD(struct oci_user, "additionalGids", K_U32V, additional_gids,
          COUNT(struct oci_user, n_additional_gids)),
    FIELD(struct oci_user, "username", K_STR, username),
    {0},
};
static const struct table user_table = {user_fields, sizeof(struct oci_user), NULL, NULL};

/* consoleSize is flattened into struct oci_process. */
static const struct field console_fields[] = {
    FIELD(struct oci_process, "height", K_U32, console_height, REQ),
    FIELD(struct oci_process, "width", K_U32, console_width, REQ),
    {0},
};
static const struct table console_table = {console_fields, 0, NULL, NULL};

/* Two entries of one type: which one would win is anybody's guess, so refuse. */
static int check_process(void *obj, const struct jpath *p, struct vsl_error **err)
{
	const struct oci_process *proc = obj;
	for (size_t i = 0; i < proc->n_rlimits; i++)
		for (size_t j = 0; j < i; j++)
			if (proc->rlimits[i].resource == proc->rlimits[j].resource) {
				struct jpath lp = {.up = p, .key = "rlimits"};
				struct jpath ep = {.up = &lp, .index = i};
				struct jpath tp = {.up = &ep, .key = "type"};
				return fail(err, &tp, "duplicate rlimit '%s'", proc->rlimits[i].type);
			}
	return 0;
}

#define P struct oci_process
static const struct field process_fields[] = {
    FIELD(P, "terminal", K_BOOL, terminal),
    INLINE("consoleSize", console_table),
    FIELD(P, "user", K_OBJ, user, SUB(user_table)),
    FIELD(P, "args", K_STRV, args, REQ CHECK(check_not_empty)),
    FIELD(P, "commandLine", K_STR, command_line),
    FIELD(P, "env", K_STRV, env),
    FIELD(P, "cwd", K_STR, cwd, REQ CHECK(check_absolute)),
    FIELD(P, "capabilities", K_OBJ, caps, HAS(P, has_caps) SUB(caps_table)),
    FIELD(P, "rlimits", K_ARR, rlimits, COUNT(P, n_rlimits) SUB(rlimit_table)),
    FIELD(P, "noNewPrivileges", K_BOOL, no_new_privileges),
    FIELD(P, "apparmorProfile", K_STR, apparmor_profile),
    FIELD(P, "oomScoreAdj", K_I32, oom_score_adj, HAS(P, has_oom_score_adj) CHECK(check_oom_score_adj)),
    FIELD(P, "selinuxLabel", K_STR, selinux_label),
    {0},
};
#undef P
static const struct table process_table = {process_fields, sizeof(struct oci_process), NULL, check_process};

/* ---- mounts, hooks ---- */

#define M struct oci_mount
static const struct field mount_fields[] = {
    FIELD(M, "destination", K_STR, destination, REQ CHECK(check_mount_destination)),
    FIELD(M, "type", K_STR, type),
    FIELD(M, "source", K_STR, source),
    FIELD(M, "options", K_STRV, options),
    FIELD(M, "uidMappings", K_ARR, uid_mappings, COUNT(M, n_uid_mappings) SUB(id_map_table)),
    FIELD(M, "gidMappings", K_ARR, gid_mappings, COUNT(M, n_gid_mappings) SUB(id_map_table)),
    {0},
};
#undef M
static const struct table mount_table = {mount_fields, sizeof(struct oci_mount), NULL, NULL};

static const struct field hook_fields[] = {
    FIELD(struct oci_hook, "path", K_STR, path, REQ CHECK(check_absolute)),
    FIELD(struct oci_hook, "args", K_STRV, args),
    FIELD(struct oci_hook, "env", K_STRV, env),
    FIELD(struct oci_hook, "timeout", K_I32, timeout,
          HAS(struct oci_hook, has_timeout) CHECK(check_positive)),
    {0},
};
static const struct table hook_table = {hook_fields, sizeof(struct oci_hook), NULL, NULL};

#define HOOK(json, k)                                                                                        \
	FIELD(struct oci_hooks, json, K_ARR, list[k], COUNT(struct oci_hooks, count[k]) SUB(hook_table))
static const struct field hooks_fields[] = {
    HOOK("prestart", HOOK_PRESTART),
    HOOK("createRuntime", HOOK_CREATE_RUNTIME),
    HOOK("createContainer", HOOK_CREATE_CONTAINER),
    HOOK("startContainer", HOOK_START_CONTAINER),
    HOOK("poststart", HOOK_POSTSTART),
    HOOK("poststop", HOOK_POSTSTOP),
    {0},
};
#undef HOOK
static const struct table hooks_table = {hooks_fields, sizeof(struct oci_hooks), NULL, NULL};

/* ---- linux.resources ---- */

static void device_rule_init(void *obj)
{
	struct oci_device_rule *d = obj;
	d->type = 'a';
	d->major = d->minor = -1;
}

#define R struct oci_device_rule
static const struct field device_rule_fields[] = {
    FIELD(R, "allow", K_BOOL, allow, REQ),
    FIELD(R, "type", K_CHAR, type, .chars = "acb", .noun = "device type", ),
    FIELD(R, "major", K_I64, major),
    FIELD(R, "minor", K_I64, minor),
    FIELD(R, "access", K_STR, access, CHECK(check_access)),
    {0},
};
#undef R
static const struct table device_rule_table = {device_rule_fields, sizeof(struct oci_device_rule),
                                               device_rule_init, NULL};

#define R struct oci_resources
static const struct field memory_fields[] = {
    FIELD(R, "limit", K_I64, memory.limit, HAS(R, memory.has_limit)),
    FIELD(R, "reservation", K_I64, memory.reservation, HAS(R, memory.has_reservation)),
    FIELD(R, "swap", K_I64, memory.swap, HAS(R, memory.has_swap)),
    FIELD(R, "kernel", K_I64, memory.kernel, HAS(R, memory.has_kernel)),
    FIELD(R, "kernelTCP", K_I64, memory.kernel_tcp, HAS(R, memory.has_kernel_tcp)),
    FIELD(R, "swappiness", K_U64, memory.swappiness, HAS(R, memory.has_swappiness)),
    FIELD(R, "disableOOMKiller", K_BOOL, memory.disable_oom_killer),
    FIELD(R, "useHierarchy", K_BOOL, memory.use_hierarchy),
    FIELD(R, "checkBeforeUpdate", K_BOOL, memory.check_before_update),
    {0},
};
static const struct table memory_table = {memory_fields, 0, NULL, NULL};

static const struct field cpu_fields[] = {
    FIELD(R, "shares", K_U64, cpu.shares, HAS(R, cpu.has_shares)),
    FIELD(R, "quota", K_I64, cpu.quota, HAS(R, cpu.has_quota)),
    FIELD(R, "burst", K_U64, cpu.burst, HAS(R, cpu.has_burst)),
    FIELD(R, "period", K_U64, cpu.period, HAS(R, cpu.has_period)),
    FIELD(R, "realtimeRuntime", K_I64, cpu.rt_runtime, HAS(R, cpu.has_rt_runtime)),
    FIELD(R, "realtimePeriod", K_U64, cpu.rt_period, HAS(R, cpu.has_rt_period)),
    FIELD(R, "cpus", K_STR, cpu.cpus),
    FIELD(R, "mems", K_STR, cpu.mems),
    FIELD(R, "idle", K_I64, cpu.idle, HAS(R, cpu.has_idle)),
    {0},
};
static const struct table cpu_table = {cpu_fields, 0, NULL, NULL};

static const struct field pids_fields[] = {
    FIELD(R, "limit", K_I64, pids.limit, HAS(R, pids.has_limit)),
    {0},
};
static const struct table pids_table = {pids_fields, 0, NULL, NULL};

static const struct field weight_device_fields[] = {
    FIELD(struct oci_weight_device, "major", K_I64, major, REQ),
    FIELD(struct oci_weight_device, "minor", K_I64, minor, REQ),
    FIELD(struct oci_weight_device, "weight", K_U16, weight, HAS(struct oci_weight_device, has_weight)),
    FIELD(struct oci_weight_device, "leafWeight", K_U16, leaf_weight,
          HAS(struct oci_weight_device, has_leaf_weight)),
    {0},
};
static const struct table weight_device_table = {weight_device_fields, sizeof(struct oci_weight_device), NULL,
                                                 NULL};

static const struct field throttle_device_fields[] = {
    FIELD(struct oci_throttle_device, "major", K_I64, major, REQ),
    FIELD(struct oci_throttle_device, "minor", K_I64, minor, REQ),
    FIELD(struct oci_throttle_device, "rate", K_U64, rate, REQ),
    {0},
};
static const struct table throttle_device_table = {throttle_device_fields, sizeof(struct oci_throttle_device),
                                                   NULL, NULL};

#define THROTTLE(json, m) FIELD(R, json, K_ARR, blkio.m, COUNT(R, blkio.n_##m) SUB(throttle_device_table))
static const struct field blkio_fields[] = {
    FIELD(R, "weight", K_U16, blkio.weight, HAS(R, blkio.has_weight)),
    FIELD(R, "leafWeight", K_U16, blkio.leaf_weight, HAS(R, blkio.has_leaf_weight)),
    FIELD(R, "weightDevice", K_ARR, blkio.weight_devices,
          COUNT(R, blkio.n_weight_devices) SUB(weight_device_table)),
    THROTTLE("throttleReadBpsDevice", read_bps),
    THROTTLE("throttleWriteBpsDevice", write_bps),
    THROTTLE("throttleReadIOPSDevice", read_iops),
    THROTTLE("throttleWriteIOPSDevice", write_iops),
    {0},
};
#undef THROTTLE
static const struct table blkio_table = {blkio_fields, 0, NULL, NULL};

static const struct field hugepage_fields[] = {
    FIELD(struct oci_hugepage_limit, "pageSize", K_STR, page_size, REQ),
    FIELD(struct oci_hugepage_limit, "limit", K_U64, limit, REQ),
    {0},
};
static const struct table hugepage_table = {hugepage_fields, sizeof(struct oci_hugepage_limit), NULL, NULL};

/* network.priorities[].priority is a number; it is kept as its decimal text. */
static int parse_priority(json_t *v, void *obj, const struct field *f, const struct jpath *p,
                          struct vsl_error **err)
{
	uint64_t u;
	int r = take_int(v, K_U32, p, &u, err);
	if (r < 0)
		return r;
	if (asprintf(AT(obj, f->off, char *), "%u", (unsigned)u) < 0) {
		*AT(obj, f->off, char *) = NULL;
		return fail_oom(err, p);
	}
	return 0;
}

static void release_string(void *obj, const struct field *f)
{
	free(*AT(obj, f->off, char *));
}

static const struct field priority_fields[] = {
    FIELD(struct oci_key_value, "name", K_STR, key, REQ),
    FIELD(struct oci_key_value, "priority", K_FN, value, REQ.parse = parse_priority,
          .release = release_string, ),
    {0},
};
static const struct table priority_table = {priority_fields, sizeof(struct oci_key_value), NULL, NULL};

static const struct field network_fields[] = {
    FIELD(R, "classID", K_U32, network.class_id, HAS(R, network.has_class_id)),
    FIELD(R, "priorities", K_ARR, network.priorities, COUNT(R, network.n_priorities) SUB(priority_table)),
    {0},
};
static const struct table network_table = {network_fields, 0, NULL, NULL};

/* The nested objects of resources are all flattened into struct oci_resources. */
static const struct field resources_fields[] = {
    FIELD(R, "devices", K_ARR, devices, COUNT(R, n_devices) SUB(device_rule_table)),
    INLINE("memory", memory_table),
    INLINE("cpu", cpu_table),
    INLINE("pids", pids_table),
    INLINE("blockIO", blkio_table),
    FIELD(R, "hugepageLimits", K_ARR, hugepage_limits, COUNT(R, n_hugepage_limits) SUB(hugepage_table)),
    INLINE("network", network_table),
    FIELD(R, "unified", K_MAP, unified, COUNT(R, n_unified)),
    {0},
};
#undef R
static const struct table resources_table = {resources_fields, sizeof(struct oci_resources), NULL, NULL};

/* ---- linux.seccomp ---- */

#define SECCOMP_ACTIONS                                                                                      \
	"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", \
	    "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"

static const struct field syscall_arg_fields[] = {
    FIELD(struct oci_syscall_arg, "index", K_U32, index, REQ CHECK(check_arg_index)),
    FIELD(struct oci_syscall_arg, "value", K_U64, value, REQ),
    FIELD(struct oci_syscall_arg, "valueTwo", K_U64, value_two),
    FIELD(struct oci_syscall_arg, "op", K_STR, op,
          REQ ONEOF("operator", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                    "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ")),
    {0},
};
static const struct table syscall_arg_table = {syscall_arg_fields, sizeof(struct oci_syscall_arg), NULL,
                                               NULL};

#define S struct oci_syscall_rule
static const struct field syscall_fields[] = {
    FIELD(S, "names", K_STRV, names, REQ CHECK(check_not_empty)),
    FIELD(S, "action", K_STR, action, REQ ONEOF("action", SECCOMP_ACTIONS)),
    FIELD(S, "errnoRet", K_U32, errno_ret, HAS(S, has_errno_ret)),
    FIELD(S, "args", K_ARR, args, COUNT(S, n_args) SUB(syscall_arg_table)),
    {0},
};
#undef S
static const struct table syscall_table = {syscall_fields, sizeof(struct oci_syscall_rule), NULL, NULL};

static int check_seccomp_flags(void *obj, const struct field *f, const struct jpath *p,
                               struct vsl_error **err)
{
	static const char *const known[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	                                    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	                                    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL};
	char **flags = *AT(obj, f->off, char **);
	for (size_t i = 0; flags[i]; i++) {
		size_t k = 0;
		while (known[k] && strcmp(known[k], flags[i]) != 0)
			k++;
		if (known[k] == NULL) {
			struct jpath ep = {.up = p, .index = i};
			return fail(err, &ep, "unknown seccomp flag '%s'", flags[i]);
		}
	}
	return 0;
}

#define S struct oci_seccomp
static const struct field seccomp_fields[] = {
    FIELD(S, "defaultAction", K_STR, default_action, REQ ONEOF("action", SECCOMP_ACTIONS)),
    FIELD(S, "defaultErrnoRet", K_U32, default_errno_ret, HAS(S, has_default_errno_ret)),
    FIELD(S, "architectures", K_STRV, architectures),
    FIELD(S, "flags", K_STRV, flags, CHECK(check_seccomp_flags)),
    FIELD(S, "listenerPath", K_STR, listener_path),
    FIELD(S, "listenerMetadata", K_STR, listener_metadata),
    FIELD(S, "syscalls", K_ARR, syscalls, COUNT(S, n_syscalls) SUB(syscall_table)),
    {0},
};
#undef S
static const struct table seccomp_table = {seccomp_fields, sizeof(struct oci_seccomp), NULL, NULL};

/* ---- linux ---- */

static const char *const ns_names[NS_COUNT] = {
    [NS_USER] = "user", [NS_MOUNT] = "mount", [NS_PID] = "pid",       [NS_NETWORK] = "network",
    [NS_IPC] = "ipc",   [NS_UTS] = "uts",     [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
};

struct ns_entry {
	char *type, *path;
};

static const struct field ns_entry_fields[] = {
    FIELD(struct ns_entry, "type", K_STR, type, REQ),
    FIELD(struct ns_entry, "path", K_STR, path, CHECK(check_absolute)),
    {0},
};
static const struct table ns_entry_table = {ns_entry_fields, sizeof(struct ns_entry), NULL, NULL};

/* An array of {type, path} lands in slots indexed by type. */
static int parse_namespaces(json_t *v, void *obj, const struct field *f, const struct jpath *p,
                            struct vsl_error **err)
{
	struct oci_namespace *ns = AT(obj, f->off, struct oci_namespace);
	if (!json_is_array(v))
		return fail(err, p, "expected an array");
	for (size_t i = 0; i < json_array_size(v); i++) {
		struct jpath ep = {.up = p, .index = i};
		struct jpath tp = {.up = &ep, .key = "type"};
		json_t *e = json_array_get(v, i);
		if (!json_is_object(e))
			return fail(err, &ep, "expected an object");

		struct ns_entry entry = {0};
		int r = parse_table(&ns_entry_table, e, &entry, &ep, err);
		if (r < 0) {
			table_free(&ns_entry_table, &entry);
			return r;
		}
		size_t t = 0;
		while (t < NS_COUNT && strcmp(ns_names[t], entry.type) != 0)
			t++;
		if (t == NS_COUNT || ns[t].present) {
			r = fail(err, &tp, "%s namespace '%s'", t == NS_COUNT ? "unknown" : "duplicate",
			         entry.type);
			table_free(&ns_entry_table, &entry);
			return r;
		}
		free(entry.type);
		ns[t].present = true;
		ns[t].path = entry.path;
	}
	return 0;
}

static void release_namespaces(void *obj, const struct field *f)
{
	struct oci_namespace *ns = AT(obj, f->off, struct oci_namespace);
	for (size_t i = 0; i < NS_COUNT; i++)
		free(ns[i].path);
}

static void device_init(void *obj)
{
	struct oci_device *d = obj;
	d->major = d->minor = INT64_MIN; /* absent */
}

static int check_device(void *obj, const struct jpath *p, struct vsl_error **err)
{
	struct oci_device *d = obj;
	int64_t *num[] = {&d->major, &d->minor};
	static const char *const names[] = {"major", "minor"};
	for (size_t i = 0; i < 2; i++) {
		struct jpath np = {.up = p, .key = names[i]};
		if (*num[i] == INT64_MIN) {
			/* A fifo has no device number. */
			if (d->type == 'p') {
				*num[i] = 0;
				continue;
			}
			return fail(err, &np, "required for device type '%c'", d->type);
		}
		if (*num[i] < 0 || *num[i] > UINT32_MAX)
			return fail(err, &np, "%lld is not a valid device number", (long long)*num[i]);
	}
	return 0;
}

#define D struct oci_device
static const struct field device_fields[] = {
    FIELD(D, "type", K_CHAR, type, REQ.chars = "cbup", .noun = "device type", ),
    FIELD(D, "path", K_STR, path, REQ CHECK(check_absolute)),
    FIELD(D, "major", K_I64, major),
    FIELD(D, "minor", K_I64, minor),
    FIELD(D, "fileMode", K_U32, file_mode, HAS(D, has_mode)),
    FIELD(D, "uid", K_U32, uid, HAS(D, has_uid)),
    FIELD(D, "gid", K_U32, gid, HAS(D, has_gid)),
    {0},
};
#undef D
static const struct table device_table = {device_fields, sizeof(struct oci_device), device_init,
                                          check_device};

static const struct field time_offset_fields[] = {
    FIELD(struct oci_time_offset, "secs", K_I64, secs),
    FIELD(struct oci_time_offset, "nanosecs", K_U32, nanosecs, CHECK(check_nanosecs)),
    {0},
};
static const struct table time_offset_table = {time_offset_fields, sizeof(struct oci_time_offset), NULL,
                                               NULL};

#define C struct oci_config
static const struct field time_offsets_fields[] = {
    FIELD(C, "monotonic", K_OBJ, time_offsets[0], HAS(C, time_offsets[0].present) SUB(time_offset_table)),
    FIELD(C, "boottime", K_OBJ, time_offsets[1], HAS(C, time_offsets[1].present) SUB(time_offset_table)),
    {0},
};
static const struct table time_offsets_table = {time_offsets_fields, 0, NULL, NULL};

static const struct field personality_fields[] = {
    FIELD(C, "domain", K_STR, personality_domain, REQ ONEOF("personality domain", "LINUX", "LINUX32")),
    {0},
};
static const struct table personality_table = {personality_fields, 0, NULL, NULL};

static const struct field linux_fields[] = {
    FIELD(C, "namespaces", K_FN, namespaces, .parse = parse_namespaces, .release = release_namespaces, ),
    FIELD(C, "uidMappings", K_ARR, uid_mappings, COUNT(C, n_uid_mappings) SUB(id_map_table)),
    FIELD(C, "gidMappings", K_ARR, gid_mappings, COUNT(C, n_gid_mappings) SUB(id_map_table)),
    INLINE("timeOffsets", time_offsets_table),
    FIELD(C, "devices", K_ARR, devices, COUNT(C, n_devices) SUB(device_table)),
    FIELD(C, "cgroupsPath", K_STR, cgroups_path),
    FIELD(C, "resources", K_OBJ, resources, HAS(C, has_resources) SUB(resources_table)),
    FIELD(C, "rootfsPropagation", K_STR, rootfs_propagation,
          ONEOF("propagation", "shared", "slave", "private", "rshared", "rslave", "rprivate", "unbindable",
                "runbindable")),
    FIELD(C, "maskedPaths", K_STRV, masked_paths),
    FIELD(C, "readonlyPaths", K_STRV, readonly_paths),
    FIELD(C, "mountLabel", K_STR, mount_label),
    FIELD(C, "sysctl", K_MAP, sysctl, COUNT(C, n_sysctl)),
    FIELD(C, "seccomp", K_PTR, seccomp, SUB(seccomp_table)),
    INLINE("personality", personality_table),
    {0},
};
static const struct table linux_table = {linux_fields, 0, NULL, NULL};

static const struct field root_fields[] = {
    FIELD(C, "path", K_STR, root_path, REQ),
    FIELD(C, "readonly", K_BOOL, root_readonly),
    {0},
};
static const struct table root_table = {root_fields, 0, NULL, NULL};

static const struct field config_fields[] = {
    /* First: a document of another version is better refused than misread. */
    FIELD(C, "ociVersion", K_STR, oci_version, REQ CHECK(check_oci_version)),
    INLINE("root", root_table, REQ),
    FIELD(C, "hostname", K_STR, hostname),
    FIELD(C, "domainname", K_STR, domainname),
    FIELD(C, "process", K_OBJ, process, HAS(C, has_process) SUB(process_table)),
    FIELD(C, "mounts", K_ARR, mounts, COUNT(C, n_mounts) SUB(mount_table)),
    FIELD(C, "hooks", K_OBJ, hooks, SUB(hooks_table)),
    FIELD(C, "annotations", K_MAP, annotations, COUNT(C, n_annotations)),
    INLINE("linux", linux_table),
    {0},
};
#undef C
static const struct table config_table = {config_fields, sizeof(struct oci_config), NULL, NULL};

/* ---- public ---- */

int oci_config_parse(const char *text, size_t len, struct oci_config **ret, struct vsl_error **err)
{
	const struct jpath root = {.key = "config.json", .doc = true};
	_cleanup_json_ json_t *j = NULL;
	int r = load_json(text, len, &root, &j, err);
	if (r < 0)
		return r;

	_cleanup_config_ struct oci_config *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return fail_oom(err, &root);
	r = parse_table(&config_table, j, c, &root, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

int oci_config_load(int dirfd, const char *name, struct oci_config **ret, struct vsl_error **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_file_at(dirfd, name, CONFIG_MAX_SIZE, &buf, &len, err);
	if (r < 0)
		return r;
	return oci_config_parse(buf, len, ret, err);
}

void oci_config_free(struct oci_config *c)
{
	if (c == NULL)
		return;
	table_free(&config_table, c);
	free(c);
}

int oci_process_parse(const char *text, size_t len, struct oci_process *ret, struct vsl_error **err)
{
	const struct jpath root = {.key = "process"};
	memset(ret, 0, sizeof(*ret));
	_cleanup_json_ json_t *j = NULL;
	int r = load_json(text, len, &root, &j, err);
	if (r < 0)
		return r;
	r = parse_table(&process_table, j, ret, &root, err);
	if (r < 0)
		oci_process_clear(ret);
	return r;
}

void oci_process_clear(struct oci_process *p)
{
	if (p == NULL)
		return;
	table_free(&process_table, p);
	memset(p, 0, sizeof(*p));
}

int oci_resources_parse(const char *text, size_t len, struct oci_resources *ret, struct vsl_error **err)
{
	const struct jpath root = {.key = "resources"};
	memset(ret, 0, sizeof(*ret));
	_cleanup_json_ json_t *j = NULL;
	int r = load_json(text, len, &root, &j, err);
	if (r < 0)
		return r;
	r = parse_table(&resources_table, j, ret, &root, err);
	if (r < 0)
		oci_resources_clear(ret);
	return r;
}

void oci_resources_clear(struct oci_resources *r)
{
	if (r == NULL)
		return;
	table_free(&resources_table, r);
	memset(r, 0, sizeof(*r));
}

const char *ns_type_name(enum ns_type t)
{
	return (unsigned)t < NS_COUNT ? ns_names[t] : NULL;
}

int ns_type_clone_flag(enum ns_type t)
{
	static const int flags[NS_COUNT] = {
	    [NS_USER] = CLONE_NEWUSER,     [NS_MOUNT] = CLONE_NEWNS,  [NS_PID] = CLONE_NEWPID,
	    [NS_NETWORK] = CLONE_NEWNET,   [NS_IPC] = CLONE_NEWIPC,   [NS_UTS] = CLONE_NEWUTS,
	    [NS_CGROUP] = CLONE_NEWCGROUP, [NS_TIME] = CLONE_NEWTIME,
	};
	return (unsigned)t < NS_COUNT ? flags[t] : 0;
}

const char *ns_type_proc_name(enum ns_type t)
{
	static const char *const names[NS_COUNT] = {
	    [NS_USER] = "user", [NS_MOUNT] = "mnt", [NS_PID] = "pid",       [NS_NETWORK] = "net",
	    [NS_IPC] = "ipc",   [NS_UTS] = "uts",   [NS_CGROUP] = "cgroup", [NS_TIME] = "time",
	};
	return (unsigned)t < NS_COUNT ? names[t] : NULL;
}

const char *hook_kind_name(enum hook_kind k)
{
	static const char *const names[HOOK_KIND_COUNT] = {
	    [HOOK_PRESTART] = "prestart",
	    [HOOK_CREATE_RUNTIME] = "createRuntime",
	    [HOOK_CREATE_CONTAINER] = "createContainer",
	    [HOOK_START_CONTAINER] = "startContainer",
	    [HOOK_POSTSTART] = "poststart",
	    [HOOK_POSTSTOP] = "poststop",
	};
	return (unsigned)k < HOOK_KIND_COUNT ? names[k] : NULL;
}

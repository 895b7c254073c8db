/* The engine behind util/json-table.h: parse, free and dump by table. */
#include "util/json-table.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"

/* ---- where we are in the document, for messages ---- */

static const struct jpath *path_top(const struct jpath *p)
{
	while (p != NULL && p->up != NULL)
		p = p->up;
	return p;
}

/* "config.json", or the root of a standalone part ("process"), for messages
 * that have no field to name. */
static const char *doc_name(const struct jpath *p)
{
	const struct jpath *top = path_top(p);
	return top != NULL && top->key != NULL ? top->key : "document";
}

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
int json_table_fail(struct vsl_error **err, const struct jpath *p, const char *fmt, ...)
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
		return json_table_fail_oom(err, p);
	const struct jpath *top = path_top(p);
	if (top != NULL && top->doc)
		fprintf(f, "%s: ", top->key);
	if (path_write(f, p))
		fputs(": ", f);
	if (fclose(f) != 0)
		return json_table_fail_oom(err, p);
	return vsl_error_set(err, "%s%s", where, msg ? msg : "out of memory");
}

int json_table_fail_oom(struct vsl_error **err, const struct jpath *p)
{
	return vsl_error_errno(err, ENOMEM, "parse %s", doc_name(p));
}

/* ---- integers beyond long long ----
 *
 * jansson stores integers as long long and refuses larger literals, yet
 * config.json legitimately carries uint64 values above INT64_MAX (RLIM_INFINITY
 * as an rlimit, 64-bit seccomp argument masks), and a hostile manifest's size
 * beyond int64 should be named like any other bad field. Such literals are rewritten into
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

bool json_table_is_string(const json_t *v)
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

int json_table_load(const char *text, size_t len, const struct jpath *root, json_t **ret,
                    struct vsl_error **err)
{
	_cleanup_free_ char *fixed = NULL;
	size_t fixed_len = 0;
	if (rewrite_big_integers(text, len, &fixed, &fixed_len) < 0)
		return json_table_fail_oom(err, root);

	json_error_t je;
	json_t *j = fixed ? json_loadb(fixed, fixed_len, JSON_ALLOW_NUL, &je) : json_loadb(text, len, 0, &je);
	if (j == NULL)
		return json_table_fail(err, root, "invalid JSON at line %d, column %d: %s", je.line,
		                       je.column, je.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return json_table_fail(err, root, "expected an object");
	}
	*ret = j;
	return 0;
}

/* ---- the field tables ---- */

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
int json_table_take_int(json_t *v, enum json_kind kind, const struct jpath *p, uint64_t *ret,
                        struct vsl_error **err)
{
	const char *big = big_integer(v);
	if (json_is_integer(v)) {
		long long i = json_integer_value(v);
		if ((i < 0 && i < int_kinds[kind].min) || (i >= 0 && (uint64_t)i > int_kinds[kind].max))
			return json_table_fail(err, p, "%lld is out of range (expected %s)", i,
			                       int_kinds[kind].what);
		*ret = (uint64_t)i;
		return 0;
	}
	if (big != NULL) {
		/* Always above INT64_MAX; maybe above UINT64_MAX too. */
		errno = 0;
		unsigned long long u = strtoull(big, NULL, 10);
		if (errno == ERANGE || int_kinds[kind].max != UINT64_MAX)
			return json_table_fail(err, p, "%s is out of range (expected %s)", big,
			                       int_kinds[kind].what);
		*ret = u;
		return 0;
	}
	return json_table_fail(err, p, "expected %s", int_kinds[kind].what);
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

static int parse_strv(json_t *v, char ***ret, const struct jpath *p, struct vsl_error **err)
{
	if (!json_is_array(v))
		return json_table_fail(err, p, "expected an array of strings");
	size_t n = json_array_size(v);
	for (size_t i = 0; i < n; i++)
		if (!json_table_is_string(json_array_get(v, i)))
			return json_table_fail(err, p, "expected an array of strings");
	char **l = calloc(n + 1, sizeof(char *));
	if (l == NULL)
		return json_table_fail_oom(err, p);
	*ret = l;
	for (size_t i = 0; i < n; i++)
		if ((l[i] = strdup(json_string_value(json_array_get(v, i)))) == NULL)
			return json_table_fail_oom(err, p);
	return 0;
}

static int parse_field(const struct json_field *f, json_t *v, void *obj, const struct jpath *p,
                       struct vsl_error **err)
{
	void *dst = JT_AT(obj, f->off, void);
	uint64_t u = 0;
	int r;

	switch (f->kind) {
	case K_STR:
		if (!json_table_is_string(v))
			return json_table_fail(err, p, "expected a string");
		if (f->oneof != NULL) {
			size_t i = 0;
			while (f->oneof[i] && strcmp(f->oneof[i], json_string_value(v)) != 0)
				i++;
			if (f->oneof[i] == NULL) {
				_cleanup_free_ char *list = join_list(f->oneof);
				return json_table_fail(err, p, "unknown %s '%s' (expected one of %s)",
				                       f->noun, json_string_value(v), list ? list : "...");
			}
		}
		if ((*(char **)dst = strdup(json_string_value(v))) == NULL)
			return json_table_fail_oom(err, p);
		break;
	case K_BOOL:
		if (!json_is_boolean(v))
			return json_table_fail(err, p, "expected a boolean");
		*(bool *)dst = json_is_true(v);
		break;
	case K_CHAR: {
		if (!json_table_is_string(v))
			return json_table_fail(err, p, "expected a string");
		const char *s = json_string_value(v);
		if (strlen(s) != 1 || strchr(f->chars, s[0]) == NULL)
			return json_table_fail(err, p, "unknown %s '%s' (expected one of '%s')", f->noun, s,
			                       f->chars);
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
		if ((r = json_table_take_int(v, f->kind, p, &u, err)) < 0)
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
			return json_table_fail(err, p, "expected an array of unsigned 32-bit integers");
		size_t n = json_array_size(v);
		if (n == 0)
			break;
		uint32_t *a = calloc(n, sizeof(uint32_t));
		if (a == NULL)
			return json_table_fail_oom(err, p);
		*(uint32_t **)dst = a;
		*JT_AT(obj, f->count, size_t) = n;
		for (size_t i = 0; i < n; i++) {
			struct jpath ep = {.up = p, .index = i};
			if ((r = json_table_take_int(json_array_get(v, i), K_U32, &ep, &u, err)) < 0)
				return r;
			a[i] = (uint32_t)u;
		}
		break;
	}
	case K_OBJ:
		if (!json_is_object(v))
			return json_table_fail(err, p, "expected an object");
		if ((r = json_table_parse(f->sub, v, dst, p, err)) < 0)
			return r;
		break;
	case K_PTR: {
		if (!json_is_object(v))
			return json_table_fail(err, p, "expected an object");
		void *sub = calloc(1, f->sub->size);
		if (sub == NULL)
			return json_table_fail_oom(err, p);
		if (f->sub->init)
			f->sub->init(sub);
		*(void **)dst = sub;
		if ((r = json_table_parse(f->sub, v, sub, p, err)) < 0)
			return r;
		break;
	}
	case K_ARR: {
		if (!json_is_array(v))
			return json_table_fail(err, p, "expected an array");
		size_t n = json_array_size(v);
		if (n == 0)
			break;
		char *a = calloc(n, f->sub->size);
		if (a == NULL)
			return json_table_fail_oom(err, p);
		*(void **)dst = a;
		*JT_AT(obj, f->count, size_t) = n;
		for (size_t i = 0; i < n; i++)
			if (f->sub->init)
				f->sub->init(a + i * f->sub->size);
		for (size_t i = 0; i < n; i++) {
			struct jpath ep = {.up = p, .index = i};
			json_t *e = json_array_get(v, i);
			if (!json_is_object(e))
				return json_table_fail(err, &ep, "expected an object");
			if ((r = json_table_parse(f->sub, e, a + i * f->sub->size, &ep, err)) < 0)
				return r;
		}
		break;
	}
	case K_MAP: {
		if (!json_is_object(v))
			return json_table_fail(err, p, "expected an object of strings");
		size_t n = json_object_size(v);
		if (n == 0)
			break;
		struct json_kv *kv = calloc(n, sizeof(*kv));
		if (kv == NULL)
			return json_table_fail_oom(err, p);
		*(struct json_kv **)dst = kv;
		*JT_AT(obj, f->count, size_t) = n;
		const char *key;
		json_t *val;
		size_t i = 0;
		json_object_foreach(v, key, val)
		{
			struct jpath kp = {.up = p, .key = key};
			if (!json_table_is_string(val))
				return json_table_fail(err, &kp, "expected a string");
			kv[i].key = strdup(key);
			kv[i].value = strdup(json_string_value(val));
			if (kv[i].key == NULL || kv[i].value == NULL)
				return json_table_fail_oom(err, p);
			i++;
		}
		break;
	}
	case K_KEYS: {
		/* Docker's Go types make these map[string]struct{}: the values
		 * carry nothing, but must be objects. */
		if (!json_is_object(v))
			return json_table_fail(err, p, "expected an object");
		const char *key;
		json_t *val;
		json_object_foreach(v, key, val)
		{
			struct jpath kp = {.up = p, .key = key};
			if (!json_is_object(val) && !json_is_null(val))
				return json_table_fail(err, &kp, "expected an object");
		}
		char **l = calloc(json_object_size(v) + 1, sizeof(char *));
		if (l == NULL)
			return json_table_fail_oom(err, p);
		*(char ***)dst = l;
		size_t i = 0;
		json_object_foreach(v, key, val)
		{
			if ((l[i++] = strdup(key)) == NULL)
				return json_table_fail_oom(err, p);
		}
		break;
	}
	case K_FN:
		if ((r = f->parse(v, obj, f, p, err)) < 0)
			return r;
		break;
	}

	if (f->has)
		*JT_AT(obj, f->has - 1, bool) = true;
	if (f->check)
		return f->check(obj, f, p, err);
	return 0;
}

int json_table_parse(const struct json_table *t, json_t *j, void *obj, const struct jpath *p,
                     struct vsl_error **err)
{
	for (const struct json_field *f = t->fields; f->name; f++) {
		struct jpath fp = {.up = p, .key = f->name};
		json_t *v = json_object_get(j, f->name);
		/* null is absence, as for Go's encoding/json that writes most configs. */
		if (v == NULL || json_is_null(v)) {
			if (f->required)
				return json_table_fail(err, &fp, "required field missing");
			continue;
		}
		int r = parse_field(f, v, obj, &fp, err);
		if (r < 0)
			return r;
	}
	return t->check ? t->check(obj, p, err) : 0;
}

void json_table_free(const struct json_table *t, void *obj)
{
	for (const struct json_field *f = t->fields; f->name; f++) {
		void *dst = JT_AT(obj, f->off, void);
		switch (f->kind) {
		case K_STR:
		case K_U32V:
			free(*(void **)dst);
			break;
		case K_STRV:
		case K_KEYS:
			strv_free(*(char ***)dst);
			break;
		case K_OBJ:
			json_table_free(f->sub, dst);
			break;
		case K_PTR:
			if (*(void **)dst) {
				json_table_free(f->sub, *(void **)dst);
				free(*(void **)dst);
			}
			break;
		case K_ARR: {
			char *a = *(char **)dst;
			size_t n = *JT_AT(obj, f->count, size_t);
			for (size_t i = 0; a && i < n; i++)
				json_table_free(f->sub, a + i * f->sub->size);
			free(a);
			break;
		}
		case K_MAP: {
			struct json_kv *kv = *(struct json_kv **)dst;
			size_t n = *JT_AT(obj, f->count, size_t);
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

/* ---- writing back ---- */

static int dump_table(const struct json_table *t, const void *obj, json_t *out);

static json_t *dump_strv(char *const *l)
{
	json_t *a = json_array();
	for (size_t i = 0; a && l[i]; i++)
		if (json_array_append_new(a, json_string(l[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Sets *ret to the JSON of one field, or NULL when it is left out. */
static int dump_field(const struct json_field *f, const void *obj, json_t **ret)
{
	const void *src = JT_AT(obj, f->off, const void);
	bool has = f->has ? *JT_AT(obj, f->has - 1, const bool) : false;
	bool want = f->has ? has : f->required; /* for zero values */
	json_t *v = NULL;

	*ret = NULL;
	switch (f->kind) {
	case K_STR: {
		const char *s = *(char *const *)src;
		if (s == NULL)
			return 0;
		if ((v = json_string(s)) == NULL)
			return -EINVAL;
		break;
	}
	case K_BOOL:
		if (!*(const bool *)src && !want)
			return 0;
		v = json_boolean(*(const bool *)src);
		break;
	case K_CHAR: {
		char c = *(const char *)src;
		if (c == '\0')
			return 0;
		v = json_stringn(&c, 1);
		break;
	}
	case K_STRV: {
		char *const *l = *(char **const *)src;
		if (l == NULL && !f->required)
			return 0;
		v = dump_strv(l ? l : (char *const[]){NULL});
		break;
	}
	case K_KEYS: {
		char *const *l = *(char **const *)src;
		if (l == NULL && !f->required)
			return 0;
		if ((v = json_object()) == NULL)
			return -ENOMEM;
		for (size_t i = 0; l && l[i]; i++)
			if (json_object_set_new(v, l[i], json_object()) < 0) {
				json_decref(v);
				return -EINVAL;
			}
		break;
	}
	case K_U16:
	case K_U32:
	case K_I32:
	case K_U64:
	case K_I64: {
		long long i;
		if (f->kind == K_U16)
			i = *(const uint16_t *)src;
		else if (f->kind == K_U32)
			i = *(const uint32_t *)src;
		else if (f->kind == K_I32)
			i = *(const int32_t *)src;
		else if (f->kind == K_I64)
			i = *(const int64_t *)src;
		else if (*(const uint64_t *)src > INT64_MAX)
			return -ERANGE; /* jansson has no integer for it */
		else
			i = (long long)*(const uint64_t *)src;
		if (i == 0 && !want)
			return 0;
		v = json_integer(i);
		break;
	}
	case K_U32V: {
		const uint32_t *a = *(uint32_t *const *)src;
		size_t n = *JT_AT(obj, f->count, const size_t);
		if (n == 0 && !f->required)
			return 0;
		v = json_array();
		for (size_t i = 0; v && i < n; i++)
			if (json_array_append_new(v, json_integer(a[i])) < 0) {
				json_decref(v);
				return -ENOMEM;
			}
		break;
	}
	case K_OBJ:
	case K_PTR: {
		if (f->kind == K_PTR && (src = *(void *const *)src) == NULL)
			return 0;
		if ((v = json_object()) == NULL)
			return -ENOMEM;
		int r = dump_table(f->sub, src, v);
		if (r < 0 || (f->kind == K_OBJ && json_object_size(v) == 0 && !want)) {
			json_decref(v);
			return r;
		}
		break;
	}
	case K_ARR: {
		const char *a = *(char *const *)src;
		size_t n = *JT_AT(obj, f->count, const size_t);
		if (n == 0 && !f->required)
			return 0;
		if ((v = json_array()) == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_object();
			int r = e ? dump_table(f->sub, a + i * f->sub->size, e) : -ENOMEM;
			if (r < 0 || json_array_append_new(v, e) < 0) {
				if (r < 0)
					json_decref(e);
				json_decref(v);
				return r < 0 ? r : -ENOMEM;
			}
		}
		break;
	}
	case K_MAP: {
		const struct json_kv *kv = *(struct json_kv *const *)src;
		size_t n = *JT_AT(obj, f->count, const size_t);
		if (n == 0 && !f->required)
			return 0;
		if ((v = json_object()) == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			if (json_object_set_new(v, kv[i].key, json_string(kv[i].value)) < 0) {
				json_decref(v);
				return -EINVAL;
			}
		break;
	}
	case K_FN:
		if (f->dump == NULL)
			return 0;
		return f->dump(obj, f, ret);
	}
	if (v == NULL)
		return -ENOMEM;
	*ret = v;
	return 0;
}

static int dump_table(const struct json_table *t, const void *obj, json_t *out)
{
	for (const struct json_field *f = t->fields; f->name; f++) {
		json_t *v = NULL;
		int r = dump_field(f, obj, &v);
		if (r < 0)
			return r;
		if (v != NULL && json_object_set_new(out, f->name, v) < 0)
			return -ENOMEM;
	}
	return 0;
}

json_t *json_table_dump(const struct json_table *t, const void *obj)
{
	json_t *j = json_object();
	if (j == NULL)
		return NULL;
	if (dump_table(t, obj, j) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* JSON documents mapped to C structs by tables of fields.
 *
 * Each JSON object of a document type (config.json, an image manifest, an
 * image config) is described once, by a table: per field its JSON name, the
 * kind of value, where it lands in the C struct, whether it is required, and
 * an optional check. One engine walks the tables to parse, the same tables
 * drive freeing (so a half-built struct left behind by an error is released
 * exactly like a complete one) and writing the struct back out as JSON.
 *
 *     #define T struct thing
 *     static const struct json_field thing_fields[] = {
 *         JT_FIELD(T, "name", K_STR, name, JT_REQ),
 *         JT_FIELD(T, "size", K_I64, size, JT_CHECK(check_size)),
 *         {0},
 *     };
 *     static const struct json_table thing_table = {thing_fields, sizeof(T), NULL, NULL};
 *
 *     const struct jpath root = {.key = "thing", .doc = true};
 *     json_t *j;
 *     if (json_table_load(text, len, &root, &j, err) < 0) ...
 *     r = json_table_parse(&thing_table, j, obj, &root, err);
 *     ...
 *     json_table_free(&thing_table, obj);
 *
 * Errors name the document and the field's path:
 * "config.json: process.args: expected an array of strings".
 * Unknown fields are ignored and null counts as absent, as for Go's
 * encoding/json, which writes most of the documents we read.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vsl_error;
typedef struct json_t json_t;

/* One entry of a JSON object of strings (annotations, labels, sysctls). */
struct json_kv {
	char *key;
	char *value;
};

/* Where we are in the document, for messages; lives on the stack of the walk. */
struct jpath {
	const struct jpath *up;
	const char *key; /* NULL: the array element `index` */
	size_t index;
	bool doc; /* key names the document ("config.json"), not a field */
};

enum json_kind {
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
	K_MAP,  /* an object of strings: struct json_kv * + size_t count */
	K_KEYS, /* an object of empty objects ({"80/tcp": {}}): char ** of its keys */
	K_FN,   /* parsed by .parse, released by .release, written by .dump */
};

struct json_field;
typedef int (*json_field_check_fn)(void *obj, const struct json_field *f, const struct jpath *p,
                                   struct vsl_error **err);

struct json_table {
	const struct json_field *fields; /* ends with a NULL name */
	size_t size;                     /* of one struct: K_PTR, K_ARR */
	void (*init)(void *obj);         /* defaults other than zero */
	/* After all fields: checks across fields. */
	int (*check)(void *obj, const struct jpath *p, struct vsl_error **err);
};

struct json_field {
	const char *name;
	enum json_kind kind;
	bool required;
	size_t off;
	size_t has;   /* offsetof(a bool set when the field is present) + 1; 0: none */
	size_t count; /* K_U32V, K_ARR, K_MAP: offsetof(the size_t count) */
	const struct json_table *sub;
	const char *const *oneof;  /* K_STR: the accepted values */
	const char *chars;         /* K_CHAR: the accepted letters */
	const char *noun;          /* for "unknown <noun> 'x'" */
	json_field_check_fn check; /* after the field is parsed */
	int (*parse)(json_t *v, void *obj, const struct json_field *f, const struct jpath *p,
	             struct vsl_error **err);
	void (*release)(void *obj, const struct json_field *f);
	/* K_FN: *ret = the value to write, or NULL to leave the field out; < 0: out of memory. */
	int (*dump)(const void *obj, const struct json_field *f, json_t **ret);
};

/* The table language. JT_FIELD's trailing options are the JT_ modifiers below,
 * written one after the other without commas: JT_REQ JT_CHECK(check_x). */
#define JT_FIELD(T, json, k, member, ...)                                                                    \
	{                                                                                                    \
		.name = (json), .kind = (k), __VA_ARGS__.off = offsetof(T, member)                           \
	}
/* A nested object whose fields live in the enclosing struct. */
#define JT_INLINE(json, table, ...)                                                                          \
	{                                                                                                    \
		.name = (json), .kind = K_OBJ, __VA_ARGS__.sub = &(table)                                    \
	}
#define JT_REQ               .required = true,
#define JT_HAS(T, m)         .has = offsetof(T, m) + 1,
#define JT_COUNT(T, m)       .count = offsetof(T, m),
#define JT_SUB(t)            .sub = &(t),
#define JT_CHECK(fn)         .check = (fn),
#define JT_ONEOF(noun_, ...) .noun = (noun_), .oneof = (const char *const[]){__VA_ARGS__, NULL},

/* The member of obj at byte offset off (from a field's .off, .count, .has - 1). */
#define JT_AT(obj, off, type) ((type *)((char *)(obj) + (off)))

/* Parses text into a JSON object (anything else is an error at root).
 * Integer literals beyond int64 are kept for the K_U64 readers, which
 * jansson alone would refuse. */
int json_table_load(const char *text, size_t len, const struct jpath *root, json_t **ret,
                    struct vsl_error **err);
/* Fills obj (zeroed or initialised by the caller) from the JSON object j.
 * On failure obj may be half-filled: release it with json_table_free(). */
int json_table_parse(const struct json_table *t, json_t *j, void *obj, const struct jpath *p,
                     struct vsl_error **err);
void json_table_free(const struct json_table *t, void *obj);
/* The JSON object for obj: zero values (NULL, false, 0, empty arrays) are left
 * out unless the field is required; fields with a JT_HAS flag are written when
 * it is set. NULL when out of memory, a string is not UTF-8 or a K_U64
 * exceeds INT64_MAX. */
json_t *json_table_dump(const struct json_table *t, const void *obj);

/* For checks and K_FN parsers. Messages read "<doc>: <path>: <message>". */
int json_table_fail(struct vsl_error **err, const struct jpath *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int json_table_fail_oom(struct vsl_error **err, const struct jpath *p);
/* Reads an integer of an integer kind (K_U16 ... K_I64) as its two's-complement bits. */
int json_table_take_int(json_t *v, enum json_kind kind, const struct jpath *p, uint64_t *ret,
                        struct vsl_error **err);
/* A JSON string, and not one of the integers json_table_load() kept. */
bool json_table_is_string(const json_t *v);

/* Shared by the files that turn `run`/`create` flags into the create body:
 * run-flags.c (the body, env, labels, host config), run-flags-mounts.c (-v,
 * --mount, --device) and run-flags-ports.c (-p, --expose). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "util/cleanup.h"

struct vsl_error;

#define _cleanup_json_ _cleanup_(json_decrefp)

/* The body being built. The put helpers note a failure here instead of
 * returning one, so that building reads as a list; it is checked once at the end. */
struct body {
	bool nomem;
	const char *bad_utf8; /* a value jansson refused */
};

static inline json_t *jstr(struct body *b, const char *s)
{
	json_t *v = json_string(s);
	if (v == NULL && b->bad_utf8 == NULL)
		b->bad_utf8 = s;
	return v;
}

static inline void put(struct body *b, json_t *obj, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(obj, key, v) < 0)
		b->nomem = true;
}

static inline void append(struct body *b, json_t *arr, json_t *v)
{
	if (v == NULL || json_array_append_new(arr, v) < 0)
		b->nomem = true;
}

/* The string member key of the object m, or "" when it has none. */
static inline const char *member_str(json_t *m, const char *key)
{
	const char *s = json_string_value(json_object_get(m, key));
	return s ? s : "";
}

/* "KEY=VALUE" (or "KEY", an empty value) into map. */
void run_flags_set_kv(struct body *b, json_t *map, const char *kv);

/* pflag's wording for a value its flag refuses: `invalid argument "x" for
 * "-m, --memory" flag: <why>`. Prefixes the error already in *err. */
int run_flags_error(struct vsl_error **err, const char *flag, const char *value);
/* Go's path.Clean, and filepath.Abs (relative to the working directory, cleaned). */
char *run_flags_clean_path(const char *path);
char *run_flags_abs_path(const char *path);
bool run_flags_valid_ip(const char *s);

/* run-flags-mounts.c */
int run_flags_add_volume(struct body *b, const char *spec, json_t *binds, json_t *volumes,
                         struct vsl_error **err);
int run_flags_add_mount(struct body *b, const char *spec, json_t *mounts, struct vsl_error **err);
int run_flags_add_device(struct body *b, const char *spec, json_t *devices, struct vsl_error **err);

/* run-flags-ports.c */
int run_flags_add_publish(struct body *b, const char *raw, json_t *exposed, json_t *bindings,
                          struct vsl_error **err);
int run_flags_add_expose(struct body *b, const char *raw, json_t *exposed, struct vsl_error **err);

/* NULL-terminated arrays of malloc'd strings (freed with strv_free() from
 * util/cleanup.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

size_t strv_length(char *const *v);
/* Appends a copy of s; -ENOMEM leaves *v as it was. */
int strv_append(char ***v, const char *s);
/* As strv_append(), at the front. */
int strv_prepend(char ***v, const char *s);
bool strv_contains(char *const *v, const char *s);
/* A copy of v (an empty list for NULL); NULL when out of memory. */
char **strv_copy(char *const *v);

#include "util/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

size_t strv_length(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

int strv_append(char ***v, const char *s)
{
	char *copy = strdup(s);
	if (copy == NULL)
		return -ENOMEM;
	size_t n = strv_length(*v);
	char **grown = realloc(*v, (n + 2) * sizeof(char *));
	if (grown == NULL) {
		free(copy);
		return -ENOMEM;
	}
	grown[n] = copy;
	grown[n + 1] = NULL;
	*v = grown;
	return 0;
}

int strv_prepend(char ***v, const char *s)
{
	int r = strv_append(v, s);
	if (r < 0)
		return r;
	size_t n = strv_length(*v);
	char *first = (*v)[n - 1];
	memmove(*v + 1, *v, (n - 1) * sizeof(char *));
	(*v)[0] = first;
	return 0;
}

bool strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

char **strv_copy(char *const *v)
{
	size_t n = strv_length(v);
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

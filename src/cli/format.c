#include "cli/format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/strv.h"

struct table {
	char *template; /* with Go's escapes turned into characters */
	bool header;
	char *header_line;
	char **lines;
};

/* "\t" and "\n" as two characters in a --format argument mean the characters. */
static char *unescape(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	if (out == NULL)
		return NULL;
	for (; *s; s++) {
		if (s[0] == '\\' && (s[1] == 't' || s[1] == 'n')) {
			*o++ = s[1] == 't' ? '\t' : '\n';
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

int table_new(const char *format, const char *columns, const char *headers, struct table **ret,
              struct vsl_error **err)
{
	struct table *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return vsl_error_errno(err, ENOMEM, "format");
	const char *tmpl = columns;
	t->header = true;
	if (format && *format && strcmp(format, "table") != 0) {
		if (strncmp(format, "table ", 6) == 0) {
			tmpl = format + 6;
			/* Custom table: the header is the template's field names in capitals. */
		} else {
			tmpl = format;
			t->header = false;
		}
	}
	t->template = unescape(tmpl);
	if (t->header) {
		if (tmpl == columns) {
			t->header_line = strdup(headers);
		} else {
			/* {{.Repository}} -> REPOSITORY, as Docker derives it. */
			size_t n = strlen(t->template);
			t->header_line = calloc(1, n + 1);
			char *o = t->header_line;
			for (const char *p = t->template; o && *p;) {
				if (strncmp(p, "{{", 2) == 0) {
					const char *end = strstr(p, "}}");
					if (end == NULL)
						break;
					const char *dot = memchr(p, '.', (size_t)(end - p));
					for (const char *c = dot ? dot + 1 : end; c < end && *c != ' '; c++)
						*o++ = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
					p = end + 2;
				} else {
					*o++ = *p++;
				}
			}
		}
	}
	if (t->template == NULL || (t->header && t->header_line == NULL)) {
		table_print_free(t);
		return vsl_error_errno(err, ENOMEM, "format");
	}
	*ret = t;
	return 0;
}

int table_row(struct table *t, format_lookup_fn lookup, void *row, struct vsl_error **err)
{
	_cleanup_free_ char *line = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&line, &size);
	if (f == NULL)
		return vsl_error_errno(err, ENOMEM, "format");
	int r = 0;
	for (const char *p = t->template; *p;) {
		if (strncmp(p, "{{", 2) != 0) {
			fputc(*p++, f);
			continue;
		}
		const char *end = strstr(p, "}}");
		if (end == NULL) {
			r = vsl_error_set(err, "template: unclosed action in '%s'", t->template);
			break;
		}
		_cleanup_free_ char *action = strndup(p + 2, (size_t)(end - p - 2));
		p = end + 2;
		if (action == NULL) {
			r = vsl_error_errno(err, ENOMEM, "format");
			break;
		}
		char *a = action;
		while (*a == ' ')
			a++;
		char *e = a + strlen(a);
		while (e > a && e[-1] == ' ')
			*--e = '\0';
		bool json = strncmp(a, "json ", 5) == 0;
		if (json)
			for (a += 5; *a == ' '; a++)
				;
		if (a[0] != '.') {
			r = vsl_error_set(err, "template: unsupported action '{{%s}}'", action);
			break;
		}
		const char *field = a[1] ? a + 1 : ".";
		const char *v = lookup(row, field);
		if (v == NULL) {
			r = vsl_error_set(err, "template: can't evaluate field %s", field);
			break;
		}
		if (json && strcmp(field, ".") != 0) {
			fputc('"', f);
			for (const char *c = v; *c; c++) {
				if (*c == '"' || *c == '\\')
					fputc('\\', f);
				fputc(*c, f);
			}
			fputc('"', f);
		} else {
			fputs(v, f);
		}
	}
	if (fclose(f) != 0 && r >= 0)
		r = vsl_error_errno(err, ENOMEM, "format");
	if (r < 0)
		return r;
	if (strv_append(&t->lines, line) < 0)
		return vsl_error_errno(err, ENOMEM, "format");
	return 0;
}

/* Go's tabwriter as Docker uses it: cells end at \t, columns padded to the
 * widest cell plus 3 spaces; the last cell of a line is not padded. */
static void print_aligned(char **lines)
{
	size_t widths[64] = {0};
	for (char **l = lines; *l; l++) {
		size_t col = 0, w = 0;
		for (const char *c = *l; *c; c++) {
			if (*c == '\t') {
				if (col < 64 && w > widths[col])
					widths[col] = w;
				col++, w = 0;
			} else if (*c == '\n') {
				col = 0, w = 0;
			} else if (((unsigned char)*c & 0xc0) != 0x80) {
				w++;
			}
		}
	}
	for (char **l = lines; *l; l++) {
		size_t col = 0, w = 0;
		for (const char *c = *l; *c; c++) {
			if (*c == '\t') {
				size_t pad = (col < 64 ? widths[col] : w) + 3 - w;
				for (size_t i = 0; i < pad; i++)
					putchar(' ');
				col++, w = 0;
			} else {
				putchar(*c);
				if (*c == '\n')
					col = 0, w = 0;
				else if (((unsigned char)*c & 0xc0) != 0x80)
					w++;
			}
		}
		putchar('\n');
	}
}

void table_print_free(struct table *t)
{
	if (t == NULL)
		return;
	if (t->header && t->header_line) {
		size_t n = strv_length(t->lines);
		char **all = calloc(n + 2, sizeof(char *));
		if (all) {
			all[0] = t->header_line;
			for (size_t i = 0; i < n; i++)
				all[i + 1] = t->lines[i];
			print_aligned(all);
			free(all);
		}
	} else {
		for (char **l = t->lines; l && *l; l++)
			printf("%s\n", *l);
	}
	strv_free(t->lines);
	free(t->header_line);
	free(t->template);
	free(t);
}

void format_size(char *buf, size_t size, uint64_t bytes)
{
	static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double v = (double)bytes;
	unsigned u = 0;
	while (v >= 1000.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000.0;
		u++;
	}
	/* As `docker images`: 3 significant digits, trailing zeros dropped. */
	snprintf(buf, size, "%.3g%s", v, units[u]);
}

void format_duration(char *buf, size_t size, time_t s)
{
	if (s < 1)
		snprintf(buf, size, "Less than a second");
	else if (s == 1)
		snprintf(buf, size, "1 second");
	else if (s < 60)
		snprintf(buf, size, "%lld seconds", (long long)s);
	else if (s / 60 == 1)
		snprintf(buf, size, "About a minute");
	else if (s < 3600)
		snprintf(buf, size, "%lld minutes", (long long)(s / 60));
	else if ((s + 1800) / 3600 == 1)
		snprintf(buf, size, "About an hour");
	else if (s < 48 * 3600)
		snprintf(buf, size, "%lld hours", (long long)((s + 1800) / 3600));
	else if (s < 7 * 24 * 3600 * 2)
		snprintf(buf, size, "%lld days", (long long)(s / (24 * 3600)));
	else if (s < 30 * 24 * 3600 * 3)
		snprintf(buf, size, "%lld weeks", (long long)(s / (7 * 24 * 3600)));
	else if (s < 365 * 24 * 3600 * 2)
		snprintf(buf, size, "%lld months", (long long)(s / (30 * 24 * 3600)));
	else
		snprintf(buf, size, "%lld years", (long long)(s / (365 * 24 * 3600)));
}

void format_since(char *buf, size_t size, time_t when, time_t now)
{
	char d[48];
	format_duration(d, sizeof(d), now - when);
	snprintf(buf, size, "%s ago", d);
}

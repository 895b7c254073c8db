/* Output of listing commands: Docker's columns, `--format` Go-template subset
 * ({{.Field}}, {{json .Field}}, {{json .}}, "table " prefix, \t and \n), and
 * human sizes and times ("77.8MB", "2 weeks ago").
 *
 *     struct table *t = table_new(opts->format, default_columns, default_headers);
 *     for each row: table_row(t, lookup, row);
 *     table_print(t);
 *
 * A row is described by a lookup function: field name -> value string. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct vsl_error;

/* Returns the field's value (borrowed, valid until the next call) or NULL when
 * the row has no such field. "." (the whole row) must return JSON. */
typedef const char *(*format_lookup_fn)(void *row, const char *field);

struct table;
/* format: NULL or "" or "table": the default columns; "table TEMPLATE"; a bare
 * TEMPLATE (no header, one line per row). columns: the default template, e.g.
 * "{{.Repository}}\t{{.Tag}}"; headers the matching titles ("REPOSITORY\tTAG"). */
int table_new(const char *format, const char *columns, const char *headers, struct table **ret,
              struct vsl_error **err);
int table_row(struct table *t, format_lookup_fn lookup, void *row, struct vsl_error **err);
/* Prints with columns aligned as Go's tabwriter (padding 3), then frees. */
void table_print_free(struct table *t);

/* "77.8MB" (decimal units as Docker prints) */
void format_size(char *buf, size_t size, uint64_t bytes);
/* "2 weeks ago", "About a minute ago", "Less than a second ago" */
void format_since(char *buf, size_t size, time_t when, time_t now);
/* Docker's duration words without "ago": "2 weeks", "About an hour" */
void format_duration(char *buf, size_t size, time_t seconds);

/* Go's text/template, the subset people type into `inspect --format`, run
 * over a JSON value (the inspect document):
 *
 *     {{.Id}}  {{.State.Status}}  {{.Config.Env}}  {{json .Config}}
 *     {{index .Config.Labels "k"}}  {{len .RepoTags}}  {{.Name | upper}}
 *     {{range .RepoTags}}{{.}} {{end}}  {{range $k, $v := .Config.Labels}}...{{end}}
 *     {{if .State.Running}}up{{else}}down{{end}}  {{with .State}}{{.Pid}}{{end}}
 *     {{- trim markers -}}, $ (the whole value), functions json, index, len,
 *     join, upper, lower, title, println, print
 *
 * Values print as Go prints the same JSON decoded into interface{}: arrays as
 * [a b], objects as map[k:v] with sorted keys, null and missing keys as
 * <no value>; integers as integers.
 *
 *     _cleanup_template_ struct template *t = NULL;
 *     template_parse("{{.Id}}", &t, &err);
 *     template_execute(t, json, &text, &err);     (once per document) */
#pragma once

#include <jansson.h>
#include <stdio.h>

struct vsl_error;
struct template;

/* A syntax error names what is wrong ("template: unclosed action"). */
int template_parse(const char *text, struct template **ret, struct vsl_error **err);
/* *ret_out: the text, malloc'd. An error names the failing action
 * ("template: can't evaluate field Foo in type string"). */
int template_execute(const struct template *t, json_t *data, char **ret_out, struct vsl_error **err);
void template_free(struct template *t);

/* `inspect`'s output of the documents found (a JSON array): indented JSON
 * without a format, else each document through the template, a line each,
 * as the docker CLI prints them. */
int template_print_inspect(json_t *docs, const char *format, FILE *out, struct vsl_error **err);

static inline void template_freep(struct template **t)
{
	template_free(*t);
}
#define _cleanup_template_ __attribute__((cleanup(template_freep)))

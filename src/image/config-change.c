/* The Dockerfile lines that `import --change` and `commit --change` take
 * (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL),
 * applied to an image's container config. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "image/images.h"
#include "image/manifest.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/strv.h"

/* Splits s into words at unquoted whitespace; quotes ("..." with backslash
 * escapes, '...') are removed, as the Dockerfile parser does for ENV and LABEL. */
static int split_words(const char *s, char ***ret, struct vsl_error **err)
{
	_cleanup_strv_ char **words = NULL;
	_cleanup_free_ char *w = malloc(strlen(s) + 1);
	if (w == NULL)
		return vsl_error_errno(err, ENOMEM, "parse change");
	while (*s) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		size_t n = 0;
		char quote = 0;
		for (; *s && (quote || !isspace((unsigned char)*s)); s++) {
			if (quote == 0 && (*s == '"' || *s == '\'')) {
				quote = *s;
			} else if (quote && *s == quote) {
				quote = 0;
			} else if (*s == '\\' && quote != '\'' && s[1]) {
				w[n++] = *++s;
			} else {
				w[n++] = *s;
			}
		}
		if (quote)
			return vsl_error_set_code(err, EINVAL, "unterminated quote");
		w[n] = '\0';
		if (strv_append(&words, w) < 0)
			return vsl_error_errno(err, ENOMEM, "parse change");
	}
	*ret = TAKE_PTR(words);
	return 0;
}

/* ["a", "b"] (JSON) or a shell command -> ["/bin/sh", "-c", command]. */
static int parse_command(const char *rest, bool shell_form_ok, char ***ret, struct vsl_error **err)
{
	_cleanup_strv_ char **argv = NULL;
	if (*rest == '[') {
		json_error_t jerr;
		json_t *a = json_loads(rest, 0, &jerr);
		bool ok = a && json_is_array(a);
		size_t i;
		json_t *v;
		json_array_foreach(a, i, v)
		{
			if (!json_is_string(v)) {
				ok = false;
				break;
			}
			if (strv_append(&argv, json_string_value(v)) < 0) {
				json_decref(a);
				return vsl_error_errno(err, ENOMEM, "parse change");
			}
		}
		json_decref(a);
		if (ok) {
			if (argv == NULL && (argv = calloc(1, sizeof(char *))) == NULL)
				return vsl_error_errno(err, ENOMEM, "parse change");
			*ret = TAKE_PTR(argv);
			return 0;
		}
		strv_free(TAKE_PTR(argv));
		/* Not a JSON array of strings: Docker takes it as a shell command. */
	}
	if (!shell_form_ok)
		return split_words(rest, ret, err);
	if (strv_append(&argv, "/bin/sh") < 0 || strv_append(&argv, "-c") < 0 || strv_append(&argv, rest) < 0)
		return vsl_error_errno(err, ENOMEM, "parse change");
	*ret = TAKE_PTR(argv);
	return 0;
}

/* KEY=VALUE words, or the legacy "KEY value with spaces" form. */
static int parse_pairs(const char *instr, const char *rest, char ***ret, struct vsl_error **err)
{
	_cleanup_strv_ char **words = NULL;
	int r = split_words(rest, &words, err);
	if (r < 0)
		return r;
	if (words == NULL)
		return vsl_error_set_code(err, EINVAL, "%s requires at least one argument", instr);
	if (strchr(words[0], '=') == NULL) {
		/* Legacy form: the first word is the key, the rest of the line the value. */
		const char *v = rest;
		while (isspace((unsigned char)*v))
			v++;
		v += strcspn(v, " \t");
		while (isspace((unsigned char)*v))
			v++;
		if (*v == '\0')
			return vsl_error_set_code(err, EINVAL, "%s %s: missing a value", instr, words[0]);
		_cleanup_strv_ char **one = NULL;
		_cleanup_free_ char *pair = NULL;
		if (asprintf(&pair, "%s=%s", words[0], v) < 0 || strv_append(&one, pair) < 0)
			return vsl_error_errno(err, ENOMEM, "parse change");
		*ret = TAKE_PTR(one);
		return 0;
	}
	for (char **w = words; *w; w++)
		if (strchr(*w, '=') == NULL || **w == '=')
			return vsl_error_set_code(err, EINVAL, "%s: '%s' is not KEY=VALUE", instr, *w);
	*ret = TAKE_PTR(words);
	return 0;
}

static int set_string(char **field, const char *value, struct vsl_error **err)
{
	char *copy = strdup(value);
	if (copy == NULL)
		return vsl_error_errno(err, ENOMEM, "parse change");
	free(*field);
	*field = copy;
	return 0;
}

/* Sets "KEY=value" in env, replacing the key's earlier value. */
static int env_set(char ***env, const char *pair, struct vsl_error **err)
{
	size_t klen = strcspn(pair, "=");
	for (char **e = *env; e && *e; e++)
		if (strncmp(*e, pair, klen) == 0 && (*e)[klen] == '=')
			return set_string(e, pair, err);
	return strv_append(env, pair) < 0 ? vsl_error_errno(err, ENOMEM, "parse change") : 0;
}

static int label_set(struct image_container_config *c, const char *pair, struct vsl_error **err)
{
	size_t klen = strcspn(pair, "=");
	for (size_t i = 0; i < c->n_labels; i++)
		if (strlen(c->labels[i].key) == klen && strncmp(c->labels[i].key, pair, klen) == 0)
			return set_string(&c->labels[i].value, pair + klen + 1, err);
	struct json_kv *grown = realloc(c->labels, (c->n_labels + 1) * sizeof(*grown));
	if (grown == NULL)
		return vsl_error_errno(err, ENOMEM, "parse change");
	c->labels = grown;
	char *k = strndup(pair, klen), *v = strdup(pair + klen + 1);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return vsl_error_errno(err, ENOMEM, "parse change");
	}
	c->labels[c->n_labels++] = (struct json_kv){.key = k, .value = v};
	return 0;
}

int images_config_apply_change(struct image_container_config *c, const char *line, struct vsl_error **err)
{
	while (isspace((unsigned char)*line))
		line++;
	size_t n = strcspn(line, " \t");
	_cleanup_free_ char *instr = strndup(line, n);
	if (instr == NULL)
		return vsl_error_errno(err, ENOMEM, "parse change");
	for (char *p = instr; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	const char *rest = line + n;
	while (isspace((unsigned char)*rest))
		rest++;
	_cleanup_free_ char *trimmed = strdup(rest);
	if (trimmed == NULL)
		return vsl_error_errno(err, ENOMEM, "parse change");
	for (size_t l = strlen(trimmed); l > 0 && isspace((unsigned char)trimmed[l - 1]); l--)
		trimmed[l - 1] = '\0';

	static const char *const known[] = {"CMD",  "ENTRYPOINT", "ENV",     "EXPOSE",    "LABEL",
	                                    "USER", "VOLUME",     "WORKDIR", "STOPSIGNAL"};
	bool ok = false;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		ok |= strcmp(instr, known[i]) == 0;
	if (!ok)
		return vsl_error_set_code(
		    err, EINVAL,
		    "%s is not a valid change command (use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, "
		    "USER, VOLUME, WORKDIR or STOPSIGNAL)",
		    *instr ? instr : "''");
	if (*trimmed == '\0' && strcmp(instr, "CMD") != 0 && strcmp(instr, "ENTRYPOINT") != 0)
		return vsl_error_set_code(err, EINVAL, "%s requires an argument", instr);

	int r = 0;
	if (strcmp(instr, "CMD") == 0 || strcmp(instr, "ENTRYPOINT") == 0) {
		char ***field = strcmp(instr, "CMD") == 0 ? &c->cmd : &c->entrypoint;
		_cleanup_strv_ char **argv = NULL;
		if (*trimmed && (r = parse_command(trimmed, true, &argv, err)) < 0)
			return r;
		if (argv == NULL && (argv = calloc(1, sizeof(char *))) == NULL)
			return vsl_error_errno(err, ENOMEM, "parse change");
		strv_free(*field);
		*field = TAKE_PTR(argv);
	} else if (strcmp(instr, "ENV") == 0 || strcmp(instr, "LABEL") == 0) {
		_cleanup_strv_ char **pairs = NULL;
		if ((r = parse_pairs(instr, trimmed, &pairs, err)) < 0)
			return r;
		for (char **p = pairs; r >= 0 && *p; p++)
			r = instr[0] == 'E' ? env_set(&c->env, *p, err) : label_set(c, *p, err);
	} else if (strcmp(instr, "EXPOSE") == 0) {
		_cleanup_strv_ char **ports = NULL;
		if ((r = split_words(trimmed, &ports, err)) < 0)
			return r;
		for (char **p = ports; p && *p; p++) {
			_cleanup_free_ char *port = NULL;
			if (asprintf(&port, strchr(*p, '/') ? "%s" : "%s/tcp", *p) < 0)
				return vsl_error_errno(err, ENOMEM, "parse change");
			unsigned long num = strtoul(port, NULL, 10);
			if (!isdigit((unsigned char)port[0]) || num == 0 || num > 65535)
				return vsl_error_set_code(err, EINVAL, "EXPOSE: invalid port '%s'", *p);
			if (!strv_contains(c->exposed_ports, port) &&
			    strv_append(&c->exposed_ports, port) < 0)
				return vsl_error_errno(err, ENOMEM, "parse change");
		}
	} else if (strcmp(instr, "VOLUME") == 0) {
		_cleanup_strv_ char **vols = NULL;
		if ((r = parse_command(trimmed, false, &vols, err)) < 0)
			return r;
		for (char **v = vols; v && *v; v++)
			if (!strv_contains(c->volumes, *v) && strv_append(&c->volumes, *v) < 0)
				return vsl_error_errno(err, ENOMEM, "parse change");
	} else if (strcmp(instr, "USER") == 0) {
		r = set_string(&c->user, trimmed, err);
	} else if (strcmp(instr, "WORKDIR") == 0) {
		r = set_string(&c->working_dir, trimmed, err);
	} else {
		r = set_string(&c->stop_signal, trimmed, err);
	}
	return r;
}

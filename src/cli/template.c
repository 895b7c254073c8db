/* Go text/template over jansson values: parse once into a tree of nodes,
 * then execute it per document. */
#include "cli/template.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/strv.h"

#define MAX_DEPTH 64

/* ---- the tree ---- */

enum expr_kind { E_FIELD, E_VAR, E_STRING, E_INT, E_BOOL, E_FUNC, E_PIPE };

struct pipe;

struct expr {
	enum expr_kind kind;
	char *name;        /* E_VAR: without '$' ("" for $); E_FUNC; E_STRING: the text */
	char **fields;     /* E_FIELD/E_VAR: the chain after it (".A.B": {"A","B"}) */
	json_int_t num;    /* E_INT, E_BOOL */
	struct pipe *pipe; /* E_PIPE */
};

struct command {
	struct expr *args;
	size_t n;
};

struct pipe {
	char *vars[2]; /* declared: "$x :=" or "$i, $e :=" (range) */
	size_t n_vars;
	struct command *cmds;
	size_t n_cmds;
};

enum node_kind { N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH };

struct node;
struct list {
	struct node *v;
	size_t n;
};

struct node {
	enum node_kind kind;
	char *text;
	struct pipe *pipe;
	struct list body, alt; /* alt: the {{else}} part */
};

struct template
{
	struct list root;
};

static void pipe_free(struct pipe *p);

static void expr_release(struct expr *e)
{
	free(e->name);
	strv_free(e->fields);
	pipe_free(e->pipe);
}

static void pipe_free(struct pipe *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_cmds; i++) {
		for (size_t j = 0; j < p->cmds[i].n; j++)
			expr_release(&p->cmds[i].args[j]);
		free(p->cmds[i].args);
	}
	free(p->cmds);
	free(p->vars[0]);
	free(p->vars[1]);
	free(p);
}

static void list_release(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].text);
		pipe_free(l->v[i].pipe);
		list_release(&l->v[i].body);
		list_release(&l->v[i].alt);
	}
	free(l->v);
}

void template_free(struct template *t)
{
	if (t == NULL)
		return;
	list_release(&t->root);
	free(t);
}

/* ---- parsing an action ---- */

struct lexer {
	const char *p;
	struct vsl_error **err;
};

static void skip_space(struct lexer *lx)
{
	while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r')
		lx->p++;
}

static bool is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* ".A.B" after the first character: the chain of field names. */
static int parse_chain(struct lexer *lx, char ***ret)
{
	_cleanup_strv_ char **fields = calloc(1, sizeof(char *));
	if (fields == NULL)
		return vsl_error_errno(lx->err, ENOMEM, "template");
	while (*lx->p == '.' && is_ident(lx->p[1])) {
		const char *s = ++lx->p;
		while (is_ident(*lx->p))
			lx->p++;
		_cleanup_free_ char *f = strndup(s, (size_t)(lx->p - s));
		if (f == NULL || strv_append(&fields, f) < 0)
			return vsl_error_errno(lx->err, ENOMEM, "template");
	}
	*ret = TAKE_PTR(fields);
	return 0;
}

static int parse_string(struct lexer *lx, char **ret)
{
	char quote = *lx->p++;
	_cleanup_free_ char *out = malloc(strlen(lx->p) + 1);
	if (out == NULL)
		return vsl_error_errno(lx->err, ENOMEM, "template");
	char *o = out;
	for (;;) {
		char c = *lx->p++;
		if (c == '\0' || (quote == '"' && c == '\n'))
			return vsl_error_set_code(lx->err, EINVAL, "template: unterminated quoted string");
		if (c == quote)
			break;
		if (quote == '"' && c == '\\') {
			c = *lx->p++;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case '\\':
			case '"':
				break;
			default:
				return vsl_error_set_code(lx->err, EINVAL,
				                          "template: unknown escape sequence '\\%c'", c);
			}
		}
		*o++ = c;
	}
	*o = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

static int parse_pipe(struct lexer *lx, bool in_parens, bool allow_decl, struct pipe **ret);

static int parse_operand(struct lexer *lx, struct expr *e)
{
	const char *p = lx->p;
	if (*p == '.') {
		e->kind = E_FIELD;
		if (!is_ident(p[1]))
			lx->p++; /* "." alone */
		return parse_chain(lx, &e->fields);
	}
	if (*p == '$') {
		const char *s = ++lx->p;
		while (is_ident(*lx->p))
			lx->p++;
		e->kind = E_VAR;
		if ((e->name = strndup(s, (size_t)(lx->p - s))) == NULL)
			return vsl_error_errno(lx->err, ENOMEM, "template");
		return parse_chain(lx, &e->fields);
	}
	if (*p == '"' || *p == '`') {
		e->kind = E_STRING;
		return parse_string(lx, &e->name);
	}
	if (*p == '(') {
		lx->p++;
		e->kind = E_PIPE;
		int r = parse_pipe(lx, true, false, &e->pipe);
		if (r < 0)
			return r;
		if (*lx->p != ')')
			return vsl_error_set_code(lx->err, EINVAL, "template: unclosed left paren");
		lx->p++;
		return 0;
	}
	if (isdigit((unsigned char)*p) || (*p == '-' && isdigit((unsigned char)p[1]))) {
		char *end;
		errno = 0;
		long long v = strtoll(p, &end, 10);
		if (errno || is_ident(*end) || *end == '.')
			return vsl_error_set_code(lx->err, EINVAL, "template: bad number syntax: %.*s",
			                          (int)strcspn(p, " )}|"), p);
		e->kind = E_INT;
		e->num = (json_int_t)v;
		lx->p = end;
		return 0;
	}
	if (isalpha((unsigned char)*p) || *p == '_') {
		while (is_ident(*lx->p))
			lx->p++;
		size_t n = (size_t)(lx->p - p);
		if ((n == 4 && strncmp(p, "true", 4) == 0) || (n == 5 && strncmp(p, "false", 5) == 0)) {
			e->kind = E_BOOL;
			e->num = n == 4;
			return 0;
		}
		e->kind = E_FUNC;
		if ((e->name = strndup(p, n)) == NULL)
			return vsl_error_errno(lx->err, ENOMEM, "template");
		return 0;
	}
	return vsl_error_set_code(lx->err, EINVAL, "template: unexpected \"%c\" in command", *p);
}

static bool at_command_end(const struct lexer *lx, bool in_parens)
{
	return *lx->p == '\0' || *lx->p == '|' || (in_parens && *lx->p == ')');
}

static int parse_command(struct lexer *lx, bool in_parens, struct command *c)
{
	for (;;) {
		skip_space(lx);
		if (at_command_end(lx, in_parens))
			break;
		struct expr *a = realloc(c->args, (c->n + 1) * sizeof(*a));
		if (a == NULL)
			return vsl_error_errno(lx->err, ENOMEM, "template");
		c->args = a;
		memset(&a[c->n], 0, sizeof(*a));
		int r = parse_operand(lx, &a[c->n++]);
		if (r < 0)
			return r;
		if (!at_command_end(lx, in_parens) && !isspace((unsigned char)*lx->p))
			return vsl_error_set_code(lx->err, EINVAL, "template: unexpected \"%c\" in operand",
			                          *lx->p);
	}
	if (c->n == 0)
		return vsl_error_set_code(lx->err, EINVAL, "template: missing value for command");
	return 0;
}

/* "$x :=" or "$i, $e :=" at the start of a pipeline. */
static int parse_decl(struct lexer *lx, struct pipe *pp)
{
	const char *save = lx->p;
	for (size_t i = 0; i < 2; i++) {
		skip_space(lx);
		if (*lx->p != '$')
			break;
		const char *s = ++lx->p;
		while (is_ident(*lx->p))
			lx->p++;
		size_t n = (size_t)(lx->p - s);
		skip_space(lx);
		if (*lx->p == ',' && i == 0) {
			lx->p++;
		} else if (strncmp(lx->p, ":=", 2) != 0) {
			break;
		}
		if ((pp->vars[pp->n_vars++] = strndup(s, n)) == NULL)
			return vsl_error_errno(lx->err, ENOMEM, "template");
		if (strncmp(lx->p, ":=", 2) == 0) {
			lx->p += 2;
			return 0;
		}
	}
	/* Not a declaration: an expression that starts with a variable. */
	for (size_t i = 0; i < pp->n_vars; i++)
		free(TAKE_PTR(pp->vars[i]));
	pp->n_vars = 0;
	lx->p = save;
	return 0;
}

static int parse_pipe(struct lexer *lx, bool in_parens, bool allow_decl, struct pipe **ret)
{
	struct pipe *pp = calloc(1, sizeof(*pp));
	if (pp == NULL)
		return vsl_error_errno(lx->err, ENOMEM, "template");
	int r = allow_decl ? parse_decl(lx, pp) : 0;
	for (; r >= 0;) {
		struct command *c = realloc(pp->cmds, (pp->n_cmds + 1) * sizeof(*c));
		if (c == NULL) {
			r = vsl_error_errno(lx->err, ENOMEM, "template");
			break;
		}
		pp->cmds = c;
		memset(&c[pp->n_cmds], 0, sizeof(*c));
		if ((r = parse_command(lx, in_parens, &c[pp->n_cmds++])) < 0)
			break;
		if (*lx->p != '|')
			break;
		lx->p++;
	}
	if (r >= 0 && !in_parens && *lx->p != '\0')
		r = vsl_error_set_code(lx->err, EINVAL, "template: unexpected \"%c\"", *lx->p);
	if (r < 0) {
		pipe_free(pp);
		return r;
	}
	*ret = pp;
	return 0;
}

/* ---- parsing the text ---- */

struct parser {
	const char *p;
	bool trim_next; /* the last action ended in "-}}" */
	struct vsl_error **err;
	int depth;
	char *chained; /* after {{else if X}}: "X", the condition of the if in the else part */
};

enum item { I_EOF, I_END, I_ELSE, I_ELSE_IF };

static int list_add(struct list *l, struct node *n, struct vsl_error **err)
{
	struct node *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL)
		return vsl_error_errno(err, ENOMEM, "template");
	l->v = v;
	v[l->n++] = *n;
	return 0;
}

static int add_text(struct parser *ps, struct list *l, const char *s, size_t n, bool trim_right)
{
	if (ps->trim_next)
		while (n && isspace((unsigned char)*s))
			s++, n--;
	ps->trim_next = false;
	if (trim_right)
		while (n && isspace((unsigned char)s[n - 1]))
			n--;
	if (n == 0)
		return 0;
	struct node node = {.kind = N_TEXT, .text = strndup(s, n)};
	if (node.text == NULL)
		return vsl_error_errno(ps->err, ENOMEM, "template");
	int r = list_add(l, &node, ps->err);
	if (r < 0)
		free(node.text);
	return r;
}

/* The end of an action: the first "}}" outside a quoted string. */
static const char *action_end(const char *p)
{
	for (; *p; p++) {
		if (*p == '"' || *p == '`') {
			char q = *p;
			for (p++; *p && *p != q; p++)
				if (q == '"' && *p == '\\' && p[1])
					p++;
			if (*p == '\0')
				return NULL;
		} else if (p[0] == '}' && p[1] == '}') {
			return p;
		}
	}
	return NULL;
}

static bool keyword(const char **a, const char *kw)
{
	size_t n = strlen(kw);
	if (strncmp(*a, kw, n) != 0 || is_ident((*a)[n]))
		return false;
	*a += n;
	return true;
}

static int parse_list(struct parser *ps, struct list *l, enum item *ret_end);

static int parse_block(struct parser *ps, enum node_kind kind, const char *rest, struct list *l)
{
	struct node node = {.kind = kind};
	struct lexer lx = {.p = rest, .err = ps->err};
	skip_space(&lx);
	int r = parse_pipe(&lx, false, kind != N_IF, &node.pipe);
	enum item end = I_EOF;
	if (r >= 0 && ++ps->depth > MAX_DEPTH)
		r = vsl_error_set_code(ps->err, EINVAL, "template: nested too deeply");
	if (r >= 0)
		r = parse_list(ps, &node.body, &end);
	if (r >= 0 && end == I_ELSE)
		r = parse_list(ps, &node.alt, &end);
	else if (r >= 0 && end == I_ELSE_IF) {
		/* {{if a}}..{{else if b}}..{{end}} is {{if a}}..{{else}}{{if b}}..{{end}}{{end}}. */
		_cleanup_free_ char *cond = TAKE_PTR(ps->chained);
		r = parse_block(ps, N_IF, cond, &node.alt);
		end = I_END;
	}
	if (r >= 0 && end != I_END)
		r = vsl_error_set_code(ps->err, EINVAL, "template: unexpected EOF (missing {{end}})");
	ps->depth--;
	if (r >= 0)
		r = list_add(l, &node, ps->err);
	if (r < 0) {
		pipe_free(node.pipe);
		list_release(&node.body);
		list_release(&node.alt);
	}
	return r;
}

static int parse_list(struct parser *ps, struct list *l, enum item *ret_end)
{
	for (;;) {
		const char *open = strstr(ps->p, "{{");
		if (open == NULL) {
			int r = add_text(ps, l, ps->p, strlen(ps->p), false);
			ps->p += strlen(ps->p);
			*ret_end = I_EOF;
			return r;
		}
		const char *a = open + 2;
		bool trim_left = a[0] == '-' && isspace((unsigned char)a[1]);
		if (trim_left)
			a += 2;
		int r = add_text(ps, l, ps->p, (size_t)(open - ps->p), trim_left);
		if (r < 0)
			return r;
		const char *close = action_end(a);
		if (close == NULL)
			return vsl_error_set_code(ps->err, EINVAL, "template: unclosed action");
		const char *stop = close;
		bool trim_right = stop - a >= 2 && stop[-1] == '-' && isspace((unsigned char)stop[-2]);
		if (trim_right)
			stop -= 2;
		ps->p = close + 2;
		_cleanup_free_ char *action = strndup(a, (size_t)(stop - a));
		if (action == NULL)
			return vsl_error_errno(ps->err, ENOMEM, "template");
		const char *s = action;
		while (isspace((unsigned char)*s))
			s++;
		ps->trim_next = trim_right;
		if (strncmp(s, "/*", 2) == 0)
			continue;
		if (keyword(&s, "end")) {
			*ret_end = I_END;
			return 0;
		}
		if (keyword(&s, "else")) {
			while (isspace((unsigned char)*s))
				s++;
			*ret_end = I_ELSE;
			if (keyword(&s, "if")) {
				if ((ps->chained = strdup(s)) == NULL)
					return vsl_error_errno(ps->err, ENOMEM, "template");
				*ret_end = I_ELSE_IF;
			}
			return 0;
		}
		if (keyword(&s, "if"))
			r = parse_block(ps, N_IF, s, l);
		else if (keyword(&s, "range"))
			r = parse_block(ps, N_RANGE, s, l);
		else if (keyword(&s, "with"))
			r = parse_block(ps, N_WITH, s, l);
		else {
			struct node node = {.kind = N_ACTION};
			struct lexer lx = {.p = s, .err = ps->err};
			if ((r = parse_pipe(&lx, false, true, &node.pipe)) >= 0 &&
			    (r = list_add(l, &node, ps->err)) < 0)
				pipe_free(node.pipe);
		}
		if (r < 0)
			return r;
	}
}

int template_parse(const char *text, struct template **ret, struct vsl_error **err)
{
	struct template *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return vsl_error_errno(err, ENOMEM, "template");
	struct parser ps = {.p = text, .err = err};
	enum item end = I_EOF;
	int r = parse_list(&ps, &t->root, &end);
	if (r >= 0 && end != I_EOF)
		r = vsl_error_set_code(err, EINVAL, "template: unexpected {{%s}}",
		                       end == I_END ? "end" : "else");
	free(ps.chained);
	if (r < 0) {
		template_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

/* ---- execution ---- */

struct var {
	const char *name;
	json_t *value;
	bool owned; /* {{$x := ...}} holds a reference until its block ends */
};

struct exec {
	FILE *out;
	json_t *root;
	struct var vars[MAX_DEPTH * 2 + 1];
	size_t n_vars;
	struct vsl_error **err;
};

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "map[string]interface {}";
	case JSON_ARRAY:
		return "[]interface {}";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "int";
	case JSON_REAL:
		return "float64";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	default:
		return "interface {}";
	}
}

/* A new reference (or NULL: no value) to v.fields... */
static int walk(struct exec *ex, json_t *v, char **fields, json_t **ret)
{
	for (char **f = fields; f && *f; f++) {
		if (v == NULL || json_is_null(v)) {
			v = NULL; /* Go: a missing map entry has no value, and neither do its fields */
			break;
		}
		if (!json_is_object(v))
			return vsl_error_set_code(ex->err, EINVAL,
			                          "template: can't evaluate field %s in type %s", *f,
			                          type_name(v));
		v = json_object_get(v, *f);
	}
	*ret = v && !json_is_null(v) ? json_incref(v) : NULL;
	return 0;
}

static bool truth(const json_t *v)
{
	if (v == NULL)
		return false;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0;
	case JSON_TRUE:
		return true;
	default:
		return false;
	}
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* fmt.Print of the value as Go holds decoded JSON. */
static void print_value(FILE *f, const json_t *v, bool nested)
{
	if (v == NULL || json_is_null(v)) {
		fputs(nested ? "<nil>" : "<no value>", f);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		fwrite(json_string_value(v), 1, json_string_length(v), f);
		break;
	case JSON_INTEGER:
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL: {
		/* Go's %v: the shortest representation that reads back the same. */
		double d = json_real_value(v);
		char buf[64];
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(buf, sizeof(buf), "%.*g", prec, d);
			if (strtod(buf, NULL) == d)
				break;
		}
		fputs(buf, f);
		break;
	}
	case JSON_TRUE:
		fputs("true", f);
		break;
	case JSON_FALSE:
		fputs("false", f);
		break;
	case JSON_ARRAY: {
		fputc('[', f);
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
		{
			if (i)
				fputc(' ', f);
			print_value(f, e, true);
		}
		fputc(']', f);
		break;
	}
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		const char **keys = calloc(n ? n : 1, sizeof(char *));
		const char *k;
		json_t *e;
		fputs("map[", f);
		if (keys) {
			json_object_foreach((json_t *)v, k, e) keys[i++] = k;
			qsort(keys, n, sizeof(char *), cmp_keys);
			for (i = 0; i < n; i++) {
				fprintf(f, "%s%s:", i ? " " : "", keys[i]);
				print_value(f, json_object_get(v, keys[i]), true);
			}
			free(keys);
		}
		fputc(']', f);
		break;
	}
	default:
		break;
	}
}

static char *to_text(const json_t *v)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	if (f == NULL)
		return NULL;
	print_value(f, v, false);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static int eval_pipe(struct exec *ex, json_t *dot, const struct pipe *pp, json_t **ret);

static int eval_arg(struct exec *ex, json_t *dot, const struct expr *e, json_t **ret)
{
	switch (e->kind) {
	case E_FIELD:
		return walk(ex, dot, e->fields, ret);
	case E_VAR:
		for (size_t i = ex->n_vars; i-- > 0;)
			if (strcmp(ex->vars[i].name, e->name) == 0)
				return walk(ex, ex->vars[i].value, e->fields, ret);
		return vsl_error_set_code(ex->err, EINVAL, "template: undefined variable \"$%s\"", e->name);
	case E_STRING:
		*ret = json_string(e->name);
		break;
	case E_INT:
		*ret = json_integer(e->num);
		break;
	case E_BOOL:
		*ret = json_boolean(e->num);
		break;
	case E_PIPE:
		return eval_pipe(ex, dot, e->pipe, ret);
	case E_FUNC:
		return vsl_error_set_code(ex->err, EINVAL,
		                          "template: function \"%s\" needs its arguments here", e->name);
	}
	if (*ret == NULL)
		return vsl_error_errno(ex->err, ENOMEM, "template");
	return 0;
}

static json_t *string_new_own(char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	free(s);
	return j;
}

static int call(struct exec *ex, const char *fn, json_t **args, size_t n, json_t **ret)
{
	struct vsl_error **err = ex->err;
#define WANT(k)                                                                                              \
	do {                                                                                                 \
		if (n != (k))                                                                                \
			return vsl_error_set_code(err, EINVAL,                                               \
			                          "template: wrong number of args for %s: want %d got %zu",  \
			                          fn, (k), n);                                               \
	} while (0)
	if (strcmp(fn, "json") == 0) {
		WANT(1);
		char *s = args[0] ? json_dumps(args[0], JSON_COMPACT | JSON_ENCODE_ANY) : strdup("null");
		*ret = string_new_own(s);
	} else if (strcmp(fn, "len") == 0) {
		WANT(1);
		json_t *v = args[0];
		if (json_is_string(v))
			*ret = json_integer((json_int_t)json_string_length(v));
		else if (json_is_array(v))
			*ret = json_integer((json_int_t)json_array_size(v));
		else if (json_is_object(v))
			*ret = json_integer((json_int_t)json_object_size(v));
		else
			return vsl_error_set_code(err, EINVAL, "template: error calling len: len of %s",
			                          v ? type_name(v) : "nil pointer");
	} else if (strcmp(fn, "index") == 0) {
		if (n < 1)
			return vsl_error_set_code(
			    err, EINVAL, "template: wrong number of args for index: want at least 1 got 0");
		json_t *v = args[0];
		for (size_t i = 1; i < n && v; i++) {
			if (json_is_object(v) && json_is_string(args[i]))
				v = json_object_get(v, json_string_value(args[i]));
			else if (json_is_array(v) && json_is_integer(args[i])) {
				json_int_t k = json_integer_value(args[i]);
				if (k < 0 || (size_t)k >= json_array_size(v))
					return vsl_error_set_code(err, EINVAL,
					                          "template: error calling index: index out "
					                          "of range: %" JSON_INTEGER_FORMAT,
					                          k);
				v = json_array_get(v, (size_t)k);
			} else {
				return vsl_error_set_code(
				    err, EINVAL, "template: error calling index: can't index item of type %s",
				    type_name(v));
			}
		}
		*ret = v && !json_is_null(v) ? json_incref(v) : NULL;
		return 0;
	} else if (strcmp(fn, "join") == 0) {
		WANT(2);
		if (!json_is_array(args[0]) || !json_is_string(args[1]))
			return vsl_error_set_code(err, EINVAL,
			                          "template: error calling join: wrong argument type");
		char *s = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&s, &len);
		if (f == NULL)
			return vsl_error_errno(err, ENOMEM, "template");
		size_t i;
		json_t *e;
		json_array_foreach(args[0], i, e)
		{
			if (i)
				fputs(json_string_value(args[1]), f);
			print_value(f, e, true);
		}
		fclose(f);
		*ret = string_new_own(s);
	} else if (strcmp(fn, "upper") == 0 || strcmp(fn, "lower") == 0 || strcmp(fn, "title") == 0) {
		WANT(1);
		char *s = to_text(args[0]);
		bool start = true;
		for (char *c = s; c && *c; c++) {
			if (fn[0] == 'u' || (fn[0] == 't' && start))
				*c = (char)toupper((unsigned char)*c);
			else if (fn[0] == 'l')
				*c = (char)tolower((unsigned char)*c);
			start = isspace((unsigned char)*c);
		}
		*ret = string_new_own(s);
	} else if (strcmp(fn, "print") == 0 || strcmp(fn, "println") == 0) {
		char *s = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&s, &len);
		if (f == NULL)
			return vsl_error_errno(err, ENOMEM, "template");
		for (size_t i = 0; i < n; i++) {
			/* Print puts spaces between operands when neither is a string; Println always. */
			if (i && (fn[5] == 'l' || (!json_is_string(args[i - 1]) && !json_is_string(args[i]))))
				fputc(' ', f);
			print_value(f, args[i], true);
		}
		if (fn[5] == 'l')
			fputc('\n', f);
		fclose(f);
		*ret = string_new_own(s);
	} else {
		return vsl_error_set_code(err, EINVAL, "template: function \"%s\" not defined", fn);
	}
#undef WANT
	if (*ret == NULL)
		return vsl_error_errno(err, ENOMEM, "template");
	return 0;
}

static void decref_all(json_t **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
}

/* piped: the previous command's value, passed as the last argument (owned). */
static int eval_command(struct exec *ex, json_t *dot, const struct command *c, json_t *piped, bool has_piped,
                        json_t **ret)
{
	const struct expr *first = &c->args[0];
	if (first->kind != E_FUNC) {
		json_decref(piped);
		if (c->n > 1 || has_piped)
			return vsl_error_set_code(ex->err, EINVAL,
			                          "template: can't give argument to non-function");
		return eval_arg(ex, dot, first, ret);
	}
	size_t n = c->n - 1 + (has_piped ? 1 : 0);
	json_t **args = calloc(n ? n : 1, sizeof(json_t *));
	if (args == NULL) {
		json_decref(piped);
		return vsl_error_errno(ex->err, ENOMEM, "template");
	}
	int r = 0;
	for (size_t i = 1; r >= 0 && i < c->n; i++)
		r = eval_arg(ex, dot, &c->args[i], &args[i - 1]);
	if (has_piped)
		args[n - 1] = piped;
	if (r >= 0)
		r = call(ex, first->name, args, n, ret);
	decref_all(args, n);
	return r;
}

static int eval_pipe(struct exec *ex, json_t *dot, const struct pipe *pp, json_t **ret)
{
	json_t *v = NULL;
	for (size_t i = 0; i < pp->n_cmds; i++) {
		json_t *next = NULL;
		int r = eval_command(ex, dot, &pp->cmds[i], v, i > 0, &next);
		if (r < 0)
			return r;
		v = next;
	}
	*ret = v;
	return 0;
}

static int exec_list(struct exec *ex, json_t *dot, const struct list *l);

static int push_var(struct exec *ex, const char *name, json_t *value, bool owned)
{
	if (ex->n_vars == ARRAY_SIZE(ex->vars)) {
		if (owned)
			json_decref(value);
		return vsl_error_set_code(ex->err, EINVAL, "template: too many variables");
	}
	ex->vars[ex->n_vars++] = (struct var){.name = name, .value = value, .owned = owned};
	return 0;
}

static int exec_range(struct exec *ex, const struct node *n, json_t *v)
{
	size_t count = json_is_array(v) ? json_array_size(v) : json_is_object(v) ? json_object_size(v) : 0;
	if (v && !json_is_array(v) && !json_is_object(v) && !json_is_null(v))
		return vsl_error_set_code(ex->err, EINVAL, "template: range can't iterate over %s",
		                          type_name(v));
	if (count == 0)
		return exec_list(ex, v, &n->alt);
	const char **keys = NULL;
	if (json_is_object(v)) {
		/* Go ranges over a map in sorted key order. */
		if ((keys = calloc(count, sizeof(char *))) == NULL)
			return vsl_error_errno(ex->err, ENOMEM, "template");
		size_t i = 0;
		const char *k;
		json_t *e;
		json_object_foreach(v, k, e) keys[i++] = k;
		qsort(keys, count, sizeof(char *), cmp_keys);
	}
	size_t saved = ex->n_vars;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < count; i++) {
		json_t *elem = keys ? json_object_get(v, keys[i]) : json_array_get(v, i);
		_cleanup_(json_decrefp) json_t *key =
		    keys ? json_string(keys[i]) : json_integer((json_int_t)i);
		if (key == NULL) {
			r = vsl_error_errno(ex->err, ENOMEM, "template");
			break;
		}
		ex->n_vars = saved;
		if (n->pipe->n_vars == 1)
			r = push_var(ex, n->pipe->vars[0], elem, false);
		else if (n->pipe->n_vars == 2 && (r = push_var(ex, n->pipe->vars[0], key, false)) >= 0)
			r = push_var(ex, n->pipe->vars[1], elem, false);
		if (r >= 0)
			r = exec_list(ex, elem, &n->body);
	}
	ex->n_vars = saved;
	free(keys);
	return r;
}

static int exec_node(struct exec *ex, json_t *dot, const struct node *n)
{
	if (n->kind == N_TEXT) {
		fputs(n->text, ex->out);
		return 0;
	}
	_cleanup_(json_decrefp) json_t *v = NULL;
	int r = eval_pipe(ex, dot, n->pipe, &v);
	if (r < 0)
		return r;
	switch (n->kind) {
	case N_ACTION:
		if (n->pipe->n_vars > 0)
			return push_var(ex, n->pipe->vars[0], TAKE_PTR(v), true);
		print_value(ex->out, v, false);
		return 0;
	case N_IF:
		return exec_list(ex, dot, truth(v) ? &n->body : &n->alt);
	case N_WITH: {
		size_t saved = ex->n_vars;
		if (n->pipe->n_vars > 0 && (r = push_var(ex, n->pipe->vars[0], v, false)) < 0)
			return r;
		r = exec_list(ex, truth(v) ? v : dot, truth(v) ? &n->body : &n->alt);
		ex->n_vars = saved;
		return r;
	}
	case N_RANGE:
		return exec_range(ex, n, v);
	default:
		return 0;
	}
}

static int exec_list(struct exec *ex, json_t *dot, const struct list *l)
{
	size_t saved = ex->n_vars;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < l->n; i++)
		r = exec_node(ex, dot, &l->v[i]);
	while (ex->n_vars > saved) {
		struct var *v = &ex->vars[--ex->n_vars];
		if (v->owned)
			json_decref(v->value);
	}
	return r;
}

int template_execute(const struct template *t, json_t *data, char **ret_out, struct vsl_error **err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return vsl_error_errno(err, ENOMEM, "template");
	struct exec ex = {.out = f, .root = data, .err = err};
	int r = push_var(&ex, "", data, false);
	if (r >= 0)
		r = exec_list(&ex, data, &t->root);
	if (fclose(f) != 0 && r >= 0)
		r = vsl_error_errno(err, ENOMEM, "template");
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_out = buf;
	return 0;
}

int template_print_inspect(json_t *docs, const char *format, FILE *out, struct vsl_error **err)
{
	if (format == NULL || *format == '\0') {
		_cleanup_free_ char *text = json_dumps(docs, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		if (text == NULL)
			return vsl_error_errno(err, ENOMEM, "inspect");
		fprintf(out, "%s\n", text);
		return 0;
	}
	_cleanup_template_ struct template *t = NULL;
	int r = template_parse(format, &t, err);
	if (r < 0)
		return r;
	size_t i;
	json_t *doc;
	json_array_foreach(docs, i, doc)
	{
		_cleanup_free_ char *text = NULL;
		if ((r = template_execute(t, doc, &text, err)) < 0)
			return r;
		fprintf(out, "%s\n", text);
	}
	return 0;
}

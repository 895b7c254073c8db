/* cli/template: what `inspect --format` prints for the templates people type,
 * checked against what Go's text/template prints for the same JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/template.h"
#include "util/cleanup.h"
#include "util/error.h"

static const char doc[] =
    "{\"Id\": \"sha256:abc\", \"RepoTags\": [\"busybox:latest\", \"busybox:1.36\"],"
    " \"Size\": 4261550, \"Ratio\": 0.5, \"Empty\": [], \"Nothing\": null,"
    " \"State\": {\"Status\": \"running\", \"Running\": true, \"Pid\": 42, \"ExitCode\": 0},"
    " \"Config\": {\"Env\": [\"PATH=/usr/bin\", \"A=b c\"], \"Cmd\": null,"
    "  \"Labels\": {\"zeta\": \"last\", \"alpha\": \"first\", \"with space\": \"x\"}}}";

/* Renders tmpl over doc; returns the text or NULL with *ret_err set. */
static char *render(const char *tmpl, struct vsl_error **ret_err)
{
	json_error_t jerr;
	json_t *data = json_loads(doc, 0, &jerr);
	assert_non_null(data);
	struct template *t = NULL;
	char *out = NULL;
	if (template_parse(tmpl, &t, ret_err) >= 0)
		(void)template_execute(t, data, &out, ret_err);
	template_free(t);
	json_decref(data);
	return out;
}

static void expect(const char *tmpl, const char *want)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_free_ char *out = render(tmpl, &err);
	if (out == NULL)
		fail_msg("%s: %s", tmpl, vsl_error_message(err));
	assert_string_equal(out, want);
}

static void expect_error(const char *tmpl, const char *fragment)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_free_ char *out = render(tmpl, &err);
	if (out != NULL)
		fail_msg("%s: expected an error, got '%s'", tmpl, out);
	assert_non_null(err);
	if (strstr(vsl_error_message(err), fragment) == NULL)
		fail_msg("%s: error '%s' lacks '%s'", tmpl, vsl_error_message(err), fragment);
}

static void test_fields(void **state)
{
	(void)state;
	expect("{{.Id}}", "sha256:abc");
	expect("id={{ .Id }}!", "id=sha256:abc!");
	expect("{{.State.Status}} {{.State.Pid}} {{.State.Running}}", "running 42 true");
	expect("{{.Size}}", "4261550");
	expect("{{.Ratio}}", "0.5");
	/* A missing key, and a field of a missing key, print Go's <no value>. */
	expect("{{.Missing}}|{{.Missing.Deeper}}|{{.Nothing}}", "<no value>|<no value>|<no value>");
	expect("plain text", "plain text");
	expect("", "");
}

static void test_print_as_go(void **state)
{
	(void)state;
	expect("{{.Config.Env}}", "[PATH=/usr/bin A=b c]");
	expect("{{.Empty}}", "[]");
	/* Maps print sorted by key. */
	expect("{{.Config.Labels}}", "map[alpha:first with space:x zeta:last]");
	expect("{{.State}}", "map[ExitCode:0 Pid:42 Running:true Status:running]");
}

static void test_json(void **state)
{
	(void)state;
	expect("{{json .RepoTags}}", "[\"busybox:latest\",\"busybox:1.36\"]");
	expect("{{json .Config.Cmd}}", "null");
	expect("{{json .State.Status}}", "\"running\"");
	expect("{{json .State.Pid}}", "42");
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_free_ char *out = render("{{json .Config}}", &err);
	assert_non_null(out);
	json_t *back = json_loads(out, 0, NULL);
	assert_non_null(back);
	assert_string_equal(json_string_value(json_object_get(json_object_get(back, "Labels"), "alpha")),
	                    "first");
	assert_true(json_is_null(json_object_get(back, "Cmd")));
	json_decref(back);
}

static void test_index_len(void **state)
{
	(void)state;
	expect("{{index .Config.Labels \"alpha\"}}", "first");
	expect("{{index .Config.Labels `with space`}}", "x");
	expect("{{index .Config.Labels \"absent\"}}", "<no value>");
	expect("{{index .RepoTags 1}}", "busybox:1.36");
	expect("{{len .RepoTags}} {{len .Config.Labels}} {{len .Id}} {{len .Empty}}", "2 3 10 0");
	expect("{{len (index .Config.Env 0)}}", "13");
	expect_error("{{index .RepoTags 5}}", "out of range");
	expect_error("{{len .Size}}", "len of int");
}

static void test_range(void **state)
{
	(void)state;
	expect("{{range .RepoTags}}{{.}} {{end}}", "busybox:latest busybox:1.36 ");
	expect("{{range $i, $t := .RepoTags}}{{$i}}={{$t}};{{end}}", "0=busybox:latest;1=busybox:1.36;");
	/* Maps in key order; $ is the whole document inside the loop. */
	expect("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}},{{end}}",
	       "alpha:first,with space:x,zeta:last,");
	expect("{{range .RepoTags}}{{$.Id}} {{end}}", "sha256:abc sha256:abc ");
	expect("{{range .Empty}}x{{else}}none{{end}}", "none");
	expect("{{range .Nothing}}x{{end}}.", ".");
	expect_error("{{range .Size}}{{end}}", "can't iterate over int");
}

static void test_if_with_vars(void **state)
{
	(void)state;
	expect("{{if .State.Running}}up{{else}}down{{end}}", "up");
	expect("{{if .State.ExitCode}}failed{{else}}ok{{end}}", "ok");
	expect("{{if .Empty}}a{{else if .Nothing}}b{{else}}c{{end}}", "c");
	expect("{{with .State}}{{.Status}}/{{.Pid}}{{end}}", "running/42");
	expect("{{with .Missing}}x{{else}}y{{end}}", "y");
	expect("{{$id := .Id}}{{range .RepoTags}}{{$id}} {{end}}", "sha256:abc sha256:abc ");
}

static void test_functions_and_trim(void **state)
{
	(void)state;
	expect("{{.State.Status | upper}}", "RUNNING");
	expect("{{upper .State.Status}} {{lower \"ABC\"}} {{title \"hello world\"}}",
	       "RUNNING abc Hello World");
	expect("{{join .Config.Env \",\"}}", "PATH=/usr/bin,A=b c");
	expect("{{println .Id}}", "sha256:abc\n");
	expect("a  {{- .State.Pid -}}  b", "a42b");
	expect("{{/* a comment */}}x", "x");
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("{{.Id", "unclosed action");
	expect_error("{{range .RepoTags}}x", "missing {{end}}");
	expect_error("{{end}}", "unexpected {{end}}");
	expect_error("{{nosuch .Id}}", "function \"nosuch\" not defined");
	expect_error("{{.Id.Deeper}}", "can't evaluate field Deeper in type string");
	expect_error("{{$nope}}", "undefined variable");
	expect_error("{{\"open}}", "unclosed action");
	expect_error("{{\"a\\q\"}}", "unknown escape");
	expect_error("{{.Id .Id}}", "can't give argument to non-function");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_print_as_go),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_index_len),
	    cmocka_unit_test(test_range),
	    cmocka_unit_test(test_if_with_vars),
	    cmocka_unit_test(test_functions_and_trim),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

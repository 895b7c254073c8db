/* Image references: the expected values are Docker's, written by hand from the
 * distribution/reference grammar and ParseNormalizedNamed's documented rules
 * (Docker Hub default, "library/" for official images, index.docker.io alias,
 * domain detection, Docker's error messages); the messages are the ones
 * `docker pull` of Docker 28 prints for the same input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "image/reference.h"
#include "util/cleanup.h"
#include "util/error.h"

#define HEX64  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX32  "0123456789abcdef0123456789abcdef"
#define SHA256 "sha256:" HEX64
#define SHA512 "sha512:" HEX64 HEX64

struct good {
	const char *in;
	const char *domain, *path, *tag, *digest;
	const char *string;   /* image_ref_string */
	const char *familiar; /* image_ref_familiar */
};

static const struct good goods[] = {
    {"ubuntu", "docker.io", "library/ubuntu", "latest", NULL, "docker.io/library/ubuntu:latest",
     "ubuntu:latest"},
    {"ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", NULL, "docker.io/library/ubuntu:22.04",
     "ubuntu:22.04"},
    {"me/app:1", "docker.io", "me/app", "1", NULL, "docker.io/me/app:1", "me/app:1"},
    {"docker.io/ubuntu", "docker.io", "library/ubuntu", "latest", NULL, "docker.io/library/ubuntu:latest",
     "ubuntu:latest"},
    {"index.docker.io/ubuntu", "docker.io", "library/ubuntu", "latest", NULL,
     "docker.io/library/ubuntu:latest", "ubuntu:latest"},
    {"index.docker.io/me/app:v2", "docker.io", "me/app", "v2", NULL, "docker.io/me/app:v2", "me/app:v2"},
    {"docker.io/library/ubuntu:latest", "docker.io", "library/ubuntu", "latest", NULL,
     "docker.io/library/ubuntu:latest", "ubuntu:latest"},
    /* "library/" is dropped only when nothing nested follows it. */
    {"docker.io/library/a/b", "docker.io", "library/a/b", "latest", NULL, "docker.io/library/a/b:latest",
     "library/a/b:latest"},
    {"ghcr.io/x/y:z", "ghcr.io", "x/y", "z", NULL, "ghcr.io/x/y:z", "ghcr.io/x/y:z"},
    /* Not Docker Hub: no "library/" added for a single component. */
    {"quay.io/app", "quay.io", "app", "latest", NULL, "quay.io/app:latest", "quay.io/app:latest"},
    {"localhost/app", "localhost", "app", "latest", NULL, "localhost/app:latest", "localhost/app:latest"},
    /* Without a '/', "localhost:5000" is the image "localhost" with tag "5000". */
    {"localhost:5000", "docker.io", "library/localhost", "5000", NULL, "docker.io/library/localhost:5000",
     "localhost:5000"},
    {"localhost:5000/ns/name:tag@" SHA256, "localhost:5000", "ns/name", "tag", SHA256,
     "localhost:5000/ns/name:tag@" SHA256, "localhost:5000/ns/name:tag@" SHA256},
    {"ubuntu@" SHA256, "docker.io", "library/ubuntu", NULL, SHA256, "docker.io/library/ubuntu@" SHA256,
     "ubuntu@" SHA256},
    {"ubuntu:22.04@" SHA256, "docker.io", "library/ubuntu", "22.04", SHA256,
     "docker.io/library/ubuntu:22.04@" SHA256, "ubuntu:22.04@" SHA256},
    {"me/app@" SHA512, "docker.io", "me/app", NULL, SHA512, "docker.io/me/app@" SHA512, "me/app@" SHA512},
    {"127.0.0.1:5000/a/b/c:1", "127.0.0.1:5000", "a/b/c", "1", NULL, "127.0.0.1:5000/a/b/c:1",
     "127.0.0.1:5000/a/b/c:1"},
    {"[::1]:5000/foo", "[::1]:5000", "foo", "latest", NULL, "[::1]:5000/foo:latest", "[::1]:5000/foo:latest"},
    {"[2001:db8::1]/foo:bar", "[2001:db8::1]", "foo", "bar", NULL, "[2001:db8::1]/foo:bar",
     "[2001:db8::1]/foo:bar"},
    /* A first component with an uppercase letter is a domain, and domains may have them. */
    {"Registry.Example.com/app", "Registry.Example.com", "app", "latest", NULL,
     "Registry.Example.com/app:latest", "Registry.Example.com/app:latest"},
    {"Foo/bar", "Foo", "bar", "latest", NULL, "Foo/bar:latest", "Foo/bar:latest"},
    {"my-registry.example.com:443/team/app", "my-registry.example.com:443", "team/app", "latest", NULL,
     "my-registry.example.com:443/team/app:latest", "my-registry.example.com:443/team/app:latest"},
    /* Separators: ".", "_", "__" and runs of "-"; tags take any case, "." and "-". */
    {"a__b/c--d/e.f_g:TAG_1.0-x", "docker.io", "a__b/c--d/e.f_g", "TAG_1.0-x", NULL,
     "docker.io/a__b/c--d/e.f_g:TAG_1.0-x", "a__b/c--d/e.f_g:TAG_1.0-x"},
    {"ubuntu:_", "docker.io", "library/ubuntu", "_", NULL, "docker.io/library/ubuntu:_", "ubuntu:_"},
    /* 63 hex digits are a name, not an image ID. */
    {HEX32 "0123456789abcdef0123456789abcde", "docker.io", "library/" HEX32 "0123456789abcdef0123456789abcde",
     "latest", NULL, "docker.io/library/" HEX32 "0123456789abcdef0123456789abcde:latest",
     HEX32 "0123456789abcdef0123456789abcde:latest"},
    /* Looks like a domain (it has a '.') but is not one ('_'), yet is a valid path
     * component: Docker then takes the whole name as the path, with no domain. */
    {"my_reg.local/app", "", "my_reg.local/app", "latest", NULL, "my_reg.local/app:latest",
     "my_reg.local/app:latest"},
};

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(goods); i++) {
		const struct good *g = &goods[i];
		_cleanup_error_ struct vsl_error *err = NULL;
		_cleanup_image_ref_ struct image_ref *r = NULL;
		int ret = image_ref_parse(g->in, &r, &err);
		if (ret < 0)
			fail_msg("'%s': %s", g->in, err->msg);
		assert_null(err);
		assert_string_equal(r->domain, g->domain);
		assert_string_equal(r->path, g->path);
		if (g->tag)
			assert_string_equal(r->tag, g->tag);
		else
			assert_null(r->tag);
		if (g->digest)
			assert_string_equal(r->digest, g->digest);
		else
			assert_null(r->digest);

		_cleanup_free_ char *s = image_ref_string(r);
		_cleanup_free_ char *f = image_ref_familiar(r);
		assert_string_equal(s, g->string);
		assert_string_equal(f, g->familiar);

		/* What vessel stores and what it prints both name the same image again. */
		_cleanup_image_ref_ struct image_ref *again = NULL, *from_familiar = NULL;
		assert_int_equal(image_ref_parse(s, &again, NULL), 0);
		assert_int_equal(image_ref_parse(f, &from_familiar, NULL), 0);
		_cleanup_free_ char *s2 = image_ref_string(again);
		_cleanup_free_ char *s3 = image_ref_string(from_familiar);
		assert_string_equal(s2, g->string);
		assert_string_equal(s3, g->string);

		/* And the stored form familiarizes to what docker prints. */
		_cleanup_free_ char *f2 = image_ref_familiarize(g->string);
		assert_string_equal(f2, g->familiar);
	}
}

static void test_names(void **state)
{
	(void)state;
	static const struct {
		const char *in, *name, *familiar_name;
	} cases[] = {
	    {"ubuntu", "docker.io/library/ubuntu", "ubuntu"},
	    {"me/app:1", "docker.io/me/app", "me/app"},
	    {"ghcr.io/x/y:z", "ghcr.io/x/y", "ghcr.io/x/y"},
	    {"ubuntu@" SHA256, "docker.io/library/ubuntu", "ubuntu"},
	    {"localhost:5000/a:b@" SHA256, "localhost:5000/a", "localhost:5000/a"},
	    {"docker.io/library/a/b", "docker.io/library/a/b", "library/a/b"},
	    {"my_reg.local/app", "my_reg.local/app", "my_reg.local/app"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_image_ref_ struct image_ref *r = NULL;
		assert_int_equal(image_ref_parse(cases[i].in, &r, NULL), 0);
		_cleanup_free_ char *n = image_ref_name(r);
		_cleanup_free_ char *fn = image_ref_familiar_name(r);
		assert_string_equal(n, cases[i].name);
		assert_string_equal(fn, cases[i].familiar_name);
	}
}

#define X10  "xxxxxxxxxx"
#define X50  X10 X10 X10 X10 X10
#define X100 X50 X50
#define X247 X100 X100 X10 X10 X10 X10 "xxxxxxx"

static void test_lengths(void **state)
{
	(void)state;
	/* The 255-character limit is on the path, "library/" included... */
	_cleanup_image_ref_ struct image_ref *r = NULL;
	assert_int_equal(image_ref_parse(X247, &r, NULL), 0);
	assert_int_equal(strlen(r->path), 255);

	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_image_ref_ struct image_ref *r2 = NULL;
	assert_int_equal(image_ref_parse(X247 "x", &r2, &err), -EINVAL);
	assert_null(r2);
	assert_string_equal(err->msg, "repository name must not be more than 255 characters");

	/* ...and the domain does not count. */
	_cleanup_image_ref_ struct image_ref *r3 = NULL;
	assert_int_equal(image_ref_parse("registry.example.com/library/" X247, &r3, NULL), 0);
	assert_string_equal(r3->domain, "registry.example.com");

	/* Tags: up to 128 characters. */
	_cleanup_image_ref_ struct image_ref *r4 = NULL;
	assert_int_equal(image_ref_parse("a:" X100 "xxxxxxxxxxxxxxxxxxxxxxxxxxxx", &r4, NULL), 0);
	assert_int_equal(strlen(r4->tag), 128);
	_cleanup_error_ struct vsl_error *err5 = NULL;
	_cleanup_image_ref_ struct image_ref *r5 = NULL;
	assert_int_equal(image_ref_parse("a:" X100 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx", &r5, &err5), -EINVAL);
	assert_string_equal(err5->msg, "invalid reference format");
}

static const struct {
	const char *in, *msg;
} bads[] = {
    {"", "invalid reference format"},
    {"Ubuntu", "invalid reference format: repository name (library/Ubuntu) must be lowercase"},
    {"UBUNTU:latest", "invalid reference format: repository name (library/UBUNTU) must be lowercase"},
    {"me/App:1", "invalid reference format: repository name (me/App) must be lowercase"},
    {"ghcr.io/Me/app", "invalid reference format: repository name (Me/app) must be lowercase"},
    /* Docker looks for the case only up to the first ':', which here is the digest's. */
    {"ubuntu@SHA256:" HEX64,
     "invalid reference format: repository name (library/ubuntu@SHA256) must be lowercase"},
    /* A bad domain with an uppercase letter that would be a valid path in lower case. */
    {"A_b.c/foo", "repository name must be lowercase"},
    /* Docker tests case with Go's strings.ToLower: capitals of any script, and
     * bytes that are not UTF-8, make a name "not lowercase". */
    {"\xc3\x84"
     "bc",
     "invalid reference format: repository name (library/\xc3\x84"
     "bc) must be lowercase"},
    {"j\xfc", "invalid reference format: repository name (library/j\xfc) must be lowercase"},
    {"caf\xc3\xa9", "invalid reference format"},
    {"\xc3\xa9/app", "invalid reference format"},
    /* The Kelvin sign lowercases to an ASCII 'k': a valid name once lowercased. */
    {"\xe2\x84\xaa/ubuntu", "repository name must be lowercase"},
    {HEX64, "invalid repository name (" HEX64 "), cannot specify 64-byte hexadecimal strings"},
    {"ubuntu:", "invalid reference format"},
    {"ubuntu:-x", "invalid reference format"},
    {"ubuntu:.x", "invalid reference format"},
    {"ubuntu:a/b", "invalid reference format"},
    {"ubuntu:a:b", "invalid reference format"},
    {":tag", "invalid reference format"},
    {"@" SHA256, "invalid reference format"},
    {"a//b", "invalid reference format"},
    {"a/", "invalid reference format"},
    {"/a", "invalid reference format"},
    {"a..b", "invalid reference format"},
    {"a._b", "invalid reference format"},
    {"a___b", "invalid reference format"},
    {"-a", "invalid reference format"},
    {"a-", "invalid reference format"},
    {"a b", "invalid reference format"},
    {"localhost:abc/foo", "invalid reference format"},
    {"[::1]x/foo", "invalid reference format"},
    {"[]/foo", "invalid reference format"},
    {"[fe80::1%eth0]/foo", "invalid reference format"},
    {"-bad.example.com/foo", "invalid reference format"},
    {"example.com:/foo", "invalid reference format"},
    {"example.com/", "invalid reference format"},
    /* Fewer than 32 hex digits do not even look like a digest. */
    {"ubuntu@sha256:abc", "invalid reference format"},
    {"ubuntu@sha256:" HEX64 "@x", "invalid reference format"},
    {"ubuntu@sha256:" HEX64 "g", "invalid reference format"},
    {"ubuntu@sha256" HEX64, "invalid reference format"},
    /* Digests that look like one but are wrong: the digest library's messages. */
    {"ubuntu@sha256:" HEX32, "invalid checksum digest length"},
    {"ubuntu@sha256:" HEX64 "00", "invalid checksum digest length"},
    {"ubuntu@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
     "invalid checksum digest format"},
    {"ubuntu:1@SHA256:" HEX64, "invalid checksum digest format"},
    {"ubuntu@md5:" HEX32, "unsupported digest algorithm"},
    {"ubuntu@sha256+b64:" HEX64, "unsupported digest algorithm"},
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		_cleanup_error_ struct vsl_error *err = NULL;
		struct image_ref *r = NULL;
		int ret = image_ref_parse(bads[i].in, &r, &err);
		if (ret == 0) {
			_cleanup_free_ char *s = image_ref_string(r);
			image_ref_free(r);
			fail_msg("'%s' parsed as '%s'", bads[i].in, s);
		}
		assert_int_equal(ret, -EINVAL);
		assert_null(r);
		assert_non_null(err);
		if (strcmp(err->msg, bads[i].msg) != 0)
			fail_msg("'%s': got '%s', want '%s'", bads[i].in, err->msg, bads[i].msg);
	}
}

static void test_null_err(void **state)
{
	(void)state;
	struct image_ref *r = NULL;
	assert_int_equal(image_ref_parse("Bad", &r, NULL), -EINVAL);
	assert_null(r);
	image_ref_free(NULL);
}

static void test_tag_is_valid(void **state)
{
	(void)state;
	assert_true(image_ref_tag_is_valid("latest"));
	assert_true(image_ref_tag_is_valid("v1.0-rc_1"));
	assert_true(image_ref_tag_is_valid("_x"));
	assert_true(image_ref_tag_is_valid("X"));
	assert_true(image_ref_tag_is_valid("0"));
	assert_true(image_ref_tag_is_valid(X100 "xxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
	assert_false(image_ref_tag_is_valid(X100 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
	assert_false(image_ref_tag_is_valid(""));
	assert_false(image_ref_tag_is_valid(NULL));
	assert_false(image_ref_tag_is_valid(".x"));
	assert_false(image_ref_tag_is_valid("-x"));
	assert_false(image_ref_tag_is_valid("a/b"));
	assert_false(image_ref_tag_is_valid("a:b"));
	assert_false(image_ref_tag_is_valid("a@b"));
	assert_false(image_ref_tag_is_valid("a+b"));
	assert_false(image_ref_tag_is_valid("caf\xc3\xa9"));
}

static void test_familiarize(void **state)
{
	(void)state;
	static const struct {
		const char *full, *familiar;
	} cases[] = {
	    {"docker.io/library/ubuntu:latest", "ubuntu:latest"},
	    {"docker.io/library/ubuntu", "ubuntu"},
	    {"docker.io/me/app:1", "me/app:1"},
	    {"docker.io/library/ubuntu@" SHA256, "ubuntu@" SHA256},
	    {"docker.io/library/ubuntu:22.04@" SHA256, "ubuntu:22.04@" SHA256},
	    {"docker.io/library/a/b:c", "library/a/b:c"},
	    {"ghcr.io/x/y:z", "ghcr.io/x/y:z"},
	    {"localhost:5000/docker.io/x", "localhost:5000/docker.io/x"},
	    {"ubuntu:latest", "ubuntu:latest"},
	    {"", ""},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *f = image_ref_familiarize(cases[i].full);
		assert_string_equal(f, cases[i].familiar);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),        cmocka_unit_test(test_names),
	    cmocka_unit_test(test_lengths),     cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_null_err),    cmocka_unit_test(test_tag_is_valid),
	    cmocka_unit_test(test_familiarize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Image records: what was put comes back exactly (also after re-opening),
 * every form of reference resolves to the right image and the wrong ones say
 * why, names move between images, untag removes exactly one name, and removing
 * an image reports exactly the layers and blobs no other image uses. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "image/image-db.h"
#include "util/cleanup.h"
#include "util/db.h"
#include "util/error.h"
#include "util/fs.h"

/* Digests made of one repeated hex digit after a two-digit head, so that
 * prefixes are easy to reason about: D("ab", '1') is sha256:ab1111... */
#define D(head, fill) digest_of(head, fill)
static char digests[64][80];
static int n_digests;

static const char *digest_of(const char *head, char fill)
{
	assert_true(n_digests < 64);
	char *d = digests[n_digests++];
	snprintf(d, 80, "sha256:%s", head);
	size_t n = strlen(d);
	memset(d + n, fill, 7 + 64 - n);
	d[7 + 64] = '\0';
	return d;
}

struct fixture {
	char root[64];
	char path[128];
	struct db *db;
};

static int teardown(void **state)
{
	struct fixture *f = *state;
	db_close(f->db);
	int r = rm_rf_at(AT_FDCWD, f->root);
	free(f);
	n_digests = 0;
	return r;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/test-image-db-XXXXXX");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/vessel.db", f->root);
	*state = f;
	_cleanup_error_ struct vsl_error *err = NULL;
	if (db_open(f->path, &f->db, &err) < 0 || image_db_init(f->db, &err) < 0) {
		teardown(state);
		return -1;
	}
	return 0;
}

#define UBUNTU    "docker.io/library/ubuntu:latest"
#define UBUNTU_22 "docker.io/library/ubuntu:22.04"
#define ALPINE    "docker.io/library/alpine:3"

struct layer_spec {
	const char *chain, *diff, *blob;
};

/* Puts an image with the given names/digests and layers (base first). */
static void put(struct fixture *f, const char *id, const char *manifest, int64_t created,
                const char *const *names, const char *const *digs, const struct layer_spec *ls, size_t n)
{
	struct layer_record layers[8] = {0};
	assert_true(n <= 8);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		layers[i] = (struct layer_record){
		    .chain_id = (char *)ls[i].chain,
		    .diff_id = (char *)ls[i].diff,
		    .parent = i ? (char *)ls[i - 1].chain : NULL,
		    .blob_digest = (char *)ls[i].blob,
		    .blob_media_type = "application/vnd.oci.image.layer.v1.tar+gzip",
		    .blob_size = 1000 + i,
		    .size = 2000 + i,
		};
		total += 2000 + i;
	}
	struct image_record img = {
	    .id = (char *)id,
	    .manifest_digest = (char *)manifest,
	    .manifest_media_type = "application/vnd.oci.image.manifest.v1+json",
	    .created = created,
	    .added = 1700000000,
	    .size = total,
	    .architecture = "amd64",
	    .os = "linux",
	    .variant = NULL,
	    .names = (char **)names,
	    .digests = (char **)digs,
	};
	_cleanup_error_ struct vsl_error *err = NULL;
	if (image_db_put(f->db, &img, layers, n, &err) < 0)
		fail_msg("image_db_put: %s", vsl_error_message(err));
}

static struct image_record *get(struct fixture *f, const char *id)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	struct image_record *r = NULL;
	if (image_db_get(f->db, id, &r, &err) < 0)
		fail_msg("image_db_get: %s", vsl_error_message(err));
	return r;
}

/* The strv joined with ',' ("" when empty), for exact comparisons. */
static char *join(char **v)
{
	assert_non_null(v);
	char *s = strdup("");
	assert_non_null(s);
	for (char **i = v; *i; i++) {
		char *next = NULL;
		assert_true(asprintf(&next, "%s%s%s", s, i == v ? "" : ",", *i) >= 0);
		free(s);
		s = next;
	}
	return s;
}

static void assert_strv(char **v, const char *expected)
{
	_cleanup_free_ char *s = join(v);
	assert_string_equal(s, expected);
}

static void assert_resolves(struct fixture *f, const char *input, const char *id)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_free_ char *got = NULL;
	if (image_db_resolve(f->db, input, &got, &err) < 0)
		fail_msg("resolve '%s': %s", input, vsl_error_message(err));
	assert_string_equal(got, id);
}

static void assert_no_such_image(struct fixture *f, const char *input)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	char *got = NULL;
	assert_int_equal(image_db_resolve(f->db, input, &got, &err), -ENOENT);
	assert_null(got);
	char expected[256];
	snprintf(expected, sizeof(expected), "no such image '%s'", input);
	assert_string_equal(vsl_error_message(err), expected);
}

static void test_put_get_roundtrip(void **state)
{
	struct fixture *f = *state;
	const char *id = D("aa", '1'), *manifest = D("aa", '2');
	const char *l1 = D("c1", '0'), *l2 = D("c2", '0');
	const char *d1 = D("d1", '0'), *d2 = D("d2", '0');
	const char *b1 = D("b1", '0'), *b2 = D("b2", '0');
	char repo_digest[128];
	snprintf(repo_digest, sizeof(repo_digest), "docker.io/library/ubuntu@%s", manifest);
	struct layer_spec ls[] = {{l1, d1, b1}, {l2, d2, b2}};
	put(f, id, manifest, 1690000000, (const char *[]){UBUNTU_22, UBUNTU, NULL},
	    (const char *[]){repo_digest, NULL}, ls, 2);

	for (int reopen = 0; reopen < 2; reopen++) {
		if (reopen) {
			/* Everything is on disk: a new process sees the same. */
			db_close(f->db);
			f->db = NULL;
			_cleanup_error_ struct vsl_error *err = NULL;
			assert_int_equal(db_open(f->path, &f->db, &err), 0);
			assert_int_equal(image_db_init(f->db, &err), 0);
		}
		_cleanup_image_record_ struct image_record *r = get(f, id);
		assert_string_equal(r->id, id);
		assert_string_equal(r->manifest_digest, manifest);
		assert_string_equal(r->manifest_media_type, "application/vnd.oci.image.manifest.v1+json");
		assert_int_equal(r->created, 1690000000);
		assert_int_equal(r->added, 1700000000);
		assert_int_equal(r->size, 2000 + 2001);
		assert_string_equal(r->architecture, "amd64");
		assert_string_equal(r->os, "linux");
		assert_null(r->variant);
		assert_strv(r->names, UBUNTU_22 "," UBUNTU); /* sorted */
		assert_strv(r->digests, repo_digest);
		char chains[200];
		snprintf(chains, sizeof(chains), "%s,%s", l1, l2);
		assert_strv(r->chain_ids, chains);

		_cleanup_layer_record_ struct layer_record *l = NULL;
		_cleanup_error_ struct vsl_error *err = NULL;
		assert_int_equal(image_db_get_layer(f->db, l2, &l, &err), 0);
		assert_string_equal(l->chain_id, l2);
		assert_string_equal(l->diff_id, d2);
		assert_string_equal(l->parent, l1);
		assert_string_equal(l->blob_digest, b2);
		assert_string_equal(l->blob_media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
		assert_int_equal(l->blob_size, 1001);
		assert_int_equal(l->size, 2001);
		layer_record_free(TAKE_PTR(l));
		assert_int_equal(image_db_get_layer(f->db, l1, &l, &err), 0);
		assert_null(l->parent);
	}

	/* A second put of the same image (re-pull) keeps `added` and the names it had. */
	put(f, id, manifest, 1690000000, (const char *[]){ALPINE, NULL}, NULL, ls, 2);
	_cleanup_image_record_ struct image_record *r = get(f, id);
	assert_int_equal(r->added, 1700000000);
	assert_strv(r->names, ALPINE "," UBUNTU_22 "," UBUNTU);

	_cleanup_error_ struct vsl_error *err = NULL;
	struct image_record *none = NULL;
	assert_int_equal(image_db_get(f->db, D("ff", '0'), &none, &err), -ENOENT);
	assert_null(none);
	struct layer_record *no_layer = NULL;
	vsl_error_free(TAKE_PTR(err));
	assert_int_equal(image_db_get_layer(f->db, D("ff", '1'), &no_layer, &err), -ENOENT);
	assert_null(no_layer);
}

static void test_put_refuses_bad_input(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	struct image_record img = {.id = "sha256:nothex"};
	assert_int_equal(image_db_put(f->db, &img, NULL, 0, &err), -EINVAL);
	vsl_error_free(TAKE_PTR(err));

	/* A bad layer in the middle: nothing of the image is recorded. */
	const char *id = D("aa", '1');
	struct layer_record layers[] = {
	    {.chain_id = (char *)D("c1", '0'), .diff_id = (char *)D("d1", '0')},
	    {.chain_id = "sha256:../../etc", .diff_id = (char *)D("d2", '0')},
	};
	img = (struct image_record){.id = (char *)id, .names = (char *[]){UBUNTU, NULL}};
	assert_int_equal(image_db_put(f->db, &img, layers, 2, &err), -EINVAL);
	assert_non_null(strstr(vsl_error_message(err), "sha256:../../etc"));
	assert_no_such_image(f, UBUNTU);
	struct layer_record *l = NULL;
	vsl_error_free(TAKE_PTR(err));
	assert_int_equal(image_db_get_layer(f->db, layers[0].chain_id, &l, &err), -ENOENT);

	/* A name with a digest in it belongs in digests. */
	vsl_error_free(TAKE_PTR(err));
	img.names = (char *[]){"docker.io/library/ubuntu@sha256:00", NULL};
	assert_int_equal(image_db_put(f->db, &img, NULL, 0, &err), -EINVAL);
}

static void test_resolve(void **state)
{
	struct fixture *f = *state;
	const char *a = D("ab", '1'), *b = D("ab", '2'), *c = D("cd", '3');
	const char *ma = D("ee", '1');
	char a_digest[128];
	snprintf(a_digest, sizeof(a_digest), "docker.io/library/ubuntu@%s", ma);
	put(f, a, ma, 1, (const char *[]){UBUNTU, NULL}, (const char *[]){a_digest, NULL}, NULL, 0);
	put(f, b, D("ee", '2'), 2, (const char *[]){ALPINE, NULL}, NULL, NULL, 0);
	/* An image named like a hex word: the name wins over the id prefix. */
	put(f, c, D("ee", '3'), 3, (const char *[]){"cafe", NULL}, NULL, NULL, 0);

	assert_resolves(f, UBUNTU, a);
	assert_resolves(f, ALPINE, b);
	assert_resolves(f, a_digest, a);
	assert_resolves(f, a, a);
	assert_resolves(f, b, b);
	assert_resolves(f, "ab1", a);
	assert_resolves(f, "ab2222", b);
	assert_resolves(f, "sha256:ab1", a);
	assert_resolves(f, "c", c);
	assert_resolves(f, "cafe", c);
	assert_resolves(f, a + 7, a); /* all 64 hex digits without sha256: */

	_cleanup_error_ struct vsl_error *err = NULL;
	char *got = NULL;
	assert_int_equal(image_db_resolve(f->db, "ab", &got, &err), -EINVAL);
	assert_null(got);
	assert_string_equal(vsl_error_message(err), "ambiguous image id prefix 'ab'");
	vsl_error_free(TAKE_PTR(err));
	assert_int_equal(image_db_resolve(f->db, "sha256:a", &got, &err), -EINVAL);
	assert_string_equal(vsl_error_message(err), "ambiguous image id prefix 'sha256:a'");

	assert_no_such_image(f, "docker.io/library/debian:latest");
	assert_no_such_image(f, "ab3");
	assert_no_such_image(f, "AB1"); /* ids are lowercase */
	assert_no_such_image(f, D("ab", '3'));
	assert_no_such_image(
	    f, "docker.io/library/"
	       "ubuntu@sha256:0000000000000000000000000000000000000000000000000000000000000000");
	assert_no_such_image(f, "ab1*");
	assert_no_such_image(f, "[a]*");
	assert_no_such_image(f, "sha256:");
}

static void test_names_move(void **state)
{
	struct fixture *f = *state;
	const char *a = D("aa", '1'), *b = D("bb", '1'), *c = D("cc", '1');
	char a_digest[128];
	snprintf(a_digest, sizeof(a_digest), "docker.io/library/ubuntu@%s", D("ee", '1'));
	put(f, a, D("ee", '1'), 1, (const char *[]){UBUNTU, UBUNTU_22, NULL},
	    (const char *[]){a_digest, NULL}, NULL, 0);

	/* A newer ubuntu:latest is pulled: the name moves, the old image keeps the other. */
	put(f, b, D("ee", '2'), 2, (const char *[]){UBUNTU, NULL}, NULL, NULL, 0);
	assert_resolves(f, UBUNTU, b);
	assert_resolves(f, UBUNTU_22, a);
	{
		_cleanup_image_record_ struct image_record *ra = get(f, a);
		assert_strv(ra->names, UBUNTU_22);
		_cleanup_image_record_ struct image_record *rb = get(f, b);
		assert_strv(rb->names, UBUNTU);
	}

	/* And its last name: a dangling image, still there, still with its repo digest. */
	put(f, c, D("ee", '3'), 3, (const char *[]){UBUNTU_22, NULL}, NULL, NULL, 0);
	{
		_cleanup_image_record_ struct image_record *ra = get(f, a);
		assert_strv(ra->names, "");
		assert_strv(ra->digests, a_digest);
	}
	assert_resolves(f, a_digest, a);

	/* vessel tag moves a name the same way. */
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(image_db_tag(f->db, a, "localhost:5000/mine:v1", &err), 0);
	assert_resolves(f, "localhost:5000/mine:v1", a);
	assert_int_equal(image_db_tag(f->db, b, "localhost:5000/mine:v1", &err), 0);
	assert_resolves(f, "localhost:5000/mine:v1", b);
	{
		_cleanup_image_record_ struct image_record *ra = get(f, a);
		assert_strv(ra->names, "");
		_cleanup_image_record_ struct image_record *rb = get(f, b);
		assert_strv(rb->names, "docker.io/library/ubuntu:latest,localhost:5000/mine:v1");
	}
	/* Tagging twice is fine. */
	assert_int_equal(image_db_tag(f->db, b, "localhost:5000/mine:v1", &err), 0);

	/* Tagging an image that does not exist. */
	assert_int_equal(image_db_tag(f->db, D("ff", '0'), "x:1", &err), -ENOENT);
	assert_no_such_image(f, "x:1");
}

static void test_untag(void **state)
{
	struct fixture *f = *state;
	const char *a = D("aa", '1');
	char a_digest[128];
	snprintf(a_digest, sizeof(a_digest), "docker.io/library/ubuntu@%s", D("ee", '1'));
	put(f, a, D("ee", '1'), 1, (const char *[]){UBUNTU, UBUNTU_22, NULL},
	    (const char *[]){a_digest, NULL}, NULL, 0);
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(image_db_untag(f->db, UBUNTU, &err), 0);
	assert_no_such_image(f, UBUNTU);
	assert_resolves(f, UBUNTU_22, a);
	{
		_cleanup_image_record_ struct image_record *r = get(f, a);
		assert_strv(r->names, UBUNTU_22);
		assert_strv(r->digests, a_digest);
	}
	assert_int_equal(image_db_untag(f->db, UBUNTU, &err), -ENOENT);
	assert_string_equal(vsl_error_message(err), "no such image '" UBUNTU "'");
	vsl_error_free(TAKE_PTR(err));

	assert_int_equal(image_db_untag(f->db, a_digest, &err), 0);
	assert_no_such_image(f, a_digest);
	assert_int_equal(image_db_untag(f->db, UBUNTU_22, &err), 0);
	/* No names left: dangling, not removed. */
	_cleanup_image_record_ struct image_record *r = get(f, a);
	assert_strv(r->names, "");
	assert_strv(r->digests, "");
	assert_resolves(f, a, a);
}

static void test_list(void **state)
{
	struct fixture *f = *state;
	const char *a = D("aa", '1'), *b = D("bb", '1'), *c = D("cc", '1');
	struct layer_spec ls[] = {{D("c1", '0'), D("d1", '0'), D("b1", '0')}};
	put(f, a, NULL, 100, (const char *[]){UBUNTU, NULL}, NULL, ls, 1);
	put(f, b, NULL, 300, NULL, NULL, NULL, 0);
	put(f, c, NULL, 200, (const char *[]){ALPINE, NULL}, NULL, ls, 1);

	_cleanup_error_ struct vsl_error *err = NULL;
	struct image_record **list = NULL;
	size_t n = 0;
	assert_int_equal(image_db_list(f->db, &list, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0]->id, b); /* newest first */
	assert_string_equal(list[1]->id, c);
	assert_string_equal(list[2]->id, a);
	assert_strv(list[0]->names, "");
	assert_strv(list[1]->names, ALPINE);
	assert_strv(list[2]->chain_ids, ls[0].chain);
	assert_null(list[0]->manifest_digest);
	image_record_list_free(list, n);
}

static void test_list_empty(void **state)
{
	struct fixture *f = *state;
	_cleanup_error_ struct vsl_error *err = NULL;
	struct image_record **list = NULL;
	size_t n = 99;
	assert_int_equal(image_db_list(f->db, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_non_null(list);
	image_record_list_free(list, n);
}

static void test_remove_shared_layers(void **state)
{
	struct fixture *f = *state;
	const char *a = D("aa", '1'), *ma = D("aa", '2');
	const char *b = D("bb", '1'), *mb = D("bb", '2');
	/* Both images share the base layer (same blob); each has its own top. */
	const char *base = D("c1", '0'), *base_blob = D("b1", '0');
	const char *top_a = D("c2", '0'), *top_a_blob = D("b2", '0');
	const char *top_b = D("c3", '0'), *top_b_blob = D("b3", '0');
	struct layer_spec la[] = {{base, D("d1", '0'), base_blob}, {top_a, D("d2", '0'), top_a_blob}};
	struct layer_spec lb[] = {{base, D("d1", '0'), base_blob}, {top_b, D("d3", '0'), top_b_blob}};
	put(f, a, ma, 1, (const char *[]){UBUNTU, NULL}, NULL, la, 2);
	put(f, b, mb, 2, (const char *[]){ALPINE, NULL}, NULL, lb, 2);

	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_strv_ char **chains = NULL, **blobs = NULL;
	assert_int_equal(image_db_remove(f->db, a, &chains, &blobs, &err), 0);
	assert_strv(chains, top_a);
	char expected[512];
	snprintf(expected, sizeof(expected), "%s,%s,%s", a, ma, top_a_blob);
	assert_strv(blobs, expected);

	assert_no_such_image(f, UBUNTU);
	assert_no_such_image(f, a);
	struct layer_record *l = NULL;
	assert_int_equal(image_db_get_layer(f->db, top_a, &l, &err), -ENOENT);
	vsl_error_free(TAKE_PTR(err));
	assert_int_equal(image_db_get_layer(f->db, base, &l, &err), 0);
	assert_string_equal(l->blob_digest, base_blob);
	layer_record_free(l);
	{
		_cleanup_image_record_ struct image_record *r = get(f, b);
		snprintf(expected, sizeof(expected), "%s,%s", base, top_b);
		assert_strv(r->chain_ids, expected);
	}

	/* The last user goes: now the base goes too, top layer first. */
	strv_free(TAKE_PTR(chains));
	strv_free(TAKE_PTR(blobs));
	assert_int_equal(image_db_remove(f->db, b, &chains, &blobs, &err), 0);
	snprintf(expected, sizeof(expected), "%s,%s", top_b, base);
	assert_strv(chains, expected);
	snprintf(expected, sizeof(expected), "%s,%s,%s,%s", b, mb, top_b_blob, base_blob);
	assert_strv(blobs, expected);

	/* Gone already. */
	strv_free(TAKE_PTR(chains));
	assert_int_equal(image_db_remove(f->db, b, &chains, NULL, &err), -ENOENT);
	assert_null(chains);
	assert_non_null(strstr(vsl_error_message(err), "no such image"));
}

static void test_remove_same_layer_other_blob(void **state)
{
	/* The same layer reached two images through differently compressed
	 * blobs: removing the image whose blob the layer row names must keep the
	 * layer, release that blob, and point the layer at the other blob. */
	struct fixture *f = *state;
	const char *a = D("aa", '1'), *b = D("bb", '1');
	const char *layer = D("c1", '0'), *gz = D("b1", '0'), *zst = D("b2", '0');
	put(f, a, NULL, 1, NULL, NULL, (struct layer_spec[]){{layer, D("d1", '0'), gz}}, 1);
	put(f, b, NULL, 2, NULL, NULL, (struct layer_spec[]){{layer, D("d1", '0'), zst}}, 1);

	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_layer_record_ struct layer_record *l = NULL;
	assert_int_equal(image_db_get_layer(f->db, layer, &l, &err), 0);
	assert_string_equal(l->blob_digest, gz); /* the first one recorded */
	layer_record_free(TAKE_PTR(l));

	_cleanup_strv_ char **chains = NULL, **blobs = NULL;
	assert_int_equal(image_db_remove(f->db, a, &chains, &blobs, &err), 0);
	assert_strv(chains, "");
	char expected[256];
	snprintf(expected, sizeof(expected), "%s,%s", a, gz);
	assert_strv(blobs, expected);
	assert_int_equal(image_db_get_layer(f->db, layer, &l, &err), 0);
	assert_string_equal(l->blob_digest, zst);
	assert_int_equal(l->blob_size, 1000);
}

static void test_remove_inside_caller_transaction(void **state)
{
	/* The engine may combine a removal with its own checks in one
	 * transaction; rolling that back undoes the removal. */
	struct fixture *f = *state;
	const char *a = D("aa", '1');
	put(f, a, NULL, 1, (const char *[]){UBUNTU, NULL}, NULL, NULL, 0);
	_cleanup_error_ struct vsl_error *err = NULL;
	assert_int_equal(db_begin(f->db, &err), 0);
	assert_int_equal(image_db_remove(f->db, a, NULL, NULL, &err), 0);
	db_rollback(f->db);
	assert_resolves(f, UBUNTU, a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_put_get_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_refuses_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names_move, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_untag, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_shared_layers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_same_layer_other_blob, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_inside_caller_transaction, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

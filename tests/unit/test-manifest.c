/* Image documents: manifests, indexes and image configs as registries serve
 * them (parsed field by field), the mistakes each must refuse (with the path
 * of the field), platform names and selection from an index, chain IDs, and
 * what vessel writes reading back the same. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <cmocka.h>

#include "image/manifest.h"
#include "util/cleanup.h"
#include "util/error.h"

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HEX_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define HEX_D "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define HEX_E "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIG_A "sha256:" HEX_A
#define DIG_B "sha256:" HEX_B
#define DIG_C "sha256:" HEX_C
#define DIG_D "sha256:" HEX_D
#define DIG_E "sha256:" HEX_E

/* JSON written with ' for " keeps the documents below readable. */
static char *q(const char *s)
{
	char *t = strdup(s);
	assert_non_null(t);
	for (char *c = t; *c; c++)
		if (*c == '\'')
			*c = '"';
	return t;
}

static const char docker_manifest[] =
    "{'schemaVersion': 2,"
    " 'mediaType': 'application/vnd.docker.distribution.manifest.v2+json',"
    " 'config': {'mediaType': 'application/vnd.docker.container.image.v1+json', 'size': 1469,"
    "            'digest': '" DIG_A "'},"
    " 'layers': ["
    "   {'mediaType': 'application/vnd.docker.image.rootfs.diff.tar.gzip', 'size': 29533422,"
    "    'digest': '" DIG_B "'},"
    "   {'mediaType': 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'size': 0,"
    "    'digest': '" DIG_C "', 'urls': ['https://example.com/layer', 'https://mirror/layer']},"
    "   {'mediaType': 'application/vnd.docker.image.rootfs.diff.tar.gzip', 'size': 9007199254740993,"
    "    'digest': '" DIG_D "', 'annotations': {'org.example.layer': 'third'}}],"
    " 'annotations': {'org.opencontainers.image.created': '2024-01-02T03:04:05Z', 'empty': ''},"
    " 'subject': {'ignored': true}}";

static const char oci_index[] =
    "{'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json',"
    " 'manifests': ["
    "   {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': '" DIG_A "', 'size': 424,"
    "    'platform': {'architecture': 'amd64', 'os': 'linux'}},"
    "   {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': '" DIG_B "', 'size': 425,"
    "    'platform': {'architecture': 'arm64', 'os': 'linux', 'variant': 'v8'}},"
    "   {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': '" DIG_C "', 'size': 566,"
    "    'platform': {'architecture': 'unknown', 'os': 'unknown'},"
    "    'annotations': {'vnd.docker.reference.digest': '" DIG_A "',"
    "                    'vnd.docker.reference.type': 'attestation-manifest'}},"
    "   {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': '" DIG_D "', 'size': 1,"
    "    'platform': {'architecture': 'amd64', 'os': 'windows', 'os.version': '10.0.17763.5122'}}],"
    " 'annotations': {'org.opencontainers.image.ref.name': 'latest'}}";

static const char docker_config[] =
    "{'architecture': 'arm64', 'variant': 'v8', 'os': 'linux', 'author': 'someone',"
    " 'created': '2024-01-02T03:04:05.123456789Z', 'comment': 'Imported from -',"
    " 'docker_version': '24.0.7', 'container_config': {'Cmd': ['ignored']},"
    " 'config': {'Hostname': '', 'User': 'app:app',"
    "   'ExposedPorts': {'80/tcp': {}, '53/udp': {}},"
    "   'Env': ['PATH=/usr/local/bin:/usr/bin', 'LANG=C.UTF-8'],"
    "   'Cmd': ['nginx', '-g', 'daemon off;'], 'Entrypoint': ['/docker-entrypoint.sh'],"
    "   'Volumes': {'/data': {}}, 'WorkingDir': '/srv',"
    "   'Labels': {'maintainer': 'NGINX <nginx@example.com>'}, 'StopSignal': 'SIGQUIT',"
    "   'Shell': ['/bin/bash', '-c'], 'OnBuild': ['RUN make'],"
    "   'Healthcheck': {'Test': ['CMD-SHELL', 'curl -f localhost'], 'Interval': 30000000000,"
    "                   'Timeout': 5000000000, 'StartPeriod': 1000000000, 'Retries': 3},"
    "   'ArgsEscaped': true, 'Image': 'sha256:whatever'},"
    " 'rootfs': {'type': 'layers', 'diff_ids': ['" DIG_B "', '" DIG_C "']},"
    " 'history': ["
    "   {'created': '2024-01-01T00:00:00Z', 'created_by': '/bin/sh -c #(nop) ADD file:x in / '},"
    "   {'created': '2024-01-01T00:00:01Z', 'created_by': '/bin/sh -c #(nop)  CMD [\\\"bash\\\"]',"
    "    'empty_layer': true, 'author': 'me', 'comment': 'buildkit.dockerfile.v0'},"
    "   {'created': '2024-01-01T00:00:02Z', 'created_by': 'RUN apt-get update'}]}";

static struct manifest *parse_manifest_ok(const char *json)
{
	_cleanup_free_ char *doc = q(json);
	_cleanup_error_ struct vsl_error *err = NULL;
	struct manifest *m = NULL;
	if (manifest_parse(doc, strlen(doc), &m, &err) < 0)
		fail_msg("manifest_parse: %s", vsl_error_message(err));
	return m;
}

static struct image_index *parse_index_ok(const char *json)
{
	_cleanup_free_ char *doc = q(json);
	_cleanup_error_ struct vsl_error *err = NULL;
	struct image_index *idx = NULL;
	if (image_index_parse(doc, strlen(doc), &idx, &err) < 0)
		fail_msg("image_index_parse: %s", vsl_error_message(err));
	return idx;
}

static struct image_config *parse_config_ok(const char *json)
{
	_cleanup_free_ char *doc = q(json);
	_cleanup_error_ struct vsl_error *err = NULL;
	struct image_config *c = NULL;
	if (image_config_parse(doc, strlen(doc), &c, &err) < 0)
		fail_msg("image_config_parse: %s", vsl_error_message(err));
	return c;
}

static void assert_strv(char **got, ...)
{
	va_list ap;
	va_start(ap, got);
	assert_non_null(got);
	size_t i = 0;
	for (const char *want; (want = va_arg(ap, const char *)) != NULL; i++) {
		assert_non_null(got[i]);
		assert_string_equal(got[i], want);
	}
	va_end(ap);
	assert_null(got[i]);
}

/* ---- kinds ---- */

static int kind_of(const char *ct, const char *json, enum manifest_kind *ret, char **ret_msg, int *ret_code)
{
	_cleanup_free_ char *doc = q(json);
	_cleanup_error_ struct vsl_error *err = NULL;
	int r = manifest_kind_of(ct, doc, strlen(doc), ret, &err);
	if (r < 0) {
		*ret_msg = strdup(vsl_error_message(err));
		*ret_code = err->errno_value;
	}
	return r;
}

static void test_kind_of(void **state)
{
	(void)state;
	static const struct {
		const char *ct, *body;
		enum manifest_kind want;
	} ok[] = {
	    /* The Content-Type decides when it names a type. */
	    {MEDIA_TYPE_DOCKER_MANIFEST, "{'schemaVersion': 2}", MANIFEST_IMAGE},
	    {MEDIA_TYPE_OCI_MANIFEST, "{'schemaVersion': 2}", MANIFEST_IMAGE},
	    {MEDIA_TYPE_DOCKER_LIST, "{'schemaVersion': 2}", MANIFEST_INDEX},
	    {"  application/vnd.oci.image.index.v1+json ; charset=utf-8", "{}", MANIFEST_INDEX},
	    {"Application/VND.OCI.image.index.v1+JSON", "{}", MANIFEST_INDEX},
	    /* Else the body's mediaType. */
	    {NULL, "{'mediaType': 'application/vnd.oci.image.index.v1+json', 'layers': []}", MANIFEST_INDEX},
	    {"application/json", "{'mediaType': 'application/vnd.oci.image.manifest.v1+json'}",
	     MANIFEST_IMAGE},
	    {"", "{'mediaType': 'application/vnd.docker.distribution.manifest.list.v2+json'}",
	     MANIFEST_INDEX},
	    /* Else its shape (OCI documents may omit mediaType). */
	    {"application/octet-stream", "{'schemaVersion': 2, 'manifests': []}", MANIFEST_INDEX},
	    {NULL, "{'schemaVersion': 2, 'config': {}, 'layers': []}", MANIFEST_IMAGE},
	    {NULL, "{'schemaVersion': 2, 'mediaType': null, 'layers': []}", MANIFEST_IMAGE},
	    /* Agreement is fine. */
	    {MEDIA_TYPE_OCI_INDEX,
	     "{'mediaType': 'application/vnd.docker.distribution.manifest.list.v2+json'}", MANIFEST_INDEX},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		enum manifest_kind kind = (enum manifest_kind) - 1;
		_cleanup_free_ char *msg = NULL;
		int code = 0;
		if (kind_of(ok[i].ct, ok[i].body, &kind, &msg, &code) < 0)
			fail_msg("case %zu: %s", i, msg);
		assert_int_equal(kind, ok[i].want);
	}

	static const char schema1[] = "schema 1 manifests are no longer supported; push the image again with "
	                              "a current docker or vessel";
	static const struct {
		const char *ct, *body, *msg;
		int code;
	} bad[] = {
	    {MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED, "{'schemaVersion': 1, 'fsLayers': []}", schema1,
	     EPROTONOSUPPORT},
	    {"application/vnd.docker.distribution.manifest.v1+json", "{}", schema1, EPROTONOSUPPORT},
	    {NULL, "{'schemaVersion': 1, 'name': 'library/ubuntu', 'fsLayers': []}", schema1,
	     EPROTONOSUPPORT},
	    {"application/json", "{'schemaVersion': 1, 'layers': []}", schema1, EPROTONOSUPPORT},
	    {NULL, "{'mediaType': 'application/vnd.docker.distribution.manifest.v1+prettyjws'}", schema1,
	     EPROTONOSUPPORT},
	    {MEDIA_TYPE_OCI_INDEX, "{'mediaType': 'application/vnd.oci.image.manifest.v1+json'}",
	     "manifest: content type 'application/vnd.oci.image.index.v1+json' does not match mediaType "
	     "'application/vnd.oci.image.manifest.v1+json'",
	     0},
	    {NULL, "{'mediaType': 'application/vnd.oci.artifact.manifest.v1+json'}",
	     "manifest: mediaType: unsupported media type 'application/vnd.oci.artifact.manifest.v1+json'",
	     0},
	    {NULL, "{'mediaType': 2}", "manifest: mediaType: expected a string", 0},
	    {NULL, "{'schemaVersion': 2}",
	     "manifest: neither an image manifest nor an index (no mediaType, layers or manifests)", 0},
	    {"application/json", "[1, 2]", "manifest: expected an object", 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		enum manifest_kind kind = (enum manifest_kind) - 1;
		_cleanup_free_ char *msg = NULL;
		int code = -1;
		assert_int_equal(kind_of(bad[i].ct, bad[i].body, &kind, &msg, &code) < 0, 1);
		assert_string_equal(msg, bad[i].msg);
		assert_int_equal(code, bad[i].code);
		assert_int_equal(kind, (enum manifest_kind) - 1); /* untouched */
	}

	/* Not JSON at all, and too large to be a manifest. */
	_cleanup_error_ struct vsl_error *err = NULL;
	enum manifest_kind kind;
	assert_true(manifest_kind_of(NULL, "<html>", 6, &kind, &err) < 0);
	assert_true(strncmp(vsl_error_message(err), "manifest: invalid JSON at line 1", 32) == 0);
	vsl_error_free(TAKE_PTR(err));

	size_t big = MANIFEST_MAX_SIZE + 1;
	_cleanup_free_ char *body = malloc(big);
	assert_non_null(body);
	memset(body, ' ', big);
	body[0] = '{';
	body[big - 1] = '}';
	assert_true(manifest_kind_of(MEDIA_TYPE_OCI_MANIFEST, body, big, &kind, &err) < 0);
	assert_string_equal(vsl_error_message(err),
	                    "manifest: 4194305 bytes is over the limit of 4194304 bytes");
	assert_int_equal(err->errno_value, EFBIG);
	vsl_error_free(TAKE_PTR(err));
	/* At the cap it is a document like any other. */
	body[big - 2] = '}';
	assert_int_equal(manifest_kind_of(MEDIA_TYPE_OCI_MANIFEST, body, big - 1, &kind, &err), 0);
	assert_int_equal(kind, MANIFEST_IMAGE);
}

/* ---- parsing ---- */

static void test_manifest_parse(void **state)
{
	(void)state;
	struct manifest *m = parse_manifest_ok(docker_manifest);
	assert_string_equal(m->media_type, MEDIA_TYPE_DOCKER_MANIFEST);
	assert_string_equal(m->config.media_type, MEDIA_TYPE_DOCKER_CONFIG);
	assert_string_equal(m->config.digest, DIG_A);
	assert_int_equal(m->config.size, 1469);
	assert_null(m->config.urls);
	assert_null(m->config.platform);
	assert_int_equal(m->n_layers, 3);
	assert_string_equal(m->layers[0].media_type, MEDIA_TYPE_DOCKER_LAYER);
	assert_string_equal(m->layers[0].digest, DIG_B);
	assert_int_equal(m->layers[0].size, 29533422);
	assert_string_equal(m->layers[1].media_type, MEDIA_TYPE_DOCKER_FOREIGN_LAYER);
	assert_string_equal(m->layers[1].digest, DIG_C);
	assert_int_equal(m->layers[1].size, 0);
	assert_strv(m->layers[1].urls, "https://example.com/layer", "https://mirror/layer", NULL);
	assert_true(m->layers[2].size == INT64_C(9007199254740993)); /* beyond a double's precision */
	assert_int_equal(m->layers[2].n_annotations, 1);
	assert_string_equal(m->layers[2].annotations[0].key, "org.example.layer");
	assert_string_equal(m->layers[2].annotations[0].value, "third");
	assert_int_equal(m->n_annotations, 2);
	assert_string_equal(m->annotations[0].key, "org.opencontainers.image.created");
	assert_string_equal(m->annotations[0].value, "2024-01-02T03:04:05Z");
	assert_string_equal(m->annotations[1].key, "empty");
	assert_string_equal(m->annotations[1].value, "");
	manifest_free(m);

	/* OCI, without the optional mediaType, no layers at all. */
	m = parse_manifest_ok("{'schemaVersion': 2, 'config': {'mediaType': "
	                      "'application/vnd.oci.image.config.v1+json', 'digest': '" DIG_E "', 'size': 2},"
	                      " 'layers': []}");
	assert_null(m->media_type);
	assert_string_equal(m->config.digest, DIG_E);
	assert_int_equal(m->n_layers, 0);
	assert_null(m->layers);
	manifest_free(m);
	manifest_free(NULL);
}

static void test_index_parse(void **state)
{
	(void)state;
	_cleanup_image_index_ struct image_index *idx = parse_index_ok(oci_index);
	assert_string_equal(idx->media_type, MEDIA_TYPE_OCI_INDEX);
	assert_int_equal(idx->n_manifests, 4);
	const struct descriptor *d = idx->manifests;
	assert_string_equal(d[0].media_type, MEDIA_TYPE_OCI_MANIFEST);
	assert_string_equal(d[0].digest, DIG_A);
	assert_int_equal(d[0].size, 424);
	assert_string_equal(d[0].platform->os, "linux");
	assert_string_equal(d[0].platform->architecture, "amd64");
	assert_null(d[0].platform->variant);
	assert_null(d[0].platform->os_version);
	assert_string_equal(d[1].platform->architecture, "arm64");
	assert_string_equal(d[1].platform->variant, "v8");
	assert_string_equal(d[2].platform->os, "unknown");
	assert_int_equal(d[2].n_annotations, 2);
	assert_string_equal(d[2].annotations[1].key, "vnd.docker.reference.type");
	assert_string_equal(d[2].annotations[1].value, "attestation-manifest");
	assert_string_equal(d[3].platform->os, "windows");
	assert_string_equal(d[3].platform->os_version, "10.0.17763.5122");
	assert_int_equal(idx->n_annotations, 1);
	assert_string_equal(idx->annotations[0].value, "latest");

	/* Docker's manifest list. */
	_cleanup_image_index_ struct image_index *list = parse_index_ok(
	    "{'schemaVersion': 2,"
	    " 'mediaType': 'application/vnd.docker.distribution.manifest.list.v2+json',"
	    " 'manifests': [{'mediaType': 'application/vnd.docker.distribution.manifest.v2+json',"
	    "   'digest': '" DIG_B "', 'size': 7, 'platform': {'architecture': 'arm',"
	    "   'os': 'linux', 'variant': 'v6'}}]}");
	assert_string_equal(list->media_type, MEDIA_TYPE_DOCKER_LIST);
	assert_int_equal(list->n_manifests, 1);
	assert_string_equal(list->manifests[0].platform->variant, "v6");
}

static void test_image_config_parse(void **state)
{
	(void)state;
	_cleanup_image_config_ struct image_config *c = parse_config_ok(docker_config);
	assert_string_equal(c->architecture, "arm64");
	assert_string_equal(c->variant, "v8");
	assert_string_equal(c->os, "linux");
	assert_null(c->os_version);
	assert_string_equal(c->author, "someone");
	assert_string_equal(c->created, "2024-01-02T03:04:05.123456789Z");
	assert_string_equal(c->comment, "Imported from -");
	const struct image_container_config *cc = &c->config;
	assert_string_equal(cc->user, "app:app");
	assert_strv(cc->exposed_ports, "80/tcp", "53/udp", NULL);
	assert_strv(cc->env, "PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8", NULL);
	assert_strv(cc->cmd, "nginx", "-g", "daemon off;", NULL);
	assert_strv(cc->entrypoint, "/docker-entrypoint.sh", NULL);
	assert_strv(cc->volumes, "/data", NULL);
	assert_string_equal(cc->working_dir, "/srv");
	assert_int_equal(cc->n_labels, 1);
	assert_string_equal(cc->labels[0].key, "maintainer");
	assert_string_equal(cc->labels[0].value, "NGINX <nginx@example.com>");
	assert_string_equal(cc->stop_signal, "SIGQUIT");
	assert_strv(cc->shell, "/bin/bash", "-c", NULL);
	assert_strv(cc->onbuild, "RUN make", NULL);
	assert_non_null(cc->healthcheck);
	assert_strv(cc->healthcheck->test, "CMD-SHELL", "curl -f localhost", NULL);
	assert_true(cc->healthcheck->interval == INT64_C(30000000000));
	assert_true(cc->healthcheck->timeout == INT64_C(5000000000));
	assert_true(cc->healthcheck->start_period == INT64_C(1000000000));
	assert_int_equal(cc->healthcheck->start_interval, 0);
	assert_int_equal(cc->healthcheck->retries, 3);
	assert_true(cc->args_escaped);
	assert_strv(c->diff_ids, DIG_B, DIG_C, NULL);
	assert_int_equal(c->n_history, 3);
	assert_string_equal(c->history[0].created, "2024-01-01T00:00:00Z");
	assert_string_equal(c->history[0].created_by, "/bin/sh -c #(nop) ADD file:x in / ");
	assert_false(c->history[0].empty_layer);
	assert_null(c->history[0].author);
	assert_string_equal(c->history[1].created_by, "/bin/sh -c #(nop)  CMD [\"bash\"]");
	assert_true(c->history[1].empty_layer);
	assert_string_equal(c->history[1].author, "me");
	assert_string_equal(c->history[1].comment, "buildkit.dockerfile.v0");
	assert_false(c->history[2].empty_layer);

	/* The least an image config can be: no config, no layers, null lists. */
	_cleanup_image_config_ struct image_config *min = parse_config_ok(
	    "{'architecture': 'amd64', 'os': 'linux', 'config': {'Env': null, 'ExposedPorts': null,"
	    " 'Volumes': {}}, 'rootfs': {'type': 'layers'}}");
	assert_null(min->diff_ids);
	assert_null(min->config.env);
	assert_null(min->config.exposed_ports);
	assert_strv(min->config.volumes, NULL); /* present but empty */
	assert_null(min->config.healthcheck);
	assert_int_equal(min->n_history, 0);
}

enum doc { DOC_MANIFEST, DOC_INDEX, DOC_CONFIG };

static void expect_error(enum doc doc, const char *json, const char *msg)
{
	_cleanup_free_ char *text = q(json);
	_cleanup_error_ struct vsl_error *err = NULL;
	void *ret = (void *)0x1;
	int r;
	if (doc == DOC_MANIFEST)
		r = manifest_parse(text, strlen(text), (struct manifest **)&ret, &err);
	else if (doc == DOC_INDEX)
		r = image_index_parse(text, strlen(text), (struct image_index **)&ret, &err);
	else
		r = image_config_parse(text, strlen(text), (struct image_config **)&ret, &err);
	if (r >= 0)
		fail_msg("accepted: %s", json);
	assert_ptr_equal(ret, (void *)0x1); /* untouched */
	assert_string_equal(vsl_error_message(err), msg);
}

#define LAYER(d) "{'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip', 'digest': '" d "', 'size': 1}"
#define CONFIG_DESC                                                                                          \
	"{'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': '" DIG_A "', 'size': 1}"

static void test_parse_errors(void **state)
{
	(void)state;
	expect_error(DOC_MANIFEST,
	             "{'schemaVersion': 2, 'config': " CONFIG_DESC
	             ", 'layers': [" LAYER(DIG_B) ", " LAYER(DIG_C) ", " LAYER("x") "]}",
	             "manifest: layers[2].digest: invalid digest 'x'");
	/* Digests become file names: nothing but sha256 and 64 lowercase hex. */
	expect_error(DOC_MANIFEST,
	             "{'schemaVersion': 2, 'config': " CONFIG_DESC
	             ", 'layers': [" LAYER("sha256:../../../../etc/passwd") "]}",
	             "manifest: layers[0].digest: invalid digest 'sha256:../../../../etc/passwd'");
	expect_error(DOC_MANIFEST,
	             "{'schemaVersion': 2, 'config': " CONFIG_DESC ", 'layers': [" LAYER(
	                 "sha256:"
	                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") "]}",
	             "manifest: layers[0].digest: invalid digest "
	             "'sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'");
	expect_error(DOC_MANIFEST,
	             "{'schemaVersion': 2, 'config': {'mediaType': 'x', 'digest': 'sha512:" HEX_A HEX_A
	             "', 'size': 1}, 'layers': []}",
	             "manifest: config.digest: invalid digest 'sha512:" HEX_A HEX_A "'");
	expect_error(DOC_MANIFEST,
	             "{'schemaVersion': 2, 'config': {'mediaType': 'x', 'digest': '" DIG_A "', 'size': -1},"
	             " 'layers': []}",
	             "manifest: config.size: -1 is not a valid size");
	expect_error(DOC_MANIFEST,
	             "{'schemaVersion': 2, 'config': {'mediaType': 'x', 'digest': '" DIG_A "', 'size': '12'},"
	             " 'layers': []}",
	             "manifest: config.size: expected a 64-bit integer");
	expect_error(
	    DOC_MANIFEST,
	    "{'schemaVersion': 2, 'config': " CONFIG_DESC ", 'layers': [{'mediaType': 'x', 'digest': '" DIG_B
	    "', 'size': 9223372036854775808}]}",
	    "manifest: layers[0].size: 9223372036854775808 is out of range (expected a 64-bit integer)");
	expect_error(DOC_MANIFEST,
	             "{'schemaVersion': 2, 'config': {'digest': '" DIG_A "', 'size': 1}, 'layers': []}",
	             "manifest: config.mediaType: required field missing");
	expect_error(DOC_MANIFEST, "{'schemaVersion': 2, 'config': " CONFIG_DESC "}",
	             "manifest: layers: required field missing");
	expect_error(DOC_MANIFEST, "{'schemaVersion': 2, 'config': " CONFIG_DESC ", 'layers': {}}",
	             "manifest: layers: expected an array");
	expect_error(DOC_MANIFEST,
	             "{'schemaVersion': 2, 'config': " CONFIG_DESC ", 'layers': [], 'annotations': {'a': 1}}",
	             "manifest: annotations.a: expected a string");
	expect_error(DOC_MANIFEST, "{'config': " CONFIG_DESC ", 'layers': []}",
	             "manifest: schemaVersion: required field missing");
	expect_error(
	    DOC_MANIFEST, "{'schemaVersion': 1, 'config': " CONFIG_DESC ", 'layers': []}",
	    "manifest: schemaVersion: schema 1 manifests are no longer supported; push the image again "
	    "with a current docker or vessel");
	expect_error(DOC_MANIFEST, "{'schemaVersion': 3, 'config': " CONFIG_DESC ", 'layers': []}",
	             "manifest: schemaVersion: unsupported schema version 3 (expected 2)");
	expect_error(DOC_MANIFEST, "{'schemaVersion': '2', 'config': " CONFIG_DESC ", 'layers': []}",
	             "manifest: schemaVersion: expected an integer");
	expect_error(
	    DOC_MANIFEST,
	    "{'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json', 'manifests': []}",
	    "manifest: mediaType: unknown media type 'application/vnd.oci.image.index.v1+json' (expected "
	    "one of application/vnd.docker.distribution.manifest.v2+json, "
	    "application/vnd.oci.image.manifest.v1+json)");
	expect_error(DOC_MANIFEST, "{'schemaVersion': 2, 'config': ",
	             "manifest: invalid JSON at line 1, column 31: "
	             "unexpected token near end of file");

	expect_error(DOC_INDEX, "{'schemaVersion': 2}", "image index: manifests: required field missing");
	expect_error(
	    DOC_INDEX,
	    "{'schemaVersion': 2, 'manifests': [" LAYER(DIG_A) ", {'mediaType': 'x', 'digest': '" DIG_B
	                                                       "', 'size': 1, 'platform': {'os': 'linux'}}]}",
	    "image index: manifests[1].platform.architecture: required field missing");
	expect_error(DOC_INDEX, "{'schemaVersion': 2, 'manifests': [" LAYER("sha256:1234") "]}",
	             "image index: manifests[0].digest: invalid digest 'sha256:1234'");
	expect_error(DOC_INDEX, "{'schemaVersion': 2, 'manifests': ['" DIG_A "']}",
	             "image index: manifests[0]: expected an object");

#define CFG(rest) "{'architecture': 'amd64', 'os': 'linux', " rest "}"
	expect_error(DOC_CONFIG, CFG("'config': {}"), "image config: rootfs: required field missing");
	expect_error(DOC_CONFIG, "{'os': 'linux', 'rootfs': {'type': 'layers'}}",
	             "image config: architecture: required field missing");
	expect_error(DOC_CONFIG, CFG("'rootfs': {'type': 'tarball'}"),
	             "image config: rootfs.type: unsupported rootfs type 'tarball' (expected 'layers')");
	expect_error(DOC_CONFIG, CFG("'rootfs': {'diff_ids': []}"),
	             "image config: rootfs.type: required field missing");
	expect_error(DOC_CONFIG, CFG("'rootfs': {'type': 'layers', 'diff_ids': ['" DIG_A "', 'sha256:abc']}"),
	             "image config: rootfs.diff_ids[1]: invalid digest 'sha256:abc'");
	expect_error(DOC_CONFIG, CFG("'rootfs': {'type': 'layers'}, 'config': {'Env': 'A=1'}"),
	             "image config: config.Env: expected an array of strings");
	expect_error(DOC_CONFIG, CFG("'rootfs': {'type': 'layers'}, 'config': {'ExposedPorts': ['80/tcp']}"),
	             "image config: config.ExposedPorts: expected an object");
	expect_error(DOC_CONFIG,
	             CFG("'rootfs': {'type': 'layers'}, 'config': {'ExposedPorts': {'80/tcp': 'yes'}}"),
	             "image config: config.ExposedPorts.80/tcp: expected an object");
	expect_error(DOC_CONFIG,
	             CFG("'rootfs': {'type': 'layers'}, 'config': {'Healthcheck': {'Retries': 1.5}}"),
	             "image config: config.Healthcheck.Retries: expected a 32-bit integer");
	expect_error(DOC_CONFIG, CFG("'rootfs': {'type': 'layers'}, 'history': [{'empty_layer': 'true'}]"),
	             "image config: history[0].empty_layer: expected a boolean");
#undef CFG

	/* Bodies over the caps are refused before parsing. */
	_cleanup_error_ struct vsl_error *err = NULL;
	struct manifest *m = NULL;
	struct image_config *c = NULL;
	size_t big = IMAGE_CONFIG_MAX_SIZE + 1;
	_cleanup_free_ char *body = malloc(big);
	assert_non_null(body);
	memset(body, ' ', big);
	assert_true(manifest_parse(body, MANIFEST_MAX_SIZE + 1, &m, &err) < 0);
	assert_string_equal(vsl_error_message(err),
	                    "manifest: 4194305 bytes is over the limit of 4194304 bytes");
	vsl_error_free(TAKE_PTR(err));
	struct image_index *idx = NULL;
	assert_true(image_index_parse(body, MANIFEST_MAX_SIZE + 1, &idx, &err) < 0);
	assert_string_equal(vsl_error_message(err),
	                    "image index: 4194305 bytes is over the limit of 4194304 bytes");
	vsl_error_free(TAKE_PTR(err));
	assert_true(image_config_parse(body, big, &c, &err) < 0);
	assert_string_equal(vsl_error_message(err),
	                    "image config: 8388609 bytes is over the limit of 8388608 bytes");
	assert_null(m);
	assert_null(c);
	assert_null(idx);
}

/* ---- platforms ---- */

static void expect_platform(const char *in, const char *os, const char *arch, const char *variant)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	struct platform p = {0};
	if (platform_parse(in, &p, &err) < 0)
		fail_msg("platform_parse('%s'): %s", in, vsl_error_message(err));
	assert_string_equal(p.os, os);
	assert_string_equal(p.architecture, arch);
	if (variant == NULL)
		assert_null(p.variant);
	else
		assert_string_equal(p.variant, variant);
	platform_release(&p);
	assert_null(p.os);
}

static void test_platform_parse(void **state)
{
	(void)state;
	expect_platform("linux/arm64/v8", "linux", "arm64", "v8");
	expect_platform("linux/amd64", "linux", "amd64", NULL);
	expect_platform("arm64", "linux", "arm64", "v8");
	expect_platform("linux/aarch64", "linux", "arm64", "v8");
	expect_platform("aarch64", "linux", "arm64", "v8");
	expect_platform("linux/arm64/8", "linux", "arm64", "v8");
	expect_platform("linux/x86_64", "linux", "amd64", NULL);
	expect_platform("x86-64", "linux", "amd64", NULL);
	expect_platform("linux/amd64/v1", "linux", "amd64", NULL);
	expect_platform("linux/amd64/v3", "linux", "amd64", "v3");
	expect_platform("linux/armhf", "linux", "arm", "v7");
	expect_platform("linux/armel", "linux", "arm", "v6");
	expect_platform("linux/arm", "linux", "arm", "v7");
	expect_platform("linux/arm/6", "linux", "arm", "v6");
	expect_platform("linux/arm/v5", "linux", "arm", "v5");
	expect_platform("i386", "linux", "386", NULL);
	expect_platform("s390x", "linux", "s390x", NULL);
	expect_platform("Linux/AMD64", "linux", "amd64", NULL);
	expect_platform("windows/amd64", "windows", "amd64", NULL);
	expect_platform("linux/riscv64", "linux", "riscv64", NULL);

	/* A lone OS takes the host's architecture. */
	struct utsname u;
	assert_int_equal(uname(&u), 0);
	const char *host_arch = strcmp(u.machine, "x86_64") == 0    ? "amd64"
	                        : strcmp(u.machine, "aarch64") == 0 ? "arm64"
	                                                            : u.machine;
	const char *host_variant = strcmp(host_arch, "arm64") == 0 ? "v8" : NULL;
	expect_platform("linux", "linux", host_arch, host_variant);

	static const struct {
		const char *in, *msg;
	} bad[] = {
	    {"", "invalid platform '' (expected os/arch[/variant])"},
	    {"linux/", "invalid platform 'linux/' (expected os/arch[/variant])"},
	    {"/amd64", "invalid platform '/amd64' (expected os/arch[/variant])"},
	    {"linux//v7", "invalid platform 'linux//v7' (expected os/arch[/variant])"},
	    {"linux/arm/v7/x", "invalid platform 'linux/arm/v7/x' (expected os/arch[/variant])"},
	    {"linux/am d64", "invalid platform 'linux/am d64' (expected os/arch[/variant])"},
	    {"amd", "unknown operating system or architecture 'amd'"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_error_ struct vsl_error *err = NULL;
		struct platform p = {(char *)"untouched", NULL, NULL, NULL};
		assert_true(platform_parse(bad[i].in, &p, &err) < 0);
		assert_string_equal(vsl_error_message(err), bad[i].msg);
		assert_int_equal(err->errno_value, EINVAL);
		assert_string_equal(p.os, "untouched");
	}
}

static void test_platform_host_and_string(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;
	struct platform p = {0};
	assert_int_equal(platform_host(&p, &err), 0);
	struct utsname u;
	assert_int_equal(uname(&u), 0);
	assert_string_equal(p.os, "linux");
	if (strcmp(u.machine, "x86_64") == 0) {
		assert_string_equal(p.architecture, "amd64");
		assert_null(p.variant);
	} else if (strcmp(u.machine, "aarch64") == 0) {
		assert_string_equal(p.architecture, "arm64");
		assert_string_equal(p.variant, "v8");
	} else {
		assert_string_equal(p.architecture, u.machine);
	}
	platform_release(&p);

	struct platform a = {(char *)"linux", (char *)"arm64", (char *)"v8", NULL};
	struct platform b = {(char *)"linux", (char *)"amd64", NULL, NULL};
	_cleanup_free_ char *sa = platform_string(&a);
	_cleanup_free_ char *sb = platform_string(&b);
	assert_string_equal(sa, "linux/arm64/v8");
	assert_string_equal(sb, "linux/amd64");
}

#define ENTRY(d, os, arch, variant)                                                                          \
	"{'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'size': 1, 'digest': '" d "',"          \
	" 'platform': {'os': '" os "', 'architecture': '" arch "'" variant "}}"
#define V(v) ", 'variant': '" v "'"

static const struct descriptor *select_ok(const struct image_index *idx, const char *want)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	struct platform p = {0};
	if (platform_parse(want, &p, &err) < 0)
		fail_msg("platform_parse: %s", vsl_error_message(err));
	const struct descriptor *d = NULL;
	int r = image_index_select(idx, &p, "img", &d, &err);
	platform_release(&p);
	if (r < 0)
		fail_msg("image_index_select(%s): %s", want, vsl_error_message(err));
	return d;
}

static void select_fails(const struct image_index *idx, const char *want, const char *name, const char *msg)
{
	_cleanup_error_ struct vsl_error *err = NULL;
	struct platform p = {0};
	assert_int_equal(platform_parse(want, &p, &err), 0);
	const struct descriptor *d = (const struct descriptor *)0x1;
	assert_true(image_index_select(idx, &p, name, &d, &err) < 0);
	platform_release(&p);
	assert_string_equal(vsl_error_message(err), msg);
	assert_int_equal(err->errno_value, ENOENT);
	assert_ptr_equal(d, (const struct descriptor *)0x1);
}

static void test_select(void **state)
{
	(void)state;
	/* As Docker Hub lists ubuntu: attestation first, arm64 without its variant. */
	_cleanup_image_index_ struct image_index *hub = parse_index_ok(
	    "{'schemaVersion': 2, 'manifests': [" ENTRY(DIG_E, "unknown", "unknown", "") ", " ENTRY(
	        DIG_A, "linux", "amd64", "") ", " ENTRY(DIG_B, "linux", "arm64",
	                                                "") ", " ENTRY(DIG_C, "linux", "amd64", "") "]}");
	assert_string_equal(select_ok(hub, "linux/amd64")->digest, DIG_A); /* the first of equals */
	assert_string_equal(select_ok(hub, "linux/x86_64")->digest, DIG_A);
	assert_string_equal(select_ok(hub, "linux/arm64/v8")->digest, DIG_B);
	assert_string_equal(select_ok(hub, "aarch64")->digest, DIG_B);
	select_fails(
	    hub, "linux/s390x", "ubuntu:latest",
	    "no image for platform linux/s390x in 'ubuntu:latest' (available: linux/amd64, linux/arm64/v8)");
	select_fails(hub, "linux/arm", NULL,
	             "no image for platform linux/arm/v7 (available: linux/amd64, linux/arm64/v8)");
	/* The attestation's platform is never a match, even asked for. */
	select_fails(hub, "unknown/unknown", "x",
	             "no image for platform unknown/unknown in 'x' (available: linux/amd64, linux/arm64/v8)");

	/* arm: the exact variant, else the closest older one, never a newer one. */
	_cleanup_image_index_ struct image_index *arm = parse_index_ok(
	    "{'schemaVersion': 2, 'manifests': [" ENTRY(DIG_A, "linux", "arm", V("v5")) ", " ENTRY(
	        DIG_B, "linux", "arm", V("v6")) ", " ENTRY(DIG_C, "linux", "arm",
	                                                   V("v7")) ", " ENTRY(DIG_D, "linux", "arm64",
	                                                                       V("v8")) "]}");
	assert_string_equal(select_ok(arm, "linux/arm/v7")->digest, DIG_C);
	assert_string_equal(select_ok(arm, "linux/arm/v6")->digest, DIG_B);
	assert_string_equal(select_ok(arm, "linux/armel")->digest, DIG_B);
	assert_string_equal(select_ok(arm, "linux/arm/v5")->digest, DIG_A);
	assert_string_equal(select_ok(arm, "linux/arm/v8")->digest, DIG_C);
	assert_string_equal(select_ok(arm, "linux/arm64")->digest, DIG_D);

	_cleanup_image_index_ struct image_index *old_arm =
	    parse_index_ok("{'schemaVersion': 2, 'manifests': [" ENTRY(
	        DIG_A, "linux", "arm", V("v5")) ", " ENTRY(DIG_B, "linux", "arm", V("v6")) "]}");
	assert_string_equal(select_ok(old_arm, "linux/arm/v7")->digest, DIG_B);
	assert_string_equal(select_ok(old_arm, "linux/armhf")->digest, DIG_B);

	_cleanup_image_index_ struct image_index *v7_only =
	    parse_index_ok("{'schemaVersion': 2, 'manifests': [" ENTRY(
	        DIG_C, "linux", "arm", V("v7")) ", " ENTRY(DIG_D, "linux", "arm", "") "]}");
	select_fails(v7_only, "linux/arm/v6", "pi",
	             "no image for platform linux/arm/v6 in 'pi' (available: linux/arm/v7)");

	/* amd64 micro-architecture levels: v3 runs v2 and baseline code. */
	_cleanup_image_index_ struct image_index *amd = parse_index_ok(
	    "{'schemaVersion': 2, 'manifests': [" ENTRY(DIG_A, "linux", "amd64", "") ", " ENTRY(
	        DIG_B, "linux", "amd64", V("v2")) ", " ENTRY(DIG_C, "linux", "amd64", V("v4")) "]}");
	assert_string_equal(select_ok(amd, "linux/amd64/v3")->digest, DIG_B);
	assert_string_equal(select_ok(amd, "linux/amd64")->digest, DIG_A);
	assert_string_equal(select_ok(amd, "linux/amd64/v4")->digest, DIG_C);

	/* Another OS of the same architecture does not count. */
	_cleanup_image_index_ struct image_index *win =
	    parse_index_ok("{'schemaVersion': 2, 'manifests': [" ENTRY(DIG_A, "windows", "amd64", "") "]}");
	select_fails(win, "linux/amd64", "nano",
	             "no image for platform linux/amd64 in 'nano' (available: windows/amd64)");

	_cleanup_image_index_ struct image_index *none =
	    parse_index_ok("{'schemaVersion': 2, 'manifests': []}");
	select_fails(none, "linux/amd64", "e", "no image for platform linux/amd64 in 'e' (available: none)");
}

/* ---- chain IDs ---- */

static void test_chain_id(void **state)
{
	(void)state;
	char c0[DIGEST_SIZE], c1[DIGEST_SIZE], c2[DIGEST_SIZE];
	image_chain_id(NULL, DIG_A, c0);
	assert_string_equal(c0, DIG_A);
	/* printf 'sha256:aaa... sha256:bbb...' | sha256sum */
	image_chain_id(c0, DIG_B, c1);
	assert_string_equal(c1, "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c");
	/* printf 'sha256:ccd7...146c sha256:ccc...' | sha256sum */
	image_chain_id(c1, DIG_C, c2);
	assert_string_equal(c2, "sha256:c1377126441fb2f5ec2c21ae2a60255331d639e830f0ee1b40a36e52d4c40588");
}

/* ---- writing ---- */

static void assert_str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_strv_same(char **a, char **b)
{
	if (a == NULL || b == NULL) {
		assert_ptr_equal(a, b);
		return;
	}
	size_t i = 0;
	for (; a[i] && b[i]; i++)
		assert_string_equal(a[i], b[i]);
	assert_null(a[i]);
	assert_null(b[i]);
}

static void assert_kv_same(const struct json_kv *a, size_t na, const struct json_kv *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_string_equal(a[i].key, b[i].key);
		assert_string_equal(a[i].value, b[i].value);
	}
}

static void assert_descriptor_same(const struct descriptor *a, const struct descriptor *b)
{
	assert_string_equal(a->media_type, b->media_type);
	assert_string_equal(a->digest, b->digest);
	assert_true(a->size == b->size);
	assert_strv_same(a->urls, b->urls);
	assert_kv_same(a->annotations, a->n_annotations, b->annotations, b->n_annotations);
	if (a->platform == NULL || b->platform == NULL) {
		assert_ptr_equal(a->platform, b->platform);
		return;
	}
	assert_string_equal(a->platform->os, b->platform->os);
	assert_string_equal(a->platform->architecture, b->platform->architecture);
	assert_str_same(a->platform->variant, b->platform->variant);
	assert_str_same(a->platform->os_version, b->platform->os_version);
}

static void test_manifest_round_trip(void **state)
{
	(void)state;
	_cleanup_manifest_ struct manifest *m = parse_manifest_ok(docker_manifest);
	size_t len = 0;
	_cleanup_free_ char *json = manifest_to_json(m, &len);
	assert_non_null(json);
	assert_int_equal(len, strlen(json));
	assert_non_null(strstr(json, "\"schemaVersion\":2"));
	assert_null(strchr(json, '\n')); /* compact */

	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_manifest_ struct manifest *back = NULL;
	if (manifest_parse(json, len, &back, &err) < 0)
		fail_msg("%s: %s", json, vsl_error_message(err));
	assert_string_equal(back->media_type, m->media_type);
	assert_descriptor_same(&back->config, &m->config);
	assert_int_equal(back->n_layers, m->n_layers);
	for (size_t i = 0; i < m->n_layers; i++)
		assert_descriptor_same(&back->layers[i], &m->layers[i]);
	assert_kv_same(back->annotations, back->n_annotations, m->annotations, m->n_annotations);

	/* A manifest vessel builds by hand: no layers is still "layers": []. */
	struct manifest made = {
	    .media_type = (char *)MEDIA_TYPE_OCI_MANIFEST,
	    .config = {.media_type = (char *)MEDIA_TYPE_OCI_CONFIG, .digest = (char *)DIG_E, .size = 0},
	};
	_cleanup_free_ char *made_json = manifest_to_json(&made, NULL);
	assert_string_equal(made_json, "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_TYPE_OCI_MANIFEST "\","
	                               "\"config\":{\"mediaType\":\"" MEDIA_TYPE_OCI_CONFIG "\","
	                               "\"digest\":\"" DIG_E "\",\"size\":0},\"layers\":[]}");
}

static void test_index_round_trip(void **state)
{
	(void)state;
	_cleanup_image_index_ struct image_index *idx = parse_index_ok(oci_index);
	size_t len = 0;
	_cleanup_free_ char *json = image_index_to_json(idx, &len);
	assert_non_null(json);
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_image_index_ struct image_index *back = NULL;
	if (image_index_parse(json, len, &back, &err) < 0)
		fail_msg("%s: %s", json, vsl_error_message(err));
	assert_string_equal(back->media_type, idx->media_type);
	assert_int_equal(back->n_manifests, idx->n_manifests);
	for (size_t i = 0; i < idx->n_manifests; i++)
		assert_descriptor_same(&back->manifests[i], &idx->manifests[i]);
	assert_kv_same(back->annotations, back->n_annotations, idx->annotations, idx->n_annotations);
	assert_non_null(strstr(json, "\"os.version\":\"10.0.17763.5122\""));
}

static void assert_config_same(const struct image_config *a, const struct image_config *b)
{
	assert_str_same(a->created, b->created);
	assert_str_same(a->author, b->author);
	assert_str_same(a->architecture, b->architecture);
	assert_str_same(a->os, b->os);
	assert_str_same(a->variant, b->variant);
	assert_str_same(a->os_version, b->os_version);
	assert_str_same(a->comment, b->comment);
	const struct image_container_config *x = &a->config, *y = &b->config;
	assert_str_same(x->user, y->user);
	assert_strv_same(x->exposed_ports, y->exposed_ports);
	assert_strv_same(x->env, y->env);
	assert_strv_same(x->entrypoint, y->entrypoint);
	assert_strv_same(x->cmd, y->cmd);
	assert_strv_same(x->volumes, y->volumes);
	assert_str_same(x->working_dir, y->working_dir);
	assert_kv_same(x->labels, x->n_labels, y->labels, y->n_labels);
	assert_str_same(x->stop_signal, y->stop_signal);
	assert_strv_same(x->shell, y->shell);
	assert_strv_same(x->onbuild, y->onbuild);
	assert_int_equal(x->args_escaped, y->args_escaped);
	if (x->healthcheck == NULL || y->healthcheck == NULL) {
		assert_ptr_equal(x->healthcheck, y->healthcheck);
	} else {
		assert_strv_same(x->healthcheck->test, y->healthcheck->test);
		assert_true(x->healthcheck->interval == y->healthcheck->interval);
		assert_true(x->healthcheck->timeout == y->healthcheck->timeout);
		assert_true(x->healthcheck->start_period == y->healthcheck->start_period);
		assert_true(x->healthcheck->start_interval == y->healthcheck->start_interval);
		assert_int_equal(x->healthcheck->retries, y->healthcheck->retries);
	}
	assert_strv_same(a->diff_ids, b->diff_ids);
	assert_int_equal(a->n_history, b->n_history);
	for (size_t i = 0; i < a->n_history; i++) {
		assert_str_same(a->history[i].created, b->history[i].created);
		assert_str_same(a->history[i].created_by, b->history[i].created_by);
		assert_str_same(a->history[i].author, b->history[i].author);
		assert_str_same(a->history[i].comment, b->history[i].comment);
		assert_int_equal(a->history[i].empty_layer, b->history[i].empty_layer);
	}
}

static void test_config_round_trip(void **state)
{
	(void)state;
	_cleanup_image_config_ struct image_config *c = parse_config_ok(docker_config);
	size_t len = 0;
	_cleanup_free_ char *json = image_config_to_json(c, &len);
	assert_non_null(json);
	_cleanup_error_ struct vsl_error *err = NULL;
	_cleanup_image_config_ struct image_config *back = NULL;
	if (image_config_parse(json, len, &back, &err) < 0)
		fail_msg("%s: %s", json, vsl_error_message(err));
	assert_config_same(back, c);

	/* What `vessel import`/`commit` write: Docker's keys, empty lists kept
	 * (an empty Entrypoint resets the parent's), absent ones left out. */
	char *empty[] = {NULL};
	char *ports[] = {(char *)"80/tcp", (char *)"443/tcp", NULL};
	char *env[] = {(char *)"PATH=/bin", NULL};
	char *cmd[] = {(char *)"sh", NULL};
	char *volumes[] = {(char *)"/data", NULL};
	char *diff_ids[] = {(char *)DIG_B, NULL};
	struct json_kv labels[] = {{(char *)"a", (char *)"b"}};
	struct image_history history[] = {
	    {.created = (char *)"2024-05-06T07:08:09Z", .created_by = (char *)"import"},
	    {.created_by = (char *)"CMD sh", .empty_layer = true}};
	struct image_config made = {
	    .created = (char *)"2024-05-06T07:08:09Z",
	    .architecture = (char *)"amd64",
	    .os = (char *)"linux",
	    .config = {.user = (char *)"nobody",
	               .exposed_ports = ports,
	               .env = env,
	               .entrypoint = empty,
	               .cmd = cmd,
	               .volumes = volumes,
	               .working_dir = (char *)"/srv",
	               .labels = labels,
	               .n_labels = 1,
	               .stop_signal = (char *)"SIGTERM"},
	    .diff_ids = diff_ids,
	    .history = history,
	    .n_history = 2,
	};
	_cleanup_free_ char *made_json = image_config_to_json(&made, NULL);
	assert_string_equal(
	    made_json, "{\"created\":\"2024-05-06T07:08:09Z\",\"architecture\":\"amd64\",\"os\":\"linux\","
	               "\"config\":{\"User\":\"nobody\",\"ExposedPorts\":{\"80/tcp\":{},\"443/tcp\":{}},"
	               "\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"],\"Volumes\":{\"/data\":{}},"
	               "\"WorkingDir\":\"/srv\",\"Entrypoint\":[],\"Labels\":{\"a\":\"b\"},"
	               "\"StopSignal\":\"SIGTERM\"},"
	               "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DIG_B "\"]},"
	               "\"history\":[{\"created\":\"2024-05-06T07:08:09Z\",\"created_by\":\"import\"},"
	               "{\"created_by\":\"CMD sh\",\"empty_layer\":true}]}");
	_cleanup_image_config_ struct image_config *made_back = NULL;
	assert_int_equal(image_config_parse(made_json, strlen(made_json), &made_back, &err), 0);
	assert_config_same(made_back, &made);
	assert_non_null(made_back->config.entrypoint);
	assert_null(made_back->config.entrypoint[0]);

	/* Not UTF-8: no JSON to write. */
	made.config.user = (char *)"\xff";
	assert_null(image_config_to_json(&made, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kind_of),
	    cmocka_unit_test(test_manifest_parse),
	    cmocka_unit_test(test_index_parse),
	    cmocka_unit_test(test_image_config_parse),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_platform_parse),
	    cmocka_unit_test(test_platform_host_and_string),
	    cmocka_unit_test(test_select),
	    cmocka_unit_test(test_chain_id),
	    cmocka_unit_test(test_manifest_round_trip),
	    cmocka_unit_test(test_index_round_trip),
	    cmocka_unit_test(test_config_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* `run`/`create` flags → the create body. Every expected body or field is
 * written by hand from the Docker Engine API reference (POST /containers/create:
 * field names, types, units) and the docker run reference (what each flag
 * means); the error messages are the docker CLI's and daemon's for the same
 * input. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/run-flags.h"
#include "util/error.h"

#define LIST(...) ((char *[]){__VA_ARGS__, NULL})

static char tmpdir[PATH_MAX];

static void write_file(const char *name, const char *content)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

static char *tmp_path(const char *name)
{
	static char paths[8][PATH_MAX * 2];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, sizeof(paths[0]), "%s/%s", tmpdir, name);
	return p;
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/vessel-run-flags-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	char dir[PATH_MAX * 2];
	snprintf(dir, sizeof(dir), "%s/srcdir", tmpdir);
	return mkdir(dir, 0755);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static json_t *body_of(const struct run_flags *f, char **cmd)
{
	json_t *body = NULL;
	struct vsl_error *err = NULL;
	if (run_flags_to_body(f, "alpine", cmd, &body, &err) < 0)
		fail_msg("run_flags_to_body: %s", err ? vsl_error_message(err) : "(no message)");
	assert_null(err);
	assert_non_null(body);
	return body;
}

static void expect_json(json_t *got, const char *want_text)
{
	json_error_t jerr;
	json_t *want = json_loads(want_text, JSON_DECODE_ANY, &jerr);
	if (want == NULL)
		fail_msg("bad expected JSON %s: %s", want_text, jerr.text);
	if (!json_equal(got, want)) {
		char *g = got ? json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
		char *w = json_dumps(want, JSON_SORT_KEYS | JSON_ENCODE_ANY);
		fail_msg("got  %s\nwant %s", g ? g : "(absent)", w);
	}
	json_decref(want);
}

/* One field of the body: "Env", or "HostConfig.Memory". */
static json_t *field(json_t *body, const char *path)
{
	char key[128];
	snprintf(key, sizeof(key), "%s", path);
	char *dot = strchr(key, '.');
	if (dot == NULL)
		return json_object_get(body, key);
	*dot = '\0';
	return json_object_get(json_object_get(body, key), dot + 1);
}

static void expect_field(const struct run_flags *f, const char *path, const char *want)
{
	json_t *body = body_of(f, NULL);
	expect_json(field(body, path), want);
	json_decref(body);
}

static void expect_absent(const struct run_flags *f, const char *path)
{
	json_t *body = body_of(f, NULL);
	if (field(body, path) != NULL)
		fail_msg("%s is set", path);
	json_decref(body);
}

static void expect_error(const struct run_flags *f, const char *msg)
{
	json_t *body = NULL;
	struct vsl_error *err = NULL;
	int r = run_flags_to_body(f, "alpine", NULL, &body, &err);
	if (r >= 0) {
		char *text = json_dumps(body, JSON_SORT_KEYS);
		fail_msg("accepted, want error \"%s\"; body %s", msg, text);
	}
	assert_non_null(err);
	assert_null(body);
	assert_string_equal(vsl_error_message(err), msg);
	vsl_error_free(err);
}

/* ---- the whole body ---- */

static void test_defaults(void **state)
{
	(void)state;
	struct run_flags f = {0};
	json_t *body = body_of(&f, NULL);
	/* `docker run alpine`: attached to stdout and stderr, no restart, default network */
	expect_json(body,
	            "{\"Image\": \"alpine\", \"AttachStdin\": false, \"AttachStdout\": true,"
	            " \"AttachStderr\": true, \"Tty\": false, \"OpenStdin\": false, \"StdinOnce\": false,"
	            " \"HostConfig\": {\"NetworkMode\": \"default\","
	            "   \"RestartPolicy\": {\"Name\": \"no\", \"MaximumRetryCount\": 0},"
	            "   \"AutoRemove\": false, \"Privileged\": false, \"PublishAllPorts\": false,"
	            "   \"ReadonlyRootfs\": false},"
	            " \"NetworkingConfig\": {\"EndpointsConfig\": {}}}");
	json_decref(body);
}

static void test_cmd_and_entrypoint(void **state)
{
	(void)state;
	struct run_flags f = {0};
	json_t *body = body_of(&f, LIST("echo", "hello world"));
	expect_json(field(body, "Cmd"), "[\"echo\", \"hello world\"]");
	assert_null(field(body, "Entrypoint")); /* the image's stays */
	json_decref(body);

	f.entrypoint = "/bin/sh";
	expect_field(&f, "Entrypoint", "[\"/bin/sh\"]");
	/* --entrypoint "" resets the image's entrypoint */
	f.entrypoint = "";
	expect_field(&f, "Entrypoint", "[\"\"]");
	expect_absent(&f, "Cmd");
}

/* ---- stdio ---- */

static void test_interactive_tty(void **state)
{
	(void)state;
	/* -it: stdin attached, kept open, closed when the client leaves */
	struct run_flags f = {.interactive = true, .tty = true};
	json_t *body = body_of(&f, LIST("sh"));
	expect_json(field(body, "AttachStdin"), "true");
	expect_json(field(body, "AttachStdout"), "true");
	expect_json(field(body, "AttachStderr"), "true");
	expect_json(field(body, "OpenStdin"), "true");
	expect_json(field(body, "StdinOnce"), "true");
	expect_json(field(body, "Tty"), "true");
	json_decref(body);

	/* -t alone: a terminal, but no stdin */
	struct run_flags t = {.tty = true};
	body = body_of(&t, NULL);
	expect_json(field(body, "AttachStdin"), "false");
	expect_json(field(body, "OpenStdin"), "false");
	expect_json(field(body, "StdinOnce"), "false");
	expect_json(field(body, "Tty"), "true");
	json_decref(body);
}

static void test_detach(void **state)
{
	(void)state;
	/* -dit: nothing attached; stdin stays open for a later attach */
	struct run_flags f = {.detach = true, .interactive = true, .tty = true};
	json_t *body = body_of(&f, NULL);
	expect_json(field(body, "AttachStdin"), "false");
	expect_json(field(body, "AttachStdout"), "false");
	expect_json(field(body, "AttachStderr"), "false");
	expect_json(field(body, "OpenStdin"), "true");
	expect_json(field(body, "StdinOnce"), "false");
	expect_json(field(body, "Tty"), "true");
	json_decref(body);

	struct run_flags bad = {.detach = true, .attach = LIST("stdout")};
	expect_error(&bad, "conflicting options: cannot specify both --attach and --detach");
}

static void test_attach(void **state)
{
	(void)state;
	struct run_flags f = {.attach = LIST("STDERR")};
	json_t *body = body_of(&f, NULL);
	expect_json(field(body, "AttachStdin"), "false");
	expect_json(field(body, "AttachStdout"), "false");
	expect_json(field(body, "AttachStderr"), "true");
	json_decref(body);

	/* -i -a stdout: -i attaches stdin too */
	struct run_flags i = {.interactive = true, .attach = LIST("stdout")};
	body = body_of(&i, NULL);
	expect_json(field(body, "AttachStdin"), "true");
	expect_json(field(body, "AttachStdout"), "true");
	expect_json(field(body, "AttachStderr"), "false");
	expect_json(field(body, "StdinOnce"), "true");
	json_decref(body);

	struct run_flags bad = {.attach = LIST("stdweird")};
	expect_error(&bad, "invalid argument \"stdweird\" for \"-a, --attach\" flag: valid streams are "
	                   "STDIN, STDOUT and STDERR");
}

static void test_sig_proxy(void **state)
{
	(void)state;
	bool v = false;
	struct run_flags f = {0};
	assert_int_equal(run_flags_sig_proxy(&f, &v, NULL), 0);
	assert_true(v);
	f.sig_proxy = "false";
	assert_int_equal(run_flags_sig_proxy(&f, &v, NULL), 0);
	assert_false(v);
	f.sig_proxy = "maybe";
	expect_error(
	    &f, "invalid argument \"maybe\" for \"--sig-proxy\" flag: strconv.ParseBool: parsing \"maybe\": "
	        "invalid syntax");
}

/* ---- environment and labels ---- */

static void test_env(void **state)
{
	(void)state;
	setenv("VESSEL_TEST_FROM_HOST", "host value", 1);
	unsetenv("VESSEL_TEST_UNSET");
	struct run_flags f = {
	    .env = LIST("A=1", "VESSEL_TEST_FROM_HOST", "VESSEL_TEST_UNSET", "EMPTY=", "B=x=y")};
	expect_field(&f, "Env", "[\"A=1\", \"VESSEL_TEST_FROM_HOST=host value\", \"EMPTY=\", \"B=x=y\"]");

	struct run_flags bad = {.env = LIST("=oops")};
	expect_error(
	    &bad, "invalid argument \"=oops\" for \"-e, --env\" flag: invalid environment variable: =oops");
	unsetenv("VESSEL_TEST_FROM_HOST");
}

static void test_env_file(void **state)
{
	(void)state;
	setenv("VESSEL_TEST_FROM_HOST", "h", 1);
	unsetenv("VESSEL_TEST_UNSET");
	write_file("env", "\xef\xbb\xbf"
	                  "# a comment\n"
	                  "\n"
	                  "   \n"
	                  "FOO=bar\n"
	                  "  INDENTED=yes\n"
	                  "SPACES=  kept as is  \n"
	                  "   # an indented comment\n"
	                  "VESSEL_TEST_FROM_HOST\n"
	                  "VESSEL_TEST_UNSET\n"
	                  "QUOTED=\"not unquoted\"\n"
	                  "CRLF=1\r\n"
	                  "LAST=no newline");
	/* the file comes first, -e after it (so -e wins for the container) */
	struct run_flags f = {.env_file = LIST(tmp_path("env")), .env = LIST("FOO=override")};
	expect_field(&f, "Env",
	             "[\"FOO=bar\", \"INDENTED=yes\", \"SPACES=  kept as is  \", \"VESSEL_TEST_FROM_HOST=h\","
	             " \"QUOTED=\\\"not unquoted\\\"\", \"CRLF=1\", \"LAST=no newline\", \"FOO=override\"]");
	unsetenv("VESSEL_TEST_FROM_HOST");

	char msg[PATH_MAX * 3];
	write_file("env-space", "GOOD=1\nBAD KEY=2\n");
	struct run_flags sp = {.env_file = LIST(tmp_path("env-space"))};
	snprintf(msg, sizeof(msg),
	         "--env-file: invalid env file (%s): variable 'BAD KEY' contains whitespaces",
	         tmp_path("env-space"));
	expect_error(&sp, msg);

	write_file("env-noname", "=value\n");
	struct run_flags nn = {.env_file = LIST(tmp_path("env-noname"))};
	snprintf(msg, sizeof(msg), "--env-file: invalid env file (%s): no variable name on line '=value'",
	         tmp_path("env-noname"));
	expect_error(&nn, msg);

	struct run_flags missing = {.env_file = LIST(tmp_path("no-such-env"))};
	snprintf(msg, sizeof(msg), "--env-file: open %s: No such file or directory", tmp_path("no-such-env"));
	expect_error(&missing, msg);
}

static void test_labels(void **state)
{
	(void)state;
	write_file("labels", "# labels\n\ncom.example.team=infra\nKEYONLY\nshared=from-file\n");
	struct run_flags f = {.label_file = LIST(tmp_path("labels")),
	                      .label = LIST("shared=from-flag", "flag.only", "a=b=c")};
	/* a label given alone is an empty label; a file line without '=' is dropped */
	expect_field(&f, "Labels",
	             "{\"com.example.team\": \"infra\", \"shared\": \"from-flag\", \"flag.only\": \"\", "
	             "\"a\": \"b=c\"}");

	struct run_flags none = {0};
	expect_absent(&none, "Labels");

	struct run_flags empty = {.label = LIST("=x")};
	expect_error(&empty,
	             "invalid argument \"=x\" for \"-l, --label\" flag: invalid label '=x': empty name");
	struct run_flags space = {.label = LIST("a b=c")};
	expect_error(&space,
	             "invalid argument \"a b=c\" for \"-l, --label\" flag: label 'a b' contains whitespaces");
}

/* ---- plain Config fields ---- */

static void test_config_strings(void **state)
{
	(void)state;
	struct run_flags f = {.workdir = "/srv",
	                      .user = "1000:1000",
	                      .hostname = "web",
	                      .domainname = "example.org",
	                      .stop_signal = "SIGINT",
	                      .stop_timeout = "20"};
	json_t *body = body_of(&f, NULL);
	expect_json(field(body, "WorkingDir"), "\"/srv\"");
	expect_json(field(body, "User"), "\"1000:1000\"");
	expect_json(field(body, "Hostname"), "\"web\"");
	expect_json(field(body, "Domainname"), "\"example.org\"");
	expect_json(field(body, "StopSignal"), "\"SIGINT\"");
	expect_json(field(body, "StopTimeout"), "20");
	json_decref(body);

	/* --stop-timeout 0 is given (stop at once), not absent */
	struct run_flags zero = {.stop_timeout = "0"};
	expect_field(&zero, "StopTimeout", "0");
	struct run_flags none = {0};
	expect_absent(&none, "StopTimeout");
	struct run_flags bad = {.stop_timeout = "soon"};
	expect_error(&bad, "invalid argument \"soon\" for \"--stop-timeout\" flag: strconv.ParseInt: parsing "
	                   "\"soon\": invalid syntax");
}

static void test_healthcheck(void **state)
{
	(void)state;
	struct run_flags f = {.health_cmd = "curl -f http://localhost/",
	                      .health_interval = "30s",
	                      .health_timeout = "5s",
	                      .health_retries = "3",
	                      .health_start_period = "1m30s"};
	expect_field(&f, "Healthcheck",
	             "{\"Test\": [\"CMD-SHELL\", \"curl -f http://localhost/\"], \"Interval\": 30000000000,"
	             " \"Timeout\": 5000000000, \"Retries\": 3, \"StartPeriod\": 90000000000}");

	struct run_flags off = {.no_healthcheck = true};
	expect_field(&off, "Healthcheck", "{\"Test\": [\"NONE\"]}");

	struct run_flags none = {0};
	expect_absent(&none, "Healthcheck");

	struct run_flags both = {.no_healthcheck = true, .health_cmd = "true"};
	expect_error(&both, "--no-healthcheck conflicts with --health-* options");
	struct run_flags unit = {.health_interval = "5x"};
	expect_error(&unit,
	             "invalid argument \"5x\" for \"--health-interval\" flag: time: unknown unit \"x\" in "
	             "duration \"5x\"");
	struct run_flags neg = {.health_timeout = "-1s"};
	expect_error(&neg, "--health-timeout cannot be negative");
}

/* ---- volumes and mounts ---- */

static void test_volumes(void **state)
{
	(void)state;
	char cwd[PATH_MAX], want[PATH_MAX * 2];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	struct run_flags f = {.volume =
	                          LIST("/host/data:/data", "/etc/hosts:/etc/hosts:ro",
	                               "named:/var/lib/db:rw,nocopy", "/cache", "./conf/../conf:/conf:z")};
	json_t *body = body_of(&f, NULL);
	/* binds stay strings, relative bind sources made absolute here (docker's CLI does) */
	snprintf(want, sizeof(want),
	         "[\"/host/data:/data\", \"/etc/hosts:/etc/hosts:ro\", \"named:/var/lib/db:rw,nocopy\","
	         " \"%s/conf:/conf:z\"]",
	         cwd);
	expect_json(field(body, "HostConfig.Binds"), want);
	/* a lone path is an anonymous volume */
	expect_json(field(body, "Volumes"), "{\"/cache\": {}}");
	json_decref(body);

	struct run_flags rel = {.volume = LIST("data/x:/data")};
	expect_error(
	    &rel, "create data/x: \"data/x\" includes invalid characters for a local volume name, only "
	          "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use "
	          "absolute path");
	struct run_flags dst = {.volume = LIST("/a:b")};
	expect_error(&dst,
	             "invalid volume specification: '/a:b': invalid mount config for type \"bind\": invalid "
	             "mount path: 'b' mount path must be absolute");
	struct run_flags mode = {.volume = LIST("/a:/b:rx")};
	expect_error(&mode, "invalid volume specification: '/a:/b:rx': invalid mode: rx");
	struct run_flags colons = {.volume = LIST("/a:/b:ro:x")};
	expect_error(&colons, "invalid spec: /a:/b:ro:x: too many colons");
	struct run_flags anon = {.volume = LIST("cache")};
	expect_error(&anon,
	             "invalid volume specification: 'cache': invalid mount config for type \"volume\": "
	             "invalid mount path: 'cache' mount path must be absolute");
}

static void test_mount(void **state)
{
	(void)state;
	char want[PATH_MAX * 4];
	char spec[PATH_MAX * 2];
	snprintf(spec, sizeof(spec),
	         "type=bind,source=%s,target=/src,readonly,bind-propagation=rslave,consistency=cached",
	         tmp_path("srcdir"));
	struct run_flags f = {
	    .mount = LIST(spec, "type=volume,src=cache,dst=/cache,volume-nocopy,volume-opt=type=nfs",
	                  "type=tmpfs,destination=/scratch,tmpfs-size=64m,tmpfs-mode=1770",
	                  "target=/default-is-volume")};
	snprintf(
	    want, sizeof(want),
	    "[{\"Type\": \"bind\", \"Source\": \"%s\", \"Target\": \"/src\", \"ReadOnly\": true,"
	    "  \"BindOptions\": {\"Propagation\": \"rslave\"}},"
	    " {\"Type\": \"volume\", \"Source\": \"cache\", \"Target\": \"/cache\","
	    "  \"VolumeOptions\": {\"NoCopy\": true, \"DriverConfig\": {\"Options\": {\"type\": \"nfs\"}}}},"
	    " {\"Type\": \"tmpfs\", \"Target\": \"/scratch\","
	    "  \"TmpfsOptions\": {\"SizeBytes\": 67108864, \"Mode\": 1016}},"
	    " {\"Type\": \"volume\", \"Target\": \"/default-is-volume\"}]",
	    tmp_path("srcdir"));
	expect_field(&f, "HostConfig.Mounts", want);

	/* a quoted CSV field keeps its commas */
	struct run_flags q = {.mount = LIST("type=volume,target=/d,\"volume-opt=o=addr=1.2.3.4,rw\"")};
	expect_field(
	    &q, "HostConfig.Mounts",
	    "[{\"Type\": \"volume\", \"Target\": \"/d\","
	    "  \"VolumeOptions\": {\"DriverConfig\": {\"Options\": {\"o\": \"addr=1.2.3.4,rw\"}}}}]");

	struct run_flags nosrc = {.mount = LIST("type=bind,src=/no/such/dir/for/vessel,dst=/x")};
	expect_error(&nosrc, "invalid mount config for type \"bind\": bind source path does not exist: "
	                     "/no/such/dir/for/vessel");
	struct run_flags unknown = {.mount = LIST("type=bind,foo=bar")};
	expect_error(
	    &unknown,
	    "invalid argument \"type=bind,foo=bar\" for \"--mount\" flag: unknown option 'foo' in 'foo=bar'");
	struct run_flags ro = {.mount = LIST("type=volume,dst=/x,readonly=maybe")};
	expect_error(
	    &ro,
	    "invalid argument \"type=volume,dst=/x,readonly=maybe\" for \"--mount\" flag: invalid value "
	    "for 'readonly': invalid boolean value (\"maybe\"): must be one of \"true\", \"1\", \"false\", "
	    "or \"0\" (default \"true\")");
	struct run_flags size = {.mount = LIST("type=tmpfs,dst=/x,tmpfs-size=lots")};
	expect_error(&size,
	             "invalid argument \"type=tmpfs,dst=/x,tmpfs-size=lots\" for \"--mount\" flag: invalid "
	             "value for tmpfs-size: lots");
	struct run_flags mix = {.mount = LIST("type=volume,dst=/x,tmpfs-size=1m")};
	expect_error(&mix,
	             "invalid argument \"type=volume,dst=/x,tmpfs-size=1m\" for \"--mount\" flag: cannot mix "
	             "'tmpfs-*' options with mount type 'volume'");
	struct run_flags pair = {.mount = LIST("type=volume,dst")};
	expect_error(
	    &pair, "invalid argument \"type=volume,dst\" for \"--mount\" flag: invalid field 'dst' must be a "
	           "key=value pair");
	struct run_flags notarget = {.mount = LIST("type=volume,src=v")};
	expect_error(&notarget, "invalid mount config for type \"volume\": field Target must not be empty");
	struct run_flags rel = {.mount = LIST("type=tmpfs,dst=scratch")};
	expect_error(
	    &rel, "invalid mount config for type \"tmpfs\": invalid mount path: 'scratch' mount path must be "
	          "absolute");
	struct run_flags empty = {.mount = LIST("")};
	expect_error(&empty, "invalid argument \"\" for \"--mount\" flag: value is empty");
}

static void test_tmpfs(void **state)
{
	(void)state;
	struct run_flags f = {.tmpfs = LIST("/run", "/tmp:rw,noexec,size=64m")};
	expect_field(&f, "HostConfig.Tmpfs", "{\"/run\": \"\", \"/tmp\": \"rw,noexec,size=64m\"}");
}

static void test_devices(void **state)
{
	(void)state;
	struct run_flags f = {
	    .device = LIST("/dev/fuse", "/dev/sda:/dev/xvda:r", "/dev/snd:rw", "/dev/null:/dev/n/../x")};
	expect_field(&f, "HostConfig.Devices",
	             "[{\"PathOnHost\": \"/dev/fuse\", \"PathInContainer\": \"/dev/fuse\", "
	             "\"CgroupPermissions\": \"rwm\"},"
	             " {\"PathOnHost\": \"/dev/sda\", \"PathInContainer\": \"/dev/xvda\", "
	             "\"CgroupPermissions\": \"r\"},"
	             " {\"PathOnHost\": \"/dev/snd\", \"PathInContainer\": \"/dev/snd\", "
	             "\"CgroupPermissions\": \"rw\"},"
	             " {\"PathOnHost\": \"/dev/null\", \"PathInContainer\": \"/dev/x\", "
	             "\"CgroupPermissions\": \"rwm\"}]");
	struct run_flags mode = {.device = LIST("/dev/sda:/dev/xvda:rwx")};
	expect_error(&mode, "bad mode specified: rwx");
	struct run_flags rel = {.device = LIST("/dev/sda:xvda")};
	expect_error(&rel, "xvda is not an absolute path");
}

/* ---- resources ---- */

static void test_resources(void **state)
{
	(void)state;
	struct run_flags f = {.memory = "512m",
	                      .memory_swap = "1g",
	                      .memory_reservation = "256M",
	                      .shm_size = "64mb",
	                      .cpus = "1.5",
	                      .cpu_shares = "512",
	                      .cpu_period = "100000",
	                      .cpu_quota = "50000",
	                      .cpuset_cpus = "0-1",
	                      .cpuset_mems = "0",
	                      .pids_limit = "100",
	                      .blkio_weight = "300",
	                      .oom_kill_disable = true,
	                      .oom_score_adj = "-500",
	                      .memory_swappiness = "10",
	                      .cgroup_parent = "/mygroup"};
	json_t *body = body_of(&f, NULL);
	json_t *h = json_object_get(body, "HostConfig");
	expect_json(json_object_get(h, "Memory"), "536870912");
	expect_json(json_object_get(h, "MemorySwap"), "1073741824");
	expect_json(json_object_get(h, "MemoryReservation"), "268435456");
	expect_json(json_object_get(h, "ShmSize"), "67108864");
	expect_json(json_object_get(h, "NanoCpus"), "1500000000");
	expect_json(json_object_get(h, "CpuShares"), "512");
	expect_json(json_object_get(h, "CpuPeriod"), "100000");
	expect_json(json_object_get(h, "CpuQuota"), "50000");
	expect_json(json_object_get(h, "CpusetCpus"), "\"0-1\"");
	expect_json(json_object_get(h, "CpusetMems"), "\"0\"");
	expect_json(json_object_get(h, "PidsLimit"), "100");
	expect_json(json_object_get(h, "BlkioWeight"), "300");
	expect_json(json_object_get(h, "OomKillDisable"), "true");
	expect_json(json_object_get(h, "OomScoreAdj"), "-500");
	expect_json(json_object_get(h, "MemorySwappiness"), "10");
	expect_json(json_object_get(h, "CgroupParent"), "\"/mygroup\"");
	json_decref(body);

	struct run_flags bare = {
	    .memory = "1048576", .memory_swap = "-1", .cpus = "0.000000001", .pids_limit = "-1"};
	body = body_of(&bare, NULL);
	expect_json(field(body, "HostConfig.Memory"), "1048576"); /* a bare number is bytes */
	expect_json(field(body, "HostConfig.MemorySwap"), "-1");  /* unlimited swap */
	expect_json(field(body, "HostConfig.NanoCpus"), "1");
	expect_json(field(body, "HostConfig.PidsLimit"), "-1");
	json_decref(body);

	struct run_flags none = {0};
	expect_absent(&none, "HostConfig.Memory");
	expect_absent(&none, "HostConfig.NanoCpus");
	expect_absent(&none, "HostConfig.PidsLimit");
}

static void test_resource_errors(void **state)
{
	(void)state;
	struct run_flags m = {.memory = "x"};
	expect_error(&m, "invalid argument \"x\" for \"-m, --memory\" flag: invalid size: 'x'");
	struct run_flags sfx = {.memory = "10q"};
	expect_error(&sfx, "invalid argument \"10q\" for \"-m, --memory\" flag: invalid suffix: 'q'");
	struct run_flags swap = {.memory_swap = "-2"};
	expect_error(&swap, "invalid argument \"-2\" for \"--memory-swap\" flag: invalid size: '-2'");
	struct run_flags shm = {.shm_size = "big"};
	expect_error(&shm, "invalid argument \"big\" for \"--shm-size\" flag: invalid size: 'big'");
	struct run_flags cpus = {.cpus = "two"};
	expect_error(
	    &cpus, "invalid argument \"two\" for \"--cpus\" flag: failed to parse two as a rational number");
	struct run_flags precise = {.cpus = "0.0000000001"};
	expect_error(&precise, "invalid argument \"0.0000000001\" for \"--cpus\" flag: value is too precise");
	struct run_flags period = {.cpu_period = "abc"};
	expect_error(&period,
	             "invalid argument \"abc\" for \"--cpu-period\" flag: strconv.ParseInt: parsing \"abc\": "
	             "invalid syntax");
	struct run_flags shares = {.cpu_shares = "1.5"};
	expect_error(&shares,
	             "invalid argument \"1.5\" for \"-c, --cpu-shares\" flag: strconv.ParseInt: parsing "
	             "\"1.5\": invalid syntax");
	struct run_flags blkio = {.blkio_weight = "70000"};
	expect_error(&blkio,
	             "invalid argument \"70000\" for \"--blkio-weight\" flag: strconv.ParseUint: parsing "
	             "\"70000\": value out of range");
	struct run_flags oom = {.oom_score_adj = "2000"};
	expect_error(&oom, "Invalid value 2000, range for oom score adj is [-1000, 1000]");
	struct run_flags swappiness = {.memory_swappiness = "101"};
	expect_error(&swappiness, "invalid value: 101. Valid memory swappiness range is 0-100");
}

static void test_ulimits(void **state)
{
	(void)state;
	struct run_flags f = {.ulimit = LIST("nproc=512", "nofile=1024:2048", "core=0", "nproc=256:-1")};
	/* one per name (the last wins), sorted by name; soft alone sets both */
	expect_field(&f, "HostConfig.Ulimits",
	             "[{\"Name\": \"core\", \"Soft\": 0, \"Hard\": 0},"
	             " {\"Name\": \"nofile\", \"Soft\": 1024, \"Hard\": 2048},"
	             " {\"Name\": \"nproc\", \"Soft\": 256, \"Hard\": -1}]");

	struct run_flags name = {.ulimit = LIST("files=10")};
	expect_error(&name,
	             "invalid argument \"files=10\" for \"--ulimit\" flag: invalid ulimit type: files");
	struct run_flags order = {.ulimit = LIST("nofile=2048:1024")};
	expect_error(&order,
	             "invalid argument \"nofile=2048:1024\" for \"--ulimit\" flag: ulimit soft limit must be "
	             "less than or equal to hard limit: 2048 > 1024");
	struct run_flags noeq = {.ulimit = LIST("nofile")};
	expect_error(&noeq,
	             "invalid argument \"nofile\" for \"--ulimit\" flag: invalid ulimit argument: nofile");
	struct run_flags num = {.ulimit = LIST("nofile=many")};
	expect_error(&num,
	             "invalid argument \"nofile=many\" for \"--ulimit\" flag: strconv.ParseInt: parsing "
	             "\"many\": invalid syntax");
	struct run_flags three = {.ulimit = LIST("nofile=1:2:3")};
	expect_error(&three, "invalid argument \"nofile=1:2:3\" for \"--ulimit\" flag: too many limit value "
	                     "arguments - 1:2:3, can only have up to two, `soft[:hard]`");
}

/* ---- security ---- */

static void test_security(void **state)
{
	(void)state;
	write_file("seccomp.json",
	           "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [\n"
	           "    {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"}\n  ]\n}\n");
	char seccomp[PATH_MAX * 2];
	snprintf(seccomp, sizeof(seccomp), "seccomp=%s", tmp_path("seccomp.json"));
	struct run_flags f = {.cap_add = LIST("NET_ADMIN", "sys_time"),
	                      .cap_drop = LIST("ALL"),
	                      .privileged = true,
	                      .security_opt = LIST("no-new-privileges", "apparmor=unconfined",
	                                           "label=disable", "no-new-privileges:true", seccomp)};
	json_t *body = body_of(&f, NULL);
	json_t *h = json_object_get(body, "HostConfig");
	/* capabilities go as given: the daemon normalises them */
	expect_json(json_object_get(h, "CapAdd"), "[\"NET_ADMIN\", \"sys_time\"]");
	expect_json(json_object_get(h, "CapDrop"), "[\"ALL\"]");
	expect_json(json_object_get(h, "Privileged"), "true");
	/* the profile's content, compacted, not its path */
	expect_json(
	    json_object_get(h, "SecurityOpt"),
	    "[\"no-new-privileges\", \"apparmor=unconfined\", \"label=disable\", \"no-new-privileges:true\","
	    " \"seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ERRNO\\\",\\\"syscalls\\\":[{\\\"names\\\":"
	    "[\\\"read\\\",\\\"write\\\"],\\\"action\\\":\\\"SCMP_ACT_ALLOW\\\"}]}\"]");
	json_decref(body);

	struct run_flags unconfined = {.security_opt = LIST("seccomp=unconfined", "systempaths=unconfined")};
	body = body_of(&unconfined, NULL);
	expect_json(field(body, "HostConfig.SecurityOpt"), "[\"seccomp=unconfined\"]");
	expect_json(field(body, "HostConfig.MaskedPaths"), "[]");
	expect_json(field(body, "HostConfig.ReadonlyPaths"), "[]");
	json_decref(body);

	struct run_flags bad = {.security_opt = LIST("apparmor")};
	expect_error(&bad, "invalid --security-opt: \"apparmor\"");
	char msg[PATH_MAX * 3], missing[PATH_MAX * 2];
	snprintf(missing, sizeof(missing), "seccomp=%s", tmp_path("no-profile.json"));
	struct run_flags nofile = {.security_opt = LIST(missing)};
	snprintf(msg, sizeof(msg), "opening seccomp profile (%s) failed: open %s: No such file or directory",
	         tmp_path("no-profile.json"), tmp_path("no-profile.json"));
	expect_error(&nofile, msg);
}

/* ---- restart ---- */

static void test_restart(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} good[] = {
	    {"no", "{\"Name\": \"no\", \"MaximumRetryCount\": 0}"},
	    {"always", "{\"Name\": \"always\", \"MaximumRetryCount\": 0}"},
	    {"unless-stopped", "{\"Name\": \"unless-stopped\", \"MaximumRetryCount\": 0}"},
	    {"on-failure", "{\"Name\": \"on-failure\", \"MaximumRetryCount\": 0}"},
	    {"on-failure:3", "{\"Name\": \"on-failure\", \"MaximumRetryCount\": 3}"},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct run_flags f = {.restart = good[i].in};
		expect_field(&f, "HostConfig.RestartPolicy", good[i].want);
	}

	static const struct {
		const char *in, *msg;
	} bad[] = {
	    {"sometimes", "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', "
	                  "'on-failure', or 'unless-stopped'"},
	    {"always:3", "invalid restart policy: maximum retry count can only be used with 'on-failure'"},
	    {"on-failure:x", "invalid restart policy format: maximum retry count must be an integer"},
	    {"on-failure:-1", "invalid restart policy: maximum retry count cannot be negative"},
	    {":3", "invalid restart policy format: no policy provided before colon"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run_flags f = {.restart = bad[i].in};
		expect_error(&f, bad[i].msg);
	}

	struct run_flags rm = {.rm = true, .restart = "always"};
	expect_error(&rm, "conflicting options: cannot specify both --restart and --rm");
	struct run_flags rm_no = {.rm = true, .restart = "no"};
	expect_field(&rm_no, "HostConfig.AutoRemove", "true");
}

static void test_pull_and_caller_flags(void **state)
{
	(void)state;
	struct run_flags f = {
	    .pull = "never", .name = "web", .platform = "linux/arm64", .detach_keys = "ctrl-x"};
	json_t *body = body_of(&f, NULL);
	/* none of these is a field of the create body */
	assert_null(field(body, "Name"));
	assert_null(field(body, "Platform"));
	json_decref(body);
	struct run_flags bad = {.pull = "sometimes"};
	expect_error(&bad,
	             "invalid pull option: 'sometimes': must be one of \"always\", \"missing\" or \"never\"");
}

/* ---- network ---- */

static void test_network(void **state)
{
	(void)state;
	struct run_flags f = {.network = "backend",
	                      .network_alias = LIST("db", "postgres"),
	                      .ip = "10.10.0.5",
	                      .mac_address = "92:d0:c6:0a:29:33"};
	json_t *body = body_of(&f, NULL);
	expect_json(field(body, "HostConfig.NetworkMode"), "\"backend\"");
	expect_json(
	    field(body, "NetworkingConfig"),
	    "{\"EndpointsConfig\": {\"backend\": {\"Aliases\": [\"db\", \"postgres\"],"
	    " \"IPAMConfig\": {\"IPv4Address\": \"10.10.0.5\"}, \"MacAddress\": \"92:d0:c6:0a:29:33\"}}}");
	json_decref(body);

	struct run_flags host = {.network = "host"};
	body = body_of(&host, NULL);
	expect_json(field(body, "HostConfig.NetworkMode"), "\"host\"");
	expect_json(field(body, "NetworkingConfig"), "{\"EndpointsConfig\": {}}");
	json_decref(body);

	struct run_flags alias = {.network_alias = LIST("web")};
	expect_error(&alias, "network-scoped aliases are only supported for user-defined networks");
	struct run_flags mac = {.mac_address = "92:d0:c6"};
	expect_error(&mac, "92:d0:c6 is not a valid mac address");
}

static void test_dns_and_hosts(void **state)
{
	(void)state;
	struct run_flags f = {.dns = LIST("1.1.1.1", "2606:4700:4700::1111"),
	                      .dns_search = LIST("example.com", "."),
	                      .dns_option = LIST("ndots:2"),
	                      .add_host = LIST("db:10.0.0.2", "gw=host-gateway", "v6:[::1]", "v6b=::2")};
	json_t *body = body_of(&f, NULL);
	json_t *h = json_object_get(body, "HostConfig");
	expect_json(json_object_get(h, "Dns"), "[\"1.1.1.1\", \"2606:4700:4700::1111\"]");
	expect_json(json_object_get(h, "DnsSearch"), "[\"example.com\", \".\"]");
	expect_json(json_object_get(h, "DnsOptions"), "[\"ndots:2\"]");
	/* always host:ip for the API, whatever separator and brackets were typed */
	expect_json(json_object_get(h, "ExtraHosts"),
	            "[\"db:10.0.0.2\", \"gw:host-gateway\", \"v6:::1\", \"v6b:::2\"]");
	json_decref(body);

	struct run_flags dns = {.dns = LIST("one.one")};
	expect_error(
	    &dns, "invalid argument \"one.one\" for \"--dns\" flag: IP address is not correctly formatted: "
	          "one.one");
	struct run_flags host = {.add_host = LIST("nohost")};
	expect_error(
	    &host,
	    "invalid argument \"nohost\" for \"--add-host\" flag: bad format for add-host: \"nohost\"");
	struct run_flags ip = {.add_host = LIST("db:10.0.0.300")};
	expect_error(&ip, "invalid argument \"db:10.0.0.300\" for \"--add-host\" flag: invalid IP address in "
	                  "add-host: \"10.0.0.300\"");
}

static void test_publish(void **state)
{
	(void)state;
	struct run_flags f = {.publish = LIST("8080:80", "127.0.0.1:8081:81/udp", "[::1]:8082:82", "83",
	                                      "127.0.0.1::84", "9000-9001:90-91", "7000-7010:70", "8090:80",
	                                      "published=8443,target=443"),
	                      .expose = LIST("3000-3001/udp", "80")};
	json_t *body = body_of(&f, NULL);
	expect_json(field(body, "ExposedPorts"),
	            "{\"80/tcp\": {}, \"81/udp\": {}, \"82/tcp\": {}, \"83/tcp\": {}, \"84/tcp\": {},"
	            " \"90/tcp\": {}, \"91/tcp\": {}, \"70/tcp\": {}, \"443/tcp\": {},"
	            " \"3000/udp\": {}, \"3001/udp\": {}}");
	expect_json(field(body, "HostConfig.PortBindings"),
	            "{\"80/tcp\": [{\"HostIp\": \"\", \"HostPort\": \"8080\"}, {\"HostIp\": \"\", "
	            "\"HostPort\": \"8090\"}],"
	            " \"81/udp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"8081\"}],"
	            " \"82/tcp\": [{\"HostIp\": \"::1\", \"HostPort\": \"8082\"}],"
	            " \"83/tcp\": [{\"HostIp\": \"\", \"HostPort\": \"\"}],"
	            " \"84/tcp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"\"}],"
	            " \"90/tcp\": [{\"HostIp\": \"\", \"HostPort\": \"9000\"}],"
	            " \"91/tcp\": [{\"HostIp\": \"\", \"HostPort\": \"9001\"}],"
	            " \"70/tcp\": [{\"HostIp\": \"\", \"HostPort\": \"7000-7010\"}],"
	            " \"443/tcp\": [{\"HostIp\": \"\", \"HostPort\": \"8443\"}]}");
	json_decref(body);

	struct run_flags all = {.publish_all = true, .expose = LIST("5000")};
	body = body_of(&all, NULL);
	expect_json(field(body, "HostConfig.PublishAllPorts"), "true");
	expect_json(field(body, "ExposedPorts"), "{\"5000/tcp\": {}}");
	json_decref(body);

	static const struct {
		const char *in, *msg;
	} bad[] = {
	    {"abc", "invalid containerPort: abc"},
	    {"8080:80/foo", "invalid proto: foo"},
	    {"1.2.3.999:80:80", "invalid IP address: 1.2.3.999"},
	    {"70000:80", "invalid hostPort: 70000"},
	    {"90-91:80-82", "invalid ranges specified for container and host Ports: 80-82 and 90-91"},
	    {"8080:", "no port specified: 8080:<empty>"},
	    {"8080:90-80", "invalid containerPort: 90-80"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run_flags p = {.publish = LIST((char *)bad[i].in)};
		expect_error(&p, bad[i].msg);
	}
	struct run_flags e = {.expose = LIST("80:80")};
	expect_error(&e, "invalid port format for --expose: 80:80");
	struct run_flags r = {.expose = LIST("a-b")};
	expect_error(&r, "invalid range format for --expose: a-b");
}

/* ---- the rest of HostConfig ---- */

static void test_host_misc(void **state)
{
	(void)state;
	struct run_flags f = {.read_only = true,
	                      .init = true,
	                      .rm = true,
	                      .sysctl = LIST("net.ipv4.ip_forward=1", "kernel.shmmax=1024"),
	                      .group_add = LIST("audio", "1001"),
	                      .log_driver = "json-file",
	                      .log_opt = LIST("max-size=10m", "max-file=3"),
	                      .pid = "host",
	                      .uts = "host",
	                      .userns = "host",
	                      .cgroupns = "private",
	                      .ipc = "shareable",
	                      .volumes_from = LIST("data:ro"),
	                      .cidfile = "/tmp/cid",
	                      .runtime = "runc",
	                      .storage_opt = LIST("size=10G")};
	json_t *body = body_of(&f, NULL);
	json_t *h = json_object_get(body, "HostConfig");
	expect_json(json_object_get(h, "ReadonlyRootfs"), "true");
	expect_json(json_object_get(h, "Init"), "true");
	expect_json(json_object_get(h, "AutoRemove"), "true");
	expect_json(json_object_get(h, "Sysctls"),
	            "{\"net.ipv4.ip_forward\": \"1\", \"kernel.shmmax\": \"1024\"}");
	expect_json(json_object_get(h, "GroupAdd"), "[\"audio\", \"1001\"]");
	expect_json(json_object_get(h, "LogConfig"),
	            "{\"Type\": \"json-file\", \"Config\": {\"max-size\": \"10m\", \"max-file\": \"3\"}}");
	expect_json(json_object_get(h, "PidMode"), "\"host\"");
	expect_json(json_object_get(h, "UTSMode"), "\"host\"");
	expect_json(json_object_get(h, "UsernsMode"), "\"host\"");
	expect_json(json_object_get(h, "CgroupnsMode"), "\"private\"");
	expect_json(json_object_get(h, "IpcMode"), "\"shareable\"");
	expect_json(json_object_get(h, "VolumesFrom"), "[\"data:ro\"]");
	expect_json(json_object_get(h, "ContainerIDFile"), "\"/tmp/cid\"");
	expect_json(json_object_get(h, "Runtime"), "\"runc\"");
	expect_json(json_object_get(h, "StorageOpt"), "{\"size\": \"10G\"}");
	json_decref(body);

	struct run_flags pid = {.pid = "container:"};
	expect_error(&pid, "--pid: invalid PID mode");
	struct run_flags cpid = {.pid = "container:db"};
	expect_field(&cpid, "HostConfig.PidMode", "\"container:db\"");
	struct run_flags uts = {.uts = "private"};
	expect_error(&uts, "--uts: invalid UTS mode");
	struct run_flags cg = {.cgroupns = "shared"};
	expect_error(&cg, "--cgroupns: invalid CGROUP mode");
	struct run_flags sysctl = {.sysctl = LIST("kernel.hostname=x")};
	expect_error(&sysctl, "invalid argument \"kernel.hostname=x\" for \"--sysctl\" flag: sysctl "
	                      "'kernel.hostname=x' is not allowed");
	struct run_flags log = {.log_driver = "none", .log_opt = LIST("max-size=1m")};
	expect_error(&log, "invalid logging opts for driver none");
	struct run_flags storage = {.storage_opt = LIST("size")};
	expect_error(&storage, "invalid storage option");
}

/* ---- the flag table ---- */

static const struct cli_flag *flag_named(const char *name)
{
	for (const struct cli_flag *fl = run_flag_table; fl->name; fl++)
		if (strcmp(fl->name, name) == 0)
			return fl;
	fail_msg("no flag --%s", name);
	return NULL;
}

static void test_flag_table(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		char shorthand;
		enum cli_flag_kind kind;
		size_t off;
	} want[] = {
	    {"detach", 'd', CLI_FLAG_BOOL, offsetof(struct run_flags, detach)},
	    {"interactive", 'i', CLI_FLAG_BOOL, offsetof(struct run_flags, interactive)},
	    {"tty", 't', CLI_FLAG_BOOL, offsetof(struct run_flags, tty)},
	    {"env", 'e', CLI_FLAG_LIST, offsetof(struct run_flags, env)},
	    {"volume", 'v', CLI_FLAG_LIST, offsetof(struct run_flags, volume)},
	    {"publish", 'p', CLI_FLAG_LIST, offsetof(struct run_flags, publish)},
	    {"publish-all", 'P', CLI_FLAG_BOOL, offsetof(struct run_flags, publish_all)},
	    {"memory", 'm', CLI_FLAG_STRING, offsetof(struct run_flags, memory)},
	    {"cpu-shares", 'c', CLI_FLAG_STRING, offsetof(struct run_flags, cpu_shares)},
	    {"workdir", 'w', CLI_FLAG_STRING, offsetof(struct run_flags, workdir)},
	    {"user", 'u', CLI_FLAG_STRING, offsetof(struct run_flags, user)},
	    {"hostname", 'h', CLI_FLAG_STRING, offsetof(struct run_flags, hostname)},
	    {"label", 'l', CLI_FLAG_LIST, offsetof(struct run_flags, label)},
	    {"attach", 'a', CLI_FLAG_LIST, offsetof(struct run_flags, attach)},
	    {"net", 0, CLI_FLAG_STRING, offsetof(struct run_flags, network)},
	    {"network", 0, CLI_FLAG_STRING, offsetof(struct run_flags, network)},
	    {"dns-opt", 0, CLI_FLAG_LIST, offsetof(struct run_flags, dns_option)},
	    {"dns-option", 0, CLI_FLAG_LIST, offsetof(struct run_flags, dns_option)},
	    {"mount", 0, CLI_FLAG_LIST, offsetof(struct run_flags, mount)},
	    {"rm", 0, CLI_FLAG_BOOL, offsetof(struct run_flags, rm)},
	    {"sig-proxy", 0, CLI_FLAG_STRING, offsetof(struct run_flags, sig_proxy)},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct cli_flag *fl = flag_named(want[i].name);
		assert_int_equal(fl->shorthand, want[i].shorthand);
		assert_int_equal(fl->kind, want[i].kind);
		assert_int_equal(fl->off, want[i].off);
	}
	/* getopt would silently take the first of two equal names or shorthands */
	for (const struct cli_flag *a = run_flag_table; a->name; a++)
		for (const struct cli_flag *b = a + 1; b->name; b++) {
			if (strcmp(a->name, b->name) == 0)
				fail_msg("--%s twice", a->name);
			if (a->shorthand && a->shorthand == b->shorthand)
				fail_msg("-%c twice", a->shorthand);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_cmd_and_entrypoint),
	    cmocka_unit_test(test_interactive_tty),
	    cmocka_unit_test(test_detach),
	    cmocka_unit_test(test_attach),
	    cmocka_unit_test(test_sig_proxy),
	    cmocka_unit_test(test_env),
	    cmocka_unit_test(test_env_file),
	    cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_config_strings),
	    cmocka_unit_test(test_healthcheck),
	    cmocka_unit_test(test_volumes),
	    cmocka_unit_test(test_mount),
	    cmocka_unit_test(test_tmpfs),
	    cmocka_unit_test(test_devices),
	    cmocka_unit_test(test_resources),
	    cmocka_unit_test(test_resource_errors),
	    cmocka_unit_test(test_ulimits),
	    cmocka_unit_test(test_security),
	    cmocka_unit_test(test_restart),
	    cmocka_unit_test(test_pull_and_caller_flags),
	    cmocka_unit_test(test_network),
	    cmocka_unit_test(test_dns_and_hosts),
	    cmocka_unit_test(test_publish),
	    cmocka_unit_test(test_host_misc),
	    cmocka_unit_test(test_flag_table),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

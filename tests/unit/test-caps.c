/* Capabilities: names, validation, and the five sets as /proc/self/status shows them. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "runtime/caps.h"
#include "runtime/config.h"
#include "util/cleanup.h"
#include "util/error.h"

#define BIT(c) (UINT64_C(1) << (c))

/* In a forked child cmocka's asserts cannot report: print and fail the exit code. */
#define CHILD_CHECK(cond)                                                                                    \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__, __LINE__, #cond);       \
			return 1;                                                                            \
		}                                                                                            \
	} while (0)

static void run_in_child(int (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static bool skip_unless_root(void)
{
	if (geteuid() == 0)
		return false;
	fprintf(stderr, "skipped: needs root\n");
	return true;
}

/* The "CapEff:" etc. value of /proc/self/status; UINT64_MAX if absent. */
static uint64_t status_caps(const char *key)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	if (f == NULL)
		return UINT64_MAX;
	char line[256];
	size_t klen = strlen(key);
	while (fgets(line, sizeof(line), f)) {
		uint64_t v;
		if (strncmp(line, key, klen) == 0 && line[klen] == ':' &&
		    sscanf(line + klen + 1, "%" SCNx64, &v) == 1)
			return v;
	}
	return UINT64_MAX;
}

static int last_cap(void)
{
	int last = -1;
	_cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f == NULL || fscanf(f, "%d", &last) != 1)
		return -1;
	return last;
}

static void test_from_name(void **state)
{
	(void)state;
	assert_int_equal(caps_from_name("CAP_CHOWN"), CAP_CHOWN);
	assert_int_equal(caps_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
	assert_int_equal(caps_from_name("CAP_NET_BIND_SERVICE"), CAP_NET_BIND_SERVICE);
	assert_int_equal(caps_from_name("CAP_AUDIT_READ"), CAP_AUDIT_READ);
	/* The spec's spelling only: libcap would take all of these. */
	assert_int_equal(caps_from_name("cap_sys_admin"), -1);
	assert_int_equal(caps_from_name("SYS_ADMIN"), -1);
	assert_int_equal(caps_from_name("12"), -1);
	assert_int_equal(caps_from_name("CAP_12"), -1);
	assert_int_equal(caps_from_name("all"), -1);
	assert_int_equal(caps_from_name("CAP_"), -1);
	assert_int_equal(caps_from_name(""), -1);
	assert_int_equal(caps_from_name(NULL), -1);
	assert_int_equal(caps_from_name("CAP_FOO"), -1);
	assert_int_equal(caps_from_name("CAP_SYS_ADMIN "), -1);
}

static void test_known_names_round_trip(void **state)
{
	(void)state;
	const char *const *names = caps_known_names();
	assert_non_null(names);
	size_t n = 0;
	for (; names[n]; n++) {
		assert_int_equal(strncmp(names[n], "CAP_", 4), 0);
		int v = caps_from_name(names[n]);
		assert_true(v >= 0);
		assert_int_equal(v, (int)n); /* libcap names every capability up to the kernel's */
	}
	int last = last_cap();
	if (last >= 0 && last <= CAP_LAST_CAP)
		assert_int_equal(n, (size_t)last + 1);
	assert_string_equal(names[CAP_SYS_ADMIN], "CAP_SYS_ADMIN");
	assert_ptr_equal(caps_known_names(), names); /* static storage */
}

static void test_validate(void **state)
{
	(void)state;
	_cleanup_error_ struct vsl_error *err = NULL;

	struct oci_caps none = {0};
	assert_int_equal(caps_validate(&none, &err), 0);
	assert_int_equal(caps_validate(NULL, &err), 0);

	struct oci_caps ok = {
	    .bounding = (char *[]){"CAP_KILL", "CAP_CHOWN", NULL},
	    .effective = (char *[]){"CAP_KILL", NULL},
	    .permitted = (char *[]){"CAP_KILL", NULL},
	    .inheritable = (char *[]){NULL},
	    .ambient = (char *[]){"CAP_KILL", NULL},
	};
	assert_int_equal(caps_validate(&ok, &err), 0);
	assert_null(err);

	struct oci_caps bad_bounding = {.bounding = (char *[]){"CAP_KILL", "CAP_FOO", NULL}};
	assert_true(caps_validate(&bad_bounding, &err) < 0);
	assert_string_equal(vsl_error_message(err),
	                    "process.capabilities.bounding: unknown capability 'CAP_FOO'");
	vsl_error_freep(&err);

	struct oci_caps bad_ambient = {.effective = (char *[]){"CAP_KILL", NULL},
	                               .ambient = (char *[]){"cap_kill", NULL}};
	assert_true(caps_validate(&bad_ambient, &err) < 0);
	assert_string_equal(vsl_error_message(err),
	                    "process.capabilities.ambient: unknown capability 'cap_kill'");
	vsl_error_freep(&err);

	struct oci_caps bad_permitted = {.permitted = (char *[]){"CAP_BAR", NULL}};
	assert_true(caps_validate(&bad_permitted, &err) < 0);
	assert_string_equal(vsl_error_message(err),
	                    "process.capabilities.permitted: unknown capability 'CAP_BAR'");
}

static int child_drop_bounding(void)
{
	struct vsl_error *err = NULL;
	uint64_t before = status_caps("CapBnd");
	CHILD_CHECK(before != UINT64_MAX);

	/* No bounding list: the bounding set is left alone. */
	struct oci_caps absent = {.effective = (char *[]){"CAP_KILL", NULL}};
	CHILD_CHECK(caps_drop_bounding(&absent, &err) == 0);
	CHILD_CHECK(status_caps("CapBnd") == before);

	struct oci_caps c = {
	    .bounding = (char *[]){"CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_SETPCAP", NULL},
	};
	if (caps_drop_bounding(&c, &err) < 0) {
		fprintf(stderr, "caps_drop_bounding: %s\n", vsl_error_message(err));
		return 1;
	}
	uint64_t want = BIT(CAP_KILL) | BIT(CAP_CHOWN) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SETPCAP);
	CHILD_CHECK(status_caps("CapBnd") == want);

	/* Dropping again (now a subset) is idempotent. */
	struct oci_caps smaller = {.bounding = (char *[]){"CAP_KILL", NULL}};
	CHILD_CHECK(caps_drop_bounding(&smaller, &err) == 0);
	CHILD_CHECK(status_caps("CapBnd") == BIT(CAP_KILL));

	/* An empty list drops everything. */
	struct oci_caps empty = {.bounding = (char *[]){NULL}};
	CHILD_CHECK(caps_drop_bounding(&empty, &err) == 0);
	CHILD_CHECK(status_caps("CapBnd") == 0);
	return 0;
}

static void test_drop_bounding(void **state)
{
	(void)state;
	if (skip_unless_root())
		return;
	run_in_child(child_drop_bounding);
}

/* Becomes uid/gid 1000 keeping the permitted set, as the runtime does before caps_apply. */
static int become_user(void)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresgid(1000, 1000, 1000) < 0 ||
	    setresuid(1000, 1000, 1000) < 0) {
		perror("become uid 1000");
		return -1;
	}
	return 0;
}

/* A process inherits an inheritable set from its parent: put one there, so
 * that the test sees caps_apply clear it (CVE-2022-27650). */
static int preset_inheritable(uint64_t mask)
{
	cap_t c = cap_get_proc();
	if (c == NULL)
		return -1;
	for (int v = 0; v < 64; v++) {
		cap_value_t cv = v;
		if ((mask & BIT(v)) && cap_set_flag(c, CAP_INHERITABLE, 1, &cv, CAP_SET) < 0) {
			cap_free(c);
			return -1;
		}
	}
	int r = cap_set_proc(c);
	cap_free(c);
	return r;
}

static int child_apply_user(void)
{
	struct vsl_error *err = NULL;
	CHILD_CHECK(preset_inheritable(BIT(CAP_KILL) | BIT(CAP_CHOWN)) == 0);
	CHILD_CHECK(status_caps("CapInh") == (BIT(CAP_KILL) | BIT(CAP_CHOWN)));
	CHILD_CHECK(become_user() == 0);

	struct oci_caps c = {
	    .effective = (char *[]){"CAP_KILL", "CAP_NET_BIND_SERVICE", NULL},
	    .permitted = (char *[]){"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN", NULL},
	};
	if (caps_apply(&c, &err) < 0) {
		fprintf(stderr, "caps_apply: %s\n", vsl_error_message(err));
		return 1;
	}
	CHILD_CHECK(status_caps("CapEff") == (BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE)));
	CHILD_CHECK(status_caps("CapPrm") == (BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_CHOWN)));
	CHILD_CHECK(status_caps("CapInh") == 0);
	CHILD_CHECK(status_caps("CapAmb") == 0);
	CHILD_CHECK(getuid() == 1000 && geteuid() == 1000);
	return 0;
}

static void test_apply_user(void **state)
{
	(void)state;
	if (skip_unless_root())
		return;
	run_in_child(child_apply_user);
}

static int child_apply_ambient(void)
{
	struct vsl_error *err = NULL;
	CHILD_CHECK(become_user() == 0);

	struct oci_caps c = {
	    .effective = (char *[]){"CAP_KILL", NULL},
	    .permitted = (char *[]){"CAP_KILL", "CAP_SETUID", NULL},
	    .inheritable = (char *[]){"CAP_KILL", "CAP_SETUID", NULL},
	    .ambient = (char *[]){"CAP_SETUID", NULL},
	};
	if (caps_apply(&c, &err) < 0) {
		fprintf(stderr, "caps_apply: %s\n", vsl_error_message(err));
		return 1;
	}
	CHILD_CHECK(status_caps("CapEff") == BIT(CAP_KILL));
	CHILD_CHECK(status_caps("CapPrm") == (BIT(CAP_KILL) | BIT(CAP_SETUID)));
	CHILD_CHECK(status_caps("CapInh") == (BIT(CAP_KILL) | BIT(CAP_SETUID)));
	CHILD_CHECK(status_caps("CapAmb") == BIT(CAP_SETUID));

	/* Applying again without ambient clears what is there. */
	struct oci_caps again = {
	    .permitted = (char *[]){"CAP_KILL", NULL},
	    .inheritable = (char *[]){"CAP_KILL", NULL},
	};
	CHILD_CHECK(caps_apply(&again, &err) == 0);
	CHILD_CHECK(status_caps("CapAmb") == 0);
	CHILD_CHECK(status_caps("CapEff") == 0);
	CHILD_CHECK(status_caps("CapPrm") == BIT(CAP_KILL));
	return 0;
}

static void test_apply_ambient(void **state)
{
	(void)state;
	if (skip_unless_root())
		return;
	run_in_child(child_apply_ambient);
}

static int child_apply_ambient_skipped(void)
{
	struct vsl_error *err = NULL;

	/* Ambient needs permitted and inheritable: the others are left out (as runc). */
	struct oci_caps amb = {
	    .permitted = (char *[]){"CAP_KILL", "CAP_CHOWN", NULL},
	    .effective = (char *[]){"CAP_KILL", "CAP_CHOWN", NULL},
	    .inheritable = (char *[]){"CAP_KILL", NULL},
	    .ambient = (char *[]){"CAP_KILL", "CAP_CHOWN", NULL},
	};
	CHILD_CHECK(caps_apply(&amb, &err) == 0);
	CHILD_CHECK(status_caps("CapAmb") == (UINT64_C(1) << CAP_KILL));
	CHILD_CHECK(status_caps("CapEff") == ((UINT64_C(1) << CAP_KILL) | (UINT64_C(1) << CAP_CHOWN)));
	vsl_error_freep(&err);

	return 0;
}

static void test_apply_ambient_skipped(void **state)
{
	(void)state;
	run_in_child(child_apply_ambient_skipped);
}

static int child_apply_errors(void)
{
	struct vsl_error *err = NULL;

	struct oci_caps unknown = {.effective = (char *[]){"CAP_NOPE", NULL}};
	CHILD_CHECK(caps_apply(&unknown, &err) < 0);
	CHILD_CHECK(strcmp(vsl_error_message(err),
	                   "process.capabilities.effective: unknown capability 'CAP_NOPE'") == 0);
	vsl_error_freep(&err);

	/* Effective beyond permitted: the kernel says EPERM, we say why. */
	CHILD_CHECK(become_user() == 0);
	struct oci_caps wide = {
	    .effective = (char *[]){"CAP_KILL", "CAP_CHOWN", NULL},
	    .permitted = (char *[]){"CAP_KILL", NULL},
	};
	int r = caps_apply(&wide, &err);
	CHILD_CHECK(r == -EPERM);
	CHILD_CHECK(strstr(vsl_error_message(err), "effective must be a subset of permitted") != NULL);
	vsl_error_freep(&err);

	/* A NULL config empties every set. */
	CHILD_CHECK(caps_apply(NULL, &err) == 0);
	CHILD_CHECK(status_caps("CapEff") == 0 && status_caps("CapPrm") == 0 && status_caps("CapInh") == 0 &&
	            status_caps("CapAmb") == 0);
	return 0;
}

static void test_apply_errors(void **state)
{
	(void)state;
	if (skip_unless_root())
		return;
	run_in_child(child_apply_errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from_name),    cmocka_unit_test(test_known_names_round_trip),
	    cmocka_unit_test(test_validate),     cmocka_unit_test(test_drop_bounding),
	    cmocka_unit_test(test_apply_user),   cmocka_unit_test(test_apply_ambient),
	    cmocka_unit_test(test_apply_errors), cmocka_unit_test(test_apply_ambient_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

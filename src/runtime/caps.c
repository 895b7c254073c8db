/* Capabilities of the container process: names, bounding set, the other four sets. */
#include "runtime/caps.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "runtime/config.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/log.h"

/* Masks below are uint64_t: the kernel has 41 capabilities today and its own
 * ABI (two 32-bit words) tops out at 64. */
#define CAPS_MAX 64

static inline void cap_freep(cap_t *c)
{
	if (*c)
		cap_free(*c);
}
#define _cleanup_cap_ _cleanup_(cap_freep)

static inline void cap_free_strp(char **s)
{
	if (*s)
		cap_free(*s);
}
#define _cleanup_cap_str_ _cleanup_(cap_free_strp)

/* The kernel's highest capability: names above it are accepted in the config
 * (profiles are written for newer kernels) and skipped when applying. */
static int kernel_last_cap(void)
{
	static int cached = -1;
	if (cached >= 0)
		return cached;

	int last = -1;
	_cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f == NULL || fscanf(f, "%d", &last) != 1 || last < 0)
		last = (int)cap_max_bits() - 1; /* libcap probes the bounding set */
	if (last >= CAPS_MAX)
		last = CAPS_MAX - 1;
	cached = last;
	return cached;
}

int caps_from_name(const char *name)
{
	/* OCI spells them "CAP_SYS_ADMIN" exactly, as runc does; libcap would also
	 * take lower case, numbers and "all", none of which the spec allows. */
	if (name == NULL || strncmp(name, "CAP_", 4) != 0 || name[4] == '\0')
		return -1;
	for (const char *p = name + 4; *p; p++)
		if (!(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			return -1;
	if (strspn(name + 4, "0123456789") == strlen(name + 4))
		return -1;

	cap_value_t v;
	if (cap_from_name(name, &v) < 0 || v < 0 || v >= CAPS_MAX)
		return -1;
	/* Only names libcap knows by name (it prints unnamed ones as numbers). */
	_cleanup_cap_str_ char *back = cap_to_name(v);
	if (back == NULL || strcasecmp(back, name) != 0)
		return -1;
	return (int)v;
}

/* "CAP_KILL" for messages, as the config spells it (libcap says "cap_kill"). */
static const char *cap_name(int v, char buf[static 32])
{
	_cleanup_cap_str_ char *s = cap_to_name(v);
	if (s == NULL || strlen(s) >= 32) {
		snprintf(buf, 32, "%d", v);
		return buf;
	}
	size_t i = 0;
	for (; s[i]; i++)
		buf[i] = (char)toupper((unsigned char)s[i]);
	buf[i] = '\0';
	return buf;
}

static const char *const set_names[] = {"bounding", "effective", "inheritable", "permitted", "ambient"};

/* Parses one set into a mask of the capabilities the running kernel has. */
static int caps_mask(const char *set, char *const *names, uint64_t *ret, struct vsl_error **err)
{
	uint64_t mask = 0;
	int last = kernel_last_cap();
	for (size_t i = 0; names && names[i]; i++) {
		int v = caps_from_name(names[i]);
		if (v < 0)
			return vsl_error_set(err, "process.capabilities.%s: unknown capability '%s'", set,
			                     names[i]);
		if (v > last)
			continue;
		mask |= UINT64_C(1) << v;
	}
	*ret = mask;
	return 0;
}

static char **set_of(const struct oci_caps *c, size_t i)
{
	switch (i) {
	case 0:
		return c->bounding;
	case 1:
		return c->effective;
	case 2:
		return c->inheritable;
	case 3:
		return c->permitted;
	default:
		return c->ambient;
	}
}

int caps_validate(const struct oci_caps *c, struct vsl_error **err)
{
	if (c == NULL)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(set_names); i++) {
		uint64_t mask;
		int r = caps_mask(set_names[i], set_of(c, i), &mask, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int caps_drop_bounding(const struct oci_caps *c, struct vsl_error **err)
{
	if (c == NULL || c->bounding == NULL)
		return 0;
	uint64_t keep;
	int r = caps_mask("bounding", c->bounding, &keep, err);
	if (r < 0)
		return r;

	int last = kernel_last_cap();
	for (int v = 0; v <= last; v++) {
		if (keep & (UINT64_C(1) << v))
			continue;
		int in = prctl(PR_CAPBSET_READ, (unsigned long)v, 0, 0, 0);
		if (in < 0) {
			if (errno == EINVAL) /* not in this kernel after all */
				continue;
			return vsl_error_errno(err, errno, "read bounding capability %d", v);
		}
		if (in == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)v, 0, 0, 0) < 0) {
			char n[32];
			return vsl_error_errno(err, errno, "drop '%s' from the bounding set", cap_name(v, n));
		}
	}
	return 0;
}

static int cap_set_mask(cap_t caps, cap_flag_t flag, uint64_t mask)
{
	cap_value_t list[CAPS_MAX];
	int n = 0;
	for (int v = 0; v < CAPS_MAX; v++)
		if (mask & (UINT64_C(1) << v))
			list[n++] = v;
	if (n == 0)
		return 0;
	return cap_set_flag(caps, flag, n, list, CAP_SET);
}

int caps_apply(const struct oci_caps *c, struct vsl_error **err)
{
	static const struct oci_caps none = {0};
	if (c == NULL)
		c = &none;

	uint64_t eff, inh, prm, amb;
	int r;
	if ((r = caps_mask("effective", c->effective, &eff, err)) < 0 ||
	    (r = caps_mask("inheritable", c->inheritable, &inh, err)) < 0 ||
	    (r = caps_mask("permitted", c->permitted, &prm, err)) < 0 ||
	    (r = caps_mask("ambient", c->ambient, &amb, err)) < 0)
		return r;

	/* An ambient capability needs to be permitted and inheritable too. runc's
	 * own `spec` asks for ambient ones without inheritable, so like runc we
	 * leave those out with a warning instead of failing the container. */
	uint64_t skipped = amb & ~(prm & inh);
	for (int v = 0; skipped && v < CAPS_MAX; v++) {
		if (skipped & (UINT64_C(1) << v)) {
			char n[32];
			log_debug("process.capabilities.ambient: '%s' is not in both the permitted and the "
			          "inheritable set: not raised",
			          cap_name(v, n));
		}
	}
	amb &= ~skipped;

	_cleanup_cap_ cap_t caps = cap_init();
	if (caps == NULL)
		return vsl_error_errno(err, errno, "allocate capability state");
	if (cap_set_mask(caps, CAP_EFFECTIVE, eff) < 0 || cap_set_mask(caps, CAP_PERMITTED, prm) < 0 ||
	    cap_set_mask(caps, CAP_INHERITABLE, inh) < 0)
		return vsl_error_errno(err, errno, "build capability state");
	if (cap_set_proc(caps) < 0) {
		if (errno == EPERM && (eff & ~prm))
			return vsl_error_errno(err, errno,
			                       "set capabilities (effective must be a subset of permitted)");
		return vsl_error_errno(err, errno, "set capabilities");
	}

	/* Clear first: ambient capabilities survive execve, so anything inherited
	 * from our own parent must not leak into the container (CVE-2022-27650). */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		/* Before Linux 4.3 there is no ambient set, hence nothing to clear. */
		if (errno != EINVAL || amb != 0)
			return vsl_error_errno(err, errno, "clear ambient capabilities");
	}
	for (int v = 0; v < CAPS_MAX; v++) {
		if (!(amb & (UINT64_C(1) << v)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)v, 0, 0) < 0) {
			char n[32];
			return vsl_error_errno(err, errno, "raise ambient capability '%s'", cap_name(v, n));
		}
	}
	return 0;
}

const char *const *caps_known_names(void)
{
	static char storage[CAPS_MAX][32];
	static const char *names[CAPS_MAX + 1];
	if (names[0] != NULL)
		return names;

	int last = kernel_last_cap();
	size_t n = 0;
	for (int v = 0; v <= last; v++) {
		/* libcap prints capabilities it has no name for as numbers: skip those. */
		if (strncmp(cap_name(v, storage[n]), "CAP_", 4) != 0)
			continue;
		names[n] = storage[n];
		n++;
	}
	names[n] = NULL;
	return names;
}

#include "runtime/features.h"

#include <errno.h>
#include <jansson.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/seccomp.h"
#include "util/error.h"

static json_t *string_array(const char *const *v)
{
	json_t *a = json_array();
	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

int features_json(char **ret, struct vsl_error **err)
{
	static const char *const hooks[] = {
	    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop", NULL};
	static const char *const mount_options[] = {
	    "async",         "atime",       "bind",        "defaults",
	    "dev",           "diratime",    "dirsync",     "exec",
	    "idmap",         "mand",        "noatime",     "nodev",
	    "nodiratime",    "noexec",      "nomand",      "norelatime",
	    "nostrictatime", "nosuid",      "nosymfollow", "private",
	    "rbind",         "rdev",        "rexec",       "relatime",
	    "remount",       "rnodev",      "rnoexec",     "rnosuid",
	    "rnosymfollow",  "ro",          "rprivate",    "rro",
	    "rrw",           "rshared",     "rslave",      "rsuid",
	    "rsymfollow",    "runbindable", "rw",          "shared",
	    "slave",         "strictatime", "suid",        "symfollow",
	    "sync",          "unbindable",  NULL};
	static const char *const namespaces[] = {"cgroup", "ipc",  "mount", "network", "pid",
	                                         "time",   "user", "uts",   NULL};
	bool apparmor = access("/sys/kernel/security/apparmor", F_OK) == 0;
	bool selinux = access("/sys/fs/selinux/enforce", F_OK) == 0;

	json_t *seccomp =
	    json_pack("{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", 1, "actions",
	              string_array(seccomp_known_actions), "operators", string_array(seccomp_known_operators),
	              "archs", string_array(seccomp_known_archs), "knownFlags",
	              string_array(seccomp_known_flags), "supportedFlags", string_array(seccomp_known_flags));
	json_t *linux_ = json_pack(
	    "{s:o, s:o, s:{s:b, s:b, s:b, s:b, s:b}, s:o, s:{s:b}, s:{s:b}, s:{s:b}, s:{s:{s:b}}}",
	    "namespaces", string_array(namespaces), "capabilities", string_array(caps_known_names()),
	    "cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0, "rdma", 0, "seccomp", seccomp,
	    "apparmor", "enabled", apparmor, "selinux", "enabled", selinux, "intelRdt", "enabled", 0,
	    "mountExtensions", "idmap", "enabled", 1);
	json_t *o =
	    json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:s}}", "ociVersionMin", "1.0.0", "ociVersionMax",
	              "1.3.0", "hooks", string_array(hooks), "mountOptions", string_array(mount_options),
	              "linux", linux_, "annotations", "org.opencontainers.runc.version", "1.1.0-vessel");
	if (o == NULL)
		return vsl_error_errno(err, ENOMEM, "features");
	*ret = json_dumps(o, JSON_INDENT(4));
	json_decref(o);
	return *ret ? 0 : vsl_error_errno(err, ENOMEM, "features");
}

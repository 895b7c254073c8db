/* `run`/`create` flags → the Docker Engine API create body, converted as the
 * docker CLI converts them (cli/command/container/opts.go and its helpers),
 * with docker's error messages, so that scripts and habits carry over. Checks
 * the daemon makes on the same values (restart policies, mount configs) are
 * made here as well, with the daemon's words, so the user hears of a bad flag
 * before anything is pulled or created. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/run-flags.h"
#include "cli/run-flags-internal.h"
#include "cli/units.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/strconv.h"
#include "util/strv.h"

#define F struct run_flags
const struct cli_flag run_flag_table[] = {
    CLI_LIST("add-host", 0, F, add_host, "Add a custom host-to-IP mapping (host:ip)"),
    CLI_LIST("attach", 'a', F, attach, "Attach to STDIN, STDOUT or STDERR"),
    CLI_STRING("blkio-weight", 0, F, blkio_weight,
               "Block IO (relative weight), between 10 and 1000, or 0 to disable"),
    CLI_LIST("cap-add", 0, F, cap_add, "Add Linux capabilities"),
    CLI_LIST("cap-drop", 0, F, cap_drop, "Drop Linux capabilities"),
    CLI_STRING("cgroup-parent", 0, F, cgroup_parent, "Optional parent cgroup for the container"),
    CLI_STRING("cgroupns", 0, F, cgroupns, "Cgroup namespace to use (host|private)"),
    CLI_STRING("cidfile", 0, F, cidfile, "Write the container ID to the file"),
    CLI_STRING("cpu-period", 0, F, cpu_period, "Limit CPU CFS (Completely Fair Scheduler) period"),
    CLI_STRING("cpu-quota", 0, F, cpu_quota, "Limit CPU CFS (Completely Fair Scheduler) quota"),
    CLI_STRING("cpu-shares", 'c', F, cpu_shares, "CPU shares (relative weight)"),
    CLI_STRING("cpus", 0, F, cpus, "Number of CPUs"),
    CLI_STRING("cpuset-cpus", 0, F, cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)"),
    CLI_STRING("cpuset-mems", 0, F, cpuset_mems, "MEMs in which to allow execution (0-3, 0,1)"),
    CLI_BOOL("detach", 'd', F, detach, "Run container in background and print container ID"),
    CLI_STRING("detach-keys", 0, F, detach_keys, "Override the key sequence for detaching a container"),
    CLI_LIST("device", 0, F, device, "Add a host device to the container"),
    CLI_LIST("dns", 0, F, dns, "Set custom DNS servers"),
    CLI_LIST("dns-opt", 0, F, dns_option, "Set DNS options"),
    CLI_LIST("dns-option", 0, F, dns_option, "Set DNS options"),
    CLI_LIST("dns-search", 0, F, dns_search, "Set custom DNS search domains"),
    CLI_STRING("domainname", 0, F, domainname, "Container NIS domain name"),
    CLI_STRING("entrypoint", 0, F, entrypoint, "Overwrite the default ENTRYPOINT of the image"),
    CLI_LIST("env", 'e', F, env, "Set environment variables"),
    CLI_LIST("env-file", 0, F, env_file, "Read in a file of environment variables"),
    CLI_LIST("expose", 0, F, expose, "Expose a port or a range of ports"),
    CLI_LIST("group-add", 0, F, group_add, "Add additional groups to join"),
    CLI_STRING("health-cmd", 0, F, health_cmd, "Command to run to check health"),
    CLI_STRING("health-interval", 0, F, health_interval,
               "Time between running the check (ms|s|m|h) (default 0s)"),
    CLI_STRING("health-retries", 0, F, health_retries, "Consecutive failures needed to report unhealthy"),
    CLI_STRING("health-start-interval", 0, F, health_start_interval,
               "Time between running the check during the start period (ms|s|m|h) (default 0s)"),
    CLI_STRING(
        "health-start-period", 0, F, health_start_period,
        "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) "
        "(default 0s)"),
    CLI_STRING("health-timeout", 0, F, health_timeout,
               "Maximum time to allow one check to run (ms|s|m|h) (default 0s)"),
    CLI_STRING("hostname", 'h', F, hostname, "Container host name"),
    CLI_BOOL("init", 0, F, init,
             "Run an init inside the container that forwards signals and reaps processes"),
    CLI_BOOL("interactive", 'i', F, interactive, "Keep STDIN open even if not attached"),
    CLI_STRING("ip", 0, F, ip, "IPv4 address (e.g., 172.30.100.104)"),
    CLI_STRING("ip6", 0, F, ip6, "IPv6 address (e.g., 2001:db8::33)"),
    CLI_STRING("ipc", 0, F, ipc, "IPC mode to use"),
    CLI_LIST("label", 'l', F, label, "Set meta data on a container"),
    CLI_LIST("label-file", 0, F, label_file, "Read in a line delimited file of labels"),
    CLI_STRING("log-driver", 0, F, log_driver, "Logging driver for the container"),
    CLI_LIST("log-opt", 0, F, log_opt, "Log driver options"),
    CLI_STRING("mac-address", 0, F, mac_address, "Container MAC address (e.g., 92:d0:c6:0a:29:33)"),
    CLI_STRING("memory", 'm', F, memory, "Memory limit"),
    CLI_STRING("memory-reservation", 0, F, memory_reservation, "Memory soft limit"),
    CLI_STRING("memory-swap", 0, F, memory_swap,
               "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),
    CLI_STRING("memory-swappiness", 0, F, memory_swappiness, "Tune container memory swappiness (0 to 100)"),
    CLI_LIST("mount", 0, F, mount, "Attach a filesystem mount to the container"),
    CLI_STRING("name", 0, F, name, "Assign a name to the container"),
    CLI_STRING("net", 0, F, network, "Connect a container to a network"),
    CLI_LIST("net-alias", 0, F, network_alias, "Add network-scoped alias for the container"),
    CLI_STRING("network", 0, F, network, "Connect a container to a network"),
    CLI_LIST("network-alias", 0, F, network_alias, "Add network-scoped alias for the container"),
    CLI_BOOL("no-healthcheck", 0, F, no_healthcheck, "Disable any container-specified HEALTHCHECK"),
    CLI_BOOL("oom-kill-disable", 0, F, oom_kill_disable, "Disable OOM Killer"),
    CLI_STRING("oom-score-adj", 0, F, oom_score_adj, "Tune host's OOM preferences (-1000 to 1000)"),
    CLI_STRING("pid", 0, F, pid, "PID namespace to use"),
    CLI_STRING("pids-limit", 0, F, pids_limit, "Tune container pids limit (set -1 for unlimited)"),
    CLI_STRING("platform", 0, F, platform, "Set platform if server is multi-platform capable"),
    CLI_BOOL("privileged", 0, F, privileged, "Give extended privileges to this container"),
    CLI_LIST("publish", 'p', F, publish, "Publish a container's port(s) to the host"),
    CLI_BOOL("publish-all", 'P', F, publish_all, "Publish all exposed ports to random ports"),
    CLI_STRING("pull", 0, F, pull,
               "Pull image before running (\"always\", \"missing\", \"never\") (default \"missing\")"),
    CLI_BOOL("read-only", 0, F, read_only, "Mount the container's root filesystem as read only"),
    CLI_STRING("restart", 0, F, restart, "Restart policy to apply when a container exits (default \"no\")"),
    CLI_BOOL("rm", 0, F, rm,
             "Automatically remove the container and its associated anonymous volumes when it exits"),
    CLI_STRING("runtime", 0, F, runtime, "Runtime to use for this container"),
    CLI_LIST("security-opt", 0, F, security_opt, "Security Options"),
    CLI_STRING("shm-size", 0, F, shm_size, "Size of /dev/shm"),
    CLI_STRING("sig-proxy", 0, F, sig_proxy, "Proxy received signals to the process (default true)"),
    CLI_STRING("stop-signal", 0, F, stop_signal, "Signal to stop the container"),
    CLI_STRING("stop-timeout", 0, F, stop_timeout, "Timeout (in seconds) to stop a container"),
    CLI_LIST("storage-opt", 0, F, storage_opt, "Storage driver options for the container"),
    CLI_LIST("sysctl", 0, F, sysctl, "Sysctl options"),
    CLI_LIST("tmpfs", 0, F, tmpfs, "Mount a tmpfs directory"),
    CLI_BOOL("tty", 't', F, tty, "Allocate a pseudo-TTY"),
    CLI_LIST("ulimit", 0, F, ulimit, "Ulimit options"),
    CLI_STRING("user", 'u', F, user, "Username or UID (format: <name|uid>[:<group|gid>])"),
    CLI_STRING("userns", 0, F, userns, "User namespace to use"),
    CLI_STRING("uts", 0, F, uts, "UTS namespace to use"),
    CLI_LIST("volume", 'v', F, volume, "Bind mount a volume"),
    CLI_LIST("volumes-from", 0, F, volumes_from, "Mount volumes from the specified container(s)"),
    CLI_STRING("workdir", 'w', F, workdir, "Working directory inside the container"),
    CLI_END,
};
#undef F

/* ---- small helpers ---- */

/* pflag's wording for a value its flag refuses: `invalid argument "x" for
 * "-m, --memory" flag: <why>`. */
int run_flags_error(struct vsl_error **err, const char *flag, const char *value)
{
	char shorthand = 0;
	for (const struct cli_flag *fl = run_flag_table; fl->name; fl++)
		if (strcmp(fl->name, flag) == 0)
			shorthand = fl->shorthand;
	if (shorthand)
		return vsl_error_prefix(err, "invalid argument \"%s\" for \"-%c, --%s\" flag", value,
		                        shorthand, flag);
	return vsl_error_prefix(err, "invalid argument \"%s\" for \"--%s\" flag", value, flag);
}

/* Go's strconv.ParseInt(s, 0, bits), which pflag uses for integer flags. */
static int parse_int(const char *flag, const char *s, int bits, int64_t *ret, struct vsl_error **err)
{
	char *end;
	errno = 0;
	long long v = (*s == '\0' || *s == ' ' || *s == '\t' || *s == '\n') ? 0 : strtoll(s, &end, 0);
	if (*s == '\0' || *s == ' ' || *s == '\t' || *s == '\n' || *end != '\0') {
		vsl_error_set_code(err, EINVAL, "strconv.ParseInt: parsing \"%s\": invalid syntax", s);
		return run_flags_error(err, flag, s);
	}
	int64_t max = bits == 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1;
	if (errno == ERANGE || v > max || v < -max - 1) {
		vsl_error_set_code(err, ERANGE, "strconv.ParseInt: parsing \"%s\": value out of range", s);
		return run_flags_error(err, flag, s);
	}
	*ret = v;
	return 0;
}

static int parse_uint16(const char *flag, const char *s, int64_t *ret, struct vsl_error **err)
{
	char *end;
	errno = 0;
	unsigned long long v = (*s >= '0' && *s <= '9') ? strtoull(s, &end, 0) : 0;
	if (!(*s >= '0' && *s <= '9') || *end != '\0') {
		vsl_error_set_code(err, EINVAL, "strconv.ParseUint: parsing \"%s\": invalid syntax", s);
		return run_flags_error(err, flag, s);
	}
	if (errno == ERANGE || v > UINT16_MAX) {
		vsl_error_set_code(err, ERANGE, "strconv.ParseUint: parsing \"%s\": value out of range", s);
		return run_flags_error(err, flag, s);
	}
	*ret = (int64_t)v;
	return 0;
}

static int parse_size_flag(const char *flag, const char *s, int64_t *ret, struct vsl_error **err)
{
	int r = units_parse_size(s, ret, err);
	return r < 0 ? run_flags_error(err, flag, s) : 0;
}

static int parse_duration_flag(const char *flag, const char *s, int64_t *ret, struct vsl_error **err)
{
	int r = units_parse_duration(s, ret, err);
	return r < 0 ? run_flags_error(err, flag, s) : 0;
}

/* --cpus: a decimal number of CPUs, exact to the nanoCPU (docker: big.Rat × 1e9). */
static int parse_nano_cpus(const char *s, int64_t *ret, struct vsl_error **err)
{
	const char *p = s;
	bool neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	int64_t whole = 0, frac = 0;
	int digits = 0, fdigits = 0;
	bool too_precise = false;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole > (INT64_MAX / 1000000000 - 9) / 10)
			goto bad;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (fdigits < 9) {
				frac = frac * 10 + (*p - '0');
				fdigits++;
			} else if (*p != '0') {
				too_precise = true;
			}
			digits++;
		}
	if (*p != '\0' || digits == 0)
		goto bad;
	if (too_precise) {
		vsl_error_set_code(err, EINVAL, "value is too precise");
		return run_flags_error(err, "cpus", s);
	}
	for (int i = fdigits; i < 9; i++)
		frac *= 10;
	*ret = (neg ? -1 : 1) * (whole * 1000000000 + frac);
	return 0;
bad:
	vsl_error_set_code(err, EINVAL, "failed to parse %s as a rational number", s);
	return run_flags_error(err, "cpus", s);
}

bool run_flags_valid_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Go's net.ParseMAC for the 48-bit forms: xx:xx:xx:xx:xx:xx or with '-'. */
static bool valid_mac(const char *s)
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		char c = s[i];
		if (i % 3 == 2) {
			if (c != s[2] || (c != ':' && c != '-'))
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
			return false;
		}
	}
	return true;
}

/* The lexical path.Clean of Go, for absolute and relative paths. */
char *run_flags_clean_path(const char *path)
{
	size_t n = strlen(path);
	char *out = malloc(n + 2);
	if (out == NULL)
		return NULL;
	bool rooted = path[0] == '/';
	size_t w = 0, dotdot = 0;
	if (rooted) {
		out[w++] = '/';
		dotdot = 1;
	}
	for (size_t r = rooted ? 1 : 0; r < n;) {
		if (path[r] == '/') {
			r++;
		} else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
			r++;
		} else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && path[r] != '/'; r++)
				out[w++] = path[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

/* filepath.Abs: relative to the working directory, cleaned. */
char *run_flags_abs_path(const char *path)
{
	if (path[0] == '/')
		return run_flags_clean_path(path);
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	_cleanup_free_ char *joined = NULL;
	if (asprintf(&joined, "%s/%s", cwd, path) < 0)
		return NULL;
	return run_flags_clean_path(joined);
}

/* ---- the JSON being built ---- */

static void put_str(struct body *b, json_t *obj, const char *key, const char *s)
{
	if (s != NULL && *s != '\0')
		put(b, obj, key, jstr(b, s));
}

/* An array of the list's strings, or nothing for an empty list. */
static void put_strv(struct body *b, json_t *obj, const char *key, char *const *v)
{
	if (v == NULL || v[0] == NULL)
		return;
	json_t *arr = json_array();
	for (char *const *i = v; arr && *i; i++)
		append(b, arr, jstr(b, *i));
	put(b, obj, key, arr);
}

static void put_if_nonempty(struct body *b, json_t *obj, const char *key, json_t *v)
{
	if (v != NULL && json_object_size(v) == 0 && json_array_size(v) == 0)
		json_decref(v);
	else
		put(b, obj, key, v);
}

void run_flags_set_kv(struct body *b, json_t *map, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	if (map == NULL || klen == 0)
		return;
	_cleanup_free_ char *key = strndup(kv, klen);
	if (key == NULL) {
		b->nomem = true;
		return;
	}
	put(b, map, key, jstr(b, eq ? eq + 1 : ""));
}

/* ---- env and label files ---- */

static bool valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* Docker's key/value files (--env-file, --label-file): lines of KEY=VALUE,
 * leading whitespace and blank or '#' lines ignored, the value kept as is.
 * A line of KEY alone takes the value from our environment when `lookup`,
 * and is dropped when the variable is unset (or always, without lookup). */
static int kvfile_read(const char *path, bool lookup, char ***list, struct vsl_error **err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (f == NULL)
		return vsl_error_errno(err, errno, "open %s", path);
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	for (unsigned lineno = 1; (n = getline(&line, &cap, f)) >= 0; lineno++) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (memchr(line, '\0', (size_t)n) != NULL || !valid_utf8((unsigned char *)line, (size_t)n))
			return vsl_error_set_code(err, EINVAL,
			                          "invalid env file (%s): invalid utf8 bytes at line %u",
			                          path, lineno);
		char *s = line;
		if (lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3;
		s += strspn(s, " \t\n\v\f\r");
		if (*s == '\0' || *s == '#')
			continue;
		size_t klen = strcspn(s, "=");
		if (klen == 0)
			return vsl_error_set_code(
			    err, EINVAL, "invalid env file (%s): no variable name on line '%s'", path, s);
		if (strcspn(s, " \t") < klen)
			return vsl_error_set_code(
			    err, EINVAL, "invalid env file (%s): variable '%.*s' contains whitespaces", path,
			    (int)klen, s);
		if (s[klen] == '=') {
			if (strv_append(list, s) < 0)
				return vsl_error_errno(err, ENOMEM, "read '%s'", path);
			continue;
		}
		const char *value = lookup ? getenv(s) : NULL;
		if (value == NULL)
			continue;
		_cleanup_free_ char *kv = NULL;
		if (asprintf(&kv, "%s=%s", s, value) < 0 || strv_append(list, kv) < 0)
			return vsl_error_errno(err, ENOMEM, "read '%s'", path);
	}
	if (ferror(f))
		return vsl_error_errno(err, EIO, "read %s", path);
	return 0;
}

static int collect_env(const struct run_flags *f, char ***ret, struct vsl_error **err)
{
	_cleanup_strv_ char **env = NULL;
	for (char **p = f->env_file; p && *p; p++) {
		int r = kvfile_read(*p, true, &env, err);
		if (r < 0)
			return vsl_error_prefix(err, "--env-file");
	}
	for (char **p = f->env; p && *p; p++) {
		const char *eq = strchr(*p, '=');
		if (eq == *p || **p == '\0') {
			vsl_error_set_code(err, EINVAL, "invalid environment variable: %s", *p);
			return run_flags_error(err, "env", *p);
		}
		_cleanup_free_ char *kv = NULL;
		if (eq == NULL) {
			/* KEY alone: the value of our own KEY, or nothing at all. */
			const char *value = getenv(*p);
			if (value == NULL)
				continue;
			if (asprintf(&kv, "%s=%s", *p, value) < 0)
				return vsl_error_errno(err, ENOMEM, "collect environment");
		}
		if (strv_append(&env, kv ? kv : *p) < 0)
			return vsl_error_errno(err, ENOMEM, "collect environment");
	}
	*ret = TAKE_PTR(env);
	return 0;
}

static int collect_labels(struct body *b, const struct run_flags *f, json_t **ret, struct vsl_error **err)
{
	_cleanup_strv_ char **labels = NULL;
	for (char **p = f->label_file; p && *p; p++) {
		int r = kvfile_read(*p, false, &labels, err);
		if (r < 0)
			return vsl_error_prefix(err, "--label-file");
	}
	for (char **p = f->label; p && *p; p++) {
		const char *key = *p + strspn(*p, " \t");
		size_t klen = strcspn(key, "=");
		if (klen == 0) {
			vsl_error_set_code(err, EINVAL, "invalid label '%s': empty name", *p);
			return run_flags_error(err, "label", *p);
		}
		if (strcspn(key, " \t") < klen) {
			vsl_error_set_code(err, EINVAL, "label '%.*s' contains whitespaces", (int)klen, key);
			return run_flags_error(err, "label", *p);
		}
		if (strv_append(&labels, *p) < 0)
			return vsl_error_errno(err, ENOMEM, "collect labels");
	}
	json_t *map = json_object();
	for (char **p = labels; map && p && *p; p++) {
		char *eq = strchr(*p, '=');
		_cleanup_free_ char *key = strndup(*p, eq ? (size_t)(eq - *p) : strlen(*p));
		if (key == NULL) {
			b->nomem = true;
			break;
		}
		put(b, map, key, jstr(b, eq ? eq + 1 : ""));
	}
	*ret = map;
	return 0;
}

/* ---- host config pieces ---- */

/* strconv.ParseInt(s, 10, 64): 0, -EINVAL or -ERANGE. */
static int parse_i64(const char *s, int64_t *ret)
{
	if ((*s < '0' || *s > '9') && ((*s != '-' && *s != '+') || s[1] < '0' || s[1] > '9'))
		return -EINVAL;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* go-units' ParseUlimit: name=soft[:hard], names from setrlimit(2). */
static int add_ulimit(struct body *b, const char *raw, json_t *ulimits, struct vsl_error **err)
{
	static const char *const names[] = {"core",    "cpu",      "data",   "fsize",      "locks",
	                                    "memlock", "msgqueue", "nice",   "nofile",     "nproc",
	                                    "rss",     "rtprio",   "rttime", "sigpending", "stack"};
	const char *eq = strchr(raw, '=');
	if (eq == NULL) {
		vsl_error_set_code(err, EINVAL, "invalid ulimit argument: %s", raw);
		return run_flags_error(err, "ulimit", raw);
	}
	_cleanup_free_ char *name = strndup(raw, (size_t)(eq - raw));
	if (name == NULL)
		return vsl_error_errno(err, ENOMEM, "parse ulimit");
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		known = known || strcmp(name, names[i]) == 0;
	if (!known) {
		vsl_error_set_code(err, EINVAL, "invalid ulimit type: %s", name);
		return run_flags_error(err, "ulimit", raw);
	}
	const char *vals = eq + 1;
	const char *colon = strchr(vals, ':');
	if (colon && strchr(colon + 1, ':')) {
		vsl_error_set_code(
		    err, EINVAL,
		    "too many limit value arguments - %s, can only have up to two, `soft[:hard]`", vals);
		return run_flags_error(err, "ulimit", raw);
	}
	_cleanup_free_ char *soft_s = strndup(vals, colon ? (size_t)(colon - vals) : strlen(vals));
	if (soft_s == NULL)
		return vsl_error_errno(err, ENOMEM, "parse ulimit");
	int64_t soft = 0, hard = 0;
	const char *bad = NULL;
	int code = colon ? parse_i64(colon + 1, &hard) : 0;
	if (code < 0)
		bad = colon + 1;
	else if ((code = parse_i64(soft_s, &soft)) < 0)
		bad = soft_s;
	if (bad) {
		vsl_error_set_code(err, -code, "strconv.ParseInt: parsing \"%s\": %s", bad,
		                   code == -ERANGE ? "value out of range" : "invalid syntax");
		return run_flags_error(err, "ulimit", raw);
	}
	if (!colon)
		hard = soft;
	if (hard != -1 && soft > hard) {
		vsl_error_set_code(err, EINVAL,
		                   "ulimit soft limit must be less than or equal to hard limit: %" PRId64
		                   " > %" PRId64,
		                   soft, hard);
		return run_flags_error(err, "ulimit", raw);
	}
	/* one entry per name, the last given wins; kept sorted by name as docker sends them */
	size_t at = json_array_size(ulimits);
	for (size_t i = 0; i < json_array_size(ulimits); i++) {
		int c = strcmp(member_str(json_array_get(ulimits, i), "Name"), name);
		if (c == 0) {
			json_array_remove(ulimits, i);
			at = i;
			break;
		}
		if (c > 0) {
			at = i;
			break;
		}
	}
	json_t *u =
	    json_pack("{s:s, s:I, s:I}", "Name", name, "Soft", (json_int_t)soft, "Hard", (json_int_t)hard);
	if (u == NULL || json_array_insert_new(ulimits, at, u) < 0)
		b->nomem = true;
	return 0;
}

static int parse_restart(const char *s, json_t **ret, struct vsl_error **err)
{
	const char *colon = strchr(s, ':');
	if (colon == s)
		return vsl_error_set_code(err, EINVAL,
		                          "invalid restart policy format: no policy provided before colon");
	_cleanup_free_ char *name = strndup(s, colon ? (size_t)(colon - s) : strlen(s));
	if (name == NULL)
		return vsl_error_errno(err, ENOMEM, "parse restart policy");
	long count = 0;
	if (colon && colon[1] != '\0') {
		char *end;
		errno = 0;
		count = strtol(colon + 1, &end, 10);
		if (*end != '\0' || errno || strchr(" \t", colon[1]) || count < INT_MIN || count > INT_MAX)
			return vsl_error_set_code(
			    err, EINVAL,
			    "invalid restart policy format: maximum retry count must be an integer");
	}
	/* the daemon's check, made before anything is created */
	if (strcmp(name, "on-failure") == 0) {
		if (count < 0)
			return vsl_error_set_code(
			    err, EINVAL, "invalid restart policy: maximum retry count cannot be negative");
	} else if (strcmp(name, "no") == 0 || strcmp(name, "always") == 0 ||
	           strcmp(name, "unless-stopped") == 0 || *name == '\0') {
		if (count != 0)
			return vsl_error_set_code(
			    err, EINVAL,
			    "invalid restart policy: maximum retry count can only be used with "
			    "'on-failure'%s",
			    count < 0 ? " and cannot be negative" : "");
	} else {
		return vsl_error_set_code(
		    err, EINVAL,
		    "invalid restart policy: unknown policy '%s'; use one of 'no', 'always', "
		    "'on-failure', or 'unless-stopped'",
		    name);
	}
	*ret = json_pack("{s:s, s:i}", "Name", name, "MaximumRetryCount", (int)count);
	return *ret ? 0 : vsl_error_errno(err, ENOMEM, "parse restart policy");
}

/* --security-opt: the seccomp profile's file goes as its compacted content. */
static int security_opts(struct body *b, const struct run_flags *f, json_t *host, struct vsl_error **err)
{
	json_t *list = json_array();
	bool systempaths_unconfined = false;
	for (char **p = f->security_opt; list && p && *p; p++) {
		const char *opt = *p;
		const char *sep = strchr(opt, '=');
		bool nnp = strncmp(opt, "no-new-privileges", sep ? (size_t)(sep - opt) : strlen(opt)) == 0 &&
		           strlen("no-new-privileges") == (sep ? (size_t)(sep - opt) : strlen(opt));
		if (sep == NULL && !nnp)
			sep = strchr(opt, ':');
		if (!nnp && (sep == NULL || sep[1] == '\0')) {
			json_decref(list);
			return vsl_error_set_code(err, EINVAL, "invalid --security-opt: \"%s\"", opt);
		}
		if (strcmp(opt, "systempaths=unconfined") == 0) {
			systempaths_unconfined = true;
			continue;
		}
		if (sep && (size_t)(sep - opt) == strlen("seccomp") && strncmp(opt, "seccomp", 7) == 0 &&
		    strcmp(sep + 1, "unconfined") != 0 && strcmp(sep + 1, "builtin") != 0) {
			const char *file = sep + 1;
			json_error_t jerr;
			_cleanup_json_ json_t *profile = json_load_file(file, JSON_DECODE_ANY, &jerr);
			if (profile == NULL) {
				json_decref(list);
				if (access(file, R_OK) < 0)
					return vsl_error_errno(err, errno,
					                       "opening seccomp profile (%s) failed: open %s",
					                       file, file);
				return vsl_error_set_code(
				    err, EINVAL, "compacting json for seccomp profile (%s) failed: %s", file,
				    jerr.text);
			}
			_cleanup_free_ char *text = json_dumps(profile, JSON_COMPACT | JSON_ENCODE_ANY);
			_cleanup_free_ char *value = NULL;
			if (text == NULL || asprintf(&value, "seccomp=%s", text) < 0) {
				json_decref(list);
				return vsl_error_errno(err, ENOMEM, "read seccomp profile '%s'", file);
			}
			append(b, list, jstr(b, value));
			continue;
		}
		append(b, list, jstr(b, opt));
	}
	put_if_nonempty(b, host, "SecurityOpt", list);
	if (systempaths_unconfined) {
		put(b, host, "MaskedPaths", json_array());
		put(b, host, "ReadonlyPaths", json_array());
	}
	return 0;
}

static bool valid_domain(const char *s)
{
	/* labels of letters, digits and inner hyphens, dot-separated, a final dot allowed */
	size_t n = strlen(s);
	if (n == 0 || n >= 255 || strpbrk(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == NULL)
		return false;
	if (s[n - 1] == '.')
		n--;
	size_t label = 0;
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '.';
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		           (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

static int add_extra_host(struct body *b, const char *raw, json_t *hosts, struct vsl_error **err)
{
	const char *sep = strchr(raw, '=');
	if (sep == NULL)
		sep = strchr(raw, ':');
	size_t klen = sep ? (size_t)(sep - raw) : 0;
	if (sep == NULL || klen == 0 || memchr(raw, ':', klen) != NULL) {
		vsl_error_set_code(err, EINVAL, "bad format for add-host: \"%s\"", raw);
		return run_flags_error(err, "add-host", raw);
	}
	_cleanup_free_ char *addr = strdup(sep + 1);
	if (addr == NULL)
		return vsl_error_errno(err, ENOMEM, "parse add-host");
	char *a = addr;
	size_t n = strlen(a);
	if (strcmp(a, "host-gateway") != 0) {
		if (n > 2 && a[0] == '[' && a[n - 1] == ']') {
			a[n - 1] = '\0';
			a++;
		}
		if (!run_flags_valid_ip(a)) {
			vsl_error_set_code(err, EINVAL, "invalid IP address in add-host: \"%s\"", a);
			return run_flags_error(err, "add-host", raw);
		}
	}
	_cleanup_free_ char *entry = NULL;
	if (asprintf(&entry, "%.*s:%s", (int)klen, raw, a) < 0)
		return vsl_error_errno(err, ENOMEM, "parse add-host");
	append(b, hosts, jstr(b, entry));
	return 0;
}

static bool user_defined_network(const char *net)
{
	return strcmp(net, "default") != 0 && strcmp(net, "bridge") != 0 && strcmp(net, "host") != 0 &&
	       strcmp(net, "none") != 0 && strncmp(net, "container:", 10) != 0;
}

static int networking_config(struct body *b, const struct run_flags *f, json_t **ret, struct vsl_error **err)
{
	const char *net = f->network ? f->network : "default";
	if (f->network && strspn(f->network, " \t") == strlen(f->network))
		return vsl_error_set_code(err, EINVAL, "no name set for network");
	if (f->network_alias && f->network_alias[0] && !user_defined_network(net))
		return vsl_error_set_code(
		    err, EINVAL, "network-scoped aliases are only supported for user-defined networks");
	if (f->ip && !run_flags_valid_ip(f->ip))
		return vsl_error_set_code(
		    err, EINVAL, "invalid argument \"%s\" for \"--ip\" flag: invalid IP address", f->ip);
	if (f->ip6 && !run_flags_valid_ip(f->ip6))
		return vsl_error_set_code(
		    err, EINVAL, "invalid argument \"%s\" for \"--ip6\" flag: invalid IP address", f->ip6);

	json_t *endpoints = json_object();
	json_t *ep = json_object();
	put_strv(b, ep, "Aliases", f->network_alias);
	if ((f->ip && *f->ip) || (f->ip6 && *f->ip6)) {
		json_t *ipam = json_object();
		put_str(b, ipam, "IPv4Address", f->ip);
		put_str(b, ipam, "IPv6Address", f->ip6);
		put(b, ep, "IPAMConfig", ipam);
	}
	put_str(b, ep, "MacAddress", f->mac_address);
	put_if_nonempty(b, endpoints, net, ep);
	json_t *nc = json_object();
	put(b, nc, "EndpointsConfig", endpoints);
	*ret = nc;
	return 0;
}

static int healthcheck(struct body *b, const struct run_flags *f, json_t **ret, struct vsl_error **err)
{
	int64_t interval = 0, timeout = 0, start_period = 0, start_interval = 0, retries = 0;
	int r;
	if (f->health_interval &&
	    (r = parse_duration_flag("health-interval", f->health_interval, &interval, err)) < 0)
		return r;
	if (f->health_timeout &&
	    (r = parse_duration_flag("health-timeout", f->health_timeout, &timeout, err)) < 0)
		return r;
	if (f->health_start_period &&
	    (r = parse_duration_flag("health-start-period", f->health_start_period, &start_period, err)) < 0)
		return r;
	if (f->health_start_interval &&
	    (r = parse_duration_flag("health-start-interval", f->health_start_interval, &start_interval,
	                             err)) < 0)
		return r;
	if (f->health_retries && (r = parse_int("health-retries", f->health_retries, 64, &retries, err)) < 0)
		return r;

	bool have = (f->health_cmd && *f->health_cmd) || interval || timeout || start_period ||
	            start_interval || retries;
	*ret = NULL;
	if (f->no_healthcheck) {
		if (have)
			return vsl_error_set_code(err, EINVAL,
			                          "--no-healthcheck conflicts with --health-* options");
		*ret = json_pack("{s:[s]}", "Test", "NONE");
		if (*ret == NULL)
			b->nomem = true;
		return 0;
	}
	if (!have)
		return 0;
	if (interval < 0)
		return vsl_error_set_code(err, EINVAL, "--health-interval cannot be negative");
	if (timeout < 0)
		return vsl_error_set_code(err, EINVAL, "--health-timeout cannot be negative");
	if (retries < 0)
		return vsl_error_set_code(err, EINVAL, "--health-retries cannot be negative");
	if (start_period < 0)
		return vsl_error_set_code(err, EINVAL, "--health-start-period cannot be negative");
	if (start_interval < 0)
		return vsl_error_set_code(err, EINVAL, "--health-start-interval cannot be negative");
	json_t *h = json_object();
	if (f->health_cmd && *f->health_cmd) {
		json_t *test = json_array();
		append(b, test, json_string("CMD-SHELL"));
		append(b, test, jstr(b, f->health_cmd));
		put(b, h, "Test", test);
	}
	if (interval)
		put(b, h, "Interval", json_integer(interval));
	if (timeout)
		put(b, h, "Timeout", json_integer(timeout));
	if (start_period)
		put(b, h, "StartPeriod", json_integer(start_period));
	if (start_interval)
		put(b, h, "StartInterval", json_integer(start_interval));
	if (retries)
		put(b, h, "Retries", json_integer(retries));
	*ret = h;
	return 0;
}

/* Resources: sizes, CPUs, limits. Only what was given goes in. */
static int resources(struct body *b, const struct run_flags *f, json_t *host, struct vsl_error **err)
{
	static const struct {
		const char *flag, *key;
		size_t off;
	} sizes[] = {
	    {"memory", "Memory", offsetof(struct run_flags, memory)},
	    {"memory-reservation", "MemoryReservation", offsetof(struct run_flags, memory_reservation)},
	    {"shm-size", "ShmSize", offsetof(struct run_flags, shm_size)},
	};
	static const struct {
		const char *flag, *key;
		size_t off;
		int bits;
	} ints[] = {
	    {"cpu-shares", "CpuShares", offsetof(struct run_flags, cpu_shares), 64},
	    {"cpu-period", "CpuPeriod", offsetof(struct run_flags, cpu_period), 64},
	    {"cpu-quota", "CpuQuota", offsetof(struct run_flags, cpu_quota), 64},
	    {"pids-limit", "PidsLimit", offsetof(struct run_flags, pids_limit), 64},
	    {"oom-score-adj", "OomScoreAdj", offsetof(struct run_flags, oom_score_adj), 64},
	    {"memory-swappiness", "MemorySwappiness", offsetof(struct run_flags, memory_swappiness), 64},
	};
	int r;
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		const char *s = *(const char *const *)((const char *)f + sizes[i].off);
		int64_t v;
		if (s == NULL)
			continue;
		if ((r = parse_size_flag(sizes[i].flag, s, &v, err)) < 0)
			return r;
		put(b, host, sizes[i].key, json_integer(v));
	}
	if (f->memory_swap) {
		int64_t v = -1;
		if (strcmp(f->memory_swap, "-1") != 0 &&
		    (r = parse_size_flag("memory-swap", f->memory_swap, &v, err)) < 0)
			return r;
		put(b, host, "MemorySwap", json_integer(v));
	}
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		const char *s = *(const char *const *)((const char *)f + ints[i].off);
		int64_t v;
		if (s == NULL)
			continue;
		if ((r = parse_int(ints[i].flag, s, ints[i].bits, &v, err)) < 0)
			return r;
		if (strcmp(ints[i].key, "MemorySwappiness") == 0 && v != -1 && (v < 0 || v > 100))
			return vsl_error_set_code(
			    err, EINVAL, "invalid value: %" PRId64 ". Valid memory swappiness range is 0-100",
			    v);
		if (strcmp(ints[i].key, "OomScoreAdj") == 0 && (v < -1000 || v > 1000))
			return vsl_error_set_code(
			    err, EINVAL,
			    "Invalid value %" PRId64 ", range for oom score adj is [-1000, 1000]", v);
		put(b, host, ints[i].key, json_integer(v));
	}
	if (f->cpus) {
		int64_t nano = 0;
		if ((r = parse_nano_cpus(f->cpus, &nano, err)) < 0)
			return r;
		put(b, host, "NanoCpus", json_integer(nano));
	}
	if (f->blkio_weight) {
		int64_t w = 0;
		if ((r = parse_uint16("blkio-weight", f->blkio_weight, &w, err)) < 0)
			return r;
		put(b, host, "BlkioWeight", json_integer(w));
	}
	put_str(b, host, "CpusetCpus", f->cpuset_cpus);
	put_str(b, host, "CpusetMems", f->cpuset_mems);
	put_str(b, host, "CgroupParent", f->cgroup_parent);
	if (f->oom_kill_disable)
		put(b, host, "OomKillDisable", json_true());

	json_t *ulimits = json_array();
	for (char **p = f->ulimit; ulimits && p && *p; p++)
		if ((r = add_ulimit(b, *p, ulimits, err)) < 0) {
			json_decref(ulimits);
			return r;
		}
	put_if_nonempty(b, host, "Ulimits", ulimits);

	json_t *devices = json_array();
	for (char **p = f->device; devices && p && *p; p++)
		if ((r = run_flags_add_device(b, *p, devices, err)) < 0) {
			json_decref(devices);
			return r;
		}
	put_if_nonempty(b, host, "Devices", devices);
	return 0;
}

static int namespaces(struct body *b, const struct run_flags *f, json_t *host, struct vsl_error **err)
{
	const char *pid = f->pid ? f->pid : "", *uts = f->uts ? f->uts : "",
	           *userns = f->userns ? f->userns : "", *cgroupns = f->cgroupns ? f->cgroupns : "";
	if (!(*pid == '\0' || strcmp(pid, "host") == 0 ||
	      (strncmp(pid, "container:", 10) == 0 && pid[10] != '\0')))
		return vsl_error_set_code(err, EINVAL, "--pid: invalid PID mode");
	if (!(*uts == '\0' || strcmp(uts, "host") == 0))
		return vsl_error_set_code(err, EINVAL, "--uts: invalid UTS mode");
	if (!(*userns == '\0' || strcmp(userns, "host") == 0))
		return vsl_error_set_code(err, EINVAL, "--userns: invalid USER mode");
	if (!(*cgroupns == '\0' || strcmp(cgroupns, "host") == 0 || strcmp(cgroupns, "private") == 0))
		return vsl_error_set_code(err, EINVAL, "--cgroupns: invalid CGROUP mode");
	put_str(b, host, "PidMode", pid);
	put_str(b, host, "UTSMode", uts);
	put_str(b, host, "UsernsMode", userns);
	put_str(b, host, "CgroupnsMode", cgroupns);
	put_str(b, host, "IpcMode", f->ipc);
	return 0;
}

static int host_config(struct body *b, const struct run_flags *f, json_t *config, json_t *host,
                       struct vsl_error **err)
{
	int r;
	/* owned by the body from here on, filled in place; drop_empty() removes
	 * those that stay empty */
	json_t *binds = json_array(), *volumes = json_object(), *mounts = json_array(),
	       *tmpfs = json_object();
	put(b, host, "Binds", binds);
	put(b, config, "Volumes", volumes);
	put(b, host, "Mounts", mounts);
	put(b, host, "Tmpfs", tmpfs);
	if (b->nomem)
		return vsl_error_errno(err, ENOMEM, "build create request");
	for (char **p = f->volume; p && *p; p++) {
		bool seen = false;
		for (char **q = f->volume; q < p; q++)
			seen = seen || strcmp(*q, *p) == 0;
		if (!seen && (r = run_flags_add_volume(b, *p, binds, volumes, err)) < 0)
			return r;
	}
	for (char **p = f->mount; p && *p; p++)
		if ((r = run_flags_add_mount(b, *p, mounts, err)) < 0)
			return r;
	for (char **p = f->tmpfs; p && *p; p++) {
		const char *colon = strchr(*p, ':');
		_cleanup_free_ char *path = strndup(*p, colon ? (size_t)(colon - *p) : strlen(*p));
		if (path == NULL)
			return vsl_error_errno(err, ENOMEM, "parse tmpfs");
		put(b, tmpfs, path, jstr(b, colon ? colon + 1 : ""));
	}

	json_t *exposed = json_object(), *bindings = json_object();
	put(b, config, "ExposedPorts", exposed);
	put(b, host, "PortBindings", bindings);
	if (b->nomem)
		return vsl_error_errno(err, ENOMEM, "build create request");
	for (char **p = f->publish; p && *p; p++)
		if ((r = run_flags_add_publish(b, *p, exposed, bindings, err)) < 0)
			return r;
	for (char **p = f->expose; p && *p; p++)
		if ((r = run_flags_add_expose(b, *p, exposed, err)) < 0)
			return r;

	if ((r = resources(b, f, host, err)) < 0)
		return r;
	if ((r = namespaces(b, f, host, err)) < 0)
		return r;

	json_t *restart = NULL;
	if ((r = parse_restart(f->restart ? f->restart : "no", &restart, err)) < 0)
		return r;
	put(b, host, "RestartPolicy", restart);
	const char *policy = json_string_value(json_object_get(restart, "Name"));
	if (f->rm && policy && *policy && strcmp(policy, "no") != 0)
		return vsl_error_set_code(err, EINVAL,
		                          "conflicting options: cannot specify both --restart and --rm");

	for (char **p = f->dns; p && *p; p++)
		if (!run_flags_valid_ip(*p)) {
			vsl_error_set_code(err, EINVAL, "IP address is not correctly formatted: %s", *p);
			return run_flags_error(err, "dns", *p);
		}
	for (char **p = f->dns_search; p && *p; p++)
		if (strcmp(*p, ".") != 0 && !valid_domain(*p)) {
			vsl_error_set_code(err, EINVAL, "%s is not a valid domain", *p);
			return run_flags_error(err, "dns-search", *p);
		}
	put_strv(b, host, "Dns", f->dns);
	put_strv(b, host, "DnsSearch", f->dns_search);
	put_strv(b, host, "DnsOptions", f->dns_option);

	json_t *hosts = json_array();
	put(b, host, "ExtraHosts", hosts);
	if (b->nomem)
		return vsl_error_errno(err, ENOMEM, "build create request");
	for (char **p = f->add_host; p && *p; p++)
		if ((r = add_extra_host(b, *p, hosts, err)) < 0)
			return r;

	json_t *sysctls = json_object();
	put(b, host, "Sysctls", sysctls);
	if (b->nomem)
		return vsl_error_errno(err, ENOMEM, "build create request");
	for (char **p = f->sysctl; p && *p; p++) {
		const char *k = *p;
		size_t klen = strcspn(k, "=");
		bool ok = k[klen] == '=' && klen > 0 &&
		          (strncmp(k, "net.", 4) == 0 || strncmp(k, "fs.mqueue.", 10) == 0 ||
		           (klen > 7 && strncmp(k, "kernel.", 7) == 0 &&
		            (strncmp(k, "kernel.msgmax=", 14) == 0 || strncmp(k, "kernel.msgmnb=", 14) == 0 ||
		             strncmp(k, "kernel.msgmni=", 14) == 0 || strncmp(k, "kernel.sem=", 11) == 0 ||
		             strncmp(k, "kernel.shmall=", 14) == 0 || strncmp(k, "kernel.shmmax=", 14) == 0 ||
		             strncmp(k, "kernel.shmmni=", 14) == 0 ||
		             strncmp(k, "kernel.shm_rmid_forced=", 23) == 0)));
		if (!ok) {
			vsl_error_set_code(err, EINVAL, "sysctl '%s' is not allowed", k);
			return run_flags_error(err, "sysctl", k);
		}
		run_flags_set_kv(b, sysctls, k);
	}

	if (f->log_driver && strcmp(f->log_driver, "none") == 0 && f->log_opt && f->log_opt[0])
		return vsl_error_set_code(err, EINVAL, "invalid logging opts for driver none");
	if ((f->log_driver && *f->log_driver) || (f->log_opt && f->log_opt[0])) {
		json_t *lc = json_object(), *opts = json_object();
		for (char **p = f->log_opt; opts && p && *p; p++)
			run_flags_set_kv(b, opts, *p);
		put_str(b, lc, "Type", f->log_driver);
		put_if_nonempty(b, lc, "Config", opts);
		put(b, host, "LogConfig", lc);
	}

	if ((r = security_opts(b, f, host, err)) < 0)
		return r;

	json_t *storage = json_object();
	put(b, host, "StorageOpt", storage);
	if (b->nomem)
		return vsl_error_errno(err, ENOMEM, "build create request");
	for (char **p = f->storage_opt; p && *p; p++) {
		if (strchr(*p, '=') == NULL)
			return vsl_error_set_code(err, EINVAL, "invalid storage option");
		run_flags_set_kv(b, storage, *p);
	}

	put_strv(b, host, "CapAdd", f->cap_add);
	put_strv(b, host, "CapDrop", f->cap_drop);
	put_strv(b, host, "GroupAdd", f->group_add);
	put_strv(b, host, "VolumesFrom", f->volumes_from);
	put_str(b, host, "ContainerIDFile", f->cidfile);
	put_str(b, host, "Runtime", f->runtime);
	put(b, host, "NetworkMode", jstr(b, f->network ? f->network : "default"));
	put(b, host, "AutoRemove", json_boolean(f->rm));
	put(b, host, "Privileged", json_boolean(f->privileged));
	put(b, host, "PublishAllPorts", json_boolean(f->publish_all));
	put(b, host, "ReadonlyRootfs", json_boolean(f->read_only));
	if (f->init)
		put(b, host, "Init", json_true());
	return 0;
}

/* Objects and arrays put in early that stayed empty: docker sends them as
 * null or {}, which the API reads as unset. */
static void drop_empty(json_t *obj, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(obj, *keys);
		if (v && ((json_is_object(v) && json_object_size(v) == 0) ||
		          (json_is_array(v) && json_array_size(v) == 0)))
			json_object_del(obj, *keys);
	}
}

int run_flags_sig_proxy(const struct run_flags *f, bool *ret, struct vsl_error **err)
{
	bool v = true;
	if (f->sig_proxy && strconv_parse_bool(f->sig_proxy, &v) < 0) {
		vsl_error_set_code(err, EINVAL, "strconv.ParseBool: parsing \"%s\": invalid syntax",
		                   f->sig_proxy);
		return run_flags_error(err, "sig-proxy", f->sig_proxy);
	}
	*ret = v;
	return 0;
}

int run_flags_to_body(const struct run_flags *f, const char *image, char **cmd, json_t **ret_body,
                      struct vsl_error **err)
{
	struct body b = {0};
	int r;

	/* -a: which streams; -i implies stdin; none given means stdout and stderr */
	bool attach_in = false, attach_out = false, attach_err = false;
	for (char **p = f->attach; p && *p; p++) {
		if (strcasecmp(*p, "stdin") == 0)
			attach_in = true;
		else if (strcasecmp(*p, "stdout") == 0)
			attach_out = true;
		else if (strcasecmp(*p, "stderr") == 0)
			attach_err = true;
		else {
			vsl_error_set_code(err, EINVAL, "valid streams are STDIN, STDOUT and STDERR");
			return run_flags_error(err, "attach", *p);
		}
	}
	bool sig_proxy;
	if ((r = run_flags_sig_proxy(f, &sig_proxy, err)) < 0)
		return r;
	if (f->pull && strcmp(f->pull, "always") != 0 && strcmp(f->pull, "missing") != 0 &&
	    strcmp(f->pull, "never") != 0 && *f->pull != '\0')
		return vsl_error_set_code(
		    err, EINVAL,
		    "invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"",
		    f->pull);
	if (f->mac_address && *f->mac_address && !valid_mac(f->mac_address))
		return vsl_error_set_code(err, EINVAL, "%s is not a valid mac address", f->mac_address);
	if (f->interactive)
		attach_in = true;
	if (f->attach == NULL || f->attach[0] == NULL)
		attach_out = attach_err = true;
	/* stdin attached to an open stdin closes when the client goes away */
	bool stdin_once = f->interactive && attach_in;
	if (f->detach) {
		if (f->attach && f->attach[0])
			return vsl_error_set_code(
			    err, EINVAL, "conflicting options: cannot specify both --attach and --detach");
		attach_in = attach_out = attach_err = stdin_once = false;
	}

	_cleanup_json_ json_t *body = json_object();
	json_t *host = json_object();
	put(&b, body, "HostConfig", host);
	if (b.nomem)
		return vsl_error_errno(err, ENOMEM, "build create request");

	put_str(&b, body, "Hostname", f->hostname);
	put_str(&b, body, "Domainname", f->domainname);
	put_str(&b, body, "User", f->user);
	put(&b, body, "AttachStdin", json_boolean(attach_in));
	put(&b, body, "AttachStdout", json_boolean(attach_out));
	put(&b, body, "AttachStderr", json_boolean(attach_err));
	put(&b, body, "Tty", json_boolean(f->tty));
	put(&b, body, "OpenStdin", json_boolean(f->interactive));
	put(&b, body, "StdinOnce", json_boolean(stdin_once));

	_cleanup_strv_ char **env = NULL;
	if ((r = collect_env(f, &env, err)) < 0)
		return r;
	put_strv(&b, body, "Env", env);
	put_strv(&b, body, "Cmd", cmd);
	put(&b, body, "Image", jstr(&b, image));
	put_str(&b, body, "WorkingDir", f->workdir);
	/* --entrypoint "" clears the image's entrypoint: docker sends [""] */
	if (f->entrypoint) {
		json_t *ep = json_array();
		append(&b, ep, jstr(&b, f->entrypoint));
		put(&b, body, "Entrypoint", ep);
	}
	json_t *labels = NULL;
	if ((r = collect_labels(&b, f, &labels, err)) < 0)
		return r;
	put_if_nonempty(&b, body, "Labels", labels);
	put_str(&b, body, "StopSignal", f->stop_signal);
	if (f->stop_timeout) {
		int64_t t;
		if ((r = parse_int("stop-timeout", f->stop_timeout, 32, &t, err)) < 0)
			return r;
		put(&b, body, "StopTimeout", json_integer(t));
	}
	json_t *health = NULL;
	if ((r = healthcheck(&b, f, &health, err)) < 0)
		return r;
	if (health)
		put(&b, body, "Healthcheck", health);

	if ((r = host_config(&b, f, body, host, err)) < 0)
		return r;
	static const char *const config_keys[] = {"Volumes", "ExposedPorts", NULL};
	static const char *const host_keys[] = {"Binds",      "Mounts",  "Tmpfs",      "PortBindings",
	                                        "ExtraHosts", "Sysctls", "StorageOpt", NULL};
	drop_empty(body, config_keys);
	drop_empty(host, host_keys);

	json_t *nc = NULL;
	if ((r = networking_config(&b, f, &nc, err)) < 0)
		return r;
	put(&b, body, "NetworkingConfig", nc);

	if (b.bad_utf8)
		return vsl_error_set_code(err, EILSEQ, "'%s' is not valid UTF-8", b.bad_utf8);
	if (b.nomem)
		return vsl_error_errno(err, ENOMEM, "build create request");
	*ret_body = TAKE_PTR(body);
	return 0;
}

/* The Docker ContainerCreate body <-> struct container_create, by the tables
 * of util/json-table.h, and the checks dockerd makes before it creates. */
#include "engine/create-config.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/caps.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/json-table.h"
#include "util/strconv.h"
#include "util/strv.h"

#define _cleanup_json_ _cleanup_(json_decrefp)

/* A create body is small; this only bounds a hostile one. */
#define CREATE_MAX_SIZE (16u << 20)

/* ---- values of more than one JSON shape ---- */

/* Docker's strslice: a string is a list of one. The list stays NULL when
 * absent, so that "not given" (the image's) and [] (none) differ. */
static int parse_strslice(json_t *v, void *obj, const struct json_field *f, const struct jpath *p,
                          struct vsl_error **err)
{
	char ***dst = JT_AT(obj, f->off, char **);
	if (json_table_is_string(v)) {
		char **l = calloc(2, sizeof(char *));
		if (l == NULL || (l[0] = strdup(json_string_value(v))) == NULL) {
			free(l);
			return json_table_fail_oom(err, p);
		}
		*dst = l;
		return 0;
	}
	if (!json_is_array(v))
		return json_table_fail(err, p, "expected a string or an array of strings");
	size_t n = json_array_size(v);
	for (size_t i = 0; i < n; i++)
		if (!json_table_is_string(json_array_get(v, i)))
			return json_table_fail(err, p, "expected a string or an array of strings");
	char **l = calloc(n + 1, sizeof(char *));
	if (l == NULL)
		return json_table_fail_oom(err, p);
	*dst = l;
	for (size_t i = 0; i < n; i++)
		if ((l[i] = strdup(json_string_value(json_array_get(v, i)))) == NULL)
			return json_table_fail_oom(err, p);
	return 0;
}

static void release_strv(void *obj, const struct json_field *f)
{
	strv_free(*JT_AT(obj, f->off, char **));
}

static int dump_strv(const void *obj, const struct json_field *f, json_t **ret)
{
	char *const *l = *JT_AT(obj, f->off, char **const);
	*ret = NULL;
	if (l == NULL)
		return 0;
	json_t *a = json_array();
	if (a == NULL)
		return -ENOMEM;
	for (size_t i = 0; l[i]; i++)
		if (json_array_append_new(a, json_string(l[i])) < 0) {
			json_decref(a);
			return -EINVAL;
		}
	*ret = a;
	return 0;
}

#define STRSLICE(T, json, member)                                                                            \
	JT_FIELD(T, json, K_FN, member, .parse = parse_strslice, .release = release_strv, .dump = dump_strv, )

/* ConsoleSize: [height, width]. */
static int parse_console_size(json_t *v, void *obj, const struct json_field *f, const struct jpath *p,
                              struct vsl_error **err)
{
	struct create_host_config *h = obj;
	(void)f;
	if (!json_is_array(v) || json_array_size(v) != 2)
		return json_table_fail(err, p, "expected an array of two unsigned integers");
	for (size_t i = 0; i < 2; i++) {
		struct jpath ep = {.up = p, .index = i};
		uint64_t u;
		int r = json_table_take_int(json_array_get(v, i), K_U32, &ep, &u, err);
		if (r < 0)
			return r;
		h->console_size[i] = (uint32_t)u;
	}
	h->has_console_size = true;
	return 0;
}

static int dump_console_size(const void *obj, const struct json_field *f, json_t **ret)
{
	const struct create_host_config *h = obj;
	(void)f;
	*ret = NULL;
	if (!h->has_console_size)
		return 0;
	*ret = json_pack("[II]", (json_int_t)h->console_size[0], (json_int_t)h->console_size[1]);
	return *ret ? 0 : -ENOMEM;
}

/* ---- Config ---- */

#define H struct create_healthcheck
static const struct json_field healthcheck_fields[] = {
    JT_FIELD(H, "Test", K_STRV, test),
    JT_FIELD(H, "Interval", K_I64, interval),
    JT_FIELD(H, "Timeout", K_I64, timeout),
    JT_FIELD(H, "StartPeriod", K_I64, start_period),
    JT_FIELD(H, "StartInterval", K_I64, start_interval),
    JT_FIELD(H, "Retries", K_I32, retries),
    {0},
};
#undef H
static const struct json_table healthcheck_table = {healthcheck_fields, sizeof(struct create_healthcheck),
                                                    NULL, NULL};

/* ---- HostConfig ---- */

static const struct json_field log_config_fields[] = {
    JT_FIELD(struct create_log_config, "Type", K_STR, type),
    JT_FIELD(struct create_log_config, "Config", K_MAP, config, JT_COUNT(struct create_log_config, n_config)),
    {0},
};
static const struct json_table log_config_table = {log_config_fields, sizeof(struct create_log_config), NULL,
                                                   NULL};

static const struct json_field restart_policy_fields[] = {
    JT_FIELD(struct create_restart_policy, "Name", K_STR, name),
    JT_FIELD(struct create_restart_policy, "MaximumRetryCount", K_I32, maximum_retry_count),
    {0},
};
static const struct json_table restart_policy_table = {restart_policy_fields,
                                                       sizeof(struct create_restart_policy), NULL, NULL};

static const struct json_field port_binding_fields[] = {
    JT_FIELD(struct create_port_binding, "HostIp", K_STR, host_ip),
    JT_FIELD(struct create_port_binding, "HostPort", K_STR, host_port),
    {0},
};
static const struct json_table port_binding_table = {port_binding_fields, sizeof(struct create_port_binding),
                                                     NULL, NULL};

/* PortBindings: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "443/tcp": null}. */
static int parse_port_bindings(json_t *v, void *obj, const struct json_field *f, const struct jpath *p,
                               struct vsl_error **err)
{
	struct create_host_config *h = obj;
	(void)f;
	if (!json_is_object(v))
		return json_table_fail(err, p, "expected an object");
	size_t n = json_object_size(v);
	if (n == 0)
		return 0;
	if ((h->port_bindings = calloc(n, sizeof(*h->port_bindings))) == NULL)
		return json_table_fail_oom(err, p);
	const char *key;
	json_t *val;
	json_object_foreach(v, key, val)
	{
		struct jpath kp = {.up = p, .key = key};
		struct create_port_map *m = &h->port_bindings[h->n_port_bindings++];
		if ((m->port = strdup(key)) == NULL)
			return json_table_fail_oom(err, p);
		if (json_is_null(val))
			continue;
		if (!json_is_array(val))
			return json_table_fail(err, &kp, "expected an array");
		size_t k = json_array_size(val);
		if (k == 0)
			continue;
		if ((m->bindings = calloc(k, sizeof(*m->bindings))) == NULL)
			return json_table_fail_oom(err, &kp);
		for (size_t i = 0; i < k; i++) {
			struct jpath ep = {.up = &kp, .index = i};
			json_t *e = json_array_get(val, i);
			if (!json_is_object(e))
				return json_table_fail(err, &ep, "expected an object");
			m->n_bindings++;
			int r = json_table_parse(&port_binding_table, e, &m->bindings[i], &ep, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static void release_port_bindings(void *obj, const struct json_field *f)
{
	struct create_host_config *h = obj;
	(void)f;
	for (size_t i = 0; i < h->n_port_bindings; i++) {
		struct create_port_map *m = &h->port_bindings[i];
		for (size_t k = 0; k < m->n_bindings; k++)
			json_table_free(&port_binding_table, &m->bindings[k]);
		free(m->bindings);
		free(m->port);
	}
	free(h->port_bindings);
}

static int dump_port_bindings(const void *obj, const struct json_field *f, json_t **ret)
{
	const struct create_host_config *h = obj;
	(void)f;
	*ret = NULL;
	if (h->n_port_bindings == 0)
		return 0;
	_cleanup_json_ json_t *o = json_object();
	if (o == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < h->n_port_bindings; i++) {
		const struct create_port_map *m = &h->port_bindings[i];
		json_t *a = json_array();
		if (a == NULL || json_object_set_new(o, m->port, a) < 0)
			return -ENOMEM;
		for (size_t k = 0; k < m->n_bindings; k++) {
			json_t *b = json_table_dump(&port_binding_table, &m->bindings[k]);
			if (b == NULL || json_array_append_new(a, b) < 0)
				return -ENOMEM;
		}
	}
	*ret = TAKE_PTR(o);
	return 0;
}

/* TmpfsOptions.Options: [["noexec"], ["uid", "1000"]] -> "noexec", "uid=1000". */
static int parse_tmpfs_options(json_t *v, void *obj, const struct json_field *f, const struct jpath *p,
                               struct vsl_error **err)
{
	char ***dst = JT_AT(obj, f->off, char **);
	if (!json_is_array(v))
		return json_table_fail(err, p, "expected an array of arrays of strings");
	size_t n = json_array_size(v);
	if ((*dst = calloc(n + 1, sizeof(char *))) == NULL)
		return json_table_fail_oom(err, p);
	for (size_t i = 0; i < n; i++) {
		struct jpath ep = {.up = p, .index = i};
		json_t *e = json_array_get(v, i);
		size_t k = json_is_array(e) ? json_array_size(e) : 0;
		if (k < 1 || k > 2 || !json_table_is_string(json_array_get(e, 0)) ||
		    (k == 2 && !json_table_is_string(json_array_get(e, 1))))
			return json_table_fail(err, &ep, "expected an option and an optional value");
		const char *name = json_string_value(json_array_get(e, 0));
		int r = k == 1 ? asprintf(&(*dst)[i], "%s", name)
		               : asprintf(&(*dst)[i], "%s=%s", name, json_string_value(json_array_get(e, 1)));
		if (r < 0) {
			(*dst)[i] = NULL;
			return json_table_fail_oom(err, p);
		}
	}
	return 0;
}

static int dump_tmpfs_options(const void *obj, const struct json_field *f, json_t **ret)
{
	char *const *l = *JT_AT(obj, f->off, char **const);
	*ret = NULL;
	if (l == NULL)
		return 0;
	_cleanup_json_ json_t *a = json_array();
	if (a == NULL)
		return -ENOMEM;
	for (size_t i = 0; l[i]; i++) {
		const char *eq = strchr(l[i], '=');
		json_t *e = eq ? json_pack("[s#s]", l[i], (int)(eq - l[i]), eq + 1) : json_pack("[s]", l[i]);
		if (e == NULL || json_array_append_new(a, e) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(a);
	return 0;
}

#define M struct create_mount
static const struct json_field bind_options_fields[] = {
    JT_FIELD(M, "Propagation", K_STR, bind_propagation,
             JT_ONEOF("propagation", "private", "rprivate", "shared", "rshared", "slave", "rslave")),
    JT_FIELD(M, "NonRecursive", K_BOOL, bind_non_recursive),
    JT_FIELD(M, "CreateMountpoint", K_BOOL, bind_create_mountpoint),
    {0},
};
static const struct json_table bind_options_table = {bind_options_fields, 0, NULL, NULL};

static const struct json_field driver_config_fields[] = {
    JT_FIELD(M, "Name", K_STR, volume_driver),
    JT_FIELD(M, "Options", K_MAP, volume_driver_options, JT_COUNT(M, n_volume_driver_options)),
    {0},
};
static const struct json_table driver_config_table = {driver_config_fields, 0, NULL, NULL};

static const struct json_field volume_options_fields[] = {
    JT_FIELD(M, "NoCopy", K_BOOL, volume_no_copy),
    JT_FIELD(M, "Subpath", K_STR, volume_subpath),
    JT_FIELD(M, "Labels", K_MAP, volume_labels, JT_COUNT(M, n_volume_labels)),
    JT_INLINE("DriverConfig", driver_config_table),
    {0},
};
static const struct json_table volume_options_table = {volume_options_fields, 0, NULL, NULL};

static const struct json_field tmpfs_options_fields[] = {
    JT_FIELD(M, "SizeBytes", K_I64, tmpfs_size_bytes),
    JT_FIELD(M, "Mode", K_U32, tmpfs_mode, JT_HAS(M, has_tmpfs_mode)),
    JT_FIELD(M, "Options", K_FN, tmpfs_options, .parse = parse_tmpfs_options, .release = release_strv,
             .dump = dump_tmpfs_options, ),
    {0},
};
static const struct json_table tmpfs_options_table = {tmpfs_options_fields, 0, NULL, NULL};

static const struct json_field mount_fields[] = {
    JT_FIELD(M, "Type", K_STR, type),
    JT_FIELD(M, "Source", K_STR, source),
    JT_FIELD(M, "Target", K_STR, target),
    JT_FIELD(M, "ReadOnly", K_BOOL, read_only),
    JT_FIELD(M, "Consistency", K_STR, consistency),
    JT_INLINE("BindOptions", bind_options_table),
    JT_INLINE("VolumeOptions", volume_options_table),
    JT_INLINE("TmpfsOptions", tmpfs_options_table),
    {0},
};
#undef M
static const struct json_table mount_table = {mount_fields, sizeof(struct create_mount), NULL, NULL};

static const struct json_field device_fields[] = {
    JT_FIELD(struct create_device, "PathOnHost", K_STR, path_on_host),
    JT_FIELD(struct create_device, "PathInContainer", K_STR, path_in_container),
    JT_FIELD(struct create_device, "CgroupPermissions", K_STR, cgroup_permissions),
    {0},
};
static const struct json_table device_table = {device_fields, sizeof(struct create_device), NULL, NULL};

static const struct json_field ulimit_fields[] = {
    JT_FIELD(struct create_ulimit, "Name", K_STR, name, JT_REQ),
    JT_FIELD(struct create_ulimit, "Soft", K_I64, soft),
    JT_FIELD(struct create_ulimit, "Hard", K_I64, hard),
    {0},
};
static const struct json_table ulimit_table = {ulimit_fields, sizeof(struct create_ulimit), NULL, NULL};

static const struct json_field weight_device_fields[] = {
    JT_FIELD(struct create_weight_device, "Path", K_STR, path, JT_REQ),
    JT_FIELD(struct create_weight_device, "Weight", K_U16, weight),
    {0},
};
static const struct json_table weight_device_table = {weight_device_fields,
                                                      sizeof(struct create_weight_device), NULL, NULL};

static const struct json_field throttle_device_fields[] = {
    JT_FIELD(struct create_throttle_device, "Path", K_STR, path, JT_REQ),
    JT_FIELD(struct create_throttle_device, "Rate", K_U64, rate),
    {0},
};
static const struct json_table throttle_device_table = {throttle_device_fields,
                                                        sizeof(struct create_throttle_device), NULL, NULL};

#define HC                struct create_host_config
#define THROTTLE(json, m) JT_FIELD(HC, json, K_ARR, m, JT_COUNT(HC, n_##m) JT_SUB(throttle_device_table))
static const struct json_field host_config_fields[] = {
    JT_FIELD(HC, "Binds", K_STRV, binds),
    JT_FIELD(HC, "ContainerIDFile", K_STR, container_id_file),
    JT_FIELD(HC, "LogConfig", K_OBJ, log_config, JT_SUB(log_config_table)),
    JT_FIELD(HC, "NetworkMode", K_STR, network_mode),
    JT_FIELD(HC, "PortBindings", K_FN, port_bindings, .parse = parse_port_bindings,
             .release = release_port_bindings, .dump = dump_port_bindings, ),
    JT_FIELD(HC, "RestartPolicy", K_OBJ, restart_policy, JT_SUB(restart_policy_table)),
    JT_FIELD(HC, "AutoRemove", K_BOOL, auto_remove),
    JT_FIELD(HC, "VolumeDriver", K_STR, volume_driver),
    JT_FIELD(HC, "VolumesFrom", K_STRV, volumes_from),
    JT_FIELD(HC, "Mounts", K_ARR, mounts, JT_COUNT(HC, n_mounts) JT_SUB(mount_table)),
    JT_FIELD(HC, "ConsoleSize", K_FN, console_size, .parse = parse_console_size, .dump = dump_console_size, ),
    JT_FIELD(HC, "Annotations", K_MAP, annotations, JT_COUNT(HC, n_annotations)),
    JT_FIELD(HC, "CapAdd", K_STRV, cap_add),
    JT_FIELD(HC, "CapDrop", K_STRV, cap_drop),
    JT_FIELD(HC, "CgroupnsMode", K_STR, cgroupns_mode),
    JT_FIELD(HC, "Dns", K_STRV, dns),
    JT_FIELD(HC, "DnsOptions", K_STRV, dns_options),
    JT_FIELD(HC, "DnsSearch", K_STRV, dns_search),
    JT_FIELD(HC, "ExtraHosts", K_STRV, extra_hosts),
    JT_FIELD(HC, "GroupAdd", K_STRV, group_add),
    JT_FIELD(HC, "IpcMode", K_STR, ipc_mode),
    JT_FIELD(HC, "Cgroup", K_STR, cgroup),
    JT_FIELD(HC, "Links", K_STRV, links),
    JT_FIELD(HC, "OomScoreAdj", K_I32, oom_score_adj),
    JT_FIELD(HC, "PidMode", K_STR, pid_mode),
    JT_FIELD(HC, "Privileged", K_BOOL, privileged),
    JT_FIELD(HC, "PublishAllPorts", K_BOOL, publish_all_ports),
    JT_FIELD(HC, "ReadonlyRootfs", K_BOOL, readonly_rootfs),
    JT_FIELD(HC, "SecurityOpt", K_STRV, security_opt),
    JT_FIELD(HC, "StorageOpt", K_MAP, storage_opt, JT_COUNT(HC, n_storage_opt)),
    JT_FIELD(HC, "Tmpfs", K_MAP, tmpfs, JT_COUNT(HC, n_tmpfs)),
    JT_FIELD(HC, "UTSMode", K_STR, uts_mode),
    JT_FIELD(HC, "UsernsMode", K_STR, userns_mode),
    JT_FIELD(HC, "ShmSize", K_I64, shm_size),
    JT_FIELD(HC, "Sysctls", K_MAP, sysctls, JT_COUNT(HC, n_sysctls)),
    JT_FIELD(HC, "Runtime", K_STR, runtime),
    JT_FIELD(HC, "Isolation", K_STR, isolation),
    JT_FIELD(HC, "MaskedPaths", K_STRV, masked_paths),
    JT_FIELD(HC, "ReadonlyPaths", K_STRV, readonly_paths),
    /* Resources, flattened into HostConfig as Docker's Go struct embeds them. */
    JT_FIELD(HC, "CpuShares", K_I64, cpu_shares),
    JT_FIELD(HC, "Memory", K_I64, memory),
    JT_FIELD(HC, "NanoCpus", K_I64, nano_cpus),
    JT_FIELD(HC, "CgroupParent", K_STR, cgroup_parent),
    JT_FIELD(HC, "BlkioWeight", K_U16, blkio_weight),
    JT_FIELD(HC, "BlkioWeightDevice", K_ARR, blkio_weight_device,
             JT_COUNT(HC, n_blkio_weight_device) JT_SUB(weight_device_table)),
    THROTTLE("BlkioDeviceReadBps", blkio_read_bps),
    THROTTLE("BlkioDeviceWriteBps", blkio_write_bps),
    THROTTLE("BlkioDeviceReadIOps", blkio_read_iops),
    THROTTLE("BlkioDeviceWriteIOps", blkio_write_iops),
    JT_FIELD(HC, "CpuPeriod", K_I64, cpu_period),
    JT_FIELD(HC, "CpuQuota", K_I64, cpu_quota),
    JT_FIELD(HC, "CpuRealtimePeriod", K_I64, cpu_realtime_period),
    JT_FIELD(HC, "CpuRealtimeRuntime", K_I64, cpu_realtime_runtime),
    JT_FIELD(HC, "CpusetCpus", K_STR, cpuset_cpus),
    JT_FIELD(HC, "CpusetMems", K_STR, cpuset_mems),
    JT_FIELD(HC, "Devices", K_ARR, devices, JT_COUNT(HC, n_devices) JT_SUB(device_table)),
    JT_FIELD(HC, "DeviceCgroupRules", K_STRV, device_cgroup_rules),
    JT_FIELD(HC, "MemoryReservation", K_I64, memory_reservation),
    JT_FIELD(HC, "MemorySwap", K_I64, memory_swap),
    JT_FIELD(HC, "MemorySwappiness", K_I64, memory_swappiness, JT_HAS(HC, has_memory_swappiness)),
    JT_FIELD(HC, "OomKillDisable", K_BOOL, oom_kill_disable, JT_HAS(HC, has_oom_kill_disable)),
    JT_FIELD(HC, "PidsLimit", K_I64, pids_limit, JT_HAS(HC, has_pids_limit)),
    JT_FIELD(HC, "Ulimits", K_ARR, ulimits, JT_COUNT(HC, n_ulimits) JT_SUB(ulimit_table)),
    JT_FIELD(HC, "Init", K_BOOL, init, JT_HAS(HC, has_init)),
    {0},
};
#undef THROTTLE
#undef HC
static const struct json_table host_config_table = {host_config_fields, sizeof(struct create_host_config),
                                                    NULL, NULL};

/* ---- NetworkingConfig ---- */

#define E struct create_endpoint
static const struct json_field ipam_fields[] = {
    JT_FIELD(E, "IPv4Address", K_STR, ipv4_address),
    JT_FIELD(E, "IPv6Address", K_STR, ipv6_address),
    {0},
};
static const struct json_table ipam_table = {ipam_fields, 0, NULL, NULL};

static const struct json_field endpoint_fields[] = {
    JT_INLINE("IPAMConfig", ipam_table),
    JT_FIELD(E, "Links", K_STRV, links),
    JT_FIELD(E, "Aliases", K_STRV, aliases),
    JT_FIELD(E, "MacAddress", K_STR, mac_address),
    {0},
};
#undef E
static const struct json_table endpoint_table = {endpoint_fields, sizeof(struct create_endpoint), NULL, NULL};

/* EndpointsConfig: {"<network>": {...}}, kept as a list with the name inside. */
static int parse_endpoints(json_t *v, void *obj, const struct json_field *f, const struct jpath *p,
                           struct vsl_error **err)
{
	struct container_create *c = obj;
	(void)f;
	if (!json_is_object(v))
		return json_table_fail(err, p, "expected an object");
	json_t *eps = json_object_get(v, "EndpointsConfig");
	if (eps == NULL || json_is_null(eps))
		return 0;
	struct jpath ep = {.up = p, .key = "EndpointsConfig"};
	if (!json_is_object(eps))
		return json_table_fail(err, &ep, "expected an object");
	size_t n = json_object_size(eps);
	if (n == 0)
		return 0;
	if ((c->endpoints = calloc(n, sizeof(*c->endpoints))) == NULL)
		return json_table_fail_oom(err, p);
	const char *key;
	json_t *val;
	json_object_foreach(eps, key, val)
	{
		struct jpath kp = {.up = &ep, .key = key};
		struct create_endpoint *e = &c->endpoints[c->n_endpoints++];
		if ((e->network = strdup(key)) == NULL)
			return json_table_fail_oom(err, p);
		if (json_is_null(val))
			continue;
		if (!json_is_object(val))
			return json_table_fail(err, &kp, "expected an object");
		int r = json_table_parse(&endpoint_table, val, e, &kp, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static void release_endpoints(void *obj, const struct json_field *f)
{
	struct container_create *c = obj;
	(void)f;
	for (size_t i = 0; i < c->n_endpoints; i++) {
		json_table_free(&endpoint_table, &c->endpoints[i]);
		free(c->endpoints[i].network);
	}
	free(c->endpoints);
}

static int dump_endpoints(const void *obj, const struct json_field *f, json_t **ret)
{
	const struct container_create *c = obj;
	(void)f;
	*ret = NULL;
	if (c->n_endpoints == 0)
		return 0;
	_cleanup_json_ json_t *eps = json_object();
	if (eps == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_endpoints; i++) {
		json_t *e = json_table_dump(&endpoint_table, &c->endpoints[i]);
		if (e == NULL || json_object_set_new(eps, c->endpoints[i].network, e) < 0)
			return -ENOMEM;
	}
	json_t *o = json_pack("{sO}", "EndpointsConfig", eps);
	if (o == NULL)
		return -ENOMEM;
	*ret = o;
	return 0;
}

/* ---- the body ---- */

#define C struct container_create
static const struct json_field create_fields[] = {
    JT_FIELD(C, "Hostname", K_STR, hostname),
    JT_FIELD(C, "Domainname", K_STR, domainname),
    JT_FIELD(C, "User", K_STR, user),
    JT_FIELD(C, "AttachStdin", K_BOOL, attach_stdin),
    JT_FIELD(C, "AttachStdout", K_BOOL, attach_stdout),
    JT_FIELD(C, "AttachStderr", K_BOOL, attach_stderr),
    JT_FIELD(C, "ExposedPorts", K_KEYS, exposed_ports),
    JT_FIELD(C, "Tty", K_BOOL, tty),
    JT_FIELD(C, "OpenStdin", K_BOOL, open_stdin),
    JT_FIELD(C, "StdinOnce", K_BOOL, stdin_once),
    JT_FIELD(C, "Env", K_STRV, env),
    STRSLICE(C, "Cmd", cmd),
    JT_FIELD(C, "Healthcheck", K_PTR, healthcheck, JT_SUB(healthcheck_table)),
    JT_FIELD(C, "ArgsEscaped", K_BOOL, args_escaped),
    JT_FIELD(C, "Image", K_STR, image),
    JT_FIELD(C, "Volumes", K_KEYS, volumes),
    JT_FIELD(C, "WorkingDir", K_STR, working_dir),
    STRSLICE(C, "Entrypoint", entrypoint),
    JT_FIELD(C, "NetworkDisabled", K_BOOL, network_disabled),
    JT_FIELD(C, "MacAddress", K_STR, mac_address),
    JT_FIELD(C, "OnBuild", K_STRV, on_build),
    JT_FIELD(C, "Labels", K_MAP, labels, JT_COUNT(C, n_labels)),
    JT_FIELD(C, "StopSignal", K_STR, stop_signal),
    JT_FIELD(C, "StopTimeout", K_I32, stop_timeout, JT_HAS(C, has_stop_timeout)),
    STRSLICE(C, "Shell", shell),
    JT_FIELD(C, "HostConfig", K_OBJ, host, JT_HAS(C, has_host_config) JT_SUB(host_config_table)),
    JT_FIELD(C, "NetworkingConfig", K_FN, endpoints, .parse = parse_endpoints, .release = release_endpoints,
             .dump = dump_endpoints, ),
    {0},
};
#undef C
static const struct json_table create_table = {create_fields, sizeof(struct container_create), NULL, NULL};

int container_create_parse(const char *json, size_t len, struct container_create **ret,
                           struct vsl_error **err)
{
	const struct jpath root = {.key = "container config", .doc = true};
	if (len > CREATE_MAX_SIZE)
		return vsl_error_set_code(err, EFBIG, "container config: larger than %u bytes",
		                          CREATE_MAX_SIZE);
	_cleanup_json_ json_t *j = NULL;
	int r = json_table_load(json, len, &root, &j, err);
	if (r < 0)
		return r;
	_cleanup_container_create_ struct container_create *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return json_table_fail_oom(err, &root);
	r = json_table_parse(&create_table, j, c, &root, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

char *container_create_to_json(const struct container_create *c)
{
	_cleanup_json_ json_t *j = json_table_dump(&create_table, c);
	if (j == NULL)
		return NULL;
	return json_dumps(j, JSON_COMPACT);
}

void container_create_free(struct container_create *c)
{
	if (c == NULL)
		return;
	json_table_free(&create_table, c);
	free(c);
}

/* ---- helpers shared with oci-spec ---- */

char *create_path_clean(const char *path)
{
	size_t n = strlen(path);
	bool abs = path[0] == '/';
	char *out = malloc(n + 2);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	if (abs)
		out[o++] = '/';
	size_t base = o; /* ".." cannot go above this */
	for (size_t i = 0; i < n;) {
		while (i < n && path[i] == '/')
			i++;
		size_t s = i;
		while (i < n && path[i] != '/')
			i++;
		size_t len = i - s;
		if (len == 0 || (len == 1 && path[s] == '.'))
			continue;
		if (len == 2 && path[s] == '.' && path[s + 1] == '.') {
			if (o > base) {
				while (o > base && out[o - 1] != '/')
					o--;
				if (o > base)
					o--; /* the separator */
				continue;
			}
			if (abs)
				continue; /* "/.." is "/" */
			/* A relative path keeps its leading "..". */
			base = o + 2 + (o > 0);
		}
		if (o > 0 && out[o - 1] != '/')
			out[o++] = '/';
		memcpy(out + o, path + s, len);
		o += len;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return out;
}

static const struct {
	const char *name, *type;
} ulimit_names[] = {
    {"as", "RLIMIT_AS"},           {"core", "RLIMIT_CORE"},         {"cpu", "RLIMIT_CPU"},
    {"data", "RLIMIT_DATA"},       {"fsize", "RLIMIT_FSIZE"},       {"locks", "RLIMIT_LOCKS"},
    {"memlock", "RLIMIT_MEMLOCK"}, {"msgqueue", "RLIMIT_MSGQUEUE"}, {"nice", "RLIMIT_NICE"},
    {"nofile", "RLIMIT_NOFILE"},   {"nproc", "RLIMIT_NPROC"},       {"rss", "RLIMIT_RSS"},
    {"rtprio", "RLIMIT_RTPRIO"},   {"rttime", "RLIMIT_RTTIME"},     {"sigpending", "RLIMIT_SIGPENDING"},
    {"stack", "RLIMIT_STACK"},
};

const char *create_ulimit_type(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(ulimit_names); i++)
		if (strcmp(ulimit_names[i].name, name) == 0)
			return ulimit_names[i].type;
	return NULL;
}

char *create_cap_normalize(const char *name)
{
	if (strcasecmp(name, "ALL") == 0)
		return strdup("ALL");
	bool prefixed = strncasecmp(name, "CAP_", 4) == 0;
	char *s = NULL;
	if (asprintf(&s, "%s%s", prefixed ? "" : "CAP_", name) < 0)
		return NULL;
	for (char *p = s; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return s;
}

int create_security_parse(const struct container_create *c, struct create_security *ret,
                          struct vsl_error **err)
{
	struct create_security s = {0};
	for (char **o = c->host.security_opt; o && *o; o++) {
		const char *opt = *o;
		if (strcmp(opt, "no-new-privileges") == 0) {
			s.no_new_privileges = true;
			continue;
		}
		if (strcmp(opt, "disable") == 0)
			continue; /* label=disable, written the old way */
		/* '=' first: a seccomp profile's JSON holds ':' everywhere. */
		const char *sep = strchr(opt, '=');
		if (sep == NULL)
			sep = strchr(opt, ':');
		if (sep == NULL)
			return vsl_error_set_code(err, EINVAL, "invalid --security-opt 1: \"%s\"", opt);
		size_t klen = (size_t)(sep - opt);
		const char *v = sep + 1;
		if (klen == 5 && strncmp(opt, "label", 5) == 0)
			continue; /* SELinux labels: no SELinux support, as with a disabled SELinux */
		if (klen == 8 && strncmp(opt, "apparmor", 8) == 0)
			continue; /* no AppArmor support, as on a host without AppArmor */
		if (klen == 7 && strncmp(opt, "seccomp", 7) == 0) {
			s.seccomp_unconfined = strcmp(v, "unconfined") == 0;
			s.seccomp_profile =
			    s.seccomp_unconfined || strcmp(v, "builtin") == 0 || v[0] == '\0' ? NULL : v;
			continue;
		}
		if (klen == 17 && strncmp(opt, "no-new-privileges", 17) == 0) {
			if (strconv_parse_bool(v, &s.no_new_privileges) < 0)
				return vsl_error_set_code(err, EINVAL, "invalid --security-opt 2: \"%s\"",
				                          opt);
			continue;
		}
		/* Not quoted whole: a seccomp profile of kilobytes makes a poor message. */
		return vsl_error_set_code(err, EINVAL, "invalid --security-opt 2: \"%.*s\"", (int)klen, opt);
	}
	*ret = s;
	return 0;
}

/* ---- mounts ---- */

static void mount_spec_clear(struct create_mount_spec *m)
{
	free(m->source);
	free(m->destination);
	free(m->propagation);
	strv_free(m->options);
	free(m->volume_driver);
	strv_free(m->volume_options);
	strv_free(m->volume_labels);
}

void create_mount_specs_free(struct create_mount_spec *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++)
		mount_spec_clear(&m[i]);
	free(m);
}

static bool is_propagation(const char *s)
{
	static const char *const p[] = {"shared", "rshared", "slave", "rslave", "private", "rprivate"};
	for (size_t i = 0; i < ARRAY_SIZE(p); i++)
		if (strcmp(s, p[i]) == 0)
			return true;
	return false;
}

/* Docker's linuxValidMountMode: comma-separated, at most one of each kind. */
static int parse_bind_mode(const char *mode, struct create_mount_spec *m, struct vsl_error **err)
{
	unsigned rw = 0, label = 0, prop = 0, copy = 0, consistency = 0;
	_cleanup_free_ char *dup = strdup(mode);
	if (dup == NULL)
		return vsl_error_errno(err, ENOMEM, "parse mode '%s'", mode);
	char *save = NULL;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "rw") == 0 || strcmp(t, "ro") == 0) {
			rw++;
			m->read_only = t[1] == 'o';
		} else if (strcmp(t, "z") == 0 || strcmp(t, "Z") == 0) {
			label++; /* SELinux relabelling: nothing to do without SELinux */
		} else if (is_propagation(t)) {
			prop++;
			free(m->propagation);
			if ((m->propagation = strdup(t)) == NULL)
				return vsl_error_errno(err, ENOMEM, "parse mode '%s'", mode);
		} else if (strcmp(t, "nocopy") == 0) {
			copy++;
			m->no_copy = true;
		} else if (strcmp(t, "consistent") == 0 || strcmp(t, "cached") == 0 ||
		           strcmp(t, "delegated") == 0) {
			consistency++;
		} else {
			return vsl_error_set_code(err, EINVAL, "invalid mode: %s", mode);
		}
	}
	if (rw > 1 || label > 1 || prop > 1 || copy > 1 || consistency > 1)
		return vsl_error_set_code(err, EINVAL, "invalid mode: %s", mode);
	return 0;
}

static int check_target(const char *type, const char *target, struct vsl_error **err)
{
	if (target == NULL || target[0] == '\0')
		return vsl_error_set_code(
		    err, EINVAL, "invalid mount config for type \"%s\": field Target must not be empty",
		    type);
	if (target[0] != '/')
		return vsl_error_set_code(
		    err, EINVAL,
		    "invalid mount config for type \"%s\": invalid mount path: '%s' mount "
		    "path must be absolute",
		    type, target);
	return 0;
}

static int add_spec(struct create_mount_spec **list, size_t *n, struct create_mount_spec *m,
                    struct vsl_error **err)
{
	_cleanup_free_ char *clean = create_path_clean(m->destination);
	if (clean == NULL)
		return vsl_error_errno(err, ENOMEM, "add mount");
	if (strcmp(clean, "/") == 0)
		return vsl_error_set_code(err, EINVAL, "invalid specification: destination can't be '/'");
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*list)[i].destination, clean) == 0)
			return vsl_error_set_code(err, EINVAL, "Duplicate mount point: %s", clean);
	struct create_mount_spec *l = realloc(*list, (*n + 1) * sizeof(*l));
	if (l == NULL)
		return vsl_error_errno(err, ENOMEM, "add mount");
	*list = l;
	free(m->destination);
	m->destination = TAKE_PTR(clean);
	l[(*n)++] = *m;
	memset(m, 0, sizeof(*m));
	return 0;
}

static int parse_bind(const char *raw, struct create_mount_spec *m, struct vsl_error **err)
{
	_cleanup_free_ char *dup = strdup(raw);
	if (dup == NULL)
		return vsl_error_errno(err, ENOMEM, "parse bind '%s'", raw);
	char *parts[4] = {0};
	size_t n = 0;
	for (char *s = dup;; n++) {
		if (n == ARRAY_SIZE(parts))
			return vsl_error_set_code(err, EINVAL, "invalid volume specification: '%s'", raw);
		parts[n] = s;
		char *colon = strchr(s, ':');
		if (colon == NULL) {
			n++;
			break;
		}
		*colon = '\0';
		s = colon + 1;
	}
	for (size_t i = 0; i < n; i++)
		if (n > 3 || parts[i][0] == '\0')
			return vsl_error_set_code(err, EINVAL, "invalid volume specification: '%s'", raw);
	if (n == 1) {
		/* "/data": an anonymous volume there. */
		int r = check_target("volume", parts[0], err);
		if (r < 0)
			return r;
		m->kind = CREATE_MOUNT_VOLUME;
		if ((m->destination = strdup(parts[0])) == NULL)
			return vsl_error_errno(err, ENOMEM, "parse bind '%s'", raw);
		return 0;
	}
	if (n == 2) {
		/* "/data:ro" would be an anonymous volume with a mode: Docker refuses it. */
		struct create_mount_spec probe = {0};
		_cleanup_error_ struct vsl_error *ignored = NULL;
		bool is_mode = parse_bind_mode(parts[1], &probe, &ignored) == 0;
		free(probe.propagation);
		if (is_mode)
			return vsl_error_set_code(err, EINVAL, "invalid volume specification: '%s'", raw);
	}
	if (n == 3) {
		int r = parse_bind_mode(parts[2], m, err);
		if (r < 0)
			return r;
	}
	bool volume = parts[0][0] != '/';
	int r = check_target(volume ? "volume" : "bind", parts[1], err);
	if (r < 0)
		return r;
	m->kind = volume ? CREATE_MOUNT_VOLUME : CREATE_MOUNT_BIND;
	if ((m->source = volume ? strdup(parts[0]) : create_path_clean(parts[0])) == NULL ||
	    (m->destination = strdup(parts[1])) == NULL)
		return vsl_error_errno(err, ENOMEM, "parse bind '%s'", raw);
	return 0;
}

static int kv_strv(const struct json_kv *kv, size_t n, char ***ret)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *s = NULL;
		if (asprintf(&s, "%s=%s", kv[i].key, kv[i].value ? kv[i].value : "") < 0 ||
		    strv_append(ret, s) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int parse_volume_mount(const struct create_mount *in, struct create_mount_spec *m,
                              struct vsl_error **err)
{
	int r = check_target("volume", in->target, err);
	if (r < 0)
		return r;
	if (in->bind_propagation || in->bind_non_recursive || in->bind_create_mountpoint)
		return vsl_error_set_code(
		    err, EINVAL,
		    "invalid mount config for type \"volume\": field BindOptions must not be specified");
	if (in->tmpfs_size_bytes != 0 || in->has_tmpfs_mode || in->tmpfs_options)
		return vsl_error_set_code(
		    err, EINVAL,
		    "invalid mount config for type \"volume\": field TmpfsOptions must not be specified");
	if (in->volume_subpath && *in->volume_subpath)
		return vsl_error_set_code(
		    err, ENOTSUP,
		    "invalid mount config for type \"volume\": volume subpaths are not supported");
	m->kind = CREATE_MOUNT_VOLUME;
	m->read_only = in->read_only;
	m->no_copy = in->volume_no_copy;
	if ((m->destination = strdup(in->target)) == NULL ||
	    (in->source && *in->source && (m->source = strdup(in->source)) == NULL) ||
	    (in->volume_driver && *in->volume_driver &&
	     (m->volume_driver = strdup(in->volume_driver)) == NULL) ||
	    kv_strv(in->volume_driver_options, in->n_volume_driver_options, &m->volume_options) < 0 ||
	    kv_strv(in->volume_labels, in->n_volume_labels, &m->volume_labels) < 0)
		return vsl_error_errno(err, ENOMEM, "parse mount");
	return 0;
}

static int parse_mount(const struct create_mount *in, struct create_mount_spec *m, struct vsl_error **err)
{
	const char *type = in->type ? in->type : "";
	if (strcmp(type, "volume") == 0)
		return parse_volume_mount(in, m, err);
	if (strcmp(type, "bind") != 0 && strcmp(type, "tmpfs") != 0)
		return vsl_error_set_code(err, EINVAL,
		                          "invalid mount config for type \"%s\": mount type unknown", type);
	int r = check_target(type, in->target, err);
	if (r < 0)
		return r;
	if (in->volume_no_copy || in->volume_subpath || in->n_volume_labels || in->volume_driver ||
	    in->n_volume_driver_options)
		return vsl_error_set_code(
		    err, EINVAL,
		    "invalid mount config for type \"%s\": field VolumeOptions must not "
		    "be specified",
		    type);
	m->read_only = in->read_only;
	if ((m->destination = strdup(in->target)) == NULL)
		return vsl_error_errno(err, ENOMEM, "parse mount");

	if (strcmp(type, "bind") == 0) {
		if (in->source == NULL || in->source[0] == '\0')
			return vsl_error_set_code(
			    err, EINVAL,
			    "invalid mount config for type \"bind\": field Source must not be empty");
		if (in->source[0] != '/')
			return vsl_error_set_code(
			    err, EINVAL,
			    "invalid mount config for type \"bind\": invalid mount path: "
			    "'%s' mount path must be absolute",
			    in->source);
		if (in->tmpfs_size_bytes != 0 || in->has_tmpfs_mode || in->tmpfs_options)
			return vsl_error_set_code(
			    err, EINVAL,
			    "invalid mount config for type \"bind\": field TmpfsOptions "
			    "must not be specified");
		m->kind = CREATE_MOUNT_BIND;
		m->non_recursive = in->bind_non_recursive;
		if ((m->source = create_path_clean(in->source)) == NULL)
			return vsl_error_errno(err, ENOMEM, "parse mount");
		if (in->bind_propagation && (m->propagation = strdup(in->bind_propagation)) == NULL)
			return vsl_error_errno(err, ENOMEM, "parse mount");
		return 0;
	}

	if (in->source && in->source[0] != '\0')
		return vsl_error_set_code(
		    err, EINVAL,
		    "invalid mount config for type \"tmpfs\": field Source must not be specified");
	if (in->bind_propagation || in->bind_non_recursive || in->bind_create_mountpoint)
		return vsl_error_set_code(
		    err, EINVAL,
		    "invalid mount config for type \"tmpfs\": field BindOptions must not be specified");
	if (in->tmpfs_size_bytes < 0)
		return vsl_error_set_code(err, EINVAL,
		                          "invalid mount config for type \"tmpfs\": invalid tmpfs size %lld",
		                          (long long)in->tmpfs_size_bytes);
	m->kind = CREATE_MOUNT_TMPFS;
	if (in->tmpfs_size_bytes > 0) {
		char buf[40];
		snprintf(buf, sizeof(buf), "size=%lld", (long long)in->tmpfs_size_bytes);
		if (strv_append(&m->options, buf) < 0)
			return vsl_error_errno(err, ENOMEM, "parse mount");
	}
	if (in->has_tmpfs_mode) {
		char buf[24];
		snprintf(buf, sizeof(buf), "mode=%o", in->tmpfs_mode & 07777);
		if (strv_append(&m->options, buf) < 0)
			return vsl_error_errno(err, ENOMEM, "parse mount");
	}
	for (char **o = in->tmpfs_options; o && *o; o++)
		if (strv_append(&m->options, *o) < 0)
			return vsl_error_errno(err, ENOMEM, "parse mount");
	return 0;
}

static int parse_tmpfs_entry(const struct json_kv *kv, struct create_mount_spec *m, struct vsl_error **err)
{
	int r = check_target("tmpfs", kv->key, err);
	if (r < 0)
		return r;
	m->kind = CREATE_MOUNT_TMPFS;
	if ((m->destination = strdup(kv->key)) == NULL)
		return vsl_error_errno(err, ENOMEM, "parse tmpfs");
	_cleanup_free_ char *dup = strdup(kv->value ? kv->value : "");
	if (dup == NULL)
		return vsl_error_errno(err, ENOMEM, "parse tmpfs");
	char *save = NULL;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "ro") == 0)
			m->read_only = true;
		else if (strcmp(t, "rw") == 0)
			m->read_only = false;
		else if (strv_append(&m->options, t) < 0)
			return vsl_error_errno(err, ENOMEM, "parse tmpfs");
	}
	return 0;
}

int create_mounts_list(const struct container_create *c, struct create_mount_spec **ret, size_t *ret_n,
                       struct vsl_error **err)
{
	struct create_mount_spec *list = NULL;
	size_t n = 0;
	int r = 0;
	struct create_mount_spec m = {0};

	for (char **b = c->host.binds; r >= 0 && b && *b; b++) {
		r = parse_bind(*b, &m, err);
		if (r >= 0)
			r = add_spec(&list, &n, &m, err);
	}
	for (size_t i = 0; r >= 0 && i < c->host.n_mounts; i++) {
		r = parse_mount(&c->host.mounts[i], &m, err);
		if (r >= 0)
			r = add_spec(&list, &n, &m, err);
	}
	for (size_t i = 0; r >= 0 && i < c->host.n_tmpfs; i++) {
		r = parse_tmpfs_entry(&c->host.tmpfs[i], &m, err);
		if (r >= 0)
			r = add_spec(&list, &n, &m, err);
	}
	if (r < 0) {
		/* m holds what the failed entry had parsed. */
		mount_spec_clear(&m);
		create_mount_specs_free(list, n);
		return r;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

/* ---- validation ---- */

static int host_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* "0-3,5": Docker's parsers.ParseUintList. */
static bool valid_cpu_list(const char *s)
{
	if (s[0] == '\0')
		return true;
	for (;;) {
		char *end;
		if (!isdigit((unsigned char)*s))
			return false;
		unsigned long a = strtoul(s, &end, 10);
		s = end;
		if (*s == '-') {
			s++;
			if (!isdigit((unsigned char)*s))
				return false;
			unsigned long b = strtoul(s, &end, 10);
			s = end;
			if (b < a)
				return false;
		}
		if (*s == '\0')
			return true;
		if (*s++ != ',')
			return false;
	}
}

static int validate_restart(const struct create_host_config *h, struct vsl_error **err)
{
	const char *name = h->restart_policy.name ? h->restart_policy.name : "";
	int retries = h->restart_policy.maximum_retry_count;
	bool none = name[0] == '\0' || strcmp(name, "no") == 0;
	if (!none && strcmp(name, "always") != 0 && strcmp(name, "on-failure") != 0 &&
	    strcmp(name, "unless-stopped") != 0)
		return vsl_error_set_code(err, EINVAL,
		                          "invalid restart policy: unknown policy '%s'; use one of 'no', "
		                          "'always', 'on-failure', or 'unless-stopped'",
		                          name);
	if (retries < 0)
		return vsl_error_set_code(err, EINVAL,
		                          "invalid restart policy: maximum retry count cannot be negative");
	if (retries > 0 && strcmp(name, "on-failure") != 0)
		return vsl_error_set_code(err, EINVAL,
		                          "invalid restart policy: maximum retry count can only be used with "
		                          "'on-failure'");
	if (h->auto_remove && !none)
		return vsl_error_set_code(err, EINVAL,
		                          "can't create 'AutoRemove' container with restart policy");
	return 0;
}

static int validate_resources(const struct create_host_config *h, struct vsl_error **err)
{
	if (h->memory != 0 && h->memory < CREATE_MIN_MEMORY)
		return vsl_error_set_code(err, EINVAL, "Minimum memory limit allowed is 6MB");
	if (h->memory_swap < -1)
		return vsl_error_set_code(
		    err, EINVAL, "invalid memory swap limit %lld (expected -1 for unlimited, or a size)",
		    (long long)h->memory_swap);
	if (h->memory > 0 && h->memory_swap > 0 && h->memory_swap < h->memory)
		return vsl_error_set_code(
		    err, EINVAL, "Minimum memoryswap limit should be larger than memory limit, see usage");
	if (h->memory == 0 && h->memory_swap > 0)
		return vsl_error_set_code(
		    err, EINVAL,
		    "You should always set the Memory limit when using Memoryswap limit, "
		    "see usage");
	if (h->has_memory_swappiness && h->memory_swappiness != -1 &&
	    (h->memory_swappiness < 0 || h->memory_swappiness > 100))
		return vsl_error_set_code(err, EINVAL,
		                          "Invalid value: %lld, valid memory swappiness range is 0-100",
		                          (long long)h->memory_swappiness);
	if (h->memory_reservation < 0 ||
	    (h->memory_reservation > 0 && h->memory_reservation < CREATE_MIN_MEMORY))
		return vsl_error_set_code(err, EINVAL, "Minimum memory reservation allowed is 6MB");
	if (h->memory > 0 && h->memory_reservation > 0 && h->memory < h->memory_reservation)
		return vsl_error_set_code(
		    err, EINVAL,
		    "Minimum memory limit can not be less than memory reservation limit, "
		    "see usage");
	if (h->shm_size < 0)
		return vsl_error_set_code(err, EINVAL, "SHM size can not be less than 0");

	if (h->nano_cpus > 0 && h->cpu_period > 0)
		return vsl_error_set_code(err, EINVAL,
		                          "Conflicting options: Nano CPUs and CPU Period cannot both be set");
	if (h->nano_cpus > 0 && h->cpu_quota > 0)
		return vsl_error_set_code(err, EINVAL,
		                          "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
	int ncpu = host_cpus();
	if (h->nano_cpus < 0 || h->nano_cpus > (int64_t)ncpu * 1000000000)
		return vsl_error_set_code(
		    err, EINVAL, "Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available",
		    ncpu, ncpu);
	if (h->cpu_period != 0 && (h->cpu_period < 1000 || h->cpu_period > 1000000))
		return vsl_error_set_code(
		    err, EINVAL,
		    "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
		    "(i.e. 1000000)");
	if (h->cpu_quota > 0 && h->cpu_quota < 1000)
		return vsl_error_set_code(err, EINVAL, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
	if (h->cpuset_cpus && !valid_cpu_list(h->cpuset_cpus))
		return vsl_error_set_code(err, EINVAL, "Invalid value %s for cpuset cpus", h->cpuset_cpus);
	if (h->cpuset_mems && !valid_cpu_list(h->cpuset_mems))
		return vsl_error_set_code(err, EINVAL, "Invalid value %s for cpuset mems", h->cpuset_mems);
	if (h->blkio_weight > 0 && (h->blkio_weight < 10 || h->blkio_weight > 1000))
		return vsl_error_set_code(err, EINVAL, "Range of blkio weight is from 10 to 1000");
	for (size_t i = 0; i < h->n_blkio_weight_device; i++) {
		uint16_t w = h->blkio_weight_device[i].weight;
		if (w > 0 && (w < 10 || w > 1000))
			return vsl_error_set_code(err, EINVAL, "Range of blkio weight is from 10 to 1000");
	}
	if (h->oom_score_adj < -1000 || h->oom_score_adj > 1000)
		return vsl_error_set_code(err, EINVAL,
		                          "Invalid value %d, range for oom score adj is [-1000, 1000]",
		                          h->oom_score_adj);

	for (size_t i = 0; i < h->n_ulimits; i++) {
		const struct create_ulimit *u = &h->ulimits[i];
		if (create_ulimit_type(u->name) == NULL)
			return vsl_error_set_code(err, EINVAL, "invalid ulimit type: %s", u->name);
		/* -1 is unlimited, above any number. */
		if ((uint64_t)u->soft > (uint64_t)u->hard)
			return vsl_error_set_code(
			    err, EINVAL,
			    "ulimit soft limit must be less than or equal to hard limit: %lld > %lld",
			    (long long)u->soft, (long long)u->hard);
		if ((u->soft < 0 && u->soft != -1) || (u->hard < 0 && u->hard != -1))
			return vsl_error_set_code(err, EINVAL, "invalid ulimit %s: %lld:%lld", u->name,
			                          (long long)u->soft, (long long)u->hard);
		for (size_t k = 0; k < i; k++)
			if (strcmp(h->ulimits[k].name, u->name) == 0)
				return vsl_error_set_code(err, EINVAL, "duplicate ulimit '%s'", u->name);
	}

	for (size_t i = 0; i < h->n_devices; i++) {
		const struct create_device *d = &h->devices[i];
		if (d->path_on_host == NULL || d->path_on_host[0] != '/')
			return vsl_error_set_code(err, EINVAL,
			                          "invalid device '%s': the host path must be absolute",
			                          d->path_on_host ? d->path_on_host : "");
		if (d->path_in_container && d->path_in_container[0] != '\0' && d->path_in_container[0] != '/')
			return vsl_error_set_code(err, EINVAL, "%s is not an absolute path",
			                          d->path_in_container);
		const char *perm = d->cgroup_permissions ? d->cgroup_permissions : "";
		if (perm[strspn(perm, "rwm")] != '\0' || strlen(perm) > 3)
			return vsl_error_set_code(err, EINVAL, "invalid device mode: %s", perm);
	}
	return 0;
}

static int validate_caps(char **list, struct vsl_error **err)
{
	for (char **c = list; c && *c; c++) {
		_cleanup_free_ char *n = create_cap_normalize(*c);
		if (n == NULL)
			return vsl_error_errno(err, ENOMEM, "check capabilities");
		if (strcmp(n, "ALL") != 0 && caps_from_name(n) < 0)
			return vsl_error_set_code(err, EINVAL, "unknown capability: \"%s\"", n);
	}
	return 0;
}

static bool is_container_mode(const char *m)
{
	return strncmp(m, "container:", 10) == 0 && m[10] != '\0';
}

static int validate_namespaces(const struct container_create *c, struct vsl_error **err)
{
	const struct create_host_config *h = &c->host;
	/* Any other name is a user network: the engine looks it up when the container starts. */
	const char *net = h->network_mode ? h->network_mode : "";
	if (is_container_mode(net) && c->hostname && c->hostname[0])
		return vsl_error_set_code(err, EINVAL, "conflicting options: hostname and the network mode");

	const char *ipc = h->ipc_mode ? h->ipc_mode : "";
	if (ipc[0] != '\0' && strcmp(ipc, "private") != 0 && strcmp(ipc, "shareable") != 0 &&
	    strcmp(ipc, "none") != 0 && strcmp(ipc, "host") != 0 && !is_container_mode(ipc))
		return vsl_error_set_code(err, EINVAL, "invalid IPC mode: %s", ipc);
	const char *pid = h->pid_mode ? h->pid_mode : "";
	if (pid[0] != '\0' && strcmp(pid, "host") != 0 && !is_container_mode(pid))
		return vsl_error_set_code(err, EINVAL, "invalid PID mode: %s", pid);
	const char *uts = h->uts_mode ? h->uts_mode : "";
	if (uts[0] != '\0' && strcmp(uts, "host") != 0)
		return vsl_error_set_code(err, EINVAL, "invalid UTS mode: %s", uts);
	if (strcmp(uts, "host") == 0 && c->hostname && c->hostname[0])
		return vsl_error_set_code(err, EINVAL, "conflicting options: hostname and the UTS mode");
	const char *cgns = h->cgroupns_mode ? h->cgroupns_mode : "";
	if (cgns[0] != '\0' && strcmp(cgns, "private") != 0 && strcmp(cgns, "host") != 0)
		return vsl_error_set_code(err, EINVAL, "invalid cgroup namespace mode: %s", cgns);
	const char *userns = h->userns_mode ? h->userns_mode : "";
	if (userns[0] != '\0' && strcmp(userns, "host") != 0)
		return vsl_error_set_code(err, ENOTSUP, "userns mode '%s' is not supported", userns);

	/* Sysctls: only those the container's own namespaces scope, as Docker allows. */
	for (size_t i = 0; i < h->n_sysctls; i++) {
		const char *k = h->sysctls[i].key;
		static const char *const ipc_keys[] = {
		    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
		bool ipc_key = strncmp(k, "fs.mqueue.", 10) == 0;
		for (size_t j = 0; j < ARRAY_SIZE(ipc_keys); j++)
			ipc_key = ipc_key || strcmp(k, ipc_keys[j]) == 0;
		if (ipc_key) {
			if (strcmp(ipc, "host") == 0 || is_container_mode(ipc))
				return vsl_error_set_code(
				    err, EINVAL,
				    "sysctl '%s' is not allowed with the host's or another "
				    "container's IPC namespace",
				    k);
		} else if (strncmp(k, "net.", 4) == 0) {
			if (strcmp(net, "host") == 0 || is_container_mode(net))
				return vsl_error_set_code(
				    err, EINVAL,
				    "sysctl '%s' is not allowed with the host's or another "
				    "container's network namespace",
				    k);
		} else if (strcmp(k, "kernel.domainname") == 0 || strcmp(k, "kernel.hostname") == 0) {
			return vsl_error_set_code(
			    err, EINVAL, "sysctl '%s' is not allowed, use --hostname or --domainname", k);
		} else {
			return vsl_error_set_code(err, EINVAL, "sysctl '%s' is not allowed in a container",
			                          k);
		}
	}
	return 0;
}

static int validate_healthcheck(const struct create_healthcheck *hc, struct vsl_error **err)
{
	if (hc == NULL)
		return 0;
	const int64_t ms = 1000000;
	if (hc->interval != 0 && hc->interval < ms)
		return vsl_error_set_code(err, EINVAL, "Interval in Healthcheck cannot be less than 1ms");
	if (hc->timeout != 0 && hc->timeout < ms)
		return vsl_error_set_code(err, EINVAL, "Timeout in Healthcheck cannot be less than 1ms");
	if (hc->start_period != 0 && hc->start_period < ms)
		return vsl_error_set_code(err, EINVAL, "StartPeriod in Healthcheck cannot be less than 1ms");
	if (hc->start_interval != 0 && hc->start_interval < ms)
		return vsl_error_set_code(err, EINVAL,
		                          "StartInterval in Healthcheck cannot be less than 1ms");
	if (hc->retries < 0)
		return vsl_error_set_code(err, EINVAL, "Retries in Healthcheck cannot be negative");
	return 0;
}

int container_create_validate(const struct container_create *c, struct vsl_error **err)
{
	const struct create_host_config *h = &c->host;
	int r;

	for (char **e = c->env; e && *e; e++)
		if ((*e)[0] == '=' || (*e)[0] == '\0')
			return vsl_error_set_code(err, EINVAL, "invalid environment variable: %s", *e);
	if (c->stop_timeout < -1 && c->has_stop_timeout)
		return vsl_error_set_code(err, EINVAL, "invalid stop timeout %d", c->stop_timeout);
	if ((r = validate_healthcheck(c->healthcheck, err)) < 0)
		return r;
	if ((r = validate_restart(h, err)) < 0)
		return r;
	if ((r = validate_resources(h, err)) < 0)
		return r;
	if ((r = validate_caps(h->cap_add, err)) < 0 || (r = validate_caps(h->cap_drop, err)) < 0)
		return r;
	struct create_security sec;
	if ((r = create_security_parse(c, &sec, err)) < 0)
		return r;
	if ((r = validate_namespaces(c, err)) < 0)
		return r;

	struct create_mount_spec *mounts = NULL;
	size_t n_mounts = 0;
	if ((r = create_mounts_list(c, &mounts, &n_mounts, err)) < 0)
		return r;
	create_mount_specs_free(mounts, n_mounts);
	return 0;
}

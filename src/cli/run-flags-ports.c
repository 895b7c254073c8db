/* -p and --expose of `run`/`create`: ExposedPorts and PortBindings as the
 * docker CLI builds them (nat.ParsePortSpec). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/run-flags-internal.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/strv.h"

/* nat.ParsePortRange: "80" or "8000-8010". */
static int port_range(const char *s, unsigned *ret_start, unsigned *ret_end)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long start = strtoul(s, &end, 10), stop = start;
	if (errno || start > 65535)
		return -EINVAL;
	if (*end == '-') {
		const char *t = end + 1;
		if (*t < '0' || *t > '9')
			return -EINVAL;
		stop = strtoul(t, &end, 10);
		if (errno || stop > 65535 || stop < start)
			return -EINVAL;
	}
	if (*end != '\0')
		return -EINVAL;
	*ret_start = (unsigned)start;
	*ret_end = (unsigned)stop;
	return 0;
}

/* nat.SplitProtoPort: "80/udp" → udp, 80; "80" → tcp, 80. */
static void split_proto(char *s, const char **ret_proto, const char **ret_port)
{
	char *slash = strchr(s, '/');
	*ret_port = s;
	*ret_proto = "tcp";
	if (slash == NULL)
		return;
	*slash = '\0';
	if (slash[1] != '\0') {
		char *next = strchr(slash + 1, '/');
		if (next)
			*next = '\0';
		*ret_proto = slash + 1;
	}
}

static bool valid_proto(const char *proto)
{
	return strcasecmp(proto, "tcp") == 0 || strcasecmp(proto, "udp") == 0 ||
	       strcasecmp(proto, "sctp") == 0;
}

static int port_key(unsigned port, const char *proto, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%u/%s", port, proto);
	for (char *c = buf; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

/* -p [IP:][HOST:]CONTAINER[/PROTO], ranges on both sides; or the long form
 * published=8080,target=80,protocol=udp. */
int run_flags_add_publish(struct body *b, const char *raw, json_t *exposed, json_t *bindings,
                          struct vsl_error **err)
{
	_cleanup_free_ char *spec = NULL;
	if (strchr(raw, '=')) {
		const char *published = "", *target = "", *protocol = "tcp";
		_cleanup_free_ char *copy = strdup(raw);
		if (copy == NULL)
			return vsl_error_errno(err, ENOMEM, "parse port");
		char *save = NULL;
		for (char *param = strtok_r(copy, ",", &save); param; param = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(param, '=');
			if (eq == NULL || eq == param)
				return vsl_error_set_code(
				    err, EINVAL,
				    "invalid publish opts format (should be name=value but got "
				    "'%s')",
				    param);
			*eq = '\0';
			if (strcmp(param, "published") == 0)
				published = eq + 1;
			else if (strcmp(param, "target") == 0)
				target = eq + 1;
			else if (strcmp(param, "protocol") == 0)
				protocol = eq + 1;
		}
		if (asprintf(&spec, "%s:%s/%s", published, target, protocol) < 0)
			return vsl_error_errno(err, ENOMEM, "parse port");
	} else if ((spec = strdup(raw)) == NULL) {
		return vsl_error_errno(err, ENOMEM, "parse port");
	}

	/* split at the last two colons: IP may be IPv6, [bracketed] or not */
	char *ip = NULL, *host = NULL, *cport = spec;
	char *last = strrchr(spec, ':');
	if (last) {
		*last = '\0';
		cport = last + 1;
		char *prev = strrchr(spec, ':');
		if (prev) {
			*prev = '\0';
			ip = spec;
			host = prev + 1;
		} else {
			host = spec;
		}
	}
	const char *proto, *port;
	split_proto(cport, &proto, &port);
	if (ip && ip[0] == '[') {
		size_t n = strlen(ip);
		if (n < 2 || ip[n - 1] != ']')
			return vsl_error_set_code(err, EINVAL,
			                          "invalid IP address %s: missing ']' in address", ip);
		ip[n - 1] = '\0';
		ip++;
	}
	if (ip && *ip && !run_flags_valid_ip(ip))
		return vsl_error_set_code(err, EINVAL, "invalid IP address: %s", ip);
	if (*port == '\0')
		return vsl_error_set_code(err, EINVAL, "no port specified: %s<empty>", raw);
	unsigned start, end, hstart = 0, hend = 0;
	if (port_range(port, &start, &end) < 0)
		return vsl_error_set_code(err, EINVAL, "invalid containerPort: %s", port);
	bool has_host = host && *host;
	if (has_host && port_range(host, &hstart, &hend) < 0)
		return vsl_error_set_code(err, EINVAL, "invalid hostPort: %s", host);
	if (has_host && end - start != hend - hstart && end != start)
		return vsl_error_set_code(err, EINVAL,
		                          "invalid ranges specified for container and host Ports: %s and %s",
		                          port, host);
	if (!valid_proto(proto))
		return vsl_error_set_code(err, EINVAL, "invalid proto: %s", proto);

	for (unsigned i = 0; i <= end - start; i++) {
		char key[32], hostport[16] = "";
		if (port_key(start + i, proto, key, sizeof(key)) < 0)
			return vsl_error_set_code(err, EINVAL, "invalid proto: %s", proto);
		if (has_host && start == end && hstart != hend)
			snprintf(hostport, sizeof(hostport), "%u-%u", hstart, hend);
		else if (has_host)
			snprintf(hostport, sizeof(hostport), "%u", hstart + i);
		put(b, exposed, key, json_object());
		json_t *list = json_object_get(bindings, key);
		if (list == NULL) {
			list = json_array();
			put(b, bindings, key, list);
		}
		json_t *binding = json_object();
		put(b, binding, "HostIp", jstr(b, ip ? ip : ""));
		put(b, binding, "HostPort", jstr(b, hostport));
		append(b, list, binding);
	}
	return 0;
}

int run_flags_add_expose(struct body *b, const char *raw, json_t *exposed, struct vsl_error **err)
{
	if (strchr(raw, ':'))
		return vsl_error_set_code(err, EINVAL, "invalid port format for --expose: %s", raw);
	_cleanup_free_ char *copy = strdup(raw);
	if (copy == NULL)
		return vsl_error_errno(err, ENOMEM, "parse port");
	const char *proto, *port;
	split_proto(copy, &proto, &port);
	unsigned start, end;
	if (port_range(port, &start, &end) < 0)
		return vsl_error_set_code(err, EINVAL, "invalid range format for --expose: %s", raw);
	if (!valid_proto(proto))
		return vsl_error_set_code(err, EINVAL, "invalid proto: %s", proto);
	for (unsigned p = start; p <= end; p++) {
		char key[32];
		if (port_key(p, proto, key, sizeof(key)) < 0)
			return vsl_error_set_code(err, EINVAL, "invalid proto: %s", proto);
		if (json_object_get(exposed, key) == NULL)
			put(b, exposed, key, json_object());
	}
	return 0;
}

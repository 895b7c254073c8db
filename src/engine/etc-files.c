#include "engine/etc-files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"

#define RESOLV_MAX (64u << 10)

static int write_text(int dirfd, const char *name, const char *text, struct vsl_error **err)
{
	return write_file_atomic_at(dirfd, name, text, strlen(text), 0644, err);
}

static int write_hosts(int dirfd, const struct etc_files_opts *o, struct vsl_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	if (o->host_network) {
		_cleanup_error_ struct vsl_error *e = NULL;
		if (read_file_at(AT_FDCWD, "/etc/hosts", RESOLV_MAX, &text, &size, &e) >= 0)
			return write_text(dirfd, "hosts", text, err);
	}
	FILE *f = open_memstream(&text, &size);
	if (f == NULL)
		return vsl_error_errno(err, ENOMEM, "write hosts");
	fputs("127.0.0.1\tlocalhost\n"
	      "::1\tlocalhost ip6-localhost ip6-loopback\n"
	      "fe00::0\tip6-localnet\n"
	      "ff00::0\tip6-mcastprefix\n"
	      "ff02::1\tip6-allnodes\n"
	      "ff02::2\tip6-allrouters\n",
	      f);
	int r = 0;
	for (char **h = o->extra_hosts; h && *h; h++) {
		/* "name:ip"; the ip may be IPv6 and hold colons itself. */
		const char *colon = strchr(*h, ':');
		if (colon == NULL || colon == *h || colon[1] == '\0') {
			r = vsl_error_set_code(err, EINVAL,
			                       "invalid argument \"%s\" for \"--add-host\" flag: invalid IP "
			                       "address in add-host",
			                       *h);
			break;
		}
		fprintf(f, "%s\t%.*s\n", colon + 1, (int)(colon - *h), *h);
	}
	if (fclose(f) != 0 && r >= 0)
		r = vsl_error_errno(err, ENOMEM, "write hosts");
	if (r < 0)
		return r;
	return write_text(dirfd, "hosts", text, err);
}

static bool loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	       strcmp(addr, "0:0:0:0:0:0:0:1") == 0;
}

static int write_resolv(int dirfd, const struct etc_files_opts *o, struct vsl_error **err)
{
	_cleanup_free_ char *host = NULL;
	size_t len = 0;
	_cleanup_error_ struct vsl_error *e = NULL;
	const char *path = o->host_resolv_conf ? o->host_resolv_conf : "/etc/resolv.conf";
	if (read_file_at(AT_FDCWD, path, RESOLV_MAX, &host, &len, &e) < 0)
		host = NULL; /* no resolv.conf on the host: the fallback below */

	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	if (f == NULL)
		return vsl_error_errno(err, ENOMEM, "write resolv.conf");
	bool servers = false;
	char *save = NULL;
	for (char *line = host ? strtok_r(host, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char word[32], value[256];
		if (sscanf(line, "%31s %255s", word, value) != 2) {
			fprintf(f, "%s\n", line);
			continue;
		}
		if (strcmp(word, "nameserver") == 0) {
			if (o->dns || loopback(value))
				continue;
			servers = true;
		} else if ((strcmp(word, "search") == 0 || strcmp(word, "domain") == 0) && o->dns_search) {
			continue;
		} else if (strcmp(word, "options") == 0 && o->dns_options) {
			continue;
		}
		fprintf(f, "%s\n", line);
	}
	for (char **d = o->dns; d && *d; d++, servers = true)
		fprintf(f, "nameserver %s\n", *d);
	if (!servers)
		/* Docker's default when the host only has loopback resolvers. */
		fputs("nameserver 8.8.8.8\nnameserver 8.8.4.4\n", f);
	if (o->dns_search) {
		fputs("search", f);
		for (char **s = o->dns_search; *s; s++)
			fprintf(f, " %s", *s);
		fputc('\n', f);
	}
	if (o->dns_options) {
		fputs("options", f);
		for (char **s = o->dns_options; *s; s++)
			fprintf(f, " %s", *s);
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		return vsl_error_errno(err, ENOMEM, "write resolv.conf");
	return write_text(dirfd, "resolv.conf", text, err);
}

int etc_files_write(int dirfd, const struct etc_files_opts *o, struct vsl_error **err)
{
	_cleanup_free_ char *hostname = NULL;
	if (asprintf(&hostname, "%s\n", o->hostname ? o->hostname : "") < 0)
		return vsl_error_errno(err, ENOMEM, "write hostname");
	int r = write_text(dirfd, "hostname", hostname, err);
	if (r >= 0)
		r = write_hosts(dirfd, o, err);
	if (r >= 0)
		r = write_resolv(dirfd, o, err);
	return r;
}

#include "cli/runtime-cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/caps.h"
#include "runtime/cloned-binary.h"
#include "runtime/config.h"
#include "runtime/container.h"
#include "runtime/features.h"
#include "runtime/spec.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/signal-name.h"
#include "util/fs.h"
#include "util/log.h"

#define VERSION      "0.1.0"
#define DEFAULT_ROOT "/run/vessel-runtime"

struct cli {
	struct rt_context ctx;
	const char *prog;
	bool log_to_file;
};

/* A growable NULL-terminated list of borrowed strings (from argv). */
struct strlist {
	char **v;
	size_t n;
};

static void strlist_add(struct strlist *l, char *s)
{
	char **grown = realloc(l->v, (l->n + 2) * sizeof(char *));
	if (grown == NULL)
		abort();
	l->v = grown;
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
}

static int usage_error(const struct cli *cli, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int usage_error(const struct cli *cli, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: %s: ", cli->prog, cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nRun '%s %s --help' for usage.\n", cli->prog, cmd);
	va_end(ap);
	return 1;
}

static int fail(const struct cli *cli, struct vsl_error *err)
{
	const char *msg = vsl_error_message(err);
	/* Shims read the --log file; people read stderr. */
	if (cli->log_to_file)
		log_error("%s", msg);
	fprintf(stderr, "%s: %s\n", cli->prog, msg);
	vsl_error_free(err);
	return 1;
}

/* Positional arguments exactly `want` (after options). */
static int need_args(const struct cli *cli, const char *cmd, int argc, int optind_, int want)
{
	int have = argc - optind_;
	if (have != want)
		return usage_error(cli, cmd, "requires exactly %d argument%s, got %d", want,
		                   want == 1 ? "" : "s", have);
	return 0;
}

static void reset_getopt(void)
{
	optind = 0; /* 0: full re-initialisation in glibc, for the next getopt_long */
}

#define HELP_OPTION                                                                                          \
	{                                                                                                    \
		"help", no_argument, NULL, 'h'                                                               \
	}

static int print_help(const char *text)
{
	fputs(text, stdout);
	return 0;
}

/* ---- create / run ------------------------------------------------------ */

static int parse_create_opts(const struct cli *cli, const char *cmd, int argc, char **argv,
                             struct rt_create_opts *o, bool *detach)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"console-socket", required_argument, NULL, 'c'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"no-pivot", no_argument, NULL, 'P'},
	    {"no-new-keyring", no_argument, NULL, 'K'},
	    {"preserve-fds", required_argument, NULL, 'f'},
	    {"detach", no_argument, NULL, 'd'},
	    {"keep", no_argument, NULL, 'k'},
	    {"no-subreaper", no_argument, NULL, 'S'},
	    HELP_OPTION,
	    {0},
	};
	reset_getopt();
	int c;
	while ((c = getopt_long(argc, argv, "+b:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bundle = optarg;
			break;
		case 'c':
			o->console_socket = optarg;
			break;
		case 'p':
			o->pid_file = optarg;
			break;
		case 'P':
			o->no_pivot = true;
			break;
		case 'K':
			o->no_new_keyring = true;
			break;
		case 'f':
			o->preserve_fds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			if (detach == NULL)
				return usage_error(cli, cmd, "unknown flag --detach");
			*detach = true;
			break;
		case 'k':
		case 'S':
			break;
		case 'h':
			printf("Usage: %s %s [options] <container-id>\n\n"
			       "  -b, --bundle DIR         bundle directory (default: current directory)\n"
			       "      --console-socket P   AF_UNIX socket that receives the pty master\n"
			       "      --pid-file FILE      write the container's pid there\n"
			       "      --no-pivot           MS_MOVE + chroot instead of pivot_root\n"
			       "      --no-new-keyring     keep the caller's session keyring\n"
			       "      --preserve-fds N     pass N extra fds (from 3) to the container\n%s",
			       cli->prog, cmd,
			       detach ? "  -d, --detach             do not wait for the container\n" : "");
			return -2;
		default:
			return usage_error(cli, cmd, "unknown option");
		}
	}
	if (need_args(cli, cmd, argc, optind, 1))
		return 1;
	o->id = argv[optind];
	return 0;
}

static int cmd_create(struct cli *cli, int argc, char **argv)
{
	struct rt_create_opts o = {0};
	int r = parse_create_opts(cli, "create", argc, argv, &o, NULL);
	if (r)
		return r == -2 ? 0 : r;
	struct vsl_error *err = NULL;
	if (rt_create(&cli->ctx, &o, &err) < 0)
		return fail(cli, err);
	return 0;
}

static int cmd_run(struct cli *cli, int argc, char **argv)
{
	struct rt_create_opts o = {0};
	bool detach = false;
	int r = parse_create_opts(cli, "run", argc, argv, &o, &detach);
	if (r)
		return r == -2 ? 0 : r;
	struct vsl_error *err = NULL;
	int status = 0;
	if (rt_run(&cli->ctx, &o, detach, &status, &err) < 0)
		return fail(cli, err);
	return status;
}

/* ---- commands on one container ------------------------------------------ */

static int simple_id_cmd(struct cli *cli, const char *cmd, int argc, char **argv, const char **ret_id)
{
	static const struct option opts[] = {HELP_OPTION, {0}};
	reset_getopt();
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("Usage: %s %s <container-id>\n", cli->prog, cmd);
			return -2;
		}
		return usage_error(cli, cmd, "unknown option");
	}
	if (need_args(cli, cmd, argc, optind, 1))
		return 1;
	*ret_id = argv[optind];
	return 0;
}

#define SIMPLE_CMD(name, call)                                                                               \
	static int cmd_##name(struct cli *cli, int argc, char **argv)                                        \
	{                                                                                                    \
		const char *id = NULL;                                                                       \
		int r = simple_id_cmd(cli, #name, argc, argv, &id);                                          \
		if (r)                                                                                       \
			return r == -2 ? 0 : r;                                                              \
		struct vsl_error *err = NULL;                                                                \
		if (call(&cli->ctx, id, &err) < 0)                                                           \
			return fail(cli, err);                                                               \
		return 0;                                                                                    \
	}

SIMPLE_CMD(start, rt_start)
SIMPLE_CMD(pause, rt_pause)
SIMPLE_CMD(resume, rt_resume)

static int cmd_state(struct cli *cli, int argc, char **argv)
{
	const char *id = NULL;
	int r = simple_id_cmd(cli, "state", argc, argv, &id);
	if (r)
		return r == -2 ? 0 : r;
	struct vsl_error *err = NULL;
	_cleanup_free_ char *json = NULL;
	if (rt_state(&cli->ctx, id, &json, &err) < 0)
		return fail(cli, err);
	printf("%s\n", json);
	return 0;
}

static int cmd_kill(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, HELP_OPTION, {0}};
	bool all = false;
	reset_getopt();
	int c;
	/* No '+': runc accepts --all after the id too. */
	while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'h')
			return print_help("Usage: kill [--all] <container-id> [signal]\n");
		else
			return usage_error(cli, "kill", "unknown option");
	}
	int n = argc - optind;
	if (n < 1 || n > 2)
		return usage_error(cli, "kill", "requires 1 or 2 arguments, got %d", n);
	int sig = SIGTERM;
	if (n == 2 && (sig = signal_parse(argv[optind + 1])) < 0)
		return usage_error(cli, "kill", "unknown signal '%s'", argv[optind + 1]);
	struct vsl_error *err = NULL;
	if (rt_kill(&cli->ctx, argv[optind], sig, all, &err) < 0)
		return fail(cli, err);
	return 0;
}

static int cmd_delete(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, HELP_OPTION, {0}};
	bool force = false;
	reset_getopt();
	int c;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'h')
			return print_help("Usage: delete [--force] <container-id>\n");
		else
			return usage_error(cli, "delete", "unknown option");
	}
	if (need_args(cli, "delete", argc, optind, 1))
		return 1;
	struct vsl_error *err = NULL;
	if (rt_delete(&cli->ctx, argv[optind], force, &err) < 0) {
		/* runc: deleting a missing container with --force is not an error. */
		if (force && vsl_error_code(err) == -ENOENT) {
			vsl_error_free(err);
			return 0;
		}
		return fail(cli, err);
	}
	return 0;
}

static int cmd_ps(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, HELP_OPTION, {0}};
	const char *format = "table";
	reset_getopt();
	int c;
	while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'h')
			return print_help("Usage: ps [--format table|json] <container-id> [ps options]\n");
		else
			return usage_error(cli, "ps", "unknown option");
	}
	if (argc - optind < 1)
		return usage_error(cli, "ps", "requires a container id");
	const char *id = argv[optind];
	struct vsl_error *err = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	if (rt_ps(&cli->ctx, id, &pids, &n, &err) < 0)
		return fail(cli, err);
	if (strcmp(format, "json") == 0) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_integer(pids[i]));
		_cleanup_free_ char *s = json_dumps(a, JSON_COMPACT);
		json_decref(a);
		printf("%s\n", s);
		return 0;
	}
	if (strcmp(format, "table") != 0)
		return usage_error(cli, "ps", "invalid format '%s'", format);

	/* As runc: run the host's ps and keep the header and the lines of our pids. */
	struct strlist args = {0};
	strlist_add(&args, "ps");
	if (argc - optind > 1)
		for (int i = optind + 1; i < argc; i++)
			strlist_add(&args, argv[i]);
	else
		strlist_add(&args, "-ef");
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		free(args.v);
		vsl_error_errno(&err, errno, "run ps");
		return fail(cli, err);
	}
	pid_t child = fork();
	if (child == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execvp("ps", args.v);
		_exit(127);
	}
	close(pipefd[1]);
	free(args.v);
	FILE *f = fdopen(pipefd[0], "r");
	char *line = NULL;
	size_t cap = 0;
	int pid_col = -1;
	while (getline(&line, &cap, f) > 0) {
		if (pid_col < 0) {
			_cleanup_free_ char *copy = strdup(line);
			char *save = NULL;
			int col = 0;
			for (char *t = strtok_r(copy, " \t\n", &save); t;
			     t = strtok_r(NULL, " \t\n", &save), col++)
				if (strcmp(t, "PID") == 0)
					pid_col = col;
			fputs(line, stdout);
			continue;
		}
		_cleanup_free_ char *copy = strdup(line);
		char *save = NULL, *t = strtok_r(copy, " \t\n", &save);
		for (int col = 0; t && col < pid_col; col++)
			t = strtok_r(NULL, " \t\n", &save);
		long pid = t ? strtol(t, NULL, 10) : -1;
		for (size_t i = 0; i < n; i++)
			if (pids[i] == pid)
				fputs(line, stdout);
	}
	free(line);
	fclose(f);
	int status;
	waitpid(child, &status, 0);
	return 0;
}

static int cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'}, HELP_OPTION, {0}};
	const char *format = "table";
	bool quiet = false;
	reset_getopt();
	int c;
	while ((c = getopt_long(argc, argv, "+f:qh", opts, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'q')
			quiet = true;
		else if (c == 'h')
			return print_help("Usage: list [--format table|json] [--quiet]\n");
		else
			return usage_error(cli, "list", "unknown option");
	}
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
		return usage_error(cli, "list", "invalid format '%s'", format);
	struct vsl_error *err = NULL;
	struct rt_list_entry *l = NULL;
	size_t n = 0;
	if (rt_list(&cli->ctx, &l, &n, &err) < 0)
		return fail(cli, err);
	if (quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", l[i].state.id);
	} else if (strcmp(format, "json") == 0) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++) {
			struct passwd *pw = getpwuid(l[i].state.owner);
			json_array_append_new(
			    a, json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "ociVersion", "1.2.0",
			                 "id", l[i].state.id, "pid",
			                 (json_int_t)(l[i].status == RT_STOPPED ? 0 : l[i].state.pid),
			                 "status", rt_status_name(l[i].status), "bundle", l[i].state.bundle,
			                 "rootfs", l[i].state.rootfs, "created", l[i].state.created, "owner",
			                 pw ? pw->pw_name : "#"));
		}
		_cleanup_free_ char *s = json_dumps(a, JSON_COMPACT);
		json_decref(a);
		printf("%s\n", s);
	} else {
		printf("%-12s   %-8s   %-10s   %-40s   %-30s   %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
		for (size_t i = 0; i < n; i++) {
			struct passwd *pw = getpwuid(l[i].state.owner);
			printf("%-12s   %-8d   %-10s   %-40s   %-30s   %s\n", l[i].state.id,
			       l[i].status == RT_STOPPED ? 0 : (int)l[i].state.pid,
			       rt_status_name(l[i].status), l[i].state.bundle, l[i].state.created,
			       pw ? pw->pw_name : "#");
		}
	}
	rt_list_free(l, n);
	return 0;
}

/* ---- exec --------------------------------------------------------------- */

static int cmd_exec(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"console-socket", required_argument, NULL, 'c'},
	    {"cwd", required_argument, NULL, 'w'},
	    {"env", required_argument, NULL, 'e'},
	    {"tty", no_argument, NULL, 't'},
	    {"user", required_argument, NULL, 'u'},
	    {"additional-gids", required_argument, NULL, 'g'},
	    {"process", required_argument, NULL, 'p'},
	    {"detach", no_argument, NULL, 'd'},
	    {"pid-file", required_argument, NULL, 'P'},
	    {"process-label", required_argument, NULL, 'L'},
	    {"apparmor", required_argument, NULL, 'A'},
	    {"no-new-privs", no_argument, NULL, 'N'},
	    {"cap", required_argument, NULL, 'C'},
	    {"preserve-fds", required_argument, NULL, 'f'},
	    {"ignore-paused", no_argument, NULL, 'I'},
	    {"cgroup", required_argument, NULL, 'G'},
	    HELP_OPTION,
	    {0},
	};
	struct rt_exec_opts o = {0};
	struct strlist env = {0}, gids = {0}, caps = {0};
	reset_getopt();
	int c, r = 0;
	while ((c = getopt_long(argc, argv, "+e:tu:g:p:dc:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.console_socket = optarg;
			break;
		case 'w':
			o.cwd = optarg;
			break;
		case 'e':
			strlist_add(&env, optarg);
			break;
		case 't':
			o.tty = true;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'g':
			strlist_add(&gids, optarg);
			break;
		case 'p':
			o.process_file = optarg;
			break;
		case 'd':
			o.detach = true;
			break;
		case 'P':
			o.pid_file = optarg;
			break;
		case 'L':
			o.process_label = optarg;
			break;
		case 'A':
			o.apparmor = optarg;
			break;
		case 'N':
			o.no_new_privs = true;
			break;
		case 'C':
			strlist_add(&caps, optarg);
			break;
		case 'f':
			o.preserve_fds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'I':
		case 'G':
			break;
		case 'h':
			r = print_help("Usage: exec [options] <container-id> <command> [args...]\n"
			               "       exec [options] --process FILE <container-id>\n");
			goto out;
		default:
			r = usage_error(cli, "exec", "unknown option");
			goto out;
		}
	}
	if (argc - optind < 1 || (o.process_file == NULL && argc - optind < 2)) {
		r = usage_error(cli, "exec", "requires a container id and a command (or --process)");
		goto out;
	}
	o.id = argv[optind];
	o.args = o.process_file ? NULL : &argv[optind + 1];
	o.env = env.v;
	o.additional_gids = gids.v;
	o.caps = caps.v;
	struct vsl_error *err = NULL;
	int status = 0;
	if (rt_exec(&cli->ctx, &o, &status, &err) < 0)
		r = fail(cli, err);
	else
		r = status;
out:
	free(env.v);
	free(gids.v);
	free(caps.v);
	return r;
}

/* ---- update --------------------------------------------------------------- */

static int cmd_update(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"resources", required_argument, NULL, 'r'},
	    {"memory", required_argument, NULL, 'm'},
	    {"memory-swap", required_argument, NULL, 's'},
	    {"memory-reservation", required_argument, NULL, 'R'},
	    {"cpu-shares", required_argument, NULL, 'S'},
	    {"cpu-quota", required_argument, NULL, 'Q'},
	    {"cpu-period", required_argument, NULL, 'P'},
	    {"cpuset-cpus", required_argument, NULL, 'C'},
	    {"cpuset-mems", required_argument, NULL, 'M'},
	    {"pids-limit", required_argument, NULL, 'p'},
	    {"blkio-weight", required_argument, NULL, 'b'},
	    HELP_OPTION,
	    {0},
	};
	/* Flags become a resources document, so both paths share one parser. */
	json_t *res = json_object();
	const char *file = NULL;
	reset_getopt();
	int c, r = 0;
	while ((c = getopt_long(argc, argv, "+r:h", opts, NULL)) != -1) {
		if (c == 'r') {
			file = optarg;
			continue;
		}
		if (c == 'h') {
			json_decref(res);
			return print_help("Usage: update [--resources FILE | --memory N --pids-limit N ...] "
			                  "<container-id>\n");
		}
		if (c == 'C' || c == 'M') {
			json_t *cpu = json_object_get(res, "cpu");
			if (!cpu)
				json_object_set_new(res, "cpu", cpu = json_object());
			json_object_set_new(cpu, c == 'C' ? "cpus" : "mems", json_string(optarg));
			continue;
		}
		char *end;
		long long v = strtoll(optarg, &end, 10);
		if (*optarg == '\0' || *end) {
			json_decref(res);
			return usage_error(cli, "update", "invalid number '%s'", optarg);
		}
		const char *group = NULL, *key = NULL;
		switch (c) {
		case 'm':
			group = "memory", key = "limit";
			break;
		case 's':
			group = "memory", key = "swap";
			break;
		case 'R':
			group = "memory", key = "reservation";
			break;
		case 'S':
			group = "cpu", key = "shares";
			break;
		case 'Q':
			group = "cpu", key = "quota";
			break;
		case 'P':
			group = "cpu", key = "period";
			break;
		case 'p':
			group = "pids", key = "limit";
			break;
		case 'b':
			group = "blockIO", key = "weight";
			break;
		default:
			json_decref(res);
			return usage_error(cli, "update", "unknown option");
		}
		json_t *g = json_object_get(res, group);
		if (!g)
			json_object_set_new(res, group, g = json_object());
		json_object_set_new(g, key, json_integer(v));
	}
	if (need_args(cli, "update", argc, optind, 1)) {
		json_decref(res);
		return 1;
	}
	struct vsl_error *err = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (file) {
		if (strcmp(file, "-") == 0)
			file = "/dev/stdin";
		if (read_file_at(AT_FDCWD, file, 4 << 20, &text, &len, &err) < 0) {
			json_decref(res);
			vsl_error_prefix(&err, "--resources");
			return fail(cli, err);
		}
	} else {
		text = json_dumps(res, JSON_COMPACT);
		len = text ? strlen(text) : 0;
	}
	json_decref(res);
	struct oci_resources resources = {0};
	if (oci_resources_parse(text, len, &resources, &err) < 0)
		return fail(cli, err);
	if (rt_update(&cli->ctx, argv[optind], &resources, &err) < 0)
		r = fail(cli, err);
	oci_resources_clear(&resources);
	return r;
}

/* ---- spec, features --------------------------------------------------------- */

static int cmd_spec(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'}, {"rootless", no_argument, NULL, 'r'}, HELP_OPTION, {0}};
	const char *bundle = ".";
	bool rootless = false;
	reset_getopt();
	int c;
	while ((c = getopt_long(argc, argv, "+b:h", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'r')
			rootless = true;
		else if (c == 'h')
			return print_help("Usage: spec [--bundle DIR] [--rootless]\n");
		else
			return usage_error(cli, "spec", "unknown option");
	}
	if (need_args(cli, "spec", argc, optind, 0))
		return 1;
	struct vsl_error *err = NULL;
	_cleanup_close_ int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		vsl_error_errno(&err, errno, "bundle '%s'", bundle);
		return fail(cli, err);
	}
	if (faccessat(dfd, "config.json", F_OK, 0) == 0) {
		vsl_error_set(&err, "File config.json exists. Remove it first");
		return fail(cli, err);
	}
	_cleanup_free_ char *json = NULL;
	if (spec_generate(rootless, &json, &err) < 0 ||
	    write_file_atomic_at(dfd, "config.json", json, strlen(json), 0644, &err) < 0)
		return fail(cli, err);
	return 0;
}

static int cmd_features(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct vsl_error *err = NULL;
	_cleanup_free_ char *json = NULL;
	if (features_json(&json, &err) < 0)
		return fail(cli, err);
	printf("%s\n", json);
	return 0;
}

/* ---- dispatch ------------------------------------------------------------------ */

struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	bool enters_container; /* re-executed from a read-only copy of ourselves first */
	const char *help;
};

static const struct command commands[] = {
    {"create", cmd_create, true, "create a container"},
    {"start", cmd_start, false, "start a created container"},
    {"run", cmd_run, true, "create and start a container"},
    {"state", cmd_state, false, "output the state of a container"},
    {"kill", cmd_kill, false, "send a signal to the container's init process"},
    {"delete", cmd_delete, false, "delete a container and what it holds"},
    {"exec", cmd_exec, true, "execute a new process inside the container"},
    {"ps", cmd_ps, false, "list the processes running inside a container"},
    {"pause", cmd_pause, false, "freeze every process of a container"},
    {"resume", cmd_resume, false, "thaw a paused container"},
    {"update", cmd_update, false, "change the resource limits of a container"},
    {"list", cmd_list, false, "list the containers"},
    {"spec", cmd_spec, false, "write a new config.json"},
    {"features", cmd_features, false, "show what this runtime supports"},
};

static void main_usage(const char *prog)
{
	printf("Usage: %s [global options] <command> [options] [arguments]\n\n"
	       "An OCI runtime with runc's command line.\n\nCommands:\n",
	       prog);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].help);
	printf("\nGlobal options:\n"
	       "  --root DIR            state directory (default " DEFAULT_ROOT ")\n"
	       "  --log FILE            log file (default stderr)\n"
	       "  --log-format text|json\n"
	       "  --debug               log at debug level\n"
	       "  --systemd-cgroup      cgroupsPath is slice:prefix:name\n"
	       "  -v, --version\n");
}

int runtime_cli_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"log", required_argument, NULL, 'l'},
	    {"log-format", required_argument, NULL, 'f'},
	    {"debug", no_argument, NULL, 'D'},
	    {"systemd-cgroup", no_argument, NULL, 's'},
	    {"criu", required_argument, NULL, 'C'},
	    {"rootless", required_argument, NULL, 'R'},
	    {"version", no_argument, NULL, 'v'},
	    HELP_OPTION,
	    {0},
	};
	struct cli cli = {.ctx = {.root = DEFAULT_ROOT}, .prog = "vessel-runtime"};
	const char *log_path = NULL;
	bool json_log = false, debug = false;
	reset_getopt();
	int c;
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			cli.ctx.root = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
				fprintf(stderr, "%s: --log-format: expected text or json, got '%s'\n",
				        cli.prog, optarg);
				return 1;
			}
			json_log = strcmp(optarg, "json") == 0;
			break;
		case 'D':
			debug = true;
			break;
		case 's':
			cli.ctx.systemd_cgroup = true;
			break;
		case 'C':
		case 'R':
			break;
		case 'v':
			printf("vessel-runtime version %s\nspec: 1.2.0\n", VERSION);
			return 0;
		case 'h':
			main_usage(cli.prog);
			return 0;
		default:
			return 1;
		}
	}
	if (log_open(log_path, json_log, debug ? LOG_DEBUG : LOG_WARN) < 0) {
		fprintf(stderr, "%s: open log file '%s': %s\n", cli.prog, log_path, strerror(errno));
		return 1;
	}
	cli.log_to_file = log_path != NULL;
	if (optind >= argc) {
		main_usage(cli.prog);
		return 1;
	}
	const char *name = argv[optind];
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, name) != 0)
			continue;
		if (commands[i].enters_container) {
			struct vsl_error *err = NULL;
			if (cloned_binary_ensure(&err) < 0)
				return fail(&cli, err);
		}
		int r = commands[i].run(&cli, argc - optind, argv + optind);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "%s: write output: %s\n", cli.prog, strerror(errno));
			return r ? r : 1;
		}
		return r;
	}
	fprintf(stderr, "%s: unknown command '%s'\nRun '%s --help' for usage.\n", cli.prog, name, cli.prog);
	return 1;
}

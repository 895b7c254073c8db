/* The `vessel` command line: one table of commands, one table of flags per
 * command, parsed into the command's own options struct.
 *
 *     static const struct cli_flag pull_flags[] = {
 *             CLI_BOOL("quiet", 'q', struct pull_args, quiet, "Suppress verbose output"),
 *             CLI_END,
 *     };
 *
 * The dispatcher (main.c) parses the flags, checks the argument count, opens
 * the engine when the command needs it, flushes stdout and turns an error
 * into Docker's exit codes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct engine;
struct vsl_error;

enum cli_flag_kind { CLI_FLAG_BOOL, CLI_FLAG_STRING, CLI_FLAG_LIST, CLI_FLAG_INT };

struct cli_flag {
	const char *name;
	char shorthand;
	enum cli_flag_kind kind;
	size_t off;
	const char *help;
};

#define CLI_FLAG_(k, n, s, T, m, h)                                                                          \
	{                                                                                                    \
		.name = (n), .shorthand = (s), .kind = (k), .off = offsetof(T, m), .help = (h)               \
	}
#define CLI_BOOL(n, s, T, m, h)   CLI_FLAG_(CLI_FLAG_BOOL, n, s, T, m, h)
#define CLI_STRING(n, s, T, m, h) CLI_FLAG_(CLI_FLAG_STRING, n, s, T, m, h)
#define CLI_LIST(n, s, T, m, h)   CLI_FLAG_(CLI_FLAG_LIST, n, s, T, m, h)
#define CLI_INT(n, s, T, m, h)    CLI_FLAG_(CLI_FLAG_INT, n, s, T, m, h)
#define CLI_END                                                                                              \
	{                                                                                                    \
		.name = NULL                                                                                 \
	}

/* Shared by every command. */
struct cli_global {
	const char *root;
	const char *runroot;
	char **registry_mirrors;
	char **insecure_registries;
	const char *config_file;
	bool debug;
};

struct cli_ctx {
	struct cli_global *global;
	struct engine *engine; /* opened when the command has CLI_NEEDS_ENGINE */
	const struct cli_command *cmd;
};

enum {
	CLI_NEEDS_ENGINE = 1 << 0,
	CLI_STOP_AT_ARG = 1 << 1, /* flags end at the first argument: run IMAGE CMD -x */
	CLI_GROUP = 1 << 2,       /* `image`, `container`: a table of subcommands */
	/* Starts a process inside a container: vessel first re-executes from a
	 * protected copy of itself (runtime/cloned-binary.h, CVE-2019-5736). */
	CLI_ENTERS_CONTAINER = 1 << 3,
};

#define CLI_ARGS_ANY -1

struct cli_command {
	const char *name;
	int (*run)(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err);
	unsigned flags;
	int min_args, max_args;
	const struct cli_flag *options;
	size_t opts_size;
	const char *usage; /* "[OPTIONS] NAME[:TAG|@DIGEST]" */
	const char *help;
	const struct cli_command *sub; /* CLI_GROUP: ends with a NULL name */
};

/* Runs one command from `table` on argv (argv[0] names the command's parent,
 * e.g. "vessel" or "vessel image"). Returns the process exit code. */
int cli_dispatch(const struct cli_command *table, struct cli_global *global, const char *parent, int argc,
                 char **argv);
/* Parses `argc/argv` (argv[0] is the command name) per `flags` into opts;
 * *ret_optind is where the arguments start. Exit code 125 for usage errors, -1 ok. */
int cli_parse_flags(const struct cli_flag *flags, bool stop_at_arg, const char *what, int argc, char **argv,
                    void *opts, int *ret_optind);
void cli_flags_free(const struct cli_flag *flags, void *opts);
/* The flags of `stop` and `restart`: -t seconds (negative: no limit), -s signal. */
struct cli_stop_args {
	const char *time;
	const char *signal;
};
extern const struct cli_flag cli_stop_flags[];
/* What they ask for: timeout -1 and sig 0 for the container's own. */
struct cli_stop_request {
	int timeout, sig;
};
int cli_stop_parse(const struct cli_stop_args *a, struct cli_stop_request *ret, struct vsl_error **err);
/* Docker's confirmation of prune and reset: "WARNING! <warning>" and the
 * question on stdout; anything but y or yes (any case) on stdin is a no. */
bool cli_confirm(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs fn on each argument in turn and prints the argument when fn succeeds,
 * as Docker's stop, rm, pause, ... do; an error is printed when it comes and
 * the others still run. Returns the exit code: 1 when any failed, else 0. */
int cli_each(struct cli_ctx *ctx, int argc, char **argv,
             int (*fn)(struct engine *e, const char *arg, const void *userdata, struct vsl_error **err),
             const void *userdata);

/* The command tables of the groups, one file each. */
extern const struct cli_command image_commands[];
extern const struct cli_command image_toplevel_commands[];
extern const struct cli_command container_commands[];
extern const struct cli_command container_ops_commands[];          /* exec, top, stats, pause, ..., prune */
extern const struct cli_command container_ops_toplevel_commands[]; /* the same but prune */
extern const struct cli_command container_toplevel_commands[];
extern const struct cli_command network_commands[];          /* network create, ls, ..., and */
extern const struct cli_command network_toplevel_commands[]; /* port */
extern const struct cli_command transfer_commands[];         /* push, save, load, import, login, logout */
extern const struct cli_command volume_commands[];           /* volume create, ls, inspect, rm, prune */
extern const struct cli_command system_commands[];           /* system df, reset */
extern const struct cli_command container_fs_commands[];     /* attach, commit, cp, diff, export */

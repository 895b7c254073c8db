/* Flags and commands: getopt_long driven by each command's flag table, and the
 * one place that opens the engine, reports errors and maps them to Docker's
 * exit codes. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "engine/engine.h"
#include "runtime/cloned-binary.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/signal-name.h"
#include "util/strv.h"

#define EXIT_ENGINE 125

static void print_usage(FILE *f, const char *parent, const struct cli_command *cmd)
{
	fprintf(f, "\nUsage:  %s %s %s\n\n%s\n", parent, cmd->name, cmd->usage ? cmd->usage : "", cmd->help);
	if (cmd->sub) {
		fprintf(f, "\nCommands:\n");
		for (const struct cli_command *c = cmd->sub; c->name; c++)
			fprintf(f, "  %-12s %s\n", c->name, c->help);
	}
	if (cmd->options && cmd->options[0].name) {
		fprintf(f, "\nOptions:\n");
		for (const struct cli_flag *fl = cmd->options; fl->name; fl++) {
			char left[64];
			const char *arg = fl->kind == CLI_FLAG_BOOL   ? ""
			                  : fl->kind == CLI_FLAG_INT  ? " int"
			                  : fl->kind == CLI_FLAG_LIST ? " list"
			                                              : " string";
			if (fl->shorthand)
				snprintf(left, sizeof(left), "-%c, --%s%s", fl->shorthand, fl->name, arg);
			else
				snprintf(left, sizeof(left), "    --%s%s", fl->name, arg);
			fprintf(f, "  %-28s %s\n", left, fl->help);
		}
	}
}

static void print_table(FILE *f, const char *parent, const struct cli_command *table)
{
	fprintf(f, "\nUsage:  %s [OPTIONS] COMMAND\n\nA daemonless container engine\n\nCommands:\n", parent);
	for (const struct cli_command *c = table; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->help);
	fprintf(f, "\nRun '%s COMMAND --help' for more information on a command.\n", parent);
}

#define AT(obj, off, type) ((type *)((char *)(obj) + (off)))

int cli_parse_flags(const struct cli_flag *flags, bool stop_at_arg, const char *what, int argc, char **argv,
                    void *opts, int *ret_optind)
{
	size_t n = 0;
	while (flags && flags[n].name)
		n++;
	_cleanup_free_ struct option *longopts = calloc(n + 2, sizeof(struct option));
	_cleanup_free_ char *shortopts = malloc(3 * n + 4);
	if (longopts == NULL || shortopts == NULL)
		return EXIT_ENGINE;
	char *s = shortopts;
	if (stop_at_arg)
		*s++ = '+';
	*s++ = ':'; /* a missing argument is reported as ':' */
	for (size_t i = 0; i < n; i++) {
		bool arg = flags[i].kind != CLI_FLAG_BOOL;
		longopts[i] =
		    (struct option){flags[i].name, arg ? required_argument : no_argument, NULL, 256 + (int)i};
		if (flags[i].shorthand) {
			*s++ = flags[i].shorthand;
			if (arg)
				*s++ = ':';
		}
	}
	longopts[n] = (struct option){"help", no_argument, NULL, 'h' + 1024};
	*s = '\0';

	optind = 0; /* full re-initialisation: we parse several argvs in one process */
	opterr = 0;
	for (;;) {
		int longindex = -1;
		int c = getopt_long(argc, argv, shortopts, longopts, &longindex);
		if (c == -1)
			break;
		if (c == 'h' + 1024)
			return 0; /* the caller prints the help */
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			if (c == ':')
				fprintf(stderr, "flag needs an argument: %s\n", bad);
			else if (optopt && optopt < 256)
				fprintf(stderr, "unknown shorthand flag: '%c' in %s\n", optopt, bad);
			else
				fprintf(stderr, "unknown flag: %s\n", bad);
			fprintf(stderr, "See '%s --help'.\n", what);
			return EXIT_ENGINE;
		}
		const struct cli_flag *f = NULL;
		if (c >= 256 && c < 256 + (int)n)
			f = &flags[c - 256];
		for (size_t i = 0; f == NULL && i < n; i++)
			if (flags[i].shorthand == c)
				f = &flags[i];
		if (f == NULL)
			return EXIT_ENGINE;
		switch (f->kind) {
		case CLI_FLAG_BOOL:
			*AT(opts, f->off, bool) = true;
			break;
		case CLI_FLAG_STRING:
			*AT(opts, f->off, const char *) = optarg;
			break;
		case CLI_FLAG_LIST:
			if (strv_append(AT(opts, f->off, char **), optarg) < 0)
				return EXIT_ENGINE;
			break;
		case CLI_FLAG_INT: {
			char *end;
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < INT_MIN || v > INT_MAX) {
				fprintf(stderr,
				        "invalid argument \"%s\" for \"--%s\" flag: not an integer\nSee '%s "
				        "--help'.\n",
				        optarg, f->name, what);
				return EXIT_ENGINE;
			}
			*AT(opts, f->off, int) = (int)v;
			break;
		}
		}
	}
	*ret_optind = optind;
	return -1;
}

bool cli_confirm(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("WARNING! ");
	vprintf(fmt, ap);
	va_end(ap);
	printf("\nAre you sure you want to continue? [y/N] ");
	fflush(stdout);
	char line[64];
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

const struct cli_flag cli_stop_flags[] = {
    CLI_STRING("signal", 's', struct cli_stop_args, signal, "Signal to send to the container"),
    CLI_STRING("time", 't', struct cli_stop_args, time, "Seconds to wait before killing the container"),
    CLI_END,
};

int cli_stop_parse(const struct cli_stop_args *a, struct cli_stop_request *ret, struct vsl_error **err)
{
	*ret = (struct cli_stop_request){.timeout = -1, .sig = 0};
	if (a->time) {
		char *end;
		errno = 0;
		long t = strtol(a->time, &end, 10);
		if (*end || end == a->time || errno || t < INT_MIN || t > INT_MAX)
			return vsl_error_set_code(err, EINVAL,
			                          "invalid argument \"%s\" for \"-t, --time\" flag", a->time);
		ret->timeout = (int)t;
	}
	if (a->signal && (ret->sig = signal_parse(a->signal)) < 0)
		return vsl_error_set_code(err, EINVAL, "invalid signal: %s", a->signal);
	return 0;
}

void cli_flags_free(const struct cli_flag *flags, void *opts)
{
	for (const struct cli_flag *f = flags; f && f->name; f++)
		if (f->kind == CLI_FLAG_LIST) {
			strv_free(*AT(opts, f->off, char **));
			*AT(opts, f->off, char **) = NULL;
		}
}

/* Docker's exit codes: 125 for an engine error; 126/127 are set by the
 * commands that run something (they return them as positive values). */
static int report(struct vsl_error *err)
{
	fprintf(stderr, "vessel: %s\n", vsl_error_message(err));
	return EXIT_ENGINE;
}

static bool wants_help(int argc, char **argv)
{
	return argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
}

int cli_dispatch(const struct cli_command *table, struct cli_global *global, const char *parent, int argc,
                 char **argv)
{
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
	    strcmp(argv[0], "help") == 0) {
		print_table(stdout, parent, table);
		return argc < 1 ? EXIT_ENGINE : 0;
	}
	const struct cli_command *cmd = table;
	while (cmd->name && strcmp(cmd->name, argv[0]) != 0)
		cmd++;
	if (cmd->name == NULL) {
		fprintf(stderr, "vessel: '%s' is not a vessel command.\nSee '%s --help'\n", argv[0], parent);
		return EXIT_ENGINE;
	}
	_cleanup_free_ char *what = NULL;
	if (asprintf(&what, "%s %s", parent, cmd->name) < 0)
		return EXIT_ENGINE;
	if (cmd->flags & CLI_GROUP) {
		if (argc < 2 || wants_help(argc, argv)) {
			print_usage(stdout, parent, cmd);
			return argc < 2 ? EXIT_ENGINE : 0;
		}
		return cli_dispatch(cmd->sub, global, what, argc - 1, argv + 1);
	}

	_cleanup_free_ void *opts = calloc(1, cmd->opts_size ? cmd->opts_size : 1);
	if (opts == NULL)
		return EXIT_ENGINE;
	int optind_ = 0;
	int code =
	    cli_parse_flags(cmd->options, cmd->flags & CLI_STOP_AT_ARG, what, argc, argv, opts, &optind_);
	if (code == 0 || code > 0) {
		if (code == 0)
			print_usage(stdout, parent, cmd);
		cli_flags_free(cmd->options, opts);
		return code;
	}
	int nargs = argc - optind_;
	if (nargs < cmd->min_args || (cmd->max_args != CLI_ARGS_ANY && nargs > cmd->max_args)) {
		const char *how = cmd->min_args == cmd->max_args ? "exactly"
		                  : nargs < cmd->min_args        ? "at least"
		                                                 : "at most";
		int want = nargs < cmd->min_args ? cmd->min_args : cmd->max_args;
		fprintf(
		    stderr,
		    "vessel: \"%s\" requires %s %d argument%s.\nSee '%s --help'.\n\nUsage:  %s %s\n\n%s\n",
		    what, how, want, want == 1 ? "" : "s", what, what, cmd->usage ? cmd->usage : "",
		    cmd->help);
		cli_flags_free(cmd->options, opts);
		return EXIT_ENGINE;
	}

	struct cli_ctx ctx = {.global = global, .cmd = cmd};
	_cleanup_error_ struct vsl_error *err = NULL;
	int r = 0;
	/* Before anything is opened: the re-exec starts this command over. */
	if ((cmd->flags & CLI_ENTERS_CONTAINER) && (r = cloned_binary_ensure(&err)) < 0) {
		cli_flags_free(cmd->options, opts);
		return report(err);
	}
	if (cmd->flags & CLI_NEEDS_ENGINE) {
		struct engine_opts eo = {
		    .root = global->root,
		    .runroot = global->runroot,
		    .registry_mirrors = global->registry_mirrors,
		    .insecure_registries = global->insecure_registries,
		    .config_file = global->config_file,
		};
		r = engine_open(&eo, &ctx.engine, &err);
	}
	if (r >= 0)
		r = cmd->run(&ctx, opts, nargs, argv + optind_, &err);
	engine_close(ctx.engine);
	cli_flags_free(cmd->options, opts);

	/* A failed write to stdout (a full disk, a closed pipe) is a failure too. */
	if (fflush(stdout) != 0 && r >= 0 && errno != EPIPE)
		r = vsl_error_errno(&err, errno, "write output");
	if (r < 0)
		return err ? report(err) : EXIT_ENGINE;
	return r; /* 0, or a container's own exit code */
}

int cli_each(struct cli_ctx *ctx, int argc, char **argv,
             int (*fn)(struct engine *e, const char *arg, const void *userdata, struct vsl_error **err),
             const void *userdata)
{
	int failed = 0;
	for (int i = 0; i < argc; i++) {
		_cleanup_error_ struct vsl_error *e = NULL;
		if (fn(ctx->engine, argv[i], userdata, &e) < 0) {
			fprintf(stderr, "vessel: %s\n", vsl_error_message(e));
			failed = 1;
			continue;
		}
		printf("%s\n", argv[i]);
	}
	return failed;
}

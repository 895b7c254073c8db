/* Commands over a container's filesystem and streams: cp, diff, export,
 * commit, attach. Thin: flags -> engine/container-fs.h, engine/attach.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/attach.h"
#include "engine/container-fs.h"
#include "storage/overlay.h"
#include "util/cleanup.h"
#include "util/error.h"

/* "false"/"true" for Docker's boolean flags that default to true. */
static int parse_bool(const char *flag, const char *v, bool dflt, bool *ret, struct vsl_error **err)
{
	if (v == NULL)
		*ret = dflt;
	else if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*ret = true;
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*ret = false;
	else
		return vsl_error_set_code(err, EINVAL, "invalid argument \"%s\" for \"--%s\" flag", v, flag);
	return 0;
}

/* ---- cp ---- */

struct cp_args {
	bool archive, follow_link, quiet;
};

/* Docker's split: "NAME:PATH" names a container unless the part before the
 * colon starts with "." or the whole is an absolute path. */
static bool split_container_path(char *arg, char **ret_container, char **ret_path)
{
	if (arg[0] == '/' || arg[0] == '.')
		return false;
	char *colon = strchr(arg, ':');
	if (colon == NULL)
		return false;
	*colon = '\0';
	*ret_container = arg;
	*ret_path = colon + 1;
	return true;
}

static int cmd_cp(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc;
	struct cp_args *a = opts;
	struct container_cp_opts o = {.archive = a->archive, .follow_link = a->follow_link};
	char *src_c = NULL, *src_p = argv[0], *dst_c = NULL, *dst_p = argv[1];
	bool src_in = split_container_path(argv[0], &src_c, &src_p);
	bool dst_in = split_container_path(argv[1], &dst_c, &dst_p);
	if (src_in && dst_in)
		return vsl_error_set_code(err, EINVAL, "copying between containers is not supported");
	if (!src_in && !dst_in)
		return vsl_error_set_code(err, EINVAL, "must specify at least one container source");
	if (*(src_in ? src_p : dst_p) == '\0')
		return vsl_error_set_code(err, EINVAL, "filesystem path cannot be empty");
	if (src_in) {
		bool stream = strcmp(dst_p, "-") == 0;
		if (stream && isatty(STDOUT_FILENO))
			return vsl_error_set_code(
			    err, EINVAL,
			    "cowardly refusing to write a tar stream to a terminal; redirect it");
		return container_fs_copy_from(ctx->engine, src_c, src_p, stream ? NULL : dst_p, STDOUT_FILENO,
		                              &o, err);
	}
	bool stream = strcmp(src_p, "-") == 0;
	return container_fs_copy_to(ctx->engine, dst_c, stream ? NULL : src_p, STDIN_FILENO, dst_p, &o, err);
}

static const struct cli_flag cp_flags[] = {
    CLI_BOOL("archive", 'a', struct cp_args, archive, "Archive mode (copy all uid/gid information)"),
    CLI_BOOL("follow-link", 'L', struct cp_args, follow_link, "Always follow symbol link in SRC_PATH"),
    CLI_BOOL("quiet", 'q', struct cp_args, quiet, "Suppress progress output during copy"),
    CLI_END,
};

/* ---- diff ---- */

static int cmd_diff(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)opts, (void)argc;
	struct overlay_change *ch = NULL;
	size_t n = 0;
	int r = container_fs_changes(ctx->engine, argv[0], &ch, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		printf("%s %s\n", overlay_change_kind_to_string(ch[i].kind), ch[i].path);
	overlay_changes_free(ch, n);
	return 0;
}

/* ---- export ---- */

struct export_args {
	const char *output;
};

static int cmd_export(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc;
	struct export_args *a = opts;
	if (a->output == NULL || strcmp(a->output, "-") == 0) {
		if (isatty(STDOUT_FILENO))
			return vsl_error_set_code(
			    err, EINVAL,
			    "cowardly refusing to save to a terminal. Use the -o flag or redirect");
		return container_fs_export(ctx->engine, argv[0], STDOUT_FILENO, err);
	}
	_cleanup_close_ int fd = open(a->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open '%s'", a->output);
	int r = container_fs_export(ctx->engine, argv[0], fd, err);
	if (r < 0)
		unlink(a->output); /* no half-written archive left behind */
	return r;
}

static const struct cli_flag export_flags[] = {
    CLI_STRING("output", 'o', struct export_args, output, "Write to a file, instead of STDOUT"),
    CLI_END,
};

/* ---- commit ---- */

struct commit_args {
	const char *author, *message, *pause;
	char **changes;
};

static int cmd_commit(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct commit_args *a = opts;
	struct container_commit_opts o = {
	    .name = argc > 1 ? argv[1] : NULL,
	    .message = a->message,
	    .author = a->author,
	    .changes = a->changes,
	};
	int r = parse_bool("pause", a->pause, true, &o.pause, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *id = NULL;
	if ((r = container_fs_commit(ctx->engine, argv[0], &o, &id, err)) < 0)
		return r;
	printf("%s\n", id);
	return 0;
}

static const struct cli_flag commit_flags[] = {
    CLI_STRING("author", 'a', struct commit_args, author,
               "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")"),
    CLI_LIST("change", 'c', struct commit_args, changes, "Apply Dockerfile instruction to the created image"),
    CLI_STRING("message", 'm', struct commit_args, message, "Commit message"),
    CLI_STRING("pause", 0, struct commit_args, pause, "Pause container during commit (default true)"),
    CLI_END,
};

/* ---- attach ---- */

struct attach_args {
	bool no_stdin;
	const char *sig_proxy, *detach_keys;
};

static struct termios saved_termios;
static bool termios_saved;

static void restore_terminal(void)
{
	if (termios_saved)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
	termios_saved = false;
}

static int cmd_attach(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc;
	struct attach_args *a = opts;
	struct attach_opts o = {
	    .in_fd = a->no_stdin ? -1 : STDIN_FILENO,
	    .out_fd = STDOUT_FILENO,
	    .err_fd = STDERR_FILENO,
	    .detach_keys = a->detach_keys,
	};
	int r = parse_bool("sig-proxy", a->sig_proxy, true, &o.sig_proxy, err);
	if (r < 0)
		return r;
	/* Raw mode for a Tty container: keys go to the container as typed. The
	 * engine says whether it has one only by trying, so ask it first. */
	_cleanup_free_ char *keys = NULL;
	if (a->detach_keys && (r = attach_parse_detach_keys(a->detach_keys, &keys, err)) < 0)
		return r;
	if (!a->no_stdin && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
		struct termios raw = saved_termios;
		cfmakeraw(&raw);
		/* Output processing stays: the container's tty already made \r\n. */
		raw.c_oflag = saved_termios.c_oflag;
		termios_saved = tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) == 0;
	}
	struct attach_result res = {0};
	r = attach_run(ctx->engine, argv[0], &o, &res, err);
	restore_terminal();
	if (r < 0)
		return r;
	fflush(stdout);
	if (res.detached) {
		fprintf(stderr, "read escape sequence\n");
		return 0;
	}
	return res.status;
}

static const struct cli_flag attach_flags[] = {
    CLI_STRING("detach-keys", 0, struct attach_args, detach_keys,
               "Override the key sequence for detaching a container"),
    CLI_BOOL("no-stdin", 0, struct attach_args, no_stdin, "Do not attach STDIN"),
    CLI_STRING("sig-proxy", 0, struct attach_args, sig_proxy,
               "Proxy all received signals to the process (default true)"),
    CLI_END,
};

#define CMD(n, fn, fl, T, min, max, u, h)                                                                    \
	{                                                                                                    \
		.name = (n), .run = (fn), .flags = CLI_NEEDS_ENGINE, .min_args = (min), .max_args = (max),   \
		.options = (fl), .opts_size = sizeof(T), .usage = (u), .help = (h)                           \
	}

struct no_opts {
	char unused;
};

const struct cli_command container_fs_commands[] = {
    CMD("attach", cmd_attach, attach_flags, struct attach_args, 1, 1, "[OPTIONS] CONTAINER",
        "Attach local standard input, output, and error streams to a running container"),
    CMD("commit", cmd_commit, commit_flags, struct commit_args, 1, 2,
        "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", "Create a new image from a container's changes"),
    CMD("cp", cmd_cp, cp_flags, struct cp_args, 2, 2,
        "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       vessel cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
        "Copy files/folders between a container and the local filesystem"),
    CMD("diff", cmd_diff, NULL, struct no_opts, 1, 1, "CONTAINER",
        "Inspect changes to files or directories on a container's filesystem"),
    CMD("export", cmd_export, export_flags, struct export_args, 1, 1, "[OPTIONS] CONTAINER",
        "Export a container's filesystem as a tar archive"),
    {.name = NULL},
};

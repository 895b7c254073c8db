/* Commands that move images in and out: push, save, load, import, login,
 * logout. Thin: parse, call the image room, print what Docker prints. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "engine/engine.h"
#include "image/images.h"
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/digest.h"
#include "util/error.h"

/* --tls-verify=true|false (the flag parser has no optional bool values). */
static int parse_tls_verify(const char *v, bool *ret_insecure, struct vsl_error **err)
{
	*ret_insecure = false;
	if (v == NULL || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		return 0;
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
		*ret_insecure = true;
		return 0;
	}
	return vsl_error_set_code(err, EINVAL,
	                          "invalid argument \"%s\" for \"--tls-verify\": expected true or false", v);
}

/* ---- push ---- */

struct push_args {
	const char *compression;
	bool quiet;
	const char *tls_verify;
	const char *creds;
	bool disable_content_trust;
};

static int cmd_push(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc;
	struct push_args *a = opts;
	struct push_opts po = {.compression = COMPRESSION_GZIP};
	if (a->compression && strcmp(a->compression, "zstd") == 0)
		po.compression = COMPRESSION_ZSTD;
	else if (a->compression && strcmp(a->compression, "gzip") != 0)
		return vsl_error_set_code(err, EINVAL, "invalid --compression-format '%s' (gzip or zstd)",
		                          a->compression);
	int r = parse_tls_verify(a->tls_verify, &po.insecure, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *user = NULL;
	if (a->creds) {
		const char *colon = strchr(a->creds, ':');
		user = colon ? strndup(a->creds, (size_t)(colon - a->creds)) : strdup(a->creds);
		if (user == NULL)
			return vsl_error_errno(err, ENOMEM, "push");
		po.user = user;
		po.secret = colon ? colon + 1 : "";
	}
	struct progress *prog = a->quiet ? NULL : progress_new(isatty(STDOUT_FILENO), stdout);
	po.on_event = prog ? progress_event : NULL;
	po.userdata = prog;
	r = images_push(engine_images(ctx->engine), argv[0], &po, err);
	progress_free(prog);
	if (r < 0)
		return r;
	if (a->quiet) {
		_cleanup_image_ref_ struct image_ref *ref = NULL;
		_cleanup_free_ char *full =
		    image_ref_parse(argv[0], &ref, NULL) >= 0 ? image_ref_string(ref) : NULL;
		printf("%s\n", full ? full : argv[0]);
	}
	return 0;
}

static const struct cli_flag push_flags[] = {
    CLI_STRING("compression-format", 0, struct push_args, compression,
               "Compression for layers that are stored uncompressed (gzip, zstd)"),
    CLI_STRING("creds", 0, struct push_args, creds, "Credentials (USERNAME[:PASSWORD]) for the registry"),
    CLI_BOOL("disable-content-trust", 0, struct push_args, disable_content_trust,
             "Skip image signing (default)"),
    CLI_BOOL("quiet", 'q', struct push_args, quiet, "Suppress verbose output"),
    CLI_STRING("tls-verify", 0, struct push_args, tls_verify,
               "Require HTTPS and verify certificates (true or false)"),
    CLI_END,
};

/* ---- save ---- */

struct save_args {
	const char *output;
	const char *format;
};

static int cmd_save(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc;
	struct save_args *a = opts;
	enum save_format fmt = SAVE_DOCKER_ARCHIVE;
	if (a->format && strcmp(a->format, "oci-archive") == 0)
		fmt = SAVE_OCI_ARCHIVE;
	else if (a->format && strcmp(a->format, "docker-archive") != 0)
		return vsl_error_set_code(err, EINVAL,
		                          "invalid --format '%s' (docker-archive or oci-archive)", a->format);
	if (a->output == NULL || strcmp(a->output, "-") == 0) {
		if (isatty(STDOUT_FILENO))
			return vsl_error_set_code(
			    err, EINVAL,
			    "cowardly refusing to save to a terminal. Use the -o flag or redirect");
		return images_save(engine_images(ctx->engine), argv, STDOUT_FILENO, fmt, err);
	}
	_cleanup_close_ int fd = open(a->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return vsl_error_errno(err, errno, "open '%s'", a->output);
	int r = images_save(engine_images(ctx->engine), argv, fd, fmt, err);
	if (r >= 0 && fsync(fd) < 0 && errno != EINVAL)
		r = vsl_error_errno(err, errno, "write '%s'", a->output);
	if (r < 0)
		unlink(a->output); /* no half-written archive left behind */
	return r;
}

static const struct cli_flag save_flags[] = {
    CLI_STRING("format", 0, struct save_args, format,
               "Archive format: docker-archive (default) or oci-archive"),
    CLI_STRING("output", 'o', struct save_args, output, "Write to a file, instead of STDOUT"),
    CLI_END,
};

/* ---- load ---- */

struct load_args {
	const char *input;
	bool quiet;
};

static int cmd_load(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)argc, (void)argv;
	struct load_args *a = opts;
	_cleanup_close_ int fd = -EBADF;
	int in = STDIN_FILENO;
	if (a->input && strcmp(a->input, "-") != 0) {
		if ((fd = open(a->input, O_RDONLY | O_CLOEXEC)) < 0)
			return vsl_error_errno(err, errno, "open '%s'", a->input);
		in = fd;
	} else if (isatty(STDIN_FILENO)) {
		return vsl_error_set_code(
		    err, EINVAL, "requested load from stdin, but stdin is empty (use -i FILE or redirect)");
	}
	_cleanup_strv_ char **loaded = NULL;
	int r = images_load(engine_images(ctx->engine), in, &loaded, err);
	if (r < 0)
		return r;
	for (char **l = loaded; l && *l; l++)
		printf("Loaded image%s: %s\n", digest_is_valid(*l) ? " ID" : "", *l);
	return 0;
}

static const struct cli_flag load_flags[] = {
    CLI_STRING("input", 'i', struct load_args, input, "Read from tar archive file, instead of STDIN"),
    CLI_BOOL("quiet", 'q', struct load_args, quiet, "Suppress the load output"),
    CLI_END,
};

/* ---- import ---- */

struct import_args {
	char **changes;
	const char *message;
	const char *platform;
};

static int cmd_import(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct import_args *a = opts;
	if (a->platform)
		return vsl_error_set_code(err, EINVAL, "--platform is not supported by import yet");
	if (strstr(argv[0], "://"))
		return vsl_error_set_code(err, EINVAL,
		                          "import from a URL is not supported; download '%s' first", argv[0]);
	_cleanup_close_ int fd = -EBADF;
	int in = STDIN_FILENO;
	if (strcmp(argv[0], "-") != 0) {
		if ((fd = open(argv[0], O_RDONLY | O_CLOEXEC)) < 0)
			return vsl_error_errno(err, errno, "open '%s'", argv[0]);
		in = fd;
	}
	_cleanup_free_ char *id = NULL;
	int r = images_import(engine_images(ctx->engine), in, argc > 1 ? argv[1] : NULL, a->changes,
	                      a->message, &id, err);
	if (r < 0)
		return r;
	printf("%s\n", id);
	return 0;
}

static const struct cli_flag import_flags[] = {
    CLI_LIST("change", 'c', struct import_args, changes, "Apply Dockerfile instruction to the created image"),
    CLI_STRING("message", 'm', struct import_args, message, "Set commit message for imported image"),
    CLI_STRING("platform", 0, struct import_args, platform,
               "Set platform if server is multi-platform capable"),
    CLI_END,
};

/* ---- login, logout ---- */

struct login_args {
	const char *username;
	const char *password;
	bool password_stdin;
	const char *tls_verify;
};

/* A line from the terminal, echo off when secret. NULL at EOF. */
static char *prompt(const char *what, bool secret)
{
	fprintf(stderr, "%s: ", what);
	fflush(stderr);
	struct termios old, quiet;
	bool restore = secret && tcgetattr(STDIN_FILENO, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (restore) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

static int cmd_login(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	struct login_args *a = opts;
	bool insecure;
	int r = parse_tls_verify(a->tls_verify, &insecure, err);
	if (r < 0)
		return r;
	if (a->password && a->password_stdin)
		return vsl_error_set_code(err, EINVAL,
		                          "--password and --password-stdin are mutually exclusive");
	if (a->password_stdin && a->username == NULL)
		return vsl_error_set_code(err, EINVAL, "must provide --username with --password-stdin");
	_cleanup_free_ char *user = a->username ? strdup(a->username) : NULL;
	_cleanup_free_ char *secret = a->password ? strdup(a->password) : NULL;
	if (a->password)
		fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
	if (a->password_stdin) {
		size_t cap = 0;
		ssize_t n = getdelim(&secret, &cap, '\0', stdin);
		if (n < 0)
			return vsl_error_set_code(err, EINVAL, "no password on stdin");
		while (n > 0 && (secret[n - 1] == '\n' || secret[n - 1] == '\r'))
			secret[--n] = '\0';
	}
	if (user == NULL && isatty(STDIN_FILENO))
		user = prompt("Username", false);
	if (secret == NULL && isatty(STDIN_FILENO))
		secret = prompt("Password", true);
	if (user == NULL || *user == '\0')
		return vsl_error_set_code(err, EINVAL, "username is required (-u)");
	if (secret == NULL || *secret == '\0')
		return vsl_error_set_code(err, EINVAL, "password is required (-p or --password-stdin)");
	if ((r = images_login(engine_images(ctx->engine), argc > 0 ? argv[0] : NULL, user, secret, insecure,
	                      err)) < 0)
		return r;
	printf("Login Succeeded\n");
	return 0;
}

static const struct cli_flag login_flags[] = {
    CLI_STRING("password", 'p', struct login_args, password, "Password"),
    CLI_BOOL("password-stdin", 0, struct login_args, password_stdin, "Take the password from stdin"),
    CLI_STRING("tls-verify", 0, struct login_args, tls_verify,
               "Require HTTPS and verify certificates (true or false)"),
    CLI_STRING("username", 'u', struct login_args, username, "Username"),
    CLI_END,
};

static int cmd_logout(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)opts;
	_cleanup_free_ char *key = NULL;
	int r = images_logout(engine_images(ctx->engine), argc > 0 ? argv[0] : NULL, &key, err);
	if (r < 0)
		return r;
	printf("Removing login credentials for %s\n", key);
	return 0;
}

const struct cli_command transfer_commands[] = {
    {.name = "push",
     .run = cmd_push,
     .flags = CLI_NEEDS_ENGINE,
     .min_args = 1,
     .max_args = 1,
     .options = push_flags,
     .opts_size = sizeof(struct push_args),
     .usage = "[OPTIONS] NAME[:TAG]",
     .help = "Upload an image to a registry"},
    {.name = "save",
     .run = cmd_save,
     .flags = CLI_NEEDS_ENGINE,
     .min_args = 1,
     .max_args = CLI_ARGS_ANY,
     .options = save_flags,
     .opts_size = sizeof(struct save_args),
     .usage = "[OPTIONS] IMAGE [IMAGE...]",
     .help = "Save one or more images to a tar archive (streamed to STDOUT by default)"},
    {.name = "load",
     .run = cmd_load,
     .flags = CLI_NEEDS_ENGINE,
     .min_args = 0,
     .max_args = 0,
     .options = load_flags,
     .opts_size = sizeof(struct load_args),
     .usage = "[OPTIONS]",
     .help = "Load an image from a tar archive or STDIN"},
    {.name = "import",
     .run = cmd_import,
     .flags = CLI_NEEDS_ENGINE,
     .min_args = 1,
     .max_args = 2,
     .options = import_flags,
     .opts_size = sizeof(struct import_args),
     .usage = "[OPTIONS] file|- [REPOSITORY[:TAG]]",
     .help = "Import the contents from a tarball to create a filesystem image"},
    {.name = "login",
     .run = cmd_login,
     .flags = CLI_NEEDS_ENGINE,
     .min_args = 0,
     .max_args = 1,
     .options = login_flags,
     .opts_size = sizeof(struct login_args),
     .usage = "[OPTIONS] [SERVER]",
     .help = "Log in to a registry"},
    {.name = "logout",
     .run = cmd_logout,
     .flags = CLI_NEEDS_ENGINE,
     .min_args = 0,
     .max_args = 1,
     .usage = "[SERVER]",
     .help = "Log out from a registry"},
    {.name = NULL},
};

/* vessel: the command people type. Global flags, then one command from the
 * table; the runtime's runc command line is `vessel runtime ...`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/runtime-cli.h"
#include "util/cleanup.h"
#include "util/error.h"

#define VERSION "0.1.0"

struct no_args {
	char unused;
};

static int cmd_version(struct cli_ctx *ctx, void *opts, int argc, char **argv, struct vsl_error **err)
{
	(void)ctx, (void)opts, (void)argc, (void)argv, (void)err;
	printf("vessel version %s\n", VERSION);
	return 0;
}

/* The tables one after the other, with `extra` empty slots before the end. */
static struct cli_command *concat(const struct cli_command *const *tables, size_t n_tables, size_t extra)
{
	size_t n = 0;
	for (size_t t = 0; t < n_tables; t++)
		for (const struct cli_command *c = tables[t]; c->name; c++)
			n++;
	struct cli_command *all = calloc(n + extra + 1, sizeof(*all));
	if (all == NULL)
		return NULL;
	n = 0;
	for (size_t t = 0; t < n_tables; t++)
		for (const struct cli_command *c = tables[t]; c->name; c++)
			all[n++] = *c;
	return all;
}

/* One table per file of commands: add a file's table here and to its group. */
static const struct cli_command *const toplevel_tables[] = {
    container_toplevel_commands, container_fs_commands, container_ops_toplevel_commands,
    image_toplevel_commands,     transfer_commands,     network_toplevel_commands,
};
static const struct cli_command *const container_tables[] = {
    container_commands,
    container_fs_commands,
    container_ops_commands,
};
static const struct cli_command *const image_tables[] = {
    image_commands,
    transfer_commands,
};
static const struct cli_command *const volume_tables[] = {
    volume_commands,
};
static const struct cli_command *const system_tables[] = {
    system_commands,
};
static const struct cli_command *const network_tables[] = {
    network_commands,
};
#define TABLES(t) t, ARRAY_SIZE(t)
static const struct {
	const char *name, *help;
	const struct cli_command *const *tables;
	size_t n_tables;
} groups[] = {
    {"container", "Manage containers", TABLES(container_tables)},
    {"image", "Manage images", TABLES(image_tables)},
    {"network", "Manage networks", TABLES(network_tables)},
    {"volume", "Manage volumes", TABLES(volume_tables)},
    {"system", "Manage vessel", TABLES(system_tables)},
};

static const struct cli_flag global_flags[] = {
    CLI_STRING("root", 0, struct cli_global, root, "Root of persistent state (default /var/lib/vessel)"),
    CLI_STRING("runroot", 0, struct cli_global, runroot, "Root of runtime state (default /run/vessel)"),
    CLI_STRING("config", 0, struct cli_global, config_file, "Config file (default /etc/vessel/config.json)"),
    CLI_LIST("registry-mirror", 0, struct cli_global, registry_mirrors,
             "Registry mirror, tried first for docker.io"),
    CLI_LIST("insecure-registry", 0, struct cli_global, insecure_registries,
             "Registry reached over plain HTTP"),
    CLI_BOOL("debug", 'D', struct cli_global, debug, "Enable debug output"),
    CLI_END,
};

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "runtime") == 0)
		return runtime_cli_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "--version") == 0)
		argv[1] = "version";

	/* Docker's top-level names, then one group per room. */
	struct cli_command *table =
	    concat(toplevel_tables, ARRAY_SIZE(toplevel_tables), ARRAY_SIZE(groups) + 2);
	if (table == NULL)
		return 125;
	size_t n = 0;
	while (table[n].name)
		n++;
	struct cli_command *subs[ARRAY_SIZE(groups)];
	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		if ((subs[g] = concat(groups[g].tables, groups[g].n_tables, 0)) == NULL)
			return 125;
		table[n++] = (struct cli_command){.name = groups[g].name,
		                                  .flags = CLI_GROUP,
		                                  .usage = "COMMAND",
		                                  .help = groups[g].help,
		                                  .sub = subs[g]};
	}
	table[n++] = (struct cli_command){.name = "version",
	                                  .run = cmd_version,
	                                  .max_args = 0,
	                                  .help = "Show the vessel version information"};
	/* Listed for --help; main() hands `runtime` to runc's command line before dispatch. */
	table[n++] = (struct cli_command){.name = "runtime",
	                                  .run = cmd_version,
	                                  .max_args = CLI_ARGS_ANY,
	                                  .help = "The OCI runtime, with runc's command line"};

	struct cli_global global = {0};
	int optind_ = 0;
	int code = cli_parse_flags(global_flags, true, "vessel", argc, argv, &global, &optind_);
	if (code >= 0) {
		if (code == 0)
			code = cli_dispatch(table, &global, "vessel", 1, (char *[]){"--help", NULL});
	} else if (optind_ < argc && strcmp(argv[optind_], "runtime") == 0) {
		code = runtime_cli_main(argc - optind_, argv + optind_);
	} else {
		code = cli_dispatch(table, &global, "vessel", argc - optind_, argv + optind_);
	}
	cli_flags_free(global_flags, &global);
	free(table);
	for (size_t g = 0; g < ARRAY_SIZE(groups); g++)
		free(subs[g]);
	return code;
}

/* vessel: the command people type. For now it carries the runtime
 * (`vessel runtime ...`); images, containers, networks and volumes come next. */
#include <stdio.h>
#include <string.h>

#include "cli/runtime-cli.h"

static void usage(void)
{
	printf("Usage: vessel <command> [arguments]\n\n"
	       "Commands:\n"
	       "  runtime    the OCI runtime, with runc's command line (see 'vessel runtime --help')\n"
	       "  version    show the version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage();
		return argc < 2 ? 125 : 0;
	}
	if (strcmp(argv[1], "runtime") == 0)
		return runtime_cli_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("vessel version 0.1.0\n");
		return 0;
	}
	fprintf(stderr, "vessel: unknown command '%s'\nRun 'vessel --help' for usage.\n", argv[1]);
	return 125;
}

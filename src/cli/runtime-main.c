/* vessel-runtime: the runtime behind runc's command line. */
#include "cli/runtime-cli.h"

int main(int argc, char **argv)
{
	return runtime_cli_main(argc, argv);
}

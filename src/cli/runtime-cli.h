/* runc's command line over the runtime library: `vessel-runtime ...` and
 * `vessel runtime ...`. Flags, output and exit codes follow runc, since
 * containerd's and dockerd's shims parse them. */
#pragma once

int runtime_cli_main(int argc, char **argv);

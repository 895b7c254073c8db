/* Shared by the files of the engine room. */
#pragma once

struct db;
struct images;

struct engine {
	char *root;
	char *runroot;
	char *runtime_root;   /* <runroot>/runtime: the OCI runtime's state */
	char *containers_run; /* <runroot>/containers: exit files, attach sockets */
	int root_dirfd;
	struct db *db;
	struct images *images;
	char **mirrors;
	char **insecure;
};

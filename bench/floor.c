/* The kernel's own cost of the least a container run is, to put the engines'
 * figures beside: what no engine can go below on this machine.
 *
 * One round: mkdir a cgroup and rmdir it at the end; mount an overlay of the
 * image's layer with an upper and work directory of its own; clone3 a child
 * into new mount, pid, uts, ipc, net and cgroup namespaces; in the child,
 * make the mounts private, mount /proc, pivot_root into the overlay, exec
 * /bin/true; wait for it; unmount the overlay and delete its directories.
 * No image lookup, no state, no /dev, no seccomp, no capabilities, no
 * masked paths, no v1 controllers: only the steps every engine takes.
 *
 *     floor LAYER_DIR WORK_DIR CGROUP_PARENT ROUNDS
 * prints the median, the minimum and the 90th percentile in milliseconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void child(const char *merged)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make / private");
	char proc[4200];
	snprintf(proc, sizeof(proc), "%s/proc", merged);
	if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die("mount proc");
	if (chdir(merged) < 0)
		die("chdir");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		die("detach the old root");
	char *argv[] = {"/bin/true", NULL}, *envp[] = {NULL};
	execve(argv[0], argv, envp);
	die("exec /bin/true");
}

static double round_once(const char *layer, const char *work, const char *cgparent, int i)
{
	char cg[4096], dir[2048], upper[4096], wdir[4096], merged[4096], opts[16384];
	snprintf(cg, sizeof(cg), "%s/floor-%d-%d", cgparent, (int)getpid(), i);
	snprintf(dir, sizeof(dir), "%s/r%d", work, i);
	snprintf(upper, sizeof(upper), "%s/upper", dir);
	snprintf(wdir, sizeof(wdir), "%s/work", dir);
	snprintf(merged, sizeof(merged), "%s/merged", dir);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", layer, upper, wdir);

	double t0 = now_ms();
	if (mkdir(cg, 0755) < 0)
		die("mkdir cgroup");
	int cgfd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		die("open cgroup");
	if (mkdir(dir, 0700) < 0 || mkdir(upper, 0755) < 0 || mkdir(wdir, 0700) < 0 ||
	    mkdir(merged, 0755) < 0)
		die("mkdir overlay dirs");
	if (mount("overlay", merged, "overlay", 0, opts) < 0)
		die("mount overlay");
	struct clone_args args = {
	    .flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
	             CLONE_NEWCGROUP | CLONE_INTO_CGROUP,
	    .exit_signal = SIGCHLD,
	    .cgroup = (uint64_t)cgfd,
	};
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		die("clone3");
	if (pid == 0)
		child(merged);
	int status;
	if (waitpid((pid_t)pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("the child failed");
	if (umount2(merged, MNT_DETACH) < 0)
		die("unmount overlay");
	close(cgfd);
	if (rmdir(cg) < 0)
		die("rmdir cgroup");
	char inner[8192];
	snprintf(inner, sizeof(inner), "%s/work", wdir);
	rmdir(inner);
	rmdir(wdir);
	rmdir(upper);
	rmdir(merged);
	rmdir(dir);
	return now_ms() - t0;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: floor LAYER_DIR WORK_DIR CGROUP_PARENT ROUNDS\n");
		return 2;
	}
	int n = atoi(argv[4]);
	if (n < 1)
		return 2;
	double *t = calloc((size_t)n, sizeof(double));
	if (t == NULL)
		return 1;
	for (int i = 0; i < n; i++)
		t[i] = round_once(argv[1], argv[2], argv[3], i);
	qsort(t, (size_t)n, sizeof(double), cmp);
	printf("%.2f %.2f %.2f\n", t[n / 2], t[0], t[(n * 9) / 10]);
	free(t);
	return 0;
}

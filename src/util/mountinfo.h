/* The cgroup mounts of /proc/self/mountinfo, read once per process.
 *
 * The kernel prints mountinfo afresh on each read, every mount of the host
 * with its options: 1.5 ms with 180 mounts (a busy host's overlays), once for
 * the cgroup layout and again in each container's child for its /sys/fs/cgroup.
 * The cgroup mounts do not change under a running runtime, so the lines that
 * mount cgroup or cgroup2 are read once and kept, and a child cloned after the
 * first read inherits them.
 *
 *     const char *lines;
 *     if (mountinfo_cgroup_lines(&lines, err) < 0) ...
 *     (mountinfo's own format, '\n'-terminated lines)
 */
#pragma once

struct vsl_error;

int mountinfo_cgroup_lines(const char **ret, struct vsl_error **err);

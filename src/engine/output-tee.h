/* The output of a container run in the foreground, to the terminal and to its
 * log: Docker keeps `logs` of attached containers too. fds 1 and 2 become
 * pipes for the container to inherit; a thread copies what comes out of them
 * to the original stdout/stderr and into the json-file log.
 *
 *     output_tee_prepare(log, &tee, err);   (before the container is made)
 *     output_tee_start(tee);                (once it runs: the clone is done,
 *                                            so no thread exists at the clone)
 *     output_tee_finish(tee);               (after it exited: drains, restores)
 */
#pragma once

struct vsl_error;
struct output_tee;

int output_tee_prepare(const char *log_path, struct output_tee **ret, struct vsl_error **err);
void output_tee_start(struct output_tee *t);
/* Restores fds 1 and 2, copies what is left, frees. NULL is fine. */
void output_tee_finish(struct output_tee *t);

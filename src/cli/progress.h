/* Docker-style progress of pulls and pushes: on a terminal one line per layer,
 * redrawn in place with a bar; otherwise a plain line per change of status
 * (byte counts are left out, so logs stay readable). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

struct image_event;
struct progress;

/* Lines go to out (stdout for pull, stderr for run: stdout is the container's). */
struct progress *progress_new(bool tty, FILE *out);
void progress_free(struct progress *p);
/* An image_event_fn (image/images.h). */
void progress_event(void *userdata, const struct image_event *ev);

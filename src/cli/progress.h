/* Docker-style progress of pulls and pushes: on a terminal one line per layer,
 * redrawn in place with a bar; otherwise a plain line per change of status
 * (byte counts are left out, so logs stay readable). */
#pragma once

#include <stdbool.h>

struct image_event;
struct progress;

struct progress *progress_new(bool tty);
void progress_free(struct progress *p);
/* An image_event_fn (image/images.h). */
void progress_event(void *userdata, const struct image_event *ev);

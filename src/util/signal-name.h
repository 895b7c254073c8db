/* Signal names as Docker and runc take them: "TERM", "SIGTERM", "sigterm"
 * or a number. */
#pragma once

/* The signal's number, or -EINVAL for anything else. */
int signal_parse(const char *s);

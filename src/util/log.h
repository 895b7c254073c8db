/* Logging for the runtime and the CLI.
 *
 * Library code logs at debug level only; errors are returned, not printed.
 * The edges call log_error() once with the final message. runc's shims read the
 * `--log` file (`--log-format json`: one {"level","msg","time"} object a line),
 * so the format follows runc's.
 */
#pragma once

#include <stdbool.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* path NULL: stderr. json: runc's JSON lines. Returns -errno on failure to open. */
int log_open(const char *path, bool json, enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool log_enabled(enum log_level level);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                                       \
	do {                                                                                                 \
		if (log_enabled(LOG_DEBUG))                                                                  \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                                     \
	} while (0)

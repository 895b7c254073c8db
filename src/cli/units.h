/* Human-readable sizes and durations, as the docker CLI reads them, so that
 * `-m 512m`, `--shm-size 64mb`, `--health-interval 1m30s` mean what they mean
 * to docker.
 *
 *     int64_t bytes, ns;
 *     if (parse_size("1.5g", &bytes) < 0) ...          (1610612736)
 *     if (parse_duration("1m30s", &ns) < 0) ...        (90000000000)
 *
 * The units_* variants fill an error with docker's own wording ("invalid
 * size: 'x'", "time: unknown unit \"x\" in duration \"1x\"") for the CLI to
 * show after its "invalid argument ... flag:" prefix. */
#pragma once

#include <stdint.h>

struct vsl_error;

/* Docker's RAMInBytes: a decimal number (fractions allowed) and an optional
 * binary unit b, k, m, g, t, p (powers of 1024), case-insensitive, optionally
 * followed by "b" or "ib" ("64mb", "1KiB"), optionally after one space. A bare
 * number is bytes. Negative sizes are refused. 0 or -EINVAL/-ERANGE. */
int parse_size(const char *s, int64_t *ret);
int units_parse_size(const char *s, int64_t *ret, struct vsl_error **err);

/* Go's time.ParseDuration: an optional sign and a sequence of decimal numbers,
 * each with an optional fraction and a unit among ns, us (µs), ms, s, m, h:
 * "300ms", "-1.5h", "2h45m". "0" needs no unit. Result in nanoseconds.
 * 0 or -EINVAL (also for values past ±292 years). */
int parse_duration(const char *s, int64_t *ret_ns);
int units_parse_duration(const char *s, int64_t *ret_ns, struct vsl_error **err);

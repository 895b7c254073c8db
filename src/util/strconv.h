/* Go's strconv spellings, for values Docker parses with Go: flags such as
 * --sig-proxy=false and options such as --security-opt no-new-privileges=true. */
#pragma once

#include <stdbool.h>

/* strconv.ParseBool: 1 t T TRUE true True, 0 f F FALSE false False.
 * Returns 0, or -EINVAL for anything else (*ret untouched). */
int strconv_parse_bool(const char *s, bool *ret);

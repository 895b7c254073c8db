/* Functions that invite overflows: using one is a compile error. Forced into
 * every translation unit by meson (`-include`); the system headers come first
 * so that their own declarations are left alone. */
#pragma once

#include <stdio.h>
#include <string.h>

#define BANNED(func) sorry_##func##_is_banned_use_snprintf_or_asprintf

#undef strcpy
#define strcpy(...) BANNED(strcpy)
#undef strcat
#define strcat(...) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef strncpy
#define strncpy(...) BANNED(strncpy)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)

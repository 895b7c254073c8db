/* Names for containers started without --name: "adjective_noun", as Docker
 * does, from our own word lists; a number is appended when the pair is taken. */
#pragma once

#include <stdbool.h>

/* taken(name, userdata): whether a container already has that name. NULL on ENOMEM. */
char *names_generate(bool (*taken)(const char *name, void *userdata), void *userdata);
/* Docker's rule for a given name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool names_valid(const char *name);

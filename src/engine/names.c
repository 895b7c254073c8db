#include "engine/names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/cleanup.h"

static const char *const adjectives[] = {
    "amber",   "ancient",  "blazing", "bold",     "brave",    "bright",   "calm",      "clever",   "cosmic",
    "crimson", "daring",   "dawning", "deep",     "eager",    "electric", "elegant",   "fearless", "fierce",
    "gentle",  "gleaming", "golden",  "graceful", "hidden",   "hollow",   "humble",    "jolly",    "keen",
    "lively",  "lucid",    "lunar",   "mellow",   "merry",    "misty",    "nimble",    "noble",    "patient",
    "placid",  "quiet",    "radiant", "rapid",    "restless", "rugged",   "serene",    "silent",   "silver",
    "steady",  "stormy",   "sturdy",  "swift",    "tidal",    "vivid",    "wandering", "wise",     "zealous",
};

static const char *const nouns[] = {
    "anchor",  "albatross", "barnacle", "beacon",  "brig",     "buoy",   "caravel", "compass", "coral",
    "current", "cutter",    "dolphin",  "dory",    "estuary",  "fathom", "ferry",   "frigate", "galleon",
    "gull",    "harbor",    "helm",     "heron",   "island",   "jetty",  "kayak",   "keel",    "kelp",
    "ketch",   "lagoon",    "lantern",  "mariner", "narwhal",  "oar",    "orca",    "otter",   "pelican",
    "pier",    "puffin",    "reef",     "rudder",  "schooner", "shoal",  "sloop",   "sonar",   "starfish",
    "tern",    "tide",      "trawler",  "voyager", "walrus",   "wave",   "whale",   "yacht",   "yawl",
};

static unsigned pick(size_t n)
{
	unsigned v = 0;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (unsigned)rand();
	return (unsigned)(v % n);
}

char *names_generate(bool (*taken)(const char *name, void *userdata), void *userdata)
{
	char *name = NULL;
	for (unsigned attempt = 0;; attempt++) {
		free(name);
		const char *a = adjectives[pick(ARRAY_SIZE(adjectives))];
		const char *n = nouns[pick(ARRAY_SIZE(nouns))];
		/* After a few collisions, a number makes it unique quickly. */
		int r = attempt < 5 ? asprintf(&name, "%s_%s", a, n)
		                    : asprintf(&name, "%s_%s%u", a, n, pick(1000));
		if (r < 0)
			return NULL;
		if (!taken(name, userdata))
			return name;
	}
}

bool names_valid(const char *name)
{
	if (name[0] == '/')
		name++;
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	if (name[0] == '\0' || strchr(alnum, name[0]) == NULL || name[1] == '\0')
		return false;
	for (const char *c = name + 1; *c; c++)
		if (strchr(alnum, *c) == NULL && *c != '_' && *c != '.' && *c != '-')
			return false;
	return true;
}

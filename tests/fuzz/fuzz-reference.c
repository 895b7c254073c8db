/* Image references as users and registries type them: image_ref_parse() must
 * refuse or accept any bytes without a crash, a leak or undefined behaviour, and
 * what it accepts must hold together: the stored form parses back to itself and
 * familiarizes to what docker would print. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/reference.h"
#include "util/cleanup.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const struct image_ref *r)
{
	if (r->domain == NULL || r->path == NULL || (r->tag == NULL && r->digest == NULL))
		abort();
	if (r->tag && !image_ref_tag_is_valid(r->tag))
		abort();

	_cleanup_free_ char *s = image_ref_string(r);
	_cleanup_free_ char *name = image_ref_name(r);
	_cleanup_free_ char *familiar = image_ref_familiar(r);
	_cleanup_free_ char *familiar_name = image_ref_familiar_name(r);
	if (s == NULL || name == NULL || familiar == NULL || familiar_name == NULL)
		return; /* out of memory: nothing to compare */

	/* The stored form is a fixed point: parsing it again changes nothing. */
	_cleanup_image_ref_ struct image_ref *again = NULL;
	_cleanup_error_ struct vsl_error *err = NULL;
	if (image_ref_parse(s, &again, &err) < 0)
		abort();
	_cleanup_free_ char *s2 = image_ref_string(again);
	if (s2 && strcmp(s, s2) != 0)
		abort();

	_cleanup_free_ char *f2 = image_ref_familiarize(s);
	if (f2 && strcmp(familiar, f2) != 0)
		abort();
	if (strncmp(s, name, strlen(name)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* References are C strings: an embedded NUL ends one, as it would in argv. */
	_cleanup_free_ char *s = strndup((const char *)data, size);
	if (s == NULL)
		return 0;

	(void)image_ref_tag_is_valid(s);
	/* Only Docker Hub names are shortened; everything else is copied as is. */
	_cleanup_free_ char *f = image_ref_familiarize(s);
	if (f && strncmp(s, "docker.io/", strlen("docker.io/")) != 0 && strcmp(f, s) != 0)
		abort();

	_cleanup_image_ref_ struct image_ref *r = NULL;
	_cleanup_error_ struct vsl_error *err = NULL;
	if (image_ref_parse(s, &r, &err) < 0) {
		/* A refusal always says why. */
		if (err == NULL || err->msg == NULL || r != NULL)
			abort();
		return 0;
	}
	check_accepted(r);
	return 0;
}

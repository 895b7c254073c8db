/* The tags a registry holds for a repository, for `pull --all-tags`. */
#include <errno.h>

#include "image/images-internal.h"
#include "image/reference.h"
#include "image/registry.h"
#include "util/cleanup.h"
#include "util/error.h"

int images_remote_tags(struct images *im, const char *name, char ***ret, struct vsl_error **err)
{
	_cleanup_image_ref_ struct image_ref *ref = NULL;
	int r = image_ref_parse(name, &ref, err);
	if (r < 0)
		return r;
	_cleanup_registry_ struct registry *reg = NULL;
	if ((r = registry_open(ref->domain, &im->cfg.registry, &reg, err)) < 0 ||
	    (r = registry_list_tags(reg, ref->path, ret, err)) < 0)
		return vsl_error_prefix(err, "list tags of %s", name);
	return 0;
}

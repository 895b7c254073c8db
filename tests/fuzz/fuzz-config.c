/* config.json, and the process and resources documents of `exec --process` and
 * `update --resources`: whatever the bytes, the parsers accept or refuse them
 * without a crash, a leak or undefined behaviour, and a refusal says why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/config.h"
#include "util/cleanup.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(int r, const struct vsl_error *err)
{
	if (r < 0 && (err == NULL || err->msg == NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;

	{
		_cleanup_config_ struct oci_config *c = NULL;
		_cleanup_error_ struct vsl_error *err = NULL;
		int r = oci_config_parse(text, size, &c, &err);
		check_refusal(r, err);
		if (r == 0 && c == NULL)
			abort();
	}
	{
		struct oci_process p;
		_cleanup_error_ struct vsl_error *err = NULL;
		int r = oci_process_parse(text, size, &p, &err);
		check_refusal(r, err);
		oci_process_clear(&p);
	}
	{
		struct oci_resources res;
		_cleanup_error_ struct vsl_error *err = NULL;
		int r = oci_resources_parse(text, size, &res, &err);
		check_refusal(r, err);
		oci_resources_clear(&res);
	}
	return 0;
}

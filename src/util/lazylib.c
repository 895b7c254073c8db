/* dlopen() on first use for libraries most commands never call. */
#include "util/lazylib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

/* name NULL: the library itself could not be loaded. */
static _Noreturn void lazylib_fail(const struct lazylib *lib, const char *name)
{
	const char *why = dlerror();
	if (name)
		dprintf(STDERR_FILENO, "vessel: no '%s' in '%s': %s\n", name, lib->soname,
		        why ? why : "unknown error");
	else
		dprintf(STDERR_FILENO, "vessel: cannot load '%s' (this command needs it): %s\n", lib->soname,
		        why ? why : "unknown error");
	_exit(125);
}

void *lazylib_sym(struct lazylib *lib, const char *name)
{
	void *handle = __atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE);
	if (handle == NULL) {
		pthread_mutex_lock(&lib->lock);
		handle = lib->handle;
		if (handle == NULL) {
			/* RTLD_LOCAL: the library's symbols resolve only through dlsym() on
			 * this handle, never in place of our forwarders or the reverse. */
			handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
			if (handle == NULL)
				lazylib_fail(lib, NULL);
			__atomic_store_n(&lib->handle, handle, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&lib->lock);
	}
	/* From the handle, not RTLD_DEFAULT: the global scope would find the
	 * forwarder itself. */
	void *sym = dlsym(handle, name);
	if (sym == NULL)
		lazylib_fail(lib, name);
	return sym;
}

/* Shared libraries loaded on their first call instead of at every start.
 *
 * Only a few commands talk to a registry (libcurl), read and write tar streams
 * (libarchive) or write firewall rules (libnftables), but the dynamic loader maps
 * and relocates every library vessel links, and the ~40 libraries behind those
 * three cost about 10 ms at each start of `vessel`, `run` included. So vessel does
 * not link them: src/util/lazy-curl.c, lazy-archive.c and lazy-nftables.c define
 * the functions vessel calls, and each one, on its first call, loads the library
 * with dlopen() and forwards to the real function. The callers include the
 * libraries' own headers and call them as usual.
 *
 * Calling a function of these libraries that has no forwarder yet fails at link
 * time ("undefined reference"): add one line for it to the lazy-*.c file.
 *
 * dlopen() searches the calling process's root and mount namespace: a process
 * that has entered a container's (setns, chroot, pivot_root) must not make its
 * first call into one of these libraries there, or it would load the image's
 * copy as root. Nothing does today; load it before entering if one ever must.
 *
 *     static struct lazylib curl = LAZYLIB_INIT("libcurl.so.4");
 *     LAZYLIB_FORWARD(curl, CURLcode, curl_easy_perform, (CURL *c), (c))
 */
#pragma once

#include <pthread.h>

struct lazylib {
	const char *soname;
	pthread_mutex_t lock;
	void *handle;
};

#define LAZYLIB_INIT(name)                                                                                   \
	{                                                                                                    \
		.soname = (name), .lock = PTHREAD_MUTEX_INITIALIZER                                          \
	}

/* The address of `name` in the library, loading it first if need be. A library or
 * symbol that cannot be loaded ends the process with status 125 and a message on
 * stderr: the callers' APIs have no way to report it, and it is the failure the
 * dynamic loader would otherwise have reported at start. */
void *lazylib_sym(struct lazylib *lib, const char *name);

/* Defines `ret name params` forwarding to the library's own `name`. */
#define LAZYLIB_FORWARD(lib, ret, name, params, args)                                                        \
	ret name params                                                                                      \
	{                                                                                                    \
		static ret(*real) params;                                                                    \
		ret(*f) params = __atomic_load_n(&real, __ATOMIC_ACQUIRE);                                   \
		if (f == NULL) {                                                                             \
			f = (ret(*) params)lazylib_sym(&(lib), #name);                                       \
			__atomic_store_n(&real, f, __ATOMIC_RELEASE);                                        \
		}                                                                                            \
		return f args;                                                                               \
	}

#define LAZYLIB_FORWARD_VOID(lib, name, params, args)                                                        \
	void name params                                                                                     \
	{                                                                                                    \
		static void(*real) params;                                                                   \
		void(*f) params = __atomic_load_n(&real, __ATOMIC_ACQUIRE);                                  \
		if (f == NULL) {                                                                             \
			f = (void(*) params)lazylib_sym(&(lib), #name);                                      \
			__atomic_store_n(&real, f, __ATOMIC_RELEASE);                                        \
		}                                                                                            \
		f args;                                                                                      \
	}
